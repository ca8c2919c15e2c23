/* A real S-CSCF against fedenumd with the policy engine: Kamailio (enum module, enum_query())
 * and sipp, all inside a private mount, network and PID namespace (kamailio-netns.sh beside
 * this file) where fedenumd is the only name server (/etc/resolv.conf bind-mounted, port 53 of
 * 127.0.0.1). A sipp UAC calls numbers through Kamailio:
 *  - federation numbers of carrier A and carrier B reach each member's entry point, found by
 *    Kamailio's own RFC 3263 resolution of the NAPTR target domain (NAPTR → SRV → A; the SRV
 *    name is only reachable through the NAPTR and the port only through the SRV);
 *  - a number carrier A's zone does not hold (not-found) and one the registry delegates to no
 *    member (no-delegation) reach the BGCF of policy.bgcf through the synthesized NAPTR,
 *    Kamailio having no fallback of its own.
 * Every call is checked from what the sipp UAS on the receiving side logged (the INVITE and
 * its Request-URI): a call at the wrong UAS, or a missing one, fails the test. kdig in the
 * namespace (with its resolv.conf) sees the NAPTR, SRV and A answers. */
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
 * 127.0.0.2:5060, the UAC 127.0.0.30:5090. */
#define UAS_A   "127.0.0.10", "5071"
#define UAS_B   "127.0.0.11", "5072"
#define BGCF    "127.0.0.20:5080"
#define NUMBERS 5
#define ROUNDS  4
#define CALLS   (NUMBERS * ROUNDS)
#define MSG_MAX 64

static const struct {
	const char *number; /* dialled */
	const char *uas;    /* the UAS that must receive it */
	const char *ruri;   /* the Request-URI it must arrive with */
} plan[NUMBERS] = {
        {"+15551000001", "a", "sip:+15551000001@ims-a.example;user=phone"},
        {"+15551000002", "a", "sip:+15551000002@ims-a.example;user=phone"},
        {"+15552000001", "b", "sip:+15552000001@ims-b.example;user=phone"},
        /* carrier A's range, no such number: not-found → bgcf */
        {"+15551000099", "bgcf", "sip:+15551000099@" BGCF ";user=phone"},
        /* no member is delegated +15559: no-delegation → bgcf */
        {"+15559000001", "bgcf", "sip:+15559000001@" BGCF ";user=phone"},
};

/* @rules: the body of policy.rules. */
static void write_network(const char *rules)
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
	    ");\n"
	    "views = ( { name = \"scscf-a\"; member = \"carrier-a\"; clients = [\"127.0.0.1\"]; } "
	    ");\n"
	    "policy = {\n"
	    "  bgcf = \"sip:" BGCF "\";\n"
	    "  outside = \"refused\";\n"
	    "  rules = ( %s );\n"
	    "};\n",
	    rules);
	put("fedenumd.conf", "federation = \"federation.conf\";\n"
	                     "server: { workers = 1; };\n"
	                     "log: { level = \"info\"; };\n");
	put("uas.list", "a %s %s\nb %s %s\nbgcf 127.0.0.20 5080\n", UAS_A, UAS_B);
	put("kdig.list", "1.0.0.0.0.0.1.5.5.5.1.e164.fed. NAPTR\n"
	                 "ims-a.example. NAPTR\n"
	                 "_sip._udp.edge.ims-a.example. SRV\n"
	                 "sbc1.ims-a.example. A\n"
	                 "9.9.0.0.0.0.1.5.5.5.1.e164.fed. NAPTR\n"
	                 "1.0.0.0.0.0.9.5.5.5.1.e164.fed. NAPTR\n");
	char csv[512] = "SEQUENTIAL\n";
	for (int i = 0; i < NUMBERS; i++) {
		strcat(csv, plan[i].number);
		strcat(csv, ";\n");
	}
	put("numbers.csv", "%s", csv);
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

#define BGCF_RULE                                                            \
	"{ causes = [\"not-found\", \"no-delegation\"]; action = \"bgcf\"; " \
	"prefixes = [\"+1555\"]; views = [\"scscf-a\"]; }"

/* Run the namespace (kamailio-netns.sh) over the files in dir; returns its time in ms. */
static long long run_namespace(void)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = fe_test_sh(
	        "timeout -s KILL 120 unshare -m -n -p -f --kill-child --mount-proc "
	        "'%s/tests/interop/kamailio-netns.sh' '%s' '%s' %d > '%s/netns.log' 2>&1",
	        FE_TEST_SRC, dir, FE_TEST_FEDENUMD, CALLS, dir);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc != 0) {
		dump("netns.log");
		dump("fedenumd.log");
		dump("kamailio.log");
	}
	cr_assert_eq(rc, 0, "the namespace did not come up (exit %d)", rc);
	return (t1.tv_sec - t0.tv_sec) * 1000LL + (t1.tv_nsec - t0.tv_nsec) / 1000000;
}

/* Every UAS received exactly the calls meant for it, with the right Request-URI; with
 * @bgcf_rule false the calls planned for the BGCF must arrive nowhere. Returns the calls
 * received in all. */
static size_t check_uas(bool bgcf_rule)
{
	static const char *const uas[] = {"a", "b", "bgcf"};
	struct invite got[MSG_MAX];
	size_t total = 0;
	for (size_t u = 0; u < sizeof(uas) / sizeof(uas[0]); u++) {
		size_t n = read_invites(uas[u], got, MSG_MAX);
		size_t want = 0;
		for (int i = 0; i < NUMBERS; i++)
			if (strcmp(plan[i].uas, uas[u]) == 0 &&
			    (bgcf_rule || strcmp(uas[u], "bgcf")))
				want += ROUNDS;
		fprintf(stderr, "kamailio: UAS %s received %zu calls (expected %zu)\n", uas[u], n,
		        want);
		for (size_t k = 0; k < n; k++) {
			int i = 0;
			while (i < NUMBERS && strcmp(plan[i].ruri, got[k].ruri) != 0)
				i++;
			cr_assert_lt(i, NUMBERS, "UAS %s received an unexpected Request-URI %s",
			             uas[u], got[k].ruri);
			cr_assert_str_eq(plan[i].uas, uas[u], "%s reached UAS %s, not UAS %s",
			                 got[k].ruri, uas[u], plan[i].uas);
		}
		cr_assert_eq(n, want, "UAS %s: %zu calls, expected %zu", uas[u], n, want);
		total += n;
	}
	return total;
}

static long long uac_ms(void)
{
	long long ms = -1;
	char path[512];
	snprintf(path, sizeof(path), "%s/uac.ms", dir);
	FILE *f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%lld", &ms) != 1)
			ms = -1;
		fclose(f);
	}
	return ms;
}

Test(kamailio, enum_calls_reach_members_and_bgcf)
{
	fe_test_mkdtemp(dir, sizeof(dir));
	write_network(BGCF_RULE);
	long long run_ms = run_namespace();

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

	/* the UAC: every call completed */
	int uac_rc = fe_test_sh("exit $(cat '%s/uac.rc')", dir);
	if (uac_rc != 0) {
		dump("uac.out");
		dump("kamailio.log");
	}
	cr_assert_eq(uac_rc, 0, "sipp UAC: not every call completed (exit %d)", uac_rc);

	size_t total = check_uas(true);
	cr_assert_eq(total, CALLS);
	fprintf(stderr,
	        "kamailio: %d calls placed, %zu received; UAC run %lld ms, whole namespace run "
	        "%lld ms\n",
	        CALLS, total, uac_ms(), run_ms);

	/* fedenumd decided every lookup (its counters at exit): one per call and per kdig, more
	 * only if a resolver retried */
	cr_assert_geq(policy_counter("route/pass"), 3 * ROUNDS + 1);
	cr_assert_geq(policy_counter("not-found/bgcf"), ROUNDS + 1);
	cr_assert_geq(policy_counter("no-delegation/bgcf"), ROUNDS + 1);
	cr_assert_eq(policy_counter("no-view"), 0);
	cr_assert_eq(count_lines("kamailio.log", "no ENUM route"), 0);
}

/* The control: the same network with no bgcf rule (every cause passes). Kamailio has no
 * fallback of its own, so the numbers without a route are rejected (404) and reach no UAS:
 * the BGCF is reached only through the policy's NAPTR. The federation's calls still arrive. */
Test(kamailio, without_bgcf_rule_no_route_is_rejected)
{
	fe_test_mkdtemp(dir, sizeof(dir));
	write_network("");
	long long run_ms = run_namespace();
	cr_assert_eq(count_lines("kdig.out", "@" BGCF), 0, "kdig: no BGCF NAPTR without the rule");
	cr_assert_eq(count_lines("kdig.out", "status: NXDOMAIN"), 2, "kdig: NXDOMAIN twice");
	int uac_rc = fe_test_sh("exit $(cat '%s/uac.rc')", dir);
	cr_assert_eq(uac_rc, 1, "sipp UAC: the calls without a route must fail (exit %d)", uac_rc);
	size_t total = check_uas(false);
	cr_assert_eq(total, 3 * ROUNDS);
	cr_assert_eq(count_lines("kamailio.log", "no ENUM route"), 2 * ROUNDS);
	cr_assert_geq(policy_counter("not-found/pass"), ROUNDS + 1);
	cr_assert_geq(policy_counter("no-delegation/pass"), ROUNDS + 1);
	fprintf(stderr,
	        "kamailio (no bgcf rule): %d calls placed, %zu received, %d rejected by Kamailio; "
	        "UAC run %lld ms, whole namespace run %lld ms\n",
	        CALLS, total, 2 * ROUNDS, uac_ms(), run_ms);
}
