/* Wire names: canonical keys (order and inverse), validation, decompression attacks (Q3). */
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "fe_test_name.h"

#include <criterion/criterion.h>
#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>

static int key_of(const char *s, uint8_t *key)
{
	uint8_t w[FE_WIRE_NAME_MAX];
	size_t n = fe_test_wire_name(s, w);
	int k = fe_wire_name_key(w, n, key, FE_WIRE_KEY_MAX);
	cr_assert_geq(k, 0, "key of %s: %d", s, k);
	return k;
}

static int keycmp(const uint8_t *a, int al, const uint8_t *b, int bl)
{
	int m = memcmp(a, b, (size_t)(al < bl ? al : bl));
	if (m != 0)
		return m;
	return al < bl ? -1 : al > bl;
}

/* Strictly ascending in RFC 4034 §6.1 canonical order (the RFC's own example, then cases
 * that break naive encodings: \000 and \001 inside labels, label prefixes, case). */
static const char *const sorted_names[] = {
        ".",
        "example.",
        "a.example.",
        "yljkjljk.a.example.",
        "Z.a.example.",
        "zABC.a.EXAMPLE.",
        "z.example.",
        "\\001.z.example.",
        "*.z.example.",
        "\\200.z.example.",
        "x.",
        "\\000.x.",
        "\\000\\000.x.",
        "\\000\\001.x.",
        "\\000a.x.",
        "\\001.x.",
        "\\001\\000.x.",
        "\\001\\001.x.",
        "\\001\\002.x.",
        "\\002.x.",
        "A.x.",
        "a.a.x.",
        "\\000.a.a.x.",
        "b.a.a.x.",
        "a\\000.x.",
        "a\\000\\000.x.",
        "a\\001.x.",
        "a\\002.x.",
        "aa.x.",
        "aB.x.",
        "ab\\000.x.",
        "abc.x.",
        "b.x.",
        "a.b.x.",
        "b\\255.x.",
        "\\255.x.",
        "\\255\\255.x.",
        "x\\000.",
        "xa.",
        "y.",
};

Test(name_key, rfc4034_order_is_memcmp_order)
{
	uint8_t prev[FE_WIRE_KEY_MAX], cur[FE_WIRE_KEY_MAX];
	int pl = key_of(sorted_names[0], prev);
	cr_assert_eq(pl, 0, "root key must be empty");
	for (size_t i = 1; i < FE_ARRAY_LEN(sorted_names); i++) {
		int cl = key_of(sorted_names[i], cur);
		cr_assert_lt(keycmp(prev, pl, cur, cl), 0, "key(%s) !< key(%s)",
		             sorted_names[i - 1], sorted_names[i]);
		/* ldns' canonical compare agrees with the list */
		ldns_rdf *a = ldns_dname_new_frm_str(sorted_names[i - 1]);
		ldns_rdf *b = ldns_dname_new_frm_str(sorted_names[i]);
		cr_assert_lt(ldns_dname_compare(a, b), 0, "ldns: %s !< %s", sorted_names[i - 1],
		             sorted_names[i]);
		ldns_rdf_deep_free(a);
		ldns_rdf_deep_free(b);
		memcpy(prev, cur, (size_t)cl);
		pl = cl;
	}
}

Test(name_key, case_insensitive_and_ancestor_prefix)
{
	uint8_t a[FE_WIRE_KEY_MAX], b[FE_WIRE_KEY_MAX];
	int al = key_of("WwW.ExAmPlE.", a);
	int bl = key_of("www.example.", b);
	cr_assert_eq(al, bl);
	cr_assert_eq(memcmp(a, b, (size_t)al), 0);

	al = key_of("example.", a);
	bl = key_of("1.2.example.", b);
	cr_assert_lt(al, bl);
	cr_assert_eq(memcmp(a, b, (size_t)al), 0, "ancestor key is a prefix");
	cr_assert_eq(a[al - 1], 0, "prefix ends at a label boundary");
	static const uint8_t exp[] = {'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, '2', 0, '1', 0};
	cr_assert_eq(bl, (int)sizeof(exp));
	cr_assert_eq(memcmp(b, exp, sizeof(exp)), 0);
}

Test(name_key, escapes)
{
	uint8_t k[FE_WIRE_KEY_MAX];
	int kl = key_of("a\\000\\001\\002.", k);
	static const uint8_t exp[] = {'a', 1, 1, 1, 2, 2, 0};
	cr_assert_eq(kl, (int)sizeof(exp));
	cr_assert_eq(memcmp(k, exp, sizeof(exp)), 0);
}

/* A deterministic generator for random names over an alphabet full of edge octets. */
static uint32_t rng_state = 12345;
static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static size_t random_name(uint8_t *w)
{
	static const uint8_t alpha[] = {0, 1, 2, 'a', 'A', 'b', 'Z', 'z', '-', 0x7f, 0xc0, 0xff};
	unsigned labels = rnd() % 5;
	size_t n = 0;
	for (unsigned i = 0; i < labels; i++) {
		unsigned l = 1 + rnd() % 4;
		w[n++] = (uint8_t)l;
		for (unsigned j = 0; j < l; j++)
			w[n++] = alpha[rnd() % sizeof(alpha)];
	}
	w[n++] = 0;
	return n;
}

struct rn {
	uint8_t w[64];
	size_t wl;
	uint8_t k[FE_WIRE_KEY_MAX];
	int kl;
};

static int cmp_ldns(const void *pa, const void *pb)
{
	const struct rn *a = pa, *b = pb;
	ldns_rdf *x = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, a->wl, a->w);
	ldns_rdf *y = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, b->wl, b->w);
	int r = ldns_dname_compare(x, y);
	ldns_rdf_deep_free(x);
	ldns_rdf_deep_free(y);
	return r;
}

Test(name_key, random_names_agree_with_ldns_order_and_invert)
{
	enum { N = 3000 };
	struct rn *v = calloc(N, sizeof(*v));
	cr_assert_not_null(v);
	for (int i = 0; i < N; i++) {
		v[i].wl = random_name(v[i].w);
		v[i].kl = fe_wire_name_key(v[i].w, v[i].wl, v[i].k, sizeof(v[i].k));
		cr_assert_geq(v[i].kl, 0);
		/* inverse gives the lowercased name */
		uint8_t back[FE_WIRE_NAME_MAX], lc[FE_WIRE_NAME_MAX];
		int bl = fe_wire_key_to_name(v[i].k, (size_t)v[i].kl, back, sizeof(back));
		cr_assert_eq(bl, (int)v[i].wl);
		fe_wire_name_lower(v[i].w, lc);
		cr_assert_eq(memcmp(back, lc, v[i].wl), 0);
	}
	qsort(v, N, sizeof(*v), cmp_ldns);
	for (int i = 1; i < N; i++) {
		int c = keycmp(v[i - 1].k, v[i - 1].kl, v[i].k, v[i].kl);
		if (cmp_ldns(&v[i - 1], &v[i]) == 0)
			cr_assert_eq(c, 0);
		else
			cr_assert_lt(c, 0, "pair %d out of order", i);
	}
	free(v);
}

Test(name_key, limits_and_errors)
{
	uint8_t w[300], k[FE_WIRE_KEY_MAX];
	/* 255 octets: 3 labels of 63 + one of 61 + root; every octet 0x00 (all escaped) */
	size_t n = 0;
	for (int i = 0; i < 4; i++) {
		uint8_t l = i < 3 ? 63 : 61;
		w[n++] = l;
		memset(w + n, 0, l);
		n += l;
	}
	w[n++] = 0;
	cr_assert_eq(n, 255);
	int kl = fe_wire_name_key(w, n, k, sizeof(k));
	cr_assert_eq(kl, 2 * 250 + 4);
	cr_assert_leq(kl, FE_WIRE_KEY_MAX);
	uint8_t back[FE_WIRE_NAME_MAX];
	cr_assert_eq(fe_wire_key_to_name(k, (size_t)kl, back, sizeof(back)), 255);
	cr_assert_eq(memcmp(back, w, 255), 0);
	/* short key buffer */
	cr_assert_eq(fe_wire_name_key(w, n, k, 100), FE_ENOSPC);
	cr_assert_eq(fe_wire_key_to_name(k, (size_t)kl, back, 254), FE_ENOSPC);

	/* 256 octets */
	w[n - 1] = 1;
	w[n] = 'a';
	w[n + 1] = 0;
	cr_assert_eq(fe_wire_name_key(w, n + 2, k, sizeof(k)), FE_EFORMAT);
	/* label > 63, pointer, missing root, trailing bytes, empty input */
	static const uint8_t l64[] = {64, 'a'};
	cr_assert_eq(fe_wire_name_key(l64, sizeof(l64), k, sizeof(k)), FE_EFORMAT);
	static const uint8_t ptr[] = {0xC0, 12};
	cr_assert_eq(fe_wire_name_key(ptr, sizeof(ptr), k, sizeof(k)), FE_EFORMAT);
	static const uint8_t noroot[] = {1, 'a'};
	cr_assert_eq(fe_wire_name_key(noroot, sizeof(noroot), k, sizeof(k)), FE_EFORMAT);
	static const uint8_t trail[] = {1, 'a', 0, 0};
	cr_assert_eq(fe_wire_name_key(trail, sizeof(trail), k, sizeof(k)), FE_EFORMAT);
	cr_assert_eq(fe_wire_name_key(trail, 0, k, sizeof(k)), FE_EFORMAT);
	/* exact cap works */
	cr_assert_eq(fe_wire_name_key(trail, 3, k, 2), 2);
	cr_assert_eq(fe_wire_name_key(trail, 3, k, 1), FE_ENOSPC);
}

Test(name_key, key_to_name_rejects_foreign_keys)
{
	uint8_t out[FE_WIRE_NAME_MAX];
	static const struct {
		const char *k;
		size_t l;
	} bad[] = {
	        {"a", 1},      /* no terminator */
	        {"\0", 1},     /* empty label */
	        {"a\0\0", 3},  /* empty label after one */
	        {"A\0", 2},    /* uppercase: never produced */
	        {"\1\3\0", 3}, /* bad escape */
	        {"\1", 1},     /* escape cut */
	        {"\1\0", 2},   /* escape of terminator */
	};
	for (size_t i = 0; i < FE_ARRAY_LEN(bad); i++)
		cr_assert_eq(
		        fe_wire_key_to_name((const uint8_t *)bad[i].k, bad[i].l, out, sizeof(out)),
		        FE_EFORMAT, "case %zu", i);
	uint8_t k[70];
	memset(k, 'a', 64);
	k[64] = 0;
	cr_assert_eq(fe_wire_key_to_name(k, 65, out, sizeof(out)), FE_EFORMAT, "label 64");
	cr_assert_eq(fe_wire_key_to_name(k + 1, 64, out, sizeof(out)), 65, "label 63");
	cr_assert_eq(fe_wire_key_to_name(k, 0, out, sizeof(out)), 1, "root");
	cr_assert_eq(out[0], 0);
	/* too many labels for 255 octets */
	uint8_t many[FE_WIRE_KEY_MAX];
	for (int i = 0; i < 128; i++) {
		many[2 * i] = 'a';
		many[2 * i + 1] = 0;
	}
	cr_assert_eq(fe_wire_key_to_name(many, 256, out, sizeof(out)), FE_EFORMAT);
	cr_assert_eq(fe_wire_key_to_name(many, 254, out, sizeof(out)), 255);
}

Test(name, len_labels_eq_lower)
{
	uint8_t a[FE_WIRE_NAME_MAX], b[FE_WIRE_NAME_MAX], lc[FE_WIRE_NAME_MAX];
	size_t al = fe_test_wire_name("WWW.Example.COM.", a);
	size_t bl = fe_test_wire_name("www.example.com.", b);
	cr_assert_eq(fe_wire_name_len(a, sizeof(a)), (int)al);
	cr_assert_eq(fe_wire_name_len(a, al), (int)al);
	cr_assert_eq(fe_wire_name_len(a, al - 1), FE_EFORMAT);
	cr_assert_eq(fe_wire_name_labels(a), 3);
	cr_assert(fe_wire_name_eq(a, b));
	fe_wire_name_lower(a, lc);
	cr_assert_eq(memcmp(lc, b, bl), 0);
	fe_test_wire_name("www.example.org.", b);
	cr_assert_not(fe_wire_name_eq(a, b));
	fe_test_wire_name("www.example.", b);
	cr_assert_not(fe_wire_name_eq(a, b));
	fe_test_wire_name("ww.wexample.com.", b);
	cr_assert_not(fe_wire_name_eq(a, b));
	/* only ASCII folds (RFC 4343) */
	fe_test_wire_name("\\193.", a);
	fe_test_wire_name("\\225.", b);
	cr_assert_not(fe_wire_name_eq(a, b));
	fe_test_wire_name("[.", a);
	fe_test_wire_name("{.", b);
	cr_assert_not(fe_wire_name_eq(a, b));
	static const uint8_t root[] = {0};
	cr_assert_eq(fe_wire_name_labels(root), 0);
	cr_assert_eq(fe_wire_name_len(root, 1), 1);
	cr_assert_eq(fe_wire_name_len(root, 0), FE_EFORMAT);
	static const uint8_t bad[][3] = {{0x40, 'a', 0}, {0x80, 'a', 0}, {0xC0, 12, 0}};
	for (size_t i = 0; i < FE_ARRAY_LEN(bad); i++)
		cr_assert_eq(fe_wire_name_len(bad[i], 3), FE_EFORMAT);
}

Test(name, to_str)
{
	uint8_t w[FE_WIRE_NAME_MAX];
	char s[64];
	fe_test_wire_name("WwW.example.", w);
	fe_wire_name_to_str(w, s, sizeof(s));
	cr_assert_str_eq(s, "WwW.example.");
	static const uint8_t root[] = {0};
	fe_wire_name_to_str(root, s, sizeof(s));
	cr_assert_str_eq(s, ".");
	static const uint8_t odd[] = {5, 'a', '.', 0, '\\', ' ', 2, 0xff, '"', 0};
	fe_wire_name_to_str(odd, s, sizeof(s));
	cr_assert_str_eq(s, "a\\.\\000\\\\\\032.\\255\\\".");
	/* truncation keeps the string terminated and never splits an escape */
	fe_wire_name_to_str(odd, s, 5);
	cr_assert_str_eq(s, "a\\.");
	memset(s, 'x', sizeof(s));
	fe_wire_name_to_str(odd, s, 1);
	cr_assert_eq(s[0], 0);
	fe_wire_name_to_str(w, s, 0);
}

/* ---- decompression (docs/security.md Q3) ----------------------------------------------- */

static uint8_t pkt[1024];

/* 12-byte zero header, then @body at offset 12. */
static size_t mk(const uint8_t *body, size_t n)
{
	memset(pkt, 0, FE_WIRE_HDR_LEN);
	memcpy(pkt + FE_WIRE_HDR_LEN, body, n);
	return FE_WIRE_HDR_LEN + n;
}

static int rd(size_t len, size_t at, size_t *end, uint8_t *out)
{
	size_t pos = at;
	int r = fe_wire_name_read(pkt, len, &pos, out);
	if (r < 0)
		cr_assert_eq(pos, at, "pos must not move on error");
	if (end)
		*end = pos;
	return r;
}

Test(name_read, plain_and_compressed)
{
	/* 12: www.example. ; 25: mail + ptr->16 (example.) ; 32: ptr->25 */
	static const uint8_t b[] = {3,   'w', 'w', 'w', 7,   'e', 'x', 'a',  'm', 'p',  'l',
	                            'e', 0,   4,   'm', 'a', 'i', 'l', 0xC0, 16,  0xC0, 25};
	size_t len = mk(b, sizeof(b)), end;
	uint8_t out[FE_WIRE_NAME_MAX], exp[FE_WIRE_NAME_MAX];
	cr_assert_eq(rd(len, 12, &end, out), 13);
	cr_assert_eq(end, 25);
	size_t el = fe_test_wire_name("mail.example.", exp);
	cr_assert_eq(rd(len, 25, &end, out), (int)el);
	cr_assert_eq(end, 32);
	cr_assert_eq(memcmp(out, exp, el), 0);
	cr_assert_eq(rd(len, 32, &end, out), (int)el);
	cr_assert_eq(end, 34);
	cr_assert_eq(memcmp(out, exp, el), 0);
	/* validate-only mode */
	cr_assert_eq(rd(len, 32, &end, NULL), (int)el);
	cr_assert_eq(end, 34);
}

Test(name_read, self_forward_header_and_cut_pointers)
{
	uint8_t out[FE_WIRE_NAME_MAX];
	static const uint8_t self[] = {0xC0, 12};
	cr_assert_eq(rd(mk(self, 2), 12, NULL, out), FE_EFORMAT, "self pointer");
	static const uint8_t fwd[] = {0xC0, 14, 0};
	cr_assert_eq(rd(mk(fwd, 3), 12, NULL, out), FE_EFORMAT, "forward pointer");
	static const uint8_t hdr[] = {0xC0, 2};
	cr_assert_eq(rd(mk(hdr, 2), 12, NULL, out), FE_EFORMAT, "pointer into the header");
	static const uint8_t last[] = {0, 1, 'a', 0xC0};
	cr_assert_eq(rd(mk(last, 4), 13, NULL, out), FE_EFORMAT, "pointer as last byte");
	static const uint8_t beyond[] = {0, 0xFF, 0xFF};
	cr_assert_eq(rd(mk(beyond, 3), 13, NULL, out), FE_EFORMAT, "pointer beyond the packet");
	static const uint8_t cut[] = {3, 'a', 'b'};
	cr_assert_eq(rd(mk(cut, 3), 12, NULL, out), FE_EFORMAT, "label cut");
	static const uint8_t noroot[] = {1, 'a'};
	cr_assert_eq(rd(mk(noroot, 2), 12, NULL, out), FE_EFORMAT, "no root");
	static const uint8_t ext[] = {0x41, 'a', 0};
	cr_assert_eq(rd(mk(ext, 3), 12, NULL, out), FE_EFORMAT, "extended label type");
	static const uint8_t res[] = {0x80, 'a', 0};
	cr_assert_eq(rd(mk(res, 3), 12, NULL, out), FE_EFORMAT, "reserved label type");
	cr_assert_eq(rd(12, 12, NULL, out), FE_EFORMAT, "empty");
}

Test(name_read, loops_never_followed)
{
	uint8_t out[FE_WIRE_NAME_MAX];
	/* 12: 'a' + ptr->16 ; 16: 'b' + ptr->12 — a 2-cycle reached from either end */
	static const uint8_t cyc[] = {1, 'a', 0xC0, 16, 1, 'b', 0xC0, 12};
	size_t len = mk(cyc, sizeof(cyc));
	cr_assert_eq(rd(len, 12, NULL, out), FE_EFORMAT);
	cr_assert_eq(rd(len, 16, NULL, out), FE_EFORMAT);
	/* 12: 'a' ; 14: ptr->12 is fine until the run it lands in points forward again:
	 * 12: 1 'a' 0xC0 16 ; 16: 0xC0 12 (backwards, but the target's run ends in a pointer
	 * to 16, which is not before the run start 12) */
	static const uint8_t cyc2[] = {1, 'a', 0xC0, 16, 0xC0, 12};
	len = mk(cyc2, sizeof(cyc2));
	cr_assert_eq(rd(len, 16, NULL, out), FE_EFORMAT);
	/* a pointer into the middle of its own run: 12: 1 'a' 1 'b' 0xC0 14 */
	static const uint8_t mid[] = {1, 'a', 1, 'b', 0xC0, 14};
	cr_assert_eq(rd(mk(mid, sizeof(mid)), 12, NULL, out), FE_EFORMAT);
}

Test(name_read, hop_limit)
{
	/* 12: root ; then a chain where pointer k points at pointer k-1 */
	uint8_t b[64];
	size_t n = 0;
	b[n++] = 0;
	for (int k = 0; k < 20; k++) {
		size_t target = FE_WIRE_HDR_LEN + (k == 0 ? 0 : 1 + 2 * (size_t)(k - 1));
		b[n++] = 0xC0;
		b[n++] = (uint8_t)target;
	}
	size_t len = mk(b, n);
	uint8_t out[FE_WIRE_NAME_MAX];
	size_t at16 = FE_WIRE_HDR_LEN + 1 + 2 * 15; /* the 16th pointer: 16 hops */
	cr_assert_eq(rd(len, at16, NULL, out), 1);
	cr_assert_eq(rd(len, at16 + 2, NULL, out), FE_EFORMAT, "17 hops");
}

Test(name_read, total_length_limit)
{
	/* 12: 63+63+63+ 'x'(1) + root = 4 + 190 + 1 = 195 octets; then names pointing at it */
	uint8_t b[600];
	size_t n = 0;
	for (int i = 0; i < 3; i++) {
		b[n++] = 63;
		memset(b + n, 'a' + i, 63);
		n += 63;
	}
	b[n++] = 1;
	b[n++] = 'x';
	b[n++] = 0;
	cr_assert_eq(n, 195);
	/* 58-octet label + pointer: 59 + 195 = 254 */
	size_t ok = FE_WIRE_HDR_LEN + n;
	b[n++] = 58;
	memset(b + n, 'q', 58);
	n += 58;
	b[n++] = 0xC0;
	b[n++] = FE_WIRE_HDR_LEN;
	/* 59-octet label: exactly 255 */
	size_t ok255 = FE_WIRE_HDR_LEN + n;
	b[n++] = 59;
	memset(b + n, 'r', 59);
	n += 59;
	b[n++] = 0xC0;
	b[n++] = FE_WIRE_HDR_LEN;
	/* 60-octet label: 256 */
	size_t bad = FE_WIRE_HDR_LEN + n;
	b[n++] = 60;
	memset(b + n, 's', 60);
	n += 60;
	b[n++] = 0xC0;
	b[n++] = FE_WIRE_HDR_LEN;
	size_t len = mk(b, n);
	uint8_t out[FE_WIRE_NAME_MAX];
	cr_assert_eq(rd(len, ok, NULL, out), 254);
	cr_assert_eq(rd(len, ok255, NULL, out), 255);
	cr_assert_eq(fe_wire_name_len(out, sizeof(out)), 255);
	cr_assert_eq(rd(len, bad, NULL, out), FE_EFORMAT);
	cr_assert_eq(rd(len, bad, NULL, NULL), FE_EFORMAT);
}
