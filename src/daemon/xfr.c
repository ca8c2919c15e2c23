/* fedenumd's zone transfers, primary side (include/fedenum/xfr.h): --tsig-key and --notify
 * into a keyring, the secondaries' admission list and the transfer handler. */
#include "daemon_int.h"

#include "fedenum/store.h"
#include "fedenum/tsig.h"
#include "fedenum/wire.h"
#include "fedenum/xfr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int setup(struct fe__xfr *xf, const char *const *keys, size_t nkeys,
                 const char *const *notify, size_t nnotify);

/* The command line's keys and secondaries first (its first key signs), then the file's. */
static const char **merge(const char *const *a, size_t na, char *const *b, size_t nb)
{
	const char **v = calloc(na + nb + 1, sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < na; i++)
		v[i] = a[i];
	for (size_t i = 0; i < nb; i++)
		v[na + i] = b[i];
	return v;
}

/* Slots of struct fe__xfr src: IPv4, IPv4 loopback, IPv6, IPv6 loopback. */
static int src_slot(const struct sockaddr *a)
{
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)a;
		return (ntohl(a4->sin_addr.s_addr) >> 24) == 127 ? 1 : 0;
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)a;
		return IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr) ? 3 : 2;
	}
	return -1;
}

/* A numeric address into @out (port 0); false when it is not one. */
static bool numeric(const char *host, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	struct sockaddr_in *a4 = (struct sockaddr_in *)out;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		return true;
	}
	return false;
}

/* A node that serves on one of several addresses of its host speaks to its peers from it,
 * as they know it (their --notify, --secondary and admission lists name that address):
 * the first listen address of each kind that names one address (not 0.0.0.0 or ::). */
static void pick_sources(struct fe__xfr *xf, const struct fe_conf *c)
{
	for (size_t i = 0; i < c->nlisten; i++) {
		struct sockaddr_storage a;
		if (!numeric(c->listen[i].host, &a))
			continue;
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)&a;
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&a;
		if ((a.ss_family == AF_INET && a4->sin_addr.s_addr == htonl(INADDR_ANY)) ||
		    (a.ss_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr)))
			continue;
		int k = src_slot((const struct sockaddr *)&a);
		if (k >= 0 && xf->src[k].ss_family == AF_UNSPEC)
			xf->src[k] = a;
	}
}

const struct sockaddr *fe__xfr_source(const struct fe__xfr *xf, const struct sockaddr *peer,
                                      socklen_t *len)
{
	int k = src_slot(peer);
	if (k < 0 || xf->src[k].ss_family == AF_UNSPEC)
		return NULL;
	*len = peer->sa_family == AF_INET ? sizeof(struct sockaddr_in)
	                                  : sizeof(struct sockaddr_in6);
	return (const struct sockaddr *)&xf->src[k];
}

int fe__xfr_setup(struct fe__xfr *xf, const struct fe_conf *c, const char *const *cli_keys,
                  size_t ncli_keys, const char *const *cli_notify, size_t ncli_notify)
{
	memset(xf, 0, sizeof(*xf));
	pick_sources(xf, c);
	size_t nkeys = ncli_keys + c->nxfr_tsig_keys, nnotify = ncli_notify + c->nxfr_notify;
	const char **keys = merge(cli_keys, ncli_keys, c->xfr_tsig_keys, c->nxfr_tsig_keys);
	const char **notify = merge(cli_notify, ncli_notify, c->xfr_notify, c->nxfr_notify);
	int code = FE__EXIT_INTERNAL;
	if (keys && notify)
		code = setup(xf, keys, nkeys, notify, nnotify);
	free(keys);
	free(notify);
	xf->max_transfers = c->xfr_max_transfers;
	xf->max_time_ms = c->xfr_max_time_ms;
	return code;
}

static int setup(struct fe__xfr *xf, const char *const *keys, size_t nkeys,
                 const char *const *notify, size_t nnotify)
{
	if (!nkeys && !nnotify)
		return FE__EXIT_OK;
	if (!nkeys) {
		fe_log_err("--notify (xfr.notify) needs --tsig-key (xfr.tsig-keys): secondaries "
		           "transfer with a TSIG key");
		return FE__EXIT_CONFIG;
	}
	if (fe_tsig_keyring_create(&xf->keys) != FE_OK || fe_server_acl_create(&xf->peers) != FE_OK)
		return FE__EXIT_INTERNAL;
	for (size_t i = 0; i < nkeys; i++) {
		char err[512] = "";
		int rc = fe_tsig_keyring_load_file(xf->keys, keys[i], err, sizeof(err));
		if (rc != FE_OK) {
			fe_log_err("TSIG key file %s: %s", keys[i], err[0] ? err : fe_strerror(rc));
			return FE__EXIT_CONFIG;
		}
	}
	if (fe_tsig_keyring_count(xf->keys) == 0) {
		fe_log_err("TSIG key files: no key in %s", keys[0]);
		return FE__EXIT_CONFIG;
	}
	xf->notify = calloc(nnotify + 1, sizeof(*xf->notify));
	if (!xf->notify)
		return FE__EXIT_INTERNAL;
	for (size_t i = 0; i < nnotify; i++) {
		struct fe_listen_addr *a = &xf->notify[xf->nnotify];
		if (fe_server_listen_parse(notify[i], a) != FE_OK) {
			fe_log_err(
			        "--notify \"%s\" is not ADDR@PORT (numeric IPv4 or IPv6 address)",
			        notify[i]);
			return FE__EXIT_CONFIG;
		}
		if (fe_server_acl_add(xf->peers, a->host) != FE_OK)
			return FE__EXIT_INTERNAL;
		xf->nnotify++;
	}
	xf->enabled = true;
	return FE__EXIT_OK;
}

int fe__xfr_start(struct fe__xfr *xf, struct fe_store *st, bool validating,
                  struct fe_server_opts *o)
{
	if (!xf->enabled)
		return FE__EXIT_OK;
	struct fe_xfr_opts xo = {
	        .keys = xf->keys,
	        .peers = xf->peers,
	        .require_validated = validating,
	        .max_transfers = xf->max_transfers,
	        .max_time_ms = xf->max_time_ms,
	};
	int rc = fe_xfr_create(st, &xo, &xf->x);
	if (rc != FE_OK) {
		fe_log_err("zone transfer: %s", fe_strerror(rc));
		return FE__EXIT_INTERNAL;
	}
	o->transfer = fe_xfr_handler(xf->x);
	/* around the policy engine's hooks, if it set some */
	o->policy = fe__hooks_compose(&xf->hooks, fe_xfr_policy(xf->x), o->policy);
	fe_log_info("zone transfer (primary): %zu TSIG key%s, %zu secondar%s",
	            fe_tsig_keyring_count(xf->keys),
	            fe_tsig_keyring_count(xf->keys) == 1 ? "" : "s", xf->nnotify,
	            xf->nnotify == 1 ? "y" : "ies");
	return FE__EXIT_OK;
}

void fe__xfr_log_counters(const struct fe__xfr *xf, const char *why)
{
	if (!xf->x)
		return;
	uint64_t c[FE_XFR__MAX];
	fe_xfr_counters(xf->x, c);
	char buf[1024];
	size_t n = 0;
	for (size_t i = 0; i < FE_XFR__MAX && n < sizeof(buf); i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s=%llu", i ? " " : "",
		                      fe_xfr_counter_name((enum fe_xfr_counter)i),
		                      (unsigned long long)c[i]);
	fe_log_info("counters (%s): %s", why, buf);
}

struct fe__xfr_zone {
	uint8_t apex[FE_WIRE_NAME_MAX];
	uint8_t apex_len;
	uint32_t serial;
	bool seen;
};

int fe__xfr_notify_start(struct fe__xfr *xf, uv_loop_t *loop)
{
	if (!xf->x || !xf->nnotify)
		return FE__EXIT_OK;
	struct fe_xfr_notify_opts no = {
	        .key = fe_tsig_keyring_get(xf->keys, 0),
	        .targets = xf->notify,
	        .ntargets = xf->nnotify,
	};
	xf->notify_src = calloc(xf->nnotify, sizeof(*xf->notify_src));
	if (!xf->notify_src)
		return FE__EXIT_INTERNAL;
	for (size_t i = 0; i < xf->nnotify; i++) {
		struct sockaddr_storage peer;
		socklen_t len;
		const struct sockaddr *src =
		        numeric(xf->notify[i].host, &peer)
		                ? fe__xfr_source(xf, (const struct sockaddr *)&peer, &len)
		                : NULL;
		if (src)
			memcpy(&xf->notify_src[i], src, len);
	}
	no.sources = xf->notify_src;
	if (fe_xfr_notifier_create(loop, xf->x, &no, &xf->notifier) != FE_OK) {
		fe_log_err("NOTIFY: cannot start");
		return FE__EXIT_INTERNAL;
	}
	return FE__EXIT_OK;
}

static bool collect(const struct fe_store_zone_rec *z, void *arg)
{
	struct fe__xfr *xf = arg;
	for (size_t i = 0; i < xf->nzones; i++) {
		struct fe__xfr_zone *k = &xf->zones[i];
		if (k->apex_len == z->apex_len && fe_wire_name_eq(k->apex, z->apex)) {
			if (k->serial != z->serial) {
				k->serial = z->serial;
				k->seen = true;
			}
			return true;
		}
	}
	struct fe__xfr_zone *nz = realloc(xf->zones, (xf->nzones + 1) * sizeof(*nz));
	if (!nz)
		return false;
	xf->zones = nz;
	struct fe__xfr_zone *k = &nz[xf->nzones++];
	memcpy(k->apex, z->apex, z->apex_len);
	k->apex_len = z->apex_len;
	k->serial = z->serial;
	k->seen = true;
	return true;
}

void fe__xfr_loads_done(struct fe__xfr *xf, struct fe_store *st)
{
	if (!xf->notifier)
		return;
	struct fe_store_reader *r = NULL;
	if (fe_store_reader_create(st, &r) != FE_OK || fe_store_reader_begin(r) != FE_OK) {
		fe_store_reader_destroy(r);
		return;
	}
	for (size_t i = 0; i < xf->nzones; i++)
		xf->zones[i].seen = false;
	(void)fe_store_foreach_zone(r, collect, xf);
	fe_store_reader_end(r);
	fe_store_reader_destroy(r);
	for (size_t i = 0; i < xf->nzones; i++)
		if (xf->zones[i].seen)
			(void)fe_xfr_notify_except(
			        xf->notifier, xf->zones[i].apex, xf->zones[i].apex_len,
			        xf->zones[i].serial,
			        fe__sec_primary(xf->sec, xf->zones[i].apex, xf->zones[i].apex_len));
}

void fe__xfr_stop(struct fe__xfr *xf)
{
	fe_xfr_notifier_stop(xf->notifier);
}

void fe__xfr_free(struct fe__xfr *xf)
{
	fe_xfr_notifier_destroy(xf->notifier);
	free(xf->zones);
	fe_xfr_destroy(xf->x);
	fe_server_acl_destroy(xf->peers);
	fe_tsig_keyring_destroy(xf->keys);
	free(xf->notify);
	free(xf->notify_src);
	memset(xf, 0, sizeof(*xf));
}
