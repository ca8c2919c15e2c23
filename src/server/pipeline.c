/* Request pipeline (server.h "request pipeline"): admit → before → tsig → handler → after,
 * for UDP and TCP alike. With no hooks set it is exactly the former fixed path: ACL refusal,
 * SERVFAIL without a snapshot, then the answer engine (which gives NOTAUTH for TSIG and
 * REFUSED for AXFR/IXFR), with the query parsed once.
 *
 * Only fe_answer_parsed is called from answer.c, so tests/server/test_net.c can stand in for
 * the whole engine by defining that one function. */
#include "net_int.h"

#include "fedenum/util.h"
#include "fedenum/wire.h"

#include <arpa/inet.h>

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

size_t fe__pipe_run(struct fe__worker *w, bool admitted, bool snapshot_ok,
                    const struct sockaddr *peer, const uint8_t *req, size_t req_len,
                    enum fe_transport transport, const char *tls_client, uint16_t tls_version,
                    uint8_t *resp, size_t resp_cap, void **stream, bool *streaming)
{
	const struct fe_server_opts *o = &w->srv->opts;
	struct fe_wire_query q;
	enum fe_wire_verdict v = fe_wire_query_parse(req, req_len, &q);
	if (v == FE_WIRE_OK)
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
	if (pol || to_transfer) {
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
