/* src/server/frame_int.h — DNS message framing over a byte stream (RFC 1035 §4.2.2, RFC 7766),
 * independent of the transport. Not a public contract.
 *
 * A struct fe__frame sits between a byte-stream transport below (plain TCP in net_tcp.c; TLS,
 * RFC 7858 / RFC 9103, later) and the request pipeline above. It owns:
 *  - input reassembly: bytes in, complete 2-octet-length-prefixed messages out;
 *  - the output queue: framed messages, double-buffered so that one transport write is in
 *    flight while further messages queue behind it;
 *  - the limits of RFC 7766 §6.2.1 / docs/security.md C1–C4 that do not depend on the transport:
 *    bad lengths, at most max_pipeline messages unsent (then input is paused), at most
 *    max_out_bytes unsent (then the connection is closed);
 *  - streams: one request answered by many messages (AXFR, IXFR), pulled from the owner
 *    one message at a time while the queue has room, so the memory per connection stays
 *    below about 2 × max_out_bytes + 64 KiB whatever the stream's length.
 *
 * Transport contract (ops->write/read/close): the transport feeds bytes with
 * fe__frame_read_buf + fe__frame_on_read, reports the end of input with fe__frame_on_eof and
 * the end of an asynchronous write with fe__frame_write_done; the frame asks for writes,
 * pauses and resumes input, and closes. Application contract (ops->message, stream_next,
 * stream_close, batch_end): see struct fe__frame_ops.
 *
 * Threads: a frame is used by one thread (its worker's loop). After ops->close no callback is
 * made but the batch_end of the input pass in progress; fe__frame_deinit is the last call. */
#ifndef FE_SERVER_FRAME_INT_H
#define FE_SERVER_FRAME_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FE__FRAME_MSG_MAX (2 + 65535) /* length prefix + largest message */

struct fe__frame;

/* Why the frame notes an event to its owner (for counters and logs). */
enum fe__frame_event {
	FE__FRAME_BAD_LENGTH,  /* a length below a DNS header: closing */
	FE__FRAME_BAD_MESSAGE, /* the owner had nothing to answer: closing */
	FE__FRAME_FORMERR,     /* a FORMERR answer was queued: closing after it */
	FE__FRAME_BACKLOG,     /* unsent output above max_out_bytes: closing */
	FE__FRAME_STREAM_ERROR /* stream_next failed: closing */
};

/* Answer to one message from ops->message. */
struct fe__frame_answer {
	size_t len;    /* answer length in the scratch buffer (after the 2-octet prefix), or 0 */
	bool stream;   /* a stream was opened: pull it with ops->stream_next */
	bool deferred; /* answered later with fe__frame_deliver (on-demand peering) */
};

struct fe__frame_ops {
	/* ---- transport ---- */
	/* Write @len bytes at @buf; they stay untouched until the write ends. @sync_ok: the
	 * transport may write at once and return @len (no fe__frame_write_done then).
	 * Otherwise it returns how many bytes went out at once (0 when !@sync_ok), keeps
	 * writing the rest and calls fe__frame_write_done when it is all out (or failed,
	 * or cancelled by close). Negative: failed at once (the frame closes). */
	ssize_t (*write)(struct fe__frame *f, const uint8_t *buf, size_t len, bool sync_ok);
	/* Start (@on) or stop delivering input. Non-zero: failed (the frame closes). */
	int (*read)(struct fe__frame *f, bool on);
	/* Close the connection now; anything queued is discarded. Called once. */
	void (*close)(struct fe__frame *f);
	/* Current time of the loop, for last_activity_ms. */
	uint64_t (*now_ms)(struct fe__frame *f);
	/* ---- application ---- */
	/* One complete message at @msg: write its answer at @out (@cap bytes) or open a
	 * stream. len 0 and no stream: nothing to answer (the frame closes: BAD_MESSAGE). */
	struct fe__frame_answer (*message)(struct fe__frame *f, const uint8_t *msg, size_t len,
	                                   uint8_t *out, size_t cap);
	/* After the messages of one input pass (the owner may close a store snapshot). */
	void (*batch_end)(struct fe__frame *f);
	/* Next message of the open stream at @out (@cap bytes): FE_OK with *len > 0, FE_OK with
	 * *len = 0 at its end (stream_close follows), or a negative error (closing). */
	int (*stream_next)(struct fe__frame *f, uint8_t *out, size_t cap, size_t *len);
	/* The stream is over (ended, failed, or the frame closes): release it. */
	void (*stream_close)(struct fe__frame *f);
	/* Something worth a counter or a log line; @detail: the length, byte count, ... */
	void (*note)(struct fe__frame *f, enum fe__frame_event ev, size_t detail);
};

struct fe__frame {
	const struct fe__frame_ops *ops;
	uint8_t *scratch;      /* FE__FRAME_MSG_MAX bytes, borrowed (the worker's) */
	uint32_t max_pipeline; /* messages queued unsent before input pauses */
	size_t max_out_bytes;  /* unsent bytes before the connection is closed */
	bool reading;          /* ops->read(on) in effect */
	bool writing;          /* an asynchronous write is in flight */
	bool ended;            /* ops->close called */
	bool close_flushed;    /* read no more; close once every queued message is written */
	bool eof;              /* the peer closed its sending side */
	bool paused;    /* a complete message waits: max_pipeline reached, or a stream runs */
	bool streaming; /* a stream is open */
	uint64_t last_activity_ms;
	uint8_t *in;
	size_t in_len, in_cap;
	uint8_t *pend; /* messages queued behind the write in flight */
	size_t pend_len, pend_cap;
	uint32_t pend_msgs;
	uint8_t *send; /* the buffer of the write in flight */
	size_t send_len, send_cap;
	uint32_t send_msgs;
	uint64_t stream_msgs; /* messages of the current stream queued so far */
	uint32_t deferred;    /* answers promised by ops->message and not yet delivered: they
	                         count against max_pipeline, and the frame does not end on EOF or
	                         finish before they are delivered */
};

/* @scratch: FE__FRAME_MSG_MAX bytes, borrowed, may be shared by the frames of one thread.
 * @max_out_bytes must be at least 2 × FE__FRAME_MSG_MAX, or a stream could stall and a
 * largest answer could never be queued (fe_server_start enforces it). */
void fe__frame_init(struct fe__frame *f, const struct fe__frame_ops *ops, uint8_t *scratch,
                    uint32_t max_pipeline, size_t max_out_bytes);
/* Free the buffers; closes an open stream (ops->stream_close). */
void fe__frame_deinit(struct fe__frame *f);
/* Room for input: *buf, *cap bytes. false: out of memory (the transport should close). */
bool fe__frame_read_buf(struct fe__frame *f, uint8_t **buf, size_t *cap);
/* @n bytes arrived in the room fe__frame_read_buf gave. */
void fe__frame_on_read(struct fe__frame *f, size_t n);
/* The peer half-closed: answer what was read, then close. */
void fe__frame_on_eof(struct fe__frame *f);
/* The asynchronous write ended (@status < 0: failed, the frame closes). */
void fe__frame_write_done(struct fe__frame *f, int status);
/* Close now: discard what is queued, close an open stream, then ops->close. Only
 * ops->batch_end of the pass in progress may still be called. Safe to call twice. */
void fe__frame_close(struct fe__frame *f);
/* Read no more; close once what is queued (and any open stream) has been written. */
void fe__frame_finish(struct fe__frame *f);
/* Bring the frame forward: answer, pull streams, write, pause or resume input, close. */
void fe__frame_pump(struct fe__frame *f);
/* One deferred answer (fe__frame_answer.deferred) is ready at scratch + 2, @len bytes (0:
 * none after all, the promise is just dropped): queue it and bring the frame forward. */
void fe__frame_deliver(struct fe__frame *f, size_t len);
/* Heap bytes the frame holds now (buffers' capacities). */
size_t fe__frame_mem_bytes(const struct fe__frame *f);

#endif
