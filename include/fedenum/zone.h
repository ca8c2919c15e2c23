/* include/fedenum/zone.h — zone ingest: parse (ldns), compile to node blobs, store.
 *
 * Load path (DESIGN.md "Data flow"):
 *   fe_zone_parse_file  → struct fe_zone (in memory: sorted nodes, RRSIGs attached,
 *                          cuts/occlusion/ENTs/wildcards marked, NSEC3 hashes computed)
 *   fe_zone_validate    → the seam for DNSSEC validation (issue #3); today it trusts the file
 *                          and only checks structure (one SOA at the apex, etc.)
 *   fe_zone_commit      → one store write transaction: new version current, old one dropped.
 * fe_zone_load_file does all three. Never touches sockets.
 * Threads: a struct fe_zone is owned by one thread. */
#ifndef FEDENUM_ZONE_H
#define FEDENUM_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fe_store;
struct fe_zone;

struct fe_zone_opts {
	const char *origin; /* default $ORIGIN (presentation form); NULL: from the SOA */
	const char
	        *include_root;  /* $INCLUDE allowed only below this folder (NULL: file's folder) */
	uint64_t max_records;   /* 0: default 50,000,000 */
	uint32_t max_rrset_rrs; /* 0: default 65,535 */
	size_t max_line_bytes;  /* 0: default 65,535 */
};

/* Why a load failed, for the operator (file:line and the reason). */
struct fe_zone_error {
	char file[256];
	unsigned long line; /* 0 when not tied to a line */
	char reason[512];
};

/* Parse an RFC 1035 master file (unknown types per RFC 3597 kept). On success *out owns the
 * parsed zone (free with fe_zone_free). Errors: FE_ENOENT, FE_ESYNTAX, FE_EFORMAT (structure:
 * no SOA, several SOAs, records outside the apex, …), FE_ERANGE (limits), FE_ENOMEM; @err
 * filled in. */
int fe_zone_parse_file(const char *path, const struct fe_zone_opts *opts, struct fe_zone **out,
                       struct fe_zone_error *err);
void fe_zone_free(struct fe_zone *z); /* NULL is a no-op */

/* Accessors. Strings/names borrow from @z. */
const uint8_t *fe_zone_apex(const struct fe_zone *z, size_t *len);
uint32_t fe_zone_serial(const struct fe_zone *z);
uint64_t fe_zone_rr_count(const struct fe_zone *z);

/* Validation seam: DNSSEC chain, NSEC/NSEC3, ZONEMD and lint land here (issue #3). Today:
 * structural checks only; returns FE_OK or FE_EVALIDATE with @err filled in. */
int fe_zone_validate(struct fe_zone *z, struct fe_zone_error *err);

/* Store @z as the new current version. If the stored serial equals the zone's serial this
 * is a no-op returning FE_EEXIST (callers treat it as success). */
int fe_zone_commit(struct fe_zone *z, struct fe_store *st, struct fe_zone_error *err);

/* parse + validate + commit. FE_OK, FE_EEXIST (same serial: nothing done) or an error. */
int fe_zone_load_file(const char *path, const struct fe_zone_opts *opts, struct fe_store *st,
                      struct fe_zone_error *err);

/* Read the apex (presentation form, from the first SOA) of a zone file without loading it. */
int fe_zone_peek_apex(const char *path, char *apex, size_t cap, struct fe_zone_error *err);
/* Same, and the SOA serial: reads only up to the first SOA, so a daemon can skip a zone whose
 * serial is already current without parsing the file (restart serves at once). */
int fe_zone_peek_soa(const char *path, char *apex, size_t cap, uint32_t *serial,
		     struct fe_zone_error *err);

/* NSEC3 hash (RFC 5155 §5) of an uncompressed wire name (lowercased internally).
 * @out needs 64 bytes; returns the hash length (20 for SHA-1) or FE_ENOTSUP / FE_ERANGE. */
int fe_zone_nsec3_hash(const uint8_t *name, uint8_t alg, uint16_t iterations, const uint8_t *salt,
                       uint8_t salt_len, uint8_t *out);

/* ---- details of the behaviour above (added by zone/) -------------------------------------
 *
 * Parsing (fe_zone_parse_file):
 * - Class IN only; meta-types (OPT, 128-255) are refused (FE_EFORMAT). Unknown types in
 *   RFC 3597 form (TYPEnnn \# len hex) are kept as opaque RDATA.
 * - $ORIGIN with a relative name is relative to the current origin (RFC 1035 §5.1).
 * - $INCLUDE file [origin]: a relative path is taken from the including file's folder; the
 *   resolved path (symlinks followed) must lie inside include_root, else FE_EPERM with the
 *   $INCLUDE's file:line. At most 8 levels and 1,024 files (FE_ERANGE). The include's
 *   $ORIGIN does not leak back into the including file.
 * - max_line_bytes limits physical lines (comments included); independently of it, one
 *   record longer than ldns's own limit (10,230 bytes) is FE_ERANGE.
 * - Errors point at the line where ldns finished the record (the closing line of a
 *   parenthesised record). FE_ENOTSUP for the root zone (the store cannot hold it).
 * - Tolerated and counted (one warning line per load): duplicate RRs (dropped), RRSIGs with
 *   no RRset of the covered type at their owner (dropped), NSEC3 RRs of a chain other than
 *   the apex NSEC3PARAM's (dropped, RFC 5155 §7.3), RRs whose TTL differs from their RRset's
 *   (the first RR's TTL is used, RFC 2181 §5.2).
 * - NSEC3: the chain is the first NSEC3PARAM at the apex with algorithm 1 and flags 0; NSEC3
 *   RRs without such an NSEC3PARAM are FE_EFORMAT. Iterations above 2,500 (RFC 5155 §10.3)
 *   are FE_ERANGE.
 * - Memory: each RR is kept once, compactly (owner interned, RDATA as wire); a 1M-RR zone
 *   takes a few hundred MB while loading.
 *
 * Validation (fe_zone_validate), structural only until issue #3:
 * - the apex holds one SOA and at least one NS;
 * - a CNAME has no other data at its owner (RRSIG and NSEC aside) and is not at the apex;
 * - a zone with RRSIGs has a DNSKEY RRset at the apex.
 *
 * Commit (fe_zone_commit) logs one info line per stored zone: apex, serial, records, nodes,
 * NSEC3 nodes, parse and store seconds.
 *
 * fe_zone_nsec3_hash allocates nothing and is thread-safe: the query path may call it. */

/* ==== DNSSEC validation (issue #3; src/zone/dnssec*.c) ===================================
 *
 * fe_zone_dnssec_validate checks a parsed zone (struct fe_zone from fe_zone_parse_file)
 * before it is committed: the apex DNSKEY RRset chains to the caller's trust (DS or
 * DNSKEY anchors), every authoritative RRset carries valid RRSIGs by the zone's keys, the
 * NSEC or NSEC3 chain proves exactly the names and types of the zone, and ZONEMD (when
 * present or required) matches. The zone is only read: several threads validate RRsets at
 * once (the zone must not change until the call returns). Nothing is logged; the caller
 * logs @err / @rep. */

/* One RDATA in wire form (uncompressed names). Borrowed: lives as long as its owner. */
struct fe_zone_rdata {
	const uint8_t *data;
	uint16_t len;
};

/* What the zone's apex DNSKEY RRset must chain to. Both lists may be given; a key matching
 * any entry is trusted.
 *  - ds: DS RDATA (RFC 4034 §5.1: key tag(2) algorithm(1) digest type(1) digest), as the
 *    parent publishes them (fe_zone_child_ds) or as configured. Digest types 2 (SHA-256)
 *    and 4 (SHA-384) are used; DS of other digest types are ignored (RFC 8624 §3.3: SHA-1
 *    is not relied on here). A DS whose algorithm we cannot validate is ignored too.
 *  - dnskey: anchor DNSKEY RDATA (RFC 4034 §2.1: flags(2) protocol(1) algorithm(1) key);
 *    an apex key with identical RDATA is trusted.
 * The trust is about the zone's apex: the caller makes sure it describes the right name.
 * Pointers are borrowed for the duration of the call. */
struct fe_zone_trust {
	const struct fe_zone_rdata *ds;
	size_t ds_count;
	const struct fe_zone_rdata *dnskey;
	size_t dnskey_count;
};

/* Options. Start from fe_zone_validate_opts_init (the defaults below), then change fields. */
struct fe_zone_validate_opts {
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
};

/* Fill @o with the defaults above. */
void fe_zone_validate_opts_init(struct fe_zone_validate_opts *o);

/* What a validation did (filled on success and on failure, as far as it got). */
struct fe_zone_validate_report {
	uint64_t rrsets;          /* RRsets whose signatures were validated (DNSKEY, NSEC3 too) */
	uint64_t signatures;      /* signature verifications done (failed ones included) */
	uint64_t records;         /* RRs in the zone (as fe_zone_rr_count) */
	uint64_t denial_records;  /* NSEC or NSEC3 RRs checked against the zone's names */
	double seconds;           /* wall time of the whole call */
	int64_t earliest_expiry_s; /* smallest RRSIG expiration among the validated signatures
	                              (RFC 4034 §3.1.5 serial arithmetic around now); 0: none */
	uint16_t trusted_key_tag; /* key tag of a key that matched the trust and signed the
	                             DNSKEY RRset (0 when not reached) */
	uint8_t trusted_key_alg;
	bool nsec3;               /* the zone uses NSEC3 (else NSEC) */
	bool zonemd_verified;     /* a ZONEMD RR matched the zone's digest */
	unsigned threads;         /* threads used */
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
int fe_zone_dnssec_validate(struct fe_zone *z, const struct fe_zone_trust *trust,
                            const struct fe_zone_validate_opts *opts,
                            struct fe_zone_validate_report *rep, struct fe_zone_error *err);

/* The DS RRset that the parent zone @parent publishes for the child apex @child (uncompressed
 * wire name, any case), for use as the child's trust. At most @cap RDATAs are written to
 * @out; they borrow from @parent (valid until fe_zone_free(parent)). Returns the number of
 * DS RRs (which may exceed @cap: call again with more room), 0 when @child is a delegation
 * without DS (insecure), FE_ENOENT when @child is no delegation point of @parent, FE_EINVAL
 * for a malformed name. The DS RRset itself is only as trustworthy as the validation of
 * @parent (fe_zone_dnssec_validate on it first). */
int fe_zone_child_ds(const struct fe_zone *parent, const uint8_t *child, size_t child_len,
                     struct fe_zone_rdata *out, size_t cap);

/* Compute the DS RDATA (RFC 4034 §5.1.4) of DNSKEY RDATA @dnskey at @owner (uncompressed
 * wire name, lowercased internally) with @digest_type 2 (SHA-256, RFC 4509) or 4 (SHA-384,
 * RFC 6605). @out needs 4 + 48 bytes. Returns the DS RDATA length, FE_ENOTSUP (digest
 * type), FE_EFORMAT (DNSKEY RDATA shorter than 4 bytes or bad name). */
int fe_zone_ds_from_dnskey(const uint8_t *owner, size_t owner_len, const uint8_t *dnskey,
                           size_t dnskey_len, uint8_t digest_type, uint8_t *out);

/* Key tag of DNSKEY RDATA (RFC 4034 Appendix B; algorithm 1 is not supported: 0). */
uint16_t fe_zone_key_tag(const uint8_t *dnskey, size_t len);

#endif
