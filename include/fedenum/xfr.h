/* include/fedenum/xfr.h — zone transfer, primary side: AXFR (RFC 5936) and IXFR (RFC 1995)
 * served to configured secondaries through the request pipeline's transfer handler
 * (fe_server_stream_handler, server.h), TSIG-signed (RFC 8945 §5.3.1).
 *
 * Who may transfer: a peer that signs its request with a key of the keyring AND whose
 * address is in the peer list. Everyone else is answered with one message and counted:
 *   no TSIG                    → REFUSED
 *   TSIG that does not verify  → NOTAUTH with the TSIG error (BADKEY, BADSIG: unsigned;
 *                                BADTIME, BADTRUNC: signed), fe_tsig_error_response
 *   address not in the list    → REFUSED, signed
 *   too many transfers running → REFUSED, signed
 *   over TLS below 1.3         → REFUSED, signed (RFC 9103 §9: XoT needs TLS 1.3)
 *   zone not held (or, with require_validated, not validated; or a secondary's copy
 *   marked expired, FE_ZONE_EXPIRED) → NOTAUTH, signed
 *
 * A transfer reads ONE store snapshot from its first message to its last (its own reader,
 * opened in the handler's open and kept until close): the secondary gets one version of
 * the zone whatever commits happen meanwhile. AXFR: the apex SOA, every RRset of the zone
 * with its RRSIGs (the apex SOA's RRSIG among them), the NSEC3 nodes, the SOA again; RRs
 * packed into messages of up to 64 KiB with name compression (fe_wire_builder), every
 * message signed. IXFR: the client's serial from the SOA in the authority section; the
 * current serial or newer → the current SOA alone; a journal chain from its serial to the
 * snapshot's → RFC 1995 §4 entry by entry; otherwise the AXFR form (§4 fallback).
 *
 * Threads: the handler runs in every worker thread at once; its state is read-only but for
 * the counters and the running-transfer count (atomics). */
#ifndef FEDENUM_XFR_H
#define FEDENUM_XFR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fedenum/server.h"

struct fe_store;
struct fe_tsig_keyring;
struct fe_server_acl;

struct fe_xfr_opts {
	const struct fe_tsig_keyring *keys; /* borrowed; keys accepted from peers */
	const struct fe_server_acl *peers;  /* borrowed; addresses that may transfer */
	uint32_t max_transfers;             /* running at once; 0 → 16 */
	uint32_t max_time_ms;   /* per transfer, then the connection closes; 0 → 600 s */
	bool require_validated; /* only zones marked FE_ZONE_VALIDATED, not BOGUS */
};

enum fe_xfr_counter {
	FE_XFR_AXFR = 0,         /* full transfers started (AXFR, and IXFR answered as AXFR) */
	FE_XFR_IXFR,             /* incremental transfers started */
	FE_XFR_IXFR_FALLBACK,    /* IXFR answered with the whole zone (journal too short) */
	FE_XFR_UPTODATE,         /* IXFR from the current serial: one SOA */
	FE_XFR_DONE,             /* transfers whose last message was handed to the connection */
	FE_XFR_MESSAGES,         /* messages sent */
	FE_XFR_BYTES,            /* octets sent */
	FE_XFR_REFUSED_UNSIGNED, /* no TSIG */
	FE_XFR_REFUSED_TSIG,     /* TSIG did not verify */
	FE_XFR_REFUSED_ADDRESS,  /* peer address not configured */
	FE_XFR_REFUSED_LIMIT,    /* max_transfers running */
	FE_XFR_NOTAUTH_ZONE,     /* zone not held */
	FE_XFR_FAILED,           /* ended by an error or the time limit */
	FE_XFR_NOTIFY_SENT,      /* NOTIFY messages sent (first tries and retries) */
	FE_XFR_NOTIFY_RETRIED,   /* of them retries */
	FE_XFR_NOTIFY_ACKED,     /* answered NOERROR with a verified TSIG */
	FE_XFR_NOTIFY_FAILED,    /* no answer after the last try, or an error answer */
	FE_XFR_REFUSED_TLS,      /* over DNS over TLS below TLS 1.3 (RFC 9103 §9) */
	FE_XFR__MAX
};
const char *fe_xfr_counter_name(enum fe_xfr_counter c);

struct fe_xfr;

/* @st and everything @opts points to are borrowed and must outlive the object (and the
 * server it is given to). FE_OK, FE_EINVAL (no keyring or peers), FE_ENOMEM. */
int fe_xfr_create(struct fe_store *st, const struct fe_xfr_opts *opts, struct fe_xfr **out);
void fe_xfr_destroy(struct fe_xfr *x); /* NULL is a no-op; after the server has stopped */

/* The transfer handler for fe_server_opts.transfer; lives as long as @x. */
const struct fe_server_stream_handler *fe_xfr_handler(struct fe_xfr *x);
/* Pipeline hooks for fe_server_opts.policy (`tsig` and `after`; `before` NULL):
 *  - TSIG step: AXFR/IXFR over TCP go on to the handler, which verifies and signs; any other
 *    signed query (e.g. a secondary's SOA query before a refresh) is verified with the
 *    keyring (replay cache included): answered as usual when it verifies, NOTAUTH (FORMERR
 *    for a malformed TSIG) when not;
 *  - after: signs the answer to such a query over the request MAC (RFC 8945 §5.3); an
 *    answer with no room left for the TSIG RR is cut to header and question with TC=1.
 * A policy engine that has its own hooks calls these from them. */
const struct fe_server_policy *fe_xfr_policy(struct fe_xfr *x);
enum fe_server_verdict fe_xfr_tsig_step(void *x, const struct fe_server_request *req,
                                        uint16_t *rcode);
size_t fe_xfr_sign_after(void *x, const struct fe_server_request *req, uint8_t *msg, size_t len,
                         size_t cap);

/* ---- NOTIFY (RFC 1996), src/xfr/notify.c ---------------------------------------------
 * A new version of a zone is announced to every secondary over UDP: opcode NOTIFY, AA, the
 * apex SOA question, TSIG-signed with @key. Retried with a doubling timeout (first_ms, then
 * 2×, 4×, ...) until a NOERROR answer whose TSIG verifies, or @tries sends (RFC 1996 §3.6).
 * A newer version of the same zone for the same secondary replaces a pending one. Runs on
 * @loop (one thread: the loop's); counted in the fe_xfr counters of @x. */
struct uv_loop_s;
struct fe_tsig_key;
struct sockaddr;
struct fe_xfr_notifier;

struct fe_xfr_notify_opts {
	const struct fe_tsig_key *key;        /* borrowed: signs every NOTIFY */
	const struct fe_listen_addr *targets; /* borrowed: the secondaries */
	size_t ntargets;
	unsigned tries;    /* 0 → 5 */
	uint32_t first_ms; /* 0 → 1,000 */
	/* borrowed; NULL, or one per target: the address (port 0) NOTIFY is sent from, so that
	 * a secondary that admits NOTIFY by its primary's address sees the address this node
	 * serves on (a node on one of several addresses of a host); AF_UNSPEC (or NULL): the
	 * kernel's choice */
	const struct sockaddr_storage *sources;
};

/* FE_OK, FE_EINVAL, FE_ENOMEM. Everything is borrowed and must outlive the notifier. */
int fe_xfr_notifier_create(struct uv_loop_s *loop, struct fe_xfr *x,
                           const struct fe_xfr_notify_opts *o, struct fe_xfr_notifier **out);
/* Announce serial @serial of zone @apex (wire name) to every secondary. FE_OK, FE_ENOMEM,
 * FE_EIO (no socket; logged). */
int fe_xfr_notify(struct fe_xfr_notifier *n, const uint8_t *apex, size_t apex_len, uint32_t serial);
/* The same, to every secondary but @except (address and port; NULL: none): the primary
 * this node took the zone from is not told about its own version (RFC 1996 §3.10 NOTIFY
 * goes down the tree). */
int fe_xfr_notify_except(struct fe_xfr_notifier *n, const uint8_t *apex, size_t apex_len,
                         uint32_t serial, const struct sockaddr *except);
/* What each secondary (target, in the configured order) has been told. */
struct fe_xfr_notify_peer {
	char host[64];
	uint16_t port;
	uint64_t sent, acked, failed, skipped; /* skipped: it is the zone's own primary */
	size_t pending;                        /* NOTIFYs waiting for its answer */
	int64_t last_sent_s, last_ack_s;       /* wall clock, 0: never */
	char last_zone[256];                   /* of the last NOTIFY sent */
	uint32_t last_serial;
	int64_t last_error_s;
	char last_error[200];
};
/* Copies at most @cap rows (one per target) into @out; returns their number. On the loop's
 * thread. */
size_t fe_xfr_notify_peers(const struct fe_xfr_notifier *n, struct fe_xfr_notify_peer *out,
                           size_t cap);
/* NOTIFY of zone @apex (wire) to target @t: the last serial sent and acknowledged, and the
 * last error (at most FE_XFR_PEER_ZONES_MAX zones per target). FE_OK, FE_ENOENT (never sent).
 * On the loop's thread. */
struct fe_xfr_notify_zone {
	uint32_t sent_serial, acked_serial;
	int64_t sent_s, acked_s; /* 0: never */
	bool pending;
	int64_t error_s;
	char error[200];
};
int fe_xfr_notify_zone_state(const struct fe_xfr_notifier *n, size_t t, const uint8_t *apex,
                             size_t apex_len, struct fe_xfr_notify_zone *out);
/* NOTIFYs still waiting for an answer. */
size_t fe_xfr_notify_pending(const struct fe_xfr_notifier *n);
/* Give up what is pending and close its handles (the loop must run once more to free them);
 * then destroy once the loop has run. NULL is a no-op for both. */
void fe_xfr_notifier_stop(struct fe_xfr_notifier *n);
void fe_xfr_notifier_destroy(struct fe_xfr_notifier *n);

/* Counters (FE_XFR__MAX entries) into @out. Thread-safe. */
void fe_xfr_counters(const struct fe_xfr *x, uint64_t *out);

/* What each configured secondary has asked of this node, for `fedenumctl peer list`: one
 * row per address (no port: a secondary's source port changes) that is in the peer list and
 * has sent a transfer request, at most FE_XFR_PEERS_MAX of them (later ones are counted in
 * the counters and logs only). Requests from addresses outside the peer list are never
 * tracked here, so a stranger cannot fill the table. */
#define FE_XFR_PEERS_MAX 64
struct fe_xfr_peer {
	char address[64];
	uint64_t axfr, ixfr, uptodate; /* transfers started by kind; SOA-only IXFR answers */
	uint64_t done;                 /* completed (last message handed to the connection) */
	uint64_t refused, failed;      /* refused (TSIG, limit, zone...); ended by an error */
	int64_t last_s;                /* last completed transfer (wall clock), 0: none */
	char last_zone[256];
	uint32_t last_serial;
	bool last_ixfr;
	int64_t last_error_s; /* last refusal or failure, 0: none */
	char last_error[200];
};
/* Copies at most @cap rows into @out; returns their number. Thread-safe. */
size_t fe_xfr_peers(struct fe_xfr *x, struct fe_xfr_peer *out, size_t cap);

/* The last completed transfer of zone @zone (presentation, final dot, lowercase) to the
 * peer @address (a row of fe_xfr_peers), for `zone show`: at most FE_XFR_PEER_ZONES_MAX zones
 * per peer are remembered. FE_OK, FE_ENOENT (none). Thread-safe. */
#define FE_XFR_PEER_ZONES_MAX 4096
struct fe_xfr_peer_zone {
	uint32_t serial;
	bool ixfr;
	int64_t at_s;
};
int fe_xfr_peer_zone(struct fe_xfr *x, const char *address, const char *zone,
                     struct fe_xfr_peer_zone *out);

/* ---- transfer in (secondary side), src/xfr/xfrin.c -------------------------------------
 * One refresh of one zone from its primary, blocking (run it on a thread-pool thread, never
 * on a query worker): a signed SOA query over TCP; if the primary's serial is newer than
 * the one held (RFC 1982), an IXFR from the held serial (RFC 1995) when @base exists, else
 * an AXFR (RFC 5936). Falls back to AXFR when the primary answers the IXFR with an error
 * rcode (NOTIMP, REFUSED, ...) or when its differences do not apply to @base; an IXFR
 * answered in AXFR form is taken as a whole zone. Every message: the ID and QR of the
 * answer, the question (first message required, later ones absent or the same), its TSIG
 * through the stream verifier (first and last message signed, at most 99 unsigned in a
 * row), the limits; the response must start with the apex SOA and end with the same SOA.
 * Over TLS (o->tls) every exchange is its own TLS connection; TSIG is still required
 * (RFC 9103 §9.3.3). Anything wrong: an error, @out may be half written, nothing else is
 * touched.
 * Result: a complete master file at @out (SOA first) for the caller to load as it loads
 * configured zones; with fe_xfrin_opts.apply, an incremental IXFR is instead handed to the
 * caller as one change set (struct fe_xfrin_delta) and no file is written for it. */
#include <sys/socket.h>

struct fe_xfrin_tls;
/* One RR of an IXFR's differences (borrowed): owner and RDATA uncompressed wire, class IN. */
struct fe_xfrin_rr {
	const uint8_t *owner;
	size_t owner_len;
	uint16_t type;
	uint32_t ttl;
	const uint8_t *rdata;
	uint16_t rdlen;
};

/* The net difference of an incremental IXFR from the held serial to the new one: every
 * sequence of the response (RFC 1995 §4) folded into one (an RR added by one sequence and
 * removed by a later one is in neither list). The old SOA is among the removed RRs, the new
 * one among the added. Borrowed for the duration of the apply call. */
struct fe_xfrin_delta {
	uint32_t serial_from, serial_to;
	const struct fe_xfrin_rr *removed;
	size_t removed_count;
	const struct fe_xfrin_rr *added;
	size_t added_count;
};

struct fe_xfrin_opts {
	const char *apex; /* presentation form with the final dot; borrowed */
	struct sockaddr_storage primary;
	socklen_t primary_len;
	const struct fe_tsig_key *key;  /* borrowed: signs the queries, verifies the answers */
	bool has_serial;                /* a version is held (and @base is its file) ... */
	uint32_t serial;                /* ... with this serial */
	uint64_t max_bytes;             /* per transfer, 0: none */
	uint64_t max_rrs;               /* per transfer, 0: none */
	uint64_t max_rrset_rrs;         /* records of one RRset (owner, type), 0: none */
	uint32_t max_time_ms;           /* the whole refresh, 0: 600 s */
	const struct fe_xfrin_tls *tls; /* borrowed; non-NULL: XFR over TLS (RFC 9103) */
	const char *tls_name;           /* the name the primary's certificate must carry; NULL: its
	                                   address (an IP SAN) */
	const int *cancel; /* may be NULL; read atomically: non-zero ends the refresh (FE_EAGAIN)
	                      within a quarter of a second */
	/* May be NULL. When set, an incremental IXFR is handed to @apply (on the calling thread)
	 * instead of being applied to @base, which is then not needed: FE_OK → the refresh
	 * succeeded (kind IXFR, nothing written to @out); FE_EVALIDATE → it fails with
	 * @why (no AXFR: the primary's data is wrong); anything else (FE_ENOTSUP: too complex
	 * for a change set, FE_ENOENT: does not apply to the held version, ...) → AXFR, logged
	 * with @why. */
	int (*apply)(void *arg, const struct fe_xfrin_delta *d, char *why, size_t why_cap);
	void *apply_arg;
	/* the address (port 0) the connection is made from, for a primary that admits its
	 * secondaries by address; NULL (or another family than @primary): the kernel's choice */
	const struct sockaddr *source;
	socklen_t source_len;
};

/* XFR over TLS (RFC 9103) as a client: one context for every TLS primary. TLS 1.3 only
 * (RFC 9103 §9), ALPN "dot" offered and required (§7.1), the primary's certificate verified
 * against @ca_file and the expected name; @cert_file/@key_file (both or neither) are this
 * node's client certificate for primaries that ask for one (mutual TLS, §9.3.3). */
struct fe_xfrin_tls;
struct fe_xfrin_tls_opts {
	const char *ca_file;   /* PEM CA certificate(s); required */
	const char *cert_file; /* PEM client certificate; NULL: none */
	const char *key_file;  /* its PEM private key */
};
/* FE_OK; FE_EINVAL (no CA, a certificate without key), FE_EIO (a file OpenSSL cannot use:
 * @err says which), FE_ENOMEM. Thread-safe once made (shared read-only). */
int fe_xfrin_tls_create(const struct fe_xfrin_tls_opts *o, struct fe_xfrin_tls **out, char *err,
                        size_t cap);
void fe_xfrin_tls_destroy(struct fe_xfrin_tls *t); /* NULL is a no-op */

enum fe_xfrin_kind { FE_XFRIN_UPTODATE = 0, FE_XFRIN_AXFR, FE_XFRIN_IXFR };

struct fe_xfrin_result {
	enum fe_xfrin_kind kind;
	uint32_t primary_serial;               /* from the SOA query */
	uint32_t serial;                       /* of the file written (or the held one: UPTODATE) */
	uint32_t refresh_s, retry_s, expire_s; /* timers of the primary's SOA (RFC 1035 §3.3.13) */
	uint64_t messages, bytes, rrs;         /* of the transfer taken; rrs: of the file written */
	char err[512];                         /* why it failed, for the log */
};

/* @base: the master file of the version held (NULL: none; then always AXFR). FE_OK (see
 * res->kind; UPTODATE writes nothing), FE_EIO (connection, file), FE_ETIMEOUT,
 * FE_EPERM (TSIG, refused), FE_EFORMAT (a message or sequence that breaks the rules),
 * FE_ERANGE (a limit), FE_ENOMEM. res->err says which. */
int fe_xfrin_run(const struct fe_xfrin_opts *o, const char *base, const char *out,
                 struct fe_xfrin_result *res);
const char *fe_xfrin_kind_str(enum fe_xfrin_kind k);

/* ---- catalog zones (RFC 9432, version 2; src/xfr/catalog.c) --------------------------
 *
 * A catalog zone lists member zones: `<unique-id>.zones.<catalog> PTR <member>`, with
 * `version.<catalog> TXT "2"` required. Properties read: `group.<id>.zones.<catalog> TXT`
 * (RFC 9432 §4.4.2) and the custom property `primaries.ext` (§4.4.3; BIND's name): at
 * `primaries.ext.<id>.zones.<catalog>` for one member, at `primaries.ext.<catalog>` for all,
 * a TXT "ADDR@PORT" or an A/AAAA (port 53). Every other record is ignored (§4: consumers
 * ignore what they do not use). A catalog is refused as a whole (FE_EFORMAT, FE_ERANGE for
 * the size limit) for: no version record, a version other than "2", several version records;
 * a unique id with several PTR records (a duplicate unique id) or a PTR whose RDATA is not
 * one valid name, is the root, or is the catalog or a name below it; a member zone listed
 * under two ids; a primaries property that is not ADDR@PORT / A / AAAA, or several of them
 * at one owner; a record outside the apex; more than @max_members member zones, or more
 * than 16 records per allowed member plus 256 (the work is bounded). Nothing is allocated
 * per record beyond the member and property tables. */
#define FE_CATALOG_MAX_MEMBERS 10000u

struct fe_catalog_member {
	char zone[FE_WIRE_NAME_MAX * 4 + 2]; /* presentation, lower case, final dot */
	uint8_t zone_wire[FE_WIRE_NAME_MAX]; /* lower case */
	size_t zone_wire_len;
	char id[64 * 4 + 1]; /* the unique id label, presentation */
	char group[256];     /* the first group property, "" none */
	char primary[96];    /* primaries.ext of this member, "ADDR@PORT"; "" none */
};

struct fe_catalog {
	uint32_t serial;
	char primary[96]; /* catalog-wide primaries.ext, "ADDR@PORT"; "" none */
	size_t n;
	struct fe_catalog_member *m; /* sorted by zone (canonical order of the wire names) */
	size_t ignored;              /* records read and ignored (other properties, RRSIG, ...) */
};

struct fe_catalog_parser;
/* A parser for the catalog at @apex (wire name). FE_OK, FE_ENOMEM, FE_EINVAL. */
int fe_catalog_parser_create(const uint8_t *apex, size_t apex_len, size_t max_members,
                             struct fe_catalog_parser **out);
/* One RR (uncompressed owner, uncompressed RDATA names as a zone stores them). FE_OK, or the
 * error that refuses the catalog (kept: every later call and finish return it). */
int fe_catalog_parser_add(struct fe_catalog_parser *p, const uint8_t *owner, size_t owner_len,
                          uint16_t type, const uint8_t *rdata, size_t rdlen);
/* The catalog read: FE_OK and *out filled (fe_catalog_free it), or the refusal with the reason
 * in @why. */
int fe_catalog_parser_finish(struct fe_catalog_parser *p, struct fe_catalog *out, char *why,
                             size_t cap);
void fe_catalog_parser_destroy(struct fe_catalog_parser *p); /* NULL is a no-op */
/* true once the catalog is refused (every later add is skipped). */
bool fe_catalog_parser_failed(const struct fe_catalog_parser *p);
/* The stored version of the catalog zone @apex, read in one snapshot of @st. FE_ENOENT when
 * not held; else as fe_catalog_parser_finish. */
int fe_catalog_from_store(struct fe_store *st, const uint8_t *apex, size_t apex_len,
                          size_t max_members, struct fe_catalog *out, char *why, size_t cap);
void fe_catalog_free(struct fe_catalog *c);
/* The member of @c whose zone is @zone_wire (lower case), or NULL. */
const struct fe_catalog_member *fe_catalog_find(const struct fe_catalog *c,
                                                const uint8_t *zone_wire, size_t len);

#endif
