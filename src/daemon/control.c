/* fedenumd's control socket and metrics endpoint (src/ctl, docs/control.md): started on the
 * main loop once the server is up, before privileges are dropped, so that the socket can be
 * given to the daemon's user; told about every zone load pass. */
#include "daemon_int.h"

#include "fedenum/ctl.h"
#include "fedenum/policy.h"
#include "fedenum/trust.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static size_t secondary_status(void *arg, const uint8_t *apex, size_t apex_len, char *buf,
                               size_t cap)
{
	return fe__sec_status(arg, apex, apex_len, buf, cap);
}

/* The policy engine's counters for `stats` and /metrics: decisions by cause and action, the
 * view and namespace refusals, abuse control by mechanism and action. */
static size_t policy_counters(void *arg, struct fe_ctl_extra *rows, size_t cap)
{
	struct fe_policy_counters pc;
	fe_policy_rt_counters(arg, &pc);
	size_t n = 0;
	struct fe_ctl_extra *r;
	const char *guard[] = {"no-view", "outside"};
	uint64_t gv[] = {pc.no_view, pc.outside};
	for (size_t i = 0; i < 2 && n < cap; i++) {
		r = &rows[n++];
		r->family = "fedenum_policy_refusals_total";
		r->help = "queries refused by the policy engine's admission (no view) and "
		          "namespace guard (outside)";
		r->group = "refusals";
		snprintf(r->key, sizeof(r->key), "%s", guard[i]);
		snprintf(r->labels, sizeof(r->labels), "reason=\"%s\"", guard[i]);
		r->value = gv[i];
	}
	for (unsigned c = 0; c < FE_POLICY_CAUSE__MAX; c++)
		for (unsigned a = 0; a < FE_POLICY_ACTION__MAX && n < cap; a++) {
			r = &rows[n++];
			r->family = "fedenum_policy_decisions_total";
			r->help = "ENUM routing decisions, by cause (route: a valid route) and "
			          "action";
			r->group = "decisions";
			snprintf(r->key, sizeof(r->key), "%s/%s", fe_policy_cause_name(c),
			         fe_policy_action_name(a));
			snprintf(r->labels, sizeof(r->labels), "cause=\"%s\",action=\"%s\"",
			         fe_policy_cause_name(c), fe_policy_action_name(a));
			r->value = pc.decisions[c][a];
		}
	for (unsigned l = 0; l < FE_POLICY_LIMIT__MAX && n < cap; l++) {
		r = &rows[n++];
		r->family = "fedenum_ratelimit_actions_total";
		r->help =
		        "abuse control: response rate limiting (rrl), view query budgets (budget), "
		        "harvesting detection (harvest), by action";
		r->group = "ratelimit";
		snprintf(r->key, sizeof(r->key), "%s/%s", fe_policy_limit_mechanism(l),
		         fe_policy_limit_action(l));
		snprintf(r->labels, sizeof(r->labels), "mechanism=\"%s\",action=\"%s\"",
		         fe_policy_limit_mechanism(l), fe_policy_limit_action(l));
		r->value = pc.limits[l];
	}
	return n;
}

/* One row of @family with label kind="@kind" (its name without the prefix @skip). */
static void kind_row(struct fe_ctl_extra *r, const char *family, const char *help,
                     const char *group, const char *name, size_t skip, uint64_t value)
{
	r->family = family;
	r->help = help;
	r->group = group;
	snprintf(r->key, sizeof(r->key), "%s", name + (strlen(name) > skip ? skip : 0));
	snprintf(r->labels, sizeof(r->labels), "kind=\"%s\"", r->key);
	r->value = value;
}

/* Everything `stats` and /metrics show beyond the server's own counters: the policy engine's
 * (when configured), then the zone transfers out (primary side) and in (secondary side). */
static size_t node_counters(void *arg, struct fe_ctl_extra *rows, size_t cap)
{
	struct fe__control *ctl = arg;
	size_t n = ctl->policy ? policy_counters(ctl->policy, rows, cap) : 0;
	if (ctl->xfr && ctl->xfr->x) {
		uint64_t c[FE_XFR__MAX];
		fe_xfr_counters(ctl->xfr->x, c);
		for (unsigned i = 0; i < FE_XFR__MAX && n < cap; i++)
			kind_row(&rows[n++], "fedenum_xfr_total",
			         "zone transfers out (primary side): transfers, refusals, NOTIFY",
			         "xfr", fe_xfr_counter_name((enum fe_xfr_counter)i), 4, c[i]);
	}
	if (ctl->od) {
		uint64_t c[FE__OD_CNT_MAX];
		fe__od_counters(ctl->od, c);
		for (unsigned i = 0; i < FE__OD_CNT_MAX && n < cap; i++)
			kind_row(&rows[n++], "fedenum_ondemand_total",
			         "on-demand peering: cache hits, resolutions by outcome, waiting "
			         "queries, refusals",
			         "ondemand", fe__od_counter_name(i), 0, c[i]);
	}
	if (ctl->sec && ctl->sec->n) {
		uint64_t c[FE__SEC_CNT_MAX];
		fe__sec_counters(ctl->sec, c);
		for (unsigned i = 0; i < FE__SEC_CNT_MAX && n < cap; i++)
			kind_row(&rows[n++], "fedenum_xfrin_total",
			         "zone transfers in (secondary side): refreshes by outcome, NOTIFY "
			         "in",
			         "xfrin", fe__sec_counter_name(i), 0, c[i]);
	}
	return n;
}

/* ---- peer list -------------------------------------------------------------------- */

static struct fe__control *g_peer_ctl; /* the node's control, for peer.list */

static json_t *time_or_null(int64_t s)
{
	if (!s)
		return json_null();
	char b[32];
	fe_time_str(s, b, sizeof(b));
	return json_string(b);
}

static json_t *xfr_out_json(const struct fe_xfr_peer *p)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o}", "axfr",
	                 (json_int_t)p->axfr, "ixfr", (json_int_t)p->ixfr, "uptodate",
	                 (json_int_t)p->uptodate, "done", (json_int_t)p->done, "refused",
	                 (json_int_t)p->refused, "failed", (json_int_t)p->failed, "last",
	                 time_or_null(p->last_s), "last_zone",
	                 p->last_s ? json_string(p->last_zone) : json_null(), "last_serial",
	                 p->last_s ? json_integer(p->last_serial) : json_null(), "last_kind",
	                 p->last_s ? json_string(p->last_ixfr ? "IXFR" : "AXFR") : json_null());
}

/* The newer of two (time, text) errors as "last_error"/"last_error_at" of @o. */
static void last_error(json_t *o, int64_t t1, const char *e1, int64_t t2, const char *e2)
{
	bool first = t1 && (!t2 || t1 >= t2);
	int64_t t = first ? t1 : t2;
	json_object_set_new(o, "last_error", t ? json_string(first ? e1 : e2) : json_null());
	json_object_set_new(o, "last_error_at", time_or_null(t));
}

/* peer.list: the secondaries this node NOTIFYs and serves transfers to (the configured
 * --notify targets, and any other address of the peer list that asked for a transfer), and
 * the primaries it transfers from with their zones. */
static void cmd_peer_list(struct fe_ctl_req *req, json_t *args, void *arg)
{
	(void)arg;
	if (json_object_size(args) != 0) {
		fe_ctl_reply_error(req, FE_CTL_E_ARGS, "peer.list takes no arguments");
		return;
	}
	struct fe__control *ctl = g_peer_ctl;
	static struct fe_xfr_peer out[FE_XFR_PEERS_MAX];
	size_t nout = ctl && ctl->xfr && ctl->xfr->x
	                      ? fe_xfr_peers(ctl->xfr->x, out, FE_XFR_PEERS_MAX)
	                      : 0;
	bool used[FE_XFR_PEERS_MAX] = {false};
	json_t *secs = json_array();
	size_t nt = ctl && ctl->xfr ? ctl->xfr->nnotify : 0;
	struct fe_xfr_notify_peer *np = nt ? calloc(nt, sizeof(*np)) : NULL;
	size_t nn = np ? fe_xfr_notify_peers(ctl->xfr->notifier, np, nt) : 0;
	for (size_t t = 0; t < nt; t++) {
		const struct fe_listen_addr *a = &ctl->xfr->notify[t];
		json_t *o = json_pack("{s:s, s:i}", "address", a->host, "port", (int)a->port);
		const struct fe_xfr_notify_peer *p = t < nn ? &np[t] : NULL;
		if (p)
			json_object_set_new(
			        o, "notify",
			        json_pack("{s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o}", "sent",
			                  (json_int_t)p->sent, "acked", (json_int_t)p->acked,
			                  "failed", (json_int_t)p->failed, "skipped_primary",
			                  (json_int_t)p->skipped, "pending", (json_int_t)p->pending,
			                  "last_sent", time_or_null(p->last_sent_s), "last_ack",
			                  time_or_null(p->last_ack_s), "last_zone",
			                  p->last_sent_s ? json_string(p->last_zone) : json_null(),
			                  "last_serial",
			                  p->last_sent_s ? json_integer(p->last_serial)
			                                 : json_null()));
		const struct fe_xfr_peer *x = NULL;
		for (size_t i = 0; i < nout && !x; i++)
			if (!used[i] && strcmp(out[i].address, a->host) == 0) {
				x = &out[i];
				used[i] = true;
			}
		static const struct fe_xfr_peer none;
		json_object_set_new(o, "transfers", xfr_out_json(x ? x : &none));
		last_error(o, p ? p->last_error_s : 0, p ? p->last_error : "",
		           x ? x->last_error_s : 0, x ? x->last_error : "");
		json_array_append_new(secs, o);
	}
	free(np);
	for (size_t i = 0; i < nout; i++) {
		if (used[i])
			continue; /* a peer-list address that is not a NOTIFY target */
		json_t *o =
		        json_pack("{s:s, s:n, s:n}", "address", out[i].address, "port", "notify");
		json_object_set_new(o, "transfers", xfr_out_json(&out[i]));
		last_error(o, out[i].last_error_s, out[i].last_error, 0, "");
		json_array_append_new(secs, o);
	}
	json_t *prim = fe__sec_primaries_json(ctl ? ctl->sec : NULL);
	fe_ctl_reply_ok(req, json_pack("{s:o, s:o}", "secondaries", secs, "primaries", prim));
}

/* zone.show's peers of a zone this node serves to its own secondaries: each --notify
 * target with the NOTIFY state of this zone and the last transfer of it to that address. */
static json_t *primary_peers(void *arg, const uint8_t *apex, size_t apex_len, const char *zname)
{
	struct fe__control *ctl = arg;
	if (!ctl->xfr || !ctl->xfr->nnotify)
		return NULL;
	json_t *a = json_array();
	for (size_t t = 0; t < ctl->xfr->nnotify; t++) {
		const struct fe_listen_addr *ad = &ctl->xfr->notify[t];
		struct fe_xfr_notify_zone nz;
		json_t *nj = json_null();
		if (fe_xfr_notify_zone_state(ctl->xfr->notifier, t, apex, apex_len, &nz) == FE_OK)
			nj = json_pack("{s:I, s:o, s:I, s:o, s:b, s:o, s:o}", "sent_serial",
			               (json_int_t)nz.sent_serial, "sent_at",
			               time_or_null(nz.sent_s), "acked_serial",
			               (json_int_t)nz.acked_serial, "acked_at",
			               time_or_null(nz.acked_s), "pending", (int)nz.pending,
			               "error", nz.error_s ? json_string(nz.error) : json_null(),
			               "error_at", time_or_null(nz.error_s));
		struct fe_xfr_peer_zone pz;
		json_t *tj = json_null();
		if (ctl->xfr->x && fe_xfr_peer_zone(ctl->xfr->x, ad->host, zname, &pz) == FE_OK)
			tj = json_pack("{s:s, s:I, s:o}", "kind", pz.ixfr ? "IXFR" : "AXFR",
			               "serial", (json_int_t)pz.serial, "at",
			               time_or_null(pz.at_s));
		json_array_append_new(
		        a, json_pack("{s:s, s:i, s:b, s:o, s:o}", "address", ad->host, "port",
		                     (int)ad->port, "zone_primary",
		                     (int)fe__sec_is_primary(ctl->sec, apex, apex_len, ad),
		                     "notify", nj, "transfer", tj));
	}
	return a;
}

static const struct fe_ctl_command peer_cmds[] = {{"peer.list", cmd_peer_list}};

int fe__control_start(struct fe__control *ctl, uv_loop_t *loop, struct fe_store *st,
                      struct fe_server *srv, const struct fe_conf *c, bool path_given,
                      int (*reload)(void *arg), void *arg, struct fe__sec *sec)
{
	fe_trust_anchors_describe(c->anchors, ctl->anchors, sizeof(ctl->anchors));
	bool validating = fe_trust_anchors_count(c->anchors) > 0;
	struct fe_ctl_node_info info = {
	        .version = FE__VERSION,
	        .st = st,
	        .srv = srv,
	        .listen = c->listen,
	        .nlisten = c->nlisten,
	        .store_path = c->store_path,
	        .validating = validating,
	        .anchors = validating ? ctl->anchors : "",
	        .reload = reload,
	        .reload_arg = arg,
	        .secondary_status = secondary_status,
	        .secondary_arg = sec,
	        .primary_peers = primary_peers,
	        .primary_arg = ctl,
	        .extra_counters = node_counters,
	        .extra_arg = ctl,
	};
	if (fe_ctl_node_create(&info, &ctl->node) != FE_OK) {
		fe_log_err("control: out of memory");
		return FE__EXIT_INTERNAL;
	}
	/* the node's commands, then the signing ones, then peer.list: one table */
	static struct fe_ctl_command all[64];
	size_t ncmd = 0, np[2];
	const struct fe_ctl_command *part[3] = {fe_ctl_node_commands(&np[0]),
	                                        fe__signing_commands(&np[1]), peer_cmds};
	const size_t npart[3] = {np[0], np[1], FE_ARRAY_LEN(peer_cmds)};
	for (size_t p = 0; p < 3; p++)
		for (size_t i = 0; i < npart[p] && ncmd < FE_ARRAY_LEN(all); i++)
			all[ncmd++] = part[p][i];
	const struct fe_ctl_command *cmds = all;
	g_peer_ctl = ctl;
	struct fe_ctl_server_opts o = {
	        .path = c->control_socket,
	        .set_owner = c->user != NULL && geteuid() == 0,
	        .uid = c->uid,
	        .gid = c->gid,
	        .timeout_ms = c->control_timeout_ms,
	        .max_clients = c->control_max_clients,
	        .commands = cmds,
	        .ncommands = ncmd,
	        .arg = ctl->node,
	};
	/* A path other than the schema's default was configured: it must work. */
	size_t nkeys;
	const struct fe_conf_key *keys = fe_conf_schema(&nkeys);
	for (size_t i = 0; i < nkeys; i++)
		if (strcmp(keys[i].name, "control.socket") == 0 &&
		    strcmp(keys[i].def, c->control_socket) != 0)
			path_given = true;
	char err[512] = "out of memory";
	int rc = fe_ctl_server_start(loop, &o, &ctl->ctl, err, sizeof(err));
	if (rc != FE_OK) {
		if (path_given) {
			fe_log_err("%s", err);
			return FE__EXIT_LISTEN;
		}
		/* The built-in default: its folder is made by the service manager (systemd's
		 * RuntimeDirectory=fedenum), never by us; without it, or with another instance
		 * on it, the node runs without a control socket. */
		fe_log_info("%s: running without a control socket (set control.socket or "
		            "--control)",
		            err);
	} else {
		fe_log_info("control socket %s (protocol version %d)", c->control_socket,
		            FE_CTL_PROTO_VERSION);
	}
	if (c->control_listen) {
		/* Remote administration: the same commands over TCP with mutual TLS. */
		struct fe_ctl_tls_opts to = {
		        .addr = c->control_addr,
		        .cert = c->control_tls_cert,
		        .key = c->control_tls_key,
		        .client_ca = c->control_tls_client_ca,
		        .clients = c->control_tls_clients,
		        .nclients = c->ncontrol_tls_clients,
		};
		struct fe_ctl_server_opts ro = o;
		ro.path = NULL;
		ro.tls = &to;
		rc = fe_ctl_server_start(loop, &ro, &ctl->remote, err, sizeof(err));
		if (rc != FE_OK) {
			fe_log_err("%s", err);
			return rc == FE_EIO && strstr(err, "control.listen") ? FE__EXIT_LISTEN
			                                                     : FE__EXIT_CONFIG;
		}
		fe_log_info("control (remote, mutual TLS): %s@%u, %s", c->control_addr.host,
		            (unsigned)fe_ctl_server_port(ctl->remote),
		            c->ncontrol_tls_clients
		                    ? "certificates named in control.tls-clients"
		                    : "any certificate control.tls-client-ca verifies");
		fe_ctl_node_attach_remote(ctl->node, ctl->remote);
	}
	if (c->metrics_listen) {
		struct fe_ctl_metrics_opts mo = {.addr = c->metrics,
		                                 .timeout_ms = c->control_timeout_ms,
		                                 .max_clients = 64,
		                                 .node = ctl->node};
		if (fe_ctl_metrics_start(loop, &mo, &ctl->metrics) != FE_OK)
			return FE__EXIT_LISTEN;
		fe_log_info("metrics: http://%s%s%s:%u/metrics",
		            strchr(c->metrics.host, ':') ? "[" : "", c->metrics.host,
		            strchr(c->metrics.host, ':') ? "]" : "",
		            fe_ctl_metrics_port(ctl->metrics));
	}
	fe_ctl_node_attach(ctl->node, ctl->ctl, ctl->metrics);
	return FE__EXIT_OK;
}

void fe__control_loads_done(struct fe__control *ctl, const struct fe_conf *c,
                            const struct fe__zone_stats *s, bool config_ok, bool is_reload)
{
	if (ctl->node == NULL)
		return;
	struct fe_ctl_load_outcome o = {.config_ok = config_ok};
	if (config_ok) {
		o.zones = (unsigned)c->nzones;
		o.loaded = s->loaded;
		o.unchanged = s->current;
		o.failed = s->failed;
		o.refused = s->refused;
		o.rejected = s->rejected;
		o.suspended = s->suspended;
		o.restored = s->restored;
	}
	fe_ctl_node_loads_done(ctl->node, &o, is_reload);
}

void fe__control_stop(struct fe__control *ctl)
{
	fe_ctl_node_destroy(ctl->node);
	ctl->node = NULL;
	fe_ctl_server_stop(ctl->ctl);
	ctl->ctl = NULL;
	fe_ctl_server_stop(ctl->remote);
	ctl->remote = NULL;
	fe_ctl_metrics_stop(ctl->metrics);
	ctl->metrics = NULL;
}
