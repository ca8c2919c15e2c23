#!/usr/bin/env bash
# tests/bench/ondemand.sh -- CPU per answer of on-demand cache hits against the same names
# from a held zone (docs/benchmarks.md "On-demand peering").
#
# Usage: tests/bench/ondemand.sh [-F FEDENUMD] [-l SECONDS] [-r ROUNDS]
#
# The test federation of tests/integration/data/trust (TEST-ONLY keys): the registry
# e164.test. with its glue on 127.0.0.5, member A's zone (+15551, five numbers) served by a
# fedenumd on 127.0.0.5. Two nodes under test on 127.0.0.1, one worker each, validating:
#   held     : the registry and member A's zone (replicated data), the policy engine on;
#   ondemand : the registry only, policy.on-demand for +15551; the five names are resolved
#              once (a priming query each), then every query is a cache hit.
# dnsperf asks the five NAPTRs with DO=1 for SECONDS, ROUNDS times per node, alternating; the
# node's CPU time (utime+stime from /proc) over the run gives µs per answer.
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FEDENUMD=${FEDENUMD:-$TOP/build/fedenumd}
LEN=5
ROUNDS=3
while getopts "F:l:r:" o; do
	case $o in
	F) FEDENUMD=$OPTARG ;;
	l) LEN=$OPTARG ;;
	r) ROUNDS=$OPTARG ;;
	*) exit 2 ;;
	esac
done
TRUST=$TOP/tests/integration/data/trust
for t in dnsperf kdig ldns-signzone; do
	command -v $t >/dev/null || { echo "$t not found" >&2; exit 1; }
done
W=$(mktemp -d /tmp/fedenum-odbench-XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PM=$(port)
PH=$(port)
PO=$(port)

cd "$W"
sed -e 's/192\.0\.2\.101/127.0.0.5/' "$TRUST/src/registry-v1.zone" >reg.zone
ldns-signzone -n -a 1 -t 0 -i 20260101000000 -e 20360101000000 -o e164.test. -f reg.signed \
	reg.zone "$TRUST/keys/reg-ksk" "$TRUST/keys/reg-zsk"
mkdir -p m held od
"$FEDENUMD" --listen 127.0.0.5@"$PM" --db m/db --workers 1 --zone reg.signed \
	--zone "$TRUST/a-v1.signed" --control m/ctl.sock 2>m/log &
pids+=($!)
node() { # NAME PORT ZONES POLICY
	cat >"$1/federation.conf" <<EOF
name = "bench";
trust-anchors = ["$TRUST/e164.test.ds"];
members = ( { name = "registry"; role = "registry"; }, { name = "a"; prefixes = ["+15551"]; } );
zones = ( $3 );
$4
EOF
	cat >"$1/fedenumd.conf" <<EOF
federation = "federation.conf";
server: { listen = ["127.0.0.1@$2"]; workers = 1; };
store: { path = "$W/$1/db"; };
control: { socket = "$W/$1/ctl.sock"; };
log: { level = "info"; };
EOF
	"$FEDENUMD" -c "$1/fedenumd.conf" 2>"$1/log" &
	pids+=($!)
	LASTPID=$!
}
REGZ="{ apex = \"e164.test.\"; member = \"registry\"; file = \"$W/reg.signed\"; }"
AZ="{ apex = \"1.5.5.5.1.e164.test.\"; member = \"a\"; file = \"$TRUST/a-v1.signed\"; }"
node held "$PH" "$REGZ, $AZ" "policy = { outside = \"refused\"; };"
HELD=$LASTPID
node od "$PO" "$REGZ" "policy = { on-demand = { prefixes = [\"+15551\"]; servers = [\"127.0.0.5@$PM\"]; port = $PM; }; };"
OD=$LASTPID
: >q.txt
for i in 1 2 3 4 5; do echo "$i.0.0.0.0.0.1.5.5.5.1.e164.test. NAPTR" >>q.txt; done
ok() { kdig @127.0.0.1 -p "$1" +dnssec +retry=0 +timeout=2 "$2" NAPTR 2>/dev/null | grep -qi 'flags: qr rd ra ad'; }
for p in "$PH" "$PO"; do
	for n in $(seq 1 100); do ok "$p" 1.0.0.0.0.0.1.5.5.5.1.e164.test. && break; sleep 0.1; done
	for i in 1 2 3 4 5; do ok "$p" "$i.0.0.0.0.0.1.5.5.5.1.e164.test." || {
		echo "node on port $p does not answer +1555100000$i validated" >&2; for f in */log; do echo "== $f"; tail -n 20 "$f"; done >&2; exit 1; }; done
done
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
tck=$(getconf CLK_TCK)
run() { # PID PORT
	local c0 c1 out q
	c0=$(cpu "$1")
	out=$(dnsperf -s 127.0.0.1 -p "$2" -d q.txt -D -l "$LEN" -c 4 -q 50 2>&1)
	c1=$(cpu "$1")
	q=$(echo "$out" | awk '/Queries completed/{print $3}')
	echo "$out" | grep -q 'NOERROR [0-9]* (100' || echo "  (not all NOERROR: $(echo "$out" | grep -A3 'Response codes'))"
	awk -v c=$((c1 - c0)) -v t="$tck" -v q="$q" -v l="$LEN" \
		'BEGIN{printf "%9.0f q/s  %6.2f us CPU/answer\n", q / l, c / t * 1e6 / q}'
}
for r in $(seq 1 "$ROUNDS"); do
	printf "round %d held     " "$r"; run "$HELD" "$PH"
	printf "round %d ondemand " "$r"; run "$OD" "$PO"
done
echo "ondemand counters: $(kill -USR1 "$OD"; sleep 0.3; grep -a 'on-demand:' od/log | tail -1 | sed 's/.*on-demand: //')"
