#!/usr/bin/env bash
# make-fixtures.sh -- sign base.zone with ldns-signzone, dnssec-signzone (BIND) and
# kzonesign (Knot DNS) for tests/dnssec/test_dnssec*.c, and build the KeyTrap zones.
#
# TEST-ONLY KEYS: every key made here is thrown away after signing; only the signed zones,
# their KSK DNSKEY (<name>.key) and its SHA-256 DS (<name>.ds) are kept. Nothing here may
# ever be trusted outside the tests.
#
# Outputs (committed; run again when base.zone changes):
#   <signer>-<alg>-<nsec|nsec3>.zone  signed zone     (signer: ldns, bind, knot)
#   <same>.key, <same>.ds             the KSK's DNSKEY and DS (trust for the tests)
#   ldns-13-optout.zone               NSEC3, every NSEC3 with the opt-out flag
#   bind-13-optout.zone               NSEC3 opt-out: no NSEC3 for the insecure delegation 4.
#   ldns-13-iter51.zone               NSEC3 with 51 iterations (above RFC 9276's cap of 50)
#   ldns-13-zonemd384/512.zone        NSEC zone with ZONEMD SIMPLE SHA-384 / SHA-512
#   ldns-13-9zsk.zone                 every RRset signed by 9 keys (per-RRset budget)
#   keytrap.zone                      65 DNSKEYs with one key tag (algorithm 8) and 24
#                                     extra RRSIGs naming that tag on every RRset (Z4)
# Signatures: inception 2025-01-01, expiration 2035-01-01 (Knot: from 2024-12-31 22:30 to
# 2034-12-30); the tests pin "now" to 2026-06-01.
# Needs: ldnsutils, bind9-dnsutils, knot-dnssecutils (kzonesign), knot (keymgr), python3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
origin=5.5.5.1.e164.fed.
inc=20250101000000
exp=20350101000000
knot_time=1735689600 # 2025-01-01T00:00:00Z
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# Keep the KSK (flags 257) DNSKEY of a signed zone and its SHA-256 DS.
anchor() { # signed-zone name
	ldns-read-zone "$1" | awk '$4 == "DNSKEY" && $5 == 257' >"$2.key"
	[ -s "$2.key" ] || { echo "no KSK in $1" >&2; exit 1; }
	ldns-key2ds -n -2 "$2.key" >"$2.ds"
	cp "$2.key" "$2.ds" "$here/"
}

ldns_alg() { case $1 in 8) echo RSASHA256 ;; 10) echo RSASHA512 ;; 13) echo ECDSAP256SHA256 ;;
	14) echo ECDSAP384SHA384 ;; 15) echo ED25519 ;; 16) echo ED448 ;; esac; }

# ---- ldns-signzone: KSK + ZSK -------------------------------------------------------------
ldns_sign() { # alg mode(nsec|nsec3) name [extra ldns-signzone args...]
	local alg=$1 mode=$2 name=$3
	shift 3
	local a bits=()
	a=$(ldns_alg "$alg")
	case $alg in 8 | 10) bits=(-b 2048) ;; esac
	local ksk zsk
	ksk=$(ldns-keygen -a "$a" "${bits[@]}" -k "$origin")
	zsk=$(ldns-keygen -a "$a" "${bits[@]}" "$origin")
	rm -f "$ksk.ds" "$zsk.ds"
	local n3=()
	[ "$mode" = nsec3 ] && n3=(-n -t 0)
	ldns-signzone -i "$inc" -e "$exp" "${n3[@]}" "$@" -f "$name.zone" base.zone "$ksk" "$zsk"
	cp "$name.zone" "$here/"
	anchor "$name.zone" "$name"
}

cp "$here/base.zone" base.zone
ldns_sign 8 nsec3 ldns-8-nsec3
ldns_sign 10 nsec3 ldns-10-nsec3
ldns_sign 13 nsec ldns-13-nsec
ldns_sign 13 nsec3 ldns-13-nsec3 -s aabbccdd
ldns_sign 14 nsec ldns-14-nsec
ldns_sign 15 nsec3 ldns-15-nsec3
ldns_sign 16 nsec ldns-16-nsec
ldns_sign 13 nsec3 ldns-13-optout -p
# -n -t 51 after -t 0: the last -t wins
ldns_sign 13 nsec3 ldns-13-iter51 -t 51
ldns_sign 13 nsec ldns-13-zonemd384 -z 1:1
ldns_sign 13 nsec ldns-13-zonemd512 -z 1:2

# Nine signing keys: every RRset carries nine valid RRSIGs.
ksk=$(ldns-keygen -a ECDSAP256SHA256 -k "$origin")
zsks=()
for _ in 1 2 3 4 5 6 7 8 9; do zsks+=("$(ldns-keygen -a ECDSAP256SHA256 "$origin")"); done
rm -f ./*.ds
ldns-signzone -i "$inc" -e "$exp" -f ldns-13-9zsk.zone base.zone "$ksk" "${zsks[@]}"
cp ldns-13-9zsk.zone "$here/"
anchor ldns-13-9zsk.zone ldns-13-9zsk

# ---- dnssec-signzone (BIND): KSK + ZSK -----------------------------------------------------
bind_sign() { # alg mode name [extra dnssec-signzone args...]
	local alg=$1 mode=$2 name=$3 d
	shift 3
	d=$(mktemp -d -p .)
	local a bits=()
	a=$(ldns_alg "$alg")
	case $alg in 8 | 10) bits=(-b 2048) ;; esac
	dnssec-keygen -q -K "$d" -a "$a" "${bits[@]}" -f KSK -n ZONE "$origin" >/dev/null
	dnssec-keygen -q -K "$d" -a "$a" "${bits[@]}" -n ZONE "$origin" >/dev/null
	local n3=()
	[ "$mode" = nsec3 ] && n3=(-3 - -H 0)
	dnssec-signzone -q -S -K "$d" -o "$origin" -s "$inc" -e "$exp" "${n3[@]}" "$@" \
		-f "$name.zone" base.zone >/dev/null
	cp "$name.zone" "$here/"
	anchor "$name.zone" "$name"
}
bind_sign 8 nsec3 bind-8-nsec3
bind_sign 13 nsec3 bind-13-nsec3
bind_sign 15 nsec bind-15-nsec
bind_sign 13 nsec3 bind-13-optout -A

# ---- kzonesign (Knot DNS): automatic KSK + ZSK -----------------------------------------
knot_sign() { # alg-name mode name
	local alg=$1 mode=$2 name=$3 d
	d=$(mktemp -d -p "$tmp")
	mkdir -p "$d/db" "$d/out"
	cp base.zone "$d/zone"
	local n3=off
	[ "$mode" = nsec3 ] && n3=on
	cat >"$d/knot.conf" <<CONF
database:
    storage: "$d/db"
policy:
  - id: fixture
    algorithm: $alg
    nsec3: $n3
    nsec3-iterations: 0
    nsec3-salt-length: 0
    rrsig-lifetime: 3650d
    rrsig-refresh: 1d
template:
  - id: default
    storage: "$d"
    dnssec-signing: on
    dnssec-policy: fixture
zone:
  - domain: $origin
    file: "$d/zone"
CONF
	kzonesign -c "$d/knot.conf" -o "$d/out" -r -t "$knot_time" "$origin" >/dev/null
	cp "$d/out/zone" "$here/$name.zone"
	anchor "$here/$name.zone" "$name"
}
knot_sign rsasha256 nsec3 knot-8-nsec3
knot_sign ecdsap256sha256 nsec3 knot-13-nsec3
knot_sign ed25519 nsec knot-15-nsec

# ---- KeyTrap (docs/security.md Z4, CVE-2023-50387) ---------------------------------------------
# A small zone whose ZSK (RSASHA256) shares its key tag with 64 more DNSKEYs (made-up RSA
# moduli, two bytes tuned to hit the tag); ldns-signzone signs the whole DNSKEY RRset, then
# every RRset gets 24 more RRSIGs that name the shared tag with random signature bytes. A
# validator that tries every key against every signature does 65 x 25 RSA operations per
# RRset.
cat >kt.zone <<EOF
\$ORIGIN $origin
\$TTL 3600
@ IN SOA ns1 hostmaster 2025010101 3600 900 604800 300
@ IN NS ns1
ns1 IN A 192.0.2.53
1.0.0.0.0.0.1 IN NAPTR 10 100 "u" "E2U+sip" "!^.*\$!sip:+15551000001@ims.example!" .
2.0.0.0.0.0.1 IN NAPTR 10 100 "u" "E2U+sip" "!^.*\$!sip:+15551000002@ims.example!" .
3.0.0.0.0.0.1 IN NAPTR 10 100 "u" "E2U+sip" "!^.*\$!sip:+15551000003@ims.example!" .
EOF
ksk=$(ldns-keygen -a RSASHA256 -b 2048 -k "$origin")
zsk=$(ldns-keygen -a RSASHA256 -b 2048 "$origin")
rm -f ./*.ds
tag=${zsk##*+}
tag=$((10#$tag))
# ldns-signzone adds a key's DNSKEY only when no DNSKEY with its key tag is in the zone yet,
# so put the ZSK in first.
grep -v '^;' "$zsk.key" >>kt.zone
python3 - "$origin" "$tag" >>kt.zone <<'PY'
import base64, random, sys
origin, tag = sys.argv[1], int(sys.argv[2])
rnd = random.Random(50387)
def key_tag(rd):
    ac = 0
    for i, b in enumerate(rd):
        ac += b if i & 1 else b << 8
    ac += (ac >> 16) & 0xFFFF
    return ac & 0xFFFF
for _ in range(64):
    mod = bytearray(rnd.getrandbits(8) for _ in range(256))
    mod[0] |= 0x80
    head = bytes([1, 0, 3, 8])            # flags 256 (zone key), protocol 3, RSASHA256
    key = bytes([3, 1, 0, 1])             # exponent 65537 (RFC 3110)
    for w in range(65536):                # last modulus word
        mod[254], mod[255] = w >> 8, w & 0xFF
        rd = head + key + bytes(mod)
        if key_tag(rd) == tag:
            break
    else:
        sys.exit("no collision found")
    print(f"@ 3600 IN DNSKEY 256 3 8 {base64.b64encode(key + bytes(mod)).decode()}")
PY
ldns-signzone -i "$inc" -e "$exp" -f kt.signed kt.zone "$ksk" "$zsk"
python3 - "$tag" kt.signed >keytrap.zone <<'PY'
import base64, random, sys
tag, path = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(4033)
out = []
for line in open(path):
    out.append(line.rstrip("\n"))
    f = line.split()
    if len(f) > 12 and f[3] == "RRSIG" and int(f[10]) == tag:
        for _ in range(24):
            sig = base64.b64encode(bytes(rnd.getrandbits(8) for _ in range(256))).decode()
            out.append("\t".join(f[:11] + [f[11], sig]))
print("; TEST-ONLY KeyTrap zone (docs/security.md Z4): 65 DNSKEYs share one key tag")
print("\n".join(out))
PY
cp keytrap.zone "$here/"
anchor keytrap.zone keytrap

ls -l "$here"
