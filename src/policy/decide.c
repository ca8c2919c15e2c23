/* One decision (policy.h): the view of a client, the namespace guard, and the ENUM routing
 * decision read from the answer the engine produced, then the action written over it.
 * No heap: names are read into stack buffers, the synthesized answer is written in place. */
#include "policy_int.h"

#include "fedenum/util.h"

#include <stdio.h>
#include <string.h>

#define SYNTH_TTL_S 60u

int fe_policy_view_of(const struct fe_policy *p, const struct sockaddr *peer,
                      const uint8_t *tsig_key)
{
	return fe_policy_view_of_client(p, peer, tsig_key, NULL);
}

int fe_policy_view_of_client(const struct fe_policy *p, const struct sockaddr *peer,
                             const uint8_t *tsig_key, const char *tls_client)
{
	uint8_t lc[FE_WIRE_NAME_MAX];
	size_t klen = 0;
	if (tsig_key) {
		fe_wire_name_lower(tsig_key, lc);
		int l = fe_wire_name_len(lc, FE_WIRE_NAME_MAX);
		klen = l > 0 ? (size_t)l : 0;
	}
	for (size_t i = 0; i < p->nviews; i++) {
		const struct pol_view *v = &p->views[i];
		if (!fe_server_acl_allows(v->acl, peer))
			continue;
		if (!v->nkeys && !v->ncerts)
			return (int)i;
		for (size_t k = 0; klen && k < v->nkeys; k++)
			if (v->key_len[k] == klen && memcmp(v->key[k], lc, klen) == 0)
				return (int)i;
		for (size_t k = 0; tls_client && k < v->ncerts; k++)
			if (strcasecmp(v->cert[k], tls_client) == 0)
				return (int)i;
	}
	return -1;
}

/* ---- reading the engine's answer ------------------------------------------------------ */

/* ASCII case folding and digits, inline: <ctype.h> costs a locale lookup per character on
 * the query path (DNS names and NAPTR fields are ASCII, RFC 4343). */
static inline uint8_t ascii_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

static inline bool ascii_digit(uint8_t c)
{
	return (unsigned)(c - '0') < 10u;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Past the name at *pos of @msg without reading it: labels up to the root or a compression
 * pointer (the engine's answer names its owners by a pointer to the question). */
static bool skip_name(const uint8_t *msg, size_t len, size_t *pos)
{
	for (size_t p = *pos; p < len;) {
		uint8_t l = msg[p];
		if (l == 0 || (l & 0xC0u) == 0xC0u) {
			*pos = p + (l ? 2u : 1u);
			return *pos <= len;
		}
		if (l & 0xC0u)
			return false;
		p += 1u + l;
	}
	return false;
}

/* One RR of @msg at *pos: owner (lowercased into @owner when not NULL), type, rdata. */
static bool read_rr(const uint8_t *msg, size_t len, size_t *pos, uint8_t *owner, uint16_t *type,
                    const uint8_t **rdata, uint16_t *rdlen)
{
	uint8_t raw[FE_WIRE_NAME_MAX];
	if (owner ? fe_wire_name_read(msg, len, pos, raw) < 0 : !skip_name(msg, len, pos))
		return false;
	if (*pos + 10 > len)
		return false;
	if (owner)
		fe_wire_name_lower(raw, owner);
	*type = get16(msg + *pos);
	*rdlen = get16(msg + *pos + 8);
	*pos += 10;
	if (*pos + *rdlen > len)
		return false;
	*rdata = msg + *pos;
	*pos += *rdlen;
	return true;
}

/* A <character-string> at *off of @rd: its bytes and length. */
static bool char_string(const uint8_t *rd, uint16_t rdlen, size_t *off, const uint8_t **s,
                        size_t *n)
{
	if (*off >= rdlen || *off + 1u + rd[*off] > rdlen)
		return false;
	*n = rd[*off];
	*s = rd + *off + 1;
	*off += 1u + *n;
	return true;
}

static bool ieq_prefix(const uint8_t *s, size_t n, const char *lit)
{
	size_t l = strlen(lit);
	if (n < l)
		return false;
	for (size_t i = 0; i < l; i++)
		if (ascii_lower(s[i]) != (uint8_t)lit[i])
			return false;
	return true;
}

/* Service "E2U+sip" (RFC 6116 §3.4.3, RFC 3764), or "E2U+pstn[:tel|:sip]" (RFC 4769). */
enum svc { SVC_OTHER, SVC_SIP, SVC_PSTN };
static enum svc service_of(const uint8_t *s, size_t n)
{
	if (n == 7 && ieq_prefix(s, n, "e2u+sip"))
		return SVC_SIP;
	if (ieq_prefix(s, n, "e2u+pstn") && (n == 8 || s[8] == ':'))
		return SVC_PSTN;
	return SVC_OTHER;
}

/* The host of the SIP URI in a NAPTR regexp "!pattern!sip:user@host:port;params!" as a
 * lowercase wire name into @out (length returned, or -1: no usable host). */
static int sip_host(const uint8_t *re, size_t n, uint8_t *out)
{
	if (n < 3)
		return -1;
	uint8_t delim = re[0];
	const uint8_t *d1 = memchr(re + 1, delim, n - 1);
	size_t rs = d1 ? (size_t)(d1 - re) + 1 : n + 1;
	if (rs > n)
		return -1;
	const uint8_t *d2 = memchr(re + rs, delim, n - rs);
	size_t re_end = d2 ? (size_t)(d2 - re) : n;
	const uint8_t *r = re + rs;
	size_t rl = re_end - rs, k;
	if (ieq_prefix(r, rl, "sips:"))
		k = 5;
	else if (ieq_prefix(r, rl, "sip:"))
		k = 4;
	else
		return -1;
	/* the host follows the last '@' before any ';', '?' or '>' (none: no user part) */
	size_t h = k;
	const uint8_t *at = memchr(r + k, '@', rl - k);
	for (size_t j = k; at && j < rl && r[j] != ';' && r[j] != '?' && r[j] != '>'; j++)
		if (r[j] == '@')
			h = j + 1;
	size_t he = h;
	while (he < rl && r[he] != ':' && r[he] != ';' && r[he] != '?' && r[he] != '>')
		he++;
	if (he == h || (he - h) + 2 > FE_WIRE_NAME_MAX || r[h] == '[')
		return -1;
	/* text → wire, lowercase */
	size_t o = 0, lab = 0;
	out[o++] = 0;
	for (size_t j = h; j < he; j++) {
		if (r[j] == '.') {
			if (!out[lab])
				return -1;
			lab = o++;
			out[lab] = 0;
			continue;
		}
		if (out[lab] == FE_WIRE_LABEL_MAX)
			return -1;
		out[o++] = ascii_lower(r[j]);
		out[lab]++;
	}
	if (out[lab]) /* no final dot: close with the root label */
		out[o++] = 0;
	return (int)o;
}

/* Where the question name's labels start (the root label included), found once per query:
 * whether the name is at or under a name is then a look at its last few label starts and
 * one memcmp, not a walk of its labels per name tried. */
struct qlabels {
	size_t n;
	uint8_t at[FE_WIRE_NAME_MAX / 2 + 1];
};

static void qlabels_of(const struct fe_wire_query *q, struct qlabels *l)
{
	l->n = 0;
	for (size_t i = 0; i < q->qname_len && l->n < sizeof(l->at); i += 1u + q->qname_lc[i]) {
		l->at[l->n++] = (uint8_t)i;
		if (q->qname_lc[i] == 0)
			break;
	}
}

static bool q_under(const struct fe_wire_query *q, const struct qlabels *l,
                    const struct pol_name *a)
{
	if (a->len > q->qname_len)
		return false;
	size_t off = q->qname_len - a->len;
	for (size_t k = l->n; k-- > 0 && l->at[k] >= off;)
		if (l->at[k] == off)
			return memcmp(q->qname_lc + off, a->wire, a->len) == 0;
	return false;
}

/* The member of the longest of @v at or above the question name (-1: none). */
static int member_of_qname(const struct pol_name *v, size_t n, const struct fe_wire_query *q,
                           const struct qlabels *l)
{
	int best = -1;
	size_t best_len = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i].len > best_len && q_under(q, l, &v[i])) {
			best = v[i].member;
			best_len = v[i].len;
		}
	return best;
}

int fe__pol_member_of(const struct pol_name *v, size_t n, const uint8_t *name, size_t len)
{
	int best = -1;
	size_t best_len = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i].len > best_len && fe__pol_name_under(name, len, v[i].wire, v[i].len)) {
			best = v[i].member;
			best_len = v[i].len;
		}
	return best;
}

static bool agreement(const struct fe_policy *p, int a, int b)
{
	if (a < 0 || b < 0 || a == b)
		return true;
	const struct pol_member *ma = &p->members[a], *mb = &p->members[b];
	return (!ma->has_peers || (ma->peers >> b & 1u)) &&
	       (!mb->has_peers || (mb->peers >> a & 1u));
}

/* The cause the engine's answer @resp gives for an ENUM NAPTR query (RFC 6116 §3). */
static enum fe_policy_cause classify(const struct fe_policy *p, int view,
                                     const struct fe_wire_query *q, const struct qlabels *ql,
                                     const uint8_t *resp, size_t len)
{
	uint16_t flags = get16(resp + 2);
	unsigned rcode = flags & 0xFu;
	if (flags & FE_F_TC)
		return FE_POLICY_ROUTE; /* incomplete: the client retries over TCP */
	if (rcode == FE_RCODE_SERVFAIL || rcode == FE_RCODE_REFUSED)
		return FE_POLICY_ZONE_UNAVAILABLE;
	if (rcode != FE_RCODE_NOERROR && rcode != FE_RCODE_NXDOMAIN)
		return FE_POLICY_ROUTE;
	uint16_t an = get16(resp + 6), ns = get16(resp + 8);
	/* the engine's answer carries the query's question as it came: it ends where the
	 * query's does */
	size_t pos = q->question_end;
	if (get16(resp + 4) != 1 || pos > len)
		return FE_POLICY_ROUTE;
	bool any_naptr = false, pstn = false, sip = false;
	uint32_t best = UINT32_MAX;
	uint8_t host[FE_WIRE_NAME_MAX];
	int host_len = -1;
	for (uint16_t i = 0; i < an; i++) {
		uint16_t type, rdlen;
		const uint8_t *rd;
		if (!read_rr(resp, len, &pos, NULL, &type, &rd, &rdlen))
			return FE_POLICY_ROUTE;
		if (type != FE_T_NAPTR || rdlen < 4)
			continue;
		any_naptr = true;
		size_t off = 4, fl, sl, rl;
		const uint8_t *f, *s, *re;
		if (!char_string(rd, rdlen, &off, &f, &fl) ||
		    !char_string(rd, rdlen, &off, &s, &sl) ||
		    !char_string(rd, rdlen, &off, &re, &rl))
			continue;
		bool terminal = memchr(f, 'u', fl) || memchr(f, 'U', fl);
		enum svc sv = service_of(s, sl);
		if (sv == SVC_PSTN)
			pstn = true;
		if (sv != SVC_SIP || !terminal)
			continue;
		/* the most preferred SIP record (order, then preference: RFC 3403 §4.1) */
		uint32_t rank = (uint32_t)get16(rd) << 16 | get16(rd + 2);
		sip = true;
		if (rank < best) {
			best = rank;
			host_len = sip_host(re, rl, host);
		}
	}
	int zone_member = member_of_qname(p->zones, p->nzones, q, ql);
	if (!any_naptr) {
		/* negative: the SOA says which zone answered */
		for (uint16_t i = 0; i < ns; i++) {
			uint16_t type, rdlen;
			const uint8_t *rd;
			uint8_t owner[FE_WIRE_NAME_MAX];
			if (!read_rr(resp, len, &pos, owner, &type, &rd, &rdlen))
				break;
			if (type != FE_T_SOA)
				continue;
			int ol = fe_wire_name_len(owner, FE_WIRE_NAME_MAX);
			for (size_t k = 0; k < p->nenum; k++)
				if ((size_t)ol == p->enum_apex[k].len &&
				    memcmp(owner, p->enum_apex[k].wire, (size_t)ol) == 0)
					return FE_POLICY_NO_DELEGATION;
			zone_member = fe__pol_member_of(p->zones, p->nzones, owner, (size_t)ol);
			break;
		}
		if (zone_member >= 0 && p->members[zone_member].suspended)
			return FE_POLICY_MEMBER_SUSPENDED;
		return FE_POLICY_NOT_FOUND;
	}
	if (zone_member >= 0 && p->members[zone_member].suspended)
		return FE_POLICY_MEMBER_SUSPENDED;
	if (!sip)
		return pstn ? FE_POLICY_PSTN_ONLY : FE_POLICY_NOT_FOUND;
	int target = host_len > 0
	                     ? fe__pol_member_of(p->domains, p->ndomains, host, (size_t)host_len)
	                     : -1;
	if (target < 0)
		return FE_POLICY_TARGET_OUTSIDE;
	if (p->members[target].suspended)
		return FE_POLICY_MEMBER_SUSPENDED;
	if (!agreement(p, view >= 0 ? p->views[view].member : -1, target))
		return FE_POLICY_NO_AGREEMENT;
	return FE_POLICY_ROUTE;
}

static enum fe_policy_action choose(const struct fe_policy *p, int view, const char *number,
                                    enum fe_policy_cause c)
{
	for (size_t i = 0; i < p->nrules; i++) {
		const struct pol_rule *r = &p->rules[i];
		if (!(r->causes >> c & 1u))
			continue;
		if (r->nviews && (view < 0 || !(r->views >> view & 1u)))
			continue;
		bool ok = r->nprefixes == 0;
		for (size_t k = 0; !ok && k < r->nprefixes; k++)
			ok = strncmp(number, r->prefix[k], strlen(r->prefix[k])) == 0;
		if (ok)
			return r->action;
	}
	return FE_POLICY_PASS;
}

/* The E.164 number of @q under an ENUM apex ("+" and the digits, RFC 6116 §2.4), or false. */
static bool enum_number(const struct fe_policy *p, const struct fe_wire_query *q,
                        const struct qlabels *ql, char *out)
{
	for (size_t k = 0; k < p->nenum; k++) {
		const struct pol_name *a = &p->enum_apex[k];
		if (!q_under(q, ql, a))
			continue;
		size_t end = q->qname_len - a->len, i = 0, nd = 0;
		char rev[16];
		while (i < end) {
			if (q->qname_lc[i] != 1 || !ascii_digit(q->qname_lc[i + 1]) || nd == 15)
				return false;
			rev[nd++] = (char)q->qname_lc[i + 1];
			i += 2;
		}
		if (!nd)
			return false;
		out[0] = '+';
		for (size_t j = 0; j < nd; j++)
			out[1 + j] = rev[nd - 1 - j];
		out[nd + 1] = 0;
		return true;
	}
	return false;
}

/* ---- writing the policy's answer ------------------------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Header, question, at most one synthesized NAPTR for the question name, and an OPT with one
 * EDE (RFC 8914) whose EXTRA-TEXT names the cause when the query had EDNS. AA=0, AD=0: the
 * answer is not data of any zone and is not signed. Returns the length; a NAPTR that does
 * not fit @limit leaves an empty answer with TC=1. */
size_t fe__pol_write_answer(const uint8_t *req, const struct fe_wire_query *q, uint8_t *out,
                            size_t limit, uint16_t rcode, const char *service, const char *regexp,
                            uint16_t ede, const char *text)
{
	size_t qend = q->question_end, tl = strlen(text);
	size_t opt = q->has_edns ? 11u + 4u + 2u + tl : 0;
	if (qend + opt > limit)
		return 0;
	memmove(out, req, qend);
	uint16_t fl = FE_F_QR | FE_F_RA | (uint16_t)((q->opcode & 0xFu) << 11) |
	              (q->flags & (FE_F_RD | FE_F_CD)) | (rcode & 0xFu);
	put16(out + 2, fl);
	put16(out + 4, 1);
	put16(out + 6, 0);
	put16(out + 8, 0);
	put16(out + 10, q->has_edns ? 1 : 0);
	size_t n = qend;
	if (service) {
		size_t sl = strlen(service), rl = strlen(regexp);
		size_t rdlen = 4 + 2 + 1 + sl + 1 + rl + 1;
		if (n + 12 + rdlen + opt <= limit && sl < 256 && rl < 256) {
			uint8_t *w = out + n;
			put16(w, 0xC000u | FE_WIRE_HDR_LEN);
			put16(w + 2, FE_T_NAPTR);
			put16(w + 4, FE_C_IN);
			put16(w + 6, 0);
			put16(w + 8, SYNTH_TTL_S);
			put16(w + 10, (uint16_t)rdlen);
			w += 12;
			put16(w, 100);
			put16(w + 2, 10);
			w += 4;
			*w++ = 1;
			*w++ = 'u';
			*w++ = (uint8_t)sl;
			memcpy(w, service, sl);
			w += sl;
			*w++ = (uint8_t)rl;
			memcpy(w, regexp, rl);
			w += rl;
			*w++ = 0; /* replacement: the root (RFC 3403 §4.1, regexp used) */
			n = (size_t)(w - out);
			put16(out + 6, 1);
		} else {
			put16(out + 2, fl | FE_F_TC);
		}
	}
	if (q->has_edns) {
		uint8_t *w = out + n;
		w[0] = 0;
		put16(w + 1, FE_T_OPT);
		put16(w + 3, FE_WIRE_UDP_DEFAULT);
		w[5] = 0; /* extended rcode */
		w[6] = 0; /* version */
		put16(w + 7, q->edns_do ? 0x8000u : 0);
		put16(w + 9, (uint16_t)(4 + 2 + tl));
		put16(w + 11, FE_EDNS_EDE);
		put16(w + 13, (uint16_t)(2 + tl));
		put16(w + 15, ede);
		memcpy(w + 17, text, tl);
		n += opt;
	}
	return n;
}

size_t fe_policy_apply(const struct fe_policy *p, int view, const uint8_t *req, size_t req_len,
                       const struct fe_wire_query *q, uint8_t *resp, size_t len, size_t limit,
                       struct fe_policy_decision *d)
{
	(void)req_len;
	memset(d, 0, sizeof(*d));
	d->view = view;
	if (!q || !q->question_end || len < FE_WIRE_HDR_LEN)
		return len;
	char text[96];
	if (view < 0) {
		/* docs/security.md Q8: a client in no view gets REFUSED, never data; EDE 18
		 * without EXTRA-TEXT, so that the answer outgrows the query by 6 octets at most
		 * (Q6: no amplification towards clients we do not serve) */
		d->action = FE_POLICY_REFUSED;
		return fe__pol_write_answer(req, q, resp, limit, FE_RCODE_REFUSED, NULL, NULL,
		                            FE_EDE_PROHIBITED, "");
	}
	/* Protocol errors keep the engine's answer: other opcodes, FORMERR, and BADVERS (whose
	 * low rcode bits read NOERROR: RFC 6891 §6.1.3) */
	unsigned rc4 = resp[3] & 0xFu;
	if (q->opcode != FE_OP_QUERY || (q->has_edns && q->edns_version > 0) ||
	    rc4 == FE_RCODE_FORMERR || rc4 == FE_RCODE_NOTIMP)
		return len;
	struct qlabels ql;
	qlabels_of(q, &ql);
	bool inside = false;
	for (size_t i = 0; i < p->nroots && !inside; i++)
		inside = q_under(q, &ql, &p->roots[i]);
	if (!inside) {
		/* docs/security.md Q7: only the federation's namespace is answered */
		d->outside = true;
		d->action = p->outside;
		return fe__pol_write_answer(
		        req, q, resp, limit,
		        p->outside == FE_POLICY_NXDOMAIN ? FE_RCODE_NXDOMAIN : FE_RCODE_REFUSED,
		        NULL, NULL, FE_EDE_PROHIBITED, "outside the federation");
	}
	/* the answer filters first: the decision reads what this view is given */
	len = fe__pol_filter(p, view, req, q, resp, len, limit, d);
	if (d->hidden)
		return len;
	if (q->qtype != FE_T_NAPTR || q->qclass != FE_C_IN || !enum_number(p, q, &ql, d->number))
		return len;
	d->is_enum = true;
	d->cause = classify(p, view, q, &ql, resp, len);
	if (d->cause == FE_POLICY_ROUTE)
		return len;
	d->action = choose(p, view, d->number, d->cause);
	if (d->action == FE_POLICY_PASS)
		return len;
	const char *cause = fe_policy_cause_name(d->cause);
	snprintf(text, sizeof(text), "federation policy: %s (%s)", cause,
	         fe_policy_action_name(d->action));
	char re[POL_URI_MAX + 40];
	switch (d->action) {
	case FE_POLICY_PASS:
		return len;
	case FE_POLICY_NXDOMAIN:
		return fe__pol_write_answer(req, q, resp, limit, FE_RCODE_NXDOMAIN, NULL, NULL,
		                            FE_EDE_FILTERED, text);
	case FE_POLICY_REFUSED:
		return fe__pol_write_answer(req, q, resp, limit, FE_RCODE_REFUSED, NULL, NULL,
		                            FE_EDE_PROHIBITED, text);
	case FE_POLICY_SERVFAIL:
		return fe__pol_write_answer(req, q, resp, limit, FE_RCODE_SERVFAIL, NULL, NULL,
		                            FE_EDE_OTHER, text);
	case FE_POLICY_BGCF:
	case FE_POLICY_TRANSIT:
		/* RFC 3403 §3.2 substitution: the AUS is the number, "+..." (RFC 6116 §3.2.2) */
		snprintf(re, sizeof(re), "!^(.*)$!sip:\\1@%s;user=phone!",
		         d->action == FE_POLICY_BGCF ? p->bgcf : p->transit);
		return fe__pol_write_answer(req, q, resp, limit, FE_RCODE_NOERROR, "E2U+sip", re,
		                            FE_EDE_FORGED_ANSWER, text);
	case FE_POLICY_PSTN:
		/* RFC 4759: enumdi says the ENUM lookup was done; RFC 4769 service */
		return fe__pol_write_answer(req, q, resp, limit, FE_RCODE_NOERROR, "E2U+pstn:tel",
		                            "!^(.*)$!tel:\\1;enumdi!", FE_EDE_FORGED_ANSWER, text);
	case FE_POLICY_ACTION__MAX:
		break;
	}
	return len;
}
