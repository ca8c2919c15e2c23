/* Abuse control in the policy engine (policy.h "abuse control", docs/federation.md "Abuse
 * control"): the settings a policy carries, and the two steps of the `after` hook around
 * the routing decision:
 *   before: the view's query budget, then the client prefix's harvesting throttle;
 *   after:  harvesting accounting of the ENUM decision, then response rate limiting of
 *           what goes out over UDP (including the refusals above: a spoofed flood of
 *           queries from a throttled prefix is limited like any other).
 * Nothing here allocates; the clock is read once per request and only when a mechanism is
 * on. */
#include "abuse_int.h"
#include "policy_int.h"

#include "fedenum/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static struct fe_ratelog budget_log = FE_RATELOG_INIT(10, 60);
static struct fe_ratelog harvest_log = FE_RATELOG_INIT(20, 60);
static struct fe_ratelog rrl_log = FE_RATELOG_INIT(10, 60);

static const char *const mechanisms[FE_POLICY_LIMIT__MAX] = {
        "rrl", "rrl", "budget", "budget", "harvest", "harvest", "harvest"};
static const char *const actions[FE_POLICY_LIMIT__MAX] = {"slip",     "drop",    "refused", "drop",
                                                          "detected", "refused", "drop"};

const char *fe_policy_limit_mechanism(enum fe_policy_limit l)
{
	return (unsigned)l < FE_POLICY_LIMIT__MAX ? mechanisms[l] : "?";
}

const char *fe_policy_limit_action(enum fe_policy_limit l)
{
	return (unsigned)l < FE_POLICY_LIMIT__MAX ? actions[l] : "?";
}

/* ---- settings ---------------------------------------------------------------------------- */

static bool in(unsigned v, unsigned lo, unsigned hi)
{
	return v >= lo && v <= hi;
}

int fe_policy_set_rate_limit(struct fe_policy *p, const struct fe_policy_rate_limit *r)
{
	if (!in(r->responses_per_second, 1, 10000000) || r->slip > 10 ||
	    !in(r->window_s, 1, 3600) || !in(r->ipv4_prefix, 8, 32) || !in(r->ipv6_prefix, 16, 128))
		return FE_EINVAL;
	p->abuse.rrl = *r;
	p->abuse.rrl_on = true;
	return FE_OK;
}

int fe_policy_set_harvesting(struct fe_policy *p, const struct fe_policy_harvesting *h)
{
	if (!in(h->window_s, 10, 86400) || !in(h->distinct_numbers, 10, 4000) ||
	    !in(h->max_distinct, h->distinct_numbers, 4000) || !in(h->nxdomain_percent, 1, 100) ||
	    !in(h->sequential_percent, 1, 100) || !in(h->hold_s, 1, 86400) ||
	    !in(h->ipv4_prefix, 8, 32) || !in(h->ipv6_prefix, 16, 128))
		return FE_EINVAL;
	p->abuse.hv = *h;
	p->abuse.hv_ones_min = fe__hv_ones_for(h->distinct_numbers);
	p->abuse.hv_ones_max = fe__hv_ones_for(h->max_distinct);
	p->abuse.hv_on = true;
	return FE_OK;
}

int fe_policy_exempt_view(struct fe_policy *p, const char *view, unsigned what)
{
	for (size_t i = 0; i < p->nviews; i++) {
		if (strcmp(p->views[i].name, view) != 0)
			continue;
		if (what & FE_POLICY_EXEMPT_RATE_LIMIT)
			p->abuse.exempt_rrl |= 1ull << i;
		if (what & FE_POLICY_EXEMPT_HARVESTING)
			p->abuse.exempt_hv |= 1ull << i;
		return FE_OK;
	}
	return FE_ENOENT;
}

int fe_policy_view_set_budget(struct fe_policy *p, int view, unsigned qps, bool drop)
{
	if (view < 0 || (size_t)view >= p->nviews)
		return FE_EINVAL;
	p->abuse.budget_qps[view] = qps;
	if (drop)
		p->abuse.budget_drop |= 1ull << view;
	else
		p->abuse.budget_drop &= ~(1ull << view);
	p->abuse.budgets_on = false;
	for (size_t i = 0; i < p->nviews; i++)
		p->abuse.budgets_on |= p->abuse.budget_qps[i] != 0;
	return FE_OK;
}

/* ---- client prefixes --------------------------------------------------------------------- */

static uint64_t mask64(unsigned bits)
{
	return bits >= 64 ? ~0ull : bits ? ~0ull << (64 - bits) : 0;
}

static uint64_t be64(const uint8_t *b)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

uint64_t fe__abuse_prefix_key(const struct sockaddr *sa, unsigned v4, unsigned v6)
{
	uint64_t hi, lo;
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
		uint32_t a = ntohl(s4->sin_addr.s_addr);
		hi = (uint64_t)(a & (uint32_t)(mask64(v4) >> 32)) | 4ull << 32;
		lo = 0;
	} else if (sa && sa->sa_family == AF_INET6) {
		const uint8_t *b =
		        ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
		hi = be64(b) & mask64(v6);
		lo = be64(b + 8) & mask64(v6 > 64 ? v6 - 64 : 0);
		lo ^= 6ull; /* IPv6 ::/N never meets an IPv4 key */
	} else {
		return 0;
	}
	uint64_t h = fe__mix64(hi ^ fe__mix64(lo + 0x9e3779b97f4a7c15ULL));
	return h ? h : 1;
}

void fe__abuse_prefix_str(const struct sockaddr *sa, unsigned v4, unsigned v6, char *out,
                          size_t cap)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned len = 0;
	if (sa && sa->sa_family == AF_INET) {
		struct in_addr x = ((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		x.s_addr = htonl(ntohl(x.s_addr) & (uint32_t)(mask64(v4) >> 32));
		inet_ntop(AF_INET, &x, a, sizeof(a));
		len = v4;
	} else if (sa && sa->sa_family == AF_INET6) {
		struct in6_addr x = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		for (unsigned i = 0; i < 16; i++) {
			unsigned keep = v6 > i * 8 ? v6 - i * 8 : 0;
			x.s6_addr[i] &= keep >= 8 ? 0xFFu : (uint8_t)(0xFFu << (8 - keep));
		}
		inet_ntop(AF_INET6, &x, a, sizeof(a));
		len = v6;
	}
	snprintf(out, cap, "%s/%u", a, len);
}

void fe__pol_addr_str(const struct sockaddr *sa, char *out, size_t cap)
{
	const void *a = NULL;
	if (sa && sa->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa && sa->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (!a || !inet_ntop(sa->sa_family, a, out, (socklen_t)cap))
		snprintf(out, cap, "?");
}

/* ---- the runtime ------------------------------------------------------------------------- */

uint32_t fe__abuse_real_now_s(void *arg)
{
	(void)arg;
	return (uint32_t)(fe_time_mono_ms() / 1000);
}

int fe__abuse_init(struct fe__abuse *a)
{
	memset(a, 0, sizeof(*a));
	a->now_s = fe__abuse_real_now_s;
	if (fe__rrl_create(&a->rrl) != FE_OK || fe__hv_create(&a->hv) != FE_OK) {
		fe__abuse_deinit(a);
		return FE_ENOMEM;
	}
	return FE_OK;
}

void fe__abuse_deinit(struct fe__abuse *a)
{
	fe__rrl_destroy(a->rrl);
	fe__hv_destroy(a->hv);
	a->rrl = NULL;
	a->hv = NULL;
}

/* A worker's own counter: one writer, read by others (runtime.c) */
static void bump(uint64_t *c)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

static bool exempt(uint64_t mask, int view)
{
	return view >= 0 && (mask >> view) & 1u;
}

bool fe__abuse_before(struct fe__abuse *a, const struct fe_policy *p, int view,
                      const struct fe_server_request *req, uint8_t *msg, size_t cap,
                      struct fe__abuse_req *ar, size_t *len, enum fe_policy_limit *lim)
{
	const struct pol_abuse *c = &p->abuse;
	ar->now_s = a->now_s(a->now_arg);
	ar->hv_key = ar->prefix_key = 0;
	bool drop = false;
	if (c->budgets_on && view >= 0 && c->budget_qps[view]) {
		/* the view's queries this second, whole server */
		__typeof__(a->budget[0]) *b = &a->budget[view];
		if (FE__LD(b->sec) != ar->now_s) {
			FE__ST(b->sec, ar->now_s);
			FE__ST(b->count, 0u);
		}
		uint32_t n = __atomic_add_fetch(&b->count, 1u, __ATOMIC_RELAXED);
		if (n > c->budget_qps[view]) {
			drop = (c->budget_drop >> view) & 1u;
			*lim = drop ? FE_POLICY_BUDGET_DROP : FE_POLICY_BUDGET_REFUSED;
			fe_ratelog(&budget_log, FE_LOG_WARN,
			           "policy: view %s is over its budget of %u queries a second: %s",
			           p->views[view].name, c->budget_qps[view],
			           drop ? "dropped" : "REFUSED");
			goto answered;
		}
	}
	if (c->hv_on && view >= 0 && !exempt(c->exempt_hv, view)) {
		ar->hv_key = fe__abuse_prefix_key(req->peer, c->hv.ipv4_prefix, c->hv.ipv6_prefix);
		if (ar->hv_key && fe__hv_throttled(a->hv, ar->hv_key, ar->now_s)) {
			drop = c->hv.drop;
			*lim = drop ? FE_POLICY_HARVEST_DROP : FE_POLICY_HARVEST_REFUSED;
			goto answered;
		}
	}
	return false;
answered:
	*len = drop ? 0
	            : fe_wire_error_response(req->msg, req->msg_len, req->q, FE_RCODE_REFUSED, msg,
	                                     cap);
	return true;
}

size_t fe__abuse_after(struct fe__abuse *a, const struct fe_policy *p, int view,
                       const struct fe_server_request *req, const struct fe_policy_decision *d,
                       struct fe__abuse_req *ar, uint8_t *msg, size_t len, size_t cap,
                       uint64_t *limits)
{
	const struct pol_abuse *c = &p->abuse;
	if (d && d->is_enum && ar->hv_key) {
		bool miss = d->cause == FE_POLICY_NOT_FOUND ||
		            d->cause == FE_POLICY_NO_DELEGATION ||
		            (len >= FE_WIRE_HDR_LEN && (msg[3] & 0xFu) == FE_RCODE_NXDOMAIN);
		struct fe__hv_report r;
		if (fe__hv_note(a->hv, c, ar->hv_key, ar->now_s, d->number, miss, &r)) {
			bump(&limits[FE_POLICY_HARVEST_DETECTED]);
			char addr[INET6_ADDRSTRLEN], pfx[INET6_ADDRSTRLEN + 8];
			fe__pol_addr_str(req->peer, addr, sizeof(addr));
			fe__abuse_prefix_str(req->peer, c->hv.ipv4_prefix, c->hv.ipv6_prefix, pfx,
			                     sizeof(pfx));
			fe_ratelog(&harvest_log, FE_LOG_WARN,
			           "policy: harvesting: client %s (prefix %s, view %s) walked %s: "
			           "%u queries, ~%u distinct numbers, %u%% misses, %u%% sequential "
			           "in %u s: %s for %u s",
			           addr, pfx, view >= 0 ? p->views[view].name : "-", r.walked,
			           r.queries, r.distinct, r.misses_pct, r.seq_pct, r.seconds,
			           c->hv.drop ? "dropped" : "REFUSED", c->hv.hold_s);
		}
	}
	if (!c->rrl_on || !len || req->transport != FE_TRANSPORT_UDP || exempt(c->exempt_rrl, view))
		return len;
	if (!ar->prefix_key)
		ar->prefix_key =
		        fe__abuse_prefix_key(req->peer, c->rrl.ipv4_prefix, c->rrl.ipv6_prefix);
	uint64_t key = fe__rrl_key(ar->prefix_key, req->q, msg, len);
	uint32_t nlimited;
	enum fe__rrl_verdict v = fe__rrl_account(a->rrl, &c->rrl, key, ar->now_s, &nlimited);
	if (v == FE__RRL_SEND)
		return len;
	if (nlimited % 4096 == 1) {
		/* a bucket's first limited response, then one in 4096: a flood costs no
		 * formatting per response */
		char pfx[INET6_ADDRSTRLEN + 8];
		fe__abuse_prefix_str(req->peer, c->rrl.ipv4_prefix, c->rrl.ipv6_prefix, pfx,
		                     sizeof(pfx));
		fe_ratelog(&rrl_log, FE_LOG_INFO,
		           "policy: rate limit: responses to %s over %u a second (%u limited "
		           "in this class, slip %u): dropped or sent truncated",
		           pfx, c->rrl.responses_per_second, nlimited, c->rrl.slip);
	}
	if (v == FE__RRL_DROP) {
		bump(&limits[FE_POLICY_RRL_DROP]);
		return 0;
	}
	/* RFC-style slip: header and question only, TC=1, the answer's rcode; never longer
	 * than the query (the question is the query's own; an OPT only when it had one) */
	size_t n = fe_wire_error_response(req->msg, req->msg_len, req->q, msg[3] & 0xFu, msg, cap);
	if (!n || n > req->msg_len) {
		bump(&limits[FE_POLICY_RRL_DROP]);
		return 0;
	}
	msg[2] |= (uint8_t)(FE_F_TC >> 8);
	bump(&limits[FE_POLICY_RRL_SLIP]);
	return n;
}
