/* fedenumctl: offline zone operations on a store, zone checks (check.c), and queries to a
 * running fedenumd (validated with libunbound, query.c).
 *
 *   fedenumctl zone-load --db DIR [--trust-anchor FILE]... [--force] FILE...
 *   fedenumctl zone-list --db DIR           list the zones held in the store
 *   fedenumctl check-zone [...] FILE...     check zone files as a node would, store nothing
 *   fedenumctl query [...] NAME [TYPE]      ask a fedenumd; --validate checks the answer
 *
 * One writer per store: zone-load takes the store's exclusive lock, so it refuses the store
 * of a running fedenumd (whose store changes only through its own checks), and it applies the
 * trust anchors recorded in the store (a store created under anchors stays under them).
 * Exit status: 0 success, 1 a zone failed or was refused, 2 usage, 3 the store cannot be
 * opened (or is in use); for query see ctl_int.h. */
#include "ctl_int.h"
#include "fedenum/conf.h"
#include "fedenum/store.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "fedenum/trust.h"
#include "fedenum/zone.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
	EXIT_ZONE = FE__CTL_EXIT_FAIL,
	EXIT_USAGE = FE__CTL_EXIT_USAGE,
	EXIT_STORE = FE__CTL_EXIT_NOANSWER
};

static const char USAGE_LOAD[] =
        "usage: fedenumctl zone-load --db DIR [--trust-anchor FILE]... [--force] FILE...\n"
        "\n"
        "Parse, check and store each zone file (apex from its SOA), parents first.\n"
        "  --db DIR             the store (not one a running fedenumd holds: refused)\n"
        "  --trust-anchor FILE  DS or DNSKEY records: every zone is validated through an\n"
        "                       anchor or its parent's stored DS first, as fedenumd does.\n"
        "                       A store holding anchors is always loaded under them; given\n"
        "                       anchors must be among them\n"
        "  --force              accept a serial that does not move forward (RFC 1982): the\n"
        "                       way to roll a zone back on purpose\n"
        "A serial already stored with the same content is left as it is; a lower serial,\n"
        "or the same serial with other content, is refused; a validated version is never\n"
        "replaced by one that was not validated.\n"
        "Exit status: 0 ok, 1 a zone failed or was refused, 2 usage, 3 store error or\n"
        "store in use.\n";

static const char USAGE_LIST[] =
        "usage: fedenumctl zone-list --db DIR\n"
        "\n"
        "Apex, serial, version (a new number at every commit), nodes, records, load time,\n"
        "chain expiry, whether the zone is served, and its trust state (secure, bogus, last\n"
        "rejection and why) of every stored zone. Read-only: works on the store of a running\n"
        "fedenumd.\n"
        "Exit status: 0 ok, 2 usage, 3 store error.\n";

static void usage(FILE *f)
{
	fprintf(f, "usage: fedenumctl zone-load --db DIR [--trust-anchor FILE]... [--force] "
	           "FILE...\n"
	           "       fedenumctl zone-list --db DIR\n"
	           "       fedenumctl check-zone [--trust-anchor FILE]... [--federation FILE]\n"
	           "                             [--db DIR] [--allow-unsigned] FILE...\n"
	           "       fedenumctl zone check [--federation FILE] [--member NAME] [--json] ...\n"
	           "                             FILE... (check-zone --help)\n"
	           "       fedenumctl backup [--db STORE | -c FILE] DIR\n"
	           "       fedenumctl zone export [--db STORE | -c FILE] APEX\n"
	           "       fedenumctl key generate|list|ds APEX, key rollover APEX zsk|ksk\n"
	           "                  [--key-dir DIR | -c FILE] [--json]\n"
	           "       fedenumctl zone import APEX FILE.csv, zone sign APEX,\n"
	           "                  number add|remove|port APEX NUMBER ...\n"
	           "                  [--socket PATH | -c FILE] [--json]\n");
	fe__ctl_query_usage(f);
	fe__ctl_route_usage(f);
	fe__ctl_catalog_usage(f);
	fe__ctl_online_usage(f);
	fprintf(f,
	        "       fedenumctl --version | --help | COMMAND --help\n"
	        "\n"
	        "  zone-load   check and store zone files into a store no fedenumd holds,\n"
	        "              under the store's trust anchors (zone-load --help)\n"
	        "  zone-list   the zones of a store, whether each is served, and its trust\n"
	        "  check-zone  check zone files as a node would (parse, structure, DNSSEC,\n"
	        "              chain of trust), store nothing (check-zone --help)\n"
	        "  query       ask a running fedenumd; with --validate, check the answer\n"
	        "              against the federation's trust anchors (query --help)\n"
	        "  route       the S-CSCF's path for a number: ENUM NAPTR, the chosen SIP\n"
	        "              URI, RFC 3263 to its next hop, the policy decision (route --help)\n"
	        "  backup      a consistent copy of a store, also while fedenumd serves\n"
	        "  zone export the stored, signed version of a zone as a master file\n"
	        "  key         the member's signing keys: generate (prints the DS for the\n"
	        "              registry), list, ds, rollover zsk|ksk (key --help)\n"
	        "  zone import replace a zone's numbers with a CSV's on a running fedenumd:\n"
	        "              signed, stored, NOTIFYed (zone import --help); zone sign: again\n"
	        "  status, zone list, zone show, peer list, stats, reload\n"
	        "              ask a running fedenumd over its control socket (COMMAND --help)\n"
	        "\n"
	        "Exit status: 0 ok, 1 a zone failed, 2 usage, 3 store error;\n"
	        "query: 0 answered (and secure), 1 bogus or insecure, 2 usage, 3 no answer;\n"
	        "online commands: 0 done, 1 refused or failed by the node, 2 usage, 3 no "
	        "answer.\n");
}

void fe__ctl_print_zone_error(const char *path, int rc, const struct fe_zone_error *err)
{
	const char *file = err->file[0] ? err->file : path;
	const char *why = err->reason[0] ? err->reason : fe_strerror(rc);
	if (err->line)
		fprintf(stderr, "%s:%lu: %s\n", file, err->line, why);
	else
		fprintf(stderr, "%s: %s\n", file, why);
}

/* Parse and validate @path; on success *out owns the zone. */
static int parse_checked(const char *path, bool force, struct fe_zone **out,
                         struct fe_zone_error *err)
{
	memset(err, 0, sizeof(*err));
	struct fe_zone_opts zo = {.force = force};
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

int fe__ctl_federation_anchors(const char *path, int (*each)(const char *file, void *arg),
                               void *arg)
{
	struct fe_conf_diag d = {0};
	char **files = NULL;
	size_t n = 0;
	int rc = fe_conf_federation_anchors(path, &files, &n, &d);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "fedenumctl: %s\n", d.msgs[i]);
	fe_conf_diag_free(&d);
	for (size_t i = 0; rc == FE_OK && i < n; i++)
		if (each(files[i], arg) != 0)
			rc = FE_EFORMAT;
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	free(files);
	return rc == FE_OK ? 0 : -1;
}

/* Parents-first order of zone files (fe_trust_parents_first over the apexes they declare;
 * a file whose apex cannot be read goes first, and fails there). */
int fe__ctl_parents_first(int n, char **paths, const char **out)
{
	size_t cnt = n > 0 ? (size_t)n : 0;
	char(*apex)[1024] = calloc(cnt ? cnt : 1, sizeof(*apex));
	const char **names = calloc(cnt ? cnt : 1, sizeof(*names));
	size_t *order = calloc(cnt ? cnt : 1, sizeof(*order));
	int rc = -1;
	if (apex == NULL || names == NULL || order == NULL)
		goto out;
	for (size_t i = 0; i < cnt; i++) {
		struct fe_zone_error err;
		memset(&err, 0, sizeof(err));
		if (fe_zone_peek_apex(paths[i], apex[i], sizeof(apex[i]), &err) == FE_OK)
			names[i] = apex[i];
	}
	if (fe_trust_parents_first(names, cnt, order) != FE_OK)
		goto out;
	for (size_t i = 0; i < cnt; i++)
		out[i] = paths[order[i]];
	rc = 0;
out:
	free(apex);
	free(names);
	free(order);
	return rc;
}

int fe__ctl_trust_each(struct fe_store *st, const struct fe_trust_opts *to,
                       const struct fe_zone_opts *zo, int n, char **paths, fe__ctl_report_fn report)
{
	const char **order = calloc(n > 0 ? (size_t)n : 1, sizeof(*order));
	struct fe_trust *trust = NULL;
	int code = 0;
	if (order == NULL || fe__ctl_parents_first(n, paths, order) != 0 ||
	    fe_trust_create(&trust) != FE_OK) {
		code = EXIT_STORE;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		struct fe_trust_result res;
		struct fe_zone_error err;
		memset(&err, 0, sizeof(err));
		int rc = fe_trust_load(trust, order[i], zo, to, st, &res, &err);
		report(order[i], rc, &res, &err);
		if (rc != FE_OK)
			code = EXIT_ZONE;
	}
out:
	free(order);
	fe_trust_destroy(trust);
	return code;
}

static void report_load(const char *path, int rc, const struct fe_trust_result *res,
                        const struct fe_zone_error *err)
{
	if (rc == FE_OK && res->outcome == FE_TRUST_LOADED) {
		printf("%s: zone %s serial %u: validated through the %s, %llu signatures: stored\n",
		       path, res->apex, res->serial, res->trust,
		       (unsigned long long)(res->rep.signatures + res->rep.signatures_cached));
	} else if (rc == FE_OK) {
		printf("%s: zone %s serial %u: already current and validated, nothing to do\n",
		       path, res->apex, res->serial);
	} else {
		fe__ctl_print_zone_error(path, rc, err);
		if (res->has_previous)
			fprintf(stderr, "%s: the stored serial %u is kept%s\n", path,
			        res->previous_serial,
			        res->previous_served ? " and keeps serving" : "");
	}
}

/* zone-load under trust anchors: the same path as fedenumd: every zone validated through an
 * anchor or its parent's stored DS before it is stored, parents first; then the chain of
 * every stored zone re-checked (re-delegations). */
static int load_trusted(struct fe_store *st, const struct fe_trust_anchors *anchors, bool force,
                        int n, char **paths)
{
	struct fe_trust_opts to = {.anchors = anchors};
	fe_dnssec_opts_init(&to.validate);
	struct fe_zone_opts zo = {.force = force};
	int code = fe__ctl_trust_each(st, &to, &zo, n, paths, report_load);
	struct fe_trust_sweep_report sw;
	if (fe_trust_sweep(st, anchors, 0, &sw) == FE_OK)
		printf("trust: %u zones, %u secure, %u bogus, %u unchecked\n", sw.zones, sw.secure,
		       sw.bogus, sw.unchecked);
	else
		code = EXIT_STORE;
	return code;
}

/* Without anchors (a store that never had any): parse, structure, commit. */
static int load_plain(struct fe_store *st, bool force, int n, char **paths)
{
	int code = 0;
	for (int i = 0; i < n; i++) {
		struct fe_zone *z = NULL;
		struct fe_zone_error err;
		int rc = parse_checked(paths[i], force, &z, &err);
		if (!rc) {
			char apex[1024];
			size_t len = 0;
			fe_wire_name_to_str(fe_zone_apex(z, &len), apex, sizeof(apex));
			uint32_t serial = fe_zone_serial(z);
			unsigned long long rrs = (unsigned long long)fe_zone_rr_count(z);
			memset(&err, 0, sizeof(err));
			rc = fe_zone_commit(z, st, &err);
			if (rc == FE_OK)
				printf("%s: zone %s serial %u, %llu records: stored\n", paths[i],
				       apex, serial, rrs);
			else if (rc == FE_EEXIST)
				printf("%s: zone %s serial %u: already current, nothing to do\n",
				       paths[i], apex, serial);
			fe_zone_free(z);
			if (rc == FE_EEXIST)
				rc = FE_OK;
		}
		if (rc) {
			fe__ctl_print_zone_error(paths[i], rc, &err);
			code = EXIT_ZONE;
		}
	}
	return code;
}

/* Open @db for writing with the exclusive lock; a store held by a running fedenumd is
 * refused with its PID. */
int fe__ctl_open_exclusive(const char *db, struct fe_store **st)
{
	struct fe_store_opts so = {.exclusive = true};
	int rc = fe_store_open(db, &so, st);
	if (rc == FE_EBUSY) {
		fprintf(stderr,
		        "fedenumctl: the store %s is in use by PID %ld (a running fedenumd?): its "
		        "store changes only through the node's own checks; load the zone there "
		        "(its configuration and SIGHUP), or stop it first\n",
		        db, fe_store_lock_holder(db));
		return EXIT_STORE;
	}
	if (rc) {
		fprintf(stderr, "fedenumctl: cannot open the store %s: %s\n", db, fe_strerror(rc));
		return EXIT_STORE;
	}
	return 0;
}

static int cmd_load(int argc, char **argv)
{
	static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
	                                     {"trust-anchor", required_argument, NULL, 't'},
	                                     {"force", no_argument, NULL, 'f'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {"version", no_argument, NULL, 'V'},
	                                     {NULL, 0, NULL, 0}};
	const char *db = NULL;
	struct fe_trust_anchors *given = NULL, *stored = NULL;
	struct fe_store *st = NULL;
	bool force = false;
	int ch, code = 0, rc;
	if (fe_trust_anchors_create(&given) != FE_OK)
		return EXIT_STORE;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "d:t:fhV", opts, NULL)) != -1) {
		if (ch == 'd') {
			db = optarg;
		} else if (ch == 'f') {
			force = true;
		} else if (ch == 't') {
			struct fe_zone_error err;
			memset(&err, 0, sizeof(err));
			if ((rc = fe_trust_anchors_add_file(given, optarg, NULL, &err)) != FE_OK) {
				fe__ctl_print_zone_error(optarg, rc, &err);
				code = EXIT_USAGE;
				goto out;
			}
		} else if (ch == 'h') {
			fputs(USAGE_LOAD, stdout);
			goto out;
		} else if (ch == 'V') {
			printf("fedenumctl %s\n", FE__CTL_VERSION);
			goto out;
		} else {
			fputs(USAGE_LOAD, stderr);
			code = EXIT_USAGE;
			goto out;
		}
	}
	int first = optind;
	if (!db || first >= argc) {
		fputs(USAGE_LOAD, stderr);
		code = EXIT_USAGE;
		goto out;
	}
	if ((code = fe__ctl_open_exclusive(db, &st)) != 0)
		goto out;
	/* The store's own trust (one writer rule): anchors recorded in it apply, always. */
	rc = fe_trust_anchors_from_store(st, &stored);
	if (rc != FE_OK && rc != FE_ENOENT) {
		fprintf(stderr,
		        "fedenumctl: %s: the trust anchors recorded in the store cannot be "
		        "read: %s\n",
		        db, fe_strerror(rc));
		code = EXIT_STORE;
		goto out;
	}
	const struct fe_trust_anchors *use = stored;
	if (stored && !fe_trust_anchors_within(given, stored)) {
		char buf[2048];
		fe_trust_anchors_describe(stored, buf, sizeof(buf));
		fprintf(stderr,
		        "fedenumctl: %s is kept under other trust anchors (%s): refused; "
		        "the node's configuration decides them (fedenumd records them at "
		        "start)\n",
		        db, buf);
		code = EXIT_USAGE;
		goto out;
	}
	if (!stored && fe_trust_anchors_count(given) > 0) {
		if ((rc = fe_trust_anchors_save(given, st)) != FE_OK) {
			fprintf(stderr, "fedenumctl: %s: cannot record the trust anchors: %s\n", db,
			        fe_strerror(rc));
			code = EXIT_STORE;
			goto out;
		}
		use = given;
	}
	if (use)
		code = load_trusted(st, use, force, argc - first, argv + first);
	else
		code = load_plain(st, force, argc - first, argv + first);
out:
	fe_store_close(st);
	fe_trust_anchors_destroy(given);
	fe_trust_anchors_destroy(stored);
	return code;
}

struct list_ctx {
	struct fe_store *st;
	bool under_anchors; /* the store records trust anchors: only validated zones serve */
	int64_t now;
	unsigned n;
};

/* What the answer engine does with the zone (server/answer.c's rule under anchors). */
static const char *served_str(const struct list_ctx *l, const struct fe_store_zone_rec *z)
{
	if (z->flags & FE_ZONE_EXPIRED) /* in any mode: a secondary past its SOA EXPIRE */
		return "NOT-SERVED(secondary-expired)";
	if (!l->under_anchors)
		return "served";
	if (!(z->flags & FE_ZONE_VALIDATED))
		return "NOT-SERVED(unvalidated)";
	if (z->flags & FE_ZONE_BOGUS)
		return "NOT-SERVED(bogus)";
	if (z->sig_expire_s != 0 && z->sig_expire_s <= l->now)
		return "NOT-SERVED(expired)";
	return "served";
}

static bool list_cb(const struct fe_store_zone_rec *z, void *arg)
{
	struct list_ctx *l = arg;
	char apex[1024], loaded[32], expire[32], status[1200];
	fe_wire_name_to_str(z->apex, apex, sizeof(apex));
	fe_time_str(z->loaded_at_s, loaded, sizeof(loaded));
	fe_time_str(z->sig_expire_s, expire, sizeof(expire));
	/* the trust state kept per zone: secure / bogus / last rejection and why */
	fe_trust_status(l->st, z->apex, z->apex_len, status, sizeof(status));
	printf("%-32s %10u %8llu %10llu %10llu %-20s %-20s %-23s %s", apex, z->serial,
	       (unsigned long long)z->version, (unsigned long long)z->node_count,
	       (unsigned long long)z->rr_count, loaded, expire, served_str(l, z), status);
	/* docs/security.md Z7: records the answer engine leaves out */
	if (z->naptr_lint_count)
		printf("; %u NAPTR not served (lint): %.*s", z->naptr_lint_count,
		       (int)sizeof(z->naptr_lint), z->naptr_lint);
	printf("\n");
	l->n++;
	return true;
}

static int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {"version", no_argument, NULL, 'V'},
	                                     {NULL, 0, NULL, 0}};
	const char *db = NULL;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "d:hV", opts, NULL)) != -1) {
		if (ch == 'd') {
			db = optarg;
		} else if (ch == 'h') {
			fputs(USAGE_LIST, stdout);
			return 0;
		} else if (ch == 'V') {
			printf("fedenumctl %s\n", FE__CTL_VERSION);
			return 0;
		} else {
			fputs(USAGE_LIST, stderr);
			return EXIT_USAGE;
		}
	}
	if (!db || optind != argc) {
		fputs(USAGE_LIST, stderr);
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
	struct fe_trust_anchors *anchors = NULL;
	struct list_ctx l = {.st = st, .now = fe_time_wall_s()};
	l.under_anchors = fe_trust_anchors_from_store(st, &anchors) == FE_OK;
	fe_trust_anchors_destroy(anchors);
	rc = fe_store_reader_create(st, &r);
	if (!rc)
		rc = fe_store_reader_begin(r);
	if (!rc) {
		printf("%-32s %10s %8s %10s %10s %-20s %-20s %-23s %s\n", "apex", "serial",
		       "version", "nodes", "rrs", "loaded-at", "sig-expiry", "served", "trust");
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
	if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0 ||
	    strcmp(cmd, "version") == 0) {
		printf("fedenumctl %s\n", FE__CTL_VERSION);
		return 0;
	}
	if (strcmp(cmd, "zone-load") == 0)
		return cmd_load(argc - 1, argv + 1);
	if (strcmp(cmd, "zone-list") == 0)
		return cmd_list(argc - 1, argv + 1);
	if (strcmp(cmd, "check-zone") == 0)
		return fe__ctl_check(argc - 1, argv + 1);
	if (strcmp(cmd, "query") == 0)
		return fe__ctl_query(argc - 1, argv + 1);
	if (strcmp(cmd, "route") == 0)
		return fe__ctl_route(argc - 1, argv + 1);
	if (strcmp(cmd, "backup") == 0)
		return fe__ctl_backup(argc - 1, argv + 1);
	if (strcmp(cmd, "catalog") == 0)
		return fe__ctl_catalog(argc - 1, argv + 1);
	if (strcmp(cmd, "zone") == 0 && argc > 2 && strcmp(argv[2], "check") == 0)
		return fe__ctl_check(argc - 2, argv + 2);
	if (strcmp(cmd, "zone") == 0 && argc > 2 && strcmp(argv[2], "export") == 0)
		return fe__ctl_export(argc - 2, argv + 2);
	if (strcmp(cmd, "zone") == 0 && argc > 2 &&
	    (strcmp(argv[2], "import") == 0 || strcmp(argv[2], "sign") == 0))
		return fe__ctl_import(argc - 2, argv + 2);
	if (strcmp(cmd, "key") == 0)
		return fe__ctl_key(argc - 1, argv + 1);
	if (strcmp(cmd, "number") == 0)
		return fe__ctl_number(argc - 1, argv + 1);
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "stats") == 0 || strcmp(cmd, "reload") == 0 ||
	    strcmp(cmd, "zone") == 0 || strcmp(cmd, "peer") == 0)
		return fe__ctl_online(argc - 1, argv + 1);
	fprintf(stderr, "fedenumctl: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return EXIT_USAGE;
}
