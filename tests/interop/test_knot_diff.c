/* Differential test: fedenumd and Knot DNS 3.2 (Debian knotd) serve the same NSEC3-signed ENUM
 * zone of 100,000 numbers; 12,000 queries (hits, NXDOMAIN, NODATA, empty non-terminals, entry
 * points NAPTR/SRV/A/AAAA, CNAMEs, wildcard, DS, ANY and RRSIG (RFC 8482: one RRset, the
 * lowest type, in both), DO on and off, UDP and TCP, EDNS 512 and no
 * EDNS, mixed case) must get the same rcode, TC bit and the same answer, authority and
 * additional sections, compared as sets of RRs with their TTLs (AA, RA, AD flags, RRset order
 * and the OPT RR aside).
 *
 * Differences by design, checked as such rather than skipped:
 *  - below a delegation to a zone no one here holds, Knot gives a referral and fedenumd
 *    SERVFAIL (issue #2 §6: S-CSCFs are stub resolvers, never referred);
 *  - when additional data is cut to fit 512 octets (no TC, RFC 2181 §9), Knot may keep one
 *    RRset more: it compresses additional owners into the SRV/MX/NS target names of the
 *    answer's RDATA, our wire builder only into owners and the question (5 octets more per
 *    record). Such answers must agree on everything else, and our additional section must be
 *    a subset of Knot's; they are counted and reported, not failed.
 *
 * Issue #12: the zone also has DNAMEs (RFC 6672; category "dname": synthesis, chase into the
 * target block, NXDOMAIN proved there, out of zone, YXDOMAIN) and numbers whose NAPTR TTL was
 * raised after signing ("ttlcap", asked with DO=1). Knot serves the raised TTL as it is in the
 * file; a validator keeps min(TTL, RRSIG original TTL) (RFC 4035 §5.3.3), which is what
 * fedenumd serves. So Knot's answers are compared as a validator keeps them: every RRset
 * that comes with its RRSIGs has its TTL capped at their original TTL (a no-op for every
 * other query: there the signer wrote TTL = original TTL). fedenumd's answers are taken as
 * they are.
 *
 * delv (BIND's validating resolver, anchored at the zone's own key) then checks a sample of
 * the DNAME and raised-TTL queries end to end: through Knot and through fedenumd it must print
 * "fully validated" and the same records with the same TTLs.
 *
 * The zone and the queries come from knot_diff_gen.py (generated and signed once per build
 * tree, kept in <build>/interop-knot-diff). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fe_test.h"

#define DATA_DIR      FE_TEST_BUILD "/interop-knot-diff"
#define MIN_COMPARED  10000
#define SHOW_MISMATCH 8
#define MAX_NO_ANSWER 20
#define KNOT_READY_S  90

static struct fe_test_daemon fed;
static pid_t knot_pid = -1;
static char tmp[256];

static void stop_all(void)
{
	if (knot_pid > 0) {
		kill(knot_pid, SIGTERM);
		for (int i = 0; i < 100; i++) {
			if (waitpid(knot_pid, NULL, WNOHANG) == knot_pid) {
				knot_pid = -1;
				break;
			}
			usleep(50000);
		}
		if (knot_pid > 0) {
			kill(knot_pid, SIGKILL);
			waitpid(knot_pid, NULL, 0);
			knot_pid = -1;
		}
	}
	if (fed.pid > 0)
		fe_test_daemon_stop(&fed);
	if (tmp[0]) {
		fe_test_rmdir(tmp);
		tmp[0] = '\0';
	}
}

TestSuite(knot_diff, .fini = stop_all, .timeout = 600);

static void start_knot(const char *zone, uint16_t port)
{
	char conf[512], log[512];
	snprintf(conf, sizeof(conf), "%s/knot.conf", tmp);
	snprintf(log, sizeof(log), "%s/knotd.log", tmp);
	FILE *f = fopen(conf, "w");
	cr_assert_not_null(f);
	/* Serve the file as it is: no signing, no journal, never write the zone file back. */
	fprintf(f,
	        "server:\n"
	        "    rundir: %s\n"
	        "    listen: 127.0.0.1@%u\n"
	        "    udp-max-payload: 1232\n"
	        "database:\n"
	        "    storage: %s\n"
	        "log:\n"
	        "  - target: stderr\n"
	        "    any: notice\n"
	        "template:\n"
	        "  - id: default\n"
	        "    storage: %s\n"
	        "    zonefile-sync: -1\n"
	        "    zonefile-load: whole\n"
	        "    journal-content: none\n"
	        "    semantic-checks: off\n"
	        "zone:\n"
	        "  - domain: e164.diff.\n"
	        "    file: %s\n",
	        tmp, port, tmp, tmp, zone);
	fclose(f);

	knot_pid = fork();
	cr_assert_geq(knot_pid, 0, "fork");
	if (knot_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("knotd", "knotd", "-c", conf, (char *)NULL);
		execl("/usr/sbin/knotd", "knotd", "-c", conf, (char *)NULL); /* not in PATH */
		_exit(127);
	}
	/* Ready when the zone answers. */
	for (int i = 0; i < KNOT_READY_S * 10; i++) {
		ldns_pkt *p =
		        fe_test_query("127.0.0.1", port, "e164.diff.", LDNS_RR_TYPE_SOA, 0, 0);
		bool ok = p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NOERROR &&
		          ldns_rr_list_rr_count(ldns_pkt_answer(p)) == 1;
		ldns_pkt_free(p);
		if (ok)
			return;
		cr_assert_eq(waitpid(knot_pid, NULL, WNOHANG), 0, "knotd exited; see %s", log);
		usleep(100000);
	}
	fe_test_sh("tail -20 %s >&2", log);
	cr_assert_fail("knotd not answering after %d s", KNOT_READY_S);
}

/* ---- canonical form of a response ------------------------------------------------------ */

/* RFC 4035 §5.3.3 on @p in place: the TTL of every RR that has RRSIGs over its RRset in the
 * same section becomes at most their smallest original TTL. Returns the RRs changed. */
static unsigned validator_ttl_caps(ldns_pkt *p)
{
	ldns_rr_list *secs[3] = {ldns_pkt_answer(p), ldns_pkt_authority(p), ldns_pkt_additional(p)};
	unsigned changed = 0;
	for (int s = 0; s < 3; s++) {
		size_t cnt = secs[s] ? ldns_rr_list_rr_count(secs[s]) : 0;
		for (size_t i = 0; i < cnt; i++) {
			ldns_rr *rr = ldns_rr_list_rr(secs[s], i);
			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG)
				continue;
			uint32_t ttl = ldns_rr_ttl(rr);
			for (size_t j = 0; j < cnt; j++) {
				ldns_rr *sig = ldns_rr_list_rr(secs[s], j);
				if (ldns_rr_get_type(sig) != LDNS_RR_TYPE_RRSIG ||
				    ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(sig)) !=
				            ldns_rr_get_type(rr) ||
				    ldns_dname_compare(ldns_rr_owner(sig), ldns_rr_owner(rr)) != 0)
					continue;
				uint32_t orig = ldns_rdf2native_int32(ldns_rr_rrsig_origttl(sig));
				if (orig < ttl)
					ttl = orig;
			}
			if (ttl != ldns_rr_ttl(rr)) {
				ldns_rr_set_ttl(rr, ttl);
				changed++;
			}
		}
	}
	return changed;
}

struct canon {
	int rcode;
	bool tc;
	char **rr[3];
	size_t n[3];
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sections as sorted, de-duplicated lists of RRs in canonical presentation form (lowercase
 * names, RFC 4034 §6.2), TTL included; the OPT RR left out. */
static void canon_make(ldns_pkt *p, struct canon *c)
{
	memset(c, 0, sizeof(*c));
	c->rcode = ldns_pkt_get_rcode(p) | (ldns_pkt_edns_extended_rcode(p) << 4);
	c->tc = ldns_pkt_tc(p);
	ldns_rr_list *secs[3] = {ldns_pkt_answer(p), ldns_pkt_authority(p), ldns_pkt_additional(p)};
	for (int s = 0; s < 3; s++) {
		size_t cnt = secs[s] ? ldns_rr_list_rr_count(secs[s]) : 0;
		c->rr[s] = calloc(cnt + 1, sizeof(char *));
		for (size_t i = 0; i < cnt; i++) {
			ldns_rr *rr = ldns_rr_clone(ldns_rr_list_rr(secs[s], i));
			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_OPT) {
				ldns_rr_free(rr);
				continue;
			}
			ldns_rr2canonical(rr);
			char *str = ldns_rr2str(rr);
			ldns_rr_free(rr);
			size_t l = strlen(str);
			while (l > 0 && (str[l - 1] == '\n' || str[l - 1] == ' '))
				str[--l] = '\0';
			c->rr[s][c->n[s]++] = str;
		}
		qsort(c->rr[s], c->n[s], sizeof(char *), cmp_str);
		size_t w = 0;
		for (size_t i = 0; i < c->n[s]; i++) {
			if (w > 0 && strcmp(c->rr[s][w - 1], c->rr[s][i]) == 0) {
				free(c->rr[s][i]);
				continue;
			}
			c->rr[s][w++] = c->rr[s][i];
		}
		c->n[s] = w;
	}
}

static void canon_free(struct canon *c)
{
	for (int s = 0; s < 3; s++) {
		for (size_t i = 0; i < c->n[s]; i++)
			free(c->rr[s][i]);
		free(c->rr[s]);
	}
}

static bool canon_eq_upto(const struct canon *a, const struct canon *b, int sections)
{
	if (a->rcode != b->rcode || a->tc != b->tc)
		return false;
	for (int s = 0; s < sections; s++) {
		if (a->n[s] != b->n[s])
			return false;
		for (size_t i = 0; i < a->n[s]; i++)
			if (strcmp(a->rr[s][i], b->rr[s][i]) != 0)
				return false;
	}
	return true;
}

static bool canon_eq(const struct canon *a, const struct canon *b)
{
	return canon_eq_upto(a, b, 3);
}

static bool in_list(char *const *l, size_t n, const char *s)
{
	return bsearch(&s, l, n, sizeof(char *), cmp_str) != NULL;
}

/* Same answer and authority, and our additional section a strict subset of Knot's. */
static bool additional_trimmed(const struct canon *k, const struct canon *f)
{
	if (!canon_eq_upto(k, f, 2) || f->n[2] >= k->n[2])
		return false;
	for (size_t i = 0; i < f->n[2]; i++)
		if (!in_list(k->rr[2], k->n[2], f->rr[2][i]))
			return false;
	return true;
}

/* Print what differs: "-" only Knot has it, "+" only fedenumd. */
static void canon_diff(const char *what, const char *query, const struct canon *k,
                       const struct canon *f)
{
	static const char *names[3] = {"answer", "authority", "additional"};
	fprintf(stderr, "%s %s\n  rcode knot=%d fedenumd=%d  tc knot=%d fedenumd=%d\n", what, query,
	        k->rcode, f->rcode, k->tc, f->tc);
	for (int s = 0; s < 3; s++) {
		for (size_t i = 0; i < k->n[s]; i++)
			if (!in_list(f->rr[s], f->n[s], k->rr[s][i]))
				fprintf(stderr, "  %s - %s\n", names[s], k->rr[s][i]);
		for (size_t i = 0; i < f->n[s]; i++)
			if (!in_list(k->rr[s], k->n[s], f->rr[s][i]))
				fprintf(stderr, "  %s + %s\n", names[s], f->rr[s][i]);
	}
}

/* ---- delv ---------------------------------------------------------------------------------- */

#define DELV_SAMPLE 12 /* per category */

/* delv through 127.0.0.1@@port, trusting only the zone's key: the validated records of
 * @name/@type, sorted, into <tmp>/@tag. 0 when delv printed "fully validated". */
static int delv_view(uint16_t port, const char *name, const char *type, const char *tag)
{
	return fe_test_sh("delv @127.0.0.1 -p %u -a '%s/delv.anchors' +root=e164.diff. %s %s "
	                  ">'%s/%s.raw' 2>&1 && grep -q 'fully validated' '%s/%s.raw' && "
	                  "grep -v '^;' '%s/%s.raw' | grep . | sort >'%s/%s'",
	                  port, tmp, type, name, tmp, tag, tmp, tag, tmp, tag, tmp, tag);
}

static unsigned delv_compare(uint16_t kport, char names[][512], const char *const *types,
                             unsigned n)
{
	unsigned bad = 0;
	cr_assert_eq(fe_test_sh("ldns-key2ds -n -2 %s/keys/*.key | awk '{ printf \"trust-anchors "
	                        "{ %%s static-ds %%s %%s %%s \\\"%%s\\\"; };\\n\", $1, $5, $6, "
	                        "$7, $8 }' >'%s/delv.anchors'",
	                        DATA_DIR, tmp),
	             0);
	for (unsigned i = 0; i < n; i++) {
		int k = delv_view(kport, names[i], types[i], "delv.knot");
		int f = delv_view(fed.port, names[i], types[i], "delv.fed");
		int same = fe_test_sh("cmp -s '%s/delv.knot' '%s/delv.fed'", tmp, tmp);
		if (k != 0 || f != 0 || same != 0) {
			bad++;
			fprintf(stderr, "DELV %s %s: knot %s, fedenumd %s, %s\n", names[i],
			        types[i], k ? "not validated" : "validated",
			        f ? "not validated" : "validated",
			        same ? "records differ" : "same records");
			fe_test_sh("cat '%s/delv.knot.raw' '%s/delv.fed.raw' >&2", tmp, tmp);
		}
	}
	return bad;
}

/* ---- the test ----------------------------------------------------------------------------- */

struct stats {
	char cat[32];
	unsigned sent, same;
};

static struct stats *stat_for(struct stats *st, size_t *n, const char *cat)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(st[i].cat, cat) == 0)
			return &st[i];
	cr_assert_lt(*n, 64);
	memset(&st[*n], 0, sizeof(st[*n]));
	snprintf(st[*n].cat, sizeof(st[*n].cat), "%s", cat);
	return &st[(*n)++];
}

Test(knot_diff, same_answers_as_knot)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(fe_test_sh("python3 %s/tests/interop/knot_diff_gen.py %s >&2", FE_TEST_SRC,
	                        DATA_DIR),
	             0, "zone generation/signing failed");
	fe_test_mkdtemp(tmp, sizeof(tmp));

	uint16_t kport = fe_test_free_port();
	cr_assert_neq(kport, 0);
	start_knot(DATA_DIR "/zone.signed", kport);
	const char *argv[] = {"--zone", DATA_DIR "/zone.signed", NULL};
	cr_assert_eq(fe_test_daemon_start(&fed, NULL, argv), 0, "fedenumd did not start");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "knot_diff: servers up after %.1f s (knot port %u, fedenumd port %u)\n",
	        (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, kport,
	        fed.port);

	FILE *qf = fopen(DATA_DIR "/queries.tsv", "r");
	cr_assert_not_null(qf);
	struct stats st[64];
	size_t nst = 0;
	unsigned compared = 0, mismatches = 0, no_answer = 0, by_design = 0, trimmed = 0, tc = 0;
	unsigned capped = 0, dname_synth = 0, yxdomain = 0;
	static char delv_names[2 * DELV_SAMPLE][512];
	const char *delv_types[2 * DELV_SAMPLE];
	unsigned ndelv = 0, ndelv_dname = 0, ndelv_ttl = 0;
	char line[1024];
	while (fgets(line, sizeof(line), qf)) {
		char cat[32], name[512], type[32], fl[16];
		if (sscanf(line, "%31s %511s %31s %15s", cat, name, type, fl) != 4)
			continue;
		ldns_rr_type t = ldns_get_rr_type_by_name(type);
		cr_assert_neq(t, 0, "type %s", type);
		unsigned flags = 0;
		uint16_t bufsize = 1232;
		flags |= strchr(fl, 'd') ? FE_TQ_DO : 0;
		flags |= strchr(fl, 't') ? FE_TQ_TCP : 0;
		flags |= strchr(fl, 'n') ? FE_TQ_NOEDNS : 0;
		if (strchr(fl, 's'))
			bufsize = 512;

		ldns_pkt *kp = fe_test_query("127.0.0.1", kport, name, t, flags, bufsize);
		ldns_pkt *fp = fe_test_query(fed.host, fed.port, name, t, flags, bufsize);
		struct stats *s = stat_for(st, &nst, cat);
		/* delv sample: DNAMEs inside the zone, raised TTLs */
		bool is_dname = strcmp(cat, "dname") == 0 && strstr(name, "-dname.") == NULL &&
		                strstr(name, "-DNAME.") == NULL && ndelv_dname < DELV_SAMPLE;
		bool is_ttl = strcmp(cat, "ttlcap") == 0 && ndelv_ttl < DELV_SAMPLE;
		if ((is_dname || is_ttl) && t == LDNS_RR_TYPE_NAPTR) {
			snprintf(delv_names[ndelv], sizeof(delv_names[0]), "%s", name);
			delv_types[ndelv++] = "NAPTR";
			ndelv_dname += is_dname;
			ndelv_ttl += is_ttl;
		}
		s->sent++;
		if (!kp || !fp) {
			fprintf(stderr, "NO ANSWER from %s%s: %s", !kp ? "knot " : "",
			        !fp ? "fedenumd" : "", line);
			ldns_pkt_free(kp);
			ldns_pkt_free(fp);
			cr_assert_lt(++no_answer, MAX_NO_ANSWER, "too many lost queries");
			mismatches++;
			continue;
		}
		if (strcmp(cat, "deleg") == 0) {
			/* by design: Knot refers, fedenumd never does */
			bool referral = ldns_pkt_get_rcode(kp) == LDNS_RCODE_NOERROR &&
			                !ldns_pkt_aa(kp) &&
			                ldns_rr_list_rr_count(ldns_pkt_answer(kp)) == 0 &&
			                ldns_rr_list_rr_count(ldns_pkt_authority(kp)) > 0;
			bool servfail = ldns_pkt_get_rcode(fp) == LDNS_RCODE_SERVFAIL &&
			                ldns_rr_list_rr_count(ldns_pkt_answer(fp)) == 0 &&
			                ldns_rr_list_rr_count(ldns_pkt_authority(fp)) == 0;
			if (referral && servfail) {
				s->same++;
				by_design++;
			} else {
				mismatches++;
				fprintf(stderr,
				        "DELEGATION %s: knot referral=%d fedenumd servfail=%d\n",
				        name, referral, servfail);
			}
			ldns_pkt_free(kp);
			ldns_pkt_free(fp);
			continue;
		}
		struct canon kc, fc;
		if (validator_ttl_caps(kp) > 0)
			capped++;
		if (strcmp(cat, "dname") == 0) {
			ldns_rr_list *dn = ldns_pkt_rr_list_by_type(fp, LDNS_RR_TYPE_DNAME,
			                                            LDNS_SECTION_ANSWER);
			dname_synth += dn != NULL;
			ldns_rr_list_deep_free(dn);
			yxdomain += ldns_pkt_get_rcode(fp) == LDNS_RCODE_YXDOMAIN;
		}
		canon_make(kp, &kc);
		canon_make(fp, &fc);
		compared++;
		bool limited = !(flags & FE_TQ_TCP) && (bufsize == 512 || (flags & FE_TQ_NOEDNS));
		if (canon_eq(&kc, &fc)) {
			s->same++;
			tc += kc.tc;
		} else if (limited && additional_trimmed(&kc, &fc)) {
			s->same++;
			if (++trimmed <= 2) {
				char q[700];
				snprintf(q, sizeof(q),
				         "%s %s [%s] (%s): additional cut shorter (known)", name,
				         type, fl, cat);
				canon_diff("NOTE", q, &kc, &fc);
			}
		} else {
			if (++mismatches <= SHOW_MISMATCH) {
				char q[700];
				snprintf(q, sizeof(q), "%s %s [%s] (%s)", name, type, fl, cat);
				canon_diff("MISMATCH", q, &kc, &fc);
			}
		}
		canon_free(&kc);
		canon_free(&fc);
		ldns_pkt_free(kp);
		ldns_pkt_free(fp);
	}
	fclose(qf);
	unsigned delv_bad = delv_compare(kport, delv_names, delv_types, ndelv);

	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr,
	        "knot_diff: %u queries compared, %u mismatches, %u identical with TC=1, %u with "
	        "the "
	        "additional section cut shorter at 512 octets, %u referral/SERVFAIL by design, "
	        "%.1f s in all\n"
	        "knot_diff: %u Knot answers with a TTL above the RRSIG original TTL (capped as a "
	        "validator does), %u fedenumd answers with a DNAME, %u YXDOMAIN\n",
	        compared, mismatches, tc, trimmed, by_design,
	        (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, capped,
	        dname_synth, yxdomain);
	fprintf(stderr,
	        "knot_diff: delv through both servers: %u DNAME and %u raised-TTL names, %u "
	        "differ\n",
	        ndelv_dname, ndelv_ttl, delv_bad);
	for (size_t i = 0; i < nst; i++)
		fprintf(stderr, "  %-13s %5u sent %5u identical\n", st[i].cat, st[i].sent,
		        st[i].same);
	cr_assert_geq(compared, MIN_COMPARED, "only %u queries compared", compared);
	cr_assert_gt(tc, 0, "no truncated answer was compared");
	cr_assert_gt(capped, 0, "no raised TTL was compared");
	cr_assert_gt(dname_synth, 0, "no DNAME answer was compared");
	cr_assert_gt(yxdomain, 0, "no YXDOMAIN was compared");
	cr_assert_gt(ndelv_dname, 0, "no DNAME name for delv");
	cr_assert_gt(ndelv_ttl, 0, "no raised-TTL name for delv");
	cr_assert_eq(delv_bad, 0, "delv saw %u names differently through fedenumd", delv_bad);
	cr_assert_leq(trimmed, compared / 100, "too many shorter additional sections");
	cr_assert_eq(mismatches, 0, "%u of %u answers differ from Knot DNS (first %d above)",
	             mismatches, compared, SHOW_MISMATCH);
}
