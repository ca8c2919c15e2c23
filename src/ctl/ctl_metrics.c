/* The metrics listener: TCP on the daemon's main loop; read a bounded request head, answer
 * GET /metrics with the node's page (fe_ctl_node_metrics), anything else with its error
 * status, always "Connection: close". */
#include "ctl_int.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct fe_ctl_metrics {
	uv_loop_t *loop;
	uv_tcp_t listener;
	struct fe_ctl_metrics_opts o;
	uint16_t port;
	uint32_t nconns;
	uint64_t cnt[3];
	struct mconn *conns;
	bool stopping;
};

struct mconn {
	struct fe_ctl_metrics *m;
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t wr;
	int open_handles;
	bool closing, writing;
	char *out;
	size_t len;
	char buf[FE_CTL_HTTP_MAX + 1];
	struct mconn *next, *prev;
};

static struct fe_ratelog http_log = FE_RATELOG_INIT(20, 60);

uint16_t fe_ctl_metrics_port(const struct fe_ctl_metrics *m)
{
	return m->port;
}

void fe_ctl_metrics_counters(const struct fe_ctl_metrics *m, uint64_t out[3])
{
	memcpy(out, m->cnt, sizeof(m->cnt));
}

static void mconn_closed(uv_handle_t *h)
{
	struct mconn *c = h->data;
	if (--c->open_handles > 0)
		return;
	free(c->out);
	free(c);
}

static void mconn_close(struct mconn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	if (c->prev)
		c->prev->next = c->next;
	else
		c->m->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->m->nconns--;
	uv_close((uv_handle_t *)&c->timer, mconn_closed);
	uv_close((uv_handle_t *)&c->tcp, mconn_closed);
}

static void on_written(uv_write_t *w, int status)
{
	(void)status;
	mconn_close(w->data);
}

static void respond(struct mconn *c, enum fe_ctl_http_status st, bool is_head)
{
	char *body = NULL;
	size_t blen = 0;
	const char *ctype = "text/plain; charset=utf-8";
	if (st == FE_CTL_HTTP_OK) {
		int rc = fe_ctl_node_metrics(c->m->o.node, &body, &blen);
		if (rc != FE_OK) {
			fe_log_err("metrics: cannot render the page: %s", fe_strerror(rc));
			body = NULL;
			st = 500;
		} else {
			ctype = "text/plain; version=0.0.4; charset=utf-8";
		}
	}
	c->m->cnt[st == FE_CTL_HTTP_OK ? 0 : 1]++;
	if (st != FE_CTL_HTTP_OK)
		fe_ratelog(&http_log, FE_LOG_WARN, "metrics: request refused: %d %s", (int)st,
		           st == 500 ? "Internal Server Error" : fe_ctl_http_reason(st));
	char err[96];
	if (body == NULL) {
		blen = (size_t)snprintf(err, sizeof(err), "%d %s\n", (int)st,
		                        st == 500 ? "Internal Server Error"
		                                  : fe_ctl_http_reason(st));
	}
	struct fe__ctl_text t = {0};
	fe__ctl_text_add(&t,
	                 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	                 "%sConnection: close\r\n\r\n",
	                 (int)st, st == 500 ? "Internal Server Error" : fe_ctl_http_reason(st),
	                 ctype, blen, st == FE_CTL_HTTP_METHOD ? "Allow: GET, HEAD\r\n" : "");
	if (!is_head) {
		if (body)
			fe__ctl_text_add(&t, "%.*s", (int)blen, body);
		else
			fe__ctl_text_add(&t, "%s", err);
	}
	free(body);
	if (t.oom) {
		free(t.p);
		mconn_close(c);
		return;
	}
	c->out = t.p;
	c->len = t.len;
	c->writing = true;
	uv_read_stop((uv_stream_t *)&c->tcp);
	uv_buf_t b = uv_buf_init(c->out, (unsigned)c->len);
	c->wr.data = c;
	if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0)
		mconn_close(c);
}

static void on_timeout(uv_timer_t *t)
{
	struct mconn *c = t->data;
	c->m->cnt[2]++;
	fe_ratelog(&http_log, FE_LOG_WARN, "metrics: %s within %u ms: closed",
	           c->writing ? "response not taken" : "no complete request", c->m->o.timeout_ms);
	mconn_close(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct mconn *c = h->data;
	(void)suggested;
	*b = uv_buf_init(c->buf + c->len, (unsigned)(sizeof(c->buf) - 1 - c->len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct mconn *c = s->data;
	(void)b;
	if (c->writing || c->closing)
		return;
	if (n < 0) {
		mconn_close(c);
		return;
	}
	c->len += (size_t)n;
	bool is_head = false;
	enum fe_ctl_http_status st = fe_ctl_http_parse(c->buf, c->len, &is_head);
	if (st == FE_CTL_HTTP_MORE && c->len >= sizeof(c->buf) - 1)
		st = FE_CTL_HTTP_TOOBIG;
	if (st != FE_CTL_HTTP_MORE)
		respond(c, st, is_head);
}

static void on_connection(uv_stream_t *l, int status)
{
	struct fe_ctl_metrics *m = l->data;
	if (status < 0 || m->stopping)
		return;
	struct mconn *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return;
	c->m = m;
	uv_tcp_init(m->loop, &c->tcp);
	uv_timer_init(m->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->open_handles = 2;
	c->next = m->conns;
	if (m->conns)
		m->conns->prev = c;
	m->conns = c;
	m->nconns++;
	if (uv_accept(l, (uv_stream_t *)&c->tcp) != 0) {
		mconn_close(c);
		return;
	}
	if (m->nconns > m->o.max_clients) {
		m->cnt[2]++;
		mconn_close(c);
		return;
	}
	uv_timer_start(&c->timer, on_timeout, m->o.timeout_ms, 0);
	if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
		mconn_close(c);
}

static void listener_closed(uv_handle_t *h)
{
	free(h->data);
}

int fe_ctl_metrics_start(uv_loop_t *loop, const struct fe_ctl_metrics_opts *o,
                         struct fe_ctl_metrics **out)
{
	*out = NULL;
	struct fe_ctl_metrics *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return FE_ENOMEM;
	m->loop = loop;
	m->o = *o;
	uv_tcp_init(loop, &m->listener);
	m->listener.data = m;
	struct sockaddr_storage ss;
	int rc;
	if (strchr(o->addr.host, ':'))
		rc = uv_ip6_addr(o->addr.host, o->addr.port, (struct sockaddr_in6 *)&ss);
	else
		rc = uv_ip4_addr(o->addr.host, o->addr.port, (struct sockaddr_in *)&ss);
	if (rc == 0)
		rc = uv_tcp_bind(&m->listener, (struct sockaddr *)&ss, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&m->listener, 64, on_connection);
	int len = sizeof(ss);
	if (rc == 0)
		rc = uv_tcp_getsockname(&m->listener, (struct sockaddr *)&ss, &len);
	if (rc != 0) {
		fe_log_err("metrics: cannot listen on %s@%u: %s", o->addr.host, o->addr.port,
		           uv_strerror(rc));
		fe_ctl_metrics_stop(m);
		return FE_EIO;
	}
	m->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
	                                         : ((struct sockaddr_in *)&ss)->sin_port);
	*out = m;
	return FE_OK;
}

void fe_ctl_metrics_stop(struct fe_ctl_metrics *m)
{
	if (m == NULL)
		return;
	m->stopping = true;
	while (m->conns)
		mconn_close(m->conns);
	uv_close((uv_handle_t *)&m->listener, listener_closed);
}
