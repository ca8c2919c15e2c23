/* NSEC3 hashing (RFC 5155 §5) and base32hex decoding of hashed owner labels. */
#include "zone_int.h"

/* The low-level SHA-1 API keeps its context on the stack: no heap per hash, so the query
 * path can hash names for NSEC3 proofs (EVP contexts are heap objects). It is deprecated in
 * OpenSSL 3 but kept; SHA-1 here is RFC 5155's hash, not a signature. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <string.h>

/* RFC 5155 §10.3 caps iterations at 2,500 for the largest keys; anything above would let a
 * zone make us spend unbounded CPU per node. */
#define MAX_ITERATIONS 2500u

static void digest2(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint8_t *out)
{
	SHA_CTX c;
	SHA1_Init(&c);
	SHA1_Update(&c, a, alen);
	if (blen)
		SHA1_Update(&c, b, blen);
	SHA1_Final(out, &c);
}

int fe_zone_nsec3_hash(const uint8_t *name, uint8_t alg, uint16_t iterations, const uint8_t *salt,
                       uint8_t salt_len, uint8_t *out)
{
	uint8_t lc[FE_WIRE_NAME_MAX];
	uint8_t tmp[FE__NSEC3_HASH_LEN];
	int len;

	if (alg != 1) /* RFC 5155 §11: 1 = SHA-1, the only one defined */
		return FE_ENOTSUP;
	if (iterations > MAX_ITERATIONS)
		return FE_ERANGE;
	len = fe_wire_name_len(name, FE_WIRE_NAME_MAX);
	if (len < 0)
		return FE_ERANGE;
	/* RFC 5155 §5: the owner name in canonical form (lowercase, RFC 4034 §6.2). */
	fe_wire_name_lower(name, lc);
	/* IH(salt, x, 0) = H(x || salt); IH(salt, x, k) = H(IH(salt, x, k-1) || salt) */
	digest2(lc, (size_t)len, salt, salt_len, out);
	for (uint16_t i = 0; i < iterations; i++) {
		memcpy(tmp, out, sizeof(tmp));
		digest2(tmp, sizeof(tmp), salt, salt_len, out);
	}
	return FE__NSEC3_HASH_LEN;
}

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
