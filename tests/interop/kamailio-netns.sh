#!/usr/bin/env bash
# kamailio-netns.sh -- the network of tests/interop/test_kamailio.c, inside its own namespaces.
#
# Usage: unshare -m -n -p -f --kill-child --mount-proc kamailio-netns.sh DIR FEDENUMD CALLS
#
# Runs as process 1 of a private PID, mount and network namespace: everything it starts dies
# with it, and nothing it binds is visible on the host. Inside: loopback up; DIR/resolv.conf
# ("nameserver 127.0.0.1") and DIR/hosts bind-mounted over /etc/resolv.conf and /etc/hosts, so
# every resolver in the namespace (Kamailio's, kdig's) asks fedenumd and only fedenumd;
# fedenumd (DIR/fedenumd.conf) on 127.0.0.1 port 53; one sipp UAS per line of DIR/uas.list
# ("NAME ADDR PORT"; an address outside 127/8 is added to the namespace's loopback); Kamailio
# (kamailio.cfg beside this script) on 127.0.0.2:5060; then kdig for each line of
# DIR/kdig.list ("NAME TYPE", with the resolver of /etc/resolv.conf, AD bit asked) and a sipp
# UAC (sipp-uac.xml) placing CALLS calls to Kamailio, one number per call from
# DIR/numbers.csv. The addresses and ports are fixed: the namespace is private to this run.
#
# Output in DIR: fedenumd.log, kamailio.log, kdig.out, uas-NAME.msg (every SIP message the UAS
# received and sent), uac.out, uac.msg, uac.rc (sipp's exit status: 0 when every call
# completed), uac.ms (time of the UAC run), fedenumd.rc (its exit status). The caller judges them. Exit status: 0 when
# everything started (whatever the calls did), 2 on a usage error, 3 when a part did not start
# (the reason on stderr). Every wait is bounded.
set -u

if [ $# -ne 3 ]; then
	sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
fi
dir=$1
fedenumd=$2
calls=$3
here=$(cd "$(dirname "$0")" && pwd)

fail() {
	echo "kamailio-netns: $*" >&2
	exit 3
}
[ "$$" = 1 ] || fail "not process 1 of its own PID namespace (run it under unshare -p -f)"

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# wait_udp ADDR PORT TENTHS: until something listens on UDP ADDR:PORT.
wait_udp() {
	local i
	for ((i = 0; i < $3; i++)); do
		ss -Hlun "src $1:$2" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

ip link set lo up || fail "cannot bring up loopback"
printf 'nameserver 127.0.0.1\noptions timeout:2 attempts:1\n' >"$dir/resolv.conf"
printf '127.0.0.1 localhost\n' >"$dir/hosts"
mount --bind "$dir/resolv.conf" /etc/resolv.conf || fail "cannot bind-mount /etc/resolv.conf"
mount --bind "$dir/hosts" /etc/hosts || fail "cannot bind-mount /etc/hosts"

"$fedenumd" -c "$dir/fedenumd.conf" --listen 127.0.0.1@53 --db "$dir/db" \
	--ready-file "$dir/ready" --control "$dir/control.sock" 2>"$dir/fedenumd.log" &
fed=$!
for ((i = 0; i < 300; i++)); do
	[ -s "$dir/ready" ] && break
	kill -0 $fed 2>/dev/null || fail "fedenumd exited: $(tail -n 5 "$dir/fedenumd.log")"
	sleep 0.1
done
[ -s "$dir/ready" ] || fail "fedenumd not ready in 30 s"

uas=()
while read -r name addr port; do
	[ -n "$name" ] || continue
	case $addr in
	127.*) ;;
	*) ip addr add "$addr/32" dev lo || fail "cannot put $addr on the loopback" ;;
	esac
	sipp -sn uas -i "$addr" -p "$port" -nostdin -timeout 120s -trace_msg \
		-message_file "$dir/uas-$name.msg" >"$dir/uas-$name.out" 2>&1 &
	uas+=($!)
	wait_udp "$addr" "$port" 50 || fail "sipp UAS $name not listening on $addr:$port"
done <"$dir/uas.list"

mkdir -p "$dir/kamrun"
kamailio -f "$here/kamailio.cfg" -DD -E -Y "$dir/kamrun" -P "$dir/kamrun/kamailio.pid" \
	>"$dir/kamailio.log" 2>&1 &
kam=$!
wait_udp 127.0.0.2 5060 100 || fail "kamailio not listening: $(tail -n 5 "$dir/kamailio.log")"

: >"$dir/kdig.out"
while read -r name type; do
	[ -n "$name" ] || continue
	echo "== $name $type" >>"$dir/kdig.out"
	kdig +timeout=2 +retry=0 +adflag +edns +noall +header +answer +opt "$name" "$type" >>"$dir/kdig.out" 2>&1
done <"$dir/kdig.list"

t0=$(now_ms)
sipp 127.0.0.2:5060 -sf "$here/sipp-uac.xml" -inf "$dir/numbers.csv" -i 127.0.0.30 -p 5090 \
	-m "$calls" -r 20 -l 5 -nostdin -timeout 40s -timeout_error -trace_msg \
	-message_file "$dir/uac.msg" >"$dir/uac.out" 2>&1
echo $? >"$dir/uac.rc"
echo $(($(now_ms) - t0)) >"$dir/uac.ms"

# Stop everything: the UAS (their logs are complete), Kamailio, fedenumd (its counters at
# exit); what is still there after 10 s is killed. fedenumd's exit status goes to
# DIR/fedenumd.rc (0: a clean stop).
for p in "${uas[@]}" $kam $fed; do
	kill -TERM "$p" 2>/dev/null
done
for ((i = 0; i < 100; i++)); do
	alive=0
	for p in "${uas[@]}" $kam $fed; do
		kill -0 "$p" 2>/dev/null && alive=1
	done
	[ $alive = 0 ] && break
	sleep 0.1
done
for p in "${uas[@]}" $kam $fed; do
	kill -KILL "$p" 2>/dev/null
done
wait $fed
echo $? >"$dir/fedenumd.rc"
exit 0
