/* zone/ DNSSEC validation: zones signed by ldns-signzone, dnssec-signzone and Knot validate
 * (algorithms 8, 10, 13, 14, 15, 16; NSEC and NSEC3); THREATS.md Z1 (one RRSIG invalid,
 * missing, expired, not yet valid) and Z2 (DNSKEY not matching the DS, wrong anchor); the
 * DS helpers. Fixtures: tests/zone/dnssec_data/make-fixtures.sh. */
#include "test_dnssec_common.h"

/* ---- positive: every signer, every algorithm ------------------------------------------- */

static void expect_valid(const char *name, bool nsec3)
{
	struct fe_zone_validate_opts o;
	struct fe_zone_validate_report rep;
	struct fe_zone_error e;
	opts_now(&o);
	int rc = validate_fixture(name, &o, &rep, &e);
	cr_assert_eq(rc, FE_OK, "%s: %s (%s:%lu)", name, e.reason, e.file, e.line);
	cr_expect_gt(rep.rrsets, 20, "%s: %llu RRsets", name, (unsigned long long)rep.rrsets);
	cr_expect_geq(rep.signatures, rep.rrsets);
	cr_expect_gt(rep.denial_records, 10);
	cr_expect_eq(rep.nsec3, nsec3, "%s", name);
	cr_expect_neq(rep.trusted_key_tag, 0);
	cr_expect_gt(rep.earliest_expiry_s, DNOW);
	cr_expect_gt(rep.records, 50);

	/* The same zone anchored by its KSK's DNSKEY instead of the DS. */
	struct ttrust tt;
	struct fe_zone *z = parse_fixture(name);
	rc = fe_zone_dnssec_validate(z, trust_of(&tt, name, "key"), &o, NULL, &e);
	cr_expect_eq(rc, FE_OK, "%s by DNSKEY: %s", name, e.reason);
	/* And self-signed (no trust): an integrity check only. */
	rc = fe_zone_dnssec_validate(z, NULL, &o, NULL, &e);
	cr_expect_eq(rc, FE_OK, "%s self-signed: %s", name, e.reason);
	fe_zone_free(z);
}

Test(dnssec_signers, ldns_alg8_nsec3)
{
	expect_valid("ldns-8-nsec3", true);
}
Test(dnssec_signers, ldns_alg10_nsec3)
{
	expect_valid("ldns-10-nsec3", true);
}
Test(dnssec_signers, ldns_alg13_nsec)
{
	expect_valid("ldns-13-nsec", false);
}
Test(dnssec_signers, ldns_alg13_nsec3_salt)
{
	expect_valid("ldns-13-nsec3", true);
}
Test(dnssec_signers, ldns_alg14_nsec)
{
	expect_valid("ldns-14-nsec", false);
}
Test(dnssec_signers, ldns_alg15_nsec3)
{
	expect_valid("ldns-15-nsec3", true);
}
Test(dnssec_signers, ldns_alg16_nsec)
{
	expect_valid("ldns-16-nsec", false);
}
Test(dnssec_signers, bind_alg8_nsec3)
{
	expect_valid("bind-8-nsec3", true);
}
Test(dnssec_signers, bind_alg13_nsec3)
{
	expect_valid("bind-13-nsec3", true);
}
Test(dnssec_signers, bind_alg15_nsec)
{
	expect_valid("bind-15-nsec", false);
}
Test(dnssec_signers, knot_alg8_nsec3)
{
	expect_valid("knot-8-nsec3", true);
}
Test(dnssec_signers, knot_alg13_nsec3)
{
	expect_valid("knot-13-nsec3", true);
}
Test(dnssec_signers, knot_alg15_nsec)
{
	expect_valid("knot-15-nsec", false);
}
Test(dnssec_signers, ldns_optout_allowed)
{
	expect_valid("ldns-13-optout", true);
}

Test(dnssec_signers, report_threads_and_expiry)
{
	struct fe_zone_validate_opts o;
	struct fe_zone_validate_report r1, r2;
	struct fe_zone_error e;
	opts_now(&o);
	o.threads = 1;
	cr_assert_eq(validate_fixture("bind-13-nsec3", &o, &r1, &e), FE_OK, "%s", e.reason);
	o.threads = 2;
	cr_assert_eq(validate_fixture("bind-13-nsec3", &o, &r2, &e), FE_OK, "%s", e.reason);
	cr_expect_eq(r1.threads, 1);
	cr_expect_eq(r1.rrsets, r2.rrsets);
	cr_expect_eq(r1.signatures, r2.signatures);
	cr_expect_eq(r1.earliest_expiry_s, r2.earliest_expiry_s);
	/* dnssec-signzone -e 20350101000000 */
	cr_expect_eq(r1.earliest_expiry_s, 2051222400, "%lld", (long long)r1.earliest_expiry_s);
}
