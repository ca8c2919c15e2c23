/* include/fedenum/ctl.h — the control channel of a node: a UNIX socket speaking a
 * versioned JSON protocol (docs/control.md), the node's commands over it, and a Prometheus
 * text endpoint (docs/control.md, "Metrics").
 *
 * Protocol, version 1: one connection, one request, one response, then the server closes.
 * The request is one JSON object on one line (at most FE_CTL_MAX_REQUEST_BYTES, ended by
 * "\n" or by the client's end of writing):
 *     {"version":1,"command":"status","args":{...}}
 * and the response one JSON object and "\n":
 *     {"version":1,"ok":true,"result":{...}}
 *     {"version":1,"ok":false,"code":"unknown-command","error":"..."}
 * Access control is the socket's file mode (0660) and owner (the daemon's user and group):
 * whoever may connect may run every command. For remote administration the same protocol
 * runs over TCP with mutual TLS (fe_ctl_tls_opts): only clients whose certificate verifies
 * against the configured CA (and, when a list is given, whose certificate name is on it).
 *
 * Threads: the servers (control and metrics) run on the caller's libuv loop and every
 * function here is called on that loop's thread; fe_ctl_call is a blocking client for any
 * thread. Nothing blocks the loop: reads and writes are non-blocking, each connection has a
 * deadline, and the number of connections is bounded.
 * Ownership: handles are freed in their close callbacks (libuv); _stop / _destroy return at
 * once and the memory goes when the loop has run the callbacks. json_t values passed to
 * fe_ctl_reply_ok are stolen.
 * Errors: FE_OK or a negative enum fe_err. */
#ifndef FEDENUM_CTL_H
#define FEDENUM_CTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "fedenum/server.h"

#define FE_CTL_PROTO_VERSION     1
#define FE_CTL_MAX_REQUEST_BYTES 65536u

/* ---- control server (ctl_server.c) ---------------------------------------------------- */

/* What the control server counts (fe_ctl_server_counters; "ctl_*" in stats and metrics). */
enum fe_ctl_counter {
	FE_CTL_CNT_CONNECTIONS = 0, /* accepted */
	FE_CTL_CNT_REQUESTS,        /* complete requests read */
	FE_CTL_CNT_OK,              /* answered ok:true */
	FE_CTL_CNT_OVERSIZED,       /* no end of line within FE_CTL_MAX_REQUEST_BYTES */
	FE_CTL_CNT_MALFORMED,       /* not JSON, not an object, wrong member types */
	FE_CTL_CNT_BAD_VERSION,     /* a protocol version other than FE_CTL_PROTO_VERSION */
	FE_CTL_CNT_UNKNOWN_COMMAND,
	FE_CTL_CNT_BAD_ARGS,   /* a known command with arguments it refuses */
	FE_CTL_CNT_FAILED,     /* a command that could not be done (store error, reload refused) */
	FE_CTL_CNT_TIMEOUTS,   /* no complete request, or the response not taken, in time */
	FE_CTL_CNT_BUSY,       /* connections refused: max_clients open */
	FE_CTL_CNT_TLS_FAILED, /* remote: TLS handshake failed (no or bad certificate, ...) */
	FE_CTL_CNT_FORBIDDEN,  /* remote: a verified certificate whose name is not allowed */
	FE_CTL_CNT__MAX
};
const char *fe_ctl_counter_name(enum fe_ctl_counter c);

/* The error classes of a response ("code" member), one counter each. */
enum fe_ctl_error {
	FE_CTL_E_OVERSIZED = 0, /* "oversized" */
	FE_CTL_E_MALFORMED,     /* "malformed" */
	FE_CTL_E_VERSION,       /* "version" */
	FE_CTL_E_UNKNOWN,       /* "unknown-command" */
	FE_CTL_E_ARGS,          /* "bad-arguments" */
	FE_CTL_E_FAILED,        /* "failed" */
	FE_CTL_E_BUSY,          /* "busy" */
	FE_CTL_E_TIMEOUT,       /* "timeout" */
	FE_CTL_E_FORBIDDEN      /* "forbidden" */
};
const char *fe_ctl_error_code(enum fe_ctl_error e);

struct fe_ctl_server;
struct fe_ctl_req; /* one request; lives until it is answered (or the server stops) */

struct fe_ctl_command {
	const char *name; /* "status", "zone.list", ... */
	/* Called on the loop thread with the request's "args" (an object, borrowed; {} when
	 * absent). Must answer @req exactly once, now or later, with fe_ctl_reply_*. */
	void (*run)(struct fe_ctl_req *req, json_t *args, void *arg);
};

/* Remote administration: TCP with mutual TLS (TLS 1.3 only). */
struct fe_ctl_tls_opts {
	struct fe_listen_addr addr; /* port 0: any free port (fe_ctl_server_port) */
	const char *cert;           /* PEM chain of this node */
	const char *key;            /* PEM private key; refused when group or others may read it */
	const char *client_ca;      /* PEM CA: a client certificate must verify against it */
	char *const *clients;       /* allowed certificate names (first DNS SAN, else CN) */
	size_t nclients;            /* 0: every certificate the CA verifies */
};

struct fe_ctl_server_opts {
	const char *path; /* the socket; a stale one (nobody accepting) is replaced */
	const struct fe_ctl_tls_opts *tls; /* non-NULL: listen on TCP with TLS instead of @path */
	bool set_owner; /* chown the socket to uid:gid (a daemon started as root) */
	unsigned uid, gid;
	uint32_t timeout_ms;  /* per connection: the whole request, and the response taken */
	uint32_t max_clients; /* open connections; more are answered "busy" and closed */
	const struct fe_ctl_command *commands; /* borrowed, must outlive the server */
	size_t ncommands;
	void *arg; /* passed to every command */
};

/* Create the socket (mode 0660), listen on @loop. FE_OK; FE_EBUSY (a live server answers on
 * @path); FE_EIO (cannot bind); FE_ENOMEM. On error @err (@errcap bytes) says what and why,
 * for the caller to log (a missing default socket is not an error for fedenumd). */
int fe_ctl_server_start(uv_loop_t *loop, const struct fe_ctl_server_opts *o,
                        struct fe_ctl_server **out, char *err, size_t errcap);
/* The TCP port of a remote (TLS) control server; 0 for a UNIX socket. */
uint16_t fe_ctl_server_port(const struct fe_ctl_server *s);
/* Close the listener and every connection, remove the socket file. NULL is a no-op.
 * Requests not answered yet are dropped: their owners must not answer them afterwards. */
void fe_ctl_server_stop(struct fe_ctl_server *s);
/* The counters (FE_CTL_CNT__MAX entries). */
void fe_ctl_server_counters(const struct fe_ctl_server *s, uint64_t *out);

/* Answer @req: ok with @result (an object, stolen; NULL: {}), or an error of class @e. */
void fe_ctl_reply_ok(struct fe_ctl_req *req, json_t *result);
void fe_ctl_reply_error(struct fe_ctl_req *req, enum fe_ctl_error e, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* ---- client (ctl_client.c) ----------------------------------------------------------- */

/* Send {"version":1,"command":@command,"args":@args} (args borrowed; NULL: none) to the
 * control socket @path and read the response within @timeout_ms. FE_OK: *response is the
 * response object (caller json_decref's it; check its "ok"). Otherwise @err (may be NULL)
 * says why: FE_ENOENT (no socket), FE_EPERM (no permission on it), FE_EIO (refused,
 * connection lost, not JSON), FE_ETIMEOUT. */
int fe_ctl_call(const char *path, const char *command, json_t *args, uint32_t timeout_ms,
                json_t **response, char *err, size_t errcap);

/* A remote node: ADDR@PORT over TLS, this client's certificate and key, the CA that signed
 * the node's certificate, and the name the node's certificate must carry (NULL: its address,
 * as an IP subjectAltName). */
struct fe_ctl_remote {
	struct fe_listen_addr addr;
	const char *cert, *key, *ca, *name;
};
/* fe_ctl_call over TLS to @r. Same results; a TLS failure (certificate refused either way)
 * is FE_EPERM with OpenSSL's reason in @err. */
int fe_ctl_call_remote(const struct fe_ctl_remote *r, const char *command, json_t *args,
                       uint32_t timeout_ms, json_t **response, char *err, size_t errcap);

/* ---- the node's commands (ctl_node.c) ------------------------------------------------- */

/* Outcome of one zone load pass (at start or a reload). */
struct fe_ctl_load_outcome {
	bool config_ok; /* false: the reload was refused (configuration errors, logged) */
	unsigned zones; /* configured zones */
	unsigned loaded, unchanged, failed, refused;
	unsigned rejected; /* failed validation (trust) */
	unsigned suspended, restored;
};

/* One counter of another module (the policy engine's), for `stats` and the metrics page:
 * in `stats` under result.policy.@group.@key, on the page as @family{@labels}. Rows of one
 * family come together. */
struct fe_ctl_extra {
	const char *family; /* "fedenum_policy_decisions_total" (static) */
	const char *help;   /* its HELP text (static) */
	const char *group;  /* "decisions" (static) */
	char key[64];       /* "not-found/bgcf" */
	char labels[160];   /* cause="not-found",action="bgcf" (label values escaped) */
	uint64_t value;
};
#define FE_CTL_EXTRA_MAX 192

/* What the node tells the commands about itself (strings and listen copied; st and srv
 * borrowed, valid until destroy). */
struct fe_ctl_node_info {
	const char *version;
	struct fe_store *st;
	struct fe_server *srv;
	const struct fe_listen_addr *listen; /* configured at start (the server's order) */
	size_t nlisten;
	const char *store_path;
	bool validating;     /* trust anchors configured */
	const char *anchors; /* their description ("" without) */
	/* Start a reload pass (what SIGHUP does). Returns 0 (started), 1 (queued after the
	 * running pass), -1 (cannot: stopping, or failed to start). The pass ends with
	 * fe_ctl_node_loads_done. */
	int (*reload)(void *arg);
	void *reload_arg;
	/* Zone transfer in: one status line for zone @apex (wire form) if this node is one of
	 * its secondaries (primary, serial, last success, next refresh, last error), returning
	 * its length, 0 otherwise. Called on the control loop's thread. May be NULL. */
	size_t (*secondary_status)(void *arg, const uint8_t *apex, size_t apex_len, char *buf,
	                           size_t cap);
	void *secondary_arg;
	/* Zone transfer out: this node's secondaries of zone @apex (wire form; @zname its
	 * presentation form, final dot) with what each was told and sent (a new JSON array),
	 * or NULL when this node has none. Called on the control loop's thread. May be NULL. */
	json_t *(*primary_peers)(void *arg, const uint8_t *apex, size_t apex_len,
	                         const char *zname);
	void *primary_arg;
	/* Counters of other modules: fills at most @cap (FE_CTL_EXTRA_MAX) rows, returns their
	 * number. Called on the control loop's thread. May be NULL. */
	size_t (*extra_counters)(void *arg, struct fe_ctl_extra *rows, size_t cap);
	void *extra_arg;
};

struct fe_ctl_node;
int fe_ctl_node_create(const struct fe_ctl_node_info *info, struct fe_ctl_node **out);
/* Answers pending reload requests with an error ("stopping"); NULL is a no-op. Call before
 * fe_ctl_server_stop. */
void fe_ctl_node_destroy(struct fe_ctl_node *n);
/* The commands: status, zone.list, zone.show, stats, reload (with the node as their arg). */
const struct fe_ctl_command *fe_ctl_node_commands(size_t *n);
/* Where the control server and the metrics endpoint are (for stats and status); either may
 * be NULL. */
struct fe_ctl_metrics;
void fe_ctl_node_attach(struct fe_ctl_node *n, struct fe_ctl_server *ctl,
                        struct fe_ctl_metrics *metrics);
/* The remote administration server (TCP, mutual TLS), for status and stats; NULL: none. */
void fe_ctl_node_attach_remote(struct fe_ctl_node *n, struct fe_ctl_server *remote);
/* A load pass ended (the initial one with @is_reload false): totals for the metrics, and the
 * answer to the reload requests waiting for it. */
void fe_ctl_node_loads_done(struct fe_ctl_node *n, const struct fe_ctl_load_outcome *o,
                            bool is_reload);
/* The Prometheus text exposition (version 0.0.4) of the node's metrics, malloc'd into *out
 * (caller frees). FE_OK / FE_ENOMEM / FE_EIO (store). */
int fe_ctl_node_metrics(struct fe_ctl_node *n, char **out, size_t *len);

/* ---- metrics endpoint (ctl_metrics.c, ctl_http.c) ------------------------------------- */

/* A minimal HTTP/1.0 and 1.1 request reader for GET /metrics (bounded: FE_CTL_HTTP_MAX
 * bytes of head, no body). */
#define FE_CTL_HTTP_MAX 8192u
enum fe_ctl_http_status {
	FE_CTL_HTTP_MORE = 0, /* the head is not complete yet */
	FE_CTL_HTTP_OK = 200,
	FE_CTL_HTTP_BAD = 400,      /* malformed request line or header */
	FE_CTL_HTTP_NOTFOUND = 404, /* a path other than /metrics */
	FE_CTL_HTTP_METHOD = 405,   /* a method other than GET or HEAD */
	FE_CTL_HTTP_TOOBIG = 431,   /* head above FE_CTL_HTTP_MAX */
	FE_CTL_HTTP_VERSION = 505   /* not HTTP/1.0 or HTTP/1.1 */
};
/* Read the request head in @buf (@len bytes received so far). *is_head: the method is HEAD
 * (the answer, whatever its status, has no body). Never reads outside @buf; any byte sequence
 * is safe. */
enum fe_ctl_http_status fe_ctl_http_parse(const char *buf, size_t len, bool *is_head);
/* Reason phrase of a status. */
const char *fe_ctl_http_reason(enum fe_ctl_http_status s);

struct fe_ctl_metrics_opts {
	struct fe_listen_addr addr; /* numeric; port 0: any free port */
	uint32_t timeout_ms;        /* per connection */
	uint32_t max_clients;
	struct fe_ctl_node *node; /* renders the page */
};
/* Listen on TCP @o->addr. FE_OK, FE_EIO (cannot bind: logged), FE_ENOMEM. */
int fe_ctl_metrics_start(uv_loop_t *loop, const struct fe_ctl_metrics_opts *o,
                         struct fe_ctl_metrics **out);
void fe_ctl_metrics_stop(struct fe_ctl_metrics *m); /* NULL is a no-op */
/* The bound port. */
uint16_t fe_ctl_metrics_port(const struct fe_ctl_metrics *m);
/* Requests answered per class: [0] 200, [1] 4xx/5xx, [2] timed out or refused. */
void fe_ctl_metrics_counters(const struct fe_ctl_metrics *m, uint64_t out[3]);

#endif
