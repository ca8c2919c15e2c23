/* A fedenumd secondary under dnsperf load while a 100,000-record IXFR applies there: zero
 * SERVFAIL, and no more answers lost than dnsperf loses against the same server idle.
 *  - a fedenumd primary (TSIG hmac-sha256, NOTIFY) serves load.test. (20,000 numbers, one
 *    NAPTR each); the secondary (one query worker) transfers it;
 *  - dnsperf against the idle secondary (a few seconds, rate-limited), then the same load
 *    again while the primary loads version 2 (SIGHUP): 10 numbers changed and 99,980 new
 *    ones, an IXFR of 100,000 records (10 out, 99,990 in) that the secondary applies and
 *    commits while it answers (FE_TEST_QUICK=1: 19,990 new, an IXFR of 20,000 records). dnsperf
 * stops (SIGINT) more than its query timeout after the secondary first serves version 2, so a query
 * dropped during the apply counts as lost. The zone is unsigned and neither node has trust anchors:
 * what is measured is the store's version swap under queries (whole-zone validation of a signed
 * zone on this path is measured by hand, tests/bench/propagation.sh). Figures are printed, not
 * asserted. */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fe_test.h"
#include "fedenum/util.h"

#define KEY       "load-xfr.test."
#define SECRET    "ddQ481mSYrWL9I3hoIWMmGgZyxIpXCLJ6gTYHtMb8Sw="
#define ZONE      "load.test."
#define N1        20000u /* numbers in version 1 */
#define CHANGED   10u    /* of them changed in version 2 */
#define QPS       "2000"
#define IDLE_S    "3"
#define WAIT_MS   120000u
#define TIMEOUT_S 2u /* dnsperf's query timeout */

/* numbers new in version 2: 99,980 (with FE_TEST_QUICK=1, under the sanitizers: 19,990) */
static unsigned added = 99980u;
static char tmp[256];
static struct fe_test_daemon prim, sec;
static pid_t perf = -1;

static void stop_all(void)
{
	if (perf > 0) {
		kill(perf, SIGKILL);
		waitpid(perf, NULL, 0);
		perf = -1;
	}
	if (sec.pid > 0)
		cr_expect_eq(fe_test_daemon_stop(&sec), 0, "the secondary's exit status");
	if (prim.pid > 0)
		cr_expect_eq(fe_test_daemon_stop(&prim), 0, "the primary's exit status");
	if (tmp[0])
		fe_test_rmdir(tmp);
	tmp[0] = '\0';
}

/* Owner of number @i: its 7 digits reversed under the apex. */
static void owner(unsigned i, char *buf, size_t cap)
{
	char d[8];
	snprintf(d, sizeof(d), "%07u", i);
	snprintf(buf, cap, "%c.%c.%c.%c.%c.%c.%c." ZONE, d[6], d[5], d[4], d[3], d[2], d[1], d[0]);
}

/* Version @v of the zone into <tmp>/zone (renamed over, as tooling would). */
static void write_zone(unsigned v)
{
	char p[300], q[300], o[64];
	snprintf(p, sizeof(p), "%s/zone.tmp", tmp);
	snprintf(q, sizeof(q), "%s/zone", tmp);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "$ORIGIN " ZONE "\n$TTL 300\n@ SOA ns1 hostmaster %u 7200 900 1209600 300\n"
	        "@ NS ns1\nns1 A 127.0.0.1\n",
	        v);
	unsigned n = v == 1 ? N1 : N1 + added;
	for (unsigned i = 0; i < n; i++) {
		owner(i, o, sizeof(o));
		fprintf(f,
		        "%s NAPTR 10 100 \"u\" \"E2U+sip\" \"!^.*$!sip:+1555%07u@ims.example;%s!\" "
		        ".\n",
		        o, i, v == 2 && i < CHANGED ? "user=phone;v=2" : "user=phone");
	}
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(rename(p, q), 0);
}

static void setup(void)
{
	const char *q = getenv("FE_TEST_QUICK");
	if (q && *q && strcmp(q, "0") != 0)
		added = 19990u;
	memset(&prim, 0, sizeof(prim));
	memset(&sec, 0, sizeof(sec));
	fe_test_mkdtemp(tmp, sizeof(tmp));
	char p[300], o[64];
	snprintf(p, sizeof(p), "%s/xfr.key", tmp);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	fprintf(f, "key \"%s\" {\n\talgorithm hmac-sha256;\n\tsecret \"%s\";\n};\n", KEY, SECRET);
	fclose(f);
	/* the load: numbers of version 1 (answered NOERROR throughout) and numbers that only
	 * version 2 holds (NXDOMAIN, then NOERROR), 9 to 1 */
	snprintf(p, sizeof(p), "%s/queries.txt", tmp);
	f = fopen(p, "w");
	cr_assert_not_null(f);
	for (unsigned i = 0; i < 20000; i++) {
		owner(i % 10 == 9 ? N1 + (i * 7919u) % added : (i * 104729u) % N1, o, sizeof(o));
		fprintf(f, "%s NAPTR\n", o);
	}
	fclose(f);
}

TestSuite(xfr_under_load, .init = setup, .fini = stop_all, .timeout = 300);

struct perf_stats {
	unsigned long sent, completed, lost, interrupted, servfail, noerror, nxdomain;
	double qps;
};

/* Start dnsperf against the secondary for @seconds, output in <tmp>/@out. */
static void perf_start(const char *seconds, const char *out)
{
	char port[16], log[300], queries[300];
	snprintf(port, sizeof(port), "%u", sec.port);
	snprintf(log, sizeof(log), "%s/%s", tmp, out);
	snprintf(queries, sizeof(queries), "%s/queries.txt", tmp);
	char tmo[16];
	snprintf(tmo, sizeof(tmo), "%u", TIMEOUT_S);
	perf = fork();
	cr_assert_geq(perf, 0);
	if (perf == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("dnsperf", "dnsperf", "-s", "127.0.0.1", "-p", port, "-d", queries, "-l",
		       seconds, "-Q", QPS, "-c", "2", "-t", tmo, (char *)NULL);
		_exit(127);
	}
}

/* Wait for dnsperf (at most WAIT_MS) and read its statistics. */
static void perf_wait(const char *out, struct perf_stats *st)
{
	int status = -1;
	uint64_t t0 = fe_time_mono_ms();
	while (fe_time_mono_ms() - t0 < WAIT_MS && waitpid(perf, &status, WNOHANG) == 0)
		usleep(20000);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "dnsperf failed (%d)", status);
	perf = -1;
	char p[300], line[512];
	snprintf(p, sizeof(p), "%s/%s", tmp, out);
	FILE *f = fopen(p, "r");
	cr_assert_not_null(f);
	memset(st, 0, sizeof(*st));
	bool codes = false;
	while (fgets(line, sizeof(line), f)) {
		(void)(sscanf(line, " Queries sent: %lu", &st->sent) ||
		       sscanf(line, " Queries completed: %lu", &st->completed) ||
		       sscanf(line, " Queries lost: %lu", &st->lost) ||
		       sscanf(line, " Queries interrupted: %lu", &st->interrupted) ||
		       sscanf(line, " Queries per second: %lf", &st->qps));
		if (strstr(line, "Response codes:")) {
			codes = true;
			char *s = strstr(line, "SERVFAIL ");
			if (s)
				st->servfail = strtoul(s + 9, NULL, 10);
			s = strstr(line, "NOERROR ");
			if (s)
				st->noerror = strtoul(s + 8, NULL, 10);
			s = strstr(line, "NXDOMAIN ");
			if (s)
				st->nxdomain = strtoul(s + 9, NULL, 10);
		}
	}
	fclose(f);
	cr_assert(codes && st->sent > 0, "no dnsperf statistics in %s", p);
}

/* The secondary's SOA serial (0: none). */
static uint32_t sec_serial(void)
{
	ldns_pkt *p = fe_test_query(sec.host, sec.port, ZONE, LDNS_RR_TYPE_SOA, 0, 0);
	if (!p)
		return 0;
	uint32_t s = 0;
	ldns_rr_list *l = ldns_pkt_rr_list_by_type(p, LDNS_RR_TYPE_SOA, LDNS_SECTION_ANSWER);
	if (l && ldns_rr_list_rr_count(l) == 1)
		s = ldns_rdf2native_int32(ldns_rr_rdf(ldns_rr_list_rr(l, 0), 2));
	ldns_rr_list_deep_free(l);
	ldns_pkt_free(p);
	return s;
}

static bool wait_serial(uint32_t want)
{
	uint64_t t0 = fe_time_mono_ms();
	while (fe_time_mono_ms() - t0 < WAIT_MS) {
		if (sec_serial() == want)
			return true;
		usleep(10000);
	}
	return false;
}

static void print_stats(const char *what, const struct perf_stats *s)
{
	printf("xfr_under_load: %s: sent %lu, completed %lu, lost %lu, interrupted %lu; NOERROR "
	       "%lu, NXDOMAIN %lu, SERVFAIL %lu; %.0f qps\n",
	       what, s->sent, s->completed, s->lost, s->interrupted, s->noerror, s->nxdomain,
	       s->servfail, s->qps);
	fflush(stdout);
}

Test(xfr_under_load, ixfr_of_100000_records_under_dnsperf_no_servfail_no_loss, .timeout = 300)
{
	write_zone(1);
	uint16_t sport = fe_test_free_port();
	cr_assert_neq(sport, 0);
	char zone[300], key[300], notify[64], listen[64], secondary[128];
	snprintf(zone, sizeof(zone), "%s/zone", tmp);
	snprintf(key, sizeof(key), "%s/xfr.key", tmp);
	snprintf(notify, sizeof(notify), "127.0.0.1@%u", sport);
	const char *pargv[] = {"--zone", zone, "--tsig-key", key, "--notify", notify, NULL};
	cr_assert_eq(fe_test_daemon_start(&prim, NULL, pargv), 0);
	snprintf(listen, sizeof(listen), "127.0.0.1@%u", sport);
	snprintf(secondary, sizeof(secondary), ZONE "@127.0.0.1@%u", prim.port);
	const char *sargv[] = {"--tsig-key", key, "--secondary", secondary, "--workers", "1", NULL};
	cr_assert_eq(fe_test_daemon_start_at(&sec, NULL, listen, sargv), 0);
	cr_assert(wait_serial(1), "the secondary did not get version 1");

	struct perf_stats idle, busy;
	perf_start(IDLE_S, "idle.out");
	perf_wait("idle.out", &idle);
	print_stats("idle", &idle);

	/* Version 2 at the primary while the load runs. */
	write_zone(2);
	perf_start("60", "busy.out");
	usleep(300000);
	uint64_t t0 = fe_time_mono_ms();
	kill(prim.pid, SIGHUP);
	bool got = wait_serial(2);
	uint64_t t1 = fe_time_mono_ms();
	cr_assert_eq(waitpid(perf, NULL, WNOHANG), 0, "dnsperf ended before version 2 was served");
	usleep((TIMEOUT_S * 1000u + 500u) * 1000u);
	kill(perf, SIGINT);
	perf_wait("busy.out", &busy);
	print_stats("during the IXFR", &busy);
	if (!got)
		fe_test_sh("tail -n 30 '%s' '%s'", prim.log_path, sec.log_path);
	cr_assert(got, "the secondary did not get version 2");
	printf("xfr_under_load: SIGHUP at the primary -> version 2 served by the secondary: %llu "
	       "ms\n",
	       (unsigned long long)(t1 - t0));
	fe_test_sh("grep -h 'IXFR from\\|IXFR) to' '%s' '%s' | cut -c 22-", prim.log_path,
	           sec.log_path);

	/* It was an incremental transfer of 100,000 records between the SOAs. */
	cr_assert_eq(fe_test_daemon_log_count(&prim, "IXFR of " ZONE " to 127.0.0.1"), 1);
	cr_assert_eq(fe_test_daemon_log_count(&sec, "zone " ZONE ": IXFR from 127.0.0.1"), 1);
	cr_assert_eq(fe_test_daemon_log_count(&sec, "serial 1 -> 2, "), 1);
	/* 10 out, 10 + @added in, and the four SOAs of one difference sequence (RFC 1995 §4) */
	cr_assert_eq(fe_test_daemon_log_count(&prim, "(serial 2, IXFR) to 127.0.0.1"), 1);
	char rrs[64];
	snprintf(rrs, sizeof(rrs), " messages, %u RRs", CHANGED * 2 + added + 4);
	cr_assert_eq(fe_test_daemon_log_count(&prim, rrs), 1, "not an IXFR of %u records",
	             CHANGED * 2 + added);
	/* the new data and the changed data are served */
	char o[64];
	owner(N1 + added - 1, o, sizeof(o));
	ldns_pkt *p = fe_test_query(sec.host, sec.port, o, LDNS_RR_TYPE_NAPTR, 0, 0);
	cr_assert_not_null(p);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ldns_pkt_free(p);
	cr_assert_eq(fe_test_sh("kdig @127.0.0.1 -p %u +short NAPTR 0.0.0.0.0.0.0." ZONE
	                        " | grep -q 'v=2'",
	                        sec.port),
	             0);

	cr_assert_eq(idle.servfail, 0);
	cr_assert_eq(busy.servfail, 0, "SERVFAIL under the IXFR");
	cr_assert_gt(busy.completed, 0);
	cr_assert_gt(busy.nxdomain, 0); /* answered before version 2 ... */
	cr_assert_gt(busy.noerror, 0);
	cr_assert_leq(busy.lost, idle.lost, "answers lost under the IXFR: %lu (idle: %lu)",
	              busy.lost, idle.lost);
}
