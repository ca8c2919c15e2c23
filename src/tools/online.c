/* fedenumctl's online subcommands: status, zone list, zone show, stats, reload, over the
 * control socket of a running fedenumd (src/ctl, docs/control.md).
 *
 * The node is chosen by --socket PATH, else control.socket of -c FILE (read with the conf
 * module), else the schema's built-in default. --json prints the result object as the node
 * sent it. Exit status: 0 done, 1 the node refused or failed the command (its error is
 * printed), 2 usage, 3 no answer (no socket, no permission, timeout, not a fedenumd). */
#include "ctl_int.h"
#include "fedenum/conf.h"
#include "fedenum/ctl.h"
#include "fedenum/util.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct online {
	const char *name;    /* "status", "zone list", ... */
	const char *command; /* protocol command */
	const char *usage;   /* its arguments */
	const char *help;
	uint32_t timeout_ms;
	void (*print)(json_t *result);
};

static const char OPTS_HELP[] =
        "  --socket PATH   the node's control socket (default: control.socket of -c FILE,\n"
        "                  else the built-in default)\n"
        "  -c FILE         the node's fedenumd.conf, to find its control socket\n"
        "  --remote ADDR@PORT  a node's remote administration listener (control.listen),\n"
        "                  over TLS with this client's certificate: needs --tls-cert,\n"
        "                  --tls-key and --tls-ca (the CA of the node's certificate)\n"
        "  --tls-name NAME the name the node's certificate must carry (default: its\n"
        "                  address, as an IP subjectAltName)\n"
        "  --json          print the result object as the node sent it (JSON); when the\n"
        "                  node refuses, its whole error response\n"
        "  --timeout MS    give up after this long\n"
        "Exit status: 0 done, 1 the node refused or failed the command, 2 usage, 3 no answer\n"
        "(no socket, no permission, timeout).\n";

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "-";
}

static long long num(json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

static void print_status(json_t *r)
{
	printf("fedenumd %s, pid %lld, up %lld s (since %s), control protocol %lld\n",
	       str(r, "version"), num(r, "pid"), num(r, "uptime_s"), str(r, "started_at"),
	       num(r, "protocol"));
	printf("listeners:");
	size_t i;
	json_t *l;
	json_array_foreach(json_object_get(r, "listeners"), i, l)
	{
		const char *a = str(l, "address");
		bool v6 = strchr(a, ':') != NULL;
		printf("%s %s%s%s@%lld", i ? "," : "", v6 ? "[" : "", a, v6 ? "]" : "",
		       num(l, "port"));
	}
	printf(" (udp+tcp)\nworkers: %lld\nzones: %lld\nstore: %s\n", num(r, "workers"),
	       num(r, "zones"), str(r, "store"));
	if (json_is_true(json_object_get(r, "trust_anchors")))
		printf("trust anchors: yes (%s)\n", str(r, "anchors"));
	else
		printf("trust anchors: no (zones served without validation)\n");
	json_t *m = json_object_get(r, "metrics");
	if (json_is_object(m))
		printf("metrics: port %lld, GET /metrics\n", num(m, "port"));
	else
		printf("metrics: off\n");
}

/* "; N NAPTR not served (lint)" when the zone has such records. */
static const char *lint_note(json_t *z)
{
	static char buf[64];
	long long n = num(z, "naptr_not_served");
	if (!n)
		return "";
	snprintf(buf, sizeof(buf), "; %lld NAPTR not served (lint)", n);
	return buf;
}

static void print_zone_row(json_t *z)
{
	char served[64];
	if (json_is_true(json_object_get(z, "served")))
		snprintf(served, sizeof(served), "served");
	else
		snprintf(served, sizeof(served), "NOT-SERVED(%s)", str(z, "why"));
	if (json_is_true(json_object_get(z, "stored")))
		printf("%-32s %10lld %8lld %10lld %10lld %-20s %-20s %-23s %s%s\n", str(z, "apex"),
		       num(z, "serial"), num(z, "version"), num(z, "nodes"), num(z, "rrs"),
		       str(z, "loaded_at"), str(z, "chain_expiry"), served, str(z, "trust"),
		       lint_note(z));
	else
		printf("%-32s %10s %8s %10s %10s %-20s %-20s %-23s %s\n", str(z, "apex"), "-", "-",
		       "-", "-", "-", "-", served, str(z, "trust"));
}

static void print_zone_list(json_t *r)
{
	printf("%-32s %10s %8s %10s %10s %-20s %-20s %-23s %s\n", "apex", "serial", "version",
	       "nodes", "rrs", "loaded-at", "chain-expiry", "served", "trust");
	size_t i;
	json_t *z;
	json_array_foreach(json_object_get(r, "zones"), i, z) print_zone_row(z);
}

static void print_zone_show(json_t *z)
{
	bool stored = json_is_true(json_object_get(z, "stored"));
	printf("zone:          %s\n", str(z, "apex"));
	if (stored) {
		printf("serial:        %lld\nversion:       %lld\nnodes:         %lld\n"
		       "records:       %lld\nloaded at:     %s\n",
		       num(z, "serial"), num(z, "version"), num(z, "nodes"), num(z, "rrs"),
		       str(z, "loaded_at"));
		json_t *in = json_object_get(z, "chain_expiry_in_s");
		if (json_is_integer(in))
			printf("chain expiry:  %s (in %lld s)\n", str(z, "chain_expiry"),
			       (long long)json_integer_value(in));
		else
			printf("chain expiry:  - (unsigned)\n");
	} else {
		printf("stored:        no (no version of it is stored)\n");
	}
	printf("served:        %s\n",
	       json_is_true(json_object_get(z, "served")) ? "yes" : str(z, "why"));
	printf("trust:         %s\n", str(z, "trust"));
	if (num(z, "naptr_not_served"))
		printf("NAPTR lint:    %lld records not served: %s\n", num(z, "naptr_not_served"),
		       str(z, "naptr_lint"));
	json_t *v = json_object_get(z, "validation");
	if (json_is_object(v)) {
		printf("validation:    %s", str(v, "state"));
		if (json_object_get(v, "trust_source"))
			printf(" (through the %s; last validated %s)", str(v, "trust_source"),
			       str(v, "validated_at"));
		printf("\n");
		if (json_object_get(v, "signature_expiry"))
			printf("signatures:    own earliest RRSIG expiry %s\n",
			       str(v, "signature_expiry"));
		const char *err = str(v, "last_error");
		printf("last error:    %s\n", strcmp(err, "") ? err : "none");
		if (num(v, "failed_serial"))
			printf("               (serial %lld at %s)\n", num(v, "failed_serial"),
			       str(v, "failed_at"));
		printf("counts:        %lld validations, %lld failures\n", num(v, "validations"),
		       num(v, "failures"));
	} else {
		printf("validation:    none kept (no trust anchors: served without validation)\n");
	}
	printf("peers:         %s\n", str(z, "peers_note"));
}

static void print_object(const char *title, json_t *o)
{
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
	{
		printf("%s%-20s %lld\n", title, k, (long long)json_integer_value(v));
	}
}

static void print_stats(json_t *r)
{
	print_object("", json_object_get(r, "counters"));
	size_t i;
	json_t *w;
	json_array_foreach(json_object_get(r, "workers"), i, w)
	{
		printf("worker %zu: queries=%lld udp=%lld tcp=%lld\n", i, num(w, "queries"),
		       num(w, "udp"), num(w, "tcp"));
	}
	print_object("", json_object_get(r, "control"));
	print_object("zone_loads.", json_object_get(r, "loads"));
	/* zone transfer out and in, when the node does either */
	if (json_is_object(json_object_get(r, "xfr")))
		print_object("xfr.", json_object_get(r, "xfr"));
	if (json_is_object(json_object_get(r, "xfrin")))
		print_object("xfrin.", json_object_get(r, "xfrin"));
	/* on-demand peering, when configured: "ondemand.hit 12" */
	if (json_is_object(json_object_get(r, "ondemand")))
		print_object("ondemand.", json_object_get(r, "ondemand"));
	/* the policy engine's counters that are not zero: "policy.decisions.not-found/bgcf 3" */
	const char *g, *k;
	json_t *go, *v;
	json_object_foreach(json_object_get(r, "policy"), g, go)
	{
		json_object_foreach(go, k, v)
		{
			if (json_integer_value(v))
				printf("policy.%s.%s %lld\n", g, k,
				       (long long)json_integer_value(v));
		}
	}
}

/* "-" for null, else the string or the number. */
static const char *val(json_t *o, const char *key, char *buf, size_t cap)
{
	json_t *v = json_object_get(o, key);
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	return "-";
}

static void print_peer_list(json_t *r)
{
	char b1[32], b2[32], b3[32];
	size_t i, k;
	json_t *p, *z;
	json_t *secs = json_object_get(r, "secondaries"), *prims = json_object_get(r, "primaries");
	printf("secondaries (this node NOTIFYs them and serves them transfers): %zu\n",
	       json_array_size(secs));
	json_array_foreach(secs, i, p)
	{
		printf("  %s@%s\n", str(p, "address"), val(p, "port", b1, sizeof(b1)));
		json_t *n = json_object_get(p, "notify");
		if (json_is_object(n))
			printf("    NOTIFY:    %lld sent, %lld acknowledged, %lld failed, %lld "
			       "pending; "
			       "last %s serial %s at %s, last acknowledged %s\n",
			       num(n, "sent"), num(n, "acked"), num(n, "failed"), num(n, "pending"),
			       val(n, "last_zone", b2, sizeof(b2)),
			       val(n, "last_serial", b3, sizeof(b3)), str(n, "last_sent"),
			       str(n, "last_ack"));
		else
			printf("    NOTIFY:    none (not a NOTIFY target)\n");
		json_t *t = json_object_get(p, "transfers");
		printf("    transfers: %lld AXFR, %lld IXFR, %lld up to date, %lld done, %lld "
		       "refused, %lld failed; last %s %s serial %s at %s\n",
		       num(t, "axfr"), num(t, "ixfr"), num(t, "uptodate"), num(t, "done"),
		       num(t, "refused"), num(t, "failed"), str(t, "last_kind"),
		       str(t, "last_zone"), val(t, "last_serial", b2, sizeof(b2)), str(t, "last"));
		printf("    last error: %s%s%s\n", str(p, "last_error"),
		       json_is_string(json_object_get(p, "last_error_at")) ? " at " : "",
		       json_is_string(json_object_get(p, "last_error_at")) ? str(p, "last_error_at")
		                                                           : "");
	}
	printf("primaries (this node transfers from them): %zu\n", json_array_size(prims));
	json_array_foreach(prims, i, p)
	{
		printf("  %s@%lld%s\n", str(p, "address"), num(p, "port"),
		       json_is_true(json_object_get(p, "tls")) ? " (TLS)" : "");
		json_array_foreach(json_object_get(p, "zones"), k, z)
		{
			printf("    %-32s serial %s, last success %s, next refresh %s%s, last "
			       "error "
			       "%s\n",
			       str(z, "apex"), val(z, "serial", b1, sizeof(b1)),
			       str(z, "last_success"), str(z, "next_refresh"),
			       json_is_true(json_object_get(z, "expired")) ? ", EXPIRED" : "",
			       str(z, "last_error"));
		}
	}
}

static void print_reload(json_t *r)
{
	printf("reload done: %lld zones: %lld loaded, %lld unchanged, %lld failed, %lld refused, "
	       "%lld rejected by validation; %lld suspended, %lld restored\n",
	       num(r, "zones"), num(r, "loaded"), num(r, "unchanged"), num(r, "failed"),
	       num(r, "refused"), num(r, "rejected"), num(r, "suspended"), num(r, "restored"));
}

static const struct online cmds[] = {
        {"status", "status", "",
         "Version, uptime, PID, listeners, workers, zones, store, trust anchors, metrics.", 10000,
         print_status},
        {"zone list", "zone.list", "",
         "Every zone: apex, serial, version, nodes, records, chain expiry, whether it is\n"
         "served and why not, and its trust state (as zone-list shows a store offline).",
         30000, print_zone_list},
        {"zone show", "zone.show", " APEX",
         "One zone: serial, version, counts, validation state and last error, signature\n"
         "and chain expiry. APEX with or without the final dot.",
         10000, print_zone_show},
        {"stats", "stats", "",
         "The server's counters, per worker, control, zone loads and the policy engine's\n"
         "(decisions by cause/action, refusals, rate limiting and harvesting) when not zero.",
         10000, print_stats},
        {"peer list", "peer.list", "",
         "The node's replication peers: each secondary it NOTIFYs and serves transfers\n"
         "to (NOTIFY sent, acknowledged, failed; transfers by kind, the last one and the\n"
         "last error), and each primary it transfers from with its zones (serial, last\n"
         "success, next refresh, expired, last error).",
         10000, print_peer_list},
        {"reload", "reload", "",
         "Reload the configuration and zone files, as SIGHUP does, and wait for the\n"
         "outcome (zones loaded, unchanged, failed, refused, rejected).",
         600000, print_reload},
};

static void usage_of(FILE *f, const struct online *c)
{
	fprintf(f,
	        "usage: fedenumctl %s [--socket PATH | -c FILE | --remote ADDR@PORT --tls-cert "
	        "FILE\n"
	        "                  --tls-key FILE --tls-ca FILE [--tls-name NAME]] [--json] "
	        "[--timeout MS]%s\n\n%s\n",
	        c->name, c->usage, c->help);
	fputs(OPTS_HELP, f);
}

void fe__ctl_online_usage(FILE *f)
{
	fprintf(f, "       fedenumctl status|stats|reload|zone list|zone show APEX|peer list\n"
	           "                  [--socket PATH | -c FILE] [--json]\n");
}

int fe__ctl_conf_path(const char *conf, const char *key, char **path)
{
	size_t n;
	const struct fe_conf_key *k = fe_conf_schema(&n), *want = NULL;
	for (size_t i = 0; i < n; i++)
		if (k[i].file == FE_CONF_NODE && strcmp(k[i].name, key) == 0)
			want = &k[i];
	if (want == NULL || (want->type != FE_CONF_PATH && want->type != FE_CONF_STRING))
		return FE__CTL_EXIT_USAGE;
	*path = NULL;
	if (conf) {
		struct fe_conf c;
		struct fe_conf_diag d = {0};
		fe_conf_init(&c);
		int rc = fe_conf_load(&c, conf, &d);
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "fedenumctl: %s\n", d.msgs[i]);
		fe_conf_diag_free(&d);
		const char *v = *(char *const *)((const char *)&c + want->offset);
		if (rc == FE_OK && v)
			*path = strdup(v);
		fe_conf_free(&c);
		if (rc != FE_OK)
			return FE__CTL_EXIT_USAGE;
		if (*path)
			return 0;
	}
	if (strcmp(want->def, "none") != 0)
		*path = strdup(want->def);
	return *path ? 0 : FE__CTL_EXIT_USAGE;
}

int fe__ctl_online(int argc, char **argv)
{
	static const struct option opts[] = {{"socket", required_argument, NULL, 's'},
	                                     {"config", required_argument, NULL, 'c'},
	                                     {"json", no_argument, NULL, 'j'},
	                                     {"timeout", required_argument, NULL, 't'},
	                                     {"remote", required_argument, NULL, 'R'},
	                                     {"tls-cert", required_argument, NULL, 'C'},
	                                     {"tls-key", required_argument, NULL, 'K'},
	                                     {"tls-ca", required_argument, NULL, 'A'},
	                                     {"tls-name", required_argument, NULL, 'N'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const struct online *c = NULL;
	int skip = 1;
	for (size_t i = 0; i < FE_ARRAY_LEN(cmds); i++) {
		const char *sp = strchr(cmds[i].name, ' ');
		if (sp == NULL && strcmp(argv[0], cmds[i].name) == 0)
			c = &cmds[i];
		else if (sp && argc > 1 &&
		         strncmp(argv[0], cmds[i].name, (size_t)(sp - cmds[i].name)) == 0 &&
		         argv[0][sp - cmds[i].name] == '\0' && strcmp(argv[1], sp + 1) == 0) {
			c = &cmds[i];
			skip = 2;
		}
	}
	if (c == NULL) {
		fprintf(stderr, "usage: fedenumctl zone list|show ... (or zone-list, zone-load "
		                "offline); fedenumctl --help\n");
		return FE__CTL_EXIT_USAGE;
	}
	const char *sock = NULL, *conf = NULL, *remote = NULL;
	struct fe_ctl_remote rem = {0};
	bool as_json = false;
	uint32_t timeout_ms = c->timeout_ms;
	int ch;
	argc -= skip - 1; /* getopt from the word after the subcommand's name */
	argv += skip - 1;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "s:c:jt:R:C:K:A:N:h", opts, NULL)) != -1) {
		char *end;
		unsigned long v;
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'c':
			conf = optarg;
			break;
		case 'j':
			as_json = true;
			break;
		case 't':
			v = strtoul(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end || v == 0 || v > 86400000) {
				fprintf(stderr,
				        "fedenumctl: --timeout %s: not a number of ms in "
				        "1..86400000\n",
				        optarg);
				return FE__CTL_EXIT_USAGE;
			}
			timeout_ms = (uint32_t)v;
			break;
		case 'R':
			remote = optarg;
			break;
		case 'C':
			rem.cert = optarg;
			break;
		case 'K':
			rem.key = optarg;
			break;
		case 'A':
			rem.ca = optarg;
			break;
		case 'N':
			rem.name = optarg;
			break;
		case 'h':
			usage_of(stdout, c);
			return 0;
		default:
			usage_of(stderr, c);
			return FE__CTL_EXIT_USAGE;
		}
	}
	bool wants_apex = strcmp(c->command, "zone.show") == 0;
	if (argc - optind != (wants_apex ? 1 : 0) || (sock && conf) || (remote && (sock || conf))) {
		usage_of(stderr, c);
		return FE__CTL_EXIT_USAGE;
	}
	if (remote && (fe_server_listen_parse(remote, &rem.addr) != FE_OK || rem.addr.port == 0)) {
		fprintf(stderr, "fedenumctl: --remote %s: want ADDR@PORT (a numeric address)\n",
		        remote);
		return FE__CTL_EXIT_USAGE;
	}
	if (remote && (!rem.cert || !rem.key || !rem.ca)) {
		fprintf(stderr, "fedenumctl: --remote needs --tls-cert, --tls-key and --tls-ca "
		                "(remote administration is mutual TLS)\n");
		return FE__CTL_EXIT_USAGE;
	}
	if (!remote && (rem.cert || rem.key || rem.ca || rem.name)) {
		fprintf(stderr, "fedenumctl: --tls-* options go with --remote\n");
		return FE__CTL_EXIT_USAGE;
	}
	char *path = sock ? strdup(sock) : NULL;
	int code = path || remote ? 0 : fe__ctl_conf_path(conf, "control.socket", &path);
	if (code)
		return code;
	json_t *args = wants_apex ? json_pack("{s:s}", "apex", argv[optind]) : NULL;
	json_t *resp = NULL;
	char err[512];
	int rc = remote ? fe_ctl_call_remote(&rem, c->command, args, timeout_ms, &resp, err,
	                                     sizeof(err))
	                : fe_ctl_call(path, c->command, args, timeout_ms, &resp, err, sizeof(err));
	json_decref(args);
	free(path);
	if (rc != FE_OK) {
		fprintf(stderr, "fedenumctl %s: %s\n", c->name, err);
		return FE__CTL_EXIT_NOANSWER;
	}
	json_t *result = json_object_get(resp, "result");
	if (!json_is_true(json_object_get(resp, "ok")) || !json_is_object(result)) {
		fprintf(stderr, "fedenumctl %s: the node refused (%s): %s\n", c->name,
		        str(resp, "code"), str(resp, "error"));
		code = FE__CTL_EXIT_FAIL;
		if (as_json) { /* scripts get the error object: {"version", "ok", "code", "error"}
			        */
			char *s = json_dumps(resp, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			if (s)
				printf("%s\n", s);
			free(s);
		}
	} else if (as_json) {
		char *s = json_dumps(result, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (s)
			printf("%s\n", s);
		free(s);
	} else {
		c->print(result);
	}
	json_decref(resp);
	return code;
}
