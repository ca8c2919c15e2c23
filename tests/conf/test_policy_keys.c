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
	        {"views = ( { name = \"v\"; clients = [\"10.0.0.0/8\"]; foreign-proofs = 1; } );",
	         "federation.conf:5: views.foreign-proofs must be true or false"},
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

/* The filter keys: members.border, views.foreign-proofs, and server.view-tsig-keys (key
 * files of fedenumd.conf, read into the policy; a name shared with a transfer key refused). */
static void write_file(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static int load_node(const char *node, const char *fed, struct fe_conf *c, struct fe_conf_diag *d)
{
	write_file("federation.conf", fed);
	char path[256], text[1024];
	snprintf(text, sizeof(text), "federation = \"federation.conf\";\n%s\n", node);
	write_file("fedenumd.conf", text);
	snprintf(path, sizeof(path), "%s/fedenumd.conf", dir);
	fe_conf_init(c);
	return fe_conf_load(c, path, d);
}

/* The configuration is refused with @msg: by the load (which builds the policy once), or
 * else by fe_conf_make_policy. */
static bool refused(int rc, struct fe_conf *c, struct fe_conf_diag *d, const char *msg)
{
	if (rc != FE_OK) {
		for (size_t i = 0; i < d->n; i++)
			if (strstr(d->msgs[i], msg))
				return true;
		return false;
	}
	struct fe_policy *p = NULL;
	char err[512];
	rc = fe_conf_make_policy(c, &p, err, sizeof(err));
	fe_policy_destroy(p);
	return rc != FE_OK && strstr(err, msg) != NULL;
}

Test(policy_keys, filter_keys_and_view_key_files)
{
	static const char fed[] =
	        "name = \"t\";\n"
	        "members = ( { name = \"registry\"; role = \"registry\"; },\n"
	        "  { name = \"carrier-a\"; domains = [\"ims-a.example.\"];\n"
	        "    border = [\"ibcf.ims-a.example.\"]; } );\n"
	        "views = ( { name = \"v\"; member = \"carrier-a\"; clients = [\"10.0.0.0/8\"];\n"
	        "  tsig-keys = [\"view-key.\"]; foreign-proofs = false; } );\n";
	write_file("view.key", "key \"view-key.\" { algorithm hmac-sha256; secret "
	                       "\"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=\"; };\n");
	write_file("xfr.key", "key \"xfr-key.\" { algorithm hmac-sha256; secret "
	                      "\"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTU2Nzg=\"; };\n");
	write_file("same.key", "key \"view-key.\" { algorithm hmac-sha256; secret "
	                       "\"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTU2Nzg=\"; };\n");
	struct fe_conf c;
	struct fe_conf_diag d = {0};
	int rc = load_node("server: { view-tsig-keys = [\"view.key\"]; };\n"
	                   "xfr: { tsig-keys = [\"xfr.key\"]; };",
	                   fed, &c, &d);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s\n", d.msgs[i]);
	cr_assert_eq(rc, FE_OK);
	cr_assert(fe_conf_has_policy(&c));
	cr_assert_eq(c.nview_tsig_keys, 1);
	cr_assert_eq(c.members[1].nborder, 1);
	cr_assert_str_eq(c.members[1].border[0], "ibcf.ims-a.example.");
	cr_assert(c.views[0].no_foreign_proofs);
	struct fe_policy *p = NULL;
	char err[512];
	cr_assert_eq(fe_conf_make_policy(&c, &p, err, sizeof(err)), FE_OK, "%s", err);
	fe_policy_destroy(p);
	fe_conf_free(&c);
	fe_conf_diag_free(&d);

	/* a view key named like a transfer key */
	rc = load_node("server: { view-tsig-keys = [\"view.key\"]; };\n"
	               "xfr: { tsig-keys = [\"same.key\"]; };",
	               fed, &c, &d);
	cr_assert(refused(rc, &c, &d, "key view-key. is also a transfer key"));
	fe_conf_free(&c);
	fe_conf_diag_free(&d);

	/* a key file that does not parse: the policy is not built */
	write_file("bad.key", "key \"k.\" { algorithm hmac-md5; secret \"AAAA\"; };\n");
	rc = load_node("server: { view-tsig-keys = [\"bad.key\"]; };", fed, &c, &d);
	cr_assert(refused(rc, &c, &d, "server.view-tsig-keys:"));
	fe_conf_free(&c);
	fe_conf_diag_free(&d);

	/* a border that is not a name, a key file that is missing */
	rc = load_node("server: { view-tsig-keys = [\"missing.key\"]; };",
	               "name = \"t\";\nmembers = ( { name = \"a\"; border = [\"a..b\"]; },\n"
	               "  { name = \"registry\"; role = \"registry\"; } );\n",
	               &c, &d);
	cr_assert_eq(rc, FE_EFORMAT);
	bool border = false, missing = false;
	for (size_t i = 0; i < d.n; i++) {
		border |= strstr(d.msgs[i], "federation.conf:2: members.border: \"a..b\"") != NULL;
		missing |= strstr(d.msgs[i], "server.view-tsig-keys:") != NULL;
	}
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s\n", d.msgs[i]);
	cr_assert(border && missing);
	fe_conf_free(&c);
	fe_conf_diag_free(&d);
}
