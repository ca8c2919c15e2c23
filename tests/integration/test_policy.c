/* The policy engine in a real fedenumd on loopback (docs/federation.md "Policy"): views told
 * apart by source address (127.0.0.x), peering agreements, the namespace guard (Q7), clients
 * in no view (Q8), and SIGHUP with a changed and with an invalid policy. Zones are unsigned
 * (no trust anchors): the decision does not depend on it. */
#include "net_common.h"

#include <ldns/ldns.h>

static struct fe_test_daemon d;
static char dir[256];

static void stop(void)
{
	if (d.pid > 0)
		cr_expect_eq(fe_test_daemon_stop(&d), 0, "fedenumd exit status");
	fe_test_rmdir(dir);
}

TestSuite(policy, .fini = stop, .timeout = 120);

static void write_zone(const char *apex, const char *body)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%szone", dir, apex);
	nc_write_file(path,
	              "$TTL 300\n%s IN SOA ns1.e164.fed. hostmaster.e164.fed. 1 3600 600 86400 "
	              "300\n%s IN NS ns1.e164.fed.\n%s",
	              apex, apex, body);
}

#define NUM_A "4.3.2.1.1.5.5.5.1.e164.fed."
#define NUM_B "4.3.2.1.2.5.5.5.1.e164.fed."
#define NUM_C "4.3.2.1.3.5.5.5.1.e164.fed."

/* @rules: the body of policy.rules; @outside: "refused" or "nxdomain". */
static void write_federation(const char *rules, const char *outside)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/federation.conf", dir);
	nc_write_file(
	        path,
	        "name = \"policy-test\";\n"
	        "clients = [\"127.0.0.1\"];\n"
	        "members = (\n"
	        "  { name = \"registry\"; role = \"registry\"; },\n"
	        "  { name = \"carrier-a\"; domains = [\"ims-a.example.\"]; peers = "
	        "[\"carrier-c\"]; },\n"
	        "  { name = \"carrier-b\"; domains = [\"ims-b.example.\"]; },\n"
	        "  { name = \"carrier-c\"; domains = [\"ims-c.example.\"]; }\n"
	        ");\n"
	        "zones = (\n"
	        "  { apex = \"e164.fed.\"; member = \"registry\"; file = \"e164.fed.zone\"; },\n"
	        "  { apex = \"1.5.5.5.1.e164.fed.\"; member = \"carrier-a\"; file = "
	        "\"1.5.5.5.1.e164.fed.zone\"; },\n"
	        "  { apex = \"2.5.5.5.1.e164.fed.\"; member = \"carrier-b\"; file = "
	        "\"2.5.5.5.1.e164.fed.zone\"; },\n"
	        "  { apex = \"3.5.5.5.1.e164.fed.\"; member = \"carrier-c\"; file = "
	        "\"3.5.5.5.1.e164.fed.zone\"; }\n"
	        ");\n"
	        "views = (\n"
	        "  { name = \"scscf-a\"; member = \"carrier-a\"; clients = [\"127.0.0.2\"]; },\n"
	        "  { name = \"scscf-b\"; member = \"carrier-b\"; clients = [\"127.0.0.3\"]; }\n"
	        ");\n"
	        "policy = {\n"
	        "  bgcf = \"sip:bgcf.example.net:5060\";\n"
	        "  transit = \"sip:hub.example.net:5060\";\n"
	        "  outside = \"%s\";\n"
	        "  rules = ( %s );\n"
	        "};\n",
	        outside, rules);
}

static void setup_federation_with(const char *const *extra);

static void setup_federation(void)
{
	setup_federation_with(NULL);
}

static void setup_federation_with(const char *const *extra)
{
	fe_test_mkdtemp(dir, sizeof(dir));
	write_zone("e164.fed.", "ns1.e164.fed. IN A 127.0.0.1\n"
	                        "1.5.5.5.1.e164.fed. IN NS ns1.e164.fed.\n"
	                        "2.5.5.5.1.e164.fed. IN NS ns1.e164.fed.\n"
	                        "3.5.5.5.1.e164.fed. IN NS ns1.e164.fed.\n");
	const char *m[] = {"a", "b", "c"};
	for (int i = 0; i < 3; i++) {
		char apex[64], body[256];
		snprintf(apex, sizeof(apex), "%d.5.5.5.1.e164.fed.", i + 1);
		snprintf(body, sizeof(body),
		         "4.3.2.1 IN NAPTR 10 100 \"u\" \"E2U+sip\" "
		         "\"!^.*$!sip:+155%d51234@ims-%s.example;user=phone!\" .\n",
		         i + 1, m[i]);
		char full[512];
		snprintf(full, sizeof(full), "$ORIGIN %s\n%s", apex, body);
		write_zone(apex, full);
	}
	write_federation("{ causes = [\"no-agreement\"]; action = \"transit\"; }", "refused");
	char path[512];
	snprintf(path, sizeof(path), "%s/fedenumd.conf", dir);
	nc_write_file(path, "federation = \"federation.conf\";\nlog: { level = \"info\"; };\n");
	nc_start_config(&d, dir, extra);
}

/* One UDP query (EDNS, DO=0) from source address @src. */
struct got {
	unsigned rcode, ancount;
	bool ad;
	int ede;
	char ede_text[128];
	char regexp[256];
	size_t qlen, len;
};

static void skip_name(const uint8_t *m, size_t *p)
{
	while (m[*p] && (m[*p] & 0xC0) != 0xC0)
		*p += 1u + m[*p];
	*p += m[*p] ? 2 : 1;
}

static struct got ask(const char *src, const char *name, uint16_t type)
{
	uint8_t q[512], a[4096];
	size_t n = fe_test_make_query(name, type, 0, 1232, q, sizeof(q));
	cr_assert_gt(n, 0);
	ssize_t r = (ssize_t)nc_udp_from(&d, src, q, n, a, sizeof(a));
	struct got g = {.rcode = a[3] & 0xF, .ad = a[3] & 0x20, .ede = -1, .qlen = n};
	g.len = (size_t)r;
	g.ancount = (unsigned)(a[6] << 8 | a[7]);
	unsigned total = g.ancount + (unsigned)(a[8] << 8 | a[9]) + (unsigned)(a[10] << 8 | a[11]);
	size_t p = 12;
	skip_name(a, &p);
	p += 4;
	for (unsigned i = 0; i < total && p < (size_t)r; i++) {
		skip_name(a, &p);
		uint16_t t = (uint16_t)(a[p] << 8 | a[p + 1]);
		uint16_t rdlen = (uint16_t)(a[p + 8] << 8 | a[p + 9]);
		const uint8_t *rd = a + p + 10;
		if (t == LDNS_RR_TYPE_NAPTR && !g.regexp[0]) {
			size_t o = 4 + 1 + rd[4];
			o += 1u + rd[o];
			memcpy(g.regexp, rd + o + 1, rd[o]);
		}
		for (size_t o = 0; t == LDNS_RR_TYPE_OPT && o + 4 <= rdlen;) {
			uint16_t code = (uint16_t)(rd[o] << 8 | rd[o + 1]);
			uint16_t ol = (uint16_t)(rd[o + 2] << 8 | rd[o + 3]);
			if (code == 15) {
				g.ede = rd[o + 4] << 8 | rd[o + 5];
				memcpy(g.ede_text, rd + o + 6, ol - 2u);
			}
			o += 4u + ol;
		}
		p += 10u + rdlen;
	}
	return g;
}

Test(policy, agreements_by_view)
{
	setup_federation();
	/* A peers only with C: B's number gets the transit NAPTR, C's number C's route */
	struct got g = ask("127.0.0.2", NUM_B, LDNS_RR_TYPE_NAPTR);
	cr_assert_eq(g.rcode, 0);
	cr_assert_eq(g.ancount, 1);
	cr_assert_not(g.ad);
	cr_assert_str_eq(g.regexp, "!^(.*)$!sip:\\1@hub.example.net:5060;user=phone!");
	cr_assert_eq(g.ede, 4);
	cr_assert_str_eq(g.ede_text, "federation policy: no-agreement (transit)");
	g = ask("127.0.0.2", NUM_C, LDNS_RR_TYPE_NAPTR);
	cr_assert_eq(g.rcode, 0);
	cr_assert_str_eq(g.regexp, "!^.*$!sip:+155351234@ims-c.example;user=phone!");
	cr_assert_eq(g.ede, -1);
	g = ask("127.0.0.2", NUM_A, LDNS_RR_TYPE_NAPTR);
	cr_assert_str_eq(g.regexp, "!^.*$!sip:+155151234@ims-a.example;user=phone!");
	/* B's S-CSCF gets B's own route */
	g = ask("127.0.0.3", NUM_B, LDNS_RR_TYPE_NAPTR);
	cr_assert_eq(g.rcode, 0);
	cr_assert_str_eq(g.regexp, "!^.*$!sip:+155251234@ims-b.example;user=phone!");
	cr_assert_eq(g.ede, -1);
	/* the default view (federation clients) has no member: agreements with everyone */
	g = ask("127.0.0.1", NUM_B, LDNS_RR_TYPE_NAPTR);
	cr_assert_str_eq(g.regexp, "!^.*$!sip:+155251234@ims-b.example;user=phone!");
	/* a number the registry does not delegate: no rule, pass (NXDOMAIN) */
	g = ask("127.0.0.2", "4.3.2.1.9.5.5.5.1.e164.fed.", LDNS_RR_TYPE_NAPTR);
	cr_assert_eq(g.rcode, LDNS_RCODE_NXDOMAIN);
	cr_assert_eq(nc_policy_counter(&d, "no-agreement/transit"), 1);
	cr_assert_eq(nc_policy_counter(&d, "route/pass"), 4);
	cr_assert_eq(nc_policy_counter(&d, "no-delegation/pass"), 1);
	cr_assert_geq(fe_test_daemon_log_count(&d, "policy: view scscf-a: +155521234: "
	                                           "no-agreement → transit"),
	              1);
}

Test(policy, q7_namespace_guard_and_q8_no_view)
{
	setup_federation();
	struct got g = ask("127.0.0.2", "www.example.com.", LDNS_RR_TYPE_A);
	cr_assert_eq(g.rcode, LDNS_RCODE_REFUSED);
	cr_assert_eq(g.ede, 18);
	cr_assert_eq(g.ancount, 0);
	/* no view: REFUSED + EDE 18 even for federation data, counted, bounded log */
	enum { N = 30 };
	for (int i = 0; i < N; i++) {
		g = ask("127.0.0.9", NUM_A, LDNS_RR_TYPE_NAPTR);
		cr_assert_eq(g.rcode, LDNS_RCODE_REFUSED);
		cr_assert_eq(g.ancount, 0);
		cr_assert_eq(g.ede, 18);
		cr_assert_str_eq(g.ede_text, "");
		cr_assert_leq(g.len, g.qlen + 6, "Q6: %zu octets for a %zu-octet query", g.len,
		              g.qlen);
	}
	cr_assert_eq(nc_policy_counter(&d, "no-view"), N);
	cr_assert_eq(nc_policy_counter(&d, "outside"), 1);
	int lines = fe_test_daemon_log_count(&d, "is in no view");
	cr_assert_geq(lines, 1);
	cr_assert_leq(lines, 10, "%d lines for %d refusals: not rate limited", lines, N);
	/* outside = "nxdomain" after a reload */
	write_federation("{ causes = [\"no-agreement\"]; action = \"transit\"; }", "nxdomain");
	nc_reload(&d);
	g = ask("127.0.0.2", "www.example.com.", LDNS_RR_TYPE_A);
	cr_assert_eq(g.rcode, LDNS_RCODE_NXDOMAIN);
	cr_assert_eq(g.ede, 18);
}

Test(policy, sighup_changes_decisions_invalid_policy_refused)
{
	setup_federation();
	struct got g = ask("127.0.0.2", NUM_B, LDNS_RR_TYPE_NAPTR);
	cr_assert_str_eq(g.regexp, "!^(.*)$!sip:\\1@hub.example.net:5060;user=phone!");
	write_federation(
	        "{ causes = [\"no-agreement\"]; action = \"bgcf\"; prefixes = [\"+1555\"]; "
	        "views = [\"scscf-a\"]; }",
	        "refused");
	nc_reload(&d);
	cr_assert_eq(fe_test_daemon_log_count(&d, "policy replaced"), 1);
	g = ask("127.0.0.2", NUM_B, LDNS_RR_TYPE_NAPTR);
	cr_assert_str_eq(g.regexp, "!^(.*)$!sip:\\1@bgcf.example.net:5060;user=phone!");
	cr_assert_str_eq(g.ede_text, "federation policy: no-agreement (bgcf)");
	/* invalid: refused with file:line, decisions unchanged */
	write_federation("{ causes = [\"no-agreement\"]; action = \"voicemail\"; }", "refused");
	nc_reload(&d);
	cr_assert_geq(fe_test_daemon_log_count(&d, "federation.conf:23: policy.rules.action: "
	                                           "\"voicemail\" is not one of"),
	              1);
	cr_assert_eq(fe_test_daemon_log_count(&d, "reload refused"), 1);
	g = ask("127.0.0.2", NUM_B, LDNS_RR_TYPE_NAPTR);
	cr_assert_str_eq(g.regexp, "!^(.*)$!sip:\\1@bgcf.example.net:5060;user=phone!");
	write_federation(
	        "{ causes = [\"no-agreement\"]; action = \"bgcf\"; views = [\"nobody\"]; }",
	        "refused");
	nc_reload(&d);
	cr_assert_geq(fe_test_daemon_log_count(&d, "no view is named \"nobody\""), 1);
	g = ask("127.0.0.2", NUM_B, LDNS_RR_TYPE_NAPTR);
	cr_assert_str_eq(g.regexp, "!^(.*)$!sip:\\1@bgcf.example.net:5060;user=phone!");
}

/* The policy engine and zone transfer in one node: fedenumd composes the transfer module's
 * TSIG verification and signing around the policy's hooks (src/daemon/hooks.c). A signed
 * AXFR from the secondary's address works; an unsigned one is refused; a TSIG-signed NAPTR
 * query from a view gets the policy's decision, and its answer is signed over the rewritten
 * message (kdig verifies the TSIG). */
#define XKEY    "xfr-peer.test."
#define XSECRET "Ut6y2zK8J0m2qv8j6I0g9bC2i0k4yD2H7n3o5q1w8e4="

Test(policy, with_zone_transfer_hooks_composed)
{
	fe_test_mkdtemp(dir, sizeof(dir));
	char key[600], out[600];
	snprintf(key, sizeof(key), "%s/peer.key", dir);
	snprintf(out, sizeof(out), "%s/kdig.out", dir);
	nc_write_file(key, "key \"%s\" {\n\talgorithm hmac-sha256;\n\tsecret \"%s\";\n};\n", XKEY,
	              XSECRET);
	const char *extra[] = {"--tsig-key", key, "--notify", "127.0.0.1@9", NULL};
	/* setup_federation_with makes its own folder: reuse this one */
	char keep[256];
	snprintf(keep, sizeof(keep), "%s", dir);
	setup_federation_with(extra);
	/* the key file lives in the first folder; the daemon has read it at start */
	cr_assert_eq(fe_test_sh("kdig @127.0.0.1 -p %u +timeout=5 +retry=0 -y hmac-sha256:%s:%s "
	                        "AXFR 1.5.5.5.1.e164.fed. > '%s' 2>&1",
	                        d.port, XKEY, XSECRET, out),
	             0);
	cr_assert_eq(fe_test_sh("grep -q 'NAPTR.*ims-a.example' '%s' && ! grep -q ';; ERROR' '%s'",
	                        out, out),
	             0, "signed AXFR through the composed hooks");
	cr_assert_eq(fe_test_sh("kdig @127.0.0.1 -p %u +timeout=5 +retry=0 AXFR "
	                        "1.5.5.5.1.e164.fed. > '%s' 2>&1; grep -q 'REFUSED' '%s'",
	                        d.port, out, out),
	             0, "unsigned AXFR refused");
	/* A signed query from carrier A's S-CSCF for B's number: transit NAPTR, signed answer. */
	cr_assert_eq(fe_test_sh("kdig @127.0.0.1 -p %u -b 127.0.0.2 +timeout=5 +retry=0 "
	                        "-y hmac-sha256:%s:%s " NUM_B " NAPTR > '%s' 2>&1",
	                        d.port, XKEY, XSECRET, out),
	             0);
	cr_assert_eq(fe_test_sh("grep -q 'hub.example.net' '%s' && grep -q 'TSIG' '%s' && "
	                        "! grep -q ';; ERROR\\|;; WARNING' '%s'",
	                        out, out, out),
	             0, "policy decision with a verified TSIG on the rewritten answer");
	/* and unsigned, the same decision */
	struct got g = ask("127.0.0.2", NUM_B, LDNS_RR_TYPE_NAPTR);
	cr_assert_str_eq(g.regexp, "!^(.*)$!sip:\\1@hub.example.net:5060;user=phone!");
	fe_test_rmdir(keep);
}
