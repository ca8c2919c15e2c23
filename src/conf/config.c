/* fedenumd.conf and the federation definition, read with libconfig and checked key by key
 * against the schema (schema.c): the groups of plain keys are read generically from it; keys
 * with cross-checks (members, zones, clients, user, ...) by their own code below. */
#include "conf_int.h"

#include "fedenum/wire.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the configuration struct ----------------------------------------------------- */

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void fe_conf_free(struct fe_conf *c)
{
	free(c->config_file);
	free(c->federation_file);
	free(c->fed_name);
	free(c->listen);
	free(c->tls_listen);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->tls_client_ca);
	free(c->store_path);
	free(c->control_socket);
	free(c->metrics_listen);
	free(c->control_listen);
	free(c->control_tls_cert);
	free(c->control_tls_key);
	free(c->control_tls_client_ca);
	free_strv(c->control_tls_clients, c->ncontrol_tls_clients);
	free(c->user);
	free(c->group);
	free_strv(c->trust_anchors, c->ntrust_anchors);
	fe_trust_anchors_destroy(c->anchors);
	free_strv(c->clients, c->nclients);
	free_strv(c->xfr_tsig_keys, c->nxfr_tsig_keys);
	free_strv(c->view_tsig_keys, c->nview_tsig_keys);
	free_strv(c->xfr_notify, c->nxfr_notify);
	free_strv(c->xfr_secondary, c->nxfr_secondary);
	free_strv(c->xfr_secondary_tls, c->nxfr_secondary_tls);
	free_strv(c->xfr_catalogs, c->nxfr_catalogs);
	free(c->xfr_tls_ca_file);
	free(c->xfr_tls_cert_file);
	free(c->xfr_tls_key_file);
	free(c->signing_key_dir);
	free(c->signing_soa_rname);
	free_strv(c->signing_ns, c->nsigning_ns);
	fe__conf_policy_free(c);
	for (size_t i = 0; i < c->nmembers; i++) {
		struct fe_conf_member *m = &c->members[i];
		free(m->name);
		free_strv(m->prefixes, m->nprefixes);
		free_strv(m->domains, m->ndomains);
		free(m->tsig_key);
		free(m->tsig_secret_file);
	}
	free(c->members);
	for (size_t i = 0; i < c->nzones; i++) {
		free(c->zones[i].apex);
		free(c->zones[i].member);
		free(c->zones[i].file);
		free(c->zones[i].where);
	}
	free(c->zones);
	fe_conf_init(c);
}

/* ---- parsing helpers -------------------------------------------------------------- */

struct ctx {
	struct fe_conf_diag *d;
	const char *path; /* the file being read (fallback when libconfig has no source) */
	bool failed;
	bool oom;
};

static const char *src_file(struct ctx *x, const config_setting_t *s)
{
	const char *f = config_setting_source_file(s);
	return f ? f : x->path;
}

static void err_at(struct ctx *x, const config_setting_t *s, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void err_at(struct ctx *x, const config_setting_t *s, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fe_conf_diag_add(x->d, src_file(x, s), (int)config_setting_source_line(s), "%s", msg);
	x->failed = true;
}

static char *xstrdup(struct ctx *x, const char *s)
{
	char *r = strdup(s);
	if (!r) {
		x->oom = true;
		x->failed = true;
	}
	return r;
}

/* "a.b" style dotted name of a setting for messages ("server.workers"). */
static void setting_path(const config_setting_t *s, char *out, size_t cap)
{
	const char *parts[16];
	size_t n = 0;
	for (const config_setting_t *p = s; p && n < 16; p = config_setting_parent(p)) {
		const char *name = config_setting_name(p);
		if (name)
			parts[n++] = name;
	}
	out[0] = '\0';
	size_t len = 0;
	while (n-- > 0) {
		int w = snprintf(out + len, cap - len, "%s%s", len ? "." : "", parts[n]);
		if (w < 0 || (size_t)w >= cap - len)
			break;
		len += (size_t)w;
	}
}

static const char *type_name(int t)
{
	switch (t) {
	case CONFIG_TYPE_GROUP:
		return "a group { }";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a number with a fraction";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array [ ]";
	case CONFIG_TYPE_LIST:
		return "a list ( )";
	}
	return "nothing";
}

static bool want_type(struct ctx *x, const config_setting_t *s, int type, const char *what)
{
	int t = config_setting_type(s);
	if (t == type || (type == CONFIG_TYPE_INT && t == CONFIG_TYPE_INT64))
		return true;
	char name[256];
	setting_path(s, name, sizeof(name));
	err_at(x, s, "%s must be %s, not %s", name, what, type_name(t));
	return false;
}

static bool get_string(struct ctx *x, const config_setting_t *s, const char **out)
{
	if (!want_type(x, s, CONFIG_TYPE_STRING, "a string"))
		return false;
	*out = config_setting_get_string(s);
	return *out != NULL;
}

static bool get_int(struct ctx *x, const config_setting_t *s, long long lo, long long hi,
                    long long *out)
{
	if (!want_type(x, s, CONFIG_TYPE_INT, "an integer"))
		return false;
	long long v = config_setting_get_int64(s);
	if (v < lo || v > hi) {
		char name[256];
		setting_path(s, name, sizeof(name));
		err_at(x, s, "%s = %lld is out of range (%lld..%lld)", name, v, lo, hi);
		return false;
	}
	*out = v;
	return true;
}

static bool get_bool(struct ctx *x, const config_setting_t *s, bool *out)
{
	if (!want_type(x, s, CONFIG_TYPE_BOOL, "a boolean (true or false)"))
		return false;
	*out = config_setting_get_bool(s) != 0;
	return true;
}

/* An array [ ] or list ( ) of strings. *out gets a malloc'd vector of strdup'd strings. */
static bool get_strings(struct ctx *x, const config_setting_t *s, char ***out, size_t *n)
{
	char name[256];
	setting_path(s, name, sizeof(name));
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
		err_at(x, s, "%s must be an array of strings [ \"...\" ], not %s", name,
		       type_name(t));
		return false;
	}
	int len = config_setting_length(s);
	char **v = calloc((size_t)len + 1, sizeof(*v));
	if (!v) {
		x->oom = x->failed = true;
		return false;
	}
	bool ok = true;
	for (int i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			err_at(x, e, "%s[%d] must be a string, not %s", name, i,
			       type_name(config_setting_type(e)));
			ok = false;
			continue;
		}
		v[i] = xstrdup(x, config_setting_get_string(e));
		if (!v[i])
			ok = false;
	}
	if (!ok) {
		free_strv(v, (size_t)len);
		return false;
	}
	*out = v;
	*n = (size_t)len;
	return true;
}

/* @p resolved against the folder of @file. */
static char *resolve(struct ctx *x, const char *file, const char *p)
{
	if (p[0] == '/')
		return xstrdup(x, p);
	const char *slash = strrchr(file, '/');
	size_t dl = slash ? (size_t)(slash - file) : 0;
	size_t need = (slash ? dl + 1 : 0) + strlen(p) + 1;
	char *r = malloc(need);
	if (!r) {
		x->oom = x->failed = true;
		return NULL;
	}
	if (slash)
		snprintf(r, need, "%.*s/%s", (int)dl, file, p);
	else
		snprintf(r, need, "%s", p);
	return r;
}

/* Resolve a path setting and require a readable regular file. */
static char *get_file(struct ctx *x, const config_setting_t *s, const char *what)
{
	const char *v;
	if (!get_string(x, s, &v))
		return NULL;
	if (!*v) {
		err_at(x, s, "%s: empty path", what);
		return NULL;
	}
	char *p = resolve(x, src_file(x, s), v);
	if (!p)
		return NULL;
	if (access(p, R_OK) != 0) {
		int e = errno;
		if (e == EACCES && fe__conf_privileges_were_dropped()) {
			/* Checked as root at start; the daemon now runs as `user` (docs). */
			fe_conf_diag_warn(
			        x->d, src_file(x, s), (int)config_setting_source_line(s),
			        "%s \"%s\": not readable after dropping privileges (checked "
			        "at start)",
			        what, p);
			return p;
		}
		err_at(x, s, "%s \"%s\": %s%s", what, p, strerror(e),
		       e == EACCES && geteuid() != 0
		               ? " (fedenumd is not running as root: start it as root with user "
		                 "= \"...\" to read secrets and drop privileges, or make the file "
		                 "readable by this user)"
		               : "");
		free(p);
		return NULL;
	}
	/* Canonical form for logs ("federation/../zones/x" → "/.../zones/x"). */
	char *rp = realpath(p, NULL);
	if (rp) {
		free(p);
		p = rp;
	}
	return p;
}

/* Resolve the path of a zone file. A missing or unreadable zone file fails that zone only
 * (at load time, logged and counted, its stored version keeps serving): here it is a
 * warning, never a reason to refuse the whole configuration. */
static char *get_zone_file(struct ctx *x, const config_setting_t *s)
{
	const char *v;
	if (!get_string(x, s, &v))
		return NULL;
	if (!*v) {
		err_at(x, s, "zones.file: empty path");
		return NULL;
	}
	char *p = resolve(x, src_file(x, s), v);
	if (!p)
		return NULL;
	if (access(p, R_OK) != 0)
		fe_conf_diag_warn(x->d, src_file(x, s), (int)config_setting_source_line(s),
		                  "zones.file \"%s\": %s (this zone will not load; the others do)",
		                  p, strerror(errno));
	char *rp = realpath(p, NULL);
	if (rp) {
		free(p);
		p = rp;
	}
	return p;
}

/* Refuse any key of group @g not in @known (NULL-terminated). */
static void check_keys(struct ctx *x, const config_setting_t *g, const char *const *known);

/* Refuse any key of group @g that the schema does not list under @group (NULL: the top
 * level) of @file. */
static void check_schema_keys(struct ctx *x, const config_setting_t *g, enum fe_conf_file file,
                              const char *group)
{
	const char *known[64];
	fe__conf_children(file, group, known, FE_ARRAY_LEN(known));
	check_keys(x, g, known);
}

static void check_keys(struct ctx *x, const config_setting_t *g, const char *const *known)
{
	int n = config_setting_length(g);
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s);
		bool ok = false;
		for (size_t k = 0; name && known[k]; k++)
			if (strcmp(name, known[k]) == 0)
				ok = true;
		if (!ok) {
			char full[256];
			setting_path(s, full, sizeof(full));
			err_at(x, s, "unknown setting \"%s\"", full);
		}
	}
}

static bool want_group(struct ctx *x, const config_setting_t *s)
{
	return want_type(x, s, CONFIG_TYPE_GROUP, "a group { }");
}

/* ---- fedenumd.conf ---------------------------------------------------------------- */

/* ---- plain keys, from the schema ----------------------------------------------------- */

/* server.listen, or server.tls-listen (@tls: may be empty). */
static void load_listen(struct ctx *x, struct fe_conf *c, const config_setting_t *s, bool tls)
{
	char **addrs = NULL;
	size_t n = 0;
	const char *name = tls ? "server.tls-listen" : "server.listen";
	struct fe_listen_addr **v = tls ? &c->tls_listen : &c->listen;
	size_t *nv = tls ? &c->ntls_listen : &c->nlisten;
	if (!get_strings(x, s, &addrs, &n))
		return;
	if (n == 0 && !tls)
		err_at(x, s, "server.listen: at least one address is needed");
	free(*v);
	*v = calloc(n ? n : 1, sizeof(**v));
	*nv = 0;
	if (!*v)
		x->oom = x->failed = true;
	for (size_t i = 0; *v && i < n; i++) {
		if (fe_server_listen_parse(addrs[i], &(*v)[*nv]) != FE_OK)
			err_at(x, config_setting_get_elem(s, (unsigned)i),
			       "%s: \"%s\" is not ADDR@PORT (numeric IPv4 or IPv6 "
			       "address, port 0..65535)",
			       name, addrs[i]);
		else
			(*nv)++;
	}
	free_strv(addrs, n);
}

/* server.tls-*: each file must be readable now; the private key, like a secret, must not
 * be readable by group or others. */
static void check_tls_file(struct ctx *x, const struct fe_conf_key *k, const config_setting_t *s,
                           const char *path)
{
	struct stat st;
	if (access(path, R_OK) != 0 || stat(path, &st) != 0)
		err_at(x, s, "%s: \"%s\": %s", k->name, path, strerror(errno));
	else if ((strcmp(k->name, "server.tls-key") == 0 ||
	          strcmp(k->name, "xfr.tls-key-file") == 0) &&
	         (st.st_mode & 077))
		err_at(x, s, "%s: \"%s\" is readable by group or others (mode %03o): chmod 600",
		       k->name, path, (unsigned)(st.st_mode & 0777));
}

/* xfr.tsig-keys and server.view-tsig-keys (paths: each must be readable), xfr.notify
 * ("ADDR@PORT"), xfr.secondary and xfr.catalogs. */
static void load_xfr_list(struct ctx *x, struct fe_conf *c, const struct fe_conf_key *k,
                          const config_setting_t *s)
{
	bool view_keys = strcmp(k->name, "server.view-tsig-keys") == 0;
	bool keys = view_keys || strcmp(k->name, "xfr.tsig-keys") == 0;
	bool tls = strcmp(k->name, "xfr.secondary-tls") == 0;
	bool catalogs = strcmp(k->name, "xfr.catalogs") == 0;
	bool secondary = tls || catalogs || strcmp(k->name, "xfr.secondary") == 0;
	char ***v = view_keys   ? &c->view_tsig_keys
	            : keys      ? &c->xfr_tsig_keys
	            : tls       ? &c->xfr_secondary_tls
	            : catalogs  ? &c->xfr_catalogs
	            : secondary ? &c->xfr_secondary
	                        : &c->xfr_notify;
	size_t *n = view_keys   ? &c->nview_tsig_keys
	            : keys      ? &c->nxfr_tsig_keys
	            : tls       ? &c->nxfr_secondary_tls
	            : catalogs  ? &c->nxfr_catalogs
	            : secondary ? &c->nxfr_secondary
	                        : &c->nxfr_notify;
	if (!get_strings(x, s, v, n))
		return;
	for (size_t i = 0; i < *n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		struct fe_listen_addr a;
		char *p;
		if (secondary) {
			if (fe_conf_secondary_parse((*v)[i], tls, NULL, 0, &a, NULL, 0) != FE_OK)
				err_at(x, e, "%s: \"%s\" is not APEX@ADDR@PORT%s", k->name, (*v)[i],
				       tls ? "[@NAME]" : "");
		} else if (!keys) {
			if (fe_server_listen_parse((*v)[i], &a) != FE_OK)
				err_at(x, e, "xfr.notify: \"%s\" is not ADDR@PORT", (*v)[i]);
		} else if ((p = resolve(x, src_file(x, e), (*v)[i])) != NULL) {
			if (access(p, R_OK) != 0)
				err_at(x, e, "%s: \"%s\": %s", k->name, p, strerror(errno));
			free((*v)[i]);
			(*v)[i] = p;
		}
	}
}

/* signing.ns: names (presentation, final dot optional). */
static void load_signing_ns(struct ctx *x, struct fe_conf *c, const config_setting_t *s)
{
	if (!get_strings(x, s, &c->signing_ns, &c->nsigning_ns))
		return;
	for (size_t i = 0; i < c->nsigning_ns; i++) {
		uint8_t w[FE_WIRE_NAME_MAX];
		if (fe_conf_name_from_str(c->signing_ns[i], w, sizeof(w)) < 0)
			err_at(x, config_setting_get_elem(s, (unsigned)i),
			       "signing.ns: \"%s\" is not a name", c->signing_ns[i]);
	}
}

/* One key @k, present as @s: type and range from the schema. */
static void load_key(struct ctx *x, struct fe_conf *c, const struct fe_conf_key *k,
                     const config_setting_t *s)
{
	long long v;
	const char *str;
	char *field = (char *)c + k->offset;
	switch (k->type) {
	case FE_CONF_INT:
		if (get_int(x, s, k->min, k->max, &v))
			fe__conf_store_int(c, k, (unsigned long long)v);
		break;
	case FE_CONF_BOOL:
		get_bool(x, s, (bool *)field);
		break;
	case FE_CONF_PATH:
	case FE_CONF_STRING:
		if (!get_string(x, s, &str))
			break;
		if (!*str) {
			err_at(x, s, "%s: empty %s", k->name,
			       k->type == FE_CONF_PATH ? "path" : "value");
		} else {
			free(*(char **)field);
			*(char **)field = k->type == FE_CONF_PATH ? resolve(x, src_file(x, s), str)
			                                          : xstrdup(x, str);
			if (*(char **)field && (strncmp(k->name, "server.tls-", 11) == 0 ||
			                        strncmp(k->name, "xfr.tls-", 8) == 0))
				check_tls_file(x, k, s, *(char **)field);
		}
		break;
	case FE_CONF_LEVEL:
		if (get_string(x, s, &str) &&
		    fe_log_level_parse(str, (enum fe_log_level *)field) != FE_OK)
			err_at(x, s, "%s: \"%s\" is not one of err, warn, info, debug", k->name,
			       str);
		break;
	case FE_CONF_LISTEN:
		load_listen(x, c, s, false);
		break;
	case FE_CONF_OWN:
		if (strncmp(k->name, "xfr.", 4) == 0 ||
		    strcmp(k->name, "server.view-tsig-keys") == 0)
			load_xfr_list(x, c, k, s);
		else if (strcmp(k->name, "server.tls-listen") == 0)
			load_listen(x, c, s, true);
		else if (strcmp(k->name, "signing.ns") == 0)
			load_signing_ns(x, c, s);
		break;
	case FE_CONF_GROUP:
		break;
	}
}

/* A group of plain keys (server, store, log, validation): unknown keys refused, each key
 * read by its schema type. */
static void load_group(struct ctx *x, struct fe_conf *c, enum fe_conf_file file, const char *group,
                       const config_setting_t *g)
{
	if (!want_group(x, g))
		return;
	check_schema_keys(x, g, file, group);
	const char *keys[64];
	fe__conf_children(file, group, keys, FE_ARRAY_LEN(keys));
	for (size_t i = 0; keys[i]; i++) {
		char full[128];
		snprintf(full, sizeof(full), "%s.%s", group, keys[i]);
		const struct fe_conf_key *k = fe__conf_key(file, full);
		const config_setting_t *s = config_setting_get_member(g, keys[i]);
		if (k && s)
			load_key(x, c, k, s);
	}
	const config_setting_t *tl = config_setting_get_member(g, "tls-listen");
	if (strcmp(group, "server") == 0 && tl && c->ntls_listen && (!c->tls_cert || !c->tls_key))
		err_at(x, tl, "server.tls-listen: needs server.tls-cert and server.tls-key");
	if (strcmp(group, "control") == 0) {
		const config_setting_t *cl = config_setting_get_member(g, "tls-clients");
		if (cl && get_strings(x, cl, &c->control_tls_clients, &c->ncontrol_tls_clients) &&
		    c->ncontrol_tls_clients == 0)
			err_at(x, cl,
			       "control.tls-clients: empty (leave it out to allow every "
			       "certificate the CA verifies)");
		const config_setting_t *ls = config_setting_get_member(g, "listen");
		if (ls && c->control_listen &&
		    (!c->control_tls_cert || !c->control_tls_key || !c->control_tls_client_ca))
			err_at(x, ls,
			       "control.listen: needs control.tls-cert, control.tls-key and "
			       "control.tls-client-ca (remote administration is mutual TLS only)");
	}
}

/* Every GROUP key of @file at the top level of @root. */
static void load_groups(struct ctx *x, struct fe_conf *c, enum fe_conf_file file,
                        const config_setting_t *root)
{
	const char *top[64];
	fe__conf_children(file, NULL, top, FE_ARRAY_LEN(top));
	for (size_t i = 0; top[i]; i++) {
		const struct fe_conf_key *k = fe__conf_key(file, top[i]);
		const config_setting_t *g = config_setting_get_member(root, top[i]);
		if (k && g && k->type == FE_CONF_GROUP)
			load_group(x, c, file, top[i], g);
	}
}

/* `user` and `group`: the identity fedenumd drops to once it has bound its sockets and
 * opened its store and secrets (main.c). Both must exist on this system. */
static void load_identity(struct ctx *x, struct fe_conf *c, const config_setting_t *root)
{
	const config_setting_t *s;
	const char *str;
	if ((s = config_setting_get_member(root, "user")) && get_string(x, s, &str)) {
		struct passwd *pw = *str ? getpwnam(str) : NULL;
		if (pw == NULL) {
			err_at(x, s, "user: \"%s\" is not a user on this system", str);
		} else {
			free(c->user);
			c->user = xstrdup(x, str);
			c->uid = pw->pw_uid;
			c->gid = pw->pw_gid;
		}
	}
	if ((s = config_setting_get_member(root, "group")) && get_string(x, s, &str)) {
		struct group *gr = *str ? getgrnam(str) : NULL;
		if (gr == NULL) {
			err_at(x, s, "group: \"%s\" is not a group on this system", str);
		} else if (!config_setting_get_member(root, "user")) {
			err_at(x, s, "group needs user (the identity to drop to)");
		} else {
			free(c->group);
			c->group = xstrdup(x, str);
			c->gid = gr->gr_gid;
		}
	}
}

static bool read_file(struct ctx *x, config_t *cfg, const char *path, const config_setting_t *ref)
{
	config_init(cfg);
	/* @include files are found relative to the including file's folder. */
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		config_set_include_dir(cfg, dir[0] ? dir : "/");
	}
	if (config_read_file(cfg, path) == CONFIG_TRUE)
		return true;
	if (config_error_type(cfg) == CONFIG_ERR_FILE_IO) {
		const char *why = access(path, R_OK) != 0 ? strerror(errno) : "read error";
		if (ref) {
			err_at(x, ref, "cannot read \"%s\": %s", path, why);
		} else {
			fe_conf_diag_add(x->d, path, 0, "cannot read: %s", why);
			x->failed = true;
		}
	} else {
		const char *f = config_error_file(cfg);
		fe_conf_diag_add(x->d, f ? f : path, config_error_line(cfg), "%s",
		                 config_error_text(cfg));
		x->failed = true;
	}
	config_destroy(cfg);
	return false;
}

/* ---- federation.conf -------------------------------------------------------------- */

static void load_member(struct ctx *x, struct fe_conf *c, const config_setting_t *g)
{
	struct fe_conf_member *m = &c->members[c->nmembers];
	memset(m, 0, sizeof(*m));
	if (!want_type(x, g, CONFIG_TYPE_GROUP, "a group { name = ...; }"))
		return;
	check_schema_keys(x, g, FE_CONF_FEDERATION, "members");
	const config_setting_t *s;
	const char *str;
	if (!(s = config_setting_get_member(g, "name"))) {
		err_at(x, g, "members: a member needs a name");
	} else if (get_string(x, s, &str)) {
		if (!*str)
			err_at(x, s, "members.name: empty name");
		for (size_t i = 0; i < c->nmembers; i++)
			if (strcmp(c->members[i].name, str) == 0)
				err_at(x, s, "members.name: \"%s\" is defined twice", str);
		m->name = xstrdup(x, str);
	}
	if ((s = config_setting_get_member(g, "role")) && get_string(x, s, &str)) {
		if (strcmp(str, "registry") == 0)
			m->is_registry = true;
		else if (strcmp(str, "member") != 0)
			err_at(x, s, "members.role: \"%s\" is not \"registry\" or \"member\"", str);
	}
	if ((s = config_setting_get_member(g, "prefixes")) &&
	    get_strings(x, s, &m->prefixes, &m->nprefixes)) {
		for (size_t i = 0; i < m->nprefixes; i++)
			if (!fe__conf_is_e164_prefix(m->prefixes[i]))
				err_at(x, config_setting_get_elem(s, (unsigned)i),
				       "members.prefixes: \"%s\" is not an E.164 prefix (\"+\" and "
				       "1 "
				       "to 15 digits)",
				       m->prefixes[i]);
	}
	if ((s = config_setting_get_member(g, "domains")) &&
	    get_strings(x, s, &m->domains, &m->ndomains)) {
		for (size_t i = 0; i < m->ndomains; i++)
			if (!fe__conf_is_domain(m->domains[i]))
				err_at(x, config_setting_get_elem(s, (unsigned)i),
				       "members.domains: \"%s\" is not a fully qualified domain "
				       "name "
				       "(with the final dot)",
				       m->domains[i]);
	}
	if ((s = config_setting_get_member(g, "primary")) && get_string(x, s, &str)) {
		if (fe_server_listen_parse(str, &m->primary) != FE_OK || m->primary.port == 0)
			err_at(x, s, "members.primary: \"%s\" is not ADDR@PORT", str);
		else
			m->has_primary = true;
	}
	const config_setting_t *kn = config_setting_get_member(g, "tsig-key");
	const config_setting_t *kf = config_setting_get_member(g, "tsig-secret-file");
	if (kn && get_string(x, kn, &str)) {
		if (!*str)
			err_at(x, kn, "members.tsig-key: empty key name");
		m->tsig_key = xstrdup(x, str);
	}
	if (kf)
		m->tsig_secret_file = get_file(x, kf, "members.tsig-secret-file");
	if (kn && !kf)
		err_at(x, kn, "members.tsig-key needs tsig-secret-file (secrets are never inline)");
	if (kf && !kn)
		err_at(x, kf, "members.tsig-secret-file needs tsig-key (the key name)");
	c->nmembers++;
}

static void load_zone(struct ctx *x, struct fe_conf *c, const config_setting_t *g)
{
	struct fe_conf_zone *z = &c->zones[c->nzones];
	memset(z, 0, sizeof(*z));
	if (!want_type(x, g, CONFIG_TYPE_GROUP, "a group { apex = ...; }"))
		return;
	check_schema_keys(x, g, FE_CONF_FEDERATION, "zones");
	const config_setting_t *s;
	const char *str;
	char where[PATH_MAX + 32];
	snprintf(where, sizeof(where), "%s:%u", src_file(x, g),
	         (unsigned)config_setting_source_line(g));
	z->where = xstrdup(x, where);
	if (!(s = config_setting_get_member(g, "apex"))) {
		err_at(x, g, "zones: a zone needs an apex");
	} else if (get_string(x, s, &str)) {
		if (!fe__conf_is_domain(str))
			err_at(x, s,
			       "zones.apex: \"%s\" is not a fully qualified domain name (with "
			       "the final dot)",
			       str);
		for (size_t i = 0; i < c->nzones; i++)
			if (c->zones[i].apex && strcasecmp(c->zones[i].apex, str) == 0)
				err_at(x, s, "zones.apex: \"%s\" is listed twice", str);
		z->apex = xstrdup(x, str);
	}
	if (!(s = config_setting_get_member(g, "member"))) {
		err_at(x, g, "zones: a zone needs a member");
	} else if (get_string(x, s, &str)) {
		bool found = false;
		for (size_t i = 0; i < c->nmembers; i++)
			if (c->members[i].name && strcmp(c->members[i].name, str) == 0)
				found = true;
		if (!found)
			err_at(x, s, "zones.member: no member is named \"%s\"", str);
		z->member = xstrdup(x, str);
	}
	if (!(s = config_setting_get_member(g, "file")))
		err_at(x, g, "zones: a zone needs a file");
	else
		z->file = get_zone_file(x, s);
	c->nzones++;
}

static void load_federation(struct ctx *x, struct fe_conf *c, const char *path,
                            const config_setting_t *ref)
{
	config_t cfg;
	struct ctx fx = {.d = x->d, .path = path};
	if (!read_file(&fx, &cfg, path, ref)) {
		x->failed = true;
		return;
	}
	const config_setting_t *root = config_root_setting(&cfg);
	check_schema_keys(&fx, root, FE_CONF_FEDERATION, NULL);
	load_groups(&fx, c, FE_CONF_FEDERATION, root);
	const config_setting_t *s;
	const char *str;
	if (!(s = config_setting_get_member(root, "name"))) {
		fe_conf_diag_add(x->d, path, 0, "the federation needs a name (name = \"...\";)");
		fx.failed = true;
	} else if (get_string(&fx, s, &str)) {
		c->fed_name = xstrdup(&fx, str);
	}
	if ((s = config_setting_get_member(root, "trust-anchors")) &&
	    get_strings(&fx, s, &c->trust_anchors, &c->ntrust_anchors)) {
		/* Read by fe_conf_apply_cli (with --trust-anchor files); here they must exist. */
		for (size_t i = 0; i < c->ntrust_anchors; i++) {
			const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
			char *p = resolve(&fx, src_file(&fx, e), c->trust_anchors[i]);
			if (!p)
				continue;
			if (access(p, R_OK) != 0)
				err_at(&fx, e, "trust anchor \"%s\": %s", p, strerror(errno));
			free(c->trust_anchors[i]);
			c->trust_anchors[i] = p;
		}
	}
	if ((s = config_setting_get_member(root, "clients")) &&
	    get_strings(&fx, s, &c->clients, &c->nclients)) {
		c->has_clients = true;
		struct fe_server_acl *acl = NULL;
		if (fe_server_acl_create(&acl) != FE_OK) {
			fx.oom = fx.failed = true;
		} else {
			for (size_t i = 0; i < c->nclients; i++)
				if (fe_server_acl_add(acl, c->clients[i]) == FE_ESYNTAX)
					err_at(&fx, config_setting_get_elem(s, (unsigned)i),
					       "clients: \"%s\" is not an address prefix "
					       "(ADDR/LEN with no host bits set, or ADDR)",
					       c->clients[i]);
			fe_server_acl_destroy(acl);
		}
	}
	if ((s = config_setting_get_member(root, "members"))) {
		if (want_type(&fx, s, CONFIG_TYPE_LIST, "a list ( { ... }, ... )")) {
			int n = config_setting_length(s);
			c->members = calloc((size_t)n + 1, sizeof(*c->members));
			if (!c->members)
				fx.oom = fx.failed = true;
			for (int i = 0; c->members && i < n; i++)
				load_member(&fx, c, config_setting_get_elem(s, (unsigned)i));
			size_t registries = 0;
			for (size_t i = 0; i < c->nmembers; i++)
				registries += c->members[i].is_registry;
			if (registries != 1)
				err_at(&fx, s,
				       "members: exactly one member must have role = \"registry\" "
				       "(found %zu)",
				       registries);
		}
	} else {
		fe_conf_diag_add(x->d, path, 0, "the federation needs members = ( ... );");
		fx.failed = true;
	}
	if ((s = config_setting_get_member(root, "zones"))) {
		if (want_type(&fx, s, CONFIG_TYPE_LIST, "a list ( { ... }, ... )")) {
			int n = config_setting_length(s);
			c->zones = calloc((size_t)n + 1, sizeof(*c->zones));
			if (!c->zones)
				fx.oom = fx.failed = true;
			for (int i = 0; c->zones && i < n; i++)
				load_zone(&fx, c, config_setting_get_elem(s, (unsigned)i));
		}
	}
	if (!fx.failed && !fe__conf_load_policy(root, path, c, x->d))
		fx.failed = true;
	if (fx.failed)
		x->failed = true;
	if (fx.oom)
		x->oom = true;
	config_destroy(&cfg);
}

int fe_conf_load(struct fe_conf *c, const char *path, struct fe_conf_diag *d)
{
	struct ctx x = {.d = d, .path = path};
	config_t cfg;
	c->config_file = xstrdup(&x, path);
	if (!read_file(&x, &cfg, path, NULL))
		return FE_EFORMAT;
	const config_setting_t *root = config_root_setting(&cfg);
	check_schema_keys(&x, root, FE_CONF_NODE, NULL);
	load_groups(&x, c, FE_CONF_NODE, root);
	const config_setting_t *s;
	const char *str;
	load_identity(&x, c, root);
	if ((s = config_setting_get_member(root, "federation")) && get_string(&x, s, &str)) {
		if (!*str) {
			err_at(&x, s, "federation: empty path");
		} else {
			c->federation_file = resolve(&x, src_file(&x, s), str);
			if (c->federation_file)
				load_federation(&x, c, c->federation_file, s);
		}
	}
	config_destroy(&cfg);
	if (x.oom)
		fe_conf_diag_add(d, path, 0, "out of memory");
	return x.failed ? FE_EFORMAT : FE_OK;
}

int fe_conf_load_federation(struct fe_conf *c, const char *path, struct fe_conf_diag *d)
{
	struct ctx x = {.d = d, .path = path};
	config_t cfg;
	if (!read_file(&x, &cfg, path, NULL))
		return FE_EFORMAT;
	bool node = config_setting_get_member(config_root_setting(&cfg), "federation") != NULL;
	config_destroy(&cfg);
	if (node)
		return fe_conf_load(c, path, d);
	c->federation_file = xstrdup(&x, path);
	if (c->federation_file)
		load_federation(&x, c, c->federation_file, NULL);
	if (x.oom)
		fe_conf_diag_add(d, path, 0, "out of memory");
	return x.failed ? FE_EFORMAT : FE_OK;
}

/* ---- the trust anchors of a federation, for fedenumctl ------------------------------- */

/* Only `trust-anchors` is read (and `federation` followed once from a fedenumd.conf): a
 * tool that needs the anchors does not need the node's secrets. */
static int anchors_of(struct ctx *x, const char *path, int depth, char ***files, size_t *n)
{
	config_t cfg;
	if (!read_file(x, &cfg, path, NULL))
		return FE_EFORMAT;
	const config_setting_t *root = config_root_setting(&cfg);
	const config_setting_t *s = config_setting_get_member(root, "trust-anchors");
	const config_setting_t *fed = config_setting_get_member(root, "federation");
	const char *str;
	int rc = FE_OK;
	if (s) {
		if (get_strings(x, s, files, n)) {
			for (size_t i = 0; i < *n; i++) {
				char *p = resolve(x, path, (*files)[i]);
				if (!p)
					break;
				free((*files)[i]);
				(*files)[i] = p;
			}
		}
		rc = x->failed ? FE_EFORMAT : FE_OK;
	} else if (fed && depth == 0 && get_string(x, fed, &str)) {
		char *next = resolve(x, path, str);
		rc = next ? anchors_of(x, next, depth + 1, files, n) : FE_ENOMEM;
		free(next);
	} else {
		fe_conf_diag_add(x->d, path, 0, "no trust-anchors");
		rc = x->failed ? FE_EFORMAT : FE_ENOENT;
	}
	config_destroy(&cfg);
	return x->oom ? FE_ENOMEM : rc;
}

int fe_conf_federation_anchors(const char *path, char ***files, size_t *n, struct fe_conf_diag *d)
{
	struct ctx x = {.d = d, .path = path};
	*files = NULL;
	*n = 0;
	int rc = anchors_of(&x, path, 0, files, n);
	if (rc != FE_OK) {
		free_strv(*files, *n);
		*files = NULL;
		*n = 0;
	}
	return rc;
}
