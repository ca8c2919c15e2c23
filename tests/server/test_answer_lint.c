/* The answer engine and the NAPTR lint (docs/security.md Z7): records the zone load marked
 * are left out of the NAPTR RRset (with its RRSIGs), the answer gets EDE 17; other RRsets of
 * the node, and nodes without failing records, are answered as they are. */
#include <criterion/criterion.h>

#include "fe_test_pkt.h"

#include "test_answer_lib.h"

static struct fx f;

static void setup(void)
{
	const char *zones[] = {"lint.test.zone", NULL};
	fx_open(&f, zones);
}

static void teardown(void)
{
	fx_close(&f);
}

TestSuite(answer_lint, .init = setup, .fini = teardown);

Test(answer_lint, failing_records_left_out)
{
	ldns_pkt *p = fx_ask(&f, "mixed.lint.test.", LDNS_RR_TYPE_NAPTR, FX_DO, FE_TRANSPORT_UDP);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(fx_count(p, LDNS_SECTION_ANSWER, "mixed.lint.test.", LDNS_RR_TYPE_NAPTR), 1);
	cr_assert(fx_has(p, LDNS_SECTION_ANSWER,
	                 "mixed.lint.test. 300 IN NAPTR 10 100 \"u\" \"E2U+sip\" "
	                 "\"!^.*$!sip:a@ims-a.example!\" ."));
	cr_assert_eq(fe_test_pkt_ede(p), 17);
	ldns_pkt_free(p);
	/* the TXT beside them is not touched */
	p = fx_ask(&f, "mixed.lint.test.", LDNS_RR_TYPE_TXT, FX_DO, FE_TRANSPORT_UDP);
	cr_assert_eq(fx_count(p, LDNS_SECTION_ANSWER, "mixed.lint.test.", LDNS_RR_TYPE_TXT), 1);
	cr_assert_eq(fe_test_pkt_ede(p), -1);
	ldns_pkt_free(p);
	/* every record failing: an empty answer, still NOERROR, with the EDE */
	p = fx_ask(&f, "allbad.lint.test.", LDNS_RR_TYPE_NAPTR, 0, FE_TRANSPORT_UDP);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(fx_n(p, LDNS_SECTION_ANSWER), 0);
	cr_assert_eq(fe_test_pkt_ede(p), 17);
	ldns_pkt_free(p);
	/* ANY gives the NAPTR RRset there: filtered the same way */
	p = fx_ask(&f, "allbad.lint.test.", LDNS_RR_TYPE_ANY, 0, FE_TRANSPORT_TCP);
	cr_assert_eq(fx_n(p, LDNS_SECTION_ANSWER), 0);
	ldns_pkt_free(p);
	/* through a wildcard */
	p = fx_ask(&f, "x.w.lint.test.", LDNS_RR_TYPE_NAPTR, 0, FE_TRANSPORT_UDP);
	cr_assert_eq(fx_count(p, LDNS_SECTION_ANSWER, "x.w.lint.test.", LDNS_RR_TYPE_NAPTR), 1);
	cr_assert(fx_has(p, LDNS_SECTION_ANSWER,
	                 "x.w.lint.test. 300 IN NAPTR 20 100 \"u\" \"E2U+sip\" "
	                 "\"!^.*$!sip:e@ims-a.example!\" ."));
	cr_assert_eq(fe_test_pkt_ede(p), 17);
	ldns_pkt_free(p);
	/* a node with good records only: as it is */
	p = fx_ask(&f, "good.lint.test.", LDNS_RR_TYPE_NAPTR, 0, FE_TRANSPORT_UDP);
	cr_assert_eq(fx_count(p, LDNS_SECTION_ANSWER, "good.lint.test.", LDNS_RR_TYPE_NAPTR), 1);
	cr_assert_eq(fe_test_pkt_ede(p), -1);
	ldns_pkt_free(p);
}

static bool rec_cb(const struct fe_store_zone_rec *z, void *arg)
{
	*(struct fe_store_zone_rec *)arg = *z;
	return false;
}

Test(answer_lint, zone_record_counts_and_names_them)
{
	struct fe_store_zone_rec z;
	memset(&z, 0, sizeof(z));
	fe_store_foreach_zone(f.rd, rec_cb, &z);
	cr_assert_eq(z.naptr_lint_count, 4);
	cr_assert(strstr(z.naptr_lint, "mixed.lint.test.") != NULL, "%s", z.naptr_lint);
	cr_assert(strstr(z.naptr_lint, "REGEXP and REPLACEMENT both set") != NULL, "%s",
	          z.naptr_lint);
	cr_assert(strstr(z.naptr_lint, "allbad.lint.test.") != NULL, "%s", z.naptr_lint);
}

Test(answer_lint, parsed_zone_reports_them)
{
	struct fe_zone *z = NULL;
	struct fe_zone_error err;
	memset(&err, 0, sizeof(err));
	cr_assert_eq(fe_zone_parse_file(FX_DATA "lint.test.zone", NULL, &z, &err), FE_OK, "%s",
	             err.reason);
	const char *report = NULL;
	cr_assert_eq(fe_zone_naptr_lint(z, &report), 4);
	cr_assert(strstr(report, "allbad.lint.test. line") != NULL, "%s", report);
	fe_zone_free(z);
}
