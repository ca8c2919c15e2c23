/* Answers resolved on demand (server.h "answers resolved on demand"): a cache entry that the
 * on-demand resolver stored, turned into an answer to the query at hand, as the engine
 * writes its own: same header rules, EDNS, DO handling, AD only for validated data,
 * truncation. The entry's RRs are uncompressed; the builder compresses them again. */
#include <string.h>

#include "fedenum/server.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"

int fe_odc_key(const uint8_t *qname, size_t qname_len, uint16_t qtype, uint8_t *key, size_t cap)
{
	if (cap < 2)
		return FE_EINVAL;
	int klen = fe_wire_name_key(qname, qname_len, key, cap - 2);
	if (klen < 0)
		return FE_EFORMAT;
	fe_put_be16(key + klen, qtype);
	return klen + 2;
}

static uint64_t get_be64(const uint8_t *p)
{
	return ((uint64_t)fe_get_be32(p) << 32) | fe_get_be32(p + 4);
}

static bool dnssec_type(uint16_t t)
{
	return t == FE_T_RRSIG || t == FE_T_NSEC || t == FE_T_NSEC3;
}

size_t fe_answer_from_odc(const struct fe_answer_opts *opts, const struct fe_wire_query *q,
                          enum fe_transport transport, const uint8_t *val, size_t len,
                          int64_t now_s, uint8_t *resp, size_t resp_cap)
{
	if (len < FE_ODC_HDR_LEN)
		return 0;
	int64_t expires = (int64_t)get_be64(val);
	int64_t stored = (int64_t)get_be64(val + 8);
	uint8_t rcode = val[16];
	uint8_t flags = val[17];
	uint16_t count = fe_get_be16(val + 18);
	if (now_s >= expires || now_s < stored - 300)
		return 0; /* expired, or a clock that went far back: never served */
	if (rcode != FE_RCODE_NOERROR && rcode != FE_RCODE_NXDOMAIN)
		return 0;
	uint32_t age = now_s > stored ? (uint32_t)(now_s - stored) : 0;
	uint32_t left = (uint32_t)(expires - now_s);

	uint16_t udp_max = opts && opts->udp_max ? opts->udp_max : FE_WIRE_UDP_DEFAULT;
	size_t cap =
	        transport == FE_TRANSPORT_TCP ? FE_WIRE_MSG_MAX : fe_wire_udp_limit(q, udp_max);
	cap = FE_MIN(cap, resp_cap);
	bool dnssec = q->has_edns && q->edns_do;

	struct fe_wire_builder b;
	fe_wire_builder_init(&b, resp, cap, q);
	fe_wire_builder_set_rcode(&b, rcode);
	if ((flags & FE_ODC_SECURE) && (dnssec || (q->flags & FE_F_AD)))
		fe_wire_builder_set_flags(&b, FE_F_AD);

	size_t off = FE_ODC_HDR_LEN;
	for (uint16_t i = 0; i < count; i++) {
		if (off + 1 > len)
			return 0;
		uint8_t sec = val[off++];
		const uint8_t *owner = val + off;
		int olen = fe_wire_name_len(owner, len - off);
		if (olen < 0 || sec > 1 || off + (size_t)olen + 10 > len)
			return 0;
		off += (size_t)olen;
		uint16_t type = fe_get_be16(val + off);
		uint16_t rclass = fe_get_be16(val + off + 2);
		uint32_t ttl = fe_get_be32(val + off + 4);
		uint16_t rdlen = fe_get_be16(val + off + 8);
		off += 10;
		if (off + rdlen > len)
			return 0;
		const uint8_t *rdata = val + off;
		off += rdlen;
		if (!dnssec && dnssec_type(type) && !(sec == 0 && type == q->qtype))
			continue;
		ttl = ttl > age ? ttl - age : 0;
		if (ttl > left)
			ttl = left;
		int rc = fe_wire_builder_put_rr(&b, sec == 0 ? FE_SEC_ANSWER : FE_SEC_AUTHORITY,
		                                owner, type, rclass, ttl, rdata, rdlen);
		if (rc == FE_ENOSPC) {
			fe_wire_builder_set_flags(&b, FE_F_TC);
			break;
		}
		if (rc != FE_OK)
			return 0;
	}
	return fe_wire_builder_finish(&b, q, udp_max);
}
