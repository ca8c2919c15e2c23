/* The systemd unit shipped in scripts/systemd/: systemd accepts it, its sandbox scores as
 * hardened, and fedenumd starts the way the unit starts it — an ordinary user whose only
 * capability is binding a port below 1024 — and answers. There is no systemd (PID 1) on the
 * test machines, so the unit's file-system and system-call sandbox is checked by systemd's own
 * offline analysis, and the process credentials are reproduced with setpriv. */
#include "fe_test.h"
#include "net_common.h"

#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define UNIT_SRC FE_TEST_SRC "/scripts/systemd/fedenumd.service"

static char dir[256];

static void setup(void)
{
	fe_test_mkdtemp(dir, sizeof(dir));
	cr_assert_eq(chmod(dir, 0755), 0);
}

static void teardown(void)
{
	fe_test_rmdir(dir);
}

TestSuite(service_unit, .init = setup, .fini = teardown, .timeout = 120);

/* The unit with its binary paths pointed at this build (systemd checks that they exist). */
static void local_unit(char *path, size_t cap)
{
	snprintf(path, cap, "%s/fedenumd.service", dir);
	cr_assert_eq(fe_test_sh("sed 's#/usr/local/sbin/fedenumd#%s#g' '%s' >'%s'",
	                        FE_TEST_FEDENUMD, UNIT_SRC, path),
	             0);
}

Test(service_unit, systemd_accepts_the_unit)
{
	char unit[400], cmd[1024], out[8192];
	local_unit(unit, sizeof(unit));
	snprintf(cmd, sizeof(cmd), "cd '%s' && systemd-analyze verify ./fedenumd.service", dir);
	cr_expect_eq(nc_run(dir, out, sizeof(out), cmd), 0, "%s", out);
	/* Unknown keys, bad values and missing binaries are warnings with exit 0: none allowed. */
	cr_expect_eq(out[0], '\0', "systemd-analyze verify: %s", out);

	/* The negative control: the same check does see a mistyped key. */
	cr_assert_eq(fe_test_sh("sed -i 's/^NoNewPrivileges=yes/NoNewPrivilege=yes/' '%s'", unit),
	             0);
	nc_run(dir, out, sizeof(out), cmd);
	cr_expect_not_null(strstr(out, "NoNewPrivilege"), "%s", out);
}

Test(service_unit, sandbox_is_hardened)
{
	char unit[400], cmd[1024], out[32768];
	local_unit(unit, sizeof(unit));
	snprintf(cmd, sizeof(cmd),
	         "cd '%s' && systemd-analyze security --offline=true --no-pager ./fedenumd.service",
	         dir);
	nc_run(dir, out, sizeof(out), cmd);
	const char *o = strstr(out, "Overall exposure level for fedenumd.service:");
	cr_assert_not_null(o, "%s", out);
	double level = atof(o + strlen("Overall exposure level for fedenumd.service:"));
	/* 0 is a fully locked-down service, 10 an unconfined root one; a DNS server must keep
	 * network access and port 53, which systemd scores at about 1.5. */
	cr_expect(level > 0.0 && level <= 2.0, "exposure %.1f:\n%s", level, out);
	/* What the score does not weigh enough on its own: never root, one capability. */
	cr_expect_not_null(strstr(out, "✓ User=/DynamicUser="), "%s", out);
	cr_expect_not_null(strstr(out, "✓ NoNewPrivileges="), "%s", out);
	cr_expect_not_null(strstr(out, "✓ SystemCallFilter=~@privileged"), "%s", out);
	cr_expect_not_null(strstr(out, "✓ ProtectSystem="), "%s", out);
}

/* A free port below 1024 on 127.0.0.1 (UDP and TCP), or 0. */
static uint16_t free_low_port(void)
{
	for (uint16_t p = 700; p < 1000; p++) {
		int u = socket(AF_INET, SOCK_DGRAM, 0), t = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = {.sin_family = AF_INET,
		                        .sin_port = htons(p),
		                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		bool ok = u >= 0 && t >= 0 && bind(u, (struct sockaddr *)&a, sizeof(a)) == 0 &&
		          bind(t, (struct sockaddr *)&a, sizeof(a)) == 0;
		close(u);
		close(t);
		if (ok)
			return p;
	}
	return 0;
}

/* The "CapEff:" / "Uid:" line of /proc/PID/status. */
static bool proc_status(pid_t pid, const char *key, char *val, size_t cap)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0) {
			snprintf(val, cap, "%s", line + strlen(key));
			found = true;
		}
	fclose(f);
	return found;
}

Test(service_unit, starts_unprivileged_with_only_the_bind_capability)
{
	cr_assert_eq(geteuid(), 0u, "this test runs as root (CI does)");
	struct passwd *pw = getpwnam("nobody");
	cr_assert_not_null(pw, "the test needs the user nobody");
	uint16_t port = free_low_port();
	cr_assert_neq(port, 0, "no free port in 700..999 on 127.0.0.1");

	/* The unit's credentials: User= (not root), AmbientCapabilities= and
	 * CapabilityBoundingSet= CAP_NET_BIND_SERVICE, NoNewPrivileges=. */
	/* The node's own folder, as StateDirectory= gives it: the store and the ready file. */
	char node[300], pidfile[400], ready[400], cmd[4096];
	snprintf(node, sizeof(node), "%s/node", dir);
	cr_assert_eq(mkdir(node, 0750), 0);
	cr_assert_eq(chown(node, pw->pw_uid, pw->pw_gid), 0);
	snprintf(pidfile, sizeof(pidfile), "%s/pid", dir);
	snprintf(ready, sizeof(ready), "%s/ready", node);
	snprintf(cmd, sizeof(cmd),
	         "setpriv --reuid=%u --regid=%u --clear-groups --no-new-privs "
	         "--inh-caps=-all,+net_bind_service --ambient-caps=-all,+net_bind_service "
	         "--bounding-set=-all,+net_bind_service %s --db '%s/db' --listen 127.0.0.1@%u "
	         "--zone '%s' --ready-file '%s' >'%s/log' 2>&1 & echo $! >'%s'",
	         (unsigned)pw->pw_uid, (unsigned)pw->pw_gid, FE_TEST_FEDENUMD, node, (unsigned)port,
	         NET_ZONE, ready, dir, pidfile);
	cr_assert_eq(fe_test_sh("%s", cmd), 0);
	pid_t pid = 0;
	for (int i = 0; i < 50 && pid == 0; i++) {
		FILE *f = fopen(pidfile, "r");
		int v = 0;
		if (f && fscanf(f, "%d", &v) == 1)
			pid = (pid_t)v;
		if (f)
			fclose(f);
		if (pid == 0)
			nc_sleep_ms(20);
	}
	cr_assert_gt(pid, 0);
	struct stat sb;
	for (int i = 0; i < 500 && stat(ready, &sb) != 0 && kill(pid, 0) == 0; i++)
		nc_sleep_ms(20);
	char log[8192];
	char logcmd[600];
	snprintf(logcmd, sizeof(logcmd), "cat '%s/log'", dir);
	nc_run(dir, log, sizeof(log), logcmd);
	cr_assert_eq(stat(ready, &sb), 0, "fedenumd did not start:\n%s", log);

	ldns_pkt *p = fe_test_query("127.0.0.1", port, NET_NAPTR, LDNS_RR_TYPE_NAPTR, 0, 0);
	cr_expect_not_null(p, "no answer on port %u", (unsigned)port);
	if (p) {
		cr_expect_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
		cr_expect_gt(ldns_pkt_ancount(p), 0);
		ldns_pkt_free(p);
	}
	char uid[128], capeff[64];
	cr_expect(proc_status(pid, "Uid:", uid, sizeof(uid)));
	unsigned ruid = 0, euid = 0;
	sscanf(uid, "%u %u", &ruid, &euid);
	cr_expect(ruid == pw->pw_uid && euid == pw->pw_uid, "Uid: %s", uid);
	cr_expect(proc_status(pid, "CapEff:", capeff, sizeof(capeff)));
	/* CAP_NET_BIND_SERVICE is bit 10. */
	cr_expect_eq(strtoull(capeff, NULL, 16), 1ull << 10, "CapEff: %s", capeff);

	kill(pid, SIGTERM);
	for (int i = 0; i < 500 && kill(pid, 0) == 0; i++)
		nc_sleep_ms(20);
	cr_expect_neq(kill(pid, 0), 0, "fedenumd did not stop on SIGTERM");
	if (kill(pid, 0) == 0)
		kill(pid, SIGKILL);
}
