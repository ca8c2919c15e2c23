/* TLS for remote administration (docs/control.md "Remote administration"): the server's
 * context (TLS 1.3, a client certificate required and verified), the name a certificate
 * carries, and the client's context (the node's certificate verified against a CA and a
 * name or address). */
#include "ctl_int.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* OpenSSL's first queued error as text (the queue is emptied). */
void fe__ctl_ssl_error(char *buf, size_t cap)
{
	unsigned long e = ERR_get_error();
	if (e)
		ERR_error_string_n(e, buf, cap);
	else
		snprintf(buf, cap, "%s", errno ? strerror(errno) : "unknown TLS error");
	ERR_clear_error();
}

/* A private key must be the owner's alone (as every secret fedenumd reads). */
static bool key_mode_ok(const char *path, char *err, size_t cap)
{
	struct stat sb;
	if (stat(path, &sb) != 0) {
		snprintf(err, cap, "%s: %s", path, strerror(errno));
		return false;
	}
	if (sb.st_mode & 077) {
		snprintf(err, cap, "%s: readable by group or others (mode %03o): chmod 600 it",
		         path, (unsigned)(sb.st_mode & 0777));
		return false;
	}
	return true;
}

static bool load_pair(SSL_CTX *ctx, const char *cert, const char *key, char *err, size_t cap)
{
	char why[256];
	if (!key_mode_ok(key, err, cap))
		return false;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		fe__ctl_ssl_error(why, sizeof(why));
		snprintf(err, cap, "%s: not a PEM certificate chain (%s)", cert, why);
		return false;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		fe__ctl_ssl_error(why, sizeof(why));
		snprintf(err, cap, "%s: not the private key of %s (%s)", key, cert, why);
		return false;
	}
	return true;
}

static bool load_ca(SSL_CTX *ctx, const char *ca, char *err, size_t cap)
{
	char why[256];
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		fe__ctl_ssl_error(why, sizeof(why));
		snprintf(err, cap, "%s: no PEM CA certificate (%s)", ca, why);
		return false;
	}
	SSL_CTX_set_verify_depth(ctx, 8);
	return true;
}

void *fe__ctl_tls_server_ctx(const struct fe_ctl_tls_opts *o, char *err, size_t cap)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		snprintf(err, cap, "out of memory");
		return NULL;
	}
	/* A channel that can reload and change a node: TLS 1.3 only, no renegotiation, no
	 * session tickets (every connection shows its certificate). */
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (!load_pair(ctx, o->cert, o->key, err, cap) || !load_ca(ctx, o->client_ca, err, cap)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->client_ca);
	if (names)
		SSL_CTX_set_client_CA_list(ctx, names);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	return ctx;
}

void fe__ctl_tls_ctx_free(void *ctx)
{
	SSL_CTX_free(ctx);
}

bool fe__ctl_tls_peer_name(void *ssl, char *out, size_t cap)
{
	out[0] = '\0';
	X509 *cert = SSL_get1_peer_certificate(ssl);
	if (!cert)
		return false;
	GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans) && !out[0]; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
		if (g->type != GEN_DNS)
			continue;
		const unsigned char *d = ASN1_STRING_get0_data(g->d.dNSName);
		int n = ASN1_STRING_length(g->d.dNSName);
		if (n > 0 && (size_t)n < cap && memchr(d, '\0', (size_t)n) == NULL) {
			memcpy(out, d, (size_t)n);
			out[n] = '\0';
		}
	}
	GENERAL_NAMES_free(sans);
	if (!out[0])
		X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, out,
		                          (int)cap);
	X509_free(cert);
	return out[0] != '\0';
}

void *fe__ctl_tls_client_ctx(const struct fe_ctl_remote *r, char *err, size_t cap)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		snprintf(err, cap, "out of memory");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	if (!load_pair(ctx, r->cert, r->key, err, cap) || !load_ca(ctx, r->ca, err, cap)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

void *fe__ctl_tls_client_ssl(void *ctx, const struct fe_ctl_remote *r, int fd)
{
	SSL *ssl = SSL_new(ctx);
	if (!ssl)
		return NULL;
	bool ok = SSL_set_fd(ssl, fd) == 1;
	if (ok && r->name) {
		ok = SSL_set1_host(ssl, r->name) == 1 &&
		     SSL_set_tlsext_host_name(ssl, r->name) == 1;
	} else if (ok) {
		/* No name: the node's certificate must carry its address as an IP SAN. */
		X509_VERIFY_PARAM *p = SSL_get0_param(ssl);
		ok = X509_VERIFY_PARAM_set1_ip_asc(p, r->addr.host) == 1;
	}
	if (!ok) {
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}
