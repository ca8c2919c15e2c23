/* fedenumd's DNS-over-TLS listener (RFC 7858): real clients (kdig +tls, OpenSSL's s_client
 * for what kdig cannot do, raw sockets for hostile ones) on loopback, ephemeral ports. A test
 * PKI is made per test by tests/integration/data/mk-tls-certs.sh (openssl commands).
 * docs/security.md C1–C4 over TLS: plain TCP on the TLS port, idle clients, handshakes that
 * never finish, the connection limit. */
#include "net_common.h"

#include <fcntl.h>
#include <openssl/ssl.h>
#include <sys/stat.h>

#define CERTS FE_TEST_SRC "/tests/integration/data/mk-tls-certs.sh"

static struct fe_test_daemon d;
static char dir[256];
static uint16_t tls_port;

static void stop(void)
{
	if (d.pid > 0)
		cr_expect_eq(fe_test_daemon_stop(&d), 0, "fedenumd exit status");
	d.pid = 0;
	fe_test_rmdir(dir);
}

TestSuite(net_tls, .fini = stop, .timeout = 180);

/* A test PKI in @dir, then fedenumd with @server (libconfig group body, after the TLS keys)
 * and @fed_extra appended to the federation definition. */
static void start_with(const char *server, const char *fed_clients, const char *fed_extra)
{
	fe_test_mkdtemp(dir, sizeof(dir));
	cr_assert_eq(fe_test_sh("%s %s", CERTS, dir), 0, "test PKI");
	char path[512];
	snprintf(path, sizeof(path), "%s/federation.conf", dir);
	nc_write_file(path,
	              "name = \"tls-test\";\n"
	              "clients = [%s];\n"
	              "members = ( { name = \"registry\"; role = \"registry\"; } );\n"
	              "zones = ( { apex = \"net.test.\"; member = \"registry\"; file = \"%s\"; } "
	              ");\n%s",
	              fed_clients, NET_ZONE, fed_extra);
	snprintf(path, sizeof(path), "%s/fedenumd.conf", dir);
	nc_write_file(path,
	              "federation = \"federation.conf\";\n"
	              "server: { tls-listen = [\"127.0.0.1@0\"]; tls-cert = \"server.pem\"; "
	              "tls-key = \"server.key\"; %s };\n"
	              "log: { level = \"info\"; };\n",
	              server);
	nc_start_config(&d, dir, NULL);
	tls_port = nc_ready_port(&d, "tls", "127.0.0.1");
	cr_assert_gt(tls_port, 0, "no tls line in the ready file");
}

static void start(const char *server)
{
	start_with(server, "\"127.0.0.0/8\"", "");
}

/* kdig with @opts against the TLS port; its output into @out. Returns its exit status. */
static int kdig(const char *opts, const char *name, char *out, size_t cap)
{
	char cmd[2048], outf[512];
	snprintf(outf, sizeof(outf), "%s/kdig.out", dir);
	snprintf(cmd, sizeof(cmd),
	         "cd %s && timeout 20 kdig @127.0.0.1 -p %u +time=3 +retry=0 %s %s NAPTR >%s "
	         "2>&1",
	         dir, tls_port, opts, name, outf);
	int rc = system(cmd);
	FILE *f = fopen(outf, "r");
	size_t n = f ? fread(out, 1, cap - 1, f) : 0;
	out[n] = '\0';
	if (f)
		fclose(f);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

#define NAPTR_TEXT "sip:+1000001@net.test;user=phone"

static bool has(const char *out, const char *needle)
{
	return strstr(out, needle) != NULL;
}

/* The same answer as over TCP, with opportunistic TLS, with the test CA and the server's
 * name (RFC 7858 §4.2 / RFC 8310 strict profile), and over plain TCP for comparison. */
Test(net_tls, kdig_tls_answers_like_tcp)
{
	start("");
	char out[8192];
	cr_assert_eq(kdig("+tls", NET_NAPTR, out, sizeof(out)), 0, "%s", out);
	cr_assert(has(out, "status: NOERROR") && has(out, NAPTR_TEXT), "%s", out);
	cr_assert(has(out, "TLS session (TLS1.3)"), "TLS 1.3 expected: %s", out);
	cr_assert_eq(kdig("+tls-ca=ca.pem +tls-hostname=dot.test", NET_NAPTR, out, sizeof(out)), 0,
	             "%s", out);
	cr_assert(has(out, "status: NOERROR") && has(out, NAPTR_TEXT), "%s", out);
	/* The wrong name fails verification on the client side. */
	kdig("+tls-ca=ca.pem +tls-hostname=other.test", NET_NAPTR, out, sizeof(out));
	cr_assert(!has(out, "status: NOERROR"), "name mismatch accepted: %s", out);
	/* Answer bytes identical to TCP's (same query, same id, +noall +answer text). */
	char tcp[8192], cmd[1024];
	cr_assert_eq(kdig("+tls +noall +answer +noedns", NET_NAPTR, out, sizeof(out)), 0);
	snprintf(cmd, sizeof(cmd),
	         "kdig @127.0.0.1 -p %u +tcp +noall +answer +noedns %s NAPTR >%s/tcp.out 2>&1",
	         d.port, NET_NAPTR, dir);
	cr_assert_eq(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/tcp.out", dir);
	FILE *f = fopen(cmd, "r");
	size_t n = fread(tcp, 1, sizeof(tcp) - 1, f);
	tcp[n] = '\0';
	fclose(f);
	cr_assert_str_eq(out, tcp);
	/* A name outside the zones: REFUSED, as over TCP. */
	cr_assert_eq(kdig("+tls", "example.org.", out, sizeof(out)), 0);
	cr_assert(has(out, "status: REFUSED"), "%s", out);
	/* ALPN "dot" is selected when offered (RFC 7858 / RFC 9103 use of "dot"). */
	snprintf(cmd, sizeof(cmd),
	         "echo | timeout 10 openssl s_client -connect 127.0.0.1:%u -alpn dot "
	         "-CAfile %s/ca.pem 2>&1 | grep -q 'ALPN protocol: dot'",
	         tls_port, dir);
	cr_assert_eq(system(cmd), 0, "ALPN dot not negotiated");
	/* TLS 1.1 is refused. */
	snprintf(cmd, sizeof(cmd),
	         "echo | timeout 10 openssl s_client -connect 127.0.0.1:%u -tls1_1 2>&1 | grep -q "
	         "'Cipher is (NONE)\\|alert\\|no protocols'",
	         tls_port);
	cr_assert_eq(system(cmd), 0, "TLS 1.1 accepted");
	cr_assert_geq(nc_counter(&d, "tls_handshakes"), 5);
}

/* Plain DNS over TCP sent to the TLS port: not TLS, the handshake fails, the connection is
 * closed at once (not left to the timeout). */
Test(net_tls, plain_tcp_on_tls_port_closed)
{
	start("tcp-idle-timeout-ms = 10000;");
	int fd = fe_test_tcp_connect(d.host, tls_port);
	uint8_t q[600];
	size_t n = fe_test_make_query(NET_NAPTR, 35, FE_TQ_TCP, 1232, q, sizeof(q));
	cr_assert_gt(n, 0);
	cr_assert_eq(fe_test_write_all(fd, q, n), 0);
	uint64_t t0 = nc_now_ms();
	cr_assert(fe_test_wait_closed(fd, 3000), "plain TCP on the TLS port not closed");
	cr_assert_lt(nc_now_ms() - t0, 2000);
	close(fd);
	cr_assert_geq(nc_counter(&d, "tls_handshake_failed"), 1);
	char out[8192];
	cr_assert_eq(kdig("+tls", NET_NAPTR, out, sizeof(out)), 0, "%s", out);
}

/* C2 over TLS: a handshake that never completes (TCP connect, then nothing, or half a
 * ClientHello), and an idle session after a query: both closed after the timeout. */
Test(net_tls, handshake_and_idle_timeouts)
{
	start("tcp-idle-timeout-ms = 1000;");
	int silent = fe_test_tcp_connect(d.host, tls_port);
	int half = fe_test_tcp_connect(d.host, tls_port);
	/* A TLS record header announcing 512 bytes of handshake, then 3 bytes of it. */
	const uint8_t hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01};
	cr_assert_eq(fe_test_write_all(half, hello, sizeof(hello)), 0);
	uint64_t t0 = nc_now_ms();
	cr_assert(fe_test_wait_closed(silent, 4000), "silent client not closed");
	cr_assert(fe_test_wait_closed(half, 4000), "half handshake not closed");
	uint64_t took = nc_now_ms() - t0;
	cr_assert_geq(took, 900, "closed after %llu ms, before the timeout",
	              (unsigned long long)took);
	close(silent);
	close(half);
	cr_assert_geq(nc_counter(&d, "tls_handshake_failed"), 2);

	/* A session that asks one question and stays: closed after the idle timeout. The
	 * client sleeps in s_client's stdin; the server's close ends s_client. */
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
	         "s=$(date +%%s%%3N); sleep 6 | { timeout 8 openssl s_client -connect "
	         "127.0.0.1:%u -quiet >/dev/null 2>&1; echo $(( $(date +%%s%%3N) - s )) "
	         ">%s/took; }",
	         tls_port, dir);
	long long idle0 = nc_counter(&d, "tcp_idle_closed");
	cr_assert_eq(system(cmd), 0);
	char path[512];
	snprintf(path, sizeof(path), "%s/took", dir);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	long long ms = -1;
	cr_assert_eq(fscanf(f, "%lld", &ms), 1);
	fclose(f);
	cr_assert(ms >= 900 && ms < 4000, "idle TLS session closed after %lld ms (timeout 1 s)",
	          ms);
	cr_assert_geq(nc_counter(&d, "tcp_idle_closed"), idle0 + 1);
	cr_assert_geq(nc_counter(&d, "tls_handshakes"), 1);
}

/* C4 over TLS: tcp-max-clients counts TLS sessions; beyond it new ones are closed, the
 * established ones keep being served. */
Test(net_tls, many_concurrent_clients_bounded)
{
	start("tcp-max-clients = 20; tcp-idle-timeout-ms = 20000;");
	/* 20 sessions held open by s_client (each sleeps in its stdin). */
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
	         "for i in $(seq 1 20); do (sleep 8 | timeout 12 openssl s_client -connect "
	         "127.0.0.1:%u -quiet >/dev/null 2>&1 &) ; done",
	         tls_port);
	cr_assert_eq(system(cmd), 0);
	for (int i = 0; i < 100 && nc_counter(&d, "tls_handshakes") < 20; i++)
		nc_sleep_ms(100);
	cr_assert_geq(nc_counter(&d, "tls_handshakes"), 20);
	char out[8192];
	kdig("+tls", NET_NAPTR, out, sizeof(out));
	cr_assert(!has(out, "status: NOERROR"), "21st session served: %s", out);
	cr_assert_geq(nc_counter(&d, "tcp_refused_limit"), 1);
	/* Once they are gone, new sessions are served again. */
	for (int i = 0; i < 150; i++) {
		nc_sleep_ms(100);
		if (kdig("+tls", NET_NAPTR, out, sizeof(out)) == 0 && has(out, "status: NOERROR"))
			break;
	}
	cr_assert(has(out, "status: NOERROR"), "not served after the sessions closed: %s", out);
}

/* C3 over TLS: a client that sends thousands of pipelined queries for 7.5 KB answers and
 * never reads. The framing's output limit (or, once the kernel buffers are full and
 * nothing moves, the idle timeout) closes it; the server's memory stays bounded. The client
 * is OpenSSL over a non-blocking socket with a 4 KiB receive buffer. */
Test(net_tls, c3_client_never_reads)
{
	signal(SIGPIPE, SIG_IGN); /* SSL_write after the server closed */
	start("tcp-idle-timeout-ms = 2000;");
	long rss0 = nc_rss_kb(d.pid);
	int fd = nc_tcp_connect_rcvbuf(tls_port, 4096);
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	cr_assert_eq(SSL_connect(ssl), 1, "handshake");
	cr_assert_eq(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
	enum { N = 10000 };
	static uint8_t buf[N * 64];
	size_t len = 0, off = 0;
	for (unsigned i = 0; i < N; i++)
		len += nc_tcp_query("big.net.test.", LDNS_RR_TYPE_TXT, (uint16_t)i, buf + len,
		                    sizeof(buf) - len);
	uint64_t until = nc_now_ms() + 3000;
	while (off < len && nc_now_ms() < until) {
		size_t w = 0;
		size_t chunk = len - off < 16384 ? len - off : 16384;
		if (SSL_write_ex(ssl, buf + off, chunk, &w)) {
			off += w;
			continue;
		}
		int e = SSL_get_error(ssl, 0);
		if (e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ)
			break; /* closed by the server */
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		(void)poll(&p, 1, 100);
	}
	long long closed = 0;
	for (int i = 0; i < 100 && closed == 0; i++) {
		nc_sleep_ms(50);
		closed = nc_counter(&d, "tcp_backlog_closed") + nc_counter(&d, "tcp_idle_closed");
	}
	long rss1 = nc_rss_kb(d.pid);
	cr_assert_eq(closed, 1, "not closed (sent %zu of %zu bytes)", off, len);
	cr_assert(fe_test_wait_closed(fd, 8000), "connection not closed");
	cr_assert_lt(rss1 - rss0, 32 * 1024, "RSS grew from %ld to %ld KiB", rss0, rss1);
	cr_log_info("sent %zu of %zu bytes, %lld answered, RSS +%ld KiB, backlog_closed %lld", off,
	            len, nc_counter(&d, "tcp"), rss1 - rss0, nc_counter(&d, "tcp_backlog_closed"));
	cr_assert_lt(nc_counter(&d, "tcp"), N, "every query answered to a non-reader");
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	char out[8192];
	cr_assert_eq(kdig("+tls", NET_NAPTR, out, sizeof(out)), 0, "%s", out);
	cr_assert(has(out, "status: NOERROR"), "%s", out);
}

/* Client certificates: with tls-client-ca a client must present a certificate the CA
 * verifies; its name selects the view that lists it in tls-clients. Here the federation's
 * own clients (the default view) do not include loopback, so a query is answered only
 * through the view "cert-a", which needs the certificate "client-a.test". */
Test(net_tls, client_certificate_selects_view)
{
	start_with("tls-client-ca = \"ca.pem\";", "\"192.0.2.0/24\"",
	           "views = ( { name = \"cert-a\"; clients = [\"127.0.0.0/8\"]; "
	           "tls-clients = [\"CLIENT-A.test\"]; } );\n");
	char out[8192];
	cr_assert_eq(kdig("+tls-ca=ca.pem +tls-hostname=dot.test +tls-certfile=client-a.pem "
	                  "+tls-keyfile=client-a.key",
	                  NET_NAPTR, out, sizeof(out)),
	             0, "%s", out);
	cr_assert(has(out, "status: NOERROR") && has(out, NAPTR_TEXT), "%s", out);
	/* Verified, but not a name of the view: in no view, REFUSED (EDE 18). */
	kdig("+tls +tls-certfile=client-b.test.pem +tls-keyfile=client-b.test.key", NET_NAPTR, out,
	     sizeof(out));
	cr_assert(has(out, "status: REFUSED"), "client-b: %s", out);
	/* No certificate: the handshake fails. */
	long long failed0 = nc_counter(&d, "tls_handshake_failed");
	kdig("+tls", NET_NAPTR, out, sizeof(out));
	cr_assert(!has(out, "status:"), "served without a certificate: %s", out);
	/* A certificate for the same name from another CA: the handshake fails. */
	kdig("+tls +tls-certfile=rogue.pem +tls-keyfile=rogue.key", NET_NAPTR, out, sizeof(out));
	cr_assert(!has(out, "status:"), "rogue certificate accepted: %s", out);
	cr_assert_geq(nc_counter(&d, "tls_handshake_failed"), failed0 + 2);
	/* Plain UDP from loopback: no view either. */
	ldns_pkt *p = fe_test_query(d.host, d.port, NET_NAPTR, 35, 0, 0);
	cr_assert_not_null(p);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);
}

/* Configuration errors name the file and line; a key readable by others is refused. */
Test(net_tls, config_errors)
{
	fe_test_mkdtemp(dir, sizeof(dir));
	cr_assert_eq(fe_test_sh("%s %s", CERTS, dir), 0);
	char path[512], cmd[1024];
	snprintf(path, sizeof(path), "%s/fedenumd.conf", dir);
	nc_write_file(path, "server: {\n tls-listen = [\"127.0.0.1@0\"];\n"
	                    " tls-cert = \"missing.pem\";\n tls-key = \"server.key\";\n};\n");
	snprintf(cmd, sizeof(cmd),
	         "%s/fedenumd -c %s --check-config 2>&1 | grep -q 'fedenumd.conf:3:.*missing.pem'",
	         FE_TEST_BUILD, path);
	cr_assert_eq(system(cmd), 0, "missing certificate not reported at file:line");
	nc_write_file(path, "server: {\n tls-listen = [\"127.0.0.1@0\"];\n"
	                    " tls-cert = \"server.pem\";\n tls-key = \"server.key\";\n};\n");
	snprintf(path, sizeof(path), "%s/server.key", dir);
	cr_assert_eq(chmod(path, 0644), 0);
	snprintf(path, sizeof(path), "%s/fedenumd.conf", dir);
	snprintf(cmd, sizeof(cmd),
	         "%s/fedenumd -c %s --check-config 2>&1 | grep -q "
	         "'fedenumd.conf:4:.*server.key.*readable by group or others'",
	         FE_TEST_BUILD, path);
	cr_assert_eq(system(cmd), 0, "a world-readable key not refused");
	nc_write_file(path, "server: {\n tls-listen = [\"127.0.0.1@0\"];\n};\n");
	snprintf(cmd, sizeof(cmd),
	         "%s/fedenumd -c %s --check-config 2>&1 | grep -q "
	         "'fedenumd.conf:2:.*needs server.tls-cert'",
	         FE_TEST_BUILD, path);
	cr_assert_eq(system(cmd), 0, "tls-listen without a certificate accepted");
}

/* Stop: an open TLS session is drained (closed with close_notify once nothing is queued)
 * and fedenumd exits at once with status 0; the client sees the close. */
Test(net_tls, stop_drains_sessions)
{
	start("tcp-idle-timeout-ms = 30000;");
	char cmd[1024], done[512];
	snprintf(done, sizeof(done), "%s/sclient.done", dir);
	snprintf(cmd, sizeof(cmd),
	         "(sleep 20 | { timeout 25 openssl s_client -connect 127.0.0.1:%u -quiet "
	         ">/dev/null 2>&1; touch %s; }) >/dev/null 2>&1 &",
	         tls_port, done);
	cr_assert_eq(system(cmd), 0);
	for (int i = 0; i < 100 && nc_counter(&d, "tls_handshakes") < 1; i++)
		nc_sleep_ms(50);
	cr_assert_eq(nc_counter(&d, "tls_handshakes"), 1);
	uint64_t t0 = nc_now_ms();
	cr_assert_eq(fe_test_daemon_stop(&d), 0, "fedenumd exit status");
	d.pid = 0;
	cr_assert_lt(nc_now_ms() - t0, 5000, "stop waited for the idle session");
	struct stat st;
	int i = 0;
	for (; i < 60 && stat(done, &st) != 0; i++)
		nc_sleep_ms(50);
	cr_assert_lt(i, 60, "the client did not see the server close its session");
}
