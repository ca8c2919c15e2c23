/* NSEC3 hashing (RFC 5155 §5) and base32hex decoding of hashed owner labels. */
#include "zone_int.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

/* RFC 5155 §10.3 caps iterations at 2,500 for the largest keys; anything above would let a
 * zone make us spend unbounded CPU per node. */
#define MAX_ITERATIONS 2500u

struct fe__n3hasher {
	EVP_MD_CTX *ctx;
	const EVP_MD *md;
};

struct fe__n3hasher *fe__n3hasher_new(void)
{
	struct fe__n3hasher *h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	h->ctx = EVP_MD_CTX_new();
	h->md = EVP_sha1();
	if (h->ctx == NULL || h->md == NULL) {
		fe__n3hasher_free(h);
		return NULL;
	}
	return h;
}

void fe__n3hasher_free(struct fe__n3hasher *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

static int digest2(struct fe__n3hasher *h, const uint8_t *a, size_t alen, const uint8_t *b,
                   size_t blen, uint8_t *out)
{
	unsigned int n = 0;
	if (EVP_DigestInit_ex(h->ctx, h->md, NULL) != 1 || EVP_DigestUpdate(h->ctx, a, alen) != 1 ||
	    (blen && EVP_DigestUpdate(h->ctx, b, blen) != 1) ||
	    EVP_DigestFinal_ex(h->ctx, out, &n) != 1 || n != FE__NSEC3_HASH_LEN)
		return FE_EIO;
	return FE_OK;
}

int fe__n3hash(struct fe__n3hasher *h, const uint8_t *name, uint8_t alg, uint16_t iterations,
               const uint8_t *salt, uint8_t salt_len, uint8_t *out)
{
	uint8_t lc[FE_WIRE_NAME_MAX];
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
	int err = digest2(h, lc, (size_t)len, salt, salt_len, out);
	for (uint16_t i = 0; err == FE_OK && i < iterations; i++)
		err = digest2(h, out, FE__NSEC3_HASH_LEN, salt, salt_len, out);
	return err == FE_OK ? FE__NSEC3_HASH_LEN : err;
}

int fe_zone_nsec3_hash(const uint8_t *name, uint8_t alg, uint16_t iterations, const uint8_t *salt,
                       uint8_t salt_len, uint8_t *out)
{
	struct fe__n3hasher *h = fe__n3hasher_new();
	if (h == NULL)
		return FE_ENOMEM;
	int rc = fe__n3hash(h, name, alg, iterations, salt, salt_len, out);
	fe__n3hasher_free(h);
	return rc;
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
