/* Catalog zones (RFC 9432) between fedenumd and Knot DNS 3.2, both directions, loopback,
 * TSIG hmac-sha256; every check reads Knot's own log or asks Knot / fedenumd:
 *  - Knot consumes fedenumd's catalog (catalog-role: interpret): the catalog is made by
 *    `fedenumctl catalog generate` from a federation definition and served by a fedenumd
 *    primary; Knot adds the member zone ("zone added from catalog"), transfers it and answers
 *    it; the member's group property picks Knot's template of that name, whose primary is a
 *    second fedenumd (the transfer comes from there); after the definition changes (a new
 *    catalog, SIGHUP, NOTIFY) Knot purges the zone that left ("zone purged", REFUSED) and
 *    adds the new one;
 *  - fedenumd consumes Knot's catalog (catalog-role: generate, member zones with
 *    catalog-role: member): fedenumd, started with only --catalog, serves Knot's member zone;
 *    after Knot's configuration changes (knotc reload: one member out, one in) Knot's NOTIFY
 *    brings the new catalog, the new zone is served and the one that left is refused and gone
 *    from fedenumd's store. */
#include <criterion/criterion.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fe_test.h"

#define KEY    "catalog-xfr.test."
#define SECRET "Zm9vYmFyYmF6cXV4cXV1eGNhdGFsb2cteGZyLXRlc3Q="
#define WAIT_S 30

static char tmp[256];
static struct fe_test_daemon pri, pri2, con;
static pid_t knot_pid = -1;

static void stop_all(void)
{
	fe_test_stop_pid(&knot_pid);
	struct fe_test_daemon *all[] = {&con, &pri, &pri2};
	for (size_t i = 0; i < 3; i++)
		if (all[i]->pid > 0)
			fe_test_daemon_stop(all[i]);
	if (tmp[0])
		fe_test_rmdir(tmp);
	tmp[0] = '\0';
}

static void setup(void)
{
	memset(&pri, 0, sizeof(pri));
	memset(&pri2, 0, sizeof(pri2));
	memset(&con, 0, sizeof(con));
	fe_test_mkdtemp(tmp, sizeof(tmp));
	char p[300];
	snprintf(p, sizeof(p), "%s/peer.key", tmp);
	cr_assert_eq(fe_test_write_tsig_key(p, KEY, SECRET), 0);
	for (const char *d = "pri\0pri2\0con\0knot\0"; *d; d += strlen(d) + 1) {
		snprintf(p, sizeof(p), "%s/%s", tmp, d);
		cr_assert_eq(mkdir(p, 0755), 0);
	}
}

TestSuite(catalog_knot, .init = setup, .fini = stop_all, .timeout = 240);

static void write_member(const char *dir, const char *name, unsigned n)
{
	char p[300];
	snprintf(p, sizeof(p), "%s/%szone", dir, name);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "$ORIGIN %s\n$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 86400 300\n@ NS ns1\n"
	        "ns1 A 127.0.0.1\na A 192.0.2.%u\n",
	        name, n);
	fclose(f);
}

/* a.<zone> A 192.0.2.<n> at 127.0.0.1@@port, or REFUSED when n == 0. */
static bool wait_served(uint16_t port, const char *zone, unsigned n)
{
	for (int i = 0; i < WAIT_S * 10; i++) {
		int rc = n ? fe_test_sh("kdig @127.0.0.1 -p %u +short +timeout=1 +retry=0 a.%s A "
		                        "2>/dev/null | grep -qx '192.0.2.%u'",
		                        port, zone, n)
		           : fe_test_sh("kdig @127.0.0.1 -p %u +timeout=1 +retry=0 a.%s A "
		                        "2>/dev/null | grep -q 'status: REFUSED'",
		                        port, zone);
		if (rc == 0)
			return true;
		usleep(100000);
	}
	fe_test_sh("echo '--- knot'; tail -30 '%s/knot.log'", tmp);
	return false;
}

static bool knot_log(const char *pattern)
{
	for (int i = 0; i < WAIT_S * 10; i++) {
		if (fe_test_sh("grep -q -- '%s' '%s/knot.log'", pattern, tmp) == 0)
			return true;
		usleep(100000);
	}
	fe_test_sh("echo '--- knot'; tail -30 '%s/knot.log'", tmp);
	return false;
}

static void knot_conf_head(FILE *f, uint16_t port)
{
	fprintf(f,
	        "server:\n    rundir: %s/knot\n    listen: 127.0.0.1@%u\n"
	        "database:\n    storage: %s/knot\n"
	        "log:\n  - target: stderr\n    any: info\n"
	        "key:\n  - id: " KEY "\n    algorithm: hmac-sha256\n    secret: " SECRET "\n",
	        tmp, port, tmp);
}

static void start_knot(void)
{
	char conf[300], log[300];
	snprintf(conf, sizeof(conf), "%s/knot.conf", tmp);
	snprintf(log, sizeof(log), "%s/knot.log", tmp);
	const char *argv[] = {"knotd", "-c", conf, NULL};
	knot_pid = fe_test_spawn(log, argv);
	cr_assert_gt(knot_pid, 0);
}

/* The federation definition with the zones @zones ("apex:member:file" ...). */
static void write_fed(uint16_t p1, uint16_t p2, const char *zones)
{
	char p[300];
	snprintf(p, sizeof(p), "%s/fed.conf", tmp);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "name = \"knot-interop\";\n"
	        "members = ( { name = \"registry\"; role = \"registry\"; primary = "
	        "\"127.0.0.1@%u\"; },\n"
	        "  { name = \"carrier-b\"; primary = \"127.0.0.1@%u\"; } );\nzones = (%s);\n",
	        p1, p2, zones);
	fclose(f);
}

Test(catalog_knot, knot_consumes_the_catalog_fedenumctl_generates)
{
	uint16_t p1 = fe_test_free_port(), p2 = fe_test_free_port(), kport = fe_test_free_port();
	cr_assert(p1 && p2 && kport && p1 != p2 && p2 != kport && p1 != kport);
	write_member(tmp, "m1.test.", 1);
	write_member(tmp, "m2.test.", 2);
	write_member(tmp, "m3.test.", 3);
	/* m1 (registry, first primary) and m2 (carrier-b: Knot's template carrier-b, whose
	 * primary is the second fedenumd, the only one that holds m2) */
	write_fed(p1, p2,
	          "{ apex = \"m1.test.\"; member = \"registry\"; file = \"m1.test.zone\"; },\n"
	          "  { apex = \"m2.test.\"; member = \"carrier-b\"; file = \"m2.test.zone\"; }");
	cr_assert_eq(fe_test_sh(FE_TEST_FEDENUMCTL " catalog generate --config '%s/fed.conf' "
	                                           "--apex cat.fed. --serial 1 > '%s/cat.zone'",
	                        tmp, tmp),
	             0);
	char k[300], cat[300], m1[300], m2[300], m3[300], notify[64], listen[64], dir[300];
	snprintf(k, sizeof(k), "%s/peer.key", tmp);
	snprintf(cat, sizeof(cat), "%s/cat.zone", tmp);
	snprintf(m1, sizeof(m1), "%s/m1.test.zone", tmp);
	snprintf(m2, sizeof(m2), "%s/m2.test.zone", tmp);
	snprintf(m3, sizeof(m3), "%s/m3.test.zone", tmp);
	snprintf(notify, sizeof(notify), "127.0.0.1@%u", kport);
	snprintf(listen, sizeof(listen), "127.0.0.1@%u", p1);
	snprintf(dir, sizeof(dir), "%s/pri", tmp);
	const char *a1[] = {"--zone",     cat, "--zone",   m1,     "--zone", m3,
	                    "--tsig-key", k,   "--notify", notify, NULL};
	cr_assert_eq(fe_test_daemon_start_at(&pri, dir, listen, a1), 0);
	snprintf(listen, sizeof(listen), "127.0.0.1@%u", p2);
	snprintf(dir, sizeof(dir), "%s/pri2", tmp);
	const char *a2[] = {"--zone", m2, "--tsig-key", k, "--notify", notify, NULL};
	cr_assert_eq(fe_test_daemon_start_at(&pri2, dir, listen, a2), 0);

	char conf[300];
	snprintf(conf, sizeof(conf), "%s/knot.conf", tmp);
	FILE *f = fopen(conf, "w");
	cr_assert_not_null(f);
	knot_conf_head(f, kport);
	fprintf(f,
	        "remote:\n  - id: fed1\n    address: 127.0.0.1@%u\n    key: " KEY "\n"
	        "  - id: fed2\n    address: 127.0.0.1@%u\n    key: " KEY "\n"
	        "acl:\n  - id: notify\n    address: 127.0.0.1\n    key: " KEY
	        "\n    action: notify\n"
	        "template:\n  - id: default\n    storage: %s/knot\n"
	        "  - id: registry\n    storage: %s/knot\n    master: fed1\n    acl: notify\n"
	        "  - id: carrier-b\n    storage: %s/knot\n    master: fed2\n    acl: notify\n"
	        "zone:\n  - domain: cat.fed.\n    master: fed1\n    acl: notify\n"
	        "    catalog-role: interpret\n    catalog-template: [ registry, carrier-b ]\n",
	        p1, p2, tmp, tmp, tmp);
	fclose(f);
	start_knot();
	cr_assert(knot_log("\\[m1.test.\\] zone added from catalog"));
	cr_assert(knot_log("\\[m2.test.\\] zone added from catalog"));
	cr_assert(wait_served(kport, "m1.test.", 1), "Knot does not serve m1 from the catalog");
	cr_assert(wait_served(kport, "m2.test.", 2), "Knot does not serve m2 from the catalog");
	char pat[200];
	snprintf(pat, sizeof(pat), "\\[m2.test.\\] AXFR, incoming, remote 127.0.0.1@%u, finished",
	         p2);
	cr_assert(knot_log(pat), "m2 not transferred from its group's primary");
	snprintf(pat, sizeof(pat), "\\[m1.test.\\] AXFR, incoming, remote 127.0.0.1@%u, finished",
	         p1);
	cr_assert(knot_log(pat));
	cr_assert(wait_served(kport, "m3.test.", 0));

	/* the definition changes: m1 leaves, m3 joins */
	write_fed(p1, p2,
	          "{ apex = \"m2.test.\"; member = \"carrier-b\"; file = \"m2.test.zone\"; },\n"
	          "  { apex = \"m3.test.\"; member = \"registry\"; file = \"m3.test.zone\"; }");
	cr_assert_eq(fe_test_sh(FE_TEST_FEDENUMCTL " catalog generate --config '%s/fed.conf' "
	                                           "--apex cat.fed. --serial 2 > '%s/cat.zone'",
	                        tmp, tmp),
	             0);
	kill(pri.pid, SIGHUP);
	cr_assert(knot_log("\\[m1.test.\\] zone purged"), "Knot did not purge m1");
	cr_assert(knot_log("\\[m3.test.\\] zone added from catalog"));
	cr_assert(wait_served(kport, "m3.test.", 3));
	cr_assert(wait_served(kport, "m1.test.", 0), "Knot still serves m1");
	cr_assert(wait_served(kport, "m2.test.", 2));
}

/* knot.conf: Knot generates catk.fed. with the one member zone @member, NOTIFY to
 * fedenumd at @nport. */
static void write_knot_gen(uint16_t kport, uint16_t nport, const char *member)
{
	char conf[300];
	snprintf(conf, sizeof(conf), "%s/knot.conf", tmp);
	FILE *f = fopen(conf, "w");
	cr_assert_not_null(f);
	knot_conf_head(f, kport);
	fprintf(f,
	        "remote:\n  - id: fedenumd\n    address: 127.0.0.1@%u\n    key: " KEY "\n"
	        "acl:\n  - id: xfr\n    address: 127.0.0.1\n    key: " KEY
	        "\n    action: transfer\n"
	        "template:\n  - id: default\n    storage: %s/knot\n    file: \"%%s.zone\"\n"
	        "    acl: xfr\n    notify: fedenumd\n"
	        "zone:\n  - domain: catk.fed.\n    catalog-role: generate\n"
	        "  - domain: %s\n    catalog-role: member\n    catalog-zone: catk.fed.\n",
	        nport, tmp, member);
	fclose(f);
}

Test(catalog_knot, fedenumd_consumes_knots_generated_catalog)
{
	uint16_t kport = fe_test_free_port(), nport = fe_test_free_port();
	cr_assert(kport && nport && kport != nport);
	char kdir[300];
	snprintf(kdir, sizeof(kdir), "%s/knot", tmp);
	write_member(kdir, "k1.test.", 1);
	write_member(kdir, "k2.test.", 2);
	write_knot_gen(kport, nport, "k1.test.");
	start_knot();
	cr_assert(knot_log("\\[catk.fed.\\] loaded"));
	char k[300], spec[128], listen[64], dir[300];
	snprintf(k, sizeof(k), "%s/peer.key", tmp);
	snprintf(spec, sizeof(spec), "catk.fed@127.0.0.1@%u", kport);
	snprintf(listen, sizeof(listen), "127.0.0.1@%u", nport);
	snprintf(dir, sizeof(dir), "%s/con", tmp);
	const char *argv[] = {"--catalog", spec, "--tsig-key", k, NULL};
	cr_assert_eq(fe_test_daemon_start_at(&con, dir, listen, argv), 0);
	cr_assert(wait_served(nport, "k1.test.", 1), "k1 from Knot's catalog not served");
	cr_assert(wait_served(nport, "k2.test.", 0));
	cr_assert(
	        fe_test_daemon_wait_log(&con, "catalog catk.fed.: zone k1.test. added", 1, WAIT_S));

	/* Knot's members change: k1 out, k2 in; Knot regenerates its catalog and NOTIFYs */
	write_knot_gen(kport, nport, "k2.test.");
	cr_assert_eq(fe_test_sh("knotc -c '%s/knot.conf' reload >/dev/null", tmp), 0);
	cr_assert(knot_log("\\[catk.fed.\\] notify, outgoing, remote 127.0.0.1"));
	cr_assert(wait_served(nport, "k2.test.", 2), "k2 added to Knot's catalog not served");
	cr_assert(wait_served(nport, "k1.test.", 0), "k1 left Knot's catalog, still served");
	cr_assert(
	        fe_test_daemon_wait_log(&con, "zone k1.test.: LEFT CATALOG catk.fed.", 1, WAIT_S));
	cr_assert_neq(fe_test_sh(FE_TEST_FEDENUMCTL
	                         " zone list --socket '%s/control.sock' --json | "
	                         "grep -q k1.test.",
	                         con.dir),
	              0, "k1 still in fedenumd's store");
	cr_assert_eq(fe_test_sh(FE_TEST_FEDENUMCTL " zone list --socket '%s/control.sock' --json | "
	                                           "grep -q k2.test.",
	                        con.dir),
	             0);
}
