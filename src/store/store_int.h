/* src/store/store_int.h — what the store's files share: the environment and its named
 * databases, the one LMDB→fe_err mapping, key helpers. Internal to the store module. */
#ifndef FE_STORE_INT_H
#define FE_STORE_INT_H

#include "fedenum/store.h"
#include "fedenum/wire.h"

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FE__VER_LEN  8u
#define FE__VKEY_CAP (FE__VER_LEN + FE_WIRE_KEY_MAX)

struct fe_store {
	MDB_env *env;
	MDB_dbi dbi_zones;
	MDB_dbi dbi_rr;
	MDB_dbi dbi_nsec3;
	MDB_dbi dbi_meta;
	MDB_dbi dbi_zstate;  /* per-zone validation state (zstate.c) */
	MDB_dbi dbi_journal; /* per-zone change journal (journal.c) */
	MDB_dbi dbi_odcache; /* on-demand answers (odcache.c) */
	bool has_zstate;
	bool has_journal;
	bool has_odcache;
	size_t max_key;    /* LMDB's compile-time key limit (511 on Debian) */
	size_t zrec_vsize; /* stored size of a zone record (padded, see pad_size) */
	uint64_t map_size;
	bool read_only;
	int lock_fd; /* fe_store_opts.exclusive: the flock'd fedenum.lock, else -1 */
	uint32_t journal_max_entries;
	uint64_t journal_max_bytes;
};

struct fe__store_handles {
	MDB_env *env;
	MDB_dbi zones;
	MDB_dbi zstate;
	bool has_zstate; /* false: opened read-only before `zstate` existed */
	bool read_only;
	size_t zrec_vsize; /* stored size of a zone record */
};

void fe__store_handles(struct fe_store *st, struct fe__store_handles *out);
/* The reader's open transaction, or NULL when no snapshot is open (odcache.c). */
MDB_txn *fe__store_reader_txn(struct fe_store_reader *r);
/* LMDB / errno code → fe_err (store.c's map_mdb). */
int fe__store_map_mdb(int rc, const char *what);

void fe__put_be64(uint8_t *p, uint64_t v);
uint64_t fe__get_be64(const uint8_t *p);
/* memcmp order with the shorter key first on a tie: LMDB's default key order. */
/* data id | key into @buf (FE__VKEY_CAP); the length, or 0 when @key_len is too long. */
size_t fe__make_vkey(uint8_t *buf, uint64_t data_id, const uint8_t *key, size_t key_len);
/* Key prefix of a zone's nodes in `rr` and `nsec3`: data_id, or, in records written before
 * data_id existed, the version (each version then had its own keys). */
static inline uint64_t fe__zone_data_id(const struct fe_store_zone_rec *z)
{
	return z->data_id ? z->data_id : z->version;
}
/* Delete every key starting with @data_id in @dbi (drop_zone). */
int fe__delete_prefix(MDB_txn *txn, MDB_dbi dbi, uint64_t data_id);
int fe__meta_get_u64(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t *out);
int fe__meta_put_u64(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t val);
extern const char fe__meta_next_version[];

/* ---- journal (journal.c) ---------------------------------------------------------------- */

/* The RR-level difference of one commit, gathered while nodes are written. */
struct fe__jdiff {
	uint8_t *buf[2]; /* [0] removed RRs, [1] added RRs (wire, owner uncompressed) */
	size_t len[2], cap[2];
	uint64_t count[2];
	uint64_t limit; /* bytes; beyond it the entry is not kept */
	bool over;      /* the difference outgrew @limit: dropped */
	bool enabled;   /* a previous version exists */
};

/* Record the difference between node blobs @old and @new (either NULL: node created or
 * deleted). Both were decoded successfully before. FE_OK / FE_ENOMEM. */
int fe__jdiff_nodes(struct fe__jdiff *d, const void *old, size_t old_len, const void *new_blob,
                    size_t new_len);
void fe__jdiff_free(struct fe__jdiff *d);
/* Append the entry serial @from -> @to for zone @apex_key in @txn, then drop the zone's
 * oldest entries beyond the store's bounds. A serial that does not move forward, or a
 * difference over the bound, clears the zone's journal instead. */
int fe__journal_commit(struct fe_store *st, MDB_txn *txn, const uint8_t *apex_key,
                       size_t apex_key_len, uint32_t from, uint32_t to, const struct fe__jdiff *d);
/* Delete every entry of zone @apex_key. */
int fe__journal_clear(struct fe_store *st, MDB_txn *txn, const uint8_t *apex_key,
                      size_t apex_key_len);

#endif
