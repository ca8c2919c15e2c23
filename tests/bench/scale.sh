#!/usr/bin/env bash
# tests/bench/scale.sh -- fedenumd with N numbers (default 10,000,000) in one signed zone in
# one store: import, store size, RSS while serving, CPU per answered query, restart to first
# validated answer; then the same zone, exported as a master file, in Knot DNS and NSD.
#
# Usage: tests/bench/scale.sh [options] [PHASE...]
#   PHASE     any of gen split import serve restart export knot nsd clean (default: gen import
#             serve restart export knot nsd; split: only cut the CSV into the -z 10 zones),
#             in that order; later phases reuse the work folder of earlier ones
#   -n N      numbers (default 10000000, at most 10000000: FE_SIGN_CSV_MAX_ROWS)
#   -z 1|10   the numbers in one zone, 5.5.1.e164.fed. (default), or in ten zones of the same
#             store, D.5.5.1.e164.fed. for D = 0..9 (+155D...: about N/10 numbers each; the
#             CSV and the queries are the same). A single 10M-number import needed more than
#             17 GB of memory here (docs/benchmarks.md), hence -z 10
#   -w DIR    work folder (default /var/tmp/fedenum-scale): CSV, keys, store, exported zone
#   -F PATH   fedenumd (default $FEDENUMD or build/fedenumd); -C PATH fedenumctl
#   -r R      restarts of each kind (default 5)
#   -R ROUNDS dnsperf rounds per server (default 3); -l SECONDS per round (default 10)
#   -T SECS   time limit for Knot's and NSD's start (default 900)
#   -M MIB    memory limit (VmRSS summed over the process tree) for the import, Knot and NSD
#             (default 16384): above it the process is killed and the phase reports it
#   -o FILE   results (default WORK/results.txt; lines are appended)
#
# The zone (apex 5.5.1.e164.fed.): numbers +155 BBBBB NNN in thousands-blocks, 600 of each
# block's 1000 numbers used, blocks scattered over the 10^5 (like tests/lib/gen-enum-zone.sh);
# 90% E2U+sip, 10% E2U+pstn:tel with npdi;rn=. Signed by fedenumd itself (`fedenumctl key
# generate`, `fedenumctl zone import`): ECDSA P-256 KSK + ZSK, NSEC3 (RFC 9276 parameters).
# Queries (dnsperf, DO=1): 1,000,000 lines, 90% hits drawn uniformly from all N numbers, 10%
# misses (unused numbers of used blocks: NXDOMAIN with NSEC3).
#
# fedenumd runs with one worker (`--workers 1`, like the other servers here and in run.sh),
# without trust anchors (a trust anchor would make the import validate every signature again:
# 2.2 x N verifications); "validated" answers are checked by the probe instead: the first
# answer counts only when its NAPTR is the expected one and its RRSIG verifies with the zone's
# DNSKEY RRset (dnspython), see scale_probe.py.
# CPU per answered query: utime+stime of the server's process tree over a dnsperf run (as in
# run.sh) / answered queries. Everything runs under the caller's nice level; the load average
# is printed before and after every measurement (the machine may be shared).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/tests/bench
N=10000000 ZONES=1 WORK=/var/tmp/fedenum-scale RESTARTS=5 ROUNDS=3 LEN=10 TLIM=900 MLIM=16384 OUT=""
FEDENUMD=${FEDENUMD:-$ROOT/build/fedenumd}
FEDENUMCTL=${FEDENUMCTL:-$ROOT/build/fedenumctl}
while getopts "n:z:w:F:C:r:R:l:T:M:o:h" opt; do
	case $opt in
	n) N=$OPTARG ;;
	z) ZONES=$OPTARG ;;
	w) WORK=$OPTARG ;;
	F) FEDENUMD=$OPTARG ;;
	C) FEDENUMCTL=$OPTARG ;;
	r) RESTARTS=$OPTARG ;;
	R) ROUNDS=$OPTARG ;;
	l) LEN=$OPTARG ;;
	T) TLIM=$OPTARG ;;
	M) MLIM=$OPTARG ;;
	o) OUT=$OPTARG ;;
	*)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 2
		;;
	esac
done
shift $((OPTIND - 1))
PHASES=("$@")
[ ${#PHASES[@]} -gt 0 ] || PHASES=(gen import serve restart export knot nsd)
case $ZONES in 1 | 10) ;; *) echo "scale: -z 1 or 10" >&2; exit 2 ;; esac
if [ "$N" -lt 1 ] || [ "$N" -gt 10000000 ]; then
	echo "scale: -n 1..10000000" >&2
	exit 2
fi
FEDENUMD=$(realpath "$FEDENUMD")
FEDENUMCTL=$(realpath "$FEDENUMCTL")
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
OUT=${OUT:-$WORK/results.txt}
PY=/usr/bin/python3
PROBE=$HERE/scale_probe.py
APEX=5.5.1.e164.fed.
APEXES=("$APEX")
[ "$ZONES" = 10 ] && APEXES=({0..9}.5.5.1.e164.fed.)
HZ=$(getconf CLK_TCK)
LOCK=$WORK/scale.lock
exec 9>"$LOCK"
flock -n 9 || {
	echo "scale: another scale.sh runs on $WORK" >&2
	exit 1
}

say() { echo "$*" | tee -a "$OUT"; }
log() { echo "scale: $*" >&2; }
die() {
	echo "scale: error: $*" >&2
	exit 1
}
load() { cut -d' ' -f1-3 /proc/loadavg; }
now() { date +%s.%N; }
ticks() { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat"; } # a process and its threads
tree_ticks() {
	{ cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v root="$1" '
	{ pid = $1; line = $0; sub(/^.*\) /, "", line); split(line, f, " ")
	  ppid[pid] = f[2]; t[pid] = f[12] + f[13] + f[14] + f[15] }
	END { in_tree[root] = 1; changed = 1
	  while (changed) { changed = 0
	    for (p in ppid) if (!(p in in_tree) && (ppid[p] in in_tree)) { in_tree[p] = 1; changed = 1 } }
	  for (p in in_tree) sum += t[p]; print sum + 0 }'
}
tree_mem() { # "RSS HWM" MiB summed over the tree
	local p rss=0 hwm=0 r h
	for p in $(ps -e -o pid=,ppid= | awk -v root="$1" '{ pp[$1] = $2 }
		END { t[root] = 1; c = 1; while (c) { c = 0; for (p in pp) if (!(p in t) && (pp[p] in t)) { t[p] = 1; c = 1 } }
		      for (p in t) print p }'); do
		r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
		h=$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
		rss=$((rss + ${r:-0}))
		hwm=$((hwm + ${h:-0}))
	done
	echo "$((rss / 1024)) $((hwm / 1024))"
}
free_port() {
	"$PY" -c 'import random, socket
lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(1000):
    p = random.randrange(min(20000, lo - 1000), lo)
    try:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", p))
        t = socket.socket(); t.bind(("127.0.0.1", p))
    except OSError:
        continue
    print(p); break'
}

PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The probe names: for each zone its first E2U+sip number of the CSV ("NAMES" and "EXPECTS",
# comma-separated, for scale_probe.py), made by the gen phase.
probes() {
	[ -s "$WORK/probes.txt" ] || die "no probes.txt: run the gen phase"
	PROBE_NAME=$(cut -d' ' -f1 "$WORK/probes.txt" | paste -sd,)
	PROBE_EXPECT=$(cut -d' ' -f2 "$WORK/probes.txt" | paste -sd,)
}

# --- gen: CSV and queries ---------------------------------------------------------------------
phase_gen() {
	local AWK=awk t0
	command -v mawk >/dev/null && AWK=mawk
	t0=$(now)
	# shellcheck disable=SC2016
	$AWK -v n="$N" -v out="$WORK" -v q=1000000 '
	function num(b, j) { return sprintf("155%05d%03d", (b * 7919 + 101) % 100000, (j * 379 + b * 13) % 1000) }
	function owner(d,   s, k) { s = ""; for (k = length(d); k >= 1; k--) s = s substr(d, k, 1) "."; return s "e164.fed." }
	BEGIN {
		c = out "/numbers.csv"
		print "number,service,uri" > c
		for (i = 0; i < n; i++) {
			d = num(int(i / 600), i % 600)
			if (i % 10 == 3)
				printf "+%s,E2U+pstn:tel,tel:+%s;npdi;rn=+1559%s\n", d, d, substr(d, 6) > c
			else
				printf "+%s,E2U+sip,sip:+%s@ims-b.example;user=phone\n", d, d > c
		}
		close(c)
		srand(1)
		nb = int((n + 599) / 600)
		qf = out "/queries.tmp"
		for (k = 0; k < q; k++) {
			if (k % 10 == 9) {        # miss: an unused offset (600..999) of a used block
				b = int(rand() * nb); j = 600 + int(rand() * 400)
			} else {
				i = int(rand() * n); b = int(i / 600); j = i % 600
			}
			printf "%.9f %s NAPTR\n", rand(), owner(num(b, j)) > qf
		}
		close(qf)
	}'
	sort -S 10% -k1,1 "$WORK/queries.tmp" | cut -d' ' -f2- >"$WORK/queries.txt"
	rm -f "$WORK/queries.tmp"
	phase_split
	log "gen: $N numbers, $(du -m "$WORK/numbers.csv" | cut -f1) MiB CSV, in $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }') s"
}

phase_split() { # the per-zone CSVs and the probe names, from numbers.csv
	local AWK=awk
	command -v mawk >/dev/null && AWK=mawk
	rm -f "$WORK"/numbers.?.csv
	if [ "$ZONES" = 10 ]; then # split by the digit after +155
		# shellcheck disable=SC2016 # awk, not shell
		$AWK -v out="$WORK" -F, 'NR == 1 { for (d = 0; d < 10; d++) print > (out "/numbers." d ".csv"); next }
			{ print > (out "/numbers." substr($1, 5, 1) ".csv") }' "$WORK/numbers.csv"
	fi
	# the first E2U+sip number of each zone
	# shellcheck disable=SC2016
	$AWK -F, -v z="$ZONES" 'NR > 1 && $2 == "E2U+sip" { k = z == 10 ? substr($1, 5, 1) : 0
			if (!(k in seen)) { seen[k] = 1; d = substr($1, 2); o = ""
				for (i = length(d); i >= 1; i--) o = o substr(d, i, 1) "."
				print o "e164.fed. sip:" $1 "@" } }' "$WORK/numbers.csv" | sort >"$WORK/probes.txt"
}

# --- fedenumd ---------------------------------------------------------------------------------
FPORT_FILE=$WORK/fedenumd.port
fed_conf() {
	local port
	if [ -s "$FPORT_FILE" ]; then port=$(cat "$FPORT_FILE"); else
		port=$(free_port)
		echo "$port" >"$FPORT_FILE"
	fi
	cat >"$WORK/fedenumd.conf" <<EOF
server: { listen = ["127.0.0.1@$port"]; }
store: { path = "$WORK/store"; map-size-mb = 131072; }
control: { socket = "$WORK/ctl.sock"; timeout-ms = 600000; }
signing: { key-dir = "$WORK/keys"; ns = ["ns1.ims-b.example.", "ns2.ims-b.example."]; validity-days = 30; }
log: { level = "info"; };
EOF
	FED_CMD=("$FEDENUMD" -c "$WORK/fedenumd.conf" --workers 1 --foreground)
	FPORT=$port
}
FPID=""
fed_start() {
	probes # start fedenumd, wait for its first validated answer (or just listening: $1 = any)
	local what=${1:-answer} out keys=-
	[ -s "$WORK/dnskey.txt" ] && keys=$WORK/dnskey.txt
	if [ "$what" = any ]; then
		"${FED_CMD[@]}" >>"$WORK/fedenumd.log" 2>&1 &
		FPID=$!
		PIDS+=("$FPID")
		for _ in $(seq 300); do [ -S "$WORK/ctl.sock" ] && "$FEDENUMCTL" status --socket "$WORK/ctl.sock" >/dev/null 2>&1 && return 0; sleep 0.1; done
		die "fedenumd did not start (log: $WORK/fedenumd.log)"
	fi
	out=$("$PY" "$PROBE" start "$FPORT" "$PROBE_NAME" "$PROBE_EXPECT" 120 "$WORK/fedenumd.log" 0 "$keys" -- "${FED_CMD[@]}") || {
		FPID=${out%% *}
		die "fedenumd: no answer ($out)"
	}
	FPID=${out%% *}
	PIDS+=("$FPID")
	FED_START_S=$(echo "$out" | cut -d' ' -f2)
}
fed_stop() { # TERM (default) or KILL
	local sig=${1:-TERM}
	[ -n "$FPID" ] || return 0
	kill "-$sig" "$FPID" 2>/dev/null || true
	for _ in $(seq 600); do kill -0 "$FPID" 2>/dev/null || break; sleep 0.05; done
	kill -0 "$FPID" 2>/dev/null && die "fedenumd $FPID did not exit after SIG$sig"
	FPID=""
}

csv_of() { # apex -> its CSV
	if [ "$ZONES" = 10 ]; then echo "$WORK/numbers.${1%%.*}.csv"; else echo "$WORK/numbers.csv"; fi
}
phase_import() {
	[ -s "$WORK/numbers.csv" ] || die "no CSV: run the gen phase"
	rm -rf "$WORK/store" "$WORK/keys" "$WORK"/dnskey*.txt "$WORK/ctl.sock" "$WORK"/import.*.json "$WORK/ds.txt"
	local a
	for a in "${APEXES[@]}"; do
		"$FEDENUMCTL" key generate --key-dir "$WORK/keys" "$a" >>"$WORK/ds.txt"
	done
	fed_conf
	fed_start any
	local l0 c0 t0 t1 c1 l1 peak=0 m stop=0 cpid tz0 tz1 cz0 cz1
	l0=$(load)
	c0=$(ticks "$FPID")
	t0=$(now)
	for a in "${APEXES[@]}"; do
		tz0=$(now)
		cz0=$(ticks "$FPID")
		"$FEDENUMCTL" zone import --json --timeout 86400000 --socket "$WORK/ctl.sock" "$a" \
			"$(csv_of "$a")" >"$WORK/import.$a.json" 2>"$WORK/import.err" &
		cpid=$!
		# watch the node's memory while it imports
		while kill -0 "$cpid" 2>/dev/null; do
			m=$(awk '/^VmRSS:/ { print int($2 / 1024) }' "/proc/$FPID/status")
			[ "$m" -gt "$peak" ] && peak=$m
			if [ "$m" -gt "$MLIM" ]; then
				kill -KILL "$FPID"
				stop=1
				break
			fi
			sleep 1
		done
		wait "$cpid" || true
		tz1=$(now)
		if [ $stop = 1 ]; then
			say "import of $a: STOPPED at $(awk -v a="$t0" -v b="$tz1" 'BEGIN { printf "%.0f", b - a }') s: fedenumd RSS ${m} MiB > limit $MLIM MiB ($(du -k "$WORK/store/data.mdb" | cut -f1) KiB written to data.mdb); load average $l0 before, $(load) now"
			exit 1
		fi
		cz1=$(ticks "$FPID")
		"$PY" - "$WORK/import.$a.json" "$tz0" "$tz1" "$cz0" "$cz1" "$HZ" "$a" "$(load)" <<'PY' | tee -a "$OUT"
import json, sys
f, t0, t1, c0, c1, hz, apex, l1 = sys.argv[1:]
r = json.load(open(f))
r = r.get("result", r)
wall = float(t1) - float(t0)
cpu = (float(c1) - float(c0)) / float(hz)
print(f"  import {apex}: {r.get('numbers')} numbers, wall {wall:.1f} s, CPU {cpu:.1f} s; read {r['read_seconds']:.1f} s, "
      f"sign {r['sign_seconds']:.1f} s (signatures {r['signatures_seconds']:.1f} s), store {r['store_seconds']:.1f} s; "
      f"{r['signatures']} RRSIGs; load average {l1}")
PY
	done
	t1=$(now)
	l1=$(load)
	c1=$(ticks "$FPID")
	local hwm
	hwm=$(awk '/^VmHWM:/ { print int($2 / 1024) }' "/proc/$FPID/status")
	"$PY" - "$t0" "$t1" "$c0" "$c1" "$HZ" "$l0" "$l1" "$hwm" "$WORK"/import.*.json <<'PY' | tee -a "$OUT"
import json, sys
t0, t1, c0, c1, hz, l0, l1, hwm = sys.argv[1:9]
tot = {"numbers": 0, "read_seconds": 0, "sign_seconds": 0, "signatures_seconds": 0,
       "store_seconds": 0, "signatures": 0, "rrsets": 0}
for f in sys.argv[9:]:
    r = json.load(open(f))
    r = r.get("result", r)
    for k in tot:
        tot[k] += r[k]
wall = float(t1) - float(t0)
cpu = (float(c1) - float(c0)) / float(hz)
print(f"import (all zones, one after the other): {tot['numbers']} numbers, {tot['rrsets']} RRsets, "
      f"{tot['signatures']} RRSIGs; wall {wall:.1f} s, fedenumd CPU {cpu:.1f} s (user+sys, all "
      f"threads); node: read {tot['read_seconds']:.1f} s, sign {tot['sign_seconds']:.1f} s "
      f"(signatures {tot['signatures_seconds']:.1f} s), store {tot['store_seconds']:.1f} s; signing "
      f"{100 * tot['sign_seconds'] / wall:.0f}% of the wall time; fedenumd peak RSS (VmHWM) {hwm} MiB; "
      f"load average {l0} before, {l1} after")
PY
	: >"$WORK/dnskey.txt"
	for a in "${APEXES[@]}"; do
		"$PY" "$PROBE" dnskey "$FPORT" "$a" "$WORK/dnskey.$a.txt"
		cat "$WORK/dnskey.$a.txt" >>"$WORK/dnskey.txt"
	done
	probes
	"$PY" "$PROBE" ask "$FPORT" "$PROBE_NAME" "$PROBE_EXPECT" "$WORK/dnskey.txt" ||
		die "the probes' answers do not validate"
	fed_stop TERM
	phase_size
}

phase_size() {
	local db=$WORK/store
	say "store: $(du -sm "$db" | cut -f1) MiB on disk (du -sm of the store folder); data.mdb $(du -m "$db/data.mdb" | cut -f1) MiB allocated, $(du -m --apparent-size "$db/data.mdb" | cut -f1) MiB apparent (sparse: map-size-mb 131072); the kept CSV $(du -m "$db/signing" | tail -1 | cut -f1) MiB (STORE/signing)"
}

perf_run() { # label pid port seconds -> appends "label qps cpu_us lat_ms done lost noerror nx other resp"
	local label=$1 pid=$2 port=$3 secs=$4 t0 t1 out=$WORK/dnsperf.$1.txt
	t0=$(tree_ticks "$pid")
	dnsperf -d "$WORK/queries.txt" -s 127.0.0.1 -p "$port" -D -c 8 -T 1 -q 100 -l "$secs" -t 2 >"$out" 2>&1 ||
		die "dnsperf failed ($out)"
	t1=$(tree_ticks "$pid")
	awk -v s="$label" -v ticks=$((t1 - t0)) -v hz="$HZ" '
	/Queries completed:/ { done = $3 } /Queries lost:/ { lost = $3 }
	/Response codes:/ { line = $0; sub(/.*Response codes: */, "", line); n = split(line, parts, ", ")
		for (i = 1; i <= n; i++) { split(parts[i], kv, " ")
			if (kv[1] == "NOERROR") ne = kv[2]; else if (kv[1] == "NXDOMAIN") nx = kv[2]; else other += kv[2] } }
	/Average packet size:/ { resp = $NF } /Queries per second:/ { qps = $4 } /Average Latency/ { lat = $4 * 1000 }
	END { printf "%s %.0f %.2f %.3f %d %d %d %d %d %s\n", s, qps, ticks / hz * 1e6 / (done ? done : 1), lat, done, lost, ne, nx, other + 0, resp }' "$out"
}
serve_measure() { # name pid port
	local name=$1 pid=$2 port=$3 l0 l1 r line
	l0=$(load)
	perf_run "$name.warm" "$pid" "$port" 3 >/dev/null
	for ((r = 1; r <= ROUNDS; r++)); do
		line=$(perf_run "$name.$r" "$pid" "$port" "$LEN")
		say "  dnsperf $line"
	done
	l1=$(load)
	say "$name: RSS/HWM $(tree_mem "$pid" | tr ' ' /) MiB after the dnsperf runs; load average $l0 before, $l1 after"
	say "  (columns: run q/s CPU-us/answer latency-ms answered lost NOERROR NXDOMAIN other resp-bytes)"
}

phase_serve() {
	fed_conf
	local l0
	l0=$(load)
	fed_start
	say "fedenumd: started on the stored zone, first validated answer after $FED_START_S s, RSS/HWM $(tree_mem "$FPID" | tr ' ' /) MiB before any load; load average $l0"
	serve_measure fedenumd "$FPID" "$FPORT"
	fed_stop TERM
}

phase_restart() {
	fed_conf
	[ -s "$WORK/dnskey.txt" ] || die "no DNSKEY saved: run the import phase"
	local kind i l0 times
	fed_start
	for kind in TERM KILL; do
		l0=$(load)
		times=""
		for ((i = 1; i <= RESTARTS; i++)); do
			fed_stop "$kind"
			sleep 1
			fed_start
			times="$times $FED_START_S"
		done
		say "restart after SIG$kind, same command line, same store: first validated answer after (s):$times; load average $l0 before, $(load) after"
	done
	fed_stop TERM
}

phase_export() {
	local t0 l0
	l0=$(load)
	t0=$(now)
	local a
	for a in "${APEXES[@]}"; do
		"$FEDENUMCTL" zone export --db "$WORK/store" "$a" >"$WORK/zone.$a.signed"
	done
	say "export: fedenumctl zone export of ${#APEXES[@]} zone(s) in $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }') s, $(cat "$WORK"/zone.*.signed | wc -c | awk '{ printf "%.0f", $1 / 1048576 }') MiB, $(cat "$WORK"/zone.*.signed | wc -l) lines; load average $l0 before, $(load) after"
}

other_server() { # knot|nsd
	local s=$1 dir=$WORK/$1 port out l0 cmd
	local a
	for a in "${APEXES[@]}"; do
		[ -s "$WORK/zone.$a.signed" ] || die "no exported zone $a: run the export phase"
	done
	probes
	rm -rf "$dir"
	mkdir -p "$dir"
	port=$(free_port)
	if [ "$s" = knot ]; then
		cat >"$dir/knot.conf" <<EOF
server:
    rundir: "$dir"
    listen: 127.0.0.1@$port
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$dir"
log:
  - target: "$dir/knot.log"
    any: info
template:
  - id: default
    storage: "$dir"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    semantic-checks: off
zone:
EOF
		for a in "${APEXES[@]}"; do
			printf '  - domain: "%s"\n    file: "%s"\n' "$a" "$WORK/zone.$a.signed" >>"$dir/knot.conf"
		done
		cmd=(knotd -c "$dir/knot.conf")
	else
		cat >"$dir/nsd.conf" <<EOF
server:
	ip-address: 127.0.0.1@$port
	do-ip6: no
	server-count: 1
	reuseport: no
	username: ""
	chroot: ""
	zonesdir: "$dir"
	database: ""
	zonelistfile: "$dir/zone.list"
	xfrdfile: "$dir/xfrd.state"
	xfrdir: "$dir"
	pidfile: "$dir/nsd.pid"
	logfile: "$dir/nsd.log"
	verbosity: 1
	rrl-ratelimit: 0
	rrl-whitelist-ratelimit: 0
	minimal-responses: yes
remote-control:
	control-enable: no
EOF
		for a in "${APEXES[@]}"; do
			printf 'zone:\n\tname: "%s"\n\tzonefile: "%s"\n' "$a" "$WORK/zone.$a.signed" >>"$dir/nsd.conf"
		done
		cmd=(nsd -d -c "$dir/nsd.conf")
	fi
	l0=$(load)
	log "$s: starting on the exported zone (limit $TLIM s, $MLIM MiB)"
	if out=$("$PY" "$PROBE" start "$port" "$PROBE_NAME" "$PROBE_EXPECT" "$TLIM" "$dir/out.log" "$MLIM" "$WORK/dnskey.txt" -- "${cmd[@]}"); then
		local pid=${out%% *}
		PIDS+=("$pid")
		say "$s: first validated answer after $(echo "$out" | cut -d' ' -f2) s (peak RSS seen while loading $(echo "$out" | cut -d' ' -f3) MiB, sampled every second); load average $l0 before, $(load) after"
		serve_measure "$s" "$pid" "$port"
		kill -TERM "$pid"
		for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	else
		say "$s: did not answer: $(echo "$out" | cut -d' ' -f2) after $(echo "$out" | cut -d' ' -f3) s, RSS of its process tree $(echo "$out" | cut -d' ' -f4) MiB at most (sampled every second); load average $l0 before, $(load) after; its log: $(tail -n 3 "$dir/out.log" "$dir"/*.log 2>/dev/null | tr '\n' ' ' | cut -c1-600)"
	fi
	rm -rf "$dir"/*.db "$dir"/data 2>/dev/null || true
}

phase_clean() {
	rm -rf "$WORK/store" "$WORK"/zone.*signed "$WORK"/numbers*.csv "$WORK/knot" "$WORK/nsd" "$WORK"/dnsperf.*.txt
}

say "== scale.sh $(date -u '+%Y-%m-%d %H:%M UTC'), N=$N in $ZONES zone(s), $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(free -g | awk '/^Mem:/ { print $2 " GiB RAM, " $7 " GiB available" }'), nice $(nice), fedenumd $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?'); phases: ${PHASES[*]}"
for ph in "${PHASES[@]}"; do
	case $ph in
	gen) phase_gen ;;
	split) phase_split ;;
	import) phase_import ;;
	size) phase_size ;;
	serve) phase_serve ;;
	restart) phase_restart ;;
	export) phase_export ;;
	knot | nsd) other_server "$ph" ;;
	clean) phase_clean ;;
	*) die "unknown phase $ph" ;;
	esac
done
