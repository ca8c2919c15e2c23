/* fedenumctl backup while fedenumd serves (LMDB's copy), and the documented restore:
 * the copy, put in place of a store, serves the same zones, serials and validated answers,
 * under the same recorded trust anchors. */
#include "net_common.h"

#include <sys/wait.h>

#define DEMO_CONF FE_TEST_SRC "/federation/fedenumd.conf"
#define NUM_A     "1.0.0.0.0.0.1.5.5.5.1.e164.fed."

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
		fe_test_daemon_kill9(&d);
	fe_test_rmdir(dir);
}

TestSuite(backup, .init = setup, .fini = teardown, .timeout = 120);

/* "apex serial" of every zone of the store in @db, one per line, into @out. */
static void zone_serials(const char *db, char *out, size_t cap)
{
	char args[600], raw[16384];
	snprintf(args, sizeof(args), "zone-list --db '%s'", db);
	cr_assert_eq(nc_ctl(dir, args, raw, sizeof(raw)), 0, "%s", raw);
	size_t o = 0;
	out[0] = '\0';
	for (char *l = strtok(raw, "\n"); l; l = strtok(NULL, "\n")) {
		char apex[300];
		unsigned serial;
		if (strncmp(l, "apex", 4) == 0 || sscanf(l, "%299s %u", apex, &serial) != 2)
			continue;
		o += (size_t)snprintf(out + o, cap - o, "%s %u\n", apex, serial);
		cr_assert_lt(o, cap);
	}
}

static void expect_validated_route(const struct fe_test_daemon *dm)
{
	ldns_pkt *p = fe_test_query(dm->host, dm->port, NUM_A, LDNS_RR_TYPE_NAPTR, FE_TQ_DO, 0);
	cr_assert_not_null(p);
	cr_expect_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_expect(ldns_pkt_ad(p), "AD=1: validated under the store's anchors");
	char *txt = ldns_rr_list2str(ldns_pkt_answer(p));
	cr_expect_not_null(strstr(txt, "@ims-a.example;"), "%s", txt);
	free(txt);
	ldns_pkt_free(p);
}

Test(backup, copy_while_serving_then_restore)
{
	char db[400], copy[400], args[1000], out[16384], before[4096], after[4096];
	snprintf(db, sizeof(db), "%s/db", dir);
	snprintf(copy, sizeof(copy), "%s/copy", dir);
	const char *argv[] = {"-c", DEMO_CONF, NULL};
	cr_assert_eq(fe_test_daemon_start(&d, dir, argv), 0);
	expect_validated_route(&d);

	/* Queries keep flowing while the copy is taken (a child process, bounded). */
	pid_t q = fork();
	cr_assert_geq(q, 0);
	if (q == 0) {
		for (int i = 0; i < 2000; i++) {
			ldns_pkt *p =
			        fe_test_query(d.host, d.port, NUM_A, LDNS_RR_TYPE_NAPTR, 0, 0);
			if (!p || ldns_pkt_get_rcode(p) != LDNS_RCODE_NOERROR)
				_exit(1);
			ldns_pkt_free(p);
		}
		_exit(0);
	}
	snprintf(args, sizeof(args), "backup --db '%s' '%s'", db, copy);
	cr_assert_eq(nc_ctl(dir, args, out, sizeof(out)), 0, "%s", out);
	cr_expect_not_null(strstr(out, "bytes"), "%s", out);
	int st;
	cr_assert_eq(waitpid(q, &st, 0), q);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "every query answered during the copy");

	/* A second backup into the same folder is refused, nothing overwritten. */
	cr_assert_eq(nc_ctl(dir, args, out, sizeof(out)), 1, "%s", out);
	cr_expect_not_null(strstr(out, "holds a store already"), "%s", out);

	zone_serials(db, before, sizeof(before));
	zone_serials(copy, after, sizeof(after));
	cr_assert_str_eq(after, before, "the copy holds the same zones and serials");
	cr_assert_geq(strlen(before), 40u);
	cr_assert_eq(fe_test_daemon_stop(&d), 0);

	/* Restore (docs/configuration.md): the copy's data.mdb in place of the store's. */
	cr_assert_eq(
	        fe_test_sh("rm -rf '%s' && mkdir '%s' && cp '%s/data.mdb' '%s/'", db, db, copy, db),
	        0);
	/* Started without configuration: it serves the restored store under the anchors recorded
	 * in it (the copy carries them). */
	cr_assert_eq(fe_test_daemon_start(&d, dir, (const char *const[]){NULL}), 0);
	expect_validated_route(&d);
	cr_expect_eq(fe_test_daemon_log_count(&d, "the store stays under the anchors recorded"), 1);
}

/* zone export: the stored, signed member zone as a master file — a file that validates
 * through the registry's DS like the original, with as many records as the store holds. */
Test(backup, zone_export_round_trip)
{
	char db[400], file[400], args[1200], out[16384];
	snprintf(db, sizeof(db), "%s/db", dir);
	snprintf(file, sizeof(file), "%s/b.export", dir);
	const char *argv[] = {"-c", DEMO_CONF, NULL};
	cr_assert_eq(fe_test_daemon_start(&d, dir, argv), 0);
	/* while serving; the apex without the final dot */
	cr_assert_eq(fe_test_sh("%s zone export --db '%s' 2.5.5.5.1.e164.fed > '%s'",
	                        FE_TEST_FEDENUMCTL, db, file),
	             0);
	snprintf(args, sizeof(args), "zone export --db '%s' 9.9.9.e164.fed.", db);
	cr_assert_eq(nc_ctl(dir, args, out, sizeof(out)), 1, "%s", out);
	snprintf(args, sizeof(args),
	         "check-zone --trust-anchor %s/federation/keys/e164.fed.ds "
	         "%s/zones/e164.fed/e164.fed.zone.signed '%s'",
	         FE_TEST_SRC, FE_TEST_SRC, file);
	cr_assert_eq(nc_ctl(dir, args, out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "b.export: zone 2.5.5.5.1.e164.fed. serial 1795897299: OK "
	                               "(checks: parse, structure, chain of trust through the DS "
	                               "in e164.fed."),
	                   "%s", out);
	unsigned long n = 0;
	FILE *f = fopen(file, "r");
	cr_assert_not_null(f);
	char line[4096];
	while (fgets(line, sizeof(line), f))
		n += line[0] != ';' && line[0] != '\n';
	fclose(f);
	snprintf(args, sizeof(args), "zone-list --db '%s'", db);
	cr_assert_eq(nc_ctl(dir, args, out, sizeof(out)), 0, "%s", out);
	char *row = strstr(out, "\n2.5.5.5.1.e164.fed. ");
	cr_assert_not_null(row);
	unsigned serial;
	unsigned long long ver, nodes, rrs;
	cr_assert_eq(
	        sscanf(row, "\n2.5.5.5.1.e164.fed. %u %llu %llu %llu", &serial, &ver, &nodes, &rrs),
	        4);
	cr_assert_eq(n, rrs, "exported %lu records, the store holds %llu", n, rrs);
}
