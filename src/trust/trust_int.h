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

#endif
