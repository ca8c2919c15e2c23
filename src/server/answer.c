/* Answer engine: one query in, one response out, over local zones.
 *
 * Decisions (each also stated where the code makes it):
 *  - Class IN only; other classes REFUSED.
 *  - AXFR/IXFR: REFUSED over UDP and TCP alike (never amplification). Transfers are the
 *    network pipeline's transfer handler (server.h), which sees them before this engine.
 *  - ANY: RFC 8482 §4.1, one RRset of the node (the lowest type) with its RRSIGs, the same over
 *    UDP and TCP; opts->refuse_any turns it into REFUSED. QTYPE RRSIG likewise gets the
 *    RRSIGs of one RRset (as Knot DNS does). Meta-types OPT/TSIG/TKEY as QTYPE
 *    are FORMERR, MAILA/MAILB NOTIMP.
 *  - A query carrying TSIG gets NOTAUTH (RFC 8945 §5.2.1: no key is known here), unless
 *    the pipeline's TSIG step checked it (FE_ANSWER_TSIG_CHECKED).
 *  - Opcodes other than QUERY (NOTIFY included, for now) get NOTIMP.
 *  - Name outside every held zone: REFUSED (RFC 5067 style "always answer"), counted.
 *  - Name at or below a delegation to a zone we do not hold: SERVFAIL, never a referral;
 *    DS at the cut is answered from the parent (RFC 4035 §3.1.4.1). A CNAME chain that runs
 *    into such a name gets SERVFAIL too; a chain that leaves the held zones ends there with
 *    NOERROR and what was found (RFC 1034 §4.3.2 step 3a), as an authoritative server does.
 *  - DNAME (RFC 6672): a name below a DNAME gets the DNAME (with RRSIGs under DO), the CNAME
 *    synthesized from it (TTL of the DNAME, never signed) and the chase of that CNAME like
 *    any other (same chain limit); YXDOMAIN when the new name exceeds 255 octets. Zones with
 *    names below a DNAME are refused at load, so nothing occluded is ever looked up.
 *  - TTLs: stored capped at the RRSIG original TTL (zone/commit.c); under federation trust
 *    also cut to the time left before the zone's chain expiry (cap_ttl). NSEC/NSEC3 in
 *    denials at most min(SOA TTL, MINIMUM) like the SOA beside them (RFC 9077).
 *  - Additional section: see add_glue (under trust only validated data, never glue).
 *  - Header: RA=1, AA=0, QNAME case as received. AD=0, except under federation trust
 *    (opts->require_validated): AD=1 when the query set DO or AD (RFC 6840
 *    §5.7), since only validated, unexpired zones are then held; other zones are passed
 *    over, expired ones give SERVFAIL with EDE 7 (see find_zone, zone_expired).
 * Counters: this function counts QUERIES, UDP/TCP, every rcode, DROPPED, TRUNCATED,
 * OUT_OF_ZONE and STORE_ERRORS; the network layer counts the rest. */
#include <string.h>

#include "answer_int.h"
#include "fedenum/util.h"

static struct fe_ratelog store_rl = FE_RATELOG_INIT(5, 60);

/* ---- names ------------------------------------------------------------------------ */

int fe__name_init(struct fe__name *n, const uint8_t *name)
{
	int len = fe_wire_name_len(name, FE_WIRE_NAME_MAX);
	if (len < 0)
		return FE_EFORMAT;
	int klen = fe_wire_name_key(name, (size_t)len, n->key, sizeof(n->key));
	if (klen < 0)
		return FE_EFORMAT;
	unsigned labels = 0;
	for (int i = 0; i < klen; i++) {
		if (n->key[i] != 0)
			continue;
		if (labels >= FE__ANS_LABELS_MAX)
			return FE_EFORMAT;
		n->cut[labels++] = (uint16_t)(i + 1);
	}
	n->name = name;
	n->len = (uint8_t)len;
	n->labels = (uint8_t)labels;
	n->key_len = (uint16_t)klen;
	return FE_OK;
}

const uint8_t *fe__name_suffix(const struct fe__name *n, unsigned labels)
{
	const uint8_t *p = n->name;
	for (unsigned skip = n->labels > labels ? n->labels - labels : 0; skip > 0; skip--)
		p += 1u + p[0];
	return p;
}

/* Validate an uncompressed name that must fill exactly @len bytes of RDATA. */
static bool rdata_name_ok(const uint8_t *p, size_t len)
{
	if (len == 0)
		return false;
	int n = fe_wire_name_len(p, len);
	return n > 0 && (size_t)n == len;
}

/* ---- items ------------------------------------------------------------------------ */

/* RFC 4035 §5.3.3: a validator keeps an RRset no longer than its signature lives. Under
 * federation trust, where our answers claim validation (AD=1), a signed RRset's TTL is cut to
 * the time left until the zone's chain expiry (sig_expire_s: the earliest expiration of the
 * zone's own signatures and of its parents', include/fedenum/store.h), never below what a
 * validator would keep for that RRset's own signature. One subtraction per item: the
 * original-TTL cap (§5.3.3 too) was applied when the zone was stored (zone/commit.c), and
 * zone_expired() keeps expired zones out. Without trust the TTL is served as stored. */
static uint32_t cap_ttl(const struct fe__ans *a, const struct fe_store_zone_rec *zone, uint32_t ttl)
{
	if (!a->trust || zone == NULL || zone->sig_expire_s <= a->now_s)
		return ttl;
	int64_t left = zone->sig_expire_s - a->now_s;
	return left < (int64_t)ttl ? (uint32_t)left : ttl;
}

/* 1 added, 0 duplicate (each RRset once), -1 table full. */
static int add_item(struct fe__ans *a, enum fe_wire_section sec, const uint8_t *owner,
                    const struct fe_store_zone_rec *zone, const struct fe_store_rrset *rs,
                    uint32_t ttl, uint8_t flags)
{
	for (unsigned i = 0; i < a->nitem; i++) {
		const struct fe__item *it = &a->item[i];
		if (it->sec == sec && it->rs.type == rs->type &&
		    (it->flags & FE__IT_SIGS_ONLY) == (flags & FE__IT_SIGS_ONLY) &&
		    fe_wire_name_eq(it->owner, owner))
			return 0;
	}
	if (a->nitem >= FE__ANS_ITEMS_MAX) {
		a->items_full = true;
		return -1;
	}
	struct fe__item *it = &a->item[a->nitem++];
	it->owner = owner;
	it->zone = zone;
	it->rs = *rs;
	it->ttl = rs->sig_count > 0 ? cap_ttl(a, zone, ttl) : ttl;
	it->sec = (uint8_t)sec;
	it->flags = flags;
	return 1;
}

bool fe__ans_add(struct fe__ans *a, enum fe_wire_section sec, const uint8_t *owner,
                 const struct fe_store_zone_rec *zone, const struct fe_store_rrset *rs,
                 uint32_t ttl, uint8_t flags)
{
	return add_item(a, sec, owner, zone, rs, ttl, flags) >= 0;
}

static uint8_t sig_flag(const struct fe__ans *a)
{
	return a->dnssec ? FE__IT_SIGS : 0;
}

/* ---- store access ----------------------------------------------------------------- */

void fe__ans_store_failed(struct fe__ans *a, int rc, const char *what)
{
	if (!a->store_error)
		fe_ratelog(&store_rl, FE_LOG_ERR, "answer: store %s failed: %s", what,
		           fe_strerror(rc));
	a->store_error = true;
}

bool fe__ans_get_node(struct fe__ans *a, const struct fe_store_zone_rec *zone, const uint8_t *key,
                      size_t key_len, struct fe_store_node *out)
{
	int rc = fe_store_get_node(a->ctx->reader, zone, key, key_len, out);
	if (rc == FE_OK)
		return true;
	if (rc != FE_ENOENT)
		fe__ans_store_failed(a, rc, "node lookup");
	return false;
}

/* The closest enclosing held zone of the first @labels labels of @n. Under federation trust
 * a zone is held only while its chain of trust holds (FE_ZONE_VALIDATED, not FE_ZONE_BOGUS):
 * any other is passed over for the zone above it, exactly as a validating resolver sees a
 * child that does not validate (RFC 4035 §5.5): that zone's delegation to it then gives
 * SERVFAIL, and a zone that no longer delegates the name answers for it itself. */
static int find_zone(struct fe__ans *a, const struct fe__name *n, unsigned labels,
                     const struct fe_store_zone_rec **zone)
{
	int rc = fe_store_find_zone(a->ctx->reader, n->key, fe__name_key_len(n, labels), zone);
	if (!a->trust)
		return rc;
	while (rc == FE_OK &&
	       (!((*zone)->flags & FE_ZONE_VALIDATED) || ((*zone)->flags & FE_ZONE_BOGUS))) {
		/* RFC 8914 §4.6/§4.7: bogus (chain broken) or indeterminate (never validated
		 * under the configured anchors) */
		a->ede = ((*zone)->flags & FE_ZONE_BOGUS) ? FE_EDE_DNSSEC_BOGUS
		                                          : FE_EDE_DNSSEC_INDETERMINATE;
		if ((*zone)->apex_labels == 0)
			return FE_ENOENT;
		rc = fe_store_find_zone(a->ctx->reader, n->key,
		                        fe__name_key_len(n, (*zone)->apex_labels - 1u), zone);
	}
	return rc;
}

/* The held zone that answers for @n: the closest enclosing one, except that DS is looked
 * for on the parent side of a cut first (RFC 4035 §3.1.4.1); a server holding the child
 * but not the parent answers DS from the child (NODATA at its apex). */
static int select_zone(struct fe__ans *a, const struct fe__name *n,
                       const struct fe_store_zone_rec **zone)
{
	if (a->qtype == FE_T_DS && n->labels > 0) {
		int rc = find_zone(a, n, n->labels - 1u, zone);
		if (rc != FE_ENOENT)
			return rc;
	}
	return find_zone(a, n, n->labels, zone);
}

/* Under federation trust: a zone whose signatures (or whose parents' signatures: the chain
 * expiry, include/fedenum/store.h) have expired without a fresh version is not served as
 * valid: SERVFAIL with EDE 7, Signature Expired (RFC 8914 §4.8). */
static bool zone_expired(struct fe__ans *a, const struct fe_store_zone_rec *zone)
{
	/* A secondary's copy past its SOA EXPIRE (RFC 1034 §4.3.5), in any mode: kept, not
	 * served (RFC 8914 §4.23, No Reachable Authority). */
	if (zone->flags & FE_ZONE_EXPIRED) {
		a->ede = FE_EDE_NO_REACHABLE_AUTHORITY;
		return true;
	}
	if (!a->trust || zone->sig_expire_s == 0 || zone->sig_expire_s > a->now_s)
		return false;
	a->ede = FE_EDE_SIGNATURE_EXPIRED;
	return true;
}

/* ---- resolution ------------------------------------------------------------------- */

enum step { ST_HIT, ST_NODATA, ST_NXDOMAIN, ST_FOLLOW, ST_YXDOMAIN, ST_SERVFAIL };

/* The data of @node for the query type, owner @n (the synthesized name for a wildcard,
 * RFC 4592 §3.4). Sets *target for a CNAME to follow. */
/* An answer RRset of @node. docs/security.md Z7: the NAPTRs of a node the zone load marked
 * are written without the records that fail the lint and without RRSIGs (costs one flag
 * test for every other node). */
static void add_answer(struct fe__ans *a, const struct fe__name *n,
                       const struct fe_store_zone_rec *zone, const struct fe_store_node *node,
                       const struct fe_store_rrset *rs)
{
	if (!(node->flags & FE_NODE_NAPTR_LINT) || rs->type != FE_T_NAPTR) {
		add_item(a, FE_SEC_ANSWER, n->name, zone, rs, rs->ttl, sig_flag(a));
		return;
	}
	if (add_item(a, FE_SEC_ANSWER, n->name, zone, rs, rs->ttl, FE__IT_LINT) > 0) {
		a->item[a->nitem - 1].lint_owner = node->owner;
		a->lint = true;
	}
}

static enum step answer_node(struct fe__ans *a, const struct fe_store_zone_rec *zone,
                             const struct fe__name *n, const struct fe_store_node *node,
                             const uint8_t **target)
{
	struct fe_store_rrset rs;
	size_t iter = 0;
	bool any = false;

	switch (a->qtype) {
	case FE_T_ANY:
		/* RFC 8482 §4.1: one RRset is a complete answer; we give the lowest type. */
		if (!fe_store_node_next(node, &iter, &rs))
			return ST_NODATA;
		add_answer(a, n, zone, node, &rs);
		return ST_HIT;
	case FE_T_RRSIG:
		/* Treated like ANY (RFC 8482 §4.1, as Knot does): the RRSIGs of one RRset, the
		 * lowest signed type. */
		while (!any && fe_store_node_next(node, &iter, &rs)) {
			if (rs.sig_count == 0)
				continue;
			add_item(a, FE_SEC_ANSWER, n->name, zone, &rs, rs.ttl, FE__IT_SIGS_ONLY);
			any = true;
		}
		return any ? ST_HIT : ST_NODATA;
	default:
		break;
	}
	if (fe_store_node_find(node, a->qtype, &rs)) {
		add_answer(a, n, zone, node, &rs);
		return ST_HIT;
	}
	/* RFC 1034 §4.3.2 step 3a: a CNAME is followed unless it is what was asked for (Knot
	 * also answers NSEC at a CNAME node directly, RFC 4035 §2.3). */
	if (a->qtype == FE_T_CNAME || a->qtype == FE_T_NSEC ||
	    !fe_store_node_find(node, FE_T_CNAME, &rs))
		return ST_NODATA;
	if (a->cnames >= FE__ANS_CNAME_MAX)
		return ST_HIT; /* chain too long: stop here, as Knot does */
	const uint8_t *rdata;
	uint16_t rdlen;
	bool is_sig;
	iter = 0;
	if (!fe_store_rrset_next(&rs, &iter, &rdata, &rdlen, &is_sig) || is_sig ||
	    !rdata_name_ok(rdata, rdlen)) {
		fe__ans_store_failed(a, FE_EFORMAT, "CNAME rdata");
		return ST_SERVFAIL;
	}
	int added = add_item(a, FE_SEC_ANSWER, n->name, zone, &rs, rs.ttl, sig_flag(a));
	if (added <= 0)
		return ST_HIT; /* already in the answer: a loop; or no room left */
	a->cnames++;
	*target = rdata;
	return ST_FOLLOW;
}

static void set_negative(struct fe__ans *a, enum fe__outcome out,
                         const struct fe_store_zone_rec *zone, const struct fe__name *n)
{
	a->outcome = out;
	a->neg_zone = zone;
	a->neg_name = *n;
	a->neg_wildcard = false;
}

/* Closest encloser of @n, a name that is not a node of @zone: its longest ancestor that is
 * (RFC 4592 §3.3.1). Every ancestor of a node is a node (empty non-terminals included) and
 * keys sort canonically, so that ancestor is the longest label-aligned common prefix of @n's
 * key and the key of its canonical predecessor: two lookups, whatever the depth. Falls back
 * to walking up label by label if the store disagrees. Returns its label count with *ce set,
 * or -1 on a store error. */
static int closest_encloser(struct fe__ans *a, const struct fe_store_zone_rec *zone,
                            const struct fe__name *n, struct fe_store_node *ce)
{
	struct fe_store_node prev;
	uint8_t pkey[FE_WIRE_KEY_MAX];
	unsigned labels = zone->apex_labels;

	int rc = fe_store_prev_node(a->ctx->reader, zone, n->key, n->key_len, 0, &prev);
	if (rc != FE_OK && rc != FE_ENOENT) {
		fe__ans_store_failed(a, rc, "predecessor lookup");
		return -1;
	}
	int plen =
	        rc == FE_OK ? fe_wire_name_key(prev.owner, prev.owner_len, pkey, sizeof(pkey)) : -1;
	while (plen >= 0 && labels + 1u < n->labels) {
		uint16_t cut = fe__name_key_len(n, labels + 1u);
		if ((size_t)plen < cut || memcmp(pkey, n->key, cut) != 0)
			break;
		labels++;
	}
	for (;;) {
		if (fe__ans_get_node(a, zone, n->key, fe__name_key_len(n, labels), ce))
			return (int)labels;
		if (a->store_error)
			return -1;
		if (labels <= zone->apex_labels) {
			fe__ans_store_failed(a, FE_ENOENT, "apex lookup");
			return -1;
		}
		labels--;
	}
}

/* @n lies below the DNAME RRset @rs of @ce (@ce_labels labels), its closest encloser: the
 * DNAME with its RRSIGs, then the CNAME synthesized from it (RFC 6672 §3.1: owner @n, RDATA
 * @n with the DNAME owner replaced by the target, TTL the DNAME's, no RRSIG: a validator
 * checks it against the signed DNAME, RFC 6672 §5.3.1), followed like any CNAME (the chain
 * limit counts both). A name that would exceed 255 octets is YXDOMAIN (RFC 6672 §2.2). */
static enum step follow_dname(struct fe__ans *a, const struct fe_store_zone_rec *zone,
                              const struct fe__name *n, unsigned ce_labels,
                              const struct fe_store_node *ce, const struct fe_store_rrset *rs,
                              const uint8_t **target)
{
	const uint8_t *rdata;
	uint16_t rdlen;
	bool is_sig;
	size_t iter = 0;

	if (!fe_store_rrset_next(rs, &iter, &rdata, &rdlen, &is_sig) || is_sig ||
	    !rdata_name_ok(rdata, rdlen)) {
		fe__ans_store_failed(a, FE_EFORMAT, "DNAME rdata");
		return ST_SERVFAIL;
	}
	/* Once per answer; a chain may pass the same DNAME again for another name (a real
	 * loop ends at the chain limit). */
	if (add_item(a, FE_SEC_ANSWER, ce->owner, zone, rs, rs->ttl, sig_flag(a)) < 0)
		return ST_HIT; /* no room left */
	size_t plen = (size_t)(fe__name_suffix(n, ce_labels) - n->name);
	if (plen + rdlen > FE_WIRE_NAME_MAX)
		return ST_YXDOMAIN;
	if (a->cnames >= FE__ANS_CNAME_MAX || a->nsyn >= FE__ANS_CNAME_MAX)
		return ST_HIT; /* chain too long: stop here, as for CNAMEs */
	uint8_t *buf = a->syn[a->nsyn];
	fe_put_u16(buf, (uint16_t)(plen + rdlen));
	memcpy(buf + 2, n->name, plen);
	memcpy(buf + 2 + plen, rdata, rdlen);
	struct fe_store_rrset cn = {.type = FE_T_CNAME,
	                            .ttl = cap_ttl(a, zone, rs->ttl),
	                            .rr_count = 1,
	                            .sig_count = 0,
	                            .body = buf,
	                            .body_len = (uint32_t)(2 + plen + rdlen)};
	if (add_item(a, FE_SEC_ANSWER, n->name, zone, &cn, cn.ttl, 0) <= 0)
		return ST_HIT;
	a->nsyn++;
	a->cnames++;
	if (a->qtype == FE_T_CNAME)
		return ST_HIT; /* the CNAME is what was asked for (RFC 1034 §4.3.2 step 3a) */
	*target = buf + 2;
	return ST_FOLLOW;
}

/* The query name lies at or below the cut of @labels labels, in a held zone, to a zone that
 * is not held: what on-demand peering starts from (fe_answer_ctx.unheld_cut). Only the query
 * name (no CNAME chain), only under trust, only when no bogus or unvalidated zone was
 * passed over (those are held, not missing). */
static void note_unheld(struct fe__ans *a, unsigned labels)
{
	if (a->trust && a->cnames == 0 && a->ede < 0 && labels <= 255)
		a->ctx->unheld_cut = (uint8_t)labels;
}

/* Look @n up in @zone. */
static enum step lookup(struct fe__ans *a, const struct fe_store_zone_rec *zone,
                        const struct fe__name *n, const uint8_t **target)
{
	struct fe_store_node node;
	enum step st;

	if (n->labels < zone->apex_labels) {
		fe__ans_store_failed(a, FE_EINVAL, "zone selection");
		return ST_SERVFAIL;
	}
	if (fe__ans_get_node(a, zone, n->key, n->key_len, &node)) {
		/* Data below a cut is not ours to serve; at the cut only DS is (RFC 4035 §3.1.4.1).
		 */
		if (node.flags & FE_NODE_OCCLUDED)
			return ST_SERVFAIL;
		if ((node.flags & FE_NODE_DELEG) && a->qtype != FE_T_DS) {
			note_unheld(a, n->labels);
			return ST_SERVFAIL;
		}
		st = answer_node(a, zone, n, &node, target);
		if (st == ST_NODATA) {
			set_negative(a, FE__OUT_NODATA, zone, n);
			a->neg_node = node;
		}
		return st;
	}
	if (a->store_error)
		return ST_SERVFAIL;

	struct fe_store_node ce;
	int ce_found = closest_encloser(a, zone, n, &ce);
	if (ce_found < 0)
		return ST_SERVFAIL;
	unsigned ce_labels = (unsigned)ce_found;
	if (ce.flags & (FE_NODE_DELEG | FE_NODE_OCCLUDED)) {
		/* below a delegation to a zone we do not hold */
		if (ce.flags & FE_NODE_DELEG)
			note_unheld(a, ce_labels);
		return ST_SERVFAIL;
	}

	/* RFC 6672 §2.3: a DNAME at the closest encloser rewrites the name (before any
	 * wildcard). Zones with names below a DNAME are refused at load (zone/commit.c), so
	 * the closest encloser of a name under a DNAME is the DNAME's owner. */
	struct fe_store_rrset drs;
	if (fe_store_node_find(&ce, FE_T_DNAME, &drs))
		return follow_dname(a, zone, n, ce_labels, &ce, &drs, target);

	if (ce.flags & FE_NODE_WILDCHILD) {
		/* RFC 4592 §3.3.1: the source of synthesis is "*.<closest encloser>". */
		uint8_t wkey[FE_WIRE_KEY_MAX + 2];
		size_t wlen = fe__name_key_len(n, ce_labels);
		memcpy(wkey, n->key, wlen);
		wkey[wlen++] = '*';
		wkey[wlen++] = 0;
		if (fe__ans_get_node(a, zone, wkey, wlen, &node)) {
			if (node.flags & (FE_NODE_DELEG | FE_NODE_OCCLUDED))
				return ST_SERVFAIL;
			if (a->nwild < FE__ANS_WILD_MAX) {
				struct fe__wild *w = &a->wild[a->nwild++];
				w->zone = zone;
				w->sname = n->name;
				w->ce_labels = (uint8_t)ce_labels;
			}
			st = answer_node(a, zone, n, &node, target);
			if (st == ST_NODATA) {
				set_negative(a, FE__OUT_NODATA, zone, n);
				a->neg_node = node;
				a->neg_wildcard = true;
				a->neg_ce = ce;
				a->neg_ce_labels = (uint8_t)ce_labels;
			}
			return st;
		}
		if (a->store_error)
			return ST_SERVFAIL;
		/* flag without the node: treat as no wildcard */
	}
	set_negative(a, FE__OUT_NXDOMAIN, zone, n);
	a->neg_ce = ce;
	a->neg_ce_labels = (uint8_t)ce_labels;
	return ST_NXDOMAIN;
}

/* Walk the query name and the CNAME chain. Sets a->outcome. */
static void resolve(struct fe__ans *a)
{
	struct fe__name n;
	const uint8_t *sname = a->q->qname;

	for (;;) {
		const struct fe_store_zone_rec *zone;
		const uint8_t *target = NULL;

		if (fe__name_init(&n, sname) != FE_OK) {
			fe__ans_store_failed(a, FE_EFORMAT, "name");
			a->outcome = FE__OUT_SERVFAIL;
			return;
		}
		int rc = select_zone(a, &n, &zone);
		if (rc == FE_ENOENT && a->ede >= 0) {
			/* Held, but not valid, with nothing above it: not ours to refuse. */
			a->outcome = FE__OUT_SERVFAIL;
			return;
		}
		if (rc == FE_ENOENT) {
			/* The query name: REFUSED. A CNAME target: the chain ends here. */
			a->outcome = a->cnames == 0 ? FE__OUT_REFUSED : FE__OUT_HIT;
			return;
		}
		if (rc != FE_OK) {
			fe__ans_store_failed(a, rc, "zone lookup");
			a->outcome = FE__OUT_SERVFAIL;
			return;
		}
		if (zone_expired(a, zone)) {
			a->outcome = FE__OUT_SERVFAIL;
			return;
		}
		switch (lookup(a, zone, &n, &target)) {
		case ST_HIT:
			a->outcome = FE__OUT_HIT;
			return;
		case ST_NODATA:
		case ST_NXDOMAIN:
			return; /* set_negative did it */
		case ST_YXDOMAIN:
			a->outcome = FE__OUT_YXDOMAIN;
			return;
		case ST_SERVFAIL:
			a->outcome = FE__OUT_SERVFAIL;
			return;
		case ST_FOLLOW:
			sname = target;
			break;
		}
	}
}

/* SOA of the zone of the negative answer, TTL = min(SOA TTL, MINIMUM) for the SOA and its
 * RRSIGs (RFC 2308 §3, RFC 4034 §3). */
static void add_negative_soa(struct fe__ans *a)
{
	const struct fe_store_zone_rec *zone = a->neg_zone;
	const struct fe__name *n = &a->neg_name;
	struct fe_store_node apex;
	struct fe_store_rrset rs;
	const uint8_t *rdata;
	uint16_t rdlen;
	bool is_sig;
	size_t iter = 0;

	if (!fe__ans_get_node(a, zone, n->key, fe__name_key_len(n, zone->apex_labels), &apex) ||
	    !fe_store_node_find(&apex, FE_T_SOA, &rs) ||
	    !fe_store_rrset_next(&rs, &iter, &rdata, &rdlen, &is_sig) || is_sig || rdlen < 22) {
		fe__ans_store_failed(a, FE_EFORMAT, "apex SOA");
		return;
	}
	uint32_t minimum = fe_get_be32(rdata + rdlen - 4);
	add_item(a, FE_SEC_AUTHORITY, apex.owner, zone, &rs, FE_MIN(rs.ttl, minimum), sig_flag(a));
}

/* ---- additional section ----------------------------------------------------------- */

/* The zone whose addresses for @tn go into the additional section. Without federation trust,
 * like Knot DNS: only @zone, the zone of the answer RRset, and glue below its cuts counts.
 * Under trust, the zone that is authoritative for the target: its closest enclosing held
 * zone (validated, chain intact, unexpired: find_zone, zone_expired), wherever it is, so a
 * sub-zone held here wins over the glue or occluded data its parent keeps below the cut.
 * The lookups here never change the answer's EDE. */
static const struct fe_store_zone_rec *
glue_zone(struct fe__ans *a, const struct fe_store_zone_rec *zone, const struct fe__name *tn)
{
	if (!a->trust) {
		uint8_t apex_key[FE_WIRE_KEY_MAX];
		if (tn->labels < zone->apex_labels || (zone->flags & FE_ZONE_EXPIRED))
			return NULL;
		int aklen =
		        fe_wire_name_key(zone->apex, zone->apex_len, apex_key, sizeof(apex_key));
		uint16_t plen = fe__name_key_len(tn, zone->apex_labels);
		if (aklen < 0 || (size_t)aklen != plen || memcmp(apex_key, tn->key, plen) != 0)
			return NULL; /* not in this zone */
		return zone;
	}
	const struct fe_store_zone_rec *tz;
	int32_t ede = a->ede;
	int rc = find_zone(a, tn, tn->labels, &tz);
	bool ok = rc == FE_OK && !zone_expired(a, tz);
	a->ede = ede;
	if (rc != FE_OK && rc != FE_ENOENT)
		fe__ans_store_failed(a, rc, "zone lookup");
	return ok ? tz : NULL;
}

/* A and AAAA (with their RRSIGs under DO) of @target, an NS, MX or SRV target in an answer
 * RRset of @zone, when the target is a node of the zone glue_zone() picks (or covered by one
 * of its wildcards, written with the target as owner). Under trust, glue is glue: data at or
 * below a cut is not the zone's (RFC 4035 §2.2: unsigned, never validated) and is left out,
 * so nothing unvalidated rides along with AD=1; a name under a DNAME has no data of its own. */
static void add_glue(struct fe__ans *a, const struct fe_store_zone_rec *zone, const uint8_t *target)
{
	static const uint16_t types[] = {FE_T_A, FE_T_AAAA};
	struct fe__name tn;
	struct fe_store_node node;

	if (fe__name_init(&tn, target) != FE_OK)
		return;
	zone = glue_zone(a, zone, &tn);
	if (zone == NULL)
		return;
	uint16_t not_ours = a->trust ? (FE_NODE_DELEG | FE_NODE_OCCLUDED) : 0;

	bool found = fe__ans_get_node(a, zone, tn.key, tn.key_len, &node);
	if (!found && !a->store_error) {
		/* RFC 4592 §3.3.1: closest encloser, then its wildcard child if any. */
		unsigned cl = tn.labels;
		bool have_ce = false;
		while (!have_ce && cl > zone->apex_labels && !a->store_error) {
			cl--;
			have_ce =
			        fe__ans_get_node(a, zone, tn.key, fe__name_key_len(&tn, cl), &node);
		}
		if (!have_ce || !(node.flags & FE_NODE_WILDCHILD) || (node.flags & not_ours))
			return;
		struct fe_store_rrset drs;
		if (a->trust && fe_store_node_find(&node, FE_T_DNAME, &drs))
			return;
		uint8_t wkey[FE_WIRE_KEY_MAX + 2];
		size_t wlen = fe__name_key_len(&tn, cl);
		memcpy(wkey, tn.key, wlen);
		wkey[wlen++] = '*';
		wkey[wlen++] = 0;
		found = fe__ans_get_node(a, zone, wkey, wlen, &node);
	}
	if (!found || (node.flags & not_ours))
		return;
	for (size_t i = 0; i < FE_ARRAY_LEN(types); i++) {
		struct fe_store_rrset rs;
		if (fe_store_node_find(&node, types[i], &rs))
			add_item(a, FE_SEC_ADDITIONAL, target, zone, &rs, rs.ttl, sig_flag(a));
	}
}

static void add_additional(struct fe__ans *a)
{
	unsigned n = a->nitem;
	for (unsigned i = 0; i < n; i++) {
		const struct fe__item *it = &a->item[i];
		size_t off;
		if (it->sec != FE_SEC_ANSWER || (it->flags & FE__IT_SIGS_ONLY))
			continue;
		switch (it->rs.type) {
		case FE_T_NS:
			off = 0;
			break;
		case FE_T_MX:
			off = 2;
			break;
		case FE_T_SRV:
			off = 6;
			break;
		default:
			continue;
		}
		size_t iter = 0;
		const uint8_t *rdata;
		uint16_t rdlen;
		bool is_sig;
		while (fe_store_rrset_next(&it->rs, &iter, &rdata, &rdlen, &is_sig) && !is_sig) {
			if (rdlen <= off + 1 || !rdata_name_ok(rdata + off, rdlen - off))
				continue; /* malformed, or "." (RFC 2782: no service) */
			add_glue(a, it->zone, rdata + off);
		}
	}
}

/* ---- emission --------------------------------------------------------------------- */

/* Write the RRs (or, with @sigs, the RRSIGs) of one item; all or nothing. */
static bool put_item(struct fe_wire_builder *b, const struct fe__item *it, bool sigs)
{
	size_t mark = fe_wire_builder_mark(b);
	uint16_t count[3] = {b->count[0], b->count[1], b->count[2]};
	bool want_sigs = sigs || (it->flags & FE__IT_SIGS_ONLY);
	size_t iter = 0;
	const uint8_t *rdata;
	uint16_t rdlen;
	bool is_sig;

	while (fe_store_rrset_next(&it->rs, &iter, &rdata, &rdlen, &is_sig)) {
		if (is_sig != want_sigs)
			continue;
		if ((it->flags & FE__IT_LINT) &&
		    (is_sig || fe_wire_naptr_lint(it->lint_owner, rdata, rdlen)))
			continue;
		int rc = fe_wire_builder_put_rr(b, (enum fe_wire_section)it->sec, it->owner,
		                                is_sig ? FE_T_RRSIG : it->rs.type, FE_C_IN, it->ttl,
		                                rdata, rdlen);
		if (rc != FE_OK) {
			fe_wire_builder_rollback(b, mark, count);
			return false;
		}
	}
	return true;
}

/* Sections in order; per section the RRsets, then their RRSIGs (as Knot DNS 3.2 writes
 * them, so both truncate alike). When something does not fit:
 *  - answer RRset or its RRSIGs: TC=1 and stop (RFC 2181 §9, RFC 4035 §3.1.1);
 *  - authority (SOA, NSEC/NSEC3 proofs, their RRSIGs): TC=1 and stop — the denial is
 *    required data (RFC 4035 §3.1.3); Knot leaves TC clear when only the SOA fails;
 *  - additional: dropped silently, no TC (RFC 2181 §9); its RRSIGs only if all of its
 *    records fit. */
static bool emit(const struct fe__ans *a, struct fe_wire_builder *b)
{
	for (int sec = FE_SEC_ANSWER; sec <= FE_SEC_ADDITIONAL; sec++) {
		for (int pass = 0; pass < 2; pass++) {
			if (pass == 1 && !a->dnssec)
				break;
			for (unsigned i = 0; i < a->nitem; i++) {
				const struct fe__item *it = &a->item[i];
				if (it->sec != sec)
					continue;
				if (pass == 1 &&
				    (!(it->flags & FE__IT_SIGS) || (it->flags & FE__IT_SIGS_ONLY) ||
				     it->rs.sig_count == 0))
					continue;
				if (put_item(b, it, pass == 1))
					continue;
				return sec != FE_SEC_ADDITIONAL; /* true: set TC */
			}
		}
	}
	return false;
}

/* ---- entry point ------------------------------------------------------------------ */

static void count_rcode(uint64_t *cnt, uint16_t rcode)
{
	switch (rcode) {
	case FE_RCODE_NOERROR:
		fe_counter_inc(cnt, FE_CNT_NOERROR);
		break;
	case FE_RCODE_NXDOMAIN:
		fe_counter_inc(cnt, FE_CNT_NXDOMAIN);
		break;
	case FE_RCODE_SERVFAIL:
		fe_counter_inc(cnt, FE_CNT_SERVFAIL);
		break;
	case FE_RCODE_REFUSED:
		fe_counter_inc(cnt, FE_CNT_REFUSED);
		break;
	case FE_RCODE_FORMERR:
		fe_counter_inc(cnt, FE_CNT_FORMERR);
		break;
	case FE_RCODE_NOTIMP:
		fe_counter_inc(cnt, FE_CNT_NOTIMP);
		break;
	case FE_RCODE_BADVERS:
		fe_counter_inc(cnt, FE_CNT_BADVERS);
		break;
	default:
		break;
	}
}

/* Policy on the question itself, before any lookup. 0: go on; else the rcode. */
static uint16_t screen_query(const struct fe_wire_query *q, const struct fe_answer_opts *opts,
                             unsigned flags)
{
	if (q->opcode != FE_OP_QUERY)
		return FE_RCODE_NOTIMP;
	/* TSIG keys belong to the pipeline's TSIG step (server.h); without one, NOTAUTH. */
	if (q->has_tsig && !(flags & FE_ANSWER_TSIG_CHECKED))
		return FE_RCODE_NOTAUTH;
	if (q->qclass != FE_C_IN)
		return FE_RCODE_REFUSED;
	switch (q->qtype) {
	case FE_T_AXFR:
	case FE_T_IXFR:
		return FE_RCODE_REFUSED; /* no transfers out yet, over UDP or TCP */
	case FE_T_OPT:
	case FE_T_TSIG:
	case FE_T_TKEY:
		return FE_RCODE_FORMERR; /* RFC 6891 §6.1.1, RFC 8945 §4.2: not a question */
	case FE_T_MAILA:
	case FE_T_MAILB:
		return FE_RCODE_NOTIMP;
	case FE_T_ANY:
		return opts && opts->refuse_any ? FE_RCODE_REFUSED : 0;
	default:
		return 0;
	}
}

size_t fe_answer(struct fe_answer_ctx *ctx, const uint8_t *req, size_t req_len,
                 enum fe_transport transport, uint8_t *resp, size_t resp_cap)
{
	struct fe_wire_query q;
	enum fe_wire_verdict v = fe_wire_query_parse(req, req_len, &q);
	return fe_answer_parsed(ctx, req, req_len, v, &q, 0, transport, resp, resp_cap);
}

size_t fe_answer_parsed(struct fe_answer_ctx *ctx, const uint8_t *req, size_t req_len,
                        enum fe_wire_verdict v, const struct fe_wire_query *q, unsigned flags,
                        enum fe_transport transport, uint8_t *resp, size_t resp_cap)
{
	uint64_t *cnt = ctx->counters;
	uint16_t rcode = FE_RCODE_NOERROR;
	size_t len;

	ctx->unheld_cut = 0;
	fe_counter_inc(cnt, FE_CNT_QUERIES);
	fe_counter_inc(cnt, transport == FE_TRANSPORT_TCP ? FE_CNT_TCP : FE_CNT_UDP);

	switch (v) {
	case FE_WIRE_OK:
		break;
	case FE_WIRE_DROP:
		fe_counter_inc(cnt, FE_CNT_DROPPED);
		return 0;
	case FE_WIRE_NOTIMP:
		rcode = FE_RCODE_NOTIMP;
		goto out_error;
	case FE_WIRE_BADVERS:
		rcode = FE_RCODE_BADVERS;
		goto out_error;
	case FE_WIRE_FORMERR:
	default:
		rcode = FE_RCODE_FORMERR;
		goto out_error;
	}
	rcode = screen_query(q, ctx->opts, flags);
	if (rcode != 0)
		goto out_error;

	uint16_t udp_max =
	        ctx->opts && ctx->opts->udp_max ? ctx->opts->udp_max : FE_WIRE_UDP_DEFAULT;
	size_t cap =
	        transport == FE_TRANSPORT_TCP ? FE_WIRE_MSG_MAX : fe_wire_udp_limit(q, udp_max);
	cap = FE_MIN(cap, resp_cap);

	struct fe__ans a;
	a.ctx = ctx;
	a.q = q;
	a.qtype = q->qtype;
	a.dnssec = q->has_edns && q->edns_do;
	a.store_error = false;
	a.trust = ctx->opts && ctx->opts->require_validated;
	a.lint = false;
	a.ede = -1;
	a.now_s = a.trust ? fe_time_wall_s() : 0;
	a.nitem = 0;
	a.items_full = false;
	a.nwild = 0;
	a.nsyn = 0;
	a.cnames = 0;
	a.outcome = FE__OUT_HIT;

	resolve(&a);
	if (a.outcome == FE__OUT_REFUSED) {
		fe_counter_inc(cnt, FE_CNT_OUT_OF_ZONE);
		rcode = FE_RCODE_REFUSED;
		goto out_error;
	}
	if (a.outcome == FE__OUT_NODATA || a.outcome == FE__OUT_NXDOMAIN)
		add_negative_soa(&a);
	if (a.dnssec && !a.store_error)
		fe__ans_prove(&a);
	if (!a.store_error)
		add_additional(&a);
	if (a.store_error) {
		fe_counter_inc(cnt, FE_CNT_STORE_ERRORS);
		rcode = FE_RCODE_SERVFAIL;
		goto out_error;
	}
	struct fe_wire_builder b;
	if (a.outcome == FE__OUT_SERVFAIL) {
		rcode = FE_RCODE_SERVFAIL;
		if (a.ede < 0 || !q->has_edns)
			goto out_error;
		/* The same answer as fe_wire_error_response, with the reason as an EDE. */
		fe_wire_builder_init(&b, resp, cap, q);
		fe_wire_builder_set_rcode(&b, rcode);
		fe_wire_builder_add_ede(&b, (uint16_t)a.ede);
		len = fe_wire_builder_finish(&b, q, udp_max);
		count_rcode(cnt, rcode);
		return len;
	}

	fe_wire_builder_init(&b, resp, cap, q);
	rcode = a.outcome == FE__OUT_NXDOMAIN   ? FE_RCODE_NXDOMAIN
	        : a.outcome == FE__OUT_YXDOMAIN ? FE_RCODE_YXDOMAIN
	                                        : FE_RCODE_NOERROR;
	fe_wire_builder_set_rcode(&b, rcode);
	/* Every RRset here comes from zones that are validated and unexpired (find_zone,
	 * zone_expired). RFC 6840 §5.7: AD=1 when the query asked with DO or AD. */
	if (a.trust && !a.lint && (a.dnssec || (q->flags & FE_F_AD)))
		fe_wire_builder_set_flags(&b, FE_F_AD);
	if (a.lint)
		fe_wire_builder_add_ede(&b, FE_EDE_FILTERED);
	if (emit(&a, &b)) {
		fe_wire_builder_set_flags(&b, FE_F_TC);
		fe_counter_inc(cnt, FE_CNT_TRUNCATED);
	}
	len = fe_wire_builder_finish(&b, q, udp_max);
	count_rcode(cnt, rcode);
	return len;

out_error:
	len = fe_wire_error_response(req, req_len, q, rcode, resp, resp_cap);
	if (len == 0)
		fe_counter_inc(cnt, FE_CNT_DROPPED);
	else
		count_rcode(cnt, rcode);
	return len;
}
