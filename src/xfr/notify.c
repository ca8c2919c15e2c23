/* NOTIFY (RFC 1996) to the secondaries, TSIG-signed, over UDP on the caller's libuv loop
 * (include/fedenum/xfr.h). One pending NOTIFY per (zone, secondary): its own socket (an
 * answer can only come from where it was sent), a timer for the retries. */
#include "xfr_int.h"

#include "fedenum/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <sys/random.h>
#include <time.h>
#include <uv.h>

#define DEFAULT_TRIES    5u
#define DEFAULT_FIRST_MS 1000u
#define NOTIFY_MSG_CAP   (FE_WIRE_HDR_LEN + FE_WIRE_NAME_MAX + 4 + FE_TSIG_RR_MAX)

static struct fe_ratelog notify_log = FE_RATELOG_INIT(20, 60);

struct pending {
	struct fe_xfr_notifier *n;
	struct pending *next;
	size_t target;
	uint8_t apex[FE_WIRE_NAME_MAX];
	size_t apex_len;
	uint32_t serial;
	uint16_t id;
	unsigned sent;
	uint32_t timeout_ms;
	uint8_t msg[NOTIFY_MSG_CAP];
	size_t msg_len;
	uint8_t mac[FE_TSIG_MAC_MAX];
	size_t mac_len;
	uv_udp_t udp;
	uv_timer_t timer;
	uv_udp_send_t send;
	bool sending, closing;
	int closes; /* handle close callbacks still to come */
	uint8_t rbuf[4096];
	char where[400];
};

struct fe_xfr_notifier {
	uv_loop_t *loop;
	struct fe_xfr *x;
	struct fe_xfr_notify_opts o;
	struct sockaddr_storage *addrs;
	struct pending *list;
	size_t npending;
	struct fe_xfr_notify_peer *peers; /* one per target */
	struct tzones *tz;                /* one per target: NOTIFY state per zone */
	bool stopped;
};

/* Per target, the NOTIFY state of each zone it was sent (fe_xfr_notify_zone_state). */
struct zrec {
	uint8_t apex[FE_WIRE_NAME_MAX];
	size_t apex_len;
	struct fe_xfr_notify_zone st;
};
struct tzones {
	struct zrec *z;
	size_t n, cap;
};

static struct zrec *zrec_find(struct tzones *t, const uint8_t *apex, size_t len, bool add)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->z[i].apex_len == len && fe_wire_name_eq(t->z[i].apex, apex))
			return &t->z[i];
	if (!add || t->n >= FE_XFR_PEER_ZONES_MAX)
		return NULL;
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 8;
		struct zrec *nz = realloc(t->z, nc * sizeof(*nz));
		if (!nz)
			return NULL;
		t->z = nz;
		t->cap = nc;
	}
	struct zrec *r = &t->z[t->n++];
	memset(r, 0, sizeof(*r));
	memcpy(r->apex, apex, len);
	r->apex_len = len;
	return r;
}

static struct zrec *zrec_of(struct pending *p)
{
	return zrec_find(&p->n->tz[p->target], p->apex, p->apex_len, true);
}

static int64_t wall_s(void)
{
	return (int64_t)time(NULL);
}

static void peer_error(struct pending *p, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static void peer_error(struct pending *p, const char *fmt, ...)
{
	struct fe_xfr_notify_peer *pr = &p->n->peers[p->target];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(pr->last_error, sizeof(pr->last_error), fmt, ap);
	va_end(ap);
	pr->last_error_s = wall_s();
	struct zrec *z = zrec_of(p);
	if (z) {
		snprintf(z->st.error, sizeof(z->st.error), "%s", pr->last_error);
		z->st.error_s = pr->last_error_s;
	}
}

static void on_closed(uv_handle_t *h)
{
	struct pending *p = h->data;
	if (--p->closes == 0)
		free(p);
}

/* Unlink @p and close its handles; freed by the last close callback. */
static void finish(struct pending *p)
{
	if (p->closing)
		return;
	p->closing = true;
	struct fe_xfr_notifier *n = p->n;
	if (n->peers[p->target].pending)
		n->peers[p->target].pending--;
	struct zrec *z = zrec_of(p);
	if (z)
		z->st.pending = false;
	for (struct pending **pp = &n->list; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			n->npending--;
			break;
		}
	uv_udp_recv_stop(&p->udp);
	uv_timer_stop(&p->timer);
	p->closes = 2;
	uv_close((uv_handle_t *)&p->udp, on_closed);
	uv_close((uv_handle_t *)&p->timer, on_closed);
}

static void on_sent(uv_udp_send_t *req, int status)
{
	struct pending *p = req->data;
	p->sending = false;
	if (status < 0 && !p->closing)
		fe_ratelog(&notify_log, FE_LOG_WARN, "NOTIFY %s: send: %s", p->where,
		           uv_strerror(status));
}

static int build(struct pending *p)
{
	uint8_t *m = p->msg;
	uint16_t id;
	if (getrandom(&id, sizeof(id), 0) != (ssize_t)sizeof(id))
		id = (uint16_t)fe_time_mono_us();
	p->id = id;
	memset(m, 0, FE_WIRE_HDR_LEN);
	fe_put_be16(m, id);
	fe_put_be16(m + 2, (uint16_t)((FE_OP_NOTIFY << 11) | FE_F_AA)); /* RFC 1996 §3.7 */
	fe_put_be16(m + 4, 1);
	size_t len = FE_WIRE_HDR_LEN;
	memcpy(m + len, p->apex, p->apex_len);
	len += p->apex_len;
	fe_put_be16(m + len, FE_T_SOA);
	fe_put_be16(m + len + 2, FE_C_IN);
	len += 4;
	int rc = fe_tsig_sign(m, &len, sizeof(p->msg), p->n->o.key, NULL, 0, NULL, p->mac,
	                      &p->mac_len);
	if (rc != FE_OK)
		return rc;
	p->msg_len = len;
	return FE_OK;
}

static void send_once(struct pending *p)
{
	struct fe_xfr_notifier *n = p->n;
	if (p->sending)
		return; /* the previous datagram is still queued: this try is that one */
	/* Every try is signed anew: its time is now (RFC 8945 §5.2.3 fudge). */
	if (build(p) != FE_OK) {
		fe__xfr_count(n->x, FE_XFR_NOTIFY_FAILED, 1);
		n->peers[p->target].failed++;
		peer_error(p, "serial %u: cannot sign the NOTIFY", p->serial);
		finish(p);
		return;
	}
	uv_buf_t b = uv_buf_init((char *)p->msg, (unsigned)p->msg_len);
	p->send.data = p;
	int rc = uv_udp_send(&p->send, &p->udp, &b, 1, NULL, on_sent); /* connected */
	if (rc == 0)
		p->sending = true;
	fe__xfr_count(n->x, FE_XFR_NOTIFY_SENT, 1);
	n->peers[p->target].sent++;
	n->peers[p->target].last_sent_s = wall_s();
	fe_wire_name_to_str(p->apex, n->peers[p->target].last_zone,
	                    sizeof(n->peers[p->target].last_zone));
	n->peers[p->target].last_serial = p->serial;
	struct zrec *z = zrec_of(p);
	if (z) {
		z->st.sent_serial = p->serial;
		z->st.sent_s = n->peers[p->target].last_sent_s;
		z->st.pending = true;
	}
	if (p->sent++)
		fe__xfr_count(n->x, FE_XFR_NOTIFY_RETRIED, 1);
}

static void on_timer(uv_timer_t *t)
{
	struct pending *p = t->data;
	if (p->sent >= p->n->o.tries) {
		fe__xfr_count(p->n->x, FE_XFR_NOTIFY_FAILED, 1);
		p->n->peers[p->target].failed++;
		peer_error(p, "NOTIFY %s: no answer after %u tries", p->where, p->sent);
		fe_ratelog(&notify_log, FE_LOG_WARN, "NOTIFY %s: no answer after %u tries",
		           p->where, p->sent);
		finish(p);
		return;
	}
	send_once(p);
	p->timeout_ms *= 2; /* RFC 1996 §3.6: back off */
	uv_timer_start(&p->timer, on_timer, p->timeout_ms, 0);
}

static void on_alloc(uv_handle_t *h, size_t sz, uv_buf_t *buf)
{
	(void)sz;
	struct pending *p = h->data;
	*buf = uv_buf_init((char *)p->rbuf, sizeof(p->rbuf));
}

static void on_recv(uv_udp_t *u, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *from,
                    unsigned flags)
{
	(void)flags;
	(void)from; /* connected socket: only the secondary's answers arrive */
	struct pending *p = u->data;
	if (nread < FE_WIRE_HDR_LEN || p->closing)
		return;
	const uint8_t *m = (const uint8_t *)buf->base;
	uint16_t fl = fe_get_be16(m + 2);
	if (fe_get_be16(m) != p->id || !(fl & FE_F_QR) || ((fl >> 11) & 0xf) != FE_OP_NOTIFY)
		return; /* not the answer to the last try: wait (RFC 1996 §3.6) */
	struct fe_tsig_result res;
	int rc = fe_tsig_verify_response(m, (size_t)nread, p->n->o.key, p->mac, p->mac_len, &res);
	unsigned rcode = fl & 0xf;
	if (rc != FE_OK) {
		fe_ratelog(&notify_log, FE_LOG_WARN,
		           "NOTIFY %s: answer (rcode %u) without a valid TSIG: ignored (%s)",
		           p->where, rcode, fe_strerror(rc));
		peer_error(p, "NOTIFY %s: answer (rcode %u) without a valid TSIG", p->where, rcode);
		return;
	}
	if (rcode == FE_RCODE_NOERROR) {
		fe__xfr_count(p->n->x, FE_XFR_NOTIFY_ACKED, 1);
		p->n->peers[p->target].acked++;
		p->n->peers[p->target].last_ack_s = wall_s();
		struct zrec *z = zrec_of(p);
		if (z) {
			z->st.acked_serial = p->serial;
			z->st.acked_s = p->n->peers[p->target].last_ack_s;
		}
		fe_log_info("NOTIFY %s: acknowledged", p->where);
	} else {
		fe__xfr_count(p->n->x, FE_XFR_NOTIFY_FAILED, 1);
		p->n->peers[p->target].failed++;
		peer_error(p, "NOTIFY %s: answered rcode %u", p->where, rcode);
		fe_ratelog(&notify_log, FE_LOG_WARN, "NOTIFY %s: answered rcode %u", p->where,
		           rcode);
	}
	finish(p);
}

/* @a and @b the same address and port. */
static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family)
		return false;
	if (b->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (b->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	return false;
}

int fe_xfr_notify(struct fe_xfr_notifier *n, const uint8_t *apex, size_t apex_len, uint32_t serial)
{
	return fe_xfr_notify_except(n, apex, apex_len, serial, NULL);
}

int fe_xfr_notify_zone_state(const struct fe_xfr_notifier *n, size_t t, const uint8_t *apex,
                             size_t apex_len, struct fe_xfr_notify_zone *out)
{
	if (!n || t >= n->o.ntargets)
		return FE_ENOENT;
	struct zrec *z = zrec_find(&n->tz[t], apex, apex_len, false);
	if (!z)
		return FE_ENOENT;
	*out = z->st;
	return FE_OK;
}

size_t fe_xfr_notify_peers(const struct fe_xfr_notifier *n, struct fe_xfr_notify_peer *out,
                           size_t cap)
{
	size_t k = 0;
	for (size_t t = 0; n && t < n->o.ntargets && k < cap; t++)
		out[k++] = n->peers[t];
	return k;
}

int fe_xfr_notify_except(struct fe_xfr_notifier *n, const uint8_t *apex, size_t apex_len,
                         uint32_t serial, const struct sockaddr *except)
{
	if (n->stopped || apex_len > FE_WIRE_NAME_MAX)
		return FE_EINVAL;
	char zname[256];
	fe_wire_name_to_str(apex, zname, sizeof(zname));
	for (size_t t = 0; t < n->o.ntargets; t++) {
		if (except && same_addr(&n->addrs[t], except)) {
			n->peers[t].skipped++;
			fe_log_debug("NOTIFY of %s serial %u: not to %s@%u, its primary", zname,
			             serial, n->o.targets[t].host, n->o.targets[t].port);
			continue;
		}
		/* A newer version replaces a pending NOTIFY of the zone to the same secondary. */
		for (struct pending *q = n->list; q; q = q->next)
			if (q->target == t && q->apex_len == apex_len &&
			    fe_wire_name_eq(q->apex, apex)) {
				finish(q);
				break;
			}
		struct pending *p = calloc(1, sizeof(*p));
		if (!p)
			return FE_ENOMEM;
		p->n = n;
		p->target = t;
		memcpy(p->apex, apex, apex_len);
		p->apex_len = apex_len;
		p->serial = serial;
		p->timeout_ms = n->o.first_ms;
		snprintf(p->where, sizeof(p->where), "of %s serial %u to %s@%u", zname, serial,
		         n->o.targets[t].host, n->o.targets[t].port);
		int rc = uv_udp_init(n->loop, &p->udp);
		if (rc) {
			free(p);
			fe_log_err("NOTIFY %s: %s", zname, uv_strerror(rc));
			return FE_EIO;
		}
		p->udp.data = p;
		uv_timer_init(n->loop, &p->timer);
		p->timer.data = p;
		p->next = n->list;
		n->list = p;
		n->npending++;
		n->peers[t].pending++;
		const struct sockaddr_storage *src = n->o.sources ? &n->o.sources[t] : NULL;
		rc = src && src->ss_family == n->addrs[t].ss_family
		             ? uv_udp_bind(&p->udp, (const struct sockaddr *)src, 0)
		             : 0;
		if (rc == 0)
			rc = uv_udp_connect(&p->udp, (const struct sockaddr *)&n->addrs[t]);
		if (rc == 0)
			rc = uv_udp_recv_start(&p->udp, on_alloc, on_recv);
		if (rc) {
			fe_log_err("NOTIFY %s: %s", p->where, uv_strerror(rc));
			fe__xfr_count(n->x, FE_XFR_NOTIFY_FAILED, 1);
			n->peers[t].failed++;
			peer_error(p, "NOTIFY %s: %s", p->where, uv_strerror(rc));
			finish(p);
			continue;
		}
		on_timer(&p->timer);
	}
	return FE_OK;
}

int fe_xfr_notifier_create(struct uv_loop_s *loop, struct fe_xfr *x,
                           const struct fe_xfr_notify_opts *o, struct fe_xfr_notifier **out)
{
	*out = NULL;
	if (!loop || !x || !o || !o->key)
		return FE_EINVAL;
	struct fe_xfr_notifier *n = calloc(1, sizeof(*n));
	if (!n)
		return FE_ENOMEM;
	n->loop = loop;
	n->x = x;
	n->o = *o;
	if (!n->o.tries)
		n->o.tries = DEFAULT_TRIES;
	if (!n->o.first_ms)
		n->o.first_ms = DEFAULT_FIRST_MS;
	n->addrs = calloc(o->ntargets + 1, sizeof(*n->addrs));
	n->peers = calloc(o->ntargets + 1, sizeof(*n->peers));
	n->tz = calloc(o->ntargets + 1, sizeof(*n->tz));
	if (!n->addrs || !n->peers || !n->tz) {
		free(n->addrs);
		free(n->peers);
		free(n->tz);
		free(n);
		return FE_ENOMEM;
	}
	for (size_t i = 0; i < o->ntargets; i++) {
		const struct fe_listen_addr *a = &o->targets[i];
		if (uv_ip4_addr(a->host, a->port, (struct sockaddr_in *)&n->addrs[i]) != 0 &&
		    uv_ip6_addr(a->host, a->port, (struct sockaddr_in6 *)&n->addrs[i]) != 0) {
			free(n->addrs);
			free(n->peers);
			free(n->tz);
			free(n);
			return FE_EINVAL;
		}
		snprintf(n->peers[i].host, sizeof(n->peers[i].host), "%s", a->host);
		n->peers[i].port = a->port;
	}
	*out = n;
	return FE_OK;
}

size_t fe_xfr_notify_pending(const struct fe_xfr_notifier *n)
{
	return n ? n->npending : 0;
}

void fe_xfr_notifier_stop(struct fe_xfr_notifier *n)
{
	if (!n)
		return;
	n->stopped = true;
	while (n->list)
		finish(n->list);
}

void fe_xfr_notifier_destroy(struct fe_xfr_notifier *n)
{
	if (!n)
		return;
	fe_xfr_notifier_stop(n);
	for (size_t t = 0; t < n->o.ntargets; t++)
		free(n->tz[t].z);
	free(n->addrs);
	free(n->peers);
	free(n->tz);
	free(n);
}
