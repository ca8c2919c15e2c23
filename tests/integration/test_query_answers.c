/* Answers of a running fedenumd over the wire: REFUSED outside the held zones (docs/security.md
 * Q7), truncation of a large DNSSEC answer over UDP and the full answer over TCP (Q9), and a few
 * answer-engine semantics end to end (NSEC3 denial, wildcard, cross-zone CNAME, SERVFAIL
 * below a delegation we do not hold). */
#include <criterion/criterion.h>
#include <ldns/ldns.h>
#include <signal.h>
#include <unistd.h>

#include "fe_test.h"

#define DATA FE_TEST_SRC "/tests/server/data/"

static struct fe_test_daemon d;

static void start(void)
{
	const char *argv[] = {
	        "--zone", DATA "ex.test.nsec3.signed", "--zone", DATA "other.test.signed",
	        "--zone", DATA "child.ex.test.signed", NULL};
	cr_assert_eq(fe_test_daemon_start(&d, NULL, argv), 0, "fedenumd did not start");
}

static void stop(void)
{
	if (d.pid > 0)
		cr_expect_eq(fe_test_daemon_stop(&d), 0, "fedenumd exit status");
}

TestSuite(query_answers, .init = start, .fini = stop, .timeout = 60);

static ldns_pkt *ask(const char *name, ldns_rr_type type, unsigned flags, uint16_t bufsize)
{
	ldns_pkt *p = fe_test_query(d.host, d.port, name, type, flags, bufsize);
	cr_assert_not_null(p, "no answer to %s", name);
	cr_assert(ldns_pkt_qr(p));
	cr_assert(ldns_pkt_ra(p), "RA=1 expected");
	cr_assert(!ldns_pkt_aa(p), "AA=0 expected");
	return p;
}

static size_t count(ldns_rr_list *l, ldns_rr_type type)
{
	size_t n = 0;
	for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++)
		n += ldns_rr_get_type(ldns_rr_list_rr(l, i)) == type;
	return n;
}

static size_t total(ldns_pkt *p)
{
	return ldns_rr_list_rr_count(ldns_pkt_answer(p)) +
	       ldns_rr_list_rr_count(ldns_pkt_authority(p)) +
	       ldns_rr_list_rr_count(ldns_pkt_additional(p));
}

Test(query_answers, q7_refused_outside_every_zone)
{
	const char *names[] = {"www.example.org.", "test.", ".", "1.5.5.5.1.e164.arpa."};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		for (unsigned tcp = 0; tcp <= FE_TQ_TCP; tcp += FE_TQ_TCP) {
			ldns_pkt *p = ask(names[i], LDNS_RR_TYPE_NAPTR, tcp | FE_TQ_DO, 0);
			cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED, "%s", names[i]);
			cr_assert_eq(total(p), 0, "no data with REFUSED");
			cr_assert_eq(ldns_pkt_qdcount(p), 1);
			ldns_pkt_free(p);
		}
	}
	cr_assert_eq(kill(d.pid, SIGUSR1), 0);
	for (int i = 0; i < 50 && fe_test_daemon_log_count(&d, "counters (SIGUSR1)") == 0; i++)
		usleep(100000);
	cr_assert_eq(fe_test_daemon_log_count(&d, "out_of_zone=8 "), 1, "OUT_OF_ZONE counter");
}

Test(query_answers, q9_truncation_udp_full_tcp)
{
	/* 8 TXT of ~95 octets + RRSIG, DO=1, EDNS 512 */
	ldns_pkt *p = ask("big.ex.test.", LDNS_RR_TYPE_TXT, FE_TQ_DO, 512);
	cr_assert(ldns_pkt_tc(p), "TC=1 expected over UDP with EDNS 512");
	cr_assert_leq(ldns_pkt_size(p), 512);
	cr_assert_eq(ldns_rr_list_rr_count(ldns_pkt_answer(p)), 0, "no partial RRset");
	ldns_pkt_free(p);

	p = ask("big.ex.test.", LDNS_RR_TYPE_TXT, FE_TQ_DO | FE_TQ_TCP, 512);
	cr_assert(!ldns_pkt_tc(p));
	cr_assert_eq(count(ldns_pkt_answer(p), LDNS_RR_TYPE_TXT), 8);
	cr_assert_eq(count(ldns_pkt_answer(p), LDNS_RR_TYPE_RRSIG), 1);
	ldns_pkt_free(p);

	/* an NSEC3 denial is required data too */
	p = ask("no.such.name.ex.test.", LDNS_RR_TYPE_NAPTR, FE_TQ_DO, 512);
	cr_assert(ldns_pkt_tc(p));
	ldns_pkt_free(p);
	p = ask("no.such.name.ex.test.", LDNS_RR_TYPE_NAPTR, FE_TQ_DO | FE_TQ_TCP, 512);
	cr_assert(!ldns_pkt_tc(p));
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	cr_assert_eq(count(ldns_pkt_authority(p), LDNS_RR_TYPE_NSEC3), 3);
	ldns_pkt_free(p);

	/* with the default buffer it fits */
	p = ask("big.ex.test.", LDNS_RR_TYPE_TXT, FE_TQ_DO, 1232);
	cr_assert(!ldns_pkt_tc(p));
	cr_assert_eq(count(ldns_pkt_answer(p), LDNS_RR_TYPE_TXT), 8);
	ldns_pkt_free(p);
}

Test(query_answers, semantics_end_to_end)
{
	/* NAPTR with its RRSIG; mixed-case QNAME echoed as sent */
	ldns_pkt *p = ask("1.0.0.0.0.0.2.5.5.5.1.Ex.TEST.", LDNS_RR_TYPE_NAPTR, FE_TQ_DO, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(count(ldns_pkt_answer(p), LDNS_RR_TYPE_NAPTR), 1);
	cr_assert_eq(count(ldns_pkt_answer(p), LDNS_RR_TYPE_RRSIG), 1);
	char *qn = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(p), 0)));
	cr_assert_str_eq(qn, "1.0.0.0.0.0.2.5.5.5.1.Ex.TEST.");
	free(qn);
	ldns_pkt_free(p);

	/* NXDOMAIN with SOA (TTL = MINIMUM) and the NSEC3 closest-encloser proof */
	p = ask("9.9.9.9.9.9.2.5.5.5.1.ex.test.", LDNS_RR_TYPE_NAPTR, FE_TQ_DO | FE_TQ_TCP, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	cr_assert_eq(count(ldns_pkt_authority(p), LDNS_RR_TYPE_SOA), 1);
	cr_assert_eq(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_authority(p), 0)), 300);
	cr_assert_geq(count(ldns_pkt_authority(p), LDNS_RR_TYPE_NSEC3), 2);
	ldns_pkt_free(p);

	/* wildcard, cross-zone CNAME */
	p = ask("anything.wild.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(count(ldns_pkt_answer(p), LDNS_RR_TYPE_A), 1);
	ldns_pkt_free(p);
	p = ask("xz.ex.test.", LDNS_RR_TYPE_A, FE_TQ_DO, 0);
	cr_assert_eq(count(ldns_pkt_answer(p), LDNS_RR_TYPE_CNAME), 1);
	cr_assert_eq(count(ldns_pkt_answer(p), LDNS_RR_TYPE_A), 1);
	cr_assert_eq(count(ldns_pkt_answer(p), LDNS_RR_TYPE_RRSIG), 2);
	ldns_pkt_free(p);

	/* below a delegation we do not hold: SERVFAIL, never a referral; DS from the parent */
	p = ask("host.sub.ex.test.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
	cr_assert_eq(total(p), 0);
	ldns_pkt_free(p);
	p = ask("sub.ex.test.", LDNS_RR_TYPE_DS, FE_TQ_DO, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(count(ldns_pkt_answer(p), LDNS_RR_TYPE_DS), 1);
	ldns_pkt_free(p);

	/* SRV with its targets' addresses in the additional section */
	p = ask("_sip._udp.ims.ex.test.", LDNS_RR_TYPE_SRV, 0, 0);
	cr_assert_eq(count(ldns_pkt_answer(p), LDNS_RR_TYPE_SRV), 2);
	cr_assert_eq(count(ldns_pkt_additional(p), LDNS_RR_TYPE_A), 2);
	cr_assert_eq(count(ldns_pkt_additional(p), LDNS_RR_TYPE_AAAA), 1);
	ldns_pkt_free(p);
}
