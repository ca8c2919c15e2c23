/* Multi-message TSIG streams (RFC 8945 §5.3.1), e.g. a zone transfer over TCP. */
#include "tsig_int.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

struct fe_tsig_stream {
	const struct fe_tsig_key *key;
	/* running digest: prior MAC (the request MAC before the first message), then every
	 * unsigned message since */
	EVP_MAC_CTX *ctx;
	uint8_t mac[FE_TSIG_MAC_MAX];
	size_t mac_len;
	unsigned nmsg;
	unsigned unsigned_run; /* unsigned messages since the last signed one */
	uint64_t last_time;
	bool failed;
};

/* Start the next digest with the prior MAC (§5.3.1 "Prior MAC (running)"). */
static int prime(struct fe_tsig_stream *s)
{
	EVP_MAC_CTX_free(s->ctx);
	s->ctx = fe__tsig_mac_new(s->key);
	if (!s->ctx)
		return FE_ENOMEM;
	if (s->mac_len && fe__tsig_mac_prefix(s->ctx, s->mac, s->mac_len) != FE_OK)
		return FE_EIO;
	return FE_OK;
}

int fe_tsig_stream_create(const struct fe_tsig_key *key, const uint8_t *req_mac, size_t req_mac_len,
                          struct fe_tsig_stream **out)
{
	*out = NULL;
	if (!key || req_mac_len > FE_TSIG_MAC_MAX || (req_mac_len && !req_mac))
		return FE_EINVAL;
	struct fe_tsig_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return FE_ENOMEM;
	s->key = key;
	if (req_mac_len)
		memcpy(s->mac, req_mac, req_mac_len);
	s->mac_len = req_mac_len;
	int rc = prime(s);
	if (rc != FE_OK) {
		fe_tsig_stream_destroy(s);
		return rc;
	}
	*out = s;
	return FE_OK;
}

void fe_tsig_stream_destroy(struct fe_tsig_stream *s)
{
	if (!s)
		return;
	EVP_MAC_CTX_free(s->ctx);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

int fe_tsig_stream_sign(struct fe_tsig_stream *s, uint8_t *msg, size_t *len, size_t cap, bool sign,
                        const struct fe_tsig_sign_opts *opts)
{
	if (s->failed)
		return FE_EPERM;
	if (!sign && s->nmsg > 0) {
		if (s->unsigned_run >= FE_TSIG_MAX_UNSIGNED)
			return FE_ERANGE;
		if (!EVP_MAC_update(s->ctx, msg, *len))
			return FE_EIO;
		s->unsigned_run++;
		s->nmsg++;
		return FE_OK;
	}
	struct fe_tsig_sign_opts o;
	if (opts)
		o = *opts;
	else
		fe_tsig_sign_opts_init(&o);
	if (s->nmsg > 0) {
		/* later messages digest the timers only */
		o.error = 0;
		o.other = NULL;
		o.other_len = 0;
	}
	EVP_MAC_CTX *ctx = s->ctx;
	s->ctx = NULL;
	int rc =
	        fe__tsig_sign_ctx(ctx, msg, len, cap, s->key, s->nmsg > 0, &o, s->mac, &s->mac_len);
	if (rc == FE_OK)
		rc = prime(s);
	if (rc != FE_OK) {
		s->failed = true;
		return rc;
	}
	s->unsigned_run = 0;
	s->nmsg++;
	return FE_OK;
}

static int fail(struct fe_tsig_stream *s, int rc)
{
	s->failed = true;
	return rc;
}

int fe_tsig_stream_verify(struct fe_tsig_stream *s, const uint8_t *msg, size_t len,
                          struct fe_tsig_result *res)
{
	if (s->failed) {
		memset(res, 0, sizeof(*res));
		res->rcode = FE_TSIG_NOTAUTH;
		return FE_EPERM;
	}
	int rc = fe__tsig_locate(msg, len, res);
	if (rc == FE_ENOENT) {
		/* §5.3.1: the first message must be signed, and at most 99 in a row not */
		if (s->nmsg == 0 || s->unsigned_run >= FE_TSIG_MAX_UNSIGNED) {
			res->rcode = FE_RCODE_FORMERR;
			return fail(s, FE_EFORMAT);
		}
		if (!EVP_MAC_update(s->ctx, msg, len))
			return fail(s, FE_EIO);
		s->unsigned_run++;
		s->nmsg++;
		return FE_OK;
	}
	if (rc != FE_OK)
		return fail(s, rc);

	size_t alen;
	const uint8_t *aw = fe__tsig_alg_wire(s->key->alg, &alen);
	if (res->key_name_len != s->key->name_len ||
	    memcmp(res->key_name, s->key->name, s->key->name_len) != 0 ||
	    res->alg_name_len != alen || memcmp(res->alg_name, aw, alen) != 0) {
		res->rcode = FE_TSIG_NOTAUTH;
		res->error = FE_TSIG_BADKEY;
		return fail(s, FE_EPERM);
	}
	EVP_MAC_CTX *ctx = s->ctx;
	s->ctx = NULL;
	rc = fe__tsig_check(ctx, msg, s->key, s->nmsg > 0, true, res);
	if (rc != FE_OK)
		return fail(s, rc);
	/* §5.3.1: successive TSIGs of a stream have non-decreasing Time Signed */
	if (res->time_signed < s->last_time) {
		res->rcode = FE_TSIG_NOTAUTH;
		res->error = FE_TSIG_BADTIME;
		return fail(s, FE_EPERM);
	}
	s->last_time = res->time_signed;
	memcpy(s->mac, res->mac, res->mac_len);
	s->mac_len = res->mac_len;
	rc = prime(s);
	if (rc != FE_OK)
		return fail(s, rc);
	s->unsigned_run = 0;
	s->nmsg++;
	return FE_OK;
}

int fe_tsig_stream_end(const struct fe_tsig_stream *s)
{
	return !s->failed && s->nmsg > 0 && s->unsigned_run == 0 ? FE_OK : FE_EPERM;
}

const uint8_t *fe_tsig_stream_last_mac(const struct fe_tsig_stream *s, size_t *len)
{
	*len = s->nmsg > 0 ? s->mac_len : 0;
	return s->mac;
}
