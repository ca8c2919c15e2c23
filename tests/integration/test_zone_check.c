/* fedenumctl zone check (also check-zone): the node's checks plus prefix authority against
 * the federation definition — a member zone holds only numbers within its member's prefixes
 * (wildcards inside them), other names only host addresses; a domain zone is one of the
 * member's domains. Demo zones pass; a member checked as another, a zone reaching beyond its
 * prefix, and bad input fail with file:line. The --json output is parsed. */
#include "net_common.h"

#include <jansson.h>

#define DEMO_FED FE_TEST_SRC "/federation/federation.conf"
#define ZONES    FE_TEST_SRC "/zones"
#define ZA       ZONES "/1.5.5.5.1.e164.fed/1.5.5.5.1.e164.fed.zone.signed"
#define ZB       ZONES "/2.5.5.5.1.e164.fed/2.5.5.5.1.e164.fed.zone.signed"
#define ZR       ZONES "/e164.fed/e164.fed.zone.signed"
#define ZEB      ZONES "/ims-b.example/ims-b.example.zone.signed"

static char dir[256];

static void setup(void)
{
	fe_test_mkdtemp(dir, sizeof(dir));
}

static void teardown(void)
{
	fe_test_rmdir(dir);
}

TestSuite(zone_check, .init = setup, .fini = teardown, .timeout = 120);

static json_t *run_json(const char *args, int *status)
{
	static char out[1 << 20];
	char cmd[4096];
	snprintf(cmd, sizeof(cmd), "zone check --json %s", args);
	*status = nc_ctl(dir, cmd, out, sizeof(out));
	json_error_t e;
	json_t *j = json_loads(out, 0, &e);
	cr_assert_not_null(j, "not JSON (%s): %.2000s", e.text, out);
	return j;
}

static json_t *file_of(json_t *j, size_t i)
{
	return json_array_get(json_object_get(j, "files"), i);
}

Test(zone_check, demo_zones_pass_with_their_members)
{
	char out[16384];
	int st = nc_ctl(dir, "zone check --federation " DEMO_FED " " ZR " " ZB " " ZEB, out,
	                sizeof(out));
	cr_expect_eq(st, 0, "%s", out);
	cr_expect_not_null(strstr(out, "prefix authority: OK (302 numbers and number prefixes of "
	                               "2.5.5.5.1.e164.fed., all within carrier-b's prefixes)"),
	                   "%s", out);
	cr_expect_not_null(strstr(out, "prefix authority: OK (ims-b.example. is a domain of "
	                               "carrier-b)"),
	                   "%s", out);
	cr_expect_not_null(strstr(out, "is a zone of the registry member \"registry\""), "%s", out);
	/* Name servers inside a member zone are hosts, not numbers: allowed. */
	json_t *j = run_json("--federation " DEMO_FED " " ZR " " ZA, &st);
	cr_expect_eq(st, 0);
	cr_expect(json_is_true(json_object_get(j, "ok")));
	cr_expect_eq(json_array_size(json_object_get(j, "files")), 2);
	json_t *a = json_object_get(file_of(j, 1), "authority");
	cr_expect_str_eq(json_string_value(json_object_get(a, "member")), "carrier-a");
	cr_expect(json_is_true(json_object_get(a, "ok")));
	cr_expect_eq(json_array_size(json_object_get(a, "violations")), 0);
	json_decref(j);
}

Test(zone_check, another_members_numbers_are_refused)
{
	int st;
	json_t *j = run_json("--federation " DEMO_FED " --member carrier-a " ZR " " ZB, &st);
	cr_expect_eq(st, 1);
	cr_expect(json_is_false(json_object_get(j, "ok")));
	json_t *f = file_of(j, 1);
	cr_expect(json_is_false(json_object_get(f, "ok")));
	json_t *v = json_object_get(json_object_get(f, "authority"), "violations");
	cr_expect_eq(json_array_size(v), 302, "every number of carrier B");
	json_t *first = json_array_get(v, 0);
	cr_expect_gt(json_integer_value(json_object_get(first, "line")), 0);
	cr_expect_not_null(strstr(json_string_value(json_object_get(first, "why")),
	                          "is outside carrier-a's prefixes"));
	json_decref(j);
	/* A domain zone of another member. */
	char out[16384];
	st = nc_ctl(dir, "zone check --federation " DEMO_FED " --member carrier-a " ZEB, out,
	            sizeof(out));
	cr_expect_eq(st, 1, "%s", out);
	cr_expect_not_null(strstr(out, "ims-b.example. is neither under the ENUM apex nor one of "
	                               "carrier-a's domains"),
	                   "%s", out);
}

Test(zone_check, a_zone_reaching_beyond_its_prefix)
{
	/* Carrier A (+15551) publishes the wider 5.5.5.1.e164.fed.: one number of its own, one
	 * of +15552, a wildcard over all of +1555, and a NAPTR on a name that is no number. */
	char zone[512], out[16384], cmd[2048];
	snprintf(zone, sizeof(zone), "%s/wide.zone", dir);
	nc_write_file(
	        zone,
	        "$TTL 300\n$ORIGIN 5.5.5.1.e164.fed.\n"
	        "@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n"
	        "@ IN NS ns1\n"
	        "ns1 IN A 192.0.2.53\n"
	        "1.0.0.0.0.0.1 IN NAPTR 10 100 \"u\" \"E2U+sip\" \"!^.*$!sip:a@ims-a.example!\" .\n"
	        "1.0.0.0.0.0.2 IN NAPTR 10 100 \"u\" \"E2U+sip\" \"!^.*$!sip:b@ims-a.example!\" .\n"
	        "* IN NAPTR 10 100 \"u\" \"E2U+sip\" \"!^.*$!sip:any@ims-a.example!\" .\n"
	        "sip IN NAPTR 10 100 \"u\" \"E2U+sip\" \"!^.*$!sip:x@ims-a.example!\" .\n");
	snprintf(cmd, sizeof(cmd), "zone check --federation %s --member carrier-a %s", DEMO_FED,
	         zone);
	cr_expect_eq(nc_ctl(dir, cmd, out, sizeof(out)), 1, "%s", out);
	cr_expect_not_null(strstr(out, ":7: 1.0.0.0.0.0.2.5.5.5.1.e164.fed.: +15552000001 is "
	                               "outside carrier-a's prefixes"),
	                   "%s", out);
	cr_expect_not_null(strstr(out, ":8: *.5.5.5.1.e164.fed.: wildcard under +1555 is outside "
	                               "carrier-a's prefixes"),
	                   "%s", out);
	cr_expect_not_null(strstr(out, ":9: sip.5.5.5.1.e164.fed.: not a number"), "%s", out);
	cr_expect_null(strstr(out, "ns1.5.5.5.1.e164.fed.: not a number"), "%s", out);
	cr_expect_null(strstr(out, "1.0.0.0.0.0.1.5.5.5.1.e164.fed.:"), "%s", out);
	cr_expect_not_null(strstr(out, "prefix authority: 3 of"), "%s", out);
}

Test(zone_check, bad_input)
{
	char out[8192];
	cr_expect_eq(nc_ctl(dir, "zone check --member carrier-a " ZA, out, sizeof(out)), 2, "%s",
	             out);
	cr_expect_not_null(strstr(out, "--member needs --federation"), "%s", out);
	cr_expect_eq(nc_ctl(dir, "zone check --federation " DEMO_FED " --member nobody " ZR " " ZA,
	                    out, sizeof(out)),
	             1, "%s", out);
	cr_expect_not_null(strstr(out, "no member \"nobody\" in the federation"), "%s", out);
	cr_expect_eq(nc_ctl(dir, "zone check --federation /nonexistent.conf " ZA, out, sizeof(out)),
	             2, "%s", out);
	cr_expect_eq(nc_ctl(dir, "zone check --federation " DEMO_FED " /nonexistent.zone", out,
	                    sizeof(out)),
	             1, "%s", out);
	cr_expect_eq(nc_ctl(dir, "zone check", out, sizeof(out)), 2, "%s", out);
	cr_expect_eq(nc_ctl(dir, "zone check --help", out, sizeof(out)), 0);
	cr_expect_not_null(strstr(out, "usage: fedenumctl zone check"), "%s", out);
}
