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
#include "fedenum/store.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "fedenum/trust.h"
#include "fedenum/zone.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_ZONE = FE__CTL_EXIT_FAIL, EXIT_USAGE = FE__CTL_EXIT_USAGE, EXIT_STORE = 3 };

static const char USAGE_CHECK[] =
        "usage: fedenumctl check-zone [--trust-anchor FILE]... [--federation FILE]\n"
        "                             [--db DIR] [--allow-unsigned] FILE...\n"
        "\n"
        "Check zone files as a federation node would; nothing is stored.\n"
        "  --trust-anchor FILE  DS or DNSKEY records (repeatable): validate every zone\n"
        "                       through an anchor or its parent's DS, as fedenumd does\n"
        "  --federation FILE    the trust-anchors of a federation.conf (or fedenumd.conf)\n"
        "  --db DIR             take parents (their DS) from this store, read-only; without\n"
        "                       it, parents must be among the files given\n"
        "  --allow-unsigned     an unsigned zone passes with structural checks only\n"
        "Without anchors a signed zone is checked against its own keys (integrity, no\n"
        "chain of trust). Each line says which checks ran.\n"
        "Exit status: 0 every zone passed, 1 a zone failed, 2 usage, 3 store error.\n";

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
		fe__ctl_print_zone_error(path, rc, &err);
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
			printf("%s: zone %s serial %u, %llu records: OK (checks: parse, structure; "
			       "unsigned: a node under federation trust would not serve it)\n",
			       path, apex, fe_zone_serial(z),
			       (unsigned long long)fe_zone_rr_count(z));
		} else {
			fprintf(stderr,
			        "%s: zone %s is not signed: a federation node serves only "
			        "signed zones (--allow-unsigned checks the structure only)\n",
			        path, apex);
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
		printf("%s: zone %s serial %u, %llu records: OK (checks: parse, structure, DNSSEC "
		       "self-signed: %s; chain of trust NOT checked: no trust anchors given)\n",
		       path, apex, fe_zone_serial(z), (unsigned long long)fe_zone_rr_count(z),
		       what);
	} else {
		fe__ctl_print_zone_error(path, rc, &err);
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
		printf("%s: zone %s serial %u: OK (checks: parse, structure, chain of trust "
		       "through "
		       "the %s (key %u/%u), DNSSEC: %s)\n",
		       path, res->apex, res->serial, res->trust, res->rep.trusted_key_tag,
		       res->rep.trusted_key_alg, what);
	} else if (rc == FE_OK) {
		printf("%s: zone %s serial %u: OK (the store already holds this serial, validated, "
		       "with the same content)\n",
		       path, res->apex, res->serial);
	} else {
		fe__ctl_print_zone_error(path, rc, err);
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
	                                     {"help", no_argument, NULL, 'h'},
	                                     {"version", no_argument, NULL, 'V'},
	                                     {NULL, 0, NULL, 0}};
	struct fe_trust_anchors *anchors = NULL;
	struct fe_store *st = NULL;
	const char *db = NULL;
	char tmp[] = "/tmp/fedenumctl-check-XXXXXX";
	bool made_tmp = false, allow_unsigned = false;
	int ch, code = 0, rc;
	if (fe_trust_anchors_create(&anchors) != FE_OK)
		return EXIT_STORE;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "t:F:d:uhV", opts, NULL)) != -1) {
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
	if (n < 1) {
		fputs(USAGE_CHECK, stderr);
		code = EXIT_USAGE;
		goto out;
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
		goto out;
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
out:
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
