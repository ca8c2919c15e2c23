/* NSEC3 hashing of owner names (RFC 5155 §5), with OpenSSL's SHA-1 and nothing else: the
 * zone build hashes every node, the answer engine hashes the names a denial needs. */
#include "wire_int.h"

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

int fe_wire_nsec3_hash(const uint8_t *name, uint8_t alg, uint16_t iterations, const uint8_t *salt,
                       uint8_t salt_len, uint8_t *out)
{
	uint8_t lc[FE_WIRE_NAME_MAX];
	uint8_t tmp[FE_WIRE_NSEC3_SHA1_LEN];
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
	return FE_WIRE_NSEC3_SHA1_LEN;
}
