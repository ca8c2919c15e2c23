/* libFuzzer target: the query parser, error answers and the answer builder on hostile input.
 * Beyond "no crash, no sanitizer report", it checks invariants: what the parser reports lies
 * inside the packet, every message we build is well formed (walked back with our own reader,
 * all pointers backwards), fits its buffer, and a cleanly parsed query's error answer parses
 * again as a query once QR is cleared. Any violation aborts. */
#include "fedenum/util.h"
#include "fedenum/wire.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Walk a message we built: header, question, counted RRs, nothing after. */
static void check_message(const uint8_t *m, size_t n, size_t cap)
{
	CHECK(n >= FE_WIRE_HDR_LEN && n <= cap);
	CHECK(m[2] & 0x80); /* QR */
	size_t pos = FE_WIRE_HDR_LEN;
	uint8_t name[FE_WIRE_NAME_MAX];
	for (unsigned i = 0; i < be16(m + 4); i++) {
		CHECK(fe_wire_name_read(m, n, &pos, name) > 0);
		CHECK(n - pos >= 4);
		pos += 4;
	}
	unsigned rrs = (unsigned)be16(m + 6) + be16(m + 8) + be16(m + 10);
	for (unsigned i = 0; i < rrs; i++) {
		CHECK(fe_wire_name_read(m, n, &pos, name) > 0);
		CHECK(n - pos >= 10);
		size_t rdlen = be16(m + pos + 8);
		pos += 10;
		CHECK(n - pos >= rdlen);
		pos += rdlen;
	}
	CHECK(pos == n);
}

static void check_query(const uint8_t *data, size_t size, const struct fe_wire_query *q)
{
	if (q->question_end == 0)
		return;
	CHECK(q->qname == data + FE_WIRE_HDR_LEN);
	CHECK(q->question_end <= size);
	CHECK(q->question_end == FE_WIRE_HDR_LEN + q->qname_len + 4u);
	CHECK(fe_wire_name_len(q->qname, q->qname_len) == q->qname_len);
	CHECK(fe_wire_name_labels(q->qname) == q->qname_labels);
	CHECK(fe_wire_name_eq(q->qname, q->qname_lc));
	uint8_t lc[FE_WIRE_NAME_MAX];
	fe_wire_name_lower(q->qname, lc);
	CHECK(memcmp(lc, q->qname_lc, q->qname_len) == 0);

	/* canonical key round trip */
	uint8_t key[FE_WIRE_KEY_MAX], back[FE_WIRE_NAME_MAX];
	int kl = fe_wire_name_key(q->qname, q->qname_len, key, sizeof(key));
	CHECK(kl >= 0);
	CHECK(fe_wire_key_to_name(key, (size_t)kl, back, sizeof(back)) == q->qname_len);
	CHECK(memcmp(back, lc, q->qname_len) == 0);

	char str[4 * FE_WIRE_NAME_MAX + 2];
	fe_wire_name_to_str(q->qname, str, sizeof(str));
	CHECK(strlen(str) < sizeof(str));

	if (q->has_edns)
		CHECK(q->edns_opt_offset >= q->question_end && q->edns_opt_offset < size);
	if (q->has_tsig)
		CHECK(q->tsig_offset >= q->question_end && q->tsig_offset < size);
	if (q->has_cookie)
		CHECK(q->cookie_len == 8 || (q->cookie_len >= 16 && q->cookie_len <= 40));
}

static uint8_t out[FE_WIRE_MSG_MAX];

static void error_answers(const uint8_t *data, size_t size, const struct fe_wire_query *q,
                          enum fe_wire_verdict v)
{
	static const uint16_t rcodes[] = {FE_RCODE_FORMERR, FE_RCODE_NOTIMP, FE_RCODE_REFUSED,
	                                  FE_RCODE_SERVFAIL, FE_RCODE_BADVERS};
	/* capacities: tiny, just a header, UDP minimum, and one steered by the input */
	size_t caps[] = {11, 12, 30, 512, size > 0 ? data[size - 1] + 12u : 12u};
	for (size_t r = 0; r < sizeof(rcodes) / sizeof(rcodes[0]); r++) {
		for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
			size_t n = fe_wire_error_response(data, size, q, rcodes[r], out, caps[c]);
			if (size < FE_WIRE_HDR_LEN || caps[c] < FE_WIRE_HDR_LEN) {
				CHECK(n == 0);
				continue;
			}
			check_message(out, n, caps[c]);
			CHECK(memcmp(out, data, 2) == 0);
			if (v == FE_WIRE_OK && caps[c] >= 512 && q->opcode == FE_OP_QUERY) {
				/* as a query again: question and OPT survive */
				struct fe_wire_query q2;
				out[2] &= 0x7F;
				enum fe_wire_verdict v2 = fe_wire_query_parse(out, n, &q2);
				CHECK(v2 == FE_WIRE_OK);
				CHECK(q2.qtype == q->qtype && q2.qclass == q->qclass);
				CHECK(q2.qname_len == q->qname_len);
				CHECK(memcmp(q2.qname, q->qname, q->qname_len) == 0);
				CHECK(q2.has_edns ==
				      (q->has_edns || rcodes[r] == FE_RCODE_BADVERS));
				CHECK(q2.edns_do == (q->has_edns && q->edns_do));
			}
		}
	}
}

/* Owners for the builder: the question name, its suffixes, and names cut from the input. */
static void build_answer(const uint8_t *data, size_t size, const struct fe_wire_query *q)
{
	struct fe_wire_builder b;
	uint8_t owner[FE_WIRE_NAME_MAX];
	static const uint8_t rdata[] = {192, 0, 2, 1};
	size_t cap = fe_wire_udp_limit(q, 1232);
	if (size > 0 && (data[0] & 1))
		cap = FE_WIRE_MSG_MAX;

	fe_wire_builder_init(&b, out, cap, q);
	if (data[1] & 1)
		CHECK(fe_wire_builder_add_ede(&b, FE_EDE_PROHIBITED) == FE_OK || !q->has_edns);
	/* answer: the question name, in a loop until full */
	int sec = FE_SEC_ANSWER;
	size_t pos = 0;
	for (unsigned i = 0; i < 200; i++) {
		const uint8_t *o = q->qname;
		/* suffixes of the qname at label boundaries */
		size_t skip = 0;
		for (unsigned l = 0; l < i % 4 && q->qname[skip] != 0; l++)
			skip += 1u + q->qname[skip];
		o = q->qname + skip;
		/* every few rounds, a name taken from the input (validated first) */
		if (i % 5 == 4 && pos < size) {
			size_t p2 = pos;
			int l = fe_wire_name_read(data, size, &p2, owner);
			pos = p2 > pos ? p2 : pos + 1;
			if (l > 0)
				o = owner;
		}
		if (i % 50 == 49 && sec < FE_SEC_ADDITIONAL)
			sec++;
		size_t mark = fe_wire_builder_mark(&b);
		uint16_t counts[3];
		memcpy(counts, b.count, sizeof(counts));
		size_t len0 = b.len;
		uint16_t rdlen = (uint16_t)(i % 7 == 6 ? 300 : 4);
		static const uint8_t zero[300];
		int rc = fe_wire_builder_put_rr(&b, (enum fe_wire_section)sec, o, FE_T_A, FE_C_IN,
		                                i, rdlen == 4 ? rdata : zero, rdlen);
		CHECK(rc == FE_OK || rc == FE_ENOSPC);
		if (rc == FE_ENOSPC) {
			CHECK(b.len == len0 && b.truncated);
			continue;
		}
		if (i % 11 == 10)
			fe_wire_builder_rollback(&b, mark, counts);
	}
	fe_wire_builder_set_rcode(&b, (uint16_t)(size > 2 ? data[2] & 0x1F : 0));
	size_t n = fe_wire_builder_finish(&b, q, 1232);
	check_message(out, n, cap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fe_wire_query q;
	enum fe_wire_verdict v = fe_wire_query_parse(data, size, &q);

	if (v == FE_WIRE_DROP)
		CHECK(size < FE_WIRE_HDR_LEN || (data[2] & 0x80));
	if (v == FE_WIRE_OK)
		CHECK(q.question_end != 0);
	check_query(data, size, &q);
	error_answers(data, size, &q, v);
	if (v == FE_WIRE_OK)
		build_answer(data, size, &q);

	/* the decompressor on every offset of the input */
	for (size_t p = FE_WIRE_HDR_LEN; p < size && p < 600; p++) {
		uint8_t name[FE_WIRE_NAME_MAX];
		size_t at = p;
		int l = fe_wire_name_read(data, size, &at, name);
		if (l > 0) {
			CHECK(at > p && at <= size);
			CHECK(fe_wire_name_len(name, (size_t)l) == l);
		} else {
			CHECK(at == p);
		}
	}
	return 0;
}
