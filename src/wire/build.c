/* Answer assembly: header, question, RRs with owner-name compression, OPT; error answers. */
#include "wire_int.h"

#include <string.h>

#define MAX_LABELS  127
#define PTR_MAX_OFF 0x3FFFu /* a compression pointer has 14 bits of offset */
#define EDE_OPT_LEN 6u      /* code, length, INFO-CODE (RFC 8914 §2) */

static void remember(struct fe_wire_builder *b, size_t off, unsigned labels)
{
	if (b->nnames >= FE_WIRE_COMPR_MAX || off > PTR_MAX_OFF)
		return;
	b->name_off[b->nnames] = (uint16_t)off;
	b->name_labels[b->nnames] = (uint8_t)labels;
	b->nnames++;
}

/* Remember the name just written at @off with label offsets @starts (relative to @off) for
 * labels [0, @nlit) and @n labels in all. The full name goes first, then the shortest
 * suffixes (zone apexes, shared by most later owners), so a full table keeps what pays. */
static void remember_name(struct fe_wire_builder *b, size_t off, const uint8_t *starts,
                          unsigned nlit, unsigned n)
{
	if (nlit == 0)
		return;
	remember(b, off, n);
	for (unsigned j = nlit - 1; j >= 1; j--)
		remember(b, off + starts[j], n - j);
}

/* Does the name at message offset @off (possibly compressed by us; our pointers are valid)
 * equal the uncompressed @name case-insensitively? Both have the same label count. */
static bool equal_at(const uint8_t *buf, size_t off, const uint8_t *name)
{
	for (;;) {
		uint8_t c = buf[off];
		if ((c & 0xC0u) == 0xC0u) {
			/* ours point backwards; anything else means a stale entry: no match
			 * rather than a walk through garbage */
			size_t t = (size_t)(c & 0x3Fu) << 8 | buf[off + 1];
			if (t >= off)
				return false;
			off = t;
			continue;
		}
		if (c != *name)
			return false;
		if (c == 0)
			return true;
		for (unsigned i = 1; i <= c; i++)
			if (fe__lc(buf[off + i]) != fe__lc(name[i]))
				return false;
		off += c + 1u;
		name += c + 1u;
	}
}

/* List the proper suffixes of the question name (written at offset 12), shortest first. */
static void remember_question_suffixes(struct fe_wire_builder *b)
{
	uint8_t starts[MAX_LABELS];
	unsigned n = 0;
	const uint8_t *qn = b->buf + FE_WIRE_HDR_LEN;

	for (unsigned pos = 0; qn[pos] != 0 && n < b->q_suffixes; pos += 1u + qn[pos])
		starts[n++] = (uint8_t)pos;
	for (unsigned j = n - 1; j >= 1; j--)
		remember(b, FE_WIRE_HDR_LEN + starts[j], n - j);
	b->q_suffixes = 0;
}

/* Longest suffix of @name (labels @starts, @n of them) already in the message: returns the
 * index of its first label and sets *ptr, or returns @n when none. */
static unsigned find_suffix(const struct fe_wire_builder *b, const uint8_t *name,
                            const uint8_t *starts, unsigned n, uint16_t *ptr)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t want = (uint8_t)(n - i);
		for (unsigned e = 0; e < b->nnames; e++) {
			if (b->name_labels[e] != want)
				continue;
			if (equal_at(b->buf, b->name_off[e], name + starts[i])) {
				*ptr = b->name_off[e];
				return i;
			}
		}
	}
	return n;
}

void fe_wire_builder_init(struct fe_wire_builder *b, uint8_t *buf, size_t cap,
                          const struct fe_wire_query *q)
{
	b->buf = buf;
	b->cap = cap > FE_WIRE_MSG_MAX ? FE_WIRE_MSG_MAX : cap;
	b->len = 0;
	b->count[0] = b->count[1] = b->count[2] = 0;
	b->section = FE_SEC_ANSWER;
	b->truncated = false;
	b->reserve = 0;
	b->edns = q->has_edns;
	b->finished = false;
	b->ext_rcode = 0;
	b->nede = 0;
	b->nnames = 0;
	b->last_len = 0;
	b->last_ptr = 0;
	b->q_suffixes = 0;
	if (b->cap < FE_WIRE_HDR_LEN) {
		b->cap = 0;
		b->edns = false;
		return;
	}

	uint16_t flags = FE_F_QR | FE_F_RA | (q->flags & (FE__OPCODE_MASK | FE_F_RD | FE_F_CD));
	fe__wr16(buf + FE__OFF_ID, q->id);
	fe__wr16(buf + FE__OFF_FLAGS, flags);
	memset(buf + FE__OFF_QDCOUNT, 0, 8);
	b->len = FE_WIRE_HDR_LEN;

	if (b->edns) {
		if (b->cap - b->len >= FE_WIRE_OPT_LEN)
			b->reserve = FE_WIRE_OPT_LEN;
		else
			b->edns = false;
	}
	if (q->qname != NULL && q->question_end != 0 &&
	    b->cap - b->len - b->reserve >= q->qname_len + 4u) {
		memcpy(buf + b->len, q->qname, q->qname_len);
		fe__wr16(buf + b->len + q->qname_len, q->qtype);
		fe__wr16(buf + b->len + q->qname_len + 2, q->qclass);
		if (q->qname_labels > 0) {
			/* the whole name now; its suffixes when a search first needs them */
			remember(b, FE_WIRE_HDR_LEN, q->qname_labels);
			b->q_suffixes = q->qname_labels;
			/* owners equal to the question name (the usual answer) hit the memo;
			 * zone data is mostly lowercase, so seed it with the lowercase form */
			b->last_len = q->qname_len;
			b->last_ptr = FE_WIRE_HDR_LEN;
			memcpy(b->last_owner, q->qname_lc, q->qname_len);
		}
		b->len += q->qname_len + 4u;
		fe__wr16(buf + FE__OFF_QDCOUNT, 1);
	}
}

size_t fe_wire_builder_mark(const struct fe_wire_builder *b)
{
	return b->len;
}

void fe_wire_builder_rollback(struct fe_wire_builder *b, size_t mark,
                              const uint16_t count_at_mark[3])
{
	if (mark > b->len || mark < FE_WIRE_HDR_LEN || b->finished)
		return; /* not a mark of this builder */
	b->len = mark;
	memcpy(b->count, count_at_mark, sizeof(b->count));
	/* the section of the last RR kept: a put sets the section it wrote a count in */
	b->section = FE_SEC_ANSWER;
	for (int s = FE_SEC_ADDITIONAL; s > FE_SEC_ANSWER; s--)
		if (b->count[s] != 0) {
			b->section = s;
			break;
		}
	/* drop the names at or after the mark (the question's suffixes, listed late, stay) */
	unsigned k = 0;
	for (unsigned e = 0; e < b->nnames; e++) {
		if (b->name_off[e] >= mark)
			continue;
		b->name_off[k] = b->name_off[e];
		b->name_labels[k] = b->name_labels[e];
		k++;
	}
	b->nnames = (uint8_t)k;
	b->last_len = 0;
}

/* Is the name at @a the valid name @b (@blen octets), ignoring ASCII case? Octet by octet
 * with an early exit: while the octets agree, @a has @b's label structure, so nothing past
 * the end of @a is read even when @a is shorter. */
static bool same_name(const uint8_t *a, const uint8_t *b, size_t blen)
{
	for (size_t k = 0; k < blen; k++)
		if (a[k] != b[k] && fe__lc(a[k]) != fe__lc(b[k]))
			return false;
	return true;
}

/* RFC 1035 §4.1.4 / RFC 3597 §4: only the RDATA names of the RFC 1035 types may be
 * compressed; of those we serve NS, CNAME, PTR, MX and SOA. Sets the offset of the first name
 * and how many names follow back to back (SOA: MNAME, RNAME). An SRV target must not be
 * compressed (RFC 2782) but later owners (its A/AAAA in the additional section) may point at
 * it: *compress tells which. */
static bool rdata_names(uint16_t type, unsigned *skip, unsigned *names, bool *compress)
{
	*compress = true;
	switch (type) {
	case FE_T_SRV:
		*skip = 6;
		*names = 1;
		*compress = false;
		return true;
	case FE_T_NS:
	case FE_T_CNAME:
	case FE_T_PTR:
		*skip = 0;
		*names = 1;
		return true;
	case FE_T_MX:
		*skip = 2;
		*names = 1;
		return true;
	case FE_T_SOA:
		*skip = 0;
		*names = 2;
		return true;
	default:
		return false;
	}
}

/* Label offsets of the uncompressed name at @name (at most @max octets): returns the label
 * count and sets *len, or -1 when it is not a valid name within @max. */
static int name_labels(const uint8_t *name, size_t max, uint8_t *starts, size_t *len)
{
	size_t pos = 0;
	int n = 0;
	for (;;) {
		if (pos >= max)
			return -1;
		uint8_t c = name[pos];
		if (c == 0)
			break;
		if (c > FE_WIRE_LABEL_MAX || pos + c + 2u > FE_WIRE_NAME_MAX || n >= MAX_LABELS)
			return -1;
		starts[n++] = (uint8_t)pos;
		pos += c + 1u;
	}
	*len = pos + 1;
	return n;
}

/* Size of @rdata once its names are compressed against the names now in the message, or
 * @rdlen when the type has no compressible names or the RDATA does not parse as expected
 * (then it is written as is). Fills @plan with, per name, its offset in @rdata, its length
 * and the index of the first label that a pointer replaces (== label count: no pointer). */
struct rd_plan {
	unsigned count;
	bool compress;
	uint16_t off[2], len[2];
	uint8_t lit[2];
	uint16_t ptr[2];
	uint8_t n[2];
	uint8_t starts[2][MAX_LABELS];
};

static size_t plan_rdata(const struct fe_wire_builder *b, uint16_t type, const uint8_t *rdata,
                         uint16_t rdlen, struct rd_plan *plan)
{
	unsigned skip, names;
	plan->count = 0;
	if (!rdata_names(type, &skip, &names, &plan->compress) || skip > rdlen)
		return rdlen;
	size_t pos = skip, out = skip;
	for (unsigned k = 0; k < names; k++) {
		size_t len;
		int n = name_labels(rdata + pos, rdlen - pos, plan->starts[k], &len);
		if (n < 0) {
			plan->count = 0;
			return rdlen;
		}
		uint16_t ptr = 0;
		unsigned i =
		        n > 0 ? find_suffix(b, rdata + pos, plan->starts[k], (unsigned)n, &ptr) : 0;
		plan->off[k] = (uint16_t)pos;
		plan->len[k] = (uint16_t)len;
		plan->n[k] = (uint8_t)n;
		plan->lit[k] = (uint8_t)i;
		plan->ptr[k] = ptr;
		out += ((int)i < n ? plan->starts[k][i] + 2u : len);
		pos += len;
	}
	plan->count = names;
	return out + (rdlen - pos);
}

/* Write @rdata at @w (message offset @off) per @plan; returns the octets written. Pointers
 * are re-searched so a name can also point into names written just before it (the owner,
 * SOA's MNAME); the result is never longer than planned. */
static size_t write_rdata(struct fe_wire_builder *b, uint8_t *w, size_t off, const uint8_t *rdata,
                          uint16_t rdlen, const struct rd_plan *plan)
{
	size_t o = 0, pos = 0;
	for (unsigned k = 0; k < plan->count; k++) {
		memcpy(w + o, rdata + pos, plan->off[k] - pos);
		o += plan->off[k] - pos;
		pos = plan->off[k];
		const uint8_t *name = rdata + pos;
		unsigned n = plan->n[k];
		uint16_t ptr = 0;
		unsigned i = n;
		if (n > 0 && plan->compress)
			i = find_suffix(b, name, plan->starts[k], n, &ptr);
		size_t nlit = i < n ? plan->starts[k][i] : plan->len[k];
		memcpy(w + o, name, nlit);
		if (i < n) {
			fe__wr16(w + o + nlit, (uint16_t)(0xC000u | ptr));
		}
		if (off + o <= PTR_MAX_OFF)
			remember_name(b, off + o, plan->starts[k], i, n);
		o += nlit + (i < n ? 2u : 0u);
		pos += plan->len[k];
	}
	memcpy(w + o, rdata + pos, rdlen - pos);
	return o + (rdlen - pos);
}

int fe_wire_builder_put_rr(struct fe_wire_builder *b, enum fe_wire_section sec,
                           const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
                           const uint8_t *rdata, uint16_t rdlen)
{
	uint8_t starts[MAX_LABELS];
	unsigned n = 0, i = 0;
	size_t olen = 0, nlit, need;
	uint16_t ptr = 0;
	bool memo;
	struct rd_plan plan;
	size_t rdplanned;

	if ((int)sec < b->section || sec > FE_SEC_ADDITIONAL || b->finished)
		return FE_EINVAL;
	if (b->q_suffixes > 1)
		remember_question_suffixes(b);
	rdplanned = plan_rdata(b, type, rdata, rdlen, &plan);
	/* An RRset's records and its RRSIGs repeat one owner, most often the question name:
	 * compare with the last owner before walking labels and searching suffixes. */
	memo = b->last_len != 0 && same_name(owner, b->last_owner, b->last_len);
	if (memo) {
		olen = b->last_len;
		ptr = b->last_ptr;
		nlit = 0;
		need = 2u + 10u + rdplanned;
	} else {
		for (;;) {
			uint8_t c = owner[olen];
			if (c == 0)
				break;
			if (c > FE_WIRE_LABEL_MAX || olen + c + 2u > FE_WIRE_NAME_MAX)
				return FE_EINVAL;
			starts[n++] = (uint8_t)olen;
			olen += c + 1u;
		}
		olen++;
		i = n > 0 ? find_suffix(b, owner, starts, n, &ptr) : 0;
		nlit = i < n ? starts[i] : olen; /* literal octets of the owner */
		need = nlit + (i < n ? 2u : 0u) + 10u + rdplanned;
	}
	if (b->cap == 0 || need > b->cap - b->len - b->reserve || b->count[sec] == UINT16_MAX) {
		b->truncated = true;
		return FE_ENOSPC;
	}

	uint8_t *w = b->buf + b->len;
	if (memo) {
		fe__wr16(w, (uint16_t)(0xC000u | ptr));
		w += 2;
	} else {
		memcpy(w, owner, nlit);
		w += nlit;
		if (i < n) {
			fe__wr16(w, (uint16_t)(0xC000u | ptr));
			w += 2;
		}
		remember_name(b, b->len, starts, i, n);
		/* a repeat points where this one points, or here when this one starts with
		 * literal labels (and here is reachable by a pointer) */
		b->last_len = 0;
		if (n > 0 && (i == 0 || b->len <= PTR_MAX_OFF)) {
			b->last_ptr = i == 0 ? ptr : (uint16_t)b->len;
			b->last_len = (uint8_t)olen;
			memcpy(b->last_owner, owner, olen);
		}
	}
	fe__wr16(w, type);
	fe__wr16(w + 2, rclass);
	fe__wr32(w + 4, ttl);
	size_t head = (size_t)(w + 10 - (b->buf + b->len));
	size_t rdout = rdlen;
	if (plan.count)
		rdout = write_rdata(b, w + 10, b->len + head, rdata, rdlen, &plan);
	else if (rdlen)
		memcpy(w + 10, rdata, rdlen);
	fe__wr16(w + 8, (uint16_t)rdout);
	b->len += head + rdout;
	b->count[sec]++;
	b->section = (int)sec;
	return FE_OK;
}

void fe_wire_builder_set_rcode(struct fe_wire_builder *b, uint16_t rcode)
{
	if (b->cap == 0)
		return;
	uint16_t ext = (uint16_t)(rcode >> 4);
	uint16_t low = rcode & FE__RCODE_MASK;
	if (ext > 0xFF || (ext != 0 && !b->edns)) {
		ext = 0;
		low = FE_RCODE_SERVFAIL;
	}
	b->ext_rcode = (uint8_t)ext;
	uint16_t flags = fe__rd16(b->buf + FE__OFF_FLAGS);
	fe__wr16(b->buf + FE__OFF_FLAGS, (uint16_t)((flags & ~FE__RCODE_MASK) | low));
}

void fe_wire_builder_set_flags(struct fe_wire_builder *b, uint16_t set_bits)
{
	if (b->cap == 0)
		return;
	uint16_t flags = fe__rd16(b->buf + FE__OFF_FLAGS);
	fe__wr16(b->buf + FE__OFF_FLAGS, flags | set_bits);
}

int fe_wire_builder_add_ede(struct fe_wire_builder *b, uint16_t info_code)
{
	if (!b->edns)
		return FE_OK; /* RFC 8914 §2: EDE is an EDNS option; nowhere to put it */
	if (b->nede >= FE_WIRE_EDE_MAX || b->finished || b->cap - b->len - b->reserve < EDE_OPT_LEN)
		return FE_ENOSPC;
	b->reserve += EDE_OPT_LEN;
	b->ede[b->nede++] = info_code;
	return FE_OK;
}

/* OPT RR (RFC 6891 §6.1.2/§6.1.3) at @w; the caller made room. Returns its length. */
static size_t write_opt(uint8_t *w, uint16_t udp_size, uint8_t ext_rcode, bool do_bit,
                        const uint16_t *ede, unsigned nede)
{
	uint16_t rdlen = (uint16_t)(nede * EDE_OPT_LEN);

	w[0] = 0; /* root owner */
	fe__wr16(w + 1, FE_T_OPT);
	fe__wr16(w + 3, udp_size < FE_WIRE_UDP_MIN ? FE_WIRE_UDP_MIN : udp_size);
	/* TTL: extended rcode, version 0, DO echoed (RFC 3225 §3), Z zero */
	fe__wr32(w + 5, (uint32_t)ext_rcode << 24 | (do_bit ? 0x8000u : 0u));
	fe__wr16(w + 9, rdlen);
	w += FE_WIRE_OPT_LEN;
	for (unsigned i = 0; i < nede; i++, w += EDE_OPT_LEN) {
		fe__wr16(w, FE_EDNS_EDE);
		fe__wr16(w + 2, 2);
		fe__wr16(w + 4, ede[i]);
	}
	return FE_WIRE_OPT_LEN + rdlen;
}

size_t fe_wire_builder_finish(struct fe_wire_builder *b, const struct fe_wire_query *q,
                              uint16_t udp_size)
{
	if (b->cap == 0 || b->finished)
		return b->len;
	uint16_t ar = b->count[FE_SEC_ADDITIONAL];
	if (b->edns) {
		/* the reserve guarantees the room */
		b->len += write_opt(b->buf + b->len, udp_size, b->ext_rcode,
		                    q != NULL && q->edns_do, b->ede, b->nede);
		ar++;
	}
	fe__wr16(b->buf + FE__OFF_ANCOUNT, b->count[FE_SEC_ANSWER]);
	fe__wr16(b->buf + FE__OFF_NSCOUNT, b->count[FE_SEC_AUTHORITY]);
	fe__wr16(b->buf + FE__OFF_ARCOUNT, ar);
	b->reserve = 0;
	b->finished = true;
	return b->len;
}

size_t fe_wire_error_response(const uint8_t *pkt, size_t len, const struct fe_wire_query *q,
                              uint16_t rcode, uint8_t *out, size_t cap)
{
	if (len < FE_WIRE_HDR_LEN || cap < FE_WIRE_HDR_LEN)
		return 0;
	if (cap > FE_WIRE_MSG_MAX)
		cap = FE_WIRE_MSG_MAX;

	uint16_t in = fe__rd16(pkt + FE__OFF_FLAGS);
	bool opt = (q != NULL && q->has_edns) || rcode > FE__RCODE_MASK;
	size_t o = FE_WIRE_HDR_LEN;
	size_t reserve = opt ? FE_WIRE_OPT_LEN : 0;
	uint16_t low = rcode & FE__RCODE_MASK;

	if (cap - o < reserve || rcode > 0xFFFu) {
		opt = false;
		reserve = 0;
	}
	if (rcode > FE__RCODE_MASK && !opt)
		low = FE_RCODE_SERVFAIL; /* an extended rcode needs the OPT it cannot have */

	memcpy(out, pkt, 2); /* ID */
	fe__wr16(out + FE__OFF_FLAGS, (uint16_t)(FE_F_QR | FE_F_RA | low |
	                                         (in & (FE__OPCODE_MASK | FE_F_RD | FE_F_CD))));
	memset(out + FE__OFF_QDCOUNT, 0, 8);

	/* the question only when it parsed cleanly: never echo bytes we could not read */
	if (q != NULL && q->qname != NULL && q->question_end != 0 &&
	    cap - o - reserve >= q->qname_len + 4u) {
		memcpy(out + o, q->qname, q->qname_len);
		fe__wr16(out + o + q->qname_len, q->qtype);
		fe__wr16(out + o + q->qname_len + 2, q->qclass);
		o += q->qname_len + 4u;
		fe__wr16(out + FE__OFF_QDCOUNT, 1);
	}
	if (opt) {
		o += write_opt(out + o, FE_WIRE_UDP_DEFAULT, (uint8_t)(rcode >> 4),
		               q != NULL && q->edns_do, NULL, 0);
		fe__wr16(out + FE__OFF_ARCOUNT, 1);
	}
	return o;
}
