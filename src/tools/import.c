/* fedenumctl zone import APEX FILE.csv and zone sign APEX against a running fedenumd.
 *
 * import: the CSV is checked here first (every row, errors as FILE:LINE: reason, a progress
 * bar on a terminal), then the node is given the file's absolute path (zone.import,
 * docs/control.md): it reads and checks it again, signs, stores, NOTIFYs, and answers with
 * the figures. sign: the node signs the zone again from its last import (after a key
 * change). number add|remove|port: one number changed on the node (zone.number), signed
 * incrementally. Exit status: 0 done, 1 rows refused or the node refused/failed, 2 usage,
 * 3 no answer (or the file cannot be read). */
#include "ctl_int.h"
#include "fedenum/conf.h"
#include "fedenum/ctl.h"
#include "fedenum/sign.h"
#include "fedenum/util.h"

#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char USAGE_IMPORT[] =
        "usage: fedenumctl zone import [--socket PATH | -c FILE] [--json] [--timeout MS]\n"
        "                              APEX FILE.csv\n"
        "\n"
        "Replace the numbers of zone APEX with the CSV's, on the node: the zone is created\n"
        "(SOA and NS from signing.* of the node's configuration) when it does not exist,\n"
        "signed with the node's keys (fedenumctl key generate), stored, and NOTIFYed to\n"
        "the secondaries. Columns: number,service,uri[,order,preference] (order 100 and\n"
        "preference 10 unless given); a first line starting with \"number,\" is a header.\n"
        "  +15552000001,E2U+sip,sip:+15552000001@ims-b.example;user=phone\n"
        "  +15552000008,E2U+pstn:tel,tel:+15552000008;npdi;rn=+15553999999\n"
        "Every row is checked first (number E.164 and inside the zone's prefix, no\n"
        "duplicate number and service, an ENUM service, a URI that passes the NAPTR lint);\n"
        "one bad row and nothing is applied: each is printed as FILE:LINE: reason.\n"
        "A progress bar on a terminal (stderr), none when piped.\n";

static const char USAGE_SIGN[] =
        "usage: fedenumctl zone sign [--socket PATH | -c FILE] [--json] [--timeout MS] APEX\n"
        "\n"
        "Sign zone APEX again from its last import, with the keys as they are now (after\n"
        "key generate or a key rollover step), store it and NOTIFY the secondaries.\n";

static const char USAGE_NUMBER[] =
        "usage: fedenumctl number add [--order N] [--preference N] APEX NUMBER SERVICE URI\n"
        "       fedenumctl number remove APEX NUMBER\n"
        "       fedenumctl number port APEX NUMBER --rn +ROUTING-NUMBER\n"
        "         each with [--socket PATH | -c FILE] [--json] [--timeout MS]\n"
        "\n"
        "Change one number of zone APEX on the node, from its last zone import: add a NAPTR\n"
        "(checked like a CSV row), remove every NAPTR of NUMBER, or port it (its NAPTRs\n"
        "replaced by E2U+pstn:tel tel:NUMBER;npdi;rn=ROUTING-NUMBER). Only the changed\n"
        "RRsets, their NSEC3/NSEC neighbours and the SOA are signed again; the store writes\n"
        "and journals the difference (IXFR) and the secondaries get a NOTIFY.\n";

static const char OPTS[] =
        "  --socket PATH   the node's control socket (default: control.socket of -c FILE,\n"
        "                  else the built-in default)\n"
        "  -c FILE         the node's fedenumd.conf\n"
        "  --json          print the node's result (or error response) as JSON\n"
        "  --timeout MS    give up after this long (default 600000)\n"
        "Exit status: 0 done, 1 rows refused, or the node refused or failed, 2 usage,\n"
        "3 no answer (no socket, no permission, timeout) or the file cannot be read.\n";

struct bar {
	bool on;
	int last;
};

static void progress(void *arg, uint64_t done, uint64_t total)
{
	struct bar *b = arg;
	if (!b->on || total == 0)
		return;
	int pct = (int)(done * 100 / total);
	if (pct == b->last)
		return;
	b->last = pct;
	char bar[41];
	int fill = pct * 40 / 100;
	memset(bar, '#', (size_t)fill);
	memset(bar + fill, '.', (size_t)(40 - fill));
	bar[40] = '\0';
	fprintf(stderr, "\rchecking rows [%s] %3d%%", bar, pct);
	if (pct == 100)
		fputc('\n', stderr);
	fflush(stderr);
}

/* Check @file locally: 0 good, else the exit status (errors printed). */
static int check_local(const char *apex, const char *file, size_t *rows)
{
	char *data;
	size_t len;
	int rc = fe_file_read_all(file, 1u << 30, &data, &len);
	if (rc != FE_OK) {
		fprintf(stderr, "fedenumctl zone import: %s: %s\n", file, fe_strerror(rc));
		return FE__CTL_EXIT_NOANSWER;
	}
	struct bar b = {.on = isatty(STDERR_FILENO) == 1, .last = -1};
	struct fe_sign_csv csv;
	rc = fe_sign_csv_parse(data, len, apex, NULL, 0, &csv, progress, &b);
	free(data);
	if (rc == FE_EINVAL) {
		fprintf(stderr, "fedenumctl zone import: %s: not a zone name\n", apex);
		return FE__CTL_EXIT_USAGE;
	}
	if (rc == FE_ERANGE) {
		fprintf(stderr, "fedenumctl zone import: %s: more than %u rows\n", file,
		        FE_SIGN_CSV_MAX_ROWS);
		return FE__CTL_EXIT_FAIL;
	}
	if (rc != FE_OK) {
		for (size_t i = 0; i < csv.nerrors; i++) /* "line N: reason" → FILE:N: reason */
			fprintf(stderr, "%s:%s\n", file, csv.errors[i] + 5);
		if (csv.error_rows > csv.nerrors)
			fprintf(stderr, "... and %llu more\n",
			        (unsigned long long)(csv.error_rows - csv.nerrors));
		fprintf(stderr,
		        "fedenumctl zone import: %llu rows refused: nothing applied (%zu rows "
		        "good)\n",
		        (unsigned long long)csv.error_rows, csv.n);
		fe_sign_csv_free(&csv);
		return FE__CTL_EXIT_FAIL;
	}
	*rows = csv.n;
	fe_sign_csv_free(&csv);
	return 0;
}

/* Send @command with @args (stolen) to the node; print the result (or --json). The exit
 * status. */
static int call(const char *sock, const char *conf, const char *command, json_t *args,
                uint32_t timeout_ms, bool as_json, const char *label, const char *verb)
{
	char *path = sock ? strdup(sock) : NULL;
	int code = path ? 0 : fe__ctl_conf_path(conf, "control.socket", &path);
	if (code) {
		json_decref(args);
		return code;
	}
	json_t *resp = NULL;
	char err[512];
	int rc = fe_ctl_call(path, command, args, timeout_ms, &resp, err, sizeof(err));
	json_decref(args);
	free(path);
	if (rc != FE_OK) {
		fprintf(stderr, "fedenumctl %s: %s\n", label, err);
		return FE__CTL_EXIT_NOANSWER;
	}
	json_t *result = json_object_get(resp, "result");
	bool ok = json_is_true(json_object_get(resp, "ok")) && json_is_object(result);
	if (!ok) {
		fprintf(stderr, "fedenumctl %s: the node refused (%s): %s\n", label,
		        json_string_value(json_object_get(resp, "code")),
		        json_string_value(json_object_get(resp, "error")));
		code = FE__CTL_EXIT_FAIL;
	}
	if (as_json) {
		char *s = json_dumps(ok ? result : resp, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (s)
			printf("%s\n", s);
		free(s);
	} else if (ok) {
		printf("%s %s: serial %lld%s, %lld numbers, %lld of %lld RRsets signed, %lld "
		       "signatures (%s, %lld threads), valid until %s; read %.2f s, sign %.2f s, "
		       "store %.2f s, total %.2f s\n",
		       verb, json_string_value(json_object_get(result, "apex")),
		       (long long)json_integer_value(json_object_get(result, "serial")),
		       json_is_true(json_object_get(result, "created")) ? " (zone created)" : "",
		       (long long)json_integer_value(json_object_get(result, "numbers")),
		       (long long)json_integer_value(json_object_get(result, "rrsets_resigned")),
		       (long long)json_integer_value(json_object_get(result, "rrsets")),
		       (long long)json_integer_value(json_object_get(result, "signatures")),
		       json_string_value(json_object_get(result, "denial")),
		       (long long)json_integer_value(json_object_get(result, "threads")),
		       json_string_value(json_object_get(result, "signature_expiry")),
		       json_real_value(json_object_get(result, "read_seconds")),
		       json_real_value(json_object_get(result, "sign_seconds")),
		       json_real_value(json_object_get(result, "store_seconds")),
		       json_real_value(json_object_get(result, "total_seconds")));
	}
	json_decref(resp);
	return code;
}

struct opts {
	const char *sock, *conf, *rn;
	bool as_json;
	uint32_t timeout_ms;
	long order, pref; /* -1: not given */
};

static bool u16_arg(const char *name, const char *v, long *out)
{
	char *end;
	long n = strtol(v, &end, 10);
	if (*v < '0' || *v > '9' || *end || n > 65535) {
		fprintf(stderr, "fedenumctl: %s %s: not a number in 0..65535\n", name, v);
		return false;
	}
	*out = n;
	return true;
}

/* The options of these commands (--order, --preference and --rn only with @number): -1 to
 * go on, else the exit status. */
static int parse_opts(int argc, char **argv, const char *usage, bool number, struct opts *o)
{
	static const struct option opts[] = {{"socket", required_argument, NULL, 's'},
	                                     {"config", required_argument, NULL, 'c'},
	                                     {"json", no_argument, NULL, 'j'},
	                                     {"timeout", required_argument, NULL, 't'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {"order", required_argument, NULL, 'o'},
	                                     {"preference", required_argument, NULL, 'p'},
	                                     {"rn", required_argument, NULL, 'r'},
	                                     {NULL, 0, NULL, 0}};
	*o = (struct opts){.timeout_ms = 600000, .order = -1, .pref = -1};
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "s:c:jt:h", opts, NULL)) != -1) {
		char *end;
		unsigned long v;
		if (!number && (ch == 'o' || ch == 'p' || ch == 'r'))
			ch = '?';
		switch (ch) {
		case 's':
			o->sock = optarg;
			break;
		case 'c':
			o->conf = optarg;
			break;
		case 'j':
			o->as_json = true;
			break;
		case 'o':
			if (!u16_arg("--order", optarg, &o->order))
				return FE__CTL_EXIT_USAGE;
			break;
		case 'p':
			if (!u16_arg("--preference", optarg, &o->pref))
				return FE__CTL_EXIT_USAGE;
			break;
		case 'r':
			o->rn = optarg;
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
			o->timeout_ms = (uint32_t)v;
			break;
		case 'h':
			printf("%s%s", usage, OPTS);
			return 0;
		default:
			fprintf(stderr, "%s%s", usage, OPTS);
			return FE__CTL_EXIT_USAGE;
		}
	}
	if (o->sock && o->conf) {
		fprintf(stderr, "%s%s", usage, OPTS);
		return FE__CTL_EXIT_USAGE;
	}
	return -1;
}

int fe__ctl_import(int argc, char **argv)
{
	bool sign = strcmp(argv[0], "sign") == 0;
	const char *usage = sign ? USAGE_SIGN : USAGE_IMPORT;
	struct opts o;
	int code = parse_opts(argc, argv, usage, false, &o);
	if (code >= 0)
		return code;
	if (argc - optind != (sign ? 1 : 2)) {
		fprintf(stderr, "%s%s", usage, OPTS);
		return FE__CTL_EXIT_USAGE;
	}
	const char *apex = argv[optind];
	json_t *args;
	size_t rows = 0;
	if (sign) {
		args = json_pack("{s:s}", "apex", apex);
	} else {
		char abs[PATH_MAX];
		const char *file = argv[optind + 1];
		code = check_local(apex, file, &rows);
		if (code)
			return code;
		if (realpath(file, abs) == NULL) {
			perror(file);
			return FE__CTL_EXIT_NOANSWER;
		}
		args = json_pack("{s:s, s:s}", "apex", apex, "path", abs);
		if (isatty(STDERR_FILENO))
			fprintf(stderr, "%zu rows good; the node signs and stores them...\n", rows);
	}
	return call(o.sock, o.conf, sign ? "zone.sign" : "zone.import", args, o.timeout_ms,
	            o.as_json, sign ? "zone sign" : "zone import", sign ? "signed" : "imported");
}

int fe__ctl_number(int argc, char **argv)
{
	if (argc < 2 || (strcmp(argv[1], "add") != 0 && strcmp(argv[1], "remove") != 0 &&
	                 strcmp(argv[1], "port") != 0)) {
		bool help =
		        argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
		fprintf(help ? stdout : stderr, "%s%s", USAGE_NUMBER, OPTS);
		return help ? 0 : FE__CTL_EXIT_USAGE;
	}
	const char *op = argv[1];
	struct opts o;
	int code = parse_opts(argc - 1, argv + 1, USAGE_NUMBER, true, &o);
	if (code >= 0)
		return code;
	argc--;
	argv++;
	bool add = strcmp(op, "add") == 0, port = strcmp(op, "port") == 0;
	int want = add ? 4 : 2;
	if (argc - optind != want || (port != (o.rn != NULL)) ||
	    (!add && (o.order >= 0 || o.pref >= 0))) {
		fprintf(stderr, "%s%s", USAGE_NUMBER, OPTS);
		return FE__CTL_EXIT_USAGE;
	}
	json_t *args = json_pack("{s:s, s:s, s:s}", "apex", argv[optind], "op", op, "number",
	                         argv[optind + 1]);
	if (add) {
		json_object_set_new(args, "service", json_string(argv[optind + 2]));
		json_object_set_new(args, "uri", json_string(argv[optind + 3]));
		if (o.order >= 0)
			json_object_set_new(args, "order", json_integer(o.order));
		if (o.pref >= 0)
			json_object_set_new(args, "preference", json_integer(o.pref));
	}
	if (port)
		json_object_set_new(args, "rn", json_string(o.rn));
	char label[32], verb[32];
	snprintf(label, sizeof(label), "number %s", op);
	snprintf(verb, sizeof(verb), "number %s:", op);
	return call(o.sock, o.conf, "zone.number", args, o.timeout_ms, o.as_json, label, verb);
}
