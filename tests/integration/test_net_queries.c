/* fedenumd over the network: smoke tests (UDP, TCP, IPv6, pipelining, two workers) and the
 * transport-level hostile queries docs/security.md Q1 and Q6. Answer semantics (Q2–Q5, Q7, Q9)
 * are tested by test_answer_* files. */
#include "net_common.h"

static struct fe_test_daemon d;

static void start_zone(const char *const *extra)
{
	const char *argv[16] = {"--zone", NET_ZONE};
	size_t n = 2;
	for (size_t i = 0; extra && extra[i]; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	cr_assert_eq(fe_test_daemon_start(&d, NULL, argv), 0);
}

static void stop(void)
{
	if (d.pid > 0)
		cr_expect_eq(fe_test_daemon_stop(&d), 0, "fedenumd exit status");
}

TestSuite(net_queries, .fini = stop, .timeout = 120);

static void expect_naptr(ldns_pkt *p)
{
	cr_assert_not_null(p, "no answer");
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert(ldns_pkt_qr(p));
	ldns_rr_list *an = ldns_pkt_answer(p);
	cr_assert_eq(ldns_rr_list_rr_count(an), 1);
	cr_assert_eq(ldns_rr_get_type(ldns_rr_list_rr(an, 0)), LDNS_RR_TYPE_NAPTR);
	ldns_pkt_free(p);
}

Test(net_queries, udp_tcp_and_ipv6)
{
	start_zone((const char *const[]){"--listen", "::1@0", NULL});
	expect_naptr(fe_test_query(d.host, d.port, NET_NAPTR, LDNS_RR_TYPE_NAPTR, 0, 0));
	expect_naptr(fe_test_query(d.host, d.port, NET_NAPTR, LDNS_RR_TYPE_NAPTR, FE_TQ_TCP, 0));
	uint16_t p6 = nc_ready_port(&d, "udp", "::1");
	cr_assert_neq(p6, 0, "no ::1 line in the ready file");
	cr_assert_eq(nc_ready_port(&d, "tcp", "::1"), p6);
	cr_assert_eq(nc_ready_port(&d, "tcp", "127.0.0.1"), d.port);
	expect_naptr(fe_test_query("::1", p6, NET_NAPTR, LDNS_RR_TYPE_NAPTR, 0, 0));
	expect_naptr(fe_test_query("::1", p6, NET_NAPTR, LDNS_RR_TYPE_NAPTR, FE_TQ_TCP, 0));
	cr_assert_eq(fe_test_daemon_log_count(&d, "started: listening on 127.0.0.1@"), 1);
}

Test(net_queries, demo_federation_by_its_configuration)
{
	/* The demo federation starts only when asked for: -c federation/fedenumd.conf (fe_test
	 * adds --db/--listen, which override the file's). */
	const char *argv[] = {"-c", FE_TEST_SRC "/federation/fedenumd.conf", NULL};
	cr_assert_eq(fe_test_daemon_start(&d, NULL, argv), 0);
	ldns_pkt *p = fe_test_query(d.host, d.port, "1.0.0.0.0.0.1.5.5.5.1.e164.fed.",
	                            LDNS_RR_TYPE_NAPTR, FE_TQ_DO, 0);
	cr_assert_not_null(p);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_geq(ldns_rr_list_rr_count(ldns_pkt_answer(p)), 1);
	ldns_pkt_free(p);
	cr_assert_eq(fe_test_daemon_log_count(&d, "federation demo"), 1);
}

Test(net_queries, tcp_pipelined_answers_all_arrive)
{
	start_zone(NULL);
	int fd = fe_test_tcp_connect(d.host, d.port);
	cr_assert_geq(fd, 0);
	enum { N = 300 };
	static uint8_t buf[N * 80];
	size_t len = 0;
	static const char *const names[] = {NET_NAPTR, "www.net.test.", "nx.net.test.",
	                                    "net.test."};
	static const uint16_t types[] = {LDNS_RR_TYPE_NAPTR, LDNS_RR_TYPE_AAAA, LDNS_RR_TYPE_A,
	                                 LDNS_RR_TYPE_SOA};
	for (unsigned i = 0; i < N; i++)
		len += nc_tcp_query(names[i % 4], types[i % 4], (uint16_t)(1000 + i), buf + len,
		                    sizeof(buf) - len);
	cr_assert_eq(fe_test_write_all(fd, buf, len), 0);
	static bool seen[N];
	uint8_t a[65536];
	for (unsigned i = 0; i < N; i++) {
		ssize_t r = fe_test_tcp_read_msg(fd, a, sizeof(a), 3000);
		cr_assert_gt(r, 12, "answer %u of %u missing", i, N);
		unsigned id = fe_get_be16(a) - 1000u;
		cr_assert_lt(id, N);
		cr_assert_not(seen[id], "two answers for %u", id);
		seen[id] = true;
		unsigned want = (id % 4) == 2 ? LDNS_RCODE_NXDOMAIN : LDNS_RCODE_NOERROR;
		cr_assert_eq(nc_rcode(a), want, "query %u rcode %u", id, nc_rcode(a));
	}
	close(fd);
}

Test(net_queries, two_workers_both_answer)
{
	start_zone((const char *const[]){"--workers", "2", NULL});
	/* A fresh socket per query: new source port, new SO_REUSEPORT hash. */
	for (int i = 0; i < 64; i++) {
		ldns_pkt *p = fe_test_query(d.host, d.port, "www.net.test.", LDNS_RR_TYPE_A, 0, 0);
		cr_assert_not_null(p, "query %d", i);
		ldns_pkt_free(p);
	}
	long long q0 = nc_worker_queries(&d, 0), q1 = nc_worker_queries(&d, 1);
	cr_assert_eq(q0 + q1, 64, "worker 0 %lld, worker 1 %lld", q0, q1);
	cr_assert_gt(q0, 0, "worker 0 answered nothing");
	cr_assert_gt(q1, 0, "worker 1 answered nothing");
	cr_assert_eq(nc_worker_queries(&d, 2), -1, "only two workers");
}

/* docs/security.md Q1: 0–16 byte datagrams, header only, QDCOUNT 0. */
Test(net_queries, q1_short_datagrams)
{
	start_zone(NULL);
	uint8_t junk[16], a[4096];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(0x11 * i);
	junk[2] = 0x01; /* QR=0, opcode QUERY, RD */
	for (size_t len = 0; len <= 16; len++) {
		ssize_t r = fe_test_udp_raw(d.host, d.port, junk, len, a, sizeof(a), 200);
		cr_assert_geq(r, 0);
		if (len < 12) {
			cr_assert_eq(r, 0, "answered a %zu-byte datagram", len);
		} else if (r > 0) {
			cr_assert_geq(r, 12);
			cr_assert(a[2] & 0x80);
			cr_assert_eq(nc_rcode(a), LDNS_RCODE_FORMERR, "len %zu rcode %u", len,
			             nc_rcode(a));
			cr_assert_leq((size_t)r, len + 11, "amplified: %zd for %zu", r, len);
		}
	}
	uint8_t hdr[12] = {0xab, 0xcd, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0}; /* QDCOUNT 0 */
	ssize_t r = fe_test_udp_raw(d.host, d.port, hdr, sizeof(hdr), a, sizeof(a), 1000);
	cr_assert_eq(r, 12);
	cr_assert_eq(fe_get_be16(a), 0xabcd);
	cr_assert_eq(nc_rcode(a), LDNS_RCODE_FORMERR);
	cr_assert(fe_test_daemon_alive(&d));
	ldns_pkt *p = fe_test_query(d.host, d.port, NET_NAPTR, LDNS_RR_TYPE_NAPTR, 0, 0);
	cr_assert_not_null(p);
	ldns_pkt_free(p);
}

/* docs/security.md Q6: responses as queries, other opcodes, meta-types over UDP. */
Test(net_queries, q6_responses_opcodes_meta_types)
{
	start_zone(NULL);
	uint8_t q[512], a[4096];
	size_t n = fe_test_make_query(NET_NAPTR, LDNS_RR_TYPE_NAPTR, 0, 0, q, sizeof(q));
	cr_assert_gt(n, 0);
	q[2] |= 0x80; /* QR=1: dropped, never answered (no reflection loops) */
	cr_assert_eq(fe_test_udp_raw(d.host, d.port, q, n, a, sizeof(a), 500), 0);

	for (unsigned op = 1; op < 16; op++) {
		if (op == 4)
			continue; /* NOTIFY: the xfr module's */
		n = fe_test_make_query(NET_NAPTR, LDNS_RR_TYPE_NAPTR, 0, 0, q, sizeof(q));
		q[2] = (uint8_t)((q[2] & 0x87) | (op << 3));
		ssize_t r = fe_test_udp_raw(d.host, d.port, q, n, a, sizeof(a), 1000);
		cr_assert_gt(r, 0, "no answer to opcode %u", op);
		cr_assert_eq(nc_rcode(a), LDNS_RCODE_NOTIMPL, "opcode %u: rcode %u", op,
		             nc_rcode(a));
		cr_assert_eq((a[2] >> 3) & 0xf, op, "opcode echoed");
	}

	static const uint16_t meta[] = {LDNS_RR_TYPE_AXFR, LDNS_RR_TYPE_IXFR};
	for (size_t i = 0; i < FE_ARRAY_LEN(meta); i++) {
		ldns_pkt *p = fe_test_query(d.host, d.port, "net.test.", meta[i], 0, 0);
		cr_assert_not_null(p);
		cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED, "type %u over UDP",
		             meta[i]);
		cr_assert_eq(ldns_pkt_ancount(p), 0);
		ldns_pkt_free(p);
	}
	/* ANY over UDP without EDNS: no amplification beyond 512 bytes. */
	n = fe_test_make_query("big.net.test.", LDNS_RR_TYPE_ANY, FE_TQ_NOEDNS, 0, q, sizeof(q));
	ssize_t r = fe_test_udp_raw(d.host, d.port, q, n, a, sizeof(a), 1000);
	cr_assert_gt(r, 0);
	cr_assert_leq(r, 512);
	cr_assert(fe_test_daemon_alive(&d));
}
