/* Answer engine over unsigned zones: lookups, CNAME chains, wildcards, delegations,
 * negative answers, additional section, meta-types, counters (issue #2 §6). */
#include "test_answer_lib.h"

static struct fx F;

static void setup(void)
{
	static const char *const zones[] = {"ex.test.zone", "child.ex.test.zone", "other.test.zone",
	                                    NULL};
	fx_open(&F, zones);
}

static void teardown(void)
{
	fx_close(&F);
}

TestSuite(answer, .init = setup, .fini = teardown);

#define AN LDNS_SECTION_ANSWER
#define NS LDNS_SECTION_AUTHORITY
#define AR LDNS_SECTION_ADDITIONAL

static void expect_soa(ldns_pkt *p, const char *apex, uint32_t ttl)
{
	cr_assert_eq(fx_n(p, NS), 1, "authority must hold the SOA only");
	ldns_rr *soa = ldns_rr_list_rr(ldns_pkt_authority(p), 0);
	cr_assert_eq(ldns_rr_get_type(soa), LDNS_RR_TYPE_SOA);
	cr_assert(fx_name_eq(ldns_rr_owner(soa), apex));
	cr_assert_eq(ldns_rr_ttl(soa), ttl, "negative TTL %u, want %u", ldns_rr_ttl(soa), ttl);
}

Test(answer, positive_a)
{
	ldns_pkt *p = fx_ask(&F, "www.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(fx_n(p, AN), 1);
	cr_assert(fx_has(p, AN, "www.ex.test. 3600 IN A 192.0.2.10"));
	cr_assert_eq(fx_n(p, NS), 0, "no NS in authority for positive answers (minimal)");
	cr_assert_eq(fx_n(p, AR), 0);
	cr_assert(ldns_pkt_edns(p), "OPT expected when the query had one");
	cr_assert_eq(F.cnt[FE_CNT_NOERROR], 1);
	cr_assert_eq(F.cnt[FE_CNT_QUERIES], 1);
	cr_assert_eq(F.cnt[FE_CNT_UDP], 1);
	ldns_pkt_free(p);
}

Test(answer, own_ttl_and_no_edns)
{
	ldns_pkt *p = fx_ask(&F, "short.ex.test.", LDNS_RR_TYPE_A, FX_NOEDNS, 0);
	cr_assert(fx_has(p, AN, "short.ex.test. 300 IN A 192.0.2.30"));
	cr_assert(!ldns_pkt_edns(p), "no OPT when the query had none");
	ldns_pkt_free(p);
}

Test(answer, qname_case_preserved)
{
	const char *mixed = "wWw.Ex.TeSt.";
	uint8_t q[512];
	size_t len = fx_make_query(mixed, LDNS_RR_TYPE_A, 0, 0, q, sizeof(q));
	ldns_pkt *p = fx_raw(&F, q, len, FE_TRANSPORT_UDP);
	cr_assert_not_null(p);
	/* question bytes exactly as sent */
	cr_assert_eq(memcmp(F.resp + 12, q + 12, 14), 0, "question name case changed");
	cr_assert_eq(fx_n(p, AN), 1);
	char *owner = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_answer(p), 0)));
	cr_assert_str_eq(owner, mixed, "answer owner should carry the query's case");
	free(owner);
	ldns_pkt_free(p);
}

Test(answer, apex_soa_and_ns_with_glue)
{
	ldns_pkt *p = fx_ask(&F, "ex.test.", LDNS_RR_TYPE_SOA, 0, 0);
	cr_assert(fx_has(p, AN,
	                 "ex.test. 3600 IN SOA ns1.ex.test. hostmaster.ex.test. 2024010101 7200 "
	                 "3600 1209600 300"));
	ldns_pkt_free(p);

	p = fx_ask(&F, "ex.test.", LDNS_RR_TYPE_NS, 0, 0);
	cr_assert_eq(fx_count(p, AN, "ex.test.", LDNS_RR_TYPE_NS), 2);
	cr_assert(fx_has(p, AR, "ns1.ex.test. 3600 IN A 192.0.2.1"));
	cr_assert(fx_has(p, AR, "ns2.ex.test. 3600 IN A 192.0.2.2"));
	cr_assert(fx_has(p, AR, "ns2.ex.test. 3600 IN AAAA 2001:db8::2"));
	cr_assert_eq(fx_n(p, AR), 3);
	ldns_pkt_free(p);
}

Test(answer, mx_additional_only_in_zone)
{
	ldns_pkt *p = fx_ask(&F, "ex.test.", LDNS_RR_TYPE_MX, 0, 0);
	cr_assert_eq(fx_count(p, AN, "ex.test.", LDNS_RR_TYPE_MX), 2);
	cr_assert(fx_has(p, AR, "mail.ex.test. 3600 IN A 192.0.2.25"));
	/* mx.other.test is in another held zone: not added (Knot adds same-zone data only) */
	cr_assert_eq(fx_n(p, AR), 1);
	ldns_pkt_free(p);
}

Test(answer, srv_additional_and_naptr_none)
{
	ldns_pkt *p = fx_ask(&F, "_sip._udp.ims.ex.test.", LDNS_RR_TYPE_SRV, 0, 0);
	cr_assert_eq(fx_count(p, AN, NULL, LDNS_RR_TYPE_SRV), 2);
	cr_assert(fx_has(p, AR, "sip1.ims.ex.test. 3600 IN A 192.0.2.41"));
	cr_assert(fx_has(p, AR, "sip1.ims.ex.test. 3600 IN AAAA 2001:db8::41"));
	cr_assert(fx_has(p, AR, "sip2.ims.ex.test. 3600 IN A 192.0.2.42"));
	cr_assert_eq(fx_n(p, AR), 3);
	ldns_pkt_free(p);

	p = fx_ask(&F, "ims.ex.test.", LDNS_RR_TYPE_NAPTR, 0, 0);
	cr_assert_eq(fx_count(p, AN, "ims.ex.test.", LDNS_RR_TYPE_NAPTR), 2);
	cr_assert_eq(fx_n(p, AR), 0, "NAPTR gets no additional processing (as in Knot)");
	ldns_pkt_free(p);

	p = fx_ask(&F, "1.0.0.0.0.0.2.5.5.5.1.ex.test.", LDNS_RR_TYPE_NAPTR, 0, 0);
	cr_assert(fx_has(p, AN,
	                 "1.0.0.0.0.0.2.5.5.5.1.ex.test. 3600 IN NAPTR 100 10 \"u\" \"E2U+sip\" "
	                 "\"!^.*$!sip:+15552000001@ims.ex.test!\" ."));
	ldns_pkt_free(p);
}

Test(answer, nodata_soa_min_ttl)
{
	ldns_pkt *p = fx_ask(&F, "www.ex.test.", LDNS_RR_TYPE_MX, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(fx_n(p, AN), 0);
	/* RFC 2308 §3: min(SOA TTL 3600, MINIMUM 300) */
	expect_soa(p, "ex.test.", 300);
	ldns_pkt_free(p);
}

Test(answer, nxdomain)
{
	ldns_pkt *p = fx_ask(&F, "nothere.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	cr_assert_eq(fx_n(p, AN), 0);
	expect_soa(p, "ex.test.", 300);
	cr_assert_eq(F.cnt[FE_CNT_NXDOMAIN], 1);
	ldns_pkt_free(p);

	p = fx_ask(&F, "a.b.c.d.nothere.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(p);
}

Test(answer, empty_non_terminals)
{
	const char *ents[] = {"b.c.deep.ex.test.", "c.deep.ex.test.", "deep.ex.test.",
	                      "0.0.2.5.5.5.1.ex.test.", "1.ex.test."};
	for (size_t i = 0; i < FE_ARRAY_LEN(ents); i++) {
		ldns_pkt *p = fx_ask(&F, ents[i], LDNS_RR_TYPE_A, 0, 0);
		cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR, "%s is an ENT", ents[i]);
		cr_assert_eq(fx_n(p, AN), 0);
		expect_soa(p, "ex.test.", 300);
		ldns_pkt_free(p);
	}
	ldns_pkt *p = fx_ask(&F, "a.b.c.deep.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert(fx_has(p, AN, "a.b.c.deep.ex.test. 3600 IN A 192.0.2.77"));
	ldns_pkt_free(p);
}

Test(answer, wildcard_synthesis)
{
	ldns_pkt *p = fx_ask(&F, "Foo.wild.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert(fx_has(p, AN, "foo.wild.ex.test. 3600 IN A 192.0.2.99"),
	          "owner must be the query name (RFC 4592 §3.4)");
	cr_assert_eq(fx_n(p, AN), 1);
	ldns_pkt_free(p);

	/* several labels below the wildcard's parent */
	p = fx_ask(&F, "a.b.wild.ex.test.", LDNS_RR_TYPE_TXT, 0, 0);
	cr_assert(fx_has(p, AN, "a.b.wild.ex.test. 3600 IN TXT \"wildcard\""));
	ldns_pkt_free(p);

	/* the wildcard itself, asked literally: no synthesis */
	p = fx_ask(&F, "*.wild.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert(fx_has(p, AN, "*.wild.ex.test. 3600 IN A 192.0.2.99"));
	ldns_pkt_free(p);

	/* wildcard NODATA */
	p = fx_ask(&F, "foo.wild.ex.test.", LDNS_RR_TYPE_MX, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(fx_n(p, AN), 0);
	expect_soa(p, "ex.test.", 300);
	ldns_pkt_free(p);

	/* "wild" itself is an ENT, not matched by its own wildcard */
	p = fx_ask(&F, "wild.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(fx_n(p, AN), 0);
	ldns_pkt_free(p);
}

Test(answer, wildcard_does_not_match_existing_names_children)
{
	/* RFC 4592 §2.2.1: below an existing name (www), the wildcard at the apex level
	 * does not apply; there is none at ex.test anyway: NXDOMAIN */
	ldns_pkt *p = fx_ask(&F, "x.www.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(p);
}

Test(answer, cname_chain)
{
	ldns_pkt *p = fx_ask(&F, "c1.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert(fx_has(p, AN, "c1.ex.test. 3600 IN CNAME c2.ex.test."));
	cr_assert(fx_has(p, AN, "c2.ex.test. 3600 IN CNAME www.ex.test."));
	cr_assert(fx_has(p, AN, "www.ex.test. 3600 IN A 192.0.2.10"));
	cr_assert_eq(fx_n(p, AN), 3);
	ldns_pkt_free(p);

	/* asking for the CNAME itself: not followed */
	p = fx_ask(&F, "c1.ex.test.", LDNS_RR_TYPE_CNAME, 0, 0);
	cr_assert_eq(fx_n(p, AN), 1);
	cr_assert(fx_has(p, AN, "c1.ex.test. 3600 IN CNAME c2.ex.test."));
	ldns_pkt_free(p);

	/* chain ending in NODATA: SOA of the last zone */
	p = fx_ask(&F, "c1.ex.test.", LDNS_RR_TYPE_MX, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(fx_n(p, AN), 2);
	expect_soa(p, "ex.test.", 300);
	ldns_pkt_free(p);
}

Test(answer, wildcard_cname)
{
	ldns_pkt *p = fx_ask(&F, "x.wc.ex.test.", LDNS_RR_TYPE_AAAA, 0, 0);
	cr_assert(fx_has(p, AN, "x.wc.ex.test. 3600 IN CNAME www.ex.test."));
	cr_assert(fx_has(p, AN, "www.ex.test. 3600 IN AAAA 2001:db8::10"));
	cr_assert_eq(fx_n(p, AN), 2);
	ldns_pkt_free(p);
}

Test(answer, cname_cross_zone)
{
	ldns_pkt *p = fx_ask(&F, "xz.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert(fx_has(p, AN, "xz.ex.test. 3600 IN CNAME host.other.test."));
	cr_assert(fx_has(p, AN, "host.other.test. 3600 IN A 192.0.2.80"));
	ldns_pkt_free(p);

	/* other.test → back into ex.test, ending in NXDOMAIN-free data */
	p = fx_ask(&F, "alias.other.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert(fx_has(p, AN, "alias.other.test. 3600 IN CNAME www.ex.test."));
	cr_assert(fx_has(p, AN, "www.ex.test. 3600 IN A 192.0.2.10"));
	ldns_pkt_free(p);

	/* cross-zone NODATA: the SOA is the one of the zone holding the last name */
	p = fx_ask(&F, "xz.ex.test.", LDNS_RR_TYPE_MX, 0, 0);
	cr_assert_eq(fx_n(p, AN), 1);
	expect_soa(p, "other.test.", 600);
	ldns_pkt_free(p);
}

Test(answer, cname_dangling_is_nxdomain)
{
	/* RFC 6604 §2.1: the rcode describes the last name of the chain */
	ldns_pkt *p = fx_ask(&F, "dangling.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	cr_assert(fx_has(p, AN, "dangling.ex.test. 3600 IN CNAME nothere.ex.test."));
	expect_soa(p, "ex.test.", 300);
	ldns_pkt_free(p);
}

Test(answer, cname_loop_bounded)
{
	ldns_pkt *p = fx_ask(&F, "loop1.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert(fx_has(p, AN, "loop1.ex.test. 3600 IN CNAME loop2.ex.test."));
	cr_assert(fx_has(p, AN, "loop2.ex.test. 3600 IN CNAME loop1.ex.test."));
	cr_assert_eq(fx_n(p, AN), 2, "each RRset once");
	ldns_pkt_free(p);
}

Test(answer, cname_leaving_held_zones)
{
	ldns_pkt *p = fx_ask(&F, "outside.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(fx_n(p, AN), 1);
	cr_assert(fx_has(p, AN, "outside.ex.test. 3600 IN CNAME www.example.org."));
	cr_assert_eq(fx_n(p, NS), 0);
	ldns_pkt_free(p);
}

Test(answer, delegation_not_held_is_servfail)
{
	const char *names[] = {"sub.ex.test.", "x.sub.ex.test.", "ns.sub.ex.test.",
	                       "insec.ex.test.", "deep.below.insec.ex.test."};
	for (size_t i = 0; i < FE_ARRAY_LEN(names); i++) {
		ldns_pkt *p = fx_ask(&F, names[i], LDNS_RR_TYPE_A, 0, 0);
		cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL, "%s", names[i]);
		cr_assert_eq(fx_n(p, AN) + fx_n(p, NS) + fx_n(p, AR), 0, "never a referral");
		ldns_pkt_free(p);
	}
	ldns_pkt *p = fx_ask(&F, "sub.ex.test.", LDNS_RR_TYPE_NS, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
	ldns_pkt_free(p);
	cr_assert_eq(F.cnt[FE_CNT_SERVFAIL], FE_ARRAY_LEN(names) + 1);
	cr_assert_eq(F.cnt[FE_CNT_STORE_ERRORS], 0);
}

Test(answer, ds_from_parent)
{
	ldns_pkt *p = fx_ask(&F, "sub.ex.test.", LDNS_RR_TYPE_DS, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(fx_count(p, AN, "sub.ex.test.", LDNS_RR_TYPE_DS), 1);
	ldns_pkt_free(p);

	/* insecure delegation: NODATA from the parent */
	p = fx_ask(&F, "insec.ex.test.", LDNS_RR_TYPE_DS, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(fx_n(p, AN), 0);
	expect_soa(p, "ex.test.", 300);
	ldns_pkt_free(p);

	/* DS below a cut we do not hold */
	p = fx_ask(&F, "x.sub.ex.test.", LDNS_RR_TYPE_DS, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
	ldns_pkt_free(p);
}

Test(answer, held_child_zone)
{
	ldns_pkt *p = fx_ask(&F, "www.child.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert(fx_has(p, AN, "www.child.ex.test. 3600 IN A 192.0.2.61"));
	ldns_pkt_free(p);

	/* NS at the child apex comes from the child zone (not a referral from the parent) */
	p = fx_ask(&F, "child.ex.test.", LDNS_RR_TYPE_NS, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert(fx_has(p, AN, "child.ex.test. 3600 IN NS ns1.child.ex.test."));
	cr_assert(fx_has(p, AR, "ns1.child.ex.test. 3600 IN A 192.0.2.60"));
	ldns_pkt_free(p);

	/* DS at the cut: the parent has none in the unsigned version → NODATA, parent SOA */
	p = fx_ask(&F, "child.ex.test.", LDNS_RR_TYPE_DS, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	expect_soa(p, "ex.test.", 300);
	ldns_pkt_free(p);

	/* a miss inside the child: child SOA */
	p = fx_ask(&F, "nope.child.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	expect_soa(p, "child.ex.test.", 300);
	ldns_pkt_free(p);
}

Test(answer, ds_for_apex_without_parent_answers_from_child)
{
	/* RFC 4035 §3.1.4.1: we hold other.test but not test. → NODATA from other.test */
	ldns_pkt *p = fx_ask(&F, "other.test.", LDNS_RR_TYPE_DS, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	expect_soa(p, "other.test.", 600);
	ldns_pkt_free(p);
}

Test(answer, refused_outside_held_zones)
{
	const char *names[] = {"www.example.org.", "test.", ".", "ex.test.evil."};
	for (size_t i = 0; i < FE_ARRAY_LEN(names); i++) {
		ldns_pkt *p = fx_ask(&F, names[i], LDNS_RR_TYPE_A, 0, 0);
		cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED, "%s", names[i]);
		cr_assert_eq(fx_n(p, AN) + fx_n(p, NS) + fx_n(p, AR), 0);
		cr_assert_eq(ldns_pkt_qdcount(p), 1, "question echoed");
		ldns_pkt_free(p);
	}
	cr_assert_eq(F.cnt[FE_CNT_OUT_OF_ZONE], FE_ARRAY_LEN(names));
	cr_assert_eq(F.cnt[FE_CNT_REFUSED], FE_ARRAY_LEN(names));
}

Test(answer, any_gives_one_rrset)
{
	ldns_pkt *p = fx_ask(&F, "www.ex.test.", LDNS_RR_TYPE_ANY, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(fx_n(p, AN), 1, "RFC 8482: one RRset");
	cr_assert_eq(fx_count(p, AN, "www.ex.test.", LDNS_RR_TYPE_A), 1);
	ldns_pkt_free(p);

	/* same over TCP */
	p = fx_ask(&F, "www.ex.test.", LDNS_RR_TYPE_ANY, FX_TCP, 0);
	cr_assert_eq(fx_n(p, AN), 1);
	ldns_pkt_free(p);

	/* ENT: NODATA */
	p = fx_ask(&F, "deep.ex.test.", LDNS_RR_TYPE_ANY, 0, 0);
	cr_assert_eq(fx_n(p, AN), 0);
	expect_soa(p, "ex.test.", 300);
	ldns_pkt_free(p);

	F.opts.refuse_any = true;
	p = fx_ask(&F, "www.ex.test.", LDNS_RR_TYPE_ANY, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);
}

Test(answer, transfers_refused)
{
	ldns_pkt *p = fx_ask(&F, "ex.test.", LDNS_RR_TYPE_AXFR, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	cr_assert_eq(fx_n(p, AN), 0);
	ldns_pkt_free(p);
	p = fx_ask(&F, "ex.test.", LDNS_RR_TYPE_AXFR, FX_TCP, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);
	p = fx_ask(&F, "ex.test.", LDNS_RR_TYPE_IXFR, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);
}

Test(answer, meta_qtypes)
{
	ldns_pkt *p = fx_ask(&F, "ex.test.", LDNS_RR_TYPE_OPT, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_FORMERR);
	ldns_pkt_free(p);
	p = fx_ask(&F, "ex.test.", LDNS_RR_TYPE_MAILB, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOTIMPL);
	ldns_pkt_free(p);
	/* RRSIG asked of an unsigned zone: NODATA */
	p = fx_ask(&F, "www.ex.test.", LDNS_RR_TYPE_RRSIG, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(fx_n(p, AN), 0);
	ldns_pkt_free(p);
}

Test(answer, class_other_than_in_refused)
{
	ldns_pkt *q = ldns_pkt_query_new(ldns_dname_new_frm_str("www.ex.test."), LDNS_RR_TYPE_A,
	                                 LDNS_RR_CLASS_CH, LDNS_RD);
	uint8_t *wire;
	size_t len;
	cr_assert_eq(ldns_pkt2wire(&wire, q, &len), LDNS_STATUS_OK);
	ldns_pkt *p = fx_raw(&F, wire, len, FE_TRANSPORT_UDP);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	free(wire);
	ldns_pkt_free(q);
	ldns_pkt_free(p);
}

Test(answer, notify_opcode_notimp)
{
	uint8_t q[512];
	size_t len = fx_make_query("ex.test.", LDNS_RR_TYPE_SOA, 0, 0, q, sizeof(q));
	q[2] = (uint8_t)((q[2] & 0x87u) | (4u << 3)); /* opcode NOTIFY */
	ldns_pkt *p = fx_raw(&F, q, len, FE_TRANSPORT_UDP);
	cr_assert_not_null(p);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOTIMPL);
	cr_assert_eq(F.cnt[FE_CNT_NOTIMP], 1);
	ldns_pkt_free(p);
}

Test(answer, tcp_counts)
{
	ldns_pkt *p = fx_ask(&F, "www.ex.test.", LDNS_RR_TYPE_A, FX_TCP, 0);
	cr_assert_eq(fx_n(p, AN), 1);
	ldns_pkt_free(p);
	cr_assert_eq(F.cnt[FE_CNT_TCP], 1);
	cr_assert_eq(F.cnt[FE_CNT_UDP], 0);
}

Test(answer, udp_without_edns_truncates_at_512)
{
	/* 8 TXT of ~95 octets: > 512 without EDNS → TC=1, and nothing partial of the RRset */
	ldns_pkt *p = fx_ask(&F, "big.ex.test.", LDNS_RR_TYPE_TXT, FX_NOEDNS, 0);
	cr_assert(ldns_pkt_tc(p));
	cr_assert_leq(F.resp_len, 512);
	cr_assert_eq(fx_n(p, AN), 0);
	cr_assert_eq(F.cnt[FE_CNT_TRUNCATED], 1);
	ldns_pkt_free(p);
	p = fx_ask(&F, "big.ex.test.", LDNS_RR_TYPE_TXT, 0, 1232);
	cr_assert(!ldns_pkt_tc(p));
	cr_assert_eq(fx_count(p, AN, NULL, LDNS_RR_TYPE_TXT), 8);
	ldns_pkt_free(p);
}

Test(answer, store_failure_is_servfail)
{
	/* a reader without an open snapshot makes every lookup fail */
	fe_store_reader_end(F.rd);
	ldns_pkt *p = fx_ask(&F, "www.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
	cr_assert_eq(fx_n(p, AN) + fx_n(p, NS) + fx_n(p, AR), 0);
	cr_assert_eq(F.cnt[FE_CNT_STORE_ERRORS], 1);
	cr_assert_eq(F.cnt[FE_CNT_SERVFAIL], 1);
	ldns_pkt_free(p);
	cr_assert_eq(fe_store_reader_begin(F.rd), FE_OK);
	p = fx_ask(&F, "www.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ldns_pkt_free(p);
}
