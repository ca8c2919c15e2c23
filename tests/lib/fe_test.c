/* Shared test helpers: temp dirs, a real fedenumd on loopback, an ldns-based DNS client. */
#include "fe_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

void fe_test_mkdtemp(char *out, size_t cap)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(out, cap, "%s/fedenum-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(out)) {
		perror("mkdtemp");
		abort();
	}
}

void fe_test_rmdir(const char *path)
{
	if (!path || !*path || strstr(path, "fedenum-test-") == NULL)
		return; /* refuse to remove anything we did not create */
	fe_test_sh("rm -rf '%s'", path);
}

int fe_test_sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return -1;
	fflush(stdout);
	fflush(stderr);
	int st = system(cmd);
	if (st == -1)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void print_log(const struct fe_test_daemon *d)
{
	fprintf(stderr, "---- fedenumd log (%s) ----\n", d->log_path);
	fe_test_sh("tail -n 60 '%s' >&2", d->log_path);
	fprintf(stderr, "---- end of log ----\n");
}

/* Parse the ready file: "udp HOST PORT" lines; the port of @want's UDP listener. */
static bool read_ready(struct fe_test_daemon *d, const char *path, const char *want)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	char proto[8], host[64];
	unsigned port;
	bool ok = false;
	while (fscanf(f, "%7s %63s %u", proto, host, &port) == 3) {
		if (strcmp(proto, "udp") == 0 && strcmp(host, want) == 0) {
			snprintf(d->host, sizeof(d->host), "%s", host);
			d->port = (uint16_t)port;
			ok = true;
		}
	}
	fclose(f);
	return ok;
}

int fe_test_daemon_start(struct fe_test_daemon *d, const char *dir, const char *const *argv)
{
	return fe_test_daemon_start_at(d, dir, NULL, argv);
}

int fe_test_daemon_start_at(struct fe_test_daemon *d, const char *dir, const char *listen,
                            const char *const *argv)
{
	memset(d, 0, sizeof(*d));
	if (dir) {
		snprintf(d->dir, sizeof(d->dir), "%s", dir);
		mkdir(d->dir, 0755);
	} else {
		fe_test_mkdtemp(d->dir, sizeof(d->dir));
		d->owns_dir = true;
	}
	char db[300], ready[300];
	snprintf(db, sizeof(db), "%s/db", d->dir);
	snprintf(ready, sizeof(ready), "%s/ready", d->dir);
	snprintf(d->log_path, sizeof(d->log_path), "%s/fedenumd.log", d->dir);
	unlink(ready);

	/* @listen replaces 127.0.0.1@0; its address is the one reported in host/port */
	char want[64] = "127.0.0.1";
	if (listen) {
		snprintf(want, sizeof(want), "%s", listen);
		char *at = strrchr(want, '@');
		if (at)
			*at = '\0';
	}
	const char *args[128];
	size_t n = 0;
	args[n++] = FE_TEST_FEDENUMD;
	args[n++] = "--listen";
	args[n++] = listen ? listen : "127.0.0.1@0";
	args[n++] = "--db";
	args[n++] = db;
	args[n++] = "--ready-file";
	args[n++] = ready;
	/* The control socket in the test's folder, not at the built-in /run/fedenum default
	 * (unless the test names its own). */
	char control[300];
	bool has_control = false;
	for (size_t i = 0; argv && argv[i]; i++)
		has_control |= strcmp(argv[i], "--control") == 0;
	if (!has_control) {
		snprintf(control, sizeof(control), "%s/control.sock", d->dir);
		args[n++] = "--control";
		args[n++] = control;
	}
	for (size_t i = 0; argv && argv[i] && n < (sizeof(args) / sizeof(args[0])) - 1; i++)
		args[n++] = argv[i];
	args[n] = NULL;

	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(d->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		execv(args[0], (char *const *)args);
		_exit(127);
	}
	d->pid = pid;
	for (int i = 0; i < 120 * 50; i++) {
		if (read_ready(d, ready, want))
			return 0;
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			d->pid = 0;
			fprintf(stderr, "fedenumd exited early (status %d)\n", st);
			print_log(d);
			return -1;
		}
		sleep_ms(20);
	}
	fprintf(stderr, "fedenumd not ready after 120 s\n");
	print_log(d);
	fe_test_daemon_kill9(d);
	return -1;
}

int fe_test_daemon_stop(struct fe_test_daemon *d)
{
	int rc = -1;
	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		for (int i = 0; i < 500; i++) {
			int st;
			pid_t w = waitpid(d->pid, &st, WNOHANG);
			if (w == d->pid) {
				rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
				d->pid = 0;
				break;
			}
			sleep_ms(20);
		}
		if (d->pid > 0) {
			fprintf(stderr, "fedenumd did not exit on SIGTERM within 10 s\n");
			print_log(d);
			fe_test_daemon_kill9(d);
		}
	}
	if (d->owns_dir)
		fe_test_rmdir(d->dir);
	return rc;
}

void fe_test_daemon_kill9(struct fe_test_daemon *d)
{
	if (d->pid > 0) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
		d->pid = 0;
	}
}

bool fe_test_daemon_alive(struct fe_test_daemon *d)
{
	if (d->pid <= 0)
		return false;
	int st;
	if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
		d->pid = 0;
		return false;
	}
	return kill(d->pid, 0) == 0;
}

int fe_test_daemon_log_count(struct fe_test_daemon *d, const char *needle)
{
	FILE *f = fopen(d->log_path, "r");
	if (!f)
		return 0;
	char line[4096];
	int count = 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			count++;
	fclose(f);
	return count;
}

pid_t fe_test_spawn(const char *log, const char *const *argv)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	execvp(argv[0], (char *const *)argv);
	char p[64];
	snprintf(p, sizeof(p), "/usr/sbin/%s", argv[0]);
	execv(p, (char *const *)argv);
	_exit(127);
}

void fe_test_nsd_conf_server(FILE *f, uint16_t port, const char *dir, const char *extra)
{
	fprintf(f,
	        "server:\n    ip-address: 127.0.0.1\n    port: %u\n    zonesdir: \"%s\"\n"
	        "    database: \"\"\n    zonelistfile: \"%s/zone.list\"\n"
	        "    xfrdfile: \"%s/xfrd.state\"\n    xfrdir: \"%s\"\n    pidfile: \"%s/nsd.pid\"\n"
	        "    logfile: \"%s/nsd.log\"\n    username: \"\"\n    chroot: \"\"\n"
	        "    verbosity: 2\n    server-count: 1\n%s"
	        "remote-control:\n    control-enable: no\n",
	        port, dir, dir, dir, dir, dir, dir, extra ? extra : "");
}

void fe_test_stop_pid(pid_t *pid)
{
	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	for (int i = 0; i < 100 && waitpid(*pid, NULL, WNOHANG) == 0; i++)
		usleep(50000);
	kill(*pid, SIGKILL);
	waitpid(*pid, NULL, 0);
	*pid = -1;
}

bool fe_test_daemon_wait_log(struct fe_test_daemon *d, const char *needle, int n, int wait_s)
{
	for (int i = 0; i < wait_s * 10; i++) {
		if (fe_test_daemon_log_count(d, needle) >= n)
			return true;
		usleep(100000);
	}
	return false;
}

bool fe_test_wait_answer(uint16_t port, const char *name, const char *type, const char *expect,
                         int wait_s)
{
	for (int i = 0; i < wait_s * 4; i++) {
		if (fe_test_sh("kdig @127.0.0.1 -p %u +short +timeout=1 +retry=0 %s %s 2>/dev/null "
		               "| grep -q -- '%s'",
		               port, name, type, expect) == 0)
			return true;
		usleep(250000);
	}
	return false;
}

int fe_test_write_tsig_key(const char *path, const char *name, const char *secret)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "key \"%s\" {\n\talgorithm hmac-sha256;\n\tsecret \"%s\";\n};\n", name, secret);
	return fclose(f) == 0 ? 0 : -1;
}

size_t fe_test_make_query(const char *name, uint16_t type, unsigned flags, uint16_t bufsize,
                          uint8_t *out, size_t cap)
{
	ldns_pkt *q = NULL;
	if (ldns_pkt_query_new_frm_str(&q, name, (ldns_rr_type)type, LDNS_RR_CLASS_IN, 0) !=
	    LDNS_STATUS_OK)
		return 0;
	ldns_pkt_set_id(q, (uint16_t)(rand() & 0xffff));
	if (!(flags & FE_TQ_NOEDNS)) {
		ldns_pkt_set_edns_udp_size(q, bufsize ? bufsize : 1232);
		ldns_pkt_set_edns_do(q, (flags & FE_TQ_DO) != 0);
	}
	if (flags & FE_TQ_CD)
		ldns_pkt_set_cd(q, true);
	uint8_t *wire = NULL;
	size_t len = 0;
	size_t rc = 0;
	if (ldns_pkt2wire(&wire, q, &len) == LDNS_STATUS_OK && len <= cap) {
		memcpy(out, wire, len);
		rc = len;
	}
	free(wire);
	ldns_pkt_free(q);
	return rc;
}

static int udp_socket_to(const char *host, uint16_t port, struct sockaddr_storage *ss,
                         socklen_t *sl)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	int fam;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		*sl = sizeof(*in4);
		fam = AF_INET;
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*sl = sizeof(*in6);
		fam = AF_INET6;
	} else {
		return -1;
	}
	return fam;
}

ssize_t fe_test_udp_raw(const char *host, uint16_t port, const uint8_t *req, size_t len,
                        uint8_t *resp, size_t cap, int timeout_ms)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fam = udp_socket_to(host, port, &ss, &sl);
	if (fam < 0)
		return -1;
	int fd = socket(fam, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	ssize_t rc = -1;
	if (connect(fd, (struct sockaddr *)&ss, sl) != 0)
		goto out;
	if (send(fd, req, len, 0) != (ssize_t)len)
		goto out;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int pr = poll(&p, 1, timeout_ms);
	if (pr == 0) {
		rc = 0;
		goto out;
	}
	if (pr < 0)
		goto out;
	rc = recv(fd, resp, cap, 0);
out:
	close(fd);
	return rc;
}

int fe_test_tcp_connect(const char *host, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fam = udp_socket_to(host, port, &ss, &sl);
	if (fam < 0)
		return -1;
	int fd = socket(fam, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int fe_test_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Read exactly @len bytes before @deadline (monotonic ms). 1 ok, 0 closed, -1 timeout/error. */
static int read_exact(int fd, uint8_t *buf, size_t len, uint64_t deadline_ms)
{
	size_t got = 0;
	while (got < len) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t now = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
		if (now >= deadline_ms)
			return -1;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int pr = poll(&p, 1, (int)(deadline_ms - now));
		if (pr <= 0)
			return -1;
		ssize_t r = recv(fd, buf + got, len - got, 0);
		if (r == 0)
			return 0;
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return errno == ECONNRESET ? 0 : -1;
		}
		got += (size_t)r;
	}
	return 1;
}

ssize_t fe_test_tcp_read_msg(int fd, uint8_t *buf, size_t cap, int timeout_ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t deadline = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u +
	                    (uint64_t)timeout_ms;
	uint8_t lenbuf[2];
	int r = read_exact(fd, lenbuf, 2, deadline);
	if (r <= 0)
		return r;
	size_t mlen = ((size_t)lenbuf[0] << 8) | lenbuf[1];
	if (mlen > cap)
		return -1;
	r = read_exact(fd, buf, mlen, deadline);
	if (r <= 0)
		return r == 0 ? -1 : r;
	return (ssize_t)mlen;
}

bool fe_test_wait_closed(int fd, int timeout_ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t deadline = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u +
	                    (uint64_t)timeout_ms;
	uint8_t buf[4096];
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t now = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
		if (now >= deadline)
			return false;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int pr = poll(&p, 1, (int)(deadline - now));
		if (pr <= 0)
			return false;
		ssize_t r = recv(fd, buf, sizeof(buf), 0);
		if (r == 0)
			return true;
		if (r < 0 && errno != EINTR && errno != EAGAIN)
			return errno == ECONNRESET;
	}
}

ldns_pkt *fe_test_query(const char *host, uint16_t port, const char *name, uint16_t type,
                        unsigned flags, uint16_t bufsize)
{
	uint8_t req[512];
	size_t qlen = fe_test_make_query(name, type, flags, bufsize, req, sizeof(req));
	if (!qlen)
		return NULL;
	static uint8_t resp[65536];
	ssize_t rlen;
	if (flags & FE_TQ_TCP) {
		int fd = fe_test_tcp_connect(host, port);
		if (fd < 0)
			return NULL;
		uint8_t msg[514];
		msg[0] = (uint8_t)(qlen >> 8);
		msg[1] = (uint8_t)qlen;
		memcpy(msg + 2, req, qlen);
		rlen = -1;
		if (fe_test_write_all(fd, msg, qlen + 2) == 0)
			rlen = fe_test_tcp_read_msg(fd, resp, sizeof(resp), 2000);
		close(fd);
	} else {
		rlen = fe_test_udp_raw(host, port, req, qlen, resp, sizeof(resp), 2000);
	}
	if (rlen <= 0)
		return NULL;
	ldns_pkt *p = NULL;
	if (ldns_wire2pkt(&p, resp, (size_t)rlen) != LDNS_STATUS_OK)
		return NULL;
	return p;
}

/* The low end of the kernel's ephemeral port range (source ports of outgoing connections). */
static unsigned ephemeral_low(void)
{
	unsigned lo = 32768, hi = 60999;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	if (f) {
		if (fscanf(f, "%u %u", &lo, &hi) != 2)
			lo = 32768;
		fclose(f);
	}
	return lo;
}

/* A port free for TCP and UDP on 127.0.0.1, chosen BELOW the ephemeral range: a port the
 * kernel hands out as a source port could be taken by any outgoing connection between this
 * call and the daemon's bind (or between a daemon's stop and its restart on the same port),
 * which made restarts fail now and then with "Address already in use". */
uint16_t fe_test_free_port(void)
{
	unsigned lo = ephemeral_low();
	unsigned base = lo > 12000 ? 10000 : 0, span = lo > 12000 ? lo - 10000 : 0;
	for (int attempt = 0; attempt < 50; attempt++) {
		struct sockaddr_in a = {.sin_family = AF_INET,
		                        .sin_addr.s_addr = htonl(0x7f000001)};
		if (span) {
			uint32_t r;
			if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
				r = (uint32_t)getpid() * 2654435761u + (uint32_t)attempt;
			a.sin_port = htons((uint16_t)(base + r % span));
		}
		socklen_t al = sizeof(a);
		int t = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0);
		uint16_t port = 0;
		if (t >= 0 && u >= 0 && bind(t, (struct sockaddr *)&a, sizeof(a)) == 0 &&
		    getsockname(t, (struct sockaddr *)&a, &al) == 0 &&
		    bind(u, (struct sockaddr *)&a, sizeof(a)) == 0)
			port = ntohs(a.sin_port);
		if (t >= 0)
			close(t);
		if (u >= 0)
			close(u);
		if (port)
			return port;
	}
	return 0;
}

long long fe_test_log_counter(const char *log_path, const char *marker, const char *name)
{
	FILE *f = fopen(log_path, "r");
	if (!f)
		return -1;
	char line[4096], last[4096] = "";
	while (fgets(line, sizeof(line), f))
		if (strstr(line, marker))
			snprintf(last, sizeof(last), "%s", line);
	fclose(f);
	char key[128];
	snprintf(key, sizeof(key), " %s=", name);
	const char *p = strstr(last, key);
	return p ? atoll(p + strlen(key)) : -1;
}

size_t fe_test_http(uint16_t port, const char *req, char *out, size_t cap)
{
	out[0] = '\0';
	int fd = fe_test_tcp_connect("127.0.0.1", port);
	if (fd < 0)
		return 0;
	fe_test_write_all(fd, req, strlen(req));
	size_t n = 0;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	while (n + 1 < cap && poll(&p, 1, 5000) == 1) {
		ssize_t r = recv(fd, out + n, cap - 1 - n, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	out[n] = '\0';
	close(fd);
	return n;
}

long long fe_test_metric(const char *page, const char *name)
{
	char key[256];
	snprintf(key, sizeof(key), "\n%s ", name);
	const char *p = strstr(page, key);
	return p ? atoll(p + strlen(key)) : -1;
}
