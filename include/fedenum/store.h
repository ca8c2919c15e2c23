/* include/fedenum/store.h — zone store over LMDB.
 *
 * One LMDB environment holds every zone. A new version of a zone is written IN PLACE, as the
 * difference to the current one (only nodes that changed are put or deleted), and made
 * current in ONE write transaction (fe_store_writer_commit): LMDB read transactions are
 * snapshots, so a reader sees the old zone or the new one, never a mix, and a crash (even
 * kill -9) before the commit leaves the old one. Each commit also records its RR-level
 * difference in the zone's journal (for IXFR). Restart serves straight from the map.
 *
 * Threads: any number of readers (one struct fe_store_reader per thread); one writer at a
 * time (fe_store_writer_begin blocks while another writer is open). No MDB_* type crosses
 * this header: LMDB codes are mapped to fe_err here.
 *
 * Schema (named databases):
 *   zones   : apex key (fe_wire_name_key)          -> struct fe_store_zone_rec (packed)
 *   rr      : data id(8, BE) | owner key           -> node blob (see "Node blob")
 *   nsec3   : data id(8, BE) | raw NSEC3 hash       -> node blob of the NSEC3 owner
 *   meta    : "schema", "next_version", ...
 *   zstate  : apex key                             -> struct fe_store_zstate
 *   journal : key_len(2, BE) | apex key | seq(8, BE) -> journal entry (see "Journal")
 *   odcache : owner key | qtype(2, BE)              -> on-demand answer (see "On-demand cache")
 *
 * Data id and version: the data id (zone record `data_id`) is the key prefix of a zone's
 * nodes; it is chosen when the zone is first stored and kept by every later commit, which
 * changes only the nodes that differ. The version (`version`) is new at every commit (taken
 * from meta "next_version", unique across zones): it names what the record describes, for
 * fe_store_zone_mark / fe_store_zone_set_source (FE_EAGAIN when a commit came in between)
 * and status views. Records written before data_id existed (schema 1) read data_id 0: their
 * prefix is their version, and their first new commit adopts it as data id.
 *
 * Journal (one entry per commit that replaced a stored version; schema 2):
 *   u32 serial_from, u32 serial_to, u32 removed_count, u32 added_count, u32 removed_len
 *   (all big-endian), then removed_len bytes of removed RRs, then the added RRs, each RR
 *   in wire form with the owner uncompressed: owner, type(2), class(2) = IN, ttl(4),
 *   rdlen(2), rdata. RRSIGs are RRs of type RRSIG. The old and the new SOA are among the
 *   removed and added RRs. Order: by node (canonical), then type, then RDATA. An RRset whose
 *   TTL changed is removed and added whole. Entries of a zone are numbered by seq (1, 2,
 *   ...); per zone at most fe_store_opts.journal_max_entries entries and journal_max_bytes
 *   bytes are kept, the oldest dropped in the commit's own transaction. A commit whose
 *   difference alone is larger than journal_max_bytes, or whose serial does not move forward
 *   (RFC 1982: a forced rollback), clears the zone's journal (an IXFR across it is not
 *   possible: the client gets a full transfer).
 *
 * Node blob (host byte order, unaligned; written by zone/, read by server/):
 *   u16 flags (FE_NODE_*)
 *   u8  owner_len, owner[owner_len]          uncompressed wire name, case as in the zone
 *   u8  hash_len, hash[hash_len]             NSEC3 hash of the owner (0 if zone not NSEC3)
 *   u16 rrset_count
 *   rrset_count × {
 *     u16 type; u32 ttl; u16 rr_count; u16 sig_count; u32 body_len;
 *     (ttl: the RRset's TTL capped at the smallest original TTL of its RRSIGs, RFC 4035
 *     §5.3.3, when the blob is written; readers serve it as it is)
 *     body: rr_count × (u16 rdlen, rdata) then sig_count × (u16 rdlen, RRSIG rdata)
 *   }
 * RRsets are sorted by type. RRSIGs travel with the RRset they cover (never as an RRset of
 * their own). An empty non-terminal is a node with rrset_count 0.
 */
#ifndef FEDENUM_STORE_H
#define FEDENUM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fe_store;
struct fe_store_reader;
struct fe_store_writer;

/* Node flags. */
#define FE_NODE_APEX      0x0001u /* the zone apex */
#define FE_NODE_DELEG     0x0002u /* a zone cut: NS at a non-apex owner */
#define FE_NODE_OCCLUDED  0x0004u /* strictly below a zone cut (glue / occluded data) */
#define FE_NODE_WILDCHILD 0x0008u /* "*.<this owner>" exists */
#define FE_NODE_HAS_NSEC  0x0010u /* carries an NSEC RRset (NSEC-signed zones) */
#define FE_NODE_NAPTR_LINT                                                 \
	0x0020u /* its NAPTR RRset has records failing fe_wire_naptr_lint: \
	           the answer engine leaves those out (and the RRSIGs) */

/* Zone flags. */
#define FE_ZONE_SIGNED 0x0001u /* has DNSKEY and RRSIGs */
#define FE_ZONE_NSEC   0x0002u
#define FE_ZONE_NSEC3  0x0004u

/* Zone record as stored in `zones` (fixed size, host order). */
struct fe_store_zone_rec {
	uint64_t version;     /* new at every commit, unique across all zones (see "Data id and
	                         version") */
	uint32_t serial;      /* SOA serial of that version */
	uint32_t flags;       /* FE_ZONE_* */
	uint32_t soa_minimum; /* SOA MINIMUM field */
	uint32_t soa_ttl;
	int64_t loaded_at_s;  /* wall clock of the commit */
	int64_t sig_expire_s; /* earliest RRSIG expiration in the zone (0 if unsigned) */
	uint64_t node_count;
	uint64_t rr_count;
	uint8_t nsec3_alg; /* from NSEC3PARAM */
	uint8_t nsec3_flags;
	uint16_t nsec3_iterations;
	uint8_t nsec3_salt_len;
	uint8_t nsec3_salt[255];
	uint8_t apex_len;
	uint8_t apex[255]; /* apex wire name, case as in the zone */
	uint8_t apex_labels;
	uint8_t reserved[7];
	/* Added within schema 1 (records are zero-padded to a page: older records read 0). */
	uint8_t digest[32];   /* SHA-256 over the version's node keys and blobs (all zero:
	                         unknown, a version stored before it existed) */
	uint64_t src_size;    /* size of the master file the version came from (0: none) */
	int64_t src_mtime_ns; /* its modification time: with the serial, "file unchanged" */
	uint64_t data_id;     /* key prefix of the zone's nodes (see "Data id and version");
	                         0 in older records: the prefix is `version` */
	/* NAPTR records of the version that fail the lint (docs/security.md Z7) and are not
	 * served; the first of them as "owner: reason; ..." (NUL-terminated, may be cut). */
	uint32_t naptr_lint_count;
	char naptr_lint[380];
};

/* A decoded node; pointers live in the reader's transaction (until fe_store_reader_end). */
struct fe_store_node {
	uint16_t flags;
	const uint8_t *owner;
	uint8_t owner_len;
	const uint8_t *hash;
	uint8_t hash_len;
	uint16_t rrset_count;
	const uint8_t *rrsets; /* first RRset header */
	const uint8_t *end;    /* end of the blob */
};

/* A decoded RRset, pointing into the blob. */
struct fe_store_rrset {
	uint16_t type;
	uint32_t ttl;
	uint16_t rr_count;
	uint16_t sig_count;
	const uint8_t *body;
	uint32_t body_len;
};

struct fe_store_opts {
	uint64_t map_size_bytes; /* 0: default 16 GiB (sparse) */
	bool read_only;
	bool no_sync;                 /* tests only: skip fsync on commit */
	bool exclusive;               /* one writer instance per store: take the exclusive lock on
	                                 <dir>/fedenum.lock (flock, holder's PID written in it) for as long as
	                                 the store is open; FE_EBUSY when another process holds it
	                                 (fe_store_lock_holder names it). Not with read_only. */
	uint32_t journal_max_entries; /* per zone; 0: FE_STORE_JOURNAL_ENTRIES */
	uint64_t journal_max_bytes;   /* per zone; 0: FE_STORE_JOURNAL_BYTES */
};

#define FE_STORE_JOURNAL_ENTRIES 100u
#define FE_STORE_JOURNAL_BYTES   (64ull << 20)

/* Open or create the store in directory @dir (created if missing). On success *out is set;
 * on error it is NULL. Errors: FE_ENOSPC, FE_EIO, FE_EVERSION (schema too new), FE_ENOMEM. */
int fe_store_open(const char *dir, const struct fe_store_opts *opts, struct fe_store **out);
void fe_store_close(struct fe_store *st); /* NULL is a no-op; readers must be destroyed first */

/* ---- reading (hot path: no heap after create) --------------------------------------- */

int fe_store_reader_create(struct fe_store *st, struct fe_store_reader **out);
void fe_store_reader_destroy(struct fe_store_reader *r); /* NULL is a no-op */
/* Start / end a read snapshot (mdb_txn_renew / mdb_txn_reset). Everything returned by
 * the lookups below is valid until fe_store_reader_end. */
int fe_store_reader_begin(struct fe_store_reader *r);
void fe_store_reader_end(struct fe_store_reader *r);

/* The zone with the longest apex that equals or is an ancestor of the name with key @key.
 * FE_OK and *zone set (points into the snapshot), or FE_ENOENT. */
int fe_store_find_zone(struct fe_store_reader *r, const uint8_t *key, size_t key_len,
                       const struct fe_store_zone_rec **zone);
/* Exact zone by apex key. FE_OK / FE_ENOENT. */
int fe_store_get_zone(struct fe_store_reader *r, const uint8_t *apex_key, size_t key_len,
                      const struct fe_store_zone_rec **zone);

/* Node with owner key @key in the current version of @zone. FE_OK / FE_ENOENT /
 * FE_EFORMAT (corrupt blob). */
int fe_store_get_node(struct fe_store_reader *r, const struct fe_store_zone_rec *zone,
                      const uint8_t *key, size_t key_len, struct fe_store_node *out);

/* Canonical predecessor: the last node of @zone whose key sorts strictly before @key and
 * whose flags contain all of @need_flags (e.g. FE_NODE_HAS_NSEC). Wraps to the last
 * such node of the zone when none precedes (NSEC chain wrap, RFC 4034 §4.1.1).
 * FE_OK / FE_ENOENT. */
int fe_store_prev_node(struct fe_store_reader *r, const struct fe_store_zone_rec *zone,
                       const uint8_t *key, size_t key_len, uint16_t need_flags,
                       struct fe_store_node *out);

/* NSEC3 node matching @hash exactly (*exact = true) or covering it: the last hash before
 * it, wrapping to the last of the zone (*exact = false). FE_OK / FE_ENOENT. */
int fe_store_nsec3_find(struct fe_store_reader *r, const struct fe_store_zone_rec *zone,
                        const uint8_t *hash, size_t hash_len, bool *exact,
                        struct fe_store_node *out);

/* Walk a zone in key order (zone transfer): the first node of @zone whose key sorts strictly
 * after @key (@key NULL: the zone's first node), among its owner nodes (@nsec3 false, keys
 * are owner keys) or its NSEC3 nodes (@nsec3 true, keys are raw hashes). *key_out (the key
 * without the data id) and *out point into the snapshot. FE_OK / FE_ENOENT (no more) /
 * FE_EFORMAT / FE_EIO. */
int fe_store_next_node(struct fe_store_reader *r, const struct fe_store_zone_rec *zone, bool nsec3,
                       const uint8_t *key, size_t key_len, const uint8_t **key_out,
                       size_t *key_len_out, struct fe_store_node *out);

/* Iterate the held zones (for status views, SIGHUP reload, tests). @cb returns false to stop. */
int fe_store_foreach_zone(struct fe_store_reader *r,
                          bool (*cb)(const struct fe_store_zone_rec *zone, void *arg), void *arg);

/* ---- node blobs ------------------------------------------------------------------- */

/* Decode a node blob (bounds-checked). FE_OK / FE_EFORMAT. */
int fe_store_node_decode(const void *blob, size_t len, struct fe_store_node *out);
/* RRset of @type at @node. true and *out set, or false. */
bool fe_store_node_find(const struct fe_store_node *node, uint16_t type,
                        struct fe_store_rrset *out);
/* Iterate RRsets: *iter starts at 0. true while one is returned. */
bool fe_store_node_next(const struct fe_store_node *node, size_t *iter, struct fe_store_rrset *out);
/* Iterate the RRs then the RRSIGs of an RRset: *iter starts at 0; *is_sig tells which. */
bool fe_store_rrset_next(const struct fe_store_rrset *rs, size_t *iter, const uint8_t **rdata,
                         uint16_t *rdlen, bool *is_sig);

/* ---- writing ---------------------------------------------------------------------- */

/* Begin writing a new version of the zone @apex (wire name). Blocks while another writer
 * is open. *out owns an LMDB write transaction until commit or abort. The version is written
 * in place over the current one: nothing is visible to readers before the commit.
 * Nodes are given in one of two ways (not both in one writer: FE_EINVAL):
 *  - whole version: fe_store_writer_put_node / _put_nsec3 in ascending key order; the
 *    writer merges them with the stored nodes (bytewise compare: only changed nodes are put,
 *    stored nodes not given are deleted). After the commit the zone holds exactly the nodes
 *    given.
 *  - change: fe_store_writer_get_node / _set_node / _del_node (and the _nsec3 ones), in any
 *    order; the nodes not touched stay as they are. */
int fe_store_writer_begin(struct fe_store *st, const uint8_t *apex, size_t apex_len,
                          struct fe_store_writer **out);
/* Current serial of the zone being written (FE_ENOENT if the zone is new). */
int fe_store_writer_current_serial(struct fe_store_writer *w, uint32_t *serial);
/* The record of the version current when the writer began. FE_OK or FE_ENOENT (no version). */
int fe_store_writer_current(struct fe_store_writer *w, struct fe_store_zone_rec *out);
/* Add nodes in strictly ascending key order (enforced: FE_EINVAL otherwise). */
int fe_store_writer_put_node(struct fe_store_writer *w, const uint8_t *key, size_t key_len,
                             const void *blob, size_t blob_len);
/* Add NSEC3 nodes in strictly ascending hash order. */
int fe_store_writer_put_nsec3(struct fe_store_writer *w, const uint8_t *hash, size_t hash_len,
                              const void *blob, size_t blob_len);
/* Change mode. get: the node as it stands in this transaction (changes made so far
 * included); *out points into the transaction and is valid until the next call on @w.
 * FE_OK / FE_ENOENT / FE_EFORMAT. set: create or replace (a blob equal to the stored one
 * writes nothing). del: FE_OK / FE_ENOENT. Keys of nodes outside the zone: FE_EINVAL. */
int fe_store_writer_get_node(struct fe_store_writer *w, const uint8_t *key, size_t key_len,
                             struct fe_store_node *out);
int fe_store_writer_set_node(struct fe_store_writer *w, const uint8_t *key, size_t key_len,
                             const void *blob, size_t blob_len);
int fe_store_writer_del_node(struct fe_store_writer *w, const uint8_t *key, size_t key_len);
/* Is there a node whose key extends @key (a descendant of that name)? FE_OK and *yes. */
int fe_store_writer_has_below(struct fe_store_writer *w, const uint8_t *key, size_t key_len,
                              bool *yes);
int fe_store_writer_get_nsec3(struct fe_store_writer *w, const uint8_t *hash, size_t hash_len,
                              struct fe_store_node *out);
int fe_store_writer_set_nsec3(struct fe_store_writer *w, const uint8_t *hash, size_t hash_len,
                              const void *blob, size_t blob_len);
int fe_store_writer_del_nsec3(struct fe_store_writer *w, const uint8_t *hash, size_t hash_len);

/* Change mode: the NSEC3 node that follows (@next) or precedes @hash in this transaction
 * (changes made so far included), wrapping around the zone's chain (RFC 5155 §3.1.7); @hash
 * itself need not be stored. *hash_out and *out are valid until the next call on @w.
 * FE_OK, FE_ENOENT (no NSEC3 node other than @hash), FE_EFORMAT. */
int fe_store_writer_nsec3_near(struct fe_store_writer *w, const uint8_t *hash, size_t hash_len,
                               bool next, const uint8_t **hash_out, size_t *hash_len_out,
                               struct fe_store_node *out);

/* Change mode: the owner node after (@next) or before @key in this transaction whose flags
 * hold all of @need_flags (e.g. FE_NODE_HAS_NSEC), wrapping around the zone (RFC 4034 §4.1.1);
 * @key itself need not be stored. *key_out (without the data id) and *out are valid until
 * the next call on @w. FE_OK, FE_ENOENT (no such node other than @key), FE_EFORMAT. */
int fe_store_writer_node_near(struct fe_store_writer *w, const uint8_t *key, size_t key_len,
                              bool next, uint16_t need_flags, const uint8_t **key_out,
                              size_t *key_len_out, struct fe_store_node *out);

/* What a writer has done so far (the cost of the version: entries put and deleted). */
struct fe_store_write_stats {
	uint64_t nodes_written;   /* `rr` entries put (new or changed) */
	uint64_t nodes_deleted;   /* `rr` entries deleted */
	uint64_t nodes_unchanged; /* given, compared equal to the stored blob: not written */
	uint64_t nsec3_written;
	uint64_t nsec3_deleted;
	uint64_t nsec3_unchanged;
	uint64_t rrs_removed; /* RRs in the journal entry (0 for a zone's first version) */
	uint64_t rrs_added;
	bool journal_dropped; /* the difference is over the journal bound: not kept */
};
/* Fill @out. Whole-version mode: the deletions of stored nodes after the last one given
 * happen in fe_store_writer_commit and are counted there (fe_store_writer_commit_stats). */
void fe_store_writer_stats(const struct fe_store_writer *w, struct fe_store_write_stats *out);

/* Make the new version current (zone record @rec; rec->version and rec->data_id are filled
 * in here), write the journal entry (serial of the previous version -> rec->serial), commit.
 * Frees @w whatever the result. Errors: FE_ENOSPC, FE_EIO. */
int fe_store_writer_commit(struct fe_store_writer *w, struct fe_store_zone_rec *rec);
/* The same, and *stats (may be NULL) as it stood just before the transaction committed. */
int fe_store_writer_commit_stats(struct fe_store_writer *w, struct fe_store_zone_rec *rec,
                                 struct fe_store_write_stats *stats);
/* Discard everything written; the current version is untouched. Frees @w. NULL is a no-op. */
void fe_store_writer_abort(struct fe_store_writer *w);

/* ---- on-demand cache ------------------------------------------------------------------
 * Answers resolved on demand for member zones this node does not hold (docs/architecture.md
 * "On-demand peering"). A table of its own: zone lookups never read it, so it can never
 * shadow a held zone; the answer engine's caller consults it only for names below a
 * delegation to a zone that is not held. The value is opaque to the store except its first
 * 8 octets: the wall-clock second (BE) at which the entry expires; the sweep deletes entries
 * past it. Written with MDB_NOSYNC (a cache: losing the last entries in a crash is harmless).
 */
#define FE_STORE_ODC_VALUE_MAX 16384u

/* The value for @key in the reader's snapshot. FE_OK and *val and *len (valid until
 * fe_store_reader_end), FE_ENOENT (none, or no cache table in an old read-only store),
 * FE_EINVAL (no snapshot open). Hot path of on-demand hits: no heap. */
int fe_store_odc_get(struct fe_store_reader *r, const uint8_t *key, size_t key_len,
                     const uint8_t **val, size_t *len);
/* Put @val (@len ≤ FE_STORE_ODC_VALUE_MAX, at least 8) under @key in its own write
 * transaction (blocks while another writer is open: call it off the event loops). A new key
 * when the table already holds @max_entries entries: FE_EBUSY (0: no bound). FE_OK, FE_EINVAL,
 * FE_ENOSPC, FE_EIO; FE_EPERM on a read-only store. */
int fe_store_odc_put(struct fe_store *st, const uint8_t *key, size_t key_len, const void *val,
                     size_t len, uint64_t max_entries);
/* Delete at most @max entries whose expiry second is at or before @now_s (one write
 * transaction). *deleted (may be NULL) gets how many; *entries (may be NULL) how many remain. */
int fe_store_odc_sweep(struct fe_store *st, int64_t now_s, size_t max, size_t *deleted,
                       uint64_t *entries);

/* ---- journal (format: "Journal" above) ------------------------------------------------- */

/* One entry; pointers live until the callback returns. */
struct fe_store_journal_entry {
	uint64_t seq;
	uint32_t serial_from;
	uint32_t serial_to;
	uint32_t removed_count;
	uint32_t added_count;
	const uint8_t *removed; /* removed_len bytes of RRs */
	size_t removed_len;
	const uint8_t *added;
	size_t added_len;
};

/* Call @cb for the chain of entries of zone @apex that starts at serial @from (the entry
 * whose serial_from is @from, then each entry whose serial_from is the previous serial_to),
 * oldest first, up to the newest or until @cb returns false. One read transaction.
 * FE_OK; FE_ENOENT when no kept entry starts at @from (the client needs a full transfer);
 * FE_EFORMAT (damaged entry), FE_EIO. */
int fe_store_journal_read(struct fe_store *st, const uint8_t *apex, size_t apex_len, uint32_t from,
                          bool (*cb)(const struct fe_store_journal_entry *e, void *arg), void *arg);

/* One RR of a journal entry; pointers into the entry. */
struct fe_store_rr {
	const uint8_t *owner;
	uint8_t owner_len;
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	const uint8_t *rdata;
	uint16_t rdlen;
};
/* Iterate the RRs in @p[0, @len): *off starts at 0. true while one is returned; false at the
 * end or on a damaged RR (then *off < len). */
bool fe_store_rr_next(const uint8_t *p, size_t len, size_t *off, struct fe_store_rr *out);

/* Entries and bytes kept for zone @apex, and the serial range they span (0 entries: the
 * serials are 0). FE_OK / FE_EIO. */
struct fe_store_journal_info {
	uint32_t entries;
	uint64_t bytes;
	uint32_t first_serial; /* serial_from of the oldest entry */
	uint32_t last_serial;  /* serial_to of the newest */
};
int fe_store_journal_info(struct fe_store *st, const uint8_t *apex, size_t apex_len,
                          struct fe_store_journal_info *out);

/* A consistent copy of the store in @dir (created if missing; it must not hold a store
 * already: FE_EEXIST): LMDB's compacting copy, taken in one read transaction, so it is one
 * moment of every zone, their states, the journal and the recorded trust anchors. Works while
 * another process (a running fedenumd) writes the store: open it read-only for this. The copy
 * is a store as it is (`data.mdb`; the lock files are made when it is opened). *bytes, if not
 * NULL, gets the copy's size. FE_OK, FE_EEXIST, FE_EPERM, FE_ENOSPC, FE_EIO. */
int fe_store_backup(struct fe_store *st, const char *dir, uint64_t *bytes);

/* PID of the process holding the exclusive lock of the store in @dir (fe_store_opts.exclusive),
 * or 0 when none does (or it cannot be told). Does not take the lock. */
long fe_store_lock_holder(const char *dir);

/* Small named values in `meta` (e.g. the trust anchors a store is kept under, trust.c).
 * @name must not be one of the store's own keys ("schema", "next_version").
 * get: copies at most @cap bytes into @buf and sets *len to the stored size (larger than
 * @cap: call again with more room). FE_OK, FE_ENOENT, FE_EIO.
 * put: @len 0 deletes. One write transaction. FE_OK, FE_EPERM (read-only), FE_ENOSPC, FE_EIO. */
int fe_store_meta_get(struct fe_store *st, const char *name, void *buf, size_t cap, size_t *len);
int fe_store_meta_put(struct fe_store *st, const char *name, const void *data, size_t len);

/* Record the master file (size, mtime) that the CURRENT version of @apex is known to equal,
 * when it is still @version (so that a restart need not parse an unchanged file). FE_OK,
 * FE_ENOENT, FE_EAGAIN (other version), FE_EPERM, FE_EIO. */
int fe_store_zone_set_source(struct fe_store *st, const uint8_t *apex, size_t apex_len,
                             uint64_t version, uint64_t src_size, int64_t src_mtime_ns);

/* Remove a zone entirely, journal and `zstate` record included (one transaction): readers see
 * it held or gone. FE_OK / FE_ENOENT / FE_EPERM (read-only) / FE_EIO. */
int fe_store_drop_zone(struct fe_store *st, const uint8_t *apex, size_t apex_len);
/* The same for @n zones in one transaction (one commit, one fsync, however many zones):
 * @each (may be NULL) gets FE_OK or FE_ENOENT per zone; any other error aborts the whole
 * transaction (nothing dropped) and is returned. FE_OK (with @n 1: FE_ENOENT when not held). */
int fe_store_drop_zones(struct fe_store *st, const uint8_t *const *apex, const size_t *apex_len,
                        size_t n, int *each);

/* ---- details of the contract above ------------------------------------------------
 *
 * Schema version written to meta "schema" (4 bytes, big-endian). fe_store_open fails with
 * FE_EVERSION when the stored one is newer than this build's. Schema 2 adds the
 * zone record's data_id and the `journal` database; a schema-1 store is read as it is and
 * marked 2 on its first writable open (nothing else is rewritten), so that a schema-1 build
 * refuses it rather than look for nodes under the version id.
 *
 * Limits: the root zone cannot be stored (LMDB refuses empty keys; fe_store_writer_begin
 * returns FE_ENOTSUP). Keys longer than LMDB's key limit (511 bytes including the 8-byte
 * version) cannot be stored (FE_ERANGE); lookups for such keys behave as if the name is
 * absent and prev_node still returns the correct predecessor.
 *
 * Zone records: the pointer returned by find_zone/get_zone/foreach_zone is 8-byte aligned
 * (the record is padded so LMDB keeps it on its own overflow page); it lives until
 * fe_store_reader_end.
 *
 * Costs: fe_store_prev_node walks back over nodes that lack @need_flags, so asking for
 * FE_NODE_HAS_NSEC in a zone without NSEC is O(zone size); callers check the zone flags. */
#define FE_STORE_SCHEMA 2u

struct fe_store_stat {
	uint64_t map_size_bytes; /* configured map size */
	uint64_t used_bytes;     /* pages in use × page size (high-water mark of the file) */
	uint32_t page_size;
	uint32_t max_readers;
	uint32_t readers_used; /* reader slots taken (all processes) */
	uint32_t zone_count;
	uint64_t rr_entries;    /* entries in `rr` (all versions present) */
	uint64_t nsec3_entries; /* entries in `nsec3` */
	uint64_t next_version;
	uint32_t schema;
};

/* Snapshot statistics for status views. One short read transaction. FE_OK or FE_EIO. */
int fe_store_stat(struct fe_store *st, struct fe_store_stat *out);

/* ---- trust marks and per-zone records for the trust layer (src/store/zstate.c) --------
 *
 * Zone flags written by the trust layer (src/trust/) into the zone record.
 * FE_ZONE_VALIDATED: this version passed whole-zone DNSSEC validation through a chain of
 * trust (anchor or parent DS) when it was stored.
 * FE_ZONE_BOGUS: its chain of trust no longer holds (the parent's DS changed or went away,
 * the parent is not valid): not served. */
#define FE_ZONE_VALIDATED 0x0008u
#define FE_ZONE_BOGUS     0x0010u
/* FE_ZONE_EXPIRED: a secondary's copy past its SOA EXPIRE without a successful refresh
 * (RFC 1034 §4.3.5): kept, but answered SERVFAIL (EDE 22, No Reachable Authority) until a
 * refresh succeeds; cleared by the next version and by fe_store_zone_mark. */
#define FE_ZONE_EXPIRED 0x0020u
/* For a zone with FE_ZONE_VALIDATED, sig_expire_s is the CHAIN expiry: the earliest RRSIG
 * expiration of the zone's own signatures and of the zones its trust comes through (the
 * parent's record, recursively). After it the zone is not served as valid. */

/* The `zstate` database: one opaque value per zone apex (apex key -> bytes), kept across
 * restarts for the trust layer, which alone gives it meaning (struct fe_trust_zstate,
 * fedenum/trust.h). Not on the query path: each call is one short transaction. */

/* Copy the value kept for zone @apex (wire name) into @out (at most @cap bytes). Returns the
 * value's full length (which may exceed @cap), FE_ENOENT (none kept, or a store opened
 * read-only before the `zstate` database existed), FE_EINVAL (bad name), FE_EIO. */
int fe_store_zstate_get(struct fe_store *st, const uint8_t *apex, size_t apex_len, void *out,
                        size_t cap);
/* Replace the value of zone @apex by the @len bytes at @val. One write transaction (blocks
 * while a zone is being written). FE_OK, FE_EINVAL, FE_EPERM (read-only), FE_ENOSPC,
 * FE_EIO. */
int fe_store_zstate_put(struct fe_store *st, const uint8_t *apex, size_t apex_len, const void *val,
                        size_t len);
/* Every kept value, in apex key order. @cb returns false to stop; @val lives until it
 * returns. FE_OK or FE_EIO. */
int fe_store_zstate_foreach(struct fe_store *st, bool (*cb)(const void *val, size_t len, void *arg),
                            void *arg);

/* Change the trust flags and the chain expiry of the CURRENT version of zone @apex without
 * writing a new version: flags = (flags & ~@clear_flags) | @set_flags, and sig_expire_s =
 * @sig_expire_s unless it is negative. Only if the current version is still @version (a
 * version committed meanwhile is not touched). One write transaction: readers see the old
 * record or the new one. FE_OK, FE_ENOENT (zone not held), FE_EAGAIN (other version),
 * FE_EPERM (read-only), FE_EIO. */
int fe_store_zone_mark(struct fe_store *st, const uint8_t *apex, size_t apex_len, uint64_t version,
                       uint32_t set_flags, uint32_t clear_flags, int64_t sig_expire_s);

#endif
