/* fedenumd's TCP service under hostile clients: docs/security.md C1–C4 (RFC 7766 framing, idle
 * timeout, clients that never read, connection limit). Limits are set in a fedenumd.conf
 * so that the tests also cover the configuration keys. */
#include "net_common.h"

static struct fe_test_daemon d;
static char dir[256];

static void start(const char *server)
{
	fe_test_mkdtemp(dir, sizeof(dir));
	nc_write_config(dir, "\"127.0.0.0/8\", \"::1/128\"", server);
	nc_start_config(&d, dir, NULL);
}

static void stop(void)
{
	if (d.pid > 0)
		cr_expect_eq(fe_test_daemon_stop(&d), 0, "fedenumd exit status");
	fe_test_rmdir(dir);
}

TestSuite(net_tcp, .fini = stop, .timeout = 120);

static bool roundtrip(int fd, uint16_t id)
{
	uint8_t q[600], a[65536];
	size_t n = nc_tcp_query(NET_NAPTR, LDNS_RR_TYPE_NAPTR, id, q, sizeof(q));
	if (fe_test_write_all(fd, q, n) != 0)
		return false;
	ssize_t r = fe_test_tcp_read_msg(fd, a, sizeof(a), 2000);
	return r > 12 && fe_get_be16(a) == id && nc_rcode(a) == LDNS_RCODE_NOERROR;
}

/* C1: length 0; 65535 announced then a short message; garbage. Others unaffected. */
Test(net_tcp, c1_bad_framing_closes_only_that_connection)
{
	start("tcp-idle-timeout-ms = 1000;");
	int good = fe_test_tcp_connect(d.host, d.port);
	cr_assert(roundtrip(good, 1));

	int zero = fe_test_tcp_connect(d.host, d.port);
	cr_assert_eq(fe_test_write_all(zero, "\0\0", 2), 0);
	cr_assert(fe_test_wait_closed(zero, 2000), "length 0 not closed");
	close(zero);

	int shortmsg = fe_test_tcp_connect(d.host, d.port);
	uint8_t q[600];
	size_t n = nc_tcp_query(NET_NAPTR, LDNS_RR_TYPE_NAPTR, 2, q, sizeof(q));
	q[0] = 0xff;
	q[1] = 0xff; /* claims 65535 bytes, sends a query's worth */
	cr_assert_eq(fe_test_write_all(shortmsg, q, n), 0);

	int garbage = fe_test_tcp_connect(d.host, d.port);
	uint8_t g[2 + 40];
	g[0] = 0;
	g[1] = 40;
	for (size_t i = 2; i < sizeof(g); i++)
		g[i] = (uint8_t)(0x5a ^ (i * 37));
	g[4] = 0x80; /* QR=1 garbage: never a valid query */
	cr_assert_eq(fe_test_write_all(garbage, g, sizeof(g)), 0);
	cr_assert(fe_test_wait_closed(garbage, 2000), "garbage not closed");
	close(garbage);

	int formerr = fe_test_tcp_connect(d.host, d.port);
	uint8_t f[2 + 12] = {0, 12, 0x12, 0x34, 0x01, 0, 0, 2, 0, 0, 0, 0, 0, 0}; /* QDCOUNT 2 */
	cr_assert_eq(fe_test_write_all(formerr, f, sizeof(f)), 0);
	uint8_t a[65536];
	ssize_t r = fe_test_tcp_read_msg(formerr, a, sizeof(a), 2000);
	cr_assert_gt(r, 0, "malformed query: FORMERR answer expected before the close");
	cr_assert_eq(nc_rcode(a), LDNS_RCODE_FORMERR);
	cr_assert(fe_test_wait_closed(formerr, 2000));
	close(formerr);

	cr_assert(roundtrip(good, 3), "the good connection is still served");
	close(good);
	cr_assert(fe_test_wait_closed(shortmsg, 4000), "short message not closed by the timeout");
	close(shortmsg);
	int fresh = fe_test_tcp_connect(d.host, d.port);
	cr_assert(roundtrip(fresh, 4));
	close(fresh);
	cr_assert_geq(nc_counter(&d, "tcp_bad_frame"), 3);
	cr_assert_geq(nc_counter(&d, "tcp_idle_closed"), 1);
}

/* C2: slowloris — nothing sent, or all but one byte: closed after the idle timeout. */
Test(net_tcp, c2_idle_timeout)
{
	start("tcp-idle-timeout-ms = 1000;");
	int silent = fe_test_tcp_connect(d.host, d.port);
	int slow = fe_test_tcp_connect(d.host, d.port);
	int active = fe_test_tcp_connect(d.host, d.port);
	uint8_t q[600];
	size_t n = nc_tcp_query(NET_NAPTR, LDNS_RR_TYPE_NAPTR, 9, q, sizeof(q));
	uint64_t t0 = nc_now_ms();
	cr_assert_eq(fe_test_write_all(slow, q, n - 1), 0);
	/* The active client asks every 300 ms: well inside the timeout each time. */
	for (int i = 0; i < 6; i++) {
		nc_sleep_ms(300);
		cr_assert(roundtrip(active, (uint16_t)i), "active client dropped at round %d", i);
	}
	cr_assert(fe_test_wait_closed(silent, 3000));
	cr_assert(fe_test_wait_closed(slow, 3000));
	uint64_t took = nc_now_ms() - t0;
	cr_assert_geq(took, 900, "closed after %llu ms, before the 1 s timeout",
	              (unsigned long long)took);
	cr_assert(roundtrip(active, 100));
	close(silent);
	close(slow);
	close(active);
	cr_assert_geq(nc_counter(&d, "tcp_idle_closed"), 2);
}

/* C3: a client that never reads, 10,000 pipelined queries for 7.5 KB answers: the output
 * backlog cap (tcp-max-out-bytes, 256 KiB by default) closes it. */
Test(net_tcp, c3_client_never_reads)
{
	start("tcp-idle-timeout-ms = 3000;");
	long rss0 = nc_rss_kb(d.pid);
	cr_assert_gt(rss0, 0);
	int fd = nc_tcp_connect_rcvbuf(d.port, 4096);
	enum { N = 10000 };
	static uint8_t buf[N * 64];
	size_t len = 0;
	for (unsigned i = 0; i < N; i++)
		len += nc_tcp_query("big.net.test.", LDNS_RR_TYPE_TXT, (uint16_t)i, buf + len,
		                    sizeof(buf) - len);
	size_t sent = nc_send_some(fd, buf, len, 2000);
	cr_assert_gt(sent, 0);
	long long backlog = 0;
	for (int i = 0; i < 100 && backlog == 0; i++) {
		nc_sleep_ms(50);
		backlog = nc_counter(&d, "tcp_backlog_closed");
	}
	long rss1 = nc_rss_kb(d.pid);
	cr_assert_eq(backlog, 1, "not closed for its backlog");
	cr_assert(fe_test_wait_closed(fd, 8000), "connection not closed");
	close(fd);
	cr_assert_lt(rss1 - rss0, 32 * 1024, "RSS grew from %ld to %ld KiB", rss0, rss1);
	long long answered = nc_counter(&d, "tcp");
	cr_assert_lt(answered, N, "all %lld queries answered for a client that reads nothing",
	             answered);
	int fresh = fe_test_tcp_connect(d.host, d.port);
	cr_assert(roundtrip(fresh, 1));
	close(fresh);
}

/* C3 with small answers: kernel buffers fill, the pipeline limit stops reading, and the
 * idle timeout (no write progress) ends it. */
Test(net_tcp, c3_pipeline_limit_small_answers)
{
	start("tcp-idle-timeout-ms = 1000; tcp-max-pipeline = 20;");
	long rss0 = nc_rss_kb(d.pid);
	int fd = nc_tcp_connect_rcvbuf(d.port, 4096);
	enum { N = 60000 };
	static uint8_t buf[N * 64];
	size_t len = 0;
	for (unsigned i = 0; i < N; i++)
		len += nc_tcp_query(NET_NAPTR, LDNS_RR_TYPE_NAPTR, (uint16_t)i, buf + len,
		                    sizeof(buf) - len);
	size_t sent = nc_send_some(fd, buf, len, 2000);
	long long idle = 0;
	for (int i = 0; i < 100 && idle == 0; i++) {
		nc_sleep_ms(50);
		idle = nc_counter(&d, "tcp_idle_closed");
	}
	long rss1 = nc_rss_kb(d.pid);
	long long answered = nc_counter(&d, "tcp");
	cr_assert_eq(idle, 1, "not closed by the idle timeout (sent %zu of %zu, %lld answered)",
	             sent, len, answered);
	cr_assert_lt(answered, N, "every query was answered to a non-reader");
	cr_assert_lt(rss1 - rss0, 32 * 1024, "RSS grew from %ld to %ld KiB", rss0, rss1);
	close(fd);
}

/* C4: beyond tcp-max-clients new connections are closed, existing ones served. */
Test(net_tcp, c4_connection_limit)
{
	start("tcp-max-clients = 5; workers = 2;");
	int c[5];
	for (int i = 0; i < 5; i++) {
		c[i] = fe_test_tcp_connect(d.host, d.port);
		cr_assert_geq(c[i], 0);
		cr_assert(roundtrip(c[i], (uint16_t)i));
	}
	for (int i = 0; i < 3; i++) {
		int extra = fe_test_tcp_connect(d.host, d.port);
		cr_assert_geq(extra, 0);
		cr_assert(fe_test_wait_closed(extra, 2000), "connection %d over the limit kept", i);
		close(extra);
	}
	for (int i = 0; i < 5; i++)
		cr_assert(roundtrip(c[i], (uint16_t)(10 + i)), "established %d not served", i);
	cr_assert_eq(nc_counter(&d, "tcp_refused_limit"), 3);
	/* UDP is not affected by the TCP limit. */
	ldns_pkt *p = fe_test_query(d.host, d.port, NET_NAPTR, LDNS_RR_TYPE_NAPTR, 0, 0);
	cr_assert_not_null(p);
	ldns_pkt_free(p);
	for (int i = 0; i < 5; i++)
		close(c[i]);
}
