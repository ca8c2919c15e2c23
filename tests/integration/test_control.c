/* The control channel and the metrics endpoint of a real fedenumd (docs/control.md):
 * every fedenumctl online subcommand with good and bad input (--json parsed with jansson),
 * THREATS K2 (oversized, malformed, wrong version, unknown command, bad arguments, a silent
 * client, no permission for another user), the daemon still answering DNS afterwards, and
 * the Prometheus page scraped twice around DNS traffic, with bad HTTP requests. */
#include "net_common.h"

#include <jansson.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

static struct fe_test_daemon d;
static char dir[256], sock[320], conf[320];

/* fedenumd.conf: the net.test. federation, the control socket relative to the file, a short
 * control deadline, few clients, metrics on an ephemeral port. */
static void start(void)
{
	fe_test_mkdtemp(dir, sizeof(dir));
	/* Others may traverse the folder: only the socket's own mode keeps them out. */
	cr_assert_eq(chmod(dir, 0755), 0);
	nc_write_config(dir, "\"127.0.0.0/8\"", "workers = 2;");
	snprintf(conf, sizeof(conf), "%s/fedenumd.conf", dir);
	nc_write_file(conf,
	              "federation = \"federation.conf\";\n"
	              "server: { workers = 2; };\n"
	              "control: { socket = \"ctl.sock\"; timeout-ms = 700; max-clients = 4; };\n"
	              "metrics: { listen = \"127.0.0.1@0\"; };\n"
	              "log: { level = \"info\"; };\n");
	snprintf(sock, sizeof(sock), "%s/ctl.sock", dir);
	/* The same path as control.socket of the file (fedenumctl -c reads it there). */
	nc_start_config(&d, dir, (const char *const[]){"--control", sock, NULL});
}

static void stop(void)
{
	if (d.pid > 0)
		cr_expect_eq(fe_test_daemon_stop(&d), 0, "fedenumd exit status");
	fe_test_rmdir(dir);
}

TestSuite(control, .init = start, .fini = stop, .timeout = 120);

/* `fedenumctl @args --socket <sock>`; output in @out. */
static int ctl(const char *args, char *out, size_t cap)
{
	char a[4096];
	snprintf(a, sizeof(a), "%s --socket '%s'", args, sock);
	return nc_ctl(dir, a, out, cap);
}

/* `fedenumctl @args --json`: exit status, and the parsed result in *res (NULL unless 0). */
static int ctl_json(const char *args, json_t **res)
{
	static char out[1 << 20];
	char a[2048];
	snprintf(a, sizeof(a), "%s --json", args);
	int st = ctl(a, out, sizeof(out));
	*res = NULL;
	if (st == 0) {
		json_error_t e;
		*res = json_loads(out, 0, &e);
		cr_assert_not_null(*res, "not JSON (%s): %s", e.text, out);
		cr_assert(json_is_object(*res), "%s", out);
	}
	return st;
}

static long long jint(json_t *o, const char *path)
{
	json_t *v = o;
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *save = NULL, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save))
		v = json_object_get(v, k);
	cr_assert(json_is_integer(v), "no integer %s", path);
	return (long long)json_integer_value(v);
}

/* Connect to the control socket, send @len bytes of @data (then end writing if @shut), read
 * the response until the server closes. Returns its length (-1: cannot connect). */
static ssize_t raw(const void *data, size_t len, bool shut, char *resp, size_t cap)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	cr_assert_lt(strlen(sock), sizeof(sa.sun_path));
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_geq(fd, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	size_t off = 0;
	while (off < len) {
		ssize_t w = send(fd, (const char *)data + off, len - off, MSG_NOSIGNAL);
		if (w <= 0)
			break; /* the server may close after an oversized prefix */
		off += (size_t)w;
	}
	if (shut)
		shutdown(fd, SHUT_WR);
	size_t n = 0;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	while (n + 1 < cap && poll(&p, 1, 5000) == 1) {
		ssize_t r = recv(fd, resp + n, cap - 1 - n, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	resp[n] = '\0';
	close(fd);
	return (ssize_t)n;
}

/* The response to @req: ok false with @code. */
static void expect_refused(const char *req, size_t len, const char *code)
{
	char resp[4096];
	cr_assert_gt(raw(req, len, true, resp, sizeof(resp)), 0, "no response to %.80s", req);
	json_error_t e;
	json_t *r = json_loads(resp, 0, &e);
	cr_assert_not_null(r, "not JSON: %s", resp);
	cr_expect_eq(jint(r, "version"), 1);
	cr_expect(json_is_false(json_object_get(r, "ok")), "%s", resp);
	cr_expect_str_eq(json_string_value(json_object_get(r, "code")), code, "%s", resp);
	cr_expect(json_string_length(json_object_get(r, "error")) > 0, "%s", resp);
	json_decref(r);
}

static void dns_still_answers(void)
{
	ldns_pkt *p = fe_test_query(d.host, d.port, NET_NAPTR, LDNS_RR_TYPE_NAPTR, 0, 0);
	cr_assert_not_null(p, "no DNS answer");
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
}

Test(control, status_and_zone_commands)
{
	char out[16384];
	json_t *r;
	/* status: text and JSON; the socket found through -c FILE too */
	cr_assert_eq(ctl("status", out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "fedenumd 0.1.0"), "%s", out);
	cr_assert_not_null(strstr(out, "trust anchors: no"), "%s", out);
	cr_assert_eq(ctl_json("status", &r), 0);
	cr_expect_eq(jint(r, "pid"), d.pid);
	cr_expect_eq(jint(r, "zones"), 1);
	cr_expect_eq(jint(r, "workers"), 2);
	cr_expect_eq(jint(r, "protocol"), 1);
	cr_expect(json_is_false(json_object_get(r, "trust_anchors")));
	json_t *l0 = json_array_get(json_object_get(r, "listeners"), 0);
	cr_expect_eq(jint(l0, "port"), d.port);
	cr_expect_gt(jint(r, "metrics.port"), 0);
	json_decref(r);
	char a[1024];
	snprintf(a, sizeof(a), "%s status -c '%s'", FE_TEST_FEDENUMCTL, conf);
	cr_assert_eq(nc_run(dir, out, sizeof(out), a), 0, "%s", out);
	cr_assert_not_null(strstr(out, "zones: 1"), "%s", out);

	/* zone list */
	cr_assert_eq(ctl("zone list", out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "net.test."), "%s", out);
	cr_assert_not_null(strstr(out, " served"), "%s", out);
	cr_assert_eq(ctl_json("zone list", &r), 0);
	json_t *zs = json_object_get(r, "zones");
	cr_assert_eq(json_array_size(zs), 1);
	json_t *z = json_array_get(zs, 0);
	cr_expect_str_eq(json_string_value(json_object_get(z, "apex")), "net.test.");
	cr_expect_eq(jint(z, "serial"), 1);
	cr_expect(json_is_true(json_object_get(z, "served")));
	json_decref(r);

	/* zone show, with and without the final dot, any case */
	const char *const names[] = {"net.test", "net.test.", "NET.Test."};
	for (size_t i = 0; i < FE_ARRAY_LEN(names); i++) {
		snprintf(a, sizeof(a), "zone show '%s'", names[i]);
		cr_assert_eq(ctl_json(a, &r), 0, "%s", names[i]);
		cr_expect_eq(jint(r, "serial"), 1);
		cr_expect_gt(jint(r, "nodes"), 3);
		cr_expect_geq(jint(r, "rrs"), 36);
		cr_expect(json_is_null(json_object_get(r, "peers")), "peers are not faked");
		json_decref(r);
	}
	cr_assert_eq(ctl("zone show net.test", out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "serial:        1"), "%s", out);
	cr_assert_not_null(strstr(out, "peers:         none: this node is not a secondary"), "%s",
	                   out);

	/* bad input: exit 1 (the node refuses), 2 (usage), 3 (no node) */
	cr_assert_eq(ctl("zone show nosuch.test", out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(strstr(out, "bad-arguments"), "%s", out);
	cr_assert_eq(ctl("zone show nosuch.test --json", out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(strstr(out, "\"code\": \"bad-arguments\""), "%s", out);
	cr_assert_eq(ctl("zone show", out, sizeof(out)), 2, "%s", out);
	cr_assert_eq(ctl("zone show a. b.", out, sizeof(out)), 2, "%s", out);
	cr_assert_eq(ctl("zone frobnicate", out, sizeof(out)), 2, "%s", out);
	cr_assert_eq(ctl("status --bogus", out, sizeof(out)), 2, "%s", out);
	cr_assert_eq(ctl("status extra", out, sizeof(out)), 2, "%s", out);
	cr_assert_eq(ctl("status --timeout x", out, sizeof(out)), 2, "%s", out);
	snprintf(a, sizeof(a), "%s status --socket '%s/nothing.sock'", FE_TEST_FEDENUMCTL, dir);
	cr_assert_eq(nc_run(dir, out, sizeof(out), a), 3, "%s", out);
	cr_assert_not_null(strstr(out, "No such file"), "%s", out);
	snprintf(a, sizeof(a), "%s status -c '%s/missing.conf'", FE_TEST_FEDENUMCTL, dir);
	cr_assert_eq(nc_run(dir, out, sizeof(out), a), 2, "%s", out);
	/* --help of each, exit 0 */
	const char *const helps[] = {"status", "zone list", "zone show", "stats", "reload"};
	for (size_t i = 0; i < FE_ARRAY_LEN(helps); i++) {
		snprintf(a, sizeof(a), "%s %s --help", FE_TEST_FEDENUMCTL, helps[i]);
		cr_assert_eq(nc_run(dir, out, sizeof(out), a), 0, "%s", out);
		cr_assert_not_null(strstr(out, "Exit status"), "%s: %s", helps[i], out);
	}
	/* the offline forms stay */
	snprintf(a, sizeof(a), "%s zone-list --help", FE_TEST_FEDENUMCTL);
	cr_assert_eq(nc_run(dir, out, sizeof(out), a), 0, "%s", out);
	dns_still_answers();
}

Test(control, stats_and_reload)
{
	char out[16384], zone[512], a[1024];
	json_t *r;
	cr_assert_eq(ctl_json("stats", &r), 0);
	long long q0 = jint(r, "counters.queries");
	json_decref(r);
	for (int i = 0; i < 3; i++)
		dns_still_answers();
	cr_assert_eq(ctl_json("stats", &r), 0);
	cr_expect_eq(jint(r, "counters.queries"), q0 + 3);
	cr_expect_eq(jint(r, "counters.noerror"), q0 + 3);
	cr_expect_geq(jint(r, "control.ctl_ok"), 1);
	json_decref(r);
	cr_assert_eq(ctl("stats", out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "queries "), "%s", out);

	/* reload: nothing changed, then a new serial, then a broken configuration */
	cr_assert_eq(ctl_json("reload", &r), 0);
	cr_expect_eq(jint(r, "zones"), 1);
	cr_expect_eq(jint(r, "unchanged"), 1);
	cr_expect_eq(jint(r, "loaded"), 0);
	json_decref(r);
	snprintf(zone, sizeof(zone), "%s/net.zone", dir);
	snprintf(a, sizeof(a), "sed 's/hostmaster 1 /hostmaster 2 /' '%s' > '%s'", NET_ZONE, zone);
	cr_assert_eq(fe_test_sh("%s", a), 0);
	snprintf(a, sizeof(a), "sed -i 's|file = \"[^\"]*\"|file = \"%s\"|' '%s/federation.conf'",
	         zone, dir);
	cr_assert_eq(fe_test_sh("%s", a), 0);
	cr_assert_eq(ctl("reload", out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "reload done: 1 zones: 1 loaded"), "%s", out);
	cr_assert_eq(ctl_json("zone show net.test", &r), 0);
	cr_expect_eq(jint(r, "serial"), 2);
	json_decref(r);
	snprintf(a, sizeof(a), "echo 'bogus-key = 1;' >> '%s'", conf);
	cr_assert_eq(fe_test_sh("%s", a), 0);
	cr_assert_eq(ctl("reload", out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(strstr(out, "configuration errors"), "%s", out);
	dns_still_answers();
}

Test(control, k2_hostile_requests)
{
	char big[70000];
	memset(big, ' ', sizeof(big));
	expect_refused(big, sizeof(big), "oversized");
	const char *cases[][2] = {
	        {"{\"version\":1,\"command\":", "malformed"},
	        {"[1,2,3]", "malformed"},
	        {"{\"version\":\"1\",\"command\":\"status\"}", "malformed"},
	        {"{\"command\":\"status\"}", "malformed"},
	        {"{\"version\":1,\"command\":\"status\",\"x\":1}", "malformed"},
	        {"{\"version\":1,\"command\":\"status\",\"args\":[]}", "malformed"},
	        {"{\"version\":1,\"version\":1,\"command\":\"status\"}", "malformed"},
	        {"{\"version\":2,\"command\":\"status\"}", "version"},
	        {"{\"version\":0,\"command\":\"status\"}", "version"},
	        {"{\"version\":1,\"command\":\"shutdown\"}", "unknown-command"},
	        {"{\"version\":1,\"command\":\"zone.show\"}", "bad-arguments"},
	        {"{\"version\":1,\"command\":\"zone.show\",\"args\":{\"apex\":7}}",
	         "bad-arguments"},
	        {"{\"version\":1,\"command\":\"status\",\"args\":{\"x\":1}}", "bad-arguments"},
	};
	for (size_t i = 0; i < FE_ARRAY_LEN(cases); i++)
		expect_refused(cases[i][0], strlen(cases[i][0]), cases[i][1]);
	/* a well-formed request still works, with and without the newline */
	char resp[4096];
	const char *ok = "{\"version\":1,\"command\":\"status\",\"args\":{}}\n";
	cr_assert_gt(raw(ok, strlen(ok), false, resp, sizeof(resp)), 0);
	cr_assert_not_null(strstr(resp, "\"ok\":true"), "%s", resp);

	/* a client that connects and sends nothing: a timeout error, then closed */
	uint64_t t0 = nc_now_ms();
	cr_assert_gt(raw("", 0, false, resp, sizeof(resp)), 0);
	cr_expect_not_null(strstr(resp, "\"code\":\"timeout\""), "%s", resp);
	cr_expect_lt(nc_now_ms() - t0, 3000);
	/* more silent clients than max-clients (4): the others are told "busy" */
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	cr_assert_lt(strlen(sock), sizeof(sa.sun_path));
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	int fds[6];
	for (int i = 0; i < 6; i++) {
		fds[i] = socket(AF_UNIX, SOCK_STREAM, 0);
		cr_assert_eq(connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	ssize_t n = 0;
	struct pollfd p = {.fd = fds[5], .events = POLLIN};
	if (poll(&p, 1, 2000) == 1)
		n = recv(fds[5], resp, sizeof(resp) - 1, 0);
	resp[n > 0 ? n : 0] = '\0';
	cr_expect_not_null(strstr(resp, "\"code\":\"busy\""), "%s", resp);
	for (int i = 0; i < 6; i++)
		close(fds[i]);

	/* counted and logged */
	json_t *r;
	nc_sleep_ms(800);
	cr_assert_eq(ctl_json("stats", &r), 0);
	cr_expect_eq(jint(r, "control.ctl_oversized"), 1);
	cr_expect_eq(jint(r, "control.ctl_malformed"), 7);
	cr_expect_eq(jint(r, "control.ctl_bad_version"), 2);
	cr_expect_eq(jint(r, "control.ctl_unknown_command"), 1);
	cr_expect_eq(jint(r, "control.ctl_bad_args"), 3);
	cr_expect_geq(jint(r, "control.ctl_timeouts"), 1);
	cr_expect_geq(jint(r, "control.ctl_busy"), 1);
	json_decref(r);
	cr_expect_geq(fe_test_daemon_log_count(&d, "control: request refused (oversized)"), 1);
	cr_expect_geq(fe_test_daemon_log_count(&d, "control: request refused (version)"), 1);
	cr_expect_geq(fe_test_daemon_log_count(&d, "control: request refused (unknown-command)"),
	              1);
	cr_expect_geq(fe_test_daemon_log_count(&d, "control: no complete request"), 1);
	cr_assert(fe_test_daemon_alive(&d));
	dns_still_answers();
}

Test(control, k2_socket_mode_keeps_other_users_out)
{
	struct stat sb;
	cr_assert_eq(stat(sock, &sb), 0);
	cr_expect(S_ISSOCK(sb.st_mode));
	cr_expect_eq(sb.st_mode & 0777, 0660, "mode %o", (unsigned)(sb.st_mode & 0777));
	cr_expect_eq(sb.st_uid, geteuid());
	if (geteuid() != 0)
		cr_skip_test("needs root to run a client as nobody");
	char out[4096], a[1024];
	snprintf(a, sizeof(a),
	         "setpriv --reuid=nobody --regid=nogroup --clear-groups %s status "
	         "--socket '%s'",
	         FE_TEST_FEDENUMCTL, sock);
	cr_assert_eq(nc_run(dir, out, sizeof(out), a), 3, "%s", out);
	cr_assert_not_null(strstr(out, "Permission denied"), "%s", out);
	cr_assert(fe_test_daemon_alive(&d));
	dns_still_answers();
}

/* GET @req on the metrics port: the whole response into @out. */
static void http(uint16_t port, const char *req, char *out, size_t cap)
{
	fe_test_http(port, req, out, cap);
}

static long long metric(const char *page, const char *name)
{
	long long v = fe_test_metric(page, name);
	cr_assert_geq(v, 0, "no %s in the page", name);
	return v;
}

Test(control, metrics_scraped_twice_and_bad_http)
{
	json_t *r;
	cr_assert_eq(ctl_json("status", &r), 0);
	uint16_t port = (uint16_t)jint(r, "metrics.port");
	json_decref(r);
	static char p1[1 << 16], p2[1 << 16];
	http(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", p1, sizeof(p1));
	cr_assert(strncmp(p1, "HTTP/1.1 200 OK\r\n", 17) == 0, "%.200s", p1);
	cr_assert_not_null(strstr(p1, "Connection: close\r\n"));
	cr_assert_not_null(strstr(p1, "text/plain; version=0.0.4"));
	cr_assert_not_null(strstr(p1, "# TYPE fedenum_queries_total counter"));
	cr_expect_eq(metric(p1, "fedenum_zone_serial{zone=\"net.test.\"}"), 1);
	cr_expect_eq(metric(p1, "fedenum_zone_served{zone=\"net.test.\"}"), 1);
	long long u1 = metric(p1, "fedenum_queries_total{transport=\"udp\"}");
	long long n1 = metric(p1, "fedenum_responses_total{rcode=\"NOERROR\"}");
	long long naptr1 = metric(p1, "fedenum_queries_by_type_total{type=\"NAPTR\"}");
	long long a1 = metric(p1, "fedenum_queries_by_type_total{type=\"A\"}");
	long long h1 = metric(p1, "fedenum_response_latency_seconds_count");
	for (int i = 0; i < 4; i++)
		dns_still_answers();
	ldns_pkt *q = fe_test_query(d.host, d.port, "nosuch.example.", LDNS_RR_TYPE_A, 0, 0);
	cr_assert_not_null(q);
	ldns_pkt_free(q);
	http(port, "GET /metrics HTTP/1.0\r\n\r\n", p2, sizeof(p2));
	cr_assert(strncmp(p2, "HTTP/1.1 200 OK\r\n", 17) == 0, "%.200s", p2);
	cr_expect_eq(metric(p2, "fedenum_queries_total{transport=\"udp\"}"), u1 + 5);
	cr_expect_eq(metric(p2, "fedenum_responses_total{rcode=\"NOERROR\"}"), n1 + 4);
	cr_expect_geq(metric(p2, "fedenum_responses_total{rcode=\"REFUSED\"}"), 1);
	cr_expect_geq(metric(p2, "fedenum_out_of_zone_total"), 1);
	cr_expect_eq(metric(p2, "fedenum_metrics_requests_total{result=\"ok\"}"), 1);
	/* By query type, and the latency histogram: one observation per answer sent,
	 * cumulative buckets that never decrease, +Inf equal to the count. */
	cr_expect_eq(metric(p2, "fedenum_queries_by_type_total{type=\"NAPTR\"}"), naptr1 + 4);
	cr_expect_eq(metric(p2, "fedenum_queries_by_type_total{type=\"A\"}"), a1 + 1);
	cr_assert_not_null(strstr(p2, "# TYPE fedenum_response_latency_seconds histogram"));
	long long h2 = metric(p2, "fedenum_response_latency_seconds_count");
	cr_expect_eq(h2, h1 + 5);
	static const char *const le[] = {"0.00005", "0.0001", "0.00025", "0.0005", "0.001",
	                                 "0.0025",  "0.005",  "0.01",    "0.05",   "+Inf"};
	long long prev = 0;
	for (size_t i = 0; i < FE_ARRAY_LEN(le); i++) {
		char name[128];
		snprintf(name, sizeof(name), "fedenum_response_latency_seconds_bucket{le=\"%s\"}",
		         le[i]);
		long long v = metric(p2, name);
		cr_expect_geq(v, prev, "%s", name);
		prev = v;
	}
	cr_expect_eq(prev, h2, "+Inf bucket = count");
	const char *sum = strstr(p2, "\nfedenum_response_latency_seconds_sum ");
	cr_assert_not_null(sum);
	cr_expect_gt(atof(sum + strlen("\nfedenum_response_latency_seconds_sum ")), 0.0);

	static const char *const bad[][2] = {
	        {"GET /other HTTP/1.1\r\n\r\n", "HTTP/1.1 404 "},
	        {"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 405 "},
	        {"garbage\r\n\r\n", "HTTP/1.1 400 "},
	        {"GET /metrics HTTP/2.0\r\n\r\n", "HTTP/1.1 505 "},
	        {"GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n", "HTTP/1.1 400 "},
	        {"HEAD /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 200 "},
	};
	char out[4096];
	for (size_t i = 0; i < FE_ARRAY_LEN(bad); i++) {
		http(port, bad[i][0], out, sizeof(out));
		cr_expect(strncmp(out, bad[i][1], strlen(bad[i][1])) == 0, "%s -> %.100s",
		          bad[i][0], out);
	}
	/* a head larger than the bound, and a client that sends nothing */
	static char huge[20000];
	memset(huge, 'a', sizeof(huge) - 1);
	memcpy(huge, "GET /metrics HTTP/1.1\r\nX: ", 26);
	http(port, huge, out, sizeof(out));
	cr_expect(strncmp(out, "HTTP/1.1 431 ", 13) == 0, "%.100s", out);
	uint64_t t0 = nc_now_ms();
	http(port, "", out, sizeof(out));
	cr_expect_str_eq(out, "");
	cr_expect_lt(nc_now_ms() - t0, 3000);
	cr_assert(fe_test_daemon_alive(&d));
	dns_still_answers();
}

Test(control, configured_endpoints_must_work)
{
	char out[8192], a[2048];
	/* the socket of a running node: refused, and that node keeps its socket */
	snprintf(a, sizeof(a), "%s --listen 127.0.0.1@0 --db '%s/db2' --control '%s'",
	         FE_TEST_FEDENUMD, dir, sock);
	cr_assert_eq(nc_run(dir, out, sizeof(out), a), 4, "%s", out);
	cr_assert_not_null(strstr(out, "another process answers on it"), "%s", out);
	cr_assert_eq(ctl("status", out, sizeof(out)), 0, "%s", out);
	/* a folder that does not exist */
	snprintf(a, sizeof(a), "%s --listen 127.0.0.1@0 --db '%s/db3' --control '%s/no/such.sock'",
	         FE_TEST_FEDENUMD, dir, dir);
	cr_assert_eq(nc_run(dir, out, sizeof(out), a), 4, "%s", out);
	/* a metrics address that is not one: a configuration error */
	snprintf(a, sizeof(a), "%s --check-config --metrics 300.1.1.1@80", FE_TEST_FEDENUMD);
	cr_assert_eq(nc_run(dir, out, sizeof(out), a), 1, "%s", out);
	cr_assert_not_null(strstr(out, "--metrics \"300.1.1.1@80\" is not ADDR@PORT"), "%s", out);
	snprintf(a, sizeof(a), "%s --check-config -c '%s'", FE_TEST_FEDENUMD, conf);
	cr_assert_eq(nc_run(dir, out, sizeof(out), a), 0, "%s", out);
	/* the same in the file, and the control keys' types */
	char bad[400];
	snprintf(bad, sizeof(bad), "%s/bad.conf", dir);
	nc_write_file(bad, "metrics: { listen = \"nope\"; };\n");
	snprintf(a, sizeof(a), "%s --check-config -c '%s'", FE_TEST_FEDENUMD, bad);
	cr_assert_eq(nc_run(dir, out, sizeof(out), a), 1, "%s", out);
	cr_assert_not_null(strstr(out, "metrics.listen \"nope\" is not ADDR@PORT"), "%s", out);
	nc_write_file(bad, "control: { socket = 3; max-clients = 0; bogus = 1; };\n");
	cr_assert_eq(nc_run(dir, out, sizeof(out), a), 1, "%s", out);
	cr_assert_not_null(strstr(out, "bad.conf:1: "), "%s", out);
	cr_assert_not_null(strstr(out, "bogus"), "%s", out);
	dns_still_answers();
}

/* ---- under federation trust: validation state, last error, expiries ------------------- */

#define TD     FE_TEST_SRC "/tests/integration/data/trust"
#define ZONE_A "1.5.5.5.1.e164.test."

static void put_zone(const char *name, const char *fixture)
{
	cr_assert_eq(fe_test_sh("cp '%s/%s.signed' '%s/%s.tmp' && mv '%s/%s.tmp' '%s/%s'", TD,
	                        fixture, dir, name, dir, name, dir, name),
	             0);
}

static void start_trust(void)
{
	fe_test_mkdtemp(dir, sizeof(dir));
	put_zone("registry.zone", "registry-v1");
	put_zone("a.zone", "a-v1");
	put_zone("b.zone", "b-v1");
	char path[512];
	snprintf(path, sizeof(path), "%s/federation.conf", dir);
	nc_write_file(path,
	              "name = \"trust-test\";\n"
	              "trust-anchors = [\"%s/e164.test.ds\"];\n"
	              "members = ( { name = \"registry\"; role = \"registry\"; },\n"
	              "            { name = \"m\"; prefixes = [\"+15551\", \"+15552\"]; } );\n"
	              "zones = ( { apex = \"" ZONE_A "\"; member = \"m\"; file = \"a.zone\"; },\n"
	              "  { apex = \"2.5.5.5.1.e164.test.\"; member = \"m\"; file = \"b.zone\"; },\n"
	              "  { apex = \"e164.test.\"; member = \"m\"; file = \"registry.zone\"; } );\n",
	              TD);
	snprintf(conf, sizeof(conf), "%s/fedenumd.conf", dir);
	nc_write_file(conf, "federation = \"federation.conf\";\nlog: { level = \"info\"; };\n");
	snprintf(sock, sizeof(sock), "%s/control.sock", dir);
	nc_start_config(&d, dir, (const char *const[]){"--metrics", "127.0.0.1@0", NULL});
}

TestSuite(control_trust, .init = start_trust, .fini = stop, .timeout = 120);

Test(control_trust, zone_show_validation_state_and_expiry_metrics)
{
	char out[16384];
	json_t *r;
	cr_assert_eq(ctl_json("status", &r), 0);
	cr_expect(json_is_true(json_object_get(r, "trust_anchors")));
	cr_expect_eq(jint(r, "zones"), 3);
	uint16_t port = (uint16_t)jint(r, "metrics.port");
	json_decref(r);
	cr_assert_eq(ctl("status", out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "trust anchors: yes"), "%s", out);

	/* a version with a bad signature: the reload says so, the good one keeps serving */
	put_zone("a.zone", "a-v3-badsig");
	cr_assert_eq(ctl_json("reload", &r), 0);
	cr_expect_eq(jint(r, "failed") + jint(r, "rejected"), 1);
	cr_expect_eq(jint(r, "unchanged"), 2);
	json_decref(r);
	cr_assert_eq(ctl_json("zone show " ZONE_A, &r), 0);
	cr_expect_eq(jint(r, "serial"), 1);
	cr_expect(json_is_true(json_object_get(r, "served")));
	cr_expect_gt(jint(r, "chain_expiry_in_s"), 0);
	json_t *v = json_object_get(r, "validation");
	cr_assert(json_is_object(v));
	cr_expect_str_eq(json_string_value(json_object_get(v, "state")), "secure");
	cr_expect_eq(jint(v, "failed_serial"), 3);
	cr_expect_eq(jint(v, "failures"), 1);
	cr_expect_not_null(
	        strstr(json_string_value(json_object_get(v, "last_error")), "RRSIG NAPTR at"));
	cr_expect(json_is_string(json_object_get(v, "signature_expiry")));
	json_decref(r);
	cr_assert_eq(ctl("zone show " ZONE_A, out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "validation:    secure"), "%s", out);
	cr_assert_not_null(strstr(out, "(serial 3 at "), "%s", out);
	cr_assert_eq(ctl("zone list", out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "rejected serial 3"), "%s", out);

	static char page[1 << 16];
	http(port, "GET /metrics HTTP/1.1\r\n\r\n", page, sizeof(page));
	cr_assert(strncmp(page, "HTTP/1.1 200 OK\r\n", 17) == 0, "%.200s", page);
	cr_expect_gt(metric(page, "fedenum_zone_chain_expiry_seconds{zone=\"" ZONE_A "\"}"), 0);
	cr_expect_gt(metric(page, "fedenum_zone_signature_expiry_seconds{zone=\"" ZONE_A "\"}"), 0);
	cr_expect_eq(metric(page, "fedenum_zone_validation_failures_total{zone=\"" ZONE_A "\"}"),
	             1);
	cr_expect_eq(metric(page, "fedenum_validation_failures_total"), 1);
	cr_expect_eq(metric(page, "fedenum_zone_served{zone=\"e164.test.\"}"), 1);
	cr_expect_eq(metric(page, "fedenum_reloads_total"), 1);
}
