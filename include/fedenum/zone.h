/* include/fedenum/zone.h — zone ingest: parse (ldns), compile to node blobs, store.
 *
 * Load path (DESIGN.md "Data flow"):
 *   fe_zone_parse_file  → struct fe_zone (in memory: sorted nodes, RRSIGs attached,
 *                          cuts/occlusion/ENTs/wildcards marked, NSEC3 hashes computed)
 *   fe_zone_validate    → the seam for DNSSEC validation (issue #3); today it trusts the file
 *                          and only checks structure (one SOA at the apex, etc.)
 *   fe_zone_commit      → one store write transaction: the new version current, written as
 *                          its difference to the stored one (only changed nodes), journaled.
 * fe_zone_load_file does all three. Never touches sockets.
 * Threads: a struct fe_zone is owned by one thread. */
#ifndef FEDENUM_ZONE_H
#define FEDENUM_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fe_store;
struct fe_store_write_stats;
struct fe_zone;

struct fe_zone_opts {
	const char *origin; /* default $ORIGIN (presentation form); NULL: from the SOA */
	const char
	        *include_root;  /* $INCLUDE allowed only below this folder (NULL: file's folder) */
	uint64_t max_records;   /* 0: default 50,000,000 */
	uint32_t max_rrset_rrs; /* 0: default 65,535 */
	size_t max_line_bytes;  /* 0: default 65,535 */
	bool force;             /* commit policy: accept a serial that does not move forward
	                           (rolling back on purpose; see fe_zone_commit) */
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
bool fe_zone_is_signed(const struct fe_zone *z); /* a DNSKEY RRset at the apex and RRSIGs */

/* Validation seam: DNSSEC chain, NSEC/NSEC3, ZONEMD and lint land here (issue #3). Today:
 * structural checks only; returns FE_OK or FE_EVALIDATE with @err filled in. */
int fe_zone_validate(struct fe_zone *z, struct fe_zone_error *err);

/* Store @z as the new current version, under the replacement policy (nothing served is ever
 * dropped, rolled back or shadowed without a refusal):
 *  - FE_EEXIST: the stored version has this serial and the same content (a no-op; callers
 *    treat it as success);
 *  - FE_ESERIAL: the serial does not move forward (RFC 1982: lower, or undefined), or it
 *    equals the stored one with different content; refused unless the zone was parsed with
 *    fe_zone_opts.force (rolling back on purpose);
 *  - FE_EPERM: the stored version was validated through the chain of trust and @z was not
 *    (never replaced, force or not).
 * The version's content digest and its master file's size and mtime are kept in the zone
 * record (fe_zone_file_matches). */
int fe_zone_commit(struct fe_zone *z, struct fe_store *st, struct fe_zone_error *err);

/* What the last fe_zone_commit of @z wrote (nodes put, deleted, unchanged; journal RRs).
 * A commit writes only the nodes that differ from the stored version. */
void fe_zone_commit_stats(const struct fe_zone *z, struct fe_store_write_stats *out);

/* ---- change sets (issue #6: a version costs what changed) -------------------------------
 *
 * An IXFR-sized change applied to the stored current version of a zone, without the zone
 * file: only the nodes the change touches are read and written, in one store transaction
 * (readers see the old or the new version; a crash leaves the old one), and the change is
 * the journal entry. */

/* One RR (borrowed). Owner and RDATA uncompressed wire; class IN. */
struct fe_zone_rr {
	const uint8_t *owner;
	size_t owner_len;
	uint16_t type;
	uint32_t ttl;
	const uint8_t *rdata;
	uint16_t rdlen;
};

struct fe_zone_delta {
	uint32_t serial_from; /* the stored serial this change applies to */
	const struct fe_zone_rr *removed;
	size_t removed_count;
	const struct fe_zone_rr *added;
	size_t added_count;
};

/* Apply @d to zone @apex (wire name) in @st. The removed RRs must include the stored SOA and
 * the added ones exactly one new SOA, whose serial moves forward (RFC 1982); every removed
 * RR must be in the zone and no added one already be (RRSIGs and NSEC3 records included).
 * Handled: nodes created and deleted, empty non-terminals appearing and disappearing, node
 * flags (apex, cut, occluded, wildcard parent, NSEC), the NSEC3 hash of new names, the
 * NSEC3 chain's own nodes, RRset TTLs (the added RRs' TTL, capped at the RRSIGs' original
 * TTL as in fe_zone_commit), the zone record (serial, SOA fields, node and RR counts, the
 * earliest signature expiration).
 * Not handled (FE_ENOTSUP: load the whole file): a zone cut appearing or disappearing above
 * existing names, a change of NSEC3PARAM, of the zone's NSEC/NSEC3 kind. The structural and
 * DNSSEC checks of a whole load are not run on a change set: a zone stored as validated
 * under trust anchors refuses one (FE_EPERM) until the trust layer validates change sets.
 * The new version's content digest is recorded as unknown (0) and its master file as none.
 * Errors: FE_ENOENT (zone not stored, or a removed RR is not in it), FE_EEXIST (an added RR
 * is), FE_ESERIAL (serial_from is not the stored serial, or the new serial does not move
 * forward), FE_EINVAL (malformed RR or SOA), FE_EPERM, FE_ENOTSUP, store errors; @err
 * names the zone and the RR. @stats (may be NULL): what the commit wrote. */
int fe_zone_commit_delta(struct fe_store *st, const uint8_t *apex, size_t apex_len,
                         const struct fe_zone_delta *d, struct fe_store_write_stats *stats,
                         struct fe_zone_error *err);

/* True when the file @path has size @size and modification time @mtime_ns (as recorded in a
 * zone record: the version stored came from this very file). False when either is 0. */
bool fe_zone_file_matches(const char *path, uint64_t size, int64_t mtime_ns);

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
 * - a zone with RRSIGs has a DNSKEY RRset at the apex;
 * - a DNAME is the only one at its owner and has no name below it (RFC 6672 §2.4: such data
 *   is occluded, a resolver never sees it; Knot DNS refuses the zone alike): FE_EVALIDATE
 *   "child record exists under DNAME: <child> is below the DNAME at <owner>".
 * Commit: each RRset's stored TTL is capped at the smallest original TTL of its RRSIGs
 * (RFC 4035 §5.3.3), so a TTL raised in the file after signing is never served.
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
	/* Verified-signature cache (issue #3 §5): signatures found in @known are not verified
	 * again (all other checks still run); every signature verified or found is added to
	 * @learn (filled only as far as the validation got: keep it on FE_OK only). Both
	 * borrowed, may be NULL; @known is only read and may be shared by concurrent calls,
	 * @learn belongs to this call. */
	const struct fe_zone_sigcache *known;
	struct fe_zone_sigcache *learn;
};

/* Fill @o with the defaults above. */
void fe_zone_validate_opts_init(struct fe_zone_validate_opts *o);

/* A set of proven (DNSKEY, signed data, signature) triples, kept from one version of a zone
 * for the next: an IXFR-sized change then costs public-key operations only for the RRsets
 * that changed (and the NSEC/NSEC3 records re-signed with them). 16 octets per signature
 * (~70 MB for a 1M-number NSEC3 zone at load factor 1/2). Not thread-safe for writing. */
struct fe_zone_sigcache;
struct fe_zone_sigcache *fe_zone_sigcache_create(void);    /* NULL when out of memory */
void fe_zone_sigcache_destroy(struct fe_zone_sigcache *c); /* NULL is a no-op */
size_t fe_zone_sigcache_count(const struct fe_zone_sigcache *c);

/* What a validation did (filled on success and on failure, as far as it got). */
struct fe_zone_validate_report {
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

/* ==== Federation trust (issue #3; src/zone/trust*.c) =====================================
 *
 * The chain of trust between the zones of a federation, over the store:
 *  - a zone whose apex has a trust anchor (configured DS or DNSKEY records) validates
 *    against the anchor;
 *  - any other zone validates only through the DS RRset that its parent — the closest
 *    enclosing zone held in the store — publishes at the delegation, read from the
 *    parent's CURRENT version, which must itself be validated (FE_ZONE_VALIDATED), not
 *    bogus and not expired. The parent's DS RRset is trusted because the whole parent
 *    version, RRSIGs of that DS RRset included, was validated when it was stored;
 *  - a zone with no such path is not stored (a number range belongs to whom the registry
 *    delegates it: a member cannot publish a zone for a prefix that the registry does not
 *    delegate to its key).
 * Zones are therefore loaded parents first (the registry, then members: by apex depth),
 * and after a pass every stored zone's chain is checked again (fe_zone_trust_sweep), so a
 * registry that changes or withdraws a DS is followed by its children.
 * Logging: the sweep logs every change of a zone's status; loads leave logging to the
 * caller (the result and @err say everything). */

/* A set of trust anchors: DS and DNSKEY records by owner. Built before use, then read-only
 * (any number of threads may read it). */
struct fe_zone_anchors;

int fe_zone_anchors_create(struct fe_zone_anchors **out); /* FE_OK / FE_ENOMEM */
void fe_zone_anchors_destroy(struct fe_zone_anchors *a);  /* NULL is a no-op */

/* Add the DS and DNSKEY records of the file @path, in presentation format as ldns-key2ds,
 * dnssec-dsfromkey or a BIND/ldns .key file print them (comments, blank lines, $TTL and
 * $ORIGIN allowed; class IN). Records of other types, relative owners without $ORIGIN and
 * the root as owner are errors. A file must yield at least one usable anchor: a DS of
 * digest type 2 or 4, or a zone-key DNSKEY, of algorithm 8, 10, 13, 14, 15 or 16; records
 * that are not usable are skipped and counted in *skipped (may be NULL). Duplicates are
 * kept once. Returns FE_OK, FE_ENOENT / FE_EIO (file), FE_ESYNTAX / FE_EFORMAT with @err
 * (file:line, reason) filled in, FE_ENOMEM. */
int fe_zone_anchors_add_file(struct fe_zone_anchors *a, const char *path, unsigned *skipped,
                             struct fe_zone_error *err);
/* Add one anchor record (RDATA in wire form) for @owner (wire name). @type is FE_T_DS or
 * FE_T_DNSKEY. FE_OK, FE_EINVAL, FE_ENOMEM. */
int fe_zone_anchors_add(struct fe_zone_anchors *a, const uint8_t *owner, size_t owner_len,
                        uint16_t type, const uint8_t *rdata, size_t rdlen);

/* Number of anchor records (0 for NULL). */
size_t fe_zone_anchors_count(const struct fe_zone_anchors *a);
/* The anchors of @apex (wire name, any case) as a trust for fe_zone_dnssec_validate,
 * borrowing from @a. Returns false (and an empty @out) when @apex has none. */
bool fe_zone_anchors_for(const struct fe_zone_anchors *a, const uint8_t *apex, size_t apex_len,
                         struct fe_zone_trust *out);
/* "e164.fed. (DS 10457/13/2), ims-a.example. (DNSKEY 2345/13)" into @buf, for logs.
 * Returns the length the full text needs (like snprintf). */
size_t fe_zone_anchors_describe(const struct fe_zone_anchors *a, char *buf, size_t cap);

/* The trust anchors a store is kept under (its `meta` "trust-anchors" record): a store that
 * was written under anchors stays under them, whoever opens it next (fedenumd without a
 * configuration, fedenumctl). save: replaces the record (@a empty or NULL: removes it);
 * FE_OK or a store error. from_store: *out owns a new set; FE_ENOENT when the store holds
 * none, FE_EFORMAT for a damaged record, other store errors. */
int fe_zone_anchors_save(const struct fe_zone_anchors *a, struct fe_store *st);
int fe_zone_anchors_from_store(struct fe_store *st, struct fe_zone_anchors **out);
/* Every record of @a is in @b. NULL is the empty set. */
bool fe_zone_anchors_within(const struct fe_zone_anchors *a, const struct fe_zone_anchors *b);
/* The same set of records (order aside). NULL is the empty set. */
bool fe_zone_anchors_equal(const struct fe_zone_anchors *a, const struct fe_zone_anchors *b);

struct fe_zone_trust_opts {
	const struct fe_zone_anchors *anchors; /* borrowed; must hold at least one anchor */
	struct fe_zone_validate_opts validate; /* fe_zone_validate_opts_init, then adjust;
	                                          validate.now_s also dates the checks */
	bool dry_run; /* check only (fedenumctl check-zone): everything a load does except
	                 writing — no version, no state; LOADED then means "would be stored".
	                 The store may be opened read-only. */
};

enum fe_zone_trust_outcome {
	FE_ZONE_TRUST_FAILED = 0, /* not stored: @err says why; the previous version, if
	                             any, keeps serving (res->previous_serial) */
	FE_ZONE_TRUST_LOADED,     /* validated; now the current version */
	FE_ZONE_TRUST_UNCHANGED   /* this serial is already current and was validated when
	                             stored (its chain is re-checked by the sweep) */
};

struct fe_zone_trust_result {
	enum fe_zone_trust_outcome outcome;
	char apex[1100];          /* presentation form ("" when the file gave none) */
	uint32_t serial;          /* the file's serial (0 when it did not parse) */
	bool has_previous;        /* a version of the zone is stored ... */
	uint32_t previous_serial; /* ... with this serial */
	bool previous_served;     /* ... and it is still served (validated, chain intact) */
	char trust[160];          /* "trust anchor" or "DS in <parent>" */
	int64_t expire_s;         /* LOADED: chain expiry written to the zone record */
	struct fe_zone_validate_report rep; /* LOADED and FAILED in validation */
};

/* Load @path (fe_zone_opts as for fe_zone_parse_file) into @st through the chain of trust:
 * parse, structural checks (fe_zone_validate), the trust for its apex (anchor, or the
 * parent's DS from the store as described above), fe_zone_dnssec_validate with
 * @topts->validate, then commit with FE_ZONE_VALIDATED and the chain expiry
 * (min(own earliest RRSIG expiration, parent's expiry)). A file whose serial is current
 * and was validated is not validated again (UNCHANGED). A stored version with the same
 * serial that was NOT validated (loaded without anchors) is replaced by the validated one.
 * The zone's fe_store_zstate is updated in every case where the apex is known: success,
 * or the failure (serial, time, count, @err's reason). @res may be NULL.
 * Returns FE_OK (LOADED or UNCHANGED), or the error of the step that failed: parse errors
 * as fe_zone_parse_file, FE_EVALIDATE (no chain of trust, or DNSSEC validation failed),
 * store errors. Not thread-safe against itself on the same store (loads are serial). */
int fe_zone_trust_load(const char *path, const struct fe_zone_opts *zopts,
                       const struct fe_zone_trust_opts *topts, struct fe_store *st,
                       struct fe_zone_trust_result *res, struct fe_zone_error *err);

struct fe_zone_sweep_report {
	unsigned zones;     /* zone records looked at */
	unsigned secure;    /* chain holds: served */
	unsigned bogus;     /* chain broken: not served (FE_ZONE_BOGUS) */
	unsigned unchecked; /* stored without validation: not served where anchors exist */
	unsigned suspended; /* of the bogus ones: newly marked in this sweep */
	unsigned restored;  /* bogus before, chain holds again: served again */
};

/* Check the chain of trust of every zone held in @st, parents first, against @anchors and
 * the parents' current DS RRsets, at time @now_s (0: now). For each validated zone the
 * apex DNSKEY RRset of its stored version must contain a key that matches the trust and
 * that signed that RRset (the RRSIG was verified when the version was stored, and its key
 * tag and algorithm must name exactly one key of the set); then the record's chain expiry
 * is refreshed. A zone whose chain broke gets FE_ZONE_BOGUS (not served; its data stays
 * so that it is served again as soon as the chain holds), one whose chain holds again
 * loses it. Every change is logged and kept in the zone's fe_store_zstate. @rep may be
 * NULL. FE_OK or a store error (the zones already handled keep their new marks). */
int fe_zone_trust_sweep(struct fe_store *st, const struct fe_zone_anchors *anchors, int64_t now_s,
                        struct fe_zone_sweep_report *rep);

/* Presentation name of a trust state ("secure", "bogus", "rejected", "unchecked", "none"). */
const char *fe_zone_trust_state_str(uint32_t state);

/* The operator's one-line status of zone @apex (wire name) from its fe_store_zstate, e.g.
 * "secure (DS in e164.fed., key 38222/13)", "bogus: <reason>", or with a failure newer than
 * the version served: "secure; rejected serial 3 at 2026-11-28T21:00:00Z: <reason>".
 * "-" when no state is kept (a store written without anchors). Always NUL-terminates; returns
 * the length the full text needs (like snprintf). For `fedenumctl zone-list` and logs. */
size_t fe_zone_trust_status(struct fe_store *st, const uint8_t *apex, size_t apex_len, char *buf,
                            size_t cap);

#endif
