/* Base32hex decoding of NSEC3 hashed owner labels (the hash itself: fe_wire_nsec3_hash). */
#include "zone_int.h"

#include <string.h>

static int b32hex_val(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'v')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'V')
		return c - 'A' + 10;
	return -1;
}

bool fe__b32hex_decode20(const uint8_t *label, size_t len, uint8_t *out)
{
	/* 20 bytes = 160 bits = exactly 32 base32 digits, no padding (RFC 5155 §3.3). */
	if (len != 32)
		return false;
	for (size_t g = 0; g < 4; g++) {
		uint64_t acc = 0;
		for (size_t i = 0; i < 8; i++) {
			int v = b32hex_val(label[g * 8 + i]);
			if (v < 0)
				return false;
			acc = (acc << 5) | (uint64_t)v;
		}
		for (size_t i = 0; i < 5; i++)
			out[g * 5 + i] = (uint8_t)(acc >> (8 * (4 - i)));
	}
	return true;
}
