#!/usr/bin/env bash
# make-dname-child.sh OUTDIR -- TEST ONLY (issue #12, finding 1). Writes OUTDIR/b-dname-child.signed:
# member B's zone (2.5.5.5.1.e164.test., test key "b") with a DNAME at 0.0.0.0.0 and a NAPTR
# BELOW it that is signed and covered by the NSEC3 chain, i.e. what a signer that ignores
# DNAME occlusion would publish. ldns-signzone treats the name as
# occluded and leaves it unsigned and outside the chain, so the zone is spliced from two
# ldns-signzone runs with the same key:
#   X: the DNAME and the NAPTR below it       (DNAME signed; NSEC3 of the DNAME owner)
#   Y: the NAPTR without the DNAME            (NAPTR signed; NSEC3 chain over every name)
# taking everything from X except the NAPTR (from Y) and the NSEC3 chain (from Y, but the
# DNAME owner's NSEC3 from X, whose type bitmap names DNAME). That is a valid chain when the
# NSEC3 of the DNAME owner does not point at the NAPTR owner in Y: the script picks a number
# below the DNAME for which it does not. Every signature verifies; only the DNAME rule
# (RFC 6672 §2.4) makes the zone wrong.
set -euo pipefail
DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=$1
ORIGIN=2.5.5.5.1.e164.test.
A=1.5.5.5.1.e164.test.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

hash() { ldns-nsec3-hash -t 0 "$1" | cut -d. -f1 | tr 'A-Z' 'a-z'; }
head() {
	cat <<ZONE
\$ORIGIN $ORIGIN
\$TTL 3600
@ SOA ns1 hostmaster 20 7200 900 1209600 300
@ NS ns1
ns1 A 192.0.2.102
1.0.0.0.0.1 NAPTR 10 100 "u" "E2U+sip" "!^.*\$!sip:b@ims.example!" .
ZONE
}
sign() { ldns-signzone -n -a 1 -t 0 -i 20260101000000 -e 20360101000000 -o $ORIGIN \
	-f "$work/$1.signed" "$work/$1.zone" "$DIR/keys/b" >/dev/null; }

h0=$(hash "0.0.0.0.0.$ORIGIN")
for d in 1 2 3 4 5 6 7 8 9; do
	child=$d.0.0.0.0.0.$ORIGIN
	naptr="$child NAPTR 10 100 \"u\" \"E2U+sip\" \"!^.*\$!sip:hidden@ims.example!\" ."
	{ head; echo "0.0.0.0.0 DNAME 0.0.0.0.0.$A"; echo "$naptr"; } >"$work/x.zone"
	{ head; echo "$naptr"; } >"$work/y.zone"
	sign x
	sign y
	hc=$(hash "$child")
	# Y's NSEC3 at the DNAME owner must not name the child as next (else X's does not fit).
	next=$(awk -v o="$h0.$ORIGIN" '$1 == o && $4 == "NSEC3" { print tolower($9) }' "$work/y.signed")
	[ -n "$next" ] || { echo "make-dname-child: no NSEC3 for the DNAME owner" >&2; exit 1; }
	[ "$next" = "$hc" ] && continue
	{
		echo "; b-dname-child -- TEST ONLY, spliced by make-dname-child.sh; do not edit."
		awk -v c="$child" '!/^;/ && $1 != c && $4 != "NSEC3" && !($4 == "RRSIG" && $5 == "NSEC3")' \
			"$work/x.signed"
		awk -v c="$child" '$1 == c' "$work/y.signed"
		awk -v o="$h0.$ORIGIN" '!/^;/ && $1 != o && ($4 == "NSEC3" || ($4 == "RRSIG" && $5 == "NSEC3"))' \
			"$work/y.signed"
		awk -v o="$h0.$ORIGIN" '$1 == o && ($4 == "NSEC3" || ($4 == "RRSIG" && $5 == "NSEC3"))' \
			"$work/x.signed"
	} >"$OUT/b-dname-child.signed"
	echo "$child" >"$OUT/b-dname-child.name"
	exit 0
done
echo "make-dname-child: no usable number below the DNAME" >&2
exit 1
