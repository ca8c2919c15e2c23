#!/usr/bin/env bash
# gen-demo-federation.sh -- (re)build the DNSSEC data of the "demo" federation.
#
# DEMO ONLY. The keys this script makes are committed to the repository on purpose, so that
# a clean clone serves a signed federation at once. Nothing they sign may be trusted.
#
# What it does, in order (see docs/federation.md):
#   1. makes the missing DNSSEC keys (ldns-keygen, ECDSA P-256 = algorithm 13) under
#      federation/keys/<zone>/ and the missing TSIG secrets (tsig-keygen, hmac-sha256) under
#      federation/keys/<name>.tsig; --new-keys throws all of them away first;
#   2. writes the trust-anchor files, as ldns-key2ds prints them (SHA-256 digest):
#      federation/keys/e164.fed.ds (the federation trust anchor, the registry's KSK) and
#      federation/keys/<entry-point domain>.ds;
#   3. rewrites the "; BEGIN DS" .. "; END DS" block of zones/e164.fed/e164.fed.zone with the
#      DS records of the two member ENUM zones (the registry's delegation = range authority);
#   4. signs every zones/<zone>/<zone>.zone into zones/<zone>/<zone>.zone.signed with
#      ldns-signzone: NSEC3 (RFC 9276: iterations 0, empty salt, no opt-out) for the ENUM
#      zones and for ims-b.example., NSEC for ims-a.example., so both proof types are served;
#      signatures valid from INCEPTION to EXPIRATION below (ten years: the committed demo must
#      not expire under the tests); SOA serial = signing time (ldns-signzone -u);
#   5. verifies each signed zone (ldns-verify-zone against its DS; dnssec-verify from BIND and
#      kzonecheck from Knot (package knot-dnssecutils) when installed).
#
# Idempotent: a signed file starts with a comment carrying the SHA-256 of everything that went
# into it (unsigned source, keys, parameters). A zone whose inputs did not change is not signed
# again (ECDSA signatures are randomised, so re-signing would change the file for nothing).
#
# Usage: scripts/gen-demo-federation.sh [--new-keys] [--force] [--check]
#   --new-keys   discard all demo keys and TSIG secrets and make new ones (re-signs everything)
#   --force      re-sign every zone even when its inputs did not change
#   --check      change nothing; only verify the committed signed zones
# Needs: ldnsutils (ldns-keygen, ldns-signzone, ldns-key2ds, ldns-verify-zone), bind9 (tsig-keygen;
# dnssec-verify optional), coreutils.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ZONES=$ROOT/zones
KEYS=$ROOT/federation/keys
INCEPTION=20260101000000
EXPIRATION=20360101000000
ALG=ECDSAP256SHA256

# zone                 member     denial  key scheme (ksk+zsk: separate KSK and ZSK; csk: one key)
ZONE_TABLE="
1.5.5.5.1.e164.fed.    carrier-a  nsec3   ksk+zsk
2.5.5.5.1.e164.fed.    carrier-b  nsec3   csk
ims-a.example.         carrier-a  nsec    ksk+zsk
ims-b.example.         carrier-b  nsec3   csk
e164.fed.              registry   nsec3   ksk+zsk
"
# ^ members first: the registry zone carries their DS records.
REGISTRY=e164.fed.
MEMBER_ENUM_ZONES="1.5.5.5.1.e164.fed. 2.5.5.5.1.e164.fed."
ENTRY_DOMAINS="ims-a.example. ims-b.example."
TSIG_KEYS="carrier-a-xfr carrier-b-xfr"

new_keys=0 force=0 check_only=0
for arg in "$@"; do
	case $arg in
	--new-keys) new_keys=1 ;;
	--force) force=1 ;;
	--check) check_only=1 ;;
	-h | --help)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "gen-demo-federation: unknown argument '$arg' (try --help)" >&2
		exit 2
		;;
	esac
done

say() { echo "gen-demo-federation: $*"; }
die() {
	echo "gen-demo-federation: error: $*" >&2
	exit 1
}

for tool in ldns-keygen ldns-signzone ldns-key2ds ldns-verify-zone tsig-keygen sha256sum; do
	command -v "$tool" >/dev/null || die "$tool not found (apt-get install ldnsutils bind9 coreutils)"
done

nodot() { echo "${1%.}"; }
keydir() { echo "$KEYS/$(nodot "$1")"; }
zonefile() { echo "$ZONES/$(nodot "$1")/$(nodot "$1").zone"; }

# Key base names (K<zone>+013+<tag>) of a zone, KSKs (flags 257) or ZSKs (flags 256).
keys_with_flags() { # zone flags
	local f
	for f in "$(keydir "$1")"/K*.key; do
		[ -e "$f" ] || continue
		[ "$(awk '!/^;/ { for (i = 1; i < NF; i++) if ($i == "DNSKEY") print $(i + 1) }' "$f")" = "$2" ] &&
			echo "${f%.key}"
	done
	return 0
}

ds_of_zone() { # zone -> DS RRs (SHA-256) of its KSKs, as ldns-key2ds prints them
	local k
	for k in $(keys_with_flags "$1" 257); do
		ldns-key2ds -n -2 "$k.key"
		echo
	done | sed '/^$/d'
}

verify_zone() { # zone scheme
	local zone=$1 scheme=$2 signed ta zflag=""
	signed="$(zonefile "$zone").signed"
	[ -s "$signed" ] || die "$signed is missing"
	ta=$(mktemp)
	ds_of_zone "$zone" >"$ta"
	# ldns-verify-zone: every RRSIG, the NSEC/NSEC3 chain, and the DNSKEY RRset against the DS.
	if ! ldns-verify-zone -k "$ta" "$signed" >/dev/null 2>"$ta.err"; then
		cat "$ta.err" >&2
		rm -f "$ta" "$ta.err"
		die "ldns-verify-zone rejected $signed"
	fi
	rm -f "$ta" "$ta.err"
	if command -v dnssec-verify >/dev/null; then
		# -z: a combined signing key (flags 257) signs every RRset, not only the DNSKEY RRset.
		[ "$scheme" = csk ] && zflag=-z
		dnssec-verify $zflag -q -o "$zone" "$signed" >/dev/null 2>&1 ||
			die "dnssec-verify rejected $signed"
	fi
	if command -v kzonecheck >/dev/null; then # Debian package knot-dnssecutils
		if ! kzonecheck -o "$zone" -d on "$signed" >"$ta.err" 2>&1; then
			cat "$ta.err" >&2
			rm -f "$ta.err"
			die "kzonecheck rejected $signed"
		fi
		rm -f "$ta.err"
	fi
	say "verified $(basename "$signed")"
}

if [ $check_only = 1 ]; then
	while read -r zone _ _ scheme; do
		[ -n "$zone" ] && verify_zone "$zone" "$scheme"
	done <<<"$ZONE_TABLE"
	exit 0
fi

mkdir -p "$KEYS"

# --- 1. keys ----------------------------------------------------------------------------------
if [ $new_keys = 1 ]; then
	say "discarding all demo keys"
	while read -r zone _; do
		[ -n "$zone" ] && rm -rf "$(keydir "$zone")"
	done <<<"$ZONE_TABLE"
	for t in $TSIG_KEYS; do rm -f "$KEYS/$t.tsig"; done
fi

while read -r zone member denial scheme; do
	[ -n "$zone" ] || continue
	dir=$(keydir "$zone")
	mkdir -p "$dir"
	if [ -z "$(keys_with_flags "$zone" 257)" ]; then
		# -k: flags 257 (SEP). With "csk" this key also signs the whole zone.
		k=$(cd "$dir" && ldns-keygen -a $ALG -k -r /dev/urandom "$zone")
		rm -f "$dir/$k.ds" # DS files are written below, in one place
		say "new KSK $k for $zone ($member)"
	fi
	if [ "$scheme" = ksk+zsk ] && [ -z "$(keys_with_flags "$zone" 256)" ]; then
		k=$(cd "$dir" && ldns-keygen -a $ALG -r /dev/urandom "$zone")
		say "new ZSK $k for $zone ($member)"
	fi
	chmod 600 "$dir"/K*.private
done <<<"$ZONE_TABLE"

for t in $TSIG_KEYS; do
	if [ ! -s "$KEYS/$t.tsig" ]; then
		tsig-keygen -a hmac-sha256 "$t" >"$KEYS/$t.tsig"
		chmod 600 "$KEYS/$t.tsig"
		say "new TSIG secret $t"
	fi
done

# --- 2. trust anchors -------------------------------------------------------------------------
write_if_changed() { # file (content on stdin)
	local tmp
	tmp=$(mktemp)
	cat >"$tmp"
	if [ -f "$1" ] && cmp -s "$tmp" "$1"; then
		rm -f "$tmp"
	else
		mv "$tmp" "$1"
		chmod 644 "$1"
		say "wrote ${1#"$ROOT"/}"
	fi
}

for zone in $REGISTRY $ENTRY_DOMAINS; do
	ds_of_zone "$zone" | write_if_changed "$KEYS/$(nodot "$zone").ds"
done

# --- 3. the registry's DS block ---------------------------------------------------------------
reg_src=$(zonefile $REGISTRY)
if ! grep -q "^; BEGIN DS" "$reg_src" || ! grep -q "^; END DS" "$reg_src"; then
	die "$reg_src lacks the '; BEGIN DS' / '; END DS' markers"
fi
ds_block=$(mktemp)
for zone in $MEMBER_ENUM_ZONES; do
	ds_of_zone "$zone"
done >"$ds_block"
awk -v blockfile="$ds_block" '
	/^; BEGIN DS/ { print; while ((getline l < blockfile) > 0) print l; skip = 1; next }
	/^; END DS/ { skip = 0 }
	!skip { print }' "$reg_src" | write_if_changed "$reg_src"
rm -f "$ds_block"

# --- 4. sign ----------------------------------------------------------------------------------
while read -r zone member denial scheme; do
	[ -n "$zone" ] || continue
	src=$(zonefile "$zone")
	signed="$src.signed"
	[ -s "$src" ] || die "$src is missing"
	keys=$(keys_with_flags "$zone" 257; keys_with_flags "$zone" 256)
	opts=(-u -i "$INCEPTION" -e "$EXPIRATION")
	if [ "$denial" = nsec3 ]; then
		# RFC 9276 section 3.1: iterations 0, empty salt (ldns-signzone's default salt).
		opts+=(-n -a 1 -t 0)
	fi
	# shellcheck disable=SC2086
	stamp=$( (
		echo "${opts[*]} $zone $denial $scheme"
		cat "$src"
		for k in $keys; do cat "$k.key" "$k.private"; done
	) | sha256sum | cut -d' ' -f1)
	if [ $force = 0 ] && [ -s "$signed" ] &&
		[ "$(head -n1 "$signed")" = "; gen-demo-federation inputs sha256 $stamp" ]; then
		say "$zone unchanged, not re-signed"
		continue
	fi
	out=$(mktemp)
	# shellcheck disable=SC2086
	ldns-signzone "${opts[@]}" -o "$zone" -f "$out" "$src" $keys
	{
		echo "; gen-demo-federation inputs sha256 $stamp"
		echo "; $zone -- member $member -- DEMO ONLY, signed with committed demo keys."
		echo "; Generated by scripts/gen-demo-federation.sh from $(basename "$src"); do not edit."
		echo "; $denial, ECDSA P-256 ($scheme), signatures valid $INCEPTION .. $EXPIRATION UTC."
		cat "$out"
	} >"$signed"
	rm -f "$out"
	chmod 644 "$signed"
	say "signed $zone -> ${signed#"$ROOT"/}"
done <<<"$ZONE_TABLE"

# --- 5. verify --------------------------------------------------------------------------------
while read -r zone _ _ scheme; do
	[ -n "$zone" ] && verify_zone "$zone" "$scheme"
done <<<"$ZONE_TABLE"
say "done"
