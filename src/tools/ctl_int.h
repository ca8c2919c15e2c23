/* src/tools/ctl_int.h — fedenumctl subcommands kept in their own files. */
#ifndef FE_CTL_INT_H
#define FE_CTL_INT_H

#include <jansson.h>
#include <stdio.h>

#define FE__CTL_VERSION "0.1.0"

struct fe_store;
struct fe_zone_error;

/* Exit status shared by every subcommand. */
enum { FE__CTL_EXIT_FAIL = 1, FE__CTL_EXIT_USAGE = 2, FE__CTL_EXIT_NOANSWER = 3 };

/* `fedenumctl query ...`: @argv[0] is "query". Returns the process exit status: 0 an answer
 * (with --validate: a secure one), 1 bogus or insecure, 2 usage, 3 no answer. */
int fe__ctl_query(int argc, char **argv);
/* Its usage lines, for the top-level help. */
void fe__ctl_query_usage(FILE *f);

/* Prefix authority of the zone file @path against the federation @fed (authority.c): its
 * member (@member, else the federation's zone entry for its apex) may publish it. Prints a
 * line (and the first violations with file:line), or with @out (a JSON object) fills
 * "member", "ok", "detail", "violations". 0 or 1. */
struct fe_conf;
int fe__ctl_authority(const struct fe_conf *fed, const char *member, const char *path, json_t *out);

/* `fedenumctl route +NUMBER ...` (route.c): @argv[0] is "route". 0 a SIP next hop was
 * found, 1 no SIP route or a step failed validation, 2 usage, 3 no answer. */
int fe__ctl_route(int argc, char **argv);
void fe__ctl_route_usage(FILE *f);

/* `fedenumctl check-zone ...` (check.c): @argv[0] is "check-zone". 0 every zone passed, 1
 * one failed, 2 usage, 3 store error. */
int fe__ctl_check(int argc, char **argv);

/* The arguments of an offline store command: [--db STORE | -c FILE] ARG, plus --help and
 * --version. *c gets the configuration (its store.path; free it with fe_conf_free) and *arg
 * the one operand. Returns -1 to go on, or the exit status (help, version, usage: printed). */
struct fe_conf;
int fe__ctl_store_args(int argc, char **argv, const char *usage, struct fe_conf *c,
                       const char **arg);

/* `fedenumctl catalog generate ...` (catalog.c): @argv[0] is "catalog". 0 printed, 1 no zones,
 * 2 usage or a bad federation definition. */
int fe__ctl_catalog(int argc, char **argv);
void fe__ctl_catalog_usage(FILE *f);

/* `fedenumctl backup ...` (backup.c): @argv[0] is "backup". 0 copied, 1 the destination holds
 * a store already, 2 usage, 3 store error. */
int fe__ctl_backup(int argc, char **argv);

/* `fedenumctl zone export ...` (export.c): @argv[0] is "export". 0 printed, 1 no such zone,
 * 2 usage, 3 store error. */
int fe__ctl_export(int argc, char **argv);

/* "file:line: reason" of a failed zone on stderr. */
void fe__ctl_print_zone_error(const char *path, int rc, const struct fe_zone_error *err);

/* @paths (n) into @out in fe_trust_parents_first order of the apexes they declare. 0 or -1
 * (out of memory). */
int fe__ctl_parents_first(int n, char **paths, const char **out);

struct fe_trust_opts;
struct fe_trust_result;
struct fe_zone_opts;
typedef void (*fe__ctl_report_fn)(const char *path, int rc, const struct fe_trust_result *res,
                                  const struct fe_zone_error *err);
/* fe_trust_load of each of @paths (n), parents first, through one fe_trust context; @report
 * prints each outcome. 0, 1 (a zone failed) or 3 (out of memory). */
int fe__ctl_trust_each(struct fe_store *st, const struct fe_trust_opts *to,
                       const struct fe_zone_opts *zo, int n, char **paths,
                       fe__ctl_report_fn report);

/* Open the store @db for writing under its exclusive lock (refused, with the holder's PID,
 * while a fedenumd holds it). 0, or the exit status with the reason printed. */
int fe__ctl_open_exclusive(const char *db, struct fe_store **st);

/* Call @each with the path of every trust-anchor file of the federation definition @path (a
 * federation.conf, or a fedenumd.conf followed to its `federation` file); paths relative to
 * the file that names them. Errors are printed. 0, or -1 (also when @each returns non-zero). */
int fe__ctl_federation_anchors(const char *path, int (*each)(const char *file, void *arg),
                               void *arg);

/* `fedenumctl status|stats|reload|zone list|zone show` against a running fedenumd's control
 * socket (online.c): @argv[0] is the first word. 0 done, 1 the node refused or failed, 2
 * usage, 3 no answer. */
int fe__ctl_online(int argc, char **argv);
/* The value of the fedenumd.conf path or string @key (e.g. "control.socket",
 * "signing.key-dir") of @conf (NULL: none), else the schema's default, malloc'd into *path.
 * 0, or an exit status (the configuration refused, errors printed; no value and no default). */
int fe__ctl_conf_path(const char *conf, const char *key, char **path);
void fe__ctl_online_usage(FILE *f);

/* `fedenumctl key generate|list|ds|rollover ...` (key.c): @argv[0] is "key". 0 done, 1
 * refused, 2 usage, 3 the key directory cannot be read or written. */
int fe__ctl_key(int argc, char **argv);

/* `fedenumctl zone import|sign ...` (import.c): @argv[0] is "import" or "sign". 0 done, 1
 * rows refused or the node refused, 2 usage, 3 no answer. */
int fe__ctl_import(int argc, char **argv);
/* `fedenumctl number add|remove|port ...` (import.c): @argv[0] is "number". Exit as above. */
int fe__ctl_number(int argc, char **argv);

#endif
