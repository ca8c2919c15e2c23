/* Operator safety: no update path may silently drop, roll back or shadow a zone.
 * One test per finding of the issue, each reproducing what an operator did with the demo
 * federation and the documented commands:
 *   1. one_writer_rule            fedenumctl zone-load into a running node's store
 *   2. serials_only_move_forward  a lower serial replacing a newer one (file, SIGHUP, tool)
 *   3. one_instance_per_store_and_address   a second fedenumd on the same store / port
 *   4. broken_zone_file_fails_alone         one mistyped zones.file
 *   5. check_zone_validates_dnssec          check-zone said OK to a tampered / unsigned zone
 *   6. start_without_configuration_serves_the_store   no -c: the demo took the store over
 *   7. privileges_*                          user/group, port 53 errors, secrets
 * plus kill -9 during refused and forced loads, docs/security.md K1 for the new keys, and --help /
 * --version of every command. */
#include "net_common.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define DEMO_KEYS  FE_TEST_SRC "/federation/keys"
#define DEMO_ZONES FE_TEST_SRC "/zones"
#define DEMO_CONF  FE_TEST_SRC "/federation/fedenumd.conf"
#define B_NUMBER   "1.0.0.0.0.0.2.5.5.5.1.e164.fed."
#define B_SIGNED   DEMO_ZONES "/2.5.5.5.1.e164.fed/2.5.5.5.1.e164.fed.zone.signed"
#define B_SERIAL   "1795897299"

static struct fe_test_daemon d, d2;
static char dir[256];

static void setup(void)
{
	fe_test_mkdtemp(dir, sizeof(dir));
	memset(&d, 0, sizeof(d));
	memset(&d2, 0, sizeof(d2));
}

static void teardown(void)
{
	if (d.pid > 0)
		fe_test_daemon_kill9(&d);
	if (d2.pid > 0)
		fe_test_daemon_kill9(&d2);
	fe_test_rmdir(dir);
}

TestSuite(safety, .init = setup, .fini = teardown, .timeout = 240);

/* NAPTR answer for @name: rcode, AD flag, and whether @want is in the answer text. */
static int naptr(const struct fe_test_daemon *dm, const char *name, const char *want, bool *ad)
{
	ldns_pkt *p = fe_test_query(dm->host, dm->port, name, LDNS_RR_TYPE_NAPTR, FE_TQ_DO, 0);
	cr_assert_not_null(p, "no answer for %s", name);
	int rc = (int)ldns_pkt_get_rcode(p);
	if (ad)
		*ad = ldns_pkt_ad(p);
	if (want) {
		char *txt = ldns_rr_list2str(ldns_pkt_answer(p));
		bool found = txt && strstr(txt, want) != NULL;
		free(txt);
		if (!found)
			rc = -1;
	}
	ldns_pkt_free(p);
	return rc;
}

/* The demo federation on <dir>/db (fe_test's --db and --listen override the file's). */
static void start_demo(struct fe_test_daemon *dm)
{
	const char *argv[] = {"-c", DEMO_CONF, NULL};
	cr_assert_eq(fe_test_daemon_start(dm, dir, argv), 0, "fedenumd did not start");
}

/* Carrier B's signed zone with its SOA serial raised by one: the SOA RRSIG no longer
 * matches (the "broken SOA signature" of finding 1). */
static void write_broken_b(const char *path)
{
	cr_assert_eq(fe_test_sh("sed 's/ " B_SERIAL " / 1795897300 /' '%s' > '%s'", B_SIGNED, path),
	             0);
}

/* ---- 1. one writer per store -------------------------------------------------------- */

Test(safety, one_writer_rule)
{
	char out[16384], args[2048], broken[512];
	bool ad = false;
	snprintf(broken, sizeof(broken), "%s/b-broken.zone", dir);
	write_broken_b(broken);
	start_demo(&d);
	cr_assert_eq(naptr(&d, B_NUMBER, "ims-b.example", &ad), LDNS_RCODE_NOERROR);
	cr_assert(ad);

	/* While the node runs: refused, naming its PID; nothing written. */
	snprintf(args, sizeof(args), "zone-load --db '%s/db' '%s'", dir, broken);
	cr_assert_eq(nc_ctl(dir, args, out, sizeof(out)), 3, "%s", out);
	char pid[32];
	snprintf(pid, sizeof(pid), "PID %d", (int)d.pid);
	cr_expect_not_null(strstr(out, pid), "the refusal names the running node: %s", out);
	cr_assert_eq(naptr(&d, B_NUMBER, "ims-b.example", &ad), LDNS_RCODE_NOERROR);
	cr_assert(ad, "carrier B's routes stay validated");
	cr_assert_eq(fe_test_daemon_stop(&d), 0);

	/* Node stopped, no --trust-anchor: the store's own anchors apply, the broken version is
	 * rejected and the validated one kept. */
	cr_assert_eq(nc_ctl(dir, args, out, sizeof(out)), 1, "%s", out);
	cr_expect_not_null(strstr(out, "SOA"), "the reason names the SOA signature: %s", out);
	cr_expect_not_null(strstr(out, "stored serial " B_SERIAL " is kept and keeps serving"),
	                   "%s", out);
	snprintf(args, sizeof(args), "zone-list --db '%s/db'", dir);
	cr_assert_eq(nc_ctl(dir, args, out, sizeof(out)), 0, "%s", out);
	char *row = strstr(out, "\n2.5.5.5.1.e164.fed. ");
	cr_assert_not_null(row, "%s", out);
	unsigned serial = 0;
	cr_assert_eq(sscanf(row, "\n2.5.5.5.1.e164.fed. %u", &serial), 1);
	cr_expect_eq(serial, 1795897299u, "zone-list shows what is served: %s", row);
	char *eol = strchr(row + 1, '\n');
	if (eol)
		*eol = '\0';
	cr_expect_not_null(strstr(row, " served "), "%s", row);
	cr_expect_not_null(strstr(row, "rejected serial 1795897300"), "%s", row);

	/* An anchor that is not among the store's: refused before anything is read. */
	snprintf(args, sizeof(args),
	         "zone-load --db '%s/db' --trust-anchor "
	         "%s/tests/integration/data/trust/e164.test.ds "
	         "'%s'",
	         dir, FE_TEST_SRC, broken);
	cr_assert_eq(nc_ctl(dir, args, out, sizeof(out)), 2, "%s", out);
	cr_expect_not_null(strstr(out, "kept under other trust anchors"), "%s", out);

	/* A plain (unsigned) store never takes an unvalidated version over a validated one. */
	start_demo(&d);
	cr_assert_eq(naptr(&d, B_NUMBER, "ims-b.example", &ad), LDNS_RCODE_NOERROR);
	cr_assert(ad, "after all of that the node still serves carrier B validated");
}

/* ---- 2. serials only move forward ---------------------------------------------------- */

/* net.test. with serial @serial and, when @extra, one more NAPTR (+1000002). */
static void write_net_zone(const char *path, unsigned serial, bool extra, const char *tag)
{
	nc_write_file(path,
	              "$ORIGIN net.test.\n$TTL 300\n"
	              "@ IN SOA ns1 hostmaster %u 3600 600 86400 300\n@ IN NS ns1\n"
	              "ns1 IN A 127.0.0.1\n"
	              "1.0.0.0.0.0.1 IN NAPTR 10 100 \"u\" \"E2U+sip\" "
	              "\"!^.*$!sip:+1000001@%s.net.test;user=phone!\" .\n%s",
	              serial, tag,
	              extra ? "2.0.0.0.0.0.1 IN NAPTR 10 100 \"u\" \"E2U+sip\" "
	                      "\"!^.*$!sip:+1000002@net.test;user=phone!\" .\n"
	                    : "");
}

#define NUM2 "2.0.0.0.0.0.1.net.test."

Test(safety, serials_only_move_forward)
{
	char old[512], newer[512], args[2048], out[8192];
	snprintf(old, sizeof(old), "%s/old.zone", dir);
	snprintf(newer, sizeof(newer), "%s/new.zone", dir);
	write_net_zone(old, 1, false, "v1");
	write_net_zone(newer, 2, true, "v2");

	const char *with_old[] = {"--zone", old, NULL};
	cr_assert_eq(fe_test_daemon_start(&d, dir, with_old), 0);
	cr_assert_eq(fe_test_daemon_stop(&d), 0);
	snprintf(args, sizeof(args), "zone-load --db '%s/db' '%s'", dir, newer);
	cr_assert_eq(nc_ctl(dir, args, out, sizeof(out)), 0, "%s", out);

	/* The configured file still has serial 1: refused, logged, counted; serial 2 serves. */
	cr_assert_eq(fe_test_daemon_start(&d, dir, with_old), 0);
	cr_expect_eq(naptr(&d, NUM2, "+1000002", NULL), LDNS_RCODE_NOERROR,
	             "the number added with serial 2 must survive the restart");
	cr_expect_eq(fe_test_daemon_log_count(&d, "serial 1 is older than the stored serial 2"), 1);
	cr_assert_eq(kill(d.pid, SIGHUP), 0);
	for (int i = 0; i < 250 && fe_test_daemon_log_count(&d, "reload done") < 1; i++)
		nc_sleep_ms(20);
	cr_expect_eq(
	        fe_test_daemon_log_count(
	                &d, "reload done: 1 zones: 0 loaded, 0 unchanged, 0 failed, 1 refused"),
	        1, "SIGHUP refuses it too");
	cr_expect_eq(naptr(&d, NUM2, "+1000002", NULL), LDNS_RCODE_NOERROR);
	cr_expect_geq(nc_counter(&d, "queries"), 2);
	cr_expect_eq(fe_test_daemon_log_count(&d, "refused=2"), 1, "counted: %d",
	             fe_test_daemon_log_count(&d, "refused="));

	/* Same serial, other content (edited without a serial bump): refused too. */
	write_net_zone(old, 2, false, "edited");
	cr_assert_eq(kill(d.pid, SIGHUP), 0);
	for (int i = 0; i < 250 && fe_test_daemon_log_count(&d, "reload done") < 2; i++)
		nc_sleep_ms(20);
	cr_expect_eq(fe_test_daemon_log_count(&d, "serial 2 is already stored with different "
	                                          "content"),
	             1);
	cr_expect_eq(naptr(&d, NUM2, "+1000002", NULL), LDNS_RCODE_NOERROR);
	cr_expect_eq(naptr(&d, NET_NAPTR, "@v2.net.test", NULL), LDNS_RCODE_NOERROR);
	cr_assert_eq(fe_test_daemon_stop(&d), 0);

	/* The same serial with the same content is no change at all. */
	cr_assert_eq(fe_test_sh("cp '%s' '%s/same.zone'", newer, dir), 0);
	snprintf(args, sizeof(args), "zone-load --db '%s/db' '%s/same.zone'", dir, dir);
	cr_assert_eq(nc_ctl(dir, args, out, sizeof(out)), 0, "%s", out);
	cr_expect_not_null(strstr(out, "already current"), "%s", out);

	/* The tool refuses the rollback too, and --force does it on purpose. */
	write_net_zone(old, 1, false, "v1");
	snprintf(args, sizeof(args), "zone-load --db '%s/db' '%s'", dir, old);
	cr_assert_eq(nc_ctl(dir, args, out, sizeof(out)), 1, "%s", out);
	cr_expect_not_null(strstr(out, "is older than the stored serial 2"), "%s", out);
	snprintf(args, sizeof(args), "zone-load --db '%s/db' --force '%s'", dir, old);
	cr_assert_eq(nc_ctl(dir, args, out, sizeof(out)), 0, "%s", out);
	const char *noconf[] = {NULL};
	cr_assert_eq(fe_test_daemon_start(&d, dir, noconf), 0);
	cr_expect_eq(naptr(&d, NUM2, NULL, NULL), LDNS_RCODE_NXDOMAIN, "rolled back on purpose");
	cr_expect_eq(naptr(&d, NET_NAPTR, "@v1.net.test", NULL), LDNS_RCODE_NOERROR);
}

/* kill -9 while a refused load (the daemon) or a forced one (fedenumctl) runs on a larger
 * zone: each time the store holds one complete version. */
Test(safety, kill9_during_refused_and_forced_loads, .timeout = 280)
{
	char big1[512], big2[512], args[2048], out[8192];
	snprintf(big1, sizeof(big1), "%s/big1.zone", dir);
	snprintf(big2, sizeof(big2), "%s/big2.zone", dir);
	/* 50,000 numbers; serial 2 has an apex TXT that serial 1 lacks. */
	cr_assert_eq(fe_test_sh("%s/tests/lib/gen-enum-zone.sh 50000 '%s/gen' --sign none "
	                        ">/dev/null && cp '%s/gen/zone' '%s'",
	                        FE_TEST_SRC, dir, dir, big1),
	             0);
	cr_assert_eq(fe_test_sh("sed -e 's/^@ SOA ns1 hostmaster 1 /@ SOA ns1 hostmaster 2 /' '%s' "
	                        "> '%s' && echo '@ TXT \"v2\"' >> '%s' && "
	                        "grep -q '^@ SOA ns1 hostmaster 2 ' '%s'",
	                        big1, big2, big2, big2),
	             0, "gen-enum-zone.sh output changed: fix this test");
	snprintf(args, sizeof(args), "zone-load --db '%s/db' '%s'", dir, big2);
	cr_assert_eq(nc_ctl(dir, args, out, sizeof(out)), 0, "%s", out);

	unsigned seed = (unsigned)getpid();
	int refused_kills = 0, forced_kills = 0;
	for (int round = 0; round < 8; round++) {
		bool forced = round % 2;
		pid_t pid = fork();
		cr_assert_geq(pid, 0);
		if (pid == 0) {
			char db[400];
			snprintf(db, sizeof(db), "%s/db", dir);
			int fd = open("/dev/null", O_WRONLY);
			dup2(fd, 1);
			dup2(fd, 2);
			if (forced)
				execl(FE_TEST_FEDENUMCTL, "fedenumctl", "zone-load", "--db", db,
				      "--force", big1, (char *)NULL);
			else
				execl(FE_TEST_FEDENUMD, "fedenumd", "--db", db, "--listen",
				      "127.0.0.1@0", "--zone", big1, (char *)NULL);
			_exit(127);
		}
		nc_sleep_ms(50 + (int)(rand_r(&seed) % 600));
		int st;
		if (waitpid(pid, &st, WNOHANG) == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			forced ? forced_kills++ : refused_kills++;
		}
		/* One complete version: serial 2 (with its extra TXT) or, after a forced load
		 * that finished, serial 1 without it. */
		snprintf(args, sizeof(args), "zone-list --db '%s/db'", dir);
		cr_assert_eq(nc_ctl(dir, args, out, sizeof(out)), 0, "%s", out);
		cr_assert_eq(fe_test_daemon_start(&d, dir, (const char *const[]){NULL}), 0);
		ldns_pkt *p = fe_test_query(d.host, d.port, "e164.fed.", LDNS_RR_TYPE_TXT, 0, 0);
		cr_assert_not_null(p);
		int txt = (int)ldns_rr_list_rr_count(ldns_pkt_answer(p));
		ldns_pkt_free(p);
		char *row = strstr(out, "\ne164.fed. ");
		cr_assert_not_null(row, "%s", out);
		unsigned serial = 0;
		unsigned long long ver, nodes, rrs;
		cr_assert_eq(
		        sscanf(row, "\ne164.fed. %u %llu %llu %llu", &serial, &ver, &nodes, &rrs),
		        4);
		cr_assert(serial == 2 ? txt == 1 : (serial == 1 && txt == 0),
		          "round %d: serial %u with %d TXT: a mix of versions", round, serial, txt);
		cr_assert_eq(fe_test_daemon_stop(&d), 0);
		if (serial == 1) {
			/* back to serial 2 for the next round */
			snprintf(args, sizeof(args), "zone-load --db '%s/db' '%s'", dir, big2);
			cr_assert_eq(nc_ctl(dir, args, out, sizeof(out)), 0, "%s", out);
		}
	}
	printf("safety: kill -9 during 4 refused loads (%d killed mid-way) and 4 forced loads (%d "
	       "killed mid-way): one complete version every time\n",
	       refused_kills, forced_kills);
}

/* ---- 3. one instance per store and per listen address -------------------------------- */

Test(safety, one_instance_per_store_and_address)
{
	const char *zone[] = {"--zone", NET_ZONE, NULL};
	cr_assert_eq(fe_test_daemon_start(&d, dir, zone), 0);
	char listen[64], other[400], out[8192], cmd[2048];
	snprintf(listen, sizeof(listen), "127.0.0.1@%u", d.port);

	/* Same store (another port): exits 3 naming the PID. */
	snprintf(cmd, sizeof(cmd), "%s --db '%s/db' --listen 127.0.0.1@0 --zone '%s'",
	         FE_TEST_FEDENUMD, dir, NET_ZONE);
	cr_assert_eq(nc_run(dir, out, sizeof(out), cmd), 3, "%s", out);
	char pid[32];
	snprintf(pid, sizeof(pid), "PID %d", (int)d.pid);
	cr_expect_not_null(strstr(out, pid), "%s", out);

	/* Same address and port (another store): exits 4, the port is not shared. */
	snprintf(other, sizeof(other), "%s/other", dir);
	snprintf(cmd, sizeof(cmd), "%s --db '%s/db' --listen %s --zone '%s'", FE_TEST_FEDENUMD,
	         other, listen, NET_ZONE);
	cr_assert_eq(nc_run(dir, out, sizeof(out), cmd), 4, "%s", out);
	cr_expect_not_null(strstr(out, "another process holds this address"), "%s", out);

	/* Every answer still comes from the one instance. */
	for (int i = 0; i < 200; i++)
		cr_assert_eq(naptr(&d, NET_NAPTR, NULL, NULL), LDNS_RCODE_NOERROR, "query %d", i);
}

/* ---- 4. one broken zone file fails that zone only ------------------------------------ */

Test(safety, broken_zone_file_fails_alone)
{
	char conf[512], zfile[512], path[512];
	snprintf(zfile, sizeof(zfile), "%s/net.zone", dir);
	write_net_zone(zfile, 1, false, "v1");
	snprintf(path, sizeof(path), "%s/federation.conf", dir);
	nc_write_file(
	        path,
	        "name = \"f\";\nmembers = ( { name = \"r\"; role = \"registry\"; } );\n"
	        "zones = ( { apex = \"net.test.\"; member = \"r\"; file = \"net.zone\"; },\n"
	        "          { apex = \"gone.test.\"; member = \"r\"; file = \"gnoe.zone\"; } );\n");
	snprintf(conf, sizeof(conf), "%s/fedenumd.conf", dir);
	nc_write_file(conf, "federation = \"federation.conf\";\n");

	char out[8192], cmd[2048];
	snprintf(cmd, sizeof(cmd), "%s --check-config -c '%s'", FE_TEST_FEDENUMD, conf);
	cr_assert_eq(nc_run(dir, out, sizeof(out), cmd), 0, "%s", out);
	cr_expect_not_null(strstr(out, "federation.conf:4: zones.file"),
	                   "a warning with file:line: %s", out);

	const char *argv[] = {"-c", conf, NULL};
	cr_assert_eq(fe_test_daemon_start(&d, dir, argv), 0,
	             "one missing zone file must not stop "
	             "the node");
	cr_expect_eq(naptr(&d, NET_NAPTR, "@v1.net.test", NULL), LDNS_RCODE_NOERROR);
	cr_expect_geq(fe_test_daemon_log_count(&d, "gnoe.zone"), 1);
	cr_expect_eq(fe_test_daemon_log_count(&d, "1 failed"), 1);

	/* SIGHUP with the registry fixed and the other file still missing: net.test reloads. */
	write_net_zone(zfile, 2, false, "v2");
	cr_assert_eq(kill(d.pid, SIGHUP), 0);
	for (int i = 0; i < 250 && fe_test_daemon_log_count(&d, "reload done") < 1; i++)
		nc_sleep_ms(20);
	cr_expect_eq(fe_test_daemon_log_count(&d, "reload done: 2 zones: 1 loaded"), 1);
	cr_expect_eq(naptr(&d, NET_NAPTR, "@v2.net.test", NULL), LDNS_RCODE_NOERROR);

	/* Syntax errors still refuse the whole file (and the running configuration stays). */
	nc_write_file(path, "name = \"f\"\nmembers = (;\n");
	cr_assert_eq(kill(d.pid, SIGHUP), 0);
	for (int i = 0; i < 250 && fe_test_daemon_log_count(&d, "reload refused") < 1; i++)
		nc_sleep_ms(20);
	cr_expect_eq(fe_test_daemon_log_count(&d, "reload refused"), 1);
	cr_expect_eq(naptr(&d, NET_NAPTR, "@v2.net.test", NULL), LDNS_RCODE_NOERROR);
}

/* ---- 5. check-zone validates DNSSEC and says which checks ran ------------------------ */

Test(safety, check_zone_validates_dnssec)
{
	char out[16384], args[4096], broken[512], unsigned_zone[512];
	snprintf(broken, sizeof(broken), "%s/b-broken.zone", dir);
	write_broken_b(broken);
	snprintf(unsigned_zone, sizeof(unsigned_zone), "%s/net.zone", dir);
	write_net_zone(unsigned_zone, 1, false, "v1");

	/* Without anchors: a tampered signature fails, an unsigned file fails. */
	snprintf(args, sizeof(args), "check-zone '%s'", broken);
	cr_assert_eq(nc_ctl(dir, args, out, sizeof(out)), 1, "tampered: %s", out);
	cr_expect_not_null(strstr(out, "SOA"), "%s", out);
	snprintf(args, sizeof(args), "check-zone '%s'", unsigned_zone);
	cr_assert_eq(nc_ctl(dir, args, out, sizeof(out)), 1, "unsigned: %s", out);
	cr_expect_not_null(strstr(out, "not signed"), "%s", out);
	snprintf(args, sizeof(args), "check-zone --allow-unsigned '%s'", unsigned_zone);
	cr_assert_eq(nc_ctl(dir, args, out, sizeof(out)), 0, "%s", out);
	cr_expect_not_null(strstr(out, "checks: parse, structure; unsigned"), "%s", out);
	snprintf(args, sizeof(args), "check-zone '%s'", B_SIGNED);
	cr_assert_eq(nc_ctl(dir, args, out, sizeof(out)), 0, "%s", out);
	cr_expect_not_null(strstr(out, "chain of trust NOT checked"), "%s", out);

	/* --trust-anchor takes its argument (it is not checked as a zone file). */
	snprintf(args, sizeof(args),
	         "check-zone --trust-anchor %s/e164.fed.ds %s/e164.fed/e164.fed.zone.signed '%s'",
	         DEMO_KEYS, DEMO_ZONES, B_SIGNED);
	cr_assert_eq(nc_ctl(dir, args, out, sizeof(out)), 0, "%s", out);
	cr_expect_not_null(strstr(out, "chain of trust through the DS in e164.fed."), "%s", out);
	cr_expect_null(strstr(out, "e164.fed.ds:"), "the anchor file is no zone: %s", out);

	/* With the federation definition: the broken member fails with its reason. */
	snprintf(args, sizeof(args),
	         "check-zone --federation %s/federation/federation.conf "
	         "%s/e164.fed/e164.fed.zone.signed '%s'",
	         FE_TEST_SRC, DEMO_ZONES, broken);
	cr_assert_eq(nc_ctl(dir, args, out, sizeof(out)), 1, "%s", out);
	cr_expect_not_null(strstr(out, "e164.fed.zone.signed: zone e164.fed. serial"), "%s", out);
	cr_expect_not_null(strstr(out, "RRSIG SOA"), "%s", out);

	/* --db: parents from a node's store, read-only, nothing written. */
	start_demo(&d);
	cr_assert_eq(fe_test_daemon_stop(&d), 0);
	snprintf(args, sizeof(args), "check-zone --db '%s/db' '%s' '%s'", dir, B_SIGNED, broken);
	cr_assert_eq(nc_ctl(dir, args, out, sizeof(out)), 1, "%s", out);
	cr_expect_not_null(strstr(out, "already holds this serial"), "%s", out);
	cr_expect_not_null(strstr(out, "RRSIG SOA"), "%s", out);
	snprintf(args, sizeof(args), "zone-list --db '%s/db'", dir);
	cr_assert_eq(nc_ctl(dir, args, out, sizeof(out)), 0, "%s", out);
	cr_expect_null(strstr(out, "1795897300"), "check-zone wrote nothing: %s", out);
}

/* ---- 6. a start without configuration serves the store as it is ---------------------- */

Test(safety, start_without_configuration_serves_the_store)
{
	char args[2048], out[8192];
	/* A plain store: served as it is, no demo zones appear, nothing is written. */
	snprintf(args, sizeof(args), "zone-load --db '%s/db' '%s'", dir, NET_ZONE);
	cr_assert_eq(nc_ctl(dir, args, out, sizeof(out)), 0, "%s", out);
	cr_assert_eq(fe_test_daemon_start(&d, dir, (const char *const[]){NULL}), 0);
	cr_expect_eq(naptr(&d, NET_NAPTR, "net.test", NULL), LDNS_RCODE_NOERROR);
	cr_expect_eq(naptr(&d, B_NUMBER, NULL, NULL), LDNS_RCODE_REFUSED, "no demo federation");
	cr_assert_eq(fe_test_daemon_stop(&d), 0);
	snprintf(args, sizeof(args), "zone-list --db '%s/db'", dir);
	cr_assert_eq(nc_ctl(dir, args, out, sizeof(out)), 0, "%s", out);
	cr_expect_null(strstr(out, "e164.fed."), "%s", out);

	/* A store written under anchors stays under them without configuration. */
	char dir2[300];
	snprintf(dir2, sizeof(dir2), "%s/fed", dir);
	const char *demo[] = {"-c", DEMO_CONF, NULL};
	cr_assert_eq(fe_test_daemon_start(&d, dir2, demo), 0);
	cr_assert_eq(fe_test_daemon_stop(&d), 0);
	cr_assert_eq(fe_test_daemon_start(&d, dir2, (const char *const[]){NULL}), 0);
	bool ad = false;
	cr_expect_eq(naptr(&d, B_NUMBER, "ims-b.example", &ad), LDNS_RCODE_NOERROR);
	cr_expect(ad, "validated answers after a restart without configuration");
	cr_expect_eq(fe_test_daemon_log_count(&d, "the store stays under the anchors"), 1);
}

/* ---- 7. privileges -------------------------------------------------------------------- */

static void nobody_ids(uid_t *uid, gid_t *gid)
{
	struct passwd *pw = getpwnam("nobody");
	cr_assert_not_null(pw, "the test needs the user nobody");
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
}

Test(safety, privileges_dropped_after_binding)
{
	cr_assert_eq(geteuid(), 0u, "this test runs as root (CI does)");
	uid_t uid;
	gid_t gid;
	nobody_ids(&uid, &gid);
	/* The folder is the daemon's after the drop (ready file); zone file world-readable. */
	cr_assert_eq(chmod(dir, 0755), 0);
	cr_assert_eq(chown(dir, uid, gid), 0);
	char zfile[512], conf[512];
	snprintf(zfile, sizeof(zfile), "%s/net.zone", dir);
	write_net_zone(zfile, 1, false, "v1");
	cr_assert_eq(chmod(zfile, 0644), 0);
	snprintf(conf, sizeof(conf), "%s/fedenumd.conf", dir);
	nc_write_file(conf, "user = \"nobody\";\n");
	const char *argv[] = {"-c", conf, "--zone", zfile, NULL};
	cr_assert_eq(fe_test_daemon_start(&d, dir, argv), 0);
	cr_expect_eq(naptr(&d, NET_NAPTR, "@v1.net.test", NULL), LDNS_RCODE_NOERROR);
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)d.pid);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	unsigned ruid = 0, euid = 0, suid = 0, fsuid = 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "Uid:", 4) == 0)
			sscanf(line + 4, "%u %u %u %u", &ruid, &euid, &suid, &fsuid);
	fclose(f);
	cr_expect(ruid == uid && euid == uid && suid == uid, "Uid: %u %u %u", ruid, euid, suid);
	cr_expect_eq(fe_test_daemon_log_count(&d, "running as user nobody"), 1);
	/* The store is the user's now: a reload can write to it. */
	write_net_zone(zfile, 2, false, "v2");
	cr_assert_eq(kill(d.pid, SIGHUP), 0);
	for (int i = 0; i < 250 && fe_test_daemon_log_count(&d, "reload done") < 1; i++)
		nc_sleep_ms(20);
	cr_expect_eq(naptr(&d, NET_NAPTR, "@v2.net.test", NULL), LDNS_RCODE_NOERROR);
}

Test(safety, privileges_errors_say_what_and_why)
{
	uid_t uid;
	gid_t gid;
	nobody_ids(&uid, &gid);
	char out[8192], cmd[2048], db[400];
	snprintf(db, sizeof(db), "%s/db", dir);
	cr_assert_eq(chmod(dir, 0777), 0);
	/* Port 53 as an unprivileged user: the reason and the ways out, exit 4. */
	snprintf(cmd, sizeof(cmd),
	         "setpriv --reuid=%u --regid=%u --clear-groups %s --db '%s' --listen "
	         "127.0.0.1@53 --zone '%s'",
	         (unsigned)uid, (unsigned)gid, FE_TEST_FEDENUMD, db, NET_ZONE);
	cr_assert_eq(nc_run(dir, out, sizeof(out), cmd), 4, "%s", out);
	cr_expect_not_null(strstr(out, "Permission denied (ports below 1024 need root or "
	                               "CAP_NET_BIND_SERVICE"),
	                   "%s", out);
	cr_expect_null(strstr(out, "input/output error"), "%s", out);

	/* The demo configuration unprivileged: the secret file is named, and why. */
	cr_assert_eq(fe_test_sh("chmod 600 %s/*.tsig", DEMO_KEYS), 0);
	snprintf(cmd, sizeof(cmd),
	         "setpriv --reuid=%u --regid=%u --clear-groups %s --check-config -c %s",
	         (unsigned)uid, (unsigned)gid, FE_TEST_FEDENUMD, DEMO_CONF);
	cr_assert_eq(nc_run(dir, out, sizeof(out), cmd), 1, "%s", out);
	cr_expect_not_null(strstr(out, "carrier-a-xfr.tsig\": Permission denied (fedenumd is not "
	                               "running as root"),
	                   "%s", out);
}

/* docs/security.md K1 for the new keys: wrong type, unknown user or group, group without user. */
Test(safety, k1_user_and_group_keys)
{
	static const struct {
		const char *conf, *want;
	} cases[] = {
	        {"user = 5;\n", "fedenumd.conf:1: "},
	        {"user = \"no-such-user-fedenum\";\n",
	         "fedenumd.conf:1: user: \"no-such-user-fedenum\" is not a user"},
	        {"user = \"nobody\";\ngroup = \"no-such-group-fedenum\";\n",
	         "fedenumd.conf:2: group: \"no-such-group-fedenum\" is not a group"},
	        {"group = \"nogroup\";\n", "fedenumd.conf:1: group needs user"},
	        {"usr = \"nobody\";\n", "fedenumd.conf:1: "},
	};
	char conf[512], cmd[1024], out[4096];
	snprintf(conf, sizeof(conf), "%s/fedenumd.conf", dir);
	for (size_t i = 0; i < FE_ARRAY_LEN(cases); i++) {
		nc_write_file(conf, "%s", cases[i].conf);
		snprintf(cmd, sizeof(cmd), "%s --check-config -c '%s'", FE_TEST_FEDENUMD, conf);
		cr_expect_eq(nc_run(dir, out, sizeof(out), cmd), 1, "case %zu: %s", i, out);
		cr_expect_not_null(strstr(out, cases[i].want), "case %zu: %s", i, out);
	}
	nc_write_file(conf, "user = \"nobody\";\ngroup = \"nogroup\";\n");
	snprintf(cmd, sizeof(cmd), "%s --check-config -c '%s'", FE_TEST_FEDENUMD, conf);
	cr_expect_eq(nc_run(dir, out, sizeof(out), cmd), 0, "%s", out);
}

/* --help and --version work for every command and subcommand. */
Test(safety, help_and_version_everywhere)
{
	static const char *const cmds[] = {
	        "fedenumd",
	        "fedenumctl",
	        "fedenumctl zone-load",
	        "fedenumctl zone-list",
	        "fedenumctl check-zone",
	        "fedenumctl query",
	};
	char cmd[1024], out[16384];
	for (size_t i = 0; i < FE_ARRAY_LEN(cmds); i++) {
		const char *bin = strncmp(cmds[i], "fedenumctl", 10) == 0 ? FE_TEST_FEDENUMCTL
		                                                          : FE_TEST_FEDENUMD;
		const char *sub = strchr(cmds[i], ' ') ? strchr(cmds[i], ' ') : "";
		snprintf(cmd, sizeof(cmd), "%s%s --help", bin, sub);
		cr_expect_eq(nc_run(dir, out, sizeof(out), cmd), 0, "%s: %s", cmd, out);
		cr_expect_not_null(strstr(out, "usage:"), "%s: %s", cmd, out);
		snprintf(cmd, sizeof(cmd), "%s%s --version", bin, sub);
		cr_expect_eq(nc_run(dir, out, sizeof(out), cmd), 0, "%s: %s", cmd, out);
		cr_expect_not_null(strstr(out, " 0.1.0"), "%s: %s", cmd, out);
	}
}
