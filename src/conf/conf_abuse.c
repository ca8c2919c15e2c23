/* The abuse-control keys of the federation definition (docs/federation.md "Abuse control"):
 * policy.rate-limit { ... }, policy.harvesting { ... }, and each view's queries-per-second
 * and over-budget; ranges and defaults from the schema, every problem reported as
 * file:line. fe__conf_make_abuse hands them to a policy being built. */
#include "conf_int.h"

#include "fedenum/policy.h"
#include "fedenum/server.h"

#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct actx {
	struct fe_conf_diag *d;
	const char *path;
	bool failed;
};

#define aerr(x, s, ...)                                               \
	do {                                                          \
		fe__conf_err_at((x)->d, (x)->path, (s), __VA_ARGS__); \
		(x)->failed = true;                                   \
	} while (0)

/* An integer key @name (schema: range) from @s into @out. */
static void get_uint(struct actx *x, const config_setting_t *s, const char *name, uint32_t *out)
{
	const struct fe_conf_key *k = fe__conf_key(FE_CONF_FEDERATION, name);
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
		aerr(x, s, "%s must be an integer", name);
		return;
	}
	long long v = config_setting_get_int64(s);
	if (!k || v < k->min || v > k->max) {
		aerr(x, s, "%s = %lld is out of range %lld..%lld", name, v, k ? k->min : 0,
		     k ? k->max : 0);
		return;
	}
	*out = (uint32_t)v;
}

/* "refused" (false) or "drop" (true). */
static void get_drop(struct actx *x, const config_setting_t *s, const char *name, bool *out)
{
	const char *v =
	        config_setting_type(s) == CONFIG_TYPE_STRING ? config_setting_get_string(s) : NULL;
	if (v && strcmp(v, "refused") == 0)
		*out = false;
	else if (v && strcmp(v, "drop") == 0)
		*out = true;
	else
		aerr(x, s, "%s must be \"refused\" or \"drop\"", name);
}

/* View names, each a view of the file (or "default"). */
static void get_views(struct actx *x, const struct fe_conf *c, const config_setting_t *s,
                      const char *name, char ***out, size_t *n)
{
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
		aerr(x, s, "%s must be an array of view names [ \"...\" ]", name);
		return;
	}
	int len = config_setting_length(s);
	if (!(*out = calloc((size_t)len + 1, sizeof(char *))))
		return;
	for (int i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_type(e) == CONFIG_TYPE_STRING
		                        ? config_setting_get_string(e)
		                        : NULL;
		bool found = v && strcmp(v, "default") == 0;
		for (size_t k = 0; v && k < c->nviews && !found; k++)
			found = c->views[k].name && strcmp(c->views[k].name, v) == 0;
		if (!found) {
			aerr(x, e, "%s: no view is named \"%s\"", name, v ? v : "?");
			continue;
		}
		if (((*out)[*n] = strdup(v)))
			(*n)++;
	}
}

/* Group @g of keys "@group.*": unknown keys refused; integers into their schema fields. */
static bool group_of(struct actx *x, struct fe_conf *c, const config_setting_t *g,
                     const char *group)
{
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		aerr(x, g, "%s: a group { ... } expected", group);
		return false;
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		char full[128];
		snprintf(full, sizeof(full), "%s.%s", group, config_setting_name(s));
		const struct fe_conf_key *k = fe__conf_key(FE_CONF_FEDERATION, full);
		if (!k) {
			aerr(x, s, "%s: unknown key \"%s\"", group, config_setting_name(s));
			continue;
		}
		if (k->type == FE_CONF_INT) {
			uint32_t v = 0;
			bool before = x->failed;
			x->failed = false;
			get_uint(x, s, full, &v);
			if (!x->failed)
				fe__conf_store_int(c, k, v);
			x->failed |= before;
		}
	}
	return true;
}

/* An array of strings @name into *out (NULL-terminated), each checked by @ok. */
static void get_strs(struct actx *x, const config_setting_t *s, const char *name,
                     bool (*ok)(const char *), const char *what, char ***out, size_t *n)
{
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
		aerr(x, s, "%s must be an array [ \"...\" ]", name);
		return;
	}
	int len = config_setting_length(s);
	if (!(*out = calloc((size_t)len + 1, sizeof(char *))))
		return;
	for (int i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_type(e) == CONFIG_TYPE_STRING
		                        ? config_setting_get_string(e)
		                        : NULL;
		if (!v || !ok(v)) {
			aerr(x, e, "%s: \"%s\" is not %s", name, v ? v : "?", what);
			continue;
		}
		if (((*out)[*n] = strdup(v)))
			(*n)++;
	}
}

static bool e164_prefix(const char *v)
{
	size_t n = strlen(v);
	if (n < 2 || n > 16 || v[0] != '+')
		return false;
	for (size_t i = 1; i < n; i++)
		if (v[i] < '0' || v[i] > '9')
			return false;
	return true;
}

static bool addr_port(const char *v)
{
	struct fe_listen_addr a;
	return strchr(v, '@') && fe_server_listen_parse(v, &a) == FE_OK && a.port != 0;
}

static void load_ondemand(struct actx *x, struct fe_conf *c, const config_setting_t *g)
{
	struct fe_conf_ondemand *o = &c->od;
	const config_setting_t *s;
	o->on = true;
	if ((s = config_setting_get_member(g, "prefixes")))
		get_strs(x, s, "policy.on-demand.prefixes", e164_prefix,
		         "an E.164 prefix (\"+\" and 1 to 15 digits)", &o->prefixes, &o->nprefixes);
	if (!o->nprefixes && !x->failed)
		aerr(x, g,
		     "policy.on-demand: prefixes = [ \"+...\" ] is required (which numbers "
		     "may be resolved on demand)");
	if (o->nprefixes > FE_CONF_OD_MAX_PREFIXES)
		aerr(x, s, "policy.on-demand.prefixes: at most %d", FE_CONF_OD_MAX_PREFIXES);
	if ((s = config_setting_get_member(g, "views")))
		get_views(x, c, s, "policy.on-demand.views", &o->views, &o->nviews);
	if ((s = config_setting_get_member(g, "servers")))
		get_strs(x, s, "policy.on-demand.servers", addr_port, "ADDR@PORT", &o->servers,
		         &o->nservers);
	if (!o->nservers && !x->failed)
		aerr(x, g,
		     "policy.on-demand: servers = [ \"ADDR@PORT\" ] is required (the "
		     "registry's name servers)");
	if (o->nservers > FE_CONF_OD_MAX_SERVERS)
		aerr(x, s, "policy.on-demand.servers: at most %d", FE_CONF_OD_MAX_SERVERS);
}

bool fe__conf_load_abuse(const config_setting_t *root, const char *path, struct fe_conf *c,
                         struct fe_conf_diag *d)
{
	struct actx x = {.d = d, .path = path};
	struct fe_conf_abuse *a = &c->abuse;
	const config_setting_t *pol = config_setting_get_member(root, "policy"), *g, *s;
	if (pol && config_setting_type(pol) == CONFIG_TYPE_GROUP &&
	    (g = config_setting_get_member(pol, "rate-limit")) &&
	    group_of(&x, c, g, "policy.rate-limit")) {
		a->has_rate_limit = true;
		if ((s = config_setting_get_member(g, "exempt-views")))
			get_views(&x, c, s, "policy.rate-limit.exempt-views", &a->rrl_exempt,
			          &a->nrrl_exempt);
	}
	if (pol && config_setting_type(pol) == CONFIG_TYPE_GROUP &&
	    (g = config_setting_get_member(pol, "harvesting")) &&
	    group_of(&x, c, g, "policy.harvesting")) {
		a->has_harvesting = true;
		if ((s = config_setting_get_member(g, "exempt-views")))
			get_views(&x, c, s, "policy.harvesting.exempt-views", &a->hv_exempt,
			          &a->nhv_exempt);
		if ((s = config_setting_get_member(g, "action")))
			get_drop(&x, s, "policy.harvesting.action", &a->hv_drop);
		if (a->hv_max_distinct < a->hv_distinct)
			aerr(&x, g,
			     "policy.harvesting: max-distinct (%u) is below distinct-numbers (%u)",
			     a->hv_max_distinct, a->hv_distinct);
	}
	if (pol && config_setting_type(pol) == CONFIG_TYPE_GROUP &&
	    (g = config_setting_get_member(pol, "on-demand")) &&
	    group_of(&x, c, g, "policy.on-demand"))
		load_ondemand(&x, c, g);
	const config_setting_t *views = config_setting_get_member(root, "views");
	if (views && config_setting_type(views) == CONFIG_TYPE_LIST)
		for (size_t i = 0; i < c->nviews && i < (size_t)config_setting_length(views); i++) {
			const config_setting_t *v = config_setting_get_elem(views, (unsigned)i);
			if ((s = config_setting_get_member(v, "queries-per-second")))
				get_uint(&x, s, "views.queries-per-second",
				         &c->views[i].queries_per_second);
			if ((s = config_setting_get_member(v, "over-budget")))
				get_drop(&x, s, "views.over-budget", &c->views[i].over_budget_drop);
		}
	return !x.failed;
}

static void free_strs(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void fe__conf_abuse_free(struct fe_conf *c)
{
	struct fe_conf_abuse *a = &c->abuse;
	free_strs(c->od.prefixes, c->od.nprefixes);
	free_strs(c->od.views, c->od.nviews);
	free_strs(c->od.servers, c->od.nservers);
	for (size_t i = 0; i < a->nrrl_exempt; i++)
		free(a->rrl_exempt[i]);
	free(a->rrl_exempt);
	for (size_t i = 0; i < a->nhv_exempt; i++)
		free(a->hv_exempt[i]);
	free(a->hv_exempt);
}

int fe__conf_make_abuse(const struct fe_conf *c, struct fe_policy *p, char *err, size_t cap)
{
	const struct fe_conf_abuse *a = &c->abuse;
	int rc;
	for (size_t i = 0; i < c->nviews; i++)
		if (c->views[i].queries_per_second &&
		    (rc = fe_policy_view_set_budget(p, (int)i, c->views[i].queries_per_second,
		                                    c->views[i].over_budget_drop)) != FE_OK)
			goto fail;
	if (a->has_rate_limit) {
		struct fe_policy_rate_limit r = {.responses_per_second = a->rrl_rate,
		                                 .slip = a->rrl_slip,
		                                 .window_s = a->rrl_window_s,
		                                 .ipv4_prefix = a->rrl_v4,
		                                 .ipv6_prefix = a->rrl_v6};
		if ((rc = fe_policy_set_rate_limit(p, &r)) != FE_OK)
			goto fail;
		for (size_t i = 0; i < a->nrrl_exempt; i++)
			if ((rc = fe_policy_exempt_view(p, a->rrl_exempt[i],
			                                FE_POLICY_EXEMPT_RATE_LIMIT)) != FE_OK)
				goto fail;
	}
	if (a->has_harvesting) {
		struct fe_policy_harvesting h = {.window_s = a->hv_window_s,
		                                 .distinct_numbers = a->hv_distinct,
		                                 .max_distinct = a->hv_max_distinct,
		                                 .nxdomain_percent = a->hv_nx_pct,
		                                 .sequential_percent = a->hv_seq_pct,
		                                 .hold_s = a->hv_hold_s,
		                                 .ipv4_prefix = a->hv_v4,
		                                 .ipv6_prefix = a->hv_v6,
		                                 .drop = a->hv_drop};
		if ((rc = fe_policy_set_harvesting(p, &h)) != FE_OK)
			goto fail;
		for (size_t i = 0; i < a->nhv_exempt; i++)
			if ((rc = fe_policy_exempt_view(p, a->hv_exempt[i],
			                                FE_POLICY_EXEMPT_HARVESTING)) != FE_OK)
				goto fail;
	}
	return FE_OK;
fail:
	snprintf(err, cap, "abuse control: %s", fe_strerror(rc));
	return FE_EINVAL;
}
