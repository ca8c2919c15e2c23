/* server/answer_cache.c: answers built from an on-demand cache entry (server.h "answers
 * resolved on demand"): TTLs counted down, expired entries never served, RRSIGs and NSEC3
 * only under DO, AD only for secure entries asked with DO or AD, truncation over UDP. */
#include <criterion/criterion.h>
#include <ldns/ldns.h>
#include <string.h>

#include "fedenum/server.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "fe_test_name.h"
#include "fe_test_pkt.h"
#include "test_answer_msg.h"

#define NAME "1.0.0.0.0.0.6.6.6.1.e164.test"

struct entry {
	uint8_t b[8192];
	size_t n;
	uint16_t count;
};

static void put(struct entry *e, const void *p, size_t n)
{
	cr_assert_leq(e->n + n, sizeof(e->b));
	memcpy(e->b + e->n, p, n);
	e->n += n;
}

static void be(struct entry *e, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--) {
		uint8_t c = (uint8_t)(v >> (8 * i));
		put(e, &c, 1);
	}
}

static void entry_init(struct entry *e, int64_t stored, int64_t expires, uint8_t rcode,
                       uint8_t flags)
{
	memset(e, 0, sizeof(*e));
	be(e, (uint64_t)expires, 8);
	be(e, (uint64_t)stored, 8);
	put(e, &rcode, 1);
	put(e, &flags, 1);
	be(e, 0, 2);
}

static void entry_rr(struct entry *e, uint8_t sec, const char *owner, uint16_t type, uint32_t ttl,
                     const void *rd, uint16_t rdlen)
{
	uint8_t w[FE_WIRE_NAME_MAX];
	size_t wl = fe_test_wire_name(owner, w);
	put(e, &sec, 1);
	put(e, w, wl);
	be(e, type, 2);
	be(e, FE_C_IN, 2);
	be(e, ttl, 4);
	be(e, rdlen, 2);
	put(e, rd, rdlen);
	e->count++;
	e->b[18] = (uint8_t)(e->count >> 8);
	e->b[19] = (uint8_t)e->count;
}

/* A NAPTR answer with its RRSIG. */
static void positive(struct entry *e, int64_t now, uint8_t flags)
{
	entry_init(e, now - 100, now + 500, FE_RCODE_NOERROR, flags);
	static const uint8_t naptr[] = {0,   10,  0,   100, 1, 'u', 7,   'E', '2', 'U',
	                                '+', 's', 'i', 'p', 4, '!', 'x', '!', '!', 0};
	entry_rr(e, 0, NAME ".", FE_T_NAPTR, 3600, naptr, sizeof(naptr));
	uint8_t sig[64] = {0, 35, 13, 11};
	entry_rr(e, 0, NAME ".", FE_T_RRSIG, 3600, sig, sizeof(sig));
}

static ldns_pkt *answer(const struct entry *e, int64_t now, bool dnssec, unsigned flags,
                        size_t *len)
{
	struct msg m;
	msg_header(&m, flags, 1, 0, 0, 1);
	msg_question(&m, NAME, FE_T_NAPTR);
	if (dnssec) {
		msg_opt(&m, 0, NULL, 0);
		m.b[m.n - 4] = 0x80; /* DO: the high bit of the OPT flags */
	} else {
		msg_opt(&m, 0, NULL, 0);
	}
	struct fe_wire_query q;
	cr_assert_eq(fe_wire_query_parse(m.b, m.n, &q), FE_WIRE_OK);
	static uint8_t resp[65535];
	struct fe_answer_opts o = {.udp_max = 1232, .require_validated = true};
	*len = fe_answer_from_odc(&o, &q, FE_TRANSPORT_UDP, e->b, e->n, now, resp, sizeof(resp));
	if (!*len)
		return NULL;
	ldns_pkt *p = NULL;
	cr_assert_eq(ldns_wire2pkt(&p, resp, *len), LDNS_STATUS_OK);
	cr_assert_eq(ldns_pkt_id(p), 0xBEEF);
	return p;
}

static size_t count(ldns_pkt *p, ldns_rr_type t, ldns_pkt_section s)
{
	ldns_rr_list *l = ldns_pkt_rr_list_by_type(p, t, s);
	size_t n = l ? ldns_rr_list_rr_count(l) : 0;
	ldns_rr_list_deep_free(l);
	return n;
}

Test(answer_odc, ttl_counts_down_and_dnssec_records_follow_do)
{
	struct entry e;
	int64_t now = 2000000000;
	positive(&e, now, FE_ODC_SECURE);
	size_t len;
	ldns_pkt *p = answer(&e, now, true, 0x0100, &len);
	cr_assert_not_null(p);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert(ldns_pkt_ad(p), "secure entry asked with DO: AD=1");
	cr_assert_not(ldns_pkt_aa(p));
	cr_assert(ldns_pkt_ra(p));
	cr_assert_eq(count(p, LDNS_RR_TYPE_NAPTR, LDNS_SECTION_ANSWER), 1);
	cr_assert_eq(count(p, LDNS_RR_TYPE_RRSIG, LDNS_SECTION_ANSWER), 1);
	/* stored 100 s ago, 500 s left: min(3600 - 100, 500) */
	cr_assert_eq(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), 0)), 500);
	ldns_pkt_free(p);

	p = answer(&e, now, false, 0x0100, &len);
	cr_assert_not_null(p);
	cr_assert_not(ldns_pkt_ad(p), "no DO, no AD flag asked: AD=0");
	cr_assert_eq(count(p, LDNS_RR_TYPE_RRSIG, LDNS_SECTION_ANSWER), 0);
	cr_assert_eq(count(p, LDNS_RR_TYPE_NAPTR, LDNS_SECTION_ANSWER), 1);
	ldns_pkt_free(p);

	p = answer(&e, now, false, 0x0120, &len); /* AD asked */
	cr_assert(ldns_pkt_ad(p));
	ldns_pkt_free(p);

	/* not secure: never AD */
	positive(&e, now, 0);
	p = answer(&e, now, true, 0x0120, &len);
	cr_assert_not(ldns_pkt_ad(p));
	ldns_pkt_free(p);
}

Test(answer_odc, expired_or_broken_entries_are_not_served)
{
	struct entry e;
	int64_t now = 2000000000;
	positive(&e, now, FE_ODC_SECURE);
	size_t len;
	cr_assert_null(answer(&e, now + 500, true, 0x0100, &len), "at its expiry");
	cr_assert_eq(len, 0);
	cr_assert_null(answer(&e, now + 10000, true, 0x0100, &len));
	ldns_pkt *p = answer(&e, now + 499, true, 0x0100, &len);
	cr_assert_not_null(p);
	cr_assert_eq(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), 0)), 1);
	ldns_pkt_free(p);
	/* cut short, an rcode that is not an answer */
	struct entry s = e;
	s.n -= 10;
	cr_assert_null(answer(&s, now, true, 0x0100, &len));
	s = e;
	s.b[16] = FE_RCODE_SERVFAIL;
	cr_assert_null(answer(&s, now, true, 0x0100, &len));
}

Test(answer_odc, nxdomain_with_its_proof_and_truncation)
{
	struct entry e;
	int64_t now = 2000000000;
	entry_init(&e, now, now + 300, FE_RCODE_NXDOMAIN, FE_ODC_SECURE);
	uint8_t soa[128] = {0};
	size_t o = fe_test_wire_name("ns1.6.6.6.1.e164.test.", soa);
	o += fe_test_wire_name("hostmaster.6.6.6.1.e164.test.", soa + o);
	o += 20;
	entry_rr(&e, 1, "6.6.6.1.e164.test.", FE_T_SOA, 300, soa, (uint16_t)o);
	uint8_t nsec3[40] = {1, 0, 0, 0, 0, 20};
	entry_rr(&e, 1, "abcd.6.6.6.1.e164.test.", FE_T_NSEC3, 300, nsec3, sizeof(nsec3));
	size_t len;
	ldns_pkt *p = answer(&e, now, true, 0x0100, &len);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	cr_assert(ldns_pkt_ad(p));
	cr_assert_eq(count(p, LDNS_RR_TYPE_SOA, LDNS_SECTION_AUTHORITY), 1);
	cr_assert_eq(count(p, LDNS_RR_TYPE_NSEC3, LDNS_SECTION_AUTHORITY), 1);
	ldns_pkt_free(p);
	p = answer(&e, now, false, 0x0100, &len);
	cr_assert_eq(count(p, LDNS_RR_TYPE_SOA, LDNS_SECTION_AUTHORITY), 1);
	cr_assert_eq(count(p, LDNS_RR_TYPE_NSEC3, LDNS_SECTION_AUTHORITY), 0);
	ldns_pkt_free(p);

	/* larger than the client's 1232 octets: TC=1 */
	positive(&e, now, FE_ODC_SECURE);
	uint8_t big[1000] = {0};
	for (int i = 0; i < 3; i++) {
		big[0] = (uint8_t)i;
		entry_rr(&e, 0, NAME ".", FE_T_TXT, 60, big, sizeof(big));
	}
	p = answer(&e, now, true, 0x0100, &len);
	cr_assert_leq(len, 1232);
	cr_assert(ldns_pkt_tc(p));
	ldns_pkt_free(p);
}

Test(answer_odc, key_is_case_folded)
{
	uint8_t a[FE_WIRE_NAME_MAX], b[FE_WIRE_NAME_MAX], ka[FE_WIRE_KEY_MAX + 2],
	        kb[FE_WIRE_KEY_MAX + 2];
	size_t la = fe_test_wire_name("1.6.6.6.1.E164.Test.", a);
	size_t lb = fe_test_wire_name("1.6.6.6.1.e164.test.", b);
	int na = fe_odc_key(a, la, FE_T_NAPTR, ka, sizeof(ka));
	int nb = fe_odc_key(b, lb, FE_T_NAPTR, kb, sizeof(kb));
	cr_assert_gt(na, 2);
	cr_assert_eq(na, nb);
	cr_assert_eq(memcmp(ka, kb, (size_t)na), 0);
	int nc = fe_odc_key(b, lb, FE_T_TXT, kb, sizeof(kb));
	cr_assert_eq(nc, nb);
	cr_assert_neq(memcmp(ka, kb, (size_t)na), 0, "the type is part of the key");
}
