/* Request pipeline (server.h "request pipeline"): admit → before → tsig → handler → after,
 * for UDP and TCP alike. With no hooks set it is exactly the former fixed path: ACL refusal,
 * SERVFAIL without a snapshot, then the answer engine (which gives NOTAUTH for TSIG and
 * REFUSED for AXFR/IXFR), with the query parsed once.
 *
 * Only fe_answer_parsed is called from answer.c, so tests/server/test_net.c can stand in for
 * the whole engine by defining that one function. */
#include "net_int.h"

#include "fedenum/store.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct fe_ratelog acl_log = FE_RATELOG_INIT(10, 60);
static struct fe_ratelog hook_log = FE_RATELOG_INIT(10, 60);

/* An answer with only a header and the question (or nothing), when no handler runs.
 * Counted as fe_answer counts its own error answers. */
static size_t error_answer(struct fe__worker *w, const uint8_t *req, size_t req_len,
                           enum fe_wire_verdict v, const struct fe_wire_query *q,
                           enum fe_transport transport, uint16_t rcode, uint8_t *resp,
                           size_t resp_cap)
{
	fe_counter_inc(w->counters, FE_CNT_QUERIES);
	fe_counter_inc(w->counters, transport == FE_TRANSPORT_TCP ? FE_CNT_TCP : FE_CNT_UDP);
	/* Never answer what we would not answer anyway: < 12 bytes or QR=1 (docs/security.md Q1,
	 * Q6). */
	if (v == FE_WIRE_DROP) {
		fe_counter_inc(w->counters, FE_CNT_DROPPED);
		return 0;
	}
	size_t n = fe_wire_error_response(req, req_len, q, rcode, resp, resp_cap);
	if (!n) {
		fe_counter_inc(w->counters, FE_CNT_DROPPED);
		return 0;
	}
	enum fe_counter c = fe__counter_for_rcode(rcode);
	if (c != FE_CNT__MAX)
		fe_counter_inc(w->counters, c);
	return n;
}

static bool is_transfer(const struct fe_wire_query *q)
{
	/* The same screening order as the answer engine: opcode, class, then type. */
	return q->opcode == FE_OP_QUERY && q->qclass == FE_C_IN &&
	       (q->qtype == FE_T_AXFR || q->qtype == FE_T_IXFR);
}

/* Take back a count the answer engine made for an answer that is not sent (relaxed
 * single-writer counters: adding 2^64 - 1 subtracts one). */
static void uncount(struct fe__worker *w, enum fe_counter c)
{
	if (c != FE_CNT__MAX)
		fe_counter_add(w->counters, c, UINT64_MAX);
}

/* What fe_server_park needs of the request in the pipeline (struct fe_server_request.park). */
struct park_args {
	struct fe__worker *w;
	bool admitted;
	const struct sockaddr *peer;
	const uint8_t *req;
	size_t req_len;
	enum fe_transport transport;
	const char *tls_client;
	uint16_t tls_version;
	struct fe_server_ticket *t; /* the ticket taken, if any */
};

/* Park the request for the on-demand hook: a copy of everything needed to answer it later,
 * made only when the hook defers (a cache hit costs no heap). */
struct fe_server_ticket *fe_server_park(const struct fe_server_request *req)
{
	struct park_args *a = (struct park_args *)(uintptr_t)req->park;
	if (!a || a->t)
		return NULL;
	struct fe__worker *w = a->w;
	if (w->parked >= FE_SERVER_PARK_MAX)
		return NULL;
	if (a->transport == FE_TRANSPORT_UDP ? !w->cur_udp || !w->cur_rmsg : !w->cur_conn)
		return NULL;
	struct fe_server_ticket *t = calloc(1, sizeof(*t) + a->req_len);
	if (!t)
		return NULL;
	t->w = w;
	t->transport = a->transport;
	t->admitted = a->admitted;
	t->peer_len = a->peer->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                             : sizeof(struct sockaddr_in);
	memcpy(&t->peer, a->peer, t->peer_len);
	if (a->transport == FE_TRANSPORT_UDP) {
		t->udp = w->cur_udp;
		if (t->udp->pktinfo && CMSG_SPACE(sizeof(struct in6_pktinfo)) <= sizeof(t->ctl)) {
			struct msghdr m = {0};
			fe__udp_reply_control(w->cur_rmsg, &m, t->ctl);
			t->ctl_len = m.msg_control ? m.msg_controllen : 0;
		}
	} else {
		t->conn = w->cur_conn;
	}
	if (a->tls_client)
		snprintf(t->tls_client, sizeof(t->tls_client), "%s", a->tls_client);
	t->tls_version = a->tls_version;
	t->t0_us = w->cur_t0_us;
	t->msg_len = a->req_len;
	memcpy(t->msg, a->req, a->req_len);
	if (fe_wire_query_parse(t->msg, t->msg_len, &t->q) != FE_WIRE_OK) {
		free(t);
		return NULL;
	}
	a->t = t;
	return t;
}

const uint8_t *fe_server_ticket_qname(const struct fe_server_ticket *t)
{
	return t->q.qname;
}

uint16_t fe_server_ticket_qtype(const struct fe_server_ticket *t)
{
	return t->q.qtype;
}

size_t fe__pipe_run_od(struct fe__worker *w, bool admitted, bool snapshot_ok,
                       const struct sockaddr *peer, const uint8_t *req, size_t req_len,
                       enum fe_transport transport, const char *tls_client, uint16_t tls_version,
                       uint8_t *resp, size_t resp_cap, void **stream, bool *streaming,
                       const int *resumed, bool *deferred)
{
	const struct fe_server_opts *o = &w->srv->opts;
	struct fe_wire_query q;
	enum fe_wire_verdict v = fe_wire_query_parse(req, req_len, &q);
	if (v == FE_WIRE_OK && !resumed)
		fe_counter_inc(w->counters, fe__counter_for_qtype(q.qtype));

	/* admit */
	if (!admitted) {
		/* RFC 5067 §4 (docs/security.md Q8): clients outside the federation get
		 * REFUSED, never silence — and never data. */
		fe_counter_inc(w->counters, FE_CNT_ACL_REFUSED);
		char a[INET6_ADDRSTRLEN + 8];
		fe__net_addr_str(peer, a, sizeof(a));
		fe_ratelog(&acl_log, FE_LOG_WARN,
		           "client %s outside the admission list: REFUSED (%s)", a,
		           transport == FE_TRANSPORT_TCP ? "tcp" : "udp");
		return error_answer(w, req, req_len, v, &q, transport, FE_RCODE_REFUSED, resp,
		                    resp_cap);
	}
	if (!snapshot_ok)
		return error_answer(w, req, req_len, v, &q, transport, FE_RCODE_SERVFAIL, resp,
		                    resp_cap);

	const struct fe_server_policy *pol = o->policy;
	bool to_transfer = streaming && o->transfer && v == FE_WIRE_OK && is_transfer(&q);
	struct fe_server_request r;
	if (pol || to_transfer || o->ondemand) {
		r.park = NULL;
		r.peer = peer;
		r.transport = transport;
		r.worker = w->id;
		r.msg = req;
		r.msg_len = req_len;
		r.q = &q;
		r.reader = w->reader;
		r.tls_client = tls_client;
		r.tsig_checked = false;
		r.tls_version = tls_version;
	}
	unsigned flags = 0;
	uint16_t rcode = FE_RCODE_SERVFAIL;
	enum fe_server_verdict pv = FE_SERVER_PASS;

	/* before, tsig: only for messages that parsed (the rest get the engine's FORMERR,
	 * NOTIMP, BADVERS or silence, as before any policy). */
	if (pol && v == FE_WIRE_OK) {
		if (pol->before)
			pv = pol->before(pol->state, &r, &rcode);
		/* TSIG is screened after the opcode, as in the engine. */
		bool tsig_step = false;
		if (pv == FE_SERVER_PASS && pol->tsig && q.has_tsig && q.opcode == FE_OP_QUERY) {
			tsig_step = true;
			pv = pol->tsig(pol->state, &r, &rcode);
			if (pv == FE_SERVER_PASS) {
				flags |= FE_ANSWER_TSIG_CHECKED;
				r.tsig_checked = true;
			}
		}
		if (pv == FE_SERVER_DROP)
			return error_answer(w, req, req_len, FE_WIRE_DROP, &q, transport, 0, resp,
			                    resp_cap);
		if (pv == FE_SERVER_RCODE) {
			size_t n = error_answer(w, req, req_len, v, &q, transport, rcode, resp,
			                        resp_cap);
			/* a refused TSIG: `after` may answer with the TSIG error (RFC 8945 §5.3.2)
			 */
			if (n && tsig_step && pol->after) {
				n = pol->after(pol->state, &r, resp, n, resp_cap);
				if (n > resp_cap)
					n = 0;
			}
			return n;
		}
	}

	/* handler: transfers over a stream transport go to the transfer handler, if any. A
	 * TSIG that no TSIG step checked still gets the engine's NOTAUTH. */
	if (to_transfer && (!q.has_tsig || (flags & FE_ANSWER_TSIG_CHECKED))) {
		fe_counter_inc(w->counters, FE_CNT_QUERIES);
		fe_counter_inc(w->counters, FE_CNT_TCP);
		void *s = NULL;
		int rc = o->transfer->open(o->transfer->state, &r, &s);
		if (rc == FE_OK) {
			*stream = s;
			*streaming = true;
			return 0;
		}
		char a[INET6_ADDRSTRLEN + 8];
		fe__net_addr_str(peer, a, sizeof(a));
		fe_ratelog(&hook_log, FE_LOG_WARN, "transfer for %s: %s: SERVFAIL", a,
		           fe_strerror(rc));
		size_t n =
		        fe_wire_error_response(req, req_len, &q, FE_RCODE_SERVFAIL, resp, resp_cap);
		fe_counter_inc(w->counters, n ? FE_CNT_SERVFAIL : FE_CNT_DROPPED);
		return n;
	}
	size_t n =
	        fe_answer_parsed(&w->actx, req, req_len, v, &q, flags, transport, resp, resp_cap);

	/* on-demand peering: a name below a delegation to a member zone not held here */
	if (w->actx.unheld_cut && o->ondemand && n) {
		const struct fe_server_ondemand *od = o->ondemand;
		if (resumed) {
			/* counted once, at the first pass */
			uncount(w, FE_CNT_QUERIES);
			uncount(w, transport == FE_TRANSPORT_TCP ? FE_CNT_TCP : FE_CNT_UDP);
		}
		struct park_args pa = {w,         admitted,   peer,        req, req_len,
		                       transport, tls_client, tls_version, NULL};
		r.park = !resumed && deferred ? &pa : NULL;
		size_t len = n;
		enum fe_server_od_verdict ov =
		        od->miss(od->state, &r, w->actx.unheld_cut, resumed, resp, &len, resp_cap);
		r.park = NULL;
		struct fe_server_ticket *t = pa.t;
		if (ov == FE_SERVER_OD_DEFER && t) {
			w->parked++;
			if (t->conn)
				t->conn->parked++;
			uncount(w, FE_CNT_SERVFAIL);
			*deferred = true;
			return 0;
		}
		free(t);
		if (ov == FE_SERVER_OD_ANSWER && len >= FE_WIRE_HDR_LEN && len <= resp_cap) {
			uncount(w, FE_CNT_SERVFAIL);
			n = len;
			enum fe_counter c = fe__counter_for_rcode(resp[3] & 0xfu);
			if (c != FE_CNT__MAX)
				fe_counter_inc(w->counters, c);
			if (resp[2] & (FE_F_TC >> 8))
				fe_counter_inc(w->counters, FE_CNT_TRUNCATED);
		}
	} else if (resumed) {
		/* a resumed request that no longer needs the hook (the zone is held now, say):
		 * answered as it is, counted once */
		uncount(w, FE_CNT_QUERIES);
		uncount(w, transport == FE_TRANSPORT_TCP ? FE_CNT_TCP : FE_CNT_UDP);
	}

	/* after */
	if (n && pol && pol->after) {
		n = pol->after(pol->state, &r, resp, n, resp_cap);
		if (n > resp_cap)
			n = 0; /* a hook bug: never send beyond the buffer */
	}
	return n;
}

int fe__pipe_stream_next(struct fe__worker *w, const struct sockaddr *peer, void *stream,
                         uint8_t *out, size_t cap, size_t *len)
{
	const struct fe_server_opts *o = &w->srv->opts;
	*len = 0;
	int rc = o->transfer->next(o->transfer->state, stream, out, cap, len);
	if (rc < 0)
		return rc;
	if (*len && o->policy && o->policy->after) {
		struct fe_server_request r = {
		        .peer = peer,
		        .transport = FE_TRANSPORT_TCP,
		        .worker = w->id,
		};
		*len = o->policy->after(o->policy->state, &r, out, *len, cap);
		if (!*len)
			return FE_EINVAL; /* a stream message dropped: the stream is broken */
	}
	return FE_OK;
}

void fe__pipe_stream_close(struct fe__worker *w, void *stream)
{
	const struct fe_server_opts *o = &w->srv->opts;
	o->transfer->close(o->transfer->state, stream);
}

/* ---- on-demand resumption ------------------------------------------------------------ */

void fe_server_resume(struct fe_server_ticket *t, int status)
{
	struct fe__worker *w = t->w;
	t->status = status;
	/* The send is made under the lock, so it can never follow the handle's close (which
	 * the worker starts after setting resume_closed under the same lock). */
	uv_mutex_lock(&w->resume_mu);
	t->next = w->resume_head;
	w->resume_head = t;
	if (!w->resume_closed)
		uv_async_send(&w->resume_async);
	uv_mutex_unlock(&w->resume_mu);
}

static void release(struct fe__worker *w, struct fe_server_ticket *t)
{
	struct fe__conn *c = t->conn;
	if (w->parked)
		w->parked--;
	if (c) {
		c->parked--;
		if (c->gone && c->parked == 0)
			c->destroy(c);
	}
	free(t);
}

static void resume_one(struct fe__worker *w, struct fe_server_ticket *t)
{
	struct fe__conn *c = t->conn;
	if (c && (c->gone || c->fr.ended)) {
		release(w, t); /* the client closed the connection meanwhile */
		return;
	}
	bool snap_ok = fe_store_reader_begin(w->reader) == FE_OK;
	if (!snap_ok)
		fe_counter_inc(w->counters, FE_CNT_STORE_ERRORS);
	uint8_t *out = c ? w->tcp_resp + 2 : w->sbuf;
	size_t cap = c ? FE__TCP_MSG_MAX - 2 : FE__UDP_SEND_BYTES;
	const char *client = t->tls_client[0] ? t->tls_client : NULL;
	size_t n = fe__pipe_run_od(w, t->admitted, snap_ok, (const struct sockaddr *)&t->peer,
	                           t->msg, t->msg_len, t->transport, client, t->tls_version, out,
	                           cap, NULL, NULL, &t->status, NULL);
	if (snap_ok)
		fe_store_reader_end(w->reader);
	if (n)
		fe__latency_add(w->counters, fe_time_mono_us() - t->t0_us, 1);
	if (c) {
		/* the frame copies it from its scratch (w->tcp_resp + 2) */
		fe__frame_deliver(&c->fr, n);
	} else if (n) {
		fe__udp_send_one(w, t->udp, (const struct sockaddr *)&t->peer, t->peer_len,
		                 t->ctl_len ? t->ctl : NULL, t->ctl_len, out, n);
	}
	release(w, t);
}

void fe__resume_drain(struct fe__worker *w)
{
	uv_mutex_lock(&w->resume_mu);
	struct fe_server_ticket *list = w->resume_head;
	w->resume_head = NULL;
	uv_mutex_unlock(&w->resume_mu);
	/* oldest first */
	struct fe_server_ticket *rev = NULL;
	while (list) {
		struct fe_server_ticket *next = list->next;
		list->next = rev;
		rev = list;
		list = next;
	}
	while (rev) {
		struct fe_server_ticket *next = rev->next;
		resume_one(w, rev);
		rev = next;
	}
}

void fe__resume_release_all(struct fe__worker *w)
{
	if (!w->resume_mu_ready)
		return;
	uv_mutex_lock(&w->resume_mu);
	struct fe_server_ticket *list = w->resume_head;
	w->resume_head = NULL;
	w->resume_closed = true;
	uv_mutex_unlock(&w->resume_mu);
	while (list) {
		struct fe_server_ticket *next = list->next;
		release(w, list);
		list = next;
	}
}
