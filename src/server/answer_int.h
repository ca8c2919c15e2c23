/* src/server/answer_int.h — internals of the answer engine (answer*.c).
 *
 * fe_answer() works in three phases, all on the stack of one call, over the caller's open
 * store snapshot:
 *  1. resolve: walk the query name (and CNAME targets) through the held zones, collecting
 *     "items" (RRsets to write, pointing into the snapshot) and the negative outcome;
 *  2. prove:   with DO=1, add NSEC/NSEC3 items for denials and wildcard expansions
 *              (answer_dnssec.c);
 *  3. emit:    write the items section by section with the wire builder, truncating the
 *              way Knot DNS 3.2 does (see answer.c, emit()).
 * Every pointer in an item lives in the snapshot, in the query packet or in struct fe__ans,
 * so nothing is copied and nothing is allocated. */
#ifndef FEDENUM_ANSWER_INT_H
#define FEDENUM_ANSWER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fedenum/server.h"
#include "fedenum/store.h"
#include "fedenum/wire.h"

/* Limits of one answer. Above them the answer is cut short (never an overflow). */
#define FE__ANS_ITEMS_MAX  128 /* RRsets in all sections together */
#define FE__ANS_CNAME_MAX  5   /* CNAMEs followed per query, like Knot DNS (CNAME_CHAIN_MAX) */
#define FE__ANS_WILD_MAX   (FE__ANS_CNAME_MAX + 1)
#define FE__ANS_LABELS_MAX 128 /* labels of a 255-octet name */

/* Item flags. */
#define FE__IT_SIGS      0x01u /* also write the RRset's RRSIGs (DO=1) */
#define FE__IT_SIGS_ONLY 0x02u /* write only the RRSIGs, as the answer RRset (qtype RRSIG) */
#define FE__IT_LINT                                                          \
	0x04u /* a NAPTR RRset of a FE_NODE_NAPTR_LINT node: records failing \
	         fe_wire_naptr_lint (with lint_owner) are left out, and the  \
	         RRSIGs (they do not cover what remains) */

/* One RRset to write. */
struct fe__item {
	const uint8_t *owner;                 /* uncompressed wire name */
	const struct fe_store_zone_rec *zone; /* zone the data comes from */
	struct fe_store_rrset rs;
	uint32_t ttl;              /* TTL of the RRs and of their RRSIGs (RFC 4034 §3) */
	uint8_t sec;               /* enum fe_wire_section */
	uint8_t flags;             /* FE__IT_* */
	const uint8_t *lint_owner; /* FE__IT_LINT: the stored owner the lint was run with */
};

/* A name being looked up in one zone, with its canonical key and the key length of each
 * ancestor (fe_wire_name_key output is a sequence of labels each ended by 0x00, rightmost
 * label first, so the key of an ancestor is a prefix of the key of its descendant). */
struct fe__name {
	const uint8_t *name; /* uncompressed wire name (query case or zone case) */
	uint8_t len;
	uint8_t labels;
	uint16_t key_len;
	uint16_t cut[FE__ANS_LABELS_MAX]; /* cut[i]: key length of the ancestor with i+1 labels */
	uint8_t key[FE_WIRE_KEY_MAX];
};

/* A wildcard expansion to prove with DO=1 (RFC 4035 §3.1.3.3, RFC 5155 §7.2.6). */
struct fe__wild {
	const struct fe_store_zone_rec *zone;
	const uint8_t *sname; /* the name that was synthesized */
	uint8_t ce_labels;    /* labels of its closest encloser (the wildcard's parent) */
};

/* Final outcome of the last name of the chain. */
enum fe__outcome {
	FE__OUT_HIT = 0, /* data (or a chain that ends outside the held zones, RFC 1034 §4.3.2) */
	FE__OUT_NODATA,
	FE__OUT_NXDOMAIN,
	FE__OUT_YXDOMAIN, /* a DNAME substitution made a name longer than 255 octets (RFC 6672
	                     §2.2) */
	FE__OUT_SERVFAIL, /* below a delegation to a zone we do not hold, or store trouble */
	FE__OUT_REFUSED   /* query name outside every held zone */
};

struct fe__ans {
	struct fe_answer_ctx *ctx;
	const struct fe_wire_query *q;
	uint16_t qtype;
	bool dnssec;      /* DO=1 */
	bool store_error; /* a store lookup failed (not "not found") */
	bool trust;       /* opts->require_validated */
	bool lint;        /* an RRset with records left out by the NAPTR lint (not AD) */
	int32_t ede;      /* Extended DNS Error INFO-CODE for a SERVFAIL, RFC 8914 (-1: none) */
	int64_t now_s;    /* wall clock of the query (trust only) */

	struct fe__item item[FE__ANS_ITEMS_MAX];
	unsigned nitem;
	bool items_full; /* an item did not fit in item[] (answer cut short) */
	unsigned cnames; /* CNAMEs followed so far */

	struct fe__wild wild[FE__ANS_WILD_MAX];
	unsigned nwild;

	/* CNAMEs synthesized from DNAMEs (RFC 6672 §3.1): RDATA as a node blob body holds it
	 * (u16 length in host order, then the name), so an item can point here. */
	uint8_t syn[FE__ANS_CNAME_MAX][2 + FE_WIRE_NAME_MAX];
	unsigned nsyn;

	/* The negative outcome (NODATA / NXDOMAIN) of the last name, for the proofs. */
	enum fe__outcome outcome;
	const struct fe_store_zone_rec *neg_zone;
	struct fe__name neg_name;      /* the name that has no data / does not exist */
	struct fe_store_node neg_node; /* NODATA: the node matched (maybe the wildcard) */
	bool neg_wildcard;             /* NODATA via a wildcard (RFC 4035 §3.1.3.4) */
	uint8_t neg_ce_labels;         /* NXDOMAIN / wildcard NODATA: closest encloser labels */
	struct fe_store_node neg_ce;   /* that closest encloser */
};

/* Fill @n for @name (validated). FE_OK or FE_EFORMAT. */
int fe__name_init(struct fe__name *n, const uint8_t *name);
/* The ancestor of @n with @labels labels (pointer into n->name). */
const uint8_t *fe__name_suffix(const struct fe__name *n, unsigned labels);
/* Key length of the ancestor with @labels labels (0 for the root). */
static inline uint16_t fe__name_key_len(const struct fe__name *n, unsigned labels)
{
	return labels == 0 ? 0 : n->cut[labels - 1];
}

/* Append an item (duplicates of the same owner/type/section are skipped: each RRset once).
 * Returns false when the item table is full. */
bool fe__ans_add(struct fe__ans *a, enum fe_wire_section sec, const uint8_t *owner,
                 const struct fe_store_zone_rec *zone, const struct fe_store_rrset *rs,
                 uint32_t ttl, uint8_t flags);

/* Note a store failure (rc, what was being done): logged (rate-limited) once per query; the
 * answer becomes SERVFAIL and FE_CNT_STORE_ERRORS counts it. */
void fe__ans_store_failed(struct fe__ans *a, int rc, const char *what);

/* Store lookups that turn every failure other than "not found" into a_store_error.
 * Return true when the node was found. */
bool fe__ans_get_node(struct fe__ans *a, const struct fe_store_zone_rec *zone, const uint8_t *key,
                      size_t key_len, struct fe_store_node *out);

/* Add the NSEC/NSEC3 proofs for the outcome and the wildcard expansions (DO=1, signed
 * zones only). answer_dnssec.c */
void fe__ans_prove(struct fe__ans *a);

#endif
