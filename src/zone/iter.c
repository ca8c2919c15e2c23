/* Walking a parsed zone's records (include/fedenum/zone.h, fe_zone_foreach_rr). */
#include "zone_int.h"

typedef bool (*rr_cb)(const struct fe_zone_rr *rr, const char *file, unsigned long line, void *arg);

static bool visit(const struct fe_zone *z, const struct fe__zrec *r, rr_cb cb, void *arg)
{
	struct fe_zone_rr rr = {
	        .owner = fe__own_name(r->own),
	        .owner_len = r->own->name_len,
	        .type = r->type,
	        .ttl = r->ttl,
	        .rdata = r->rdata,
	        .rdlen = r->rdlen,
	};
	return cb(&rr, r->file < z->nfiles ? z->files[r->file] : "", r->line, arg);
}

void fe_zone_foreach_rr(const struct fe_zone *z, rr_cb cb, void *arg)
{
	for (size_t i = 0; i < z->nrecs; i++)
		if (!visit(z, z->recs[i], cb, arg))
			return;
	for (size_t i = 0; i < z->n3recs_len; i++)
		if (!visit(z, z->n3recs[i], cb, arg))
			return;
}
