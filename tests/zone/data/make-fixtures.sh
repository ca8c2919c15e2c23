#!/usr/bin/env bash
# make-fixtures.sh -- sign fixture.zone with ldns-signzone, dnssec-signzone and Knot DNS.
# The outputs are committed (tests read them; signing at test time would need knotd
# running); run this again when fixture.zone changes. Keys are thrown away: the tests do
# not validate signatures, they check that each signer's output loads and what it holds.
# Needs: ldnsutils, bind9-dnsutils (dnssec-*), knot (knotd, keymgr, knotc).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
origin=5.5.5.1.e164.fed.
tmp=$(mktemp -d)
trap 'if [ -f "$tmp/knot.pid" ]; then kill "$(cat "$tmp/knot.pid")" 2>/dev/null || true; fi; rm -rf "$tmp"' EXIT
cd "$tmp"
cp "$here/fixture.zone" zone

# ---- ldns-signzone: NSEC, and NSEC3 with salt and iterations --------------------------
k=$(ldns-keygen -a ECDSAP256SHA256 -k "$origin")
rm -f "$k.ds"
exp=$(date -u -d '+10 years' +%Y%m%d)
ldns-signzone -o "$origin" -e "$exp" -f "$here/fixture.ldns-nsec.signed" zone "$k"
ldns-signzone -o "$origin" -e "$exp" -n -t 5 -s aabbccdd \
	-f "$here/fixture.ldns-nsec3.signed" zone "$k"

# ---- dnssec-signzone (BIND): NSEC3 ------------------------------------------------------
mkdir bind
dnssec-keygen -q -K bind -a ECDSAP256SHA256 -f KSK -n ZONE "$origin" >/dev/null
dnssec-keygen -q -K bind -a ECDSAP256SHA256 -n ZONE "$origin" >/dev/null
dnssec-signzone -q -S -K bind -o "$origin" -e +315360000 -3 0123abcd -H 2 \
	-f "$here/fixture.bind-nsec3.signed" zone >/dev/null

# ---- Knot DNS: automatic signing with NSEC3, flushed to a file ---------------------------
mkdir -p knot/zones knot/db knot/run
cp zone "knot/zones/$origin.zone"
cat >knot/knot.conf <<CONF
server:
    rundir: "$tmp/knot/run"
    pidfile: "$tmp/knot.pid"
control:
    listen: "$tmp/knot/run/knot.sock"
database:
    storage: "$tmp/knot/db"
policy:
  - id: fixture
    algorithm: ecdsap256sha256
    nsec3: on
    nsec3-iterations: 1
    nsec3-salt-length: 4
    rrsig-lifetime: 3650d
    rrsig-refresh: 30d
template:
  - id: default
    storage: "$tmp/knot/zones"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    dnssec-signing: on
    dnssec-policy: fixture
    serial-policy: increment
zone:
  - domain: $origin
    file: "$origin.zone"
CONF
knotd -c knot/knot.conf -d
# Flush until the written file holds the signed zone (signing runs after the load).
signed=no
for _ in $(seq 100); do
	sleep 0.2
	knotc -c knot/knot.conf -b -f zone-flush "$origin" >/dev/null 2>&1 || continue
	if grep -q NSEC3PARAM "knot/zones/$origin.zone"; then
		signed=yes
		break
	fi
done
knotc -c knot/knot.conf stop >/dev/null
for _ in $(seq 100); do [ -e "$tmp/knot.pid" ] || break; sleep 0.1; done
[ "$signed" = yes ] || { echo "knotd did not sign the zone" >&2; exit 1; }
cp "knot/zones/$origin.zone" "$here/fixture.knot-nsec3.signed"

ls -l "$here"/fixture.*.signed
