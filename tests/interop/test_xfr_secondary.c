/* Zone transfer out (primary side) against real secondaries, loopback only,
 * ephemeral ports, TSIG hmac-sha256:
 *  - fedenumd → Knot DNS (knotd) and → NSD: the secondary bootstraps with AXFR; the zone file
 *    changes (new serial), SIGHUP, fedenumd stores the difference and journals it, sends a
 *    signed NOTIFY, and the secondary takes an IXFR: Knot's log says "IXFR, incoming ...
 *    finished" (no AXFR fallback), NSD's log gives the update's size (a few hundred octets
 *    against the zone's tens of kB); both then serve the new data;
 *  - kdig: a signed, NSEC3 zone transferred whole (every RR, SOA first and last, several
 *    messages, every message's TSIG verified by kdig);
 *  - refusals (docs/security.md X1): unsigned, unknown key, wrong secret, address not a
 *    configured secondary: each refused and counted (SIGUSR1 counter line);
 *  - kill -9 of fedenumd in the middle of a transfer (X9): to a client that holds it open
 *    (fedenumd restarts on its store with the zone intact), and to Knot taking a large IXFR
 *    (Knot keeps serving the version it had, then takes the new one from the restarted node);
 *  - the configuration file form (xfr.tsig-keys, xfr.notify). */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <fcntl.h>

#include "fe_test.h"
#include "fedenum/tsig.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"

#define KEY    "xfr-peer.test."
#define SECRET "Ut6y2zK8J0m2qv8j6I0g9bC2i0k4yD2H7n3o5q1w8e4="
#define ZONE   "xfr.test."
#define WAIT_S 60

static char tmp[256];
static struct fe_test_daemon fed;
static pid_t sec_pid = -1;

static void stop_all(void)
{
	if (sec_pid > 0) {
		kill(sec_pid, SIGTERM);
		for (int i = 0; i < 100 && waitpid(sec_pid, NULL, WNOHANG) == 0; i++)
			usleep(50000);
		kill(sec_pid, SIGKILL);
		waitpid(sec_pid, NULL, 0);
		sec_pid = -1;
	}
	if (fed.pid > 0)
		fe_test_daemon_stop(&fed);
	if (tmp[0])
		fe_test_rmdir(tmp);
	tmp[0] = '\0';
}

static void setup(void)
{
	memset(&fed, 0, sizeof(fed));
	fe_test_mkdtemp(tmp, sizeof(tmp));
	char p[300];
	snprintf(p, sizeof(p), "%s/peer.key", tmp);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	fprintf(f, "key \"%s\" {\n\talgorithm hmac-sha256;\n\tsecret \"%s\";\n};\n", KEY, SECRET);
	fclose(f);
}

TestSuite(xfr_secondary, .init = setup, .fini = stop_all, .timeout = 300);

/* The zone at @serial: @ntxt TXT records, and a.xfr.test. A 192.0.2.<serial>. */
static void write_zone(unsigned serial, int ntxt)
{
	char p[300];
	snprintf(p, sizeof(p), "%s/xfr.test.zone", tmp);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "$ORIGIN " ZONE "\n$TTL 300\n@ SOA ns1 hostmaster %u 7200 900 1209600 300\n"
	        "@ NS ns1\nns1 A 127.0.0.1\na A 192.0.2.%u\n",
	        serial, serial);
	for (int i = 0; i < ntxt; i++)
		fprintf(f, "t%d TXT \"%060d\"\n", i, i);
	fclose(f);
}

/* fedenumd serving the zone, with the key and @notify as its secondary; in @dir (its store
 * kept there across a restart) or a fresh temp dir (NULL). */
static void start_fed_in(const char *dir, const char *notify)
{
	char zone[300], key[300];
	snprintf(zone, sizeof(zone), "%s/xfr.test.zone", tmp);
	snprintf(key, sizeof(key), "%s/peer.key", tmp);
	const char *argv[] = {"--zone", zone, "--tsig-key", key, "--notify", notify, NULL};
	cr_assert_eq(fe_test_daemon_start(&fed, dir, argv), 0);
}

static void start_fed(const char *notify)
{
	start_fed_in(NULL, notify);
}

static void spawn(const char *log, const char *const *argv)
{
	sec_pid = fe_test_spawn(log, argv);
	cr_assert_gt(sec_pid, 0);
}

/* knot.conf with fedenumd (its current port) as the primary. */
static void write_knot_conf(uint16_t port)
{
	char conf[300];
	snprintf(conf, sizeof(conf), "%s/knot.conf", tmp);
	FILE *f = fopen(conf, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "server:\n    rundir: %s\n    listen: 127.0.0.1@%u\n"
	        "database:\n    storage: %s\n"
	        "log:\n  - target: stderr\n    any: info\n"
	        "key:\n  - id: " KEY "\n    algorithm: hmac-sha256\n    secret: " SECRET "\n"
	        "remote:\n  - id: primary\n    address: 127.0.0.1@%u\n    key: " KEY "\n"
	        "acl:\n  - id: notify\n    address: 127.0.0.1\n    key: " KEY
	        "\n    action: notify\n"
	        "template:\n  - id: default\n    storage: %s/knot\n    zonefile-sync: -1\n"
	        "zone:\n  - domain: " ZONE "\n    master: primary\n    acl: notify\n",
	        tmp, port, tmp, fed.port, tmp);
	fclose(f);
}

static void start_knot(uint16_t port)
{
	char conf[300], log[300];
	write_knot_conf(port);
	snprintf(conf, sizeof(conf), "%s/knot.conf", tmp);
	snprintf(log, sizeof(log), "%s/secondary.log", tmp);
	cr_assert_eq(fe_test_sh("mkdir -p '%s/knot'", tmp), 0); /* not fedenumd's zone file */
	const char *argv[] = {"knotd", "-c", conf, NULL};
	spawn(log, argv);
}

static void start_nsd(uint16_t port)
{
	char conf[300], log[300];
	snprintf(conf, sizeof(conf), "%s/nsd.conf", tmp);
	snprintf(log, sizeof(log), "%s/secondary.out", tmp);
	FILE *f = fopen(conf, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "server:\n    ip-address: 127.0.0.1\n    port: %u\n    zonesdir: \"%s\"\n"
	        "    database: \"\"\n    zonelistfile: \"%s/zone.list\"\n"
	        "    xfrdfile: \"%s/xfrd.state\"\n    xfrdir: \"%s\"\n    pidfile: \"%s/nsd.pid\"\n"
	        "    logfile: \"%s/secondary.log\"\n    username: \"\"\n    chroot: \"\"\n"
	        "    verbosity: 2\n    server-count: 1\n"
	        "remote-control:\n    control-enable: no\n"
	        "key:\n    name: \"" KEY "\"\n    algorithm: hmac-sha256\n    secret: \"" SECRET
	        "\"\n"
	        "zone:\n    name: \"" ZONE "\"\n    zonefile: \"xfr.test.secondary\"\n"
	        "    request-xfr: 127.0.0.1@%u " KEY "\n    allow-notify: 127.0.0.1 " KEY "\n",
	        port, tmp, tmp, tmp, tmp, tmp, tmp, fed.port);
	fclose(f);
	const char *argv[] = {"nsd", "-d", "-c", conf, NULL};
	spawn(log, argv);
}

/* Wait until the server at @port answers @name @type with @expect in its +short output. */
static bool wait_answer(uint16_t port, const char *name, const char *type, const char *expect)
{
	return fe_test_wait_answer(port, name, type, expect, WAIT_S);
}

static int log_has(const char *file, const char *pattern)
{
	return fe_test_sh("grep -c -- '%s' '%s/%s' >/dev/null", pattern, tmp, file) == 0;
}

static void show(const char *file)
{
	fe_test_sh("echo '--- %s'; tail -40 '%s/%s'; echo '--- fedenumd'; grep -i "
	           "'xfr\\|notify\\|transfer\\|serial' '%s' | tail -30",
	           file, tmp, file, fed.log_path);
}

/* Serial 1 to the secondary by AXFR, then serial 2 after SIGHUP by IXFR (NOTIFY first). */
static void axfr_then_ixfr(bool knot)
{
	write_zone(1, 400);
	uint16_t port = fe_test_free_port();
	cr_assert_neq(port, 0);
	char notify[64];
	snprintf(notify, sizeof(notify), "127.0.0.1@%u", port);
	start_fed(notify);
	if (knot)
		start_knot(port);
	else
		start_nsd(port);
	if (!wait_answer(port, "a." ZONE, "A", "192.0.2.1")) {
		show("secondary.log");
		cr_assert_fail("the secondary did not get serial 1");
	}
	cr_assert(wait_answer(port, "t399." ZONE, "TXT", "399"));

	write_zone(2, 400); /* a.xfr.test. changes; the 400 TXT do not */
	kill(fed.pid, SIGHUP);
	if (!wait_answer(port, ZONE, "SOA", " 2 7200 ")) {
		show("secondary.log");
		cr_assert_fail("the secondary did not get serial 2");
	}
	cr_assert(wait_answer(port, "a." ZONE, "A", "192.0.2.2"), "new data not served");
	cr_assert(wait_answer(port, "t0." ZONE, "TXT", "000000"), "old data lost");

	/* fedenumd's side: NOTIFY answered, an incremental transfer 1 -> 2. */
	cr_assert_geq(fe_test_daemon_log_count(&fed, "NOTIFY of " ZONE " serial 2 to"), 1);
	cr_assert_geq(fe_test_daemon_log_count(&fed, "acknowledged"), 1);
	cr_assert_geq(fe_test_daemon_log_count(&fed, "IXFR of " ZONE " to 127.0.0.1"), 1);
	cr_assert_geq(fe_test_daemon_log_count(&fed, "serial 1 -> 2, 1 journal entry"), 1);

	/* The secondary's side, from its own log. */
	if (knot) {
		if (!log_has("secondary.log", "IXFR, incoming") ||
		    !log_has("secondary.log", "AXFR, incoming"))
			show("secondary.log");
		cr_assert(log_has("secondary.log", "AXFR, incoming, remote 127.0.0.1@"));
		cr_assert(log_has("secondary.log", "IXFR, incoming, remote 127.0.0.1@.*finished"),
		          "Knot did not log an incremental transfer");
		cr_assert(log_has("secondary.log", "serial 1 -> 2"));
		cr_assert(!log_has("secondary.log", "fallback to AXFR"));
	} else {
		/* NSD logs the size of what it received: the zone (400 TXT of 60+ octets) is
		 * tens of kB, the IXFR (two SOAs, one A out, one A in) a few hundred octets. */
		cr_assert(log_has("secondary.log",
		                  "received update to serial 1 .*TSIG verified with key xfr-peer"
		                  ".* of [0-9]\\{5,\\} bytes"));
		cr_assert(log_has("secondary.log",
		                  "received update to serial 2 .*TSIG verified with key xfr-peer"
		                  ".* of [0-9]\\{2,3\\} bytes"),
		          "NSD's update to serial 2 was not incremental");
	}
}

Test(xfr_secondary, knot_axfr_then_ixfr_after_sighup)
{
	axfr_then_ixfr(true);
}

Test(xfr_secondary, nsd_axfr_then_ixfr_after_sighup)
{
	axfr_then_ixfr(false);
}

/* kdig AXFR with the key: exit status of kdig, output in <tmp>/kdig.out. */
static int kdig_axfr(const char *zone, const char *key_spec)
{
	return fe_test_sh("kdig @127.0.0.1 -p %u +timeout=5 +retry=0 %s %s AXFR %s > '%s/kdig.out' "
	                  "2>&1",
	                  fed.port, key_spec ? "-y" : "", key_spec ? key_spec : "", zone, tmp);
}

Test(xfr_secondary, signed_nsec3_zone_whole_and_every_message_signed)
{
	/* The demo registry zone: ECDSA, NSEC3; plus 3,000 TXT so that it takes messages. */
	char zone[300];
	snprintf(zone, sizeof(zone), "%s/xfr.test.zone", tmp);
	cr_assert_eq(
	        fe_test_sh("cp '%s/zones/e164.fed/e164.fed.zone.signed' '%s'", FE_TEST_SRC, zone),
	        0);
	FILE *f = fopen(zone, "a");
	cr_assert_not_null(f);
	for (int i = 0; i < 3000; i++)
		fprintf(f, "t%d.e164.fed. 300 IN TXT \"%060d\"\n", i, i);
	fclose(f);
	start_fed("127.0.0.1@53");
	cr_assert_eq(kdig_axfr("e164.fed.", "hmac-sha256:" KEY ":" SECRET), 0);
	/* kdig checks the TSIG of every message (it fails the transfer otherwise). */
	if (fe_test_sh("grep -q ';; ERROR\\|;; WARNING' '%s/kdig.out'", tmp) == 0)
		fe_test_sh("grep -v 'IN' '%s/kdig.out'", tmp);
	cr_assert_neq(fe_test_sh("grep -q ';; ERROR\\|;; WARNING' '%s/kdig.out'", tmp), 0);
	/* Every RR of the file (comments and blank lines aside), the SOA once more. */
	cr_assert_eq(fe_test_sh("n=$(ldns-read-zone -q '%s' 2>/dev/null | grep -vc '^;' ) && "
	                        "m=$(grep -v '^;' '%s/kdig.out' | grep -v TSIG | grep -c 'IN') && "
	                        "test $((n + 1)) -eq $m",
	                        zone, tmp),
	             0, "not every RR transferred");
	cr_assert_eq(fe_test_sh("grep -v '^;' '%s/kdig.out' | grep -v TSIG | grep 'IN' | head -1 | "
	                        "grep -q SOA && grep -v '^;' '%s/kdig.out' | grep -v TSIG | "
	                        "grep 'IN' | tail -1 | grep -q SOA",
	                        tmp, tmp),
	             0, "SOA is not first and last");
	cr_assert_eq(
	        fe_test_sh("grep -q 'IN.NSEC3.1 0 0' '%s/kdig.out' && grep -q "
	                   "'RRSIG.NSEC3 ' '%s/kdig.out' && grep -q 'RRSIG.SOA ' '%s/kdig.out'",
	                   tmp, tmp, tmp),
	        0, "NSEC3 chain or signatures missing");
	cr_assert_eq(fe_test_sh("grep -q 'Received .* B (\\([2-9]\\|[0-9][0-9]\\+\\) messages' "
	                        "'%s/kdig.out'",
	                        tmp),
	             0, "expected several messages");
}

Test(xfr_secondary, refusals_are_answered_and_counted)
{
	write_zone(1, 10);
	/* The only secondary is 127.0.0.2: requests from 127.0.0.1 come from elsewhere. */
	start_fed("127.0.0.2@53");
	cr_assert_neq(kdig_axfr(ZONE, NULL), 0);
	cr_assert_eq(fe_test_sh("grep -q \"error 'REFUSED'\" '%s/kdig.out'", tmp), 0);
	cr_assert_neq(kdig_axfr(ZONE, "hmac-sha256:other-key.test.:" SECRET), 0);
	cr_assert_eq(fe_test_sh("grep -q 'BADKEY' '%s/kdig.out'", tmp), 0);
	cr_assert_neq(
	        kdig_axfr(ZONE, "hmac-sha256:" KEY ":AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
	        0);
	cr_assert_eq(fe_test_sh("grep -q 'BADSIG' '%s/kdig.out'", tmp), 0);
	/* The right key from an address that is not a configured secondary: signed REFUSED. */
	cr_assert_neq(kdig_axfr(ZONE, "hmac-sha256:" KEY ":" SECRET), 0);
	cr_assert_eq(fe_test_sh("grep -q \"error 'REFUSED'\" '%s/kdig.out'", tmp), 0);
	cr_assert_eq(fe_test_sh("kdig @127.0.0.1 -p %u +timeout=5 +retry=0 -y hmac-sha256:" KEY
	                        ":" SECRET " IXFR=0 " ZONE " 2>&1 | grep -q \"error 'REFUSED'\"",
	                        fed.port),
	             0);
	kill(fed.pid, SIGUSR1);
	for (int i = 0; i < 40 && fe_test_daemon_log_count(&fed, "xfr_axfr=") == 0; i++)
		usleep(100000);
	cr_assert_eq(fe_test_daemon_log_count(&fed, "xfr_axfr=0 "), 1);
	cr_assert_eq(fe_test_daemon_log_count(&fed, "xfr_refused_unsigned=1 "), 1);
	cr_assert_eq(fe_test_daemon_log_count(&fed, "xfr_refused_tsig=2 "), 1);
	cr_assert_eq(fe_test_daemon_log_count(&fed, "xfr_refused_address=2 "), 1);
	cr_assert_geq(fe_test_daemon_log_count(&fed, "refused: no TSIG"), 1);
	cr_assert_geq(fe_test_daemon_log_count(&fed, "refused: address not a configured"), 1);
	/* no data went out, and the zone serves on */
	cr_assert(wait_answer(fed.port, "a." ZONE, "A", "192.0.2.1"), "the zone is not served");
}

/* X9: fedenumd killed with SIGKILL in the middle of a transfer (a client holds it open after
 * the first message): Knot, which took the zone before, keeps serving it; fedenumd restarts
 * on its store with the zone whole (same serial, a full AXFR of every RR). */
Test(xfr_secondary, kill9_mid_transfer_leaves_both_sides_intact, .timeout = 300)
{
	write_zone(7, 20000); /* ~1.5 MB: tens of messages */
	uint16_t port = fe_test_free_port();
	cr_assert_neq(port, 0);
	char notify[64];
	snprintf(notify, sizeof(notify), "127.0.0.1@%u", port);
	start_fed_in(tmp, notify);
	start_knot(port);
	if (!wait_answer(port, "t19999." ZONE, "TXT", "19999")) {
		show("secondary.log");
		cr_assert_fail("the secondary did not get the zone");
	}

	/* A signed AXFR that reads one message and stops reading. */
	uint8_t q[512];
	size_t qn = fe_test_make_query(ZONE, FE_T_AXFR, FE_TQ_TCP | FE_TQ_NOEDNS, 0, q, sizeof(q));
	cr_assert_gt(qn, 0);
	struct fe_tsig_key *key;
	cr_assert_eq(fe_tsig_key_from_string("hmac-sha256:" KEY ":" SECRET, &key), FE_OK);
	cr_assert_eq(fe_tsig_sign(q, &qn, sizeof(q), key, NULL, 0, NULL, NULL, NULL), FE_OK);
	fe_tsig_key_destroy(key);
	int fd = fe_test_tcp_connect(fed.host, fed.port);
	cr_assert_geq(fd, 0);
	uint8_t l[2] = {(uint8_t)(qn >> 8), (uint8_t)qn};
	cr_assert_eq(fe_test_write_all(fd, l, 2), 0);
	cr_assert_eq(fe_test_write_all(fd, q, qn), 0);
	static uint8_t m[65536];
	ssize_t n = fe_test_tcp_read_msg(fd, m, sizeof(m), 5000);
	cr_assert_gt(n, 30000, "the first message of the transfer did not come (%zd)", n);
	cr_assert_eq(fe_get_be16(m + 6) > 100, true, "first message: %u RRs", fe_get_be16(m + 6));
	fe_test_daemon_kill9(&fed);
	close(fd);

	/* The secondary: its zone as it was, while the primary is gone. */
	cr_assert(wait_answer(port, ZONE, "SOA", " 7 7200 "));
	cr_assert(wait_answer(port, "t12345." ZONE, "TXT", "12345"));

	/* fedenumd: restarts on its store, the zone whole. */
	start_fed_in(tmp, notify);
	cr_assert_geq(fe_test_daemon_log_count(&fed, "serial 7"), 1);
	cr_assert_eq(kdig_axfr(ZONE, "hmac-sha256:" KEY ":" SECRET), 0);
	cr_assert_eq(fe_test_sh("grep -q ';; ERROR' '%s/kdig.out'", tmp), 1);
	cr_assert_eq(fe_test_sh("test $(grep -v '^;' '%s/kdig.out' | grep -v TSIG | grep -c "
	                        "'IN') -eq 20005",
	                        tmp),
	             0, "not the whole zone after the restart");
}

/* Occurrences of @needle in the file @name of tmp (0 when it cannot be read). */
static unsigned count_in(const char *name, const char *needle)
{
	char p[300];
	snprintf(p, sizeof(p), "%s/%s", tmp, name);
	FILE *f = fopen(p, "r");
	if (!f)
		return 0;
	char line[1024];
	unsigned n = 0;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

/* X9, the secondary's side: fedenumd is stopped and killed while Knot is taking a new
 * version (a 200,000-RR IXFR, ~18 MB): Knot keeps serving the version it had; fedenumd,
 * restarted on its store, announces the zone again and Knot then gets the new version. */
Test(xfr_secondary, kill9_while_the_secondary_transfers_keeps_its_old_zone, .timeout = 300)
{
	write_zone(7, 10);
	uint16_t port = fe_test_free_port();
	cr_assert_neq(port, 0);
	char notify[64];
	snprintf(notify, sizeof(notify), "127.0.0.1@%u", port);
	start_fed_in(tmp, notify);
	start_knot(port);
	cr_assert(wait_answer(port, ZONE, "SOA", " 7 7200 "), "Knot did not get serial 7");
	unsigned started = count_in("secondary.log", "started");

	write_zone(8, 200000);
	kill(fed.pid, SIGHUP);
	/* Knot logs the transfer's start: stop fedenumd at once, then kill it. */
	uint64_t t0 = fe_time_mono_ms();
	while (count_in("secondary.log", "started") == started && fe_time_mono_ms() - t0 < 120000)
		usleep(1000);
	cr_assert_gt(count_in("secondary.log", "started"), started, "Knot did not start");
	kill(fed.pid, SIGSTOP);
	fe_test_daemon_kill9(&fed);

	sleep(2);
	cr_assert(wait_answer(port, ZONE, "SOA", " 7 7200 "));
	cr_assert(wait_answer(port, "a." ZONE, "A", "192.0.2.7"));
	cr_assert_eq(count_in("secondary.log", "serial 7 -> 8"), 0, "Knot took a cut transfer");
	cr_assert_eq(
	        fe_test_sh("kdig @127.0.0.1 -p %u +short t150000." ZONE " TXT | grep -q .", port),
	        1, "data of the cut transfer is served");

	start_fed_in(tmp, notify);
	cr_assert_geq(fe_test_daemon_log_count(&fed, "serial 8"), 1);
	/* The restarted fedenumd listens on another ephemeral port: tell Knot, refresh. */
	write_knot_conf(port);
	cr_assert_eq(fe_test_sh("knotc -c '%s/knot.conf' reload >/dev/null && knotc -c "
	                        "'%s/knot.conf' zone-refresh " ZONE " >/dev/null",
	                        tmp, tmp),
	             0);
	if (!wait_answer(port, "t199999." ZONE, "TXT", "199999")) {
		show("secondary.log");
		cr_assert_fail("Knot did not get serial 8 after the restart");
	}
	cr_assert(wait_answer(port, "a." ZONE, "A", "192.0.2.8"));
}

/* The configuration file form: xfr.tsig-keys (relative to the file) and xfr.notify; a bad
 * secondary address is refused with file:line by --check-config. */
Test(xfr_secondary, config_file_form)
{
	write_zone(1, 10);
	char conf[300], zone[300];
	snprintf(conf, sizeof(conf), "%s/fedenumd.conf", tmp);
	snprintf(zone, sizeof(zone), "%s/xfr.test.zone", tmp);
	FILE *f = fopen(conf, "w");
	cr_assert_not_null(f);
	fprintf(f, "xfr = {\n  tsig-keys = [ \"peer.key\" ];\n  notify = [ \"127.0.0.1@53\" ];\n"
	           "  max-transfers = 2;\n  max-time-ms = 60000;\n};\n");
	fclose(f);
	const char *argv[] = {"-c", conf, "--zone", zone, NULL};
	cr_assert_eq(fe_test_daemon_start(&fed, NULL, argv), 0);
	cr_assert_eq(kdig_axfr(ZONE, "hmac-sha256:" KEY ":" SECRET), 0);
	cr_assert_eq(fe_test_sh("grep -q 't9.xfr.test.' '%s/kdig.out'", tmp), 0);
	cr_assert_geq(fe_test_daemon_log_count(&fed, "zone transfer (primary): 1 TSIG key, 1 "
	                                             "secondary"),
	              1);

	f = fopen(conf, "w");
	cr_assert_not_null(f);
	fprintf(f, "xfr = {\n  tsig-keys = [ \"peer.key\", \"missing.key\" ];\n"
	           "  notify = [ \"secondary.example@53\" ];\n};\n");
	fclose(f);
	cr_assert_eq(fe_test_sh("%s -c '%s' --check-config > '%s/check.out' 2>&1", FE_TEST_FEDENUMD,
	                        conf, tmp),
	             1);
	cr_assert_eq(fe_test_sh("grep -q 'fedenumd.conf:2: xfr.tsig-keys: .*missing.key' "
	                        "'%s/check.out' && grep -q 'fedenumd.conf:3: xfr.notify' "
	                        "'%s/check.out'",
	                        tmp, tmp),
	             0);
}

/* Send the request @q over a new TCP connection; the first message of the answer into @m. */
static ssize_t one_exchange(const uint8_t *q, size_t qn, uint8_t *m, size_t cap)
{
	int fd = fe_test_tcp_connect(fed.host, fed.port);
	cr_assert_geq(fd, 0);
	uint8_t l[2] = {(uint8_t)(qn >> 8), (uint8_t)qn};
	cr_assert_eq(fe_test_write_all(fd, l, 2), 0);
	cr_assert_eq(fe_test_write_all(fd, q, qn), 0);
	ssize_t n = fe_test_tcp_read_msg(fd, m, cap, 5000);
	close(fd);
	return n;
}

/* THREATS X2 on the primary side: a transfer request signed an hour ago gets NOTAUTH with a
 * signed BADTIME and no data; the same valid request sent twice is served once, the replay
 * refused; the zone serves on. */
Test(xfr_secondary, stale_and_replayed_requests_are_refused)
{
	write_zone(1, 10);
	start_fed("127.0.0.1@53");
	struct fe_tsig_key *key;
	cr_assert_eq(fe_tsig_key_from_string("hmac-sha256:" KEY ":" SECRET, &key), FE_OK);
	static uint8_t q[512], m[65536];
	uint8_t mac[FE_TSIG_MAC_MAX];
	size_t mac_len = 0;
	struct fe_tsig_sign_opts so;
	fe_tsig_sign_opts_init(&so);
	so.time_signed = (int64_t)time(NULL) - 3600;
	size_t qn = fe_test_make_query(ZONE, FE_T_AXFR, FE_TQ_TCP | FE_TQ_NOEDNS, 0, q, sizeof(q));
	cr_assert_eq(fe_tsig_sign(q, &qn, sizeof(q), key, NULL, 0, &so, mac, &mac_len), FE_OK);
	ssize_t n = one_exchange(q, qn, m, sizeof(m));
	cr_assert_gt(n, 12);
	cr_assert_eq(m[3] & 0xf, FE_TSIG_NOTAUTH);
	cr_assert_eq(fe_get_be16(m + 6), 0, "data sent with a stale request");
	struct fe_tsig_result res;
	cr_assert_eq(fe_tsig_verify_response(m, (size_t)n, key, mac, mac_len, &res), FE_EPERM);
	cr_assert(res.mac_ok, "BADTIME answer not signed");
	cr_assert_eq(res.rr_error, FE_TSIG_BADTIME);

	qn = fe_test_make_query(ZONE, FE_T_AXFR, FE_TQ_TCP | FE_TQ_NOEDNS, 0, q, sizeof(q));
	cr_assert_eq(fe_tsig_sign(q, &qn, sizeof(q), key, NULL, 0, NULL, NULL, NULL), FE_OK);
	n = one_exchange(q, qn, m, sizeof(m));
	cr_assert_gt(n, 12);
	cr_assert_eq(m[3] & 0xf, 0, "the first request is served");
	cr_assert_gt(fe_get_be16(m + 6), 10);
	n = one_exchange(q, qn, m, sizeof(m));
	cr_assert_gt(n, 12);
	cr_assert_eq(m[3] & 0xf, FE_TSIG_NOTAUTH, "the replay is refused");
	cr_assert_eq(fe_get_be16(m + 6), 0, "data sent to a replay");
	fe_tsig_key_destroy(key);
	cr_assert(wait_answer(fed.port, "a." ZONE, "A", "192.0.2.1"), "the zone is not served");
	kill(fed.pid, SIGUSR1);
	for (int i = 0; i < 40 && fe_test_daemon_log_count(&fed, "xfr_axfr=") == 0; i++)
		usleep(100000);
	cr_assert_eq(fe_test_daemon_log_count(&fed, "xfr_axfr=1 "), 1);
	cr_assert_eq(fe_test_daemon_log_count(&fed, "xfr_refused_tsig=2 "), 1);
}
