/* include/fedenum/zone.h — zone ingest: parse a master file (ldns), compile it into node
 * blobs, store it.
 *
 * Load path:
 *   fe_zone_parse_file  → struct fe_zone (in memory: sorted nodes, RRSIGs attached,
 *                          cuts/occlusion/ENTs/wildcards marked, NSEC3 hashes computed)
 *   fe_zone_validate    → structural checks (one SOA at the apex, CNAME and DNAME rules, …);
 *                          DNSSEC validation is fedenum/dnssec.h, run by fedenum/trust.h
 *   fe_zone_commit      → one store write transaction: the new version current, written as
 *                          its difference to the stored one (only changed nodes), journaled;
 *                          fe_zone_commit_delta applies a change set (IXFR-sized) directly.
 * fe_zone_load_file does all three without DNSSEC (a store without trust anchors). Never
 * touches sockets.
 * Ownership: a struct fe_zone is made by fe_zone_parse_file and freed with fe_zone_free;
 * names and strings returned by the accessors borrow from it.
 * Threads: a struct fe_zone is owned by one thread (fe_dnssec_validate reads it from several
 * threads while its caller waits). Errors: FE_OK or a negative enum fe_err, with a
 * struct fe_zone_error for the operator where the call takes one. */
#ifndef FEDENUM_ZONE_H
#define FEDENUM_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fe_store;
struct fe_store_write_stats;
struct fe_store_writer;
struct fe_store_zone_rec;
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

/* The same from @n RRs (struct fe_zone_rr, below; class IN) of the zone @apex (wire, exactly
 * @apex_len octets): what a zone made in memory (the signer's output) takes instead of a
 * master file. The same checks, limits and build as fe_zone_parse_file; @err names @what and
 * the RR's index (from 1) as its line. The version has no master file (fe_zone_source 0). */
struct fe_zone_rr;
int fe_zone_from_rrs(const uint8_t *apex, size_t apex_len, const struct fe_zone_rr *rrs, size_t n,
                     const char *what, const struct fe_zone_opts *opts, struct fe_zone **out,
                     struct fe_zone_error *err);

/* Accessors. Strings/names borrow from @z. */
const uint8_t *fe_zone_apex(const struct fe_zone *z, size_t *len);
uint32_t fe_zone_serial(const struct fe_zone *z);
uint64_t fe_zone_rr_count(const struct fe_zone *z);
bool fe_zone_is_signed(const struct fe_zone *z); /* a DNSKEY RRset at the apex and RRSIGs */
/* NAPTR records failing fe_wire_naptr_lint: kept in the zone, never served (docs/security.md
 * Z7). *report (may be NULL) gets the first of them, "OWNER line L: reason; ...". */
uint64_t fe_zone_naptr_lint(const struct fe_zone *z, const char **report);

struct fe_zone_rr;
/* Call @cb with every record of @z (struct fe_zone_rr below, borrowed) and where it was read,
 * in canonical order, the NSEC3 chain last; stops when @cb returns false. For checks outside
 * the zone module (fedenumctl zone check). */
void fe_zone_foreach_rr(const struct fe_zone *z,
                        bool (*cb)(const struct fe_zone_rr *rr, const char *file,
                                   unsigned long line, void *arg),
                        void *arg);

/* Structural checks (listed below); FE_OK or FE_EVALIDATE with @err filled in. DNSSEC is
 * checked by fe_dnssec_validate. */
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

/* ---- change sets (a version costs what changed) -------------------------------
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

/* One change of a set as fe_zone_commit_delta_checked applied it (borrowed, lives for the
 * checker's call): the RR, whether it was added or removed, and its target: an owner key of
 * the zone (fe_wire_name_key) or, for the NSEC3 chain's own records, the raw NSEC3 hash. */
struct fe_zone_touch {
	bool nsec3;       /* key is an NSEC3 hash (the record is one of the chain's) */
	bool add;         /* added (else removed) */
	uint16_t type;    /* the RR's type */
	uint16_t covered; /* RRSIG: the type it covers; else type */
	uint16_t key_len;
	const uint8_t *key;
	const struct fe_zone_rr *rr;
};

/* A check of the new version before its commit: @fn runs inside the write transaction with
 * every change applied (@w reads the new state: fe_store_writer_get_node and the others),
 * @cur the record of the version it replaces, @t / @n the changes (sorted by target). It
 * returns FE_OK to commit, anything else to abort (nothing written; @err says why). On
 * FE_OK it may set *chain_expire_s (initially -1: keep the delta's own computation) to the
 * zone record's new chain expiry. */
struct fe_zone_delta_check {
	int (*fn)(void *arg, struct fe_store_writer *w, const struct fe_store_zone_rec *cur,
	          const struct fe_zone_touch *t, size_t n, int64_t *chain_expire_s,
	          struct fe_zone_error *err);
	void *arg;
};

/* fe_zone_commit_delta with @chk (may be NULL: exactly fe_zone_commit_delta) run before the
 * commit. With @chk a zone stored as validated (FE_ZONE_VALIDATED) takes the change set and
 * stays validated: @chk is the validation (fe_trust_apply_delta passes the incremental
 * DNSSEC check). FE_ZONE_EXPIRED is cleared on every new version. Errors as
 * fe_zone_commit_delta, and whatever @chk returns. */
int fe_zone_commit_delta_checked(struct fe_store *st, const uint8_t *apex, size_t apex_len,
                                 const struct fe_zone_delta *d,
                                 const struct fe_zone_delta_check *chk,
                                 struct fe_store_write_stats *stats, struct fe_zone_error *err);

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

/* Fill @err (may be NULL) with @file (may be NULL), @line and the formatted reason. */
void fe_zone_error_set(struct fe_zone_error *err, const char *file, unsigned long line,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- for the trust layer (fedenum/trust.h) ------------------------------------------------
 * The apex as a canonical store key and in presentation form (borrowed from @z). */
const uint8_t *fe_zone_apex_key(const struct fe_zone *z, size_t *len);
const char *fe_zone_apex_str(const struct fe_zone *z);
/* Earliest RRSIG expiration in the file (0: none), or the chain expiry once set by
 * fe_zone_set_validated. */
int64_t fe_zone_sig_expire_s(const struct fe_zone *z);
/* Size and modification time of the master file @z was parsed from. */
void fe_zone_source(const struct fe_zone *z, uint64_t *size, int64_t *mtime_ns);
/* Mark @z as validated through a chain of trust (FE_ZONE_VALIDATED set, FE_ZONE_BOGUS
 * cleared) whose expiry is @chain_expire_s: fe_zone_commit then stores it so. */
void fe_zone_set_validated(struct fe_zone *z, int64_t chain_expire_s);
/* The replacement policy of fe_zone_commit (FE_OK, FE_EEXIST, FE_ESERIAL, FE_EPERM as there)
 * of @z against the stored current version @cur, judged as if @z were validated when
 * @as_validated: a serial that does not move forward is refused before any signature is
 * verified. @z is not changed. */
struct fe_store_zone_rec;
int fe_zone_replace_check(struct fe_zone *z, const struct fe_store_zone_rec *cur, bool as_validated,
                          struct fe_zone_error *err);

/* ---- details of the behaviour above ------------------------------------------------------
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
 * Structural checks (fe_zone_validate):
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
 * NSEC3 nodes, parse and store seconds. */

#endif
