/* Change-set validation (fe_dnssec_validate_change, include/fedenum/dnssec.h): the DNSSEC
 * checks of a whole-zone validation restricted to what an IXFR-sized change can affect, run
 * over the new version inside its store write transaction, before the commit.
 *
 *  1. the apex DNSKEY RRset (unchanged: a change to it is refused with FE_ENOTSUP) against
 *     the trust, as phase 1 of fe_dnssec_validate;
 *  2. every authoritative RRset the change touches (RRs or RRSIGs added or removed), its
 *     RRSIGs as in phase 2, the NSEC3 chain's own touched records included;
 *  3. every touched name and its ancestors (empty non-terminals appear and disappear with
 *     their descendants, RFC 5155 §7.1): present and authoritative → an NSEC3 with its hash
 *     whose bitmap equals the name's types; gone or occluded → no NSEC3 with its hash;
 *  4. around every touched NSEC3 hash: its own next-hash field names its successor, its
 *     predecessor's names the predecessor's successor (so the chain stays one closed loop),
 *     and an NSEC3 new in this version matches one of the names of step 3.
 * NSEC zones instead (steps 3-4): every touched owner with data has an NSEC whose bitmap lists
 * its types and whose next name is the next owner with an NSEC, and the owner before every
 * touched name links to its own successor (RFC 4034 §4.1.1, RFC 4035 §2.3).
 * Everything not touched was proven when the previous version was validated and is the same
 * bytes now. Cases left to a whole-zone validation (FE_ENOTSUP, with the reason): NSEC3
 * opt-out met on the way, a change to the DNSKEY RRset. */
#include "dnssec_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct name_ref {
	const uint8_t *key; /* a prefix of a touch's key */
	uint16_t key_len;
	const uint8_t *name; /* suffix of the touch's owner */
};

struct job;

struct dv {
	struct fe__vctx *v;
	struct fe__vthr t;
	bool thr_ready;
	struct fe_store_writer *w;
	const struct fe_store_zone_rec *rec;
	const struct fe_zone_touch *touch;
	size_t ntouch;
	size_t apex_key_len;
	/* materialised records of the RRset being checked */
	struct fe__zrec **rp;
	size_t nrp, rp_cap;
	/* hashes of the names checked in step 3 that have an NSEC3 (sorted for step 4) */
	uint8_t (*named)[FE__NSEC3_HASH_LEN];
	size_t nnamed, named_cap;
	uint64_t nodes;
	/* step 2's RRsets, verified by run_jobs */
	struct job *jobs;
	size_t njobs, jobs_cap;
	atomic_size_t next_job;
	unsigned threads;
};

static int fail(struct dv *d, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct dv *d, int rc, const char *fmt, ...)
{
	char reason[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return fe__vfail(d->v, rc, NULL, "%s", reason);
}

static void recs_free(struct dv *d)
{
	for (size_t i = 0; i < d->nrp; i++)
		free(d->rp[i]);
	d->nrp = 0;
}

static int rec_push(struct dv *d, uint16_t type, uint16_t covered, uint32_t ttl, const uint8_t *rd,
                    uint16_t len)
{
	if (d->nrp == d->rp_cap) {
		size_t cap = d->rp_cap ? d->rp_cap * 2 : 32;
		struct fe__zrec **p = realloc(d->rp, cap * sizeof(*p));
		if (p == NULL)
			return FE_ENOMEM;
		d->rp = p;
		d->rp_cap = cap;
	}
	struct fe__zrec *r = calloc(1, sizeof(*r) + len);
	if (r == NULL)
		return FE_ENOMEM;
	r->ttl = ttl;
	r->type = type;
	r->covered = covered;
	r->rdlen = len;
	memcpy(r->rdata, rd, len);
	d->rp[d->nrp++] = r;
	return FE_OK;
}

/* Records of RRset @rs into d->rp: the RRs first, then the RRSIGs; *nrrs the RRs. */
static int load_rrset(struct dv *d, const struct fe_store_rrset *rs, size_t *nrrs)
{
	size_t it = 0;
	const uint8_t *rd;
	uint16_t len;
	bool sig;
	int rc;
	recs_free(d);
	*nrrs = 0;
	while (fe_store_rrset_next(rs, &it, &rd, &len, &sig)) {
		if ((rc = rec_push(d, sig ? FE_T_RRSIG : rs->type, rs->type, rs->ttl, rd, len)) !=
		    FE_OK)
			return rc;
		*nrrs += !sig;
	}
	return FE_OK;
}

/* The mini zone the key checks of dnssec.c read: the apex node with the DNSKEY RRset. */
static int mini_zone(struct dv *d, struct fe_zone *z)
{
	struct fe_store_node apex;
	struct fe_store_rrset rs;
	size_t nrrs;
	int rc = fe_store_writer_get_node(d->w, z->apex_key, z->apex_key_len, &apex);
	if (rc != FE_OK)
		return fail(d, rc == FE_ENOENT ? FE_EVALIDATE : rc, "no apex node");
	if (!fe_store_node_find(&apex, FE_T_DNSKEY, &rs))
		return fail(d, FE_EVALIDATE, "no DNSKEY RRset at the apex: zone is not signed");
	if ((rc = load_rrset(d, &rs, &nrrs)) != FE_OK)
		return rc;
	z->nodes = calloc(1, sizeof(*z->nodes));
	if (z->nodes == NULL)
		return FE_ENOMEM;
	z->nnodes = 1;
	z->nodes[0].flags = FE_NODE_APEX;
	z->nodes[0].count = (uint32_t)d->nrp;
	/* the key set points into these records: the mini zone keeps them to the end */
	z->recs = d->rp;
	z->nrecs = d->nrp;
	d->rp = NULL;
	d->nrp = d->rp_cap = 0;
	return FE_OK;
}

/* Step 2, one RRset to verify: its records copied out of the write transaction (which only
 * the calling thread may read), so that several threads can verify the RRsets. */
struct job {
	uint8_t owner_lc[FE_WIRE_NAME_MAX];
	size_t owner_len;
	uint16_t type;
	struct fe__zrec **recs; /* RRs then RRSIGs */
	size_t nrrs, nrecs;
};

/* Queue RRset @type of the new node @n for step 2. */
static int queue_set(struct dv *d, const struct fe_store_node *n, uint16_t type)
{
	struct fe_store_rrset rs;
	size_t nrrs;
	char on[1100], ts[32];
	if (!fe_store_node_find(n, type, &rs))
		return FE_OK; /* the RRset went away */
	int rc = load_rrset(d, &rs, &nrrs);
	if (rc != FE_OK)
		return fail(d, rc, "out of memory");
	if (nrrs == 0) {
		fe_wire_name_to_str(n->owner, on, sizeof(on));
		return fail(d, FE_EVALIDATE, "RRSIG %s at %s: no RRset under it",
		            fe__type_str(type, ts, sizeof(ts)), on);
	}
	if (d->njobs == d->jobs_cap) {
		size_t cap = d->jobs_cap ? d->jobs_cap * 2 : 64;
		struct job *p = realloc(d->jobs, cap * sizeof(*p));
		if (p == NULL)
			return FE_ENOMEM;
		d->jobs = p;
		d->jobs_cap = cap;
	}
	struct job *j = &d->jobs[d->njobs];
	fe_wire_name_lower(n->owner, j->owner_lc);
	j->owner_len = n->owner_len;
	j->type = type;
	j->nrrs = nrrs;
	j->nrecs = d->nrp;
	j->recs = d->rp; /* the job owns them now */
	d->rp = NULL;
	d->nrp = d->rp_cap = 0;
	d->njobs++;
	return FE_OK;
}

struct worker {
	struct dv *d;
	struct fe__vthr t;
};

static void *verify_jobs(void *arg)
{
	struct worker *w = arg;
	struct dv *d = w->d;
	while (!atomic_load(&d->v->stop)) {
		size_t i = atomic_fetch_add(&d->next_job, 1);
		if (i >= d->njobs)
			break;
		const struct job *j = &d->jobs[i];
		if (fe__check_rrset_recs(&w->t, j->owner_lc, j->owner_len, j->type, j->recs,
		                         j->nrrs, j->recs + j->nrrs, j->nrecs - j->nrrs) != FE_OK)
			break;
	}
	return NULL;
}

#define JOBS_PER_THREAD 64u /* fewer RRsets are not worth a thread */
#define MAX_THREADS     16u

/* Verify the queued RRsets on up to opts.threads threads (0: one per core); the first failure
 * stops them all (fe__vfail). */
static int run_jobs(struct dv *d)
{
	struct worker w[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	unsigned n = d->v->o.threads;
	if (n == 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		n = c > 0 ? (unsigned)c : 1u;
	}
	n = FE_MIN(n, MAX_THREADS);
	n = (unsigned)FE_MAX((size_t)1, FE_MIN((size_t)n, d->njobs / JOBS_PER_THREAD));
	unsigned ready = 0, started = 0;
	int rc = FE_OK;
	atomic_init(&d->next_job, 0);
	for (unsigned i = 0; i < n; i++) {
		w[i].d = d;
		if ((rc = fe__vthr_init(&w[i].t, d->v)) != FE_OK)
			break;
		ready++;
	}
	if (rc == FE_OK) {
		for (unsigned i = 1; i < n; i++) {
			if (pthread_create(&tid[i], NULL, verify_jobs, &w[i]) != 0)
				break;
			started = i;
		}
		verify_jobs(&w[0]);
		for (unsigned i = 1; i <= started; i++)
			pthread_join(tid[i], NULL);
		rc = d->v->rc;
	}
	for (unsigned i = 0; i < ready; i++) {
		struct fe__vthr *t = &w[i].t;
		d->t.rrsets += t->rrsets;
		d->t.sigs += t->sigs;
		d->t.sigs_cached += t->sigs_cached;
		if (t->have_expiry && (!d->t.have_expiry || t->min_expiry < d->t.min_expiry)) {
			d->t.min_expiry = t->min_expiry;
			d->t.have_expiry = true;
		}
		fe__vthr_deinit(t);
	}
	d->threads = FE_MAX(ready, 1u);
	return rc;
}

static void jobs_free(struct dv *d)
{
	for (size_t i = 0; i < d->njobs; i++) {
		for (size_t k = 0; k < d->jobs[i].nrecs; k++)
			free(d->jobs[i].recs[k]);
		free(d->jobs[i].recs);
	}
	free(d->jobs);
	d->jobs = NULL;
	d->njobs = d->jobs_cap = 0;
}

static int touch_cmp(const void *pa, const void *pb)
{
	const struct fe_zone_touch *a = pa, *b = pb;
	if (a->nsec3 != b->nsec3)
		return a->nsec3 ? 1 : -1;
	int c = fe_wire_key_cmp(a->key, a->key_len, b->key, b->key_len);
	if (c != 0)
		return c;
	return a->covered < b->covered ? -1 : (a->covered > b->covered ? 1 : 0);
}

static bool same_target(const struct fe_zone_touch *a, const struct fe_zone_touch *b)
{
	return a->nsec3 == b->nsec3 && a->key_len == b->key_len &&
	       memcmp(a->key, b->key, a->key_len) == 0;
}

/* Step 2 over the touches (sorted by target, then covered type). */
static int check_signatures(struct dv *d, const struct fe_zone_touch *t, size_t n)
{
	char on[1100];
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && same_target(&t[i], &t[j]))
			j++;
		struct fe_store_node node;
		int rc = t[i].nsec3 ? fe_store_writer_get_nsec3(d->w, t[i].key, t[i].key_len, &node)
		                    : fe_store_writer_get_node(d->w, t[i].key, t[i].key_len, &node);
		d->nodes++;
		if (rc == FE_ENOENT) {
			i = j;
			continue; /* gone: step 3/4 check the denial */
		}
		if (rc != FE_OK)
			return fail(d, rc, "store: %s", fe_strerror(rc));
		/* the node's blob lives until the next call on the writer: copy it */
		size_t blen = (size_t)(node.end - (node.owner - 3));
		uint8_t *blob = malloc(blen);
		if (blob == NULL)
			return FE_ENOMEM;
		memcpy(blob, node.owner - 3, blen);
		if (fe_store_node_decode(blob, blen, &node) != FE_OK) {
			free(blob);
			return fail(d, FE_EFORMAT, "store: malformed node");
		}
		bool occluded = (node.flags & FE_NODE_OCCLUDED) != 0;
		bool cut = (node.flags & FE_NODE_DELEG) != 0;
		rc = FE_OK;
		for (size_t k = i; k < j && rc == FE_OK; k++) {
			uint16_t type = t[k].covered;
			if (k > i && t[k - 1].covered == type)
				continue;
			if (t[i].nsec3) {
				rc = type == FE_T_NSEC3 ? queue_set(d, &node, type) : FE_OK;
				continue;
			}
			if (type == FE_T_NSEC3 &&
			    fe_store_node_find(&node, type, &(struct fe_store_rrset){0})) {
				fe_wire_name_to_str(node.owner, on, sizeof(on));
				rc = fail(
				        d, FE_EVALIDATE,
				        "NSEC3 at %s: not an owner of the zone's NSEC3 chain (RFC "
				        "5155 §7.1)",
				        on);
				continue;
			}
			/* glue and occluded data are not signed; at a cut only DS and NSEC are
			 * the parent's (RFC 4035 §2.2) */
			if (occluded || (cut && type != FE_T_DS && type != FE_T_NSEC))
				continue;
			rc = queue_set(d, &node, type);
		}
		free(blob);
		if (rc != FE_OK)
			return rc;
		i = j;
	}
	return run_jobs(d);
}

/* Types at node @n (sorted), RRSIG slotted in per @sig_mode, into d->t.types. */
static int node_types(struct dv *d, const struct fe_store_node *n, int sig_mode)
{
	struct fe_store_rrset rs;
	size_t it = 0, cnt = 0;
	bool sig = sig_mode == FE__SIG_ALWAYS && n->rrset_count > 0, ds = false;
	uint16_t tmp[512];
	while (fe_store_node_next(n, &it, &rs)) {
		if (cnt + 2 > sizeof(tmp) / sizeof(tmp[0]))
			return FE_ERANGE;
		if (rs.type == FE_T_RRSIG)
			continue;
		sig |= rs.sig_count > 0;
		ds |= rs.type == FE_T_DS;
		tmp[cnt++] = rs.type;
	}
	if (sig_mode == FE__SIG_IF_DS && ds)
		sig = true;
	if (sig) {
		size_t at = 0;
		while (at < cnt && tmp[at] < FE_T_RRSIG)
			at++;
		memmove(tmp + at + 1, tmp + at, (cnt - at) * sizeof(tmp[0]));
		tmp[at] = FE_T_RRSIG;
		cnt++;
	}
	if (cnt > d->t.types_cap) {
		uint16_t *p = realloc(d->t.types, FE_MAX(cnt, (size_t)64) * sizeof(*p));
		if (p == NULL)
			return FE_ENOMEM;
		d->t.types = p;
		d->t.types_cap = FE_MAX(cnt, (size_t)64);
	}
	memcpy(d->t.types, tmp, cnt * sizeof(tmp[0]));
	return (int)cnt;
}

/* The NSEC3 RR of node @n (exactly one, the chain's parameters): *rd, *len; the offset of its
 * next-hash field in *next_off. FE_OK, FE_EVALIDATE (reason set), FE_ENOTSUP (opt-out). */
static int nsec3_rr(struct dv *d, const struct fe_store_node *n, const uint8_t **rd, uint16_t *len,
                    size_t *next_off)
{
	struct fe_store_rrset rs;
	char on[1100];
	fe_wire_name_to_str(n->owner, on, sizeof(on));
	if (!fe_store_node_find(n, FE_T_NSEC3, &rs) || rs.rr_count != 1)
		return fail(d, FE_EVALIDATE, "NSEC3 at %s: %u records, one expected", on,
		            fe_store_node_find(n, FE_T_NSEC3, &rs) ? rs.rr_count : 0u);
	size_t it = 0;
	bool sig;
	fe_store_rrset_next(&rs, &it, rd, len, &sig);
	const uint8_t *p = *rd;
	size_t o = 5u + (*len >= 5 ? p[4] : 0);
	if (*len < 5 || o >= *len || p[o] != FE__NSEC3_HASH_LEN ||
	    o + 1 + FE__NSEC3_HASH_LEN > *len ||
	    !fe__bitmap_valid(p + o + 1 + FE__NSEC3_HASH_LEN, *len - o - 1 - FE__NSEC3_HASH_LEN))
		return fail(d, FE_EVALIDATE, "NSEC3 at %s: malformed RDATA", on);
	if (p[0] != d->rec->nsec3_alg || fe_get_be16(p + 2) != d->rec->nsec3_iterations ||
	    p[4] != d->rec->nsec3_salt_len || memcmp(p + 5, d->rec->nsec3_salt, p[4]) != 0)
		return fail(d, FE_EVALIDATE, "NSEC3 at %s: not the chain's parameters", on);
	if (p[1] & 0xFE)
		return fail(d, FE_EVALIDATE, "NSEC3 at %s: unknown flags 0x%02x (RFC 5155 §8.2)",
		            on, p[1]);
	if (p[1] & 1)
		return fail(d, FE_ENOTSUP, "NSEC3 at %s: opt-out (validated whole-zone only)", on);
	*next_off = o + 1;
	return FE_OK;
}

static int named_push(struct dv *d, const uint8_t *h)
{
	if (d->nnamed == d->named_cap) {
		size_t cap = d->named_cap ? d->named_cap * 2 : 64;
		void *p = realloc(d->named, cap * sizeof(*d->named));
		if (p == NULL)
			return FE_ENOMEM;
		d->named = p;
		d->named_cap = cap;
	}
	memcpy(d->named[d->nnamed++], h, FE__NSEC3_HASH_LEN);
	return FE_OK;
}

/* Step 3 for one name. */
static int check_name(struct dv *d, const struct name_ref *nr)
{
	struct fe_store_node n;
	uint8_t hash[64], lc[FE_WIRE_NAME_MAX];
	char on[1100], why[128];
	uint16_t req[4];
	fe_wire_name_to_str(nr->name, on, sizeof(on));
	int rc = fe_store_writer_get_node(d->w, nr->key, nr->key_len, &n);
	if (rc != FE_OK && rc != FE_ENOENT)
		return fail(d, rc, "store: %s", fe_strerror(rc));
	bool present = rc == FE_OK && !(n.flags & FE_NODE_OCCLUDED);
	d->t.denial++;
	if (present && n.hash_len == FE__NSEC3_HASH_LEN) {
		memcpy(hash, n.hash, FE__NSEC3_HASH_LEN);
	} else {
		fe_wire_name_lower(nr->name, lc);
		rc = fe_wire_nsec3_hash(lc, d->rec->nsec3_alg, d->rec->nsec3_iterations,
		                        d->rec->nsec3_salt, d->rec->nsec3_salt_len, hash);
		if (rc != FE__NSEC3_HASH_LEN)
			return fail(d, FE_EVALIDATE, "NSEC3 hash of %s: %s", on, fe_strerror(rc));
	}
	int nt = 0;
	bool cut = false, insecure = false, ent = false;
	if (present) {
		cut = (n.flags & FE_NODE_DELEG) != 0;
		ent = n.rrset_count == 0;
		nt = node_types(d, &n, cut ? FE__SIG_IF_DS : FE__SIG_ALWAYS);
		if (nt < 0)
			return fail(d, nt, "types at %s: %s", on, fe_strerror(nt));
		insecure = cut && !fe_store_node_find(&n, FE_T_DS, &(struct fe_store_rrset){0});
	}
	struct fe_store_node h;
	rc = fe_store_writer_get_nsec3(d->w, hash, FE__NSEC3_HASH_LEN, &h);
	if (rc != FE_OK && rc != FE_ENOENT)
		return fail(d, rc, "store: %s", fe_strerror(rc));
	if (!present) {
		if (rc == FE_OK)
			return fail(d, FE_EVALIDATE,
			            "NSEC3 for %s: the name is not in the zone (%s), its NSEC3 is "
			            "(RFC 5155 §7.1)",
			            on, n.flags & FE_NODE_OCCLUDED ? "occluded" : "deleted");
		return FE_OK;
	}
	if (rc == FE_ENOENT) {
		if (insecure || ent)
			return fail(
			        d, FE_ENOTSUP,
			        "NSEC3 for %s: none (an opt-out span is possible here; validated "
			        "whole-zone only)",
			        on);
		return fail(d, FE_EVALIDATE, "NSEC3 for %s: missing (NSEC3 chain broken)", on);
	}
	const uint8_t *rd;
	uint16_t len;
	size_t next_off;
	if ((rc = nsec3_rr(d, &h, &rd, &len, &next_off)) != FE_OK)
		return rc;
	size_t o = next_off + FE__NSEC3_HASH_LEN;
	size_t nreq = cut ? fe__cut_required(d->t.types, (size_t)nt, false, req) : 0;
	if (!fe__bitmap_match(rd + o, len - o, d->t.types, (size_t)nt, cut, req, nreq, why,
	                      sizeof(why)))
		return fail(d, FE_EVALIDATE, "NSEC3 for %s: type bitmap %s", on, why);
	return named_push(d, hash);
}

static int hash_cmp(const void *a, const void *b)
{
	return memcmp(a, b, FE__NSEC3_HASH_LEN);
}

static int ref_cmp(const void *pa, const void *pb)
{
	const struct name_ref *a = pa, *b = pb;
	return fe_wire_key_cmp(a->key, a->key_len, b->key, b->key_len);
}

/* Key length of the parent of the name with key @key (0 at the root). */
static size_t parent_key_len(const uint8_t *key, size_t klen)
{
	for (size_t i = klen - 1; i > 0; i--)
		if (key[i - 1] == 0)
			return i;
	return 0;
}

/* Step 3 over the touched owner names and their ancestors below the apex. */
static int check_names(struct dv *d, const struct fe_zone_touch *t, size_t n)
{
	size_t cap = 0, cnt = 0;
	struct name_ref *refs = NULL;
	int rc = FE_OK;
	for (size_t i = 0; i < n; i++) {
		if (t[i].nsec3 || (i > 0 && !t[i - 1].nsec3 && same_target(&t[i - 1], &t[i])))
			continue;
		const uint8_t *name = t[i].rr->owner;
		size_t kl = t[i].key_len;
		for (bool first = true; kl > d->apex_key_len || (first && kl == d->apex_key_len);
		     first = false) {
			if (cnt == cap) {
				cap = cap ? cap * 2 : 256;
				struct name_ref *p = realloc(refs, cap * sizeof(*p));
				if (p == NULL) {
					free(refs);
					return FE_ENOMEM;
				}
				refs = p;
			}
			refs[cnt++] = (struct name_ref){t[i].key, (uint16_t)kl, name};
			if (kl == d->apex_key_len)
				break;
			kl = parent_key_len(t[i].key, kl);
			name += 1 + name[0];
		}
	}
	qsort(refs, cnt, sizeof(*refs), ref_cmp);
	for (size_t i = 0; i < cnt && rc == FE_OK; i++)
		if (i == 0 || ref_cmp(&refs[i - 1], &refs[i]) != 0)
			rc = check_name(d, &refs[i]);
	free(refs);
	if (rc == FE_OK)
		qsort(d->named, d->nnamed, sizeof(*d->named), hash_cmp);
	return rc;
}

/* ---- NSEC zones ------------------------------------------------------------------- */

/* Does the NSEC of owner @key (a node with an NSEC) name the next owner with an NSEC, and
 * list the owner's types (RFC 4034 §4.1.1, RFC 4035 §2.3)? */
static int check_nsec_link(struct dv *d, const uint8_t *key, size_t klen)
{
	struct fe_store_node n, s;
	struct fe_store_rrset rs;
	uint8_t own[FE_WIRE_KEY_MAX], next[FE_WIRE_KEY_MAX], want[FE_WIRE_KEY_MAX];
	char on[1100], why[128];
	uint16_t req[4];
	memcpy(own, key, klen);
	int rc = fe_store_writer_get_node(d->w, own, klen, &n);
	if (rc != FE_OK)
		return fail(d, rc, "store: %s", fe_strerror(rc));
	fe_wire_name_to_str(n.owner, on, sizeof(on));
	if (!fe_store_node_find(&n, FE_T_NSEC, &rs))
		return fail(d, FE_EVALIDATE, "NSEC at %s: missing (NSEC chain broken)", on);
	if (rs.rr_count != 1)
		return fail(d, FE_EVALIDATE, "NSEC at %s: %u records, one expected", on,
		            rs.rr_count);
	size_t it = 0;
	const uint8_t *rd;
	uint16_t len;
	bool sig;
	fe_store_rrset_next(&rs, &it, &rd, &len, &sig);
	int nl = fe_wire_name_len(rd, len);
	int nkl = nl < 0 ? -1 : fe_wire_name_key(rd, (size_t)nl, next, sizeof(next));
	if (nl < 0 || nkl < 0 || !fe__bitmap_valid(rd + nl, len - (size_t)nl))
		return fail(d, FE_EVALIDATE, "NSEC at %s: malformed RDATA", on);
	int nt = node_types(d, &n, FE__SIG_ALWAYS);
	if (nt < 0)
		return fail(d, nt, "types at %s: %s", on, fe_strerror(nt));
	bool cut = (n.flags & FE_NODE_DELEG) != 0;
	size_t nreq = cut ? fe__cut_required(d->t.types, (size_t)nt, true, req) : 0;
	if (!fe__bitmap_match(rd + nl, len - (size_t)nl, d->t.types, (size_t)nt, cut, req, nreq,
	                      why, sizeof(why)))
		return fail(d, FE_EVALIDATE, "NSEC at %s: type bitmap %s", on, why);
	const uint8_t *sk;
	size_t skl;
	rc = fe_store_writer_node_near(d->w, own, klen, true, FE_NODE_HAS_NSEC, &sk, &skl, &s);
	if (rc == FE_ENOENT) {
		memcpy(want, own, klen);
		skl = klen;
	} else if (rc != FE_OK) {
		return fail(d, rc, "store: NSEC walk");
	} else {
		memcpy(want, sk, skl);
	}
	if ((size_t)nkl != skl || memcmp(next, want, skl) != 0)
		return fail(d, FE_EVALIDATE,
		            "NSEC at %s: next name is not the next owner of the zone (NSEC chain "
		            "broken)",
		            on);
	d->t.denial++;
	return FE_OK;
}

/* Steps 3-4 of an NSEC zone: every touched owner that is authoritative data has its NSEC
 * linking to its successor, and the owner before every touched name links to its own. */
static int check_nsec_names(struct dv *d, const struct fe_zone_touch *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (t[i].nsec3 || (i > 0 && !t[i - 1].nsec3 && same_target(&t[i - 1], &t[i])))
			continue;
		struct fe_store_node node;
		uint8_t prev[FE_WIRE_KEY_MAX];
		char on[1100];
		int rc = fe_store_writer_get_node(d->w, t[i].key, t[i].key_len, &node);
		if (rc != FE_OK && rc != FE_ENOENT)
			return fail(d, rc, "store: %s", fe_strerror(rc));
		bool present =
		        rc == FE_OK && !(node.flags & FE_NODE_OCCLUDED) && node.rrset_count > 0;
		if (present && !(node.flags & FE_NODE_HAS_NSEC)) {
			fe_wire_name_to_str(node.owner, on, sizeof(on));
			return fail(d, FE_EVALIDATE, "NSEC at %s: missing (NSEC chain broken)", on);
		}
		if (present && (rc = check_nsec_link(d, t[i].key, t[i].key_len)) != FE_OK)
			return rc;
		const uint8_t *pk;
		size_t pkl;
		rc = fe_store_writer_node_near(d->w, t[i].key, t[i].key_len, false,
		                               FE_NODE_HAS_NSEC, &pk, &pkl, &node);
		if (rc == FE_ENOENT)
			continue;
		if (rc != FE_OK)
			return fail(d, rc, "store: NSEC walk");
		memcpy(prev, pk, pkl);
		if ((rc = check_nsec_link(d, prev, pkl)) != FE_OK)
			return rc;
	}
	return FE_OK;
}

/* Does the NSEC3 node at @h name its successor in its next-hash field? */
static int check_link(struct dv *d, const uint8_t *h)
{
	struct fe_store_node n, s;
	const uint8_t *rd, *sh;
	uint16_t len;
	size_t next_off, shl;
	uint8_t own[FE__NSEC3_HASH_LEN], want[FE__NSEC3_HASH_LEN];
	char on[1100];
	memcpy(own, h, sizeof(own));
	int rc = fe_store_writer_nsec3_near(d->w, own, sizeof(own), true, &sh, &shl, &s);
	if (rc == FE_ENOENT)
		memcpy(want, own, sizeof(want)); /* a chain of one */
	else if (rc != FE_OK || shl != FE__NSEC3_HASH_LEN)
		return fail(d, rc == FE_OK ? FE_EFORMAT : rc, "store: NSEC3 walk");
	else
		memcpy(want, sh, sizeof(want));
	if ((rc = fe_store_writer_get_nsec3(d->w, own, sizeof(own), &n)) != FE_OK)
		return fail(d, rc, "store: NSEC3 node: %s", fe_strerror(rc));
	if ((rc = nsec3_rr(d, &n, &rd, &len, &next_off)) != FE_OK)
		return rc;
	if (memcmp(rd + next_off, want, FE__NSEC3_HASH_LEN) != 0) {
		fe_wire_name_to_str(n.owner, on, sizeof(on));
		return fail(d, FE_EVALIDATE,
		            "NSEC3 at %s: next hashed owner is not the next in the chain (NSEC3 "
		            "chain broken)",
		            on);
	}
	d->t.denial++;
	return FE_OK;
}

/* Offset of the type bitmap in NSEC3 RDATA @rd (0: malformed). */
static size_t n3_bitmap_off(const uint8_t *rd, size_t len)
{
	size_t o = 5u + (len >= 5 ? rd[4] : 0);
	if (len < 5 || o >= len || o + 1u + rd[o] > len)
		return 0;
	return o + 1u + rd[o];
}

/* Does the NSEC3 now at @h carry the same type bitmap as @old, the record it replaced? */
static int same_bitmap(struct dv *d, const uint8_t *h, const struct fe_zone_rr *old)
{
	struct fe_store_node n;
	const uint8_t *rd;
	uint16_t len;
	size_t next_off;
	char on[1100];
	int rc = fe_store_writer_get_nsec3(d->w, h, FE__NSEC3_HASH_LEN, &n);
	if (rc != FE_OK)
		return fail(d, rc, "store: %s", fe_strerror(rc));
	if ((rc = nsec3_rr(d, &n, &rd, &len, &next_off)) != FE_OK)
		return rc;
	size_t a = n3_bitmap_off(rd, len), b = n3_bitmap_off(old->rdata, old->rdlen);
	if (a && b && len - a == old->rdlen - b && memcmp(rd + a, old->rdata + b, len - a) == 0)
		return FE_OK;
	fe_wire_name_to_str(n.owner, on, sizeof(on));
	return fail(d, FE_EVALIDATE,
	            "NSEC3 at %s: type bitmap changed, but its name is not changed (RFC 5155 "
	            "§7.1)",
	            on);
}

/* Step 4 around the touched NSEC3 hashes. */
static int check_chain(struct dv *d, const struct fe_zone_touch *t, size_t n)
{
	char on[1100];
	for (size_t i = 0; i < n;) {
		size_t j = i;
		bool added = false, removed = false;
		while (j < n && same_target(&t[i], &t[j])) {
			if (t[j].type == FE_T_NSEC3) {
				added |= t[j].add;
				removed |= !t[j].add;
			}
			j++;
		}
		if (!t[i].nsec3) {
			i = j;
			continue;
		}
		const uint8_t *h = t[i].key;
		struct fe_store_node node;
		int rc = fe_store_writer_get_nsec3(d->w, h, FE__NSEC3_HASH_LEN, &node);
		if (rc != FE_OK && rc != FE_ENOENT)
			return fail(d, rc, "store: %s", fe_strerror(rc));
		if (rc == FE_OK) {
			if (added && !removed &&
			    !bsearch(h, d->named, d->nnamed, sizeof(*d->named), hash_cmp)) {
				fe_wire_name_to_str(node.owner, on, sizeof(on));
				return fail(
				        d, FE_EVALIDATE,
				        "NSEC3 at %s: matches no name in the zone (RFC 5155 §7.1)",
				        on);
			}
			if ((rc = check_link(d, h)) != FE_OK)
				return rc;
			/* An NSEC3 replaced for a name the change does not touch may change
			 * its next-hash field only: its bitmap still describes that name. */
			for (size_t k = i; k < j && removed; k++)
				if (t[k].type == FE_T_NSEC3 && !t[k].add &&
				    !bsearch(h, d->named, d->nnamed, sizeof(*d->named), hash_cmp) &&
				    (rc = same_bitmap(d, h, t[k].rr)) != FE_OK)
					return rc;
		}
		const uint8_t *ph;
		size_t phl;
		struct fe_store_node p;
		rc = fe_store_writer_nsec3_near(d->w, h, FE__NSEC3_HASH_LEN, false, &ph, &phl, &p);
		if (rc == FE_OK && phl == FE__NSEC3_HASH_LEN) {
			uint8_t prev[FE__NSEC3_HASH_LEN];
			memcpy(prev, ph, sizeof(prev));
			if ((rc = check_link(d, prev)) != FE_OK)
				return rc;
		} else if (rc != FE_ENOENT) {
			return fail(d, rc == FE_OK ? FE_EFORMAT : rc, "store: NSEC3 walk");
		}
		i = j;
	}
	return FE_OK;
}

int fe_dnssec_validate_change(struct fe_store_writer *w, const struct fe_store_zone_rec *cur,
                              const struct fe_zone_touch *touch, size_t ntouch,
                              const struct fe_dnssec_trust *trust,
                              const struct fe_dnssec_opts *opts, struct fe_dnssec_report *rep,
                              struct fe_zone_error *err)
{
	struct fe_dnssec_trust empty = {0};
	struct dv d;
	struct fe_zone *z = NULL;
	struct fe_zone_touch *t = NULL;
	uint64_t t0 = fe_time_mono_us();
	int rc;

	memset(&d, 0, sizeof(d));
	if (rep != NULL)
		memset(rep, 0, sizeof(*rep));
	d.v = calloc(1, sizeof(*d.v));
	z = calloc(1, sizeof(*z));
	if (d.v == NULL || z == NULL) {
		free(d.v);
		free(z);
		return FE_ENOMEM;
	}
	d.w = w;
	d.rec = cur;
	struct fe__vctx *v = d.v;
	v->z = z;
	v->trust = trust ? trust : &empty;
	if (opts != NULL)
		v->o = *opts;
	else
		fe_dnssec_opts_init(&v->o);
	v->now = v->o.now_s ? v->o.now_s : fe_time_wall_s();
	v->o.learn = NULL; /* the caller's cache holds the old version's proofs only */
	pthread_mutex_init(&v->mu, NULL);
	atomic_init(&v->stop, false);
	atomic_init(&v->failed, 0);

	memcpy(z->apex, cur->apex, cur->apex_len);
	z->apex_len = cur->apex_len;
	z->apex_labels = cur->apex_labels;
	fe_wire_name_to_str(z->apex, z->apex_str, sizeof(z->apex_str));
	fe_wire_name_lower(z->apex, v->apex_lc);
	int kl = fe_wire_name_key(z->apex, z->apex_len, z->apex_key, sizeof(z->apex_key));
	if (kl <= 0) {
		rc = fail(&d, FE_EINVAL, "malformed apex");
		goto out;
	}
	z->apex_key_len = (size_t)kl;
	d.apex_key_len = (size_t)kl;
	z->flags = cur->flags;

	/* What is left to the whole-zone validation. */
	bool nsec3 = (cur->flags & FE_ZONE_NSEC3) != 0;
	if (!nsec3 && !(cur->flags & FE_ZONE_NSEC)) {
		rc = fail(&d, FE_ENOTSUP, "no NSEC or NSEC3 chain stored");
		goto out;
	}
	if (nsec3 && cur->nsec3_iterations > v->o.nsec3_max_iterations) {
		rc = fail(&d, FE_EVALIDATE, "NSEC3PARAM: %u iterations, above the limit of %u",
		          cur->nsec3_iterations, v->o.nsec3_max_iterations);
		goto out;
	}
	/* New keys may make or break every signature: the whole zone. New signatures over the
	 * same keys (a re-signed zone) are checked by step 1, against the trust. */
	for (size_t i = 0; i < ntouch; i++)
		if (!touch[i].nsec3 && touch[i].key_len == d.apex_key_len &&
		    touch[i].type == FE_T_DNSKEY) {
			rc = fail(&d, FE_ENOTSUP,
			          "the DNSKEY RRset changes: every signature may be affected");
			goto out;
		}

	/* Step 1 */
	if ((rc = mini_zone(&d, z)) != FE_OK)
		goto out;
	if ((rc = fe__vctx_keys(v)) != FE_OK)
		goto out;
	if ((rc = fe__vthr_init(&d.t, v)) != FE_OK)
		goto out;
	d.thr_ready = true;
	if ((rc = fe__check_dnskey(&d.t)) != FE_OK)
		goto out;

	/* Steps 2-4 over the touches sorted by target and type */
	t = malloc((ntouch ? ntouch : 1) * sizeof(*t));
	if (t == NULL) {
		rc = FE_ENOMEM;
		goto out;
	}
	memcpy(t, touch, ntouch * sizeof(*t));
	qsort(t, ntouch, sizeof(*t), touch_cmp);
	if ((rc = check_signatures(&d, t, ntouch)) != FE_OK)
		goto out;
	if (nsec3)
		rc = check_names(&d, t, ntouch);
	if (nsec3 && rc == FE_OK)
		rc = check_chain(&d, t, ntouch);
	if (!nsec3)
		rc = check_nsec_names(&d, t, ntouch);
	if (rc != FE_OK)
		goto out;
	rc = v->rc;

out:
	if (rc != FE_OK && v->rc == FE_OK)
		fe__vfail(v, rc, NULL, "%s", fe_strerror(rc));
	if (rc != FE_OK)
		rc = v->rc;
	if (rc != FE_OK && err != NULL) {
		*err = v->err;
		err->file[0] = '\0';
	}
	if (rep != NULL) {
		rep->rrsets = d.t.rrsets;
		rep->signatures = d.t.sigs;
		rep->signatures_cached = d.t.sigs_cached;
		rep->denial_records = d.t.denial;
		rep->earliest_expiry_s = d.t.have_expiry ? d.t.min_expiry : 0;
		rep->records = cur->rr_count;
		rep->nodes = d.nodes;
		rep->trusted_key_tag = v->trusted_tag;
		rep->trusted_key_alg = v->trusted_alg;
		rep->nsec3 = (cur->flags & FE_ZONE_NSEC3) != 0;
		rep->threads = d.threads ? d.threads : 1;
		rep->seconds = (double)(fe_time_mono_us() - t0) / 1e6;
	}
	if (d.thr_ready)
		fe__vthr_deinit(&d.t);
	recs_free(&d);
	free(d.rp);
	jobs_free(&d);
	free(d.named);
	free(t);
	for (size_t i = 0; i < v->nkeys; i++)
		EVP_PKEY_free(v->keys[i].pkey);
	free(v->keys);
	pthread_mutex_destroy(&v->mu);
	for (size_t i = 0; i < z->nrecs; i++)
		free(z->recs[i]);
	free(z->recs);
	free(z->nodes);
	free(z);
	free(v);
	return rc;
}
