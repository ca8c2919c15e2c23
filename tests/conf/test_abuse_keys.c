/* The abuse-control keys of federation.conf (conf_abuse.c): policy.rate-limit,
 * policy.harvesting, views.queries-per-second and views.over-budget read with the schema's
 * defaults and ranges, handed to the policy; every mistake refused with file:line. */
#include "conf_keys.h"

#include "fedenum/policy.h"
#include "fedenum/util.h"

/* federation.conf: two lines, then @body from line 3. */
static int load_fed(const char *body, struct fe_conf *c, struct fe_conf_diag *d)
{
	char text[8192];
	snprintf(
	        text, sizeof(text),
	        "name = \"t\";\nmembers = ( { name = \"registry\"; role = \"registry\"; } );\n%s\n",
	        body);
	return load_federation(text, c, d);
}

TestSuite(abuse_keys, .init = setup, .fini = teardown);

Test(abuse_keys, defaults_values_and_the_policy)
{
	struct fe_conf c;
	struct fe_conf_diag d = {0};
	int rc = load_fed("views = ( { name = \"lab\"; clients = [\"192.0.2.0/24\"]; "
	                  "queries-per-second = 500; over-budget = \"drop\"; },\n"
	                  "  { name = \"mon\"; clients = [\"198.51.100.0/24\"]; } );\n"
	                  "policy = { rate-limit = { slip = 0; exempt-views = [\"mon\"]; };\n"
	                  "  harvesting = { window = 60; action = \"drop\"; exempt-views = "
	                  "[\"mon\", \"default\"]; }; };",
	                  &c, &d);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s\n", d.msgs[i]);
	cr_assert_eq(rc, FE_OK);
	cr_assert(c.abuse.has_rate_limit && c.abuse.has_harvesting);
	cr_assert_eq(c.abuse.rrl_rate, 100, "the schema's default");
	cr_assert_eq(c.abuse.rrl_slip, 0);
	cr_assert_eq(c.abuse.rrl_window_s, 15);
	cr_assert_eq(c.abuse.rrl_v4, 24);
	cr_assert_eq(c.abuse.rrl_v6, 56);
	cr_assert_eq(c.abuse.nrrl_exempt, 1);
	cr_assert_eq(c.abuse.hv_window_s, 60);
	cr_assert_eq(c.abuse.hv_distinct, 200);
	cr_assert_eq(c.abuse.hv_hold_s, 600);
	cr_assert(c.abuse.hv_drop);
	cr_assert_eq(c.abuse.nhv_exempt, 2);
	cr_assert_eq(c.views[0].queries_per_second, 500);
	cr_assert(c.views[0].over_budget_drop);
	cr_assert_eq(c.views[1].queries_per_second, 0);
	struct fe_policy *p = NULL;
	char err[256];
	cr_assert_eq(fe_conf_make_policy(&c, &p, err, sizeof(err)), FE_OK, "%s", err);
	fe_policy_destroy(p);
	fe_conf_free(&c);
	fe_conf_diag_free(&d);
	/* a policy group with only rate-limit turns the engine on */
	cr_assert_eq(load_fed("policy = { rate-limit = { }; };", &c, &d), FE_OK);
	cr_assert(fe_conf_has_policy(&c));
	cr_assert_not(c.abuse.has_harvesting);
	fe_conf_free(&c);
	fe_conf_diag_free(&d);
}

Test(abuse_keys, mistakes_refused_with_file_line)
{
	static const struct {
		const char *body, *msg;
	} bad[] = {
	        {"policy = { rate-limit = { slip = 11; }; };",
	         "federation.conf:3: policy.rate-limit.slip = 11 is out of range 0..10"},
	        {"policy = { rate-limit = { responses-per-second = 0; }; };",
	         "federation.conf:3: policy.rate-limit.responses-per-second = 0 is out of range"},
	        {"policy = { rate-limit = { ipv4-prefix = 33; }; };",
	         "federation.conf:3: policy.rate-limit.ipv4-prefix = 33 is out of range 8..32"},
	        {"policy = { rate-limit = { window = \"long\"; }; };",
	         "federation.conf:3: policy.rate-limit.window must be an integer"},
	        {"policy = { rate-limit = { burst = 3; }; };",
	         "federation.conf:3: policy.rate-limit: unknown key \"burst\""},
	        {"policy = { rate-limit = 5; };",
	         "federation.conf:3: policy.rate-limit: a group { ... } expected"},
	        {"policy = { rate-limit = { exempt-views = [\"nobody\"]; }; };",
	         "federation.conf:3: policy.rate-limit.exempt-views: no view is named \"nobody\""},
	        {"policy = { harvesting = { action = \"tarpit\"; }; };",
	         "federation.conf:3: policy.harvesting.action must be \"refused\" or \"drop\""},
	        {"policy = { harvesting = { distinct-numbers = 500; max-distinct = 400; }; };",
	         "federation.conf:3: policy.harvesting: max-distinct (400) is below "
	         "distinct-numbers (500)"},
	        {"policy = { harvesting = { nxdomain-percent = 101; }; };",
	         "federation.conf:3: policy.harvesting.nxdomain-percent = 101 is out of range"},
	        {"policy = { harvesting = { window = 5; }; };",
	         "federation.conf:3: policy.harvesting.window = 5 is out of range 10..86400"},
	        {"views = ( { name = \"v\"; clients = [\"10.0.0.0/8\"]; queries-per-second = -1; "
	         "} );",
	         "federation.conf:3: views.queries-per-second = -1 is out of range"},
	        {"views = ( { name = \"v\"; clients = [\"10.0.0.0/8\"]; over-budget = \"later\"; "
	         "} );",
	         "federation.conf:3: views.over-budget must be \"refused\" or \"drop\""},
	};
	for (size_t i = 0; i < FE_ARRAY_LEN(bad); i++)
		expect_refused(load_fed, bad[i].body, bad[i].msg);
}

/* policy.on-demand (on-demand peering): the schema's defaults, the lists, the mistakes. */
Test(abuse_keys, on_demand_keys)
{
	struct fe_conf c;
	struct fe_conf_diag d = {0};
	int rc = load_fed("views = ( { name = \"lab\"; clients = [\"192.0.2.0/24\"]; } );\n"
	                  "policy = { on-demand = { prefixes = [\"+1666\", \"+15551\"];\n"
	                  "  servers = [\"127.0.0.1@5300\", \"::1@53\"]; views = [\"lab\"];\n"
	                  "  timeout-ms = 500; }; };",
	                  &c, &d);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s\n", d.msgs[i]);
	cr_assert_eq(rc, FE_OK);
	cr_assert(c.od.on);
	cr_assert(fe_conf_has_policy(&c), "on-demand is part of the policy");
	cr_assert_eq(c.od.nprefixes, 2);
	cr_assert_str_eq(c.od.prefixes[0], "+1666");
	cr_assert_eq(c.od.nservers, 2);
	cr_assert_str_eq(c.od.servers[1], "::1@53");
	cr_assert_eq(c.od.nviews, 1);
	cr_assert_eq(c.od.timeout_ms, 500);
	cr_assert_eq(c.od.port, 53, "the schema's default");
	cr_assert_eq(c.od.max_pending, 1000);
	cr_assert_eq(c.od.max_per_client, 32);
	cr_assert_eq(c.od.max_ttl_s, 3600);
	cr_assert_eq(c.od.cache_entries, 100000);
	fe_conf_free(&c);
	fe_conf_diag_free(&d);
	cr_assert_eq(load_fed("policy = { rules = ( ); };", &c, &d), FE_OK);
	cr_assert_not(c.od.on);
	fe_conf_free(&c);
	fe_conf_diag_free(&d);

	static const struct {
		const char *body, *msg;
	} bad[] = {
	        {"policy = { on-demand = { servers = [\"127.0.0.1@53\"]; }; };",
	         "federation.conf:3: policy.on-demand: prefixes = [ \"+...\" ] is required"},
	        {"policy = { on-demand = { prefixes = [\"+1666\"]; }; };",
	         "federation.conf:3: policy.on-demand: servers = [ \"ADDR@PORT\" ] is required"},
	        {"policy = { on-demand = { prefixes = [\"1666\"]; servers = [\"127.0.0.1@53\"]; }; "
	         "};",
	         "federation.conf:3: policy.on-demand.prefixes: \"1666\" is not an E.164 prefix"},
	        {"policy = { on-demand = { prefixes = [\"+1\"]; servers = [\"ns1.example\"]; }; };",
	         "federation.conf:3: policy.on-demand.servers: \"ns1.example\" is not ADDR@PORT"},
	        {"policy = { on-demand = { prefixes = [\"+1\"]; servers = [\"127.0.0.1@53\"]; "
	         "views = [\"nobody\"]; }; };",
	         "federation.conf:3: policy.on-demand.views: no view is named \"nobody\""},
	        {"policy = { on-demand = { prefixes = [\"+1\"]; servers = [\"127.0.0.1@53\"]; "
	         "timeout-ms = 10; }; };",
	         "federation.conf:3: policy.on-demand.timeout-ms = 10 is out of range 100..60000"},
	        {"policy = { on-demand = { prefixes = [\"+1\"]; servers = [\"127.0.0.1@53\"]; "
	         "recurse = true; }; };",
	         "federation.conf:3: policy.on-demand: unknown key \"recurse\""},
	};
	for (size_t i = 0; i < FE_ARRAY_LEN(bad); i++)
		expect_refused(load_fed, bad[i].body, bad[i].msg);
}
