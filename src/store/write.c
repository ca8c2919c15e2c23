/* The writer: a new version of a zone, written in place as the difference to the current one.
 * Contract: include/fedenum/store.h ("writing"). One LMDB write transaction per writer: the
 * version becomes visible (and durable) at mdb_txn_commit, all at once, or not at all. */
#include "fedenum/store.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

enum wmode { MODE_NONE, MODE_ORDERED, MODE_CHANGE };

/* Whole-version mode, per database: where the merge with the stored nodes stands. */
struct merge {
	MDB_cursor *c;
	uint8_t last[FE__VKEY_CAP]; /* last key given (data id | key) */
	size_t last_len;
};

struct fe_store_writer {
	struct fe_store *st;
	MDB_txn *txn;
	uint64_t version; /* new at this commit */
	uint64_t data_id; /* key prefix, kept across commits */
	bool has_old;
	bool fresh; /* nothing stored under data_id: plain appends */
	enum wmode mode;
	struct fe_store_zone_rec old;
	uint8_t apex_key[FE_WIRE_KEY_MAX];
	size_t apex_key_len;
	struct merge m_rr, m_n3;
	uint8_t kbuf[FE__VKEY_CAP];
	uint8_t pfx[FE__VER_LEN];
	struct fe_store_write_stats stats;
	struct fe__jdiff diff;
};

static int map_mdb(int rc, const char *what)
{
	return fe__store_map_mdb(rc, what);
}

static bool has_pfx(const MDB_val *k, const uint8_t *pfx)
{
	return k->mv_size >= FE__VER_LEN && memcmp(k->mv_data, pfx, FE__VER_LEN) == 0;
}

int fe_store_writer_begin(struct fe_store *st, const uint8_t *apex, size_t apex_len,
                          struct fe_store_writer **out)
{
	struct fe_store_writer *w;
	int rc, err;

	*out = NULL;
	if (st->read_only || !st->has_journal)
		return FE_EPERM;
	if (fe_wire_name_len(apex, apex_len) != (int)apex_len)
		return FE_EINVAL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return FE_ENOMEM;
	w->st = st;
	int klen = fe_wire_name_key(apex, apex_len, w->apex_key, sizeof(w->apex_key));
	if (klen < 0) {
		err = klen;
		goto out_free;
	}
	if (klen == 0) {
		err = FE_ENOTSUP; /* the root zone: LMDB keys cannot be empty */
		goto out_free;
	}
	if ((size_t)klen > st->max_key - FE__VER_LEN) {
		err = FE_ERANGE;
		goto out_free;
	}
	w->apex_key_len = (size_t)klen;

	/* Blocks while another writer (thread or process) holds LMDB's writer lock. */
	if ((rc = mdb_txn_begin(st->env, NULL, 0, &w->txn)) != MDB_SUCCESS) {
		err = map_mdb(rc, "writer txn");
		goto out_free;
	}
	MDB_val k = {w->apex_key_len, w->apex_key};
	MDB_val v;
	rc = mdb_get(w->txn, st->dbi_zones, &k, &v);
	if (rc == MDB_SUCCESS) {
		if (v.mv_size < sizeof(w->old)) {
			err = FE_EFORMAT;
			goto out_abort;
		}
		memcpy(&w->old, v.mv_data, sizeof(w->old));
		w->has_old = true;
	} else if (rc != MDB_NOTFOUND) {
		err = map_mdb(rc, "writer zone");
		goto out_abort;
	}
	err = fe__meta_get_u64(w->txn, st->dbi_meta, fe__meta_next_version, &w->version);
	if (err != FE_OK)
		goto out_abort;
	if (w->version == 0 || w->version == UINT64_MAX) {
		err = FE_EFORMAT;
		goto out_abort;
	}
	err = fe__meta_put_u64(w->txn, st->dbi_meta, fe__meta_next_version, w->version + 1u);
	if (err != FE_OK)
		goto out_abort;
	/* A new zone takes this version as its data id: ids only grow, so its keys sort after
	 * every stored key and MDB_APPEND holds for the whole first load. */
	w->data_id = w->has_old ? fe__zone_data_id(&w->old) : w->version;
	w->fresh = !w->has_old;
	fe__put_be64(w->pfx, w->data_id);
	if ((rc = mdb_cursor_open(w->txn, st->dbi_rr, &w->m_rr.c)) != MDB_SUCCESS ||
	    (rc = mdb_cursor_open(w->txn, st->dbi_nsec3, &w->m_n3.c)) != MDB_SUCCESS) {
		err = map_mdb(rc, "writer cursor");
		goto out_abort;
	}
	w->diff.enabled = w->has_old;
	w->diff.limit = st->journal_max_bytes;
	*out = w;
	return FE_OK;

out_abort:
	mdb_txn_abort(w->txn); /* also closes write cursors */
out_free:
	free(w);
	return err;
}

int fe_store_writer_current_serial(struct fe_store_writer *w, uint32_t *serial)
{
	if (!w->has_old)
		return FE_ENOENT;
	*serial = w->old.serial;
	return FE_OK;
}

int fe_store_writer_current(struct fe_store_writer *w, struct fe_store_zone_rec *out)
{
	if (!w->has_old)
		return FE_ENOENT;
	*out = w->old;
	return FE_OK;
}

static bool set_mode(struct fe_store_writer *w, enum wmode m)
{
	if (w->mode != MODE_NONE && w->mode != m)
		return false;
	w->mode = m;
	return true;
}

/* Delete the entry under the cursor, recording its RRs as removed. */
static int del_current(struct fe_store_writer *w, MDB_cursor *c, const MDB_val *v, bool n3)
{
	int err = fe__jdiff_nodes(&w->diff, v->mv_data, v->mv_size, NULL, 0);
	if (err != FE_OK)
		return err;
	int rc = mdb_cursor_del(c, 0);
	if (rc != MDB_SUCCESS)
		return map_mdb(rc, "delete node");
	if (n3)
		w->stats.nsec3_deleted++;
	else
		w->stats.nodes_deleted++;
	return FE_OK;
}

/* First stored key of the zone after @after (exclusive; @after_len 0: from the start). */
static int first_after(struct fe_store_writer *w, MDB_cursor *c, const uint8_t *after,
                       size_t after_len, MDB_val *k, MDB_val *v)
{
	k->mv_size = after_len ? after_len : FE__VER_LEN;
	k->mv_data = (void *)(after_len ? after : w->pfx);
	int rc = mdb_cursor_get(c, k, v, MDB_SET_RANGE);
	if (rc == MDB_SUCCESS && after_len &&
	    fe_wire_key_cmp(k->mv_data, k->mv_size, after, after_len) == 0)
		rc = mdb_cursor_get(c, k, v, MDB_NEXT);
	if (rc == MDB_SUCCESS && !has_pfx(k, w->pfx))
		rc = MDB_NOTFOUND;
	return map_mdb(rc, "writer seek");
}

/* Delete the stored keys of the zone after the last one given and before @upto (NULL: to
 * the end of the zone). Re-seeks after each delete, so page merges cannot skip entries. */
static int sweep(struct fe_store_writer *w, struct merge *m, const uint8_t *upto, size_t upto_len,
                 bool n3)
{
	MDB_val k, v;
	int err;
	for (;;) {
		err = first_after(w, m->c, m->last, m->last_len, &k, &v);
		if (err == FE_ENOENT)
			return FE_OK;
		if (err != FE_OK)
			return err;
		if (upto && fe_wire_key_cmp(k.mv_data, k.mv_size, upto, upto_len) >= 0)
			return FE_OK;
		if ((err = del_current(w, m->c, &v, n3)) != FE_OK)
			return err;
	}
}

static int put_ordered(struct fe_store_writer *w, struct merge *m, const uint8_t *key,
                       size_t key_len, const void *blob, size_t blob_len, bool n3)
{
	struct fe_store_node node;
	MDB_val k, v;
	int rc, err;

	if (!set_mode(w, MODE_ORDERED))
		return FE_EINVAL;
	size_t n = fe__make_vkey(w->kbuf, w->data_id, key, key_len);
	if (n == 0 || n > w->st->max_key)
		return FE_ERANGE;
	if (m->last_len && fe_wire_key_cmp(w->kbuf, n, m->last, m->last_len) <= 0)
		return FE_EINVAL; /* not strictly ascending */
	/* Never store a blob that readers would reject. */
	if (fe_store_node_decode(blob, blob_len, &node) != FE_OK)
		return FE_EFORMAT;
	k.mv_size = n;
	k.mv_data = w->kbuf;
	v.mv_size = blob_len;
	v.mv_data = (void *)blob;
	if (w->fresh) {
		rc = mdb_cursor_put(m->c, &k, &v, MDB_APPEND);
		if (rc == MDB_KEYEXIST) {
			fe_log_err("store: data id %llu collides with stored keys",
			           (unsigned long long)w->data_id);
			return FE_EIO;
		}
		if (rc != MDB_SUCCESS)
			return map_mdb(rc, "put");
	} else {
		/* Merge: stored keys between the last one given and this one are gone. */
		if ((err = sweep(w, m, w->kbuf, n, n3)) != FE_OK)
			return err;
		MDB_val sk = {n, w->kbuf}, sv;
		rc = mdb_cursor_get(m->c, &sk, &sv, MDB_SET_KEY);
		if (rc == MDB_SUCCESS && sv.mv_size == blob_len &&
		    memcmp(sv.mv_data, blob, blob_len) == 0) {
			if (n3)
				w->stats.nsec3_unchanged++;
			else
				w->stats.nodes_unchanged++;
			goto done;
		}
		if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
			return map_mdb(rc, "get");
		err = fe__jdiff_nodes(&w->diff, rc == MDB_SUCCESS ? sv.mv_data : NULL,
		                      rc == MDB_SUCCESS ? sv.mv_size : 0, blob, blob_len);
		if (err != FE_OK)
			return err;
		k.mv_size = n;
		k.mv_data = w->kbuf;
		if ((rc = mdb_put(w->txn, n3 ? w->st->dbi_nsec3 : w->st->dbi_rr, &k, &v, 0)) !=
		    MDB_SUCCESS)
			return map_mdb(rc, "put");
	}
	if (n3)
		w->stats.nsec3_written++;
	else
		w->stats.nodes_written++;
done:
	memcpy(m->last, w->kbuf, n);
	m->last_len = n;
	return FE_OK;
}

static bool in_zone(const struct fe_store_writer *w, const uint8_t *key, size_t key_len)
{
	return key_len >= w->apex_key_len && memcmp(key, w->apex_key, w->apex_key_len) == 0;
}

int fe_store_writer_put_node(struct fe_store_writer *w, const uint8_t *key, size_t key_len,
                             const void *blob, size_t blob_len)
{
	if (!in_zone(w, key, key_len))
		return FE_EINVAL;
	return put_ordered(w, &w->m_rr, key, key_len, blob, blob_len, false);
}

int fe_store_writer_put_nsec3(struct fe_store_writer *w, const uint8_t *hash, size_t hash_len,
                              const void *blob, size_t blob_len)
{
	if (hash_len == 0 || hash_len > 64)
		return FE_EINVAL;
	return put_ordered(w, &w->m_n3, hash, hash_len, blob, blob_len, true);
}

/* ---- change mode ----------------------------------------------------------------------- */

static int ch_key(struct fe_store_writer *w, const uint8_t *key, size_t key_len, bool n3,
                  MDB_val *k)
{
	if (!set_mode(w, MODE_CHANGE))
		return FE_EINVAL;
	if (n3 ? (key_len == 0 || key_len > 64) : !in_zone(w, key, key_len))
		return FE_EINVAL;
	size_t n = fe__make_vkey(w->kbuf, w->data_id, key, key_len);
	if (n == 0 || n > w->st->max_key)
		return FE_ERANGE;
	k->mv_size = n;
	k->mv_data = w->kbuf;
	return FE_OK;
}

static int ch_get(struct fe_store_writer *w, const uint8_t *key, size_t key_len, bool n3,
                  struct fe_store_node *out)
{
	MDB_val k, v;
	int err = ch_key(w, key, key_len, n3, &k);
	if (err != FE_OK)
		return err;
	int rc = mdb_get(w->txn, n3 ? w->st->dbi_nsec3 : w->st->dbi_rr, &k, &v);
	if (rc != MDB_SUCCESS)
		return map_mdb(rc, "writer get");
	return fe_store_node_decode(v.mv_data, v.mv_size, out);
}

static int ch_set(struct fe_store_writer *w, const uint8_t *key, size_t key_len, bool n3,
                  const void *blob, size_t blob_len)
{
	struct fe_store_node node;
	MDB_dbi dbi = n3 ? w->st->dbi_nsec3 : w->st->dbi_rr;
	MDB_val k, v;
	int err = ch_key(w, key, key_len, n3, &k);
	if (err != FE_OK)
		return err;
	if (fe_store_node_decode(blob, blob_len, &node) != FE_OK)
		return FE_EFORMAT;
	int rc = mdb_get(w->txn, dbi, &k, &v);
	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
		return map_mdb(rc, "writer get");
	if (rc == MDB_SUCCESS && v.mv_size == blob_len && memcmp(v.mv_data, blob, blob_len) == 0) {
		if (n3)
			w->stats.nsec3_unchanged++;
		else
			w->stats.nodes_unchanged++;
		return FE_OK;
	}
	err = fe__jdiff_nodes(&w->diff, rc == MDB_SUCCESS ? v.mv_data : NULL,
	                      rc == MDB_SUCCESS ? v.mv_size : 0, blob, blob_len);
	if (err != FE_OK)
		return err;
	v.mv_size = blob_len;
	v.mv_data = (void *)blob;
	if ((rc = mdb_put(w->txn, dbi, &k, &v, 0)) != MDB_SUCCESS)
		return map_mdb(rc, "writer put");
	if (n3)
		w->stats.nsec3_written++;
	else
		w->stats.nodes_written++;
	return FE_OK;
}

static int ch_del(struct fe_store_writer *w, const uint8_t *key, size_t key_len, bool n3)
{
	MDB_cursor *c = n3 ? w->m_n3.c : w->m_rr.c;
	MDB_val k, v;
	int err = ch_key(w, key, key_len, n3, &k);
	if (err != FE_OK)
		return err;
	int rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	if (rc != MDB_SUCCESS)
		return map_mdb(rc, "writer del");
	return del_current(w, c, &v, n3);
}

int fe_store_writer_get_node(struct fe_store_writer *w, const uint8_t *key, size_t key_len,
                             struct fe_store_node *out)
{
	return ch_get(w, key, key_len, false, out);
}

int fe_store_writer_set_node(struct fe_store_writer *w, const uint8_t *key, size_t key_len,
                             const void *blob, size_t blob_len)
{
	return ch_set(w, key, key_len, false, blob, blob_len);
}

int fe_store_writer_del_node(struct fe_store_writer *w, const uint8_t *key, size_t key_len)
{
	return ch_del(w, key, key_len, false);
}

int fe_store_writer_get_nsec3(struct fe_store_writer *w, const uint8_t *hash, size_t hash_len,
                              struct fe_store_node *out)
{
	return ch_get(w, hash, hash_len, true, out);
}

int fe_store_writer_set_nsec3(struct fe_store_writer *w, const uint8_t *hash, size_t hash_len,
                              const void *blob, size_t blob_len)
{
	return ch_set(w, hash, hash_len, true, blob, blob_len);
}

int fe_store_writer_del_nsec3(struct fe_store_writer *w, const uint8_t *hash, size_t hash_len)
{
	return ch_del(w, hash, hash_len, true);
}

/* Seek @c to the last entry of the zone strictly before @k (@k NULL: the zone's last). */
static int seek_before(struct fe_store_writer *w, MDB_cursor *c, const MDB_val *k, MDB_val *ok,
                       MDB_val *ov)
{
	uint8_t end[FE__VER_LEN];
	MDB_val s;
	if (k) {
		s = *k;
	} else {
		fe__put_be64(end, w->data_id + 1);
		s.mv_size = sizeof(end);
		s.mv_data = end;
	}
	*ok = s;
	int rc = mdb_cursor_get(c, ok, ov, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(c, ok, ov, MDB_LAST);
	else if (rc == MDB_SUCCESS)
		rc = mdb_cursor_get(c, ok, ov, MDB_PREV);
	if (rc == MDB_SUCCESS &&
	    fe_wire_key_cmp(ok->mv_data, ok->mv_size, s.mv_data, s.mv_size) >= 0)
		rc = mdb_cursor_get(c, ok, ov, MDB_PREV);
	if (rc == MDB_SUCCESS && !has_pfx(ok, w->pfx))
		rc = MDB_NOTFOUND;
	return map_mdb(rc, "writer seek");
}

static bool flags_ok(const MDB_val *v, uint16_t need)
{
	return v->mv_size >= 2 && (fe_get_u16(v->mv_data) & need) == need;
}

/* The entry of the zone after (@next) or before @self (a vkey) whose blob has @need flags,
 * wrapping around; FE_ENOENT when only @self (or nothing) qualifies. */
static int near(struct fe_store_writer *w, MDB_cursor *c, const MDB_val *self, bool next,
                uint16_t need, MDB_val *fk, MDB_val *fv)
{
	int err = next ? first_after(w, c, self->mv_data, self->mv_size, fk, fv)
	               : seek_before(w, c, self, fk, fv);
	for (int wrapped = 0; wrapped < 2; wrapped++) {
		while (err == FE_OK && !flags_ok(fv, need)) {
			int rc = mdb_cursor_get(c, fk, fv, next ? MDB_NEXT : MDB_PREV);
			if (rc == MDB_SUCCESS && !has_pfx(fk, w->pfx))
				rc = MDB_NOTFOUND;
			err = map_mdb(rc, "writer seek");
		}
		if (err != FE_ENOENT || wrapped)
			break;
		/* RFC 4034 §4.1.1, RFC 5155 §3.1.7: the last one's next is the first */
		err = next ? first_after(w, c, NULL, 0, fk, fv) : seek_before(w, c, NULL, fk, fv);
	}
	if (err != FE_OK)
		return err;
	if (fk->mv_size == self->mv_size && memcmp(fk->mv_data, self->mv_data, self->mv_size) == 0)
		return FE_ENOENT;
	return FE_OK;
}

int fe_store_writer_nsec3_near(struct fe_store_writer *w, const uint8_t *hash, size_t hash_len,
                               bool next, const uint8_t **hash_out, size_t *hash_len_out,
                               struct fe_store_node *out)
{
	MDB_val k, fk, fv;
	uint8_t self[FE__VKEY_CAP];
	int err = ch_key(w, hash, hash_len, true, &k);
	if (err != FE_OK)
		return err;
	memcpy(self, k.mv_data, k.mv_size);
	k.mv_data = self;
	if ((err = near(w, w->m_n3.c, &k, next, 0, &fk, &fv)) != FE_OK)
		return err;
	*hash_out = (const uint8_t *)fk.mv_data + FE__VER_LEN;
	*hash_len_out = fk.mv_size - FE__VER_LEN;
	return fe_store_node_decode(fv.mv_data, fv.mv_size, out);
}

int fe_store_writer_node_near(struct fe_store_writer *w, const uint8_t *key, size_t key_len,
                              bool next, uint16_t need_flags, const uint8_t **key_out,
                              size_t *key_len_out, struct fe_store_node *out)
{
	MDB_val k, fk, fv;
	uint8_t self[FE__VKEY_CAP];
	int err = ch_key(w, key, key_len, false, &k);
	if (err != FE_OK)
		return err;
	memcpy(self, k.mv_data, k.mv_size);
	k.mv_data = self;
	if ((err = near(w, w->m_rr.c, &k, next, need_flags, &fk, &fv)) != FE_OK)
		return err;
	*key_out = (const uint8_t *)fk.mv_data + FE__VER_LEN;
	*key_len_out = fk.mv_size - FE__VER_LEN;
	return fe_store_node_decode(fv.mv_data, fv.mv_size, out);
}

int fe_store_writer_has_below(struct fe_store_writer *w, const uint8_t *key, size_t key_len,
                              bool *yes)
{
	MDB_val k, v;
	*yes = false;
	int err = ch_key(w, key, key_len, false, &k);
	if (err != FE_OK)
		return err;
	size_t n = k.mv_size;
	/* Descendants' keys extend this one and sort right after it (RFC 4034 §6.1). */
	err = first_after(w, w->m_rr.c, w->kbuf, n, &k, &v);
	if (err == FE_ENOENT)
		return FE_OK;
	if (err != FE_OK)
		return err;
	*yes = k.mv_size > n && memcmp(k.mv_data, w->kbuf, n) == 0;
	return FE_OK;
}

void fe_store_writer_stats(const struct fe_store_writer *w, struct fe_store_write_stats *out)
{
	*out = w->stats;
	out->rrs_removed = w->diff.count[0];
	out->rrs_added = w->diff.count[1];
	out->journal_dropped = w->diff.over;
}

/* ---- commit ---------------------------------------------------------------------------- */

int fe_store_writer_commit_stats(struct fe_store_writer *w, struct fe_store_zone_rec *rec,
                                 struct fe_store_write_stats *stats)
{
	struct fe_store *st = w->st;
	uint8_t key[FE_WIRE_KEY_MAX];
	int rc, err;

	/* The record must describe the zone this writer was opened for. */
	int klen = fe_wire_name_key(rec->apex, rec->apex_len, key, sizeof(key));
	if (rec->apex_len == 0 || klen < 0 || (size_t)klen != w->apex_key_len ||
	    memcmp(key, w->apex_key, w->apex_key_len) != 0) {
		err = FE_EINVAL;
		goto out_abort;
	}
	/* Whole version: what was stored after the last node given is not in it. (A writer
	 * given no node at all in this mode empties the zone's data, as before.) */
	if (!w->fresh && w->mode != MODE_CHANGE) {
		if ((err = sweep(w, &w->m_rr, NULL, 0, false)) != FE_OK ||
		    (err = sweep(w, &w->m_n3, NULL, 0, true)) != FE_OK)
			goto out_abort;
	}
	rec->version = w->version;
	rec->data_id = w->data_id;
	if (rec->loaded_at_s == 0)
		rec->loaded_at_s = fe_time_wall_s();

	MDB_val k = {w->apex_key_len, w->apex_key};
	MDB_val v = {st->zrec_vsize, NULL};
	if ((rc = mdb_put(w->txn, st->dbi_zones, &k, &v, MDB_RESERVE)) != MDB_SUCCESS) {
		err = map_mdb(rc, "put zone");
		goto out_abort;
	}
	memset(v.mv_data, 0, v.mv_size);
	memcpy(v.mv_data, rec, sizeof(*rec));

	if (w->has_old) {
		err = fe__journal_commit(st, w->txn, w->apex_key, w->apex_key_len, w->old.serial,
		                         rec->serial, &w->diff);
		if (err != FE_OK)
			goto out_abort;
	}
	if (stats)
		fe_store_writer_stats(w, stats);
	rc = mdb_txn_commit(w->txn);
	fe__jdiff_free(&w->diff);
	free(w);
	return map_mdb(rc, "commit");

out_abort:
	fe_store_writer_abort(w);
	return err;
}

int fe_store_writer_commit(struct fe_store_writer *w, struct fe_store_zone_rec *rec)
{
	return fe_store_writer_commit_stats(w, rec, NULL);
}

void fe_store_writer_abort(struct fe_store_writer *w)
{
	if (w == NULL)
		return;
	mdb_txn_abort(w->txn);
	fe__jdiff_free(&w->diff);
	free(w);
}
