/* include/fedenum/sign.h — member-side signing (src/sign/): the member's keys in a key
 * directory, the zone signer, and the CSV of numbers a member publishes.
 *
 * Keys (key.c): per zone one or more KSKs and ZSKs, ECDSA P-256 (algorithm 13, default) or
 * Ed25519 (15). Each key is two files in the key directory:
 *   K<apex>+<alg>+<tag>.key      its state (role, algorithm, tag, state, created), text
 *   K<apex>+<alg>+<tag>.private  the private key, PKCS#8 PEM, mode 0600
 * A private key file readable or writable by group or others, or not owned by the reader,
 * is refused (FE_EPERM), never used. States: published (in the DNSKEY RRset, signs
 * nothing: a pre-published ZSK), active (published and signing: ZSKs every RRset but the
 * DNSKEY RRset, KSKs the DNSKEY RRset), retired (published, signs nothing: an old ZSK whose
 * signatures may still be cached), removed (kept on disk, not published).
 *
 * Signer (signer.c): a zone's RRs in, the signed zone out as a master file: the DNSKEY
 * RRset, NSEC3PARAM and an NSEC3 chain with the RFC 9276 parameters (SHA-1, 0 iterations,
 * empty salt, no opt-out) or an NSEC chain, and an RRSIG over every authoritative RRset.
 * Signing runs on one thread per online core.
 *
 * CSV (csv.c): "number,service,uri[,order,preference]" rows into NAPTR RRs of an ENUM zone,
 * every row checked before anything is produced.
 *
 * Ownership: a struct fe_sign_keyset owns its keys (fe_sign_keyset_free). Inputs are
 * borrowed for the duration of a call. Threads: a keyset is read-only while signing; the
 * functions are reentrant. Errors: FE_OK or a negative enum fe_err, with a reason in the
 * caller's buffer. */
#ifndef FEDENUM_SIGN_H
#define FEDENUM_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct fe_store;

#define FE_SIGN_ALG_P256    13 /* ECDSAP256SHA256 (RFC 6605) */
#define FE_SIGN_ALG_ED25519 15 /* ED25519 (RFC 8080) */

enum fe_sign_role { FE_SIGN_ZSK = 0, FE_SIGN_KSK = 1 };
enum fe_sign_state { FE_SIGN_PUBLISHED = 0, FE_SIGN_ACTIVE, FE_SIGN_RETIRED, FE_SIGN_REMOVED };
const char *fe_sign_role_name(enum fe_sign_role r);   /* "zsk", "ksk" */
const char *fe_sign_state_name(enum fe_sign_state s); /* "published", ... */
const char *fe_sign_alg_name(uint8_t alg);            /* "ECDSAP256SHA256", "ED25519" */

struct fe_sign_key {
	enum fe_sign_role role;
	enum fe_sign_state state;
	uint8_t alg;
	uint16_t tag;
	int64_t created;
	uint8_t dnskey[4 + 64]; /* DNSKEY RDATA: flags, protocol 3, algorithm, public key */
	uint16_t dnskey_len;
	void *pkey;     /* EVP_PKEY (OpenSSL) */
	char base[300]; /* file name without extension: K<apex>+<alg>+<tag> */
};

struct fe_sign_keyset {
	char apex[256]; /* presentation, lowercase, final dot */
	struct fe_sign_key *keys;
	size_t n;
};

/* Load every key of @apex (presentation, final dot optional, any case) from @dir. No key
 * at all is FE_OK with ks->n == 0. FE_EPERM (a private key file with group/other
 * permissions or another owner), FE_EFORMAT (unreadable state or private key, a DNSKEY that
 * does not match its tag), FE_EIO (no such directory). @err says which file. */
int fe_sign_keys_load(const char *dir, const char *apex, struct fe_sign_keyset *ks, char *err,
                      size_t errcap);
void fe_sign_keyset_free(struct fe_sign_keyset *ks); /* zeroes it; a zeroed one is a no-op */

/* Make a key of @role in @state for ks->apex with algorithm @alg, write its two files to @dir
 * (the private one created 0600, exclusively) and add it to @ks. FE_ENOTSUP (algorithm),
 * FE_EEXIST (a key with the same tag exists: caller retries), FE_EIO. */
int fe_sign_key_generate(const char *dir, struct fe_sign_keyset *ks, enum fe_sign_role role,
                         uint8_t alg, enum fe_sign_state state, char *err, size_t errcap);

/* Rewrite the state file of ks->keys[i] after its state changed. FE_OK or FE_EIO. */
int fe_sign_key_save(const char *dir, const struct fe_sign_keyset *ks, size_t i, char *err,
                     size_t errcap);

/* The DS RR (presentation, one line, digest type 2 = SHA-256) of key @k at @apex. */
int fe_sign_key_ds(const char *apex, const struct fe_sign_key *k, char *out, size_t cap);
/* The DNSKEY RR (presentation, one line) of @k. */
int fe_sign_key_dnskey(const char *apex, const struct fe_sign_key *k, uint32_t ttl, char *out,
                       size_t cap);

/* ---- signer ----------------------------------------------------------------------------- */

/* One RR to sign (borrowed). Owner: uncompressed wire, any case. RDATA: uncompressed wire
 * with the names in it already lowercase (RFC 4034 §6.2), class IN. DNSKEY, RRSIG, NSEC,
 * NSEC3 and NSEC3PARAM RRs given are dropped: the signer makes its own. */
struct fe_sign_rr {
	const uint8_t *owner;
	uint16_t type;
	uint32_t ttl;
	uint16_t rdlen;
	const uint8_t *rdata;
};

struct fe_sign_opts {
	bool nsec;            /* true: an NSEC chain; false (default): NSEC3, RFC 9276 */
	uint32_t validity_s;  /* signature lifetime, default 14 days */
	uint32_t inception_s; /* inception this long before now (clock skew), default 1 h */
	int64_t now_s;        /* 0: fe_time_wall_s() */
	uint32_t dnskey_ttl;  /* 0: the SOA's TTL */
	unsigned threads;     /* 0: one per online core */
	void (*progress)(void *arg, uint64_t done, uint64_t total); /* RRsets signed; may be NULL */
	/* Incremental signing: the store holding the zone's current version (NULL: sign
	 * everything). An RRset whose RRs and TTL are those stored keeps its stored RRSIGs
	 * when every key that signs it now has one expiring more than @refresh_s from now;
	 * every other RRset (changed ones, their NSEC3/NSEC neighbours, the SOA with its new
	 * serial, all of them after a key change) is signed. */
	struct fe_store *store;
	uint32_t refresh_s;
	void *progress_arg;
};
void fe_sign_opts_init(struct fe_sign_opts *o);

struct fe_sign_report {
	uint64_t rrs_in;        /* RRs given (after dropping DNSSEC types and duplicates) */
	uint64_t names;         /* authoritative names, empty non-terminals included */
	uint64_t rrsets;        /* RRsets signed (denial records included) */
	uint64_t signatures;    /* RRSIGs in the zone (made or kept) */
	uint64_t rrsets_reused; /* RRsets whose stored RRSIGs were kept (opts.store) */
	uint64_t rrs_out;       /* RRs written */
	double sign_seconds;    /* the parallel signing phase */
	double total_seconds;   /* the whole call */
	int64_t expiration;     /* the RRSIGs' expiration (seconds since the epoch) */
	unsigned threads;
};

/* Sign the zone @apex (wire) made of @rrs (@n; exactly one SOA at the apex, NS at the apex)
 * with the published and active keys of @ks, and write the signed zone to @out as a master
 * file. FE_EFORMAT (no SOA, a record outside the apex), FE_ERANGE (a name with more than
 * 256 types), FE_ENOENT (no active KSK or ZSK),
 * FE_ENOMEM, FE_EIO (writing, a signing failure). @rep may be NULL. */
int fe_sign_zone(const uint8_t *apex, const struct fe_sign_rr *rrs, size_t n,
                 const struct fe_sign_keyset *ks, const struct fe_sign_opts *o, FILE *out,
                 struct fe_sign_report *rep, char *err, size_t errcap);

/* The same, the signed zone built in memory (fe_zone_from_rrs, fedenum/zone.h) into *out
 * (the caller's: fe_zone_free) instead of written: no master file to parse again. */
struct fe_zone;
int fe_sign_zone_build(const uint8_t *apex, const struct fe_sign_rr *rrs, size_t n,
                       const struct fe_sign_keyset *ks, const struct fe_sign_opts *o,
                       struct fe_zone **out, struct fe_sign_report *rep, char *err, size_t errcap);

/* ---- the CSV of numbers ----------------------------------------------------------------- */

struct fe_sign_number {
	char number[20]; /* "+15552000001" */
	uint16_t order, preference;
	char service[64];
	char uri[256]; /* at most 248 octets (the NAPTR lint) */
	unsigned long line;
};

struct fe_sign_csv {
	struct fe_sign_number *rows;
	size_t n, cap;
	/* the first errors, one line each: "LINE: reason" (at most FE_SIGN_CSV_MAX_ERRORS) */
	char **errors;
	size_t nerrors;      /* kept */
	uint64_t error_rows; /* every row that failed */
};
#define FE_SIGN_CSV_MAX_ERRORS 100
#define FE_SIGN_CSV_MAX_ROWS   10000000u

/* Read the CSV in @data (@len bytes) for the ENUM zone @apex (presentation; its leading
 * single-digit labels are the member's prefix, e.g. 2.5.5.5.1.e164.fed. holds +15552...).
 * Columns number,service,uri[,order,preference] (order and preference default 100 and 10);
 * an optional first line "number,service,uri..." is a header. A row fails for: a bad number
 * (not + and 2..15 digits), a number outside the zone's prefix or outside every one of
 * @prefixes (@nprefixes, "+1555..."; none: the zone's prefix only), the same number and
 * service twice, a service that is not an ENUM service (RFC 6117: E2U+type[:subtype]...),
 * a URI failing the NAPTR lint (scheme sip/sips/tel/mailto/http/https..., no control
 * characters or '!', tel: whose number is not E.164, at most 255 octets), a wrong column
 * count, order/preference out of 0..65535. FE_OK (every row good), FE_EFORMAT (errors
 * listed in @csv), FE_ERANGE (more than FE_SIGN_CSV_MAX_ROWS rows), FE_ENOMEM. @progress
 * is called every 65,536 rows with bytes read (may be NULL). */
int fe_sign_csv_parse(const char *data, size_t len, const char *apex, char *const *prefixes,
                      size_t nprefixes, struct fe_sign_csv *csv,
                      void (*progress)(void *arg, uint64_t done, uint64_t total), void *arg);
void fe_sign_csv_free(struct fe_sign_csv *csv);

/* The ENUM owner name (wire) of @number under the zone @apex's ENUM suffix (the apex
 * without its digit labels): +15552000001 → 1.0.0.0.0.0.0.2.5.5.5.1.e164.fed. Returns its
 * length or FE_EFORMAT. @out needs 256 bytes. */
int fe_sign_enum_owner(const char *apex, const char *number, uint8_t *out);

/* The NAPTR RDATA of a row (flags "u", regexp "!^.*$!URI!", replacement "."), into @out
 * (at least 600 bytes). Returns its length or FE_ERANGE. */
int fe_sign_naptr_rdata(const struct fe_sign_number *r, uint8_t *out, size_t cap);

/* ---- a zone of numbers ------------------------------------------------------------------- */

/* SOA and NS of a zone the node creates (the configuration's signing.soa-* and signing.ns). */
struct fe_sign_zone_defaults {
	const char *mname; /* primary name server; NULL: the first of @ns */
	const char *rname; /* mailbox, as a name ("hostmaster.example.") */
	uint32_t serial;
	uint32_t ttl, refresh, retry, expire, minimum;
	const char *const *ns; /* NS targets (presentation), at least one */
	size_t nns;
};

/* RRs and the memory they point into (fe_sign_rrlist_free). */
struct fe_sign_rrlist {
	struct fe_sign_rr *rrs;
	size_t n;
	void *mem;
};

/* The RRs of zone @apex: SOA and NS from @d, and one NAPTR per row of @rows (@n), TTL d->ttl.
 * FE_OK, FE_EFORMAT (a bad name in @d, a number the zone cannot hold), FE_ENOMEM. */
int fe_sign_enum_rrs(const char *apex, const struct fe_sign_zone_defaults *d,
                     const struct fe_sign_number *rows, size_t n, struct fe_sign_rrlist *out);
void fe_sign_rrlist_free(struct fe_sign_rrlist *l);

#endif
