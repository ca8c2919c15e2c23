/* The policy engine's answer filters and view keys in a real fedenumd on loopback
 * (docs/federation.md "Answer filters", docs/security.md Z7, Q8): NAPTR lint, P- enumservices,
 * topology hiding, NSEC withheld from other members' views, and TSIG-verified view keys.
 * Views by source address: scscf-a (carrier A, 127.0.0.2), scscf-b (carrier B, 127.0.0.3,
 * foreign-proofs off), scscf-k (carrier B, 127.0.0.4, TSIG key "scscf-k."). Carrier A's
 * zones (its ENUM range and its domain ims-a.example.) are NSEC-signed at run time; no trust
 * anchors (the filters do not depend on validation). */
#include "net_common.h"

#include "fedenum/tsig.h"

#include <ldns/ldns.h>

static struct fe_test_daemon d;
static char dir[256];
static uint16_t metrics_port;

#define KEY_NAME   "scscf-k."
#define KEY_SECRET "c2NzY2Yta2V5LXNlY3JldC1mb3ItdGVzdHMtb25seS0xMjM="
#define NUM_A      "4.3.2.1.1.5.5.5.1.e164.fed."
#define NUM_LINT   "5.3.2.1.1.5.5.5.1.e164.fed."
#define NUM_B      "4.3.2.1.2.5.5.5.1.e164.fed."

static void stop(void)
{
	if (d.pid > 0)
		cr_expect_eq(fe_test_daemon_stop(&d), 0, "fedenumd exit status");
	fe_test_rmdir(dir);
}

TestSuite(policy_filters, .fini = stop, .timeout = 120);

static void write_zone(const char *apex, const char *body, bool sign)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%szone", dir, apex);
	nc_write_file(path,
	              "$ORIGIN %s\n$TTL 300\n@ IN SOA ns1.e164.fed. hostmaster.e164.fed. 1 3600 "
	              "600 86400 300\n@ IN NS ns1.e164.fed.\n%s",
	              apex, body);
	if (!sign)
		return;
	cr_assert_eq(fe_test_sh("cd '%s' && k=$(ldns-keygen -a ECDSAP256SHA256 -k %s) && "
	                        "ldns-signzone -o %s -f %szone.signed %szone \"$k\" >/dev/null "
	                        "&& mv %szone.signed %szone",
	                        dir, apex, apex, apex, apex, apex, apex),
	             0, "signing %s", apex);
}

static void setup(void)
{
	fe_test_mkdtemp(dir, sizeof(dir));
	write_zone("e164.fed.",
	           "ns1 IN A 127.0.0.1\n1.5.5.5.1 IN NS ns1.e164.fed.\n"
	           "2.5.5.5.1 IN NS ns1.e164.fed.\n",
	           false);
	write_zone("1.5.5.5.1.e164.fed.",
	           "4.3.2.1 IN NAPTR 10 100 \"u\" \"E2U+sip\" "
	           "\"!^.*$!sip:+15551234@ims-a.example;user=phone!\" .\n"
	           "4.3.2.1 IN NAPTR 20 100 \"u\" \"E2U+P-ims\" "
	           "\"!^.*$!sip:+15551234@scscf.ims-a.example!\" .\n"
	           "5.3.2.1 IN NAPTR 10 100 \"u\" \"E2U+sip\" "
	           "\"!^.*$!sip:+15551235@ims-a.example!\" .\n"
	           "5.3.2.1 IN NAPTR 20 100 \"u\" \"E2U+sip\" \"!^(.*$!sip:x@ims-a.example!\" .\n",
	           true);
	write_zone("2.5.5.5.1.e164.fed.",
	           "4.3.2.1 IN NAPTR 10 100 \"u\" \"E2U+sip\" "
	           "\"!^.*$!sip:+15552234@ims-b.example!\" .\n",
	           false);
	write_zone("ims-a.example.",
	           "@ IN NAPTR 10 10 \"s\" \"SIP+D2U\" \"\" _sip._udp.ims-a.example.\n"
	           "_sip._udp IN SRV 0 0 5060 ibcf.ims-a.example.\n"
	           "ibcf IN A 192.0.2.10\nscscf IN A 10.0.0.5\nhss IN A 10.0.0.6\n",
	           true);
	char path[512];
	snprintf(path, sizeof(path), "%s/federation.conf", dir);
	nc_write_file(
	        path,
	        "name = \"filters-test\";\n"
	        "clients = [\"127.0.0.1\"];\n"
	        "members = (\n"
	        "  { name = \"registry\"; role = \"registry\"; },\n"
	        "  { name = \"carrier-a\"; domains = [\"ims-a.example.\"];\n"
	        "    border = [\"ibcf.ims-a.example.\"]; },\n"
	        "  { name = \"carrier-b\"; domains = [\"ims-b.example.\"]; }\n"
	        ");\n"
	        "zones = (\n"
	        "  { apex = \"e164.fed.\"; member = \"registry\"; file = \"e164.fed.zone\"; },\n"
	        "  { apex = \"1.5.5.5.1.e164.fed.\"; member = \"carrier-a\"; file = "
	        "\"1.5.5.5.1.e164.fed.zone\"; },\n"
	        "  { apex = \"2.5.5.5.1.e164.fed.\"; member = \"carrier-b\"; file = "
	        "\"2.5.5.5.1.e164.fed.zone\"; },\n"
	        "  { apex = \"ims-a.example.\"; member = \"carrier-a\"; file = "
	        "\"ims-a.example.zone\"; }\n"
	        ");\n"
	        "views = (\n"
	        "  { name = \"scscf-a\"; member = \"carrier-a\"; clients = [\"127.0.0.2\"]; },\n"
	        "  { name = \"scscf-b\"; member = \"carrier-b\"; clients = [\"127.0.0.3\"];\n"
	        "    foreign-proofs = false; },\n"
	        "  { name = \"scscf-k\"; member = \"carrier-b\"; clients = [\"127.0.0.4\"];\n"
	        "    tsig-keys = [\"" KEY_NAME "\"]; }\n"
	        ");\n"
	        "policy = { outside = \"refused\"; };\n");
	snprintf(path, sizeof(path), "%s/view.key", dir);
	nc_write_file(path, "key \"%s\" {\n\talgorithm hmac-sha256;\n\tsecret \"%s\";\n};\n",
	              KEY_NAME, KEY_SECRET);
	snprintf(path, sizeof(path), "%s/fedenumd.conf", dir);
	metrics_port = fe_test_free_port();
	nc_write_file(path,
	              "federation = \"federation.conf\";\n"
	              "server: { view-tsig-keys = [\"%s/view.key\"]; };\n"
	              "metrics: { listen = \"127.0.0.1@%u\"; };\n"
	              "log: { level = \"info\"; };\n",
	              dir, metrics_port);
	nc_start_config(&d, dir, NULL);
}

/* What one answer holds. */
struct got {
	unsigned rcode, ancount, nscount;
	bool ad;
	int ede;
	unsigned naptr, rrsig, nsec, a, srv;
	char regexp[4][256];
	size_t len;
};

static void skip_name(const uint8_t *m, size_t *p)
{
	while (m[*p] && (m[*p] & 0xC0) != 0xC0)
		*p += 1u + m[*p];
	*p += m[*p] ? 2 : 1;
}

static struct got parse(const uint8_t *a, size_t r)
{
	struct got g = {.rcode = a[3] & 0xF, .ad = a[3] & 0x20, .ede = -1, .len = r};
	g.ancount = (unsigned)(a[6] << 8 | a[7]);
	g.nscount = (unsigned)(a[8] << 8 | a[9]);
	unsigned total = g.ancount + g.nscount + (unsigned)(a[10] << 8 | a[11]);
	size_t p = 12;
	skip_name(a, &p);
	p += 4;
	for (unsigned i = 0; i < total && p < r; i++) {
		skip_name(a, &p);
		uint16_t t = (uint16_t)(a[p] << 8 | a[p + 1]);
		uint16_t rdlen = (uint16_t)(a[p + 8] << 8 | a[p + 9]);
		const uint8_t *rd = a + p + 10;
		if (t == LDNS_RR_TYPE_NAPTR && g.naptr < 4) {
			size_t o = 4 + 1 + rd[4];
			o += 1u + rd[o];
			memcpy(g.regexp[g.naptr], rd + o + 1, rd[o]);
		}
		g.naptr += t == LDNS_RR_TYPE_NAPTR;
		g.rrsig += t == LDNS_RR_TYPE_RRSIG;
		g.nsec += t == LDNS_RR_TYPE_NSEC || t == LDNS_RR_TYPE_NSEC3 ||
		          (t == LDNS_RR_TYPE_RRSIG && (rd[0] << 8 | rd[1]) == LDNS_RR_TYPE_NSEC);
		g.a += t == LDNS_RR_TYPE_A;
		g.srv += t == LDNS_RR_TYPE_SRV;
		for (size_t o = 0; t == LDNS_RR_TYPE_OPT && o + 4 <= rdlen;) {
			uint16_t code = (uint16_t)(rd[o] << 8 | rd[o + 1]);
			uint16_t ol = (uint16_t)(rd[o + 2] << 8 | rd[o + 3]);
			if (code == 15)
				g.ede = rd[o + 4] << 8 | rd[o + 5];
			o += 4u + ol;
		}
		p += 10u + rdlen;
	}
	return g;
}

/* One query from @src, EDNS with DO=@dnssec. */
static struct got ask(const char *src, const char *name, uint16_t type, bool dnssec)
{
	uint8_t q[512], a[4096];
	size_t n = fe_test_make_query(name, type, dnssec ? FE_TQ_DO : 0, 4096, q, sizeof(q));
	cr_assert_gt(n, 0);
	return parse(a, nc_udp_from(&d, src, q, n, a, sizeof(a)));
}

/* docs/security.md Z7: a zone with one bad NAPTR is served without it, and reports it. */
Test(policy_filters, naptr_lint_serves_the_rest_and_reports_the_bad_one)
{
	setup();
	struct got g = ask("127.0.0.2", NUM_LINT, LDNS_RR_TYPE_NAPTR, true);
	cr_assert_eq(g.rcode, 0);
	cr_assert_eq(g.naptr, 1, "only the good NAPTR");
	cr_assert_str_eq(g.regexp[0], "!^.*$!sip:+15551235@ims-a.example!");
	cr_assert_eq(g.rrsig, 0, "the RRSIG does not cover what is left");
	cr_assert_not(g.ad);
	cr_assert_eq(g.ede, 17);
	/* the node next to it is untouched: signed, both records (its own view) */
	g = ask("127.0.0.2", NUM_A, LDNS_RR_TYPE_NAPTR, true);
	cr_assert_eq(g.naptr, 2);
	cr_assert_eq(g.rrsig, 1, "rrsig %u naptr %u ad %d ede %d len %zu", g.rrsig, g.naptr, g.ad,
	             g.ede, g.len);
	cr_assert_eq(g.ede, -1);
	cr_assert_geq(fe_test_daemon_log_count(&d, "1 NAPTR records fail the lint"), 1);
	char out[8192], args[1024];
	snprintf(args, sizeof(args), "zone show 1.5.5.5.1.e164.fed. --socket '%s/control.sock'",
	         d.dir);
	cr_assert_eq(nc_ctl(dir, args, out, sizeof(out)), 0, "%s", out);
	cr_assert(strstr(out, "NAPTR lint:    1 records not served") != NULL, "%s", out);
	cr_assert(strstr(out, "5.3.2.1.1.5.5.5.1.e164.fed.") != NULL, "%s", out);
	cr_assert(strstr(out, "unbalanced parenthesis") != NULL, "%s", out);
	cr_assert_eq(fe_test_sh("curl -s http://127.0.0.1:%u/metrics | grep -q "
	                        "'^fedenum_zone_naptr_not_served{zone=\"1.5.5.5.1.e164.fed.\"} 1$'",
	                        metrics_port),
	             0, "the metric");
	snprintf(args, sizeof(args), "zone list --socket '%s/control.sock'", d.dir);
	cr_assert_eq(nc_ctl(dir, args, out, sizeof(out)), 0, "%s", out);
	cr_assert(strstr(out, "1 NAPTR not served (lint)") != NULL, "%s", out);
}

/* P- enumservices: the owning member's view only; others get the RRset without them. */
Test(policy_filters, private_enumservice_only_to_the_owning_member)
{
	setup();
	struct got g = ask("127.0.0.2", NUM_A, LDNS_RR_TYPE_NAPTR, true);
	cr_assert_eq(g.naptr, 2, "carrier A's own view sees its P-ims record");
	cr_assert_eq(g.ede, -1);
	g = ask("127.0.0.3", NUM_A, LDNS_RR_TYPE_NAPTR, true);
	cr_assert_eq(g.rcode, 0);
	cr_assert_eq(g.naptr, 1, "carrier B's view: without the P- record");
	cr_assert_str_eq(g.regexp[0], "!^.*$!sip:+15551234@ims-a.example;user=phone!");
	cr_assert_eq(g.rrsig, 0);
	cr_assert_not(g.ad);
	cr_assert_eq(g.ede, 17);
	cr_assert_geq(nc_policy_counter(&d, "filtered"), 1);
}

/* THIG: other members see carrier A's border names and SRV, never its internal hosts. */
Test(policy_filters, topology_hiding_for_other_members)
{
	setup();
	struct got g = ask("127.0.0.3", "ibcf.ims-a.example.", LDNS_RR_TYPE_A, false);
	cr_assert_eq(g.rcode, 0);
	cr_assert_eq(g.a, 1, "the border element");
	g = ask("127.0.0.3", "_sip._udp.ims-a.example.", LDNS_RR_TYPE_SRV, false);
	cr_assert_eq(g.srv, 1);
	g = ask("127.0.0.3", "ims-a.example.", LDNS_RR_TYPE_NAPTR, false);
	cr_assert_eq(g.naptr, 1, "the entry-point domain");
	/* internal, existing or not: the same REFUSED, nothing told */
	const char *hidden[] = {"scscf.ims-a.example.", "hss.ims-a.example.",
	                        "nothere.ims-a.example."};
	for (size_t i = 0; i < 3; i++) {
		g = ask("127.0.0.3", hidden[i], LDNS_RR_TYPE_A, false);
		cr_assert_eq(g.rcode, 5, "%s", hidden[i]);
		cr_assert_eq(g.ancount, 0);
		cr_assert_eq(g.ede, 17);
	}
	/* carrier A's own view sees everything */
	g = ask("127.0.0.2", "scscf.ims-a.example.", LDNS_RR_TYPE_A, false);
	cr_assert_eq(g.rcode, 0);
	cr_assert_eq(g.a, 1);
	cr_assert_geq(nc_policy_counter(&d, "hidden"), 3);
}

/* NSEC that would let a view walk a member's zone: withheld from other members' views. */
Test(policy_filters, nsec_withheld_from_other_members)
{
	setup();
	/* under a border member's domain: never to other members */
	struct got g = ask("127.0.0.2", "_sip._tcp.ims-a.example.", LDNS_RR_TYPE_SRV, true);
	cr_assert_eq(g.rcode, 3);
	cr_assert_gt(g.nsec, 0, "the owner view gets its proofs: ns %u rrsig %u", g.nscount,
	             g.rrsig);
	g = ask("127.0.0.3", "_sip._tcp.ims-a.example.", LDNS_RR_TYPE_SRV, true);
	cr_assert_eq(g.rcode, 3);
	cr_assert_eq(g.nsec, 0, "no NSEC to another member");
	cr_assert_gt(g.nscount, 0, "the SOA stays");
	cr_assert_not(g.ad);
	cr_assert_eq(g.ede, 17);
	/* an ENUM zone: withheld from a view with foreign-proofs = false */
	g = ask("127.0.0.2", "9.9.9.9.1.5.5.5.1.e164.fed.", LDNS_RR_TYPE_NAPTR, true);
	cr_assert_eq(g.rcode, 3);
	cr_assert_gt(g.nsec, 0);
	g = ask("127.0.0.3", "9.9.9.9.1.5.5.5.1.e164.fed.", LDNS_RR_TYPE_NAPTR, true);
	cr_assert_eq(g.rcode, 3);
	cr_assert_eq(g.nsec, 0);
	/* asking for the NSEC itself does not get round it */
	g = ask("127.0.0.3", "4.3.2.1.1.5.5.5.1.e164.fed.", LDNS_RR_TYPE_NSEC, true);
	cr_assert_eq(g.nsec, 0);
}

/* View keys: the query's TSIG verified (RFC 8945), errors as the RFC says, the answer
 * signed; a key name alone never selects the view. */
Test(policy_filters, view_tsig_key_verified)
{
	setup();
	char out[600];
	snprintf(out, sizeof(out), "%s/kdig.out", dir);
	/* good key: answered for carrier B's view, signed (kdig checks the TSIG) */
	cr_assert_eq(fe_test_sh("kdig @127.0.0.1 -p %u -b 127.0.0.4 +timeout=5 +retry=0 "
	                        "-y hmac-sha256:%s:%s " NUM_B " NAPTR > '%s' 2>&1",
	                        d.port, KEY_NAME, KEY_SECRET, out),
	             0);
	cr_assert_eq(fe_test_sh("grep -q 'status: NOERROR' '%s' && grep -q 'ims-b.example' '%s' "
	                        "&& grep -q 'TSIG' '%s' && ! grep -q ';; ERROR\\|;; WARNING' '%s'",
	                        out, out, out, out),
	             0, "verified, answered, signed");
	/* the same with a key file (kdig -k: the -y form in a file) */
	cr_assert_eq(
	        fe_test_sh("echo 'hmac-sha256:%s:%s' > '%s/kdig.key'", KEY_NAME, KEY_SECRET, dir),
	        0);
	cr_assert_eq(fe_test_sh("kdig @127.0.0.1 -p %u -b 127.0.0.4 +timeout=5 +retry=0 -k "
	                        "'%s/kdig.key' " NUM_B " NAPTR > '%s' 2>&1 && grep -q "
	                        "'ims-b.example' '%s' && ! grep -q ';; ERROR\\|;; WARNING' '%s'",
	                        d.port, dir, out, out, out),
	             0, "kdig -k");
	/* the right name, a wrong secret: BADSIG, no view */
	fe_test_sh("kdig @127.0.0.1 -p %u -b 127.0.0.4 +timeout=5 +retry=0 -y "
	           "hmac-sha256:%s:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= " NUM_B
	           " NAPTR > '%s' 2>&1",
	           d.port, KEY_NAME, out);
	cr_assert_eq(fe_test_sh("grep -q 'status: BADSIG' '%s' && grep -q 'TSIG.* BADSIG' '%s' && "
	                        "! grep -q "
	                        "'ims-b.example' '%s'",
	                        out, out, out),
	             0, "BADSIG");
	/* a key the node does not have: BADKEY */
	fe_test_sh("kdig @127.0.0.1 -p %u -b 127.0.0.4 +timeout=5 +retry=0 -y "
	           "hmac-sha256:other-key.:%s " NUM_B " NAPTR > '%s' 2>&1",
	           d.port, KEY_SECRET, out);
	cr_assert_eq(fe_test_sh("grep -q 'status: BADKEY' '%s' && grep -q 'TSIG.* BADKEY' '%s'",
	                        out, out),
	             0, "BADKEY");
	/* unsigned from the key's address: no view (the key is required) */
	struct got g = ask("127.0.0.4", NUM_B, LDNS_RR_TYPE_NAPTR, false);
	cr_assert_eq(g.rcode, 5);
	cr_assert_eq(g.naptr, 0);
	/* a time outside the fudge: BADTIME, signed with the key */
	struct fe_tsig_key *key = NULL;
	cr_assert_eq(fe_tsig_key_from_string("hmac-sha256:" KEY_NAME ":" KEY_SECRET, &key), FE_OK);
	uint8_t q[1024], a[4096], mac[FE_TSIG_MAC_MAX];
	size_t n = fe_test_make_query(NUM_B, LDNS_RR_TYPE_NAPTR, 0, 1232, q, sizeof(q)), mac_len;
	struct fe_tsig_sign_opts so;
	fe_tsig_sign_opts_init(&so);
	so.time_signed = (int64_t)time(NULL) - 3600;
	cr_assert_eq(fe_tsig_sign(q, &n, sizeof(q), key, NULL, 0, &so, mac, &mac_len), FE_OK);
	size_t r = nc_udp_from(&d, "127.0.0.4", q, n, a, sizeof(a));
	cr_assert_eq(a[3] & 0xF, 9, "NOTAUTH");
	struct fe_tsig_result res;
	int rc = fe_tsig_verify_response(a, r, key, mac, mac_len, &res);
	cr_assert_eq(rc, FE_EPERM);
	cr_assert(res.mac_ok, "the BADTIME answer is signed");
	cr_assert_eq(res.rr_error, FE_TSIG_BADTIME);
	/* and a verified query from the C side: answer signed over the request MAC */
	n = fe_test_make_query(NUM_B, LDNS_RR_TYPE_NAPTR, 0, 1232, q, sizeof(q));
	cr_assert_eq(fe_tsig_sign(q, &n, sizeof(q), key, NULL, 0, NULL, mac, &mac_len), FE_OK);
	r = nc_udp_from(&d, "127.0.0.4", q, n, a, sizeof(a));
	cr_assert_eq(fe_tsig_verify_response(a, r, key, mac, mac_len, &res), FE_OK);
	cr_assert_eq(a[3] & 0xF, 0);
	/* the same message again: a replay, refused */
	r = nc_udp_from(&d, "127.0.0.4", q, n, a, sizeof(a));
	cr_assert_eq(a[3] & 0xF, 9, "a replayed query gets NOTAUTH");
	fe_tsig_key_destroy(key);
	cr_assert_geq(nc_policy_counter(&d, "tsig-verified"), 2);
	cr_assert_geq(nc_policy_counter(&d, "tsig-failed"), 4);
}

/* The view keys are read again on SIGHUP: a new secret replaces the old one at once. */
#define KEY_SECRET2 "bmV3LXNjc2NmLWtleS1zZWNyZXQtZm9yLXRlc3RzLTQ1Ng=="

Test(policy_filters, view_keys_replaced_on_reload)
{
	setup();
	char out[600], path[512];
	snprintf(out, sizeof(out), "%s/kdig.out", dir);
	snprintf(path, sizeof(path), "%s/view.key", dir);
	nc_write_file(path, "key \"%s\" {\n\talgorithm hmac-sha256;\n\tsecret \"%s\";\n};\n",
	              KEY_NAME, KEY_SECRET2);
	nc_reload(&d);
	cr_assert_geq(fe_test_daemon_log_count(&d, "reload: policy replaced"), 1);
	fe_test_sh(
	        "kdig @127.0.0.1 -p %u -b 127.0.0.4 +timeout=5 +retry=0 -y hmac-sha256:%s:%s " NUM_B
	        " NAPTR > '%s' 2>&1",
	        d.port, KEY_NAME, KEY_SECRET, out);
	cr_assert_eq(fe_test_sh("grep -q 'status: BADSIG' '%s'", out), 0, "the old secret");
	cr_assert_eq(fe_test_sh("kdig @127.0.0.1 -p %u -b 127.0.0.4 +timeout=5 +retry=0 "
	                        "-y hmac-sha256:%s:%s " NUM_B " NAPTR > '%s' 2>&1 && grep -q "
	                        "'ims-b.example' '%s' && ! grep -q ';; ERROR\\|;; WARNING' '%s'",
	                        d.port, KEY_NAME, KEY_SECRET2, out, out, out),
	             0, "the new secret");
	/* a key file that no longer parses: the reload is refused, the running keys stay */
	nc_write_file(path, "key \"%s\" { algorithm hmac-md5; secret \"AAAA\"; };\n", KEY_NAME);
	nc_reload(&d);
	cr_assert_geq(fe_test_daemon_log_count(&d, "server.view-tsig-keys:"), 1);
	cr_assert_eq(fe_test_sh("kdig @127.0.0.1 -p %u -b 127.0.0.4 +timeout=5 +retry=0 "
	                        "-y hmac-sha256:%s:%s " NUM_B " NAPTR > '%s' 2>&1 && grep -q "
	                        "'ims-b.example' '%s'",
	                        d.port, KEY_NAME, KEY_SECRET2, out, out),
	             0, "the running keys stay");
}
