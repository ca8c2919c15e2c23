/* store/: versions that cost what changed: a commit writes only the nodes
 * that differ, journals the difference (bounded per zone), keeps the zone's data id; marks
 * follow the version; schema-1 records and stores still read. */
#include "fedenum/store.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "fe_test_name.h"

#include <criterion/criterion.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers ----------------------------------------------------------------------- */

static char tmpdir[256];

static void mk_tmp(void)
{
	const char *base = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/fe-store-XXXXXX", base ? base : "/tmp");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void rm_tmp(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

struct key {
	uint8_t b[FE_WIRE_KEY_MAX];
	size_t len;
	uint8_t name[FE_WIRE_NAME_MAX];
	size_t name_len;
};

static struct key K(const char *s) {
	struct key k;
	k.name_len = fe_test_wire_name(s, k.name);
	int n = fe_wire_name_key(k.name, k.name_len, k.b, sizeof(k.b));
	cr_assert(n >= 0, "key of %s", s);
	k.len = (size_t)n;
	return k;
}

/* Node blob with one TXT RRset holding @txt (or no RRset when NULL). */
static size_t
mkblob(uint8_t *b, const char *owner, uint16_t flags, const char *txt)
{
	uint8_t name[FE_WIRE_NAME_MAX];
	size_t nl = fe_test_wire_name(owner, name), o = 0;
	fe_put_u16(b, flags);
	o += 2;
	b[o++] = (uint8_t)nl;
	memcpy(b + o, name, nl);
	o += nl;
	b[o++] = 0; /* no hash */
	fe_put_u16(b + o, txt ? 1 : 0);
	o += 2;
	if (txt) {
		size_t tl = strlen(txt);
		fe_put_u16(b + o, FE_T_TXT);
		fe_put_u32(b + o + 2, 300);
		fe_put_u16(b + o + 6, 1);
		fe_put_u16(b + o + 8, 0);
		fe_put_u32(b + o + 10, (uint32_t)(2 + 1 + tl));
		o += 14;
		fe_put_u16(b + o, (uint16_t)(1 + tl));
		b[o + 2] = (uint8_t)tl;
		memcpy(b + o + 3, txt, tl);
		o += 3 + tl;
	}
	return o;
}

static struct fe_store *open_store(void)
{
	struct fe_store *st;
	struct fe_store_opts o = {.map_size_bytes = 256u << 20, .no_sync = true};
	cr_assert_eq(fe_store_open(tmpdir, &o, &st), FE_OK);
	return st;
}

static void rec_for(struct fe_store_zone_rec *rec, const char *apex, uint32_t serial)
{
	memset(rec, 0, sizeof(*rec));
	rec->apex_len = (uint8_t)fe_test_wire_name(apex, rec->apex);
	rec->serial = serial;
}

static const char *txt_of(const struct fe_store_node *n, char *buf)
{
	struct fe_store_rrset rs;
	const uint8_t *rd;
	uint16_t rl;
	bool sig;
	size_t it = 0;
	buf[0] = 0;
	if (!fe_store_node_find(n, FE_T_TXT, &rs))
		return buf;
	cr_assert(fe_store_rrset_next(&rs, &it, &rd, &rl, &sig));
	memcpy(buf, rd + 1, rd[0]);
	buf[rd[0]] = 0;
	return buf;
}

TestSuite(store_diff, .init = mk_tmp, .fini = rm_tmp);

/* ---- versions that cost what changed --------------------------------------- */

static struct fe_store *open_store_j(uint32_t max_entries, uint64_t max_bytes)
{
	struct fe_store *st;
	struct fe_store_opts o = {.map_size_bytes = 256u << 20,
	                          .no_sync = true,
	                          .journal_max_entries = max_entries,
	                          .journal_max_bytes = max_bytes};
	cr_assert_eq(fe_store_open(tmpdir, &o, &st), FE_OK);
	return st;
}

/* Commit @names with TXT @tag as serial @serial; stats of the write. */
static struct fe_store_write_stats commit_zone(struct fe_store *st, uint32_t serial,
                                               const char **names, size_t n, const char *tag)
{
	struct fe_store_writer *w;
	struct fe_store_write_stats ws;
	struct key a = K("e164.fed.");
	uint8_t blob[600];
	cr_assert_eq(fe_store_writer_begin(st, a.name, a.name_len, &w), FE_OK);
	for (size_t i = 0; i < n; i++) {
		struct key k = K(names[i]);
		size_t bl = mkblob(blob, names[i], 0, i == 0 ? "apex" : tag);
		cr_assert_eq(fe_store_writer_put_node(w, k.b, k.len, blob, bl), FE_OK);
	}
	struct fe_store_zone_rec rec;
	rec_for(&rec, "e164.fed.", serial);
	rec.node_count = n;
	cr_assert_eq(fe_store_writer_commit_stats(w, &rec, &ws), FE_OK);
	return ws;
}

struct jsum {
	unsigned entries;
	uint32_t first, last;
	unsigned removed, added;
	char last_added_txt[64];
};

static bool jsum_cb(const struct fe_store_journal_entry *e, void *arg)
{
	struct jsum *j = arg;
	if (j->entries++ == 0)
		j->first = e->serial_from;
	j->last = e->serial_to;
	j->removed += e->removed_count;
	j->added += e->added_count;
	struct fe_store_rr rr;
	size_t off = 0;
	while (fe_store_rr_next(e->added, e->added_len, &off, &rr)) {
		cr_assert_eq(rr.type, FE_T_TXT);
		cr_assert_eq(rr.ttl, 300);
		memcpy(j->last_added_txt, rr.rdata + 1, rr.rdata[0]);
		j->last_added_txt[rr.rdata[0]] = 0;
	}
	cr_assert_eq(off, e->added_len);
	return true;
}

Test(store_diff, writes_only_changed_nodes_and_journals)
{
	struct fe_store *st = open_store();
	const char *v1[] = {"e164.fed.", "1.e164.fed.", "2.e164.fed.", "3.e164.fed."};
	const char *v2[] = {"e164.fed.", "1.e164.fed.", "3.e164.fed.", "4.e164.fed."};
	struct key a = K("e164.fed.");
	struct fe_store_write_stats ws = commit_zone(st, 1, v1, 4, "one");
	cr_assert_eq(ws.nodes_written, 4);
	cr_assert_eq(ws.rrs_added, 0, "a zone's first version has no journal entry");

	/* v2: 1 and 3 unchanged (same blob), 2 gone, 4 new. */
	struct fe_store_writer *w;
	uint8_t blob[600];
	cr_assert_eq(fe_store_writer_begin(st, a.name, a.name_len, &w), FE_OK);
	for (size_t i = 0; i < 4; i++) {
		struct key k = K(v2[i]);
		size_t bl = mkblob(blob, v2[i], 0, i == 0 ? "apex" : i == 3 ? "four" : "one");
		cr_assert_eq(fe_store_writer_put_node(w, k.b, k.len, blob, bl), FE_OK);
	}
	/* Change-mode calls do not mix with a whole version. */
	struct fe_store_node n;
	cr_assert_eq(fe_store_writer_get_node(w, a.b, a.len, &n), FE_EINVAL);
	struct fe_store_zone_rec rec;
	rec_for(&rec, "e164.fed.", 2);
	cr_assert_eq(fe_store_writer_commit_stats(w, &rec, &ws), FE_OK);
	cr_assert_eq(ws.nodes_written, 1, "only the new node");
	cr_assert_eq(ws.nodes_unchanged, 3);
	cr_assert_eq(ws.nodes_deleted, 1);
	cr_assert_eq(ws.rrs_removed, 1);
	cr_assert_eq(ws.rrs_added, 1);
	struct fe_store_stat s;
	cr_assert_eq(fe_store_stat(st, &s), FE_OK);
	cr_assert_eq(s.rr_entries, 4);

	struct jsum j = {0};
	cr_assert_eq(fe_store_journal_read(st, a.name, a.name_len, 1, jsum_cb, &j), FE_OK);
	cr_assert_eq(j.entries, 1);
	cr_assert_eq(j.first, 1);
	cr_assert_eq(j.last, 2);
	cr_assert_str_eq(j.last_added_txt, "four");
	cr_assert_eq(fe_store_journal_read(st, a.name, a.name_len, 2, jsum_cb, &j), FE_ENOENT);

	/* Change mode: set, delete, has_below. */
	struct key k1 = K("1.e164.fed."), k5 = K("x.5.e164.fed."), k5p = K("5.e164.fed.");
	cr_assert_eq(fe_store_writer_begin(st, a.name, a.name_len, &w), FE_OK);
	size_t bl = mkblob(blob, "x.5.e164.fed.", 0, "five");
	cr_assert_eq(fe_store_writer_set_node(w, k5.b, k5.len, blob, bl), FE_OK);
	bool below = false;
	cr_assert_eq(fe_store_writer_has_below(w, k5p.b, k5p.len, &below), FE_OK);
	cr_assert(below);
	cr_assert_eq(fe_store_writer_has_below(w, k1.b, k1.len, &below), FE_OK);
	cr_assert(!below);
	cr_assert_eq(fe_store_writer_del_node(w, k1.b, k1.len), FE_OK);
	cr_assert_eq(fe_store_writer_del_node(w, k1.b, k1.len), FE_ENOENT);
	cr_assert_eq(fe_store_writer_get_node(w, k5.b, k5.len, &n), FE_OK);
	cr_assert_eq(fe_store_writer_put_node(w, k5.b, k5.len, blob, bl), FE_EINVAL);
	rec_for(&rec, "e164.fed.", 3);
	cr_assert_eq(fe_store_writer_commit_stats(w, &rec, &ws), FE_OK);
	cr_assert_eq(ws.nodes_written, 1);
	cr_assert_eq(ws.nodes_deleted, 1);
	cr_assert_eq(fe_store_stat(st, &s), FE_OK);
	cr_assert_eq(s.rr_entries, 4, "apex, 3, 4 and x.5: the rest untouched");
	memset(&j, 0, sizeof(j));
	cr_assert_eq(fe_store_journal_read(st, a.name, a.name_len, 1, jsum_cb, &j), FE_OK);
	cr_assert_eq(j.entries, 2);
	cr_assert_eq(j.last, 3);
	cr_assert_str_eq(j.last_added_txt, "five");
	fe_store_close(st);
}

Test(store_diff, journal_bounded_cleared_on_rollback_and_drop)
{
	struct fe_store *st = open_store_j(3, 0);
	const char *v[] = {"e164.fed.", "1.e164.fed.", "2.e164.fed."};
	struct key a = K("e164.fed.");
	char tag[16];
	for (uint32_t s = 1; s <= 6; s++) {
		snprintf(tag, sizeof(tag), "t%u", s);
		commit_zone(st, s, v, 3, tag);
	}
	struct fe_store_journal_info ji;
	cr_assert_eq(fe_store_journal_info(st, a.name, a.name_len, &ji), FE_OK);
	cr_assert_eq(ji.entries, 3, "bounded by count");
	cr_assert_eq(ji.first_serial, 3);
	cr_assert_eq(ji.last_serial, 6);
	struct jsum j = {0};
	cr_assert_eq(fe_store_journal_read(st, a.name, a.name_len, 2, jsum_cb, &j), FE_ENOENT);
	cr_assert_eq(fe_store_journal_read(st, a.name, a.name_len, 4, jsum_cb, &j), FE_OK);
	cr_assert_eq(j.entries, 2);
	cr_assert_eq(j.removed, 4);
	cr_assert_eq(j.added, 4);
	cr_assert_str_eq(j.last_added_txt, "t6");

	/* A sub-zone's journal is its own (its apex key extends the parent's). */
	struct fe_store_writer *w;
	struct key sa = K("1.e164.fed.");
	uint8_t blob[600];
	for (uint32_t s = 1; s <= 2; s++) {
		cr_assert_eq(fe_store_writer_begin(st, sa.name, sa.name_len, &w), FE_OK);
		size_t bl = mkblob(blob, "1.e164.fed.", FE_NODE_APEX, s == 1 ? "a" : "b");
		cr_assert_eq(fe_store_writer_put_node(w, sa.b, sa.len, blob, bl), FE_OK);
		struct fe_store_zone_rec rec;
		rec_for(&rec, "1.e164.fed.", s);
		cr_assert_eq(fe_store_writer_commit(w, &rec), FE_OK);
	}
	cr_assert_eq(fe_store_journal_info(st, sa.name, sa.name_len, &ji), FE_OK);
	cr_assert_eq(ji.entries, 1);
	cr_assert_eq(fe_store_journal_info(st, a.name, a.name_len, &ji), FE_OK);
	cr_assert_eq(ji.entries, 3);

	/* A rollback (serial not forward) clears the zone's journal. */
	commit_zone(st, 4, v, 3, "back");
	cr_assert_eq(fe_store_journal_info(st, a.name, a.name_len, &ji), FE_OK);
	cr_assert_eq(ji.entries, 0);
	commit_zone(st, 5, v, 3, "fwd");
	cr_assert_eq(fe_store_journal_info(st, a.name, a.name_len, &ji), FE_OK);
	cr_assert_eq(ji.entries, 1);
	cr_assert_eq(ji.first_serial, 4);

	/* Dropping the zone drops its journal, not the sub-zone's. */
	cr_assert_eq(fe_store_drop_zone(st, a.name, a.name_len), FE_OK);
	cr_assert_eq(fe_store_journal_info(st, a.name, a.name_len, &ji), FE_OK);
	cr_assert_eq(ji.entries, 0);
	cr_assert_eq(fe_store_journal_info(st, sa.name, sa.name_len, &ji), FE_OK);
	cr_assert_eq(ji.entries, 1);
	fe_store_close(st);

	/* Bounded by bytes: a difference over the bound is not kept, and clears. */
	rm_tmp();
	mk_tmp();
	st = open_store_j(0, 150);
	commit_zone(st, 1, v, 3, "x");
	commit_zone(st, 2, v, 3, "y");
	cr_assert_eq(fe_store_journal_info(st, a.name, a.name_len, &ji), FE_OK);
	cr_assert_eq(ji.entries, 1);
	struct fe_store_write_stats ws = commit_zone(st, 3, v, 3, "a much longer text than before");
	cr_assert(ws.journal_dropped);
	cr_assert_eq(fe_store_journal_info(st, a.name, a.name_len, &ji), FE_OK);
	cr_assert_eq(ji.entries, 0);
	fe_store_close(st);
}

Test(store_diff, data_id_survives_and_marks_follow_the_version)
{
	struct fe_store *st = open_store();
	const char *v[] = {"e164.fed.", "1.e164.fed."};
	struct key a = K("e164.fed."), k1 = K("1.e164.fed.");
	commit_zone(st, 1, v, 2, "one");
	struct fe_store_reader *r;
	const struct fe_store_zone_rec *z;
	cr_assert_eq(fe_store_reader_create(st, &r), FE_OK);
	cr_assert_eq(fe_store_reader_begin(r), FE_OK);
	cr_assert_eq(fe_store_get_zone(r, a.b, a.len, &z), FE_OK);
	struct fe_store_zone_rec r1 = *z;
	fe_store_reader_end(r);
	cr_assert_neq(r1.data_id, 0);
	commit_zone(st, 2, v, 2, "two");
	cr_assert_eq(fe_store_reader_begin(r), FE_OK);
	cr_assert_eq(fe_store_get_zone(r, a.b, a.len, &z), FE_OK);
	struct fe_store_zone_rec r2 = *z;
	fe_store_reader_end(r);
	cr_assert_eq(r2.data_id, r1.data_id);
	cr_assert_gt(r2.version, r1.version);
	/* A mark for the version that was replaced is refused. */
	cr_assert_eq(fe_store_zone_mark(st, a.name, a.name_len, r1.version, FE_ZONE_BOGUS, 0, -1),
	             FE_EAGAIN);
	cr_assert_eq(fe_store_zone_mark(st, a.name, a.name_len, r2.version, FE_ZONE_BOGUS, 0, -1),
	             FE_OK);
	fe_store_reader_destroy(r);
	fe_store_close(st);

	/* A record written before data_id existed (0): its prefix is its version, and the next
	 * commit adopts it. Made by zeroing data_id (== version for a first commit). */
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {a.len, a.b}, val;
	cr_assert_eq(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 8);
	cr_assert_eq(mdb_env_open(env, tmpdir, 0, 0640), 0);
	cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	cr_assert_eq(mdb_dbi_open(txn, "zones", 0, &dbi), 0);
	cr_assert_eq(mdb_get(txn, dbi, &k, &val), 0);
	uint8_t *copy = malloc(val.mv_size);
	memcpy(copy, val.mv_data, val.mv_size);
	struct fe_store_zone_rec old;
	memcpy(&old, copy, sizeof(old));
	old.data_id = 0;
	old.version = r1.data_id;
	memcpy(copy, &old, sizeof(old));
	val.mv_data = copy;
	cr_assert_eq(mdb_put(txn, dbi, &k, &val, 0), 0);
	/* ... in a schema-1 store. */
	uint8_t sv[4];
	fe_put_be32(sv, 1);
	MDB_val sk = {6, "schema"}, sd = {4, sv};
	cr_assert_eq(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	cr_assert_eq(mdb_put(txn, dbi, &sk, &sd, 0), 0);
	cr_assert_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	free(copy);

	/* Read-only: read as it is, schema left at 1. */
	struct fe_store_opts ro = {.read_only = true};
	struct fe_store_stat s;
	cr_assert_eq(fe_store_open(tmpdir, &ro, &st), FE_OK);
	cr_assert_eq(fe_store_stat(st, &s), FE_OK);
	cr_assert_eq(s.schema, 1);
	fe_store_close(st);

	st = open_store();
	cr_assert_eq(fe_store_stat(st, &s), FE_OK);
	cr_assert_eq(s.schema, FE_STORE_SCHEMA, "marked 2 on a writable open");
	struct fe_store_node n;
	char buf[64];
	cr_assert_eq(fe_store_reader_create(st, &r), FE_OK);
	cr_assert_eq(fe_store_reader_begin(r), FE_OK);
	cr_assert_eq(fe_store_get_zone(r, a.b, a.len, &z), FE_OK);
	cr_assert_eq(z->data_id, 0);
	cr_assert_eq(fe_store_get_node(r, z, k1.b, k1.len, &n), FE_OK);
	cr_assert_str_eq(txt_of(&n, buf), "two");
	fe_store_reader_end(r);
	struct fe_store_write_stats ws = commit_zone(st, 3, v, 2, "three");
	cr_assert_eq(ws.nodes_written, 1);
	cr_assert_eq(fe_store_reader_begin(r), FE_OK);
	cr_assert_eq(fe_store_get_zone(r, a.b, a.len, &z), FE_OK);
	cr_assert_eq(z->data_id, r1.data_id);
	cr_assert_eq(fe_store_get_node(r, z, k1.b, k1.len, &n), FE_OK);
	cr_assert_str_eq(txt_of(&n, buf), "three");
	fe_store_reader_end(r);
	fe_store_reader_destroy(r);
	cr_assert_eq(fe_store_stat(st, &s), FE_OK);
	cr_assert_eq(s.rr_entries, 2);
	fe_store_close(st);
}
