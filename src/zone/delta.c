/* Change sets: an IXFR-sized change applied to the stored version of a zone, node by node,
 * in one store transaction (fe_zone_commit_delta, include/fedenum/zone.h). Only the nodes
 * the change touches are read and rebuilt, plus the ancestors that appear or disappear as
 * empty non-terminals and the parents whose wildcard flag changes. The store derives the
 * journal entry from the blobs written, as for a whole load. */
#include "zone_int.h"

#include <stdlib.h>
#include <string.h>

/* One change of the set, with its target: an owner key in `rr`, or a hash in `nsec3`. */
struct op {
	const struct fe_zone_rr *rr;
	size_t idx; /* position in the set: removals first, then additions, each as given */
	bool add;
	bool n3;
	uint16_t covered; /* RRSIG: the type covered; else the type */
	uint16_t key_len;
	uint8_t key[FE_WIRE_KEY_MAX];
};

/* One record of the node being rebuilt; RDATA copied into the context's arena. */
struct drec {
	uint16_t covered;
	bool sig;
	bool ttl_new; /* added by the change: its TTL is the RRset's */
	uint32_t ttl;
	size_t off;
	uint16_t len;
	const uint8_t *rd; /* set once the arena stops moving */
};

struct dctx {
	struct fe_store_writer *w;
	struct fe_store_zone_rec rec;
	struct fe_zone_error *err;
	char apex_str[1100];
	uint8_t apex_key[FE_WIRE_KEY_MAX];
	size_t apex_key_len;
	bool nsec3;
	int64_t created, deleted; /* `rr` nodes, for the record's node count */
	int64_t lint_delta;       /* NAPTRs failing the lint, added minus removed */
	struct drec *recs;
	size_t nrecs, recs_cap;
	uint8_t *arena;
	size_t alen, acap;
	uint8_t *blob;
	size_t blen, bcap;
	uint8_t owner[FE_WIRE_NAME_MAX];
	size_t owner_len;
	uint8_t hash[FE__NSEC3_HASH_LEN];
	bool has_hash;
};

static void name_str(const uint8_t *name, char *buf, size_t cap)
{
	fe_wire_name_to_str(name, buf, cap);
}

static int op_cmp(const void *pa, const void *pb)
{
	const struct op *a = pa, *b = pb;
	if (a->n3 != b->n3)
		return a->n3 ? 1 : -1;
	int c = memcmp(a->key, b->key, FE_MIN(a->key_len, b->key_len));
	if (c != 0)
		return c;
	if (a->key_len != b->key_len)
		return a->key_len < b->key_len ? -1 : 1;
	return a->idx < b->idx ? -1 : (a->idx > b->idx ? 1 : 0);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (*cap >= need)
		return FE_OK;
	size_t n = *cap ? *cap : 64;
	while (n < need)
		n *= 2;
	void *np = realloc(*p, n * elem);
	if (np == NULL)
		return FE_ENOMEM;
	*p = np;
	*cap = n;
	return FE_OK;
}

static int push_rec(struct dctx *c, uint16_t covered, bool sig, uint32_t ttl, bool ttl_new,
                    const uint8_t *rd, uint16_t len)
{
	int rc;
	if ((rc = grow((void **)&c->recs, &c->recs_cap, c->nrecs + 1, sizeof(*c->recs))) != FE_OK ||
	    (rc = grow((void **)&c->arena, &c->acap, c->alen + len + 1u, 1)) != FE_OK)
		return rc;
	struct drec *r = &c->recs[c->nrecs++];
	memset(r, 0, sizeof(*r));
	r->covered = covered;
	r->sig = sig;
	r->ttl = ttl;
	r->ttl_new = ttl_new;
	r->off = c->alen;
	r->len = len;
	memcpy(c->arena + c->alen, rd, len);
	c->alen += len;
	return FE_OK;
}

/* The stored node's records into c->recs (its owner, hash and flags kept too). */
static int load_node(struct dctx *c, const struct fe_store_node *n)
{
	struct fe_store_rrset rs;
	size_t it = 0;
	int rc;
	c->owner_len = n->owner_len;
	memcpy(c->owner, n->owner, n->owner_len);
	c->has_hash = n->hash_len == FE__NSEC3_HASH_LEN;
	if (c->has_hash)
		memcpy(c->hash, n->hash, FE__NSEC3_HASH_LEN);
	while (fe_store_node_next(n, &it, &rs)) {
		size_t ri = 0;
		const uint8_t *rd;
		uint16_t len;
		bool sig;
		while (fe_store_rrset_next(&rs, &ri, &rd, &len, &sig))
			if ((rc = push_rec(c, rs.type, sig, rs.ttl, false, rd, len)) != FE_OK)
				return rc;
	}
	return FE_OK;
}

static int apply_op(struct dctx *c, const struct op *o)
{
	const struct fe_zone_rr *rr = o->rr;
	bool sig = rr->type == FE_T_RRSIG;
	for (size_t i = 0; i < c->nrecs; i++) {
		struct drec *r = &c->recs[i];
		if (r->covered != o->covered || r->sig != sig || r->len != rr->rdlen ||
		    memcmp(c->arena + r->off, rr->rdata, rr->rdlen) != 0)
			continue;
		if (o->add)
			return FE_EEXIST;
		c->recs[i] = c->recs[--c->nrecs];
		return FE_OK;
	}
	if (!o->add)
		return FE_ENOENT;
	return push_rec(c, o->covered, sig, rr->ttl, true, rr->rdata, rr->rdlen);
}

/* Owner, then type (RRSIGs by the type they cover, after that RRset), then RDATA: the order
 * zone/build.c writes (RFC 4034 §6.3). */
static int drec_cmp(const void *pa, const void *pb)
{
	const struct drec *a = pa, *b = pb;
	if (a->covered != b->covered)
		return a->covered < b->covered ? -1 : 1;
	if (a->sig != b->sig)
		return a->sig ? 1 : -1;
	int d = memcmp(a->rd, b->rd, FE_MIN(a->len, b->len));
	if (d != 0)
		return d;
	return a->len < b->len ? -1 : (a->len > b->len ? 1 : 0);
}

static int blob_reserve(struct dctx *c, size_t n)
{
	return grow((void **)&c->blob, &c->bcap, c->blen + n, 1);
}

/* Node blob (include/fedenum/store.h) of c->recs, sorted here. */
static int build(struct dctx *c, uint16_t flags, bool with_hash)
{
	int rc;
	for (size_t i = 0; i < c->nrecs; i++)
		c->recs[i].rd = c->arena + c->recs[i].off;
	qsort(c->recs, c->nrecs, sizeof(*c->recs), drec_cmp);
	c->blen = 0;
	size_t hl = with_hash ? FE__NSEC3_HASH_LEN : 0;
	if ((rc = blob_reserve(c, 2 + 1 + c->owner_len + 1 + hl + 2)) != FE_OK)
		return rc;
	fe_put_u16(c->blob, flags);
	c->blob[2] = (uint8_t)c->owner_len;
	memcpy(c->blob + 3, c->owner, c->owner_len);
	c->blen = 3 + c->owner_len;
	c->blob[c->blen++] = (uint8_t)hl;
	if (hl)
		memcpy(c->blob + c->blen, c->hash, hl);
	c->blen += hl;
	size_t count_at = c->blen;
	c->blen += 2;
	uint16_t sets = 0;
	for (size_t i = 0; i < c->nrecs;) {
		uint16_t type = c->recs[i].covered;
		size_t hdr = c->blen, first = i;
		uint32_t rrs = 0, sigs = 0, ttl = 0;
		bool have_ttl = false, have_new = false;
		if ((rc = blob_reserve(c, 14)) != FE_OK)
			return rc;
		c->blen += 14;
		size_t body = c->blen;
		for (; i < c->nrecs && c->recs[i].covered == type; i++) {
			const struct drec *r = &c->recs[i];
			if ((rc = blob_reserve(c, 2u + r->len)) != FE_OK)
				return rc;
			fe_put_u16(c->blob + c->blen, r->len);
			memcpy(c->blob + c->blen + 2, r->rd, r->len);
			c->blen += 2u + r->len;
			if (r->sig) {
				sigs++;
				continue;
			}
			rrs++;
			/* RFC 2181 §5.2: one TTL per RRset; an added RR's TTL is the new one. */
			if (!have_ttl || (r->ttl_new && !have_new)) {
				ttl = r->ttl;
				have_ttl = true;
				have_new = r->ttl_new;
			}
		}
		if (rrs == 0)
			return FE_EINVAL; /* RRSIGs over an RRset that is not there */
		if (rrs > 65535u || sigs > 65535u || c->blen - body > UINT32_MAX)
			return FE_ERANGE;
		/* RFC 4035 §5.3.3: capped at the RRSIGs' original TTL, as fe_zone_commit does. */
		for (size_t k = first; k < i; k++)
			if (c->recs[k].sig && c->recs[k].len >= 8)
				ttl = FE_MIN(ttl, fe_get_be32(c->recs[k].rd + 4));
		fe_put_u16(c->blob + hdr, type);
		fe_put_u32(c->blob + hdr + 2, ttl);
		fe_put_u16(c->blob + hdr + 6, (uint16_t)rrs);
		fe_put_u16(c->blob + hdr + 8, (uint16_t)sigs);
		fe_put_u32(c->blob + hdr + 10, (uint32_t)(c->blen - body));
		sets++;
	}
	fe_put_u16(c->blob + count_at, sets);
	return FE_OK;
}

static bool has_type(const struct dctx *c, uint16_t type)
{
	for (size_t i = 0; i < c->nrecs; i++)
		if (c->recs[i].covered == type && !c->recs[i].sig)
			return true;
	return false;
}

/* NAPTRs of the node in @c that fail fe_wire_naptr_lint. */
static int64_t naptr_lint(const struct dctx *c)
{
	int64_t n = 0;
	for (size_t i = 0; i < c->nrecs; i++)
		n += c->recs[i].covered == FE_T_NAPTR && !c->recs[i].sig &&
		     fe_wire_naptr_lint(c->owner, c->arena + c->recs[i].off, c->recs[i].len) !=
		             NULL;
	return n;
}

/* Key of the parent name: the key up to the label end before the last one. */
static size_t parent_key_len(const uint8_t *key, size_t klen)
{
	for (size_t i = klen - 1; i > 0; i--)
		if (key[i - 1] == 0)
			return i;
	return 0;
}

static bool is_wild(const uint8_t *name)
{
	return name[0] == 1 && name[1] == '*';
}

static int hash_of(struct dctx *c, const uint8_t *name, uint8_t *out)
{
	int rc = fe_wire_nsec3_hash(name, c->rec.nsec3_alg, c->rec.nsec3_iterations,
	                            c->rec.nsec3_salt, c->rec.nsec3_salt_len, out);
	return rc < 0 ? rc : FE_OK;
}

/* Set or clear flag bits of the stored node @key (its blob otherwise unchanged). */
static int patch_flags(struct dctx *c, const uint8_t *key, size_t klen, uint16_t set,
                       uint16_t clear)
{
	struct fe_store_node n;
	int rc = fe_store_writer_get_node(c->w, key, klen, &n);
	if (rc != FE_OK)
		return rc;
	uint16_t f = (uint16_t)((n.flags & ~clear) | set);
	if (f == n.flags)
		return FE_OK;
	const uint8_t *start = n.owner - 3; /* flags(2) owner_len(1) */
	size_t len = (size_t)(n.end - start);
	c->blen = 0;
	if ((rc = blob_reserve(c, len)) != FE_OK)
		return rc;
	memcpy(c->blob, start, len);
	fe_put_u16(c->blob, f);
	return fe_store_writer_set_node(c->w, key, klen, c->blob, len);
}

/* Empty non-terminal @name (key @key) with @flags. Touches only c->blob: the node being
 * rebuilt keeps its records, owner and hash. */
static int put_ent(struct dctx *c, const uint8_t *key, size_t klen, const uint8_t *name,
                   uint16_t flags)
{
	uint8_t hash[FE__NSEC3_HASH_LEN];
	int rc;
	size_t nl = (size_t)fe_wire_name_len(name, FE_WIRE_NAME_MAX);
	bool hashed = c->nsec3 && !(flags & FE_NODE_OCCLUDED);
	if (hashed && (rc = hash_of(c, name, hash)) != FE_OK)
		return rc;
	size_t hl = hashed ? FE__NSEC3_HASH_LEN : 0;
	c->blen = 0;
	if ((rc = blob_reserve(c, 2 + 1 + nl + 1 + hl + 2)) != FE_OK)
		return rc;
	fe_put_u16(c->blob, flags);
	c->blob[2] = (uint8_t)nl;
	memcpy(c->blob + 3, name, nl);
	c->blob[3 + nl] = (uint8_t)hl;
	if (hl)
		memcpy(c->blob + 4 + nl, hash, hl);
	fe_put_u16(c->blob + 4 + nl + hl, 0);
	c->blen = 6 + nl + hl;
	return fe_store_writer_set_node(c->w, key, klen, c->blob, c->blen);
}

/* Before node @key (@name) is created: create its missing ancestors as empty
 * non-terminals, top down, and return the flags it inherits (occlusion). */
static int ensure_ancestors(struct dctx *c, const uint8_t *key, size_t klen, const uint8_t *name,
                            uint16_t *inherit)
{
	size_t lens[128];
	const uint8_t *names[128];
	int missing = 0, rc;
	uint16_t pflags = 0;
	size_t pl = parent_key_len(key, klen);
	const uint8_t *pn = name + 1 + name[0];
	while (pl >= c->apex_key_len) {
		struct fe_store_node n;
		rc = fe_store_writer_get_node(c->w, key, pl, &n);
		if (rc == FE_OK) {
			pflags = n.flags;
			break;
		}
		if (rc != FE_ENOENT || missing == 128)
			return rc == FE_ENOENT ? FE_ERANGE : rc;
		lens[missing] = pl;
		names[missing++] = pn;
		pl = parent_key_len(key, pl);
		pn += 1 + pn[0];
	}
	while (missing-- > 0) {
		uint16_t f = (pflags & (FE_NODE_DELEG | FE_NODE_OCCLUDED)) ? FE_NODE_OCCLUDED : 0;
		if ((rc = put_ent(c, key, lens[missing], names[missing], f)) != FE_OK)
			return rc;
		c->created++;
		if (is_wild(names[missing]) &&
		    (rc = patch_flags(c, key, parent_key_len(key, lens[missing]), FE_NODE_WILDCHILD,
		                      0)) != FE_OK)
			return rc;
		pflags = f;
	}
	*inherit = (pflags & (FE_NODE_DELEG | FE_NODE_OCCLUDED)) ? FE_NODE_OCCLUDED : 0;
	return FE_OK;
}

/* Node @key was deleted: clear its parent's wildcard flag if it was "*", and delete the
 * empty non-terminals above it that no longer have anything below. */
static int prune(struct dctx *c, uint8_t *key, size_t klen, bool wild)
{
	int rc;
	for (;;) {
		size_t pl = parent_key_len(key, klen);
		if (wild && (rc = patch_flags(c, key, pl, 0, FE_NODE_WILDCHILD)) != FE_OK)
			return rc;
		if (pl <= c->apex_key_len)
			return FE_OK;
		struct fe_store_node n;
		bool below;
		if ((rc = fe_store_writer_get_node(c->w, key, pl, &n)) != FE_OK)
			return rc;
		if (n.rrset_count != 0)
			return FE_OK;
		wild = is_wild(n.owner);
		if ((rc = fe_store_writer_has_below(c->w, key, pl, &below)) != FE_OK)
			return rc;
		if (below)
			return FE_OK;
		if ((rc = fe_store_writer_del_node(c->w, key, pl)) != FE_OK)
			return rc;
		c->deleted++;
		klen = pl;
	}
}

static int op_err(struct dctx *c, const struct op *o, int rc, const char *what)
{
	char s[1100];
	name_str(o->rr->owner, s, sizeof(s));
	fe__zone_err(c->err, c->apex_str, 0, "zone %s: change set: %s %s type %u: %s", c->apex_str,
	             o->add ? "adding" : "removing", s, o->rr->type, what);
	return rc;
}

static const char *op_why(int rc)
{
	switch (rc) {
	case FE_ENOENT:
		return "not in the stored version";
	case FE_EEXIST:
		return "already in the stored version";
	case FE_EINVAL:
		return "RRSIG without the RRset it covers";
	case FE_ENOTSUP:
		return "moves a zone cut above existing names (load the whole zone)";
	default:
		return fe_strerror(rc);
	}
}

/* Apply the changes ops[0, n) of one `rr` node. */
static int do_node(struct dctx *c, struct op *ops, size_t n)
{
	struct fe_store_node node;
	uint8_t *key = ops[0].key;
	size_t klen = ops[0].key_len;
	bool apex = klen == c->apex_key_len;
	uint16_t old_flags = 0;
	int rc;

	c->nrecs = 0;
	c->alen = 0;
	c->has_hash = false;
	rc = fe_store_writer_get_node(c->w, key, klen, &node);
	bool exists = rc == FE_OK;
	if (rc != FE_OK && rc != FE_ENOENT)
		return op_err(c, &ops[0], rc, fe_strerror(rc));
	if (exists) {
		old_flags = node.flags;
		if ((rc = load_node(c, &node)) != FE_OK)
			return op_err(c, &ops[0], rc, fe_strerror(rc));
	} else {
		c->owner_len = ops[0].rr->owner_len;
		memcpy(c->owner, ops[0].rr->owner, c->owner_len);
	}
	if (old_flags & FE_NODE_NAPTR_LINT)
		c->lint_delta -= naptr_lint(c);
	for (size_t i = 0; i < n; i++)
		if ((rc = apply_op(c, &ops[i])) != FE_OK)
			return op_err(c, &ops[i], rc, op_why(rc));
	int64_t lint = naptr_lint(c);
	c->lint_delta += lint;

	bool below = false;
	if (c->nrecs == 0) {
		if (!exists)
			return FE_OK;
		if ((rc = fe_store_writer_has_below(c->w, key, klen, &below)) != FE_OK)
			return op_err(c, &ops[0], rc, fe_strerror(rc));
		if (below) {
			/* Still the parent of something: an empty non-terminal (RFC 4592 §2.2.2).
			 */
			uint16_t f = old_flags & (FE_NODE_OCCLUDED | FE_NODE_WILDCHILD);
			if ((old_flags & FE_NODE_DELEG) && !(old_flags & FE_NODE_OCCLUDED))
				return op_err(c, &ops[0], FE_ENOTSUP, op_why(FE_ENOTSUP));
			if ((rc = build(c, f, c->has_hash)) == FE_OK)
				rc = fe_store_writer_set_node(c->w, key, klen, c->blob, c->blen);
			return rc == FE_OK ? FE_OK : op_err(c, &ops[0], rc, op_why(rc));
		}
		bool wild = is_wild(c->owner);
		if ((rc = fe_store_writer_del_node(c->w, key, klen)) != FE_OK)
			return op_err(c, &ops[0], rc, fe_strerror(rc));
		c->deleted++;
		rc = prune(c, key, klen, wild);
		return rc == FE_OK ? FE_OK : op_err(c, &ops[0], rc, fe_strerror(rc));
	}

	uint16_t flags;
	if (exists) {
		flags = old_flags & (FE_NODE_OCCLUDED | FE_NODE_WILDCHILD);
	} else {
		if ((rc = ensure_ancestors(c, key, klen, c->owner, &flags)) != FE_OK)
			return op_err(c, &ops[0], rc, fe_strerror(rc));
		c->created++;
		if (is_wild(c->owner) && (rc = patch_flags(c, key, parent_key_len(key, klen),
		                                           FE_NODE_WILDCHILD, 0)) != FE_OK)
			return op_err(c, &ops[0], rc, fe_strerror(rc));
	}
	bool occluded = flags & FE_NODE_OCCLUDED;
	if (apex)
		flags |= FE_NODE_APEX;
	else if (has_type(c, FE_T_NS) && !occluded)
		flags |= FE_NODE_DELEG; /* RFC 1034 §4.2.1 */
	if (exists && (flags & FE_NODE_DELEG) != (old_flags & FE_NODE_DELEG)) {
		/* A cut that appears or goes changes the occlusion of everything below it. */
		if ((rc = fe_store_writer_has_below(c->w, key, klen, &below)) != FE_OK)
			return op_err(c, &ops[0], rc, fe_strerror(rc));
		if (below)
			return op_err(c, &ops[0], FE_ENOTSUP, op_why(FE_ENOTSUP));
	}
	if (has_type(c, FE_T_NSEC) && !occluded)
		flags |= FE_NODE_HAS_NSEC;
	if (lint)
		flags |= FE_NODE_NAPTR_LINT; /* as build.c marks it (docs/security.md Z7) */
	bool hashed = c->nsec3 && !occluded;
	if (hashed && !c->has_hash && (rc = hash_of(c, c->owner, c->hash)) != FE_OK)
		return op_err(c, &ops[0], rc, fe_strerror(rc));
	if ((rc = build(c, flags, hashed)) == FE_OK)
		rc = fe_store_writer_set_node(c->w, key, klen, c->blob, c->blen);
	return rc == FE_OK ? FE_OK : op_err(c, &ops[0], rc, op_why(rc));
}

/* Apply the changes ops[0, n) of one NSEC3 node (key: its hash). */
static int do_n3(struct dctx *c, struct op *ops, size_t n)
{
	struct fe_store_node node;
	int rc;
	c->nrecs = 0;
	c->alen = 0;
	rc = fe_store_writer_get_nsec3(c->w, ops[0].key, ops[0].key_len, &node);
	bool exists = rc == FE_OK;
	if (rc != FE_OK && rc != FE_ENOENT)
		return op_err(c, &ops[0], rc, fe_strerror(rc));
	if (exists && (rc = load_node(c, &node)) != FE_OK)
		return op_err(c, &ops[0], rc, fe_strerror(rc));
	if (!exists) {
		c->owner_len = ops[0].rr->owner_len;
		memcpy(c->owner, ops[0].rr->owner, c->owner_len);
	}
	memcpy(c->hash, ops[0].key, FE__NSEC3_HASH_LEN);
	for (size_t i = 0; i < n; i++)
		if ((rc = apply_op(c, &ops[i])) != FE_OK)
			return op_err(c, &ops[i], rc, op_why(rc));
	if (c->nrecs == 0) {
		rc = exists ? fe_store_writer_del_nsec3(c->w, ops[0].key, ops[0].key_len) : FE_OK;
		return rc == FE_OK ? FE_OK : op_err(c, &ops[0], rc, fe_strerror(rc));
	}
	if ((rc = build(c, 0, true)) == FE_OK)
		rc = fe_store_writer_set_nsec3(c->w, ops[0].key, ops[0].key_len, c->blob, c->blen);
	return rc == FE_OK ? FE_OK : op_err(c, &ops[0], rc, op_why(rc));
}

static int name_labels(const uint8_t *name)
{
	int n = 0;
	while (*name) {
		n++;
		name += 1 + *name;
	}
	return n;
}

/* Does NSEC3 RDATA @rd use the zone's chain parameters (RFC 5155 §7.3)? */
static bool n3_matches(const struct fe_store_zone_rec *z, const uint8_t *rd, size_t len)
{
	return len >= 5 && (size_t)5 + rd[4] <= len && rd[0] == z->nsec3_alg &&
	       fe_get_be16(rd + 2) == z->nsec3_iterations && rd[4] == z->nsec3_salt_len &&
	       memcmp(rd + 5, z->nsec3_salt, rd[4]) == 0;
}

/* Key, target and checks of one change. */
static int prepare(struct dctx *c, struct op *o, int apex_labels)
{
	const struct fe_zone_rr *rr = o->rr;
	if (rr->owner_len == 0 || fe_wire_name_len(rr->owner, rr->owner_len) != (int)rr->owner_len)
		return op_err(c, o, FE_EINVAL, "malformed owner name");
	int kl = fe_wire_name_key(rr->owner, rr->owner_len, o->key, sizeof(o->key));
	if (kl < 0 || (size_t)kl < c->apex_key_len ||
	    memcmp(o->key, c->apex_key, c->apex_key_len) != 0)
		return op_err(c, o, FE_EINVAL, "not in the zone");
	o->key_len = (uint16_t)kl;
	o->covered = rr->type;
	if (rr->type == FE_T_RRSIG) {
		if (rr->rdlen < 18)
			return op_err(c, o, FE_EINVAL, "malformed RRSIG");
		o->covered = fe_get_be16(rr->rdata);
	}
	bool apex = (size_t)kl == c->apex_key_len;
	/* (an RRSIG over the NSEC3PARAM may change: the parameters stay) */
	if (apex && (rr->type == FE_T_NSEC3PARAM || o->covered == FE_T_NSEC))
		return op_err(c, o, FE_ENOTSUP,
		              "changes the zone's denial of existence (load the whole zone)");
	if (rr->type == FE_T_SOA && !apex)
		return op_err(c, o, FE_EINVAL, "SOA below the apex");
	/* RFC 5155 §3: the chain's records sit at one base32hex label above the apex. */
	uint8_t h[FE__NSEC3_HASH_LEN];
	if (c->nsec3 && o->covered == FE_T_NSEC3 && name_labels(rr->owner) == apex_labels + 1 &&
	    fe__b32hex_decode20(rr->owner + 1, rr->owner[0], h)) {
		if (rr->type == FE_T_NSEC3 && !n3_matches(&c->rec, rr->rdata, rr->rdlen))
			return op_err(c, o, FE_ENOTSUP, "NSEC3 of another chain");
		o->n3 = true;
		memcpy(o->key, h, sizeof(h));
		o->key_len = FE__NSEC3_HASH_LEN;
	}
	return FE_OK;
}

/* SOA RDATA: MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM; the last 20 octets. */
static bool soa_fields(const struct fe_zone_rr *rr, uint32_t *serial, uint32_t *minimum)
{
	if (rr->rdlen < 22)
		return false;
	*serial = fe_get_be32(rr->rdata + rr->rdlen - 20);
	*minimum = fe_get_be32(rr->rdata + rr->rdlen - 4);
	return true;
}

static int64_t rrsig_time(uint32_t v, int64_t now)
{
	return now + (int32_t)(v - (uint32_t)now);
}

int fe_zone_commit_delta(struct fe_store *st, const uint8_t *apex, size_t apex_len,
                         const struct fe_zone_delta *d, struct fe_store_write_stats *stats,
                         struct fe_zone_error *err)
{
	return fe_zone_commit_delta_checked(st, apex, apex_len, d, NULL, stats, err);
}

/* The changes as the checker sees them, in the order applied (sorted by target). */
static struct fe_zone_touch *touches_of(const struct op *ops, size_t n)
{
	struct fe_zone_touch *t = calloc(n ? n : 1, sizeof(*t));
	if (t == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		t[i].nsec3 = ops[i].n3;
		t[i].add = ops[i].add;
		t[i].type = ops[i].rr->type;
		t[i].covered = ops[i].covered;
		t[i].key = ops[i].key;
		t[i].key_len = ops[i].key_len;
		t[i].rr = ops[i].rr;
	}
	return t;
}

int fe_zone_commit_delta_checked(struct fe_store *st, const uint8_t *apex, size_t apex_len,
                                 const struct fe_zone_delta *d,
                                 const struct fe_zone_delta_check *chk,
                                 struct fe_store_write_stats *stats, struct fe_zone_error *err)
{
	struct dctx c;
	struct op *ops = NULL;
	size_t nops = d->removed_count + d->added_count;
	uint64_t t0 = fe_time_mono_us();
	int64_t now = fe_time_wall_s();
	int rc;

	memset(&c, 0, sizeof(c));
	c.err = err;
	if (stats)
		memset(stats, 0, sizeof(*stats));
	name_str(apex, c.apex_str, sizeof(c.apex_str));
	rc = fe_store_writer_begin(st, apex, apex_len, &c.w);
	if (rc != FE_OK) {
		fe__zone_err(err, c.apex_str, 0, "zone %s: store: %s", c.apex_str, fe_strerror(rc));
		return rc;
	}
	if (fe_store_writer_current(c.w, &c.rec) != FE_OK) {
		fe__zone_err(err, c.apex_str, 0,
		             "zone %s: not stored: a change set needs a version", c.apex_str);
		rc = FE_ENOENT;
		goto out;
	}
	if ((c.rec.flags & FE_ZONE_VALIDATED) && chk == NULL) {
		fe__zone_err(err, c.apex_str, 0,
		             "zone %s: the stored serial %u was validated through the chain of "
		             "trust; a change set is not validated: refused (load the whole zone)",
		             c.apex_str, c.rec.serial);
		rc = FE_EPERM;
		goto out;
	}
	if (d->serial_from != c.rec.serial) {
		fe__zone_err(
		        err, c.apex_str, 0,
		        "zone %s: the change set applies to serial %u, the stored serial is %u",
		        c.apex_str, d->serial_from, c.rec.serial);
		rc = FE_ESERIAL;
		goto out;
	}
	c.apex_key_len = (size_t)fe_wire_name_key(apex, apex_len, c.apex_key, sizeof(c.apex_key));
	c.nsec3 = (c.rec.flags & FE_ZONE_NSEC3) != 0;
	int apex_labels = name_labels(apex);

	ops = calloc(nops ? nops : 1, sizeof(*ops));
	if (ops == NULL) {
		rc = FE_ENOMEM;
		goto out;
	}
	const struct fe_zone_rr *new_soa = NULL;
	size_t old_soas = 0;
	for (size_t i = 0; i < nops; i++) {
		bool add = i >= d->removed_count;
		ops[i].rr = add ? &d->added[i - d->removed_count] : &d->removed[i];
		ops[i].add = add;
		ops[i].idx = i;
		if ((rc = prepare(&c, &ops[i], apex_labels)) != FE_OK)
			goto out;
		if (ops[i].rr->type == FE_T_SOA) {
			if (!add) {
				old_soas++;
			} else if (new_soa != NULL) {
				rc = op_err(&c, &ops[i], FE_EINVAL, "a second new SOA");
				goto out;
			} else {
				new_soa = ops[i].rr;
			}
		}
	}
	uint32_t serial = 0, minimum = 0;
	if (new_soa == NULL || old_soas != 1 || !soa_fields(new_soa, &serial, &minimum)) {
		fe__zone_err(err, c.apex_str, 0,
		             "zone %s: a change set removes the stored SOA and adds one new SOA",
		             c.apex_str);
		rc = FE_EINVAL;
		goto out;
	}
	if (fe_serial_cmp(serial, c.rec.serial) != 1) {
		fe__zone_err(err, c.apex_str, 0,
		             "zone %s: serial %u does not move forward from the stored %u (RFC "
		             "1982): change set refused",
		             c.apex_str, serial, c.rec.serial);
		rc = FE_ESERIAL;
		goto out;
	}
	/* Parents sort before their descendants (RFC 4034 §6.1): a node's ancestors are in
	 * place before it, and a parent emptied by the set sees its children go after it. */
	qsort(ops, nops, sizeof(*ops), op_cmp);
	for (size_t i = 0; i < nops;) {
		size_t j = i + 1;
		while (j < nops && ops[j].n3 == ops[i].n3 && ops[j].key_len == ops[i].key_len &&
		       memcmp(ops[j].key, ops[i].key, ops[i].key_len) == 0)
			j++;
		rc = ops[i].n3 ? do_n3(&c, ops + i, j - i) : do_node(&c, ops + i, j - i);
		if (rc != FE_OK)
			goto out;
		i = j;
	}

	int64_t chain_expire_s = -1;
	if (chk != NULL) {
		struct fe_zone_touch *t = touches_of(ops, nops);
		if (t == NULL) {
			rc = FE_ENOMEM;
			goto out;
		}
		rc = chk->fn(chk->arg, c.w, &c.rec, t, nops, &chain_expire_s, err);
		free(t);
		if (rc != FE_OK)
			goto out;
	}

	struct fe_store_zone_rec rec = c.rec;
	rec.serial = serial;
	rec.flags &= ~(uint32_t)FE_ZONE_EXPIRED;
	rec.soa_minimum = minimum;
	rec.soa_ttl = new_soa->ttl;
	rec.loaded_at_s = 0;
	rec.node_count = (uint64_t)((int64_t)rec.node_count + c.created - c.deleted);
	rec.rr_count = rec.rr_count + d->added_count - d->removed_count;
	/* the count follows the change; the reasons named are those of the last whole load */
	rec.naptr_lint_count = (uint32_t)FE_MAX((int64_t)rec.naptr_lint_count + c.lint_delta, 0);
	if (!rec.naptr_lint_count)
		rec.naptr_lint[0] = 0;
	for (size_t i = 0; i < d->added_count; i++) {
		const struct fe_zone_rr *rr = &d->added[i];
		if (rr->type != FE_T_RRSIG)
			continue;
		int64_t exp = rrsig_time(fe_get_be32(rr->rdata + 8), now);
		if (rec.sig_expire_s == 0 || exp < rec.sig_expire_s)
			rec.sig_expire_s = exp;
	}
	if (chain_expire_s >= 0)
		rec.sig_expire_s = chain_expire_s;
	memset(rec.digest, 0, sizeof(rec.digest)); /* unknown: not recomputed over the zone */
	rec.src_size = 0;
	rec.src_mtime_ns = 0;
	struct fe_store_write_stats ws;
	rc = fe_store_writer_commit_stats(c.w, &rec, &ws); /* frees the writer */
	c.w = NULL;
	if (rc != FE_OK) {
		fe__zone_err(err, c.apex_str, 0, "zone %s: store commit: %s", c.apex_str,
		             fe_strerror(rc));
		goto out;
	}
	if (stats)
		*stats = ws;
	fe_log_info("zone %s serial %u -> %u: change set stored: -%zu +%zu RRs, written %llu "
	            "nodes and %llu nsec3, deleted %llu and %llu, in %.2f ms",
	            c.apex_str, d->serial_from, serial, d->removed_count, d->added_count,
	            (unsigned long long)ws.nodes_written, (unsigned long long)ws.nsec3_written,
	            (unsigned long long)ws.nodes_deleted, (unsigned long long)ws.nsec3_deleted,
	            (double)(fe_time_mono_us() - t0) / 1e3);
out:
	fe_store_writer_abort(c.w);
	free(ops);
	free(c.recs);
	free(c.arena);
	free(c.blob);
	return rc;
}
