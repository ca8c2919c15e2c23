/* Zone transfer, primary side (include/fedenum/xfr.h): who may transfer, and the start and
 * end of each transfer. The RR sequence and its messages are in xfr_stream.c. */
#include "xfr_int.h"

#include "fedenum/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#define DEFAULT_MAX_TRANSFERS 16u
#define DEFAULT_MAX_TIME_MS   600000u
#define REPLAY_CAPACITY       4096u

static struct fe_ratelog refuse_log = FE_RATELOG_INIT(10, 60);
static struct fe_ratelog fail_log = FE_RATELOG_INIT(10, 60);

static const char *const counter_names[FE_XFR__MAX] = {
        [FE_XFR_AXFR] = "xfr_axfr",
        [FE_XFR_IXFR] = "xfr_ixfr",
        [FE_XFR_IXFR_FALLBACK] = "xfr_ixfr_fallback",
        [FE_XFR_UPTODATE] = "xfr_uptodate",
        [FE_XFR_DONE] = "xfr_done",
        [FE_XFR_MESSAGES] = "xfr_messages",
        [FE_XFR_BYTES] = "xfr_bytes",
        [FE_XFR_REFUSED_UNSIGNED] = "xfr_refused_unsigned",
        [FE_XFR_REFUSED_TSIG] = "xfr_refused_tsig",
        [FE_XFR_REFUSED_ADDRESS] = "xfr_refused_address",
        [FE_XFR_REFUSED_LIMIT] = "xfr_refused_limit",
        [FE_XFR_NOTAUTH_ZONE] = "xfr_notauth_zone",
        [FE_XFR_FAILED] = "xfr_failed",
        [FE_XFR_NOTIFY_SENT] = "xfr_notify_sent",
        [FE_XFR_NOTIFY_RETRIED] = "xfr_notify_retried",
        [FE_XFR_NOTIFY_ACKED] = "xfr_notify_acked",
        [FE_XFR_NOTIFY_FAILED] = "xfr_notify_failed",
        [FE_XFR_REFUSED_TLS] = "xfr_refused_tls",
};

const char *fe_xfr_counter_name(enum fe_xfr_counter c)
{
	return (unsigned)c < FE_XFR__MAX ? counter_names[c] : "?";
}

void fe_xfr_counters(const struct fe_xfr *x, uint64_t *out)
{
	for (size_t i = 0; i < FE_XFR__MAX; i++)
		out[i] = __atomic_load_n(&x->cnt[i], __ATOMIC_RELAXED);
}

static void addr_str(const struct sockaddr *sa, char *buf, size_t cap)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		port = ntohs(s4->sin_port);
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		port = ntohs(s6->sin6_port);
	}
	snprintf(buf, cap, "%s@%u", a, port);
}

enum fe_server_verdict fe_xfr_tsig_step(void *state, const struct fe_server_request *req,
                                        uint16_t *rcode)
{
	struct fe_xfr *x = state;
	const struct fe_wire_query *q = req->q;
	/* Transfers: the handler verifies (it needs the request MAC to sign the stream). */
	if (req->transport == FE_TRANSPORT_TCP && q->qclass == FE_C_IN &&
	    (q->qtype == FE_T_AXFR || q->qtype == FE_T_IXFR))
		return FE_SERVER_PASS;
	/* Any other signed query (a secondary's SOA check before a refresh, RFC 1996 §3.11):
	 * answered like an unsigned one, and the answer signed by fe_xfr_sign_after. */
	struct fe_tsig_result res;
	int rc = fe_tsig_verify_request(req->msg, req->msg_len, x->o.keys, x->replay, &res);
	if (rc == FE_OK)
		return FE_SERVER_PASS;
	*rcode = rc == FE_EFORMAT ? FE_RCODE_FORMERR : FE_RCODE_NOTAUTH;
	return FE_SERVER_RCODE;
}

size_t fe_xfr_sign_after(void *state, const struct fe_server_request *req, uint8_t *msg, size_t len,
                         size_t cap)
{
	struct fe_xfr *x = state;
	/* Stream messages (msg NULL) are signed by the handler itself. */
	if (!req->msg || !req->q || !req->q->has_tsig || req->q->opcode != FE_OP_QUERY)
		return len;
	struct fe_tsig_result res;
	/* Verified in the TSIG step (with the replay cache); again here for its MAC. */
	if (fe_tsig_verify_request(req->msg, req->msg_len, x->o.keys, NULL, &res) != FE_OK)
		return len;
	size_t limit = cap;
	if (req->transport == FE_TRANSPORT_UDP)
		limit = FE_MIN(cap, (size_t)fe_wire_udp_limit(req->q, 4096));
	size_t n = len;
	int rc = fe_tsig_sign(msg, &n, limit, res.key, res.mac, res.mac_len, NULL, NULL, NULL);
	if (rc == FE_ENOSPC && req->q->question_end && len >= req->q->question_end) {
		/* No room for the TSIG: header and question with TC=1 (RFC 8945 §5.3). */
		n = req->q->question_end;
		fe_put_be16(msg + 2, (uint16_t)(fe_get_be16(msg + 2) | FE_F_TC));
		memset(msg + 6, 0, 6);
		rc = fe_tsig_sign(msg, &n, limit, res.key, res.mac, res.mac_len, NULL, NULL, NULL);
	}
	if (rc != FE_OK)
		return 0;
	len = n;
	return len;
}

/* ---- one-message answers ----------------------------------------------------------- */

/* A header-and-question answer with @rcode, signed when the stream has a signer. */
static int answer_rcode(struct fe__xstream *s, uint16_t rcode)
{
	s->one = malloc(FE_WIRE_MSG_MAX);
	if (!s->one)
		return FE_ENOMEM;
	size_t n = fe_wire_error_response(s->req, s->req_len, &s->q, rcode, s->one,
	                                  FE_WIRE_MSG_MAX - FE_TSIG_RR_MAX);
	if (n == 0)
		return FE_EFORMAT;
	if (s->ts) {
		int rc = fe_tsig_stream_sign(s->ts, s->one, &n, FE_WIRE_MSG_MAX, true, NULL);
		if (rc != FE_OK)
			return rc;
	}
	s->one_len = n;
	return FE_OK;
}

/* ---- per-peer status (fe_xfr_peers) --------------------------------------------------- */

enum peer_event { PE_AXFR, PE_IXFR, PE_UPTODATE, PE_DONE, PE_REFUSED, PE_FAILED };

/* The last transfer of p->last_zone to peer @p in its per-zone list (under peers_mu). */
static void peer_zone_note(struct fe__xpeer_zones *pz, const struct fe_xfr_peer *p)
{
	struct fe__xpz *z = NULL;
	for (size_t i = 0; i < pz->n && !z; i++)
		if (strcmp(pz->z[i].zone, p->last_zone) == 0)
			z = &pz->z[i];
	if (!z && pz->n < FE_XFR_PEER_ZONES_MAX) {
		if (pz->n == pz->cap) {
			size_t nc = pz->cap ? pz->cap * 2 : 8;
			struct fe__xpz *nz = realloc(pz->z, nc * sizeof(*nz));
			if (!nz)
				return;
			pz->z = nz;
			pz->cap = nc;
		}
		z = &pz->z[pz->n++];
		snprintf(z->zone, sizeof(z->zone), "%s", p->last_zone);
	}
	if (z)
		z->st = (struct fe_xfr_peer_zone){
		        .serial = p->last_serial, .ixfr = p->last_ixfr, .at_s = p->last_s};
}

int fe_xfr_peer_zone(struct fe_xfr *x, const char *address, const char *zone,
                     struct fe_xfr_peer_zone *out)
{
	int rc = FE_ENOENT;
	pthread_mutex_lock(&x->peers_mu);
	for (size_t i = 0; i < x->npeers && rc != FE_OK; i++) {
		if (strcmp(x->peers[i].address, address) != 0)
			continue;
		for (size_t k = 0; k < x->pz[i].n; k++)
			if (strcasecmp(x->pz[i].z[k].zone, zone) == 0) {
				*out = x->pz[i].z[k].st;
				rc = FE_OK;
				break;
			}
	}
	pthread_mutex_unlock(&x->peers_mu);
	return rc;
}

/* Note @ev for the stream's peer when it is a configured secondary (s->tracked). */
static void peer_note(struct fe__xstream *s, enum peer_event ev, const char *why)
{
	if (!s->tracked)
		return;
	struct fe_xfr *x = s->x;
	char addr[64];
	snprintf(addr, sizeof(addr), "%s", s->peer);
	char *at = strrchr(addr, '@');
	if (at)
		*at = '\0';
	pthread_mutex_lock(&x->peers_mu);
	struct fe_xfr_peer *p = NULL;
	for (size_t i = 0; i < x->npeers && !p; i++)
		if (strcmp(x->peers[i].address, addr) == 0)
			p = &x->peers[i];
	if (!p && x->npeers < FE_XFR_PEERS_MAX) {
		p = &x->peers[x->npeers++];
		memset(p, 0, sizeof(*p));
		snprintf(p->address, sizeof(p->address), "%s", addr);
	}
	if (p) {
		int64_t now = (int64_t)time(NULL);
		switch (ev) {
		case PE_AXFR:
			p->axfr++;
			break;
		case PE_IXFR:
			p->ixfr++;
			break;
		case PE_UPTODATE:
			p->uptodate++;
			break;
		case PE_DONE:
			p->done++;
			p->last_s = now;
			snprintf(p->last_zone, sizeof(p->last_zone), "%s", s->zname);
			p->last_serial = s->zone ? s->zone->serial : 0;
			p->last_ixfr = s->is_ixfr;
			peer_zone_note(&x->pz[p - x->peers], p);
			break;
		case PE_REFUSED:
		case PE_FAILED:
			if (ev == PE_REFUSED)
				p->refused++;
			else
				p->failed++;
			p->last_error_s = now;
			snprintf(p->last_error, sizeof(p->last_error), "%s of %.100s %s: %s",
			         s->q.qtype == FE_T_IXFR ? "IXFR" : "AXFR", s->zname,
			         ev == PE_REFUSED ? "refused" : "failed", why);
			break;
		}
	}
	pthread_mutex_unlock(&x->peers_mu);
}

size_t fe_xfr_peers(struct fe_xfr *x, struct fe_xfr_peer *out, size_t cap)
{
	pthread_mutex_lock(&x->peers_mu);
	size_t n = x->npeers < cap ? x->npeers : cap;
	memcpy(out, x->peers, n * sizeof(*out));
	pthread_mutex_unlock(&x->peers_mu);
	return n;
}

static void refused(struct fe__xstream *s, enum fe_xfr_counter c, const char *why)
{
	fe__xfr_count(s->x, c, 1);
	peer_note(s, PE_REFUSED, why);
	fe_ratelog(&refuse_log, FE_LOG_WARN, "transfer of %s to %s refused: %s", s->zname, s->peer,
	           why);
}

/* ---- IXFR -------------------------------------------------------------------------- */

/* The serial of the SOA in the authority section of an IXFR request (RFC 1995 §3). */
static int ixfr_client_serial(const struct fe__xstream *s, uint32_t *serial)
{
	const uint8_t *p = s->req;
	size_t len = s->req_len, pos = s->q.question_end;
	if (pos == 0 || fe_get_be16(p + 8) < 1)
		return FE_EFORMAT;
	if (fe_wire_name_read(p, len, &pos, NULL) < 0 || len - pos < 10)
		return FE_EFORMAT;
	uint16_t type = fe_get_be16(p + pos);
	uint16_t rdlen = fe_get_be16(p + pos + 8);
	pos += 10;
	if (type != FE_T_SOA || rdlen > len - pos)
		return FE_EFORMAT;
	size_t end = pos + rdlen;
	if (fe_wire_name_read(p, end, &pos, NULL) < 0 ||
	    fe_wire_name_read(p, end, &pos, NULL) < 0 || end - pos < 20)
		return FE_EFORMAT;
	*serial = fe_get_be32(p + pos);
	return FE_OK;
}

struct jcopy {
	struct fe__xstream *s;
	uint32_t target;
	int err;
};

static bool copy_entry(const struct fe_store_journal_entry *e, void *arg)
{
	struct jcopy *c = arg;
	struct fe__xstream *s = c->s;
	struct fe__xent *ne = realloc(s->ent, (s->nent + 1) * sizeof(*ne));
	if (!ne) {
		c->err = FE_ENOMEM;
		return false;
	}
	s->ent = ne;
	struct fe__xent *x = &ne[s->nent];
	x->removed = malloc(e->removed_len + e->added_len + 1);
	if (!x->removed) {
		c->err = FE_ENOMEM;
		return false;
	}
	memcpy(x->removed, e->removed, e->removed_len);
	memcpy(x->removed + e->removed_len, e->added, e->added_len);
	x->removed_len = e->removed_len;
	x->added = x->removed + e->removed_len;
	x->added_len = e->added_len;
	x->from = e->serial_from;
	x->to = e->serial_to;
	s->nent++;
	/* Stop at the snapshot's version: a commit after it is not part of this transfer. */
	return e->serial_to != c->target;
}

static void free_entries(struct fe__xstream *s)
{
	for (size_t i = 0; i < s->nent; i++)
		free(s->ent[i].removed);
	free(s->ent);
	s->ent = NULL;
	s->nent = 0;
}

/* Decide how to answer an IXFR: up to date, incremental, or the whole zone. */
static int ixfr_plan(struct fe__xstream *s)
{
	uint32_t client;
	int rc = ixfr_client_serial(s, &client);
	if (rc != FE_OK)
		return rc;
	uint32_t cur = s->zone->serial;
	s->is_ixfr = true;
	/* RFC 1982: the client has this version or a newer one. */
	if ((int32_t)(cur - client) <= 0) {
		fe__xfr_count(s->x, FE_XFR_UPTODATE, 1);
		peer_note(s, PE_UPTODATE, NULL);
		return FE_OK;
	}
	struct jcopy c = {.s = s, .target = cur, .err = FE_OK};
	rc = fe_store_journal_read(s->x->st, s->zone->apex, s->zone->apex_len, client, copy_entry,
	                           &c);
	if (c.err != FE_OK) {
		free_entries(s);
		return c.err;
	}
	if (rc == FE_OK && s->nent && s->ent[s->nent - 1].to == cur) {
		fe__xfr_count(s->x, FE_XFR_IXFR, 1);
		peer_note(s, PE_IXFR, NULL);
		fe_log_info("IXFR of %s to %s: serial %u -> %u, %zu journal entr%s", s->zname,
		            s->peer, client, cur, s->nent, s->nent == 1 ? "y" : "ies");
		return FE_OK;
	}
	/* RFC 1995 §4: the journal does not reach back to the client's serial: the whole zone. */
	free_entries(s);
	s->is_ixfr = false;
	fe__xfr_count(s->x, FE_XFR_IXFR_FALLBACK, 1);
	fe__xfr_count(s->x, FE_XFR_AXFR, 1);
	peer_note(s, PE_AXFR, NULL);
	fe_log_info("IXFR of %s to %s from serial %u: not in the journal, whole zone (serial %u)",
	            s->zname, s->peer, client, cur);
	return FE_OK;
}

/* ---- the handler ------------------------------------------------------------------- */

/* Open the snapshot and find the zone and its SOA. FE_ENOENT: not a zone we serve. */
static int open_zone(struct fe__xstream *s)
{
	uint8_t key[FE_WIRE_KEY_MAX];
	int kl = fe_wire_name_key(s->q.qname_lc, s->q.qname_len, key, sizeof(key));
	if (kl < 0)
		return FE_ENOENT;
	int rc = fe_store_reader_create(s->x->st, &s->rd);
	if (rc != FE_OK)
		return rc;
	if ((rc = fe_store_reader_begin(s->rd)) != FE_OK) {
		fe_store_reader_destroy(s->rd);
		s->rd = NULL;
		return rc;
	}
	rc = fe_store_get_zone(s->rd, key, (size_t)kl, &s->zone);
	if (rc != FE_OK)
		return rc;
	if (s->x->o.require_validated &&
	    (!(s->zone->flags & FE_ZONE_VALIDATED) || (s->zone->flags & FE_ZONE_BOGUS)))
		return FE_ENOENT;
	if (s->zone->flags & FE_ZONE_EXPIRED) /* a secondary's copy past SOA EXPIRE */
		return FE_ENOENT;
	struct fe_store_node apex;
	struct fe_store_rrset soa;
	const uint8_t *rdata;
	uint16_t rdlen;
	bool is_sig;
	size_t it = 0;
	if ((rc = fe_store_get_node(s->rd, s->zone, key, (size_t)kl, &apex)) != FE_OK)
		return rc == FE_ENOENT ? FE_EFORMAT : rc;
	if (!fe_store_node_find(&apex, FE_T_SOA, &soa) ||
	    !fe_store_rrset_next(&soa, &it, &rdata, &rdlen, &is_sig) || is_sig)
		return FE_EFORMAT;
	s->soa = (struct fe__xrr){apex.owner, FE_T_SOA, soa.ttl, rdata, rdlen};
	return FE_OK;
}

static void stream_free(struct fe__xstream *s)
{
	if (!s)
		return;
	if (s->running)
		__atomic_fetch_sub(&s->x->running, 1, __ATOMIC_RELAXED);
	if (s->rd) {
		fe_store_reader_end(s->rd);
		fe_store_reader_destroy(s->rd);
	}
	fe_tsig_stream_destroy(s->ts);
	free_entries(s);
	free(s->one);
	free(s);
}

static int x_open(void *state, const struct fe_server_request *req, void **stream)
{
	struct fe_xfr *x = state;
	if (req->msg_len > FE_WIRE_MSG_MAX)
		return FE_EINVAL;
	struct fe__xstream *s = calloc(1, sizeof(*s));
	if (!s)
		return FE_ENOMEM;
	s->x = x;
	memcpy(s->req, req->msg, req->msg_len);
	s->req_len = req->msg_len;
	/* Parse our copy: the question of every message points into it. */
	(void)fe_wire_query_parse(s->req, s->req_len, &s->q);
	addr_str(req->peer, s->peer, sizeof(s->peer));
	s->tracked = fe_server_acl_allows(x->o.peers, req->peer);
	fe_wire_name_to_str(s->q.qname_lc, s->zname, sizeof(s->zname));
	s->started_ms = fe_time_mono_ms();
	s->deadline_ms = s->started_ms + x->o.max_time_ms;
	*stream = s;
	int rc;

	/* TSIG first: a refusal to a signed request is signed (RFC 8945 §5.3). */
	if (!s->q.has_tsig) {
		refused(s, FE_XFR_REFUSED_UNSIGNED, "no TSIG");
		rc = answer_rcode(s, FE_RCODE_REFUSED);
		goto out;
	}
	struct fe_tsig_result res;
	rc = fe_tsig_verify_request(s->req, s->req_len, x->o.keys, x->replay, &res);
	if (rc == FE_EPERM || rc == FE_EFORMAT) {
		refused(s, FE_XFR_REFUSED_TSIG,
		        res.error == FE_TSIG_BADKEY    ? "TSIG BADKEY (key not configured)"
		        : res.error == FE_TSIG_BADSIG  ? "TSIG BADSIG"
		        : res.error == FE_TSIG_BADTIME ? "TSIG BADTIME"
		        : res.error                    ? "TSIG error"
		                                       : "malformed TSIG");
		if (rc == FE_EFORMAT) {
			rc = answer_rcode(s, FE_RCODE_FORMERR);
			goto out;
		}
		s->one = malloc(FE_WIRE_MSG_MAX);
		if (!s->one) {
			rc = FE_ENOMEM;
			goto out;
		}
		s->one_len =
		        fe_tsig_error_response(s->req, s->req_len, &res, s->one, FE_WIRE_MSG_MAX);
		rc = s->one_len ? FE_OK : FE_EFORMAT;
		goto out;
	}
	if (rc != FE_OK)
		goto out;
	if ((rc = fe_tsig_stream_create(res.key, res.mac, res.mac_len, &s->ts)) != FE_OK)
		goto out;
	if (!fe_server_acl_allows(x->o.peers, req->peer)) {
		refused(s, FE_XFR_REFUSED_ADDRESS, "address not a configured secondary");
		rc = answer_rcode(s, FE_RCODE_REFUSED);
		goto out;
	}
	if (req->tls_version && req->tls_version < 0x0304) {
		refused(s, FE_XFR_REFUSED_TLS, "TLS below 1.3 (RFC 9103 §9)");
		rc = answer_rcode(s, FE_RCODE_REFUSED);
		goto out;
	}
	if (__atomic_add_fetch(&x->running, 1, __ATOMIC_RELAXED) > x->o.max_transfers) {
		__atomic_fetch_sub(&x->running, 1, __ATOMIC_RELAXED);
		refused(s, FE_XFR_REFUSED_LIMIT, "too many transfers running");
		rc = answer_rcode(s, FE_RCODE_REFUSED);
		goto out;
	}
	s->running = true;
	rc = open_zone(s);
	if (rc == FE_ENOENT) {
		refused(s, FE_XFR_NOTAUTH_ZONE, "not a zone served here");
		rc = answer_rcode(s, FE_RCODE_NOTAUTH);
		goto out;
	}
	if (rc != FE_OK)
		goto out;
	if (s->q.qtype == FE_T_IXFR) {
		rc = ixfr_plan(s);
		if (rc == FE_EFORMAT) {
			refused(s, FE_XFR_FAILED, "IXFR without a SOA in the authority section");
			rc = answer_rcode(s, FE_RCODE_FORMERR);
			goto out;
		}
	} else {
		fe__xfr_count(x, FE_XFR_AXFR, 1);
		peer_note(s, PE_AXFR, NULL);
	}
	if (rc == FE_OK && !s->is_ixfr)
		fe_log_info("AXFR of %s (serial %u) to %s", s->zname, s->zone->serial, s->peer);
out:
	if (rc != FE_OK) {
		*stream = NULL;
		stream_free(s);
	}
	return rc;
}

static int x_next(void *state, void *stream, uint8_t *buf, size_t cap, size_t *len)
{
	struct fe_xfr *x = state;
	struct fe__xstream *s = stream;
	int rc = fe__xfr_stream_next(s, buf, cap, len);
	if (rc != FE_OK) {
		fe__xfr_count(x, FE_XFR_FAILED, 1);
		peer_note(s, PE_FAILED, fe_strerror(rc));
		fe_ratelog(&fail_log, FE_LOG_WARN, "transfer of %s to %s failed: %s", s->zname,
		           s->peer, fe_strerror(rc));
		return rc;
	}
	if (*len) {
		s->messages++;
		s->bytes += *len;
		fe__xfr_count(x, FE_XFR_MESSAGES, 1);
		fe__xfr_count(x, FE_XFR_BYTES, *len);
		if (s->rd && s->phase == FE__XP_DONE && !s->has_pend) {
			fe__xfr_count(x, FE_XFR_DONE, 1);
			peer_note(s, PE_DONE, NULL);
			fe_log_info(
			        "transfer of %s (serial %u, %s) to %s: %llu messages, %llu RRs, "
			        "%llu bytes in %llu ms",
			        s->zname, s->zone->serial, s->is_ixfr ? "IXFR" : "AXFR", s->peer,
			        (unsigned long long)s->messages, (unsigned long long)s->rrs,
			        (unsigned long long)s->bytes,
			        (unsigned long long)(fe_time_mono_ms() - s->started_ms));
		}
	}
	return FE_OK;
}

static void x_close(void *state, void *stream)
{
	(void)state;
	stream_free(stream);
}

int fe_xfr_create(struct fe_store *st, const struct fe_xfr_opts *opts, struct fe_xfr **out)
{
	*out = NULL;
	if (!st || !opts || !opts->keys || !opts->peers)
		return FE_EINVAL;
	struct fe_xfr *x = calloc(1, sizeof(*x));
	if (!x)
		return FE_ENOMEM;
	x->st = st;
	x->o = *opts;
	if (!x->o.max_transfers)
		x->o.max_transfers = DEFAULT_MAX_TRANSFERS;
	if (!x->o.max_time_ms)
		x->o.max_time_ms = DEFAULT_MAX_TIME_MS;
	int rc = fe_tsig_replay_create(REPLAY_CAPACITY, &x->replay);
	if (rc != FE_OK) {
		free(x);
		return rc;
	}
	pthread_mutex_init(&x->peers_mu, NULL);
	x->handler = (struct fe_server_stream_handler){x, x_open, x_next, x_close};
	x->policy = (struct fe_server_policy){
	        .state = x, .tsig = fe_xfr_tsig_step, .after = fe_xfr_sign_after};
	*out = x;
	return FE_OK;
}

void fe_xfr_destroy(struct fe_xfr *x)
{
	if (!x)
		return;
	fe_tsig_replay_destroy(x->replay);
	pthread_mutex_destroy(&x->peers_mu);
	for (size_t i = 0; i < FE_XFR_PEERS_MAX; i++)
		free(x->pz[i].z);
	free(x);
}

const struct fe_server_stream_handler *fe_xfr_handler(struct fe_xfr *x)
{
	return &x->handler;
}

const struct fe_server_policy *fe_xfr_policy(struct fe_xfr *x)
{
	return &x->policy;
}
