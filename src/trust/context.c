/* The caller-owned state of trust loads (struct fe_trust) and the parents-first order.
 *
 * Verified signatures are kept per zone between versions: after a zone validates, the (key,
 * data, signature) triples it proved are kept for its next version, so only what changed
 * costs public-key operations. A cache is taken out of the table for the duration of a load
 * and the new version's set is put back on success. Lost with the context (a restart
 * validates in full). */
#include "trust_int.h"

#include <stdlib.h>
#include <string.h>

struct cache_slot {
	uint8_t apex_key[FE_WIRE_KEY_MAX];
	size_t key_len;
	struct fe_dnssec_sigcache *c;
};

struct fe_trust {
	struct cache_slot *slots;
	size_t nslots;
};

int fe_trust_create(struct fe_trust **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? FE_OK : FE_ENOMEM;
}

void fe_trust_destroy(struct fe_trust *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nslots; i++)
		fe_dnssec_sigcache_destroy(t->slots[i].c);
	free(t->slots);
	free(t);
}

struct fe_dnssec_sigcache *fe__trust_cache_take(struct fe_trust *t, const uint8_t *key, size_t klen)
{
	if (t == NULL)
		return NULL;
	for (size_t i = 0; i < t->nslots; i++) {
		if (t->slots[i].key_len == klen && memcmp(t->slots[i].apex_key, key, klen) == 0) {
			struct fe_dnssec_sigcache *c = t->slots[i].c;
			t->slots[i] = t->slots[--t->nslots];
			return c;
		}
	}
	return NULL;
}

void fe__trust_cache_put(struct fe_trust *t, const uint8_t *key, size_t klen,
                         struct fe_dnssec_sigcache *c)
{
	if (t == NULL || klen > FE_WIRE_KEY_MAX) {
		fe_dnssec_sigcache_destroy(c);
		return;
	}
	fe_dnssec_sigcache_destroy(fe__trust_cache_take(t, key, klen));
	struct cache_slot *n = realloc(t->slots, (t->nslots + 1) * sizeof(*n));
	if (n == NULL) {
		fe_dnssec_sigcache_destroy(c);
		return;
	}
	t->slots = n;
	memcpy(n[t->nslots].apex_key, key, klen);
	n[t->nslots].key_len = klen;
	n[t->nslots].c = c;
	t->nslots++;
}

/* ---- parents first ------------------------------------------------------------------ */

struct rank {
	size_t labels;
	size_t idx;
};

/* Labels of a presentation-form name, root excluded ("e164.fed." → 2, "." → 0). */
static size_t label_count(const char *apex)
{
	size_t n = 0;
	if (apex == NULL)
		return 0;
	for (const char *p = apex; *p; p++) {
		if (*p == '\\' && p[1] != '\0') {
			p++; /* an escaped character, "\." included, is no separator */
			continue;
		}
		n += *p == '.' && p[1] != '\0';
	}
	return apex[0] != '\0' && strcmp(apex, ".") != 0 ? n + 1 : 0;
}

static int by_depth(const void *pa, const void *pb)
{
	const struct rank *a = pa, *b = pb;
	if (a->labels != b->labels)
		return a->labels < b->labels ? -1 : 1;
	return (a->idx > b->idx) - (a->idx < b->idx);
}

int fe_trust_parents_first(const char *const *apex, size_t n, size_t *order)
{
	struct rank *r = calloc(n ? n : 1, sizeof(*r));
	if (r == NULL)
		return FE_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		r[i].labels = label_count(apex[i]);
		r[i].idx = i;
	}
	qsort(r, n, sizeof(*r), by_depth);
	for (size_t i = 0; i < n; i++)
		order[i] = r[i].idx;
	free(r);
	return FE_OK;
}
