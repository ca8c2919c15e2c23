/* Catalog zones: the stored version of a catalog zone through the reader of catalog.c
 * (include/fedenum/xfr.h, "catalog zones"), one snapshot of the store. */
#include "fedenum/store.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "fedenum/xfr.h"

#include <string.h>

#define T_RRSIG 46u

int fe_catalog_from_store(struct fe_store *st, const uint8_t *apex, size_t apex_len,
                          size_t max_members, struct fe_catalog *out, char *why, size_t cap)
{
	memset(out, 0, sizeof(*out));
	uint8_t akey[FE_WIRE_KEY_MAX];
	int klen = fe_wire_name_key(apex, apex_len, akey, sizeof(akey));
	if (klen <= 0)
		return FE_EINVAL;
	struct fe_catalog_parser *p = NULL;
	int rc = fe_catalog_parser_create(apex, apex_len, max_members, &p);
	if (rc != FE_OK)
		return rc;
	struct fe_store_reader *r = NULL;
	rc = fe_store_reader_create(st, &r);
	if (rc == FE_OK)
		rc = fe_store_reader_begin(r);
	if (rc != FE_OK) {
		fe_store_reader_destroy(r);
		fe_catalog_parser_destroy(p);
		return rc;
	}
	const struct fe_store_zone_rec *zr = NULL;
	rc = fe_store_get_zone(r, akey, (size_t)klen, &zr);
	const uint8_t *key = NULL;
	size_t key_len = 0;
	/* bounded: one pass over the zone's nodes, and the parser stops at its record limit */
	while (rc == FE_OK) {
		struct fe_store_node node;
		const uint8_t *k2;
		size_t k2len;
		int nrc = fe_store_next_node(r, zr, false, key, key_len, &k2, &k2len, &node);
		if (nrc == FE_ENOENT)
			break;
		if (nrc != FE_OK) {
			rc = nrc;
			break;
		}
		key = k2;
		key_len = k2len;
		if (node.flags & FE_NODE_OCCLUDED)
			continue;
		size_t it = 0;
		struct fe_store_rrset rs;
		while (rc == FE_OK && fe_store_node_next(&node, &it, &rs)) {
			size_t ri = 0;
			const uint8_t *rd;
			uint16_t rdl;
			bool is_sig;
			while (fe_store_rrset_next(&rs, &ri, &rd, &rdl, &is_sig)) {
				int arc =
				        fe_catalog_parser_add(p, node.owner, node.owner_len,
				                              is_sig ? T_RRSIG : rs.type, rd, rdl);
				if (arc != FE_OK)
					break; /* kept by the parser: finish reports it */
			}
			if (fe_catalog_parser_failed(p))
				break;
		}
		if (fe_catalog_parser_failed(p))
			break;
	}
	if (rc == FE_OK)
		rc = fe_catalog_parser_finish(p, out, why, cap);
	fe_store_reader_end(r);
	fe_store_reader_destroy(r);
	fe_catalog_parser_destroy(p);
	return rc;
}
