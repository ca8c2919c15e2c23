#!/usr/bin/env bash
# gen-enum-zone.sh -- generate (and sign) a large ENUM zone plus dnsperf query files.
#
# Usage: tests/lib/gen-enum-zone.sh N OUTDIR [--sign nsec3|nsec|none] [--apex APEX]
#                                   [--seed S] [--queries Q] [--signer ldns|bind] [--reuse]
#
#   N          number of telephone numbers in the zone (1 .. 5000000)
#   OUTDIR     created if missing; files below are overwritten
#   --sign     nsec3 (default): ECDSA P-256 (algorithm 13), NSEC3 with 0 iterations, empty
#              salt, no opt-out (RFC 9276); nsec: same key, NSEC; none: unsigned only
#   --apex     zone apex (default e164.fed.); numbers are +1555xxxxxxx, owners
#              x.x.x.x.x.x.x.5.5.5.1.<apex> (RFC 6116 section 2.4)
#   --seed     seed for choosing numbers and queries (default 1): same arguments, same zone
#   --queries  number of lines in queries.txt (default: max(N, 10000), at most 2000000)
#   --signer   ldns (default): ldns-signzone; bind: dnssec-signzone -n <cores>. Measured
#              here at 1M numbers (2.2M signatures): ldns-signzone 133 s, knotd (signing-threads
#              2) 131 s, dnssec-signzone -n 2 167 s -- none of them really uses a second core,
#              so the simplest one is the default (docs/benchmarks.md)
#   --reuse    keep OUTDIR as it is when its info.env was made with the same N, apex, seed,
#              queries and sign mode, and its signatures expire in more than 20 days
#
# Files in OUTDIR (stable interface, other tests rely on it):
#   zone              the unsigned zone (RFC 1035 master file)
#   zone.signed       the signed zone (absent with --sign none)
#   keys/             the key files (K<apex>+013+<tag>.{key,private}; one key, flags 257)
#   ds                DS record of the key (SHA-256), usable as a trust anchor
#   queries.txt       dnsperf input "<name> NAPTR": 90% hits, 10% misses (NXDOMAIN), shuffled
#   hits.txt          the hit names used in queries.txt, one per line (distinct)
#   misses.txt        the miss names used in queries.txt, one per line (distinct, not in the zone)
#   entry.txt         "<name> <type>" for the entry-point names in the zone (NAPTR/SRV/A/AAAA)
#   info.env          shell variables: APEX N SIGN ZONE_FILE (the file to serve) UNSIGNED
#                     SIGNED DS QUERIES GEN_SECONDS SIGN_SECONDS
#
# Zone contents: SOA, NS, ns1/ns2 A+AAAA; an RFC 3263 entry point "ims.<apex>" (NAPTR
# SIPS+D2T/SIP+D2T/SIP+D2U -> SRV -> sbc1/sbc2 A+AAAA); N numbers in thousands-blocks of
# +1555 (600 of each block's 1000 numbers used, blocks scattered over the 10^4), 90% with
#   NAPTR 10 100 "u" "E2U+sip" "!^.*$!sip:+1555xxxxxxx@ims.<apex-without-dot>;user=phone!" .
# and 10% with
#   NAPTR 10 100 "u" "E2U+pstn:tel" "!^.*$!tel:+1555xxxxxxx;npdi;rn=+1555999xxxx!" .
# Signature validity: from now - 1 day to now + 30 days.
set -euo pipefail

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
}
[ $# -ge 2 ] || usage
N=$1
OUT=$2
shift 2
SIGN=nsec3 APEX=e164.fed. SEED=1 QUERIES="" SIGNER=ldns REUSE=0
while [ $# -gt 0 ]; do
	case $1 in
	--sign) SIGN=${2:?}; shift 2 ;;
	--apex) APEX=${2:?}; shift 2 ;;
	--seed) SEED=${2:?}; shift 2 ;;
	--queries) QUERIES=${2:?}; shift 2 ;;
	--signer) SIGNER=${2:?}; shift 2 ;;
	--reuse) REUSE=1; shift ;;
	*) usage ;;
	esac
done
case $SIGN in nsec3 | nsec | none) ;; *) usage ;; esac
case $SIGNER in ldns | bind) ;; *) usage ;; esac
if ! [[ $N =~ ^[0-9]+$ ]] || [ "$N" -lt 1 ] || [ "$N" -gt 5000000 ]; then
	echo "gen-enum-zone: N must be 1 .. 5000000" >&2
	exit 2
fi
[[ $APEX == *. ]] || APEX="$APEX."
if [ -z "$QUERIES" ]; then
	QUERIES=$((N > 10000 ? N : 10000))
	[ "$QUERIES" -le 2000000 ] || QUERIES=2000000
fi

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
PARAMS="N=$N APEX=$APEX SEED=$SEED QUERIES=$QUERIES SIGN=$SIGN"
if [ $REUSE = 1 ] && [ -f "$OUT/info.env" ] && grep -qxF "PARAMS='$PARAMS'" "$OUT/info.env"; then
	made=$(sed -n 's/^MADE=//p' "$OUT/info.env")
	if [ -n "$made" ] && [ $(($(date +%s) - made)) -lt $((10 * 86400)) ]; then
		exit 0
	fi
fi
rm -f "$OUT/info.env"
AWK="awk"
command -v mawk >/dev/null && AWK=mawk # several times faster than gawk here

t0=$(date +%s.%N)
# Numbers are +1555 BBBB NNN: 10^4 "thousands-blocks" BBBB, as numbering plans hand them out.
# The zone's numbers fill 600 of the 1000 numbers of each block it uses (a realistic density,
# with the empty non-terminals that brings). Number i (0 <= i < N) lies in block i div 600,
# at offset i mod 600, both mapped through fixed permutations (multipliers coprime to 10^4
# and 10^3). Misses come from the unused 400 offsets of used blocks and from unused blocks,
# so they never collide with a number of the zone.
# shellcheck disable=SC2016 # the program is awk, not shell
$AWK -v n="$N" -v q="$QUERIES" -v seed="$SEED" -v apex="$APEX" -v out="$OUT" '
function blk(b) { return (b * 7919 + seed * 101) % 10000 }
function num(b, j) { return sprintf("%04d%03d", blk(b), (j * 379 + b * 13) % 1000) }
function hit(i) { return num(int(i / 600), i % 600) }
function miss(k,   h, u, U) {
	h = int(k / 2)
	if (k % 2 == 0 && h < nb * 400)
		return num(h % nb, 600 + int(h / nb))
	U = 10000 - nb
	return num(nb + k % U, int(k / U) % 1000)
}
function gcd(a, b,   t) { while (b) { t = a % b; a = b; b = t } return a }
function owner(d,   s, k) {
	s = substr(d, 7, 1)
	for (k = 6; k >= 1; k--) s = s "." substr(d, k, 1)
	return s ".5.5.5.1." apex
}
BEGIN {
	host = apex; sub(/\.$/, "", host); host = "ims." host
	z = out "/zone"
	if (n > 6000000) { print "gen-enum-zone: N too large" > "/dev/stderr"; exit 1 }
	printf "; ENUM test zone: %d numbers, generated by tests/lib/gen-enum-zone.sh (seed %d)\n", n, seed > z
	printf "$ORIGIN %s\n$TTL 3600\n", apex > z
	printf "@ SOA ns1 hostmaster 1 7200 900 1209600 300\n@ NS ns1\n@ NS ns2\n" > z
	printf "ns1 A 192.0.2.53\nns1 AAAA 2001:db8::53\nns2 A 198.51.100.53\nns2 AAAA 2001:db8:1::53\n" > z
	# RFC 3263 entry point
	printf "ims NAPTR 10 50 \"s\" \"SIPS+D2T\" \"\" _sips._tcp.ims\n" > z
	printf "ims NAPTR 20 50 \"s\" \"SIP+D2T\" \"\" _sip._tcp.ims\n" > z
	printf "ims NAPTR 30 50 \"s\" \"SIP+D2U\" \"\" _sip._udp.ims\n" > z
	printf "_sips._tcp.ims SRV 10 60 5061 sbc1.ims\n_sips._tcp.ims SRV 10 40 5061 sbc2.ims\n" > z
	printf "_sip._tcp.ims SRV 10 60 5060 sbc1.ims\n_sip._tcp.ims SRV 10 40 5060 sbc2.ims\n" > z
	printf "_sip._udp.ims SRV 10 60 5060 sbc1.ims\n_sip._udp.ims SRV 10 40 5060 sbc2.ims\n" > z
	printf "sbc1.ims A 192.0.2.11\nsbc1.ims AAAA 2001:db8::11\nsbc2.ims A 192.0.2.12\nsbc2.ims AAAA 2001:db8::12\n" > z
	e = out "/entry.txt"
	printf "%s NAPTR\n_sips._tcp.%s SRV\n_sip._tcp.%s SRV\n_sip._udp.%s SRV\n", host ".", host ".", host ".", host "." > e
	printf "sbc1.%s A\nsbc1.%s AAAA\nsbc2.%s A\nsbc2.%s AAAA\n", host ".", host ".", host ".", host "." > e
	nb = int((n + 599) / 600)
	for (i = 0; i < n; i++) {
		d = hit(i)
		if (i % 10 == 3)
			printf "%s NAPTR 10 100 \"u\" \"E2U+pstn:tel\" \"!^.*$!tel:+1555%s;npdi;rn=+1555999%s!\" .\n", owner(d), d, substr(d, 4) > z
		else
			printf "%s NAPTR 10 100 \"u\" \"E2U+sip\" \"!^.*$!sip:+1555%s@%s;user=phone!\" .\n", owner(d), d, host > z
	}
	close(z)
	# Queries: 90% hits drawn from the zone, 10% misses drawn from outside it; each name at
	# most once in hits.txt/misses.txt (dnsperf loops over queries.txt).
	srand(seed)
	nmiss = int(q / 10); nhit = q - nmiss
	hf = out "/hits.txt"; mf = out "/misses.txt"; qf = out "/queries.tmp"
	# Hits: a random stride walk over 0 .. n-1 (distinct while nhit <= n, repeats beyond).
	start = int(rand() * n); step = 7919
	while (gcd(step, n) != 1) step += 2
	for (k = 0; k < nhit; k++) {
		nm = owner(hit((start + k * step) % n))
		if (k < n) print nm > hf
		printf "%.9f %s NAPTR\n", rand(), nm > qf
	}
	for (k = 0; k < nmiss; k++) {
		nm = owner(miss(k))
		print nm > mf
		printf "%.9f %s NAPTR\n", rand(), nm > qf
	}
	close(hf); close(mf); close(qf)
}'
# shuffle: sort by the random key, drop it
sort -S 25% -k1,1 "$OUT/queries.tmp" | cut -d' ' -f2- >"$OUT/queries.txt"
rm -f "$OUT/queries.tmp"
t1=$(date +%s.%N)

SIGNED="" DS=""
t2=$t1
if [ "$SIGN" != none ]; then
	rm -rf "$OUT/keys"
	mkdir -p "$OUT/keys"
	# One key with flags 257 that signs everything (a combined signing key).
	key=$(cd "$OUT/keys" && ldns-keygen -a ECDSAP256SHA256 -k -r /dev/urandom "$APEX")
	rm -f "$OUT/keys/$key.ds"
	ldns-key2ds -n -2 "$OUT/keys/$key.key" >"$OUT/ds"
	inception=$(date -u -d '-1 day' +%Y%m%d%H%M%S)
	expiration=$(date -u -d '+30 days' +%Y%m%d%H%M%S)
	SIGNED=$OUT/zone.signed
	DS=$OUT/ds
	if [ "$SIGNER" = ldns ]; then
		nsec3=()
		[ "$SIGN" = nsec3 ] && nsec3=(-n -a 1 -t 0)
		ldns-signzone "${nsec3[@]}" -i "$inception" -e "$expiration" -o "$APEX" \
			-f "$SIGNED" "$OUT/zone" "$OUT/keys/$key"
	else
		# dnssec-signzone: -P no post-signing verification (slow, single-threaded), -z the
		# key signs everything although flags 257, -n threads, -O full (one record a line),
		# -3 - (NSEC3, empty salt) -H 0 (0 iterations), -K key folder.
		nsec3=()
		[ "$SIGN" = nsec3 ] && nsec3=(-3 - -H 0)
		# The DNSKEY must be in the zone it reads: include both files.
		# shellcheck disable=SC2016
		printf '$INCLUDE %s\n$INCLUDE %s\n' "$OUT/zone" "$OUT/keys/$key.key" >"$OUT/keys/sign-input"
		dnssec-signzone -q -P -z -n "$(nproc)" -O full -o "$APEX" -K "$OUT/keys" \
			-s "$inception" -e "$expiration" "${nsec3[@]}" -f "$SIGNED" \
			"$OUT/keys/sign-input" "$key" >/dev/null
	fi
	t2=$(date +%s.%N)
fi

{
	echo "APEX=$APEX"
	echo "N=$N"
	echo "SIGN=$SIGN"
	echo "UNSIGNED=$OUT/zone"
	echo "SIGNED=$SIGNED"
	echo "ZONE_FILE=${SIGNED:-$OUT/zone}"
	echo "DS=$DS"
	echo "QUERIES=$OUT/queries.txt"
	echo "GEN_SECONDS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
	echo "SIGN_SECONDS=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.1f", b - a }')"
	echo "MADE=$(date +%s)"
	echo "PARAMS='$PARAMS'"
} >"$OUT/info.env"
