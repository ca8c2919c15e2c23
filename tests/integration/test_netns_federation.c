/* The multi-host federation test (issue #9 scope 3): a registry hub and three member nodes,
 * each fedenumd in its own network namespace with its own address on a bridge (netns_fed.h:
 * the network, the zones signed for the run, the configurations), each member with its own
 * signed zones, every zone replicated TSIG-authenticated through the hub and validated by
 * every node under the federation's trust anchors, the members taking the federation's
 * zones from the registry's signed catalog (RFC 9432). Each scenario is asserted and timed
 * (the times are printed: docs/benchmarks.md "Multi-host federation"):
 *  (a) convergence: from the first start, every node serves every member's numbers and entry
 *      points with AD=1 (the members: the catalog from the catalog primary, then its member
 *      zones from the hub, their own two not taken from it);
 *  (j) a fourth member, d, joins through the catalog: its node (a new namespace, the primary
 *      of its signed ENUM zone) starts, the registry delegates +15554 to it (the hub
 *      re-signs and reloads e164.fed.), d is added to the catalog (generated again from the
 *      registry's copy of the definition, signed, SIGHUP at the catalog primary): every node
 *      serves d's numbers with AD=1, each took d's zone from d (its primaries.ext), and no
 *      configuration file of any node (nor of the catalog primary) changed;
 *  (l) d leaves the catalog: every node stops serving d's numbers and removes its zone from
 *      its store (`fedenumctl zone list --json` in its namespace; LEFT CATALOG logged once);
 *  (b) member c is stopped (SIGTERM), misses a change at member a (a new number, new serial),
 *      restarts and catches up by IXFR from the hub (its log), serving the new number
 *      validated;
 *  (c) member c is cut off at the switch (`ip link set v-c down`) for longer than the SOA
 *      EXPIRE of member a's zone (NF_EXPIRE s): until then its copy still serves validated;
 *      after it, its default view gets SERVFAIL with EDE 22 (No Reachable Authority) for a's
 *      numbers and its S-CSCF view the policy's BGCF NAPTR (cause zone-unavailable), while
 *      member b's zone (EXPIRE one day) is still served validated; healing the link restores
 *      a's route with AD=1.
 * (j) and (l) run before (b) and (c), on the converged federation. */
#include <criterion/criterion.h>

#include "netns_fed.h"

/* nf_setup runs in the test body: a failed step there still runs .fini (the cleanup). */
TestSuite(netns, .fini = nf_cleanup, .timeout = 240);

#define NUM_A1  "1.0.0.0.0.0.1.5.5.5.1.e164.fed." /* +15551000001 */
#define NUM_B1  "1.0.0.0.0.0.2.5.5.5.1.e164.fed." /* +15552000001 */
#define NUM_NEW "9.0.0.0.0.0.1.5.5.5.1.e164.fed." /* +15551000009, a's second version */
#define ZA      "1.5.5.5.1.e164.fed."
#define ZD      "4.5.5.5.1.e164.fed."             /* member d's ENUM zone */
#define NUM_D1  "1.0.0.0.0.0.4.5.5.5.1.e164.fed." /* +15554000001 */
#define NUM_D2  "2.0.0.0.0.0.4.5.5.5.1.e164.fed." /* +15554000002 */

static long since(uint64_t t0)
{
	return (long)(fe_time_mono_ms() - t0);
}

/* Does @n's store hold @zone: `fedenumctl zone list --json` in @n's namespace, through its
 * control socket. */
static bool listed(const struct nf_node *n, const char *zone)
{
	return fe_test_sh("ip netns exec %s " FE_TEST_FEDENUMCTL
	                  " zone list --socket '%s/control.sock' --json | "
	                  "jq -e '[.zones[].apex] | index(\"%s\") != null' >/dev/null",
	                  n->ns, n->d.dir, zone) == 0;
}

/* One checksum of every node's configuration files (fedenumd.conf, federation.conf). */
static void conf_sum(char *out, size_t cap)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/conf.sum", nf_tmp);
	cr_assert_eq(fe_test_sh("cd '%s' && cat hub/*.conf a/*.conf b/*.conf c/*.conf cat/*.conf "
	                        "d/*.conf | "
	                        "sha256sum | cut -c1-64 > '%s'",
	                        nf_tmp, path),
	             0);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(out, (int)cap, f));
	fclose(f);
}

/* @p is SERVFAIL with EDE @ede, no answer. */
static bool is_servfail(ldns_pkt *p, int ede)
{
	return p && ldns_pkt_get_rcode(p) == LDNS_RCODE_SERVFAIL && fe_test_pkt_ede(p) == ede &&
	       ldns_pkt_ancount(p) == 0;
}

/* @p is the policy's BGCF NAPTR: NOERROR, one NAPTR to NF_BGCF, AD=0, EDE 4 (Forged). */
static bool is_bgcf(ldns_pkt *p)
{
	if (!p || ldns_pkt_get_rcode(p) != LDNS_RCODE_NOERROR || ldns_pkt_ad(p) ||
	    fe_test_pkt_ede(p) != 4 || ldns_pkt_ancount(p) != 1)
		return false;
	char *s = ldns_rr2str(ldns_rr_list_rr(ldns_pkt_answer(p), 0));
	bool ok = s && strstr(s, "NAPTR") && strstr(s, "@" NF_BGCF ";user=phone!");
	free(s);
	return ok;
}

Test(netns, hub_and_three_members_converge_catch_up_and_survive_a_partition)
{
	nf_setup();
	/* (a) convergence. Each member's own zone is rejected at its first load (the registry
	 * that delegates it is not held yet) and loaded again once the registry arrives. */
	uint64_t t0 = fe_time_mono_ms();
	nf_start_all();
	long started = since(t0);
	nf_converge();
	long converged = since(t0);
	for (size_t i = 0; i < 3; i++) {
		struct nf_node *m = nf_members[i];
		char needle[96];
		/* the hub took the member's zones from the member's own address... */
		snprintf(needle, sizeof(needle), "zone %c.5.5.5.1.e164.fed.: AXFR from %s@53",
		         m->digit, m->ip);
		cr_assert(nf_wait_log(&nf_hub, needle, 1));
		snprintf(needle, sizeof(needle), "zone ims-%s.example.: AXFR from %s@53", m->name,
		         m->ip);
		cr_assert(nf_wait_log(&nf_hub, needle, 1));
		/* ...and the member the catalog from the catalog primary, then the registry and
		 * the others' zones (the catalog's members) from the hub */
		cr_assert(nf_wait_log(m, "zone " NF_CAT ": AXFR from " NF_CAT_ADDR, 1));
		cr_assert(nf_wait_log(m, "zone " NF_REG ": AXFR from 10.77.0.1@53", 1));
		snprintf(needle, sizeof(needle),
		         "zone %c.5.5.5.1.e164.fed. is one of this node's own", m->digit);
		cr_assert(nf_wait_log(m, needle, 1), "member %s took its own zone from the catalog",
		          m->name);
		for (size_t k = 0; k < 3; k++)
			if (k != i) {
				snprintf(needle, sizeof(needle),
				         "zone %c.5.5.5.1.e164.fed.: AXFR from 10.77.0.1@53",
				         nf_members[k]->digit);
				cr_assert(nf_wait_log(m, needle, 1));
			}
	}
	/* a transfer without the TSIG key is refused (kdig, from member b's namespace) */
	cr_assert_eq(fe_test_sh("ip netns exec %s kdig @%s +tcp +timeout=2 +retry=0 AXFR " NF_REG
	                        " 2>&1 | grep -q -i -e refused -e notauth",
	                        nf_b.ns, nf_hub.ip),
	             0, "an unsigned AXFR from member b was not refused by the hub");
	printf("netns (a): 4 nodes started in %ld ms; every node serves every member's numbers "
	       "and entry points with AD=1 %ld ms after the first start\n",
	       started, converged);
	fflush(stdout);

	/* (j) member d joins through the catalog. d's node (a new namespace; the primary of its
	 * own signed ENUM zone, NOTIFY to the four nodes) starts; the registry delegates +15554
	 * to d (NS and DS: the hub re-signs and reloads e164.fed., NOTIFY); then d is added to
	 * the registry's copy of the definition, and the catalog is generated again, signed and
	 * reloaded by the catalog primary (SIGHUP, NOTIFY): every node takes d's zone from d
	 * (its primaries.ext) and serves d's numbers with AD=1. No configuration file of any
	 * node changes (checksums), nor of the catalog primary: zone data only. */
	char sum_before[80], sum_after[80];
	conf_sum(sum_before, sizeof(sum_before));
	uint64_t t_join = fe_time_mono_ms();
	nf_node_net_up(&nf_d);
	nf_keygen("4.5.5.5.1.e164.fed", nf_d.key, sizeof(nf_d.key));
	nf_member_enum_zone(&nf_d, NULL);
	nf_start(&nf_d);
	long d_started = since(t_join);
	nf_registry_zone(2, true);
	uint64_t t_deleg = fe_time_mono_ms();
	cr_assert_eq(kill(nf_hub.d.pid, SIGHUP), 0);
	for (size_t i = 0; i < NF_NNODES; i++)
		nf_expect_ad(nf_all[i], ZD, LDNS_RR_TYPE_DS);
	long delegated = since(t_deleg);
	for (size_t i = 0; i < NF_NNODES; i++)
		cr_assert(!nf_served_ad(nf_all[i], NUM_D1, LDNS_RR_TYPE_NAPTR),
		          "node %s serves d's number before the catalog lists it", nf_all[i]->name);
	nf_catalog(2, true);
	uint64_t t_cat = fe_time_mono_ms();
	cr_assert_eq(kill(nf_catp.d.pid, SIGHUP), 0);
	long joined[NF_NNODES];
	for (size_t i = 0; i < NF_NNODES; i++) {
		nf_expect_ad(nf_all[i], NUM_D1, LDNS_RR_TYPE_NAPTR);
		joined[i] = since(t_cat);
	}
	for (size_t i = 0; i < NF_NNODES; i++) {
		struct nf_node *n = nf_all[i];
		nf_expect_ad(n, NUM_D2, LDNS_RR_TYPE_NAPTR);
		/* from the catalog (d's primary by its primaries.ext), in the store */
		cr_assert(nf_wait_log(n, "catalog " NF_CAT ": zone " ZD " added", 1),
		          "node %s did not add d's zone from the catalog", n->name);
		cr_assert(nf_wait_log(n, "zone " ZD ": AXFR from 10.77.0.14@53", 1));
		cr_assert(listed(n, ZD), "d's zone not in the store of node %s", n->name);
	}
	conf_sum(sum_after, sizeof(sum_after));
	cr_assert_str_eq(sum_before, sum_after, "a node's configuration changed");
	printf("netns (j): member d joins: its node started in %ld ms; registry SIGHUP -> d's DS "
	       "with AD=1 at every node %ld ms; catalog SIGHUP -> d's number with AD=1 at the hub "
	       "%ld ms, a %ld ms, b %ld ms, c %ld ms (no configuration change)\n",
	       d_started, delegated, joined[0], joined[1], joined[2], joined[3]);
	fflush(stdout);

	/* (l) member d leaves the catalog (generated again without it; SIGHUP at the catalog
	 * primary): every node stops serving d's numbers and removes its zone from its store
	 * (`fedenumctl zone list --json` in each node's namespace). d's node, the zone's
	 * primary, is stopped then. */
	/* past the catalog's one-refresh-a-second guard since its last refresh (at the join):
	 * the figure is then what an operator sees */
	while (since(t_cat) < 1200)
		nf_sleep_ms(20);
	nf_catalog(3, false);
	uint64_t t_leave = fe_time_mono_ms();
	cr_assert_eq(kill(nf_catp.d.pid, SIGHUP), 0);
	/* every node polled in turn (UDP queries, 10 ms apart): when each stopped answering d's
	 * number with AD=1; then each store, through the control socket (bounded) */
	long left[NF_NNODES];
	size_t pending = NF_NNODES;
	for (size_t i = 0; i < NF_NNODES; i++)
		left[i] = -1;
	while (pending && since(t_leave) < NF_WAIT_MS) {
		for (size_t i = 0; i < NF_NNODES; i++)
			if (left[i] < 0 && !nf_served_ad(nf_all[i], NUM_D1, LDNS_RR_TYPE_NAPTR)) {
				left[i] = since(t_leave);
				pending--;
			}
		if (pending)
			nf_sleep_ms(10);
	}
	for (size_t i = 0; i < NF_NNODES; i++) {
		struct nf_node *n = nf_all[i];
		if (left[i] < 0)
			nf_show(n);
		cr_assert_geq(left[i], 0,
		              "node %s still serves d's number after it left the catalog", n->name);
		while (listed(n, ZD) && since(t_leave) < NF_WAIT_MS)
			nf_sleep_ms(20);
		cr_assert(!listed(n, ZD), "node %s still holds d's zone in its store", n->name);
		cr_assert_eq(fe_test_daemon_log_count(&n->d, "zone " ZD ": LEFT CATALOG " NF_CAT),
		             1);
		/* answered from the registry's delegation now, never d's data */
		ldns_pkt *q = nf_query_at(n, "127.0.0.1", NUM_D1, LDNS_RR_TYPE_NAPTR);
		cr_assert_not_null(q);
		cr_assert_eq(ldns_pkt_ancount(q), 0, "node %s still answers d's number", n->name);
		ldns_pkt_free(q);
	}
	long gone = since(t_leave);
	/* d's node, a primary, still holds its own zone */
	cr_assert(listed(&nf_d, ZD));
	conf_sum(sum_after, sizeof(sum_after));
	cr_assert_str_eq(sum_before, sum_after, "a node's configuration changed");
	nf_stop(&nf_d);
	/* the rest of the federation as before */
	nf_expect_ad(&nf_a, NUM_B1, LDNS_RR_TYPE_NAPTR);
	nf_expect_ad(&nf_c, NUM_A1, LDNS_RR_TYPE_NAPTR);
	printf("netns (l): member d leaves the catalog: catalog SIGHUP -> d's number no longer "
	       "served with AD=1 at the hub %ld ms, a %ld ms, b %ld ms, c %ld ms; the zone gone "
	       "from all four stores (zone list, checked in turn) %ld ms\n",
	       left[0], left[1], left[2], left[3], gone);
	fflush(stdout);

	/* (b) c stopped; a change at a (a new number, serial 2) reaches the hub and b; c
	 * restarts and catches up by IXFR. */
	nf_stop(&nf_c);
	cr_assert(!nf_served_ad(&nf_hub, NUM_NEW, LDNS_RR_TYPE_NAPTR));
	nf_a.serial = 2;
	nf_member_enum_zone(&nf_a, "9.0.0.0.0.0 NAPTR 10 100 \"u\" \"E2U+sip\" "
	                           "\"!^.*$!sip:+15551000009@ims-a.example;user=phone!\" .\n");
	uint64_t t_change = fe_time_mono_ms();
	cr_assert_eq(kill(nf_a.d.pid, SIGHUP), 0);
	nf_expect_ad(&nf_hub, NUM_NEW, LDNS_RR_TYPE_NAPTR);
	long at_hub = since(t_change);
	nf_expect_ad(&nf_b, NUM_NEW, LDNS_RR_TYPE_NAPTR);
	long at_b = since(t_change);
	cr_assert(nf_wait_log(&nf_hub, "zone " ZA ": IXFR from 10.77.0.11@53", 1));
	int axfr_before = fe_test_daemon_log_count(&nf_c.d, "zone " ZA ": AXFR from");
	cr_assert_geq(axfr_before, 1);
	uint64_t t_restart = fe_time_mono_ms();
	nf_start(&nf_c);
	long c_ready = since(t_restart);
	nf_expect_ad(&nf_c, NUM_NEW, LDNS_RR_TYPE_NAPTR);
	long c_caught_up = since(t_restart);
	cr_assert(nf_wait_log(&nf_c, "zone " ZA ": IXFR from 10.77.0.1@53: serial 1 -> 2", 1),
	          "member c did not catch up by IXFR");
	cr_assert_eq(fe_test_daemon_log_count(&nf_c.d, "zone " ZA ": AXFR from"), axfr_before,
	             "member c transferred a's zone whole after its restart");
	nf_expect_ad(&nf_c, NUM_A1, LDNS_RR_TYPE_NAPTR);
	nf_expect_ad(&nf_c, NUM_B1, LDNS_RR_TYPE_NAPTR);
	printf("netns (b): a new number at member a: SIGHUP -> AD=1 at the hub %ld ms, at member "
	       "b %ld ms; member c (stopped meanwhile) restarted: ready %ld ms, new number served "
	       "with AD=1 %ld ms after its start (IXFR serial 1 -> 2)\n",
	       at_hub, at_b, c_ready, c_caught_up);
	fflush(stdout);

	/* (c) partition of c longer than a's SOA EXPIRE. */
	nf_expect_ad(&nf_c, NUM_A1, LDNS_RR_TYPE_NAPTR);
	nf_link(&nf_c, false);
	uint64_t t_cut = fe_time_mono_ms();
	/* shorter than EXPIRE: nothing changes */
	nf_sleep_ms(3000);
	cr_assert(nf_served_ad(&nf_c, NUM_A1, LDNS_RR_TYPE_NAPTR),
	          "member c stopped serving a's zone before its EXPIRE");
	/* the default view (c's loopback) until SERVFAIL EDE 22; bounded */
	long expired = -1;
	while (since(t_cut) < (NF_EXPIRE + 20) * 1000) {
		ldns_pkt *p = nf_query_at(&nf_c, "127.0.0.1", NUM_A1, LDNS_RR_TYPE_NAPTR);
		bool sf = is_servfail(p, 22);
		if (p)
			ldns_pkt_free(p);
		if (sf) {
			expired = since(t_cut);
			break;
		}
		nf_sleep_ms(50);
	}
	if (expired < 0)
		nf_show(&nf_c);
	cr_assert_geq(expired, 0, "member c still serves a's zone %d s after the partition",
	              NF_EXPIRE + 20);
	/* the last successful refresh was at most REFRESH (3 s, and a refresh's time) before
	 * the cut; the zone expires EXPIRE after it (whole seconds), not at the next try */
	cr_assert_geq(expired, (NF_EXPIRE - 5) * 1000L, "a's zone expired after %ld ms only",
	              expired);
	cr_assert_leq(expired, (NF_EXPIRE + 2) * 1000L,
	              "a's zone was served %ld ms after the cut (SOA EXPIRE %d s)", expired,
	              NF_EXPIRE);
	/* the S-CSCF's view (c's own address): the policy's BGCF route */
	ldns_pkt *p = nf_query_at(&nf_c, nf_c.ip, NUM_A1, LDNS_RR_TYPE_NAPTR);
	cr_assert(is_bgcf(p), "member c's S-CSCF view does not get the BGCF NAPTR");
	ldns_pkt_free(p);
	/* b's zone (EXPIRE one day) and c's own are still served validated */
	cr_assert(nf_served_ad(&nf_c, NUM_B1, LDNS_RR_TYPE_NAPTR));
	cr_assert(nf_served_ad(&nf_c, "1.0.0.0.0.0.3.5.5.5.1.e164.fed.", LDNS_RR_TYPE_NAPTR));
	/* the rest of the federation still serves a's zone */
	cr_assert(nf_served_ad(&nf_b, NUM_A1, LDNS_RR_TYPE_NAPTR));
	long partition = since(t_cut);
	nf_link(&nf_c, true);
	uint64_t t_heal = fe_time_mono_ms();
	long healed = nf_wait_ad(&nf_c, NUM_A1, LDNS_RR_TYPE_NAPTR, NF_WAIT_MS);
	if (healed < 0)
		nf_show(&nf_c);
	cr_assert_geq(healed, 0, "member c does not serve a's zone again after the link healed");
	p = nf_query_at(&nf_c, "127.0.0.1", NUM_A1, LDNS_RR_TYPE_NAPTR);
	cr_assert(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NOERROR && ldns_pkt_ad(p));
	ldns_pkt_free(p);
	nf_expect_ad(&nf_c, NUM_NEW, LDNS_RR_TYPE_NAPTR);
	printf("netns (c): member c partitioned for %ld ms; a's zone (SOA EXPIRE %d s) stopped "
	       "being served %ld ms after the cut (SERVFAIL EDE 22; BGCF NAPTR for the S-CSCF "
	       "view); link healed -> AD=1 again after %ld ms\n",
	       partition, NF_EXPIRE, expired, healed);
	(void)t_heal;
	fflush(stdout);
}
