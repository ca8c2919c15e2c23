/* src/server/net_int.h — internals of the network server (net*.c). Not a public contract.
 *
 * Threads: one struct fe__worker per worker thread; everything inside a worker (its loop,
 * sockets, connections, counters, store reader) is touched by that thread only, except:
 *  - counters[] are read by fe_server_counters from other threads (relaxed atomics on both
 *    sides: fe_counter_inc / fe_counter_get, server.h);
 *  - srv->tcp_clients is shared by all workers (atomic);
 *  - stop_async is signalled from the thread that calls fe_server_stop.
 */
#ifndef FE_SERVER_NET_INT_H
#define FE_SERVER_NET_INT_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "fedenum/server.h"
#include "frame_int.h"

#define FE__UDP_BATCH      64   /* datagrams per recvmmsg/sendmmsg call */
#define FE__UDP_ROUNDS     8    /* batches per readable event before yielding to the loop */
#define FE__UDP_RECV_BYTES 4096 /* larger queries are dropped (MSG_TRUNC) */
#define FE__UDP_SEND_BYTES 4096 /* our EDNS payload limit is clamped to this */
#define FE__TCP_BACKLOG    1024
#define FE__TCP_MSG_MAX    FE__FRAME_MSG_MAX /* length prefix + largest message */
#define FE__TLS_READ       16384             /* ciphertext per socket read (one TLS record) */
#define FE__PORT_TRIES     32 /* port 0: attempts to find a port free for UDP and TCP */

struct fe__worker;

/* One UDP socket of a worker (one per listen address). */
struct fe__udp {
	struct fe__worker *w;
	int fd;
	bool pktinfo; /* bound to a wildcard address: answer from the query's destination */
	uv_poll_t poll;
};

/* One TCP listening socket of a worker (one per listen address; SO_REUSEPORT group). */
struct fe__listener {
	struct fe__worker *w;
	int fd;
	uv_tcp_t tcp;
};

/* A TCP client connection (RFC 7766): a uv_tcp_t byte stream under a DNS framing unit
 * (frame_int.h), which owns the buffers, the output queue and the limits. Freed when both
 * handles are closed. */
struct fe__conn {
	struct fe__conn *prev, *next; /* worker's list */
	struct fe__worker *w;
	struct fe__frame fr;
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t wreq;
	struct sockaddr_storage peer;
	bool admitted;           /* source address passed the admission list */
	bool counted;            /* holds a slot in srv->tcp_clients */
	bool snap_open, snap_ok; /* store snapshot of the current input pass */
	int open_handles;        /* tcp + timer until both close callbacks ran */
	size_t last_write_queue; /* unsent bytes of the write in progress at the last check */
	void *stream;            /* the transfer handler's stream, while fr.streaming */
	struct fe__tls *tls;     /* DNS over TLS (net_tls.c); NULL: plain TCP */
	const char *client;      /* TLS: the client certificate's name ("" until verified) */
	uint16_t tls_version;    /* TLS: the session's protocol version once established */
	/* On-demand peering: answers parked for this connection (tickets that point at it).
	 * While any is out, the connection's memory outlives its handles (gone = true), and
	 * the last ticket released frees it with destroy. */
	uint32_t parked;
	bool gone;
	void (*destroy)(struct fe__conn *c);
};

#define FE__TICKET_CTL 64

/* A request parked by the on-demand hook (server.h): everything needed to run it through
 * the pipeline again and send the answer where the query came from. */
struct fe_server_ticket {
	struct fe_server_ticket *next; /* the worker's resume list */
	struct fe__worker *w;
	int status; /* given to fe_server_resume */
	enum fe_transport transport;
	bool admitted;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	struct fe__udp *udp; /* UDP: the socket it came in on */
	size_t ctl_len;      /* UDP on a wildcard bind: the answer's source address */
	/* its control data: CMSG_SPACE(sizeof(struct in6_pktinfo)) is 40 octets on Linux (a
	 * fixed size: clang does not take CMSG_SPACE for a constant inside a struct) */
	_Alignas(struct cmsghdr) uint8_t ctl[FE__TICKET_CTL];
	struct fe__conn *conn; /* TCP/TLS: the connection */
	char tls_client[FE_SERVER_TLS_NAME_MAX];
	uint16_t tls_version;
	uint64_t t0_us;         /* arrival, for the latency histogram */
	struct fe_wire_query q; /* parse of msg, for the resolver */
	size_t msg_len;
	uint8_t msg[];
};

struct fe__worker {
	struct fe_server *srv;
	unsigned id;
	uv_thread_t thread;
	bool thread_started;
	uv_loop_t loop;
	bool loop_ready;
	uv_async_t stop_async;
	uv_timer_t drain_timer;
	bool stopping;
	uv_sem_t started; /* posted by the worker once set up (start_err tells how) */
	int start_err;
	struct fe_store_reader *reader;
	struct fe_answer_ctx actx;
	uint64_t counters[FE_CNT__MAX];
	struct fe__udp *udp;          /* [listen_count] */
	struct fe__listener *lsn;     /* [listen_count] */
	struct fe__listener *tls_lsn; /* [tls_listen_count] */
	uint8_t *tls_rbuf;            /* FE__TLS_READ bytes: one socket read of ciphertext */
	struct fe__conn *conns;       /* list head */
	size_t conn_count;
	size_t tcp_mem_peak; /* most heap bytes one connection's framing held (relaxed atomic) */
	/* UDP batch state (per worker, reused: no heap per datagram). */
	struct mmsghdr rmsg[FE__UDP_BATCH];
	struct mmsghdr smsg[FE__UDP_BATCH];
	struct iovec riov[FE__UDP_BATCH];
	struct iovec siov[FE__UDP_BATCH];
	struct sockaddr_storage raddr[FE__UDP_BATCH];
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} rctl[FE__UDP_BATCH], sctl[FE__UDP_BATCH];
	uint8_t *rbuf;     /* FE__UDP_BATCH * FE__UDP_RECV_BYTES */
	uint8_t *sbuf;     /* FE__UDP_BATCH * FE__UDP_SEND_BYTES */
	uint8_t *tcp_resp; /* FE__TCP_MSG_MAX scratch for one TCP answer */
	/* On-demand peering: where the message in the pipeline came from (set by the
	 * transports before fe__pipe_run_od: cur_udp and cur_rmsg for UDP, cur_conn for TCP/TLS),
	 * and the tickets handed back by fe_server_resume (resume_mu; resume_closed once the
	 * async handle is closing: nothing is signalled after that). */
	struct fe__udp *cur_udp;
	const struct msghdr *cur_rmsg;
	struct fe__conn *cur_conn;
	uint64_t cur_t0_us;
	uint32_t parked; /* tickets out (worker thread only) */
	uv_async_t resume_async;
	uv_mutex_t resume_mu;
	bool resume_mu_ready;
	bool resume_closed;
	struct fe_server_ticket *resume_head;
};

struct fe_server {
	struct fe_store *st;
	struct fe_server_opts opts; /* copy; listen points at our own array */
	struct fe_listen_addr *listen;
	size_t listen_count;
	uint16_t *ports; /* bound port per listen address */
	struct fe_listen_addr *tls_listen;
	size_t tls_listen_count;
	uint16_t *tls_ports;
	void *tls_ctx; /* SSL_CTX, shared by the workers (read-only once built) */
	unsigned nworkers;
	struct fe__worker *workers;
	_Atomic uint32_t tcp_clients;
	uint32_t drain_ms;
	char *ready_file;
};

/* net_udp.c */
void fe__udp_on_readable(uv_poll_t *h, int status, int events);
/* For wildcard binds: the control data that makes the answer to @rq leave from the address
 * the query was sent to, written at @ctl into @ans (msg_control, msg_controllen). */
void fe__udp_reply_control(const struct msghdr *rq, struct msghdr *ans, void *ctl);
/* Send one answer outside a batch (a resumed on-demand answer). */
void fe__udp_send_one(struct fe__worker *w, struct fe__udp *u, const struct sockaddr *peer,
                      socklen_t peer_len, const void *ctl, size_t ctl_len, const uint8_t *msg,
                      size_t len);

/* pipeline.c: on-demand resumption. fe__resume_drain runs the resumed tickets (the resume
 * async's callback, and on stop); fe__resume_release_all frees what is left at the end. */
void fe__resume_drain(struct fe__worker *w);
void fe__resume_release_all(struct fe__worker *w);

/* net_tcp.c */
void fe__tcp_on_connection(uv_stream_t *server, int status);

/* Shared by the TCP and TLS transports (net_tcp.c). fe__conn_accept: @c (zeroed by the
 * caller, with its tls set for TLS) takes the next connection of @server: framing with @ops,
 * handles, the worker's list, the peer address, a client slot (tcp-max-clients, docs/
 * security.md C4), admission; false: it was closed (refused or failed, logged with @proto
 * on @log) and is freed by its close callbacks. The four frame operations below are the
 * application side of any connection: the pipeline over one store snapshot per input pass. */
struct fe_ratelog;
bool fe__conn_accept(struct fe__conn *c, uv_stream_t *server, const struct fe__frame_ops *ops,
                     struct fe_ratelog *log, const char *proto);
struct fe__frame_answer fe__conn_message(struct fe__frame *f, const uint8_t *msg, size_t len,
                                         uint8_t *out, size_t cap);
void fe__conn_batch_end(struct fe__frame *f);
/* Close callback of a connection's handles (TCP and TLS alike): after the last one, its
 * client slot is given back and it is freed through c->destroy (or, parked for an on-demand
 * answer, marked gone for the ticket to free); a stopping worker's drain timer closes when
 * no connection is left. */
void fe__conn_handle_closed(uv_handle_t *h);
int fe__conn_stream_next(struct fe__frame *f, uint8_t *out, size_t cap, size_t *len);
void fe__conn_stream_close(struct fe__frame *f);
/* Framing events (bad frames, backlog, stream errors): counted and logged as "tcp" or "tls". */
void fe__conn_note(struct fe__frame *f, enum fe__frame_event ev, size_t detail);
/* Stop reading everywhere, flush, and close each connection once flushed. */
void fe__tcp_drain(struct fe__worker *w);
/* Close every connection now (drain time is up). */
void fe__tcp_abort_all(struct fe__worker *w);

/* net_tls.c */
void fe__tls_on_connection(uv_stream_t *server, int status);
/* The SSL_CTX of opts (certificate, key, client CA); errors logged with the file name. */
int fe__tls_ctx_create(const struct fe_server_opts *o, void **out);
void fe__tls_ctx_free(void *ctx);

/* pipeline.c: the request pipeline (server.h). */

/* Run one message from @peer through admit → before → tsig → handler → after. The worker's
 * store snapshot must be open (or @snapshot_ok false: SERVFAIL). Returns the answer length
 * at @resp, or 0: nothing to send, or — when @stream is not NULL (TCP) and *stream was set
 * to the transfer handler's stream — the answer is that stream (fe__pipe_stream_next).
 * On-demand peering: @resumed (NULL on the first pass) is the status given to
 * fe_server_resume; *deferred (may be NULL: never defer) is set when the request was parked
 * (nothing to send now). */
size_t fe__pipe_run_od(struct fe__worker *w, bool admitted, bool snapshot_ok,
                       const struct sockaddr *peer, const uint8_t *req, size_t req_len,
                       enum fe_transport transport, const char *tls_client, uint16_t tls_version,
                       uint8_t *resp, size_t resp_cap, void **stream, bool *streaming,
                       const int *resumed, bool *deferred);
/* Next message of @stream (opened by fe__pipe_run_od), through policy->after. */
int fe__pipe_stream_next(struct fe__worker *w, const struct sockaddr *peer, void *stream,
                         uint8_t *out, size_t cap, size_t *len);
void fe__pipe_stream_close(struct fe__worker *w, void *stream);

/* Heap bytes held by the framing of the worst TCP connection so far, over all workers (for
 * tests: streams must not grow a connection's buffers beyond the output limit). */
size_t fe__server_tcp_mem_peak(struct fe_server *srv);

/* metrics.c: the counter of answers with @rcode, or FE_CNT__MAX (none). */
enum fe_counter fe__counter_for_rcode(uint16_t rcode);
/* metrics.c: the FE_CNT_QT_* counter of @qtype. */
enum fe_counter fe__counter_for_qtype(uint16_t qtype);
/* metrics.c: @n answers that took @us microseconds into the latency histogram. */
void fe__latency_add(uint64_t *counters, uint64_t us, unsigned n);

/* Numeric "ADDR#PORT" text of @sa for logs. */
void fe__net_addr_str(const struct sockaddr *sa, char *out, size_t cap);

#endif
