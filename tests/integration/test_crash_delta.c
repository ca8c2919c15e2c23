/* Issue #6 part 4 acceptance: kill -9 during change-set commits (fe_zone_commit_delta).
 *
 * A child process applies one-number change sets to a stored zone as fast as it can, each in
 * its own store transaction: serial s -> s+1 changes the NAPTR of one number and adds or
 * removes a number in a branch of its own (so nodes and empty non-terminals appear and
 * go). The parent kills it with SIGKILL at a random moment, many times, and after each kill
 * checks that the store holds exactly one complete version: its serial S, every number's
 * NAPTR as of S, the extra number and its empty non-terminals present exactly when S says
 * so, node and RR counts of the record equal to the entries stored (nothing of a killed
 * transaction left), and a journal whose newest entry ends at S. The zone sizes: 20,000
 * numbers (5,000 with FE_TEST_QUICK=1). */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <ldns/ldns.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fe_test.h"
#include "fe_test_name.h"
#include "fedenum/store.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "fedenum/zone.h"

#define APEX  "delta.e164.test."
#define WIDTH 5
#define EXTRA 99999u /* its own branch: 9.9.9.9.9.<apex>, with 4 empty non-terminals */

static char tdir[256];

static bool quick_mode(void)
{
	const char *q = getenv("FE_TEST_QUICK");
	return q && *q && strcmp(q, "0") != 0;
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void owner_of(unsigned num, char *out, size_t cap)
{
	char d[16];
	snprintf(d, sizeof(d), "%0*u", WIDTH, num);
	size_t o = 0;
	for (int i = WIDTH - 1; i >= 0; i--)
		o += (size_t)snprintf(out + o, cap - o, "%c.", d[i]);
	snprintf(out + o, cap - o, "%s", APEX);
}

static void naptr_line(unsigned num, unsigned tag, char *out, size_t cap)
{
	char owner[300];
	owner_of(num, owner, sizeof(owner));
	snprintf(out, cap,
	         "%s 300 IN NAPTR 100 10 \"u\" \"E2U+sip\" \"!^.*$!sip:+1555%0*u@v%u.example!\" .",
	         owner, WIDTH, num, tag);
}

static void soa_line(uint32_t serial, char *out, size_t cap)
{
	snprintf(out, cap, "%s 300 IN SOA ns.%s host.%s %u 3600 600 86400 300", APEX, APEX, APEX,
	         serial);
}

/* Step s -> s+1 changes number (s - 1) % n to tag s+1; so after serial S, number i carries
 * the largest t <= S with t >= 2 and t ≡ i + 2 (mod n), or 1. */
static unsigned tag_at(unsigned i, uint32_t S, unsigned n)
{
	if (S < i + 2u)
		return 1;
	return S - ((S - 2u - i) % n);
}

/* The extra number exists at even serials. */
static bool extra_at(uint32_t S)
{
	return S % 2u == 0;
}

/* ---- change sets from presentation lines --------------------------------------------------- */

struct rrs {
	ldns_rr *rr[4];
	uint8_t rdata[4][512];
	struct fe_zone_rr z[4];
	size_t n;
};

static bool to_rr(struct rrs *s, const char *line)
{
	size_t i = s->n;
	if (ldns_rr_new_frm_str(&s->rr[i], line, 300, NULL, NULL) != LDNS_STATUS_OK)
		return false;
	ldns_rr *rr = s->rr[i];
	size_t len = 0;
	for (size_t k = 0; k < ldns_rr_rd_count(rr); k++) {
		const ldns_rdf *f = ldns_rr_rdf(rr, k);
		memcpy(s->rdata[i] + len, ldns_rdf_data(f), ldns_rdf_size(f));
		len += ldns_rdf_size(f);
	}
	s->z[i] = (struct fe_zone_rr){.owner = ldns_rdf_data(ldns_rr_owner(rr)),
	                              .owner_len = ldns_rdf_size(ldns_rr_owner(rr)),
	                              .type = (uint16_t)ldns_rr_get_type(rr),
	                              .ttl = ldns_rr_ttl(rr),
	                              .rdata = s->rdata[i],
	                              .rdlen = (uint16_t)len};
	s->n++;
	return true;
}

static void free_rrs(struct rrs *s)
{
	for (size_t i = 0; i < s->n; i++)
		ldns_rr_free(s->rr[i]);
	s->n = 0;
}

static uint32_t stored_serial(struct fe_store *st)
{
	uint8_t apex[FE_WIRE_NAME_MAX], key[FE_WIRE_KEY_MAX];
	size_t al = fe_test_wire_name(APEX, apex);
	int kl = fe_wire_name_key(apex, al, key, sizeof(key));
	struct fe_store_reader *r;
	const struct fe_store_zone_rec *z;
	uint32_t serial = 0;
	if (fe_store_reader_create(st, &r) != FE_OK)
		return 0;
	if (fe_store_reader_begin(r) == FE_OK && fe_store_get_zone(r, key, (size_t)kl, &z) == FE_OK)
		serial = z->serial;
	fe_store_reader_end(r);
	fe_store_reader_destroy(r);
	return serial;
}

/* The child: change sets until killed. Exit codes: 2 setup, 3 commit failed. */
static void writer_child(const char *db, unsigned n)
{
	struct fe_store *st;
	char line[600];
	uint8_t apex[FE_WIRE_NAME_MAX];
	size_t al = fe_test_wire_name(APEX, apex);
	fe_log_set_level(FE_LOG_WARN);
	if (fe_store_open(db, NULL, &st) != FE_OK)
		_exit(2);
	uint32_t s = stored_serial(st);
	if (s == 0)
		_exit(2);
	for (;;) {
		struct rrs rm = {0}, ad = {0};
		unsigned num = (s - 1u) % n;
		bool ok = true;
		soa_line(s, line, sizeof(line));
		ok &= to_rr(&rm, line);
		soa_line(s + 1u, line, sizeof(line));
		ok &= to_rr(&ad, line);
		naptr_line(num, tag_at(num, s, n), line, sizeof(line));
		ok &= to_rr(&rm, line);
		naptr_line(num, s + 1u, line, sizeof(line));
		ok &= to_rr(&ad, line);
		naptr_line(EXTRA, 1, line, sizeof(line));
		ok &= to_rr(extra_at(s) ? &rm : &ad, line);
		if (!ok)
			_exit(2);
		struct fe_zone_delta d = {.serial_from = s,
		                          .removed = rm.z,
		                          .removed_count = rm.n,
		                          .added = ad.z,
		                          .added_count = ad.n};
		struct fe_zone_error err = {0};
		if (fe_zone_commit_delta(st, apex, al, &d, NULL, &err) != FE_OK) {
			fprintf(stderr, "crash_delta child: %s\n", err.reason);
			_exit(3);
		}
		free_rrs(&rm);
		free_rrs(&ad);
		s++;
	}
}

/* ---- the checks ------------------------------------------------------------------------------ */

static bool node_of(struct fe_store_reader *r, const struct fe_store_zone_rec *z, const char *name,
                    struct fe_store_node *out)
{
	uint8_t wire[FE_WIRE_NAME_MAX], key[FE_WIRE_KEY_MAX];
	size_t wl = fe_test_wire_name(name, wire);
	int kl = fe_wire_name_key(wire, wl, key, sizeof(key));
	int rc = fe_store_get_node(r, z, key, (size_t)kl, out);
	cr_assert(rc == FE_OK || rc == FE_ENOENT, "%s: %s", name, fe_strerror(rc));
	return rc == FE_OK;
}

static bool naptr_is(const struct fe_store_node *node, unsigned num, unsigned tag)
{
	struct fe_store_rrset rs;
	char want[64];
	if (!fe_store_node_find(node, FE_T_NAPTR, &rs) || rs.rr_count != 1)
		return false;
	int wl = snprintf(want, sizeof(want), "+1555%0*u@v%u.example!", WIDTH, num, tag);
	return memmem(rs.body, rs.body_len, want, (size_t)wl) != NULL;
}

struct jlast {
	uint32_t from, to;
	unsigned entries;
};

static bool jcb(const struct fe_store_journal_entry *e, void *arg)
{
	struct jlast *j = arg;
	j->entries++;
	cr_assert_eq(e->serial_to, e->serial_from + 1u);
	cr_assert(e->removed_count == 2 + (extra_at(e->serial_from) ? 1u : 0u) &&
	                  e->added_count == 2 + (extra_at(e->serial_from) ? 0u : 1u),
	          "journal entry %u -> %u: -%u +%u RRs", e->serial_from, e->serial_to,
	          e->removed_count, e->added_count);
	j->from = e->serial_from;
	j->to = e->serial_to;
	return true;
}

/* One complete version, serial >= @min_serial: returns its serial. */
static uint32_t check_store(const char *db, unsigned n, uint64_t base_nodes, uint64_t base_rrs,
                            uint32_t min_serial)
{
	struct fe_store *st;
	struct fe_store_opts so = {.read_only = true};
	cr_assert_eq(fe_store_open(db, &so, &st), FE_OK);
	struct fe_store_reader *r;
	const struct fe_store_zone_rec *z;
	uint8_t apex[FE_WIRE_NAME_MAX], key[FE_WIRE_KEY_MAX];
	size_t al = fe_test_wire_name(APEX, apex);
	int kl = fe_wire_name_key(apex, al, key, sizeof(key));
	cr_assert_eq(fe_store_reader_create(st, &r), FE_OK);
	cr_assert_eq(fe_store_reader_begin(r), FE_OK);
	cr_assert_eq(fe_store_get_zone(r, key, (size_t)kl, &z), FE_OK);
	uint32_t S = z->serial;
	cr_assert_geq(S, min_serial, "serial went back: %u < %u", S, min_serial);
	bool extra = extra_at(S);
	/* The extra number and its 4 empty non-terminals, its NSEC3-less zone: +5 nodes. */
	cr_assert_eq(z->node_count, base_nodes + (extra ? 5u : 0u), "serial %u: %" PRIu64 " nodes",
	             S, z->node_count);
	cr_assert_eq(z->rr_count, base_rrs + (extra ? 1u : 0u));
	struct fe_store_node node;
	char owner[300];
	for (unsigned i = 0; i < n; i++) {
		owner_of(i, owner, sizeof(owner));
		cr_assert(node_of(r, z, owner, &node), "serial %u: %s missing", S, owner);
		cr_assert(naptr_is(&node, i, tag_at(i, S, n)), "serial %u: %s is not tag %u", S,
		          owner, tag_at(i, S, n));
	}
	owner_of(EXTRA, owner, sizeof(owner));
	cr_assert_eq(node_of(r, z, owner, &node), extra, "serial %u: extra number", S);
	cr_assert_eq(node_of(r, z, "9." APEX, &node), extra, "serial %u: its ENT", S);
	cr_assert_eq(node_of(r, z, "9.9.9.9." APEX, &node), extra, "serial %u: its ENT", S);
	if (extra)
		cr_assert_eq(node.rrset_count, 0);
	uint64_t nodes = z->node_count;
	fe_store_reader_end(r);
	fe_store_reader_destroy(r);
	struct fe_store_stat ss;
	cr_assert_eq(fe_store_stat(st, &ss), FE_OK);
	cr_assert_eq(ss.rr_entries, nodes, "entries in `rr` %" PRIu64 ", nodes %" PRIu64,
	             ss.rr_entries, nodes);
	cr_assert_eq(ss.zone_count, 1);
	struct fe_store_journal_info ji;
	cr_assert_eq(fe_store_journal_info(st, apex, al, &ji), FE_OK);
	if (S > 1) {
		cr_assert_eq(ji.last_serial, S, "journal ends at %u, serial %u", ji.last_serial, S);
		struct jlast j = {0};
		cr_assert_eq(fe_store_journal_read(st, apex, al, ji.first_serial, jcb, &j), FE_OK);
		cr_assert_eq(j.entries, ji.entries);
		cr_assert_eq(j.to, S);
	} else {
		cr_assert_eq(ji.entries, 0);
	}
	fe_store_close(st);
	return S;
}

static void cleanup(void)
{
	if (tdir[0])
		fe_test_rmdir(tdir);
	tdir[0] = '\0';
}

TestSuite(crash_delta, .fini = cleanup);

Test(crash_delta, kill9_during_change_sets, .timeout = 280)
{
	unsigned n = quick_mode() ? 5000 : 20000, kills = quick_mode() ? 30 : 40;
	char zpath[400], db[400], line[600];
	setvbuf(stdout, NULL, _IOLBF, 0);
	uint64_t seed = now_us() | 1u;
	printf("crash_delta: %u numbers, %u kills, seed %" PRIu64 "\n", n, kills, seed);
	srand((unsigned)seed);
	fe_test_mkdtemp(tdir, sizeof(tdir));
	snprintf(zpath, sizeof(zpath), "%s/v1.zone", tdir);
	snprintf(db, sizeof(db), "%s/db", tdir);
	FILE *f = fopen(zpath, "w");
	cr_assert_not_null(f);
	soa_line(1, line, sizeof(line));
	fprintf(f, "%s\n%s 300 IN NS ns.%s\nns.%s 300 IN A 192.0.2.53\n", line, APEX, APEX, APEX);
	for (unsigned i = 0; i < n; i++) {
		naptr_line(i, 1, line, sizeof(line));
		fprintf(f, "%s\n", line);
	}
	cr_assert_eq(fclose(f), 0);
	struct fe_store *st;
	cr_assert_eq(fe_store_open(db, NULL, &st), FE_OK);
	struct fe_zone_error err = {0};
	cr_assert_eq(fe_zone_load_file(zpath, NULL, st, &err), FE_OK, "%s", err.reason);
	fe_store_close(st);
	/* Base counts at serial 1 (no extra number). */
	cr_assert_eq(fe_store_open(db, &(struct fe_store_opts){.read_only = true}, &st), FE_OK);
	struct fe_store_stat ss;
	cr_assert_eq(fe_store_stat(st, &ss), FE_OK);
	uint64_t base_nodes = ss.rr_entries, base_rrs = 3u + n;
	fe_store_close(st);
	uint32_t S = check_store(db, n, base_nodes, base_rrs, 1);

	unsigned advanced = 0, idle = 0;
	uint64_t commits = 0;
	uint64_t t0 = now_us();
	for (unsigned k = 0; k < kills; k++) {
		pid_t pid = fork();
		cr_assert_geq(pid, 0);
		if (pid == 0)
			writer_child(db, n);
		/* 5 to 60 ms: several commits, the kill lands anywhere in one. */
		struct timespec ts = {0, (5 + rand() % 56) * 1000000L};
		nanosleep(&ts, NULL);
		cr_assert_eq(kill(pid, SIGKILL), 0);
		int status = 0;
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		          "kill %u: the writer exited by itself (status %d)", k, status);
		uint32_t S2 = check_store(db, n, base_nodes, base_rrs, S);
		commits += S2 - S;
		if (S2 > S)
			advanced++;
		else
			idle++;
		S = S2;
	}
	printf("crash_delta: %u kills in %.1f s: %" PRIu64 " change sets committed in all (%u "
	       "kills after progress, %u before the first commit); every time one complete "
	       "version, serial %u at the end\n",
	       kills, (double)(now_us() - t0) / 1e6, commits, advanced, idle, S);
	cr_assert_gt(commits, kills, "too few commits to say the kills landed inside them");
}
