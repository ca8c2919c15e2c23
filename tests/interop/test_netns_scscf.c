/* The multi-host test's S-CSCF (issue #9 scope 3, scenario d): the federation of
 * tests/integration/netns_fed.h (a hub and three members, each fedenumd in its own network
 * namespace, zones replicated by TSIG-signed transfers through the hub and validated), with
 * carrier A's S-CSCF in member a's namespace: Kamailio (the configuration of the Kamailio
 * test, tests/interop/kamailio.cfg, listening on a's address) whose resolver is node a
 * (/etc/resolv.conf bind-mounted in its own mount namespace: nameserver 10.77.0.11), and a
 * sipp UAC placing the calls. Each member's SIP entry point is a sipp UAS in the member's own
 * namespace (ims-m.example. NAPTR → SRV → A → ADDR:5070, as replicated to node a), the BGCF
 * of the policy a sipp UAS in the hub's namespace (10.77.0.1:5080). A call reaches a member
 * in another namespace only through data node a took by transfer: b's and c's ENUM zones and
 * entry-point domains. Every call is checked at the UAS that received it (the Request-URI of
 * each INVITE, as the Kamailio test does); the time of the UAC run is printed. */
#include <criterion/criterion.h>

#include <strings.h>

#include "../integration/netns_fed.h"

#define ROUNDS 3
#define UAS_N  4

struct call {
	const char *number;
	const char *uas; /* the UAS that must receive it */
	const char *ruri;
};

static const struct call plan[] = {
        {"+15551000001", "a", "sip:+15551000001@ims-a.example;user=phone"},
        {"+15552000001", "b", "sip:+15552000001@ims-b.example;user=phone"},
        {"+15553000002", "c", "sip:+15553000002@ims-c.example;user=phone"},
        /* carrier C's range, no such number: not-found → bgcf for view scscf-a */
        {"+15553000099", "bgcf", "sip:+15553000099@" NF_BGCF ";user=phone"},
};
#define NCALLS (sizeof(plan) / sizeof(plan[0]))

static const char *const uas_name[UAS_N] = {"a", "b", "c", "bgcf"};
static const char *const uas_addr[UAS_N] = {"10.77.0.11:" NF_SIP_PORT, "10.77.0.12:" NF_SIP_PORT,
                                            "10.77.0.13:" NF_SIP_PORT, NF_BGCF};
static struct nf_node *const uas_node[UAS_N] = {&nf_a, &nf_b, &nf_c, &nf_hub};
static pid_t uas_pid[UAS_N], kam_pid;

static void stop_sip(void)
{
	for (size_t i = 0; i < UAS_N; i++)
		fe_test_stop_pid(&uas_pid[i]);
	fe_test_stop_pid(&kam_pid);
}

static void cleanup(void)
{
	stop_sip();
	nf_cleanup(); /* also kills Kamailio's children: every process left in the namespaces */
}

TestSuite(netns_scscf, .fini = cleanup, .timeout = 240);

/* Something listens on UDP @addr (ADDR:PORT) in namespace @ns, within 10 s. */
static bool wait_udp(const char *ns, const char *addr)
{
	for (int i = 0; i < 100; i++) {
		if (fe_test_sh("ip netns exec %s ss -Hlun 'src %s' | grep -q .", ns, addr) == 0)
			return true;
		nf_sleep_ms(100);
	}
	return false;
}

/* Distinct INVITEs (by Call-ID) the UAS @name received; each one's Request-URI must be
 * @ruri of some call planned for that UAS (else the test fails). */
static size_t invites_at(const char *name)
{
	char path[600], line[1024], callids[64][160], ruri[200] = "";
	snprintf(path, sizeof(path), "%s/uas-%s.msg", nf_tmp, name);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = 0;
	bool received = false, in_invite = false;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (strstr(line, "message received")) {
			received = true;
			in_invite = false;
		} else if (strstr(line, "message sent")) {
			received = in_invite = false;
		} else if (received && strncmp(line, "INVITE ", 7) == 0) {
			in_invite = true;
			snprintf(ruri, sizeof(ruri), "%.*s", (int)strcspn(line + 7, " "), line + 7);
			bool planned = false;
			for (size_t i = 0; i < NCALLS; i++)
				planned |= strcmp(plan[i].uas, name) == 0 &&
				           strcmp(plan[i].ruri, ruri) == 0;
			cr_assert(planned, "UAS %s received an INVITE for %s", name, ruri);
		} else if (in_invite && strncasecmp(line, "Call-ID:", 8) == 0) {
			in_invite = false;
			const char *id = line + 8 + (line[8] == ' ');
			bool seen = false;
			for (size_t i = 0; i < n; i++)
				seen |= strcmp(callids[i], id) == 0;
			if (!seen) {
				cr_assert_lt(n, 64u, "more INVITEs than calls at %s", name);
				snprintf(callids[n++], sizeof(callids[0]), "%s", id);
			}
		}
	}
	fclose(f);
	return n;
}

static void dump(const char *file)
{
	fprintf(stderr, "---- %s ----\n", file);
	fe_test_sh("tail -n 30 '%s/%s' >&2", nf_tmp, file);
}

Test(netns_scscf, calls_from_member_a_reach_every_member_namespace)
{
	nf_setup();
	uint64_t t0 = fe_time_mono_ms();
	for (size_t i = 0; i < NF_NNODES; i++)
		nf_start(nf_all[i]);
	nf_converge();
	long converged = (long)(fe_time_mono_ms() - t0);

	/* the entry points and the BGCF, each a sipp UAS in its own namespace */
	for (size_t i = 0; i < UAS_N; i++) {
		char ip[32], log[600], msg[600];
		snprintf(ip, sizeof(ip), "%s", uas_addr[i]);
		char *port = strchr(ip, ':');
		*port++ = '\0';
		snprintf(log, sizeof(log), "%s/uas-%s.out", nf_tmp, uas_name[i]);
		snprintf(msg, sizeof(msg), "%s/uas-%s.msg", nf_tmp, uas_name[i]);
		const char *argv[] = {"sipp",     "-sn",  "uas",        "-i",
		                      ip,         "-p",   port,         "-nostdin",
		                      "-timeout", "120s", "-trace_msg", "-message_file",
		                      msg,        NULL};
		nf_enter(uas_node[i]->ns);
		uas_pid[i] = fe_test_spawn(log, argv);
		nf_leave();
		cr_assert_gt(uas_pid[i], 0);
		cr_assert(wait_udp(uas_node[i]->ns, uas_addr[i]), "UAS %s not listening",
		          uas_name[i]);
	}

	/* Kamailio in a's namespace, node a its only name server */
	char cmd[2048], log[600];
	cr_assert_eq(fe_test_sh("mkdir -p '%s/kam' && "
	                        "printf 'nameserver %s\\noptions timeout:2 attempts:1\\n' > "
	                        "'%s/kam/resolv.conf' && printf '127.0.0.1 localhost\\n' > "
	                        "'%s/kam/hosts' && sed 's/^listen=.*/listen=udp:%s:5060/' "
	                        "'%s/tests/interop/kamailio.cfg' > '%s/kam/kamailio.cfg'",
	                        nf_tmp, nf_a.ip, nf_tmp, nf_tmp, nf_a.ip, FE_TEST_SRC, nf_tmp),
	             0);
	snprintf(cmd, sizeof(cmd),
	         "mount --bind '%s/kam/resolv.conf' /etc/resolv.conf && "
	         "mount --bind '%s/kam/hosts' /etc/hosts && "
	         "exec kamailio -f '%s/kam/kamailio.cfg' -DD -E -Y '%s/kam' -P '%s/kam/pid'",
	         nf_tmp, nf_tmp, nf_tmp, nf_tmp, nf_tmp);
	snprintf(log, sizeof(log), "%s/kamailio.log", nf_tmp);
	const char *kargv[] = {"unshare", "-m", "--propagation", "private", "sh", "-c", cmd, NULL};
	nf_enter(nf_a.ns);
	kam_pid = fe_test_spawn(log, kargv);
	nf_leave();
	cr_assert_gt(kam_pid, 0);
	char kaddr[40];
	snprintf(kaddr, sizeof(kaddr), "%s:5060", nf_a.ip);
	if (!wait_udp(nf_a.ns, kaddr)) {
		dump("kamailio.log");
		cr_assert_fail("Kamailio not listening on %s", kaddr);
	}

	/* the calls: sipp UAC in a's namespace, ROUNDS per number */
	char csv[512] = "SEQUENTIAL\n";
	for (size_t i = 0; i < NCALLS; i++) {
		strcat(csv, plan[i].number);
		strcat(csv, ";\n");
	}
	char path[600];
	snprintf(path, sizeof(path), "%s/numbers.csv", nf_tmp);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(csv, f);
	cr_assert_eq(fclose(f), 0);
	/* node a's policy counters before the calls (a SIGUSR1 dump) */
	char alog[600];
	snprintf(alog, sizeof(alog), "%s/fedenumd.log", nf_a.dir);
	cr_assert_eq(kill(nf_a.d.pid, SIGUSR1), 0);
	cr_assert(fe_test_daemon_wait_log(&nf_a.d, "counters (SIGUSR1) policy: ", 1, 10));
	long long route0 = fe_test_log_counter(alog, "counters (SIGUSR1) policy: ", "route/pass");
	long long bgcf0 =
	        fe_test_log_counter(alog, "counters (SIGUSR1) policy: ", "not-found/bgcf");
	cr_assert_geq(route0, 0);
	if (bgcf0 < 0)
		bgcf0 = 0; /* not counted yet: not listed */
	uint64_t t_calls = fe_time_mono_ms();
	int rc = fe_test_sh("ip netns exec %s timeout -s KILL 90 sipp %s -sf "
	                    "'%s/tests/interop/sipp-uac.xml' -inf '%s' -i %s -p 5090 -m %zu -r 20 "
	                    "-l 5 -nostdin -timeout 40s -timeout_error -trace_msg -message_file "
	                    "'%s/uac.msg' > '%s/uac.out' 2>&1",
	                    nf_a.ns, kaddr, FE_TEST_SRC, path, nf_a.ip, NCALLS * ROUNDS, nf_tmp,
	                    nf_tmp);
	long calls_ms = (long)(fe_time_mono_ms() - t_calls);
	if (rc != 0) {
		dump("uac.out");
		dump("kamailio.log");
	}
	cr_assert_eq(rc, 0, "sipp UAC: not every call completed (exit %d)", rc);
	stop_sip(); /* the UAS message files are complete */

	size_t total = 0;
	for (size_t u = 0; u < UAS_N; u++) {
		size_t want = 0, got = invites_at(uas_name[u]);
		for (size_t i = 0; i < NCALLS; i++)
			want += strcmp(plan[i].uas, uas_name[u]) == 0 ? ROUNDS : 0;
		cr_assert_eq(got, want, "UAS %s received %zu calls, expected %zu", uas_name[u], got,
		             want);
		total += got;
	}
	cr_assert_eq(total, NCALLS * ROUNDS);

	/* node a decided every lookup (its counters at exit): one per call, more only if the
	 * resolver retried */
	nf_stop(&nf_a);
	cr_assert_geq(fe_test_log_counter(alog, "counters (exit) policy: ", "route/pass") - route0,
	              3 * ROUNDS);
	cr_assert_geq(fe_test_log_counter(alog, "counters (exit) policy: ", "not-found/bgcf") -
	                      bgcf0,
	              ROUNDS);
	printf("netns (d): federation converged in %ld ms; Kamailio in member a's namespace: %zu "
	       "calls placed, %zu received at the entry points of a, b, c and the BGCF (hub), "
	       "UAC run %ld ms\n",
	       converged, NCALLS * ROUNDS, total, calls_ms);
	fflush(stdout);
}
