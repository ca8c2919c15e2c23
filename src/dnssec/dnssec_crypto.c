/* DNSSEC public keys and signature verification over OpenSSL 3.
 *
 * Keys are parsed once per validation (EVP_PKEY, shared read-only by the workers). Each
 * worker makes its own EVP_PKEY_CTX per key the first time it needs it and reuses it for
 * every later RRSIG: RSA and ECDSA then cost one hash (low-level SHA, on the stack) and one
 * EVP_PKEY_verify per signature, with no context set-up. EdDSA has no pre-hashed form and
 * goes through EVP_DigestVerify. */
/* Before any OpenSSL header (dnssec_int.h includes evp.h). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "dnssec_int.h"

/* The low-level SHA-2 API keeps its state on the stack (EVP digest contexts are heap
 * objects). Deprecated in OpenSSL 3 but kept, as in nsec3.c. */
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

/* RSA limits: RFC 3110 allows up to 4096-bit moduli; a longer one (or a huge exponent)
 * would let a zone make every verification arbitrarily expensive (KeyTrap's cousin). Keys
 * under 1024 bits are not trusted (RFC 8624 §3.1 deprecates weak RSA). */
#define RSA_MIN_BITS    1024u
#define RSA_MAX_BITS    4096u
#define RSA_MAX_EXP_LEN 5u

bool fe__alg_supported(uint8_t alg)
{
	switch (alg) {
	case FE__ALG_RSASHA256:
	case FE__ALG_RSASHA512:
	case FE__ALG_ECDSAP256:
	case FE__ALG_ECDSAP384:
	case FE__ALG_ED25519:
	case FE__ALG_ED448:
		return true;
	default:
		return false;
	}
}

uint16_t fe_dnssec_key_tag(const uint8_t *k, size_t len)
{
	/* RFC 4034 Appendix B: ones-complement-like sum over the RDATA. */
	uint32_t ac = 0;
	if (len >= 4 && k[3] == 1)
		return 0; /* RSA/MD5's different tag (B.1) is not supported */
	for (size_t i = 0; i < len; i++)
		ac += (i & 1) ? k[i] : (uint32_t)k[i] << 8;
	ac += (ac >> 16) & 0xFFFFu;
	return (uint16_t)(ac & 0xFFFFu);
}

int fe_dnssec_ds_from_dnskey(const uint8_t *owner, size_t owner_len, const uint8_t *dnskey,
                             size_t dnskey_len, uint8_t digest_type, uint8_t *out)
{
	uint8_t lc[FE_WIRE_NAME_MAX];
	int nl = fe_wire_name_len(owner, owner_len);
	if (nl < 0 || (size_t)nl != owner_len || dnskey_len < 4)
		return FE_EFORMAT;
	fe_wire_name_lower(owner, lc);
	fe_put_be16(out, fe_dnssec_key_tag(dnskey, dnskey_len));
	out[2] = dnskey[3];
	out[3] = digest_type;
	/* RFC 4034 §5.1.4: digest = H(owner name | DNSKEY RDATA), owner in canonical form. */
	if (digest_type == 2) {
		SHA256_CTX c;
		SHA256_Init(&c);
		SHA256_Update(&c, lc, (size_t)nl);
		SHA256_Update(&c, dnskey, dnskey_len);
		SHA256_Final(out + 4, &c);
		return 4 + 32;
	}
	if (digest_type == 4) {
		SHA512_CTX c;
		SHA384_Init(&c);
		SHA384_Update(&c, lc, (size_t)nl);
		SHA384_Update(&c, dnskey, dnskey_len);
		SHA384_Final(out + 4, &c);
		return 4 + 48;
	}
	return FE_ENOTSUP;
}

static EVP_PKEY *pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
	EVP_PKEY *pk = NULL;
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pk;
}

/* RFC 3110 §2: exponent length (1 octet, or 0 then 2 octets), exponent, modulus. */
static EVP_PKEY *rsa_key(const uint8_t *k, size_t len)
{
	size_t el, off;
	if (len < 1)
		return NULL;
	if (k[0] != 0) {
		el = k[0];
		off = 1;
	} else {
		if (len < 3)
			return NULL;
		el = fe_get_be16(k + 1);
		off = 3;
	}
	if (el == 0 || el > RSA_MAX_EXP_LEN || off + el >= len)
		return NULL;
	const uint8_t *e = k + off, *n = k + off + el;
	size_t nl = len - off - el;
	while (nl > 0 && n[0] == 0) {
		n++;
		nl--;
	}
	if (nl * 8 < RSA_MIN_BITS || nl * 8 > RSA_MAX_BITS)
		return NULL;
	BIGNUM *bn = BN_bin2bn(n, (int)nl, NULL), *be = BN_bin2bn(e, (int)el, NULL);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY *pk = NULL;
	if (bn && be && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
		pk = pkey_fromdata("RSA", bld);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return pk;
}

/* RFC 6605 §4: the point as x | y; OpenSSL wants the uncompressed SEC1 form 04 | x | y. */
static EVP_PKEY *ec_key(const char *group, const uint8_t *k, size_t len, size_t want)
{
	uint8_t pt[1 + 96];
	if (len != want)
		return NULL;
	pt[0] = 4;
	memcpy(pt + 1, k, len);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY *pk = NULL;
	if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, len + 1))
		pk = pkey_fromdata("EC", bld);
	OSSL_PARAM_BLD_free(bld);
	if (pk != NULL) {
		/* A point off the curve can never verify: refuse it now, not per RRSIG. */
		EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
		bool ok = c != NULL && EVP_PKEY_public_check(c) == 1;
		EVP_PKEY_CTX_free(c);
		if (!ok) {
			EVP_PKEY_free(pk);
			pk = NULL;
		}
	}
	return pk;
}

bool fe__dkey_parse(struct fe__dkey *k)
{
	const uint8_t *pub = k->rdata + 4;
	size_t len = k->rdlen - 4u;
	switch (k->alg) {
	case FE__ALG_RSASHA256:
	case FE__ALG_RSASHA512:
		k->pkey = rsa_key(pub, len);
		break;
	case FE__ALG_ECDSAP256:
		k->pkey = ec_key("P-256", pub, len, 64);
		break;
	case FE__ALG_ECDSAP384:
		k->pkey = ec_key("P-384", pub, len, 96);
		break;
	case FE__ALG_ED25519: /* RFC 8080 §3 */
		k->pkey = len == 32 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, len)
		                    : NULL;
		break;
	case FE__ALG_ED448:
		k->pkey = len == 57 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED448, NULL, pub, len)
		                    : NULL;
		break;
	default:
		k->pkey = NULL;
		break;
	}
	ERR_clear_error();
	return k->pkey != NULL;
}

/* DER INTEGER of an unsigned big-endian value. */
static size_t der_int(uint8_t *o, const uint8_t *v, size_t n)
{
	while (n > 1 && v[0] == 0) {
		v++;
		n--;
	}
	size_t pad = (v[0] & 0x80) ? 1 : 0;
	o[0] = 0x02;
	o[1] = (uint8_t)(n + pad);
	o[2] = 0;
	memcpy(o + 2 + pad, v, n);
	return 2 + pad + n;
}

static EVP_PKEY_CTX *key_ctx(struct fe__vthr *t, size_t key)
{
	EVP_PKEY_CTX *c = t->pctx[key];
	if (c != NULL)
		return c;
	const struct fe__dkey *k = &t->v->keys[key];
	c = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
	if (c == NULL || EVP_PKEY_verify_init(c) <= 0)
		goto out_free;
	if (k->alg == FE__ALG_RSASHA256 || k->alg == FE__ALG_RSASHA512) {
		/* RFC 5702 §3: PKCS #1 v1.5 over the DigestInfo of SHA-256 / SHA-512. */
		if (EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) <= 0 ||
		    EVP_PKEY_CTX_set_signature_md(
		            c, k->alg == FE__ALG_RSASHA256 ? EVP_sha256() : EVP_sha512()) <= 0)
			goto out_free;
	}
	t->pctx[key] = c;
	return c;
out_free:
	EVP_PKEY_CTX_free(c);
	ERR_clear_error();
	return NULL;
}

int fe__verify(struct fe__vthr *t, size_t key, const uint8_t *data, size_t len, const uint8_t *sig,
               size_t siglen)
{
	const struct fe__dkey *k = &t->v->keys[key];
	uint8_t md[SHA512_DIGEST_LENGTH];
	uint8_t der[8 + 2 * 50];
	size_t mdlen;
	int ok;

	if (k->alg == FE__ALG_ED25519 || k->alg == FE__ALG_ED448) {
		/* RFC 8080 §4: the signature is over the data itself (PureEdDSA). */
		if (siglen != (k->alg == FE__ALG_ED25519 ? 64u : 114u))
			return 0;
		if (t->mctx == NULL && (t->mctx = EVP_MD_CTX_new()) == NULL)
			return FE_ENOMEM;
		/* A reused context would keep its previous key's EVP_PKEY_CTX. */
		EVP_MD_CTX_reset(t->mctx);
		ok = EVP_DigestVerifyInit(t->mctx, NULL, NULL, NULL, k->pkey) == 1 &&
		     EVP_DigestVerify(t->mctx, sig, siglen, data, len) == 1;
		ERR_clear_error();
		return ok ? 1 : 0;
	}

	switch (k->alg) {
	case FE__ALG_RSASHA256:
	case FE__ALG_ECDSAP256: {
		SHA256_CTX c;
		SHA256_Init(&c);
		SHA256_Update(&c, data, len);
		SHA256_Final(md, &c);
		mdlen = 32;
		break;
	}
	case FE__ALG_ECDSAP384: {
		SHA512_CTX c;
		SHA384_Init(&c);
		SHA384_Update(&c, data, len);
		SHA384_Final(md, &c);
		mdlen = 48;
		break;
	}
	default: { /* RSASHA512 */
		SHA512_CTX c;
		SHA512_Init(&c);
		SHA512_Update(&c, data, len);
		SHA512_Final(md, &c);
		mdlen = 64;
		break;
	}
	}

	if (k->alg == FE__ALG_ECDSAP256 || k->alg == FE__ALG_ECDSAP384) {
		/* RFC 6605 §4: r | s, each as long as the curve's field; OpenSSL wants DER. */
		size_t half = k->alg == FE__ALG_ECDSAP256 ? 32 : 48;
		if (siglen != 2 * half)
			return 0;
		size_t o = 2;
		o += der_int(der + o, sig, half);
		o += der_int(der + o, sig + half, half);
		der[0] = 0x30;
		der[1] = (uint8_t)(o - 2);
		sig = der;
		siglen = o;
	}
	EVP_PKEY_CTX *c = key_ctx(t, key);
	if (c == NULL)
		return 0; /* OpenSSL refused the key for verification: nothing verifies */
	ok = EVP_PKEY_verify(c, sig, siglen, md, mdlen) == 1;
	ERR_clear_error();
	return ok ? 1 : 0;
}

void fe__vthr_crypto_free(struct fe__vthr *t)
{
	if (t->pctx != NULL)
		for (size_t i = 0; i < t->v->nkeys; i++)
			EVP_PKEY_CTX_free(t->pctx[i]);
	free(t->pctx);
	t->pctx = NULL;
	EVP_MD_CTX_free(t->mctx);
	t->mctx = NULL;
}
