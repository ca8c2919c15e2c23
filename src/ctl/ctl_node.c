/* The node's control commands (status, zone.list, zone.show, stats, reload) and its metrics
 * page. They read what fedenumd already keeps: the store's zone records and per-zone trust
 * states (fe_trust_status, the same line `fedenumctl zone-list` prints offline), the server
 * counters, and the totals of the load passes. Everything runs on the daemon's main loop;
 * store reads are short read transactions (LMDB readers never wait for the writer). */
#include "ctl_int.h"

#include "fedenum/store.h"
#include "fedenum/trust.h"
#include "fedenum/wire.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_PENDING 64

struct fe_ctl_node {
	struct fe_ctl_node_info info;
	struct fe_ctl_server *ctl;
	struct fe_ctl_server *remote; /* TCP with mutual TLS, or NULL */
	struct fe_ctl_metrics *metrics;
	int64_t started_s;
	uint64_t started_ms;
	/* reload requests waiting for the running pass, and for the one queued after it */
	struct fe_ctl_req *cur[MAX_PENDING], *next[MAX_PENDING];
	size_t ncur, nnext;
	/* every load pass since start */
	struct fe_ctl_load_outcome totals;
	unsigned passes, reloads, reloads_refused;
	char *own_version, *own_store, *own_anchors;
	struct fe_listen_addr *own_listen;
};

void fe__ctl_text_add(struct fe__ctl_text *t, const char *fmt, ...)
{
	if (t->oom)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(t->p ? t->p + t->len : NULL, t->p ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->oom = true;
			return;
		}
		if (t->p && t->len + (size_t)n < t->cap) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = t->cap ? t->cap * 2 : 4096;
		while (cap <= t->len + (size_t)n)
			cap *= 2;
		char *p = realloc(t->p, cap);
		if (p == NULL) {
			t->oom = true;
			return;
		}
		t->p = p;
		t->cap = cap;
	}
}

int fe_ctl_node_create(const struct fe_ctl_node_info *info, struct fe_ctl_node **out)
{
	struct fe_ctl_node *n = calloc(1, sizeof(*n));
	if (n == NULL)
		return FE_ENOMEM;
	n->info = *info;
	/* The daemon's configuration is replaced by a reload: keep copies of what we show. */
	n->info.version = n->own_version = strdup(info->version);
	n->info.store_path = n->own_store = strdup(info->store_path);
	n->info.anchors = n->own_anchors = strdup(info->anchors ? info->anchors : "");
	n->own_listen = calloc(info->nlisten ? info->nlisten : 1, sizeof(*n->own_listen));
	if (!n->own_version || !n->own_store || !n->own_anchors || !n->own_listen) {
		fe_ctl_node_destroy(n);
		return FE_ENOMEM;
	}
	memcpy(n->own_listen, info->listen, info->nlisten * sizeof(*n->own_listen));
	n->info.listen = n->own_listen;
	n->started_s = fe_time_wall_s();
	n->started_ms = fe_time_mono_ms();
	*out = n;
	return FE_OK;
}

void fe_ctl_node_destroy(struct fe_ctl_node *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->ncur; i++)
		fe_ctl_reply_error(n->cur[i], FE_CTL_E_FAILED, "fedenumd is stopping");
	for (size_t i = 0; i < n->nnext; i++)
		fe_ctl_reply_error(n->next[i], FE_CTL_E_FAILED, "fedenumd is stopping");
	free(n->own_version);
	free(n->own_store);
	free(n->own_anchors);
	free(n->own_listen);
	free(n);
}

void fe_ctl_node_attach(struct fe_ctl_node *n, struct fe_ctl_server *ctl,
                        struct fe_ctl_metrics *metrics)
{
	n->ctl = ctl;
	n->metrics = metrics;
}

void fe_ctl_node_attach_remote(struct fe_ctl_node *n, struct fe_ctl_server *remote)
{
	n->remote = remote;
}

/* The control server's counters as a JSON object ("ctl_*" names), or null. */
static json_t *ctl_counters_json(const struct fe_ctl_server *s)
{
	if (!s)
		return json_null();
	uint64_t k[FE_CTL_CNT__MAX];
	json_t *o = json_object();
	fe_ctl_server_counters(s, k);
	for (unsigned i = 0; i < FE_CTL_CNT__MAX; i++)
		json_object_set_new(o, fe_ctl_counter_name((enum fe_ctl_counter)i),
		                    json_integer((json_int_t)k[i]));
	return o;
}

/* ---- zones ------------------------------------------------------------------------ */

/* Case-insensitive comparison of two presentation names, final dot optional. */
static bool same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 1 && a[la - 1] == '.')
		la--;
	if (lb > 1 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* What the answer engine does with the zone (server/answer.c's rule under anchors). */
static const char *served_why(const struct fe_ctl_node *n, const struct fe_store_zone_rec *z,
                              int64_t now)
{
	if (z->flags & FE_ZONE_EXPIRED) /* in any mode: a secondary past its SOA EXPIRE */
		return "secondary-expired";
	if (!n->info.validating)
		return NULL;
	if (!(z->flags & FE_ZONE_VALIDATED))
		return "unvalidated";
	if (z->flags & FE_ZONE_BOGUS)
		return "bogus";
	if (z->sig_expire_s != 0 && z->sig_expire_s <= now)
		return "expired";
	return NULL;
}

static json_t *time_json(int64_t s)
{
	char buf[32];
	return s ? json_string(fe_time_str(s, buf, sizeof(buf))) : json_null();
}

/* The zone's record as JSON; @full adds the trust state's details. */
static json_t *zone_json(struct fe_ctl_node *n, const struct fe_store_zone_rec *z, bool full)
{
	char apex[1024], status[1200];
	int64_t now = fe_time_wall_s();
	fe_wire_name_to_str(z->apex, apex, sizeof(apex));
	fe_trust_status(n->info.st, z->apex, z->apex_len, status, sizeof(status));
	const char *why = served_why(n, z, now);
	json_t *o = json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:b, s:s, s:o, s:o, s:s}", "apex",
	                      apex, "stored", 1, "serial", (json_int_t)z->serial, "version",
	                      (json_int_t)z->version, "nodes", (json_int_t)z->node_count, "rrs",
	                      (json_int_t)z->rr_count, "served", why == NULL, "why",
	                      why ? why : "served", "loaded_at", time_json(z->loaded_at_s),
	                      "chain_expiry", time_json(z->sig_expire_s), "trust", status);
	if (o == NULL)
		return o;
	/* docs/security.md Z7: NAPTRs of this version that fail the lint are not served */
	json_object_set_new(o, "naptr_not_served", json_integer((json_int_t)z->naptr_lint_count));
	if (!full)
		return o;
	char lint[sizeof(z->naptr_lint) + 1];
	snprintf(lint, sizeof(lint), "%.*s", (int)sizeof(z->naptr_lint), z->naptr_lint);
	json_object_set_new(o, "naptr_lint", json_string(lint));
	json_object_set_new(o, "chain_expiry_in_s",
	                    z->sig_expire_s ? json_integer(z->sig_expire_s - now) : json_null());
	struct fe_trust_zstate zs;
	if (fe_trust_zstate_get(n->info.st, z->apex, z->apex_len, &zs) == FE_OK) {
		json_object_set_new(
		        o, "validation",
		        json_pack("{s:s, s:s, s:o, s:o, s:I, s:s, s:o, s:o, s:I, s:I}", "state",
		                  fe_trust_state_str(zs.state), "trust_source", zs.trust,
		                  "validated_at", time_json(zs.validated_at_s), "checked_at",
		                  time_json(zs.checked_at_s), "failed_serial",
		                  (json_int_t)zs.failed_serial, "last_error", zs.reason,
		                  "failed_at", time_json(zs.failed_at_s), "signature_expiry",
		                  time_json(zs.own_expire_s), "validations",
		                  (json_int_t)zs.validations, "failures", (json_int_t)zs.failures));
	} else {
		json_object_set_new(o, "validation", json_null());
	}
	/* Transfer peers: the primary this node is a secondary of, else the secondaries it
	 * serves the zone to (the primary side's --notify list). */
	char sec[1400];
	bool is_sec = n->info.secondary_status &&
	              n->info.secondary_status(n->info.secondary_arg, z->apex, z->apex_len, sec,
	                                       sizeof(sec)) > 0;
	json_t *prim = n->info.primary_peers ? n->info.primary_peers(n->info.primary_arg, z->apex,
	                                                             z->apex_len, apex)
	                                     : NULL;
	char note[1500] = "";
	size_t len = 0;
	if (is_sec)
		len = (size_t)snprintf(note, sizeof(note), "secondary of %s", sec);
	if (prim) {
		len += (size_t)snprintf(note + len, sizeof(note) - len,
		                        "%sserved to %zu secondar%s", is_sec ? "; " : "",
		                        json_array_size(prim),
		                        json_array_size(prim) == 1 ? "y" : "ies");
		size_t i;
		json_t *e;
		json_array_foreach(prim, i, e)
		{
			json_t *nt = json_object_get(e, "notify"),
			       *tr = json_object_get(e, "transfer");
			if (len >= sizeof(note))
				break;
			len += (size_t)snprintf(
			        note + len, sizeof(note) - len,
			        "%s %s@%lld: NOTIFY %s, last transfer %s", i ? ";" : ":",
			        json_string_value(json_object_get(e, "address")),
			        (long long)json_integer_value(json_object_get(e, "port")),
			        json_is_true(json_object_get(e, "zone_primary"))
			                ? "not sent (the zone's primary)"
			        : json_is_null(nt)                             ? "never sent"
			        : json_is_true(json_object_get(nt, "pending")) ? "pending"
			        : json_integer_value(json_object_get(nt, "acked_serial")) ==
			                        json_integer_value(
			                                json_object_get(nt, "sent_serial"))
			                ? "acknowledged"
			                : "not acknowledged",
			        json_is_null(tr) ? "none"
			                         : json_string_value(json_object_get(tr, "kind")));
		}
	}
	if (is_sec || prim) {
		json_t *peers = json_pack("{s:s}", "role", is_sec ? "secondary" : "primary");
		if (is_sec)
			json_object_set_new(peers, "primary", json_string(sec));
		if (prim)
			json_object_set_new(peers, "secondaries", prim);
		json_object_set_new(o, "peers", peers);
		json_object_set_new(o, "peers_note", json_string(note));
	} else {
		json_object_set_new(o, "peers", json_null());
		json_object_set_new(o, "peers_note",
		                    json_string("none: this node is not a secondary of this zone "
		                                "and has no secondaries (--notify)"));
	}
	return o;
}

struct walk {
	struct fe_ctl_node *n;
	const char *want; /* zone.show: the apex asked for; NULL: every zone */
	json_t *zones;    /* array */
	bool full;
};

static bool zone_cb(const struct fe_store_zone_rec *z, void *arg)
{
	struct walk *w = arg;
	if (w->want) {
		char apex[1024];
		fe_wire_name_to_str(z->apex, apex, sizeof(apex));
		if (!same_name(apex, w->want))
			return true;
	}
	json_array_append_new(w->zones, zone_json(w->n, z, w->full));
	return w->want == NULL;
}

/* Zones that have a trust state but no stored version: every version offered failed. */
static bool rejected_cb(const struct fe_trust_zstate *zs, void *arg)
{
	struct walk *w = arg;
	if (zs->state != FE_TRUST_REJECTED)
		return true;
	char apex[1024], status[1200];
	fe_wire_name_to_str(zs->apex, apex, sizeof(apex));
	if (w->want && !same_name(apex, w->want))
		return true;
	fe_trust_status(w->n->info.st, zs->apex, zs->apex_len, status, sizeof(status));
	json_t *o = json_pack("{s:s, s:b, s:b, s:s, s:s}", "apex", apex, "stored", 0, "served", 0,
	                      "why", "rejected", "trust", status);
	if (o && w->full) {
		json_object_set_new(o, "validation",
		                    json_pack("{s:s, s:I, s:s, s:o, s:I}", "state",
		                              fe_trust_state_str(zs->state), "failed_serial",
		                              (json_int_t)zs->failed_serial, "last_error",
		                              zs->reason, "failed_at", time_json(zs->failed_at_s),
		                              "failures", (json_int_t)zs->failures));
		json_object_set_new(o, "peers", json_null());
		json_object_set_new(o, "peers_note",
		                    json_string("none: no stored version to transfer"));
	}
	json_array_append_new(w->zones, o);
	return true;
}

/* Every zone (or the one @want) into w->zones. FE_OK or a store error. */
static int walk_zones(struct walk *w)
{
	struct fe_store_reader *r = NULL;
	int rc = fe_store_reader_create(w->n->info.st, &r);
	if (rc == FE_OK && (rc = fe_store_reader_begin(r)) == FE_OK) {
		rc = fe_store_foreach_zone(r, zone_cb, w);
		fe_store_reader_end(r);
	}
	fe_store_reader_destroy(r);
	if (rc == FE_OK && (!w->want || json_array_size(w->zones) == 0)) {
		int rc2 = fe_trust_zstate_foreach(w->n->info.st, rejected_cb, w);
		if (rc2 != FE_OK && rc2 != FE_ENOENT)
			rc = rc2;
	}
	return rc;
}

static unsigned zone_count(struct fe_ctl_node *n)
{
	struct walk w = {.n = n, .zones = json_array()};
	unsigned c = 0;
	if (w.zones && walk_zones(&w) == FE_OK)
		c = (unsigned)json_array_size(w.zones);
	json_decref(w.zones);
	return c;
}

static void cmd_zone_list(struct fe_ctl_req *req, json_t *args, void *arg)
{
	struct walk w = {.n = arg, .zones = json_array()};
	if (json_object_size(args) != 0) {
		fe_ctl_reply_error(req, FE_CTL_E_ARGS, "zone.list takes no arguments");
		goto out;
	}
	int rc = walk_zones(&w);
	if (rc != FE_OK) {
		fe_ctl_reply_error(req, FE_CTL_E_FAILED, "cannot read the store: %s",
		                   fe_strerror(rc));
		goto out;
	}
	fe_ctl_reply_ok(req, json_pack("{s:O}", "zones", w.zones));
out:
	json_decref(w.zones);
}

static void cmd_zone_show(struct fe_ctl_req *req, json_t *args, void *arg)
{
	struct walk w = {.n = arg, .zones = json_array(), .full = true};
	const char *apex = json_string_value(json_object_get(args, "apex"));
	if (apex == NULL || json_object_size(args) != 1 || !*apex || strlen(apex) > 1004) {
		fe_ctl_reply_error(req, FE_CTL_E_ARGS,
		                   "zone.show takes {\"apex\": NAME} (a domain name, final dot "
		                   "optional)");
		goto out;
	}
	w.want = apex;
	int rc = walk_zones(&w);
	if (rc != FE_OK) {
		fe_ctl_reply_error(req, FE_CTL_E_FAILED, "cannot read the store: %s",
		                   fe_strerror(rc));
		goto out;
	}
	if (json_array_size(w.zones) == 0) {
		fe_ctl_reply_error(req, FE_CTL_E_ARGS,
		                   "no zone %.300s on this node (stored or rejected)", apex);
		goto out;
	}
	fe_ctl_reply_ok(req, json_incref(json_array_get(w.zones, 0)));
out:
	json_decref(w.zones);
}

/* ---- status, stats, reload ---------------------------------------------------------- */

static void cmd_status(struct fe_ctl_req *req, json_t *args, void *arg)
{
	struct fe_ctl_node *n = arg;
	if (json_object_size(args) != 0) {
		fe_ctl_reply_error(req, FE_CTL_E_ARGS, "status takes no arguments");
		return;
	}
	json_t *ls = json_array();
	for (size_t i = 0; i < n->info.nlisten; i++)
		json_array_append_new(ls, json_pack("{s:s, s:i}", "address", n->info.listen[i].host,
		                                    "port", (int)fe_server_port(n->info.srv, i)));
	json_t *metrics = json_null();
	if (n->metrics)
		metrics = json_pack("{s:i}", "port", (int)fe_ctl_metrics_port(n->metrics));
	json_t *remote = json_null();
	if (n->remote)
		remote = json_pack("{s:i}", "port", (int)fe_ctl_server_port(n->remote));
	fe_ctl_reply_ok(req, json_pack("{s:s, s:i, s:I, s:o, s:I, s:o, s:i, s:i, s:s, s:b, s:s, "
	                               "s:o, s:o, s:i}",
	                               "version", n->info.version, "pid", (int)getpid(), "uptime_s",
	                               (json_int_t)((fe_time_mono_ms() - n->started_ms) / 1000),
	                               "started_at", time_json(n->started_s), "now",
	                               (json_int_t)fe_time_wall_s(), "listeners", ls, "workers",
	                               (int)fe_server_workers(n->info.srv), "zones",
	                               (int)zone_count(n), "store", n->info.store_path,
	                               "trust_anchors", n->info.validating, "anchors",
	                               n->info.anchors ? n->info.anchors : "", "metrics", metrics,
	                               "control_remote", remote, "protocol", FE_CTL_PROTO_VERSION));
}

static json_t *outcome_json(const struct fe_ctl_load_outcome *o)
{
	return json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "zones", (int)o->zones,
	                 "loaded", (int)o->loaded, "unchanged", (int)o->unchanged, "failed",
	                 (int)o->failed, "refused", (int)o->refused, "rejected", (int)o->rejected,
	                 "suspended", (int)o->suspended, "restored", (int)o->restored);
}

static void family(struct fe__ctl_text *t, const char *name, const char *type, const char *help);

/* The other modules' counters as {group: {key: value}}; NULL when there are none. */
static json_t *extra_json(struct fe_ctl_node *n)
{
	if (!n->info.extra_counters)
		return NULL;
	struct fe_ctl_extra *rows = calloc(FE_CTL_EXTRA_MAX, sizeof(*rows));
	if (!rows)
		return NULL;
	size_t nr = n->info.extra_counters(n->info.extra_arg, rows, FE_CTL_EXTRA_MAX);
	json_t *o = json_object();
	for (size_t i = 0; i < nr; i++) {
		json_t *g = json_object_get(o, rows[i].group);
		if (!g) {
			g = json_object();
			json_object_set_new(o, rows[i].group, g);
		}
		json_object_set_new(g, rows[i].key, json_integer((json_int_t)rows[i].value));
	}
	free(rows);
	return o;
}

/* The same on the metrics page, one family header per family. */
static void extra_metrics(struct fe_ctl_node *n, struct fe__ctl_text *t)
{
	if (!n->info.extra_counters)
		return;
	struct fe_ctl_extra *rows = calloc(FE_CTL_EXTRA_MAX, sizeof(*rows));
	if (!rows) {
		t->oom = true;
		return;
	}
	size_t nr = n->info.extra_counters(n->info.extra_arg, rows, FE_CTL_EXTRA_MAX);
	for (size_t i = 0; i < nr; i++) {
		if (i == 0 || strcmp(rows[i].family, rows[i - 1].family) != 0)
			family(t, rows[i].family, "counter", rows[i].help);
		fe__ctl_text_add(t, "%s{%s} %" PRIu64 "\n", rows[i].family, rows[i].labels,
		                 rows[i].value);
	}
	free(rows);
}

static void cmd_stats(struct fe_ctl_req *req, json_t *args, void *arg)
{
	struct fe_ctl_node *n = arg;
	if (json_object_size(args) != 0) {
		fe_ctl_reply_error(req, FE_CTL_E_ARGS, "stats takes no arguments");
		return;
	}
	uint64_t c[FE_CNT__MAX];
	json_t *counters = json_object(), *workers = json_array();
	fe_server_counters(n->info.srv, c);
	for (unsigned i = 0; i < FE_CNT__MAX; i++)
		json_object_set_new(counters, fe_counter_name((enum fe_counter)i),
		                    json_integer((json_int_t)c[i]));
	unsigned nw = fe_server_workers(n->info.srv);
	for (unsigned i = 0; i < nw; i++) {
		fe_server_worker_counters(n->info.srv, i, c);
		json_array_append_new(workers, json_pack("{s:I, s:I, s:I}", "queries",
		                                         (json_int_t)c[FE_CNT_QUERIES], "udp",
		                                         (json_int_t)c[FE_CNT_UDP], "tcp",
		                                         (json_int_t)c[FE_CNT_TCP]));
	}
	json_t *ctl = n->ctl ? ctl_counters_json(n->ctl) : json_object();
	json_t *extra = extra_json(n);
	json_t *loads = outcome_json(&n->totals);
	json_object_set_new(loads, "passes", json_integer(n->passes));
	json_object_set_new(loads, "reloads", json_integer(n->reloads));
	json_object_set_new(loads, "reloads_refused", json_integer(n->reloads_refused));
	json_t *res = json_pack("{s:o, s:o, s:o, s:o, s:o}", "counters", counters, "workers",
	                        workers, "control", ctl, "control_remote",
	                        ctl_counters_json(n->remote), "loads", loads);
	if (extra) {
		/* the zone transfer and on-demand groups stand beside the server's counters; the
		 * policy engine's are grouped under "policy" */
		static const char *const own[] = {"xfr", "xfrin", "ondemand"};
		for (size_t i = 0; i < FE_ARRAY_LEN(own); i++) {
			json_t *g = json_object_get(extra, own[i]);
			if (g) {
				json_object_set(res, own[i], g);
				json_object_del(extra, own[i]);
			}
		}
		if (json_object_size(extra))
			json_object_set_new(res, "policy", extra);
		else
			json_decref(extra);
	}
	fe_ctl_reply_ok(req, res);
}

static void cmd_reload(struct fe_ctl_req *req, json_t *args, void *arg)
{
	struct fe_ctl_node *n = arg;
	if (json_object_size(args) != 0) {
		fe_ctl_reply_error(req, FE_CTL_E_ARGS, "reload takes no arguments");
		return;
	}
	if (n->ncur >= MAX_PENDING || n->nnext >= MAX_PENDING) {
		fe_ctl_reply_error(req, FE_CTL_E_BUSY, "%d reload requests are waiting already",
		                   MAX_PENDING);
		return;
	}
	fe_log_info("control: reload requested");
	int r = n->info.reload ? n->info.reload(n->info.reload_arg) : -1;
	if (r < 0)
		fe_ctl_reply_error(req, FE_CTL_E_FAILED, "cannot reload now (stopping?)");
	else if (r == 0)
		n->cur[n->ncur++] = req;
	else
		n->next[n->nnext++] = req; /* the pass running now read its configuration before */
}

void fe_ctl_node_loads_done(struct fe_ctl_node *n, const struct fe_ctl_load_outcome *o,
                            bool is_reload)
{
	n->passes++;
	if (is_reload)
		n->reloads++;
	if (!o->config_ok) {
		n->reloads_refused++;
	} else {
		n->totals.zones = o->zones;
		n->totals.loaded += o->loaded;
		n->totals.unchanged += o->unchanged;
		n->totals.failed += o->failed;
		n->totals.refused += o->refused;
		n->totals.rejected += o->rejected;
		n->totals.suspended += o->suspended;
		n->totals.restored += o->restored;
	}
	if (!is_reload)
		return;
	for (size_t i = 0; i < n->ncur; i++) {
		if (o->config_ok)
			fe_ctl_reply_ok(n->cur[i], outcome_json(o));
		else
			fe_ctl_reply_error(
			        n->cur[i], FE_CTL_E_FAILED,
			        "reload refused: configuration errors (in fedenumd's log); "
			        "the running configuration and the stored zones stay");
	}
	memcpy(n->cur, n->next, n->nnext * sizeof(n->next[0]));
	n->ncur = n->nnext;
	n->nnext = 0;
}

static const struct fe_ctl_command commands[] = {
        {"status", cmd_status}, {"zone.list", cmd_zone_list}, {"zone.show", cmd_zone_show},
        {"stats", cmd_stats},   {"reload", cmd_reload},
};

const struct fe_ctl_command *fe_ctl_node_commands(size_t *n)
{
	*n = FE_ARRAY_LEN(commands);
	return commands;
}

/* ---- metrics page ------------------------------------------------------------------- */

/* A label value: \ " and newline escaped (Prometheus text format 0.0.4). */
static void label(struct fe__ctl_text *t, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fe__ctl_text_add(t, "\\%c", *s);
		else if (*s == '\n')
			fe__ctl_text_add(t, "\\n");
		else
			fe__ctl_text_add(t, "%c", *s);
	}
}

static void family(struct fe__ctl_text *t, const char *name, const char *type, const char *help)
{
	fe__ctl_text_add(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

struct mzone {
	struct fe__ctl_text *t;
	struct fe_ctl_node *n;
	int64_t now;
	int pass; /* which family is being written */
};

static bool metric_zone_cb(const struct fe_store_zone_rec *z, void *arg)
{
	struct mzone *m = arg;
	char apex[1024];
	fe_wire_name_to_str(z->apex, apex, sizeof(apex));
	struct fe_trust_zstate zs;
	int64_t v;
	switch (m->pass) {
	case 0:
		fe__ctl_text_add(m->t, "fedenum_zone_serial{zone=\"");
		v = z->serial;
		break;
	case 1:
		fe__ctl_text_add(m->t, "fedenum_zone_served{zone=\"");
		v = served_why(m->n, z, m->now) == NULL;
		break;
	case 2:
		if (z->sig_expire_s == 0)
			return true;
		fe__ctl_text_add(m->t, "fedenum_zone_chain_expiry_seconds{zone=\"");
		v = z->sig_expire_s - m->now;
		break;
	case 3:
		if (fe_trust_zstate_get(m->n->info.st, z->apex, z->apex_len, &zs) != FE_OK ||
		    zs.own_expire_s == 0)
			return true;
		fe__ctl_text_add(m->t, "fedenum_zone_signature_expiry_seconds{zone=\"");
		v = zs.own_expire_s - m->now;
		break;
	default:
		fe__ctl_text_add(m->t, "fedenum_zone_naptr_not_served{zone=\"");
		v = z->naptr_lint_count;
		break;
	}
	label(m->t, apex);
	fe__ctl_text_add(m->t, "\"} %" PRId64 "\n", v);
	return true;
}

static bool metric_failures_cb(const struct fe_trust_zstate *zs, void *arg)
{
	struct mzone *m = arg;
	char apex[1024];
	fe_wire_name_to_str(zs->apex, apex, sizeof(apex));
	fe__ctl_text_add(m->t, "fedenum_zone_validation_failures_total{zone=\"");
	label(m->t, apex);
	fe__ctl_text_add(m->t, "\"} %" PRIu64 "\n", zs->failures);
	return true;
}

static const struct {
	enum fe_counter c;
	const char *rcode;
} rcodes[] = {{FE_CNT_NOERROR, "NOERROR"},   {FE_CNT_NXDOMAIN, "NXDOMAIN"},
              {FE_CNT_SERVFAIL, "SERVFAIL"}, {FE_CNT_REFUSED, "REFUSED"},
              {FE_CNT_FORMERR, "FORMERR"},   {FE_CNT_NOTIMP, "NOTIMP"},
              {FE_CNT_BADVERS, "BADVERS"}};

int fe_ctl_node_metrics(struct fe_ctl_node *n, char **out, size_t *len)
{
	struct fe__ctl_text t = {0};
	uint64_t c[FE_CNT__MAX];
	fe_server_counters(n->info.srv, c);
	family(&t, "fedenum_build_info", "gauge", "version of this fedenumd");
	fe__ctl_text_add(&t, "fedenum_build_info{version=\"%s\"} 1\n", n->info.version);
	family(&t, "fedenum_uptime_seconds", "gauge", "seconds since fedenumd started");
	fe__ctl_text_add(&t, "fedenum_uptime_seconds %" PRIu64 "\n",
	                 (fe_time_mono_ms() - n->started_ms) / 1000);
	family(&t, "fedenum_queries_total", "counter", "DNS queries received, by transport");
	fe__ctl_text_add(&t, "fedenum_queries_total{transport=\"udp\"} %" PRIu64 "\n",
	                 c[FE_CNT_UDP]);
	fe__ctl_text_add(&t, "fedenum_queries_total{transport=\"tcp\"} %" PRIu64 "\n",
	                 c[FE_CNT_TCP]);
	family(&t, "fedenum_responses_total", "counter", "DNS responses sent, by rcode");
	for (size_t i = 0; i < FE_ARRAY_LEN(rcodes); i++)
		fe__ctl_text_add(&t, "fedenum_responses_total{rcode=\"%s\"} %" PRIu64 "\n",
		                 rcodes[i].rcode, c[rcodes[i].c]);
	/* The other server counters under their own names (refusals, TCP limits, errors). */
	family(&t, "fedenum_queries_by_type_total", "counter",
	       "DNS queries received that parsed, by query type");
	for (unsigned i = FE_CNT_QT_FIRST; i <= FE_CNT_QT_OTHER; i++)
		fe__ctl_text_add(&t, "fedenum_queries_by_type_total{type=\"%s\"} %" PRIu64 "\n",
		                 fe_counter_qtype_name((enum fe_counter)i), c[i]);
	/* A Prometheus histogram: cumulative buckets, +Inf, sum (seconds) and count. */
	family(&t, "fedenum_response_latency_seconds", "histogram",
	       "time from a query's arrival to its answer handed to the kernel (UDP) or queued "
	       "(TCP, TLS)");
	/* FE_SERVER_LATENCY_BOUNDS_US in seconds, as the labels show them. */
	static const char *const le[FE_SERVER_LATENCY_BUCKETS] = {"0.00005", "0.0001", "0.00025",
	                                                          "0.0005",  "0.001",  "0.0025",
	                                                          "0.005",   "0.01",   "0.05"};
	uint64_t cum = 0;
	for (unsigned b = 0; b < FE_SERVER_LATENCY_BUCKETS; b++) {
		cum += c[FE_CNT_LAT_0 + b];
		fe__ctl_text_add(&t,
		                 "fedenum_response_latency_seconds_bucket{le=\"%s\"} %" PRIu64 "\n",
		                 le[b], cum);
	}
	cum += c[FE_CNT_LAT_INF];
	fe__ctl_text_add(&t, "fedenum_response_latency_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n",
	                 cum);
	fe__ctl_text_add(&t, "fedenum_response_latency_seconds_sum %.6f\n",
	                 c[FE_CNT_LAT_SUM_US] / 1e6);
	fe__ctl_text_add(&t, "fedenum_response_latency_seconds_count %" PRIu64 "\n", cum);
	for (unsigned i = FE_CNT_DROPPED; i < FE_CNT_QT_FIRST; i++) {
		char name[96];
		snprintf(name, sizeof(name), "fedenum_%s_total",
		         fe_counter_name((enum fe_counter)i));
		family(&t, name, "counter", "server counter (docs/control.md)");
		fe__ctl_text_add(&t, "%s %" PRIu64 "\n", name, c[i]);
	}
	family(&t, "fedenum_zone_loads_total", "counter",
	       "zone load outcomes since start (start and reloads)");
	const struct fe_ctl_load_outcome *o = &n->totals;
	fe__ctl_text_add(&t,
	                 "fedenum_zone_loads_total{outcome=\"loaded\"} %u\n"
	                 "fedenum_zone_loads_total{outcome=\"unchanged\"} %u\n"
	                 "fedenum_zone_loads_total{outcome=\"failed\"} %u\n"
	                 "fedenum_zone_loads_total{outcome=\"refused\"} %u\n"
	                 "fedenum_zone_loads_total{outcome=\"rejected\"} %u\n",
	                 o->loaded, o->unchanged, o->failed, o->refused, o->rejected);
	family(&t, "fedenum_validation_failures_total", "counter",
	       "zone versions rejected by DNSSEC validation or the chain of trust since start");
	fe__ctl_text_add(&t, "fedenum_validation_failures_total %u\n", o->rejected);
	family(&t, "fedenum_reloads_total", "counter", "reload passes (SIGHUP or control)");
	fe__ctl_text_add(&t, "fedenum_reloads_total %u\n", n->reloads);
	if (n->ctl) {
		uint64_t k[FE_CTL_CNT__MAX];
		fe_ctl_server_counters(n->ctl, k);
		family(&t, "fedenum_control_total", "counter", "control socket events, by kind");
		for (unsigned i = 0; i < FE_CTL_CNT__MAX; i++)
			fe__ctl_text_add(&t, "fedenum_control_total{kind=\"%s\"} %" PRIu64 "\n",
			                 fe_ctl_counter_name((enum fe_ctl_counter)i) + 4, k[i]);
	}
	if (n->remote) {
		uint64_t k[FE_CTL_CNT__MAX];
		fe_ctl_server_counters(n->remote, k);
		family(&t, "fedenum_control_remote_total", "counter",
		       "remote administration (TCP, mutual TLS) events, by kind");
		for (unsigned i = 0; i < FE_CTL_CNT__MAX; i++)
			fe__ctl_text_add(&t,
			                 "fedenum_control_remote_total{kind=\"%s\"} %" PRIu64 "\n",
			                 fe_ctl_counter_name((enum fe_ctl_counter)i) + 4, k[i]);
	}
	if (n->metrics) {
		uint64_t m[3];
		fe_ctl_metrics_counters(n->metrics, m);
		family(&t, "fedenum_metrics_requests_total", "counter",
		       "requests to this endpoint, by result");
		fe__ctl_text_add(&t,
		                 "fedenum_metrics_requests_total{result=\"ok\"} %" PRIu64 "\n"
		                 "fedenum_metrics_requests_total{result=\"error\"} %" PRIu64 "\n"
		                 "fedenum_metrics_requests_total{result=\"dropped\"} %" PRIu64 "\n",
		                 m[0], m[1], m[2]);
	}
	extra_metrics(n, &t);
	static const char *const zfam[][2] = {
	        {"fedenum_zone_serial", "SOA serial of the zone's current version"},
	        {"fedenum_zone_served", "1 if the answer engine serves the zone"},
	        {"fedenum_zone_chain_expiry_seconds",
	         "seconds until the zone's chain of trust expires (its own and its parents' "
	         "earliest RRSIG expiration; negative: expired)"},
	        {"fedenum_zone_signature_expiry_seconds",
	         "seconds until the earliest RRSIG of the zone's own current version expires"},
	        {"fedenum_zone_naptr_not_served",
	         "NAPTR records of the zone's current version that fail the lint and are not "
	         "served"}};
	struct mzone mz = {.t = &t, .n = n, .now = fe_time_wall_s()};
	int rc = FE_OK;
	struct fe_store_reader *r = NULL;
	rc = fe_store_reader_create(n->info.st, &r);
	for (int p = 0; rc == FE_OK && p < (int)FE_ARRAY_LEN(zfam); p++) {
		family(&t, zfam[p][0], "gauge", zfam[p][1]);
		mz.pass = p;
		if ((rc = fe_store_reader_begin(r)) == FE_OK) {
			rc = fe_store_foreach_zone(r, metric_zone_cb, &mz);
			fe_store_reader_end(r);
		}
	}
	fe_store_reader_destroy(r);
	if (rc == FE_OK && n->info.validating) {
		family(&t, "fedenum_zone_validation_failures_total", "counter",
		       "failed load attempts and chain checks of the zone, all time (kept in the "
		       "store)");
		int rc2 = fe_trust_zstate_foreach(n->info.st, metric_failures_cb, &mz);
		if (rc2 != FE_OK && rc2 != FE_ENOENT)
			rc = rc2;
	}
	if (rc != FE_OK || t.oom) {
		free(t.p);
		return t.oom ? FE_ENOMEM : rc;
	}
	*out = t.p;
	*len = t.len;
	return FE_OK;
}
