/* On-demand peering (docs/architecture.md "On-demand peering", docs/federation.md): a member
 * zone that this node does not hold is resolved when a client asks for one of its numbers,
 * from the federation's own name servers, with libunbound, validated under the federation's
 * trust anchors only, kept in the store's on-demand cache until its TTL, and answered like
 * held data.
 *
 * Threads and flow:
 *  - workers: the pipeline's `miss` hook (od_miss) for a name below a delegation, in a held
 *    registry zone, to a zone not held. Policy first (policy.on-demand prefixes and views),
 *    then the cache in the worker's snapshot (a hit is answered at once), else the request
 *    is parked (the server keeps the client) and queued for the main loop (a mutex and a
 *    uv_async), within max-pending and max-per-client;
 *  - main loop: one resolution per (name, type), whatever number of clients wait for it
 *    (joined), started with ub_resolve_async on a context whose background thread does the
 *    DNS work; its pipe (ub_fd) is polled by the loop and ub_process delivers the results
 *    here; a timer per resolution (timeout-ms) cancels it. A secure answer is written to the
 *    cache on the thread pool (a store write may wait for a zone load), then every waiting
 *    request is resumed: the worker runs it again, now a cache hit. Anything else resumes
 *    them with the reason: SERVFAIL with an EDE.
 *  - where unbound may go: forward zones only. The registry's apexes go to
 *    policy.on-demand.servers (DS and DNSKEY of the registry: the chain to the anchor), each
 *    delegated member zone that on-demand allows goes to the addresses of its NS names as
 *    this node's validated registry zone has them (glue, or held zones), at
 *    policy.on-demand.port; "." is refused (local-zone), so no name outside the
 *    federation's roots is ever resolved, and no root hint is used (nothing is forwarded
 *    there). The trust anchors are the federation's, nothing else (no root anchor).
 *    The forward set is recomputed from the store after each load pass, each secondary
 *    change and every minute; a new set takes a new context once no resolution runs.
 */
#include "daemon_int.h"

#include "fedenum/policy.h"
#include "fedenum/server.h"
#include "fedenum/store.h"
#include "fedenum/trust.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unbound.h>
#include <unistd.h>

#define OD_CLIENT_SLOTS 4096u  /* per-client counts: a hash table of the client addresses */
#define OD_MAX_CUTS     4096u  /* member zones forwarded at most */
#define OD_MAX_ADDRS    8u     /* addresses per member zone */
#define OD_SWEEP_MS     60000u /* cache sweep and forward-set check */
#define OD_SWEEP_MAX    10000u /* entries deleted per sweep */

static struct fe_ratelog od_log = FE_RATELOG_INIT(20, 60);

static const char *const cnt_names[FE__OD_CNT_MAX] = {
        "hit",    "resolved", "bogus",       "insecure",   "failed",      "timeout", "deferred",
        "joined", "limit",    "not-allowed", "no-servers", "store-error", "swept",
};

const char *fe__od_counter_name(unsigned i)
{
	return i < FE__OD_CNT_MAX ? cnt_names[i] : "?";
}

/* A request parked by a worker, on its way to a resolution. */
struct od_req {
	struct od_req *next;
	struct fe_server_ticket *t;
	unsigned slot; /* client slot */
	uint8_t name[FE_WIRE_NAME_MAX];
	uint16_t type;
};

/* One resolution of (name, type) and the requests that wait for it. */
struct od_job {
	struct od_job *prev, *next;
	struct fe__od *od;
	uint8_t name[FE_WIRE_NAME_MAX]; /* lowercase wire */
	size_t name_len;
	uint16_t type;
	int async_id;
	bool running; /* ub_resolve_async in flight */
	bool writing; /* the cache write runs on the pool */
	struct od_req *waiting;
	uv_timer_t timer;
	bool timer_open;
	uv_work_t work;
	uint8_t *val; /* the cache entry being written */
	size_t val_len;
	int status; /* what the waiting requests get */
};

struct fe__od {
	uv_loop_t *loop;
	struct fe_store *st;
	struct fe_store_reader *reader; /* main loop's, for the forward set */
	struct fe_policy_rt *policy;
	char **anchors; /* the federation's anchors as unbound reads them (copied at start: a
	                   reload frees the configuration they came from) */
	size_t nanchors;
	char *store_path;
	struct fe_server_ondemand hook;
	uint16_t udp_max;
	/* configuration (read-only once started) */
	char **prefixes; /* digits only */
	size_t nprefixes;
	char **views;
	size_t nviews;
	char **servers; /* "ADDR@PORT" */
	size_t nservers;
	uint8_t roots[8][FE_WIRE_NAME_MAX]; /* registry apexes, lowercase wire */
	size_t nroots;
	uint32_t port, max_pending, max_per_client, timeout_ms, max_ttl_s, cache_entries;
	/* shared with the workers */
	_Atomic uint32_t pending; /* parked requests, whole node */
	_Atomic uint32_t client[OD_CLIENT_SLOTS];
	_Atomic uint64_t cnt[FE__OD_CNT_MAX];
	uv_mutex_t mu; /* queue, closed */
	bool mu_ready;
	struct od_req *queue;
	bool closed;
	uv_async_t async;
	/* main loop only */
	struct od_job *jobs;
	size_t njobs;
	struct ub_ctx *ub;
	uv_poll_t *poll;  /* on the context's fd; its own allocation (a new context may start
	                     before the old handle's close has completed) */
	char *fwd_text;   /* the forward set the context was made with */
	char *fwd_wanted; /* the set computed last; differs: rebuild when idle */
	unsigned nfwd;    /* member zones in the current set */
	uv_timer_t sweep;
	uv_work_t sweep_work;
	bool sweeping;
	size_t swept;
	bool started, stopped;
};

static void inc(struct fe__od *od, enum fe__od_cnt c)
{
	atomic_fetch_add_explicit(&od->cnt[c], 1, memory_order_relaxed);
}

void fe__od_log_counters(struct fe__od *od, const char *why)
{
	if (!od)
		return;
	char buf[512];
	size_t o = 0;
	for (unsigned i = 0; i < FE__OD_CNT_MAX && o < sizeof(buf); i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s=%llu", i ? " " : "",
		                      cnt_names[i], (unsigned long long)atomic_load(&od->cnt[i]));
	fe_log_info("counters (%s) on-demand: %s", why, buf);
}

void fe__od_counters(struct fe__od *od, uint64_t *out)
{
	for (unsigned i = 0; i < FE__OD_CNT_MAX; i++)
		out[i] = od ? atomic_load_explicit(&od->cnt[i], memory_order_relaxed) : 0;
}

/* ---- the worker side ---------------------------------------------------------------- */

static unsigned client_slot(const struct sockaddr *sa)
{
	uint64_t h = 1469598103934665603ull;
	const uint8_t *p = NULL;
	size_t n = 0;
	if (sa->sa_family == AF_INET) {
		p = (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		n = 4;
	} else if (sa->sa_family == AF_INET6) {
		p = (const uint8_t *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		n = 16;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return (unsigned)(h % OD_CLIENT_SLOTS);
}

/* The registry apex index under which @name (lowercase wire) lies, with the number its
 * labels below the apex spell (digits, most significant first) in @num; -1 when @name is
 * not a number under a registry apex. */
static int number_of(const struct fe__od *od, const uint8_t *name, char *num, size_t cap)
{
	int len = fe_wire_name_len(name, FE_WIRE_NAME_MAX);
	if (len <= 0)
		return -1;
	for (size_t r = 0; r < od->nroots; r++) {
		int rl = fe_wire_name_len(od->roots[r], FE_WIRE_NAME_MAX);
		if (rl <= 0 || rl > len || memcmp(name + len - rl, od->roots[r], (size_t)rl) != 0)
			continue;
		/* the labels before the apex, each one digit: "1.0.6.6.6.1" */
		size_t digits = (size_t)(len - rl) / 2u;
		if ((size_t)(len - rl) % 2u || digits == 0 || digits + 1 > cap || digits > 15)
			return -1;
		for (size_t i = 0; i < digits; i++) {
			const uint8_t *l = name + 2 * i;
			if (l[0] != 1 || l[1] < '0' || l[1] > '9')
				return -1;
			num[digits - 1 - i] = (char)l[1];
		}
		num[digits] = '\0';
		return (int)r;
	}
	return -1;
}

static bool prefix_allowed(const struct fe__od *od, const char *num)
{
	for (size_t i = 0; i < od->nprefixes; i++)
		if (strncmp(num, od->prefixes[i], strlen(od->prefixes[i])) == 0)
			return true;
	return false;
}

/* SERVFAIL with @ede for @req's query into @resp. */
static size_t servfail(const struct fe__od *od, const struct fe_server_request *req, uint16_t ede,
                       uint8_t *resp, size_t cap)
{
	struct fe_wire_builder b;
	size_t lim = req->transport == FE_TRANSPORT_UDP ? fe_wire_udp_limit(req->q, od->udp_max)
	                                                : FE_WIRE_MSG_MAX;
	fe_wire_builder_init(&b, resp, FE_MIN(lim, cap), req->q);
	fe_wire_builder_set_rcode(&b, FE_RCODE_SERVFAIL);
	fe_wire_builder_add_ede(&b, ede);
	return fe_wire_builder_finish(&b, req->q, od->udp_max);
}

static uint16_t ede_of(int status)
{
	switch (status) {
	case FE_EVALIDATE:
		return FE_EDE_DNSSEC_BOGUS;
	case FE_EPERM:
		return FE_EDE_DNSSEC_INDETERMINATE; /* insecure: not signed under the anchors */
	case FE_ETIMEOUT:
	case FE_EIO:
		return FE_EDE_NO_REACHABLE_AUTHORITY;
	case FE_EBUSY:
		return FE_EDE_NOT_READY;
	default:
		return FE_EDE_OTHER;
	}
}

static enum fe_server_od_verdict od_miss(void *state, const struct fe_server_request *req,
                                         unsigned cut_labels, const int *resumed, uint8_t *resp,
                                         size_t *len, size_t cap)
{
	struct fe__od *od = state;
	const struct fe_wire_query *q = req->q;
	(void)cut_labels;
	char num[16];
	if (!q || number_of(od, q->qname_lc, num, sizeof(num)) < 0 || !prefix_allowed(od, num) ||
	    (od->nviews &&
	     (!od->policy || !fe_policy_rt_view_listed(od->policy, req, od->views, od->nviews)))) {
		if (!resumed)
			inc(od, FE__OD_NOT_ALLOWED);
		return FE_SERVER_OD_KEEP; /* cause zone-unavailable, as without on-demand */
	}
	/* the cache: entries are keyed by the lowercase name and the type */
	uint8_t key[FE_WIRE_KEY_MAX + 2];
	int klen = fe_odc_key(q->qname_lc, q->qname_len, q->qtype, key, sizeof(key));
	const uint8_t *val;
	size_t vlen;
	if (klen > 0 && fe_store_odc_get(req->reader, key, (size_t)klen, &val, &vlen) == FE_OK) {
		size_t n =
		        fe_answer_from_odc(&(struct fe_answer_opts){.udp_max = od->udp_max}, q,
		                           req->transport, val, vlen, fe_time_wall_s(), resp, cap);
		if (n) {
			if (!resumed)
				inc(od, FE__OD_HIT);
			*len = n;
			return FE_SERVER_OD_ANSWER;
		}
	}
	if (resumed) {
		/* the resolution ended without a usable answer (or its entry is gone already) */
		*len = servfail(od, req, ede_of(*resumed == FE_OK ? FE_EIO : *resumed), resp, cap);
		return FE_SERVER_OD_ANSWER;
	}
	/* park it: bounded per node and per client */
	unsigned slot = client_slot(req->peer);
	if (atomic_fetch_add(&od->pending, 1) >= od->max_pending) {
		atomic_fetch_sub(&od->pending, 1);
		inc(od, FE__OD_LIMIT);
		*len = servfail(od, req, FE_EDE_NOT_READY, resp, cap);
		return FE_SERVER_OD_ANSWER;
	}
	if (atomic_fetch_add(&od->client[slot], 1) >= od->max_per_client) {
		atomic_fetch_sub(&od->client[slot], 1);
		atomic_fetch_sub(&od->pending, 1);
		inc(od, FE__OD_LIMIT);
		*len = servfail(od, req, FE_EDE_NOT_READY, resp, cap);
		return FE_SERVER_OD_ANSWER;
	}
	struct fe_server_ticket *t = fe_server_park(req);
	if (!t) {
		/* the worker's own bound (FE_SERVER_PARK_MAX), or no memory */
		atomic_fetch_sub(&od->client[slot], 1);
		atomic_fetch_sub(&od->pending, 1);
		inc(od, FE__OD_LIMIT);
		*len = servfail(od, req, FE_EDE_NOT_READY, resp, cap);
		return FE_SERVER_OD_ANSWER;
	}
	struct od_req *r = malloc(sizeof(*r));
	if (!r) {
		atomic_fetch_sub(&od->client[slot], 1);
		atomic_fetch_sub(&od->pending, 1);
		return FE_SERVER_OD_KEEP;
	}
	r->t = t;
	r->slot = slot;
	memcpy(r->name, q->qname_lc, q->qname_len);
	r->type = q->qtype;
	uv_mutex_lock(&od->mu);
	bool closed = od->closed;
	if (!closed) {
		r->next = od->queue;
		od->queue = r;
		uv_async_send(&od->async);
	}
	uv_mutex_unlock(&od->mu);
	if (closed) {
		free(r);
		atomic_fetch_sub(&od->client[slot], 1);
		atomic_fetch_sub(&od->pending, 1);
		return FE_SERVER_OD_KEEP;
	}
	inc(od, FE__OD_DEFERRED);
	return FE_SERVER_OD_DEFER;
}

/* ---- the main loop: resolutions --------------------------------------------------------- */

static void req_done(struct fe__od *od, struct od_req *r, int status)
{
	atomic_fetch_sub(&od->client[r->slot], 1);
	atomic_fetch_sub(&od->pending, 1);
	fe_server_resume(r->t, status);
	free(r);
}

static void job_timer_closed(uv_handle_t *h)
{
	struct od_job *j = h->data;
	free(j->val);
	free(j);
}

static void maybe_rebuild(struct fe__od *od);

/* Resume every waiting request with the job's status and free the job. */
static void job_finish(struct od_job *j)
{
	struct fe__od *od = j->od;
	while (j->waiting) {
		struct od_req *r = j->waiting;
		j->waiting = r->next;
		req_done(od, r, j->status);
	}
	if (j->prev)
		j->prev->next = j->next;
	else
		od->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	od->njobs--;
	if (j->timer_open) {
		j->timer_open = false;
		uv_close((uv_handle_t *)&j->timer, job_timer_closed);
	} else {
		free(j->val);
		free(j);
	}
	if (!od->stopped)
		maybe_rebuild(od);
}

static void cache_write(uv_work_t *w)
{
	struct od_job *j = w->data;
	struct fe__od *od = j->od;
	uint8_t key[FE_WIRE_KEY_MAX + 2];
	int klen = fe_odc_key(j->name, j->name_len, j->type, key, sizeof(key));
	int rc = klen < 0 ? klen
	                  : fe_store_odc_put(od->st, key, (size_t)klen, j->val, j->val_len,
	                                     od->cache_entries);
	j->status = rc;
}

static void cache_written(uv_work_t *w, int status)
{
	struct od_job *j = w->data;
	struct fe__od *od = j->od;
	j->writing = false;
	if (status != 0 && j->status == FE_OK)
		j->status = FE_EIO;
	if (j->status == FE_OK) {
		inc(od, FE__OD_RESOLVED);
	} else {
		inc(od, FE__OD_STORE_ERROR);
		fe_ratelog(&od_log, FE_LOG_WARN, "on-demand: cache write: %s",
		           fe_strerror(j->status));
		j->status = j->status == FE_EBUSY ? FE_EBUSY : FE_EIO;
	}
	if (od->stopped) {
		/* fe__od_stop resumed the waiting requests and unlinked the job already */
		if (j->timer_open) {
			j->timer_open = false;
			uv_close((uv_handle_t *)&j->timer, job_timer_closed);
		} else {
			free(j->val);
			free(j);
		}
		return;
	}
	job_finish(j);
}

/* The uncompressed form of the names in the RDATA of the types a server may compress
 * (RFC 3597 §4: the RFC 1035 types). Returns the new length at @out, or -1. */
static int rdata_uncompress(const uint8_t *pkt, size_t pkt_len, size_t pos, uint16_t type,
                            uint16_t rdlen, uint8_t *out, size_t cap)
{
	size_t end = pos + rdlen, o = 0;
	uint8_t nm[FE_WIRE_NAME_MAX];
	int names = 0, fixed_before = 0;
	switch (type) {
	case FE_T_NS:
	case FE_T_CNAME:
	case FE_T_PTR:
	case FE_T_DNAME:
		names = 1;
		break;
	case FE_T_MX:
		fixed_before = 2;
		names = 1;
		break;
	case FE_T_SOA:
		names = 2;
		break;
	default:
		if (rdlen > cap)
			return -1;
		memcpy(out, pkt + pos, rdlen);
		return rdlen;
	}
	if (end > pkt_len || (size_t)fixed_before > rdlen || (size_t)fixed_before > cap)
		return -1;
	memcpy(out, pkt + pos, (size_t)fixed_before);
	o = (size_t)fixed_before;
	pos += (size_t)fixed_before;
	for (int i = 0; i < names; i++) {
		int n = fe_wire_name_read(pkt, end, &pos, nm);
		if (n < 0 || o + (size_t)n > cap)
			return -1;
		memcpy(out + o, nm, (size_t)n);
		o += (size_t)n;
	}
	if (pos > end || o + (end - pos) > cap)
		return -1;
	memcpy(out + o, pkt + pos, end - pos); /* SOA's five numbers */
	o += end - pos;
	return (int)o;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	fe_put_be32(p, (uint32_t)(v >> 32));
	fe_put_be32(p + 4, (uint32_t)v);
}

/* The cache entry (server.h "answers resolved on demand") of unbound's validated answer
 * @pkt: the answer and authority sections, names uncompressed; the additional section is
 * left out. NULL when it cannot be read (or is too large). */
static uint8_t *entry_of(const struct fe__od *od, const uint8_t *pkt, size_t len, uint8_t rcode,
                         size_t *out_len)
{
	if (len < FE_WIRE_HDR_LEN || fe_get_be16(pkt + 4) != 1)
		return NULL;
	uint16_t an = fe_get_be16(pkt + 6), ns = fe_get_be16(pkt + 8);
	size_t pos = FE_WIRE_HDR_LEN;
	if (fe_wire_name_read(pkt, len, &pos, NULL) < 0 || pos + 4 > len)
		return NULL;
	pos += 4;
	uint8_t *v = malloc(FE_STORE_ODC_VALUE_MAX);
	if (!v)
		return NULL;
	size_t o = FE_ODC_HDR_LEN;
	uint32_t min_ttl = od->max_ttl_s;
	uint16_t count = 0;
	for (unsigned i = 0; i < (unsigned)an + ns; i++) {
		uint8_t owner[FE_WIRE_NAME_MAX];
		int olen = fe_wire_name_read(pkt, len, &pos, owner);
		if (olen < 0 || pos + 10 > len)
			goto fail;
		uint16_t type = fe_get_be16(pkt + pos), rclass = fe_get_be16(pkt + pos + 2);
		uint32_t ttl = fe_get_be32(pkt + pos + 4);
		uint16_t rdlen = fe_get_be16(pkt + pos + 8);
		pos += 10;
		if (pos + rdlen > len)
			goto fail;
		if (rclass != FE_C_IN || type == FE_T_OPT) {
			pos += rdlen;
			continue;
		}
		if (o + 1 + (size_t)olen + 10 > FE_STORE_ODC_VALUE_MAX)
			goto fail;
		v[o++] = i < an ? 0 : 1;
		memcpy(v + o, owner, (size_t)olen);
		o += (size_t)olen;
		fe_put_be16(v + o, type);
		fe_put_be16(v + o + 2, rclass);
		fe_put_be32(v + o + 4, ttl);
		int rl = rdata_uncompress(pkt, len, pos, type, rdlen, v + o + 10,
		                          FE_STORE_ODC_VALUE_MAX - o - 10);
		if (rl < 0 || rl > 65535)
			goto fail;
		fe_put_be16(v + o + 8, (uint16_t)rl);
		o += 10 + (size_t)rl;
		pos += rdlen;
		if (ttl < min_ttl)
			min_ttl = ttl;
		count++;
	}
	if (count == 0 && rcode == FE_RCODE_NOERROR)
		goto fail; /* nothing to keep */
	int64_t now = fe_time_wall_s();
	put_be64(v, (uint64_t)(now + (min_ttl ? min_ttl : 1)));
	put_be64(v + 8, (uint64_t)now);
	v[16] = rcode;
	v[17] = FE_ODC_SECURE;
	fe_put_be16(v + 18, count);
	*out_len = o;
	return v;
fail:
	free(v);
	return NULL;
}

static void on_result(void *arg, int err, struct ub_result *res)
{
	struct od_job *j = arg;
	struct fe__od *od = j->od;
	j->running = false;
	if (j->timer_open)
		uv_timer_stop(&j->timer);
	char name[1100];
	fe_wire_name_to_str(j->name, name, sizeof(name));
	if (err != 0 || !res) {
		inc(od, FE__OD_FAILED);
		fe_ratelog(&od_log, FE_LOG_WARN, "on-demand: %s type %u: %s", name, j->type,
		           ub_strerror(err));
		j->status = FE_EIO;
	} else if (res->bogus) {
		inc(od, FE__OD_BOGUS);
		fe_ratelog(&od_log, FE_LOG_WARN,
		           "on-demand: %s type %u: bogus (does not validate under the federation's "
		           "anchors): %s: SERVFAIL",
		           name, j->type, res->why_bogus ? res->why_bogus : "?");
		j->status = FE_EVALIDATE;
	} else if (!res->secure &&
	           (res->rcode == FE_RCODE_NOERROR || res->rcode == FE_RCODE_NXDOMAIN)) {
		inc(od, FE__OD_INSECURE);
		fe_ratelog(&od_log, FE_LOG_WARN,
		           "on-demand: %s type %u: answer not signed under the federation's "
		           "anchors (insecure): SERVFAIL",
		           name, j->type);
		j->status = FE_EPERM;
	} else if (res->rcode != FE_RCODE_NOERROR && res->rcode != FE_RCODE_NXDOMAIN) {
		inc(od, FE__OD_FAILED);
		fe_ratelog(&od_log, FE_LOG_WARN,
		           "on-demand: %s type %u: rcode %d from the "
		           "federation's servers: SERVFAIL",
		           name, j->type, res->rcode);
		j->status = FE_EIO;
	} else {
		j->val = entry_of(od, res->answer_packet, (size_t)res->answer_len,
		                  (uint8_t)res->rcode, &j->val_len);
		if (!j->val) {
			inc(od, FE__OD_FAILED);
			fe_ratelog(&od_log, FE_LOG_WARN,
			           "on-demand: %s type %u: answer too large or unreadable", name,
			           j->type);
			j->status = FE_EIO;
		} else {
			fe_log_debug("on-demand: %s type %u: secure (rcode %d), cached", name,
			             j->type, res->rcode);
			j->status = FE_OK;
		}
	}
	if (res)
		ub_resolve_free(res);
	if (j->status == FE_OK) {
		j->work.data = j;
		j->writing = true;
		if (uv_queue_work(od->loop, &j->work, cache_write, cache_written) == 0)
			return;
		j->writing = false;
		j->status = FE_EIO;
	}
	job_finish(j);
}

static void on_timeout(uv_timer_t *t)
{
	struct od_job *j = t->data;
	struct fe__od *od = j->od;
	if (!j->running)
		return;
	ub_cancel(od->ub, j->async_id);
	j->running = false;
	inc(od, FE__OD_TIMEOUT);
	char name[1100];
	fe_wire_name_to_str(j->name, name, sizeof(name));
	fe_ratelog(&od_log, FE_LOG_WARN, "on-demand: %s type %u: no answer within %u ms: SERVFAIL",
	           name, j->type, od->timeout_ms);
	j->status = FE_ETIMEOUT;
	job_finish(j);
}

static void start_job(struct fe__od *od, struct od_req *r)
{
	size_t nlen = (size_t)fe_wire_name_len(r->name, FE_WIRE_NAME_MAX);
	for (struct od_job *j = od->jobs; j; j = j->next)
		if (j->type == r->type && j->name_len == nlen &&
		    memcmp(j->name, r->name, nlen) == 0 && (j->running || j->writing)) {
			r->next = j->waiting;
			j->waiting = r;
			inc(od, FE__OD_JOINED);
			return;
		}
	if (!od->ub) {
		inc(od, FE__OD_NO_SERVERS);
		req_done(od, r, FE_EIO);
		return;
	}
	struct od_job *j = calloc(1, sizeof(*j));
	if (!j) {
		req_done(od, r, FE_EIO);
		return;
	}
	j->od = od;
	memcpy(j->name, r->name, nlen);
	j->name_len = nlen;
	j->type = r->type;
	j->waiting = r;
	r->next = NULL;
	j->next = od->jobs;
	if (od->jobs)
		od->jobs->prev = j;
	od->jobs = j;
	od->njobs++;
	j->status = FE_EIO;
	if (uv_timer_init(od->loop, &j->timer) == 0) {
		j->timer_open = true;
		j->timer.data = j;
		uv_timer_start(&j->timer, on_timeout, od->timeout_ms, 0);
	}
	char name[1100];
	fe_wire_name_to_str(j->name, name, sizeof(name));
	j->running = true;
	int rc = ub_resolve_async(od->ub, name, j->type, FE_C_IN, j, on_result, &j->async_id);
	if (rc != 0) {
		j->running = false;
		inc(od, FE__OD_FAILED);
		fe_ratelog(&od_log, FE_LOG_WARN, "on-demand: %s: %s", name, ub_strerror(rc));
		job_finish(j);
	}
}

static void on_async(uv_async_t *a)
{
	struct fe__od *od = a->data;
	uv_mutex_lock(&od->mu);
	struct od_req *list = od->queue;
	od->queue = NULL;
	uv_mutex_unlock(&od->mu);
	while (list) {
		struct od_req *r = list;
		list = r->next;
		start_job(od, r);
	}
}

static void on_ub_readable(uv_poll_t *p, int status, int events)
{
	struct fe__od *od = p->data;
	(void)events;
	if (status < 0 || !od->ub)
		return;
	int rc = ub_process(od->ub); /* the callbacks (on_result) run here */
	if (rc != 0)
		fe_ratelog(&od_log, FE_LOG_WARN, "on-demand: libunbound: %s", ub_strerror(rc));
}

/* ---- the forward set and the resolver ------------------------------------------------ */

struct textbuf {
	char *s;
	size_t len, cap;
	bool failed;
};

static void tb_add(struct textbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tb_add(struct textbuf *b, const char *fmt, ...)
{
	if (b->failed)
		return;
	for (int tries = 0; tries < 2; tries++) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = true;
			return;
		}
		if (b->s && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t ncap = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
		char *ns = realloc(b->s, ncap);
		if (!ns) {
			b->failed = true;
			return;
		}
		b->s = ns;
		b->cap = ncap;
	}
	b->failed = true;
}

/* The addresses of name server @ns (wire): glue in the registry zone @reg when @ns is at or
 * below the cut, else the A/AAAA of the validated held zone that holds it. */
static void ns_addrs(struct fe__od *od, const struct fe_store_zone_rec *reg, const uint8_t *ns,
                     char addrs[OD_MAX_ADDRS][80], size_t *naddr)
{
	uint8_t key[FE_WIRE_KEY_MAX];
	int klen = fe_wire_name_key(ns, (size_t)fe_wire_name_len(ns, FE_WIRE_NAME_MAX), key,
	                            sizeof(key));
	if (klen < 0)
		return;
	const struct fe_store_zone_rec *z = NULL;
	if (fe_store_find_zone(od->reader, key, (size_t)klen, &z) != FE_OK)
		return;
	/* a held zone's own data, or the registry's glue for names below its cut */
	if (z != reg && (!(z->flags & FE_ZONE_VALIDATED) || (z->flags & FE_ZONE_BOGUS)))
		z = reg;
	struct fe_store_node node;
	if (fe_store_get_node(od->reader, z, key, (size_t)klen, &node) != FE_OK &&
	    (z == reg || fe_store_get_node(od->reader, reg, key, (size_t)klen, &node) != FE_OK))
		return;
	uint16_t types[2] = {FE_T_A, FE_T_AAAA};
	for (int t = 0; t < 2; t++) {
		struct fe_store_rrset rs;
		if (!fe_store_node_find(&node, types[t], &rs))
			continue;
		size_t it = 0;
		const uint8_t *rd;
		uint16_t rdlen;
		bool sig;
		while (*naddr < OD_MAX_ADDRS && fe_store_rrset_next(&rs, &it, &rd, &rdlen, &sig)) {
			if (sig)
				continue;
			char a[INET6_ADDRSTRLEN];
			if ((types[t] == FE_T_A && rdlen == 4 &&
			     inet_ntop(AF_INET, rd, a, sizeof(a))) ||
			    (types[t] == FE_T_AAAA && rdlen == 16 &&
			     inet_ntop(AF_INET6, rd, a, sizeof(a))))
				snprintf(addrs[(*naddr)++], 80, "%s@%u", a, od->port);
		}
	}
}

/* The forward zones unbound is to use, as unbound.conf text (its forward-zone clauses):
 * the registry apexes to the configured servers, every delegated member zone that
 * on-demand allows and this node does not hold to its name servers' addresses. */
static char *forward_set(struct fe__od *od, unsigned *ncuts)
{
	struct textbuf b = {0};
	*ncuts = 0;
	for (size_t r = 0; r < od->nroots; r++) {
		char apex[1100];
		fe_wire_name_to_str(od->roots[r], apex, sizeof(apex));
		tb_add(&b, "forward-zone:\n\tname: \"%s\"\n", apex);
		for (size_t i = 0; i < od->nservers; i++)
			tb_add(&b, "\tforward-addr: %s\n", od->servers[i]);
	}
	if (fe_store_reader_begin(od->reader) != FE_OK) {
		free(b.s);
		return NULL;
	}
	for (size_t r = 0; r < od->nroots; r++) {
		uint8_t akey[FE_WIRE_KEY_MAX];
		int aklen = fe_wire_name_key(
		        od->roots[r], (size_t)fe_wire_name_len(od->roots[r], FE_WIRE_NAME_MAX),
		        akey, sizeof(akey));
		const struct fe_store_zone_rec *reg = NULL;
		if (aklen < 0 ||
		    fe_store_get_zone(od->reader, akey, (size_t)aklen, &reg) != FE_OK ||
		    !(reg->flags & FE_ZONE_VALIDATED) || (reg->flags & FE_ZONE_BOGUS))
			continue; /* the registry zone is not held (validated) here: no delegations
			           */
		const uint8_t *k = NULL;
		size_t klen = 0;
		struct fe_store_node node;
		/* bounded by the zone's nodes and OD_MAX_CUTS */
		while (*ncuts < OD_MAX_CUTS && fe_store_next_node(od->reader, reg, false, k, klen,
		                                                  &k, &klen, &node) == FE_OK) {
			if (!(node.flags & FE_NODE_DELEG) || (node.flags & FE_NODE_OCCLUDED))
				continue;
			char num[16];
			uint8_t lc[FE_WIRE_NAME_MAX];
			fe_wire_name_lower(node.owner, lc);
			if (number_of(od, lc, num, sizeof(num)) < 0)
				continue;
			bool allowed = false;
			for (size_t i = 0; i < od->nprefixes && !allowed; i++) {
				size_t pl = strlen(od->prefixes[i]), nl = strlen(num);
				allowed = strncmp(num, od->prefixes[i], FE_MIN(pl, nl)) == 0;
			}
			const struct fe_store_zone_rec *child = NULL;
			if (!allowed || fe_store_get_zone(od->reader, k, klen, &child) == FE_OK)
				continue; /* not on-demand, or held here (replicated) */
			struct fe_store_rrset ns;
			if (!fe_store_node_find(&node, FE_T_NS, &ns))
				continue;
			char addrs[OD_MAX_ADDRS][80];
			size_t naddr = 0;
			size_t it = 0;
			const uint8_t *rd;
			uint16_t rdlen;
			bool sig;
			while (fe_store_rrset_next(&ns, &it, &rd, &rdlen, &sig))
				if (!sig && fe_wire_name_len(rd, rdlen) > 0)
					ns_addrs(od, reg, rd, addrs, &naddr);
			char cut[1100];
			fe_wire_name_to_str(node.owner, cut, sizeof(cut));
			if (!naddr) {
				fe_ratelog(&od_log, FE_LOG_WARN,
				           "on-demand: %s: no address for its name servers in the "
				           "registry (glue) or a held zone: not resolved on demand",
				           cut);
				continue;
			}
			tb_add(&b, "forward-zone:\n\tname: \"%s\"\n", cut);
			for (size_t i = 0; i < naddr; i++)
				tb_add(&b, "\tforward-addr: %s\n", addrs[i]);
			(*ncuts)++;
		}
	}
	fe_store_reader_end(od->reader);
	if (b.failed) {
		free(b.s);
		return NULL;
	}
	return b.s ? b.s : strdup("");
}

static void poll_closed(uv_handle_t *h)
{
	free(h);
}

static void close_ub(struct fe__od *od)
{
	if (od->poll) {
		uv_poll_stop(od->poll);
		uv_close((uv_handle_t *)od->poll, poll_closed);
		od->poll = NULL;
	}
	if (od->ub) {
		ub_ctx_delete(od->ub);
		od->ub = NULL;
	}
}

/* A new libunbound context for the forward set @fwd. */
static int make_ub(struct fe__od *od, const char *fwd)
{
	struct textbuf b = {0};
	tb_add(&b,
	       "server:\n\tdo-not-query-localhost: no\n\tval-permissive-mode: no\n"
	       "\tharden-dnssec-stripped: yes\n\ttrust-anchor-signaling: no\n"
	       "\troot-key-sentinel: no\n\taggressive-nsec: no\n\tqname-minimisation: no\n"
	       "\tcache-max-ttl: %u\n\tcache-max-negative-ttl: %u\n"
	       "\tlocal-zone: \".\" refuse\n",
	       od->max_ttl_s, od->max_ttl_s);
	for (size_t r = 0; r < od->nroots; r++) {
		char apex[1100];
		fe_wire_name_to_str(od->roots[r], apex, sizeof(apex));
		tb_add(&b, "\tlocal-zone: \"%s\" transparent\n", apex);
	}
	for (size_t i = 0; i < od->nanchors; i++)
		tb_add(&b, "\ttrust-anchor: \"%s\"\n", od->anchors[i]);
	tb_add(&b, "%s", fwd);
	if (b.failed) {
		free(b.s);
		return FE_ENOMEM;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/ondemand-unbound.XXXXXX", od->store_path);
	int fd = mkstemp(path);
	if (fd < 0) {
		fe_log_err("on-demand: cannot write the resolver's configuration in %s: %s",
		           od->store_path, strerror(errno));
		free(b.s);
		return FE_EIO;
	}
	bool ok = write(fd, b.s, b.len) == (ssize_t)b.len;
	close(fd);
	free(b.s);
	struct ub_ctx *ub = ok ? ub_ctx_create() : NULL;
	int rc = ub ? ub_ctx_config(ub, path) : -1;
	unlink(path);
	if (rc == 0)
		rc = ub_ctx_async(ub, 1); /* its own thread does the DNS work */
	if (!ub || rc != 0) {
		fe_log_err("on-demand: libunbound configuration: %s",
		           ub ? ub_strerror(rc) : "cannot create a context");
		if (ub)
			ub_ctx_delete(ub);
		return FE_EIO;
	}
	int fdu = ub_fd(ub);
	uv_poll_t *poll = malloc(sizeof(*poll));
	if (fdu < 0 || !poll || uv_poll_init(od->loop, poll, fdu) != 0) {
		free(poll);
		ub_ctx_delete(ub);
		return FE_EIO;
	}
	poll->data = od;
	od->poll = poll;
	uv_poll_start(poll, UV_READABLE, on_ub_readable);
	od->ub = ub;
	return FE_OK;
}

/* Take the forward set computed last into a new context, when no resolution runs. */
static void maybe_rebuild(struct fe__od *od)
{
	if (od->stopped || od->njobs || !od->fwd_wanted)
		return;
	if (od->ub && od->fwd_text && strcmp(od->fwd_text, od->fwd_wanted) == 0)
		return;
	close_ub(od);
	free(od->fwd_text);
	od->fwd_text = od->fwd_wanted;
	od->fwd_wanted = NULL;
	if (make_ub(od, od->fwd_text) == FE_OK)
		fe_log_info("on-demand: resolver ready: %zu registry zone%s to %zu server%s, %u "
		            "member zone%s not held here to their name servers",
		            od->nroots, od->nroots == 1 ? "" : "s", od->nservers,
		            od->nservers == 1 ? "" : "s", od->nfwd, od->nfwd == 1 ? "" : "s");
	od->fwd_wanted = strdup(od->fwd_text);
}

void fe__od_loads_done(struct fe__od *od)
{
	if (!od || od->stopped)
		return;
	unsigned n = 0;
	char *fwd = forward_set(od, &n);
	if (!fwd)
		return;
	free(od->fwd_wanted);
	od->fwd_wanted = fwd;
	od->nfwd = n;
	maybe_rebuild(od);
}

/* The sweep runs on the pool: its write transaction may wait for a zone load's. */
static void sweep_run(uv_work_t *w)
{
	struct fe__od *od = w->data;
	od->swept = 0;
	if (fe_store_odc_sweep(od->st, fe_time_wall_s(), OD_SWEEP_MAX, &od->swept, NULL) != FE_OK)
		od->swept = 0;
}

static void sweep_done(uv_work_t *w, int status)
{
	struct fe__od *od = w->data;
	(void)status;
	od->sweeping = false;
	if (od->swept) {
		atomic_fetch_add(&od->cnt[FE__OD_SWEPT], od->swept);
		fe_log_debug("on-demand: %zu expired cache entries removed", od->swept);
	}
}

static void on_sweep(uv_timer_t *t)
{
	struct fe__od *od = t->data;
	if (!od->sweeping && !od->stopped) {
		od->sweep_work.data = od;
		if (uv_queue_work(od->loop, &od->sweep_work, sweep_run, sweep_done) == 0)
			od->sweeping = true;
	}
	fe__od_loads_done(od);
}

/* ---- start and stop ------------------------------------------------------------------ */

static bool same_strs(char *const *a, size_t na, char *const *b, size_t nb, size_t skip)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strlen(b[i]) < skip || strcmp(a[i], b[i] + skip) != 0)
			return false;
	return true;
}

bool fe__od_same(const struct fe__od *od, const struct fe_conf *c)
{
	if (!od || !c->od.on)
		return !od && !c->od.on;
	const struct fe_conf_ondemand *o = &c->od;
	return same_strs(od->prefixes, od->nprefixes, o->prefixes, o->nprefixes, 1) &&
	       same_strs(od->views, od->nviews, o->views, o->nviews, 0) &&
	       same_strs(od->servers, od->nservers, o->servers, o->nservers, 0) &&
	       od->port == o->port && od->max_pending == o->max_pending &&
	       od->max_per_client == o->max_per_client && od->timeout_ms == o->timeout_ms &&
	       od->max_ttl_s == o->max_ttl_s && od->cache_entries == o->cache_entries;
}

int fe__od_setup(struct fe__od **out, uv_loop_t *loop, struct fe_store *st, const struct fe_conf *c,
                 struct fe_policy_rt *policy, bool validating, struct fe_server_opts *o)
{
	*out = NULL;
	if (!c->od.on)
		return FE__EXIT_OK;
	if (!validating) {
		fe_log_err("policy.on-demand needs the federation's trust anchors (only validated "
		           "answers are used)");
		return FE__EXIT_CONFIG;
	}
	struct fe__od *od = calloc(1, sizeof(*od));
	if (!od)
		return FE__EXIT_INTERNAL;
	od->loop = loop;
	od->st = st;
	od->policy = policy;
	od->udp_max = (uint16_t)c->udp_max_payload;
	od->port = c->od.port;
	od->max_pending = c->od.max_pending;
	od->max_per_client = c->od.max_per_client;
	od->timeout_ms = c->od.timeout_ms;
	od->max_ttl_s = c->od.max_ttl_s;
	od->cache_entries = c->od.cache_entries;
	od->store_path = strdup(c->store_path);
	od->prefixes = calloc(c->od.nprefixes + 1, sizeof(char *));
	od->views = calloc(c->od.nviews + 1, sizeof(char *));
	od->servers = calloc(c->od.nservers + 1, sizeof(char *));
	size_t na = fe_trust_anchors_count(c->anchors);
	od->anchors = calloc(na + 1, sizeof(char *));
	bool ok = od->store_path && od->prefixes && od->views && od->servers && od->anchors;
	for (size_t i = 0; ok && i < na; i++) {
		char ta[4096];
		if (fe_trust_anchors_text(c->anchors, i, ta, sizeof(ta)))
			ok = (od->anchors[od->nanchors++] = strdup(ta)) != NULL;
	}
	for (size_t i = 0; ok && i < c->od.nprefixes; i++)
		ok = (od->prefixes[od->nprefixes++] = strdup(c->od.prefixes[i] + 1)) != NULL;
	for (size_t i = 0; ok && i < c->od.nviews; i++)
		ok = (od->views[od->nviews++] = strdup(c->od.views[i])) != NULL;
	for (size_t i = 0; ok && i < c->od.nservers; i++)
		ok = (od->servers[od->nservers++] = strdup(c->od.servers[i])) != NULL;
	/* the federation's roots: the registry member's zones */
	const char *registry = NULL;
	for (size_t i = 0; i < c->nmembers; i++)
		if (c->members[i].is_registry)
			registry = c->members[i].name;
	for (size_t i = 0; ok && registry && i < c->nzones && od->nroots < 8; i++) {
		if (!c->zones[i].member || !c->zones[i].apex ||
		    strcmp(c->zones[i].member, registry) != 0)
			continue;
		uint8_t wire[FE_WIRE_NAME_MAX];
		if (fe_conf_name_from_str(c->zones[i].apex, wire, sizeof(wire)) > 0)
			fe_wire_name_lower(wire, od->roots[od->nroots++]);
	}
	if (ok && !od->nroots) {
		fe_log_err("policy.on-demand: the federation names no registry zone (a zone of the "
		           "member with role \"registry\"): nothing to resolve under");
		fe__od_free(od);
		return FE__EXIT_CONFIG;
	}
	if (ok && uv_mutex_init(&od->mu) == 0)
		od->mu_ready = true;
	if (!ok || !od->mu_ready || fe_store_reader_create(st, &od->reader) != FE_OK) {
		fe__od_free(od);
		return FE__EXIT_INTERNAL;
	}
	od->hook.state = od;
	od->hook.miss = od_miss;
	o->ondemand = &od->hook;
	*out = od;
	return FE__EXIT_OK;
}

int fe__od_start(struct fe__od *od)
{
	if (!od)
		return FE__EXIT_OK;
	if (uv_async_init(od->loop, &od->async, on_async) != 0 ||
	    uv_timer_init(od->loop, &od->sweep) != 0)
		return FE__EXIT_INTERNAL;
	od->async.data = od;
	od->sweep.data = od;
	od->started = true;
	uv_timer_start(&od->sweep, on_sweep, OD_SWEEP_MS, OD_SWEEP_MS);
	char roots[512] = "";
	for (size_t r = 0, o = 0; r < od->nroots && o < sizeof(roots); r++) {
		char apex[300];
		fe_wire_name_to_str(od->roots[r], apex, sizeof(apex));
		o += (size_t)snprintf(roots + o, sizeof(roots) - o, "%s%s", r ? ", " : "", apex);
	}
	fe_log_info("on-demand peering: %zu prefix%s under %s, at most %u waiting (%u per "
	            "client), %u ms per resolution, cached up to %u s",
	            od->nprefixes, od->nprefixes == 1 ? "" : "es", roots, od->max_pending,
	            od->max_per_client, od->timeout_ms, od->max_ttl_s);
	fe__od_loads_done(od);
	return FE__EXIT_OK;
}

void fe__od_stop(struct fe__od *od)
{
	if (!od || od->stopped)
		return;
	od->stopped = true;
	uv_mutex_lock(&od->mu);
	od->closed = true;
	struct od_req *list = od->queue;
	od->queue = NULL;
	uv_mutex_unlock(&od->mu);
	while (list) {
		struct od_req *r = list;
		list = r->next;
		req_done(od, r, FE_EAGAIN);
	}
	/* every resolution ends now: its waiting requests get SERVFAIL */
	while (od->jobs) {
		struct od_job *j = od->jobs;
		if (j->running)
			ub_cancel(od->ub, j->async_id);
		j->running = false;
		j->status = FE_EAGAIN;
		if (j->writing) {
			/* the pool thread still writes its entry: cache_written frees it */
			while (j->waiting) {
				struct od_req *r = j->waiting;
				j->waiting = r->next;
				req_done(od, r, FE_EAGAIN);
			}
			od->jobs = j->next;
			if (od->jobs)
				od->jobs->prev = NULL;
			od->njobs--;
			j->prev = j->next = NULL;
			continue;
		}
		job_finish(j);
	}
	close_ub(od);
	if (od->started) {
		uv_close((uv_handle_t *)&od->async, NULL);
		uv_close((uv_handle_t *)&od->sweep, NULL);
	}
}

void fe__od_free(struct fe__od *od)
{
	if (!od)
		return;
	/* the loop has ended: fe__od_stop closed the poll handle (or the final walk did) */
	if (od->ub)
		ub_ctx_delete(od->ub);
	for (size_t i = 0; i < od->nprefixes; i++)
		free(od->prefixes[i]);
	for (size_t i = 0; i < od->nviews; i++)
		free(od->views[i]);
	for (size_t i = 0; i < od->nservers; i++)
		free(od->servers[i]);
	for (size_t i = 0; i < od->nanchors; i++)
		free(od->anchors[i]);
	free(od->anchors);
	free(od->prefixes);
	free(od->views);
	free(od->servers);
	free(od->fwd_text);
	free(od->fwd_wanted);
	free(od->store_path);
	fe_store_reader_destroy(od->reader);
	if (od->mu_ready)
		uv_mutex_destroy(&od->mu);
	free(od);
}
