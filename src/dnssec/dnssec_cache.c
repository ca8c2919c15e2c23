/* Verified-signature cache: lets a new version of a zone skip the public-key operations for
 * signatures that the previous version already proved (an IXFR-sized change
 * re-validates what changed; everything else about an unchanged RRset — validity window,
 * labels, signer, key-tag budgets, NSEC/NSEC3 consistency — is still checked every time).
 *
 * An entry is the first 16 octets of SHA-256(DNSKEY RDATA | signed data | signature), where
 * "signed data" is the RFC 4034 §3.1.8.1 input (RRSIG RDATA without the signature, then the
 * canonical RRset). Verification is a deterministic function of exactly these bytes, so a hit
 * means the same verification succeeded before. A forged hit needs a second preimage of a
 * 128-bit SHA-256 prefix. */
#include "dnssec_int.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

struct fe_dnssec_sigcache {
	uint8_t (*slot)[FE__SIGCACHE_DIGEST];
	size_t cap; /* power of two; 0 before the first insert */
	size_t count;
};

struct fe_dnssec_sigcache *fe_dnssec_sigcache_create(void)
{
	return calloc(1, sizeof(struct fe_dnssec_sigcache));
}

void fe_dnssec_sigcache_destroy(struct fe_dnssec_sigcache *c)
{
	if (c == NULL)
		return;
	free(c->slot);
	free(c);
}

size_t fe_dnssec_sigcache_count(const struct fe_dnssec_sigcache *c)
{
	return c ? c->count : 0;
}

static bool is_empty(const uint8_t *s)
{
	static const uint8_t zero[FE__SIGCACHE_DIGEST];
	return memcmp(s, zero, FE__SIGCACHE_DIGEST) == 0;
}

static size_t slot_of(const struct fe_dnssec_sigcache *c, const uint8_t *d)
{
	/* the digest is uniformly distributed: its first octets are the hash */
	return (size_t)fe_get_u64(d) & (c->cap - 1);
}

bool fe__sigcache_has(const struct fe_dnssec_sigcache *c, const uint8_t *d)
{
	if (c == NULL || c->cap == 0)
		return false;
	for (size_t i = slot_of(c, d);; i = (i + 1) & (c->cap - 1)) {
		if (is_empty(c->slot[i]))
			return false;
		if (memcmp(c->slot[i], d, FE__SIGCACHE_DIGEST) == 0)
			return true;
	}
}

static void put(struct fe_dnssec_sigcache *c, const uint8_t *d)
{
	size_t i = slot_of(c, d);
	while (!is_empty(c->slot[i])) {
		if (memcmp(c->slot[i], d, FE__SIGCACHE_DIGEST) == 0)
			return;
		i = (i + 1) & (c->cap - 1);
	}
	memcpy(c->slot[i], d, FE__SIGCACHE_DIGEST);
	c->count++;
}

int fe__sigcache_add(struct fe_dnssec_sigcache *c, const uint8_t *d)
{
	if ((c->count + 1) * 2 > c->cap) { /* load factor <= 1/2 */
		struct fe_dnssec_sigcache n = {.cap = c->cap ? c->cap * 2 : 1024};
		n.slot = calloc(n.cap, FE__SIGCACHE_DIGEST);
		if (n.slot == NULL)
			return FE_ENOMEM;
		for (size_t i = 0; i < c->cap; i++)
			if (!is_empty(c->slot[i]))
				put(&n, c->slot[i]);
		free(c->slot);
		*c = n;
	}
	put(c, d);
	return FE_OK;
}

int fe__sigcache_digest(struct fe__vthr *t, const struct fe__dkey *k, const uint8_t *data,
                        size_t len, const uint8_t *sig, size_t siglen, uint8_t *out)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	if (t->dctx == NULL && (t->dctx = EVP_MD_CTX_new()) == NULL)
		return FE_ENOMEM;
	if (EVP_DigestInit_ex(t->dctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(t->dctx, k->rdata, k->rdlen) != 1 ||
	    EVP_DigestUpdate(t->dctx, data, len) != 1 ||
	    EVP_DigestUpdate(t->dctx, sig, siglen) != 1 ||
	    EVP_DigestFinal_ex(t->dctx, md, &mdlen) != 1 || mdlen < FE__SIGCACHE_DIGEST)
		return FE_ENOMEM;
	memcpy(out, md, FE__SIGCACHE_DIGEST);
	if (is_empty(out))
		out[0] = 1; /* the all-zero entry marks an empty slot */
	return FE_OK;
}

int fe__sigcache_learn(struct fe__vthr *t, const uint8_t *d)
{
	if (t->nlearned == t->learned_cap) {
		size_t ncap = t->learned_cap ? t->learned_cap * 2 : 256;
		void *p = realloc(t->learned, ncap * FE__SIGCACHE_DIGEST);
		if (p == NULL)
			return FE_ENOMEM;
		t->learned = p;
		t->learned_cap = ncap;
	}
	memcpy(t->learned[t->nlearned++], d, FE__SIGCACHE_DIGEST);
	return FE_OK;
}
