/* include/fedenum/xfr.h — zone transfer, primary side: AXFR (RFC 5936) and IXFR (RFC 1995)
 * served to configured secondaries through the request pipeline's transfer handler
 * (fe_server_stream_handler, server.h), TSIG-signed (RFC 8945 §5.3.1).
 *
 * Who may transfer: a peer that signs its request with a key of the keyring AND whose
 * address is in the peer list. Everyone else is answered with one message and counted:
 *   no TSIG                    → REFUSED
 *   TSIG that does not verify  → NOTAUTH with the TSIG error (BADKEY, BADSIG: unsigned;
 *                                BADTIME, BADTRUNC: signed), fe_tsig_error_response
 *   address not in the list    → REFUSED, signed
 *   too many transfers running → REFUSED, signed
 *   zone not held (or, with require_validated, not validated) → NOTAUTH, signed
 *
 * A transfer reads ONE store snapshot from its first message to its last (its own reader,
 * opened in the handler's open and kept until close): the secondary gets one version of
 * the zone whatever commits happen meanwhile. AXFR: the apex SOA, every RRset of the zone
 * with its RRSIGs (the apex SOA's RRSIG among them), the NSEC3 nodes, the SOA again; RRs
 * packed into messages of up to 64 KiB with name compression (fe_wire_builder), every
 * message signed. IXFR: the client's serial from the SOA in the authority section; the
 * current serial or newer → the current SOA alone; a journal chain from its serial to the
 * snapshot's → RFC 1995 §4 entry by entry; otherwise the AXFR form (§4 fallback).
 *
 * Threads: the handler runs in every worker thread at once; its state is read-only but for
 * the counters and the running-transfer count (atomics). */
#ifndef FEDENUM_XFR_H
#define FEDENUM_XFR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fedenum/server.h"

struct fe_store;
struct fe_tsig_keyring;
struct fe_server_acl;

struct fe_xfr_opts {
	const struct fe_tsig_keyring *keys; /* borrowed; keys accepted from peers */
	const struct fe_server_acl *peers;  /* borrowed; addresses that may transfer */
	uint32_t max_transfers;             /* running at once; 0 → 16 */
	uint32_t max_time_ms;   /* per transfer, then the connection closes; 0 → 600 s */
	bool require_validated; /* only zones marked FE_ZONE_VALIDATED, not BOGUS */
};

enum fe_xfr_counter {
	FE_XFR_AXFR = 0,         /* full transfers started (AXFR, and IXFR answered as AXFR) */
	FE_XFR_IXFR,             /* incremental transfers started */
	FE_XFR_IXFR_FALLBACK,    /* IXFR answered with the whole zone (journal too short) */
	FE_XFR_UPTODATE,         /* IXFR from the current serial: one SOA */
	FE_XFR_DONE,             /* transfers whose last message was handed to the connection */
	FE_XFR_MESSAGES,         /* messages sent */
	FE_XFR_BYTES,            /* octets sent */
	FE_XFR_REFUSED_UNSIGNED, /* no TSIG */
	FE_XFR_REFUSED_TSIG,     /* TSIG did not verify */
	FE_XFR_REFUSED_ADDRESS,  /* peer address not configured */
	FE_XFR_REFUSED_LIMIT,    /* max_transfers running */
	FE_XFR_NOTAUTH_ZONE,     /* zone not held */
	FE_XFR_FAILED,           /* ended by an error or the time limit */
	FE_XFR__MAX
};
const char *fe_xfr_counter_name(enum fe_xfr_counter c);

struct fe_xfr;

/* @st and everything @opts points to are borrowed and must outlive the object (and the
 * server it is given to). FE_OK, FE_EINVAL (no keyring or peers), FE_ENOMEM. */
int fe_xfr_create(struct fe_store *st, const struct fe_xfr_opts *opts, struct fe_xfr **out);
void fe_xfr_destroy(struct fe_xfr *x); /* NULL is a no-op; after the server has stopped */

/* The transfer handler for fe_server_opts.transfer; lives as long as @x. */
const struct fe_server_stream_handler *fe_xfr_handler(struct fe_xfr *x);
/* A pipeline TSIG step for fe_server_opts.policy (its `tsig` member; `before` and `after`
 * NULL): AXFR/IXFR over TCP go on to the handler, which verifies and signs; any other
 * signed query gets NOTAUTH, as without keys. A policy engine that has its own TSIG step
 * calls fe_xfr_tsig_step from it. */
const struct fe_server_policy *fe_xfr_policy(struct fe_xfr *x);
enum fe_server_verdict fe_xfr_tsig_step(void *x, const struct fe_server_request *req,
                                        uint16_t *rcode);

/* Counters (FE_XFR__MAX entries) into @out. Thread-safe. */
void fe_xfr_counters(const struct fe_xfr *x, uint64_t *out);

#endif
