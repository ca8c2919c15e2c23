/* fedenumd as a secondary: --secondary APEX@ADDR@PORT zones transferred in
 * (fe_xfrin_run, include/fedenum/xfr.h) on a thread-pool thread, loaded through the same
 * path as configured zones (fe_trust_load under trust anchors, fe_zone_load_file
 * otherwise), refreshed by the SOA timers and by NOTIFY from their primary.
 *
 * Files: STORE/secondary/<apex>zone is the master file of the version held (the base an
 * IXFR is applied to); a transfer writes <apex>zone.new, which replaces it only once the
 * store has taken it. Threads: timers, the async handle and every field but the NOTIFY
 * flags and counters belong to the main loop; a zone has at most one refresh running (its
 * uv_work_t), and loads take fe__load_lock against the SIGHUP load pass. */
#include "daemon_int.h"

#include "fedenum/store.h"
#include "fedenum/trust.h"
#include "fedenum/tsig.h"
#include "fedenum/wire.h"
#include "fedenum/xfr.h"
#include "fedenum/zone.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define NOTIFY_MIN_GAP_MS 1000u /* a refresh per zone per second at most, whatever NOTIFY says */
#define RETRY_DEFAULT_S   30u   /* before the first SOA was read */

struct fe__sec_zone {
	struct fe__sec *sec;
	char apex[FE_WIRE_NAME_MAX * 4 + 2]; /* presentation form, final dot */
	uint8_t apex_wire[FE_WIRE_NAME_MAX];
	size_t apex_wire_len;
	struct fe_listen_addr primary;
	struct sockaddr_storage paddr;
	socklen_t plen;
	char base[PATH_MAX], next[PATH_MAX];
	uv_timer_t timer;
	bool timer_ready;
	uv_work_t work;
	bool busy, again;
	int notified; /* atomic: set by a worker on an accepted NOTIFY */
	uint64_t last_start_ms;
	/* state (main loop) */
	bool has_serial;
	uint32_t serial, refresh_s, retry_s, expire_s;
	int64_t last_ok_s, next_s;
	bool expired;
	char last_err[600];
	/* one refresh (the pool thread writes, the loop reads after it) */
	int rc;
	struct fe_xfrin_result res;
	char load_err[700];
	char trust_note[256]; /* under trust anchors: how the new version validated */
	uint64_t ms;
};

static const char *const cnt_names[FE__SEC_CNT_MAX] = {
        "xfrin_axfr",
        "xfrin_ixfr",
        "xfrin_uptodate",
        "xfrin_failed",
        "xfrin_expired",
        "notify_in_accepted",
        "notify_in_unsigned",
        "notify_in_bad_tsig",
        "notify_in_not_primary",
        "notify_in_not_secondary",
};

static void count(struct fe__sec *s, enum fe__sec_cnt c)
{
	__atomic_fetch_add(&s->cnt[c], 1, __ATOMIC_RELAXED);
}

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* "APEX@ADDR@PORT" (apex with or without the final dot). */
static int parse_spec(const char *spec, struct fe__sec_zone *z)
{
	const char *at = strchr(spec, '@');
	if (!at || at == spec || (size_t)(at - spec) >= sizeof(z->apex) - 1)
		return FE_EINVAL;
	size_t n = (size_t)(at - spec);
	memcpy(z->apex, spec, n);
	if (z->apex[n - 1] != '.')
		z->apex[n++] = '.';
	z->apex[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (z->apex[i] >= 'A' && z->apex[i] <= 'Z')
			z->apex[i] = (char)(z->apex[i] - 'A' + 'a');
	if (fe_server_listen_parse(at + 1, &z->primary) != FE_OK || z->primary.port == 0)
		return FE_EINVAL;
	/* the wire form, for matching NOTIFY questions and store records */
	size_t w = 0, lab = 0;
	if (strcmp(z->apex, ".") != 0) {
		for (size_t i = 0; i < n; i++) {
			if (z->apex[i] == '.') {
				size_t len = i - lab;
				if (len == 0 || len > 63 || w + len + 1 >= FE_WIRE_NAME_MAX)
					return FE_EINVAL;
				z->apex_wire[w++] = (uint8_t)len;
				memcpy(z->apex_wire + w, z->apex + lab, len);
				w += len;
				lab = i + 1;
			}
		}
	}
	z->apex_wire[w++] = 0;
	z->apex_wire_len = w;
	memset(&z->paddr, 0, sizeof(z->paddr));
	struct sockaddr_in *a4 = (struct sockaddr_in *)&z->paddr;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&z->paddr;
	if (inet_pton(AF_INET, z->primary.host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(z->primary.port);
		z->plen = sizeof(*a4);
	} else if (inet_pton(AF_INET6, z->primary.host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(z->primary.port);
		z->plen = sizeof(*a6);
	} else {
		return FE_EINVAL;
	}
	return FE_OK;
}

int fe__sec_setup(struct fe__sec *s, const char *const *cli, size_t ncli, char *const *file,
                  size_t nfile)
{
	memset(s, 0, sizeof(*s));
	size_t n = ncli + nfile;
	if (!n)
		return FE__EXIT_OK;
	s->z = calloc(n, sizeof(*s->z));
	if (!s->z)
		return FE__EXIT_INTERNAL;
	/* X6: what one transfer may bring (the zone loader's own record limit, and 4 GiB) */
	s->max_rrs = 50000000u;
	s->max_bytes = 4ull << 30;
	for (size_t i = 0; i < n; i++) {
		struct fe__sec_zone *z = &s->z[i];
		const char *spec = i < ncli ? cli[i] : file[i - ncli];
		z->sec = s;
		if (parse_spec(spec, z) != FE_OK) {
			fe_log_err("secondary \"%s\" (--secondary, xfr.secondary) is not "
			           "APEX@ADDR@PORT (numeric IPv4 or IPv6 "
			           "address, a port)",
			           spec);
			return FE__EXIT_CONFIG;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(s->z[j].apex, z->apex) == 0) {
				fe_log_err("--secondary: zone %s given twice", z->apex);
				return FE__EXIT_CONFIG;
			}
		s->n++;
	}
	return FE__EXIT_OK;
}

/* ---- NOTIFY in (worker threads) --------------------------------------------------- */

static struct fe__sec_zone *zone_of(struct fe__sec *s, const struct fe_wire_query *q)
{
	for (size_t i = 0; i < s->n; i++)
		if (q->qname_len == s->z[i].apex_wire_len &&
		    fe_wire_name_eq(q->qname_lc, s->z[i].apex_wire))
			return &s->z[i];
	return NULL;
}

static bool same_host(const struct sockaddr *a, const struct sockaddr_storage *b)
{
	if (a->sa_family != b->ss_family)
		return false;
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		              &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
	return false;
}

static struct fe_ratelog notify_rl = FE_RATELOG_INIT(10, 60);

/* RFC 1996 §3.10 + docs/security.md X8: a NOTIFY is taken only for a zone this node is a
 * secondary of, TSIG-verified with a configured key, from that zone's primary. */
static enum fe_server_verdict notify_before(void *state, const struct fe_server_request *req,
                                            uint16_t *rcode)
{
	struct fe__sec *s = state;
	if (!req->q || req->q->opcode != FE_OP_NOTIFY)
		return FE_SERVER_PASS;
	char name[FE_WIRE_NAME_MAX * 4 + 2];
	fe_wire_name_to_str(req->q->qname_lc, name, sizeof(name));
	struct fe__sec_zone *z = zone_of(s, req->q);
	if (!z) {
		count(s, FE__SEC_NOTIFY_NOT_SECONDARY);
		fe_ratelog(&notify_rl, FE_LOG_WARN, "NOTIFY for %s refused: not a secondary zone",
		           name);
		*rcode = FE_RCODE_NOTAUTH;
		return FE_SERVER_RCODE;
	}
	if (!req->q->has_tsig || !s->keys) {
		count(s, FE__SEC_NOTIFY_UNSIGNED);
		fe_ratelog(&notify_rl, FE_LOG_WARN, "NOTIFY for %s refused: not signed", name);
		*rcode = FE_RCODE_REFUSED;
		return FE_SERVER_RCODE;
	}
	struct fe_tsig_result res;
	if (fe_tsig_verify_request(req->msg, req->msg_len, s->keys, NULL, &res) != FE_OK) {
		count(s, FE__SEC_NOTIFY_BAD_TSIG);
		fe_ratelog(&notify_rl, FE_LOG_WARN,
		           "NOTIFY for %s refused: TSIG does not verify (error %u)", name,
		           (unsigned)res.error);
		*rcode = FE_RCODE_NOTAUTH;
		return FE_SERVER_RCODE;
	}
	if (!same_host(req->peer, &z->paddr)) {
		count(s, FE__SEC_NOTIFY_NOT_PRIMARY);
		fe_ratelog(&notify_rl, FE_LOG_WARN,
		           "NOTIFY for %s refused: not from its primary %s", name, z->primary.host);
		*rcode = FE_RCODE_REFUSED;
		return FE_SERVER_RCODE;
	}
	count(s, FE__SEC_NOTIFY_ACCEPTED);
	__atomic_store_n(&z->notified, 1, __ATOMIC_RELEASE);
	uv_async_send(&s->async);
	return FE_SERVER_PASS; /* the TSIG step checks it again (replay cache), `after` answers */
}

/* The answer to an accepted NOTIFY: header and question, QR AA NOERROR, opcode kept, signed
 * over the request's MAC (the answer engine wrote NOTIMP; the transfer hook signs QUERY
 * answers only). */
static size_t notify_after(void *state, const struct fe_server_request *req, uint8_t *msg,
                           size_t len, size_t cap)
{
	struct fe__sec *s = state;
	if (!req->msg || !req->q || req->q->opcode != FE_OP_NOTIFY || !req->q->has_tsig ||
	    !req->q->question_end || cap < req->q->question_end)
		return len;
	const struct fe__sec_zone *z = zone_of(s, req->q);
	if (!z || !same_host(req->peer, &z->paddr)) /* refused in `before` */
		return len;
	struct fe_tsig_result res;
	if (fe_tsig_verify_request(req->msg, req->msg_len, s->keys, NULL, &res) != FE_OK)
		return len;
	size_t n = req->q->question_end;
	memcpy(msg, req->msg, n);
	msg[2] = (uint8_t)((msg[2] & 0x78) | 0x84); /* QR, opcode as asked, AA */
	msg[3] = 0;                                 /* NOERROR */
	memset(msg + 6, 0, 6);
	if (fe_tsig_sign(msg, &n, cap, res.key, res.mac, res.mac_len, NULL, NULL, NULL) != FE_OK)
		return 0;
	return n;
}

const struct fe_server_policy *fe__sec_policy(struct fe__sec *s)
{
	if (!s->n)
		return NULL;
	s->policy.state = s;
	s->policy.before = notify_before;
	s->policy.after = notify_after;
	return &s->policy;
}

/* ---- refresh (thread pool) -------------------------------------------------------- */

static void refresh_work(uv_work_t *w)
{
	struct fe__sec_zone *z = w->data;
	struct fe__sec *s = z->sec;
	uint64_t t0 = fe_time_mono_ms();
	struct fe_xfrin_opts o = {
	        .apex = z->apex,
	        .primary = z->paddr,
	        .primary_len = z->plen,
	        .key = s->key,
	        .has_serial = z->has_serial,
	        .serial = z->serial,
	        .max_bytes = s->max_bytes,
	        .max_rrs = s->max_rrs,
	        .max_time_ms = s->max_time_ms,
	        .cancel = &s->cancel,
	};
	if (s->xf)
		o.source = fe__xfr_source(s->xf, (const struct sockaddr *)&z->paddr, &o.source_len);
	z->load_err[0] = '\0';
	z->trust_note[0] = '\0';
	z->rc = fe_xfrin_run(&o, z->has_serial ? z->base : NULL, z->next, &z->res);
	if (z->rc != FE_OK || z->res.kind == FE_XFRIN_UPTODATE)
		goto out;
	struct fe_zone_error err;
	memset(&err, 0, sizeof(err));
	struct fe_zone_opts zo = {.origin = z->apex};
	pthread_mutex_lock(&fe__load_lock);
	if (s->validating) {
		struct fe_trust_anchors *a = NULL;
		z->rc = fe_trust_anchors_from_store(s->st, &a);
		if (z->rc == FE_OK) {
			struct fe_trust_opts topts = {.anchors = a};
			fe_dnssec_opts_init(&topts.validate);
			struct fe_trust_result tr;
			z->rc = fe_trust_load(s->trust, z->next, &zo, &topts, s->st, &tr, &err);
			if (z->rc == FE_OK) {
				char until[32];
				fe_time_str(tr.expire_s, until, sizeof(until));
				snprintf(z->trust_note, sizeof(z->trust_note),
				         "; validated through the %s, valid until %s", tr.trust,
				         until);
			}
		}
		fe_trust_anchors_destroy(a);
	} else {
		z->rc = fe_zone_load_file(z->next, &zo, s->st, &err);
		if (z->rc == FE_EEXIST)
			z->rc = FE_OK;
	}
	pthread_mutex_unlock(&fe__load_lock);
	if (z->rc != FE_OK) {
		snprintf(z->load_err, sizeof(z->load_err), "not stored: %s (line %lu): %s",
		         fe_strerror(z->rc), err.line, err.reason);
		goto out;
	}
	if (rename(z->next, z->base) != 0) {
		if (snprintf(z->load_err, sizeof(z->load_err), "stored, but %s: %s", z->base,
		             strerror(errno)) < 0)
			z->load_err[0] = '\0';
		z->rc = FE_EIO;
	}
out:
	z->ms = fe_time_mono_ms() - t0;
}

static void start_refresh(struct fe__sec_zone *z);

static void timer_cb(uv_timer_t *t)
{
	start_refresh(t->data);
}

static void schedule(struct fe__sec_zone *z, uint64_t ms)
{
	z->next_s = now_s() + (int64_t)(ms / 1000);
	uv_timer_start(&z->timer, timer_cb, ms, 0);
}

/* RFC 1034 §4.3.5: past EXPIRE without a successful refresh the zone is no longer served.
 * fedenumd drops it from the store (the answer engine then answers REFUSED for it, as for a
 * zone it never held) and forgets its file: the next refresh transfers it whole. */
static void check_expire(struct fe__sec_zone *z)
{
	if (!z->has_serial || z->expired || !z->expire_s || now_s() - z->last_ok_s < z->expire_s)
		return;
	z->expired = true;
	count(z->sec, FE__SEC_EXPIRED);
	pthread_mutex_lock(&fe__load_lock);
	int rc = fe_store_drop_zone(z->sec->st, z->apex_wire, z->apex_wire_len);
	pthread_mutex_unlock(&fe__load_lock);
	(void)remove(z->base);
	z->has_serial = false;
	fe_log_err("zone %s: expired (no refresh from %s@%u for %u s, SOA EXPIRE): no longer "
	           "served (%s)",
	           z->apex, z->primary.host, z->primary.port, z->expire_s,
	           rc == FE_OK ? "dropped" : fe_strerror(rc));
}

/* Parents and children arrive in any order: a zone stored under trust anchors may be the
 * parent another zone was waiting for. Every secondary zone that holds no version and whose
 * last refresh failed is refreshed now instead of at its retry timer (@from, the zone that
 * changed, aside). A zone that still fails waits for its retry timer or the next new
 * version, so this ends. */
static void retry_waiting(struct fe__sec *s, const struct fe__sec_zone *from, const char *why)
{
	for (size_t i = 0; i < s->n && !s->stopping; i++) {
		struct fe__sec_zone *z = &s->z[i];
		if (z == from || z->busy || z->has_serial || !z->last_err[0])
			continue;
		fe_log_info("zone %s: %s: refresh now (its chain of trust may exist now)", z->apex,
		            why);
		start_refresh(z);
	}
}

void fe__sec_loads_done(struct fe__sec *s)
{
	if (s->validating)
		retry_waiting(s, NULL, "zones loaded");
}

/* A zone got a new version: the secondary zones waiting for a chain, then the daemon's own
 * zones (changed callback: it loads them again if some were rejected). */
static void chain_changed(struct fe__sec_zone *from)
{
	char why[FE_WIRE_NAME_MAX * 4 + 32];
	snprintf(why, sizeof(why), "%s has a new version", from->apex);
	retry_waiting(from->sec, from, why);
	if (from->sec->changed)
		from->sec->changed(from->sec->changed_arg);
}

static void refresh_done(uv_work_t *w, int status)
{
	struct fe__sec_zone *z = w->data;
	struct fe__sec *s = z->sec;
	z->busy = false;
	if (status == UV_ECANCELED || s->stopping)
		return;
	const struct fe_xfrin_result *r = &z->res;
	if (z->rc == FE_OK) {
		bool changed = r->kind != FE_XFRIN_UPTODATE;
		uint32_t old = z->serial;
		bool had = z->has_serial;
		z->has_serial = true;
		z->serial = r->serial;
		z->refresh_s = r->refresh_s;
		z->retry_s = r->retry_s;
		z->expire_s = r->expire_s;
		z->last_ok_s = now_s();
		z->expired = false;
		z->last_err[0] = '\0';
		count(s, r->kind == FE_XFRIN_AXFR   ? FE__SEC_AXFR
		         : r->kind == FE_XFRIN_IXFR ? FE__SEC_IXFR
		                                    : FE__SEC_UPTODATE);
		if (changed)
			fe_log_info(
			        "zone %s: %s from %s@%u: serial %s%u -> %u, %llu messages, %llu "
			        "octets, %llu records, in %llu ms%s",
			        z->apex, fe_xfrin_kind_str(r->kind), z->primary.host,
			        z->primary.port, had ? "" : "(none) ", had ? old : 0, r->serial,
			        (unsigned long long)r->messages, (unsigned long long)r->bytes,
			        (unsigned long long)r->rrs, (unsigned long long)z->ms,
			        z->trust_note);
		else
			fe_log_debug("zone %s: serial %u is current at %s@%u", z->apex, z->serial,
			             z->primary.host, z->primary.port);
		if (changed && s->xf)
			fe__xfr_loads_done(s->xf, s->st); /* NOTIFY this node's own secondaries */
		if (changed && s->validating)
			chain_changed(z);
	} else {
		count(s, FE__SEC_FAILED);
		const char *why = z->load_err[0] ? z->load_err
		                  : r->err[0]    ? r->err
		                                 : fe_strerror(z->rc);
		size_t wl = strnlen(why, sizeof(z->last_err) - 1);
		memcpy(z->last_err, why, wl);
		z->last_err[wl] = '\0';
		fe_log_err("zone %s: refresh from %s@%u failed: %s; %s", z->apex, z->primary.host,
		           z->primary.port, z->last_err,
		           z->has_serial ? "the stored version keeps serving"
		                         : "nothing served yet");
		(void)remove(z->next);
	}
	check_expire(z);
	uint64_t ms = (uint64_t)(z->rc == FE_OK ? (z->refresh_s ? z->refresh_s : 3600)
	                                        : (z->retry_s ? z->retry_s : RETRY_DEFAULT_S)) *
	              1000u;
	if (z->again) {
		z->again = false;
		ms = NOTIFY_MIN_GAP_MS;
	}
	schedule(z, ms);
	char when[32];
	fe_time_str(z->next_s, when, sizeof(when));
	fe_log_info("zone %s: secondary of %s@%u, serial %s%u, next refresh %s", z->apex,
	            z->primary.host, z->primary.port, z->has_serial ? "" : "(none) ",
	            z->has_serial ? z->serial : 0, when);
}

static void start_refresh(struct fe__sec_zone *z)
{
	struct fe__sec *s = z->sec;
	if (s->stopping)
		return;
	if (z->busy) {
		z->again = true;
		return;
	}
	check_expire(z);
	uv_timer_stop(&z->timer);
	z->busy = true;
	z->last_start_ms = fe_time_mono_ms();
	z->work.data = z;
	int rc = uv_queue_work(s->loop, &z->work, refresh_work, refresh_done);
	if (rc) {
		z->busy = false;
		fe_log_err("zone %s: cannot start a refresh: %s", z->apex, uv_strerror(rc));
		schedule(z, RETRY_DEFAULT_S * 1000u);
	}
}

static void async_cb(uv_async_t *h)
{
	struct fe__sec *s = h->data;
	for (size_t i = 0; i < s->n; i++) {
		struct fe__sec_zone *z = &s->z[i];
		if (!__atomic_exchange_n(&z->notified, 0, __ATOMIC_ACQ_REL))
			continue;
		uint64_t since = fe_time_mono_ms() - z->last_start_ms;
		fe_log_info("zone %s: NOTIFY from its primary: refresh%s", z->apex,
		            z->busy ? " after the running one" : "");
		if (z->busy)
			z->again = true;
		else if (since < NOTIFY_MIN_GAP_MS)
			schedule(z, NOTIFY_MIN_GAP_MS - since);
		else
			start_refresh(z);
	}
}

/* ---- start, status, stop ---------------------------------------------------------- */

struct held_ctx {
	struct fe__sec_zone *z;
	bool found;
	uint32_t serial;
};

static bool held_cb(const struct fe_store_zone_rec *rec, void *arg)
{
	struct held_ctx *h = arg;
	if (rec->apex_len == h->z->apex_wire_len && fe_wire_name_eq(rec->apex, h->z->apex_wire)) {
		h->found = true;
		h->serial = rec->serial;
		return false;
	}
	return true;
}

int fe__sec_start(struct fe__sec *s, uv_loop_t *loop, struct fe_store *st, struct fe_trust *trust,
                  bool validating, const char *store_dir, const struct fe_tsig_keyring *keys,
                  struct fe__xfr *xf)
{
	if (!s->n)
		return FE__EXIT_OK;
	if (!keys || fe_tsig_keyring_count(keys) == 0) {
		fe_log_err("--secondary needs --tsig-key: transfers and NOTIFY are signed");
		return FE__EXIT_CONFIG;
	}
	s->loop = loop;
	s->st = st;
	s->trust = trust;
	s->validating = validating;
	s->keys = keys;
	s->key = fe_tsig_keyring_get(keys, 0);
	s->xf = xf;
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/secondary", store_dir);
	if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
		fe_log_err("%s: %s", dir, strerror(errno));
		return FE__EXIT_STORE;
	}
	if (uv_async_init(loop, &s->async, async_cb) != 0)
		return FE__EXIT_INTERNAL;
	s->async.data = s;
	s->async_ready = true;
	struct fe_store_reader *r = NULL;
	bool reader = fe_store_reader_create(st, &r) == FE_OK && fe_store_reader_begin(r) == FE_OK;
	for (size_t i = 0; i < s->n; i++) {
		struct fe__sec_zone *z = &s->z[i];
		int nb = snprintf(z->base, sizeof(z->base), "%s/%szone", dir, z->apex);
		int nn = snprintf(z->next, sizeof(z->next), "%s/%szone.new", dir, z->apex);
		if (nb < 0 || nn < 0 || (size_t)nn >= sizeof(z->next)) {
			fe_log_err("%s: path too long", dir);
			return FE__EXIT_STORE;
		}
		struct held_ctx h = {.z = z};
		if (reader)
			(void)fe_store_foreach_zone(r, held_cb, &h);
		struct stat sb;
		if (h.found && stat(z->base, &sb) == 0) {
			/* held from an earlier run: IXFR from it; its age counts towards EXPIRE */
			z->has_serial = true;
			z->serial = h.serial;
			z->last_ok_s = (int64_t)sb.st_mtime;
		}
		uv_timer_init(loop, &z->timer);
		z->timer.data = z;
		z->timer_ready = true;
		fe_log_info("zone %s: secondary of %s@%u (TSIG key %s), held serial %s%u: refresh "
		            "now",
		            z->apex, z->primary.host, z->primary.port, "first --tsig-key",
		            z->has_serial ? "" : "(none) ", z->has_serial ? z->serial : 0);
		start_refresh(z);
	}
	if (reader)
		fe_store_reader_end(r);
	fe_store_reader_destroy(r);
	return FE__EXIT_OK;
}

size_t fe__sec_status(const struct fe__sec *s, const uint8_t *apex, size_t apex_len, char *buf,
                      size_t cap)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct fe__sec_zone *z = &s->z[i];
		if (apex && (apex_len != z->apex_wire_len || !fe_wire_name_eq(apex, z->apex_wire)))
			continue;
		char ok[32] = "never", next[32] = "-";
		if (z->last_ok_s)
			fe_time_str(z->last_ok_s, ok, sizeof(ok));
		if (z->next_s)
			fe_time_str(z->next_s, next, sizeof(next));
		int n = snprintf(buf, cap,
		                 "primary %s@%u, serial %u%s, last success %s, next refresh %s, "
		                 "last error %s",
		                 z->primary.host, z->primary.port, z->serial,
		                 z->has_serial ? "" : " (none)", ok, next,
		                 z->last_err[0] ? z->last_err : "none");
		return n < 0 ? 0 : (size_t)n;
	}
	return 0;
}

void fe__sec_log_counters(const struct fe__sec *s, const char *why)
{
	if (!s->n)
		return;
	char buf[1024];
	size_t n = 0;
	for (size_t i = 0; i < FE__SEC_CNT_MAX && n < sizeof(buf); i++)
		n += (size_t)snprintf(
		        buf + n, sizeof(buf) - n, "%s%s=%llu", i ? " " : "", cnt_names[i],
		        (unsigned long long)__atomic_load_n(&s->cnt[i], __ATOMIC_RELAXED));
	fe_log_info("secondary counters (%s): %s", why, buf);
	for (size_t i = 0; i < s->n; i++) {
		char st[1200];
		fe__sec_status(s, s->z[i].apex_wire, s->z[i].apex_wire_len, st, sizeof(st));
		fe_log_info("zone %s: %s", s->z[i].apex, st);
	}
}

static void closed_cb(uv_handle_t *h)
{
	(void)h;
}

void fe__sec_stop(struct fe__sec *s)
{
	s->stopping = true;
	__atomic_store_n(&s->cancel, 1, __ATOMIC_RELAXED); /* a running transfer ends */
	for (size_t i = 0; i < s->n; i++) {
		if (s->z[i].timer_ready && !uv_is_closing((uv_handle_t *)&s->z[i].timer))
			uv_close((uv_handle_t *)&s->z[i].timer, closed_cb);
		if (s->z[i].busy)
			(void)uv_cancel((uv_req_t *)&s->z[i].work);
	}
	if (s->async_ready && !uv_is_closing((uv_handle_t *)&s->async))
		uv_close((uv_handle_t *)&s->async, closed_cb);
}

void fe__sec_free(struct fe__sec *s)
{
	free(s->z);
	memset(s, 0, sizeof(*s));
}
