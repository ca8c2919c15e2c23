/* DNS over TCP per RFC 7766: the uv_tcp_t transport under the framing unit (frame.c), which
 * holds the 2-octet length framing (RFC 1035 §4.2.2), the output queue, streams and the
 * limits that do not depend on the transport. This file adds what does (docs/security.md C1–C4):
 *  - no complete message and no write progress for tcp_idle_timeout_ms: close (slowloris,
 *    half-sent messages, clients that stopped reading, §6.2.3);
 *  - more than tcp_max_clients connections in the whole server: accept and close at once;
 * and the glue between the framing and the request pipeline: one store snapshot per input
 * pass, the transfer handler's streams, counters and logs.
 *
 * Pipelined queries are each answered as soon as they are read (so answers may leave in a
 * different order than a slower server would send them, RFC 7766 §6.2.1.1). All of a
 * connection's state is one heap block plus the framing's buffers, allocated per
 * connection, never per query. */
#include "net_int.h"

#include "fedenum/store.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"

#include <stdlib.h>
#include <string.h>

static struct fe_ratelog tcp_log = FE_RATELOG_INIT(10, 60);

static struct fe__conn *conn_of(struct fe__frame *f)
{
	return (struct fe__conn *)(void *)((char *)f - offsetof(struct fe__conn, fr));
}

static const char *peer_str(const struct fe__conn *c, char *buf, size_t cap)
{
	fe__net_addr_str((const struct sockaddr *)&c->peer, buf, cap);
	return buf;
}

static void note_mem(struct fe__conn *c)
{
	size_t m = fe__frame_mem_bytes(&c->fr);
	if (m > c->w->tcp_mem_peak)
		__atomic_store_n(&c->w->tcp_mem_peak, m, __ATOMIC_RELAXED);
}

static void tcp_destroy(struct fe__conn *c)
{
	fe__frame_deinit(&c->fr);
	free(c);
}

void fe__conn_handle_closed(uv_handle_t *h)
{
	struct fe__conn *c = h->data;
	if (--c->open_handles > 0)
		return;
	struct fe__worker *w = c->w;
	if (c->counted)
		atomic_fetch_sub(&w->srv->tcp_clients, 1);
	c->counted = false;
	if (c->parked)
		c->gone = true; /* the last on-demand ticket frees it (pipeline.c) */
	else
		c->destroy(c);
	if (w->stopping && !w->conns && !uv_is_closing((uv_handle_t *)&w->drain_timer))
		uv_close((uv_handle_t *)&w->drain_timer, NULL);
}

/* Close now; queued answers are discarded. Safe to call twice. The connection is freed in
 * the last close callback, so @c stays valid until control returns to the loop. */
static void conn_close(struct fe__conn *c)
{
	fe__frame_close(&c->fr); /* ends any stream, then op_close */
}

/* ---- transport side of the framing ------------------------------------------------- */

static void on_write(uv_write_t *req, int status)
{
	struct fe__conn *c = req->data;
	note_mem(c);
	fe__frame_write_done(&c->fr, status);
}

static ssize_t op_write(struct fe__frame *f, const uint8_t *buf, size_t len, bool sync_ok)
{
	struct fe__conn *c = conn_of(f);
	uv_stream_t *s = (uv_stream_t *)&c->tcp;
	size_t done = 0;
	if (sync_ok) {
		uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
		int n = uv_try_write(s, &b, 1);
		if (n == (int)len)
			return (ssize_t)len;
		if (n < 0 && n != UV_EAGAIN)
			return n;
		done = n > 0 ? (size_t)n : 0;
	}
	uv_buf_t rest = uv_buf_init((char *)buf + done, (unsigned)(len - done));
	c->wreq.data = c;
	int rc = uv_write(&c->wreq, s, &rest, 1, on_write);
	if (rc)
		return rc;
	c->last_write_queue = uv_stream_get_write_queue_size(s);
	return (ssize_t)done;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct fe__conn *c = h->data;
	(void)suggested;
	uint8_t *p;
	size_t cap;
	if (!fe__frame_read_buf(&c->fr, &p, &cap)) {
		*buf = uv_buf_init(NULL, 0); /* read_cb gets UV_ENOBUFS: we close */
		return;
	}
	*buf = uv_buf_init((char *)p, (unsigned)cap);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct fe__conn *c = s->data;
	(void)buf;
	if (c->fr.ended || nread == 0)
		return;
	if (nread < 0) {
		if (nread != UV_EOF)
			conn_close(c);
		else
			fe__frame_on_eof(&c->fr);
		return;
	}
	fe__frame_on_read(&c->fr, (size_t)nread);
	note_mem(c);
}

static int op_read(struct fe__frame *f, bool on)
{
	struct fe__conn *c = conn_of(f);
	if (on)
		return uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
	uv_read_stop((uv_stream_t *)&c->tcp);
	return 0;
}

static void op_close(struct fe__frame *f)
{
	struct fe__conn *c = conn_of(f);
	struct fe__worker *w = c->w;
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	w->conn_count--;
	uv_close((uv_handle_t *)&c->timer, fe__conn_handle_closed);
	uv_close((uv_handle_t *)&c->tcp, fe__conn_handle_closed);
}

static uint64_t op_now_ms(struct fe__frame *f)
{
	return uv_now(&conn_of(f)->w->loop);
}

/* ---- application side: the request pipeline ----------------------------------------- */

/* The application side of a connection's framing, shared with net_tls.c (net_int.h). */
struct fe__frame_answer fe__conn_message(struct fe__frame *f, const uint8_t *msg, size_t len,
                                         uint8_t *out, size_t cap)
{
	struct fe__conn *c = conn_of(f);
	struct fe__worker *w = c->w;
	struct fe__frame_answer a = {0, false, false};
	if (!c->snap_open) {
		/* One snapshot per input pass, like one per UDP batch. */
		c->snap_open = true;
		c->snap_ok = fe_store_reader_begin(w->reader) == FE_OK;
		if (!c->snap_ok)
			fe_counter_inc(w->counters, FE_CNT_STORE_ERRORS);
	}
	const char *client = c->client && c->client[0] ? c->client : NULL;
	uint64_t t0 = fe_time_mono_us();
	w->cur_conn = c;
	w->cur_udp = NULL;
	w->cur_t0_us = t0;
	a.len = fe__pipe_run_od(w, c->admitted, c->snap_ok, (const struct sockaddr *)&c->peer, msg,
	                        len, FE_TRANSPORT_TCP, client, c->tls_version, out, cap, &c->stream,
	                        &a.stream, NULL, &a.deferred);
	if (a.len)
		fe__latency_add(w->counters, fe_time_mono_us() - t0, 1);
	return a;
}

void fe__conn_batch_end(struct fe__frame *f)
{
	struct fe__conn *c = conn_of(f);
	if (c->snap_open && c->snap_ok)
		fe_store_reader_end(c->w->reader);
	c->snap_open = false;
}

int fe__conn_stream_next(struct fe__frame *f, uint8_t *out, size_t cap, size_t *len)
{
	struct fe__conn *c = conn_of(f);
	return fe__pipe_stream_next(c->w, (const struct sockaddr *)&c->peer, c->stream, out, cap,
	                            len);
}

void fe__conn_stream_close(struct fe__frame *f)
{
	struct fe__conn *c = conn_of(f);
	fe__pipe_stream_close(c->w, c->stream);
	c->stream = NULL;
}

void fe__conn_note(struct fe__frame *f, enum fe__frame_event ev, size_t detail)
{
	struct fe__conn *c = conn_of(f);
	uint64_t *cnt = c->w->counters;
	const char *proto = c->tls ? "tls" : "tcp";
	char a[INET6_ADDRSTRLEN + 8];
	switch (ev) {
	case FE__FRAME_BAD_LENGTH:
		fe_counter_inc(cnt, FE_CNT_TCP_BAD_FRAME);
		fe_ratelog(&tcp_log, FE_LOG_INFO, "%s %s: message length %zu: closing", proto,
		           peer_str(c, a, sizeof(a)), detail);
		break;
	case FE__FRAME_BAD_MESSAGE:
		fe_counter_inc(cnt, FE_CNT_TCP_BAD_FRAME);
		fe_ratelog(&tcp_log, FE_LOG_INFO, "%s %s: unanswerable message: closing", proto,
		           peer_str(c, a, sizeof(a)));
		break;
	case FE__FRAME_FORMERR:
		fe_counter_inc(cnt, FE_CNT_TCP_BAD_FRAME);
		break;
	case FE__FRAME_BACKLOG:
		fe_counter_inc(cnt, FE_CNT_TCP_BACKLOG_CLOSED);
		fe_ratelog(&tcp_log, FE_LOG_INFO,
		           "%s %s: %zu answer bytes unread by the client: closing", proto,
		           peer_str(c, a, sizeof(a)), detail);
		break;
	case FE__FRAME_STREAM_ERROR:
		fe_ratelog(&tcp_log, FE_LOG_WARN,
		           "%s %s: stream failed after %zu messages: closing", proto,
		           peer_str(c, a, sizeof(a)), detail);
		break;
	}
}

static const struct fe__frame_ops tcp_ops = {
        .write = op_write,
        .read = op_read,
        .close = op_close,
        .now_ms = op_now_ms,
        .message = fe__conn_message,
        .batch_end = fe__conn_batch_end,
        .stream_next = fe__conn_stream_next,
        .stream_close = fe__conn_stream_close,
        .note = fe__conn_note,
};

/* ---- connections -------------------------------------------------------------------- */

static void on_idle(uv_timer_t *t)
{
	struct fe__conn *c = t->data;
	struct fe__worker *w = c->w;
	uint64_t idle = w->srv->opts.tcp_idle_timeout_ms;
	uint64_t now = uv_now(&w->loop);
	uint64_t since = now - c->fr.last_activity_ms;
	/* A slow reader is not an idle one: bytes of the write in progress that left since the
	 * last check count as activity (libuv reports only whole writes). */
	size_t wq = uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
	if (c->fr.writing && wq < c->last_write_queue) {
		c->fr.last_activity_ms = now;
		since = 0;
	}
	c->last_write_queue = wq;
	if (since < idle) {
		uv_timer_start(t, on_idle, idle - since, 0);
		return;
	}
	/* RFC 7766 §6.2.3: the server may close idle connections; a half-sent message or
	 * answers the client does not read are no activity. */
	fe_counter_inc(w->counters, FE_CNT_TCP_IDLE_CLOSED);
	char a[INET6_ADDRSTRLEN + 8];
	fe_ratelog(&tcp_log, FE_LOG_DEBUG, "tcp %s: idle for %llu ms: closing",
	           peer_str(c, a, sizeof(a)), (unsigned long long)since);
	conn_close(c);
}

bool fe__conn_accept(struct fe__conn *c, uv_stream_t *server, const struct fe__frame_ops *ops,
                     struct fe_ratelog *log, const char *proto)
{
	struct fe__listener *l = server->data;
	struct fe__worker *w = l->w;
	struct fe_server *srv = w->srv;
	char a[INET6_ADDRSTRLEN + 8];
	c->w = w;
	fe__frame_init(&c->fr, ops, w->tcp_resp, srv->opts.tcp_max_pipeline,
	               srv->opts.tcp_max_out_bytes);
	uv_tcp_init(&w->loop, &c->tcp);
	uv_timer_init(&w->loop, &c->timer);
	c->tcp.data = c;
	c->timer.data = c;
	c->open_handles = 2;
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	w->conn_count++;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 || w->stopping) {
		conn_close(c);
		return false;
	}
	int plen = (int)sizeof(c->peer);
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&c->peer, &plen) != 0) {
		conn_close(c);
		return false;
	}
	c->counted = true;
	uint32_t n = atomic_fetch_add(&srv->tcp_clients, 1);
	if (n >= srv->opts.tcp_max_clients) {
		/* docs/security.md C4: the new one goes, the established ones keep being served. */
		fe_counter_inc(w->counters, FE_CNT_TCP_REFUSED_LIMIT);
		fe_ratelog(log, FE_LOG_WARN,
		           "%s %s: connection limit (%u) reached: closing the new connection",
		           proto, peer_str(c, a, sizeof(a)), srv->opts.tcp_max_clients);
		conn_close(c);
		return false;
	}
	fe_counter_inc(w->counters, FE_CNT_TCP_ACCEPTED);
	c->admitted = !srv->opts.acl ||
	              fe_server_acl_allows(srv->opts.acl, (const struct sockaddr *)&c->peer);
	uv_tcp_nodelay(&c->tcp, 1);
	c->fr.last_activity_ms = uv_now(&w->loop);
	return true;
}

void fe__tcp_on_connection(uv_stream_t *server, int status)
{
	if (status < 0) {
		fe_ratelog(&tcp_log, FE_LOG_WARN, "tcp accept: %s", uv_strerror(status));
		return;
	}
	struct fe__conn *c = calloc(1, sizeof(*c));
	if (!c) {
		fe_ratelog(&tcp_log, FE_LOG_ERR, "tcp accept: out of memory");
		return;
	}
	c->destroy = tcp_destroy;
	if (!fe__conn_accept(c, server, &tcp_ops, &tcp_log, "tcp"))
		return; /* closed: freed by its close callbacks */
	uv_timer_start(&c->timer, on_idle, c->w->srv->opts.tcp_idle_timeout_ms, 0);
	fe__frame_pump(&c->fr);
}

void fe__tcp_drain(struct fe__worker *w)
{
	struct fe__conn *next;
	for (struct fe__conn *c = w->conns; c; c = next) {
		next = c->next;
		fe__frame_finish(&c->fr);
	}
}

void fe__tcp_abort_all(struct fe__worker *w)
{
	while (w->conns)
		conn_close(w->conns);
}
