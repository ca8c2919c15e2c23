/* src/policy/abuse_int.h — abuse control inside the policy engine: the settings a policy
 * carries (abuse.c), the response rate limiter (ratelimit.c) and the harvesting detector
 * (harvest.c), whose tables live in the runtime (runtime.c). */
#ifndef FE_POLICY_ABUSE_INT_H
#define FE_POLICY_ABUSE_INT_H

#include "fedenum/policy.h"

/* Relaxed atomic access to a field shared by the workers (one word, no read-modify-write:
 * a concurrent update may be lost, never torn). */
#define FE__LD(x)    __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define FE__ST(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/* The abuse settings of one policy (frozen with it). */
struct pol_abuse {
	bool rrl_on, hv_on, budgets_on;
	struct fe_policy_rate_limit rrl;
	struct fe_policy_harvesting hv;
	uint32_t hv_ones_min, hv_ones_max; /* distinct_numbers, max_distinct as sketch bits */
	uint64_t exempt_rrl, exempt_hv;    /* bit i: view i */
	uint64_t budget_drop;              /* bit i: view i drops over budget */
	uint32_t budget_qps[FE_POLICY_MAX_VIEWS];
};

/* splitmix64's finalizer: a well-mixed 64-bit hash of @x. */
static inline uint64_t fe__mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* A non-zero key for the client prefix of @sa (/@v4 for IPv4, /@v6 for IPv6); 0 when the
 * address is of neither family. */
uint64_t fe__abuse_prefix_key(const struct sockaddr *sa, unsigned v4, unsigned v6);
/* The client address of @sa ("192.0.2.7", "?"). */
void fe__pol_addr_str(const struct sockaddr *sa, char *out, size_t cap);
/* "192.0.2.0/24" for @sa under those lengths. */
void fe__abuse_prefix_str(const struct sockaddr *sa, unsigned v4, unsigned v6, char *out,
                          size_t cap);

/* ---- response rate limiting (ratelimit.c) ---------------------------------------------- */

struct fe__rrl;
enum fe__rrl_verdict { FE__RRL_SEND = 0, FE__RRL_SLIP, FE__RRL_DROP };
int fe__rrl_create(struct fe__rrl **out); /* FE_OK / FE_ENOMEM */
void fe__rrl_destroy(struct fe__rrl *t);
/* Account one response of bucket @key (non-zero) at @now_s; *nlimited: the bucket's limited
 * responses so far, this one included (0: sent). */
enum fe__rrl_verdict fe__rrl_account(struct fe__rrl *t, const struct fe_policy_rate_limit *c,
                                     uint64_t key, uint32_t now_s, uint32_t *nlimited);
/* The bucket key of response @resp (@len bytes) to @q from prefix @prefix_key: positive
 * answers and NODATA by question name and type, NXDOMAIN and errors by class only. */
uint64_t fe__rrl_key(uint64_t prefix_key, const struct fe_wire_query *q, const uint8_t *resp,
                     size_t len);

/* ---- harvesting detection (harvest.c) -------------------------------------------------- */

struct fe__hv;
/* What a finding says (for the log line). */
struct fe__hv_report {
	uint32_t queries, distinct, misses_pct, seq_pct, seconds;
	char walked[17]; /* the number prefix common to the window's numbers, "+1555" */
};
int fe__hv_create(struct fe__hv **out); /* FE_OK / FE_ENOMEM */
void fe__hv_destroy(struct fe__hv *t);
/* Whether prefix @key is throttled at @now_s. */
bool fe__hv_throttled(struct fe__hv *t, uint64_t key, uint32_t now_s);
/* Note ENUM number @number ("+15551234") asked by prefix @key, a miss or not. true when this
 * query makes the prefix harvesting (it is throttled from now on; @rep filled). */
bool fe__hv_note(struct fe__hv *t, const struct pol_abuse *c, uint64_t key, uint32_t now_s,
                 const char *number, bool miss, struct fe__hv_report *rep);
/* The sketch bits set by @distinct distinct numbers, expected (linear counting). */
uint32_t fe__hv_ones_for(unsigned distinct);
/* The distinct numbers that @ones sketch bits stand for (linear counting estimate). */
uint32_t fe__hv_distinct_of(uint32_t ones);

/* ---- the runtime's side (abuse.c) ------------------------------------------------------- */

struct fe__abuse {
	struct fe__rrl *rrl;
	struct fe__hv *hv;
	uint32_t (*now_s)(void *arg);
	void *now_arg;
	struct {
		_Alignas(64) uint32_t sec;
		uint32_t count;
	} budget[FE_POLICY_MAX_VIEWS];
};

/* Per request, between the two steps. */
struct fe__abuse_req {
	uint32_t now_s;
	uint64_t hv_key, prefix_key; /* 0: not computed / not applicable */
};

uint32_t fe__abuse_real_now_s(void *arg);   /* CLOCK_MONOTONIC seconds */
int fe__abuse_init(struct fe__abuse *a);    /* FE_OK / FE_ENOMEM */
void fe__abuse_deinit(struct fe__abuse *a); /* idempotent */
/* Before the decision: the view's budget and the prefix's harvesting throttle. Returns
 * true when the request is answered here: *len is REFUSED written into @msg (@cap), or 0 to
 * drop; the counter to bump in *lim. */
bool fe__abuse_before(struct fe__abuse *a, const struct fe_policy *p, int view,
                      const struct fe_server_request *req, uint8_t *msg, size_t cap,
                      struct fe__abuse_req *ar, size_t *len, enum fe_policy_limit *lim);
/* After the decision: harvesting accounting of an ENUM decision @d (NULL: none), then the
 * rate limit of a UDP answer (@msg, @len). Returns the length to send (0: dropped); bumps
 * @limits (the worker's counters, one writer). */
size_t fe__abuse_after(struct fe__abuse *a, const struct fe_policy *p, int view,
                       const struct fe_server_request *req, const struct fe_policy_decision *d,
                       struct fe__abuse_req *ar, uint8_t *msg, size_t len, size_t cap,
                       uint64_t *limits);

#endif
