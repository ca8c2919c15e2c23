/* Request pipeline over the network (src/server/pipeline.c, frame.c) with the real answer
 * engine over an empty store (every ordinary query is answered REFUSED: out of zone):
 *  - a test-only transfer handler, registered through fe_server_opts.transfer, streams
 *    10,000 messages (about 5.6 MB) for one AXFR to a client that reads slowly: every
 *    message arrives, in order, the connection's buffers stay within the output limit, and
 *    other clients (UDP and TCP) keep being answered meanwhile by the same single worker;
 *  - a stream to a client that stops reading ends with the idle timeout, and the handler's
 *    stream is closed;
 *  - the policy hooks: before (RCODE, DROP), tsig, after; and the defaults (no hooks):
 *    AXFR REFUSED, TSIG NOTAUTH. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fedenum/server.h"
#include "fedenum/store.h"
#include "fedenum/util.h"

/* Internal (src/server/net_int.h): heap bytes of the worst TCP connection's framing. */
size_t fe__server_tcp_mem_peak(struct fe_server *srv);

#define T_AXFR      252
#define T_IXFR      251
#define T_NAPTR     35
#define STREAM_MSGS 10000u
#define TXT_BYTES   510u /* two character-strings of 255 octets */

static char dir[256];
static struct fe_store *st;
static struct fe_server *srv;
static struct fe_listen_addr v4 = {"127.0.0.1", 0};

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	fe_log_set_level(FE_LOG_ERR);
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/fedenum-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	cr_assert_not_null(mkdtemp(dir));
	struct fe_store_opts so = {.no_sync = true, .map_size_bytes = 64u << 20};
	cr_assert_eq(fe_store_open(dir, &so, &st), FE_OK);
}

static void teardown(void)
{
	fe_server_stop(srv, 300);
	srv = NULL;
	fe_store_close(st);
	st = NULL;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static void start(struct fe_server_opts *o)
{
	o->listen = &v4;
	o->listen_count = 1;
	o->workers = 1; /* the stream and the other clients share one event loop */
	cr_assert_eq(fe_server_start(st, o, &srv), FE_OK);
}

static uint64_t counter(enum fe_counter c)
{
	uint64_t v[FE_CNT__MAX];
	fe_server_counters(srv, v);
	return v[c];
}

/* ---- the test-only transfer handler ----------------------------------------------- */

struct tstream {
	uint16_t id;
	uint8_t question[FE_WIRE_NAME_MAX + 4];
	size_t qlen;
	uint32_t seq;
};

static atomic_uint opens, closes;
static atomic_uint worker_seen; /* bit per worker index that ran a hook */

static int t_open(void *state, const struct fe_server_request *req, void **stream)
{
	(void)state;
	cr_assert_eq(req->transport, FE_TRANSPORT_TCP);
	cr_assert_not_null(req->q);
	cr_assert(req->q->qtype == T_AXFR || req->q->qtype == T_IXFR);
	struct tstream *s = calloc(1, sizeof(*s));
	if (!s)
		return FE_ENOMEM;
	s->id = req->q->id;
	s->qlen = req->q->question_end - FE_WIRE_HDR_LEN;
	cr_assert_leq(s->qlen, sizeof(s->question));
	memcpy(s->question, req->msg + FE_WIRE_HDR_LEN, s->qlen);
	atomic_fetch_add(&opens, 1);
	atomic_fetch_or(&worker_seen, 1u << req->worker);
	*stream = s;
	return FE_OK;
}

/* Message @seq: header, the question, one TXT RR whose text starts with the number. */
static int t_next(void *state, void *stream, uint8_t *buf, size_t cap, size_t *len)
{
	(void)state;
	struct tstream *s = stream;
	if (s->seq == STREAM_MSGS) {
		*len = 0;
		return FE_OK;
	}
	size_t need = FE_WIRE_HDR_LEN + s->qlen + 12 + 2 + TXT_BYTES;
	cr_assert_leq(need, cap);
	memset(buf, 0, FE_WIRE_HDR_LEN);
	fe_put_be16(buf, s->id);
	fe_put_be16(buf + 2, 0x8400); /* QR, AA */
	fe_put_be16(buf + 4, 1);
	fe_put_be16(buf + 6, 1);
	size_t n = FE_WIRE_HDR_LEN;
	memcpy(buf + n, s->question, s->qlen);
	n += s->qlen;
	static const uint8_t rr[] = {0xc0, 0x0c, 0, 16, 0, 1, 0, 0, 0, 0};
	memcpy(buf + n, rr, sizeof(rr));
	n += sizeof(rr);
	fe_put_be16(buf + n, TXT_BYTES + 2);
	n += 2;
	for (int k = 0; k < 2; k++) {
		buf[n++] = 255;
		memset(buf + n, 'x', 255);
		if (k == 0)
			snprintf((char *)buf + n, 11, "%010u", s->seq);
		n += 255;
	}
	cr_assert_eq(n, need);
	s->seq++;
	*len = n;
	return FE_OK;
}

static void t_close(void *state, void *stream)
{
	(void)state;
	free(stream);
	atomic_fetch_add(&closes, 1);
}

static const struct fe_server_stream_handler transfer = {
        .open = t_open, .next = t_next, .close = t_close};

/* ---- client helpers --------------------------------------------------------------- */

static size_t make_query(uint16_t id, const char *label, uint16_t qtype, bool tsig, uint8_t *out)
{
	memset(out, 0, FE_WIRE_HDR_LEN);
	fe_put_be16(out, id);
	fe_put_be16(out + 4, 1); /* QDCOUNT */
	size_t n = FE_WIRE_HDR_LEN;
	size_t l = strlen(label);
	out[n++] = (uint8_t)l;
	memcpy(out + n, label, l);
	n += l;
	memcpy(out + n, "\7example\0", 9);
	n += 9;
	fe_put_be16(out + n, qtype);
	fe_put_be16(out + n + 2, 1);
	n += 4;
	if (tsig) {
		/* RFC 8945 §4.2: key., TSIG, class ANY, TTL 0, hmac-sha256, empty MAC. */
		static const uint8_t rr[] = {3,   'k', 'e', 'y', 0,   0,   250, 0,   255, 0,   0,
		                             0,   0,   0,   29,  11,  'h', 'm', 'a', 'c', '-', 's',
		                             'h', 'a', '2', '5', '6', 0,   0,   0,   0,   0,   0,
		                             1,   1,   44,  0,   0,   0,   0,   0,   0,   0,   0};
		memcpy(out + n, rr, sizeof(rr));
		n += sizeof(rr);
		fe_put_be16(out + 10, 1); /* ARCOUNT */
	}
	return n;
}

static size_t make_frame(uint16_t id, const char *label, uint16_t qtype, uint8_t *out)
{
	size_t n = make_query(id, label, qtype, false, out + 2);
	fe_put_be16(out, (uint16_t)n);
	return n + 2;
}

static int tcp_client(uint16_t port, int rcvbuf)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(fd, 0);
	if (rcvbuf)
		cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static int udp_client(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_geq(fd, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
		cr_assert_gt(w, 0, "send: %s", strerror(errno));
		p += w;
		len -= (size_t)w;
	}
}

/* 1: got @len bytes; 0: peer closed; -1: timeout. */
static int read_exact(int fd, uint8_t *buf, size_t len, int timeout_ms)
{
	uint64_t deadline = fe_time_mono_ms() + (uint64_t)timeout_ms;
	size_t got = 0;
	while (got < len) {
		uint64_t now = fe_time_mono_ms();
		if (now >= deadline)
			return -1;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, (int)(deadline - now)) <= 0)
			return -1;
		ssize_t r = recv(fd, buf + got, len - got, 0);
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return 0;
		if (r < 0)
			continue;
		got += (size_t)r;
	}
	return 1;
}

static ssize_t read_msg(int fd, uint8_t *buf, size_t cap, int timeout_ms)
{
	uint8_t lb[2];
	int r = read_exact(fd, lb, 2, timeout_ms);
	if (r <= 0)
		return r;
	size_t len = fe_get_be16(lb);
	cr_assert_leq(len, cap);
	r = read_exact(fd, buf, len, timeout_ms);
	return r <= 0 ? r : (ssize_t)len;
}

/* The rcode of the answer to one UDP query (-1: no answer within @timeout_ms). */
static int udp_ask(uint16_t port, uint16_t id, const char *label, uint16_t qtype, bool tsig,
                   int timeout_ms)
{
	int fd = udp_client(port);
	uint8_t q[512], a[4096];
	size_t n = make_query(id, label, qtype, tsig, q);
	cr_assert_eq(send(fd, q, n, 0), (ssize_t)n);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int rcode = -1;
	if (poll(&p, 1, timeout_ms) == 1) {
		ssize_t r = recv(fd, a, sizeof(a), 0);
		if (r >= FE_WIRE_HDR_LEN && fe_get_be16(a) == id && (a[2] & 0x80))
			rcode = a[3] & 0xf;
	}
	close(fd);
	return rcode;
}

/* The rcode of the answer to one query on TCP connection @fd. */
static int tcp_ask(int fd, uint16_t id, const char *label, uint16_t qtype)
{
	uint8_t q[512], a[65536];
	size_t n = make_frame(id, label, qtype, q);
	write_all(fd, q, n);
	ssize_t r = read_msg(fd, a, sizeof(a), 2000);
	if (r < FE_WIRE_HDR_LEN || fe_get_be16(a) != id)
		return -1;
	return a[3] & 0xf;
}

TestSuite(net_stream, .init = setup, .fini = teardown, .timeout = 120);

/* ---- streams ---------------------------------------------------------------------- */

Test(net_stream, ten_thousand_messages_to_a_slow_reader_in_order_bounded)
{
	struct fe_server_opts o = {.transfer = &transfer};
	start(&o);
	uint16_t port = fe_server_port(srv, 0);
	atomic_store(&opens, 0);
	atomic_store(&closes, 0);

	/* A small receive buffer keeps the kernel from swallowing the stream for us. */
	int fd = tcp_client(port, 16384);
	uint8_t q[1024];
	size_t n = make_frame(0x4242, "zone", T_AXFR, q);
	/* A second, ordinary query pipelined behind the AXFR: its answer comes after the
	 * whole stream (messages of a stream are never interleaved with other answers). */
	n += make_frame(0x4343, "after", T_NAPTR, q + n);
	write_all(fd, q, n);

	int other = tcp_client(port, 0);
	uint8_t *buf = malloc(65536);
	cr_assert_not_null(buf);
	uint64_t t0 = fe_time_mono_ms(), worst_other_ms = 0;
	unsigned others = 0;
	ssize_t r0 = 0;
	for (uint32_t seq = 0; seq < STREAM_MSGS; seq++) {
		ssize_t r = read_msg(fd, buf, 65536, 5000);
		cr_assert_gt(r, 0, "message %u: %zd", seq, r);
		r0 = r;
		cr_assert_eq(fe_get_be16(buf), 0x4242);
		cr_assert_eq(fe_get_be16(buf + 6), 1); /* ANCOUNT */
		char want[11];
		snprintf(want, sizeof(want), "%010u", seq);
		size_t txt = (size_t)r - (TXT_BYTES + 1);
		cr_assert_eq(memcmp(buf + txt, want, 10), 0, "message %u out of order", seq);
		if (seq % 8 == 7)
			usleep(1000); /* the slow reader: about 4 MB/s at best */
		if (seq % 1000 == 500) {
			/* Meanwhile, the same worker answers others at once. */
			uint64_t s = fe_time_mono_ms();
			cr_assert_eq(udp_ask(port, (uint16_t)seq, "u", T_NAPTR, false, 1000),
			             FE_RCODE_REFUSED);
			cr_assert_eq(tcp_ask(other, (uint16_t)seq, "t", T_NAPTR), FE_RCODE_REFUSED);
			uint64_t d = fe_time_mono_ms() - s;
			worst_other_ms = d > worst_other_ms ? d : worst_other_ms;
			others++;
		}
	}
	uint64_t dt = fe_time_mono_ms() - t0;
	ssize_t r = read_msg(fd, buf, 65536, 2000);
	cr_assert_gt(r, 0);
	cr_assert_eq(fe_get_be16(buf), 0x4343);
	cr_assert_eq(buf[3] & 0xf, FE_RCODE_REFUSED);
	/* The connection is still usable after its stream. */
	cr_assert_eq(tcp_ask(fd, 0x4444, "again", T_NAPTR), FE_RCODE_REFUSED);

	size_t peak = fe__server_tcp_mem_peak(srv);
	uint32_t max_out = 256u * 1024u; /* the default tcp_max_out_bytes */
	fprintf(stderr,
	        "stream: %u messages (%u bytes each) in %llu ms; others answered %u times, worst "
	        "%llu ms; connection peak %zu bytes\n",
	        STREAM_MSGS, (unsigned)(r0 + 2), (unsigned long long)dt, others,
	        (unsigned long long)worst_other_ms, peak);
	/* Input buffer plus two output buffers, each below the output limit. */
	cr_assert_leq(peak, 2u * max_out + 8192u, "peak %zu", peak);
	cr_assert_lt(worst_other_ms, 1000);
	cr_assert_eq(atomic_load(&opens), 1);
	cr_assert_eq(atomic_load(&closes), 1);
	cr_assert_eq(counter(FE_CNT_TCP_BAD_FRAME), 0);
	cr_assert_eq(counter(FE_CNT_TCP_BACKLOG_CLOSED), 0);
	free(buf);
	close(other);
	close(fd);
}

Test(net_stream, stream_to_a_client_that_stops_reading_ends_at_idle_timeout)
{
	struct fe_server_opts o = {.transfer = &transfer, .tcp_idle_timeout_ms = 300};
	start(&o);
	uint16_t port = fe_server_port(srv, 0);
	atomic_store(&opens, 0);
	atomic_store(&closes, 0);
	int fd = tcp_client(port, 4096);
	uint8_t q[512];
	size_t n = make_frame(7, "zone", T_AXFR, q);
	write_all(fd, q, n);
	uint64_t deadline = fe_time_mono_ms() + 5000;
	while (atomic_load(&closes) == 0 && fe_time_mono_ms() < deadline)
		usleep(10000);
	cr_assert_eq(atomic_load(&opens), 1);
	cr_assert_eq(atomic_load(&closes), 1, "the stream was not closed");
	cr_assert_geq(counter(FE_CNT_TCP_IDLE_CLOSED), 1);
	cr_assert_leq(fe__server_tcp_mem_peak(srv), 2u * 256u * 1024u + 8192u);
	/* Others are served as ever. */
	cr_assert_eq(udp_ask(port, 9, "u", T_NAPTR, false, 1000), FE_RCODE_REFUSED);
	close(fd);
}

Test(net_stream, server_stop_closes_a_running_stream)
{
	struct fe_server_opts o = {.transfer = &transfer};
	start(&o);
	atomic_store(&opens, 0);
	atomic_store(&closes, 0);
	int fd = tcp_client(fe_server_port(srv, 0), 4096);
	uint8_t q[512];
	write_all(fd, q, make_frame(7, "zone", T_AXFR, q));
	uint64_t deadline = fe_time_mono_ms() + 5000;
	while (atomic_load(&opens) == 0 && fe_time_mono_ms() < deadline)
		usleep(10000);
	fe_server_stop(srv, 100); /* the client never reads: drain time is up, then abort */
	srv = NULL;
	cr_assert_eq(atomic_load(&opens), 1);
	cr_assert_eq(atomic_load(&closes), 1);
	close(fd);
}

/* ---- defaults and policy hooks ---------------------------------------------------- */

Test(net_stream, no_hooks_refuse_transfers_and_tsig_as_before)
{
	struct fe_server_opts o = {0};
	start(&o);
	uint16_t port = fe_server_port(srv, 0);
	int fd = tcp_client(port, 0);
	cr_assert_eq(tcp_ask(fd, 1, "zone", T_AXFR), FE_RCODE_REFUSED);
	cr_assert_eq(tcp_ask(fd, 2, "zone", T_IXFR), FE_RCODE_REFUSED);
	cr_assert_eq(udp_ask(port, 3, "zone", T_AXFR, false, 1000), FE_RCODE_REFUSED);
	cr_assert_eq(udp_ask(port, 4, "n", T_NAPTR, true, 1000), FE_RCODE_NOTAUTH);
	close(fd);
}

Test(net_stream, transfer_handler_is_tcp_only)
{
	struct fe_server_opts o = {.transfer = &transfer};
	start(&o);
	atomic_store(&opens, 0);
	cr_assert_eq(udp_ask(fe_server_port(srv, 0), 3, "zone", T_AXFR, false, 1000),
	             FE_RCODE_REFUSED);
	cr_assert_eq(atomic_load(&opens), 0);
}

static atomic_uint befores, tsigs, afters;

static enum fe_server_verdict p_before(void *state, const struct fe_server_request *req,
                                       uint16_t *rcode)
{
	cr_assert_eq(state, &befores);
	cr_assert_not_null(req->q);
	cr_assert_not_null(req->reader);
	atomic_fetch_add(&befores, 1);
	if (req->q->qname_len > 5 && memcmp(req->q->qname, "\4deny", 5) == 0) {
		*rcode = FE_RCODE_NOTAUTH;
		return FE_SERVER_RCODE;
	}
	if (req->q->qname_len > 5 && memcmp(req->q->qname, "\4drop", 5) == 0)
		return FE_SERVER_DROP;
	return FE_SERVER_PASS;
}

static enum fe_server_verdict p_tsig(void *state, const struct fe_server_request *req,
                                     uint16_t *rcode)
{
	(void)state;
	atomic_fetch_add(&tsigs, 1);
	cr_assert(req->q->has_tsig);
	if (req->q->qname_len > 4 && memcmp(req->q->qname, "\3bad", 4) == 0) {
		*rcode = FE_RCODE_NOTAUTH;
		return FE_SERVER_RCODE;
	}
	return FE_SERVER_PASS;
}

static size_t p_after(void *state, const struct fe_server_request *req, uint8_t *msg, size_t len,
                      size_t cap)
{
	(void)state;
	(void)req;
	cr_assert_geq(cap, len);
	atomic_fetch_add(&afters, 1);
	msg[2] |= 0x04; /* AA: marks the answers that went through `after` */
	return len;
}

Test(net_stream, policy_hooks_before_tsig_after)
{
	struct fe_server_policy pol = {
	        .state = &befores, .before = p_before, .tsig = p_tsig, .after = p_after};
	struct fe_server_opts o = {.policy = &pol};
	start(&o);
	uint16_t port = fe_server_port(srv, 0);
	/* Passes every step: the engine's REFUSED (empty store), marked by `after`. */
	int fd = udp_client(port);
	uint8_t q[512], a[4096];
	size_t n = make_query(10, "ok", T_NAPTR, false, q);
	cr_assert_eq(send(fd, q, n, 0), (ssize_t)n);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	cr_assert_eq(poll(&p, 1, 1000), 1);
	cr_assert_gt(recv(fd, a, sizeof(a), 0), FE_WIRE_HDR_LEN);
	cr_assert_eq(a[3] & 0xf, FE_RCODE_REFUSED);
	cr_assert(a[2] & 0x04, "after did not run");
	close(fd);
	/* before decides. */
	cr_assert_eq(udp_ask(port, 11, "deny", T_NAPTR, false, 1000), FE_RCODE_NOTAUTH);
	cr_assert_eq(udp_ask(port, 12, "drop", T_NAPTR, false, 300), -1);
	/* The TSIG step replaces the fixed NOTAUTH: checked → answered by the engine. */
	cr_assert_eq(udp_ask(port, 13, "good", T_NAPTR, true, 1000), FE_RCODE_REFUSED);
	cr_assert_eq(udp_ask(port, 14, "bad", T_NAPTR, true, 1000), FE_RCODE_NOTAUTH);
	cr_assert_eq(atomic_load(&tsigs), 2);
	cr_assert_eq(atomic_load(&befores), 5);
	/* `after` sees the handler's answers and the TSIG step's refusal (it may replace it with
	 * a TSIG error answer), not what `before` decided */
	cr_assert_eq(atomic_load(&afters), 3);
	cr_assert_eq(counter(FE_CNT_QUERIES), 5);
	cr_assert_eq(counter(FE_CNT_DROPPED), 1);
	cr_assert_eq(counter(FE_CNT_REFUSED), 2);
}
