/* libFuzzer target: the transfer-in response parser (src/xfr/xfrin.c: AXFR/IXFR/SOA
 * response streams, through fe__xfrin_parse over a memory buffer, exactly the checks
 * fe_xfrin_run makes on a connection) and the NOTIFY checks (a NOTIFY request as a
 * secondary reads it: fe_wire_query_parse, opcode, fe_tsig_verify_request; a NOTIFY answer
 * as the primary's notifier reads it: ID, QR, opcode, fe_tsig_verify_response).
 *
 * Input: one control octet, then messages, each a 2-octet length and its octets (the last
 * may be cut short: a connection closed early). Control bits 0-1: the query type (SOA, AXFR,
 * IXFR, AXFR); bit 2: sign every message with the stream signer (else they go as they
 * are, and the TSIG checks must refuse them); bit 3: set each message's ID to the query's
 * and QR; bits 4-7: which messages (index mod 16 set) go unsigned in a signed stream.
 * Invariants (any violation aborts): the parser returns only its documented codes, with a
 * reason for every failure but FE_ENOMEM; a success of an AXFR without an error RCODE has
 * at least the two SOAs (an SOA answer without records is the caller's to refuse); an
 * unsigned stream never succeeds; a NOTIFY we sign verifies. */
#include "fedenum/tsig.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "fedenum/xfr.h"
#include "xfrin_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

#define ID       0x4242u
#define MAX_MSGS 64

static struct fe_tsig_keyring *kr;
static struct fe_tsig_key *key;
static uint8_t req_mac[FE_TSIG_MAC_MAX];
static size_t req_mac_len;

/* The key shared with tests/fuzz/make_xfr_corpus.py: secret = octets 0..31. */
static void init(void)
{
	uint8_t secret[32];
	for (unsigned i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)i;
	CHECK(fe_tsig_keyring_create(&kr) == FE_OK);
	CHECK(fe_tsig_key_create("fuzz-a.", FE_TSIG_HMAC_SHA256, secret, sizeof(secret), &key) ==
	      FE_OK);
	CHECK(fe_tsig_keyring_add(kr, key) == FE_OK);
	/* the query's MAC, as the client signed it */
	uint8_t q[512] = {ID >> 8, ID & 0xff, 0,   0,   0,   1,   0, 0, 0,   0, 0,
	                  0,       4,         'f', 'u', 'z', 'z', 0, 0, 252, 0, 1};
	size_t n = 22;
	CHECK(fe_tsig_sign(q, &n, sizeof(q), key, NULL, 0, NULL, req_mac, &req_mac_len) == FE_OK);
}

static uint8_t stream[MAX_MSGS * (FE_WIRE_MSG_MAX + 2)];
static uint8_t msg[FE_WIRE_MSG_MAX + FE_TSIG_RR_MAX + 16];

/* Build the stream the primary "sends": the input's messages, fixed up and signed as the
 * control octet says. Returns its length. */
static size_t make_stream(const uint8_t *data, size_t size, uint8_t ctl)
{
	struct fe_tsig_stream *s = NULL;
	bool sign = ctl & 4;
	if (sign)
		CHECK(fe_tsig_stream_create(key, req_mac, req_mac_len, &s) == FE_OK);
	size_t off = 0, out = 0;
	for (unsigned i = 0; off + 2 <= size && i < MAX_MSGS; i++) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (len > size - off)
			len = size - off; /* cut short */
		if (len > FE_WIRE_MSG_MAX - FE_TSIG_RR_MAX)
			len = FE_WIRE_MSG_MAX - FE_TSIG_RR_MAX;
		memcpy(msg, data + off, len);
		off += len;
		size_t n = len;
		if ((ctl & 8) && n >= FE_WIRE_HDR_LEN) {
			msg[0] = ID >> 8;
			msg[1] = ID & 0xff;
			msg[2] |= 0x80;
		}
		bool unsigned_one = i > 0 && ((ctl >> 4) & (1u << (i % 4)));
		if (s && n >= FE_WIRE_HDR_LEN &&
		    fe_tsig_stream_sign(s, msg, &n, sizeof(msg), !unsigned_one, NULL) != FE_OK)
			n = len; /* e.g. ARCOUNT 65535: goes unsigned */
		if (n > 0xffff)
			break;
		stream[out++] = (uint8_t)(n >> 8);
		stream[out++] = (uint8_t)n;
		memcpy(stream + out, msg, n);
		out += n;
	}
	fe_tsig_stream_destroy(s);
	return out;
}

static void check_parse(const uint8_t *data, size_t size, uint8_t ctl)
{
	static const uint16_t qtypes[] = {6, 252, 251, 252};
	uint16_t qtype = qtypes[ctl & 3];
	size_t len = make_stream(data, size, ctl);
	struct fe_xfrin_opts o = {
	        .apex = "fuzz.",
	        .key = key,
	        .max_rrs = 5000,
	        .max_bytes = 1u << 20,
	        .max_rrset_rrs = (ctl & 0x10) ? 3 : 0,
	        .max_time_ms = 60000,
	};
	struct fe_xfrin_result res;
	uint16_t rcode = 0;
	size_t nrrs = 0;
	int rc = fe__xfrin_parse(&o, qtype, 7, ID, req_mac, req_mac_len, stream, len, &rcode, &nrrs,
	                         &res);
	switch (rc) {
	case FE_OK:
		CHECK(ctl & 4); /* nothing unsigned passes */
		if (qtype == 252 && !rcode)
			CHECK(nrrs >= 2);
		break;
	case FE_EIO:
	case FE_EPERM:
	case FE_EFORMAT:
	case FE_ERANGE:
	case FE_ETIMEOUT:
		CHECK(res.err[0] != '\0');
		break;
	default:
		CHECK(rc == FE_ENOMEM);
	}
}

/* NOTIFY as the secondary's admission reads it, and as the primary's notifier reads an
 * answer. */
static void check_notify(const uint8_t *data, size_t size)
{
	if (size > FE_WIRE_MSG_MAX - FE_TSIG_RR_MAX)
		return;
	memcpy(msg, data, size);
	size_t n = size;
	if (n >= FE_WIRE_HDR_LEN)
		msg[2] = (uint8_t)((msg[2] & 0x87) | (FE_OP_NOTIFY << 3));
	struct fe_wire_query q;
	struct fe_tsig_result res;
	int vrc = FE_ENOENT;
	enum fe_wire_verdict v = fe_wire_query_parse(msg, n, &q);
	if ((v == FE_WIRE_OK || v == FE_WIRE_NOTIMP) && q.opcode == FE_OP_NOTIFY && q.has_tsig)
		vrc = fe_tsig_verify_request(msg, n, kr, NULL, &res);
	/* an unsigned one, signed by us, must verify as a request */
	if (n >= FE_WIRE_HDR_LEN && vrc == FE_ENOENT &&
	    fe_tsig_verify_request(msg, n, kr, NULL, &res) == FE_ENOENT) {
		uint8_t mac[FE_TSIG_MAC_MAX];
		size_t mac_len = 0, m = n;
		if (fe_tsig_sign(msg, &m, sizeof(msg), key, NULL, 0, NULL, mac, &mac_len) == FE_OK)
			CHECK(fe_tsig_verify_request(msg, m, kr, NULL, &res) == FE_OK);
	}
	/* the notifier: an answer to its request */
	if (size >= FE_WIRE_HDR_LEN) {
		uint16_t fl = fe_get_be16(data + 2);
		if ((fl & FE_F_QR) && ((fl >> 11) & 0xf) == FE_OP_NOTIFY) {
			int rc = fe_tsig_verify_response(data, size, key, req_mac, req_mac_len,
			                                 &res);
			CHECK(rc == FE_OK || rc == FE_ENOENT || rc == FE_EFORMAT ||
			      rc == FE_EPERM || rc == FE_ENOMEM);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!kr)
		init();
	if (size < 1)
		return 0;
	uint8_t ctl = data[0];
	check_parse(data + 1, size - 1, ctl);
	if (size > 3) { /* the first message of the stream, as a NOTIFY and its answer */
		size_t len = (size_t)data[1] << 8 | data[2];
		check_notify(data + 3, len < size - 3 ? len : size - 3);
	}
	return 0;
}
