/* src/xfr/xfr_int.h — zone transfer internals shared by xfr.c (admission, the handler) and
 * xfr_stream.c (the RR sequence of a transfer and its packing into messages). */
#ifndef FE_XFR_INT_H
#define FE_XFR_INT_H

#include "fedenum/store.h"
#include "fedenum/tsig.h"
#include "fedenum/wire.h"
#include "fedenum/xfr.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct fe_xfr {
	struct fe_store *st;
	struct fe_xfr_opts o;
	struct fe_tsig_replay *replay;
	struct fe_server_stream_handler handler;
	struct fe_server_policy policy;
	uint32_t running;          /* atomic */
	uint64_t cnt[FE_XFR__MAX]; /* atomic */
	/* per configured secondary (fe_xfr_peers); under peers_mu, taken by query workers */
	pthread_mutex_t peers_mu;
	struct fe_xfr_peer peers[FE_XFR_PEERS_MAX];
	struct fe__xpeer_zones {
		struct fe__xpz {
			char zone[256];
			struct fe_xfr_peer_zone st;
		} * z;
		size_t n, cap;
	} pz[FE_XFR_PEERS_MAX]; /* per peer: the last transfer of each zone */
	size_t npeers;
};

static inline void fe__xfr_count(struct fe_xfr *x, enum fe_xfr_counter c, uint64_t n)
{
	__atomic_fetch_add(&x->cnt[c], n, __ATOMIC_RELAXED);
}

/* One RR of a transfer; pointers into the stream's snapshot or its journal copies. */
struct fe__xrr {
	const uint8_t *owner;
	uint16_t type;
	uint32_t ttl;
	const uint8_t *rdata;
	uint16_t rdlen;
};

/* A journal entry copied out of its read transaction (one allocation: removed, then added). */
struct fe__xent {
	uint32_t from, to;
	uint8_t *removed;
	size_t removed_len;
	uint8_t *added;
	size_t added_len;
};

enum fe__xphase {
	FE__XP_SOA_FIRST = 0,
	FE__XP_NODES,   /* owner nodes in key order */
	FE__XP_NSEC3,   /* NSEC3 nodes in hash order */
	FE__XP_JOURNAL, /* IXFR: the copied entries */
	FE__XP_SOA_LAST,
	FE__XP_DONE
};

struct fe__xstream {
	struct fe_xfr *x;
	bool running;               /* counted in x->running */
	bool is_ixfr;               /* answered incrementally (not the AXFR form) */
	bool tracked;               /* the peer is a configured secondary (fe_xfr_peers) */
	struct fe_store_reader *rd; /* the transfer's own snapshot; NULL for a one-message answer */
	const struct fe_store_zone_rec *zone;
	uint8_t req[FE_WIRE_MSG_MAX]; /* the request, for the question of every message */
	size_t req_len;
	struct fe_wire_query q;
	struct fe_tsig_stream *ts; /* NULL: unsigned (an unsigned refusal) */
	uint64_t started_ms, deadline_ms;
	char peer[64];
	char zname[256];
	/* a one-message answer prepared in open */
	uint8_t *one;
	size_t one_len;
	/* the RR sequence */
	enum fe__xphase phase;
	struct fe__xrr soa;
	struct fe_store_node node;
	const uint8_t *nkey;
	size_t nkey_len;
	bool have_node;
	struct fe_store_rrset rs;
	size_t rs_iter, rr_iter;
	bool have_rs;
	struct fe__xent *ent;
	size_t nent, ient;
	int jstep; /* 0 old SOA, 1 removed, 2 new SOA, 3 added */
	size_t joff;
	struct fe__xrr pend;
	bool has_pend;
	uint64_t messages, bytes, rrs;
};

/* Next message of @s into @buf (@cap ≥ 65535): FE_OK with *len 0 at the end. */
int fe__xfr_stream_next(struct fe__xstream *s, uint8_t *buf, size_t cap, size_t *len);

#endif
