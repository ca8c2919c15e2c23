/* tests/server/test_answer_msg.h — hand-built DNS messages for hostile-query tests (header
 * only; used by tests/server/test_answer_errors.c and tests/integration/test_query_*.c). */
#ifndef TEST_ANSWER_MSG_H
#define TEST_ANSWER_MSG_H

#include <criterion/criterion.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A message under construction. */
struct msg {
	uint8_t b[2048];
	size_t n;
};

static inline void msg_put8(struct msg *m, unsigned v)
{
	cr_assert_lt(m->n, sizeof(m->b));
	m->b[m->n++] = (uint8_t)v;
}

static inline void msg_put16(struct msg *m, unsigned v)
{
	msg_put8(m, v >> 8);
	msg_put8(m, v & 0xffu);
}

static inline void msg_put32(struct msg *m, uint32_t v)
{
	msg_put16(m, v >> 16);
	msg_put16(m, v & 0xffffu);
}

/* "www.ex.test" style, uncompressed, root included */
static inline void msg_name(struct msg *m, const char *dotted)
{
	while (*dotted) {
		const char *dot = strchr(dotted, '.');
		size_t l = dot ? (size_t)(dot - dotted) : strlen(dotted);
		msg_put8(m, (unsigned)l);
		for (size_t i = 0; i < l; i++)
			msg_put8(m, (unsigned char)dotted[i]);
		dotted += l + (dot ? 1 : 0);
	}
	msg_put8(m, 0);
}

static inline void msg_header(struct msg *m, unsigned flags, unsigned qd, unsigned an, unsigned ns,
                              unsigned ar)
{
	m->n = 0;
	msg_put16(m, 0xBEEF);
	msg_put16(m, flags);
	msg_put16(m, qd);
	msg_put16(m, an);
	msg_put16(m, ns);
	msg_put16(m, ar);
}

static inline void msg_question(struct msg *m, const char *name, unsigned type)
{
	msg_name(m, name);
	msg_put16(m, type);
	msg_put16(m, 1);
}

/* OPT: version, DO, options (@opts/@optlen raw) */
static inline void msg_opt(struct msg *m, unsigned version, const uint8_t *opts, size_t optlen)
{
	msg_put8(m, 0);
	msg_put16(m, 41);
	msg_put16(m, 1232);
	msg_put8(m, 0);
	msg_put8(m, version);
	msg_put16(m, 0);
	msg_put16(m, (unsigned)optlen);
	for (size_t i = 0; i < optlen; i++)
		msg_put8(m, opts[i]);
}

/* A well-formed TSIG RR (RFC 8945 §4.2) with class @rclass. */
static inline void msg_tsig(struct msg *m, unsigned rclass)
{
	msg_name(m, "key.");
	msg_put16(m, 250);
	msg_put16(m, rclass);
	msg_put32(m, 0);
	size_t rdlen_at = m->n;
	msg_put16(m, 0);
	size_t start = m->n;
	msg_name(m, "hmac-sha256.");
	msg_put16(m, 0);
	msg_put32(m, 1700000000u); /* time signed (48 bits) */
	msg_put16(m, 300);         /* fudge */
	msg_put16(m, 32);          /* MAC size */
	for (int i = 0; i < 32; i++)
		msg_put8(m, 0xAA);
	msg_put16(m, 0xBEEF); /* original ID */
	msg_put16(m, 0);      /* error */
	msg_put16(m, 0);      /* other len */
	size_t rdlen = m->n - start;
	m->b[rdlen_at] = (uint8_t)(rdlen >> 8);
	m->b[rdlen_at + 1] = (uint8_t)rdlen;
}

#endif
