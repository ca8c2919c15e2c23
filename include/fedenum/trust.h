/* include/fedenum/trust.h — federation trust (src/trust/).
 *
 * The chain of trust between the zones of a federation, over the store:
 *  - a zone whose apex has a trust anchor (configured DS or DNSKEY records) validates
 *    against the anchor;
 *  - any other zone validates only through the DS RRset that its parent — the closest
 *    enclosing zone held in the store — publishes at the delegation, read from the
 *    parent's CURRENT version, which must itself be validated (FE_ZONE_VALIDATED), not
 *    bogus and not expired. The parent's DS RRset is trusted because the whole parent
 *    version, RRSIGs of that DS RRset included, was validated when it was stored;
 *  - a zone with no such path is not stored (a number range belongs to whom the registry
 *    delegates it: a member cannot publish a zone for a prefix that the registry does not
 *    delegate to its key).
 * Zones are therefore loaded parents first (the registry, then members: by apex depth),
 * and after a pass every stored zone's chain is checked again (fe_trust_sweep), so a
 * registry that changes or withdraws a DS is followed by its children.
 * fedenumd and fedenumctl both order their loads with fe_trust_parents_first.
 * Per-zone trust state (struct fe_trust_zstate, kept in the store's `zstate` records) is
 * defined and written here only.
 * Logging: the sweep logs every change of a zone's status; loads leave logging to the
 * caller (the result and @err say everything).
 * Ownership: as stated per call; anchors and contexts are made by _create and freed by
 * _destroy (NULL is a no-op). Threads: an anchor set is read-only once built; a struct
 * fe_trust and a store's loads and sweeps belong to one thread at a time (loads are serial).
 * Errors: FE_OK or a negative enum fe_err, details in struct fe_zone_error. */
#ifndef FEDENUM_TRUST_H
#define FEDENUM_TRUST_H

#include "fedenum/dnssec.h"
#include "fedenum/zone.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fe_store;

/* A set of trust anchors: DS and DNSKEY records by owner. Built before use, then read-only
 * (any number of threads may read it). */
struct fe_trust_anchors;

int fe_trust_anchors_create(struct fe_trust_anchors **out); /* FE_OK / FE_ENOMEM */
void fe_trust_anchors_destroy(struct fe_trust_anchors *a);  /* NULL is a no-op */

/* Add the DS and DNSKEY records of the file @path, in presentation format as ldns-key2ds,
 * dnssec-dsfromkey or a BIND/ldns .key file print them (comments, blank lines, $TTL and
 * $ORIGIN allowed; class IN). Records of other types, relative owners without $ORIGIN and
 * the root as owner are errors. A file must yield at least one usable anchor: a DS of
 * digest type 2 or 4, or a zone-key DNSKEY, of algorithm 8, 10, 13, 14, 15 or 16; records
 * that are not usable are skipped and counted in *skipped (may be NULL). Duplicates are
 * kept once. Returns FE_OK, FE_ENOENT / FE_EIO (file), FE_ESYNTAX / FE_EFORMAT with @err
 * (file:line, reason) filled in, FE_ENOMEM. */
int fe_trust_anchors_add_file(struct fe_trust_anchors *a, const char *path, unsigned *skipped,
                              struct fe_zone_error *err);
/* Add one anchor record (RDATA in wire form) for @owner (wire name). @type is FE_T_DS or
 * FE_T_DNSKEY. FE_OK, FE_EINVAL, FE_ENOMEM. */
int fe_trust_anchors_add(struct fe_trust_anchors *a, const uint8_t *owner, size_t owner_len,
                         uint16_t type, const uint8_t *rdata, size_t rdlen);

/* Number of anchor records (0 for NULL). */
size_t fe_trust_anchors_count(const struct fe_trust_anchors *a);
/* The anchors of @apex (wire name, any case) as a trust for fe_dnssec_validate,
 * borrowing from @a. Returns false (and an empty @out) when @apex has none. */
bool fe_trust_anchors_for(const struct fe_trust_anchors *a, const uint8_t *apex, size_t apex_len,
                          struct fe_dnssec_trust *out);
/* "e164.fed. (DS 10457/13/2), ims-a.example. (DNSKEY 2345/13)" into @buf, for logs.
 * Returns the length the full text needs (like snprintf). */
size_t fe_trust_anchors_describe(const struct fe_trust_anchors *a, char *buf, size_t cap);

/* Record @i (0 .. count - 1) in presentation form on one line ("e164.fed. IN DS 10457 13 2
 * 9A0B..."), to give a resolver the same anchors (on-demand peering's libunbound). The
 * length, or 0 when @i is out of range or @cap is too small. */
size_t fe_trust_anchors_text(const struct fe_trust_anchors *a, size_t i, char *buf, size_t cap);

/* The trust anchors a store is kept under (its `meta` "trust-anchors" record): a store that
 * was written under anchors stays under them, whoever opens it next (fedenumd without a
 * configuration, fedenumctl). save: replaces the record (@a empty or NULL: removes it);
 * FE_OK or a store error. from_store: *out owns a new set; FE_ENOENT when the store holds
 * none, FE_EFORMAT for a damaged record, other store errors. */
int fe_trust_anchors_save(const struct fe_trust_anchors *a, struct fe_store *st);
int fe_trust_anchors_from_store(struct fe_store *st, struct fe_trust_anchors **out);
/* Every record of @a is in @b. NULL is the empty set. */
bool fe_trust_anchors_within(const struct fe_trust_anchors *a, const struct fe_trust_anchors *b);
/* The same set of records (order aside). NULL is the empty set. */
bool fe_trust_anchors_equal(const struct fe_trust_anchors *a, const struct fe_trust_anchors *b);

/* The state that loads keep from one call to the next: per zone, the verified-signature
 * cache (fedenum/dnssec.h) of the version last validated, so that reloading a zone after a
 * small change verifies only the signatures that changed. A failed validation leaves the
 * previous version's cache in place. The caller owns it (fedenumd: one for its lifetime,
 * so reloads profit; fedenumctl: one per run); it is only a cache: a new context gives the
 * same results, slower. Memory: 16 octets per signature of every zone loaded through it. */
struct fe_trust;
int fe_trust_create(struct fe_trust **out); /* FE_OK / FE_ENOMEM; *out NULL on error */
void fe_trust_destroy(struct fe_trust *t);  /* NULL is a no-op */

/* Parents first: the order in which to load @n zones with presentation-form apexes @apex
 * (NULL, or an apex that could not be read, counts as the root): by label count, ties in
 * the given order. @order receives a permutation of 0 .. n-1. FE_OK or FE_ENOMEM. A child's
 * trust is its parent's stored DS, so its parent must be loaded before it. */
int fe_trust_parents_first(const char *const *apex, size_t n, size_t *order);

struct fe_trust_opts {
	const struct fe_trust_anchors *anchors; /* borrowed; must hold at least one anchor */
	struct fe_dnssec_opts validate;         /* fe_dnssec_opts_init, then adjust;
	                                                  validate.now_s also dates the checks */
	bool dry_run; /* check only (fedenumctl check-zone): everything a load does except
	                 writing — no version, no state; LOADED then means "would be stored".
	                 The store may be opened read-only. */
};

enum fe_trust_outcome {
	FE_TRUST_LOAD_FAILED = 0, /* not stored: @err says why; the previous version, if
	                             any, keeps serving (res->previous_serial) */
	FE_TRUST_LOADED,          /* validated; now the current version */
	FE_TRUST_UNCHANGED        /* this serial is already current and was validated when
	                                  stored (its chain is re-checked by the sweep) */
};

struct fe_trust_result {
	enum fe_trust_outcome outcome;
	char apex[1100];             /* presentation form ("" when the file gave none) */
	uint32_t serial;             /* the file's serial (0 when it did not parse) */
	bool has_previous;           /* a version of the zone is stored ... */
	uint32_t previous_serial;    /* ... with this serial */
	bool previous_served;        /* ... and it is still served (validated, chain intact) */
	char trust[160];             /* "trust anchor" or "DS in <parent>" */
	int64_t expire_s;            /* LOADED: chain expiry written to the zone record */
	struct fe_dnssec_report rep; /* LOADED and FAILED in validation */
};

/* Load @path (fe_zone_opts as for fe_zone_parse_file) into @st through the chain of trust,
 * with the caches of @t (NULL: none kept, every signature verified):
 * parse, structural checks (fe_zone_validate), the trust for its apex (anchor, or the
 * parent's DS from the store as described above), fe_dnssec_validate with
 * @topts->validate, then commit with FE_ZONE_VALIDATED and the chain expiry
 * (min(own earliest RRSIG expiration, parent's expiry)). A file whose serial is current
 * and was validated is not validated again (UNCHANGED). A stored version with the same
 * serial that was NOT validated (loaded without anchors) is replaced by the validated one.
 * The zone's fe_trust_zstate is updated in every case where the apex is known: success,
 * or the failure (serial, time, count, @err's reason). @res may be NULL.
 * Returns FE_OK (LOADED or UNCHANGED), or the error of the step that failed: parse errors
 * as fe_zone_parse_file, FE_EVALIDATE (no chain of trust, or DNSSEC validation failed),
 * store errors. Not thread-safe against itself on the same store (loads are serial). */
int fe_trust_load(struct fe_trust *t, const char *path, const struct fe_zone_opts *zopts,
                  const struct fe_trust_opts *topts, struct fe_store *st,
                  struct fe_trust_result *res, struct fe_zone_error *err);

/* fe_trust_load of a zone already in memory (built by the signer, fe_sign_zone_build): the
 * same checks, validation and commit without a master file to write and parse again. @z is
 * borrowed (the caller frees it); @what names its source in errors ("signing of APEX").
 * FE_EINVAL without anchors or zone; otherwise as fe_trust_load after its parse. */
int fe_trust_commit_zone(struct fe_trust *t, struct fe_zone *z, const char *what,
                         const struct fe_trust_opts *topts, struct fe_store *st,
                         struct fe_trust_result *res, struct fe_zone_error *err);

/* Apply the change set @d (an IXFR's differences, fedenum/zone.h) to the stored, validated
 * version of zone @apex (wire name) with incremental validation: the chain of trust of the
 * apex as for a load (anchor, or the parent's current DS), then fe_zone_commit_delta_checked
 * with fe_dnssec_validate_change inside the write transaction; the new version is committed
 * only when that passes, stays FE_ZONE_VALIDATED, and its chain expiry is the smaller of the
 * previous one and the new signatures' (never later: removed signatures are not searched
 * for the next earliest). @res: outcome LOADED, serial, trust, expire_s, rep (signatures
 * verified, nodes read, names checked).
 * Returns FE_OK; FE_ENOTSUP when the change needs the whole-zone path (@err->reason says
 * why: stored version not validated, DNSKEY RRset change, opt-out, a zone cut
 * moving, the chain expiry less than 3 days away) — nothing is written or noted, the caller
 * loads the whole zone; FE_EVALIDATE (no chain of trust, or the change does not validate:
 * not stored, the previous version keeps serving, the failure kept in the zone's
 * fe_trust_zstate); the errors of fe_zone_commit_delta (not stored, noted likewise). */
int fe_trust_apply_delta(struct fe_trust *t, struct fe_store *st, const uint8_t *apex,
                         size_t apex_len, const struct fe_zone_delta *d,
                         const struct fe_trust_opts *topts, struct fe_trust_result *res,
                         struct fe_zone_error *err);

struct fe_trust_sweep_report {
	unsigned zones;     /* zone records looked at */
	unsigned secure;    /* chain holds: served */
	unsigned bogus;     /* chain broken: not served (FE_ZONE_BOGUS) */
	unsigned unchecked; /* stored without validation: not served where anchors exist */
	unsigned suspended; /* of the bogus ones: newly marked in this sweep */
	unsigned restored;  /* bogus before, chain holds again: served again */
};

/* Check the chain of trust of every zone held in @st, parents first, against @anchors and
 * the parents' current DS RRsets, at time @now_s (0: now). For each validated zone the
 * apex DNSKEY RRset of its stored version must contain a key that matches the trust and
 * that signed that RRset (the RRSIG was verified when the version was stored, and its key
 * tag and algorithm must name exactly one key of the set); then the record's chain expiry
 * is refreshed. A zone whose chain broke gets FE_ZONE_BOGUS (not served; its data stays
 * so that it is served again as soon as the chain holds), one whose chain holds again
 * loses it. Every change is logged and kept in the zone's fe_trust_zstate. @rep may be
 * NULL. FE_OK or a store error (the zones already handled keep their new marks). */
int fe_trust_sweep(struct fe_store *st, const struct fe_trust_anchors *anchors, int64_t now_s,
                   struct fe_trust_sweep_report *rep);

/* What the operator's status view shows per zone (fe_trust_zstate.state). */
enum fe_trust_state {
	FE_TRUST_NONE = 0,     /* stored without validation (no trust anchors configured) */
	FE_TRUST_SECURE = 1,   /* the current version is validated and its chain holds */
	FE_TRUST_BOGUS = 2,    /* a version is stored but its chain broke: not served */
	FE_TRUST_REJECTED = 3, /* no version stored: every version offered failed */
	FE_TRUST_UNCHECKED = 4 /* stored, but not validated under the current anchors: not served
	                          where anchors are configured */
};

/* Validation state of one zone, kept across restarts as the zone's record in the store's
 * `zstate` database (fe_store_zstate_*: this struct, fixed size, host order). Written by
 * fe_trust_load and fe_trust_sweep after every load attempt and chain check; read by status
 * views (fe_trust_status). Not on the query path. */
struct fe_trust_zstate {
	uint32_t state;         /* enum fe_trust_state */
	uint32_t serial;        /* serial of the version that validated last */
	uint32_t failed_serial; /* serial of the last version that failed (0: none) */
	uint16_t key_tag;       /* key that the trust vouched for (signed the DNSKEY RRset) */
	uint8_t key_alg;
	uint8_t apex_len;
	int64_t checked_at_s;   /* last change: load attempt, or a chain check that changed it */
	int64_t validated_at_s; /* last successful validation */
	int64_t failed_at_s;    /* last failure (0: none) */
	int64_t own_expire_s;   /* earliest RRSIG expiration of the current version's own
	                           signatures (0: unknown) */
	uint64_t validations;   /* successful validations, all time */
	uint64_t failures;      /* failed load attempts and chain checks, all time */
	uint8_t apex[255];      /* apex wire name */
	uint8_t reserved[1];
	char trust[160];  /* where the trust came from, e.g. "trust anchor" or "DS in e164.fed." */
	char reason[600]; /* last failure: zone, owner, type and what failed ("" when none) */
};

/* Read the state of zone @apex (wire name). One short read transaction. FE_OK, FE_ENOENT
 * (no state kept, or a store opened read-only before the `zstate` database existed),
 * FE_EFORMAT (a record shorter than this struct: not one of ours), FE_EIO. A longer record
 * (written by a later build that appended fields) is read up to this struct's size. */
int fe_trust_zstate_get(struct fe_store *st, const uint8_t *apex, size_t apex_len,
                        struct fe_trust_zstate *out);
/* Write the state of zone @apex (zs->apex is set from @apex). One write transaction (blocks
 * while a zone is being written). FE_OK, FE_EINVAL, FE_EPERM (read-only), FE_ENOSPC,
 * FE_EIO. */
int fe_trust_zstate_put(struct fe_store *st, const uint8_t *apex, size_t apex_len,
                        const struct fe_trust_zstate *zs);
/* Every kept state, in apex key order (stored zones and zones that were only rejected);
 * records that are not ours are skipped. @cb returns false to stop. The pointer passed to
 * @cb lives until it returns. */
int fe_trust_zstate_foreach(struct fe_store *st,
                            bool (*cb)(const struct fe_trust_zstate *zs, void *arg), void *arg);

/* Presentation name of a trust state ("secure", "bogus", "rejected", "unchecked", "none"). */
const char *fe_trust_state_str(uint32_t state);

/* The operator's one-line status of zone @apex (wire name) from its fe_trust_zstate, e.g.
 * "secure (DS in e164.fed., key 38222/13)", "bogus: <reason>", or with a failure newer than
 * the version served: "secure; rejected serial 3 at 2026-11-28T21:00:00Z: <reason>".
 * "-" when no state is kept (a store written without anchors). Always NUL-terminates; returns
 * the length the full text needs (like snprintf). For `fedenumctl zone-list` and logs. */
size_t fe_trust_status(struct fe_store *st, const uint8_t *apex, size_t apex_len, char *buf,
                       size_t cap);

#endif
