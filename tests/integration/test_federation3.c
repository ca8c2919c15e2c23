/* Three fedenumd nodes in the hub model of docs/federation.md, each on its own loopback
 * address and ephemeral port, each with its own store, TSIG hmac-sha256 between them, every
 * node validating under the federation anchor (federation/keys/e164.fed.ds):
 *  - the hub (127.0.0.2) is primary for the registry e164.fed. and secondary for the two
 *    member zones; it notifies both members;
 *  - member a (127.0.0.3) is primary for 1.5.5.5.1.e164.fed., member b (127.0.0.4) for
 *    2.5.5.5.1.e164.fed.; each is secondary of the hub for the registry and for the other
 *    member's zone, and notifies the hub.
 * Parents and children in any order:
 *  - at the start, a member's own zone is loaded before the registry reached it: rejected (no
 *    DS to chain to), then validated as soon as the registry is transferred in;
 *  - the hub, rebuilt on an empty store with its registry file missing, transfers both member
 *    zones first (rejected: no chain); once the registry is there (SIGHUP) they are
 *    transferred again at once and validate.
 * Then a new number signed and loaded at member a (SIGHUP) is served validated (AD=1) by the
 * hub and member b, and by an independent validator (libunbound) asking member b; the time
 * from a's commit to the AD=1 answer on the last node is printed, not asserted.
 * Zones: the demo federation's (zones/, DEMO-ONLY keys); the new version of member a's zone is
 * signed here with its demo keys (ldns-signzone). */
#include <criterion/criterion.h>
#include <jansson.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fe_test.h"
#include "fe_validate.h"
#include "fedenum/util.h"

#define KEY    "fed3-xfr.test."
#define SECRET "q3mR0yWcXr1bq0Q3kz7r7mO6xv4R0yqYp3Wl2bC8i1E="
#define REG    "e164.fed."
#define ZA     "1.5.5.5.1.e164.fed."
#define ZB     "2.5.5.5.1.e164.fed."
#define HUB_IP "127.0.0.2"
#define A_IP   "127.0.0.3"
#define B_IP   "127.0.0.4"
/* +15551000001 (in every version of a's zone), +15552000001 (b), +15551000999 (new) */
#define NUM_A   "1.0.0.0.0.0.1.5.5.5.1.e164.fed."
#define NUM_B   "1.0.0.0.0.0.2.5.5.5.1.e164.fed."
#define NUM_NEW "9.9.9.0.0.0.1.5.5.5.1.e164.fed."
#define WAIT_MS 60000u

struct node {
	const char *name, *ip;
	uint16_t port;
	char dir[300];
	struct fe_test_daemon d;
};

static char tmp[256];
static struct node hub = {.name = "hub", .ip = HUB_IP}, ma = {.name = "a", .ip = A_IP},
                   mb = {.name = "b", .ip = B_IP};

static void stop_all(void)
{
	struct node *all[] = {&mb, &ma, &hub};
	for (size_t i = 0; i < 3; i++)
		if (all[i]->d.pid > 0) {
			int st = fe_test_daemon_stop(&all[i]->d);
			if (st != 0)
				fe_test_sh("tail -n 30 '%s' >&2", all[i]->d.log_path);
			cr_expect_eq(st, 0, "node %s: exit status %d", all[i]->name, st);
		}
	if (tmp[0])
		fe_test_rmdir(tmp);
	tmp[0] = '\0';
}

/* The TSIG key, the nodes' folders and ports, the zone files; a's next version signed. */
static void setup(void)
{
	fe_test_mkdtemp(tmp, sizeof(tmp));
	char p[300];
	snprintf(p, sizeof(p), "%s/xfr.key", tmp);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	fprintf(f, "key \"%s\" {\n\talgorithm hmac-sha256;\n\tsecret \"%s\";\n};\n", KEY, SECRET);
	fclose(f);
	struct node *all[] = {&hub, &ma, &mb};
	for (size_t i = 0; i < 3; i++) {
		memset(&all[i]->d, 0, sizeof(all[i]->d));
		snprintf(all[i]->dir, sizeof(all[i]->dir), "%s/%s", tmp, all[i]->name);
		all[i]->port = fe_test_free_port();
		cr_assert_neq(all[i]->port, 0);
	}
	cr_assert_eq(fe_test_sh("mkdir -p '%s/hub' '%s/a' '%s/b' && "
	                        "cp '%s/zones/e164.fed/e164.fed.zone.signed' '%s/registry.zone' && "
	                        "cp '%s/registry.zone' '%s/hub/zone' && "
	                        "cp '%s/zones/%s/%szone.signed' '%s/a/zone' && "
	                        "cp '%s/zones/%s/%szone.signed' '%s/b/zone'",
	                        tmp, tmp, tmp, FE_TEST_SRC, tmp, tmp, tmp, FE_TEST_SRC,
	                        "1.5.5.5.1.e164.fed", ZA, tmp, FE_TEST_SRC, "2.5.5.5.1.e164.fed",
	                        ZB, tmp),
	             0);
	/* a's next version: one more number, serial + 10, NSEC3 as the demo (RFC 9276) */
	snprintf(p, sizeof(p), "%s/a-next.zone", tmp);
	cr_assert_eq(
	        fe_test_sh("s=$(ldns-read-zone '%s/a/zone' | awk '$4==\"SOA\"{print $7; "
	                   "exit}') && sed -E \"s/^(@ +SOA +ns1 +hostmaster\\.ims-a\\.example\\. "
	                   "+)1 /\\1$((s + 10)) /\" '%s/zones/1.5.5.5.1.e164.fed/%szone' > '%s' "
	                   "&& grep -q \"SOA.* $((s + 10)) \" '%s'",
	                   tmp, FE_TEST_SRC, ZA, p, p),
	        0, "cannot make the next serial");
	f = fopen(p, "a");
	cr_assert_not_null(f);
	fprintf(f, "9.9.9.0.0.0 NAPTR 10 100 \"u\" \"E2U+sip\" "
	           "\"!^.*$!sip:+15551000999@ims-a.example;user=phone!\" .\n");
	fclose(f);
	cr_assert_eq(fe_test_sh("cd '%s' && ldns-signzone -n -a 1 -t 0 -i 20260101000000 -e "
	                        "20360101000000 -o %s -f a-next.zone.signed a-next.zone $(ls "
	                        "'%s/federation/keys/1.5.5.5.1.e164.fed/'*.private | sed "
	                        "'s/\\.private$//')",
	                        tmp, ZA, FE_TEST_SRC),
	             0, "ldns-signzone failed");
}

TestSuite(federation3, .init = setup, .fini = stop_all, .timeout = 300);

/* "APEX@IP@PORT" into @buf (a static slot per call site: the caller keeps it alive). */
static const char *spec(char *buf, size_t cap, const char *apex, const struct node *n)
{
	snprintf(buf, cap, "%s@%s@%u", apex, n->ip, n->port);
	return buf;
}

static const char *addr(char *buf, size_t cap, const struct node *n)
{
	snprintf(buf, cap, "%s@%u", n->ip, n->port);
	return buf;
}

static void start_node(struct node *n)
{
	char listen[64], zone[320], key[300], anchor[300], s1[128], s2[128], t1[64], t2[64];
	addr(listen, sizeof(listen), n);
	snprintf(zone, sizeof(zone), "%s/zone", n->dir);
	snprintf(key, sizeof(key), "%s/xfr.key", tmp);
	snprintf(anchor, sizeof(anchor), "%s/federation/keys/e164.fed.ds", FE_TEST_SRC);
	const char *argv[24];
	size_t k = 0;
	argv[k++] = "--zone";
	argv[k++] = zone;
	argv[k++] = "--trust-anchor";
	argv[k++] = anchor;
	argv[k++] = "--tsig-key";
	argv[k++] = key;
	argv[k++] = "--workers";
	argv[k++] = "1";
	if (n == &hub) {
		argv[k++] = "--secondary";
		argv[k++] = spec(s1, sizeof(s1), ZA, &ma);
		argv[k++] = "--secondary";
		argv[k++] = spec(s2, sizeof(s2), ZB, &mb);
		argv[k++] = "--notify";
		argv[k++] = addr(t1, sizeof(t1), &ma);
		argv[k++] = "--notify";
		argv[k++] = addr(t2, sizeof(t2), &mb);
	} else {
		argv[k++] = "--secondary";
		argv[k++] = spec(s1, sizeof(s1), REG, &hub);
		argv[k++] = "--secondary";
		argv[k++] = spec(s2, sizeof(s2), n == &ma ? ZB : ZA, &hub);
		argv[k++] = "--notify";
		argv[k++] = addr(t1, sizeof(t1), &hub);
	}
	argv[k] = NULL;
	cr_assert_eq(fe_test_daemon_start_at(&n->d, n->dir, listen, argv), 0,
	             "node %s did not start", n->name);
	cr_assert_str_eq(n->d.host, n->ip);
	cr_assert_eq(n->d.port, n->port);
}

/* The node answers @name @type with data, AD=1 (DO set). */
static bool served_ad(const struct node *n, const char *name, uint16_t type)
{
	ldns_pkt *p = fe_test_query(n->ip, n->port, name, type, FE_TQ_DO, 0);
	if (!p)
		return false;
	bool ok = ldns_pkt_get_rcode(p) == LDNS_RCODE_NOERROR && ldns_pkt_ad(p);
	ldns_rr_list *l = ok ? ldns_pkt_rr_list_by_type(p, type, LDNS_SECTION_ANSWER) : NULL;
	ok = l && ldns_rr_list_rr_count(l) > 0;
	ldns_rr_list_deep_free(l);
	ldns_pkt_free(p);
	return ok;
}

/* Its rcode (-1: no answer). */
static int rcode_of(const struct node *n, const char *name, uint16_t type)
{
	ldns_pkt *p = fe_test_query(n->ip, n->port, name, type, FE_TQ_DO, 0);
	if (!p)
		return -1;
	int rc = ldns_pkt_get_rcode(p);
	ldns_pkt_free(p);
	return rc;
}

/* Poll (every 5 ms, at most WAIT_MS) until @n serves @name @type validated. */
static bool wait_ad(const struct node *n, const char *name, uint16_t type)
{
	uint64_t t0 = fe_time_mono_ms();
	while (fe_time_mono_ms() - t0 < WAIT_MS) {
		if (served_ad(n, name, type))
			return true;
		usleep(5000);
	}
	return false;
}

static void show(const struct node *n)
{
	fprintf(stderr, "---- node %s (%s@%u)\n", n->name, n->ip, n->port);
	fe_test_sh("tail -n 80 '%s' >&2", n->d.log_path);
}

static void expect_ad(const struct node *n, const char *name, uint16_t type)
{
	if (!wait_ad(n, name, type)) {
		show(&hub);
		show(&ma);
		show(&mb);
		cr_assert_fail("node %s does not serve %s validated", n->name, name);
	}
}

/* Poll until @n's log has @needle on at least @min lines (at most WAIT_MS): a log line
 * can follow the commit that a query already sees. */
static bool wait_log(struct node *n, const char *needle, int min)
{
	uint64_t t0 = fe_time_mono_ms();
	while (fe_time_mono_ms() - t0 < WAIT_MS) {
		if (fe_test_daemon_log_count(&n->d, needle) >= min)
			return true;
		usleep(20000);
	}
	fe_test_sh(
	        "echo '--- no \"%s\" in:'; grep -v 'counters' '%s' | grep -v NOTIFY | tail -n 25",
	        needle, n->d.log_path);
	return false;
}

/* Every node serves every zone's data with AD=1. */
/* `fedenumctl peer list --json` on @n: the NOTIFYs to secondary @ip skipped because it is
 * the zone's primary. */
static long long skipped_primary(struct node *n, const char *ip)
{
	char cmd[1024], out[65536];
	snprintf(cmd, sizeof(cmd), "'%s' peer list --json --socket '%s/control.sock'",
	         FE_TEST_FEDENUMCTL, n->d.dir);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	size_t len = fread(out, 1, sizeof(out) - 1, p);
	out[len] = '\0';
	cr_assert_eq(pclose(p), 0, "%s", out);
	json_t *j = json_loads(out, 0, NULL);
	cr_assert_not_null(j, "%s", out);
	long long v = -1;
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(j, "secondaries"), i, e)
	{
		if (strcmp(json_string_value(json_object_get(e, "address")), ip) == 0)
			v = (long long)json_integer_value(
			        json_object_get(json_object_get(e, "notify"), "skipped_primary"));
	}
	json_decref(j);
	cr_assert_geq(v, 0, "no secondary %s in %s", ip, out);
	return v;
}

static void expect_all_served(void)
{
	struct node *all[] = {&hub, &ma, &mb};
	for (size_t i = 0; i < 3; i++) {
		expect_ad(all[i], REG, LDNS_RR_TYPE_SOA);
		expect_ad(all[i], NUM_A, LDNS_RR_TYPE_NAPTR);
		expect_ad(all[i], NUM_B, LDNS_RR_TYPE_NAPTR);
	}
}

Test(federation3, parents_and_children_in_any_order_then_a_change_reaches_every_node)
{
	/* 1. Start: the hub with the registry, then the members. A member's own zone is loaded
	 * before the registry reaches it: rejected, then loaded again once the registry is
	 * transferred in. */
	start_node(&hub);
	start_node(&ma);
	start_node(&mb);
	expect_all_served();
	struct node *members[] = {&ma, &mb};
	for (size_t i = 0; i < 2; i++) {
		struct node *m = members[i];
		const char *own = m == &ma ? ZA : ZB;
		char needle[160];
		snprintf(needle, sizeof(needle), "zone %s serial", own);
		cr_assert(wait_log(m, "DNSSEC validation failed", 1),
		          "member %s: its own zone was not first rejected", m->name);
		cr_assert(wait_log(m, "rejected by the last load: loading them again", 1),
		          "member %s: not loaded again after the registry came", m->name);
		cr_assert(wait_log(m, "zone pass done: 1 loaded", 1)); /* not a reload */
		cr_assert_eq(fe_test_daemon_log_count(&m->d, "reload done"), 0);
		cr_assert(wait_log(m, "zone " REG ": AXFR from " HUB_IP, 1));
		cr_assert(wait_log(m, needle, 1));
	}
	/* the hub took both member zones, from the members' own addresses */
	cr_assert(wait_log(&hub, "zone " ZA ": AXFR from " A_IP, 1));
	cr_assert(wait_log(&hub, "zone " ZB ": AXFR from " B_IP, 1));

	/* 2. The hub rebuilt on an empty store, its registry file not there yet: the member
	 * zones arrive first and are rejected (no DS to chain to); then the registry (SIGHUP)
	 * and the member zones are transferred again at once, and validate. */
	int st = fe_test_daemon_stop(&hub.d);
	if (st != 0)
		show(&hub);
	cr_assert_eq(st, 0, "the hub's exit status: %d", st);
	cr_assert_eq(fe_test_sh("rm -rf '%s/db' '%s/fedenumd.log' && rm '%s/zone'", hub.dir,
	                        hub.dir, hub.dir),
	             0);
	start_node(&hub);
	cr_assert(wait_log(&hub, "zone " ZA ": refresh from " A_IP, 1), "no refresh of " ZA);
	cr_assert(wait_log(&hub, "zone " ZB ": refresh from " B_IP, 1), "no refresh of " ZB);
	cr_assert_geq(fe_test_daemon_log_count(&hub.d, "failed: not stored"), 2,
	              "the member zones were not rejected before the registry came");
	cr_assert_neq(rcode_of(&hub, NUM_A, LDNS_RR_TYPE_NAPTR), LDNS_RCODE_NOERROR);
	cr_assert_neq(rcode_of(&hub, NUM_B, LDNS_RR_TYPE_NAPTR), LDNS_RCODE_NOERROR);
	cr_assert_eq(fe_test_sh("cp '%s/registry.zone' '%s/zone.tmp' && mv '%s/zone.tmp' "
	                        "'%s/zone'",
	                        tmp, hub.dir, hub.dir, hub.dir),
	             0);
	kill(hub.d.pid, SIGHUP);
	expect_ad(&hub, REG, LDNS_RR_TYPE_SOA);
	expect_ad(&hub, NUM_A, LDNS_RR_TYPE_NAPTR);
	expect_ad(&hub, NUM_B, LDNS_RR_TYPE_NAPTR);
	cr_assert_eq(fe_test_daemon_log_count(&hub.d, "zones loaded: refresh now"), 2,
	             "the member zones were not transferred again when the registry came");
	cr_assert(wait_log(&hub, "zone " ZA ": AXFR from " A_IP, 1));
	cr_assert(wait_log(&hub, "validated through the DS in " REG, 2));
	expect_all_served();

	/* 3. A change at member a: a new number, signed, loaded with SIGHUP. t0: the first
	 * answer of a with it (its commit, within one poll), then the hub and b. */
	cr_assert_eq(rcode_of(&mb, NUM_NEW, LDNS_RR_TYPE_NAPTR), LDNS_RCODE_NXDOMAIN);
	cr_assert_eq(fe_test_sh("cp '%s/a-next.zone.signed' '%s/zone.tmp' && mv '%s/zone.tmp' "
	                        "'%s/zone'",
	                        tmp, ma.dir, ma.dir, ma.dir),
	             0);
	uint64_t sent = fe_time_mono_ms();
	kill(ma.d.pid, SIGHUP);
	expect_ad(&ma, NUM_NEW, LDNS_RR_TYPE_NAPTR);
	uint64_t t0 = fe_time_mono_ms(), t_hub = 0, t_b = 0;
	while ((!t_hub || !t_b) && fe_time_mono_ms() - t0 < WAIT_MS) {
		if (!t_hub && served_ad(&hub, NUM_NEW, LDNS_RR_TYPE_NAPTR))
			t_hub = fe_time_mono_ms();
		if (!t_b && served_ad(&mb, NUM_NEW, LDNS_RR_TYPE_NAPTR))
			t_b = fe_time_mono_ms();
		usleep(2000);
	}
	if (!t_hub || !t_b) {
		show(&hub);
		show(&ma);
		show(&mb);
	}
	cr_assert_neq(t_hub, 0, "the hub does not serve the new number validated");
	cr_assert_neq(t_b, 0, "member b does not serve the new number validated");
	uint64_t last = t_hub > t_b ? t_hub : t_b;
	printf("federation3: one new number at member a (300-number zone): SIGHUP -> a serves "
	       "it %llu ms; a's commit -> AD=1 at the hub %llu ms, at member b %llu ms (last "
	       "node: %llu ms)\n",
	       (unsigned long long)(t0 - sent), (unsigned long long)(t_hub - t0),
	       (unsigned long long)(t_b - t0), (unsigned long long)(last - t0));
	fflush(stdout);
	/* the hub and b took it as an incremental transfer */
	cr_assert(wait_log(&hub, "zone " ZA ": IXFR from " A_IP, 1));
	cr_assert(wait_log(&mb, "zone " ZA ": IXFR from " HUB_IP, 1));
	/* b does not NOTIFY the hub, its primary for a's zone, of the hub's own version
	 * (`fedenumctl peer list` on b: the hub's NOTIFYs skipped); the hub would refuse it
	 * anyway, taking NOTIFY for a's zone from a only */
	cr_assert_geq(skipped_primary(&mb, HUB_IP), 1);
	cr_assert_eq(fe_test_daemon_log_count(&hub.d, "NOTIFY for " ZA " refused"), 0);
	/* the other data is still served validated everywhere */
	expect_all_served();

	/* An independent validator (libunbound, only the federation's anchors) asking b. */
	struct fe_validate *v = fe_validate_create(B_IP, mb.port, false);
	cr_assert_not_null(v);
	cr_assert_eq(fe_validate_add_demo_anchors(v), 0);
	struct fe_validate_result r;
	cr_assert_eq(fe_validate_lookup(v, NUM_NEW, LDNS_RR_TYPE_NAPTR, &r), 0);
	cr_expect_eq(r.status, FE_VALIDATE_SECURE, "%s (%s)", fe_validate_status_str(r.status),
	             r.why_bogus);
	cr_expect(r.havedata);
	fe_validate_result_clear(&r);
	fe_validate_destroy(v);
}
