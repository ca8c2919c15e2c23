/* Hostile queries through fe_answer (THREATS.md Q1–Q5): hand-built messages, the answer
 * checked byte-wise and with ldns, and the counters. */
#include "test_answer_lib.h"

static struct fx F;

static void setup(void)
{
	static const char *const zones[] = {"ex.test.zone", NULL};
	fx_open(&F, zones);
}

static void teardown(void)
{
	fx_close(&F);
}

TestSuite(answer_errors, .init = setup, .fini = teardown);

/* A message under construction. */
struct msg {
	uint8_t b[2048];
	size_t n;
};

static void put8(struct msg *m, unsigned v)
{
	cr_assert_lt(m->n, sizeof(m->b));
	m->b[m->n++] = (uint8_t)v;
}

static void put16(struct msg *m, unsigned v)
{
	put8(m, v >> 8);
	put8(m, v & 0xffu);
}

static void put32(struct msg *m, uint32_t v)
{
	put16(m, v >> 16);
	put16(m, v & 0xffffu);
}

/* "www.ex.test" style, uncompressed, root included */
static void put_name(struct msg *m, const char *dotted)
{
	while (*dotted) {
		const char *dot = strchr(dotted, '.');
		size_t l = dot ? (size_t)(dot - dotted) : strlen(dotted);
		put8(m, (unsigned)l);
		for (size_t i = 0; i < l; i++)
			put8(m, (unsigned char)dotted[i]);
		dotted += l + (dot ? 1 : 0);
	}
	put8(m, 0);
}

static void header(struct msg *m, unsigned flags, unsigned qd, unsigned an, unsigned ns,
                   unsigned ar)
{
	m->n = 0;
	put16(m, 0xBEEF);
	put16(m, flags);
	put16(m, qd);
	put16(m, an);
	put16(m, ns);
	put16(m, ar);
}

static void question(struct msg *m, const char *name, unsigned type)
{
	put_name(m, name);
	put16(m, type);
	put16(m, 1);
}

/* OPT: version, DO, options (@opts/@optlen raw) */
static void opt(struct msg *m, unsigned version, const uint8_t *opts, size_t optlen)
{
	put8(m, 0);
	put16(m, 41);
	put16(m, 1232);
	put8(m, 0);
	put8(m, version);
	put16(m, 0);
	put16(m, (unsigned)optlen);
	for (size_t i = 0; i < optlen; i++)
		put8(m, opts[i]);
}

/* A well-formed TSIG RR (RFC 8945 §4.2) with class @rclass. */
static void tsig(struct msg *m, unsigned rclass)
{
	put_name(m, "key.");
	put16(m, 250);
	put16(m, rclass);
	put32(m, 0);
	size_t rdlen_at = m->n;
	put16(m, 0);
	size_t start = m->n;
	put_name(m, "hmac-sha256.");
	put16(m, 0);
	put32(m, 1700000000u); /* time signed (48 bits) */
	put16(m, 300);         /* fudge */
	put16(m, 32);          /* MAC size */
	for (int i = 0; i < 32; i++)
		put8(m, 0xAA);
	put16(m, 0xBEEF); /* original ID */
	put16(m, 0);      /* error */
	put16(m, 0);      /* other len */
	size_t rdlen = m->n - start;
	m->b[rdlen_at] = (uint8_t)(rdlen >> 8);
	m->b[rdlen_at + 1] = (uint8_t)rdlen;
}

static ldns_pkt *send_msg(const struct msg *m)
{
	return fx_raw(&F, m->b, m->n, FE_TRANSPORT_UDP);
}

static void expect_rcode(const struct msg *m, ldns_pkt_rcode rc, const char *what)
{
	ldns_pkt *p = send_msg(m);
	cr_assert_not_null(p, "%s: no answer", what);
	cr_assert_eq(ldns_pkt_get_rcode(p), rc, "%s: rcode %d, want %d", what,
	             ldns_pkt_get_rcode(p), rc);
	cr_assert_eq(fx_n(p, LDNS_SECTION_ANSWER), 0, "%s: no data in an error", what);
	ldns_pkt_free(p);
}

Test(answer_errors, q1_short_and_responses_dropped)
{
	uint8_t tiny[11] = {0xBE, 0xEF, 0x01, 0x00};
	for (size_t n = 0; n <= sizeof(tiny); n++)
		cr_assert_eq(fe_answer(&F.ctx, tiny, n, FE_TRANSPORT_UDP, F.resp, 4096), 0);
	cr_assert_eq(F.cnt[FE_CNT_DROPPED], sizeof(tiny) + 1);

	struct msg m;
	header(&m, 0x8100, 1, 0, 0, 0); /* QR=1 */
	question(&m, "www.ex.test.", 1);
	cr_assert_eq(fe_answer(&F.ctx, m.b, m.n, FE_TRANSPORT_UDP, F.resp, 4096), 0);

	header(&m, 0x0100, 0, 0, 0, 0); /* header only, QDCOUNT 0 */
	expect_rcode(&m, LDNS_RCODE_FORMERR, "QDCOUNT 0");
}

Test(answer_errors, q2_names_and_questions)
{
	struct msg m;
	/* QNAME of 4 × 63-octet labels: 257 octets > 255 */
	header(&m, 0x0100, 1, 0, 0, 0);
	for (int l = 0; l < 4; l++) {
		put8(&m, 63);
		for (int i = 0; i < 63; i++)
			put8(&m, 'a');
	}
	put8(&m, 0);
	put16(&m, 1);
	put16(&m, 1);
	expect_rcode(&m, LDNS_RCODE_FORMERR, "QNAME > 255");

	/* a 64-octet label */
	header(&m, 0x0100, 1, 0, 0, 0);
	put8(&m, 64);
	for (int i = 0; i < 64; i++)
		put8(&m, 'b');
	put8(&m, 0);
	put16(&m, 1);
	put16(&m, 1);
	expect_rcode(&m, LDNS_RCODE_FORMERR, "label > 63");

	/* two different questions, and the same question twice */
	header(&m, 0x0100, 2, 0, 0, 0);
	question(&m, "www.ex.test.", 1);
	question(&m, "mail.ex.test.", 1);
	expect_rcode(&m, LDNS_RCODE_FORMERR, "two questions");
	header(&m, 0x0100, 2, 0, 0, 0);
	question(&m, "www.ex.test.", 1);
	question(&m, "www.ex.test.", 1);
	expect_rcode(&m, LDNS_RCODE_FORMERR, "duplicate question");

	/* trailing junk after the counted sections */
	header(&m, 0x0100, 1, 0, 0, 0);
	question(&m, "www.ex.test.", 1);
	put8(&m, 0x42);
	expect_rcode(&m, LDNS_RCODE_FORMERR, "trailing octet");
	cr_assert_eq(F.cnt[FE_CNT_FORMERR], 5);
}

Test(answer_errors, q3_compression_attacks)
{
	struct msg m;
	/* QNAME that is a pointer to itself */
	header(&m, 0x0100, 1, 0, 0, 0);
	put8(&m, 0xC0);
	put8(&m, 12);
	put16(&m, 1);
	put16(&m, 1);
	expect_rcode(&m, LDNS_RCODE_FORMERR, "self pointer");

	/* forward pointer in an additional RR's owner */
	header(&m, 0x0100, 1, 0, 0, 1);
	question(&m, "www.ex.test.", 1);
	size_t at = m.n;
	put8(&m, 0xC0);
	put8(&m, (unsigned)(at + 2));
	put16(&m, 1);
	put16(&m, 1);
	put32(&m, 0);
	put16(&m, 0);
	expect_rcode(&m, LDNS_RCODE_FORMERR, "forward pointer");

	/* pointer as the last octet */
	header(&m, 0x0100, 1, 0, 0, 1);
	question(&m, "www.ex.test.", 1);
	put8(&m, 0xC0);
	expect_rcode(&m, LDNS_RCODE_FORMERR, "truncated pointer");

	/* pointer to a pointer to a pointer ... to itself, backwards chain that loops */
	header(&m, 0x0100, 1, 0, 0, 1);
	question(&m, "www.ex.test.", 1);
	at = m.n;
	put8(&m, 0xC0);
	put8(&m, (unsigned)at);
	put16(&m, 1);
	put16(&m, 1);
	put32(&m, 0);
	put16(&m, 0);
	expect_rcode(&m, LDNS_RCODE_FORMERR, "pointer loop");
}

Test(answer_errors, q4_edns)
{
	struct msg m;
	/* two OPT RRs */
	header(&m, 0x0100, 1, 0, 0, 2);
	question(&m, "www.ex.test.", 1);
	opt(&m, 0, NULL, 0);
	opt(&m, 0, NULL, 0);
	expect_rcode(&m, LDNS_RCODE_FORMERR, "two OPT");

	/* OPT owner not the root */
	header(&m, 0x0100, 1, 0, 0, 1);
	question(&m, "www.ex.test.", 1);
	put_name(&m, "ex.test.");
	put16(&m, 41);
	put16(&m, 1232);
	put32(&m, 0);
	put16(&m, 0);
	expect_rcode(&m, LDNS_RCODE_FORMERR, "OPT owner");

	/* duplicate EDNS option (two COOKIEs) */
	static const uint8_t two_cookies[] = {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8,
	                                      0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
	header(&m, 0x0100, 1, 0, 0, 1);
	question(&m, "www.ex.test.", 1);
	opt(&m, 0, two_cookies, sizeof(two_cookies));
	expect_rcode(&m, LDNS_RCODE_FORMERR, "duplicate option");

	/* EDNS version 1: BADVERS (extended rcode 16 = OPT ext-rcode 1, header 0) with our OPT
	 * (RFC 6891 §6.1.3) */
	header(&m, 0x0100, 1, 0, 0, 1);
	question(&m, "www.ex.test.", 1);
	opt(&m, 1, NULL, 0);
	ldns_pkt *p = send_msg(&m);
	cr_assert_not_null(p);
	cr_assert(ldns_pkt_edns(p), "BADVERS needs an OPT");
	cr_assert_eq(ldns_pkt_get_rcode(p), 0);
	cr_assert_eq(ldns_pkt_edns_extended_rcode(p), 1);
	cr_assert_eq(ldns_pkt_edns_version(p), 0, "we speak version 0");
	cr_assert_eq(fx_n(p, LDNS_SECTION_ANSWER), 0);
	ldns_pkt_free(p);
	cr_assert_eq(F.cnt[FE_CNT_BADVERS], 1);
	cr_assert_eq(F.cnt[FE_CNT_FORMERR], 3);
}

Test(answer_errors, q5_tsig_placement)
{
	struct msg m;
	/* TSIG not last */
	header(&m, 0x0100, 1, 0, 0, 2);
	question(&m, "www.ex.test.", 1);
	tsig(&m, 255);
	opt(&m, 0, NULL, 0);
	expect_rcode(&m, LDNS_RCODE_FORMERR, "TSIG not last");

	/* TSIG class not ANY */
	header(&m, 0x0100, 1, 0, 0, 1);
	question(&m, "www.ex.test.", 1);
	tsig(&m, 1);
	expect_rcode(&m, LDNS_RCODE_FORMERR, "TSIG class IN");

	/* two TSIGs */
	header(&m, 0x0100, 1, 0, 0, 2);
	question(&m, "www.ex.test.", 1);
	tsig(&m, 255);
	tsig(&m, 255);
	expect_rcode(&m, LDNS_RCODE_FORMERR, "two TSIG");

	/* TSIG in the authority section */
	header(&m, 0x0100, 1, 0, 1, 0);
	question(&m, "www.ex.test.", 1);
	tsig(&m, 255);
	expect_rcode(&m, LDNS_RCODE_FORMERR, "TSIG in authority");

	/* a well-placed TSIG with a key we do not have: NOTAUTH (RFC 8945 §5.2.1), no data */
	header(&m, 0x0100, 1, 0, 0, 1);
	question(&m, "www.ex.test.", 1);
	tsig(&m, 255);
	expect_rcode(&m, LDNS_RCODE_NOTAUTH, "unknown key");
}

Test(answer_errors, error_answers_keep_question_and_opt)
{
	struct msg m;
	header(&m, 0x0100, 1, 0, 0, 1);
	question(&m, "www.ex.test.", 252); /* AXFR */
	opt(&m, 0, NULL, 0);
	ldns_pkt *p = send_msg(&m);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	cr_assert_eq(ldns_pkt_qdcount(p), 1);
	cr_assert(ldns_pkt_edns(p));
	cr_assert(ldns_pkt_rd(p));
	ldns_pkt_free(p);
}
