#!/usr/bin/env bash
# Install everything fedenum needs to build, test and benchmark on Debian 12 (run as root).
# Idempotent: packages already present are skipped by apt-get.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
pkgs=(
	build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev clang-format
	libldns-dev ldnsutils libunbound-dev libevent-dev unbound-anchor libuv1-dev libssl-dev liblmdb-dev lmdb-utils
	libconfig-dev libcriterion-dev libjansson-dev
	knot knot-dnsutils knot-dnssecutils nsd bind9 bind9-dnsutils bind9-utils dnsperf
	python3 python3-dnspython procps iproute2 systemd openssl bsdutils
	kamailio sip-tester util-linux coreutils
)
# iproute2 (ip netns, veth, bridge; ss) and util-linux (unshare) also carry the multi-host
# test (tests/integration/netns_fed.h), which needs root and the kernel's veth and bridge.
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	echo "install-deps: installing ${missing[*]}"
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian starts the packaged servers on install; our tests and the demo run their own
# instances on their own ports, so the system ones are stopped to keep port 53 free (and
# Kamailio's 5060: the Kamailio test runs its own in a private network namespace).
for svc in knot nsd named bind9 unbound kamailio; do
	if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
		systemctl stop "$svc" || true
	fi
done
echo "install-deps: ok"
