/* TSIG interop with real implementations, no mocks, loopback only:
 *  - requests signed by kdig (Knot DNS) with each algorithm verify with our code, and kdig
 *    accepts the response we sign over its request MAC and the MAC of our signed BADTIME
 *    answer;
 *  - knotd with the key in a transfer ACL accepts our signed AXFR request; its multi-message
 *    answer verifies with our stream verifier (response-MAC chaining, §5.3.1); its BADKEY,
 *    BADSIG and BADTIME answers read as RFC 8945 §5.3.2 says. */
#include "tsig_test_msg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KEY_NAME "peer-xfr.test."
/* 64 random octets; each algorithm uses the same secret */
#define SECRET \
	"BwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QEFCQ0RFRg=="

static char tmp[256];
static pid_t knot_pid = -1;

static void cleanup(void)
{
	if (knot_pid > 0) {
		kill(knot_pid, SIGTERM);
		for (int i = 0; i < 100 && waitpid(knot_pid, NULL, WNOHANG) == 0; i++)
			usleep(50000);
		kill(knot_pid, SIGKILL);
		waitpid(knot_pid, NULL, 0);
		knot_pid = -1;
	}
	if (tmp[0]) {
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmp);
		tmp[0] = '\0';
	}
}

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/fedenum-tsig-interop-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
}

TestSuite(tsig_interop, .init = setup, .fini = cleanup, .timeout = 240);

static const char *const ALG_NAMES[] = {"hmac-sha256", "hmac-sha384", "hmac-sha512"};

static struct fe_tsig_key *key_for(const char *alg, const char *secret)
{
	char spec[300];
	struct fe_tsig_key *k;
	snprintf(spec, sizeof(spec), "%s:%s:%s", alg, KEY_NAME, secret);
	cr_assert_eq(fe_tsig_key_from_string(spec, &k), FE_OK);
	return k;
}

/* ---- TCP helpers (bounded waits) ---------------------------------------------------- */

static int tcp_listener(uint16_t *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(fd, 4), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static bool wait_fd(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, timeout_ms) == 1;
}

static bool read_full(int fd, uint8_t *b, size_t n, int timeout_ms)
{
	size_t got = 0;
	while (got < n) {
		if (!wait_fd(fd, timeout_ms))
			return false;
		ssize_t r = read(fd, b + got, n - got);
		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

/* One length-prefixed message: its length, or -1 (timeout, closed, too long). */
static ssize_t read_msg(int fd, uint8_t *b, size_t cap, int timeout_ms)
{
	uint8_t l[2];
	if (!read_full(fd, l, 2, timeout_ms))
		return -1;
	size_t n = get16(l);
	if (n > cap || !read_full(fd, b, n, timeout_ms))
		return -1;
	return (ssize_t)n;
}

static bool write_msg(int fd, const uint8_t *b, size_t n)
{
	uint8_t l[2];
	set16(l, (uint16_t)n);
	return write(fd, l, 2) == 2 && write(fd, b, n) == (ssize_t)n;
}

/* ---- kdig --------------------------------------------------------------------------- */

enum reply { NO_REPLY, REPLY, REPLY_TAMPERED, REPLY_BADTIME };

/* Run kdig against our listener; capture its request into @req; answer as @reply says: an
 * A record signed over the request MAC (REPLY_TAMPERED flips a MAC octet), or our BADTIME
 * answer. kdig's output goes to @out. Returns kdig's exit status. */
static int kdig_exchange(const char *alg, const char *secret, struct pk *req, enum reply reply,
                         const struct fe_tsig_keyring *kr, char *out, size_t out_cap)
{
	uint16_t port;
	int lfd = tcp_listener(&port);
	char log[300], yspec[300], portstr[8];
	snprintf(log, sizeof(log), "%s/kdig.out", tmp);
	snprintf(yspec, sizeof(yspec), "%s:%s:%s", alg, KEY_NAME, secret);
	snprintf(portstr, sizeof(portstr), "%u", port);

	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("kdig", "kdig", "-y", yspec, "@127.0.0.1", "-p", portstr, "+tcp", "+retry=0",
		       "+timeout=5", "www.example.test.", "A", (char *)NULL);
		_exit(127);
	}
	cr_assert(wait_fd(lfd, 10000), "kdig did not connect");
	int cfd = accept(lfd, NULL, NULL);
	cr_assert_geq(cfd, 0);
	ssize_t n = read_msg(cfd, req->b, sizeof(req->b), 10000);
	cr_assert_gt(n, 12, "no request from kdig");
	req->n = (size_t)n;

	if (reply == REPLY_BADTIME) {
		/* our clock an hour ahead: BADTIME, answered signed with our time */
		struct fe_tsig_result res;
		struct pk r;
		fe_time_set_fake_wall_s(time(NULL) + 3600);
		cr_assert_eq(fe_tsig_verify_request(req->b, req->n, kr, NULL, &res), FE_EPERM);
		cr_assert_eq(res.error, FE_TSIG_BADTIME);
		r.n = fe_tsig_error_response(req->b, req->n, &res, r.b, sizeof(r.b));
		fe_time_set_fake_wall_s(0);
		cr_assert_gt(r.n, 12);
		cr_assert(write_msg(cfd, r.b, r.n));
	} else if (reply != NO_REPLY) {
		struct fe_tsig_result res;
		cr_assert_eq(fe_tsig_verify_request(req->b, req->n, kr, NULL, &res), FE_OK);
		struct pk r;
		memcpy(r.b, req->b, res.tsig_offset);
		r.n = res.tsig_offset;
		set16(r.b + 2, (uint16_t)(get16(r.b + 2) | FE_F_QR | FE_F_AA));
		set16(r.b + 6, 1);
		set16(r.b + 10, (uint16_t)(get16(r.b + 10) - 1));
		/* kdig sends an OPT: drop it (it is the only additional RR before the TSIG) */
		if (get16(r.b + 10) == 1) {
			r.n -= 11;
			set16(r.b + 10, 0);
		}
		static const uint8_t a[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7};
		put(&r, a, sizeof(a));
		cr_assert_eq(fe_tsig_sign(r.b, &r.n, sizeof(r.b), res.key, res.mac, res.mac_len,
		                          NULL, NULL, NULL),
		             FE_OK);
		if (reply == REPLY_TAMPERED)
			r.b[r.n - 8] ^= 1; /* last MAC octet */
		cr_assert(write_msg(cfd, r.b, r.n));
	}
	close(cfd);
	close(lfd);

	int status = -1;
	for (int i = 0; i < 200; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		usleep(50000);
	}
	if (waitpid(pid, NULL, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	FILE *f = fopen(log, "r");
	size_t got = f ? fread(out, 1, out_cap - 1, f) : 0;
	out[got] = '\0';
	if (f)
		fclose(f);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(tsig_interop, kdig_signed_requests_verify)
{
	for (size_t i = 0; i < FE_ARRAY_LEN(ALG_NAMES); i++) {
		struct fe_tsig_keyring *kr, *wrong;
		struct fe_tsig_result res;
		struct pk req;
		char out[8192];
		cr_assert_eq(fe_tsig_keyring_create(&kr), FE_OK);
		cr_assert_eq(fe_tsig_keyring_add(kr, key_for(ALG_NAMES[i], SECRET)), FE_OK);
		kdig_exchange(ALG_NAMES[i], SECRET, &req, NO_REPLY, kr, out, sizeof(out));

		cr_assert_eq(fe_tsig_verify_request(req.b, req.n, kr, NULL, &res), FE_OK,
		             "%s: rcode %u error %u", ALG_NAMES[i], res.rcode, res.error);
		cr_assert_eq(res.mac_len, fe_tsig_alg_digest_len(fe_tsig_key_alg(res.key)));
		cr_assert_eq(res.orig_id, get16(req.b));
		/* the same request against another secret: BADSIG */
		cr_assert_eq(fe_tsig_keyring_create(&wrong), FE_OK);
		cr_assert_eq(fe_tsig_keyring_add(wrong, key_for(ALG_NAMES[i], "ZmVkZW51bQ==")),
		             FE_OK);
		cr_assert_eq(fe_tsig_verify_request(req.b, req.n, wrong, NULL, &res), FE_EPERM);
		cr_assert_eq(res.error, FE_TSIG_BADSIG);
		fe_tsig_keyring_destroy(wrong);
		fe_tsig_keyring_destroy(kr);
	}
}

Test(tsig_interop, kdig_accepts_our_signed_response)
{
	for (size_t i = 0; i < FE_ARRAY_LEN(ALG_NAMES); i++) {
		struct fe_tsig_keyring *kr;
		struct pk req;
		char out[8192];
		cr_assert_eq(fe_tsig_keyring_create(&kr), FE_OK);
		cr_assert_eq(fe_tsig_keyring_add(kr, key_for(ALG_NAMES[i], SECRET)), FE_OK);
		int st = kdig_exchange(ALG_NAMES[i], SECRET, &req, REPLY, kr, out, sizeof(out));
		cr_assert_eq(st, 0, "%s: kdig exit %d:\n%s", ALG_NAMES[i], st, out);
		cr_assert(strstr(out, "192.0.2.7"), "%s", out);
		cr_assert(strstr(out, "NOERROR"), "%s", out);
		cr_assert_null(strstr(out, "WARNING"), "%s", out);
		cr_assert_null(strstr(out, "failed"), "%s", out);
		/* control: the same with one MAC octet flipped is refused by kdig */
		st = kdig_exchange(ALG_NAMES[i], SECRET, &req, REPLY_TAMPERED, kr, out,
		                   sizeof(out));
		cr_assert(strstr(out, "failed to verify TSIG"), "kdig took a bad MAC:\n%s", out);
		/* our signed BADTIME answer */
		st = kdig_exchange(ALG_NAMES[i], SECRET, &req, REPLY_BADTIME, kr, out, sizeof(out));
		/* kdig checks the MAC first: a flipped octet gives "failed to verify TSIG" (as
		 * above); ours passes and kdig reports the BADTIME carried in it */
		cr_assert(strstr(out, "status: BADTIME"), "%s", out);
		cr_assert(strstr(out, "(TSIG out of time window)"), "%s", out);
		cr_assert(strstr(out, " BADTIME 6 "), "server time in Other Data:\n%s", out);
		cr_assert_null(strstr(out, "failed to verify"), "%s", out);
		fe_tsig_keyring_destroy(kr);
	}
}

/* ---- knotd -------------------------------------------------------------------------- */

#define ZONE        "example.test."
#define ZONE_TXT    2500 /* ~ 300 kB: several AXFR messages */
#define KNOT_WAIT_S 60

/* A port free for TCP and UDP on 127.0.0.1 (knotd cannot report an ephemeral one). */
static uint16_t free_port(void)
{
	for (int attempt = 0; attempt < 50; attempt++) {
		struct sockaddr_in a = {.sin_family = AF_INET,
		                        .sin_addr.s_addr = htonl(0x7f000001)};
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

static void start_knot(const char *alg, uint16_t port)
{
	char path[512], log[512];
	snprintf(path, sizeof(path), "%s/example.test.zone", tmp);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "$ORIGIN " ZONE "\n$TTL 3600\n"
	           "@ SOA ns admin 2026120701 3600 900 604800 300\n@ NS ns\nns A 192.0.2.53\n");
	for (int i = 0; i < ZONE_TXT; i++)
		fprintf(f, "r%d TXT \"%0100d\" \"%0*d\"\n", i, i, 10 + i % 90, i);
	fclose(f);

	snprintf(path, sizeof(path), "%s/knot.conf", tmp);
	snprintf(log, sizeof(log), "%s/knotd.log", tmp);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "server:\n    rundir: %s\n    listen: 127.0.0.1@%u\n"
	        "database:\n    storage: %s\n"
	        "log:\n  - target: stderr\n    any: info\n"
	        "key:\n  - id: " KEY_NAME "\n    algorithm: %s\n    secret: " SECRET "\n"
	        "acl:\n  - id: xfr\n    key: " KEY_NAME "\n    action: transfer\n"
	        "template:\n  - id: default\n    storage: %s\n    zonefile-sync: -1\n"
	        "    journal-content: none\n"
	        "zone:\n  - domain: " ZONE "\n    file: %s/example.test.zone\n    acl: xfr\n",
	        tmp, port, tmp, alg, tmp, tmp);
	fclose(f);

	knot_pid = fork();
	cr_assert_geq(knot_pid, 0);
	if (knot_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("knotd", "knotd", "-c", path, (char *)NULL);
		execl("/usr/sbin/knotd", "knotd", "-c", path, (char *)NULL); /* not in PATH */
		_exit(127);
	}
}

static int tcp_connect(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons(port),
	                        .sin_addr.s_addr = htonl(0x7f000001)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* SOA records in the answer section of @m (-1 if it does not parse). */
static int answer_soas(const uint8_t *m, size_t n)
{
	size_t p = FE_WIRE_HDR_LEN;
	int soas = 0;
	for (unsigned i = 0; i < get16(m + 4); i++) {
		if (fe_wire_name_read(m, n, &p, NULL) < 0 || n - p < 4)
			return -1;
		p += 4;
	}
	for (unsigned i = 0; i < get16(m + 6); i++) {
		if (fe_wire_name_read(m, n, &p, NULL) < 0 || n - p < 10)
			return -1;
		soas += get16(m + p) == FE_T_SOA;
		p += 10u + get16(m + p + 8);
		if (p > n)
			return -1;
	}
	return soas;
}

/* What one signed AXFR request to knotd gave. */
struct xfr {
	int rc;        /* of the first fe_tsig_* check that failed, else FE_OK */
	unsigned msgs; /* messages received */
	unsigned signed_msgs;
	int soas;                  /* SOA records seen in answer sections */
	uint16_t rcode;            /* of the first message */
	struct fe_tsig_result res; /* of the last message checked */
	bool closed;               /* the server closed or stopped answering before the end */
};

static uint8_t rbuf[65536];

/* AXFR of ZONE signed with @k (optionally @o); the answer checked by a stream verifier, or
 * (when @single) the first message by fe_tsig_verify_response. @flip flips an octet of the
 * request's question after signing (BADSIG). */
static void axfr(uint16_t port, const struct fe_tsig_key *k, const struct fe_tsig_sign_opts *o,
                 bool single, bool flip, struct xfr *x)
{
	struct pk q;
	uint8_t mac[FE_TSIG_MAC_MAX];
	size_t maclen;
	struct fe_tsig_stream *s;

	memset(x, 0, sizeof(*x));
	query(&q, (uint16_t)(getpid() ^ time(NULL)), ZONE, FE_T_AXFR);
	cr_assert_eq(fe_tsig_sign(q.b, &q.n, sizeof(q.b), k, NULL, 0, o, mac, &maclen), FE_OK);
	if (flip)
		q.b[13] ^= 0x20;
	int fd = tcp_connect(port);
	if (fd < 0) {
		x->closed = true;
		x->rc = FE_EIO;
		return;
	}
	cr_assert(write_msg(fd, q.b, q.n));
	cr_assert_eq(fe_tsig_stream_create(k, mac, maclen, &s), FE_OK);
	while (x->soas < 2 && x->msgs < 1000) {
		ssize_t n = read_msg(fd, rbuf, sizeof(rbuf), 10000);
		if (n < 12) {
			x->closed = true;
			break;
		}
		if (x->msgs == 0)
			x->rcode = get16(rbuf + 2) & 0xf;
		x->msgs++;
		int rc = single ? fe_tsig_verify_response(rbuf, (size_t)n, k, mac, maclen, &x->res)
		                : fe_tsig_stream_verify(s, rbuf, (size_t)n, &x->res);
		if (rc != FE_OK) {
			x->rc = rc;
			break;
		}
		x->signed_msgs += x->res.has_tsig;
		int soas = answer_soas(rbuf, (size_t)n);
		cr_assert_geq(soas, 0);
		x->soas += soas;
		if (single)
			break;
	}
	if (x->rc == FE_OK && !single)
		x->rc = fe_tsig_stream_end(s);
	fe_tsig_stream_destroy(s);
	close(fd);
}

Test(tsig_interop, knotd_axfr_with_our_signed_request)
{
	for (size_t a = 0; a < FE_ARRAY_LEN(ALG_NAMES); a++) {
		uint16_t port = free_port();
		cr_assert_neq(port, 0);
		start_knot(ALG_NAMES[a], port);
		struct fe_tsig_key *k = key_for(ALG_NAMES[a], SECRET);
		struct xfr x;

		/* wait until the zone is loaded and transfers (bounded) */
		for (int i = 0; i < KNOT_WAIT_S * 10; i++) {
			axfr(port, k, NULL, false, false, &x);
			if (x.rcode == FE_RCODE_NOERROR && x.soas == 2)
				break;
			cr_assert_eq(waitpid(knot_pid, NULL, WNOHANG), 0,
			             "knotd exited: %s/knotd.log", tmp);
			usleep(100000);
		}
		cr_assert_eq(x.rcode, FE_RCODE_NOERROR, "%s: rcode %u (NOTAUTH is 9)", ALG_NAMES[a],
		             x.rcode);
		cr_assert_eq(x.soas, 2, "%s: incomplete transfer", ALG_NAMES[a]);
		cr_assert_eq(x.rc, FE_OK, "%s: message %u: rc %d error %u", ALG_NAMES[a], x.msgs,
		             x.rc, x.res.error);
		cr_assert_gt(x.msgs, 2, "the zone should need several messages");
		cr_assert_geq(x.signed_msgs, 2, "first and last signed");
		fprintf(stderr, "knotd %s AXFR: %u messages, %u signed, all verified\n",
		        ALG_NAMES[a], x.msgs, x.signed_msgs);

		/* a flipped octet in our request: knotd answers BADSIG, unsigned */
		axfr(port, k, NULL, true, true, &x);
		cr_assert_eq(x.rcode, FE_TSIG_NOTAUTH);
		cr_assert_eq(x.rc, FE_EPERM);
		cr_assert_not(x.res.mac_ok);
		cr_assert_eq(x.res.rr_error, FE_TSIG_BADSIG);

		/* an unknown key: BADKEY, unsigned */
		struct fe_tsig_key *other;
		char spec[300];
		snprintf(spec, sizeof(spec), "%s:unknown-peer.test.:%s", ALG_NAMES[a], SECRET);
		cr_assert_eq(fe_tsig_key_from_string(spec, &other), FE_OK);
		axfr(port, other, NULL, true, false, &x);
		cr_assert_eq(x.rcode, FE_TSIG_NOTAUTH);
		cr_assert_eq(x.rc, FE_EPERM);
		cr_assert_not(x.res.mac_ok);
		cr_assert_eq(x.res.rr_error, FE_TSIG_BADKEY);
		fe_tsig_key_destroy(other);

		/* our clock 1000 s behind: BADTIME, signed over our request MAC, with knotd's
		 * time in Other Data; it verifies with our client check */
		struct fe_tsig_sign_opts o;
		fe_tsig_sign_opts_init(&o);
		int64_t now = fe_time_wall_s();
		o.time_signed = now - 1000;
		fe_time_set_fake_wall_s(now - 1000);
		axfr(port, k, &o, true, false, &x);
		fe_time_set_fake_wall_s(0);
		cr_assert_eq(x.rcode, FE_TSIG_NOTAUTH);
		cr_assert_eq(x.rc, FE_EPERM);
		cr_assert(x.res.mac_ok, "knotd's BADTIME answer must verify");
		cr_assert_eq(x.res.rr_error, FE_TSIG_BADTIME);
		cr_assert_eq(x.res.other_len, 6);
		uint64_t srv = (uint64_t)get16(x.res.other) << 32 |
		               (uint64_t)get16(x.res.other + 2) << 16 | get16(x.res.other + 4);
		cr_assert(srv + 5 >= (uint64_t)now && srv <= (uint64_t)now + 5, "server time %llu",
		          (unsigned long long)srv);

		fe_tsig_key_destroy(k);
		cleanup();
		setup();
	}
}
