/* Hostile queries through fe_answer (docs/security.md Q1–Q5): hand-built messages, the answer
 * checked byte-wise and with ldns, and the counters. */
#include "test_answer_lib.h"
#include "test_answer_msg.h"

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
	msg_header(&m, 0x8100, 1, 0, 0, 0); /* QR=1 */
	msg_question(&m, "www.ex.test.", 1);
	cr_assert_eq(fe_answer(&F.ctx, m.b, m.n, FE_TRANSPORT_UDP, F.resp, 4096), 0);

	msg_header(&m, 0x0100, 0, 0, 0, 0); /* header only, QDCOUNT 0 */
	expect_rcode(&m, LDNS_RCODE_FORMERR, "QDCOUNT 0");
}

Test(answer_errors, q2_names_and_questions)
{
	struct msg m;
	/* QNAME of 4 × 63-octet labels: 257 octets > 255 */
	msg_header(&m, 0x0100, 1, 0, 0, 0);
	for (int l = 0; l < 4; l++) {
		msg_put8(&m, 63);
		for (int i = 0; i < 63; i++)
			msg_put8(&m, 'a');
	}
	msg_put8(&m, 0);
	msg_put16(&m, 1);
	msg_put16(&m, 1);
	expect_rcode(&m, LDNS_RCODE_FORMERR, "QNAME > 255");

	/* a 64-octet label */
	msg_header(&m, 0x0100, 1, 0, 0, 0);
	msg_put8(&m, 64);
	for (int i = 0; i < 64; i++)
		msg_put8(&m, 'b');
	msg_put8(&m, 0);
	msg_put16(&m, 1);
	msg_put16(&m, 1);
	expect_rcode(&m, LDNS_RCODE_FORMERR, "label > 63");

	/* two different questions, and the same question twice */
	msg_header(&m, 0x0100, 2, 0, 0, 0);
	msg_question(&m, "www.ex.test.", 1);
	msg_question(&m, "mail.ex.test.", 1);
	expect_rcode(&m, LDNS_RCODE_FORMERR, "two questions");
	msg_header(&m, 0x0100, 2, 0, 0, 0);
	msg_question(&m, "www.ex.test.", 1);
	msg_question(&m, "www.ex.test.", 1);
	expect_rcode(&m, LDNS_RCODE_FORMERR, "duplicate question");

	/* trailing junk after the counted sections */
	msg_header(&m, 0x0100, 1, 0, 0, 0);
	msg_question(&m, "www.ex.test.", 1);
	msg_put8(&m, 0x42);
	expect_rcode(&m, LDNS_RCODE_FORMERR, "trailing octet");
	cr_assert_eq(F.cnt[FE_CNT_FORMERR], 5);
}

Test(answer_errors, q3_compression_attacks)
{
	struct msg m;
	/* QNAME that is a pointer to itself */
	msg_header(&m, 0x0100, 1, 0, 0, 0);
	msg_put8(&m, 0xC0);
	msg_put8(&m, 12);
	msg_put16(&m, 1);
	msg_put16(&m, 1);
	expect_rcode(&m, LDNS_RCODE_FORMERR, "self pointer");

	/* forward pointer in an additional RR's owner */
	msg_header(&m, 0x0100, 1, 0, 0, 1);
	msg_question(&m, "www.ex.test.", 1);
	size_t at = m.n;
	msg_put8(&m, 0xC0);
	msg_put8(&m, (unsigned)(at + 2));
	msg_put16(&m, 1);
	msg_put16(&m, 1);
	msg_put32(&m, 0);
	msg_put16(&m, 0);
	expect_rcode(&m, LDNS_RCODE_FORMERR, "forward pointer");

	/* pointer as the last octet */
	msg_header(&m, 0x0100, 1, 0, 0, 1);
	msg_question(&m, "www.ex.test.", 1);
	msg_put8(&m, 0xC0);
	expect_rcode(&m, LDNS_RCODE_FORMERR, "truncated pointer");

	/* pointer to a pointer to a pointer ... to itself, backwards chain that loops */
	msg_header(&m, 0x0100, 1, 0, 0, 1);
	msg_question(&m, "www.ex.test.", 1);
	at = m.n;
	msg_put8(&m, 0xC0);
	msg_put8(&m, (unsigned)at);
	msg_put16(&m, 1);
	msg_put16(&m, 1);
	msg_put32(&m, 0);
	msg_put16(&m, 0);
	expect_rcode(&m, LDNS_RCODE_FORMERR, "pointer loop");
}

Test(answer_errors, q4_edns)
{
	struct msg m;
	/* two OPT RRs */
	msg_header(&m, 0x0100, 1, 0, 0, 2);
	msg_question(&m, "www.ex.test.", 1);
	msg_opt(&m, 0, NULL, 0);
	msg_opt(&m, 0, NULL, 0);
	expect_rcode(&m, LDNS_RCODE_FORMERR, "two OPT");

	/* OPT owner not the root */
	msg_header(&m, 0x0100, 1, 0, 0, 1);
	msg_question(&m, "www.ex.test.", 1);
	msg_name(&m, "ex.test.");
	msg_put16(&m, 41);
	msg_put16(&m, 1232);
	msg_put32(&m, 0);
	msg_put16(&m, 0);
	expect_rcode(&m, LDNS_RCODE_FORMERR, "OPT owner");

	/* duplicate EDNS option (two COOKIEs) */
	static const uint8_t two_cookies[] = {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8,
	                                      0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
	msg_header(&m, 0x0100, 1, 0, 0, 1);
	msg_question(&m, "www.ex.test.", 1);
	msg_opt(&m, 0, two_cookies, sizeof(two_cookies));
	expect_rcode(&m, LDNS_RCODE_FORMERR, "duplicate option");

	/* EDNS version 1: BADVERS (extended rcode 16 = OPT ext-rcode 1, header 0) with our OPT
	 * (RFC 6891 §6.1.3) */
	msg_header(&m, 0x0100, 1, 0, 0, 1);
	msg_question(&m, "www.ex.test.", 1);
	msg_opt(&m, 1, NULL, 0);
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
	msg_header(&m, 0x0100, 1, 0, 0, 2);
	msg_question(&m, "www.ex.test.", 1);
	msg_tsig(&m, 255);
	msg_opt(&m, 0, NULL, 0);
	expect_rcode(&m, LDNS_RCODE_FORMERR, "TSIG not last");

	/* TSIG class not ANY */
	msg_header(&m, 0x0100, 1, 0, 0, 1);
	msg_question(&m, "www.ex.test.", 1);
	msg_tsig(&m, 1);
	expect_rcode(&m, LDNS_RCODE_FORMERR, "TSIG class IN");

	/* two TSIGs */
	msg_header(&m, 0x0100, 1, 0, 0, 2);
	msg_question(&m, "www.ex.test.", 1);
	msg_tsig(&m, 255);
	msg_tsig(&m, 255);
	expect_rcode(&m, LDNS_RCODE_FORMERR, "two TSIG");

	/* TSIG in the authority section */
	msg_header(&m, 0x0100, 1, 0, 1, 0);
	msg_question(&m, "www.ex.test.", 1);
	msg_tsig(&m, 255);
	expect_rcode(&m, LDNS_RCODE_FORMERR, "TSIG in authority");

	/* a well-placed TSIG with a key we do not have: NOTAUTH (RFC 8945 §5.2.1), no data */
	msg_header(&m, 0x0100, 1, 0, 0, 1);
	msg_question(&m, "www.ex.test.", 1);
	msg_tsig(&m, 255);
	expect_rcode(&m, LDNS_RCODE_NOTAUTH, "unknown key");
}

Test(answer_errors, error_answers_keep_question_and_opt)
{
	struct msg m;
	msg_header(&m, 0x0100, 1, 0, 0, 1);
	msg_question(&m, "www.ex.test.", 252); /* AXFR */
	msg_opt(&m, 0, NULL, 0);
	ldns_pkt *p = send_msg(&m);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	cr_assert_eq(ldns_pkt_qdcount(p), 1);
	cr_assert(ldns_pkt_edns(p));
	cr_assert(ldns_pkt_rd(p));
	ldns_pkt_free(p);
}
