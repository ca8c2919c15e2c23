/* ZONEMD (RFC 8976): the SIMPLE scheme's digest over the whole zone, recomputed in one
 * pass in canonical order and compared with the apex ZONEMD RRset. One work unit. */
/* Before any OpenSSL header (dnssec_int.h includes evp.h). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "dnssec_int.h"

#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#define ZONEMD_SIMPLE 1
#define ZONEMD_SHA384 1
#define ZONEMD_SHA512 2

struct digests {
	bool want384, want512;
	SHA512_CTX c384;
	SHA512_CTX c512;
};

static void dg_update(struct digests *d, const void *p, size_t n)
{
	if (d->want384)
		SHA384_Update(&d->c384, p, n);
	if (d->want512)
		SHA512_Update(&d->c512, p, n);
}

struct ptrs {
	struct fe__zrec **p;
	size_t n, cap;
};

static int ptrs_push(struct ptrs *a, struct fe__zrec *r)
{
	return fe__recs_push(&a->p, &a->n, &a->cap, 256, r);
}

/* Same order as the zone's own sort (build.c): covered type, RRSIGs last, RDATA. */
static int rec_cmp(const void *pa, const void *pb)
{
	const struct fe__zrec *a = *(const struct fe__zrec *const *)pa;
	const struct fe__zrec *b = *(const struct fe__zrec *const *)pb;
	if (a->covered != b->covered)
		return a->covered < b->covered ? -1 : 1;
	bool as = a->type == FE_T_RRSIG, bs = b->type == FE_T_RRSIG;
	if (as != bs)
		return as ? 1 : -1;
	int c = memcmp(a->rdata, b->rdata, FE_MIN(a->rdlen, b->rdlen));
	if (c != 0)
		return c;
	return a->rdlen < b->rdlen ? -1 : (a->rdlen > b->rdlen ? 1 : 0);
}

/* Digest one RRset (RFC 4034 §6.2 canonical RRs, sorted, duplicates dropped). */
static int emit_rrset(struct fe__vthr *t, struct digests *d, const uint8_t *owner_lc,
                      size_t owner_len, uint16_t type, struct fe__zrec *const *recs, size_t n)
{
	int m = fe__canon_rrset(t, type, recs, n);
	if (m < 0)
		return m;
	for (int i = 0; i < m; i++) {
		uint8_t h[10];
		fe_put_be16(h, type);
		fe_put_be16(h + 2, FE_C_IN);
		fe_put_be32(h + 4, t->crr[i].ttl);
		fe_put_be16(h + 8, t->crr[i].len);
		dg_update(d, owner_lc, owner_len);
		dg_update(d, h, sizeof(h));
		dg_update(d, t->crr[i].rd, t->crr[i].len);
	}
	return FE_OK;
}

/* Digest all RRs at one owner in canonical order (RFC 8976 §3.3.1: by type, RRSIG as type
 * 46), leaving out the apex ZONEMD RRset and its RRSIGs (§3.3.1.1). */
static int emit_owner(struct fe__vthr *t, struct digests *d, const uint8_t *owner,
                      struct fe__zrec *const *recs, size_t n, bool apex, struct ptrs *sigs)
{
	uint8_t lc[FE_WIRE_NAME_MAX];
	int len = fe_wire_name_len(owner, FE_WIRE_NAME_MAX);
	if (len < 0)
		return FE_EFORMAT;
	fe_wire_name_lower(owner, lc);
	sigs->n = 0;
	for (size_t i = 0; i < n; i++) {
		if (recs[i]->type == FE_T_RRSIG && !(apex && recs[i]->covered == FE_T_ZONEMD) &&
		    ptrs_push(sigs, recs[i]) != FE_OK)
			return FE_ENOMEM;
	}
	bool sigs_done = sigs->n == 0;
	for (size_t i = 0; i < n;) {
		uint16_t type = recs[i]->covered;
		size_t a = i;
		while (i < n && recs[i]->covered == type && recs[i]->type != FE_T_RRSIG)
			i++;
		size_t b = i;
		while (i < n && recs[i]->covered == type)
			i++;
		if (b == a || (apex && type == FE_T_ZONEMD))
			continue;
		if (!sigs_done && type > FE_T_RRSIG) {
			int rc = emit_rrset(t, d, lc, (size_t)len, FE_T_RRSIG, sigs->p, sigs->n);
			if (rc != FE_OK)
				return rc;
			sigs_done = true;
		}
		int rc = emit_rrset(t, d, lc, (size_t)len, type, recs + a, b - a);
		if (rc != FE_OK)
			return rc;
	}
	if (!sigs_done)
		return emit_rrset(t, d, lc, (size_t)len, FE_T_RRSIG, sigs->p, sigs->n);
	return FE_OK;
}

/* The whole zone in canonical name order: the node list and the NSEC3 owners merged. */
static int digest_zone(struct fe__vthr *t, struct digests *d)
{
	struct fe_zone *z = t->v->z;
	struct ptrs sigs = {0}, both = {0};
	size_t i = 0, j = 0;
	int rc = FE_OK;

	while (rc == FE_OK && (i < z->nnodes || j < z->nn3)) {
		if (atomic_load_explicit(&t->v->stop, memory_order_relaxed)) {
			rc = FE_EVALIDATE;
			break;
		}
		if (i < z->nnodes && z->nodes[i].count == 0) {
			i++; /* empty non-terminal */
			continue;
		}
		int c;
		if (i >= z->nnodes)
			c = 1;
		else if (j >= z->nn3)
			c = -1;
		else
			c = fe_wire_key_cmp(fe__own_key(z->nodes[i].own), z->nodes[i].key_len,
			                    fe__own_key(z->n3[j].own), z->n3[j].own->key_len);
		if (c < 0) {
			const struct fe__znode *n = &z->nodes[i++];
			rc = emit_owner(t, d, fe__own_name(n->own), z->recs + n->first, n->count,
			                (n->flags & FE_NODE_APEX) != 0, &sigs);
		} else if (c > 0) {
			const struct fe__zn3 *h = &z->n3[j++];
			rc = emit_owner(t, d, fe__own_name(h->own), z->n3recs + h->first, h->count,
			                false, &sigs);
		} else {
			/* A hashed owner that also holds other data: one owner, merged. */
			const struct fe__znode *n = &z->nodes[i++];
			const struct fe__zn3 *h = &z->n3[j++];
			both.n = 0;
			for (size_t k = 0; k < n->count && rc == FE_OK; k++)
				rc = ptrs_push(&both, z->recs[n->first + k]);
			for (size_t k = 0; k < h->count && rc == FE_OK; k++)
				rc = ptrs_push(&both, z->n3recs[h->first + k]);
			if (rc == FE_OK) {
				qsort(both.p, both.n, sizeof(*both.p), rec_cmp);
				rc = emit_owner(t, d, fe__own_name(n->own), both.p, both.n,
				                (n->flags & FE_NODE_APEX) != 0, &sigs);
			}
		}
	}
	free(sigs.p);
	free(both.p);
	return rc;
}

int fe__check_zonemd(struct fe__vthr *t)
{
	struct fe__vctx *v = t->v;
	struct fe_zone *z = v->z;
	const struct fe__znode *apex = &z->nodes[0];
	struct fe__zrec *const *r = z->recs + apex->first;
	const struct fe__zrec *md[16];
	size_t nmd = 0, total = 0;
	const char *why = NULL;
	char whybuf[160];
	struct digests d;
	memset(&d, 0, sizeof(d));

	for (size_t k = 0; k < apex->count; k++) {
		if (r[k]->type != FE_T_ZONEMD)
			continue;
		total++;
		const struct fe__zrec *m = r[k];
		if (m->rdlen < 6 + 12) { /* RFC 8976 §2.2.4: digests shorter than 12 octets */
			why = "a ZONEMD digest shorter than 12 octets";
			continue;
		}
		uint8_t scheme = m->rdata[4], alg = m->rdata[5];
		size_t dl = m->rdlen - 6u;
		if (scheme != ZONEMD_SIMPLE || (alg != ZONEMD_SHA384 && alg != ZONEMD_SHA512))
			continue; /* RFC 8976 §4: unsupported scheme/algorithm: not usable */
		/* §4 step 4: one RR per (scheme, algorithm), else none of those counts. */
		bool dup = false;
		for (size_t o = 0; o < apex->count; o++)
			if (o != k && r[o]->type == FE_T_ZONEMD && r[o]->rdlen >= 6 &&
			    r[o]->rdata[4] == scheme && r[o]->rdata[5] == alg)
				dup = true;
		if (dup) {
			why = "several ZONEMD RRs with the same scheme and hash algorithm";
			continue;
		}
		if (fe_get_be32(m->rdata) != z->serial) {
			snprintf(whybuf, sizeof(whybuf),
			         "ZONEMD serial %u differs from the SOA "
			         "serial %u",
			         fe_get_be32(m->rdata), z->serial);
			why = whybuf;
			continue;
		}
		if (dl != (alg == ZONEMD_SHA384 ? 48u : 64u)) {
			why = "a ZONEMD digest of the wrong length for its hash algorithm";
			continue;
		}
		if (nmd < FE_ARRAY_LEN(md))
			md[nmd++] = m;
	}
	if (total == 0) {
		if (v->o.zonemd_required)
			return fe__vfail(v, FE_EVALIDATE, NULL,
			                 "ZONEMD at %s: missing, but required (RFC 8976)",
			                 z->apex_str);
		return FE_OK;
	}
	if (nmd == 0) {
		/* Only unsupported schemes: nothing to check unless a digest is required;
		 * a supported one that is unusable (stale serial, ...) fails the zone. */
		if (why == NULL && !v->o.zonemd_required)
			return FE_OK;
		return fe__vfail(v, FE_EVALIDATE, NULL, "ZONEMD at %s: %s", z->apex_str,
		                 why ? why : "no ZONEMD with scheme SIMPLE and SHA-384/SHA-512");
	}
	for (size_t i = 0; i < nmd; i++) {
		d.want384 |= md[i]->rdata[5] == ZONEMD_SHA384;
		d.want512 |= md[i]->rdata[5] == ZONEMD_SHA512;
	}
	if (d.want384)
		SHA384_Init(&d.c384);
	if (d.want512)
		SHA512_Init(&d.c512);
	int rc = digest_zone(t, &d);
	if (rc == FE_EVALIDATE)
		return rc; /* stopped by another worker */
	if (rc != FE_OK)
		return fe__vfail(v, rc == FE_ENOMEM ? FE_ENOMEM : FE_EVALIDATE, NULL,
		                 "ZONEMD at %s: cannot digest the zone (%s)", z->apex_str,
		                 fe_strerror(rc));
	uint8_t h384[48], h512[64];
	if (d.want384)
		SHA384_Final(h384, &d.c384);
	if (d.want512)
		SHA512_Final(h512, &d.c512);
	/* §4: a match with any one supported ZONEMD RR verifies the zone. */
	for (size_t i = 0; i < nmd; i++) {
		const uint8_t *want = md[i]->rdata[5] == ZONEMD_SHA384 ? h384 : h512;
		if (memcmp(md[i]->rdata + 6, want, md[i]->rdlen - 6u) == 0) {
			v->zonemd_verified = true;
			return FE_OK;
		}
	}
	return fe__vfail(v, FE_EVALIDATE, md[0],
	                 "ZONEMD at %s: digest mismatch (%s over the zone differs from the "
	                 "published digest)",
	                 z->apex_str, md[0]->rdata[5] == ZONEMD_SHA384 ? "SHA-384" : "SHA-512");
}
