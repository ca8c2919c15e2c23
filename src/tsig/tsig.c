/* TSIG on one message: locate and read the RR, MAC computation, sign, verify (RFC 8945). */
#include "tsig_int.h"

#include <openssl/crypto.h>
#include <string.h>

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint64_t rd48(const uint8_t *p)
{
	return (uint64_t)rd16(p) << 32 | (uint64_t)rd16(p + 2) << 16 | rd16(p + 4);
}

static void wr48(uint8_t *p, uint64_t v)
{
	wr16(p, (uint16_t)(v >> 32));
	wr16(p + 2, (uint16_t)(v >> 16));
	wr16(p + 4, (uint16_t)v);
}

/* The TSIG RR up to and including Time Signed (§4.2): owner, TYPE, CLASS ANY, TTL 0,
 * RDLENGTH, Algorithm Name, Time Signed. Returns where Time Signed ends (at Fudge). */
static uint8_t *put_head(uint8_t *p, const uint8_t *owner, size_t owner_len, size_t rdlen,
                         const uint8_t *alg, size_t alg_len, uint64_t time_signed)
{
	memcpy(p, owner, owner_len);
	p += owner_len;
	wr16(p, FE_T_TSIG);
	wr16(p + 2, FE_C_ANY);
	memset(p + 4, 0, 4);
	wr16(p + 8, (uint16_t)rdlen);
	p += 10;
	memcpy(p, alg, alg_len);
	p += alg_len;
	wr48(p, time_signed);
	return p;
}

static void reset_result(struct fe_tsig_result *res)
{
	memset(res, 0, offsetof(struct fe_tsig_result, key_name));
	res->key_name_len = 0;
	res->alg_name_len = 0;
	res->time_signed = 0;
	res->fudge_s = 0;
	res->orig_id = 0;
	res->rr_error = 0;
	res->mac_len = 0;
	res->other_len = 0;
	res->other = NULL;
}

static int formerr(struct fe_tsig_result *res)
{
	res->rcode = FE_RCODE_FORMERR;
	return FE_EFORMAT;
}

static int tsig_error(struct fe_tsig_result *res, uint16_t error)
{
	res->rcode = FE_TSIG_NOTAUTH;
	res->error = error;
	return FE_EPERM;
}

/* RDATA of a TSIG RR (RFC 8945 §4.2); everything must be consumed exactly. */
static int read_rdata(const uint8_t *rd, size_t rdlen, struct fe_tsig_result *res)
{
	int an = fe_wire_name_len(rd, rdlen); /* §4.2: MUST NOT be compressed */
	if (an < 0)
		return FE_EFORMAT;
	size_t p = (size_t)an;
	if (rdlen - p < 10)
		return FE_EFORMAT;
	res->alg_name_len = (uint8_t)an;
	fe_wire_name_lower(rd, res->alg_name);
	res->time_signed = rd48(rd + p);
	res->fudge_s = rd16(rd + p + 6);
	size_t mlen = rd16(rd + p + 8);
	p += 10;
	/* longer than any digest we implement: cannot be a MAC of ours (§5.2.2.1 case 1) */
	if (mlen > FE_TSIG_MAC_MAX || rdlen - p < mlen + 6)
		return FE_EFORMAT;
	res->mac_len = (uint16_t)mlen;
	memcpy(res->mac, rd + p, mlen);
	p += mlen;
	res->orig_id = rd16(rd + p);
	res->rr_error = rd16(rd + p + 2);
	res->other_len = rd16(rd + p + 4);
	p += 6;
	if (rdlen - p != res->other_len)
		return FE_EFORMAT;
	res->other = rd + p;
	return FE_OK;
}

int fe__tsig_locate(const uint8_t *msg, size_t len, struct fe_tsig_result *res)
{
	uint8_t owner[FE_WIRE_NAME_MAX];

	reset_result(res);
	if (len < FE_WIRE_HDR_LEN || len > FE_WIRE_MSG_MAX)
		return formerr(res);
	unsigned qd = rd16(msg + 4), an = rd16(msg + 6), ns = rd16(msg + 8), ar = rd16(msg + 10);
	unsigned total = an + ns + ar;
	size_t p = FE_WIRE_HDR_LEN;

	for (unsigned i = 0; i < qd; i++) {
		if (fe_wire_name_read(msg, len, &p, NULL) < 0 || len - p < 4)
			return formerr(res);
		p += 4;
	}
	for (unsigned i = 0; i < total; i++) {
		size_t start = p;
		int olen = fe_wire_name_read(msg, len, &p, owner);
		if (olen < 0 || len - p < 10)
			return formerr(res);
		uint16_t type = rd16(msg + p), rclass = rd16(msg + p + 2);
		uint32_t ttl = (uint32_t)rd16(msg + p + 4) << 16 | rd16(msg + p + 6);
		size_t rdlen = rd16(msg + p + 8);
		p += 10;
		if (rdlen > len - p)
			return formerr(res);
		if (type == FE_T_TSIG) {
			res->has_tsig = true;
			/* §5.2: the only TSIG, the last record of the additional section;
			 * §4.2: CLASS ANY, TTL 0 */
			if (i + 1 != total || ar == 0 || rclass != FE_C_ANY || ttl != 0)
				return formerr(res);
			res->tsig_offset = start;
			res->key_name_len = (uint8_t)olen;
			fe_wire_name_lower(owner, res->key_name);
			if (read_rdata(msg + p, rdlen, res) != FE_OK)
				return formerr(res);
		}
		p += rdlen;
	}
	if (p != len)
		return formerr(res);
	return res->has_tsig ? FE_OK : FE_ENOENT;
}

/* The message as it was before the TSIG was added: Original ID in place of the ID, ARCOUNT
 * one less, nothing from the TSIG RR on (RFC 8945 §4.3.2). */
static int digest_stripped(EVP_MAC_CTX *ctx, const uint8_t *msg, size_t tsig_off, uint16_t orig_id)
{
	uint8_t h[FE_WIRE_HDR_LEN];
	memcpy(h, msg, sizeof(h));
	wr16(h, orig_id);
	wr16(h + 10, (uint16_t)(rd16(h + 10) - 1));
	if (!EVP_MAC_update(ctx, h, sizeof(h)) ||
	    !EVP_MAC_update(ctx, msg + FE_WIRE_HDR_LEN, tsig_off - FE_WIRE_HDR_LEN))
		return FE_EIO;
	return FE_OK;
}

/* TSIG variables (§4.3.3) or, for the later messages of a stream, the timers only (§5.3.1). */
static int digest_vars(EVP_MAC_CTX *ctx, const uint8_t *key_name, size_t key_name_len,
                       const uint8_t *alg_name, size_t alg_name_len, uint64_t time_signed,
                       uint16_t fudge, uint16_t error, const uint8_t *other, uint16_t other_len,
                       bool timers_only)
{
	uint8_t b[10];
	if (!timers_only) {
		static const uint8_t class_ttl[6] = {0, FE_C_ANY, 0, 0, 0, 0};
		if (!EVP_MAC_update(ctx, key_name, key_name_len) ||
		    !EVP_MAC_update(ctx, class_ttl, sizeof(class_ttl)) ||
		    !EVP_MAC_update(ctx, alg_name, alg_name_len))
			return FE_EIO;
	}
	wr48(b, time_signed);
	wr16(b + 6, fudge);
	if (!EVP_MAC_update(ctx, b, 8))
		return FE_EIO;
	if (timers_only)
		return FE_OK;
	wr16(b, error);
	wr16(b + 2, other_len);
	if (!EVP_MAC_update(ctx, b, 4) || (other_len && !EVP_MAC_update(ctx, other, other_len)))
		return FE_EIO;
	return FE_OK;
}

static int mac_final(EVP_MAC_CTX *ctx, uint8_t *out, size_t *len)
{
	return EVP_MAC_final(ctx, out, len, FE_TSIG_MAC_MAX) ? FE_OK : FE_EIO;
}

int fe__tsig_check(EVP_MAC_CTX *ctx, const uint8_t *msg, const struct fe_tsig_key *key,
                   bool timers_only, bool client, struct fe_tsig_result *res)
{
	uint8_t mac[FE_TSIG_MAC_MAX];
	size_t mlen = 0;
	int rc;

	res->key = key;
	size_t d = key->digest_len;
	/* RFC 8945 §5.3.2: an unsigned error answer (MAC size 0) to our request */
	if (client && res->mac_len == 0 && res->rr_error != 0) {
		rc = tsig_error(res, res->rr_error);
		goto out;
	}
	/* §5.2.2.1: longer than the digest, or shorter than max(10, digest/2) */
	if (res->mac_len > d || res->mac_len < fe__tsig_mac_floor(d)) {
		rc = formerr(res);
		goto out;
	}
	if (digest_stripped(ctx, msg, res->tsig_offset, res->orig_id) != FE_OK ||
	    digest_vars(ctx, res->key_name, res->key_name_len, res->alg_name, res->alg_name_len,
	                res->time_signed, res->fudge_s, res->rr_error, res->other, res->other_len,
	                timers_only) != FE_OK ||
	    mac_final(ctx, mac, &mlen) != FE_OK) {
		rc = FE_EIO;
		goto out;
	}
	/* §5.2.2: compare the (possibly truncated) MAC, in constant time */
	if (mlen != d || CRYPTO_memcmp(mac, res->mac, res->mac_len) != 0) {
		rc = tsig_error(res, FE_TSIG_BADSIG);
		goto out;
	}
	res->mac_ok = true;
	/* a signed answer reporting a TSIG error (§5.4: e.g. BADTIME with the server's time) */
	if (client && res->rr_error != 0) {
		rc = tsig_error(res, res->rr_error);
		goto out;
	}
	/* RFC 8945 §5.2.3: check time after the MAC, so a forged request never gets a signed
	 * BADTIME answer over its unverified MAC (§10.1) */
	int64_t now = fe_time_wall_s();
	int64_t ts = (int64_t)res->time_signed;
	if (now > ts + res->fudge_s || now < ts - res->fudge_s) {
		rc = tsig_error(res, FE_TSIG_BADTIME);
		goto out;
	}
	/* §5.2.4: allowed by §5.2.2.1 but shorter than the local policy */
	if (res->mac_len < key->min_mac_len) {
		rc = tsig_error(res, FE_TSIG_BADTRUNC);
		goto out;
	}
	rc = FE_OK;
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	EVP_MAC_CTX_free(ctx);
	return rc;
}

int fe_tsig_verify_request(const uint8_t *msg, size_t len, const struct fe_tsig_keyring *kr,
                           struct fe_tsig_replay *replay, struct fe_tsig_result *res)
{
	int rc = fe__tsig_locate(msg, len, res);
	if (rc != FE_OK)
		return rc;
	/* §5.2.1: unknown key or algorithm */
	enum fe_tsig_alg alg = fe__tsig_alg_from_wire(res->alg_name, res->alg_name_len);
	const struct fe_tsig_key *key = alg ? fe_tsig_keyring_find(kr, res->key_name, alg) : NULL;
	if (!key)
		return tsig_error(res, FE_TSIG_BADKEY);
	EVP_MAC_CTX *ctx = fe__tsig_mac_new(key);
	if (!ctx)
		return FE_ENOMEM;
	rc = fe__tsig_check(ctx, msg, key, false, false, res);
	if (rc != FE_OK || !replay)
		return rc;
	if (fe_tsig_replay_check(replay, key, res->time_signed, res->fudge_s, res->mac,
	                         res->mac_len, fe_time_wall_s()) != FE_OK) {
		res->replayed = true;
		return tsig_error(res, FE_TSIG_BADTIME);
	}
	return FE_OK;
}

/* The TSIG of a response must name the key of the request (§5.4.1). */
static bool same_key(const struct fe_tsig_key *key, const struct fe_tsig_result *res)
{
	size_t alen;
	const uint8_t *aw = fe__tsig_alg_wire(key->alg, &alen);
	return res->key_name_len == key->name_len &&
	       memcmp(res->key_name, key->name, key->name_len) == 0 && res->alg_name_len == alen &&
	       memcmp(res->alg_name, aw, alen) == 0;
}

int fe_tsig_verify_response(const uint8_t *msg, size_t len, const struct fe_tsig_key *key,
                            const uint8_t *req_mac, size_t req_mac_len, struct fe_tsig_result *res)
{
	int rc = fe__tsig_locate(msg, len, res);
	if (rc != FE_OK)
		return rc;
	if (!same_key(key, res))
		return tsig_error(res, FE_TSIG_BADKEY);
	EVP_MAC_CTX *ctx = fe__tsig_mac_new(key);
	if (!ctx)
		return FE_ENOMEM;
	if (req_mac && fe__tsig_mac_prefix(ctx, req_mac, req_mac_len) != FE_OK) {
		EVP_MAC_CTX_free(ctx);
		return FE_EIO;
	}
	return fe__tsig_check(ctx, msg, key, false, true, res);
}

void fe_tsig_sign_opts_init(struct fe_tsig_sign_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->fudge_s = FE_TSIG_FUDGE_DEFAULT;
}

int fe__tsig_sign_ctx(EVP_MAC_CTX *ctx, uint8_t *msg, size_t *len, size_t cap,
                      const struct fe_tsig_key *key, bool timers_only,
                      const struct fe_tsig_sign_opts *opts, uint8_t *mac_out, size_t *mac_len_out)
{
	struct fe_tsig_sign_opts defaults;
	uint8_t mac[FE_TSIG_MAC_MAX];
	size_t mlen = 0, alen;
	int rc;

	if (!opts) {
		fe_tsig_sign_opts_init(&defaults);
		opts = &defaults;
	}
	const uint8_t *aw = fe__tsig_alg_wire(key->alg, &alen);
	size_t n = *len;
	size_t maclen = opts->mac_len ? opts->mac_len : key->digest_len;
	if (maclen > key->digest_len || maclen < fe__tsig_mac_floor(key->digest_len)) {
		rc = FE_EINVAL;
		goto out;
	}
	if (n < FE_WIRE_HDR_LEN || rd16(msg + 10) == 0xffff) {
		rc = FE_EFORMAT;
		goto out;
	}
	size_t rdlen = alen + 16 + maclen + opts->other_len;
	size_t rrlen = key->name_len + 10 + rdlen;
	if (rdlen > 0xffff || cap < n || cap - n < rrlen || n + rrlen > FE_WIRE_MSG_MAX) {
		rc = FE_ENOSPC;
		goto out;
	}
	int64_t now = opts->time_signed ? opts->time_signed : fe_time_wall_s();
	uint64_t ts = now < 0 ? 0 : (uint64_t)now & 0xffffffffffffull;
	if (!EVP_MAC_update(ctx, msg, n) ||
	    digest_vars(ctx, key->name, key->name_len, aw, alen, ts, opts->fudge_s, opts->error,
	                opts->other, opts->other_len, timers_only) != FE_OK ||
	    mac_final(ctx, mac, &mlen) != FE_OK) {
		rc = FE_EIO;
		goto out;
	}
	/* the TSIG RR: owner, TYPE, CLASS ANY, TTL 0, RDLENGTH, RDATA (§4.2) */
	uint8_t *p = put_head(msg + n, key->name, key->name_len, rdlen, aw, alen, ts);
	wr16(p + 6, opts->fudge_s);
	wr16(p + 8, (uint16_t)maclen);
	p += 10;
	memcpy(p, mac, maclen);
	p += maclen;
	memcpy(p, msg, 2); /* Original ID: the message's own */
	wr16(p + 2, opts->error);
	wr16(p + 4, opts->other_len);
	p += 6;
	if (opts->other_len)
		memcpy(p, opts->other, opts->other_len);
	wr16(msg + 10, (uint16_t)(rd16(msg + 10) + 1));
	*len = n + rrlen;
	if (mac_out)
		memcpy(mac_out, mac, maclen);
	if (mac_len_out)
		*mac_len_out = maclen;
	rc = FE_OK;
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	EVP_MAC_CTX_free(ctx);
	return rc;
}

int fe_tsig_sign(uint8_t *msg, size_t *len, size_t cap, const struct fe_tsig_key *key,
                 const uint8_t *req_mac, size_t req_mac_len, const struct fe_tsig_sign_opts *opts,
                 uint8_t *mac_out, size_t *mac_len_out)
{
	EVP_MAC_CTX *ctx = fe__tsig_mac_new(key);
	if (!ctx)
		return FE_ENOMEM;
	if (req_mac && fe__tsig_mac_prefix(ctx, req_mac, req_mac_len) != FE_OK) {
		EVP_MAC_CTX_free(ctx);
		return FE_EIO;
	}
	return fe__tsig_sign_ctx(ctx, msg, len, cap, key, false, opts, mac_out, mac_len_out);
}

size_t fe_tsig_error_response(const uint8_t *req, size_t req_len, const struct fe_tsig_result *res,
                              uint8_t *out, size_t cap)
{
	bool signed_answer = res->error == FE_TSIG_BADTIME || res->error == FE_TSIG_BADTRUNC;
	if (req_len < FE_WIRE_HDR_LEN || cap < FE_WIRE_HDR_LEN || !res->has_tsig ||
	    (res->error != FE_TSIG_BADKEY && res->error != FE_TSIG_BADSIG && !signed_answer) ||
	    (signed_answer && (!res->key || !res->mac_ok)))
		return 0;

	/* header: ID, opcode, RD, CD from the request; QR; RCODE NOTAUTH */
	uint16_t flags = rd16(req + 2);
	flags = (uint16_t)((flags & (0x7800u | FE_F_RD | FE_F_CD)) | FE_F_QR | FE_TSIG_NOTAUTH);
	memcpy(out, req, 2);
	wr16(out + 2, flags);
	memset(out + 4, 0, 8);
	size_t n = FE_WIRE_HDR_LEN;

	/* the question, when it reads cleanly */
	uint8_t qname[FE_WIRE_NAME_MAX];
	size_t p = FE_WIRE_HDR_LEN;
	if (rd16(req + 4) == 1) {
		int ql = fe_wire_name_read(req, req_len, &p, qname);
		if (ql > 0 && req_len - p >= 4 && cap - n >= (size_t)ql + 4) {
			memcpy(out + n, qname, (size_t)ql);
			memcpy(out + n + ql, req + p, 4);
			n += (size_t)ql + 4;
			wr16(out + 4, 1);
		}
	}

	if (signed_answer) {
		/* §5.2.3: signed with the request's key over the validated request MAC, Time
		 * Signed and Fudge as in the request, our time in Other Data */
		struct fe_tsig_sign_opts o;
		uint8_t now48[6];
		fe_tsig_sign_opts_init(&o);
		o.time_signed = (int64_t)res->time_signed;
		o.fudge_s = res->fudge_s;
		o.error = res->error;
		if (res->error == FE_TSIG_BADTIME) {
			int64_t now = fe_time_wall_s();
			wr48(now48, now < 0 ? 0 : (uint64_t)now);
			o.other = now48;
			o.other_len = 6;
		}
		if (fe_tsig_sign(out, &n, cap, res->key, res->mac, res->mac_len, &o, NULL, NULL) !=
		    FE_OK)
			return 0;
		return n;
	}

	/* §5.3.2: unsigned, MAC size 0 */
	size_t rdlen = res->alg_name_len + 16u;
	size_t rrlen = res->key_name_len + 10u + rdlen;
	if (cap - n < rrlen)
		return 0;
	uint8_t *w = put_head(out + n, res->key_name, res->key_name_len, rdlen, res->alg_name,
	                      res->alg_name_len, res->time_signed);
	wr16(w + 6, res->fudge_s);
	wr16(w + 8, 0);
	wr16(w + 10, res->orig_id);
	wr16(w + 12, res->error);
	wr16(w + 14, 0);
	wr16(out + 10, 1);
	return n + rrlen;
}
