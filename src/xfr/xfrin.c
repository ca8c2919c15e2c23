/* Zone transfer in (secondary side, include/fedenum/xfr.h): one blocking exchange per call,
 * meant for a thread-pool thread. SOA query first (signed), then IXFR from the serial held
 * (RFC 1995) or AXFR (RFC 5936); every message's TSIG checked with the stream verifier
 * (RFC 8945 §5.3.1). The result is a complete master file: the AXFR's records, or the
 * previous file with the IXFR's differences applied. Nothing is written to the store here. */
#include "fedenum/tsig.h"
#include "fedenum/util.h"
#include "fedenum/xfr.h"
#include "xfrin_int.h"

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
	struct fe__xconn conn;
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

/* Read exactly @n octets from the primary before the deadline. */
static int read_full(struct ex *e, uint8_t *buf, size_t n)
{
	bool closed = false;
	int rc = fe__xconn_read(&e->conn, e->o, e->deadline_ms, buf, n, &closed, e->res->err,
	                        sizeof(e->res->err));
	if (rc != FE_OK && closed)
		fail(e, "connection closed by the primary after %llu messages",
		     (unsigned long long)e->res->messages);
	return rc;
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

/* Records per RRset (owner, type; an RRSIG by the type it covers), counted as they arrive
 * against o->max_rrset_rrs: open addressing over a 64-bit hash of the canonical owner and
 * the type. Two RRsets sharing a hash count together (only ever earlier at the limit). */
struct rrsets {
	uint64_t *h; /* 0: free */
	uint64_t *n;
	size_t cap, used;
};

static uint64_t rrset_hash(const ldns_rr *rr)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	const ldns_rdf *o = ldns_rr_owner(rr);
	const uint8_t *d = ldns_rdf_data(o);
	for (size_t i = 0; i < ldns_rdf_size(o); i++) {
		uint8_t ch = d[i] >= 'A' && d[i] <= 'Z' ? (uint8_t)(d[i] + 32) : d[i];
		h = (h ^ ch) * 1099511628211ull;
	}
	uint32_t t = ldns_rr_get_type(rr);
	if (t == LDNS_RR_TYPE_RRSIG && ldns_rr_rrsig_typecovered(rr))
		t |= (uint32_t)ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(rr)) << 16;
	for (int i = 0; i < 4; i++)
		h = (h ^ (uint8_t)(t >> (8 * i))) * 1099511628211ull;
	return h ? h : 1;
}

static void rrsets_free(struct rrsets *r)
{
	free(r->h);
	free(r->n);
	memset(r, 0, sizeof(*r));
}

static int rrsets_grow(struct rrsets *r)
{
	size_t cap = r->cap ? r->cap * 2 : 1024;
	struct rrsets g = {.h = calloc(cap, sizeof(uint64_t)),
	                   .n = calloc(cap, sizeof(uint64_t)),
	                   .cap = cap,
	                   .used = r->used};
	if (!g.h || !g.n) {
		rrsets_free(&g);
		return FE_ENOMEM;
	}
	for (size_t i = 0; i < r->cap; i++) {
		if (!r->h[i])
			continue;
		size_t j = r->h[i] & (cap - 1);
		while (g.h[j])
			j = (j + 1) & (cap - 1);
		g.h[j] = r->h[i];
		g.n[j] = r->n[i];
	}
	rrsets_free(r);
	*r = g;
	return FE_OK;
}

/* Count @rr; FE_ERANGE (logged in res->err) when its RRset passes the limit. */
static int rrsets_add(struct ex *e, struct rrsets *r, const ldns_rr *rr)
{
	if (!e->o->max_rrset_rrs)
		return FE_OK;
	if ((r->used + 1) * 2 > r->cap && rrsets_grow(r) != FE_OK)
		return FE_ENOMEM;
	uint64_t h = rrset_hash(rr);
	size_t j = h & (r->cap - 1);
	while (r->h[j] && r->h[j] != h)
		j = (j + 1) & (r->cap - 1);
	if (!r->h[j]) {
		r->h[j] = h;
		r->used++;
	}
	if (++r->n[j] > e->o->max_rrset_rrs) {
		char *t = ldns_rdf2str(ldns_rr_owner(rr));
		char *ty = ldns_rr_type2str(ldns_rr_get_type(rr));
		fail(e, "an RRset (%s %s) of more than %llu records (limit)", t ? t : "?",
		     ty ? ty : "?", (unsigned long long)e->o->max_rrset_rrs);
		free(t);
		free(ty);
		return FE_ERANGE;
	}
	return FE_OK;
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
	struct rrsets sets; /* AXFR form: records per RRset so far */
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
		if (is_soa && (ldns_rr_rd_count(rr) != 7 || !ldns_rr_rdf(rr, 2) ||
		               ldns_rdf_size(ldns_rr_rdf(rr, 2)) != 4)) {
			/* ldns takes an SOA with short RDATA; its serial is read below */
			fail(e, "a malformed SOA record (%zu fields)", ldns_rr_rd_count(rr));
			return FE_EFORMAT;
		}
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
		if (c->style == 1 && !is_soa) {
			int rc = rrsets_add(e, &c->sets, rr);
			if (rc != FE_OK)
				return rc;
		}
		if (!ldns_rr_list_push_rr(c->rrs, ldns_rr_clone(rr)))
			return FE_ENOMEM;
	}
	return FE_OK;
}

/* Read and check the response's messages until it ends (or carries an error RCODE:
 * *rcode_out, the caller decides about fallbacks). @buf holds MSG_CAP + 2 octets. */
static int read_response(struct ex *e, struct coll *c, uint16_t id, struct fe_tsig_stream *ts,
                         uint8_t *buf, uint16_t *rcode_out)
{
	int rc = FE_OK;
	*rcode_out = 0;
	while (!c->done) {
		uint8_t lb[2];
		rc = read_full(e, lb, 2);
		if (rc != FE_OK)
			return rc;
		size_t mlen = (size_t)lb[0] << 8 | lb[1];
		if (mlen < 12) {
			fail(e, "a message of %zu octets", mlen);
			return FE_EFORMAT;
		}
		rc = read_full(e, buf, mlen);
		if (rc != FE_OK)
			return rc;
		e->res->messages++;
		e->res->bytes += mlen;
		if (e->o->max_bytes && e->res->bytes > e->o->max_bytes) {
			fail(e, "more than %llu octets (limit)",
			     (unsigned long long)e->o->max_bytes);
			return FE_ERANGE;
		}
		if (((uint16_t)buf[0] << 8 | buf[1]) != id || !(buf[2] & 0x80)) {
			fail(e, "a message that is not the answer (ID or QR)");
			return FE_EFORMAT;
		}
		struct fe_tsig_result tr;
		rc = fe_tsig_stream_verify(ts, buf, mlen, &tr);
		if (rc != FE_OK) {
			fail(e, "TSIG of message %llu does not verify (%s, error %u)",
			     (unsigned long long)e->res->messages, fe_strerror(rc),
			     (unsigned)tr.rr_error);
			return FE_EPERM;
		}
		ldns_pkt *pkt = NULL;
		if (ldns_wire2pkt(&pkt, buf, mlen) != LDNS_STATUS_OK) {
			fail(e, "malformed message %llu", (unsigned long long)e->res->messages);
			return FE_EFORMAT;
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
			return FE_EFORMAT;
		}
		if (rcode != LDNS_RCODE_NOERROR) {
			ldns_pkt_free(pkt);
			*rcode_out = rcode;
			return FE_OK;
		}
		rc = take(e, c, pkt);
		ldns_pkt_free(pkt);
		if (rc != FE_OK)
			return rc;
		/* IXFR answered with the SOA alone: nothing newer (RFC 1995 §2) */
		if (c->qtype == LDNS_RR_TYPE_IXFR && ldns_rr_list_rr_count(c->rrs) == 1 &&
		    !serial_gt(c->first, c->held))
			c->done = true;
		if (c->qtype == LDNS_RR_TYPE_SOA)
			c->done = true;
	}
	if (fe_tsig_stream_end(ts) != FE_OK) {
		fail(e, "the last message is not signed (RFC 8945 §5.3.1)");
		return FE_EPERM;
	}
	return FE_OK;
}

/* One exchange over its own connection (TCP, or TLS): query @qtype, then the response. */
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
	rc = fe__xconn_open(&e->conn, e->o, e->deadline_ms, e->res->err, sizeof(e->res->err));
	if (rc != FE_OK)
		goto out;
	buf[0] = (uint8_t)(qlen >> 8);
	buf[1] = (uint8_t)qlen;
	rc = fe__xconn_write(&e->conn, e->o, e->deadline_ms, buf, qlen + 2, e->res->err,
	                     sizeof(e->res->err));
	if (rc == FE_OK)
		rc = read_response(e, c, id, ts, buf, rcode_out);
	fe__xconn_close(&e->conn);
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

static void coll_free(struct coll *c)
{
	ldns_rr_list_deep_free(c->rrs);
	c->rrs = NULL;
	rrsets_free(&c->sets);
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
	bool adding = true;                         /* the first SOA starts a removal sequence */
	uint32_t at = soa_serial(ldns_zone_soa(z)); /* the serial the differences reached */
	for (size_t i = 1; i + 1 < n; i++) {
		ldns_rr *rr = ldns_rr_list_rr(rrs, i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA) {
			adding = !adding;
			/* RFC 1995 §4: each sequence goes from the serial the previous one reached
			 * to a newer one; anything else is not a history of this zone */
			uint32_t sv = soa_serial(rr);
			if (adding ? !serial_gt(sv, at) : sv != at) {
				fail(e,
				     "the IXFR's sequences are out of order (serial %u after %u)",
				     sv, at);
				rc = FE_EFORMAT;
				goto out;
			}
			at = sv;
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
	if (at != soa_serial(ldns_rr_list_rr(rrs, n - 1))) {
		fail(e, "the IXFR's sequences end at serial %u, not at %u", at,
		     soa_serial(ldns_rr_list_rr(rrs, n - 1)));
		rc = FE_EFORMAT;
		goto out;
	}
	struct rrsets sets = {0}; /* the RRsets of the zone the differences make */
	for (size_t i = 0; i < ldns_rr_list_rr_count(zr) && rc == FE_OK; i++)
		rc = rrsets_add(e, &sets, ldns_rr_list_rr(zr, i));
	rrsets_free(&sets);
	if (rc == FE_OK)
		rc = write_zone(e, out, ldns_rr_list_rr(rrs, n - 1), zr, 0,
		                ldns_rr_list_rr_count(zr));
out:
	ldns_zone_deep_free(z);
	return rc;
}

static int ex_init(struct ex *e, const struct fe_xfrin_opts *o, struct fe_xfrin_result *res)
{
	memset(res, 0, sizeof(*res));
	memset(e, 0, sizeof(*e));
	e->o = o;
	e->res = res;
	e->conn.fd = -1;
	e->deadline_ms = fe_time_mono_ms() + (o->max_time_ms ? o->max_time_ms : 600000);
	ldns_rdf *qn = ldns_dname_new_frm_str(o->apex);
	if (!qn || ldns_rdf_size(qn) > sizeof(e->qname)) {
		ldns_rdf_deep_free(qn);
		fail(e, "not a domain name: %s", o->apex);
		return FE_EINVAL;
	}
	ldns_dname2canonical(qn);
	e->qname_len = ldns_rdf_size(qn);
	memcpy(e->qname, ldns_rdf_data(qn), e->qname_len);
	e->qrdf = qn;
	return FE_OK;
}

int fe__xfrin_parse(const struct fe_xfrin_opts *o, uint16_t qtype, uint32_t held, uint16_t id,
                    const uint8_t *mac, size_t mac_len, const uint8_t *data, size_t len,
                    uint16_t *rcode, size_t *nrrs, struct fe_xfrin_result *res)
{
	struct ex e;
	*rcode = 0;
	*nrrs = 0;
	if (ex_init(&e, o, res) != FE_OK)
		return FE_EINVAL;
	e.conn.mem = data;
	e.conn.mem_len = len;
	struct coll c;
	coll_init(&c, qtype, held);
	struct fe_tsig_stream *ts = NULL;
	uint8_t *buf = malloc(MSG_CAP + 2);
	int rc = buf && c.rrs ? fe_tsig_stream_create(o->key, mac, mac_len, &ts) : FE_ENOMEM;
	if (rc == FE_OK)
		rc = read_response(&e, &c, id, ts, buf, rcode);
	if (rc == FE_OK && !*rcode && qtype == LDNS_RR_TYPE_AXFR && !c.done) {
		fail(&e, "the AXFR ended without its final SOA");
		rc = FE_EFORMAT;
	}
	*nrrs = c.rrs ? ldns_rr_list_rr_count(c.rrs) : 0;
	fe_tsig_stream_destroy(ts);
	free(buf);
	coll_free(&c);
	ldns_rdf_deep_free(e.qrdf);
	return rc;
}

/* One RR of the sequences, in wire form, with its sign (+1 added, -1 removed). */
struct net_rr {
	uint8_t *wire; /* owner (lowercased for the fold), type, class, ttl, rdlen, rdata */
	size_t len;
	size_t owner_len;
	int sign;
	const ldns_rr *rr; /* the original, for the owner's case */
};

static int net_cmp(const void *pa, const void *pb)
{
	const struct net_rr *a = pa, *b = pb;
	int c = memcmp(a->wire, b->wire, FE_MIN(a->len, b->len));
	if (c != 0)
		return c;
	return a->len < b->len ? -1 : (a->len > b->len ? 1 : 0);
}

static void net_free(struct net_rr *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].wire);
	free(v);
}

static int net_rr_make(const ldns_rr *rr, int sign, struct net_rr *out)
{
	ldns_buffer *b = ldns_buffer_new(512);
	if (!b)
		return FE_ENOMEM;
	int rc = FE_EFORMAT;
	if (ldns_rr2buffer_wire(b, rr, LDNS_SECTION_ANSWER) == LDNS_STATUS_OK) {
		size_t len = ldns_buffer_position(b);
		size_t ol = ldns_rdf_size(ldns_rr_owner(rr));
		out->wire = malloc(len ? len : 1);
		if (!out->wire) {
			rc = FE_ENOMEM;
		} else if (ol + 10 <= len) {
			memcpy(out->wire, ldns_buffer_begin(b), len);
			for (size_t i = 0; i < ol; i++) /* label lengths are below 'A' */
				if (out->wire[i] >= 'A' && out->wire[i] <= 'Z')
					out->wire[i] = (uint8_t)(out->wire[i] - 'A' + 'a');
			out->len = len;
			out->owner_len = ol;
			out->sign = sign;
			out->rr = rr;
			rc = FE_OK;
		}
	}
	ldns_buffer_free(b);
	return rc;
}

/* RFC 1995 §4 sequences folded into one difference and handed to o->apply. */
static int apply_delta(struct ex *e, ldns_rr_list *rrs, uint32_t from, uint32_t to)
{
	size_t n = ldns_rr_list_rr_count(rrs), cnt = 0;
	struct net_rr *v = calloc(n ? n : 1, sizeof(*v));
	struct fe_xfrin_rr *out = NULL;
	/* X6 for a change set: no RRset may grow by more than xfr.max-rrset-records records in
	 * one IXFR (the RRset's stored records are not counted here: an AXFR's are) */
	struct rrsets grown = {0};
	int rc = FE_OK;
	if (!v)
		return FE_ENOMEM;
	bool adding = true; /* the first SOA starts a removal sequence */
	uint32_t at = from; /* the serial the differences reached */
	for (size_t i = 1; i + 1 < n && rc == FE_OK; i++) {
		ldns_rr *rr = ldns_rr_list_rr(rrs, i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA) {
			adding = !adding;
			/* RFC 1995 §4: each sequence goes from the serial the previous one reached
			 * to a newer one; anything else is not a history of this zone */
			uint32_t sv = soa_serial(rr);
			if (adding ? !serial_gt(sv, at) : sv != at) {
				fail(e,
				     "the IXFR's sequences are out of order (serial %u after %u)",
				     sv, at);
				rc = FE_EFORMAT;
				goto out;
			}
			at = sv;
		}
		rc = net_rr_make(rr, adding ? 1 : -1, &v[cnt]);
		cnt += rc == FE_OK;
	}
	/* (the final SOA repeats the last sequence's new SOA, already counted) */
	if (rc == FE_OK && at != to) {
		fail(e, "the IXFR's sequences end at serial %u, not at %u", at, to);
		rc = FE_EFORMAT;
		goto out;
	}
	if (rc != FE_OK) {
		fail(e, "an IXFR record cannot be encoded");
		goto out;
	}
	qsort(v, cnt, sizeof(*v), net_cmp);
	out = calloc(cnt ? cnt : 1, sizeof(*out));
	if (!out) {
		rc = FE_ENOMEM;
		goto out;
	}
	size_t nrem = 0, nadd = 0;
	/* removed RRs fill @out from the front, added ones from the back */
	for (size_t i = 0; i < cnt;) {
		size_t j = i;
		int sum = 0;
		while (j < cnt && net_cmp(&v[i], &v[j]) == 0)
			sum += v[j++].sign;
		if (sum < -1 || sum > 1) {
			fail(e, "the IXFR %s one record twice", sum < 0 ? "removes" : "adds");
			rc = FE_EFORMAT;
			goto out;
		}
		if (sum > 0 && (rc = rrsets_add(e, &grown, v[i].rr)) != FE_OK)
			goto out;
		if (sum != 0) {
			const struct net_rr *r = &v[i];
			const uint8_t *p = r->wire + r->owner_len;
			struct fe_xfrin_rr *x = sum < 0 ? &out[nrem++] : &out[cnt - 1 - nadd++];
			x->owner = ldns_rdf_data(ldns_rr_owner(r->rr));
			x->owner_len = r->owner_len;
			x->type = (uint16_t)(p[0] << 8 | p[1]);
			x->ttl = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 |
			         p[7];
			x->rdlen = (uint16_t)(p[8] << 8 | p[9]);
			x->rdata = p + 10;
			if ((size_t)x->rdlen + 10 + r->owner_len != r->len) {
				fail(e, "an IXFR record cannot be encoded");
				rc = FE_EFORMAT;
				goto out;
			}
		}
		i = j;
	}
	struct fe_xfrin_delta d = {
	        .serial_from = from,
	        .serial_to = to,
	        .removed = out,
	        .removed_count = nrem,
	        .added = out + cnt - nadd,
	        .added_count = nadd,
	};
	e->res->rrs = nrem + nadd;
	rc = e->o->apply(e->o->apply_arg, &d, e->res->err, sizeof(e->res->err));
out:
	rrsets_free(&grown);
	free(out);
	net_free(v, cnt);
	return rc;
}

int fe_xfrin_run(const struct fe_xfrin_opts *o, const char *base, const char *out,
                 struct fe_xfrin_result *res)
{
	struct ex e;
	if (ex_init(&e, o, res) != FE_OK)
		return FE_EINVAL;
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
	coll_free(&c);
	res->messages = res->bytes = 0; /* from here on: the transfer's */
	if (o->has_serial && !serial_gt(res->primary_serial, o->serial)) {
		res->kind = FE_XFRIN_UPTODATE;
		res->serial = o->serial;
		goto out;
	}
	bool ixfr = o->has_serial && (base || o->apply);
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
			rc = o->apply ? apply_delta(&e, c.rrs, o->serial, c.first)
			              : apply_ixfr(&e, base, out, c.rrs);
			if (rc == FE_OK) {
				res->kind = FE_XFRIN_IXFR;
				res->serial = c.first;
				goto out;
			}
			/* the change set was wrong (validation) or too big (a limit): no AXFR */
			if (o->apply && (rc == FE_EVALIDATE || rc == FE_ENOMEM || rc == FE_ERANGE))
				goto out;
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
		coll_free(&c);
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
	coll_free(&c);
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
