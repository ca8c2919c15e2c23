/* Answer engine: authenticated denial of existence for DO=1 answers.
 *
 * NSEC zones follow RFC 4035 §3.1.3, NSEC3 zones RFC 5155 §7.2, in the shapes Knot DNS 3.2
 * gives them (so the differential test can compare section contents):
 *   NSEC  NXDOMAIN        NSEC covering the name + NSEC covering "*.<closest encloser>"
 *         NODATA          NSEC at the name; for an empty non-terminal (no NSEC of its own)
 *                         the NSEC covering the name + the one covering "*.<name>"
 *         wildcard        NSEC covering the synthesized name (answers and NODATA alike;
 *                         wildcard NODATA also carries the wildcard's own NSEC)
 *   NSEC3 NXDOMAIN        closest encloser proof (§7.2.1) + NSEC3 covering "*.<encloser>"
 *         NODATA          NSEC3 matching the name (§7.2.3, ENTs included); when there is
 *                         none (opt-out: an insecure delegation asked for DS, §7.2.4, or an
 *                         ENT above opt-out delegations) the closest encloser proof
 *         wildcard NODATA NSEC3 matching the wildcard + closest encloser proof (§7.2.5)
 *         wildcard        NSEC3 covering the next closer name (§7.2.6)
 * The closest *provable* encloser is the nearest ancestor with an NSEC3 of its own (opt-out
 * leaves some out). Hashes of existing names come from the store; only names that do not
 * exist (next closer, "*.<encloser>") are hashed here, with fe_wire_nsec3_hash (no heap).
 * Every record appears once. */
#include <string.h>

#include "answer_int.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"

#define HASH_MAX 64 /* fe_wire_nsec3_hash output bound */

/* Every NSEC/NSEC3 added here proves a denial: its TTL is at most min(SOA TTL, SOA MINIMUM),
 * the negative TTL of the SOA beside it (RFC 9077 §3, RFC 2308 §5), whatever the signer
 * wrote. */
static void add_rrset_of(struct fe__ans *a, const struct fe_store_zone_rec *zone,
                         const struct fe_store_node *node, uint16_t type)
{
	struct fe_store_rrset rs;
	if (fe_store_node_find(node, type, &rs))
		fe__ans_add(a, FE_SEC_AUTHORITY, node->owner, zone, &rs,
		            FE_MIN(rs.ttl, FE_MIN(zone->soa_ttl, zone->soa_minimum)), FE__IT_SIGS);
}

/* ---- NSEC ------------------------------------------------------------------------- */

/* The NSEC covering the name with key @key: the last NSEC owner before it, wrapping
 * (RFC 4034 §4.1.1). */
static void nsec_cover(struct fe__ans *a, const struct fe_store_zone_rec *zone, const uint8_t *key,
                       size_t key_len)
{
	struct fe_store_node prev;
	int rc = fe_store_prev_node(a->ctx->reader, zone, key, key_len, FE_NODE_HAS_NSEC, &prev);
	if (rc == FE_OK)
		add_rrset_of(a, zone, &prev, FE_T_NSEC);
	else if (rc != FE_ENOENT)
		fe__ans_store_failed(a, rc, "NSEC lookup");
}

/* The NSEC covering "*.<ancestor of @n with @labels labels>". */
static void nsec_cover_wildcard(struct fe__ans *a, const struct fe_store_zone_rec *zone,
                                const struct fe__name *n, unsigned labels)
{
	uint8_t key[FE_WIRE_KEY_MAX + 2];
	size_t len = fe__name_key_len(n, labels);
	if (len + 2 > FE_WIRE_KEY_MAX)
		return;
	memcpy(key, n->key, len);
	key[len++] = '*';
	key[len++] = 0;
	nsec_cover(a, zone, key, len);
}

static void nsec_prove(struct fe__ans *a)
{
	const struct fe_store_zone_rec *zone = a->neg_zone;
	const struct fe__name *n = &a->neg_name;

	if (a->outcome == FE__OUT_NXDOMAIN) {
		/* RFC 4035 §3.1.3.2 */
		nsec_cover(a, zone, n->key, n->key_len);
		nsec_cover_wildcard(a, zone, n, a->neg_ce_labels);
	} else if (a->outcome == FE__OUT_NODATA) {
		/* RFC 4035 §3.1.3.1 (§3.1.3.4 for a wildcard: its NSEC here, the covering one
		 * with the wildcard proofs) */
		if (a->neg_node.flags & FE_NODE_HAS_NSEC) {
			add_rrset_of(a, zone, &a->neg_node, FE_T_NSEC);
		} else if (!a->neg_wildcard) {
			/* empty non-terminal: no NSEC of its own */
			nsec_cover(a, zone, n->key, n->key_len);
			nsec_cover_wildcard(a, zone, n, n->labels);
		}
	}
}

/* ---- NSEC3 ------------------------------------------------------------------------ */

/* Hash @name with the zone's NSEC3 parameters. A failure (algorithm or iterations the zone
 * loader should have refused) leaves the proof out and is logged. */
static bool nsec3_hash(const struct fe_store_zone_rec *zone, const uint8_t *name, uint8_t *out,
                       int *len)
{
	static struct fe_ratelog rl = FE_RATELOG_INIT(3, 300);
	int rc = fe_wire_nsec3_hash(name, zone->nsec3_alg, zone->nsec3_iterations, zone->nsec3_salt,
	                            zone->nsec3_salt_len, out);
	if (rc < 0) {
		char apex[256];
		fe_wire_name_to_str(zone->apex, apex, sizeof(apex));
		fe_ratelog(&rl, FE_LOG_WARN, "answer: NSEC3 hash for zone %s failed: %s", apex,
		           fe_strerror(rc));
		return false;
	}
	*len = rc;
	return true;
}

/* Add the NSEC3 that matches (@want_exact) or covers @hash; false when there is no such
 * record (or the other kind was found). */
static bool nsec3_add(struct fe__ans *a, const struct fe_store_zone_rec *zone, const uint8_t *hash,
                      int hash_len, bool want_exact)
{
	struct fe_store_node node;
	bool exact = false;
	int rc = fe_store_nsec3_find(a->ctx->reader, zone, hash, (size_t)hash_len, &exact, &node);
	if (rc != FE_OK) {
		if (rc != FE_ENOENT)
			fe__ans_store_failed(a, rc, "NSEC3 lookup");
		return false;
	}
	if (exact != want_exact)
		return false;
	add_rrset_of(a, zone, &node, FE_T_NSEC3);
	return true;
}

/* Hash of an existing node: stored with the node; computed only as a fallback. */
static bool node_hash(const struct fe_store_zone_rec *zone, const struct fe_store_node *node,
                      const uint8_t *name, uint8_t *out, int *len)
{
	if (node && node->hash_len > 0 && node->hash_len <= HASH_MAX) {
		memcpy(out, node->hash, node->hash_len);
		*len = node->hash_len;
		return true;
	}
	return nsec3_hash(zone, name, out, len);
}

/* Closest encloser proof for @n (RFC 5155 §7.2.1), searching the provable encloser from the
 * ancestor with @start labels upwards (@start_node: that ancestor's node, if known). With
 * @add_match false only the NSEC3 covering the next closer name is added (§7.2.6).
 * Returns the labels of the provable encloser, or -1. */
static int nsec3_ce_proof(struct fe__ans *a, const struct fe_store_zone_rec *zone,
                          const struct fe__name *n, unsigned start,
                          const struct fe_store_node *start_node, bool add_match)
{
	uint8_t hash[HASH_MAX];
	int hlen;
	unsigned cl = start;

	for (;;) {
		struct fe_store_node node;
		const struct fe_store_node *np = NULL;
		if (cl == start && start_node)
			np = start_node;
		else if (fe__ans_get_node(a, zone, n->key, fe__name_key_len(n, cl), &node))
			np = &node;
		if (a->store_error)
			return -1;
		if (!node_hash(zone, np, fe__name_suffix(n, cl), hash, &hlen))
			return -1;
		struct fe_store_node match;
		bool exact = false;
		int rc = fe_store_nsec3_find(a->ctx->reader, zone, hash, (size_t)hlen, &exact,
		                             &match);
		if (rc != FE_OK && rc != FE_ENOENT) {
			fe__ans_store_failed(a, rc, "NSEC3 lookup");
			return -1;
		}
		if (rc == FE_OK && exact) {
			if (add_match)
				add_rrset_of(a, zone, &match, FE_T_NSEC3);
			break;
		}
		if (cl <= zone->apex_labels)
			return -1; /* not even the apex has an NSEC3: nothing to prove with */
		cl--;
	}
	if (cl < n->labels) {
		/* the next closer name does not exist: hash it here */
		if (nsec3_hash(zone, fe__name_suffix(n, cl + 1u), hash, &hlen))
			nsec3_add(a, zone, hash, hlen, false);
	}
	return (int)cl;
}

/* NSEC3 covering "*.<ancestor of @n with @labels labels>" (RFC 5155 §7.2.2). */
static void nsec3_cover_wildcard(struct fe__ans *a, const struct fe_store_zone_rec *zone,
                                 const struct fe__name *n, unsigned labels)
{
	uint8_t wname[FE_WIRE_NAME_MAX + 2];
	uint8_t hash[HASH_MAX];
	int hlen;
	const uint8_t *enc = fe__name_suffix(n, labels);
	int enc_len = fe_wire_name_len(enc, FE_WIRE_NAME_MAX);
	if (enc_len < 0 || enc_len + 2 > FE_WIRE_NAME_MAX)
		return;
	wname[0] = 1;
	wname[1] = '*';
	memcpy(wname + 2, enc, (size_t)enc_len);
	if (nsec3_hash(zone, wname, hash, &hlen))
		nsec3_add(a, zone, hash, hlen, false);
}

static void nsec3_prove(struct fe__ans *a)
{
	const struct fe_store_zone_rec *zone = a->neg_zone;
	const struct fe__name *n = &a->neg_name;
	uint8_t hash[HASH_MAX];
	int hlen;

	if (a->outcome == FE__OUT_NXDOMAIN) {
		int cpe = nsec3_ce_proof(a, zone, n, a->neg_ce_labels, &a->neg_ce, true);
		if (cpe >= 0)
			nsec3_cover_wildcard(a, zone, n, (unsigned)cpe);
	} else if (a->outcome == FE__OUT_NODATA) {
		bool matched = false;
		const uint8_t *owner = a->neg_wildcard ? a->neg_node.owner : n->name;
		if (node_hash(zone, &a->neg_node, owner, hash, &hlen))
			matched = nsec3_add(a, zone, hash, hlen, true);
		if (a->neg_wildcard)
			nsec3_ce_proof(a, zone, n, a->neg_ce_labels, &a->neg_ce, true);
		else if (!matched && n->labels > zone->apex_labels)
			nsec3_ce_proof(a, zone, n, n->labels - 1u, NULL, true);
	}
}

/* ---- entry ------------------------------------------------------------------------ */

void fe__ans_prove(struct fe__ans *a)
{
	if ((a->outcome == FE__OUT_NODATA || a->outcome == FE__OUT_NXDOMAIN) &&
	    (a->neg_zone->flags & FE_ZONE_SIGNED)) {
		if (a->neg_zone->flags & FE_ZONE_NSEC3)
			nsec3_prove(a);
		else if (a->neg_zone->flags & FE_ZONE_NSEC)
			nsec_prove(a);
	}
	/* RFC 4035 §3.1.3.3 / RFC 5155 §7.2.6: every wildcard expansion on the way. */
	for (unsigned i = 0; i < a->nwild && !a->store_error; i++) {
		const struct fe__wild *w = &a->wild[i];
		struct fe__name n;
		if (!(w->zone->flags & FE_ZONE_SIGNED) || fe__name_init(&n, w->sname) != FE_OK)
			continue;
		if (w->zone->flags & FE_ZONE_NSEC3)
			nsec3_ce_proof(a, w->zone, &n, w->ce_labels, NULL, false);
		else if (w->zone->flags & FE_ZONE_NSEC)
			nsec_cover(a, w->zone, n.key, n.key_len);
	}
}
