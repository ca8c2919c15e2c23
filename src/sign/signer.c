/* The zone signer: records sorted in canonical order (RFC 4034 §6.1, §6.3), empty
 * non-terminals found, the NSEC3 (RFC 5155, RFC 9276 parameters) or NSEC chain built, every
 * authoritative RRset signed on one thread per core, the result written as a master file. */
#include "sign_int.h"

#include "fedenum/store.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "fedenum/zone.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define T_NS         2
#define T_SOA        6
#define T_DS         43
#define T_RRSIG      46
#define T_NSEC       47
#define T_DNSKEY     48
#define T_NSEC3      50
#define T_NSEC3PARAM 51

/* A chunked bump allocator (one per thread, and one for the main phase). */
struct chunk {
	struct chunk *next;
	size_t used, cap;
	_Alignas(16) uint8_t data[];
};
struct arena {
	struct chunk *head;
};

static void *arena_alloc(struct arena *a, size_t n)
{
	n = (n + 7) & ~(size_t)7;
	if (a->head == NULL || a->head->cap - a->head->used < n) {
		size_t cap = n > (4u << 20) ? n : (4u << 20);
		struct chunk *c = malloc(sizeof(*c) + cap);
		if (c == NULL)
			return NULL;
		c->next = a->head;
		c->used = 0;
		c->cap = cap;
		a->head = c;
	}
	void *p = a->head->data + a->head->used;
	a->head->used += n;
	return p;
}

static void arena_free(struct arena *a)
{
	while (a->head) {
		struct chunk *n = a->head->next;
		free(a->head);
		a->head = n;
	}
}

struct rec {
	const uint8_t *owner; /* lowercase wire */
	const uint8_t *key;   /* canonical key */
	uint16_t key_len;
	uint16_t type;
	uint32_t ttl;
	uint16_t rdlen;
	const uint8_t *rdata;
	const uint8_t *hash; /* NSEC3: the raw hash of the owner (the store's key) */
};

struct rrset {
	const struct rec *rr; /* @n records, canonical RDATA order */
	uint32_t n;
	bool sign;
	uint8_t nsigs;
	uint32_t sigs_len;
	uint8_t *sigs; /* nsigs × (u16 length, RRSIG RDATA) */
};

struct name {
	const uint8_t *key;
	uint16_t key_len;
	const uint8_t *owner;
	uint32_t first, count; /* records */
	bool ent, cut, glue;
	uint8_t hash[FE_WIRE_NSEC3_SHA1_LEN];
};

struct signer {
	const struct fe_sign_opts *o;
	const struct fe_sign_keyset *ks;
	uint8_t apex[256];
	size_t apex_len;
	uint8_t apex_key[FE_WIRE_KEY_MAX];
	size_t apex_key_len;
	uint32_t soa_ttl, soa_min;
	struct arena a;
	struct rec *recs;
	size_t nrecs;
	struct name *names;
	size_t nnames;
	struct rec *drecs; /* NSEC or NSEC3 */
	size_t ndrecs;
	struct rrset *sets;
	size_t nsets;
	uint32_t inception, expiration;
	int64_t keep_after; /* a stored signature is kept when it expires after this */
	_Atomic size_t next;
	_Atomic uint64_t done;
	_Atomic int failed;
	_Atomic uint64_t reused;
	uint64_t nsig;
};

static int rdata_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);
	if (c)
		return c;
	return al < bl ? -1 : al > bl;
}

static int rec_cmp(const void *pa, const void *pb)
{
	const struct rec *a = pa, *b = pb;
	int c = fe_wire_key_cmp(a->key, a->key_len, b->key, b->key_len);
	if (c)
		return c;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	return rdata_cmp(a->rdata, a->rdlen, b->rdata, b->rdlen);
}

/* Owner @name (any case) as a record's lowercase owner and key, in the arena. */
static int intern_owner(struct signer *s, const uint8_t *name, struct rec *r)
{
	int nl = fe_wire_name_len(name, FE_WIRE_NAME_MAX);
	if (nl < 0)
		return FE_EFORMAT;
	uint8_t low[FE_WIRE_NAME_MAX], key[FE_WIRE_KEY_MAX];
	fe_wire_name_lower(name, low);
	int kl = fe_wire_name_key(low, (size_t)nl, key, sizeof(key));
	if (kl < 0)
		return FE_EFORMAT;
	if ((size_t)kl < s->apex_key_len || memcmp(key, s->apex_key, s->apex_key_len) != 0)
		return FE_ERANGE;
	uint8_t *p = arena_alloc(&s->a, (size_t)nl + (size_t)kl);
	if (p == NULL)
		return FE_ENOMEM;
	memcpy(p, low, (size_t)nl);
	memcpy(p + nl, key, (size_t)kl);
	r->owner = p;
	r->key = p + nl;
	r->key_len = (uint16_t)kl;
	return FE_OK;
}

/* The RRSIG labels field of @owner: labels, a leading '*' not counted (RFC 4034 §3.1.3). */
static uint8_t sig_labels(const uint8_t *owner)
{
	int n = fe_wire_name_labels(owner);
	if (owner[0] == 1 && owner[1] == '*')
		n--;
	return (uint8_t)n;
}

/* ---- signing ---------------------------------------------------------------------------- */

struct worker {
	struct signer *s;
	struct arena a;
	uint8_t *buf;
	size_t cap;
	EVP_MD_CTX *md;
	EVP_MD *sha256;
	struct fe_store_reader *rd; /* the stored version, for signatures to keep */
	const struct fe_store_zone_rec *zone;
	EVP_PKEY_CTX **pctx; /* per key of the keyset, made on first use */
	unsigned id;
	int rc;
};

static int buf_need(struct worker *w, size_t n)
{
	if (n <= w->cap)
		return FE_OK;
	size_t cap = w->cap ? w->cap : 4096;
	while (cap < n)
		cap *= 2;
	uint8_t *b = realloc(w->buf, cap);
	if (b == NULL)
		return FE_ENOMEM;
	w->buf = b;
	w->cap = cap;
	return FE_OK;
}

/* Sign @data with @k (index @ki of the keyset) into @sig (64 octets for both algorithms).
 * ECDSA: SHA-256 here, then the signature over the digest with a context made once per
 * thread and key (EVP_PKEY_sign: no algorithm fetch per signature). */
static int sign_data(struct worker *w, size_t ki, const struct fe_sign_key *k, const uint8_t *data,
                     size_t len, uint8_t *sig)
{
	if (k->alg == FE_SIGN_ALG_ED25519) {
		size_t sl = 64;
		EVP_MD_CTX_reset(w->md);
		if (EVP_DigestSignInit(w->md, NULL, NULL, NULL, k->pkey) != 1 ||
		    EVP_DigestSign(w->md, sig, &sl, data, len) != 1 || sl != 64)
			return FE_EIO;
		return FE_OK;
	}
	if (w->pctx[ki] == NULL) {
		w->pctx[ki] = EVP_PKEY_CTX_new(k->pkey, NULL);
		if (w->pctx[ki] == NULL || EVP_PKEY_sign_init(w->pctx[ki]) != 1)
			return FE_EIO;
	}
	uint8_t md[32];
	unsigned int mdl = 0;
	if (EVP_Digest(data, len, md, &mdl, w->sha256, NULL) != 1 || mdl != 32)
		return FE_EIO;
	uint8_t der[80];
	size_t dl = sizeof(der);
	if (EVP_PKEY_sign(w->pctx[ki], der, &dl, md, sizeof(md)) != 1)
		return FE_EIO;
	const unsigned char *p = der;
	ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)dl);
	if (es == NULL)
		return FE_EIO;
	const BIGNUM *r, *sv;
	ECDSA_SIG_get0(es, &r, &sv);
	int ok = BN_bn2binpad(r, sig, 32) == 32 && BN_bn2binpad(sv, sig + 32, 32) == 32;
	ECDSA_SIG_free(es);
	return ok ? FE_OK : FE_EIO;
}

static bool key_signs(const struct fe_sign_key *k, uint16_t type)
{
	if (k->state != FE_SIGN_ACTIVE)
		return false;
	return type == T_DNSKEY ? k->role == FE_SIGN_KSK : k->role == FE_SIGN_ZSK;
}

/* The stored version's RRSIGs over the same RRset (same RRs in the same order, same TTL),
 * one per key that signs it now, each expiring after the refresh horizon: copied into
 * @set instead of signing again. true when every signing key has one. */
static bool reuse(struct worker *w, struct rrset *set, size_t hdr)
{
	struct signer *s = w->s;
	const struct rec *r0 = set->rr;
	struct fe_store_node node;
	struct fe_store_rrset rs;
	bool exact = false;
	int rc = r0->hash ? fe_store_nsec3_find(w->rd, w->zone, r0->hash, FE_WIRE_NSEC3_SHA1_LEN,
	                                        &exact, &node)
	                  : fe_store_get_node(w->rd, w->zone, r0->key, r0->key_len, &node);
	if (rc != FE_OK || (r0->hash && !exact) || !fe_store_node_find(&node, r0->type, &rs) ||
	    rs.rr_count != set->n || rs.ttl != r0->ttl)
		return false;
	const uint8_t *found[8] = {0};
	uint16_t flen[8] = {0};
	size_t it = 0, i = 0;
	const uint8_t *rd;
	uint16_t rl;
	bool is_sig;
	while (fe_store_rrset_next(&rs, &it, &rd, &rl, &is_sig)) {
		if (!is_sig) {
			if (i >= set->n || rl != r0[i].rdlen || memcmp(rd, r0[i].rdata, rl) != 0)
				return false;
			i++;
			continue;
		}
		if (rl != hdr + 64 || fe_get_be16(rd) != r0->type ||
		    rd[3] != sig_labels(r0->owner) || fe_get_be32(rd + 4) != r0->ttl ||
		    (int64_t)fe_get_be32(rd + 8) < s->keep_after ||
		    memcmp(rd + 18, s->apex, s->apex_len) != 0)
			continue;
		for (size_t k = 0; k < s->ks->n && k < 8; k++) {
			const struct fe_sign_key *key = &s->ks->keys[k];
			if (key_signs(key, r0->type) && rd[2] == key->alg &&
			    fe_get_be16(rd + 16) == key->tag) {
				found[k] = rd;
				flen[k] = rl;
			}
		}
	}
	if (i != set->n)
		return false;
	size_t need = 0;
	for (size_t k = 0; k < s->ks->n; k++) {
		if (!key_signs(&s->ks->keys[k], r0->type))
			continue;
		if (k >= 8 || found[k] == NULL)
			return false;
		need += 2u + flen[k];
	}
	uint8_t *out = arena_alloc(&w->a, need);
	if (out == NULL)
		return false;
	set->sigs = out;
	set->sigs_len = 0;
	set->nsigs = 0;
	for (size_t k = 0; k < s->ks->n && k < 8; k++) {
		if (found[k] == NULL)
			continue;
		fe_put_be16(out + set->sigs_len, flen[k]);
		memcpy(out + set->sigs_len + 2, found[k], flen[k]);
		set->sigs_len += 2u + flen[k];
		set->nsigs++;
	}
	atomic_fetch_add(&s->reused, 1);
	return true;
}

static int sign_set(struct worker *w, struct rrset *set)
{
	struct signer *s = w->s;
	const struct rec *r0 = set->rr;
	const struct fe_sign_keyset *ks = s->ks;
	size_t hdr = 18 + s->apex_len;
	if (w->zone && reuse(w, set, hdr))
		return FE_OK;
	size_t need = hdr;
	for (uint32_t i = 0; i < set->n; i++)
		need += (size_t)fe_wire_name_len(r0[i].owner, FE_WIRE_NAME_MAX) + 10 + r0[i].rdlen;
	if (buf_need(w, need) != FE_OK)
		return FE_ENOMEM;
	uint8_t *b = w->buf;
	fe_put_be16(b, r0->type);
	b[3] = sig_labels(r0->owner);
	fe_put_be32(b + 4, r0->ttl);
	fe_put_be32(b + 8, s->expiration);
	fe_put_be32(b + 12, s->inception);
	memcpy(b + 18, s->apex, s->apex_len);
	size_t off = hdr;
	for (uint32_t i = 0; i < set->n; i++) {
		const struct rec *r = &r0[i];
		int nl = fe_wire_name_len(r->owner, FE_WIRE_NAME_MAX);
		memcpy(b + off, r->owner, (size_t)nl);
		off += (size_t)nl;
		fe_put_be16(b + off, r->type);
		fe_put_be16(b + off + 2, 1);
		fe_put_be32(b + off + 4, r0->ttl);
		fe_put_be16(b + off + 8, r->rdlen);
		memcpy(b + off + 10, r->rdata, r->rdlen);
		off += 10u + r->rdlen;
	}
	unsigned nk = 0;
	for (size_t i = 0; i < ks->n; i++)
		nk += key_signs(&ks->keys[i], r0->type);
	uint8_t *out = arena_alloc(&w->a, nk * (2 + hdr + 64));
	if (out == NULL)
		return FE_ENOMEM;
	set->sigs = out;
	set->sigs_len = 0;
	for (size_t i = 0; i < ks->n; i++) {
		const struct fe_sign_key *k = &ks->keys[i];
		if (!key_signs(k, r0->type))
			continue;
		b[2] = k->alg;
		fe_put_be16(b + 16, k->tag);
		uint8_t *o = out + set->sigs_len;
		fe_put_be16(o, (uint16_t)(hdr + 64));
		memcpy(o + 2, b, hdr);
		int rc = sign_data(w, i, k, b, off, o + 2 + hdr);
		if (rc != FE_OK)
			return rc;
		set->sigs_len += (uint32_t)(2 + hdr + 64);
		set->nsigs++;
	}
	return FE_OK;
}

#define BLOCK 256

static void *work(void *arg)
{
	struct worker *w = arg;
	struct signer *s = w->s;
	/* a read snapshot of the stored version for the whole signing (own per thread) */
	if (s->o->store && fe_store_reader_create(s->o->store, &w->rd) == FE_OK &&
	    fe_store_reader_begin(w->rd) == FE_OK &&
	    fe_store_get_zone(w->rd, s->apex_key, s->apex_key_len, &w->zone) != FE_OK)
		w->zone = NULL;
	for (;;) {
		if (atomic_load(&s->failed))
			break;
		size_t from = atomic_fetch_add(&s->next, BLOCK);
		if (from >= s->nsets)
			break;
		size_t to = FE_MIN(from + BLOCK, s->nsets);
		uint64_t did = 0;
		for (size_t i = from; i < to; i++) {
			if (!s->sets[i].sign)
				continue;
			int rc = sign_set(w, &s->sets[i]);
			if (rc != FE_OK) {
				w->rc = rc;
				atomic_store(&s->failed, 1);
				return NULL;
			}
			did++;
		}
		uint64_t d = atomic_fetch_add(&s->done, did) + did;
		if (w->id == 0 && s->o->progress)
			s->o->progress(s->o->progress_arg, d, s->nsig);
	}
	return NULL;
}

/* ---- denial of existence ---------------------------------------------------------------- */

/* Type bitmap (RFC 4034 §4.1.2) of the sorted, unique @types into @out (34 × 32 max). */
static size_t bitmap(const uint16_t *types, size_t n, uint8_t *out)
{
	size_t len = 0;
	size_t i = 0;
	while (i < n) {
		uint8_t win = (uint8_t)(types[i] >> 8);
		uint8_t bits[32] = {0};
		uint8_t used = 0;
		for (; i < n && (types[i] >> 8) == win; i++) {
			uint8_t lo = (uint8_t)types[i];
			bits[lo / 8] |= (uint8_t)(0x80 >> (lo % 8));
			used = (uint8_t)(lo / 8 + 1);
		}
		out[len++] = win;
		out[len++] = used;
		memcpy(out + len, bits, used);
		len += used;
	}
	return len;
}

static void add_type(uint16_t *t, size_t *n, uint16_t type)
{
	size_t i = 0;
	while (i < *n && t[i] < type)
		i++;
	if (i < *n && t[i] == type)
		return;
	memmove(t + i + 1, t + i, (*n - i) * sizeof(*t));
	t[i] = type;
	(*n)++;
}

/* The types present at name @nm for its NSEC/NSEC3 bitmap. */
static size_t name_types(const struct signer *s, const struct name *nm, uint16_t *t)
{
	size_t n = 0;
	bool signed_any = false;
	for (uint32_t i = 0; i < nm->count; i++) {
		uint16_t ty = s->recs[nm->first + i].type;
		add_type(t, &n, ty);
		if (!nm->cut || ty == T_DS)
			signed_any = true;
	}
	if (signed_any)
		add_type(t, &n, T_RRSIG);
	return n;
}

static int hash_cmp(const void *a, const void *b)
{
	const struct name *const *x = a, *const *y = b;
	return memcmp((*x)->hash, (*y)->hash, FE_WIRE_NSEC3_SHA1_LEN);
}

static uint32_t denial_ttl(const struct signer *s)
{
	return FE_MIN(s->soa_ttl, s->soa_min); /* RFC 9077 */
}

static int build_nsec3(struct signer *s)
{
	size_t na = 0;
	for (size_t i = 0; i < s->nnames; i++)
		na += !s->names[i].glue;
	struct name **v = malloc(na * sizeof(*v));
	s->drecs = calloc(na, sizeof(*s->drecs));
	if (v == NULL || s->drecs == NULL) {
		free(v);
		return FE_ENOMEM;
	}
	size_t k = 0;
	for (size_t i = 0; i < s->nnames; i++) {
		struct name *nm = &s->names[i];
		if (nm->glue)
			continue;
		if (fe_wire_nsec3_hash(nm->owner, 1, 0, NULL, 0, nm->hash) !=
		    FE_WIRE_NSEC3_SHA1_LEN) {
			free(v);
			return FE_EFORMAT;
		}
		v[k++] = nm;
	}
	qsort(v, na, sizeof(*v), hash_cmp);
	uint16_t types[300];
	uint8_t bm[34 * 32 + 8];
	for (size_t i = 0; i < na; i++) {
		if (i + 1 < na && memcmp(v[i]->hash, v[i + 1]->hash, FE_WIRE_NSEC3_SHA1_LEN) == 0) {
			free(v);
			return FE_EEXIST; /* a SHA-1 collision: not expected in practice */
		}
		const struct name *nx = v[(i + 1) % na];
		size_t nt = name_types(s, v[i], types);
		size_t bl = bitmap(types, nt, bm);
		size_t rl = 5 + 1 + 20 + bl;
		uint8_t *rd = arena_alloc(&s->a, rl);
		uint8_t *own = arena_alloc(&s->a, 33 + s->apex_len);
		if (rd == NULL || own == NULL) {
			free(v);
			return FE_ENOMEM;
		}
		rd[0] = 1; /* SHA-1 */
		rd[1] = 0; /* no opt-out */
		fe_put_be16(rd + 2, 0);
		rd[4] = 0;
		rd[5] = 20;
		memcpy(rd + 6, nx->hash, 20);
		memcpy(rd + 26, bm, bl);
		own[0] = 32;
		fe__sign_b32hex(v[i]->hash, (char *)own + 1);
		memcpy(own + 33, s->apex, s->apex_len);
		struct rec *r = &s->drecs[s->ndrecs++];
		r->owner = own;
		r->hash = v[i]->hash;
		r->type = T_NSEC3;
		r->ttl = denial_ttl(s);
		r->rdlen = (uint16_t)rl;
		r->rdata = rd;
	}
	free(v);
	return FE_OK;
}

static int build_nsec(struct signer *s)
{
	s->drecs = calloc(s->nnames, sizeof(*s->drecs));
	if (s->drecs == NULL)
		return FE_ENOMEM;
	uint16_t types[300];
	uint8_t bm[34 * 32 + 8];
	size_t first = SIZE_MAX, prev = SIZE_MAX;
	for (size_t i = 0; i <= s->nnames; i++) {
		if (i < s->nnames && (s->names[i].ent || s->names[i].glue))
			continue;
		if (prev != SIZE_MAX) {
			const struct name *p = &s->names[prev];
			const struct name *nx = &s->names[i < s->nnames ? i : first];
			size_t nt = name_types(s, p, types);
			add_type(types, &nt, T_NSEC);
			add_type(types, &nt, T_RRSIG);
			size_t bl = bitmap(types, nt, bm);
			int nl = fe_wire_name_len(nx->owner, FE_WIRE_NAME_MAX);
			uint8_t *rd = arena_alloc(&s->a, (size_t)nl + bl);
			if (rd == NULL)
				return FE_ENOMEM;
			memcpy(rd, nx->owner, (size_t)nl);
			memcpy(rd + nl, bm, bl);
			struct rec *r = &s->drecs[s->ndrecs++];
			r->owner = p->owner;
			r->key = p->key;
			r->key_len = p->key_len;
			r->type = T_NSEC;
			r->ttl = denial_ttl(s);
			r->rdlen = (uint16_t)((size_t)nl + bl);
			r->rdata = rd;
		}
		if (i < s->nnames) {
			if (first == SIZE_MAX)
				first = i;
			prev = i;
		}
	}
	return FE_OK;
}

/* ---- names ------------------------------------------------------------------------------ */

static int push_name(struct signer *s, size_t *cap, const struct name *nm)
{
	if (s->nnames == *cap) {
		size_t nc = *cap ? *cap * 2 : 1024;
		struct name *n = realloc(s->names, nc * sizeof(*n));
		if (n == NULL)
			return FE_ENOMEM;
		s->names = n;
		*cap = nc;
	}
	s->names[s->nnames++] = *nm;
	return FE_OK;
}

/* Names in canonical order, empty non-terminals between the owners, cuts and glue marked. */
static int build_names(struct signer *s)
{
	size_t cap = 0;
	const uint8_t *pk = NULL;
	size_t pkl = 0;
	const uint8_t *cut = NULL;
	size_t cutl = 0;
	for (size_t i = 0; i < s->nrecs;) {
		const struct rec *r = &s->recs[i];
		size_t j = i + 1;
		while (j < s->nrecs && s->recs[j].key_len == r->key_len &&
		       memcmp(s->recs[j].key, r->key, r->key_len) == 0)
			j++;
		/* ancestors of this owner below the apex that are not ancestors of the previous
		 * owner: empty non-terminals (canonical order is a depth-first walk) */
		for (size_t p = s->apex_key_len + 1; p < r->key_len; p++) {
			if (r->key[p - 1] != 0)
				continue;
			if (pk && pkl >= p && memcmp(pk, r->key, p) == 0)
				continue;
			uint8_t *w = arena_alloc(&s->a, FE_WIRE_NAME_MAX);
			if (w == NULL)
				return FE_ENOMEM;
			if (fe_wire_key_to_name(r->key, p, w, FE_WIRE_NAME_MAX) < 0)
				return FE_EFORMAT;
			struct name e = {
			        .key = r->key, .key_len = (uint16_t)p, .owner = w, .ent = true};
			e.glue = cut && p > cutl && memcmp(r->key, cut, cutl) == 0;
			if (push_name(s, &cap, &e) != FE_OK)
				return FE_ENOMEM;
		}
		unsigned ntypes = 1; /* the bitmaps are built in fixed arrays */
		for (size_t k = i + 1; k < j; k++)
			ntypes += s->recs[k].type != s->recs[k - 1].type;
		if (ntypes > 256)
			return FE_ERANGE;
		struct name nm = {.key = r->key,
		                  .key_len = r->key_len,
		                  .owner = r->owner,
		                  .first = (uint32_t)i,
		                  .count = (uint32_t)(j - i)};
		if (cut && r->key_len > cutl && memcmp(r->key, cut, cutl) == 0)
			nm.glue = true;
		else {
			cut = NULL;
			if (r->key_len != s->apex_key_len)
				for (size_t k = i; k < j; k++)
					if (s->recs[k].type == T_NS) {
						nm.cut = true;
						cut = r->key;
						cutl = r->key_len;
					}
		}
		if (push_name(s, &cap, &nm) != FE_OK)
			return FE_ENOMEM;
		pk = r->key;
		pkl = r->key_len;
		i = j;
	}
	return FE_OK;
}

/* RRsets of the records (signed unless glue or a cut's NS), then the denial records. */
static int build_sets(struct signer *s)
{
	s->sets = calloc(s->nrecs + s->ndrecs, sizeof(*s->sets));
	if (s->sets == NULL)
		return FE_ENOMEM;
	for (size_t ni = 0; ni < s->nnames; ni++) {
		const struct name *nm = &s->names[ni];
		for (uint32_t i = 0; i < nm->count;) {
			const struct rec *r = &s->recs[nm->first + i];
			uint32_t j = i + 1;
			while (j < nm->count && s->recs[nm->first + j].type == r->type)
				j++;
			struct rrset *set = &s->sets[s->nsets++];
			set->rr = r;
			set->n = j - i;
			set->sign = !nm->glue && (!nm->cut || r->type == T_DS);
			s->nsig += set->sign;
			i = j;
		}
	}
	for (size_t i = 0; i < s->ndrecs; i++) {
		struct rrset *set = &s->sets[s->nsets++];
		set->rr = &s->drecs[i];
		set->n = 1;
		set->sign = true;
		s->nsig++;
	}
	return FE_OK;
}

/* ---- presentation (present.c) ---------------------------------------------------------- */

static void write_zone(const struct signer *s, FILE *f)
{
	for (size_t i = 0; i < s->nsets; i++) {
		const struct rrset *set = &s->sets[i];
		for (uint32_t k = 0; k < set->n; k++)
			fe__sign_put_rr(f, set->rr[k].owner, set->rr[0].ttl, set->rr[k].type,
			                set->rr[k].rdata, set->rr[k].rdlen);
		const uint8_t *p = set->sigs;
		for (unsigned k = 0; k < set->nsigs; k++) {
			uint16_t l = fe_get_be16(p);
			fe__sign_put_rr(f, set->rr[0].owner, set->rr[0].ttl, T_RRSIG, p + 2, l);
			p += 2u + l;
		}
	}
}

/* ---- the call --------------------------------------------------------------------------- */

void fe_sign_opts_init(struct fe_sign_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->validity_s = 14 * 86400;
	o->inception_s = 3600;
}

static int add_rec(struct signer *s, size_t *cap, const uint8_t *owner, uint16_t type, uint32_t ttl,
                   const uint8_t *rd, uint16_t rdlen)
{
	if (s->nrecs == *cap) {
		size_t nc = *cap ? *cap * 2 : 1024;
		struct rec *n = realloc(s->recs, nc * sizeof(*n));
		if (n == NULL)
			return FE_ENOMEM;
		s->recs = n;
		*cap = nc;
	}
	struct rec *r = &s->recs[s->nrecs];
	int rc = intern_owner(s, owner, r);
	if (rc != FE_OK)
		return rc;
	r->type = type;
	r->ttl = ttl;
	r->rdlen = rdlen;
	r->rdata = rd;
	r->hash = NULL;
	s->nrecs++;
	return FE_OK;
}

static int collect(struct signer *s, const struct fe_sign_rr *rrs, size_t n, char *err,
                   size_t errcap)
{
	size_t cap = 0;
	bool soa = false;
	for (size_t i = 0; i < n; i++) {
		const struct fe_sign_rr *r = &rrs[i];
		if (r->type == T_DNSKEY || r->type == T_RRSIG || r->type == T_NSEC ||
		    r->type == T_NSEC3 || r->type == T_NSEC3PARAM)
			continue;
		int rc = add_rec(s, &cap, r->owner, r->type, r->ttl, r->rdata, r->rdlen);
		if (rc != FE_OK) {
			char on[1100];
			fe_wire_name_to_str(r->owner, on, sizeof(on));
			return fe__sign_err(
			        err, errcap, rc == FE_ENOMEM ? FE_ENOMEM : FE_EFORMAT, "%s: %s", on,
			        rc == FE_ERANGE ? "outside the zone" : "bad owner name");
		}
		if (r->type == T_SOA) {
			if (s->recs[s->nrecs - 1].key_len != s->apex_key_len || soa ||
			    r->rdlen < 22)
				return fe__sign_err(err, errcap, FE_EFORMAT,
				                    "one SOA, at the apex, is required");
			soa = true;
			s->soa_ttl = r->ttl;
			s->soa_min = fe_get_be32(r->rdata + r->rdlen - 4);
		}
	}
	if (!soa)
		return fe__sign_err(err, errcap, FE_EFORMAT, "no SOA at the apex");
	uint32_t kttl = s->o->dnskey_ttl ? s->o->dnskey_ttl : s->soa_ttl;
	for (size_t i = 0; i < s->ks->n; i++) {
		const struct fe_sign_key *k = &s->ks->keys[i];
		if (k->state == FE_SIGN_REMOVED)
			continue;
		int rc = add_rec(s, &cap, s->apex, T_DNSKEY, kttl, k->dnskey, k->dnskey_len);
		if (rc != FE_OK)
			return rc;
	}
	if (!s->o->nsec) {
		static const uint8_t param[5] = {1, 0, 0, 0, 0};
		int rc = add_rec(s, &cap, s->apex, T_NSEC3PARAM, 0, param, sizeof(param));
		if (rc != FE_OK)
			return rc;
		s->recs[s->nrecs - 1].ttl = s->soa_ttl;
	}
	return FE_OK;
}

/* The signed zone as RRs into fe_zone_from_rrs. */
static int to_zone(const struct signer *s, struct fe_zone **zout, struct fe_zone_error *zerr)
{
	size_t n = 0;
	for (size_t i = 0; i < s->nsets; i++)
		n += s->sets[i].n + s->sets[i].nsigs;
	struct fe_zone_rr *v = malloc((n ? n : 1) * sizeof(*v));
	if (v == NULL)
		return FE_ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < s->nsets; i++) {
		const struct rrset *set = &s->sets[i];
		size_t ol = (size_t)fe_wire_name_len(set->rr[0].owner, FE_WIRE_NAME_MAX);
		for (uint32_t j = 0; j < set->n; j++)
			v[k++] = (struct fe_zone_rr){set->rr[j].owner, ol,
			                             set->rr[j].type,  set->rr[0].ttl,
			                             set->rr[j].rdata, set->rr[j].rdlen};
		const uint8_t *p = set->sigs;
		for (unsigned j = 0; j < set->nsigs; j++) {
			uint16_t l = fe_get_be16(p);
			v[k++] = (struct fe_zone_rr){set->rr[0].owner, ol,    T_RRSIG,
			                             set->rr[0].ttl,   p + 2, l};
			p += 2u + l;
		}
	}
	int rc = fe_zone_from_rrs(s->apex, s->apex_len, v, k, "signer", NULL, zout, zerr);
	free(v);
	return rc;
}

static int sign_impl(const uint8_t *apex, const struct fe_sign_rr *rrs, size_t n,
                     const struct fe_sign_keyset *ks, const struct fe_sign_opts *o, FILE *out,
                     struct fe_zone **zout, struct fe_zone_error *zerr, struct fe_sign_report *rep,
                     char *err, size_t errcap)
{
	struct fe_sign_opts defo;
	if (o == NULL) {
		fe_sign_opts_init(&defo);
		o = &defo;
	}
	uint64_t t0 = fe_time_mono_us();
	struct signer s = {.o = o, .ks = ks};
	int al = fe_wire_name_len(apex, FE_WIRE_NAME_MAX);
	if (al < 0)
		return fe__sign_err(err, errcap, FE_EFORMAT, "bad apex");
	fe_wire_name_lower(apex, s.apex);
	s.apex_len = (size_t)al;
	int kl = fe_wire_name_key(s.apex, s.apex_len, s.apex_key, sizeof(s.apex_key));
	if (kl < 0)
		return fe__sign_err(err, errcap, FE_EFORMAT, "bad apex");
	s.apex_key_len = (size_t)kl;
	bool ksk = false, zsk = false;
	uint8_t alg = 0;
	for (size_t i = 0; i < ks->n; i++) {
		if (ks->keys[i].state != FE_SIGN_ACTIVE)
			continue;
		ksk |= ks->keys[i].role == FE_SIGN_KSK;
		zsk |= ks->keys[i].role == FE_SIGN_ZSK;
		if (alg && alg != ks->keys[i].alg)
			return fe__sign_err(
			        err, errcap, FE_ENOTSUP,
			        "active keys of two algorithms: one algorithm per zone");
		alg = ks->keys[i].alg;
	}
	if (!ksk || !zsk)
		return fe__sign_err(err, errcap, FE_ENOENT,
		                    "no active %s for %s (fedenumctl key generate)",
		                    ksk ? "ZSK" : "KSK", ks->apex);
	int64_t now = o->now_s ? o->now_s : fe_time_wall_s();
	s.inception = (uint32_t)(now - o->inception_s);
	s.expiration = (uint32_t)(now + o->validity_s);
	s.keep_after = now + (int64_t)o->refresh_s;

	int rc = collect(&s, rrs, n, err, errcap);
	if (rc == FE_OK) {
		qsort(s.recs, s.nrecs, sizeof(*s.recs), rec_cmp);
		size_t k = 0; /* duplicates out */
		for (size_t i = 0; i < s.nrecs; i++)
			if (k == 0 || rec_cmp(&s.recs[k - 1], &s.recs[i]) != 0)
				s.recs[k++] = s.recs[i];
		s.nrecs = k;
		rc = build_names(&s);
	}
	if (rc == FE_OK)
		rc = o->nsec ? build_nsec(&s) : build_nsec3(&s);
	if (rc == FE_OK)
		rc = build_sets(&s);
	if (rc != FE_OK && err && !err[0])
		fe__sign_err(err, errcap, rc, "building the zone: %s", fe_strerror(rc));

	unsigned nt = o->threads;
	if (nt == 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		nt = c > 0 ? (unsigned)c : 1;
	}
	nt = FE_MIN(nt, 64u);
	struct worker *w = calloc(nt, sizeof(*w));
	pthread_t *th = calloc(nt, sizeof(*th));
	uint64_t t1 = fe_time_mono_us();
	if (rc == FE_OK && (w == NULL || th == NULL))
		rc = FE_ENOMEM;
	unsigned started = 0;
	if (rc == FE_OK) {
		for (unsigned i = 0; i < nt; i++) {
			w[i].s = &s;
			w[i].id = i;
			w[i].md = EVP_MD_CTX_new();
			w[i].sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
			w[i].pctx = calloc(ks->n ? ks->n : 1, sizeof(*w[i].pctx));
			if (w[i].md == NULL || w[i].sha256 == NULL || w[i].pctx == NULL)
				rc = FE_ENOMEM;
		}
		for (unsigned i = 1; rc == FE_OK && i < nt; i++) {
			if (pthread_create(&th[i], NULL, work, &w[i]) != 0)
				break;
			started = i;
		}
		if (rc == FE_OK)
			work(&w[0]);
		for (unsigned i = 1; i <= started; i++)
			pthread_join(th[i], NULL);
		for (unsigned i = 0; i < nt; i++)
			if (rc == FE_OK && w[i].rc != FE_OK)
				rc = fe__sign_err(err, errcap, w[i].rc, "signing failed: %s",
				                  fe_strerror(w[i].rc));
	}
	uint64_t t2 = fe_time_mono_us();
	uint64_t sigs = 0;
	if (rc == FE_OK && out) {
		write_zone(&s, out);
		if (fflush(out) != 0 || ferror(out))
			rc = fe__sign_err(err, errcap, FE_EIO, "writing the signed zone failed");
	} else if (rc == FE_OK) {
		rc = to_zone(&s, zout, zerr);
		if (rc != FE_OK)
			fe__sign_err(err, errcap, rc, "the signed zone: %s", zerr->reason);
	}
	for (size_t i = 0; rc == FE_OK && i < s.nsets; i++)
		sigs += s.sets[i].nsigs;
	if (rep) {
		memset(rep, 0, sizeof(*rep));
		rep->rrs_in = s.nrecs;
		rep->names = s.nnames;
		rep->rrsets = s.nsig;
		rep->signatures = sigs;
		rep->rrsets_reused = atomic_load(&s.reused);
		rep->rrs_out = s.nrecs + s.ndrecs + sigs;
		rep->sign_seconds = (double)(t2 - t1) / 1e6;
		rep->total_seconds = (double)(fe_time_mono_us() - t0) / 1e6;
		rep->expiration = s.expiration;
		rep->threads = started + 1;
	}
	if (w)
		for (unsigned i = 0; i < nt; i++) {
			EVP_MD_CTX_free(w[i].md);
			if (w[i].rd)
				fe_store_reader_end(w[i].rd);
			fe_store_reader_destroy(w[i].rd);
			EVP_MD_free(w[i].sha256);
			for (size_t k = 0; w[i].pctx && k < ks->n; k++)
				EVP_PKEY_CTX_free(w[i].pctx[k]);
			free(w[i].pctx);
			free(w[i].buf);
			arena_free(&w[i].a);
		}
	free(w);
	free(th);
	free(s.sets);
	free(s.drecs);
	free(s.names);
	free(s.recs);
	arena_free(&s.a);
	return rc;
}

int fe_sign_zone(const uint8_t *apex, const struct fe_sign_rr *rrs, size_t n,
                 const struct fe_sign_keyset *ks, const struct fe_sign_opts *o, FILE *out,
                 struct fe_sign_report *rep, char *err, size_t errcap)
{
	return sign_impl(apex, rrs, n, ks, o, out, NULL, NULL, rep, err, errcap);
}

int fe_sign_zone_build(const uint8_t *apex, const struct fe_sign_rr *rrs, size_t n,
                       const struct fe_sign_keyset *ks, const struct fe_sign_opts *o,
                       struct fe_zone **out, struct fe_sign_report *rep, char *err, size_t errcap)
{
	struct fe_zone_error zerr = {0};
	*out = NULL;
	return sign_impl(apex, rrs, n, ks, o, NULL, out, &zerr, rep, err, errcap);
}
