/* Zone loading for fedenumd: at start and on SIGHUP (from a background thread). Every load
 * ends in fe_zone_commit, which makes a new version current in one store transaction: the
 * query workers see the old zone or the new one, never a mix. A zone that fails is reported
 * with file:line and not stored; its previous version keeps serving.
 *
 * Without trust anchors zones are loaded as the files say (fe_zone_load_file) and served
 * unvalidated (AD=0): tests, benchmarks, `--zone` alone. With trust anchors every
 * zone goes through fe_trust_load: ordered by apex depth, so that the registry is stored
 * before the members whose DS it holds; then fe_trust_sweep checks the chain of every
 * stored zone again, which is how a registry's new DS (re-delegation) or withdrawn delegation
 * reaches members whose own files did not change. */
#include "daemon_int.h"

#include "fedenum/store.h"
#include "fedenum/wire.h"
#include "fedenum/trust.h"
#include "fedenum/zone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

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
	uint64_t src_size;
	int64_t src_mtime_ns;
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
	c->src_size = zone->src_size;
	c->src_mtime_ns = zone->src_mtime_ns;
	return false;
}

/* Serial of the stored current version of @apex, and whether it was stored from @file as it
 * is now (size and mtime): true if the zone is stored. */
static bool stored_serial(struct fe_store *st, const char *apex, const char *file, uint32_t *serial,
                          bool *same_file)
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
	*same_file = c.found && fe_zone_file_matches(file, c.src_size, c.src_mtime_ns);
	return c.found;
}

static void load_one(struct fe_store *st, const struct fe_conf_zone *z,
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
	/* The stored version has this serial and came from this very file: nothing to parse (a
	 * restart serves straight from the store). An edited file with the same serial is
	 * parsed, and fe_zone_commit refuses it if its content differs. */
	bool same_file = false;
	if (stored_serial(st, apex, z->file, &cur_serial, &same_file) &&
	    cur_serial == file_serial && same_file) {
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
	if (rc == FE_ESERIAL || rc == FE_EPERM) {
		fe_log_err("%s: %s (zone defined at %s)", z->file, err.reason, z->where);
		stats->refused++;
		return;
	}
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

/* ---- federation trust ------------------------------------------------------------- */

struct tzone {
	const struct fe_conf_zone *z;
	char apex[1024];
};

static void trust_one(struct fe_store *st, struct fe_trust *trust, const struct tzone *t,
                      const struct fe_trust_opts *topts, struct fe__zone_stats *stats)
{
	struct fe_trust_result res;
	struct fe_zone_error err;
	struct fe_zone_opts opts = {.origin = t->z->apex ? t->z->apex : t->apex};
	int rc = fe_trust_load(trust, t->z->file, &opts, topts, st, &res, &err);
	if (rc == FE_OK && res.outcome == FE_TRUST_UNCHANGED) {
		stats->current++;
		fe_log_info("zone %s: serial %u already current and validated, not reloaded (%s)",
		            t->apex, res.serial, t->z->where);
		return;
	}
	if (rc == FE_OK) {
		char until[32];
		fe_time_str(res.expire_s, until, sizeof(until));
		stats->loaded++;
		fe_log_info("zone %s serial %u validated through the %s (key %u/%u): %llu RRsets, "
		            "%llu signatures verified (%llu already proven by the previous "
		            "version), %llu %s records, in %.2f s on %u threads; valid "
		            "until %s",
		            t->apex, res.serial, res.trust, res.rep.trusted_key_tag,
		            res.rep.trusted_key_alg, (unsigned long long)res.rep.rrsets,
		            (unsigned long long)res.rep.signatures,
		            (unsigned long long)res.rep.signatures_cached,
		            (unsigned long long)res.rep.denial_records,
		            res.rep.nsec3 ? "NSEC3" : "NSEC", res.rep.seconds, res.rep.threads,
		            until);
		return;
	}
	char prev[160];
	if (!res.has_previous)
		snprintf(prev, sizeof(prev), "nothing is served for it");
	else if (res.previous_served)
		snprintf(prev, sizeof(prev), "the stored serial %u keeps serving",
		         res.previous_serial);
	else
		snprintf(prev, sizeof(prev), "the stored serial %u is not served either",
		         res.previous_serial);
	if (rc == FE_ESERIAL) {
		stats->refused++;
		fe_log_err("%s: %s (zone defined at %s)", t->z->file, err.reason, t->z->where);
		return;
	}
	if (rc == FE_EVALIDATE)
		stats->rejected++;
	else
		stats->failed++;
	fe_log_err("%s:%lu: %s (zone %s serial %u from %s %s: %s; %s)",
	           err.file[0] ? err.file : t->z->file, err.line,
	           err.reason[0] ? err.reason : fe_strerror(rc), res.apex[0] ? res.apex : t->apex,
	           res.serial, t->z->where, rc == FE_EVALIDATE ? "rejected" : "not loaded",
	           rc == FE_EVALIDATE ? "DNSSEC validation failed" : fe_strerror(rc), prev);
}

static void zones_trust(struct fe_store *st, struct fe_trust *trust, const struct fe_conf *c,
                        struct fe__zone_stats *stats)
{
	struct tzone *tz = calloc(c->nzones ? c->nzones : 1, sizeof(*tz));
	const char **apex = calloc(c->nzones ? c->nzones : 1, sizeof(*apex));
	size_t *order = calloc(c->nzones ? c->nzones : 1, sizeof(*order));
	size_t n = 0;
	if (tz == NULL || apex == NULL || order == NULL) {
		free(tz);
		free(apex);
		free(order);
		fe_log_err("zone loads: out of memory");
		stats->failed += (unsigned)c->nzones;
		return;
	}
	for (size_t i = 0; i < c->nzones; i++) {
		const struct fe_conf_zone *z = &c->zones[i];
		struct fe_zone_error err;
		uint32_t serial;
		memset(&err, 0, sizeof(err));
		struct tzone *t = &tz[n];
		int rc = fe_zone_peek_soa(z->file, t->apex, sizeof(t->apex), &serial, &err);
		if (rc) {
			fe_log_err("%s:%lu: %s (zone defined at %s; not loaded)",
			           err.file[0] ? err.file : z->file, err.line,
			           err.reason[0] ? err.reason : fe_strerror(rc), z->where);
			stats->failed++;
			continue;
		}
		if (z->apex && !same_name(z->apex, t->apex)) {
			fe_log_err("%s: zone file %s has apex %s, but %s is configured: not loaded",
			           z->where, z->file, t->apex, z->apex);
			stats->failed++;
			continue;
		}
		t->z = z;
		apex[n] = t->apex;
		n++;
	}
	/* Parents first: a member's DS is read from the registry's stored version. */
	if (fe_trust_parents_first(apex, n, order) != FE_OK) {
		fe_log_err("zone loads: out of memory");
		stats->failed += (unsigned)n;
		n = 0;
	}
	struct fe_trust_opts topts = {.anchors = c->anchors};
	fe_dnssec_opts_init(&topts.validate);
	topts.validate.nsec3_max_iterations = c->nsec3_max_iterations;
	topts.validate.zonemd_required = c->zonemd_required;
	topts.validate.forbid_opt_out = c->forbid_opt_out;
	for (size_t i = 0; i < n; i++)
		trust_one(st, trust, &tz[order[i]], &topts, stats);
	free(tz);
	free(apex);
	free(order);

	struct fe_trust_sweep_report rep;
	int rc = fe_trust_sweep(st, c->anchors, 0, &rep);
	if (rc != FE_OK) {
		fe_log_err("trust: checking the stored zones' chains failed: %s", fe_strerror(rc));
		snprintf(stats->trust, sizeof(stats->trust), "; trust: chain check failed (%s)",
		         fe_strerror(rc));
		return;
	}
	stats->suspended = rep.suspended;
	stats->restored = rep.restored;
	snprintf(stats->trust, sizeof(stats->trust),
	         "; trust: %u validated zones served, %u not served (%u bogus, %u unchecked), "
	         "%u rejected",
	         rep.secure, rep.bogus + rep.unchecked, rep.bogus, rep.unchecked, stats->rejected);
}

void fe__zone_stats_add(struct fe__zone_stats *sum, const struct fe__zone_stats *s)
{
	sum->loaded += s->loaded;
	sum->current += s->current;
	sum->failed += s->failed;
	sum->rejected += s->rejected;
	sum->refused += s->refused;
	sum->suspended += s->suspended;
	sum->restored += s->restored;
}

pthread_mutex_t fe__load_lock = PTHREAD_MUTEX_INITIALIZER;

void fe__zones_load(struct fe_store *st, struct fe_trust *trust, const struct fe_conf *c,
                    struct fe__zone_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	pthread_mutex_lock(&fe__load_lock);
	if (fe_trust_anchors_count(c->anchors) > 0)
		zones_trust(st, trust, c, stats);
	else
		for (size_t i = 0; i < c->nzones; i++)
			load_one(st, &c->zones[i], stats);
	pthread_mutex_unlock(&fe__load_lock);
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

/* ---- the trust a store is kept under ------------------------------------------------ */

int fe__zones_settle_trust(struct fe_store *st, struct fe_conf *c)
{
	struct fe_trust_anchors *stored = NULL;
	char buf[2048];
	int rc = fe_trust_anchors_from_store(st, &stored);
	if (rc != FE_OK && rc != FE_ENOENT) {
		fe_log_err("store: the trust anchors recorded in it cannot be read: %s",
		           fe_strerror(rc));
		return rc;
	}
	if (fe_trust_anchors_count(c->anchors) > 0) {
		if (!fe_trust_anchors_equal(stored, c->anchors)) {
			rc = fe_trust_anchors_save(c->anchors, st);
			if (rc != FE_OK) {
				fe_log_err("store: cannot record the trust anchors: %s",
				           fe_strerror(rc));
				fe_trust_anchors_destroy(stored);
				return rc;
			}
			fe_trust_anchors_describe(c->anchors, buf, sizeof(buf));
			fe_log_info("store: trust anchors %s: %s", stored ? "replaced" : "recorded",
			            buf);
		}
		fe_trust_anchors_destroy(stored);
		return FE_OK;
	}
	if (stored != NULL) {
		/* A store written under anchors stays under them: no configuration (or one
		 * without anchors) never turns validation off. */
		fe_trust_anchors_describe(stored, buf, sizeof(buf));
		fe_log_info("no trust anchors configured: the store stays under the anchors "
		            "recorded in it: %s",
		            buf);
		fe_trust_anchors_destroy(c->anchors);
		c->anchors = stored;
	}
	return FE_OK;
}
