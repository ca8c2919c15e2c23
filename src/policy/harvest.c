/* Harvesting detection (docs/federation.md "Abuse control", docs/security.md L2): a client
 * prefix that walks a number range asks many distinct numbers, mostly absent ones, often in
 * sequence; an S-CSCF asks fewer, mostly present ones, with repeats.
 *
 * Per client prefix, over a window, one entry of a fixed table keeps:
 *  - a 1024-bit linear-counting sketch of the numbers asked: a number sets one bit chosen by
 *    its hash; with z bits still clear, the distinct numbers are about -1024 ln(z/1024)
 *    (Whang et al., 1990), within a few percent up to ~4000. The thresholds are turned into
 *    bit counts once (fe__hv_ones_for), so a query compares integers and takes no logarithm;
 *  - the queries, the misses (not-found, no-delegation, NXDOMAIN), the sequential queries (a
 *    number of the same length within 16 of the previous one);
 *  - the first number (as BCD) and the length of the prefix every number since shares: the
 *    range walked, for the report.
 * The table has HV_ENTRIES entries in sets of HV_WAYS; a new prefix takes an empty entry of
 * its set, or the one whose window started first among those not throttled. Fields are
 * words read and written with relaxed atomics (abuse_int.h). */
#include "abuse_int.h"
#include "policy_int.h"

#include "fedenum/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HV_ENTRIES 4096u /* power of two */
#define HV_WAYS    4u
#define HV_BITS    1024u
#define HV_SEQ_GAP 16u

struct hv_entry {
	_Alignas(64) uint64_t key; /* 0: empty */
	uint64_t first_bcd;        /* the window's first number, digits left-aligned, 4 bits each */
	uint64_t last;             /* the previous number, as an integer */
	uint32_t start_s, until_s; /* window start; throttled until (0: never was) */
	uint32_t queries, misses, seq, ones;
	uint32_t lens; /* first's length | previous length << 8 | common prefix << 16 */
	uint64_t bits[HV_BITS / 64];
};

struct fe__hv {
	struct hv_entry e[HV_ENTRIES];
};

int fe__hv_create(struct fe__hv **out)
{
	*out = aligned_alloc(64, sizeof(struct fe__hv));
	if (!*out)
		return FE_ENOMEM;
	memset(*out, 0, sizeof(struct fe__hv));
	return FE_OK;
}

void fe__hv_destroy(struct fe__hv *t)
{
	free(t);
}

uint32_t fe__hv_ones_for(unsigned distinct)
{
	double ones = HV_BITS * (1.0 - exp(-(double)distinct / HV_BITS));
	uint32_t r = (uint32_t)ceil(ones);
	return r < HV_BITS ? r : HV_BITS - 1;
}

uint32_t fe__hv_distinct_of(uint32_t ones)
{
	if (ones >= HV_BITS)
		ones = HV_BITS - 1;
	return (uint32_t)lround(-(double)HV_BITS * log(1.0 - (double)ones / HV_BITS));
}

static struct hv_entry *lookup(struct fe__hv *t, uint64_t key)
{
	struct hv_entry *set = &t->e[(key >> 13) & (HV_ENTRIES - 1) & ~(HV_WAYS - 1)];
	for (unsigned i = 0; i < HV_WAYS; i++)
		if (FE__LD(set[i].key) == key)
			return &set[i];
	return NULL;
}

bool fe__hv_throttled(struct fe__hv *t, uint64_t key, uint32_t now_s)
{
	const struct hv_entry *e = lookup(t, key);
	return e && (int32_t)(FE__LD(e->until_s) - now_s) > 0;
}

static void window_start(struct hv_entry *e, uint32_t now_s)
{
	FE__ST(e->start_s, now_s);
	FE__ST(e->queries, 0u);
	FE__ST(e->misses, 0u);
	FE__ST(e->seq, 0u);
	FE__ST(e->ones, 0u);
	FE__ST(e->lens, 0u);
	for (unsigned i = 0; i < HV_BITS / 64; i++)
		FE__ST(e->bits[i], 0ull);
}

static struct hv_entry *claim(struct fe__hv *t, uint64_t key, uint32_t now_s)
{
	struct hv_entry *set = &t->e[(key >> 13) & (HV_ENTRIES - 1) & ~(HV_WAYS - 1)];
	struct hv_entry *victim = NULL;
	for (unsigned i = 0; i < HV_WAYS; i++) {
		struct hv_entry *e = &set[i];
		if (FE__LD(e->key) == 0) {
			victim = e;
			break;
		}
		if ((int32_t)(FE__LD(e->until_s) - now_s) > 0)
			continue; /* a throttled prefix keeps its entry */
		if (!victim || (int32_t)(FE__LD(e->start_s) - FE__LD(victim->start_s)) < 0)
			victim = e;
	}
	if (!victim)
		victim = &set[(key >> 40) % HV_WAYS]; /* a whole set throttled: one gives way */
	FE__ST(victim->key, key);
	FE__ST(victim->until_s, 0u);
	window_start(victim, now_s);
	return victim;
}

bool fe__hv_note(struct fe__hv *t, const struct pol_abuse *c, uint64_t key, uint32_t now_s,
                 const char *number, bool miss, struct fe__hv_report *rep)
{
	/* the number as an integer and as left-aligned BCD ("+" then 1..15 digits) */
	uint64_t n = 0, bcd = 0;
	unsigned len = 0;
	for (const char *p = number + 1; *p && len < 15; p++, len++) {
		n = n * 10 + (uint64_t)(*p - '0');
		bcd |= (uint64_t)(*p - '0') << (60 - 4 * len);
	}
	if (!len)
		return false;
	struct hv_entry *e = lookup(t, key);
	if (!e)
		e = claim(t, key, now_s);
	if (now_s - FE__LD(e->start_s) >= c->hv.window_s)
		window_start(e, now_s);
	uint32_t q = FE__LD(e->queries) + 1, lens = FE__LD(e->lens);
	FE__ST(e->queries, q);
	if (miss)
		FE__ST(e->misses, FE__LD(e->misses) + 1);
	uint64_t h = fe__mix64(n ^ (uint64_t)len << 56);
	uint64_t *w = &e->bits[(h >> 6) % (HV_BITS / 64)], bit = 1ull << (h & 63);
	uint64_t word = FE__LD(*w);
	if (!(word & bit)) {
		FE__ST(*w, word | bit);
		FE__ST(e->ones, FE__LD(e->ones) + 1);
	}
	unsigned cp;
	if (q == 1) {
		FE__ST(e->first_bcd, bcd);
		cp = len;
		lens = len;
	} else {
		uint64_t last = FE__LD(e->last);
		uint64_t d = n > last ? n - last : last - n;
		if (((lens >> 8) & 0xFFu) == len && d && d <= HV_SEQ_GAP)
			FE__ST(e->seq, FE__LD(e->seq) + 1);
		/* the digits this number shares with the first one */
		uint64_t x = FE__LD(e->first_bcd) ^ bcd;
		unsigned same = x ? (unsigned)__builtin_clzll(x) / 4 : 15;
		unsigned first_len = lens & 0xFFu;
		cp = (lens >> 16) & 0xFFu;
		if (same < cp)
			cp = same;
		if (len < cp)
			cp = len;
		if (first_len < cp)
			cp = first_len;
		lens &= 0xFFu;
	}
	FE__ST(e->last, n);
	FE__ST(e->lens, lens | len << 8 | cp << 16);
	if ((int32_t)(FE__LD(e->until_s) - now_s) > 0)
		return false; /* already throttled (a query that raced the throttle) */
	uint32_t ones = FE__LD(e->ones), m = FE__LD(e->misses), s = FE__LD(e->seq);
	bool found = ones >= c->hv_ones_max ||
	             (ones >= c->hv_ones_min &&
	              ((uint64_t)m * 100 >= (uint64_t)c->hv.nxdomain_percent * q ||
	               (uint64_t)s * 100 >= (uint64_t)c->hv.sequential_percent * q));
	if (!found)
		return false;
	uint32_t until = now_s + c->hv.hold_s;
	FE__ST(e->until_s, until ? until : 1u);
	rep->queries = q;
	rep->distinct = fe__hv_distinct_of(ones);
	rep->misses_pct = (uint32_t)((uint64_t)m * 100 / q);
	rep->seq_pct = (uint32_t)((uint64_t)s * 100 / q);
	rep->seconds = now_s - FE__LD(e->start_s);
	uint64_t first = FE__LD(e->first_bcd);
	rep->walked[0] = '+';
	for (unsigned i = 0; i < cp; i++)
		rep->walked[1 + i] = (char)('0' + ((first >> (60 - 4 * i)) & 0xFu));
	rep->walked[1 + cp] = 0;
	return true;
}
