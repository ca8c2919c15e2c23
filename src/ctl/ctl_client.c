/* The blocking client of the control protocol (fedenumctl, tests): one request, one
 * response, with one deadline over connect, write and read. */
#include "ctl_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Responses are bounded too (a zone list of a very large node stays far below). */
#define MAX_RESPONSE_BYTES (64u << 20)

static int fail(char *err, size_t cap, int rc, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t cap, int rc, const char *fmt, ...)
{
	if (err && cap) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, cap, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Wait for @events on @fd until @deadline_ms (monotonic). 1 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short events, uint64_t deadline_ms)
{
	for (;;) {
		uint64_t now = fe_time_mono_ms();
		if (now >= deadline_ms)
			return 0;
		struct pollfd p = {.fd = fd, .events = events};
		int r = poll(&p, 1, (int)(deadline_ms - now));
		if (r < 0 && errno == EINTR)
			continue;
		return r < 0 ? -1 : r;
	}
}

int fe_ctl_call(const char *path, const char *command, json_t *args, uint32_t timeout_ms,
                json_t **response, char *err, size_t errcap)
{
	*response = NULL;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return fail(err, errcap, FE_EINVAL, "%s: path too long for a socket", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	uint64_t deadline = fe_time_mono_ms() + timeout_ms;
	json_t *req = json_pack("{s:i, s:s}", "version", FE_CTL_PROTO_VERSION, "command", command);
	if (req == NULL)
		return fail(err, errcap, FE_ENOMEM, "out of memory");
	if (args)
		json_object_set(req, "args", args);
	char *text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	char *in = NULL;
	int rc = FE_ENOMEM;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (text == NULL || fd < 0) {
		rc = fail(err, errcap, FE_EIO, "cannot make a socket: %s", strerror(errno));
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;
		rc = e == ENOENT ? FE_ENOENT : e == EACCES || e == EPERM ? FE_EPERM : FE_EIO;
		rc = fail(err, errcap, rc, "cannot connect to the control socket %s: %s%s", path,
		          strerror(e),
		          e == ENOENT || e == ECONNREFUSED ? " (is fedenumd running with it?)"
		          : rc == FE_EPERM ? " (it is for fedenumd's user and group)"
		                           : "");
		goto out;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	size_t tlen = strlen(text), off = 0;
	text[tlen] = '\n'; /* over the NUL: written by length */
	tlen++;
	while (off < tlen) {
		ssize_t w = send(fd, text + off, tlen - off, MSG_NOSIGNAL);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			rc = fail(err, errcap, FE_EIO, "%s: write: %s", path, strerror(errno));
			goto out;
		}
		if (wait_fd(fd, POLLOUT, deadline) <= 0) {
			rc = fail(err, errcap, FE_ETIMEOUT, "%s: no answer within %u ms", path,
			          timeout_ms);
			goto out;
		}
	}
	size_t len = 0, cap = 4096;
	in = malloc(cap);
	if (in == NULL) {
		rc = fail(err, errcap, FE_ENOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		if (len + 1 >= cap) {
			if (cap >= MAX_RESPONSE_BYTES) {
				rc = fail(err, errcap, FE_EIO, "%s: response too large", path);
				goto out;
			}
			char *n = realloc(in, cap * 2);
			if (n == NULL) {
				rc = fail(err, errcap, FE_ENOMEM, "out of memory");
				goto out;
			}
			in = n;
			cap *= 2;
		}
		ssize_t r = recv(fd, in + len, cap - len - 1, 0);
		if (r > 0) {
			len += (size_t)r;
			if (memchr(in + len - (size_t)r, '\n', (size_t)r))
				break;
			continue;
		}
		if (r == 0)
			break;
		if (errno != EAGAIN && errno != EINTR) {
			rc = fail(err, errcap, FE_EIO, "%s: read: %s", path, strerror(errno));
			goto out;
		}
		if (wait_fd(fd, POLLIN, deadline) <= 0) {
			rc = fail(err, errcap, FE_ETIMEOUT, "%s: no answer within %u ms", path,
			          timeout_ms);
			goto out;
		}
	}
	json_error_t jerr;
	*response = json_loadb(in, len, JSON_DISABLE_EOF_CHECK, &jerr);
	if (*response == NULL || !json_is_object(*response)) {
		json_decref(*response);
		*response = NULL;
		rc = fail(err, errcap, FE_EIO, "%s: the response is not a JSON object (%s)", path,
		          len ? jerr.text : "connection closed without a response");
		goto out;
	}
	rc = FE_OK;
out:
	if (fd >= 0)
		close(fd);
	free(text);
	free(in);
	return rc;
}

/* ---- remote (TLS) ---------------------------------------------------------------------- */

/* Drive one SSL operation on a non-blocking socket until it completes or @deadline. Returns
 * its result (> 0), 0 at the peer's close, or -1 (error in @why), -2 (timeout). */
static int ssl_op(SSL *ssl, int fd, uint64_t deadline, int (*op)(SSL *, void *, int), void *buf,
                  int len, char *why, size_t cap)
{
	for (;;) {
		ERR_clear_error();
		int r = op(ssl, buf, len);
		if (r > 0)
			return r;
		int e = SSL_get_error(ssl, r);
		short ev = e == SSL_ERROR_WANT_READ    ? POLLIN
		           : e == SSL_ERROR_WANT_WRITE ? POLLOUT
		                                       : 0;
		if (e == SSL_ERROR_ZERO_RETURN)
			return 0;
		if (!ev) {
			fe__ctl_ssl_error(why, cap);
			return -1;
		}
		int w = wait_fd(fd, ev, deadline);
		if (w == 0)
			return -2;
		if (w < 0) {
			snprintf(why, cap, "%s", strerror(errno));
			return -1;
		}
	}
}

static int op_handshake(SSL *ssl, void *buf, int len)
{
	(void)buf;
	(void)len;
	return SSL_connect(ssl);
}

static int op_write(SSL *ssl, void *buf, int len)
{
	return SSL_write(ssl, buf, len);
}

static int op_read(SSL *ssl, void *buf, int len)
{
	return SSL_read(ssl, buf, len);
}

int fe_ctl_call_remote(const struct fe_ctl_remote *r, const char *command, json_t *args,
                       uint32_t timeout_ms, json_t **response, char *err, size_t errcap)
{
	*response = NULL;
	char where[96], why[256] = "";
	snprintf(where, sizeof(where), "%s@%u", r->addr.host, (unsigned)r->addr.port);
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, r->addr.host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(r->addr.port);
		sl = sizeof(*a4);
	} else if (inet_pton(AF_INET6, r->addr.host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(r->addr.port);
		sl = sizeof(*a6);
	} else {
		return fail(err, errcap, FE_EINVAL, "%s: not a numeric address", r->addr.host);
	}
	uint64_t deadline = fe_time_mono_ms() + timeout_ms;
	json_t *req = json_pack("{s:i, s:s}", "version", FE_CTL_PROTO_VERSION, "command", command);
	if (req == NULL)
		return fail(err, errcap, FE_ENOMEM, "out of memory");
	if (args)
		json_object_set(req, "args", args);
	char *text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	char *in = NULL;
	SSL *ssl = NULL;
	void *ctx = fe__ctl_tls_client_ctx(r, why, sizeof(why));
	int rc, fd = -1;
	if (!text) {
		rc = fail(err, errcap, FE_ENOMEM, "out of memory");
		goto out;
	}
	if (!ctx) {
		rc = fail(err, errcap, FE_EINVAL, "%s", why);
		goto out;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		rc = fail(err, errcap, FE_EIO, "cannot make a socket: %s", strerror(errno));
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&ss, sl) != 0 && errno != EINPROGRESS) {
		rc = fail(err, errcap, FE_ENOENT, "cannot connect to %s: %s", where,
		          strerror(errno));
		goto out;
	}
	int soerr = 0;
	socklen_t el = sizeof(soerr);
	if (wait_fd(fd, POLLOUT, deadline) <= 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &el) != 0 || soerr != 0) {
		rc = fail(err, errcap, soerr ? FE_ENOENT : FE_ETIMEOUT, "cannot connect to %s: %s",
		          where, soerr ? strerror(soerr) : "timed out");
		goto out;
	}
	ssl = fe__ctl_tls_client_ssl(ctx, r, fd);
	if (!ssl) {
		rc = fail(err, errcap, FE_EINVAL, "%s: cannot set up TLS (name or address)", where);
		goto out;
	}
	int h = ssl_op(ssl, fd, deadline, op_handshake, NULL, 0, why, sizeof(why));
	if (h <= 0) {
		long v = SSL_get_verify_result(ssl);
		rc = fail(err, errcap, h == -2 ? FE_ETIMEOUT : FE_EPERM, "%s: TLS: %s%s%s", where,
		          h == -2 ? "no handshake in time" : why, v != X509_V_OK ? ": " : "",
		          v != X509_V_OK ? X509_verify_cert_error_string(v) : "");
		goto out;
	}
	size_t tlen = strlen(text);
	text[tlen++] = '\n'; /* over the NUL: written by length */
	int w = ssl_op(ssl, fd, deadline, op_write, text, (int)tlen, why, sizeof(why));
	if (w != (int)tlen) {
		rc = fail(err, errcap, w == -2 ? FE_ETIMEOUT : FE_EIO, "%s: write: %s", where,
		          w == -2 ? "timed out" : why);
		goto out;
	}
	size_t len = 0, cap = 4096;
	in = malloc(cap);
	if (in == NULL) {
		rc = fail(err, errcap, FE_ENOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		if (len + 1 >= cap) {
			if (cap >= MAX_RESPONSE_BYTES) {
				rc = fail(err, errcap, FE_EIO, "%s: response too large", where);
				goto out;
			}
			char *n = realloc(in, cap * 2);
			if (n == NULL) {
				rc = fail(err, errcap, FE_ENOMEM, "out of memory");
				goto out;
			}
			in = n;
			cap *= 2;
		}
		int got = ssl_op(ssl, fd, deadline, op_read, in + len, (int)(cap - len - 1), why,
		                 sizeof(why));
		if (got > 0) {
			len += (size_t)got;
			if (memchr(in + len - (size_t)got, '\n', (size_t)got))
				break;
			continue;
		}
		if (got == 0 || (got == -1 && len > 0))
			break; /* closed (the server closes after its one response) */
		/* TLS 1.3: a client certificate the node refuses shows here, as its alert. */
		rc = fail(err, errcap, got == -2 ? FE_ETIMEOUT : FE_EPERM, "%s: %s%s", where,
		          got == -2 ? "" : "TLS: ", got == -2 ? "no answer in time" : why);
		goto out;
	}
	json_error_t jerr;
	*response = json_loadb(in, len, JSON_DISABLE_EOF_CHECK, &jerr);
	if (*response == NULL || !json_is_object(*response)) {
		json_decref(*response);
		*response = NULL;
		rc = fail(err, errcap, FE_EIO, "%s: the response is not a JSON object (%s)", where,
		          len ? jerr.text : "connection closed without a response");
		goto out;
	}
	rc = FE_OK;
out:
	if (ssl)
		SSL_free(ssl);
	fe__ctl_tls_ctx_free(ctx);
	if (fd >= 0)
		close(fd);
	free(text);
	free(in);
	return rc;
}
