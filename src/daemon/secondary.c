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
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NOTIFY_MIN_GAP_MS 1000u /* a refresh per zone per second at most, whatever NOTIFY says */
#define RETRY_DEFAULT_S   30u   /* before the first SOA was read */

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
        "xfrin_limit",
        "xfrin_queued",
        "notify_in_rate_limited",
        "xfrin_ixfr_whole",
        "xfrin_ixfr_rejected",
        "catalog_accepted",
        "catalog_refused",
        "catalog_zones_added",
        "catalog_zones_removed",
};

/* NOTIFY rate per primary address: a token bucket of xfr.notify-rate tokens, refilled at
 * that many per second; taken by query workers, hence the lock. */
struct fe__sec_peer {
	struct sockaddr_storage addr;
	pthread_mutex_t mu;
	double tokens;
	uint64_t last_ms;
};

void fe__sec_counters(const struct fe__sec *s, uint64_t *out)
{
	for (unsigned i = 0; i < FE__SEC_CNT_MAX; i++)
		out[i] = __atomic_load_n(&s->cnt[i], __ATOMIC_RELAXED);
}

const char *fe__sec_counter_name(unsigned i)
{
	return i < FE__SEC_CNT_MAX ? cnt_names[i] : "?";
}

static void count(struct fe__sec *s, enum fe__sec_cnt c)
{
	__atomic_fetch_add(&s->cnt[c], 1, __ATOMIC_RELAXED);
}

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* "APEX@ADDR@PORT" (apex with or without the final dot), over TLS also "...@NAME". */
static int parse_spec(const char *spec, struct fe__sec_zone *z)
{
	if (fe_conf_secondary_parse(spec, z->tls, z->apex, sizeof(z->apex) - 1, &z->primary,
	                            z->tls_name, sizeof(z->tls_name)) != FE_OK)
		return FE_EINVAL;
	size_t n = strlen(z->apex);
	if (z->apex[n - 1] != '.')
		z->apex[n++] = '.';
	z->apex[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (z->apex[i] >= 'A' && z->apex[i] <= 'Z')
			z->apex[i] = (char)(z->apex[i] - 'A' + 'a');
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

int fe__sec_zone_parse(const char *spec, struct fe__sec_zone *z)
{
	return parse_spec(spec, z);
}

static void spec_error(const char *spec, bool tls)
{
	fe_log_err("secondary \"%s\" (%s) is not APEX@ADDR@PORT%s (numeric IPv4 or IPv6 address, "
	           "a port%s)",
	           spec, tls ? "--secondary-tls, xfr.secondary-tls" : "--secondary, xfr.secondary",
	           tls ? "[@NAME]" : "", tls ? ", the name the primary's certificate carries" : "");
}

/* The @i-th zone spec of @cfg (the command line's, the file's, then the TLS ones); *tls says
 * whether it is over TLS. */
static const char *spec_at(const struct fe__sec_cfg *cfg, size_t i, bool *tls)
{
	const struct fe_conf *c = cfg->conf;
	*tls = false;
	if (i < cfg->ncli)
		return cfg->cli[i];
	if ((i -= cfg->ncli) < c->nxfr_secondary)
		return c->xfr_secondary[i];
	*tls = true;
	if ((i -= c->nxfr_secondary) < cfg->ncli_tls)
		return cfg->cli_tls[i];
	return c->xfr_secondary_tls[i - cfg->ncli_tls];
}

static size_t spec_count(const struct fe__sec_cfg *cfg)
{
	const struct fe_conf *c = cfg->conf;
	return cfg->ncli + c->nxfr_secondary + cfg->ncli_tls + c->nxfr_secondary_tls;
}

static size_t zcount(const struct fe__sec *s)
{
	return __atomic_load_n(&s->n, __ATOMIC_ACQUIRE);
}

static bool is_removed(const struct fe__sec_zone *z)
{
	return __atomic_load_n(&z->removed, __ATOMIC_ACQUIRE) != 0;
}

bool fe__sec_is_removed(const struct fe__sec_zone *z)
{
	return is_removed(z);
}

static bool same_host(const struct sockaddr *a, const struct sockaddr_storage *b);

/* The NOTIFY bucket of @z's primary address (one per distinct address; s->peers has a slot
 * for every zone the node can hold). */
static void assign_peer(struct fe__sec *s, struct fe__sec_zone *z)
{
	size_t j;
	for (j = 0; j < s->npeers; j++)
		if (same_host((const struct sockaddr *)&z->paddr, &s->peers[j].addr))
			break;
	if (j == s->npeers) {
		s->peers[j].addr = z->paddr;
		pthread_mutex_init(&s->peers[j].mu, NULL);
		s->peers[j].tokens = s->notify_rate;
		s->npeers++;
	}
	z->peer = j;
}

void fe__sec_assign_peer(struct fe__sec *s, struct fe__sec_zone *z)
{
	assign_peer(s, z);
}

static int setup_tls(struct fe__sec *s, const struct fe__sec_cfg *cfg)
{
	const struct fe_conf *c = cfg->conf;
	struct fe_xfrin_tls_opts to = {
	        .ca_file = cfg->tls_ca ? cfg->tls_ca : c->xfr_tls_ca_file,
	        .cert_file = cfg->tls_cert ? cfg->tls_cert : c->xfr_tls_cert_file,
	        .key_file = cfg->tls_key ? cfg->tls_key : c->xfr_tls_key_file,
	};
	char err[512];
	struct stat kst;
	if (to.key_file && stat(to.key_file, &kst) == 0 && (kst.st_mode & 077)) {
		fe_log_err("XFR over TLS: the client key %s is readable by group or others (mode "
		           "%03o): chmod 600",
		           to.key_file, (unsigned)(kst.st_mode & 0777));
		return FE__EXIT_CONFIG;
	}
	int rc = fe_xfrin_tls_create(&to, &s->tls, err, sizeof(err));
	if (rc == FE_OK)
		return FE__EXIT_OK;
	fe_log_err("XFR over TLS (--secondary-tls, xfr.secondary-tls): %s (--xfr-tls-ca, "
	           "xfr.tls-ca-file; --xfr-tls-cert/--xfr-tls-key, xfr.tls-cert-file/"
	           "xfr.tls-key-file)",
	           err);
	return rc == FE_ENOMEM ? FE__EXIT_INTERNAL : FE__EXIT_CONFIG;
}

int fe__sec_setup(struct fe__sec *s, const struct fe__sec_cfg *cfg)
{
	const struct fe_conf *c = cfg->conf;
	memset(s, 0, sizeof(*s));
	size_t nspec = spec_count(cfg), ncat = cfg->ncli_cat + c->nxfr_catalogs;
	size_t n = nspec + ncat;
	if (!n)
		return FE__EXIT_OK;
	s->cat_max_members =
	        c->xfr_catalog_max_members ? c->xfr_catalog_max_members : FE_CATALOG_MAX_MEMBERS;
	/* slots: the zones given, the ones reloads may add, every member each catalog may list */
	s->cap = n + FE__SEC_ADD_MAX + ncat * (size_t)s->cat_max_members;
	s->z = calloc(s->cap, sizeof(*s->z));
	s->peers = calloc(s->cap, sizeof(*s->peers));
	if (!s->z || !s->peers)
		return FE__EXIT_INTERNAL;
	/* X6: what one transfer may bring, and how long it may take */
	s->max_rrs = c->xfr_max_records;
	s->max_bytes = c->xfr_max_transfer_bytes;
	s->max_rrset_rrs = c->xfr_max_rrset_records;
	s->max_time_ms = c->xfr_in_max_time_ms;
	s->max_in = c->xfr_max_transfers_in ? c->xfr_max_transfers_in : 4;
	s->notify_rate = c->xfr_notify_rate ? c->xfr_notify_rate : 10;
	bool any_tls = false;
	for (size_t i = 0; i < n; i++) {
		struct fe__sec_zone *z = calloc(1, sizeof(*z));
		if (!z)
			return FE__EXIT_INTERNAL;
		const char *spec;
		if (i < nspec) {
			spec = spec_at(cfg, i, &z->tls);
		} else {
			size_t k = i - nspec;
			spec = k < cfg->ncli_cat ? cfg->cli_cat[k]
			                         : c->xfr_catalogs[k - cfg->ncli_cat];
			z->is_catalog = true;
			s->ncat++;
		}
		any_tls |= z->tls;
		z->sec = s;
		if (parse_spec(spec, z) != FE_OK) {
			if (z->is_catalog)
				fe_log_err("catalog \"%s\" (--catalog, xfr.catalogs) is not "
				           "APEX@ADDR@PORT (numeric IPv4 or IPv6 address, a port)",
				           spec);
			else
				spec_error(spec, z->tls);
			free(z);
			return FE__EXIT_CONFIG;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(s->z[j]->apex, z->apex) == 0) {
				fe_log_err("--secondary, --catalog: zone %s given twice", z->apex);
				free(z);
				return FE__EXIT_CONFIG;
			}
		assign_peer(s, z);
		s->z[s->n++] = z;
	}
	if (any_tls) {
		int rc = setup_tls(s, cfg);
		if (rc != FE__EXIT_OK)
			return rc;
	}
	fe__cat_groups(s, c);
	return FE__EXIT_OK;
}

/* ---- NOTIFY in (worker threads) --------------------------------------------------- */

static struct fe__sec_zone *zone_of(struct fe__sec *s, const struct fe_wire_query *q)
{
	size_t n = zcount(s);
	for (size_t i = 0; i < n; i++)
		if (!is_removed(s->z[i]) && q->qname_len == s->z[i]->apex_wire_len &&
		    fe_wire_name_eq(q->qname_lc, s->z[i]->apex_wire))
			return s->z[i];
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

/* One NOTIFY from @z's primary within xfr.notify-rate (a bucket per primary address). */
static bool take_token(struct fe__sec *s, const struct fe__sec_zone *z)
{
	struct fe__sec_peer *p = &s->peers[z->peer];
	uint64_t now = fe_time_mono_ms();
	pthread_mutex_lock(&p->mu);
	p->tokens += (double)(now - p->last_ms) * s->notify_rate / 1000.0;
	if (p->tokens > s->notify_rate)
		p->tokens = s->notify_rate;
	p->last_ms = now;
	bool ok = p->tokens >= 1.0;
	if (ok)
		p->tokens -= 1.0;
	pthread_mutex_unlock(&p->mu);
	return ok;
}

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
	if (!take_token(s, z)) {
		count(s, FE__SEC_NOTIFY_RATE_LIMITED);
		fe_ratelog(&notify_rl, FE_LOG_WARN,
		           "NOTIFY for %s refused: more than %u a second from %s (xfr.notify-rate)",
		           name, s->notify_rate, z->primary.host);
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
	        .max_rrset_rrs = s->max_rrset_rrs,
	        .max_time_ms = s->max_time_ms,
	        .tls = z->tls ? s->tls : NULL,
	        .tls_name = z->tls && z->tls_name[0] ? z->tls_name : NULL,
	        .cancel = &s->cancel,
	        .apply = fe__sec_apply_ixfr,
	        .apply_arg = z,
	};
	if (s->xf)
		o.source = fe__xfr_source(s->xf, (const struct sockaddr *)&z->paddr, &o.source_len);
	z->load_err[0] = '\0';
	z->trust_note[0] = '\0';
	z->applied = false;
	z->rc = fe_xfrin_run(&o, NULL, z->next, &z->res);
	if (z->rc != FE_OK || z->res.kind == FE_XFRIN_UPTODATE)
		goto out;
	if (z->applied) {
		/* the store is ahead of the last AXFR's file now: it must not be mistaken for
		 * the version held */
		(void)remove(z->base);
		goto out;
	}
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
	if (z->rc == FE_OK) {
		/* the time of this success survives a restart (EXPIRE counts from it) */
		int fd = open(z->okf, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
		if (fd >= 0) {
			(void)futimens(fd, NULL);
			close(fd);
		}
	}
	z->ms = fe_time_mono_ms() - t0;
}

static void start_refresh(struct fe__sec_zone *z);
static void watch_expiry(struct fe__sec_zone *z);

static void timer_cb(uv_timer_t *t)
{
	start_refresh(t->data);
}

static void schedule(struct fe__sec_zone *z, uint64_t ms)
{
	z->next_s = now_s() + (int64_t)(ms / 1000);
	uv_timer_start(&z->timer, timer_cb, ms, 0);
}

struct held_ctx {
	struct fe__sec_zone *z;
	bool found;
	uint32_t serial;
	uint64_t version;
	uint32_t flags;
	int64_t loaded_at_s;
};

static bool held_cb(const struct fe_store_zone_rec *rec, void *arg)
{
	struct held_ctx *h = arg;
	if (rec->apex_len == h->z->apex_wire_len && fe_wire_name_eq(rec->apex, h->z->apex_wire)) {
		h->found = true;
		h->serial = rec->serial;
		h->version = rec->version;
		h->flags = rec->flags;
		h->loaded_at_s = rec->loaded_at_s;
		return false;
	}
	return true;
}

/* The stored record of @z (h->found false when none). */
static void held(struct fe__sec_zone *z, struct held_ctx *h)
{
	struct fe_store_reader *r = NULL;
	memset(h, 0, sizeof(*h));
	h->z = z;
	if (fe_store_reader_create(z->sec->st, &r) == FE_OK && fe_store_reader_begin(r) == FE_OK) {
		(void)fe_store_foreach_zone(r, held_cb, h);
		fe_store_reader_end(r);
	}
	fe_store_reader_destroy(r);
}

/* The SOA timers of the version of @z held in the store (a zone held from an earlier run:
 * its EXPIRE and RETRY apply before the first refresh succeeds). Left as they are when the
 * store has no SOA for it. */
static void held_timers(struct fe__sec_zone *z)
{
	uint8_t key[FE_WIRE_KEY_MAX];
	int kl = fe_wire_name_key(z->apex_wire, z->apex_wire_len, key, sizeof(key));
	struct fe_store_reader *r = NULL;
	if (kl >= 0 && fe_store_reader_create(z->sec->st, &r) == FE_OK &&
	    fe_store_reader_begin(r) == FE_OK) {
		const struct fe_store_zone_rec *zr;
		struct fe_store_node apex;
		struct fe_store_rrset soa;
		const uint8_t *rd;
		uint16_t rl;
		bool is_sig;
		size_t it = 0;
		/* RDATA: MNAME, RNAME, SERIAL, REFRESH, RETRY, EXPIRE, MINIMUM (RFC 1035 §3.3.13)
		 */
		if (fe_store_get_zone(r, key, (size_t)kl, &zr) == FE_OK &&
		    fe_store_get_node(r, zr, key, (size_t)kl, &apex) == FE_OK &&
		    fe_store_node_find(&apex, FE_T_SOA, &soa) &&
		    fe_store_rrset_next(&soa, &it, &rd, &rl, &is_sig) && !is_sig && rl >= 22) {
			z->refresh_s = fe_get_be32(rd + rl - 16);
			z->retry_s = fe_get_be32(rd + rl - 12);
			z->expire_s = fe_get_be32(rd + rl - 8);
		}
		fe_store_reader_end(r);
	}
	fe_store_reader_destroy(r);
}

/* Set or clear FE_ZONE_EXPIRED on the stored version of @z. */
static int mark_expired(struct fe__sec_zone *z, bool on)
{
	struct held_ctx h;
	int rc = FE_ENOENT;
	pthread_mutex_lock(&fe__load_lock);
	held(z, &h);
	if (h.found && (((h.flags & FE_ZONE_EXPIRED) != 0) != on))
		rc = fe_store_zone_mark(z->sec->st, z->apex_wire, z->apex_wire_len, h.version,
		                        on ? FE_ZONE_EXPIRED : 0, on ? 0 : FE_ZONE_EXPIRED, -1);
	else if (h.found)
		rc = FE_OK;
	pthread_mutex_unlock(&fe__load_lock);
	return rc;
}

/* RFC 1034 §4.3.5: past EXPIRE without a successful refresh the zone is no longer served.
 * fedenumd keeps it in the store, marked FE_ZONE_EXPIRED: the answer engine answers
 * SERVFAIL with EDE 22 for it, and the next successful refresh clears the mark (an
 * unchanged serial needs no transfer at all, a newer one comes by IXFR as usual). */
static void check_expire(struct fe__sec_zone *z)
{
	if (!z->has_serial || z->expired || !z->expire_s || now_s() - z->last_ok_s < z->expire_s)
		return;
	z->expired = true;
	count(z->sec, FE__SEC_EXPIRED);
	int rc = mark_expired(z, true);
	fe_log_err("zone %s: expired (no refresh from %s@%u for %u s, SOA EXPIRE): serial %u "
	           "kept but no longer served (SERVFAIL, EDE 22) until a refresh succeeds%s%s",
	           z->apex, z->primary.host, z->primary.port, z->expire_s, z->serial,
	           rc == FE_OK ? "" : ": cannot mark it: ", rc == FE_OK ? "" : fe_strerror(rc));
}

static void arm_expiry(struct fe__sec_zone *z, uint64_t min_ms);

static void expiry_cb(uv_timer_t *t)
{
	struct fe__sec_zone *z = t->data;
	if (z->sec->stopping)
		return;
	check_expire(z);
	arm_expiry(z, 1000); /* not yet (wall clock behind the timer): a second later */
}

/* The zone's SOA EXPIRE is checked at its own time, not only when a refresh starts or ends:
 * a refresh that fails slowly (a primary that does not answer, a long RETRY) must not keep
 * the zone served past EXPIRE (RFC 1034 §4.3.5). At least @min_ms from now. */
static void arm_expiry(struct fe__sec_zone *z, uint64_t min_ms)
{
	if (!z->expiry_ready || z->sec->stopping)
		return;
	if (!z->has_serial || z->expired || !z->expire_s) {
		uv_timer_stop(&z->expiry);
		return;
	}
	int64_t left = z->last_ok_s + (int64_t)z->expire_s - now_s();
	uint64_t ms = left > 0 ? (uint64_t)left * 1000u : 0;
	uv_timer_start(&z->expiry, expiry_cb, ms > min_ms ? ms : min_ms, 0);
}

/* A refresh slot is free: the zone that has waited longest (the first in order) starts. */
static void start_queued(struct fe__sec *s)
{
	for (size_t i = 0; i < s->n && s->running < s->max_in; i++)
		if (s->z[i]->queued)
			start_refresh(s->z[i]);
}

/* Parents and children arrive in any order: a zone stored under trust anchors may be the
 * parent another zone was waiting for. Every secondary zone that holds no version and whose
 * last refresh failed is refreshed now instead of at its retry timer (@from, the zone that
 * changed, aside). A zone that still fails waits for its retry timer or the next new
 * version, so this ends. */
static void retry_waiting(struct fe__sec *s, const struct fe__sec_zone *from, const char *why)
{
	for (size_t i = 0; i < s->n && !s->stopping; i++) {
		struct fe__sec_zone *z = s->z[i];
		if (z == from || z->busy || z->has_serial || !z->last_err[0] || is_removed(z))
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
	s->running--;
	if (status == UV_ECANCELED || s->stopping)
		return;
	start_queued(s);
	if (fe__cat_drop_if_leaving(z))
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
		if (z->expired || !changed) {
			int mrc = mark_expired(z, false);
			if (z->expired)
				fe_log_info("zone %s: refreshed (serial %u): served again%s%s",
				            z->apex, r->serial, mrc == FE_OK ? "" : ": ",
				            mrc == FE_OK ? "" : fe_strerror(mrc));
		}
		z->expired = false;
		z->last_err[0] = '\0';
		count(s, r->kind == FE_XFRIN_AXFR   ? FE__SEC_AXFR
		         : r->kind == FE_XFRIN_IXFR ? FE__SEC_IXFR
		                                    : FE__SEC_UPTODATE);
		if (changed)
			fe_log_info(
			        "zone %s: %s from %s@%u%s: serial %s%u -> %u, %llu messages, %llu "
			        "octets, %llu records, in %llu ms%s",
			        z->apex, fe_xfrin_kind_str(r->kind), z->primary.host,
			        z->primary.port, z->tls ? " over TLS" : "", had ? "" : "(none) ",
			        had ? old : 0, r->serial, (unsigned long long)r->messages,
			        (unsigned long long)r->bytes, (unsigned long long)r->rrs,
			        (unsigned long long)z->ms, z->trust_note);
		else
			fe_log_debug("zone %s: serial %u is current at %s@%u", z->apex, z->serial,
			             z->primary.host, z->primary.port);
		if (changed && s->xf)
			fe__xfr_loads_done(s->xf, s->st); /* NOTIFY this node's own secondaries */
		if (changed && s->validating)
			chain_changed(z);
		if (changed && z->is_catalog)
			fe__cat_changed(z);
	} else {
		count(s, FE__SEC_FAILED);
		if (z->rc == FE_ERANGE || z->rc == FE_ETIMEOUT)
			count(s, FE__SEC_LIMIT);
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
	arm_expiry(z, 0);
	uint64_t ms = (uint64_t)(z->rc == FE_OK ? (z->refresh_s ? z->refresh_s : 3600)
	                                        : (z->retry_s ? z->retry_s : RETRY_DEFAULT_S)) *
	              1000u;
	if (z->again) {
		z->again = false;
		ms = NOTIFY_MIN_GAP_MS;
	}
	if (is_removed(z)) {
		watch_expiry(z);
		return;
	}
	schedule(z, ms);
	char when[32];
	fe_time_str(z->next_s, when, sizeof(when));
	fe_log_info("zone %s: secondary of %s@%u, serial %s%u, next refresh %s", z->apex,
	            z->primary.host, z->primary.port, z->has_serial ? "" : "(none) ",
	            z->has_serial ? z->serial : 0, when);
}

/* A zone taken out of the configuration is not refreshed; its timer only marks it expired
 * once its SOA EXPIRE has passed since its last successful refresh. */
static void watch_expiry(struct fe__sec_zone *z)
{
	if (z->member_of || z->dropping) { /* left its catalog: gone from the store */
		uv_timer_stop(&z->timer);
		return;
	}
	check_expire(z);
	if (z->expired || !z->has_serial || !z->expire_s) {
		uv_timer_stop(&z->timer);
		return;
	}
	int64_t left = z->last_ok_s + (int64_t)z->expire_s - now_s();
	schedule(z, (uint64_t)(left > 0 ? left : 0) * 1000u + 1000u);
}

static void start_refresh(struct fe__sec_zone *z);

void fe__sec_refresh_now(struct fe__sec_zone *z)
{
	start_refresh(z);
}

static void start_refresh(struct fe__sec_zone *z)
{
	struct fe__sec *s = z->sec;
	if (s->stopping)
		return;
	if (is_removed(z)) {
		watch_expiry(z);
		return;
	}
	if (z->busy) {
		z->again = true;
		return;
	}
	check_expire(z);
	uv_timer_stop(&z->timer);
	if (s->running >= s->max_in) { /* started by the next refresh to end */
		if (!z->queued) {
			z->queued = true;
			count(s, FE__SEC_QUEUED);
			fe_log_debug("zone %s: refresh waits (%u running, xfr.max-transfers-in)",
			             z->apex, s->running);
		}
		return;
	}
	z->queued = false;
	s->running++;
	z->busy = true;
	z->last_start_ms = fe_time_mono_ms();
	z->work.data = z;
	int rc = uv_queue_work(s->loop, &z->work, refresh_work, refresh_done);
	if (rc) {
		z->busy = false;
		s->running--;
		fe_log_err("zone %s: cannot start a refresh: %s", z->apex, uv_strerror(rc));
		schedule(z, RETRY_DEFAULT_S * 1000u);
	}
}

static void async_cb(uv_async_t *h)
{
	struct fe__sec *s = h->data;
	for (size_t i = 0; i < s->n; i++) {
		struct fe__sec_zone *z = s->z[i];
		if (!__atomic_exchange_n(&z->notified, 0, __ATOMIC_ACQ_REL) || is_removed(z))
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

/* Files, held version, timer of zone @z; then its first refresh. An exit code. */
int fe__sec_zone_begin(struct fe__sec *s, struct fe__sec_zone *z)
{
	int nb = snprintf(z->base, sizeof(z->base), "%s/%szone", s->dir, z->apex);
	int nn = snprintf(z->next, sizeof(z->next), "%s/%szone.new", s->dir, z->apex);
	int no = snprintf(z->okf, sizeof(z->okf), "%s/%szone.ok", s->dir, z->apex);
	if (nb < 0 || nn < 0 || no < 0 || (size_t)nn >= sizeof(z->next) ||
	    (size_t)no >= sizeof(z->okf)) {
		fe_log_err("%s: path too long", s->dir);
		return FE__EXIT_STORE;
	}
	struct held_ctx h;
	held(z, &h);
	struct stat sb;
	if (h.found) {
		/* held from an earlier run: IXFR from it; the time since its last
		 * successful refresh (the mark file's mtime, else the last AXFR's file,
		 * else the version's commit) counts towards the EXPIRE of its SOA */
		z->has_serial = true;
		z->serial = h.serial;
		z->expired = (h.flags & FE_ZONE_EXPIRED) != 0;
		z->last_ok_s = h.loaded_at_s;
		if (stat(z->base, &sb) == 0 && (int64_t)sb.st_mtime > z->last_ok_s)
			z->last_ok_s = (int64_t)sb.st_mtime;
		if (stat(z->okf, &sb) == 0 && (int64_t)sb.st_mtime > z->last_ok_s)
			z->last_ok_s = (int64_t)sb.st_mtime;
		held_timers(z);
	}
	uv_timer_init(s->loop, &z->timer);
	z->timer.data = z;
	z->timer_ready = true;
	uv_timer_init(s->loop, &z->expiry);
	z->expiry.data = z;
	z->expiry_ready = true;
	fe_log_info("zone %s: secondary of %s@%u (%sTSIG key %s), held serial %s%u: refresh "
	            "now",
	            z->apex, z->primary.host, z->primary.port, z->tls ? "over TLS, " : "",
	            "the first of --tsig-key and xfr.tsig-keys", z->has_serial ? "" : "(none) ",
	            z->has_serial ? z->serial : 0);
	arm_expiry(z, 0);
	start_refresh(z);
	return FE__EXIT_OK;
}

int fe__sec_start(struct fe__sec *s, uv_loop_t *loop, struct fe_store *st, struct fe_trust *trust,
                  bool validating, const char *store_dir, const struct fe_tsig_keyring *keys,
                  struct fe__xfr *xf)
{
	if (xf)
		xf->sec = s;
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
	snprintf(s->dir, sizeof(s->dir), "%s/secondary", store_dir);
	if (mkdir(s->dir, 0750) != 0 && errno != EEXIST) {
		fe_log_err("%s: %s", s->dir, strerror(errno));
		return FE__EXIT_STORE;
	}
	if (uv_async_init(loop, &s->async, async_cb) != 0)
		return FE__EXIT_INTERNAL;
	s->async.data = s;
	s->async_ready = true;
	for (size_t i = 0; i < s->n; i++) {
		int rc = fe__sec_zone_begin(s, s->z[i]);
		if (rc != FE__EXIT_OK)
			return rc;
	}
	fe__cat_start(s);
	return FE__EXIT_OK;
}

/* The primary of @to given to @z (between refreshes only: the pool thread reads it). */
bool fe__sec_take_primary(struct fe__sec_zone *z, const struct fe__sec_zone *to)
{
	if (z->plen == to->plen && memcmp(&z->paddr, &to->paddr, to->plen) == 0 &&
	    z->tls == to->tls && strcmp(z->tls_name, to->tls_name) == 0)
		return false;
	if (to->tls && !z->sec->tls) {
		fe_log_warn("zone %s: reload: XFR over TLS from %s@%u not taken: this node was "
		            "started without TLS primaries (restart)",
		            z->apex, to->primary.host, to->primary.port);
		return false;
	}
	if (z->busy) {
		fe_log_warn("zone %s: reload: new primary %s@%u not taken: a refresh is running "
		            "(reload again)",
		            z->apex, to->primary.host, to->primary.port);
		return false;
	}
	z->primary = to->primary;
	z->paddr = to->paddr;
	z->plen = to->plen;
	z->tls = to->tls;
	memcpy(z->tls_name, to->tls_name, sizeof(z->tls_name));
	size_t old = z->peer;
	assign_peer(z->sec, z);
	if (z->peer != old)
		fe_log_debug("zone %s: NOTIFY rate counted for %s now", z->apex, z->primary.host);
	return true;
}

/* Do the catalogs of @cfg differ from the running ones (apex or primary)? */
static bool catalogs_changed(const struct fe__sec *s, const struct fe__sec_cfg *cfg)
{
	size_t n = cfg->ncli_cat + cfg->conf->nxfr_catalogs;
	if (n != s->ncat)
		return true;
	for (size_t k = 0; k < n; k++) {
		struct fe__sec_zone w;
		memset(&w, 0, sizeof(w));
		const char *spec = k < cfg->ncli_cat ? cfg->cli_cat[k]
		                                     : cfg->conf->xfr_catalogs[k - cfg->ncli_cat];
		if (parse_spec(spec, &w) != FE_OK)
			return true;
		bool found = false;
		for (size_t i = 0; i < s->n && !found; i++)
			found = s->z[i]->is_catalog && strcmp(s->z[i]->apex, w.apex) == 0 &&
			        s->z[i]->plen == w.plen &&
			        memcmp(&s->z[i]->paddr, &w.paddr, w.plen) == 0;
		if (!found)
			return true;
	}
	return false;
}

void fe__sec_reconfigure(struct fe__sec *s, const struct fe__sec_cfg *cfg)
{
	size_t n = spec_count(cfg);
	if (!s->loop) {
		if (n)
			fe_log_warn(
			        "reload: xfr.secondary: this node was started without secondary "
			        "zones; becoming a secondary takes a restart");
		return;
	}
	fe__cat_groups(s, cfg->conf);
	if (cfg->conf && catalogs_changed(s, cfg))
		fe_log_warn(
		        "reload: xfr.catalogs changed: catalogs are read at start only (restart "
		        "to take the change); the running catalogs stay");
	struct fe__sec_zone *want = calloc(n ? n : 1, sizeof(*want));
	if (!want) {
		fe_log_err("reload: secondary zones: out of memory; unchanged");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const char *spec = spec_at(cfg, i, &want[i].tls);
		if (parse_spec(spec, &want[i]) != FE_OK) {
			spec_error(spec, want[i].tls);
			want[i].apex[0] = '\0';
		}
	}
	/* removals and changed primaries */
	for (size_t i = 0; i < s->n; i++) {
		struct fe__sec_zone *z = s->z[i];
		if (is_removed(z) || z->is_catalog || z->member_of) /* the catalog's business */
			continue;
		size_t j = 0;
		while (j < n && strcmp(want[j].apex, z->apex) != 0)
			j++;
		if (j < n) {
			if (fe__sec_take_primary(z, &want[j]))
				fe_log_info("zone %s: reload: primary now %s@%u", z->apex,
				            z->primary.host, z->primary.port);
			continue;
		}
		__atomic_store_n(&z->removed, 1, __ATOMIC_RELEASE);
		char until[32] = "its SOA EXPIRE";
		if (z->has_serial && z->expire_s)
			fe_time_str(z->last_ok_s + (int64_t)z->expire_s, until, sizeof(until));
		fe_log_warn("zone %s: reload: no longer a secondary (not in --secondary or "
		            "xfr.secondary): not refreshed any more; %s%u stays in the store, "
		            "served until %s, then kept but answered SERVFAIL",
		            z->apex, z->has_serial ? "serial " : "no version held, serial ",
		            z->has_serial ? z->serial : 0, z->has_serial ? until : "-");
		if (!z->busy)
			watch_expiry(z);
	}
	/* additions (a zone removed earlier and given again comes back) */
	for (size_t j = 0; j < n; j++) {
		if (!want[j].apex[0])
			continue;
		struct fe__sec_zone *z = NULL;
		for (size_t i = 0; i < s->n && !z; i++)
			if (strcmp(s->z[i]->apex, want[j].apex) == 0)
				z = s->z[i];
		if (z && !is_removed(z)) {
			if (z->member_of)
				fe_log_warn("zone %s: reload: a member of catalog %s already: not "
				            "taken "
				            "as a configured secondary",
				            z->apex, z->member_of->apex);
			continue;
		}
		if (z) {
			if (z->dropping)
				continue; /* its removal from the store is running: next reload */
			z->member_of = NULL;
			fe__sec_take_primary(z, &want[j]);
			__atomic_store_n(&z->removed, 0, __ATOMIC_RELEASE);
			fe_log_info("zone %s: reload: a secondary of %s@%u again: refresh now",
			            z->apex, z->primary.host, z->primary.port);
			start_refresh(z);
			continue;
		}
		if (s->n == s->cap) {
			fe_log_err("zone %s: reload: not added: %u zones were added since start "
			           "(limit; restart)",
			           want[j].apex, FE__SEC_ADD_MAX);
			continue;
		}
		z = calloc(1, sizeof(*z));
		if (!z) {
			fe_log_err("zone %s: reload: not added: out of memory", want[j].apex);
			continue;
		}
		*z = want[j];
		z->sec = s;
		if (z->tls && !s->tls) {
			fe_log_err("zone %s: reload: not added: XFR over TLS, and this node was "
			           "started without TLS primaries (restart)",
			           z->apex);
			free(z);
			continue;
		}
		assign_peer(s, z);
		fe_log_info("zone %s: reload: new secondary zone", z->apex);
		if (fe__sec_zone_begin(s, z) != FE__EXIT_OK) {
			free(z);
			continue;
		}
		__atomic_store_n(&s->z[s->n], z, __ATOMIC_RELAXED);
		__atomic_store_n(&s->n, s->n + 1, __ATOMIC_RELEASE); /* NOTIFY may name it now */
	}
	free(want);
}

const struct sockaddr *fe__sec_primary(const struct fe__sec *s, const uint8_t *apex,
                                       size_t apex_len)
{
	for (size_t i = 0; s && i < s->n; i++) {
		const struct fe__sec_zone *z = s->z[i];
		if (!is_removed(z) && apex_len == z->apex_wire_len &&
		    fe_wire_name_eq(apex, z->apex_wire))
			return (const struct sockaddr *)&z->paddr;
	}
	return NULL;
}

bool fe__sec_is_primary(const struct fe__sec *s, const uint8_t *apex, size_t apex_len,
                        const struct fe_listen_addr *a)
{
	for (size_t i = 0; s && i < s->n; i++) {
		const struct fe__sec_zone *z = s->z[i];
		if (!is_removed(z) && apex_len == z->apex_wire_len &&
		    fe_wire_name_eq(apex, z->apex_wire))
			return z->primary.port == a->port && strcmp(z->primary.host, a->host) == 0;
	}
	return false;
}

json_t *fe__sec_primaries_json(const struct fe__sec *s)
{
	json_t *out = json_array();
	for (size_t i = 0; s && i < s->n; i++) {
		const struct fe__sec_zone *z = s->z[i];
		if (is_removed(z))
			continue;
		json_t *p = NULL;
		size_t k;
		json_t *e;
		json_array_foreach(out, k, e)
		{
			if (strcmp(json_string_value(json_object_get(e, "address")),
			           z->primary.host) == 0 &&
			    json_integer_value(json_object_get(e, "port")) == z->primary.port &&
			    json_is_true(json_object_get(e, "tls")) == z->tls) {
				p = e;
				break;
			}
		}
		if (!p) {
			p = json_pack("{s:s, s:i, s:b, s:[]}", "address", z->primary.host, "port",
			              (int)z->primary.port, "tls", (int)z->tls, "zones");
			json_array_append_new(out, p);
		}
		char ok[32] = "", next[32] = "";
		if (z->last_ok_s)
			fe_time_str(z->last_ok_s, ok, sizeof(ok));
		if (z->next_s)
			fe_time_str(z->next_s, next, sizeof(next));
		json_t *zj = json_pack("{s:s, s:o, s:o, s:o, s:b, s:o}", "apex", z->apex, "serial",
		                       z->has_serial ? json_integer(z->serial) : json_null(),
		                       "last_success", z->last_ok_s ? json_string(ok) : json_null(),
		                       "next_refresh", z->next_s ? json_string(next) : json_null(),
		                       "expired", (int)z->expired, "last_error",
		                       z->last_err[0] ? json_string(z->last_err) : json_null());
		if (zj)
			json_object_set_new(zj, "catalog",
			                    z->member_of    ? json_string(z->member_of->apex)
			                    : z->is_catalog ? json_string("(catalog zone)")
			                                    : json_null());
		json_array_append_new(json_object_get(p, "zones"), zj);
	}
	return out;
}

size_t fe__sec_status(const struct fe__sec *s, const uint8_t *apex, size_t apex_len, char *buf,
                      size_t cap)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct fe__sec_zone *z = s->z[i];
		if (is_removed(z))
			continue;
		if (apex && (apex_len != z->apex_wire_len || !fe_wire_name_eq(apex, z->apex_wire)))
			continue;
		char ok[32] = "never", next[32] = "-";
		if (z->last_ok_s)
			fe_time_str(z->last_ok_s, ok, sizeof(ok));
		if (z->next_s)
			fe_time_str(z->next_s, next, sizeof(next));
		char cat[FE_WIRE_NAME_MAX * 4 + 400] = "";
		if (z->member_of)
			snprintf(cat, sizeof(cat), ", member of catalog %s (unique id %s)",
			         z->member_of->apex, z->cat_id);
		else if (z->is_catalog)
			snprintf(cat, sizeof(cat), ", a catalog zone (RFC 9432)");
		int n = snprintf(buf, cap,
		                 "primary %s@%u%s, serial %u%s, last success %s, next refresh %s, "
		                 "last error %s%s",
		                 z->primary.host, z->primary.port, z->tls ? " (TLS)" : "",
		                 z->serial, z->has_serial ? "" : " (none)", ok, next,
		                 z->last_err[0] ? z->last_err : "none", cat);
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
	fe__cat_log(s, why);
	for (size_t i = 0; i < s->n; i++) {
		char st[2400];
		if (is_removed(s->z[i]))
			continue;
		fe__sec_status(s, s->z[i]->apex_wire, s->z[i]->apex_wire_len, st, sizeof(st));
		fe_log_info("zone %s: %s", s->z[i]->apex, st);
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
		struct fe__sec_zone *z = s->z[i];
		if (z->timer_ready && !uv_is_closing((uv_handle_t *)&z->timer))
			uv_close((uv_handle_t *)&z->timer, closed_cb);
		if (z->expiry_ready && !uv_is_closing((uv_handle_t *)&z->expiry))
			uv_close((uv_handle_t *)&z->expiry, closed_cb);
		if (z->busy)
			(void)uv_cancel((uv_req_t *)&z->work);
	}
	if (s->async_ready && !uv_is_closing((uv_handle_t *)&s->async))
		uv_close((uv_handle_t *)&s->async, closed_cb);
}

void fe__sec_free(struct fe__sec *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->z[i]);
	for (size_t i = 0; i < s->npeers; i++)
		pthread_mutex_destroy(&s->peers[i].mu);
	free(s->peers);
	free(s->groups);
	for (size_t i = 0; i < s->nown; i++)
		free(s->own[i]);
	free(s->own);
	fe_xfrin_tls_destroy(s->tls);
	free(s->z);
	memset(s, 0, sizeof(*s));
}
