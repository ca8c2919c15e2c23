/* Zone transfer in (secondary side), loopback only, ephemeral ports, TSIG
 * hmac-sha256:
 *  - Knot DNS primary → fedenumd secondary: AXFR at start; the zone changes at Knot
 *    (knotc zone-reload), Knot's NOTIFY makes fedenumd take an IXFR (its log says so), and
 *    fedenumd answers the new data;
 *  - fedenumd primary → fedenumd secondary: AXFR, then SIGHUP at the primary, NOTIFY, IXFR;
 *  - NSD primary: its answer to the IXFR comes in AXFR form and is taken whole;
 *  - under trust anchors: the transferred zone is validated whole before it is stored;
 *  - SOA timers: refreshed after REFRESH; past EXPIRE without its primary the zone is kept but
 *    answered SERVFAIL (EDE 22), and served again when its primary is back;
 *  - a signed NSEC3 zone under a trust anchor: IXFR validated incrementally, a forged record
 *    in an IXFR rejected (the old version keeps serving with AD=1), a DNSKEY change taken
 *    whole;
 *  - NOTIFY refusals (docs/security.md X8): unsigned, bad MAC, from an address that is not
 *    the zone's primary, for a zone that is not a secondary: refused and counted; signed from
 *    the primary's address: NOERROR with a TSIG that verifies;
 *  - a refresh whose TSIG fails (the primary's key is not ours) and a primary that cuts the
 *    AXFR short: both abort, the old version keeps serving (X4/X5). */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fe_test.h"
#include "fedenum/tsig.h"
#include "fedenum/util.h"

#define KEY    "xfr-peer.test."
#define SECRET "Ut6y2zK8J0m2qv8j6I0g9bC2i0k4yD2H7n3o5q1w8e4="
#define OTHER  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define ZONE   "xfr.test."
#define WAIT_S 30

static char tmp[256];
static struct fe_test_daemon sec, pri;
static pid_t knot_pid = -1;

static void stop_all(void)
{
	if (knot_pid > 0) {
		kill(knot_pid, SIGTERM);
		for (int i = 0; i < 100 && waitpid(knot_pid, NULL, WNOHANG) == 0; i++)
			usleep(50000);
		kill(knot_pid, SIGKILL);
		waitpid(knot_pid, NULL, 0);
		knot_pid = -1;
	}
	if (sec.pid > 0)
		fe_test_daemon_stop(&sec);
	if (pri.pid > 0)
		fe_test_daemon_stop(&pri);
	if (tmp[0])
		fe_test_rmdir(tmp);
	tmp[0] = '\0';
}

static void write_key(const char *file, const char *secret)
{
	char p[300];
	snprintf(p, sizeof(p), "%s/%s", tmp, file);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	fprintf(f, "key \"%s\" {\n\talgorithm hmac-sha256;\n\tsecret \"%s\";\n};\n", KEY, secret);
	fclose(f);
}

static void setup(void)
{
	memset(&sec, 0, sizeof(sec));
	memset(&pri, 0, sizeof(pri));
	fe_test_mkdtemp(tmp, sizeof(tmp));
	write_key("peer.key", SECRET);
	write_key("other.key", OTHER);
}

TestSuite(xfrin, .init = setup, .fini = stop_all, .timeout = 240);

/* The zone at @serial into @path: 400 TXT and a.xfr.test. A 192.0.2.<serial>. */
static void write_zone(const char *path, unsigned serial)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "$ORIGIN " ZONE "\n$TTL 300\n@ SOA ns1 hostmaster %u 7200 900 1209600 300\n"
	        "@ NS ns1\nns1 A 127.0.0.1\na A 192.0.2.%u\n",
	        serial, serial);
	for (int i = 0; i < 400; i++)
		fprintf(f, "t%d TXT \"%060d\"\n", i, i);
	fclose(f);
}

/* knot.conf: Knot primary of the zone on @port, transfers allowed with the key, NOTIFY to
 * fedenumd's @notify_port when non-zero. */
static void write_knot_conf(uint16_t port, uint16_t notify_port)
{
	char p[300];
	snprintf(p, sizeof(p), "%s/knot.conf", tmp);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "server:\n    rundir: %s\n    listen: 127.0.0.1@%u\n"
	        "database:\n    storage: %s\n"
	        "log:\n  - target: stderr\n    any: info\n"
	        "key:\n  - id: " KEY "\n    algorithm: hmac-sha256\n    secret: " SECRET "\n",
	        tmp, port, tmp);
	if (notify_port)
		fprintf(f, "remote:\n  - id: sec\n    address: 127.0.0.1@%u\n    key: " KEY "\n",
		        notify_port);
	fprintf(f,
	        "acl:\n  - id: xfr\n    address: 127.0.0.1\n    key: " KEY
	        "\n    action: transfer\n"
	        "template:\n  - id: default\n    storage: %s/knot\n    zonefile-load: difference\n"
	        "    journal-content: changes\n"
	        "zone:\n  - domain: " ZONE "\n    acl: xfr\n%s",
	        tmp, notify_port ? "    notify: sec\n" : "");
	fclose(f);
}

static void start_knot(uint16_t port)
{
	char conf[300], log[300];
	snprintf(conf, sizeof(conf), "%s/knot.conf", tmp);
	snprintf(log, sizeof(log), "%s/knot.log", tmp);
	knot_pid = fork();
	cr_assert_geq(knot_pid, 0);
	if (knot_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("knotd", "knotd", "-c", conf, (char *)NULL);
		execl("/usr/sbin/knotd", "knotd", "-c", conf, (char *)NULL);
		_exit(127);
	}
	/* up when it answers the SOA */
	for (int i = 0; i < 80; i++) {
		if (fe_test_sh("kdig @127.0.0.1 -p %u +short +timeout=1 +retry=0 " ZONE
		               " SOA 2>/dev/null | grep -q hostmaster",
		               port) == 0)
			return;
		usleep(100000);
	}
	cr_assert_fail("knotd did not start");
}

static bool wait_answer(uint16_t port, const char *name, const char *type, const char *expect)
{
	for (int i = 0; i < WAIT_S * 4; i++) {
		if (fe_test_sh("kdig @127.0.0.1 -p %u +short +timeout=1 +retry=0 %s %s 2>/dev/null "
		               "| grep -q -- '%s'",
		               port, name, type, expect) == 0)
			return true;
		usleep(250000);
	}
	return false;
}

static bool wait_log(struct fe_test_daemon *d, const char *needle, int n)
{
	for (int i = 0; i < WAIT_S * 10; i++) {
		if (fe_test_daemon_log_count(d, needle) >= n)
			return true;
		usleep(100000);
	}
	return false;
}

static void show(struct fe_test_daemon *d)
{
	fe_test_sh("echo '--- fedenumd'; tail -30 '%s'; test -f '%s/knot.log' && "
	           "(echo '--- knot'; tail -20 '%s/knot.log'); true",
	           d->log_path, tmp, tmp);
}

/* fedenumd secondary of the zone at 127.0.0.1@@primary_port with key file @key, also
 * listening on @listen_port (for NOTIFY) when non-zero; in @dir (kept) or a fresh one. */
static void start_sec(const char *dir, uint16_t primary_port, const char *key, uint16_t listen_port)
{
	char k[300], spec[128], l[64];
	snprintf(k, sizeof(k), "%s/%s", tmp, key);
	snprintf(spec, sizeof(spec), "xfr.test@127.0.0.1@%u", primary_port);
	snprintf(l, sizeof(l), "127.0.0.1@%u", listen_port);
	const char *argv[] = {"--tsig-key",
	                      k,
	                      "--secondary",
	                      spec,
	                      "--log-level",
	                      "debug",
	                      listen_port ? "--listen" : NULL,
	                      l,
	                      NULL};
	cr_assert_eq(fe_test_daemon_start(&sec, dir, argv), 0);
}

Test(xfrin, knot_primary_axfr_then_notify_ixfr)
{
	char zf[300];
	cr_assert_eq(fe_test_sh("mkdir -p '%s/knot'", tmp), 0);
	snprintf(zf, sizeof(zf), "%s/knot/xfr.test.zone", tmp);
	write_zone(zf, 1);
	uint16_t kport = fe_test_free_port(), nport = fe_test_free_port();
	cr_assert(kport && nport && kport != nport);
	write_knot_conf(kport, nport);
	start_knot(kport);
	char dir[300];
	snprintf(dir, sizeof(dir), "%s/sec", tmp);
	cr_assert_eq(fe_test_sh("mkdir -p '%s'", dir), 0);
	start_sec(dir, kport, "peer.key", nport);
	if (!wait_answer(sec.port, "a." ZONE, "A", "192.0.2.1")) {
		show(&sec);
		cr_assert_fail("serial 1 not transferred");
	}
	cr_assert(wait_answer(sec.port, "t399." ZONE, "TXT", "399"));
	cr_assert_eq(fe_test_daemon_log_count(&sec, "AXFR from 127.0.0.1@"), 1);

	write_zone(zf, 2);
	cr_assert_eq(fe_test_sh("knotc -c '%s/knot.conf' zone-reload " ZONE " >/dev/null", tmp), 0);
	if (!wait_answer(sec.port, "a." ZONE, "A", "192.0.2.2")) {
		show(&sec);
		cr_assert_fail("serial 2 not transferred");
	}
	cr_assert(wait_answer(sec.port, "t0." ZONE, "TXT", "000000"), "old data lost");
	cr_assert_geq(fe_test_daemon_log_count(&sec, "NOTIFY from its primary"), 1);
	cr_assert_eq(fe_test_daemon_log_count(&sec, "IXFR from 127.0.0.1@"), 1,
	             "the refresh to serial 2 was not incremental");
	cr_assert_geq(fe_test_daemon_log_count(&sec, "serial 1 -> 2"), 1);
	cr_assert_eq(fe_test_daemon_log_count(&sec, "falling back to AXFR"), 0);
	/* the control channel's zone show names the primary and the serial */
	cr_assert_eq(fe_test_sh("'%s' zone show " ZONE " --socket '%s/control.sock' | grep -q "
	                        "'peers: *secondary of primary 127.0.0.1@%u, serial 2, last "
	                        "success 20.*last error none'",
	                        FE_TEST_FEDENUMCTL, sec.dir, kport),
	             0);
	/* Knot's side: it served an IXFR, and our signed NOTIFY answer was accepted */
	cr_assert_eq(fe_test_sh("grep -q 'IXFR, outgoing.*finished' '%s/knot.log'", tmp), 0);
	cr_assert_neq(fe_test_sh("grep -q 'notify, outgoing.*@%u.*serial 2.*failed\\|"
	                         "TSIG.*failed' '%s/knot.log'",
	                         nport, tmp),
	              0);

	/* X4: a key the primary does not share: the refresh fails, serial 2 keeps serving */
	fe_test_daemon_stop(&sec);
	start_sec(dir, kport, "other.key", 0);
	if (!wait_log(&sec, "refresh from 127.0.0.1@", 1))
		show(&sec);
	cr_assert_geq(fe_test_daemon_log_count(&sec, "the stored version keeps serving"), 1);
	cr_assert(wait_answer(sec.port, "a." ZONE, "A", "192.0.2.2"));
}

Test(xfrin, fedenumd_primary_to_fedenumd_secondary_axfr_then_ixfr)
{
	char zf[300], k[300], notify[64];
	snprintf(zf, sizeof(zf), "%s/xfr.test.zone", tmp);
	snprintf(k, sizeof(k), "%s/peer.key", tmp);
	write_zone(zf, 1);
	uint16_t nport = fe_test_free_port();
	cr_assert(nport);
	snprintf(notify, sizeof(notify), "127.0.0.1@%u", nport);
	const char *pargv[] = {"--zone", zf, "--tsig-key", k, "--notify", notify, NULL};
	cr_assert_eq(fe_test_daemon_start(&pri, NULL, pargv), 0);
	start_sec(NULL, pri.port, "peer.key", nport);
	if (!wait_answer(sec.port, "a." ZONE, "A", "192.0.2.1")) {
		show(&sec);
		cr_assert_fail("serial 1 not transferred");
	}
	cr_assert_eq(fe_test_daemon_log_count(&sec, "AXFR from 127.0.0.1@"), 1);
	write_zone(zf, 2);
	kill(pri.pid, SIGHUP);
	if (!wait_answer(sec.port, "a." ZONE, "A", "192.0.2.2")) {
		show(&sec);
		cr_assert_fail("serial 2 not transferred");
	}
	cr_assert(wait_answer(sec.port, "t399." ZONE, "TXT", "399"));
	cr_assert_geq(fe_test_daemon_log_count(&sec, "NOTIFY from its primary"), 1);
	cr_assert_eq(fe_test_daemon_log_count(&sec, "IXFR from 127.0.0.1@"), 1);
	cr_assert(wait_log(&pri, "acknowledged", 1), "the primary's NOTIFY was not answered");
	cr_assert_geq(fe_test_daemon_log_count(&pri, "IXFR of " ZONE " to 127.0.0.1"), 1);
}

/* A NOTIFY for @zone from source address @src, signed with @secret (NULL: unsigned); the
 * answer's RCODE (-1: none), its TSIG checked when signed (*verified). */
static int send_notify(uint16_t port, const char *src, const char *zone, const char *secret,
                       bool *verified)
{
	uint8_t q[512], r[512];
	size_t len = fe_test_make_query(zone, 6 /* SOA */, FE_TQ_NOEDNS, 0, q, sizeof(q));
	cr_assert_gt(len, 0);
	q[2] = (uint8_t)((q[2] & 0x87) | (4 << 3) | 0x04); /* opcode NOTIFY, AA */
	struct fe_tsig_key *key = NULL;
	uint8_t mac[FE_TSIG_MAC_MAX];
	size_t mac_len = 0;
	if (secret) {
		char spec[200];
		snprintf(spec, sizeof(spec), "hmac-sha256:%s:%s", KEY, secret);
		cr_assert_eq(fe_tsig_key_from_string(spec, &key), FE_OK);
		cr_assert_eq(fe_tsig_sign(q, &len, sizeof(q), key, NULL, 0, NULL, mac, &mac_len),
		             FE_OK);
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET}, to = {.sin_family = AF_INET};
	inet_pton(AF_INET, src, &a.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	to.sin_port = htons(port);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	struct timeval tv = {.tv_sec = 2};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	cr_assert_eq(sendto(fd, q, len, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)len);
	ssize_t n = recv(fd, r, sizeof(r), 0);
	close(fd);
	int rcode = n >= 12 ? (r[3] & 0x0f) : -1;
	if (verified) {
		struct fe_tsig_result res;
		*verified = n >= 12 && key &&
		            fe_tsig_verify_response(r, (size_t)n, key, mac, mac_len, &res) == FE_OK;
	}
	fe_tsig_key_destroy(key);
	return rcode;
}

Test(xfrin, notify_refused_unless_signed_and_from_the_primary)
{
	/* The zone's primary is 127.0.0.2 (nothing there: its refreshes fail, logged) */
	char k[300];
	snprintf(k, sizeof(k), "%s/peer.key", tmp);
	uint16_t p = fe_test_free_port();
	char spec[64];
	snprintf(spec, sizeof(spec), "xfr.test.@127.0.0.2@%u", p);
	const char *argv[] = {"--tsig-key", k, "--secondary", spec, NULL};
	cr_assert_eq(fe_test_daemon_start(&sec, NULL, argv), 0);
	bool ok = false;
	cr_assert_eq(send_notify(sec.port, "127.0.0.2", ZONE, NULL, NULL), 5, "unsigned: REFUSED");
	cr_assert_eq(send_notify(sec.port, "127.0.0.2", ZONE, OTHER, NULL), 9, "bad MAC: NOTAUTH");
	cr_assert_eq(send_notify(sec.port, "127.0.0.1", ZONE, SECRET, NULL), 5,
	             "not the primary: REFUSED");
	cr_assert_eq(send_notify(sec.port, "127.0.0.2", "other.test.", SECRET, NULL), 9,
	             "not a secondary zone: NOTAUTH");
	cr_assert_eq(send_notify(sec.port, "127.0.0.2", ZONE, SECRET, &ok), 0, "accepted");
	cr_assert(ok, "the NOTIFY answer's TSIG does not verify");
	cr_assert(wait_log(&sec, "NOTIFY from its primary", 1));
	kill(sec.pid, SIGUSR1);
	cr_assert(wait_log(&sec,
	                   "notify_in_accepted=1 notify_in_unsigned=1 notify_in_bad_tsig=1 "
	                   "notify_in_not_primary=1 notify_in_not_secondary=1",
	                   1));
}

/* ---- a primary that misbehaves: answers the SOA (serial 5), then cuts the AXFR ------- */

struct fake {
	int lfd;
	struct fe_tsig_keyring *kr;
};

static size_t answer_soa(const uint8_t *q, uint8_t *out, uint32_t serial)
{
	size_t n = 12;
	memcpy(out, q, 12);
	out[2] = 0x84;
	out[3] = 0;
	size_t name_end = 12;
	while (q[name_end])
		name_end += q[name_end] + 1u;
	name_end += 5;
	memcpy(out + 12, q + 12, name_end - 12);
	n = name_end;
	out[4] = 0, out[5] = 1, out[6] = 0, out[7] = 1, out[8] = out[9] = out[10] = out[11] = 0;
	const uint8_t soa[] = {0xc0, 12, 0, 6, 0, 1, 0, 0, 1, 44, 0, 22, 0, 0};
	memcpy(out + n, soa, sizeof(soa));
	n += sizeof(soa);
	uint32_t v[5] = {serial, 7200, 900, 1209600, 300};
	for (int i = 0; i < 5; i++) {
		out[n++] = (uint8_t)(v[i] >> 24);
		out[n++] = (uint8_t)(v[i] >> 16);
		out[n++] = (uint8_t)(v[i] >> 8);
		out[n++] = (uint8_t)v[i];
	}
	return n;
}

static void *fake_run(void *arg)
{
	struct fake *f = arg;
	for (int conn = 0; conn < 50; conn++) {
		int c = accept(f->lfd, NULL, NULL);
		if (c < 0)
			return NULL;
		uint8_t q[1024], out[2048];
		ssize_t n = fe_test_tcp_read_msg(c, q, sizeof(q), 5000);
		if (n > 0) {
			struct fe_tsig_result res;
			if (fe_tsig_verify_request(q, (size_t)n, f->kr, NULL, &res) != FE_OK) {
				close(c);
				continue;
			}
			size_t len = answer_soa(q, out + 2, 5);
			fe_tsig_sign(out + 2, &len, sizeof(out) - 2, res.key, res.mac, res.mac_len,
			             NULL, NULL, NULL);
			out[0] = (uint8_t)(len >> 8);
			out[1] = (uint8_t)len;
			/* SOA query: the answer; AXFR/IXFR: the first SOA only, then close */
			fe_test_write_all(c, out, len + 2);
		}
		close(c);
	}
	return NULL;
}

Test(xfrin, transfer_cut_short_aborts_and_the_old_zone_keeps_serving)
{
	/* serial 1 from a fedenumd primary, then the secondary restarts against the fake */
	char zf[300], k[300];
	snprintf(zf, sizeof(zf), "%s/xfr.test.zone", tmp);
	snprintf(k, sizeof(k), "%s/peer.key", tmp);
	write_zone(zf, 1);
	char notify[64]; /* the secondary's address may transfer; nothing listens there */
	snprintf(notify, sizeof(notify), "127.0.0.1@%u", fe_test_free_port());
	const char *pargv[] = {"--zone", zf, "--tsig-key", k, "--notify", notify, NULL};
	cr_assert_eq(fe_test_daemon_start(&pri, NULL, pargv), 0);
	char dir[300];
	snprintf(dir, sizeof(dir), "%s/sec", tmp);
	cr_assert_eq(fe_test_sh("mkdir -p '%s'", dir), 0);
	start_sec(dir, pri.port, "peer.key", 0);
	cr_assert(wait_answer(sec.port, "a." ZONE, "A", "192.0.2.1"));
	fe_test_daemon_stop(&sec);

	struct fake f = {.lfd = socket(AF_INET, SOCK_STREAM, 0)};
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t al = sizeof(a);
	cr_assert_eq(bind(f.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(f.lfd, 8), 0);
	getsockname(f.lfd, (struct sockaddr *)&a, &al);
	struct fe_tsig_key *key = NULL;
	cr_assert_eq(fe_tsig_key_from_string("hmac-sha256:" KEY ":" SECRET, &key), FE_OK);
	cr_assert_eq(fe_tsig_keyring_create(&f.kr), FE_OK);
	cr_assert_eq(fe_tsig_keyring_add(f.kr, key), FE_OK);
	pthread_t th;
	cr_assert_eq(pthread_create(&th, NULL, fake_run, &f), 0);
	start_sec(dir, ntohs(a.sin_port), "peer.key", 0);
	if (!wait_log(&sec, "refresh from 127.0.0.1@", 1))
		show(&sec);
	cr_assert_geq(fe_test_daemon_log_count(&sec, "connection closed by the primary"), 1);
	cr_assert_geq(fe_test_daemon_log_count(&sec, "the stored version keeps serving"), 1);
	cr_assert(wait_answer(sec.port, "a." ZONE, "A", "192.0.2.1"));
	shutdown(f.lfd, SHUT_RDWR);
	close(f.lfd);
	pthread_join(th, NULL);
	fe_tsig_keyring_destroy(f.kr);
}

Test(xfrin, config_file_form)
{
	char zf[300], k[300], conf[300], notify[64];
	snprintf(zf, sizeof(zf), "%s/xfr.test.zone", tmp);
	snprintf(k, sizeof(k), "%s/peer.key", tmp);
	write_zone(zf, 1);
	snprintf(notify, sizeof(notify), "127.0.0.1@%u", fe_test_free_port());
	const char *pargv[] = {"--zone", zf, "--tsig-key", k, "--notify", notify, NULL};
	cr_assert_eq(fe_test_daemon_start(&pri, NULL, pargv), 0);
	snprintf(conf, sizeof(conf), "%s/fedenumd.conf", tmp);
	FILE *f = fopen(conf, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "xfr = {\n  tsig-keys = [ \"peer.key\" ];\n  secondary = [ "
	        "\"XFR.test@127.0.0.1@%u\" ];\n};\n",
	        pri.port);
	fclose(f);
	const char *argv[] = {"-c", conf, NULL};
	cr_assert_eq(fe_test_daemon_start(&sec, NULL, argv), 0);
	if (!wait_answer(sec.port, "a." ZONE, "A", "192.0.2.1")) {
		show(&sec);
		cr_assert_fail("not transferred");
	}
	f = fopen(conf, "w");
	cr_assert_not_null(f);
	fprintf(f, "xfr = {\n  tsig-keys = [ \"peer.key\" ];\n  secondary = [ "
	           "\"xfr.test@primary.example@53\" ];\n};\n");
	fclose(f);
	cr_assert_eq(fe_test_sh("%s -c '%s' --check-config > '%s/check.out' 2>&1", FE_TEST_FEDENUMD,
	                        conf, tmp),
	             1);
	cr_assert_eq(fe_test_sh("grep -q 'fedenumd.conf:3: xfr.secondary' '%s/check.out'", tmp), 0);
}

/* NSD as the primary: it answers IXFR in AXFR form (no IXFR kept: store-ixfr off), which
 * fedenumd takes as the whole zone (RFC 1995 §4). */
Test(xfrin, nsd_primary_answers_ixfr_in_axfr_form)
{
	char zf[300], conf[300], log[300];
	snprintf(zf, sizeof(zf), "%s/xfr.test.zone", tmp);
	snprintf(conf, sizeof(conf), "%s/nsd.conf", tmp);
	snprintf(log, sizeof(log), "%s/nsd.out", tmp);
	write_zone(zf, 1);
	uint16_t port = fe_test_free_port(), nport = fe_test_free_port();
	cr_assert(port && nport && port != nport);
	FILE *f = fopen(conf, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "server:\n    ip-address: 127.0.0.1\n    port: %u\n    zonesdir: \"%s\"\n"
	        "    database: \"\"\n    zonelistfile: \"%s/zone.list\"\n"
	        "    xfrdfile: \"%s/xfrd.state\"\n    xfrdir: \"%s\"\n    pidfile: \"%s/nsd.pid\"\n"
	        "    logfile: \"%s/nsd.log\"\n    username: \"\"\n    chroot: \"\"\n"
	        "    verbosity: 2\n    server-count: 1\n"
	        "remote-control:\n    control-enable: no\n"
	        "key:\n    name: \"" KEY "\"\n    algorithm: hmac-sha256\n    secret: \"" SECRET
	        "\"\n"
	        "zone:\n    name: \"" ZONE "\"\n    zonefile: \"xfr.test.zone\"\n"
	        "    provide-xfr: 127.0.0.1 " KEY "\n    notify: 127.0.0.1@%u " KEY "\n",
	        port, tmp, tmp, tmp, tmp, tmp, tmp, nport);
	fclose(f);
	knot_pid = fork(); /* stop_all stops it like knotd */
	cr_assert_geq(knot_pid, 0);
	if (knot_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("nsd", "nsd", "-d", "-c", conf, (char *)NULL);
		execl("/usr/sbin/nsd", "nsd", "-d", "-c", conf, (char *)NULL);
		_exit(127);
	}
	cr_assert(wait_answer(port, "a." ZONE, "A", "192.0.2.1"), "nsd did not start");
	start_sec(NULL, port, "peer.key", nport);
	if (!wait_answer(sec.port, "a." ZONE, "A", "192.0.2.1")) {
		show(&sec);
		cr_assert_fail("serial 1 not transferred");
	}
	write_zone(zf, 2);
	kill(knot_pid, SIGHUP); /* NSD rereads the changed zone file, then NOTIFYs */
	if (!wait_answer(sec.port, "a." ZONE, "A", "192.0.2.2")) {
		show(&sec);
		cr_assert_fail("serial 2 not transferred");
	}
	cr_assert(wait_answer(sec.port, "t399." ZONE, "TXT", "399"));
	cr_assert_geq(fe_test_daemon_log_count(&sec, "NOTIFY from its primary"), 1);
	cr_assert_eq(fe_test_daemon_log_count(&sec, "AXFR from 127.0.0.1@"), 2);
	cr_assert_geq(fe_test_daemon_log_count(&sec, "serial 1 -> 2"), 1);
	cr_assert_eq(fe_test_sh("grep -q 'ixfr for xfr.test. from 127.0.0.1' '%s/nsd.log'", tmp), 0,
	             "fedenumd did not ask NSD for an IXFR");
}

/* Under trust anchors the transferred zone goes through fe_trust_load: the demo registry
 * zone (signed) validates through its DS and is answered with AD=1; the unsigned test zone
 * from the same primary is not served. */
Test(xfrin, under_trust_anchors_the_transferred_zone_is_validated)
{
	char zf[300], k[300], notify[64], spec[2][128], anchor[300];
	snprintf(zf, sizeof(zf), "%s/xfr.test.zone", tmp);
	snprintf(k, sizeof(k), "%s/peer.key", tmp);
	snprintf(anchor, sizeof(anchor), "%s/federation/keys/e164.fed.ds", FE_TEST_SRC);
	write_zone(zf, 1);
	uint16_t nport = fe_test_free_port();
	snprintf(notify, sizeof(notify), "127.0.0.1@%u", nport);
	char signed_zone[300];
	snprintf(signed_zone, sizeof(signed_zone), "%s/zones/e164.fed/e164.fed.zone.signed",
	         FE_TEST_SRC);
	const char *pargv[] = {"--zone", signed_zone, "--zone", zf,  "--tsig-key",
	                       k,        "--notify",  notify,   NULL};
	cr_assert_eq(fe_test_daemon_start(&pri, NULL, pargv), 0);
	snprintf(spec[0], sizeof(spec[0]), "e164.fed@127.0.0.1@%u", pri.port);
	snprintf(spec[1], sizeof(spec[1]), "xfr.test.@127.0.0.1@%u", pri.port);
	const char *argv[] = {"--tsig-key",  k,       "--trust-anchor", anchor,
	                      "--secondary", spec[0], "--secondary",    spec[1],
	                      NULL};
	cr_assert_eq(fe_test_daemon_start(&sec, NULL, argv), 0);
	if (!wait_log(&sec, "zone e164.fed.: AXFR from 127.0.0.1@", 1)) {
		show(&sec);
		cr_assert_fail("e164.fed. not transferred");
	}
	cr_assert_geq(fe_test_daemon_log_count(&sec, "validated through the trust anchor"), 1);
	cr_assert_eq(fe_test_sh("kdig @127.0.0.1 -p %u +dnssec +timeout=2 +retry=0 e164.fed SOA | "
	                        "grep -qi 'flags:.* ad;'",
	                        sec.port),
	             0, "no AD=1 answer from the validated transferred zone");
	/* the unsigned zone does not validate: refused at load, nothing served, logged */
	cr_assert(wait_log(&sec, "zone xfr.test.: refresh from 127.0.0.1@", 1));
	cr_assert_eq(fe_test_sh("kdig @127.0.0.1 -p %u +short +timeout=2 +retry=0 a.xfr.test A | "
	                        "grep -q 192.0.2",
	                        sec.port),
	             1);
}

/* SOA timers: REFRESH 1 s, RETRY 1 s, EXPIRE 4 s; the primary goes away; the zone is served
 * until EXPIRE, then kept but marked expired: SERVFAIL with EDE 22, logged and counted (RFC
 * 1034 §4.3.5). The primary comes back (same address) with the same serial: the next refresh
 * serves the zone again without any transfer. */
Test(xfrin, zone_past_expire_is_no_longer_served)
{
	char zf[300], k[300], notify[64], listen[64];
	snprintf(zf, sizeof(zf), "%s/xfr.test.zone", tmp);
	snprintf(k, sizeof(k), "%s/peer.key", tmp);
	FILE *f = fopen(zf, "w");
	cr_assert_not_null(f);
	fprintf(f, "$ORIGIN " ZONE "\n$TTL 300\n@ SOA ns1 hostmaster 1 1 1 4 300\n@ NS ns1\n"
	           "ns1 A 127.0.0.1\na A 192.0.2.1\n");
	fclose(f);
	snprintf(notify, sizeof(notify), "127.0.0.1@%u", fe_test_free_port());
	uint16_t pport = fe_test_free_port();
	cr_assert(pport);
	snprintf(listen, sizeof(listen), "127.0.0.1@%u", pport);
	const char *pargv[] = {"--zone", zf,         "--tsig-key", k,   "--notify",
	                       notify,   "--listen", listen,       NULL};
	cr_assert_eq(fe_test_daemon_start(&pri, NULL, pargv), 0);
	start_sec(NULL, pport, "peer.key", 0);
	cr_assert(wait_answer(sec.port, "a." ZONE, "A", "192.0.2.1"));
	cr_assert(wait_log(&sec, "serial 1 is current at", 1), "no refresh after REFRESH");
	fe_test_daemon_stop(&pri);
	cr_assert(wait_log(&sec, "zone " ZONE ": expired", 1));
	cr_assert_eq(fe_test_sh("kdig @127.0.0.1 -p %u +timeout=2 +retry=0 a.xfr.test A | "
	                        "grep -q 'status: SERVFAIL'",
	                        sec.port),
	             0, "still served after EXPIRE");
	cr_assert_eq(fe_test_sh("kdig @127.0.0.1 -p %u +edns +timeout=2 +retry=0 a.xfr.test A | "
	                        "grep -q 'EDE: 22'",
	                        sec.port),
	             0, "no EDE 22 (No Reachable Authority)");
	kill(sec.pid, SIGUSR1);
	cr_assert(wait_log(&sec, "xfrin_expired=1", 1));
	cr_assert_eq(fe_test_sh("'%s' zone show " ZONE " --socket '%s/control.sock' | grep -q "
	                        "'secondary-expired'",
	                        FE_TEST_FEDENUMCTL, sec.dir),
	             0, "zone show does not say why it is not served");
	/* kept, not dropped: the same serial at the primary brings it back with no transfer */
	cr_assert_eq(fe_test_daemon_start(&pri, NULL, pargv), 0);
	if (!wait_log(&sec, "served again", 1)) {
		show(&sec);
		cr_assert_fail("not served again after the primary came back");
	}
	cr_assert(wait_answer(sec.port, "a." ZONE, "A", "192.0.2.1"));
	cr_assert_eq(fe_test_daemon_log_count(&sec, "AXFR from 127.0.0.1@"), 1,
	             "transferred again although the serial matched");
}

/* The SOA EXPIRE is kept on time when the retries are far apart: REFRESH 1 s, RETRY 60 s,
 * EXPIRE 3 s. The primary goes away after a successful refresh; the next refresh fails and
 * the next try is a minute later, yet the zone is no longer served once EXPIRE has passed
 * since the last success (its own timer), not at the next try (RFC 1034 §4.3.5). A partition
 * in the multi-host test (integration_test_netns_federation) showed the late expiry. */
Test(xfrin, zone_expires_on_time_between_far_apart_retries)
{
	char zf[300], k[300], notify[64], listen[64];
	snprintf(zf, sizeof(zf), "%s/xfr.test.zone", tmp);
	snprintf(k, sizeof(k), "%s/peer.key", tmp);
	FILE *f = fopen(zf, "w");
	cr_assert_not_null(f);
	fprintf(f, "$ORIGIN " ZONE "\n$TTL 300\n@ SOA ns1 hostmaster 1 1 60 3 300\n@ NS ns1\n"
	           "ns1 A 127.0.0.1\na A 192.0.2.1\n");
	fclose(f);
	snprintf(notify, sizeof(notify), "127.0.0.1@%u", fe_test_free_port());
	uint16_t pport = fe_test_free_port();
	cr_assert(pport);
	snprintf(listen, sizeof(listen), "127.0.0.1@%u", pport);
	const char *pargv[] = {"--zone", zf,         "--tsig-key", k,   "--notify",
	                       notify,   "--listen", listen,       NULL};
	cr_assert_eq(fe_test_daemon_start(&pri, NULL, pargv), 0);
	start_sec(NULL, pport, "peer.key", 0);
	cr_assert(wait_answer(sec.port, "a." ZONE, "A", "192.0.2.1"));
	cr_assert(wait_log(&sec, "serial 1 is current at", 1), "no refresh after REFRESH");
	fe_test_daemon_stop(&pri);
	uint64_t t0 = fe_time_mono_ms();
	cr_assert(fe_test_daemon_wait_log(&sec, "zone " ZONE ": expired", 1, 10),
	          "not expired 10 s after the primary went away (SOA EXPIRE 3 s)");
	uint64_t took = fe_time_mono_ms() - t0;
	cr_assert_leq(took, 5000u, "expired %llu ms after the primary went away",
	              (unsigned long long)took);
	cr_assert_eq(fe_test_sh("kdig @127.0.0.1 -p %u +edns +timeout=2 +retry=0 a.xfr.test A | "
	                        "grep -q 'EDE: 22'",
	                        sec.port),
	             0, "still served after EXPIRE");
	/* the failed refresh was the only one: the expiry did not wait for the next try */
	cr_assert_eq(fe_test_daemon_log_count(&sec, "zone " ZONE ": refresh from"), 1);
}

/* A restart counts EXPIRE from the last successful refresh, not from the last transfer: a zone
 * that has not changed for longer than its EXPIRE (SOA REFRESH 1 s, RETRY 1 s, EXPIRE 5 s;
 * up-to-date refreshes every second for 7 s) and whose node restarts while its primary is
 * away is still served at once, and expires EXPIRE after the last success before the stop.
 * (A stable registry zone older than its EXPIRE would otherwise be refused on every node
 * restarted during a hub outage, and answered SERVFAIL for a moment at every restart.) */
Test(xfrin, restart_counts_expire_from_the_last_successful_refresh)
{
	char zf[300], k[300], notify[64], listen[64], dir[300];
	snprintf(zf, sizeof(zf), "%s/xfr.test.zone", tmp);
	snprintf(k, sizeof(k), "%s/peer.key", tmp);
	snprintf(dir, sizeof(dir), "%s/sec", tmp);
	cr_assert_eq(fe_test_sh("mkdir -p '%s'", dir), 0);
	FILE *f = fopen(zf, "w");
	cr_assert_not_null(f);
	fprintf(f, "$ORIGIN " ZONE "\n$TTL 300\n@ SOA ns1 hostmaster 1 1 1 5 300\n@ NS ns1\n"
	           "ns1 A 127.0.0.1\na A 192.0.2.1\n");
	fclose(f);
	snprintf(notify, sizeof(notify), "127.0.0.1@%u", fe_test_free_port());
	uint16_t pport = fe_test_free_port();
	cr_assert(pport);
	snprintf(listen, sizeof(listen), "127.0.0.1@%u", pport);
	const char *pargv[] = {"--zone", zf,         "--tsig-key", k,   "--notify",
	                       notify,   "--listen", listen,       NULL};
	cr_assert_eq(fe_test_daemon_start(&pri, NULL, pargv), 0);
	start_sec(dir, pport, "peer.key", 0);
	cr_assert(wait_answer(sec.port, "a." ZONE, "A", "192.0.2.1"));
	/* 7 s of up-to-date refreshes: the transfer is older than EXPIRE, the last success not */
	sleep(7);
	cr_assert_geq(fe_test_daemon_log_count(&sec, "serial 1 is current at"), 4);
	cr_assert_eq(fe_test_daemon_log_count(&sec, "expired"), 0);
	cr_assert_eq(fe_test_daemon_stop(&sec), 0);
	fe_test_daemon_stop(&pri);
	uint64_t t0 = fe_time_mono_ms();
	start_sec(dir, pport, "peer.key", 0);
	cr_assert_eq(fe_test_sh("kdig @127.0.0.1 -p %u +timeout=2 +retry=0 a.xfr.test A | "
	                        "grep -q 'status: NOERROR'",
	                        sec.port),
	             0, "not served at once after the restart (EXPIRE counted from the transfer)");
	cr_assert(fe_test_daemon_wait_log(&sec, "zone " ZONE ": expired", 1, 10),
	          "not expired 10 s after the restart with its primary away (SOA EXPIRE 5 s)");
	uint64_t took = fe_time_mono_ms() - t0;
	cr_assert_leq(took, 6000u, "expired %llu ms after the restart", (unsigned long long)took);
}

#define AD_CMD "kdig @127.0.0.1 -p %u +dnssec +timeout=2 +retry=0 %s TXT | grep -qi 'flags:.* ad;'"

/* A signed NSEC3 zone (keys made at run time, test-only) from a fedenumd primary to a
 * fedenumd secondary under its trust anchor:
 *  v1 by AXFR, validated whole; v2 (one TXT changed) by IXFR, validated incrementally (the
 *  log gives the signatures verified); v3 (one TXT changed after signing: a forged record in
 *  an otherwise valid IXFR) rejected, v2 keeps serving with AD=1; v4 (a new ZSK) too
 *  complex for a change set: AXFR and whole-zone validation. */
Test(xfrin, signed_ixfr_validated_incrementally)
{
	char gen[300], k[300], notify[64], zf[300], spec[128], anchor[320];
	snprintf(gen, sizeof(gen), "%s/gen", tmp);
	snprintf(k, sizeof(k), "%s/peer.key", tmp);
	snprintf(zf, sizeof(zf), "%s/inc.test.zone", tmp);
	snprintf(anchor, sizeof(anchor), "%s/ds", gen);
	cr_assert_eq(
	        fe_test_sh(
	                "mkdir -p %s && cd %s && { echo '$ORIGIN inc.test.'; echo '$TTL 300';"
	                " echo '@ SOA ns hostmaster 1 3600 600 86400 300'; echo '@ NS ns';"
	                " echo 'ns A 192.0.2.1'; for i in $(seq 1 50); do echo \"n$i TXT t$i\";"
	                " done; } > z.zone"
	                " && dnssec-keygen -q -a ECDSAP256SHA256 -f KSK -n ZONE inc.test >/dev/null"
	                " && dnssec-keygen -q -a ECDSAP256SHA256 -n ZONE inc.test >/dev/null"
	                " && S='dnssec-signzone -q -S -K . -N increment -3 - -H 0 -O full -o "
	                "inc.test'"
	                " && $S -f v1.signed z.zone >/dev/null"
	                " && sed 's/\"t7\"$/\"t7-changed\"/' v1.signed > v2.in"
	                " && $S -f v2.signed v2.in >/dev/null"
	                " && sed 's/\"t8\"$/\"t8-new\"/' v2.signed > v3.in"
	                " && $S -f v3.signed v3.in >/dev/null"
	                " && sed 's/\"t8-new\"$/\"t8-evil\"/' v3.signed > v3.forged"
	                " && for k in K*.key; do dnssec-dsfromkey -2 \"$k\"; done > ds"
	                " && dnssec-keygen -q -a ECDSAP256SHA256 -n ZONE inc.test >/dev/null"
	                " && $S -f v4.signed v3.signed >/dev/null",
	                gen, gen),
	        0);
	cr_assert_eq(fe_test_sh("cp %s/v1.signed %s", gen, zf), 0);
	uint16_t nport = fe_test_free_port();
	snprintf(notify, sizeof(notify), "127.0.0.1@%u", nport);
	const char *pargv[] = {"--zone", zf, "--tsig-key", k, "--notify", notify, NULL};
	cr_assert_eq(fe_test_daemon_start(&pri, NULL, pargv), 0);
	snprintf(spec, sizeof(spec), "inc.test@127.0.0.1@%u", pri.port);
	char l[64];
	snprintf(l, sizeof(l), "127.0.0.1@%u", nport);
	const char *argv[] = {"--tsig-key", k, "--trust-anchor", anchor,  "--secondary", spec,
	                      "--listen",   l, "--log-level",    "debug", NULL};
	cr_assert_eq(fe_test_daemon_start(&sec, NULL, argv), 0);
	if (!wait_log(&sec, "zone inc.test.: AXFR from 127.0.0.1@", 1)) {
		show(&sec);
		cr_assert_fail("v1 not transferred");
	}

	/* v2: IXFR, validated incrementally */
	cr_assert_eq(fe_test_sh("cp %s/v2.signed %s", gen, zf), 0);
	kill(pri.pid, SIGHUP);
	if (!wait_log(&sec, "validated incrementally", 1)) {
		show(&sec);
		cr_assert_fail("v2 not validated incrementally");
	}
	cr_assert(wait_answer(sec.port, "n7.inc.test", "TXT", "t7-changed"));
	cr_assert_eq(fe_test_sh(AD_CMD, sec.port, "n7.inc.test"), 0, "v2 not answered with AD=1");
	cr_assert_eq(fe_test_daemon_log_count(&sec, "IXFR from 127.0.0.1@"), 1);
	/* a one-TXT change: the changed TXT, the SOA and the DNSKEY RRset's signatures at most,
	 * not the zone's ~160 */
	cr_assert_eq(fe_test_sh("grep -E 'validated incrementally.*: [1-6] signatures verified' "
	                        "'%s' >/dev/null",
	                        sec.log_path),
	             0, "more signatures verified than the change needs");

	/* v3 forged: rejected, v2 keeps serving with AD=1 */
	cr_assert_eq(fe_test_sh("cp %s/v3.forged %s", gen, zf), 0);
	kill(pri.pid, SIGHUP);
	if (!wait_log(&sec, "rejected: ", 1)) {
		show(&sec);
		cr_assert_fail("the forged IXFR was not rejected");
	}
	cr_assert_geq(fe_test_daemon_log_count(&sec, "signature invalid"), 1);
	cr_assert(wait_answer(sec.port, "n8.inc.test", "TXT", "\"t8\""));
	cr_assert_eq(fe_test_sh(AD_CMD, sec.port, "n8.inc.test"), 0, "old version not AD=1");
	cr_assert_neq(fe_test_sh("kdig @127.0.0.1 -p %u +short +timeout=2 +retry=0 n8.inc.test "
	                         "TXT | grep -q evil",
	                         sec.port),
	              0, "the forged record is served");

	/* v4: new ZSK: the whole-zone path */
	cr_assert_eq(fe_test_sh("cp %s/v4.signed %s", gen, zf), 0);
	kill(pri.pid, SIGHUP);
	if (!wait_log(&sec, "not applied as a change set", 1)) {
		show(&sec);
		cr_assert_fail("the DNSKEY change did not take the whole-zone path");
	}
	cr_assert(wait_answer(sec.port, "n8.inc.test", "TXT", "t8-new"));
	cr_assert_eq(fe_test_sh(AD_CMD, sec.port, "n8.inc.test"), 0, "v4 not AD=1");
	cr_assert_geq(fe_test_daemon_log_count(&sec, "validated through the trust anchor"), 2);
}

static void write_sec_conf(const char *conf, const char *zones)
{
	FILE *f = fopen(conf, "w");
	cr_assert_not_null(f);
	fprintf(f, "xfr = {\n  tsig-keys = [ \"peer.key\" ];\n  secondary = [ %s ];\n};\n", zones);
	fclose(f);
}

/* SIGHUP re-reads xfr.secondary: a zone added starts refreshing (and takes NOTIFY), a zone
 * removed is no longer refreshed but stays stored and served (logged), a zone given again
 * refreshes again. */
Test(xfrin, sighup_adds_and_removes_secondary_zones)
{
	char zf[300], zf2[300], k[300], conf[300], notify[64], spec[2][128], both[300];
	snprintf(zf, sizeof(zf), "%s/xfr.test.zone", tmp);
	snprintf(zf2, sizeof(zf2), "%s/two.test.zone", tmp);
	snprintf(k, sizeof(k), "%s/peer.key", tmp);
	write_zone(zf, 1);
	FILE *f = fopen(zf2, "w");
	cr_assert_not_null(f);
	fprintf(f, "$ORIGIN two.test.\n$TTL 300\n@ SOA ns1 hostmaster 1 7200 900 1209600 300\n"
	           "@ NS ns1\nns1 A 127.0.0.1\nb A 198.51.100.1\n");
	fclose(f);
	uint16_t nport = fe_test_free_port();
	snprintf(notify, sizeof(notify), "127.0.0.1@%u", nport);
	const char *pargv[] = {"--zone", zf,         "--zone", zf2, "--tsig-key",
	                       k,        "--notify", notify,   NULL};
	cr_assert_eq(fe_test_daemon_start(&pri, NULL, pargv), 0);
	snprintf(conf, sizeof(conf), "%s/fedenumd.conf", tmp);
	snprintf(spec[0], sizeof(spec[0]), "\"xfr.test@127.0.0.1@%u\"", pri.port);
	snprintf(spec[1], sizeof(spec[1]), "\"two.test@127.0.0.1@%u\"", pri.port);
	snprintf(both, sizeof(both), "%s, %s", spec[0], spec[1]);
	write_sec_conf(conf, spec[0]);
	char l[64];
	snprintf(l, sizeof(l), "127.0.0.1@%u", nport);
	const char *argv[] = {"-c", conf, "--listen", l, NULL};
	cr_assert_eq(fe_test_daemon_start(&sec, NULL, argv), 0);
	cr_assert(wait_answer(sec.port, "a." ZONE, "A", "192.0.2.1"));

	/* added */
	write_sec_conf(conf, both);
	kill(sec.pid, SIGHUP);
	if (!wait_answer(sec.port, "b.two.test", "A", "198.51.100.1")) {
		show(&sec);
		cr_assert_fail("the added zone was not transferred");
	}
	cr_assert_eq(fe_test_daemon_log_count(&sec, "zone two.test.: reload: new secondary zone"),
	             1);

	/* removed: not refreshed any more (a NOTIFY for it is refused), still served */
	write_sec_conf(conf, spec[0]);
	kill(sec.pid, SIGHUP);
	cr_assert(wait_log(&sec, "zone two.test.: reload: no longer a secondary", 1));
	f = fopen(zf2, "a");
	cr_assert_not_null(f);
	fprintf(f, "c A 198.51.100.3\n");
	fclose(f);
	cr_assert_eq(fe_test_sh("sed -i 's/hostmaster 1 /hostmaster 2 /' '%s'", zf2), 0);
	write_zone(zf, 2);
	kill(pri.pid, SIGHUP);
	cr_assert(wait_answer(sec.port, "a." ZONE, "A", "192.0.2.2"), "the kept zone stalled");
	cr_assert(wait_log(&sec, "NOTIFY for two.test. refused: not a secondary zone", 1));
	cr_assert(wait_answer(sec.port, "b.two.test", "A", "198.51.100.1"), "stored data lost");
	cr_assert_neq(fe_test_sh("kdig @127.0.0.1 -p %u +short +timeout=1 +retry=0 c.two.test A "
	                         "| grep -q 198.51.100.3",
	                         sec.port),
	              0, "a removed zone was refreshed");

	/* given again: refreshed again (IXFR from the stored serial) */
	write_sec_conf(conf, both);
	kill(sec.pid, SIGHUP);
	if (!wait_answer(sec.port, "c.two.test", "A", "198.51.100.3")) {
		show(&sec);
		cr_assert_fail("the zone given again was not refreshed");
	}
	cr_assert_geq(fe_test_daemon_log_count(&sec, "zone two.test.: reload: a secondary of"), 1);
}
