#!/usr/bin/env bash
# tests/bench/ixfr.sh -- IXFR into a validating fedenumd secondary, by hand (not in CI).
#
# Usage: tests/bench/ixfr.sh [-n N] [-k K1,K2,...] [-z CACHE] [-w WORKDIR] [-F FEDENUMD]
#   -n N        numbers in the signed NSEC3 zone (default 1000000; made once in CACHE by
#               tests/lib/gen-enum-zone.sh, as tests/bench/run.sh does)
#   -k LIST     changed numbers per step (default 1,10000): each step changes that many more
#               NAPTR RRsets (preference 10 -> 20..), re-signed with the zone's key
#   -z CACHE    zone cache (default $BENCH_CACHE or /var/tmp/fedenum-bench; only read)
#   -w WORKDIR  the versions, stores and logs (default /var/tmp/fedenum-ixfr-bench)
#
# What it does: a fedenumd primary (no trust anchors) serves version 1 (the cached signed
# zone); a fedenumd secondary with the zone's DS as trust anchor transfers it (AXFR,
# whole-zone validation). Then per step: a new version of the file (K NAPTR RRsets changed,
# their RRSIGs and the SOA's made by ldns-signzone over just those RRsets with the zone's
# key, so NSEC3 and every other signature stay), SIGHUP to the primary (which reparses the
# file, journals the difference and NOTIFYs), and on the secondary: the time from the
# NOTIFY in its log to the first answer with the new serial (polled every 20 ms), with its
# own log line (IXFR, change set size, signatures verified, validation time).
# Prints one line per step; the secondary's log is in WORKDIR/sec.log.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
N=1000000 STEPS=1,10000
FEDENUMD=${FEDENUMD:-$ROOT/build/fedenumd}
CACHE=${BENCH_CACHE:-/var/tmp/fedenum-bench}
W=/var/tmp/fedenum-ixfr-bench
while getopts "n:k:z:w:F:h" opt; do
	case $opt in
	n) N=$OPTARG ;;
	k) STEPS=$OPTARG ;;
	z) CACHE=$OPTARG ;;
	w) W=$OPTARG ;;
	F) FEDENUMD=$OPTARG ;;
	*)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 2
		;;
	esac
done
log() { echo "ixfr-bench: $*" >&2; }
die() {
	log "error: $*"
	exit 1
}
for t in kdig ldns-signzone awk; do command -v $t >/dev/null || die "$t not found"; done
[ -x "$FEDENUMD" ] || die "$FEDENUMD not built"

Z=$CACHE/n$N
"$ROOT/tests/lib/gen-enum-zone.sh" "$N" "$Z" --reuse >/dev/null
# shellcheck disable=SC1091
. "$Z/info.env"
[ -n "$SIGNED" ] || die "$Z: no signed zone"
APEX_NODOT=${APEX%.}
KEY=$(ls "$Z"/keys/K*.private)
KEY=${KEY%.private}

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
rm -rf "$W"
mkdir -p "$W"
cat >"$W/tsig.key" <<'EOF'
key "ixfr-bench." {
	algorithm hmac-sha256;
	secret "Ut6y2zK8J0m2qv8j6I0g9bC2i0k4yD2H7n3o5q1w8e4=";
};
EOF
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PP=$(free_port)
SP=$(free_port)

ln -sfn "$SIGNED" "$W/primary.zone"
"$FEDENUMD" --listen "127.0.0.1@$PP" --db "$W/pdb" --zone "$W/primary.zone" \
	--tsig-key "$W/tsig.key" --notify "127.0.0.1@$SP" --control "$W/p.sock" >"$W/pri.log" 2>&1 &
PIDS+=($!)
PRI=$!
log "primary loading $N numbers"
until grep -q "serial .* loaded\|is current" "$W/pri.log"; do sleep 1; done
"$FEDENUMD" --listen "127.0.0.1@$SP" --db "$W/sdb" --trust-anchor "$DS" \
	--secondary "$APEX_NODOT@127.0.0.1@$PP" --tsig-key "$W/tsig.key" --control "$W/s.sock" \
	>"$W/sec.log" 2>&1 &
PIDS+=($!)
log "secondary: AXFR and whole-zone validation"
until grep -q "AXFR from" "$W/sec.log"; do
	grep -q "refresh from .* failed" "$W/sec.log" && die "AXFR failed (see $W/sec.log)"
	sleep 1
done
grep "AXFR from" "$W/sec.log" | tail -1 >&2

serial_of() { kdig @127.0.0.1 -p "$SP" +short +timeout=1 +retry=0 "$APEX" SOA | awk '{print $3}'; }
ms() { echo $(($(date +%s%N) / 1000000)); }

base=$SIGNED
serial=$(serial_of)
done_k=0
step=0
transfers=0 # the AXFR's line is the first
IFS=, read -r -a KS <<<"$STEPS"
for k in "${KS[@]}"; do
	step=$((step + 1))
	serial=$((serial + 1))
	v=$W/v$step.zone
	# the K numbers after those already changed, and a small zone with just their NAPTRs
	sed -n "$((done_k + 1)),$((done_k + k))p" "$Z/hits.txt" >"$W/names$step"
	done_k=$((done_k + k))
	awk -v apex="$APEX" -v serial="$serial" 'NR == FNR { want[$1] = 1; next }
		$4 == "SOA" && $1 == apex { $7 = serial; print; next }
		($1 in want) && $4 == "NAPTR" { sub(/NAPTR[ \t]+10 /, "NAPTR 20 "); print }' \
		"$W/names$step" "$base" >"$W/small$step.zone"
	ldns-signzone -o "$APEX" -f "$W/small$step.signed" "$W/small$step.zone" "$KEY" >/dev/null
	awk '$4 == "RRSIG" && ($5 == "NAPTR" || $5 == "SOA") || $4 == "NAPTR" || $4 == "SOA"' \
		"$W/small$step.signed" >"$W/new$step"
	awk -v apex="$APEX" 'NR == FNR { want[$1] = 1; next }
		$1 == apex && ($4 == "SOA" || ($4 == "RRSIG" && $5 == "SOA")) { next }
		($1 in want) && ($4 == "NAPTR" || ($4 == "RRSIG" && $5 == "NAPTR")) { next }
		{ print }' "$W/names$step" "$base" >"$v"
	cat "$W/new$step" >>"$v"
	base=$v
	notified=$(grep -c "NOTIFY from its primary" "$W/sec.log" || true)
	ln -sfn "$v" "$W/primary.zone"
	kill -HUP "$PRI"
	until [ "$(grep -c "NOTIFY from its primary" "$W/sec.log" || true)" -gt "$notified" ]; do
		sleep 0.02
	done
	t0=$(ms)
	until [ "$(serial_of)" = "$serial" ]; do
		grep -q "rejected: " "$W/sec.log" && die "rejected (see $W/sec.log)"
		sleep 0.02
	done
	t1=$(ms)
	transfers=$((transfers + 1))
	until [ "$(grep -c "IXFR from\|AXFR from" "$W/sec.log" || true)" -gt "$transfers" ]; do
		sleep 0.05
	done
	line=$(grep "IXFR from\|AXFR from" "$W/sec.log" | tail -1)
	echo "step $step: $k numbers changed (total $done_k), serial $serial: NOTIFY -> served $((t1 - t0)) ms"
	echo "  secondary: ${line#*info: }"
done
