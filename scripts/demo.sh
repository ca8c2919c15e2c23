#!/usr/bin/env bash
# Build fedenumd and start it on the demo federation (zones/, federation/), as root on a fresh
# Debian 12 machine. It listens on 127.0.0.1 and ::1 port 5300 and keeps running in the
# background; stop it with: kill "$(cat /run/fedenum-demo.pid)".
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

"$top/scripts/install-deps.sh"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)"

# git does not keep file modes: secrets (demo-only, but handled like real ones) back to 0600.
find federation/keys -type f \( -name '*.private' -o -name '*.tsig' \) -exec chmod 600 {} +

pidfile=/run/fedenum-demo.pid
ready=/run/fedenum-demo.ready
log=/var/log/fedenum-demo.log
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
	echo "demo: stopping the running fedenumd ($(cat "$pidfile"))"
	kill "$(cat "$pidfile")"
	for _ in $(seq 50); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.1; done
fi
rm -f "$ready"
./build/fedenumd --check-config -c federation/fedenumd.conf
nohup ./build/fedenumd -c federation/fedenumd.conf --ready-file "$ready" >>"$log" 2>&1 &
echo $! >"$pidfile"
for _ in $(seq 300); do
	[ -s "$ready" ] && break
	kill -0 "$(cat "$pidfile")" 2>/dev/null || { echo "demo: fedenumd exited; see $log"; tail -20 "$log"; exit 1; }
	sleep 0.1
done
[ -s "$ready" ] || { echo "demo: fedenumd not ready after 30 s; see $log"; exit 1; }
echo "demo: fedenumd is running (pid $(cat "$pidfile"), log $log), listening on:"
sed 's/^/  /' "$ready"
echo "try: kdig @127.0.0.1 -p 5300 +dnssec 1.0.0.0.0.0.2.5.5.5.1.e164.fed. NAPTR"
