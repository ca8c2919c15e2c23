/* src/tsig/tsig_int.h — shared by the tsig sources (private). */
#ifndef FEDENUM_TSIG_INT_H
#define FEDENUM_TSIG_INT_H

#include "fedenum/tsig.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

struct fe_tsig_key {
	enum fe_tsig_alg alg;
	uint8_t name_len;
	uint8_t name[FE_WIRE_NAME_MAX]; /* canonical: lowercased wire form */
	size_t digest_len;
	size_t min_mac_len;
	size_t secret_len;
	uint8_t secret[FE_TSIG_SECRET_MAX];
	/* HMAC keyed with the secret and never updated: each MAC starts from a copy, so the
	 * key stays immutable and shareable between threads. */
	EVP_MAC_CTX *tmpl;
};

/* Canonical wire name of an algorithm (lowercase, uncompressed) and its length. */
const uint8_t *fe__tsig_alg_wire(enum fe_tsig_alg alg, size_t *len);
/* Algorithm from a canonical (lowercased) wire name; 0 when unknown. */
enum fe_tsig_alg fe__tsig_alg_from_wire(const uint8_t *name, size_t len);

/* A fresh HMAC context for @key (a copy of its keyed template); NULL on allocation failure. */
EVP_MAC_CTX *fe__tsig_mac_new(const struct fe_tsig_key *key);
/* Feed a 16-bit length followed by @len octets (request / prior MAC, RFC 8945 §4.3.1). */
int fe__tsig_mac_prefix(EVP_MAC_CTX *ctx, const uint8_t *mac, size_t len);

/* Locate and read the TSIG RR of a message (RFC 8945 §5.2 placement rules, §4.2 format).
 * FE_OK: res->has_tsig and the RR fields are set; FE_ENOENT: no TSIG; FE_EFORMAT: malformed
 * message, misplaced TSIG, class not ANY, TTL not 0, bad RDATA (res->rcode FORMERR). */
int fe__tsig_locate(const uint8_t *msg, size_t len, struct fe_tsig_result *res);

/* With @ctx primed (request MAC, or prior MAC plus unsigned messages), finish checking a
 * located TSIG made with @key: message, TSIG variables (or timers only when @timers_only),
 * then sizes, MAC, time, error field (@client) and truncation policy. Frees @ctx. Returns as
 * fe_tsig_verify_response. */
int fe__tsig_check(EVP_MAC_CTX *ctx, const uint8_t *msg, const struct fe_tsig_key *key,
                   bool timers_only, bool client, struct fe_tsig_result *res);

/* With @ctx primed, digest msg[0..*len) and the TSIG variables (timers only when
 * @timers_only), append the TSIG RR. Frees @ctx. @mac_out gets the full-or-truncated MAC. */
int fe__tsig_sign_ctx(EVP_MAC_CTX *ctx, uint8_t *msg, size_t *len, size_t cap,
                      const struct fe_tsig_key *key, bool timers_only,
                      const struct fe_tsig_sign_opts *opts, uint8_t *mac_out, size_t *mac_len_out);

/* Shortest MAC RFC 8945 §5.2.2.1 allows for a digest of @d octets: max(10, d/2). */
static inline size_t fe__tsig_mac_floor(size_t d)
{
	return d / 2 > 10 ? d / 2 : 10;
}

#endif
