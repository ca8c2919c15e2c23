/* Helpers shared by tests/zone/test_delta*.c: a generated ENUM zone (optionally with fake
 * signatures and an NSEC3 chain), change sets from zone text, journal and store
 * comparisons. */
#ifndef FE_TEST_DELTA_COMMON_H
#define FE_TEST_DELTA_COMMON_H

#define UNUSED __attribute__((unused))

#include "fedenum/store.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "fedenum/zone.h"
#include "fe_test_name.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdarg.h>
#include <ldns/ldns.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define APEX "d.e164.test."

static char tmpdir[256];

UNUSED static void mk_tmp(void)
{
	const char *base = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/fe-delta-XXXXXX", base ? base : "/tmp");
	cr_assert_not_null(mkdtemp(tmpdir));
	setvbuf(stdout, NULL, _IOLBF, 0);
}

UNUSED static void rm_tmp(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

UNUSED static bool quick_mode(void)
{
	const char *q = getenv("FE_TEST_QUICK");
	return q && *q && strcmp(q, "0") != 0;
}

UNUSED static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- zone text ------------------------------------------------------------------------ */

struct lines {
	char **v;
	size_t n, cap;
};

static void add_line(struct lines *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
UNUSED static void add_line(struct lines *l, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		cr_assert_not_null(l->v);
	}
	l->v[l->n] = strdup(buf);
	cr_assert_not_null(l->v[l->n]);
	l->n++;
}

UNUSED static void free_lines(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

#define FAKE_SIG \
	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BB"

/* A version of the test zone: numbers [0, n) (plus @extra ones) of @width digits, each a
 * NAPTR naming "v<tag>" where tag is @tags[i] (or 1; 0: a NAPTR that fails the lint). @sign adds a
 * DNSKEY and an RRSIG over every authoritative RRset (fake signatures: the store does not verify
 * them), @nsec3 an NSEC3 chain (iterations 0, no salt) over every name, empty non-terminals
 * included. */
struct spec {
	uint32_t serial;
	unsigned n, width;
	const unsigned *tags;
	const unsigned *extra; /* numbers >= n that exist too */
	size_t nextra;
	bool sign, nsec3;
	bool wild; /* "*.1.<apex>" too */
};

UNUSED static void number_owner(unsigned num, unsigned width, char *out, size_t cap)
{
	char d[16];
	snprintf(d, sizeof(d), "%0*u", (int)width, num);
	size_t o = 0;
	for (int i = (int)width - 1; i >= 0; i--)
		o += (size_t)snprintf(out + o, cap - o, "%c.", d[i]);
	snprintf(out + o, cap - o, "%s", APEX);
}

UNUSED static void sig(struct lines *l, const char *owner, const char *type, int labels)
{
	if (l != NULL)
		add_line(l, "%s 300 IN RRSIG %s 8 %d 300 20990101000000 20200101000000 4711 %s %s",
		         owner, type, labels, APEX, FAKE_SIG);
}

UNUSED static int labels_of(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '.';
	return n;
}

UNUSED static const char B32[] = "0123456789abcdefghijklmnopqrstuv";

UNUSED static void b32hex(const uint8_t *h, char *out)
{
	for (int i = 0; i < 32; i++) {
		int bit = i * 5, v = 0;
		for (int b = 0; b < 5; b++, bit++)
			v = (v << 1) | ((h[bit / 8] >> (7 - bit % 8)) & 1);
		out[i] = B32[v];
	}
	out[32] = '\0';
}

struct hname {
	uint8_t hash[20];
	char types[64];
};

UNUSED static int hname_cmp(const void *a, const void *b)
{
	return memcmp(((const struct hname *)a)->hash, ((const struct hname *)b)->hash, 20);
}

UNUSED static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

UNUSED static void make_zone(const struct spec *sp, struct lines *l)
{
	char owner[300];
	struct lines names = {0}; /* "name|types" of every node, for NSEC3 */
	add_line(l, "%s 300 IN SOA ns.%s host.%s %u 3600 600 86400 300", APEX, APEX, APEX,
	         sp->serial);
	add_line(l, "%s 300 IN NS ns.%s", APEX, APEX);
	add_line(l, "ns.%s 300 IN A 192.0.2.53", APEX);
	if (sp->sign) {
		add_line(l, "%s 300 IN DNSKEY 257 3 8 %s", APEX, FAKE_SIG);
		sig(l, APEX, "SOA", labels_of(APEX));
		sig(l, APEX, "NS", labels_of(APEX));
		sig(l, APEX, "DNSKEY", labels_of(APEX));
		snprintf(owner, sizeof(owner), "ns.%s", APEX);
		sig(l, owner, "A", labels_of(owner));
	}
	if (sp->nsec3) {
		add_line(l, "%s 300 IN NSEC3PARAM 1 0 0 -", APEX);
		sig(l, APEX, "NSEC3PARAM", labels_of(APEX));
		add_line(&names, "%s|NS SOA RRSIG DNSKEY NSEC3PARAM", APEX);
		add_line(&names, "ns.%s|A RRSIG", APEX);
	}
	size_t total = sp->n + sp->nextra;
	for (size_t k = 0; k < total; k++) {
		unsigned i = k < sp->n ? (unsigned)k : sp->extra[k - sp->n];
		number_owner(i, sp->width, owner, sizeof(owner));
		unsigned tag = sp->tags && k < sp->n ? sp->tags[k] : 1;
		/* tag 0: a NAPTR that fails the lint (an unbalanced group) */
		add_line(l,
		         "%s 300 IN NAPTR 100 10 \"u\" \"E2U+sip\" "
		         "\"!^%s.*$!sip:+1555%0*u@v%u.example!\" "
		         ".",
		         owner, tag ? "" : "(", (int)sp->width, i, tag);
		if (sp->sign)
			sig(l, owner, "NAPTR", labels_of(owner));
		if (sp->nsec3) {
			add_line(&names, "%s|NAPTR RRSIG", owner);
			/* Its ancestors below the apex: empty non-terminals (deduplicated below).
			 */
			for (const char *p = strchr(owner, '.') + 1; strcmp(p, APEX) != 0;
			     p = strchr(p, '.') + 1)
				add_line(&names, "%s|", p);
		}
	}
	if (sp->wild) {
		snprintf(owner, sizeof(owner), "*.1.%s", APEX);
		add_line(l,
		         "%s 300 IN NAPTR 100 10 \"u\" \"E2U+sip\" \"!^.*$!sip:any@wild.example!\" "
		         ".",
		         owner);
		if (sp->sign)
			sig(l, owner, "NAPTR", labels_of(owner) - 1);
		if (sp->nsec3) {
			add_line(&names, "%s|NAPTR RRSIG", owner);
			add_line(&names, "1.%s|", APEX);
		}
	}
	if (sp->nsec3) {
		qsort(names.v, names.n, sizeof(*names.v), str_cmp);
		struct hname *h = calloc(names.n, sizeof(*h));
		size_t nh = 0;
		for (size_t i = 0; i < names.n; i++) {
			char *bar = strchr(names.v[i], '|');
			*bar = '\0';
			if (nh > 0 && i > 0 && strcmp(names.v[i - 1], names.v[i]) == 0) {
				if (bar[1])
					snprintf(h[nh - 1].types, sizeof(h[nh - 1].types), "%s",
					         bar + 1);
				continue;
			}
			uint8_t wire[FE_WIRE_NAME_MAX];
			fe_test_wire_name(names.v[i], wire);
			cr_assert_eq(fe_wire_nsec3_hash(wire, 1, 0, NULL, 0, h[nh].hash), 20);
			snprintf(h[nh].types, sizeof(h[nh].types), "%s", bar + 1);
			nh++;
		}
		qsort(h, nh, sizeof(*h), hname_cmp);
		for (size_t i = 0; i < nh; i++) {
			char o[40], nx[40];
			b32hex(h[i].hash, o);
			b32hex(h[(i + 1) % nh].hash, nx);
			snprintf(owner, sizeof(owner), "%s.%s", o, APEX);
			add_line(l, "%s 300 IN NSEC3 1 0 0 - %s %s", owner, nx, h[i].types);
			sig(l, owner, "NSEC3", labels_of(owner));
		}
		free(h);
	}
	free_lines(&names);
}

UNUSED static void write_zone(const struct lines *l, const char *path)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	for (size_t i = 0; i < l->n; i++)
		fprintf(f, "%s\n", l->v[i]);
	cr_assert_eq(fclose(f), 0);
}

/* ---- change sets from zone text ----------------------------------------------------------- */

struct rrs {
	ldns_rr **rr;
	struct fe_zone_rr *z;
	uint8_t **rdata;
	size_t n;
};

UNUSED static void to_rr(struct rrs *s, const char *line)
{
	size_t i = s->n++;
	s->rr = realloc(s->rr, s->n * sizeof(*s->rr));
	s->z = realloc(s->z, s->n * sizeof(*s->z));
	s->rdata = realloc(s->rdata, s->n * sizeof(*s->rdata));
	cr_assert(s->rr && s->z && s->rdata);
	ldns_status st = ldns_rr_new_frm_str(&s->rr[i], line, 300, NULL, NULL);
	cr_assert_eq(st, LDNS_STATUS_OK, "%s: %s", line, ldns_get_errorstr_by_id(st));
	ldns_rr *rr = s->rr[i];
	size_t len = 0;
	for (size_t k = 0; k < ldns_rr_rd_count(rr); k++)
		len += ldns_rdf_size(ldns_rr_rdf(rr, k));
	s->rdata[i] = malloc(len ? len : 1);
	len = 0;
	for (size_t k = 0; k < ldns_rr_rd_count(rr); k++) {
		const ldns_rdf *f = ldns_rr_rdf(rr, k);
		memcpy(s->rdata[i] + len, ldns_rdf_data(f), ldns_rdf_size(f));
		len += ldns_rdf_size(f);
	}
	s->z[i] = (struct fe_zone_rr){.owner = ldns_rdf_data(ldns_rr_owner(rr)),
	                              .owner_len = ldns_rdf_size(ldns_rr_owner(rr)),
	                              .type = (uint16_t)ldns_rr_get_type(rr),
	                              .ttl = ldns_rr_ttl(rr),
	                              .rdata = s->rdata[i],
	                              .rdlen = (uint16_t)len};
}

UNUSED static void free_rrs(struct rrs *s)
{
	for (size_t i = 0; i < s->n; i++) {
		ldns_rr_free(s->rr[i]);
		free(s->rdata[i]);
	}
	free(s->rr);
	free(s->z);
	free(s->rdata);
	memset(s, 0, sizeof(*s));
}

/* Lines of @a not in @b into @out (both sorted in place). */
UNUSED static void line_diff(struct lines *a, struct lines *b, struct rrs *out)
{
	qsort(a->v, a->n, sizeof(*a->v), str_cmp);
	qsort(b->v, b->n, sizeof(*b->v), str_cmp);
	size_t j = 0;
	for (size_t i = 0; i < a->n; i++) {
		while (j < b->n && strcmp(b->v[j], a->v[i]) < 0)
			j++;
		if (j < b->n && strcmp(b->v[j], a->v[i]) == 0)
			continue;
		to_rr(out, a->v[i]);
	}
}

/* One RR in journal form (owner | type | class | ttl | rdlen | rdata), owner lowercased
 * for comparison. */
UNUSED static size_t rr_key(const struct fe_zone_rr *z, uint8_t *buf)
{
	size_t o = z->owner_len;
	memcpy(buf, z->owner, o);
	for (size_t i = 0; i < o; i++)
		buf[i] = (uint8_t)((buf[i] >= 'A' && buf[i] <= 'Z') ? buf[i] + 32 : buf[i]);
	fe_put_be16(buf + o, z->type);
	fe_put_be16(buf + o + 2, FE_C_IN);
	fe_put_be32(buf + o + 4, z->ttl);
	fe_put_be16(buf + o + 8, z->rdlen);
	memcpy(buf + o + 10, z->rdata, z->rdlen);
	return o + 10 + z->rdlen;
}

struct blobs {
	uint8_t **v;
	size_t *len;
	size_t n;
};

UNUSED static void blobs_add(struct blobs *b, const void *p, size_t len)
{
	b->v = realloc(b->v, (b->n + 1) * sizeof(*b->v));
	b->len = realloc(b->len, (b->n + 1) * sizeof(*b->len));
	b->v[b->n] = malloc(len);
	memcpy(b->v[b->n], p, len);
	b->len[b->n++] = len;
}

UNUSED static void blobs_free(struct blobs *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->v[i]);
	free(b->v);
	free(b->len);
	memset(b, 0, sizeof(*b));
}

static struct blobs *sort_ctx;
UNUSED static int idx_cmp(const void *pa, const void *pb)
{
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	int c = memcmp(sort_ctx->v[a], sort_ctx->v[b], FE_MIN(sort_ctx->len[a], sort_ctx->len[b]));
	if (c)
		return c;
	return sort_ctx->len[a] < sort_ctx->len[b] ? -1 : sort_ctx->len[a] > sort_ctx->len[b];
}

/* Same multiset of byte strings? */
UNUSED static bool blobs_equal(struct blobs *a, struct blobs *b)
{
	if (a->n != b->n)
		return false;
	size_t *ia = calloc(a->n + 1, sizeof(size_t)), *ib = calloc(b->n + 1, sizeof(size_t));
	for (size_t i = 0; i < a->n; i++)
		ia[i] = ib[i] = i;
	sort_ctx = a;
	qsort(ia, a->n, sizeof(size_t), idx_cmp);
	sort_ctx = b;
	qsort(ib, b->n, sizeof(size_t), idx_cmp);
	bool eq = true;
	for (size_t i = 0; i < a->n && eq; i++)
		eq = a->len[ia[i]] == b->len[ib[i]] &&
		     memcmp(a->v[ia[i]], b->v[ib[i]], a->len[ia[i]]) == 0;
	free(ia);
	free(ib);
	return eq;
}

struct jread {
	unsigned entries;
	uint32_t from, to;
	struct blobs removed, added;
};

UNUSED static void rrs_of(const uint8_t *p, size_t len, struct blobs *out)
{
	struct fe_store_rr rr;
	size_t off = 0;
	uint8_t buf[70000];
	while (fe_store_rr_next(p, len, &off, &rr)) {
		struct fe_zone_rr z = {rr.owner, rr.owner_len, rr.type, rr.ttl, rr.rdata, rr.rdlen};
		cr_assert_eq(rr.rclass, FE_C_IN);
		blobs_add(out, buf, rr_key(&z, buf));
	}
	cr_assert_eq(off, len, "damaged RR in the journal entry");
}

UNUSED static bool jread_cb(const struct fe_store_journal_entry *e, void *arg)
{
	struct jread *j = arg;
	if (j->entries++ == 0)
		j->from = e->serial_from;
	j->to = e->serial_to;
	size_t before_r = j->removed.n, before_a = j->added.n;
	rrs_of(e->removed, e->removed_len, &j->removed);
	rrs_of(e->added, e->added_len, &j->added);
	cr_assert_eq(j->removed.n - before_r, e->removed_count);
	cr_assert_eq(j->added.n - before_a, e->added_count);
	return true;
}

/* The journal entry from @from equals the change @removed / @added (as RR multisets). */
UNUSED static void expect_journal(struct fe_store *st, uint32_t from, uint32_t to,
                                  const struct rrs *removed, const struct rrs *added)
{
	uint8_t apex[FE_WIRE_NAME_MAX], buf[70000];
	size_t al = fe_test_wire_name(APEX, apex);
	struct jread j = {0};
	cr_assert_eq(fe_store_journal_read(st, apex, al, from, jread_cb, &j), FE_OK);
	cr_assert_eq(j.entries, 1);
	cr_assert_eq(j.from, from);
	cr_assert_eq(j.to, to);
	struct blobs wr = {0}, wa = {0};
	for (size_t i = 0; i < removed->n; i++)
		blobs_add(&wr, buf, rr_key(&removed->z[i], buf));
	for (size_t i = 0; i < added->n; i++)
		blobs_add(&wa, buf, rr_key(&added->z[i], buf));
	cr_assert(blobs_equal(&j.removed, &wr),
	          "journal: removed RRs differ from the change "
	          "(%zu vs %zu)",
	          j.removed.n, wr.n);
	cr_assert(blobs_equal(&j.added, &wa),
	          "journal: added RRs differ from the change (%zu vs "
	          "%zu)",
	          j.added.n, wa.n);
	blobs_free(&j.removed);
	blobs_free(&j.added);
	blobs_free(&wr);
	blobs_free(&wa);
}

/* ---- the store ---------------------------------------------------------------------------- */

UNUSED static struct fe_store *open_store(const char *sub)
{
	char dir[400];
	snprintf(dir, sizeof(dir), "%s/%s", tmpdir, sub);
	struct fe_store *st;
	struct fe_store_opts o = {.map_size_bytes = 8ull << 30, .no_sync = true};
	cr_assert_eq(fe_store_open(dir, &o, &st), FE_OK);
	return st;
}

UNUSED static void load(struct fe_store *st, const char *path, struct fe_store_write_stats *ws,
                        double *secs)
{
	struct fe_zone *z;
	struct fe_zone_error err = {0};
	int rc = fe_zone_parse_file(path, NULL, &z, &err);
	cr_assert_eq(rc, FE_OK, "%s:%lu: %s", err.file, err.line, err.reason);
	uint64_t t0 = now_us();
	rc = fe_zone_commit(z, st, &err);
	if (secs)
		*secs = (double)(now_us() - t0) / 1e6;
	cr_assert_eq(rc, FE_OK, "commit: %s", err.reason);
	if (ws)
		fe_zone_commit_stats(z, ws);
	fe_zone_free(z);
}

UNUSED static struct fe_store_zone_rec zone_rec(struct fe_store *st)
{
	uint8_t key[FE_WIRE_KEY_MAX], apex[FE_WIRE_NAME_MAX];
	size_t al = fe_test_wire_name(APEX, apex);
	int kl = fe_wire_name_key(apex, al, key, sizeof(key));
	struct fe_store_reader *r;
	const struct fe_store_zone_rec *z;
	cr_assert_eq(fe_store_reader_create(st, &r), FE_OK);
	cr_assert_eq(fe_store_reader_begin(r), FE_OK);
	cr_assert_eq(fe_store_get_zone(r, key, (size_t)kl, &z), FE_OK);
	struct fe_store_zone_rec out = *z;
	fe_store_reader_end(r);
	fe_store_reader_destroy(r);
	return out;
}

/* Every (key, blob) of database @db under @data_id, raw from LMDB (store closed). */
UNUSED static void dump_db(const char *sub, const char *db, uint64_t data_id, struct blobs *out)
{
	char dir[400];
	snprintf(dir, sizeof(dir), "%s/%s", tmpdir, sub);
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *c;
	MDB_val k, v;
	uint8_t pfx[8];
	for (int i = 7; i >= 0; i--, data_id >>= 8)
		pfx[i] = (uint8_t)data_id;
	cr_assert_eq(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 8);
	mdb_env_set_mapsize(env, 8ull << 30);
	cr_assert_eq(mdb_env_open(env, dir, MDB_RDONLY, 0640), 0);
	cr_assert_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	cr_assert_eq(mdb_dbi_open(txn, db, 0, &dbi), 0);
	cr_assert_eq(mdb_cursor_open(txn, dbi, &c), 0);
	k.mv_size = 8;
	k.mv_data = pfx;
	uint8_t *buf = malloc(1 << 20);
	for (int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	     rc == 0 && k.mv_size >= 8 && memcmp(k.mv_data, pfx, 8) == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		cr_assert_lt(k.mv_size + v.mv_size, 1u << 20);
		memcpy(buf, (uint8_t *)k.mv_data + 8, k.mv_size - 8);
		memcpy(buf + k.mv_size - 8, v.mv_data, v.mv_size);
		blobs_add(out, buf, k.mv_size - 8 + v.mv_size);
	}
	free(buf);
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	mdb_env_close(env);
}

/* The zone in store @a equals the zone in store @b: records and every node, byte for byte
 * (stores closed). */
UNUSED static void expect_same_zone(const char *a, const struct fe_store_zone_rec *ra,
                                    const char *b, const struct fe_store_zone_rec *rb)
{
	cr_assert_eq(ra->serial, rb->serial);
	cr_assert_eq(ra->node_count, rb->node_count, "nodes %" PRIu64 " vs %" PRIu64,
	             ra->node_count, rb->node_count);
	cr_assert_eq(ra->rr_count, rb->rr_count, "RRs %" PRIu64 " vs %" PRIu64, ra->rr_count,
	             rb->rr_count);
	cr_assert_eq(ra->flags, rb->flags);
	cr_assert_eq(ra->soa_minimum, rb->soa_minimum);
	cr_assert_eq(ra->soa_ttl, rb->soa_ttl);
	cr_assert_eq(ra->naptr_lint_count, rb->naptr_lint_count, "NAPTRs failing the lint");
	const char *dbs[] = {"rr", "nsec3"};
	for (int i = 0; i < 2; i++) {
		struct blobs x = {0}, y = {0};
		dump_db(a, dbs[i], ra->data_id, &x);
		dump_db(b, dbs[i], rb->data_id, &y);
		cr_assert_eq(x.n, y.n, "%s: %zu vs %zu entries", dbs[i], x.n, y.n);
		for (size_t k = 0; k < x.n; k++)
			cr_assert(x.len[k] == y.len[k] && memcmp(x.v[k], y.v[k], x.len[k]) == 0,
			          "%s: entry %zu differs", dbs[i], k);
		blobs_free(&x);
		blobs_free(&y);
	}
}

UNUSED static int commit_delta(struct fe_store *st, uint32_t from, const struct rrs *removed,
                               const struct rrs *added, struct fe_store_write_stats *ws, double *ms)
{
	uint8_t apex[FE_WIRE_NAME_MAX];
	size_t al = fe_test_wire_name(APEX, apex);
	struct fe_zone_delta d = {.serial_from = from,
	                          .removed = removed->z,
	                          .removed_count = removed->n,
	                          .added = added->z,
	                          .added_count = added->n};
	struct fe_zone_error err = {0};
	uint64_t t0 = now_us();
	int rc = fe_zone_commit_delta(st, apex, al, &d, ws, &err);
	if (ms)
		*ms = (double)(now_us() - t0) / 1e3;
	if (rc != FE_OK)
		printf("delta: %s\n", err.reason);
	return rc;
}

/* v1 -> v2 three ways: a change set over v1 (store "delta"), a whole-file reload over v1
 * (store "reload"), a fresh load of v2 (store "fresh"). All three must hold the same zone;
 * the first two journal exactly the text difference and write few nodes. */
UNUSED static void three_ways(const struct spec *s1, const struct spec *s2, uint64_t max_written)
{
	struct lines l1 = {0}, l2 = {0};
	struct rrs removed = {0}, added = {0};
	char p1[400], p2[400];
	make_zone(s1, &l1);
	make_zone(s2, &l2);
	snprintf(p1, sizeof(p1), "%s/v1.zone", tmpdir);
	snprintf(p2, sizeof(p2), "%s/v2.zone", tmpdir);
	write_zone(&l1, p1);
	write_zone(&l2, p2);
	line_diff(&l1, &l2, &removed);
	line_diff(&l2, &l1, &added);

	struct fe_store *sd = open_store("delta"), *sr = open_store("reload"),
	                *sf = open_store("fresh");
	load(sd, p1, NULL, NULL);
	load(sr, p1, NULL, NULL);
	load(sf, p2, NULL, NULL);
	struct fe_store_zone_rec before = zone_rec(sd);

	struct fe_store_write_stats wd, wr;
	double ms;
	cr_assert_eq(commit_delta(sd, s1->serial, &removed, &added, &wd, &ms), FE_OK);
	printf("delta: -%zu +%zu RRs: change set %.2f ms, %" PRIu64 " nodes + %" PRIu64
	       " nsec3 written, %" PRIu64 " + %" PRIu64 " deleted\n",
	       removed.n, added.n, ms, wd.nodes_written, wd.nsec3_written, wd.nodes_deleted,
	       wd.nsec3_deleted);
	double secs;
	load(sr, p2, &wr, &secs);
	printf("delta: whole-file reload: store %.3f s, %" PRIu64 " nodes + %" PRIu64
	       " nsec3 written, %" PRIu64 " + %" PRIu64 " deleted, %" PRIu64 " unchanged\n",
	       secs, wr.nodes_written, wr.nsec3_written, wr.nodes_deleted, wr.nsec3_deleted,
	       wr.nodes_unchanged);
	cr_assert_eq(wd.rrs_removed, removed.n);
	cr_assert_eq(wd.rrs_added, added.n);
	cr_assert_eq(wr.rrs_removed, removed.n);
	cr_assert_eq(wr.rrs_added, added.n);
	cr_assert_leq(wd.nodes_written + wd.nsec3_written + wd.nodes_deleted + wd.nsec3_deleted,
	              max_written);
	cr_assert_eq(wd.nodes_written, wr.nodes_written);
	cr_assert_eq(wd.nodes_deleted, wr.nodes_deleted);
	cr_assert_eq(wd.nsec3_written, wr.nsec3_written);
	cr_assert_eq(wd.nsec3_deleted, wr.nsec3_deleted);
	expect_journal(sd, s1->serial, s2->serial, &removed, &added);
	expect_journal(sr, s1->serial, s2->serial, &removed, &added);

	struct fe_store_zone_rec rd = zone_rec(sd), rr = zone_rec(sr), rf = zone_rec(sf);
	cr_assert_eq(rd.data_id, before.data_id, "the data id survives a commit");
	cr_assert_neq(rd.version, before.version, "a commit is a new version");
	fe_store_close(sd);
	fe_store_close(sr);
	fe_store_close(sf);
	expect_same_zone("delta", &rd, "fresh", &rf);
	expect_same_zone("reload", &rr, "fresh", &rf);
	free_rrs(&removed);
	free_rrs(&added);
	free_lines(&l1);
	free_lines(&l2);
}

#endif
