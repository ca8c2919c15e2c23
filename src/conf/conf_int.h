/* src/conf/conf_int.h — what config.c takes from the schema (schema.c). Internal. */
#ifndef FE_CONF_INT_H
#define FE_CONF_INT_H

#include "fedenum/conf.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"

#include <stddef.h>

/* The schema entry @name of @file, or NULL. */
const struct fe_conf_key *fe__conf_key(enum fe_conf_file file, const char *name);

/* The key names directly inside @group (NULL: the file's top level) into @out, NULL
 * terminated (at most @cap - 1). Returns their number. */
size_t fe__conf_children(enum fe_conf_file file, const char *group, const char **out, size_t cap);

/* Store @v into the FE_CONF_INT field of @k. */
void fe__conf_store_int(struct fe_conf *c, const struct fe_conf_key *k, unsigned long long v);

/* The defaults of the keys that allocate (store.path, server.listen), where not set. FE_OK,
 * FE_ENOMEM. */
int fe__conf_string_defaults(struct fe_conf *c);

/* A fully qualified presentation name (letters, digits, '-', '_'; labels 1..63, the final
 * dot; not the root) / an E.164 prefix ("+" and 1 to 15 digits) (names.c). */
bool fe__conf_is_domain(const char *s);
bool fe__conf_is_e164_prefix(const char *s);

/* fe_conf_privileges_dropped was called (secrets were checked as root at start). */
bool fe__conf_privileges_were_dropped(void);

/* The policy keys (conf_policy.c): members.peers and .suspended, views, policy; reported
 * as file:line into @d. Returns false when any is wrong. */
struct config_setting_t;
bool fe__conf_load_policy(const struct config_setting_t *root, const char *path, struct fe_conf *c,
                          struct fe_conf_diag *d);
/* Free what those keys allocated (before fe_conf_init in fe_conf_free). */
void fe__conf_policy_free(struct fe_conf *c);

/* An error at setting @s: "file:line: message" into @d (@path when libconfig knows no
 * file). */
void fe__conf_err_at(struct fe_conf_diag *d, const char *path, const struct config_setting_t *s,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The abuse-control keys (conf_abuse.c): policy.rate-limit, policy.harvesting, views'
 * queries-per-second and over-budget; after the views are read. false when any is wrong. */
bool fe__conf_load_abuse(const struct config_setting_t *root, const char *path, struct fe_conf *c,
                         struct fe_conf_diag *d);
void fe__conf_abuse_free(struct fe_conf *c);
/* Hand them to @p (its views added); FE_EINVAL with a reason in @err. */
struct fe_policy;
int fe__conf_make_abuse(const struct fe_conf *c, struct fe_policy *p, char *err, size_t cap);

#endif
