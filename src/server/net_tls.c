/* DNS over TLS per RFC 7858: the same framing unit (frame.c) and request pipeline as plain
 * TCP (net_tcp.c), over a TLS session. libuv reads and writes the socket; OpenSSL runs the
 * TLS state machine over two memory BIOs (ciphertext in, ciphertext out), so nothing here
 * blocks and the handshake is driven by the reads as they come.
 *
 * What this file adds to TCP's limits (docs/security.md C1–C4, which apply unchanged: the
 * framing unit enforces them over the decrypted stream):
 *  - a handshake not finished within tls_handshake_timeout_ms: close;
 *  - TLS 1.2 at least (1.3 preferred by OpenSSL's negotiation), ALPN "dot" when offered;
 *  - with a client CA: a verified client certificate is required (the handshake fails
 *    without one), and its name (first DNS SAN, else the CN) goes to the pipeline's hooks as
 *    fe_server_request.tls_client, for the policy's views;
 *  - bounded buffers: while the framing pauses input, the socket is not read, so at most
 *    one socket read (FE__TLS_READ bytes) of ciphertext waits in OpenSSL's input BIO;
 *    ciphertext out is at most what the framing's output limit lets it queue;
 *  - close: close_notify is sent (best effort, one non-blocking write) before the socket
 *    closes; on stop the connection drains like TCP's.
 * TLS connections count in tcp_max_clients and in the TCP counters. One heap block per
 * connection (plus OpenSSL's session state), nothing per query. */
#include "net_int.h"

#include "fedenum/store.h"
#include "fedenum/util.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static struct fe_ratelog tls_log = FE_RATELOG_INIT(10, 60);

struct fe__tls {
	SSL *ssl;
	BIO *in;  /* ciphertext read from the socket, for OpenSSL */
	BIO *out; /* ciphertext written by OpenSSL, for the socket */
	bool handshake_done;
	bool uv_reading;    /* uv_read_start in effect */
	bool want_read;     /* the framing wants input */
	bool frame_waiting; /* the framing's write is encrypted, not yet all sent */
	bool out_busy;      /* a uv_write of obuf is in flight */
	uint8_t *obuf;      /* ciphertext of the write in flight */
	size_t obuf_cap;
	char client[FE_SERVER_TLS_NAME_MAX]; /* verified client certificate name, or "" */
};

static struct fe__conn *conn_of(struct fe__frame *f)
{
	return (struct fe__conn *)(void *)((char *)f - offsetof(struct fe__conn, fr));
}

static const char *peer_str(const struct fe__conn *c, char *buf, size_t cap)
{
	fe__net_addr_str((const struct sockaddr *)&c->peer, buf, cap);
	return buf;
}

static void log_ssl_errors(const struct fe__conn *c, const char *what)
{
	char a[INET6_ADDRSTRLEN + 8], e[256] = "";
	unsigned long code = ERR_get_error();
	if (code)
		ERR_error_string_n(code, e, sizeof(e));
	ERR_clear_error();
	fe_ratelog(&tls_log, FE_LOG_INFO, "tls %s: %s%s%s: closing", peer_str(c, a, sizeof(a)),
	           what, *e ? ": " : "", e);
}

static void tls_destroy(struct fe__conn *c)
{
	fe__frame_deinit(&c->fr);
	if (c->tls) {
		SSL_free(c->tls->ssl); /* frees both BIOs */
		free(c->tls->obuf);
		free(c->tls);
	}
	free(c);
}

static void conn_close(struct fe__conn *c)
{
	fe__frame_close(&c->fr);
}

/* ---- ciphertext out --------------------------------------------------------------- */

static void flush_out(struct fe__conn *c);
static void feed(struct fe__conn *c);

static void on_write(uv_write_t *req, int status)
{
	struct fe__conn *c = req->data;
	struct fe__tls *t = c->tls;
	t->out_busy = false;
	if (c->fr.ended)
		return;
	if (status < 0) {
		if (t->frame_waiting) {
			t->frame_waiting = false;
			fe__frame_write_done(&c->fr, status);
		} else {
			conn_close(c);
		}
		return;
	}
	flush_out(c);
	/* The framing may have asked for input again (its write completed): hand it what
	 * OpenSSL holds decrypted already. */
	if (!c->fr.ended && t->handshake_done && t->want_read)
		feed(c);
}

/* Send what OpenSSL wrote, one uv_write at a time; once it is all out, the framing's write
 * (if one waits) is done. */
static void flush_out(struct fe__conn *c)
{
	struct fe__tls *t = c->tls;
	if (t->out_busy || c->fr.ended)
		return;
	size_t n = BIO_ctrl_pending(t->out);
	if (!n) {
		if (t->frame_waiting) {
			t->frame_waiting = false;
			fe__frame_write_done(&c->fr, 0);
		}
		return;
	}
	if (n > t->obuf_cap) {
		uint8_t *nb = realloc(t->obuf, n);
		if (!nb) {
			conn_close(c);
			return;
		}
		t->obuf = nb;
		t->obuf_cap = n;
	}
	int got = BIO_read(t->out, t->obuf, (int)n);
	if (got <= 0) {
		conn_close(c);
		return;
	}
	uv_buf_t b = uv_buf_init((char *)t->obuf, (unsigned)got);
	c->wreq.data = c;
	int rc = uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_write);
	if (rc) {
		conn_close(c);
		return;
	}
	t->out_busy = true;
	c->last_write_queue = uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
}

/* ---- transport side of the framing ------------------------------------------------- */

static ssize_t op_write(struct fe__frame *f, const uint8_t *buf, size_t len, bool sync_ok)
{
	struct fe__conn *c = conn_of(f);
	struct fe__tls *t = c->tls;
	(void)sync_ok; /* always asynchronous: the ciphertext goes out through flush_out */
	size_t done = 0;
	if (!SSL_write_ex(t->ssl, buf, len, &done) || done != len) {
		log_ssl_errors(c, "write failed");
		return -1;
	}
	t->frame_waiting = true;
	if (!t->out_busy) {
		/* Start sending; the framing's write completes from on_write, never from here
		 * (the out BIO holds bytes, so flush_out starts a write and returns). */
		flush_out(c);
		if (c->fr.ended)
			return -1;
	}
	return 0;
}

static void stop_reading(struct fe__conn *c)
{
	if (!c->tls->uv_reading)
		return;
	c->tls->uv_reading = false;
	uv_read_stop((uv_stream_t *)&c->tcp);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static int start_reading(struct fe__conn *c)
{
	if (c->tls->uv_reading)
		return 0;
	int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
	if (rc == 0)
		c->tls->uv_reading = true;
	return rc;
}

/* Hand decrypted bytes to the framing while it wants them. */
static void feed(struct fe__conn *c)
{
	struct fe__tls *t = c->tls;
	while (!c->fr.ended && t->handshake_done && t->want_read) {
		uint8_t *p;
		size_t cap, n = 0;
		if (!fe__frame_read_buf(&c->fr, &p, &cap)) {
			conn_close(c);
			return;
		}
		if (SSL_read_ex(t->ssl, p, cap, &n)) {
			fe__frame_on_read(&c->fr, n);
			continue;
		}
		int e = SSL_get_error(t->ssl, 0);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			break;
		if (e == SSL_ERROR_ZERO_RETURN) {
			/* close_notify: like a TCP half-close, answer what was read, then close. */
			fe__frame_on_eof(&c->fr);
			break;
		}
		log_ssl_errors(c, "read failed");
		conn_close(c);
		return;
	}
	flush_out(c);
}

static int op_read(struct fe__frame *f, bool on)
{
	struct fe__conn *c = conn_of(f);
	c->tls->want_read = on;
	if (on)
		return start_reading(c);
	stop_reading(c);
	return 0;
}

static void op_close(struct fe__frame *f)
{
	struct fe__conn *c = conn_of(f);
	struct fe__worker *w = c->w;
	struct fe__tls *t = c->tls;
	if (t->handshake_done && !(SSL_get_shutdown(t->ssl) & SSL_SENT_SHUTDOWN)) {
		/* close_notify (RFC 8446 §6.1), best effort: one non-blocking write when no
		 * other write is in flight. */
		(void)SSL_shutdown(t->ssl);
		size_t n = BIO_ctrl_pending(t->out);
		uint8_t tmp[256];
		if (!t->out_busy && n && n <= sizeof(tmp)) {
			int got = BIO_read(t->out, tmp, (int)n);
			if (got > 0) {
				uv_buf_t b = uv_buf_init((char *)tmp, (unsigned)got);
				(void)uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
			}
		}
	}
	ERR_clear_error();
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

/* ---- application side: the request pipeline (as TCP's) --------------------------------- */

static const struct fe__frame_ops tls_ops = {
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

/* ---- handshake -------------------------------------------------------------------------- */

/* The verified client certificate's name: its first DNS subjectAltName, else its CN. */
static void client_name(struct fe__tls *t)
{
	t->client[0] = '\0';
	X509 *cert = SSL_get0_peer_certificate(t->ssl);
	if (!cert || SSL_get_verify_result(t->ssl) != X509_V_OK)
		return;
	GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
		if (g->type != GEN_DNS)
			continue;
		const unsigned char *d = ASN1_STRING_get0_data(g->d.dNSName);
		int l = ASN1_STRING_length(g->d.dNSName);
		if (l > 0 && (size_t)l < sizeof(t->client) && !memchr(d, 0, (size_t)l)) {
			memcpy(t->client, d, (size_t)l);
			t->client[l] = '\0';
			break;
		}
	}
	GENERAL_NAMES_free(sans);
	if (!t->client[0]) {
		int l = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName,
		                                  t->client, (int)sizeof(t->client));
		if (l <= 0 || (size_t)l >= sizeof(t->client))
			t->client[0] = '\0';
	}
}

static void on_idle(uv_timer_t *tm);

static void handshake(struct fe__conn *c)
{
	struct fe__tls *t = c->tls;
	struct fe__worker *w = c->w;
	int r = SSL_do_handshake(t->ssl);
	if (r != 1) {
		int e = SSL_get_error(t->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			flush_out(c);
			return;
		}
		fe_counter_inc(w->counters, FE_CNT_TLS_HANDSHAKE_FAILED);
		log_ssl_errors(c, "handshake failed");
		/* Send the alert if it fits in one write, then close. */
		size_t n = BIO_ctrl_pending(t->out);
		uint8_t tmp[512];
		if (!t->out_busy && n && n <= sizeof(tmp)) {
			int got = BIO_read(t->out, tmp, (int)n);
			if (got > 0) {
				uv_buf_t b = uv_buf_init((char *)tmp, (unsigned)got);
				(void)uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
			}
		}
		conn_close(c);
		return;
	}
	t->handshake_done = true;
	c->tls_version = (uint16_t)SSL_version(t->ssl);
	fe_counter_inc(w->counters, FE_CNT_TLS_HANDSHAKES);
	client_name(t);
	/* From now on the timer is the idle timeout. */
	c->fr.last_activity_ms = uv_now(&w->loop);
	uv_timer_start(&c->timer, on_idle, w->srv->opts.tcp_idle_timeout_ms, 0);
	flush_out(c);
	fe__frame_pump(&c->fr); /* asks for input: op_read(on) */
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct fe__conn *c = h->data;
	(void)suggested;
	*buf = uv_buf_init((char *)c->w->tls_rbuf, FE__TLS_READ);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct fe__conn *c = s->data;
	struct fe__tls *t = c->tls;
	if (c->fr.ended || nread == 0)
		return;
	if (nread < 0) {
		if (nread == UV_EOF && t->handshake_done) {
			stop_reading(c);
			fe__frame_on_eof(&c->fr);
		} else {
			conn_close(c);
		}
		return;
	}
	if (BIO_write(t->in, buf->base, (int)nread) != (int)nread) {
		conn_close(c);
		return;
	}
	if (!t->handshake_done) {
		handshake(c);
		if (c->fr.ended || !t->handshake_done)
			return;
	}
	feed(c);
	if (!c->fr.ended && !t->want_read)
		stop_reading(c);
}

/* ---- connections -------------------------------------------------------------------- */

static void on_idle(uv_timer_t *tm)
{
	struct fe__conn *c = tm->data;
	struct fe__worker *w = c->w;
	char a[INET6_ADDRSTRLEN + 8];
	if (!c->tls->handshake_done) {
		fe_counter_inc(w->counters, FE_CNT_TLS_HANDSHAKE_FAILED);
		fe_ratelog(&tls_log, FE_LOG_DEBUG, "tls %s: handshake timeout: closing",
		           peer_str(c, a, sizeof(a)));
		conn_close(c);
		return;
	}
	uint64_t idle = w->srv->opts.tcp_idle_timeout_ms;
	uint64_t now = uv_now(&w->loop);
	uint64_t since = now - c->fr.last_activity_ms;
	size_t wq = uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
	if (c->tls->out_busy && wq < c->last_write_queue) {
		c->fr.last_activity_ms = now;
		since = 0;
	}
	c->last_write_queue = wq;
	if (since < idle) {
		uv_timer_start(tm, on_idle, idle - since, 0);
		return;
	}
	fe_counter_inc(w->counters, FE_CNT_TCP_IDLE_CLOSED);
	fe_ratelog(&tls_log, FE_LOG_DEBUG, "tls %s: idle for %llu ms: closing",
	           peer_str(c, a, sizeof(a)), (unsigned long long)since);
	conn_close(c);
}

void fe__tls_on_connection(uv_stream_t *server, int status)
{
	struct fe__listener *l = server->data;
	struct fe_server *srv = l->w->srv;
	char a[INET6_ADDRSTRLEN + 8];
	if (status < 0) {
		fe_ratelog(&tls_log, FE_LOG_WARN, "tls accept: %s", uv_strerror(status));
		return;
	}
	struct fe__conn *c = calloc(1, sizeof(*c));
	struct fe__tls *t = c ? calloc(1, sizeof(*t)) : NULL;
	if (!t) {
		free(c);
		fe_ratelog(&tls_log, FE_LOG_ERR, "tls accept: out of memory");
		return;
	}
	c->tls = t;
	c->destroy = tls_destroy;
	c->client = t->client; /* the verified certificate's name, once the handshake is done */
	if (!fe__conn_accept(c, server, &tls_ops, &tls_log, "tls"))
		return; /* closed: freed, @t with it, by its close callbacks */
	t->ssl = SSL_new(srv->tls_ctx);
	t->in = BIO_new(BIO_s_mem());
	t->out = BIO_new(BIO_s_mem());
	if (!t->ssl || !t->in || !t->out) {
		BIO_free(t->in);
		BIO_free(t->out);
		t->in = t->out = NULL;
		fe_ratelog(&tls_log, FE_LOG_ERR, "tls %s: out of memory",
		           peer_str(c, a, sizeof(a)));
		conn_close(c);
		return;
	}
	BIO_set_mem_eof_return(t->in, -1); /* empty: "retry", not end of file */
	SSL_set_bio(t->ssl, t->in, t->out);
	SSL_set_accept_state(t->ssl);
	uv_timer_start(&c->timer, on_idle, srv->opts.tls_handshake_timeout_ms, 0);
	if (start_reading(c) != 0)
		conn_close(c);
}

/* ---- the server's TLS context -------------------------------------------------------- */

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
	(void)ssl;
	(void)arg;
	static const unsigned char dot[] = {3, 'd', 'o', 't'};
	unsigned char *sel = NULL;
	if (SSL_select_next_proto(&sel, outlen, dot, sizeof(dot), in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK; /* a client without "dot" still gets DNS (RFC 7858) */
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

static void log_open_error(const char *what, const char *path)
{
	char e[256] = "";
	unsigned long code = ERR_get_error();
	if (code)
		ERR_error_string_n(code, e, sizeof(e));
	ERR_clear_error();
	fe_log_err("tls: cannot use the %s %s%s%s", what, path, *e ? ": " : "", e);
}

int fe__tls_ctx_create(const struct fe_server_opts *o, void **out)
{
	*out = NULL;
	if (!o->tls_cert || !o->tls_key) {
		fe_log_err("tls: a TLS listener needs a certificate and a private key");
		return FE_EINVAL;
	}
	struct stat st;
	if (stat(o->tls_key, &st) != 0) {
		fe_log_err("tls: cannot read the private key %s: %s", o->tls_key, strerror(errno));
		return FE_EIO;
	}
	if (st.st_mode & 077) {
		fe_log_err("tls: the private key %s is readable by group or others (mode %03o): "
		           "chmod 600",
		           o->tls_key, (unsigned)(st.st_mode & 0777));
		return FE_EPERM;
	}
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		return FE_ENOMEM;
	int rc = FE_EIO;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, o->tls_cert) != 1) {
		log_open_error("certificate chain", o->tls_cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, o->tls_key, SSL_FILETYPE_PEM) != 1) {
		log_open_error("private key", o->tls_key);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		log_open_error("private key (it does not match the certificate)", o->tls_key);
		goto fail;
	}
	if (o->tls_client_ca) {
		if (SSL_CTX_load_verify_locations(ctx, o->tls_client_ca, NULL) != 1) {
			log_open_error("client CA file", o->tls_client_ca);
			goto fail;
		}
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->tls_client_ca);
		if (names)
			SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
		SSL_CTX_set_verify_depth(ctx, 8);
		static const unsigned char sid[] = "fedenum-dot";
		SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1);
	}
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	*out = ctx;
	return FE_OK;
fail:
	SSL_CTX_free(ctx);
	return rc;
}

void fe__tls_ctx_free(void *ctx)
{
	SSL_CTX_free(ctx);
}
