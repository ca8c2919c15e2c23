/* tests/conf/conf_keys.h — for the tests of federation.conf keys: a temp dir per test,
 * a federation.conf of the given text with a fedenumd.conf naming it, loaded. Header-only
 * (static) so that each test stays one executable. */
#ifndef FE_TEST_CONF_KEYS_H
#define FE_TEST_CONF_KEYS_H

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fedenum/conf.h"
#include "fedenum/util.h"

static char dir[64];

/* Write @federation as federation.conf and load it through a fedenumd.conf. */
static int load_federation(const char *federation, struct fe_conf *c, struct fe_conf_diag *d)
{
	char fed[256], node[256];
	snprintf(fed, sizeof(fed), "%s/federation.conf", dir);
	snprintf(node, sizeof(node), "%s/fedenumd.conf", dir);
	FILE *f = fopen(fed, "w");
	cr_assert_not_null(f);
	fputs(federation, f);
	fclose(f);
	f = fopen(node, "w");
	cr_assert_not_null(f);
	fputs("federation = \"federation.conf\";\n", f);
	fclose(f);
	fe_conf_init(c);
	return fe_conf_load(c, node, d);
}

/* @load(@text) is refused (FE_EFORMAT) with a diagnostic that contains @msg. */
static void expect_refused(int (*load)(const char *, struct fe_conf *, struct fe_conf_diag *),
                           const char *text, const char *msg)
{
	struct fe_conf c;
	struct fe_conf_diag d = {0};
	cr_assert_eq(load(text, &c, &d), FE_EFORMAT, "%s", text);
	bool found = false;
	for (size_t k = 0; k < d.n; k++)
		found |= strstr(d.msgs[k], msg) != NULL;
	cr_assert(found, "%s: expected \"%s\", got \"%s\"", text, msg, d.n ? d.msgs[0] : "nothing");
	fe_conf_free(&c);
	fe_conf_diag_free(&d);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/fe-conf-keys-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

#endif
