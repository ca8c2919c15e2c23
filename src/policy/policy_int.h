/* src/policy/policy_int.h — the frozen policy (policy.c builds it, decide.c reads it). */
#ifndef FE_POLICY_INT_H
#define FE_POLICY_INT_H

#include "fedenum/policy.h"
#include "fedenum/tsig.h"

#include "abuse_int.h"

#define POL_NAME_TEXT   256 /* presentation form, lowercase, no final dot */
#define POL_VIEW_KEYS   8
#define POL_RULE_PREFIX 16
#define POL_URI_MAX     260

/* A name as lowercase wire (for qname suffix tests) and the member it belongs to. */
struct pol_name {
	uint8_t len;
	uint8_t wire[FE_WIRE_NAME_MAX];
	int member; /* -1: none */
};

struct pol_member {
	char name[64];
	bool suspended;
	bool has_peers;
	uint64_t peers; /* bit i: member i (resolved by finish) */
	char **peer_names;
	size_t npeer_names;
};

struct pol_view {
	char name[64];
	char member_name[64]; /* "" : none */
	int member;           /* -1: agreements with every member */
	struct fe_server_acl *acl;
	size_t nkeys;
	uint8_t key_len[POL_VIEW_KEYS];
	uint8_t key[POL_VIEW_KEYS][FE_WIRE_NAME_MAX]; /* lowercase wire */
	size_t ncerts;
	char cert[POL_VIEW_KEYS][FE_SERVER_TLS_NAME_MAX]; /* TLS client certificate names */
	bool no_foreign_proofs; /* NSEC/NSEC3 of other members' zones withheld */
};

struct pol_rule {
	unsigned causes;
	enum fe_policy_action action;
	size_t nprefixes;
	char prefix[POL_RULE_PREFIX][17];
	size_t nviews;
	char view_names[8][64];
	uint64_t views; /* resolved mask; 0 with nviews == 0: every view */
};

struct fe_policy {
	size_t nroots, nenum, nzones, ndomains, nmembers, nviews, nrules, nborders;
	struct pol_name roots[FE_POLICY_MAX_NAMES];
	struct pol_name enum_apex[FE_POLICY_MAX_NAMES];
	struct pol_name zones[FE_POLICY_MAX_NAMES];
	struct pol_name domains[FE_POLICY_MAX_NAMES]; /* wire form of SIP target domains */
	struct pol_member members[FE_POLICY_MAX_MEMBERS];
	struct pol_view views[FE_POLICY_MAX_VIEWS];
	struct pol_name borders[FE_POLICY_MAX_NAMES]; /* topology hiding: border names */
	uint64_t thig;      /* bit i: member i has border names (its other names are hidden) */
	bool any_no_proofs; /* some view withholds other members' proofs */
	struct fe_tsig_keyring *keys; /* view keys (owned, never NULL once created) */
	struct pol_rule *rules;       /* FE_POLICY_MAX_RULES */
	enum fe_policy_action outside;
	char bgcf[POL_URI_MAX]; /* "HOST[:PORT]" from "sip:HOST[:PORT]"; "" unset */
	char transit[POL_URI_MAX];
	struct pol_abuse abuse; /* rate limit, harvesting, view budgets (abuse.c) */
	bool finished;
};

/* The member of the longest of @v[0..n) that @name (wire, lowercase) is at or below; -1. */
int fe__pol_member_of(const struct pol_name *v, size_t n, const uint8_t *name, size_t len);

/* The policy's own answer over @out (decide.c): header, question, at most one synthesized
 * NAPTR (@service, @regexp; NULL: none), an OPT with EDE @ede and EXTRA-TEXT @text when the
 * query had EDNS. Returns the length (0: does not fit @limit). */
size_t fe__pol_write_answer(const uint8_t *req, const struct fe_wire_query *q, uint8_t *out,
                            size_t limit, uint16_t rcode, const char *service, const char *regexp,
                            uint16_t ede, const char *text);

/* The answer filters (filter.c) over the engine's answer @resp for view @view: topology
 * hiding, P- enumservices, NSEC/NSEC3 of other members' zones. Returns the new length and
 * sets d->hidden / d->filtered. No heap (a per-thread scratch copy). */
size_t fe__pol_filter(const struct fe_policy *p, int view, const uint8_t *req,
                      const struct fe_wire_query *q, uint8_t *resp, size_t len, size_t limit,
                      struct fe_policy_decision *d);

/* The TSIG verification of one request by a worker (view_tsig.c): made by the `tsig` hook
 * (with the replay cache) and read by `after` for the same request, or made by `after` when
 * another hook verified the TSIG. res.key borrows from @pol's keyring. */
struct pol_tsig {
	const struct fe_policy *pol; /* the policy whose keyring verified; NULL: none held */
	const uint8_t *msg;          /* the request it is for (with len and id) */
	size_t len;
	uint16_t id;
	int rc; /* fe_tsig_verify_request */
	struct fe_tsig_result res;
};

/* Verify @req's TSIG with p->keys into @t (@replay may be NULL). */
void fe__pol_tsig_verify(const struct fe_policy *p, struct fe_tsig_replay *replay,
                         const struct fe_server_request *req, struct pol_tsig *t);
/* @t is the verification of @req by @p (else verify again: with @replay unless the first
 * one passed, which the replay cache has recorded). */
void fe__pol_tsig_get(const struct fe_policy *p, struct fe_tsig_replay *replay,
                      const struct fe_server_request *req, struct pol_tsig *t);
/* The TSIG error answer for a refused @t (BADKEY, BADSIG unsigned; BADTIME, BADTRUNC
 * signed) over @msg; the length, or @len (the answer kept) when it is not a TSIG error. */
size_t fe__pol_tsig_error(const struct fe_server_request *req, const struct pol_tsig *t,
                          uint8_t *msg, size_t len, size_t limit);
/* Sign the answer @msg to a verified request (RFC 8945 §5.3, over the request MAC); an
 * answer with no room for the TSIG becomes header and question with TC=1. 0: cannot. */
size_t fe__pol_tsig_sign(const struct fe_server_request *req, const struct pol_tsig *t,
                         uint8_t *msg, size_t len, size_t limit);

/* @name (wire, lowercase) is @apex or below it. */
bool fe__pol_name_under(const uint8_t *name, size_t name_len, const uint8_t *apex, size_t apex_len);

#endif
