/* Answer engine with DO=1 over signed zones: RRSIGs with every RRset, NSEC proofs (RFC 4035
 * §3.1.3), NSEC3 proofs (RFC 5155 §7.2) incl. opt-out, wildcard proofs, truncation (Q9).
 * Every RRSIG in every answer is verified with ldns against the zone's DNSKEY. */
#include "test_answer_lib.h"

#define AN LDNS_SECTION_ANSWER
#define NS LDNS_SECTION_AUTHORITY
#define AR LDNS_SECTION_ADDITIONAL

static struct fx F;
static ldns_rr_list *KEYS;
static const char *const APEXES[] = {"ex.test.", "other.test.", "child.ex.test.", NULL};

static void open_with(const char *ex_file)
{
	const char *const zones[] = {ex_file, "child.ex.test.signed", "other.test.signed", NULL};
	fx_open(&F, zones);
	KEYS = fx_keys(&F, APEXES);
	memset(F.cnt, 0, sizeof(F.cnt));
}

static void setup_nsec(void)
{
	open_with("ex.test.nsec.signed");
}

static void setup_nsec3(void)
{
	open_with("ex.test.nsec3.signed");
}

static void setup_optout(void)
{
	open_with("ex.test.nsec3optout.signed");
}

static void teardown(void)
{
	ldns_rr_list_deep_free(KEYS);
	KEYS = NULL;
	fx_close(&F);
}

/* Ask with DO=1 (EDNS 4096 unless @bufsize), check every signature, return the packet. */
static ldns_pkt *ask_do(const char *name, uint16_t type, unsigned flags, uint16_t bufsize)
{
	ldns_pkt *p = fx_ask(&F, name, type, flags | FX_DO, bufsize ? bufsize : 4096);
	cr_assert(ldns_pkt_edns_do(p), "DO not echoed");
	if (!ldns_pkt_tc(p))
		fx_verify_sigs(p, KEYS, true);
	return p;
}

static void expect_soa(ldns_pkt *p, const char *apex, uint32_t ttl)
{
	cr_assert_eq(fx_count(p, NS, apex, LDNS_RR_TYPE_SOA), 1, "SOA of %s expected", apex);
	cr_assert_eq(fx_count_sig(p, NS, apex, LDNS_RR_TYPE_SOA), 1, "RRSIG(SOA) expected");
	ldns_rr_list *l = ldns_pkt_authority(p);
	for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);
		bool soa = ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA ||
		           (ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG &&
		            ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(rr)) == LDNS_RR_TYPE_SOA);
		if (soa)
			cr_assert_eq(ldns_rr_ttl(rr), ttl, "SOA/RRSIG TTL %u, want %u",
			             ldns_rr_ttl(rr), ttl);
	}
}

/* The records of one type in the authority section (a shallow list). */
static ldns_rr_list *auth_of(ldns_pkt *p, ldns_rr_type type)
{
	ldns_rr_list *l = ldns_pkt_authority(p), *out = ldns_rr_list_new();
	for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++)
		if (ldns_rr_get_type(ldns_rr_list_rr(l, i)) == type)
			ldns_rr_list_push_rr(out, ldns_rr_list_rr(l, i));
	return out;
}

static ldns_rr_list *sigs_of(ldns_pkt *p)
{
	return auth_of(p, LDNS_RR_TYPE_RRSIG);
}

/* Authority records of a type, RRSIGs excluded. */
static size_t n_auth(ldns_pkt *p, uint16_t type)
{
	return fx_count(p, NS, NULL, type);
}

/* ---- common to all signings ----------------------------------------------------------- */

static void positive_checks(void)
{
	ldns_pkt *p = ask_do("www.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(fx_count(p, AN, NULL, LDNS_RR_TYPE_A), 1);
	cr_assert_eq(fx_count_sig(p, AN, "www.ex.test.", LDNS_RR_TYPE_A), 1);
	cr_assert_eq(fx_n(p, NS), 0);
	ldns_pkt_free(p);

	/* no DO: no RRSIG */
	p = fx_ask(&F, "www.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(fx_n(p, AN), 1);
	ldns_pkt_free(p);

	/* SRV: additional A/AAAA with their RRSIGs */
	p = ask_do("_sip._udp.ims.ex.test.", LDNS_RR_TYPE_SRV, 0, 0);
	cr_assert_eq(fx_count(p, AR, NULL, LDNS_RR_TYPE_A), 2);
	cr_assert_eq(fx_count(p, AR, NULL, LDNS_RR_TYPE_AAAA), 1);
	cr_assert_eq(fx_count(p, AR, NULL, LDNS_RR_TYPE_RRSIG), 3);
	ldns_pkt_free(p);

	/* cross-zone CNAME: each part signed by its own zone */
	p = ask_do("xz.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(fx_count_sig(p, AN, "xz.ex.test.", LDNS_RR_TYPE_CNAME), 1);
	cr_assert_eq(fx_count_sig(p, AN, "host.other.test.", LDNS_RR_TYPE_A), 1);
	ldns_pkt_free(p);

	/* DS at a secure delegation, from the parent, signed by the parent */
	p = ask_do("child.ex.test.", LDNS_RR_TYPE_DS, 0, 0);
	cr_assert_eq(fx_count(p, AN, "child.ex.test.", LDNS_RR_TYPE_DS), 1);
	cr_assert_eq(fx_count_sig(p, AN, "child.ex.test.", LDNS_RR_TYPE_DS), 1);
	ldns_pkt_free(p);

	/* qtype RRSIG: like ANY, the RRSIGs of one RRset (the lowest type, A) */
	p = fx_ask(&F, "www.ex.test.", LDNS_RR_TYPE_RRSIG, FX_DO, 4096);
	cr_assert_eq(fx_count_sig(p, AN, "www.ex.test.", LDNS_RR_TYPE_A), 1);
	cr_assert_eq(fx_n(p, AN), 1);
	ldns_pkt_free(p);

	/* ANY: one RRset and its RRSIG */
	p = ask_do("www.ex.test.", LDNS_RR_TYPE_ANY, 0, 0);
	cr_assert_eq(fx_count(p, AN, NULL, LDNS_RR_TYPE_A), 1);
	cr_assert_eq(fx_count(p, AN, NULL, LDNS_RR_TYPE_RRSIG), 1);
	cr_assert_eq(fx_n(p, AN), 2);
	ldns_pkt_free(p);
}

static void truncation_checks(bool nxdomain_too_big)
{
	/* docs/security.md Q9: EDNS 512 + DO, large answer → TC=1 over UDP, nothing partial */
	ldns_pkt *p = ask_do("big.ex.test.", LDNS_RR_TYPE_TXT, 0, 512);
	cr_assert(ldns_pkt_tc(p), "TC expected");
	cr_assert_leq(F.resp_len, 512);
	cr_assert_eq(fx_n(p, AN), 0, "no partial RRset");
	cr_assert_eq(F.cnt[FE_CNT_TRUNCATED], 1);
	ldns_pkt_free(p);

	/* the same over TCP: complete, signed */
	p = ask_do("big.ex.test.", LDNS_RR_TYPE_TXT, FX_TCP, 512);
	cr_assert(!ldns_pkt_tc(p));
	cr_assert_eq(fx_count(p, AN, NULL, LDNS_RR_TYPE_TXT), 8);
	cr_assert_eq(fx_count_sig(p, AN, NULL, LDNS_RR_TYPE_TXT), 1);
	ldns_pkt_free(p);

	/* a denial that does not fit 512 octets is required data: TC=1 (RFC 4035 §3.1.3); the
	 * NSEC3 one (SOA + 3 NSEC3, 4 RRSIGs) always exceeds 512 with P-256 signatures */
	if (nxdomain_too_big) {
		p = ask_do("no.such.name.below.ex.test.", LDNS_RR_TYPE_NAPTR, 0, 512);
		cr_assert(ldns_pkt_tc(p), "a denial cut short must set TC");
		cr_assert_leq(F.resp_len, 512);
		ldns_pkt_free(p);
		p = ask_do("no.such.name.below.ex.test.", LDNS_RR_TYPE_NAPTR, FX_TCP, 512);
		cr_assert(!ldns_pkt_tc(p));
		cr_assert_eq(n_auth(p, LDNS_RR_TYPE_NSEC3), 3);
		ldns_pkt_free(p);
	}

	/* additional data that does not fit is dropped without TC (RFC 2181 §9); RRSIGs of
	 * the answer stay */
	p = ask_do("_sip._udp.ims.ex.test.", LDNS_RR_TYPE_SRV, 0, 512);
	cr_assert(!ldns_pkt_tc(p));
	cr_assert_eq(fx_count(p, AN, NULL, LDNS_RR_TYPE_SRV), 2);
	cr_assert_eq(fx_count_sig(p, AN, NULL, LDNS_RR_TYPE_SRV), 1);
	cr_assert_lt(fx_n(p, AR), 6, "additional should have been cut at 512");
	ldns_pkt_free(p);
}

/* ---- NSEC --------------------------------------------------------------------------- */

TestSuite(dnssec_nsec, .init = setup_nsec, .fini = teardown);

Test(dnssec_nsec, positive)
{
	positive_checks();
}

Test(dnssec_nsec, truncation)
{
	truncation_checks(false);
}

Test(dnssec_nsec, nxdomain)
{
	ldns_pkt *p = ask_do("nothere.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	expect_soa(p, "ex.test.", 300);
	/* RFC 4035 §3.1.3.2: NSEC covering the name + NSEC covering *.ex.test (may be one) */
	cr_assert_eq(fx_nsec(p, "nothere.ex.test.", false), 1);
	cr_assert_geq(fx_nsec(p, "*.ex.test.", false), 1);
	cr_assert_leq(n_auth(p, LDNS_RR_TYPE_NSEC), 2);
	ldns_rr *q = NULL;
	cr_assert_eq(ldns_rr_new_question_frm_str(&q, "nothere.ex.test. IN A", NULL, NULL),
	             LDNS_STATUS_OK);
	ldns_rr_list *sigs = sigs_of(p);
	cr_assert_eq(ldns_dnssec_verify_denial(q, ldns_pkt_authority(p), sigs), LDNS_STATUS_OK);
	ldns_rr_list_free(sigs);
	ldns_rr_free(q);
	ldns_pkt_free(p);

	/* deeper: closest encloser is an ENT */
	p = ask_do("x.b.c.deep.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	cr_assert_eq(fx_nsec(p, "x.b.c.deep.ex.test.", false), 1);
	cr_assert_geq(fx_nsec(p, "*.b.c.deep.ex.test.", false), 1);
	ldns_pkt_free(p);
}

Test(dnssec_nsec, nodata)
{
	ldns_pkt *p = ask_do("www.ex.test.", LDNS_RR_TYPE_MX, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(fx_n(p, AN), 0);
	expect_soa(p, "ex.test.", 300);
	cr_assert_eq(fx_nsec(p, "www.ex.test.", true), 1);
	cr_assert_eq(n_auth(p, LDNS_RR_TYPE_NSEC), 1);
	ldns_pkt_free(p);

	/* ENT: no NSEC of its own → covering NSEC */
	p = ask_do("c.deep.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(fx_nsec(p, "c.deep.ex.test.", false), 1);
	ldns_pkt_free(p);

	/* DS at an insecure delegation: the NSEC at the cut (no DS bit) */
	p = ask_do("insec.ex.test.", LDNS_RR_TYPE_DS, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(fx_nsec(p, "insec.ex.test.", true), 1);
	ldns_pkt_free(p);
}

Test(dnssec_nsec, wildcard)
{
	/* RFC 4035 §3.1.3.3: answer + NSEC covering the query name; RRSIG labels = 3 */
	ldns_pkt *p = ask_do("foo.wild.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(fx_count(p, AN, "foo.wild.ex.test.", LDNS_RR_TYPE_A), 1);
	cr_assert_eq(fx_count_sig(p, AN, "foo.wild.ex.test.", LDNS_RR_TYPE_A), 1);
	cr_assert_eq(fx_nsec(p, "foo.wild.ex.test.", false), 1);
	cr_assert_eq(n_auth(p, LDNS_RR_TYPE_NSEC), 1);
	ldns_pkt_free(p);

	/* RFC 4035 §3.1.3.4: wildcard NODATA: NSEC of the wildcard + NSEC covering the name */
	p = ask_do("foo.wild.ex.test.", LDNS_RR_TYPE_MX, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(fx_nsec(p, "*.wild.ex.test.", true), 1);
	cr_assert_eq(fx_nsec(p, "foo.wild.ex.test.", false), 1);
	ldns_pkt_free(p);

	/* wildcard CNAME, then a normal answer */
	p = ask_do("x.wc.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(fx_count_sig(p, AN, "x.wc.ex.test.", LDNS_RR_TYPE_CNAME), 1);
	cr_assert_eq(fx_nsec(p, "x.wc.ex.test.", false), 1);
	ldns_pkt_free(p);

	/* the wildcard asked literally: no proof needed */
	p = ask_do("*.wild.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(fx_n(p, NS), 0);
	ldns_pkt_free(p);
}

Test(dnssec_nsec, dangling_cname)
{
	ldns_pkt *p = ask_do("dangling.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	cr_assert_eq(fx_count_sig(p, AN, "dangling.ex.test.", LDNS_RR_TYPE_CNAME), 1);
	cr_assert_eq(fx_nsec(p, "nothere.ex.test.", false), 1);
	ldns_pkt_free(p);
}

/* ---- NSEC3 (iterations 2, salt aabbccdd) ------------------------------------------------ */

#define IT   2
#define SALT "aabbccdd"

TestSuite(dnssec_nsec3, .init = setup_nsec3, .fini = teardown);

Test(dnssec_nsec3, positive)
{
	positive_checks();
}

Test(dnssec_nsec3, truncation)
{
	truncation_checks(true);
}

Test(dnssec_nsec3, nxdomain)
{
	ldns_pkt *p = ask_do("nothere.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	expect_soa(p, "ex.test.", 300);
	/* RFC 5155 §7.2.2: CE (apex) matches; next closer and *.ex.test covered */
	cr_assert_eq(fx_nsec3(p, "ex.test.", "ex.test.", IT, SALT, true), 1);
	cr_assert_eq(fx_nsec3(p, "nothere.ex.test.", "ex.test.", IT, SALT, false), 1);
	cr_assert_eq(fx_nsec3(p, "*.ex.test.", "ex.test.", IT, SALT, false), 1);
	cr_assert_leq(n_auth(p, LDNS_RR_TYPE_NSEC3), 3, "no duplicates");
	ldns_rr *q = NULL;
	cr_assert_eq(ldns_rr_new_question_frm_str(&q, "nothere.ex.test. IN A", NULL, NULL),
	             LDNS_STATUS_OK);
	ldns_rr_list *sigs = sigs_of(p), *n3 = auth_of(p, LDNS_RR_TYPE_NSEC3);
	cr_assert_eq(ldns_dnssec_verify_denial_nsec3(q, n3, sigs, LDNS_RCODE_NXDOMAIN,
	                                             LDNS_RR_TYPE_A, true),
	             LDNS_STATUS_OK);
	ldns_rr_list_free(sigs);
	ldns_rr_list_free(n3);
	ldns_rr_free(q);
	ldns_pkt_free(p);

	/* closest encloser an ENT several labels down; next closer one label below it */
	p = ask_do("x.y.b.c.deep.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	cr_assert_eq(fx_nsec3(p, "b.c.deep.ex.test.", "ex.test.", IT, SALT, true), 1);
	cr_assert_eq(fx_nsec3(p, "y.b.c.deep.ex.test.", "ex.test.", IT, SALT, false), 1);
	cr_assert_eq(fx_nsec3(p, "*.b.c.deep.ex.test.", "ex.test.", IT, SALT, false), 1);
	ldns_pkt_free(p);
}

Test(dnssec_nsec3, nodata)
{
	ldns_pkt *p = ask_do("www.ex.test.", LDNS_RR_TYPE_MX, 0, 0);
	cr_assert_eq(fx_nsec3(p, "www.ex.test.", "ex.test.", IT, SALT, true), 1);
	cr_assert_eq(n_auth(p, LDNS_RR_TYPE_NSEC3), 1);
	expect_soa(p, "ex.test.", 300);
	ldns_pkt_free(p);

	/* ENT: NSEC3 matching the ENT (RFC 5155 §7.2.3) */
	p = ask_do("c.deep.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(fx_nsec3(p, "c.deep.ex.test.", "ex.test.", IT, SALT, true), 1);
	cr_assert_eq(n_auth(p, LDNS_RR_TYPE_NSEC3), 1);
	ldns_pkt_free(p);

	/* DS at an insecure delegation without opt-out: its own NSEC3 */
	p = ask_do("insec.ex.test.", LDNS_RR_TYPE_DS, 0, 0);
	cr_assert_eq(fx_nsec3(p, "insec.ex.test.", "ex.test.", IT, SALT, true), 1);
	ldns_pkt_free(p);
}

Test(dnssec_nsec3, wildcard)
{
	/* RFC 5155 §7.2.6: NSEC3 covering the next closer name */
	ldns_pkt *p = ask_do("foo.wild.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(fx_count(p, AN, "foo.wild.ex.test.", LDNS_RR_TYPE_A), 1);
	cr_assert_eq(fx_nsec3(p, "foo.wild.ex.test.", "ex.test.", IT, SALT, false), 1);
	cr_assert_eq(n_auth(p, LDNS_RR_TYPE_NSEC3), 1);
	ldns_pkt_free(p);

	/* two labels below: next closer is a.b.wild, not the query name */
	p = ask_do("a.b.wild.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(fx_nsec3(p, "b.wild.ex.test.", "ex.test.", IT, SALT, false), 1);
	ldns_pkt_free(p);

	/* RFC 5155 §7.2.5: wildcard NODATA: CE proof + NSEC3 matching the wildcard */
	p = ask_do("foo.wild.ex.test.", LDNS_RR_TYPE_MX, 0, 0);
	cr_assert_eq(fx_nsec3(p, "wild.ex.test.", "ex.test.", IT, SALT, true), 1);
	cr_assert_eq(fx_nsec3(p, "foo.wild.ex.test.", "ex.test.", IT, SALT, false), 1);
	cr_assert_eq(fx_nsec3(p, "*.wild.ex.test.", "ex.test.", IT, SALT, true), 1);
	/* with these hashes the NSEC3 of wild.ex.test also covers foo.wild: sent once */
	cr_assert_leq(n_auth(p, LDNS_RR_TYPE_NSEC3), 3);
	ldns_pkt_free(p);
}

Test(dnssec_nsec3, cross_zone_nxdomain_uses_target_zone)
{
	/* alias.other.test → www.ex.test exists; xz → host.other.test; here a miss in child */
	ldns_pkt *p = ask_do("nope.child.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	expect_soa(p, "child.ex.test.", 300);
	cr_assert_eq(fx_nsec3(p, "child.ex.test.", "child.ex.test.", 0, NULL, true), 1);
	cr_assert_eq(fx_nsec3(p, "nope.child.ex.test.", "child.ex.test.", 0, NULL, false), 1);
	ldns_pkt_free(p);
}

/* ---- NSEC3 opt-out (dnssec-signzone -A: insec.ex.test has no NSEC3) ---------------------- */

TestSuite(dnssec_optout, .init = setup_optout, .fini = teardown);

Test(dnssec_optout, ds_at_optout_delegation)
{
	/* RFC 5155 §7.2.4: no NSEC3 matches insec → closest encloser proof (apex matches,
	 * next closer insec.ex.test covered by an opt-out NSEC3) */
	ldns_pkt *p = ask_do("insec.ex.test.", LDNS_RR_TYPE_DS, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(fx_n(p, AN), 0);
	expect_soa(p, "ex.test.", 300);
	cr_assert_eq(fx_nsec3(p, "insec.ex.test.", "ex.test.", 0, NULL, true), 0);
	cr_assert_eq(fx_nsec3(p, "ex.test.", "ex.test.", 0, NULL, true), 1);
	cr_assert_eq(fx_nsec3(p, "insec.ex.test.", "ex.test.", 0, NULL, false), 1);
	ldns_rr_list *l = ldns_pkt_authority(p);
	bool optout = false;
	for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_NSEC3 && ldns_nsec3_optout(rr))
			optout = true;
	}
	cr_assert(optout, "the covering NSEC3 should carry the opt-out flag");
	ldns_pkt_free(p);
}

Test(dnssec_optout, secure_delegation_still_matched)
{
	ldns_pkt *p = ask_do("sub.ex.test.", LDNS_RR_TYPE_DS, 0, 0);
	cr_assert_eq(fx_count(p, AN, "sub.ex.test.", LDNS_RR_TYPE_DS), 1);
	ldns_pkt_free(p);
	p = ask_do("nothere.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	cr_assert_eq(fx_nsec3(p, "ex.test.", "ex.test.", 0, NULL, true), 1);
	cr_assert_eq(fx_nsec3(p, "nothere.ex.test.", "ex.test.", 0, NULL, false), 1);
	cr_assert_eq(fx_nsec3(p, "*.ex.test.", "ex.test.", 0, NULL, false), 1);
	ldns_pkt_free(p);
}

Test(dnssec_optout, positive)
{
	positive_checks();
}
