/* The transfer client's byte stream (xfrin_int.h): plain TCP, or TLS over the same socket
 * for XFR over TLS (RFC 9103). Blocking from the caller's view, but the socket is
 * non-blocking under TLS and every wait is a poll bounded by the refresh's one deadline and
 * by the cancel flag, checked at least every quarter of a second. */
#include "xfrin_int.h"

#include "fedenum/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct fe_xfrin_tls {
	SSL_CTX *ctx;
};

static void ssl_err(char *err, size_t cap, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "";
	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, cap, "%s%s%s", what, buf[0] ? ": " : "", buf);
	ERR_clear_error();
}

int fe_xfrin_tls_create(const struct fe_xfrin_tls_opts *o, struct fe_xfrin_tls **out, char *err,
                        size_t cap)
{
	*out = NULL;
	err[0] = '\0';
	if (!o->ca_file || !o->ca_file[0] || (!o->cert_file) != (!o->key_file)) {
		snprintf(err, cap,
		         "XFR over TLS needs a CA file (and a client key with a "
		         "client certificate)");
		return FE_EINVAL;
	}
	struct fe_xfrin_tls *t = calloc(1, sizeof(*t));
	if (!t)
		return FE_ENOMEM;
	int rc = FE_EIO;
	t->ctx = SSL_CTX_new(TLS_client_method());
	if (!t->ctx) {
		ssl_err(err, cap, "SSL_CTX_new");
		rc = FE_ENOMEM;
		goto fail;
	}
	/* RFC 9103 §9: XoT needs TLS 1.3; §7.1: ALPN "dot" */
	static const unsigned char alpn[] = {3, 'd', 'o', 't'};
	if (SSL_CTX_set_min_proto_version(t->ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_alpn_protos(t->ctx, alpn, sizeof(alpn)) != 0) {
		ssl_err(err, cap, "TLS settings");
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(t->ctx, o->ca_file, NULL) != 1) {
		char what[300];
		snprintf(what, sizeof(what), "CA file %s", o->ca_file);
		ssl_err(err, cap, what);
		goto fail;
	}
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	if (o->cert_file) {
		char what[600];
		snprintf(what, sizeof(what), "client certificate %s / key %s", o->cert_file,
		         o->key_file);
		if (SSL_CTX_use_certificate_chain_file(t->ctx, o->cert_file) != 1 ||
		    SSL_CTX_use_PrivateKey_file(t->ctx, o->key_file, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(t->ctx) != 1) {
			ssl_err(err, cap, what);
			goto fail;
		}
	}
	*out = t;
	return FE_OK;
fail:
	fe_xfrin_tls_destroy(t);
	return rc;
}

void fe_xfrin_tls_destroy(struct fe_xfrin_tls *t)
{
	if (!t)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

/* Wait for @events before the deadline; FE_OK when ready. */
static int wait_fd(int fd, short events, const struct fe_xfrin_opts *o, uint64_t deadline_ms,
                   char *err, size_t cap)
{
	for (;;) {
		uint64_t now = fe_time_mono_ms();
		if (now >= deadline_ms) {
			snprintf(err, cap, "transfer time limit (%u ms) reached",
			         o->max_time_ms ? o->max_time_ms : 600000u);
			return FE_ETIMEOUT;
		}
		if (o->cancel && __atomic_load_n(o->cancel, __ATOMIC_RELAXED)) {
			snprintf(err, cap, "stopped");
			return FE_EAGAIN;
		}
		struct pollfd p = {.fd = fd, .events = events};
		uint64_t wait = deadline_ms - now;
		int pr = poll(&p, 1, (int)(wait < 250 ? wait : 250));
		if (pr > 0)
			return FE_OK;
		if (pr < 0 && errno != EINTR) {
			snprintf(err, cap, "poll: %s", strerror(errno));
			return FE_EIO;
		}
	}
}

/* One SSL call's outcome: FE_OK to retry after waiting (*events set), or an error. */
static int ssl_again(struct fe__xconn *c, int r, short *events, const char *what, char *err,
                     size_t cap)
{
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		*events = POLLIN;
		return FE_OK;
	case SSL_ERROR_WANT_WRITE:
		*events = POLLOUT;
		return FE_OK;
	case SSL_ERROR_ZERO_RETURN:
		snprintf(err, cap, "%s: TLS closed by the primary", what);
		return FE_EIO;
	default:
		if (ERR_peek_error())
			ssl_err(err, cap, what);
		else
			snprintf(err, cap, "%s: connection closed (%s)", what,
			         errno ? strerror(errno) : "end of stream");
		return FE_EIO;
	}
}

static int tls_start(struct fe__xconn *c, const struct fe_xfrin_opts *o, uint64_t deadline_ms,
                     char *err, size_t cap)
{
	SSL *ssl = SSL_new(o->tls->ctx);
	if (!ssl) {
		ssl_err(err, cap, "SSL_new");
		return FE_ENOMEM;
	}
	c->ssl = ssl;
	int fl = fcntl(c->fd, F_GETFL);
	if (fl < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) != 0 || SSL_set_fd(ssl, c->fd) != 1) {
		snprintf(err, cap, "TLS set-up failed");
		return FE_EIO;
	}
	/* the name to verify: the configured one (also sent as SNI), else the address */
	X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
	char addr[INET6_ADDRSTRLEN] = "";
	const struct sockaddr_storage *sa = &o->primary;
	if (sa->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, addr, sizeof(addr));
	else if (sa->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, addr,
		          sizeof(addr));
	int ok = o->tls_name ? X509_VERIFY_PARAM_set1_host(vp, o->tls_name, 0) == 1 &&
	                               SSL_set_tlsext_host_name(ssl, o->tls_name) == 1
	                     : X509_VERIFY_PARAM_set1_ip_asc(vp, addr) == 1;
	if (!ok) {
		snprintf(err, cap, "TLS: cannot set the expected name %s",
		         o->tls_name ? o->tls_name : addr);
		return FE_EINVAL;
	}
	for (;;) {
		ERR_clear_error();
		errno = 0;
		int r = SSL_connect(ssl);
		if (r == 1)
			break;
		short ev = 0;
		long vr = SSL_get_verify_result(ssl);
		int rc = ssl_again(c, r, &ev, "TLS handshake", err, cap);
		if (rc != FE_OK) {
			if (vr != X509_V_OK) /* the reason that matters to an operator */
				snprintf(err, cap,
				         "TLS: the primary's certificate is refused: %s "
				         "(expected name %s)",
				         X509_verify_cert_error_string(vr),
				         o->tls_name ? o->tls_name : addr);
			return rc;
		}
		rc = wait_fd(c->fd, ev, o, deadline_ms, err, cap);
		if (rc != FE_OK)
			return rc;
	}
	const unsigned char *sel = NULL;
	unsigned sel_len = 0;
	SSL_get0_alpn_selected(ssl, &sel, &sel_len);
	if (sel_len != 3 || memcmp(sel, "dot", 3) != 0) {
		snprintf(err, cap, "TLS: the primary did not select ALPN \"dot\" (RFC 9103 §7.1)");
		return FE_EIO;
	}
	return FE_OK;
}

int fe__xconn_open(struct fe__xconn *c, const struct fe_xfrin_opts *o, uint64_t deadline_ms,
                   char *err, size_t cap)
{
	memset(c, 0, sizeof(*c));
	c->fd = socket(o->primary.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		snprintf(err, cap, "socket: %s", strerror(errno));
		return FE_EIO;
	}
	struct timeval tv = {.tv_sec = 5};
	(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* from the node's own address, for a primary that admits its secondaries by address */
	if (o->source && o->source->sa_family == o->primary.ss_family &&
	    bind(c->fd, o->source, o->source_len) != 0) {
		snprintf(err, cap, "bind to the source address: %s", strerror(errno));
		close(c->fd);
		c->fd = -1;
		return FE_EIO;
	}
	if (connect(c->fd, (const struct sockaddr *)&o->primary, o->primary_len) != 0) {
		snprintf(err, cap, "connect: %s", strerror(errno));
		fe__xconn_close(c);
		return FE_EIO;
	}
	if (!o->tls)
		return FE_OK;
	int rc = tls_start(c, o, deadline_ms, err, cap);
	if (rc != FE_OK)
		fe__xconn_close(c);
	return rc;
}

int fe__xconn_write(struct fe__xconn *c, const struct fe_xfrin_opts *o, uint64_t deadline_ms,
                    const uint8_t *buf, size_t n, char *err, size_t cap)
{
	if (c->mem)
		return FE_OK;
	size_t done = 0;
	while (done < n) {
		if (!c->ssl) {
			ssize_t w = write(c->fd, buf + done, n - done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				snprintf(err, cap, "cannot send the query: %s", strerror(errno));
				return FE_EIO;
			}
			done += (size_t)w;
			continue;
		}
		ERR_clear_error();
		errno = 0;
		int w = SSL_write(c->ssl, buf + done, (int)(n - done));
		if (w > 0) {
			done += (size_t)w;
			continue;
		}
		short ev = 0;
		int rc = ssl_again(c, w, &ev, "TLS write", err, cap);
		if (rc == FE_OK)
			rc = wait_fd(c->fd, ev, o, deadline_ms, err, cap);
		if (rc != FE_OK)
			return rc;
	}
	return FE_OK;
}

int fe__xconn_read(struct fe__xconn *c, const struct fe_xfrin_opts *o, uint64_t deadline_ms,
                   uint8_t *buf, size_t n, bool *closed, char *err, size_t cap)
{
	*closed = false;
	if (c->mem) {
		if (c->mem_len - c->mem_off < n) {
			*closed = true;
			return FE_EIO;
		}
		memcpy(buf, c->mem + c->mem_off, n);
		c->mem_off += n;
		return FE_OK;
	}
	size_t got = 0;
	while (got < n) {
		if (c->ssl) {
			ERR_clear_error();
			errno = 0;
			int r = SSL_read(c->ssl, buf + got, (int)(n - got));
			if (r > 0) {
				got += (size_t)r;
				continue;
			}
			short ev = 0;
			int e = SSL_get_error(c->ssl, r);
			if (e == SSL_ERROR_ZERO_RETURN ||
			    (e == SSL_ERROR_SYSCALL && !ERR_peek_error())) {
				*closed = true;
				return FE_EIO;
			}
			int rc = ssl_again(c, r, &ev, "TLS read", err, cap);
			if (rc == FE_OK)
				rc = wait_fd(c->fd, ev, o, deadline_ms, err, cap);
			if (rc != FE_OK)
				return rc;
			continue;
		}
		int rc = wait_fd(c->fd, POLLIN, o, deadline_ms, err, cap);
		if (rc != FE_OK)
			return rc;
		ssize_t r = read(c->fd, buf + got, n - got);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0) {
			*closed = true;
			return FE_EIO;
		}
		got += (size_t)r;
	}
	return FE_OK;
}

void fe__xconn_close(struct fe__xconn *c)
{
	if (c->ssl) {
		(void)SSL_shutdown(c->ssl); /* close_notify, non-blocking: best effort */
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}
