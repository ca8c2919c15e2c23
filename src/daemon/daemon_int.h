/* src/daemon/daemon_int.h — fedenumd internals shared by main.c and zones.c. */
#ifndef FE_DAEMON_INT_H
#define FE_DAEMON_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fedenum/conf.h"

#include <uv.h>

#define FE__VERSION "0.1.0"

/* Exit codes of fedenumd (docs/configuration.md, "Exit status"). */
enum {
	FE__EXIT_OK = 0,
	FE__EXIT_CONFIG = 1,  /* configuration refused (also --check-config) */
	FE__EXIT_USAGE = 2,   /* bad command line */
	FE__EXIT_STORE = 3,   /* the store cannot be opened */
	FE__EXIT_LISTEN = 4,  /* a listen address cannot be bound */
	FE__EXIT_INTERNAL = 5 /* out of memory, thread or event loop failure */
};

struct fe_store;

struct fe__zone_stats {
	unsigned loaded;  /* a new version is now current (validated, under trust anchors) */
	unsigned current; /* the file's serial was already current */
	unsigned failed;  /* not loaded: file, syntax, store (reported with file:line) */
	unsigned refused; /* a serial that does not move forward, or an unvalidated version
	                     over a validated one: the stored version keeps serving */
	/* federation trust (trust anchors configured) */
	unsigned rejected;  /* parsed, but no chain of trust or DNSSEC validation failed */
	unsigned suspended; /* stored zones whose chain broke in this pass: not served now */
	unsigned restored;  /* stored zones whose chain holds again: served again */
	char trust[256];    /* "; trust: ..." for the reload line ("" without anchors) */
};

/* Add the counts of @s to @sum. */
void fe__zone_stats_add(struct fe__zone_stats *sum, const struct fe__zone_stats *s);

/* Load every zone of @c into @st, logging one line per zone. Called from the main thread at
 * start and from a thread-pool thread on SIGHUP. With trust anchors (c->anchors) every zone
 * goes through the federation chain of trust (fe_trust_load), parents first, and the
 * chains of all stored zones are checked again afterwards (fe_trust_sweep), with the caches
 * of @trust (borrowed; one load pass at a time). */
struct fe_trust;
void fe__zones_load(struct fe_store *st, struct fe_trust *trust, const struct fe_conf *c,
                    struct fe__zone_stats *stats);

/* Settle the trust anchors between @c and the store: configured anchors are recorded in the
 * store (replacing what it had); with none configured, the anchors recorded in the store
 * become c->anchors (a store written under anchors stays under them). FE_OK or a store
 * error (logged). */
int fe__zones_settle_trust(struct fe_store *st, struct fe_conf *c);

/* "apex (serial N), ..." of every zone held in @st into @buf; returns the number of zones. */
unsigned fe__zones_describe(struct fe_store *st, char *buf, size_t cap);

/* ---- control channel and metrics (control.c; docs/control.md) ---------------------- */

struct fe_ctl_server;
struct fe_ctl_metrics;
struct fe_ctl_node;
struct fe_server;

struct fe__control {
	struct fe_policy_rt
	        *policy;     /* the policy engine, or NULL: its counters (set before start) */
	struct fe__xfr *xfr; /* zone transfer out and in: their counters (set before start) */
	struct fe__sec *sec;
	struct fe__od *od; /* on-demand peering, or NULL: its counters */
	struct fe_ctl_node *node;
	struct fe_ctl_server *ctl;
	struct fe_ctl_server *remote; /* control.listen: TCP with mutual TLS */
	struct fe_ctl_metrics *metrics;
	char anchors[2048];
};

/* Start the control socket (c->control_socket) and, when configured, the metrics endpoint
 * on @loop, before privileges are dropped (the socket is given to c->user). @reload starts a
 * reload pass (0 started, 1 queued, -1 not possible). @path_given: --control was used. Returns an
 * exit code: FE__EXIT_OK, or FE__EXIT_LISTEN when a configured socket or address cannot be used
 * (logged). A control socket at the built-in default path that cannot be made is logged and left
 * off. */
struct fe__sec;
int fe__control_start(struct fe__control *ctl, uv_loop_t *loop, struct fe_store *st,
                      struct fe_server *srv, const struct fe_conf *c, bool path_given,
                      int (*reload)(void *arg), void *arg, struct fe__sec *sec);
/* A load pass ended (@config_ok false: a reload refused for configuration errors). */
void fe__control_loads_done(struct fe__control *ctl, const struct fe_conf *c,
                            const struct fe__zone_stats *s, bool config_ok, bool is_reload);
/* Close both endpoints (pending reload requests get an error); idempotent. */
void fe__control_stop(struct fe__control *ctl);

/* ---- on-demand peering (ondemand.c; docs/federation.md "On-demand peering") ---------- */

enum fe__od_cnt {
	FE__OD_HIT = 0,     /* answered from the on-demand cache */
	FE__OD_RESOLVED,    /* resolutions that ended secure and were cached */
	FE__OD_BOGUS,       /* resolutions that did not validate: SERVFAIL, EDE 6 */
	FE__OD_INSECURE,    /* answers not signed under the anchors: SERVFAIL, EDE 5 */
	FE__OD_FAILED,      /* no usable answer from the federation's servers: EDE 22 */
	FE__OD_TIMEOUT,     /* no answer within timeout-ms: SERVFAIL, EDE 22 */
	FE__OD_DEFERRED,    /* queries parked until their resolution ended */
	FE__OD_JOINED,      /* of those, joined a resolution already running */
	FE__OD_LIMIT,       /* refused by max-pending, max-per-client: SERVFAIL, EDE 14 */
	FE__OD_NOT_ALLOWED, /* below a delegation not held, not allowed by on-demand */
	FE__OD_NO_SERVERS,  /* no resolver (no forward set yet) */
	FE__OD_STORE_ERROR, /* cache writes that failed (or the cache is full) */
	FE__OD_SWEPT,       /* expired cache entries removed */
	FE__OD_CNT_MAX
};

struct fe__od;
struct fe_policy_rt;
struct fe_server_opts;
/* Read policy.on-demand of @c and put the hook into @o (before the server starts). *out is
 * NULL when on-demand is not configured. Returns an exit code (FE__EXIT_CONFIG: on-demand
 * without trust anchors, or no registry zone). */
int fe__od_setup(struct fe__od **out, uv_loop_t *loop, struct fe_store *st, const struct fe_conf *c,
                 struct fe_policy_rt *policy, bool validating, struct fe_server_opts *o);
/* Whether @c's policy.on-demand is the one @od runs (NULL: none); a reload cannot change it. */
bool fe__od_same(const struct fe__od *od, const struct fe_conf *c);
/* Start on @loop (after the initial load pass: the forward set comes from the store). */
int fe__od_start(struct fe__od *od);
/* A load pass ended or a secondary zone changed: recompute the forward set. */
void fe__od_loads_done(struct fe__od *od);
/* Every waiting query is answered SERVFAIL, the resolver stopped; before fe_server_stop. */
void fe__od_stop(struct fe__od *od);
/* After the loop has run out. NULL is a no-op. */
void fe__od_free(struct fe__od *od);
void fe__od_counters(struct fe__od *od, uint64_t *out); /* FE__OD_CNT_MAX values */
const char *fe__od_counter_name(unsigned i);
void fe__od_log_counters(struct fe__od *od, const char *why); /* SIGUSR1, exit */

/* ---- zone transfer, primary side (xfr.c; include/fedenum/xfr.h) --------------------- */

struct fe_xfr;
struct fe_xfr_notifier;
struct fe__xfr_zone;
struct fe_tsig_keyring;

/* Two sets of pipeline hooks as one (hooks.c): @outer (zone transfer: TSIG verification and
 * signing) around @inner (the policy engine). Either may be NULL: the other is returned.
 * @h must live as long as the server uses the result. */
struct fe__hooks {
	struct fe_server_policy out;
	const struct fe_server_policy *outer, *inner;
};
const struct fe_server_policy *fe__hooks_compose(struct fe__hooks *h,
                                                 const struct fe_server_policy *outer,
                                                 const struct fe_server_policy *inner);

struct fe__xfr {
	bool enabled; /* --tsig-key given */
	struct fe_tsig_keyring *keys;
	struct fe_server_acl *peers;   /* the --notify addresses: who may transfer */
	struct fe_listen_addr *notify; /* --notify ADDR@PORT */
	size_t nnotify;
	uint32_t max_transfers, max_time_ms;
	struct fe_xfr *x;
	struct fe_xfr_notifier *notifier;
	struct fe__xfr_zone *zones; /* serial last announced per zone */
	size_t nzones;
	struct fe__hooks hooks; /* transfer hooks around the policy engine's (hooks.c) */
	/* where NOTIFY and transfers in are sent from (port 0): the first listen address that is
	 * not a wildcard, per family and loopback or not (fe__xfr_source); AF_UNSPEC: none */
	struct sockaddr_storage src[4];
	struct sockaddr_storage *notify_src; /* one per --notify target */
	struct fe__sec *sec; /* the secondary side (set by fe__sec_start), or NULL: a zone's
	                        primary gets no NOTIFY of its own version */
};

/* The source address for @peer: the node's first listen address of the peer's family that is
 * loopback exactly when the peer is, so that peers see the address they know this node by;
 * NULL when there is none (then the kernel chooses). *len gets its length. */
const struct sockaddr *fe__xfr_source(const struct fe__xfr *xf, const struct sockaddr *peer,
                                      socklen_t *len);

/* Read the key files (tsig-keygen form) and the secondaries: --tsig-key and --notify first,
 * then xfr.tsig-keys and xfr.notify of @c; the limits from @c. Returns an exit code
 * (FE__EXIT_CONFIG for a bad file or address, logged). Nothing given: transfers stay off. */
int fe__xfr_setup(struct fe__xfr *xf, const struct fe_conf *c, const char *const *cli_keys,
                  size_t ncli_keys, const char *const *cli_notify, size_t ncli_notify);
/* Create the transfer handler over @st and put it (and its TSIG step) into @o. */
int fe__xfr_start(struct fe__xfr *xf, struct fe_store *st, bool validating,
                  struct fe_server_opts *o);
/* Start sending NOTIFY on @loop (signed with the first key). Returns an exit code. */
int fe__xfr_notify_start(struct fe__xfr *xf, uv_loop_t *loop);
/* After a load pass: NOTIFY every secondary of each zone whose serial is new since the
 * last pass (every zone after the start). */
void fe__xfr_loads_done(struct fe__xfr *xf, struct fe_store *st);
/* Stop: pending NOTIFYs are given up, their handles closed (the loop runs on to free them). */
void fe__xfr_stop(struct fe__xfr *xf);
/* One log line of the transfer counters (SIGUSR1, exit). */
void fe__xfr_log_counters(const struct fe__xfr *xf, const char *why);
/* After the server has stopped. */
void fe__xfr_free(struct fe__xfr *xf);

/* ---- member-side signing (sign.c; include/fedenum/sign.h, docs/control.md) ---------- */

struct fe_ctl_command;
/* The signing commands (zone.import, zone.sign, zone.number): a static table of *n. */
const struct fe_ctl_command *fe__signing_commands(size_t *n);
/* Make STORE/signing, start the hourly signature refresh on @loop. @cfg is the daemon's
 * configuration (read on the loop thread when a job starts). Returns an exit code. */
struct fe_trust;
int fe__signing_start(uv_loop_t *loop, struct fe_store *st, struct fe_trust *trust,
                      struct fe__xfr *xf, const struct fe_conf *cfg, bool validating);
/* Stop the timer; a running job finishes, its answer is dropped. */
void fe__signing_stop(void);
/* One log line of the signing counters (SIGUSR1). */
void fe__signing_log_counters(const char *why);

/* ---- zone transfer, secondary side (secondary.c; fe_xfrin_run in xfr.h) ----------------- */

#include <pthread.h>

/* Held by every load into the store (the SIGHUP pass, a transfer in): one at a time. */
extern pthread_mutex_t fe__load_lock;

enum fe__sec_cnt {
	FE__SEC_AXFR = 0,             /* whole zones taken (AXFR, or IXFR in AXFR form) */
	FE__SEC_IXFR,                 /* incremental transfers taken */
	FE__SEC_UPTODATE,             /* refreshes that found the serial current */
	FE__SEC_FAILED,               /* refreshes that failed (the old version kept) */
	FE__SEC_EXPIRED,              /* zones marked expired past SOA EXPIRE (kept, not served) */
	FE__SEC_NOTIFY_ACCEPTED,      /* NOTIFY taken (signed, from the zone's primary) */
	FE__SEC_NOTIFY_UNSIGNED,      /* NOTIFY without TSIG: REFUSED */
	FE__SEC_NOTIFY_BAD_TSIG,      /* NOTIFY whose TSIG does not verify: NOTAUTH */
	FE__SEC_NOTIFY_NOT_PRIMARY,   /* signed NOTIFY from another address: REFUSED */
	FE__SEC_NOTIFY_NOT_SECONDARY, /* NOTIFY for a zone this node is no secondary of */
	FE__SEC_LIMIT,               /* refreshes aborted by a limit (size, records, RRset, time) */
	FE__SEC_QUEUED,              /* refreshes that waited for xfr.max-transfers-in */
	FE__SEC_NOTIFY_RATE_LIMITED, /* NOTIFY over xfr.notify-rate from its primary: REFUSED */
	FE__SEC_IXFR_WHOLE,          /* IXFRs too complex for a change set: AXFR, whole load */
	FE__SEC_IXFR_REJECTED,       /* IXFRs whose change set did not validate (not stored) */
	FE__SEC_CATALOG_ACCEPTED,    /* catalog versions read and applied (RFC 9432) */
	FE__SEC_CATALOG_REFUSED,     /* catalog versions refused (malformed, over the limit) */
	FE__SEC_CATALOG_ADDED,       /* member zones added by a catalog */
	FE__SEC_CATALOG_REMOVED, /* member zones that left their catalog: removed from the store */
	FE__SEC_CNT_MAX
};

struct fe__sec_zone;
struct fe__sec_peer;
struct fe_tsig_key;
struct fe_xfrin_tls;

struct fe__sec {
	struct fe__sec_zone **z; /* --secondary and xfr.secondary zones; a zone removed by a
	                            reload stays, flagged, until exit */
	size_t n;                /* atomic (release/acquire): workers read z[0, n) for NOTIFY */
	size_t cap;              /* slots of z: the zones at start + FE__SEC_ADD_MAX */
	char dir[4096];          /* STORE/secondary */
	uv_loop_t *loop;
	uv_async_t async; /* NOTIFY accepted by a worker → refresh on the loop */
	bool async_ready, stopping, validating;
	struct fe_store *st;
	struct fe_trust *trust;
	const struct fe_tsig_keyring *keys; /* borrowed from the primary side's keyring */
	const struct fe_tsig_key *key;      /* the first: signs what this node sends */
	struct fe__xfr *xf;                 /* NOTIFY to this node's own secondaries */
	uint64_t max_bytes, max_rrs, max_rrset_rrs;
	uint32_t max_time_ms;
	uint32_t max_in;            /* refreshes running at once */
	uint32_t running;           /* refreshes running now (main loop) */
	uint32_t notify_rate;       /* NOTIFYs per second per primary */
	struct fe__sec_peer *peers; /* one per primary address: its NOTIFY rate */
	size_t npeers;
	struct fe_xfrin_tls *tls;       /* XFR over TLS: the client context; NULL: no TLS zone */
	struct fe_server_policy policy; /* NOTIFY in */
	uint64_t cnt[FE__SEC_CNT_MAX];  /* atomic */
	int cancel;                     /* atomic: set at stop, ends a running transfer */
	uint32_t cat_max_members;       /* xfr.catalog-max-members */
	size_t ncat;                    /* catalog zones (RFC 9432) among z */
	struct fe__sec_group *groups;   /* the federation's members with a primary: a catalog's
	                                   group property names one (main loop) */
	size_t ngroups;
	char **own; /* apexes of this node's own zones (zones, --zone: loaded from its files),
	               lower case with the final dot: never taken from a catalog (main loop) */
	size_t nown;
	char key_dir[4096]; /* signing.key-dir: a zone with keys there is signed here, never
	                       taken from a catalog; "" none */
	/* called on the loop after a zone got a new version (may be NULL): under trust
	 * anchors, a zone that failed for want of its parent's DS can now validate */
	void (*changed)(void *arg);
	void *changed_arg;
};

/* One secondary zone (secondary.c; secondary_apply.c reads it on the refresh's thread). */
#include <jansson.h>
#include <limits.h>
#include <sys/socket.h>

#include "fedenum/wire.h"
#include "fedenum/xfr.h"

struct fe__sec_zone {
	struct fe__sec *sec;
	char apex[FE_WIRE_NAME_MAX * 4 + 2]; /* presentation form, final dot */
	uint8_t apex_wire[FE_WIRE_NAME_MAX];
	size_t apex_wire_len;
	struct fe_listen_addr primary;
	struct sockaddr_storage paddr;
	socklen_t plen;
	bool tls;           /* XFR over TLS (RFC 9103) */
	char tls_name[256]; /* the name its certificate must carry; "": its address */
	size_t peer;        /* index in sec->peers */
	bool queued;        /* waits for a free transfer slot (xfr.max-transfers-in) */
	char base[PATH_MAX], next[PATH_MAX];
	char okf[PATH_MAX]; /* its mtime: the last successful refresh (EXPIRE across restarts) */
	uv_timer_t timer;
	bool timer_ready;
	uv_timer_t expiry; /* fires at the SOA EXPIRE after the last success (check_expire) */
	bool expiry_ready;
	uv_work_t work;
	bool busy, again;
	int removed;  /* atomic: taken out of the configuration by a reload */
	int notified; /* atomic: set by a worker on an accepted NOTIFY */
	uint64_t last_start_ms;
	/* state (main loop) */
	bool has_serial;
	uint32_t serial, refresh_s, retry_s, expire_s;
	int64_t last_ok_s, next_s;
	bool expired;
	char last_err[600];
	/* one refresh (the pool thread writes, the loop reads after it) */
	int rc;
	struct fe_xfrin_result res;
	char load_err[700];
	char trust_note[512]; /* under trust anchors: how the new version validated */
	bool applied;         /* the IXFR went into the store as a change set */
	uint64_t ms;
	/* catalog zones (RFC 9432; catalog.c) */
	bool is_catalog;                /* this zone is a catalog zone: its members follow it */
	struct fe__sec_zone *member_of; /* a member zone added by this catalog; NULL: configured */
	bool dropping;                  /* left its catalog: removed from the store once idle */
	char cat_id[64 * 4 + 1];        /* its unique id in the catalog */
};

/* A federation member with a primary (members.primary): a catalog's group property naming
 * the member gives its zones that primary. */
struct fe__sec_group {
	char name[128];
	char primary[96]; /* "ADDR@PORT" */
};

/* fe_xfrin_opts.apply of a refresh of zone @arg (a struct fe__sec_zone): the IXFR's change
 * set into the store, validated incrementally under trust anchors (secondary_apply.c). */
int fe__sec_apply_ixfr(void *arg, const struct fe_xfrin_delta *xd, char *why, size_t why_cap);

/* What the secondary side is configured with: the command line first, then @conf. */
struct fe__sec_cfg {
	const char *const *cli; /* --secondary APEX@ADDR@PORT */
	size_t ncli;
	const char *const *cli_tls; /* --secondary-tls APEX@ADDR@PORT[@NAME] */
	size_t ncli_tls;
	const char *tls_ca, *tls_cert, *tls_key; /* --xfr-tls-ca/-cert/-key; NULL: conf's */
	const struct fe_conf *conf; /* xfr.secondary, xfr.secondary-tls, xfr.tls-*, limits */
	const char *const *cli_cat; /* --catalog APEX@ADDR@PORT */
	size_t ncli_cat;
};
/* Parse the zones: --secondary, xfr.secondary, then the TLS ones; the limits; the TLS
 * client context when a zone is over TLS. Returns an exit code (FE__EXIT_CONFIG for a bad
 * value, a zone given twice, a TLS zone without a CA or an unusable TLS file, logged). */
int fe__sec_setup(struct fe__sec *s, const struct fe__sec_cfg *cfg);
/* `fedenumctl peer list`: the primaries this node transfers from, each with its zones and
 * their state (serial, last success, next refresh, expired, last error). A new array. */
json_t *fe__sec_primaries_json(const struct fe__sec *s);
/* Whether @a (a --notify target) is the primary zone @apex is transferred from. */
bool fe__sec_is_primary(const struct fe__sec *s, const uint8_t *apex, size_t apex_len,
                        const struct fe_listen_addr *a);
/* The primary (address and port) zone @apex (wire form) is transferred from, or NULL when
 * this node is not its secondary. On the loop's thread. */
const struct sockaddr *fe__sec_primary(const struct fe__sec *s, const uint8_t *apex,
                                       size_t apex_len);
/* The NOTIFY-in hooks (before: admission, after: the signed answer); NULL without zones. */
const struct fe_server_policy *fe__sec_policy(struct fe__sec *s);
/* Start the timers on @loop and refresh every zone now. Returns an exit code. */
int fe__sec_start(struct fe__sec *s, uv_loop_t *loop, struct fe_store *st, struct fe_trust *trust,
                  bool validating, const char *store_dir, const struct fe_tsig_keyring *keys,
                  struct fe__xfr *xf);
/* One line of status of zone @apex (NULL: the first) into @buf; 0 when not a secondary. */
size_t fe__sec_status(const struct fe__sec *s, const uint8_t *apex, size_t apex_len, char *buf,
                      size_t cap);
void fe__sec_log_counters(const struct fe__sec *s, const char *why);
/* SIGHUP (main loop, after the new configuration was accepted): the secondary zones are now
 * @cli (--secondary, unchanged since start) and @file (xfr.secondary). New zones start
 * refreshing; a removed zone is no longer refreshed, keeps its stored version (served until
 * its SOA EXPIRE, then kept and answered SERVFAIL like any expired zone) and is logged; a
 * changed primary is taken for the next refresh. A node started without secondary zones
 * needs a restart to become one (logged). */
#define FE__SEC_ADD_MAX 256u /* zones a running node can add by reloads */
void fe__sec_reconfigure(struct fe__sec *s, const struct fe__sec_cfg *cfg);
/* The secondary side's counters (FE__SEC_CNT_MAX of them) and their names ("xfrin_axfr"). */
void fe__sec_counters(const struct fe__sec *s, uint64_t *out);
const char *fe__sec_counter_name(unsigned i);
/* After a load pass of the node's own zones: under trust anchors, refresh now every zone
 * that holds no version because its last refresh failed (its parent may be stored now). */
void fe__sec_loads_done(struct fe__sec *s);
/* Internals of secondary.c that the catalog consumer (catalog.c) uses on the main loop. */
int fe__sec_zone_parse(const char *spec, struct fe__sec_zone *z);    /* "APEX@ADDR@PORT" */
void fe__sec_assign_peer(struct fe__sec *s, struct fe__sec_zone *z); /* NOTIFY bucket */
int fe__sec_zone_begin(struct fe__sec *s, struct fe__sec_zone *z);   /* timer, first refresh */
void fe__sec_refresh_now(struct fe__sec_zone *z);
bool fe__sec_take_primary(struct fe__sec_zone *z, const struct fe__sec_zone *to);
bool fe__sec_is_removed(const struct fe__sec_zone *z);

/* ---- catalog zones, consumer side (catalog.c; RFC 9432, fe_catalog_* in xfr.h) ---------
 * A catalog zone is a secondary zone (transferred, validated, refreshed like any); after it
 * is stored, its members become secondary zones of this node (from the catalog's primary
 * unless the catalog names another: primaries.ext, or a group naming a federation member
 * with members.primary), and a zone that leaves it is removed from the store. A malformed
 * catalog is refused and the membership stays. The membership is kept in the store's meta
 * ("catalog <apex>"), so that a restart removes what left the catalog meanwhile. */
/* At start (main loop, after fe__sec_start began every zone): the membership of every
 * catalog from its stored version (or the one recorded). */
void fe__cat_start(struct fe__sec *s);
/* Catalog zone @cz got a new version (main loop). */
void fe__cat_changed(struct fe__sec_zone *cz);
/* A refresh of @z ended: when it left its catalog meanwhile, remove it now; true then. */
bool fe__cat_drop_if_leaving(struct fe__sec_zone *z);
/* From the configuration @c, again on SIGHUP: the groups of the federation definition
 * (members with a primary), this node's own zones and its signing key folder. */
void fe__cat_groups(struct fe__sec *s, const struct fe_conf *c);
/* One line per catalog for the counters log. */
void fe__cat_log(const struct fe__sec *s, const char *why);

/* Stop timers (a refresh running finishes; its result is dropped), close handles. */
void fe__sec_stop(struct fe__sec *s);
void fe__sec_free(struct fe__sec *s);

#endif
