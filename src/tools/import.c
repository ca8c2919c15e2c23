/* fedenumctl zone import APEX FILE.csv and zone sign APEX against a running fedenumd.
 *
 * import: the CSV is checked here first (every row, errors as FILE:LINE: reason, a progress
 * bar on a terminal), then the node is given the file's absolute path (zone.import,
 * docs/control.md): it reads and checks it again, signs, stores, NOTIFYs, and answers with
 * the figures. sign: the node signs the zone again from its last import (after a key
 * change). Exit status: 0 done, 1 rows refused or the node refused/failed, 2 usage, 3 no
 * answer (or the file cannot be read). */
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

/* Socket of -c FILE, else the schema's default (malloc'd into *path). 0 or exit status. */
static int sock_of(const char *conf, char **path)
{
	if (conf) {
		struct fe_conf c;
		struct fe_conf_diag d = {0};
		fe_conf_init(&c);
		int rc = fe_conf_load(&c, conf, &d);
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "fedenumctl: %s\n", d.msgs[i]);
		fe_conf_diag_free(&d);
		if (rc == FE_OK && c.control_socket)
			*path = strdup(c.control_socket);
		fe_conf_free(&c);
		return rc == FE_OK && *path ? 0 : FE__CTL_EXIT_USAGE;
	}
	size_t n;
	const struct fe_conf_key *k = fe_conf_schema(&n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(k[i].name, "control.socket") == 0)
			*path = strdup(k[i].def);
	return *path ? 0 : FE__CTL_EXIT_USAGE;
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

int fe__ctl_import(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"socket", required_argument, NULL, 's'}, {"config", required_argument, NULL, 'c'},
	        {"json", no_argument, NULL, 'j'},         {"timeout", required_argument, NULL, 't'},
	        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
	bool sign = strcmp(argv[0], "sign") == 0;
	const char *usage = sign ? USAGE_SIGN : USAGE_IMPORT;
	const char *sock = NULL, *conf = NULL;
	bool as_json = false;
	uint32_t timeout_ms = 600000;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "s:c:jt:h", opts, NULL)) != -1) {
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
		case 'h':
			printf("%s%s", usage, OPTS);
			return 0;
		default:
			fprintf(stderr, "%s%s", usage, OPTS);
			return FE__CTL_EXIT_USAGE;
		}
	}
	if (argc - optind != (sign ? 1 : 2) || (sock && conf)) {
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
		int code = check_local(apex, file, &rows);
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
	char *path = sock ? strdup(sock) : NULL;
	int code = path ? 0 : sock_of(conf, &path);
	if (code) {
		json_decref(args);
		return code;
	}
	json_t *resp = NULL;
	char err[512];
	int rc = fe_ctl_call(path, sign ? "zone.sign" : "zone.import", args, timeout_ms, &resp, err,
	                     sizeof(err));
	json_decref(args);
	free(path);
	if (rc != FE_OK) {
		fprintf(stderr, "fedenumctl zone %s: %s\n", argv[0], err);
		return FE__CTL_EXIT_NOANSWER;
	}
	json_t *result = json_object_get(resp, "result");
	bool ok = json_is_true(json_object_get(resp, "ok")) && json_is_object(result);
	if (!ok) {
		fprintf(stderr, "fedenumctl zone %s: the node refused (%s): %s\n", argv[0],
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
		       sign ? "signed" : "imported",
		       json_string_value(json_object_get(result, "apex")),
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
