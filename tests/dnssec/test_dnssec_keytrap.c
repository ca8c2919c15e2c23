/* zone/ DNSSEC validation: docs/security.md Z4, KeyTrap (CVE-2023-50387). keytrap.zone has 65
 * DNSKEYs (algorithm 8) sharing the ZSK's key tag and 25 RRSIGs naming that tag on every
 * signed RRset; a validator that tries every key against every signature does 1,625 RSA
 * verifications per RRset. The budgets reject it after a handful. ldns-13-9zsk.zone is a
 * well-formed zone whose RRsets each carry nine valid RRSIGs (above the per-RRset budget). */
#include "test_dnssec_common.h"

struct run {
	int rc;
	double ms;
	uint64_t sigs;
	char reason[512];
};

static struct run run_keytrap(const char *name, const struct fe_dnssec_opts *o)
{
	struct run r;
	struct ttrust tt;
	struct fe_dnssec_report rep;
	struct fe_zone_error e;
	struct fe_zone *z = parse_fixture(name);
	memset(&e, 0, sizeof(e));
	uint64_t t0 = fe_time_mono_us();
	r.rc = fe_dnssec_validate(z, trust_of(&tt, name, "ds"), o, &rep, &e);
	r.ms = (double)(fe_time_mono_us() - t0) / 1000.0;
	r.sigs = rep.signatures;
	snprintf(r.reason, sizeof(r.reason), "%s", r.rc == FE_OK ? "valid" : e.reason);
	fe_zone_free(z);
	printf("%s: %.2f ms, %llu signature validations: %s\n", name, r.ms,
	       (unsigned long long)r.sigs, r.reason);
	return r;
}

Test(dnssec_z4, colliding_key_tags_rejected_at_once)
{
	struct fe_dnssec_opts o;
	opts_now(&o);
	struct run r = run_keytrap("keytrap", &o);
	cr_assert_eq(r.rc, FE_EVALIDATE);
	cr_assert_not_null(strstr(r.reason, "KeyTrap budget: 65 DNSKEYs share key tag "), "%s",
	                   r.reason);
	cr_assert_not_null(strstr(r.reason, "algorithm 8 (limit 4)"), "%s", r.reason);
	cr_assert_not_null(strstr(r.reason, DAPEX ": RRSIG "), "%s", r.reason);
	/* Only the DNSKEY RRset (KSK) was verified before the rejection. */
	cr_expect_leq(r.sigs, 2);
}

Test(dnssec_z4, per_rrset_budget_when_collisions_allowed)
{
	/* Even with the collision budget lifted, one RRset gets at most 8 verifications. */
	struct fe_dnssec_opts o;
	opts_now(&o);
	o.max_key_collisions = 100;
	o.threads = 1;
	struct run r = run_keytrap("keytrap", &o);
	cr_assert_eq(r.rc, FE_EVALIDATE);
	cr_assert_not_null(strstr(r.reason, "KeyTrap budget: more than 8 signature validations"),
	                   "%s", r.reason);
	cr_expect_leq(r.sigs, 1 + 8);
}

Test(dnssec_z4, zone_failure_budget)
{
	/* Per-RRset budget lifted too: the zone-wide budget of failed verifications stops it. */
	struct fe_dnssec_opts o;
	opts_now(&o);
	o.max_key_collisions = 100;
	o.max_sig_validations_per_rrset = 100000;
	o.max_failed_validations = 20;
	o.threads = 1;
	struct run r = run_keytrap("keytrap", &o);
	cr_assert_eq(r.rc, FE_EVALIDATE);
	cr_assert_not_null(strstr(r.reason, "KeyTrap budget: more than 20 failed signature "
	                                    "validations in the zone"),
	                   "%s", r.reason);
	cr_expect_leq(r.sigs, 1 + 21);
}

Test(dnssec_z4, cost_without_budgets)
{
	/* For the record: with every budget lifted the strict rule (every RRSIG must verify)
	 * still ends at the first bogus RRSIG, after trying all 65 keys. A validator that
	 * accepts an RRset on any valid RRSIG would go on through 25 RRSIGs x 65 keys per
	 * RRset; the figure printed is that cost at the measured rate. */
	struct fe_dnssec_opts o;
	opts_now(&o);
	o.max_key_collisions = 1000;
	o.max_sig_validations_per_rrset = 1000000;
	o.max_failed_validations = 1000000000;
	o.threads = 1;
	struct run r = run_keytrap("keytrap", &o);
	cr_assert_eq(r.rc, FE_EVALIDATE);
	cr_assert_geq(r.sigs, 2);
	double per = r.ms / (double)r.sigs;
	printf("KeyTrap without budgets: %llu verifications in %.1f ms (%.3f ms each); a "
	       "try-every-key validator: 9 RRsets x 25 x 65 = 14,625 verifications = %.0f ms for "
	       "this 9-RRset zone, growing with the zone\n",
	       (unsigned long long)r.sigs, r.ms, per, per * 14625.0);
	cr_expect_leq(r.sigs, 1 + 65 * 2);
}

Test(dnssec_z4, nine_signatures_per_rrset)
{
	struct fe_dnssec_opts o;
	opts_now(&o);
	struct run r = run_keytrap("ldns-13-9zsk", &o);
	cr_assert_eq(r.rc, FE_EVALIDATE);
	cr_assert_not_null(strstr(r.reason, "KeyTrap budget: more than 8 signature validations"),
	                   "%s", r.reason);
	/* A zone that really needs nine is accepted when the operator raises the budget. */
	o.max_sig_validations_per_rrset = 9;
	r = run_keytrap("ldns-13-9zsk", &o);
	cr_assert_eq(r.rc, FE_OK, "%s", r.reason);
}

Test(dnssec_z4, options_checked)
{
	struct fe_dnssec_opts o;
	struct fe_zone_error e;
	struct fe_zone *z = parse_fixture("ldns-13-nsec");
	opts_now(&o);
	o.max_key_collisions = 0;
	cr_expect_eq(fe_dnssec_validate(z, NULL, &o, NULL, &e), FE_EINVAL);
	opts_now(&o);
	o.max_sig_validations_per_rrset = 0;
	cr_expect_eq(fe_dnssec_validate(z, NULL, &o, NULL, &e), FE_EINVAL);
	fe_zone_free(z);
}
