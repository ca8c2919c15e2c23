/* src/policy/policy_int.h — the frozen policy (policy.c builds it, decide.c reads it). */
#ifndef FE_POLICY_INT_H
#define FE_POLICY_INT_H

#include "fedenum/policy.h"

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
	size_t nroots, nenum, nzones, ndomains, nmembers, nviews, nrules;
	struct pol_name roots[FE_POLICY_MAX_NAMES];
	struct pol_name enum_apex[FE_POLICY_MAX_NAMES];
	struct pol_name zones[FE_POLICY_MAX_NAMES];
	struct pol_name domains[FE_POLICY_MAX_NAMES]; /* wire form of SIP target domains */
	struct pol_member members[FE_POLICY_MAX_MEMBERS];
	struct pol_view views[FE_POLICY_MAX_VIEWS];
	struct pol_rule *rules; /* FE_POLICY_MAX_RULES */
	enum fe_policy_action outside;
	char bgcf[POL_URI_MAX]; /* "HOST[:PORT]" from "sip:HOST[:PORT]"; "" unset */
	char transit[POL_URI_MAX];
	struct pol_abuse abuse; /* rate limit, harvesting, view budgets (abuse.c) */
	bool finished;
};

/* @name (wire, lowercase) is @apex or below it. */
bool fe__pol_name_under(const uint8_t *name, size_t name_len, const uint8_t *apex, size_t apex_len);

#endif
