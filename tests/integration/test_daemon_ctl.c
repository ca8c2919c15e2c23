/* fedenumctl: offline zone-load into a store that fedenumd then serves at once, zone-list,
 * check-zone, exit codes. */
#include "net_common.h"

static struct fe_test_daemon d;
static char dir[256];

static void setup(void)
{
	fe_test_mkdtemp(dir, sizeof(dir));
}

static void stop(void)
{
	if (d.pid > 0)
		cr_expect_eq(fe_test_daemon_stop(&d), 0, "fedenumd exit status");
	fe_test_rmdir(dir);
}

TestSuite(ctl, .init = setup, .fini = stop, .timeout = 120);

static int ctl(const char *args, char *out, size_t cap)
{
	return nc_ctl(dir, args, out, cap);
}

Test(ctl, zone_load_list_then_serve)
{
	char args[1024], out[8192];
	snprintf(args, sizeof(args), "zone-load --db '%s/db' '%s'", dir, NET_ZONE);
	cr_assert_eq(ctl(args, out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "zone net.test. serial 1, "), "%s", out);
	cr_assert_not_null(strstr(out, "stored"), "%s", out);
	cr_assert_eq(ctl(args, out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "already current"), "%s", out);

	snprintf(args, sizeof(args), "zone-list --db '%s/db'", dir);
	cr_assert_eq(ctl(args, out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "apex"), "%s", out);
	char *row = strstr(out, "net.test.");
	cr_assert_not_null(row, "%s", out);
	unsigned serial = 0;
	unsigned long long version = 0, nodes = 0, rrs = 0;
	cr_assert_eq(sscanf(row, "net.test. %u %llu %llu %llu", &serial, &version, &nodes, &rrs), 4,
	             "%s", row);
	cr_assert_eq(serial, 1);
	cr_assert_gt(nodes, 3);
	cr_assert_geq(rrs, 36);
	cr_assert_not_null(strstr(row, "Z"), "loaded-at time missing: %s", row);

	/* fedenumd on that store (with a zone of its own) serves net.test. with no load. */
	char other[512];
	snprintf(other, sizeof(other), "%s/other.zone", dir);
	nc_write_file(other, "$ORIGIN other.test.\n@ 300 IN SOA ns hm 7 3600 600 86400 300\n"
	                     "@ 300 IN NS ns\nns 300 IN A 127.0.0.1\n");
	cr_assert_eq(fe_test_daemon_start(&d, dir, (const char *const[]){"--zone", other, NULL}),
	             0);
	ldns_pkt *p = fe_test_query(d.host, d.port, NET_NAPTR, LDNS_RR_TYPE_NAPTR, 0, 0);
	cr_assert_not_null(p);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
}

Test(ctl, check_zone_and_usage)
{
	char args[1024], out[8192], bad[512];
	snprintf(args, sizeof(args), "check-zone --allow-unsigned '%s'", NET_ZONE);
	cr_assert_eq(ctl(args, out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "zone net.test. serial 1"), "%s", out);
	cr_assert_not_null(strstr(out, "OK"), "%s", out);

	snprintf(bad, sizeof(bad), "%s/bad.zone", dir);
	nc_write_file(bad, "$ORIGIN bad.test.\n@ 300 IN SOA ns hm 1 3600 600 86400 300\n"
	                   "@ 300 IN NS ns\nns 300 IN A 999.0.0.1\n");
	snprintf(args, sizeof(args), "check-zone '%s'", bad);
	cr_assert_eq(ctl(args, out, sizeof(out)), 1, "%s", out);
	char want[600];
	snprintf(want, sizeof(want), "%s:4: ", bad);
	cr_assert_not_null(strstr(out, want), "expected %s in: %s", want, out);

	/* zone-load of a bad file stores nothing and says where. */
	snprintf(args, sizeof(args), "zone-load --db '%s/db' '%s' '%s'", dir, bad, NET_ZONE);
	cr_assert_eq(ctl(args, out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(strstr(out, want), "%s", out);
	snprintf(args, sizeof(args), "zone-list --db '%s/db'", dir);
	cr_assert_eq(ctl(args, out, sizeof(out)), 0, "%s", out);
	cr_assert_null(strstr(out, "bad.test."), "%s", out);
	cr_assert_not_null(strstr(out, "net.test."), "%s", out);

	cr_assert_eq(ctl("", out, sizeof(out)), 2);
	cr_assert_not_null(strstr(out, "usage:"), "%s", out);
	cr_assert_eq(ctl("frobnicate", out, sizeof(out)), 2);
	cr_assert_eq(ctl("zone-list", out, sizeof(out)), 2, "zone-list without --db");
	cr_assert_eq(ctl("check-zone", out, sizeof(out)), 2);
	cr_assert_eq(ctl("--help", out, sizeof(out)), 0);
	cr_assert_eq(ctl("zone-list --db /proc/nonexistent/db", out, sizeof(out)), 3, "%s", out);
}

/* zone-list shows the trust state kept per zone: on the demo federation every zone is secure,
 * the registry through its anchor and the members through the registry's DS. */
Test(ctl, zone_list_shows_trust_state)
{
	char db[400], args[1024], out[8192];
	snprintf(db, sizeof(db), "%s/demo", dir);
	const char *argv[] = {"-c", FE_TEST_SRC "/federation/fedenumd.conf", NULL};
	cr_assert_eq(fe_test_daemon_start(&d, db, argv), 0);
	snprintf(args, sizeof(args), "zone-list --db '%s/db'", db);
	cr_assert_eq(ctl(args, out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "trust"), "no trust column: %s", out);
	char *row = strstr(out, "\n1.5.5.5.1.e164.fed. ");
	cr_assert_not_null(row, "%s", out);
	char *eol = strchr(row + 1, '\n');
	cr_assert_not_null(eol);
	*eol = '\0';
	cr_expect_not_null(strstr(row, "secure (DS in e164.fed."), "%s", row);
	*eol = '\n';
	row = strstr(out, "\ne164.fed. ");
	cr_assert_not_null(row, "%s", out);
	cr_expect_not_null(strstr(row, "secure (trust anchor"), "%s", row);
}

/* zone-load --trust-anchor: the same chain of trust as fedenumd (issue #3). The demo zones
 * validate (members through the registry's DS); a forged member version is refused with the
 * reason and the validated one stays, as fedenumd then serves it. */
Test(ctl, zone_load_with_trust_anchors)
{
	char args[4096], out[16384];
	const char *z = FE_TEST_SRC "/zones";
	const char *k = FE_TEST_SRC "/federation/keys";
	snprintf(args, sizeof(args),
	         "zone-load --db '%s/db' --trust-anchor %s/e164.fed.ds --trust-anchor "
	         "%s/ims-a.example.ds --trust-anchor %s/ims-b.example.ds "
	         "%s/1.5.5.5.1.e164.fed/1.5.5.5.1.e164.fed.zone.signed "
	         "%s/e164.fed/e164.fed.zone.signed %s/ims-a.example/ims-a.example.zone.signed",
	         dir, k, k, k, z, z, z);
	cr_assert_eq(ctl(args, out, sizeof(out)), 0, "%s", out);
	cr_expect_not_null(strstr(out, "zone 1.5.5.5.1.e164.fed. serial 1795897299: validated "
	                               "through the DS in e164.fed."),
	                   "members load after their parent, through its DS: %s", out);
	cr_expect_not_null(strstr(out, "trust: 3 zones, 3 secure, 0 bogus"), "%s", out);

	/* A forged version of carrier A's zone: new serial, one route changed, old signatures. */
	cr_assert_eq(fe_test_sh("sed -e 's/sip:+15551000001@ims-a.example/sip:+15551000001@evil."
	                        "example/' -e 's/ 1795897299 / 1795897300 /' "
	                        "%s/1.5.5.5.1.e164.fed/1.5.5.5.1.e164.fed.zone.signed "
	                        "> '%s/forged.zone'",
	                        z, dir),
	             0);
	snprintf(args, sizeof(args),
	         "zone-load --db '%s/db' --trust-anchor %s/e164.fed.ds '%s/forged.zone'", dir, k,
	         dir);
	cr_assert_eq(ctl(args, out, sizeof(out)), 1, "a forged zone must be refused: %s", out);
	cr_expect_not_null(strstr(out, "RRSIG"), "the reason names the record: %s", out);
	cr_expect_not_null(strstr(out, "stored serial 1795897299 is kept"), "%s", out);

	/* fedenumd on that store still routes +15551000001 to carrier A. */
	const char *argv[] = {"-c", "/dev/null", NULL};
	cr_assert_eq(fe_test_daemon_start(&d, dir, argv), 0);
	ldns_pkt *p = fe_test_query(d.host, d.port, "1.0.0.0.0.0.1.5.5.5.1.e164.fed.",
	                            LDNS_RR_TYPE_NAPTR, 0, 0);
	cr_assert_not_null(p);
	cr_assert_eq(ldns_rr_list_rr_count(ldns_pkt_answer(p)), 1);
	char *txt = ldns_rr2str(ldns_rr_list_rr(ldns_pkt_answer(p), 0));
	cr_expect_not_null(strstr(txt, "@ims-a.example;"), "%s", txt);
	free(txt);
	ldns_pkt_free(p);
}
