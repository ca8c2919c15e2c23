/* The DNS framing unit (src/server/frame.c) over a fake byte-stream transport: no sockets,
 * no libuv. This is the contract a TLS transport (RFC 7858, RFC 9103) will rely on: bytes in
 * at any split, framed messages out, writes completed when the transport says so, input
 * paused and resumed, streams pulled only while the output queue has room. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "../../src/server/frame_int.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"

/* ---- the fake transport and application ------------------------------------------ */

static struct fe__frame fr;
static uint8_t scratch[FE__FRAME_MSG_MAX];
static uint8_t *wire_out; /* every byte the frame wrote, in order */
static size_t wire_len;
static bool sync_writes; /* the transport writes at once when allowed */
static bool write_busy;  /* an async write is in flight (the test completes it) */
static size_t busy_len;
static bool reading, closed;
static unsigned messages, batches, notes[8];
static unsigned stream_left, stream_pulled, stream_closes;
static size_t peak_queued;

static void take(const uint8_t *buf, size_t len)
{
	wire_out = realloc(wire_out, wire_len + len);
	cr_assert_not_null(wire_out);
	memcpy(wire_out + wire_len, buf, len);
	wire_len += len;
}

static ssize_t t_write(struct fe__frame *f, const uint8_t *buf, size_t len, bool sync_ok)
{
	(void)f;
	cr_assert(!write_busy, "two writes in flight");
	take(buf, len);
	if (sync_ok && sync_writes)
		return (ssize_t)len;
	write_busy = true;
	busy_len = len;
	return 0;
}

static int t_read(struct fe__frame *f, bool on)
{
	(void)f;
	reading = on;
	return 0;
}

static void t_close(struct fe__frame *f)
{
	(void)f;
	cr_assert(!closed, "closed twice");
	closed = true;
}

static uint64_t t_now(struct fe__frame *f)
{
	(void)f;
	return 0;
}

/* Echo the query with QR set; rcode FORMERR when its ID is 0xbad0; nothing when 0xdead;
 * a stream of stream_left messages when its ID is 0x5000. */
static struct fe__frame_answer t_message(struct fe__frame *f, const uint8_t *msg, size_t len,
                                         uint8_t *out, size_t cap)
{
	(void)f;
	struct fe__frame_answer a = {0, false, false};
	messages++;
	uint16_t id = fe_get_be16(msg);
	if (id == 0xdead)
		return a;
	if (id == 0x5000) {
		a.stream = true;
		return a;
	}
	cr_assert_leq(len, cap);
	memcpy(out, msg, len);
	out[2] |= 0x80;
	if (id == 0xbad0)
		out[3] = (uint8_t)((out[3] & 0xf0) | FE_RCODE_FORMERR);
	a.len = len;
	return a;
}

static void t_batch_end(struct fe__frame *f)
{
	(void)f;
	batches++;
}

static int t_stream_next(struct fe__frame *f, uint8_t *out, size_t cap, size_t *len)
{
	size_t queued = f->send_len + f->pend_len;
	if (queued > peak_queued)
		peak_queued = queued;
	if (!stream_left) {
		*len = 0;
		return FE_OK;
	}
	/* 30,000-byte messages: a handful fill the output limit. */
	cr_assert_geq(cap, 30000);
	memset(out, 0, 30000);
	fe_put_be16(out, (uint16_t)stream_pulled);
	out[2] = 0x84;
	*len = 30000;
	stream_left--;
	stream_pulled++;
	return FE_OK;
}

static void t_stream_close(struct fe__frame *f)
{
	(void)f;
	stream_closes++;
}

static void t_note(struct fe__frame *f, enum fe__frame_event ev, size_t detail)
{
	(void)f;
	(void)detail;
	notes[ev]++;
}

static const struct fe__frame_ops ops = {
        .write = t_write,
        .read = t_read,
        .close = t_close,
        .now_ms = t_now,
        .message = t_message,
        .batch_end = t_batch_end,
        .stream_next = t_stream_next,
        .stream_close = t_stream_close,
        .note = t_note,
};

static void setup(void)
{
	free(wire_out);
	wire_out = NULL;
	wire_len = 0;
	sync_writes = true;
	write_busy = false;
	reading = closed = false;
	messages = batches = stream_left = stream_pulled = stream_closes = 0;
	peak_queued = 0;
	memset(notes, 0, sizeof(notes));
	fe__frame_init(&fr, &ops, scratch, 4, 256u * 1024u);
	fe__frame_pump(&fr);
}

static void teardown(void)
{
	fe__frame_deinit(&fr);
	free(wire_out);
	wire_out = NULL;
}

/* Feed @len bytes as the transport would, in pieces of at most @piece bytes. */
static void feed(const uint8_t *p, size_t len, size_t piece)
{
	while (len) {
		uint8_t *room;
		size_t cap;
		cr_assert(fe__frame_read_buf(&fr, &room, &cap));
		size_t n = len < piece ? len : piece;
		n = n < cap ? n : cap;
		memcpy(room, p, n);
		fe__frame_on_read(&fr, n);
		p += n;
		len -= n;
	}
}

static size_t framed_query(uint16_t id, uint8_t *out)
{
	static const uint8_t q[] = {0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1};
	fe_put_be16(out, sizeof(q));
	memcpy(out + 2, q, sizeof(q));
	fe_put_be16(out + 2, id);
	return 2 + sizeof(q);
}

/* The IDs of the framed messages in wire_out, in order, into @ids; returns their count. */
static size_t parse_out(uint16_t *ids, size_t max)
{
	size_t off = 0, n = 0;
	while (off + 2 <= wire_len && n < max) {
		size_t len = fe_get_be16(wire_out + off);
		cr_assert_leq(off + 2 + len, wire_len, "torn frame");
		ids[n++] = fe_get_be16(wire_out + off + 2);
		off += 2 + len;
	}
	cr_assert_eq(off, wire_len);
	return n;
}

TestSuite(frame, .init = setup, .fini = teardown);

Test(frame, messages_split_at_every_byte_are_answered_in_order)
{
	uint8_t in[10 * 32];
	size_t len = 0;
	for (uint16_t i = 0; i < 10; i++)
		len += framed_query(i, in + len);
	cr_assert(reading);
	feed(in, len, 1);
	uint16_t ids[16];
	cr_assert_eq(parse_out(ids, 16), 10);
	for (uint16_t i = 0; i < 10; i++)
		cr_assert_eq(ids[i], i);
	cr_assert_eq(messages, 10);
	cr_assert(!closed);
}

Test(frame, pipeline_limit_pauses_input_until_the_write_completes)
{
	sync_writes = false;
	uint8_t in[10 * 32];
	size_t len = 0;
	for (uint16_t i = 0; i < 10; i++)
		len += framed_query(i, in + len);
	feed(in, len, len);
	/* 4 answers queued behind the first write: input pauses (RFC 7766 §6.2.1.2 limit). */
	cr_assert_eq(messages, 4);
	cr_assert(!reading);
	cr_assert(write_busy);
	write_busy = false;
	fe__frame_write_done(&fr, 0);
	cr_assert_eq(messages, 8);
	write_busy = false;
	fe__frame_write_done(&fr, 0);
	cr_assert_eq(messages, 10);
	cr_assert(reading);
	write_busy = false;
	fe__frame_write_done(&fr, 0);
	uint16_t ids[16];
	cr_assert_eq(parse_out(ids, 16), 10);
}

Test(frame, bad_length_closes_formerr_closes_after_the_answer)
{
	uint8_t in[64];
	size_t len = framed_query(0xbad0, in);
	len += framed_query(1, in + len); /* never read: the stream is suspect */
	feed(in, len, len);
	cr_assert_eq(messages, 1);
	cr_assert_eq(notes[FE__FRAME_FORMERR], 1);
	cr_assert(closed, "closed once the FORMERR answer was written");
	uint16_t ids[4];
	cr_assert_eq(parse_out(ids, 4), 1);
	cr_assert_eq(ids[0], 0xbad0);
}

Test(frame, short_length_and_unanswerable_message_close)
{
	uint8_t in[4] = {0, 5, 0, 0};
	feed(in, 4, 4);
	cr_assert(closed);
	cr_assert_eq(notes[FE__FRAME_BAD_LENGTH], 1);
	cr_assert_eq(messages, 0);
}

Test(frame, eof_answers_what_was_read_then_closes)
{
	sync_writes = false;
	uint8_t in[64];
	size_t len = framed_query(1, in);
	len += framed_query(2, in + len);
	feed(in, len, len);
	fe__frame_on_eof(&fr);
	cr_assert(!closed, "answers still being written");
	write_busy = false;
	fe__frame_write_done(&fr, 0);
	cr_assert(closed);
	uint16_t ids[4];
	cr_assert_eq(parse_out(ids, 4), 2);
}

Test(frame, stream_is_pulled_only_as_the_transport_drains)
{
	sync_writes = true; /* streams are written asynchronously all the same */
	stream_left = 200;  /* 6 MB in 30,000-byte messages */
	uint8_t in[64];
	size_t len = framed_query(0x5000, in);
	len += framed_query(7, in + len); /* pipelined behind the stream */
	feed(in, len, len);
	cr_assert_eq(messages, 1, "the query behind a stream waits");
	cr_assert(!reading);
	unsigned rounds = 0;
	while (write_busy) {
		/* Never more than the output limit queued, whatever the stream's length. */
		cr_assert_leq(fr.send_len + fr.pend_len, 256u * 1024u);
		cr_assert_lt(stream_pulled, 200u + 1);
		write_busy = false;
		fe__frame_write_done(&fr, 0);
		rounds++;
	}
	cr_assert_eq(stream_pulled, 200);
	cr_assert_eq(stream_closes, 1);
	cr_assert_gt(rounds, 20, "pulled in steps, not at once");
	cr_assert_leq(fe__frame_mem_bytes(&fr), 2u * 256u * 1024u + 4096u);
	uint16_t ids[256];
	size_t n = parse_out(ids, 256);
	cr_assert_eq(n, 201);
	for (uint16_t i = 0; i < 200; i++)
		cr_assert_eq(ids[i], i);
	cr_assert_eq(ids[200], 7, "the pipelined query is answered after the stream");
	cr_assert(reading);
	cr_assert(!closed);
}

Test(frame, close_during_a_stream_closes_it_once)
{
	stream_left = 1000;
	uint8_t in[32];
	feed(in, framed_query(0x5000, in), 64);
	cr_assert(write_busy);
	fe__frame_close(&fr);
	cr_assert(closed);
	cr_assert_eq(stream_closes, 1);
	fe__frame_write_done(&fr, -125); /* the transport cancels the write in flight */
	fe__frame_close(&fr);
	cr_assert_eq(stream_closes, 1);
}
