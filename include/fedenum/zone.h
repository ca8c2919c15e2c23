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

#endif
