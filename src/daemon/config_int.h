/* src/daemon/config_int.h — fedenumd configuration (fedenumd.conf + federation.conf).
 *
 * Both files are libconfig syntax. Every key is checked: unknown keys, wrong types,
 * out-of-range values and missing referenced files (trust anchors, secrets) are errors
 * reported as "file:line: message"; a configuration with any error is refused as a whole.
 * A missing or unreadable zone file is only a warning: that zone fails at load time, alone.
 * Relative paths are relative to the folder of the file that contains them. All options
 * are documented in docs/configuration.md. */
#ifndef FE_DAEMON_CONFIG_INT_H
#define FE_DAEMON_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fedenum/server.h"
#include "fedenum/util.h"
#include "fedenum/trust.h"
#include "fedenum/zone.h"

/* Error list: each entry "file:line: message" (malloc'd). */
struct fe__diag {
	char **msgs;
	size_t n, cap;
};

void fe__diag_add(struct fe__diag *d, const char *file, int line, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/* A warning: reported (as "warning: file:line: message") but the configuration stands. */
#define FE__DIAG_WARNING "warning: "
void fe__diag_warn(struct fe__diag *d, const char *file, int line, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
bool fe__diag_is_warning(const char *msg);
void fe__diag_free(struct fe__diag *d);

/* Called once fedenumd has switched to `user`: a secret file that is no longer readable
 * (it was checked as root at start) is then a warning on reload, not an error. */
void fe__cfg_privileges_dropped(void);

struct fe__cfg_member {
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
};

struct fe__cfg_zone {
	char *apex;   /* presentation form with the final dot; NULL: take it from the SOA */
	char *member; /* NULL for --zone */
	char *file;   /* resolved path */
	char *where;  /* "file:line" of the definition, or "--zone" */
};

struct fe__cfg {
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
	char *store_path;
	uint64_t map_size_mb;
	char *user;  /* drop to this user after binding (NULL: stay as started) */
	char *group; /* and this group (NULL: the user's primary group) */
	unsigned uid, gid;
	enum fe_log_level log_level;
	char **trust_anchors; /* files (federation trust-anchors, then --trust-anchor) */
	size_t ntrust_anchors;
	struct fe_trust_anchors *anchors; /* read from them by fe__cfg_apply_cli; NULL: none */
	/* federation.conf "validation" (issue #3) */
	uint16_t nsec3_max_iterations;
	bool zonemd_required;
	bool forbid_opt_out;
	bool has_clients;
	char **clients;
	size_t nclients;
	struct fe__cfg_member *members;
	size_t nmembers;
	struct fe__cfg_zone *zones;
	size_t nzones;
};

/* Defaults (docs/configuration.md). */
#define FE__DEFAULT_LISTEN       "127.0.0.1@5300"
#define FE__DEFAULT_STORE        "/var/lib/fedenum"
#define FE__DEFAULT_MAP_MB       16384u
#define FE__DEFAULT_UDP_MAX      1232u
#define FE__DEFAULT_TCP_IDLE_MS  10000u
#define FE__DEFAULT_TCP_CLIENTS  1000u
#define FE__DEFAULT_TCP_PIPELINE 100u
#define FE__DEFAULT_TCP_OUT      (256u * 1024u)
#define FE__DEFAULT_NSEC3_ITER   50u /* RFC 9276 §3.2: above a cap, reject */

void fe__cfg_init(struct fe__cfg *c);
void fe__cfg_free(struct fe__cfg *c);

/* Read @path (fedenumd.conf) and the federation file it names into @c (initialised with
 * fe__cfg_init). FE_OK, or FE_EFORMAT with every problem in @d. */
int fe__cfg_load(struct fe__cfg *c, const char *path, struct fe__diag *d);

/* Command-line overrides (NULL / 0 counts: keep the file's value). */
struct fe__cli {
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
};

/* Apply @cli over @c (listen replaces the list, zones and trust anchors are added, ...),
 * then read every trust-anchor file into c->anchors. Errors in @d (attributed to "command
 * line", or file:line of an anchor file). FE_OK or FE_EFORMAT. */
int fe__cfg_apply_cli(struct fe__cfg *c, const struct fe__cli *cli, struct fe__diag *d);

/* Build the admission list: the federation's clients, or loopback only when none is
 * configured. FE_OK / FE_ENOMEM / FE_ESYNTAX (cannot happen after a successful load). */
int fe__cfg_make_acl(const struct fe__cfg *c, struct fe_server_acl **out);

/* Presentation name → uncompressed wire name (no escapes; final dot optional). Returns
 * the wire length or FE_ESYNTAX. */
int fe__name_from_str(const char *s, uint8_t *out, size_t cap);

#endif
