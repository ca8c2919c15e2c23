/* The control socket: accept, read one bounded request line, check the envelope (version,
 * command, args), dispatch, write one response, close (include/fedenum/ctl.h, docs/control.md).
 *
 * THREATS K2 (docs/security.md): every way a client can get it wrong ends in an error
 * response with its class, a counter and a rate-limited log line, and costs that connection
 * only. Reading stops at FE_CTL_MAX_REQUEST_BYTES; one timer per connection bounds the time
 * from accept to the response being taken; at most max_clients connections are open.
 *
 * The same server runs on TCP with mutual TLS for remote administration (fe_ctl_tls_opts):
 * OpenSSL over memory BIOs on the libuv stream, the handshake bounded by the same deadline,
 * the client's certificate verified (and its name checked against the allowed list) before a
 * request is read. */
#include "ctl_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static const char *const counter_names[FE_CTL_CNT__MAX] = {
        "ctl_connections", "ctl_requests",        "ctl_ok",        "ctl_oversized", "ctl_malformed",
        "ctl_bad_version", "ctl_unknown_command", "ctl_bad_args",  "ctl_failed",    "ctl_timeouts",
        "ctl_busy",        "ctl_tls_failed",      "ctl_forbidden",
};

const char *fe_ctl_counter_name(enum fe_ctl_counter c)
{
	return (unsigned)c < FE_CTL_CNT__MAX ? counter_names[c] : "?";
}

static const char *const error_codes[] = {
        "oversized", "malformed", "version", "unknown-command", "bad-arguments",
        "failed",    "busy",      "timeout", "forbidden"};
static const enum fe_ctl_counter error_counter[] = {
        FE_CTL_CNT_OVERSIZED,   FE_CTL_CNT_MALFORMED,
        FE_CTL_CNT_BAD_VERSION, FE_CTL_CNT_UNKNOWN_COMMAND,
        FE_CTL_CNT_BAD_ARGS,    FE_CTL_CNT_FAILED,
        FE_CTL_CNT_BUSY,        FE_CTL_CNT_TIMEOUTS,
        FE_CTL_CNT_FORBIDDEN};

const char *fe_ctl_error_code(enum fe_ctl_error e)
{
	return (unsigned)e < FE_ARRAY_LEN(error_codes) ? error_codes[e] : "?";
}

/* Client errors are input-driven: at most 20 lines a minute. */
static struct fe_ratelog client_log = FE_RATELOG_INIT(20, 60);

enum conn_state { READING, RUNNING, WRITING, CLOSING };

/* A UNIX socket or (remote administration) a TCP connection. */
union stream {
	uv_pipe_t pipe;
	uv_tcp_t tcp;
	uv_stream_t s;
	uv_handle_t h;
};

struct fe_ctl_req {
	struct fe_ctl_server *srv;
	union stream sock;
	uv_timer_t timer;
	uv_write_t wr;
	enum conn_state state;
	int open_handles;
	char *out; /* the response being written */
	size_t len;
	SSL *ssl;       /* remote: the TLS session (memory BIOs), NULL on a UNIX socket */
	bool handshake; /* remote: done and the client allowed */
	char buf[FE_CTL_MAX_REQUEST_BYTES + 1];
	char raw[16384]; /* remote: TLS records as read from the socket */
	struct fe_ctl_req *next, *prev;
};

struct fe_ctl_server {
	uv_loop_t *loop;
	union stream listener;
	struct fe_ctl_server_opts o;
	char *path;       /* NULL for a remote server */
	SSL_CTX *ssl_ctx; /* remote only */
	char **clients;   /* remote: allowed certificate names (copied) */
	size_t nclients;
	uint16_t port; /* remote: the bound port */
	uint64_t cnt[FE_CTL_CNT__MAX];
	uint32_t nconns;
	struct fe_ctl_req *conns;
	bool stopping;
};

void fe_ctl_server_counters(const struct fe_ctl_server *s, uint64_t *out)
{
	memcpy(out, s->cnt, sizeof(s->cnt));
}

/* ---- connection life ------------------------------------------------------------------ */

static void conn_closed(uv_handle_t *h)
{
	struct fe_ctl_req *c = h->data;
	if (--c->open_handles > 0)
		return;
	free(c->out);
	SSL_free(c->ssl);
	free(c);
}

static void conn_close(struct fe_ctl_req *c)
{
	if (c->state == CLOSING)
		return;
	c->state = CLOSING;
	struct fe_ctl_server *s = c->srv;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	uv_close((uv_handle_t *)&c->timer, conn_closed);
	uv_close(&c->sock.h, conn_closed);
}

static void on_timeout(uv_timer_t *t);

static void on_written(uv_write_t *w, int status)
{
	struct fe_ctl_req *c = w->data;
	(void)status;
	conn_close(c);
}

/* One write of TLS records; the connection closes after it when @close_after. */
struct tls_write {
	uv_write_t req;
	struct fe_ctl_req *c;
	bool close_after;
	char data[];
};

static void on_tls_written(uv_write_t *w, int status)
{
	struct tls_write *tw = (struct tls_write *)w;
	if (tw->close_after || status < 0)
		conn_close(tw->c);
	free(tw);
}

/* Write what OpenSSL has queued for the peer (handshake flights, records). */
static void tls_flush(struct fe_ctl_req *c, bool close_after)
{
	BIO *wbio = SSL_get_wbio(c->ssl);
	size_t n = (size_t)BIO_ctrl_pending(wbio);
	if (n == 0) {
		if (close_after)
			conn_close(c);
		return;
	}
	struct tls_write *tw = malloc(sizeof(*tw) + n);
	if (!tw || BIO_read(wbio, tw->data, (int)n) != (int)n) {
		free(tw);
		conn_close(c);
		return;
	}
	tw->c = c;
	tw->close_after = close_after;
	uv_buf_t b = uv_buf_init(tw->data, (unsigned)n);
	if (uv_write(&tw->req, &c->sock.s, &b, 1, on_tls_written) != 0) {
		free(tw);
		conn_close(c);
	}
}

/* Write @resp (stolen) and "\n", then close. */
static void send_json(struct fe_ctl_req *c, json_t *resp)
{
	if (c->state == CLOSING) {
		json_decref(resp);
		return;
	}
	free(c->out);
	c->out = json_dumps(resp, JSON_COMPACT);
	json_decref(resp);
	if (c->out == NULL) {
		conn_close(c);
		return;
	}
	c->len = strlen(c->out);
	c->out[c->len++] = '\n'; /* over the NUL: the buffer is written by length */
	c->state = WRITING;
	uv_read_stop(&c->sock.s);
	uv_timer_start(&c->timer, on_timeout, c->srv->o.timeout_ms, 0);
	/* The response must be taken within the same deadline: a client that never reads
	 * cannot hold the connection (and its buffer) for ever. */
	if (c->ssl) {
		/* Encrypt it, then close_notify, and write every record at once. */
		if (!c->handshake || SSL_write(c->ssl, c->out, (int)c->len) != (int)c->len) {
			ERR_clear_error();
			conn_close(c);
			return;
		}
		(void)SSL_shutdown(c->ssl);
		tls_flush(c, true);
		return;
	}
	uv_buf_t b = uv_buf_init(c->out, (unsigned)c->len);
	c->wr.data = c;
	if (uv_write(&c->wr, &c->sock.s, &b, 1, on_written) != 0)
		conn_close(c);
}

void fe_ctl_reply_ok(struct fe_ctl_req *c, json_t *result)
{
	c->srv->cnt[FE_CTL_CNT_OK]++;
	send_json(c, json_pack("{s:i, s:b, s:o}", "version", FE_CTL_PROTO_VERSION, "ok", 1,
	                       "result", result ? result : json_object()));
}

static void reply_error_v(struct fe_ctl_req *c, enum fe_ctl_error e, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));
static void reply_error_v(struct fe_ctl_req *c, enum fe_ctl_error e, const char *fmt, va_list ap)
{
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	c->srv->cnt[error_counter[e]]++;
	fe_ratelog(&client_log, e == FE_CTL_E_FAILED ? FE_LOG_ERR : FE_LOG_WARN,
	           "control: request refused (%s): %s", fe_ctl_error_code(e), msg);
	send_json(c, json_pack("{s:i, s:b, s:s, s:s}", "version", FE_CTL_PROTO_VERSION, "ok", 0,
	                       "code", fe_ctl_error_code(e), "error", msg));
}

void fe_ctl_reply_error(struct fe_ctl_req *c, enum fe_ctl_error e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	reply_error_v(c, e, fmt, ap);
	va_end(ap);
}

static void on_timeout(uv_timer_t *t)
{
	struct fe_ctl_req *c = t->data;
	c->srv->cnt[FE_CTL_CNT_TIMEOUTS]++;
	if (c->state == READING) {
		/* One short error, if the socket takes it now; then close either way. */
		fe_ratelog(&client_log, FE_LOG_WARN,
		           "control: no complete request within %u ms (%zu bytes): closed",
		           c->srv->o.timeout_ms, c->len);
		char msg[160];
		int n = snprintf(msg, sizeof(msg),
		                 "{\"version\":%d,\"ok\":false,\"code\":\"timeout\",\"error\":\"no "
		                 "complete request within %u ms\"}\n",
		                 FE_CTL_PROTO_VERSION, c->srv->o.timeout_ms);
		uv_buf_t b = uv_buf_init(msg, (unsigned)n);
		if (!c->ssl)
			(void)uv_try_write(&c->sock.s, &b, 1);
	} else if (c->state == WRITING) {
		fe_ratelog(&client_log, FE_LOG_WARN,
		           "control: response not taken within %u ms: closed",
		           c->srv->o.timeout_ms);
	} else {
		/* RUNNING (a reload under way): the command answers when it is done. */
		return;
	}
	conn_close(c);
}

/* ---- the request -------------------------------------------------------------------- */

static void dispatch(struct fe_ctl_req *c)
{
	struct fe_ctl_server *s = c->srv;
	json_error_t jerr;
	s->cnt[FE_CTL_CNT_REQUESTS]++;
	c->state = RUNNING;
	uv_read_stop(&c->sock.s);
	json_t *req = json_loadb(c->buf, c->len, JSON_REJECT_DUPLICATES, &jerr);
	if (req == NULL) {
		fe_ctl_reply_error(c, FE_CTL_E_MALFORMED, "not JSON: %s at offset %d", jerr.text,
		                   jerr.position);
		return;
	}
	json_t *ver = NULL, *cmd = NULL, *args = NULL;
	const char *key;
	json_t *val;
	if (!json_is_object(req)) {
		fe_ctl_reply_error(c, FE_CTL_E_MALFORMED, "the request is not a JSON object");
		goto out;
	}
	json_object_foreach(req, key, val)
	{
		if (strcmp(key, "version") == 0)
			ver = val;
		else if (strcmp(key, "command") == 0)
			cmd = val;
		else if (strcmp(key, "args") == 0)
			args = val;
		else {
			fe_ctl_reply_error(c, FE_CTL_E_MALFORMED,
			                   "unknown member \"%.64s\" (a request has version, "
			                   "command, args)",
			                   key);
			goto out;
		}
	}
	if (!json_is_integer(ver)) {
		fe_ctl_reply_error(c, FE_CTL_E_MALFORMED,
		                   "\"version\" is missing or not an integer (this node speaks "
		                   "version %d)",
		                   FE_CTL_PROTO_VERSION);
		goto out;
	}
	if (json_integer_value(ver) != FE_CTL_PROTO_VERSION) {
		fe_ctl_reply_error(c, FE_CTL_E_VERSION,
		                   "protocol version %lld is not supported (this node speaks "
		                   "version %d)",
		                   (long long)json_integer_value(ver), FE_CTL_PROTO_VERSION);
		goto out;
	}
	if (!json_is_string(cmd)) {
		fe_ctl_reply_error(c, FE_CTL_E_MALFORMED, "\"command\" is missing or not a string");
		goto out;
	}
	if (args != NULL && !json_is_object(args)) {
		fe_ctl_reply_error(c, FE_CTL_E_MALFORMED, "\"args\" is not an object");
		goto out;
	}
	const char *name = json_string_value(cmd);
	for (size_t i = 0; i < s->o.ncommands; i++) {
		if (strcmp(s->o.commands[i].name, name) == 0) {
			json_t *a = args ? json_incref(args) : json_object();
			s->o.commands[i].run(c, a, s->o.arg);
			json_decref(a);
			goto out;
		}
	}
	fe_ctl_reply_error(c, FE_CTL_E_UNKNOWN, "unknown command \"%.64s\"", name);
out:
	json_decref(req);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct fe_ctl_req *c = h->data;
	(void)suggested;
	if (c->ssl) {
		*b = uv_buf_init(c->raw, sizeof(c->raw));
		return;
	}
	/* One byte past the limit: reading it is how an oversized request is seen. */
	*b = uv_buf_init(c->buf + c->len, (unsigned)(sizeof(c->buf) - c->len));
}

static void oversized(struct fe_ctl_req *c)
{
	c->srv->cnt[FE_CTL_CNT_REQUESTS]++;
	c->state = RUNNING;
	fe_ctl_reply_error(c, FE_CTL_E_OVERSIZED,
	                   "request longer than %u bytes without an end of line",
	                   FE_CTL_MAX_REQUEST_BYTES);
}

/* @n plaintext bytes were added at c->buf + c->len: dispatch at an end of line, refuse
 * beyond the bound. */
static void got_plain(struct fe_ctl_req *c, size_t n)
{
	size_t old = c->len;
	c->len += n;
	char *nl = memchr(c->buf + old, '\n', n);
	if (nl != NULL) {
		c->len = (size_t)(nl - c->buf);
		if (c->len > FE_CTL_MAX_REQUEST_BYTES)
			oversized(c);
		else
			dispatch(c);
		return;
	}
	if (c->len > FE_CTL_MAX_REQUEST_BYTES)
		oversized(c);
}

/* The end of the client's writing: what came is the request (no newline needed). */
static void got_eof(struct fe_ctl_req *c)
{
	if (c->len > 0)
		dispatch(c);
	else
		conn_close(c);
}

static void tls_refused(struct fe_ctl_req *c, const char *why)
{
	char peer[64] = "?";
	struct sockaddr_storage ss;
	int sl = sizeof(ss);
	if (uv_tcp_getpeername(&c->sock.tcp, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET6)
			uv_ip6_name((struct sockaddr_in6 *)&ss, peer, sizeof(peer));
		else
			uv_ip4_name((struct sockaddr_in *)&ss, peer, sizeof(peer));
	}
	c->srv->cnt[FE_CTL_CNT_TLS_FAILED]++;
	fe_ratelog(&client_log, FE_LOG_WARN, "control (remote): %s: TLS handshake failed: %s", peer,
	           why);
	tls_flush(c, true); /* the alert, if OpenSSL made one */
}

/* TLS records arrived: handshake, then the plaintext into the request buffer. */
static void got_tls(struct fe_ctl_req *c, const char *data, size_t n)
{
	if (BIO_write(SSL_get_rbio(c->ssl), data, (int)n) != (int)n) {
		conn_close(c);
		return;
	}
	if (!c->handshake) {
		int r = SSL_do_handshake(c->ssl);
		if (r != 1) {
			int e = SSL_get_error(c->ssl, r);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
				tls_flush(c, false);
				return;
			}
			char why[256];
			fe__ctl_ssl_error(why, sizeof(why));
			tls_refused(c, why);
			return;
		}
		tls_flush(c, false);
		char name[256];
		bool named = fe__ctl_tls_peer_name(c->ssl, name, sizeof(name));
		bool allowed = c->srv->nclients == 0;
		for (size_t i = 0; named && i < c->srv->nclients && !allowed; i++)
			allowed = strcasecmp(c->srv->clients[i], name) == 0;
		c->handshake = true;
		if (!allowed) {
			c->srv->cnt[FE_CTL_CNT_REQUESTS]++;
			c->state = RUNNING;
			fe_ctl_reply_error(
			        c, FE_CTL_E_FORBIDDEN,
			        "client certificate \"%.128s\" is not in control.tls-clients",
			        named ? name : "(no name)");
			return;
		}
	}
	while (c->state == READING) {
		size_t room = sizeof(c->buf) - c->len;
		if (room == 0) {
			oversized(c);
			return;
		}
		int r = SSL_read(c->ssl, c->buf + c->len, (int)room);
		if (r > 0) {
			got_plain(c, (size_t)r);
			continue;
		}
		int e = SSL_get_error(c->ssl, r);
		ERR_clear_error();
		if (e == SSL_ERROR_ZERO_RETURN)
			got_eof(c); /* close_notify: the client is done writing */
		else if (e != SSL_ERROR_WANT_READ)
			conn_close(c);
		return;
	}
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct fe_ctl_req *c = st->data;
	if (c->state != READING)
		return;
	if (n < 0) {
		if (n == UV_EOF && c->handshake)
			got_eof(c);
		else if (n == UV_EOF && !c->ssl)
			got_eof(c);
		else
			conn_close(c);
		return;
	}
	if (c->ssl)
		got_tls(c, b->base, (size_t)n);
	else
		got_plain(c, (size_t)n);
}

static void on_connection(uv_stream_t *l, int status)
{
	struct fe_ctl_server *s = l->data;
	if (status < 0 || s->stopping)
		return;
	struct fe_ctl_req *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return; /* the kernel keeps it in the backlog; tried again on the next */
	c->srv = s;
	if (s->ssl_ctx)
		uv_tcp_init(s->loop, &c->sock.tcp);
	else
		uv_pipe_init(s->loop, &c->sock.pipe, 0);
	uv_timer_init(s->loop, &c->timer);
	c->sock.h.data = c->timer.data = c;
	c->open_handles = 2;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	if (uv_accept(l, &c->sock.s) != 0) {
		conn_close(c);
		return;
	}
	s->cnt[FE_CTL_CNT_CONNECTIONS]++;
	uv_timer_start(&c->timer, on_timeout, s->o.timeout_ms, 0);
	if (s->ssl_ctx) {
		BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
		c->ssl = SSL_new(s->ssl_ctx);
		if (!c->ssl || !rb || !wb) {
			BIO_free(rb);
			BIO_free(wb);
			conn_close(c);
			return;
		}
		SSL_set_bio(c->ssl, rb, wb);
		SSL_set_accept_state(c->ssl);
	}
	if (s->nconns > s->o.max_clients) {
		c->state = RUNNING;
		if (c->ssl) {
			/* No TLS session yet to say it in: closed and counted. */
			s->cnt[FE_CTL_CNT_BUSY]++;
			conn_close(c);
			return;
		}
		fe_ctl_reply_error(c, FE_CTL_E_BUSY, "%u control connections open: try again",
		                   s->o.max_clients);
		return;
	}
	if (uv_read_start(&c->sock.s, on_alloc, on_read) != 0)
		conn_close(c);
}

/* ---- listener ------------------------------------------------------------------------ */

/* Whether a server answers on @path (then it is not ours to replace). */
static bool path_is_live(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	bool live = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return live;
}

static void listener_closed(uv_handle_t *h);

/* Remote administration: TCP on o->tls->addr with mutual TLS. */
static int start_remote(uv_loop_t *loop, const struct fe_ctl_server_opts *o,
                        struct fe_ctl_server **out, char *err, size_t errcap)
{
	const struct fe_ctl_tls_opts *t = o->tls;
	struct sockaddr_storage ss;
	if (uv_ip4_addr(t->addr.host, t->addr.port, (struct sockaddr_in *)&ss) != 0 &&
	    uv_ip6_addr(t->addr.host, t->addr.port, (struct sockaddr_in6 *)&ss) != 0) {
		snprintf(err, errcap, "control.listen %s@%u: not a numeric address", t->addr.host,
		         (unsigned)t->addr.port);
		return FE_EIO;
	}
	struct fe_ctl_server *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return FE_ENOMEM;
	s->loop = loop;
	s->o = *o;
	s->o.tls = NULL;
	s->ssl_ctx = fe__ctl_tls_server_ctx(t, err, errcap);
	if (!s->ssl_ctx) {
		free(s);
		return FE_EIO;
	}
	if (t->nclients && !(s->clients = calloc(t->nclients, sizeof(*s->clients)))) {
		fe__ctl_tls_ctx_free(s->ssl_ctx);
		free(s);
		return FE_ENOMEM;
	}
	for (size_t i = 0; i < t->nclients; i++)
		if ((s->clients[s->nclients] = strdup(t->clients[i])) != NULL)
			s->nclients++;
	uv_tcp_init(loop, &s->listener.tcp);
	s->listener.h.data = s;
	int rc = uv_tcp_bind(&s->listener.tcp, (struct sockaddr *)&ss, 0);
	if (rc == 0)
		rc = uv_listen(&s->listener.s, 16, on_connection);
	if (rc == 0) {
		struct sockaddr_storage b;
		int bl = sizeof(b);
		if (uv_tcp_getsockname(&s->listener.tcp, (struct sockaddr *)&b, &bl) == 0)
			s->port = ntohs(b.ss_family == AF_INET6
			                        ? ((struct sockaddr_in6 *)&b)->sin6_port
			                        : ((struct sockaddr_in *)&b)->sin_port);
	}
	if (rc != 0) {
		snprintf(err, errcap, "control.listen %s@%u: %s", t->addr.host,
		         (unsigned)t->addr.port, uv_strerror(rc));
		fe_ctl_server_stop(s);
		return FE_EIO;
	}
	*out = s;
	return FE_OK;
}

uint16_t fe_ctl_server_port(const struct fe_ctl_server *s)
{
	return s ? s->port : 0;
}

int fe_ctl_server_start(uv_loop_t *loop, const struct fe_ctl_server_opts *o,
                        struct fe_ctl_server **out, char *err, size_t errcap)
{
	*out = NULL;
	if (o->tls)
		return start_remote(loop, o, out, err, errcap);
	struct sockaddr_un sa;
	if (strlen(o->path) >= sizeof(sa.sun_path)) {
		snprintf(err, errcap, "control socket %s: path longer than %zu bytes", o->path,
		         sizeof(sa.sun_path) - 1);
		return FE_EIO;
	}
	struct stat sb;
	if (lstat(o->path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			snprintf(err, errcap,
			         "control socket %s: exists and is not a socket: not replaced",
			         o->path);
			return FE_EIO;
		}
		if (path_is_live(o->path)) {
			snprintf(err, errcap,
			         "control socket %s: another process answers on it (a running "
			         "fedenumd?)",
			         o->path);
			return FE_EBUSY;
		}
		unlink(o->path); /* stale: left by a process that is gone */
	}
	struct fe_ctl_server *s = calloc(1, sizeof(*s));
	if (s == NULL || (s->path = strdup(o->path)) == NULL) {
		free(s);
		return FE_ENOMEM;
	}
	s->loop = loop;
	s->o = *o;
	s->o.path = s->path;
	uv_pipe_init(loop, &s->listener.pipe, 0);
	s->listener.h.data = s;
	/* 0660 from the start: no window in which others could connect. */
	mode_t old = umask(0117);
	int rc = uv_pipe_bind(&s->listener.pipe, s->path);
	umask(old);
	if (rc == 0 && o->set_owner && chown(s->path, (uid_t)o->uid, (gid_t)o->gid) != 0) {
		snprintf(err, errcap, "control socket %s: cannot give it to uid %u gid %u: %s",
		         s->path, o->uid, o->gid, strerror(errno));
		rc = UV_EPERM;
	}
	if (rc == 0)
		rc = uv_listen(&s->listener.s, 16, on_connection);
	if (rc != 0) {
		/* libuv reports a missing folder as EACCES: say which it is. */
		char dir[sizeof(sa.sun_path)];
		snprintf(dir, sizeof(dir), "%s", s->path);
		char *slash = strrchr(dir, '/');
		if (slash)
			*(slash == dir ? slash + 1 : slash) = '\0';
		if (slash && access(dir, F_OK) != 0)
			snprintf(err, errcap, "control socket %s: the folder %s does not exist",
			         s->path, dir);
		else
			snprintf(err, errcap, "control socket %s: %s", s->path, uv_strerror(rc));
		fe_ctl_server_stop(s);
		return FE_EIO;
	}
	*out = s;
	return FE_OK;
}

static void listener_closed(uv_handle_t *h)
{
	struct fe_ctl_server *s = h->data;
	for (size_t i = 0; i < s->nclients; i++)
		free(s->clients[i]);
	free(s->clients);
	fe__ctl_tls_ctx_free(s->ssl_ctx);
	free(s->path);
	free(s);
}

void fe_ctl_server_stop(struct fe_ctl_server *s)
{
	if (s == NULL)
		return;
	s->stopping = true;
	while (s->conns)
		conn_close(s->conns);
	if (s->path)
		unlink(s->path);
	uv_close(&s->listener.h, listener_closed);
}
