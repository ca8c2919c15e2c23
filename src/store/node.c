/* Node blob decoding (format in include/fedenum/store.h). Blobs come from the map, which a
 * crash, a bug or a hostile file could have damaged: everything is bounds-checked once in
 * fe_store_node_decode, and the iterators check again against the blob end so that a
 * hand-made struct fe_store_node cannot walk out of bounds either. */
#include "fedenum/store.h"
#include "fedenum/util.h"

#include <string.h>

#define RRSET_HDR_LEN 14u

/* fe_store_rrset_next packs an offset and an index into one size_t. */
_Static_assert(sizeof(size_t) >= 8, "64-bit size_t required"); /* u16 type, u32 ttl, u16 rr_count,
                                                                  u16 sig_count, u32 body_len */

/* Check that @body holds exactly @n × (u16 rdlen, rdata). */
static bool body_ok(const uint8_t *body, uint32_t body_len, uint32_t n)
{
	uint32_t off = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (body_len - off < 2u)
			return false;
		uint16_t rdlen = fe_get_u16(body + off);
		off += 2u;
		if (body_len - off < rdlen)
			return false;
		off += rdlen;
	}
	return off == body_len;
}

int fe_store_node_decode(const void *blob, size_t len, struct fe_store_node *out)
{
	const uint8_t *p = blob;
	const uint8_t *end = p + len;

	memset(out, 0, sizeof(*out));
	if (len < 2u + 1u + 1u + 1u + 2u)
		return FE_EFORMAT;
	out->flags = fe_get_u16(p);
	p += 2;
	out->owner_len = *p++;
	/* An owner is at least the root label and at most 255 octets (RFC 1035 §2.3.4). */
	if (out->owner_len == 0 || (size_t)(end - p) < out->owner_len)
		return FE_EFORMAT;
	out->owner = p;
	p += out->owner_len;
	if (end - p < 1)
		return FE_EFORMAT;
	out->hash_len = *p++;
	if ((size_t)(end - p) < out->hash_len)
		return FE_EFORMAT;
	out->hash = out->hash_len ? p : NULL;
	p += out->hash_len;
	if (end - p < 2)
		return FE_EFORMAT;
	out->rrset_count = fe_get_u16(p);
	p += 2;
	out->rrsets = p;
	out->end = end;

	uint32_t prev_type = 0;
	for (uint16_t i = 0; i < out->rrset_count; i++) {
		if ((size_t)(end - p) < RRSET_HDR_LEN)
			return FE_EFORMAT;
		uint16_t type = fe_get_u16(p);
		uint16_t rr_count = fe_get_u16(p + 6);
		uint16_t sig_count = fe_get_u16(p + 8);
		uint32_t body_len = fe_get_u32(p + 10);
		p += RRSET_HDR_LEN;
		/* RRsets sorted by type, each type once. */
		if (i > 0 && type <= prev_type)
			return FE_EFORMAT;
		prev_type = type;
		if ((size_t)(end - p) < body_len)
			return FE_EFORMAT;
		if (!body_ok(p, body_len, (uint32_t)rr_count + sig_count))
			return FE_EFORMAT;
		p += body_len;
	}
	if (p != end)
		return FE_EFORMAT;
	return FE_OK;
}

/* Read the RRset header at *pos (inside node). */
static bool read_rrset(const struct fe_store_node *node, const uint8_t *p,
                       struct fe_store_rrset *out)
{
	if (p < node->rrsets || p > node->end || (size_t)(node->end - p) < RRSET_HDR_LEN)
		return false;
	out->type = fe_get_u16(p);
	out->ttl = fe_get_u32(p + 2);
	out->rr_count = fe_get_u16(p + 6);
	out->sig_count = fe_get_u16(p + 8);
	out->body_len = fe_get_u32(p + 10);
	out->body = p + RRSET_HDR_LEN;
	if ((size_t)(node->end - out->body) < out->body_len)
		return false;
	return true;
}

bool fe_store_node_next(const struct fe_store_node *node, size_t *iter, struct fe_store_rrset *out)
{
	/* *iter is the byte offset of the next RRset header from node->rrsets. */
	if (node->rrsets == NULL || node->rrset_count == 0)
		return false;
	size_t off = *iter;
	if (off > (size_t)(node->end - node->rrsets))
		return false;
	if (off == (size_t)(node->end - node->rrsets))
		return false;
	if (!read_rrset(node, node->rrsets + off, out))
		return false;
	*iter = (size_t)(out->body + out->body_len - node->rrsets);
	return true;
}

bool fe_store_node_find(const struct fe_store_node *node, uint16_t type, struct fe_store_rrset *out)
{
	size_t it = 0;
	struct fe_store_rrset rs;
	while (fe_store_node_next(node, &it, &rs)) {
		if (rs.type == type) {
			*out = rs;
			return true;
		}
		if (rs.type > type)
			break; /* sorted by type */
	}
	return false;
}

bool fe_store_rrset_next(const struct fe_store_rrset *rs, size_t *iter, const uint8_t **rdata,
                         uint16_t *rdlen, bool *is_sig)
{
	/* *iter packs the byte offset (low 32 bits) and the record index (high bits). */
	uint32_t off = (uint32_t)(*iter & 0xffffffffu);
	uint32_t idx = (uint32_t)(*iter >> 32);
	uint32_t total = (uint32_t)rs->rr_count + rs->sig_count;

	if (idx >= total || off > rs->body_len || rs->body_len - off < 2u)
		return false;
	uint16_t len = fe_get_u16(rs->body + off);
	if (rs->body_len - off - 2u < len)
		return false;
	*rdata = rs->body + off + 2u;
	*rdlen = len;
	*is_sig = idx >= rs->rr_count;
	off += 2u + len;
	idx++;
	*iter = ((size_t)idx << 32) | off;
	return true;
}
