/* The per-zone journal: each commit's RR-level difference (removed and added RRs), kept in
 * the `journal` database for IXFR. Format and bounds: include/fedenum/store.h ("Journal").
 * The difference is derived from the node blobs that a commit changes: both blobs are
 * decoded and their RRsets compared, so the whole-file path and the change path produce the
 * same entry for the same change. */
#include "fedenum/store.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

#define ENTRY_HDR 20u
#define SEQ_LEN   8u
#define JKEY_CAP  (2u + FE_WIRE_KEY_MAX + SEQ_LEN)

/* ---- the difference of two blobs ------------------------------------------------------- */

static int jb_put(struct fe__jdiff *d, int side, const uint8_t *owner, size_t owner_len,
                  uint16_t type, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	size_t need = owner_len + 10u + rdlen;
	if (d->over)
		return FE_OK;
	if (d->len[0] + d->len[1] + need > d->limit) {
		/* Too big to keep: stop collecting, the commit clears the journal. */
		d->over = true;
		for (int i = 0; i < 2; i++) {
			free(d->buf[i]);
			d->buf[i] = NULL;
			d->len[i] = d->cap[i] = 0;
		}
		return FE_OK;
	}
	if (d->cap[side] - d->len[side] < need) {
		size_t cap = d->cap[side] ? d->cap[side] : 4096;
		while (cap - d->len[side] < need)
			cap *= 2;
		uint8_t *p = realloc(d->buf[side], cap);
		if (p == NULL)
			return FE_ENOMEM;
		d->buf[side] = p;
		d->cap[side] = cap;
	}
	uint8_t *p = d->buf[side] + d->len[side];
	memcpy(p, owner, owner_len);
	p += owner_len;
	fe_put_be16(p, type);
	fe_put_be16(p + 2, FE_C_IN);
	fe_put_be32(p + 4, ttl);
	fe_put_be16(p + 8, rdlen);
	memcpy(p + 10, rdata, rdlen);
	d->len[side] += need;
	return FE_OK;
}

/* One record of an RRset, in blob order: RRs first, then the RRSIGs. */
struct rec {
	const uint8_t *rd;
	uint16_t len;
	bool sig;
};

static bool rec_next(const struct fe_store_rrset *rs, size_t *it, struct rec *r)
{
	return fe_store_rrset_next(rs, it, &r->rd, &r->len, &r->sig);
}

/* RRs sort before RRSIGs, each group by RDATA (RFC 4034 §6.3), as zone/ writes them. */
static int rec_cmp(const struct rec *a, const struct rec *b)
{
	if (a->sig != b->sig)
		return a->sig ? 1 : -1;
	return fe_wire_key_cmp(a->rd, a->len, b->rd, b->len);
}

static int put_rec(struct fe__jdiff *d, int side, const struct fe_store_node *n,
                   const struct fe_store_rrset *rs, const struct rec *r)
{
	d->count[side]++;
	return jb_put(d, side, n->owner, n->owner_len, r->sig ? FE_T_RRSIG : rs->type, rs->ttl,
	              r->rd, r->len);
}

static int put_set(struct fe__jdiff *d, int side, const struct fe_store_node *n,
                   const struct fe_store_rrset *rs)
{
	struct rec r;
	size_t it = 0;
	int err = FE_OK;
	while (err == FE_OK && rec_next(rs, &it, &r))
		err = put_rec(d, side, n, rs, &r);
	return err;
}

/* Two RRsets of one type: merge their sorted records. */
static int diff_sets(struct fe__jdiff *d, const struct fe_store_node *on,
                     const struct fe_store_rrset *os, const struct fe_store_node *nn,
                     const struct fe_store_rrset *ns)
{
	struct rec a, b;
	size_t ia = 0, ib = 0;
	int err = FE_OK;
	if (os->ttl != ns->ttl) {
		/* The TTL is the RRset's: removed and added whole (RFC 2181 §5.2). */
		if ((err = put_set(d, 0, on, os)) != FE_OK)
			return err;
		return put_set(d, 1, nn, ns);
	}
	bool ha = rec_next(os, &ia, &a), hb = rec_next(ns, &ib, &b);
	while (err == FE_OK && (ha || hb)) {
		int c = !ha ? 1 : !hb ? -1 : rec_cmp(&a, &b);
		if (c < 0) {
			err = put_rec(d, 0, on, os, &a);
			ha = rec_next(os, &ia, &a);
		} else if (c > 0) {
			err = put_rec(d, 1, nn, ns, &b);
			hb = rec_next(ns, &ib, &b);
		} else {
			ha = rec_next(os, &ia, &a);
			hb = rec_next(ns, &ib, &b);
		}
	}
	return err;
}

int fe__jdiff_nodes(struct fe__jdiff *d, const void *old, size_t old_len, const void *new_blob,
                    size_t new_len)
{
	struct fe_store_node on, nn;
	struct fe_store_rrset a, b;
	size_t ia = 0, ib = 0;
	int err = FE_OK;

	if (!d->enabled || d->over)
		return FE_OK;
	bool has_o = old && fe_store_node_decode(old, old_len, &on) == FE_OK;
	bool has_n = new_blob && fe_store_node_decode(new_blob, new_len, &nn) == FE_OK;
	if (has_o && has_n &&
	    (on.owner_len != nn.owner_len || memcmp(on.owner, nn.owner, on.owner_len) != 0)) {
		/* The owner's case changed: every RR changed with it. */
		if ((err = fe__jdiff_nodes(d, old, old_len, NULL, 0)) != FE_OK)
			return err;
		return fe__jdiff_nodes(d, NULL, 0, new_blob, new_len);
	}
	bool ha = has_o && fe_store_node_next(&on, &ia, &a);
	bool hb = has_n && fe_store_node_next(&nn, &ib, &b);
	while (err == FE_OK && (ha || hb)) {
		int c = !ha ? 1 : !hb ? -1 : (a.type < b.type ? -1 : a.type > b.type ? 1 : 0);
		if (c < 0) {
			err = put_set(d, 0, &on, &a);
			ha = fe_store_node_next(&on, &ia, &a);
		} else if (c > 0) {
			err = put_set(d, 1, &nn, &b);
			hb = fe_store_node_next(&nn, &ib, &b);
		} else {
			err = diff_sets(d, &on, &a, &nn, &b);
			ha = fe_store_node_next(&on, &ia, &a);
			hb = fe_store_node_next(&nn, &ib, &b);
		}
	}
	return err;
}

void fe__jdiff_free(struct fe__jdiff *d)
{
	free(d->buf[0]);
	free(d->buf[1]);
	memset(d, 0, sizeof(*d));
}

/* ---- the journal database -------------------------------------------------------------- */

/* key_len(2) | apex key | seq(8): the length makes a zone's entries a range of their own
 * (an apex key is a prefix of its sub-zones' keys). */
static size_t jkey(uint8_t *buf, const uint8_t *apex_key, size_t klen, uint64_t seq)
{
	fe_put_be16(buf, (uint16_t)klen);
	memcpy(buf + 2, apex_key, klen);
	fe__put_be64(buf + 2 + klen, seq);
	return 2u + klen + SEQ_LEN;
}

static bool is_zone_key(const MDB_val *k, const uint8_t *pfx, size_t pfx_len)
{
	return k->mv_size == pfx_len + SEQ_LEN && memcmp(k->mv_data, pfx, pfx_len) == 0;
}

/* The zone's entries: count, bytes, the newest seq. */
static int scan(MDB_cursor *c, const uint8_t *pfx, size_t pfx_len, uint32_t *n, uint64_t *bytes,
                uint64_t *last_seq)
{
	uint8_t k0[JKEY_CAP];
	memcpy(k0, pfx, pfx_len);
	memset(k0 + pfx_len, 0, SEQ_LEN);
	MDB_val k = {pfx_len + SEQ_LEN, k0}, v;
	*n = 0;
	*bytes = 0;
	*last_seq = 0;
	int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == MDB_SUCCESS && is_zone_key(&k, pfx, pfx_len)) {
		(*n)++;
		*bytes += v.mv_size;
		*last_seq = fe__get_be64((const uint8_t *)k.mv_data + pfx_len);
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	return rc == MDB_SUCCESS || rc == MDB_NOTFOUND ? FE_OK : fe__store_map_mdb(rc, "journal");
}

/* Delete the zone's oldest entry (or all of them with @all). */
static int drop_oldest(MDB_cursor *c, const uint8_t *pfx, size_t pfx_len, bool all)
{
	uint8_t k0[JKEY_CAP];
	memcpy(k0, pfx, pfx_len);
	memset(k0 + pfx_len, 0, SEQ_LEN);
	for (;;) {
		MDB_val k = {pfx_len + SEQ_LEN, k0}, v;
		int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		if (rc == MDB_NOTFOUND || (rc == MDB_SUCCESS && !is_zone_key(&k, pfx, pfx_len)))
			return FE_OK;
		if (rc != MDB_SUCCESS)
			return fe__store_map_mdb(rc, "journal seek");
		if ((rc = mdb_cursor_del(c, 0)) != MDB_SUCCESS)
			return fe__store_map_mdb(rc, "journal del");
		if (!all)
			return FE_OK;
	}
}

int fe__journal_clear(struct fe_store *st, MDB_txn *txn, const uint8_t *apex_key,
                      size_t apex_key_len)
{
	uint8_t pfx[JKEY_CAP];
	MDB_cursor *c;
	if (!st->has_journal)
		return FE_OK;
	size_t pl = jkey(pfx, apex_key, apex_key_len, 0) - SEQ_LEN;
	int rc = mdb_cursor_open(txn, st->dbi_journal, &c);
	if (rc != MDB_SUCCESS)
		return fe__store_map_mdb(rc, "journal cursor");
	int err = drop_oldest(c, pfx, pl, true);
	mdb_cursor_close(c);
	return err;
}

int fe__journal_commit(struct fe_store *st, MDB_txn *txn, const uint8_t *apex_key,
                       size_t apex_key_len, uint32_t from, uint32_t to, const struct fe__jdiff *d)
{
	uint8_t key[JKEY_CAP];
	MDB_cursor *c;
	uint32_t n;
	uint64_t bytes, last;
	int rc, err;

	if (fe_serial_cmp(to, from) != 1 || d->over || d->count[0] > UINT32_MAX ||
	    d->count[1] > UINT32_MAX) {
		if (d->over)
			fe_log_info(
			        "store: the change to serial %u is larger than the journal "
			        "bound (%llu bytes): journal cleared, IXFR from before it needs "
			        "a full transfer",
			        to, (unsigned long long)st->journal_max_bytes);
		return fe__journal_clear(st, txn, apex_key, apex_key_len);
	}
	size_t pl = jkey(key, apex_key, apex_key_len, 0) - SEQ_LEN;
	if ((rc = mdb_cursor_open(txn, st->dbi_journal, &c)) != MDB_SUCCESS)
		return fe__store_map_mdb(rc, "journal cursor");
	if ((err = scan(c, key, pl, &n, &bytes, &last)) != FE_OK)
		goto out;
	size_t klen = jkey(key, apex_key, apex_key_len, last + 1u);
	size_t vlen = ENTRY_HDR + d->len[0] + d->len[1];
	MDB_val k = {klen, key}, v = {vlen, NULL};
	if ((rc = mdb_put(txn, st->dbi_journal, &k, &v, MDB_RESERVE)) != MDB_SUCCESS) {
		err = fe__store_map_mdb(rc, "journal put");
		goto out;
	}
	uint8_t *p = v.mv_data;
	fe_put_be32(p, from);
	fe_put_be32(p + 4, to);
	fe_put_be32(p + 8, (uint32_t)d->count[0]);
	fe_put_be32(p + 12, (uint32_t)d->count[1]);
	fe_put_be32(p + 16, (uint32_t)d->len[0]);
	if (d->len[0])
		memcpy(p + ENTRY_HDR, d->buf[0], d->len[0]);
	if (d->len[1])
		memcpy(p + ENTRY_HDR + d->len[0], d->buf[1], d->len[1]);
	/* Bounds: the oldest entries go first, in this same transaction. */
	n++;
	bytes += vlen;
	while (n > st->journal_max_entries || bytes > st->journal_max_bytes) {
		MDB_val ok = {pl + SEQ_LEN, key}, ov;
		memset(key + pl, 0, SEQ_LEN);
		rc = mdb_cursor_get(c, &ok, &ov, MDB_SET_RANGE);
		if (rc != MDB_SUCCESS || !is_zone_key(&ok, key, pl))
			break;
		bytes -= ov.mv_size;
		n--;
		if ((rc = mdb_cursor_del(c, 0)) != MDB_SUCCESS) {
			err = fe__store_map_mdb(rc, "journal trim");
			goto out;
		}
	}
	err = FE_OK;
out:
	mdb_cursor_close(c);
	return err;
}

/* ---- reading ----------------------------------------------------------------------------- */

static int entry_from(const MDB_val *k, const MDB_val *v, size_t pl,
                      struct fe_store_journal_entry *e)
{
	const uint8_t *p = v->mv_data;
	if (v->mv_size < ENTRY_HDR)
		return FE_EFORMAT;
	e->seq = fe__get_be64((const uint8_t *)k->mv_data + pl);
	e->serial_from = fe_get_be32(p);
	e->serial_to = fe_get_be32(p + 4);
	e->removed_count = fe_get_be32(p + 8);
	e->added_count = fe_get_be32(p + 12);
	e->removed_len = fe_get_be32(p + 16);
	if (e->removed_len > v->mv_size - ENTRY_HDR)
		return FE_EFORMAT;
	e->removed = p + ENTRY_HDR;
	e->added = e->removed + e->removed_len;
	e->added_len = v->mv_size - ENTRY_HDR - e->removed_len;
	return FE_OK;
}

static int open_read(struct fe_store *st, const uint8_t *apex, size_t apex_len, uint8_t *pfx,
                     size_t *pl, MDB_txn **txn, MDB_cursor **c)
{
	uint8_t akey[FE_WIRE_KEY_MAX];
	if (apex_len == 0 || fe_wire_name_len(apex, apex_len) != (int)apex_len)
		return FE_EINVAL;
	int klen = fe_wire_name_key(apex, apex_len, akey, sizeof(akey));
	if (klen <= 0)
		return klen < 0 ? FE_EINVAL : FE_ENOENT;
	if (!st->has_journal)
		return FE_ENOENT;
	*pl = jkey(pfx, akey, (size_t)klen, 0) - SEQ_LEN;
	int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, txn);
	if (rc != MDB_SUCCESS)
		return fe__store_map_mdb(rc, "journal txn");
	if ((rc = mdb_cursor_open(*txn, st->dbi_journal, c)) != MDB_SUCCESS) {
		mdb_txn_abort(*txn);
		return fe__store_map_mdb(rc, "journal cursor");
	}
	return FE_OK;
}

int fe_store_journal_read(struct fe_store *st, const uint8_t *apex, size_t apex_len, uint32_t from,
                          bool (*cb)(const struct fe_store_journal_entry *e, void *arg), void *arg)
{
	uint8_t pfx[JKEY_CAP];
	struct fe_store_journal_entry e;
	MDB_txn *txn;
	MDB_cursor *c;
	size_t pl;
	int err = open_read(st, apex, apex_len, pfx, &pl, &txn, &c);
	if (err != FE_OK)
		return err;
	memset(pfx + pl, 0, SEQ_LEN);
	MDB_val k = {pl + SEQ_LEN, pfx}, v;
	bool started = false;
	uint32_t want = from;
	int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	err = FE_ENOENT;
	while (rc == MDB_SUCCESS && is_zone_key(&k, pfx, pl)) {
		if ((err = entry_from(&k, &v, pl, &e)) != FE_OK)
			break;
		if (e.serial_from == want) {
			started = true;
			want = e.serial_to;
			if (!cb(&e, arg))
				break;
		} else if (started) {
			break; /* the chain ends here (cannot happen: cleared on a break) */
		}
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	if (err == FE_OK || err == FE_ENOENT) {
		if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
			err = fe__store_map_mdb(rc, "journal walk");
		else
			err = started ? FE_OK : FE_ENOENT;
	}
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	return err;
}

int fe_store_journal_info(struct fe_store *st, const uint8_t *apex, size_t apex_len,
                          struct fe_store_journal_info *out)
{
	uint8_t pfx[JKEY_CAP];
	struct fe_store_journal_entry e;
	MDB_txn *txn;
	MDB_cursor *c;
	size_t pl;
	memset(out, 0, sizeof(*out));
	int err = open_read(st, apex, apex_len, pfx, &pl, &txn, &c);
	if (err == FE_ENOENT)
		return FE_OK;
	if (err != FE_OK)
		return err;
	memset(pfx + pl, 0, SEQ_LEN);
	MDB_val k = {pl + SEQ_LEN, pfx}, v;
	int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == MDB_SUCCESS && is_zone_key(&k, pfx, pl)) {
		if ((err = entry_from(&k, &v, pl, &e)) != FE_OK)
			break;
		if (out->entries++ == 0)
			out->first_serial = e.serial_from;
		out->last_serial = e.serial_to;
		out->bytes += v.mv_size;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	if (err == FE_OK && rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
		err = fe__store_map_mdb(rc, "journal walk");
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	return err;
}

bool fe_store_rr_next(const uint8_t *p, size_t len, size_t *off, struct fe_store_rr *out)
{
	size_t o = *off;
	if (o >= len)
		return false;
	int nl = fe_wire_name_len(p + o, len - o);
	if (nl <= 0 || len - o - (size_t)nl < 10u)
		return false;
	out->owner = p + o;
	out->owner_len = (uint8_t)nl;
	o += (size_t)nl;
	out->type = fe_get_be16(p + o);
	out->rclass = fe_get_be16(p + o + 2);
	out->ttl = fe_get_be32(p + o + 4);
	out->rdlen = fe_get_be16(p + o + 8);
	o += 10u;
	if (len - o < out->rdlen)
		return false;
	out->rdata = p + o;
	*off = o + out->rdlen;
	return true;
}
