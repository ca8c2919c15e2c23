/* fedenumd as a catalog consumer (RFC 9432): --catalog APEX@ADDR@PORT and xfr.catalogs.
 *
 * The catalog zone is a secondary zone like any (secondary.c: TSIG, IXFR/AXFR, NOTIFY, SOA
 * timers; validated under trust anchors). Each time a new version of it is stored, it is
 * read from the store (fe_catalog_from_store, src/xfr/catalog.c) and the member zones
 * follow it on the main loop: a new member becomes a secondary zone of this node, from the
 * catalog's primary unless the catalog names another; a member that left is no longer
 * refreshed nor NOTIFYed, and its zone is removed from the store (fe_store_drop_zone), loudly
 * logged. A catalog that breaks the rules is refused: logged, counted, and the membership
 * stays as it was (a bad catalog never takes zones away).
 *
 * Restart: the membership applied last is kept in the store's meta ("catalog <apex>", one
 * apex a line); at start the stored catalog is read again, and a zone recorded but no longer
 * listed is removed then. A catalog not held yet, or refused, keeps the recorded membership.
 *
 * Threads: everything here runs on fedenumd's main loop; removals from the store take
 * fe__load_lock against a load running on the pool. */
#include "daemon_int.h"

#include "fedenum/store.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "fedenum/xfr.h"
#include "fedenum/zone.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <strings.h>

#define META_PREFIX "catalog "
#define APEX_STR    (FE_WIRE_NAME_MAX * 4 + 2)

static void count(struct fe__sec *s, enum fe__sec_cnt c)
{
	__atomic_fetch_add(&s->cnt[c], 1, __ATOMIC_RELAXED);
}

static void lower(char *p)
{
	for (; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_own(struct fe__sec *s)
{
	for (size_t i = 0; i < s->nown; i++)
		free(s->own[i]);
	free(s->own);
	s->own = NULL;
	s->nown = 0;
}

void fe__cat_groups(struct fe__sec *s, const struct fe_conf *c)
{
	if (!s->ncat || !c)
		return;
	struct fe__sec_group *g = calloc(c->nmembers ? c->nmembers : 1, sizeof(*g));
	char **own = calloc(c->nzones ? c->nzones : 1, sizeof(*own));
	if (!g || !own) {
		free(g);
		free(own);
		fe_log_err("catalogs: out of memory: the groups and own zones stay as they were");
		return;
	}
	size_t n = 0;
	for (size_t i = 0; i < c->nmembers; i++) {
		const struct fe_conf_member *m = &c->members[i];
		if (!m->name || !m->has_primary)
			continue;
		snprintf(g[n].name, sizeof(g[n].name), "%s", m->name);
		snprintf(g[n].primary, sizeof(g[n].primary), "%s@%u", m->primary.host,
		         (unsigned)m->primary.port);
		n++;
	}
	free(s->groups);
	s->groups = g;
	s->ngroups = n;
	/* this node's own zones: the configured files (apex written, else the file's SOA) that
	 * exist on this node. A federation definition shared by every node lists every
	 * member's zone with its file; a node holds only its own member's files, and the
	 * others' zones are exactly what it takes from the catalog. */
	size_t no = 0;
	for (size_t i = 0; i < c->nzones; i++) {
		char apex[FE_WIRE_NAME_MAX * 4 + 2];
		struct fe_zone_error err;
		memset(&err, 0, sizeof(err));
		struct stat sb;
		if (c->zones[i].file && stat(c->zones[i].file, &sb) != 0 && errno == ENOENT)
			continue;
		if (c->zones[i].apex)
			snprintf(apex, sizeof(apex), "%s", c->zones[i].apex);
		else if (!c->zones[i].file ||
		         fe_zone_peek_apex(c->zones[i].file, apex, sizeof(apex), &err) != FE_OK)
			continue;
		size_t l = strlen(apex);
		if (!l)
			continue;
		own[no] = malloc(l + 2);
		if (!own[no])
			break;
		snprintf(own[no], l + 2, "%s%s", apex, apex[l - 1] == '.' ? "" : ".");
		lower(own[no]);
		no++;
	}
	qsort(own, no, sizeof(*own), str_cmp);
	free_own(s);
	s->own = own;
	s->nown = no;
	snprintf(s->key_dir, sizeof(s->key_dir), "%s",
	         c->signing_key_dir ? c->signing_key_dir : "");
}

/* Is @apex (presentation, lower case, final dot) one of this node's own zones: a configured
 * file, or signed here (a key of it in signing.key-dir, K<apex>+...)? */
static bool own_zone(const struct fe__sec *s, const char *apex)
{
	const char *key = apex;
	if (s->nown && bsearch(&key, s->own, s->nown, sizeof(*s->own), str_cmp))
		return true;
	if (!s->key_dir[0])
		return false;
	DIR *d = opendir(s->key_dir);
	if (!d)
		return false;
	size_t l = strlen(apex);
	bool found = false;
	struct dirent *e;
	/* bounded by the folder's entries; only asked for zones a catalog adds */
	while (!found && (e = readdir(d)) != NULL)
		found = e->d_name[0] == 'K' && strncasecmp(e->d_name + 1, apex, l) == 0 &&
		        e->d_name[1 + l] == '+';
	closedir(d);
	return found;
}

static void meta_name(const struct fe__sec_zone *cz, char *out, size_t cap)
{
	snprintf(out, cap, META_PREFIX "%s", cz->apex);
}

/* The membership recorded for @cz: a malloc'd text, one member a line: its apex, a tab and
 * its primary "ADDR@PORT" (NULL: none). */
static char *meta_load(const struct fe__sec_zone *cz)
{
	char name[APEX_STR + 16];
	size_t len = 0;
	meta_name(cz, name, sizeof(name));
	if (fe_store_meta_get(cz->sec->st, name, NULL, 0, &len) != FE_OK || !len)
		return NULL;
	char *buf = malloc(len + 1);
	if (!buf)
		return NULL;
	if (fe_store_meta_get(cz->sec->st, name, buf, len, &len) != FE_OK) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

/* Record the members of @cz (every zone of s->z it owns and that has not left). */
static void meta_save(struct fe__sec_zone *cz)
{
	struct fe__sec *s = cz->sec;
	size_t cap = 1, len = 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->z[i]->member_of == cz && !fe__sec_is_removed(s->z[i]))
			cap += strlen(s->z[i]->apex) + sizeof(s->z[i]->primary.host) + 10;
	char *buf = malloc(cap);
	if (!buf) {
		fe_log_err("catalog %s: out of memory: membership not recorded", cz->apex);
		return;
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct fe__sec_zone *z = s->z[i];
		if (z->member_of != cz || fe__sec_is_removed(z))
			continue;
		int w = snprintf(buf + len, cap - len, "%s\t%s@%u\n", z->apex, z->primary.host,
		                 (unsigned)z->primary.port);
		if (w < 0 || (size_t)w >= cap - len)
			break;
		len += (size_t)w;
	}
	if (!len) /* no members: recorded as such (an empty value would delete the record) */
		buf[len++] = '\n';
	char name[APEX_STR + 16];
	meta_name(cz, name, sizeof(name));
	int rc = fe_store_meta_put(s->st, name, buf, len);
	if (rc != FE_OK)
		fe_log_err("catalog %s: membership not recorded in the store: %s (a restart "
		           "reads the stored catalog again)",
		           cz->apex, fe_strerror(rc));
	free(buf);
}

#define DROP_RETRY_MS 200u

/* After zone @apex was taken out of the store (@rc of its drop): its transfer files, the
 * counter and the loud line. */
static void dropped(struct fe__sec_zone *cz, const char *apex, const char *why, int rc)
{
	struct fe__sec *s = cz->sec;
	char p[PATH_MAX];
	if (snprintf(p, sizeof(p), "%s/%szone", s->dir, apex) < (int)sizeof(p))
		(void)remove(p);
	if (snprintf(p, sizeof(p), "%s/%szone.new", s->dir, apex) < (int)sizeof(p))
		(void)remove(p);
	count(s, FE__SEC_CATALOG_REMOVED);
	if (rc == FE_OK)
		fe_log_warn("zone %s: LEFT CATALOG %s (%s): no longer served, REMOVED from the "
		            "store",
		            apex, cz->apex, why);
	else if (rc == FE_ENOENT)
		fe_log_warn("zone %s: left catalog %s (%s): no longer a secondary; it was not "
		            "held",
		            apex, cz->apex, why);
	else
		fe_log_err("zone %s: left catalog %s (%s): no longer a secondary, but removing it "
		           "from the store failed: %s (fedenumctl zone list shows it)",
		           apex, cz->apex, why, fe_strerror(rc));
}

/* Remove zone @apex (not one of s->z: recorded only) from the store: it left catalog @cz
 * while this node was down. At start, before the loop runs: waits for the load lock. */
static void drop_apex(struct fe__sec_zone *cz, const uint8_t *wire, size_t wlen, const char *apex,
                      const char *why)
{
	pthread_mutex_lock(&fe__load_lock);
	int rc = fe_store_drop_zone(cz->sec->st, wire, wlen);
	pthread_mutex_unlock(&fe__load_lock);
	dropped(cz, apex, why, rc);
}

static void drop_retry_cb(uv_timer_t *t)
{
	struct fe__sec_zone *z = t->data;
	if (!z->sec->stopping)
		(void)fe__cat_drop_if_leaving(z);
}

static void forget(struct fe__sec_zone *z)
{
	z->dropping = false;
	z->has_serial = false;
	z->serial = 0;
	z->expired = false;
	z->last_ok_s = 0;
	z->next_s = 0;
	z->refresh_s = z->retry_s = z->expire_s = 0;
	z->last_err[0] = '\0';
	z->queued = false;
}

/* Remove the members @z[0, n) (none refreshing) from the store in one transaction, now, or
 * (a load holds the lock: a long load elsewhere must not stall the main loop) each from its
 * timer a little later: they stay `dropping` (NOTIFY refused, not refreshed, not taken back)
 * until then. */
static void drop_members(struct fe__sec_zone **z, size_t n, const char *why)
{
	if (!n)
		return;
	const uint8_t **apex = malloc(n * sizeof(*apex));
	size_t *len = malloc(n * sizeof(*len));
	int *each = malloc(n * sizeof(*each));
	bool locked = apex && len && each && pthread_mutex_trylock(&fe__load_lock) == 0;
	for (size_t i = 0; i < n; i++) {
		z[i]->queued = false;
		if (z[i]->timer_ready)
			uv_timer_stop(&z[i]->timer);
	}
	if (!locked) {
		for (size_t i = 0; i < n; i++) {
			if (!z[i]->dropping)
				fe_log_info("zone %s: left catalog %s (%s): removed from the store "
				            "once "
				            "the running load ends",
				            z[i]->apex, z[i]->member_of->apex, why);
			z[i]->dropping = true;
			if (z[i]->timer_ready)
				uv_timer_start(&z[i]->timer, drop_retry_cb, DROP_RETRY_MS, 0);
		}
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		apex[i] = z[i]->apex_wire;
		len[i] = z[i]->apex_wire_len;
	}
	int rc = fe_store_drop_zones(z[0]->sec->st, apex, len, n, each);
	pthread_mutex_unlock(&fe__load_lock);
	for (size_t i = 0; i < n; i++) {
		dropped(z[i]->member_of, z[i]->apex, why, rc == FE_OK ? each[i] : rc);
		forget(z[i]);
	}
out:
	free(apex);
	free(len);
	free(each);
}

bool fe__cat_drop_if_leaving(struct fe__sec_zone *z)
{
	if (!z->dropping)
		return false;
	drop_members(&z, 1, "after a running refresh or load");
	return true;
}

/* The primary of member @m of catalog @cz: "ADDR@PORT" into @out, and where it came from. */
static const char *member_primary(const struct fe__sec_zone *cz, const struct fe_catalog *c,
                                  const struct fe_catalog_member *m, char *out, size_t cap)
{
	const struct fe__sec *s = cz->sec;
	if (m->primary[0]) {
		snprintf(out, cap, "%s", m->primary);
		return strcmp(m->id, "(recorded)") == 0 ? "the primary recorded"
		                                        : "the member's primaries.ext";
	}
	if (m->group[0])
		for (size_t i = 0; i < s->ngroups; i++)
			if (strcmp(s->groups[i].name, m->group) == 0) {
				snprintf(out, cap, "%s", s->groups[i].primary);
				return "its group's members.primary";
			}
	if (c->primary[0]) {
		snprintf(out, cap, "%s", c->primary);
		return "the catalog's primaries.ext";
	}
	snprintf(out, cap, "%s@%u", cz->primary.host, (unsigned)cz->primary.port);
	return "the catalog's primary";
}

/* The secondary zones of the node by name, for one pass over a catalog (a catalog of N zones
 * costs N log N, not N times every zone): pointers sorted by the canonical key of the apex. */
struct zindex {
	struct fe__sec_zone **z;
	size_t n;
};

static int zcmp(const void *a, const void *b)
{
	const struct fe__sec_zone *x = *(struct fe__sec_zone *const *)a;
	const struct fe__sec_zone *y = *(struct fe__sec_zone *const *)b;
	uint8_t kx[FE_WIRE_KEY_MAX], ky[FE_WIRE_KEY_MAX];
	int lx = fe_wire_name_key(x->apex_wire, x->apex_wire_len, kx, sizeof(kx));
	int ly = fe_wire_name_key(y->apex_wire, y->apex_wire_len, ky, sizeof(ky));
	return fe_wire_key_cmp(kx, lx > 0 ? (size_t)lx : 0, ky, ly > 0 ? (size_t)ly : 0);
}

static void zindex_make(struct zindex *ix, struct fe__sec *s)
{
	ix->n = 0;
	ix->z = malloc((s->n ? s->n : 1) * sizeof(*ix->z));
	if (!ix->z)
		return; /* find_zone falls back to a walk */
	memcpy(ix->z, s->z, s->n * sizeof(*ix->z));
	ix->n = s->n;
	if (ix->n)
		qsort(ix->z, ix->n, sizeof(*ix->z), zcmp);
}

static struct fe__sec_zone *find_zone(const struct zindex *ix, struct fe__sec *s,
                                      const uint8_t *wire, size_t len)
{
	if (!ix || !ix->z) {
		for (size_t i = 0; i < s->n; i++)
			if (s->z[i]->apex_wire_len == len &&
			    fe_wire_name_eq(s->z[i]->apex_wire, wire))
				return s->z[i];
		return NULL;
	}
	struct fe__sec_zone probe;
	memcpy(probe.apex_wire, wire, len);
	probe.apex_wire_len = len;
	const struct fe__sec_zone *pp = &probe;
	struct fe__sec_zone **hit = bsearch(&pp, ix->z, ix->n, sizeof(*ix->z), zcmp);
	return hit ? *hit : NULL;
}

/* Member @m of @cz with primary @spec: a new secondary zone (or one that left earlier,
 * again), or the primary of a member held changed. */
static void add_or_update(struct fe__sec_zone *cz, const struct zindex *ix,
                          const struct fe_catalog_member *m, const char *primary, const char *from)
{
	struct fe__sec *s = cz->sec;
	char spec[APEX_STR + 128];
	snprintf(spec, sizeof(spec), "%s@%s", m->zone, primary);
	struct fe__sec_zone want;
	memset(&want, 0, sizeof(want));
	if (fe__sec_zone_parse(spec, &want) != FE_OK) {
		fe_log_err("catalog %s: zone %s: primary %s (%s) is not usable: not added",
		           cz->apex, m->zone, primary, from);
		return;
	}
	struct fe__sec_zone *z = find_zone(ix, s, want.apex_wire, want.apex_wire_len);
	if (z && z->member_of == cz && !fe__sec_is_removed(z)) {
		snprintf(z->cat_id, sizeof(z->cat_id), "%s", m->id);
		if (fe__sec_take_primary(z, &want))
			fe_log_info("catalog %s: zone %s: primary now %s (%s)", cz->apex, z->apex,
			            primary, from);
		return;
	}
	if (own_zone(s, want.apex)) {
		fe_log_warn(
		        "catalog %s: zone %s is one of this node's own zones (zones, --zone, or "
		        "signed here): not taken from the catalog",
		        cz->apex, m->zone);
		return;
	}
	if (z && (!fe__sec_is_removed(z) || z->dropping)) {
		fe_log_warn("catalog %s: zone %s is %s: not taken from this catalog", cz->apex,
		            m->zone,
		            z->dropping     ? "being removed from the store (next catalog version)"
		            : z->is_catalog ? "a catalog zone of this node"
		            : z->member_of  ? "a member of another catalog (the first one keeps it)"
		                            : "a configured secondary zone (--secondary, "
		                              "xfr.secondary)");
		return;
	}
	if (z) { /* it left a catalog (or the configuration) before: it comes back */
		z->member_of = cz;
		fe__sec_take_primary(z, &want);
		snprintf(z->cat_id, sizeof(z->cat_id), "%s", m->id);
		__atomic_store_n(&z->removed, 0, __ATOMIC_RELEASE);
		count(s, FE__SEC_CATALOG_ADDED);
		fe_log_info("catalog %s: zone %s added again (unique id %s, primary %s from %s): "
		            "refresh now",
		            cz->apex, z->apex, m->id, primary, from);
		fe__sec_refresh_now(z);
		return;
	}
	if (s->n == s->cap) {
		fe_log_err("catalog %s: zone %s not added: this node has %zu secondary zone slots, "
		           "all taken since start (restart)",
		           cz->apex, m->zone, s->cap);
		return;
	}
	z = calloc(1, sizeof(*z));
	if (!z) {
		fe_log_err("catalog %s: zone %s not added: out of memory", cz->apex, m->zone);
		return;
	}
	*z = want;
	z->sec = s;
	z->member_of = cz;
	snprintf(z->cat_id, sizeof(z->cat_id), "%s", m->id);
	fe__sec_assign_peer(s, z);
	count(s, FE__SEC_CATALOG_ADDED);
	fe_log_info("catalog %s: zone %s added (unique id %s, primary %s from %s)", cz->apex,
	            z->apex, m->id, primary, from);
	if (fe__sec_zone_begin(s, z) != FE__EXIT_OK) {
		free(z);
		return;
	}
	__atomic_store_n(&s->z[s->n], z, __ATOMIC_RELAXED);
	__atomic_store_n(&s->n, s->n + 1, __ATOMIC_RELEASE); /* NOTIFY may name it now */
}

/* Apply catalog @c (read from the store) to the members of @cz. @recorded: the membership
 * recorded in the store (at start: zones in it and not in @c are removed too). */
static void apply(struct fe__sec_zone *cz, const struct fe_catalog *c, const char *recorded)
{
	struct fe__sec *s = cz->sec;
	char why[64];
	snprintf(why, sizeof(why), "serial %u", c->serial);
	unsigned removed = 0, before = 0;
	struct zindex ix;
	zindex_make(&ix, s); /* s->z gains zones below, never loses one */
	struct fe__sec_zone **leave = malloc((s->n ? s->n : 1) * sizeof(*leave));
	size_t nleave = 0;
	/* removals first: a zone that left never waits behind the additions */
	for (size_t i = 0; i < s->n; i++) {
		struct fe__sec_zone *z = s->z[i];
		if (z->member_of != cz || fe__sec_is_removed(z))
			continue;
		before++;
		if (fe_catalog_find(c, z->apex_wire, z->apex_wire_len))
			continue;
		__atomic_store_n(&z->removed, 1, __ATOMIC_RELEASE); /* NOTIFY refused from now */
		removed++;
		if (z->busy) {
			z->dropping = true; /* removed from the store when its refresh ends */
			fe_log_warn(
			        "zone %s: left catalog %s (%s): removed from the store once its "
			        "running refresh ends",
			        z->apex, cz->apex, why);
		} else if (leave) {
			leave[nleave++] = z;
		} else {
			drop_members(&z, 1, why);
		}
	}
	drop_members(leave, nleave, why); /* one store transaction for all of them */
	free(leave);
	/* recorded members this process never held (a restart after they left) */
	for (const char *p = recorded; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		const char *tab = memchr(p, '\t', l);
		size_t line = l;
		if (tab)
			l = (size_t)(tab - p);
		char apex[APEX_STR];
		uint8_t w[FE_WIRE_NAME_MAX];
		if (l && l < sizeof(apex)) {
			memcpy(apex, p, l);
			apex[l] = '\0';
			int wl = fe_conf_name_from_str(apex, w, sizeof(w));
			if (wl > 0 && !fe_catalog_find(c, w, (size_t)wl) &&
			    !find_zone(&ix, s, w, (size_t)wl) && !own_zone(s, apex)) {
				drop_apex(cz, w, (size_t)wl, apex, "while this node was down");
				removed++;
			}
		}
		p = nl ? nl + 1 : p + line;
	}
	unsigned added_before =
	        (unsigned)__atomic_load_n(&s->cnt[FE__SEC_CATALOG_ADDED], __ATOMIC_RELAXED);
	for (size_t i = 0; i < c->n; i++) {
		char primary[96];
		const char *from = member_primary(cz, c, &c->m[i], primary, sizeof(primary));
		add_or_update(cz, &ix, &c->m[i], primary, from);
	}
	free(ix.z);
	unsigned added =
	        (unsigned)__atomic_load_n(&s->cnt[FE__SEC_CATALOG_ADDED], __ATOMIC_RELAXED) -
	        added_before;
	meta_save(cz);
	fe_log_info("catalog %s serial %u: %zu member zones (%u added, %u removed, %u before)%s",
	            cz->apex, c->serial, c->n, added, removed, before,
	            c->ignored ? "; records not used by this node ignored" : "");
}

/* The recorded membership as a catalog (no properties; members in recorded order, not sorted:
 * not for fe_catalog_find): at start, when the stored catalog cannot be read, the zones
 * recorded keep being secondaries of their recorded primaries. */
static int from_recorded(const struct fe__sec_zone *cz, const char *recorded, struct fe_catalog *c)
{
	memset(c, 0, sizeof(*c));
	size_t n = 0;
	for (const char *p = recorded; p && *p; p++)
		n += *p == '\n';
	c->m = calloc(n ? n : 1, sizeof(*c->m));
	if (!c->m)
		return FE_ENOMEM;
	for (const char *p = recorded; p && *p && c->n < n;) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		size_t line = l;
		const char *tab = memchr(p, '\t', l);
		struct fe_catalog_member *m = &c->m[c->n];
		if (tab) {
			size_t pl = l - (size_t)(tab + 1 - p);
			if (pl < sizeof(m->primary)) {
				memcpy(m->primary, tab + 1, pl);
				m->primary[pl] = '\0';
			}
			l = (size_t)(tab - p);
		}
		if (l && l < sizeof(m->zone)) {
			memcpy(m->zone, p, l);
			m->zone[l] = '\0';
			int wl = fe_conf_name_from_str(m->zone, m->zone_wire, sizeof(m->zone_wire));
			if (wl > 0) {
				m->zone_wire_len = (size_t)wl;
				snprintf(m->id, sizeof(m->id), "(recorded)");
				c->n++;
			}
		}
		p = nl ? nl + 1 : p + line;
	}
	(void)cz;
	return FE_OK;
}

void fe__cat_start(struct fe__sec *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct fe__sec_zone *cz = s->z[i];
		if (!cz->is_catalog)
			continue;
		char *rec = meta_load(cz);
		struct fe_catalog c;
		char why[512];
		int rc = fe_catalog_from_store(s->st, cz->apex_wire, cz->apex_wire_len,
		                               s->cat_max_members, &c, why, sizeof(why));
		if (rc == FE_OK) {
			count(s, FE__SEC_CATALOG_ACCEPTED);
			fe_log_info("catalog %s: stored serial %u read at start", cz->apex,
			            c.serial);
			apply(cz, &c, rec);
		} else {
			if (rc != FE_ENOENT) {
				count(s, FE__SEC_CATALOG_REFUSED);
				fe_log_err("catalog %s: the stored version is refused: %s; the "
				           "membership recorded stays",
				           cz->apex, why[0] ? why : fe_strerror(rc));
			}
			if (rec && from_recorded(cz, rec, &c) == FE_OK) {
				fe_log_info("catalog %s: %zu member zones recorded in the store: "
				            "secondaries of their recorded primaries until the "
				            "catalog is "
				            "read",
				            cz->apex, c.n);
				struct zindex ix;
				zindex_make(&ix, s);
				for (size_t k = 0; k < c.n; k++) {
					char primary[96];
					const char *from = member_primary(cz, &c, &c.m[k], primary,
					                                  sizeof(primary));
					add_or_update(cz, &ix, &c.m[k], primary, from);
				}
				free(ix.z);
			} else {
				fe_log_info("catalog %s: not held yet: its members come with its "
				            "first transfer",
				            cz->apex);
			}
		}
		fe_catalog_free(&c);
		free(rec);
	}
}

void fe__cat_changed(struct fe__sec_zone *cz)
{
	struct fe__sec *s = cz->sec;
	struct fe_catalog c;
	char why[512];
	uint64_t t0 = fe_time_mono_ms();
	int rc = fe_catalog_from_store(s->st, cz->apex_wire, cz->apex_wire_len, s->cat_max_members,
	                               &c, why, sizeof(why));
	if (rc != FE_OK) {
		count(s, FE__SEC_CATALOG_REFUSED);
		fe_log_err("catalog %s serial %u REFUSED: %s; the member zones stay as they were "
		           "(catalog_refused)",
		           cz->apex, cz->serial, why[0] ? why : fe_strerror(rc));
		return;
	}
	count(s, FE__SEC_CATALOG_ACCEPTED);
	apply(cz, &c, NULL);
	fe_log_debug("catalog %s: read and applied in %llu ms", cz->apex,
	             (unsigned long long)(fe_time_mono_ms() - t0));
	fe_catalog_free(&c);
}

void fe__cat_log(const struct fe__sec *s, const char *why)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct fe__sec_zone *cz = s->z[i];
		if (!cz->is_catalog)
			continue;
		unsigned members = 0;
		for (size_t k = 0; k < s->n; k++)
			if (s->z[k]->member_of == cz && !fe__sec_is_removed(s->z[k]))
				members++;
		fe_log_info("catalog %s (%s): %u member zones, serial %s%u", cz->apex, why, members,
		            cz->has_serial ? "" : "(none) ", cz->has_serial ? cz->serial : 0);
	}
}
