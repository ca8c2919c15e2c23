/* src/xfr/xfrin_int.h — inside the transfer-in client: the byte stream to the primary (plain
 * TCP, or TLS per RFC 9103), and the response parser run over a memory buffer (the fuzz
 * target's entry). Not part of the module's contract. */
#ifndef FE_XFRIN_INT_H
#define FE_XFRIN_INT_H

#include <stddef.h>
#include <stdint.h>

#include "fedenum/xfr.h"

/* One connection to a primary, or a memory buffer read as if it came from one. */
struct fe__xconn {
	int fd;             /* -1: none */
	void *ssl;          /* SSL *, NULL for plain TCP */
	const uint8_t *mem; /* non-NULL: read from here, never a socket */
	size_t mem_len, mem_off;
};

/* Connect to o->primary before @deadline_ms (monotonic); over TLS when o->tls: TLS 1.3, ALPN
 * "dot", the certificate verified against the context's CA and o->tls_name (else the
 * primary's address). FE_OK, FE_EIO (connection, handshake or verification: @err says which),
 * FE_ETIMEOUT, FE_EAGAIN (cancelled), FE_ENOMEM. */
int fe__xconn_open(struct fe__xconn *c, const struct fe_xfrin_opts *o, uint64_t deadline_ms,
                   char *err, size_t cap);
/* Write all of @buf. FE_OK, FE_EIO, FE_ETIMEOUT, FE_EAGAIN. */
int fe__xconn_write(struct fe__xconn *c, const struct fe_xfrin_opts *o, uint64_t deadline_ms,
                    const uint8_t *buf, size_t n, char *err, size_t cap);
/* Read exactly @n octets. FE_OK; FE_EIO (closed: *closed set, or an error), FE_ETIMEOUT,
 * FE_EAGAIN (o->cancel). */
int fe__xconn_read(struct fe__xconn *c, const struct fe_xfrin_opts *o, uint64_t deadline_ms,
                   uint8_t *buf, size_t n, bool *closed, char *err, size_t cap);
void fe__xconn_close(struct fe__xconn *c); /* close_notify (best effort), then the socket */

/* The response parser alone: @data holds the 2-octet-length-prefixed messages a primary would
 * send after a query of @qtype (SOA, IXFR from serial @held, AXFR) with message ID @id whose
 * TSIG MAC was @mac; each is checked and taken exactly as fe_xfrin_run does (ID, QR,
 * question, TSIG stream with o->key, end rules, limits). *rcode gets an error RCODE of the
 * response; *nrrs the records taken. Returns fe_xfrin_run's codes. */
int fe__xfrin_parse(const struct fe_xfrin_opts *o, uint16_t qtype, uint32_t held, uint16_t id,
                    const uint8_t *mac, size_t mac_len, const uint8_t *data, size_t len,
                    uint16_t *rcode, size_t *nrrs, struct fe_xfrin_result *res);

#endif
