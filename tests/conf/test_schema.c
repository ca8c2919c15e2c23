/* The configuration schema (src/conf/schema.c) against the code and the documentation:
 *  - every key of the schema has a row in docs/configuration.md whose text carries the
 *    schema's default and range, and every key row of the two key tables is in the schema;
 *  - the defaults a fresh configuration gets are the schema's;
 *  - every integer key refuses a value one past each end of its range with file:line, and
 *    takes both ends (docs/security.md K1 through the schema, docs/security.md). */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fedenum/conf.h"
#include "fedenum/util.h"

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	char *buf = malloc(1 << 20);
	cr_assert_not_null(buf);
	size_t n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The table row of @key ("| `key` | ..."), backticks removed, into @out. */
static bool doc_row(const char *doc, const char *key, char *out, size_t cap)
{
	char needle[200];
	snprintf(needle, sizeof(needle), "\n| `%s` |", key);
	const char *p = strstr(doc, needle);
	if (!p)
		return false;
	p++;
	size_t o = 0;
	for (; *p && *p != '\n' && o + 1 < cap; p++)
		if (*p != '`')
			out[o++] = *p;
	out[o] = '\0';
	return true;
}

Test(schema, documented_as_in_the_schema)
{
	char *doc = read_all(FE_SOURCE_DIR "/docs/configuration.md");
	size_t n;
	const struct fe_conf_key *k = fe_conf_schema(&n);
	cr_assert_gt(n, 20);
	for (size_t i = 0; i < n; i++) {
		char row[4096], range[64];
		if (k[i].type == FE_CONF_GROUP && k[i].file == FE_CONF_NODE)
			continue; /* server, store, log: their keys have the rows */
		cr_expect(doc_row(doc, k[i].name, row, sizeof(row)),
		          "docs/configuration.md has no row for `%s`", k[i].name);
		if (strcmp(k[i].def, "none") != 0)
			cr_expect_not_null(strstr(row, k[i].def), "`%s`: default %s not in: %s",
			                   k[i].name, k[i].def, row);
		if (k[i].type == FE_CONF_INT) {
			snprintf(range, sizeof(range), "%lld..%lld", k[i].min, k[i].max);
			cr_expect_not_null(strstr(row, range), "`%s`: range %s not in: %s",
			                   k[i].name, range, row);
		}
	}
	/* ... and the other way: every key row of the two key tables is a schema key. */
	static const char *const sections[] = {"\n## `fedenumd.conf`", "\n## `federation.conf`"};
	for (size_t s = 0; s < 2; s++) {
		const char *p = strstr(doc, sections[s]);
		cr_assert_not_null(p, "section %s", sections[s] + 1);
		const char *end = strstr(p + 1, "\n## ");
		unsigned rows = 0;
		for (const char *l = strstr(p, "\n| `"); l && (!end || l < end);
		     l = strstr(l + 1, "\n| `")) {
			char key[128];
			const char *b = l + 4, *e = strchr(b, '`');
			cr_assert_not_null(e);
			snprintf(key, sizeof(key), "%.*s", (int)(e - b), b);
			bool found = false;
			for (size_t i = 0; i < n; i++)
				found |= k[i].file == (s ? FE_CONF_FEDERATION : FE_CONF_NODE) &&
				         strcmp(k[i].name, key) == 0;
			cr_expect(found,
			          "docs/configuration.md documents `%s`, unknown to the schema",
			          key);
			rows++;
		}
		cr_expect_gt(rows, 5);
	}
	free(doc);
}

Test(schema, defaults_come_from_the_schema)
{
	struct fe_conf c;
	fe_conf_init(&c);
	cr_expect_eq(c.udp_max_payload, 1232);
	cr_expect_eq(c.tcp_idle_timeout_ms, 10000u);
	cr_expect_eq(c.tcp_max_out_bytes, 262144u);
	cr_expect_eq(c.map_size_mb, 16384u);
	cr_expect_eq(c.nsec3_max_iterations, 50);
	cr_expect_eq(c.log_level, FE_LOG_INFO);
	cr_expect_not(c.zonemd_required);
	struct fe_conf_cli cli = {0};
	struct fe_conf_diag d = {0};
	cr_assert_eq(fe_conf_apply_cli(&c, &cli, &d), FE_OK);
	cr_expect_str_eq(c.store_path, "/var/lib/fedenum");
	cr_assert_eq(c.nlisten, 1u);
	cr_expect_str_eq(c.listen[0].host, "127.0.0.1");
	cr_expect_eq(c.listen[0].port, 5300);
	fe_conf_free(&c);
	fe_conf_diag_free(&d);
}

/* Write @body as fedenumd.conf (and an empty federation file) in a temp dir and load it. */
static int load_body(const char *body, struct fe_conf_diag *d, char *dir)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/fedenumd.conf", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(body, f);
	fclose(f);
	struct fe_conf c;
	fe_conf_init(&c);
	int rc = fe_conf_load(&c, path, d);
	fe_conf_free(&c);
	return rc;
}

Test(schema, every_integer_range_is_enforced)
{
	char dir[] = "/tmp/fedenum-schema-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	size_t n;
	const struct fe_conf_key *k = fe_conf_schema(&n);
	unsigned checked = 0;
	for (size_t i = 0; i < n; i++) {
		if (k[i].type != FE_CONF_INT || k[i].file != FE_CONF_NODE)
			continue;
		const char *dot = strchr(k[i].name, '.');
		cr_assert_not_null(dot);
		long long vals[] = {k[i].min - 1, k[i].min, k[i].max, k[i].max + 1};
		for (size_t v = 0; v < 4; v++) {
			char body[300];
			struct fe_conf_diag d = {0};
			snprintf(body, sizeof(body), "%.*s: {\n  %s = %lld%s;\n};\n",
			         (int)(dot - k[i].name), k[i].name, dot + 1, vals[v],
			         vals[v] > 2147483647LL || vals[v] < -2147483647LL ? "L" : "");
			int rc = load_body(body, &d, dir);
			bool inside = v == 1 || v == 2;
			cr_expect_eq(rc, inside ? FE_OK : FE_EFORMAT, "%s = %lld", k[i].name,
			             vals[v]);
			if (!inside)
				cr_expect(d.n >= 1 && strstr(d.msgs[0], "fedenumd.conf:2: ") &&
				                  strstr(d.msgs[0], "out of range"),
				          "%s = %lld: %s", k[i].name, vals[v],
				          d.n ? d.msgs[0] : "-");
			fe_conf_diag_free(&d);
		}
		checked++;
	}
	cr_expect_geq(checked, 7u);
	char rm[400];
	snprintf(rm, sizeof(rm), "rm -rf '%s'", dir);
	cr_assert_eq(system(rm), 0);
}
