#!/bin/sh
# Test PKI for the DNS-over-TLS tests: a CA, a server certificate for "dot.test" and
# 127.0.0.1, and client certificates "client-a.test" (SAN) and "client-b.test" (CN only),
# all signed by the CA; plus "rogue.test", signed by a CA the server does not trust.
# Usage: mk-tls-certs.sh DIR. Keys are written mode 0600.
set -eu
d=$1
umask 077
cd "$d"
ossl() { openssl "$@" >/dev/null 2>&1; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj "/CN=fedenum test CA" -keyout ca.key -out ca.pem
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj "/CN=rogue CA" -keyout rogue-ca.key -out rogue-ca.pem
leaf() { # name ca-key ca-cert san
	ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
		-keyout "$1.key" -out "$1.csr"
	if [ -n "$4" ]; then
		printf 'subjectAltName=%s\n' "$4" >"$1.ext"
		ossl x509 -req -in "$1.csr" -CA "$3" -CAkey "$2" -CAcreateserial -days 2 \
			-extfile "$1.ext" -out "$1.pem"
	else
		ossl x509 -req -in "$1.csr" -CA "$3" -CAkey "$2" -CAcreateserial -days 2 \
			-out "$1.pem"
	fi
}
leaf server ca.key ca.pem "DNS:dot.test,IP:127.0.0.1"
leaf client-a ca.key ca.pem "DNS:client-a.test"
leaf client-b.test ca.key ca.pem ""
leaf rogue rogue-ca.key rogue-ca.pem "DNS:client-a.test"
chmod 644 ./*.pem
