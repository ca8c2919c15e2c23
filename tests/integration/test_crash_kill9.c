/* docs/security.md X9: kill -9 while a zone version is being stored.
 *
 * large_store: fedenumd serves v1 of a 1,000,000-number zone (100,000 with FE_TEST_QUICK=1,
 * the sanitizer run); the file is replaced by v2 and SIGHUP'd; the moment the daemon logs
 * "serial 2: storing version" it gets SIGKILL. A restart without any zone file must serve
 * v1, complete (store record, node and RR counts, a large sample of answers over UDP, misses
 * NXDOMAIN), and a start with v2 must store it (the load can be repeated); a SIGHUP with the
 * same file is then a no-op.
 *
 * reload_loop: a small zone, reloaded by SIGHUP and killed at random moments (before, during
 * and after its store transaction), many times; after each kill the store holds exactly one
 * complete version, the previous or the new one, and every sampled answer matches that
 * version's serial.
 *
 * The zone files are generated once per build tree (tests/data/crash/ under the build dir)
 * with tests/lib/gen-enum-zone.sh and sed, and reused by later runs. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fe_test.h"
#include "fedenum/store.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"

#define APEX      "crash.e164.test."
#define GEN_HOST  "ims\\.crash\\.e164\\.test" /* sed pattern of the generator's SIP host */
#define DATA_ROOT FE_TEST_BUILD "/tests/data/crash"
#define WINDOW    64   /* UDP queries in flight */
#define Q_TIMEOUT 2000 /* ms per UDP query */

/* ---- small helpers ------------------------------------------------------------------ */

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void sleep_us(uint64_t us)
{
	struct timespec ts = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000L};
	nanosleep(&ts, NULL);
}

static bool quick_mode(void)
{
	const char *q = getenv("FE_TEST_QUICK");
	return q && *q && strcmp(q, "0") != 0;
}

/* xorshift64*: the sample and the kill delays; the seed is printed. */
static uint64_t rng_state;
static uint64_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}
static uint64_t rng_below(uint64_t n)
{
	return n ? rng_next() % n : 0;
}
static void rng_seed(const char *what)
{
	rng_state = (now_us() ^ ((uint64_t)getpid() << 32)) | 1u;
	printf("crash: %s: random seed %" PRIu64 "\n", what, rng_state);
}

static bool file_exists(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0;
}

static off_t file_size(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? sb.st_size : 0;
}

/* Contents of @path from @off to its end, NUL-terminated (caller frees); "" if none. */
static char *read_from(const char *path, off_t off)
{
	int fd = open(path, O_RDONLY);
	off_t end = fd >= 0 ? lseek(fd, 0, SEEK_END) : 0;
	size_t len = end > off ? (size_t)(end - off) : 0;
	char *buf = malloc(len + 1);
	cr_assert_not_null(buf);
	size_t got = 0;
	while (fd >= 0 && got < len) {
		ssize_t r = pread(fd, buf + got, len - got, off + (off_t)got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	if (fd >= 0)
		close(fd);
	return buf;
}

static int count_in_log(const char *path, off_t off, const char *needle)
{
	char *s = read_from(path, off);
	int n = 0;
	for (const char *p = s; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	free(s);
	return n;
}

/* Poll the log (from @off) every @poll_us for @needle; false on timeout or daemon exit. */
static bool wait_log(struct fe_test_daemon *d, off_t off, const char *needle, int timeout_ms,
                     uint64_t poll_us)
{
	uint64_t deadline = now_us() + (uint64_t)timeout_ms * 1000u;
	while (now_us() < deadline) {
		if (count_in_log(d->log_path, off, needle) > 0)
			return true;
		if (!fe_test_daemon_alive(d))
			return count_in_log(d->log_path, off, needle) > 0;
		sleep_us(poll_us);
	}
	return false;
}

/* The "store X s" figure of the line containing @needle ("zone A serial N loaded"), or -1. */
static double store_seconds(const char *log, off_t off, const char *needle)
{
	char *s = read_from(log, off);
	double v = -1;
	const char *p = strstr(s, needle);
	const char *q = p ? strstr(p, ", store ") : NULL;
	if (q && sscanf(q, ", store %lf s", &v) != 1)
		v = -1;
	free(s);
	return v;
}

/* Point @link at @target (a new symlink renamed over the old one: one atomic step). */
static void point_link(const char *link, const char *target)
{
	char tmp[600];
	snprintf(tmp, sizeof(tmp), "%s.tmp", link);
	unlink(tmp);
	cr_assert_eq(symlink(target, tmp), 0, "symlink %s: %s", tmp, strerror(errno));
	cr_assert_eq(rename(tmp, link), 0, "rename %s: %s", tmp, strerror(errno));
}

static char **read_lines(const char *path, size_t *count)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "cannot read %s", path);
	size_t n = 0, cap = 1024;
	char **v = malloc(cap * sizeof(*v));
	char line[1024];
	cr_assert_not_null(v);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0])
			continue;
		if (n == cap) {
			cap *= 2;
			v = realloc(v, cap * sizeof(*v));
			cr_assert_not_null(v);
		}
		v[n] = strdup(line);
		cr_assert_not_null(v[n]);
		n++;
	}
	fclose(f);
	*count = n;
	return v;
}

static void free_lines(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- the zones ---------------------------------------------------------------------- */

/* A generated zone and the versions derived from it. Version k: SOA serial k, SIP URIs
 * "sip:+1555...@v<k>.example", tel URIs with ";rn-context=v<k>.example" (RFC 4694 §4). Every
 * version has the same owners, so the same node and RR counts. */
struct dataset {
	unsigned n;
	char dir[400];
	uint64_t nodes, rrs;
	char first[256], last[256]; /* owner of the first and the last number in the file */
	char **hits, **misses;
	size_t nhits, nmisses;
};

/* Generate once per build tree; "ok" marks a complete set (a half-made one is redone). */
static void dataset_open(struct dataset *ds, const char *tag, unsigned n, unsigned queries)
{
	memset(ds, 0, sizeof(*ds));
	ds->n = n;
	snprintf(ds->dir, sizeof(ds->dir), DATA_ROOT "/%s-%u", tag, n);
	char ok[500], counts[500], p[500];
	snprintf(ok, sizeof(ok), "%s/ok", ds->dir);
	snprintf(counts, sizeof(counts), "%s/counts", ds->dir);
	snprintf(p, sizeof(p), "%s/v1.zone", ds->dir);
	if (!file_exists(ok) || !file_exists(p)) {
		uint64_t t0 = now_us();
		printf("crash: generating the %u-number zone in %s (once per build tree)\n", n,
		       ds->dir);
		cr_assert_eq(fe_test_sh("rm -rf '%s' && mkdir -p '%s'", ds->dir, ds->dir), 0);
		cr_assert_eq(
		        fe_test_sh("bash '%s/tests/lib/gen-enum-zone.sh' %u '%s/gen' --sign none "
		                   "--apex %s --queries %u >/dev/null",
		                   FE_TEST_SRC, n, ds->dir, APEX, queries),
		        0, "gen-enum-zone.sh failed");
		/* Expected counts, independently of fedenumd: every owner and each of its
		 * ancestors up to the apex is one node (empty non-terminals included, RFC 4592
		 * §2.2.2); every record line is one RR. */
		cr_assert_eq(
		        fe_test_sh(
		                "awk -v apex=%s '"
		                "/^[;$]/ || NF == 0 { next }"
		                "{ rr++; o = $1; if (o == \"@\") next;"
		                "  if ($0 ~ /E2U/) { if (first == \"\") first = o; last = o }"
		                "  if (substr(o, length(o)) == \".\") {"
		                "    if (substr(o, length(o) - length(apex) + 1) != apex) exit 3;"
		                "    o = substr(o, 1, length(o) - length(apex) - 1) }"
		                "  while (o != \"\") { if (!(o in seen)) { seen[o] = 1; nodes++ }"
		                "    i = index(o, \".\"); if (i == 0) break; o = substr(o, i + 1) "
		                "} }"
		                "END { print nodes + 1, rr, first, last }' '%s/gen/zone' > '%s'",
		                APEX, ds->dir, counts),
		        0, "counting the zone failed");
		/* Version 1 (later ones are made from it): serial 1 as generated, the URIs of
		 * v1.example. The generator's own zone file is not needed any more. */
		cr_assert_eq(
		        fe_test_sh(
		                "sed -e 's/@%s;user=phone!/@v1.example;user=phone!/' "
		                "-e "
		                "'s/;npdi;rn=\\(+[0-9]*\\)!/;npdi;rn=\\1;rn-context=v1.example!/' "
		                "'%s/gen/zone' > '%s/v1.zone' && rm -f '%s/gen/zone' "
		                "'%s/gen/queries.txt'",
		                GEN_HOST, ds->dir, ds->dir, ds->dir, ds->dir),
		        0, "making version 1 failed");
		cr_assert_eq(fe_test_sh("touch '%s'", ok), 0);
		printf("crash: generated in %.1f s\n", (double)(now_us() - t0) / 1e6);
	}
	FILE *f = fopen(counts, "r");
	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "%" SCNu64 " %" SCNu64 " %255s %255s", &ds->nodes, &ds->rrs,
	                    ds->first, ds->last),
	             4, "bad %s", counts);
	fclose(f);
	snprintf(p, sizeof(p), "%s/gen/hits.txt", ds->dir);
	ds->hits = read_lines(p, &ds->nhits);
	snprintf(p, sizeof(p), "%s/gen/misses.txt", ds->dir);
	ds->misses = read_lines(p, &ds->nmisses);
	cr_assert_gt(ds->nhits, 0);
	cr_assert_gt(ds->nmisses, 0);
}

static void dataset_close(struct dataset *ds)
{
	free_lines(ds->hits, ds->nhits);
	free_lines(ds->misses, ds->nmisses);
	ds->hits = ds->misses = NULL;
}

/* Path of version @k's zone file (made from the generated zone on first use). */
static void dataset_version(struct dataset *ds, unsigned k, char *out, size_t cap)
{
	snprintf(out, cap, "%s/v%u.zone", ds->dir, k);
	if (file_exists(out))
		return;
	cr_assert_eq(fe_test_sh("sed -e 's/^@ SOA ns1 hostmaster 1 /@ SOA ns1 hostmaster %u /' "
	                        "-e 's/@v1\\.example;user=phone!/@v%u.example;user=phone!/' "
	                        "-e 's/;rn-context=v1\\.example!/;rn-context=v%u.example!/' "
	                        "'%s/v1.zone' > '%s.tmp' && mv '%s.tmp' '%s'",
	                        k, k, k, ds->dir, out, out, out),
	             0, "making version %u failed", k);
}

/* ---- the store, read directly --------------------------------------------------------- */

struct zinfo {
	unsigned zones;
	uint32_t serial;
	uint64_t version, nodes, rrs;
	uint64_t rr_entries; /* entries in `rr`, all versions: equals nodes when one is left */
};

static bool zinfo_cb(const struct fe_store_zone_rec *zone, void *arg)
{
	struct zinfo *zi = arg;
	if (zi->zones++ == 0) {
		zi->serial = zone->serial;
		zi->version = zone->version;
		zi->nodes = zone->node_count;
		zi->rrs = zone->rr_count;
	}
	return true;
}

static void store_info(const char *dir, struct zinfo *zi)
{
	char db[400];
	snprintf(db, sizeof(db), "%s/db", dir);
	memset(zi, 0, sizeof(*zi));
	struct fe_store_opts so = {.read_only = true};
	struct fe_store *st = NULL;
	struct fe_store_reader *r = NULL;
	int rc = fe_store_open(db, &so, &st);
	cr_assert_eq(rc, FE_OK, "store %s: %s", db, fe_strerror(rc));
	rc = fe_store_reader_create(st, &r);
	cr_assert_eq(rc, FE_OK, "reader: %s", fe_strerror(rc));
	rc = fe_store_reader_begin(r);
	cr_assert_eq(rc, FE_OK, "reader begin: %s", fe_strerror(rc));
	rc = fe_store_foreach_zone(r, zinfo_cb, zi);
	cr_assert_eq(rc, FE_OK, "foreach: %s", fe_strerror(rc));
	fe_store_reader_end(r);
	fe_store_reader_destroy(r);
	struct fe_store_stat ss;
	rc = fe_store_stat(st, &ss);
	cr_assert_eq(rc, FE_OK, "stat: %s", fe_strerror(rc));
	zi->rr_entries = ss.rr_entries;
	fe_store_close(st);
}

/* The store holds exactly one zone, version serial @serial, complete. */
static void expect_store(const char *dir, const struct dataset *ds, unsigned serial,
                         struct zinfo *zi)
{
	store_info(dir, zi);
	cr_assert_eq(zi->zones, 1, "zones in the store: %u", zi->zones);
	cr_assert_eq(zi->serial, serial, "stored serial %u, expected %u", zi->serial, serial);
	cr_assert_eq(zi->nodes, ds->nodes, "serial %u: %" PRIu64 " nodes, expected %" PRIu64,
	             serial, zi->nodes, ds->nodes);
	cr_assert_eq(zi->rrs, ds->rrs, "serial %u: %" PRIu64 " RRs, expected %" PRIu64, serial,
	             zi->rrs, ds->rrs);
	/* Nothing of a killed transaction and nothing of a replaced version is left. */
	cr_assert_eq(zi->rr_entries, ds->nodes, "rr entries %" PRIu64 ", expected %" PRIu64,
	             zi->rr_entries, ds->nodes);
}

/* ---- queries -------------------------------------------------------------------------- */

static long served_serial(const struct fe_test_daemon *d)
{
	ldns_pkt *p = fe_test_query(d->host, d->port, APEX, LDNS_RR_TYPE_SOA, 0, 0);
	if (!p)
		return -1;
	long serial = -1;
	ldns_rr_list *an = ldns_pkt_answer(p);
	if (ldns_pkt_get_rcode(p) == LDNS_RCODE_NOERROR && ldns_rr_list_rr_count(an) == 1 &&
	    ldns_rr_get_type(ldns_rr_list_rr(an, 0)) == LDNS_RR_TYPE_SOA)
		serial = (long)ldns_rdf2native_int32(ldns_rr_rdf(ldns_rr_list_rr(an, 0), 2));
	ldns_pkt_free(p);
	return serial;
}

struct item {
	const char *name;
	bool miss;
};

struct qstats {
	size_t sent, ok, bad, timeouts, stray;
	double secs;
	char first_err[600];
};

static void note_bad(struct qstats *qs, const char *name, const char *why)
{
	if (qs->bad + qs->timeouts == 0)
		snprintf(qs->first_err, sizeof(qs->first_err), "%s: %s", name, why);
}

/* E.164 digits of a number owner "d7. ... .d1.5.5.5.1.<apex>" (RFC 6116 §2.4). */
static bool owner_digits(const char *name, char *out, size_t cap)
{
	char rev[64];
	size_t n = 0;
	for (const char *p = name; p[0] >= '0' && p[0] <= '9' && p[1] == '.'; p += 2) {
		if (n + 1 >= sizeof(rev))
			return false;
		rev[n++] = p[0];
	}
	if (n < 5 || n + 1 > cap)
		return false;
	for (size_t i = 0; i < n; i++)
		out[i] = rev[n - 1 - i];
	out[n] = '\0';
	return true;
}

static bool str_rdf_is(const ldns_rdf *rdf, const char *s)
{
	size_t n = strlen(s);
	if (!rdf || ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_STR || ldns_rdf_size(rdf) != n + 1)
		return false;
	const uint8_t *p = ldns_rdf_data(rdf);
	return p[0] == n && memcmp(p + 1, s, n) == 0;
}

static bool name_is(const ldns_rdf *dname, const char *s)
{
	ldns_rdf *want = ldns_dname_new_frm_str(s);
	bool eq = want && dname && ldns_dname_compare(dname, want) == 0;
	ldns_rdf_deep_free(want);
	return eq;
}

/* Check one answer against version @ver; false with @why set. */
static bool check_answer(const uint8_t *wire, size_t len, const struct item *it, unsigned ver,
                         char *why, size_t cap)
{
	ldns_pkt *p = NULL;
	bool ok = false;
	if (ldns_wire2pkt(&p, wire, len) != LDNS_STATUS_OK) {
		snprintf(why, cap, "unparseable answer");
		return false;
	}
	ldns_rr_list *q = ldns_pkt_question(p), *an = ldns_pkt_answer(p);
	ldns_rr_list *ns = ldns_pkt_authority(p);
	unsigned rcode = ldns_pkt_get_rcode(p);
	if (ldns_rr_list_rr_count(q) != 1 ||
	    !name_is(ldns_rr_owner(ldns_rr_list_rr(q, 0)), it->name)) {
		snprintf(why, cap, "question section does not match");
		goto out;
	}
	if (it->miss) {
		if (rcode != LDNS_RCODE_NXDOMAIN || ldns_rr_list_rr_count(an) != 0) {
			snprintf(why, cap, "miss: rcode %u, %zu answers (want NXDOMAIN, none)",
			         rcode, ldns_rr_list_rr_count(an));
			goto out;
		}
		/* RFC 2308 §3: the SOA of the zone in the authority section. */
		for (size_t i = 0; i < ldns_rr_list_rr_count(ns); i++) {
			ldns_rr *rr = ldns_rr_list_rr(ns, i);
			if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA)
				continue;
			uint32_t serial = ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
			ok = serial == ver;
			if (!ok)
				snprintf(why, cap, "NXDOMAIN with SOA serial %u (want %u)", serial,
				         ver);
			goto out;
		}
		snprintf(why, cap, "NXDOMAIN without the SOA");
		goto out;
	}
	if (rcode != LDNS_RCODE_NOERROR || ldns_rr_list_rr_count(an) != 1) {
		snprintf(why, cap, "hit: rcode %u, %zu answers (want NOERROR, one NAPTR)", rcode,
		         ldns_rr_list_rr_count(an));
		goto out;
	}
	ldns_rr *rr = ldns_rr_list_rr(an, 0);
	char num[32], sip[256], tel[256];
	if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NAPTR || ldns_rr_rd_count(rr) != 6 ||
	    !name_is(ldns_rr_owner(rr), it->name) || !owner_digits(it->name, num, sizeof(num))) {
		snprintf(why, cap, "answer is not the NAPTR of the name");
		goto out;
	}
	/* The generator's numbers: 11 digits, the tel ones routed to +1555999 + last 4. */
	snprintf(sip, sizeof(sip), "!^.*$!sip:+%s@v%u.example;user=phone!", num, ver);
	snprintf(tel, sizeof(tel), "!^.*$!tel:+%s;npdi;rn=+1555999%s;rn-context=v%u.example!", num,
	         num + strlen(num) - 4, ver);
	const ldns_rdf *svc = ldns_rr_rdf(rr, 3), *re = ldns_rr_rdf(rr, 4);
	ok = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0)) == 10 &&
	     ldns_rdf2native_int16(ldns_rr_rdf(rr, 1)) == 100 &&
	     str_rdf_is(ldns_rr_rdf(rr, 2), "u") && name_is(ldns_rr_rdf(rr, 5), ".") &&
	     ((str_rdf_is(svc, "E2U+sip") && str_rdf_is(re, sip)) ||
	      (str_rdf_is(svc, "E2U+pstn:tel") && str_rdf_is(re, tel)));
	if (!ok) {
		char *s = ldns_rr2str(rr);
		snprintf(why, cap, "NAPTR is not version %u's: %s", ver, s ? s : "?");
		free(s);
	}
out:
	ldns_pkt_free(p);
	return ok;
}

struct slot {
	bool busy;
	uint16_t id;
	size_t item;
	uint64_t sent_us;
};

/* Send @n queries (NAPTR, no DO) over UDP, WINDOW in flight, and check every answer against
 * version @ver. A query unanswered after Q_TIMEOUT ms counts as a timeout (no retry). */
static void run_items(const struct fe_test_daemon *d, const struct item *items, size_t n,
                      unsigned ver, struct qstats *qs)
{
	memset(qs, 0, sizeof(*qs));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(d->port)};
	cr_assert_eq(inet_pton(AF_INET, d->host, &sa.sin_addr), 1);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	cr_assert_geq(fd, 0);
	int rcvbuf = 1 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);

	struct slot slots[WINDOW];
	memset(slots, 0, sizeof(slots));
	size_t next = 0, done = 0, busy = 0;
	uint8_t buf[65536], req[512];
	char why[512];
	uint64_t t0 = now_us();
	while (done < n) {
		for (size_t s = 0; s < WINDOW && next < n; s++) {
			if (slots[s].busy)
				continue;
			size_t ql = fe_test_make_query(items[next].name, LDNS_RR_TYPE_NAPTR, 0, 0,
			                               req, sizeof(req));
			cr_assert_gt(ql, 0, "cannot build a query for %s", items[next].name);
			uint16_t id = (uint16_t)next;
			req[0] = (uint8_t)(id >> 8);
			req[1] = (uint8_t)id;
			if (send(fd, req, ql, 0) != (ssize_t)ql) {
				cr_assert(errno == EAGAIN || errno == EWOULDBLOCK ||
				                  errno == ENOBUFS,
				          "send: %s", strerror(errno));
				break;
			}
			slots[s] = (struct slot){
			        .busy = true, .id = id, .item = next, .sent_us = now_us()};
			next++;
			busy++;
			qs->sent++;
		}
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		poll(&pfd, 1, 20);
		for (;;) {
			ssize_t r = recv(fd, buf, sizeof(buf), 0);
			if (r < 0)
				break;
			if (r < 12) {
				qs->stray++;
				continue;
			}
			uint16_t id = (uint16_t)(buf[0] << 8 | buf[1]);
			size_t s;
			for (s = 0; s < WINDOW && !(slots[s].busy && slots[s].id == id); s++)
				;
			if (s == WINDOW) {
				qs->stray++; /* late answer to a query already counted as a timeout
				              */
				continue;
			}
			const struct item *it = &items[slots[s].item];
			if (check_answer(buf, (size_t)r, it, ver, why, sizeof(why))) {
				qs->ok++;
			} else {
				note_bad(qs, it->name, why);
				qs->bad++;
			}
			slots[s].busy = false;
			busy--;
			done++;
		}
		uint64_t now = now_us();
		for (size_t s = 0; s < WINDOW; s++) {
			if (slots[s].busy && now - slots[s].sent_us > (uint64_t)Q_TIMEOUT * 1000u) {
				note_bad(qs, items[slots[s].item].name, "timeout");
				qs->timeouts++;
				slots[s].busy = false;
				busy--;
				done++;
			}
		}
	}
	qs->secs = (double)(now_us() - t0) / 1e6;
	close(fd);
}

/* Sample: @nhits random distinct hits, the first and last number, @nmiss misses; every
 * answer must be version @ver's. */
static void check_sample(const struct fe_test_daemon *d, const struct dataset *ds, size_t nhits,
                         size_t nmiss, unsigned ver, const char *when)
{
	if (nhits > ds->nhits)
		nhits = ds->nhits;
	if (nmiss > ds->nmisses)
		nmiss = ds->nmisses;
	size_t n = nhits + 2 + nmiss;
	struct item *items = calloc(n, sizeof(*items));
	size_t *perm = malloc(ds->nhits * sizeof(*perm));
	cr_assert(items && perm);
	for (size_t i = 0; i < ds->nhits; i++)
		perm[i] = i;
	for (size_t i = 0; i < nhits; i++) { /* partial Fisher-Yates */
		size_t j = i + (size_t)rng_below(ds->nhits - i);
		size_t t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
		items[i].name = ds->hits[perm[i]];
	}
	items[nhits].name = ds->first;
	items[nhits + 1].name = ds->last;
	size_t moff = (size_t)rng_below(ds->nmisses);
	for (size_t i = 0; i < nmiss; i++)
		items[nhits + 2 + i] = (struct item){ds->misses[(moff + i) % ds->nmisses], true};

	struct qstats qs;
	run_items(d, items, n, ver, &qs);
	if (n >= 1000)
		printf("crash: %s: %zu UDP queries (%zu hits incl. first and last number, %zu "
		       "misses) in %.2f s: %zu match serial %u, %zu wrong, %zu timeouts\n",
		       when, qs.sent, nhits + 2, nmiss, qs.secs, qs.ok, ver, qs.bad, qs.timeouts);
	cr_assert_eq(qs.sent, n);
	cr_assert_eq(
	        qs.bad + qs.timeouts, 0,
	        "%s: %zu wrong answers and %zu timeouts of %zu queries (version %u); first: %s",
	        when, qs.bad, qs.timeouts, n, ver, qs.first_err);
	cr_assert_eq(qs.ok, n);
	free(perm);
	free(items);
}

/* ---- per-test state and cleanup ------------------------------------------------------- */

static struct fe_test_daemon dmn;
static char tdir[256];
static struct dataset ds;

static void init(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0); /* our lines in order with Criterion's */
}

static void cleanup(void)
{
	if (dmn.pid > 0)
		fe_test_daemon_kill9(&dmn);
	dataset_close(&ds);
	if (tdir[0])
		fe_test_rmdir(tdir);
	tdir[0] = '\0';
}

TestSuite(crash, .init = init, .fini = cleanup);

/* A configuration without zones: fedenumd then serves what its store holds, and nothing else
 * (without -c and without --zone it would load the demo federation). */
static void write_conf(char *conf, size_t cap)
{
	snprintf(conf, cap, "%s/nozones.conf", tdir);
	FILE *f = fopen(conf, "w");
	cr_assert_not_null(f);
	fprintf(f, "log: { level = \"info\"; }\n");
	fclose(f);
}

static void start_daemon(const char *conf, const char *zone)
{
	const char *with_zone[] = {"-c", conf, "--zone", zone, NULL};
	const char *no_zone[] = {"-c", conf, NULL};
	cr_assert_eq(fe_test_daemon_start(&dmn, tdir, zone ? with_zone : no_zone), 0,
	             "fedenumd did not start");
}

/* ---- the 1M-number store, killed -------------------------------------------------------- */

Test(crash, large_store, .timeout = 280)
{
	bool quick = quick_mode();
	unsigned n = quick ? 100000 : 1000000;
	char conf[400], link[400], vpath[500], needle[200];
	uint64_t t_test = now_us();
	printf("crash: large_store: %u numbers%s\n", n,
	       quick ? " (FE_TEST_QUICK=1: 100,000 instead of 1,000,000)" : "");
	rng_seed("large_store");
	dataset_open(&ds, "enum", n, 30000);
	dataset_version(&ds, 1, vpath, sizeof(vpath));
	printf("crash: zone %s: %" PRIu64 " nodes, %" PRIu64 " RRs per version\n", APEX, ds.nodes,
	       ds.rrs);

	fe_test_mkdtemp(tdir, sizeof(tdir));
	write_conf(conf, sizeof(conf));
	snprintf(link, sizeof(link), "%s/zone", tdir);
	point_link(link, vpath);

	/* v1, loaded at start. */
	uint64_t t0 = now_us();
	start_daemon(conf, link);
	cr_assert_eq(count_in_log(dmn.log_path, 0, "zone " APEX " serial 1 loaded"), 1);
	double v1_store = store_seconds(dmn.log_path, 0, "zone " APEX " serial 1 loaded");
	printf("crash: v1 loaded at start in %.1f s (store phase %.2f s per the daemon log)\n",
	       (double)(now_us() - t0) / 1e6, v1_store);
	cr_assert_eq(served_serial(&dmn), 1);
	check_sample(&dmn, &ds, 500, 50, 1, "v1 before the kill");
	struct zinfo before;
	expect_store(tdir, &ds, 1, &before);

	/* Replace the file with v<k>, SIGHUP, SIGKILL as soon as its store transaction starts.
	 * Should the kill come after the commit, the new version is the previous one of the
	 * next try. */
	unsigned prev = 1, k = 0;
	bool caught = false;
	for (unsigned attempt = 0; attempt < 5 && !caught; attempt++) {
		k = prev + 1;
		dataset_version(&ds, k, vpath, sizeof(vpath));
		point_link(link, vpath);
		off_t off = file_size(dmn.log_path);
		snprintf(needle, sizeof(needle), "zone %s serial %u: storing version", APEX, k);
		uint64_t t_hup = now_us();
		cr_assert_eq(kill(dmn.pid, SIGHUP), 0);
		bool seen = wait_log(&dmn, off, needle, 120000, 1000);
		uint64_t t_seen = now_us();
		cr_assert(dmn.pid > 0 && fe_test_daemon_alive(&dmn), "fedenumd exited by itself");
		if (seen)
			kill(dmn.pid, SIGKILL);
		uint64_t t_kill = now_us();
		fe_test_daemon_kill9(&dmn); /* reaps it */
		uint64_t t_reaped = now_us();
		cr_assert(seen, "no \"%s\" line within 120 s of SIGHUP", needle);
		snprintf(needle, sizeof(needle), "zone %s serial %u loaded", APEX, k);
		int loaded = count_in_log(dmn.log_path, off, needle);
		printf("crash: attempt %u: SIGHUP -> v%u's storing line seen after %.2f s (log "
		       "polled "
		       "every 1 ms); SIGKILL %.2f ms after that, i.e. early in a store phase of "
		       "~%.2f s; process gone %.1f ms later; v%u commit %s\n",
		       attempt + 1, k, (double)(t_seen - t_hup) / 1e6,
		       (double)(t_kill - t_seen) / 1e3, v1_store, (double)(t_reaped - t_kill) / 1e3,
		       k, loaded ? "had completed: too late, trying again" : "did not complete");
		if (!loaded) {
			caught = true;
			break;
		}
		/* Too late: v<k> is now the complete previous version. */
		prev = k;
		point_link(link, vpath);
		start_daemon(conf, link);
		cr_assert_eq(served_serial(&dmn), (long)prev);
		store_info(tdir, &before);
	}
	cr_assert(caught, "the kill never landed inside the store transaction");

	/* Restart from the store alone. */
	t0 = now_us();
	start_daemon(conf, NULL);
	long serial = served_serial(&dmn);
	uint64_t t_first = now_us();
	printf("crash: restart without zone files: first answer %.0f ms after the exec "
	       "(serial %ld)\n",
	       (double)(t_first - t0) / 1e3, serial);
	cr_assert_eq(serial, (long)prev, "served serial %ld after the kill, expected %u", serial,
	             prev);
	struct zinfo zi;
	expect_store(tdir, &ds, prev, &zi);
	cr_assert_eq(zi.version, before.version, "version id changed: %" PRIu64 " -> %" PRIu64,
	             before.version, zi.version);
	cr_assert_eq(fe_test_sh("'%s' zone-list --db '%s/db' > '%s/zone-list.txt'",
	                        FE_TEST_FEDENUMCTL, tdir, tdir),
	             0, "fedenumctl zone-list failed");
	snprintf(vpath, sizeof(vpath), "%s/zone-list.txt", tdir);
	char *list = read_from(vpath, 0);
	printf("crash: fedenumctl zone-list:\n%s", list);
	const char *row = strstr(list, "\n" APEX " ");
	char lapex[256];
	unsigned lserial = 0;
	uint64_t lversion = 0, lnodes = 0, lrrs = 0;
	cr_assert(row && sscanf(row + 1, "%255s %u %" SCNu64 " %" SCNu64 " %" SCNu64, lapex,
	                        &lserial, &lversion, &lnodes, &lrrs) == 5,
	          "zone-list has no row for %s", APEX);
	cr_assert(lserial == prev && lversion == zi.version && lnodes == ds.nodes && lrrs == ds.rrs,
	          "zone-list: serial %u version %" PRIu64 " nodes %" PRIu64 " rrs %" PRIu64,
	          lserial, lversion, lnodes, lrrs);
	free(list);
	check_sample(&dmn, &ds, 20000, 2000, prev, "after kill -9 and restart");
	cr_assert_eq(fe_test_daemon_stop(&dmn), 0);

	/* The interrupted load, repeated. */
	dataset_version(&ds, k, vpath, sizeof(vpath));
	off_t off = file_size(dmn.log_path);
	t0 = now_us();
	start_daemon(conf, link);
	snprintf(needle, sizeof(needle), "zone %s serial %u loaded", APEX, k);
	cr_assert_eq(count_in_log(dmn.log_path, off, needle), 1, "v%u not loaded on restart", k);
	printf("crash: v%u loaded on the next start in %.1f s (store phase %.2f s)\n", k,
	       (double)(now_us() - t0) / 1e6, store_seconds(dmn.log_path, off, needle));
	cr_assert_eq(served_serial(&dmn), (long)k);
	expect_store(tdir, &ds, k, &zi);
	cr_assert_neq(zi.version, before.version);
	check_sample(&dmn, &ds, 20000, 2000, k, "after the repeated load");

	/* The same file again: nothing is parsed or stored. */
	off = file_size(dmn.log_path);
	cr_assert_eq(kill(dmn.pid, SIGHUP), 0);
	cr_assert(wait_log(&dmn, off, "reload done", 120000, 5000), "no reload after SIGHUP");
	snprintf(needle, sizeof(needle), "zone %s: serial %u already current", APEX, k);
	cr_assert_eq(count_in_log(dmn.log_path, off, needle), 1);
	char *tail = read_from(dmn.log_path, off);
	char *done = strstr(tail, "reload done");
	cr_assert(done && strstr(done, " 0 loaded") && strstr(done, " 1 unchanged"),
	          "reload did not report the zone unchanged: %s", done ? done : tail);
	free(tail);
	cr_assert_eq(count_in_log(dmn.log_path, off, "storing version"), 0);
	struct zinfo again;
	expect_store(tdir, &ds, k, &again);
	cr_assert_eq(again.version, zi.version, "reloading the same serial wrote a new version");
	cr_assert_eq(served_serial(&dmn), (long)k);
	cr_assert_eq(fe_test_daemon_stop(&dmn), 0);
	printf("crash: large_store done in %.1f s\n", (double)(now_us() - t_test) / 1e6);
}

/* ---- SIGHUP reloads of a small zone, killed at random moments ------------------------- */

/* Versions 1, 2, 3, ...: serials only move forward (a lower one is refused). */
#define LOOP_VERSIONS 34

Test(crash, reload_loop, .timeout = 200)
{
	bool quick = quick_mode();
	unsigned iters = quick ? 16 : 30;
	char conf[400], link[400], vpath[LOOP_VERSIONS + 1][500], needle[200];
	uint64_t t_test = now_us();
	rng_seed("reload_loop");
	dataset_open(&ds, "small", 10000, 10000);
	for (unsigned v = 1; v <= LOOP_VERSIONS && v <= iters + 2; v++)
		dataset_version(&ds, v, vpath[v], sizeof(vpath[v]));
	fe_test_mkdtemp(tdir, sizeof(tdir));
	write_conf(conf, sizeof(conf));
	snprintf(link, sizeof(link), "%s/zone", tdir);
	point_link(link, vpath[1]);
	start_daemon(conf, link);
	cr_assert_eq(served_serial(&dmn), 1);

	/* One clean reload to learn how long a reload and its store phase take here. */
	point_link(link, vpath[2]);
	off_t off = file_size(dmn.log_path);
	uint64_t t0 = now_us();
	cr_assert_eq(kill(dmn.pid, SIGHUP), 0);
	cr_assert(wait_log(&dmn, off, "reload done", 60000, 500));
	uint64_t reload_us = now_us() - t0;
	double st = store_seconds(dmn.log_path, off, "zone " APEX " serial 2 loaded");
	uint64_t store_us = st > 0.002 ? (uint64_t)(st * 1e6) : 2000u;
	cr_assert_eq(served_serial(&dmn), 2);
	printf("crash: reload_loop: %u numbers, a reload takes %.1f ms, its store phase %.0f ms; "
	       "%u kills\n",
	       ds.n, (double)reload_us / 1e3, (double)store_us / 1e3, iters);

	unsigned cur = 2, old_kept = 0, new_kept = 0, in_store = 0;
	for (unsigned i = 0; i < iters; i++) {
		unsigned next = cur + 1;
		cr_assert_leq(next, LOOP_VERSIONS);
		point_link(link, vpath[next]);
		off = file_size(dmn.log_path);
		snprintf(needle, sizeof(needle), "zone %s serial %u: storing version", APEX, next);
		uint64_t delay;
		cr_assert_eq(kill(dmn.pid, SIGHUP), 0);
		if (i % 2 == 0) {
			/* Anywhere from the signal to a little after the reload would end. */
			delay = rng_below(reload_us + reload_us / 4 + 1);
		} else {
			/* Inside the store phase: from its log line on. */
			cr_assert(wait_log(&dmn, off, needle, 60000, 200), "no storing line");
			delay = rng_below(store_us + 1);
		}
		sleep_us(delay);
		cr_assert(fe_test_daemon_alive(&dmn), "kill %u: fedenumd exited by itself", i);
		fe_test_daemon_kill9(&dmn);

		bool storing = count_in_log(dmn.log_path, off, needle) > 0;
		snprintf(needle, sizeof(needle), "zone %s serial %u loaded", APEX, next);
		bool loaded = count_in_log(dmn.log_path, off, needle) > 0;
		struct zinfo zi;
		store_info(tdir, &zi);
		cr_assert(zi.serial == cur || zi.serial == next,
		          "kill %u: stored serial %u, neither the previous %u nor the new %u", i,
		          zi.serial, cur, next);
		if (loaded)
			cr_assert_eq(zi.serial, next, "kill %u: logged as loaded but not stored",
			             i);
		if (!storing)
			cr_assert_eq(zi.serial, cur, "kill %u: stored without a store phase", i);
		expect_store(tdir, &ds, zi.serial, &zi);
		if (storing && !loaded && zi.serial == cur)
			in_store++;
		if (zi.serial == cur)
			old_kept++;
		else
			new_kept++;

		/* Restart on the version the store holds: nothing to load, served from the map. */
		point_link(link, vpath[zi.serial]);
		off = file_size(dmn.log_path);
		start_daemon(conf, link);
		snprintf(needle, sizeof(needle), "zone %s: serial %u already current", APEX,
		         zi.serial);
		cr_assert_eq(count_in_log(dmn.log_path, off, needle), 1);
		cr_assert_eq(served_serial(&dmn), (long)zi.serial);
		check_sample(&dmn, &ds, 300, 30, zi.serial, "reload_loop");
		cur = zi.serial;
	}
	printf("crash: reload_loop: %u kills: %u kept the previous version (%u of them inside the "
	       "store transaction), %u the new one; %.1f s\n",
	       iters, old_kept, in_store, new_kept, (double)(now_us() - t_test) / 1e6);
	cr_assert_gt(in_store, 0, "no kill landed inside a store transaction");
	cr_assert_eq(fe_test_daemon_stop(&dmn), 0);
}
