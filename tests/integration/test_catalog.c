/* Catalog zones (RFC 9432), fedenumd → fedenumd, loopback, TSIG hmac-sha256:
 *  - a primary serves the catalog zone cat.fed. and the member zones; a consumer started with
 *    only --catalog serves the members the catalog lists; a member added to the catalog (the
 *    primary reloads, NOTIFY) is served by the consumer without any configuration change (the
 *    time from the primary's SIGHUP to the first answer is printed); a member removed stops
 *    being served and is gone from the store (fedenumctl zone list --json), counted in
 *    fedenumctl stats;
 *  - restart: the membership survives (served at once from the store with the primary
 *    down), and a member that left the catalog while the consumer was down is removed at its
 *    next start;
 *  - hostile catalogs (wrong version, duplicate unique id, a member under the catalog, over
 *    xfr.catalog-max-members): refused with a log line and catalog_refused, the member zones
 *    served before stay served;
 *  - the configuration file form (xfr.catalogs), and primaries named by the catalog: a
 *    member's primaries.ext and a group naming a federation member with members.primary, each
 *    transferred from that other primary. */
#include <criterion/criterion.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fe_test.h"
#include "fedenum/util.h"

#define KEY    "catalog-xfr.test."
#define SECRET "Zm9vYmFyYmF6cXV4cXV1eGNhdGFsb2cteGZyLXRlc3Q="
#define CAT    "cat.fed."
#define WAIT_S 30

static char tmp[256];
static struct fe_test_daemon pri, pri2, con;

static void stop_all(void)
{
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
	for (const char *d = "pri\0pri2\0con\0"; *d; d += strlen(d) + 1) {
		snprintf(p, sizeof(p), "%s/%s", tmp, d);
		cr_assert_eq(mkdir(p, 0755), 0);
	}
}

TestSuite(catalog, .init = setup, .fini = stop_all, .timeout = 240);

/* Member zone @name (e.g. "m1.test.") at @serial: a.<name> A 192.0.2.<n>. */
static void write_member(const char *name, unsigned n, unsigned serial)
{
	char p[300];
	snprintf(p, sizeof(p), "%s/%szone", tmp, name);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "$ORIGIN %s\n$TTL 300\n@ SOA ns1 hostmaster %u 3600 600 86400 300\n@ NS ns1\n"
	        "ns1 A 127.0.0.1\na A 192.0.2.%u\n",
	        name, serial, n);
	fclose(f);
}

/* The catalog at @serial with @body (records relative to cat.fed.), version "2" unless
 * @version is given. */
static void write_catalog(unsigned serial, const char *version, const char *body)
{
	char p[300];
	snprintf(p, sizeof(p), "%s/cat.zone", tmp);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "$ORIGIN " CAT "\n$TTL 0\n@ SOA invalid. invalid. %u 3600 600 2147483646 0\n"
	        "@ NS invalid.\nversion TXT \"%s\"\n%s",
	        serial, version ? version : "2", body);
	fclose(f);
}

static void show(struct fe_test_daemon *d)
{
	fe_test_sh("echo '--- %s'; tail -40 '%s'", d == &con ? "consumer" : "primary", d->log_path);
}

/* Wait until the consumer answers a.<zone> A with 192.0.2.<n> (n > 0) or REFUSED (n == 0). */
static bool wait_served(struct fe_test_daemon *d, const char *zone, unsigned n)
{
	for (int i = 0; i < WAIT_S * 40; i++) {
		int rc = n ? fe_test_sh("kdig @127.0.0.1 -p %u +short +timeout=1 +retry=0 a.%s A "
		                        "2>/dev/null | grep -qx '192.0.2.%u'",
		                        d->port, zone, n)
		           : fe_test_sh("kdig @127.0.0.1 -p %u +timeout=1 +retry=0 a.%s A "
		                        "2>/dev/null | grep -q 'status: REFUSED'",
		                        d->port, zone);
		if (rc == 0)
			return true;
		usleep(20000); /* with kdig's own start, about 25 ms between tries */
	}
	show(d);
	return false;
}

/* Does `fedenumctl zone list --json` of @d list @zone? */
static bool listed(struct fe_test_daemon *d, const char *zone)
{
	return fe_test_sh(FE_TEST_FEDENUMCTL
	                  " zone list --socket '%s/control.sock' --json | "
	                  "jq -e '[.zones[].apex] | index(\"%s\") != null' >/dev/null",
	                  d->dir, zone) == 0;
}

/* A counter of the xfrin group of `fedenumctl stats --json`. */
static long long xfrin_counter(struct fe_test_daemon *d, const char *name)
{
	char out[300];
	snprintf(out, sizeof(out), "%s/stat.out", tmp);
	if (fe_test_sh(FE_TEST_FEDENUMCTL
	               " stats --socket '%s/control.sock' --json | "
	               "jq -e '.. | objects | select(has(\"xfrin\")) | .xfrin.%s' > '%s'",
	               d->dir, name, out) != 0)
		return -1;
	FILE *f = fopen(out, "r");
	long long v = -1;
	if (f) {
		if (fscanf(f, "%lld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static bool wait_log(struct fe_test_daemon *d, const char *needle, int n)
{
	return fe_test_daemon_wait_log(d, needle, n, WAIT_S);
}

static uint16_t nport, pport;

/* The primary on 127.0.0.1@pport: the catalog and m1..m3, NOTIFY to the consumer. */
static void start_primary(void)
{
	char k[300], cat[300], m[3][300], notify[64], listen[64], dir[300];
	snprintf(k, sizeof(k), "%s/peer.key", tmp);
	snprintf(cat, sizeof(cat), "%s/cat.zone", tmp);
	for (int i = 0; i < 3; i++)
		snprintf(m[i], sizeof(m[i]), "%s/m%d.test.zone", tmp, i + 1);
	snprintf(notify, sizeof(notify), "127.0.0.1@%u", nport);
	snprintf(listen, sizeof(listen), "127.0.0.1@%u", pport);
	snprintf(dir, sizeof(dir), "%s/pri", tmp);
	const char *argv[] = {"--zone",     cat, "--zone",   m[0],   "--zone", m[1], "--zone", m[2],
	                      "--tsig-key", k,   "--notify", notify, NULL};
	cr_assert_eq(fe_test_daemon_start_at(&pri, dir, listen, argv), 0);
}

/* The consumer on 127.0.0.1@nport with only --catalog (and its TSIG key). */
static void start_consumer(void)
{
	char k[300], spec[128], listen[64], dir[300];
	snprintf(k, sizeof(k), "%s/peer.key", tmp);
	snprintf(spec, sizeof(spec), "cat.fed@127.0.0.1@%u", pport);
	snprintf(listen, sizeof(listen), "127.0.0.1@%u", nport);
	snprintf(dir, sizeof(dir), "%s/con", tmp);
	const char *argv[] = {"--catalog", spec, "--tsig-key", k, "--log-level", "debug", NULL};
	cr_assert_eq(fe_test_daemon_start_at(&con, dir, listen, argv), 0);
}

static void reload_primary(void)
{
	int before = fe_test_daemon_log_count(&pri, "reload done");
	kill(pri.pid, SIGHUP);
	cr_assert(wait_log(&pri, "reload done", before + 1), "the primary did not reload");
}

static void ports(void)
{
	nport = fe_test_free_port();
	pport = fe_test_free_port();
	cr_assert(nport && pport && nport != pport);
}

Test(catalog, member_added_and_removed_without_configuration_change)
{
	ports();
	write_member("m1.test.", 1, 1);
	write_member("m2.test.", 2, 1);
	write_member("m3.test.", 3, 1);
	write_catalog(1, NULL, "m1id.zones PTR m1.test.\n");
	start_primary();
	start_consumer();
	cr_assert(wait_served(&con, "m1.test.", 1), "m1 from the catalog not served");
	cr_assert(wait_served(&con, "m2.test.", 0), "m2 is not in the catalog");
	cr_assert(listed(&con, "m1.test."));
	cr_assert(!listed(&con, "m2.test."));

	cr_assert_eq(fe_test_sh(FE_TEST_FEDENUMCTL
	                        " zone show m1.test. --socket '%s/control.sock' "
	                        "| grep -q 'member of catalog cat.fed. (unique id m1id)'",
	                        con.dir),
	             0, "zone show does not name the catalog");
	/* past the one-refresh-a-second guard of the catalog's last refresh: the figure below
	 * is then what an operator sees */
	usleep(1200000);
	/* added: the primary reloads and NOTIFYs, the consumer serves m2 */
	write_catalog(2, NULL, "m1id.zones PTR m1.test.\nm2id.zones PTR m2.test.\n");
	uint64_t t0 = fe_time_mono_ms();
	reload_primary();
	cr_assert(wait_served(&con, "m2.test.", 2), "m2 added to the catalog not served");
	uint64_t ms = fe_time_mono_ms() - t0;
	printf("catalog: a member added to the catalog served by the consumer %llu ms after the "
	       "primary's SIGHUP\n",
	       (unsigned long long)ms);
	fflush(stdout);
	cr_assert(listed(&con, "m2.test."));
	cr_assert(wait_served(&con, "m1.test.", 1));
	cr_assert_eq(fe_test_sh(FE_TEST_FEDENUMCTL
	                        " peer list --json --socket '%s/control.sock' | "
	                        "jq -e '[.. | objects | select(.apex? == \"m2.test.\") | .catalog] "
	                        "== [\"cat.fed.\"]' >/dev/null",
	                        con.dir),
	             0, "peer list does not name m2's catalog");

	/* removed: no longer served, gone from the store */
	usleep(1200000);
	write_catalog(3, NULL, "m2id.zones PTR m2.test.\n");
	t0 = fe_time_mono_ms();
	reload_primary();
	cr_assert(wait_served(&con, "m1.test.", 0), "m1 removed from the catalog still served");
	ms = fe_time_mono_ms() - t0;
	printf("catalog: a member removed from the catalog refused by the consumer %llu ms after "
	       "the primary's SIGHUP\n",
	       (unsigned long long)ms);
	fflush(stdout);
	cr_assert(!listed(&con, "m1.test."), "m1 is still in the consumer's store");
	cr_assert(listed(&con, "m2.test."));
	cr_assert(wait_served(&con, "m2.test.", 2));
	cr_assert_eq(fe_test_daemon_log_count(&con, "zone m1.test.: LEFT CATALOG cat.fed."), 1);
	cr_assert_eq(xfrin_counter(&con, "catalog_zones_added"), 2);
	cr_assert_eq(xfrin_counter(&con, "catalog_zones_removed"), 1);
	cr_assert_eq(xfrin_counter(&con, "catalog_refused"), 0);
	cr_assert_geq(xfrin_counter(&con, "catalog_accepted"), 3);

	/* restart with the primary down: the membership is in the store, m2 served at once */
	cr_assert_eq(fe_test_daemon_stop(&con), 0);
	cr_assert_eq(fe_test_daemon_stop(&pri), 0);
	start_consumer();
	cr_assert(wait_served(&con, "m2.test.", 2), "m2 not served after a restart");
	cr_assert(wait_served(&con, "m1.test.", 0));
	cr_assert(wait_log(&con, "catalog cat.fed.: stored serial 3 read at start", 1));

	/* m2 leaves and m3 joins while the consumer is down */
	cr_assert_eq(fe_test_daemon_stop(&con), 0);
	write_catalog(4, NULL, "m3id.zones PTR m3.test.\n");
	start_primary();
	start_consumer();
	cr_assert(wait_served(&con, "m3.test.", 3), "m3 not served");
	cr_assert(wait_served(&con, "m2.test.", 0), "m2 left the catalog, still served");
	cr_assert(!listed(&con, "m2.test."), "m2 is still in the consumer's store");
	cr_assert(listed(&con, "m3.test."));
}

Test(catalog, malformed_catalog_keeps_the_membership)
{
	ports();
	write_member("m1.test.", 1, 1);
	write_member("m2.test.", 2, 1);
	write_member("m3.test.", 3, 1);
	write_catalog(1, NULL, "a.zones PTR m1.test.\n");
	start_primary();
	start_consumer();
	cr_assert(wait_served(&con, "m1.test.", 1));
	struct {
		const char *version, *body, *log;
	} bad[] = {
	        {"1", "b.zones PTR m2.test.\n", "catalog version \"1\""},
	        {NULL, "a.zones PTR m1.test.\na.zones PTR m2.test.\n", "duplicate unique id a"},
	        {NULL, "b.zones PTR m2.test.\nc.zones PTR x.zones.cat.fed.\n",
	         "is the catalog or below it"},
	        {NULL, "a.zones PTR m1.test.\nb.zones PTR m1.test.\n", "listed twice"},
	};
	for (unsigned i = 0; i < 4; i++) {
		write_catalog(2 + i, bad[i].version, bad[i].body);
		reload_primary();
		cr_assert(wait_log(&con, bad[i].log, 1), "catalog %u not refused", i);
		cr_assert(wait_log(&con, "REFUSED", (int)i + 1));
		cr_assert_eq(xfrin_counter(&con, "catalog_refused"), i + 1);
		cr_assert(wait_served(&con, "m1.test.", 1), "m1 dropped by a bad catalog");
		cr_assert(listed(&con, "m1.test."));
		cr_assert(!listed(&con, "m2.test."));
	}
	/* a restart with the refused catalog stored and the primary down: the membership
	 * recorded in the store is served (from the primary recorded for each zone) */
	cr_assert_eq(fe_test_daemon_stop(&con), 0);
	cr_assert_eq(fe_test_daemon_stop(&pri), 0);
	start_consumer();
	cr_assert(
	        wait_log(&con, "the stored version is refused: zone m1.test. is listed twice", 1));
	cr_assert(wait_log(&con, "1 member zones recorded in the store", 1));
	cr_assert(wait_log(&con, "from the primary recorded", 1));
	cr_assert(wait_served(&con, "m1.test.", 1), "the recorded member not served");
	/* a good one again: applied */
	write_catalog(6, NULL, "b.zones PTR m2.test.\n");
	start_primary();
	cr_assert(wait_served(&con, "m2.test.", 2));
	cr_assert(wait_served(&con, "m1.test.", 0));
	cr_assert(!listed(&con, "m1.test."));
}

Test(catalog, config_file_form_and_primaries_named_by_the_catalog)
{
	ports();
	uint16_t p2port = fe_test_free_port();
	cr_assert(p2port && p2port != pport && p2port != nport);
	write_member("m1.test.", 1, 1);
	write_member("m2.test.", 2, 1);
	write_member("m3.test.", 3, 1);
	/* m2 from the second primary by primaries.ext, m3 by its group (carrier-b's
	 * members.primary), m1 from the catalog's primary; the second primary alone holds m2, m3 */
	char body[512];
	snprintf(body, sizeof(body),
	         "m1.zones PTR m1.test.\nm2.zones PTR m2.test.\n"
	         "primaries.ext.m2.zones TXT \"127.0.0.1@%u\"\n"
	         "m3.zones PTR m3.test.\ngroup.m3.zones TXT \"carrier-b\"\n",
	         p2port);
	write_catalog(1, NULL, body);
	char k[300], cat[300], m1[300], m2[300], m3[300], notify[64], listen[64], dir[300];
	snprintf(k, sizeof(k), "%s/peer.key", tmp);
	snprintf(cat, sizeof(cat), "%s/cat.zone", tmp);
	snprintf(m1, sizeof(m1), "%s/m1.test.zone", tmp);
	snprintf(m2, sizeof(m2), "%s/m2.test.zone", tmp);
	snprintf(m3, sizeof(m3), "%s/m3.test.zone", tmp);
	snprintf(notify, sizeof(notify), "127.0.0.1@%u", nport);
	snprintf(listen, sizeof(listen), "127.0.0.1@%u", pport);
	snprintf(dir, sizeof(dir), "%s/pri", tmp);
	const char *a1[] = {"--zone", cat, "--zone", m1, "--tsig-key", k, "--notify", notify, NULL};
	cr_assert_eq(fe_test_daemon_start_at(&pri, dir, listen, a1), 0);
	snprintf(listen, sizeof(listen), "127.0.0.1@%u", p2port);
	snprintf(dir, sizeof(dir), "%s/pri2", tmp);
	const char *a2[] = {"--zone", m2, "--zone", m3, "--tsig-key", k, "--notify", notify, NULL};
	cr_assert_eq(fe_test_daemon_start_at(&pri2, dir, listen, a2), 0);

	char conf[300], fed[300];
	snprintf(fed, sizeof(fed), "%s/fed.conf", tmp);
	FILE *f = fopen(fed, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "name = \"cattest\";\nmembers = ( { name = \"registry\"; role = \"registry\"; },\n"
	        "  { name = \"carrier-b\"; primary = \"127.0.0.1@%u\"; } );\n"
	        /* a definition shared by every node lists every zone with its file; this
	         * node does not hold carrier-b's files, so m3 is not its own: from the catalog */
	        "zones = ( { apex = \"m3.test.\"; member = \"carrier-b\"; "
	        "file = \"not-on-this-node/m3.test.zone\"; } );\n",
	        p2port);
	fclose(f);
	snprintf(conf, sizeof(conf), "%s/fedenumd.conf", tmp);
	f = fopen(conf, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "federation = \"fed.conf\";\nxfr: { tsig-keys = [\"peer.key\"];\n"
	        "  catalogs = [\"cat.fed.@127.0.0.1@%u\"]; catalog-max-members = 3; };\n",
	        pport);
	fclose(f);
	cr_assert_eq(fe_test_sh(FE_TEST_FEDENUMD " --check-config -c '%s' > '%s/check.out' 2>&1",
	                        conf, tmp),
	             0);
	snprintf(listen, sizeof(listen), "127.0.0.1@%u", nport);
	snprintf(dir, sizeof(dir), "%s/con", tmp);
	const char *ac[] = {"-c", conf, "--log-level", "debug", NULL};
	cr_assert_eq(fe_test_daemon_start_at(&con, dir, listen, ac), 0);
	cr_assert(wait_served(&con, "m1.test.", 1));
	cr_assert(wait_served(&con, "m2.test.", 2), "m2 from its primaries.ext not served");
	cr_assert(wait_served(&con, "m3.test.", 3), "m3 from its group's primary not served");
	char needle[128];
	snprintf(needle, sizeof(needle), "zone m2.test.: AXFR from 127.0.0.1@%u", p2port);
	cr_assert(wait_log(&con, needle, 1)); /* written after the zone is served */
	cr_assert_eq(fe_test_daemon_log_count(&con, needle), 1);
	snprintf(needle, sizeof(needle), "zone m3.test.: AXFR from 127.0.0.1@%u", p2port);
	cr_assert(wait_log(&con, needle, 1)); /* written after the zone is served */
	cr_assert_eq(fe_test_daemon_log_count(&con, needle), 1);
	cr_assert_eq(fe_test_daemon_log_count(&con, "primary 127.0.0.1@"), 3);
	cr_assert_geq(fe_test_daemon_log_count(&con, "from its group's members.primary"), 1);

	/* NOTIFY from the second primary refreshes m2 */
	write_member("m2.test.", 22, 2);
	int before = fe_test_daemon_log_count(&pri2, "reload done");
	kill(pri2.pid, SIGHUP);
	cr_assert(wait_log(&pri2, "reload done", before + 1));
	cr_assert(wait_served(&con, "m2.test.", 22), "m2's new version not taken");

	/* over xfr.catalog-max-members (3): refused, the three stay */
	snprintf(body, sizeof(body),
	         "m1.zones PTR m1.test.\nm2.zones PTR m2.test.\n"
	         "primaries.ext.m2.zones TXT \"127.0.0.1@%u\"\n"
	         "m3.zones PTR m3.test.\ngroup.m3.zones TXT \"carrier-b\"\nm4.zones PTR m4.test.\n",
	         p2port);
	write_catalog(2, NULL, body);
	reload_primary();
	cr_assert(wait_log(&con, "more than 3 member zones", 1));
	cr_assert(wait_served(&con, "m1.test.", 1));
	cr_assert(wait_served(&con, "m3.test.", 3));
	cr_assert_eq(xfrin_counter(&con, "catalog_refused"), 1);

	/* catalogs are read at start only: a reload says so and keeps them */
	f = fopen(conf, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "federation = \"fed.conf\";\nxfr: { tsig-keys = [\"peer.key\"];\n"
	        "  catalogs = [\"other.fed.@127.0.0.1@%u\"]; catalog-max-members = 3; };\n",
	        pport);
	fclose(f);
	kill(con.pid, SIGHUP);
	cr_assert(wait_log(&con, "reload: xfr.catalogs changed", 1));
	cr_assert(wait_served(&con, "m1.test.", 1));
}

/* The producer: `fedenumctl catalog generate` from a federation definition, served by one
 * primary and consumed as it is: every zone of the definition served by the consumer, each
 * from its member's primary (primaries.ext). */
Test(catalog, generated_catalog_is_consumed)
{
	ports();
	uint16_t p2port = fe_test_free_port();
	cr_assert(p2port && p2port != pport && p2port != nport);
	write_member("m1.test.", 1, 1);
	write_member("m2.test.", 2, 1);
	write_member("m3.test.", 3, 1);
	char fed[300];
	snprintf(fed, sizeof(fed), "%s/fed.conf", tmp);
	FILE *f = fopen(fed, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "name = \"cattest\";\n"
	        "members = ( { name = \"registry\"; role = \"registry\"; primary = "
	        "\"127.0.0.1@%u\"; },\n"
	        "  { name = \"carrier-b\"; primary = \"127.0.0.1@%u\"; } );\n"
	        "zones = ( { apex = \"m1.test.\"; member = \"registry\"; file = \"m1.test.zone\"; "
	        "},\n"
	        "  { apex = \"m2.test.\"; member = \"carrier-b\"; file = \"m2.test.zone\"; },\n"
	        "  { apex = \"M3.test.\"; member = \"carrier-b\"; file = \"m3.test.zone\"; } );\n",
	        pport, p2port);
	fclose(f);
	cr_assert_eq(fe_test_sh(FE_TEST_FEDENUMCTL " catalog generate --config '%s' --apex cat.fed "
	                                           "--serial 7 > '%s/cat.zone'",
	                        fed, tmp),
	             0);
	cr_assert_eq(fe_test_sh("grep -c ' IN PTR ' '%s/cat.zone' | grep -qx 3", tmp), 0);
	cr_assert_eq(
	        fe_test_sh("grep -q '^cat.fed. 0 IN SOA invalid. invalid. 7 ' '%s/cat.zone'", tmp),
	        0);
	cr_assert_eq(
	        fe_test_sh(FE_TEST_FEDENUMCTL
	                   " catalog generate --config '%s' --apex cat.fed "
	                   "--json | jq -e '.apex == \"cat.fed.\" and (.members | length) == 3 "
	                   "and .members[2].zone == \"m3.test.\" and .members[2].primary == "
	                   "\"127.0.0.1@%u\"' >/dev/null",
	                   fed, p2port),
	        0);
	cr_assert_eq(fe_test_sh(FE_TEST_FEDENUMCTL " catalog --help | grep -q 'catalog generate'"),
	             0);
	cr_assert_eq(fe_test_sh(FE_TEST_FEDENUMCTL " catalog generate > /dev/null 2>&1"), 2,
	             "no --config: usage");

	char k[300], cat[300], m1[300], m2[300], m3[300], notify[64], listen[64], dir[300];
	snprintf(k, sizeof(k), "%s/peer.key", tmp);
	snprintf(cat, sizeof(cat), "%s/cat.zone", tmp);
	snprintf(m1, sizeof(m1), "%s/m1.test.zone", tmp);
	snprintf(m2, sizeof(m2), "%s/m2.test.zone", tmp);
	snprintf(m3, sizeof(m3), "%s/m3.test.zone", tmp);
	snprintf(notify, sizeof(notify), "127.0.0.1@%u", nport);
	snprintf(listen, sizeof(listen), "127.0.0.1@%u", pport);
	snprintf(dir, sizeof(dir), "%s/pri", tmp);
	const char *a1[] = {"--zone", cat, "--zone", m1, "--tsig-key", k, "--notify", notify, NULL};
	cr_assert_eq(fe_test_daemon_start_at(&pri, dir, listen, a1), 0);
	snprintf(listen, sizeof(listen), "127.0.0.1@%u", p2port);
	snprintf(dir, sizeof(dir), "%s/pri2", tmp);
	const char *a2[] = {"--zone", m2, "--zone", m3, "--tsig-key", k, "--notify", notify, NULL};
	cr_assert_eq(fe_test_daemon_start_at(&pri2, dir, listen, a2), 0);
	start_consumer();
	cr_assert(wait_served(&con, "m1.test.", 1));
	cr_assert(wait_served(&con, "m2.test.", 2));
	cr_assert(wait_served(&con, "m3.test.", 3));
	cr_assert_eq(fe_test_daemon_log_count(&con, "from the member's primaries.ext"), 3);
}

/* Under trust anchors (keys made at run time, test-only; dnssec-signzone): the catalog is
 * signed and validated like any zone before its members are read, and every member zone is
 * validated too (answered with AD=1). A catalog forged after signing (a member's PTR
 * changed) fails validation: nothing of it is stored or applied, the member zones served
 * stay; the next correctly signed version is applied. */
Test(catalog, signed_catalog_validated_under_trust_anchors)
{
	ports();
	char gen[300];
	snprintf(gen, sizeof(gen), "%s/gen", tmp);
	cr_assert_eq(
	        fe_test_sh(
	                "mkdir -p %s && cd %s && for z in cat.fed m1.test m2.test m3.test; do"
	                " dnssec-keygen -q -a ECDSAP256SHA256 -f KSK -n ZONE $z >/dev/null &&"
	                " dnssec-keygen -q -a ECDSAP256SHA256 -n ZONE $z >/dev/null || exit 1; done"
	                " && for k in K*.key; do if grep -q 'DNSKEY[[:space:]]*257' \"$k\"; then"
	                " dnssec-dsfromkey -2 \"$k\"; fi; done > anchors.ds"
	                " && for i in 1 2 3; do { echo \"\\$ORIGIN m$i.test.\"; echo '$TTL 300';"
	                " echo '@ SOA ns1 hostmaster 1 3600 600 86400 300'; echo '@ NS ns1';"
	                " echo 'ns1 A 127.0.0.1'; echo \"a A 192.0.2.$i\"; } > m$i.in &&"
	                " dnssec-signzone -q -S -K . -N keep -O full -o m$i.test -f "
	                "../m$i.test.zone"
	                " m$i.in >/dev/null || exit 1; done"
	                " && cat_v() { { echo '$ORIGIN cat.fed.'; echo '$TTL 0';"
	                " echo \"@ SOA invalid. invalid. $1 3600 600 2147483646 0\";"
	                " echo '@ NS invalid.'; echo 'version TXT \"2\"'; shift;"
	                " for m in \"$@\"; do echo \"$m.zones PTR $m.test.\"; done; } > c.in &&"
	                " dnssec-signzone -q -S -K . -N keep -O full -o cat.fed -f - c.in; }"
	                " && cat_v 1 m1 > v1.signed && cat_v 2 m1 m2 > v2.signed"
	                " && sed 's/PTR[[:space:]]*m2.test.$/PTR m3.test./' v2.signed > v2.forged"
	                " && ! cmp -s v2.signed v2.forged"
	                " && cat_v 3 m1 m2 > v3.signed",
	                gen, gen),
	        0);
	cr_assert_eq(fe_test_sh("cp %s/v1.signed %s/cat.zone", gen, tmp), 0);
	start_primary();
	char k[300], spec[128], listen[64], dir[300], anchors[320];
	snprintf(k, sizeof(k), "%s/peer.key", tmp);
	snprintf(anchors, sizeof(anchors), "%s/anchors.ds", gen);
	snprintf(spec, sizeof(spec), "cat.fed@127.0.0.1@%u", pport);
	snprintf(listen, sizeof(listen), "127.0.0.1@%u", nport);
	snprintf(dir, sizeof(dir), "%s/con", tmp);
	const char *argv[] = {"--catalog", spec,          "--tsig-key", k,   "--trust-anchor",
	                      anchors,     "--log-level", "debug",      NULL};
	cr_assert_eq(fe_test_daemon_start_at(&con, dir, listen, argv), 0);
	cr_assert(wait_served(&con, "m1.test.", 1));
	cr_assert(wait_log(&con, "zone cat.fed.: AXFR from 127.0.0.1@", 1));
	/* m1 is served once committed; its refresh's log line follows on the loop */
	cr_assert(wait_log(&con, "validated through the trust anchor", 2),
	          "the catalog and m1 validated");
	cr_assert_eq(fe_test_sh("kdig @127.0.0.1 -p %u +dnssec +timeout=1 +retry=0 a.m1.test A | "
	                        "grep -q ' ad;'",
	                        nport),
	             0, "m1 not answered AD=1");

	/* forged: refused by validation, nothing applied */
	cr_assert_eq(fe_test_sh("cp %s/v2.forged %s/cat.zone", gen, tmp), 0);
	reload_primary();
	cr_assert(wait_log(&con, "RRSIG PTR at m2.zones.cat.fed.: signature invalid", 1),
	          "the forged catalog was not refused by validation");
	fe_test_sh("grep -o 'zone cat.fed.: refresh from .*' '%s' | cut -c1-300", con.log_path);
	cr_assert_eq(fe_test_daemon_log_count(&con, "catalog cat.fed. serial 2"), 0);
	cr_assert(wait_served(&con, "m3.test.", 0));
	cr_assert(wait_served(&con, "m1.test.", 1));
	cr_assert(!listed(&con, "m3.test."));

	/* correctly signed: applied, m2 validated */
	cr_assert_eq(fe_test_sh("cp %s/v3.signed %s/cat.zone", gen, tmp), 0);
	reload_primary();
	cr_assert(wait_served(&con, "m2.test.", 2), "m2 of the signed catalog not served");
	cr_assert_eq(fe_test_sh("kdig @127.0.0.1 -p %u +dnssec +timeout=1 +retry=0 a.m2.test A | "
	                        "grep -q ' ad;'",
	                        nport),
	             0, "m2 not answered AD=1");
	cr_assert(wait_log(&con, "catalog cat.fed. serial 3: 2 member zones (1 added", 1));
}

/* A zone the consumer loads from its own file (--zone), or signs itself (its keys in
 * --key-dir), and that the catalog also lists is not taken from the catalog (logged); when
 * the catalog drops it, the consumer's own copy stays in its store and served. */
Test(catalog, own_zones_are_never_taken_nor_removed)
{
	ports();
	write_member("m1.test.", 1, 1);
	write_member("m2.test.", 2, 1);
	write_member("m3.test.", 3, 1);
	write_catalog(1, NULL,
	              "a.zones PTR m1.test.\nb.zones PTR m3.test.\nc.zones PTR m2.test.\n");
	start_primary();
	cr_assert_eq(fe_test_sh(FE_TEST_FEDENUMCTL " key generate m2.test. --key-dir '%s/con/keys' "
	                                           ">/dev/null",
	                        tmp),
	             0);
	/* the consumer's own m3 (192.0.2.33, serial 5) */
	char own[300], k[300], spec[128], listen[64], dir[300], keys[300];
	snprintf(own, sizeof(own), "%s/con/m3-own.zone", tmp);
	FILE *f = fopen(own, "w");
	cr_assert_not_null(f);
	fprintf(f, "$ORIGIN m3.test.\n$TTL 300\n@ SOA ns1 hostmaster 5 3600 600 86400 300\n"
	           "@ NS ns1\nns1 A 127.0.0.1\na A 192.0.2.33\n");
	fclose(f);
	snprintf(k, sizeof(k), "%s/peer.key", tmp);
	snprintf(spec, sizeof(spec), "cat.fed@127.0.0.1@%u", pport);
	snprintf(listen, sizeof(listen), "127.0.0.1@%u", nport);
	snprintf(dir, sizeof(dir), "%s/con", tmp);
	snprintf(keys, sizeof(keys), "%s/con/keys", tmp);
	const char *argv[] = {"--catalog", spec,        "--tsig-key", k,   "--zone",
	                      own,         "--key-dir", keys,         NULL};
	cr_assert_eq(fe_test_daemon_start_at(&con, dir, listen, argv), 0);
	cr_assert(wait_served(&con, "m1.test.", 1));
	cr_assert(wait_log(&con, "zone m3.test. is one of this node's own zones", 1));
	cr_assert(wait_served(&con, "m3.test.", 33), "the own copy of m3 not served");
	cr_assert(wait_log(&con, "zone m2.test. is one of this node's own zones", 1));
	cr_assert(wait_served(&con, "m2.test.", 0), "m2 is signed here: not from the catalog");
	write_catalog(2, NULL, "a.zones PTR m1.test.\n");
	reload_primary();
	cr_assert(wait_log(&con, "catalog cat.fed. serial 2: 1 member zones", 1));
	cr_assert_eq(fe_test_daemon_log_count(&con, "zone m3.test.: LEFT CATALOG"), 0);
	cr_assert(wait_served(&con, "m3.test.", 33), "the own m3 was removed");
	cr_assert(listed(&con, "m3.test."));
	cr_assert_eq(xfrin_counter(&con, "catalog_zones_removed"), 0);
}

/* Every node may share one federation definition that lists every zone with its file, each
 * node holding only its own files (docs/federation.md, the multi-host test): a zone whose
 * file this node does not have is taken from the catalog; the one whose file it has stays
 * its own. (A bug once made every zone of the definition "own", so such a node took nothing
 * from the catalog.) */
Test(catalog, definition_zones_without_a_file_here_are_taken)
{
	ports();
	write_member("m1.test.", 1, 1);
	write_member("m2.test.", 2, 1);
	write_member("m3.test.", 3, 1);
	write_catalog(1, NULL, "a.zones PTR m1.test.\nb.zones PTR m2.test.\n");
	start_primary();
	char p[300];
	snprintf(p, sizeof(p), "%s/con/own-m2.zone", tmp);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	fprintf(f, "$ORIGIN m2.test.\n$TTL 300\n@ SOA ns1 hostmaster 5 3600 600 86400 300\n"
	           "@ NS ns1\nns1 A 127.0.0.1\na A 192.0.2.22\n");
	fclose(f);
	char fed[300], conf[300];
	snprintf(fed, sizeof(fed), "%s/con/fed.conf", tmp);
	f = fopen(fed, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "name = \"cattest\";\n"
	        "members = ( { name = \"registry\"; role = \"registry\"; },\n"
	        "  { name = \"carrier-b\"; } );\n"
	        "zones = ( { apex = \"m1.test.\"; member = \"registry\"; "
	        "file = \"not-here-m1.zone\"; },\n"
	        "  { apex = \"m2.test.\"; member = \"carrier-b\"; file = \"own-m2.zone\"; } );\n");
	fclose(f);
	snprintf(conf, sizeof(conf), "%s/con/fedenumd.conf", tmp);
	f = fopen(conf, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "federation = \"fed.conf\";\nxfr: { tsig-keys = [\"../peer.key\"];\n"
	        "  catalogs = [\"cat.fed.@127.0.0.1@%u\"]; };\n",
	        pport);
	fclose(f);
	char listen[64], dir[300];
	snprintf(listen, sizeof(listen), "127.0.0.1@%u", nport);
	snprintf(dir, sizeof(dir), "%s/con", tmp);
	const char *ac[] = {"-c", conf, "--log-level", "debug", NULL};
	cr_assert_eq(fe_test_daemon_start_at(&con, dir, listen, ac), 0);
	cr_assert(wait_served(&con, "m1.test.", 1), "m1 (no file here) not taken from the catalog");
	cr_assert(wait_log(&con, "zone m1.test.: AXFR from 127.0.0.1@", 1));
	cr_assert(wait_log(&con, "zone m2.test. is one of this node's own zones", 1));
	cr_assert(wait_served(&con, "m2.test.", 22), "the own m2 not served from its file");
	cr_assert_eq(fe_test_daemon_log_count(&con, "zone m1.test. is one of this node's own"), 0);
	cr_assert_eq(xfrin_counter(&con, "catalog_zones_added"), 1);
}
