#!/usr/bin/env bash
# tests/bench/propagation.sh -- propagation time through a three-node federation (by hand, not
# in CI): a registry hub and two members, each a fedenumd on its own loopback address
# (127.0.0.2 hub, 127.0.0.3 member a, 127.0.0.4 member b) with its own store, TSIG
# hmac-sha256 between them, every node validating under the registry's anchor; the hub model
# of tests/integration/test_federation3.c, with a large zone at member a.
#
# Usage: tests/bench/propagation.sh [-n NUMBERS] [-c CACHE] [-F FEDENUMD] [-m SECONDS] [-k]
#   -n NUMBERS   numbers in member a's zone 5.5.5.1.e164.fed. (default 1000000)
#   -c CACHE     where the signed zones are kept between runs (default
#                /tmp/fedenum-bench-propagation); signing 1M numbers takes minutes, so a
#                cache younger than 20 days made with the same NUMBERS is reused
#   -F FEDENUMD  the binary (default build/fedenumd)
#   -m SECONDS   how long to wait for one change to reach every node (default 1800); a node
#                that does not serve it by then is reported as "not within SECONDS s"
#   -k           keep the nodes' folders (logs, stores) after the run
#
# What it does:
#   1. makes (or reuses) the zones: the registry e164.fed. delegating 5.5.5.1.e164.fed.
#      (member a) and 6.5.5.1.e164.fed. (member b, 1,000 numbers) with their DS; one ECDSA
#      P-256 key per zone, NSEC3 (0 iterations, empty salt); member a's zone holds NUMBERS
#      numbers +15550000000 upwards, one E2U+sip NAPTR each. Then two later versions of member
#      a's zone, signed incrementally (only the changed RRsets and the SOA get new RRSIGs,
#      as an online signer would): version 2 changes one number's NAPTR, version 3 changes
#      10,000 more;
#   2. starts the hub (primary for the registry, secondary for both member zones, NOTIFY to
#      both members) and the members (primary for their own zone, secondary of the hub for
#      the registry and the other member's zone, NOTIFY to the hub); waits until every node
#      answers for every zone with AD=1;
#   3. for version 2, then version 3: copies it over member a's zone file, sends SIGHUP, and
#      polls (every 2 ms, after 2 s every 20 ms) all three nodes for the changed number with DO; prints the time
#      from the SIGHUP to member a's first answer with the new data (its commit) and from
#      that commit to the first AD=1 answer with the new data at the hub and at member b
#      (the last node is the propagation time), and each node's log lines of the transfer.
# Needs: ldnsutils (ldns-keygen, ldns-signzone, ldns-key2ds, ldns-read-zone), python3-dnspython,
# a built fedenumd. Numbers and the measured figures: docs/benchmarks.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
N=1000000
CACHE=/tmp/fedenum-bench-propagation
FEDENUMD=$ROOT/build/fedenumd
KEEP=0
MAXWAIT=1800
while getopts "n:c:F:m:k" o; do
	case $o in
	n) N=$OPTARG ;;
	c) CACHE=$OPTARG ;;
	F) FEDENUMD=$OPTARG ;;
	m) MAXWAIT=$OPTARG ;;
	k) KEEP=1 ;;
	*)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 2
		;;
	esac
done
[[ $N =~ ^[0-9]+$ ]] && [ "$N" -ge 20000 ] && [ "$N" -le 5000000 ] ||
	{ echo "propagation: NUMBERS must be 20000 .. 5000000 (version 3 changes 10,000)" >&2; exit 2; }
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=python3
say() { echo "propagation: $*" >&2; }
die() {
	echo "propagation: error: $*" >&2
	exit 1
}
for tool in ldns-keygen ldns-signzone ldns-key2ds "$PY"; do
	command -v "$tool" >/dev/null || die "$tool not found"
done
"$PY" -c 'import dns.message' 2>/dev/null || die "python3-dnspython not installed for $PY"
[ -x "$FEDENUMD" ] || die "$FEDENUMD not found: build it first"

REG=e164.fed.
ZA=5.5.5.1.e164.fed.
ZB=6.5.5.1.e164.fed.
NB=1000
CHANGE1=1                           # version 2: +15550000001
CHANGE2_FROM=$((N / 2)) CHANGE2_N=10000 # version 3: 10,000 numbers from the middle of the zone

# --- 1. zones ---------------------------------------------------------------------------------
PARAMS="N=$N v2"
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
fresh=0
if [ -f "$CACHE/params" ] && [ "$(cat "$CACHE/params")" = "$PARAMS" ] &&
	[ $(($(date +%s) - $(stat -c %Y "$CACHE/params"))) -lt $((20 * 86400)) ] &&
	[ -s "$CACHE/a.v3.signed" ]; then
	say "reusing the signed zones in $CACHE"
else
	fresh=1
fi

# Owners of the numbers on stdin (+1555DDDDDDD, DDDDDDD the number on 7 digits) under member
# a's apex: the digits reversed (RFC 6116).
owners() {
	awk -v apex=$ZA '{ d = sprintf("%07d", $1 + 0); o = ""
		for (k = 7; k >= 1; k--) o = o substr(d, k, 1) "."; print o apex }'
}
gen_member() { # apex count marker-domain
	awk -v apex="$1" -v n="$2" -v dom="$3" 'BEGIN {
		printf "$ORIGIN %s\n$TTL 3600\n", apex
		printf "@ SOA ns1.%s. hostmaster.%s. 1 7200 900 1209600 300\n@ NS ns1.%s.\n", dom, dom, dom
		for (i = 0; i < n; i++) {
			d = sprintf("%07d", i)
			o = ""
			for (k = 7; k >= 1; k--) o = o substr(d, k, 1) (k > 1 ? "." : "")
			printf "%s NAPTR 10 100 \"u\" \"E2U+sip\" \"!^.*$!sip:+1555%s@%s;user=phone!\" .\n", o, d, dom
		}
	}'
}

if [ $fresh = 1 ]; then
	rm -rf "${CACHE:?}"/*
	INCEPTION=$(date -u -d '-1 day' +%Y%m%d%H%M%S)
	EXPIRATION=$(date -u -d '+30 days' +%Y%m%d%H%M%S)
	echo "$INCEPTION $EXPIRATION" >"$CACHE/validity"
	mkdir -p "$CACHE/keys"
	for z in $REG $ZA $ZB; do
		(cd "$CACHE/keys" && ldns-keygen -a ECDSAP256SHA256 -k -r /dev/urandom "$z" >"$z.name")
	done
	key() { echo "$CACHE/keys/$(cat "$CACHE/keys/$1.name")"; }
	ldns-key2ds -n -2 "$(key $REG).key" >"$CACHE/registry.ds"
	gen_member $ZA "$N" ims-a.example >"$CACHE/a.v1"
	gen_member $ZB $NB ims-b.example >"$CACHE/b"
	{
		# shellcheck disable=SC2016
		printf '$ORIGIN %s\n$TTL 3600\n@ SOA ns1 hostmaster 1 7200 900 1209600 300\n' $REG
		printf '@ NS ns1\nns1 A 192.0.2.1\n'
		printf '5.5.5.1 NS ns1.ims-a.example.\n6.5.5.1 NS ns1.ims-b.example.\n'
		ldns-key2ds -n -2 "$(key $ZA).key"
		ldns-key2ds -n -2 "$(key $ZB).key"
	} >"$CACHE/registry"
	sign() { # apex in out
		ldns-signzone -n -a 1 -t 0 -i "$INCEPTION" -e "$EXPIRATION" -o "$1" -f "$3" "$2" \
			"$(key "$1")"
	}
	say "signing the registry and member b"
	sign $REG "$CACHE/registry" "$CACHE/registry.signed"
	sign $ZB "$CACHE/b" "$CACHE/b.signed"
	say "signing member a's zone ($N numbers; minutes at 1M)"
	t0=$(date +%s)
	sign $ZA "$CACHE/a.v1" "$CACHE/a.v1.signed"
	say "signed in $(($(date +%s) - t0)) s"

	# Incremental versions: the changed NAPTRs and the new SOA signed in a small zone with the
	# same key and validity, their RRSIGs put in place of the old ones (the NSEC3 chain does not
	# change: same names, same types).
	next_version() { # from to serial owners-file
		local from=$1 to=$2 serial=$3 owners=$4 mini=$CACHE/mini
		awk -v s="$serial" -v dom=ims-a.example '
			FILENAME == ARGV[1] { want[$1] = 1; next }
			$4 == "SOA" && !done { printf "%s\t%s\tIN\tSOA\t%s %s %s", $1, $2, $5, $6, s;
			                      for (i = 8; i <= NF; i++) printf " %s", $i; print ""; done = 1 }
			$4 == "NAPTR" && ($1 in want) { sub(/user=phone!/, "user=phone;v=" s "!"); print }
		' "$owners" <(grep -v '^;' "$from") >"$mini"
		sign $ZA "$mini" "$mini.signed"
		awk '
			FILENAME == ARGV[1] {
				if ($4 == "SOA" || ($4 == "RRSIG" && $5 == "SOA") || $4 == "NAPTR" ||
				    ($4 == "RRSIG" && $5 == "NAPTR")) { print; if ($4 != "SOA" && $5 != "SOA") own[$1] = 1 }
				next
			}
			$4 == "SOA" || ($4 == "RRSIG" && $5 == "SOA") { next }
			($1 in own) && ($4 == "NAPTR" || ($4 == "RRSIG" && $5 == "NAPTR")) { next }
			{ print }
		' <(grep -v '^;' "$mini.signed") "$from" >"$to"
		rm -f "$mini" "$mini.signed"
	}
	seq $CHANGE1 $CHANGE1 | owners >"$CACHE/owners.v2"
	seq $CHANGE2_FROM $((CHANGE2_FROM + CHANGE2_N - 1)) | owners >"$CACHE/owners.v3"
	say "versions 2 (1 number) and 3 (10,000 numbers), signed incrementally"
	next_version "$CACHE/a.v1.signed" "$CACHE/a.v2.signed" 2 "$CACHE/owners.v2"
	next_version "$CACHE/a.v2.signed" "$CACHE/a.v3.signed" 3 "$CACHE/owners.v3"
	echo "$PARAMS" >"$CACHE/params"
fi

# --- 2. three nodes -----------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/fedenum-bench-prop.XXXXXX)
declare -A PID IP PORT
IP[hub]=127.0.0.2 IP[a]=127.0.0.3 IP[b]=127.0.0.4
cleanup() {
	for n in "${!PID[@]}"; do kill -TERM "${PID[$n]}" 2>/dev/null || true; done
	for n in "${!PID[@]}"; do
		for _ in $(seq 100); do kill -0 "${PID[$n]}" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "${PID[$n]}" 2>/dev/null || true
	done
	if [ $KEEP = 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
free_port() {
	"$PY" -c 'import socket
t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", p)); print(p)'
}
for n in hub a b; do PORT[$n]=$(free_port); mkdir -p "$WORK/$n"; done
printf 'key "bench-xfr." {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n};\n' \
	"$(head -c 32 /dev/urandom | base64)" >"$WORK/xfr.key"
cp "$CACHE/registry.signed" "$WORK/hub/zone"
cp "$CACHE/a.v1.signed" "$WORK/a/zone"
cp "$CACHE/b.signed" "$WORK/b/zone"
at() { echo "${IP[$1]}@${PORT[$1]}"; }
start() { # node extra-args...
	local n=$1
	shift
	"$FEDENUMD" --listen "$(at "$n")" --db "$WORK/$n/db" --control "$WORK/$n/control.sock" \
		--ready-file "$WORK/$n/ready" --zone "$WORK/$n/zone" \
		--trust-anchor "$CACHE/registry.ds" --tsig-key "$WORK/xfr.key" "$@" \
		2>"$WORK/$n/log" &
	PID[$n]=$!
}
start hub --secondary "$ZA@$(at a)" --secondary "$ZB@$(at b)" --notify "$(at a)" --notify "$(at b)"
start a --secondary "$REG@$(at hub)" --secondary "$ZB@$(at hub)" --notify "$(at hub)"
start b --secondary "$REG@$(at hub)" --secondary "$ZA@$(at hub)" --notify "$(at hub)"
say "nodes: hub $(at hub), a $(at a), b $(at b) in $WORK"

# The poller: dnspython, UDP, DO set; "ad" = AD=1 and the answer holds @marker.
cat >"$WORK/poll.py" <<'EOF'
import sys, time, dns.message, dns.query, dns.flags, dns.rdatatype
name, marker, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
nodes = [(a.split("=")[0], a.split("=")[1].split("@")[0], int(a.split("@")[1])) for a in sys.argv[4:]]
def ok(ip, port):
    q = dns.message.make_query(name, dns.rdatatype.NAPTR, want_dnssec=True)
    try:
        r = dns.query.udp(q, ip, port=port, timeout=1)
    except Exception:
        return False
    return bool(r.flags & dns.flags.AD) and any(marker in rr.to_text() for rr in r.answer)
t0 = time.monotonic(); seen = {}
while len(seen) < len(nodes) and time.monotonic() - t0 < limit:
    for n, ip, port in nodes:
        if n not in seen and ok(ip, port):
            seen[n] = time.monotonic() - t0
    time.sleep(0.002 if time.monotonic() - t0 < 2 else 0.02)
for n, ip, port in nodes:
    print(n, "%.3f" % seen[n] if n in seen else "none")
EOF
owner() { # number [apex]: the owner of +1555DDDDDDD, DDDDDDD = the number on 7 digits
	echo "$1" | awk -v apex="${2:-$ZA}" '{ d = sprintf("%07d", $1 + 0); o = ""
		for (k = 7; k >= 1; k--) o = o substr(d, k, 1) "."; print o apex }'
}
nodes="hub=$(at hub) a=$(at a) b=$(at b)"
say "waiting for every node to serve every zone validated (AD=1)"
t0=$(date +%s)
for probe in "$(owner $((N - 1)))" "$(owner 0)" "$(owner $((NB - 1)) $ZB)"; do
	# shellcheck disable=SC2086
	"$PY" "$WORK/poll.py" "$probe" "user=phone" 3600 $nodes >"$WORK/start.out"
	grep -q none "$WORK/start.out" &&
		{ cat "$WORK/start.out"; tail -n 20 "$WORK"/*/log; die "not every node serves $probe"; }
done
say "converged in $(($(date +%s) - t0)) s"
for n in hub a b; do grep -h "AXFR from\|validated through" "$WORK/$n/log" | sed "s/^/  $n: /" | cut -c 1-250; done

# --- 3. changes --------------------------------------------------------------------------------
measure() { # version owner-number what
	local v=$1 num=$2 what=$3 name
	name=$(owner "$num")
	sleep 2 # past the secondaries' one-refresh-a-second guard of the last transfer
	cp "$CACHE/a.v$v.signed" "$WORK/a/zone.tmp" && mv "$WORK/a/zone.tmp" "$WORK/a/zone"
	kill -HUP "${PID[a]}"
	# shellcheck disable=SC2086
	"$PY" "$WORK/poll.py" "$name" "v=$v" "$MAXWAIT" $nodes >"$WORK/v$v.out"
	local ta th tb
	ta=$(awk '$1 == "a" { print $2 }' "$WORK/v$v.out")
	th=$(awk '$1 == "hub" { print $2 }' "$WORK/v$v.out")
	tb=$(awk '$1 == "b" { print $2 }' "$WORK/v$v.out")
	awk -v what="$what" -v v="$v" -v n="$N" -v a="$ta" -v h="$th" -v b="$tb" -v max="$MAXWAIT" '
		function ms(t) { return t == "none" ? "not within " max " s" : sprintf("%.0f ms", (t - a) * 1000) }
		BEGIN {
			if (a == "none") { printf "propagation: %s (version %s, %d numbers): member a did not serve it within %s s\n", what, v, n, max; exit }
			last = (h == "none" || b == "none") ? "none" : (h > b ? h : b)
			printf "propagation: %s (version %s, %d numbers): SIGHUP -> a serves it %.0f ms; " \
			       "a'"'"'s commit -> AD=1 at the hub %s, at b %s; last node %s\n",
			       what, v, n, a * 1000, ms(h), ms(b), ms(last) }'
	for n in a hub b; do
		grep -h "serial $v \|serial $((v - 1)) -> $v" "$WORK/$n/log" | sed "s/^/  $n: /" | cut -c 1-250
	done
}
measure 2 $CHANGE1 "one number changed"
measure 3 $CHANGE2_FROM "10,000 numbers changed"
