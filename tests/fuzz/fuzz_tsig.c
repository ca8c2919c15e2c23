/* libFuzzer target: TSIG location, parsing and verification on hostile messages, the error
 * answers built from them, and the stream verifier. Invariants (any violation aborts):
 *  - verification returns only the documented codes, with a matching rcode/error;
 *  - what it reports lies inside the message (TSIG offset, Other Data);
 *  - a BADKEY/BADSIG/BADTIME/BADTRUNC answer we build has QR, RCODE NOTAUTH and a TSIG that
 *    our own reader locates, unsigned (MAC size 0) exactly for BADKEY/BADSIG;
 *  - any well-formed unsigned message, once signed with a known key, verifies (request and
 *    response), and a stream of it (signed, the input unsigned, signed) verifies. */
#include "fedenum/tsig.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "tsig_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

static struct fe_tsig_keyring *kr;
static struct fe_tsig_replay *replay;
static const struct fe_tsig_key *keys[3];

/* Keys shared with tests/fuzz/make_tsig_corpus.py: secret = octets 0..31. */
static void init(void)
{
	static const char *const names[] = {"fuzz-a.", "fuzz-b.", "fuzz-c."};
	static const enum fe_tsig_alg algs[] = {FE_TSIG_HMAC_SHA256, FE_TSIG_HMAC_SHA384,
	                                        FE_TSIG_HMAC_SHA512};
	uint8_t secret[32];
	for (unsigned i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)i;
	CHECK(fe_tsig_keyring_create(&kr) == FE_OK);
	CHECK(fe_tsig_replay_create(64, &replay) == FE_OK);
	for (int i = 0; i < 3; i++) {
		struct fe_tsig_key *k;
		CHECK(fe_tsig_key_create(names[i], algs[i], secret, sizeof(secret), &k) == FE_OK);
		if (i == 1) /* one key accepts truncated MACs, so BADTRUNC and truncation run */
			CHECK(fe_tsig_key_set_min_mac_len(k, 24) == FE_OK);
		CHECK(fe_tsig_keyring_add(kr, k) == FE_OK);
		keys[i] = k;
	}
}

static void check_result(int rc, const struct fe_tsig_result *res, size_t size)
{
	switch (rc) {
	case FE_OK:
		CHECK(res->has_tsig && res->mac_ok && res->key && res->error == 0);
		break;
	case FE_ENOENT:
		CHECK(!res->has_tsig);
		break;
	case FE_EFORMAT:
		CHECK(res->rcode == FE_RCODE_FORMERR);
		break;
	case FE_EPERM:
		CHECK(res->rcode == FE_TSIG_NOTAUTH && res->has_tsig);
		CHECK(res->error == FE_TSIG_BADKEY || res->error == FE_TSIG_BADSIG ||
		      res->error == FE_TSIG_BADTIME || res->error == FE_TSIG_BADTRUNC);
		break;
	default:
		CHECK(rc == FE_ENOMEM);
		return;
	}
	if (rc == FE_OK || rc == FE_EPERM) {
		CHECK(res->tsig_offset >= FE_WIRE_HDR_LEN && res->tsig_offset < size);
		CHECK(res->mac_len <= FE_TSIG_MAC_MAX);
		CHECK(!res->other_len || (res->other != NULL));
	}
}

static uint8_t buf[FE_WIRE_MSG_MAX + FE_TSIG_RR_MAX + 16];
static uint8_t out[FE_WIRE_MSG_MAX + 16];

static void check_error_answer(const uint8_t *data, size_t size, const struct fe_tsig_result *res)
{
	struct fe_tsig_result ares;
	size_t n = fe_tsig_error_response(data, size, res, out, sizeof(out));
	if (n == 0)
		return;
	CHECK(n >= FE_WIRE_HDR_LEN && n <= sizeof(out));
	CHECK((out[2] & 0x80) && (out[3] & 0xf) == FE_TSIG_NOTAUTH);
	CHECK(fe__tsig_locate(out, n, &ares) == FE_OK);
	CHECK(ares.rr_error == res->error);
	bool unsigned_answer = res->error == FE_TSIG_BADKEY || res->error == FE_TSIG_BADSIG;
	CHECK(unsigned_answer == (ares.mac_len == 0));
	if (!unsigned_answer) {
		/* the client that sent the request verifies the signed error */
		CHECK(fe_tsig_verify_response(out, n, res->key, res->mac, res->mac_len, &ares) ==
		      FE_EPERM);
		CHECK(ares.mac_ok && ares.rr_error == res->error);
	}
}

/* A well-formed unsigned message signed by us must verify, as request and in a stream. */
static void round_trip(const uint8_t *data, size_t size, unsigned which)
{
	const struct fe_tsig_key *k = keys[which % 3];
	struct fe_tsig_result res;
	uint8_t mac[FE_TSIG_MAC_MAX];
	size_t maclen, n = size;

	if (size > FE_WIRE_MSG_MAX - FE_TSIG_RR_MAX)
		return;
	memcpy(buf, data, size);
	int rc = fe_tsig_sign(buf, &n, sizeof(buf), k, NULL, 0, NULL, mac, &maclen);
	if (rc == FE_EFORMAT) /* ARCOUNT 65535 */
		return;
	CHECK(rc == FE_OK);
	CHECK(fe_tsig_verify_request(buf, n, kr, NULL, &res) == FE_OK && res.key == k);
	CHECK(res.mac_len == maclen && memcmp(res.mac, mac, maclen) == 0);

	struct fe_tsig_stream *s, *v;
	CHECK(fe_tsig_stream_create(k, mac, maclen, &s) == FE_OK);
	CHECK(fe_tsig_stream_create(k, mac, maclen, &v) == FE_OK);
	for (int i = 0; i < 3; i++) {
		n = size;
		memcpy(buf, data, size);
		CHECK(fe_tsig_stream_sign(s, buf, &n, sizeof(buf), i != 1, NULL) == FE_OK);
		CHECK(fe_tsig_stream_verify(v, buf, n, &res) == FE_OK);
		CHECK(res.has_tsig == (i != 1));
	}
	CHECK(fe_tsig_stream_end(v) == FE_OK);
	fe_tsig_stream_destroy(s);
	fe_tsig_stream_destroy(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fe_tsig_result res;

	if (!kr)
		init();
	int rc = fe_tsig_verify_request(data, size, kr, replay, &res);
	check_result(rc, &res, size);
	if (rc == FE_EPERM)
		check_error_answer(data, size, &res);
	if (rc == FE_ENOENT && size >= FE_WIRE_HDR_LEN)
		round_trip(data, size, data[size - 1]);

	/* the client side: as a response to the first key's request, and as a stream */
	for (int i = 0; i < 3; i++) {
		static const uint8_t req_mac[32] = {1};
		rc = fe_tsig_verify_response(data, size, keys[i], req_mac, sizeof(req_mac), &res);
		/* a client reports the error field of the answer, whatever it is */
		if (rc == FE_EPERM)
			CHECK(res.rcode == FE_TSIG_NOTAUTH && res.has_tsig);
		else
			check_result(rc, &res, size);
	}
	struct fe_tsig_stream *v;
	CHECK(fe_tsig_stream_create(keys[0], NULL, 0, &v) == FE_OK);
	for (int i = 0; i < 2; i++) {
		rc = fe_tsig_stream_verify(v, data, size, &res);
		CHECK(rc != FE_OK || res.has_tsig || i > 0);
	}
	fe_tsig_stream_destroy(v);
	return 0;
}
