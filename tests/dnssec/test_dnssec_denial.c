/* zone/ DNSSEC validation: docs/security.md Z3 (NSEC/NSEC3 chain broken, NSEC3 iterations above
 * the cap, opt-out where forbidden) and Z6 (ZONEMD wrong), with their positive twins. */
#include "test_dnssec_common.h"

static void expect_reject(const char *text, const char *name, const struct fe_dnssec_opts *o,
                          const char *want1, const char *want2)
{
	struct fe_zone_error e;
	int rc = validate_text(text, name, o, &e);
	cr_assert_eq(rc, FE_EVALIDATE, "rc %d, reason: %s", rc, e.reason);
	cr_assert_not_null(strstr(e.reason, want1), "reason \"%s\" lacks \"%s\"", e.reason, want1);
	if (want2 != NULL)
		cr_assert_not_null(strstr(e.reason, want2), "reason \"%s\" lacks \"%s\"", e.reason,
		                   want2);
	cr_expect_eq(strncmp(e.reason, DAPEX ": ", strlen(DAPEX) + 2), 0, "%s", e.reason);
	printf("rejected as expected: %s (%s:%lu)\n", e.reason, e.file, e.line);
}

static void expect_ok(const char *text, const char *name, const struct fe_dnssec_opts *o)
{
	struct fe_zone_error e;
	int rc = validate_text(text, name, o, &e);
	cr_assert_eq(rc, FE_OK, "%s", e.reason);
}

#define N7 "7.7.7.7.7.7.7." DAPEX

/* ---- NSEC ------------------------------------------------------------------------------ */

Test(dnssec_z3, nsec_name_removed)
{
	/* Deleting a name with everything it owns leaves the NSEC before it pointing at it. */
	struct fe_dnssec_opts o;
	opts_now(&o);
	char *s = read_text(DDATA "ldns-13-nsec.zone");
	cr_assert_eq(drop_lines(s, "^" N7, NULL), 4); /* NAPTR, NSEC and their RRSIGs */
	expect_reject(s, "ldns-13-nsec", &o, "NSEC at 4." DAPEX ": next name " N7,
	              "(NSEC chain broken)");
	free(s);
}

Test(dnssec_z3, nsec_record_missing)
{
	struct fe_dnssec_opts o;
	opts_now(&o);
	char *s = read_text(DDATA "ldns-16-nsec.zone");
	char *l = find_line(s, "^txt." DAPEX, "\tNSEC\t");
	s = replace1(s, l, ";");
	expect_reject(s, "ldns-16-nsec", &o, "NSEC at txt." DAPEX ": missing (NSEC chain broken)",
	              NULL);
	free(l);
	free(s);
}

Test(dnssec_z3, nsec_rrset_removed)
{
	/* Deleting one RRset: the NSEC still lists its type. */
	struct fe_dnssec_opts o;
	opts_now(&o);
	char *s = read_text(DDATA "ldns-13-nsec.zone");
	cr_assert_eq(drop_lines(s, "^ns1." DAPEX, "\tAAAA", NULL), 2);
	expect_reject(s, "ldns-13-nsec", &o,
	              "NSEC at ns1." DAPEX ": type bitmap lists AAAA, "
	              "absent from the name",
	              NULL);
	free(s);
}

Test(dnssec_z3, nsec_chain_not_closed)
{
	/* Drop the last name: the new last NSEC is the one before it, whose next name is the
	 * dropped one instead of the apex. */
	struct fe_dnssec_opts o;
	opts_now(&o);
	char *s = read_text(DDATA "ldns-13-nsec.zone");
	cr_assert_gt(drop_lines(s, "^txt." DAPEX, NULL), 0);
	expect_reject(s, "ldns-13-nsec", &o, "next name txt." DAPEX,
	              "the last NSEC must point to the apex (NSEC chain not closed)");
	free(s);
}

/* ---- NSEC3 ----------------------------------------------------------------------------- */

Test(dnssec_z3, nsec3_record_removed)
{
	struct fe_dnssec_opts o;
	opts_now(&o);
	char *s = read_text(DDATA "ldns-13-nsec3.zone");
	char *l = find_line(s, "\tNSEC3\t", NULL);
	/* The NSEC3 RR and its RRSIG. */
	char owner[128];
	cr_assert_eq(sscanf(l, "%127s", owner), 1);
	cr_assert_eq(drop_lines(s, owner, NULL), 2);
	expect_reject(s, "ldns-13-nsec3", &o, "(NSEC3 chain broken)", NULL);
	free(l);
	free(s);
}

Test(dnssec_z3, nsec3_name_removed_leaves_extra_nsec3)
{
	/* Delete the TXT name's data: its NSEC3 now matches no name. */
	struct fe_dnssec_opts o;
	opts_now(&o);
	char *s = read_text(DDATA "knot-13-nsec3.zone");
	cr_assert_eq(drop_lines(s, "^txt." DAPEX, NULL), 2);
	expect_reject(s, "knot-13-nsec3", &o, ": matches no name in the zone", NULL);
	free(s);
}

Test(dnssec_z3, nsec3_rrset_removed)
{
	struct fe_dnssec_opts o;
	opts_now(&o);
	char *s = read_text(DDATA "ldns-15-nsec3.zone");
	cr_assert_eq(drop_lines(s, "^ns1." DAPEX, "\tAAAA", NULL), 2);
	expect_reject(s, "ldns-15-nsec3", &o,
	              "NSEC3 for ns1." DAPEX ": type bitmap lists AAAA, absent from the name",
	              NULL);
	free(s);
}

Test(dnssec_z3, nsec3_iterations_above_cap)
{
	struct fe_dnssec_opts o;
	opts_now(&o);
	char *s = read_text(DDATA "ldns-13-iter51.zone");
	expect_reject(s, "ldns-13-iter51", &o,
	              "NSEC3PARAM at " DAPEX ": 51 iterations, above the limit of 50 (RFC 9276)",
	              NULL);
	o.nsec3_max_iterations = 51;
	expect_ok(s, "ldns-13-iter51", &o);
	free(s);
	/* RFC 9276 §3.1 recommends 0: a cap of 0 still accepts a 0-iteration zone. */
	opts_now(&o);
	o.nsec3_max_iterations = 0;
	s = read_text(DDATA "bind-13-nsec3.zone");
	expect_ok(s, "bind-13-nsec3", &o);
	free(s);
}

Test(dnssec_z3, nsec3param_removed)
{
	struct fe_dnssec_opts o;
	opts_now(&o);
	char *s = read_text(DDATA "ldns-13-nsec3.zone");
	/* A second NSEC3PARAM with other parameters (RFC 5155 allows it; we want one). */
	char *l = find_line(s, "\tNSEC3PARAM\t", NULL);
	char *l2 = replace1(strdup(l), "aabbccdd", "aabbccde");
	size_t n = strlen(l) + strlen(l2) + 2;
	char *both = malloc(n);
	snprintf(both, n, "%s\n%s", l, l2);
	s = replace1(s, l, both);
	expect_reject(s, "ldns-13-nsec3", &o, "NSEC3PARAM at " DAPEX ": 2 records, exactly one",
	              NULL);
	free(both);
	free(l2);
	free(l);
	free(s);
}

Test(dnssec_z3, opt_out_forbidden)
{
	struct fe_dnssec_opts o;
	opts_now(&o);
	o.forbid_opt_out = true;
	char *s = read_text(DDATA "ldns-13-optout.zone");
	expect_reject(s, "ldns-13-optout", &o, "opt-out flag set, but opt-out is forbidden", NULL);
	free(s);
	s = read_text(DDATA "bind-13-optout.zone");
	expect_reject(s, "bind-13-optout", &o, "opt-out", NULL);
	/* Allowed by default: BIND left the insecure delegation 4. without an NSEC3, which an
	 * opt-out NSEC3 covers (RFC 5155 §7.1). */
	opts_now(&o);
	expect_ok(s, "bind-13-optout", &o);
	free(s);
}

Test(dnssec_z3, opt_out_does_not_cover_secure_names)
{
	/* In the opt-out zone, drop the NSEC3 of a secure name (the signed delegation 2., which
	 * has a DS): opt-out never excuses it. The chain breaks around it as well; whichever is
	 * found first, the reason says the chain is broken. */
	struct fe_dnssec_opts o;
	opts_now(&o);
	char *s = read_text(DDATA "ldns-13-optout.zone");
	/* NSEC3 owner = base32hex(hash(2.<apex>)), 0 iterations, no salt. */
	uint8_t name[] = "\0012\0015\0015\0015\0011\004e164\003fed";
	uint8_t h[64];
	cr_assert_eq(fe_wire_nsec3_hash(name, 1, 0, NULL, 0, h), 20);
	static const char b32[] = "0123456789abcdefghijklmnopqrstuv";
	char label[34];
	label[0] = '^';
	for (int i = 0; i < 32; i++) {
		int bit = i * 5, byte = bit / 8, sh = bit % 8;
		unsigned v =
		        ((unsigned)h[byte] << 8 | (byte + 1 < 20 ? h[byte + 1] : 0)) >> (11 - sh);
		label[1 + i] = b32[v & 31];
	}
	label[33] = 0;
	cr_assert_eq(drop_lines(s, label, NULL), 2, "no NSEC3 owner %s", label);
	expect_reject(s, "ldns-13-optout", &o, "(NSEC3 chain broken)", NULL);
	free(s);
}

/* ---- docs/security.md Z6: ZONEMD --------------------------------------------------------------
 */

Test(dnssec_z6, zonemd_valid)
{
	struct fe_dnssec_opts o;
	struct fe_dnssec_report rep;
	struct fe_zone_error e;
	opts_now(&o);
	o.zonemd_required = true;
	cr_assert_eq(validate_fixture("ldns-13-zonemd384", &o, &rep, &e), FE_OK, "%s", e.reason);
	cr_expect(rep.zonemd_verified);
	cr_assert_eq(validate_fixture("ldns-13-zonemd512", &o, &rep, &e), FE_OK, "%s", e.reason);
	cr_expect(rep.zonemd_verified);
	o.zonemd_required = false;
	cr_assert_eq(validate_fixture("ldns-13-nsec", &o, &rep, &e), FE_OK, "%s", e.reason);
	cr_expect_not(rep.zonemd_verified);
}

Test(dnssec_z6, zonemd_wrong_glue_changed)
{
	/* Glue is not signed (RFC 4035 §2.2) but ZONEMD covers it (RFC 8976 §3.3.1.1). */
	struct fe_dnssec_opts o;
	opts_now(&o);
	char *s = read_text(DDATA "ldns-13-nsec.zone");
	s = replace1(s, "192.0.2.4\n", "192.0.2.44\n");
	expect_ok(s, "ldns-13-nsec", &o); /* without ZONEMD nothing notices */
	free(s);

	s = read_text(DDATA "ldns-13-zonemd384.zone");
	s = replace1(s, "192.0.2.4\n", "192.0.2.44\n");
	expect_reject(s, "ldns-13-zonemd384", &o, "ZONEMD at " DAPEX ": digest mismatch (SHA-384",
	              NULL);
	free(s);
	s = read_text(DDATA "ldns-13-zonemd512.zone");
	s = replace1(s, "ns.4." DAPEX "\t3600\tIN\tA", "ns.4." DAPEX "\t3601\tIN\tA");
	expect_reject(s, "ldns-13-zonemd512", &o, "ZONEMD at " DAPEX ": digest mismatch (SHA-512",
	              NULL);
	free(s);
}

Test(dnssec_z6, zonemd_glue_added)
{
	struct fe_dnssec_opts o;
	opts_now(&o);
	char *s = read_text(DDATA "ldns-13-zonemd384.zone");
	s = replace1(s, "ns.4." DAPEX "\t3600\tIN\tA\t192.0.2.4\n",
	             "ns.4." DAPEX "\t3600\tIN\tA\t192.0.2.4\n"
	             "ns.4." DAPEX "\t3600\tIN\tA\t198.51.100.1\n");
	expect_reject(s, "ldns-13-zonemd384", &o, "ZONEMD at " DAPEX ": digest mismatch", NULL);
	free(s);
}

Test(dnssec_z6, zonemd_required_but_absent)
{
	struct fe_dnssec_opts o;
	opts_now(&o);
	o.zonemd_required = true;
	char *s = read_text(DDATA "knot-13-nsec3.zone");
	expect_reject(s, "knot-13-nsec3", &o, "ZONEMD at " DAPEX ": missing, but required", NULL);
	free(s);
}
