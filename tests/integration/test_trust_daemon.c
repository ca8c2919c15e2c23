/* Federation trust end to end through fedenumd (issue #3 §1, 2, 6, 7, 8):
 *  - a federation.conf with trust-anchors, zones listed members first: the registry is
 *    loaded first anyway, members validate through its DS, answers carry AD=1;
 *  - docs/security.md Z1: a good version, then SIGHUP with a broken signature: the good one keeps
 *    serving; the reason (zone, owner, type) is in the log and in the zone's stored state;
 *  - docs/security.md Z2 / Z5 / range authority: member zones signed with keys the registry does
 * not publish, for a prefix delegated to someone else, or for prefixes never delegated, are not
 * served;
 *  - re-delegation: a registry version with a new DS stops the member at once (SERVFAIL,
 *    EDE 6) until the member's zone signed with the new key arrives;
 *  - expiry: a member signed (at run time, with the test keys) to expire seconds later is
 *    answered with SERVFAIL and EDE 7 after that;
 *  - --trust-anchor on the command line; --zone without anchors stays unvalidated (AD=0);
 *    a broken anchor file is a configuration error with file:line.
 * Fixtures: tests/integration/data/trust/ (test-only keys). */
#include "net_common.h"

#include "fedenum/store.h"
#include "fedenum/wire.h"
#include "fedenum/trust.h"
#include "fedenum/zone.h"

#include <sys/wait.h>

#define TD     FE_TEST_SRC "/tests/integration/data/trust"
#define NUM_A  "1.0.0.0.0.0.1.5.5.5.1.e164.test."
#define NUM_A3 "3.0.0.0.0.0.1.5.5.5.1.e164.test."
#define NUM_B  "1.0.0.0.0.0.2.5.5.5.1.e164.test."
#define ZONE_A "1.5.5.5.1.e164.test."
#define NO_EDE (-1)

static struct fe_test_daemon d;
static char dir[256];

static void setup(void)
{
	fe_test_mkdtemp(dir, sizeof(dir));
	memset(&d, 0, sizeof(d));
}

static void teardown(void)
{
	if (d.pid > 0)
		cr_expect_eq(fe_test_daemon_stop(&d), 0, "fedenumd exit status");
	fe_test_rmdir(dir);
}

TestSuite(trust_daemon, .init = setup, .fini = teardown, .timeout = 120);

/* <dir>/<name> := fixture <fixture>.signed (rename over the old file, as tooling would). */
static void put_zone(const char *name, const char *fixture)
{
	cr_assert_eq(fe_test_sh("cp '%s/%s.signed' '%s/%s.tmp' && mv '%s/%s.tmp' '%s/%s'", TD,
	                        fixture, dir, name, dir, name, dir, name),
	             0);
}

/* federation.conf with the e164.test. anchor and the zones @names (apex=file pairs,
 * NULL-terminated), plus fedenumd.conf. */
static void write_conf(const char *const *zones)
{
	char path[512], list[4096] = "";
	size_t o = 0;
	for (size_t i = 0; zones[i]; i += 2)
		o += (size_t)snprintf(list + o, sizeof(list) - o,
		                      "%s{ apex = \"%s\"; member = \"m\"; file = \"%s\"; }",
		                      i ? ",\n  " : "", zones[i], zones[i + 1]);
	snprintf(path, sizeof(path), "%s/federation.conf", dir);
	nc_write_file(path,
	              "name = \"trust-test\";\n"
	              "trust-anchors = [\"%s/e164.test.ds\"];\n"
	              "members = ( { name = \"registry\"; role = \"registry\"; },\n"
	              "            { name = \"m\"; prefixes = [\"+15551\", \"+15552\"]; } );\n"
	              "zones = ( %s );\n",
	              TD, list);
	snprintf(path, sizeof(path), "%s/fedenumd.conf", dir);
	nc_write_file(path, "federation = \"federation.conf\";\n"
	                    "log: { level = \"info\"; };\n");
}

static void start(void)
{
	const char *extra[] = {"--workers", "1", NULL};
	nc_start_config(&d, dir, extra);
}

static bool wait_log(const char *needle, int count, int timeout_ms)
{
	uint64_t deadline = nc_now_ms() + (uint64_t)timeout_ms;
	while (nc_now_ms() < deadline) {
		if (fe_test_daemon_log_count(&d, needle) >= count)
			return true;
		nc_sleep_ms(20);
	}
	return false;
}

static void reload(int nth)
{
	cr_assert_eq(kill(d.pid, SIGHUP), 0);
	cr_assert(wait_log("reload done", nth, 20000), "reload %d did not finish", nth);
}

/* Query with DO; check rcode, AD and the EDE INFO-CODE (NO_EDE: none). Returns the SOA
 * serial of the answer section (SOA queries) or 0. */
static long check(const char *name, uint16_t type, ldns_pkt_rcode rcode, bool ad, int ede)
{
	ldns_pkt *p = fe_test_query(d.host, d.port, name, type, FE_TQ_DO, 0);
	cr_assert_not_null(p, "no answer for %s", name);
	cr_assert_eq(ldns_pkt_get_rcode(p), rcode, "%s: rcode %d, want %d", name,
	             ldns_pkt_get_rcode(p), rcode);
	cr_assert_eq(ldns_pkt_ad(p), ad, "%s: AD=%d", name, ldns_pkt_ad(p));
	int got = NO_EDE;
	ldns_rdf *opt = ldns_pkt_edns_data(p);
	if (opt) {
		const uint8_t *o = ldns_rdf_data(opt);
		size_t n = ldns_rdf_size(opt), i = 0;
		while (i + 4 <= n) {
			uint16_t code = fe_get_be16(o + i), olen = fe_get_be16(o + i + 2);
			if (code == 15 && olen >= 2 && i + 4 + olen <= n)
				got = fe_get_be16(o + i + 4);
			i += 4u + olen;
		}
	}
	cr_assert_eq(got, ede, "%s: EDE %d, want %d", name, got, ede);
	long serial = 0;
	ldns_rr_list *an = ldns_pkt_answer(p);
	for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA)
			serial = (long)ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
	}
	ldns_pkt_free(p);
	return serial;
}

/* The zone's validation state from the daemon's store (opened read-only alongside it). */
static void zstate(const char *apex, struct fe_trust_zstate *zs)
{
	char db[512];
	snprintf(db, sizeof(db), "%s/db", dir);
	struct fe_store *st;
	struct fe_store_opts so = {.read_only = true};
	cr_assert_eq(fe_store_open(db, &so, &st), FE_OK);
	ldns_rdf *dn = ldns_dname_new_frm_str(apex);
	cr_assert_not_null(dn);
	int rc = fe_trust_zstate_get(st, ldns_rdf_data(dn), ldns_rdf_size(dn), zs);
	ldns_rdf_deep_free(dn);
	fe_store_close(st);
	cr_assert_eq(rc, FE_OK, "no state for %s", apex);
}

static const char *const three[] = {
        ZONE_A, "a.zone", "2.5.5.5.1.e164.test.", "b.zone", "e164.test.", "registry.zone", NULL};

Test(trust_daemon, federation_validates_members_first_in_config)
{
	put_zone("registry.zone", "registry-v1");
	put_zone("a.zone", "a-v1");
	put_zone("b.zone", "b-v1");
	write_conf(three);
	start();
	check(NUM_A, LDNS_RR_TYPE_NAPTR, LDNS_RCODE_NOERROR, true, NO_EDE);
	check(NUM_B, LDNS_RR_TYPE_NAPTR, LDNS_RCODE_NOERROR, true, NO_EDE);
	check("1.0.0.0.0.0.3.5.5.5.1.e164.test.", LDNS_RR_TYPE_NAPTR, LDNS_RCODE_NXDOMAIN, true,
	      NO_EDE);
	cr_assert_eq(fe_test_daemon_log_count(&d, "federation trust: zones are served only"), 1);
	cr_assert_eq(fe_test_daemon_log_count(
	                     &d, "zone 1.5.5.5.1.e164.test. serial 1 validated through the DS "
	                         "in e164.test."),
	             1);
	cr_assert_eq(fe_test_daemon_log_count(&d, "(3 loaded, 0 unchanged, 0 failed, 0 refused)"),
	             1);
	/* A restart on the same store: nothing parsed again, still AD=1. */
	cr_assert_eq(fe_test_daemon_stop(&d), 0);
	start();
	check(NUM_A, LDNS_RR_TYPE_NAPTR, LDNS_RCODE_NOERROR, true, NO_EDE);
	cr_assert_eq(fe_test_daemon_log_count(&d, "(0 loaded, 3 unchanged, 0 failed, 0 refused)"),
	             1);
	cr_assert_eq(nc_counter(&d, "servfail"), 0);
	cr_assert_eq(fe_test_daemon_log_count(&d, "trust: validated=0 unchanged=3 rejected=0"), 1);
}

/* docs/security.md Z1 through fedenumd. */
Test(trust_daemon, bad_signature_on_reload_keeps_good_version)
{
	put_zone("registry.zone", "registry-v1");
	put_zone("a.zone", "a-v1");
	put_zone("b.zone", "b-v1");
	write_conf(three);
	start();
	cr_assert_eq(check(ZONE_A, LDNS_RR_TYPE_SOA, LDNS_RCODE_NOERROR, true, NO_EDE), 1);
	put_zone("a.zone", "a-v3-badsig");
	reload(1);
	/* still the good version, still validated */
	cr_assert_eq(check(ZONE_A, LDNS_RR_TYPE_SOA, LDNS_RCODE_NOERROR, true, NO_EDE), 1);
	check(NUM_A3, LDNS_RR_TYPE_NAPTR, LDNS_RCODE_NOERROR, true, NO_EDE);
	/* the reason, with zone, owner and type, in the log ... */
	cr_assert_eq(fe_test_daemon_log_count(&d, "RRSIG NAPTR at " NUM_A3), 1);
	cr_assert_eq(fe_test_daemon_log_count(&d, "(zone 1.5.5.5.1.e164.test. serial 3 from "), 1);
	cr_assert_eq(fe_test_daemon_log_count(&d, "the stored serial 1 keeps serving"), 1);
	cr_assert_eq(fe_test_daemon_log_count(&d, "0 loaded, 2 unchanged, 1 failed"), 1);
	/* ... counted ... */
	cr_assert_eq(fe_test_daemon_log_count(&d, "trust: validated=3 unchanged=2 rejected=1"), 0);
	nc_counter(&d, "queries");
	cr_assert_eq(fe_test_daemon_log_count(&d, "trust: validated=3 unchanged=2 rejected=1"), 1);
	/* ... and kept for the status view. */
	struct fe_trust_zstate zs;
	zstate(ZONE_A, &zs);
	cr_assert_eq(zs.state, FE_TRUST_SECURE);
	cr_assert_eq(zs.serial, 1);
	cr_assert_eq(zs.failed_serial, 3);
	cr_assert_eq(zs.failures, 1);
	cr_assert_not_null(strstr(zs.reason, "RRSIG NAPTR at " NUM_A3), "%s", zs.reason);
	/* A fixed version arrives with the next reload. */
	put_zone("a.zone", "a-v4");
	reload(2);
	cr_assert_eq(check(ZONE_A, LDNS_RR_TYPE_SOA, LDNS_RCODE_NOERROR, true, NO_EDE), 4);
}

/* docs/security.md Z2, Z5 and range authority: none of these is served. */
Test(trust_daemon, zones_outside_the_registry_delegations_not_served)
{
	put_zone("registry.zone", "registry-v1");
	put_zone("rogue.zone", "a-rogue");
	put_zone("forb.zone", "a-for-b");
	put_zone("undel.zone", "a-undelegated");
	put_zone("wide.zone", "a-wide");
	static const char *const zones[] = {ZONE_A,
	                                    "rogue.zone",
	                                    "2.5.5.5.1.e164.test.",
	                                    "forb.zone",
	                                    "e164.test.",
	                                    "registry.zone",
	                                    "3.5.5.5.1.e164.test.",
	                                    "undel.zone",
	                                    "5.5.5.1.e164.test.",
	                                    "wide.zone",
	                                    NULL};
	write_conf(zones);
	start();
	cr_assert_eq(fe_test_daemon_log_count(&d, "(1 loaded, 0 unchanged, 4 failed, 0 refused)"),
	             1);
	/* Delegated by the registry, but no zone chains to its DS: SERVFAIL, never the rogue
	 * data. */
	check(NUM_A, LDNS_RR_TYPE_NAPTR, LDNS_RCODE_SERVFAIL, false, NO_EDE);
	check(NUM_B, LDNS_RR_TYPE_NAPTR, LDNS_RCODE_SERVFAIL, false, NO_EDE);
	/* Not delegated: the registry's own, validated NXDOMAIN. */
	check("1.0.0.0.0.0.3.5.5.5.1.e164.test.", LDNS_RR_TYPE_NAPTR, LDNS_RCODE_NXDOMAIN, true,
	      NO_EDE);
	check("1.0.0.0.0.0.4.5.5.5.1.e164.test.", LDNS_RR_TYPE_NAPTR, LDNS_RCODE_NXDOMAIN, true,
	      NO_EDE);
	cr_assert_eq(fe_test_daemon_log_count(&d, "no zone key matches the trust (DS 50405/13/2)"),
	             1);
	cr_assert_eq(fe_test_daemon_log_count(&d, "no zone key matches the trust (DS 37669/13/2)"),
	             1);
	cr_assert_eq(fe_test_daemon_log_count(&d, "e164.test. does not delegate "
	                                          "3.5.5.5.1.e164.test."),
	             1);
	cr_assert_eq(fe_test_daemon_log_count(&d, "e164.test. does not delegate "
	                                          "5.5.5.1.e164.test."),
	             1);
	cr_assert_eq(fe_test_daemon_log_count(&d, "nothing is served for it"), 4);
	struct fe_trust_zstate zs;
	zstate("3.5.5.5.1.e164.test.", &zs);
	cr_assert_eq(zs.state, FE_TRUST_REJECTED);
}

/* Re-delegation through SIGHUP: registry v2 moves +15551 to key a2. */
Test(trust_daemon, redelegation_followed)
{
	put_zone("registry.zone", "registry-v1");
	put_zone("a.zone", "a-v1");
	put_zone("b.zone", "b-v1");
	write_conf(three);
	start();
	check(NUM_A, LDNS_RR_TYPE_NAPTR, LDNS_RCODE_NOERROR, true, NO_EDE);
	put_zone("registry.zone", "registry-v2");
	reload(1);
	check(NUM_A, LDNS_RR_TYPE_NAPTR, LDNS_RCODE_SERVFAIL, false, FE_EDE_DNSSEC_BOGUS);
	check(NUM_B, LDNS_RR_TYPE_NAPTR, LDNS_RCODE_NOERROR, true, NO_EDE);
	cr_assert_eq(fe_test_daemon_log_count(
	                     &d, "trust: zone 1.5.5.5.1.e164.test. serial 1 is not served any "
	                         "more"),
	             1);
	struct fe_trust_zstate zs;
	zstate(ZONE_A, &zs);
	cr_assert_eq(zs.state, FE_TRUST_BOGUS);
	/* A's zone signed with the re-delegated key. */
	put_zone("a.zone", "a-v2");
	reload(2);
	cr_assert_eq(check(ZONE_A, LDNS_RR_TYPE_SOA, LDNS_RCODE_NOERROR, true, NO_EDE), 2);
	zstate(ZONE_A, &zs);
	cr_assert_eq(zs.state, FE_TRUST_SECURE);
}

/* Expiry: A signed at run time to expire a few seconds after the start. */
Test(trust_daemon, expired_signatures_servfail_ede7)
{
	put_zone("registry.zone", "registry-v1");
	put_zone("b.zone", "b-v1");
	long long now = (long long)time(NULL);
	cr_assert_eq(fe_test_sh("cd '%s' && ldns-signzone -n -a 1 -t 0 -i %lld -e %lld -o %s -f "
	                        "a.zone '%s/src/a-v1.zone' '%s/keys/a' >/dev/null",
	                        dir, now - 3600, now + 6, ZONE_A, TD, TD),
	             0);
	write_conf(three);
	start();
	check(NUM_A, LDNS_RR_TYPE_NAPTR, LDNS_RCODE_NOERROR, true, NO_EDE);
	while ((long long)time(NULL) <= now + 7)
		nc_sleep_ms(100);
	check(NUM_A, LDNS_RR_TYPE_NAPTR, LDNS_RCODE_SERVFAIL, false, FE_EDE_SIGNATURE_EXPIRED);
	check(ZONE_A, LDNS_RR_TYPE_SOA, LDNS_RCODE_SERVFAIL, false, FE_EDE_SIGNATURE_EXPIRED);
	check(NUM_B, LDNS_RR_TYPE_NAPTR, LDNS_RCODE_NOERROR, true, NO_EDE);
	/* Reloading the same expired file does not bring it back. */
	reload(1);
	check(NUM_A, LDNS_RR_TYPE_NAPTR, LDNS_RCODE_SERVFAIL, false, FE_EDE_SIGNATURE_EXPIRED);
	/* A fresh version does. */
	put_zone("a.zone", "a-v4");
	reload(2);
	check(NUM_A, LDNS_RR_TYPE_NAPTR, LDNS_RCODE_NOERROR, true, NO_EDE);
}

/* --trust-anchor with --zone, no configuration file. */
Test(trust_daemon, command_line_trust_anchor)
{
	put_zone("registry.zone", "registry-v1");
	put_zone("a.zone", "a-v1");
	char reg[512], a[512];
	snprintf(reg, sizeof(reg), "%s/registry.zone", dir);
	snprintf(a, sizeof(a), "%s/a.zone", dir);
	const char *argv[] = {"--zone",           a,   "--zone", reg, "--trust-anchor",
	                      TD "/e164.test.ds", NULL};
	cr_assert_eq(fe_test_daemon_start(&d, dir, argv), 0);
	check(NUM_A, LDNS_RR_TYPE_NAPTR, LDNS_RCODE_NOERROR, true, NO_EDE);
	cr_assert_eq(fe_test_daemon_stop(&d), 0);
	/* The member alone under the anchor: no chain, nothing served. */
	fe_test_sh("rm -rf '%s/db'", dir);
	const char *argv2[] = {"--zone", a, "--trust-anchor", TD "/e164.test.key", NULL};
	cr_assert_eq(fe_test_daemon_start(&d, dir, argv2), 0);
	check(NUM_A, LDNS_RR_TYPE_NAPTR, LDNS_RCODE_REFUSED, false, NO_EDE);
	cr_assert_eq(fe_test_daemon_log_count(&d, "no zone above it is held"), 1);
	cr_assert_eq(fe_test_daemon_stop(&d), 0);
	/* No anchor at all: served as the file says, AD=0. */
	fe_test_sh("rm -rf '%s/db'", dir);
	const char *argv3[] = {"--zone", a, NULL};
	cr_assert_eq(fe_test_daemon_start(&d, dir, argv3), 0);
	check(NUM_A, LDNS_RR_TYPE_NAPTR, LDNS_RCODE_NOERROR, false, NO_EDE);
	cr_assert_eq(fe_test_daemon_log_count(&d, "no trust anchors: zones are served without"), 1);
}

Test(trust_daemon, bad_anchor_file_is_a_config_error)
{
	char bad[512], out[512];
	snprintf(bad, sizeof(bad), "%s/bad.ds", dir);
	nc_write_file(bad, "; an anchor file\ne164.test. IN A 192.0.2.1\n");
	snprintf(out, sizeof(out), "%s/out", dir);
	int st = fe_test_sh("'%s' --check-config --zone '%s/registry-v1.signed' --trust-anchor "
	                    "'%s' >'%s' 2>&1",
	                    FE_TEST_FEDENUMD, TD, bad, out);
	cr_assert_eq(st, 1, "exit status %d", st);
	cr_assert_eq(fe_test_sh("grep -q '%s:2: trust anchor: a trust anchor file holds DS or "
	                        "DNSKEY records only' '%s'",
	                        bad, out),
	             0, "no file:line error");
	st = fe_test_sh("'%s' --check-config --zone '%s/registry-v1.signed' --trust-anchor "
	                "'%s/e164.test.ds' >/dev/null 2>&1",
	                FE_TEST_FEDENUMD, TD, TD);
	cr_assert_eq(st, 0);
}

/* Removing every anchor from the configuration never turns validation off: the store stays
 * under the anchors recorded in it, the reload goes on, zones keep serving with AD. */
Test(trust_daemon, reload_cannot_drop_all_anchors)
{
	put_zone("registry.zone", "registry-v1");
	put_zone("a.zone", "a-v1");
	put_zone("b.zone", "b-v1");
	write_conf(three);
	start();
	char path[512];
	snprintf(path, sizeof(path), "%s/federation.conf", dir);
	cr_assert_eq(fe_test_sh("sed -i '/trust-anchors/d' '%s'", path), 0);
	cr_assert_eq(kill(d.pid, SIGHUP), 0);
	cr_assert(wait_log("reload done", 1, 10000));
	cr_assert_eq(fe_test_daemon_log_count(&d, "the store stays under the anchors recorded"), 1);
	check(NUM_A, LDNS_RR_TYPE_NAPTR, LDNS_RCODE_NOERROR, true, NO_EDE);
}

/* The demo federation (federation/): every zone validates, answers carry AD. */
Test(trust_daemon, demo_federation)
{
	const char *argv[] = {"-c", FE_TEST_SRC "/federation/fedenumd.conf", NULL};
	cr_assert_eq(fe_test_daemon_start(&d, NULL, argv), 0);
	check("1.0.0.0.0.0.1.5.5.5.1.e164.fed.", LDNS_RR_TYPE_NAPTR, LDNS_RCODE_NOERROR, true,
	      NO_EDE);
	check("1.0.0.0.0.0.2.5.5.5.1.e164.fed.", LDNS_RR_TYPE_NAPTR, LDNS_RCODE_NOERROR, true,
	      NO_EDE);
	check("_sips._tcp.ims-b.example.", LDNS_RR_TYPE_SRV, LDNS_RCODE_NOERROR, true, NO_EDE);
	check("ims-a.example.", LDNS_RR_TYPE_NAPTR, LDNS_RCODE_NOERROR, true, NO_EDE);
	cr_assert_eq(fe_test_daemon_log_count(&d, "(5 loaded, 0 unchanged, 0 failed, 0 refused)"),
	             1);
}
