#!/usr/bin/env bash
# tests/bench/import.sh -- member-side import: a CSV of N numbers imported, signed and served
# by fedenumd, then one number ported (an IXFR-sized change, signed incrementally).
#
# Usage: tests/bench/import.sh [-n NUMBERS] [-a ecdsap256sha256|ed25519] [-F FEDENUMD]
#                              [-C FEDENUMCTL] [-k]
#   -n N   numbers (default 1000000, at most 10000000): up to 1,000,000 +15552000000 upwards,
#          zone 2.5.5.5.1.e164.fed.; above, +15550000000 upwards, zone 5.5.5.1.e164.fed.
#          (10,000,000 is FE_SIGN_CSV_MAX_ROWS; tests/bench/scale.sh has the 10M figures)
#   -a     key algorithm (default ecdsap256sha256)
#   -k     keep the work folder
# Prints, for the import and for the port: wall time (from fedenumctl's start to its answer),
# fedenumd's CPU time (user+sys, from /proc: on an idle 2-core machine wall ~ CPU / 2 for the
# parallel part), the node's own split (read, sign, signatures, store), RRsets signed again,
# the first answer with its RRSIG, the load average before and after (the machine is shared:
# say how busy it was), and fedenumd's resident memory. Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=1000000
alg=ecdsap256sha256
fedenumd=${FEDENUMD:-build/fedenumd}
fedenumctl=${FEDENUMCTL:-build/fedenumctl}
keep=0
while getopts "n:a:F:C:kh" o; do
	case $o in
	n) n=$OPTARG ;;
	a) alg=$OPTARG ;;
	F) fedenumd=$OPTARG ;;
	C) fedenumctl=$OPTARG ;;
	k) keep=1 ;;
	*) sed -n '2,15p' "$0"; exit 2 ;;
	esac
done
fedenumd=$(realpath "$fedenumd")
fedenumctl=$(realpath "$fedenumctl")
work=$(mktemp -d /tmp/fedenum-import-bench-XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	if [ "$keep" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
cd "$work"
if [ "$n" -gt 10000000 ] || [ "$n" -lt 1 ]; then
	echo "import.sh: -n 1..10000000" >&2
	exit 2
fi
# the zone's prefix: 6 digits below +15552 up to 1M numbers, 7 below +1555 above
if [ "$n" -le 1000000 ]; then
	apex=2.5.5.5.1.e164.fed. prefix=15552 digits=6
else
	apex=5.5.5.1.e164.fed. prefix=1555 digits=7
fi
num1=${prefix}$(printf "%0${digits}d" 1) # the number the script asks for and ports
name1=$(echo "$num1" | rev | sed 's/./&./g')e164.fed
echo "making $n numbers..."
{
	echo "number,service,uri"
	seq -f "%0${digits}.0f" 0 $((n - 1)) |
		awk -v p="$prefix" '{printf "+%s%s,E2U+sip,sip:+%s%s@ims-b.example;user=phone\n",p,$1,p,$1}'
} >numbers.csv
mkdir -m 700 keys
"$fedenumctl" key generate --algorithm "$alg" --key-dir keys "$apex" >/dev/null
cat >fedenumd.conf <<EOF
server: { listen = ["127.0.0.1@0"]; }
store: { path = "$work/store"; }
control: { socket = "$work/ctl.sock"; timeout-ms = 600000; }
signing: { key-dir = "keys"; ns = ["ns1.ims-b.example.", "ns2.ims-b.example."]; }
EOF
"$fedenumd" -c fedenumd.conf --ready-file ready --foreground 2>fedenumd.log &
pid=$!
for _ in $(seq 100); do [ -s ready ] && break; sleep 0.1; done
port=$(awk '/udp/{print $3}' ready)
cpu() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$pid/stat"; }
now() { date +%s.%N; }
run() { # label, fedenumctl args...
	local label=$1
	shift
	local l0 c0 t0 t1 c1
	l0=$(cut -d' ' -f1-3 /proc/loadavg)
	c0=$(cpu)
	t0=$(now)
	"$fedenumctl" "$@" --json --timeout 86400000 --socket ctl.sock >"$label.json"
	t1=$(now)
	c1=$(cpu)
	python3 - "$label" "$t0" "$t1" "$c0" "$c1" "$l0" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import json, sys
label, t0, t1, c0, c1, l0, l1 = sys.argv[1:]
r = json.load(open(label + ".json"))
wall = float(t1) - float(t0)
print(f"{label}: wall {wall:.1f} s, fedenumd CPU {float(c1) - float(c0):.1f} s; node: read "
      f"{r['read_seconds']:.1f} s, sign {r['sign_seconds']:.1f} s (signatures "
      f"{r['signatures_seconds']:.1f} s, {r['threads']} threads), store "
      f"{r['store_seconds']:.1f} s; {r['rrsets_resigned']} of {r['rrsets']} RRsets signed, "
      f"{r['signatures']} RRSIGs; signing {100 * r['sign_seconds'] / wall:.0f}% of the wall "
      f"time; load average {l0} before, {l1} after")
PY
}
run import zone import "$apex" numbers.csv
dig +dnssec +norec @127.0.0.1 -p "$port" "$name1" NAPTR | grep -E "NAPTR|RRSIG" | grep -v '^;' | head -2
run port number port "$apex" "+$num1" --rn +15553999999
dig +norec @127.0.0.1 -p "$port" "$name1" NAPTR +short
grep -E "signing: |loaded:" fedenumd.log | tail -4
echo "fedenumd resident memory: $(ps -o rss= -p "$pid") KiB"
