/* Abuse control through the policy runtime's `after` hook, with an injected clock
 * (fe_policy_rt_set_clock): response rate limiting (buckets, classes, slip, no answer longer
 * than the query, TCP untouched, recovery, exemption), per-view query budgets, harvesting
 * detection (sequential walk, random misses, many distinct hits, a normal S-CSCF at a
 * higher rate that is not throttled, hold, exemption) and their counters. */
#include <criterion/criterion.h>

#include "fedenum/policy.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint32_t now;
static uint32_t clock_now(void *arg)
{
	(void)arg;
	return now;
}

static struct fe_policy_rt *rt;
static const struct fe_server_policy *hooks;

/* Views: scscf 192.0.2.0/24, lab 198.51.100.0/24, bulk 203.0.113.0/24. Numbers +1555 1...
 * are carrier-a's (zone 1.5.5.5.1.e164.fed.). */
static struct fe_policy *make(void)
{
	struct fe_policy *p;
	cr_assert_eq(fe_policy_create(&p), FE_OK);
	cr_assert_eq(fe_policy_add_enum_apex(p, "e164.fed."), FE_OK);
	cr_assert_eq(fe_policy_add_root(p, "ims-a.example."), FE_OK);
	cr_assert_eq(fe_policy_add_member(p, "registry", false, NULL, 0, false), 0);
	cr_assert_eq(fe_policy_add_member(p, "carrier-a", false, NULL, 0, false), 1);
	cr_assert_eq(fe_policy_add_zone(p, 0, "e164.fed."), FE_OK);
	cr_assert_eq(fe_policy_add_zone(p, 1, "1.5.5.5.1.e164.fed."), FE_OK);
	cr_assert_eq(fe_policy_add_domain(p, 1, "ims-a.example."), FE_OK);
	const char *views[][2] = {
	        {"scscf", "192.0.2.0/24"}, {"lab", "198.51.100.0/24"}, {"bulk", "203.0.113.0/24"}};
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(fe_policy_add_view(p, views[i][0], NULL), i);
		cr_assert_eq(fe_policy_view_add_client(p, i, views[i][1]), FE_OK);
	}
	return p;
}

static void start(struct fe_policy *p)
{
	char err[256];
	cr_assert_eq(fe_policy_finish(p, err, sizeof(err)), FE_OK, "%s", err);
	cr_assert_eq(fe_policy_rt_create(2, 1232, p, &rt), FE_OK);
	fe_policy_rt_set_clock(rt, clock_now, NULL);
	hooks = fe_policy_rt_hooks(rt);
	now = 1000;
}

static void stop(void)
{
	fe_policy_rt_destroy(rt);
	rt = NULL;
}

static struct fe_policy_counters counters(void)
{
	struct fe_policy_counters c;
	fe_policy_rt_counters(rt, &c);
	return c;
}

/* ---- one query through the hook -------------------------------------------------------- */

struct answer {
	size_t req_len, len;
	unsigned rcode;
	bool tc;
	unsigned ancount;
};

static size_t put_name(const char *s, uint8_t *out)
{
	size_t o = 0;
	while (*s) {
		const char *d = strchr(s, '.');
		size_t l = d ? (size_t)(d - s) : strlen(s);
		out[o++] = (uint8_t)l;
		memcpy(out + o, s, l);
		o += l;
		s += l + (d ? 1 : 0);
	}
	out[o++] = 0;
	return o;
}

/* "+15551000123" → "3.2.1.0.0.0.1.5.5.5.1.e164.fed." */
static void enum_name(const char *number, char *out)
{
	size_t n = strlen(number), o = 0;
	for (size_t i = n; i > 1; i--) {
		out[o++] = number[i - 1];
		out[o++] = '.';
	}
	strcpy(out + o, "e164.fed.");
}

/* Ask @number from @from over @tr; the engine's answer is a route (@hit) or NXDOMAIN from
 * carrier-a's zone. */
static struct answer ask(const char *from, const char *number, bool hit, enum fe_transport tr)
{
	uint8_t req[512], resp[4096];
	char qname[128];
	enum_name(number, qname);
	memset(req, 0, 12);
	req[0] = (uint8_t)now, req[1] = 0x34, req[2] = 0x01, req[5] = 1, req[11] = 1;
	size_t rl = 12 + put_name(qname, req + 12);
	const uint8_t tail[] = {0, FE_T_NAPTR, 0, 1, 0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0};
	memcpy(req + rl, tail, sizeof(tail));
	rl += sizeof(tail);
	struct fe_wire_query q;
	cr_assert_eq(fe_wire_query_parse(req, rl, &q), FE_WIRE_OK);
	struct fe_wire_builder b;
	fe_wire_builder_init(&b, resp, sizeof(resp), &q);
	uint8_t rd[512], owner[256];
	if (hit) {
		char re[128];
		snprintf(re, sizeof(re), "!^.*$!sip:%s@ims-a.example!", number);
		size_t n = 0;
		rd[n++] = 0, rd[n++] = 100, rd[n++] = 0, rd[n++] = 10;
		const char *f[3] = {"u", "E2U+sip", re};
		for (int i = 0; i < 3; i++) {
			rd[n++] = (uint8_t)strlen(f[i]);
			memcpy(rd + n, f[i], strlen(f[i]));
			n += strlen(f[i]);
		}
		rd[n++] = 0;
		cr_assert_eq(fe_wire_builder_put_rr(&b, FE_SEC_ANSWER, q.qname, FE_T_NAPTR, 1, 300,
		                                    rd, (uint16_t)n),
		             FE_OK);
	} else {
		put_name("1.5.5.5.1.e164.fed.", owner);
		size_t n = put_name("ns.example.", rd);
		n += put_name("hostmaster.example.", rd + n);
		memset(rd + n, 0, 20);
		cr_assert_eq(fe_wire_builder_put_rr(&b, FE_SEC_AUTHORITY, owner, FE_T_SOA, 1, 300,
		                                    rd, (uint16_t)(n + 20)),
		             FE_OK);
		fe_wire_builder_set_rcode(&b, FE_RCODE_NXDOMAIN);
	}
	size_t n = fe_wire_builder_finish(&b, &q, 1232);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	inet_pton(AF_INET, from, &sa.sin_addr);
	struct fe_server_request r = {.peer = (struct sockaddr *)&sa,
	                              .transport = tr,
	                              .msg = req,
	                              .msg_len = rl,
	                              .q = &q};
	struct answer a = {.req_len = rl};
	a.len = hooks->after(hooks->state, &r, resp, n, sizeof(resp));
	if (a.len) {
		cr_assert_geq(a.len, 12);
		cr_assert_eq(resp[0], req[0]);
		a.rcode = resp[3] & 0xFu;
		a.tc = resp[2] & 0x02;
		a.ancount = (unsigned)(resp[6] << 8 | resp[7]);
	}
	return a;
}

static struct answer ask_udp(const char *from, const char *number, bool hit)
{
	return ask(from, number, hit, FE_TRANSPORT_UDP);
}

/* ---- response rate limiting ------------------------------------------------------------ */

static void rrl_policy(unsigned rate, unsigned slip, unsigned window)
{
	struct fe_policy *p = make();
	struct fe_policy_rate_limit r = {rate, slip, window, 24, 56};
	cr_assert_eq(fe_policy_set_rate_limit(p, &r), FE_OK);
	cr_assert_eq(fe_policy_exempt_view(p, "lab", FE_POLICY_EXEMPT_RATE_LIMIT), FE_OK);
	cr_assert_eq(fe_policy_exempt_view(p, "nosuch", FE_POLICY_EXEMPT_RATE_LIMIT), FE_ENOENT);
	start(p);
}

Test(abuse, rrl_limits_with_slip_never_larger_than_the_query, .fini = stop)
{
	rrl_policy(5, 2, 3);
	unsigned full = 0, slipped = 0, dropped = 0;
	size_t in = 0, out_limited = 0;
	for (int i = 0; i < 25; i++) {
		struct answer a = ask_udp("192.0.2.7", "+15551000001", true);
		if (i < 5) {
			cr_assert(a.len > a.req_len && a.ancount == 1 && !a.tc, "answer %d", i);
			full++;
			continue;
		}
		in += a.req_len;
		out_limited += a.len;
		if (a.len) {
			cr_assert(a.tc && a.ancount == 0 && a.rcode == FE_RCODE_NOERROR);
			cr_assert_leq(a.len, a.req_len, "a slipped answer outgrows the query");
			slipped++;
		} else {
			dropped++;
		}
	}
	cr_assert_eq(full, 5);
	cr_assert_eq(slipped, 10, "every 2nd limited answer slips");
	cr_assert_eq(dropped, 10);
	cr_assert_leq(out_limited, in, "amplification: %zu bytes out for %zu in", out_limited, in);
	/* the same /24 shares the bucket; another prefix, another name, TCP, an exempt view
	 * do not */
	cr_assert_eq(ask_udp("192.0.2.200", "+15551000001", true).ancount, 0);
	cr_assert_eq(ask_udp("203.0.113.7", "+15551000001", true).ancount, 1);
	cr_assert_eq(ask_udp("192.0.2.7", "+15551000002", true).ancount, 1);
	cr_assert_eq(ask("192.0.2.7", "+15551000001", true, FE_TRANSPORT_TCP).ancount, 1);
	for (int i = 0; i < 20; i++)
		cr_assert_eq(ask_udp("198.51.100.9", "+15551000001", true).ancount, 1);
	struct fe_policy_counters c = counters();
	cr_assert_eq(c.limits[FE_POLICY_RRL_SLIP] + c.limits[FE_POLICY_RRL_DROP], 21);
	cr_assert_eq(c.limits[FE_POLICY_RRL_SLIP], 10 + (c.limits[FE_POLICY_RRL_DROP] == 10));
	char buf[1024];
	fe_policy_counters_format(&c, buf, sizeof(buf));
	cr_assert(strstr(buf, "rrl/slip=") && strstr(buf, "rrl/drop="), "%s", buf);
}

Test(abuse, rrl_debt_lasts_the_window_then_recovers, .fini = stop)
{
	rrl_policy(10, 0, 4);
	unsigned sent = 0;
	for (int i = 0; i < 200; i++) /* 200 in one second: 190 over, the debt capped at 40 */
		sent += ask_udp("192.0.2.7", "+15551000001", true).len > 0;
	cr_assert_eq(sent, 10);
	struct fe_policy_counters c = counters();
	cr_assert_eq(c.limits[FE_POLICY_RRL_DROP], 190, "slip 0: all dropped");
	cr_assert_eq(c.limits[FE_POLICY_RRL_SLIP], 0);
	/* 10 a second refill the debt of 40: nothing for 4 seconds, then answers again */
	now += 4;
	cr_assert_eq(ask_udp("192.0.2.7", "+15551000001", true).len, 0);
	now += 1;
	cr_assert_gt(ask_udp("192.0.2.7", "+15551000001", true).len, 0);
	/* an idle bucket is full again */
	now += 100;
	for (int i = 0; i < 10; i++)
		cr_assert_gt(ask_udp("192.0.2.7", "+15551000001", true).len, 0);
}

Test(abuse, rrl_classes_nxdomain_shared_answers_per_name, .fini = stop)
{
	rrl_policy(5, 1, 2);
	/* NXDOMAIN for different names: one bucket (a spoofed flood of random names) */
	unsigned nx_full = 0;
	char num[32];
	for (int i = 0; i < 20; i++) {
		snprintf(num, sizeof(num), "+1555199%04d", i);
		struct answer a = ask_udp("192.0.2.7", num, false);
		nx_full += a.rcode == FE_RCODE_NXDOMAIN && !a.tc;
	}
	cr_assert_eq(nx_full, 5);
	/* answers for different names: one bucket each */
	for (int i = 0; i < 20; i++) {
		snprintf(num, sizeof(num), "+1555100%04d", i);
		cr_assert_eq(ask_udp("192.0.2.7", num, true).ancount, 1);
	}
	struct fe_policy_counters c = counters();
	cr_assert_eq(c.limits[FE_POLICY_RRL_SLIP], 15, "slip 1: every limited answer slips");
}

/* ---- per-view budgets ------------------------------------------------------------------- */

Test(abuse, budget_per_view_refused_or_dropped, .fini = stop)
{
	struct fe_policy *p = make();
	cr_assert_eq(fe_policy_view_set_budget(p, 0, 10, false), FE_OK);
	cr_assert_eq(fe_policy_view_set_budget(p, 2, 3, true), FE_OK);
	cr_assert_eq(fe_policy_view_set_budget(p, 7, 3, true), FE_EINVAL);
	start(p);
	for (int sec = 0; sec < 3; sec++, now++) {
		unsigned ok = 0, refused = 0, bulk = 0, lab = 0;
		for (int i = 0; i < 25; i++) {
			struct answer a = ask_udp("192.0.2.7", "+15551000001", true);
			ok += a.ancount == 1;
			refused += a.rcode == FE_RCODE_REFUSED && a.len <= a.req_len;
			bulk += ask_udp("203.0.113.5", "+15551000001", true).len > 0;
			lab += ask_udp("198.51.100.5", "+15551000001", true).ancount;
		}
		cr_assert_eq(ok, 10, "second %d", sec);
		cr_assert_eq(refused, 15);
		cr_assert_eq(bulk, 3);
		cr_assert_eq(lab, 25, "a view without a budget");
	}
	struct fe_policy_counters c = counters();
	cr_assert_eq(c.limits[FE_POLICY_BUDGET_REFUSED], 45);
	cr_assert_eq(c.limits[FE_POLICY_BUDGET_DROP], 66);
	cr_assert_eq(c.decisions[FE_POLICY_ROUTE][FE_POLICY_PASS], 30 + 9 + 75,
	             "budget refusals are not decisions");
}

/* ---- harvesting ------------------------------------------------------------------------- */

static void hv_policy(bool drop)
{
	struct fe_policy *p = make();
	struct fe_policy_harvesting h = {.window_s = 300,
	                                 .distinct_numbers = 200,
	                                 .max_distinct = 2000,
	                                 .nxdomain_percent = 50,
	                                 .sequential_percent = 30,
	                                 .hold_s = 600,
	                                 .ipv4_prefix = 24,
	                                 .ipv6_prefix = 56,
	                                 .drop = drop};
	cr_assert_eq(fe_policy_set_harvesting(p, &h), FE_OK);
	h.max_distinct = 100;
	cr_assert_eq(fe_policy_set_harvesting(p, &h), FE_EINVAL, "max-distinct < distinct");
	cr_assert_eq(fe_policy_exempt_view(p, "lab", FE_POLICY_EXEMPT_HARVESTING), FE_OK);
	start(p);
}

/* Queries until @from is throttled walking from @first by @step (misses when !@hit), at
 * most @max; 0: never. */
static unsigned walk(const char *from, unsigned long long first, unsigned step, bool hit,
                     unsigned max)
{
	char num[32];
	for (unsigned i = 0; i < max; i++) {
		snprintf(num, sizeof(num), "+%llu", first + (unsigned long long)i * step);
		struct answer a = ask_udp(from, num, hit);
		if (a.len == 0 || a.rcode == FE_RCODE_REFUSED)
			return i + 1;
		if (i % 10 == 9)
			now++; /* 10 queries a second */
	}
	return 0;
}

Test(abuse, harvest_sequential_walk_throttled_normal_client_not, .fini = stop)
{
	hv_policy(false);
	/* a walker: sequential numbers, mostly absent */
	unsigned n = walk("192.0.2.66", 15551000000ull, 1, false, 2000);
	cr_assert(n > 150 && n <= 260, "throttled after %u queries", n);
	printf("harvesting: sequential walker throttled after %u queries\n", n);
	/* the whole /24 is throttled, for every query, until the hold ends */
	cr_assert_eq(ask_udp("192.0.2.1", "+15551000001", true).rcode, FE_RCODE_REFUSED);
	struct fe_policy_counters c = counters();
	cr_assert_eq(c.limits[FE_POLICY_HARVEST_DETECTED], 1);
	cr_assert_eq(c.limits[FE_POLICY_HARVEST_REFUSED], 2);
	/* a normal S-CSCF in the bulk view, at 5 times the walker's rate: 3000 queries in 60 s
	 * over 150 subscribers' numbers, 90 % present, with repeats */
	unsigned answered = 0;
	srand(7);
	for (unsigned i = 0; i < 3000; i++) {
		char num[32];
		unsigned k = (unsigned)rand() % 150;
		snprintf(num, sizeof(num), "+1555100%04u", k * 37);
		struct answer a = ask_udp("203.0.113.9", num, k % 10 != 0);
		answered += a.rcode != FE_RCODE_REFUSED;
		if (i % 50 == 49)
			now++;
	}
	cr_assert_eq(answered, 3000, "the normal client was throttled");
	printf("harvesting: normal client answered %u of 3000\n", answered);
	/* the hold ends: the walker's prefix gets answers again */
	now += 600;
	cr_assert_eq(ask_udp("192.0.2.1", "+15551000001", true).ancount, 1);
}

Test(abuse, harvest_random_misses_and_distinct_hits, .fini = stop)
{
	hv_policy(true);
	/* random numbers, all absent: the miss share after ~200 distinct */
	char num[32];
	unsigned n = 0;
	srand(11);
	for (unsigned i = 0; i < 2000 && !n; i++) {
		snprintf(num, sizeof(num), "+1555%07u", (unsigned)rand() % 10000000u);
		if (ask_udp("192.0.2.66", num, false).len == 0)
			n = i + 1;
	}
	cr_assert(n > 170 && n <= 240, "random misses throttled after %u", n);
	/* present numbers, spread out: only max-distinct catches them */
	n = walk("203.0.113.66", 15551000000ull, 997, true, 4000);
	cr_assert(n > 1700 && n <= 2300, "distinct hits throttled after %u", n);
	/* an exempt view is never throttled */
	cr_assert_eq(walk("198.51.100.66", 15551000000ull, 1, false, 3000), 0);
	struct fe_policy_counters c = counters();
	cr_assert_eq(c.limits[FE_POLICY_HARVEST_DETECTED], 2);
	cr_assert_eq(c.limits[FE_POLICY_HARVEST_DROP], 2);
}

Test(abuse, harvest_window_forgets_slow_clients, .fini = stop)
{
	hv_policy(false);
	/* 150 sequential misses per window: below distinct-numbers, never throttled */
	char num[32];
	for (unsigned w = 0; w < 5; w++) {
		for (unsigned i = 0; i < 150; i++) {
			snprintf(num, sizeof(num), "+%llu", 15551000000ull + w * 150 + i);
			cr_assert_eq(ask_udp("192.0.2.66", num, false).rcode, FE_RCODE_NXDOMAIN);
		}
		now += 300;
	}
	cr_assert_eq(counters().limits[FE_POLICY_HARVEST_DETECTED], 0);
}

/* ---- cost ------------------------------------------------------------------------------- */

static double hook_ns(unsigned n, unsigned *answered)
{
	struct timespec t0, t1;
	char num[32];
	*answered = 0;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
	for (unsigned i = 0; i < n; i++) {
		snprintf(num, sizeof(num), "+1555100%04u", i * 7919 % 2000);
		*answered += ask_udp("192.0.2.7", num, i % 10 != 0).len > 0;
		if (i % 1000 == 999)
			now++;
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
	return ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / n;
}

/* What a query costs in the hook (building the query and the engine's answer included),
 * with abuse control off and on, in its common path, the best of 5 alternating rounds of
 * each in thread CPU time: printed, not asserted (a shared machine's timings); the work is. */
Test(abuse, cost_of_the_common_path_printed, .fini = stop)
{
	struct fe_policy *p = make();
	struct fe_policy_rate_limit r = {10000000, 2, 15, 24, 56};
	struct fe_policy_harvesting h = {300, 4000, 4000, 100, 100, 600, 24, 56, false};
	cr_assert_eq(fe_policy_set_rate_limit(p, &r), FE_OK);
	cr_assert_eq(fe_policy_set_harvesting(p, &h), FE_OK);
	cr_assert_eq(fe_policy_view_set_budget(p, 0, 10000000, false), FE_OK);
	start(p);
	struct fe_policy_rt *rt_on = rt;
	const struct fe_server_policy *on_hooks = hooks;
	start(make());
	struct fe_policy_rt *rt_off = rt;
	const struct fe_server_policy *off_hooks = hooks;
	double best[2] = {1e12, 1e12};
	for (int round = 0; round < 10; round++) {
		bool on = round & 1;
		hooks = on ? on_hooks : off_hooks;
		unsigned answered;
		double ns = hook_ns(20000, &answered);
		cr_assert_eq(answered, 20000);
		if (ns < best[on])
			best[on] = ns;
	}
	struct fe_policy_counters c;
	fe_policy_rt_counters(rt_on, &c);
	for (unsigned i = 0; i < FE_POLICY_LIMIT__MAX; i++)
		cr_assert_eq(c.limits[i], 0);
	cr_assert_eq(c.decisions[FE_POLICY_ROUTE][FE_POLICY_PASS], 5 * 18000);
	printf("abuse control: %.0f ns per query through the hook without, %.0f ns with rate "
	       "limiting, harvesting and a budget (+%.0f ns)\n",
	       best[0], best[1], best[1] - best[0]);
	fe_policy_rt_destroy(rt_on);
	rt = rt_off;
}
