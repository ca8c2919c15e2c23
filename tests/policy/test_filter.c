/* The answer filters (src/policy/filter.c) through fe_policy_apply: P- enumservices to the
 * owning member's view only, topology hiding, NSEC/NSEC3 withheld; a filtered answer is a
 * well-formed message (ldns parses it) without the RRSIGs of what changed, AD clear, EDE 17;
 * an answer with nothing to remove is left byte for byte; no heap in any of it. */
#include <criterion/criterion.h>

#include "fe_test_pkt.h"

#include "fedenum/policy.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>

#include "fe_test_name.h"
#include "fe_test_noheap.h"

static struct fe_policy *pol;

/* Members A (border ibcf.ims-a.example.) and B; views: a (member A), b (member B), p (member
 * B, foreign-proofs off). */
static void setup(void)
{
	cr_assert_eq(fe_policy_create(&pol), FE_OK);
	cr_assert_eq(fe_policy_add_enum_apex(pol, "e164.fed."), FE_OK);
	cr_assert_eq(fe_policy_add_root(pol, "ims-a.example."), FE_OK);
	cr_assert_eq(fe_policy_add_root(pol, "ims-b.example."), FE_OK);
	cr_assert_eq(fe_policy_add_member(pol, "carrier-a", false, NULL, 0, false), 0);
	cr_assert_eq(fe_policy_add_member(pol, "carrier-b", false, NULL, 0, false), 1);
	cr_assert_eq(fe_policy_add_zone(pol, 0, "1.5.5.5.1.e164.fed."), FE_OK);
	cr_assert_eq(fe_policy_add_zone(pol, 0, "ims-a.example."), FE_OK);
	cr_assert_eq(fe_policy_add_zone(pol, 1, "2.5.5.5.1.e164.fed."), FE_OK);
	cr_assert_eq(fe_policy_add_domain(pol, 0, "ims-a.example."), FE_OK);
	cr_assert_eq(fe_policy_add_domain(pol, 1, "ims-b.example."), FE_OK);
	cr_assert_eq(fe_policy_add_border(pol, 0, "ibcf.ims-a.example."), FE_OK);
	cr_assert_eq(fe_policy_add_view(pol, "a", "carrier-a"), 0);
	cr_assert_eq(fe_policy_view_add_client(pol, 0, "127.0.0.2"), FE_OK);
	cr_assert_eq(fe_policy_add_view(pol, "b", "carrier-b"), 1);
	cr_assert_eq(fe_policy_view_add_client(pol, 1, "127.0.0.3"), FE_OK);
	cr_assert_eq(fe_policy_add_view(pol, "p", "carrier-b"), 2);
	cr_assert_eq(fe_policy_view_add_client(pol, 2, "127.0.0.4"), FE_OK);
	cr_assert_eq(fe_policy_view_set_foreign_proofs(pol, 2, false), FE_OK);
	char err[256];
	cr_assert_eq(fe_policy_finish(pol, err, sizeof(err)), FE_OK, "%s", err);
}

static void teardown(void)
{
	fe_policy_destroy(pol);
	pol = NULL;
}

TestSuite(filter, .init = setup, .fini = teardown);

/* ---- messages ----------------------------------------------------------------------- */

static size_t make_query(const char *qname, uint16_t qtype, uint8_t *out)
{
	memset(out, 0, 12);
	out[0] = 0x12, out[1] = 0x34, out[2] = 0x01;
	out[5] = 1;
	out[11] = 1;
	size_t n = 12 + fe_test_wire_name(qname, out + 12);
	out[n++] = (uint8_t)(qtype >> 8), out[n++] = (uint8_t)qtype, out[n++] = 0, out[n++] = 1;
	const uint8_t opt[] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0}; /* DO=1 */
	memcpy(out + n, opt, sizeof(opt));
	return n + sizeof(opt);
}

/* One RR of an engine answer; rdata given as text for the types used here. */
struct rr {
	int sec;
	const char *owner;
	uint16_t type;
	const char *a; /* NAPTR: service; A: address; NSEC/SOA/NS: a name; RRSIG: covered type */
	uint16_t covered;
};

static size_t rdata(const struct rr *r, uint8_t *rd)
{
	size_t n = 0;
	switch (r->type) {
	case FE_T_NAPTR: {
		rd[n++] = 0, rd[n++] = 10, rd[n++] = 0, rd[n++] = 10;
		rd[n++] = 1, rd[n++] = 'u';
		rd[n++] = (uint8_t)strlen(r->a);
		memcpy(rd + n, r->a, strlen(r->a));
		n += strlen(r->a);
		const char *re = "!^.*$!sip:x@ims-a.example!";
		rd[n++] = (uint8_t)strlen(re);
		memcpy(rd + n, re, strlen(re));
		n += strlen(re);
		rd[n++] = 0;
		return n;
	}
	case FE_T_A:
		inet_pton(AF_INET, r->a, rd);
		return 4;
	case FE_T_NS:
		return fe_test_wire_name(r->a, rd);
	case FE_T_SOA:
		n = fe_test_wire_name(r->a, rd);
		n += fe_test_wire_name("hostmaster.example.", rd + n);
		memset(rd + n, 0, 20);
		return n + 20;
	case FE_T_NSEC:
		n = fe_test_wire_name(r->a, rd);
		rd[n++] = 0, rd[n++] = 6, rd[n++] = 0x40, rd[n++] = 0, rd[n++] = 0, rd[n++] = 0,
		rd[n++] = 0, rd[n++] = 3; /* A, NSEC, RRSIG */
		return n;
	case FE_T_RRSIG:
		memset(rd, 0, 18);
		rd[0] = (uint8_t)(r->covered >> 8), rd[1] = (uint8_t)r->covered, rd[2] = 13;
		n = 18 + fe_test_wire_name(r->a, rd + 18);
		memset(rd + n, 0xAB, 64);
		return n + 64;
	default:
		cr_assert_fail("type %u", r->type);
	}
	return 0;
}

static size_t engine(const uint8_t *req, size_t req_len, struct fe_wire_query *q,
                     const struct rr *rrs, size_t nrr, uint16_t rcode, uint8_t *out)
{
	cr_assert_eq(fe_wire_query_parse(req, req_len, q), FE_WIRE_OK);
	struct fe_wire_builder b;
	fe_wire_builder_init(&b, out, 4096, q);
	for (size_t i = 0; i < nrr; i++) {
		uint8_t rd[512], owner[256];
		fe_test_wire_name(rrs[i].owner, owner);
		size_t n = rdata(&rrs[i], rd);
		cr_assert_eq(fe_wire_builder_put_rr(&b, (enum fe_wire_section)rrs[i].sec, owner,
		                                    rrs[i].type, 1, 300, rd, (uint16_t)n),
		             FE_OK);
	}
	fe_wire_builder_set_rcode(&b, rcode);
	fe_wire_builder_set_flags(&b, FE_F_AD | FE_F_AA);
	return fe_wire_builder_finish(&b, q, 1232);
}

static struct sockaddr_in peer(const char *a)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	inet_pton(AF_INET, a, &sa.sin_addr);
	return sa;
}

/* Apply the policy for a client at @from to the engine's answer; ldns parses the result. */
struct out {
	uint8_t msg[4096];
	size_t len, in_len;
	uint8_t in[4096];
	struct fe_policy_decision d;
	ldns_pkt *pkt;
};

static void run(const char *from, const char *qname, uint16_t qtype, const struct rr *rrs,
                size_t nrr, uint16_t rcode, struct out *o)
{
	uint8_t req[512];
	struct fe_wire_query q;
	size_t rl = make_query(qname, qtype, req);
	o->in_len = engine(req, rl, &q, rrs, nrr, rcode, o->in);
	memcpy(o->msg, o->in, o->in_len);
	struct sockaddr_in sa = peer(from);
	int view = fe_policy_view_of(pol, (struct sockaddr *)&sa, NULL);
	cr_assert_geq(view, 0);
	atomic_store(&fe_test_counting, 1);
	o->len = fe_policy_apply(pol, view, req, rl, &q, o->msg, o->in_len, 1232, &o->d);
	atomic_store(&fe_test_counting, 0);
	cr_assert_gt(o->len, 0);
	o->pkt = NULL;
	cr_assert_eq(ldns_wire2pkt(&o->pkt, o->msg, o->len), LDNS_STATUS_OK,
	             "the filtered answer does not parse");
}

static size_t count_type(const ldns_rr_list *l, ldns_rr_type t)
{
	size_t n = 0;
	for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++)
		n += ldns_rr_get_type(ldns_rr_list_rr(l, i)) == t;
	return n;
}

#define NUM_A "4.3.2.1.1.5.5.5.1.e164.fed."

static const struct rr naptr_answer[] = {
        {FE_SEC_ANSWER, NUM_A, FE_T_NAPTR, "E2U+sip", 0},
        {FE_SEC_ANSWER, NUM_A, FE_T_NAPTR, "E2U+P-ims", 0},
        {FE_SEC_ANSWER, NUM_A, FE_T_RRSIG, "1.5.5.5.1.e164.fed.", FE_T_NAPTR},
        {FE_SEC_AUTHORITY, "1.5.5.5.1.e164.fed.", FE_T_NS, "ns1.ims-a.example.", 0},
        {FE_SEC_AUTHORITY, "1.5.5.5.1.e164.fed.", FE_T_RRSIG, "1.5.5.5.1.e164.fed.", FE_T_NS},
        {FE_SEC_ADDITIONAL, "ns1.ims-a.example.", FE_T_A, "192.0.2.53", 0},
};

Test(filter, private_enumservice_only_to_the_owner)
{
	fe_test_noheap_install();
	struct out o;
	run("127.0.0.2", NUM_A, FE_T_NAPTR, naptr_answer, 6, 0, &o);
	cr_assert_eq(o.len, o.in_len, "the owner's view: untouched");
	cr_assert_eq(memcmp(o.msg, o.in, o.len), 0);
	cr_assert_not(o.d.filtered);
	ldns_pkt_free(o.pkt);

	run("127.0.0.3", NUM_A, FE_T_NAPTR, naptr_answer, 6, 0, &o);
	cr_assert(o.d.filtered);
	cr_assert_eq(count_type(ldns_pkt_answer(o.pkt), LDNS_RR_TYPE_NAPTR), 1);
	cr_assert_eq(count_type(ldns_pkt_answer(o.pkt), LDNS_RR_TYPE_RRSIG), 0,
	             "the NAPTR RRSIG no longer covers the RRset");
	cr_assert_eq(count_type(ldns_pkt_authority(o.pkt), LDNS_RR_TYPE_RRSIG), 1,
	             "other RRSIGs stay");
	cr_assert_eq(count_type(ldns_pkt_additional(o.pkt), LDNS_RR_TYPE_A), 0,
	             "ns1.ims-a.example. is an internal name of a border member");
	char *svc = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(o.pkt), 0), 3));
	cr_assert_str_eq(svc, "\"E2U+sip\"");
	free(svc);
	cr_assert_not(ldns_pkt_ad(o.pkt));
	cr_assert(ldns_pkt_aa(o.pkt));
	cr_assert(ldns_pkt_edns_do(o.pkt));
	cr_assert_eq(fe_test_pkt_ede(o.pkt), 17);
	ldns_pkt_free(o.pkt);
	cr_assert_eq(atomic_load(&fe_test_allocations), 0, "%ld allocations",
	             atomic_load(&fe_test_allocations));
}

Test(filter, topology_hiding)
{
	fe_test_noheap_install();
	static const struct rr internal[] = {
	        {FE_SEC_ANSWER, "scscf.ims-a.example.", FE_T_A, "10.0.0.5", 0}};
	struct out o;
	run("127.0.0.3", "scscf.ims-a.example.", FE_T_A, internal, 1, 0, &o);
	cr_assert(o.d.hidden);
	cr_assert_eq(ldns_pkt_get_rcode(o.pkt), LDNS_RCODE_REFUSED);
	cr_assert_eq(ldns_pkt_ancount(o.pkt), 0);
	cr_assert_eq(fe_test_pkt_ede(o.pkt), 17);
	ldns_pkt_free(o.pkt);
	/* the owner's view: the same name answered */
	run("127.0.0.2", "scscf.ims-a.example.", FE_T_A, internal, 1, 0, &o);
	cr_assert_not(o.d.hidden);
	cr_assert_eq(o.len, o.in_len);
	ldns_pkt_free(o.pkt);
	/* border name, SRV owner, the domain itself: visible; a CNAME-like chain into an internal
	 * name loses that record */
	const char *visible[] = {"ibcf.ims-a.example.", "_sip._udp.ims-a.example.",
	                         "_sips._tcp.ibcf.ims-a.example.", "ims-a.example."};
	for (size_t i = 0; i < 4; i++) {
		const struct rr rrs[] = {
		        {FE_SEC_ANSWER, visible[i], FE_T_A, "192.0.2.10", 0},
		        {FE_SEC_ANSWER, "hss.ims-a.example.", FE_T_A, "10.0.0.6", 0}};
		run("127.0.0.3", visible[i], FE_T_A, rrs, 2, 0, &o);
		cr_assert_not(o.d.hidden, "%s", visible[i]);
		cr_assert_eq(ldns_pkt_ancount(o.pkt), 1, "%s", visible[i]);
		ldns_pkt_free(o.pkt);
	}
	/* another member's names are not hidden by A's border list */
	static const struct rr b[] = {{FE_SEC_ANSWER, "x.ims-b.example.", FE_T_A, "10.1.0.1", 0}};
	run("127.0.0.2", "x.ims-b.example.", FE_T_A, b, 1, 0, &o);
	cr_assert_eq(o.len, o.in_len);
	ldns_pkt_free(o.pkt);
	cr_assert_eq(atomic_load(&fe_test_allocations), 0);
}

Test(filter, denial_records_withheld)
{
	fe_test_noheap_install();
	/* NXDOMAIN in carrier A's ENUM zone, with proofs */
	static const struct rr nx[] = {
	        {FE_SEC_AUTHORITY, "1.5.5.5.1.e164.fed.", FE_T_SOA, "ns.example.", 0},
	        {FE_SEC_AUTHORITY, "1.5.5.5.1.e164.fed.", FE_T_RRSIG, "1.5.5.5.1.e164.fed.",
	         FE_T_SOA},
	        {FE_SEC_AUTHORITY, NUM_A, FE_T_NSEC, "5.3.2.1.1.5.5.5.1.e164.fed.", 0},
	        {FE_SEC_AUTHORITY, NUM_A, FE_T_RRSIG, "1.5.5.5.1.e164.fed.", FE_T_NSEC},
	};
	struct out o;
	/* foreign-proofs on (view b): kept */
	run("127.0.0.3", "9.9.1.5.5.5.1.e164.fed.", FE_T_NAPTR, nx, 4, 3, &o);
	cr_assert_eq(o.len, o.in_len);
	ldns_pkt_free(o.pkt);
	/* off (view p): the NSEC and its RRSIG go, the SOA and its RRSIG stay */
	run("127.0.0.4", "9.9.1.5.5.5.1.e164.fed.", FE_T_NAPTR, nx, 4, 3, &o);
	cr_assert(o.d.filtered);
	cr_assert_eq(ldns_pkt_get_rcode(o.pkt), LDNS_RCODE_NXDOMAIN);
	cr_assert_eq(count_type(ldns_pkt_authority(o.pkt), LDNS_RR_TYPE_NSEC), 0);
	cr_assert_eq(count_type(ldns_pkt_authority(o.pkt), LDNS_RR_TYPE_SOA), 1);
	cr_assert_eq(count_type(ldns_pkt_authority(o.pkt), LDNS_RR_TYPE_RRSIG), 1);
	cr_assert_not(ldns_pkt_ad(o.pkt));
	ldns_pkt_free(o.pkt);
	/* the owner's own view with foreign-proofs on: kept */
	run("127.0.0.2", "9.9.1.5.5.5.1.e164.fed.", FE_T_NAPTR, nx, 4, 3, &o);
	cr_assert_eq(o.len, o.in_len);
	ldns_pkt_free(o.pkt);
	/* under a border member's domain: withheld from every other member */
	static const struct rr nx_dom[] = {
	        {FE_SEC_AUTHORITY, "ims-a.example.", FE_T_SOA, "ns.example.", 0},
	        {FE_SEC_AUTHORITY, "ims-a.example.", FE_T_NSEC, "hss.ims-a.example.", 0},
	        {FE_SEC_AUTHORITY, "ims-a.example.", FE_T_RRSIG, "ims-a.example.", FE_T_NSEC},
	};
	run("127.0.0.3", "_sip._tcp.ims-a.example.", FE_T_SRV, nx_dom, 3, 3, &o);
	cr_assert(o.d.filtered);
	cr_assert_eq(count_type(ldns_pkt_authority(o.pkt), LDNS_RR_TYPE_NSEC), 0);
	cr_assert_eq(count_type(ldns_pkt_authority(o.pkt), LDNS_RR_TYPE_RRSIG), 0);
	cr_assert_eq(count_type(ldns_pkt_authority(o.pkt), LDNS_RR_TYPE_SOA), 1);
	ldns_pkt_free(o.pkt);
	cr_assert_eq(atomic_load(&fe_test_allocations), 0);
}
