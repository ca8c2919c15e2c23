/* dnssec/ internals (fe_dnssec_validate), shared by dnssec*.c. The validator reads the
 * parsed zone in place (src/zone/zone_int.h, the one private header of another module that
 * a module may include: dnssec sits right above zone, see docs/architecture.md).
 *
 * One validation = one struct fe__vctx (read-only after phase 1, apart from the atomics and
 * the error slot) and one struct fe__vthr per worker thread (scratch buffers, per-key
 * OpenSSL contexts, counters). Workers take work units from an atomic counter: the denial
 * chain check, the ZONEMD digest, then chunks of nodes and of NSEC3 owners. */
#ifndef FE_DNSSEC_INT_H
#define FE_DNSSEC_INT_H

#include "fedenum/dnssec.h"
#include "zone_int.h"

#include <pthread.h>
#include <stdatomic.h>

#include <openssl/evp.h>

/* DNSSEC algorithm numbers we validate (RFC 8624 §3.1: MUST/RECOMMENDED for validation). */
enum {
	FE__ALG_RSASHA256 = 8,
	FE__ALG_RSASHA512 = 10,
	FE__ALG_ECDSAP256 = 13,
	FE__ALG_ECDSAP384 = 14,
	FE__ALG_ED25519 = 15,
	FE__ALG_ED448 = 16
};

#define FE__DNSKEY_ZONE   0x0100u /* RFC 4034 §2.1.1 */
#define FE__DNSKEY_REVOKE 0x0080u /* RFC 5011 §7 */
#define FE__DNSKEY_SEP    0x0001u

/* A key of the apex DNSKEY RRset. */
struct fe__dkey {
	const uint8_t *rdata;
	uint16_t rdlen;
	uint16_t tag;
	uint16_t flags;
	uint8_t alg;
	bool usable;         /* zone key, protocol 3, algorithm supported, public key parsed */
	bool revoked;        /* RFC 5011: signs only the DNSKEY RRset */
	bool trusted;        /* matches the caller's trust (DS digest or anchor RDATA) */
	uint32_t group;      /* index of the first key with the same (tag, alg) */
	uint32_t group_size; /* keys sharing (tag, alg) */
	EVP_PKEY *pkey;
};

/* A canonical RR of an RRset being signed or digested. */
struct fe__crr {
	const uint8_t *rd;
	uint16_t len;
	uint32_t ttl;
};

struct fe__vctx;

struct fe__vthr {
	struct fe__vctx *v;
	unsigned idx;
	/* scratch, grown as needed, never shrunk: no allocation per RRset once warm */
	uint8_t *buf; /* signed data / digest input */
	size_t buf_cap;
	uint8_t *cbuf; /* canonical RDATA copies */
	size_t cbuf_cap;
	struct fe__crr *crr;
	size_t crr_cap;
	uint16_t *types;
	size_t types_cap;
	/* per key (index into v->keys): lazily made verify contexts */
	EVP_PKEY_CTX **pctx;
	EVP_MD_CTX *mctx; /* EdDSA one-shot verification */
	uint32_t *hint;   /* per key group: offset of the key that verified last */
	/* verified-signature cache (dnssec_cache.c): digests this thread proved */
	EVP_MD_CTX *dctx;
	uint8_t (*learned)[16];
	size_t nlearned, learned_cap;
	/* counters */
	uint64_t rrsets;
	uint64_t sigs;
	uint64_t sigs_cached;
	uint64_t denial;
	int64_t min_expiry;
	bool have_expiry;
};

struct fe__vctx {
	struct fe_zone *z;
	const struct fe_dnssec_trust *trust;
	struct fe_dnssec_opts o;
	int64_t now;
	uint8_t apex_lc[FE_WIRE_NAME_MAX];

	struct fe__dkey *keys; /* sorted by (tag, alg) */
	size_t nkeys;
	uint32_t alg_mask; /* algorithms of the validated key set (bit = algorithm number) */
	uint16_t trusted_tag;
	uint8_t trusted_alg;

	/* work distribution */
	size_t node_chunks;
	size_t n3_chunks;
	size_t units;
	atomic_size_t next_unit;
	atomic_bool stop;
	atomic_uint_fast64_t failed; /* failed signature verifications, zone-wide */

	pthread_mutex_t mu;
	int rc; /* first error */
	struct fe_zone_error err;
	bool zonemd_verified;
};

#define FE__CHUNK_NODES 256u

/* ---- dnssec_crypto.c ---------------------------------------------------------------- */
/* Parse @k's public key into k->pkey (RFC 3110, RFC 6605, RFC 8080). false: unusable. */
bool fe__dkey_parse(struct fe__dkey *k);
/* 1: signature valid, 0: invalid, FE_ENOMEM. @data is the RFC 4034 §3.1.8.1 signed data. */
int fe__verify(struct fe__vthr *t, size_t key, const uint8_t *data, size_t len, const uint8_t *sig,
               size_t siglen);
bool fe__alg_supported(uint8_t alg);
/* Free the thread's OpenSSL contexts. */
void fe__vthr_crypto_free(struct fe__vthr *t);

/* ---- dnssec_canon.c ----------------------------------------------------------------- */
/* Copy @rd into @out with the domain names of RFC 4034 §6.2 item 3 (as amended by RFC 6840
 * §5.1: not NSEC's) lowercased. Returns false when the RDATA of such a type is malformed.
 * *changed tells whether any byte differs. */
bool fe__canon_rdata(uint16_t type, const uint8_t *rd, size_t len, uint8_t *out, bool *changed);
/* Canonical RRset in t->crr (sorted, duplicates removed, RFC 4034 §6.3) from the @n RRs at
 * @recs (all of one type). Returns the count, or FE_EFORMAT / FE_ENOMEM. */
int fe__canon_rrset(struct fe__vthr *t, uint16_t type, struct fe__zrec *const *recs, size_t n);
/* Ensure t->buf holds @need bytes. */
int fe__buf_reserve(struct fe__vthr *t, size_t need);

/* ---- dnssec_denial.c ---------------------------------------------------------------- */
int fe__check_nsec(struct fe__vthr *t);
int fe__check_nsec3(struct fe__vthr *t);

/* ---- dnssec_zonemd.c ---------------------------------------------------------------- */
int fe__check_zonemd(struct fe__vthr *t);

/* ---- dnssec_types.c ----------------------------------------------------------------- */
/* Record the first failure (later ones are dropped) and stop every worker. @r (may be NULL)
 * gives file:line. Returns @rc. */
int fe__vfail(struct fe__vctx *v, int rc, const struct fe__zrec *r, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/* Presentation form of a type ("NAPTR", "TYPE65280"). */
const char *fe__type_str(uint16_t type, char *buf, size_t cap);
/* Types present at a node (sorted, unique) into t->types. RRSIG is included when an RRSIG
 * is there, and also (so that a missing signature is reported as such, not as a bitmap
 * mismatch) always with FE__SIG_ALWAYS, or when a DS is there with FE__SIG_IF_DS.
 * Returns the count or FE_ENOMEM. */
enum { FE__SIG_IF_PRESENT = 0, FE__SIG_ALWAYS = 1, FE__SIG_IF_DS = 2 };
int fe__node_types(struct fe__vthr *t, struct fe__zrec *const *recs, size_t n, int sig_mode);
/* Name of node @i in presentation form. */
void fe__node_str(const struct fe_zone *z, size_t i, char *out, size_t cap);
/* Type bitmaps (RFC 4034 §4.1.2): structure check, membership. */
bool fe__bitmap_valid(const uint8_t *b, size_t len);
bool fe__bitmap_has(const uint8_t *b, size_t len, uint16_t type);
/* Compare bitmap @b with the types at a node (@types, sorted): exact equality, or at a cut
 * (@cut) "every type in @b is at the node and every type in @required is in @b".
 * Returns NULL when it matches, else a static description of the mismatch written to
 * @why. */
bool fe__bitmap_match(const uint8_t *b, size_t len, const uint16_t *types, size_t ntypes, bool cut,
                      const uint16_t *required, size_t nrequired, char *why, size_t why_cap);

/* ---- dnssec.c, for the change-set validation (dnssec_delta.c) ---- */
/* The key set of v->z's apex (v->z->nodes[0], its DNSKEY records first in v->z->recs). */
int fe__vctx_keys(struct fe__vctx *v);
int fe__vthr_init(struct fe__vthr *t, struct fe__vctx *v);
void fe__vthr_deinit(struct fe__vthr *t);
/* Phase 1 of fe_dnssec_validate on v->z. */
int fe__check_dnskey(struct fe__vthr *t);
/* Every RRSIG of one authoritative RRset (@owner_lc lowercased), as phase 2 checks it. */
int fe__check_rrset_recs(struct fe__vthr *t, const uint8_t *owner_lc, size_t owner_len,
                         uint16_t type, struct fe__zrec *const *rrs, size_t nrrs,
                         struct fe__zrec *const *sigs, size_t nsigs);
/* dnssec_denial.c: the types an NSEC/NSEC3 bitmap must list at a cut (RFC 4035 §2.3, RFC
 * 5155 §7.1) into @req (4 entries); returns the count. */
size_t fe__cut_required(const uint16_t *types, size_t n, bool nsec, uint16_t *req);

/* ---- verified-signature cache (dnssec_cache.c) ---- */
#define FE__SIGCACHE_DIGEST 16
/* Digest of one (key, signed data, signature) triple into @out (16 octets). */
int fe__sigcache_digest(struct fe__vthr *t, const struct fe__dkey *k, const uint8_t *data,
                        size_t len, const uint8_t *sig, size_t siglen, uint8_t *out);
bool fe__sigcache_has(const struct fe_dnssec_sigcache *c, const uint8_t *d);
int fe__sigcache_add(struct fe_dnssec_sigcache *c, const uint8_t *d);
/* Remember @d in the thread's list (merged into opts.learn after the threads join). */
int fe__sigcache_learn(struct fe__vthr *t, const uint8_t *d);

#endif
