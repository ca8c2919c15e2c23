/* src/ctl/ctl_int.h — internals of the control module. */
#ifndef FE_CTL_INT_H
#define FE_CTL_INT_H

#include "fedenum/ctl.h"
#include "fedenum/util.h"

/* A growable text buffer for responses and the metrics page. */
struct fe__ctl_text {
	char *p;
	size_t len, cap;
	bool oom;
};
void fe__ctl_text_add(struct fe__ctl_text *t, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* ctl_tls.c: TLS for remote administration. Contexts are SSL_CTX *, connections SSL *
 * (void * here so that the module's other files need no OpenSSL headers). NULL on error,
 * with what and why in @err. */
void *fe__ctl_tls_server_ctx(const struct fe_ctl_tls_opts *o, char *err, size_t cap);
void *fe__ctl_tls_client_ctx(const struct fe_ctl_remote *r, char *err, size_t cap);
/* A client connection on connected socket @fd, checking the node's name or address. */
void *fe__ctl_tls_client_ssl(void *ctx, const struct fe_ctl_remote *r, int fd);
void fe__ctl_tls_ctx_free(void *ctx);
/* The name of the peer's certificate: first DNS subjectAltName, else the common name. */
bool fe__ctl_tls_peer_name(void *ssl, char *out, size_t cap);
/* OpenSSL's first queued error as text; the queue is emptied. */
void fe__ctl_ssl_error(char *buf, size_t cap);

#endif
