/* Query parser: docs/security.md Q1–Q6 with hand-built packets, field extraction, UDP limit. */
#include "fedenum/util.h"
#include "fedenum/wire.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- a tiny packet writer --------------------------------------------------------- */
struct pk {
	uint8_t b[70000];
	size_t n;
};

static void put(struct pk *p, const void *d, size_t n)
{
	cr_assert_leq(p->n + n, sizeof(p->b));
	if (n)
		memcpy(p->b + p->n, d, n);
	p->n += n;
}
static void u8(struct pk *p, uint8_t v)
{
	put(p, &v, 1);
}
static void u16(struct pk *p, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	put(p, b, 2);
}
static void u32(struct pk *p, uint32_t v)
{
	u16(p, (uint16_t)(v >> 16));
	u16(p, (uint16_t)v);
}
/* "www.example." (no escapes) as an uncompressed wire name */
static void name(struct pk *p, const char *s)
{
	while (*s && *s != '.') {
		const char *e = strchr(s, '.');
		size_t l = e ? (size_t)(e - s) : strlen(s);
		u8(p, (uint8_t)l);
		put(p, s, l);
		s += l;
		if (*s == '.')
			s++;
	}
	u8(p, 0);
}
static void hdr(struct pk *p, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns,
                uint16_t ar)
{
	p->n = 0;
	u16(p, id);
	u16(p, flags);
	u16(p, qd);
	u16(p, an);
	u16(p, ns);
	u16(p, ar);
}
static void set_count(struct pk *p, int idx, uint16_t v)
{
	p->b[4 + 2 * idx] = (uint8_t)(v >> 8);
	p->b[5 + 2 * idx] = (uint8_t)v;
}
/* RR with an uncompressed or already encoded owner */
static void rr(struct pk *p, const uint8_t *owner, size_t olen, uint16_t type, uint16_t cls,
               uint32_t ttl, const void *rdata, uint16_t rdlen)
{
	put(p, owner, olen);
	u16(p, type);
	u16(p, cls);
	u32(p, ttl);
	u16(p, rdlen);
	put(p, rdata, rdlen);
}
static const uint8_t ROOT[] = {0};
static const uint8_t PTRQ[] = {0xC0, 12}; /* pointer to the question name */

/* OPT with version/flags and raw options */
static void opt(struct pk *p, uint16_t udp, uint8_t version, bool do_bit, const void *opts,
                uint16_t olen)
{
	rr(p, ROOT, 1, FE_T_OPT, udp, (uint32_t)version << 16 | (do_bit ? 0x8000u : 0), opts, olen);
}
static const uint8_t TSIG_RDATA[] = {11,  'h', 'm', 'a',  'c',  '-',  's',  'h',  'a',  '2',
                                     '5', '6', 0,   0,    0,    0x5f, 0x5f, 0x5f, 0x5f, 1,
                                     44,  0,   0,   0x12, 0x34, 0,    0,    0,    0};
static void tsig(struct pk *p, uint16_t cls)
{
	static const uint8_t key[] = {3, 'k', 'e', 'y', 0};
	rr(p, key, sizeof(key), FE_T_TSIG, cls, 0, TSIG_RDATA, sizeof(TSIG_RDATA));
}

/* A well-formed query for @qn/@qt with @ar additional records to follow. */
static void query(struct pk *p, const char *qn, uint16_t qt, uint16_t ar)
{
	hdr(p, 0xBEEF, FE_F_RD, 1, 0, 0, ar);
	name(p, qn);
	u16(p, qt);
	u16(p, FE_C_IN);
}

static struct fe_wire_query q;

static enum fe_wire_verdict parse(const struct pk *p)
{
	return fe_wire_query_parse(p->b, p->n, &q);
}

/* ---- well-formed ------------------------------------------------------------------ */

Test(query, plain_fields)
{
	struct pk p;
	query(&p, "1.0.0.E164.Fed", FE_T_NAPTR, 0);
	cr_assert_eq(parse(&p), FE_WIRE_OK);
	cr_assert_eq(q.id, 0xBEEF);
	cr_assert_eq(q.flags, FE_F_RD);
	cr_assert_eq(q.opcode, FE_OP_QUERY);
	cr_assert_eq(q.qname, p.b + 12);
	cr_assert_eq(q.qname_len, 16);
	cr_assert_eq(q.qname_labels, 5);
	cr_assert_eq(memcmp(q.qname, "\0011\0010\0010\004E164\003Fed", 16), 0, "case kept");
	cr_assert_eq(memcmp(q.qname_lc, "\0011\0010\0010\004e164\003fed", 16), 0);
	cr_assert_eq(q.qtype, FE_T_NAPTR);
	cr_assert_eq(q.qclass, FE_C_IN);
	cr_assert_eq(q.question_end, p.n);
	cr_assert_not(q.has_edns);
	cr_assert_not(q.has_tsig);
	cr_assert_not(q.has_cookie);
	cr_assert_eq(fe_wire_udp_limit(&q, 4096), 512);
}

Test(query, root_qname_and_max_qname)
{
	struct pk p;
	hdr(&p, 1, 0, 1, 0, 0, 0);
	u8(&p, 0);
	u16(&p, FE_T_SOA);
	u16(&p, FE_C_IN);
	cr_assert_eq(parse(&p), FE_WIRE_OK);
	cr_assert_eq(q.qname_len, 1);
	cr_assert_eq(q.qname_labels, 0);

	/* 255 octets: 4 labels of 62 + root = 4*63 + 1 = 253; add a 1-octet label: 255 */
	hdr(&p, 1, 0, 1, 0, 0, 0);
	for (int i = 0; i < 4; i++) {
		u8(&p, 62);
		for (int j = 0; j < 62; j++)
			u8(&p, 'A');
	}
	u8(&p, 1);
	u8(&p, 'z');
	u8(&p, 0);
	u16(&p, FE_T_A);
	u16(&p, FE_C_IN);
	cr_assert_eq(parse(&p), FE_WIRE_OK);
	cr_assert_eq(q.qname_len, 255);
	cr_assert_eq(q.qname_labels, 5);
	cr_assert_eq(q.qname_lc[1], 'a');
}

Test(query, edns_fields_and_udp_limit)
{
	struct pk p;
	static const uint8_t cookie[] = {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 3, 0, 0};
	query(&p, "example", FE_T_A, 1);
	size_t at = p.n;
	opt(&p, 4096, 0, true, cookie, sizeof(cookie));
	cr_assert_eq(parse(&p), FE_WIRE_OK);
	cr_assert(q.has_edns);
	cr_assert(q.edns_do);
	cr_assert_eq(q.edns_version, 0);
	cr_assert_eq(q.edns_udp_size, 4096);
	cr_assert_eq(q.edns_opt_offset, at);
	cr_assert(q.has_cookie);
	cr_assert_eq(q.cookie_len, 8);
	cr_assert_eq(memcmp(q.cookie, cookie + 4, 8), 0);
	cr_assert(q.has_nsid);
	cr_assert_eq(fe_wire_udp_limit(&q, 1232), 1232);
	cr_assert_eq(fe_wire_udp_limit(&q, 65535), 4096);
	q.edns_udp_size = 100; /* RFC 6891 §6.2.5 */
	cr_assert_eq(fe_wire_udp_limit(&q, 1232), 512);
	q.edns_udp_size = 700;
	cr_assert_eq(fe_wire_udp_limit(&q, 1232), 700);
}

Test(query, cookie_lengths)
{
	/* RFC 7873 §5.2.2: 8 and 16..40 are valid */
	for (unsigned l = 0; l <= 48; l++) {
		struct pk p;
		uint8_t o[52] = {0, 10, 0, (uint8_t)l};
		for (unsigned i = 0; i < l; i++)
			o[4 + i] = (uint8_t)(0xA0 + i);
		query(&p, "example", FE_T_A, 1);
		opt(&p, 1232, 0, false, o, (uint16_t)(4 + l));
		bool valid = l == 8 || (l >= 16 && l <= 40);
		cr_assert_eq(parse(&p), valid ? FE_WIRE_OK : FE_WIRE_FORMERR, "cookie length %u",
		             l);
		if (valid) {
			cr_assert_eq(q.cookie_len, l);
			cr_assert_eq(memcmp(q.cookie, o + 4, l), 0);
		}
		/* the OPT itself was usable: error answers carry one */
		cr_assert(q.has_edns);
	}
}

Test(query, tsig_last_is_fine)
{
	struct pk p;
	query(&p, "example", FE_T_AXFR, 2);
	opt(&p, 1232, 0, false, NULL, 0);
	size_t at = p.n;
	tsig(&p, FE_C_ANY);
	cr_assert_eq(parse(&p), FE_WIRE_OK);
	cr_assert(q.has_tsig);
	cr_assert_eq(q.tsig_offset, at);
	cr_assert(q.has_edns);
	cr_assert_eq(q.qtype, FE_T_AXFR, "meta-types are the caller's policy");
}

Test(query, authority_records_are_skipped)
{
	struct pk p;
	query(&p, "example", FE_T_A, 0);
	set_count(&p, 2, 2);
	static const uint8_t a[] = {192, 0, 2, 1};
	rr(&p, PTRQ, 2, FE_T_A, FE_C_IN, 60, a, 4);
	static const uint8_t own[] = {3, 'w', 'w', 'w', 0xC0, 12};
	rr(&p, own, sizeof(own), FE_T_A, FE_C_IN, 60, a, 4);
	cr_assert_eq(parse(&p), FE_WIRE_OK);
}

Test(query, notify_with_soa)
{
	struct pk p;
	hdr(&p, 7, FE_OP_NOTIFY << 11 | FE_F_AA, 1, 1, 0, 0);
	name(&p, "example");
	u16(&p, FE_T_SOA);
	u16(&p, FE_C_IN);
	uint8_t soa[22 + 20] = {2, 'n', 's', 0, 2, 'h', 'm', 0};
	soa[11] = 42; /* serial */
	rr(&p, PTRQ, 2, FE_T_SOA, FE_C_IN, 3600, soa, 8 + 20);
	cr_assert_eq(parse(&p), FE_WIRE_OK);
	cr_assert_eq(q.opcode, FE_OP_NOTIFY);
	cr_assert_eq(q.qtype, FE_T_SOA);
	/* a cut SOA is still caught */
	p.n -= 3;
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR);
}

/* ---- Q1: short datagrams, header only, QDCOUNT 0 ----------------------------------- */

Test(q1, short_datagrams)
{
	struct pk p;
	query(&p, "www.example", FE_T_A, 0);
	for (size_t l = 0; l <= p.n; l++) {
		enum fe_wire_verdict v = fe_wire_query_parse(p.b, l, &q);
		if (l < 12)
			cr_assert_eq(v, FE_WIRE_DROP, "len %zu", l);
		else if (l < p.n)
			cr_assert_eq(v, FE_WIRE_FORMERR, "len %zu", l);
		else
			cr_assert_eq(v, FE_WIRE_OK);
		if (l < p.n)
			cr_assert_eq(q.question_end, 0, "len %zu: no question", l);
	}
	cr_assert_eq(fe_wire_query_parse(NULL, 0, &q), FE_WIRE_DROP);
}

Test(q1, header_only_qdcount_zero)
{
	struct pk p;
	hdr(&p, 1, 0, 0, 0, 0, 0);
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR);
	cr_assert_eq(q.id, 1);
	cr_assert_eq(q.question_end, 0);
	/* QDCOUNT 0 with an OPT: still FORMERR */
	hdr(&p, 1, 0, 0, 0, 0, 1);
	opt(&p, 1232, 0, false, NULL, 0);
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR);
}

/* ---- Q2: names, two questions -------------------------------------------------------- */

Test(q2, qname_over_255)
{
	struct pk p;
	hdr(&p, 1, 0, 1, 0, 0, 0);
	for (int i = 0; i < 4; i++) {
		u8(&p, 62);
		for (int j = 0; j < 62; j++)
			u8(&p, 'a');
	}
	u8(&p, 2); /* 253 + 2 + 1 = 256 */
	u8(&p, 'z');
	u8(&p, 'z');
	u8(&p, 0);
	u16(&p, FE_T_A);
	u16(&p, FE_C_IN);
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR);
	cr_assert_eq(q.question_end, 0);

	/* many 1-octet labels, far above 255 */
	hdr(&p, 1, 0, 1, 0, 0, 0);
	for (int i = 0; i < 200; i++) {
		u8(&p, 1);
		u8(&p, 'a');
	}
	u8(&p, 0);
	u16(&p, FE_T_A);
	u16(&p, FE_C_IN);
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR);
}

Test(q2, label_over_63_and_label_types)
{
	for (unsigned l = 64; l < 256; l += 13) {
		struct pk p;
		hdr(&p, 1, 0, 1, 0, 0, 0);
		u8(&p, (uint8_t)l);
		for (unsigned j = 0; j < (l & 0x3F) + 1; j++)
			u8(&p, 'a');
		u8(&p, 0);
		u16(&p, FE_T_A);
		u16(&p, FE_C_IN);
		cr_assert_eq(parse(&p), FE_WIRE_FORMERR, "length octet %u", l);
	}
}

Test(q2, two_questions_and_duplicate_question)
{
	struct pk p;
	hdr(&p, 1, 0, 2, 0, 0, 0);
	name(&p, "a.example");
	u16(&p, FE_T_A);
	u16(&p, FE_C_IN);
	name(&p, "b.example");
	u16(&p, FE_T_A);
	u16(&p, FE_C_IN);
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR);
	cr_assert_eq(q.question_end, 0, "not echoed");

	hdr(&p, 1, 0, 2, 0, 0, 0);
	name(&p, "a.example");
	u16(&p, FE_T_A);
	u16(&p, FE_C_IN);
	name(&p, "a.example");
	u16(&p, FE_T_A);
	u16(&p, FE_C_IN);
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR);

	/* QDCOUNT 1 but a second question appended: trailing junk */
	hdr(&p, 1, 0, 1, 0, 0, 0);
	name(&p, "a.example");
	u16(&p, FE_T_A);
	u16(&p, FE_C_IN);
	name(&p, "a.example");
	u16(&p, FE_T_A);
	u16(&p, FE_C_IN);
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR);
	cr_assert_neq(q.question_end, 0, "the first question parsed cleanly");
}

/* ---- Q3: compression attacks --------------------------------------------------------- */

static enum fe_wire_verdict parse_qname_bytes(const uint8_t *b, size_t n)
{
	struct pk p;
	hdr(&p, 1, 0, 1, 0, 0, 0);
	put(&p, b, n);
	u16(&p, FE_T_A);
	u16(&p, FE_C_IN);
	return parse(&p);
}

Test(q3, pointers_in_question)
{
	static const uint8_t self[] = {0xC0, 12};
	cr_assert_eq(parse_qname_bytes(self, 2), FE_WIRE_FORMERR, "self");
	static const uint8_t hdrp[] = {0xC0, 0};
	cr_assert_eq(parse_qname_bytes(hdrp, 2), FE_WIRE_FORMERR, "into header");
	static const uint8_t fwd[] = {1, 'a', 0xC0, 20, 0, 0, 0, 0, 0};
	cr_assert_eq(parse_qname_bytes(fwd, sizeof(fwd)), FE_WIRE_FORMERR, "forward");
	static const uint8_t back[] = {1, 'a', 0xC0, 12};
	cr_assert_eq(parse_qname_bytes(back, sizeof(back)), FE_WIRE_FORMERR, "loop to start");
	/* pointer as the last byte of the datagram */
	struct pk p;
	hdr(&p, 1, 0, 1, 0, 0, 0);
	u8(&p, 1);
	u8(&p, 'a');
	u8(&p, 0xC0);
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR);
}

Test(q3, pointers_in_records)
{
	static const uint8_t a[] = {192, 0, 2, 1};
	struct {
		const char *what;
		uint8_t owner[8];
		size_t olen;
		bool ok;
	} c[] = {
	        {"backward", {0xC0, 12}, 2, true},
	        {"self", {0xC0, 0}, 2, false}, /* patched below to point at itself */
	        {"forward", {0xC0, 0}, 2, false},
	        {"into header", {0xC0, 4}, 2, false},
	        {"cut pointer", {0xC0}, 1, false},
	        {"label then self", {1, 'x', 0xC0, 0}, 4, false},
	};
	for (size_t i = 0; i < FE_ARRAY_LEN(c); i++) {
		struct pk p;
		query(&p, "example", FE_T_A, 0);
		set_count(&p, 2, 1);
		size_t at = p.n;
		if (i == 1 || i == 5)
			c[i].owner[c[i].olen - 1] = (uint8_t)at;
		if (i == 2)
			c[i].owner[1] = (uint8_t)(at + 4);
		if (i == 4) {
			put(&p, c[i].owner, c[i].olen);
			cr_assert_eq(parse(&p), FE_WIRE_FORMERR, "%s", c[i].what);
			continue;
		}
		rr(&p, c[i].owner, c[i].olen, FE_T_A, FE_C_IN, 0, a, 4);
		cr_assert_eq(parse(&p), c[i].ok ? FE_WIRE_OK : FE_WIRE_FORMERR, "%s", c[i].what);
	}
}

Test(q3, pointer_loop_between_records)
{
	/* authority: RR1 owner 'a' + ptr -> RR2 owner; RR2 owner 'b' + ptr -> RR1 owner */
	struct pk p;
	static const uint8_t a[] = {192, 0, 2, 1};
	query(&p, "example", FE_T_A, 0);
	set_count(&p, 2, 2);
	size_t r1 = p.n;
	size_t r2 = r1 + 4 + 10 + 4;
	uint8_t o1[] = {1, 'a', 0xC0, (uint8_t)r2};
	uint8_t o2[] = {1, 'b', 0xC0, (uint8_t)r1};
	rr(&p, o1, 4, FE_T_A, FE_C_IN, 0, a, 4);
	cr_assert_eq(p.n, r2);
	rr(&p, o2, 4, FE_T_A, FE_C_IN, 0, a, 4);
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR);
}

Test(q3, long_pointer_chain)
{
	/* additional records whose owners point at the previous owner: hop limit */
	struct pk p;
	static const uint8_t a[] = {192, 0, 2, 1};
	for (int n = 1; n <= 20; n++) {
		query(&p, "example", FE_T_A, (uint16_t)n);
		size_t prev = 12;
		for (int i = 0; i < n; i++) {
			uint8_t o[] = {(uint8_t)(0xC0 | prev >> 8), (uint8_t)prev};
			prev = p.n;
			rr(&p, o, 2, FE_T_A, FE_C_IN, 0, a, 4);
		}
		cr_assert_eq(parse(&p), n <= FE_WIRE_MAX_HOPS ? FE_WIRE_OK : FE_WIRE_FORMERR,
		             "chain %d", n);
	}
}

/* ---- Q4: EDNS --------------------------------------------------------------------- */

Test(q4, two_opts)
{
	struct pk p;
	query(&p, "example", FE_T_A, 2);
	opt(&p, 1232, 0, true, NULL, 0);
	opt(&p, 4096, 0, false, NULL, 0);
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR);
	cr_assert(q.has_edns, "the first OPT is usable for the error answer");
	cr_assert(q.edns_do);
}

Test(q4, opt_owner_not_root)
{
	struct pk p;
	query(&p, "example", FE_T_A, 1);
	rr(&p, PTRQ, 2, FE_T_OPT, 1232, 0, NULL, 0);
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR);
	cr_assert_not(q.has_edns);
	static const uint8_t own[] = {1, 'x', 0};
	query(&p, "example", FE_T_A, 1);
	rr(&p, own, 3, FE_T_OPT, 1232, 0, NULL, 0);
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR);
	cr_assert_not(q.has_edns);
}

Test(q4, opt_outside_additional)
{
	struct pk p;
	query(&p, "example", FE_T_A, 0);
	set_count(&p, 2, 1);
	opt(&p, 1232, 0, false, NULL, 0);
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR);
	cr_assert_not(q.has_edns);
}

Test(q4, version_above_zero_is_badvers)
{
	struct pk p;
	query(&p, "example", FE_T_A, 1);
	/* options of an unknown version are not interpreted (this one would be FORMERR) */
	static const uint8_t o[] = {0, 10, 0, 3, 1, 2, 3};
	opt(&p, 1232, 1, true, o, sizeof(o));
	cr_assert_eq(parse(&p), FE_WIRE_BADVERS);
	cr_assert(q.has_edns);
	cr_assert_eq(q.edns_version, 1);
	cr_assert(q.edns_do);
	cr_assert_not(q.has_cookie);
	query(&p, "example", FE_T_A, 1);
	opt(&p, 1232, 255, false, NULL, 0);
	cr_assert_eq(parse(&p), FE_WIRE_BADVERS);
	/* structural errors still win */
	u8(&p, 0);
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR);
}

Test(q4, duplicate_options)
{
	struct pk p;
	static const uint8_t two_cookies[] = {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8,
	                                      0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 9};
	query(&p, "example", FE_T_A, 1);
	opt(&p, 1232, 0, false, two_cookies, sizeof(two_cookies));
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR);
	static const uint8_t two_nsid[] = {0, 3, 0, 0, 0, 3, 0, 0};
	query(&p, "example", FE_T_A, 1);
	opt(&p, 1232, 0, false, two_nsid, sizeof(two_nsid));
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR);
	/* repeats of options we do not interpret are allowed (RFC 6891 §6.1.2) */
	static const uint8_t two_pad[] = {0, 12, 0, 2, 0, 0, 0, 12, 0, 1, 0, 0xfe, 0xed, 0, 0};
	query(&p, "example", FE_T_A, 1);
	opt(&p, 1232, 0, false, two_pad, sizeof(two_pad));
	cr_assert_eq(parse(&p), FE_WIRE_OK);
}

Test(q4, option_bounds)
{
	struct pk p;
	static const uint8_t over[] = {0, 12, 0, 5, 0, 0};
	query(&p, "example", FE_T_A, 1);
	opt(&p, 1232, 0, false, over, sizeof(over));
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR, "option longer than RDATA");
	static const uint8_t cut[] = {0, 12, 0};
	query(&p, "example", FE_T_A, 1);
	opt(&p, 1232, 0, false, cut, sizeof(cut));
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR, "option header cut");
	/* RDATA longer than the message */
	query(&p, "example", FE_T_A, 1);
	u8(&p, 0);
	u16(&p, FE_T_OPT);
	u16(&p, 1232);
	u32(&p, 0);
	u16(&p, 10);
	u16(&p, 12);
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR, "rdlen beyond the end");
	/* an OPT cut in its fixed part */
	query(&p, "example", FE_T_A, 1);
	u8(&p, 0);
	u16(&p, FE_T_OPT);
	u16(&p, 1232);
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR);
}

/* ---- Q5: TSIG placement -------------------------------------------------------------- */

Test(q5, tsig_not_last)
{
	struct pk p;
	query(&p, "example", FE_T_SOA, 2);
	tsig(&p, FE_C_ANY);
	opt(&p, 1232, 0, false, NULL, 0);
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR);
}

Test(q5, tsig_class_not_any)
{
	struct pk p;
	query(&p, "example", FE_T_SOA, 1);
	tsig(&p, FE_C_IN);
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR);
	cr_assert_not(q.has_tsig);
}

Test(q5, two_tsigs)
{
	struct pk p;
	query(&p, "example", FE_T_SOA, 2);
	tsig(&p, FE_C_ANY);
	tsig(&p, FE_C_ANY);
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR);
}

Test(q5, tsig_outside_additional)
{
	struct pk p;
	query(&p, "example", FE_T_SOA, 0);
	set_count(&p, 2, 1);
	tsig(&p, FE_C_ANY);
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR);
}

/* ---- Q6: responses, opcodes, answer section ------------------------------------------ */

Test(q6, response_dropped)
{
	struct pk p;
	query(&p, "example", FE_T_A, 0);
	p.b[2] |= 0x80;
	cr_assert_eq(parse(&p), FE_WIRE_DROP);
	cr_assert_eq(q.id, 0xBEEF);
	/* even when malformed otherwise */
	hdr(&p, 1, FE_F_QR, 0, 0, 0, 0);
	cr_assert_eq(parse(&p), FE_WIRE_DROP);
}

Test(q6, opcodes)
{
	for (unsigned op = 0; op < 16; op++) {
		struct pk p;
		query(&p, "example", FE_T_A, 0);
		p.b[2] = (uint8_t)((p.b[2] & 0x87) | op << 3);
		enum fe_wire_verdict v = parse(&p);
		if (op == FE_OP_QUERY || op == FE_OP_NOTIFY)
			cr_assert_eq(v, FE_WIRE_OK, "opcode %u", op);
		else
			cr_assert_eq(v, FE_WIRE_NOTIMP, "opcode %u", op);
		cr_assert_eq(q.opcode, op);
	}
	/* NOTIMP wins over a body that would be FORMERR (e.g. DSO with QDCOUNT 0) */
	struct pk p;
	hdr(&p, 1, 6 << 11, 0, 0, 0, 0);
	cr_assert_eq(parse(&p), FE_WIRE_NOTIMP);
	hdr(&p, 1, FE_OP_UPDATE << 11, 1, 1, 1, 0);
	name(&p, "example");
	u16(&p, FE_T_SOA);
	u16(&p, FE_C_IN);
	cr_assert_eq(parse(&p), FE_WIRE_NOTIMP);
	cr_assert_neq(q.question_end, 0, "question still available for the answer");
}

Test(q6, query_with_answer_section)
{
	struct pk p;
	static const uint8_t a[] = {192, 0, 2, 1};
	query(&p, "example", FE_T_A, 0);
	set_count(&p, 1, 1);
	rr(&p, PTRQ, 2, FE_T_A, FE_C_IN, 0, a, 4);
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR);
}

Test(q6, meta_types_parse)
{
	static const uint16_t t[] = {FE_T_AXFR, FE_T_IXFR, FE_T_ANY, FE_T_MAILA, FE_T_MAILB};
	for (size_t i = 0; i < FE_ARRAY_LEN(t); i++) {
		struct pk p;
		query(&p, "example", t[i], 0);
		cr_assert_eq(parse(&p), FE_WIRE_OK);
		cr_assert_eq(q.qtype, t[i]);
	}
}

/* ---- counts and trailing data ------------------------------------------------------- */

Test(query, junk_and_overcounts)
{
	struct pk p;
	query(&p, "example", FE_T_A, 0);
	u8(&p, 0);
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR, "one junk octet");
	query(&p, "example", FE_T_A, 3);
	opt(&p, 1232, 0, false, NULL, 0);
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR, "ARCOUNT above the records present");
	query(&p, "example", FE_T_A, 0);
	set_count(&p, 2, 0xFFFF);
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR, "NSCOUNT 65535, no records");
	query(&p, "example", FE_T_A, 0);
	p.n -= 1;
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR, "QCLASS cut");
	cr_assert_eq(q.question_end, 0);
}

Test(query, max_size_message)
{
	/* 65535 octets: the question and one OPT with a big padding option */
	struct pk p;
	query(&p, "example", FE_T_A, 1);
	size_t rest = 65535 - p.n - 11;
	uint8_t *pad = calloc(1, rest);
	cr_assert_not_null(pad);
	pad[0] = 0;
	pad[1] = 12;
	pad[2] = (uint8_t)((rest - 4) >> 8);
	pad[3] = (uint8_t)(rest - 4);
	opt(&p, 1232, 0, false, pad, (uint16_t)rest);
	free(pad);
	cr_assert_eq(p.n, 65535);
	cr_assert_eq(parse(&p), FE_WIRE_OK);
	p.n++;
	cr_assert_eq(parse(&p), FE_WIRE_FORMERR, "above 65535");
}

/* Rough speed figure for the report; asserts nothing about time. */
Test(query, speed_report)
{
	struct pk p;
	static const uint8_t cookie[] = {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
	query(&p, "1.0.0.0.0.0.2.5.5.5.1.e164.fed", FE_T_NAPTR, 1);
	opt(&p, 1232, 0, true, cookie, sizeof(cookie));
	enum { N = 2000000 };
	struct timespec t0, t1;
	unsigned ok = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < N; i++) {
		p.b[0] = (uint8_t)i;
		ok += parse(&p) == FE_WIRE_OK;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_eq(ok, N);
	double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / N;
	fprintf(stderr, "wire parse: %.1f ns/query (%zu-octet ENUM query with EDNS+cookie)\n", ns,
	        p.n);
}
