/* A policy reload under load (docs/federation.md "Policy", acceptance of the policy engine):
 * dnsperf sends NAPTR queries for present and absent numbers at a steady rate; half-way,
 * federation.conf gets a changed rule (not-found: pass → bgcf) and fedenumd a SIGHUP. The
 * decisions change (absent numbers get the BGCF NAPTR after the reload, counted under the
 * new action) and no query fails: dnsperf loses none, no SERVFAIL, every answer NOERROR or
 * NXDOMAIN. */
#include "net_common.h"

static struct fe_test_daemon d;
static char dir[256];

static void stop(void)
{
	if (d.pid > 0)
		cr_expect_eq(fe_test_daemon_stop(&d), 0, "fedenumd exit status");
	fe_test_rmdir(dir);
}

TestSuite(policy_reload, .fini = stop, .timeout = 180);

static void write_federation(const char *action)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/federation.conf", dir);
	nc_write_file(path,
	              "name = \"reload-test\";\n"
	              "clients = [\"127.0.0.1\"];\n"
	              "members = (\n"
	              "  { name = \"registry\"; role = \"registry\"; },\n"
	              "  { name = \"carrier-a\"; domains = [\"ims-a.example.\"]; }\n"
	              ");\n"
	              "zones = (\n"
	              "  { apex = \"e164.fed.\"; member = \"registry\"; file = \"r.zone\"; },\n"
	              "  { apex = \"1.5.5.5.1.e164.fed.\"; member = \"carrier-a\"; file = "
	              "\"a.zone\"; }\n"
	              ");\n"
	              "policy = {\n"
	              "  bgcf = \"sip:bgcf.example.net:5060\";\n"
	              "  rules = ( { causes = [\"not-found\"]; action = \"%s\"; } );\n"
	              "};\n",
	              action);
}

/* "3.2.1.0.1.5.5.5.1.e164.fed." for the number +1555101 23 (k = 123) */
static void qname(unsigned k, char *out, size_t cap)
{
	snprintf(out, cap, "%u.%u.%u.0.1.5.5.5.1.e164.fed.", k % 10, k / 10 % 10, k / 100 % 10);
}

Test(policy_reload, sighup_under_dnsperf_no_failed_query)
{
	fe_test_mkdtemp(dir, sizeof(dir));
	char path[512], name[128];
	snprintf(path, sizeof(path), "%s/r.zone", dir);
	nc_write_file(path, "$TTL 300\ne164.fed. IN SOA ns1.e164.fed. h.e164.fed. 1 3600 600 "
	                    "86400 300\ne164.fed. IN NS ns1.e164.fed.\nns1.e164.fed. IN A "
	                    "127.0.0.1\n1.5.5.5.1.e164.fed. IN NS ns1.e164.fed.\n");
	snprintf(path, sizeof(path), "%s/a.zone", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "$TTL 300\n1.5.5.5.1.e164.fed. IN SOA ns1.e164.fed. h.e164.fed. 1 3600 600 "
	           "86400 300\n1.5.5.5.1.e164.fed. IN NS ns1.e164.fed.\n");
	for (unsigned k = 0; k < 500; k++) { /* numbers 0..499 present, 500..999 absent */
		qname(k, name, sizeof(name));
		fprintf(f,
		        "%s IN NAPTR 10 100 \"u\" \"E2U+sip\" "
		        "\"!^.*$!sip:\\\\1@ims-a.example;user=phone!\" .\n",
		        name);
	}
	fclose(f);
	char qfile[512];
	snprintf(qfile, sizeof(qfile), "%s/queries", dir);
	f = fopen(qfile, "w");
	cr_assert_not_null(f);
	for (unsigned k = 0; k < 1000; k++) {
		qname(k * 7 % 1000, name, sizeof(name));
		fprintf(f, "%s NAPTR\n", name);
	}
	fclose(f);
	write_federation("pass");
	snprintf(path, sizeof(path), "%s/fedenumd.conf", dir);
	nc_write_file(path, "federation = \"federation.conf\";\nserver: { workers = 2; };\n"
	                    "log: { level = \"info\"; };\n");
	nc_start_config(&d, dir, NULL);

	/* 8 s at 3000 queries a second; the reload at about 3 s */
	char out[600], cmd[2048];
	snprintf(out, sizeof(out), "%s/dnsperf.out", dir);
	snprintf(cmd, sizeof(cmd),
	         "dnsperf -s 127.0.0.1 -p %u -d '%s' -l 8 -Q 3000 -c 4 -t 5 > '%s' 2>&1 &",
	         d.port, qfile, out);
	cr_assert_eq(fe_test_sh("%s", cmd), 0);
	nc_sleep_ms(3000);
	write_federation("bgcf");
	cr_assert_eq(kill(d.pid, SIGHUP), 0);
	for (int i = 0; i < 500 && fe_test_daemon_log_count(&d, "policy replaced") < 1; i++)
		nc_sleep_ms(20);
	cr_assert_eq(fe_test_daemon_log_count(&d, "policy replaced"), 1, "no reload");
	/* a query after the reload gets the new action */
	qname(777, name, sizeof(name));
	ldns_pkt *a = fe_test_query("127.0.0.1", d.port, name, LDNS_RR_TYPE_NAPTR, 0, 0);
	cr_assert_not_null(a);
	cr_assert_eq(ldns_pkt_get_rcode(a), LDNS_RCODE_NOERROR);
	cr_assert_eq(ldns_pkt_ancount(a), 1);
	char *txt = ldns_rr2str(ldns_rr_list_rr(ldns_pkt_answer(a), 0));
	cr_assert_not_null(strstr(txt, "bgcf.example.net:5060"), "%s", txt);
	free(txt);
	ldns_pkt_free(a);
	/* dnsperf's end (bounded: 8 s of run, 5 s of timeout, slack) */
	for (int i = 0; i < 1000 && fe_test_sh("grep -q 'Queries per second' '%s'", out) != 0; i++)
		nc_sleep_ms(50);
	char res[8192];
	f = fopen(out, "r");
	cr_assert_not_null(f);
	size_t n = fread(res, 1, sizeof(res) - 1, f);
	res[n] = 0;
	fclose(f);
	printf("%s\n", res);
	const char *p = strstr(res, "Queries completed:");
	cr_assert_not_null(p, "%s", res);
	long long completed = atoll(p + strlen("Queries completed:"));
	p = strstr(res, "Queries lost:");
	cr_assert_not_null(p, "%s", res);
	cr_assert_eq(atoll(p + strlen("Queries lost:")), 0, "dnsperf lost queries: %s", res);
	cr_assert_gt(completed, 1000);
	cr_assert_null(strstr(res, "SERVFAIL"), "%s", res);
	cr_assert_null(strstr(res, "REFUSED"), "%s", res);
	/* both decisions were taken, under the old and the new rule */
	char ctl[16384], args[600];
	snprintf(args, sizeof(args), "stats --socket '%s/control.sock'", d.dir);
	cr_assert_eq(nc_ctl(dir, args, ctl, sizeof(ctl)), 0, "%s", ctl);
	const char *before = strstr(ctl, "policy.decisions.not-found/pass ");
	const char *after = strstr(ctl, "policy.decisions.not-found/bgcf ");
	cr_assert(before && after, "%s", ctl);
	long long nb = atoll(before + 32), na = atoll(after + 32);
	printf("reload under load: %lld queries, not-found/pass %lld before the reload, "
	       "not-found/bgcf %lld after\n",
	       completed, nb, na);
	cr_assert_gt(nb, 100);
	cr_assert_gt(na, 100);
}
