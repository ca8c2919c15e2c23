/* Abuse control in a real fedenumd on loopback (docs/federation.md "Abuse control",
 * docs/security.md L2, L3): a harvesting client is throttled within a bounded number of
 * queries while a normal client at a higher query rate is not; a UDP flood from one prefix
 * gets slipped TC=1 answers and no amplification, TCP stays unlimited; a view's query
 * budget; exemptions by view; the counters in `fedenumctl stats` and on /metrics, changing
 * with the traffic. Clients are told apart by their source address in 127/8, one /24 each
 * (the default prefix length). Figures are printed, never asserted against a clock. */
#include "net_common.h"

#include <jansson.h>

static struct fe_test_daemon d;
static char dir[256];

static void stop(void)
{
	if (d.pid > 0)
		cr_expect_eq(fe_test_daemon_stop(&d), 0, "fedenumd exit status");
	fe_test_rmdir(dir);
}

TestSuite(abuse, .fini = stop, .timeout = 180);

#define HARVESTER "127.0.1.2"
#define SCSCF     "127.0.2.3"
#define EXEMPT    "127.0.3.4"
#define BUDGETED  "127.0.4.5"
#define NUMBERS   500 /* +15551000000 .. +15551000499 are carrier-a's */

/* "+15551000123" → "3.2.1.0.0.0.1.5.5.5.1.e164.fed." */
static void qname_of(unsigned long long number, char *out)
{
	char digits[32];
	int n = snprintf(digits, sizeof(digits), "%llu", number);
	size_t o = 0;
	for (int i = n; i > 0; i--) {
		out[o++] = digits[i - 1];
		out[o++] = '.';
	}
	strcpy(out + o, "e164.fed.");
}

/* The federation: registry e164.fed. delegating +15551 to carrier-a, whose zone holds
 * NUMBERS numbers; views per client; @policy: the body of the policy group. */
static void setup(const char *policy, const char *metrics)
{
	fe_test_mkdtemp(dir, sizeof(dir));
	char path[512];
	snprintf(path, sizeof(path), "%s/e164.fed.zone", dir);
	nc_write_file(path,
	              "$TTL 300\n@ IN SOA ns1.e164.fed. hostmaster.e164.fed. 1 3600 600 86400 300\n"
	              "@ IN NS ns1.e164.fed.\nns1 IN A 127.0.0.1\n"
	              "1.5.5.5.1.e164.fed. IN NS ns1.e164.fed.\n");
	snprintf(path, sizeof(path), "%s/a.zone", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "$ORIGIN 1.5.5.5.1.e164.fed.\n$TTL 300\n"
	           "@ IN SOA ns1.e164.fed. hostmaster.e164.fed. 1 3600 600 86400 300\n"
	           "@ IN NS ns1.e164.fed.\n");
	for (unsigned k = 0; k < NUMBERS; k++) {
		char q[128];
		qname_of(15551000000ull + k, q);
		fprintf(f,
		        "%s IN NAPTR 10 100 \"u\" \"E2U+sip\" "
		        "\"!^.*$!sip:+%llu@ims-a.example;user=phone!\" .\n",
		        q, 15551000000ull + k);
	}
	fclose(f);
	snprintf(path, sizeof(path), "%s/federation.conf", dir);
	nc_write_file(
	        path,
	        "name = \"abuse-test\";\n"
	        "clients = [\"127.0.0.1\"];\n"
	        "members = (\n"
	        "  { name = \"registry\"; role = \"registry\"; },\n"
	        "  { name = \"carrier-a\"; domains = [\"ims-a.example.\"]; }\n"
	        ");\n"
	        "zones = (\n"
	        "  { apex = \"e164.fed.\"; member = \"registry\"; file = \"e164.fed.zone\"; },\n"
	        "  { apex = \"1.5.5.5.1.e164.fed.\"; member = \"carrier-a\"; file = "
	        "\"a.zone\"; }\n"
	        ");\n"
	        "views = (\n"
	        "  { name = \"lab\"; clients = [\"" HARVESTER "\"]; },\n"
	        "  { name = \"scscf\"; member = \"carrier-a\"; clients = [\"" SCSCF "\"]; },\n"
	        "  { name = \"monitor\"; clients = [\"" EXEMPT "\"]; },\n"
	        "  { name = \"partner\"; clients = [\"" BUDGETED "\"]; "
	        "queries-per-second = 20; over-budget = \"refused\"; }\n"
	        ");\n"
	        "policy = {\n%s\n};\n",
	        policy);
	snprintf(path, sizeof(path), "%s/fedenumd.conf", dir);
	nc_write_file(path,
	              "federation = \"federation.conf\";\nserver: { workers = 2; };\n"
	              "log: { level = \"info\"; };\n%s",
	              metrics ? metrics : "");
	nc_start_config(&d, dir, NULL);
}

/* A UDP socket bound to @src. */
static int udp_from(const char *src)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_geq(fd, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	inet_pton(AF_INET, src, &sa.sin_addr);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "bind %s", src);
	int big = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(d.port)};
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	cr_assert_eq(connect(fd, (struct sockaddr *)&to, sizeof(to)), 0);
	return fd;
}

/* One NAPTR query for @number on @fd; the rcode (-1: no answer within @timeout_ms). */
static int ask(int fd, unsigned long long number, uint16_t id, int timeout_ms)
{
	char q[128];
	uint8_t req[512], resp[4096];
	qname_of(number, q);
	size_t n = fe_test_make_query(q, LDNS_RR_TYPE_NAPTR, 0, 1232, req, sizeof(req));
	cr_assert_gt(n, 0);
	req[0] = (uint8_t)(id >> 8), req[1] = (uint8_t)id;
	cr_assert_eq(send(fd, req, n, 0), (ssize_t)n);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	while (poll(&p, 1, timeout_ms) == 1) {
		ssize_t r = recv(fd, resp, sizeof(resp), 0);
		if (r >= 12 && resp[0] == req[0] && resp[1] == req[1])
			return nc_rcode(resp);
	}
	return -1;
}

static int ctl_stats(char *out, size_t cap)
{
	char a[600];
	snprintf(a, sizeof(a), "stats --socket '%s/control.sock'", d.dir);
	return nc_ctl(dir, a, out, cap);
}

static long long stat_of(const char *out, const char *key)
{
	char k[128];
	snprintf(k, sizeof(k), "%s ", key);
	const char *p = strstr(out, k);
	return p ? atoll(p + strlen(k)) : 0;
}

/* L2: harvesting detected, throttled, reported; the normal client unaffected. */
Test(abuse, l2_harvester_throttled_normal_client_not)
{
	setup("  harvesting = { exempt-views = [\"monitor\"]; };", NULL);
	/* the harvester walks the range sequentially from +15551000300 (200 present numbers,
	 * then absent ones), one query at a time, pausing 2 ms between queries */
	int fd = udp_from(HARVESTER);
	unsigned throttled_after = 0, answered = 0;
	uint64_t t0 = nc_now_ms();
	for (unsigned i = 0; i < 2000 && !throttled_after; i++) {
		int rc = ask(fd, 15551000300ull + i, (uint16_t)i, 2000);
		cr_assert_neq(rc, -1, "no answer to query %u", i);
		if (rc == LDNS_RCODE_REFUSED)
			throttled_after = i + 1;
		else
			answered++;
		nc_sleep_ms(2);
	}
	double h_qps = (throttled_after ? throttled_after : 2000) * 1000.0 /
	               (double)(nc_now_ms() - t0 + 1);
	cr_assert(throttled_after > 0 && throttled_after <= 260,
	          "harvester throttled after %u queries (bound 260)", throttled_after);
	/* the prefix stays throttled */
	cr_assert_eq(ask(fd, 15551000001ull, 9999, 2000), LDNS_RCODE_REFUSED);
	close(fd);
	/* a normal S-CSCF at a higher rate: 3000 queries over 150 subscribers' numbers, 90 %
	 * present, with repeats, back to back */
	fd = udp_from(SCSCF);
	unsigned ok = 0, refused = 0;
	srand(5);
	t0 = nc_now_ms();
	for (unsigned i = 0; i < 3000; i++) {
		unsigned k = (unsigned)rand() % 150;
		unsigned long long num = k % 10 ? 15551000000ull + k * 3 : 15551009000ull + k;
		int rc = ask(fd, num, (uint16_t)i, 2000);
		cr_assert_neq(rc, -1, "no answer to query %u", i);
		ok += rc == LDNS_RCODE_NOERROR || rc == LDNS_RCODE_NXDOMAIN;
		refused += rc == LDNS_RCODE_REFUSED;
	}
	double n_qps = 3000 * 1000.0 / (double)(nc_now_ms() - t0 + 1);
	close(fd);
	printf("L2: harvester throttled after %u queries (%u answered first) at %.0f q/s; normal "
	       "client: %u of 3000 answered, %u refused, at %.0f q/s\n",
	       throttled_after, answered, h_qps, ok, refused, n_qps);
	cr_assert_eq(ok, 3000);
	/* an exempt view walks freely */
	fd = udp_from(EXEMPT);
	for (unsigned i = 0; i < 400; i++)
		cr_assert_neq(ask(fd, 15551000300ull + i, (uint16_t)i, 2000), LDNS_RCODE_REFUSED,
		              "exempt view refused at %u", i);
	close(fd);
	/* reported: one log line naming the client, its prefix and the range walked */
	cr_assert_eq(fe_test_daemon_log_count(&d, "policy: harvesting: client " HARVESTER
	                                          " (prefix 127.0.1.0/24, view lab) walked "
	                                          "+1555100"),
	             1);
	char out[16384];
	cr_assert_eq(ctl_stats(out, sizeof(out)), 0, "%s", out);
	cr_assert_eq(stat_of(out, "policy.ratelimit.harvest/detected"), 1, "%s", out);
	cr_assert_eq(stat_of(out, "policy.ratelimit.harvest/refused"), 2, "%s", out);
	/* routes: the harvester's 200 present numbers, 90 % of the normal client's 3000, the
	 * exempt view's 200 */
	cr_assert_geq(stat_of(out, "policy.decisions.route/pass"), 200 + 2500 + 200, "%s", out);
	cr_assert_geq(stat_of(out, "policy.decisions.not-found/pass"), 200, "%s", out);
}

/* GET /metrics on @port into @out. */
static void scrape(uint16_t port, char *out, size_t cap)
{
	cr_assert_gt(fe_test_http(port, "GET /metrics HTTP/1.0\r\n\r\n", out, cap), 0);
}

static long long metric(const char *page, const char *name)
{
	long long v = fe_test_metric(page, name);
	cr_assert_geq(v, 0, "no %s on the page", name);
	return v;
}

static uint16_t metrics_port(void)
{
	char out[8192], a[600];
	snprintf(a, sizeof(a), "status --json --socket '%s/control.sock'", d.dir);
	if (nc_ctl(dir, a, out, sizeof(out)) == 0) {
		json_t *j = json_loads(out, 0, NULL);
		json_t *port = json_object_get(json_object_get(j, "metrics"), "port");
		uint16_t v = (uint16_t)json_integer_value(port);
		json_decref(j);
		if (v)
			return v;
	}
	cr_assert_fail("no metrics port in: %s", out);
	return 0;
}

/* L3: a flood from one prefix gets slipped TC=1 answers, never more bytes than it sent for
 * the limited answers; TCP is not limited; an exempt view is not limited. */
Test(abuse, l3_flood_slipped_no_amplification_tcp_unlimited)
{
	setup("  rate-limit = { responses-per-second = 20; slip = 2; window = 2; "
	      "exempt-views = [\"monitor\"]; };",
	      "metrics: { listen = \"127.0.0.1@0\"; };\n");
	uint16_t mport = metrics_port();
	char page[65536];
	scrape(mport, page, sizeof(page));
	long long slip0 =
	        metric(page, "fedenum_ratelimit_actions_total{mechanism=\"rrl\",action=\"slip\"}");
	cr_assert_eq(slip0, 0);
	/* 2000 queries for one present number, in bursts of 100, answers drained between */
	int fd = udp_from(HARVESTER);
	char q[128];
	uint8_t req[512], resp[4096];
	qname_of(15551000007ull, q);
	size_t qlen = fe_test_make_query(q, LDNS_RR_TYPE_NAPTR, 0, 1232, req, sizeof(req));
	unsigned full = 0, tc = 0, other = 0;
	size_t bytes_in = 0, bytes_full = 0, bytes_tc = 0;
	uint64_t t0 = nc_now_ms();
	for (unsigned burst = 0; burst < 20; burst++) {
		for (unsigned i = 0; i < 100; i++) {
			req[0] = (uint8_t)burst, req[1] = (uint8_t)i;
			cr_assert_eq(send(fd, req, qlen, 0), (ssize_t)qlen);
			bytes_in += qlen;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		while (poll(&p, 1, 200) == 1) {
			ssize_t r = recv(fd, resp, sizeof(resp), 0);
			if (r < 12)
				continue;
			if (resp[2] & 0x02) {
				tc++;
				bytes_tc += (size_t)r;
				cr_assert_leq((size_t)r, qlen,
				              "a slipped answer outgrows the query");
				cr_assert_eq(resp[7], 0, "a slipped answer carries records");
			} else if ((resp[6] << 8 | resp[7]) == 1) {
				full++;
				bytes_full += (size_t)r;
			} else {
				other++;
			}
		}
	}
	uint64_t secs = (nc_now_ms() - t0) / 1000 + 1;
	close(fd);
	size_t limited = 2000 - full;
	printf("L3: 2000 queries (%zu bytes) in %llu s: %u full answers (%zu bytes), %u slipped "
	       "TC=1 (%zu bytes), %zu dropped; limited class: %zu bytes in, %zu out\n",
	       bytes_in, (unsigned long long)secs, full, bytes_full, tc, bytes_tc, limited - tc,
	       limited * qlen, bytes_tc);
	cr_assert_eq(other, 0);
	/* the bucket: one second's burst, then 20 a second (and the debt of window) */
	cr_assert_leq(full, 20 * (secs + 1) + 20, "%u full answers in %llu s", full,
	              (unsigned long long)secs);
	cr_assert_gt(tc, 0);
	cr_assert_leq(bytes_tc, limited * qlen, "amplification");
	/* TCP from the same client: answered in full */
	for (int i = 0; i < 5; i++) {
		ldns_pkt *a =
		        fe_test_query("127.0.0.1", d.port, q, LDNS_RR_TYPE_NAPTR, FE_TQ_TCP, 0);
		cr_assert_not_null(a);
		/* (from 127.0.0.1: the default view, not limited as the flood's prefix) */
		cr_assert_eq(ldns_pkt_ancount(a), 1);
		ldns_pkt_free(a);
	}
	int tfd = fe_test_tcp_connect("127.0.0.1", d.port);
	cr_assert_geq(tfd, 0);
	close(tfd);
	/* an exempt view floods unlimited */
	fd = udp_from(EXEMPT);
	unsigned got = 0;
	for (unsigned i = 0; i < 200; i++)
		got += ask(fd, 15551000007ull, (uint16_t)i, 2000) == LDNS_RCODE_NOERROR;
	close(fd);
	cr_assert_eq(got, 200);
	scrape(mport, page, sizeof(page));
	long long slip =
	        metric(page, "fedenum_ratelimit_actions_total{mechanism=\"rrl\",action=\"slip\"}");
	long long drop =
	        metric(page, "fedenum_ratelimit_actions_total{mechanism=\"rrl\",action=\"drop\"}");
	/* every slipped answer arrived and was counted; slip 2: every 2nd limited answer (the
	 * queries a loaded machine lost before the daemon read them are not limited ones) */
	cr_assert_eq(slip, (long long)tc, "slips counted");
	cr_assert_leq(slip + drop, (long long)limited, "limits counted");
	cr_assert_geq(slip + drop, (long long)limited * 9 / 10, "limits counted");
	cr_assert_leq(llabs(2 * slip - (slip + drop)), 1, "slip %lld, drop %lld", slip, drop);
	cr_assert_geq(
	        metric(page, "fedenum_policy_decisions_total{cause=\"route\",action=\"pass\"}"),
	        2000 + 200);
	cr_assert_geq(fe_test_daemon_log_count(&d, "policy: rate limit: responses to 127.0.1.0/24"),
	              1);
}

/* A view over its query budget gets REFUSED; the others do not. */
Test(abuse, view_budget_refused_counted)
{
	setup("  harvesting = { };", "metrics: { listen = \"127.0.0.1@0\"; };\n");
	int fd = udp_from(BUDGETED);
	unsigned ok = 0, refused = 0;
	uint64_t t0 = nc_now_ms();
	for (unsigned i = 0; i < 300; i++) {
		int rc = ask(fd, 15551000000ull + i % 10, (uint16_t)i, 2000);
		ok += rc == LDNS_RCODE_NOERROR;
		refused += rc == LDNS_RCODE_REFUSED;
	}
	uint64_t secs = (nc_now_ms() - t0) / 1000 + 1;
	close(fd);
	printf("budget: 300 queries in %llu s: %u answered, %u refused (budget 20 a second)\n",
	       (unsigned long long)secs, ok, refused);
	cr_assert_eq(ok + refused, 300);
	cr_assert_leq(ok, 20 * (secs + 1));
	fd = udp_from(SCSCF);
	for (unsigned i = 0; i < 300; i++)
		cr_assert_eq(ask(fd, 15551000000ull + i % 10, (uint16_t)i, 2000),
		             LDNS_RCODE_NOERROR);
	close(fd);
	char page[65536];
	scrape(metrics_port(), page, sizeof(page));
	cr_assert_eq(metric(page, "fedenum_ratelimit_actions_total{mechanism=\"budget\","
	                          "action=\"refused\"}"),
	             refused);
	cr_assert_geq(fe_test_daemon_log_count(
	                      &d, "policy: view partner is over its budget of 20 queries a second"),
	              1);
}
