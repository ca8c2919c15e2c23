/* include/fedenum/server.h — query service: answer engine, request pipeline, libuv
 * listeners, metrics.
 *
 * Layers:
 *  - the answer engine (fe_answer_*): one query in, one response out, over a store read
 *    snapshot. Pure computation, no I/O, no heap per query; unit-testable without sockets.
 *  - the network server (fe_server_*): one libuv loop per worker thread, each with its own
 *    SO_REUSEPORT UDP socket (batched recvmmsg/sendmmsg) and its own SO_REUSEPORT TCP
 *    listener per address, handled per RFC 7766 (see src/server/net.c for why);
 *  - between them, the request pipeline (fe_server_policy, fe_server_stream_handler): the
 *    steps every message goes through, with hooks for policy, TSIG and zone transfers.
 */
#ifndef FEDENUM_SERVER_H
#define FEDENUM_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fedenum/wire.h"

struct fe_store;
struct fe_store_reader;
struct sockaddr;

/* ---- counters (one set per worker, summed for reports) ------------------------------ */
enum fe_counter {
	FE_CNT_QUERIES = 0,
	FE_CNT_UDP,
	FE_CNT_TCP,
	FE_CNT_NOERROR,
	FE_CNT_NXDOMAIN,
	FE_CNT_SERVFAIL,
	FE_CNT_REFUSED,
	FE_CNT_FORMERR,
	FE_CNT_NOTIMP,
	FE_CNT_BADVERS,
	FE_CNT_DROPPED,     /* no answer sent (too short, QR=1) */
	FE_CNT_TRUNCATED,   /* TC=1 sent */
	FE_CNT_ACL_REFUSED, /* client outside the admission list */
	FE_CNT_OUT_OF_ZONE, /* REFUSED: name outside every held zone */
	FE_CNT_TCP_ACCEPTED,
	FE_CNT_TCP_REFUSED_LIMIT,
	FE_CNT_TCP_IDLE_CLOSED,
	FE_CNT_TCP_BAD_FRAME,      /* length 0, garbage, short message */
	FE_CNT_TCP_BACKLOG_CLOSED, /* client not reading: output backlog above the limit */
	FE_CNT_STORE_ERRORS,
	FE_CNT_TLS_HANDSHAKES,       /* DNS over TLS: handshakes completed */
	FE_CNT_TLS_HANDSHAKE_FAILED, /* failed, timed out, or not TLS at all */
	/* Queries by type (every query that parsed, admitted or not): FE_CNT_QT_FIRST ..
	 * FE_CNT_QT_OTHER, in the order of fe_counter_qtype_name. */
	FE_CNT_QT_A,
	FE_CNT_QT_AAAA,
	FE_CNT_QT_NAPTR,
	FE_CNT_QT_SRV,
	FE_CNT_QT_NS,
	FE_CNT_QT_SOA,
	FE_CNT_QT_DS,
	FE_CNT_QT_DNSKEY,
	FE_CNT_QT_TXT,
	FE_CNT_QT_CNAME,
	FE_CNT_QT_PTR,
	FE_CNT_QT_ANY,
	FE_CNT_QT_AXFR,
	FE_CNT_QT_IXFR,
	FE_CNT_QT_OTHER,
	/* Time from a query's arrival (the end of the receive call that brought it) to its
	 * answer handed to the kernel, as a histogram: answers with at most 50 µs, 100 µs, ...
	 * (FE_SERVER_LATENCY_BOUNDS_US), the last bucket unbounded; and the sum in µs. */
	FE_CNT_LAT_0,
	FE_CNT_LAT_1,
	FE_CNT_LAT_2,
	FE_CNT_LAT_3,
	FE_CNT_LAT_4,
	FE_CNT_LAT_5,
	FE_CNT_LAT_6,
	FE_CNT_LAT_7,
	FE_CNT_LAT_8,
	FE_CNT_LAT_INF,
	FE_CNT_LAT_SUM_US,
	FE_CNT__MAX
};
const char *fe_counter_name(enum fe_counter c);

#define FE_CNT_QT_FIRST FE_CNT_QT_A
/* Upper bounds of the latency buckets FE_CNT_LAT_0 .. FE_CNT_LAT_8, in microseconds. */
#define FE_SERVER_LATENCY_BOUNDS_US                               \
	{                                                         \
		50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000 \
	}
#define FE_SERVER_LATENCY_BUCKETS 9

/* The query type of counter FE_CNT_QT_* ("A", "NAPTR", ..., "other"); NULL for others. */
const char *fe_counter_qtype_name(enum fe_counter c);

/* Counter writes. Each set of counters has one writer (the worker thread that owns it, or
 * the caller's thread for a fe_answer_ctx of its own) and any number of readers in other
 * threads (fe_server_counters). Both sides use relaxed atomic accesses, so there is no data
 * race (C11 §5.1.2.4) and readers see each value whole, possibly a little old; a single
 * writer needs no read-modify-write, so an increment is a relaxed load plus a relaxed
 * store: plain MOVs on x86-64, no LOCK prefix, the same cost as `cnt[c]++`. The GCC/Clang
 * __atomic builtins are used on plain uint64_t so that callers keep `uint64_t[FE_CNT__MAX]`
 * arrays; ThreadSanitizer treats them as atomic accesses. */
static inline void fe_counter_add(uint64_t *cnt, enum fe_counter c, uint64_t n)
{
	__atomic_store_n(&cnt[c], __atomic_load_n(&cnt[c], __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}
static inline void fe_counter_inc(uint64_t *cnt, enum fe_counter c)
{
	fe_counter_add(cnt, c, 1);
}
/* Read counter @c of a set written by another thread. */
static inline uint64_t fe_counter_get(const uint64_t *cnt, enum fe_counter c)
{
	return __atomic_load_n(&cnt[c], __ATOMIC_RELAXED);
}

/* ---- answer engine ---------------------------------------------------------------- */

enum fe_transport { FE_TRANSPORT_UDP = 0, FE_TRANSPORT_TCP = 1 };

struct fe_answer_opts {
	uint16_t udp_max; /* our EDNS buffer size; 0 → FE_WIRE_UDP_DEFAULT */
	bool refuse_any;  /* qtype ANY → REFUSED? false: minimal answer (RFC 8482 style: HINFO not
	                     used; we answer NOTIMP-free with the first RRset) */
	/* Federation trust, set when trust anchors are configured:
	 *  - only zones whose record has FE_ZONE_VALIDATED and not FE_ZONE_BOGUS are held; any
	 *    other is skipped for the zone above it (SERVFAIL at that zone's delegation, or
	 *    its own NXDOMAIN when it no longer delegates), with EDE 6 (bogus) or 5 (not
	 *    validated) on a SERVFAIL;
	 *  - a zone whose sig_expire_s has passed gives SERVFAIL with EDE 7 for names in it;
	 *  - TTLs of signed RRsets are cut to the time left before sig_expire_s (RFC 4035
	 *    §5.3.3), and the additional section takes addresses only from validated held
	 *    zones (the one authoritative for the target), never glue or occluded data;
	 *  - AD=1 on answers when the query set DO or AD (RFC 6840 §5.7).
	 * false: every stored zone is served as it is, AD=0 (tests, benchmarks, --zone). */
	bool require_validated;
};

/* Per-call context: a reader whose snapshot is open (fe_store_reader_begin) and counters. */
struct fe_answer_ctx {
	struct fe_store_reader *reader;
	const struct fe_answer_opts *opts;
	uint64_t *counters; /* FE_CNT__MAX entries; written only with fe_counter_inc/add */
	/* Set by the engine on every answer (an output): under federation trust, when the query
	 * name itself lies at or below a delegation, in a held validated zone, to a zone this
	 * node does not hold at all (the SERVFAIL of "not held", no bogus zone passed over),
	 * the number of labels of the cut's owner; 0 otherwise. What on-demand peering starts
	 * from (struct fe_server_ondemand). */
	uint8_t unheld_cut;
};

/* Answer one DNS message @req (@req_len bytes) received over @transport into @resp
 * (@resp_cap bytes, at least 65535 for TCP, 4096 for UDP is enough). Returns the response
 * length, or 0 when nothing must be sent (drop). Never fails: store errors give SERVFAIL.
 * Semantics: closest enclosing held zone; positive answers; CNAME followed
 * inside held zones; NODATA/NXDOMAIN with the SOA; wildcards; DO=1 → RRSIGs and NSEC/NSEC3
 * proofs; RA=1, AA=0; REFUSED outside every held zone; SERVFAIL below a delegation to a zone
 * that is not held (never a referral). */
size_t fe_answer(struct fe_answer_ctx *ctx, const uint8_t *req, size_t req_len,
                 enum fe_transport transport, uint8_t *resp, size_t resp_cap);

/* Flags of fe_answer_parsed. */
#define FE_ANSWER_TSIG_CHECKED                                        \
	0x1u /* the pipeline's TSIG step accepted the request's TSIG: \
	        answer as if it were absent (no NOTAUTH) */

/* fe_answer for a message the caller has parsed already: @v and @q are what
 * fe_wire_query_parse(@req, @req_len, @q) gave. Same answers, same counters; the network
 * pipeline uses it so that a query is parsed once. */
size_t fe_answer_parsed(struct fe_answer_ctx *ctx, const uint8_t *req, size_t req_len,
                        enum fe_wire_verdict v, const struct fe_wire_query *q, unsigned flags,
                        enum fe_transport transport, uint8_t *resp, size_t resp_cap);

/* ---- answers resolved on demand (answer_cache.c) -----------------------------------
 * An answer validated elsewhere (on-demand peering), as kept in the store's on-demand cache
 * (store.h): every integer big-endian,
 *   u64 expires_s   wall-clock second at which it stops being served (the store's sweep key)
 *   u64 stored_s    wall-clock second at which it was stored (TTLs count down from it)
 *   u8  rcode       NOERROR or NXDOMAIN
 *   u8  flags       FE_ODC_SECURE: validated under the federation's anchors (only such
 *                   answers are stored today)
 *   u16 rr_count
 *   rr_count × { u8 section (0 answer, 1 authority), owner (uncompressed wire name),
 *                u16 type, u16 class, u32 ttl, u16 rdlen, rdata (names uncompressed) } */
#define FE_ODC_HDR_LEN 20u
#define FE_ODC_SECURE  0x01u

/* Key of the cache entry for (@qname, @qtype) into @key (FE_WIRE_KEY_MAX + 2 bytes): the
 * canonical key of the name (fe_wire_name_key, case-folded) then the type. The length, or
 * a negative fe_err (FE_EFORMAT). */
int fe_odc_key(const uint8_t *qname, size_t qname_len, uint16_t qtype, uint8_t *key, size_t cap);

/* Answer @q from the cache entry @val (@len bytes) at wall-clock second @now_s, into @resp
 * (@resp_cap; over UDP the client's limit is applied here): header and question as the
 * engine writes them, the stored rcode, the RRs with TTLs counted down from stored_s, RRSIGs
 * and NSEC/NSEC3 only when the query set DO (or asked for that type), AD=1 when the entry is
 * secure and the query set DO or AD (RFC 6840 §5.7), TC=1 when it does not fit. Returns the
 * length; 0 when the entry is expired or malformed (the caller treats it as a miss). No
 * heap; counts nothing (the caller does). */
size_t fe_answer_from_odc(const struct fe_answer_opts *opts, const struct fe_wire_query *q,
                          enum fe_transport transport, const uint8_t *val, size_t len,
                          int64_t now_s, uint8_t *resp, size_t resp_cap);

/* ---- network server --------------------------------------------------------------- */

/* ---- request pipeline (src/server/pipeline.c) ----------------------------------------
 * Every DNS message a listener reads (UDP datagram, or one length-framed TCP message) goes
 * through the same steps, in the worker thread that read it:
 *
 *   admit     opts.acl: outside the list → REFUSED (counted ACL_REFUSED), nothing else runs
 *   parse     fe_wire_query_parse, once
 *   before    opts.policy->before (messages that parsed, and only those)
 *   tsig      opts.policy->tsig for queries that carry a TSIG RR
 *   handler   AXFR/IXFR over TCP → opts.transfer; everything else → the answer engine
 *   after     opts.policy->after on every message a handler produced
 *   emit      UDP: sendmmsg batch; TCP: the connection's framing queue (frame.c)
 *
 * With every hook NULL (the default) the pipeline answers exactly as fe_answer does: TSIG
 * gives NOTAUTH and AXFR/IXFR give REFUSED, over UDP and TCP alike.
 *
 * Hooks are borrowed: the structures, and whatever @state points to, must outlive the
 * server. They are called from every worker thread at once, so @state must be read-only or
 * synchronized by its owner. They must not block (they run on the worker's event loop) and
 * must not keep @req or anything it points to after they return. */

/* What a hook sees of one request. Every pointer is valid during the call only. */
struct fe_server_request {
	const struct sockaddr *peer; /* client address */
	enum fe_transport transport; /* UDP, or TCP (any length-framed stream) */
	unsigned worker;             /* index of the worker thread (0..workers-1) */
	const uint8_t *msg;          /* the message as received; NULL for stream messages */
	size_t msg_len;
	const struct fe_wire_query *q;  /* its parse; NULL for stream messages */
	struct fe_store_reader *reader; /* the worker's open snapshot; NULL for stream messages */
	/* DNS over TLS with a client CA: the verified client certificate's name (its first DNS
	 * subjectAltName, else its CN); NULL otherwise (UDP, TCP, TLS without client CA). */
	const char *tls_client;
	/* The tsig step passed: a hook verified the query's TSIG (set for `after`). */
	bool tsig_checked;
	/* DNS over TLS: the session's protocol version (0x0304: TLS 1.3); 0 for UDP and TCP. */
	uint16_t tls_version;
	/* Private to the pipeline: what fe_server_park needs (NULL: the request cannot be
	 * parked). */
	const void *park;
};

/* Longest client certificate name kept (bytes, with the NUL): longer ones are ignored. */
#define FE_SERVER_TLS_NAME_MAX 256

enum fe_server_verdict {
	FE_SERVER_PASS = 0,  /* go on to the next step */
	FE_SERVER_RCODE = 1, /* answer with *rcode (header and question only, like REFUSED) */
	FE_SERVER_DROP = 2,  /* no answer: UDP sends nothing; TCP closes the connection */
};

struct fe_server_policy {
	void *state; /* passed back to each callback */
	/* Before any handler. NULL: PASS. Counted like the answer it leads to. */
	enum fe_server_verdict (*before)(void *state, const struct fe_server_request *req,
	                                 uint16_t *rcode);
	/* TSIG step (RFC 8945), for queries that carry a TSIG RR. PASS: the TSIG was checked,
	 * the query goes on to its handler as if it had none (the handler, or `after`, signs
	 * the answer; req->tsig_checked is set); RCODE: answer *rcode (e.g. NOTAUTH), and
	 * `after` sees that header-only answer (with tsig_checked false) and may replace it,
	 * e.g. with a TSIG error answer (RFC 8945 §5.3.2). NULL: NOTAUTH, as without keys. */
	enum fe_server_verdict (*tsig)(void *state, const struct fe_server_request *req,
	                               uint16_t *rcode);
	/* After a handler, on each message it produced (an answer, or every message of a
	 * stream), before it is sent. May rewrite the message in place, up to @cap bytes
	 * (the buffer: over UDP the client's limit, fe_wire_udp_limit, may be lower, and a
	 * hook that grows an answer must keep within it). Returns the new length; 0 drops it
	 * (UDP: nothing sent; TCP: the connection closes). Counters are those of the answer
	 * before the hook. NULL: the message goes out as it is. */
	size_t (*after)(void *state, const struct fe_server_request *req, uint8_t *msg, size_t len,
	                size_t cap);
};

/* A handler that answers one request with a sequence of messages (an AXFR or IXFR response,
 * RFC 5936 §2.2), over TCP only. The framing layer pulls the messages one at a time as the
 * client reads them (back-pressure): at most tcp_max_pipeline messages and
 * tcp_max_out_bytes bytes are ever queued for a connection, so a stream of any length costs
 * bounded memory. While a stream runs, the connection reads no further queries; they are
 * served after it ends, in order. A connection's idle timeout and drain apply as to any
 * answer: a client that stops reading is closed. */
struct fe_server_stream_handler {
	void *state;
	/* Start a stream for @req. On FE_OK *stream is the handler's (may be NULL), and next()
	 * and then close() will be called with it. An error (negative fe_err) answers SERVFAIL
	 * and close() is not called. @req is valid during the call only: copy what is needed
	 * (the question, the ID). The worker's snapshot (@req->reader) is closed after the
	 * call: a stream that must read one zone version throughout keeps its own reader.
	 * Counted as one query (queries, tcp); the stream's messages are not counted by rcode.
	 * Threads: open, next and close of one stream run in the same worker thread (the
	 * connection's), never two at a time; different streams run in different workers. */
	int (*open)(void *state, const struct fe_server_request *req, void **stream);
	/* Write the next message (DNS message, no length prefix) into @buf (@cap ≥ 65535) and
	 * set *len. FE_OK with *len = 0: the stream has ended. A negative fe_err ends it and
	 * closes the connection (logged). */
	int (*next)(void *state, void *stream, uint8_t *buf, size_t cap, size_t *len);
	/* Called exactly once per opened stream: after its end, an error, or when the
	 * connection closes first (client gone, idle, server stop). Frees the stream. */
	void (*close)(void *state, void *stream);
};

/* ---- on-demand peering (pipeline.c) ----------------------------------------------------
 * A name below a delegation to a member zone this node does not hold may be answered from
 * elsewhere (docs/architecture.md "On-demand peering"). After the answer engine, when
 * fe_answer_ctx.unheld_cut is set, the pipeline calls `miss`, which may answer at once (a
 * cached answer), keep the engine's SERVFAIL, or defer: the request is parked (UDP: the
 * client's address, the socket and the query; TCP/TLS: the connection, kept open) and the
 * hook hands its ticket to whatever resolves the name. fe_server_resume(ticket, status),
 * from any thread, wakes the worker, which runs the request through the pipeline again
 * (a fresh store snapshot; `miss` sees @resumed) and sends that answer. Held zones never
 * reach the hook: their cost is the one store of unheld_cut per query. */
struct fe_server_ticket;

enum fe_server_od_verdict {
	FE_SERVER_OD_KEEP = 0,   /* the engine's SERVFAIL stands */
	FE_SERVER_OD_ANSWER = 1, /* an answer was written at @resp, *len bytes */
	FE_SERVER_OD_DEFER = 2,  /* @ticket taken: fe_server_resume will be called with it once */
};

struct fe_server_ondemand {
	void *state;
	/* @req: as for the hooks (req->reader is the worker's open snapshot); @cut_labels: the
	 * labels of the cut (fe_answer_ctx.unheld_cut); @resumed: NULL on the first pass, else
	 * the status given to fe_server_resume. To defer, the hook takes a ticket with
	 * fe_server_park(@req) and returns DEFER; DEFER without a ticket is KEEP. @resp holds
	 * the engine's answer (*len bytes) and may be overwritten (up to @cap, the client's
	 * UDP limit is the hook's to respect). Runs in worker threads, must not block. The
	 * `after` hook (policy) runs on whatever answer results, as on any answer. */
	enum fe_server_od_verdict (*miss)(void *state, const struct fe_server_request *req,
	                                  unsigned cut_labels, const int *resumed, uint8_t *resp,
	                                  size_t *len, size_t cap);
};

/* In `miss`, first pass only: park @req (a copy of the query and the client's address and
 * socket, or the connection) and return its ticket, which the hook must hand to
 * fe_server_resume exactly once after returning DEFER. NULL when it cannot be parked (a
 * resumed pass, FE_SERVER_PARK_MAX reached, out of memory). At most one per call. */
struct fe_server_ticket *fe_server_park(const struct fe_server_request *req);

/* Hand a deferred request back to its worker with @status (passed to `miss` as *resumed).
 * Any thread; exactly once per deferred ticket, before fe_server_stop. */
void fe_server_resume(struct fe_server_ticket *t, int status);
/* The parked request's question (name as received, type), for the resolver. */
const uint8_t *fe_server_ticket_qname(const struct fe_server_ticket *t);
uint16_t fe_server_ticket_qtype(const struct fe_server_ticket *t);

/* Requests parked per worker at most (the hook's own bounds are usually lower). */
#define FE_SERVER_PARK_MAX 4096u

struct fe_listen_addr {
	char host[64]; /* numeric IPv4 or IPv6 */
	uint16_t port; /* 0: ephemeral (the bound port is reported) */
};

struct fe_server_opts {
	struct fe_listen_addr *listen;
	size_t listen_count;
	unsigned workers;             /* 0 → number of cores */
	uint32_t tcp_idle_timeout_ms; /* RFC 7766 §6.2.3; default 10,000 */
	uint32_t tcp_max_clients;     /* per server; default 1,000 */
	uint32_t tcp_max_pipeline;    /* queries in flight per connection; default 100 */
	uint32_t tcp_max_out_bytes;   /* unsent answer bytes per connection before close; 256 KiB */
	struct fe_answer_opts answer;
	const char *ready_file; /* written once every listener is up: "udp|tcp|tls HOST PORT" */
	/* Admission list (borrowed, must outlive the server); NULL admits every client. */
	const struct fe_server_acl *acl;
	/* Request pipeline hooks (see above; borrowed, must outlive the server). NULL: none. */
	const struct fe_server_policy *policy;
	/* On-demand peering (above; borrowed, must outlive the server). NULL: off. */
	const struct fe_server_ondemand *ondemand;
	/* Handler for AXFR/IXFR over TCP. NULL: REFUSED, as over UDP. */
	const struct fe_server_stream_handler *transfer;
	/* DNS over TLS (RFC 7858, src/server/net_tls.c): listeners, none when tls_listen_count
	 * is 0. Same pipeline, limits and counters as TCP (tcp_* above, tcp_max_clients counts
	 * both); the pipeline sees transport TCP. tls_cert: PEM chain; tls_key: PEM private key
	 * (refused when readable by group or others); tls_client_ca: PEM CA file, NULL: no
	 * client certificates; with it a client must present one that verifies. */
	struct fe_listen_addr *tls_listen;
	size_t tls_listen_count;
	const char *tls_cert, *tls_key, *tls_client_ca;
	uint32_t tls_handshake_timeout_ms; /* 0 → tcp_idle_timeout_ms */
};

struct fe_server;

/* Bind every listener and start the worker threads. Errors: FE_EIO (bind failed; logged
 * with the address), FE_ENOMEM. @st is borrowed and must outlive the server. The process
 * must ignore SIGPIPE (libuv writes with write(2); a client that resets would kill it). */
int fe_server_start(struct fe_store *st, const struct fe_server_opts *opts, struct fe_server **out);
/* Stop accepting, finish in-flight TCP answers (up to @drain_ms), join workers, free.
 * NULL is a no-op. */
void fe_server_stop(struct fe_server *srv, uint32_t drain_ms);
/* Sum of all workers' counters into @out (FE_CNT__MAX entries). Thread-safe (approximate). */
void fe_server_counters(struct fe_server *srv, uint64_t *out);
/* Bound port of listener @i (after start; useful with port 0). */
uint16_t fe_server_port(struct fe_server *srv, size_t i);
/* Bound port of TLS listener @i (after start). */
uint16_t fe_server_tls_port(struct fe_server *srv, size_t i);
/* Write the ready file now (same format as opts.ready_file, written atomically by rename).
 * For callers that start serving first and declare readiness later (fedenumd: after the
 * initial zone loads). FE_OK / FE_EIO (logged). */
int fe_server_write_ready_file(struct fe_server *srv, const char *path);
/* Number of worker threads actually started. */
unsigned fe_server_workers(struct fe_server *srv);
/* Counters of worker @i alone into @out (FE_CNT__MAX entries). Thread-safe (approximate). */
void fe_server_worker_counters(struct fe_server *srv, unsigned i, uint64_t *out);

/* Parse "ADDR@PORT" (IPv6 as "::1@53"; "ADDR" alone means port 53) into @out.
 * FE_OK or FE_ESYNTAX (not a numeric address, port not in 0..65535). */
int fe_server_listen_parse(const char *s, struct fe_listen_addr *out);

/* "queries=12 udp=10 ..." for every counter, into @buf (always NUL-terminated when
 * @cap > 0). Returns the length the full text needs (like snprintf). */
size_t fe_server_counters_format(const uint64_t *counters, char *buf, size_t cap);

/* ---- admission list (net_acl.c) ----------------------------------------------------
 * A set of address prefixes (RFC 4632 CIDR for IPv4, RFC 4291 §2.3 prefixes for IPv6).
 * Built before the server starts; afterwards read-only, shared by all workers without
 * locking. An empty list admits nobody. IPv4-mapped IPv6 sources (::ffff:a.b.c.d) are
 * matched against the IPv4 entries. */
struct fe_server_acl;

int fe_server_acl_create(struct fe_server_acl **out);  /* FE_OK / FE_ENOMEM */
void fe_server_acl_destroy(struct fe_server_acl *acl); /* NULL is a no-op */
/* Add "ADDR/LEN" or "ADDR" (a host: /32 or /128). Host bits beyond LEN must be zero.
 * FE_OK, FE_ESYNTAX (not a prefix), FE_ENOMEM. */
int fe_server_acl_add(struct fe_server_acl *acl, const char *prefix);
/* Whether source address @sa (AF_INET or AF_INET6; anything else: false) is admitted. */
bool fe_server_acl_allows(const struct fe_server_acl *acl, const struct sockaddr *sa);
size_t fe_server_acl_count(const struct fe_server_acl *acl);

#endif
