/* The policy keys of federation.conf (conf_policy.c): a valid policy builds; every kind of
 * mistake is refused with file:line (what a SIGHUP reload with a bad policy reports). */
#include "conf_keys.h"

#include "fedenum/policy.h"
#include "fedenum/util.h"

static int load(const char *policy, struct fe_conf *c, struct fe_conf_diag *d)
{
	char text[8192];
	snprintf(text, sizeof(text),
	         "name = \"t\";\n"
	         "members = ( { name = \"registry\"; role = \"registry\"; },\n"
	         "            { name = \"carrier-a\"; domains = [\"ims-a.example.\"]; },\n"
	         "            { name = \"carrier-b\"; peers = [\"carrier-a\"]; suspended = true; } "
	         ");\n"
	         "%s\n",
	         policy);
	return load_federation(text, c, d);
}

TestSuite(policy_keys, .init = setup, .fini = teardown);

Test(policy_keys, valid_policy_builds)
{
	struct fe_conf c;
	struct fe_conf_diag d = {0};
	int rc = load("views = ( { name = \"scscf\"; member = \"carrier-a\"; clients = "
	              "[\"192.0.2.0/24\"]; tsig-keys = [\"scscf-a\"]; tls-clients = "
	              "[\"scscf-a.tls.example\"]; } );\n"
	              "policy = { bgcf = \"sip:bgcf.example.net:5060\"; transit = "
	              "\"sip:hub.example.net\"; outside = \"nxdomain\";\n"
	              "  rules = ( { causes = [\"not-found\", \"pstn-only\", \"no-delegation\"]; "
	              "action = \"bgcf\"; prefixes = [\"+1555\"]; views = [\"scscf\", "
	              "\"default\"]; } ); };",
	              &c, &d);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s\n", d.msgs[i]);
	cr_assert_eq(rc, FE_OK);
	cr_assert(fe_conf_has_policy(&c));
	cr_assert_eq(c.nviews, 1);
	cr_assert_eq(c.views[0].ntls_clients, 1);
	cr_assert_str_eq(c.views[0].tls_clients[0], "scscf-a.tls.example");
	cr_assert_eq(c.nrules, 1);
	cr_assert_eq(c.policy_outside, FE_POLICY_NXDOMAIN);
	cr_assert(c.members[2].suspended && c.members[2].has_peers);
	struct fe_policy *p = NULL;
	char err[256];
	cr_assert_eq(fe_conf_make_policy(&c, &p, err, sizeof(err)), FE_OK, "%s", err);
	fe_policy_destroy(p);
	fe_conf_free(&c);
	fe_conf_diag_free(&d);
	/* no views, no policy: the engine stays off */
	rc = load("", &c, &d);
	cr_assert_eq(rc, FE_OK);
	cr_assert_not(fe_conf_has_policy(&c));
	fe_conf_free(&c);
	fe_conf_diag_free(&d);
}

Test(policy_keys, mistakes_refused_with_file_line)
{
	static const struct {
		const char *policy, *msg;
	} bad[] = {
	        {"policy = { rules = ( { causes = [\"lost\"]; action = \"pass\"; } ); };",
	         "federation.conf:5: policy.rules.causes: \"lost\" is not one of"},
	        {"policy = { rules = ( { causes = [\"not-found\"]; action = \"voicemail\"; } ); };",
	         "federation.conf:5: policy.rules.action: \"voicemail\""},
	        {"policy = { rules = ( { causes = [\"not-found\"]; action = \"bgcf\"; } ); };",
	         "federation.conf:5: policy.rules.action: \"bgcf\" needs policy.bgcf"},
	        {"policy = { bgcf = \"sip:u@h\"; };", "federation.conf:5: policy.bgcf:"},
	        {"policy = { outside = \"drop\"; };", "federation.conf:5: policy.outside:"},
	        {"policy = { color = \"red\"; };",
	         "federation.conf:5: policy: unknown key \"color\""},
	        {"policy = { rules = ( { causes = [\"not-found\"]; action = \"pass\"; prefixes = "
	         "[\"1555\"]; } ); };",
	         "federation.conf:5: policy.rules.prefixes: \"1555\""},
	        {"policy = { rules = ( { causes = [\"not-found\"]; action = \"pass\"; views = "
	         "[\"nobody\"]; } ); };",
	         "federation.conf:5: policy.rules.views: no view is named \"nobody\""},
	        {"views = ( { name = \"v\"; member = \"carrier-z\"; clients = [\"10.0.0.0/8\"]; } "
	         ");",
	         "federation.conf:5: views.member: no member is named \"carrier-z\""},
	        {"views = ( { name = \"v\"; clients = [\"10.0.0.1/8\"]; } );",
	         "federation.conf:5: views.clients: \"10.0.0.1/8\""},
	        {"views = ( { name = \"default\"; clients = [\"10.0.0.0/8\"]; } );",
	         "federation.conf:5: views.name: \"default\""},
	        {"views = ( { name = \"v\"; clients = [\"10.0.0.0/8\"]; tls-clients = [\"\"]; } "
	         ");",
	         "federation.conf:5: views.tls-clients must be a non-empty string"},
	        {"views = ( { name = \"v\"; clients = [\"10.0.0.0/8\"]; tls-clients = [\"a\", "
	         "\"b\", \"c\", \"d\", \"e\", \"f\", \"g\", \"h\", \"i\"]; } );",
	         "federation.conf:5: views.tls-clients: \"i\" is not a certificate name"},
	        {"views = ( { name = \"v\"; } );",
	         "federation.conf:5: views: a view needs clients"},
	};
	for (size_t i = 0; i < FE_ARRAY_LEN(bad); i++)
		expect_refused(load, bad[i].policy, bad[i].msg);
	/* members.peers naming nobody */
	struct fe_conf c;
	struct fe_conf_diag d = {0};
	char path[256];
	snprintf(path, sizeof(path), "%s/federation.conf", dir);
	FILE *f = fopen(path, "w");
	fprintf(f, "name = \"t\";\nmembers = ( { name = \"registry\"; role = \"registry\"; "
	           "peers = [\"ghost\"]; } );\n");
	fclose(f);
	snprintf(path, sizeof(path), "%s/fedenumd.conf", dir);
	fe_conf_init(&c);
	cr_assert_eq(fe_conf_load(&c, path, &d), FE_EFORMAT);
	cr_assert(d.n && strstr(d.msgs[0], "federation.conf:2: members.peers: no member is named "
	                                   "\"ghost\""),
	          "%s", d.n ? d.msgs[0] : "nothing");
	fe_conf_free(&c);
	fe_conf_diag_free(&d);
}
