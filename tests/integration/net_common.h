/* tests/integration/net_common.h — helpers shared by test_net_*.c and test_daemon_*.c:
 * config files in a temp dir, counters read from a running fedenumd (SIGUSR1 log line),
 * raw DNS messages. Header-only (static inline) so that each test binary stays one file. */
#ifndef FE_TEST_NET_COMMON_H
#define FE_TEST_NET_COMMON_H

#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fe_test.h"
#include "fedenum/util.h"

#define NET_ZONE  FE_TEST_SRC "/tests/integration/data/net.test.zone"
#define NET_NAPTR "1.0.0.0.0.0.1.net.test."

static inline uint64_t nc_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static inline void nc_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static inline void nc_write_file(const char *path, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static inline void nc_write_file(const char *path, const char *fmt, ...)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "cannot write %s", path);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	cr_assert_eq(fclose(f), 0);
}

/* A federation with one registry member serving net.test. from the fixture, admitting
 * @clients (a libconfig array body, e.g. "\"127.0.0.0/8\""), and a fedenumd.conf with the
 * extra @server settings (libconfig group body). Writes <dir>/fedenumd.conf. */
static inline void nc_write_config(const char *dir, const char *clients, const char *server)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/federation.conf", dir);
	nc_write_file(
	        path,
	        "name = \"net-test\";\n"
	        "clients = [%s];\n"
	        "members = ( { name = \"registry\"; role = \"registry\"; } );\n"
	        "zones = ( { apex = \"net.test.\"; member = \"registry\"; file = \"%s\"; } );\n",
	        clients, NET_ZONE);
	snprintf(path, sizeof(path), "%s/fedenumd.conf", dir);
	nc_write_file(path,
	              "federation = \"federation.conf\";\n"
	              "server: { %s };\n"
	              "log: { level = \"info\"; };\n",
	              server);
}

/* Start fedenumd with <dir>/fedenumd.conf (written by nc_write_config) plus @extra args. */
static inline void nc_start_config(struct fe_test_daemon *d, const char *dir,
                                   const char *const *extra)
{
	char conf[512];
	snprintf(conf, sizeof(conf), "%s/fedenumd.conf", dir);
	const char *argv[32] = {"-c", conf};
	size_t n = 2;
	for (size_t i = 0; extra && extra[i] && n < 31; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	cr_assert_eq(fe_test_daemon_start(d, dir, argv), 0, "fedenumd did not start");
}

/* Value of counter @name from a fresh SIGUSR1 dump ("counters (SIGUSR1): a=1 b=2 ..."). */
static inline long long nc_counter(struct fe_test_daemon *d, const char *name)
{
	int before = fe_test_daemon_log_count(d, "counters (SIGUSR1): ");
	cr_assert_eq(kill(d->pid, SIGUSR1), 0);
	for (int i = 0; i < 250 && fe_test_daemon_log_count(d, "counters (SIGUSR1): ") <= before;
	     i++)
		nc_sleep_ms(20);
	long long v = fe_test_log_counter(d->log_path, "counters (SIGUSR1): ", name);
	cr_assert_geq(v, 0, "no counter %s in the last SIGUSR1 dump of %s", name, d->log_path);
	return v;
}

/* Per-worker query count from the same dump ("worker N: queries=Q ..."). */
/* Send the UDP message @q from source address @src (a loopback address of a view) to @d;
 * the answer into @a (its length returned; no answer within 2 s fails the test). */
static inline size_t nc_udp_from(struct fe_test_daemon *d, const char *src, const uint8_t *q,
                                 size_t n, uint8_t *a, size_t cap)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	inet_pton(AF_INET, src, &sa.sin_addr);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "bind %s", src);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(d->port)};
	inet_pton(AF_INET, d->host, &to.sin_addr);
	cr_assert_eq(sendto(fd, q, n, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)n);
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	cr_assert_eq(poll(&pfd, 1, 2000), 1, "no answer to %s", src);
	ssize_t r = recv(fd, a, cap, 0);
	close(fd);
	cr_assert_gt(r, 12);
	return (size_t)r;
}

/* SIGHUP @d and wait (up to 10 s) for the reload's outcome in its log ("reload done" or
 * "reload refused"). */
static inline void nc_reload(struct fe_test_daemon *d)
{
	int before = fe_test_daemon_log_count(d, "reload done") +
	             fe_test_daemon_log_count(d, "reload refused");
	cr_assert_eq(kill(d->pid, SIGHUP), 0);
	for (int i = 0; i < 500; i++) {
		if (fe_test_daemon_log_count(d, "reload done") +
		            fe_test_daemon_log_count(d, "reload refused") >
		    before)
			return;
		nc_sleep_ms(20);
	}
	cr_assert_fail("no reload outcome in the log");
}

/* Policy counter @name ("no-view", "hidden", "not-found/bgcf", ...) from a fresh SIGUSR1
 * dump's "counters (SIGUSR1) policy: ..." line; -1 when it is not there. */
static inline long long nc_policy_counter(struct fe_test_daemon *d, const char *name)
{
	(void)nc_counter(d, "queries"); /* a fresh SIGUSR1 dump */
	return fe_test_log_counter(d->log_path, "counters (SIGUSR1) policy: ", name);
}

static inline long long nc_worker_queries(struct fe_test_daemon *d, unsigned worker)
{
	(void)nc_counter(d, "queries");
	FILE *f = fopen(d->log_path, "r");
	cr_assert_not_null(f);
	char line[4096], key[64];
	long long v = -1;
	snprintf(key, sizeof(key), "counters (SIGUSR1) worker %u: queries=", worker);
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, key);
		if (p)
			v = atoll(p + strlen(key));
	}
	fclose(f);
	return v;
}

/* Port of the "udp ::1 PORT" line of the daemon's ready file (0 if none). */
static inline uint16_t nc_ready_port(const struct fe_test_daemon *d, const char *proto,
                                     const char *host)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/ready", d->dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	char p[8], h[64];
	unsigned port;
	uint16_t found = 0;
	while (fscanf(f, "%7s %63s %u", p, h, &port) == 3)
		if (strcmp(p, proto) == 0 && strcmp(h, host) == 0)
			found = (uint16_t)port;
	fclose(f);
	return found;
}

static inline unsigned nc_rcode(const uint8_t *msg)
{
	return msg[3] & 0x0fu;
}

/* RSS of @pid in KiB (from /proc). */
static inline long nc_rss_kb(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long kb = -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = atol(line + 6);
	fclose(f);
	return kb;
}

/* Run `sh -c @cmd` with stdout and stderr into <dir>/run.out, read back into @out (NUL
 * terminated). Returns the exit status (fe_test_sh). */
static inline int nc_run(const char *dir, char *out, size_t cap, const char *cmd)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/run.out", dir);
	int st = fe_test_sh("%s >'%s' 2>&1", cmd, path);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	size_t n = fread(out, 1, cap - 1, f);
	out[n] = '\0';
	fclose(f);
	return st;
}

/* `fedenumctl @args` through nc_run. */
static inline int nc_ctl(const char *dir, const char *args, char *out, size_t cap)
{
	char cmd[8192];
	snprintf(cmd, sizeof(cmd), "%s %s", FE_TEST_FEDENUMCTL, args);
	return nc_run(dir, out, cap, cmd);
}

/* A framed (2-byte length) query for TCP into @out; returns the total length. */
static inline size_t nc_tcp_query(const char *name, uint16_t type, uint16_t id, uint8_t *out,
                                  size_t cap)
{
	size_t n = fe_test_make_query(name, type, 0, 0, out + 2, cap - 2);
	cr_assert_gt(n, 0);
	out[2] = (uint8_t)(id >> 8);
	out[3] = (uint8_t)id;
	out[0] = (uint8_t)(n >> 8);
	out[1] = (uint8_t)n;
	return n + 2;
}

/* TCP connection to 127.0.0.1:@port whose receive buffer is @rcvbuf bytes, set before the
 * handshake so the window is small from the start (a client that reads little). */
static inline int nc_tcp_connect_rcvbuf(uint16_t port, int rcvbuf)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect: %s",
	             strerror(errno));
	return fd;
}

/* Send what the kernel takes of @buf without blocking, for up to @ms. Returns bytes sent. */
static inline size_t nc_send_some(int fd, const uint8_t *buf, size_t len, int ms)
{
	size_t off = 0;
	uint64_t deadline = nc_now_ms() + (uint64_t)ms;
	while (off < len && nc_now_ms() < deadline) {
		ssize_t w = send(fd, buf + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0)
			off += (size_t)w;
		else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			break;
		else
			nc_sleep_ms(10);
	}
	return off;
}

#endif
