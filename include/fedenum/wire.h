/* include/fedenum/wire.h — DNS wire format: query parse, answer assembly, names, EDNS.
 *
 * No I/O, no logging, no heap: every function works on caller buffers and is reentrant.
 * All packet input is hostile: every read is bounds-checked, compression pointers are
 * followed only backwards and at most FE_WIRE_MAX_HOPS times. */
#ifndef FEDENUM_WIRE_H
#define FEDENUM_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FE_WIRE_HDR_LEN     12
#define FE_WIRE_NAME_MAX    255 /* octets of an uncompressed wire name, root label included */
#define FE_WIRE_LABEL_MAX   63
#define FE_WIRE_KEY_MAX     512 /* fe_wire_name_key output bound */
#define FE_WIRE_MAX_HOPS    16  /* compression pointers followed per name */
#define FE_WIRE_UDP_MIN     512
#define FE_WIRE_UDP_DEFAULT 1232 /* our EDNS buffer (DNS flag day 2020) */
#define FE_WIRE_MSG_MAX     65535

/* RR types and classes we name in code. */
enum {
	FE_T_A = 1,
	FE_T_NS = 2,
	FE_T_CNAME = 5,
	FE_T_SOA = 6,
	FE_T_PTR = 12,
	FE_T_MX = 15,
	FE_T_TXT = 16,
	FE_T_AAAA = 28,
	FE_T_SRV = 33,
	FE_T_NAPTR = 35,
	FE_T_DNAME = 39,
	FE_T_OPT = 41,
	FE_T_DS = 43,
	FE_T_RRSIG = 46,
	FE_T_NSEC = 47,
	FE_T_DNSKEY = 48,
	FE_T_NSEC3 = 50,
	FE_T_NSEC3PARAM = 51,
	FE_T_ZONEMD = 63,
	FE_T_SVCB = 64,
	FE_T_HTTPS = 65,
	FE_T_TKEY = 249,
	FE_T_TSIG = 250,
	FE_T_IXFR = 251,
	FE_T_AXFR = 252,
	FE_T_MAILB = 253,
	FE_T_MAILA = 254,
	FE_T_ANY = 255
};
enum { FE_C_IN = 1, FE_C_CH = 3, FE_C_NONE = 254, FE_C_ANY = 255 };
enum { FE_OP_QUERY = 0, FE_OP_NOTIFY = 4, FE_OP_UPDATE = 5 };
enum {
	FE_RCODE_NOERROR = 0,
	FE_RCODE_FORMERR = 1,
	FE_RCODE_SERVFAIL = 2,
	FE_RCODE_NXDOMAIN = 3,
	FE_RCODE_NOTIMP = 4,
	FE_RCODE_REFUSED = 5,
	FE_RCODE_YXDOMAIN = 6, /* RFC 6672 §2.2: DNAME substitution overflow */
	FE_RCODE_NOTAUTH = 9,
	FE_RCODE_BADVERS = 16 /* extended: needs OPT */
};
/* Header flag bits in the 16-bit flags word (after the ID). */
#define FE_F_QR 0x8000u
#define FE_F_AA 0x0400u
#define FE_F_TC 0x0200u
#define FE_F_RD 0x0100u
#define FE_F_RA 0x0080u
#define FE_F_AD 0x0020u
#define FE_F_CD 0x0010u

enum fe_wire_section { FE_SEC_ANSWER = 0, FE_SEC_AUTHORITY = 1, FE_SEC_ADDITIONAL = 2 };

/* ---- names ------------------------------------------------------------------------ */

/* Canonical lookup key of an uncompressed wire name (RFC 4034 §6.1 order == memcmp order):
 * labels from the rightmost, each lowercased, bytes 0x00/0x01 escaped as 0x01 0x01 / 0x01 0x02,
 * each label followed by 0x00. The root name gives the empty key. The key of an ancestor is a
 * prefix of its descendants' keys, ending at a 0x00 (a label boundary). @name_len is the exact
 * name length (trailing bytes are FE_EFORMAT). Returns the key length (0..FE_WIRE_KEY_MAX) or
 * FE_EFORMAT for a malformed name / FE_ENOSPC if @cap is short (2 * name_len always fits). */
int fe_wire_name_key(const uint8_t *name, size_t name_len, uint8_t *key, size_t cap);

/* Order of two keys (canonical name keys, or store keys built on them): bytewise, a prefix
 * before its extensions. <0, 0, >0 like memcmp. */
int fe_wire_key_cmp(const void *a, size_t alen, const void *b, size_t blen);

/* Inverse of fe_wire_name_key (lowercase result). A key fe_wire_name_key cannot produce
 * (uppercase ASCII, bad escape, empty label, missing terminator, label > 63, name > 255) is
 * FE_EFORMAT. Returns the name length, FE_EFORMAT, or FE_ENOSPC if @cap is short. */
int fe_wire_key_to_name(const uint8_t *key, size_t key_len, uint8_t *name, size_t cap);

/* Length of an uncompressed wire name at @name within @max bytes, validated (labels <= 63,
 * total <= 255, no pointers). Returns the length or FE_EFORMAT. */
int fe_wire_name_len(const uint8_t *name, size_t max);

/* Number of labels, root excluded. @name must be valid. */
int fe_wire_name_labels(const uint8_t *name);

/* Case-insensitive equality of two valid uncompressed names. */
bool fe_wire_name_eq(const uint8_t *a, const uint8_t *b);

/* Lowercase copy (ASCII only, per RFC 4343). @out needs FE_WIRE_NAME_MAX bytes. */
void fe_wire_name_lower(const uint8_t *name, uint8_t *out);

/* Read a possibly compressed name at *pos of @pkt into @out (uncompressed, case kept; @out
 * needs FE_WIRE_NAME_MAX bytes; @out may be NULL to validate and skip only). @pkt is a whole
 * message: a pointer must point strictly before the start of the label run that contains it
 * (so it can never loop) and not into the 12-byte header; at most FE_WIRE_MAX_HOPS pointers.
 * Label types 01/10 (RFC 6891 §5, RFC 2673) are FE_EFORMAT. On success *pos is past the name
 * in the original stream and the name length is returned; else FE_EFORMAT (*pos unchanged). */
int fe_wire_name_read(const uint8_t *pkt, size_t pkt_len, size_t *pos, uint8_t *out);

/* Presentation form ("www.example.", escapes as \DDD) for logs. Always NUL-terminates. */
void fe_wire_name_to_str(const uint8_t *name, char *out, size_t cap);

/* NSEC3 hash (RFC 5155 §5) of the uncompressed wire name @name (lowercased internally),
 * with OpenSSL's SHA-1. @out needs 64 bytes; returns the hash length
 * (FE_WIRE_NSEC3_SHA1_LEN for algorithm 1), FE_ENOTSUP (algorithm other than 1, RFC 5155
 * §11) or FE_ERANGE (iterations above 2,500, RFC 5155 §10.3; a malformed name). Allocates
 * nothing and is thread-safe: the query path calls it. */
#define FE_WIRE_NSEC3_SHA1_LEN 20
int fe_wire_nsec3_hash(const uint8_t *name, uint8_t alg, uint16_t iterations, const uint8_t *salt,
                       uint8_t salt_len, uint8_t *out);

/* ---- queries ---------------------------------------------------------------------- */

/* What to do with a datagram or TCP message, decided by fe_wire_query_parse. */
enum fe_wire_verdict {
	FE_WIRE_OK = 0,  /* a well-formed query; answer it */
	FE_WIRE_DROP,    /* no answer at all: shorter than a header, or QR=1 */
	FE_WIRE_FORMERR, /* answer FORMERR (fe_wire_error_response) */
	FE_WIRE_NOTIMP,  /* opcode not implemented */
	FE_WIRE_BADVERS  /* EDNS version > 0: BADVERS with our OPT (RFC 6891 §6.1.3) */
};

/* A parsed query. Pointers borrow from the packet passed to fe_wire_query_parse. */
struct fe_wire_query {
	uint16_t id;
	uint16_t flags; /* header flags word as received */
	uint8_t opcode;
	const uint8_t *qname;               /* uncompressed, original case, inside the packet */
	uint8_t qname_len;                  /* octets incl. root label */
	uint8_t qname_labels;               /* root excluded */
	uint8_t qname_lc[FE_WIRE_NAME_MAX]; /* lowercased copy */
	uint16_t qtype;
	uint16_t qclass;
	uint16_t question_end; /* offset just past the question */
	bool has_edns;
	bool edns_do; /* DNSSEC OK */
	uint8_t edns_version;
	uint16_t edns_udp_size;   /* as sent, before clamping */
	uint16_t edns_opt_offset; /* offset of the OPT RR (0 if none) */
	bool has_tsig;
	uint16_t tsig_offset; /* offset of the TSIG RR owner (0 if none); always the last RR */
	bool has_cookie;
	uint8_t cookie_len; /* 8 (client only) or 16..40 */
	uint8_t cookie[40];
	bool has_nsid;
};

/* Parse and check a query (RFC 1035 §4.1, RFC 6891, RFC 8945 §5.1 placement rules).
 * docs/security.md Q1–Q6: < 12 bytes or QR=1 → DROP; QDCOUNT != 1, bad names, trailing junk
 * outside the counted sections, two OPT, OPT owner not root or outside the additional
 * section, a second COOKIE or NSID option, a COOKIE of a length other than 8 or 16..40
 * (RFC 7873 §5.2.2), TSIG not last / class not ANY / two TSIGs, ANCOUNT != 0 in a QUERY,
 * a pointer in QNAME → FORMERR; EDNS version > 0 → BADVERS (options then not read);
 * opcode other than QUERY or NOTIFY → NOTIMP (whatever the body). Other repeated EDNS
 * options are allowed (see query.c). Meta-types (AXFR/IXFR over UDP, ANY) are left to the
 * caller's policy. @q is fully written even on error, as far as parsed: q->id always;
 * q->question_end != 0 (with qname, qtype, qclass, qname_lc) when the question parsed
 * cleanly; has_edns when an OPT was read whose fixed part was valid. */
enum fe_wire_verdict fe_wire_query_parse(const uint8_t *pkt, size_t len, struct fe_wire_query *q);

/* UDP payload size we may send to this client: EDNS size clamped to [512, @our_max],
 * or 512 without EDNS. */
uint16_t fe_wire_udp_limit(const struct fe_wire_query *q, uint16_t our_max);

/* ---- NAPTR lint (docs/security.md Z7) ----------------------------------------------- */

/* Check the RDATA of one NAPTR owned by @owner (uncompressed wire name; NULL: the loop test
 * is skipped): RFC 3403 structure and flags, REGEXP and REPLACEMENT not both set, the
 * substitution expression of RFC 3402 §3.2 (exactly three delimiters, a POSIX ERE the
 * standard defines, back-references within the pattern's groups, printable), for E2U rules
 * (RFC 6116 §3.4) the flag "u" or none, a terminal rule producing a URI whose scheme the
 * enumservice allows, a non-terminal rule not pointing at its own owner, and at most 512
 * octets. Returns NULL when the record passes, else the reason (a static string). Pure, no
 * heap: the zone load marks failing records with it and the answer engine leaves them out. */
const char *fe_wire_naptr_lint(const uint8_t *owner, const uint8_t *rdata, size_t rdlen);

/* ---- answers ---------------------------------------------------------------------- */

/* Incremental answer assembly into a caller buffer, with name compression against the
 * question name and the owners already written. No heap. Sections are written in order
 * answer → authority → additional; adding to an earlier section after a later one is
 * FE_EINVAL. */
#define FE_WIRE_COMPR_MAX 64 /* names (and suffixes) remembered for compression */
#define FE_WIRE_EDE_MAX   4  /* Extended DNS Error options per answer */
#define FE_WIRE_OPT_LEN   11 /* OPT RR without options */

struct fe_wire_builder {
	uint8_t *buf;
	size_t cap; /* hard limit for this answer (UDP limit or 65535) */
	size_t len;
	uint16_t count[3]; /* ANCOUNT, NSCOUNT, ARCOUNT (OPT added by fe_wire_builder_finish) */
	int section;
	bool truncated;   /* some put_rr returned FE_ENOSPC (TC is the caller's decision) */
	uint16_t reserve; /* bytes kept free for the OPT RR and its options */
	/* private below: read only through the functions */
	bool edns; /* the answer gets an OPT RR */
	bool finished;
	uint8_t ext_rcode; /* upper 8 bits of a 12-bit rcode, for the OPT TTL */
	uint8_t nede;
	uint16_t ede[FE_WIRE_EDE_MAX];
	/* compression: offsets of names (or name suffixes) in the message, their label counts */
	uint8_t nnames;
	uint16_t name_off[FE_WIRE_COMPR_MAX];
	uint8_t name_labels[FE_WIRE_COMPR_MAX];
	uint8_t q_suffixes; /* labels of the question name whose suffixes are not yet listed */
	/* the last owner written and where a repeat of it points (RRsets, RRSIGs) */
	uint8_t last_len; /* 0: none */
	uint16_t last_ptr;
	uint8_t last_owner[FE_WIRE_NAME_MAX];
};

/* Start an answer to @q in @buf (capacity @cap, clamped to 65535): header (ID, opcode, RD and
 * CD copied; QR, RA set; AA clear), the question with the original QNAME case when @q has a
 * parsed question (q->question_end != 0). Keeps room for an OPT RR when the query had EDNS.
 * @buf is borrowed until finish. A @cap below 12 gives a builder where everything fails and
 * finish returns 0. */
void fe_wire_builder_init(struct fe_wire_builder *b, uint8_t *buf, size_t cap,
                          const struct fe_wire_query *q);

/* Position marker for all-or-nothing RRset insertion. */
size_t fe_wire_builder_mark(const struct fe_wire_builder *b);
/* Undo everything written after @mark (records, counts, remembered names; the section goes
 * back to that of the last record kept), e.g. an RRset that did not fit. @count_at_mark is a
 * copy of b->count taken with the mark. */
void fe_wire_builder_rollback(struct fe_wire_builder *b, size_t mark,
                              const uint16_t count_at_mark[3]);

/* Append one RR to @sec. @owner is an uncompressed wire name (compressed here when possible:
 * pointer to the question name, an owner already written, or a suffix of either at a label
 * boundary, RFC 1035 §4.1.4). Names in the RDATA of NS, CNAME, PTR, MX and SOA are compressed
 * the same way (RFC 3597 §4 allows it for the RFC 1035 types only); an SRV target is written
 * as is (RFC 2782) but later owners may point at it; all other RDATA is copied as is. Returns
 * FE_OK, FE_ENOSPC when it does not fit in cap - reserve (nothing written, b->truncated set),
 * FE_EINVAL (section order, invalid owner name). */
int fe_wire_builder_put_rr(struct fe_wire_builder *b, enum fe_wire_section sec,
                           const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
                           const uint8_t *rdata, uint16_t rdlen);

/* Set header rcode (low 4 bits; the upper 8 bits of a 12-bit rcode go into the OPT,
 * RFC 6891 §6.1.3) and extra flag bits. An extended rcode for a query without EDNS cannot be
 * expressed: the header then says SERVFAIL. */
void fe_wire_builder_set_rcode(struct fe_wire_builder *b, uint16_t rcode);
void fe_wire_builder_set_flags(struct fe_wire_builder *b, uint16_t set_bits);

/* Extended DNS Errors (RFC 8914 §4 registry), INFO-CODE values. */
enum {
	FE_EDE_OTHER = 0,
	FE_EDE_UNSUPPORTED_DNSKEY_ALG = 1,
	FE_EDE_UNSUPPORTED_DS_DIGEST = 2,
	FE_EDE_STALE_ANSWER = 3,
	FE_EDE_FORGED_ANSWER = 4,
	FE_EDE_DNSSEC_INDETERMINATE = 5,
	FE_EDE_DNSSEC_BOGUS = 6,
	FE_EDE_SIGNATURE_EXPIRED = 7,
	FE_EDE_SIGNATURE_NOT_YET_VALID = 8,
	FE_EDE_DNSKEY_MISSING = 9,
	FE_EDE_RRSIGS_MISSING = 10,
	FE_EDE_NO_ZONE_KEY_BIT = 11,
	FE_EDE_NSEC_MISSING = 12,
	FE_EDE_CACHED_ERROR = 13,
	FE_EDE_NOT_READY = 14,
	FE_EDE_BLOCKED = 15,
	FE_EDE_CENSORED = 16,
	FE_EDE_FILTERED = 17,
	FE_EDE_PROHIBITED = 18,
	FE_EDE_STALE_NXDOMAIN = 19,
	FE_EDE_NOT_AUTHORITATIVE = 20,
	FE_EDE_NOT_SUPPORTED = 21,
	FE_EDE_NO_REACHABLE_AUTHORITY = 22,
	FE_EDE_NETWORK_ERROR = 23,
	FE_EDE_INVALID_DATA = 24
};
/* EDNS option codes we name in code. */
enum {
	FE_EDNS_NSID = 3,
	FE_EDNS_COOKIE = 10,
	FE_EDNS_KEEPALIVE = 11,
	FE_EDNS_PADDING = 12,
	FE_EDNS_EDE = 15
};

/* Add an Extended DNS Error (RFC 8914 §2; no EXTRA-TEXT) to the OPT written by finish. Only
 * emitted when the query had EDNS (otherwise FE_OK and nothing happens). Reserves its 6 bytes
 * at once, so call it before filling the answer. Returns FE_OK, or FE_ENOSPC when the
 * reserve no longer fits or FE_WIRE_EDE_MAX codes are already added. */
int fe_wire_builder_add_ede(struct fe_wire_builder *b, uint16_t info_code);

/* Finish: add the OPT RR when the query had EDNS (our UDP size @udp_size, at least 512; DO
 * echoed from @q, RFC 3225 §3; version 0; extended rcode; EDE options), write the counts.
 * Returns the message length. Calling it again returns the same length and writes nothing. */
size_t fe_wire_builder_finish(struct fe_wire_builder *b, const struct fe_wire_query *q,
                              uint16_t udp_size);

/* Minimal error answer (FORMERR, NOTIMP, REFUSED, SERVFAIL, BADVERS) to a query that may
 * be only partly parsed: ID, opcode, RD, CD copied; QR, RA set; question echoed when it was
 * read cleanly (q->question_end != 0), OPT (our size FE_WIRE_UDP_DEFAULT, DO echoed) added
 * when the query had a usable one (always for BADVERS). @q may be NULL (header only).
 * Returns the length, or 0 when no answer must be sent (fewer than 12 bytes, or @cap < 12). */
size_t fe_wire_error_response(const uint8_t *pkt, size_t len, const struct fe_wire_query *q,
                              uint16_t rcode, uint8_t *out, size_t cap);

#endif
