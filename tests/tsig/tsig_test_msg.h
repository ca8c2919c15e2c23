/* tests/tsig/tsig_test_msg.h — a tiny DNS message writer shared by the TSIG tests. */
#ifndef TSIG_TEST_MSG_H
#define TSIG_TEST_MSG_H

#include "fedenum/tsig.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

struct pk {
	uint8_t b[70000];
	size_t n;
};

static inline void put(struct pk *p, const void *d, size_t n)
{
	cr_assert_leq(p->n + n, sizeof(p->b));
	if (n)
		memcpy(p->b + p->n, d, n);
	p->n += n;
}
static inline void u8(struct pk *p, uint8_t v)
{
	put(p, &v, 1);
}
static inline void u16(struct pk *p, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	put(p, b, 2);
}
static inline void u32(struct pk *p, uint32_t v)
{
	u16(p, (uint16_t)(v >> 16));
	u16(p, (uint16_t)v);
}
static inline void u48(struct pk *p, uint64_t v)
{
	u16(p, (uint16_t)(v >> 32));
	u32(p, (uint32_t)v);
}
/* "www.example." (no escapes) as an uncompressed wire name */
static inline void name(struct pk *p, const char *s)
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
static inline void hdr(struct pk *p, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
                       uint16_t ns, uint16_t ar)
{
	p->n = 0;
	u16(p, id);
	u16(p, flags);
	u16(p, qd);
	u16(p, an);
	u16(p, ns);
	u16(p, ar);
}
static inline uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}
static inline void set16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}
/* A query for @qname/@qtype (ID @id). */
static inline void query(struct pk *p, uint16_t id, const char *qname, uint16_t qtype)
{
	hdr(p, id, 0, 1, 0, 0, 0);
	name(p, qname);
	u16(p, qtype);
	u16(p, FE_C_IN);
}

#endif
