/* libFuzzer target: the catalog zone reader (src/xfr/catalog.c, RFC 9432; docs/security.md
 * X10) on hostile records. The input is a sequence of records, each [owner length][owner]
 * [type, 2 octets][RDATA length, 2 octets][RDATA], given to a parser for the catalog
 * "cat.fed." with at most 16 members. Beyond "no crash, no sanitizer report": a catalog
 * accepted has at most 16 members, each a valid name outside the catalog, in strictly
 * ascending canonical order, each found by fe_catalog_find; a refused one has none. Any
 * violation aborts. */
#include "fedenum/wire.h"
#include "fedenum/xfr.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t apex[] = "\003cat\003fed";
	struct fe_catalog_parser *p = NULL;
	if (fe_catalog_parser_create(apex, sizeof(apex), 16, &p) != 0)
		abort();
	size_t off = 0;
	while (off < size) {
		size_t olen = data[off++];
		if (size - off < olen + 4)
			break;
		const uint8_t *owner = data + off;
		off += olen;
		uint16_t type = (uint16_t)(data[off] << 8 | data[off + 1]);
		size_t rdlen = (size_t)(data[off + 2] << 8 | data[off + 3]);
		off += 4;
		if (size - off < rdlen)
			rdlen = size - off;
		(void)fe_catalog_parser_add(p, owner, olen, type, data + off, rdlen);
		off += rdlen;
	}
	struct fe_catalog c;
	char why[512];
	int rc = fe_catalog_parser_finish(p, &c, why, sizeof(why));
	fe_catalog_parser_destroy(p);
	if (rc != 0) {
		if (c.n || c.m || !why[0])
			abort();
		return 0;
	}
	if (c.n > 16)
		abort();
	uint8_t prev[FE_WIRE_KEY_MAX];
	int prev_len = -1;
	for (size_t i = 0; i < c.n; i++) {
		const struct fe_catalog_member *m = &c.m[i];
		if (fe_wire_name_len(m->zone_wire, m->zone_wire_len) != (int)m->zone_wire_len ||
		    m->zone_wire_len < 2)
			abort();
		/* not the catalog nor below it: no label boundary starts the catalog's name */
		for (size_t o = 0; o < m->zone_wire_len && m->zone_wire[o];
		     o += 1u + m->zone_wire[o])
			if (m->zone_wire_len - o == sizeof(apex) &&
			    fe_wire_name_eq(m->zone_wire + o, apex))
				abort();
		uint8_t key[FE_WIRE_KEY_MAX];
		int kl = fe_wire_name_key(m->zone_wire, m->zone_wire_len, key, sizeof(key));
		if (kl <= 0 || (prev_len >= 0 &&
		                fe_wire_key_cmp(prev, (size_t)prev_len, key, (size_t)kl) >= 0))
			abort();
		if (fe_catalog_find(&c, m->zone_wire, m->zone_wire_len) != m)
			abort(); /* the binary search finds every member */
		memcpy(prev, key, (size_t)kl);
		prev_len = kl;
	}
	fe_catalog_free(&c);
	return 0;
}
