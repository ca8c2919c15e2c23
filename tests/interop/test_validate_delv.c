/* BIND's delv (Debian bind9-dnsutils), given the demo federation's trust anchors, validates
 * fedenumd's answers and agrees with libunbound (issue #3 §9).
 *
 * delv is itself a validating resolver: `delv @127.0.0.1 -p PORT -a FILE +root=NAME` asks
 * only that server and trusts only the anchors in FILE (named.conf syntax,
 * `trust-anchors { NAME static-ds TAG ALG DIGTYPE "HEX"; };`) — and of those only the one
 * named by +root (BIND 9.18: without +root it looks for "." and loads nothing; a second anchor
 * in the file is ignored, the answer below it reported as "unsigned answer"). e164.fed.,
 * ims-a.example. and ims-b.example. are separate anchors, so delv runs once per anchor, each
 * time with a file built from federation/keys/<anchor>.ds.
 *
 * Positives must print "; fully validated" (or "; negative response, fully validated" with
 * NXDOMAIN / NXRRSET); a freshly generated anchor must make the same lookups fail
 * ("resolution failed" on stderr, nothing validated). */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fe_test.h"
#include "fe_validate.h"

#define FEDCONF  FE_TEST_SRC "/federation/fedenumd.conf"
#define KEYS     FE_TEST_SRC "/federation/keys"
#define A_NUMBER "1.0.0.0.0.0.1.5.5.5.1.e164.fed."
#define B_NUMBER "1.0.0.0.0.0.2.5.5.5.1.e164.fed."
#define A_NOSUCH "9.9.9.0.0.0.1.5.5.5.1.e164.fed."
#define UNDELEG  "1.0.0.0.0.0.3.5.5.5.1.e164.fed."

static struct fe_test_daemon d;
static struct fe_validate_tamper relay;
static char tmp[256];

static void start(void)
{
	fe_test_mkdtemp(tmp, sizeof(tmp));
	cr_assert_eq(fe_test_daemon_start(&d, NULL, (const char *const[]){"-c", FEDCONF, NULL}), 0,
	             "fedenumd on the demo federation");
}

static void stop(void)
{
	fe_validate_tamper_stop(&relay);
	if (d.pid > 0)
		cr_expect_eq(fe_test_daemon_stop(&d), 0, "fedenumd exit status");
	fe_test_rmdir(tmp);
	tmp[0] = '\0';
}

TestSuite(delv, .init = start, .fini = stop, .timeout = 120);

/* One DS or DNSKEY record as a delv/named.conf trust-anchors statement. */
static void anchor_stmt(const ldns_rr *rr, FILE *out)
{
	char *owner = ldns_rdf2str(ldns_rr_owner(rr));
	cr_assert_not_null(owner);
	if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_DS) {
		cr_assert_eq(ldns_rr_rd_count(rr), 4);
		char *digest = ldns_rdf2str(ldns_rr_rdf(rr, 3));
		fprintf(out, "\t%s static-ds %u %u %u \"%s\";\n", owner,
		        (unsigned)ldns_rdf2native_int16(ldns_rr_rdf(rr, 0)),
		        (unsigned)ldns_rdf2native_int8(ldns_rr_rdf(rr, 1)),
		        (unsigned)ldns_rdf2native_int8(ldns_rr_rdf(rr, 2)), digest);
		free(digest);
	} else {
		cr_assert_eq(ldns_rr_get_type(rr), LDNS_RR_TYPE_DNSKEY);
		char *key = ldns_rdf2str(ldns_rr_rdf(rr, 3));
		fprintf(out, "\t%s static-key %u %u %u \"%s\";\n", owner,
		        (unsigned)ldns_rdf2native_int16(ldns_rr_rdf(rr, 0)),
		        (unsigned)ldns_rdf2native_int8(ldns_rr_rdf(rr, 1)),
		        (unsigned)ldns_rdf2native_int8(ldns_rr_rdf(rr, 2)), key);
		free(key);
	}
	free(owner);
}

/* Write <tmp>/<tag>.anchors from one presentation-format record. Returns the path. */
static const char *anchor_file_rr(const char *tag, const char *rrstr, char *path, size_t cap)
{
	snprintf(path, cap, "%s/%s.anchors", tmp, tag);
	ldns_rr *rr = NULL;
	cr_assert_eq(ldns_rr_new_frm_str(&rr, rrstr, 3600, NULL, NULL), LDNS_STATUS_OK, "%s",
	             rrstr);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "trust-anchors {\n");
	anchor_stmt(rr, f);
	fprintf(f, "};\n");
	cr_assert_eq(fclose(f), 0);
	ldns_rr_free(rr);
	return path;
}

/* The demo anchor of @zone (federation/keys/<zone>.ds, one DS) as a delv anchor file. */
static const char *demo_anchor(const char *zone, char *path, size_t cap)
{
	char ds_path[512], line[2048];
	/* federation/keys/e164.fed.ds for "e164.fed." */
	snprintf(ds_path, sizeof(ds_path), "%s/%.*s.ds", KEYS, (int)strlen(zone) - 1, zone);
	FILE *f = fopen(ds_path, "r");
	cr_assert_not_null(f, "%s", ds_path);
	cr_assert_not_null(fgets(line, sizeof(line), f));
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	return anchor_file_rr(zone, line, path, cap);
}

struct delv_out {
	int status;
	char out[32768];
	char err[8192];
};

static void slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	size_t n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* delv asking @port on 127.0.0.1 (the daemon or a relay). */
static void delv_at(uint16_t port, struct delv_out *o, const char *anchors, const char *root,
                    const char *opts, const char *name, const char *type)
{
	char out[400], err[400];
	snprintf(out, sizeof(out), "%s/delv.out", tmp);
	snprintf(err, sizeof(err), "%s/delv.err", tmp);
	o->status = fe_test_sh("delv @127.0.0.1 -p %u -a '%s' +root=%s %s %s %s >'%s' 2>'%s'", port,
	                       anchors, root, opts ? opts : "", type, name, out, err);
	slurp(out, o->out, sizeof(o->out));
	slurp(err, o->err, sizeof(o->err));
}

/* delv with @anchors, trusting @root, for @name/@type (extra options in @opts). */
static void delv(struct delv_out *o, const char *anchors, const char *root, const char *opts,
                 const char *name, const char *type)
{
	delv_at(d.port, o, anchors, root, opts, name, type);
}

enum outcome { POSITIVE, NXDOMAIN, NODATA };

/* delv validated @name/@type fully, with the given outcome. */
static void expect_validated(struct delv_out *o, const char *anchors, const char *root,
                             const char *name, const char *type, enum outcome want)
{
	delv(o, anchors, root, NULL, name, type);
	cr_assert_eq(o->status, 0, "delv %s %s: status %d\n%s%s", name, type, o->status, o->out,
	             o->err);
	if (want == POSITIVE) {
		cr_assert(strncmp(o->out, "; fully validated\n", 18) == 0, "%s %s:\n%s%s", name,
		          type, o->out, o->err);
		return;
	}
	cr_assert(strncmp(o->out, "; negative response, fully validated\n", 37) == 0,
	          "%s %s:\n%s%s", name, type, o->out, o->err);
	const char *mark = want == NXDOMAIN ? ";-$NXDOMAIN" : ";-$NXRRSET";
	cr_assert_not_null(strstr(o->out, mark), "%s %s: want %s\n%s", name, type, mark, o->out);
}

/* The RRs of @type that delv printed (its answer lines, comments skipped). */
static ldns_rr_list *delv_rrs(const struct delv_out *o, ldns_rr_type type)
{
	ldns_rr_list *l = ldns_rr_list_new();
	char *copy = strdup(o->out), *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == ';' || line[0] == '\0')
			continue;
		ldns_rr *rr = NULL;
		if (ldns_rr_new_frm_str(&rr, line, 0, NULL, NULL) != LDNS_STATUS_OK)
			continue;
		if (ldns_rr_get_type(rr) == type)
			ldns_rr_list_push_rr(l, rr);
		else
			ldns_rr_free(rr);
	}
	free(copy);
	return l;
}

Test(delv, enum_tree)
{
	char anchors[512];
	demo_anchor("e164.fed.", anchors, sizeof(anchors));
	struct delv_out *o = malloc(sizeof(*o));
	const char *root = "e164.fed";

	expect_validated(o, anchors, root, B_NUMBER, "NAPTR", POSITIVE);
	cr_assert_not_null(strstr(o->out, "sip:+15552000001@ims-b.example"), "%s", o->out);
	expect_validated(o, anchors, root, A_NUMBER, "NAPTR", POSITIVE);
	cr_assert_not_null(strstr(o->out, "sip:+15551000001@ims-a.example"), "%s", o->out);
	expect_validated(o, anchors, root, "2.0.0.0.0.0.1.5.5.5.1.e164.fed.", "NAPTR", POSITIVE);
	cr_assert_not_null(strstr(o->out, ";npdi;rn=+15552990000"), "%s", o->out);
	/* A wildcard answer and a CNAME into the same zone. */
	expect_validated(o, anchors, root, "1.0.9.9.9.9.1.5.5.5.1.e164.fed.", "NAPTR", POSITIVE);
	expect_validated(o, anchors, root, "9.9.9.9.9.9.2.5.5.5.1.e164.fed.", "NAPTR", POSITIVE);
	cr_assert_not_null(strstr(o->out, "CNAME"), "%s", o->out);

	/* NXDOMAIN with NSEC3 from a member zone and from the registry; NODATA; an ENT. */
	expect_validated(o, anchors, root, A_NOSUCH, "NAPTR", NXDOMAIN);
	cr_assert_not_null(strstr(o->out, "NSEC3"), "%s", o->out);
	expect_validated(o, anchors, root, UNDELEG, "NAPTR", NXDOMAIN);
	expect_validated(o, anchors, root, A_NUMBER, "A", NODATA);
	expect_validated(o, anchors, root, "0.0.0.0.1.5.5.5.1.e164.fed.", "NAPTR", NODATA);

	/* The registry's DS for each member and the members' keys. */
	expect_validated(o, anchors, root, "1.5.5.5.1.e164.fed.", "DS", POSITIVE);
	expect_validated(o, anchors, root, "2.5.5.5.1.e164.fed.", "DNSKEY", POSITIVE);

	/* Over TCP as well. */
	delv(o, anchors, root, "+tcp", B_NUMBER, "NAPTR");
	cr_assert(strncmp(o->out, "; fully validated\n", 18) == 0, "%s%s", o->out, o->err);
	free(o);
}

Test(delv, entry_point_denials)
{
	char a_anchor[512], b_anchor[512];
	demo_anchor("ims-a.example.", a_anchor, sizeof(a_anchor));
	demo_anchor("ims-b.example.", b_anchor, sizeof(b_anchor));
	struct delv_out *o = malloc(sizeof(*o));
	/* NSEC-signed ims-a.example. */
	expect_validated(o, a_anchor, "ims-a.example", "nope.ims-a.example.", "A", NXDOMAIN);
	cr_assert_not_null(strstr(o->out, " NSEC "), "%s", o->out);
	expect_validated(o, a_anchor, "ims-a.example", "zzz.ims-a.example.", "NAPTR", NXDOMAIN);
	expect_validated(o, a_anchor, "ims-a.example", "sbc3.ims-a.example.", "AAAA", NODATA);
	/* NSEC3-signed ims-b.example. */
	expect_validated(o, b_anchor, "ims-b.example", "nope.ims-b.example.", "A", NXDOMAIN);
	expect_validated(o, b_anchor, "ims-b.example", "ims-b.example.", "MX", NODATA);
	free(o);
}

/* RFC 3263 §4.1, §4.2 with delv: NAPTR, SRV of each replacement, A/AAAA of each target. */
static unsigned delv_chase(const char *domain)
{
	char anchors[512], root[256];
	snprintf(root, sizeof(root), "%s", domain);
	root[strlen(root) - 1] = '\0'; /* +root without the final dot */
	demo_anchor(domain, anchors, sizeof(anchors));
	struct delv_out *o = malloc(sizeof(*o));
	expect_validated(o, anchors, root, domain, "NAPTR", POSITIVE);
	ldns_rr_list *naptr = delv_rrs(o, LDNS_RR_TYPE_NAPTR);
	cr_assert_eq(ldns_rr_list_rr_count(naptr), 3, "%s", o->out);
	unsigned addrs = 0;
	for (size_t i = 0; i < ldns_rr_list_rr_count(naptr); i++) {
		char *repl = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(naptr, i), 5));
		expect_validated(o, anchors, root, repl, "SRV", POSITIVE);
		ldns_rr_list *srv = delv_rrs(o, LDNS_RR_TYPE_SRV);
		cr_assert_eq(ldns_rr_list_rr_count(srv), 3, "%s", o->out);
		for (size_t j = 0; j < ldns_rr_list_rr_count(srv); j++) {
			char *target = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(srv, j), 3));
			expect_validated(o, anchors, root, target, "A", POSITIVE);
			ldns_rr_list *a = delv_rrs(o, LDNS_RR_TYPE_A);
			addrs += (unsigned)ldns_rr_list_rr_count(a);
			ldns_rr_list_deep_free(a);
			/* sbc3 has no AAAA: a validated NODATA in the chain. */
			delv(o, anchors, root, NULL, target, "AAAA");
			cr_assert_not_null(strstr(o->out, "fully validated"), "%s AAAA:\n%s%s",
			                   target, o->out, o->err);
			a = delv_rrs(o, LDNS_RR_TYPE_AAAA);
			addrs += (unsigned)ldns_rr_list_rr_count(a);
			ldns_rr_list_deep_free(a);
			free(target);
		}
		ldns_rr_list_deep_free(srv);
		free(repl);
	}
	ldns_rr_list_deep_free(naptr);
	free(o);
	return addrs;
}

Test(delv, rfc3263_chain)
{
	cr_assert_eq(delv_chase("ims-a.example."), 15);
	cr_assert_eq(delv_chase("ims-b.example."), 15);
}

/* Negative controls: delv must be able to say no. */
Test(delv, wrong_anchor_fails)
{
	char ds[1024], key[1024], anchors[512];
	struct delv_out *o = malloc(sizeof(*o));
	cr_assert_eq(fe_validate_fresh_ds("e164.fed.", ds, sizeof(ds), key, sizeof(key)), 0);
	static const char *const names[][2] = {
	        {B_NUMBER, "NAPTR"}, {A_NOSUCH, "NAPTR"}, {A_NUMBER, "A"}};
	for (int k = 0; k < 2; k++) {
		anchor_file_rr("wrong", k == 0 ? ds : key, anchors, sizeof(anchors));
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			delv(o, anchors, "e164.fed", NULL, names[i][0], names[i][1]);
			cr_assert_null(strstr(o->out, "validated"), "%s %s with a wrong %s:\n%s",
			               names[i][0], names[i][1], k ? "DNSKEY" : "DS", o->out);
			cr_assert_not_null(strstr(o->err, "resolution failed"), "%s %s:\n%s%s",
			                   names[i][0], names[i][1], o->out, o->err);
		}
	}
	cr_assert_eq(fe_validate_fresh_ds("ims-a.example.", ds, sizeof(ds), NULL, 0), 0);
	anchor_file_rr("wrong-a", ds, anchors, sizeof(anchors));
	delv(o, anchors, "ims-a.example", NULL, "ims-a.example.", "NAPTR");
	cr_assert_null(strstr(o->out, "validated"), "%s", o->out);
	cr_assert_not_null(strstr(o->err, "resolution failed"), "%s", o->err);

	/* The right anchor of another tree: not validated ("unsigned answer"). */
	demo_anchor("ims-a.example.", anchors, sizeof(anchors));
	delv(o, anchors, "ims-a.example", NULL, B_NUMBER, "NAPTR");
	cr_assert_null(strstr(o->out, "validated"), "%s", o->out);
	cr_assert_not_null(strstr(o->out, "unsigned answer"), "%s", o->out);
	free(o);
}

/* An answer altered on the way fails its signature: not validated. */
Test(delv, tampered_answer_fails)
{
	char anchors[512];
	demo_anchor("e164.fed.", anchors, sizeof(anchors));
	cr_assert_eq(fe_validate_tamper_start(&relay, d.host, d.port, "@ims-b.", "@ims-a.", 7), 0);
	struct delv_out *o = malloc(sizeof(*o));
	delv_at(relay.port, o, anchors, "e164.fed", NULL, A_NUMBER, "NAPTR");
	cr_assert(strncmp(o->out, "; fully validated\n", 18) == 0, "untouched: %s%s", o->out,
	          o->err);
	delv_at(relay.port, o, anchors, "e164.fed", NULL, B_NUMBER, "NAPTR");
	cr_assert_null(strstr(o->out, "validated"), "%s", o->out);
	cr_assert_not_null(strstr(o->err, "resolution failed"), "%s%s", o->out, o->err);
	free(o);
}

/* delv and libunbound agree, name by name: both validate, same outcome, same answer RRs. */
Test(delv, agrees_with_libunbound)
{
	static const struct {
		const char *anchor, *name, *type;
		uint16_t t;
	} cases[] = {
	        {"e164.fed.", B_NUMBER, "NAPTR", LDNS_RR_TYPE_NAPTR},
	        {"e164.fed.", "7.0.0.0.0.0.2.5.5.5.1.e164.fed.", "NAPTR", LDNS_RR_TYPE_NAPTR},
	        {"e164.fed.", "5.2.0.0.0.0.1.5.5.5.1.e164.fed.", "NAPTR", LDNS_RR_TYPE_NAPTR},
	        {"e164.fed.", "4.5.9.9.9.9.1.5.5.5.1.e164.fed.", "NAPTR", LDNS_RR_TYPE_NAPTR},
	        {"e164.fed.", A_NOSUCH, "NAPTR", LDNS_RR_TYPE_NAPTR},
	        {"e164.fed.", UNDELEG, "NAPTR", LDNS_RR_TYPE_NAPTR},
	        {"e164.fed.", "1.0.0.0.0.0.2.5.5.5.1.e164.fed.", "TXT", LDNS_RR_TYPE_TXT},
	        {"e164.fed.", "e164.fed.", "NS", LDNS_RR_TYPE_NS},
	        {"ims-a.example.", "_sips._tcp.ims-a.example.", "SRV", LDNS_RR_TYPE_SRV},
	        {"ims-a.example.", "sbc2.ims-a.example.", "AAAA", LDNS_RR_TYPE_AAAA},
	        {"ims-a.example.", "sbc3.ims-a.example.", "AAAA", LDNS_RR_TYPE_AAAA},
	        {"ims-a.example.", "nope.ims-a.example.", "A", LDNS_RR_TYPE_A},
	        {"ims-b.example.", "_sip._udp.ims-b.example.", "SRV", LDNS_RR_TYPE_SRV},
	        {"ims-b.example.", "ns1.ims-b.example.", "A", LDNS_RR_TYPE_A},
	        {"ims-b.example.", "x.sbc1.ims-b.example.", "A", LDNS_RR_TYPE_A},
	        /* Edges: wildcard NODATA (RFC 5155 §7.2.5), a wildcard two labels down, the
	         * wildcard owner itself, a CNAME to a NODATA, empty non-terminals under NSEC3
	         * and NSEC, DS where there is no delegation. */
	        {"e164.fed.", "1.0.9.9.9.9.1.5.5.5.1.e164.fed.", "A", LDNS_RR_TYPE_A},
	        {"e164.fed.", "a.b.1.0.9.9.9.9.1.5.5.5.1.e164.fed.", "NAPTR", LDNS_RR_TYPE_NAPTR},
	        {"e164.fed.", "*.9.9.9.9.1.5.5.5.1.e164.fed.", "NAPTR", LDNS_RR_TYPE_NAPTR},
	        {"e164.fed.", "9.9.9.9.9.9.2.5.5.5.1.e164.fed.", "A", LDNS_RR_TYPE_A},
	        {"e164.fed.", "5.5.5.1.e164.fed.", "NAPTR", LDNS_RR_TYPE_NAPTR},
	        {"e164.fed.", "1.0.0.0.0.0.1.5.5.5.1.e164.fed.", "DS", LDNS_RR_TYPE_DS},
	        {"ims-a.example.", "_tcp.ims-a.example.", "SRV", LDNS_RR_TYPE_SRV},
	        {"ims-b.example.", "_tcp.ims-b.example.", "SRV", LDNS_RR_TYPE_SRV},
	};
	struct fe_validate *v = fe_validate_create(d.host, d.port, false);
	cr_assert_not_null(v);
	cr_assert_eq(fe_validate_add_demo_anchors(v), 0);
	struct delv_out *o = malloc(sizeof(*o));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char anchors[512], root[256];
		demo_anchor(cases[i].anchor, anchors, sizeof(anchors));
		snprintf(root, sizeof(root), "%.*s", (int)strlen(cases[i].anchor) - 1,
		         cases[i].anchor);
		delv(o, anchors, root, NULL, cases[i].name, cases[i].type);
		struct fe_validate_result r;
		cr_assert_eq(fe_validate_lookup(v, cases[i].name, cases[i].t, &r), 0);
		cr_assert_eq(r.status, FE_VALIDATE_SECURE, "libunbound: %s %s %s (%s)",
		             cases[i].name, cases[i].type, fe_validate_status_str(r.status),
		             r.why_bogus);
		cr_assert_not_null(strstr(o->out, "fully validated"), "delv: %s %s\n%s%s",
		                   cases[i].name, cases[i].type, o->out, o->err);
		bool delv_nx = strstr(o->out, ";-$NXDOMAIN") != NULL;
		bool delv_nodata = strstr(o->out, ";-$NXRRSET") != NULL;
		cr_assert_eq(delv_nx, r.nxdomain, "%s %s: NXDOMAIN delv %d, libunbound %d",
		             cases[i].name, cases[i].type, delv_nx, r.nxdomain);
		cr_assert_eq(delv_nodata, !r.nxdomain && !r.havedata, "%s %s: NODATA",
		             cases[i].name, cases[i].type);
		/* Same answer records (as sets, TTLs aside). */
		ldns_rr_list *dl = delv_rrs(o, (ldns_rr_type)cases[i].t);
		ldns_rr_list *ul = fe_validate_rrs(&r, LDNS_SECTION_ANSWER, cases[i].t);
		cr_assert_eq(ldns_rr_list_rr_count(dl), ldns_rr_list_rr_count(ul),
		             "%s %s: delv %zu RRs, libunbound %zu", cases[i].name, cases[i].type,
		             ldns_rr_list_rr_count(dl), ldns_rr_list_rr_count(ul));
		for (size_t j = 0; j < ldns_rr_list_rr_count(ul); j++) {
			ldns_rr *u = ldns_rr_list_rr(ul, j);
			bool found = false;
			for (size_t k = 0; k < ldns_rr_list_rr_count(dl) && !found; k++)
				found = ldns_rr_compare_no_rdata(u, ldns_rr_list_rr(dl, k)) == 0 &&
				        ldns_rr_compare(u, ldns_rr_list_rr(dl, k)) == 0;
			char *s = ldns_rr2str(u);
			cr_assert(found, "%s %s: libunbound's %s not in delv's answer\n%s",
			          cases[i].name, cases[i].type, s, o->out);
			free(s);
		}
		ldns_rr_list_deep_free(dl);
		ldns_rr_list_deep_free(ul);
		fe_validate_result_clear(&r);
	}
	free(o);
	fe_validate_destroy(v);
}
