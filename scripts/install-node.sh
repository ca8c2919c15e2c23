#!/usr/bin/env bash
# Install fedenum as a system service on Debian 12 (run as root, from the top of this tree):
# packages, a release build, the binaries under /usr/local, the system user `fedenum`,
# /etc/fedenum (configuration, keys), the systemd unit. Idempotent; never overwrites a
# configuration that exists. The procedure around it: docs/operations.md.
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "install-node: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "run as root"

./scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target fedenumd fedenumctl >/dev/null

install -m 0755 build/fedenumd /usr/local/sbin/fedenumd
install -m 0755 build/fedenumctl /usr/local/bin/fedenumctl
install -d -m 0755 /usr/local/share/doc/fedenum
install -m 0644 docs/*.md /usr/local/share/doc/fedenum/

if ! getent group fedenum >/dev/null; then
	groupadd --system fedenum
fi
if ! getent passwd fedenum >/dev/null; then
	useradd --system --gid fedenum --home-dir /var/lib/fedenum --no-create-home \
		--shell /usr/sbin/nologin --comment "fedenum node" fedenum
fi
# Configuration and secrets: root writes them, the node (group fedenum) reads them.
install -d -m 0750 -o root -g fedenum /etc/fedenum
if [[ ! -e /etc/fedenum/fedenumd.conf ]]; then
	install -m 0640 -o root -g fedenum scripts/systemd/fedenumd.conf.example /etc/fedenum/fedenumd.conf
	echo "install-node: wrote /etc/fedenum/fedenumd.conf (edit it: docs/operations.md)"
fi
install -d -m 0750 -o fedenum -g fedenum /var/lib/fedenum

install -m 0644 scripts/systemd/fedenumd.service /etc/systemd/system/fedenumd.service
if [[ -d /run/systemd/system ]]; then
	systemctl daemon-reload
	echo "install-node: installed; start with: systemctl enable --now fedenumd"
else
	echo "install-node: installed (systemd is not running here: the unit is in place for the next boot)"
fi
