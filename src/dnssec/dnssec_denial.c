/* Authenticated denial: the NSEC chain (RFC 4035 §2.3, RFC 4034 §4) or the NSEC3 chain
 * (RFC 5155 §7.1, RFC 9276) checked against the names and types of the zone. One work unit,
 * run by one worker while the others verify signatures. */
#include "dnssec_int.h"

#include <stdlib.h>
#include <string.h>

/* Required types at a cut (RFC 4035 §2.3 / RFC 5155 §7.1): NS, DS when present, and for
 * NSEC the NSEC and RRSIG; RRSIG with NSEC3 only when the DS is there (signed). */
size_t fe__cut_required(const uint16_t *types, size_t n, bool nsec, uint16_t *req)
{
	size_t k = 0;
	bool ds = false;
	for (size_t i = 0; i < n; i++)
		ds |= types[i] == FE_T_DS;
	req[k++] = FE_T_NS;
	if (ds)
		req[k++] = FE_T_DS;
	if (nsec || ds)
		req[k++] = FE_T_RRSIG;
	if (nsec)
		req[k++] = FE_T_NSEC;
	return k;
}

int fe__check_nsec(struct fe__vthr *t)
{
	struct fe__vctx *v = t->v;
	struct fe_zone *z = v->z;
	char on[1100], nn[1100], why[128];
	uint8_t key[FE_WIRE_KEY_MAX];
	uint16_t req[4];
	const struct fe__zrec *prev = NULL; /* the previous owner's NSEC */
	size_t prev_node = 0;

	if (!(z->flags & FE_ZONE_NSEC))
		return fe__vfail(v, FE_EVALIDATE, NULL,
		                 "no NSEC or NSEC3 chain (RFC 4035 §2.3: a signed zone proves what "
		                 "does not exist)");
	if (z->nn3 > 0)
		return fe__vfail(v, FE_EVALIDATE, z->n3recs[0],
		                 "both an NSEC chain and NSEC3 records");

	for (size_t i = 0; i < z->nnodes; i++) {
		const struct fe__znode *n = &z->nodes[i];
		if (atomic_load_explicit(&v->stop, memory_order_relaxed))
			return FE_EVALIDATE;
		/* Empty non-terminals own no NSEC; names below a cut are not ours. */
		if (n->count == 0 || (n->flags & FE_NODE_OCCLUDED))
			continue;
		struct fe__zrec *const *r = z->recs + n->first;
		const struct fe__zrec *nsec = NULL;
		size_t cnt = 0;
		for (size_t k = 0; k < n->count; k++) {
			if (r[k]->type == FE_T_NSEC) {
				nsec = nsec ? nsec : r[k];
				cnt++;
			}
		}
		if (cnt != 1) {
			fe__node_str(z, i, on, sizeof(on));
			if (cnt == 0)
				return fe__vfail(v, FE_EVALIDATE, r[0],
				                 "NSEC at %s: missing (NSEC chain broken)", on);
			return fe__vfail(v, FE_EVALIDATE, r[0],
			                 "NSEC at %s: %zu records, one expected", on, cnt);
		}
		t->denial++;
		int nl = fe_wire_name_len(nsec->rdata, nsec->rdlen);
		if (nl < 0 || !fe__bitmap_valid(nsec->rdata + nl, nsec->rdlen - (size_t)nl)) {
			fe__node_str(z, i, on, sizeof(on));
			return fe__vfail(v, FE_EVALIDATE, nsec, "NSEC at %s: malformed RDATA", on);
		}
		/* Type bitmap = the types at the owner (RFC 4035 §2.3). */
		/* Every owner in an NSEC zone has a signed NSEC RRset. */
		int nt = fe__node_types(t, r, n->count, FE__SIG_ALWAYS);
		if (nt < 0)
			return fe__vfail(v, nt, nsec, "out of memory");
		bool cut = (n->flags & FE_NODE_DELEG) != 0;
		size_t nreq = cut ? fe__cut_required(t->types, (size_t)nt, true, req) : 0;
		if (!fe__bitmap_match(nsec->rdata + nl, nsec->rdlen - (size_t)nl, t->types,
		                      (size_t)nt, cut, req, nreq, why, sizeof(why))) {
			fe__node_str(z, i, on, sizeof(on));
			return fe__vfail(v, FE_EVALIDATE, nsec, "NSEC at %s: type bitmap %s", on,
			                 why);
		}
		if (prev != NULL) {
			/* The previous NSEC names this owner as the next one (RFC 4034 §4.1.1). */
			int kl = fe_wire_name_key(
			        prev->rdata, (size_t)fe_wire_name_len(prev->rdata, prev->rdlen),
			        key, sizeof(key));
			if (kl < 0 || (size_t)kl != n->key_len ||
			    memcmp(key, fe__own_key(n->own), n->key_len) != 0) {
				fe__node_str(z, prev_node, on, sizeof(on));
				fe_wire_name_to_str(prev->rdata, nn, sizeof(nn));
				char want[1100];
				fe__node_str(z, i, want, sizeof(want));
				return fe__vfail(
				        v, FE_EVALIDATE, prev,
				        "NSEC at %s: next name %s, but the next name in the "
				        "zone is %s (NSEC chain broken)",
				        on, nn, want);
			}
		}
		prev = nsec;
		prev_node = i;
	}
	/* RFC 4034 §4.1.1: the last NSEC points back to the apex. */
	if (prev != NULL && !fe_wire_name_eq(prev->rdata, z->apex)) {
		fe__node_str(z, prev_node, on, sizeof(on));
		fe_wire_name_to_str(prev->rdata, nn, sizeof(nn));
		return fe__vfail(
		        v, FE_EVALIDATE, prev,
		        "NSEC at %s: next name %s, but the last NSEC must point to the apex "
		        "(NSEC chain not closed)",
		        on, nn);
	}
	return FE_OK;
}

/* ---- NSEC3 --------------------------------------------------------------------------- */

struct hname {
	uint8_t hash[FE__NSEC3_HASH_LEN];
	uint32_t node;
};

static int hname_cmp(const void *pa, const void *pb)
{
	const struct hname *a = pa, *b = pb;
	int c = memcmp(a->hash, b->hash, FE__NSEC3_HASH_LEN);
	if (c != 0)
		return c;
	return a->node < b->node ? -1 : (a->node > b->node ? 1 : 0);
}

/* Which names must have an NSEC3 (RFC 5155 §7.1): every authoritative name except
 * insecure delegations and the empty non-terminals that exist only above them. */
static bool *required_names(const struct fe_zone *z)
{
	bool *req = calloc(FE_MAX(z->nnodes, (size_t)1), sizeof(*req));
	size_t *stack = malloc(130 * sizeof(*stack));
	size_t sp = 0;
	if (req == NULL || stack == NULL) {
		free(req);
		free(stack);
		return NULL;
	}
	for (size_t i = 0; i < z->nnodes; i++) {
		const struct fe__znode *n = &z->nodes[i];
		while (sp > 0) {
			const struct fe__znode *top = &z->nodes[stack[sp - 1]];
			if (top->key_len < n->key_len &&
			    memcmp(fe__own_key(top->own), fe__own_key(n->own), top->key_len) == 0)
				break;
			sp--;
		}
		if (!(n->flags & FE_NODE_OCCLUDED) && n->count > 0) {
			bool insecure = false;
			if (n->flags & FE_NODE_DELEG) {
				insecure = true;
				for (size_t k = 0; k < n->count; k++)
					if (z->recs[n->first + k]->type == FE_T_DS)
						insecure = false;
			}
			if (!insecure) {
				req[i] = true;
				/* An empty non-terminal above a required name is required. */
				for (size_t s = sp; s > 0 && !req[stack[s - 1]]; s--)
					req[stack[s - 1]] = true;
			}
		}
		if (sp < 130)
			stack[sp++] = i;
	}
	free(stack);
	return req;
}

int fe__check_nsec3(struct fe__vthr *t)
{
	struct fe__vctx *v = t->v;
	struct fe_zone *z = v->z;
	char on[1100], why[128];
	uint16_t req[4];
	struct hname *names = NULL;
	bool *required = NULL;
	size_t nn = 0;
	int rc = FE_OK;

	if (z->flags & FE_ZONE_NSEC)
		return fe__vfail(v, FE_EVALIDATE, NULL, "both an NSEC chain and NSEC3 records");

	/* RFC 5155 §4 / brief: one NSEC3PARAM at the apex, the chain's parameters. */
	size_t first = z->nodes[0].first, cnt = 0;
	const struct fe__zrec *param = NULL;
	for (size_t k = 0; k < z->nodes[0].count; k++) {
		const struct fe__zrec *r = z->recs[first + k];
		if (r->type == FE_T_NSEC3PARAM) {
			param = param ? param : r;
			cnt++;
		}
	}
	if (cnt != 1)
		return fe__vfail(v, FE_EVALIDATE, param,
		                 "NSEC3PARAM at %s: %zu records, exactly one expected", z->apex_str,
		                 cnt);
	if (param->rdlen < 5 || param->rdata[0] != 1 || param->rdata[1] != 0)
		return fe__vfail(v, FE_EVALIDATE, param,
		                 "NSEC3PARAM at %s: not the chain's parameters (algorithm 1, flags "
		                 "0)",
		                 z->apex_str);
	/* RFC 9276 §3.2: a cap on iterations; above it the zone is treated as insecure, which
	 * for a federation zone means rejected. */
	if (z->n3_iter > v->o.nsec3_max_iterations)
		return fe__vfail(
		        v, FE_EVALIDATE, param,
		        "NSEC3PARAM at %s: %u iterations, above the limit of %u (RFC 9276)",
		        z->apex_str, z->n3_iter, v->o.nsec3_max_iterations);

	/* Hashes of every authoritative name, sorted. */
	names = malloc(FE_MAX(z->nnodes, (size_t)1) * sizeof(*names));
	required = required_names(z);
	if (names == NULL || required == NULL) {
		rc = fe__vfail(v, FE_ENOMEM, NULL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < z->nnodes; i++) {
		if (z->nodes[i].flags & FE_NODE_OCCLUDED)
			continue;
		memcpy(names[nn].hash, z->hashes[i], FE__NSEC3_HASH_LEN);
		names[nn].node = (uint32_t)i;
		nn++;
	}
	qsort(names, nn, sizeof(*names), hname_cmp);
	for (size_t i = 1; i < nn; i++) {
		if (memcmp(names[i - 1].hash, names[i].hash, FE__NSEC3_HASH_LEN) == 0) {
			char a[1100];
			fe__node_str(z, names[i - 1].node, a, sizeof(a));
			fe__node_str(z, names[i].node, on, sizeof(on));
			rc = fe__vfail(v, FE_EVALIDATE, NULL,
			               "NSEC3 hash collision between %s and %s (RFC 5155 §7.1)", a,
			               on);
			goto out;
		}
	}

	/* The chain itself: one NSEC3 per hashed owner, sorted, closed, consistent. */
	for (size_t j = 0; j < z->nn3; j++) {
		const struct fe__zn3 *h = &z->n3[j];
		const struct fe__zrec *r = z->n3recs[h->first];
		size_t nr = 0;
		for (size_t k = 0; k < h->count; k++)
			nr += z->n3recs[h->first + k]->type == FE_T_NSEC3;
		fe_wire_name_to_str(fe__own_name(h->own), on, sizeof(on));
		if (nr != 1) {
			rc = fe__vfail(v, FE_EVALIDATE, r, "NSEC3 at %s: %zu records, one expected",
			               on, nr);
			goto out;
		}
		/* RDATA: alg flags iterations(2) salt_len salt hash_len hash bitmap */
		const uint8_t *d = r->rdata;
		size_t o = 5u + (r->rdlen >= 5 ? d[4] : 0);
		if (r->rdlen < 5 || o >= r->rdlen || d[o] != FE__NSEC3_HASH_LEN ||
		    o + 1 + FE__NSEC3_HASH_LEN > r->rdlen ||
		    !fe__bitmap_valid(d + o + 1 + FE__NSEC3_HASH_LEN,
		                      r->rdlen - o - 1 - FE__NSEC3_HASH_LEN)) {
			rc = fe__vfail(v, FE_EVALIDATE, r, "NSEC3 at %s: malformed RDATA", on);
			goto out;
		}
		if (d[1] & 0xFE) {
			rc = fe__vfail(v, FE_EVALIDATE, r,
			               "NSEC3 at %s: unknown flags 0x%02x (RFC 5155 §8.2)", on,
			               d[1]);
			goto out;
		}
		if ((d[1] & 1) && v->o.forbid_opt_out) {
			rc = fe__vfail(v, FE_EVALIDATE, r,
			               "NSEC3 at %s: opt-out flag set, but opt-out is forbidden",
			               on);
			goto out;
		}
		if (j > 0 && memcmp(z->n3[j - 1].hash, h->hash, FE__NSEC3_HASH_LEN) >= 0) {
			rc = fe__vfail(v, FE_EVALIDATE, r, "NSEC3 at %s: chain out of order", on);
			goto out;
		}
		const struct fe__zn3 *next = &z->n3[(j + 1) % z->nn3];
		if (memcmp(d + o + 1, next->hash, FE__NSEC3_HASH_LEN) != 0) {
			char want[1100];
			fe_wire_name_to_str(fe__own_name(next->own), want, sizeof(want));
			rc = fe__vfail(v, FE_EVALIDATE, r,
			               "NSEC3 at %s: next hashed owner is not %s, the next in the "
			               "chain (NSEC3 chain broken)",
			               on, want);
			goto out;
		}
		t->denial++;
	}

	/* Names against the chain (RFC 5155 §7.1). */
	size_t i = 0, j = 0;
	while (i < nn || j < z->nn3) {
		if (atomic_load_explicit(&v->stop, memory_order_relaxed)) {
			rc = FE_EVALIDATE;
			goto out;
		}
		int c = i >= nn ? 1
		                : (j >= z->nn3 ? -1
		                               : memcmp(names[i].hash, z->n3[j].hash,
		                                        FE__NSEC3_HASH_LEN));
		if (c > 0) {
			const struct fe__zn3 *h = &z->n3[j];
			fe_wire_name_to_str(fe__own_name(h->own), on, sizeof(on));
			rc = fe__vfail(v, FE_EVALIDATE, z->n3recs[h->first],
			               "NSEC3 at %s: matches no name in the zone", on);
			goto out;
		}
		size_t ni = names[i].node;
		const struct fe__znode *n = &z->nodes[ni];
		if (c < 0) {
			/* No NSEC3 for this name: only an insecure delegation (or an ENT above
			 * only those) covered by an opt-out NSEC3 may lack one. */
			const struct fe__zn3 *cover = &z->n3[j > 0 ? j - 1 : z->nn3 - 1];
			const struct fe__zrec *cr = z->n3recs[cover->first];
			bool optout = (cr->rdata[1] & 1) != 0;
			fe__node_str(z, ni, on, sizeof(on));
			if (required[ni] || !optout) {
				rc = fe__vfail(v, FE_EVALIDATE, n->count ? z->recs[n->first] : NULL,
				               "NSEC3 for %s: missing (NSEC3 chain broken)%s", on,
				               !required[ni] ? "; the covering NSEC3 has no opt-out"
				                             : "");
				goto out;
			}
			i++;
			continue;
		}
		/* Matching NSEC3: its bitmap lists the types at the name. */
		const struct fe__zn3 *h = &z->n3[j];
		const struct fe__zrec *r = z->n3recs[h->first];
		size_t o = 5u + r->rdata[4] + 1u + FE__NSEC3_HASH_LEN;
		bool cut = (n->flags & FE_NODE_DELEG) != 0;
		int nt = n->count ? fe__node_types(t, z->recs + n->first, n->count,
		                                   cut ? FE__SIG_IF_DS : FE__SIG_ALWAYS)
		                  : 0;
		if (nt < 0) {
			rc = fe__vfail(v, nt, r, "out of memory");
			goto out;
		}
		size_t nreq = cut ? fe__cut_required(t->types, (size_t)nt, false, req) : 0;
		if (!fe__bitmap_match(r->rdata + o, r->rdlen - o, t->types, (size_t)nt, cut, req,
		                      nreq, why, sizeof(why))) {
			fe__node_str(z, ni, on, sizeof(on));
			rc = fe__vfail(v, FE_EVALIDATE, r, "NSEC3 for %s: type bitmap %s", on, why);
			goto out;
		}
		i++;
		j++;
	}

out:
	free(names);
	free(required);
	return rc;
}
