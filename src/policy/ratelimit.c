/* Response rate limiting (docs/federation.md "Abuse control", docs/security.md L3), after the
 * design of BIND's and Knot's RRL: a token bucket per {client prefix, response class}; a
 * limited response is dropped, or every slip-th one sent truncated so that a real client
 * behind a spoofed flood still gets through over TCP.
 *
 * The table is fixed: RRL_ENTRIES buckets in sets of RRL_WAYS; a new key takes an empty
 * bucket of its set or the one idle longest. Each field is one word read and written with
 * relaxed atomics: two workers updating one bucket at once may lose a token, never corrupt
 * the table. */
#include "abuse_int.h"
#include "policy_int.h"

#include "fedenum/util.h"

#include <stdlib.h>
#include <string.h>

#define RRL_ENTRIES 16384u /* power of two */
#define RRL_WAYS    4u

struct rrl_entry {
	uint64_t key;     /* 0: empty */
	int64_t credit;   /* tokens; negative: debt */
	uint32_t last_s;  /* the second the credit was last refilled */
	uint32_t limited; /* responses limited so far (for slip) */
};

struct fe__rrl {
	struct rrl_entry e[RRL_ENTRIES];
};

int fe__rrl_create(struct fe__rrl **out)
{
	*out = aligned_alloc(64, sizeof(struct fe__rrl));
	if (!*out)
		return FE_ENOMEM;
	memset(*out, 0, sizeof(struct fe__rrl));
	return FE_OK;
}

void fe__rrl_destroy(struct fe__rrl *t)
{
	free(t);
}

enum fe__rrl_verdict fe__rrl_account(struct fe__rrl *t, const struct fe_policy_rate_limit *c,
                                     uint64_t key, uint32_t now_s, uint32_t *nlimited)
{
	*nlimited = 0;
	struct rrl_entry *set = &t->e[(key >> 17) & (RRL_ENTRIES - 1) & ~(RRL_WAYS - 1)];
	struct rrl_entry *e = NULL, *victim = set;
	for (unsigned i = 0; i < RRL_WAYS && !e; i++) {
		uint64_t k = FE__LD(set[i].key);
		if (k == key)
			e = &set[i];
		else if (k == 0 || (FE__LD(victim->key) != 0 &&
		                    FE__LD(set[i].last_s) < FE__LD(victim->last_s)))
			victim = &set[i];
	}
	int64_t rate = c->responses_per_second;
	int64_t credit;
	if (!e) {
		e = victim;
		FE__ST(e->key, key);
		FE__ST(e->last_s, now_s);
		FE__ST(e->limited, 0u);
		credit = rate;
	} else {
		credit = FE__LD(e->credit);
		uint32_t elapsed = now_s - FE__LD(e->last_s);
		if (elapsed) {
			/* refill a second's worth per second, never above one second's burst */
			credit = elapsed > c->window_s + 1u ? rate
			                                    : credit + (int64_t)elapsed * rate;
			if (credit > rate)
				credit = rate;
			FE__ST(e->last_s, now_s);
		}
	}
	credit--;
	int64_t floor = -rate * (int64_t)c->window_s;
	if (credit < floor)
		credit = floor;
	FE__ST(e->credit, credit);
	if (credit >= 0)
		return FE__RRL_SEND;
	uint32_t n = FE__LD(e->limited) + 1;
	FE__ST(e->limited, n);
	*nlimited = n;
	return c->slip && n % c->slip == 0 ? FE__RRL_SLIP : FE__RRL_DROP;
}

enum rclass { RC_ANSWER = 1, RC_NODATA, RC_NXDOMAIN, RC_ERROR };

uint64_t fe__rrl_key(uint64_t prefix_key, const struct fe_wire_query *q, const uint8_t *resp,
                     size_t len)
{
	unsigned rcode = len >= FE_WIRE_HDR_LEN ? resp[3] & 0xFu : FE_RCODE_SERVFAIL;
	unsigned an = len >= FE_WIRE_HDR_LEN ? (unsigned)resp[6] << 8 | resp[7] : 0;
	enum rclass rc = rcode == FE_RCODE_NXDOMAIN  ? RC_NXDOMAIN
	                 : rcode != FE_RCODE_NOERROR ? RC_ERROR
	                 : an                        ? RC_ANSWER
	                                             : RC_NODATA;
	uint64_t h = prefix_key ^ ((uint64_t)rc << 56);
	if ((rc == RC_ANSWER || rc == RC_NODATA) && q && q->qname_len) {
		/* identical answers share a bucket: the question name and type */
		uint64_t w = 0;
		h ^= (uint64_t)q->qtype << 32;
		for (size_t i = 0; i < q->qname_len; i++) {
			w = (w << 8) | q->qname_lc[i];
			if ((i & 7u) == 7u) {
				h = fe__mix64(h ^ w);
				w = 0;
			}
		}
		h ^= w;
	}
	h = fe__mix64(h);
	return h ? h : 1;
}
