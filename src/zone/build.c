/* From a bag of records to nodes: sort into canonical order (RFC 4034 §6), drop duplicates,
 * attach RRSIGs to the RRset they cover, move the NSEC3 chain out, insert empty
 * non-terminals, mark zone cuts, occluded names and wildcard parents, and compute each
 * node's NSEC3 hash. One pass over the sorted records, with a stack of the current node's
 * ancestors (every ancestor of a name sorts before it, RFC 4034 §6.1). */
#include "zone_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 128 /* labels in a name, root included */

static bool same_owner(const struct fe__zowner *a, const struct fe__zowner *b)
{
	return a == b || (a->key_len == b->key_len &&
	                  memcmp(fe__own_key(a), fe__own_key(b), a->key_len) == 0);
}

/* Owner, then type (RRSIGs by the type they cover, after that RRset), then RDATA as an
 * unsigned octet string (RFC 4034 §6.3). */
static int rec_cmp(const void *pa, const void *pb)
{
	const struct fe__zrec *a = *(const struct fe__zrec *const *)pa;
	const struct fe__zrec *b = *(const struct fe__zrec *const *)pb;
	int c;
	if (a->own != b->own) {
		c = fe_wire_key_cmp(fe__own_key(a->own), a->own->key_len, fe__own_key(b->own),
		                    b->own->key_len);
		if (c != 0)
			return c;
	}
	if (a->covered != b->covered)
		return a->covered < b->covered ? -1 : 1;
	bool as = a->type == FE_T_RRSIG, bs = b->type == FE_T_RRSIG;
	if (as != bs)
		return as ? 1 : -1;
	return fe_wire_key_cmp(a->rdata, a->rdlen, b->rdata, b->rdlen);
}

static bool sorted_already(struct fe__zrec **r, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (rec_cmp(&r[i - 1], &r[i]) > 0)
			return false;
	return true;
}

struct bctx {
	struct fe_zone *z;
	struct fe_zone_error *err;
	size_t stack[MAX_DEPTH];
	int sp;
};

static struct fe__znode *new_node(struct fe_zone *z)
{
	if (z->nnodes == z->nodes_cap) {
		size_t cap = z->nodes_cap ? z->nodes_cap * 2 : 1024;
		struct fe__znode *n = realloc(z->nodes, cap * sizeof(*n));
		if (n == NULL)
			return NULL;
		z->nodes = n;
		z->nodes_cap = cap;
	}
	struct fe__znode *nd = &z->nodes[z->nnodes++];
	memset(nd, 0, sizeof(*nd));
	return nd;
}

static bool is_wild(const struct fe__znode *n)
{
	const uint8_t *name = fe__own_name(n->own) + n->name_off;
	return name[0] == 1 && name[1] == '*';
}

/* Link node @idx below the stack top: occlusion is inherited from a cut or an occluded
 * parent; a '*' child marks its parent (RFC 4592 §4.2: the wildcard's parent). */
static void link_child(struct bctx *b, size_t idx)
{
	struct fe_zone *z = b->z;
	if (b->sp > 0) {
		struct fe__znode *parent = &z->nodes[b->stack[b->sp - 1]];
		if (parent->flags & (FE_NODE_DELEG | FE_NODE_OCCLUDED))
			z->nodes[idx].flags |= FE_NODE_OCCLUDED;
		if (is_wild(&z->nodes[idx]))
			parent->flags |= FE_NODE_WILDCHILD;
	}
	b->stack[b->sp++] = idx;
}

/* Append the node for owner @own (records [first, first+count)), with the empty
 * non-terminals between it and its closest existing ancestor. */
static int place_node(struct bctx *b, const struct fe__zowner *own, uint32_t first, uint32_t count,
                      bool has_ns, bool has_nsec, bool naptr_lint)
{
	struct fe_zone *z = b->z;
	const uint8_t *k = fe__own_key(own);
	size_t kl = own->key_len;

	while (b->sp > 0) {
		const struct fe__znode *t = &z->nodes[b->stack[b->sp - 1]];
		if (t->key_len < kl && memcmp(fe__own_key(t->own), k, t->key_len) == 0)
			break;
		b->sp--;
	}
	if (b->sp == 0 && kl != z->apex_key_len)
		return FE_EFORMAT; /* the apex sorts first and always exists (it has the SOA) */

	if (b->sp > 0) {
		/* Label offsets of the owner name, leftmost first. */
		uint8_t starts[MAX_DEPTH];
		const uint8_t *name = fe__own_name(own);
		int nl = 0;
		for (size_t pos = 0; name[pos] != 0 && nl < MAX_DEPTH; pos += 1u + name[pos])
			starts[nl++] = (uint8_t)pos;
		size_t plen = z->nodes[b->stack[b->sp - 1]].key_len;
		int labels = 0;
		for (size_t p = 0; p < plen; p++)
			labels += k[p] == 0;
		/* Every label end strictly inside (plen, kl) is a missing ancestor. */
		for (size_t p = plen; p + 1 < kl; p++) {
			if (k[p] != 0)
				continue;
			labels++;
			if (b->sp >= MAX_DEPTH || labels > nl)
				return FE_EFORMAT;
			struct fe__znode *ent = new_node(z);
			if (ent == NULL)
				return FE_ENOMEM;
			ent->own = own;
			ent->first = first;
			ent->count = 0;
			ent->key_len = (uint16_t)(p + 1);
			ent->name_off = starts[nl - labels];
			link_child(b, z->nnodes - 1);
		}
	}
	if (b->sp >= MAX_DEPTH)
		return FE_EFORMAT;
	struct fe__znode *nd = new_node(z);
	if (nd == NULL)
		return FE_ENOMEM;
	nd->own = own;
	nd->first = first;
	nd->count = count;
	nd->key_len = (uint16_t)kl;
	nd->name_off = 0;
	size_t idx = z->nnodes - 1;
	link_child(b, idx);
	nd = &z->nodes[idx];
	if (kl == z->apex_key_len) {
		nd->flags |= FE_NODE_APEX;
	} else if (has_ns && !(nd->flags & FE_NODE_OCCLUDED)) {
		/* RFC 1034 §4.2.1: NS below the apex is a cut; what lies under it is not ours. */
		nd->flags |= FE_NODE_DELEG;
	}
	if (has_nsec && !(nd->flags & FE_NODE_OCCLUDED))
		nd->flags |= FE_NODE_HAS_NSEC;
	if (naptr_lint)
		nd->flags |= FE_NODE_NAPTR_LINT;
	return FE_OK;
}

/* docs/security.md Z7: a NAPTR that fails the lint stays in the zone (its RRset is signed
 * as a whole, and transfers carry the zone as it is) but its node is marked, so the answer
 * engine leaves it out; counted, and the first ones named in the zone's report. */
static bool lint_naptr(struct fe_zone *z, const struct fe__zrec *r)
{
	const char *why = fe_wire_naptr_lint(fe__own_name(r->own), r->rdata, r->rdlen);
	if (!why)
		return false;
	z->naptr_lint++;
	size_t n = strlen(z->naptr_report);
	if (n + 8 < sizeof(z->naptr_report)) {
		char owner[FE_WIRE_NAME_MAX * 4];
		fe_wire_name_to_str(fe__own_name(r->own), owner, sizeof(owner));
		int k = snprintf(z->naptr_report + n, sizeof(z->naptr_report) - n, "%s%.200s",
		                 n ? "; " : "", owner);
		n += k > 0 ? (size_t)k : 0;
		if (n + 1 < sizeof(z->naptr_report))
			snprintf(z->naptr_report + n, sizeof(z->naptr_report) - n,
			         " line %u: %.120s", (unsigned)r->line, why);
	}
	return true;
}

static int push_n3(struct fe_zone *z, const struct fe__zowner *own, size_t first, size_t count,
                   const uint8_t *hash)
{
	if (z->nn3 == z->n3_cap) {
		size_t cap = z->n3_cap ? z->n3_cap * 2 : 1024;
		struct fe__zn3 *n = realloc(z->n3, cap * sizeof(*n));
		if (n == NULL)
			return FE_ENOMEM;
		z->n3 = n;
		z->n3_cap = cap;
	}
	struct fe__zn3 *e = &z->n3[z->nn3++];
	e->own = own;
	e->first = (uint32_t)first;
	e->count = (uint32_t)count;
	memcpy(e->hash, hash, FE__NSEC3_HASH_LEN);
	return FE_OK;
}

/* RFC 5155 §4: NSEC3PARAM = alg(1) flags(1) iterations(2) salt_len(1) salt. */
static void choose_params(struct fe_zone *z, const struct fe__zrec *r)
{
	const uint8_t *d = r->rdata;
	if (r->rdlen < 5 || (size_t)5 + d[4] != r->rdlen)
		return;
	/* §4.1.2: servers use only NSEC3PARAM with flags 0; §11: algorithm 1 (SHA-1). */
	if (d[0] != 1 || d[1] != 0)
		return;
	z->n3_params = true;
	z->n3_alg = d[0];
	z->n3_flags = d[1];
	z->n3_iter = fe_get_be16(d + 2);
	z->n3_salt_len = d[4];
	memcpy(z->n3_salt, d + 5, d[4]);
}

/* Does this NSEC3 belong to the chain NSEC3PARAM names (RFC 5155 §7.3)? */
static bool n3_matches(const struct fe_zone *z, const struct fe__zrec *r)
{
	const uint8_t *d = r->rdata;
	if (r->rdlen < 5 || (size_t)5 + d[4] > r->rdlen)
		return false;
	return d[0] == z->n3_alg && fe_get_be16(d + 2) == z->n3_iter && d[4] == z->n3_salt_len &&
	       memcmp(d + 5, z->n3_salt, d[4]) == 0;
}

static const char *fname(const struct fe_zone *z, const struct fe__zrec *r)
{
	return r->file < z->nfiles ? z->files[r->file] : "";
}

int fe__zone_build(struct fe_zone *z, const struct fe_zone_opts *opts, struct fe_zone_error *err)
{
	/* The node blob counts RRs and RRSIGs of an RRset in 16 bits. */
	uint32_t max_rrset = opts->max_rrset_rrs ? FE_MIN(opts->max_rrset_rrs, 65535u) : 65535u;
	struct bctx b = {.z = z, .err = err};
	size_t w = 0;
	bool apex_nsec = false, apex_dnskey = false;
	int rc;

	/* Signers write canonical order already; skip the sort then. */
	if (!sorted_already(z->recs, z->nrecs))
		qsort(z->recs, z->nrecs, sizeof(*z->recs), rec_cmp);

	for (size_t i = 0; i < z->nrecs;) {
		const struct fe__zowner *own = z->recs[i]->own;
		size_t j = i + 1;
		while (j < z->nrecs && same_owner(z->recs[j]->own, own))
			j++;

		bool apex = own->key_len == z->apex_key_len;
		uint8_t hash[FE__NSEC3_HASH_LEN];
		const uint8_t *oname = fe__own_name(own);
		/* RFC 5155 §3: NSEC3 owners are one base32hex label above the apex. */
		bool hash_owner = z->n3_params && own->labels == z->apex_labels + 1 &&
		                  fe__b32hex_decode20(oname + 1, oname[0], hash);
		size_t first = w, n3first = z->n3recs_len;
		bool n3_rr = false, in_set = false, has_ns = false, has_nsec = false;
		bool naptr_lint = false;
		uint16_t set_type = 0;
		uint32_t set_rrs = 0, set_sigs = 0, set_ttl = 0;
		const struct fe__zrec *prev = NULL;

		for (size_t k = i; k < j; k++) {
			struct fe__zrec *r = z->recs[k];
			bool sig = r->type == FE_T_RRSIG;
			bool dup = prev && prev->type == r->type && prev->covered == r->covered &&
			           prev->rdlen == r->rdlen &&
			           memcmp(prev->rdata, r->rdata, r->rdlen) == 0;
			prev = r;
			if (dup) {
				z->dup_rrs++; /* RFC 2181 §5: an RRset has no duplicates */
				continue;
			}
			if (hash_owner && r->covered == FE_T_NSEC3) {
				if (!sig && !n3_matches(z, r)) {
					z->stale_nsec3++;
					continue;
				}
				if (sig && !n3_rr) {
					z->orphan_sigs++;
					continue;
				}
				n3_rr |= !sig;
				if ((rc = fe__recs_push(&z->n3recs, &z->n3recs_len, &z->n3recs_cap,
				                        1024, r)) != FE_OK)
					return rc;
				continue;
			}
			if (!sig) {
				if (!in_set || r->type != set_type) {
					in_set = true;
					set_type = r->type;
					set_rrs = set_sigs = 0;
					set_ttl = r->ttl;
				} else if (r->ttl != set_ttl) {
					/* RFC 2181 §5.2: one TTL per RRset; the first one wins. */
					z->ttl_mismatch++;
				}
				if (++set_rrs > max_rrset) {
					fe__zone_err(err, fname(z, r), r->line,
					             "RRset of type %u has more than %u records",
					             r->type, max_rrset);
					return FE_ERANGE;
				}
				has_ns |= r->type == FE_T_NS;
				has_nsec |= r->type == FE_T_NSEC;
				if (r->type == FE_T_NAPTR && lint_naptr(z, r))
					naptr_lint = true;
				if (apex && r->type == FE_T_NSEC3PARAM && !z->n3_params)
					choose_params(z, r);
				if (apex && r->type == FE_T_NSEC)
					apex_nsec = true;
				if (apex && r->type == FE_T_DNSKEY)
					apex_dnskey = true;
				if (apex && r->type == FE_T_SOA && set_rrs > 1) {
					fe__zone_err(err, fname(z, r), r->line,
					             "second SOA record");
					return FE_EFORMAT;
				}
			} else {
				/* RFC 4035 §2.2: an RRSIG signs an RRset at its own owner. */
				if (!in_set || set_type != r->covered) {
					z->orphan_sigs++;
					continue;
				}
				if (++set_sigs > max_rrset) {
					fe__zone_err(err, fname(z, r), r->line,
					             "more than %u RRSIGs over one RRset",
					             max_rrset);
					return FE_ERANGE;
				}
			}
			z->recs[w++] = r;
		}
		if (z->n3recs_len > n3first &&
		    (rc = push_n3(z, own, n3first, z->n3recs_len - n3first, hash)) != FE_OK)
			return rc;
		if (w > first) {
			rc = place_node(&b, own, (uint32_t)first, (uint32_t)(w - first), has_ns,
			                has_nsec, naptr_lint);
			if (rc != FE_OK) {
				fe__zone_err(err, fname(z, z->recs[first]), z->recs[first]->line,
				             "cannot place this owner in the zone tree");
				return rc;
			}
		}
		i = j;
	}
	z->nrecs = w;

	if (z->nsec3_read > 0 && !z->n3_params) {
		fe__zone_err(err, z->nfiles ? z->files[0] : "", 0,
		             "NSEC3 records without a usable NSEC3PARAM (algorithm 1, flags 0) at "
		             "the apex");
		return FE_EFORMAT;
	}
	if (apex_dnskey && z->has_rrsig)
		z->flags |= FE_ZONE_SIGNED;
	if (apex_nsec)
		z->flags |= FE_ZONE_NSEC;
	if (z->n3_params && z->nn3 > 0)
		z->flags |= FE_ZONE_NSEC3;
	if (!z->has_rrsig)
		z->sig_expire_s = 0;

	/* RFC 5155 §7.1: every authoritative name (empty non-terminals and cuts included) has
	 * an NSEC3; names below a cut do not, so they get no hash. */
	if (z->flags & FE_ZONE_NSEC3) {
		z->hashes = malloc(FE_MAX(z->nnodes, (size_t)1) * sizeof(*z->hashes));
		if (z->hashes == NULL)
			return FE_ENOMEM;
		for (size_t i = 0; i < z->nnodes; i++) {
			const struct fe__znode *n = &z->nodes[i];
			if (n->flags & FE_NODE_OCCLUDED)
				continue;
			rc = fe_wire_nsec3_hash(fe__own_name(n->own) + n->name_off, z->n3_alg,
			                        z->n3_iter, z->n3_salt, z->n3_salt_len,
			                        z->hashes[i]);
			if (rc < 0) {
				fe__zone_err(err, z->nfiles ? z->files[0] : "", 0,
				             "NSEC3 hashing failed (iterations %u): %s", z->n3_iter,
				             fe_strerror(rc));
				return rc;
			}
		}
	}
	return FE_OK;
}
