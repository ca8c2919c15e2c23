/* zone/: versions that cost what changed. A change set
 * (fe_zone_commit_delta) and a whole-file reload both write only the nodes that differ,
 * leave the store exactly as a fresh whole load of the new version would, and journal the
 * change. The 1M-number measurement is test_delta_large.c. */
#include "test_delta_common.h"

TestSuite(delta, .init = mk_tmp, .fini = rm_tmp);

/* ---- tests ---------------------------------------------------------------------------------- */

Test(delta, one_number_changes_unsigned)
{
	unsigned tags[300];
	for (unsigned i = 0; i < 300; i++)
		tags[i] = 1;
	struct spec s1 = {.serial = 1, .n = 300, .width = 4, .tags = tags};
	unsigned tags2[300];
	memcpy(tags2, tags, sizeof(tags));
	tags2[123] = 2;
	struct spec s2 = s1;
	s2.serial = 2;
	s2.tags = tags2;
	/* The apex (SOA) and the number's node. */
	three_ways(&s1, &s2, 2);
}

/* docs/security.md Z7: a change set marks (and counts) NAPTRs failing the lint as a whole
 * load of the new version does: one number broken, another one fixed. */
Test(delta, naptr_lint_marks_follow_the_change)
{
	unsigned tags[200], tags2[200];
	for (unsigned i = 0; i < 200; i++)
		tags[i] = 1;
	tags[5] = 0;
	tags[9] = 0;
	memcpy(tags2, tags, sizeof(tags));
	tags2[5] = 1;
	tags2[77] = 0;
	struct spec s1 = {.serial = 1, .n = 200, .width = 4, .tags = tags};
	struct spec s2 = s1;
	s2.serial = 2;
	s2.tags = tags2;
	three_ways(&s1, &s2, 3);
}

Test(delta, numbers_added_and_removed_nsec3_signed)
{
	/* v1: numbers 0..499 and 7000 (its own branch); v2: 7000 gone (its empty
	 * non-terminals with it), 9123 and 9124 added (new branch), 42 changed: NAPTR +
	 * RRSIG, NSEC3 records appear, go and change, SOA + RRSIG. */
	static unsigned tags[500], tags2[500];
	for (unsigned i = 0; i < 500; i++)
		tags[i] = tags2[i] = 1;
	tags2[42] = 7;
	unsigned x1[] = {7000}, x2[] = {9123, 9124};
	struct spec s1 = {.serial = 10,
	                  .n = 500,
	                  .width = 4,
	                  .tags = tags,
	                  .extra = x1,
	                  .nextra = 1,
	                  .sign = true,
	                  .nsec3 = true};
	struct spec s2 = s1;
	s2.serial = 11;
	s2.tags = tags2;
	s2.extra = x2;
	s2.nextra = 2;
	three_ways(&s1, &s2, 40);
}

Test(delta, wildcard_and_ent_flags_nsec3)
{
	/* A wildcard below an empty non-terminal appears (WILDCHILD on its parent), a number
	 * in a new branch appears (new empty non-terminals, each with its NSEC3). */
	unsigned x2[] = {55};
	struct spec a = {.serial = 1, .n = 20, .width = 2, .sign = true, .nsec3 = true};
	struct spec b = a;
	b.serial = 2;
	b.extra = x2;
	b.nextra = 1;
	b.wild = true;
	three_ways(&a, &b, 20);
	/* And back: both go again. */
	rm_tmp();
	mk_tmp();
	three_ways(&b,
	           &(struct spec){.serial = 3, .n = 20, .width = 2, .sign = true, .nsec3 = true},
	           20);
}

Test(delta, refusals)
{
	struct lines l1 = {0};
	struct spec s = {.serial = 5, .n = 10, .width = 2};
	char p1[400];
	make_zone(&s, &l1);
	snprintf(p1, sizeof(p1), "%s/v1.zone", tmpdir);
	write_zone(&l1, p1);
	struct fe_store *st = open_store("st");
	load(st, p1, NULL, NULL);
	struct rrs rm = {0}, ad = {0};
	char soa[300];
	snprintf(soa, sizeof(soa), "%s 300 IN SOA ns.%s host.%s 5 3600 600 86400 300", APEX, APEX,
	         APEX);
	to_rr(&rm, soa);
	snprintf(soa, sizeof(soa), "%s 300 IN SOA ns.%s host.%s 6 3600 600 86400 300", APEX, APEX,
	         APEX);
	to_rr(&ad, soa);
	struct fe_store_write_stats ws;
	/* Wrong base serial. */
	cr_assert_eq(commit_delta(st, 4, &rm, &ad, &ws, NULL), FE_ESERIAL);
	/* Removing what is not there. */
	char line[300];
	snprintf(line, sizeof(line), "x.%s 300 IN TXT \"nope\"", APEX);
	to_rr(&rm, line);
	cr_assert_eq(commit_delta(st, 5, &rm, &ad, &ws, NULL), FE_ENOENT);
	free_rrs(&rm);
	snprintf(soa, sizeof(soa), "%s 300 IN SOA ns.%s host.%s 5 3600 600 86400 300", APEX, APEX,
	         APEX);
	to_rr(&rm, soa);
	/* Adding what is there already. */
	snprintf(line, sizeof(line), "ns.%s 300 IN A 192.0.2.53", APEX);
	to_rr(&ad, line);
	cr_assert_eq(commit_delta(st, 5, &rm, &ad, &ws, NULL), FE_EEXIST);
	free_rrs(&ad);
	/* A serial that does not move forward. */
	snprintf(soa, sizeof(soa), "%s 300 IN SOA ns.%s host.%s 4 3600 600 86400 300", APEX, APEX,
	         APEX);
	to_rr(&ad, soa);
	cr_assert_eq(commit_delta(st, 5, &rm, &ad, &ws, NULL), FE_ESERIAL);
	free_rrs(&ad);
	/* Nothing was stored by the refusals; the SOA-only change then works. */
	cr_assert_eq(zone_rec(st).serial, 5);
	snprintf(soa, sizeof(soa), "%s 300 IN SOA ns.%s host.%s 6 3600 600 86400 300", APEX, APEX,
	         APEX);
	to_rr(&ad, soa);
	cr_assert_eq(commit_delta(st, 5, &rm, &ad, &ws, NULL), FE_OK);
	cr_assert_eq(ws.nodes_written, 1);
	cr_assert_eq(zone_rec(st).serial, 6);
	/* A validated zone takes no unvalidated change set. */
	uint8_t apex[FE_WIRE_NAME_MAX];
	size_t al = fe_test_wire_name(APEX, apex);
	struct fe_store_zone_rec r = zone_rec(st);
	cr_assert_eq(fe_store_zone_mark(st, apex, al, r.version, FE_ZONE_VALIDATED, 0, -1), FE_OK);
	free_rrs(&rm);
	free_rrs(&ad);
	to_rr(&rm, soa);
	snprintf(soa, sizeof(soa), "%s 300 IN SOA ns.%s host.%s 7 3600 600 86400 300", APEX, APEX,
	         APEX);
	to_rr(&ad, soa);
	cr_assert_eq(commit_delta(st, 6, &rm, &ad, &ws, NULL), FE_EPERM);
	free_rrs(&rm);
	free_rrs(&ad);
	fe_store_close(st);
	free_lines(&l1);
}
