/* Network server lifecycle: sockets, worker threads, ready file, stop and drain.
 *
 * Layout (docs/architecture.md, "Query path"): N workers, each a thread with its own libuv loop,
 * its own store reader, its own counters, and for every listen address its own UDP socket
 * and its own TCP listening socket, all bound with SO_REUSEPORT to the same address and port.
 * The kernel spreads datagrams and new connections over the group by a hash of the 4-tuple,
 * so no query ever crosses threads and nothing on the hot path takes a lock.
 *
 * Why per-worker TCP listeners rather than one listener on worker 0: a single listener would
 * put every TCP client (and every TCP parse and answer) on one core, and handing accepted
 * sockets to other loops needs a cross-thread queue. With the SO_REUSEPORT group each worker
 * accepts and serves its own share. The one cross-worker limit, tcp_max_clients, is an atomic
 * counter in struct fe_server. Cost: a worker that is stuck delays the connections hashed to
 * it — the same is true of its UDP share.
 *
 * Sockets are created and bound here, in the caller's thread, so that bind errors come back
 * from fe_server_start synchronously; each worker then wraps its file descriptors in libuv
 * handles on its own loop, in its own thread (LMDB read transactions and libuv loops are
 * bound to the thread that uses them). */
#include "net_int.h"

#include "fedenum/store.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers ---------------------------------------------------------------------- */

void fe__net_addr_str(const struct sockaddr *sa, char *out, size_t cap)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		port = ntohs(s4->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		port = ntohs(s6->sin6_port);
	}
	snprintf(out, cap, "%s#%u", host, port);
}

int fe_server_listen_parse(const char *s, struct fe_listen_addr *out)
{
	memset(out, 0, sizeof(*out));
	const char *at = strrchr(s, '@');
	size_t hl = at ? (size_t)(at - s) : strlen(s);
	if (hl == 0 || hl >= sizeof(out->host))
		return FE_ESYNTAX;
	memcpy(out->host, s, hl);
	out->host[hl] = '\0';
	unsigned char tmp[16];
	if (inet_pton(AF_INET, out->host, tmp) != 1 && inet_pton(AF_INET6, out->host, tmp) != 1)
		return FE_ESYNTAX;
	if (!at) {
		out->port = 53;
		return FE_OK;
	}
	const char *p = at + 1;
	if (!*p)
		return FE_ESYNTAX;
	unsigned long v = 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return FE_ESYNTAX;
		v = v * 10u + (unsigned long)(*p - '0');
		if (v > 65535u)
			return FE_ESYNTAX;
	}
	out->port = (uint16_t)v;
	return FE_OK;
}

/* ---- sockets ---------------------------------------------------------------------- */

static int to_sockaddr(const struct fe_listen_addr *la, uint16_t port, struct sockaddr_storage *ss,
                       socklen_t *len, bool *wildcard)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, la->host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		*wildcard = s4->sin_addr.s_addr == htonl(INADDR_ANY);
		return FE_OK;
	}
	if (inet_pton(AF_INET6, la->host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		*wildcard = IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr);
		return FE_OK;
	}
	return FE_EINVAL;
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

/* A non-blocking socket bound to @ss with SO_REUSEPORT. Returns the fd or -errno. */
static int bound_socket(const struct sockaddr_storage *ss, socklen_t len, int type, bool wildcard)
{
	int fd = socket(ss->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	int err = 0;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
		goto fail;
	if (type == SOCK_STREAM && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
		goto fail;
	/* One socket per family: an IPv6 listener never sees IPv4-mapped traffic (RFC 3493
	 * §5.3), so "0.0.0.0" and "::" can be listed side by side. */
	if (ss->ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0)
		goto fail;
	if (type == SOCK_DGRAM) {
		/* Bigger buffers absorb bursts between two loop turns (best effort: the kernel
		 * caps them at net.core.rmem_max / wmem_max). */
		int sz = 4 << 20;
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		/* Do not fragment on the strength of (spoofable) ICMP "too big" messages: our
		 * answers are sized to the EDNS buffer, not to a path MTU (best effort). */
		if (ss->ss_family == AF_INET) {
			int v = IP_PMTUDISC_OMIT;
			(void)setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v));
		} else {
			int v = IPV6_PMTUDISC_OMIT;
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v, sizeof(v));
		}
		/* A wildcard bind must answer from the address the query was sent to. */
		if (wildcard && ss->ss_family == AF_INET &&
		    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) != 0)
			goto fail;
		if (wildcard && ss->ss_family == AF_INET6 &&
		    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) != 0)
			goto fail;
	}
	if (bind(fd, (const struct sockaddr *)ss, len) != 0)
		goto fail;
	return fd;
fail:
	err = errno;
	close(fd);
	return -err;
}

/* Is @ss free of any other socket of @type? A plain bind (no SO_REUSEPORT) fails with
 * EADDRINUSE where any socket holds the address, SO_REUSEPORT groups included, so our own
 * group can never be joined by, nor join, another process that checks the same way (a second
 * fedenumd): listen sockets are not shared. TCP sets SO_REUSEADDR so that connections left in
 * TIME_WAIT by a previous run do not count. Returns 0 or -errno. */
static int probe_free(const struct sockaddr_storage *ss, socklen_t len, int type)
{
	int fd = socket(ss->ss_family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1, rc = 0;
	if (ss->ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (type == SOCK_STREAM)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* The operator's reason for a bind error. */
static const char *bind_hint(int err, uint16_t port)
{
	if (err == EADDRINUSE)
		return " (another process holds this address and port: a second fedenumd? listen "
		       "sockets are never shared)";
	if ((err == EACCES || err == EPERM) && port < 1024)
		return " (ports below 1024 need root or CAP_NET_BIND_SERVICE: start as root with "
		       "`user` in fedenumd.conf to drop privileges after binding, or setcap "
		       "cap_net_bind_service=+ep on fedenumd; docs/configuration.md)";
	if (err == EADDRNOTAVAIL)
		return " (no interface of this host has that address)";
	return "";
}

static uint16_t bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Bind listen address @i for every worker. Port 0: the TCP socket of worker 0 picks the
 * port first — the kernel's TCP port-0 search skips ports that any other socket holds, even
 * in an SO_REUSEPORT group, whereas UDP's would happily join another process's group — then
 * UDP binds the same number; if that number is taken for UDP we try another. */
static int bind_listener(struct fe_server *srv, size_t i)
{
	const struct fe_listen_addr *la = &srv->listen[i];
	struct sockaddr_storage ss;
	socklen_t len;
	bool wildcard;
	int rc = to_sockaddr(la, la->port, &ss, &len, &wildcard);
	if (rc) {
		fe_log_err("listen %s@%u: not a numeric IPv4 or IPv6 address", la->host, la->port);
		return FE_EIO;
	}
	struct fe__worker *w0 = &srv->workers[0];
	int err = 0;
	const char *what = "tcp";
	if (la->port != 0) {
		int e = probe_free(&ss, len, SOCK_STREAM);
		if (e == 0 && (e = probe_free(&ss, len, SOCK_DGRAM)) != 0)
			what = "udp";
		if (e != 0) {
			fe_log_err("cannot bind %s %s@%u: %s%s", what, la->host, la->port,
			           strerror(-e), bind_hint(-e, la->port));
			return FE_EIO;
		}
	}
	for (int attempt = 0; attempt < FE__PORT_TRIES; attempt++) {
		set_port(&ss, la->port);
		int t = bound_socket(&ss, len, SOCK_STREAM, wildcard);
		if (t < 0) {
			err = -t;
			what = "tcp";
			break;
		}
		uint16_t port = bound_port(t);
		set_port(&ss, port);
		/* Port 0: the number TCP got may be held for UDP by another process's group. */
		int u = la->port == 0 ? probe_free(&ss, len, SOCK_DGRAM) : 0;
		if (u == 0)
			u = bound_socket(&ss, len, SOCK_DGRAM, wildcard);
		if (u < 0) {
			close(t);
			err = -u;
			what = "udp";
			if (la->port == 0 && err == EADDRINUSE)
				continue;
			break;
		}
		w0->lsn[i].fd = t;
		w0->udp[i].fd = u;
		w0->udp[i].pktinfo = wildcard;
		srv->ports[i] = port;
		err = 0;
		break;
	}
	if (w0->udp[i].fd < 0) {
		err = err ? err : EADDRINUSE;
		fe_log_err("cannot bind %s %s@%u: %s%s", what, la->host, la->port, strerror(err),
		           bind_hint(err, la->port));
		return FE_EIO;
	}
	set_port(&ss, srv->ports[i]);
	for (unsigned k = 1; k < srv->nworkers; k++) {
		struct fe__worker *w = &srv->workers[k];
		int u = bound_socket(&ss, len, SOCK_DGRAM, wildcard);
		int t = u < 0 ? u : bound_socket(&ss, len, SOCK_STREAM, wildcard);
		if (u < 0 || t < 0) {
			fe_log_err("cannot bind %s %s@%u for worker %u: %s", u < 0 ? "udp" : "tcp",
			           la->host, srv->ports[i], k, strerror(u < 0 ? -u : -t));
			if (u >= 0)
				close(u);
			return FE_EIO;
		}
		w->udp[i].fd = u;
		w->udp[i].pktinfo = wildcard;
		w->lsn[i].fd = t;
	}
	return FE_OK;
}

/* Bind TLS listen address @i for every worker: TCP only, the same SO_REUSEPORT scheme
 * (worker 0 first, port 0 picks one for all). */
static int bind_tls_listener(struct fe_server *srv, size_t i)
{
	const struct fe_listen_addr *la = &srv->tls_listen[i];
	struct sockaddr_storage ss;
	socklen_t len;
	bool wildcard;
	if (to_sockaddr(la, la->port, &ss, &len, &wildcard)) {
		fe_log_err("tls-listen %s@%u: not a numeric IPv4 or IPv6 address", la->host,
		           la->port);
		return FE_EIO;
	}
	int e = la->port ? probe_free(&ss, len, SOCK_STREAM) : 0;
	int t = e ? e : bound_socket(&ss, len, SOCK_STREAM, wildcard);
	if (t < 0) {
		fe_log_err("cannot bind tls %s@%u: %s%s", la->host, la->port, strerror(-t),
		           bind_hint(-t, la->port));
		return FE_EIO;
	}
	srv->workers[0].tls_lsn[i].fd = t;
	srv->tls_ports[i] = bound_port(t);
	set_port(&ss, srv->tls_ports[i]);
	for (unsigned k = 1; k < srv->nworkers; k++) {
		t = bound_socket(&ss, len, SOCK_STREAM, wildcard);
		if (t < 0) {
			fe_log_err("cannot bind tls %s@%u for worker %u: %s", la->host,
			           srv->tls_ports[i], k, strerror(-t));
			return FE_EIO;
		}
		srv->workers[k].tls_lsn[i].fd = t;
	}
	return FE_OK;
}

/* ---- workers ---------------------------------------------------------------------- */

static void close_walk_cb(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void on_drain_timeout(uv_timer_t *t)
{
	struct fe__worker *w = t->data;
	fe__tcp_abort_all(w);
	if (!uv_is_closing((uv_handle_t *)t))
		uv_close((uv_handle_t *)t, NULL);
}

static void on_stop(uv_async_t *a)
{
	struct fe__worker *w = a->data;
	w->stopping = true;
	for (size_t i = 0; i < w->srv->listen_count; i++) {
		if (!uv_is_closing((uv_handle_t *)&w->udp[i].poll))
			uv_close((uv_handle_t *)&w->udp[i].poll, NULL);
		if (!uv_is_closing((uv_handle_t *)&w->lsn[i].tcp))
			uv_close((uv_handle_t *)&w->lsn[i].tcp, NULL);
	}
	for (size_t i = 0; i < w->srv->tls_listen_count; i++)
		if (!uv_is_closing((uv_handle_t *)&w->tls_lsn[i].tcp))
			uv_close((uv_handle_t *)&w->tls_lsn[i].tcp, NULL);
	uv_close((uv_handle_t *)&w->stop_async, NULL);
	/* On-demand answers handed back by now are sent; later ones are only released. */
	fe__resume_drain(w);
	uv_mutex_lock(&w->resume_mu);
	w->resume_closed = true;
	uv_mutex_unlock(&w->resume_mu);
	if (w->resume_async.data)
		uv_close((uv_handle_t *)&w->resume_async, NULL);
	fe__tcp_drain(w);
	if (w->conns)
		uv_timer_start(&w->drain_timer, on_drain_timeout, w->srv->drain_ms, 0);
	else if (!uv_is_closing((uv_handle_t *)&w->drain_timer))
		uv_close((uv_handle_t *)&w->drain_timer, NULL);
}

static void on_resume(uv_async_t *a)
{
	fe__resume_drain(a->data);
}

/* Runs in the worker thread: wrap the bound sockets into handles on this thread's loop. */
static int worker_setup(struct fe__worker *w)
{
	struct fe_server *srv = w->srv;
	int rc = fe_store_reader_create(srv->st, &w->reader);
	if (rc) {
		fe_log_err("worker %u: cannot create a store reader: %s", w->id, fe_strerror(rc));
		return rc;
	}
	w->actx.reader = w->reader;
	w->actx.opts = &srv->opts.answer;
	w->actx.counters = w->counters;
	int uvrc = uv_async_init(&w->loop, &w->stop_async, on_stop);
	if (uvrc)
		goto out_uv;
	w->stop_async.data = w;
	uvrc = uv_async_init(&w->loop, &w->resume_async, on_resume);
	if (uvrc)
		goto out_uv;
	w->resume_async.data = w;
	uvrc = uv_timer_init(&w->loop, &w->drain_timer);
	if (uvrc)
		goto out_uv;
	w->drain_timer.data = w;
	for (size_t i = 0; i < srv->listen_count; i++) {
		struct fe__udp *u = &w->udp[i];
		u->w = w;
		uvrc = uv_poll_init(&w->loop, &u->poll, u->fd);
		if (uvrc)
			goto out_uv;
		u->poll.data = u;
		uvrc = uv_poll_start(&u->poll, UV_READABLE, fe__udp_on_readable);
		if (uvrc)
			goto out_uv;

		struct fe__listener *l = &w->lsn[i];
		l->w = w;
		uvrc = uv_tcp_init(&w->loop, &l->tcp);
		if (uvrc)
			goto out_uv;
		l->tcp.data = l;
		uvrc = uv_tcp_open(&l->tcp, l->fd);
		if (uvrc)
			goto out_uv;
		l->fd = -1; /* the handle owns it now */
		uvrc = uv_listen((uv_stream_t *)&l->tcp, FE__TCP_BACKLOG, fe__tcp_on_connection);
		if (uvrc)
			goto out_uv;
	}
	for (size_t i = 0; i < srv->tls_listen_count; i++) {
		struct fe__listener *l = &w->tls_lsn[i];
		l->w = w;
		uvrc = uv_tcp_init(&w->loop, &l->tcp);
		if (uvrc)
			goto out_uv;
		l->tcp.data = l;
		uvrc = uv_tcp_open(&l->tcp, l->fd);
		if (uvrc)
			goto out_uv;
		l->fd = -1;
		uvrc = uv_listen((uv_stream_t *)&l->tcp, FE__TCP_BACKLOG, fe__tls_on_connection);
		if (uvrc)
			goto out_uv;
	}
	return FE_OK;
out_uv:
	fe_log_err("worker %u: event loop setup failed: %s", w->id, uv_strerror(uvrc));
	return FE_EIO;
}

static void worker_main(void *arg)
{
	struct fe__worker *w = arg;
	w->start_err = worker_setup(w);
	bool ok = w->start_err == FE_OK;
	uv_sem_post(&w->started);
	if (ok)
		uv_run(&w->loop, UV_RUN_DEFAULT);
	/* Setup failed or the loop ran dry after on_stop: close anything left, let the close
	 * callbacks run, then free what the handles used. */
	uv_walk(&w->loop, close_walk_cb, NULL);
	uv_run(&w->loop, UV_RUN_DEFAULT);
	fe__tcp_abort_all(w);
	uv_run(&w->loop, UV_RUN_DEFAULT);
	/* Tickets never resumed before the stop: their connections are closed by now. */
	fe__resume_release_all(w);
	fe_store_reader_destroy(w->reader);
	w->reader = NULL;
}

static int worker_alloc(struct fe__worker *w, struct fe_server *srv, unsigned id)
{
	w->srv = srv;
	w->id = id;
	w->udp = calloc(srv->listen_count, sizeof(*w->udp));
	w->lsn = calloc(srv->listen_count, sizeof(*w->lsn));
	w->rbuf = malloc((size_t)FE__UDP_BATCH * FE__UDP_RECV_BYTES);
	w->sbuf = malloc((size_t)FE__UDP_BATCH * FE__UDP_SEND_BYTES);
	w->tcp_resp = malloc(FE__TCP_MSG_MAX);
	if (!w->udp || !w->lsn || !w->rbuf || !w->sbuf || !w->tcp_resp)
		return FE_ENOMEM;
	if (srv->tls_listen_count) {
		w->tls_lsn = calloc(srv->tls_listen_count, sizeof(*w->tls_lsn));
		w->tls_rbuf = malloc(FE__TLS_READ);
		if (!w->tls_lsn || !w->tls_rbuf)
			return FE_ENOMEM;
		for (size_t i = 0; i < srv->tls_listen_count; i++)
			w->tls_lsn[i].fd = -1;
	}
	for (size_t i = 0; i < srv->listen_count; i++) {
		w->udp[i].fd = -1;
		w->lsn[i].fd = -1;
	}
	if (uv_mutex_init(&w->resume_mu) != 0)
		return FE_ENOMEM;
	w->resume_mu_ready = true;
	if (uv_loop_init(&w->loop) != 0)
		return FE_ENOMEM;
	w->loop_ready = true;
	if (uv_sem_init(&w->started, 0) != 0) {
		uv_loop_close(&w->loop);
		w->loop_ready = false;
		return FE_ENOMEM;
	}
	return FE_OK;
}

static void worker_free(struct fe__worker *w)
{
	if (w->udp) {
		for (size_t i = 0; i < w->srv->listen_count; i++) {
			close_fd(&w->udp[i].fd);
			close_fd(&w->lsn[i].fd);
		}
	}
	if (w->loop_ready) {
		uv_loop_close(&w->loop);
		uv_sem_destroy(&w->started);
	}
	if (w->resume_mu_ready) {
		uv_mutex_destroy(&w->resume_mu);
		w->resume_mu_ready = false;
	}
	free(w->udp);
	free(w->lsn);
	if (w->tls_lsn)
		for (size_t i = 0; i < w->srv->tls_listen_count; i++)
			close_fd(&w->tls_lsn[i].fd);
	free(w->tls_lsn);
	free(w->tls_rbuf);
	free(w->rbuf);
	free(w->sbuf);
	free(w->tcp_resp);
}

static void free_server(struct fe_server *srv)
{
	if (!srv)
		return;
	if (srv->workers) {
		for (unsigned k = 0; k < srv->nworkers; k++)
			worker_free(&srv->workers[k]);
	}
	free(srv->workers);
	free(srv->listen);
	free(srv->ports);
	free(srv->tls_listen);
	free(srv->tls_ports);
	fe__tls_ctx_free(srv->tls_ctx);
	free(srv->ready_file);
	free(srv);
}

int fe_server_write_ready_file(struct fe_server *srv, const char *path)
{
	char tmp[4096];
	int n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return FE_EINVAL;
	FILE *f = fopen(tmp, "w");
	if (!f) {
		fe_log_err("cannot write the ready file %s: %s", tmp, strerror(errno));
		return FE_EIO;
	}
	for (size_t i = 0; i < srv->listen_count; i++)
		fprintf(f, "udp %s %u\ntcp %s %u\n", srv->listen[i].host, srv->ports[i],
		        srv->listen[i].host, srv->ports[i]);
	for (size_t i = 0; i < srv->tls_listen_count; i++)
		fprintf(f, "tls %s %u\n", srv->tls_listen[i].host, srv->tls_ports[i]);
	bool bad = ferror(f) != 0;
	if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
		fe_log_err("cannot write the ready file %s: %s", path, strerror(errno));
		unlink(tmp);
		return FE_EIO;
	}
	return FE_OK;
}

static void stop_workers(struct fe_server *srv)
{
	for (unsigned k = 0; k < srv->nworkers; k++) {
		struct fe__worker *w = &srv->workers[k];
		if (w->thread_started && w->start_err == FE_OK)
			uv_async_send(&w->stop_async);
	}
	for (unsigned k = 0; k < srv->nworkers; k++) {
		struct fe__worker *w = &srv->workers[k];
		if (w->thread_started) {
			uv_thread_join(&w->thread);
			w->thread_started = false;
		}
	}
}

int fe_server_start(struct fe_store *st, const struct fe_server_opts *opts, struct fe_server **out)
{
	int rc = FE_OK;
	*out = NULL;
	if (!st || !opts || !opts->listen_count)
		return FE_EINVAL;
	struct fe_server *srv = calloc(1, sizeof(*srv));
	if (!srv)
		return FE_ENOMEM;
	srv->st = st;
	srv->opts = *opts;
	srv->listen_count = opts->listen_count;
	srv->listen = calloc(opts->listen_count, sizeof(*srv->listen));
	srv->ports = calloc(opts->listen_count, sizeof(*srv->ports));
	if (!srv->listen || !srv->ports) {
		rc = FE_ENOMEM;
		goto out_free;
	}
	memcpy(srv->listen, opts->listen, opts->listen_count * sizeof(*srv->listen));
	srv->opts.listen = srv->listen;
	if (opts->tls_listen_count) {
		srv->tls_listen_count = opts->tls_listen_count;
		srv->tls_listen = calloc(opts->tls_listen_count, sizeof(*srv->tls_listen));
		srv->tls_ports = calloc(opts->tls_listen_count, sizeof(*srv->tls_ports));
		if (!srv->tls_listen || !srv->tls_ports) {
			rc = FE_ENOMEM;
			goto out_free;
		}
		memcpy(srv->tls_listen, opts->tls_listen,
		       opts->tls_listen_count * sizeof(*srv->tls_listen));
		rc = fe__tls_ctx_create(opts, &srv->tls_ctx);
		if (rc)
			goto out_free;
	}
	srv->opts.tls_listen = srv->tls_listen;
	srv->opts.tls_listen_count = srv->tls_listen_count;
	/* The files were read into the context: the paths are not kept. */
	srv->opts.tls_cert = srv->opts.tls_key = srv->opts.tls_client_ca = NULL;
	if (opts->ready_file) {
		srv->ready_file = strdup(opts->ready_file);
		if (!srv->ready_file) {
			rc = FE_ENOMEM;
			goto out_free;
		}
	}
	srv->opts.ready_file = srv->ready_file;
	if (!srv->opts.tcp_idle_timeout_ms)
		srv->opts.tcp_idle_timeout_ms = 10000;
	if (!srv->opts.tls_handshake_timeout_ms)
		srv->opts.tls_handshake_timeout_ms = srv->opts.tcp_idle_timeout_ms;
	if (!srv->opts.tcp_max_clients)
		srv->opts.tcp_max_clients = 1000;
	if (!srv->opts.tcp_max_pipeline)
		srv->opts.tcp_max_pipeline = 100;
	if (!srv->opts.tcp_max_out_bytes)
		srv->opts.tcp_max_out_bytes = 256u * 1024u;
	/* Room for at least one largest answer, or a big answer could never be sent. */
	if (srv->opts.tcp_max_out_bytes < 2u * FE__TCP_MSG_MAX)
		srv->opts.tcp_max_out_bytes = 2u * FE__TCP_MSG_MAX;
	if (!srv->opts.answer.udp_max)
		srv->opts.answer.udp_max = FE_WIRE_UDP_DEFAULT;
	if (srv->opts.answer.udp_max > FE__UDP_SEND_BYTES)
		srv->opts.answer.udp_max = FE__UDP_SEND_BYTES;
	if (srv->opts.answer.udp_max < FE_WIRE_UDP_MIN)
		srv->opts.answer.udp_max = FE_WIRE_UDP_MIN;
	srv->nworkers = opts->workers ? opts->workers : uv_available_parallelism();
	if (srv->nworkers == 0)
		srv->nworkers = 1;
	srv->drain_ms = 0;
	srv->workers = calloc(srv->nworkers, sizeof(*srv->workers));
	if (!srv->workers) {
		rc = FE_ENOMEM;
		goto out_free;
	}
	for (unsigned k = 0; k < srv->nworkers; k++) {
		rc = worker_alloc(&srv->workers[k], srv, k);
		if (rc)
			goto out_free;
	}
	for (size_t i = 0; i < srv->listen_count; i++) {
		rc = bind_listener(srv, i);
		if (rc)
			goto out_free;
	}
	for (size_t i = 0; i < srv->tls_listen_count; i++) {
		rc = bind_tls_listener(srv, i);
		if (rc)
			goto out_free;
	}
	for (unsigned k = 0; k < srv->nworkers; k++) {
		struct fe__worker *w = &srv->workers[k];
		if (uv_thread_create(&w->thread, worker_main, w) != 0) {
			fe_log_err("cannot start worker thread %u", k);
			rc = FE_ENOMEM;
			goto out_stop;
		}
		w->thread_started = true;
		uv_sem_wait(&w->started);
		if (w->start_err) {
			rc = FE_EIO;
			goto out_stop;
		}
	}
	if (srv->ready_file) {
		rc = fe_server_write_ready_file(srv, srv->ready_file);
		if (rc)
			goto out_stop;
	}
	*out = srv;
	return FE_OK;
out_stop:
	stop_workers(srv);
out_free:
	free_server(srv);
	return rc;
}

void fe_server_stop(struct fe_server *srv, uint32_t drain_ms)
{
	if (!srv)
		return;
	srv->drain_ms = drain_ms;
	stop_workers(srv);
	free_server(srv);
}

static void add_counters(const struct fe__worker *w, uint64_t *out)
{
	for (unsigned c = 0; c < FE_CNT__MAX; c++)
		out[c] += fe_counter_get(w->counters, (enum fe_counter)c);
}

void fe_server_counters(struct fe_server *srv, uint64_t *out)
{
	memset(out, 0, FE_CNT__MAX * sizeof(*out));
	for (unsigned k = 0; k < srv->nworkers; k++)
		add_counters(&srv->workers[k], out);
}

void fe_server_worker_counters(struct fe_server *srv, unsigned i, uint64_t *out)
{
	memset(out, 0, FE_CNT__MAX * sizeof(*out));
	if (i < srv->nworkers)
		add_counters(&srv->workers[i], out);
}

unsigned fe_server_workers(struct fe_server *srv)
{
	return srv->nworkers;
}

size_t fe__server_tcp_mem_peak(struct fe_server *srv)
{
	size_t peak = 0;
	for (unsigned k = 0; k < srv->nworkers; k++) {
		size_t p = __atomic_load_n(&srv->workers[k].tcp_mem_peak, __ATOMIC_RELAXED);
		if (p > peak)
			peak = p;
	}
	return peak;
}

uint16_t fe_server_port(struct fe_server *srv, size_t i)
{
	return i < srv->listen_count ? srv->ports[i] : 0;
}

uint16_t fe_server_tls_port(struct fe_server *srv, size_t i)
{
	return i < srv->tls_listen_count ? srv->tls_ports[i] : 0;
}
