/* Receive limits of a fedenumd secondary (docs/security.md X6, X8), fedenumd primary →
 * fedenumd secondary on loopback, TSIG hmac-sha256:
 *  - a new version over xfr.max-rrset-records, xfr.max-transfer-bytes or xfr.max-records:
 *    each refresh aborted at its limit, logged with it, counted (xfrin_limit), and the
 *    version held keeps serving; a version within the limits is then taken;
 *  - a primary that accepts the connection and never answers: aborted at
 *    xfr.in-max-time-ms, the old version serving;
 *  - a NOTIFY flood from the primary's address: at most xfr.notify-rate a second taken, the
 *    rest REFUSED and counted (notify_in_rate_limited);
 *  - three zones and xfr.max-transfers-in = 1: one refresh at a time, the others wait
 *    (xfrin_queued), all three arrive. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fe_test.h"

#define KEY    "xfr-peer.test."
#define SECRET "Ut6y2zK8J0m2qv8j6I0g9bC2i0k4yD2H7n3o5q1w8e4="
#define WAIT_S 40

static char tmp[256];
static struct fe_test_daemon pri, sec;
static uint16_t notify_port;

static void stop_all(void)
{
	if (sec.pid > 0) /* a clean exit: no sanitizer report, no leak */
		cr_expect_eq(fe_test_daemon_stop(&sec), 0, "fedenumd exit status");
	if (pri.pid > 0) /* a clean exit: no sanitizer report, no leak */
		cr_expect_eq(fe_test_daemon_stop(&pri), 0, "fedenumd exit status");
	if (tmp[0])
		fe_test_rmdir(tmp);
	tmp[0] = '\0';
}

static void setup(void)
{
	memset(&pri, 0, sizeof(pri));
	memset(&sec, 0, sizeof(sec));
	fe_test_mkdtemp(tmp, sizeof(tmp));
	char keyfile[300];
	snprintf(keyfile, sizeof(keyfile), "%s/peer.key", tmp);
	cr_assert_eq(fe_test_write_tsig_key(keyfile, KEY, SECRET), 0);
}

TestSuite(xfrin_limits, .init = setup, .fini = stop_all, .timeout = 240);

/* Zone @apex at @serial: a.APEX A 192.0.2.<serial>, @ntxt TXT of @txt_len octets on their own
 * names, @nset TXT on the one name big.APEX. */
static void write_zone(const char *apex, unsigned serial, int ntxt, int txt_len, int nset)
{
	char p[300];
	snprintf(p, sizeof(p), "%s/%szone", tmp, apex);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "$ORIGIN %s\n$TTL 300\n@ SOA ns1 hostmaster %u 7200 900 1209600 300\n"
	        "@ NS ns1\nns1 A 127.0.0.1\na A 192.0.2.%u\n",
	        apex, serial, serial);
	for (int i = 0; i < ntxt; i++)
		fprintf(f, "t%d TXT \"%0*d\"\n", i, txt_len, i);
	for (int i = 0; i < nset; i++)
		fprintf(f, "big TXT \"%d\"\n", i);
	fclose(f);
}

/* Primary of the zones "lim.test." (and l2, l3 when @three), NOTIFY to notify_port. */
static void start_primary(bool three)
{
	char key[300], notify[64], z1[300], z2[300], z3[300];
	snprintf(key, sizeof(key), "%s/peer.key", tmp);
	notify_port = fe_test_free_port();
	cr_assert_neq(notify_port, 0);
	snprintf(notify, sizeof(notify), "127.0.0.1@%u", notify_port);
	snprintf(z1, sizeof(z1), "%s/lim.test.zone", tmp);
	snprintf(z2, sizeof(z2), "%s/l2.test.zone", tmp);
	snprintf(z3, sizeof(z3), "%s/l3.test.zone", tmp);
	const char *argv[] = {
	        "--tsig-key", key,      "--notify", notify, "--zone", z1, three ? "--zone" : NULL,
	        z2,           "--zone", z3,         NULL};
	cr_assert_eq(fe_test_daemon_start(&pri, NULL, argv), 0);
}

/* Secondary of @zones (fedenumd.conf xfr.secondary, primary at @port) with @limits (keys
 * of the xfr group) in @dir (kept), listening on notify_port. */
static void start_secondary(const char *dir, uint16_t port, const char *const *zones,
                            const char *limits)
{
	char conf[300], l[64];
	snprintf(conf, sizeof(conf), "%s/secondary.conf", tmp);
	FILE *f = fopen(conf, "w");
	cr_assert_not_null(f);
	fprintf(f, "xfr = {\n  tsig-keys = [ \"peer.key\" ];\n  secondary = [ ");
	for (int i = 0; zones[i]; i++)
		fprintf(f, "%s\"%s@127.0.0.1@%u\"", i ? ", " : "", zones[i], port);
	fprintf(f, " ];\n  %s\n};\n", limits);
	fclose(f);
	snprintf(l, sizeof(l), "127.0.0.1@%u", notify_port);
	const char *argv[] = {"-c", conf, "--listen", l, "--log-level", "debug", NULL};
	cr_assert_eq(fe_test_daemon_start(&sec, dir, argv), 0);
}

static void show(void)
{
	fe_test_sh("echo '--- secondary'; tail -30 '%s'; echo '--- primary'; tail -10 '%s'",
	           sec.log_path, pri.log_path);
}

/* The counter line after SIGUSR1 contains @needle (a new line each time). */
static bool counters_say(const char *needle)
{
	int n = fe_test_daemon_log_count(&sec, "secondary counters (SIGUSR1)");
	kill(sec.pid, SIGUSR1);
	if (!fe_test_daemon_wait_log(&sec, "secondary counters (SIGUSR1)", n + 1, WAIT_S))
		return false;
	return fe_test_sh("grep 'secondary counters (SIGUSR1)' '%s' | tail -1 | grep -q '%s'",
	                  sec.log_path, needle) == 0;
}

/* The primary takes @serial of lim.test. (SIGHUP); the secondary, restarted in @dir with
 * @limits, refreshes at start and fails with @reason; serial 1 keeps serving. One limit at a
 * time: the IXFR from serial 1 carries every change since, so the limits of the other steps
 * would trip first. */
static void refused_at_the_limit(const char *dir, unsigned serial, const char *limits,
                                 const char *reason)
{
	static const char *const zones[] = {"lim.test.", NULL};
	kill(pri.pid, SIGHUP);
	char a[32];
	snprintf(a, sizeof(a), "192.0.2.%u", serial);
	cr_assert(fe_test_wait_answer(pri.port, "a.lim.test.", "A", a, WAIT_S),
	          "the primary has no serial %u", serial);
	if (sec.pid > 0) /* a clean exit: no sanitizer report, no leak */
		cr_expect_eq(fe_test_daemon_stop(&sec), 0, "fedenumd exit status");
	int before = fe_test_daemon_log_count(&sec, reason); /* the log is appended to */
	start_secondary(dir, pri.port, zones, limits);
	if (!fe_test_daemon_wait_log(&sec, reason, before + 1, WAIT_S)) {
		show();
		cr_assert_fail("no refresh failed with \"%s\"", reason);
	}
	cr_assert(fe_test_wait_answer(sec.port, "a.lim.test.", "A", "192.0.2.1", WAIT_S),
	          "serial 1 not served");
	cr_assert(fe_test_wait_answer(sec.port, "t9.lim.test.", "TXT", "9", WAIT_S),
	          "serial 1 data lost");
	char taken[32]; /* the line of a version taken: "serial 1 -> N, M messages" */
	snprintf(taken, sizeof(taken), "serial 1 -> %u, ", serial);
	cr_assert_eq(fe_test_daemon_log_count(&sec, taken), 0, "a version was taken");
	cr_assert(counters_say("xfrin_failed=1 .*xfrin_limit=1"), "not counted as a limit");
}

Test(xfrin_limits, transfers_over_a_limit_are_aborted_and_the_old_zone_kept)
{
	static const char *const zones[] = {"lim.test.", NULL};
	write_zone("lim.test.", 1, 100, 60, 10);
	start_primary(false);
	char dir[300];
	snprintf(dir, sizeof(dir), "%s/sec", tmp);
	cr_assert_eq(fe_test_sh("mkdir -p '%s'", dir), 0);
	start_secondary(dir, pri.port, zones, "");
	if (!fe_test_wait_answer(sec.port, "a.lim.test.", "A", "192.0.2.1", WAIT_S)) {
		show();
		cr_assert_fail("serial 1 not transferred");
	}
	/* one RRset of 60 records (IXFR: the zone it makes; then the AXFR as it arrives) */
	write_zone("lim.test.", 2, 100, 60, 60);
	refused_at_the_limit(dir, 2, "max-rrset-records = 50;",
	                     "(big.lim.test. TXT) of more than 50 records (limit)");
	/* 1,000 TXT of 200 octets: about 215 kB */
	write_zone("lim.test.", 3, 1000, 200, 10);
	refused_at_the_limit(dir, 3, "max-transfer-bytes = 150000;",
	                     "more than 150000 octets (limit)");
	/* 3,500 short TXT: 3,500 records more */
	write_zone("lim.test.", 4, 3500, 1, 10);
	refused_at_the_limit(dir, 4, "max-records = 3000;", "more than 3000 records (limit)");
	/* within the limits (the IXFR from serial 1 carries every change since: 7,000 records) */
	write_zone("lim.test.", 5, 200, 60, 10);
	kill(pri.pid, SIGHUP);
	cr_assert(fe_test_wait_answer(pri.port, "a.lim.test.", "A", "192.0.2.5", WAIT_S));
	cr_assert_eq(fe_test_daemon_stop(&sec), 0, "fedenumd exit status");
	start_secondary(dir, pri.port, zones, "max-records = 20000;");
	if (!fe_test_wait_answer(sec.port, "a.lim.test.", "A", "192.0.2.5", WAIT_S)) {
		show();
		cr_assert_fail("serial 5 not transferred");
	}
	cr_assert(fe_test_wait_answer(sec.port, "t199.lim.test.", "TXT", "199", WAIT_S));

	/* a primary that never answers: aborted at xfr.in-max-time-ms, serial 5 serving */
	cr_assert_eq(fe_test_daemon_stop(&sec), 0, "fedenumd exit status");
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	socklen_t al = sizeof(a);
	cr_assert_eq(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(lfd, 8), 0); /* the kernel completes connections; nobody answers */
	cr_assert_eq(getsockname(lfd, (struct sockaddr *)&a, &al), 0);
	start_secondary(dir, ntohs(a.sin_port), zones, "in-max-time-ms = 1000;");
	bool timed_out =
	        fe_test_daemon_wait_log(&sec, "transfer time limit (1000 ms) reached", 1, WAIT_S);
	close(lfd);
	if (!timed_out)
		show();
	cr_assert(timed_out, "the silent primary was not given up at xfr.in-max-time-ms");
	cr_assert(fe_test_wait_answer(sec.port, "a.lim.test.", "A", "192.0.2.5", WAIT_S),
	          "serial 5 not served");
	cr_assert(counters_say("xfrin_limit=1"));
}

Test(xfrin_limits, notify_flood_from_the_primary_is_rate_limited)
{
	static const char *const zones[] = {"lim.test.", NULL};
	write_zone("lim.test.", 1, 10, 10, 1);
	start_primary(false);
	start_secondary(NULL, pri.port, zones, "notify-rate = 2;");
	cr_assert(fe_test_wait_answer(sec.port, "a.lim.test.", "A", "192.0.2.1", WAIT_S));
	/* 20 signed NOTIFYs from the primary's address in one kdig run */
	char cmd[4096];
	int n = snprintf(cmd, sizeof(cmd),
	                 "kdig @127.0.0.1 -p %u +timeout=2 +retry=0 -y "
	                 "hmac-sha256:" KEY ":" SECRET,
	                 sec.port);
	for (int i = 0; i < 20; i++)
		n += snprintf(cmd + n, sizeof(cmd) - (size_t)n, " lim.test. NOTIFY");
	fe_test_sh("%s > '%s/kdig.out' 2>&1", cmd, tmp);
	int refused = fe_test_sh("exit $(grep -c 'status: REFUSED' '%s/kdig.out')", tmp);
	int ok = fe_test_sh("exit $(grep -c 'status: NOERROR' '%s/kdig.out')", tmp);
	cr_assert_eq(refused + ok, 20, "answers: %d REFUSED, %d NOERROR", refused, ok);
	/* a burst of 2, then 2 a second: 20 in one run cannot all pass */
	cr_assert_geq(refused, 5, "only %d of 20 NOTIFYs refused", refused);
	char needle[128];
	snprintf(needle, sizeof(needle), "notify_in_accepted=%d .*notify_in_rate_limited=%d", ok,
	         refused);
	cr_assert(counters_say(needle), "counters do not say %s", needle);
	cr_assert_geq(fe_test_daemon_log_count(&sec, "(xfr.notify-rate)"), 1);
	/* no transfer storm: a refusal starts nothing; the zone serves on */
	cr_assert_leq(fe_test_daemon_log_count(&sec, "NOTIFY from its primary: refresh"), ok);
	cr_assert(fe_test_wait_answer(sec.port, "a.lim.test.", "A", "192.0.2.1", WAIT_S));
}

Test(xfrin_limits, concurrent_refreshes_wait_for_a_slot)
{
	static const char *const zones[] = {"lim.test.", "l2.test.", "l3.test.", NULL};
	write_zone("lim.test.", 1, 50, 10, 1);
	write_zone("l2.test.", 1, 50, 10, 1);
	write_zone("l3.test.", 1, 50, 10, 1);
	start_primary(true);
	start_secondary(NULL, pri.port, zones, "max-transfers-in = 1;");
	for (int i = 0; zones[i]; i++) {
		char name[64];
		snprintf(name, sizeof(name), "t49.%s", zones[i]);
		if (!fe_test_wait_answer(sec.port, name, "TXT", "49", WAIT_S)) {
			show();
			cr_assert_fail("%s not transferred", zones[i]);
		}
	}
	/* all three are due at start; one slot: two waited */
	cr_assert(counters_say("xfrin_axfr=3 .*xfrin_queued=2"));
	cr_assert_eq(fe_test_daemon_log_count(&sec, "refresh waits (1 running"), 2);
}
