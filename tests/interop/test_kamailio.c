/* A real S-CSCF against fedenumd with the policy engine: Kamailio (enum module, enum_query())
 * and sipp, all inside a private mount, network and PID namespace (kamailio-netns.sh beside
 * this file) where fedenumd is the only name server (/etc/resolv.conf bind-mounted, port 53 of
 * 127.0.0.1). A sipp UAC calls numbers through Kamailio:
 *  - federation numbers of carrier A and carrier B reach each member's entry point, found by
 *    Kamailio's own RFC 3263 resolution of the NAPTR target domain (NAPTR → SRV → A);
 *  - numbers with no valid route (not-found, no-delegation, pstn-only) reach the BGCF of
 *    policy.bgcf through the synthesized NAPTR, Kamailio having no fallback of its own.
 * Every call is checked from what the sipp UAS on the receiving side logged (the INVITE and
 * its Request-URI): a call at the wrong UAS, or a missing one, fails the test. kdig in the
 * namespace (with its resolv.conf) sees the NAPTR, SRV and A answers.
 * Two federations: a small unsigned one whose entry points make each step of RFC 3263 needed
 * (the SRV owner is named only by the NAPTR, the port only by the SRV), run with the bgcf rule
 * and without it (the control: no BGCF without the policy); and the demo federation, signed
 * and validated against its trust anchors, its entry points' documentation addresses put on
 * the namespace's loopback. */
#include <criterion/criterion.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../integration/net_common.h" /* nc_write_file */
#include "fe_test.h"

static char dir[256];

static void cleanup(void)
{
	/* FE_TEST_KEEP=1 keeps the run's folder (logs, sipp message traces) to look at */
	if (dir[0] && !getenv("FE_TEST_KEEP"))
		fe_test_rmdir(dir);
	else if (dir[0])
		fprintf(stderr, "kamailio: run folder kept: %s\n", dir);
	dir[0] = '\0';
}

TestSuite(kamailio, .fini = cleanup, .timeout = 130);

/* Write the file @name in the run's folder. */
static void put(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(const char *name, const char *fmt, ...)
{
	char path[512], body[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	cr_assert(n > 0 && (size_t)n < sizeof(body), "%s: too long", name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	nc_write_file(path, "%s", body);
}

#define SOA(apex)                                                                                  \
	"$TTL 300\n" apex " IN SOA ns1.e164.fed. hostmaster.e164.fed. 1 3600 600 86400 300\n" apex \
	" IN NS ns1.e164.fed.\n"

/* A member's entry point (RFC 3263): the domain's NAPTR names an SRV owner that nothing else
 * leads to, the SRV gives the port its UAS listens on and the host whose A is the UAS's
 * address. */
#define ENTRY(dom, port, addr)                                                  \
	SOA(dom ".")                                                            \
	dom ". IN NAPTR 10 10 \"s\" \"SIP+D2U\" \"\" _sip._udp.edge." dom ".\n" \
	    "_sip._udp.edge." dom ". IN SRV 10 10 " port " sbc1." dom ".\n"     \
	    "sbc1." dom ". IN A " addr "\n"

/* The namespace's fixed addresses (private to the run): fedenumd 127.0.0.1:53, Kamailio
 * 127.0.0.2:5060, the UAC 127.0.0.30:5090, the BGCF's UAS 127.0.0.20:5080. */
#define BGCF    "127.0.0.20:5080"
#define ROUNDS  4
#define MSG_MAX 64

/* One dialled number: the UAS group that must receive its calls ("a" holds UAS a, a1, a2...)
 * and the Request-URI they must arrive with. */
struct call {
	const char *number;
	const char *group;
	const char *ruri;
};

/* A federation to run: its calls, its UAS (names as in uas.list). */
struct net {
	const struct call *plan;
	size_t ncalls;
	const char *const *uas;
	size_t nuas;
};

static const struct call small_plan[] = {
        {"+15551000001", "a", "sip:+15551000001@ims-a.example;user=phone"},
        {"+15551000002", "a", "sip:+15551000002@ims-a.example;user=phone"},
        {"+15552000001", "b", "sip:+15552000001@ims-b.example;user=phone"},
        /* carrier A's range, no such number: not-found → bgcf */
        {"+15551000099", "bgcf", "sip:+15551000099@" BGCF ";user=phone"},
        /* no member is delegated +15559: no-delegation → bgcf */
        {"+15559000001", "bgcf", "sip:+15559000001@" BGCF ";user=phone"},
};
static const char *const small_uas[] = {"a", "b", "bgcf"};
static const struct net small = {small_plan, sizeof(small_plan) / sizeof(small_plan[0]), small_uas,
                                 sizeof(small_uas) / sizeof(small_uas[0])};

/* The demo federation (docs/federation.md "Numbers", "Entry points"). */
static const struct call demo_plan[] = {
        {"+15551000001", "a", "sip:+15551000001@ims-a.example;user=phone"},
        /* E2U+sip preferred over its E2U+pstn:tel fallback */
        {"+15551000007", "a", "sip:+15551000007@ims-a.example;user=phone"},
        {"+15552000001", "b", "sip:+15552000001@ims-b.example;user=phone"},
        /* ported out: only E2U+pstn:tel, pstn-only → bgcf */
        {"+15551000002", "bgcf", "sip:+15551000002@" BGCF ";user=phone"},
        /* not assigned in carrier A's zone: not-found → bgcf */
        {"+15551000301", "bgcf", "sip:+15551000301@" BGCF ";user=phone"},
        /* not delegated by the registry: no-delegation → bgcf */
        {"+15553000001", "bgcf", "sip:+15553000001@" BGCF ";user=phone"},
};
/* sbc1 and sbc2 of each entry point share priority 10 of _sip._udp (weights 60/40): a call
 * may reach either; sbc3 (priority 20) only if both failed. */
static const char *const demo_uas[] = {"a1", "a2", "b1", "b2", "bgcf"};
static const struct net demo = {demo_plan, sizeof(demo_plan) / sizeof(demo_plan[0]), demo_uas,
                                sizeof(demo_uas) / sizeof(demo_uas[0])};

#define BGCF_CAUSES(causes)                                                            \
	"{ causes = [" causes "]; action = \"bgcf\"; prefixes = [\"+1555\"]; views = " \
	"[\"scscf-a\"]; }"

/* Kamailio's resolver asks from 127.0.0.1: the view of carrier A's S-CSCF. */
#define VIEW_AND_POLICY                                                                         \
	"views = ( { name = \"scscf-a\"; member = \"carrier-a\"; clients = [\"127.0.0.1\"]; } " \
	");\n"                                                                                  \
	"policy = {\n"                                                                          \
	"  bgcf = \"sip:" BGCF "\";\n"                                                          \
	"  outside = \"refused\";\n"                                                            \
	"  rules = ( %s );\n"                                                                   \
	"};\n"

static void write_common(const struct net *n)
{
	put("fedenumd.conf", "federation = \"federation.conf\";\n"
	                     "server: { workers = 1; };\n"
	                     "log: { level = \"info\"; };\n");
	char csv[512] = "SEQUENTIAL\n";
	for (size_t i = 0; i < n->ncalls; i++) {
		strcat(csv, n->plan[i].number);
		strcat(csv, ";\n");
	}
	put("numbers.csv", "%s", csv);
}

/* The small unsigned federation; @rules: the body of policy.rules. */
static void write_small(const char *rules)
{
	put("e164.fed.zone", SOA("e164.fed.") "ns1.e164.fed. IN A 127.0.0.1\n"
	                                      "1.5.5.5.1.e164.fed. IN NS ns1.e164.fed.\n"
	                                      "2.5.5.5.1.e164.fed. IN NS ns1.e164.fed.\n");
	put("a.zone",
	    SOA("1.5.5.5.1.e164.fed.") "$ORIGIN 1.5.5.5.1.e164.fed.\n"
	                               "1.0.0.0.0.0 IN NAPTR 10 100 \"u\" \"E2U+sip\" "
	                               "\"!^.*$!sip:+15551000001@ims-a.example;user=phone!\" .\n"
	                               "2.0.0.0.0.0 IN NAPTR 10 100 \"u\" \"E2U+sip\" "
	                               "\"!^.*$!sip:+15551000002@ims-a.example;user=phone!\" .\n");
	put("b.zone",
	    SOA("2.5.5.5.1.e164.fed.") "$ORIGIN 2.5.5.5.1.e164.fed.\n"
	                               "1.0.0.0.0.0 IN NAPTR 10 100 \"u\" \"E2U+sip\" "
	                               "\"!^.*$!sip:+15552000001@ims-b.example;user=phone!\" .\n");
	put("ims-a.zone", ENTRY("ims-a.example", "5071", "127.0.0.10"));
	put("ims-b.zone", ENTRY("ims-b.example", "5072", "127.0.0.11"));
	put("federation.conf",
	    "name = \"kamailio-test\";\n"
	    "members = (\n"
	    "  { name = \"registry\"; role = \"registry\"; },\n"
	    "  { name = \"carrier-a\"; domains = [\"ims-a.example.\"]; },\n"
	    "  { name = \"carrier-b\"; domains = [\"ims-b.example.\"]; }\n"
	    ");\n"
	    "zones = (\n"
	    "  { apex = \"e164.fed.\"; member = \"registry\"; file = \"e164.fed.zone\"; },\n"
	    "  { apex = \"1.5.5.5.1.e164.fed.\"; member = \"carrier-a\"; file = \"a.zone\"; },\n"
	    "  { apex = \"2.5.5.5.1.e164.fed.\"; member = \"carrier-b\"; file = \"b.zone\"; },\n"
	    "  { apex = \"ims-a.example.\"; member = \"carrier-a\"; file = \"ims-a.zone\"; },\n"
	    "  { apex = \"ims-b.example.\"; member = \"carrier-b\"; file = \"ims-b.zone\"; }\n"
	    ");\n" VIEW_AND_POLICY,
	    rules);
	put("uas.list", "a 127.0.0.10 5071\nb 127.0.0.11 5072\nbgcf 127.0.0.20 5080\n");
	put("kdig.list", "1.0.0.0.0.0.1.5.5.5.1.e164.fed. NAPTR\n"
	                 "ims-a.example. NAPTR\n"
	                 "_sip._udp.edge.ims-a.example. SRV\n"
	                 "sbc1.ims-a.example. A\n"
	                 "9.9.0.0.0.0.1.5.5.5.1.e164.fed. NAPTR\n"
	                 "1.0.0.0.0.0.9.5.5.5.1.e164.fed. NAPTR\n");
	write_common(&small);
}

/* The demo federation's signed zones and trust anchors (federation/, zones/), with a view and
 * the policy added. */
static void write_demo(void)
{
	static const char *const zones[][2] = {{"e164.fed", "registry"},
	                                       {"1.5.5.5.1.e164.fed", "carrier-a"},
	                                       {"2.5.5.5.1.e164.fed", "carrier-b"},
	                                       {"ims-a.example", "carrier-a"},
	                                       {"ims-b.example", "carrier-b"}};
	char list[2048] = "", one[400];
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		snprintf(one, sizeof(one),
		         "%s  { apex = \"%s.\"; member = \"%s\"; file = "
		         "\"%s/zones/%s/%s.zone.signed\"; }",
		         i ? ",\n" : "", zones[i][0], zones[i][1], FE_TEST_SRC, zones[i][0],
		         zones[i][0]);
		strcat(list, one);
	}
	const char *keys = FE_TEST_SRC "/federation/keys";
	put("federation.conf",
	    "name = \"kamailio-demo\";\n"
	    "trust-anchors = [\"%s/e164.fed.ds\", \"%s/ims-a.example.ds\", "
	    "\"%s/ims-b.example.ds\"];\n"
	    "members = (\n"
	    "  { name = \"registry\"; role = \"registry\"; },\n"
	    "  { name = \"carrier-a\"; prefixes = [\"+15551\"]; domains = [\"ims-a.example.\"]; "
	    "},\n"
	    "  { name = \"carrier-b\"; prefixes = [\"+15552\"]; domains = [\"ims-b.example.\"]; }\n"
	    ");\n"
	    "zones = (\n%s\n);\n" VIEW_AND_POLICY,
	    keys, keys, keys, list, BGCF_CAUSES("\"not-found\", \"no-delegation\", \"pstn-only\""));
	put("uas.list", "a1 192.0.2.11 5060\na2 192.0.2.12 5060\n"
	                "b1 198.51.100.11 5060\nb2 198.51.100.12 5060\n"
	                "bgcf 127.0.0.20 5080\n");
	put("kdig.list", "1.0.0.0.0.0.1.5.5.5.1.e164.fed. NAPTR\n"
	                 "_sip._udp.ims-a.example. SRV\n"
	                 "sbc1.ims-a.example. A\n"
	                 "2.0.0.0.0.0.1.5.5.5.1.e164.fed. NAPTR\n");
	write_common(&demo);
}

/* The INVITEs a sipp UAS logged as received: Request-URI per distinct Call-ID (a
 * retransmitted INVITE counts once). Returns how many. */
struct invite {
	char ruri[160];
	char callid[160];
};

static size_t read_invites(const char *uas, struct invite *out, size_t cap)
{
	char path[512], line[1024];
	snprintf(path, sizeof(path), "%s/uas-%s.msg", dir, uas);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0; /* no message at all: the UAS got nothing */
	size_t n = 0;
	bool received = false, in_invite = false;
	struct invite cur;
	memset(&cur, 0, sizeof(cur));
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (strstr(line, "message received")) {
			received = true;
			in_invite = false;
		} else if (strstr(line, "message sent")) {
			received = false;
			in_invite = false;
		} else if (received && strncmp(line, "INVITE ", 7) == 0) {
			in_invite = true;
			memset(&cur, 0, sizeof(cur));
			const char *sp = strchr(line + 7, ' ');
			size_t l = sp ? (size_t)(sp - (line + 7)) : strlen(line + 7);
			cr_assert_lt(l, sizeof(cur.ruri), "Request-URI too long in %s", path);
			memcpy(cur.ruri, line + 7, l);
		} else if (in_invite && (strncasecmp(line, "Call-ID:", 8) == 0)) {
			in_invite = false;
			snprintf(cur.callid, sizeof(cur.callid), "%s", line + 8 + (line[8] == ' '));
			bool seen = false;
			for (size_t i = 0; i < n; i++)
				seen |= strcmp(out[i].callid, cur.callid) == 0;
			if (!seen) {
				cr_assert_lt(n, cap, "more INVITEs than calls at %s", uas);
				out[n++] = cur;
			}
		}
	}
	fclose(f);
	return n;
}

/* Lines of @file in the run's folder containing @needle (-1: no such file). */
static int count_lines(const char *file, const char *needle)
{
	char path[512], line[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int n = 0;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

/* Counter @name ("not-found/bgcf") from fedenumd's policy counters at exit. */
static long long policy_counter(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/fedenumd.log", dir);
	long long v = fe_test_log_counter(path, "counters (exit) policy: ", name);
	cr_assert_geq(v, 0, "no policy counter %s at exit in %s", name, path);
	return v;
}

static void dump(const char *file)
{
	fprintf(stderr, "---- %s ----\n", file);
	fe_test_sh("tail -n 40 '%s/%s' >&2", dir, file);
}

/* The number in the file @name of the run's folder; -1 when it is missing or holds none. */
static long long read_number(const char *name)
{
	long long v = -1;
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%lld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* Run the namespace (kamailio-netns.sh) over the files in dir, ROUNDS calls per number of
 * @n; returns its time in ms. */
static long long run_namespace(const struct net *n)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = fe_test_sh(
	        "timeout -s KILL 120 unshare -m -n -p -f --kill-child --mount-proc "
	        "'%s/tests/interop/kamailio-netns.sh' '%s' '%s' %zu > '%s/netns.log' 2>&1",
	        FE_TEST_SRC, dir, FE_TEST_FEDENUMD, n->ncalls * ROUNDS, dir);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc != 0) {
		dump("netns.log");
		dump("fedenumd.log");
		dump("kamailio.log");
	}
	cr_assert_eq(rc, 0, "the namespace did not come up (exit %d)", rc);
	long long fed = read_number("fedenumd.rc");
	if (fed != 0)
		dump("fedenumd.log");
	cr_assert_eq(fed, 0, "fedenumd exit status %lld", fed);
	return (t1.tv_sec - t0.tv_sec) * 1000LL + (t1.tv_nsec - t0.tv_nsec) / 1000000;
}

/* UAS @uas belongs to @group: "a" holds "a", "a1", "a2"... */
static bool in_group(const char *uas, const char *group)
{
	size_t l = strlen(group);
	return strncmp(uas, group, l) == 0 && (!uas[l] || (uas[l] >= '0' && uas[l] <= '9'));
}

/* Every UAS received only calls meant for its group, with the right Request-URI, and every
 * group exactly its calls; with @bgcf_rule false the calls planned for the BGCF must arrive
 * nowhere. Returns the calls received in all. */
static size_t check_uas(const struct net *n, bool bgcf_rule)
{
	struct invite got[MSG_MAX];
	size_t total = 0;
	for (size_t u = 0; u < n->nuas; u++) {
		size_t k = read_invites(n->uas[u], got, MSG_MAX);
		fprintf(stderr, "kamailio: UAS %s received %zu calls\n", n->uas[u], k);
		for (size_t j = 0; j < k; j++) {
			size_t i = 0;
			while (i < n->ncalls && strcmp(n->plan[i].ruri, got[j].ruri) != 0)
				i++;
			cr_assert_lt(i, n->ncalls, "UAS %s received an unexpected Request-URI %s",
			             n->uas[u], got[j].ruri);
			cr_assert(in_group(n->uas[u], n->plan[i].group),
			          "%s reached UAS %s, not UAS %s", got[j].ruri, n->uas[u],
			          n->plan[i].group);
		}
		total += k;
	}
	/* per group: the calls planned for it, all of them */
	for (size_t i = 0; i < n->ncalls; i++) {
		const char *g = n->plan[i].group;
		size_t want = 0, have = 0;
		for (size_t j = 0; j < n->ncalls; j++)
			if (strcmp(n->plan[j].group, g) == 0 && (bgcf_rule || strcmp(g, "bgcf")))
				want += ROUNDS;
		for (size_t u = 0; u < n->nuas; u++)
			if (in_group(n->uas[u], g))
				have += read_invites(n->uas[u], got, MSG_MAX);
		cr_assert_eq(have, want, "UAS group %s: %zu calls, expected %zu", g, have, want);
	}
	return total;
}

/* sipp's exit status for the UAC: 0 when every call completed, 1 when some failed. */
static long long uac_status(void)
{
	return read_number("uac.rc");
}

static long long uac_ms(void)
{
	return read_number("uac.ms");
}

static void expect_all_calls_completed(const struct net *n, long long run_ms, const char *what)
{
	long long rc = uac_status();
	if (rc != 0) {
		dump("uac.out");
		dump("kamailio.log");
	}
	cr_assert_eq(rc, 0, "sipp UAC: not every call completed (exit %lld)", rc);
	size_t total = check_uas(n, true);
	cr_assert_eq(total, n->ncalls * ROUNDS);
	fprintf(stderr,
	        "kamailio (%s): %zu calls placed, %zu received; UAC run %lld ms, whole namespace "
	        "run %lld ms\n",
	        what, n->ncalls * ROUNDS, total, uac_ms(), run_ms);
	cr_assert_eq(count_lines("kamailio.log", "no ENUM route"), 0);
	cr_assert_eq(policy_counter("no-view"), 0);
}

Test(kamailio, enum_calls_reach_members_and_bgcf)
{
	fe_test_mkdtemp(dir, sizeof(dir));
	write_small(BGCF_CAUSES("\"not-found\", \"no-delegation\""));
	long long run_ms = run_namespace(&small);

	/* kdig, through the namespace's resolv.conf: NAPTR → SRV → A, and the BGCF NAPTR */
	cr_assert_eq(count_lines("kdig.out", "sip:+15551000001@ims-a.example;user=phone"), 1,
	             "kdig: carrier A's number NAPTR");
	cr_assert_eq(count_lines("kdig.out", "\"SIP+D2U\" \"\" _sip._udp.edge.ims-a.example."), 1,
	             "kdig: entry-point NAPTR");
	cr_assert_eq(count_lines("kdig.out", "SRV\t10 10 5071 sbc1.ims-a.example."), 1,
	             "kdig: entry-point SRV");
	cr_assert_eq(count_lines("kdig.out", "A\t127.0.0.10"), 1, "kdig: entry-point A");
	cr_assert_eq(count_lines("kdig.out", "!^(.*)$!sip:\\\\1@" BGCF ";user=phone!"), 2,
	             "kdig: BGCF NAPTR for not-found and no-delegation");
	cr_assert_eq(count_lines("kdig.out", "federation policy: not-found (bgcf)"), 1);
	cr_assert_eq(count_lines("kdig.out", "federation policy: no-delegation (bgcf)"), 1);

	expect_all_calls_completed(&small, run_ms, "small federation");

	/* fedenumd decided every lookup (its counters at exit): one per call and per kdig, more
	 * only if a resolver retried */
	cr_assert_geq(policy_counter("route/pass"), 3 * ROUNDS + 1);
	cr_assert_geq(policy_counter("not-found/bgcf"), ROUNDS + 1);
	cr_assert_geq(policy_counter("no-delegation/bgcf"), ROUNDS + 1);
}

/* The control: the same network with no bgcf rule (every cause passes). Kamailio has no
 * fallback of its own, so the numbers without a route are rejected (404) and reach no UAS:
 * the BGCF is reached only through the policy's NAPTR. The federation's calls still arrive. */
Test(kamailio, without_bgcf_rule_no_route_is_rejected)
{
	fe_test_mkdtemp(dir, sizeof(dir));
	write_small("");
	long long run_ms = run_namespace(&small);
	cr_assert_eq(count_lines("kdig.out", "@" BGCF), 0, "kdig: no BGCF NAPTR without the rule");
	cr_assert_eq(count_lines("kdig.out", "status: NXDOMAIN"), 2, "kdig: NXDOMAIN twice");
	cr_assert_eq(uac_status(), 1, "sipp UAC: the calls without a route must fail");
	size_t total = check_uas(&small, false);
	cr_assert_eq(total, 3 * ROUNDS);
	cr_assert_eq(count_lines("kamailio.log", "no ENUM route"), 2 * ROUNDS);
	cr_assert_geq(policy_counter("not-found/pass"), ROUNDS + 1);
	cr_assert_geq(policy_counter("no-delegation/pass"), ROUNDS + 1);
	fprintf(stderr,
	        "kamailio (no bgcf rule): %zu calls placed, %zu received, %d rejected by "
	        "Kamailio; UAC run %lld ms, whole namespace run %lld ms\n",
	        small.ncalls * ROUNDS, total, 2 * ROUNDS, uac_ms(), run_ms);
}

/* The demo federation, DNSSEC-signed and validated at load against its trust anchors: routes
 * come from validated zones (kdig with the AD bit asked gets AD=1 for them, never for the
 * synthesized BGCF NAPTR); the entry points' SRV and A records lead to the sipp UAS on the
 * documentation addresses (sbc1/sbc2); ported-out (pstn-only), unassigned (not-found) and
 * undelegated (no-delegation) numbers reach the BGCF. */
Test(kamailio, demo_federation_validated_routes)
{
	fe_test_mkdtemp(dir, sizeof(dir));
	write_demo();
	long long run_ms = run_namespace(&demo);
	cr_assert_eq(count_lines("fedenumd.log", " validated through the "), 5,
	             "the five demo zones validated");
	cr_assert_eq(count_lines("kdig.out", "sip:+15551000001@ims-a.example;user=phone"), 1);
	cr_assert_eq(count_lines("kdig.out", "SRV\t10 60 5060 sbc1.ims-a.example."), 1);
	cr_assert_eq(count_lines("kdig.out", "A\t192.0.2.11"), 1);
	cr_assert_eq(count_lines("kdig.out", "federation policy: pstn-only (bgcf)"), 1);
	cr_assert_eq(count_lines("kdig.out", " ad;"), 3, "AD=1 on the three validated answers");
	expect_all_calls_completed(&demo, run_ms, "demo federation");
	cr_assert_geq(policy_counter("route/pass"), 3 * ROUNDS + 1);
	cr_assert_geq(policy_counter("pstn-only/bgcf"), ROUNDS + 1);
	cr_assert_geq(policy_counter("not-found/bgcf"), ROUNDS);
	cr_assert_geq(policy_counter("no-delegation/bgcf"), ROUNDS);
}
