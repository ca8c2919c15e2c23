/* Catalog zones (RFC 9432) read by fe_catalog_parser_* and fe_catalog_from_store:
 *  - a valid version-2 catalog: members, group, primaries.ext (per member and catalog-wide,
 *    TXT and A/AAAA), records the consumer does not use ignored (coo, other properties,
 *    RRSIG), members sorted by zone; the same from a stored catalog zone;
 *  - hostile catalogs, each refused as a whole with its reason: no or a wrong version, two
 *    version records, a duplicate unique id, a PTR to the root / to the catalog / below it /
 *    with a broken name, a zone under two ids, bad or repeated primaries, a record outside
 *    the apex, no SOA, over the member limit, over the record limit. */
#include <criterion/criterion.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fedenum/store.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "fedenum/xfr.h"
#include "fedenum/zone.h"

#define CAT "cat.fed."
#define HEAD                                                                                  \
	CAT " 0 IN SOA invalid. invalid. 7 3600 600 2147483646 0\n" CAT " 0 IN NS invalid.\n" \
	    "version." CAT " 0 IN TXT \"2\"\n"

static char why[512];

/* Wire form of a presentation name. */
static int name_wire(const char *s, uint8_t *w)
{
	ldns_rdf *d = ldns_dname_new_frm_str(s);
	cr_assert_not_null(d, "%s", s);
	size_t n = ldns_rdf_size(d);
	memcpy(w, ldns_rdf_data(d), n);
	ldns_rdf_deep_free(d);
	return (int)n;
}

static void apex_wire(uint8_t *w, size_t *len)
{
	int n = name_wire(CAT, w);
	*len = (size_t)n;
}

/* The records of @text (one per line, absolute names) through a parser with @max members. */
static int parse(const char *text, size_t max, struct fe_catalog *out)
{
	uint8_t apex[FE_WIRE_NAME_MAX];
	size_t alen;
	apex_wire(apex, &alen);
	struct fe_catalog_parser *p = NULL;
	cr_assert_eq(fe_catalog_parser_create(apex, alen, max, &p), FE_OK);
	char *copy = strdup(text);
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		ldns_rr *rr = NULL;
		ldns_status s = ldns_rr_new_frm_str(&rr, line, 0, NULL, NULL);
		cr_assert_eq(s, LDNS_STATUS_OK, "%s: %s", line, ldns_get_errorstr_by_id(s));
		ldns_buffer *b = ldns_buffer_new(1024);
		cr_assert_eq(ldns_rr_rdata2buffer_wire(b, rr), LDNS_STATUS_OK);
		ldns_rdf *o = ldns_rr_owner(rr);
		(void)fe_catalog_parser_add(p, ldns_rdf_data(o), ldns_rdf_size(o),
		                            (uint16_t)ldns_rr_get_type(rr), ldns_buffer_begin(b),
		                            ldns_buffer_position(b));
		ldns_buffer_free(b);
		ldns_rr_free(rr);
	}
	free(copy);
	int rc = fe_catalog_parser_finish(p, out, why, sizeof(why));
	fe_catalog_parser_destroy(p);
	return rc;
}

static void refused(const char *text, int err, const char *reason)
{
	struct fe_catalog c;
	int rc = parse(text, FE_CATALOG_MAX_MEMBERS, &c);
	cr_assert_eq(rc, err, "expected %s, got %s (%s)", fe_strerror(err), fe_strerror(rc), why);
	cr_assert_eq(c.n, 0);
	cr_assert_null(c.m);
	cr_assert_not_null(strstr(why, reason), "reason \"%s\" lacks \"%s\"", why, reason);
}

Test(catalog, valid_version_2)
{
	const char *z =
	        HEAD "primaries.ext." CAT " 0 IN TXT \"127.0.0.1@5301\"\n"
	             "m2.zones." CAT " 0 IN PTR 2.5.5.5.1.E164.fed.\n"
	             "m1.zones." CAT " 0 IN PTR 1.5.5.5.1.e164.fed.\n"
	             "group.m1.zones." CAT " 0 IN TXT \"carrier-a\"\n"
	             "primaries.ext.m2.zones." CAT " 0 IN TXT \"::1@5302\"\n"
	             "primaries.ext.m3.zones." CAT " 0 IN A 192.0.2.3\n"
	             "m3.zones." CAT " 0 IN PTR ims-a.example.\n"
	             "coo.m3.zones." CAT " 0 IN PTR other-cat.fed.\n"
	             "serial.ext.m3.zones." CAT " 0 IN TXT \"whatever\"\n"
	             "group.orphan.zones." CAT " 0 IN TXT \"nobody\"\n"
	             "m1.zones." CAT " 0 IN RRSIG PTR 13 4 0 20360101000000 20260101000000 1 " CAT
	             " AAAA\n";
	struct fe_catalog c;
	cr_assert_eq(parse(z, 10, &c), FE_OK, "%s", why);
	cr_assert_eq(c.serial, 7);
	cr_assert_eq(c.n, 3);
	cr_assert_str_eq(c.primary, "127.0.0.1@5301");
	/* canonical order of the zones (rightmost label first): example. before fed. */
	cr_assert_str_eq(c.m[0].zone, "ims-a.example.");
	cr_assert_str_eq(c.m[0].primary, "192.0.2.3@53");
	cr_assert_str_eq(c.m[1].zone, "1.5.5.5.1.e164.fed.");
	cr_assert_str_eq(c.m[1].id, "m1");
	cr_assert_str_eq(c.m[1].group, "carrier-a");
	cr_assert_str_eq(c.m[1].primary, "");
	cr_assert_str_eq(c.m[2].zone, "2.5.5.5.1.e164.fed.", "lower case");
	cr_assert_str_eq(c.m[2].primary, "::1@5302");
	cr_assert_geq(c.ignored, 4, "coo, serial.ext, the orphan group, the RRSIG");
	uint8_t w[FE_WIRE_NAME_MAX];
	int n = name_wire("ims-a.example.", w);
	cr_assert_not_null(fe_catalog_find(&c, w, (size_t)n));
	n = name_wire("ims-b.example.", w);
	cr_assert_null(fe_catalog_find(&c, w, (size_t)n));
	fe_catalog_free(&c);
}

Test(catalog, find_among_many)
{
	/* 300 members, given in an order unrelated to their names: each found, others not */
	size_t cap = 64 * 1024, n = 0;
	char *z = malloc(cap);
	n = (size_t)snprintf(z, cap, "%s", HEAD);
	for (int i = 0; i < 300; i++)
		n += (size_t)snprintf(z + n, cap - n,
		                      "id%d.zones." CAT " 0 IN PTR z%d.m%d.example.\n", i,
		                      (i * 37) % 300, i % 7);
	struct fe_catalog c;
	cr_assert_eq(parse(z, 300, &c), FE_OK, "%s", why);
	cr_assert_eq(c.n, 300);
	uint8_t w[FE_WIRE_NAME_MAX];
	for (int i = 0; i < 300; i++) {
		char name[64];
		snprintf(name, sizeof(name), "Z%d.m%d.example.", (i * 37) % 300, i % 7);
		int l = name_wire(name, w);
		const struct fe_catalog_member *m = fe_catalog_find(&c, w, (size_t)l);
		cr_assert_not_null(m, "%s not found", name);
		char id[16];
		snprintf(id, sizeof(id), "id%d", i);
		cr_assert_str_eq(m->id, id);
		snprintf(name, sizeof(name), "z%d.m%d.example.", (i * 37) % 300, (i + 1) % 7);
		l = name_wire(name, w);
		cr_assert_null(fe_catalog_find(&c, w, (size_t)l), "%s found", name);
	}
	fe_catalog_free(&c);
	free(z);
}

Test(catalog, empty_catalog_is_valid)
{
	struct fe_catalog c;
	cr_assert_eq(parse(HEAD, 10, &c), FE_OK, "%s", why);
	cr_assert_eq(c.n, 0);
	fe_catalog_free(&c);
}

Test(catalog, hostile_version)
{
	refused(CAT " 0 IN SOA invalid. invalid. 7 3600 600 2147483646 0\n"
	            "m1.zones." CAT " 0 IN PTR a.example.\n",
	        FE_EFORMAT, "no version record");
	refused(CAT " 0 IN SOA invalid. invalid. 7 3600 600 2147483646 0\n"
	            "version." CAT " 0 IN TXT \"1\"\n"
	            "m1.zones." CAT " 0 IN PTR a.example.\n",
	        FE_EVERSION, "catalog version \"1\"");
	refused(CAT " 0 IN SOA invalid. invalid. 7 3600 600 2147483646 0\n"
	            "version." CAT " 0 IN TXT \"2\"\nversion." CAT " 0 IN TXT \"3\"\n",
	        FE_EFORMAT, "more than one version record");
	refused(CAT " 0 IN SOA invalid. invalid. 7 3600 600 2147483646 0\n"
	            "version." CAT " 0 IN TXT \"2\" \"2\"\n",
	        FE_EFORMAT, "not one string");
	refused("version." CAT " 0 IN TXT \"2\"\n", FE_EFORMAT, "no SOA");
}

Test(catalog, hostile_ptr)
{
	refused(HEAD "m1.zones." CAT " 0 IN PTR a.example.\n"
	             "m1.zones." CAT " 0 IN PTR b.example.\n",
	        FE_EFORMAT, "duplicate unique id m1");
	refused(HEAD "m1.zones." CAT " 0 IN PTR .\n", FE_EFORMAT, "names the root");
	refused(HEAD "m1.zones." CAT " 0 IN PTR " CAT "\n", FE_EFORMAT,
	        "is the catalog or below it");
	refused(HEAD "m1.zones." CAT " 0 IN PTR x.zones." CAT "\n", FE_EFORMAT,
	        "is the catalog or below it");
	refused(HEAD "m1.zones." CAT " 0 IN PTR a.example.\n"
	             "m2.zones." CAT " 0 IN PTR A.example.\n",
	        FE_EFORMAT, "a.example. is listed twice (unique ids m1 and m2)");
	refused(HEAD "m1.zones.other.fed. 0 IN PTR a.example.\n", FE_EFORMAT,
	        "outside the catalog");
}

Test(catalog, hostile_ptr_rdata)
{
	/* RDATA that is not one name: a label running past the end, trailing bytes */
	uint8_t apex[FE_WIRE_NAME_MAX], owner[FE_WIRE_NAME_MAX];
	size_t alen;
	apex_wire(apex, &alen);
	int olen = name_wire("m1.zones." CAT, owner);
	static const uint8_t bad[][8] = {{5, 'a', 'b', 0}, {1, 'a', 0, 7}};
	static const size_t blen[] = {4, 4};
	for (size_t i = 0; i < 2; i++) {
		struct fe_catalog_parser *p = NULL;
		cr_assert_eq(fe_catalog_parser_create(apex, alen, 10, &p), FE_OK);
		uint8_t soa[64] = {0, 0};
		memset(soa + 2, 0, 20);
		fe_catalog_parser_add(p, apex, alen, 6, soa, 22);
		const uint8_t v[] = {1, '2'};
		uint8_t vo[FE_WIRE_NAME_MAX];
		int vl = name_wire("version." CAT, vo);
		cr_assert_eq(fe_catalog_parser_add(p, vo, (size_t)vl, 16, v, 2), FE_OK);
		cr_assert_eq(fe_catalog_parser_add(p, owner, (size_t)olen, 12, bad[i], blen[i]),
		             FE_EFORMAT);
		struct fe_catalog c;
		cr_assert_eq(fe_catalog_parser_finish(p, &c, why, sizeof(why)), FE_EFORMAT);
		cr_assert_not_null(strstr(why, "not one valid name"), "%s", why);
		fe_catalog_parser_destroy(p);
	}
}

Test(catalog, hostile_primaries)
{
	refused(HEAD "m1.zones." CAT " 0 IN PTR a.example.\n"
	             "primaries.ext.m1.zones." CAT " 0 IN TXT \"primary.example\"\n",
	        FE_EFORMAT, "member m1: primaries.ext is not");
	refused(HEAD "m1.zones." CAT " 0 IN PTR a.example.\n"
	             "primaries.ext.m1.zones." CAT " 0 IN TXT \"127.0.0.1@0\"\n",
	        FE_EFORMAT, "member m1: primaries.ext is not");
	refused(HEAD "m1.zones." CAT " 0 IN PTR a.example.\n"
	             "primaries.ext.m1.zones." CAT " 0 IN A 192.0.2.1\n"
	             "primaries.ext.m1.zones." CAT " 0 IN A 192.0.2.2\n",
	        FE_EFORMAT, "more than one primaries.ext");
	refused(HEAD "primaries.ext." CAT " 0 IN TXT \"127.0.0.1@1\"\n"
	             "primaries.ext." CAT " 0 IN TXT \"127.0.0.1@2\"\n",
	        FE_EFORMAT, "more than one primaries.ext");
}

Test(catalog, hostile_size)
{
	char *z = malloc(1 << 20);
	size_t n = (size_t)snprintf(z, 1 << 20, "%s", HEAD);
	for (int i = 0; i < 4; i++)
		n += (size_t)snprintf(z + n, (1 << 20) - n,
		                      "m%d.zones." CAT " 0 IN PTR z%d.example.\n", i, i);
	struct fe_catalog c;
	cr_assert_eq(parse(z, 4, &c), FE_OK, "%s", why);
	cr_assert_eq(c.n, 4);
	fe_catalog_free(&c);
	cr_assert_eq(parse(z, 3, &c), FE_ERANGE);
	cr_assert_not_null(strstr(why, "more than 3 member zones"), "%s", why);
	cr_assert_null(c.m);
	/* records that are not members still count: 3 members allow 3 * 16 + 256 records */
	n = (size_t)snprintf(z, 1 << 20, "%s", HEAD);
	for (int i = 0; i < 400; i++)
		n += (size_t)snprintf(z + n, (1 << 20) - n,
		                      "x%d.ext." CAT " 0 IN TXT \"padding\"\n", i);
	cr_assert_eq(parse(z, 3, &c), FE_ERANGE);
	cr_assert_not_null(strstr(why, "more than 304 records"), "%s", why);
	free(z);
}

Test(catalog, from_store)
{
	char dir[] = "/tmp/fedenum-catalog-unit-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	struct fe_store *st = NULL;
	struct fe_store_opts so = {.no_sync = true};
	cr_assert_eq(fe_store_open(dir, &so, &st), FE_OK);
	char path[300];
	snprintf(path, sizeof(path), "%s/cat.zone", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "%sm1.zones." CAT " 0 IN PTR a.example.\nm2.zones." CAT
	        " 0 IN PTR b.example.\ngroup.m2.zones." CAT " 0 IN TXT \"carrier-b\"\n",
	        HEAD);
	fclose(f);
	struct fe_zone_error err;
	memset(&err, 0, sizeof(err));
	cr_assert_eq(fe_zone_load_file(path, NULL, st, &err), FE_OK, "%s", err.reason);
	uint8_t apex[FE_WIRE_NAME_MAX];
	size_t alen;
	apex_wire(apex, &alen);
	struct fe_catalog c;
	cr_assert_eq(fe_catalog_from_store(st, apex, alen, 10, &c, why, sizeof(why)), FE_OK, "%s",
	             why);
	cr_assert_eq(c.n, 2);
	cr_assert_str_eq(c.m[0].zone, "a.example.");
	cr_assert_str_eq(c.m[1].group, "carrier-b");
	fe_catalog_free(&c);
	cr_assert_eq(fe_catalog_from_store(st, apex, alen, 1, &c, why, sizeof(why)), FE_ERANGE);
	uint8_t other[FE_WIRE_NAME_MAX];
	int ol = name_wire("nothere.fed.", other);
	cr_assert_eq(fe_catalog_from_store(st, other, (size_t)ol, 10, &c, why, sizeof(why)),
	             FE_ENOENT);
	fe_store_close(st);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}
