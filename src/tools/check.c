/* fedenumctl check-zone: check zone files as a federation node would, without storing them.
 *
 * Which checks run depends on what is given, and the output names them:
 *  - always: parse (RFC 1035 master file, limits) and structure (SOA/NS at the apex, CNAME
 *    rules);
 *  - with trust anchors (--trust-anchor, or those of --federation): the whole federation
 *    path of fedenumd (fe_trust_load): chain of trust through an anchor or the
 *    parent's DS, every RRSIG, the NSEC/NSEC3 chain, ZONEMD, KeyTrap budgets. Parents come
 *    from --db STORE (read-only, nothing written), or else from the other files given,
 *    loaded parents first into a temporary store that is removed afterwards;
 *  - without anchors, a signed zone: the same DNSSEC checks against its own keys ("self-
 *    signed": integrity, not a chain of trust);
 *  - an unsigned zone fails (a node under federation trust never serves it), unless
 *    --allow-unsigned asks for the structural checks only. */
#include "ctl_int.h"
#include "fedenum/conf.h"
#include "fedenum/store.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "fedenum/trust.h"
#include "fedenum/zone.h"

#include <getopt.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_ZONE = FE__CTL_EXIT_FAIL, EXIT_USAGE = FE__CTL_EXIT_USAGE, EXIT_STORE = 3 };

static const char USAGE_CHECK[] =
        "usage: fedenumctl zone check [--trust-anchor FILE]... [--federation FILE]\n"
        "                             [--db DIR] [--allow-unsigned] [--member NAME]\n"
        "                             [--json] FILE...\n"
        "       (check-zone is the same command)\n"
        "\n"
        "Check zone files as a federation node would; nothing is stored.\n"
        "  --trust-anchor FILE  DS or DNSKEY records (repeatable): validate every zone\n"
        "                       through an anchor or its parent's DS, as fedenumd does\n"
        "  --federation FILE    the trust-anchors of a federation.conf (or fedenumd.conf)\n"
        "  --db DIR             take parents (their DS) from this store, read-only; without\n"
        "                       it, parents must be among the files given\n"
        "  --allow-unsigned     an unsigned zone passes with structural checks only\n"
        "  --member NAME        the member whose zone it is (default: the federation's\n"
        "                       zone entry for its apex); with --federation, prefix\n"
        "                       authority: every number within the member's prefixes,\n"
        "                       a domain zone among its domains\n"
        "  --json               one JSON object: {\"ok\", \"files\": [{\"file\", \"ok\",\n"
        "                       \"detail\", \"authority\"}]}\n"
        "Without anchors a signed zone is checked against its own keys (integrity, no\n"
        "chain of trust). Each line says which checks ran.\n"
        "Exit status: 0 every zone passed, 1 a zone failed, 2 usage, 3 store error.\n";

/* --json: one object per file in "files" instead of lines on stdout and stderr. */
static json_t *json_files;

/* The entry of @path in json_files (made on first use). */
static json_t *file_entry(const char *path)
{
	for (size_t i = 0; i < json_array_size(json_files); i++) {
		json_t *e = json_array_get(json_files, i);
		if (strcmp(json_string_value(json_object_get(e, "file")), path) == 0)
			return e;
	}
	json_t *e = json_pack("{s:s, s:b}", "file", path, "ok", 1);
	json_array_append_new(json_files, e);
	return e;
}

/* An OK line for @path (printf-style). */
static void report_ok(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report_ok(const char *path, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (json_files)
		json_object_set_new(file_entry(path), "detail", json_string(line));
	else
		printf("%s\n", line);
}

/* A failure of @path: "file:line: reason", or a sentence. */
static void report_fail(const char *path, int rc, const struct fe_zone_error *err,
                        const char *sentence)
{
	if (!json_files) {
		if (sentence)
			fprintf(stderr, "%s\n", sentence);
		else
			fe__ctl_print_zone_error(path, rc, err);
		return;
	}
	char line[2048];
	if (sentence)
		snprintf(line, sizeof(line), "%s", sentence);
	else if (err->line)
		snprintf(line, sizeof(line), "%s:%lu: %s", err->file[0] ? err->file : path,
		         err->line, err->reason[0] ? err->reason : fe_strerror(rc));
	else
		snprintf(line, sizeof(line), "%s: %s", err->file[0] ? err->file : path,
		         err->reason[0] ? err->reason : fe_strerror(rc));
	json_t *e = file_entry(path);
	json_object_set_new(e, "ok", json_false());
	json_object_set_new(e, "detail", json_string(line));
}

static int add_anchor_file(const char *file, void *arg)
{
	struct fe_zone_error err;
	memset(&err, 0, sizeof(err));
	int rc = fe_trust_anchors_add_file(arg, file, NULL, &err);
	if (rc != FE_OK)
		fe__ctl_print_zone_error(file, rc, &err);
	return rc != FE_OK;
}

static void report_dnssec(const struct fe_dnssec_report *rep, char *buf, size_t cap)
{
	snprintf(buf, cap, "%llu RRsets, %llu signatures, %s chain (%llu records)%s",
	         (unsigned long long)rep->rrsets,
	         (unsigned long long)(rep->signatures + rep->signatures_cached),
	         rep->nsec3 ? "NSEC3" : "NSEC", (unsigned long long)rep->denial_records,
	         rep->zonemd_verified ? ", ZONEMD verified" : ", no ZONEMD");
}

/* No anchors: parse, structure, and DNSSEC against the zone's own keys when signed. */
static int check_alone(const char *path, bool allow_unsigned)
{
	struct fe_zone *z = NULL;
	struct fe_zone_error err;
	memset(&err, 0, sizeof(err));
	struct fe_zone_opts zo = {0};
	int rc = fe_zone_parse_file(path, &zo, &z, &err);
	if (rc == FE_OK)
		rc = fe_zone_validate(z, &err);
	if (rc != FE_OK) {
		report_fail(path, rc, &err, NULL);
		fe_zone_free(z);
		return EXIT_ZONE;
	}
	char apex[1100], what[400];
	size_t len = 0;
	fe_wire_name_to_str(fe_zone_apex(z, &len), apex, sizeof(apex));
	const char *lint = NULL;
	uint64_t nlint = fe_zone_naptr_lint(z, &lint);
	if (nlint)
		printf("%s: zone %s: %llu NAPTR records fail the lint and would not be served: "
		       "%s\n",
		       path, apex, (unsigned long long)nlint, lint);
	if (!fe_zone_is_signed(z)) {
		int code = 0;
		if (allow_unsigned) {
			report_ok(path,
			          "%s: zone %s serial %u, %llu records: OK (checks: parse, "
			          "structure; "
			          "unsigned: a node under federation trust would not serve it)",
			          path, apex, fe_zone_serial(z),
			          (unsigned long long)fe_zone_rr_count(z));
		} else {
			char line[1400];
			snprintf(line, sizeof(line),
			         "%s: zone %s is not signed: a federation node serves only signed "
			         "zones "
			         "(--allow-unsigned checks the structure only)",
			         path, apex);
			report_fail(path, 0, NULL, line);
			code = EXIT_ZONE;
		}
		fe_zone_free(z);
		return code;
	}
	struct fe_dnssec_opts vo;
	struct fe_dnssec_report rep;
	fe_dnssec_opts_init(&vo);
	memset(&rep, 0, sizeof(rep));
	rc = fe_dnssec_validate(z, NULL, &vo, &rep, &err);
	int code = 0;
	if (rc == FE_OK) {
		report_dnssec(&rep, what, sizeof(what));
		report_ok(
		        path,
		        "%s: zone %s serial %u, %llu records: OK (checks: parse, structure, DNSSEC "
		        "self-signed: %s; chain of trust NOT checked: no trust anchors given)",
		        path, apex, fe_zone_serial(z), (unsigned long long)fe_zone_rr_count(z),
		        what);
	} else {
		report_fail(path, rc, &err, NULL);
		code = EXIT_ZONE;
	}
	fe_zone_free(z);
	return code;
}

static void report_check(const char *path, int rc, const struct fe_trust_result *res,
                         const struct fe_zone_error *err)
{
	char what[400];
	if (rc == FE_OK && res->outcome == FE_TRUST_LOADED) {
		report_dnssec(&res->rep, what, sizeof(what));
		report_ok(path,
		          "%s: zone %s serial %u: OK (checks: parse, structure, chain of trust "
		          "through the %s (key %u/%u), DNSSEC: %s)",
		          path, res->apex, res->serial, res->trust, res->rep.trusted_key_tag,
		          res->rep.trusted_key_alg, what);
	} else if (rc == FE_OK) {
		report_ok(path,
		          "%s: zone %s serial %u: OK (the store already holds this serial, "
		          "validated, "
		          "with the same content)",
		          path, res->apex, res->serial);
	} else {
		report_fail(path, rc, err, NULL);
	}
}

static int check_trusted(struct fe_store *st, const struct fe_trust_anchors *anchors, bool dry_run,
                         int n, char **paths)
{
	struct fe_trust_opts to = {.anchors = anchors, .dry_run = dry_run};
	fe_dnssec_opts_init(&to.validate);
	return fe__ctl_trust_each(st, &to, NULL, n, paths, report_check);
}

int fe__ctl_check(int argc, char **argv)
{
	static const struct option opts[] = {{"trust-anchor", required_argument, NULL, 't'},
	                                     {"federation", required_argument, NULL, 'F'},
	                                     {"db", required_argument, NULL, 'd'},
	                                     {"allow-unsigned", no_argument, NULL, 'u'},
	                                     {"member", required_argument, NULL, 'm'},
	                                     {"json", no_argument, NULL, 'j'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {"version", no_argument, NULL, 'V'},
	                                     {NULL, 0, NULL, 0}};
	struct fe_trust_anchors *anchors = NULL;
	struct fe_store *st = NULL;
	const char *db = NULL, *federation = NULL, *member = NULL;
	struct fe_conf fed;
	bool have_fed = false;
	char tmp[] = "/tmp/fedenumctl-check-XXXXXX";
	bool made_tmp = false, allow_unsigned = false;
	int ch, code = 0, rc;
	if (fe_trust_anchors_create(&anchors) != FE_OK)
		return EXIT_STORE;
	optind = 1;
	json_files = NULL;
	while ((ch = getopt_long(argc, argv, "t:F:d:um:jhV", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			if (add_anchor_file(optarg, anchors)) {
				code = EXIT_USAGE;
				goto out;
			}
			break;
		case 'F':
			if (fe__ctl_federation_anchors(optarg, add_anchor_file, anchors) != 0) {
				code = EXIT_USAGE;
				goto out;
			}
			federation = optarg;
			break;
		case 'm':
			member = optarg;
			break;
		case 'j':
			if (!json_files)
				json_files = json_array();
			break;
		case 'd':
			db = optarg;
			break;
		case 'u':
			allow_unsigned = true;
			break;
		case 'h':
			fputs(USAGE_CHECK, stdout);
			goto out;
		case 'V':
			printf("fedenumctl %s\n", FE__CTL_VERSION);
			goto out;
		default:
			fputs(USAGE_CHECK, stderr);
			code = EXIT_USAGE;
			goto out;
		}
	}
	int first = optind, n = argc - optind;
	if (n < 1 || (member && !federation)) {
		if (member && !federation)
			fprintf(stderr, "fedenumctl: --member needs --federation FILE\n");
		else
			fputs(USAGE_CHECK, stderr);
		code = EXIT_USAGE;
		goto out;
	}
	if (federation) {
		/* The whole definition, for the prefix authority of each zone. */
		struct fe_conf_diag d = {0};
		fe_conf_init(&fed);
		have_fed = true;
		if (fe_conf_load_federation(&fed, federation, &d) != FE_OK) {
			for (size_t i = 0; i < d.n; i++)
				fprintf(stderr, "fedenumctl: %s\n", d.msgs[i]);
			fe_conf_diag_free(&d);
			code = EXIT_USAGE;
			goto out;
		}
		fe_conf_diag_free(&d);
	}
	if (db && fe_trust_anchors_count(anchors) == 0) {
		/* The store's own anchors, when it records some. */
		struct fe_store_opts so = {.read_only = true};
		struct fe_trust_anchors *stored = NULL;
		if ((rc = fe_store_open(db, &so, &st)) != FE_OK) {
			fprintf(stderr, "fedenumctl: cannot open the store %s: %s\n", db,
			        fe_strerror(rc));
			code = EXIT_STORE;
			goto out;
		}
		if (fe_trust_anchors_from_store(st, &stored) == FE_OK) {
			fe_trust_anchors_destroy(anchors);
			anchors = stored;
		}
	}
	if (fe_trust_anchors_count(anchors) == 0) {
		for (int i = first; i < argc; i++)
			if (check_alone(argv[i], allow_unsigned) != 0)
				code = EXIT_ZONE;
		goto authority;
	}
	if (db && st == NULL) {
		struct fe_store_opts so = {.read_only = true};
		if ((rc = fe_store_open(db, &so, &st)) != FE_OK) {
			fprintf(stderr, "fedenumctl: cannot open the store %s: %s\n", db,
			        fe_strerror(rc));
			code = EXIT_STORE;
			goto out;
		}
	} else if (!db) {
		struct fe_store_opts so = {.no_sync = true, .map_size_bytes = 64ull << 30};
		if (mkdtemp(tmp) == NULL || fe_store_open(tmp, &so, &st) != FE_OK) {
			fprintf(stderr, "fedenumctl: cannot make a temporary store in /tmp\n");
			code = EXIT_STORE;
			goto out;
		}
		made_tmp = true;
	}
	code = check_trusted(st, anchors, db != NULL, n, argv + first);
authority:
	for (int i = first; have_fed && i < argc; i++) {
		json_t *a = json_files ? json_object() : NULL;
		if (fe__ctl_authority(&fed, member, argv[i], a) != 0) {
			code = EXIT_ZONE;
			if (a)
				json_object_set_new(file_entry(argv[i]), "ok", json_false());
		}
		if (a)
			json_object_set_new(file_entry(argv[i]), "authority", a);
	}
	if (json_files) {
		json_t *o = json_pack("{s:b, s:O}", "ok", code == 0, "files", json_files);
		char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (text)
			printf("%s\n", text);
		free(text);
		json_decref(o);
	}
out:
	json_decref(json_files);
	json_files = NULL;
	if (have_fed)
		fe_conf_free(&fed);
	fe_store_close(st);
	if (made_tmp) {
		static const char *const files[] = {"data.mdb", "lock.mdb"};
		char p[sizeof(tmp) + 16];
		for (size_t i = 0; i < FE_ARRAY_LEN(files); i++) {
			snprintf(p, sizeof(p), "%s/%s", tmp, files[i]);
			remove(p);
		}
		remove(tmp);
	}
	fe_trust_anchors_destroy(anchors);
	return code;
}
