/* store/odcache.c: the on-demand cache table — its own database (never a zone), read in a
 * snapshot, bounded, swept by expiry. */
#include "fedenum/store.h"
#include "fedenum/util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char tmpdir[256];

static void mk_tmp(void)
{
	const char *base = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/fe-odc-XXXXXX", base ? base : "/tmp");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void rm_tmp(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(odcache, .init = mk_tmp, .fini = rm_tmp);

static void val(uint8_t *v, uint64_t expires, uint8_t tag)
{
	memset(v, tag, 32);
	for (int i = 0; i < 8; i++)
		v[i] = (uint8_t)(expires >> (56 - 8 * i));
}

Test(odcache, put_get_bound_and_sweep)
{
	struct fe_store *st = NULL;
	struct fe_store_opts o = {.no_sync = true};
	cr_assert_eq(fe_store_open(tmpdir, &o, &st), FE_OK);
	struct fe_store_reader *r = NULL;
	cr_assert_eq(fe_store_reader_create(st, &r), FE_OK);
	uint8_t v[32];
	const uint8_t k1[] = "k1", k2[] = "k2", k3[] = "k3";
	val(v, 100, 0xA1);
	cr_assert_eq(fe_store_odc_put(st, k1, 2, v, sizeof(v), 2), FE_OK);
	val(v, 300, 0xA2);
	cr_assert_eq(fe_store_odc_put(st, k2, 2, v, sizeof(v), 2), FE_OK);
	/* the bound: a third key is refused, an existing one replaced */
	cr_assert_eq(fe_store_odc_put(st, k3, 2, v, sizeof(v), 2), FE_EBUSY);
	val(v, 200, 0xA3);
	cr_assert_eq(fe_store_odc_put(st, k1, 2, v, sizeof(v), 2), FE_OK);
	cr_assert_eq(fe_store_odc_put(st, k1, 2, v, 4, 2), FE_EINVAL, "shorter than its expiry");

	const uint8_t *g;
	size_t gl;
	cr_assert_eq(fe_store_odc_get(r, k1, 2, &g, &gl), FE_EINVAL, "no snapshot");
	cr_assert_eq(fe_store_reader_begin(r), FE_OK);
	cr_assert_eq(fe_store_odc_get(r, k1, 2, &g, &gl), FE_OK);
	cr_assert_eq(gl, 32);
	cr_assert_eq(g[31], 0xA3);
	cr_assert_eq(fe_store_odc_get(r, k3, 2, &g, &gl), FE_ENOENT);
	/* never a zone: no zone lookup sees it */
	const struct fe_store_zone_rec *z;
	cr_assert_eq(fe_store_find_zone(r, k1, 2, &z), FE_ENOENT);
	fe_store_reader_end(r);

	size_t deleted = 0;
	uint64_t left = 0;
	cr_assert_eq(fe_store_odc_sweep(st, 250, 100, &deleted, &left), FE_OK);
	cr_assert_eq(deleted, 1, "k1 (200) expired at 250, k2 (300) not");
	cr_assert_eq(left, 1);
	cr_assert_eq(fe_store_reader_begin(r), FE_OK);
	cr_assert_eq(fe_store_odc_get(r, k1, 2, &g, &gl), FE_ENOENT);
	cr_assert_eq(fe_store_odc_get(r, k2, 2, &g, &gl), FE_OK);
	fe_store_reader_end(r);
	/* bounded sweeps */
	for (int i = 0; i < 10; i++) {
		uint8_t k[4] = {'x', (uint8_t)i};
		val(v, 10, 1);
		cr_assert_eq(fe_store_odc_put(st, k, 2, v, sizeof(v), 0), FE_OK);
	}
	cr_assert_eq(fe_store_odc_sweep(st, 50, 4, &deleted, &left), FE_OK);
	cr_assert_eq(deleted, 4);
	cr_assert_eq(left, 7);
	cr_assert_eq(fe_store_odc_sweep(st, 50, 100, &deleted, &left), FE_OK);
	cr_assert_eq(deleted, 6);
	cr_assert_eq(left, 1);
	fe_store_reader_destroy(r);
	fe_store_close(st);
}
