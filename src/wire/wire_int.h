/* src/wire/wire_int.h — helpers shared by the wire sources (private). */
#ifndef FEDENUM_WIRE_INT_H
#define FEDENUM_WIRE_INT_H

#include "fedenum/util.h"
#include "fedenum/wire.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Big-endian loads/stores, inline: the parser runs for every packet and these are hot. */
static inline uint16_t fe__rd16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t fe__rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void fe__wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void fe__wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ASCII-only lowercase (RFC 4343 §3: other octets compare as they are). */
static inline uint8_t fe__lc(uint8_t c)
{
	return (uint8_t)((unsigned)(c - 'A') < 26u ? c + ('a' - 'A') : c);
}

/* Eight octets at once: each ASCII 'A'..'Z' gets bit 0x20 set; everything else, octets
 * >= 0x80 included, is left alone. No carries cross octets: each 7-bit value plus 0x3f or
 * 0x25 stays below 0x100. */
static inline uint64_t fe__lc8(uint64_t w)
{
	const uint64_t hi = 0x8080808080808080ull;
	uint64_t h = w & ~hi;
	uint64_t ge_a = h + 0x3f3f3f3f3f3f3f3full; /* top bit: >= 'A' */
	uint64_t gt_z = h + 0x2525252525252525ull; /* top bit: > 'Z' */
	uint64_t upper = (ge_a ^ gt_z) & ~w & hi;
	return w | (upper >> 2);
}

/* Lowercase copy of @n octets (the buffers do not overlap). */
static inline void fe__lc_copy(uint8_t *dst, const uint8_t *src, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, src + i, 8);
		w = fe__lc8(w);
		memcpy(dst + i, &w, 8);
	}
	for (; i < n; i++)
		dst[i] = fe__lc(src[i]);
}

/* Header layout (RFC 1035 §4.1.1). */
#define FE__OFF_ID      0
#define FE__OFF_FLAGS   2
#define FE__OFF_QDCOUNT 4
#define FE__OFF_ANCOUNT 6
#define FE__OFF_NSCOUNT 8
#define FE__OFF_ARCOUNT 10

#define FE__OPCODE_SHIFT 11
#define FE__OPCODE_MASK  0x7800u
#define FE__RCODE_MASK   0x000Fu

#endif
