/* fedenumd: options, configuration, store, zones, server, signals.
 *
 * Runs in the foreground only (no daemonizing: service managers and containers supervise a
 * foreground process; logs go to stderr). Signals, handled on the main thread's libuv loop:
 *   SIGHUP          re-read the configuration and reload the zone files in a thread-pool
 *                   thread while the workers keep answering;
 *   SIGTERM, SIGINT stop accepting, drain TCP answers, exit 0;
 *   SIGUSR1         log the counters (total and per worker). */
#include "daemon_int.h"

#include "fedenum/policy.h"
#include "fedenum/server.h"
#include "fedenum/store.h"
#include "fedenum/util.h"
#include "fedenum/trust.h"
#include "fedenum/zone.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#define DRAIN_MS 3000u

struct daemon {
	uv_loop_t loop;
	bool loop_ready;
	uv_signal_t sig_hup, sig_term, sig_int, sig_usr1;
	struct fe_conf_cli cli;
	const char *config_path; /* NULL: no configuration file */
	struct fe_conf cfg;      /* the running configuration */
	struct fe_store *st;
	struct fe_trust *trust; /* caches kept from one load pass to the next */
	struct fe_server *srv;
	struct fe_server_acl *acl;
	struct fe_policy_rt *policy; /* the policy engine (views or policy configured), or NULL */
	bool stopping;
	bool validating;              /* trust anchors configured at start: federation trust */
	struct fe__zone_stats totals; /* every load pass since start (SIGUSR1) */
	/* SIGHUP reload (thread pool); new_cfg and stats are written by the pool thread and
	 * read back in reload_done on the main thread. */
	uv_work_t reload;
	bool reloading, reload_again;
	/* a pass of the zones alone, with the running configuration (the files not re-read) */
	bool zones_only, zones_again;
	unsigned pass_rejected; /* zones the last load pass rejected (no chain, not valid) */
	struct fe_conf new_cfg;
	bool new_cfg_ok;
	struct fe__zone_stats stats;
	struct fe__control control; /* control socket, metrics (control.c) */
	const char **xfr_keys;      /* --tsig-key */
	size_t nxfr_keys;
	const char **xfr_notify; /* --notify */
	size_t nxfr_notify;
	struct fe__xfr xfr;     /* zone transfer, primary side (xfr.c) */
	const char **secondary; /* --secondary */
	size_t nsecondary;
	const char **secondary_tls; /* --secondary-tls */
	size_t nsecondary_tls;
	const char **catalogs; /* --catalog */
	size_t ncatalogs;
	const char *xfr_tls_ca, *xfr_tls_cert, *xfr_tls_key; /* --xfr-tls-ca/-cert/-key */
	struct fe__sec sec;         /* zone transfer, secondary side (secondary.c) */
	struct fe__hooks sec_hooks; /* NOTIFY in around the policy engine's hooks */
	struct fe__od *od;          /* on-demand peering (ondemand.c), or NULL */
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: fedenumd [-c FILE] [--check-config] [--listen ADDR@PORT]... [--db DIR]\n"
	        "                [--zone FILE]... [--trust-anchor FILE]... [--workers N]\n"
	        "                [--ready-file FILE] [--control PATH] [--metrics ADDR@PORT]\n"
	        "                [--key-dir DIR]\n"
	        "                [--log-level err|warn|info|debug] [--foreground]\n"
	        "                [--tsig-key FILE]... [--notify ADDR@PORT]...\n"
	        "                [--secondary APEX@ADDR@PORT]... [--catalog APEX@ADDR@PORT]...\n"
	        "\n"
	        "Private DNSSEC ENUM/DNS server for IMS peering federations. Runs in the\n"
	        "foreground; logs to stderr.\n"
	        "\n"
	        "  -c, --config FILE      configuration (fedenumd.conf, libconfig syntax)\n"
	        "      --check-config     check the configuration, print errors as file:line,\n"
	        "                         exit 0 (valid) or 1\n"
	        "      --listen ADDR@PORT UDP and TCP listen address (repeatable; replaces\n"
	        "                         server.listen; IPv6 as ::1@53; port 0: any free port)\n"
	        "      --db DIR           store directory (replaces store.path)\n"
	        "      --zone FILE        also serve this zone file (repeatable; apex from its "
	        "SOA)\n"
	        "      --trust-anchor FILE  DS or DNSKEY records (ldns-key2ds, dnssec-dsfromkey)\n"
	        "                         to validate zones against (repeatable; added to the\n"
	        "                         federation's trust-anchors). With any anchor, only\n"
	        "                         zones that validate through one are served\n"
	        "      --workers N        query threads, 0 = one per core (replaces "
	        "server.workers)\n"
	        "      --ready-file FILE  write 'udp|tcp ADDR PORT' lines once listening\n"
	        "      --control PATH     control socket for fedenumctl (replaces\n"
	        "                         control.socket)\n"
	        "      --metrics ADDR@PORT  Prometheus endpoint GET /metrics (replaces\n"
	        "                         metrics.listen)\n"
	        "      --key-dir DIR      the member's signing keys (replaces signing.key-dir)\n"
	        "      --log-level LEVEL  err, warn, info (default) or debug\n"
	        "      --tsig-key FILE    TSIG key(s) in tsig-keygen form (repeatable): the first\n"
	        "                         signs what this node sends, any is accepted from peers\n"
	        "      --notify ADDR@PORT a secondary of every zone (repeatable): it gets NOTIFY\n"
	        "                         and may transfer (AXFR/IXFR) with a TSIG key; anyone\n"
	        "                         else's transfer is refused\n"
	        "      --secondary APEX@ADDR@PORT  be a secondary of zone APEX (repeatable):\n"
	        "                         transfer it from the primary ADDR@PORT (TSIG, first\n"
	        "                         --tsig-key), refresh by its SOA timers and its NOTIFY\n"
	        "      --secondary-tls APEX@ADDR@PORT[@NAME]  the same over TLS (RFC 9103):\n"
	        "                         the primary's certificate must chain to --xfr-tls-ca\n"
	        "                         and carry NAME (else the address ADDR)\n"
	        "      --catalog APEX@ADDR@PORT  consume the catalog zone APEX (RFC 9432) from\n"
	        "                         the primary ADDR@PORT (repeatable): every zone it\n"
	        "                         lists becomes a secondary zone of this node (from\n"
	        "                         that primary unless the catalog names another); a\n"
	        "                         zone that leaves it is removed from the store\n"
	        "      --xfr-tls-ca FILE  PEM CA of the TLS primaries (replaces xfr.tls-ca-file)\n"
	        "      --xfr-tls-cert FILE, --xfr-tls-key FILE  client certificate and key for\n"
	        "                         TLS primaries (replace xfr.tls-cert-file/-key-file)\n"
	        "      --foreground       accepted for compatibility (always the case)\n"
	        "  -h, --help             this text\n"
	        "  -V, --version          print the version\n"
	        "\n"
	        "Without -c and without --zone, fedenumd serves what its store holds, under\n"
	        "the trust anchors recorded in it, and writes nothing into it. The demo\n"
	        "federation: -c federation/fedenumd.conf (scripts/demo.sh).\n"
	        "Signals: HUP reloads zones, TERM/INT drain and exit 0, USR1 logs counters.\n"
	        "Options and exit codes: docs/configuration.md.\n");
}

enum {
	OPT_CHECK = 256,
	OPT_LISTEN,
	OPT_DB,
	OPT_ZONE,
	OPT_WORKERS,
	OPT_READY,
	OPT_LOG_LEVEL,
	OPT_FOREGROUND,
	OPT_TRUST_ANCHOR,
	OPT_CONTROL,
	OPT_METRICS,
	OPT_KEY_DIR,
	OPT_TSIG_KEY,
	OPT_NOTIFY,
	OPT_SECONDARY,
	OPT_SECONDARY_TLS,
	OPT_XFR_TLS_CA,
	OPT_XFR_TLS_CERT,
	OPT_XFR_TLS_KEY,
	OPT_CATALOG
};

static bool parse_uint(const char *s, unsigned max, unsigned *out)
{
	if (!*s)
		return false;
	unsigned long v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10u + (unsigned long)(*p - '0');
		if (v > max)
			return false;
	}
	*out = (unsigned)v;
	return true;
}

/* Returns -1 to go on, or an exit code. */
static int parse_args(struct daemon *d, int argc, char **argv)
{
	static const struct option opts[] = {
	        {"config", required_argument, NULL, 'c'},
	        {"check-config", no_argument, NULL, OPT_CHECK},
	        {"listen", required_argument, NULL, OPT_LISTEN},
	        {"db", required_argument, NULL, OPT_DB},
	        {"zone", required_argument, NULL, OPT_ZONE},
	        {"workers", required_argument, NULL, OPT_WORKERS},
	        {"ready-file", required_argument, NULL, OPT_READY},
	        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
	        {"foreground", no_argument, NULL, OPT_FOREGROUND},
	        {"trust-anchor", required_argument, NULL, OPT_TRUST_ANCHOR},
	        {"control", required_argument, NULL, OPT_CONTROL},
	        {"metrics", required_argument, NULL, OPT_METRICS},
	        {"key-dir", required_argument, NULL, OPT_KEY_DIR},
	        {"tsig-key", required_argument, NULL, OPT_TSIG_KEY},
	        {"notify", required_argument, NULL, OPT_NOTIFY},
	        {"secondary", required_argument, NULL, OPT_SECONDARY},
	        {"secondary-tls", required_argument, NULL, OPT_SECONDARY_TLS},
	        {"catalog", required_argument, NULL, OPT_CATALOG},
	        {"xfr-tls-ca", required_argument, NULL, OPT_XFR_TLS_CA},
	        {"xfr-tls-cert", required_argument, NULL, OPT_XFR_TLS_CERT},
	        {"xfr-tls-key", required_argument, NULL, OPT_XFR_TLS_KEY},
	        {"help", no_argument, NULL, 'h'},
	        {"version", no_argument, NULL, 'V'},
	        {NULL, 0, NULL, 0},
	};
	struct fe_conf_cli *cli = &d->cli;
	cli->listen = calloc((size_t)argc + 1, sizeof(*cli->listen));
	cli->zones = calloc((size_t)argc + 1, sizeof(*cli->zones));
	cli->anchors = calloc((size_t)argc + 1, sizeof(*cli->anchors));
	d->xfr_keys = calloc((size_t)argc + 1, sizeof(*d->xfr_keys));
	d->xfr_notify = calloc((size_t)argc + 1, sizeof(*d->xfr_notify));
	d->secondary = calloc((size_t)argc + 1, sizeof(*d->secondary));
	d->secondary_tls = calloc((size_t)argc + 1, sizeof(*d->secondary_tls));
	d->catalogs = calloc((size_t)argc + 1, sizeof(*d->catalogs));
	if (!cli->listen || !cli->zones || !cli->anchors || !d->xfr_keys || !d->xfr_notify ||
	    !d->secondary || !d->secondary_tls || !d->catalogs) {
		fprintf(stderr, "fedenumd: out of memory\n");
		return FE__EXIT_INTERNAL;
	}
	int ch;
	while ((ch = getopt_long(argc, argv, "c:hVf", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			cli->config = optarg;
			break;
		case OPT_CHECK:
			cli->check_config = true;
			break;
		case OPT_LISTEN:
			cli->listen[cli->nlisten++] = optarg;
			break;
		case OPT_DB:
			cli->db = optarg;
			break;
		case OPT_ZONE:
			cli->zones[cli->nzones++] = optarg;
			break;
		case OPT_TRUST_ANCHOR:
			cli->anchors[cli->nanchors++] = optarg;
			break;
		case OPT_WORKERS:
			if (!parse_uint(optarg, 1024, &cli->workers)) {
				fprintf(stderr, "fedenumd: --workers %s: not a number in 0..1024\n",
				        optarg);
				return FE__EXIT_USAGE;
			}
			cli->has_workers = true;
			break;
		case OPT_READY:
			cli->ready_file = optarg;
			break;
		case OPT_CONTROL:
			cli->control = optarg;
			break;
		case OPT_METRICS:
			cli->metrics = optarg;
			break;
		case OPT_KEY_DIR:
			cli->key_dir = optarg;
			break;
		case OPT_TSIG_KEY:
			d->xfr_keys[d->nxfr_keys++] = optarg;
			break;
		case OPT_NOTIFY:
			d->xfr_notify[d->nxfr_notify++] = optarg;
			break;
		case OPT_SECONDARY:
			d->secondary[d->nsecondary++] = optarg;
			break;
		case OPT_SECONDARY_TLS:
			d->secondary_tls[d->nsecondary_tls++] = optarg;
			break;
		case OPT_CATALOG:
			d->catalogs[d->ncatalogs++] = optarg;
			break;
		case OPT_XFR_TLS_CA:
			d->xfr_tls_ca = optarg;
			break;
		case OPT_XFR_TLS_CERT:
			d->xfr_tls_cert = optarg;
			break;
		case OPT_XFR_TLS_KEY:
			d->xfr_tls_key = optarg;
			break;
		case OPT_LOG_LEVEL:
			cli->log_level = optarg;
			break;
		case 'f':
		case OPT_FOREGROUND:
			break;
		case 'h':
			usage(stdout);
			return FE__EXIT_OK;
		case 'V':
			printf("fedenumd %s\n", FE__VERSION);
			return FE__EXIT_OK;
		default:
			usage(stderr);
			return FE__EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "fedenumd: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return FE__EXIT_USAGE;
	}
	return -1;
}

/* Read the configuration (file, then command line) into @c. Errors go to @d. */
static int read_config(struct daemon *dm, struct fe_conf *c, struct fe_conf_diag *d)
{
	fe_conf_init(c);
	int rc = FE_OK;
	if (dm->config_path)
		rc = fe_conf_load(c, dm->config_path, d);
	int rc2 = fe_conf_apply_cli(c, &dm->cli, d);
	return rc ? rc : rc2;
}

static void log_diag(const struct fe_conf_diag *d)
{
	for (size_t i = 0; i < d->n; i++) {
		if (fe_conf_diag_is_warning(d->msgs[i]))
			fe_log_warn("%s", d->msgs[i] + sizeof(FE_CONF_WARNING) - 1);
		else
			fe_log_err("%s", d->msgs[i]);
	}
}

static void log_counters(struct daemon *d, const char *why)
{
	if (!d->srv)
		return;
	fe__xfr_log_counters(&d->xfr, why);
	fe__sec_log_counters(&d->sec, why);
	fe__od_log_counters(d->od, why);
	fe__signing_log_counters(why);
	if (d->validating)
		fe_log_info("counters (%s) trust: validated=%u unchanged=%u rejected=%u "
		            "load_failed=%u refused=%u suspended=%u restored=%u",
		            why, d->totals.loaded, d->totals.current, d->totals.rejected,
		            d->totals.failed, d->totals.refused, d->totals.suspended,
		            d->totals.restored);
	else
		fe_log_info("counters (%s) zones: loaded=%u unchanged=%u load_failed=%u refused=%u",
		            why, d->totals.loaded, d->totals.current, d->totals.failed,
		            d->totals.refused);
	uint64_t c[FE_CNT__MAX];
	char buf[2048];
	fe_server_counters(d->srv, c);
	fe_server_counters_format(c, buf, sizeof(buf));
	fe_log_info("counters (%s): %s", why, buf);
	if (d->policy) {
		struct fe_policy_counters pc;
		char pbuf[4096];
		fe_policy_rt_counters(d->policy, &pc);
		fe_policy_counters_format(&pc, pbuf, sizeof(pbuf));
		fe_log_info("counters (%s) policy: %s", why, pbuf);
	}
	unsigned n = fe_server_workers(d->srv);
	for (unsigned i = 0; i < n; i++) {
		fe_server_worker_counters(d->srv, i, c);
		fe_log_info("counters (%s) worker %u: queries=%llu udp=%llu tcp=%llu", why, i,
		            (unsigned long long)c[FE_CNT_QUERIES],
		            (unsigned long long)c[FE_CNT_UDP], (unsigned long long)c[FE_CNT_TCP]);
	}
}

/* ---- SIGHUP reload ---------------------------------------------------------------- */

static void reload_work(uv_work_t *req)
{
	struct daemon *d = req->data;
	if (d->zones_only) {
		/* d->cfg is only replaced in reload_done, on the main thread, after this */
		fe__zones_load(d->st, d->trust, &d->cfg, &d->stats);
		return;
	}
	struct fe_conf_diag diag = {0};
	int rc = read_config(d, &d->new_cfg, &diag);
	log_diag(&diag);
	fe_conf_diag_free(&diag);
	d->new_cfg_ok = rc == FE_OK && fe__zones_settle_trust(d->st, &d->new_cfg) == FE_OK;
	if (!d->new_cfg_ok)
		return;
	bool validating = fe_trust_anchors_count(d->new_cfg.anchors) > 0;
	if (validating != d->validating) {
		/* The answer engine's policy is fixed at start; loads must match it. */
		fe_log_err("reload: trust anchors %s: this takes a restart",
		           validating ? "were added where none were configured"
		                      : "were all removed");
		d->new_cfg_ok = false;
		return;
	}
	fe__zones_load(d->st, d->trust, &d->new_cfg, &d->stats);
}

static bool same_listen(const struct fe_conf *a, const struct fe_conf *b)
{
	if (a->nlisten != b->nlisten || a->workers != b->workers || a->nclients != b->nclients ||
	    a->has_clients != b->has_clients || a->ntls_listen != b->ntls_listen)
		return false;
	for (size_t i = 0; i < a->ntls_listen; i++)
		if (strcmp(a->tls_listen[i].host, b->tls_listen[i].host) != 0 ||
		    a->tls_listen[i].port != b->tls_listen[i].port)
			return false;
	for (size_t i = 0; i < a->nlisten; i++)
		if (strcmp(a->listen[i].host, b->listen[i].host) != 0 ||
		    a->listen[i].port != b->listen[i].port)
			return false;
	for (size_t i = 0; i < a->nclients; i++)
		if (strcmp(a->clients[i], b->clients[i]) != 0)
			return false;
	return true;
}

static int start_reload(struct daemon *d);

/* The new configuration was accepted as a whole (its policy included, conf_policy.c): swap
 * the running policy for it. The workers see the old one or the new one, never a mix. */
static void reload_policy(struct daemon *d)
{
	bool want = fe_conf_has_policy(&d->new_cfg);
	if (!d->policy) {
		if (want)
			fe_log_warn("reload: the policy engine (views, policy) was not configured "
			            "at start: it takes a restart");
		return;
	}
	struct fe_policy *p = NULL;
	char err[512];
	int rc = fe_conf_make_policy(&d->new_cfg, &p, err, sizeof(err));
	if (rc) {
		fe_log_err("reload: policy: %s: the running policy stays",
		           err[0] ? err : fe_strerror(rc));
		return;
	}
	fe_policy_rt_swap(d->policy, p);
	fe_log_info("reload: policy replaced: %zu views, %zu rules%s", d->new_cfg.nviews + 1,
	            d->new_cfg.nrules,
	            want ? "" : " (no views or policy left: the default view, no rules)");
}

static int start_zones_pass(struct daemon *d);

static void reload_done(uv_work_t *req, int status)
{
	struct daemon *d = req->data;
	(void)status;
	d->reloading = false;
	if (d->zones_only) {
		d->zones_only = false;
		fe_log_info("zone pass done: %u loaded, %u unchanged, %u failed, %u refused%s",
		            d->stats.loaded, d->stats.current, d->stats.failed + d->stats.rejected,
		            d->stats.refused, d->stats.trust);
		fe__zone_stats_add(&d->totals, &d->stats);
		fe__control_loads_done(&d->control, &d->cfg, &d->stats, true, false);
		d->pass_rejected = d->stats.rejected;
		if (!d->stopping) {
			fe__xfr_loads_done(&d->xfr, d->st);
			fe__sec_loads_done(&d->sec);
			fe__od_loads_done(d->od);
		}
	} else if (!d->new_cfg_ok) {
		fe_log_err("reload refused: configuration errors (above); still serving with the "
		           "running configuration and the zones already stored");
		fe__control_loads_done(&d->control, &d->new_cfg, &d->stats, false, true);
		fe_conf_free(&d->new_cfg);
	} else {
		fe_log_info("reload done: %zu zones: %u loaded, %u unchanged, %u failed, %u "
		            "refused%s",
		            d->new_cfg.nzones, d->stats.loaded, d->stats.current,
		            d->stats.failed + d->stats.rejected, d->stats.refused, d->stats.trust);
		fe__zone_stats_add(&d->totals, &d->stats);
		fe__control_loads_done(&d->control, &d->new_cfg, &d->stats, true, true);
		d->pass_rejected = d->stats.rejected;
		if (!d->stopping) {
			fe__xfr_loads_done(&d->xfr, d->st);
			fe__sec_loads_done(&d->sec);
			fe__od_loads_done(d->od);
		}
		if (!same_listen(&d->cfg, &d->new_cfg))
			fe_log_warn("reload: changes to listen addresses, workers or clients take "
			            "effect at the next restart%s",
			            d->policy ? " (with the policy engine, clients and views "
			                        "change now, with the policy)"
			                      : "");
		reload_policy(d);
		if (!fe__od_same(d->od, &d->new_cfg))
			fe_log_warn("reload: policy.on-demand changed: this takes a restart (the "
			            "running on-demand settings stay)");
		if (!d->stopping)
			fe__sec_reconfigure(&d->sec, &(struct fe__sec_cfg){
			                                     .cli = d->secondary,
			                                     .ncli = d->nsecondary,
			                                     .cli_tls = d->secondary_tls,
			                                     .ncli_tls = d->nsecondary_tls,
			                                     .conf = &d->new_cfg,
			                                     .cli_cat = d->catalogs,
			                                     .ncli_cat = d->ncatalogs,
			                             });
		fe_conf_free(&d->cfg);
		d->cfg = d->new_cfg;
		fe_conf_init(&d->new_cfg);
	}
	if (d->reload_again && !d->stopping) {
		d->reload_again = false;
		d->zones_again = false; /* the reload loads the zones too */
		start_reload(d);
	} else if (d->zones_again && !d->stopping) {
		d->zones_again = false;
		start_zones_pass(d);
	}
}

/* A load pass of the zones with the running configuration, on the thread pool: 0 started,
 * 1 queued after the running pass, -1 not started (logged). */
static int start_zones_pass(struct daemon *d)
{
	if (d->stopping)
		return -1;
	if (d->reloading) {
		d->zones_again = true;
		return 1;
	}
	d->reload.data = d;
	d->zones_only = true;
	int rc = uv_queue_work(&d->loop, &d->reload, reload_work, reload_done);
	if (rc) {
		d->zones_only = false;
		fe_log_err("zone pass: cannot start: %s", uv_strerror(rc));
		return -1;
	}
	d->reloading = true;
	return 0;
}

/* 0 started, 1 queued after the running pass, -1 not started (logged). */
static int start_reload(struct daemon *d)
{
	if (d->stopping)
		return -1;
	if (d->reloading) {
		d->reload_again = true; /* one more pass after this one */
		return 1;
	}
	d->reload.data = d;
	fe_conf_init(&d->new_cfg);
	int rc = uv_queue_work(&d->loop, &d->reload, reload_work, reload_done);
	if (rc) {
		fe_log_err("reload: cannot start: %s", uv_strerror(rc));
		return -1;
	}
	d->reloading = true;
	return 0;
}

/* A secondary zone got a new version: when the last pass rejected some of this node's own
 * zones (a member's zone loaded before the registry reached it), load them again: their
 * parent's DS may be stored now. */
static void sec_changed(void *arg)
{
	struct daemon *d = arg;
	if (!d->stopping)
		fe__od_loads_done(d->od); /* the registry may have new delegations */
	if (d->validating && d->pass_rejected) {
		fe_log_info("a secondary zone changed and %u zone%s rejected by the last load: "
		            "loading them again",
		            d->pass_rejected, d->pass_rejected == 1 ? " was" : "s were");
		(void)start_zones_pass(d);
	}
}

/* The control channel's reload command: what SIGHUP does. */
static int ctl_reload(void *arg)
{
	struct daemon *d = arg;
	bool zones_pass = d->reloading && d->zones_only;
	int r = start_reload(d);
	/* behind a pass of the zones alone, the reload queued is the next one that answers */
	return r == 1 && zones_pass ? 0 : r;
}

/* ---- signals ---------------------------------------------------------------------- */

static void on_signal(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;
	switch (signum) {
	case SIGHUP:
		if (d->stopping)
			return;
		fe_log_info("SIGHUP: reloading zones");
		(void)start_reload(d);
		return;
	case SIGUSR1:
		log_counters(d, "SIGUSR1");
		return;
	default:
		break;
	}
	if (d->stopping)
		return;
	d->stopping = true;
	fe_log_info("%s: stopping (draining TCP for up to %u ms)", strsignal(signum), DRAIN_MS);
	log_counters(d, "exit");
	fe__control_stop(&d->control);
	fe__signing_stop();
	fe__xfr_stop(&d->xfr);
	fe__sec_stop(&d->sec);
	fe__od_stop(d->od); /* its waiting queries are answered before the server drains */
	fe_server_stop(d->srv, DRAIN_MS);
	d->srv = NULL;
	uv_close((uv_handle_t *)&d->sig_hup, NULL);
	uv_close((uv_handle_t *)&d->sig_term, NULL);
	uv_close((uv_handle_t *)&d->sig_int, NULL);
	uv_close((uv_handle_t *)&d->sig_usr1, NULL);
	if (d->reloading)
		fe_log_info("waiting for the running zone reload to finish");
}

static int start_signals(struct daemon *d)
{
	struct {
		uv_signal_t *h;
		int sig;
	} s[] = {{&d->sig_hup, SIGHUP},
	         {&d->sig_term, SIGTERM},
	         {&d->sig_int, SIGINT},
	         {&d->sig_usr1, SIGUSR1}};
	for (size_t i = 0; i < FE_ARRAY_LEN(s); i++) {
		int rc = uv_signal_init(&d->loop, s[i].h);
		if (!rc)
			rc = uv_signal_start(s[i].h, on_signal, s[i].sig);
		if (rc) {
			fe_log_err("cannot handle signal %d: %s", s[i].sig, uv_strerror(rc));
			return FE_EIO;
		}
		s[i].h->data = d;
	}
	return FE_OK;
}

/* ---- main ------------------------------------------------------------------------- */

static void close_walk_cb(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void describe_listen(struct daemon *d, char *buf, size_t cap)
{
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < d->cfg.nlisten && len < cap; i++) {
		bool v6 = strchr(d->cfg.listen[i].host, ':') != NULL;
		int w = snprintf(buf + len, cap - len, "%s%s%s%s@%u", i ? ", " : "", v6 ? "[" : "",
		                 d->cfg.listen[i].host, v6 ? "]" : "", fe_server_port(d->srv, i));
		if (w < 0)
			break;
		len += (size_t)w;
	}
}

/* mkdir -p of the folders above @path (the store creates its own directory only). */
static void make_parents(const char *path)
{
	char buf[4096];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			fe_log_warn("cannot create %s: %s", buf, strerror(errno));
		*p = '/';
	}
}

/* Give @path to the user fedenumd drops to, if root owns it (a store created by a root
 * start; a later start as that user, or this one after the drop, must write it). */
static void give(const char *dir, const char *name, uid_t uid, gid_t gid)
{
	char p[4096];
	struct stat sb;
	if (snprintf(p, sizeof(p), "%s%s%s", dir, name ? "/" : "", name ? name : "") >=
	    (int)sizeof(p))
		return;
	if (stat(p, &sb) != 0 || sb.st_uid == uid)
		return;
	if (chown(p, uid, gid) != 0)
		fe_log_warn("cannot give %s to uid %u: %s", p, (unsigned)uid, strerror(errno));
}

/* setgroups, setgid, setuid (glibc applies them to every thread), then check that root
 * cannot be regained. Errors are logged. */
static int drop_privileges(struct daemon *d)
{
	uid_t uid = (uid_t)d->cfg.uid;
	gid_t gid = (gid_t)d->cfg.gid;
	if (geteuid() != 0) {
		if (geteuid() == uid && getegid() == gid)
			return FE_OK;
		fe_log_err("user = \"%s\": fedenumd runs as uid %u, not root, and cannot switch "
		           "users (start it as root, or as that user without `user`)",
		           d->cfg.user, (unsigned)geteuid());
		return FE_EPERM;
	}
	static const char *const store_files[] = {NULL, "data.mdb", "lock.mdb", "fedenum.lock"};
	for (size_t i = 0; i < FE_ARRAY_LEN(store_files); i++)
		give(d->cfg.store_path, store_files[i], uid, gid);
	if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
		fe_log_err("cannot drop privileges to user %s (uid %u, gid %u): %s", d->cfg.user,
		           (unsigned)uid, (unsigned)gid, strerror(errno));
		return FE_EPERM;
	}
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		fe_log_err("privileges could be regained after switching to %s: refusing to run",
		           d->cfg.user);
		return FE_EPERM;
	}
	fe_conf_privileges_dropped();
	fe_log_info("running as user %s (uid %u), group %s (gid %u)", d->cfg.user, (unsigned)uid,
	            d->cfg.group ? d->cfg.group : "(the user's)", (unsigned)gid);
	return FE_OK;
}

static int run(struct daemon *d)
{
	int rc;
	make_parents(d->cfg.store_path);
	struct fe_store_opts so = {.map_size_bytes = d->cfg.map_size_mb << 20, .exclusive = true};
	rc = fe_store_open(d->cfg.store_path, &so, &d->st);
	if (rc == FE_EBUSY) {
		long pid = fe_store_lock_holder(d->cfg.store_path);
		fe_log_err("the store %s is in use by another process (PID %ld): one fedenumd per "
		           "store; stop it first",
		           d->cfg.store_path, pid);
		return FE__EXIT_STORE;
	}
	if (rc) {
		fe_log_err("cannot open the store %s: %s", d->cfg.store_path, fe_strerror(rc));
		return FE__EXIT_STORE;
	}
	if (fe__zones_settle_trust(d->st, &d->cfg) != FE_OK)
		return FE__EXIT_STORE;
	rc = fe_conf_make_acl(&d->cfg, &d->acl);
	if (rc) {
		fe_log_err("admission list: %s", fe_strerror(rc));
		return FE__EXIT_INTERNAL;
	}
	if (uv_loop_init(&d->loop) != 0) {
		fe_log_err("cannot create the main event loop");
		return FE__EXIT_INTERNAL;
	}
	d->loop_ready = true;
	/* Signals first, so that a TERM during the zone loads is not the default action. */
	if (start_signals(d) != FE_OK)
		return FE__EXIT_INTERNAL;

	d->validating = fe_trust_anchors_count(d->cfg.anchors) > 0;
	if (d->validating) {
		char abuf[2048];
		fe_trust_anchors_describe(d->cfg.anchors, abuf, sizeof(abuf));
		fe_log_info("federation trust: zones are served only when they validate through "
		            "a trust anchor: %s",
		            abuf);
	} else {
		fe_log_info("no trust anchors: zones are served without DNSSEC validation (AD=0)");
	}
	struct fe_server_opts o = {
	        .listen = d->cfg.listen,
	        .listen_count = d->cfg.nlisten,
	        .workers = d->cfg.workers,
	        .tcp_idle_timeout_ms = d->cfg.tcp_idle_timeout_ms,
	        .tcp_max_clients = d->cfg.tcp_max_clients,
	        .tcp_max_pipeline = d->cfg.tcp_max_pipeline,
	        .tcp_max_out_bytes = d->cfg.tcp_max_out_bytes,
	        .answer = {.udp_max = d->cfg.udp_max_payload, .require_validated = d->validating},
	        .acl = d->acl,
	        .tls_listen = d->cfg.tls_listen,
	        .tls_listen_count = d->cfg.ntls_listen,
	        .tls_cert = d->cfg.tls_cert,
	        .tls_key = d->cfg.tls_key,
	        .tls_client_ca = d->cfg.tls_client_ca,
	};
	if (fe_conf_has_policy(&d->cfg)) {
		/* The policy's views admit clients (a client in no view: REFUSED with EDE 18), so
		 * the admission list steps aside. */
		struct fe_policy *p = NULL;
		char err[512];
		rc = fe_conf_make_policy(&d->cfg, &p, err, sizeof(err));
		unsigned nw = d->cfg.workers ? d->cfg.workers : uv_available_parallelism();
		if (rc == FE_OK)
			rc = fe_policy_rt_create(nw ? nw : 1, d->cfg.udp_max_payload, p,
			                         &d->policy);
		if (rc) {
			fe_policy_destroy(p);
			fe_log_err("policy: %s", err[0] ? err : fe_strerror(rc));
			return FE__EXIT_CONFIG;
		}
		o.acl = NULL;
		o.policy = fe_policy_rt_hooks(d->policy);
		fe_log_info("policy engine: %zu views (and default), %zu rules, outside: %s",
		            d->cfg.nviews, d->cfg.nrules,
		            d->cfg.policy_outside == FE_POLICY_NXDOMAIN ? "nxdomain" : "refused");
	}
	rc = fe__xfr_setup(&d->xfr, &d->cfg, d->xfr_keys, d->nxfr_keys, d->xfr_notify,
	                   d->nxfr_notify);
	if (rc == FE__EXIT_OK)
		rc = fe__sec_setup(&d->sec, &(struct fe__sec_cfg){
		                                    .cli = d->secondary,
		                                    .ncli = d->nsecondary,
		                                    .cli_tls = d->secondary_tls,
		                                    .ncli_tls = d->nsecondary_tls,
		                                    .tls_ca = d->xfr_tls_ca,
		                                    .tls_cert = d->xfr_tls_cert,
		                                    .tls_key = d->xfr_tls_key,
		                                    .conf = &d->cfg,
		                                    .cli_cat = d->catalogs,
		                                    .ncli_cat = d->ncatalogs,
		                            });
	if (rc != FE__EXIT_OK)
		return rc;
	/* NOTIFY in: between the transfer hooks (outermost: they sign) and the policy engine */
	o.policy = fe__hooks_compose(&d->sec_hooks, fe__sec_policy(&d->sec), o.policy);
	rc = fe__xfr_start(&d->xfr, d->st, d->validating, &o);
	if (rc != FE__EXIT_OK)
		return rc;
	rc = fe__od_setup(&d->od, &d->loop, d->st, &d->cfg, d->policy, d->validating, &o);
	if (rc != FE__EXIT_OK)
		return rc;
	/* Serve first: what the store holds is answered at once after a restart (no parse, no
	 * load); zone files are checked afterwards, and only changed serials are parsed. */
	rc = fe_server_start(d->st, &o, &d->srv);
	if (rc) {
		if (rc == FE_EIO)
			fe_log_err("cannot start the server: a listen address cannot be bound "
			           "(above)");
		else
			fe_log_err("cannot start the server: %s", fe_strerror(rc));
		return rc == FE_EIO ? FE__EXIT_LISTEN : FE__EXIT_INTERNAL;
	}
	rc = fe__signing_start(&d->loop, d->st, d->trust, &d->xfr, &d->cfg, d->validating);
	if (rc != FE__EXIT_OK)
		return rc;
	/* The control socket is made (and given to the configured user) before the drop. */
	d->control.policy = d->policy;
	d->control.xfr = &d->xfr;
	d->control.sec = &d->sec;
	d->control.od = d->od;
	rc = fe__control_start(&d->control, &d->loop, d->st, d->srv, &d->cfg,
	                       d->cli.control != NULL, ctl_reload, d, &d->sec);
	if (rc != FE__EXIT_OK)
		return rc;
	/* Sockets bound, store and secrets open: from here on, the configured user. */
	if (d->cfg.user && drop_privileges(d) != FE_OK)
		return FE__EXIT_CONFIG;
	struct fe__zone_stats zs;
	fe__zones_load(d->st, d->trust, &d->cfg, &zs);
	fe__zone_stats_add(&d->totals, &zs);
	fe__control_loads_done(&d->control, &d->cfg, &zs, true, false);
	d->pass_rejected = zs.rejected;
	d->sec.changed = sec_changed;
	d->sec.changed_arg = d;
	if (fe__xfr_notify_start(&d->xfr, &d->loop) != FE__EXIT_OK)
		return FE__EXIT_INTERNAL;
	fe__xfr_loads_done(&d->xfr, d->st);
	if (fe__sec_start(&d->sec, &d->loop, d->st, d->trust, d->validating, d->cfg.store_path,
	                  d->xfr.keys, &d->xfr) != FE__EXIT_OK)
		return FE__EXIT_CONFIG;
	if (fe__od_start(d->od) != FE__EXIT_OK)
		return FE__EXIT_INTERNAL;
	/* Ready means: listening, and the configured zones are loaded (or failed, logged). */
	if (d->cli.ready_file && fe_server_write_ready_file(d->srv, d->cli.ready_file) != FE_OK)
		return FE__EXIT_INTERNAL;
	char lbuf[1024], zbuf[2048];
	describe_listen(d, lbuf, sizeof(lbuf));
	unsigned nz = fe__zones_describe(d->st, zbuf, sizeof(zbuf));
	fe_log_info("fedenumd %s started: listening on %s (udp+tcp); %u workers; %u zones "
	            "(%u loaded, %u unchanged, %u failed, %u refused): %s; store %s; federation "
	            "%s; %zu client prefixes%s%s",
	            FE__VERSION, lbuf, fe_server_workers(d->srv), nz, zs.loaded, zs.current,
	            zs.failed + zs.rejected, zs.refused, nz ? zbuf : "none", d->cfg.store_path,
	            d->cfg.fed_name ? d->cfg.fed_name : "none", fe_server_acl_count(d->acl),
	            d->cfg.has_clients ? "" : " (loopback only: no clients configured)", zs.trust);
	for (size_t i = 0; i < d->cfg.ntls_listen; i++)
		fe_log_info("DNS over TLS on %s@%u%s", d->cfg.tls_listen[i].host,
		            fe_server_tls_port(d->srv, i),
		            d->cfg.tls_client_ca ? " (client certificates required)" : "");
	uv_run(&d->loop, UV_RUN_DEFAULT);
	fe_log_info("stopped");
	return FE__EXIT_OK;
}

int main(int argc, char **argv)
{
	struct daemon d;
	memset(&d, 0, sizeof(d));
	fe_log_set_ident("fedenumd");
	/* libuv writes with write(2): a client that resets its connection must cost an
	 * EPIPE, not the process. */
	signal(SIGPIPE, SIG_IGN);
	/* Zone parsing (ldns) allocates and frees large buffers per record; with glibc's default
	 * trim threshold the heap shrinks and regrows constantly (measured: a third of a 1M-number
	 * load spent in brk). Keep up to 64 MiB of free heap instead. */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);

	int code = parse_args(&d, argc, argv);
	if (code >= 0)
		goto out;
	d.config_path = d.cli.config;

	struct fe_conf_diag diag = {0};
	int rc = read_config(&d, &d.cfg, &diag);
	if (d.cli.check_config) {
		for (size_t i = 0; i < diag.n; i++)
			fprintf(stderr, "%s\n", diag.msgs[i]);
		if (rc == FE_OK && !d.config_path && !d.cli.nzones)
			printf("no configuration: fedenumd would serve its store as it is\n");
		if (rc == FE_OK)
			printf("%s: configuration OK (%zu zones, %zu members, %zu listen "
			       "addresses)\n",
			       d.config_path ? d.config_path : "command line", d.cfg.nzones,
			       d.cfg.nmembers, d.cfg.nlisten);
		fe_conf_diag_free(&diag);
		code = rc == FE_OK ? FE__EXIT_OK : FE__EXIT_CONFIG;
		goto out;
	}
	log_diag(&diag);
	fe_conf_diag_free(&diag);
	if (rc != FE_OK) {
		fe_log_err("configuration refused; not starting");
		code = FE__EXIT_CONFIG;
		goto out;
	}
	fe_log_set_level(d.cfg.log_level);
	if (fe_trust_create(&d.trust) != FE_OK) {
		fe_log_err("out of memory; not starting");
		code = FE__EXIT_INTERNAL;
		goto out;
	}
	code = run(&d);
	fe__control_stop(&d.control);
	if (code != FE__EXIT_OK && d.srv) {
		fe__od_stop(d.od);
		fe_server_stop(d.srv, 0);
		d.srv = NULL;
	}
out:
	if (d.loop_ready) {
		/* After a failed start handles may be left: close them, then the loop. */
		uv_walk(&d.loop, close_walk_cb, NULL);
		uv_run(&d.loop, UV_RUN_DEFAULT);
		uv_loop_close(&d.loop);
	}
	fe_server_acl_destroy(d.acl);
	fe__xfr_free(&d.xfr);
	fe__sec_free(&d.sec);
	fe__od_free(d.od);              /* after the server stopped: no hook runs any more */
	fe_policy_rt_destroy(d.policy); /* after the server stopped: no hook runs any more */
	fe_store_close(d.st);
	fe_trust_destroy(d.trust);
	fe_conf_free(&d.cfg);
	free(d.cli.listen);
	free(d.cli.zones);
	free(d.cli.anchors);
	free(d.xfr_keys);
	free(d.xfr_notify);
	free(d.secondary);
	free(d.secondary_tls);
	free(d.catalogs);
	return code;
}
