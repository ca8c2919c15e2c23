/* The policy's decision core through its API: every cause × every action (table-driven), the
 * namespace guard, views (source prefix, TSIG key name), agreements, rule matching by prefix
 * and view. The engine's answers are built with the wire builder, as answer.c builds them. */
#include <criterion/criterion.h>

#include "fedenum/policy.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "fe_test_noheap.h"

static struct fe_policy *pol;

static void build(const char *const *rules_causes, enum fe_policy_action action)
{
	cr_assert_eq(fe_policy_create(&pol), FE_OK);
	cr_assert_eq(fe_policy_add_enum_apex(pol, "e164.fed."), FE_OK);
	const char *roots[] = {"ims-a.example.", "ims-b.example.", "ims-c.example.",
	                       "ims-s.example."};
	for (size_t i = 0; i < 4; i++)
		cr_assert_eq(fe_policy_add_root(pol, roots[i]), FE_OK);
	const char *peers_a[] = {"carrier-c"};
	cr_assert_eq(fe_policy_add_member(pol, "registry", false, NULL, 0, false), 0);
	cr_assert_eq(fe_policy_add_member(pol, "carrier-a", false, peers_a, 1, true), 1);
	cr_assert_eq(fe_policy_add_member(pol, "carrier-b", false, NULL, 0, false), 2);
	cr_assert_eq(fe_policy_add_member(pol, "carrier-c", false, NULL, 0, false), 3);
	cr_assert_eq(fe_policy_add_member(pol, "carrier-s", true, NULL, 0, false), 4);
	cr_assert_eq(fe_policy_add_zone(pol, 0, "e164.fed."), FE_OK);
	const char *z[] = {"1.5.5.5.1.e164.fed.", "2.5.5.5.1.e164.fed.", "3.5.5.5.1.e164.fed.",
	                   "4.5.5.5.1.e164.fed."};
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(fe_policy_add_zone(pol, i + 1, z[i]), FE_OK);
		cr_assert_eq(fe_policy_add_domain(pol, i + 1, roots[i]), FE_OK);
	}
	cr_assert_eq(fe_policy_add_view(pol, "a", "carrier-a"), 0);
	cr_assert_eq(fe_policy_view_add_client(pol, 0, "127.0.0.2"), FE_OK);
	cr_assert_eq(fe_policy_add_view(pol, "b", "carrier-b"), 1);
	cr_assert_eq(fe_policy_view_add_client(pol, 1, "127.0.0.3"), FE_OK);
	cr_assert_eq(fe_policy_add_view(pol, "keyed", "carrier-b"), 2);
	cr_assert_eq(fe_policy_view_add_client(pol, 2, "127.0.0.0/8"), FE_OK);
	cr_assert_eq(fe_policy_view_add_tsig_key(pol, 2, "scscf-b."), FE_OK);
	cr_assert_eq(fe_policy_set_bgcf(pol, "sip:bgcf.example.net:5060"), FE_OK);
	cr_assert_eq(fe_policy_set_transit(pol, "sip:hub.example.net"), FE_OK);
	for (size_t i = 0; rules_causes && rules_causes[i]; i++) {
		enum fe_policy_cause c;
		cr_assert_eq(fe_policy_cause_parse(rules_causes[i], &c), FE_OK, "%s",
		             rules_causes[i]);
		cr_assert_geq(fe_policy_add_rule(pol, 1u << c, action), 0);
	}
	char err[256];
	cr_assert_eq(fe_policy_finish(pol, err, sizeof(err)), FE_OK, "%s", err);
}

static void teardown(void)
{
	fe_policy_destroy(pol);
	pol = NULL;
}

/* ---- messages ----------------------------------------------------------------------- */

static size_t name_wire(const char *s, uint8_t *out)
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

static size_t make_query(const char *qname, uint16_t qtype, bool edns, uint8_t *out)
{
	memset(out, 0, 12);
	out[0] = 0x12, out[1] = 0x34, out[2] = 0x01; /* RD */
	out[5] = 1;
	out[11] = edns ? 1 : 0;
	size_t n = 12 + name_wire(qname, out + 12);
	out[n++] = (uint8_t)(qtype >> 8), out[n++] = (uint8_t)qtype, out[n++] = 0, out[n++] = 1;
	if (edns) {
		const uint8_t opt[] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0};
		memcpy(out + n, opt, sizeof(opt));
		n += sizeof(opt);
	}
	return n;
}

static size_t naptr_rdata(const char *flags, const char *svc, const char *re, uint8_t *rd)
{
	size_t n = 0;
	rd[n++] = 0, rd[n++] = 100, rd[n++] = 0, rd[n++] = 10;
	const char *s[3] = {flags, svc, re};
	for (int i = 0; i < 3; i++) {
		rd[n++] = (uint8_t)strlen(s[i]);
		memcpy(rd + n, s[i], strlen(s[i]));
		n += strlen(s[i]);
	}
	rd[n++] = 0;
	return n;
}

/* The engine's answer: rcode, NAPTRs (service, regexp) or an SOA owner for a negative one. */
struct eng {
	uint16_t rcode;
	const char *svc[2], *re[2];
	const char *soa; /* negative: the zone that answered */
};

static size_t engine(const uint8_t *req, size_t req_len, struct fe_wire_query *q,
                     const struct eng *e, uint8_t *out)
{
	cr_assert_eq(fe_wire_query_parse(req, req_len, q), FE_WIRE_OK);
	struct fe_wire_builder b;
	fe_wire_builder_init(&b, out, 4096, q);
	uint8_t rd[512], owner[256];
	for (int i = 0; i < 2 && e->svc[i]; i++) {
		size_t n = naptr_rdata("u", e->svc[i], e->re[i], rd);
		cr_assert_eq(fe_wire_builder_put_rr(&b, FE_SEC_ANSWER, q->qname, FE_T_NAPTR, 1, 300,
		                                    rd, (uint16_t)n),
		             FE_OK);
	}
	if (e->soa) {
		name_wire(e->soa, owner);
		size_t n = name_wire("ns.example.", rd);
		n += name_wire("hostmaster.example.", rd + n);
		memset(rd + n, 0, 20);
		cr_assert_eq(fe_wire_builder_put_rr(&b, FE_SEC_AUTHORITY, owner, FE_T_SOA, 1, 300,
		                                    rd, (uint16_t)(n + 20)),
		             FE_OK);
	}
	fe_wire_builder_set_rcode(&b, e->rcode);
	fe_wire_builder_set_flags(&b, FE_F_AD); /* so that AD=0 after a rewrite means something */
	return fe_wire_builder_finish(&b, q, 1232);
}

/* What a test reads back from an answer. */
struct seen {
	unsigned rcode;
	bool ad, tc;
	unsigned ancount;
	char service[64], regexp[300];
	int ede; /* -1: none */
	char ede_text[128];
};

static void skip_name(const uint8_t *m, size_t *p)
{
	while (m[*p] && (m[*p] & 0xC0) != 0xC0)
		*p += 1u + m[*p];
	*p += m[*p] ? 2 : 1;
}

static void read_back(const uint8_t *m, size_t len, struct seen *s)
{
	memset(s, 0, sizeof(*s));
	s->ede = -1;
	cr_assert_geq(len, 12);
	s->rcode = m[3] & 0xF;
	s->ad = m[3] & 0x20;
	s->tc = m[2] & 0x02;
	s->ancount = (unsigned)(m[6] << 8 | m[7]);
	unsigned total = s->ancount + (unsigned)(m[8] << 8 | m[9]) + (unsigned)(m[10] << 8 | m[11]);
	size_t p = 12;
	skip_name(m, &p);
	p += 4;
	for (unsigned i = 0; i < total; i++) {
		skip_name(m, &p);
		uint16_t type = (uint16_t)(m[p] << 8 | m[p + 1]);
		uint16_t rdlen = (uint16_t)(m[p + 8] << 8 | m[p + 9]);
		const uint8_t *rd = m + p + 10;
		cr_assert_leq(p + 10 + rdlen, len);
		if (type == FE_T_NAPTR && i < s->ancount && !s->service[0]) {
			size_t o = 4 + 1 + rd[4];
			memcpy(s->service, rd + o + 1, rd[o]);
			o += 1u + rd[o];
			memcpy(s->regexp, rd + o + 1, rd[o]);
		}
		if (type == FE_T_OPT) {
			for (size_t o = 0; o + 4 <= rdlen;) {
				uint16_t code = (uint16_t)(rd[o] << 8 | rd[o + 1]);
				uint16_t ol = (uint16_t)(rd[o + 2] << 8 | rd[o + 3]);
				if (code == FE_EDNS_EDE) {
					s->ede = rd[o + 4] << 8 | rd[o + 5];
					memcpy(s->ede_text, rd + o + 6, ol - 2u);
				}
				o += 4u + ol;
			}
		}
		p += 10u + rdlen;
	}
	cr_assert_eq(p, len);
}

static struct sockaddr_in peer(const char *a)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	inet_pton(AF_INET, a, &sa.sin_addr);
	return sa;
}

/* ---- every cause × every action ------------------------------------------------------ */

struct cause_case {
	const char *cause;
	const char *qname; /* a number under e164.fed. */
	const char *number;
	const char *from; /* the asking client */
	struct eng e;
};

static const struct cause_case causes[] = {
        {"no-delegation",
         "4.3.2.1.9.5.5.5.1.e164.fed.",
         "+155591234",
         "127.0.0.2",
         {FE_RCODE_NXDOMAIN, {NULL}, {NULL}, "e164.fed."}},
        {"zone-unavailable",
         "4.3.2.1.2.5.5.5.1.e164.fed.",
         "+155521234",
         "127.0.0.2",
         {FE_RCODE_SERVFAIL, {NULL}, {NULL}, NULL}},
        {"not-found",
         "9.9.9.9.1.5.5.5.1.e164.fed.",
         "+155519999",
         "127.0.0.2",
         {FE_RCODE_NXDOMAIN, {NULL}, {NULL}, "1.5.5.5.1.e164.fed."}},
        {"pstn-only",
         "4.3.2.1.1.5.5.5.1.e164.fed.",
         "+155511234",
         "127.0.0.2",
         {FE_RCODE_NOERROR, {"E2U+pstn:tel"}, {"!^(.*)$!tel:\\1!"}, NULL}},
        {"target-outside",
         "4.3.2.1.1.5.5.5.1.e164.fed.",
         "+155511234",
         "127.0.0.2",
         {FE_RCODE_NOERROR, {"E2U+sip"}, {"!^.*$!sip:+155511234@sip.elsewhere.example!"}, NULL}},
        {"member-suspended",
         "4.3.2.1.4.5.5.5.1.e164.fed.",
         "+155541234",
         "127.0.0.2",
         {FE_RCODE_NOERROR, {"E2U+sip"}, {"!^.*$!sip:+155541234@ims-s.example!"}, NULL}},
        {"no-agreement",
         "4.3.2.1.2.5.5.5.1.e164.fed.",
         "+155521234",
         "127.0.0.2",
         {FE_RCODE_NOERROR, {"E2U+sip"}, {"!^.*$!sip:+155521234@ims-b.example;user=phone!"}, NULL}},
};

static size_t run_case(const struct cause_case *c, int view, bool edns, uint8_t *resp,
                       struct fe_policy_decision *d)
{
	uint8_t req[512];
	struct fe_wire_query q;
	size_t rl = make_query(c->qname, FE_T_NAPTR, edns, req);
	size_t n = engine(req, rl, &q, &c->e, resp);
	return fe_policy_apply(pol, view, req, rl, &q, resp, n, 4096, d);
}

Test(decide, every_cause_times_every_action, .fini = teardown)
{
	for (size_t ci = 0; ci < FE_ARRAY_LEN(causes); ci++) {
		for (unsigned a = 0; a < FE_POLICY_ACTION__MAX; a++) {
			const struct cause_case *c = &causes[ci];
			const char *rc[] = {c->cause, NULL};
			build(rc, (enum fe_policy_action)a);
			struct sockaddr_in sa = peer(c->from);
			int view = fe_policy_view_of(pol, (struct sockaddr *)&sa, NULL);
			cr_assert_eq(view, 0);
			uint8_t resp[4096];
			struct fe_policy_decision d;
			size_t n = run_case(c, view, true, resp, &d);
			struct seen s;
			read_back(resp, n, &s);
			const char *an = fe_policy_action_name(a);
			cr_assert(d.is_enum, "%s", c->cause);
			cr_assert_str_eq(d.number, c->number);
			cr_assert_str_eq(fe_policy_cause_name(d.cause), c->cause, "%s/%s", c->cause,
			                 an);
			cr_assert_eq(d.action, a);
			char text[128];
			snprintf(text, sizeof(text), "federation policy: %s (%s)", c->cause, an);
			char re[128];
			switch (a) {
			case FE_POLICY_PASS:
				cr_assert_eq(s.rcode, c->e.rcode, "%s/%s", c->cause, an);
				cr_assert(s.ad, "pass keeps the engine's answer");
				cr_assert_eq(s.ede, -1);
				break;
			case FE_POLICY_NXDOMAIN:
			case FE_POLICY_REFUSED:
			case FE_POLICY_SERVFAIL:
				cr_assert_eq(s.rcode, a == FE_POLICY_NXDOMAIN  ? FE_RCODE_NXDOMAIN
				                      : a == FE_POLICY_REFUSED ? FE_RCODE_REFUSED
				                                               : FE_RCODE_SERVFAIL);
				cr_assert_not(s.ad);
				cr_assert_eq(s.ancount, 0);
				cr_assert_eq(s.ede, a == FE_POLICY_NXDOMAIN  ? FE_EDE_FILTERED
				                    : a == FE_POLICY_REFUSED ? FE_EDE_PROHIBITED
				                                             : FE_EDE_OTHER);
				cr_assert_str_eq(s.ede_text, text);
				break;
			default:
				cr_assert_eq(s.rcode, FE_RCODE_NOERROR, "%s/%s", c->cause, an);
				cr_assert_not(s.ad, "a synthesized answer is never AD");
				cr_assert_eq(s.ancount, 1);
				cr_assert_eq(s.ede, FE_EDE_FORGED_ANSWER);
				cr_assert_str_eq(s.ede_text, text);
				if (a == FE_POLICY_PSTN) {
					cr_assert_str_eq(s.service, "E2U+pstn:tel");
					cr_assert_str_eq(s.regexp, "!^(.*)$!tel:\\1;enumdi!");
				} else {
					cr_assert_str_eq(s.service, "E2U+sip");
					snprintf(re, sizeof(re), "!^(.*)$!sip:\\1@%s;user=phone!",
					         a == FE_POLICY_BGCF ? "bgcf.example.net:5060"
					                             : "hub.example.net");
					cr_assert_str_eq(s.regexp, re);
				}
			}
			teardown();
		}
	}
}

Test(decide, default_is_pass_and_a_route_is_untouched, .fini = teardown)
{
	build(NULL, FE_POLICY_PASS);
	for (size_t ci = 0; ci < FE_ARRAY_LEN(causes); ci++) {
		uint8_t resp[4096];
		struct fe_policy_decision d;
		size_t n = run_case(&causes[ci], 0, true, resp, &d);
		struct seen s;
		read_back(resp, n, &s);
		cr_assert_eq(d.action, FE_POLICY_PASS);
		cr_assert_eq(s.rcode, causes[ci].e.rcode);
		cr_assert(s.ad);
	}
	/* a route: A's view asking C's number (A peers with C), and B's own */
	const struct eng to_c = {0, {"E2U+sip"}, {"!^.*$!sip:\\1@ims-c.example!"}, NULL};
	const struct cause_case c = {"route", "1.3.5.5.5.1.e164.fed.", "+155531", "127.0.0.2",
	                             to_c};
	uint8_t resp[4096];
	struct fe_policy_decision d;
	run_case(&c, 0, true, resp, &d);
	cr_assert_eq(d.cause, FE_POLICY_ROUTE);
	const struct eng to_b = {0, {"E2U+sip"}, {"!^.*$!sip:\\1@sip.ims-b.example!"}, NULL};
	const struct cause_case cb = {"route", "1.2.5.5.5.1.e164.fed.", "+155521", "127.0.0.3",
	                              to_b};
	run_case(&cb, 1, true, resp, &d);
	cr_assert_eq(d.cause, FE_POLICY_ROUTE);
	run_case(&cb, 0, true, resp, &d);
	cr_assert_eq(d.cause, FE_POLICY_NO_AGREEMENT, "A does not peer with B");
}

Test(decide, rules_by_prefix_and_view_first_match_wins, .fini = teardown)
{
	build(NULL, FE_POLICY_PASS);
	fe_policy_destroy(pol);
	cr_assert_eq(fe_policy_create(&pol), FE_OK);
	fe_policy_add_enum_apex(pol, "e164.fed.");
	fe_policy_add_member(pol, "registry", false, NULL, 0, false);
	fe_policy_add_zone(pol, 0, "e164.fed.");
	fe_policy_add_view(pol, "a", NULL);
	fe_policy_view_add_client(pol, 0, "127.0.0.2");
	fe_policy_add_view(pol, "b", NULL);
	fe_policy_view_add_client(pol, 1, "127.0.0.3");
	fe_policy_set_bgcf(pol, "sip:bgcf.example.net");
	int r = fe_policy_add_rule(pol, 1u << FE_POLICY_NO_DELEGATION, FE_POLICY_BGCF);
	fe_policy_rule_add_prefix(pol, r, "+1555");
	fe_policy_rule_add_view(pol, r, "b");
	r = fe_policy_add_rule(pol, 1u << FE_POLICY_NO_DELEGATION, FE_POLICY_NXDOMAIN);
	fe_policy_rule_add_prefix(pol, r, "+1555");
	char err[128];
	cr_assert_eq(fe_policy_finish(pol, err, sizeof(err)), FE_OK);
	uint8_t resp[4096];
	struct fe_policy_decision d;
	run_case(&causes[0], 1, true, resp, &d);
	cr_assert_eq(d.action, FE_POLICY_BGCF);
	run_case(&causes[0], 0, true, resp, &d);
	cr_assert_eq(d.action, FE_POLICY_NXDOMAIN);
	const struct cause_case other = {"no-delegation",
	                                 "1.4.4.e164.fed.",
	                                 "+441",
	                                 "127.0.0.2",
	                                 {FE_RCODE_NXDOMAIN, {NULL}, {NULL}, "e164.fed."}};
	run_case(&other, 0, true, resp, &d);
	cr_assert_eq(d.cause, FE_POLICY_NO_DELEGATION);
	cr_assert_eq(d.action, FE_POLICY_PASS, "no rule for +44");
}

Test(decide, namespace_guard_and_views, .fini = teardown)
{
	build(NULL, FE_POLICY_PASS);
	uint8_t req[512], resp[4096];
	struct fe_wire_query q;
	struct fe_policy_decision d;
	struct seen s;
	size_t rl = make_query("www.example.com.", FE_T_A, true, req);
	const struct eng refused = {FE_RCODE_REFUSED, {NULL}, {NULL}, NULL};
	size_t n = engine(req, rl, &q, &refused, resp);
	n = fe_policy_apply(pol, 0, req, rl, &q, resp, n, 4096, &d);
	read_back(resp, n, &s);
	cr_assert(d.outside);
	cr_assert_eq(s.rcode, FE_RCODE_REFUSED);
	cr_assert_eq(s.ede, FE_EDE_PROHIBITED);
	cr_assert_not(s.ad);
	cr_assert_eq(fe_policy_set_outside(pol, FE_POLICY_NXDOMAIN), FE_OK);
	cr_assert_eq(fe_policy_set_outside(pol, FE_POLICY_BGCF), FE_EINVAL);
	n = engine(req, rl, &q, &refused, resp);
	n = fe_policy_apply(pol, 0, req, rl, &q, resp, n, 4096, &d);
	read_back(resp, n, &s);
	cr_assert_eq(s.rcode, FE_RCODE_NXDOMAIN);
	cr_assert_eq(s.ede, FE_EDE_PROHIBITED);
	/* inside: untouched */
	rl = make_query("www.ims-a.example.", FE_T_A, true, req);
	const struct eng ok = {FE_RCODE_NOERROR, {NULL}, {NULL}, NULL};
	size_t n0 = engine(req, rl, &q, &ok, resp);
	n = fe_policy_apply(pol, 0, req, rl, &q, resp, n0, 4096, &d);
	cr_assert_eq(n, n0);
	cr_assert_not(d.outside);
	/* no view: REFUSED + EDE 18, also without EDNS (then no OPT) */
	struct sockaddr_in sa = peer("192.0.2.1");
	cr_assert_eq(fe_policy_view_of(pol, (struct sockaddr *)&sa, NULL), -1);
	n = fe_policy_apply(pol, -1, req, rl, &q, resp, n0, 4096, &d);
	read_back(resp, n, &s);
	cr_assert_eq(s.rcode, FE_RCODE_REFUSED);
	cr_assert_eq(s.ede, FE_EDE_PROHIBITED);
	cr_assert_str_eq(s.ede_text, "");
	rl = make_query("www.ims-a.example.", FE_T_A, false, req);
	n0 = engine(req, rl, &q, &ok, resp);
	n = fe_policy_apply(pol, -1, req, rl, &q, resp, n0, 4096, &d);
	read_back(resp, n, &s);
	cr_assert_eq(s.rcode, FE_RCODE_REFUSED);
	cr_assert_eq(s.ede, -1);
	/* TSIG key name selects a view (matched by name only) */
	uint8_t key[64];
	name_wire("SCSCF-B.", key);
	sa = peer("127.0.0.9");
	cr_assert_eq(fe_policy_view_of(pol, (struct sockaddr *)&sa, NULL), -1);
	cr_assert_eq(fe_policy_view_of(pol, (struct sockaddr *)&sa, key), 2);
	name_wire("other.", key);
	cr_assert_eq(fe_policy_view_of(pol, (struct sockaddr *)&sa, key), -1);
	/* A verified TLS client certificate name selects it too (either suffices), compared
	 * without case; the source prefix still applies. */
	cr_assert_eq(fe_policy_view_add_tls_client(pol, 2, "scscf-b.tls.example"), FE_OK);
	cr_assert_eq(
	        fe_policy_view_of_client(pol, (struct sockaddr *)&sa, NULL, "SCSCF-B.tls.example"),
	        2);
	cr_assert_eq(fe_policy_view_of_client(pol, (struct sockaddr *)&sa, key, "other.example"),
	             -1);
	cr_assert_eq(fe_policy_view_of_client(pol, (struct sockaddr *)&sa, NULL, NULL), -1);
	struct sockaddr_in far = peer("192.0.2.1");
	cr_assert_eq(
	        fe_policy_view_of_client(pol, (struct sockaddr *)&far, NULL, "scscf-b.tls.example"),
	        -1);
	cr_assert_eq(fe_policy_view_add_tls_client(pol, 2, ""), FE_ESYNTAX);
	for (int i = 1; i < 8; i++)
		cr_assert_eq(fe_policy_view_add_tls_client(pol, 2, "x.example"), FE_OK);
	cr_assert_eq(fe_policy_view_add_tls_client(pol, 2, "y.example"), FE_ENOSPC);
}

Test(decide, enum_numbers_and_bad_configuration, .fini = teardown)
{
	build(NULL, FE_POLICY_PASS);
	uint8_t req[512], resp[4096];
	struct fe_wire_query q;
	struct fe_policy_decision d;
	/* 16 digits, non-digit labels, other types: no ENUM decision */
	const char *names[] = {"6.5.4.3.2.1.0.9.8.7.6.5.4.3.2.1.e164.fed.", "x.1.e164.fed.",
	                       "12.e164.fed.", "e164.fed."};
	const struct eng nx = {FE_RCODE_NXDOMAIN, {NULL}, {NULL}, "e164.fed."};
	for (size_t i = 0; i < FE_ARRAY_LEN(names); i++) {
		size_t rl = make_query(names[i], FE_T_NAPTR, true, req);
		size_t n = engine(req, rl, &q, &nx, resp);
		cr_assert_eq(fe_policy_apply(pol, 0, req, rl, &q, resp, n, 4096, &d), n);
		cr_assert_not(d.is_enum, "%s", names[i]);
	}
	/* BADVERS (EDNS version 1): the engine's answer stays, whatever the rules */
	size_t rl = make_query("4.3.2.1.1.5.5.5.1.e164.fed.", FE_T_NAPTR, true, req);
	req[rl - 5] = 1; /* the OPT TTL's version octet */
	cr_assert_eq(fe_wire_query_parse(req, rl, &q), FE_WIRE_BADVERS);
	size_t bn = fe_wire_error_response(req, rl, &q, FE_RCODE_BADVERS, resp, sizeof(resp));
	cr_assert_gt(bn, 0);
	cr_assert_eq(fe_policy_apply(pol, 0, req, rl, &q, resp, bn, 4096, &d), bn);
	cr_assert_not(d.is_enum);
	rl = make_query("5.4.3.2.1.0.9.8.7.6.5.4.3.2.1.e164.fed.", FE_T_NAPTR, true, req);
	engine(req, rl, &q, &nx, resp);
	fe_policy_apply(pol, 0, req, rl, &q, resp, 100, 4096, &d);
	cr_assert(d.is_enum);
	cr_assert_str_eq(d.number, "+123456789012345");
	teardown();

	char err[256];
	cr_assert_eq(fe_policy_create(&pol), FE_OK);
	cr_assert_eq(fe_policy_set_bgcf(pol, "tel:+1"), FE_ESYNTAX);
	cr_assert_eq(fe_policy_set_bgcf(pol, "sip:host:99999"), FE_ESYNTAX);
	cr_assert_eq(fe_policy_set_bgcf(pol, "sip:user@host"), FE_ESYNTAX);
	cr_assert_geq(fe_policy_add_rule(pol, 1u << FE_POLICY_NOT_FOUND, FE_POLICY_BGCF), 0);
	cr_assert_eq(fe_policy_finish(pol, err, sizeof(err)), FE_EINVAL);
	cr_assert(strstr(err, "policy.bgcf"), "%s", err);
	cr_assert_eq(fe_policy_add_rule(pol, 1u << FE_POLICY_ROUTE, FE_POLICY_BGCF), FE_EINVAL);
	cr_assert_eq(fe_policy_rule_add_prefix(pol, 0, "1555"), FE_ESYNTAX);
	cr_assert_eq(fe_policy_rule_add_prefix(pol, 0, "+1234567890123456"), FE_ESYNTAX);
	teardown();
	cr_assert_eq(fe_policy_create(&pol), FE_OK);
	const char *peers[] = {"nobody"};
	fe_policy_add_member(pol, "a", false, peers, 1, true);
	cr_assert_eq(fe_policy_finish(pol, err, sizeof(err)), FE_EINVAL);
	cr_assert(strstr(err, "nobody"), "%s", err);
}

/* The hook (what a worker runs per query) allocates nothing: every cause with every action,
 * with rate limiting, harvesting detection and a view budget on,
 * the namespace guard and the no-view refusal, counters and rate-limited logs included. */
Test(decide, hook_allocates_nothing_per_query)
{
	fe_test_noheap_install();
	struct fe_policy_rt *rt = NULL;
	for (unsigned a = 0; a < FE_POLICY_ACTION__MAX; a++) {
		const char *all[] = {
		        "no-delegation",  "zone-unavailable", "not-found",    "pstn-only",
		        "target-outside", "member-suspended", "no-agreement", NULL};
		build(all, (enum fe_policy_action)a);
		/* abuse control on, in its common path (nothing limited) */
		struct fe_policy_rate_limit rrl = {1000000, 2, 15, 24, 56};
		struct fe_policy_harvesting hv = {300, 200, 2000, 50, 30, 600, 24, 56, false};
		cr_assert_eq(fe_policy_set_rate_limit(pol, &rrl), FE_OK);
		cr_assert_eq(fe_policy_set_harvesting(pol, &hv), FE_OK);
		cr_assert_eq(fe_policy_view_set_budget(pol, 0, 1000000, false), FE_OK);
		if (!rt)
			cr_assert_eq(fe_policy_rt_create(1, 1232, pol, &rt), FE_OK);
		else
			fe_policy_rt_swap(rt, pol);
		pol = NULL;
		const struct fe_server_policy *h = fe_policy_rt_hooks(rt);
		for (int pass = 0; pass < 2; pass++) {
			atomic_store(&fe_test_counting, pass == 1);
			for (size_t ci = 0; ci < FE_ARRAY_LEN(causes) + 2; ci++) {
				uint8_t req[512], resp[4096];
				struct fe_wire_query q;
				const struct cause_case *c = &causes[ci % FE_ARRAY_LEN(causes)];
				const char *name =
				        ci == FE_ARRAY_LEN(causes) ? "www.example.com." : c->qname;
				struct sockaddr_in sa = peer(
				        ci == FE_ARRAY_LEN(causes) + 1 ? "192.0.2.7" : c->from);
				size_t rl = make_query(name, FE_T_NAPTR, true, req);
				size_t n = engine(req, rl, &q, &c->e, resp);
				struct fe_server_request r = {.peer = (struct sockaddr *)&sa,
				                              .transport = FE_TRANSPORT_UDP,
				                              .msg = req,
				                              .msg_len = rl,
				                              .q = &q};
				cr_assert_gt(h->after(h->state, &r, resp, n, sizeof(resp)), 0);
			}
			atomic_store(&fe_test_counting, 0);
		}
		cr_assert_eq(atomic_load(&fe_test_allocations), 0,
		             "%ld allocations in the hook (%s)", atomic_load(&fe_test_allocations),
		             fe_policy_action_name(a));
	}
	struct fe_policy_counters pc;
	fe_policy_rt_counters(rt, &pc);
	cr_assert_eq(pc.no_view, FE_POLICY_ACTION__MAX * 2);
	cr_assert_eq(pc.outside, FE_POLICY_ACTION__MAX * 2);
	for (unsigned a = 0; a < FE_POLICY_ACTION__MAX; a++)
		cr_assert_eq(pc.decisions[FE_POLICY_NOT_FOUND][a], 2);
	char buf[1024];
	fe_policy_counters_format(&pc, buf, sizeof(buf));
	cr_assert(strstr(buf, "not-found/bgcf=2"), "%s", buf);
	fe_policy_rt_destroy(rt);
}
