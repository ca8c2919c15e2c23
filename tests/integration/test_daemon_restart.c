/* A restart serves straight from the store: zone files whose serial is already stored are
 * not parsed again (issue #2 §3), and a zone no longer given on the command line keeps
 * being served from the store. */
#include <criterion/criterion.h>
#include <string.h>

#include "fe_test.h"

#define ZONE FE_TEST_SRC "/tests/integration/data/net.test.zone"

static void expect_www(struct fe_test_daemon *d)
{
	ldns_pkt *p = fe_test_query(d->host, d->port, "www.net.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_not_null(p, "no answer from fedenumd");
	cr_expect_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_expect_eq(ldns_rr_list_rr_count(ldns_pkt_answer(p)), 1);
	ldns_pkt_free(p);
}

Test(daemon_restart, unchanged_serial_is_not_parsed_again, .timeout = 60)
{
	char dir[256];
	fe_test_mkdtemp(dir, sizeof(dir));
	const char *args[] = {"--zone", ZONE, NULL};
	struct fe_test_daemon d;

	cr_assert_eq(fe_test_daemon_start(&d, dir, args), 0);
	cr_expect_eq(fe_test_daemon_log_count(&d, "zone net.test. serial 1 loaded"), 1,
	             "first start parses and stores the zone");
	expect_www(&d);
	cr_assert_eq(fe_test_daemon_stop(&d), 0);

	cr_assert_eq(fe_test_daemon_start(&d, dir, args), 0);
	cr_expect_eq(fe_test_daemon_log_count(&d, "already current, not reloaded"), 1,
	             "restart with the same serial must not parse the file");
	cr_expect_eq(fe_test_daemon_log_count(&d, "zone net.test. serial 1 loaded"), 1,
	             "no second load line");
	expect_www(&d);
	cr_assert_eq(fe_test_daemon_stop(&d), 0);

	/* Without --zone: answered from the store alone. (An empty configuration, not none:
	 * without any, fedenumd runs the demo federation, whose trust anchors would keep this
	 * unvalidated zone from being served.) */
	const char *noconf[] = {"-c", "/dev/null", NULL};
	cr_assert_eq(fe_test_daemon_start(&d, dir, noconf), 0);
	expect_www(&d);
	cr_assert_eq(fe_test_daemon_stop(&d), 0);
	fe_test_rmdir(dir);
}
