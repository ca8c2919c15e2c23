/* Per-zone records (`zstate` database) and in-place trust marks on zone records, for the
 * trust layer. Contract: include/fedenum/store.h, section "trust marks and per-zone
 * records". Neither is on the query path: each call is one short transaction. */
#include "fedenum/store.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "store_int.h"

#include <string.h>

static int apex_key(const uint8_t *apex, size_t apex_len, uint8_t *key)
{
	if (apex_len == 0 || fe_wire_name_len(apex, apex_len) != (int)apex_len)
		return FE_EINVAL;
	int klen = fe_wire_name_key(apex, apex_len, key, FE_WIRE_KEY_MAX);
	if (klen < 0)
		return FE_EINVAL;
	if (klen == 0)
		return FE_ENOTSUP; /* the root: never stored */
	return klen;
}

int fe_store_zstate_get(struct fe_store *st, const uint8_t *apex, size_t apex_len, void *out,
                        size_t cap)
{
	struct fe__store_handles h;
	uint8_t key[FE_WIRE_KEY_MAX];
	MDB_txn *txn;
	int rc, err;

	fe__store_handles(st, &h);
	if (!h.has_zstate)
		return FE_ENOENT;
	int klen = apex_key(apex, apex_len, key);
	if (klen < 0)
		return klen == FE_ENOTSUP ? FE_ENOENT : klen;
	if ((rc = mdb_txn_begin(h.env, NULL, MDB_RDONLY, &txn)) != MDB_SUCCESS)
		return fe__store_map_mdb(rc, "zstate txn");
	MDB_val k = {(size_t)klen, key}, v;
	rc = mdb_get(txn, h.zstate, &k, &v);
	if (rc == MDB_SUCCESS) {
		memcpy(out, v.mv_data, FE_MIN(cap, v.mv_size));
		err = v.mv_size > INT32_MAX ? FE_EFORMAT : (int)v.mv_size;
	} else
		err = fe__store_map_mdb(rc, "zstate get");
	mdb_txn_abort(txn);
	return err;
}

int fe_store_zstate_put(struct fe_store *st, const uint8_t *apex, size_t apex_len, const void *val,
                        size_t len)
{
	struct fe__store_handles h;
	uint8_t key[FE_WIRE_KEY_MAX];
	MDB_txn *txn;
	int rc;

	fe__store_handles(st, &h);
	if (h.read_only || !h.has_zstate)
		return FE_EPERM;
	int klen = apex_key(apex, apex_len, key);
	if (klen < 0)
		return klen;
	if ((rc = mdb_txn_begin(h.env, NULL, 0, &txn)) != MDB_SUCCESS)
		return fe__store_map_mdb(rc, "zstate txn");
	MDB_val k = {(size_t)klen, key}, v = {len, (void *)val};
	if ((rc = mdb_put(txn, h.zstate, &k, &v, 0)) != MDB_SUCCESS) {
		mdb_txn_abort(txn);
		return fe__store_map_mdb(rc, "zstate put");
	}
	return fe__store_map_mdb(mdb_txn_commit(txn), "zstate commit");
}

int fe_store_zstate_foreach(struct fe_store *st, bool (*cb)(const void *val, size_t len, void *arg),
                            void *arg)
{
	struct fe__store_handles h;
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	int rc, err = FE_OK;

	fe__store_handles(st, &h);
	if (!h.has_zstate)
		return FE_OK;
	if ((rc = mdb_txn_begin(h.env, NULL, MDB_RDONLY, &txn)) != MDB_SUCCESS)
		return fe__store_map_mdb(rc, "zstate txn");
	if ((rc = mdb_cursor_open(txn, h.zstate, &c)) != MDB_SUCCESS) {
		mdb_txn_abort(txn);
		return fe__store_map_mdb(rc, "zstate cursor");
	}
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (!cb(v.mv_data, v.mv_size, arg))
			break;
	}
	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
		err = fe__store_map_mdb(rc, "zstate walk");
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	return err;
}

struct rec_change {
	uint32_t set_flags, clear_flags;
	int64_t sig_expire_s; /* < 0: keep */
	bool set_source;
	uint64_t src_size;
	int64_t src_mtime_ns;
};

/* Rewrite the record of the current version of @apex in place, if it is still @version. */
static int rec_update(struct fe_store *st, const uint8_t *apex, size_t apex_len, uint64_t version,
                      const struct rec_change *ch)
{
	struct fe__store_handles h;
	uint8_t key[FE_WIRE_KEY_MAX];
	struct fe_store_zone_rec rec;
	MDB_txn *txn;
	int rc, err;

	fe__store_handles(st, &h);
	if (h.read_only)
		return FE_EPERM;
	int klen = apex_key(apex, apex_len, key);
	if (klen < 0)
		return klen == FE_ENOTSUP ? FE_ENOENT : klen;
	if ((rc = mdb_txn_begin(h.env, NULL, 0, &txn)) != MDB_SUCCESS)
		return fe__store_map_mdb(rc, "mark txn");
	MDB_val k = {(size_t)klen, key}, v;
	if ((rc = mdb_get(txn, h.zones, &k, &v)) != MDB_SUCCESS) {
		err = fe__store_map_mdb(rc, "mark get");
		goto out_abort;
	}
	if (v.mv_size < sizeof(rec)) {
		err = FE_EFORMAT;
		goto out_abort;
	}
	memcpy(&rec, v.mv_data, sizeof(rec));
	if (rec.version != version) {
		err = FE_EAGAIN;
		goto out_abort;
	}
	rec.flags = (rec.flags & ~ch->clear_flags) | ch->set_flags;
	if (ch->sig_expire_s >= 0)
		rec.sig_expire_s = ch->sig_expire_s;
	if (ch->set_source) {
		rec.src_size = ch->src_size;
		rec.src_mtime_ns = ch->src_mtime_ns;
	}
	/* Same padded size as fe_store_writer_commit writes, so the record keeps its own
	 * overflow page (and readers their aligned pointer). */
	MDB_val nv = {FE_MAX(v.mv_size, h.zrec_vsize), NULL};
	if ((rc = mdb_put(txn, h.zones, &k, &nv, MDB_RESERVE)) != MDB_SUCCESS) {
		err = fe__store_map_mdb(rc, "mark put");
		goto out_abort;
	}
	memset(nv.mv_data, 0, nv.mv_size);
	memcpy(nv.mv_data, &rec, sizeof(rec));
	return fe__store_map_mdb(mdb_txn_commit(txn), "mark commit");

out_abort:
	mdb_txn_abort(txn);
	return err;
}

int fe_store_zone_mark(struct fe_store *st, const uint8_t *apex, size_t apex_len, uint64_t version,
                       uint32_t set_flags, uint32_t clear_flags, int64_t sig_expire_s)
{
	struct rec_change ch = {
	        .set_flags = set_flags, .clear_flags = clear_flags, .sig_expire_s = sig_expire_s};
	return rec_update(st, apex, apex_len, version, &ch);
}

int fe_store_zone_set_source(struct fe_store *st, const uint8_t *apex, size_t apex_len,
                             uint64_t version, uint64_t src_size, int64_t src_mtime_ns)
{
	struct rec_change ch = {.sig_expire_s = -1,
	                        .set_source = true,
	                        .src_size = src_size,
	                        .src_mtime_ns = src_mtime_ns};
	return rec_update(st, apex, apex_len, version, &ch);
}
