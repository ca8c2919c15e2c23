/* DNS over TCP per RFC 7766: 2-byte length prefix (RFC 1035 §4.2.2), pipelined queries,
 * each answered as soon as it is read (so answers may leave in a different order than a
 * slower server would send them, RFC 7766 §6.2.1.1), idle timeout (§6.2.3), and limits that
 * keep a hostile client's cost bounded (THREATS.md C1–C4):
 *  - a length below a DNS header (0 included) or a message we would not answer: close;
 *  - no complete message and no write progress for tcp_idle_timeout_ms: close (slowloris,
 *    half-sent messages, clients that stopped reading);
 *  - at most tcp_max_pipeline answers queued unsent: further queries wait in the kernel
 *    (we stop reading), so a client that never reads costs at most that many answers;
 *  - unsent output above tcp_max_out_bytes: close;
 *  - more than tcp_max_clients connections in the whole server: accept and close at once.
 *
 * All of a connection's state lives in one heap block plus three growable buffers (input,
 * and double-buffered output), allocated per connection, never per query. */
#include "net_int.h"

#include "fedenum/store.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"

#include <stdlib.h>
#include <string.h>

static struct fe_ratelog tcp_log = FE_RATELOG_INIT(10, 60);

#define IN_MIN_CAP  2048u
#define OUT_MIN_CAP 4096u

static void conn_pump(struct fe__conn *c);

static void on_handle_closed(uv_handle_t *h)
{
	struct fe__conn *c = h->data;
	if (--c->open_handles > 0)
		return;
	struct fe__worker *w = c->w;
	if (c->counted)
		atomic_fetch_sub(&w->srv->tcp_clients, 1);
	free(c->in);
	free(c->pend);
	free(c->send);
	free(c);
	if (w->stopping && !w->conns && !uv_is_closing((uv_handle_t *)&w->drain_timer))
		uv_close((uv_handle_t *)&w->drain_timer, NULL);
}

/* Close now; queued answers are discarded. Safe to call twice. The connection is freed in
 * the last close callback, so @c stays valid until control returns to the loop. */
static void conn_close(struct fe__conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	struct fe__worker *w = c->w;
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	w->conn_count--;
	uv_close((uv_handle_t *)&c->timer, on_handle_closed);
	uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
}

static const char *peer_str(const struct fe__conn *c, char *buf, size_t cap)
{
	fe__net_addr_str((const struct sockaddr *)&c->peer, buf, cap);
	return buf;
}

static bool grow(uint8_t **buf, size_t *cap, size_t need, size_t min_cap)
{
	if (*cap >= need)
		return true;
	size_t ncap = *cap ? *cap : min_cap;
	while (ncap < need)
		ncap *= 2;
	uint8_t *nb = realloc(*buf, ncap);
	if (!nb)
		return false;
	*buf = nb;
	*cap = ncap;
	return true;
}

/* Queue one answer (already in w->tcp_resp + 2). false: the backlog limit is exceeded. */
static bool queue_answer(struct fe__conn *c, size_t rlen)
{
	struct fe__worker *w = c->w;
	size_t need = 2 + rlen;
	if (c->send_len + c->pend_len + need > w->srv->opts.tcp_max_out_bytes)
		return false;
	if (!grow(&c->pend, &c->pend_cap, c->pend_len + need, OUT_MIN_CAP))
		return false;
	fe_store_be16(w->tcp_resp, (uint16_t)rlen);
	memcpy(c->pend + c->pend_len, w->tcp_resp, need);
	c->pend_len += need;
	c->pend_msgs++;
	return true;
}

/* Answer every complete message in the input buffer, as far as the pipeline limit allows. */
static void process_input(struct fe__conn *c)
{
	struct fe__worker *w = c->w;
	const struct fe_server_opts *o = &w->srv->opts;
	size_t off = 0;
	bool snap_open = false, snap_ok = false;
	char a[INET6_ADDRSTRLEN + 8];
	c->blocked = false;
	while (!c->closing && !c->close_flushed) {
		size_t avail = c->in_len - off;
		if (avail < 2)
			break;
		size_t mlen = fe_load_be16(c->in + off);
		if (mlen < FE_WIRE_HDR_LEN) {
			/* Length 0 or shorter than a header: the stream cannot be trusted. */
			w->counters[FE_CNT_TCP_BAD_FRAME]++;
			fe_ratelog(&tcp_log, FE_LOG_INFO, "tcp %s: message length %zu: closing",
			           peer_str(c, a, sizeof(a)), mlen);
			conn_close(c);
			break;
		}
		if (avail < 2 + mlen)
			break;
		if (c->pend_msgs + c->send_msgs >= o->tcp_max_pipeline) {
			c->blocked = true;
			break;
		}
		if (!snap_open) {
			snap_open = true;
			snap_ok = fe_store_reader_begin(w->reader) == FE_OK;
			if (!snap_ok)
				w->counters[FE_CNT_STORE_ERRORS]++;
		}
		size_t rlen = fe__net_answer(
		        w, c->admitted, snap_ok, (const struct sockaddr *)&c->peer, c->in + off + 2,
		        mlen, FE_TRANSPORT_TCP, w->tcp_resp + 2, FE__TCP_MSG_MAX - 2);
		off += 2 + mlen;
		c->last_activity_ms = uv_now(&w->loop);
		if (!rlen) {
			/* A response sent as a query, or similar garbage (THREATS.md C1, Q6). */
			w->counters[FE_CNT_TCP_BAD_FRAME]++;
			fe_ratelog(&tcp_log, FE_LOG_INFO, "tcp %s: unanswerable message: closing",
			           peer_str(c, a, sizeof(a)));
			conn_close(c);
			break;
		}
		if (!queue_answer(c, rlen)) {
			w->counters[FE_CNT_TCP_BACKLOG_CLOSED]++;
			fe_ratelog(&tcp_log, FE_LOG_INFO,
			           "tcp %s: %zu answer bytes unread by the client: closing",
			           peer_str(c, a, sizeof(a)), c->send_len + c->pend_len);
			conn_close(c);
			break;
		}
		if ((fe_load_be16(w->tcp_resp + 4) & 0xfu) == FE_RCODE_FORMERR) {
			/* After a malformed message the framing itself is suspect: answer it,
			 * then close (THREATS.md C1). */
			w->counters[FE_CNT_TCP_BAD_FRAME]++;
			c->close_flushed = true;
		}
	}
	if (snap_open && snap_ok)
		fe_store_reader_end(w->reader);
	if (off && !c->closing) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
}

static void on_write(uv_write_t *req, int status);

/* Start writing the queued answers. Returns true when everything queued went out at once
 * (pipeline slots were freed synchronously). */
static bool flush(struct fe__conn *c)
{
	if (c->closing || c->writing || !c->pend_len)
		return false;
	uv_buf_t b = uv_buf_init((char *)c->pend, (unsigned)c->pend_len);
	int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
	if (n == (int)c->pend_len) {
		c->pend_len = 0;
		c->pend_msgs = 0;
		c->last_activity_ms = uv_now(&c->w->loop);
		return true;
	}
	if (n < 0 && n != UV_EAGAIN) {
		conn_close(c); /* EPIPE, ECONNRESET: the client is gone */
		return false;
	}
	size_t done = n > 0 ? (size_t)n : 0;
	if (done)
		c->last_activity_ms = uv_now(&c->w->loop);
	/* Swap: the pending buffer becomes the one in flight, answers queue into the other. */
	uint8_t *tb = c->send;
	size_t tcap = c->send_cap;
	c->send = c->pend;
	c->send_cap = c->pend_cap;
	c->send_len = c->pend_len;
	c->send_msgs = c->pend_msgs;
	c->pend = tb;
	c->pend_cap = tcap;
	c->pend_len = 0;
	c->pend_msgs = 0;
	uv_buf_t rest = uv_buf_init((char *)c->send + done, (unsigned)(c->send_len - done));
	c->wreq.data = c;
	int rc = uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &rest, 1, on_write);
	if (rc) {
		conn_close(c);
		return false;
	}
	c->writing = true;
	c->last_write_queue = uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
	return false;
}

static void on_write(uv_write_t *req, int status)
{
	struct fe__conn *c = req->data;
	c->writing = false;
	if (status < 0) {
		conn_close(c); /* no-op when we are closing already (UV_ECANCELED) */
		return;
	}
	c->send_len = 0;
	c->send_msgs = 0;
	c->last_activity_ms = uv_now(&c->w->loop);
	conn_pump(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct fe__conn *c = h->data;
	(void)suggested;
	/* Room for the whole first message (it always starts the buffer) plus some more. */
	size_t need = c->in_len + 1024;
	if (c->in_len >= 2) {
		size_t first = 2 + (size_t)fe_load_be16(c->in);
		if (first > need)
			need = first;
	}
	if (!grow(&c->in, &c->in_cap, need, IN_MIN_CAP)) {
		*buf = uv_buf_init(NULL, 0); /* read_cb gets UV_ENOBUFS: we close */
		return;
	}
	*buf = uv_buf_init((char *)c->in + c->in_len, (unsigned)(c->in_cap - c->in_len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct fe__conn *c = s->data;
	(void)buf;
	if (c->closing || nread == 0)
		return;
	if (nread < 0) {
		if (nread != UV_EOF) {
			conn_close(c);
			return;
		}
		/* The client may half-close after its last query; it still gets its answers. */
		c->eof = true;
		conn_pump(c);
		return;
	}
	c->in_len += (size_t)nread;
	conn_pump(c);
}

/* Bring a connection forward after any event: answer what can be answered, write, choose
 * whether to read, and close when there is nothing more to do. */
static void conn_pump(struct fe__conn *c)
{
	struct fe__worker *w = c->w;
	for (;;) {
		if (c->closing)
			return;
		process_input(c);
		/* Loop only while a write that completed at once unblocked waiting queries;
		 * each round answers at least one of them, so this ends. */
		if (!flush(c) || !c->blocked)
			break;
	}
	if (c->closing)
		return;
	bool want_read = !c->blocked && !c->eof && !c->close_flushed && !w->stopping;
	if (want_read && !c->reading) {
		if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
			conn_close(c);
			return;
		}
		c->reading = true;
	} else if (!want_read && c->reading) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = false;
	}
	bool done = c->close_flushed || (c->eof && !c->blocked);
	if (done && !c->writing && !c->pend_len)
		conn_close(c);
}

static void on_idle(uv_timer_t *t)
{
	struct fe__conn *c = t->data;
	struct fe__worker *w = c->w;
	uint64_t idle = w->srv->opts.tcp_idle_timeout_ms;
	uint64_t now = uv_now(&w->loop);
	uint64_t since = now - c->last_activity_ms;
	/* A slow reader is not an idle one: bytes of the write in progress that left since the
	 * last check count as activity (libuv reports only whole writes). */
	size_t wq = uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
	if (c->writing && wq < c->last_write_queue) {
		c->last_activity_ms = now;
		since = 0;
	}
	c->last_write_queue = wq;
	if (since < idle) {
		uv_timer_start(t, on_idle, idle - since, 0);
		return;
	}
	/* RFC 7766 §6.2.3: the server may close idle connections; a half-sent message or
	 * answers the client does not read are no activity. */
	w->counters[FE_CNT_TCP_IDLE_CLOSED]++;
	char a[INET6_ADDRSTRLEN + 8];
	fe_ratelog(&tcp_log, FE_LOG_DEBUG, "tcp %s: idle for %llu ms: closing",
	           peer_str(c, a, sizeof(a)), (unsigned long long)since);
	conn_close(c);
}

void fe__tcp_on_connection(uv_stream_t *server, int status)
{
	struct fe__listener *l = server->data;
	struct fe__worker *w = l->w;
	struct fe_server *srv = w->srv;
	char a[INET6_ADDRSTRLEN + 8];
	if (status < 0) {
		fe_ratelog(&tcp_log, FE_LOG_WARN, "tcp accept: %s", uv_strerror(status));
		return;
	}
	struct fe__conn *c = calloc(1, sizeof(*c));
	if (!c) {
		fe_ratelog(&tcp_log, FE_LOG_ERR, "tcp accept: out of memory");
		return;
	}
	c->w = w;
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
		return;
	}
	int plen = (int)sizeof(c->peer);
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&c->peer, &plen) != 0) {
		conn_close(c);
		return;
	}
	c->counted = true;
	uint32_t n = atomic_fetch_add(&srv->tcp_clients, 1);
	if (n >= srv->opts.tcp_max_clients) {
		/* THREATS.md C4: the new one goes, the established ones keep being served. */
		w->counters[FE_CNT_TCP_REFUSED_LIMIT]++;
		fe_ratelog(&tcp_log, FE_LOG_WARN,
		           "tcp %s: connection limit (%u) reached: closing the new connection",
		           peer_str(c, a, sizeof(a)), srv->opts.tcp_max_clients);
		conn_close(c);
		return;
	}
	w->counters[FE_CNT_TCP_ACCEPTED]++;
	c->admitted = !srv->opts.acl ||
	              fe_server_acl_allows(srv->opts.acl, (const struct sockaddr *)&c->peer);
	uv_tcp_nodelay(&c->tcp, 1);
	c->last_activity_ms = uv_now(&w->loop);
	uv_timer_start(&c->timer, on_idle, srv->opts.tcp_idle_timeout_ms, 0);
	conn_pump(c);
}

void fe__tcp_drain(struct fe__worker *w)
{
	struct fe__conn *next;
	for (struct fe__conn *c = w->conns; c; c = next) {
		next = c->next;
		c->close_flushed = true;
		conn_pump(c);
	}
}

void fe__tcp_abort_all(struct fe__worker *w)
{
	while (w->conns)
		conn_close(w->conns);
}
