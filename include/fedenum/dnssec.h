/* include/fedenum/dnssec.h — whole-zone DNSSEC validation (src/dnssec/).
 *
 * fe_dnssec_validate checks a parsed zone (struct fe_zone from fe_zone_parse_file, see
 * fedenum/zone.h) before it is committed: the apex DNSKEY RRset chains to the caller's trust
 * (DS or DNSKEY anchors), every authoritative RRset carries valid RRSIGs by the zone's keys,
 * the NSEC or NSEC3 chain proves exactly the names and types of the zone, and ZONEMD (when
 * present or required) matches; KeyTrap budgets bound the work. Also here: the DNSSEC
 * helpers the trust layer needs (key tags, DS digests, a parent's DS RRset for a child) and
 * the verified-signature cache, an object its caller owns. NSEC3 owner hashing is
 * fe_wire_nsec3_hash (fedenum/wire.h): the zone build and the answer engine need it too.
 *
 * Ownership: every pointer passed in is borrowed for the duration of the call; results that
 * point into a zone (fe_dnssec_child_ds) live as long as that zone.
 * Threads: fe_dnssec_validate reads the zone from its own worker threads; the zone must not
 * change until it returns. Distinct zones may be validated concurrently. A sigcache is read
 * by any number of validations, written by one.
 * Errors: FE_OK or a negative enum fe_err; a failed validation is FE_EVALIDATE with the
 * reason in struct fe_zone_error. Nothing is logged: the caller logs @err / @rep. */
#ifndef FEDENUM_DNSSEC_H
#define FEDENUM_DNSSEC_H

#include "fedenum/zone.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One RDATA in wire form (uncompressed names). Borrowed: lives as long as its owner. */
struct fe_dnssec_rdata {
	const uint8_t *data;
	uint16_t len;
};

/* What the zone's apex DNSKEY RRset must chain to. Both lists may be given; a key matching
 * any entry is trusted.
 *  - ds: DS RDATA (RFC 4034 §5.1: key tag(2) algorithm(1) digest type(1) digest), as the
 *    parent publishes them (fe_dnssec_child_ds) or as configured. Digest types 2 (SHA-256)
 *    and 4 (SHA-384) are used; DS of other digest types are ignored (RFC 8624 §3.3: SHA-1
 *    is not relied on here). A DS whose algorithm we cannot validate is ignored too.
 *  - dnskey: anchor DNSKEY RDATA (RFC 4034 §2.1: flags(2) protocol(1) algorithm(1) key);
 *    an apex key with identical RDATA is trusted.
 * The trust is about the zone's apex: the caller makes sure it describes the right name.
 * Pointers are borrowed for the duration of the call. */
struct fe_dnssec_trust {
	const struct fe_dnssec_rdata *ds;
	size_t ds_count;
	const struct fe_dnssec_rdata *dnskey;
	size_t dnskey_count;
};

/* Does DNSKEY RDATA @key (@klen octets, key tag @tag) at @apex (wire name) match @t: an
 * identical anchor DNSKEY, or a DS of @t with its tag and algorithm whose digest over
 * owner|RDATA (RFC 4034 §5.1.4) equals? Only the match: revocation and the signature over
 * the DNSKEY RRset are the caller's. */
bool fe_dnssec_trust_matches(const struct fe_dnssec_trust *t, const uint8_t *apex, size_t apex_len,
                             const uint8_t *key, uint16_t klen, uint16_t tag);

/* Options. Start from fe_dnssec_opts_init (the defaults below), then change fields. */
struct fe_dnssec_opts {
	int64_t now_s;                 /* validation time; 0: fe_time_wall_s() at the call */
	uint16_t nsec3_max_iterations; /* default 50 (RFC 9276 §3.2: above a cap, reject) */
	bool forbid_opt_out;           /* true: any NSEC3 opt-out flag rejects the zone
	                                  (default false: opt-out allowed over insecure
	                                  delegations only, RFC 5155 §7.1) */
	bool zonemd_required;          /* true: a verifiable ZONEMD (scheme 1, hash 1 or 2)
	                                  must be present (RFC 8976 §4); default false: verified
	                                  only when present */
	/* KeyTrap budgets (CVE-2023-50387): exceeding one rejects the zone at once. */
	uint32_t max_sig_validations_per_rrset; /* crypto verifications per RRset, default 8 */
	uint32_t max_key_collisions;            /* DNSKEYs sharing one RRSIG's key tag and
	                                           algorithm, default 4 */
	uint32_t max_failed_validations;        /* failed verifications per zone, default 32 */
	unsigned threads;                       /* worker threads; 0: one per online core */
	/* Verified-signature cache: signatures found in @known are not verified
	 * again (all other checks still run); every signature verified or found is added to
	 * @learn (filled only as far as the validation got: keep it on FE_OK only). Both
	 * borrowed, may be NULL; @known is only read and may be shared by concurrent calls,
	 * @learn belongs to this call. */
	const struct fe_dnssec_sigcache *known;
	struct fe_dnssec_sigcache *learn;
};

/* Fill @o with the defaults above. */
void fe_dnssec_opts_init(struct fe_dnssec_opts *o);

/* A set of proven (DNSKEY, signed data, signature) triples, kept from one version of a zone
 * for the next: an IXFR-sized change then costs public-key operations only for the RRsets
 * that changed (and the NSEC/NSEC3 records re-signed with them). 16 octets per signature
 * (~70 MB for a 1M-number NSEC3 zone at load factor 1/2). Not thread-safe for writing. */
struct fe_dnssec_sigcache;
struct fe_dnssec_sigcache *fe_dnssec_sigcache_create(void);    /* NULL when out of memory */
void fe_dnssec_sigcache_destroy(struct fe_dnssec_sigcache *c); /* NULL is a no-op */
size_t fe_dnssec_sigcache_count(const struct fe_dnssec_sigcache *c);

/* What a validation did (filled on success and on failure, as far as it got). */
struct fe_dnssec_report {
	uint64_t rrsets;            /* RRsets whose signatures were validated (DNSKEY, NSEC3 too) */
	uint64_t signatures;        /* signature verifications done (failed ones included) */
	uint64_t signatures_cached; /* signatures proven by opts.known: no verification needed */
	uint64_t records;           /* RRs in the zone (as fe_zone_rr_count) */
	uint64_t denial_records;    /* NSEC or NSEC3 RRs checked against the zone's names */
	double seconds;             /* wall time of the whole call */
	int64_t earliest_expiry_s;  /* smallest RRSIG expiration among the validated signatures
	                               (RFC 4034 §3.1.5 serial arithmetic around now); 0: none */
	uint16_t trusted_key_tag;   /* key tag of a key that matched the trust and signed the
	                               DNSKEY RRset (0 when not reached) */
	uint8_t trusted_key_alg;
	uint64_t nodes;       /* fe_dnssec_validate_change: nodes read for their RRSIGs */
	bool nsec3;           /* the zone uses NSEC3 (else NSEC) */
	bool zonemd_verified; /* a ZONEMD RR matched the zone's digest */
	unsigned threads;     /* threads used */
};

/* Validate @z against @trust (RFC 4033-4035, RFC 5155, RFC 6840, RFC 8976, RFC 9276).
 * @trust NULL (or with no entries) means "self-signed": the DNSKEY RRset must be validly
 * signed by one of its own keys — an integrity check, not a chain of trust; the federation
 * always passes trust. @opts NULL: defaults. @rep may be NULL.
 *
 * Checks, in this order of phases (the first failure ends the call):
 *  1. apex DNSKEY RRset: present; a zone key (flags bit 7, protocol 3, algorithm 8, 10, 13,
 *     14, 15 or 16) matches @trust (DS digest over owner|RDATA, or identical anchor RDATA)
 *     and validly signs the RRset; every RRSIG over it is valid. Its zone keys (not
 *     revoked, RFC 5011 §2.1) are then the validated key set.
 *  2. in parallel over all nodes:
 *     - every authoritative RRset (everything except data at or below a zone cut, where
 *       only DS and NSEC are the parent's, RFC 4035 §2.2) has RRSIGs, and EVERY RRSIG over
 *       it is valid: signer = apex, labels = owner labels (minus a leading '*', RFC 4035
 *       §5.3.1), key tag and algorithm of a validated key, inception <= now <= expiration
 *       (RFC 4034 §3.1.5 serial arithmetic), signature over the canonical RRset (RFC 4034
 *       §6.2 as amended by RFC 6840 §5.1, original TTL from the RRSIG). There is a valid
 *       RRSIG for each algorithm of the validated key set (RFC 4035 §2.2);
 *     - NSEC zones: every authoritative owner has exactly one NSEC, its next name is the
 *       next authoritative owner in canonical order, the last points to the apex, and the
 *       type bitmap equals the types at the owner (at a cut: NS, DS and NSEC/RRSIG at least,
 *       nothing absent from the node);
 *     - NSEC3 zones: one NSEC3PARAM (algorithm 1, flags 0, iterations <= the cap) at the
 *       apex; every NSEC3 of the chain uses its parameters, flags 0 or 1 (opt-out), one
 *       RR per hashed owner, next hash = the next owner's hash (closed loop); every
 *       authoritative name (empty non-terminals included) has a matching NSEC3 whose bitmap
 *       equals its types, except insecure delegations (and empty non-terminals above only
 *       those) covered by an opt-out NSEC3 (RFC 5155 §7.1); no NSEC3 matches no name;
 *       NSEC3 records anywhere else are rejected;
 *     - ZONEMD at the apex (RFC 8976): serial = SOA serial, one RR per scheme/hash pair;
 *       SIMPLE with SHA-384 or SHA-512 is recomputed over the whole zone (glue and occluded
 *       data included, the apex ZONEMD RRset and its RRSIGs excluded) and must match;
 *       RRs of other schemes/hashes are ignored. Required when opts->zonemd_required.
 *  KeyTrap: the budgets in @opts bound the crypto work; a zone exceeding them is rejected.
 *
 * Returns FE_OK, FE_EVALIDATE (@err->reason names the zone, owner, type and what failed,
 * e.g. "e164.fed.: RRSIG NAPTR at 1.0.0.0.0.0.1.5.5.5.1.e164.fed.: expired
 * 2026-01-01T00:00:00Z"; @err->file/@err->line point at the record when known), FE_ENOMEM
 * or FE_EINVAL (bad options). Thread-safe for distinct zones; uses its own threads. */
int fe_dnssec_validate(struct fe_zone *z, const struct fe_dnssec_trust *trust,
                       const struct fe_dnssec_opts *opts, struct fe_dnssec_report *rep,
                       struct fe_zone_error *err);

/* Validate a change set (fedenum/zone.h, fe_zone_commit_delta_checked) applied to a version
 * that was validated whole: @w is the store writer holding the new version before its
 * commit, @cur the record of the version it replaces, @t / @n the changes. Checked
 * (src/dnssec/dnssec_delta.c): the apex DNSKEY RRset against @trust as in phase 1; every
 * RRSIG of every authoritative RRset the change touches; for every touched name and its
 * ancestors, the NSEC3 with its hash exists exactly when the name does and its bitmap equals
 * the name's types; around every touched NSEC3 hash, the chain stays one closed loop (its
 * own and its predecessor's next-hash fields) and an NSEC3 new in this version matches a
 * name. NSEC zones: every touched owner with data has an NSEC listing its types and naming
 * the next owner, and the owner before every touched name names its successor. The work is
 * proportional to the change (a few store lookups and hashes per touched name), not to the zone.
 * Returns FE_OK, FE_EVALIDATE (@err->reason: zone, owner, type, what failed), FE_ENOTSUP
 * when the change needs a whole-zone validation (@err->reason says why: a DNSKEY RRset
 * change, NSEC3 opt-out on the way, no NSEC or NSEC3 chain), FE_ENOMEM, store errors. @opts->learn
 * is not filled; @opts->known is used. @rep (may be NULL): rrsets, signatures, signatures_cached,
 * denial_records (names and NSEC3 links checked), nodes, the earliest expiration among the
 * signatures verified, threads. The store is read by the calling thread only (an LMDB write
 * transaction belongs to its thread); the RRsets of the change are copied out and their signatures
 * verified on up to @opts->threads threads (0: one per core), one per 64 RRsets at least. */
struct fe_store_writer;
struct fe_store_zone_rec;
int fe_dnssec_validate_change(struct fe_store_writer *w, const struct fe_store_zone_rec *cur,
                              const struct fe_zone_touch *t, size_t n,
                              const struct fe_dnssec_trust *trust,
                              const struct fe_dnssec_opts *opts, struct fe_dnssec_report *rep,
                              struct fe_zone_error *err);

/* The DS RRset that the parent zone @parent publishes for the child apex @child (uncompressed
 * wire name, any case), for use as the child's trust. At most @cap RDATAs are written to
 * @out; they borrow from @parent (valid until fe_zone_free(parent)). Returns the number of
 * DS RRs (which may exceed @cap: call again with more room), 0 when @child is a delegation
 * without DS (insecure), FE_ENOENT when @child is no delegation point of @parent, FE_EINVAL
 * for a malformed name. The DS RRset itself is only as trustworthy as the validation of
 * @parent (fe_dnssec_validate on it first). */
int fe_dnssec_child_ds(const struct fe_zone *parent, const uint8_t *child, size_t child_len,
                       struct fe_dnssec_rdata *out, size_t cap);

/* Compute the DS RDATA (RFC 4034 §5.1.4) of DNSKEY RDATA @dnskey at @owner (uncompressed
 * wire name, lowercased internally) with @digest_type 2 (SHA-256, RFC 4509) or 4 (SHA-384,
 * RFC 6605). @out needs 4 + 48 bytes. Returns the DS RDATA length, FE_ENOTSUP (digest
 * type), FE_EFORMAT (DNSKEY RDATA shorter than 4 bytes or bad name). */
int fe_dnssec_ds_from_dnskey(const uint8_t *owner, size_t owner_len, const uint8_t *dnskey,
                             size_t dnskey_len, uint8_t digest_type, uint8_t *out);

/* Key tag of DNSKEY RDATA (RFC 4034 Appendix B; algorithm 1 is not supported: 0). */
uint16_t fe_dnssec_key_tag(const uint8_t *dnskey, size_t len);

#endif
