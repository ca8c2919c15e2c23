/* A hostile primary against a fedenumd secondary (docs/security.md X2-X7, X9): a primary
 * played by this test (a thread on loopback, TSIG hmac-sha256) first gives serial 1 by AXFR,
 * then announces serial 5 and answers the transfer with one attack per scenario. For each:
 * the refresh fails with its reason in the log (or, for an IXFR whose differences do not
 * apply, falls back to an AXFR that fails too), and serial 1 keeps serving, whole. And the
 * secondary killed in the middle of a slow transfer restarts with serial 1 whole. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fe_test.h"
#include "fedenum/tsig.h"
#include "fedenum/util.h"

#define KEY    "xfr-peer.test."
#define SECRET "Ut6y2zK8J0m2qv8j6I0g9bC2i0k4yD2H7n3o5q1w8e4="
#define OTHER  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define ZONE   "xfr.test."
#define WAIT_S 30

enum attack {
	GOOD_SERIAL_1 = 0,
	OTHER_KEY,       /* X4: every answer signed with a key we do not share */
	STALE_TIME,      /* time signed an hour ago: BADTIME */
	REPLAYED_ANSWER, /* the signed answer of an earlier exchange, sent again */
	TRUNCATED_MAC,   /* X2: MAC cut to 16 of 32 octets */
	LAST_UNSIGNED,   /* X3: the last message unsigned */
	UNSIGNED_100,    /* X3: 100 unsigned messages in a row */
	ENDS_EARLY,      /* X5: closed before the final SOA */
	WRONG_LAST_SOA,  /* X5: the closing SOA is not the opening one */
	ID_CHANGES,      /* X5: the second message has another ID */
	WRONG_QUESTION,  /* X5: the second message asks another question */
	ENDLESS,         /* X6: records without end */
	IXFR_SOA_OWNER,  /* X7: an SOA of another owner inside the IXFR */
	IXFR_ABSENT,     /* X7: removes a record the zone does not hold (then a cut AXFR) */
	IXFR_ORDER,      /* X7: sequences out of order (then a cut AXFR) */
	SLOW,            /* X9: serial 5 in 300 messages, 20 ms apart (the secondary is killed) */
	GOOD_SERIAL_5,   /* serial 5, whole */
};

static struct {
	int lfd;
	uint16_t port;
	struct fe_tsig_keyring *kr;
	struct fe_tsig_key *other;
	enum attack att;
	pthread_t th;
	uint8_t saved[4096]; /* a signed answer of an earlier exchange (REPLAYED_ANSWER) */
	size_t saved_len;
	int sent; /* atomic: messages of the SLOW transfer sent so far */
} P;

static char tmp[256];
static struct fe_test_daemon sec;

/* Checks in the primary's thread (Criterion's asserts belong to the test's own thread). */
#define MUST(c)                                                             \
	do {                                                                \
		if (!(c)) {                                                 \
			fprintf(stderr, "primary thread: %s failed\n", #c); \
			abort();                                            \
		}                                                           \
	} while (0)

/* One answer message to query @q: ID and question of @q (or @qtype other than asked), QR AA,
 * the RRs of @rrs (presentation form, ";"-separated); wire into @out. */
static size_t build(const uint8_t *q, size_t qlen, const char *rrs, uint16_t id_xor,
                    bool other_question, uint8_t *out, size_t cap)
{
	ldns_pkt *qp = NULL;
	MUST(ldns_wire2pkt(&qp, q, qlen) == LDNS_STATUS_OK);
	ldns_pkt *p = ldns_pkt_new();
	ldns_pkt_set_id(p, (uint16_t)(ldns_pkt_id(qp) ^ id_xor));
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_aa(p, true);
	ldns_rr *qr = ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(qp), 0));
	if (other_question)
		ldns_rr_set_type(qr, LDNS_RR_TYPE_A);
	ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, qr);
	char buf[8192];
	snprintf(buf, sizeof(buf), "%s", rrs);
	for (char *save = NULL, *t = strtok_r(buf, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
		ldns_rr *rr = NULL;
		MUST(ldns_rr_new_frm_str(&rr, t, 300, NULL, NULL) == LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	}
	uint8_t *w = NULL;
	size_t n = 0;
	MUST(ldns_pkt2wire(&w, p, &n) == LDNS_STATUS_OK);
	MUST(n <= cap);
	memcpy(out, w, n);
	free(w);
	ldns_pkt_free(p);
	ldns_pkt_free(qp);
	return n;
}

#define SOA(s) ZONE " 300 IN SOA ns1." ZONE " host." ZONE " " #s " 7200 900 1209600 300"
#define BODY(s)                                                                             \
	ZONE " 300 IN NS ns1." ZONE ";ns1." ZONE " 300 IN A 127.0.0.1;a." ZONE " 300 IN A " \
	     "192.0.2." #s

/* Sign @m (through @ts, unless NULL) and send it; false once the secondary hung up. */
static bool send_msg(int c, struct fe_tsig_stream *ts, uint8_t *m, size_t *n, bool sign,
                     const struct fe_tsig_sign_opts *so)
{
	uint8_t out[8192 + 2];
	if (ts)
		MUST(fe_tsig_stream_sign(ts, m, n, 8192, sign, so) == FE_OK);
	out[0] = (uint8_t)(*n >> 8);
	out[1] = (uint8_t)*n;
	memcpy(out + 2, m, *n);
	return send(c, out, *n + 2, MSG_NOSIGNAL) == (ssize_t)(*n + 2);
}

/* The transfer (AXFR or IXFR) as the current attack plays it. */
static void serve_transfer(int c, const uint8_t *q, size_t ql, uint16_t qtype,
                           const struct fe_tsig_result *res)
{
	uint8_t m[8192];
	size_t n;
	struct fe_tsig_sign_opts so;
	fe_tsig_sign_opts_init(&so);
	const struct fe_tsig_key *k = P.att == OTHER_KEY ? P.other : res->key;
	if (P.att == STALE_TIME)
		so.time_signed = (int64_t)time(NULL) - 3600;
	if (P.att == TRUNCATED_MAC)
		so.mac_len = 16;
	struct fe_tsig_stream *ts = NULL;
	MUST(fe_tsig_stream_create(k, res->mac, res->mac_len, &ts) == FE_OK);
	/* an IXFR (serial 1 is held) gets the same attacks, in AXFR form, but for the IXFR ones */
	switch (P.att) {
	case GOOD_SERIAL_1:
	case GOOD_SERIAL_5:
	case OTHER_KEY:
	case STALE_TIME:
	case TRUNCATED_MAC: {
		unsigned s = P.att == GOOD_SERIAL_1 ? 1 : 5;
		char rrs[1024];
		snprintf(rrs, sizeof(rrs), "%s",
		         s == 1 ? SOA(1) ";" BODY(1) ";" SOA(1) : SOA(5) ";" BODY(5) ";" SOA(5));
		n = build(q, ql, rrs, 0, false, m, sizeof(m));
		send_msg(c, ts, m, &n, true, &so);
		if (P.att == GOOD_SERIAL_1 && n <= sizeof(P.saved)) { /* for REPLAYED_ANSWER */
			memcpy(P.saved, m, n);
			P.saved_len = n;
		}
		break;
	}
	case REPLAYED_ANSWER: {
		uint8_t out[4096 + 2];
		memcpy(out + 2, P.saved, P.saved_len);
		out[0] = (uint8_t)(P.saved_len >> 8), out[1] = (uint8_t)P.saved_len;
		out[2] = q[0], out[3] = q[1]; /* the ID of this query: only the MAC is old */
		(void)!send(c, out, P.saved_len + 2, MSG_NOSIGNAL);
		break;
	}
	case LAST_UNSIGNED:
	case UNSIGNED_100: {
		n = build(q, ql, SOA(5) ";" BODY(5), 0, false, m, sizeof(m));
		send_msg(c, ts, m, &n, true, NULL);
		for (int i = 0; i < (P.att == UNSIGNED_100 ? 100 : 0); i++) {
			/* unsigned, and not through the signer (it refuses a 100th) */
			n = build(q, ql, "t." ZONE " 300 IN TXT x", 0, false, m, sizeof(m));
			if (!send_msg(c, NULL, m, &n, false, NULL))
				break;
		}
		n = build(q, ql, SOA(5), 0, false, m, sizeof(m));
		if (P.att == LAST_UNSIGNED)
			send_msg(c, ts, m, &n, false, NULL);
		break;
	}
	case ENDS_EARLY:
	case WRONG_LAST_SOA:
	case ID_CHANGES:
	case WRONG_QUESTION:
		n = build(q, ql, SOA(5) ";" BODY(5), 0, false, m, sizeof(m));
		send_msg(c, ts, m, &n, true, NULL);
		if (P.att == ENDS_EARLY)
			break;
		n = build(q, ql, P.att == WRONG_LAST_SOA ? SOA(4) : SOA(5),
		          P.att == ID_CHANGES ? 0x5555 : 0, P.att == WRONG_QUESTION, m, sizeof(m));
		send_msg(c, ts, m, &n, true, NULL);
		break;
	case SLOW:
		n = build(q, ql, SOA(5) ";" BODY(5), 0, false, m, sizeof(m));
		send_msg(c, ts, m, &n, true, NULL);
		for (int i = 0; i < 300; i++) {
			char rr[128];
			snprintf(rr, sizeof(rr), "s%d." ZONE " 300 IN TXT x", i);
			n = build(q, ql, rr, 0, false, m, sizeof(m));
			if (!send_msg(c, ts, m, &n, true, NULL))
				break;
			__atomic_add_fetch(&P.sent, 1, __ATOMIC_RELAXED);
			usleep(20000);
		}
		n = build(q, ql, SOA(5), 0, false, m, sizeof(m));
		send_msg(c, ts, m, &n, true, NULL);
		break;
	case ENDLESS:
		n = build(q, ql, SOA(5) ";" BODY(5), 0, false, m, sizeof(m));
		send_msg(c, ts, m, &n, true, NULL);
		for (int i = 0; i < 100000; i++) { /* until the secondary hangs up */
			char rrs[4096];
			size_t o = 0;
			for (int j = 0; j < 50; j++)
				o += (size_t)snprintf(rrs + o, sizeof(rrs) - o,
				                      "%st%d-%d." ZONE " 300 IN TXT x",
				                      j ? ";" : "", i, j);
			n = build(q, ql, rrs, 0, false, m, sizeof(m));
			if (!send_msg(c, ts, m, &n, true, NULL))
				break;
		}
		break;
	case IXFR_SOA_OWNER:
		n = build(q, ql,
		          SOA(5) ";" SOA(1) ";a." ZONE " 300 IN A 192.0.2.1;other.test. 300 IN SOA "
		                            "ns1." ZONE " host." ZONE
		                            " 5 7200 900 1209600 300;" SOA(5),
		          0, false, m, sizeof(m));
		send_msg(c, ts, m, &n, true, NULL);
		break;
	case IXFR_ABSENT:
	case IXFR_ORDER:
		if (qtype == LDNS_RR_TYPE_AXFR) { /* the fallback: cut after the first SOA */
			n = build(q, ql, SOA(5), 0, false, m, sizeof(m));
			send_msg(c, ts, m, &n, true, NULL);
			break;
		}
		n = build(q, ql,
		          P.att == IXFR_ABSENT
		                  ? SOA(5) ";" SOA(1) ";b." ZONE
		                                      " 300 IN A 192.0.2.99;" SOA(5) ";" SOA(5)
		                  : SOA(5) ";" SOA(1) ";" SOA(3) ";" SOA(2) ";" SOA(5) ";" SOA(5),
		          0, false, m, sizeof(m));
		send_msg(c, ts, m, &n, true, NULL);
		break;
	}
	fe_tsig_stream_destroy(ts);
}

static void *primary_run(void *arg)
{
	(void)arg;
	for (int conn = 0; conn < 200; conn++) {
		int c = accept(P.lfd, NULL, NULL);
		if (c < 0)
			return NULL;
		uint8_t q[1024];
		ssize_t n = fe_test_tcp_read_msg(c, q, sizeof(q), 5000);
		struct fe_tsig_result res;
		if (n > 12 && fe_tsig_verify_request(q, (size_t)n, P.kr, NULL, &res) == FE_OK) {
			size_t qe = 12;
			while (qe < (size_t)n && q[qe])
				qe += q[qe] + 1u;
			uint16_t qtype = (uint16_t)(q[qe + 1] << 8 | q[qe + 2]);
			if (qtype == LDNS_RR_TYPE_SOA) {
				uint8_t m[1024];
				size_t len = build(q, (size_t)n,
				                   P.att == GOOD_SERIAL_1 ? SOA(1) : SOA(5), 0,
				                   false, m, sizeof(m));
				struct fe_tsig_stream *ts = NULL;
				MUST(fe_tsig_stream_create(res.key, res.mac, res.mac_len, &ts) ==
				     FE_OK);
				send_msg(c, ts, m, &len, true, NULL);
				fe_tsig_stream_destroy(ts);
			} else {
				serve_transfer(c, q, (size_t)n, qtype, &res);
			}
		}
		close(c);
	}
	return NULL;
}

static void stop_all(void)
{
	if (sec.pid > 0) /* a clean exit: no sanitizer report, no leak */
		cr_expect_eq(fe_test_daemon_stop(&sec), 0, "fedenumd exit status");
	if (P.lfd > 0) {
		shutdown(P.lfd, SHUT_RDWR);
		close(P.lfd);
		pthread_join(P.th, NULL);
	}
	fe_tsig_keyring_destroy(P.kr);
	fe_tsig_key_destroy(P.other);
	if (tmp[0])
		fe_test_rmdir(tmp);
	tmp[0] = '\0';
}

static void setup(void)
{
	memset(&sec, 0, sizeof(sec));
	memset(&P, 0, sizeof(P));
	fe_test_mkdtemp(tmp, sizeof(tmp));
	char keyfile[300];
	snprintf(keyfile, sizeof(keyfile), "%s/peer.key", tmp);
	cr_assert_eq(fe_test_write_tsig_key(keyfile, KEY, SECRET), 0);
	struct fe_tsig_key *k = NULL;
	cr_assert_eq(fe_tsig_key_from_string("hmac-sha256:" KEY ":" SECRET, &k), FE_OK);
	cr_assert_eq(fe_tsig_keyring_create(&P.kr), FE_OK);
	cr_assert_eq(fe_tsig_keyring_add(P.kr, k), FE_OK);
	cr_assert_eq(fe_tsig_key_from_string("hmac-sha256:" KEY ":" OTHER, &P.other), FE_OK);
	P.lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t al = sizeof(a);
	cr_assert_eq(bind(P.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(P.lfd, 8), 0);
	cr_assert_eq(getsockname(P.lfd, (struct sockaddr *)&a, &al), 0);
	P.port = ntohs(a.sin_port);
	cr_assert_eq(pthread_create(&P.th, NULL, primary_run, NULL), 0);
}

TestSuite(xfrin_hostile, .init = setup, .fini = stop_all, .timeout = 240);

/* The secondary (in <tmp>/sec, kept), xfr.max-records 20000. */
static void start_secondary(void)
{
	char conf[300], dir[300];
	snprintf(dir, sizeof(dir), "%s/sec", tmp);
	cr_assert_eq(fe_test_sh("mkdir -p '%s'", dir), 0);
	snprintf(conf, sizeof(conf), "%s/secondary.conf", tmp);
	FILE *f = fopen(conf, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "xfr = {\n  tsig-keys = [ \"peer.key\" ];\n  secondary = [ \"" ZONE
	        "@127.0.0.1@%u\" ];\n  max-records = 20000;\n};\n",
	        P.port);
	fclose(f);
	const char *argv[] = {"-c", conf, "--log-level", "debug", NULL};
	cr_assert_eq(fe_test_daemon_start(&sec, dir, argv), 0);
}

/* Serial 1, then each attack of @atts in turn (a restart refreshes at once): the refresh
 * fails with @why[i] and serial 1 keeps serving. */
static void run(const enum attack *atts, const char *const *why, size_t n)
{
	P.att = GOOD_SERIAL_1;
	start_secondary();
	cr_assert(fe_test_wait_answer(sec.port, "a." ZONE, "A", "192.0.2.1", WAIT_S),
	          "serial 1 not transferred");
	cr_assert_eq(fe_test_daemon_stop(&sec), 0, "fedenumd exit status");
	for (size_t i = 0; i < n; i++) {
		P.att = atts[i];
		int before = fe_test_daemon_log_count(&sec, why[i]);
		int failed = fe_test_daemon_log_count(&sec, "the stored version keeps serving");
		start_secondary();
		if (!fe_test_daemon_wait_log(&sec, why[i], before + 1, WAIT_S) ||
		    !fe_test_daemon_wait_log(&sec, "the stored version keeps serving", failed + 1,
		                             WAIT_S)) {
			fe_test_sh("tail -20 '%s'", sec.log_path);
			cr_assert_fail("attack %zu: no \"%s\"", i, why[i]);
		}
		cr_assert(fe_test_wait_answer(sec.port, "a." ZONE, "A", "192.0.2.1", WAIT_S),
		          "attack %zu: serial 1 lost", i);
		cr_assert(fe_test_wait_answer(sec.port, ZONE, "SOA", " 1 7200 ", WAIT_S),
		          "attack %zu: not serial 1", i);
		cr_assert_eq(fe_test_daemon_log_count(&sec, "serial 1 -> 5, "), 0,
		             "a forged version was taken");
		cr_assert_eq(fe_test_daemon_stop(&sec), 0, "fedenumd exit status");
	}
}

Test(xfrin_hostile, forged_or_stale_tsig_on_the_answers)
{
	static const enum attack a[] = {OTHER_KEY, STALE_TIME, REPLAYED_ANSWER, TRUNCATED_MAC};
	static const char *const why[] = {
	        "TSIG of message 1 does not verify",
	        "TSIG of message 1 does not verify",
	        "TSIG of message 1 does not verify",
	        "TSIG of message 1 does not verify",
	};
	run(a, why, 4);
}

Test(xfrin_hostile, unsigned_messages_in_the_stream)
{
	static const enum attack a[] = {LAST_UNSIGNED, UNSIGNED_100};
	static const char *const why[] = {"the last message is not signed",
	                                  "TSIG of message 101 does not verify"};
	run(a, why, 2);
}

Test(xfrin_hostile, broken_stream)
{
	static const enum attack a[] = {ENDS_EARLY, WRONG_LAST_SOA, ID_CHANGES, WRONG_QUESTION,
	                                ENDLESS};
	static const char *const why[] = {
	        "connection closed by the primary after 1 messages",
	        "the last SOA (serial 4) is not the first (5)",
	        "a message that is not the answer (ID or QR)",
	        "message 2: not the question asked",
	        "more than 20000 records (limit)",
	};
	run(a, why, 5);
}

Test(xfrin_hostile, broken_ixfr)
{
	static const enum attack a[] = {IXFR_SOA_OWNER, IXFR_ABSENT, IXFR_ORDER};
	static const char *const why[] = {
	        "an SOA outside the apex",
	        "IXFR not applicable (zone xfr.test.: change set: removing b.xfr.test. type 1: not "
	        "in the stored version",
	        "IXFR not applicable (the IXFR's sequences are out of order (serial 2 after 3)",
	};
	run(a, why, 3);
	/* the fallback AXFRs were cut: nothing half applied */
	cr_assert_eq(fe_test_daemon_log_count(&sec, "falling back to AXFR"), 2);
	cr_assert_geq(fe_test_daemon_log_count(&sec, "connection closed by the primary"), 2);
}

/* THREATS X9 for a fedenumd secondary: killed (SIGKILL) in the middle of a transfer, it
 * restarts on its store serving the complete previous version, none of the new data; then it
 * takes the new version whole. */
Test(xfrin_hostile, kill9_mid_transfer_keeps_the_old_zone)
{
	P.att = GOOD_SERIAL_1;
	start_secondary();
	cr_assert(fe_test_wait_answer(sec.port, "a." ZONE, "A", "192.0.2.1", WAIT_S));
	cr_assert_eq(fe_test_daemon_stop(&sec), 0, "fedenumd exit status");
	P.att = SLOW;
	start_secondary();
	for (int i = 0; i < 400 && __atomic_load_n(&P.sent, __ATOMIC_RELAXED) < 10; i++)
		usleep(50000);
	cr_assert_geq(__atomic_load_n(&P.sent, __ATOMIC_RELAXED), 10, "the transfer did not start");
	fe_test_daemon_kill9(&sec);
	cr_assert_lt(__atomic_load_n(&P.sent, __ATOMIC_RELAXED), 300, "the transfer had ended");

	/* the primary has nothing newer now: what the restart serves is what the store held */
	P.att = GOOD_SERIAL_1;
	start_secondary();
	cr_assert(fe_test_wait_answer(sec.port, ZONE, "SOA", " 1 7200 ", WAIT_S));
	cr_assert(fe_test_wait_answer(sec.port, "a." ZONE, "A", "192.0.2.1", WAIT_S));
	cr_assert(fe_test_wait_answer(sec.port, "ns1." ZONE, "A", "127.0.0.1", WAIT_S));
	cr_assert_neq(fe_test_sh("kdig @127.0.0.1 -p %u +short +timeout=1 s0." ZONE
	                         " TXT | grep -q x",
	                         sec.port),
	              0, "data of the killed transfer is served");
	cr_assert_eq(fe_test_daemon_log_count(&sec, "serial 1 -> 5, "), 0,
	             "a forged version was taken");
	cr_assert_eq(fe_test_daemon_stop(&sec), 0, "fedenumd exit status");

	P.att = GOOD_SERIAL_5;
	start_secondary();
	cr_assert(fe_test_wait_answer(sec.port, "a." ZONE, "A", "192.0.2.5", WAIT_S),
	          "serial 5 not taken after the restart");
	cr_assert(fe_test_wait_answer(sec.port, ZONE, "SOA", " 5 7200 ", WAIT_S));
}
