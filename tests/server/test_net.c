/* Network server (net*.c) against a stand-in answer engine: this file defines
 * fe_answer_parsed(), the engine's entry point that the request pipeline calls (an echo with
 * QR set, or a padded 8000-byte answer when the first label starts with 'b'), so the linker
 * never pulls the real one from libfe_server and these tests see only the transport:
 * batching, SO_REUSEPORT workers, RFC 7766 framing and limits, the admission list, drain.
 * Answer semantics over the network are tested in tests/integration/. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fedenum/server.h"
#include "fedenum/store.h"
#include "fedenum/util.h"

#define BIG_ANSWER 8000u

size_t fe_answer_parsed(struct fe_answer_ctx *ctx, const uint8_t *req, size_t req_len,
                        enum fe_wire_verdict v, const struct fe_wire_query *q, unsigned flags,
                        enum fe_transport transport, uint8_t *resp, size_t resp_cap)
{
	(void)v;
	(void)q;
	(void)flags;
	cr_assert_not_null(ctx->reader);
	fe_counter_inc(ctx->counters, FE_CNT_QUERIES);
	fe_counter_inc(ctx->counters, transport == FE_TRANSPORT_TCP ? FE_CNT_TCP : FE_CNT_UDP);
	if (req_len < 12 || (req[2] & 0x80)) {
		fe_counter_inc(ctx->counters, FE_CNT_DROPPED);
		return 0;
	}
	size_t out = req_len;
	if (req_len > 13 && req[13] == 'b')
		out = BIG_ANSWER;
	if (out > resp_cap)
		out = resp_cap;
	memset(resp, 0, out);
	memcpy(resp, req, FE_MIN(req_len, out));
	resp[2] |= 0x80;
	fe_counter_inc(ctx->counters, FE_CNT_NOERROR);
	return out;
}

/* ---- fixture ---------------------------------------------------------------------- */

static char dir[256];
static struct fe_store *st;
static struct fe_server *srv;
static struct fe_server_acl *acl;

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
	fe_server_stop(srv, 500);
	srv = NULL;
	fe_server_acl_destroy(acl);
	acl = NULL;
	fe_store_close(st);
	st = NULL;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static struct fe_listen_addr v4 = {"127.0.0.1", 0};

static void start(struct fe_server_opts *o)
{
	if (!o->listen) {
		o->listen = &v4;
		o->listen_count = 1;
	}
	cr_assert_eq(fe_server_start(st, o, &srv), FE_OK);
}

static uint64_t now_ms(void)
{
	return fe_time_mono_ms();
}

/* ---- client helpers --------------------------------------------------------------- */

static socklen_t addr_of(const char *host, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		return sizeof(*s4);
	}
	cr_assert_eq(inet_pton(AF_INET6, host, &s6->sin6_addr), 1);
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	return sizeof(*s6);
}

static int udp_client(const char *host, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sl = addr_of(host, port, &ss);
	int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&ss, sl), 0);
	return fd;
}

static int tcp_client(const char *host, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sl = addr_of(host, port, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&ss, sl), 0, "connect: %s", strerror(errno));
	return fd;
}

/* A query for "<label>.test." with ID @id. */
static size_t make_query(uint16_t id, const char *label, uint8_t *out)
{
	size_t n = 0;
	out[n++] = (uint8_t)(id >> 8);
	out[n++] = (uint8_t)id;
	out[n++] = 0x01; /* RD */
	out[n++] = 0;
	out[n++] = 0;
	out[n++] = 1; /* QDCOUNT */
	memset(out + n, 0, 6);
	n += 6;
	size_t l = strlen(label);
	out[n++] = (uint8_t)l;
	memcpy(out + n, label, l);
	n += l;
	memcpy(out + n, "\4test\0\0\x23\0\1", 11); /* test. NAPTR IN */
	n += 11;
	return n;
}

static size_t frame(uint16_t id, const char *label, uint8_t *out)
{
	size_t n = make_query(id, label, out + 2);
	out[0] = (uint8_t)(n >> 8);
	out[1] = (uint8_t)n;
	return n + 2;
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
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	size_t got = 0;
	while (got < len) {
		uint64_t now = now_ms();
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

/* One framed answer: its length, 0 if the server closed, -1 on timeout. */
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

/* true when the server closes within @timeout_ms (answers on the way are skipped). */
static bool closed_within(int fd, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	uint8_t buf[65536];
	for (;;) {
		uint64_t now = now_ms();
		if (now >= deadline)
			return false;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, (int)(deadline - now)) <= 0)
			return false;
		ssize_t r = recv(fd, buf, sizeof(buf), 0);
		if (r == 0 || (r < 0 && (errno == ECONNRESET || errno == EPIPE)))
			return true;
	}
}

static bool udp_roundtrip(const char *host, uint16_t port, uint16_t id)
{
	int fd = udp_client(host, port);
	uint8_t q[512], a[4096];
	size_t n = make_query(id, "n1", q);
	cr_assert_eq(send(fd, q, n, 0), (ssize_t)n);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	bool ok = false;
	if (poll(&p, 1, 2000) == 1) {
		ssize_t r = recv(fd, a, sizeof(a), 0);
		ok = r == (ssize_t)n && fe_get_be16(a) == id && (a[2] & 0x80);
	}
	close(fd);
	return ok;
}

static bool tcp_roundtrip(int fd, uint16_t id)
{
	uint8_t q[512], a[65536];
	size_t n = frame(id, "n1", q);
	write_all(fd, q, n);
	ssize_t r = read_msg(fd, a, sizeof(a), 2000);
	return r > 0 && fe_get_be16(a) == id;
}

static uint64_t counter(enum fe_counter c)
{
	uint64_t v[FE_CNT__MAX];
	fe_server_counters(srv, v);
	return v[c];
}

static bool wait_counter(enum fe_counter c, uint64_t at_least, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	while (now_ms() < deadline) {
		if (counter(c) >= at_least)
			return true;
		usleep(10000);
	}
	return counter(c) >= at_least;
}

TestSuite(net, .init = setup, .fini = teardown, .timeout = 60);

/* ---- tests ------------------------------------------------------------------------ */

Test(net, udp_and_tcp_on_v4_and_v6_same_port_ready_file)
{
	struct fe_listen_addr la[2] = {{"127.0.0.1", 0}, {"::1", 0}};
	char ready[300];
	snprintf(ready, sizeof(ready), "%s/ready", dir);
	struct fe_server_opts o = {
	        .listen = la, .listen_count = 2, .workers = 2, .ready_file = ready};
	start(&o);
	uint16_t p4 = fe_server_port(srv, 0), p6 = fe_server_port(srv, 1);
	cr_assert_neq(p4, 0);
	cr_assert_neq(p6, 0);
	cr_assert_eq(fe_server_workers(srv), 2);

	FILE *f = fopen(ready, "r");
	cr_assert_not_null(f);
	char text[512] = {0};
	cr_assert_gt(fread(text, 1, sizeof(text) - 1, f), 0);
	fclose(f);
	char want[512];
	snprintf(want, sizeof(want), "udp 127.0.0.1 %u\ntcp 127.0.0.1 %u\nudp ::1 %u\ntcp ::1 %u\n",
	         p4, p4, p6, p6);
	cr_assert_str_eq(text, want);

	cr_assert(udp_roundtrip("127.0.0.1", p4, 0x1234));
	cr_assert(udp_roundtrip("::1", p6, 0x2345));
	int t4 = tcp_client("127.0.0.1", p4);
	int t6 = tcp_client("::1", p6);
	cr_assert(tcp_roundtrip(t4, 7));
	cr_assert(tcp_roundtrip(t6, 8));
	close(t4);
	close(t6);
	cr_assert(wait_counter(FE_CNT_TCP_ACCEPTED, 2, 1000));
	cr_assert_eq(counter(FE_CNT_UDP), 2);
	cr_assert_eq(counter(FE_CNT_TCP), 2);
}

Test(net, fixed_port_in_use_fails_cleanly)
{
	start(&(struct fe_server_opts){.workers = 1});
	uint16_t port = fe_server_port(srv, 0);
	/* A second server on the same port: our sockets are SO_REUSEPORT, but the kernel only
	 * lets the same user join the group; so bind a plain socket there first. */
	struct fe_listen_addr la = {"127.0.0.1", 0};
	int blocker = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_storage ss;
	socklen_t sl = addr_of("127.0.0.1", 0, &ss);
	cr_assert_eq(bind(blocker, (struct sockaddr *)&ss, sl), 0);
	socklen_t bl = sizeof(ss);
	getsockname(blocker, (struct sockaddr *)&ss, &bl);
	la.port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	struct fe_server *other = NULL;
	struct fe_server_opts o = {.listen = &la, .listen_count = 1, .workers = 2};
	cr_assert_eq(fe_server_start(st, &o, &other), FE_EIO);
	cr_assert_null(other);
	close(blocker);
	cr_assert(udp_roundtrip("127.0.0.1", port, 1), "the first server is unaffected");
}

Test(net, udp_batch_burst_all_answered)
{
	start(&(struct fe_server_opts){.workers = 1});
	uint16_t port = fe_server_port(srv, 0);
	int fd = udp_client("127.0.0.1", port);
	int sz = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	enum { N = 1000 };
	uint8_t q[512];
	for (unsigned i = 0; i < N; i++) {
		size_t n = make_query((uint16_t)i, "n1", q);
		cr_assert_eq(send(fd, q, n, 0), (ssize_t)n);
	}
	static bool seen[N];
	unsigned got = 0;
	uint8_t a[4096];
	struct pollfd p = {.fd = fd, .events = POLLIN};
	while (got < N && poll(&p, 1, 2000) == 1) {
		ssize_t r = recv(fd, a, sizeof(a), 0);
		cr_assert_gt(r, 12);
		uint16_t id = fe_get_be16(a);
		cr_assert_lt(id, N);
		cr_assert_not(seen[id], "answer %u twice", id);
		seen[id] = true;
		got++;
	}
	close(fd);
	cr_assert_eq(got, N, "answered %u of %u", got, N);
	cr_assert_eq(counter(FE_CNT_QUERIES), N);
}

Test(net, udp_short_and_response_datagrams_dropped)
{
	start(&(struct fe_server_opts){.workers = 1});
	uint16_t port = fe_server_port(srv, 0);
	int fd = udp_client("127.0.0.1", port);
	uint8_t junk[16] = {1, 2, 3};
	for (size_t len = 0; len < 12; len++)
		cr_assert_eq(send(fd, junk, len, 0), (ssize_t)len);
	uint8_t q[512];
	size_t n = make_query(9, "n1", q);
	q[2] |= 0x80; /* QR=1 */
	cr_assert_eq(send(fd, q, n, 0), (ssize_t)n);
	static uint8_t huge[9000]; /* above the receive buffer: MSG_TRUNC */
	make_query(11, "n1", huge);
	cr_assert_eq(send(fd, huge, sizeof(huge), 0), (ssize_t)sizeof(huge));
	struct pollfd p = {.fd = fd, .events = POLLIN};
	cr_assert_eq(poll(&p, 1, 300), 0, "no answer to garbage");
	close(fd);
	cr_assert(wait_counter(FE_CNT_DROPPED, 14, 1000), "dropped=%llu",
	          (unsigned long long)counter(FE_CNT_DROPPED));
	cr_assert(udp_roundtrip("127.0.0.1", port, 10));
}

Test(net, two_workers_share_the_port)
{
	start(&(struct fe_server_opts){.workers = 2});
	uint16_t port = fe_server_port(srv, 0);
	/* Every new socket has a new source port, hence a new SO_REUSEPORT hash. */
	for (unsigned i = 0; i < 64; i++)
		cr_assert(udp_roundtrip("127.0.0.1", port, (uint16_t)i));
	uint64_t c0[FE_CNT__MAX], c1[FE_CNT__MAX];
	fe_server_worker_counters(srv, 0, c0);
	fe_server_worker_counters(srv, 1, c1);
	cr_assert_eq(c0[FE_CNT_UDP] + c1[FE_CNT_UDP], 64);
	cr_assert_gt(c0[FE_CNT_UDP], 0, "worker 0 answered nothing");
	cr_assert_gt(c1[FE_CNT_UDP], 0, "worker 1 answered nothing");
}

Test(net, tcp_pipelined_all_answered)
{
	start(&(struct fe_server_opts){.workers = 1});
	int fd = tcp_client("127.0.0.1", fe_server_port(srv, 0));
	enum { N = 500 };
	static uint8_t buf[N * 40];
	size_t len = 0;
	for (unsigned i = 0; i < N; i++)
		len += frame((uint16_t)i, "n1", buf + len);
	write_all(fd, buf, len); /* one write: many queries per segment */
	static bool seen[N];
	uint8_t a[65536];
	for (unsigned i = 0; i < N; i++) {
		ssize_t r = read_msg(fd, a, sizeof(a), 2000);
		cr_assert_gt(r, 0, "answer %u missing", i);
		uint16_t id = fe_get_be16(a);
		cr_assert_lt(id, N);
		cr_assert_not(seen[id]);
		seen[id] = true;
	}
	/* The connection stays usable, and a half-close still gets the last answers. */
	size_t n = frame(4242, "n1", buf);
	write_all(fd, buf, n);
	shutdown(fd, SHUT_WR);
	ssize_t r = read_msg(fd, a, sizeof(a), 2000);
	cr_assert_gt(r, 0);
	cr_assert_eq(fe_get_be16(a), 4242);
	cr_assert(closed_within(fd, 2000), "closed after the half-close was answered");
	close(fd);
}

Test(net, tcp_split_message_reassembled)
{
	start(&(struct fe_server_opts){.workers = 1});
	int fd = tcp_client("127.0.0.1", fe_server_port(srv, 0));
	uint8_t q[512], a[65536];
	size_t n = frame(77, "n1", q);
	for (size_t i = 0; i < n; i++) {
		write_all(fd, q + i, 1);
		usleep(2000);
	}
	ssize_t r = read_msg(fd, a, sizeof(a), 2000);
	cr_assert_gt(r, 0);
	cr_assert_eq(fe_get_be16(a), 77);
	close(fd);
}

Test(net, tcp_bad_frames_close_only_that_connection)
{
	start(&(struct fe_server_opts){.workers = 1});
	uint16_t port = fe_server_port(srv, 0);
	int good = tcp_client("127.0.0.1", port);
	cr_assert(tcp_roundtrip(good, 1));

	int zero = tcp_client("127.0.0.1", port); /* C1: length prefix 0 */
	write_all(zero, "\0\0", 2);
	cr_assert(closed_within(zero, 2000));
	close(zero);

	int tiny = tcp_client("127.0.0.1", port); /* shorter than a header */
	write_all(tiny, "\0\5hello", 7);
	cr_assert(closed_within(tiny, 2000));
	close(tiny);

	int resp = tcp_client("127.0.0.1", port); /* a response sent as a query */
	uint8_t q[512];
	size_t n = frame(5, "n1", q);
	q[4] |= 0x80;
	write_all(resp, q, n);
	cr_assert(closed_within(resp, 2000));
	close(resp);

	cr_assert(wait_counter(FE_CNT_TCP_BAD_FRAME, 3, 1000));
	cr_assert(tcp_roundtrip(good, 2), "the other connection is still served");
	close(good);
}

Test(net, tcp_idle_and_slowloris_closed)
{
	start(&(struct fe_server_opts){.workers = 1, .tcp_idle_timeout_ms = 300});
	uint16_t port = fe_server_port(srv, 0);
	int silent = tcp_client("127.0.0.1", port);
	int slow = tcp_client("127.0.0.1", port);
	int claims = tcp_client("127.0.0.1", port);
	uint8_t q[512];
	size_t n = frame(1, "n1", q);
	uint64_t t0 = now_ms();
	write_all(slow, q, n - 1); /* C2: all but the last byte */
	write_all(claims,
	          "\xff\xff"
	          "abc",
	          5); /* C1: 65535 announced, 3 sent */
	cr_assert(closed_within(silent, 3000));
	cr_assert(closed_within(slow, 3000));
	cr_assert(closed_within(claims, 3000));
	uint64_t took = now_ms() - t0;
	cr_assert_geq(took, 250, "closed after %llu ms: before the timeout",
	              (unsigned long long)took);
	cr_assert(wait_counter(FE_CNT_TCP_IDLE_CLOSED, 3, 1000));

	/* A client that keeps asking is not idle. */
	int busy = tcp_client("127.0.0.1", port);
	for (int i = 0; i < 8; i++) {
		usleep(100000);
		cr_assert(tcp_roundtrip(busy, (uint16_t)i), "round %d", i);
	}
	close(busy);
	close(silent);
	close(slow);
	close(claims);
}

Test(net, tcp_connection_limit)
{
	start(&(struct fe_server_opts){.workers = 2, .tcp_max_clients = 3});
	uint16_t port = fe_server_port(srv, 0);
	int c[3];
	for (int i = 0; i < 3; i++) {
		c[i] = tcp_client("127.0.0.1", port);
		cr_assert(tcp_roundtrip(c[i], (uint16_t)i));
	}
	int extra = tcp_client("127.0.0.1", port); /* C4: the kernel accepts, we close */
	cr_assert(closed_within(extra, 2000));
	close(extra);
	cr_assert(wait_counter(FE_CNT_TCP_REFUSED_LIMIT, 1, 1000));
	for (int i = 0; i < 3; i++)
		cr_assert(tcp_roundtrip(c[i], (uint16_t)(10 + i)), "existing %d still served", i);
	close(c[0]);
	/* The slot is free again once the server has seen the close. */
	bool ok = false;
	for (int tries = 0; tries < 50 && !ok; tries++) {
		int again = tcp_client("127.0.0.1", port);
		uint8_t q[512], a[65536];
		size_t n = frame(99, "n1", q);
		write_all(again, q, n);
		ok = read_msg(again, a, sizeof(a), 500) > 0;
		close(again);
		if (!ok)
			usleep(20000);
	}
	cr_assert(ok, "a new connection is served after one closed");
	close(c[1]);
	close(c[2]);
}

Test(net, tcp_client_never_reads_is_closed)
{
	start(&(struct fe_server_opts){
	        .workers = 1, .tcp_idle_timeout_ms = 5000, .tcp_max_out_bytes = 128u * 1024u});
	uint16_t port = fe_server_port(srv, 0);
	int fd = tcp_client("127.0.0.1", port);
	int small = 4096;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	/* C3: 10,000 pipelined queries for 8000-byte answers, never reading. */
	enum { N = 10000 };
	static uint8_t buf[N * 40];
	size_t len = 0;
	for (unsigned i = 0; i < N; i++)
		len += frame((uint16_t)i, "big", buf + len);
	/* The server stops reading once its limits hit: write what the kernel takes. */
	size_t off = 0;
	uint64_t deadline = now_ms() + 3000;
	while (off < len && now_ms() < deadline) {
		ssize_t w = send(fd, buf + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0)
			off += (size_t)w;
		else if (w < 0 && errno != EAGAIN)
			break;
		else
			usleep(10000);
	}
	cr_assert(wait_counter(FE_CNT_TCP_BACKLOG_CLOSED, 1, 5000),
	          "backlog_closed=%llu idle=%llu queries=%llu",
	          (unsigned long long)counter(FE_CNT_TCP_BACKLOG_CLOSED),
	          (unsigned long long)counter(FE_CNT_TCP_IDLE_CLOSED),
	          (unsigned long long)counter(FE_CNT_QUERIES));
	cr_assert_lt(counter(FE_CNT_QUERIES), 200, "answers produced while nobody read: %llu",
	             (unsigned long long)counter(FE_CNT_QUERIES));
	cr_assert(closed_within(fd, 3000));
	close(fd);
	cr_assert(udp_roundtrip("127.0.0.1", port, 3), "server still fine");
}

Test(net, tcp_pipeline_limit_then_idle_close)
{
	/* Small answers: the pipeline limit, not the byte cap, bounds what a non-reader costs,
	 * and the idle timeout ends it. */
	start(&(struct fe_server_opts){
	        .workers = 1, .tcp_idle_timeout_ms = 400, .tcp_max_pipeline = 10});
	int fd = tcp_client("127.0.0.1", fe_server_port(srv, 0));
	int small = 2048;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	/* Enough queries that their answers overflow whatever the kernel buffers for the
	 * server's socket (autotuned up to tcp_wmem's maximum): otherwise every answer is
	 * legitimately written and nothing shows the pipeline limit at work. */
	unsigned long wmin = 0, wdef = 0, wmax = 4u << 20;
	FILE *wf = fopen("/proc/sys/net/ipv4/tcp_wmem", "r");
	if (wf) {
		if (fscanf(wf, "%lu %lu %lu", &wmin, &wdef, &wmax) != 3)
			wmax = 4u << 20;
		fclose(wf);
	}
	const unsigned N = (unsigned)FE_MIN(3 * wmax / 40 + 10000, 2000000ul);
	uint8_t *buf = malloc((size_t)N * 40);
	cr_assert_not_null(buf);
	size_t len = 0;
	for (unsigned i = 0; i < N; i++)
		len += frame((uint16_t)i, "n1", buf + len);
	size_t off = 0;
	uint64_t deadline = now_ms() + 1500;
	while (off < len && now_ms() < deadline) {
		ssize_t w = send(fd, buf + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0)
			off += (size_t)w;
		else if (w < 0 && errno != EAGAIN)
			break;
		else
			usleep(10000);
	}
	free(buf);
	cr_assert(wait_counter(FE_CNT_TCP_IDLE_CLOSED, 1, 3000));
	cr_assert_lt(counter(FE_CNT_QUERIES), (uint64_t)N, "queries=%llu of %u",
	             (unsigned long long)counter(FE_CNT_QUERIES), N);
	close(fd);
}

Test(net, admission_list_refuses_outsiders)
{
	cr_assert_eq(fe_server_acl_create(&acl), FE_OK);
	cr_assert_eq(fe_server_acl_add(acl, "10.0.0.0/8"), FE_OK);
	start(&(struct fe_server_opts){.workers = 1, .acl = acl});
	uint16_t port = fe_server_port(srv, 0);
	int fd = udp_client("127.0.0.1", port);
	uint8_t q[512], a[4096];
	size_t n = make_query(0x4321, "n1", q);
	cr_assert_eq(send(fd, q, n, 0), (ssize_t)n);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	cr_assert_eq(poll(&p, 1, 2000), 1, "REFUSED, never silence");
	ssize_t r = recv(fd, a, sizeof(a), 0);
	cr_assert_geq(r, 12);
	cr_assert_eq(fe_get_be16(a), 0x4321);
	cr_assert(a[2] & 0x80);
	cr_assert_eq(a[3] & 0x0f, 5, "rcode %u", a[3] & 0x0f);
	close(fd);

	int t = tcp_client("127.0.0.1", port);
	size_t fl = frame(0x99, "n1", q);
	write_all(t, q, fl);
	r = read_msg(t, a, sizeof(a), 2000);
	cr_assert_gt(r, 12);
	cr_assert_eq(a[3] & 0x0f, 5);
	close(t);
	cr_assert_eq(counter(FE_CNT_ACL_REFUSED), 2);
	cr_assert_eq(counter(FE_CNT_REFUSED), 2);
	cr_assert_eq(counter(FE_CNT_NOERROR), 0, "fe_answer never ran");
}

Test(net, stop_drains_quickly)
{
	start(&(struct fe_server_opts){.workers = 2});
	uint16_t port = fe_server_port(srv, 0);
	int idle = tcp_client("127.0.0.1", port);
	cr_assert(tcp_roundtrip(idle, 1));
	uint64_t t0 = now_ms();
	fe_server_stop(srv, 3000);
	srv = NULL;
	uint64_t took = now_ms() - t0;
	cr_assert_lt(took, 1500, "stop took %llu ms with an idle connection",
	             (unsigned long long)took);
	cr_assert(closed_within(idle, 1000));
	close(idle);
}

Test(net, wildcard_bind_answers_from_the_queried_address)
{
	/* 0.0.0.0 and ::: the answer must come from the address the query went to, or a
	 * connected client socket (like a resolver's) never sees it. */
	struct fe_listen_addr la[2] = {{"0.0.0.0", 0}, {"::", 0}};
	start(&(struct fe_server_opts){.listen = la, .listen_count = 2, .workers = 2});
	uint16_t p4 = fe_server_port(srv, 0), p6 = fe_server_port(srv, 1);
	for (int i = 0; i < 8; i++) {
		cr_assert(udp_roundtrip("127.0.0.1", p4, (uint16_t)i), "127.0.0.1 round %d", i);
		cr_assert(udp_roundtrip("127.0.0.2", p4, (uint16_t)i), "127.0.0.2 round %d", i);
		cr_assert(udp_roundtrip("::1", p6, (uint16_t)i), "::1 round %d", i);
	}
	int t = tcp_client("127.0.0.3", p4);
	cr_assert(tcp_roundtrip(t, 1));
	close(t);
}

Test(net, stop_drain_time_bounds_a_stuck_client)
{
	start(&(struct fe_server_opts){.workers = 1, .tcp_max_out_bytes = 4u << 20});
	int fd = tcp_client("127.0.0.1", fe_server_port(srv, 0));
	enum { N = 2000 };
	static uint8_t buf[N * 40];
	size_t len = 0;
	for (unsigned i = 0; i < N; i++)
		len += frame((uint16_t)i, "big", buf + len);
	write_all(fd, buf, len);
	/* Far more than the kernel buffers hold: the server ends up with answers queued. */
	cr_assert(wait_counter(FE_CNT_TCP, 100, 2000), "server did not start answering");
	usleep(100000);
	uint64_t t0 = now_ms();
	fe_server_stop(srv, 300);
	srv = NULL;
	uint64_t took = now_ms() - t0;
	cr_assert_geq(took, 250, "queued answers were not given their drain time (%llu ms)",
	              (unsigned long long)took);
	cr_assert_lt(took, 1500, "stop took %llu ms with a 300 ms drain", (unsigned long long)took);
	/* The answers that were flushed arrive complete, then the connection ends. */
	uint8_t a[65536];
	ssize_t r = read_msg(fd, a, sizeof(a), 1000);
	cr_assert_eq(r, (ssize_t)BIG_ANSWER);
	cr_assert(closed_within(fd, 3000));
	close(fd);
}
