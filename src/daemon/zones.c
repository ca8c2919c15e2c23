/* Zone loading for fedenumd: at start and on SIGHUP (from a background thread). Every load
 * goes through fe_zone_load_file, whose commit makes a new version current in one store
 * transaction: the query workers see the old zone or the new one, never a mix. A zone that
 * fails is reported with file:line and not stored; its previous version keeps serving. */
#include "daemon_int.h"

#include "fedenum/store.h"
#include "fedenum/wire.h"
#include "fedenum/zone.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Case-insensitive comparison of two presentation names, final dot optional. */
static bool same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

struct serial_ctx {
	const char *apex;
	bool found;
	uint32_t serial;
};

static bool serial_cb(const struct fe_store_zone_rec *zone, void *arg)
{
	struct serial_ctx *c = arg;
	char name[1024];
	fe_wire_name_to_str(zone->apex, name, sizeof(name));
	if (!same_name(name, c->apex))
		return true;
	c->found = true;
	c->serial = zone->serial;
	return false;
}

/* Serial of the stored current version of @apex: true if the zone is stored. */
static bool stored_serial(struct fe_store *st, const char *apex, uint32_t *serial)
{
	struct serial_ctx c = {.apex = apex};
	struct fe_store_reader *r = NULL;
	if (fe_store_reader_create(st, &r) != FE_OK)
		return false;
	if (fe_store_reader_begin(r) == FE_OK) {
		fe_store_foreach_zone(r, serial_cb, &c);
		fe_store_reader_end(r);
	}
	fe_store_reader_destroy(r);
	*serial = c.serial;
	return c.found;
}

static void load_one(struct fe_store *st, const struct fe__cfg_zone *z,
                     struct fe__zone_stats *stats)
{
	struct fe_zone_error err;
	char apex[1024];
	uint32_t file_serial, cur_serial;
	memset(&err, 0, sizeof(err));
	int rc = fe_zone_peek_soa(z->file, apex, sizeof(apex), &file_serial, &err);
	if (rc) {
		fe_log_err("%s:%lu: %s (zone defined at %s; not loaded)",
		           err.file[0] ? err.file : z->file, err.line,
		           err.reason[0] ? err.reason : fe_strerror(rc), z->where);
		stats->failed++;
		return;
	}
	if (z->apex && !same_name(z->apex, apex)) {
		fe_log_err("%s: zone file %s has apex %s, but %s is configured: not loaded",
		           z->where, z->file, apex, z->apex);
		stats->failed++;
		return;
	}
	/* The stored version already has this serial: nothing to parse (a restart serves straight
	 * from the store; fe_zone_commit would find the same and store nothing). */
	if (stored_serial(st, apex, &cur_serial) && cur_serial == file_serial) {
		stats->current++;
		fe_log_info("zone %s: serial %u already current, not reloaded (%s)", apex,
		            file_serial, z->where);
		return;
	}
	struct fe_zone_opts opts = {.origin = z->apex ? z->apex : apex};
	uint64_t t0 = fe_time_mono_ms();
	memset(&err, 0, sizeof(err));
	rc = fe_zone_load_file(z->file, &opts, st, &err);
	uint64_t ms = fe_time_mono_ms() - t0;
	if (rc != FE_OK && rc != FE_EEXIST) {
		fe_log_err("%s:%lu: %s (zone %s from %s not loaded: %s; the stored version, if "
		           "any, keeps serving)",
		           err.file[0] ? err.file : z->file, err.line,
		           err.reason[0] ? err.reason : fe_strerror(rc), apex, z->where,
		           fe_strerror(rc));
		stats->failed++;
		return;
	}
	/* fe_zone_commit logs the serial and sizes of what it stored (or that the serial was
	 * already current). */
	if (rc == FE_EEXIST)
		stats->current++;
	else
		stats->loaded++;
	fe_log_debug("zone %s: %s in %llu ms (%s)", apex, rc == FE_EEXIST ? "unchanged" : "loaded",
	             (unsigned long long)ms, z->where);
}

void fe__zones_load(struct fe_store *st, const struct fe__cfg *c, struct fe__zone_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	for (size_t i = 0; i < c->nzones; i++)
		load_one(st, &c->zones[i], stats);
}

struct list_ctx {
	char *buf;
	size_t cap, len;
	unsigned n;
};

static bool list_cb(const struct fe_store_zone_rec *zone, void *arg)
{
	struct list_ctx *l = arg;
	char name[1024];
	fe_wire_name_to_str(zone->apex, name, sizeof(name));
	if (l->len < l->cap) {
		int w = snprintf(l->buf + l->len, l->cap - l->len, "%s%s (serial %u)",
		                 l->n ? ", " : "", name, zone->serial);
		if (w > 0)
			l->len += (size_t)w;
		if (l->len >= l->cap)
			l->len = l->cap - 1;
	}
	l->n++;
	return true;
}

unsigned fe__zones_describe(struct fe_store *st, char *buf, size_t cap)
{
	struct list_ctx l = {.buf = buf, .cap = cap};
	buf[0] = '\0';
	struct fe_store_reader *r = NULL;
	if (fe_store_reader_create(st, &r) != FE_OK)
		return 0;
	if (fe_store_reader_begin(r) == FE_OK) {
		fe_store_foreach_zone(r, list_cb, &l);
		fe_store_reader_end(r);
	}
	fe_store_reader_destroy(r);
	return l.n;
}
