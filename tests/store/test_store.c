/* store/: LMDB zone store — versions, readers, lookups, schema, blob decoding. */
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

/* Store @apex with owners @names[n] (relative to nothing: full names), TXT = @tag. */
static void put_zone(struct fe_store *st, const char *apex, uint32_t serial, const char **names,
                     size_t n, const char *tag, uint16_t flags)
{
	struct fe_store_writer *w;
	struct key a = K(apex);
	uint8_t blob[600];
	cr_assert_eq(fe_store_writer_begin(st, a.name, a.name_len, &w), FE_OK);
	for (size_t i = 0; i < n; i++) {
		struct key k = K(names[i]);
		size_t bl = mkblob(blob, names[i], flags, tag);
		cr_assert_eq(fe_store_writer_put_node(w, k.b, k.len, blob, bl), FE_OK, "%s",
		             names[i]);
	}
	struct fe_store_zone_rec rec;
	rec_for(&rec, apex, serial);
	rec.node_count = n;
	cr_assert_eq(fe_store_writer_commit(w, &rec), FE_OK);
	cr_assert_neq(rec.version, 0);
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

TestSuite(store, .init = mk_tmp, .fini = rm_tmp);

/* ---- tests ------------------------------------------------------------------------- */

Test(store, open_close_and_stat)
{
	struct fe_store *st = open_store();
	struct fe_store_stat s;
	cr_assert_eq(fe_store_stat(st, &s), FE_OK);
	cr_assert_eq(s.schema, FE_STORE_SCHEMA);
	cr_assert_eq(s.next_version, 1);
	cr_assert_eq(s.zone_count, 0);
	cr_assert_eq(s.map_size_bytes, 256u << 20);
	cr_assert(s.page_size >= 4096);
	fe_store_close(st);
	fe_store_close(NULL);

	/* Reopen: the schema is there, nothing else changed. */
	st = open_store();
	cr_assert_eq(fe_store_stat(st, &s), FE_OK);
	cr_assert_eq(s.next_version, 1);
	fe_store_close(st);

	/* Read-only open of an existing store works; writers are refused. */
	struct fe_store_opts ro = {.read_only = true};
	cr_assert_eq(fe_store_open(tmpdir, &ro, &st), FE_OK);
	struct fe_store_writer *w = (void *)1;
	struct key a = K("e164.fed.");
	cr_assert_eq(fe_store_writer_begin(st, a.name, a.name_len, &w), FE_EPERM);
	cr_assert_null(w);
	fe_store_close(st);
}

Test(store, read_only_missing_store)
{
	struct fe_store *st = (void *)1;
	char p[300];
	struct fe_store_opts ro = {.read_only = true};
	snprintf(p, sizeof(p), "%s/nope", tmpdir);
	cr_assert_lt(fe_store_open(p, &ro, &st), 0);
	cr_assert_null(st);
}

Test(store, version_flip_is_atomic_for_readers)
{
	struct fe_store *st = open_store();
	const char *v1[] = {"e164.fed.", "1.e164.fed.", "2.e164.fed."};
	const char *v2[] = {"e164.fed.", "3.e164.fed."};
	struct fe_store_reader *r, *r2;
	const struct fe_store_zone_rec *z;
	struct fe_store_node n;
	char buf[64];

	put_zone(st, "e164.fed.", 1, v1, 3, "one", 0);
	cr_assert_eq(fe_store_reader_create(st, &r), FE_OK);
	cr_assert_eq(fe_store_reader_create(st, &r2), FE_OK);
	cr_assert_eq(fe_store_reader_begin(r), FE_OK);
	struct key a = K("e164.fed."), k1 = K("1.e164.fed."), k3 = K("3.e164.fed.");
	cr_assert_eq(fe_store_get_zone(r, a.b, a.len, &z), FE_OK);
	cr_assert_eq(z->serial, 1);
	cr_assert_eq(((uintptr_t)z) % 8, 0, "zone record aligned");
	uint64_t old_version = z->version;

	/* A new version is committed while r holds its snapshot. */
	put_zone(st, "e164.fed.", 2, v2, 2, "two", 0);

	/* r still sees version 1 complete: record and data. */
	cr_assert_eq(fe_store_get_zone(r, a.b, a.len, &z), FE_OK);
	cr_assert_eq(z->serial, 1);
	cr_assert_eq(fe_store_get_node(r, z, k1.b, k1.len, &n), FE_OK);
	cr_assert_str_eq(txt_of(&n, buf), "one");
	cr_assert_eq(fe_store_get_node(r, z, k3.b, k3.len, &n), FE_ENOENT);

	/* A snapshot taken now sees version 2 only. */
	cr_assert_eq(fe_store_reader_begin(r2), FE_OK);
	cr_assert_eq(fe_store_get_zone(r2, a.b, a.len, &z), FE_OK);
	cr_assert_eq(z->serial, 2);
	cr_assert_gt(z->version, old_version);
	cr_assert_eq(fe_store_get_node(r2, z, k1.b, k1.len, &n), FE_ENOENT);
	cr_assert_eq(fe_store_get_node(r2, z, k3.b, k3.len, &n), FE_OK);
	cr_assert_str_eq(txt_of(&n, buf), "two");

	/* The old version's data is gone from the map. */
	struct fe_store_zone_rec old = *z;
	old.version = old_version;
	cr_assert_eq(fe_store_get_node(r2, &old, k1.b, k1.len, &n), FE_ENOENT);
	fe_store_reader_end(r2);
	fe_store_reader_end(r);

	/* r renewed: new version. */
	cr_assert_eq(fe_store_reader_begin(r), FE_OK);
	cr_assert_eq(fe_store_get_zone(r, a.b, a.len, &z), FE_OK);
	cr_assert_eq(z->serial, 2);
	fe_store_reader_end(r);

	struct fe_store_stat s;
	cr_assert_eq(fe_store_stat(st, &s), FE_OK);
	cr_assert_eq(s.rr_entries, 2, "only version 2's nodes remain");
	cr_assert_eq(s.zone_count, 1);
	fe_store_reader_destroy(r);
	fe_store_reader_destroy(r2);
	fe_store_reader_destroy(NULL);
	fe_store_close(st);
}

Test(store, abort_keeps_current_and_serial)
{
	struct fe_store *st = open_store();
	const char *v1[] = {"e164.fed.", "1.e164.fed."};
	struct fe_store_writer *w;
	struct key a = K("e164.fed."), k1 = K("1.e164.fed."), k2 = K("2.e164.fed.");
	uint32_t serial = 0;
	uint8_t blob[300];

	cr_assert_eq(fe_store_writer_begin(st, a.name, a.name_len, &w), FE_OK);
	cr_assert_eq(fe_store_writer_current_serial(w, &serial), FE_ENOENT);
	fe_store_writer_abort(w);
	fe_store_writer_abort(NULL);

	put_zone(st, "e164.fed.", 7, v1, 2, "x", 0);
	cr_assert_eq(fe_store_writer_begin(st, a.name, a.name_len, &w), FE_OK);
	cr_assert_eq(fe_store_writer_current_serial(w, &serial), FE_OK);
	cr_assert_eq(serial, 7);
	size_t bl = mkblob(blob, "2.e164.fed.", 0, "y");
	cr_assert_eq(fe_store_writer_put_node(w, k2.b, k2.len, blob, bl), FE_OK);
	fe_store_writer_abort(w);

	struct fe_store_reader *r;
	const struct fe_store_zone_rec *z;
	struct fe_store_node n;
	cr_assert_eq(fe_store_reader_create(st, &r), FE_OK);
	cr_assert_eq(fe_store_reader_begin(r), FE_OK);
	cr_assert_eq(fe_store_get_zone(r, a.b, a.len, &z), FE_OK);
	cr_assert_eq(z->serial, 7);
	cr_assert_eq(fe_store_get_node(r, z, k1.b, k1.len, &n), FE_OK);
	cr_assert_eq(fe_store_get_node(r, z, k2.b, k2.len, &n), FE_ENOENT);
	fe_store_reader_end(r);
	fe_store_reader_destroy(r);
	fe_store_close(st);
}

Test(store, writer_enforces_order_and_zone)
{
	struct fe_store *st = open_store();
	struct fe_store_writer *w;
	struct key a = K("e164.fed."), k1 = K("1.e164.fed."), k2 = K("2.e164.fed."),
	           out = K("other.fed.");
	uint8_t blob[300];
	size_t bl = mkblob(blob, "x.e164.fed.", 0, "z");

	cr_assert_eq(fe_store_writer_begin(st, a.name, a.name_len, &w), FE_OK);
	cr_assert_eq(fe_store_writer_put_node(w, k2.b, k2.len, blob, bl), FE_OK);
	cr_assert_eq(fe_store_writer_put_node(w, k1.b, k1.len, blob, bl), FE_EINVAL);
	cr_assert_eq(fe_store_writer_put_node(w, k2.b, k2.len, blob, bl), FE_EINVAL);
	cr_assert_eq(fe_store_writer_put_node(w, out.b, out.len, blob, bl), FE_EINVAL);
	/* A corrupt blob is refused before it reaches the map. */
	struct key k3 = K("3.e164.fed.");
	cr_assert_eq(fe_store_writer_put_node(w, k3.b, k3.len, blob, bl - 1), FE_EFORMAT);
	uint8_t h1[20], h2[20];
	memset(h1, 0x22, sizeof(h1));
	memset(h2, 0x11, sizeof(h2));
	cr_assert_eq(fe_store_writer_put_nsec3(w, h1, 20, blob, bl), FE_OK);
	cr_assert_eq(fe_store_writer_put_nsec3(w, h2, 20, blob, bl), FE_EINVAL);
	/* The commit record must name the writer's zone. */
	struct fe_store_zone_rec rec;
	rec_for(&rec, "other.fed.", 1);
	cr_assert_eq(fe_store_writer_commit(w, &rec), FE_EINVAL);

	/* Root zone not supported. */
	uint8_t root = 0;
	cr_assert_eq(fe_store_writer_begin(st, &root, 1, &w), FE_ENOTSUP);
	fe_store_close(st);
}

Test(store, same_serial_visible_to_writer)
{
	/* fe_zone_commit relies on this to turn a reload of the same serial into a no-op. */
	struct fe_store *st = open_store();
	const char *v1[] = {"e164.fed."};
	struct fe_store_writer *w;
	struct key a = K("e164.fed.");
	uint32_t serial;
	put_zone(st, "e164.fed.", 2024010101u, v1, 1, "x", 0);
	cr_assert_eq(fe_store_writer_begin(st, a.name, a.name_len, &w), FE_OK);
	cr_assert_eq(fe_store_writer_current_serial(w, &serial), FE_OK);
	cr_assert_eq(serial, 2024010101u);
	fe_store_writer_abort(w);
	struct fe_store_stat s;
	cr_assert_eq(fe_store_stat(st, &s), FE_OK);
	cr_assert_eq(s.next_version, 2, "aborted writer left no version behind");
	fe_store_close(st);
}

static bool count_cb(const struct fe_store_zone_rec *zr, void *arg)
{
	cr_assert_eq(((uintptr_t)zr) % 8, 0);
	(*(int *)arg)++;
	return true;
}

Test(store, find_zone_longest_match)
{
	struct fe_store *st = open_store();
	const char *outer[] = {"e164.fed."};
	const char *inner[] = {"1.5.5.5.1.e164.fed."};
	const char *ex[] = {"example."};
	const char *aex[] = {"a.example."};
	const char *zz[] = {"zz.fed."};
	put_zone(st, "e164.fed.", 1, outer, 1, "o", 0);
	put_zone(st, "1.5.5.5.1.e164.fed.", 1, inner, 1, "i", 0);
	put_zone(st, "example.", 1, ex, 1, "e", 0);
	put_zone(st, "a.example.", 1, aex, 1, "a", 0);
	put_zone(st, "zz.fed.", 1, zz, 1, "z", 0);

	struct fe_store_reader *r;
	const struct fe_store_zone_rec *z;
	cr_assert_eq(fe_store_reader_create(st, &r), FE_OK);
	cr_assert_eq(fe_store_reader_begin(r), FE_OK);
	struct {
		const char *q;
		const char *zone; /* NULL: none */
	} cases[] = {
	        {"1.0.0.0.1.5.5.5.1.e164.fed.", "1.5.5.5.1.e164.fed."},
	        {"1.5.5.5.1.e164.fed.", "1.5.5.5.1.e164.fed."},
	        {"2.5.5.5.1.e164.fed.", "e164.fed."},
	        {"9.9.1.5.5.5.1.E164.FED.", "1.5.5.5.1.e164.fed."},
	        {"5.5.1.e164.fed.", "e164.fed."},
	        {"e164.fed.", "e164.fed."},
	        {"9.e164.fed.", "e164.fed."},
	        {"fed.", NULL},
	        {"a.fed.", NULL},
	        {"e165.fed.", NULL},
	        {"e16.fed.", NULL},
	        {"zzz.fed.", NULL},
	        {"x.zz.fed.", "zz.fed."},
	        {"b.example.", "example."},
	        {"x.a.example.", "a.example."},
	        {"aa.example.", "example."},
	        {"example.", "example."},
	        {"com.", NULL},
	        {"zzzz.", NULL},
	        {".", NULL},
	};
	for (size_t i = 0; i < FE_ARRAY_LEN(cases); i++) {
		struct key q = K(cases[i].q);
		int rc = fe_store_find_zone(r, q.b, q.len, &z);
		if (cases[i].zone == NULL) {
			cr_assert_eq(rc, FE_ENOENT, "%s", cases[i].q);
			continue;
		}
		cr_assert_eq(rc, FE_OK, "%s", cases[i].q);
		struct key zk = K(cases[i].zone);
		uint8_t got[FE_WIRE_KEY_MAX];
		int gl = fe_wire_name_key(z->apex, z->apex_len, got, sizeof(got));
		cr_assert_eq((size_t)gl, zk.len, "%s", cases[i].q);
		cr_assert_eq(memcmp(got, zk.b, zk.len), 0, "%s -> %s", cases[i].q, cases[i].zone);
	}

	/* foreach visits every zone in key order. */
	int count = 0;
	cr_assert_eq(fe_store_foreach_zone(r, count_cb, &count), FE_OK);
	cr_assert_eq(count, 5);
	fe_store_reader_end(r);
	fe_store_reader_destroy(r);
	fe_store_close(st);
}

Test(store, prev_node_skips_and_wraps)
{
	struct fe_store *st = open_store();
	struct fe_store_writer *w;
	struct key a = K("ex.");
	uint8_t blob[300];
	/* canonical order: ex. < a.ex. < b.ex. < x.b.ex. < c.ex. < d.ex. */
	struct {
		const char *n;
		uint16_t f;
	} nodes[] = {
	        {"ex.", FE_NODE_APEX | FE_NODE_HAS_NSEC},
	        {"a.ex.", FE_NODE_HAS_NSEC},
	        {"b.ex.", FE_NODE_HAS_NSEC | FE_NODE_DELEG},
	        {"x.b.ex.", FE_NODE_OCCLUDED},
	        {"c.ex.", 0},
	        {"d.ex.", FE_NODE_HAS_NSEC},
	};
	cr_assert_eq(fe_store_writer_begin(st, a.name, a.name_len, &w), FE_OK);
	for (size_t i = 0; i < FE_ARRAY_LEN(nodes); i++) {
		struct key k = K(nodes[i].n);
		size_t bl = mkblob(blob, nodes[i].n, nodes[i].f, nodes[i].n);
		cr_assert_eq(fe_store_writer_put_node(w, k.b, k.len, blob, bl), FE_OK);
	}
	struct fe_store_zone_rec rec;
	rec_for(&rec, "ex.", 1);
	cr_assert_eq(fe_store_writer_commit(w, &rec), FE_OK);
	/* A second zone after it in key order must not leak into the wrap. */
	const char *fz[] = {"fx."};
	put_zone(st, "fx.", 1, fz, 1, "fx", FE_NODE_HAS_NSEC);

	struct fe_store_reader *r;
	const struct fe_store_zone_rec *z;
	struct fe_store_node n;
	char buf[64];
	cr_assert_eq(fe_store_reader_create(st, &r), FE_OK);
	cr_assert_eq(fe_store_reader_begin(r), FE_OK);
	cr_assert_eq(fe_store_get_zone(r, a.b, a.len, &z), FE_OK);
	struct {
		const char *q;
		uint16_t need;
		const char *want;
	} cases[] = {
	        {"aa.ex.", FE_NODE_HAS_NSEC, "a.ex."},
	        {"b.ex.", FE_NODE_HAS_NSEC, "a.ex."},
	        {"y.b.ex.", FE_NODE_HAS_NSEC, "b.ex."},
	        {"c.ex.", FE_NODE_HAS_NSEC, "b.ex."},  /* skips occluded x.b.ex. */
	        {"cc.ex.", FE_NODE_HAS_NSEC, "b.ex."}, /* skips c.ex. (no NSEC) */
	        {"cc.ex.", 0, "c.ex."},
	        {"z.ex.", FE_NODE_HAS_NSEC, "d.ex."},
	        {"ex.", FE_NODE_HAS_NSEC, "d.ex."}, /* nothing before the apex: wrap */
	        {"ex.", FE_NODE_DELEG, "b.ex."},    /* wrap, then skip */
	        {"a.ex.", FE_NODE_APEX, "ex."},
	};
	for (size_t i = 0; i < FE_ARRAY_LEN(cases); i++) {
		struct key q = K(cases[i].q);
		cr_assert_eq(fe_store_prev_node(r, z, q.b, q.len, cases[i].need, &n), FE_OK, "%s",
		             cases[i].q);
		cr_assert_str_eq(txt_of(&n, buf), cases[i].want, "prev of %s", cases[i].q);
	}
	struct key q = K("zz.ex.");
	cr_assert_eq(fe_store_prev_node(r, z, q.b, q.len, FE_NODE_WILDCHILD, &n), FE_ENOENT);

	/* A key longer than any storable key still finds its predecessor. */
	uint8_t lk[FE_WIRE_KEY_MAX];
	memcpy(lk, K("c.ex.").b, K("c.ex.").len);
	size_t ll = K("c.ex.").len;
	while (ll + 2 <= sizeof(lk)) {
		lk[ll++] = 'q';
		lk[ll++] = 0;
	}
	cr_assert_eq(fe_store_get_node(r, z, lk, ll, &n), FE_ENOENT);
	cr_assert_eq(fe_store_prev_node(r, z, lk, ll, 0, &n), FE_OK);
	cr_assert_str_eq(txt_of(&n, buf), "c.ex.");
	fe_store_reader_end(r);
	fe_store_reader_destroy(r);
	fe_store_close(st);
}

Test(store, nsec3_find_exact_cover_wrap)
{
	struct fe_store *st = open_store();
	struct fe_store_writer *w;
	struct key a = K("ex.");
	uint8_t blob[300];
	uint8_t h[3][20];
	const char *tags[] = {"h10", "h50", "h90"};
	memset(h[0], 0x10, 20);
	memset(h[1], 0x50, 20);
	memset(h[2], 0x90, 20);
	cr_assert_eq(fe_store_writer_begin(st, a.name, a.name_len, &w), FE_OK);
	size_t bl = mkblob(blob, "ex.", FE_NODE_APEX, "apex");
	cr_assert_eq(fe_store_writer_put_node(w, a.b, a.len, blob, bl), FE_OK);
	for (int i = 0; i < 3; i++) {
		bl = mkblob(blob, "hash.ex.", 0, tags[i]);
		cr_assert_eq(fe_store_writer_put_nsec3(w, h[i], 20, blob, bl), FE_OK);
	}
	struct fe_store_zone_rec rec;
	rec_for(&rec, "ex.", 1);
	rec.flags = FE_ZONE_NSEC3;
	cr_assert_eq(fe_store_writer_commit(w, &rec), FE_OK);
	/* Another zone's chain sorting after must not be seen. */
	struct key b = K("fx.");
	cr_assert_eq(fe_store_writer_begin(st, b.name, b.name_len, &w), FE_OK);
	uint8_t hx[20];
	memset(hx, 0x05, 20);
	bl = mkblob(blob, "hash.fx.", 0, "other");
	cr_assert_eq(fe_store_writer_put_nsec3(w, hx, 20, blob, bl), FE_OK);
	rec_for(&rec, "fx.", 1);
	cr_assert_eq(fe_store_writer_commit(w, &rec), FE_OK);

	struct fe_store_reader *r;
	const struct fe_store_zone_rec *z;
	struct fe_store_node n;
	bool exact;
	char buf[64];
	uint8_t q[20];
	cr_assert_eq(fe_store_reader_create(st, &r), FE_OK);
	cr_assert_eq(fe_store_reader_begin(r), FE_OK);
	cr_assert_eq(fe_store_get_zone(r, a.b, a.len, &z), FE_OK);

	cr_assert_eq(fe_store_nsec3_find(r, z, h[1], 20, &exact, &n), FE_OK);
	cr_assert(exact);
	cr_assert_str_eq(txt_of(&n, buf), "h50");
	memset(q, 0x60, 20);
	cr_assert_eq(fe_store_nsec3_find(r, z, q, 20, &exact, &n), FE_OK);
	cr_assert_not(exact);
	cr_assert_str_eq(txt_of(&n, buf), "h50");
	memset(q, 0xff, 20);
	cr_assert_eq(fe_store_nsec3_find(r, z, q, 20, &exact, &n), FE_OK);
	cr_assert_not(exact);
	cr_assert_str_eq(txt_of(&n, buf), "h90");
	memset(q, 0x01, 20); /* before the first: the last covers it (wrap) */
	cr_assert_eq(fe_store_nsec3_find(r, z, q, 20, &exact, &n), FE_OK);
	cr_assert_not(exact);
	cr_assert_str_eq(txt_of(&n, buf), "h90");

	/* A zone without NSEC3 entries. */
	const char *gz[] = {"gx."};
	fe_store_reader_end(r);
	put_zone(st, "gx.", 1, gz, 1, "g", 0);
	cr_assert_eq(fe_store_reader_begin(r), FE_OK);
	struct key g = K("gx.");
	cr_assert_eq(fe_store_get_zone(r, g.b, g.len, &z), FE_OK);
	cr_assert_eq(fe_store_nsec3_find(r, z, q, 20, &exact, &n), FE_ENOENT);
	fe_store_reader_end(r);
	fe_store_reader_destroy(r);
	fe_store_close(st);
}

Test(store, schema_newer_is_refused)
{
	struct fe_store *st = open_store();
	fe_store_close(st);

	/* Bump the schema behind the store's back. */
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	cr_assert_eq(mdb_env_create(&env), 0);
	cr_assert_eq(mdb_env_set_maxdbs(env, 8), 0);
	cr_assert_eq(mdb_env_open(env, tmpdir, 0, 0640), 0);
	cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	cr_assert_eq(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	uint8_t v[4];
	fe_put_be32(v, FE_STORE_SCHEMA + 1);
	MDB_val k = {6, "schema"}, d = {4, v};
	cr_assert_eq(mdb_put(txn, dbi, &k, &d, 0), 0);
	cr_assert_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	struct fe_store_opts o = {.no_sync = true};
	st = (void *)1;
	cr_assert_eq(fe_store_open(tmpdir, &o, &st), FE_EVERSION);
	cr_assert_null(st);
}

Test(store, corrupt_blob_is_eformat)
{
	struct fe_store *st = open_store();
	const char *names[] = {"ex.", "a.ex."};
	put_zone(st, "ex.", 1, names, 2, "t", 0);
	fe_store_close(st);

	/* Overwrite a.ex.'s blob with garbage (version 1). */
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	cr_assert_eq(mdb_env_create(&env), 0);
	cr_assert_eq(mdb_env_set_maxdbs(env, 8), 0);
	cr_assert_eq(mdb_env_open(env, tmpdir, 0, 0640), 0);
	cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	cr_assert_eq(mdb_dbi_open(txn, "rr", 0, &dbi), 0);
	struct key ka = K("a.ex.");
	uint8_t vk[8 + FE_WIRE_KEY_MAX] = {0, 0, 0, 0, 0, 0, 0, 1};
	memcpy(vk + 8, ka.b, ka.len);
	uint8_t junk[] = {0, 0, 200, 3, 'a', 'b'};
	MDB_val k = {8 + ka.len, vk}, d = {sizeof(junk), junk};
	cr_assert_eq(mdb_put(txn, dbi, &k, &d, 0), 0);
	cr_assert_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	st = open_store();
	struct fe_store_reader *r;
	const struct fe_store_zone_rec *z;
	struct fe_store_node n;
	cr_assert_eq(fe_store_reader_create(st, &r), FE_OK);
	cr_assert_eq(fe_store_reader_begin(r), FE_OK);
	struct key a = K("ex.");
	cr_assert_eq(fe_store_get_zone(r, a.b, a.len, &z), FE_OK);
	cr_assert_eq(z->version, 1);
	cr_assert_eq(fe_store_get_node(r, z, ka.b, ka.len, &n), FE_EFORMAT);
	cr_assert_eq(fe_store_get_node(r, z, a.b, a.len, &n), FE_OK);
	fe_store_reader_end(r);
	fe_store_reader_destroy(r);
	fe_store_close(st);
}

Test(store, node_decode_bounds)
{
	uint8_t blob[600];
	struct fe_store_node n;
	size_t bl = mkblob(blob, "www.example.", FE_NODE_WILDCHILD, "hello");
	cr_assert_eq(fe_store_node_decode(blob, bl, &n), FE_OK);
	cr_assert_eq(n.flags, FE_NODE_WILDCHILD);
	cr_assert_eq(n.rrset_count, 1);
	cr_assert_eq(n.owner_len, 13);
	/* Every truncation and one extra byte are rejected. */
	for (size_t i = 0; i < bl; i++)
		cr_assert_eq(fe_store_node_decode(blob, i, &n), FE_EFORMAT, "len %zu", i);
	cr_assert_eq(fe_store_node_decode(blob, bl + 1, &n), FE_EFORMAT);
	/* rdlen pointing past the body. */
	uint8_t bad[600];
	memcpy(bad, blob, bl);
	fe_put_u16(bad + bl - 8, 200);
	cr_assert_eq(fe_store_node_decode(bad, bl, &n), FE_EFORMAT);
	/* rr_count larger than the body holds. */
	memcpy(bad, blob, bl);
	fe_put_u16(bad + 2 + 1 + 13 + 1 + 2 + 6, 2);
	cr_assert_eq(fe_store_node_decode(bad, bl, &n), FE_EFORMAT);
	/* empty non-terminal: no RRsets. */
	bl = mkblob(blob, "ent.example.", 0, NULL);
	cr_assert_eq(fe_store_node_decode(blob, bl, &n), FE_OK);
	struct fe_store_rrset rs;
	size_t it = 0;
	cr_assert_not(fe_store_node_next(&n, &it, &rs));
	cr_assert_not(fe_store_node_find(&n, FE_T_TXT, &rs));
}

Test(store, rrset_iteration_with_sigs)
{
	/* Node with two RRsets (A: 2 RRs + 1 sig; TXT: 1 RR). */
	uint8_t b[200];
	size_t o = 0;
	fe_put_u16(b, 0);
	o = 2;
	b[o++] = 1;
	b[o++] = 0; /* owner: root */
	b[o++] = 0;
	fe_put_u16(b + o, 2);
	o += 2;
	fe_put_u16(b + o, FE_T_A);
	fe_put_u32(b + o + 2, 60);
	fe_put_u16(b + o + 6, 2);
	fe_put_u16(b + o + 8, 1);
	fe_put_u32(b + o + 10, 6 + 6 + 5);
	o += 14;
	fe_put_u16(b + o, 4);
	memcpy(b + o + 2, "\x01\x02\x03\x04", 4);
	o += 6;
	fe_put_u16(b + o, 4);
	memcpy(b + o + 2, "\x05\x06\x07\x08", 4);
	o += 6;
	fe_put_u16(b + o, 3);
	memcpy(b + o + 2, "sig", 3);
	o += 5;
	fe_put_u16(b + o, FE_T_TXT);
	fe_put_u32(b + o + 2, 30);
	fe_put_u16(b + o + 6, 1);
	fe_put_u16(b + o + 8, 0);
	fe_put_u32(b + o + 10, 4);
	o += 14;
	fe_put_u16(b + o, 2);
	memcpy(b + o + 2, "\x01x", 2);
	o += 4;

	struct fe_store_node n;
	struct fe_store_rrset rs;
	cr_assert_eq(fe_store_node_decode(b, o, &n), FE_OK);
	cr_assert(fe_store_node_find(&n, FE_T_A, &rs));
	cr_assert_eq(rs.ttl, 60);
	size_t it = 0;
	const uint8_t *rd;
	uint16_t rl;
	bool sig;
	int rrs = 0, sigs = 0;
	while (fe_store_rrset_next(&rs, &it, &rd, &rl, &sig)) {
		if (sig) {
			sigs++;
			cr_assert_eq(rl, 3);
		} else {
			rrs++;
			cr_assert_eq(rl, 4);
		}
	}
	cr_assert_eq(rrs, 2);
	cr_assert_eq(sigs, 1);
	cr_assert(fe_store_node_find(&n, FE_T_TXT, &rs));
	cr_assert_not(fe_store_node_find(&n, FE_T_MX, &rs));
	it = 0;
	int sets = 0;
	while (fe_store_node_next(&n, &it, &rs))
		sets++;
	cr_assert_eq(sets, 2);

	/* Unsorted types are corrupt. */
	fe_put_u16(b + 2 + 1 + 1 + 1 + 2, FE_T_MX + 100);
	cr_assert_eq(fe_store_node_decode(b, o, &n), FE_EFORMAT);
}

Test(store, big_versions_replace_cleanly)
{
	/* Enough nodes to span many pages, so deleting the old version crosses page merges. */
	struct fe_store *st = open_store();
	struct fe_store_writer *w;
	struct key a = K("e164.fed.");
	uint8_t blob[200];
	char name[64];
	const unsigned N = 20000;

	for (int round = 0; round < 3; round++) {
		cr_assert_eq(fe_store_writer_begin(st, a.name, a.name_len, &w), FE_OK);
		size_t bl = mkblob(blob, "e164.fed.", FE_NODE_APEX, "apex");
		cr_assert_eq(fe_store_writer_put_node(w, a.b, a.len, blob, bl), FE_OK);
		/* Keys must ascend: generate names whose keys ascend (fixed width). */
		for (unsigned i = 0; i < N; i++) {
			snprintf(name, sizeof(name), "n%05u.e164.fed.", i);
			struct key k = K(name);
			bl = mkblob(blob, name, 0, round == 1 ? "r1" : "rx");
			cr_assert_eq(fe_store_writer_put_node(w, k.b, k.len, blob, bl), FE_OK);
			uint8_t h[20] = {0};
			fe_put_be32(h, i);
			cr_assert_eq(fe_store_writer_put_nsec3(w, h, 20, blob, bl), FE_OK);
		}
		struct fe_store_zone_rec rec;
		rec_for(&rec, "e164.fed.", (uint32_t)round + 1);
		cr_assert_eq(fe_store_writer_commit(w, &rec), FE_OK);
		struct fe_store_stat s;
		cr_assert_eq(fe_store_stat(st, &s), FE_OK);
		cr_assert_eq(s.rr_entries, N + 1, "round %d", round);
		cr_assert_eq(s.nsec3_entries, N, "round %d", round);
	}
	cr_assert_eq(fe_store_drop_zone(st, a.name, a.name_len), FE_OK);
	cr_assert_eq(fe_store_drop_zone(st, a.name, a.name_len), FE_ENOENT);
	struct fe_store_stat s;
	cr_assert_eq(fe_store_stat(st, &s), FE_OK);
	cr_assert_eq(s.rr_entries, 0);
	cr_assert_eq(s.nsec3_entries, 0);
	cr_assert_eq(s.zone_count, 0);
	fe_store_close(st);
}

/* Several zones dropped in one transaction (a catalog's members leaving together): each
 * told apart (dropped, not held), the others untouched. */
Test(store, drop_zones_in_one_transaction)
{
	struct fe_store *st = open_store();
	const char *zones[] = {"a.test.", "b.test.", "c.test."};
	uint8_t blob[200];
	for (int i = 0; i < 3; i++) {
		struct key a = K(zones[i]);
		struct fe_store_writer *w;
		cr_assert_eq(fe_store_writer_begin(st, a.name, a.name_len, &w), FE_OK);
		size_t bl = mkblob(blob, zones[i], FE_NODE_APEX, "apex");
		cr_assert_eq(fe_store_writer_put_node(w, a.b, a.len, blob, bl), FE_OK);
		struct fe_store_zone_rec rec;
		rec_for(&rec, zones[i], 1);
		cr_assert_eq(fe_store_writer_commit(w, &rec), FE_OK);
	}
	struct key a = K("a.test."), c = K("c.test."), x = K("x.test.");
	const uint8_t *names[] = {a.name, x.name, c.name};
	size_t lens[] = {a.name_len, x.name_len, c.name_len};
	int each[3] = {99, 99, 99};
	cr_assert_eq(fe_store_drop_zones(st, names, lens, 3, each), FE_OK);
	cr_assert_eq(each[0], FE_OK);
	cr_assert_eq(each[1], FE_ENOENT);
	cr_assert_eq(each[2], FE_OK);
	struct fe_store_stat s;
	cr_assert_eq(fe_store_stat(st, &s), FE_OK);
	cr_assert_eq(s.zone_count, 1, "b.test. stays");
	cr_assert_eq(s.rr_entries, 1);
	cr_assert_eq(fe_store_drop_zone(st, a.name, a.name_len), FE_ENOENT);
	fe_store_close(st);
}

Test(store, map_full_is_enospc)
{
	struct fe_store *st;
	struct fe_store_opts o = {.map_size_bytes = 1u << 20, .no_sync = true};
	cr_assert_eq(fe_store_open(tmpdir, &o, &st), FE_OK);
	struct fe_store_writer *w;
	struct key a = K("e164.fed.");
	uint8_t blob[300];
	char name[64];
	int rc = FE_OK;
	cr_assert_eq(fe_store_writer_begin(st, a.name, a.name_len, &w), FE_OK);
	for (unsigned i = 0; i < 100000 && rc == FE_OK; i++) {
		snprintf(name, sizeof(name), "n%06u.e164.fed.", i);
		struct key k = K(name);
		size_t bl = mkblob(blob, name, 0, "some text to fill the map quickly, really");
		rc = fe_store_writer_put_node(w, k.b, k.len, blob, bl);
	}
	cr_assert_eq(rc, FE_ENOSPC);
	fe_store_writer_abort(w);
	fe_store_close(st);
}

Test(store, readers_in_threads_reuse_snapshot)
{
	/* One reader reused across many begin/end cycles: no growth, stable answers. */
	struct fe_store *st = open_store();
	const char *v1[] = {"e164.fed.", "1.e164.fed."};
	put_zone(st, "e164.fed.", 1, v1, 2, "one", 0);
	struct fe_store_reader *r;
	const struct fe_store_zone_rec *z;
	struct fe_store_node n;
	struct key q = K("1.e164.fed.");
	cr_assert_eq(fe_store_reader_create(st, &r), FE_OK);
	for (int i = 0; i < 10000; i++) {
		cr_assert_eq(fe_store_reader_begin(r), FE_OK);
		cr_assert_eq(fe_store_find_zone(r, q.b, q.len, &z), FE_OK);
		cr_assert_eq(fe_store_get_node(r, z, q.b, q.len, &n), FE_OK);
		fe_store_reader_end(r);
	}
	/* Not begun: lookups refuse. */
	cr_assert_eq(fe_store_find_zone(r, q.b, q.len, &z), FE_EINVAL);
	fe_store_reader_destroy(r);
	fe_store_close(st);
}
