/* tests/integration/netns_fed.h — a federation on its own network, for the multi-host tests
 * (test_netns_federation.c, tests/interop/test_netns_scscf.c). Header-only (static inline),
 * like net_common.h.
 *
 * The network: network namespaces made by the test (`ip netns`), named fenet<PID>-<node> so
 * that parallel runs never meet, one per node, each with one veth ("eth0") whose other end
 * ("v-<node>") sits on the bridge br0 of a switch namespace fenet<PID>-sw:
 *
 *        hub 10.77.0.1    a 10.77.0.11    b 10.77.0.12    c 10.77.0.13
 *             |eth0           |eth0           |eth0           |eth0
 *        [v-hub ------------ v-a ---- br0 ---- v-b ------------ v-c]   (fenet<PID>-sw)
 *
 * `ip -n fenet<PID>-sw link set v-c down` partitions c from everyone. Addresses and ports are
 * fixed (the namespaces are private to the run): every node listens on ADDR@53 and
 * 127.0.0.1@53 of its namespace. Nothing leaves these namespaces. Cleanup (nf_cleanup, also
 * on failure from the suite's .fini) kills every process left in them and deletes them;
 * namespaces of an earlier run whose test process is gone (a killed test) are removed at the
 * next start (nf_net_up).
 *
 * The federation: a registry hub and three members, each node in its own namespace with its
 * own store, every zone signed for this run (fresh ECDSA P-256 keys, ldns-signzone, NSEC3 as
 * RFC 9276), every node validating under the trust anchors (the registry's KSK DS, and one
 * per entry-point domain), replication by TSIG-signed AXFR/IXFR and NOTIFY in the hub model
 * of docs/federation.md:
 *  - hub: primary of e164.fed. (delegating +15551 to a, +15552 to b, +15553 to c, with their
 *    DS), secondary of every member zone from its member, NOTIFY to the three members;
 *  - member m (a, b, c): primary of its ENUM zone m.5.5.5.1.e164.fed. (numbers +1555m000001
 *    and +1555m000002, E2U+sip to ims-m.example) and its entry-point domain ims-m.example.
 *    (NAPTR → SRV → A, the SIP entry point ADDR:5070); secondary of every other zone from the
 *    hub; NOTIFY to the hub.
 * Member a's ENUM zone has short SOA timers (REFRESH 3, RETRY 2, EXPIRE NF_EXPIRE s): the zone
 * a partition makes expire. Every node shares one federation definition (federation.conf,
 * the same text in each node's folder; each node's folder holds only its own zone files),
 * with the policy engine on: view scscf-a (10.77.0.11/32, member carrier-a: a's S-CSCF and
 * node a's own queries), scscf-c (10.77.0.13/32), default (10.77.0.0/24, 127.0.0.0/8);
 * rules: zone-unavailable → bgcf for scscf-c, not-found → bgcf for scscf-a; policy.bgcf is
 * sip:10.77.0.1:5080 (the hub's namespace). */
#ifndef FE_TEST_NETNS_FED_H
#define FE_TEST_NETNS_FED_H

#include <criterion/criterion.h>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "fe_test.h"
#include "fe_test_pkt.h"
#include "fedenum/util.h"

#define NF_REG      "e164.fed."
#define NF_EXPIRE   20    /* SOA EXPIRE of member a's ENUM zone, seconds */
#define NF_WAIT_MS  30000 /* the longest wait for one condition (every loop is bounded) */
#define NF_BGCF     "10.77.0.1:5080"
#define NF_SIP_PORT "5070" /* each member's SIP entry point (sbc.ims-m.example.) */

struct nf_node {
	const char *name; /* "hub", "a", "b", "c" */
	const char *ip;
	char digit;          /* the member's prefix digit (+1555<digit>); 0 for the hub */
	char ns[64];         /* its network namespace */
	char dir[320];       /* its folder: fedenumd.conf, federation.conf, zones/, db/, log */
	unsigned serial;     /* SOA serial of its ENUM zone (members) */
	char key[400];       /* its ENUM zone's key (the registry's on the hub), base name */
	char key_entry[400]; /* its entry-point domain's key (members) */
	struct fe_test_daemon d;
};

static struct nf_node nf_hub = {.name = "hub", .ip = "10.77.0.1"},
                      nf_a = {.name = "a", .ip = "10.77.0.11", .digit = '1'},
                      nf_b = {.name = "b", .ip = "10.77.0.12", .digit = '2'},
                      nf_c = {.name = "c", .ip = "10.77.0.13", .digit = '3'};
static struct nf_node *const nf_all[] = {&nf_hub, &nf_a, &nf_b, &nf_c};
static struct nf_node *const nf_members[] = {&nf_a, &nf_b, &nf_c};
#define NF_NNODES 4

static char nf_tmp[256];   /* the run's folder */
static char nf_prefix[40]; /* "fenet<PID>" */
static char nf_sw[64];     /* the switch namespace */
static int nf_home = -1;   /* the test's own network namespace */
static bool nf_net_made;

static inline void nf_sleep_ms(unsigned ms)
{
	usleep(ms * 1000u);
}

/* ---- namespaces ---------------------------------------------------------------------- */

/* Enter namespace @ns (this thread: the queries it sends, the processes it forks). */
static inline void nf_enter(const char *ns)
{
	char path[128];
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0, "no namespace %s", ns);
	cr_assert_eq(setns(fd, CLONE_NEWNET), 0, "setns %s", ns);
	close(fd);
}

static inline void nf_leave(void)
{
	cr_assert_eq(setns(nf_home, CLONE_NEWNET), 0, "setns back");
}

/* Kill every process in namespaces named @prefix-* and delete them (with their veths). */
static inline void nf_remove_namespaces(const char *prefix)
{
	fe_test_sh("for n in $(ip netns list | awk '{print $1}' | grep '^%s-'); do "
	           "  for p in $(ip netns pids \"$n\"); do kill -KILL \"$p\" 2>/dev/null; done; "
	           "done; sleep 0.2; "
	           "for n in $(ip netns list | awk '{print $1}' | grep '^%s-'); do "
	           "  ip netns del \"$n\"; done",
	           prefix, prefix);
}

/* Namespaces of earlier runs whose test process is gone (a test killed by its timeout). */
static inline void nf_remove_stale(void)
{
	fe_test_sh("for p in $(ip netns list | awk '{print $1}' | sed -n "
	           "'s/^fenet\\([0-9]*\\)-sw$/\\1/p'); do "
	           "  [ -d /proc/$p ] && continue; "
	           "  for n in $(ip netns list | awk '{print $1}' | grep \"^fenet$p-\"); do "
	           "    for q in $(ip netns pids \"$n\"); do kill -KILL \"$q\" 2>/dev/null; done; "
	           "    ip netns del \"$n\"; "
	           "  done; "
	           "done");
}

/* The network of the header comment. */
static inline void nf_net_up(void)
{
	nf_remove_stale();
	snprintf(nf_prefix, sizeof(nf_prefix), "fenet%d", (int)getpid());
	snprintf(nf_sw, sizeof(nf_sw), "%s-sw", nf_prefix);
	nf_home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	cr_assert_geq(nf_home, 0);
	nf_net_made = true;
	cr_assert_eq(fe_test_sh("set -e; ip netns add %s; ip -n %s link set lo up; "
	                        "ip -n %s link add br0 type bridge; ip -n %s link set br0 up",
	                        nf_sw, nf_sw, nf_sw, nf_sw),
	             0, "cannot make the switch namespace (ip netns, bridge)");
	for (size_t i = 0; i < NF_NNODES; i++) {
		struct nf_node *n = nf_all[i];
		snprintf(n->ns, sizeof(n->ns), "%s-%s", nf_prefix, n->name);
		cr_assert_eq(
		        fe_test_sh("set -e; ip netns add %s; ip -n %s link set lo up; "
		                   "ip -n %s link add v-%s type veth peer name eth0 netns %s; "
		                   "ip -n %s link set v-%s master br0 up; "
		                   "ip -n %s addr add %s/24 dev eth0; ip -n %s link set eth0 up",
		                   n->ns, n->ns, nf_sw, n->name, n->ns, nf_sw, n->name, n->ns,
		                   n->ip, n->ns),
		        0, "cannot make the namespace of %s", n->name);
	}
}

/* Cut (@up false) or heal the link of @n at the switch. */
static inline void nf_link(const struct nf_node *n, bool up)
{
	cr_assert_eq(fe_test_sh("ip -n %s link set v-%s %s", nf_sw, n->name, up ? "up" : "down"),
	             0);
}

/* ---- zones and keys ------------------------------------------------------------------ */

/* A key for @apex (one combined key, flags 257, as the demo's carrier-b), its DS in
 * tmp/keys/APEX.ds; the key's base name (tmp/keys/K...) into @base. */
static inline void nf_keygen(const char *apex, char *base, size_t cap)
{
	char out[600];
	snprintf(out, sizeof(out), "%s/keys/%s.base", nf_tmp, apex);
	cr_assert_eq(fe_test_sh("cd '%s/keys' && k=$(ldns-keygen -a ECDSAP256SHA256 -k -r "
	                        "/dev/urandom %s) && echo \"$PWD/$k\" > '%s' && "
	                        "ldns-key2ds -n -2 \"$k.key\" > '%s.ds'",
	                        nf_tmp, apex, out, apex),
	             0, "ldns-keygen %s", apex);
	FILE *f = fopen(out, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(base, (int)cap, f));
	fclose(f);
	base[strcspn(base, "\n")] = '\0';
}

/* Sign tmp/src/@file (apex @apex) with the key @base into @n's zones/@file.signed (written
 * beside it, then renamed: a reload never reads half a file). */
static inline void nf_sign(const struct nf_node *n, const char *apex, const char *file,
                           const char *base)
{
	cr_assert_eq(fe_test_sh("mkdir -p '%s/zones' && cd '%s/src' && ldns-signzone -n -a 1 -t 0 "
	                        "-i 20260101000000 -e 20360101000000 -o %s -f '%s/zones/%s.tmp' "
	                        "%s '%s' && mv '%s/zones/%s.tmp' '%s/zones/%s.signed'",
	                        n->dir, nf_tmp, apex, n->dir, file, file, base, n->dir, file,
	                        n->dir, file),
	             0, "ldns-signzone %s", apex);
}

/* Member @m's ENUM zone, serial m->serial, with @extra lines (numbers) appended; signed. */
static inline void nf_member_enum_zone(struct nf_node *m, const char *extra)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/src/%c.5.5.5.1.e164.fed.zone", nf_tmp, m->digit);
	/* member a's zone is the one a partition makes expire */
	const char *timers = m == &nf_a ? "3 2 " : "3600 600 ";
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "$ORIGIN %c.5.5.5.1.e164.fed.\n$TTL 60\n"
	        "@ SOA ns.ims-%s.example. hostmaster.ims-%s.example. %u %s%d 60\n"
	        "@ NS ns.ims-%s.example.\n",
	        m->digit, m->name, m->name, m->serial, timers, m == &nf_a ? NF_EXPIRE : 86400,
	        m->name);
	for (int i = 1; i <= 2; i++)
		fprintf(f,
		        "%d.0.0.0.0.0 NAPTR 10 100 \"u\" \"E2U+sip\" "
		        "\"!^.*$!sip:+1555%c00000%d@ims-%s.example;user=phone!\" .\n",
		        i, m->digit, i, m->name);
	if (extra)
		fputs(extra, f);
	cr_assert_eq(fclose(f), 0);
	char apex[40], file[48];
	snprintf(apex, sizeof(apex), "%c.5.5.5.1.e164.fed.", m->digit);
	snprintf(file, sizeof(file), "%szone", apex);
	nf_sign(m, apex, file, m->key);
}

/* The owner of a number of prefix +1555<digit> into @buf (RFC 6116 §2.4): @last is the
 * rest of the number's digits, reversed and dotted ("1.0.0.0.0.0" for +1555<digit>000001). */
static inline const char *nf_number(char *buf, size_t cap, char digit, const char *last)
{
	snprintf(buf, cap, "%s.%c.5.5.5.1.e164.fed.", last, digit);
	return buf;
}

/* Member @m's entry-point domain ims-m.example. (RFC 3263: NAPTR → SRV → A), signed. */
static inline void nf_member_entry_zone(struct nf_node *m)
{
	char path[600], apex[40], file[48];
	snprintf(apex, sizeof(apex), "ims-%s.example.", m->name);
	snprintf(file, sizeof(file), "%szone", apex);
	snprintf(path, sizeof(path), "%s/src/%s", nf_tmp, file);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "$ORIGIN %s\n$TTL 60\n"
	        "@ SOA ns hostmaster 1 3600 600 86400 60\n"
	        "@ NS ns\nns A %s\n"
	        "@ NAPTR 10 10 \"s\" \"SIP+D2U\" \"\" _sip._udp\n"
	        "_sip._udp SRV 10 10 " NF_SIP_PORT " sbc\n"
	        "sbc A %s\n",
	        apex, m->ip, m->ip);
	cr_assert_eq(fclose(f), 0);
	nf_sign(m, apex, file, m->key_entry);
}

/* The registry zone e164.fed. with each member's delegation and DS, signed on the hub. */
static inline void nf_registry_zone(void)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/src/e164.fed.zone", nf_tmp);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "$ORIGIN e164.fed.\n$TTL 60\n"
	        "@ SOA ns1 hostmaster 1 3600 600 86400 60\n"
	        "@ NS ns1\nns1 A %s\n",
	        nf_hub.ip);
	for (size_t i = 0; i < 3; i++)
		fprintf(f, "%c.5.5.5.1 NS ns.ims-%s.example.\n", nf_members[i]->digit,
		        nf_members[i]->name);
	cr_assert_eq(fclose(f), 0);
	for (size_t i = 0; i < 3; i++)
		cr_assert_eq(fe_test_sh("cat '%s/keys/%c.5.5.5.1.e164.fed.ds' >> '%s'", nf_tmp,
		                        nf_members[i]->digit, path),
		             0);
	nf_sign(&nf_hub, NF_REG, "e164.fed.zone", nf_hub.key);
}

/* Append to the text in @buf (the test fails when it does not fit). */
static inline void nf_cat(char *buf, size_t cap, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static inline void nf_cat(char *buf, size_t cap, const char *fmt, ...)
{
	size_t l = strlen(buf);
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(buf + l, cap - l, fmt, ap);
	va_end(ap);
	cr_assert(w >= 0 && (size_t)w < cap - l, "configuration text too long");
}

/* federation.conf (the same text in every node's folder) and each node's fedenumd.conf. */
static inline void nf_write_configs(void)
{
	char fed[4096] = "", path[600];
	nf_cat(fed, sizeof(fed),
	       "name = \"netns\";\n"
	       "trust-anchors = [\"../keys/e164.fed.ds\", \"../keys/ims-a.example.ds\", "
	       "\"../keys/ims-b.example.ds\", \"../keys/ims-c.example.ds\"];\n"
	       "clients = [\"10.77.0.0/24\", \"127.0.0.0/8\"];\n"
	       "members = (\n  { name = \"registry\"; role = \"registry\"; }");
	for (size_t i = 0; i < 3; i++)
		nf_cat(fed, sizeof(fed),
		       ",\n  { name = \"carrier-%s\"; prefixes = [\"+1555%c\"]; "
		       "domains = [\"ims-%s.example.\"]; }",
		       nf_members[i]->name, nf_members[i]->digit, nf_members[i]->name);
	nf_cat(fed, sizeof(fed),
	       "\n);\nzones = (\n  { apex = \"e164.fed.\"; member = \"registry\"; "
	       "file = \"zones/e164.fed.zone.signed\"; }");
	for (size_t i = 0; i < 3; i++) {
		const struct nf_node *m = nf_members[i];
		nf_cat(fed, sizeof(fed),
		       ",\n  { apex = \"%c.5.5.5.1.e164.fed.\"; member = \"carrier-%s\"; "
		       "file = \"zones/%c.5.5.5.1.e164.fed.zone.signed\"; },\n"
		       "  { apex = \"ims-%s.example.\"; member = \"carrier-%s\"; "
		       "file = \"zones/ims-%s.example.zone.signed\"; }",
		       m->digit, m->name, m->digit, m->name, m->name, m->name);
	}
	nf_cat(fed, sizeof(fed),
	       "\n);\n"
	       "views = ( { name = \"scscf-a\"; member = \"carrier-a\"; clients = "
	       "[\"10.77.0.11/32\"]; },\n"
	       "          { name = \"scscf-c\"; member = \"carrier-c\"; clients = "
	       "[\"10.77.0.13/32\"]; } );\n"
	       "policy = {\n  bgcf = \"sip:" NF_BGCF "\";\n  outside = \"refused\";\n"
	       "  rules = ( { causes = [\"zone-unavailable\"]; action = \"bgcf\"; views = "
	       "[\"scscf-c\"]; },\n"
	       "            { causes = [\"not-found\"]; action = \"bgcf\"; views = "
	       "[\"scscf-a\"]; } );\n};\n");
	/* ==== CATALOG (issue #9 scope 1, branch `catalog`) ====
	 * A member joining through the registry's catalog zone goes here: the hub publishes
	 * the catalog (fedenumctl from this federation definition), the members consume it
	 * (--catalog e164.fed-catalog@HUB@53 with xfr.key) instead of the member zones listed
	 * one by one in `secondary` below, and a fourth member joins by its catalog entry
	 * alone. Not built here. */
	for (size_t i = 0; i < NF_NNODES; i++) {
		const struct nf_node *n = nf_all[i];
		snprintf(path, sizeof(path), "%s/federation.conf", n->dir);
		FILE *f = fopen(path, "w");
		cr_assert_not_null(f);
		fputs(fed, f);
		cr_assert_eq(fclose(f), 0);
		char notify[256] = "", sec[1024] = "";
		if (n == &nf_hub) {
			for (size_t k = 0; k < 3; k++) {
				const struct nf_node *m = nf_members[k];
				nf_cat(notify, sizeof(notify), "%s\"%s@53\"", k ? ", " : "", m->ip);
				nf_cat(sec, sizeof(sec),
				       "%s\"%c.5.5.5.1.e164.fed.@%s@53\", "
				       "\"ims-%s.example.@%s@53\"",
				       k ? ", " : "", m->digit, m->ip, m->name, m->ip);
			}
		} else {
			nf_cat(notify, sizeof(notify), "\"%s@53\"", nf_hub.ip);
			nf_cat(sec, sizeof(sec), "\"e164.fed.@%s@53\"", nf_hub.ip);
			for (size_t k = 0; k < 3; k++) {
				const struct nf_node *m = nf_members[k];
				if (m == n)
					continue;
				nf_cat(sec, sizeof(sec),
				       ", \"%c.5.5.5.1.e164.fed.@%s@53\", "
				       "\"ims-%s.example.@%s@53\"",
				       m->digit, nf_hub.ip, m->name, nf_hub.ip);
			}
		}
		snprintf(path, sizeof(path), "%s/fedenumd.conf", n->dir);
		f = fopen(path, "w");
		cr_assert_not_null(f);
		fprintf(f,
		        "federation = \"federation.conf\";\n"
		        "server: { workers = 1; };\n"
		        "log: { level = \"info\"; };\n"
		        "xfr: { tsig-keys = [\"../xfr.key\"]; in-max-time-ms = 8000;\n"
		        "       notify = [%s];\n"
		        "       secondary = [%s]; };\n",
		        notify, sec);
		cr_assert_eq(fclose(f), 0);
	}
}

/* The run's folder, keys, zones and configurations; then the network. */
static inline void nf_setup(void)
{
	fe_test_mkdtemp(nf_tmp, sizeof(nf_tmp));
	cr_assert_eq(fe_test_sh("mkdir -p '%s/keys' '%s/src'", nf_tmp, nf_tmp), 0);
	char path[600];
	snprintf(path, sizeof(path), "%s/xfr.key", nf_tmp);
	cr_assert_eq(fe_test_write_tsig_key(path, "netns-xfr.test.",
	                                    "Zk9uZXRucy10ZXN0LXNlY3JldC0wMTIzNDU2Nzg5YWI="),
	             0);
	for (size_t i = 0; i < NF_NNODES; i++) {
		struct nf_node *n = nf_all[i];
		memset(&n->d, 0, sizeof(n->d));
		n->serial = 1;
		snprintf(n->dir, sizeof(n->dir), "%s/%s", nf_tmp, n->name);
		cr_assert_eq(fe_test_sh("mkdir -p '%s/zones'", n->dir), 0);
	}
	nf_keygen("e164.fed", nf_hub.key, sizeof(nf_hub.key));
	for (size_t i = 0; i < 3; i++) {
		struct nf_node *m = nf_members[i];
		char apex[40];
		snprintf(apex, sizeof(apex), "%c.5.5.5.1.e164.fed", m->digit);
		nf_keygen(apex, m->key, sizeof(m->key));
		snprintf(apex, sizeof(apex), "ims-%s.example", m->name);
		nf_keygen(apex, m->key_entry, sizeof(m->key_entry));
		nf_member_enum_zone(m, NULL);
		nf_member_entry_zone(m);
	}
	nf_registry_zone();
	nf_write_configs();
	nf_net_up();
}

/* ---- nodes ------------------------------------------------------------------------ */

/* Start @n's fedenumd in its namespace, on ADDR@53 and 127.0.0.1@53. */
static inline void nf_start(struct nf_node *n)
{
	char listen[64], conf[400];
	snprintf(listen, sizeof(listen), "%s@53", n->ip);
	snprintf(conf, sizeof(conf), "%s/fedenumd.conf", n->dir);
	const char *argv[] = {"-c", conf, "--listen", "127.0.0.1@53", NULL};
	nf_enter(n->ns);
	int rc = fe_test_daemon_start_at(&n->d, n->dir, listen, argv);
	nf_leave();
	cr_assert_eq(rc, 0, "node %s did not start", n->name);
}

static inline void nf_show(const struct nf_node *n)
{
	fprintf(stderr, "---- node %s (%s, %s)\n", n->name, n->ip, n->ns);
	fe_test_sh("grep -v -e counters -e 'NOTIFY' '%s' | tail -n 40 >&2", n->d.log_path);
}

static inline void nf_show_all(void)
{
	for (size_t i = 0; i < NF_NNODES; i++)
		if (nf_all[i]->d.log_path[0])
			nf_show(nf_all[i]);
}

/* SIGTERM and a clean exit (status 0). */
static inline void nf_stop(struct nf_node *n)
{
	int st = fe_test_daemon_stop(&n->d);
	if (st != 0)
		nf_show(n);
	cr_assert_eq(st, 0, "node %s: exit status %d", n->name, st);
}

/* The suite's .fini: every node stopped (a clean exit expected), every process left in the
 * run's namespaces killed, the namespaces deleted, the folder removed (FE_TEST_KEEP=1 keeps
 * it). */
static inline void nf_cleanup(void)
{
	if (nf_home >= 0)
		(void)setns(nf_home, CLONE_NEWNET); /* never kill the test with its namespace */
	for (size_t i = 0; i < NF_NNODES; i++) {
		struct nf_node *n = nf_all[i];
		if (n->d.pid > 0) {
			int st = fe_test_daemon_stop(&n->d);
			if (st != 0)
				nf_show(n);
			cr_expect_eq(st, 0, "node %s: exit status %d", n->name, st);
		}
	}
	if (nf_net_made)
		nf_remove_namespaces(nf_prefix);
	nf_net_made = false;
	if (nf_home >= 0)
		close(nf_home);
	nf_home = -1;
	if (nf_tmp[0] && !getenv("FE_TEST_KEEP"))
		fe_test_rmdir(nf_tmp);
	else if (nf_tmp[0])
		fprintf(stderr, "netns: run folder kept: %s\n", nf_tmp);
	nf_tmp[0] = '\0';
}

/* ---- queries (sent from inside a node's namespace) ------------------------------------ */

/* Ask @to (its address: queries from @from's namespace, source @from's address) */
static inline ldns_pkt *nf_query_at(const struct nf_node *from, const char *to_ip, const char *name,
                                    uint16_t type)
{
	nf_enter(from->ns);
	ldns_pkt *p = fe_test_query(to_ip, 53, name, type, FE_TQ_DO, 0);
	nf_leave();
	return p;
}

/* @n answers @name @type (asked in its own namespace, at its address) with data, AD=1. */
static inline bool nf_served_ad(const struct nf_node *n, const char *name, uint16_t type)
{
	ldns_pkt *p = nf_query_at(n, n->ip, name, type);
	if (!p)
		return false;
	bool ok = ldns_pkt_get_rcode(p) == LDNS_RCODE_NOERROR && ldns_pkt_ad(p);
	ldns_rr_list *l = ok ? ldns_pkt_rr_list_by_type(p, type, LDNS_SECTION_ANSWER) : NULL;
	ok = l && ldns_rr_list_rr_count(l) > 0;
	ldns_rr_list_deep_free(l);
	ldns_pkt_free(p);
	return ok;
}

/* Poll (every 10 ms, at most @ms) until nf_served_ad; the time it took in ms, or -1. */
static inline long nf_wait_ad(const struct nf_node *n, const char *name, uint16_t type, unsigned ms)
{
	uint64_t t0 = fe_time_mono_ms();
	do {
		if (nf_served_ad(n, name, type))
			return (long)(fe_time_mono_ms() - t0);
		nf_sleep_ms(10);
	} while (fe_time_mono_ms() - t0 < ms);
	return -1;
}

static inline void nf_expect_ad(const struct nf_node *n, const char *name, uint16_t type)
{
	if (nf_wait_ad(n, name, type, NF_WAIT_MS) < 0) {
		nf_show_all();
		cr_assert_fail("node %s does not serve %s validated", n->name, name);
	}
}

/* Poll until @n's log has @needle on at least @min lines (at most NF_WAIT_MS). */
static inline bool nf_wait_log(struct nf_node *n, const char *needle, int min)
{
	uint64_t t0 = fe_time_mono_ms();
	do {
		if (fe_test_daemon_log_count(&n->d, needle) >= min)
			return true;
		nf_sleep_ms(20);
	} while (fe_time_mono_ms() - t0 < NF_WAIT_MS);
	fprintf(stderr, "--- no \"%s\" in the log of %s:\n", needle, n->name);
	nf_show(n);
	return false;
}

/* Every node serves every member's numbers and entry point with AD=1; the time until
 * the last of them did (ms), or the test fails. */
static inline long nf_converge(void)
{
	uint64_t t0 = fe_time_mono_ms();
	for (size_t i = 0; i < NF_NNODES; i++)
		for (size_t k = 0; k < 3; k++) {
			char num[64], entry[40];
			snprintf(entry, sizeof(entry), "sbc.ims-%s.example.", nf_members[k]->name);
			nf_expect_ad(
			        nf_all[i],
			        nf_number(num, sizeof(num), nf_members[k]->digit, "1.0.0.0.0.0"),
			        LDNS_RR_TYPE_NAPTR);
			nf_expect_ad(
			        nf_all[i],
			        nf_number(num, sizeof(num), nf_members[k]->digit, "2.0.0.0.0.0"),
			        LDNS_RR_TYPE_NAPTR);
			nf_expect_ad(nf_all[i], entry, LDNS_RR_TYPE_A);
		}
	return (long)(fe_time_mono_ms() - t0);
}

#endif
