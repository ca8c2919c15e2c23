/* Answer builder: header, compression round trip (checked with ldns), truncation,
 * rollback, rcodes, OPT, EDE, error answers. */
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "fe_test_name.h"

#include <criterion/criterion.h>
#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>

/* Query built by ldns. @bufsize 0: no EDNS. */
static size_t mkquery(const char *qn, uint16_t qt, uint16_t flags, uint16_t bufsize, bool do_bit,
                      uint8_t *out, size_t cap)
{
	ldns_pkt *p = ldns_pkt_query_new(ldns_dname_new_frm_str(qn), qt, LDNS_RR_CLASS_IN, 0);
	cr_assert_not_null(p);
	ldns_pkt_set_id(p, 0x1234);
	ldns_pkt_set_rd(p, (flags & FE_F_RD) != 0);
	ldns_pkt_set_cd(p, (flags & FE_F_CD) != 0);
	if (bufsize) {
		ldns_pkt_set_edns_udp_size(p, bufsize);
		ldns_pkt_set_edns_do(p, do_bit);
	}
	uint8_t *w = NULL;
	size_t n = 0;
	cr_assert_eq(ldns_pkt2wire(&w, p, &n), LDNS_STATUS_OK);
	cr_assert_leq(n, cap);
	memcpy(out, w, n);
	free(w);
	ldns_pkt_free(p);
	return n;
}

static uint8_t qbuf[512];
static struct fe_wire_query q;
static uint8_t out[65535];

static void parse_query(const char *qn, uint16_t qt, uint16_t flags, uint16_t bufsize, bool do_bit)
{
	size_t n = mkquery(qn, qt, flags, bufsize, do_bit, qbuf, sizeof(qbuf));
	cr_assert_eq(fe_wire_query_parse(qbuf, n, &q), FE_WIRE_OK);
}

static ldns_pkt *ldns_parse(const uint8_t *b, size_t n)
{
	ldns_pkt *p = NULL;
	ldns_status st = ldns_wire2pkt(&p, b, n);
	cr_assert_eq(st, LDNS_STATUS_OK, "ldns cannot parse our answer: %s",
	             ldns_get_errorstr_by_id(st));
	return p;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_a(struct fe_wire_builder *b, enum fe_wire_section sec, const char *owner, int rc)
{
	uint8_t o[FE_WIRE_NAME_MAX];
	fe_test_wire_name(owner, o);
	static const uint8_t a[] = {192, 0, 2, 7};
	cr_assert_eq(fe_wire_builder_put_rr(b, sec, o, FE_T_A, FE_C_IN, 300, a, 4), rc, "%s",
	             owner);
}

Test(build, header_and_question)
{
	parse_query("WwW.ExAmPlE.", FE_T_AAAA, FE_F_RD | FE_F_CD, 0, false);
	struct fe_wire_builder b;
	fe_wire_builder_init(&b, out, sizeof(out), &q);
	size_t n = fe_wire_builder_finish(&b, &q, 1232);
	cr_assert_eq(n, 12 + q.qname_len + 4u);
	cr_assert_eq(be16(out), 0x1234);
	cr_assert_eq(be16(out + 2), FE_F_QR | FE_F_RA | FE_F_RD | FE_F_CD);
	cr_assert_eq(be16(out + 4), 1);
	cr_assert_eq(be16(out + 6) | be16(out + 8) | be16(out + 10), 0);
	cr_assert_eq(memcmp(out + 12, qbuf + 12, q.qname_len + 4u), 0, "question verbatim");
	ldns_pkt *p = ldns_parse(out, n);
	cr_assert(ldns_pkt_qr(p));
	cr_assert(ldns_pkt_ra(p));
	cr_assert_not(ldns_pkt_aa(p));
	cr_assert_not(ldns_pkt_edns(p));
	ldns_pkt_free(p);

	/* without RD/CD: not set in the answer; NOTIFY opcode copied */
	parse_query("example.", FE_T_SOA, 0, 0, false);
	q.flags |= FE_OP_NOTIFY << 11;
	fe_wire_builder_init(&b, out, sizeof(out), &q);
	fe_wire_builder_finish(&b, &q, 1232);
	cr_assert_eq(be16(out + 2), FE_F_QR | FE_F_RA | FE_OP_NOTIFY << 11);
}

Test(build, compression_bytes)
{
	parse_query("WWW.Example.", FE_T_A, 0, 0, false);
	struct fe_wire_builder b;
	fe_wire_builder_init(&b, out, sizeof(out), &q);
	size_t at = b.len;
	put_a(&b, FE_SEC_ANSWER, "www.example.", FE_OK);
	cr_assert_eq(out[at], 0xC0);
	cr_assert_eq(out[at + 1], 12, "owner == qname: pointer to the question");
	at = b.len;
	put_a(&b, FE_SEC_ANSWER, "example.", FE_OK);
	cr_assert_eq(be16(out + at), 0xC000 | 16, "suffix of the question");
	at = b.len;
	size_t mail = at;
	put_a(&b, FE_SEC_AUTHORITY, "mail.EXAMPLE.", FE_OK);
	cr_assert_eq(memcmp(out + at, "\004mail\xC0\x10", 7), 0);
	at = b.len;
	put_a(&b, FE_SEC_AUTHORITY, "Mail.example.", FE_OK);
	cr_assert_eq(be16(out + at), 0xC000 | mail, "earlier owner");
	at = b.len;
	put_a(&b, FE_SEC_AUTHORITY, "x.mail.example.", FE_OK);
	cr_assert_eq(memcmp(out + at, "\001x", 2), 0);
	cr_assert_eq(be16(out + at + 2), 0xC000 | mail);
	at = b.len;
	size_t com = at;
	put_a(&b, FE_SEC_ADDITIONAL, "com.", FE_OK);
	cr_assert_eq(memcmp(out + at, "\003com\0", 5), 0, "no match: literal");
	at = b.len;
	put_a(&b, FE_SEC_ADDITIONAL, "a.b.com.", FE_OK);
	cr_assert_eq(memcmp(out + at, "\001a\001b", 4), 0);
	cr_assert_eq(be16(out + at + 4), 0xC000 | com);
	at = b.len;
	put_a(&b, FE_SEC_ADDITIONAL, "b.com.", FE_OK);
	cr_assert_eq(be16(out + at), 0xC000 | (com + 19 + 2), "suffix of an owner");
	at = b.len;
	put_a(&b, FE_SEC_ADDITIONAL, ".", FE_OK);
	cr_assert_eq(out[at], 0, "root owner");
	size_t n = fe_wire_builder_finish(&b, &q, 1232);

	ldns_pkt *p = ldns_parse(out, n);
	cr_assert_eq(ldns_pkt_ancount(p), 2);
	cr_assert_eq(ldns_pkt_nscount(p), 3);
	cr_assert_eq(ldns_pkt_arcount(p), 4);
	static const char *const exp[] = {"www.example.",  "example.",        "mail.example.",
	                                  "mail.example.", "x.mail.example.", "com.",
	                                  "a.b.com.",      "b.com.",          "."};
	size_t k = 0;
	ldns_rr_list *secs[] = {ldns_pkt_answer(p), ldns_pkt_authority(p), ldns_pkt_additional(p)};
	for (int s = 0; s < 3; s++) {
		for (size_t i = 0; i < ldns_rr_list_rr_count(secs[s]); i++, k++) {
			ldns_rdf *e = ldns_dname_new_frm_str(exp[k]);
			ldns_rr *rr = ldns_rr_list_rr(secs[s], i);
			cr_assert_eq(ldns_dname_compare(ldns_rr_owner(rr), e), 0, "rr %zu", k);
			cr_assert_eq(ldns_rr_get_type(rr), LDNS_RR_TYPE_A);
			cr_assert_eq(ldns_rr_ttl(rr), 300);
			ldns_rdf_deep_free(e);
		}
	}
	cr_assert_eq(k, FE_ARRAY_LEN(exp));
	ldns_pkt_free(p);
}

/* RFC 3597 §4: names inside SRV (and any type after RFC 1035) RDATA stay uncompressed. */
Test(build, rdata_of_later_types_not_compressed)
{
	parse_query("www.example.", FE_T_SRV, 0, 0, false);
	struct fe_wire_builder b;
	fe_wire_builder_init(&b, out, sizeof(out), &q);
	uint8_t rd[6 + FE_WIRE_NAME_MAX] = {0, 1, 0, 2, 0x13, 0xc4};
	size_t rl = 6 + fe_test_wire_name("www.example.", rd + 6);
	cr_assert_eq(fe_wire_builder_put_rr(&b, FE_SEC_ANSWER, q.qname, FE_T_SRV, FE_C_IN, 5, rd,
	                                    (uint16_t)rl),
	             FE_OK);
	size_t n = fe_wire_builder_finish(&b, &q, 512);
	cr_assert_eq(n, 12 + 17 + 2 + 10 + rl);
	cr_assert_eq(memcmp(out + n - rl, rd, rl), 0);
}

/* RFC 1035 §4.1.4: CNAME, SOA and MX RDATA names point at names already in the message. */
Test(build, rdata_of_rfc1035_types_compressed)
{
	parse_query("www.example.", FE_T_CNAME, 0, 0, false);
	struct fe_wire_builder b;
	fe_wire_builder_init(&b, out, sizeof(out), &q);
	uint8_t rd[FE_WIRE_NAME_MAX];
	size_t rl = fe_test_wire_name("www.example.", rd);
	cr_assert_eq(fe_wire_builder_put_rr(&b, FE_SEC_ANSWER, q.qname, FE_T_CNAME, FE_C_IN, 5, rd,
	                                    (uint16_t)rl),
	             FE_OK);
	/* SOA at example.: MNAME ns.example., RNAME host.example., then 20 octets */
	uint8_t soa[2 * FE_WIRE_NAME_MAX + 20];
	size_t sl = fe_test_wire_name("ns.example.", soa);
	sl += fe_test_wire_name("host.example.", soa + sl);
	memset(soa + sl, 7, 20);
	sl += 20;
	uint8_t apex[FE_WIRE_NAME_MAX];
	fe_test_wire_name("example.", apex);
	cr_assert_eq(fe_wire_builder_put_rr(&b, FE_SEC_AUTHORITY, apex, FE_T_SOA, FE_C_IN, 5, soa,
	                                    (uint16_t)sl),
	             FE_OK);
	size_t n = fe_wire_builder_finish(&b, &q, 512);
	/* CNAME RDATA is a pointer to the question name (2 octets); SOA owner a pointer, MNAME
	 * "ns" + pointer, RNAME "host" + pointer, 20 octets */
	cr_assert_eq(n, 12 + 17 + (2 + 10 + 2) + (2 + 10 + (3 + 2) + (5 + 2) + 20));
	ldns_pkt *p = NULL;
	cr_assert_eq(ldns_wire2pkt(&p, out, n), LDNS_STATUS_OK);
	ldns_rr *cname = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
	char *t = ldns_rdf2str(ldns_rr_rdf(cname, 0));
	cr_expect_str_eq(t, "www.example.");
	free(t);
	ldns_rr *s = ldns_rr_list_rr(ldns_pkt_authority(p), 0);
	t = ldns_rdf2str(ldns_rr_rdf(s, 1));
	cr_expect_str_eq(t, "host.example.");
	free(t);
	cr_expect_eq(ldns_rdf2native_int32(ldns_rr_rdf(s, 2)), 0x07070707u);
	ldns_pkt_free(p);
}

/* Random owners drawn from a small tree so that suffixes are shared, random case, random
 * RDATA sizes (offsets well past the 14-bit pointer range), checked with ldns. */
static uint32_t rs = 99;
static uint32_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 17;
	rs ^= rs << 5;
	return rs;
}

Test(build, random_roundtrip_with_ldns)
{
	static const char *const labels[] = {"a", "B", "ex", "Fed", "e164", "1", "0", "www", "zz"};
	for (int round = 0; round < 30; round++) {
		parse_query("1.0.e164.FED.", FE_T_NAPTR, FE_F_RD, 4096, true);
		struct fe_wire_builder b;
		fe_wire_builder_init(&b, out, sizeof(out), &q);
		enum { NRR = 120 };
		static uint8_t owners[NRR][FE_WIRE_NAME_MAX];
		static uint8_t rdata[NRR][700];
		static uint16_t rdlen[NRR];
		static int secs[NRR];
		size_t plain = b.len;
		int sec = 0;
		for (int i = 0; i < NRR; i++) {
			char name[128] = "";
			unsigned nl = rnd() % 5;
			for (unsigned l = 0; l < nl; l++) {
				strcat(name, labels[rnd() % FE_ARRAY_LEN(labels)]);
				strcat(name, ".");
			}
			strcat(name, rnd() % 2 ? "e164.fed." : "fed.");
			fe_test_wire_name(name, owners[i]);
			for (size_t j = 1; owners[i][j]; j++)
				if (rnd() % 3 == 0 && owners[i][j] >= 'a' && owners[i][j] <= 'z')
					owners[i][j] ^= 0x20;
			rdlen[i] = (uint16_t)(rnd() % (round % 2 ? 700 : 40));
			for (unsigned j = 0; j < rdlen[i]; j++)
				rdata[i][j] = (uint8_t)rnd();
			if (rnd() % 10 == 0 && sec < 2)
				sec++;
			secs[i] = sec;
			if (rnd() % 4 == 0) {
				/* an RRset that gets rolled back: its names must be forgotten */
				size_t m = fe_wire_builder_mark(&b);
				uint16_t c[3];
				memcpy(c, b.count, sizeof(c));
				uint8_t tmp[FE_WIRE_NAME_MAX];
				fe_test_wire_name(rnd() % 2 ? "gone.e164.fed." : "q.1.0.e164.fed.",
				                  tmp);
				static const uint8_t junk[8] = {0xC0, 0x0C, 0xC0, 0x0C};
				for (unsigned k = 0; k < 1 + rnd() % 3; k++)
					fe_wire_builder_put_rr(&b, (enum fe_wire_section)sec,
					                       k % 2 ? tmp : owners[i], 0xFF01,
					                       FE_C_IN, 0, junk, sizeof(junk));
				fe_wire_builder_rollback(&b, m, c);
				cr_assert_eq(b.len, m);
				/* scribble over the rolled-back area as a later RR would */
				memset(out + m, 0xC0, sizeof(out) - m);
			}
			int rc = fe_wire_builder_put_rr(&b, (enum fe_wire_section)sec, owners[i],
			                                0xFF00, FE_C_IN, (uint32_t)i, rdata[i],
			                                rdlen[i]);
			if (rc == FE_ENOSPC) {
				secs[i] = -1;
				continue;
			}
			cr_assert_eq(rc, FE_OK);
			plain += (size_t)fe_wire_name_len(owners[i], FE_WIRE_NAME_MAX) + 10 +
			         rdlen[i];
		}
		size_t n = fe_wire_builder_finish(&b, &q, 1232);
		cr_assert_lt(n, plain + 11, "compression saved nothing");
		ldns_pkt *p = ldns_parse(out, n);
		cr_assert(ldns_pkt_edns(p));
		cr_assert(ldns_pkt_edns_do(p));
		size_t idx[3] = {0, 0, 0};
		ldns_rr_list *lists[] = {ldns_pkt_answer(p), ldns_pkt_authority(p),
		                         ldns_pkt_additional(p)};
		for (int i = 0; i < NRR; i++) {
			if (secs[i] < 0)
				continue;
			ldns_rr *rr = ldns_rr_list_rr(lists[secs[i]], idx[secs[i]]++);
			cr_assert_not_null(rr);
			ldns_rdf *o = ldns_rdf_new_frm_data(
			        LDNS_RDF_TYPE_DNAME,
			        (size_t)fe_wire_name_len(owners[i], FE_WIRE_NAME_MAX), owners[i]);
			cr_assert_eq(ldns_dname_compare(ldns_rr_owner(rr), o), 0, "round %d rr %d",
			             round, i);
			ldns_rdf_deep_free(o);
			cr_assert_eq(ldns_rr_ttl(rr), (uint32_t)i);
			/* an unknown type: ldns keeps the RDATA as one opaque field */
			if (rdlen[i] > 0) {
				cr_assert_eq(ldns_rr_rd_count(rr), 1);
				cr_assert_eq(ldns_rdf_size(ldns_rr_rdf(rr, 0)), rdlen[i]);
				cr_assert_eq(memcmp(ldns_rdf_data(ldns_rr_rdf(rr, 0)), rdata[i],
				                    rdlen[i]),
				             0);
			}
		}
		for (int s = 0; s < 3; s++)
			cr_assert_eq(idx[s], ldns_rr_list_rr_count(lists[s]));
		ldns_pkt_free(p);

		/* and our own reader agrees on every owner */
		size_t pos = q.question_end;
		for (int i = 0; i < NRR; i++) {
			if (secs[i] < 0)
				continue;
			uint8_t nm[FE_WIRE_NAME_MAX];
			int l = fe_wire_name_read(out, n, &pos, nm);
			cr_assert_gt(l, 0);
			cr_assert(fe_wire_name_eq(nm, owners[i]));
			pos += 10 + be16(out + pos + 8);
		}
	}
}

Test(build, truncation_writes_nothing_partial)
{
	parse_query("example.", FE_T_A, 0, 0, false);
	struct fe_wire_builder b;
	fe_wire_builder_init(&b, out, 512, &q);
	int i = 0, rc;
	char nm[64];
	do {
		snprintf(nm, sizeof(nm), "host%d.example.", i++);
		size_t len0 = b.len;
		uint16_t c0 = b.count[0];
		uint8_t o[FE_WIRE_NAME_MAX];
		fe_test_wire_name(nm, o);
		static const uint8_t a[] = {1, 2, 3, 4};
		rc = fe_wire_builder_put_rr(&b, FE_SEC_ANSWER, o, FE_T_A, FE_C_IN, 1, a, 4);
		if (rc == FE_ENOSPC) {
			cr_assert_eq(b.len, len0);
			cr_assert_eq(b.count[0], c0);
		}
	} while (rc == FE_OK);
	cr_assert_eq(rc, FE_ENOSPC);
	cr_assert(b.truncated);
	cr_assert_leq(b.len, 512);
	cr_assert_gt(b.len + 7 + 2 + 10 + 4, 512, "stopped only when really full");
	size_t n = fe_wire_builder_finish(&b, &q, 512);
	ldns_pkt *p = ldns_parse(out, n);
	cr_assert_eq(ldns_pkt_ancount(p), (size_t)i - 1);
	ldns_pkt_free(p);
}

Test(build, exact_fit_and_opt_reserve)
{
	parse_query("example.", FE_T_A, 0, 1232, false);
	struct fe_wire_builder b;
	fe_wire_builder_init(&b, out, 512, &q);
	cr_assert_eq(b.reserve, FE_WIRE_OPT_LEN);
	cr_assert_eq(fe_wire_builder_add_ede(&b, FE_EDE_PROHIBITED), FE_OK);
	size_t left = 512 - b.len - b.reserve;
	uint8_t big[600] = {0};
	/* owner compresses to 2 octets: 2 + 10 + rdlen == left */
	uint16_t rl = (uint16_t)(left - 12);
	cr_assert_eq(fe_wire_builder_put_rr(&b, FE_SEC_ANSWER, q.qname, FE_T_TXT, FE_C_IN, 1, big,
	                                    (uint16_t)(rl + 1)),
	             FE_ENOSPC);
	cr_assert_eq(
	        fe_wire_builder_put_rr(&b, FE_SEC_ANSWER, q.qname, FE_T_TXT, FE_C_IN, 1, big, rl),
	        FE_OK);
	cr_assert_eq(fe_wire_builder_put_rr(&b, FE_SEC_ADDITIONAL, (const uint8_t *)"", FE_T_A,
	                                    FE_C_IN, 1, NULL, 0),
	             FE_ENOSPC);
	cr_assert_eq(fe_wire_builder_add_ede(&b, FE_EDE_OTHER), FE_ENOSPC, "no room left");
	size_t n = fe_wire_builder_finish(&b, &q, 1232);
	cr_assert_eq(n, 512);
	ldns_pkt *p = ldns_parse(out, n);
	cr_assert(ldns_pkt_edns(p));
	cr_assert_eq(ldns_pkt_edns_udp_size(p), 1232);
	ldns_pkt_free(p);
}

Test(build, rollback_restores_everything)
{
	parse_query("example.", FE_T_A, 0, 0, false);
	struct fe_wire_builder b;
	fe_wire_builder_init(&b, out, sizeof(out), &q);
	put_a(&b, FE_SEC_ANSWER, "example.", FE_OK);
	size_t m = fe_wire_builder_mark(&b);
	uint16_t c[3];
	memcpy(c, b.count, sizeof(c));
	uint8_t names_at_mark = b.nnames;
	put_a(&b, FE_SEC_ANSWER, "gone.example.", FE_OK);
	put_a(&b, FE_SEC_ANSWER, "deeper.gone.example.", FE_OK);
	put_a(&b, FE_SEC_AUTHORITY, "gone.example.", FE_OK);
	fe_wire_builder_rollback(&b, m, c);
	cr_assert_eq(b.len, m);
	cr_assert_eq(memcmp(b.count, c, sizeof(c)), 0);
	cr_assert_eq(b.nnames, names_at_mark);
	/* overwrite the rolled-back bytes with something else, then reuse the name */
	put_a(&b, FE_SEC_ANSWER, "zzzzzzzzzzzzzzzzzzzz.example.", FE_OK);
	put_a(&b, FE_SEC_ANSWER, "x.gone.example.", FE_OK);
	size_t n = fe_wire_builder_finish(&b, &q, 512);
	ldns_pkt *p = ldns_parse(out, n);
	cr_assert_eq(ldns_pkt_ancount(p), 3);
	cr_assert_eq(ldns_pkt_nscount(p), 0);
	ldns_rdf *e = ldns_dname_new_frm_str("x.gone.example.");
	cr_assert_eq(ldns_dname_compare(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_answer(p), 2)), e),
	             0);
	ldns_rdf_deep_free(e);
	ldns_pkt_free(p);
}

Test(build, section_order_and_bad_owner)
{
	parse_query("example.", FE_T_A, 0, 0, false);
	struct fe_wire_builder b;
	fe_wire_builder_init(&b, out, sizeof(out), &q);
	put_a(&b, FE_SEC_ADDITIONAL, "example.", FE_OK);
	put_a(&b, FE_SEC_ANSWER, "example.", FE_EINVAL);
	put_a(&b, FE_SEC_AUTHORITY, "example.", FE_EINVAL);
	cr_assert_eq(fe_wire_builder_put_rr(&b, (enum fe_wire_section)3, q.qname, 1, 1, 1, NULL, 0),
	             FE_EINVAL);
	static const uint8_t l64[] = {64, 'a'};
	cr_assert_eq(fe_wire_builder_put_rr(&b, FE_SEC_ADDITIONAL, l64, 1, 1, 1, NULL, 0),
	             FE_EINVAL);
	static const uint8_t ptr[] = {0xC0, 12};
	cr_assert_eq(fe_wire_builder_put_rr(&b, FE_SEC_ADDITIONAL, ptr, 1, 1, 1, NULL, 0),
	             FE_EINVAL);
	cr_assert_eq(b.count[2], 1);
}

static const uint8_t *find_opt(const uint8_t *m, size_t n, size_t *rdlen)
{
	/* the OPT is the last RR we write: root owner, type 41 */
	for (size_t i = 12; i + 11 <= n; i++)
		if (m[i] == 0 && be16(m + i + 1) == FE_T_OPT && i + 11 + be16(m + i + 9) == n) {
			*rdlen = be16(m + i + 9);
			return m + i;
		}
	return NULL;
}

Test(build, rcode_flags_opt)
{
	parse_query("example.", FE_T_A, 0, 4096, true);
	struct fe_wire_builder b;
	fe_wire_builder_init(&b, out, sizeof(out), &q);
	fe_wire_builder_set_rcode(&b, FE_RCODE_NXDOMAIN);
	fe_wire_builder_set_flags(&b, FE_F_AA | FE_F_AD);
	cr_assert_eq(be16(out + 2) & 0xF, FE_RCODE_NXDOMAIN);
	fe_wire_builder_set_rcode(&b, FE_RCODE_BADVERS);
	size_t n = fe_wire_builder_finish(&b, &q, 1232);
	cr_assert_eq(be16(out + 2) & 0xF, 0);
	cr_assert(be16(out + 2) & FE_F_AA);
	cr_assert(be16(out + 2) & FE_F_AD);
	size_t rdl;
	const uint8_t *o = find_opt(out, n, &rdl);
	cr_assert_not_null(o);
	cr_assert_eq(be16(o + 3), 1232);
	cr_assert_eq(o[5], 1, "extended rcode BADVERS >> 4");
	cr_assert_eq(o[6], 0, "version 0");
	cr_assert_eq(o[7], 0x80, "DO echoed");
	cr_assert_eq(rdl, 0);
	ldns_pkt *p = ldns_parse(out, n);
	cr_assert_eq(ldns_pkt_edns_extended_rcode(p), 1);
	cr_assert(ldns_pkt_edns_do(p));
	ldns_pkt_free(p);
	/* idempotent finish */
	cr_assert_eq(fe_wire_builder_finish(&b, &q, 1232), n);
	cr_assert_eq(be16(out + 10), 1);

	/* DO clear stays clear; small sizes become 512 */
	parse_query("example.", FE_T_A, 0, 4096, false);
	fe_wire_builder_init(&b, out, sizeof(out), &q);
	n = fe_wire_builder_finish(&b, &q, 100);
	o = find_opt(out, n, &rdl);
	cr_assert_not_null(o);
	cr_assert_eq(be16(o + 3), 512);
	cr_assert_eq(o[7], 0);

	/* no EDNS: no OPT, and an extended rcode becomes SERVFAIL */
	parse_query("example.", FE_T_A, 0, 0, false);
	fe_wire_builder_init(&b, out, sizeof(out), &q);
	fe_wire_builder_set_rcode(&b, FE_RCODE_BADVERS);
	n = fe_wire_builder_finish(&b, &q, 1232);
	cr_assert_null(find_opt(out, n, &rdl));
	cr_assert_eq(be16(out + 10), 0);
	cr_assert_eq(be16(out + 2) & 0xF, FE_RCODE_SERVFAIL);
}

Test(build, ede)
{
	parse_query("example.", FE_T_A, 0, 1232, false);
	struct fe_wire_builder b;
	fe_wire_builder_init(&b, out, sizeof(out), &q);
	cr_assert_eq(fe_wire_builder_add_ede(&b, FE_EDE_PROHIBITED), FE_OK);
	cr_assert_eq(fe_wire_builder_add_ede(&b, FE_EDE_NOT_AUTHORITATIVE), FE_OK);
	fe_wire_builder_set_rcode(&b, FE_RCODE_REFUSED);
	size_t n = fe_wire_builder_finish(&b, &q, 1232);
	size_t rdl;
	const uint8_t *o = find_opt(out, n, &rdl);
	cr_assert_not_null(o);
	cr_assert_eq(rdl, 12);
	static const uint8_t exp[] = {0, 15, 0, 2, 0, 18, 0, 15, 0, 2, 0, 20};
	cr_assert_eq(memcmp(o + 11, exp, 12), 0);
	ldns_pkt *p = ldns_parse(out, n);
	ldns_edns_option_list *l = ldns_pkt_edns_get_option_list(p);
	cr_assert_not_null(l);
	cr_assert_eq(ldns_edns_option_list_get_count(l), 2);
	ldns_edns_option *e = ldns_edns_option_list_get_option(l, 0);
	cr_assert_eq(ldns_edns_get_code(e), LDNS_EDNS_EDE);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);

	/* limit */
	fe_wire_builder_init(&b, out, sizeof(out), &q);
	for (int i = 0; i < FE_WIRE_EDE_MAX; i++)
		cr_assert_eq(fe_wire_builder_add_ede(&b, (uint16_t)i), FE_OK);
	cr_assert_eq(fe_wire_builder_add_ede(&b, 99), FE_ENOSPC);
	n = fe_wire_builder_finish(&b, &q, 1232);
	o = find_opt(out, n, &rdl);
	cr_assert_eq(rdl, 6u * FE_WIRE_EDE_MAX);

	/* no EDNS: accepted, nothing emitted */
	parse_query("example.", FE_T_A, 0, 0, false);
	fe_wire_builder_init(&b, out, sizeof(out), &q);
	cr_assert_eq(fe_wire_builder_add_ede(&b, FE_EDE_PROHIBITED), FE_OK);
	n = fe_wire_builder_finish(&b, &q, 1232);
	cr_assert_eq(n, 12 + 9 + 4);
}

Test(build, tiny_buffers)
{
	parse_query("example.", FE_T_A, 0, 1232, false);
	struct fe_wire_builder b;
	fe_wire_builder_init(&b, out, 11, &q);
	put_a(&b, FE_SEC_ANSWER, "example.", FE_ENOSPC);
	cr_assert_eq(fe_wire_builder_finish(&b, &q, 1232), 0);
	/* room for header and OPT only: no question, still a valid message */
	fe_wire_builder_init(&b, out, 12 + 11, &q);
	size_t n = fe_wire_builder_finish(&b, &q, 1232);
	cr_assert_eq(n, 23);
	cr_assert_eq(be16(out + 4), 0);
	ldns_pkt_free(ldns_parse(out, n));
	/* room for the header only */
	fe_wire_builder_init(&b, out, 20, &q);
	n = fe_wire_builder_finish(&b, &q, 1232);
	cr_assert_eq(n, 12);
}

/* ---- error answers -------------------------------------------------------------------- */

Test(error_response, formerr_without_question)
{
	static const uint8_t pkt[] = {0xAB, 0xCD, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0};
	cr_assert_eq(fe_wire_query_parse(pkt, sizeof(pkt), &q), FE_WIRE_FORMERR);
	size_t n = fe_wire_error_response(pkt, sizeof(pkt), &q, FE_RCODE_FORMERR, out, 512);
	cr_assert_eq(n, 12);
	cr_assert_eq(be16(out), 0xABCD);
	cr_assert_eq(be16(out + 2), FE_F_QR | FE_F_RA | FE_F_RD | FE_RCODE_FORMERR);
	cr_assert_eq(be16(out + 4), 0);
	ldns_pkt_free(ldns_parse(out, n));
	cr_assert_eq(fe_wire_error_response(pkt, 11, &q, FE_RCODE_FORMERR, out, 512), 0);
	cr_assert_eq(fe_wire_error_response(pkt, 12, &q, FE_RCODE_FORMERR, out, 11), 0);
	cr_assert_eq(fe_wire_error_response(pkt, 12, NULL, FE_RCODE_SERVFAIL, out, 512), 12);
	cr_assert_eq(out[3] & 0xF, FE_RCODE_SERVFAIL);
}

Test(error_response, echoes_clean_question_and_opt)
{
	size_t qn = mkquery("Host.Example.", FE_T_A, FE_F_RD, 1232, true, qbuf, sizeof(qbuf));
	cr_assert_eq(fe_wire_query_parse(qbuf, qn, &q), FE_WIRE_OK);
	size_t n = fe_wire_error_response(qbuf, qn, &q, FE_RCODE_REFUSED, out, 512);
	cr_assert_eq(n, 12 + q.qname_len + 4u + 11u);
	cr_assert_eq(memcmp(out + 12, qbuf + 12, q.qname_len + 4u), 0);
	ldns_pkt *p = ldns_parse(out, n);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	cr_assert(ldns_pkt_edns(p));
	cr_assert(ldns_pkt_edns_do(p));
	cr_assert_eq(ldns_pkt_edns_udp_size(p), FE_WIRE_UDP_DEFAULT);
	cr_assert_eq(ldns_pkt_id(p), 0x1234);
	cr_assert(ldns_pkt_rd(p));
	ldns_pkt_free(p);
	/* cap too small for the question: header + OPT */
	n = fe_wire_error_response(qbuf, qn, &q, FE_RCODE_REFUSED, out, 30);
	cr_assert_eq(n, 23);
	cr_assert_eq(be16(out + 4), 0);
	cr_assert_eq(be16(out + 10), 1);
}

Test(error_response, badvers)
{
	size_t qn = mkquery("example.", FE_T_A, 0, 1232, true, qbuf, sizeof(qbuf));
	/* set version 1 in the OPT TTL: OPT is the last 11 octets */
	qbuf[qn - 11 + 6] = 1;
	cr_assert_eq(fe_wire_query_parse(qbuf, qn, &q), FE_WIRE_BADVERS);
	size_t n = fe_wire_error_response(qbuf, qn, &q, FE_RCODE_BADVERS, out, 512);
	ldns_pkt *p = ldns_parse(out, n);
	cr_assert_eq(ldns_pkt_get_rcode(p), 0);
	cr_assert_eq(ldns_pkt_edns_extended_rcode(p), 1);
	cr_assert_eq(ldns_pkt_edns_version(p), 0);
	cr_assert(ldns_pkt_edns_do(p));
	cr_assert_eq(ldns_pkt_qdcount(p), 1);
	ldns_pkt_free(p);
	/* BADVERS gets an OPT even if the parse never saw one */
	n = fe_wire_error_response(qbuf, qn, NULL, FE_RCODE_BADVERS, out, 512);
	cr_assert_eq(n, 23);
	cr_assert_eq(out[12 + 5], 1);
	/* ...and SERVFAIL when the OPT does not fit */
	n = fe_wire_error_response(qbuf, qn, NULL, FE_RCODE_BADVERS, out, 20);
	cr_assert_eq(n, 12);
	cr_assert_eq(out[3] & 0xF, FE_RCODE_SERVFAIL);
}

Test(error_response, notimp_and_formerr_with_opt)
{
	size_t qn = mkquery("example.", FE_T_SOA, 0, 1232, false, qbuf, sizeof(qbuf));
	qbuf[2] = (uint8_t)(qbuf[2] | FE_OP_UPDATE << 3);
	cr_assert_eq(fe_wire_query_parse(qbuf, qn, &q), FE_WIRE_NOTIMP);
	size_t n = fe_wire_error_response(qbuf, qn, &q, FE_RCODE_NOTIMP, out, 512);
	ldns_pkt *p = ldns_parse(out, n);
	cr_assert_eq(ldns_pkt_get_opcode(p), LDNS_PACKET_UPDATE);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOTIMPL);
	cr_assert_eq(ldns_pkt_qdcount(p), 1);
	ldns_pkt_free(p);

	/* two OPTs: FORMERR with one OPT in the answer */
	qn = mkquery("example.", FE_T_A, 0, 1232, false, qbuf, sizeof(qbuf));
	memcpy(qbuf + qn, qbuf + qn - 11, 11);
	qn += 11;
	qbuf[11] = 2;
	cr_assert_eq(fe_wire_query_parse(qbuf, qn, &q), FE_WIRE_FORMERR);
	n = fe_wire_error_response(qbuf, qn, &q, FE_RCODE_FORMERR, out, 512);
	p = ldns_parse(out, n);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_FORMERR);
	cr_assert_eq(ldns_pkt_arcount(p), 0, "ldns moves the OPT out of the count");
	cr_assert(ldns_pkt_edns(p));
	ldns_pkt_free(p);
}

Test(error_response, every_prefix_of_a_query)
{
	size_t qn = mkquery("www.example.", FE_T_A, FE_F_RD, 1232, true, qbuf, sizeof(qbuf));
	for (size_t l = 0; l <= qn; l++) {
		enum fe_wire_verdict v = fe_wire_query_parse(qbuf, l, &q);
		size_t n = fe_wire_error_response(qbuf, l, &q, FE_RCODE_FORMERR, out, 512);
		if (l < 12) {
			cr_assert_eq(v, FE_WIRE_DROP);
			cr_assert_eq(n, 0);
			continue;
		}
		cr_assert_eq(v, l == qn ? FE_WIRE_OK : FE_WIRE_FORMERR, "len %zu", l);
		ldns_pkt_free(ldns_parse(out, n));
	}
}
