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
 * each label followed by 0x00. The root name gives the empty key. Returns the key length
 * (0..FE_WIRE_KEY_MAX) or FE_EFORMAT for a malformed name / FE_ENOSPC if @cap is short. */
int fe_wire_name_key(const uint8_t *name, size_t name_len, uint8_t *key, size_t cap);

/* Inverse of fe_wire_name_key (lowercase result). Returns the name length or FE_EFORMAT. */
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

/* Read a possibly compressed name at *pos of @pkt into @out (uncompressed, case kept).
 * Pointers must point strictly backwards; at most FE_WIRE_MAX_HOPS. On success *pos is past
 * the name in the original stream and the name length is returned; else FE_EFORMAT. */
int fe_wire_name_read(const uint8_t *pkt, size_t pkt_len, size_t *pos, uint8_t *out);

/* Presentation form ("www.example.", escapes as \DDD) for logs. Always NUL-terminates. */
void fe_wire_name_to_str(const uint8_t *name, char *out, size_t cap);

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
 * THREATS.md Q1–Q6: < 12 bytes or QR=1 → DROP; QDCOUNT != 1, bad names, trailing junk
 * outside the counted sections, two OPT, OPT owner not root, duplicate EDNS options,
 * TSIG not last / class not ANY / two TSIGs → FORMERR; EDNS version > 0 → BADVERS;
 * opcode other than QUERY or NOTIFY → NOTIMP. Meta-types (AXFR/IXFR over UDP, ANY) are
 * left to the caller's policy. @q is fully written even on error, as far as parsed
 * (q->id and whether a question was read are meaningful for the error answer). */
enum fe_wire_verdict fe_wire_query_parse(const uint8_t *pkt, size_t len, struct fe_wire_query *q);

/* UDP payload size we may send to this client: EDNS size clamped to [512, @our_max],
 * or 512 without EDNS. */
uint16_t fe_wire_udp_limit(const struct fe_wire_query *q, uint16_t our_max);

/* ---- answers ---------------------------------------------------------------------- */

/* Incremental answer assembly into a caller buffer, with name compression against the
 * question name and the owners already written. No heap. Sections are written in order
 * answer → authority → additional; adding to an earlier section after a later one is
 * FE_EINVAL. */
struct fe_wire_builder {
	uint8_t *buf;
	size_t cap; /* hard limit for this answer (UDP limit or 65535) */
	size_t len;
	uint16_t count[3]; /* ANCOUNT, NSCOUNT, ARCOUNT (OPT added by fe_wire_builder_finish) */
	int section;
	bool truncated;
	uint16_t reserve; /* bytes kept free for the OPT RR */
	/* compression: offsets of names already in the message, with their label counts */
	uint8_t nnames;
	uint16_t name_off[32];
};

/* Start an answer to @q in @buf (capacity @cap): header (ID, opcode, RD and CD copied; QR, RA
 * set; AA clear), the question with the original QNAME case. Keeps room for an OPT RR when the
 * query had EDNS. */
void fe_wire_builder_init(struct fe_wire_builder *b, uint8_t *buf, size_t cap,
                          const struct fe_wire_query *q);

/* Position marker for all-or-nothing RRset insertion. */
size_t fe_wire_builder_mark(const struct fe_wire_builder *b);
/* Undo everything written after @mark (records and counts), e.g. an RRset that did not fit. */
void fe_wire_builder_rollback(struct fe_wire_builder *b, size_t mark,
                              const uint16_t count_at_mark[3]);

/* Append one RR to @sec. @owner is an uncompressed wire name (compressed here when possible);
 * @rdata is written as is (names in RDATA are never compressed by us, RFC 3597 §4).
 * Returns FE_OK, FE_ENOSPC when it does not fit (nothing written), FE_EINVAL (section order). */
int fe_wire_builder_put_rr(struct fe_wire_builder *b, enum fe_wire_section sec,
                           const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
                           const uint8_t *rdata, uint16_t rdlen);

/* Set header rcode (low 4 bits; an extended rcode goes into the OPT) and extra flag bits. */
void fe_wire_builder_set_rcode(struct fe_wire_builder *b, uint16_t rcode);
void fe_wire_builder_set_flags(struct fe_wire_builder *b, uint16_t set_bits);

/* Finish: add the OPT RR when the query had EDNS (our UDP size @udp_size, DO echoed,
 * extended rcode), write the counts. Returns the message length. */
size_t fe_wire_builder_finish(struct fe_wire_builder *b, const struct fe_wire_query *q,
                              uint16_t udp_size);

/* Minimal error answer (FORMERR, NOTIMP, REFUSED, SERVFAIL, BADVERS) to a query that may
 * be only partly parsed: ID and opcode copied, question echoed when it was read, OPT added
 * when the query had a usable one (always for BADVERS). Returns the length, or 0 when no
 * answer must be sent (fewer than 12 bytes). */
size_t fe_wire_error_response(const uint8_t *pkt, size_t len, const struct fe_wire_query *q,
                              uint16_t rcode, uint8_t *out, size_t cap);

#endif
