/* Query parsing: one pass over the message, no heap, every read bounds-checked. */
#include "wire_int.h"

#include <string.h>

/* EDNS options of the OPT RR (RFC 6891 §6.1.2). Only the options we act on are interpreted.
 * A COOKIE or NSID option that appears twice is FORMERR: a second copy can only be an attempt
 * to make two parsers disagree about which one counts. (RFC 7873 §5.2 would have the first
 * COOKIE win; we choose the stricter reading the threat catalogue asks for, docs/security.md Q4.)
 * Repeats of other options (padding, unknown codes) are allowed, RFC 6891 §6.1.2. */
static enum fe_wire_verdict parse_options(const uint8_t *p, size_t rdlen, struct fe_wire_query *q)
{
	size_t o = 0;

	while (o < rdlen) {
		if (rdlen - o < 4)
			return FE_WIRE_FORMERR;
		uint16_t code = fe__rd16(p + o);
		uint16_t olen = fe__rd16(p + o + 2);
		o += 4;
		if (olen > rdlen - o)
			return FE_WIRE_FORMERR;
		switch (code) {
		case FE_EDNS_COOKIE:
			/* RFC 7873 §5.2.2: valid lengths are 8 (client cookie) and 16..40 */
			if (q->has_cookie || (olen != 8 && (olen < 16 || olen > 40)))
				return FE_WIRE_FORMERR;
			q->has_cookie = true;
			q->cookie_len = (uint8_t)olen;
			memcpy(q->cookie, p + o, olen);
			break;
		case FE_EDNS_NSID:
			/* RFC 5001 §2.1: the request carries an empty option; we accept any payload
			 */
			if (q->has_nsid)
				return FE_WIRE_FORMERR;
			q->has_nsid = true;
			break;
		default:
			break;
		}
		o += olen;
	}
	return FE_WIRE_OK;
}

/* One RR of the answer, authority or additional section at *pos. */
static enum fe_wire_verdict parse_rr(const uint8_t *pkt, size_t len, size_t *pos, int sec,
                                     bool last, struct fe_wire_query *q, bool *badvers)
{
	size_t p = *pos, owner = p;
	int olen;

	if (p < len && pkt[p] == 0) {
		p++; /* root owner: the usual OPT */
		olen = 1;
	} else {
		olen = fe_wire_name_read(pkt, len, &p, NULL);
		if (olen < 0)
			return FE_WIRE_FORMERR;
	}
	if (len - p < 10)
		return FE_WIRE_FORMERR;
	uint16_t type = fe__rd16(pkt + p);
	uint16_t rclass = fe__rd16(pkt + p + 2);
	uint32_t ttl = fe__rd32(pkt + p + 4);
	uint16_t rdlen = fe__rd16(pkt + p + 8);
	p += 10;
	if (rdlen > len - p)
		return FE_WIRE_FORMERR;
	*pos = p + rdlen;

	if (type == FE_T_OPT) {
		/* RFC 6891 §6.1.1: one OPT, in the additional section, owned by the root */
		if (sec != FE_SEC_ADDITIONAL || q->edns_opt_offset != 0 || olen != 1)
			return FE_WIRE_FORMERR;
		q->has_edns = true;
		q->edns_opt_offset = (uint16_t)owner;
		q->edns_udp_size = rclass;
		q->edns_version = (uint8_t)(ttl >> 16);
		q->edns_do = (ttl & 0x8000u) != 0; /* RFC 3225 §3 */
		if (q->edns_version != 0) {
			/* RFC 6891 §6.1.3: we do not know how version > 0 options look */
			*badvers = true;
			return FE_WIRE_OK;
		}
		return parse_options(pkt + p, rdlen, q);
	}
	if (type == FE_T_TSIG) {
		/* RFC 8945 §5.1 (placement) and §4.2 (CLASS ANY): last RR, so also at most one */
		if (sec != FE_SEC_ADDITIONAL || !last || rclass != FE_C_ANY)
			return FE_WIRE_FORMERR;
		q->has_tsig = true;
		q->tsig_offset = (uint16_t)owner;
	}
	return FE_WIRE_OK;
}

/* Question and sections after the header; q->opcode is set. */
static enum fe_wire_verdict parse_body(const uint8_t *pkt, size_t len, struct fe_wire_query *q)
{
	uint16_t qd = fe__rd16(pkt + FE__OFF_QDCOUNT);
	uint16_t an = fe__rd16(pkt + FE__OFF_ANCOUNT);
	uint16_t ns = fe__rd16(pkt + FE__OFF_NSCOUNT);
	uint16_t ar = fe__rd16(pkt + FE__OFF_ARCOUNT);
	size_t p = FE_WIRE_HDR_LEN;
	unsigned labels = 0;
	bool badvers = false;
	enum fe_wire_verdict v;

	/* RFC 1035 §4.1.2 (QDCOUNT 1 in practice; RFC 9619 makes it a MUST) */
	if (len > FE_WIRE_MSG_MAX || qd != 1)
		return FE_WIRE_FORMERR;

	/* QNAME: nothing precedes it, so a pointer can only be hostile (RFC 1035 §4.1.4); a
	 * length octet above 63 is a pointer or an extended/reserved label type. Every length
	 * octet must lie before @stop: inside the message, and early enough that the name
	 * with its root octet stays within 255 octets. One compare per label: ENUM names are
	 * a dozen one-octet labels. */
	size_t stop = FE_MIN(len, (size_t)FE_WIRE_HDR_LEN + FE_WIRE_NAME_MAX);
	if (p >= stop)
		return FE_WIRE_FORMERR;
	for (;;) {
		uint8_t c = pkt[p];
		if (c == 0)
			break;
		if (c > FE_WIRE_LABEL_MAX)
			return FE_WIRE_FORMERR;
		p += c + 1u;
		if (p >= stop)
			return FE_WIRE_FORMERR;
		labels++;
	}
	size_t qlen = p + 1 - FE_WIRE_HDR_LEN;
	p++;
	if (len - p < 4)
		return FE_WIRE_FORMERR;
	q->qtype = fe__rd16(pkt + p);
	q->qclass = fe__rd16(pkt + p + 2);
	p += 4;
	fe__lc_copy(q->qname_lc, pkt + FE_WIRE_HDR_LEN, qlen);
	q->qname = pkt + FE_WIRE_HDR_LEN;
	q->qname_len = (uint8_t)qlen;
	q->qname_labels = (uint8_t)labels;
	q->question_end = (uint16_t)p;

	/* A query carries no answer; a NOTIFY may carry the new SOA (RFC 1996 §3.7). */
	if (an != 0 && q->opcode != FE_OP_NOTIFY)
		return FE_WIRE_FORMERR;
	for (unsigned i = 0; i < an; i++) {
		v = parse_rr(pkt, len, &p, FE_SEC_ANSWER, false, q, &badvers);
		if (v != FE_WIRE_OK)
			return v;
	}
	for (unsigned i = 0; i < ns; i++) {
		v = parse_rr(pkt, len, &p, FE_SEC_AUTHORITY, false, q, &badvers);
		if (v != FE_WIRE_OK)
			return v;
	}
	for (unsigned i = 0; i < ar; i++) {
		v = parse_rr(pkt, len, &p, FE_SEC_ADDITIONAL, i + 1u == ar, q, &badvers);
		if (v != FE_WIRE_OK)
			return v;
	}
	/* octets after the counted records: a smuggling attempt or a broken sender */
	if (p != len)
		return FE_WIRE_FORMERR;
	return badvers ? FE_WIRE_BADVERS : FE_WIRE_OK;
}

enum fe_wire_verdict fe_wire_query_parse(const uint8_t *pkt, size_t len, struct fe_wire_query *q)
{
	/* Scalars only: qname_lc and cookie are written as far as they are valid. */
	q->id = 0;
	q->flags = 0;
	q->opcode = 0;
	q->qname = NULL;
	q->qname_len = 0;
	q->qname_labels = 0;
	q->qtype = 0;
	q->qclass = 0;
	q->question_end = 0;
	q->has_edns = false;
	q->edns_do = false;
	q->edns_version = 0;
	q->edns_udp_size = 0;
	q->edns_opt_offset = 0;
	q->has_tsig = false;
	q->tsig_offset = 0;
	q->has_cookie = false;
	q->cookie_len = 0;
	q->has_nsid = false;

	if (len < FE_WIRE_HDR_LEN)
		return FE_WIRE_DROP;
	q->id = fe__rd16(pkt + FE__OFF_ID);
	q->flags = fe__rd16(pkt + FE__OFF_FLAGS);
	q->opcode = (uint8_t)((q->flags & FE__OPCODE_MASK) >> FE__OPCODE_SHIFT);
	/* a response sent to us: answering could start a loop between two servers */
	if (q->flags & FE_F_QR)
		return FE_WIRE_DROP;

	enum fe_wire_verdict v = parse_body(pkt, len, q);
	/* RFC 1035 §4.1.1: NOTIMP for an opcode we do not serve, whatever its body looks like
	 * (other opcodes may have other layouts, e.g. RFC 8490 DSO with QDCOUNT 0). The parse
	 * above only fills what the error answer can echo. */
	if (q->opcode != FE_OP_QUERY && q->opcode != FE_OP_NOTIFY)
		return FE_WIRE_NOTIMP;
	return v;
}

uint16_t fe_wire_udp_limit(const struct fe_wire_query *q, uint16_t our_max)
{
	if (!q->has_edns)
		return FE_WIRE_UDP_MIN;
	/* RFC 6891 §6.2.5: values below 512 are treated as 512 */
	uint16_t v = q->edns_udp_size < our_max ? q->edns_udp_size : our_max;
	return v < FE_WIRE_UDP_MIN ? FE_WIRE_UDP_MIN : v;
}
