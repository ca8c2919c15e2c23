/* On-demand peering (docs/federation.md "On-demand peering", issue #9 scope 2): a member zone
 * that is NOT replicated to the node under test is resolved on demand from the member's own
 * name server, validated under the federation anchor only, cached, and answered like held
 * data; a member server whose zone does not match the DS in the registry is refused.
 *
 * The test federation of tests/integration/data/trust (TEST-ONLY keys, anchor e164.test.ds):
 *  - the registry e164.test. as the fixture registry-v1, its glue moved to loopback and
 *    signed here with the registry's test keys: +15551 delegated to ns1.1.5.5.5.1.e164.test.
 *    (127.0.0.5) with the DS of key "a", +15552 to ns1.2.5.5.5.1.e164.test. (127.0.0.6) with
 *    the DS of key "b";
 *  - member A's server: a fedenumd on 127.0.0.5@P serving a-v1.signed (key a, matches the
 *    registry's DS) and the registry zone (the federation's server for the registry);
 *  - a forging server for +15552: a fedenumd on 127.0.0.6@P serving a-for-b.signed, the
 *    +15552 zone signed with a key the registry never delegated to;
 *  - the node under test (127.0.0.1, its own port): the registry zone only, the anchor, and
 *    policy.on-demand for +155510 and +15552, its servers 127.0.0.5@P, members' port P.
 * Both member servers run without trust anchors: they are plain authoritative sources here,
 * the node under test validates. */
#include <criterion/criterion.h>

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fe_test.h"
#include "fe_test_pkt.h"
#include "fedenum/util.h"
#include "net_common.h"

#define TRUST    FE_TEST_SRC "/tests/integration/data/trust"
#define REG      "e164.test."
#define A_IP     "127.0.0.5"
#define B_IP     "127.0.0.6"
#define NUM_A1   "1.0.0.0.0.0.1.5.5.5.1.e164.test." /* +15551000001 */
#define NUM_A2   "2.0.0.0.0.0.1.5.5.5.1.e164.test." /* +15551000002 */
#define NUM_A3   "3.0.0.0.0.0.1.5.5.5.1.e164.test." /* +15551000003 */
#define NUM_A4   "4.0.0.0.0.0.1.5.5.5.1.e164.test." /* +15551000004 */
#define NUM_ANX  "9.9.9.0.0.0.1.5.5.5.1.e164.test." /* +15551000999: not assigned */
#define NUM_AOUT "1.0.0.0.0.1.1.5.5.5.1.e164.test." /* +15551100001: not an on-demand prefix */
#define NUM_B1   "1.0.0.0.0.0.2.5.5.5.1.e164.test." /* +15552000001 */

static char tmp[256];
static const char *extra_top = ""; /* more top-level keys of federation.conf (views) */
static uint16_t port_m;            /* the member servers' port (on both addresses) */
static struct fe_test_daemon srv_a, srv_b, node;

static void stop_one(struct fe_test_daemon *d, const char *what)
{
	if (d->pid <= 0)
		return;
	int st = fe_test_daemon_stop(d);
	if (st != 0)
		fe_test_sh("tail -n 40 '%s' >&2", d->log_path);
	cr_expect_eq(st, 0, "%s: exit status %d", what, st);
}

static void teardown(void)
{
	stop_one(&node, "node under test");
	stop_one(&srv_b, "forging server");
	stop_one(&srv_a, "member A's server");
	if (tmp[0])
		fe_test_rmdir(tmp);
	tmp[0] = '\0';
}

static void setup(void)
{
	memset(&srv_a, 0, sizeof(srv_a));
	memset(&srv_b, 0, sizeof(srv_b));
	memset(&node, 0, sizeof(node));
	extra_top = "";
	fe_test_mkdtemp(tmp, sizeof(tmp));
	/* the registry with its glue on loopback, signed with the registry's test keys */
	cr_assert_eq(fe_test_sh("cd '%s' && sed -e 's/192\\.0\\.2\\.101/" A_IP "/' -e "
	                        "'s/192\\.0\\.2\\.102/" B_IP "/' '%s/src/registry-v1.zone' > "
	                        "reg.zone && ldns-signzone -n -a 1 -t 0 -i 20260101000000 -e "
	                        "20360101000000 -o " REG " -f reg.signed reg.zone "
	                        "'%s/keys/reg-ksk' '%s/keys/reg-zsk' && grep -q '" A_IP
	                        "' reg.signed && mkdir a b node",
	                        tmp, TRUST, TRUST, TRUST),
	             0, "cannot sign the registry");
	port_m = fe_test_free_port();
	cr_assert_neq(port_m, 0);
}

TestSuite(ondemand, .init = setup, .fini = teardown, .timeout = 240);

/* A member server: @ip@port_m, the zones given, no trust anchors (a plain source). */
static void start_server(struct fe_test_daemon *d, const char *sub, const char *ip,
                         const char *zone1, const char *zone2)
{
	char dir[300], listen[64], z1[400], z2[400];
	snprintf(dir, sizeof(dir), "%s/%s", tmp, sub);
	snprintf(listen, sizeof(listen), "%s@%u", ip, port_m);
	snprintf(z1, sizeof(z1), "%s", zone1);
	snprintf(z2, sizeof(z2), "%s", zone2 ? zone2 : "");
	const char *argv[] = {"--zone", z1, "--workers", "1", zone2 ? "--zone" : NULL, z2, NULL};
	cr_assert_eq(fe_test_daemon_start_at(d, dir, listen, argv), 0, "%s did not start", sub);
}

/* The node's configuration: the registry zone (and @extra_zone, a zones entry), the anchor,
 * on-demand (and @extra_policy, keys of policy.on-demand). */
static void write_node_conf(const char *extra_policy, const char *extra_zone)
{
	char dir[300], path[400];
	snprintf(dir, sizeof(dir), "%s/node", tmp);
	snprintf(path, sizeof(path), "%s/federation.conf", dir);
	nc_write_file(path,
	              "name = \"ondemand-test\";\n"
	              "trust-anchors = [\"%s/e164.test.ds\"];\n"
	              "clients = [\"127.0.0.0/8\"];\n"
	              "members = ( { name = \"registry\"; role = \"registry\"; },\n"
	              "            { name = \"carrier-a\"; prefixes = [\"+15551\"]; },\n"
	              "            { name = \"carrier-b\"; prefixes = [\"+15552\"]; } );\n"
	              "%s\n"
	              "zones = ( { apex = \"" REG "\"; member = \"registry\"; "
	              "file = \"%s/reg.signed\"; }%s );\n"
	              "policy = { on-demand = { prefixes = [\"+155510\", \"+15552\"];\n"
	              "    servers = [\"" A_IP "@%u\"]; port = %u; timeout-ms = 1500;\n"
	              "    %s }; };\n",
	              TRUST, extra_top, tmp, extra_zone ? extra_zone : "", port_m, port_m,
	              extra_policy ? extra_policy : "");
	snprintf(path, sizeof(path), "%s/fedenumd.conf", dir);
	nc_write_file(path, "federation = \"federation.conf\";\nserver: { workers = 2; };\n"
	                    "log: { level = \"debug\"; };\n");
}

/* The node under test: the registry zone only, the anchor, on-demand; @listen: one more
 * listen address (NULL: none). */
static void start_node_at(const char *extra_policy, const char *listen)
{
	char dir[300], path[400];
	write_node_conf(extra_policy, NULL);
	snprintf(dir, sizeof(dir), "%s/node", tmp);
	snprintf(path, sizeof(path), "%s/fedenumd.conf", dir);
	const char *argv[] = {"-c", path, listen ? "--listen" : NULL, listen, NULL};
	cr_assert_eq(fe_test_daemon_start(&node, dir, argv), 0, "the node did not start");
	cr_assert(fe_test_daemon_wait_log(&node, "on-demand: resolver ready", 1, 30),
	          "no resolver on the node");
}

static void start_node(const char *extra_policy)
{
	start_node_at(extra_policy, NULL);
}

static ldns_pkt *ask(const char *name, uint16_t type, unsigned flags)
{
	ldns_pkt *p = fe_test_query(node.host, node.port, name, type, flags, 0);
	cr_assert_not_null(p, "no answer for %s", name);
	return p;
}

static size_t count(ldns_pkt *p, uint16_t type, ldns_pkt_section sec)
{
	ldns_rr_list *l = ldns_pkt_rr_list_by_type(p, type, sec);
	size_t n = l ? ldns_rr_list_rr_count(l) : 0;
	ldns_rr_list_deep_free(l);
	return n;
}

/* A NAPTR answer with AD=1 and its RRSIG, whose RDATA names @uri. */
static void expect_validated(ldns_pkt *p, const char *name, const char *uri)
{
	if (ldns_pkt_get_rcode(p) != LDNS_RCODE_NOERROR || !ldns_pkt_ad(p))
		fe_test_sh("tail -n 40 '%s' >&2", node.log_path);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR, "%s: rcode %d", name,
	             ldns_pkt_get_rcode(p));
	cr_assert(ldns_pkt_ad(p), "%s: AD=0", name);
	cr_assert_eq(count(p, LDNS_RR_TYPE_NAPTR, LDNS_SECTION_ANSWER), 1);
	cr_assert_eq(count(p, LDNS_RR_TYPE_RRSIG, LDNS_SECTION_ANSWER), 1);
	char *txt = ldns_pkt2str(p);
	cr_assert(strstr(txt, uri), "%s: not %s:\n%s", name, uri, txt);
	free(txt);
}

/* The on-demand counter @key ("hit") in `fedenumctl stats --json` (group "ondemand"). */
static long long stat_of(const char *key)
{
	char args[600], out[65536];
	snprintf(args, sizeof(args), "stats --json --socket '%s/control.sock'", node.dir);
	cr_assert_eq(nc_ctl(node.dir, args, out, sizeof(out)), 0, "%s", out);
	json_error_t e;
	json_t *j = json_loads(out, 0, &e);
	cr_assert_not_null(j, "stats --json: %s:\n%s", e.text, out);
	json_t *v = json_object_get(json_object_get(j, "ondemand"), key);
	cr_assert(json_is_integer(v), "no ondemand.%s in stats:\n%s", key, out);
	long long n = (long long)json_integer_value(v);
	json_decref(j);
	return n;
}

Test(ondemand, member_not_replicated_is_answered_validated_and_cached)
{
	char reg[400], za[400];
	snprintf(reg, sizeof(reg), "%s/reg.signed", tmp);
	snprintf(za, sizeof(za), "%s/a-v1.signed", TRUST);
	start_server(&srv_a, "a", A_IP, za, reg);
	start_node(NULL);

	/* the member zone is not held by the node */
	char out[8192], args[600];
	snprintf(args, sizeof(args), "zone list --socket '%s/control.sock'", node.dir);
	cr_assert_eq(nc_ctl(node.dir, args, out, sizeof(out)), 0, "%s", out);
	cr_assert(strstr(out, REG), "%s", out);
	cr_assert_null(strstr(out, "1.5.5.5.1." REG), "member zone held by the node:\n%s", out);

	/* 1. first query: resolved on demand, validated, AD=1 with the RRSIG (DO) */
	ldns_pkt *p = ask(NUM_A1, LDNS_RR_TYPE_NAPTR, FE_TQ_DO);
	expect_validated(p, NUM_A1, "sip:a-v1-1@ims.example");
	ldns_pkt_free(p);
	cr_assert_eq(stat_of("deferred"), 1);
	cr_assert_eq(stat_of("resolved"), 1);
	cr_assert_eq(stat_of("hit"), 0);

	/* 2. again: from the LMDB cache, no new resolution; without DO no RRSIG, AD only when
	 * asked (AD flag) */
	p = ask(NUM_A1, LDNS_RR_TYPE_NAPTR, FE_TQ_DO);
	expect_validated(p, NUM_A1, "sip:a-v1-1@ims.example");
	ldns_pkt_free(p);
	p = ask(NUM_A1, LDNS_RR_TYPE_NAPTR, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(count(p, LDNS_RR_TYPE_NAPTR, LDNS_SECTION_ANSWER), 1);
	cr_assert_eq(count(p, LDNS_RR_TYPE_RRSIG, LDNS_SECTION_ANSWER), 0);
	cr_assert_not(ldns_pkt_ad(p));
	ldns_pkt_free(p);
	cr_assert_eq(stat_of("hit"), 2);
	cr_assert_eq(stat_of("resolved"), 1);
	cr_assert_eq(stat_of("deferred"), 1);

	/* 3. over TCP: the connection waits for its answer */
	p = ask(NUM_A2, LDNS_RR_TYPE_NAPTR, FE_TQ_DO | FE_TQ_TCP);
	expect_validated(p, NUM_A2, "sip:a-v1-2@ims.example");
	ldns_pkt_free(p);
	cr_assert_eq(stat_of("resolved"), 2);

	/* 4. a number the member has not assigned: NXDOMAIN, validated (its NSEC3 proof) */
	p = ask(NUM_ANX, LDNS_RR_TYPE_NAPTR, FE_TQ_DO);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	cr_assert(ldns_pkt_ad(p));
	cr_assert_geq(count(p, LDNS_RR_TYPE_SOA, LDNS_SECTION_AUTHORITY), 1);
	cr_assert_geq(count(p, LDNS_RR_TYPE_NSEC3, LDNS_SECTION_AUTHORITY), 1);
	ldns_pkt_free(p);

	/* 5. below the same delegation but outside policy.on-demand.prefixes: as without
	 * on-demand (SERVFAIL, cause zone-unavailable), nothing resolved */
	long long resolved = stat_of("resolved");
	p = ask(NUM_AOUT, LDNS_RR_TYPE_NAPTR, FE_TQ_DO);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
	cr_assert_not(ldns_pkt_ad(p));
	ldns_pkt_free(p);
	cr_assert_geq(stat_of("not-allowed"), 1);
	cr_assert_eq(stat_of("resolved"), resolved);

	/* 6. clients waiting together: one resolution (or few), every client answered */
	const char *many[] = {NUM_A3, NUM_A3, NUM_A3, NUM_A4, NUM_A4};
	for (size_t i = 0; i < FE_ARRAY_LEN(many); i++) {
		p = ask(many[i], LDNS_RR_TYPE_NAPTR, FE_TQ_DO);
		cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
		cr_assert(ldns_pkt_ad(p));
		ldns_pkt_free(p);
	}
	/* the metrics page and the log carry the counters */
	cr_assert_geq(stat_of("hit"), 5);
	kill(node.pid, SIGUSR1);
	cr_assert(fe_test_daemon_wait_log(&node, "counters (SIGUSR1) on-demand: hit=", 1, 10));

	/* 7. the cache survives a restart of the node (LMDB), until the TTL */
	int st = fe_test_daemon_stop(&node);
	cr_assert_eq(st, 0);
	char path[400];
	snprintf(path, sizeof(path), "%s/node/fedenumd.conf", tmp);
	const char *argv[] = {"-c", path, NULL};
	char dir[300];
	snprintf(dir, sizeof(dir), "%s/node", tmp);
	memset(&node, 0, sizeof(node));
	cr_assert_eq(fe_test_daemon_start(&node, dir, argv), 0);
	stop_one(&srv_a, "member A's server"); /* the source is gone: the cache answers */
	p = ask(NUM_A1, LDNS_RR_TYPE_NAPTR, FE_TQ_DO);
	expect_validated(p, NUM_A1, "sip:a-v1-1@ims.example");
	ldns_pkt_free(p);
	cr_assert_eq(stat_of("hit"), 1);
	cr_assert_eq(stat_of("deferred"), 0);

	/* 8. the member's zone replicated to the node (another version: a-v4): the held zone
	 * answers, never the cache (which still holds a-v1's answer) */
	write_node_conf(NULL, ", { apex = \"1.5.5.5.1." REG "\"; member = \"carrier-a\"; "
	                      "file = \"" TRUST "/a-v4.signed\"; }");
	kill(node.pid, SIGHUP);
	cr_assert(fe_test_daemon_wait_log(&node, "reload done", 1, 30));
	p = ask(NUM_A1, LDNS_RR_TYPE_NAPTR, FE_TQ_DO);
	expect_validated(p, NUM_A1, "sip:a-v4-1@ims.example");
	ldns_pkt_free(p);
	cr_assert_eq(stat_of("hit"), 1, "the cache was consulted for a held zone");
	cr_assert_eq(fe_test_daemon_log_count(&node, "policy.on-demand changed"), 0);
}

/* Bounds: max-per-client = 1, the member's server silent. One query waits (timeout-ms),
 * a second one from the same client meanwhile is refused at once: SERVFAIL, EDE 14. */
Test(ondemand, waiting_queries_are_bounded)
{
	start_node("max-pending = 4; max-per-client = 1;");
	/* nothing listens on B_IP: the first query waits for its timeout */
	uint8_t q[512], r[4096];
	size_t qn = fe_test_make_query(NUM_B1, LDNS_RR_TYPE_NAPTR, FE_TQ_DO, 0, q, sizeof(q));
	cr_assert_gt(qn, 12);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_geq(fd, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(node.port)};
	inet_pton(AF_INET, node.host, &sa.sin_addr);
	cr_assert_eq(sendto(fd, q, qn, 0, (struct sockaddr *)&sa, sizeof(sa)), (ssize_t)qn);
	uint64_t t0 = nc_now_ms();
	for (int i = 0; i < 100 && stat_of("deferred") < 1; i++)
		nc_sleep_ms(10);
	cr_assert_eq(stat_of("deferred"), 1);
	ldns_pkt *p = ask("2.0.0.0.0.0.2.5.5.5.1.e164.test.", LDNS_RR_TYPE_NAPTR, FE_TQ_DO);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
	cr_assert_eq(fe_test_pkt_ede(p), 14, "EDE %d", fe_test_pkt_ede(p));
	ldns_pkt_free(p);
	cr_assert_lt(nc_now_ms() - t0, 1500, "the second query waited");
	cr_assert_eq(stat_of("limit"), 1);
	/* the first one: SERVFAIL, EDE 22, once its resolution gave up */
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	cr_assert_eq(poll(&pf, 1, 5000), 1, "no answer to the waiting query");
	ssize_t n = recv(fd, r, sizeof(r), 0);
	close(fd);
	cr_assert_geq(n, 12);
	cr_assert_eq(r[0], q[0]);
	cr_assert_eq(r[1], q[1]);
	cr_assert_eq(nc_rcode(r), LDNS_RCODE_SERVFAIL);
	ldns_pkt *a = NULL;
	cr_assert_eq(ldns_wire2pkt(&a, r, (size_t)n), LDNS_STATUS_OK);
	cr_assert_eq(fe_test_pkt_ede(a), 22);
	ldns_pkt_free(a);
	cr_assert_geq(stat_of("timeout") + stat_of("failed"), 1);
	/* the client's slot is free again */
	p = ask(NUM_B1, LDNS_RR_TYPE_NAPTR, FE_TQ_DO);
	cr_assert_eq(fe_test_pkt_ede(p), 22, "EDE %d", fe_test_pkt_ede(p));
	ldns_pkt_free(p);
	cr_assert_eq(stat_of("limit"), 1);
	/* a reload cannot change the bounds: said in the log, the running ones stay */
	write_node_conf("max-pending = 5; max-per-client = 1;", NULL);
	kill(node.pid, SIGHUP);
	cr_assert(fe_test_daemon_wait_log(&node, "policy.on-demand changed: this takes a restart",
	                                  1, 30));
}

Test(ondemand, forged_member_answer_is_refused)
{
	char reg[400], za[400], zb[400];
	snprintf(reg, sizeof(reg), "%s/reg.signed", tmp);
	snprintf(za, sizeof(za), "%s/a-v1.signed", TRUST);
	/* +15552's zone signed by a key the registry's DS does not name */
	snprintf(zb, sizeof(zb), "%s/a-for-b.signed", TRUST);
	start_server(&srv_a, "a", A_IP, za, reg);
	start_server(&srv_b, "b", B_IP, zb, NULL);
	start_node(NULL);

	/* the forging server does answer it, with data (no validation there) */
	ldns_pkt *p = fe_test_query(B_IP, port_m, NUM_B1, LDNS_RR_TYPE_NAPTR, FE_TQ_DO, 0);
	cr_assert_not_null(p);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(count(p, LDNS_RR_TYPE_NAPTR, LDNS_SECTION_ANSWER), 1);
	ldns_pkt_free(p);

	/* the node refuses it: SERVFAIL with EDE 6 (DNSSEC bogus), never AD, never the data;
	 * twice (nothing cached), over UDP and TCP */
	for (int i = 0; i < 2; i++) {
		p = ask(NUM_B1, LDNS_RR_TYPE_NAPTR, FE_TQ_DO | (i ? FE_TQ_TCP : 0));
		if (ldns_pkt_get_rcode(p) != LDNS_RCODE_SERVFAIL)
			fe_test_sh("tail -n 40 '%s' >&2", node.log_path);
		cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
		cr_assert_not(ldns_pkt_ad(p));
		cr_assert_eq(count(p, LDNS_RR_TYPE_NAPTR, LDNS_SECTION_ANSWER), 0);
		cr_assert_eq(fe_test_pkt_ede(p), 6, "EDE %d", fe_test_pkt_ede(p));
		ldns_pkt_free(p);
	}
	cr_assert_geq(stat_of("bogus"), 2);
	cr_assert_eq(stat_of("resolved"), 0);
	cr_assert_eq(stat_of("hit"), 0);
	cr_assert_geq(fe_test_daemon_log_count(&node, "bogus (does not validate"), 1);

	/* the honest member next to it is still answered validated */
	p = ask(NUM_A1, LDNS_RR_TYPE_NAPTR, FE_TQ_DO);
	expect_validated(p, NUM_A1, "sip:a-v1-1@ims.example");
	ldns_pkt_free(p);

	/* the forging server gone: no answer within timeout-ms → SERVFAIL, EDE 22 */
	stop_one(&srv_b, "forging server");
	p = ask("2.0.0.0.0.0.2.5.5.5.1.e164.test.", LDNS_RR_TYPE_NAPTR, FE_TQ_DO);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
	cr_assert_eq(fe_test_pkt_ede(p), 22, "EDE %d", fe_test_pkt_ede(p));
	ldns_pkt_free(p);
	cr_assert_geq(stat_of("timeout") + stat_of("failed"), 1);
}

/* policy.on-demand.views: only the listed view's clients get numbers resolved on demand;
 * the others get what they got without on-demand (SERVFAIL, cause zone-unavailable). */
Test(ondemand, only_the_listed_views)
{
	char reg[400], za[400];
	snprintf(reg, sizeof(reg), "%s/reg.signed", tmp);
	snprintf(za, sizeof(za), "%s/a-v1.signed", TRUST);
	start_server(&srv_a, "a", A_IP, za, reg);
	extra_top = "views = ( { name = \"lab\"; clients = [\"127.0.0.2/32\"]; } );";
	start_node("views = [\"lab\"];");
	uint8_t q[512], a[4096];
	size_t qn = fe_test_make_query(NUM_A1, LDNS_RR_TYPE_NAPTR, FE_TQ_DO, 0, q, sizeof(q));
	/* 127.0.0.1: the default view, not listed */
	size_t n = nc_udp_from(&node, "127.0.0.1", q, qn, a, sizeof(a));
	cr_assert_eq(nc_rcode(a), LDNS_RCODE_SERVFAIL);
	cr_assert_eq(stat_of("not-allowed"), 1);
	cr_assert_eq(stat_of("deferred"), 0);
	/* 127.0.0.2: the view "lab" */
	n = nc_udp_from(&node, "127.0.0.2", q, qn, a, sizeof(a));
	ldns_pkt *p = NULL;
	cr_assert_eq(ldns_wire2pkt(&p, a, n), LDNS_STATUS_OK);
	expect_validated(p, NUM_A1, "sip:a-v1-1@ims.example");
	ldns_pkt_free(p);
	cr_assert_eq(stat_of("deferred"), 1);
	/* the default view still does not get it, even cached */
	n = nc_udp_from(&node, "127.0.0.1", q, qn, a, sizeof(a));
	cr_assert_eq(nc_rcode(a), LDNS_RCODE_SERVFAIL);
	cr_assert_eq(stat_of("not-allowed"), 2);
	cr_assert_eq(stat_of("hit"), 0);
}

/* A wildcard listener: the answer resumed after the resolution leaves from the address the
 * query was sent to (IP_PKTINFO kept with the parked request), or a connected client would
 * never see it. */
Test(ondemand, wildcard_listener_answers_from_the_address_asked)
{
	char reg[400], za[400];
	snprintf(reg, sizeof(reg), "%s/reg.signed", tmp);
	snprintf(za, sizeof(za), "%s/a-v1.signed", TRUST);
	start_server(&srv_a, "a", A_IP, za, reg);
	start_node_at(NULL, "0.0.0.0@0");
	uint16_t port = nc_ready_port(&node, "udp", "0.0.0.0");
	cr_assert_neq(port, 0);
	uint8_t q[512], r[4096];
	size_t qn = fe_test_make_query(NUM_A1, LDNS_RR_TYPE_NAPTR, FE_TQ_DO, 0, q, sizeof(q));
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, "127.0.0.3", &sa.sin_addr);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(send(fd, q, qn, 0), (ssize_t)qn);
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	cr_assert_eq(poll(&pf, 1, 5000), 1, "no answer from 127.0.0.3");
	ssize_t n = recv(fd, r, sizeof(r), 0);
	close(fd);
	cr_assert_gt(n, 12);
	ldns_pkt *p = NULL;
	cr_assert_eq(ldns_wire2pkt(&p, r, (size_t)n), LDNS_STATUS_OK);
	expect_validated(p, NUM_A1, "sip:a-v1-1@ims.example");
	ldns_pkt_free(p);
	cr_assert_eq(stat_of("deferred"), 1, "it was answered after the resolution");
}
