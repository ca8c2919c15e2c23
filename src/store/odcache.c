/* The on-demand cache table (store.h "On-demand cache"): answers resolved for member zones
 * that are not held here, kept until their TTL. Its own LMDB database, so a zone lookup
 * never sees it; the read side (fe_store_odc_get) is in store.c, beside the reader. */
#include "store_int.h"

#include "fedenum/util.h"

#include <string.h>

int fe_store_odc_put(struct fe_store *st, const uint8_t *key, size_t key_len, const void *val,
                     size_t len, uint64_t max_entries)
{
	if (st->read_only || !st->has_odcache)
		return FE_EPERM;
	if (key_len == 0 || key_len > st->max_key || len < 8 || len > FE_STORE_ODC_VALUE_MAX)
		return FE_EINVAL;
	MDB_txn *txn = NULL;
	int rc = mdb_txn_begin(st->env, NULL, MDB_NOSYNC, &txn);
	if (rc != MDB_SUCCESS)
		return fe__store_map_mdb(rc, "odcache txn");
	MDB_val k = {key_len, (void *)key};
	MDB_val v;
	if (max_entries) {
		MDB_stat ms;
		rc = mdb_stat(txn, st->dbi_odcache, &ms);
		if (rc != MDB_SUCCESS) {
			mdb_txn_abort(txn);
			return fe__store_map_mdb(rc, "odcache stat");
		}
		if (ms.ms_entries >= max_entries &&
		    mdb_get(txn, st->dbi_odcache, &k, &v) == MDB_NOTFOUND) {
			mdb_txn_abort(txn);
			return FE_EBUSY;
		}
	}
	v.mv_size = len;
	v.mv_data = (void *)val;
	rc = mdb_put(txn, st->dbi_odcache, &k, &v, 0);
	if (rc != MDB_SUCCESS) {
		mdb_txn_abort(txn);
		return fe__store_map_mdb(rc, "odcache put");
	}
	return fe__store_map_mdb(mdb_txn_commit(txn), "odcache commit");
}

int fe_store_odc_sweep(struct fe_store *st, int64_t now_s, size_t max, size_t *deleted,
                       uint64_t *entries)
{
	if (deleted)
		*deleted = 0;
	if (entries)
		*entries = 0;
	if (st->read_only || !st->has_odcache)
		return FE_EPERM;
	MDB_txn *txn = NULL;
	int rc = mdb_txn_begin(st->env, NULL, MDB_NOSYNC, &txn);
	if (rc != MDB_SUCCESS)
		return fe__store_map_mdb(rc, "odcache txn");
	MDB_cursor *c = NULL;
	rc = mdb_cursor_open(txn, st->dbi_odcache, &c);
	if (rc != MDB_SUCCESS) {
		mdb_txn_abort(txn);
		return fe__store_map_mdb(rc, "odcache cursor");
	}
	size_t n = 0;
	MDB_val k, v;
	/* Bounded: one pass over the table, at most @max deletions. */
	rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (rc == MDB_SUCCESS && n < max) {
		bool expired = v.mv_size < 8 || (int64_t)fe__get_be64(v.mv_data) <= now_s;
		if (expired) {
			rc = mdb_cursor_del(c, 0);
			if (rc != MDB_SUCCESS)
				break;
			n++;
		}
		/* after a delete, MDB_NEXT gives the entry that followed the deleted one */
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
		mdb_txn_abort(txn);
		return fe__store_map_mdb(rc, "odcache sweep");
	}
	MDB_stat ms;
	if (entries && mdb_stat(txn, st->dbi_odcache, &ms) == MDB_SUCCESS)
		*entries = ms.ms_entries;
	rc = mdb_txn_commit(txn);
	if (rc != MDB_SUCCESS)
		return fe__store_map_mdb(rc, "odcache commit");
	if (deleted)
		*deleted = n;
	return FE_OK;
}
