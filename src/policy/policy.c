/* Building a policy (policy.h "building a policy"): names, members, views, rules; frozen by
 * fe_policy_finish. Everything is allocated here, once, so that a decision needs no heap. */
#include "policy_int.h"

#include "fedenum/tsig.h"
#include "fedenum/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const cause_names[FE_POLICY_CAUSE__MAX] = {
        "route",     "no-delegation",  "zone-unavailable", "not-found",
        "pstn-only", "target-outside", "member-suspended", "no-agreement",
};
static const char *const action_names[FE_POLICY_ACTION__MAX] = {
        "pass", "nxdomain", "bgcf", "transit", "pstn", "refused", "servfail",
};

const char *fe_policy_cause_name(enum fe_policy_cause c)
{
	return (unsigned)c < FE_POLICY_CAUSE__MAX ? cause_names[c] : "?";
}

const char *fe_policy_action_name(enum fe_policy_action a)
{
	return (unsigned)a < FE_POLICY_ACTION__MAX ? action_names[a] : "?";
}

int fe_policy_cause_parse(const char *s, enum fe_policy_cause *out)
{
	/* "route" is not a cause a rule can name */
	for (unsigned i = 1; i < FE_POLICY_CAUSE__MAX; i++)
		if (strcmp(s, cause_names[i]) == 0) {
			*out = (enum fe_policy_cause)i;
			return FE_OK;
		}
	return FE_ESYNTAX;
}

int fe_policy_action_parse(const char *s, enum fe_policy_action *out)
{
	for (unsigned i = 0; i < FE_POLICY_ACTION__MAX; i++)
		if (strcmp(s, action_names[i]) == 0) {
			*out = (enum fe_policy_action)i;
			return FE_OK;
		}
	return FE_ESYNTAX;
}

int fe_policy_create(struct fe_policy **out)
{
	*out = NULL;
	struct fe_policy *p = calloc(1, sizeof(*p));
	if (!p)
		return FE_ENOMEM;
	p->rules = calloc(FE_POLICY_MAX_RULES, sizeof(*p->rules));
	if (!p->rules) {
		free(p);
		return FE_ENOMEM;
	}
	if (fe_tsig_keyring_create(&p->keys) != FE_OK) {
		free(p->rules);
		free(p);
		return FE_ENOMEM;
	}
	p->outside = FE_POLICY_REFUSED;
	*out = p;
	return FE_OK;
}

void fe_policy_destroy(struct fe_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nmembers; i++) {
		for (size_t j = 0; j < p->members[i].npeer_names; j++)
			free(p->members[i].peer_names[j]);
		free(p->members[i].peer_names);
	}
	for (size_t i = 0; i < p->nviews; i++)
		fe_server_acl_destroy(p->views[i].acl);
	fe_tsig_keyring_destroy(p->keys);
	free(p->rules);
	free(p);
}

int fe_policy_set_keyring(struct fe_policy *p, struct fe_tsig_keyring *kr)
{
	if (!kr)
		return FE_EINVAL;
	fe_tsig_keyring_destroy(p->keys);
	p->keys = kr;
	return FE_OK;
}

/* Presentation name (no escapes, final dot optional) → lowercase wire. */
static int to_wire(const char *s, uint8_t *out)
{
	size_t o = 0, n = strlen(s);
	if (n && s[n - 1] == '.')
		n--;
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && s[j] != '.')
			j++;
		size_t l = j - i;
		if (l == 0 || l > FE_WIRE_LABEL_MAX || o + 1 + l + 1 > FE_WIRE_NAME_MAX)
			return FE_ESYNTAX;
		out[o++] = (uint8_t)l;
		for (size_t k = i; k < j; k++)
			out[o++] = (uint8_t)tolower((unsigned char)s[k]);
		i = j + 1;
	}
	out[o++] = 0;
	return (int)o;
}

bool fe__pol_name_under(const uint8_t *name, size_t name_len, const uint8_t *apex, size_t apex_len)
{
	/* the tail first: most names tested are under none of the names tried */
	if (apex_len > name_len || memcmp(name + name_len - apex_len, apex, apex_len) != 0)
		return false;
	size_t i = 0;
	while (i < name_len) {
		if (name_len - i == apex_len && memcmp(name + i, apex, apex_len) == 0)
			return true;
		if (name[i] == 0)
			break;
		i += 1u + name[i];
	}
	return false;
}

static int add_name(struct pol_name *v, size_t *n, const char *name, int member)
{
	if (*n >= FE_POLICY_MAX_NAMES)
		return FE_ENOSPC;
	int l = to_wire(name, v[*n].wire);
	if (l < 0)
		return l;
	v[*n].len = (uint8_t)l;
	v[*n].member = member;
	(*n)++;
	return FE_OK;
}

int fe_policy_add_root(struct fe_policy *p, const char *name)
{
	return add_name(p->roots, &p->nroots, name, -1);
}

int fe_policy_add_enum_apex(struct fe_policy *p, const char *name)
{
	int rc = add_name(p->enum_apex, &p->nenum, name, -1);
	return rc ? rc : fe_policy_add_root(p, name);
}

static int copy_name(char *dst, size_t cap, const char *s)
{
	if (!s || !*s || strlen(s) >= cap)
		return FE_ESYNTAX;
	memcpy(dst, s, strlen(s) + 1);
	return FE_OK;
}

int fe_policy_add_member(struct fe_policy *p, const char *name, bool suspended,
                         const char *const *peers, size_t npeers, bool has_peers)
{
	if (p->nmembers >= FE_POLICY_MAX_MEMBERS)
		return FE_ENOSPC;
	struct pol_member *m = &p->members[p->nmembers];
	memset(m, 0, sizeof(*m));
	if (copy_name(m->name, sizeof(m->name), name))
		return FE_ESYNTAX;
	m->suspended = suspended;
	m->has_peers = has_peers;
	if (npeers) {
		m->peer_names = calloc(npeers, sizeof(char *));
		if (!m->peer_names)
			return FE_ENOMEM;
		p->nmembers++; /* from here on destroy frees what is copied */
		for (size_t i = 0; i < npeers; i++) {
			if (!(m->peer_names[i] = strdup(peers[i])))
				return FE_ENOMEM;
			m->npeer_names++;
		}
		return (int)p->nmembers - 1;
	}
	return (int)p->nmembers++;
}

int fe_policy_add_domain(struct fe_policy *p, int member, const char *domain)
{
	if (member < 0 || (size_t)member >= p->nmembers)
		return FE_EINVAL;
	return add_name(p->domains, &p->ndomains, domain, member);
}

int fe_policy_add_zone(struct fe_policy *p, int member, const char *apex)
{
	if (member < 0 || (size_t)member >= p->nmembers)
		return FE_EINVAL;
	return add_name(p->zones, &p->nzones, apex, member);
}

int fe_policy_add_view(struct fe_policy *p, const char *name, const char *member)
{
	if (p->nviews >= FE_POLICY_MAX_VIEWS)
		return FE_ENOSPC;
	struct pol_view *v = &p->views[p->nviews];
	memset(v, 0, sizeof(*v));
	v->member = -1;
	if (copy_name(v->name, sizeof(v->name), name))
		return FE_ESYNTAX;
	if (member && copy_name(v->member_name, sizeof(v->member_name), member))
		return FE_ESYNTAX;
	int rc = fe_server_acl_create(&v->acl);
	if (rc)
		return rc;
	return (int)p->nviews++;
}

int fe_policy_view_add_client(struct fe_policy *p, int view, const char *prefix)
{
	if (view < 0 || (size_t)view >= p->nviews)
		return FE_EINVAL;
	return fe_server_acl_add(p->views[view].acl, prefix);
}

int fe_policy_view_add_tsig_key(struct fe_policy *p, int view, const char *key_name)
{
	if (view < 0 || (size_t)view >= p->nviews)
		return FE_EINVAL;
	struct pol_view *v = &p->views[view];
	if (v->nkeys >= POL_VIEW_KEYS)
		return FE_ENOSPC;
	int l = to_wire(key_name, v->key[v->nkeys]);
	if (l < 0)
		return l;
	v->key_len[v->nkeys++] = (uint8_t)l;
	return FE_OK;
}

int fe_policy_view_add_tls_client(struct fe_policy *p, int view, const char *name)
{
	if (view < 0 || (size_t)view >= p->nviews)
		return FE_EINVAL;
	struct pol_view *v = &p->views[view];
	if (v->ncerts >= POL_VIEW_KEYS)
		return FE_ENOSPC;
	size_t n = strlen(name);
	if (!n || n >= sizeof(v->cert[0]))
		return FE_ESYNTAX;
	memcpy(v->cert[v->ncerts++], name, n + 1);
	return FE_OK;
}

int fe_policy_add_border(struct fe_policy *p, int member, const char *name)
{
	if (member < 0 || (size_t)member >= p->nmembers || member >= 64)
		return FE_EINVAL;
	int rc = add_name(p->borders, &p->nborders, name, member);
	if (rc == FE_OK)
		p->thig |= 1ull << member;
	return rc;
}

int fe_policy_view_set_foreign_proofs(struct fe_policy *p, int view, bool on)
{
	if (view < 0 || (size_t)view >= p->nviews)
		return FE_EINVAL;
	p->views[view].no_foreign_proofs = !on;
	if (!on)
		p->any_no_proofs = true;
	return FE_OK;
}

/* "sip:HOST[:PORT]" → "HOST[:PORT]": a host name or IPv4 address, port 1..65535. */
static int set_uri(char *dst, const char *uri)
{
	if (strncasecmp(uri, "sip:", 4) != 0)
		return FE_ESYNTAX;
	const char *h = uri + 4;
	size_t n = strlen(h);
	if (!n || n >= POL_URI_MAX)
		return FE_ESYNTAX;
	const char *colon = strchr(h, ':');
	size_t hl = colon ? (size_t)(colon - h) : n;
	if (!hl)
		return FE_ESYNTAX;
	for (size_t i = 0; i < hl; i++)
		if (!isalnum((unsigned char)h[i]) && h[i] != '-' && h[i] != '.')
			return FE_ESYNTAX; /* no user part, no parameters: the regexp adds them */
	if (colon) {
		char *end;
		long port = strtol(colon + 1, &end, 10);
		if (!colon[1] || *end || port < 1 || port > 65535)
			return FE_ESYNTAX;
	}
	memcpy(dst, h, n + 1);
	return FE_OK;
}

int fe_policy_set_bgcf(struct fe_policy *p, const char *uri)
{
	return set_uri(p->bgcf, uri);
}

int fe_policy_set_transit(struct fe_policy *p, const char *uri)
{
	return set_uri(p->transit, uri);
}

int fe_policy_set_outside(struct fe_policy *p, enum fe_policy_action a)
{
	if (a != FE_POLICY_REFUSED && a != FE_POLICY_NXDOMAIN)
		return FE_EINVAL;
	p->outside = a;
	return FE_OK;
}

int fe_policy_add_rule(struct fe_policy *p, unsigned causes, enum fe_policy_action action)
{
	if (p->nrules >= FE_POLICY_MAX_RULES)
		return FE_ENOSPC;
	if ((unsigned)action >= FE_POLICY_ACTION__MAX || !causes ||
	    (causes & ~((1u << FE_POLICY_CAUSE__MAX) - 1u)) || (causes & 1u))
		return FE_EINVAL;
	struct pol_rule *r = &p->rules[p->nrules];
	memset(r, 0, sizeof(*r));
	r->causes = causes;
	r->action = action;
	return (int)p->nrules++;
}

int fe_policy_rule_add_prefix(struct fe_policy *p, int rule, const char *prefix)
{
	if (rule < 0 || (size_t)rule >= p->nrules)
		return FE_EINVAL;
	struct pol_rule *r = &p->rules[rule];
	size_t n = strlen(prefix);
	if (n < 2 || n > 16 || prefix[0] != '+')
		return FE_ESYNTAX;
	for (size_t i = 1; i < n; i++)
		if (!isdigit((unsigned char)prefix[i]))
			return FE_ESYNTAX;
	if (r->nprefixes >= POL_RULE_PREFIX)
		return FE_ENOSPC;
	memcpy(r->prefix[r->nprefixes++], prefix, n + 1);
	return FE_OK;
}

int fe_policy_rule_add_view(struct fe_policy *p, int rule, const char *view)
{
	if (rule < 0 || (size_t)rule >= p->nrules)
		return FE_EINVAL;
	struct pol_rule *r = &p->rules[rule];
	if (r->nviews >= 8)
		return FE_ENOSPC;
	return copy_name(r->view_names[r->nviews++], 64, view);
}

static int member_index(const struct fe_policy *p, const char *name)
{
	for (size_t i = 0; i < p->nmembers; i++)
		if (strcmp(p->members[i].name, name) == 0)
			return (int)i;
	return -1;
}

int fe_policy_finish(struct fe_policy *p, char *err, size_t err_cap)
{
	if (err_cap)
		err[0] = 0;
	for (size_t i = 0; i < p->nmembers; i++) {
		struct pol_member *m = &p->members[i];
		for (size_t j = 0; j < m->npeer_names; j++) {
			int k = member_index(p, m->peer_names[j]);
			if (k < 0) {
				snprintf(err, err_cap,
				         "members.peers: member %s: no member is named "
				         "\"%s\"",
				         m->name, m->peer_names[j]);
				return FE_EINVAL;
			}
			m->peers |= 1ull << k;
		}
	}
	for (size_t i = 0; i < p->nviews; i++) {
		struct pol_view *v = &p->views[i];
		if (v->member_name[0] && (v->member = member_index(p, v->member_name)) < 0) {
			snprintf(err, err_cap, "views.member: view %s: no member is named \"%s\"",
			         v->name, v->member_name);
			return FE_EINVAL;
		}
	}
	for (size_t i = 0; i < p->nrules; i++) {
		struct pol_rule *r = &p->rules[i];
		for (size_t j = 0; j < r->nviews; j++) {
			size_t k = 0;
			while (k < p->nviews && strcmp(p->views[k].name, r->view_names[j]) != 0)
				k++;
			if (k == p->nviews) {
				snprintf(err, err_cap,
				         "policy.rules.views: no view is named \"%s\"",
				         r->view_names[j]);
				return FE_EINVAL;
			}
			r->views |= 1ull << k;
		}
		if ((r->action == FE_POLICY_BGCF && !p->bgcf[0]) ||
		    (r->action == FE_POLICY_TRANSIT && !p->transit[0])) {
			snprintf(err, err_cap, "policy.rules: action \"%s\" needs policy.%s",
			         fe_policy_action_name(r->action),
			         fe_policy_action_name(r->action));
			return FE_EINVAL;
		}
	}
	p->finished = true;
	return FE_OK;
}
