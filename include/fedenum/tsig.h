/* include/fedenum/tsig.h — TSIG (RFC 8945): keys, keyring, signing and verifying messages and
 * multi-message streams, a replay cache, and the TSIG error answers.
 *
 * For peer replication (zone transfer between federation nodes). Algorithms: hmac-sha256,
 * hmac-sha384, hmac-sha512 (RFC 8945 §6; hmac-sha1 and hmac-md5 are refused on purpose).
 * Messages are caller buffers in DNS wire format; nothing here does I/O or logs. Verification
 * follows RFC 8945 §5.2 in order: key (BADKEY) → MAC (BADSIG) → time (BADTIME, checked only
 * after the MAC, §5.2.3) → local truncation policy (BADTRUNC).
 *
 * Threads: keys and keyrings are immutable once loaded and may be shared by any number of
 * threads; a replay cache locks internally; a stream belongs to one thread at a time.
 * Time comes from fe_time_wall_s() (tests pin it with fe_time_set_fake_wall_s). */
#ifndef FEDENUM_TSIG_H
#define FEDENUM_TSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FE_TSIG_MAC_MAX       64  /* largest digest (hmac-sha512) */
#define FE_TSIG_SECRET_MAX    256 /* octets of a decoded secret */
#define FE_TSIG_FUDGE_DEFAULT 300 /* seconds, RFC 8945 §10 */
#define FE_TSIG_MAX_UNSIGNED  99  /* intermediary unsigned messages a client accepts, §5.3.1 */
/* Wire octets a TSIG RR adds at most: key name and algorithm name (255 each), fixed fields. */
#define FE_TSIG_RR_MAX (255 + 10 + 255 + 16 + FE_TSIG_MAC_MAX + 6)

enum fe_tsig_alg { FE_TSIG_HMAC_SHA256 = 1, FE_TSIG_HMAC_SHA384 = 2, FE_TSIG_HMAC_SHA512 = 3 };

/* DNS RCODE 9 and the TSIG Error values (RFC 8945 §3). */
enum {
	FE_TSIG_NOTAUTH = 9,
	FE_TSIG_BADSIG = 16,
	FE_TSIG_BADKEY = 17,
	FE_TSIG_BADTIME = 18,
	FE_TSIG_BADTRUNC = 22
};

/* "hmac-sha256" etc. for an algorithm; NULL for an unknown value. */
const char *fe_tsig_alg_name(enum fe_tsig_alg alg);
/* Case-insensitive, trailing dot allowed. FE_OK or FE_ENOTSUP. */
int fe_tsig_alg_from_name(const char *name, enum fe_tsig_alg *out);
/* Digest length in octets (32, 48, 64); 0 for an unknown value. */
size_t fe_tsig_alg_digest_len(enum fe_tsig_alg alg);

/* ---- keys --------------------------------------------------------------------------- */

struct fe_tsig_key;

/* A key @name (presentation form, e.g. "xfr.carrier-a.", trailing dot optional, no escapes)
 * with @alg and the decoded @secret (1..FE_TSIG_SECRET_MAX octets, copied). The name is kept
 * lowercased in canonical wire form. Errors: FE_EINVAL (bad name, empty or long secret),
 * FE_ENOTSUP (algorithm), FE_ENOMEM, FE_EIO (OpenSSL). *out is NULL on error. */
int fe_tsig_key_create(const char *name, enum fe_tsig_alg alg, const uint8_t *secret,
                       size_t secret_len, struct fe_tsig_key **out);
/* Same from "alg:name:base64" (the form of kdig -y). FE_ESYNTAX for a malformed string. */
int fe_tsig_key_from_string(const char *spec, struct fe_tsig_key **out);
void fe_tsig_key_destroy(struct fe_tsig_key *key); /* NULL is a no-op; the secret is wiped */

/* Borrowed, valid while the key lives. */
const uint8_t *fe_tsig_key_name(const struct fe_tsig_key *key); /* canonical wire name */
enum fe_tsig_alg fe_tsig_key_alg(const struct fe_tsig_key *key);

/* Local truncation policy (RFC 8945 §5.2.4, §7): the shortest MAC accepted with this key.
 * Default: the full digest (no truncation accepted). Values below max(10, digest/2) or above
 * the digest length are FE_EINVAL. A MAC inside the RFC limits but shorter than this policy
 * gets BADTRUNC. */
int fe_tsig_key_set_min_mac_len(struct fe_tsig_key *key, size_t len);
size_t fe_tsig_key_min_mac_len(const struct fe_tsig_key *key);

/* ---- keyring ------------------------------------------------------------------------ */

struct fe_tsig_keyring;

int fe_tsig_keyring_create(struct fe_tsig_keyring **out); /* FE_ENOMEM */
void fe_tsig_keyring_destroy(struct fe_tsig_keyring *kr); /* NULL no-op; destroys its keys */

/* Add @key; the keyring owns it on success (on error the caller still does). One algorithm
 * per key name (RFC 8945 §10): a second key with the same name is FE_EEXIST. */
int fe_tsig_keyring_add(struct fe_tsig_keyring *kr, struct fe_tsig_key *key);

/* Read every `key "name" { algorithm hmac-sha256; secret "base64"; };` statement of @path
 * (the form tsig-keygen prints; '#', '//' and C comments allowed) into @kr. All or nothing:
 * on error no key of the file is added and @err (if non-NULL) gets "path:line: reason".
 * Errors: FE_ENOENT/FE_EIO (file), FE_ESYNTAX (syntax, bad base64, unknown statement),
 * FE_ENOTSUP (algorithm), FE_EEXIST (duplicate name), FE_ENOMEM. */
int fe_tsig_keyring_load_file(struct fe_tsig_keyring *kr, const char *path, char *err,
                              size_t err_cap);

/* Key by canonical wire @name (case-insensitive) and algorithm; NULL when there is none or its
 * algorithm differs. Borrowed from the keyring. */
const struct fe_tsig_key *fe_tsig_keyring_find(const struct fe_tsig_keyring *kr,
                                               const uint8_t *name, enum fe_tsig_alg alg);
size_t fe_tsig_keyring_count(const struct fe_tsig_keyring *kr);
const struct fe_tsig_key *fe_tsig_keyring_get(const struct fe_tsig_keyring *kr, size_t i);

/* ---- signing ------------------------------------------------------------------------ */

/* Options of fe_tsig_sign; fe_tsig_sign_opts_init gives the defaults. */
struct fe_tsig_sign_opts {
	uint16_t fudge_s;     /* FE_TSIG_FUDGE_DEFAULT */
	uint16_t mac_len;     /* 0: the full digest; else truncated (RFC 8945 §5.2.2.1 limits) */
	uint16_t error;       /* TSIG Error field (responses), 0 */
	int64_t time_signed;  /* 0: now */
	const uint8_t *other; /* Other Data (borrowed), NULL */
	uint16_t other_len;
};
void fe_tsig_sign_opts_init(struct fe_tsig_sign_opts *o);

/* Sign the message msg[0..*len) in place (RFC 8945 §4.3, §5.1, §5.3): the digest covers the
 * request MAC (@req_mac, @req_mac_len octets, when signing a response; NULL for a request),
 * the message as it is (its own ID is the Original ID), and the TSIG variables; then the
 * TSIG RR (owner = key name, class ANY, TTL 0) is appended and ARCOUNT incremented. @opts may
 * be NULL (defaults). The MAC written is copied to @mac_out (FE_TSIG_MAC_MAX octets, may be
 * NULL) with its length in *mac_len_out, for checking the response. Errors: FE_ENOSPC (@cap
 * too small; message unchanged), FE_EFORMAT (shorter than a header, ARCOUNT 65535),
 * FE_EINVAL (MAC length outside the RFC limits), FE_ENOMEM/FE_EIO (OpenSSL). */
int fe_tsig_sign(uint8_t *msg, size_t *len, size_t cap, const struct fe_tsig_key *key,
                 const uint8_t *req_mac, size_t req_mac_len, const struct fe_tsig_sign_opts *opts,
                 uint8_t *mac_out, size_t *mac_len_out);

/* ---- verifying ---------------------------------------------------------------------- */

/* Outcome of a verification; filled as far as the message was read. Pointers borrow from the
 * message verified. */
struct fe_tsig_result {
	uint16_t rcode; /* what to answer: 0, FE_RCODE_FORMERR or FE_TSIG_NOTAUTH */
	uint16_t error; /* TSIG error for the answer: 0, BADSIG, BADKEY, BADTIME, BADTRUNC */
	bool has_tsig;  /* a TSIG RR was found (possibly misplaced) */
	bool mac_ok;    /* the MAC verified (the request MAC may be used for the answer) */
	bool replayed;  /* rejected by the replay cache (error BADTIME) */
	const struct fe_tsig_key *key; /* the key found (NULL for BADKEY) */
	size_t tsig_offset;            /* octets before the TSIG RR */
	/* the TSIG RR as received */
	uint8_t key_name[255]; /* canonical (lowercased) wire form */
	uint8_t key_name_len;
	uint8_t alg_name[255]; /* canonical wire form */
	uint8_t alg_name_len;
	uint64_t time_signed;
	uint16_t fudge_s;
	uint16_t orig_id;
	uint16_t rr_error; /* the Error field received */
	uint16_t mac_len;
	uint8_t mac[FE_TSIG_MAC_MAX]; /* the MAC received (first mac_len octets) */
	uint16_t other_len;
	const uint8_t *other;
};

struct fe_tsig_replay;

/* Server side, RFC 8945 §5.2. Returns:
 *  FE_OK       signed, MAC valid, in time, policy met (and not a replay when @replay is set);
 *  FE_ENOENT   no TSIG RR at all (an unsigned request: the caller's policy decides);
 *  FE_EFORMAT  TSIG misplaced (not the last additional RR, two of them), class not ANY, TTL
 *              not 0, RDATA malformed, MAC size above the digest or below max(10, digest/2)
 *              (§5.2.2.1): answer FORMERR (res->rcode);
 *  FE_EPERM    res->error is BADKEY or BADSIG (answer unsigned: fe_tsig_error_response), or
 *              BADTIME (also for a replay) or BADTRUNC (answer signed), res->rcode NOTAUTH.
 * @replay (may be NULL) records requests that passed and rejects an identical one (same key,
 * time and MAC) seen before within its fudge window. */
int fe_tsig_verify_request(const uint8_t *msg, size_t len, const struct fe_tsig_keyring *kr,
                           struct fe_tsig_replay *replay, struct fe_tsig_result *res);

/* Client side, one response to a request signed with @key whose MAC was @req_mac (RFC 8945
 * §5.4): same checks and returns, plus FE_ENOENT when the response has no TSIG (discard it)
 * and FE_EPERM with res->mac_ok false for an unsigned TSIG error answer (MAC size 0; its
 * error in res->rr_error), and FE_EPERM with res->mac_ok true when a signed answer reports a
 * TSIG error (res->rr_error, e.g. BADTIME with the server's time in res->other). */
int fe_tsig_verify_response(const uint8_t *msg, size_t len, const struct fe_tsig_key *key,
                            const uint8_t *req_mac, size_t req_mac_len, struct fe_tsig_result *res);

/* ---- multi-message streams (RFC 8945 §5.3.1) ----------------------------------------- */

/* One direction of one TCP exchange (e.g. an AXFR response), signer or verifier. The first
 * message's digest covers @req_mac and the full TSIG variables; each later signed message's
 * digest covers the previous MAC, every unsigned message since, and the TSIG timers only. */
struct fe_tsig_stream;

/* @key is borrowed and must outlive the stream; @req_mac is copied. Errors: FE_EINVAL,
 * FE_ENOMEM. */
int fe_tsig_stream_create(const struct fe_tsig_key *key, const uint8_t *req_mac, size_t req_mac_len,
                          struct fe_tsig_stream **out);
void fe_tsig_stream_destroy(struct fe_tsig_stream *s); /* NULL is a no-op */

/* Signer: add the next message; @sign false leaves it unsigned (it is still digested). The
 * first message is always signed, and a 100th unsigned message in a row is refused
 * (FE_ERANGE). @opts as for fe_tsig_sign (error and other data apply to the first message
 * only, as later ones digest timers only). Errors as fe_tsig_sign. */
int fe_tsig_stream_sign(struct fe_tsig_stream *s, uint8_t *msg, size_t *len, size_t cap, bool sign,
                        const struct fe_tsig_sign_opts *opts);

/* Verifier (client): the next message. Returns FE_OK for a verified signed message and for an
 * acceptable unsigned one (res->has_tsig false); otherwise the fe_tsig_verify_response codes,
 * and FE_EFORMAT for an unsigned first message or a 100th unsigned message in a row. After any
 * error the stream is failed: every later call returns FE_EPERM (close the connection). */
int fe_tsig_stream_verify(struct fe_tsig_stream *s, const uint8_t *msg, size_t len,
                          struct fe_tsig_result *res);

/* End of the stream: FE_OK when messages were seen, none failed and the last one was signed
 * and verified (§5.3.1); FE_EPERM otherwise. */
int fe_tsig_stream_end(const struct fe_tsig_stream *s);

/* The MAC of the last signed message (signer: written; verifier: verified). Borrowed. */
const uint8_t *fe_tsig_stream_last_mac(const struct fe_tsig_stream *s, size_t *len);

/* ---- replay cache ------------------------------------------------------------------- */

/* A bounded cache of accepted requests (key, Time Signed, MAC), each kept until Time Signed
 * + fudge has passed. When it is full of live entries the oldest is evicted and its Time
 * Signed becomes a floor: requests (any key) signed at or before it are refused too, so
 * eviction never reopens a replay window (RFC 8945 §5.2.3 "cache the most recent Time
 * Signed"). Thread-safe. */
int fe_tsig_replay_create(size_t capacity, struct fe_tsig_replay **out); /* FE_EINVAL/ENOMEM */
void fe_tsig_replay_destroy(struct fe_tsig_replay *rc);                  /* NULL is a no-op */
/* FE_OK (new, now recorded) or FE_EEXIST (seen, or at/below the floor). @now_s: the clock. */
int fe_tsig_replay_check(struct fe_tsig_replay *rc, const struct fe_tsig_key *key,
                         uint64_t time_signed, uint16_t fudge_s, const uint8_t *mac, size_t mac_len,
                         int64_t now_s);

/* ---- error answers (RFC 8945 §5.3.2) ------------------------------------------------ */

/* The answer to a request that fe_tsig_verify_request refused with FE_EPERM: header copied
 * (ID, opcode, RD, CD), QR set, RCODE NOTAUTH, the question echoed when it reads cleanly, and
 * a TSIG RR with the request's key name, algorithm, Time Signed, fudge and Original ID and
 * res->error. BADKEY and BADSIG answers are unsigned (MAC size 0). BADTIME and BADTRUNC
 * answers are signed with the key over the request MAC (§5.2.3); BADTIME carries the server's
 * time (6 octets) in Other Data. Returns the length written, or 0 when @cap is too small, the
 * request is shorter than a header, or @res is not a TSIG error. */
size_t fe_tsig_error_response(const uint8_t *req, size_t req_len, const struct fe_tsig_result *res,
                              uint8_t *out, size_t cap);

#endif
