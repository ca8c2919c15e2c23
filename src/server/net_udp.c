/* UDP hot path: recvmmsg a batch, answer each datagram over one store snapshot, sendmmsg the
 * answers. Driven by uv_poll on the worker's own SO_REUSEPORT socket (libuv 1.44's uv_udp has
 * batched receive but no batched send). No heap: every buffer belongs to the worker. */
#include "net_int.h"

#include "fedenum/store.h"
#include "fedenum/util.h"

#include <errno.h>
#include <string.h>

static struct fe_ratelog udp_err_log = FE_RATELOG_INIT(5, 60);

/* For wildcard binds: copy the query's destination address into the answer's control data
 * so the answer leaves from the address the client asked (otherwise a multi-homed host
 * answers from the route's source address and the client discards it). */
void fe__udp_reply_control(const struct msghdr *rq, struct msghdr *ans, void *ctl)
{
	ans->msg_control = NULL;
	ans->msg_controllen = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(rq); c; c = CMSG_NXTHDR((struct msghdr *)rq, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo in, out;
			memcpy(&in, CMSG_DATA(c), sizeof(in));
			memset(&out, 0, sizeof(out));
			out.ipi_spec_dst = in.ipi_addr;
			ans->msg_control = ctl;
			ans->msg_controllen = CMSG_SPACE(sizeof(out));
			struct cmsghdr *o = CMSG_FIRSTHDR(ans);
			o->cmsg_level = IPPROTO_IP;
			o->cmsg_type = IP_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(out));
			memcpy(CMSG_DATA(o), &out, sizeof(out));
			return;
		}
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo in6;
			memcpy(&in6, CMSG_DATA(c), sizeof(in6));
			ans->msg_control = ctl;
			ans->msg_controllen = CMSG_SPACE(sizeof(in6));
			struct cmsghdr *o = CMSG_FIRSTHDR(ans);
			o->cmsg_level = IPPROTO_IPV6;
			o->cmsg_type = IPV6_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(in6));
			memcpy(CMSG_DATA(o), &in6, sizeof(in6));
			return;
		}
	}
}

void fe__udp_send_one(struct fe__worker *w, struct fe__udp *u, const struct sockaddr *peer,
                      socklen_t peer_len, const void *ctl, size_t ctl_len, const uint8_t *msg,
                      size_t len)
{
	struct iovec iov = {(void *)msg, len};
	struct msghdr m = {0};
	m.msg_name = (void *)peer;
	m.msg_namelen = peer_len;
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = ctl_len ? (void *)ctl : NULL;
	m.msg_controllen = ctl_len;
	for (int tries = 0; tries < 4; tries++) {
		if (sendmsg(u->fd, &m, MSG_DONTWAIT) >= 0)
			return;
		if (errno != EINTR)
			break;
	}
	fe_ratelog(&udp_err_log, FE_LOG_WARN, "udp send: %s", strerror(errno));
	fe_counter_inc(w->counters, FE_CNT_DROPPED);
}

static void send_batch(struct fe__worker *w, struct fe__udp *u, unsigned n)
{
	unsigned off = 0;
	while (off < n) {
		int r = sendmmsg(u->fd, w->smsg + off, n - off, MSG_DONTWAIT);
		if (r > 0) {
			off += (unsigned)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
			/* Send buffer full: UDP answers are best effort; the client retries. */
			fe_counter_add(w->counters, FE_CNT_DROPPED, n - off);
			return;
		}
		/* The first remaining message failed on its own (unreachable address, ...):
		 * skip it and send the rest. */
		fe_ratelog(&udp_err_log, FE_LOG_WARN, "udp send: %s", strerror(errno));
		fe_counter_inc(w->counters, FE_CNT_DROPPED);
		off++;
	}
}

void fe__udp_on_readable(uv_poll_t *h, int status, int events)
{
	struct fe__udp *u = h->data;
	struct fe__worker *w = u->w;
	const struct fe_server_acl *acl = w->srv->opts.acl;
	if (status < 0) {
		fe_ratelog(&udp_err_log, FE_LOG_WARN, "udp poll: %s", uv_strerror(status));
		return;
	}
	if (!(events & UV_READABLE))
		return;
	for (unsigned round = 0; round < FE__UDP_ROUNDS; round++) {
		for (unsigned i = 0; i < FE__UDP_BATCH; i++) {
			struct msghdr *m = &w->rmsg[i].msg_hdr;
			w->riov[i].iov_base = w->rbuf + (size_t)i * FE__UDP_RECV_BYTES;
			w->riov[i].iov_len = FE__UDP_RECV_BYTES;
			m->msg_name = &w->raddr[i];
			m->msg_namelen = sizeof(w->raddr[i]);
			m->msg_iov = &w->riov[i];
			m->msg_iovlen = 1;
			m->msg_control = u->pktinfo ? w->rctl[i].buf : NULL;
			m->msg_controllen = u->pktinfo ? sizeof(w->rctl[i].buf) : 0;
			m->msg_flags = 0;
		}
		int n = recvmmsg(u->fd, w->rmsg, FE__UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				fe_ratelog(&udp_err_log, FE_LOG_WARN, "udp receive: %s",
				           strerror(errno));
			return;
		}
		if (n == 0)
			return;
		uint64_t t0 = fe_time_mono_us();
		w->cur_udp = u;
		w->cur_conn = NULL;
		w->cur_t0_us = t0;
		/* One snapshot per batch (docs/architecture.md, "Store"): a reload that commits
		 * meanwhile is seen from the next batch on. */
		bool snap_ok = fe_store_reader_begin(w->reader) == FE_OK;
		if (!snap_ok)
			fe_counter_inc(w->counters, FE_CNT_STORE_ERRORS);
		unsigned nsend = 0;
		for (int i = 0; i < n; i++) {
			struct msghdr *m = &w->rmsg[i].msg_hdr;
			if (m->msg_flags & MSG_TRUNC) {
				/* Larger than any query we serve; nothing sensible to echo. */
				fe_counter_inc(w->counters, FE_CNT_DROPPED);
				continue;
			}
			const struct sockaddr *peer = (const struct sockaddr *)&w->raddr[i];
			bool admitted = !acl || fe_server_acl_allows(acl, peer);
			uint8_t *out = w->sbuf + (size_t)nsend * FE__UDP_SEND_BYTES;
			w->cur_rmsg = m;
			bool deferred = false;
			size_t rlen =
			        fe__pipe_run_od(w, admitted, snap_ok, peer,
			                        w->rbuf + (size_t)i * FE__UDP_RECV_BYTES,
			                        w->rmsg[i].msg_len, FE_TRANSPORT_UDP, NULL, 0, out,
			                        FE__UDP_SEND_BYTES, NULL, NULL, NULL, &deferred);
			if (!rlen)
				continue;
			struct msghdr *a = &w->smsg[nsend].msg_hdr;
			w->siov[nsend].iov_base = out;
			w->siov[nsend].iov_len = rlen;
			a->msg_name = &w->raddr[i];
			a->msg_namelen = m->msg_namelen;
			a->msg_iov = &w->siov[nsend];
			a->msg_iovlen = 1;
			a->msg_flags = 0;
			if (u->pktinfo)
				fe__udp_reply_control(m, a, w->sctl[nsend].buf);
			else {
				a->msg_control = NULL;
				a->msg_controllen = 0;
			}
			nsend++;
		}
		if (snap_ok)
			fe_store_reader_end(w->reader);
		if (nsend) {
			send_batch(w, u, nsend);
			fe__latency_add(w->counters, fe_time_mono_us() - t0, nsend);
		}
		if (n < FE__UDP_BATCH)
			return;
	}
}
