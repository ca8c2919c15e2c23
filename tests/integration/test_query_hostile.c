/* Hostile queries to a running fedenumd over UDP and TCP (docs/security.md Q2–Q5): malformed names
 * and questions, compression attacks, EDNS and TSIG abuse. Each gets the answer the catalogue
 * names, with the query's ID, and the daemon keeps answering normal queries afterwards. */
#include <criterion/criterion.h>
#include <ldns/ldns.h>
#include <signal.h>
#include <unistd.h>

#include "../server/test_answer_msg.h"
#include "fe_test.h"

#define ZONE FE_TEST_SRC "/tests/server/data/ex.test.nsec3.signed"

static struct fe_test_daemon d;

static void start(void)
{
	const char *argv[] = {"--zone", ZONE, NULL};
	cr_assert_eq(fe_test_daemon_start(&d, NULL, argv), 0, "fedenumd did not start");
}

static void stop(void)
{
	if (d.pid > 0)
		cr_expect_eq(fe_test_daemon_stop(&d), 0, "fedenumd exit status");
}

TestSuite(query_hostile, .init = start, .fini = stop, .timeout = 60);

/* Send over UDP or TCP, return the parsed answer (NULL: none). */
static ldns_pkt *exchange(const struct msg *m, bool tcp)
{
	static uint8_t resp[65536];
	ssize_t n;
	if (tcp) {
		int fd = fe_test_tcp_connect(d.host, d.port);
		cr_assert_geq(fd, 0, "connect");
		uint8_t buf[2050];
		buf[0] = (uint8_t)(m->n >> 8);
		buf[1] = (uint8_t)m->n;
		memcpy(buf + 2, m->b, m->n);
		cr_assert_eq(fe_test_write_all(fd, buf, m->n + 2), 0);
		n = fe_test_tcp_read_msg(fd, resp, sizeof(resp), 2000);
		close(fd);
	} else {
		n = fe_test_udp_raw(d.host, d.port, m->b, m->n, resp, sizeof(resp), 2000);
	}
	if (n <= 0)
		return NULL;
	cr_assert_geq(n, 12);
	cr_assert_eq(resp[0], m->b[0], "ID not copied");
	cr_assert_eq(resp[1], m->b[1], "ID not copied");
	ldns_pkt *p = NULL;
	cr_assert_eq(ldns_wire2pkt(&p, resp, (size_t)n), LDNS_STATUS_OK, "answer does not parse");
	return p;
}

static void expect(const struct msg *m, ldns_pkt_rcode rc, const char *what)
{
	for (int tcp = 0; tcp <= 1; tcp++) {
		ldns_pkt *p = exchange(m, tcp);
		cr_assert_not_null(p, "%s (%s): no answer", what, tcp ? "tcp" : "udp");
		cr_assert_eq(ldns_pkt_get_rcode(p), rc, "%s (%s): rcode %d, want %d", what,
		             tcp ? "tcp" : "udp", ldns_pkt_get_rcode(p), rc);
		cr_assert(ldns_pkt_qr(p));
		cr_assert_eq(ldns_rr_list_rr_count(ldns_pkt_answer(p)), 0, "%s: data in an error",
		             what);
		ldns_pkt_free(p);
	}
}

/* The daemon still answers a normal query. */
static void still_serving(void)
{
	ldns_pkt *p = fe_test_query(d.host, d.port, "www.ex.test.", LDNS_RR_TYPE_A, FE_TQ_DO, 0);
	cr_assert_not_null(p, "daemon stopped answering");
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(ldns_rr_list_rr_count(ldns_pkt_answer(p)), 2); /* A + RRSIG */
	ldns_pkt_free(p);
	cr_assert(fe_test_daemon_alive(&d));
}

Test(query_hostile, q2_names_and_questions)
{
	struct msg m;
	msg_header(&m, 0x0100, 1, 0, 0, 0);
	for (int l = 0; l < 4; l++) {
		msg_put8(&m, 63);
		for (int i = 0; i < 63; i++)
			msg_put8(&m, 'q');
	}
	msg_put8(&m, 0);
	msg_put16(&m, 1);
	msg_put16(&m, 1);
	expect(&m, LDNS_RCODE_FORMERR, "QNAME of 257 octets");

	msg_header(&m, 0x0100, 1, 0, 0, 0);
	msg_put8(&m, 64);
	for (int i = 0; i < 64; i++)
		msg_put8(&m, 'x');
	msg_put8(&m, 0);
	msg_put16(&m, 1);
	msg_put16(&m, 1);
	expect(&m, LDNS_RCODE_FORMERR, "64-octet label");

	msg_header(&m, 0x0100, 2, 0, 0, 0);
	msg_question(&m, "www.ex.test.", 1);
	msg_question(&m, "mail.ex.test.", 1);
	expect(&m, LDNS_RCODE_FORMERR, "two questions");

	msg_header(&m, 0x0100, 2, 0, 0, 0);
	msg_question(&m, "www.ex.test.", 1);
	msg_question(&m, "www.ex.test.", 1);
	expect(&m, LDNS_RCODE_FORMERR, "duplicate question");
	still_serving();
}

Test(query_hostile, q3_compression)
{
	struct msg m;
	msg_header(&m, 0x0100, 1, 0, 0, 0);
	msg_put8(&m, 0xC0);
	msg_put8(&m, 12);
	msg_put16(&m, 1);
	msg_put16(&m, 1);
	expect(&m, LDNS_RCODE_FORMERR, "QNAME pointing to itself");

	msg_header(&m, 0x0100, 1, 0, 0, 1);
	msg_question(&m, "www.ex.test.", 1);
	size_t at = m.n;
	msg_put8(&m, 0xC0);
	msg_put8(&m, (unsigned)(at + 4));
	msg_put16(&m, 1);
	msg_put16(&m, 1);
	msg_put32(&m, 0);
	msg_put16(&m, 0);
	expect(&m, LDNS_RCODE_FORMERR, "forward pointer");

	msg_header(&m, 0x0100, 1, 0, 0, 1);
	msg_question(&m, "www.ex.test.", 1);
	msg_put8(&m, 0xC0);
	expect(&m, LDNS_RCODE_FORMERR, "pointer as the last octet");

	msg_header(&m, 0x0100, 1, 0, 0, 1);
	msg_question(&m, "www.ex.test.", 1);
	at = m.n;
	msg_put8(&m, 0xC0);
	msg_put8(&m, (unsigned)at);
	msg_put16(&m, 1);
	msg_put16(&m, 1);
	msg_put32(&m, 0);
	msg_put16(&m, 0);
	expect(&m, LDNS_RCODE_FORMERR, "pointer loop");
	still_serving();
}

Test(query_hostile, q4_edns)
{
	struct msg m;
	msg_header(&m, 0x0100, 1, 0, 0, 2);
	msg_question(&m, "www.ex.test.", 1);
	msg_opt(&m, 0, NULL, 0);
	msg_opt(&m, 0, NULL, 0);
	expect(&m, LDNS_RCODE_FORMERR, "two OPT RRs");

	msg_header(&m, 0x0100, 1, 0, 0, 1);
	msg_question(&m, "www.ex.test.", 1);
	msg_name(&m, "ex.test.");
	msg_put16(&m, 41);
	msg_put16(&m, 1232);
	msg_put32(&m, 0);
	msg_put16(&m, 0);
	expect(&m, LDNS_RCODE_FORMERR, "OPT owner not the root");

	static const uint8_t two_nsid[] = {0, 3, 0, 0, 0, 3, 0, 0};
	msg_header(&m, 0x0100, 1, 0, 0, 1);
	msg_question(&m, "www.ex.test.", 1);
	msg_opt(&m, 0, two_nsid, sizeof(two_nsid));
	expect(&m, LDNS_RCODE_FORMERR, "duplicate EDNS option");

	/* RFC 6891 §6.1.3: BADVERS, i.e. extended rcode 1 in our OPT, header rcode 0 */
	msg_header(&m, 0x0100, 1, 0, 0, 1);
	msg_question(&m, "www.ex.test.", 1);
	msg_opt(&m, 1, NULL, 0);
	for (int tcp = 0; tcp <= 1; tcp++) {
		ldns_pkt *p = exchange(&m, tcp);
		cr_assert_not_null(p);
		cr_assert(ldns_pkt_edns(p), "BADVERS without OPT");
		cr_assert_eq(ldns_pkt_edns_extended_rcode(p), 1);
		cr_assert_eq(ldns_pkt_get_rcode(p), 0);
		cr_assert_eq(ldns_pkt_edns_version(p), 0);
		ldns_pkt_free(p);
	}
	still_serving();
}

Test(query_hostile, q5_tsig)
{
	struct msg m;
	msg_header(&m, 0x0100, 1, 0, 0, 2);
	msg_question(&m, "www.ex.test.", 1);
	msg_tsig(&m, 255);
	msg_opt(&m, 0, NULL, 0);
	expect(&m, LDNS_RCODE_FORMERR, "TSIG not last");

	msg_header(&m, 0x0100, 1, 0, 0, 1);
	msg_question(&m, "www.ex.test.", 1);
	msg_tsig(&m, 1);
	expect(&m, LDNS_RCODE_FORMERR, "TSIG class IN");

	msg_header(&m, 0x0100, 1, 0, 0, 2);
	msg_question(&m, "www.ex.test.", 1);
	msg_tsig(&m, 255);
	msg_tsig(&m, 255);
	expect(&m, LDNS_RCODE_FORMERR, "two TSIG RRs");
	still_serving();
}

Test(query_hostile, errors_are_counted)
{
	struct msg m;
	msg_header(&m, 0x0100, 2, 0, 0, 0);
	msg_question(&m, "www.ex.test.", 1);
	msg_question(&m, "www.ex.test.", 1);
	expect(&m, LDNS_RCODE_FORMERR, "two questions"); /* 2 FORMERR (udp + tcp) */
	msg_header(&m, 0x0100, 1, 0, 0, 1);
	msg_question(&m, "www.ex.test.", 1);
	msg_opt(&m, 1, NULL, 0);
	ldns_pkt_free(exchange(&m, false)); /* 1 BADVERS */
	cr_assert_eq(kill(d.pid, SIGUSR1), 0);
	for (int i = 0; i < 50 && fe_test_daemon_log_count(&d, "counters (SIGUSR1)") == 0; i++)
		usleep(100000);
	cr_assert_eq(fe_test_daemon_log_count(&d, "formerr=2 "), 1, "FORMERR counter");
	cr_assert_eq(fe_test_daemon_log_count(&d, "badvers=1 "), 1, "BADVERS counter");
}
