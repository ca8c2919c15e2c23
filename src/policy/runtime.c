/* The running policy (policy.h "the runtime"): the server hooks, the RCU-like swap and the
 * per-worker counters.
 *
 * Swap protocol. Each worker has a sequence number that it makes odd when it enters a hook
 * and even when it leaves (it is its only writer). Entering stores the odd value and then
 * loads the policy pointer, both sequentially consistent; the swapper exchanges the pointer
 * (also seq_cst) and then reads every worker's sequence: a worker that is outside, or that
 * entered after the exchange, uses the new policy; one seen inside is waited for until its
 * sequence moves (it left the hook, whatever it does next). Only then is the old policy
 * freed. Hooks never block, so the wait is the length of one request. */
#include "policy_int.h"

#include "fedenum/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_WORKERS 1024

struct slot {
	_Alignas(64) uint64_t seq; /* odd: inside a hook; written by its worker only */
	struct fe_policy_counters cnt;
	struct pol_tsig tsig; /* the TSIG of the worker's current request (view_tsig.c) */
};

#define REPLAY_CAPACITY 4096

struct fe_policy_rt {
	_Atomic(struct fe_policy *) cur;
	unsigned workers;
	uint16_t udp_max;
	struct fe_server_policy hooks;
	struct slot *slots;
	struct fe_tsig_replay *replay; /* signed view queries accepted (RFC 8945 §5.2.3) */
	struct fe__abuse abuse;        /* rate-limit, harvesting and budget state (abuse.c) */
};

static struct fe_ratelog view_log = FE_RATELOG_INIT(10, 60);
static struct fe_ratelog outside_log = FE_RATELOG_INIT(10, 60);
static struct fe_ratelog decision_log = FE_RATELOG_INIT(20, 60);
static struct fe_ratelog tsig_log = FE_RATELOG_INIT(10, 60);
static struct fe_ratelog filter_log = FE_RATELOG_INIT(10, 60);

static void inc(uint64_t *c)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

static struct fe_policy *enter(struct fe_policy_rt *rt, struct slot *s)
{
	__atomic_store_n(&s->seq, __atomic_load_n(&s->seq, __ATOMIC_RELAXED) + 1, __ATOMIC_SEQ_CST);
	return atomic_load(&rt->cur);
}

static void leave(struct slot *s)
{
	__atomic_store_n(&s->seq, __atomic_load_n(&s->seq, __ATOMIC_RELAXED) + 1, __ATOMIC_RELEASE);
}

static const char *tsig_error_name(uint16_t e)
{
	return e == FE_TSIG_BADKEY     ? "BADKEY (key not configured)"
	       : e == FE_TSIG_BADSIG   ? "BADSIG"
	       : e == FE_TSIG_BADTIME  ? "BADTIME"
	       : e == FE_TSIG_BADTRUNC ? "BADTRUNC"
	                               : "malformed TSIG";
}

static size_t after(void *state, const struct fe_server_request *req, uint8_t *msg, size_t len,
                    size_t cap)
{
	struct fe_policy_rt *rt = state;
	if (!req->q || !req->msg)
		return len;             /* stream messages: transfers have their own rules */
	if (req->worker >= rt->workers) /* more workers than announced: fail closed */
		return fe_wire_error_response(req->msg, req->msg_len, req->q, FE_RCODE_REFUSED, msg,
		                              cap);
	struct slot *s = &rt->slots[req->worker];
	struct fe_policy *p = enter(rt, s);
	if (!p) {
		leave(s);
		return len;
	}
	size_t limit = cap;
	if (req->transport == FE_TRANSPORT_UDP) {
		size_t l = fe_wire_udp_limit(req->q, rt->udp_max);
		limit = l < cap ? l : cap;
	}
	char a[INET6_ADDRSTRLEN];
	/* RFC 8945: only a key whose TSIG verified selects a view */
	const uint8_t *vkey = NULL;
	bool signed_q = req->q->has_tsig && req->q->opcode == FE_OP_QUERY;
	if (signed_q) {
		fe__pol_tsig_get(p, rt->replay, req, &s->tsig);
		if (s->tsig.rc == FE_OK) {
			vkey = s->tsig.res.key_name;
			inc(&s->cnt.tsig_verified);
		} else if (!req->tsig_checked) {
			size_t n = fe__pol_tsig_error(req, &s->tsig, msg, len, limit);
			inc(&s->cnt.tsig_failed);
			fe__pol_addr_str(req->peer, a, sizeof(a));
			fe_ratelog(&tsig_log, FE_LOG_WARN, "policy: client %s: TSIG %s: NOTAUTH", a,
			           s->tsig.res.replayed ? "replayed"
			                                : tsig_error_name(s->tsig.res.error));
			s->tsig.msg = NULL;
			leave(s);
			return n;
		}
		/* else another hook (zone transfer) verified it with its own key */
	}
	int view = fe_policy_view_of_client(p, req->peer, vkey, req->tls_client);
	struct fe_policy_decision d;
	struct fe__abuse_req ar;
	bool abuse = p->abuse.rrl_on || p->abuse.hv_on || p->abuse.budgets_on;
	enum fe_policy_limit lim;
	size_t n;
	if (abuse && fe__abuse_before(&rt->abuse, p, view, req, msg, limit, &ar, &n, &lim)) {
		inc(&s->cnt.limits[lim]);
		n = fe__abuse_after(&rt->abuse, p, view, req, NULL, &ar, msg, n, limit,
		                    s->cnt.limits);
		s->tsig.msg = NULL;
		leave(s);
		return n;
	}
	n = fe_policy_apply(p, view, req->msg, req->msg_len, req->q, msg, len, limit, &d);
	if (abuse)
		n = fe__abuse_after(&rt->abuse, p, view, req, &d, &ar, msg, n, limit,
		                    s->cnt.limits);
	if (n && vkey)
		n = fe__pol_tsig_sign(req, &s->tsig, msg, n, limit);
	s->tsig.msg = NULL;
	if (d.hidden || d.filtered) {
		inc(d.hidden ? &s->cnt.hidden : &s->cnt.filtered);
		char name[256];
		fe_wire_name_to_str(req->q->qname_lc, name, sizeof(name));
		fe_ratelog(&filter_log, FE_LOG_INFO, "policy: view %s: %s: %s", p->views[view].name,
		           name, d.hidden ? "topology hiding: REFUSED" : "answer filtered");
	}
	if (view < 0) {
		inc(&s->cnt.no_view);
		fe__pol_addr_str(req->peer, a, sizeof(a));
		fe_ratelog(&view_log, FE_LOG_WARN, "policy: client %s is in no view: REFUSED", a);
	} else if (d.outside) {
		inc(&s->cnt.outside);
		char name[256];
		fe_wire_name_to_str(req->q->qname_lc, name, sizeof(name));
		fe__pol_addr_str(req->peer, a, sizeof(a));
		fe_ratelog(&outside_log, FE_LOG_INFO,
		           "policy: view %s: %s %s is outside the "
		           "federation: %s",
		           p->views[view].name, a, name, fe_policy_action_name(d.action));
	} else if (d.is_enum) {
		inc(&s->cnt.decisions[d.cause][d.action]);
		if (d.cause != FE_POLICY_ROUTE)
			fe_ratelog(&decision_log, FE_LOG_INFO, "policy: view %s: %s: %s → %s",
			           p->views[view].name, d.number, fe_policy_cause_name(d.cause),
			           fe_policy_action_name(d.action));
	}
	leave(s);
	return n;
}

/* RFC 8945 §5.2 with the view keys and the replay cache: PASS when the TSIG verified (the
 * answer is then signed by `after`), else NOTAUTH (FORMERR for a malformed TSIG), which
 * `after` turns into the TSIG error answer. */
static enum fe_server_verdict tsig(void *state, const struct fe_server_request *req,
                                   uint16_t *rcode)
{
	struct fe_policy_rt *rt = state;
	*rcode = FE_RCODE_NOTAUTH;
	if (req->worker >= rt->workers)
		return FE_SERVER_RCODE;
	struct slot *s = &rt->slots[req->worker];
	struct fe_policy *p = enter(rt, s);
	enum fe_server_verdict v = FE_SERVER_RCODE;
	if (p) {
		fe__pol_tsig_verify(p, rt->replay, req, &s->tsig);
		if (s->tsig.rc == FE_OK)
			v = FE_SERVER_PASS;
		else if (s->tsig.rc == FE_EFORMAT)
			*rcode = FE_RCODE_FORMERR;
	}
	leave(s);
	return v;
}

int fe_policy_rt_create(unsigned workers, uint16_t udp_max, struct fe_policy *initial,
                        struct fe_policy_rt **out)
{
	*out = NULL;
	if (!workers || workers > MAX_WORKERS)
		return FE_EINVAL;
	struct fe_policy_rt *rt = calloc(1, sizeof(*rt));
	if (!rt)
		return FE_ENOMEM;
	rt->slots = aligned_alloc(64, workers * sizeof(struct slot));
	if (!rt->slots) {
		free(rt);
		return FE_ENOMEM;
	}
	memset(rt->slots, 0, workers * sizeof(struct slot));
	if (fe_tsig_replay_create(REPLAY_CAPACITY, &rt->replay) != FE_OK) {
		free(rt->slots);
		free(rt);
		return FE_ENOMEM;
	}
	if (fe__abuse_init(&rt->abuse) != FE_OK) {
		fe_tsig_replay_destroy(rt->replay);
		free(rt->slots);
		free(rt);
		return FE_ENOMEM;
	}
	rt->workers = workers;
	rt->udp_max = udp_max ? udp_max : FE_WIRE_UDP_DEFAULT;
	rt->hooks.state = rt;
	rt->hooks.after = after;
	rt->hooks.tsig = tsig;
	atomic_init(&rt->cur, initial);
	*out = rt;
	return FE_OK;
}

const struct fe_server_policy *fe_policy_rt_hooks(struct fe_policy_rt *rt)
{
	return &rt->hooks;
}

void fe_policy_rt_swap(struct fe_policy_rt *rt, struct fe_policy *p)
{
	struct fe_policy *old = atomic_exchange(&rt->cur, p);
	for (unsigned i = 0; i < rt->workers; i++) {
		uint64_t seq = __atomic_load_n(&rt->slots[i].seq, __ATOMIC_SEQ_CST);
		if (!(seq & 1u))
			continue;
		while (__atomic_load_n(&rt->slots[i].seq, __ATOMIC_ACQUIRE) == seq) {
			struct timespec ts = {0, 20000};
			nanosleep(&ts, NULL);
		}
	}
	fe_policy_destroy(old);
}

bool fe_policy_rt_view_listed(struct fe_policy_rt *rt, const struct fe_server_request *req,
                              char *const *names, size_t n)
{
	if (req->worker >= rt->workers)
		return false;
	struct slot *s = &rt->slots[req->worker];
	struct fe_policy *p = enter(rt, s);
	bool found = false;
	if (p) {
		int view = fe_policy_view_of_client(p, req->peer, NULL, req->tls_client);
		const char *name = view < 0                   ? NULL
		                   : (size_t)view < p->nviews ? p->views[view].name
		                                              : NULL;
		for (size_t i = 0; name && i < n && !found; i++)
			found = strcmp(names[i], name) == 0;
	}
	leave(s);
	return found;
}

void fe_policy_rt_counters(struct fe_policy_rt *rt, struct fe_policy_counters *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned w = 0; w < rt->workers; w++) {
		const struct fe_policy_counters *c = &rt->slots[w].cnt;
		out->no_view += __atomic_load_n(&c->no_view, __ATOMIC_RELAXED);
		out->outside += __atomic_load_n(&c->outside, __ATOMIC_RELAXED);
		out->tsig_verified += __atomic_load_n(&c->tsig_verified, __ATOMIC_RELAXED);
		out->tsig_failed += __atomic_load_n(&c->tsig_failed, __ATOMIC_RELAXED);
		out->hidden += __atomic_load_n(&c->hidden, __ATOMIC_RELAXED);
		out->filtered += __atomic_load_n(&c->filtered, __ATOMIC_RELAXED);
		for (unsigned i = 0; i < FE_POLICY_CAUSE__MAX; i++)
			for (unsigned j = 0; j < FE_POLICY_ACTION__MAX; j++)
				out->decisions[i][j] +=
				        __atomic_load_n(&c->decisions[i][j], __ATOMIC_RELAXED);
		for (unsigned i = 0; i < FE_POLICY_LIMIT__MAX; i++)
			out->limits[i] += __atomic_load_n(&c->limits[i], __ATOMIC_RELAXED);
	}
}

size_t fe_policy_counters_format(const struct fe_policy_counters *c, char *buf, size_t cap)
{
	size_t n = (size_t)snprintf(buf, cap,
	                            "no-view=%llu outside=%llu tsig-verified=%llu tsig-failed=%llu "
	                            "hidden=%llu filtered=%llu",
	                            (unsigned long long)c->no_view, (unsigned long long)c->outside,
	                            (unsigned long long)c->tsig_verified,
	                            (unsigned long long)c->tsig_failed,
	                            (unsigned long long)c->hidden, (unsigned long long)c->filtered);
	for (unsigned i = 0; i < FE_POLICY_CAUSE__MAX; i++)
		for (unsigned j = 0; j < FE_POLICY_ACTION__MAX; j++) {
			if (!c->decisions[i][j])
				continue;
			int k = snprintf(n < cap ? buf + n : NULL, n < cap ? cap - n : 0,
			                 " %s/%s=%llu", fe_policy_cause_name(i),
			                 fe_policy_action_name(j),
			                 (unsigned long long)c->decisions[i][j]);
			n += k > 0 ? (size_t)k : 0;
		}
	for (unsigned i = 0; i < FE_POLICY_LIMIT__MAX; i++) {
		if (!c->limits[i])
			continue;
		int k = snprintf(n < cap ? buf + n : NULL, n < cap ? cap - n : 0, " %s/%s=%llu",
		                 fe_policy_limit_mechanism(i), fe_policy_limit_action(i),
		                 (unsigned long long)c->limits[i]);
		n += k > 0 ? (size_t)k : 0;
	}
	return n;
}

void fe_policy_rt_set_clock(struct fe_policy_rt *rt, uint32_t (*now_s)(void *arg), void *arg)
{
	rt->abuse.now_s = now_s ? now_s : fe__abuse_real_now_s;
	rt->abuse.now_arg = arg;
}

void fe_policy_rt_destroy(struct fe_policy_rt *rt)
{
	if (!rt)
		return;
	fe_policy_destroy(atomic_load(&rt->cur));
	fe_tsig_replay_destroy(rt->replay);
	fe__abuse_deinit(&rt->abuse);
	free(rt->slots);
	free(rt);
}
