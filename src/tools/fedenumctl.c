/* fedenumctl: offline zone operations on a store, zone checks, and queries to a running
 * fedenumd (validated with libunbound, query.c).
 *
 *   fedenumctl zone-load --db DIR [--trust-anchor FILE]... FILE...   load zone files
 *   fedenumctl zone-list --db DIR           list the zones held in the store
 *   fedenumctl check-zone FILE...           parse and check zone files, store nothing
 *   fedenumctl query [...] NAME [TYPE]      ask a fedenumd; --validate checks the answer
 *
 * Exit status: 0 success, 1 a zone failed (parse, validation, store), 2 usage,
 * 3 the store cannot be opened; for query see ctl_int.h. Loading into the store of a running
 * fedenumd is safe (LMDB serialises writers; the daemon sees the new version at its next read
 * snapshot). */
#include "ctl_int.h"
#include "fedenum/store.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "fedenum/zone.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { EXIT_ZONE = 1, EXIT_USAGE = 2, EXIT_STORE = 3 };

static void usage(FILE *f)
{
	fprintf(f, "usage: fedenumctl zone-load --db DIR [--trust-anchor FILE]... FILE...\n"
	           "       fedenumctl zone-list --db DIR\n"
	           "       fedenumctl check-zone FILE...\n");
	fe__ctl_query_usage(f);
	fprintf(f, "\n"
	           "  zone-load   parse, check and store each zone file (apex from its SOA); a\n"
	           "              file whose serial is already stored is left as it is. With\n"
	           "              --trust-anchor FILE (repeatable) every zone is validated\n"
	           "              through an anchor or its parent's DS first, as fedenumd does\n"
	           "  zone-list   apex, serial, version, nodes, records, load time, earliest\n"
	           "              signature expiry and trust state (secure, bogus, last\n"
	           "              rejection and why) of every stored zone\n"
	           "  check-zone  parse and check zone files without storing anything\n"
	           "  query       ask a running fedenumd; with --validate, check the answer\n"
	           "              against the federation's trust anchors (query --help)\n"
	           "\n"
	           "Exit status: 0 ok, 1 a zone failed, 2 usage, 3 store error;\n"
	           "query: 0 answered (and secure), 1 bogus or insecure, 2 usage, 3 no answer.\n");
}

static void print_zone_error(const char *path, int rc, const struct fe_zone_error *err)
{
	const char *file = err->file[0] ? err->file : path;
	const char *why = err->reason[0] ? err->reason : fe_strerror(rc);
	if (err->line)
		fprintf(stderr, "%s:%lu: %s\n", file, err->line, why);
	else
		fprintf(stderr, "%s: %s\n", file, why);
}

/* Parse and validate @path; on success *out owns the zone. */
static int parse_checked(const char *path, struct fe_zone **out, struct fe_zone_error *err)
{
	memset(err, 0, sizeof(*err));
	struct fe_zone_opts zo = {0};
	int rc = fe_zone_parse_file(path, &zo, out, err);
	if (rc)
		return rc;
	rc = fe_zone_validate(*out, err);
	if (rc) {
		fe_zone_free(*out);
		*out = NULL;
	}
	return rc;
}

static void zone_summary(const struct fe_zone *z, char *apex, size_t cap)
{
	size_t len = 0;
	const uint8_t *name = fe_zone_apex(z, &len);
	fe_wire_name_to_str(name, apex, cap);
}

static int cmd_check(int argc, char **argv)
{
	if (argc < 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	int code = 0;
	for (int i = 0; i < argc; i++) {
		struct fe_zone *z = NULL;
		struct fe_zone_error err;
		int rc = parse_checked(argv[i], &z, &err);
		if (rc) {
			print_zone_error(argv[i], rc, &err);
			code = EXIT_ZONE;
			continue;
		}
		char apex[1024];
		zone_summary(z, apex, sizeof(apex));
		printf("%s: zone %s serial %u, %llu records: OK\n", argv[i], apex,
		       fe_zone_serial(z), (unsigned long long)fe_zone_rr_count(z));
		fe_zone_free(z);
	}
	return code;
}

/* "--db DIR" then the rest. Returns the index of the first non-option or -1. */
static int db_option(int argc, char **argv, const char **db)
{
	static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		if (ch == 'd') {
			*db = optarg;
		} else {
			return -1;
		}
	}
	if (!*db) {
		fprintf(stderr, "fedenumctl: --db DIR is required\n");
		return -1;
	}
	return optind;
}

struct load_file {
	const char *path;
	int labels; /* of the apex; parents load first */
};

static int by_labels(const void *a, const void *b)
{
	return ((const struct load_file *)a)->labels - ((const struct load_file *)b)->labels;
}

/* zone-load with trust anchors: the same path as fedenumd (issue #3): every zone validated
 * through an anchor or its parent's stored DS before it is stored; then the chain of every
 * stored zone re-checked (re-delegations). Files are loaded parents first. */
static int load_trusted(struct fe_store *st, const struct fe_zone_anchors *anchors, int n,
                        char **paths)
{
	struct load_file *f = calloc((size_t)n, sizeof(*f));
	if (f == NULL)
		return EXIT_STORE;
	for (int i = 0; i < n; i++) {
		char apex[1024] = ".";
		struct fe_zone_error err;
		memset(&err, 0, sizeof(err));
		f[i].path = paths[i];
		if (fe_zone_peek_apex(paths[i], apex, sizeof(apex), &err) == FE_OK)
			for (const char *c = apex; *c; c++)
				f[i].labels += *c == '.' && c[1] != '\0';
	}
	qsort(f, (size_t)n, sizeof(*f), by_labels);
	struct fe_zone_trust_opts to = {.anchors = anchors};
	fe_zone_validate_opts_init(&to.validate);
	int code = 0;
	for (int i = 0; i < n; i++) {
		struct fe_zone_trust_result res;
		struct fe_zone_error err;
		memset(&err, 0, sizeof(err));
		int rc = fe_zone_trust_load(f[i].path, NULL, &to, st, &res, &err);
		if (rc == FE_OK && res.outcome == FE_ZONE_TRUST_LOADED)
			printf("%s: zone %s serial %u: validated through the %s, %llu signatures: "
			       "stored\n",
			       f[i].path, res.apex, res.serial, res.trust,
			       (unsigned long long)(res.rep.signatures +
			                            res.rep.signatures_cached));
		else if (rc == FE_OK)
			printf("%s: zone %s serial %u: already current and validated, nothing to "
			       "do\n",
			       f[i].path, res.apex, res.serial);
		else {
			print_zone_error(f[i].path, rc, &err);
			if (res.has_previous)
				fprintf(stderr, "%s: the stored serial %u is kept%s\n", f[i].path,
				        res.previous_serial,
				        res.previous_served ? " and keeps serving" : "");
			code = EXIT_ZONE;
		}
	}
	free(f);
	struct fe_zone_sweep_report sw;
	if (fe_zone_trust_sweep(st, anchors, 0, &sw) == FE_OK)
		printf("trust: %u zones, %u secure, %u bogus, %u unchecked\n", sw.zones, sw.secure,
		       sw.bogus, sw.unchecked);
	else
		code = EXIT_STORE;
	return code;
}

static int cmd_load(int argc, char **argv)
{
	static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
	                                     {"trust-anchor", required_argument, NULL, 't'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *db = NULL;
	struct fe_zone_anchors *anchors = NULL;
	int ch, code = 0, rc;
	if (fe_zone_anchors_create(&anchors) != FE_OK)
		return EXIT_STORE;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "d:t:h", opts, NULL)) != -1) {
		if (ch == 'd') {
			db = optarg;
		} else if (ch == 't') {
			struct fe_zone_error err;
			memset(&err, 0, sizeof(err));
			if ((rc = fe_zone_anchors_add_file(anchors, optarg, NULL, &err)) != FE_OK) {
				print_zone_error(optarg, rc, &err);
				fe_zone_anchors_destroy(anchors);
				return EXIT_USAGE;
			}
		} else {
			fe_zone_anchors_destroy(anchors);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	int first = optind;
	if (!db || first >= argc) {
		fe_zone_anchors_destroy(anchors);
		usage(stderr);
		return EXIT_USAGE;
	}
	struct fe_store *st = NULL;
	struct fe_store_opts so = {0};
	rc = fe_store_open(db, &so, &st);
	if (rc) {
		fprintf(stderr, "fedenumctl: cannot open the store %s: %s\n", db, fe_strerror(rc));
		fe_zone_anchors_destroy(anchors);
		return EXIT_STORE;
	}
	if (fe_zone_anchors_count(anchors) > 0) {
		code = load_trusted(st, anchors, argc - first, argv + first);
		goto out;
	}
	for (int i = first; i < argc; i++) {
		struct fe_zone *z = NULL;
		struct fe_zone_error err;
		rc = parse_checked(argv[i], &z, &err);
		if (!rc) {
			char apex[1024];
			zone_summary(z, apex, sizeof(apex));
			uint32_t serial = fe_zone_serial(z);
			unsigned long long rrs = (unsigned long long)fe_zone_rr_count(z);
			memset(&err, 0, sizeof(err));
			rc = fe_zone_commit(z, st, &err);
			if (rc == FE_OK)
				printf("%s: zone %s serial %u, %llu records: stored\n", argv[i],
				       apex, serial, rrs);
			else if (rc == FE_EEXIST)
				printf("%s: zone %s serial %u: already current, nothing to do\n",
				       argv[i], apex, serial);
			fe_zone_free(z);
			if (rc == FE_EEXIST)
				rc = FE_OK;
		}
		if (rc) {
			print_zone_error(argv[i], rc, &err);
			code = EXIT_ZONE;
		}
	}
out:
	fe_store_close(st);
	fe_zone_anchors_destroy(anchors);
	return code;
}

static void fmt_time(int64_t t, char *buf, size_t cap)
{
	if (t <= 0) {
		snprintf(buf, cap, "-");
		return;
	}
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct list_ctx {
	struct fe_store *st;
	unsigned n;
};

static bool list_cb(const struct fe_store_zone_rec *z, void *arg)
{
	struct list_ctx *l = arg;
	char apex[1024], loaded[32], expire[32], status[1200];
	fe_wire_name_to_str(z->apex, apex, sizeof(apex));
	fmt_time(z->loaded_at_s, loaded, sizeof(loaded));
	fmt_time(z->sig_expire_s, expire, sizeof(expire));
	/* the trust state kept per zone (issue #3): secure / bogus / last rejection and why */
	fe_zone_trust_status(l->st, z->apex, z->apex_len, status, sizeof(status));
	printf("%-32s %10u %8llu %10llu %10llu %-20s %-20s %s\n", apex, z->serial,
	       (unsigned long long)z->version, (unsigned long long)z->node_count,
	       (unsigned long long)z->rr_count, loaded, expire, status);
	l->n++;
	return true;
}

static int cmd_list(int argc, char **argv)
{
	const char *db = NULL;
	int first = db_option(argc, argv, &db);
	if (first < 0 || first != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	struct fe_store *st = NULL;
	struct fe_store_opts so = {.read_only = true};
	int rc = fe_store_open(db, &so, &st);
	if (rc) {
		fprintf(stderr, "fedenumctl: cannot open the store %s: %s\n", db, fe_strerror(rc));
		return EXIT_STORE;
	}
	struct fe_store_reader *r = NULL;
	int code = 0;
	struct list_ctx l = {.st = st};
	rc = fe_store_reader_create(st, &r);
	if (!rc)
		rc = fe_store_reader_begin(r);
	if (!rc) {
		printf("%-32s %10s %8s %10s %10s %-20s %-20s %s\n", "apex", "serial", "version",
		       "nodes", "rrs", "loaded-at", "sig-expiry", "trust");
		rc = fe_store_foreach_zone(r, list_cb, &l);
		fe_store_reader_end(r);
	}
	if (rc) {
		fprintf(stderr, "fedenumctl: cannot read the store %s: %s\n", db, fe_strerror(rc));
		code = EXIT_STORE;
	}
	fe_store_reader_destroy(r);
	fe_store_close(st);
	return code;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/* Library lines (e.g. the zone loader's own summary) only when something is wrong: the
	 * command prints its own result on stdout. */
	fe_log_set_ident("fedenumctl");
	fe_log_set_level(FE_LOG_WARN);
	const char *cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "zone-load") == 0)
		return cmd_load(argc - 1, argv + 1);
	if (strcmp(cmd, "zone-list") == 0)
		return cmd_list(argc - 1, argv + 1);
	if (strcmp(cmd, "check-zone") == 0)
		return cmd_check(argc - 2, argv + 2);
	if (strcmp(cmd, "query") == 0)
		return fe__ctl_query(argc - 1, argv + 1);
	fprintf(stderr, "fedenumctl: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return EXIT_USAGE;
}
