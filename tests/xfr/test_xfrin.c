/* fe_xfrin_run (src/xfr/xfrin.c) against a scripted primary in a thread, on loopback: the
 * checks of docs/security.md X3-X7 one by one, and IXFR applied to the held file (and the
 * AXFR fallback when its differences do not apply). Each scenario lists the messages the
 * primary sends for a transfer, tokens "S<n>" (the apex SOA, serial n) and "A<n>" (apex A
 * 192.0.2.n); a message starting with "u" goes unsigned. The SOA query is always answered
 * with serial 5, signed. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fedenum/tsig.h"
#include "fedenum/util.h"
#include "fedenum/xfr.h"

#define KEY    "xfr-peer.test."
#define SECRET "Ut6y2zK8J0m2qv8j6I0g9bC2i0k4yD2H7n3o5q1w8e4="
#define OTHER  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

struct scen {
	const char *axfr[4]; /* messages answering AXFR (NULL-terminated) */
	const char *ixfr[4]; /* messages answering IXFR */
	bool bad_id;         /* answers carry another ID */
	bool other_key;      /* answers signed with another secret */
};

static struct {
	int lfd;
	struct sockaddr_in addr;
	struct fe_tsig_keyring *kr;
	struct fe_tsig_key *other;
	const struct scen *sc;
	pthread_t th;
	char dir[64];
} P;

static bool read_n(int fd, uint8_t *b, size_t n)
{
	size_t got = 0;
	while (got < n) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 3000) <= 0)
			return false;
		ssize_t r = read(fd, b + got, n - got);
		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

static size_t put_rr(uint8_t *m, size_t n, const char *tok)
{
	uint32_t v = (uint32_t)strtoul(tok + 1, NULL, 10);
	m[n++] = 0xc0, m[n++] = 12; /* the question's name: the apex */
	m[n++] = 0, m[n++] = tok[0] == 'S' ? 6 : 1;
	m[n++] = 0, m[n++] = 1, m[n++] = 0, m[n++] = 0, m[n++] = 1, m[n++] = 44;
	if (tok[0] == 'A') {
		m[n++] = 0, m[n++] = 4, m[n++] = 192, m[n++] = 0, m[n++] = 2, m[n++] = (uint8_t)v;
		return n;
	}
	m[n++] = 0, m[n++] = 22, m[n++] = 0, m[n++] = 0;
	uint32_t f[5] = {v, 7200, 900, 1209600, 300};
	for (int i = 0; i < 5; i++) {
		m[n++] = (uint8_t)(f[i] >> 24), m[n++] = (uint8_t)(f[i] >> 16);
		m[n++] = (uint8_t)(f[i] >> 8), m[n++] = (uint8_t)f[i];
	}
	return n;
}

static void serve_one(int c)
{
	uint8_t q[1024], m[4096 + 2];
	if (!read_n(c, q, 2))
		return;
	size_t ql = (size_t)q[0] << 8 | q[1];
	if (ql > sizeof(q) || !read_n(c, q, ql))
		return;
	struct fe_tsig_result res;
	if (fe_tsig_verify_request(q, ql, P.kr, NULL, &res) != FE_OK)
		return;
	size_t qend = 12;
	while (q[qend])
		qend += q[qend] + 1u;
	uint16_t qtype = (uint16_t)(q[qend + 1] << 8 | q[qend + 2]);
	qend += 5;
	static const char *const soa[] = {"S5", NULL};
	const char *const *msgs = qtype == 6 ? soa : qtype == 251 ? P.sc->ixfr : P.sc->axfr;
	const struct fe_tsig_key *key = P.sc->other_key && qtype != 6 ? P.other : res.key;
	struct fe_tsig_stream *ts = NULL;
	cr_assert_eq(fe_tsig_stream_create(key, res.mac, res.mac_len, &ts), FE_OK);
	for (int i = 0; i < 4 && msgs[i]; i++) {
		uint8_t *b = m + 2;
		memcpy(b, q, 12);
		if (P.sc->bad_id && qtype != 6)
			b[1] ^= 0x55;
		b[2] = 0x84, b[3] = 0;
		size_t n = 12, an = 0;
		b[4] = 0, b[5] = 1, b[8] = b[9] = b[10] = b[11] = 0;
		memcpy(b + 12, q + 12, qend - 12); /* every message repeats the question */
		n = qend;
		char buf[128];
		snprintf(buf, sizeof(buf), "%s", msgs[i]);
		bool sign = buf[0] != 'u';
		for (char *t = strtok(sign ? buf : buf + 1, " "); t; t = strtok(NULL, " ")) {
			n = put_rr(b, n, t);
			an++;
		}
		b[6] = (uint8_t)(an >> 8), b[7] = (uint8_t)an;
		/* an unsigned first message: not through the signer, which signs every first */
		if (sign || i > 0)
			cr_assert_eq(fe_tsig_stream_sign(ts, b, &n, 4096, sign, NULL), FE_OK);
		m[0] = (uint8_t)(n >> 8), m[1] = (uint8_t)n;
		if (write(c, m, n + 2) != (ssize_t)(n + 2))
			break;
	}
	fe_tsig_stream_destroy(ts);
}

static int stop; /* atomic */

static void *primary(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		struct pollfd p = {.fd = P.lfd, .events = POLLIN};
		if (poll(&p, 1, 50) <= 0)
			continue;
		int c = accept(P.lfd, NULL, NULL);
		if (c < 0)
			return NULL;
		serve_one(c);
		close(c);
	}
	return NULL;
}

static void setup(void)
{
	memset(&P, 0, sizeof(P));
	struct fe_tsig_key *k = NULL;
	cr_assert_eq(fe_tsig_key_from_string("hmac-sha256:" KEY ":" SECRET, &k), FE_OK);
	cr_assert_eq(fe_tsig_keyring_create(&P.kr), FE_OK);
	cr_assert_eq(fe_tsig_keyring_add(P.kr, k), FE_OK);
	cr_assert_eq(fe_tsig_key_from_string("hmac-sha256:" KEY ":" OTHER, &P.other), FE_OK);
	P.lfd = socket(AF_INET, SOCK_STREAM, 0);
	P.addr.sin_family = AF_INET;
	P.addr.sin_addr.s_addr = htonl(0x7f000001);
	socklen_t al = sizeof(P.addr);
	cr_assert_eq(bind(P.lfd, (struct sockaddr *)&P.addr, sizeof(P.addr)), 0);
	cr_assert_eq(getsockname(P.lfd, (struct sockaddr *)&P.addr, &al), 0);
	cr_assert_eq(listen(P.lfd, 8), 0);
	snprintf(P.dir, sizeof(P.dir), "/tmp/fe_xfrin_XXXXXX");
	cr_assert_not_null(mkdtemp(P.dir));
}

static void teardown(void)
{
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	if (P.th)
		pthread_join(P.th, NULL);
	close(P.lfd);
	fe_tsig_keyring_destroy(P.kr);
	fe_tsig_key_destroy(P.other);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", P.dir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(xfrin, .init = setup, .fini = teardown, .timeout = 30);

/* One refresh against scenario @sc; @held: the serial held (0: none), its file @base_text. */
static int run(const struct scen *sc, uint32_t held, const char *base_text,
               const struct fe_xfrin_opts *extra, struct fe_xfrin_result *res)
{
	P.sc = sc;
	cr_assert_eq(pthread_create(&P.th, NULL, primary, NULL), 0);
	char base[128], out[128];
	snprintf(base, sizeof(base), "%s/base.zone", P.dir);
	snprintf(out, sizeof(out), "%s/out.zone", P.dir);
	if (base_text) {
		FILE *f = fopen(base, "w");
		cr_assert_not_null(f);
		fputs(base_text, f);
		fclose(f);
	}
	struct fe_xfrin_opts o = {.apex = "xfr.test.", .max_time_ms = 5000};
	if (extra)
		o = *extra;
	memcpy(&o.primary, &P.addr, sizeof(P.addr));
	o.primary_len = sizeof(P.addr);
	o.key = fe_tsig_keyring_get(P.kr, 0);
	o.has_serial = held != 0;
	o.serial = held;
	int rc = fe_xfrin_run(&o, base_text ? base : NULL, out, res);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(P.th, NULL);
	P.th = 0;
	stop = 0;
	return rc;
}

static bool out_has(const char *pattern)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "grep -q -- '%s' '%s/out.zone'", pattern, P.dir);
	return system(cmd) == 0;
}

#define BASE1 "xfr.test. 300 IN SOA . . 1 7200 900 1209600 300\nxfr.test. 300 IN A 192.0.2.1\n"

Test(xfrin, axfr_in_two_messages_is_written_whole)
{
	struct scen sc = {.axfr = {"S5 A1", "A2 S5"}};
	struct fe_xfrin_result r;
	cr_assert_eq(run(&sc, 0, NULL, NULL, &r), FE_OK, "%s", r.err);
	cr_assert_eq(r.kind, FE_XFRIN_AXFR);
	cr_assert_eq(r.serial, 5);
	cr_assert_eq(r.messages, 2);
	cr_assert(out_has("192.0.2.1") && out_has("192.0.2.2") && out_has("SOA"));
	cr_assert_eq(r.refresh_s, 7200);
	cr_assert_eq(r.expire_s, 1209600);
}

Test(xfrin, up_to_date_serial_transfers_nothing)
{
	struct scen sc = {.axfr = {"S5 A1 S5"}};
	struct fe_xfrin_result r;
	cr_assert_eq(run(&sc, 5, BASE1, NULL, &r), FE_OK, "%s", r.err);
	cr_assert_eq(r.kind, FE_XFRIN_UPTODATE);
}

Test(xfrin, ixfr_applied_to_the_held_file)
{
	struct scen sc = {.ixfr = {"S5 S1 A1 S5", "A5 S5"}};
	struct fe_xfrin_result r;
	cr_assert_eq(run(&sc, 1, BASE1, NULL, &r), FE_OK, "%s", r.err);
	cr_assert_eq(r.kind, FE_XFRIN_IXFR);
	cr_assert_eq(r.serial, 5);
	cr_assert(out_has("192.0.2.5"));
	cr_assert(!out_has("192.0.2.1"), "the removed A is still there");
	cr_assert(out_has("SOA.* 5 7200"));
}

Test(xfrin, ixfr_that_does_not_apply_falls_back_to_axfr) /* X7 */
{
	struct scen sc = {.ixfr = {"S5 S1 A9 S5 A5 S5"}, .axfr = {"S5 A7 S5"}};
	struct fe_xfrin_result r;
	cr_assert_eq(run(&sc, 1, BASE1, NULL, &r), FE_OK, "%s", r.err);
	cr_assert_eq(r.kind, FE_XFRIN_AXFR);
	cr_assert(out_has("192.0.2.7") && !out_has("192.0.2.1"));
}

Test(xfrin, ixfr_in_axfr_form_is_the_whole_zone)
{
	struct scen sc = {.ixfr = {"S5 A3 S5"}};
	struct fe_xfrin_result r;
	cr_assert_eq(run(&sc, 1, BASE1, NULL, &r), FE_OK, "%s", r.err);
	cr_assert_eq(r.kind, FE_XFRIN_AXFR);
	cr_assert(out_has("192.0.2.3") && !out_has("192.0.2.1"));
}

Test(xfrin, last_soa_other_than_the_first_fails) /* X7 */
{
	struct scen sc = {.axfr = {"S5 A1 S6"}};
	struct fe_xfrin_result r;
	cr_assert_eq(run(&sc, 0, NULL, NULL, &r), FE_EFORMAT);
	cr_assert(strstr(r.err, "last SOA"), "%s", r.err);
}

Test(xfrin, first_record_not_soa_fails) /* X7 */
{
	struct scen sc = {.axfr = {"A1 S5"}};
	struct fe_xfrin_result r;
	cr_assert_eq(run(&sc, 0, NULL, NULL, &r), FE_EFORMAT, "%s", r.err);
}

Test(xfrin, records_after_the_final_soa_fail) /* X7 */
{
	struct scen sc = {.axfr = {"S5 A1 S5 A2"}};
	struct fe_xfrin_result r;
	cr_assert_eq(run(&sc, 0, NULL, NULL, &r), FE_EFORMAT);
	cr_assert(strstr(r.err, "after the final SOA"), "%s", r.err);
}

Test(xfrin, cut_short_fails) /* X5 */
{
	struct scen sc = {.axfr = {"S5 A1"}};
	struct fe_xfrin_result r;
	cr_assert_eq(run(&sc, 0, NULL, NULL, &r), FE_EIO);
	cr_assert(strstr(r.err, "connection closed"), "%s", r.err);
}

Test(xfrin, unsigned_last_message_fails) /* X3 */
{
	struct scen sc = {.axfr = {"S5 A1", "uA2 S5"}};
	struct fe_xfrin_result r;
	cr_assert_eq(run(&sc, 0, NULL, NULL, &r), FE_EPERM);
	cr_assert(strstr(r.err, "last message is not signed"), "%s", r.err);
}

Test(xfrin, unsigned_middle_message_is_accepted) /* RFC 8945 §5.3.1 */
{
	struct scen sc = {.axfr = {"S5 A1", "uA2", "A3 S5"}};
	struct fe_xfrin_result r;
	cr_assert_eq(run(&sc, 0, NULL, NULL, &r), FE_OK, "%s", r.err);
	cr_assert(out_has("192.0.2.2"));
}

Test(xfrin, unsigned_first_message_fails) /* X3 */
{
	struct scen sc = {.axfr = {"uS5 A1", "A2 S5"}};
	struct fe_xfrin_result r;
	cr_assert_eq(run(&sc, 0, NULL, NULL, &r), FE_EPERM);
	cr_assert(strstr(r.err, "TSIG of message 1"), "%s", r.err);
}

Test(xfrin, bad_mac_fails) /* X4 */
{
	struct scen sc = {.axfr = {"S5 A1 S5"}, .other_key = true};
	struct fe_xfrin_result r;
	cr_assert_eq(run(&sc, 0, NULL, NULL, &r), FE_EPERM);
	cr_assert(strstr(r.err, "does not verify"), "%s", r.err);
}

Test(xfrin, other_message_id_fails) /* X4 */
{
	struct scen sc = {.axfr = {"S5 A1 S5"}, .bad_id = true};
	struct fe_xfrin_result r;
	cr_assert_eq(run(&sc, 0, NULL, NULL, &r), FE_EFORMAT);
	cr_assert(strstr(r.err, "ID or QR"), "%s", r.err);
}

Test(xfrin, record_and_size_limits) /* X6 */
{
	struct scen sc = {.axfr = {"S5 A1 A2 A3 S5"}};
	struct fe_xfrin_result r;
	struct fe_xfrin_opts o = {.apex = "xfr.test.", .max_time_ms = 5000, .max_rrs = 3};
	cr_assert_eq(run(&sc, 0, NULL, &o, &r), FE_ERANGE);
	cr_assert(strstr(r.err, "records (limit)"), "%s", r.err);
	o.max_rrs = 0;
	o.max_bytes = 100;
	cr_assert_eq(run(&sc, 0, NULL, &o, &r), FE_ERANGE);
	cr_assert(strstr(r.err, "octets (limit)"), "%s", r.err);
}

/* ---- IXFR handed over as one change set (fe_xfrin_opts.apply) ---------------------- */

struct applied {
	int calls;
	int answer; /* what the callback returns */
	uint32_t from, to;
	char removed[256], added[256]; /* "S1 A1" */
};

static void describe(const struct fe_xfrin_rr *rr, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n && o + 16 < cap; i++) {
		unsigned v = rr[i].type == 6 ? (unsigned)(rr[i].rdata[rr[i].rdlen - 20] << 24 |
		                                          rr[i].rdata[rr[i].rdlen - 19] << 16 |
		                                          rr[i].rdata[rr[i].rdlen - 18] << 8 |
		                                          rr[i].rdata[rr[i].rdlen - 17])
		                             : rr[i].rdata[3];
		o += (size_t)snprintf(out + o, cap - o, "%s%c%u", o ? " " : "",
		                      rr[i].type == 6 ? 'S' : 'A', v);
	}
}

static int apply_cb(void *arg, const struct fe_xfrin_delta *d, char *why, size_t cap)
{
	struct applied *a = arg;
	a->calls++;
	a->from = d->serial_from;
	a->to = d->serial_to;
	describe(d->removed, d->removed_count, a->removed, sizeof(a->removed));
	describe(d->added, d->added_count, a->added, sizeof(a->added));
	snprintf(why, cap, "callback said %d", a->answer);
	return a->answer;
}

/* Two sequences (1 -> 3 -> 5): one net change set; A3 and S3 cancel out. No file needed. */
Test(xfrin, ixfr_sequences_folded_into_one_change_set)
{
	struct scen sc = {.ixfr = {"S5 S1 A1 S3 A3", "S3 A3 S5 A5 S5"}};
	struct applied a = {.answer = FE_OK};
	struct fe_xfrin_opts o = {
	        .apex = "xfr.test.", .max_time_ms = 5000, .apply = apply_cb, .apply_arg = &a};
	struct fe_xfrin_result r;
	cr_assert_eq(run(&sc, 1, NULL, &o, &r), FE_OK, "%s", r.err);
	cr_assert_eq(r.kind, FE_XFRIN_IXFR);
	cr_assert_eq(r.serial, 5);
	cr_assert_eq(a.calls, 1);
	cr_assert_eq(a.from, 1);
	cr_assert_eq(a.to, 5);
	/* in no particular order */
	cr_assert(strcmp(a.removed, "A1 S1") == 0 || strcmp(a.removed, "S1 A1") == 0, "%s",
	          a.removed);
	cr_assert(strcmp(a.added, "A5 S5") == 0 || strcmp(a.added, "S5 A5") == 0, "%s", a.added);
}

/* The callback's verdict: FE_EVALIDATE fails the refresh (no AXFR); anything else → AXFR. */
Test(xfrin, change_set_rejected_or_too_complex)
{
	struct scen sc = {.ixfr = {"S5 S1 A1 S5 A5 S5"}, .axfr = {"S5 A5 S5"}};
	struct applied a = {.answer = FE_EVALIDATE};
	struct fe_xfrin_opts o = {
	        .apex = "xfr.test.", .max_time_ms = 5000, .apply = apply_cb, .apply_arg = &a};
	struct fe_xfrin_result r;
	cr_assert_eq(run(&sc, 1, NULL, &o, &r), FE_EVALIDATE);
	cr_assert_not_null(strstr(r.err, "callback said"), "%s", r.err);
	a = (struct applied){.answer = FE_ENOTSUP};
	cr_assert_eq(run(&sc, 1, NULL, &o, &r), FE_OK, "%s", r.err);
	cr_assert_eq(a.calls, 1);
	cr_assert_eq(r.kind, FE_XFRIN_AXFR);
	cr_assert(out_has("192.0.2.5"));
}
