/* zone/ internals: the compact in-memory form of a parsed zone.
 *
 * Every RR is converted straight out of ldns into a struct fe__zrec in a chunked arena
 * (owner interned, RDATA as uncompressed wire). After the whole file is read the records
 * are sorted by (owner key, covered type, RRSIG last, RDATA) and grouped into nodes; RRSIGs
 * then sit right after the RRset they cover, which is the node blob's own layout. */
#ifndef FE_ZONE_INT_H
#define FE_ZONE_INT_H

#include "fedenum/store.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "fedenum/zone.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FE__NSEC3_HASH_LEN 20 /* SHA-1, the only NSEC3 hash algorithm (RFC 5155 §11) */

/* An owner name, stored once for all the RRs that share it. */
struct fe__zowner {
	uint16_t key_len;
	uint8_t name_len;
	uint8_t labels; /* root excluded */
	uint8_t data[]; /* key[key_len] then name[name_len] (case as in the file) */
};

static inline const uint8_t *fe__own_key(const struct fe__zowner *o)
{
	return o->data;
}

static inline const uint8_t *fe__own_name(const struct fe__zowner *o)
{
	return o->data + o->key_len;
}

struct fe__zrec {
	const struct fe__zowner *own;
	uint32_t ttl;
	uint32_t line; /* where ldns finished the record (for messages) */
	uint16_t type;
	uint16_t covered; /* RRSIG: the type covered; otherwise == type */
	uint16_t rdlen;
	uint16_t file; /* index into fe_zone.files */
	uint8_t rdata[];
};

/* A node of the rr database: real (records [first, first+count) of recs) or an empty
 * non-terminal (count 0), whose name is a suffix of a descendant's owner. */
struct fe__znode {
	const struct fe__zowner *own;
	uint32_t first;
	uint32_t count;
	uint16_t key_len; /* prefix of own's key */
	uint16_t flags;   /* FE_NODE_* */
	uint8_t name_off; /* offset of this node's name inside own's name */
};

/* A node of the nsec3 database (records in n3recs). */
struct fe__zn3 {
	const struct fe__zowner *own;
	uint32_t first;
	uint32_t count;
	uint8_t hash[FE__NSEC3_HASH_LEN];
};

struct fe__chunk {
	struct fe__chunk *next;
	size_t used;
	size_t cap;
	_Alignas(16) uint8_t data[];
};

/* Append @r to the growable record-pointer array (*arr, *len, *cap), doubling from @first.
 * FE_OK or FE_ENOMEM (the array is unchanged). */
int fe__recs_push(struct fe__zrec ***arr, size_t *len, size_t *cap, size_t first,
                  struct fe__zrec *r);

struct fe_zone {
	struct fe__chunk *chunks;

	struct fe__zrec **recs; /* sorted, deduplicated, NSEC3 chain moved out */
	size_t nrecs;
	size_t recs_cap;
	struct fe__zrec **n3recs;
	size_t n3recs_len;
	size_t n3recs_cap;

	struct fe__znode *nodes;
	size_t nnodes;
	size_t nodes_cap;
	uint8_t (*hashes)[FE__NSEC3_HASH_LEN]; /* per node, NSEC3 zones only */
	struct fe__zn3 *n3;
	size_t nn3;
	size_t n3_cap;

	char **files;
	size_t nfiles;

	uint8_t apex[FE_WIRE_NAME_MAX];
	size_t apex_len;
	uint8_t apex_key[FE_WIRE_KEY_MAX];
	size_t apex_key_len;
	uint8_t apex_labels;
	char apex_str[1100];

	uint32_t serial;
	uint32_t soa_ttl;
	uint32_t soa_minimum;
	uint32_t flags;       /* FE_ZONE_* */
	uint64_t soa_count;   /* SOA RRs read (before dedup) */
	uint64_t nsec3_read;  /* NSEC3 RRs read */
	int64_t sig_expire_s; /* earliest RRSIG expiration, 0 when none */
	bool has_rrsig;

	bool n3_params; /* NSEC3PARAM chosen */
	uint8_t n3_alg;
	uint8_t n3_flags;
	uint16_t n3_iter;
	uint8_t n3_salt_len;
	uint8_t n3_salt[255];

	/* warnings, summarised in the load log line */
	uint64_t dup_rrs;
	uint64_t orphan_sigs;
	uint64_t ttl_mismatch;
	uint64_t stale_nsec3;
	uint64_t naptr_lint;    /* NAPTRs failing fe_wire_naptr_lint: kept, not served */
	char naptr_report[380]; /* the first of them: "owner: reason; ..." */

	uint64_t parse_us; /* parse and build time */

	/* The master file (for "unchanged since stored") and the commit policy. */
	uint64_t src_size;
	int64_t src_mtime_ns;
	bool force; /* fe_zone_opts.force */
	bool has_digest;
	uint8_t digest[32];                       /* fe__zone_digest, computed once */
	struct fe_store_write_stats commit_stats; /* what the last fe_zone_commit wrote */
};

/* SHA-256 over the node keys and blobs that a commit would write (computed once, then kept
 * in @z). FE_OK or FE_ENOMEM / FE_ERANGE. */
int fe__zone_digest(struct fe_zone *z);

/* The serial and trust policy of replacing @cur (the stored current version) by @z:
 *  - a validated version is never replaced by one that was not validated (FE_EPERM);
 *  - same serial and same content: nothing to do (FE_EEXIST); same serial, stored without
 *    validation, new one validated: replace (FE_OK);
 *  - a serial that does not move forward (RFC 1982), or the same serial with other content:
 *    FE_ESERIAL, unless z->force.
 * @err names the zone, both serials and the way out. */
int fe__zone_replace_policy(struct fe_zone *z, const struct fe_store_zone_rec *cur,
                            struct fe_zone_error *err);

/* Arena allocation from the zone's chunks (8-byte aligned); NULL when out of memory. */
void *fe__zone_alloc(struct fe_zone *z, size_t n);

/* Fill @err (may be NULL) with file:line and a reason (as fe_zone_error_set). */
void fe__zone_err(struct fe_zone_error *err, const char *file, unsigned long line, const char *fmt,
                  ...) __attribute__((format(printf, 4, 5)));

/* Sort, deduplicate, group into nodes, mark cuts/ENTs/wildcards, compute NSEC3 hashes. */
int fe__zone_build(struct fe_zone *z, const struct fe_zone_opts *opts, struct fe_zone_error *err);

/* Decode a 32-character base32hex label (RFC 4648 §7) into 20 bytes. */
bool fe__b32hex_decode20(const uint8_t *label, size_t len, uint8_t *out);

#endif
