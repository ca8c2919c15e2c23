/* The policy keys of the federation definition (docs/federation.md "Policy"): members.peers,
 * members.suspended, views, policy { bgcf, transit, outside, rules }; and fe_conf_make_policy,
 * which turns them (with the members, zones and clients) into a struct fe_policy. Every
 * problem is reported as file:line; a configuration with one is refused as a whole, so a
 * reload with a bad policy leaves the running one in place. */
#include "conf_int.h"

#include "fedenum/policy.h"
#include "fedenum/tsig.h"

#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pctx {
	struct fe_conf_diag *d;
	const char *path;
	bool failed;
};

static void perr(struct pctx *x, const config_setting_t *s, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void perr(struct pctx *x, const config_setting_t *s, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	const char *f = config_setting_source_file(s);
	fe_conf_diag_add(x->d, f ? f : x->path, (int)config_setting_source_line(s), "%s", msg);
	x->failed = true;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void fe__conf_policy_free(struct fe_conf *c)
{
	for (size_t i = 0; i < c->nmembers; i++) {
		free_strv(c->members[i].peers, c->members[i].npeers);
		free_strv(c->members[i].border, c->members[i].nborder);
	}
	for (size_t i = 0; i < c->nviews; i++) {
		free(c->views[i].name);
		free(c->views[i].member);
		free_strv(c->views[i].clients, c->views[i].nclients);
		free_strv(c->views[i].tsig_keys, c->views[i].ntsig_keys);
		free_strv(c->views[i].tls_clients, c->views[i].ntls_clients);
	}
	free(c->views);
	free(c->policy_bgcf);
	free(c->policy_transit);
	for (size_t i = 0; i < c->nrules; i++) {
		free_strv(c->rules[i].prefixes, c->rules[i].nprefixes);
		free_strv(c->rules[i].views, c->rules[i].nviews);
	}
	free(c->rules);
	fe__conf_abuse_free(c);
}

/* Keys of group @g must be children of @group in the schema. */
static bool known_keys(struct pctx *x, const config_setting_t *g, const char *group)
{
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		perr(x, g, "%s: a group { ... } expected", group);
		return false;
	}
	const char *known[32];
	fe__conf_children(FE_CONF_FEDERATION, group, known, FE_ARRAY_LEN(known));
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		bool ok = false;
		for (size_t k = 0; known[k] && !ok; k++)
			ok = strcmp(known[k], config_setting_name(s)) == 0;
		if (!ok)
			perr(x, s, "%s: unknown key \"%s\"", group, config_setting_name(s));
	}
	return true;
}

static char *str_of(struct pctx *x, const config_setting_t *s, const char *what)
{
	const char *v =
	        config_setting_type(s) == CONFIG_TYPE_STRING ? config_setting_get_string(s) : NULL;
	if (!v || !*v) {
		perr(x, s, "%s must be a non-empty string", what);
		return NULL;
	}
	char *r = strdup(v);
	if (!r)
		perr(x, s, "out of memory");
	return r;
}

static bool strs_of(struct pctx *x, const config_setting_t *s, const char *what, char ***out,
                    size_t *n)
{
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
		perr(x, s, "%s must be an array of strings [ \"...\" ]", what);
		return false;
	}
	int len = config_setting_length(s);
	*out = calloc((size_t)len + 1, sizeof(char *));
	if (!*out)
		return false;
	*n = 0;
	for (int i = 0; i < len; i++) {
		char *v = str_of(x, config_setting_get_elem(s, (unsigned)i), what);
		if (!v)
			return false;
		(*out)[(*n)++] = v;
	}
	return true;
}

static const struct fe_conf_member *member_named(const struct fe_conf *c, const char *name)
{
	for (size_t i = 0; i < c->nmembers; i++)
		if (c->members[i].name && strcmp(c->members[i].name, name) == 0)
			return &c->members[i];
	return NULL;
}

static void load_member_policy(struct pctx *x, struct fe_conf *c, const config_setting_t *list)
{
	for (int i = 0; i < config_setting_length(list) && (size_t)i < c->nmembers; i++) {
		const config_setting_t *g = config_setting_get_elem(list, (unsigned)i), *s;
		struct fe_conf_member *m = &c->members[i];
		if ((s = config_setting_get_member(g, "suspended"))) {
			if (config_setting_type(s) != CONFIG_TYPE_BOOL)
				perr(x, s, "members.suspended must be true or false");
			m->suspended = config_setting_get_bool(s) != 0;
		}
		if ((s = config_setting_get_member(g, "border")) &&
		    strs_of(x, s, "members.border", &m->border, &m->nborder)) {
			uint8_t w[FE_WIRE_NAME_MAX];
			for (size_t k = 0; k < m->nborder; k++)
				if (fe_conf_name_from_str(m->border[k], w, sizeof(w)) < 0)
					perr(x, config_setting_get_elem(s, (unsigned)k),
					     "members.border: \"%s\" is not a domain name",
					     m->border[k]);
			if (m->nborder)
				c->has_policy =
				        true; /* topology hiding runs in the policy engine */
		}
		if (!(s = config_setting_get_member(g, "peers")))
			continue;
		m->has_peers = strs_of(x, s, "members.peers", &m->peers, &m->npeers);
		for (size_t k = 0; k < m->npeers; k++)
			if (!member_named(c, m->peers[k]))
				perr(x, config_setting_get_elem(s, (unsigned)k),
				     "members.peers: no member is named \"%s\"", m->peers[k]);
	}
}

static void load_view(struct pctx *x, struct fe_conf *c, const config_setting_t *g)
{
	if (!known_keys(x, g, "views"))
		return;
	struct fe_conf_view *v = &c->views[c->nviews++];
	const config_setting_t *s;
	if (!(s = config_setting_get_member(g, "name")))
		perr(x, g, "views: a view needs a name");
	else if ((v->name = str_of(x, s, "views.name")) && strcmp(v->name, "default") == 0)
		perr(x, s, "views.name: \"default\" is the federation's clients (reserved)");
	else if (v->name)
		for (size_t i = 0; i + 1 < c->nviews; i++)
			if (c->views[i].name && strcmp(c->views[i].name, v->name) == 0)
				perr(x, s, "views.name: \"%s\" is defined twice", v->name);
	if ((s = config_setting_get_member(g, "member")) &&
	    (v->member = str_of(x, s, "views.member")) && !member_named(c, v->member))
		perr(x, s, "views.member: no member is named \"%s\"", v->member);
	if (!(s = config_setting_get_member(g, "clients"))) {
		perr(x, g, "views: a view needs clients = [ \"PREFIX\", ... ]");
	} else if (strs_of(x, s, "views.clients", &v->clients, &v->nclients)) {
		struct fe_server_acl *acl = NULL;
		if (fe_server_acl_create(&acl) == FE_OK) {
			for (size_t i = 0; i < v->nclients; i++)
				if (fe_server_acl_add(acl, v->clients[i]) != FE_OK)
					perr(x, config_setting_get_elem(s, (unsigned)i),
					     "views.clients: \"%s\" is not an address prefix "
					     "(ADDR/LEN with no host bits set, or ADDR)",
					     v->clients[i]);
			fe_server_acl_destroy(acl);
		}
	}
	if ((s = config_setting_get_member(g, "tsig-keys")) &&
	    strs_of(x, s, "views.tsig-keys", &v->tsig_keys, &v->ntsig_keys)) {
		uint8_t w[FE_WIRE_NAME_MAX];
		for (size_t i = 0; i < v->ntsig_keys; i++)
			if (fe_conf_name_from_str(v->tsig_keys[i], w, sizeof(w)) < 0 || i >= 8)
				perr(x, config_setting_get_elem(s, (unsigned)i),
				     "views.tsig-keys: \"%s\" is not a key name (at most 8)",
				     v->tsig_keys[i]);
	}
	if ((s = config_setting_get_member(g, "foreign-proofs"))) {
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			perr(x, s, "views.foreign-proofs must be true or false");
		v->no_foreign_proofs = config_setting_get_bool(s) == 0;
	}
	if ((s = config_setting_get_member(g, "tls-clients")) &&
	    strs_of(x, s, "views.tls-clients", &v->tls_clients, &v->ntls_clients)) {
		for (size_t i = 0; i < v->ntls_clients; i++)
			if (!*v->tls_clients[i] ||
			    strlen(v->tls_clients[i]) >= FE_SERVER_TLS_NAME_MAX || i >= 8)
				perr(x, config_setting_get_elem(s, (unsigned)i),
				     "views.tls-clients: \"%s\" is not a certificate name "
				     "(1..255 bytes, at most 8)",
				     v->tls_clients[i]);
	}
}

static void load_rule(struct pctx *x, struct fe_conf *c, const config_setting_t *g)
{
	if (!known_keys(x, g, "policy.rules"))
		return;
	struct fe_conf_rule *r = &c->rules[c->nrules++];
	const config_setting_t *s;
	char **v = NULL;
	size_t n = 0;
	if (!(s = config_setting_get_member(g, "causes"))) {
		perr(x, g, "policy.rules: a rule needs causes = [ ... ]");
	} else if (strs_of(x, s, "policy.rules.causes", &v, &n)) {
		if (!n)
			perr(x, s, "policy.rules.causes: empty");
		for (size_t i = 0; i < n; i++) {
			enum fe_policy_cause cause;
			if (fe_policy_cause_parse(v[i], &cause) == FE_OK)
				r->causes |= 1u << cause;
			else
				perr(x, config_setting_get_elem(s, (unsigned)i),
				     "policy.rules.causes: \"%s\" is not one of no-delegation, "
				     "zone-unavailable, not-found, pstn-only, target-outside, "
				     "member-suspended, no-agreement",
				     v[i]);
		}
	}
	free_strv(v, n);
	enum fe_policy_action a = FE_POLICY_PASS;
	char *str;
	if (!(s = config_setting_get_member(g, "action"))) {
		perr(x, g, "policy.rules: a rule needs an action");
	} else if ((str = str_of(x, s, "policy.rules.action"))) {
		if (fe_policy_action_parse(str, &a) != FE_OK)
			perr(x, s,
			     "policy.rules.action: \"%s\" is not one of nxdomain, bgcf, "
			     "transit, pstn, refused, servfail, pass",
			     str);
		else if ((a == FE_POLICY_BGCF && !c->policy_bgcf) ||
		         (a == FE_POLICY_TRANSIT && !c->policy_transit))
			perr(x, s, "policy.rules.action: \"%s\" needs policy.%s", str, str);
		free(str);
	}
	r->action = (int)a;
	if ((s = config_setting_get_member(g, "prefixes")) &&
	    strs_of(x, s, "policy.rules.prefixes", &r->prefixes, &r->nprefixes)) {
		struct fe_policy *p = NULL;
		if (fe_policy_create(&p) == FE_OK) {
			int ri = fe_policy_add_rule(p, 2u, FE_POLICY_PASS);
			for (size_t i = 0; i < r->nprefixes; i++)
				if (fe_policy_rule_add_prefix(p, ri, r->prefixes[i]) != FE_OK)
					perr(x, config_setting_get_elem(s, (unsigned)i),
					     "policy.rules.prefixes: \"%s\" is not an E.164 prefix "
					     "(\"+\" and 1 to 15 digits; at most 16 per rule)",
					     r->prefixes[i]);
			fe_policy_destroy(p);
		}
	}
	if ((s = config_setting_get_member(g, "views")) &&
	    strs_of(x, s, "policy.rules.views", &r->views, &r->nviews))
		for (size_t i = 0; i < r->nviews; i++) {
			bool found = strcmp(r->views[i], "default") == 0;
			for (size_t k = 0; k < c->nviews && !found; k++)
				found = c->views[k].name &&
				        strcmp(c->views[k].name, r->views[i]) == 0;
			if (!found || i >= 8)
				perr(x, config_setting_get_elem(s, (unsigned)i),
				     "policy.rules.views: no view is named \"%s\" (at most 8)",
				     r->views[i]);
		}
}

static void load_policy(struct pctx *x, struct fe_conf *c, const config_setting_t *g)
{
	if (!known_keys(x, g, "policy"))
		return;
	c->has_policy = true;
	c->policy_outside = FE_POLICY_REFUSED;
	const config_setting_t *s;
	struct fe_policy *p = NULL;
	if (fe_policy_create(&p) != FE_OK)
		return;
	if ((s = config_setting_get_member(g, "bgcf")) &&
	    (c->policy_bgcf = str_of(x, s, "policy.bgcf")) &&
	    fe_policy_set_bgcf(p, c->policy_bgcf) != FE_OK)
		perr(x, s, "policy.bgcf: \"%s\" is not sip:HOST[:PORT]", c->policy_bgcf);
	if ((s = config_setting_get_member(g, "transit")) &&
	    (c->policy_transit = str_of(x, s, "policy.transit")) &&
	    fe_policy_set_transit(p, c->policy_transit) != FE_OK)
		perr(x, s, "policy.transit: \"%s\" is not sip:HOST[:PORT]", c->policy_transit);
	fe_policy_destroy(p);
	char *str;
	if ((s = config_setting_get_member(g, "outside")) &&
	    (str = str_of(x, s, "policy.outside"))) {
		if (strcmp(str, "nxdomain") == 0)
			c->policy_outside = FE_POLICY_NXDOMAIN;
		else if (strcmp(str, "refused") != 0)
			perr(x, s, "policy.outside: \"%s\" is not \"refused\" or \"nxdomain\"",
			     str);
		free(str);
	}
	if (!(s = config_setting_get_member(g, "rules")))
		return;
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_LIST) {
		perr(x, s, "policy.rules must be a list ( { ... }, ... )");
		return;
	}
	int n = config_setting_length(s);
	if (n > FE_POLICY_MAX_RULES) {
		perr(x, s, "policy.rules: at most %d rules", FE_POLICY_MAX_RULES);
		return;
	}
	if (!(c->rules = calloc((size_t)n + 1, sizeof(*c->rules))))
		return;
	for (int i = 0; i < n; i++)
		load_rule(x, c, config_setting_get_elem(s, (unsigned)i));
}

bool fe__conf_load_policy(const config_setting_t *root, const char *path, struct fe_conf *c,
                          struct fe_conf_diag *d)
{
	struct pctx x = {.d = d, .path = path};
	const config_setting_t *s;
	if ((s = config_setting_get_member(root, "members")) &&
	    config_setting_type(s) == CONFIG_TYPE_LIST)
		load_member_policy(&x, c, s);
	if ((s = config_setting_get_member(root, "views"))) {
		if (config_setting_type(s) != CONFIG_TYPE_LIST) {
			perr(&x, s, "views must be a list ( { ... }, ... )");
		} else {
			int n = config_setting_length(s);
			if (n >= FE_POLICY_MAX_VIEWS)
				perr(&x, s, "views: at most %d views", FE_POLICY_MAX_VIEWS - 1);
			else if ((c->views = calloc((size_t)n + 1, sizeof(*c->views))))
				for (int i = 0; i < n; i++)
					load_view(&x, c, config_setting_get_elem(s, (unsigned)i));
		}
	}
	if ((s = config_setting_get_member(root, "policy")))
		load_policy(&x, c, s);
	if (!fe__conf_load_abuse(root, path, c, d))
		x.failed = true;
	if (!x.failed && fe_conf_has_policy(c)) {
		/* what the running node would build: any remaining problem is this file's */
		struct fe_policy *p = NULL;
		char err[512];
		if (fe_conf_make_policy(c, &p, err, sizeof(err)) != FE_OK) {
			fe_conf_diag_add(d, path, 0, "policy: %s", err);
			x.failed = true;
		}
		fe_policy_destroy(p);
	}
	return !x.failed;
}

bool fe_conf_has_policy(const struct fe_conf *c)
{
	return c->has_policy || c->nviews > 0;
}

#define TRY(call)                                                           \
	do {                                                                \
		int rc_ = (call);                                           \
		if (rc_ < 0) {                                              \
			if (!err[0])                                        \
				snprintf(err, cap, "%s", fe_strerror(rc_)); \
			goto fail;                                          \
		}                                                           \
	} while (0)

/* A view key with the name of a transfer key would be verified, and its answer signed, by
 * both (the transfer module signs what it verified): names must differ. */
static int keys_apart(const struct fe_conf *c, char *err, size_t cap)
{
	struct fe_tsig_keyring *v = NULL, *x = NULL;
	int rc = fe_tsig_keyring_create(&v);
	if (rc == FE_OK)
		rc = fe_tsig_keyring_create(&x);
	for (size_t i = 0; rc == FE_OK && i < c->nview_tsig_keys; i++)
		rc = fe_tsig_keyring_load_file(v, c->view_tsig_keys[i], NULL, 0);
	for (size_t i = 0; rc == FE_OK && i < c->nxfr_tsig_keys; i++)
		rc = fe_tsig_keyring_load_file(x, c->xfr_tsig_keys[i], NULL, 0);
	for (size_t i = 0; rc == FE_OK && i < fe_tsig_keyring_count(v); i++) {
		const uint8_t *name = fe_tsig_key_name(fe_tsig_keyring_get(v, i));
		for (size_t k = 0; rc == FE_OK && k < fe_tsig_keyring_count(x); k++) {
			if (!fe_wire_name_eq(name, fe_tsig_key_name(fe_tsig_keyring_get(x, k))))
				continue;
			char s[1024];
			fe_wire_name_to_str(name, s, sizeof(s));
			snprintf(err, cap,
			         "server.view-tsig-keys: key %s is also a transfer key "
			         "(xfr.tsig-keys): the names must differ",
			         s);
			rc = FE_EINVAL;
		}
	}
	fe_tsig_keyring_destroy(v);
	fe_tsig_keyring_destroy(x);
	if (rc != FE_OK && !err[0])
		snprintf(err, cap, "TSIG key files: %s", fe_strerror(rc));
	return rc;
}

int fe_conf_make_policy(const struct fe_conf *c, struct fe_policy **out, char *err, size_t cap)
{
	static const char *const loopback[] = {"127.0.0.0/8", "::1/128"};
	*out = NULL;
	if (cap)
		err[0] = 0;
	struct fe_policy *p = NULL;
	int rc = fe_policy_create(&p);
	if (rc)
		return rc;
	for (size_t i = 0; i < c->nmembers; i++) {
		const struct fe_conf_member *m = &c->members[i];
		int mi;
		TRY(mi = fe_policy_add_member(p, m->name, m->suspended,
		                              (const char *const *)m->peers, m->npeers,
		                              m->has_peers));
		for (size_t k = 0; k < m->ndomains; k++)
			TRY(fe_policy_add_domain(p, mi, m->domains[k]));
		for (size_t k = 0; k < m->nborder; k++)
			TRY(fe_policy_add_border(p, mi, m->border[k]));
	}
	for (size_t i = 0; i < c->nzones; i++) {
		const struct fe_conf_zone *z = &c->zones[i];
		if (!z->apex)
			continue; /* --zone: the apex comes from the SOA; not a federation root */
		const struct fe_conf_member *m = z->member ? member_named(c, z->member) : NULL;
		if (m && m->is_registry)
			TRY(fe_policy_add_enum_apex(p, z->apex));
		else
			TRY(fe_policy_add_root(p, z->apex));
		if (m)
			TRY(fe_policy_add_zone(p, (int)(m - c->members), z->apex));
	}
	for (size_t i = 0; i <= c->nviews; i++) {
		const struct fe_conf_view *v = i < c->nviews ? &c->views[i] : NULL;
		int vi;
		/* the federation's clients are the last view, "default" */
		TRY(vi = fe_policy_add_view(p, v ? v->name : "default", v ? v->member : NULL));
		if (v) {
			for (size_t k = 0; k < v->nclients; k++)
				TRY(fe_policy_view_add_client(p, vi, v->clients[k]));
			for (size_t k = 0; k < v->ntsig_keys; k++)
				TRY(fe_policy_view_add_tsig_key(p, vi, v->tsig_keys[k]));
			for (size_t k = 0; k < v->ntls_clients; k++)
				TRY(fe_policy_view_add_tls_client(p, vi, v->tls_clients[k]));
			TRY(fe_policy_view_set_foreign_proofs(p, vi, !v->no_foreign_proofs));
		} else if (c->has_clients) {
			for (size_t k = 0; k < c->nclients; k++)
				TRY(fe_policy_view_add_client(p, vi, c->clients[k]));
		} else {
			for (size_t k = 0; k < FE_ARRAY_LEN(loopback); k++)
				TRY(fe_policy_view_add_client(p, vi, loopback[k]));
		}
	}
	if (c->policy_bgcf)
		TRY(fe_policy_set_bgcf(p, c->policy_bgcf));
	if (c->policy_transit)
		TRY(fe_policy_set_transit(p, c->policy_transit));
	TRY(fe_policy_set_outside(p, c->policy_outside == FE_POLICY_NXDOMAIN ? FE_POLICY_NXDOMAIN
	                                                                     : FE_POLICY_REFUSED));
	for (size_t i = 0; i < c->nrules; i++) {
		const struct fe_conf_rule *r = &c->rules[i];
		int ri;
		TRY(ri = fe_policy_add_rule(p, r->causes, (enum fe_policy_action)r->action));
		for (size_t k = 0; k < r->nprefixes; k++)
			TRY(fe_policy_rule_add_prefix(p, ri, r->prefixes[k]));
		for (size_t k = 0; k < r->nviews; k++)
			TRY(fe_policy_rule_add_view(p, ri, r->views[k]));
	}
	if (c->nview_tsig_keys) {
		/* the view keys: read here, so that a reload reads them again */
		struct fe_tsig_keyring *kr = NULL;
		TRY(fe_tsig_keyring_create(&kr));
		TRY(fe_policy_set_keyring(p, kr));
		for (size_t i = 0; i < c->nview_tsig_keys; i++) {
			char e[400] = "";
			rc = fe_tsig_keyring_load_file(kr, c->view_tsig_keys[i], e, sizeof(e));
			if (rc != FE_OK) {
				snprintf(err, cap, "server.view-tsig-keys: %s",
				         e[0] ? e : fe_strerror(rc));
				goto fail;
			}
		}
	}
	if (c->nview_tsig_keys && c->nxfr_tsig_keys && (rc = keys_apart(c, err, cap)) != FE_OK)
		goto fail_rc;
	if ((rc = fe__conf_make_abuse(c, p, err, cap)) != FE_OK)
		goto fail_rc;
	rc = fe_policy_finish(p, err, cap);
	if (rc)
		goto fail_rc;
	*out = p;
	return FE_OK;
fail:
	rc = FE_EINVAL;
fail_rc:
	fe_policy_destroy(p);
	return rc;
}
