/* A member publishes its numbers end to end, as an operator would: the member node generates
 * its keys with `fedenumctl key generate`, the registry zone (signed with the registry's own
 * keys by ldns-signzone) publishes the DS it printed, the member imports a CSV of 100,000
 * numbers (10,000 with FE_TEST_QUICK), and a second node — a secondary over TSIG, under the
 * federation's trust anchor only — serves them validated (AD=1). Then `fedenumctl number port`
 * moves one number and both nodes answer the new route; the time from the command to the
 * second node's answer is printed (never asserted: timings belong to the benchmark). */
#include "net_common.h"

#include <jansson.h>

#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#define MEMBER "2.5.5.5.1.e164.fed"
#define PORTED "8.0.0.0.0.0.2.5.5.5.1.e164.fed."
#define SOME   "7.7.7.7.0.0.2.5.5.5.1.e164.fed."

static struct fe_test_daemon m, n;
static char dir[256];

static void stop(void)
{
	if (n.pid > 0)
		cr_expect_eq(fe_test_daemon_stop(&n), 0, "second node's exit status");
	if (m.pid > 0)
		cr_expect_eq(fe_test_daemon_stop(&m), 0, "member node's exit status");
	fe_test_rmdir(dir);
}

TestSuite(e2e, .fini = stop, .timeout = 900);

static uint64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* @name NAPTR on @d: true when an answer holds @want (and, with @ad, has AD=1). */
static bool answers(struct fe_test_daemon *d, const char *name, const char *want, bool ad)
{
	ldns_pkt *p = fe_test_query(d->host, d->port, name, LDNS_RR_TYPE_NAPTR, FE_TQ_DO, 0);
	bool seen = false;
	for (size_t k = 0; p && k < ldns_pkt_ancount(p); k++) {
		char *s = ldns_rr2str(ldns_rr_list_rr(ldns_pkt_answer(p), k));
		seen |= s && strstr(s, want) != NULL;
		free(s);
	}
	if (p && ad && !ldns_pkt_ad(p))
		seen = false;
	ldns_pkt_free(p);
	return seen;
}

/* The counter @name of group @group in `fedenumctl stats --json` of @d; -1 if absent. */
static long long xfr_counter(struct fe_test_daemon *d, const char *group, const char *name)
{
	char out[65536], a[600];
	snprintf(a, sizeof(a), "stats --json --socket '%s/control.sock'", d->dir);
	cr_assert_eq(nc_ctl(dir, a, out, sizeof(out)), 0, "%s", out);
	json_t *j = json_loads(out, 0, NULL);
	cr_assert_not_null(j, "stats --json: %s", out);
	json_t *v = json_object_get(json_object_get(j, group), name);
	long long r = json_is_integer(v) ? (long long)json_integer_value(v) : -1;
	if (r < 0)
		cr_log_error("no %s.%s in %s", group, name, out);
	json_decref(j);
	return r;
}

/* `fedenumctl peer list --json` of @d, parsed. */
static json_t *peer_list(struct fe_test_daemon *d)
{
	char out[65536], a[600];
	snprintf(a, sizeof(a), "peer list --json --socket '%s/control.sock'", d->dir);
	cr_assert_eq(nc_ctl(dir, a, out, sizeof(out)), 0, "%s", out);
	json_t *j = json_loads(out, 0, NULL);
	cr_assert_not_null(j, "peer list --json: %s", out);
	cr_log_info("peer list of %s: %s", d->dir, out);
	return j;
}

/* Poll @d for @want every 50 ms, at most @secs seconds. */
static bool wait_answer(struct fe_test_daemon *d, const char *name, const char *want, bool ad,
                        int secs)
{
	for (int i = 0; i < secs * 20; i++) {
		if (answers(d, name, want, ad))
			return true;
		nc_sleep_ms(50);
	}
	return false;
}

Test(e2e, key_generate_ds_import_secondary_validates_number_port)
{
	unsigned count = getenv("FE_TEST_QUICK") ? 10000 : 100000;
	fe_test_mkdtemp(dir, sizeof(dir));
	char out[65536], cmd[4096];

	/* 1. The member's keys; the DS it prints goes to the registry. */
	snprintf(cmd, sizeof(cmd), "key generate --key-dir '%s/keys' " MEMBER, dir);
	cr_assert_eq(nc_ctl(dir, cmd, out, sizeof(out)), 0, "%s", out);
	const char *ds = strstr(out, "\n" MEMBER ". IN DS ");
	cr_assert_not_null(ds, "no DS record printed: %s", out);
	ds++;
	char dsline[512];
	size_t dl = strcspn(ds, "\n");
	cr_assert_lt(dl, sizeof(dsline));
	memcpy(dsline, ds, dl);
	dsline[dl] = '\0';
	cr_assert_not_null(strstr(dsline, "DS"), "%s", dsline);

	/* 2. The registry zone with that DS, signed with the registry's own keys; its KSK's DS is
	 * the federation's trust anchor. */
	cr_assert_eq(
	        fe_test_sh("cd '%s' && mkdir reg && cd reg && "
	                   "k=$(ldns-keygen -a ECDSAP256SHA256 -k e164.fed) && "
	                   "z=$(ldns-keygen -a ECDSAP256SHA256 e164.fed) && "
	                   "ldns-key2ds -n -2 $k.key > ../anchor.ds && "
	                   "printf '%%s\\n' '$TTL 3600' "
	                   "'e164.fed. IN SOA ns1.e164.fed. hm.e164.fed. 1 3600 600 86400 300' "
	                   "'e164.fed. IN NS ns1.e164.fed.' 'ns1.e164.fed. IN A 127.0.0.1' "
	                   "'" MEMBER ". IN NS ns1.e164.fed.' '%s' > registry.zone && "
	                   "ldns-signzone -n -a 1 -t 0 -f ../registry.signed registry.zone $k $z",
	                   dir, dsline),
	        0, "registry zone");

	/* 3. The member node: signs with its keys, holds the registry (for its chain), primary
	 * for the second node. */
	char key[400], conf[400], reg[400], anchor[400], csv[400];
	snprintf(key, sizeof(key), "%s/xfr.key", dir);
	nc_write_file(key, "key \"m-n.\" {\n\talgorithm hmac-sha256;\n\tsecret "
	                   "\"Ut6y2zK8J0m2qv8j6I0g9bC2i0k4yD2H7n3o5q1w8e4=\";\n};\n");
	snprintf(reg, sizeof(reg), "%s/registry.signed", dir);
	snprintf(anchor, sizeof(anchor), "%s/anchor.ds", dir);
	snprintf(conf, sizeof(conf), "%s/fedenumd.conf", dir);
	nc_write_file(conf, "signing: { key-dir = \"keys\"; ns = [\"ns1.e164.fed.\"]; };\n");
	uint16_t nport = fe_test_free_port();
	cr_assert_neq(nport, 0);
	char notify[64], listen[64], spec[128];
	snprintf(notify, sizeof(notify), "127.0.0.1@%u", nport);
	const char *margv[] = {"-c",   conf,         "--zone", reg,        "--trust-anchor",
	                       anchor, "--tsig-key", key,      "--notify", notify,
	                       NULL};
	cr_assert_eq(fe_test_daemon_start(&m, dir, margv), 0);

	/* 4. The import: every number signed, stored, served validated. */
	snprintf(csv, sizeof(csv), "%s/numbers.csv", dir);
	FILE *f = fopen(csv, "w");
	cr_assert_not_null(f);
	fprintf(f, "number,service,uri\n");
	for (unsigned i = 1; i <= count; i++)
		fprintf(f, "+155520%05u,E2U+sip,sip:+155520%05u@ims-b.example;user=phone\n", i, i);
	cr_assert_eq(fclose(f), 0);
	uint64_t t0 = now_ms();
	snprintf(cmd, sizeof(cmd), "zone import --socket '%s/control.sock' " MEMBER " '%s'", dir,
	         csv);
	cr_assert_eq(nc_ctl(dir, cmd, out, sizeof(out)), 0, "%s", out);
	cr_log_info("import of %u numbers: %llu ms (%s)", count,
	            (unsigned long long)(now_ms() - t0), out);
	cr_assert(answers(&m, SOME, "sip:+15552007777@ims-b.example", true),
	          "the member node serves an imported number with AD=1");

	/* 5. The second node: only the trust anchor, the registry, and the member's zone by
	 * transfer (TSIG). */
	snprintf(spec, sizeof(spec), MEMBER ".@127.0.0.1@%u", m.port);
	snprintf(listen, sizeof(listen), "127.0.0.1@%u", nport);
	char ndir[400];
	snprintf(ndir, sizeof(ndir), "%s/second", dir);
	cr_assert_eq(mkdir(ndir, 0700), 0);
	const char *nargv[] = {"--zone",      reg,  "--trust-anchor", anchor, "--tsig-key", key,
	                       "--secondary", spec, "--listen",       listen, NULL};
	t0 = now_ms();
	cr_assert_eq(fe_test_daemon_start(&n, ndir, nargv), 0);
	bool got = wait_answer(&n, SOME, "sip:+15552007777@ims-b.example", true, 300);
	cr_log_info("second node: transfer and validation of %u numbers: %llu ms", count,
	            (unsigned long long)(now_ms() - t0));
	cr_assert(got, "the second node serves the member's numbers with AD=1");

	/* 6. One number ported: both nodes answer the new route, validated. */
	snprintf(cmd, sizeof(cmd),
	         "number port --socket '%s/control.sock' " MEMBER " +15552000008 --rn +15554000000",
	         dir);
	t0 = now_ms();
	cr_assert_eq(nc_ctl(dir, cmd, out, sizeof(out)), 0, "%s", out);
	bool on_m = wait_answer(&m, PORTED, "rn=+15554000000", true, 60);
	uint64_t t_m = now_ms() - t0;
	bool on_n = wait_answer(&n, PORTED, "rn=+15554000000", true, 60);
	uint64_t t_n = now_ms() - t0;
	cr_log_info("number port: served by the member node after %llu ms, by the second node "
	            "after %llu ms (%s)",
	            (unsigned long long)t_m, (unsigned long long)t_n, out);
	cr_assert(on_m, "the member node answers the ported route with AD=1");
	cr_assert(on_n, "the second node answers the ported route with AD=1");
	/* the change set is served as soon as it is committed; the refresh's own log line
	 * ("IXFR from ...") and counters follow on the node's loop */
	for (int i = 0; i < 200 && fe_test_daemon_log_count(&n, ": IXFR from ") < 1; i++)
		nc_sleep_ms(50);
	if (fe_test_daemon_log_count(&n, ": IXFR from ") < 1) {
		fe_test_sh("grep 'zone\\|NOTIFY\\|IXFR\\|AXFR' '%s' '%s' | tail -n 40 >&2",
		           m.log_path, n.log_path);
		cr_expect_fail("the port went by IXFR");
	}
	/* The rest of the zone is untouched on both. */
	cr_expect(answers(&n, SOME, "sip:+15552007777@ims-b.example", true));

	/* 7. The transfers are counted on both sides, in `fedenumctl stats`. */
	cr_expect_geq(xfr_counter(&m, "xfr", "axfr"), 1, "primary: AXFR counted");
	cr_expect_geq(xfr_counter(&m, "xfr", "ixfr"), 1, "primary: IXFR counted");
	cr_expect_geq(xfr_counter(&m, "xfr", "notify_acked"), 1, "primary: NOTIFY acked");
	cr_expect_geq(xfr_counter(&n, "xfrin", "xfrin_axfr"), 1, "secondary: AXFR counted");
	cr_expect_geq(xfr_counter(&n, "xfrin", "xfrin_ixfr"), 1, "secondary: IXFR counted");
	cr_expect_geq(xfr_counter(&n, "xfrin", "notify_in_accepted"), 1,
	              "secondary: NOTIFY counted");

	/* 8. `fedenumctl peer list`: the member node's secondary, the second node's primary. */
	json_t *pl = peer_list(&m);
	json_t *sec = json_array_get(json_object_get(pl, "secondaries"), 0);
	cr_assert_eq(json_array_size(json_object_get(pl, "secondaries")), 1);
	cr_expect_str_eq(json_string_value(json_object_get(sec, "address")), "127.0.0.1");
	cr_expect_eq(json_integer_value(json_object_get(sec, "port")), nport);
	json_t *nt = json_object_get(sec, "notify"), *tr = json_object_get(sec, "transfers");
	cr_expect_geq(json_integer_value(json_object_get(nt, "acked")), 1);
	cr_expect_geq(json_integer_value(json_object_get(tr, "axfr")), 1);
	cr_expect_geq(json_integer_value(json_object_get(tr, "ixfr")), 1);
	cr_expect_str_eq(json_string_value(json_object_get(tr, "last_kind")), "IXFR");
	cr_expect_str_eq(json_string_value(json_object_get(tr, "last_zone")), MEMBER ".");
	cr_expect_eq(json_array_size(json_object_get(pl, "primaries")), 0);
	json_decref(pl);
	pl = peer_list(&n);
	cr_assert_eq(json_array_size(json_object_get(pl, "primaries")), 1);
	json_t *pr = json_array_get(json_object_get(pl, "primaries"), 0);
	cr_expect_eq(json_integer_value(json_object_get(pr, "port")), m.port);
	json_t *pz = json_array_get(json_object_get(pr, "zones"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(pz, "apex")), MEMBER ".");
	cr_expect(json_is_integer(json_object_get(pz, "serial")));
	cr_expect(json_is_null(json_object_get(pz, "last_error")));
	cr_expect(json_is_string(json_object_get(pz, "last_success")));
	cr_expect_eq(json_array_size(json_object_get(pl, "secondaries")), 0);
	json_decref(pl);
	/* `zone show`: the member node is the zone's primary, with its secondary's state */
	snprintf(cmd, sizeof(cmd), "zone show --json --socket '%s/control.sock' " MEMBER, m.dir);
	cr_assert_eq(nc_ctl(dir, cmd, out, sizeof(out)), 0, "%s", out);
	cr_log_info("zone show --json on the member node: %s", out);
	json_t *zs = json_loads(out, 0, NULL);
	cr_assert_not_null(zs, "%s", out);
	json_t *zp = json_object_get(zs, "peers");
	cr_expect_str_eq(json_string_value(json_object_get(zp, "role")), "primary");
	json_t *s0 = json_array_get(json_object_get(zp, "secondaries"), 0);
	cr_assert_not_null(s0, "%s", out);
	json_int_t serial = json_integer_value(json_object_get(zs, "serial"));
	cr_expect_eq(
	        json_integer_value(json_object_get(json_object_get(s0, "notify"), "acked_serial")),
	        serial, "%s", out);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(s0, "transfer"), "serial")),
	             serial, "%s", out);
	cr_expect_str_eq(
	        json_string_value(json_object_get(json_object_get(s0, "transfer"), "kind")),
	        "IXFR");
	cr_expect(json_is_false(json_object_get(s0, "zone_primary")));
	json_decref(zs);
	snprintf(cmd, sizeof(cmd), "zone show --json --socket '%s/control.sock' " MEMBER, n.dir);
	cr_assert_eq(nc_ctl(dir, cmd, out, sizeof(out)), 0, "%s", out);
	zs = json_loads(out, 0, NULL);
	cr_assert_not_null(zs, "%s", out);
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(zs, "peers"), "role")),
	                 "secondary", "%s", out);
	json_decref(zs);
	/* the text form, and bad input */
	snprintf(cmd, sizeof(cmd), "peer list --socket '%s/control.sock'", n.dir);
	cr_assert_eq(nc_ctl(dir, cmd, out, sizeof(out)), 0, "%s", out);
	cr_expect_not_null(strstr(out, "primaries (this node transfers from them): 1"), "%s", out);
	cr_expect_not_null(strstr(out, MEMBER "."), "%s", out);
	snprintf(cmd, sizeof(cmd), "peer lists --socket '%s/control.sock'", n.dir);
	cr_expect_eq(nc_ctl(dir, cmd, out, sizeof(out)), 2, "%s", out);
	snprintf(cmd, sizeof(cmd), "peer list --bogus --socket '%s/control.sock'", n.dir);
	cr_expect_eq(nc_ctl(dir, cmd, out, sizeof(out)), 2, "%s", out);
}
