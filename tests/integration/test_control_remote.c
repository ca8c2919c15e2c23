/* Remote administration: the control protocol over TCP with mutual TLS (control.listen,
 * docs/control.md). fedenumctl with a client certificate runs the node's commands; a
 * certificate of another CA, one the CA signed but not on control.tls-clients, no
 * certificate, plain text, and a node certificate that does not carry the expected name are
 * all refused, counted, and cost nothing but that connection. The PKI comes from
 * tests/integration/data/mk-tls-certs.sh. */
#include "net_common.h"

#include <jansson.h>
#include <sys/stat.h>

#define CERTS FE_TEST_SRC "/tests/integration/data/mk-tls-certs.sh"

static struct fe_test_daemon d;
static char dir[256], pki[300];
static uint16_t rport;

static void stop(void)
{
	if (d.pid > 0)
		cr_expect_eq(fe_test_daemon_stop(&d), 0, "fedenumd exit status");
	d.pid = 0;
	if (dir[0])
		fe_test_rmdir(dir);
}

TestSuite(control_remote, .fini = stop, .timeout = 120);

static void make_pki(void)
{
	fe_test_mkdtemp(dir, sizeof(dir));
	snprintf(pki, sizeof(pki), "%s/pki", dir);
	cr_assert_eq(mkdir(pki, 0700), 0);
	cr_assert_eq(fe_test_sh("sh '%s' '%s'", CERTS, pki), 0, "test PKI");
}

/* `fedenumctl @args` on the local control socket; the parsed --json result. */
static json_t *local_json(const char *args)
{
	static char out[65536];
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "%s --socket %s/control.sock --json", args, dir);
	int st = nc_ctl(dir, cmd, out, sizeof(out));
	cr_assert_eq(st, 0, "%s: %s", args, out);
	json_t *j = json_loads(out, 0, NULL);
	cr_assert_not_null(j, "%s", out);
	return j;
}

static long long remote_counter(const char *name)
{
	json_t *j = local_json("stats");
	json_t *v = json_object_get(json_object_get(j, "control_remote"), name);
	cr_assert(json_is_integer(v), "control_remote.%s", name);
	long long n = json_integer_value(v);
	json_decref(j);
	return n;
}

static void start(const char *clients)
{
	make_pki();
	char conf[512];
	snprintf(conf, sizeof(conf), "%s/fedenumd.conf", dir);
	nc_write_file(conf,
	              "control: { listen = \"127.0.0.1@0\"; tls-cert = \"pki/server.pem\";\n"
	              "  tls-key = \"pki/server.key\"; tls-client-ca = \"pki/ca.pem\"; %s };\n",
	              clients);
	const char *argv[] = {"-c", conf, "--zone", NET_ZONE, NULL};
	cr_assert_eq(fe_test_daemon_start(&d, dir, argv), 0);
	json_t *st = local_json("status");
	rport = (uint16_t)json_integer_value(
	        json_object_get(json_object_get(st, "control_remote"), "port"));
	json_decref(st);
	cr_assert_gt(rport, 0, "status shows the remote port");
	cr_expect_eq(fe_test_daemon_log_count(&d, "control (remote, mutual TLS): 127.0.0.1@"), 1);
}

/* `fedenumctl @cmd --remote ... --tls-cert pki/@who.pem ...` plus @extra. */
static int remote(const char *cmd, const char *who, const char *extra, char *out, size_t cap)
{
	char args[2048];
	snprintf(args, sizeof(args),
	         "%s --remote 127.0.0.1@%u --tls-cert %s/%s.pem --tls-key %s/%s.key --tls-ca "
	         "%s/ca.pem %s",
	         cmd, (unsigned)rport, pki, who, pki, who, pki, extra);
	return nc_ctl(dir, args, out, cap);
}

Test(control_remote, commands_with_a_client_certificate)
{
	start("tls-clients = [\"client-a.test\"];");
	char out[65536];
	cr_assert_eq(remote("status", "client-a", "--json", out, sizeof(out)), 0, "%s", out);
	json_t *j = json_loads(out, 0, NULL);
	cr_assert_not_null(j, "%s", out);
	cr_expect_eq(json_integer_value(json_object_get(j, "pid")), d.pid);
	json_decref(j);
	cr_expect_eq(remote("zone list", "client-a", "", out, sizeof(out)), 0, "%s", out);
	cr_expect_not_null(strstr(out, "net.test."), "%s", out);
	cr_expect_eq(remote("zone show", "client-a", "net.test --json", out, sizeof(out)), 0, "%s",
	             out);
	cr_expect_eq(remote("reload", "client-a", "", out, sizeof(out)), 0, "%s", out);
	/* The node's name instead of its address: the certificate has both. */
	cr_expect_eq(remote("status", "client-a", "--tls-name dot.test", out, sizeof(out)), 0, "%s",
	             out);
	cr_expect_eq(remote_counter("ctl_ok"), 5);
	cr_expect_eq(remote_counter("ctl_tls_failed"), 0);
}

Test(control_remote, wrong_certificates_are_refused_and_counted)
{
	start("tls-clients = [\"client-a.test\"];");
	char out[65536];
	/* Signed by the CA, but not on the list: the TLS session is made, the request refused. */
	cr_expect_eq(remote("status", "client-b.test", "", out, sizeof(out)), 1, "%s", out);
	cr_expect_not_null(strstr(out, "forbidden"), "%s", out);
	cr_expect_not_null(strstr(out, "client-b.test"), "%s", out);
	cr_expect_eq(remote_counter("ctl_forbidden"), 1);
	/* Another CA's certificate: the handshake fails on the node's side. */
	cr_expect_eq(remote("status", "rogue", "", out, sizeof(out)), 3, "%s", out);
	cr_expect_not_null(strstr(out, "TLS"), "%s", out);
	/* No certificate at all (OpenSSL's client), and plain text on the TLS port. */
	cr_expect_eq(
	        fe_test_sh("echo '{\"version\":1,\"command\":\"status\"}' | timeout 10 openssl "
	                   "s_client -connect 127.0.0.1:%u -CAfile %s/ca.pem -quiet "
	                   "2>/dev/null | grep -q pid",
	                   (unsigned)rport, pki),
	        1, "no answer without a client certificate");
	int fd = fe_test_tcp_connect("127.0.0.1", rport);
	cr_assert_geq(fd, 0);
	static const char plain[] = "{\"version\":1,\"command\":\"status\"}\n";
	cr_assert_eq(fe_test_write_all(fd, plain, sizeof(plain) - 1), 0);
	uint8_t buf[4096];
	ssize_t n = fe_test_tcp_read_msg(fd, buf, sizeof(buf), 3000);
	cr_expect_leq(n, 0, "plain text gets no JSON answer");
	cr_expect(fe_test_wait_closed(fd, 5000), "closed");
	close(fd);
	/* The node's certificate must carry the name asked for. */
	cr_expect_eq(remote("status", "client-a", "--tls-name other.test", out, sizeof(out)), 3,
	             "%s", out);
	cr_expect_not_null(strstr(out, "hostname mismatch"), "%s", out);
	for (int i = 0; i < 100 && remote_counter("ctl_tls_failed") < 3; i++)
		nc_sleep_ms(20);
	cr_expect_geq(remote_counter("ctl_tls_failed"), 3);
	cr_expect_geq(fe_test_daemon_log_count(&d, "control (remote): 127.0.0.1: TLS handshake "
	                                           "failed"),
	              1);
	/* Still serving DNS and the allowed client. */
	cr_expect_eq(remote("status", "client-a", "", out, sizeof(out)), 0, "%s", out);
	ldns_pkt *p = fe_test_query(d.host, d.port, NET_NAPTR, LDNS_RR_TYPE_NAPTR, 0, 0);
	cr_expect_not_null(p);
	ldns_pkt_free(p);
}

Test(control_remote, without_a_list_any_certificate_of_the_ca)
{
	start("");
	char out[8192];
	cr_expect_eq(remote("status", "client-b.test", "", out, sizeof(out)), 0, "%s", out);
	cr_expect_eq(remote("status", "rogue", "", out, sizeof(out)), 3, "%s", out);
}

Test(control_remote, configuration_errors)
{
	make_pki();
	static const struct {
		const char *conf, *want;
	} cases[] = {
	        {"control: { listen = \"127.0.0.1@0\"; };",
	         "control.listen: needs control.tls-cert, control.tls-key and "
	         "control.tls-client-ca"},
	        {"control: { listen = \"nowhere\"; tls-cert = \"pki/server.pem\"; tls-key = "
	         "\"pki/server.key\"; tls-client-ca = \"pki/ca.pem\"; };",
	         "control.listen \"nowhere\" is not ADDR@PORT"},
	        {"control: { listen = \"127.0.0.1@0\"; tls-cert = \"pki/server.pem\"; tls-key = "
	         "\"pki/server.key\"; tls-client-ca = \"pki/ca.pem\"; tls-clients = []; };",
	         "control.tls-clients: empty"},
	};
	char conf[512], cmd[2048], out[4096];
	snprintf(conf, sizeof(conf), "%s/fedenumd.conf", dir);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		nc_write_file(conf, "%s\n", cases[i].conf);
		snprintf(cmd, sizeof(cmd), "%s --check-config -c '%s'", FE_TEST_FEDENUMD, conf);
		cr_expect_eq(nc_run(dir, out, sizeof(out), cmd), 1, "case %zu: %s", i, out);
		cr_expect_not_null(strstr(out, cases[i].want), "case %zu: %s", i, out);
	}
	/* A key others may read: the node does not start. */
	char key[400];
	snprintf(key, sizeof(key), "%s/server.key", pki);
	cr_assert_eq(chmod(key, 0644), 0);
	nc_write_file(conf, "control: { listen = \"127.0.0.1@0\"; tls-cert = \"pki/server.pem\";\n"
	                    "  tls-key = \"pki/server.key\"; tls-client-ca = \"pki/ca.pem\"; };\n");
	snprintf(cmd, sizeof(cmd),
	         "%s -c '%s' --db '%s/db' --listen 127.0.0.1@0 --control '%s/c.sock'",
	         FE_TEST_FEDENUMD, conf, dir, dir);
	cr_expect_eq(nc_run(dir, out, sizeof(out), cmd), 1, "%s", out);
	cr_expect_not_null(strstr(out, "readable by group or others"), "%s", out);
	/* fedenumctl's own checks. */
	cr_expect_eq(nc_ctl(dir, "status --remote 127.0.0.1@1", out, sizeof(out)), 2, "%s", out);
	cr_expect_not_null(strstr(out, "--remote needs --tls-cert"), "%s", out);
	cr_expect_eq(nc_ctl(dir, "status --tls-ca x", out, sizeof(out)), 2, "%s", out);
}
