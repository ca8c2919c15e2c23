/* Zone transfer in (secondary side, include/fedenum/xfr.h): one blocking exchange per call,
 * meant for a thread-pool thread. SOA query first (signed), then IXFR from the serial held
 * (RFC 1995) or AXFR (RFC 5936); every message's TSIG checked with the stream verifier
 * (RFC 8945 §5.3.1). The result is a complete master file: the AXFR's records, or the
 * previous file with the IXFR's differences applied. Nothing is written to the store here. */
#include "fedenum/tsig.h"
#include "fedenum/util.h"
#include "fedenum/xfr.h"

#include <errno.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MSG_CAP 65535

struct ex {
	const struct fe_xfrin_opts *o;
	struct fe_xfrin_result *res;
	uint64_t deadline_ms;
	uint8_t qname[LDNS_MAX_DOMAINLEN + 1];
	size_t qname_len;
	ldns_rdf *qrdf; /* the apex, for comparisons */
};

static void fail(struct ex *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct ex *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->res->err, sizeof(e->res->err), fmt, ap);
	va_end(ap);
}

static bool serial_gt(uint32_t a, uint32_t b) /* RFC 1982 */
{
	return a != b && (int32_t)(a - b) > 0;
}

/* The rcode's name from ldns's table (ldns_pkt_rcode2str allocates the string). */
static const char *rcode_str(uint16_t rcode)
{
	const ldns_lookup_table *l = ldns_lookup_by_id(ldns_rcodes, rcode);
	return l && l->name ? l->name : "an unknown rcode";
}

static uint32_t soa_serial(const ldns_rr *rr)
{
	return ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
}

static int dial(struct ex *e)
{
	int fd = socket(e->o->primary.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fail(e, "socket: %s", strerror(errno));
		return -1;
	}
	struct timeval tv = {.tv_sec = 5};
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (e->o->source && e->o->source->sa_family == e->o->primary.ss_family &&
	    bind(fd, e->o->source, e->o->source_len) != 0) {
		fail(e, "bind to the source address: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)&e->o->primary, e->o->primary_len) != 0) {
		fail(e, "connect: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Read exactly @n octets before the deadline. */
static int read_full(struct ex *e, int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		uint64_t now = fe_time_mono_ms();
		if (now >= e->deadline_ms) {
			fail(e, "transfer time limit (%u ms) reached", e->o->max_time_ms);
			return FE_ETIMEOUT;
		}
		if (e->o->cancel && __atomic_load_n(e->o->cancel, __ATOMIC_RELAXED)) {
			fail(e, "stopped");
			return FE_EAGAIN;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		uint64_t wait = e->deadline_ms - now;
		int pr = poll(&p, 1, (int)(wait < 250 ? wait : 250));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			continue;
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fail(e, "connection closed by the primary after %llu messages",
			     (unsigned long long)e->res->messages);
			return FE_EIO;
		}
		got += (size_t)r;
	}
	return FE_OK;
}

/* Query: ID, the apex question, and for IXFR the SOA with @serial in the authority
 * section (RFC 1995 §3); signed. */
static int make_query(struct ex *e, uint16_t id, uint16_t qtype, uint32_t serial, uint8_t *buf,
                      size_t *len, uint8_t *mac, size_t *mac_len)
{
	size_t n = 0;
	uint8_t h[12] = {(uint8_t)(id >> 8),         (uint8_t)id, 0, 0, 0, 1, 0, 0, 0,
	                 qtype == LDNS_RR_TYPE_IXFR, 0,           0};
	memcpy(buf, h, 12);
	n = 12;
	memcpy(buf + n, e->qname, e->qname_len);
	n += e->qname_len;
	buf[n++] = (uint8_t)(qtype >> 8);
	buf[n++] = (uint8_t)qtype;
	buf[n++] = 0;
	buf[n++] = 1;
	if (qtype == LDNS_RR_TYPE_IXFR) {
		const uint8_t soa[] = {0xc0, 12, 0, 6, 0, 1, 0, 0, 0, 0, 0, 22, 0, 0};
		memcpy(buf + n, soa, sizeof(soa));
		n += sizeof(soa);
		buf[n++] = (uint8_t)(serial >> 24);
		buf[n++] = (uint8_t)(serial >> 16);
		buf[n++] = (uint8_t)(serial >> 8);
		buf[n++] = (uint8_t)serial;
		memset(buf + n, 0, 16);
		n += 16;
	}
	*len = n;
	return fe_tsig_sign(buf, len, MSG_CAP, e->o->key, NULL, 0, NULL, mac, mac_len);
}

/* What an exchange collects: the answer RRs in order, until the end rule is met. */
struct coll {
	uint16_t qtype;
	uint32_t held; /* IXFR: serial sent */
	ldns_rr_list *rrs;
	bool done;
	/* end detection */
	uint32_t first; /* serial of the first SOA */
	int style;      /* 0 unknown, 1 AXFR, 2 IXFR incremental */
	bool add_phase;
};

/* Take one verified message's answer section; decides the end of the response. */
static int take(struct ex *e, struct coll *c, ldns_pkt *pkt)
{
	ldns_rr_list *an = ldns_pkt_answer(pkt);
	for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
		if (c->done) {
			fail(e, "records after the final SOA");
			return FE_EFORMAT;
		}
		ldns_rr *rr = ldns_rr_list_rr(an, i);
		size_t k = ldns_rr_list_rr_count(c->rrs);
		bool is_soa = ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA;
		if (is_soa && k > 0 &&
		    ldns_dname_compare(ldns_rr_owner(rr),
		                       ldns_rr_owner(ldns_rr_list_rr(c->rrs, 0))) != 0) {
			fail(e, "an SOA outside the apex");
			return FE_EFORMAT;
		}
		if (k == 0) {
			if (!is_soa) {
				fail(e, "the first record is not the SOA (RFC 5936 §2.2)");
				return FE_EFORMAT;
			}
			c->first = soa_serial(rr);
		} else if (k == 1) {
			if (is_soa && c->qtype == LDNS_RR_TYPE_IXFR && soa_serial(rr) != c->first)
				c->style = 2;
			else
				c->style = 1;
		}
		if (k >= 1 && is_soa) {
			uint32_t s = soa_serial(rr);
			if (c->style == 1) {
				if (s != c->first) {
					fail(e, "the last SOA (serial %u) is not the first (%u)", s,
					     c->first);
					return FE_EFORMAT;
				}
				c->done = true;
			} else if (k >= 2) {
				if (c->add_phase && s == c->first)
					c->done = true;
				else
					c->add_phase = !c->add_phase;
			}
		}
		if (e->o->max_rrs && k + 1 > e->o->max_rrs) {
			fail(e, "more than %llu records (limit)",
			     (unsigned long long)e->o->max_rrs);
			return FE_ERANGE;
		}
		if (!ldns_rr_list_push_rr(c->rrs, ldns_rr_clone(rr)))
			return FE_ENOMEM;
	}
	return FE_OK;
}

/* One TCP exchange: query @qtype, read and verify messages until the response ends.
 * *rcode_out: the response's RCODE (the caller decides about fallbacks). */
static int exchange(struct ex *e, struct coll *c, uint16_t *rcode_out)
{
	uint8_t *buf = malloc(MSG_CAP + 2);
	if (!buf)
		return FE_ENOMEM;
	uint8_t mac[FE_TSIG_MAC_MAX];
	size_t mac_len = 0, qlen = 0;
	uint16_t id = 0;
	if (getrandom(&id, sizeof(id), 0) != (ssize_t)sizeof(id))
		id = (uint16_t)fe_time_mono_us(); /* the TSIG, not the ID, authenticates */
	struct fe_tsig_stream *ts = NULL;
	int rc = make_query(e, id, c->qtype, c->held, buf + 2, &qlen, mac, &mac_len);
	if (rc != FE_OK) {
		fail(e, "cannot sign the query: %s", fe_strerror(rc));
		goto out;
	}
	rc = fe_tsig_stream_create(e->o->key, mac, mac_len, &ts);
	if (rc != FE_OK)
		goto out;
	int fd = dial(e);
	if (fd < 0) {
		rc = FE_EIO;
		goto out;
	}
	buf[0] = (uint8_t)(qlen >> 8);
	buf[1] = (uint8_t)qlen;
	if (write(fd, buf, qlen + 2) != (ssize_t)(qlen + 2)) {
		fail(e, "cannot send the query: %s", strerror(errno));
		rc = FE_EIO;
		goto out_fd;
	}
	*rcode_out = 0;
	while (!c->done) {
		uint8_t lb[2];
		rc = read_full(e, fd, lb, 2);
		if (rc != FE_OK)
			goto out_fd;
		size_t mlen = (size_t)lb[0] << 8 | lb[1];
		if (mlen < 12) {
			fail(e, "a message of %zu octets", mlen);
			rc = FE_EFORMAT;
			goto out_fd;
		}
		rc = read_full(e, fd, buf, mlen);
		if (rc != FE_OK)
			goto out_fd;
		e->res->messages++;
		e->res->bytes += mlen;
		if (e->o->max_bytes && e->res->bytes > e->o->max_bytes) {
			fail(e, "more than %llu octets (limit)",
			     (unsigned long long)e->o->max_bytes);
			rc = FE_ERANGE;
			goto out_fd;
		}
		if (((uint16_t)buf[0] << 8 | buf[1]) != id || !(buf[2] & 0x80)) {
			fail(e, "a message that is not the answer (ID or QR)");
			rc = FE_EFORMAT;
			goto out_fd;
		}
		struct fe_tsig_result tr;
		rc = fe_tsig_stream_verify(ts, buf, mlen, &tr);
		if (rc != FE_OK) {
			fail(e, "TSIG of message %llu does not verify (%s, error %u)",
			     (unsigned long long)e->res->messages, fe_strerror(rc),
			     (unsigned)tr.rr_error);
			rc = FE_EPERM;
			goto out_fd;
		}
		ldns_pkt *pkt = NULL;
		if (ldns_wire2pkt(&pkt, buf, mlen) != LDNS_STATUS_OK) {
			fail(e, "malformed message %llu", (unsigned long long)e->res->messages);
			rc = FE_EFORMAT;
			goto out_fd;
		}
		uint16_t rcode = ldns_pkt_get_rcode(pkt);
		ldns_rr_list *q = ldns_pkt_question(pkt);
		bool qok = ldns_rr_list_rr_count(q) <= 1 &&
		           (e->res->messages > 1 || ldns_rr_list_rr_count(q) == 1);
		if (qok && ldns_rr_list_rr_count(q) == 1) {
			ldns_rr *qr = ldns_rr_list_rr(q, 0);
			qok = ldns_rr_get_type(qr) == c->qtype &&
			      ldns_dname_compare(ldns_rr_owner(qr), e->qrdf) == 0;
		}
		if (!qok) {
			ldns_pkt_free(pkt);
			fail(e, "message %llu: not the question asked",
			     (unsigned long long)e->res->messages);
			rc = FE_EFORMAT;
			goto out_fd;
		}
		if (rcode != LDNS_RCODE_NOERROR) {
			ldns_pkt_free(pkt);
			*rcode_out = rcode;
			rc = FE_OK;
			goto out_fd;
		}
		rc = take(e, c, pkt);
		ldns_pkt_free(pkt);
		if (rc != FE_OK)
			goto out_fd;
		/* IXFR answered with the SOA alone: nothing newer (RFC 1995 §2) */
		if (c->qtype == LDNS_RR_TYPE_IXFR && ldns_rr_list_rr_count(c->rrs) == 1 &&
		    !serial_gt(c->first, c->held))
			c->done = true;
		if (c->qtype == LDNS_RR_TYPE_SOA)
			c->done = true;
	}
	if (fe_tsig_stream_end(ts) != FE_OK) {
		fail(e, "the last message is not signed (RFC 8945 §5.3.1)");
		rc = FE_EPERM;
	}
out_fd:
	close(fd);
out:
	fe_tsig_stream_destroy(ts);
	free(buf);
	return rc;
}

static void coll_init(struct coll *c, uint16_t qtype, uint32_t held)
{
	memset(c, 0, sizeof(*c));
	c->qtype = qtype;
	c->held = held;
	c->rrs = ldns_rr_list_new();
}

static int write_zone(struct ex *e, const char *path, const ldns_rr *soa, ldns_rr_list *rrs,
                      size_t from, size_t to)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fail(e, "%s: %s", path, strerror(errno));
		return FE_EIO;
	}
	ldns_rr_print(f, soa);
	for (size_t i = from; i < to; i++) {
		ldns_rr *rr = ldns_rr_list_rr(rrs, i);
		if (rr && ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA)
			ldns_rr_print(f, rr);
	}
	int bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		fail(e, "%s: write error", path);
		return FE_EIO;
	}
	e->res->rrs = to - from;
	return FE_OK;
}

/* RFC 1995 §4 sequences applied to the previous master file @base. */
static int apply_ixfr(struct ex *e, const char *base, const char *out, ldns_rr_list *rrs)
{
	FILE *f = fopen(base, "r");
	if (!f) {
		fail(e, "%s: %s (the previous version's file)", base, strerror(errno));
		return FE_ENOENT;
	}
	ldns_zone *z = NULL;
	int line = 0;
	ldns_status s = ldns_zone_new_frm_fp_l(&z, f, NULL, 3600, LDNS_RR_CLASS_IN, &line);
	fclose(f);
	if (s != LDNS_STATUS_OK) {
		fail(e, "%s:%d: %s", base, line, ldns_get_errorstr_by_id(s));
		return FE_EFORMAT;
	}
	int rc = FE_OK;
	ldns_rr_list *zr = ldns_zone_rrs(z);
	if (soa_serial(ldns_zone_soa(z)) != soa_serial(ldns_rr_list_rr(rrs, 1))) {
		fail(e, "the IXFR starts at serial %u, the file holds %u",
		     soa_serial(ldns_rr_list_rr(rrs, 1)), soa_serial(ldns_zone_soa(z)));
		rc = FE_EFORMAT;
		goto out;
	}
	size_t n = ldns_rr_list_rr_count(rrs);
	bool adding = true; /* the first SOA starts a removal sequence */
	for (size_t i = 1; i + 1 < n; i++) {
		ldns_rr *rr = ldns_rr_list_rr(rrs, i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA) {
			adding = !adding;
			continue;
		}
		if (adding) {
			ldns_rr_list_push_rr(zr, ldns_rr_clone(rr));
			continue;
		}
		size_t m = ldns_rr_list_rr_count(zr), j;
		for (j = 0; j < m; j++)
			if (ldns_rr_compare(ldns_rr_list_rr(zr, j), rr) == 0)
				break;
		if (j == m) {
			char *t = ldns_rr2str(rr);
			if (t && *t && t[strlen(t) - 1] == '\n')
				t[strlen(t) - 1] = '\0';
			fail(e, "the IXFR removes a record the zone does not hold: %s",
			     t ? t : "?");
			free(t);
			rc = FE_EFORMAT;
			goto out;
		}
		ldns_rr_free(ldns_rr_list_rr(zr, j));
		ldns_rr_list_set_rr(zr, ldns_rr_list_rr(zr, m - 1), j);
		ldns_rr_list_set_rr_count(zr, m - 1);
	}
	rc = write_zone(e, out, ldns_rr_list_rr(rrs, n - 1), zr, 0, ldns_rr_list_rr_count(zr));
out:
	ldns_zone_deep_free(z);
	return rc;
}

int fe_xfrin_run(const struct fe_xfrin_opts *o, const char *base, const char *out,
                 struct fe_xfrin_result *res)
{
	memset(res, 0, sizeof(*res));
	struct ex e = {.o = o, .res = res};
	e.deadline_ms = fe_time_mono_ms() + (o->max_time_ms ? o->max_time_ms : 600000);
	ldns_rdf *qn = ldns_dname_new_frm_str(o->apex);
	if (!qn || ldns_rdf_size(qn) > sizeof(e.qname)) {
		ldns_rdf_deep_free(qn);
		fail(&e, "not a domain name: %s", o->apex);
		return FE_EINVAL;
	}
	ldns_dname2canonical(qn);
	e.qname_len = ldns_rdf_size(qn);
	memcpy(e.qname, ldns_rdf_data(qn), e.qname_len);
	e.qrdf = qn;

	struct coll c;
	uint16_t rcode = 0;
	coll_init(&c, LDNS_RR_TYPE_SOA, 0);
	int rc = exchange(&e, &c, &rcode);
	if (rc == FE_OK && (rcode || ldns_rr_list_rr_count(c.rrs) < 1)) {
		fail(&e, "SOA query answered %s", rcode ? rcode_str(rcode) : "without SOA");
		rc = FE_EPERM;
	}
	if (rc != FE_OK)
		goto out;
	res->primary_serial = c.first;
	{
		ldns_rr *soa = ldns_rr_list_rr(c.rrs, 0);
		res->refresh_s = ldns_rdf2native_int32(ldns_rr_rdf(soa, 3));
		res->retry_s = ldns_rdf2native_int32(ldns_rr_rdf(soa, 4));
		res->expire_s = ldns_rdf2native_int32(ldns_rr_rdf(soa, 5));
	}
	ldns_rr_list_deep_free(c.rrs);
	c.rrs = NULL;
	res->messages = res->bytes = 0; /* from here on: the transfer's */
	if (o->has_serial && !serial_gt(res->primary_serial, o->serial)) {
		res->kind = FE_XFRIN_UPTODATE;
		res->serial = o->serial;
		goto out;
	}
	bool ixfr = o->has_serial && base;
	if (ixfr) {
		coll_init(&c, LDNS_RR_TYPE_IXFR, o->serial);
		rc = exchange(&e, &c, &rcode);
		if (rc == FE_OK && rcode) { /* RFC 1995 §2: a server may refuse IXFR */
			fe_log_info("xfrin %s: IXFR answered %s; falling back to AXFR", o->apex,
			            rcode_str(rcode));
			ixfr = false;
		} else if (rc != FE_OK) {
			goto out;
		} else if (c.style == 2) {
			rc = apply_ixfr(&e, base, out, c.rrs);
			if (rc == FE_OK) {
				res->kind = FE_XFRIN_IXFR;
				res->serial = c.first;
				goto out;
			}
			fe_log_warn("xfrin %s: IXFR not applicable (%s); falling back to AXFR",
			            o->apex, res->err);
			ixfr = false;
		} else if (c.style == 0 || ldns_rr_list_rr_count(c.rrs) == 1) {
			res->kind = FE_XFRIN_UPTODATE;
			res->serial = o->serial;
			goto out;
		} else { /* AXFR-style answer to the IXFR (RFC 1995 §4) */
			res->kind = FE_XFRIN_AXFR;
			res->serial = c.first;
			rc = write_zone(&e, out, ldns_rr_list_rr(c.rrs, 0), c.rrs, 1,
			                ldns_rr_list_rr_count(c.rrs) - 1);
			goto out;
		}
		ldns_rr_list_deep_free(c.rrs);
		c.rrs = NULL;
		res->messages = res->bytes = 0;
	}
	coll_init(&c, LDNS_RR_TYPE_AXFR, 0);
	rc = exchange(&e, &c, &rcode);
	if (rc == FE_OK && rcode) {
		fail(&e, "AXFR answered %s", rcode_str(rcode));
		rc = FE_EPERM;
	}
	if (rc != FE_OK)
		goto out;
	if (!c.done) {
		fail(&e, "the AXFR ended without its final SOA");
		rc = FE_EFORMAT;
		goto out;
	}
	res->kind = FE_XFRIN_AXFR;
	res->serial = c.first;
	rc = write_zone(&e, out, ldns_rr_list_rr(c.rrs, 0), c.rrs, 1,
	                ldns_rr_list_rr_count(c.rrs) - 1);
out:
	ldns_rr_list_deep_free(c.rrs);
	ldns_rdf_deep_free(e.qrdf);
	return rc;
}

const char *fe_xfrin_kind_str(enum fe_xfrin_kind k)
{
	switch (k) {
	case FE_XFRIN_UPTODATE:
		return "up to date";
	case FE_XFRIN_AXFR:
		return "AXFR";
	case FE_XFRIN_IXFR:
		return "IXFR";
	}
	return "?";
}
