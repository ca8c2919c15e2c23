/* fedenumctl route +NUMBER against real nodes: the demo federation (signed, validated with its
 * anchors) for a federation route, a PSTN-only number and a missing one; a node with a policy
 * whose BGCF rule synthesizes the route of an unknown number; and bad input. The --json
 * output is parsed (jansson) and checked field by field. */
#include "net_common.h"

#include <jansson.h>

#define DEMO_CONF FE_TEST_SRC "/federation/fedenumd.conf"
#define DEMO_FED  FE_TEST_SRC "/federation/federation.conf"

static struct fe_test_daemon d;
static char dir[256];

static void stop(void)
{
	if (d.pid > 0)
		cr_expect_eq(fe_test_daemon_stop(&d), 0, "fedenumd exit status");
	if (dir[0])
		fe_test_rmdir(dir);
}

TestSuite(route, .fini = stop, .timeout = 120);

static void start_demo(void)
{
	fe_test_mkdtemp(dir, sizeof(dir));
	const char *argv[] = {"-c", DEMO_CONF, NULL};
	cr_assert_eq(fe_test_daemon_start(&d, dir, argv), 0);
}

/* `fedenumctl route @args --server <node>`; exit status, output in @out. */
static int route(const char *args, char *out, size_t cap)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "route --server %s@%u %s", d.host, (unsigned)d.port, args);
	return nc_ctl(dir, cmd, out, cap);
}

/* The same with --json, parsed; the caller json_decref's it. */
static json_t *route_json(const char *args, int *status)
{
	static char out[65536];
	char a[1024];
	snprintf(a, sizeof(a), "%s --json", args);
	*status = route(a, out, sizeof(out));
	json_error_t e;
	json_t *j = json_loads(out, 0, &e);
	cr_assert_not_null(j, "not JSON (%s): %s", e.text, out);
	return j;
}

static const char *jstr(json_t *j, const char *path1, const char *path2)
{
	json_t *v = json_object_get(j, path1);
	if (path2)
		v = json_object_get(v, path2);
	return json_string_value(v);
}

Test(route, federation_route_validated_to_the_entry_point)
{
	start_demo();
	char out[65536];
	int st = route("+15552000001 --validate --federation " DEMO_FED, out, sizeof(out));
	cr_expect_eq(st, 0, "%s", out);
	cr_expect_not_null(strstr(out, "ENUM NAPTR 1.0.0.0.0.0.2.5.5.5.1.e164.fed. [NOERROR, "
	                               "secure]"),
	                   "%s", out);
	cr_expect_not_null(strstr(out, "-> sip:+15552000001@ims-b.example;user=phone  chosen"),
	                   "%s", out);
	cr_expect_not_null(strstr(out, ";; next hop: sbc1.ims-b.example. port 5061 over tls, "
	                               "198.51.100.11"),
	                   "%s", out);
	cr_expect_not_null(strstr(out, ";; decision: federation route"), "%s", out);
	cr_expect_not_null(strstr(out, "0 insecure, 0 bogus"), "%s", out);

	json_t *j = route_json("15552000001 --validate --federation " DEMO_FED, &st);
	cr_expect_eq(st, 0);
	cr_expect_str_eq(jstr(j, "number", NULL), "+15552000001");
	cr_expect_str_eq(jstr(j, "enum_name", NULL), "1.0.0.0.0.0.2.5.5.5.1.e164.fed.");
	cr_expect_str_eq(jstr(j, "rcode", NULL), "NOERROR");
	cr_expect(json_is_true(json_object_get(j, "ad")));
	cr_expect_str_eq(jstr(j, "enum_status", NULL), "secure");
	cr_expect_str_eq(jstr(j, "decision", "kind"), "federation route");
	cr_expect_str_eq(jstr(j, "uri", NULL), "sip:+15552000001@ims-b.example;user=phone");
	cr_expect_str_eq(jstr(j, "next_hop", "host"), "sbc1.ims-b.example.");
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(j, "next_hop"), "port")),
	             5061);
	cr_expect_str_eq(jstr(j, "next_hop", "transport"), "tls");
	cr_expect(json_is_true(json_object_get(j, "validated")));
	cr_expect(json_is_true(json_object_get(j, "route")));
	/* Every lookup is in the steps, each secure. */
	json_t *steps = json_object_get(j, "steps");
	cr_expect_eq(json_array_size(steps),
	             (size_t)json_integer_value(json_object_get(j, "lookups")));
	cr_expect_gt(json_array_size(steps), 5);
	for (size_t i = 0; i < json_array_size(steps); i++)
		cr_expect_str_eq(
		        json_string_value(json_object_get(json_array_get(steps, i), "status")),
		        "secure", "step %zu", i);
	json_decref(j);
}

Test(route, pstn_only_and_missing_numbers_have_no_sip_route)
{
	start_demo();
	int st;
	/* Ported out: only an E2U+pstn:tel NAPTR with npdi and rn= (demo numbering plan). */
	json_t *j = route_json("+15551000002 --validate --federation " DEMO_FED, &st);
	cr_expect_eq(st, 1);
	cr_expect_str_eq(jstr(j, "decision", "kind"), "pstn");
	cr_expect(json_is_null(json_object_get(j, "uri")));
	cr_expect_not_null(strstr(jstr(j, "pstn", NULL), ";npdi;rn=+1555299"), "%s",
	                   jstr(j, "pstn", NULL));
	cr_expect(json_is_false(json_object_get(j, "route")));
	json_decref(j);

	/* No member holds +15553: NXDOMAIN from the registry, and no policy said why. */
	j = route_json("+15553000001 --federation " DEMO_FED, &st);
	cr_expect_eq(st, 1);
	cr_expect_str_eq(jstr(j, "rcode", NULL), "NXDOMAIN");
	cr_expect_str_eq(jstr(j, "decision", "kind"), "no route");
	cr_expect_null(json_object_get(j, "ede"), "no EDE in a plain NXDOMAIN");
	json_decref(j);
}

Test(route, policy_bgcf_decision_with_its_cause)
{
	fe_test_mkdtemp(dir, sizeof(dir));
	char path[512];
	snprintf(path, sizeof(path), "%s/e164.fed.zone", dir);
	nc_write_file(path,
	              "$TTL 300\n"
	              "e164.fed. IN SOA ns1.e164.fed. hostmaster.e164.fed. 1 3600 600 86400 300\n"
	              "e164.fed. IN NS ns1.e164.fed.\n"
	              "ns1.e164.fed. IN A 127.0.0.1\n"
	              "2.5.5.5.1.e164.fed. IN NS ns1.e164.fed.\n");
	snprintf(path, sizeof(path), "%s/2.5.5.5.1.e164.fed.zone", dir);
	nc_write_file(path, "$TTL 300\n$ORIGIN 2.5.5.5.1.e164.fed.\n"
	                    "@ IN SOA ns1.e164.fed. hostmaster.e164.fed. 1 3600 600 86400 300\n"
	                    "@ IN NS ns1.e164.fed.\n"
	                    "1.0.0.0 IN NAPTR 10 100 \"u\" \"E2U+sip\" "
	                    "\"!^(.*)$!sip:\\\\1@127.0.0.9:5080;user=phone!\" .\n");
	snprintf(path, sizeof(path), "%s/federation.conf", dir);
	nc_write_file(path, "name = \"route-test\";\nclients = [\"127.0.0.1\"];\n"
	                    "members = ( { name = \"registry\"; role = \"registry\"; },\n"
	                    "  { name = \"carrier-b\"; prefixes = [\"+15552\"]; domains = "
	                    "[\"ims-b.example.\"]; } );\n"
	                    "zones = ( { apex = \"e164.fed.\"; member = \"registry\"; file = "
	                    "\"e164.fed.zone\"; },\n"
	                    "  { apex = \"2.5.5.5.1.e164.fed.\"; member = \"carrier-b\"; file = "
	                    "\"2.5.5.5.1.e164.fed.zone\"; } );\n"
	                    "policy = { bgcf = \"sip:127.0.0.7:5070\";\n"
	                    "  rules = ( { causes = [\"not-found\", \"no-delegation\"]; action = "
	                    "\"bgcf\"; } ); };\n");
	snprintf(path, sizeof(path), "%s/fedenumd.conf", dir);
	nc_write_file(path, "federation = \"federation.conf\";\n");
	nc_start_config(&d, dir, NULL);

	char fed[512], args[1024];
	snprintf(fed, sizeof(fed), "%s/federation.conf", dir);
	/* +15553…: no delegation in the registry; the policy sends it to the BGCF. */
	int st;
	snprintf(args, sizeof(args), "+15553000001 --federation %s", fed);
	json_t *j = route_json(args, &st);
	cr_expect_eq(st, 0);
	cr_expect_str_eq(jstr(j, "decision", "kind"), "policy");
	cr_expect_str_eq(jstr(j, "decision", "cause"), "no-delegation");
	cr_expect_str_eq(jstr(j, "decision", "action"), "bgcf");
	cr_expect_not_null(strstr(jstr(j, "ede", "text"), "no-delegation"));
	cr_expect_str_eq(jstr(j, "uri", NULL), "sip:+15553000001@127.0.0.7:5070;user=phone");
	cr_expect_str_eq(jstr(j, "next_hop", "host"), "127.0.0.7");
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(j, "next_hop"), "port")),
	             5070);
	cr_expect(json_is_false(json_object_get(j, "ad")), "a synthesized answer is never AD");
	json_decref(j);

	/* +15552 0009: delegated, held, no such number. */
	char out[16384];
	snprintf(args, sizeof(args), "+155520009 --enum-apex e164.fed");
	st = route(args, out, sizeof(out));
	cr_expect_eq(st, 0, "%s", out);
	cr_expect_not_null(strstr(out, ";; decision: policy (cause not-found, action bgcf)"), "%s",
	                   out);
	cr_expect_not_null(strstr(out, ";; next hop: 127.0.0.7 port 5070"), "%s", out);

	/* The member's own route: the regexp's back-reference applied to the number. */
	snprintf(args, sizeof(args), "+155520001 --enum-apex e164.fed. --json");
	j = route_json(args, &st);
	cr_expect_eq(st, 0);
	cr_expect_str_eq(jstr(j, "decision", "kind"), "federation route");
	cr_expect_str_eq(jstr(j, "uri", NULL), "sip:+155520001@127.0.0.9:5080;user=phone");
	cr_expect_str_eq(jstr(j, "next_hop", "host"), "127.0.0.9");
	json_decref(j);
}

Test(route, bad_input_and_no_server)
{
	fe_test_mkdtemp(dir, sizeof(dir));
	char out[8192];
	static const struct {
		const char *args, *want;
	} cases[] = {
	        {"route +1555x --enum-apex e164.fed", "is not an E.164 number"},
	        {"route +1234567890123456 --enum-apex e164.fed", "is not an E.164 number"},
	        {"route +15551000001", "needs --enum-apex DOMAIN or --federation FILE"},
	        {"route +15551000001 --enum-apex e164.fed --validate", "--validate needs"},
	        {"route +15551000001 --federation /nonexistent/federation.conf",
	         "/nonexistent/federation.conf"},
	        {"route +15551000001 --server nowhere --enum-apex e164.fed", "--server nowhere"},
	        {"route", "usage: fedenumctl route"},
	        {"route +1 +2 --enum-apex e164.fed", "usage: fedenumctl route"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_expect_eq(nc_ctl(dir, cases[i].args, out, sizeof(out)), 2, "case %zu: %s", i,
		             out);
		cr_expect_not_null(strstr(out, cases[i].want), "case %zu: %s", i, out);
	}
	/* A federation file without a registry zone. */
	char path[512], args[1024];
	snprintf(path, sizeof(path), "%s/federation.conf", dir);
	nc_write_file(path, "members = ( { name = \"x\"; } );\nzones = ();\n");
	snprintf(args, sizeof(args), "route +15551000001 --federation %s", path);
	cr_expect_eq(nc_ctl(dir, args, out, sizeof(out)), 2, "%s", out);
	cr_expect_not_null(strstr(out, "no zone of a member with role \"registry\""), "%s", out);
	/* Nobody listening: exit 3. */
	uint16_t port = fe_test_free_port();
	snprintf(args, sizeof(args),
	         "route +15551000001 --enum-apex e164.fed --server 127.0.0.1@%u", (unsigned)port);
	cr_expect_eq(nc_ctl(dir, args, out, sizeof(out)), 3, "%s", out);
	cr_expect_not_null(strstr(out, "no answer from 127.0.0.1@"), "%s", out);
	cr_expect_eq(nc_ctl(dir, "route --help", out, sizeof(out)), 0);
}
