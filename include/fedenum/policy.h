/* include/fedenum/policy.h — the federation's policy engine: views, namespace guard
 * and the ENUM routing decision, plugged into the request pipeline's `after` and `tsig`
 * hooks (server.h).
 *
 * A policy (struct fe_policy) is built once, from the configuration, with the fe_policy_add_*
 * calls, then frozen by fe_policy_finish; afterwards it is read-only and shared by every
 * worker without locks. A runtime (struct fe_policy_rt) holds the running policy behind an
 * atomic pointer: fe_policy_rt_swap replaces it (SIGHUP) and frees the old one only after
 * every worker has left the hook that was using it (RCU-like: a worker sees the old policy or
 * the new one for the whole of one request, never a mix).
 *
 * Per request (the `after` hook, docs/federation.md "Policy"):
 *  0. TSIG (RFC 8945): a signed query is verified with the policy's keyring (the view keys):
 *     a bad MAC or an unknown key gets NOTAUTH with an unsigned TSIG (BADSIG, BADKEY), a time
 *     outside the fudge or a replay a signed BADTIME; a verified query's answer is signed.
 *  1. view: the first view whose client prefixes hold the source address and, when it lists
 *     tsig-keys, whose key names include the name of the query's VERIFIED TSIG key (or the
 *     verified TLS client name). No view: REFUSED with EDE 18 (Prohibited), counted, logged
 *     at a bounded rate.
 *  2. namespace guard: a name under none of the federation's roots gets the `outside` action
 *     (REFUSED + EDE 18, or NXDOMAIN + EDE 18).
 *  2b. answer filters (filter.c): topology hiding (a member's names other than its border
 *     names and domains: REFUSED with EDE 17 to other members' views), `P-` enumservice
 *     NAPTRs only to the owning member's view, NSEC/NSEC3 of other members' zones withheld
 *     (border members always; ENUM zones for views with foreign-proofs = false); a filtered
 *     answer carries no RRSIG of what it changed, is not AD and gets EDE 17 (Filtered).
 *  3. ENUM decision, for NAPTR queries under an ENUM apex (at most 15 digit labels, RFC 6116):
 *     the answer the engine produced is read (no second lookup) and gives a valid route or
 *     exactly one cause; the first rule matching (cause, number prefix, view) gives the
 *     action; no rule: pass.
 * No heap per request; counters per worker (one writer each), summed by fe_policy_rt_counters.
 * Errors: negative enum fe_err (util.h). */
#ifndef FEDENUM_POLICY_H
#define FEDENUM_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fedenum/server.h"
#include "fedenum/wire.h"

struct fe_tsig_keyring;

/* Causes: why the federation has no valid route for a number. */
enum fe_policy_cause {
	FE_POLICY_ROUTE = 0, /* a valid route: no cause */
	FE_POLICY_NO_DELEGATION,
	FE_POLICY_ZONE_UNAVAILABLE,
	FE_POLICY_NOT_FOUND,
	FE_POLICY_PSTN_ONLY,
	FE_POLICY_TARGET_OUTSIDE,
	FE_POLICY_MEMBER_SUSPENDED,
	FE_POLICY_NO_AGREEMENT,
	FE_POLICY_CAUSE__MAX
};

/* Actions a rule chooses. */
enum fe_policy_action {
	FE_POLICY_PASS = 0, /* answer what the zone says */
	FE_POLICY_NXDOMAIN,
	FE_POLICY_BGCF,    /* synthesized E2U+sip NAPTR towards the BGCF URI */
	FE_POLICY_TRANSIT, /* the same towards the transit URI */
	FE_POLICY_PSTN,    /* synthesized E2U+pstn:tel NAPTR with enumdi (RFC 4759) */
	FE_POLICY_REFUSED,
	FE_POLICY_SERVFAIL,
	FE_POLICY_ACTION__MAX
};

/* Names as the configuration writes them ("no-delegation", "bgcf"); "route" for
 * FE_POLICY_ROUTE. Parse: FE_OK or FE_ESYNTAX. */
const char *fe_policy_cause_name(enum fe_policy_cause c);
const char *fe_policy_action_name(enum fe_policy_action a);
int fe_policy_cause_parse(const char *s, enum fe_policy_cause *out);
int fe_policy_action_parse(const char *s, enum fe_policy_action *out);

/* ---- building a policy ------------------------------------------------------------- */

struct fe_policy;

int fe_policy_create(struct fe_policy **out); /* FE_OK / FE_ENOMEM */
void fe_policy_destroy(struct fe_policy *p);  /* NULL is a no-op */

/* Names are presentation form ("e164.fed."); copied. Errors: FE_ESYNTAX, FE_ENOMEM,
 * FE_ENOSPC (more than the fixed bounds below). */
#define FE_POLICY_MAX_NAMES   64 /* roots, ENUM apexes, zones, domains: each */
#define FE_POLICY_MAX_MEMBERS 64
#define FE_POLICY_MAX_VIEWS   64
#define FE_POLICY_MAX_RULES   256

/* A root of the federation's namespace (a zone apex). */
int fe_policy_add_root(struct fe_policy *p, const char *name);
/* An ENUM apex (the registry's zone). Also a root. */
int fe_policy_add_enum_apex(struct fe_policy *p, const char *name);
/* A member. @peers: NULL → agreements with every member; resolved by finish.
 * Returns its index (≥ 0) or an error. */
int fe_policy_add_member(struct fe_policy *p, const char *name, bool suspended,
                         const char *const *peers, size_t npeers, bool has_peers);
/* A domain of member @member (SIP targets under it belong to the member). */
int fe_policy_add_domain(struct fe_policy *p, int member, const char *domain);
/* A zone held for member @member (the zone a negative or positive answer came from). */
int fe_policy_add_zone(struct fe_policy *p, int member, const char *apex);
/* A view. @member: NULL → agreements with every member. Returns its index or an error. */
int fe_policy_add_view(struct fe_policy *p, const char *name, const char *member);
/* A client prefix ("192.0.2.0/24", "::1") of view @view; FE_ESYNTAX for a bad prefix. */
int fe_policy_view_add_client(struct fe_policy *p, int view, const char *prefix);
/* A TSIG key name required on the query for view @view: the query's TSIG must verify with
 * the policy's keyring (fe_policy_set_keyring) and name this key. */
int fe_policy_view_add_tsig_key(struct fe_policy *p, int view, const char *key_name);
/* A verified TLS client certificate name (DNS SAN or CN, compared without case) that
 * selects view @view, as an alternative to its TSIG key names. FE_ENOSPC beyond 8,
 * FE_ESYNTAX when empty or too long. */
int fe_policy_view_add_tls_client(struct fe_policy *p, int view, const char *name);
/* The keys that verify signed queries (view keys). Takes ownership of @kr (also on error);
 * replaces the previous keyring (a policy starts with an empty one: every signed query then
 * gets BADKEY unless another hook verified it). FE_OK / FE_EINVAL (NULL). */
int fe_policy_set_keyring(struct fe_policy *p, struct fe_tsig_keyring *kr);
/* Topology hiding: @name (presentation form) is a border element of member @member. Once a
 * member has a border name, views of other members are answered for names under its
 * domains only when the name is one of its domains or border names, or such a name with
 * leading `_` labels (SRV, RFC 2782); anything else gets REFUSED with EDE 17. At most
 * FE_POLICY_MAX_NAMES in all. FE_ESYNTAX, FE_ENOSPC, FE_EINVAL (member). */
int fe_policy_add_border(struct fe_policy *p, int member, const char *name);
/* Whether view @view gets the NSEC/NSEC3 proofs of other members' zones (default true).
 * Views of other members never get those of zones under a border member's domains. */
int fe_policy_view_set_foreign_proofs(struct fe_policy *p, int view, bool on);
/* The BGCF / transit URI, "sip:HOST[:PORT]". FE_ESYNTAX when it is not that. */
int fe_policy_set_bgcf(struct fe_policy *p, const char *uri);
int fe_policy_set_transit(struct fe_policy *p, const char *uri);
/* The outside action: FE_POLICY_REFUSED (default) or FE_POLICY_NXDOMAIN (else FE_EINVAL). */
int fe_policy_set_outside(struct fe_policy *p, enum fe_policy_action a);
/* A rule: @causes is a bit mask (1u << cause); returns its index or an error. Rules are
 * tried in the order added. */
int fe_policy_add_rule(struct fe_policy *p, unsigned causes, enum fe_policy_action action);
/* "+1555" (a '+' and 1..15 digits) */
int fe_policy_rule_add_prefix(struct fe_policy *p, int rule, const char *prefix);
/* a view name, resolved by finish */
int fe_policy_rule_add_view(struct fe_policy *p, int rule, const char *view);

/* Resolve names (peers, view members, rule views) and check that bgcf/transit rules have
 * their URI. FE_OK, or FE_EINVAL with a reason in @err (NUL-terminated). */
int fe_policy_finish(struct fe_policy *p, char *err, size_t err_cap);

/* ---- one decision (what the hook does, exposed for tests) --------------------------- */

struct fe_policy_decision {
	int view;                     /* index, -1: no view */
	bool outside;                 /* the namespace guard applied */
	bool is_enum;                 /* an ENUM number under an ENUM apex */
	char number[17];              /* "+15551234" when is_enum */
	enum fe_policy_cause cause;   /* when is_enum */
	enum fe_policy_action action; /* what was done (PASS: the answer is unchanged) */
	bool hidden;                  /* topology hiding refused the name */
	bool filtered;                /* an answer filter removed records */
};

/* The view of a client (-1: none). @tsig_key: the name (wire) of the key the query's TSIG
 * verified with, or NULL (the caller verifies: a name alone never selects a view). */
int fe_policy_view_of(const struct fe_policy *p, const struct sockaddr *peer,
                      const uint8_t *tsig_key);
/* The same, with the verified TLS client certificate name (NULL: none): a view that lists
 * names (tls-clients) or keys matches when either the TSIG key or this name is listed. */
int fe_policy_view_of_client(const struct fe_policy *p, const struct sockaddr *peer,
                             const uint8_t *tsig_key, const char *tls_client);

/* Apply @p to the answer @resp (@len bytes, buffer @cap) to request @req / @q of @view:
 * rewrites @resp when the action says so (at most @limit bytes: the client's UDP limit, or
 * 65535) and returns the new length. Fills @d. No heap. */
size_t fe_policy_apply(const struct fe_policy *p, int view, const uint8_t *req, size_t req_len,
                       const struct fe_wire_query *q, uint8_t *resp, size_t len, size_t limit,
                       struct fe_policy_decision *d);

/* ---- the runtime: hooks, swap, counters ---------------------------------------------- */

/* What abuse control did (docs/federation.md "Abuse control"), one counter each. */
enum fe_policy_limit {
	FE_POLICY_RRL_SLIP = 0,     /* rate limited, sent truncated (TC=1) */
	FE_POLICY_RRL_DROP,         /* rate limited, not sent */
	FE_POLICY_BUDGET_REFUSED,   /* a view over its query budget: REFUSED */
	FE_POLICY_BUDGET_DROP,      /* ... not answered */
	FE_POLICY_HARVEST_DETECTED, /* a client prefix found walking numbers (once per finding) */
	FE_POLICY_HARVEST_REFUSED,  /* a query of a throttled prefix: REFUSED */
	FE_POLICY_HARVEST_DROP,     /* ... not answered */
	FE_POLICY_LIMIT__MAX
};
/* "rrl", "budget", "harvest" and "slip", "drop", "refused", "detected". */
const char *fe_policy_limit_mechanism(enum fe_policy_limit l);
const char *fe_policy_limit_action(enum fe_policy_limit l);

/* Counters: per view refusals, the namespace guard, decisions by cause × action, and what
 * abuse control did. */
struct fe_policy_counters {
	uint64_t no_view;       /* clients in no view, refused */
	uint64_t outside;       /* names outside the roots */
	uint64_t tsig_verified; /* signed queries whose TSIG verified with the view keys */
	uint64_t tsig_failed;   /* signed queries answered with a TSIG error (BADKEY, ...) */
	uint64_t hidden;        /* topology hiding: a member's internal name refused */
	uint64_t filtered;      /* answers an answer filter changed (P- NAPTRs, NSEC) */
	uint64_t decisions[FE_POLICY_CAUSE__MAX][FE_POLICY_ACTION__MAX];
	uint64_t limits[FE_POLICY_LIMIT__MAX];
};

struct fe_policy_rt;

/* @workers: the server's worker count (fe_server_workers; at most 1024). @udp_max: the
 * server's answer.udp_max. Takes ownership of @initial (may be NULL: every hook passes).
 * FE_OK / FE_ENOMEM / FE_EINVAL. */
int fe_policy_rt_create(unsigned workers, uint16_t udp_max, struct fe_policy *initial,
                        struct fe_policy_rt **out);
/* Hooks for fe_server_opts.policy; they live as long as @rt. */
const struct fe_server_policy *fe_policy_rt_hooks(struct fe_policy_rt *rt);
/* Make @p (owned from now on) the running policy; returns after the old one is freed
 * (every worker has left the hook that used it). One caller thread at a time. */
void fe_policy_rt_swap(struct fe_policy_rt *rt, struct fe_policy *p);
/* Sum of the workers' counters. Thread-safe (approximate). */
/* Whether the view that @req's client address (and verified TLS name) selects under the
 * running policy is one of @names ("default": the federation's clients). TSIG keys are not
 * considered here (a view that requires one is never selected). Worker threads, like the
 * hooks (req->worker is the slot). On-demand peering's `views`. */
bool fe_policy_rt_view_listed(struct fe_policy_rt *rt, const struct fe_server_request *req,
                              char *const *names, size_t n);
void fe_policy_rt_counters(struct fe_policy_rt *rt, struct fe_policy_counters *out);
/* "no-view=1 outside=2 not-found/bgcf=3 ..." (non-zero entries), like snprintf. */
size_t fe_policy_counters_format(const struct fe_policy_counters *c, char *buf, size_t cap);
/* After fe_server_stop only. NULL is a no-op. */
void fe_policy_rt_destroy(struct fe_policy_rt *rt);

/* ---- abuse control (abuse.c, ratelimit.c, harvest.c; docs/federation.md "Abuse control") --
 * Set on a policy before fe_policy_finish; the state (rate-limit buckets, harvesting
 * sketches, view budgets) lives in the runtime, in fixed tables allocated by
 * fe_policy_rt_create, shared by the workers through relaxed atomics (no locks; concurrent
 * updates of one entry may lose a count: the figures are approximate), and kept across
 * fe_policy_rt_swap. */

/* Response rate limiting (RRL): per client prefix and response class, a token bucket of
 * @responses_per_second (burst: one second's worth); a bucket may go @window_s seconds'
 * worth into debt, so a flood stays limited that long after it slows. A limited response is
 * dropped, except every @slip-th, sent truncated (header and question, TC=1: a real client
 * retries over TCP); @slip 0: all dropped. UDP only. */
struct fe_policy_rate_limit {
	unsigned responses_per_second; /* ≥ 1 */
	unsigned slip;                 /* 0..10 */
	unsigned window_s;             /* 1..3600 */
	unsigned ipv4_prefix;          /* 8..32 */
	unsigned ipv6_prefix;          /* 16..128 */
};
/* Harvesting detection: per client prefix, over a window of @window_s seconds, the ENUM
 * numbers asked (distinct numbers, approximately), the share of misses (not-found,
 * no-delegation, NXDOMAIN) and of sequential numbers (within 16 of the previous one). A
 * prefix is harvesting when it asked at least @distinct_numbers distinct numbers with
 * misses ≥ @nxdomain_percent or sequential ≥ @sequential_percent, or @max_distinct
 * distinct numbers whatever they were. It is then throttled for @hold_s seconds: every
 * query from it gets REFUSED (or no answer, @drop), and one log line names it. */
struct fe_policy_harvesting {
	unsigned window_s;           /* 10..86400 */
	unsigned distinct_numbers;   /* 10..4000 */
	unsigned max_distinct;       /* 10..4000, ≥ distinct_numbers */
	unsigned nxdomain_percent;   /* 1..100 */
	unsigned sequential_percent; /* 1..100 */
	unsigned hold_s;             /* 1..86400 */
	unsigned ipv4_prefix;        /* 8..32 */
	unsigned ipv6_prefix;        /* 16..128 */
	bool drop;                   /* throttled: no answer instead of REFUSED */
};
/* FE_OK, or FE_EINVAL for a value out of its range. */
int fe_policy_set_rate_limit(struct fe_policy *p, const struct fe_policy_rate_limit *r);
int fe_policy_set_harvesting(struct fe_policy *p, const struct fe_policy_harvesting *h);
#define FE_POLICY_EXEMPT_RATE_LIMIT 1u
#define FE_POLICY_EXEMPT_HARVESTING 2u
/* Exempt view @view (already added) from the mechanisms in @what. FE_ENOENT: no such view. */
int fe_policy_exempt_view(struct fe_policy *p, const char *view, unsigned what);
/* A query budget for view @view: at most @qps queries a second (whole server), the rest
 * REFUSED (or not answered, @drop). @qps 0: no budget. */
int fe_policy_view_set_budget(struct fe_policy *p, int view, unsigned qps, bool drop);
/* Tests: the clock abuse control reads (seconds, monotonic); NULL: the real one. */
void fe_policy_rt_set_clock(struct fe_policy_rt *rt, uint32_t (*now_s)(void *arg), void *arg);

#endif
