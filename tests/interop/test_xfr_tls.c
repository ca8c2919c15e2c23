/* XFR over TLS (RFC 9103), loopback only, ephemeral ports, TSIG hmac-sha256 on top:
 *  - fedenumd primary (DNS-over-TLS listener that requires client certificates) → fedenumd
 *    secondary (--secondary-tls, CA and name verified, a client certificate): AXFR at start,
 *    then after SIGHUP a NOTIFY over plain UDP and an IXFR over TLS;
 *  - a secondary with the wrong CA, with a name the certificate does not carry, and without
 *    a client certificate: the refresh fails, the version held keeps serving;
 *  - a plain-TCP secondary pointed at the TLS port: refused, the old version keeps serving;
 *  - NSD 4.6 as a XoT secondary (tls-auth, request-xfr ... tls-auth-name) of fedenumd's TLS
 *    port: what its own log says it received.
 * Knot DNS 3.2 transfers over QUIC only, not TLS: no Knot test here. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fe_test.h"
#include "fedenum/tsig.h"
#include "fedenum/util.h"

#define KEY    "xfr-peer.test."
#define SECRET "Ut6y2zK8J0m2qv8j6I0g9bC2i0k4yD2H7n3o5q1w8e4="
#define ZONE   "xfr.test."
#define WAIT_S 40
#define CERTS  FE_TEST_SRC "/tests/integration/data/mk-tls-certs.sh"

static char tmp[256];
static struct fe_test_daemon pri, sec;
static uint16_t tls_port, notify_port;
static pid_t nsd_pid = -1;

static void stop_all(void)
{
	fe_test_stop_pid(&nsd_pid);
	if (sec.pid > 0) /* a clean exit: no sanitizer report, no leak */
		cr_expect_eq(fe_test_daemon_stop(&sec), 0, "fedenumd exit status");
	if (pri.pid > 0) /* a clean exit: no sanitizer report, no leak */
		cr_expect_eq(fe_test_daemon_stop(&pri), 0, "fedenumd exit status");
	if (tmp[0])
		fe_test_rmdir(tmp);
	tmp[0] = '\0';
}

static void setup(void)
{
	memset(&pri, 0, sizeof(pri));
	memset(&sec, 0, sizeof(sec));
	fe_test_mkdtemp(tmp, sizeof(tmp));
	cr_assert_eq(fe_test_sh("%s '%s'", CERTS, tmp), 0, "test PKI");
	char keyfile[300];
	snprintf(keyfile, sizeof(keyfile), "%s/peer.key", tmp);
	cr_assert_eq(fe_test_write_tsig_key(keyfile, KEY, SECRET), 0);
}

TestSuite(xfr_tls, .init = setup, .fini = stop_all, .timeout = 240);

/* The zone at @serial: 400 TXT and a.xfr.test. A 192.0.2.<serial>. */
static void write_zone(unsigned serial)
{
	char p[300];
	snprintf(p, sizeof(p), "%s/xfr.test.zone", tmp);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "$ORIGIN " ZONE "\n$TTL 300\n@ SOA ns1 hostmaster %u 7200 900 1209600 300\n"
	        "@ NS ns1\nns1 A 127.0.0.1\na A 192.0.2.%u\n",
	        serial, serial);
	for (int i = 0; i < 400; i++)
		fprintf(f, "t%d TXT \"%060d\"\n", i, i);
	fclose(f);
}

static uint16_t ready_port(const struct fe_test_daemon *d, const char *proto)
{
	char path[512], p[8], h[64];
	unsigned port;
	uint16_t found = 0;
	snprintf(path, sizeof(path), "%s/ready", d->dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	while (fscanf(f, "%7s %63s %u", p, h, &port) == 3)
		if (strcmp(p, proto) == 0)
			found = (uint16_t)port;
	fclose(f);
	return found;
}

/* fedenumd primary of the zone with a TLS listener (certificate "dot.test" and 127.0.0.1),
 * client certificates required when @client_ca; secondaries at 127.0.0.1 (NOTIFY to
 * notify_port). */
static void start_primary(bool client_ca)
{
	char conf[300], zf[300], key[300], notify[64];
	snprintf(conf, sizeof(conf), "%s/primary.conf", tmp);
	FILE *f = fopen(conf, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "server: { tls-listen = [\"127.0.0.1@0\"]; tls-cert = \"%s/server.pem\"; "
	        "tls-key = \"%s/server.key\"; %s%s%s };\n",
	        tmp, tmp, client_ca ? "tls-client-ca = \"" : "", client_ca ? tmp : "",
	        client_ca ? "/ca.pem\";" : "");
	fclose(f);
	snprintf(zf, sizeof(zf), "%s/xfr.test.zone", tmp);
	snprintf(key, sizeof(key), "%s/peer.key", tmp);
	notify_port = fe_test_free_port();
	cr_assert_neq(notify_port, 0);
	snprintf(notify, sizeof(notify), "127.0.0.1@%u", notify_port);
	const char *argv[] = {"-c", conf,       "--zone", zf,  "--tsig-key",
	                      key,  "--notify", notify,   NULL};
	cr_assert_eq(fe_test_daemon_start(&pri, NULL, argv), 0);
	tls_port = ready_port(&pri, "tls");
	cr_assert_neq(tls_port, 0, "no TLS port in the primary's ready file");
}

/* fedenumd secondary in @dir (kept across restarts) of the zone at the primary's TLS port:
 * @how is "tls" (--secondary-tls with @name, CA @ca, client certificate when @cert) or
 * "plain" (--secondary to the TLS port). */
static void start_secondary(const char *dir, const char *how, const char *name, const char *ca,
                            bool cert)
{
	char key[300], spec[200], cafile[300], certf[300], keyf[300], l[64];
	snprintf(key, sizeof(key), "%s/peer.key", tmp);
	snprintf(spec, sizeof(spec), ZONE "@127.0.0.1@%u%s%s", tls_port, name ? "@" : "",
	         name ? name : "");
	snprintf(cafile, sizeof(cafile), "%s/%s", tmp, ca);
	snprintf(certf, sizeof(certf), "%s/client-a.pem", tmp);
	snprintf(keyf, sizeof(keyf), "%s/client-a.key", tmp);
	snprintf(l, sizeof(l), "127.0.0.1@%u", notify_port);
	bool tls = strcmp(how, "tls") == 0;
	const char *argv[] = {"--tsig-key",
	                      key,
	                      "--listen",
	                      l,
	                      "--log-level",
	                      "debug",
	                      tls ? "--secondary-tls" : "--secondary",
	                      spec,
	                      "--xfr-tls-ca",
	                      cafile,
	                      cert ? "--xfr-tls-cert" : NULL,
	                      certf,
	                      "--xfr-tls-key",
	                      keyf,
	                      NULL};
	cr_assert_eq(fe_test_daemon_start(&sec, dir, argv), 0);
}

static void show(void)
{
	fe_test_sh("echo '--- secondary'; tail -30 '%s'; echo '--- primary'; tail -20 '%s'",
	           sec.log_path, pri.log_path);
}

/* Serial 1 over TLS into a secondary kept in <tmp>/sec (@dir gets the path). */
static void first_transfer(char *dir, size_t cap)
{
	write_zone(1);
	start_primary(true);
	snprintf(dir, cap, "%s/sec", tmp);
	cr_assert_eq(fe_test_sh("mkdir -p '%s'", dir), 0);
	start_secondary(dir, "tls", "dot.test", "ca.pem", true);
	if (!fe_test_wait_answer(sec.port, "a." ZONE, "A", "192.0.2.1", WAIT_S)) {
		show();
		cr_assert_fail("serial 1 not transferred over TLS");
	}
	cr_assert_eq(fe_test_daemon_log_count(&sec, "AXFR from 127.0.0.1@"), 1);
	cr_assert_eq(fe_test_daemon_log_count(&sec, "over TLS: serial (none) 0 -> 1"), 1);
}

Test(xfr_tls, fedenumd_to_fedenumd_axfr_then_notify_and_ixfr)
{
	char dir[300];
	first_transfer(dir, sizeof(dir));
	cr_assert(fe_test_wait_answer(sec.port, "t399." ZONE, "TXT", "399", WAIT_S));
	/* the primary saw the transfer on its TLS listener: a TLS connection with a client
	 * certificate, and the AXFR */
	cr_assert_geq(fe_test_daemon_log_count(&pri, "AXFR of " ZONE " (serial 1) to 127.0.0.1"),
	              1);

	write_zone(2);
	kill(pri.pid, SIGHUP);
	if (!fe_test_wait_answer(sec.port, "a." ZONE, "A", "192.0.2.2", WAIT_S)) {
		show();
		cr_assert_fail("serial 2 not transferred");
	}
	cr_assert(fe_test_wait_answer(sec.port, "t0." ZONE, "TXT", "000000", WAIT_S),
	          "old data lost");
	/* NOTIFY came over UDP (RFC 9103 §4: unchanged), the IXFR over TLS */
	cr_assert_geq(fe_test_daemon_log_count(&sec, "NOTIFY from its primary"), 1);
	cr_assert_eq(fe_test_daemon_log_count(&sec, "IXFR from 127.0.0.1@"), 1);
	cr_assert_eq(fe_test_daemon_log_count(&sec, "over TLS: serial 1 -> 2"), 1);
	cr_assert(fe_test_daemon_wait_log(&pri, "acknowledged", 1, WAIT_S),
	          "the primary's NOTIFY was not answered");
	cr_assert_geq(fe_test_daemon_log_count(&pri, "IXFR of " ZONE " to 127.0.0.1"), 1);
	cr_assert_eq(fe_test_sh("'%s' zone show " ZONE " --socket '%s/control.sock' | grep -q "
	                        "'peers: *secondary of primary 127.0.0.1@%u (TLS), serial 2'",
	                        FE_TEST_FEDENUMCTL, sec.dir, tls_port),
	             0);
}

/* Each bad TLS set-up: the refresh fails with its reason, serial 1 keeps serving. */
static void refused_keeps_serial_1(const char *dir, const char *how, const char *name,
                                   const char *ca, bool cert, const char *reason)
{
	/* the log file is appended to across restarts: count what this run adds */
	int failed = fe_test_daemon_log_count(&sec, "refresh from 127.0.0.1@");
	int why = fe_test_daemon_log_count(&sec, reason);
	int kept = fe_test_daemon_log_count(&sec, "the stored version keeps serving");
	int taken = fe_test_daemon_log_count(&sec, "XFR from 127.0.0.1@");
	start_secondary(dir, how, name, ca, cert);
	if (!fe_test_daemon_wait_log(&sec, "refresh from 127.0.0.1@", failed + 1, WAIT_S) ||
	    fe_test_daemon_log_count(&sec, reason) <= why)
		show();
	cr_assert_gt(fe_test_daemon_log_count(&sec, reason), why, "no \"%s\" in the log", reason);
	cr_assert_gt(fe_test_daemon_log_count(&sec, "the stored version keeps serving"), kept);
	cr_assert_eq(fe_test_daemon_log_count(&sec, "XFR from 127.0.0.1@"), taken);
	cr_assert(fe_test_wait_answer(sec.port, "a." ZONE, "A", "192.0.2.1", WAIT_S),
	          "serial 1 not served");
	cr_assert_eq(fe_test_daemon_stop(&sec), 0, "fedenumd exit status");
}

/* Serial 1 at the secondary (stopped, its store in @dir), serial 2 at the primary: a refresh
 * that got through would take it. */
static void secondary_behind(char *dir, size_t cap)
{
	first_transfer(dir, cap);
	cr_assert_eq(fe_test_daemon_stop(&sec), 0, "fedenumd exit status");
	write_zone(2);
	kill(pri.pid, SIGHUP);
	cr_assert(fe_test_wait_answer(pri.port, "a." ZONE, "A", "192.0.2.2", WAIT_S));
}

Test(xfr_tls, wrong_ca_name_or_client_certificate_refused_and_the_old_zone_kept)
{
	char dir[300];
	secondary_behind(dir, sizeof(dir));
	refused_keeps_serial_1(
	        dir, "tls", "dot.test", "rogue-ca.pem", true,
	        "certificate is refused: self-signed certificate in certificate chain");
	refused_keeps_serial_1(dir, "tls", "other.test", "ca.pem", true,
	                       "certificate is refused: hostname mismatch");
	refused_keeps_serial_1(dir, "tls", "dot.test", "ca.pem", false, "TLS");
	/* and the right set-up takes serial 2 */
	start_secondary(dir, "tls", NULL, "ca.pem", true); /* no name: the IP SAN 127.0.0.1 */
	if (!fe_test_wait_answer(sec.port, "a." ZONE, "A", "192.0.2.2", WAIT_S)) {
		show();
		cr_assert_fail("serial 2 not transferred");
	}
}

Test(xfr_tls, plain_tcp_to_the_tls_port_is_refused_and_the_old_zone_kept)
{
	char dir[300];
	secondary_behind(dir, sizeof(dir));
	refused_keeps_serial_1(dir, "plain", NULL, "ca.pem", false, "refresh from");
	cr_assert_eq(fe_test_daemon_log_count(&sec, "serial 1 -> 2"), 0);
}

/* NSD 4.6 as a XoT secondary: tls-auth (auth-domain-name dot.test, the CA as its
 * tls-cert-bundle, client-a's certificate), request-xfr to the TLS port with the key and the
 * tls-auth name; the primary asks for client certificates when @client_ca. */
static void nsd_over_tls(bool client_ca)
{
	write_zone(1);
	start_primary(client_ca);
	char conf[300], log[300];
	snprintf(conf, sizeof(conf), "%s/nsd.conf", tmp);
	snprintf(log, sizeof(log), "%s/nsd.out", tmp);
	FILE *f = fopen(conf, "w");
	cr_assert_not_null(f);
	char bundle[400];
	snprintf(bundle, sizeof(bundle), "    tls-cert-bundle: \"%s/ca.pem\"\n", tmp);
	fe_test_nsd_conf_server(f, notify_port, tmp, bundle);
	fprintf(f,
	        "key:\n    name: \"" KEY "\"\n    algorithm: hmac-sha256\n    secret: \"" SECRET
	        "\"\n"
	        "tls-auth:\n    name: \"fedenum\"\n    auth-domain-name: \"dot.test\"\n"
	        "    client-cert: \"%s/client-a.pem\"\n    client-key: \"%s/client-a.key\"\n"
	        "zone:\n    name: \"" ZONE "\"\n    zonefile: \"xfr.test.secondary\"\n"
	        "    request-xfr: 127.0.0.1@%u " KEY " fedenum\n"
	        "    allow-notify: 127.0.0.1 " KEY "\n",
	        tmp, tmp, tls_port);
	fclose(f);
	const char *argv[] = {"nsd", "-d", "-c", conf, NULL};
	nsd_pid = fe_test_spawn(log, argv);
	cr_assert_gt(nsd_pid, 0);
	if (!fe_test_wait_answer(notify_port, "a." ZONE, "A", "192.0.2.1", WAIT_S)) {
		fe_test_sh("tail -30 '%s/nsd.log' '%s/nsd.out'; tail -20 '%s'", tmp, tmp,
		           pri.log_path);
		cr_assert_fail("NSD did not get serial 1 over TLS");
	}
	cr_assert(fe_test_wait_answer(notify_port, "t399." ZONE, "TXT", "399", WAIT_S));
	/* NSD's log: the update came with our TSIG; fedenumd's: the transfer was to NSD */
	cr_assert_eq(fe_test_sh("grep -q 'received update to serial 1 .*TSIG verified with key "
	                        "xfr-peer' '%s/nsd.log'",
	                        tmp),
	             0);
	cr_assert_geq(fe_test_daemon_log_count(&pri, "AXFR of " ZONE " (serial 1) to 127.0.0.1"),
	              1);

	write_zone(2);
	kill(pri.pid, SIGHUP);
	if (!fe_test_wait_answer(notify_port, "a." ZONE, "A", "192.0.2.2", WAIT_S)) {
		fe_test_sh("tail -30 '%s/nsd.log'; tail -20 '%s'", tmp, pri.log_path);
		cr_assert_fail("NSD did not get serial 2 over TLS");
	}
	cr_assert(fe_test_wait_answer(notify_port, "t0." ZONE, "TXT", "000000", WAIT_S),
	          "old data lost");
	/* an incremental update: a few hundred octets against the zone's tens of kB */
	cr_assert_eq(fe_test_sh("grep -q 'received update to serial 2 .*TSIG verified with key "
	                        "xfr-peer.* of [0-9]\\{2,3\\} bytes' '%s/nsd.log'",
	                        tmp),
	             0, "NSD's update to serial 2 was not incremental");
	cr_assert_geq(fe_test_daemon_log_count(&pri, "IXFR of " ZONE " to 127.0.0.1"), 1);
	fe_test_sh("grep -i 'tls' '%s' >&2", pri.log_path);
	/* what NSD says about it, for the record */
	fe_test_sh("grep -i 'tls\\|ssl\\|received update\\|xfr' '%s/nsd.log' >&2", tmp);
}

Test(xfr_tls, nsd_secondary_over_tls)
{
	nsd_over_tls(false);
}

Test(xfr_tls, nsd_secondary_over_tls_with_a_client_certificate)
{
	nsd_over_tls(true);
}

/* The configuration file form (xfr.secondary-tls, xfr.tls-ca-file, client certificate), and
 * its errors: a bad entry at file:line, a TLS zone without a CA. */
Test(xfr_tls, config_file_form)
{
	write_zone(1);
	start_primary(true);
	char conf[300];
	snprintf(conf, sizeof(conf), "%s/secondary.conf", tmp);
	FILE *f = fopen(conf, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "xfr = {\n  tsig-keys = [ \"peer.key\" ];\n  secondary-tls = [ "
	        "\"XFR.test@127.0.0.1@%u@dot.test\" ];\n  tls-ca-file = \"ca.pem\";\n"
	        "  tls-cert-file = \"client-a.pem\";\n  tls-key-file = \"client-a.key\";\n};\n",
	        tls_port);
	fclose(f);
	const char *argv[] = {"-c", conf, NULL};
	cr_assert_eq(fe_test_daemon_start(&sec, NULL, argv), 0);
	if (!fe_test_wait_answer(sec.port, "a." ZONE, "A", "192.0.2.1", WAIT_S)) {
		show();
		cr_assert_fail("not transferred over TLS");
	}
	cr_assert_eq(fe_test_daemon_log_count(&sec, "over TLS: serial (none) 0 -> 1"), 1);

	f = fopen(conf, "w");
	cr_assert_not_null(f);
	fprintf(f, "xfr = {\n  tsig-keys = [ \"peer.key\" ];\n  secondary-tls = [ "
	           "\"xfr.test@127.0.0.1@853@\" ];\n  tls-ca-file = \"ca.pem\";\n};\n");
	fclose(f);
	cr_assert_eq(fe_test_sh("%s -c '%s' --check-config > '%s/check.out' 2>&1", FE_TEST_FEDENUMD,
	                        conf, tmp),
	             1);
	cr_assert_eq(fe_test_sh("grep -q 'secondary.conf:3: xfr.secondary-tls: .*is not "
	                        "APEX@ADDR@PORT\\[@NAME\\]' '%s/check.out'",
	                        tmp),
	             0);
	f = fopen(conf, "w");
	cr_assert_not_null(f);
	fprintf(f, "xfr = {\n  tsig-keys = [ \"peer.key\" ];\n  secondary-tls = [ "
	           "\"xfr.test@127.0.0.1@853\" ];\n};\n");
	fclose(f);
	cr_assert_eq(fe_test_sh("timeout 20 %s -c '%s' --db '%s/db2' --listen 127.0.0.1@0 > "
	                        "'%s/start.out' 2>&1",
	                        FE_TEST_FEDENUMD, conf, tmp, tmp),
	             1, "a TLS zone without a CA file must not start");
	cr_assert_eq(fe_test_sh("grep -q 'XFR over TLS.*needs a CA file' '%s/start.out'", tmp), 0);
	/* a client key others can read: refused in the file and on the command line */
	cr_assert_eq(fe_test_sh("cp '%s/client-a.key' '%s/open.key' && chmod 644 '%s/open.key'",
	                        tmp, tmp, tmp),
	             0);
	f = fopen(conf, "w");
	cr_assert_not_null(f);
	fprintf(f, "xfr = {\n  tsig-keys = [ \"peer.key\" ];\n  secondary-tls = [ "
	           "\"xfr.test@127.0.0.1@853\" ];\n  tls-ca-file = \"ca.pem\";\n"
	           "  tls-cert-file = \"client-a.pem\";\n  tls-key-file = \"open.key\";\n};\n");
	fclose(f);
	cr_assert_eq(fe_test_sh("%s -c '%s' --check-config > '%s/check.out' 2>&1", FE_TEST_FEDENUMD,
	                        conf, tmp),
	             1);
	cr_assert_eq(fe_test_sh("grep -q 'secondary.conf:6: xfr.tls-key-file: .*readable by group "
	                        "or others' '%s/check.out'",
	                        tmp),
	             0);
	cr_assert_eq(fe_test_sh("timeout 20 %s --db '%s/db3' --listen 127.0.0.1@0 --tsig-key "
	                        "'%s/peer.key' --secondary-tls xfr.test@127.0.0.1@853 --xfr-tls-ca "
	                        "'%s/ca.pem' --xfr-tls-cert '%s/client-a.pem' --xfr-tls-key "
	                        "'%s/open.key' > '%s/start.out' 2>&1",
	                        FE_TEST_FEDENUMD, tmp, tmp, tmp, tmp, tmp, tmp),
	             1, "a client key others can read must not start");
	cr_assert_eq(fe_test_sh("grep -q 'client key .*readable by group or others' "
	                        "'%s/start.out'",
	                        tmp),
	             0);
}

/* An AXFR request (TSIG-signed when @sign) over a TLS session of @version ("-tls1_2",
 * "-tls1_3") through openssl s_client; the first answer message into @m. Returns its length
 * (0: none). */
static size_t axfr_over_openssl(const char *version, bool sign, uint8_t *m, size_t cap)
{
	uint8_t q[600];
	size_t qn =
	        fe_test_make_query(ZONE, 252, FE_TQ_TCP | FE_TQ_NOEDNS, 0, q + 2, sizeof(q) - 2);
	cr_assert_gt(qn, 0);
	struct fe_tsig_key *key = NULL;
	cr_assert_eq(fe_tsig_key_from_string("hmac-sha256:" KEY ":" SECRET, &key), FE_OK);
	if (sign)
		cr_assert_eq(
		        fe_tsig_sign(q + 2, &qn, sizeof(q) - 2, key, NULL, 0, NULL, NULL, NULL),
		        FE_OK);
	fe_tsig_key_destroy(key);
	q[0] = (uint8_t)(qn >> 8), q[1] = (uint8_t)qn;
	char in[300], out[300];
	snprintf(in, sizeof(in), "%s/axfr.bin", tmp);
	snprintf(out, sizeof(out), "%s/axfr.out", tmp);
	FILE *f = fopen(in, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(q, 1, qn + 2, f), qn + 2);
	fclose(f);
	fe_test_sh("timeout 4 openssl s_client -connect 127.0.0.1:%u %s -alpn dot -quiet "
	           "-verify_quiet < '%s' > '%s' 2>/dev/null",
	           tls_port, version, in, out);
	f = fopen(out, "rb");
	cr_assert_not_null(f);
	size_t n = fread(m, 1, cap, f);
	fclose(f);
	if (n < 14 || (size_t)(m[0] << 8 | m[1]) + 2 > n)
		return 0;
	memmove(m, m + 2, n - 2);
	return n - 2;
}

/* RFC 9103 §9: XoT needs TLS 1.3. The DoT listener still takes TLS 1.2 for queries, but a
 * transfer over it is REFUSED (signed, counted, no data); over TLS 1.3 an unsigned request is
 * REFUSED too, a signed one served. */
Test(xfr_tls, transfer_over_tls_1_2_or_unsigned_is_refused)
{
	write_zone(1);
	start_primary(false);
	static uint8_t m[70000];
	size_t n = axfr_over_openssl("-tls1_2", true, m, sizeof(m));
	cr_assert_gt(n, 12, "no answer over TLS 1.2");
	cr_assert_eq(m[3] & 0xf, 5, "rcode %u over TLS 1.2", m[3] & 0xf);
	cr_assert_eq(m[6] << 8 | m[7], 0, "data sent over TLS 1.2");
	/* TLS does not replace TSIG (RFC 9103 §9.3.3): unsigned over TLS 1.3 is REFUSED */
	n = axfr_over_openssl("-tls1_3", false, m, sizeof(m));
	cr_assert_gt(n, 12, "no answer to the unsigned request");
	cr_assert_eq(m[3] & 0xf, 5, "rcode %u to an unsigned request", m[3] & 0xf);
	cr_assert_eq(m[6] << 8 | m[7], 0, "data sent to an unsigned request");
	n = axfr_over_openssl("-tls1_3", true, m, sizeof(m));
	cr_assert_gt(n, 12, "no answer over TLS 1.3");
	cr_assert_eq(m[3] & 0xf, 0, "rcode %u over TLS 1.3", m[3] & 0xf);
	cr_assert_gt(m[6] << 8 | m[7], 100);
	kill(pri.pid, SIGUSR1);
	cr_assert(fe_test_daemon_wait_log(&pri, "xfr_refused_tls=1", 1, WAIT_S));
	cr_assert_eq(fe_test_daemon_log_count(&pri, "xfr_refused_unsigned=1 "), 1);
	cr_assert_geq(fe_test_daemon_log_count(&pri, "TLS below 1.3"), 1);
}
