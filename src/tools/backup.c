/* fedenumctl backup: a consistent copy of a node's store while it serves (LMDB's compacting
 * copy in one read transaction; fe_store_backup). The store is opened read-only, so the
 * running fedenumd keeps its exclusive lock and goes on writing. Restore: docs/configuration.md
 * ("Backup and restore"). */
#include "ctl_int.h"
#include "fedenum/conf.h"
#include "fedenum/store.h"
#include "fedenum/util.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char USAGE_BACKUP[] =
        "usage: fedenumctl backup [--db STORE | -c FILE] DIR\n"
        "\n"
        "Copy the store, consistently and while fedenumd serves, into DIR (created if\n"
        "missing; it must not hold a store already). The copy is a store as it is: every\n"
        "zone, its trust state, the journal and the recorded trust anchors.\n"
        "  --db STORE   the store directory\n"
        "  -c FILE      take store.path from this fedenumd.conf (default without either:\n"
        "               the built-in store path)\n"
        "Restore: stop fedenumd, put DIR's data.mdb in place of the store's, start it.\n"
        "Exit status: 0 copied, 1 DIR holds a store already, 2 usage, 3 store error.\n";

int fe__ctl_store_args(int argc, char **argv, const char *usage, struct fe_conf *c,
                       const char **arg)
{
	static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
	                                     {"config", required_argument, NULL, 'c'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {"version", no_argument, NULL, 'V'},
	                                     {NULL, 0, NULL, 0}};
	const char *db = NULL, *conf = NULL;
	int ch;
	fe_conf_init(c);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "d:c:hV", opts, NULL)) != -1) {
		if (ch == 'd') {
			db = optarg;
		} else if (ch == 'c') {
			conf = optarg;
		} else if (ch == 'h') {
			fputs(usage, stdout);
			return 0;
		} else if (ch == 'V') {
			printf("fedenumctl %s\n", FE__CTL_VERSION);
			return 0;
		} else {
			fputs(usage, stderr);
			return FE__CTL_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fputs(usage, stderr);
		return FE__CTL_EXIT_USAGE;
	}
	*arg = argv[optind];
	struct fe_conf_diag d = {0};
	struct fe_conf_cli cli = {.db = db};
	int rc = conf ? fe_conf_load(c, conf, &d) : FE_OK;
	if (rc == FE_OK)
		rc = fe_conf_apply_cli(c, &cli, &d);
	for (size_t i = 0; i < d.n; i++)
		if (!fe_conf_diag_is_warning(d.msgs[i]))
			fprintf(stderr, "fedenumctl: %s\n", d.msgs[i]);
	fe_conf_diag_free(&d);
	if (rc != FE_OK) {
		fe_conf_free(c);
		return FE__CTL_EXIT_USAGE;
	}
	return -1;
}

int fe__ctl_backup(int argc, char **argv)
{
	struct fe_conf c;
	const char *dest = NULL;
	int rc, code = fe__ctl_store_args(argc, argv, USAGE_BACKUP, &c, &dest);
	if (code >= 0)
		return code;
	code = 0;
	struct fe_store *st = NULL;
	struct fe_store_opts so = {.read_only = true};
	uint64_t bytes = 0;
	if ((rc = fe_store_open(c.store_path, &so, &st)) != FE_OK) {
		fprintf(stderr, "fedenumctl: cannot open the store %s: %s\n", c.store_path,
		        fe_strerror(rc));
		code = FE__CTL_EXIT_NOANSWER;
		goto out;
	}
	rc = fe_store_backup(st, dest, &bytes);
	if (rc == FE_EEXIST) {
		fprintf(stderr, "fedenumctl: %s holds a store already: not overwritten\n", dest);
		code = FE__CTL_EXIT_FAIL;
	} else if (rc != FE_OK) {
		fprintf(stderr, "fedenumctl: backup of %s into %s: %s\n", c.store_path, dest,
		        fe_strerror(rc));
		code = FE__CTL_EXIT_NOANSWER;
	} else {
		printf("%s: copy of %s, %llu bytes\n", dest, c.store_path,
		       (unsigned long long)bytes);
	}
out:
	fe_store_close(st);
	fe_conf_free(&c);
	return code;
}
