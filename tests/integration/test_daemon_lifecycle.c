/* fedenumd as a process: SIGHUP reloads while answering, failing zones, SIGTERM/SIGINT,
 * --check-config (docs/security.md K1), a reload refused for a broken configuration. */
#include "net_common.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>

static struct fe_test_daemon d;
static char dir[256];

static void setup(void)
{
	fe_test_mkdtemp(dir, sizeof(dir));
}

static void stop(void)
{
	if (d.pid > 0)
		cr_expect_eq(fe_test_daemon_stop(&d), 0, "fedenumd exit status");
	fe_test_rmdir(dir);
}

TestSuite(daemon, .init = setup, .fini = stop, .timeout = 120);

/* <dir>/<name>: net.test. with @serial, plus "new A 192.0.2.99" when @with_new; written
 * to a temp file and renamed, as an operator's tooling would. @broken adds a bad record at
 * line 6. */
static void write_zone(const char *name, unsigned serial, bool with_new, bool broken)
{
	char path[512], tmp[520];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	nc_write_file(tmp,
	              "$ORIGIN net.test.\n"
	              "$TTL 300\n"
	              "@ IN SOA ns1 hostmaster %u 3600 600 86400 300\n"
	              "@ IN NS ns1\n"
	              "ns1 IN A 127.0.0.1\n"
	              "%s"
	              "www IN A 192.0.2.1\n"
	              "%s",
	              serial, broken ? "bad IN A 192.0.2.300\n" : "",
	              with_new ? "new IN A 192.0.2.99\n" : "");
	cr_assert_eq(rename(tmp, path), 0);
}

static long long soa_serial(void)
{
	ldns_pkt *p = fe_test_query(d.host, d.port, "net.test.", LDNS_RR_TYPE_SOA, 0, 0);
	if (!p)
		return -1;
	long long serial = -1;
	ldns_rr_list *an = ldns_pkt_answer(p);
	if (ldns_pkt_get_rcode(p) == LDNS_RCODE_NOERROR && ldns_rr_list_rr_count(an) == 1)
		serial = ldns_rdf2native_int32(ldns_rr_rdf(ldns_rr_list_rr(an, 0), 2));
	ldns_pkt_free(p);
	return serial;
}

static unsigned rcode_of(const char *name, uint16_t type)
{
	ldns_pkt *p = fe_test_query(d.host, d.port, name, type, 0, 0);
	cr_assert_not_null(p, "no answer for %s", name);
	unsigned rc = ldns_pkt_get_rcode(p);
	ldns_pkt_free(p);
	return rc;
}

static void start_with_zone(const char *name, const char *workers)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	const char *argv[] = {"--zone", path, "--workers", workers, NULL};
	cr_assert_eq(fe_test_daemon_start(&d, dir, argv), 0);
}

static bool wait_log(const char *needle, int count, int timeout_ms)
{
	uint64_t deadline = nc_now_ms() + (uint64_t)timeout_ms;
	while (nc_now_ms() < deadline) {
		if (fe_test_daemon_log_count(&d, needle) >= count)
			return true;
		nc_sleep_ms(20);
	}
	return false;
}

/* ---- SIGHUP while answering --------------------------------------------------------- */

struct hammer {
	pthread_t t;
	atomic_bool stop;
	atomic_uint ok, bad;
	uint16_t port;
};

static void *hammer_main(void *arg)
{
	struct hammer *h = arg;
	uint8_t q[512], a[4096];
	size_t n = fe_test_make_query("www.net.test.", LDNS_RR_TYPE_A, 0, 0, q, sizeof(q));
	while (!atomic_load(&h->stop)) {
		ssize_t r = fe_test_udp_raw("127.0.0.1", h->port, q, n, a, sizeof(a), 2000);
		if (r > 12 && nc_rcode(a) == LDNS_RCODE_NOERROR && fe_get_be16(a + 6) == 1)
			atomic_fetch_add(&h->ok, 1);
		else
			atomic_fetch_add(&h->bad, 1);
	}
	return NULL;
}

Test(daemon, sighup_reload_new_serial_while_answering)
{
	write_zone("z.zone", 1, false, false);
	start_with_zone("z.zone", "2");
	cr_assert_eq(soa_serial(), 1);
	cr_assert_eq(rcode_of("new.net.test.", LDNS_RR_TYPE_A), LDNS_RCODE_NXDOMAIN);

	struct hammer h = {.port = d.port};
	cr_assert_eq(pthread_create(&h.t, NULL, hammer_main, &h), 0);
	nc_sleep_ms(200);
	write_zone("z.zone", 2, true, false);
	cr_assert_eq(kill(d.pid, SIGHUP), 0);
	long long serial = -1;
	for (int i = 0; i < 500 && serial != 2; i++) {
		nc_sleep_ms(20);
		serial = soa_serial();
	}
	nc_sleep_ms(200);
	atomic_store(&h.stop, true);
	pthread_join(h.t, NULL);
	cr_assert_eq(serial, 2, "new serial not served after SIGHUP");
	cr_assert_eq(rcode_of("new.net.test.", LDNS_RR_TYPE_A), LDNS_RCODE_NOERROR);
	cr_assert_gt(atomic_load(&h.ok), 10, "the hammer got %u answers", atomic_load(&h.ok));
	cr_assert_eq(atomic_load(&h.bad), 0, "%u queries failed during the reload",
	             atomic_load(&h.bad));
	cr_assert(wait_log("reload done: 1 zones: 1 loaded", 1, 2000));
}

Test(daemon, sighup_broken_zone_keeps_previous_version)
{
	write_zone("z.zone", 1, false, false);
	start_with_zone("z.zone", "1");
	cr_assert_eq(soa_serial(), 1);
	write_zone("z.zone", 2, true, true);
	cr_assert_eq(kill(d.pid, SIGHUP), 0);
	cr_assert(wait_log("reload done", 1, 10000));
	char where[600];
	snprintf(where, sizeof(where), "%s/z.zone:6: ", dir);
	cr_assert_eq(fe_test_daemon_log_count(&d, where), 1, "no error naming %s", where);
	cr_assert_eq(soa_serial(), 1, "the previous version must keep serving");
	cr_assert_eq(rcode_of("new.net.test.", LDNS_RR_TYPE_A), LDNS_RCODE_NXDOMAIN);
	cr_assert(fe_test_daemon_alive(&d));
	/* Fixed file, one more HUP: the new version arrives. */
	write_zone("z.zone", 3, true, false);
	cr_assert_eq(kill(d.pid, SIGHUP), 0);
	cr_assert(wait_log("reload done", 2, 10000));
	cr_assert_eq(soa_serial(), 3);
}

Test(daemon, failing_zone_at_start_does_not_stop_the_daemon)
{
	write_zone("good.zone", 5, false, false);
	char bad[512], good[512];
	snprintf(bad, sizeof(bad), "%s/bad.zone", dir);
	snprintf(good, sizeof(good), "%s/good.zone", dir);
	nc_write_file(bad, "$ORIGIN broken.test.\n"
	                   "@ 300 IN SOA ns1 hostmaster 1 3600 600 86400 300\n"
	                   "@ 300 IN NS ns1\n"
	                   "x 300 IN AAAA not-an-address\n");
	const char *argv[] = {"--zone", bad, "--zone", good, NULL};
	cr_assert_eq(fe_test_daemon_start(&d, dir, argv), 0);
	char where[600];
	snprintf(where, sizeof(where), "%s:4: ", bad);
	cr_assert_eq(fe_test_daemon_log_count(&d, where), 1, "no error naming %s", where);
	cr_assert_eq(fe_test_daemon_log_count(&d, "(1 loaded, 0 unchanged, 1 failed, 0 refused)"),
	             1);
	cr_assert_eq(soa_serial(), 5);
	cr_assert_eq(rcode_of("x.broken.test.", LDNS_RR_TYPE_AAAA), LDNS_RCODE_REFUSED);
}

/* ---- stopping ------------------------------------------------------------------------ */

Test(daemon, sigterm_drains_and_exits_0)
{
	write_zone("z.zone", 1, false, false);
	start_with_zone("z.zone", "2");
	int fd = fe_test_tcp_connect(d.host, d.port);
	cr_assert_geq(fd, 0);
	uint8_t q[600], a[65536];
	size_t n = nc_tcp_query("www.net.test.", LDNS_RR_TYPE_A, 7, q, sizeof(q));
	cr_assert_eq(fe_test_write_all(fd, q, n), 0);
	cr_assert_gt(fe_test_tcp_read_msg(fd, a, sizeof(a), 2000), 0);
	uint64_t t0 = nc_now_ms();
	int st = fe_test_daemon_stop(&d);
	cr_assert_eq(st, 0, "exit status %d", st);
	cr_assert_lt(nc_now_ms() - t0, 5000, "an idle client delayed the exit");
	cr_assert(fe_test_wait_closed(fd, 1000));
	close(fd);
	d.pid = 0;
	FILE *f = fopen(d.log_path, "r");
	cr_assert_not_null(f);
	char line[4096];
	bool stopped = false, counters = false;
	while (fgets(line, sizeof(line), f)) {
		stopped |= strstr(line, "info: stopped") != NULL;
		counters |= strstr(line, "counters (exit): queries=1 ") != NULL;
	}
	fclose(f);
	cr_assert(stopped);
	cr_assert(counters, "exit counters line");
}

Test(daemon, sigint_exits_0)
{
	write_zone("z.zone", 1, false, false);
	start_with_zone("z.zone", "1");
	cr_assert_eq(kill(d.pid, SIGINT), 0);
	int st = 0;
	pid_t w = 0;
	for (int i = 0; i < 500 && w != d.pid; i++) {
		w = waitpid(d.pid, &st, WNOHANG);
		if (w != d.pid)
			nc_sleep_ms(20);
	}
	cr_assert_eq(w, d.pid, "no exit on SIGINT");
	d.pid = 0;
	cr_assert(WIFEXITED(st));
	cr_assert_eq(WEXITSTATUS(st), 0);
}

/* ---- configuration (docs/security.md K1) --------------------------------------------------- */

/* Run --check-config on @conf; returns the exit status, stderr+stdout in @out. */
static int check_config(const char *conf, char *out, size_t cap)
{
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "'%s' --check-config -c '%s'", FE_TEST_FEDENUMD, conf);
	return nc_run(dir, out, cap, cmd);
}

static void expect_refused(const char *conf_body, const char *fed_body, const char *where_file,
                           int line, const char *what)
{
	char conf[512], fed[512], out[8192], want[700];
	snprintf(conf, sizeof(conf), "%s/fedenumd.conf", dir);
	snprintf(fed, sizeof(fed), "%s/federation.conf", dir);
	nc_write_file(conf, "%s", conf_body);
	nc_write_file(fed, "%s", fed_body);
	int st = check_config(conf, out, sizeof(out));
	cr_assert_eq(st, 1, "%s: exit %d, output:\n%s", what, st, out);
	snprintf(want, sizeof(want), "%s/%s:%d: ", dir, where_file, line);
	cr_assert_not_null(strstr(out, want), "%s: expected \"%s\" in:\n%s", what, want, out);
}

#define GOOD_FED                                                         \
	"name = \"t\";\n"                                                \
	"clients = [\"127.0.0.0/8\"];\n"                                 \
	"members = ( { name = \"registry\"; role = \"registry\"; } );\n" \
	"zones = ( { apex = \"net.test.\"; member = \"registry\"; file = \"" NET_ZONE "\"; } );\n"

Test(daemon, check_config_errors_with_file_and_line)
{
	char conf[512], out[8192];
	snprintf(conf, sizeof(conf), "%s/fedenumd.conf", dir);
	expect_refused("federation = \"federation.conf\";\n"
	               "server: {\n"
	               "  colour = \"blue\";\n"
	               "};\n",
	               GOOD_FED, "fedenumd.conf", 3, "unknown key");
	expect_refused("federation = \"federation.conf\";\n"
	               "server: { workers = \"two\"; };\n",
	               GOOD_FED, "fedenumd.conf", 2, "wrong type");
	expect_refused("federation = \"federation.conf\";\n"
	               "\n"
	               "server: { tcp-idle-timeout-ms = 5; };\n",
	               GOOD_FED, "fedenumd.conf", 3, "out of range");
	expect_refused("federation = \"federation.conf\";\n"
	               "log: { level = \"loud\"; };\n",
	               GOOD_FED, "fedenumd.conf", 2, "bad enum");
	expect_refused("server: { workers = 1; };\n"
	               "federation = \"no-such-federation.conf\";\n",
	               GOOD_FED, "fedenumd.conf", 2, "missing federation file");
	expect_refused("federation = \"federation.conf\";\n"
	               "server: { listen = [\"127.0.0.1@5300\" };\n",
	               GOOD_FED, "fedenumd.conf", 2, "syntax error");
	expect_refused("federation = \"federation.conf\";\n",
	               "name = \"t\";\n"
	               "members = ( { name = \"registry\"; role = \"registry\"; },\n"
	               "  { name = \"m\"; tsig-key = \"k\";\n"
	               "    tsig-secret-file = \"keys/missing.tsig\"; } );\n",
	               "federation.conf", 4, "missing secret file");
	expect_refused("federation = \"federation.conf\";\n",
	               "name = \"t\";\n"
	               "clients = [\"127.0.0.1/8\"];\n"
	               "members = ( { name = \"registry\"; role = \"registry\"; } );\n",
	               "federation.conf", 2, "prefix with host bits");
	/* A missing zone file fails that zone only: a warning with file:line. */
	{
		char mconf[512], fed[512], mout[8192], want[700];
		snprintf(mconf, sizeof(mconf), "%s/fedenumd.conf", dir);
		snprintf(fed, sizeof(fed), "%s/federation.conf", dir);
		nc_write_file(mconf, "federation = \"federation.conf\";\n");
		nc_write_file(fed, "name = \"t\";\n"
		                   "members = ( { name = \"registry\"; role = \"registry\"; } );\n"
		                   "zones = ( { apex = \"net.test.\"; member = \"registry\";\n"
		                   "            file = \"nope.zone\"; } );\n");
		cr_assert_eq(check_config(mconf, mout, sizeof(mout)), 0, "%s", mout);
		snprintf(want, sizeof(want), "warning: %s/federation.conf:4: zones.file", dir);
		cr_assert_not_null(strstr(mout, want), "%s", mout);
	}
	expect_refused("federation = \"federation.conf\";\n",
	               "name = \"t\";\n"
	               "members = ( { name = \"registry\"; role = \"registry\"; } );\n"
	               "zones = ( { apex = \"net.test.\"; member = \"nobody\"; file = \"" NET_ZONE
	               "\"; } );\n"
	               "extra = true;\n",
	               "federation.conf", 4, "unknown key in the federation");

	/* A valid one, and the demo federation's. */
	nc_write_file(conf, "federation = \"federation.conf\";\n"
	                    "server: { listen = [\"127.0.0.1@5300\", \"::1@5300\"]; workers = 0;\n"
	                    "  udp-max-payload = 1232; tcp-idle-timeout-ms = 10000;\n"
	                    "  tcp-max-clients = 1000; tcp-max-pipeline = 100; };\n"
	                    "store: { path = \"db\"; map-size-mb = 1024; };\n"
	                    "log: { level = \"debug\"; };\n");
	char fed[512];
	snprintf(fed, sizeof(fed), "%s/federation.conf", dir);
	nc_write_file(fed, GOOD_FED);
	cr_assert_eq(check_config(conf, out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "configuration OK"), "%s", out);
	cr_assert_eq(check_config(FE_TEST_SRC "/federation/fedenumd.conf", out, sizeof(out)), 0,
	             "%s", out);
}

Test(daemon, bad_config_refuses_to_start)
{
	char conf[512];
	snprintf(conf, sizeof(conf), "%s/fedenumd.conf", dir);
	nc_write_file(conf, "server: { workers = -1; };\n");
	int st = fe_test_sh("'%s' -c '%s' --db '%s/db' --listen 127.0.0.1@0 >'%s/out' 2>&1",
	                    FE_TEST_FEDENUMD, conf, dir, dir);
	cr_assert_eq(st, 1, "exit status %d", st);
	st = fe_test_sh("grep -q 'fedenumd.conf:1: server.workers = -1 is out of range' '%s/out'",
	                dir);
	cr_assert_eq(st, 0);
	st = fe_test_sh("'%s' --no-such-option >/dev/null 2>&1", FE_TEST_FEDENUMD);
	cr_assert_eq(st, 2, "usage error exit status %d", st);
	st = fe_test_sh("'%s' --zone '%s' --db /proc/forbidden/db --listen 127.0.0.1@0 "
	                ">/dev/null 2>&1",
	                FE_TEST_FEDENUMD, NET_ZONE);
	cr_assert_eq(st, 3, "store error exit status %d", st);
	st = fe_test_sh("'%s' --zone '%s' --db '%s/db' --listen 192.0.2.1@0 >/dev/null 2>&1",
	                FE_TEST_FEDENUMD, NET_ZONE, dir);
	cr_assert_eq(st, 4, "bind error exit status %d", st);
}

Test(daemon, reload_with_broken_config_is_refused)
{
	nc_write_config(dir, "\"127.0.0.0/8\"", "tcp-idle-timeout-ms = 2000;");
	nc_start_config(&d, dir, NULL);
	cr_assert_eq(rcode_of(NET_NAPTR, LDNS_RR_TYPE_NAPTR), LDNS_RCODE_NOERROR);
	nc_write_config(dir, "\"127.0.0.0/8\"", "tcp-idle-timeout-ms = 2000; bogus = 1;");
	cr_assert_eq(kill(d.pid, SIGHUP), 0);
	cr_assert(wait_log("reload refused", 1, 10000));
	cr_assert_eq(
	        fe_test_daemon_log_count(&d, "fedenumd.conf:2: unknown setting \"server.bogus\""),
	        1);
	cr_assert(fe_test_daemon_alive(&d));
	cr_assert_eq(rcode_of(NET_NAPTR, LDNS_RR_TYPE_NAPTR), LDNS_RCODE_NOERROR);
}

Test(daemon, store_parent_folders_created)
{
	char db[600];
	snprintf(db, sizeof(db), "%s/var/lib/fedenum/db", dir);
	int st = fe_test_sh("'%s' --check-config --zone '%s' --db '%s' >/dev/null 2>&1",
	                    FE_TEST_FEDENUMD, NET_ZONE, db);
	cr_assert_eq(st, 0);
	/* fe_test_daemon_start's own --db comes first; ours, later on the line, wins. */
	const char *argv[] = {"--zone", NET_ZONE, "--db", db, NULL};
	cr_assert_eq(fe_test_daemon_start(&d, dir, argv), 0);
	cr_assert_eq(rcode_of(NET_NAPTR, LDNS_RR_TYPE_NAPTR), LDNS_RCODE_NOERROR);
	cr_assert_eq(fe_test_sh("test -f '%s/data.mdb'", db), 0, "store not in %s", db);
}
