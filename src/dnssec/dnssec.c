/* Whole-zone DNSSEC validation (fe_dnssec_validate, include/fedenum/dnssec.h).
 *
 * Phase 1 (calling thread): the apex DNSKEY RRset against the caller's trust.
 * Phase 2 (all workers): RRSIGs of every authoritative RRset, in chunks of nodes and of
 * NSEC3 owners; the NSEC/NSEC3 chain and the ZONEMD digest as one work unit each. The zone
 * is read-only throughout; the first failure stops every worker. */
#include "dnssec_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64u

enum { UNIT_DENIAL = 0, UNIT_ZONEMD = 1, UNIT_FIRST_CHUNK = 2 };

void fe_dnssec_opts_init(struct fe_dnssec_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->nsec3_max_iterations = 50;
	o->max_sig_validations_per_rrset = 8;
	o->max_key_collisions = 4;
	o->max_failed_validations = 32;
}

/* ---- small helpers --------------------------------------------------------------------- */

/* RFC 4034 §3.1.5: RRSIG times are 32-bit serial numbers (RFC 1982) around now. */
static int64_t serial_time(uint32_t v, int64_t now)
{
	return now + (int32_t)(v - (uint32_t)now);
}

/* ---- keys ------------------------------------------------------------------------------ */

static int key_cmp(const void *pa, const void *pb)
{
	const struct fe__dkey *a = pa, *b = pb;
	if (a->tag != b->tag)
		return a->tag < b->tag ? -1 : 1;
	if (a->alg != b->alg)
		return a->alg < b->alg ? -1 : 1;
	return 0;
}

/* First key index with (tag, alg), or -1. */
static long key_find(const struct fe__vctx *v, uint16_t tag, uint8_t alg)
{
	size_t lo = 0, hi = v->nkeys;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct fe__dkey *k = &v->keys[mid];
		if (k->tag < tag || (k->tag == tag && k->alg < alg))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < v->nkeys && v->keys[lo].tag == tag && v->keys[lo].alg == alg)
		return (long)lo;
	return -1;
}

bool fe_dnssec_trust_matches(const struct fe_dnssec_trust *t, const uint8_t *apex, size_t apex_len,
                             const uint8_t *key, uint16_t klen, uint16_t tag)
{
	if (klen < 4)
		return false;
	for (size_t i = 0; i < t->dnskey_count; i++)
		if (t->dnskey[i].len == klen && memcmp(t->dnskey[i].data, key, klen) == 0)
			return true;
	for (size_t i = 0; i < t->ds_count; i++) {
		const uint8_t *d = t->ds[i].data;
		uint8_t ds[4 + 64];
		if (t->ds[i].len < 4 || fe_get_be16(d) != tag || d[2] != key[3])
			continue;
		int n = fe_dnssec_ds_from_dnskey(apex, apex_len, key, klen, d[3], ds);
		if (n > 0 && (size_t)n == t->ds[i].len && memcmp(ds, d, (size_t)n) == 0)
			return true;
	}
	return false;
}

static bool key_matches_trust(const struct fe__vctx *v, const struct fe__dkey *k)
{
	return fe_dnssec_trust_matches(v->trust, v->z->apex, v->z->apex_len, k->rdata, k->rdlen,
	                               k->tag);
}

static bool have_trust(const struct fe_dnssec_trust *t)
{
	return t != NULL && (t->ds_count > 0 || t->dnskey_count > 0);
}

/* Describe the trust for messages: "DS 12345/13, DNSKEY 2345/8". */
static void trust_str(const struct fe_dnssec_trust *t, char *out, size_t cap)
{
	size_t o = 0;
	out[0] = 0;
	for (size_t i = 0; t && i < t->ds_count && o + 24 < cap; i++)
		if (t->ds[i].len >= 4)
			o += (size_t)snprintf(out + o, cap - o, "%sDS %u/%u/%u", o ? ", " : "",
			                      fe_get_be16(t->ds[i].data), t->ds[i].data[2],
			                      t->ds[i].data[3]);
	for (size_t i = 0; t && i < t->dnskey_count && o + 24 < cap; i++)
		if (t->dnskey[i].len >= 4)
			o += (size_t)snprintf(
			        out + o, cap - o, "%sDNSKEY %u/%u", o ? ", " : "",
			        fe_dnssec_key_tag(t->dnskey[i].data, t->dnskey[i].len),
			        t->dnskey[i].data[3]);
}

/* Find the apex records [first, first+count) of @type (RRs then RRSIGs). */
static size_t apex_rrset(const struct fe_zone *z, uint16_t type, size_t *first)
{
	const struct fe__znode *n = &z->nodes[0];
	size_t i = n->first, end = (size_t)n->first + n->count;
	while (i < end && z->recs[i]->covered != type)
		i++;
	*first = i;
	while (i < end && z->recs[i]->covered == type)
		i++;
	return i - *first;
}

static int load_keys(struct fe__vctx *v)
{
	struct fe_zone *z = v->z;
	size_t first, n = apex_rrset(z, FE_T_DNSKEY, &first), nk = 0;
	for (size_t i = first; i < first + n; i++)
		nk += z->recs[i]->type == FE_T_DNSKEY;
	if (nk == 0)
		return fe__vfail(v, FE_EVALIDATE, NULL,
		                 "no DNSKEY RRset at the apex: zone is not signed");
	v->keys = calloc(nk, sizeof(*v->keys));
	if (v->keys == NULL)
		return FE_ENOMEM;
	for (size_t i = first; i < first + n; i++) {
		const struct fe__zrec *r = z->recs[i];
		if (r->type != FE_T_DNSKEY)
			continue;
		struct fe__dkey *k = &v->keys[v->nkeys++];
		k->rdata = r->rdata;
		k->rdlen = r->rdlen;
		if (r->rdlen < 4)
			continue; /* unusable */
		k->flags = fe_get_be16(r->rdata);
		k->alg = r->rdata[3];
		k->tag = fe_dnssec_key_tag(r->rdata, r->rdlen);
	}
	qsort(v->keys, v->nkeys, sizeof(*v->keys), key_cmp);
	for (size_t i = 0; i < v->nkeys;) {
		size_t j = i + 1;
		while (j < v->nkeys && key_cmp(&v->keys[i], &v->keys[j]) == 0)
			j++;
		for (size_t k = i; k < j; k++) {
			v->keys[k].group = (uint32_t)i;
			v->keys[k].group_size = (uint32_t)(j - i);
		}
		i = j;
	}
	for (size_t i = 0; i < v->nkeys; i++) {
		struct fe__dkey *k = &v->keys[i];
		/* RFC 4034 §2.1.1-2: only zone keys with protocol 3 sign zone data. */
		if (k->rdlen < 4 || !(k->flags & FE__DNSKEY_ZONE) || k->rdata[2] != 3 ||
		    !fe__alg_supported(k->alg))
			continue;
		k->revoked = (k->flags & FE__DNSKEY_REVOKE) != 0;
		/* A group above the collision budget is never used (any RRSIG naming it is
		 * rejected), so its keys are not even parsed. */
		if (k->group_size > v->o.max_key_collisions)
			continue;
		k->usable = fe__dkey_parse(k);
		if (k->usable && have_trust(v->trust))
			k->trusted = !k->revoked && key_matches_trust(v, k);
	}
	return FE_OK;
}

/* ---- RRSIG checking ------------------------------------------------------------------- */

struct rrset {
	size_t node; /* index into nodes (or n3 when @n3) */
	bool n3;
	const uint8_t *owner_lc; /* lowercased owner */
	size_t owner_len;
	uint8_t owner_labels; /* labels the RRSIG must state */
	uint16_t type;
	struct fe__zrec *const *rrs;
	size_t nrrs;
	struct fe__zrec *const *sigs;
	size_t nsigs;
};

static void owner_str(const struct rrset *s, char *out, size_t cap)
{
	fe_wire_name_to_str(s->owner_lc, out, cap);
}

/* Verify every RRSIG of @s. @dnskey_phase: keys are restricted as in phase 1 (revoked keys
 * may sign the DNSKEY RRset; *trusted_ok tells whether a trusted key signed). */
static int check_rrset(struct fe__vthr *t, const struct rrset *s, bool dnskey_phase,
                       bool *trusted_ok)
{
	struct fe__vctx *v = t->v;
	char on[1100], ts[32], tb[40];
	uint32_t algs_ok = 0, verifs = 0;
	int rc;

	if (s->nsigs == 0) {
		owner_str(s, on, sizeof(on));
		return fe__vfail(v, FE_EVALIDATE, s->rrs[0], "RRSIG %s at %s: missing",
		                 fe__type_str(s->type, ts, sizeof(ts)), on);
	}
	int n = fe__canon_rrset(t, s->type, s->rrs, s->nrrs);
	if (n < 0) {
		owner_str(s, on, sizeof(on));
		if (n == FE_ENOMEM)
			return fe__vfail(v, FE_ENOMEM, s->rrs[0], "out of memory");
		return fe__vfail(v, FE_EVALIDATE, s->rrs[0], "%s at %s: malformed RDATA",
		                 fe__type_str(s->type, ts, sizeof(ts)), on);
	}
	t->rrsets++;

	for (size_t si = 0; si < s->nsigs; si++) {
		const struct fe__zrec *sr = s->sigs[si];
		const uint8_t *rd = sr->rdata;
		const char *what = NULL;
		char whatbuf[160];
		/* RFC 4034 §3.1: covered(2) alg(1) labels(1) ttl(4) exp(4) inc(4) tag(2) signer
		 * signature. */
		int sl = sr->rdlen > 18 ? fe_wire_name_len(rd + 18, sr->rdlen - 18u) : -1;
		if (sl < 0 || (size_t)sl + 18u >= sr->rdlen) {
			what = "malformed RDATA";
			goto bad;
		}
		uint8_t alg = rd[2], labels = rd[3];
		uint16_t tag = fe_get_be16(rd + 16);
		int64_t exp = serial_time(fe_get_be32(rd + 8), v->now);
		int64_t inc = serial_time(fe_get_be32(rd + 12), v->now);
		const uint8_t *sig = rd + 18 + sl;
		size_t siglen = sr->rdlen - 18u - (size_t)sl;

		/* RFC 4035 §5.3.1 */
		if (!fe_wire_name_eq(rd + 18, v->z->apex)) {
			char sn[1100];
			fe_wire_name_to_str(rd + 18, sn, sizeof(sn));
			snprintf(whatbuf, sizeof(whatbuf), "signer %.100s is not the apex", sn);
			what = whatbuf;
			goto bad;
		}
		if (labels != s->owner_labels) {
			snprintf(whatbuf, sizeof(whatbuf), "labels field %u, owner has %u", labels,
			         s->owner_labels);
			what = whatbuf;
			goto bad;
		}
		if (v->now > exp) {
			snprintf(whatbuf, sizeof(whatbuf), "expired %s",
			         fe_time_str(exp, tb, sizeof(tb)));
			what = whatbuf;
			goto bad;
		}
		if (v->now < inc) {
			snprintf(whatbuf, sizeof(whatbuf), "not valid before %s",
			         fe_time_str(inc, tb, sizeof(tb)));
			what = whatbuf;
			goto bad;
		}
		long g = key_find(v, tag, alg);
		bool any_usable = false;
		if (g >= 0)
			for (size_t k = (size_t)g; k < v->nkeys && v->keys[k].group == (size_t)g;
			     k++)
				any_usable |=
				        v->keys[k].usable && (dnskey_phase || !v->keys[k].revoked);
		if (g >= 0 && v->keys[g].group_size > v->o.max_key_collisions) {
			snprintf(whatbuf, sizeof(whatbuf),
			         "KeyTrap budget: %u DNSKEYs share key tag %u algorithm %u (limit "
			         "%u)",
			         v->keys[g].group_size, tag, alg, v->o.max_key_collisions);
			what = whatbuf;
			goto bad;
		}
		if (!any_usable) {
			snprintf(whatbuf, sizeof(whatbuf),
			         "no usable DNSKEY with key tag %u algorithm %u", tag, alg);
			what = whatbuf;
			goto bad;
		}

		/* RFC 4034 §3.1.8.1: RRSIG RDATA without the signature (signer in canonical
		 * form), then the canonical RRs with the original TTL. */
		size_t need = 18u + (size_t)sl;
		for (int i = 0; i < n; i++)
			need += s->owner_len + 10u + t->crr[i].len;
		if ((rc = fe__buf_reserve(t, need)) != FE_OK)
			return fe__vfail(v, rc, sr, "out of memory");
		uint8_t *b = t->buf;
		memcpy(b, rd, 18);
		fe_wire_name_lower(rd + 18, b + 18);
		size_t o = 18u + (size_t)sl;
		for (int i = 0; i < n; i++) {
			memcpy(b + o, s->owner_lc, s->owner_len);
			o += s->owner_len;
			fe_put_be16(b + o, s->type);
			fe_put_be16(b + o + 2, FE_C_IN);
			memcpy(b + o + 4, rd + 4, 4);
			fe_put_be16(b + o + 8, t->crr[i].len);
			memcpy(b + o + 10, t->crr[i].rd, t->crr[i].len);
			o += 10u + t->crr[i].len;
		}

		const struct fe__dkey *gk = &v->keys[g];
		uint32_t gsz = gk->group_size, start = t->hint[g];
		bool ok = false, trusted = false;
		for (uint32_t a = 0; a < gsz && !ok; a++) {
			uint32_t off = (start + a) % gsz;
			size_t ki = (size_t)g + off;
			const struct fe__dkey *k = &v->keys[ki];
			if (!k->usable || (!dnskey_phase && k->revoked))
				continue;
			if (++verifs > v->o.max_sig_validations_per_rrset) {
				snprintf(whatbuf, sizeof(whatbuf),
				         "KeyTrap budget: more than %u signature validations",
				         v->o.max_sig_validations_per_rrset);
				what = whatbuf;
				goto bad;
			}
			/* A triple proven for the previous version needs no public-key
			 * operation (dnssec_cache.c); the checks above ran all the same. */
			uint8_t dg[FE__SIGCACHE_DIGEST];
			bool cache = v->o.known != NULL || v->o.learn != NULL;
			int r;
			if (cache && fe__sigcache_digest(t, k, b, o, sig, siglen, dg) != FE_OK)
				return fe__vfail(v, FE_ENOMEM, sr, "out of memory");
			if (cache && fe__sigcache_has(v->o.known, dg)) {
				t->sigs_cached++;
				r = 1;
			} else {
				t->sigs++;
				r = fe__verify(t, ki, b, o, sig, siglen);
			}
			if (r < 0)
				return fe__vfail(v, r, sr, "out of memory");
			if (r == 1 && v->o.learn != NULL && fe__sigcache_learn(t, dg) != FE_OK)
				return fe__vfail(v, FE_ENOMEM, sr, "out of memory");
			if (r == 1) {
				ok = true;
				trusted = k->trusted;
				t->hint[g] = off;
			} else if (atomic_fetch_add(&v->failed, 1) + 1 >
			           v->o.max_failed_validations) {
				snprintf(whatbuf, sizeof(whatbuf),
				         "KeyTrap budget: more than %u failed signature "
				         "validations in "
				         "the zone",
				         v->o.max_failed_validations);
				what = whatbuf;
				goto bad;
			}
		}
		if (!ok) {
			snprintf(whatbuf, sizeof(whatbuf),
			         "signature invalid (key tag %u, algorithm %u)", tag, alg);
			what = whatbuf;
			goto bad;
		}
		if (trusted && trusted_ok && *trusted_ok == false) {
			*trusted_ok = true;
			v->trusted_tag = tag;
			v->trusted_alg = alg;
		}
		algs_ok |= alg < 32 ? 1u << alg : 0;
		if (!t->have_expiry || exp < t->min_expiry) {
			t->min_expiry = exp;
			t->have_expiry = true;
		}
		if (atomic_load_explicit(&v->stop, memory_order_relaxed))
			return FE_EVALIDATE;
		continue;
	bad:
		owner_str(s, on, sizeof(on));
		return fe__vfail(v, FE_EVALIDATE, sr, "RRSIG %s at %s: %s",
		                 fe__type_str(s->type, ts, sizeof(ts)), on, what);
	}
	/* RFC 4035 §2.2: signed with each algorithm of the zone's key set. */
	uint32_t missing = v->alg_mask & ~algs_ok;
	if (missing) {
		unsigned a = (unsigned)__builtin_ctz(missing);
		owner_str(s, on, sizeof(on));
		return fe__vfail(v, FE_EVALIDATE, s->sigs[0],
		                 "RRSIG %s at %s: no valid signature by algorithm %u of the "
		                 "DNSKEY set",
		                 fe__type_str(s->type, ts, sizeof(ts)), on, a);
	}
	return FE_OK;
}

static uint8_t sig_labels(const uint8_t *name_lc, uint8_t labels)
{
	/* RFC 4035 §5.3.1 / RFC 4034 §3.1.3: a wildcard owner's '*' label is not counted. */
	return (name_lc[0] == 1 && name_lc[1] == '*') ? (uint8_t)(labels - 1) : labels;
}

static int thr_init(struct fe__vthr *t, struct fe__vctx *v, unsigned idx)
{
	memset(t, 0, sizeof(*t));
	t->v = v;
	t->idx = idx;
	t->pctx = calloc(FE_MAX(v->nkeys, (size_t)1), sizeof(*t->pctx));
	t->hint = calloc(FE_MAX(v->nkeys, (size_t)1), sizeof(*t->hint));
	return t->pctx && t->hint ? FE_OK : FE_ENOMEM;
}

static void thr_deinit(struct fe__vthr *t)
{
	if (t->v == NULL)
		return;
	fe__vthr_crypto_free(t);
	EVP_MD_CTX_free(t->dctx);
	free(t->learned);
	free(t->hint);
	free(t->buf);
	free(t->cbuf);
	free(t->crr);
	free(t->types);
	memset(t, 0, sizeof(*t));
}

/* Phase 1: the apex DNSKEY RRset (RFC 4035 §5.2 applied to the trust). */
static int check_dnskey(struct fe__vthr *t)
{
	struct fe__vctx *v = t->v;
	struct fe_zone *z = v->z;
	size_t first, n = apex_rrset(z, FE_T_DNSKEY, &first), nr = 0;
	while (nr < n && z->recs[first + nr]->type == FE_T_DNSKEY)
		nr++;
	bool anchored = have_trust(v->trust), any_trusted = false;
	char tstr[256];

	if (anchored) {
		for (size_t i = 0; i < v->nkeys; i++)
			any_trusted |= v->keys[i].trusted;
		if (!any_trusted) {
			trust_str(v->trust, tstr, sizeof(tstr));
			return fe__vfail(v, FE_EVALIDATE, z->recs[first],
			                 "DNSKEY at %s: no zone key matches the trust (%s)",
			                 z->apex_str, tstr);
		}
	} else {
		/* Self-signed mode: any usable key of the set may vouch for it. */
		for (size_t i = 0; i < v->nkeys; i++)
			v->keys[i].trusted = v->keys[i].usable && !v->keys[i].revoked;
	}
	/* Before the DNSKEY RRset is validated, the algorithms it must be signed with are
	 * those of its own usable zone keys. */
	v->alg_mask = 0;
	for (size_t i = 0; i < v->nkeys; i++)
		if (v->keys[i].usable && !v->keys[i].revoked && v->keys[i].alg < 32)
			v->alg_mask |= 1u << v->keys[i].alg;
	if (v->alg_mask == 0)
		return fe__vfail(v, FE_EVALIDATE, z->recs[first],
		                 "DNSKEY at %s: no usable zone key (algorithms 8, 10, 13, 14, 15, "
		                 "16; RSA 1024-4096 bits)",
		                 z->apex_str);

	struct rrset s = {
	        .node = 0,
	        .owner_lc = v->apex_lc,
	        .owner_len = z->apex_len,
	        .owner_labels = z->apex_labels,
	        .type = FE_T_DNSKEY,
	        .rrs = z->recs + first,
	        .nrrs = nr,
	        .sigs = z->recs + first + nr,
	        .nsigs = n - nr,
	};
	bool trusted_ok = false;
	int rc = check_rrset(t, &s, true, &trusted_ok);
	if (rc != FE_OK)
		return rc;
	if (!trusted_ok) {
		trust_str(v->trust, tstr, sizeof(tstr));
		return fe__vfail(
		        v, FE_EVALIDATE, z->recs[first],
		        "RRSIG DNSKEY at %s: no signature by a key matching the trust (%s)",
		        z->apex_str, anchored ? tstr : "self-signed");
	}
	return FE_OK;
}

/* RRSIGs of the RRsets of real node @i. */
static int check_node(struct fe__vthr *t, size_t i)
{
	struct fe__vctx *v = t->v;
	struct fe_zone *z = v->z;
	const struct fe__znode *n = &z->nodes[i];
	if (n->count == 0 || (n->flags & FE_NODE_OCCLUDED))
		return FE_OK; /* empty non-terminal; glue and occluded data are not signed */
	uint8_t lc[FE_WIRE_NAME_MAX];
	const uint8_t *name = fe__own_name(n->own);
	fe_wire_name_lower(name, lc);
	struct fe__zrec *const *r = z->recs + n->first;
	bool apex = (n->flags & FE_NODE_APEX) != 0, cut = (n->flags & FE_NODE_DELEG) != 0;

	for (size_t k = 0; k < n->count;) {
		uint16_t type = r[k]->covered;
		size_t a = k;
		while (k < n->count && r[k]->covered == type && r[k]->type != FE_T_RRSIG)
			k++;
		size_t b = k;
		while (k < n->count && r[k]->covered == type)
			k++;
		if (b == a)
			continue; /* RRSIGs only: the parser already dropped those */
		if (type == FE_T_NSEC3) {
			char on[1100];
			fe_wire_name_to_str(name, on, sizeof(on));
			return fe__vfail(v, FE_EVALIDATE, r[a],
			                 "NSEC3 at %s: not an owner of the zone's NSEC3 chain "
			                 "(RFC 5155 §7.1)",
			                 on);
		}
		/* RFC 4035 §2.2: at a cut only DS and NSEC are the parent's (and signed). */
		if (cut && type != FE_T_DS && type != FE_T_NSEC)
			continue;
		if (apex && type == FE_T_DNSKEY)
			continue; /* phase 1 */
		struct rrset s = {
		        .node = i,
		        .owner_lc = lc,
		        .owner_len = n->own->name_len,
		        .owner_labels = sig_labels(lc, n->own->labels),
		        .type = type,
		        .rrs = r + a,
		        .nrrs = b - a,
		        .sigs = r + b,
		        .nsigs = k - b,
		};
		int rc = check_rrset(t, &s, false, NULL);
		if (rc != FE_OK)
			return rc;
	}
	return FE_OK;
}

static int check_n3node(struct fe__vthr *t, size_t i)
{
	struct fe_zone *z = t->v->z;
	const struct fe__zn3 *n = &z->n3[i];
	uint8_t lc[FE_WIRE_NAME_MAX];
	fe_wire_name_lower(fe__own_name(n->own), lc);
	struct fe__zrec *const *r = z->n3recs + n->first;
	size_t a = 0;
	while (a < n->count && r[a]->type != FE_T_RRSIG)
		a++;
	struct rrset s = {
	        .node = i,
	        .n3 = true,
	        .owner_lc = lc,
	        .owner_len = n->own->name_len,
	        .owner_labels = n->own->labels,
	        .type = FE_T_NSEC3,
	        .rrs = r,
	        .nrrs = a,
	        .sigs = r + a,
	        .nsigs = n->count - a,
	};
	return check_rrset(t, &s, false, NULL);
}

static int run_unit(struct fe__vthr *t, size_t u)
{
	struct fe__vctx *v = t->v;
	struct fe_zone *z = v->z;
	if (u == UNIT_DENIAL)
		return (z->flags & FE_ZONE_NSEC3) ? fe__check_nsec3(t) : fe__check_nsec(t);
	if (u == UNIT_ZONEMD)
		return fe__check_zonemd(t);
	u -= UNIT_FIRST_CHUNK;
	if (u < v->node_chunks) {
		size_t end = FE_MIN((u + 1) * FE__CHUNK_NODES, z->nnodes);
		for (size_t i = u * FE__CHUNK_NODES; i < end; i++) {
			int rc = check_node(t, i);
			if (rc != FE_OK)
				return rc;
		}
		return FE_OK;
	}
	u -= v->node_chunks;
	size_t end = FE_MIN((u + 1) * FE__CHUNK_NODES, z->nn3);
	for (size_t i = u * FE__CHUNK_NODES; i < end; i++) {
		int rc = check_n3node(t, i);
		if (rc != FE_OK)
			return rc;
	}
	return FE_OK;
}

static void *worker(void *arg)
{
	struct fe__vthr *t = arg;
	struct fe__vctx *v = t->v;
	while (!atomic_load(&v->stop)) {
		size_t u = atomic_fetch_add(&v->next_unit, 1);
		if (u >= v->units)
			break;
		if (run_unit(t, u) != FE_OK)
			break;
	}
	return NULL;
}

static unsigned thread_count(const struct fe__vctx *v)
{
	unsigned n = v->o.threads;
	if (n == 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		n = c > 0 ? (unsigned)c : 1u;
	}
	/* Small zones are not worth a thread. */
	size_t units = v->units > UNIT_FIRST_CHUNK ? v->units - 1 : 1;
	if (n > units)
		n = (unsigned)units;
	return FE_MIN(FE_MAX(n, 1u), MAX_THREADS);
}

int fe_dnssec_validate(struct fe_zone *z, const struct fe_dnssec_trust *trust,
                       const struct fe_dnssec_opts *opts, struct fe_dnssec_report *rep,
                       struct fe_zone_error *err)
{
	struct fe_dnssec_trust empty = {0};
	struct fe__vctx *v;
	struct fe__vthr *thr = NULL;
	pthread_t tid[MAX_THREADS];
	unsigned nthr = 0, started = 0;
	uint64_t t0 = fe_time_mono_us();
	int rc;

	if (z == NULL)
		return FE_EINVAL;
	if (rep != NULL)
		memset(rep, 0, sizeof(*rep));
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return FE_ENOMEM;
	v->z = z;
	v->trust = trust ? trust : &empty;
	if (opts != NULL)
		v->o = *opts;
	else
		fe_dnssec_opts_init(&v->o);
	if (v->o.max_sig_validations_per_rrset == 0 || v->o.max_key_collisions == 0) {
		free(v);
		return FE_EINVAL;
	}
	v->now = v->o.now_s ? v->o.now_s : fe_time_wall_s();
	pthread_mutex_init(&v->mu, NULL);
	atomic_init(&v->next_unit, 0);
	atomic_init(&v->stop, false);
	atomic_init(&v->failed, 0);
	fe_wire_name_lower(z->apex, v->apex_lc);

	if (z->nnodes == 0 || !(z->nodes[0].flags & FE_NODE_APEX)) {
		rc = fe__vfail(v, FE_EVALIDATE, NULL, "no apex node");
		goto out;
	}
	if ((rc = load_keys(v)) != FE_OK)
		goto out;

	v->node_chunks = (z->nnodes + FE__CHUNK_NODES - 1) / FE__CHUNK_NODES;
	v->n3_chunks = (z->nn3 + FE__CHUNK_NODES - 1) / FE__CHUNK_NODES;
	v->units = UNIT_FIRST_CHUNK + v->node_chunks + v->n3_chunks;
	nthr = thread_count(v);
	thr = calloc(nthr, sizeof(*thr));
	if (thr == NULL) {
		rc = FE_ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < nthr; i++) {
		if ((rc = thr_init(&thr[i], v, i)) != FE_OK)
			goto out;
	}

	/* Phase 1 */
	if ((rc = check_dnskey(&thr[0])) != FE_OK)
		goto out;
	/* The validated key set: its usable, unrevoked zone keys (RFC 5011 §2.1). */

	/* Phase 2 */
	for (unsigned i = 1; i < nthr; i++) {
		if (pthread_create(&tid[i], NULL, worker, &thr[i]) != 0)
			break;
		started = i;
	}
	worker(&thr[0]);
	for (unsigned i = 1; i <= started; i++)
		pthread_join(tid[i], NULL);
	rc = v->rc;
	/* Merge what the threads proved into the caller's cache (single-threaded now). */
	for (unsigned i = 0; rc == FE_OK && v->o.learn != NULL && i < nthr; i++)
		for (size_t j = 0; j < thr[i].nlearned && rc == FE_OK; j++)
			rc = fe__sigcache_add(v->o.learn, thr[i].learned[j]);

out:
	if (rc != FE_OK && v->rc == FE_OK && rc != FE_EINVAL)
		fe__vfail(v, rc, NULL, "%s", fe_strerror(rc));
	if (rc != FE_OK && err != NULL)
		*err = v->err;
	if (rep != NULL) {
		for (unsigned i = 0; i < nthr; i++) {
			rep->rrsets += thr[i].rrsets;
			rep->signatures += thr[i].sigs;
			rep->signatures_cached += thr[i].sigs_cached;
			rep->denial_records += thr[i].denial;
			if (thr[i].have_expiry && (rep->earliest_expiry_s == 0 ||
			                           thr[i].min_expiry < rep->earliest_expiry_s))
				rep->earliest_expiry_s = thr[i].min_expiry;
		}
		rep->records = fe_zone_rr_count(z);
		rep->trusted_key_tag = v->trusted_tag;
		rep->trusted_key_alg = v->trusted_alg;
		rep->nsec3 = (z->flags & FE_ZONE_NSEC3) != 0;
		rep->zonemd_verified = v->zonemd_verified;
		rep->threads = nthr;
		rep->seconds = (double)(fe_time_mono_us() - t0) / 1e6;
	}
	for (unsigned i = 0; thr != NULL && i < nthr; i++)
		thr_deinit(&thr[i]);
	free(thr);
	for (size_t i = 0; i < v->nkeys; i++)
		EVP_PKEY_free(v->keys[i].pkey);
	free(v->keys);
	pthread_mutex_destroy(&v->mu);
	free(v);
	return rc;
}

/* ---- for the change-set validation (dnssec_delta.c) -------------------------------- */

int fe__vctx_keys(struct fe__vctx *v)
{
	return load_keys(v);
}

int fe__vthr_init(struct fe__vthr *t, struct fe__vctx *v)
{
	return thr_init(t, v, 0);
}

void fe__vthr_deinit(struct fe__vthr *t)
{
	thr_deinit(t);
}

int fe__check_dnskey(struct fe__vthr *t)
{
	return check_dnskey(t);
}

int fe__check_rrset_recs(struct fe__vthr *t, const uint8_t *owner_lc, size_t owner_len,
                         uint16_t type, struct fe__zrec *const *rrs, size_t nrrs,
                         struct fe__zrec *const *sigs, size_t nsigs)
{
	struct rrset s = {
	        .owner_lc = owner_lc,
	        .owner_len = owner_len,
	        .owner_labels = sig_labels(owner_lc, (uint8_t)fe_wire_name_labels(owner_lc)),
	        .type = type,
	        .rrs = rrs,
	        .nrrs = nrrs,
	        .sigs = sigs,
	        .nsigs = nsigs,
	};
	return check_rrset(t, &s, false, NULL);
}

/* ---- helpers for the chain of trust ------------------------------------------------ */

int fe_dnssec_child_ds(const struct fe_zone *parent, const uint8_t *child, size_t child_len,
                       struct fe_dnssec_rdata *out, size_t cap)
{
	uint8_t key[FE_WIRE_KEY_MAX];
	int kl = fe_wire_name_key(child, child_len, key, sizeof(key));
	if (kl < 0)
		return FE_EINVAL;
	size_t lo = 0, hi = parent->nnodes;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct fe__znode *n = &parent->nodes[mid];
		if (fe_wire_key_cmp(fe__own_key(n->own), n->key_len, key, (size_t)kl) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= parent->nnodes)
		return FE_ENOENT;
	const struct fe__znode *n = &parent->nodes[lo];
	if (fe_wire_key_cmp(fe__own_key(n->own), n->key_len, key, (size_t)kl) != 0 ||
	    !(n->flags & FE_NODE_DELEG) || (n->flags & FE_NODE_OCCLUDED))
		return FE_ENOENT;
	size_t cnt = 0;
	for (size_t i = 0; i < n->count; i++) {
		const struct fe__zrec *r = parent->recs[n->first + i];
		if (r->type != FE_T_DS)
			continue;
		if (cnt < cap) {
			out[cnt].data = r->rdata;
			out[cnt].len = r->rdlen;
		}
		cnt++;
	}
	return (int)FE_MIN(cnt, (size_t)INT32_MAX);
}
