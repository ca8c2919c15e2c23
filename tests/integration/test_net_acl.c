/* docs/security.md Q8: a client outside the federation's admission list (federation.conf
 * `clients`) gets REFUSED — never silence, never data — it is counted, and the log line
 * about it is rate limited. */
#include "net_common.h"

static struct fe_test_daemon d;
static char dir[256];

static void stop(void)
{
	if (d.pid > 0)
		cr_expect_eq(fe_test_daemon_stop(&d), 0, "fedenumd exit status");
	fe_test_rmdir(dir);
}

TestSuite(net_acl, .fini = stop, .timeout = 120);

Test(net_acl, q8_outsider_refused_counted_logged_rate_limited)
{
	fe_test_mkdtemp(dir, sizeof(dir));
	/* 127.0.0.1 is not admitted; ::1 is. */
	nc_write_config(dir, "\"10.0.0.0/8\", \"::1/128\"", "");
	nc_start_config(&d, dir, (const char *const[]){"--listen", "::1@0", NULL});

	enum { N = 40 };
	for (int i = 0; i < N; i++) {
		ldns_pkt *p = fe_test_query(d.host, d.port, NET_NAPTR, LDNS_RR_TYPE_NAPTR,
		                            i % 2 ? FE_TQ_TCP : 0, 0);
		cr_assert_not_null(p, "query %d: silence instead of REFUSED", i);
		cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED, "query %d", i);
		cr_assert_eq(ldns_pkt_ancount(p), 0);
		cr_assert_eq(ldns_pkt_nscount(p), 0);
		ldns_pkt_free(p);
	}
	/* The admitted address family still gets data. */
	uint16_t p6 = nc_ready_port(&d, "udp", "::1");
	cr_assert_neq(p6, 0);
	ldns_pkt *p = fe_test_query("::1", p6, NET_NAPTR, LDNS_RR_TYPE_NAPTR, 0, 0);
	cr_assert_not_null(p);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);

	cr_assert_eq(nc_counter(&d, "acl_refused"), N);
	cr_assert_eq(nc_counter(&d, "refused"), N);
	cr_assert_eq(nc_counter(&d, "noerror"), 1);
	int lines = fe_test_daemon_log_count(&d, "outside the admission list");
	cr_assert_geq(lines, 1, "no log line names the refused client");
	cr_assert_leq(lines, 10, "%d log lines for %d refusals: not rate limited", lines, N);
	cr_assert_geq(fe_test_daemon_log_count(&d, "client 127.0.0.1#"), 1);
}

Test(net_acl, refused_does_not_amplify)
{
	fe_test_mkdtemp(dir, sizeof(dir));
	nc_write_config(dir, "\"192.0.2.0/24\"", "");
	nc_start_config(&d, dir, NULL);
	uint8_t q[512], a[4096];
	size_t n = fe_test_make_query("big.net.test.", LDNS_RR_TYPE_TXT, 0, 4096, q, sizeof(q));
	ssize_t r = fe_test_udp_raw(d.host, d.port, q, n, a, sizeof(a), 2000);
	cr_assert_gt(r, 0);
	cr_assert_eq(nc_rcode(a), LDNS_RCODE_REFUSED);
	cr_assert_leq((size_t)r, n + 16, "REFUSED answer %zd bytes for a %zu-byte query", r, n);
	/* A response sent as a query from an outsider: still dropped, not refused. */
	q[2] |= 0x80;
	cr_assert_eq(fe_test_udp_raw(d.host, d.port, q, n, a, sizeof(a), 500), 0);
}
