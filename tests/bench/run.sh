#!/usr/bin/env bash
# tests/bench/run.sh -- fedenumd vs NSD vs Knot DNS on one signed ENUM zone, with dnsperf.
#
# Usage: tests/bench/run.sh [options]
#   -n N            numbers in the zone (default 1000000)
#   -r ROUNDS       measured rounds per server (default 3)
#   -l SECONDS      length of one dnsperf run (default 10)
#   -c CLIENTS      dnsperf clients (sockets) (default 8)
#   -q OUTSTANDING  dnsperf queries outstanding (default 100)
#   -Q QPS          dnsperf rate limit (default: none, as fast as the server answers)
#   -s LIST         servers, comma-separated, any of fedenumd,nsd,knot (default all three)
#   -F PATH         the fedenumd binary (default $FEDENUMD or build/fedenumd)
#   -z DIR          zone cache (default $BENCH_CACHE or /var/tmp/fedenum-bench): the signed
#                   zone of N numbers is made there once by tests/lib/gen-enum-zone.sh and
#                   reused for 10 days
#   -o DIR          where the result table is saved (default build/bench)
#   -k              keep the work folder (configs, logs, LMDB) instead of deleting it
#   -P FILE         run fedenumd with the policy engine: FILE is the policy part of a
#                   federation.conf (`views`, `policy`, more `members` after the first), which
#                   the script completes with the zone (member "registry", domain = the apex)
#                   and passes as -c instead of --zone (docs/benchmarks.md). With the server
#                   fedenumd-policy in -s, that one runs with the policy and fedenumd without
#                   it: the same build in the same run, rounds alternating between the two
#
# What it does (issue #2 section 8, docs/benchmarks.md):
#   1. makes (or reuses) a signed zone of N numbers (algorithm 13, NSEC3 0 iterations) and a
#      query file: 90% hits, 10% misses (NXDOMAIN with NSEC3 proofs), all asked with DO=1;
#   2. starts each server on 127.0.0.1 with one worker thread, on its own port:
#        fedenumd --zone FILE --listen 127.0.0.1@PORT --db DIR --workers 1
#        nsd (server-count 1, rrl-ratelimit 0: Debian builds NSD with RRL)
#        knotd (udp-workers 1, tcp-workers 1, background-workers 1)
#      and reports each one's start-to-first-answer time and memory;
#   3. runs dnsperf -D against each server in turn, ROUNDS times, in a rotating order, after
#      one unmeasured warm-up run each; around every run it reads the CPU time (utime+stime,
#      own and reaped children) of the server's whole process tree from /proc, so the table
#      gives CPU microseconds per answered query besides queries/s, latency and losses;
#   4. restarts fedenumd on the same LMDB directory (SIGTERM, then the same command line) and
#      measures the time from exec to the first correct answer.
# All servers are stopped on exit, whatever happens (trap).
#
# Needs: dnsperf, nsd, knot (knotd), ldnsutils, python3-dnspython, and a built fedenumd.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
N=1000000 ROUNDS=3 LEN=10 CLIENTS=8 OUTSTANDING=100 QPS="" SERVERS=fedenumd,nsd,knot
FEDENUMD=${FEDENUMD:-$ROOT/build/fedenumd}
CACHE=${BENCH_CACHE:-/var/tmp/fedenum-bench}
RESULTS=$ROOT/build/bench
KEEP=0 POLICY=""
while getopts "n:r:l:c:q:Q:s:F:z:o:kP:h" opt; do
	case $opt in
	n) N=$OPTARG ;;
	r) ROUNDS=$OPTARG ;;
	l) LEN=$OPTARG ;;
	c) CLIENTS=$OPTARG ;;
	q) OUTSTANDING=$OPTARG ;;
	Q) QPS=$OPTARG ;;
	s) SERVERS=$OPTARG ;;
	F) FEDENUMD=$OPTARG ;;
	z) CACHE=$OPTARG ;;
	o) RESULTS=$OPTARG ;;
	k) KEEP=1 ;;
	P) POLICY=$(cd "$(dirname "$OPTARG")" && pwd)/$(basename "$OPTARG") ;;
	*)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 2
		;;
	esac
done
IFS=, read -r -a SERVER_LIST <<<"$SERVERS"
for s in "${SERVER_LIST[@]}"; do
	case $s in fedenumd | fedenumd-policy | nsd | knot) ;; *)
		echo "bench: unknown server '$s'" >&2
		exit 2
		;;
	esac
done
has_server() { [[ ",$SERVERS," == *",$1,"* ]]; }

log() { echo "bench: $*" >&2; }
die() {
	echo "bench: error: $*" >&2
	exit 1
}

# Debian's python3 has python3-dnspython; a python3 earlier in PATH (pyenv ...) may not.
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=python3
for tool in dnsperf "$PY" ldns-signzone; do
	command -v "$tool" >/dev/null || die "$tool not found"
done
has_server nsd && { command -v nsd >/dev/null || die "nsd not found (apt-get install nsd)"; }
has_server knot && { command -v knotd >/dev/null || die "knotd not found (apt-get install knot)"; }
has_server fedenumd-policy && [ -z "$POLICY" ] && die "fedenumd-policy needs -P FILE"
if has_server fedenumd || has_server fedenumd-policy; then
	[ -x "$FEDENUMD" ] || die "$FEDENUMD not found: build it (cmake -B build -G Ninja && ninja -C build fedenumd) or give -F"
	FEDENUMD=$(cd "$(dirname "$FEDENUMD")" && pwd)/$(basename "$FEDENUMD")
fi
"$PY" -c 'import dns.message' 2>/dev/null || die "python3-dnspython not installed for $PY"

WORK=$(mktemp -d /tmp/fedenum-bench.XXXXXX)
declare -A PID PORT
cleanup() {
	local s p
	for s in "${!PID[@]}"; do
		p=${PID[$s]}
		if [ -n "$p" ]; then kill -TERM "$p" 2>/dev/null || true; fi
	done
	for s in "${!PID[@]}"; do
		p=${PID[$s]}
		[ -n "$p" ] || continue
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
	done
	if [ $KEEP = 1 ]; then
		log "work folder kept: $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'echo "bench: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
trap 'exit 130' INT TERM

# --- helper in Python (dnspython): wait for an answer, time a start ---------------------------
cat >"$WORK/probe.py" <<'EOF'
import os, subprocess, sys, time
import dns.message, dns.query, dns.rcode

def answered(port, name):
    q = dns.message.make_query(name, "NAPTR", want_dnssec=True)
    try:
        r = dns.query.udp(q, "127.0.0.1", port=port, timeout=0.02)
    except Exception:
        return False
    return r.rcode() == dns.rcode.NOERROR and len(r.answer) > 0

def wait(port, name, limit):
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if answered(port, name):
            return time.monotonic() - t0
        time.sleep(0.005)
    return None

if sys.argv[1] == "wait":          # wait PORT NAME LIMIT -> seconds waited
    d = wait(int(sys.argv[2]), sys.argv[3], float(sys.argv[4]))
    if d is None:
        sys.exit(1)
    print("%.3f" % d)
elif sys.argv[1] == "start":       # start PORT NAME LIMIT LOG -- CMD... -> "PID SECONDS"
    port, name, limit, logf = int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), sys.argv[5]
    cmd = sys.argv[7:]
    out = open(logf, "ab")
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                         start_new_session=True)
    while time.monotonic() - t0 < limit:
        if answered(port, name):
            print(p.pid, "%.3f" % (time.monotonic() - t0))
            sys.exit(0)
        if p.poll() is not None:
            print(p.pid, "exited")
            sys.exit(1)
        time.sleep(0.002)
    print(p.pid, "timeout")
    sys.exit(1)
EOF
# A port below the kernel's ephemeral range (ip_local_port_range, 32768+ by default), so that
# no outgoing connection takes it while a server spends minutes loading before it binds.
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

# --- /proc readings ---------------------------------------------------------------------------
# Clock ticks of the process tree under $1: utime+stime+cutime+cstime of every process in it
# (cutime/cstime hold the time of children it has reaped; live children count themselves).
tree_ticks() {
	# (cat fails when a process exits between the glob and the read: not an error here)
	{ cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v root="$1" '
	{
		pid = $1; line = $0; sub(/^.*\) /, "", line); split(line, f, " ")
		ppid[pid] = f[2]; t[pid] = f[12] + f[13] + f[14] + f[15]
	}
	END {
		in_tree[root] = 1; changed = 1
		while (changed) {
			changed = 0
			for (p in ppid) if (!(p in in_tree) && (ppid[p] in in_tree)) { in_tree[p] = 1; changed = 1 }
		}
		for (p in in_tree) sum += t[p]
		print sum + 0
	}'
}
tree_pids() {
	ps -e -o pid=,ppid= | awk -v root="$1" '
	{ ppid[$1] = $2 }
	END {
		in_tree[root] = 1; changed = 1
		while (changed) {
			changed = 0
			for (p in ppid) if (!(p in in_tree) && (ppid[p] in in_tree)) { in_tree[p] = 1; changed = 1 }
		}
		for (p in in_tree) print p
	}'
}
# "RSS_MiB HWM_MiB" summed over the tree
tree_mem() {
	local p rss=0 hwm=0 r h
	for p in $(tree_pids "$1"); do
		r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
		h=$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
		rss=$((rss + ${r:-0}))
		hwm=$((hwm + ${h:-0}))
	done
	echo "$((rss / 1024)) $((hwm / 1024))"
}
HZ=$(getconf CLK_TCK)

# --- 1. zone ----------------------------------------------------------------------------------
ZDIR=$CACHE/n$N
mkdir -p "$ZDIR"
log "zone of $N numbers in $ZDIR (made once, then reused)"
"$ROOT/tests/lib/gen-enum-zone.sh" "$N" "$ZDIR" --sign nsec3 --reuse
# shellcheck disable=SC1091
. "$ZDIR/info.env"
log "zone: generated in ${GEN_SECONDS}s, signed in ${SIGN_SECONDS}s ($(du -m "$ZONE_FILE" | cut -f1) MiB)"
PROBE=$(head -n1 "$ZDIR/hits.txt")

# --- 2. servers -------------------------------------------------------------------------------
declare -A START_S MEM
start_server() { # name
	local s=$1 dir="$WORK/$1" port out
	mkdir -p "$dir"
	port=$(free_port)
	PORT[$s]=$port
	local cmd=()
	case $s in
	fedenumd | fedenumd-policy)
		cmd=("$FEDENUMD" --zone "$ZONE_FILE" --listen "127.0.0.1@$port" --db "$dir/db" --workers 1)
		if [ -n "$POLICY" ] && { [ "$s" = fedenumd-policy ] || ! has_server fedenumd-policy; }; then
			{
				echo "name = \"bench\";"
				echo "clients = [\"127.0.0.0/8\"];"
				echo "zones = ( { apex = \"$APEX\"; member = \"registry\"; file = \"$ZONE_FILE\"; } );"
				echo "members = ( { name = \"registry\"; role = \"registry\"; domains = [\"$APEX\"]; }"
				cat "$POLICY"
			} >"$dir/federation.conf"
			printf 'federation = "federation.conf";\nlog: { level = "warn"; };\n' >"$dir/fedenumd.conf"
			cmd=("$FEDENUMD" -c "$dir/fedenumd.conf" --listen "127.0.0.1@$port" --db "$dir/db" --workers 1)
		fi
		;;
	nsd)
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
	# Debian's NSD is built with --enable-ratelimit; 0 turns response rate limiting off.
	rrl-ratelimit: 0
	rrl-whitelist-ratelimit: 0
	# Like Knot and fedenumd: no NS RRset in the authority section of positive answers.
	minimal-responses: yes
remote-control:
	control-enable: no
zone:
	name: "$APEX"
	zonefile: "$ZONE_FILE"
EOF
		nsd-checkconf "$dir/nsd.conf" || die "nsd-checkconf rejected $dir/nsd.conf"
		cmd=(nsd -d -c "$dir/nsd.conf")
		;;
	knot)
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
  - domain: "$APEX"
    file: "$ZONE_FILE"
EOF
		knotc -c "$dir/knot.conf" conf-check >/dev/null || die "knotc conf-check rejected $dir/knot.conf"
		cmd=(knotd -c "$dir/knot.conf")
		;;
	esac
	echo "${cmd[*]}" >"$dir/cmdline"
	out=$("$PY" "$WORK/probe.py" start "$port" "$PROBE" 1800 "$dir/out.log" -- "${cmd[@]}") || {
		PID[$s]=${out%% *}
		tail -n 20 "$dir/out.log" >&2 || true
		die "$s did not answer (${out#* })"
	}
	PID[$s]=${out%% *}
	START_S[$s]=${out#* }
	MEM[$s]=$(tree_mem "${PID[$s]}")
	log "$s: pid ${PID[$s]}, port $port, first answer after ${START_S[$s]} s, RSS/HWM ${MEM[$s]// //} MiB"
}
for s in "${SERVER_LIST[@]}"; do start_server "$s"; done

# --- 3. dnsperf runs --------------------------------------------------------------------------
RAW=$WORK/raw.txt # server round qps cpu_us_per_q latency_ms completed lost sent noerror nxdomain other resp_bytes
: >"$RAW"
perf_run() { # server round seconds
	local s=$1 round=$2 secs=$3 out t0 t1 qpsopt=()
	[ -n "$QPS" ] && qpsopt=(-Q "$QPS")
	out=$WORK/$s/dnsperf.$round.txt
	t0=$(tree_ticks "${PID[$s]}")
	dnsperf -d "$QUERIES" -s 127.0.0.1 -p "${PORT[$s]}" -D -c "$CLIENTS" -T 1 -q "$OUTSTANDING" \
		-l "$secs" -t 2 "${qpsopt[@]}" >"$out" 2>&1 || {
		cat "$out" >&2
		die "dnsperf failed against $s"
	}
	t1=$(tree_ticks "${PID[$s]}")
	kill -0 "${PID[$s]}" 2>/dev/null || die "$s died during the run"
	[ "$round" = warm ] && return 0
	awk -v s="$s" -v r="$round" -v ticks=$((t1 - t0)) -v hz="$HZ" '
	/Queries sent:/ { sent = $3 }
	/Queries completed:/ { done = $3 }
	/Queries lost:/ { lost = $3 }
	/Response codes:/ {
		line = $0; sub(/.*Response codes: */, "", line); n = split(line, parts, ", ")
		for (i = 1; i <= n; i++) {
			split(parts[i], kv, " ")
			if (kv[1] == "NOERROR") noerr = kv[2]; else if (kv[1] == "NXDOMAIN") nx = kv[2]; else other += kv[2]
		}
	}
	/Average packet size:/ { resp = $NF }
	/Queries per second:/ { qps = $4 }
	/Average Latency/ { lat = $4 * 1000 }
	END {
		cpu = done > 0 ? ticks / hz * 1e6 / done : 0
		printf "%s %s %.0f %.2f %.3f %d %d %d %d %d %d %s\n", s, r, qps, cpu, lat, done, lost, sent, noerr, nx, other, resp
	}' "$out" >>"$RAW"
	log "$(tail -n1 "$RAW" | awk '{ printf "%-8s round %s: %8.0f q/s, %6.2f us CPU/answer, latency %.3f ms, lost %d, rcodes NOERROR %d NXDOMAIN %d other %d", $1, $2, $3, $4, $5, $7, $9, $10, $11 }')"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "dnsperf: -D -c $CLIENTS -T 1 -q $OUTSTANDING -l $LEN ${QPS:+-Q $QPS}; $ROUNDS rounds"
for s in "${SERVER_LIST[@]}"; do perf_run "$s" warm 3; done
nserv=${#SERVER_LIST[@]}
for ((r = 1; r <= ROUNDS; r++)); do
	for ((i = 0; i < nserv; i++)); do
		s=${SERVER_LIST[$(((i + r - 1) % nserv))]}
		perf_run "$s" "$r" "$LEN"
	done
done
for s in "${SERVER_LIST[@]}"; do MEM[$s]=$(tree_mem "${PID[$s]}"); done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- 4. fedenumd restart ----------------------------------------------------------------------
RESTART=""
if has_server fedenumd; then
	p=${PID[fedenumd]}
	kill -TERM "$p"
	for _ in $(seq 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$p" 2>/dev/null && die "fedenumd did not exit within 30 s of SIGTERM"
	PID[fedenumd]=""
	read -r -a cmd <"$WORK/fedenumd/cmdline"
	out=$("$PY" "$WORK/probe.py" start "${PORT[fedenumd]}" "$PROBE" 600 "$WORK/fedenumd/out.log" -- "${cmd[@]}") || {
		PID[fedenumd]=${out%% *}
		die "fedenumd did not answer after the restart (${out#* })"
	}
	PID[fedenumd]=${out%% *}
	RESTART=${out#* }
	log "fedenumd restart on the same --db: first answer after $RESTART s"
	# and once more with SIGKILL: no clean shutdown
	kill -KILL "${PID[fedenumd]}"
	for _ in $(seq 100); do kill -0 "${PID[fedenumd]}" 2>/dev/null || break; sleep 0.05; done
	PID[fedenumd]=""
	out=$("$PY" "$WORK/probe.py" start "${PORT[fedenumd]}" "$PROBE" 600 "$WORK/fedenumd/out.log" -- "${cmd[@]}") || {
		PID[fedenumd]=${out%% *}
		die "fedenumd did not answer after kill -9 and restart (${out#* })"
	}
	PID[fedenumd]=${out%% *}
	RESTART_KILL=${out#* }
	log "fedenumd restart after kill -9: first answer after $RESTART_KILL s"
fi

# --- 5. table ---------------------------------------------------------------------------------
mkdir -p "$RESULTS"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
TABLE=$RESULTS/bench-n$N-$STAMP.txt
{
	echo "fedenum benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(hostname), $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
	echo "zone: $N numbers, $APEX, NSEC3 (0 iterations), ECDSA P-256; queries: 90% hits, 10% NXDOMAIN, DO=1, $(wc -l <"$QUERIES") names"
	echo "dnsperf -D -c $CLIENTS -T 1 -q $OUTSTANDING -l $LEN ${QPS:+-Q $QPS}; $ROUNDS rounds per server, alternating; one worker per server"
	echo "load average before the runs: $LOAD_BEFORE, after: $LOAD_AFTER (other work on the machine adds noise)"
	echo "versions: $(nsd -v 2>&1 | head -n1 | tr -d '\n'); $(knotd -V 2>&1 | head -n1); $(dnsperf -h 2>&1 | awk '/^Version/ { print "dnsperf " $2 }')"
	echo
	echo "CPU us/answer = (utime+stime of the server's process tree over the run) / answered queries; mean of rounds (min..max)."
	echo "latency = dnsperf's average; RSS/HWM = sum over the tree at the end, MiB; start = exec to first answer."
	echo
	awk -v servers="$SERVERS" -v mem="$(for s in "${SERVER_LIST[@]}"; do echo "$s ${MEM[$s]} ${START_S[$s]}"; done | tr '\n' ';')" '
	BEGIN { n = split(servers, order, ","); m = split(mem, ml, ";")
		for (i = 1; i <= m; i++) { split(ml[i], f, " "); rss[f[1]] = f[2]; hwm[f[1]] = f[3]; st[f[1]] = f[4] } }
	{
		s = $1; k[s]++; qps[s] += $3; cpu[s] += $4; lat[s] += $5; done[s] += $6; lost[s] += $7; sent[s] += $8
		other[s] += $11; resp[s] = $12
		if (!(s in cmin) || $4 < cmin[s]) cmin[s] = $4
		if (!(s in cmax) || $4 > cmax[s]) cmax[s] = $4
	}
	END {
		printf "%-9s %9s %22s %9s %7s %8s %6s %11s %8s %8s\n", "server", "q/s", "CPU us/answer", "lat ms", "lost", "rc other", "resp B", "RSS/HWM MiB", "start s", "answered"
		for (i = 1; i <= n; i++) {
			s = order[i]; if (!k[s]) continue
			c[s] = cpu[s] / k[s]
			printf "%-9s %9.0f %8.2f (%5.2f..%5.2f) %9.3f %7d %8d %6s %11s %8s %8d\n", s, qps[s] / k[s], c[s], cmin[s], cmax[s], lat[s] / k[s], lost[s], other[s], resp[s], rss[s] "/" hwm[s], st[s], done[s]
		}
		print ""
		for (i = 1; i <= n; i++) {
			s = order[i]; if (!k[s]) continue
			line = sprintf("%-9s CPU/answer", s)
			if (("nsd" in c) && s != "nsd") line = line sprintf("  %.2fx NSD", c[s] / c["nsd"])
			if (("knot" in c) && s != "knot") line = line sprintf("  %.2fx Knot", c[s] / c["knot"])
			print line
		}
	}' "$RAW"
	if [ -n "$RESTART" ]; then
		echo
		echo "fedenumd restart on the same --db (SIGTERM, same command line): first answer after $RESTART s"
		echo "fedenumd restart after kill -9 (same command line):            first answer after $RESTART_KILL s"
	fi
	echo
	echo "per run:"
	awk '{ printf "  %-9s round %s: %8s q/s %7s us CPU/answer %7s ms lost %s\n", $1, $2, $3, $4, $5, $7 }' "$RAW"
} | tee "$TABLE"
log "table saved in $TABLE"
