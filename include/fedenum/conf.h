/* include/fedenum/conf.h — the configuration of a node: fedenumd.conf and the federation
 * definition (federation.conf), shared by fedenumd and fedenumctl.
 *
 * Both files are libconfig syntax. One schema (fe_conf_schema: name, type, default, range,
 * documentation of every key) drives the parsing, the defaults and --check-config, and
 * docs/configuration.md is checked against it by a test. Every key is checked: unknown keys,
 * wrong types, out-of-range values and missing referenced files (trust anchors, secrets) are
 * errors reported as "file:line: message"; a configuration with any error is refused as a
 * whole. A missing or unreadable zone file is only a warning: that zone fails at load time,
 * alone. Relative paths are relative to the folder of the file that contains them.
 * Threads: a struct fe_conf belongs to one thread at a time; the schema is constant. */
#ifndef FEDENUM_CONF_H
#define FEDENUM_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fedenum/server.h"
#include "fedenum/trust.h"
#include "fedenum/util.h"
#include "fedenum/zone.h"

/* Error list: each entry "file:line: message" (malloc'd). */
struct fe_conf_diag {
	char **msgs;
	size_t n, cap;
};

void fe_conf_diag_add(struct fe_conf_diag *d, const char *file, int line, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/* A warning: reported (as "warning: file:line: message") but the configuration stands. */
#define FE_CONF_WARNING "warning: "
void fe_conf_diag_warn(struct fe_conf_diag *d, const char *file, int line, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
bool fe_conf_diag_is_warning(const char *msg);
void fe_conf_diag_free(struct fe_conf_diag *d);

/* Called once fedenumd has switched to `user`: a secret file that is no longer readable
 * (it was checked as root at start) is then a warning on reload, not an error. */
void fe_conf_privileges_dropped(void);

struct fe_conf_member {
	char *name;
	bool is_registry;
	char **prefixes; /* "+15551" */
	size_t nprefixes;
	char **domains; /* "ims-a.example." */
	size_t ndomains;
	bool has_primary;
	struct fe_listen_addr primary;
	char *tsig_key;
	char *tsig_secret_file; /* absolute or relative to the working directory, resolved */
	/* policy (docs/federation.md "Policy") */
	char **peers; /* members it has peering agreements with */
	size_t npeers;
	bool has_peers; /* false: agreements with every member */
	bool suspended;
	char **border; /* border element names: topology hiding of the member's other names */
	size_t nborder;
};

/* A view of the policy: clients by source prefix and, optionally, TSIG key name. */
struct fe_conf_view {
	char *name;
	char *member; /* NULL: agreements with every member */
	char **clients;
	size_t nclients;
	char **tsig_keys;
	size_t ntsig_keys;
	char **tls_clients; /* verified TLS client certificate names */
	size_t ntls_clients;
	bool no_foreign_proofs;      /* foreign-proofs = false */
	uint32_t queries_per_second; /* query budget (abuse control); 0: none */
	bool over_budget_drop;       /* over budget: no answer instead of REFUSED */
};

/* federation.conf policy.rate-limit and policy.harvesting (docs/federation.md "Abuse
 * control"); defaults from the schema. */
struct fe_conf_abuse {
	bool has_rate_limit;
	uint32_t rrl_rate, rrl_slip, rrl_window_s, rrl_v4, rrl_v6;
	char **rrl_exempt; /* view names */
	size_t nrrl_exempt;
	bool has_harvesting;
	uint32_t hv_window_s, hv_distinct, hv_max_distinct, hv_nx_pct, hv_seq_pct, hv_hold_s;
	uint32_t hv_v4, hv_v6;
	bool hv_drop;
	char **hv_exempt;
	size_t nhv_exempt;
};

/* On-demand peering (policy.on-demand, docs/federation.md "On-demand peering"). */
#define FE_CONF_OD_MAX_PREFIXES 64
#define FE_CONF_OD_MAX_SERVERS  8
struct fe_conf_ondemand {
	bool on;
	char **prefixes; /* "+1666" */
	size_t nprefixes;
	char **views; /* view names; none: every view */
	size_t nviews;
	char **servers; /* "ADDR@PORT" of the registry's name servers */
	size_t nservers;
	uint32_t port, max_pending, max_per_client, timeout_ms, max_ttl_s, cache_entries;
};

/* A policy rule: causes (bit mask of 1 << enum fe_policy_cause) → action. */
struct fe_conf_rule {
	unsigned causes;
	int action; /* enum fe_policy_action */
	char **prefixes;
	size_t nprefixes;
	char **views;
	size_t nviews;
};

struct fe_conf_zone {
	char *apex;   /* presentation form with the final dot; NULL: take it from the SOA */
	char *member; /* NULL for --zone */
	char *file;   /* resolved path */
	char *where;  /* "file:line" of the definition, or "--zone" */
};

struct fe_conf {
	char *config_file;     /* NULL when running without one */
	char *federation_file; /* NULL when none */
	char *fed_name;
	struct fe_listen_addr *listen;
	size_t nlisten;
	unsigned workers;
	uint16_t udp_max_payload;
	uint32_t tcp_idle_timeout_ms;
	uint32_t tcp_max_clients;
	uint32_t tcp_max_pipeline;
	uint32_t tcp_max_out_bytes;
	/* DNS over TLS: addresses, and the files as resolved (NULL: none) */
	struct fe_listen_addr *tls_listen;
	size_t ntls_listen;
	char *tls_cert, *tls_key, *tls_client_ca;
	char *store_path;
	uint64_t map_size_mb;
	/* control channel and metrics (docs/control.md) */
	char *control_socket;         /* the control socket's path (default from the schema) */
	uint32_t control_timeout_ms;  /* per connection */
	uint32_t control_max_clients; /* open connections */
	char *metrics_listen;         /* "ADDR@PORT" as written; NULL: no metrics endpoint */
	/* remote administration: TCP with mutual TLS (docs/control.md) */
	char *control_listen;               /* "ADDR@PORT" as written; NULL: none */
	struct fe_listen_addr control_addr; /* parsed from it by fe_conf_apply_cli */
	char *control_tls_cert, *control_tls_key, *control_tls_client_ca; /* resolved paths */
	char **control_tls_clients; /* allowed certificate names; none: any the CA verifies */
	size_t ncontrol_tls_clients;
	struct fe_listen_addr metrics; /* parsed from it by fe_conf_apply_cli */
	/* zone transfer out (xfr.*): files as resolved, "ADDR@PORT" as written */
	char **xfr_tsig_keys;
	size_t nxfr_tsig_keys;
	char **view_tsig_keys; /* server.view-tsig-keys: files as resolved */
	size_t nview_tsig_keys;
	char **xfr_notify;
	size_t nxfr_notify;
	char **xfr_secondary; /* "APEX@ADDR@PORT" as written (secondary side) */
	size_t nxfr_secondary;
	char **xfr_secondary_tls; /* "APEX@ADDR@PORT[@NAME]" as written: over TLS */
	size_t nxfr_secondary_tls;
	char **xfr_catalogs; /* "APEX@ADDR@PORT" as written: catalog zones consumed (RFC 9432) */
	size_t nxfr_catalogs;
	uint32_t xfr_catalog_max_members;
	char *xfr_tls_ca_file, *xfr_tls_cert_file, *xfr_tls_key_file; /* resolved; NULL: none */
	uint32_t xfr_max_transfers;
	uint32_t xfr_max_time_ms;
	/* transfer in (secondary side) limits */
	uint64_t xfr_max_transfer_bytes;
	uint32_t xfr_max_records, xfr_max_rrset_records, xfr_in_max_time_ms;
	uint32_t xfr_max_transfers_in, xfr_notify_rate;
	/* member-side signing (signing.*): keys, signer options, SOA and NS of created zones */
	char *signing_key_dir; /* resolved; NULL: none (no signing) */
	bool signing_nsec3;
	uint32_t signing_validity_days;
	uint32_t signing_refresh_days;
	uint32_t signing_ttl;
	char *signing_soa_rname;
	uint32_t signing_soa_refresh, signing_soa_retry, signing_soa_expire, signing_soa_minimum;
	char **signing_ns; /* NS targets of created zones, as written */
	size_t nsigning_ns;
	char *user;  /* drop to this user after binding (NULL: stay as started) */
	char *group; /* and this group (NULL: the user's primary group) */
	unsigned uid, gid;
	enum fe_log_level log_level;
	char **trust_anchors; /* files (federation trust-anchors, then --trust-anchor) */
	size_t ntrust_anchors;
	struct fe_trust_anchors *anchors; /* read from them by fe_conf_apply_cli; NULL: none */
	/* federation.conf "validation" */
	uint16_t nsec3_max_iterations;
	bool zonemd_required;
	bool forbid_opt_out;
	bool has_clients;
	char **clients;
	size_t nclients;
	struct fe_conf_member *members;
	size_t nmembers;
	struct fe_conf_zone *zones;
	size_t nzones;
	/* federation.conf "views" and "policy" (docs/federation.md "Policy") */
	struct fe_conf_view *views;
	size_t nviews;
	bool has_policy;      /* a policy group is present */
	char *policy_bgcf;    /* "sip:HOST[:PORT]" or NULL */
	char *policy_transit; /* idem */
	int policy_outside;   /* enum fe_policy_action: REFUSED (default) or NXDOMAIN */
	struct fe_conf_rule *rules;
	size_t nrules;
	struct fe_conf_abuse abuse;
	struct fe_conf_ondemand od;
};

/* ---- the schema ---------------------------------------------------------------------- */

enum fe_conf_file {
	FE_CONF_NODE,      /* fedenumd.conf */
	FE_CONF_FEDERATION /* the federation definition */
};

enum fe_conf_type {
	FE_CONF_INT,    /* integer in [min, max], stored unsigned in a field of `size` bytes */
	FE_CONF_BOOL,   /* true / false */
	FE_CONF_PATH,   /* string: a path, relative to the folder of the file naming it */
	FE_CONF_LEVEL,  /* log level: err, warn, info, debug */
	FE_CONF_LISTEN, /* array of "ADDR@PORT" */
	FE_CONF_STRING, /* string taken as written (checked by fe_conf_apply_cli) */
	FE_CONF_GROUP,  /* a group { } of the keys named "<this>.<key>" */
	FE_CONF_OWN     /* read by its own code in config.c (strings with cross-checks, lists of
	                   groups, files to read); type and range are in `doc` */
};

struct fe_conf_key {
	enum fe_conf_file file;
	const char *name; /* dotted path, e.g. "server.workers"; list members "members.name" */
	enum fe_conf_type type;
	const char *def;     /* default as the documentation writes it ("none": no default) */
	long long min, max;  /* FE_CONF_INT */
	size_t offset, size; /* the field in struct fe_conf (INT, BOOL, PATH, LEVEL, LISTEN) */
	const char *doc;     /* one line */
};

/* The schema, in documentation order. *n gets the number of keys. */
const struct fe_conf_key *fe_conf_schema(size_t *n);

/* Zero @c and give it the schema's scalar defaults (no allocation). */
void fe_conf_init(struct fe_conf *c);
/* Free what @c owns; @c is then as after fe_conf_init. */
void fe_conf_free(struct fe_conf *c);

/* Read @path (fedenumd.conf) and the federation file it names into @c (initialised with
 * fe_conf_init). FE_OK, or FE_EFORMAT with every problem in @d. */
int fe_conf_load(struct fe_conf *c, const char *path, struct fe_conf_diag *d);
/* The federation definition alone (members, zones, views, policy, validation) from @path:
 * a federation.conf, or a fedenumd.conf followed to its `federation` file (then the node's
 * keys are read too). For tools that check data against the federation. */
int fe_conf_load_federation(struct fe_conf *c, const char *path, struct fe_conf_diag *d);

/* Command-line overrides (NULL / 0 counts: keep the file's value). */
struct fe_conf_cli {
	const char *config;
	bool check_config;
	const char **listen;
	size_t nlisten;
	const char *db;
	const char **zones;
	size_t nzones;
	const char **anchors; /* --trust-anchor FILE */
	size_t nanchors;
	bool has_workers;
	unsigned workers;
	const char *ready_file;
	const char *log_level;
	const char *control; /* --control PATH */
	const char *metrics; /* --metrics ADDR@PORT */
	const char *key_dir; /* --key-dir DIR */
};

/* Apply @cli over @c (listen replaces the list, zones and trust anchors are added, ...),
 * then read every trust-anchor file into c->anchors. Errors in @d (attributed to "command
 * line", or file:line of an anchor file). FE_OK or FE_EFORMAT. */
int fe_conf_apply_cli(struct fe_conf *c, const struct fe_conf_cli *cli, struct fe_conf_diag *d);

/* Build the admission list: the federation's clients, or loopback only when none is
 * configured. FE_OK / FE_ENOMEM / FE_ESYNTAX (cannot happen after a successful load). */
int fe_conf_make_acl(const struct fe_conf *c, struct fe_server_acl **out);

/* Whether the federation definition configures the policy engine (`views` or `policy`). */
bool fe_conf_has_policy(const struct fe_conf *c);

/* Build the policy engine's policy (policy.h) from @c: the views (then a view "default" of
 * the federation's clients, or loopback when none), the zones' apexes as roots, the
 * registry's zones as ENUM apexes, members with their zones, domains and peers, the rules.
 * On success *out is the caller's (fe_policy_destroy). FE_OK, FE_ENOMEM, or FE_EINVAL with
 * the reason in @err (cannot happen after a successful load). */
struct fe_policy;
int fe_conf_make_policy(const struct fe_conf *c, struct fe_policy **out, char *err, size_t cap);

/* Presentation name → uncompressed wire name (no escapes; final dot optional). Returns
 * the wire length or FE_ESYNTAX. */
int fe_conf_name_from_str(const char *s, uint8_t *out, size_t cap);

/* A secondary zone's primary, "APEX@ADDR@PORT" (numeric address, port 1..65535), with
 * @with_name also "APEX@ADDR@PORT@NAME" (the name a TLS primary's certificate carries).
 * @apex (may be NULL) gets the apex as written, @name (may be NULL) the name or "". FE_OK,
 * FE_ESYNTAX (not that form, or a part too long for its buffer). */
int fe_conf_secondary_parse(const char *spec, bool with_name, char *apex, size_t apex_cap,
                            struct fe_listen_addr *primary, char *name, size_t name_cap);

/* The trust-anchor files of the federation definition @path: a federation.conf, or a
 * fedenumd.conf that names one (fedenumctl --federation accepts both). *files gets a
 * malloc'd vector of malloc'd paths (free each, then the vector). FE_OK, FE_EFORMAT (errors
 * in @d), FE_ENOENT (no trust-anchors), FE_ENOMEM. */
int fe_conf_federation_anchors(const char *path, char ***files, size_t *n, struct fe_conf_diag *d);

/* The ENUM apexes of the federation definition @path (federation.conf, or a fedenumd.conf
 * that names one): the zones of its registry member(s), as written. Same conventions as
 * fe_conf_federation_anchors; FE_ENOENT when there is no registry zone. */
int fe_conf_enum_apexes(const char *path, char ***apexes, size_t *n, struct fe_conf_diag *d);

#endif
