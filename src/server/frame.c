/* DNS message framing over a byte stream (frame_int.h): RFC 1035 §4.2.2 length prefixes,
 * RFC 7766 pipelining and output limits, and streams of many messages for one request with
 * back-pressure. Knows nothing of sockets: the transport below is a set of callbacks.
 *
 * Memory: three growable buffers per frame (input, and double-buffered output), never
 * allocated per message. A stream message is pulled only while
 *   send_len + pend_len + FE__FRAME_MSG_MAX <= max_out_bytes
 * so a stream can never trip the backlog limit, and pend and send stay below max_out_bytes
 * (capacities below twice that) however long the stream is. */
#include "frame_int.h"

#include "fedenum/util.h"
#include "fedenum/wire.h"

#include <stdlib.h>
#include <string.h>

#define IN_MIN_CAP  2048u
#define OUT_MIN_CAP 4096u

static bool grow(uint8_t **buf, size_t *cap, size_t need, size_t min_cap)
{
	if (*cap >= need)
		return true;
	size_t ncap = *cap ? *cap : min_cap;
	while (ncap < need)
		ncap *= 2;
	uint8_t *nb = realloc(*buf, ncap);
	if (!nb)
		return false;
	*buf = nb;
	*cap = ncap;
	return true;
}

void fe__frame_init(struct fe__frame *f, const struct fe__frame_ops *ops, uint8_t *scratch,
                    uint32_t max_pipeline, size_t max_out_bytes)
{
	memset(f, 0, sizeof(*f));
	f->ops = ops;
	f->scratch = scratch;
	f->max_pipeline = max_pipeline;
	f->max_out_bytes = max_out_bytes;
}

static void stream_end(struct fe__frame *f)
{
	if (!f->streaming)
		return;
	f->streaming = false;
	f->ops->stream_close(f);
}

void fe__frame_deinit(struct fe__frame *f)
{
	stream_end(f);
	free(f->in);
	free(f->pend);
	free(f->send);
	f->in = f->pend = f->send = NULL;
	f->in_cap = f->pend_cap = f->send_cap = 0;
}

void fe__frame_close(struct fe__frame *f)
{
	if (f->ended)
		return;
	f->ended = true;
	stream_end(f);
	f->ops->close(f);
}

size_t fe__frame_mem_bytes(const struct fe__frame *f)
{
	return f->in_cap + f->pend_cap + f->send_cap;
}

/* Queue the message at scratch + 2 (@len bytes). false: the backlog limit is exceeded. */
static bool queue(struct fe__frame *f, size_t len)
{
	size_t need = 2 + len;
	if (f->send_len + f->pend_len + need > f->max_out_bytes)
		return false;
	if (!grow(&f->pend, &f->pend_cap, f->pend_len + need, OUT_MIN_CAP))
		return false;
	fe_put_be16(f->scratch, (uint16_t)len);
	memcpy(f->pend + f->pend_len, f->scratch, need);
	f->pend_len += need;
	f->pend_msgs++;
	return true;
}

/* Hand every complete message of the input to the owner, as far as the pipeline limit and
 * an open stream allow (a stream's messages are never interleaved with other answers). */
static void process_input(struct fe__frame *f)
{
	const struct fe__frame_ops *ops = f->ops;
	size_t off = 0;
	bool any = false;
	f->paused = false;
	while (!f->ended && !f->close_flushed) {
		size_t avail = f->in_len - off;
		if (avail < 2)
			break;
		size_t mlen = fe_get_be16(f->in + off);
		if (mlen < FE_WIRE_HDR_LEN) {
			/* Length 0 or shorter than a header: the stream cannot be trusted. */
			ops->note(f, FE__FRAME_BAD_LENGTH, mlen);
			fe__frame_close(f);
			break;
		}
		if (avail < 2 + mlen)
			break;
		if (f->streaming || f->pend_msgs + f->send_msgs + f->deferred >= f->max_pipeline) {
			f->paused = true;
			break;
		}
		any = true;
		struct fe__frame_answer a = ops->message(f, f->in + off + 2, mlen, f->scratch + 2,
		                                         FE__FRAME_MSG_MAX - 2);
		off += 2 + mlen;
		f->last_activity_ms = ops->now_ms(f);
		if (a.stream) {
			f->streaming = true;
			f->stream_msgs = 0;
			continue;
		}
		if (a.deferred) {
			f->deferred++;
			continue;
		}
		if (!a.len) {
			/* A response sent as a query, or similar garbage (docs/security.md C1, Q6).
			 */
			ops->note(f, FE__FRAME_BAD_MESSAGE, mlen);
			fe__frame_close(f);
			break;
		}
		if (!queue(f, a.len)) {
			ops->note(f, FE__FRAME_BACKLOG, f->send_len + f->pend_len);
			fe__frame_close(f);
			break;
		}
		if ((fe_get_be16(f->scratch + 4) & 0xfu) == FE_RCODE_FORMERR) {
			/* After a malformed message the framing itself is suspect: answer it,
			 * then close (docs/security.md C1). */
			ops->note(f, FE__FRAME_FORMERR, mlen);
			f->close_flushed = true;
		}
	}
	if (any)
		ops->batch_end(f);
	if (off && !f->ended) {
		memmove(f->in, f->in + off, f->in_len - off);
		f->in_len -= off;
	}
}

/* Pull stream messages while the output queue has room for one more of any size. */
static void pull_stream(struct fe__frame *f)
{
	while (f->streaming && !f->ended && f->pend_msgs + f->send_msgs < f->max_pipeline &&
	       f->send_len + f->pend_len + FE__FRAME_MSG_MAX <= f->max_out_bytes) {
		size_t len = 0;
		int rc = f->ops->stream_next(f, f->scratch + 2, FE__FRAME_MSG_MAX - 2, &len);
		if (rc < 0 || len > FE__FRAME_MSG_MAX - 2) {
			f->ops->note(f, FE__FRAME_STREAM_ERROR, f->stream_msgs);
			fe__frame_close(f);
			return;
		}
		if (len == 0) {
			stream_end(f);
			return;
		}
		if (!queue(f, len)) {
			f->ops->note(f, FE__FRAME_BACKLOG, f->send_len + f->pend_len);
			fe__frame_close(f);
			return;
		}
		f->stream_msgs++;
	}
}

/* Start writing the queued messages. Returns true when everything queued went out at once
 * (pipeline slots were freed synchronously). A stream's messages are always written
 * asynchronously: the write's completion pulls the next ones from the loop, so one fast
 * reader cannot keep the worker in a loop of synchronous writes while others wait. */
static bool flush(struct fe__frame *f)
{
	if (f->ended || f->writing || !f->pend_len)
		return false;
	ssize_t n = f->ops->write(f, f->pend, f->pend_len, !f->streaming);
	if (n == (ssize_t)f->pend_len) {
		f->pend_len = 0;
		f->pend_msgs = 0;
		f->last_activity_ms = f->ops->now_ms(f);
		return true;
	}
	if (n < 0) {
		fe__frame_close(f); /* EPIPE, ECONNRESET: the client is gone */
		return false;
	}
	if (n > 0)
		f->last_activity_ms = f->ops->now_ms(f);
	/* Swap: the pending buffer becomes the one in flight, messages queue into the other. */
	uint8_t *tb = f->send;
	size_t tcap = f->send_cap;
	f->send = f->pend;
	f->send_cap = f->pend_cap;
	f->send_len = f->pend_len;
	f->send_msgs = f->pend_msgs;
	f->pend = tb;
	f->pend_cap = tcap;
	f->pend_len = 0;
	f->pend_msgs = 0;
	f->writing = true;
	return false;
}

void fe__frame_write_done(struct fe__frame *f, int status)
{
	f->writing = false;
	if (status < 0) {
		fe__frame_close(f); /* no-op when closed already (cancelled) */
		return;
	}
	f->send_len = 0;
	f->send_msgs = 0;
	f->last_activity_ms = f->ops->now_ms(f);
	fe__frame_pump(f);
}

void fe__frame_pump(struct fe__frame *f)
{
	for (;;) {
		if (f->ended)
			return;
		process_input(f);
		bool was_streaming = f->streaming;
		pull_stream(f);
		bool stream_ended = was_streaming && !f->streaming;
		bool flushed = flush(f);
		/* Loop only while waiting queries were unblocked: by a write that completed at
		 * once, or by the end of a stream. Each round answers at least one of them (or
		 * consumes one that opens a new stream), so this ends. */
		if (!f->paused || !(flushed || stream_ended))
			break;
	}
	if (f->ended)
		return;
	bool want_read = !f->paused && !f->streaming && !f->eof && !f->close_flushed;
	if (want_read != f->reading) {
		if (f->ops->read(f, want_read) != 0) {
			fe__frame_close(f);
			return;
		}
		f->reading = want_read;
	}
	bool done = f->close_flushed || (f->eof && !f->paused);
	if (done && !f->streaming && !f->writing && !f->pend_len && !f->deferred)
		fe__frame_close(f);
}

void fe__frame_deliver(struct fe__frame *f, size_t len)
{
	if (f->ended)
		return;
	if (f->deferred)
		f->deferred--;
	if (len && !queue(f, len)) {
		f->ops->note(f, FE__FRAME_BACKLOG, f->send_len + f->pend_len);
		fe__frame_close(f);
		return;
	}
	fe__frame_pump(f);
}

bool fe__frame_read_buf(struct fe__frame *f, uint8_t **buf, size_t *cap)
{
	/* Room for the whole first message (it always starts the buffer) plus some more. */
	size_t need = f->in_len + 1024;
	if (f->in_len >= 2) {
		size_t first = 2 + (size_t)fe_get_be16(f->in);
		if (first > need)
			need = first;
	}
	if (!grow(&f->in, &f->in_cap, need, IN_MIN_CAP))
		return false;
	*buf = f->in + f->in_len;
	*cap = f->in_cap - f->in_len;
	return true;
}

void fe__frame_on_read(struct fe__frame *f, size_t n)
{
	if (f->ended)
		return;
	f->in_len += n;
	fe__frame_pump(f);
}

void fe__frame_on_eof(struct fe__frame *f)
{
	if (f->ended)
		return;
	/* The client may half-close after its last query; it still gets its answers. */
	f->eof = true;
	fe__frame_pump(f);
}

void fe__frame_finish(struct fe__frame *f)
{
	if (f->ended)
		return;
	f->close_flushed = true;
	fe__frame_pump(f);
}
