/* src/server/net_int.h — internals of the network server (net*.c). Not a public contract.
 *
 * Threads: one struct fe__worker per worker thread; everything inside a worker (its loop,
 * sockets, connections, counters, store reader) is touched by that thread only, except:
 *  - counters[] are read (approximately) by fe_server_counters from other threads;
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

#define FE__UDP_BATCH      64   /* datagrams per recvmmsg/sendmmsg call */
#define FE__UDP_ROUNDS     8    /* batches per readable event before yielding to the loop */
#define FE__UDP_RECV_BYTES 4096 /* larger queries are dropped (MSG_TRUNC) */
#define FE__UDP_SEND_BYTES 4096 /* our EDNS payload limit is clamped to this */
#define FE__TCP_BACKLOG    1024
#define FE__TCP_MSG_MAX    (2 + 65535) /* length prefix + largest message */
#define FE__PORT_TRIES     32          /* port 0: attempts to find a port free for UDP and TCP */

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

/* A TCP client connection (RFC 7766). Buffers are heap blocks owned by the connection and
 * freed when both handles are closed. Output is double-buffered: answers are appended to
 * `pend` while `send` belongs to the one uv_write in progress; neither moves meanwhile. */
struct fe__conn {
	struct fe__conn *prev, *next; /* worker's list */
	struct fe__worker *w;
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t wreq;
	struct sockaddr_storage peer;
	bool admitted;      /* source address passed the admission list */
	bool counted;       /* holds a slot in srv->tcp_clients */
	bool reading;       /* uv_read_start active */
	bool writing;       /* wreq in progress */
	bool closing;       /* uv_close issued */
	bool close_flushed; /* read no more; close once every queued answer is written */
	bool eof;           /* the client closed its sending side */
	bool blocked;       /* a complete query waits: tcp_max_pipeline answers unsent */
	int open_handles;   /* tcp + timer until both close callbacks ran */
	uint64_t last_activity_ms;
	size_t last_write_queue; /* unsent bytes of the write in progress at the last check */
	uint8_t *in;
	size_t in_len, in_cap;
	uint8_t *pend;
	size_t pend_len, pend_cap;
	uint32_t pend_msgs;
	uint8_t *send;
	size_t send_len, send_cap;
	uint32_t send_msgs;
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
	struct fe__udp *udp;      /* [listen_count] */
	struct fe__listener *lsn; /* [listen_count] */
	struct fe__conn *conns;   /* list head */
	size_t conn_count;
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
};

struct fe_server {
	struct fe_store *st;
	struct fe_server_opts opts; /* copy; listen points at our own array */
	struct fe_listen_addr *listen;
	size_t listen_count;
	uint16_t *ports; /* bound port per listen address */
	unsigned nworkers;
	struct fe__worker *workers;
	_Atomic uint32_t tcp_clients;
	uint32_t drain_ms;
	char *ready_file;
};

/* net_udp.c */
void fe__udp_on_readable(uv_poll_t *h, int status, int events);

/* net_tcp.c */
void fe__tcp_on_connection(uv_stream_t *server, int status);
/* Stop reading everywhere, flush, and close each connection once flushed. */
void fe__tcp_drain(struct fe__worker *w);
/* Close every connection now (drain time is up). */
void fe__tcp_abort_all(struct fe__worker *w);

/* net_acl.c / net.c helpers shared by the UDP and TCP paths. */

/* Answer one message from @peer: admission check, then fe_answer(). The worker's store
 * snapshot must be open (or @snapshot_ok false: SERVFAIL). Returns the answer length or 0
 * (nothing to send). @transport selects the counters and limits. */
size_t fe__net_answer(struct fe__worker *w, bool admitted, bool snapshot_ok,
                      const struct sockaddr *peer, const uint8_t *req, size_t req_len,
                      enum fe_transport transport, uint8_t *resp, size_t resp_cap);

/* Numeric "ADDR#PORT" text of @sa for logs. */
void fe__net_addr_str(const struct sockaddr *sa, char *out, size_t cap);

#endif
