/* trust/ internals shared by trust*.c and context.c (private). */
#ifndef FE_TRUST_INT_H
#define FE_TRUST_INT_H

#include "fedenum/dnssec.h"
#include "fedenum/store.h"
#include "fedenum/trust.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "fedenum/zone.h"

#include <stddef.h>
#include <stdint.h>

/* The verified-signature cache kept in @t for the zone with apex key @key: taken out for the
 * duration of a load (the caller owns it until it puts one back), NULL when none is kept or
 * @t is NULL. */
struct fe_dnssec_sigcache *fe__trust_cache_take(struct fe_trust *t, const uint8_t *key,
                                                size_t klen);
/* Keep @c (owned by @t from now on) for the zone @key, replacing any; with @t NULL or out of
 * memory @c is destroyed. */
void fe__trust_cache_put(struct fe_trust *t, const uint8_t *key, size_t klen,
                         struct fe_dnssec_sigcache *c);

/* ---- trust.c, shared with trust_delta.c ---- */

#define MAX_DS 64u /* DS RRs taken from one delegation (more is no real zone) */

/* The trust found for an apex. DS RDATA are copied out of the store snapshot (a validation
 * takes seconds; the read transaction is not held that long). */
struct fe__trust_chain {
	struct fe_dnssec_trust trust;
	struct fe_dnssec_rdata ds[MAX_DS];
	uint8_t ds_buf[MAX_DS * (4 + 64)];
	int64_t parent_expire_s; /* 0: an anchor (no parent, no expiry) */
	char from[160];          /* "trust anchor" / "DS in e164.fed." */
};

/* snprintf for messages that may be cut short on purpose. */
void fe__trust_say(char *buf, size_t cap, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* The chain of trust of @apex (wire name, key @key) for a NEW version, over a snapshot of its
 * own: its anchor, or the DS its closest enclosing stored zone publishes (that zone
 * validated, not bogus, not expired). FE_OK and @c filled, FE_EVALIDATE (@err->reason), or a
 * store error. */
int fe__trust_chain_now(struct fe_store *st, const struct fe_trust_anchors *anchors,
                        const uint8_t *apex, size_t apex_len, const uint8_t *key, size_t klen,
                        int64_t now, struct fe__trust_chain *c, struct fe_zone_error *err);
/* min(@own, @parent), 0 meaning none. */
int64_t fe__trust_chain_expiry(int64_t own, int64_t parent);
/* The zone's trust state (zeroed when none is kept) / write it back (logged on failure). */
void fe__trust_zs_load(struct fe_store *st, const uint8_t *apex, size_t apex_len,
                       struct fe_trust_zstate *zs);
void fe__trust_zs_save(struct fe_store *st, const uint8_t *apex, size_t apex_len,
                       const struct fe_trust_zstate *zs);
/* Keep a failed load of @serial in the zone's trust state (@stored: a version is stored). */
void fe__trust_note_failure(struct fe_store *st, const uint8_t *apex, size_t apex_len,
                            uint32_t serial, int64_t now, bool stored, const char *reason);
/* The current record of the zone with apex key @key, copied (*found false: none). */
int fe__trust_current_rec(struct fe_store *st, const uint8_t *key, size_t klen,
                          struct fe_store_zone_rec *out, bool *found);
/* Is that version served as valid at @now (validated, not bogus, chain unexpired)? */
bool fe__trust_served(const struct fe_store_zone_rec *z, int64_t now);

#endif
