/* The answer filters (policy.h step 2b), over the answer the engine wrote for one view:
 *  - topology hiding: under the domains of a member that designates border names, views of
 *    other members are answered only for those domains, the border names, and those names
 *    with leading `_` labels (the SRV owners of RFC 3263 §4.1); any other name, existing or
 *    not, gets REFUSED with EDE 17 (so the answer tells nothing about what exists), and RRs
 *    of such names are removed from every section of other answers;
 *  - `P-` enumservices (private, RFC 6117 §5.2 naming): NAPTRs whose service field names
 *    one are given only to views of the member whose zone holds them;
 *  - NSEC/NSEC3 records (and their RRSIGs) of other members' zones: removed for every view
 *    under a border member's domains, and in every zone for views with foreign-proofs off,
 *    so that no walk of the zone is possible through this server.
 * A changed answer is rebuilt with the wire builder from a per-thread copy: AD is cleared,
 * the RRSIGs of an RRset that lost records are removed (they no longer cover it), and the
 * answer gets EDE 17 (Filtered). A validating client that checks signatures itself sees an
 * unsigned RRset or a denial without proof: bogus by design; such clients use a view of
 * the zone's own member, or keep foreign-proofs on. An answer nothing is removed from is
 * left as it is (one pass over its RR headers). No heap. */
#include "policy_int.h"

#include "fedenum/util.h"

#include <string.h>

#define CHANGED_MAX 8 /* owners whose NAPTR RRset lost records, remembered per answer */

static _Thread_local uint8_t scratch[FE_WIRE_MSG_MAX];

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static bool eq_in(const struct pol_name *v, size_t n, int member, const uint8_t *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].member == member && v[i].len == len && memcmp(v[i].wire, name, len) == 0)
			return true;
	return false;
}

/* Topology hiding: is @name (lowercase wire, @len octets) hidden from a view of member @vm? */
static bool is_hidden(const struct fe_policy *p, int vm, const uint8_t *name, size_t len)
{
	if (!p->thig)
		return false;
	int m = fe__pol_member_of(p->domains, p->ndomains, name, len);
	if (m < 0 || m == vm || m >= 64 || !(p->thig >> m & 1u))
		return false;
	/* leading "_service._proto" labels (RFC 2782) of a visible name are visible */
	while (name[0] && name[1] == '_') {
		len -= 1u + name[0];
		name += 1u + name[0];
	}
	return !eq_in(p->domains, p->ndomains, m, name, len) &&
	       !eq_in(p->borders, p->nborders, m, name, len);
}

/* A NAPTR service field naming a private enumservice: "+P-..." (case-insensitive). */
static bool is_private_naptr(const uint8_t *rd, uint16_t rdlen)
{
	size_t off = 4;
	if (off >= rdlen || off + 1u + rd[off] > rdlen) /* flags */
		return false;
	off += 1u + rd[off];
	if (off >= rdlen || off + 1u + rd[off] > rdlen) /* service */
		return false;
	const uint8_t *s = rd + off + 1;
	size_t n = rd[off];
	for (size_t i = 0; i + 2 < n; i++)
		if (s[i] == '+' && (s[i + 1] == 'P' || s[i + 1] == 'p') && s[i + 2] == '-')
			return true;
	return false;
}

/* What the scan of one answer found. */
struct scan {
	unsigned drops;
	unsigned nchanged;
	bool changed_overflow;
	uint8_t changed_len[CHANGED_MAX];
	uint8_t changed[CHANGED_MAX][FE_WIRE_NAME_MAX];
};

struct rr {
	size_t owner_pos; /* offset of the (possibly compressed) owner */
	uint16_t type, rclass, rdlen;
	uint32_t ttl;
	size_t rdata_pos;
	int sec; /* enum fe_wire_section */
};

/* Past the name at *pos (labels up to a root label or a pointer), bounds-checked only: the
 * owner is read in full (fe_wire_name_read, every check) when a filter needs it. */
static bool skip_name(const uint8_t *m, size_t len, size_t *pos)
{
	size_t p = *pos;
	for (unsigned labels = 0; p < len && labels < 128; labels++) {
		uint8_t l = m[p];
		if (l == 0) {
			*pos = p + 1;
			return true;
		}
		if ((l & 0xC0) == 0xC0) {
			*pos = p + 2;
			return p + 2 <= len;
		}
		if (l & 0xC0)
			return false;
		p += 1u + l;
	}
	return false;
}

static bool read_rr(const uint8_t *m, size_t len, size_t *pos, struct rr *r)
{
	r->owner_pos = *pos;
	if (!skip_name(m, len, pos) || *pos + 10 > len)
		return false;
	r->type = rd16(m + *pos);
	r->rclass = rd16(m + *pos + 2);
	r->ttl = (uint32_t)rd16(m + *pos + 4) << 16 | rd16(m + *pos + 6);
	r->rdlen = rd16(m + *pos + 8);
	*pos += 10;
	if (*pos + r->rdlen > len)
		return false;
	r->rdata_pos = *pos;
	*pos += r->rdlen;
	return true;
}

/* The owner of @r, lowercase wire, into @out; its length (0: unreadable). */
static size_t owner_lc(const uint8_t *m, size_t len, const struct rr *r, uint8_t *out)
{
	uint8_t raw[FE_WIRE_NAME_MAX];
	size_t pos = r->owner_pos;
	if (fe_wire_name_read(m, len, &pos, raw) < 0)
		return 0;
	fe_wire_name_lower(raw, out);
	int l = fe_wire_name_len(out, FE_WIRE_NAME_MAX);
	return l > 0 ? (size_t)l : 0;
}

static bool is_denial(uint16_t t)
{
	return t == FE_T_NSEC || t == FE_T_NSEC3;
}

/* Does the policy remove @r from the answer to view @view? @s collects the owners whose
 * NAPTR RRset loses records (@record: the first pass, which fills it). */
static bool drop_rr(const struct fe_policy *p, int view, const uint8_t *m, size_t len,
                    const struct rr *r, struct scan *s, bool record)
{
	if (r->type == FE_T_OPT)
		return false;
	const struct pol_view *v = &p->views[view];
	int vm = v->member;
	uint16_t covered = r->type == FE_T_RRSIG && r->rdlen >= 2 ? rd16(m + r->rdata_pos) : 0;
	/* cheap tests first: most answers have nothing to remove */
	bool naptr = r->sec == FE_SEC_ANSWER && r->type == FE_T_NAPTR &&
	             is_private_naptr(m + r->rdata_pos, r->rdlen);
	bool naptr_sig = r->sec == FE_SEC_ANSWER && covered == FE_T_NAPTR &&
	                 (s->nchanged || s->changed_overflow);
	bool denial =
	        (is_denial(r->type) || is_denial(covered)) && (p->thig || v->no_foreign_proofs);
	/* an owner that points at the question name (0xC00C) was checked with it */
	bool qname_owner = r->owner_pos + 1 < len && m[r->owner_pos] == 0xC0 &&
	                   m[r->owner_pos + 1] == FE_WIRE_HDR_LEN;
	bool thig = p->thig && !qname_owner;
	if (!thig && !denial && !naptr && !naptr_sig)
		return false;
	uint8_t owner[FE_WIRE_NAME_MAX];
	size_t ol = owner_lc(m, len, r, owner);
	if (!ol)
		return true; /* unreadable: never hand out what could not be checked */
	if (thig && is_hidden(p, vm, owner, ol))
		return true;
	if (denial) {
		int dm = fe__pol_member_of(p->domains, p->ndomains, owner, ol);
		if (dm >= 0 && dm != vm && dm < 64 && (p->thig >> dm & 1u))
			return true;
		int zm = fe__pol_member_of(p->zones, p->nzones, owner, ol);
		return v->no_foreign_proofs && zm >= 0 && zm != vm;
	}
	int zm = fe__pol_member_of(p->zones, p->nzones, owner, ol);
	if (naptr) {
		if (zm == vm && vm >= 0)
			return false;
		if (record) {
			bool known = false;
			for (unsigned i = 0; i < s->nchanged && !known; i++)
				known = s->changed_len[i] == ol &&
				        memcmp(s->changed[i], owner, ol) == 0;
			if (!known && s->nchanged < CHANGED_MAX) {
				s->changed_len[s->nchanged] = (uint8_t)ol;
				memcpy(s->changed[s->nchanged++], owner, ol);
			} else if (!known) {
				s->changed_overflow = true;
			}
		}
		return true;
	}
	if (naptr_sig) {
		if (s->changed_overflow)
			return true;
		for (unsigned i = 0; i < s->nchanged; i++)
			if (s->changed_len[i] == ol && memcmp(s->changed[i], owner, ol) == 0)
				return true;
	}
	return false;
}

/* RDATA of @r with the names the builder compresses (NS, CNAME, PTR, MX, SOA: RFC 3597 §4)
 * read back uncompressed into @buf; other types as they are. False: unreadable. */
static bool plain_rdata(const uint8_t *m, size_t len, const struct rr *r, uint8_t *buf, size_t cap,
                        const uint8_t **rd, uint16_t *rdlen)
{
	unsigned skip = 0, names = 0, tail = 0;
	switch (r->type) {
	case FE_T_NS:
	case FE_T_CNAME:
	case FE_T_PTR:
		names = 1;
		break;
	case FE_T_MX:
		skip = 2;
		names = 1;
		break;
	case FE_T_SOA:
		names = 2;
		tail = 20;
		break;
	default:
		*rd = m + r->rdata_pos;
		*rdlen = r->rdlen;
		return true;
	}
	size_t end = r->rdata_pos + r->rdlen, pos = r->rdata_pos + skip, o = skip;
	if (pos > end || skip > cap)
		return false;
	memcpy(buf, m + r->rdata_pos, skip);
	for (unsigned i = 0; i < names; i++) {
		uint8_t nm[FE_WIRE_NAME_MAX];
		if (fe_wire_name_read(m, len, &pos, nm) < 0 || pos > end)
			return false;
		int nl = fe_wire_name_len(nm, FE_WIRE_NAME_MAX);
		if (nl <= 0 || o + (size_t)nl > cap)
			return false;
		memcpy(buf + o, nm, (size_t)nl);
		o += (size_t)nl;
	}
	if (pos + tail != end || o + tail > cap)
		return false;
	memcpy(buf + o, m + pos, tail);
	*rd = buf;
	*rdlen = (uint16_t)(o + tail);
	return true;
}

/* The position of the first RR after the one question, and the section counts. False: the
 * message does not parse. */
static bool first_rr(const uint8_t *m, size_t len, size_t *pos, uint16_t cnt[3])
{
	if (len < FE_WIRE_HDR_LEN || rd16(m + 4) != 1)
		return false;
	*pos = FE_WIRE_HDR_LEN;
	if (!skip_name(m, len, pos) || *pos + 4 > len)
		return false;
	*pos += 4;
	cnt[0] = rd16(m + 6);
	cnt[1] = rd16(m + 8);
	cnt[2] = rd16(m + 10);
	return true;
}

size_t fe__pol_filter(const struct fe_policy *p, int view, const uint8_t *req,
                      const struct fe_wire_query *q, uint8_t *resp, size_t len, size_t limit,
                      struct fe_policy_decision *d)
{
	if (view < 0 || (size_t)view >= p->nviews)
		return len;
	unsigned rc4 = resp[3] & 0xFu;
	if (rc4 != FE_RCODE_NOERROR && rc4 != FE_RCODE_NXDOMAIN)
		return len;
	/* only NAPTR answers can hold P- records; without topology hiding or a view that
	 * withholds proofs there is nothing else to look for */
	if (!p->thig && !p->views[view].no_foreign_proofs && q->qtype != FE_T_NAPTR &&
	    q->qtype != FE_T_ANY && q->qtype != FE_T_CNAME)
		return len;
	if (is_hidden(p, p->views[view].member, q->qname_lc, q->qname_len)) {
		d->hidden = true;
		return fe__pol_write_answer(req, q, resp, limit, FE_RCODE_REFUSED, NULL, NULL,
		                            FE_EDE_FILTERED, "topology hiding");
	}
	/* pass 1: anything to remove? */
	struct scan s;
	s.drops = 0;
	s.nchanged = 0;
	s.changed_overflow = false;
	size_t pos;
	uint16_t cnt[3];
	if (!first_rr(resp, len, &pos, cnt))
		return len;
	for (int sec = 0; sec < 3; sec++)
		for (unsigned i = 0; i < cnt[sec]; i++) {
			struct rr r;
			if (!read_rr(resp, len, &pos, &r))
				return len; /* not the engine's: leave it to the client */
			r.sec = sec;
			if (drop_rr(p, view, resp, len, &r, &s, true))
				s.drops++;
		}
	if (!s.drops)
		return len;

	/* pass 2: rebuild from a copy, without what is removed */
	memcpy(scratch, resp, len);
	const uint8_t *m = scratch;
	uint16_t old_flags = rd16(m + 2), udp = FE_WIRE_UDP_DEFAULT;
	struct fe_wire_builder b;
	fe_wire_builder_init(&b, resp, limit, q);
	fe_wire_builder_set_rcode(&b, old_flags & 0xFu);
	fe_wire_builder_set_flags(&b, old_flags & (FE_F_AA | FE_F_TC));
	fe_wire_builder_add_ede(&b, FE_EDE_FILTERED);
	first_rr(m, len, &pos, cnt);
	bool full = false;
	for (int sec = 0; sec < 3 && !full; sec++)
		for (unsigned i = 0; i < cnt[sec] && !full; i++) {
			struct rr r;
			if (!read_rr(m, len, &pos, &r))
				goto fail;
			r.sec = sec;
			if (r.type == FE_T_OPT) {
				udp = r.rclass;
				continue;
			}
			if (drop_rr(p, view, m, len, &r, &s, false))
				continue;
			uint8_t owner[FE_WIRE_NAME_MAX], rdbuf[2 * FE_WIRE_NAME_MAX + 24];
			size_t op = r.owner_pos;
			const uint8_t *rd;
			uint16_t rdlen;
			if (fe_wire_name_read(m, len, &op, owner) < 0 ||
			    !plain_rdata(m, len, &r, rdbuf, sizeof(rdbuf), &rd, &rdlen))
				goto fail;
			int rc = fe_wire_builder_put_rr(&b, (enum fe_wire_section)sec, owner,
			                                r.type, r.rclass, r.ttl, rd, rdlen);
			if (rc == FE_ENOSPC) {
				/* smaller than before: only a rebuilt compression can get here */
				if (sec != FE_SEC_ADDITIONAL)
					fe_wire_builder_set_flags(&b, FE_F_TC);
				full = true;
			} else if (rc != FE_OK) {
				goto fail;
			}
		}
	d->filtered = true;
	return fe_wire_builder_finish(&b, q, udp < 512 ? 512 : udp);
fail:
	/* what was read once reads again: not expected; never silence, never unfiltered */
	d->filtered = true;
	return fe__pol_write_answer(req, q, resp, limit, FE_RCODE_SERVFAIL, NULL, NULL,
	                            FE_EDE_OTHER, "answer filter failed");
}
