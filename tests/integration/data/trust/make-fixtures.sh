#!/usr/bin/env bash
# make-fixtures.sh -- DNSSEC fixtures of the federation-trust tests (tests/trust/test_trust.c,
# tests/integration/test_trust_*.c).
#
# TEST ONLY. Every key under keys/ is public on purpose; nothing it signs may be trusted.
#
# A small federation under e164.test. (RFC 2606 .test): a registry delegating +15551 to
# member A (1.5.5.5.1.e164.test.) and +15552 to member B (2.5.5.5.1.e164.test.), and the
# zones that try to break its chain of trust:
#
#   registry-v1.signed  serial 1: DS of A's key "a" at 1.5.5.5.1, DS of B's key "b" at 2.5.5.5.1
#   registry-v2.signed  serial 2: re-delegation, 1.5.5.5.1 now has the DS of key "a2"
#   registry-v3.signed  serial 3: as v1 but 2.5.5.5.1 is no longer delegated
#   a-v1.signed         1.5.5.5.1 serial 1, key a
#   a-v2.signed         1.5.5.5.1 serial 2, key a2 (the re-delegated key)
#   a-v3-badsig.signed  1.5.5.5.1 serial 3, key a, one NAPTR RRSIG corrupted (docs/security.md Z1)
#   a-v4.signed         1.5.5.5.1 serial 4, key a (a good newer version)
#   a-rogue.signed      1.5.5.5.1 serial 5, key "rogue-a" whose DS the registry never
#                       published (docs/security.md Z2)
#   b-v1.signed         2.5.5.5.1 serial 1, key b
#   a-for-b.signed      2.5.5.5.1 serial 7, signed by member A with its own key "a-for-b":
#                       A publishing B's numbers (range authority)
#   a-z3-iter51.signed  1.5.5.5.1 serial 10, key a, NSEC3 with 51 iterations (docs/security.md Z3)
#   a-z3-gap.signed     1.5.5.5.1 serial 11, key a, one NSEC3 RR (and its RRSIG) removed:
#                       the chain is broken (docs/security.md Z3)
#   a-z4-keytrap.signed 1.5.5.5.1 serial 12, key a plus 6 bogus DNSKEYs with key a's key tag
#                       and algorithm: above the key-collision budget (docs/security.md Z4, KeyTrap)
#   a-z6-zonemd.signed  1.5.5.5.1 serial 13, key a, ZONEMD SHA-384, then one NAPTR TTL
#                       lowered: signatures still verify (original TTL), ZONEMD does not
#                       (docs/security.md Z6)
#   a-wide.signed       5.5.5.1.e164.test., key "a-wide": A claiming the wider +1555
#                       prefix, which the registry never delegated (docs/security.md Z5)
#   a-undelegated.signed 3.5.5.5.1.e164.test., key "a-undelegated": a prefix the registry
#                       does not delegate at all (docs/security.md Z5)
#   e164.test.ds        the trust anchor (registry KSK, SHA-256), as ldns-key2ds prints it
#   e164.test.key       the same anchor as a DNSKEY (the registry KSK's .key file)
#   src/                the unsigned sources (written by this script)
#
# NSEC3 (iterations 0, no salt, RFC 9276), ECDSA P-256, signatures valid INCEPTION ..
# EXPIRATION below. Tests that need short-lived signatures (expiry) sign src/ zones
# themselves with these keys at run time.
#
# Usage: make-fixtures.sh [--new-keys]     (needs ldnsutils: ldns-keygen, ldns-signzone,
#                                            ldns-key2ds, ldns-verify-zone, ldns-nsec3-hash;
#                                            python3 for the KeyTrap keys)
set -euo pipefail

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KEYS=$DIR/keys
SRC=$DIR/src
INCEPTION=20260101000000
EXPIRATION=20360101000000
ALG=ECDSAP256SHA256
APEX=e164.test.
A=1.5.5.5.1.$APEX
B=2.5.5.5.1.$APEX

say() { echo "make-fixtures: $*"; }
for tool in ldns-keygen ldns-signzone ldns-key2ds ldns-verify-zone ldns-nsec3-hash python3; do
	command -v "$tool" >/dev/null || { echo "$tool not found (apt-get install ldnsutils)" >&2; exit 1; }
done

if [ "${1:-}" = --new-keys ]; then
	rm -rf "$KEYS"
fi
mkdir -p "$KEYS" "$SRC"

# key NAME OWNER FLAGS(ksk|zsk): make keys/NAME.{key,private} once.
key() {
	local name=$1 owner=$2 kind=$3 base
	[ -s "$KEYS/$name.private" ] && return 0
	if [ "$kind" = ksk ]; then
		base=$(cd "$KEYS" && ldns-keygen -a $ALG -k -r /dev/urandom "$owner")
	else
		base=$(cd "$KEYS" && ldns-keygen -a $ALG -r /dev/urandom "$owner")
	fi
	mv "$KEYS/$base.key" "$KEYS/$name.key"
	mv "$KEYS/$base.private" "$KEYS/$name.private"
	rm -f "$KEYS/$base.ds"
	say "new key $name ($kind) for $owner"
}
key reg-ksk $APEX ksk
key reg-zsk $APEX zsk
key a $A ksk
key a2 $A ksk
key rogue-a $A ksk
key b $B ksk
key a-for-b $B ksk
key a-wide 5.5.5.1.$APEX ksk
key a-undelegated 3.5.5.5.1.$APEX ksk

ds() { ldns-key2ds -n -2 "$KEYS/$1.key"; echo; }

ds reg-ksk | sed '/^$/d' >"$DIR/e164.test.ds"
grep -v '^;' "$KEYS/reg-ksk.key" >"$DIR/e164.test.key"

# registry SERIAL "DS-records-for-A" "DS-records-for-B or empty"
registry() {
	cat <<ZONE
\$ORIGIN $APEX
\$TTL 3600
@           SOA  ns1 hostmaster $1 7200 900 1209600 300
@           NS   ns1
ns1         A    192.0.2.53
1.5.5.5.1   NS   ns1.1.5.5.5.1
ns1.1.5.5.5.1 A  192.0.2.101
$2
ZONE
	if [ -n "$3" ]; then
		echo "2.5.5.5.1   NS   ns1.2.5.5.5.1"
		echo "ns1.2.5.5.5.1 A  192.0.2.102"
		echo "$3"
	fi
}

# member ORIGIN SERIAL TAG: a few numbers of the prefix ORIGIN.
member() {
	local i
	cat <<ZONE
\$ORIGIN $1
\$TTL 3600
@           SOA  ns1 hostmaster $2 7200 900 1209600 300
@           NS   ns1
ns1         A    192.0.2.101
ZONE
	for i in 1 2 3 4 5; do
		echo "$i.0.0.0.0.0     NAPTR 10 100 \"u\" \"E2U+sip\" \"!^.*\$!sip:$3-$i@ims.example;user=phone!\" ."
	done
}

registry 1 "$(ds a)" "$(ds b)" >"$SRC/registry-v1.zone"
registry 2 "$(ds a2)" "$(ds b)" >"$SRC/registry-v2.zone"
registry 3 "$(ds a)" "" >"$SRC/registry-v3.zone"
member $A 1 a-v1 >"$SRC/a-v1.zone"
member $A 2 a-v2 >"$SRC/a-v2.zone"
member $A 3 a-v3 >"$SRC/a-v3-badsig.zone"
member $A 4 a-v4 >"$SRC/a-v4.zone"
member $A 5 rogue >"$SRC/a-rogue.zone"
member $B 1 b-v1 >"$SRC/b-v1.zone"
member $B 7 a-for-b >"$SRC/a-for-b.zone"
member $A 10 a-z3 >"$SRC/a-z3-iter51.zone"
member $A 11 a-z3 >"$SRC/a-z3-gap.zone"
member $A 13 a-z6 >"$SRC/a-z6-zonemd.zone"
# KeyTrap: 6 extra DNSKEYs (64 bytes of junk each, algorithm 13) whose last two bytes are
# chosen so that their key tag (RFC 4034 Appendix B) equals key a's.
{
	member $A 12 a-z4
	python3 - "$(awk '!/^;/ { for (i = 1; i < NF; i++) if ($i == "DNSKEY") print $(i + 4) }' "$KEYS/a.key")" <<'PY'
import base64, hashlib, sys
key = base64.b64decode(sys.argv[1])
assert len(key) == 64, "key a is not a P-256 key"
def tag(rd):
    ac = 0
    for i, b in enumerate(rd):
        ac += b if i & 1 else b << 8
    ac += (ac >> 16) & 0xFFFF
    return ac & 0xFFFF
target = tag(bytes([1, 1, 3, 13]) + key)
for n in range(6):
    body = bytearray(hashlib.sha512(b"keytrap %d" % n).digest())
    for w in range(65536):  # flags 256 (a zone key), protocol 3, algorithm 13
        body[-2], body[-1] = w >> 8, w & 0xFF
        rd = bytes([1, 0, 3, 13]) + body
        if tag(rd) == target:
            break
    assert tag(rd) == target
    print("@ DNSKEY 256 3 13 " + base64.b64encode(bytes(body)).decode())
PY
} >"$SRC/a-z4-keytrap.zone"
member 5.5.5.1.$APEX 1 a-wide >"$SRC/a-wide.zone"
member 3.5.5.5.1.$APEX 1 a-undelegated >"$SRC/a-undelegated.zone"

# sign NAME ORIGIN KEY... (SIGN_OPTS: more ldns-signzone options)
sign() {
	local name=$1 origin=$2 out
	shift 2
	local keys=()
	for k in "$@"; do keys+=("$KEYS/$k"); done
	out=$(mktemp)
	# shellcheck disable=SC2086
	ldns-signzone -n -a 1 -t "${ITER:-0}" ${SIGN_OPTS:-} -i $INCEPTION -e $EXPIRATION \
		-o "$origin" -f "$out" "$SRC/$name.zone" "${keys[@]}"
	{
		echo "; $name -- TEST ONLY, signed with the public test keys in keys/."
		echo "; Generated by make-fixtures.sh from src/$name.zone; do not edit."
		cat "$out"
	} >"$DIR/$name.signed"
	rm -f "$out"
}
sign registry-v1 $APEX reg-ksk reg-zsk
sign registry-v2 $APEX reg-ksk reg-zsk
sign registry-v3 $APEX reg-ksk reg-zsk
sign a-v1 $A a
sign a-v2 $A a2
sign a-v3-badsig $A a
sign a-v4 $A a
sign a-rogue $A rogue-a
sign b-v1 $B b
sign a-for-b $B a-for-b
ITER=51 sign a-z3-iter51 $A a
sign a-z3-gap $A a
sign a-z4-keytrap $A a
SIGN_OPTS="-z simple:sha384" sign a-z6-zonemd $A a
sign a-wide 5.5.5.1.$APEX a-wide
sign a-undelegated 3.5.5.5.1.$APEX a-undelegated

# Z1: corrupt the signature of the NAPTR RRset at 3.0.0.0.0.0 (one base64 character of the
# last field, never the padding).
awk '
	!done && $1 ~ /^3\.0\.0\.0\.0\.0\./ && $4 == "RRSIG" && $5 == "NAPTR" {
		sig = $NF; c = substr(sig, 20, 1); r = (c == "A") ? "B" : "A"
		$NF = substr(sig, 1, 19) r substr(sig, 21); done = 1
	}
	{ print }' "$DIR/a-v3-badsig.signed" >"$DIR/a-v3-badsig.tmp"
mv "$DIR/a-v3-badsig.tmp" "$DIR/a-v3-badsig.signed"
grep -q "RRSIG" "$DIR/a-v3-badsig.signed"

# Z3: drop the NSEC3 RR of 4.0.0.0.0.0 (found by its hash, ldns-nsec3-hash) and its RRSIG.
h=$(ldns-nsec3-hash -t 0 "4.0.0.0.0.0.$A")
h=$(echo "$h" | cut -d. -f1 | tr 'A-Z' 'a-z')
grep -qi "^$h\." "$DIR/a-z3-gap.signed"
grep -vi "^$h\." "$DIR/a-z3-gap.signed" >"$DIR/a-z3-gap.tmp"
mv "$DIR/a-z3-gap.tmp" "$DIR/a-z3-gap.signed"

# Z6: lower the TTL of the NAPTR RR at 2.0.0.0.0.0 (its RRSIG keeps the original TTL).
awk '!done && $1 ~ /^2\.0\.0\.0\.0\.0\./ && $4 == "NAPTR" { $2 = 3000; done = 1 } { print }' \
	"$DIR/a-z6-zonemd.signed" >"$DIR/a-z6-zonemd.tmp"
mv "$DIR/a-z6-zonemd.tmp" "$DIR/a-z6-zonemd.signed"
grep -q "ZONEMD" "$DIR/a-z6-zonemd.signed"

# The good zones validate with ldns; the broken one must not.
ta() { ds "$1" | sed '/^$/d' >"$DIR/.ta"; }
check() { # name key expect(ok|fail)
	ta "$2"
	if ldns-verify-zone -k "$DIR/.ta" "$DIR/$1.signed" >/dev/null 2>&1; then r=ok; else r=fail; fi
	[ "$r" = "$3" ] || { echo "make-fixtures: ldns-verify-zone on $1: $r, expected $3" >&2; exit 1; }
	say "$1: ldns-verify-zone $r (as expected)"
}
check registry-v1 reg-ksk ok
check a-v1 a ok
check a-v2 a2 ok
check a-v3-badsig a fail
check b-v1 b ok
rm -f "$DIR/.ta"
say done
