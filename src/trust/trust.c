/* Federation trust: loads through the chain of trust and the sweep that re-checks every
 * stored zone's chain (include/fedenum/trust.h).
 *
 * Where a zone's trust comes from (RFC 4035 §5: a chain of DS → DNSKEY links down from a
 * trust anchor): its own anchor, else the DS RRset at its apex in the closest enclosing
 * zone held in the store. That parent must be validated, not bogus and not expired; its DS
 * RRset is read from its current version, whose RRSIGs were all verified when the version
 * was stored (fe_dnssec_validate checks every authoritative RRset, DS at cuts
 * included, RFC 4035 §2.4). */
#include "trust_int.h"

#include <ldns/ldns.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *fe_trust_state_str(uint32_t state)
{
	switch (state) {
	case FE_TRUST_SECURE:
		return "secure";
	case FE_TRUST_BOGUS:
		return "bogus";
	case FE_TRUST_REJECTED:
		return "rejected";
	case FE_TRUST_UNCHECKED:
		return "unchecked";
	default:
		return "none";
	}
}

/* snprintf for messages that may be cut short on purpose (names in reasons are bounded by
 * the status record's fields, not by the longest possible name). */
void fe__trust_say(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
}

size_t fe_trust_status(struct fe_store *st, const uint8_t *apex, size_t apex_len, char *buf,
                       size_t cap)
{
	struct fe_trust_zstate zs;
	char ts[32];
	int n;
	if (fe_trust_zstate_get(st, apex, apex_len, &zs) != FE_OK) {
		n = snprintf(buf, cap, "-");
		return n > 0 ? (size_t)n : 0;
	}
	const char *state = fe_trust_state_str(zs.state);
	bool newer_failure = zs.failed_at_s != 0 && zs.failed_at_s >= zs.validated_at_s;
	fe_time_str(zs.failed_at_s, ts, sizeof(ts));
	switch (zs.state) {
	case FE_TRUST_SECURE:
		if (newer_failure)
			n = snprintf(
			        buf, cap, "secure (%s, key %u/%u); rejected serial %u at %s: %s",
			        zs.trust, zs.key_tag, zs.key_alg, zs.failed_serial, ts, zs.reason);
		else
			n = snprintf(buf, cap, "secure (%s, key %u/%u)", zs.trust, zs.key_tag,
			             zs.key_alg);
		break;
	case FE_TRUST_BOGUS:
	case FE_TRUST_REJECTED:
		n = snprintf(buf, cap, "%s since %s: %s", state, ts, zs.reason);
		break;
	default:
		n = snprintf(buf, cap, "%s", state);
		break;
	}
	return n > 0 ? (size_t)n : 0;
}

/* ---- the trust of one apex -------------------------------------------------------- */

/* Key of the parent of the name with key @key (@klen bytes): the key without its last label
 * (keys list labels from the rightmost, each ended by 0x00). 0 for a top-level name. */
static size_t parent_key_len(const uint8_t *key, size_t klen)
{
	if (klen < 2)
		return 0;
	for (size_t i = klen - 1; i > 0; i--)
		if (key[i - 1] == 0)
			return i;
	return 0;
}

static void ds_list_str(const struct fe_dnssec_rdata *ds, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n && o + 24 < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%sDS %u/%u/%u", i ? ", " : "",
		                      fe_get_be16(ds[i].data), ds[i].data[2], ds[i].data[3]);
}

/* Find the trust of @apex (wire name, key @key) over an open snapshot @r. FE_OK and @c
 * filled, or FE_EVALIDATE with the reason in @why. A parent whose chain expiry has passed
 * gives no trust to a new version; with @expired_ok (the sweep) it still vouches for what
 * is stored, whose chain expiry then lies in the past too (so it is answered as expired,
 * EDE 7, rather than as bogus). */
static int find_chain(struct fe_store_reader *r, const struct fe_trust_anchors *anchors,
                      const uint8_t *apex, size_t apex_len, const uint8_t *key, size_t klen,
                      int64_t now, bool expired_ok, struct fe__trust_chain *c, char *why,
                      size_t why_cap)
{
	char aname[1100], pname[1100];
	memset(&c->trust, 0, sizeof(c->trust));
	c->parent_expire_s = 0;
	fe_wire_name_to_str(apex, aname, sizeof(aname));
	if (fe_trust_anchors_for(anchors, apex, apex_len, &c->trust)) {
		fe__trust_say(c->from, sizeof(c->from), "trust anchor");
		return FE_OK;
	}
	const struct fe_store_zone_rec *p;
	size_t pk = parent_key_len(key, klen);
	int rc = pk ? fe_store_find_zone(r, key, pk, &p) : FE_ENOENT;
	if (rc == FE_ENOENT) {
		fe__trust_say(
		        why, why_cap,
		        "%s: no trust anchor for %s and no zone above it is held: no chain of "
		        "trust",
		        aname, aname);
		return FE_EVALIDATE;
	}
	if (rc != FE_OK) {
		fe__trust_say(why, why_cap, "%s: store: %s", aname, fe_strerror(rc));
		return rc;
	}
	fe_wire_name_to_str(p->apex, pname, sizeof(pname));
	fe__trust_say(c->from, sizeof(c->from), "DS in %s", pname);
	if (!(p->flags & FE_ZONE_VALIDATED) || (p->flags & FE_ZONE_BOGUS)) {
		fe__trust_say(why, why_cap, "%s: its parent zone %s is %s: no chain of trust",
		              aname, pname, (p->flags & FE_ZONE_BOGUS) ? "bogus" : "not validated");
		return FE_EVALIDATE;
	}
	if (!expired_ok && p->sig_expire_s != 0 && p->sig_expire_s <= now) {
		char ts[32];
		fe_time_str(p->sig_expire_s, ts, sizeof(ts));
		fe__trust_say(
		        why, why_cap,
		        "%s: its parent zone %s has expired signatures (%s): no chain of trust",
		        aname, pname, ts);
		return FE_EVALIDATE;
	}
	struct fe_store_node node;
	rc = fe_store_get_node(r, p, key, klen, &node);
	if (rc == FE_ENOENT || (rc == FE_OK && !(node.flags & FE_NODE_DELEG))) {
		fe__trust_say(
		        why, why_cap,
		        "%s: DS at %s: %s does not delegate %s (no NS there): no member was given "
		        "this name",
		        aname, aname, pname, aname);
		return FE_EVALIDATE;
	}
	if (rc != FE_OK) {
		fe__trust_say(why, why_cap, "%s: store: %s", aname, fe_strerror(rc));
		return rc;
	}
	if (node.flags & FE_NODE_OCCLUDED) {
		fe__trust_say(why, why_cap,
		              "%s: DS at %s: the name lies below another delegation of %s, whose "
		              "holder alone may publish it",
		              aname, aname, pname);
		return FE_EVALIDATE;
	}
	struct fe_store_rrset rs;
	size_t n = 0, used = 0, iter = 0;
	const uint8_t *rd;
	uint16_t rdlen;
	bool is_sig;
	if (fe_store_node_find(&node, FE_T_DS, &rs)) {
		while (n < MAX_DS && fe_store_rrset_next(&rs, &iter, &rd, &rdlen, &is_sig)) {
			if (is_sig || rdlen < 4 || rdlen > 4 + 64)
				continue;
			memcpy(c->ds_buf + used, rd, rdlen);
			c->ds[n].data = c->ds_buf + used;
			c->ds[n].len = rdlen;
			used += rdlen;
			n++;
		}
	}
	if (n == 0) {
		fe__trust_say(why, why_cap,
		              "%s: DS at %s: the delegation in %s has no DS (insecure): federation "
		              "zones must chain to the registry's keys",
		              aname, aname, pname);
		return FE_EVALIDATE;
	}
	c->trust.ds = c->ds;
	c->trust.ds_count = n;
	c->parent_expire_s = p->sig_expire_s;
	return FE_OK;
}

/* find_chain over a snapshot of its own, for a new version of @apex. */
int fe__trust_chain_now(struct fe_store *st, const struct fe_trust_anchors *anchors,
                        const uint8_t *apex, size_t apex_len, const uint8_t *key, size_t klen,
                        int64_t now, struct fe__trust_chain *c, struct fe_zone_error *err)
{
	struct fe_store_reader *r = NULL;
	int rc = fe_store_reader_create(st, &r);
	if (rc == FE_OK)
		rc = fe_store_reader_begin(r);
	if (rc == FE_OK) {
		rc = find_chain(r, anchors, apex, apex_len, key, klen, now, false, c, err->reason,
		                sizeof(err->reason));
		fe_store_reader_end(r);
	} else {
		char name[1100];
		fe_wire_name_to_str(apex, name, sizeof(name));
		fe_zone_error_set(err, NULL, 0, "%s: store: %s", name, fe_strerror(rc));
	}
	fe_store_reader_destroy(r);
	return rc;
}

int64_t fe__trust_chain_expiry(int64_t own, int64_t parent)
{
	if (parent == 0)
		return own;
	if (own == 0)
		return parent;
	return FE_MIN(own, parent);
}

/* ---- the chain of a STORED version --------------------------------------------------- */

/* Does the apex DNSKEY RRset of stored version @zone chain to @t? Every RRSIG over that
 * RRset was verified when the version was stored (fe_dnssec_validate, phase 1), so
 * what is left is: a zone key (not revoked) matching @t, the only key of the set with its
 * key tag and algorithm (so the verified RRSIG naming them is its signature), and such an
 * RRSIG. Time is not checked here: the record's chain expiry (sig_expire_s) is at or before
 * every validated RRSIG's expiration, and the answer engine stops serving at it with its own
 * reason (EDE 7, not "bogus"). FE_OK, FE_EVALIDATE (@why), or a store error. */
static int stored_chain_ok(struct fe_store_reader *r, const struct fe_store_zone_rec *zone,
                           const struct fe_dnssec_trust *t, char *why, size_t why_cap)
{
	uint8_t key[FE_WIRE_KEY_MAX];
	char aname[1100], tstr[256];
	struct fe_store_node apex;
	struct fe_store_rrset rs;

	fe_wire_name_to_str(zone->apex, aname, sizeof(aname));
	int klen = fe_wire_name_key(zone->apex, zone->apex_len, key, sizeof(key));
	if (klen < 0)
		return FE_EFORMAT;
	int rc = fe_store_get_node(r, zone, key, (size_t)klen, &apex);
	if (rc != FE_OK) {
		fe__trust_say(why, why_cap, "%s: store: apex: %s", aname, fe_strerror(rc));
		return rc == FE_ENOENT ? FE_EVALIDATE : rc;
	}
	if (!fe_store_node_find(&apex, FE_T_DNSKEY, &rs)) {
		fe__trust_say(why, why_cap, "%s: DNSKEY at %s: none stored", aname, aname);
		return FE_EVALIDATE;
	}
	const uint8_t *rd, *krd;
	uint16_t rdlen, krdlen;
	bool is_sig, ksig;
	size_t iter = 0;
	while (fe_store_rrset_next(&rs, &iter, &krd, &krdlen, &ksig)) {
		if (ksig || krdlen < 4)
			continue;
		uint16_t flags = fe_get_be16(krd);
		if (!(flags & 0x0100u) || (flags & 0x0080u) || krd[2] != 3)
			continue; /* RFC 4034 §2.1.1, RFC 5011 §2.1 */
		uint16_t tag = fe_dnssec_key_tag(krd, krdlen);
		if (!fe_dnssec_trust_matches(t, zone->apex, zone->apex_len, krd, krdlen, tag))
			continue;
		/* the same (tag, algorithm) twice: the stored RRSIG cannot be attributed */
		size_t same = 0, it2 = 0;
		while (fe_store_rrset_next(&rs, &it2, &rd, &rdlen, &is_sig))
			if (!is_sig && rdlen >= 4 && rd[3] == krd[3] &&
			    fe_dnssec_key_tag(rd, rdlen) == tag)
				same++;
		if (same != 1)
			continue;
		it2 = 0;
		while (fe_store_rrset_next(&rs, &it2, &rd, &rdlen, &is_sig)) {
			if (!is_sig || rdlen < 18 || rd[2] != krd[3] || fe_get_be16(rd + 16) != tag)
				continue;
			int sl = fe_wire_name_len(rd + 18, rdlen - 18u);
			if (sl >= 0 && fe_wire_name_eq(rd + 18, zone->apex))
				return FE_OK;
		}
	}
	tstr[0] = '\0';
	if (t->ds_count)
		ds_list_str(t->ds, t->ds_count, tstr, sizeof(tstr));
	fe__trust_say(
	        why, why_cap,
	        "%s: DNSKEY at %s: no key of the stored version (serial %u) matches the trust "
	        "(%s%s) and signs the DNSKEY RRset",
	        aname, aname, zone->serial, t->ds_count ? tstr : "anchor DNSKEY",
	        t->ds_count ? "" : "s");
	return FE_EVALIDATE;
}

/* ---- zstate bookkeeping ------------------------------------------------------------ */

void fe__trust_zs_load(struct fe_store *st, const uint8_t *apex, size_t apex_len,
                       struct fe_trust_zstate *zs)
{
	if (fe_trust_zstate_get(st, apex, apex_len, zs) != FE_OK)
		memset(zs, 0, sizeof(*zs));
}

void fe__trust_zs_save(struct fe_store *st, const uint8_t *apex, size_t apex_len,
                       const struct fe_trust_zstate *zs)
{
	int rc = fe_trust_zstate_put(st, apex, apex_len, zs);
	if (rc != FE_OK && rc != FE_EPERM) {
		char name[1100];
		fe_wire_name_to_str(apex, name, sizeof(name));
		fe_log_warn("trust: zone %s: cannot keep its validation state: %s", name,
		            fe_strerror(rc));
	}
}

void fe__trust_note_failure(struct fe_store *st, const uint8_t *apex, size_t apex_len,
                            uint32_t serial, int64_t now, bool stored, const char *reason)
{
	struct fe_trust_zstate zs;
	fe__trust_zs_load(st, apex, apex_len, &zs);
	if (!stored)
		zs.state = FE_TRUST_REJECTED;
	zs.failed_serial = serial;
	zs.failed_at_s = now;
	zs.checked_at_s = now;
	zs.failures++;
	fe__trust_say(zs.reason, sizeof(zs.reason), "%s", reason);
	fe__trust_zs_save(st, apex, apex_len, &zs);
}

/* ---- load ----------------------------------------------------------------------------- */

/* Presentation name → wire name (ldns does the escapes). */
static bool apex_wire(const char *apex, uint8_t *out, size_t *len)
{
	ldns_rdf *dn = NULL;
	bool ok = ldns_str2rdf_dname(&dn, apex) == LDNS_STATUS_OK &&
	          ldns_rdf_size(dn) <= FE_WIRE_NAME_MAX && ldns_rdf_size(dn) >= 2;
	if (ok) {
		*len = ldns_rdf_size(dn);
		memcpy(out, ldns_rdf_data(dn), *len);
	}
	ldns_rdf_deep_free(dn);
	return ok;
}

/* The current record of @apex (copied), if any. */
int fe__trust_current_rec(struct fe_store *st, const uint8_t *key, size_t klen,
                          struct fe_store_zone_rec *out, bool *found)
{
	struct fe_store_reader *r = NULL;
	const struct fe_store_zone_rec *z;
	*found = false;
	int rc = fe_store_reader_create(st, &r);
	if (rc == FE_OK)
		rc = fe_store_reader_begin(r);
	if (rc == FE_OK) {
		rc = fe_store_get_zone(r, key, klen, &z);
		if (rc == FE_OK) {
			*out = *z;
			*found = true;
		} else if (rc == FE_ENOENT) {
			rc = FE_OK;
		}
		fe_store_reader_end(r);
	}
	fe_store_reader_destroy(r);
	return rc;
}

bool fe__trust_served(const struct fe_store_zone_rec *z, int64_t now)
{
	return (z->flags & FE_ZONE_VALIDATED) && !(z->flags & FE_ZONE_BOGUS) &&
	       (z->sig_expire_s == 0 || z->sig_expire_s > now);
}

/* fe_trust_load after the parse (and fe_trust_commit_zone): @z borrowed; @path names the
 * source in errors. */
static int load_parsed(struct fe_trust *t, struct fe_zone *z, const char *path,
                       const struct fe_trust_opts *topts, struct fe_store *st,
                       struct fe_trust_result *res, struct fe_zone_error *err, int64_t now)
{
	struct fe_store_zone_rec cur;
	struct fe__trust_chain *c = NULL;
	bool have_cur = false;
	int rc;
	size_t apex_len, key_len;
	const uint8_t *apex = fe_zone_apex(z, &apex_len);
	const uint8_t *key = fe_zone_apex_key(z, &key_len);
	const char *apex_str = fe_zone_apex_str(z);
	uint32_t serial = fe_zone_serial(z);
	fe__trust_say(res->apex, sizeof(res->apex), "%s", apex_str);
	res->serial = serial;

	rc = fe__trust_current_rec(st, key, key_len, &cur, &have_cur);
	if (rc != FE_OK) {
		fe_zone_error_set(err, path, 0, "%s: store: %s", apex_str, fe_strerror(rc));
		goto out;
	}
	res->has_previous = have_cur;
	res->previous_serial = have_cur ? cur.serial : 0;
	res->previous_served = have_cur && fe__trust_served(&cur, now);

	rc = fe_zone_validate(z, err);
	if (rc != FE_OK)
		goto out_failed;

	if (have_cur) {
		/* The replacement policy as if validated (it will be, or it is not stored):
		 * same serial and content is a no-op, a serial that does not move forward is
		 * refused before any signature is verified. */
		rc = fe_zone_replace_check(z, &cur, true, err);
		if (rc == FE_EEXIST) {
			uint64_t size;
			int64_t mtime_ns;
			fe_zone_source(z, &size, &mtime_ns);
			if (!topts->dry_run)
				fe_store_zone_set_source(st, apex, apex_len, cur.version, size,
				                         mtime_ns);
			res->outcome = FE_TRUST_UNCHANGED;
			rc = FE_OK;
			goto out;
		}
		if (rc != FE_OK) {
			fe__trust_say(err->file, sizeof(err->file), "%s", path);
			err->line = 0;
			goto out_failed;
		}
	}

	c = malloc(sizeof(*c));
	if (c == NULL) {
		rc = FE_ENOMEM;
		goto out;
	}
	rc = fe__trust_chain_now(st, topts->anchors, apex, apex_len, key, key_len, now, c, err);
	if (rc != FE_OK) {
		fe__trust_say(err->file, sizeof(err->file), "%s", path);
		err->line = 0;
		goto out_failed;
	}
	fe__trust_say(res->trust, sizeof(res->trust), "%s", c->from);

	struct fe_dnssec_opts vo = topts->validate;
	vo.now_s = now;
	struct fe_dnssec_sigcache *known = fe__trust_cache_take(t, key, key_len);
	vo.known = known;
	/* NULL: validate without keeping what it proves */
	vo.learn = t ? fe_dnssec_sigcache_create() : NULL;
	rc = fe_dnssec_validate(z, &c->trust, &vo, &res->rep, err);
	if (rc != FE_OK) {
		fe_dnssec_sigcache_destroy(vo.learn);
		/* the previous version's proofs stay valid for a later, corrected version */
		if (known != NULL)
			fe__trust_cache_put(t, key, key_len, known);
		goto out_failed;
	}
	fe_dnssec_sigcache_destroy(known);
	if (vo.learn != NULL)
		fe__trust_cache_put(t, key, key_len, vo.learn);

	int64_t own =
	        res->rep.earliest_expiry_s ? res->rep.earliest_expiry_s : fe_zone_sig_expire_s(z);
	res->expire_s = fe__trust_chain_expiry(own, c->parent_expire_s);
	fe_zone_set_validated(z, res->expire_s);

	if (topts->dry_run) {
		res->outcome = FE_TRUST_LOADED;
		goto out;
	}
	rc = fe_zone_commit(z, st, err);
	if (rc == FE_EEXIST) {
		/* A writer elsewhere stored this serial meanwhile: leave it to the sweep. */
		res->outcome = FE_TRUST_UNCHANGED;
		rc = FE_OK;
		goto out;
	}
	if (rc != FE_OK)
		goto out;

	struct fe_trust_zstate zs;
	fe__trust_zs_load(st, apex, apex_len, &zs);
	zs.state = FE_TRUST_SECURE;
	zs.serial = serial;
	zs.key_tag = res->rep.trusted_key_tag;
	zs.key_alg = res->rep.trusted_key_alg;
	zs.checked_at_s = now;
	zs.validated_at_s = now;
	zs.own_expire_s = own;
	zs.validations++;
	fe__trust_say(zs.trust, sizeof(zs.trust), "%s", c->from);
	fe__trust_zs_save(st, apex, apex_len, &zs);
	res->outcome = FE_TRUST_LOADED;
	goto out;

out_failed:
	if (rc != FE_ENOMEM && !topts->dry_run) {
		char reason[sizeof(err->reason) + 300];
		if (err->line)
			fe__trust_say(reason, sizeof(reason), "serial %u: %s:%lu: %s", serial,
			              err->file, err->line, err->reason);
		else
			fe__trust_say(reason, sizeof(reason), "serial %u: %s", serial, err->reason);
		fe__trust_note_failure(st, apex, apex_len, serial, now, have_cur, reason);
	}
out:
	free(c);
	return rc;
}

int fe_trust_load(struct fe_trust *t, const char *path, const struct fe_zone_opts *zopts,
                  const struct fe_trust_opts *topts, struct fe_store *st,
                  struct fe_trust_result *res, struct fe_zone_error *err)
{
	struct fe_trust_result local;
	struct fe_zone_error lerr;
	struct fe_store_zone_rec cur;
	struct fe_zone *z = NULL;
	bool have_cur = false;
	int rc;

	if (res == NULL)
		res = &local;
	if (err == NULL)
		err = &lerr;
	memset(res, 0, sizeof(*res));
	memset(err, 0, sizeof(*err));
	if (topts == NULL || fe_trust_anchors_count(topts->anchors) == 0)
		return FE_EINVAL;
	int64_t now = topts->validate.now_s ? topts->validate.now_s : fe_time_wall_s();

	/* The serial is current and was validated when stored: nothing to parse (the sweep
	 * re-checks the stored version's chain). */
	{
		char apex[1100];
		uint32_t serial;
		uint8_t w[FE_WIRE_NAME_MAX], key[FE_WIRE_KEY_MAX];
		size_t wl;
		struct fe_zone_error perr;
		memset(&perr, 0, sizeof(perr));
		if (fe_zone_peek_soa(path, apex, sizeof(apex), &serial, &perr) == FE_OK &&
		    apex_wire(apex, w, &wl)) {
			int kl = fe_wire_name_key(w, wl, key, sizeof(key));
			/* ... and the file is the one it was stored from (size and mtime): an
			 * edited file with an unchanged serial is parsed, and refused if it
			 * differs. */
			if (kl > 0 &&
			    fe__trust_current_rec(st, key, (size_t)kl, &cur, &have_cur) == FE_OK &&
			    have_cur && cur.serial == serial && (cur.flags & FE_ZONE_VALIDATED) &&
			    fe_zone_file_matches(path, cur.src_size, cur.src_mtime_ns)) {
				fe__trust_say(res->apex, sizeof(res->apex), "%s", apex);
				res->serial = serial;
				res->has_previous = true;
				res->previous_serial = serial;
				res->previous_served = fe__trust_served(&cur, now);
				res->outcome = FE_TRUST_UNCHANGED;
				return FE_OK;
			}
			have_cur = false;
		}
	}

	rc = fe_zone_parse_file(path, zopts, &z, err);
	if (rc != FE_OK) {
		/* Keep the failure where the operator looks, if the apex can be told. */
		char apex[1100];
		uint8_t wire[FE_WIRE_NAME_MAX];
		struct fe_zone_error perr;
		memset(&perr, 0, sizeof(perr));
		size_t wl;
		if (fe_zone_peek_apex(path, apex, sizeof(apex), &perr) == FE_OK) {
			fe__trust_say(res->apex, sizeof(res->apex), "%s", apex);
			if (apex_wire(apex, wire, &wl)) {
				uint8_t key[FE_WIRE_KEY_MAX];
				int kl = fe_wire_name_key(wire, wl, key, sizeof(key));
				bool found = false;
				if (kl > 0 && fe__trust_current_rec(st, key, (size_t)kl, &cur,
				                                    &found) == FE_OK) {
					char reason[sizeof(err->reason) + 300];
					fe__trust_say(reason, sizeof(reason), "%s:%lu: %s",
					              err->file[0] ? err->file : path, err->line,
					              err->reason[0] ? err->reason
					                             : fe_strerror(rc));
					if (!topts->dry_run)
						fe__trust_note_failure(st, wire, wl, 0, now, found,
						                       reason);
					res->has_previous = found;
					res->previous_serial = found ? cur.serial : 0;
					res->previous_served = found && fe__trust_served(&cur, now);
				}
			}
		}
		return rc;
	}
	rc = load_parsed(t, z, path, topts, st, res, err, now);
	fe_zone_free(z);
	return rc;
}

int fe_trust_commit_zone(struct fe_trust *t, struct fe_zone *z, const char *what,
                         const struct fe_trust_opts *topts, struct fe_store *st,
                         struct fe_trust_result *res, struct fe_zone_error *err)
{
	struct fe_trust_result local;
	struct fe_zone_error lerr;
	if (res == NULL)
		res = &local;
	if (err == NULL)
		err = &lerr;
	memset(res, 0, sizeof(*res));
	memset(err, 0, sizeof(*err));
	if (z == NULL || topts == NULL || fe_trust_anchors_count(topts->anchors) == 0)
		return FE_EINVAL;
	int64_t now = topts->validate.now_s ? topts->validate.now_s : fe_time_wall_s();
	return load_parsed(t, z, what, topts, st, res, err, now);
}

/* ---- sweep ------------------------------------------------------------------------ */

struct zref {
	uint8_t apex[FE_WIRE_NAME_MAX];
	uint8_t apex_len;
	uint8_t labels;
};

struct collect {
	struct zref *z;
	size_t n, cap;
	bool oom;
};

static bool collect_cb(const struct fe_store_zone_rec *zone, void *arg)
{
	struct collect *c = arg;
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 16;
		struct zref *nz = realloc(c->z, nc * sizeof(*nz));
		if (nz == NULL) {
			c->oom = true;
			return false;
		}
		c->z = nz;
		c->cap = nc;
	}
	struct zref *z = &c->z[c->n++];
	z->apex_len = zone->apex_len;
	memcpy(z->apex, zone->apex, zone->apex_len);
	z->labels = zone->apex_labels;
	return true;
}

static int by_depth(const void *pa, const void *pb)
{
	const struct zref *a = pa, *b = pb;
	return (a->labels > b->labels) - (a->labels < b->labels);
}

/* Check one zone; the snapshot @r is open. */
static int sweep_one(struct fe_store *st, struct fe_store_reader *r,
                     const struct fe_trust_anchors *anchors, const struct zref *zr, int64_t now,
                     struct fe_trust_sweep_report *rep)
{
	uint8_t key[FE_WIRE_KEY_MAX];
	const struct fe_store_zone_rec *zp;
	char why[700], name[1100];
	struct fe_trust_zstate zs;

	int klen = fe_wire_name_key(zr->apex, zr->apex_len, key, sizeof(key));
	if (klen <= 0)
		return FE_OK;
	int rc = fe_store_get_zone(r, key, (size_t)klen, &zp);
	if (rc == FE_ENOENT)
		return FE_OK; /* dropped meanwhile */
	if (rc != FE_OK)
		return rc;
	struct fe_store_zone_rec z = *zp;
	rep->zones++;
	fe_wire_name_to_str(z.apex, name, sizeof(name));
	fe__trust_zs_load(st, z.apex, z.apex_len, &zs);

	if (!(z.flags & FE_ZONE_VALIDATED)) {
		rep->unchecked++;
		if (zs.state != FE_TRUST_UNCHECKED) {
			fe_log_warn("trust: zone %s serial %u is stored without validation: not "
			            "served while trust anchors are configured (load it again "
			            "through fedenumd)",
			            name, z.serial);
			zs.state = FE_TRUST_UNCHECKED;
			zs.checked_at_s = now;
			fe__trust_zs_save(st, z.apex, z.apex_len, &zs);
		}
		return FE_OK;
	}

	struct fe__trust_chain *c = malloc(sizeof(*c));
	if (c == NULL)
		return FE_ENOMEM;
	why[0] = '\0';
	rc = find_chain(r, anchors, z.apex, z.apex_len, key, (size_t)klen, now, true, c, why,
	                sizeof(why));
	if (rc == FE_OK)
		rc = stored_chain_ok(r, &z, &c->trust, why, sizeof(why));
	int64_t own = zs.own_expire_s ? zs.own_expire_s : z.sig_expire_s;
	int64_t exp = fe__trust_chain_expiry(own, rc == FE_OK ? c->parent_expire_s : 0);
	char from[160];
	fe__trust_say(from, sizeof(from), "%s", c->from);
	free(c);
	if (rc != FE_OK && rc != FE_EVALIDATE)
		return rc;
	fe_store_reader_end(r); /* the marks below are write transactions */

	bool ok = rc == FE_OK;
	uint32_t set = ok ? 0 : FE_ZONE_BOGUS, clear = ok ? FE_ZONE_BOGUS : 0;
	bool was_bogus = (z.flags & FE_ZONE_BOGUS) != 0;
	if (was_bogus != !ok || (ok && z.sig_expire_s != exp)) {
		int mrc = fe_store_zone_mark(st, z.apex, z.apex_len, z.version, set, clear,
		                             ok ? exp : -1);
		if (mrc == FE_EAGAIN || mrc == FE_ENOENT)
			return FE_OK; /* a new version or a drop won the race: its own checks hold
			               */
		if (mrc != FE_OK)
			return mrc;
	}
	struct fe_trust_zstate before = zs;
	if (ok) {
		rep->secure++;
		if (was_bogus) {
			rep->restored++;
			fe_log_info("trust: zone %s serial %u is served again: its chain of trust "
			            "holds (%s)",
			            name, z.serial, from);
		}
		zs.state = FE_TRUST_SECURE;
		fe__trust_say(zs.trust, sizeof(zs.trust), "%s", from);
	} else {
		rep->bogus++;
		if (!was_bogus) {
			rep->suspended++;
			fe_log_err("trust: zone %s serial %u is not served any more: %s", name,
			           z.serial, why);
			zs.failures++;
			zs.failed_at_s = now;
			zs.failed_serial = z.serial;
			fe__trust_say(zs.reason, sizeof(zs.reason), "serial %u: %s", z.serial, why);
		}
		zs.state = FE_TRUST_BOGUS;
	}
	/* One write transaction per change, not per zone and reload. */
	if (memcmp(&before, &zs, sizeof(zs)) != 0) {
		zs.checked_at_s = now;
		fe__trust_zs_save(st, z.apex, z.apex_len, &zs);
	}
	return FE_OK;
}

int fe_trust_sweep(struct fe_store *st, const struct fe_trust_anchors *anchors, int64_t now_s,
                   struct fe_trust_sweep_report *rep)
{
	struct fe_trust_sweep_report local;
	struct collect col = {0};
	struct fe_store_reader *r = NULL;
	int64_t now = now_s ? now_s : fe_time_wall_s();
	int rc;

	if (rep == NULL)
		rep = &local;
	memset(rep, 0, sizeof(*rep));
	if ((rc = fe_store_reader_create(st, &r)) != FE_OK)
		return rc;
	if ((rc = fe_store_reader_begin(r)) == FE_OK) {
		rc = fe_store_foreach_zone(r, collect_cb, &col);
		fe_store_reader_end(r);
	}
	if (rc == FE_OK && col.oom)
		rc = FE_ENOMEM;
	if (rc == FE_OK && col.n > 0) {
		/* Parents first: a child's check reads the marks its parent just got. */
		qsort(col.z, col.n, sizeof(*col.z), by_depth);
		for (size_t i = 0; i < col.n && rc == FE_OK; i++) {
			if ((rc = fe_store_reader_begin(r)) != FE_OK)
				break;
			rc = sweep_one(st, r, anchors, &col.z[i], now, rep);
			fe_store_reader_end(r);
		}
	}
	fe_store_reader_destroy(r);
	free(col.z);
	return rc;
}
