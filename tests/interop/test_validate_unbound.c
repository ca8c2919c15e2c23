/* libunbound, configured with only the demo federation's trust anchors (federation/keys/ *.ds,
 * no root anchor) and fedenumd as its only upstream, validates fedenumd's answers
 * (issue #3 §9): positive ENUM NAPTRs (both members, a wildcard, a CNAME), NXDOMAIN and NODATA
 * with their NSEC3 proofs, NXDOMAIN and NODATA with NSEC in an entry-point domain, DS and
 * DNSKEY at the cuts, and the RFC 3263 chain NAPTR -> SRV -> A/AAAA of both entry points,
 * over UDP and TCP. Negative controls: the same answers with a freshly generated anchor are
 * BOGUS, and a name outside every anchor is not SECURE. Then `fedenumctl query --validate`
 * and `--rfc3263` end to end. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../integration/net_common.h" /* nc_counter: the daemon's counters */
#include "fe_test.h"
#include "fe_validate.h"

#define FEDCONF  FE_TEST_SRC "/federation/fedenumd.conf"
#define FEDDEF   FE_TEST_SRC "/federation/federation.conf"
#define KEYS     FE_TEST_SRC "/federation/keys"
#define A_NUMBER "1.0.0.0.0.0.1.5.5.5.1.e164.fed." /* +15551000001, carrier-a (KSK+ZSK) */
#define B_NUMBER "1.0.0.0.0.0.2.5.5.5.1.e164.fed." /* +15552000001, carrier-b (one key) */
#define A_NOSUCH "9.9.9.0.0.0.1.5.5.5.1.e164.fed." /* +15551000999: in range, not assigned */
#define UNDELEG  "1.0.0.0.0.0.3.5.5.5.1.e164.fed." /* +15553...: not delegated by the registry */

static struct fe_test_daemon d;
static struct fe_validate *v;
static struct fe_validate_tamper relay;
static char tmp[256];

static void start(void)
{
	cr_assert_eq(fe_test_daemon_start(&d, NULL, (const char *const[]){"-c", FEDCONF, NULL}), 0,
	             "fedenumd on the demo federation");
}

static void stop(void)
{
	fe_validate_destroy(v);
	v = NULL;
	fe_validate_tamper_stop(&relay);
	if (d.pid > 0)
		cr_expect_eq(fe_test_daemon_stop(&d), 0, "fedenumd exit status");
	if (tmp[0])
		fe_test_rmdir(tmp);
}

TestSuite(ub, .init = start, .fini = stop, .timeout = 60);

static struct fe_validate *demo_validator(bool tcp)
{
	struct fe_validate *val = fe_validate_create(d.host, d.port, tcp);
	cr_assert_not_null(val);
	cr_assert_eq(fe_validate_add_demo_anchors(val), 0);
	return val;
}

/* Look @name/@type up and require @want status and @rcode; the result stays in *r. */
static void check(struct fe_validate *val, const char *name, uint16_t type,
                  enum fe_validate_status want, int rcode, struct fe_validate_result *r)
{
	cr_assert_eq(fe_validate_lookup(val, name, type, r), 0, "%s lookup ran", name);
	char *t = ldns_rr_type2str((ldns_rr_type)type);
	cr_assert_eq(r->status, want, "%s %s: %s, want %s (why: %s)", name, t,
	             fe_validate_status_str(r->status), fe_validate_status_str(want), r->why_bogus);
	cr_assert_eq(r->rcode, rcode, "%s %s: rcode %d, want %d", name, t, r->rcode, rcode);
	cr_assert_not_null(r->pkt, "%s %s: no reply packet", name, t);
	free(t);
}

/* The answer section has an RR of @type whose presentation contains @needle. */
static bool answer_has(const struct fe_validate_result *r, uint16_t type, const char *needle)
{
	ldns_rr_list *l = fe_validate_rrs(r, LDNS_SECTION_ANSWER, type);
	bool found = false;
	for (size_t i = 0; l && i < ldns_rr_list_rr_count(l) && !found; i++) {
		char *s = ldns_rr2str(ldns_rr_list_rr(l, i));
		found = s && strstr(s, needle);
		free(s);
	}
	ldns_rr_list_deep_free(l);
	return found;
}

static void positive_enum(struct fe_validate *val)
{
	struct fe_validate_result r;
	check(val, B_NUMBER, LDNS_RR_TYPE_NAPTR, FE_VALIDATE_SECURE, LDNS_RCODE_NOERROR, &r);
	cr_assert(r.havedata);
	cr_assert(answer_has(&r, LDNS_RR_TYPE_NAPTR, "sip:+15552000001@ims-b.example"));
	cr_assert_geq(fe_validate_count(&r, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_RRSIG), 1);
	fe_validate_result_clear(&r);

	check(val, A_NUMBER, LDNS_RR_TYPE_NAPTR, FE_VALIDATE_SECURE, LDNS_RCODE_NOERROR, &r);
	cr_assert(answer_has(&r, LDNS_RR_TYPE_NAPTR, "sip:+15551000001@ims-a.example"));
	fe_validate_result_clear(&r);
}

Test(ub, positive_enum_naptr)
{
	v = demo_validator(false);
	positive_enum(v);

	/* A ported number (npdi, rn=) and an IMS number with PSTN fallback: two NAPTRs. */
	struct fe_validate_result r;
	check(v, "2.0.0.0.0.0.1.5.5.5.1.e164.fed.", LDNS_RR_TYPE_NAPTR, FE_VALIDATE_SECURE,
	      LDNS_RCODE_NOERROR, &r);
	cr_assert(answer_has(&r, LDNS_RR_TYPE_NAPTR, ";npdi;rn=+15552990000"));
	fe_validate_result_clear(&r);
	check(v, "7.0.0.0.0.0.2.5.5.5.1.e164.fed.", LDNS_RR_TYPE_NAPTR, FE_VALIDATE_SECURE,
	      LDNS_RCODE_NOERROR, &r);
	cr_assert_eq(fe_validate_count(&r, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_NAPTR), 2);
	fe_validate_result_clear(&r);
}

Test(ub, wildcard_and_cname)
{
	v = demo_validator(false);
	struct fe_validate_result r;
	/* RFC 4035 §5.3.4: a wildcard answer validates only with the NSEC3 proof that the
	 * query name itself does not exist. */
	check(v, "1.0.9.9.9.9.1.5.5.5.1.e164.fed.", LDNS_RR_TYPE_NAPTR, FE_VALIDATE_SECURE,
	      LDNS_RCODE_NOERROR, &r);
	cr_assert(answer_has(&r, LDNS_RR_TYPE_NAPTR, "sip:\\\\1@ims-a.example"));
	fe_validate_result_clear(&r);
	check(v, "9.9.9.9.9.9.2.5.5.5.1.e164.fed.", LDNS_RR_TYPE_NAPTR, FE_VALIDATE_SECURE,
	      LDNS_RCODE_NOERROR, &r);
	cr_assert_eq(fe_validate_count(&r, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_CNAME), 1);
	cr_assert(answer_has(&r, LDNS_RR_TYPE_NAPTR, "sip:+15552000001@ims-b.example"));
	fe_validate_result_clear(&r);
}

Test(ub, nxdomain_nsec3)
{
	v = demo_validator(false);
	struct fe_validate_result r;
	/* RFC 5155 §7.2.2: closest encloser, next closer and wildcard proofs. */
	check(v, A_NOSUCH, LDNS_RR_TYPE_NAPTR, FE_VALIDATE_SECURE, LDNS_RCODE_NXDOMAIN, &r);
	cr_assert(r.nxdomain);
	cr_assert_eq(fe_validate_count(&r, LDNS_SECTION_AUTHORITY, LDNS_RR_TYPE_SOA), 1);
	cr_assert_geq(fe_validate_count(&r, LDNS_SECTION_AUTHORITY, LDNS_RR_TYPE_NSEC3), 2);
	fe_validate_result_clear(&r);
	/* Not delegated by the registry: the registry's own NSEC3 denial. */
	check(v, UNDELEG, LDNS_RR_TYPE_NAPTR, FE_VALIDATE_SECURE, LDNS_RCODE_NXDOMAIN, &r);
	cr_assert_geq(fe_validate_count(&r, LDNS_SECTION_AUTHORITY, LDNS_RR_TYPE_NSEC3), 2);
	ldns_rr_list *soa = fe_validate_rrs(&r, LDNS_SECTION_AUTHORITY, LDNS_RR_TYPE_SOA);
	cr_assert_eq(ldns_rr_list_rr_count(soa), 1);
	char *owner = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(soa, 0)));
	cr_assert_str_eq(owner, "e164.fed.");
	free(owner);
	ldns_rr_list_deep_free(soa);
	fe_validate_result_clear(&r);
}

Test(ub, nodata_nsec3)
{
	v = demo_validator(false);
	struct fe_validate_result r;
	/* RFC 5155 §7.2.3: the NSEC3 matching the name, without the type in its bitmap. */
	check(v, A_NUMBER, LDNS_RR_TYPE_A, FE_VALIDATE_SECURE, LDNS_RCODE_NOERROR, &r);
	cr_assert_not(r.havedata);
	cr_assert_not(r.nxdomain);
	cr_assert_eq(fe_validate_count(&r, LDNS_SECTION_ANSWER, 0), 0);
	cr_assert_geq(fe_validate_count(&r, LDNS_SECTION_AUTHORITY, LDNS_RR_TYPE_NSEC3), 1);
	fe_validate_result_clear(&r);
	/* An empty non-terminal of a member zone (RFC 5155 §7.2.3 too). */
	check(v, "0.0.0.0.1.5.5.5.1.e164.fed.", LDNS_RR_TYPE_NAPTR, FE_VALIDATE_SECURE,
	      LDNS_RCODE_NOERROR, &r);
	cr_assert_not(r.havedata);
	fe_validate_result_clear(&r);
}

Test(ub, entry_point_denials)
{
	v = demo_validator(false);
	struct fe_validate_result r;
	/* ims-a.example. is NSEC-signed (RFC 4035 §3.1.3.2, §3.1.3.1). */
	check(v, "nope.ims-a.example.", LDNS_RR_TYPE_A, FE_VALIDATE_SECURE, LDNS_RCODE_NXDOMAIN,
	      &r);
	cr_assert_geq(fe_validate_count(&r, LDNS_SECTION_AUTHORITY, LDNS_RR_TYPE_NSEC), 1);
	fe_validate_result_clear(&r);
	check(v, "zzz.ims-a.example.", LDNS_RR_TYPE_NAPTR, FE_VALIDATE_SECURE, LDNS_RCODE_NXDOMAIN,
	      &r);
	fe_validate_result_clear(&r);
	check(v, "sbc3.ims-a.example.", LDNS_RR_TYPE_AAAA, FE_VALIDATE_SECURE, LDNS_RCODE_NOERROR,
	      &r);
	cr_assert_not(r.havedata);
	cr_assert_eq(fe_validate_count(&r, LDNS_SECTION_AUTHORITY, LDNS_RR_TYPE_NSEC), 1);
	fe_validate_result_clear(&r);
	/* ims-b.example. is NSEC3-signed. */
	check(v, "nope.ims-b.example.", LDNS_RR_TYPE_A, FE_VALIDATE_SECURE, LDNS_RCODE_NXDOMAIN,
	      &r);
	cr_assert_geq(fe_validate_count(&r, LDNS_SECTION_AUTHORITY, LDNS_RR_TYPE_NSEC3), 2);
	fe_validate_result_clear(&r);
	check(v, "ims-b.example.", LDNS_RR_TYPE_MX, FE_VALIDATE_SECURE, LDNS_RCODE_NOERROR, &r);
	cr_assert_not(r.havedata);
	fe_validate_result_clear(&r);
}

Test(ub, keys_and_delegations)
{
	v = demo_validator(false);
	struct fe_validate_result r;
	check(v, "e164.fed.", LDNS_RR_TYPE_DNSKEY, FE_VALIDATE_SECURE, LDNS_RCODE_NOERROR, &r);
	cr_assert_eq(fe_validate_count(&r, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_DNSKEY), 2);
	fe_validate_result_clear(&r);
	/* The DS of each member comes from the registry (RFC 4035 §3.1.4.1). */
	check(v, "1.5.5.5.1.e164.fed.", LDNS_RR_TYPE_DS, FE_VALIDATE_SECURE, LDNS_RCODE_NOERROR,
	      &r);
	cr_assert(answer_has(&r, LDNS_RR_TYPE_DS, "IN\tDS\t"));
	fe_validate_result_clear(&r);
	check(v, "2.5.5.5.1.e164.fed.", LDNS_RR_TYPE_DS, FE_VALIDATE_SECURE, LDNS_RCODE_NOERROR,
	      &r);
	cr_assert(r.havedata);
	fe_validate_result_clear(&r);
	check(v, "2.5.5.5.1.e164.fed.", LDNS_RR_TYPE_DNSKEY, FE_VALIDATE_SECURE, LDNS_RCODE_NOERROR,
	      &r);
	cr_assert_eq(fe_validate_count(&r, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_DNSKEY), 1);
	fe_validate_result_clear(&r);
}

/* RFC 3263 §4.1, §4.2: NAPTR of the domain, SRV of each replacement, A/AAAA of each target;
 * every step SECURE. Returns the number of secure addresses found. */
static unsigned chase(struct fe_validate *val, const char *domain)
{
	struct fe_validate_result r;
	check(val, domain, LDNS_RR_TYPE_NAPTR, FE_VALIDATE_SECURE, LDNS_RCODE_NOERROR, &r);
	ldns_rr_list *naptr = fe_validate_rrs(&r, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_NAPTR);
	fe_validate_result_clear(&r);
	cr_assert_eq(ldns_rr_list_rr_count(naptr), 3, "%s: 3 NAPTRs", domain);
	unsigned addrs = 0, srvs = 0;
	for (size_t i = 0; i < ldns_rr_list_rr_count(naptr); i++) {
		char *repl = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(naptr, i), 5));
		struct fe_validate_result s;
		check(val, repl, LDNS_RR_TYPE_SRV, FE_VALIDATE_SECURE, LDNS_RCODE_NOERROR, &s);
		ldns_rr_list *srv = fe_validate_rrs(&s, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_SRV);
		fe_validate_result_clear(&s);
		cr_assert_eq(ldns_rr_list_rr_count(srv), 3, "%s: 3 SRVs", repl);
		for (size_t j = 0; j < ldns_rr_list_rr_count(srv); j++) {
			char *target = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(srv, j), 3));
			struct fe_validate_result a;
			check(val, target, LDNS_RR_TYPE_A, FE_VALIDATE_SECURE, LDNS_RCODE_NOERROR,
			      &a);
			cr_assert(a.havedata, "%s has an A", target);
			addrs += (unsigned)fe_validate_count(&a, LDNS_SECTION_ANSWER,
			                                     LDNS_RR_TYPE_A);
			fe_validate_result_clear(&a);
			/* sbc3 has no AAAA: a secure NODATA in the chain. */
			check(val, target, LDNS_RR_TYPE_AAAA, FE_VALIDATE_SECURE,
			      LDNS_RCODE_NOERROR, &a);
			addrs += (unsigned)fe_validate_count(&a, LDNS_SECTION_ANSWER,
			                                     LDNS_RR_TYPE_AAAA);
			fe_validate_result_clear(&a);
			free(target);
			srvs++;
		}
		ldns_rr_list_deep_free(srv);
		free(repl);
	}
	ldns_rr_list_deep_free(naptr);
	cr_assert_eq(srvs, 9);
	return addrs;
}

Test(ub, rfc3263_chain)
{
	v = demo_validator(false);
	/* 3 SRV sets × (sbc1: A+AAAA, sbc2: A+AAAA, sbc3: A only [ims-a]) */
	cr_assert_eq(chase(v, "ims-a.example."), 15);
	/* ims-b: the same shape (docs/federation.md). */
	cr_assert_eq(chase(v, "ims-b.example."), 15);
}

Test(ub, over_tcp)
{
	v = demo_validator(true);
	positive_enum(v);
	struct fe_validate_result r;
	check(v, A_NOSUCH, LDNS_RR_TYPE_NAPTR, FE_VALIDATE_SECURE, LDNS_RCODE_NXDOMAIN, &r);
	fe_validate_result_clear(&r);
	cr_assert_eq(chase(v, "ims-b.example."), chase(v, "ims-b.example."));
}

/* Every number of both members (and the unassigned ones after them), NAPTR and a missing
 * type, names below numbers, the registry's empty non-terminals and missing prefixes, and
 * every entry-point name with a spread of types: all SECURE, with the rcode the demo's
 * contents imply. With @edns512 the validator offers 512 octets, so the signed answers come
 * truncated over UDP and again over TCP (RFC 7766 §5). */
static void sweep(bool edns512)
{
	v = demo_validator(false);
	if (edns512)
		cr_assert_eq(fe_validate_set_option(v, "edns-buffer-size:", "512"), 0);
	unsigned n = 0, nx = 0, nodata = 0, data = 0;
	char name[256];
	struct fe_validate_result r;
	for (int member = 1; member <= 2; member++) {
		for (int i = 1; i <= 320; i++) {
			/* +1555m00iiii → digits reversed under e164.fed. */
			char num[16];
			snprintf(num, sizeof(num), "1555%d%06d", member, i);
			size_t off = 0;
			for (int k = (int)strlen(num) - 1; k >= 0; k--)
				off += (size_t)snprintf(name + off, sizeof(name) - off, "%c.",
				                        num[k]);
			snprintf(name + off, sizeof(name) - off, "e164.fed.");
			int want = i <= 300 ? LDNS_RCODE_NOERROR : LDNS_RCODE_NXDOMAIN;
			check(v, name, LDNS_RR_TYPE_NAPTR, FE_VALIDATE_SECURE, want, &r);
			cr_assert_eq(r.havedata, i <= 300, "%s", name);
			fe_validate_result_clear(&r);
			n++;
			if (i % 7 == 0) {
				check(v, name, LDNS_RR_TYPE_TXT, FE_VALIDATE_SECURE, want, &r);
				cr_assert_not(r.havedata);
				fe_validate_result_clear(&r);
				n++;
			}
			if (i % 50 == 0) {
				char below[300];
				snprintf(below, sizeof(below), "x.%s", name);
				check(v, below, LDNS_RR_TYPE_NAPTR, FE_VALIDATE_SECURE,
				      LDNS_RCODE_NXDOMAIN, &r);
				fe_validate_result_clear(&r);
				n++;
			}
		}
	}
	static const struct {
		const char *name;
		uint16_t type;
		int rcode;
	} more[] = {
	        {"5.5.5.1.e164.fed.", LDNS_RR_TYPE_NAPTR, LDNS_RCODE_NOERROR},
	        {"5.1.e164.fed.", LDNS_RR_TYPE_NAPTR, LDNS_RCODE_NOERROR},
	        {"1.e164.fed.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR},
	        {"3.5.5.5.1.e164.fed.", LDNS_RR_TYPE_NAPTR, LDNS_RCODE_NXDOMAIN},
	        {"2.e164.fed.", LDNS_RR_TYPE_NAPTR, LDNS_RCODE_NXDOMAIN},
	        {"e164.fed.", LDNS_RR_TYPE_SOA, LDNS_RCODE_NOERROR},
	        {"e164.fed.", LDNS_RR_TYPE_NSEC3PARAM, LDNS_RCODE_NOERROR},
	        {"e164.fed.", LDNS_RR_TYPE_NAPTR, LDNS_RCODE_NOERROR},
	        {"ns1.e164.fed.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR},
	        {"1.5.5.5.1.e164.fed.", LDNS_RR_TYPE_NS, LDNS_RCODE_NOERROR},
	        {"2.5.5.5.1.e164.fed.", LDNS_RR_TYPE_SOA, LDNS_RCODE_NOERROR},
	        {"ns1.1.5.5.5.1.e164.fed.", LDNS_RR_TYPE_AAAA, LDNS_RCODE_NOERROR},
	};
	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
		check(v, more[i].name, more[i].type, FE_VALIDATE_SECURE, more[i].rcode, &r);
		fe_validate_result_clear(&r);
		n++;
	}
	static const char *const ep[] = {"",      "_sips._tcp.", "_sip._tcp.", "_sip._udp.",
	                                 "_tcp.", "sbc1.",       "sbc2.",      "sbc3.",
	                                 "ns1.",  "ns2.",        "nope.",      "a.sbc1."};
	static const uint16_t types[] = {LDNS_RR_TYPE_A,      LDNS_RR_TYPE_AAAA, LDNS_RR_TYPE_SRV,
	                                 LDNS_RR_TYPE_NAPTR,  LDNS_RR_TYPE_NS,   LDNS_RR_TYPE_SOA,
	                                 LDNS_RR_TYPE_DNSKEY, LDNS_RR_TYPE_TXT,  LDNS_RR_TYPE_MX};
	for (int dom = 0; dom < 2; dom++) {
		for (size_t i = 0; i < sizeof(ep) / sizeof(ep[0]); i++) {
			for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
				snprintf(name, sizeof(name), "%sims-%c.example.", ep[i],
				         dom ? 'b' : 'a');
				cr_assert_eq(fe_validate_lookup(v, name, types[t], &r), 0);
				char *ts = ldns_rr_type2str((ldns_rr_type)types[t]);
				cr_assert_eq(r.status, FE_VALIDATE_SECURE, "%s %s: %s (%s)", name,
				             ts, fe_validate_status_str(r.status), r.why_bogus);
				free(ts);
				nx += r.nxdomain;
				data += r.havedata;
				nodata += !r.nxdomain && !r.havedata;
				fe_validate_result_clear(&r);
				n++;
			}
		}
	}
	/* nope. and a.sbc1. are NXDOMAIN for every type in both domains. */
	cr_assert_eq(nx, 2 * 2 * 9, "%u", nx);
	cr_assert_gt(data, 30);
	cr_assert_gt(nodata, 100);
	cr_assert_gt(n, 900);
}

Test(ub, sweep_demo_federation)
{
	sweep(false);
}

Test(ub, sweep_truncated_then_tcp)
{
	sweep(true);
	/* The path was taken: answers truncated over UDP, asked again over TCP. */
	long long tc = nc_counter(&d, "truncated"), tcp = nc_counter(&d, "tcp");
	cr_assert_gt(tc, 50, "%lld answers truncated", tc);
	cr_assert_geq(tcp, tc, "%lld truncated, %lld over TCP", tc, tcp);
}

/* Negative controls: the validator can say no. */
Test(ub, wrong_anchor_is_bogus)
{
	char ds[1024], key[1024];
	cr_assert_eq(fe_validate_fresh_ds("e164.fed.", ds, sizeof(ds), key, sizeof(key)), 0);
	v = fe_validate_create(d.host, d.port, false);
	cr_assert_eq(fe_validate_add_ta(v, ds), 0, "%s", ds);
	struct fe_validate_result r;
	cr_assert_eq(fe_validate_lookup(v, B_NUMBER, LDNS_RR_TYPE_NAPTR, &r), 0);
	cr_assert_eq(r.status, FE_VALIDATE_BOGUS);
	cr_assert_neq(r.why_bogus[0], '\0');
	fe_validate_result_clear(&r);
	cr_assert_eq(fe_validate_lookup(v, A_NOSUCH, LDNS_RR_TYPE_NAPTR, &r), 0);
	cr_assert_eq(r.status, FE_VALIDATE_BOGUS, "NXDOMAIN under a wrong anchor: %s",
	             fe_validate_status_str(r.status));
	fe_validate_result_clear(&r);
	fe_validate_destroy(v);

	/* The fresh key itself as a DNSKEY anchor: bogus as well. */
	v = fe_validate_create(d.host, d.port, false);
	cr_assert_eq(fe_validate_add_ta(v, key), 0, "%s", key);
	cr_assert_eq(fe_validate_lookup(v, A_NUMBER, LDNS_RR_TYPE_NAPTR, &r), 0);
	cr_assert_eq(r.status, FE_VALIDATE_BOGUS);
	fe_validate_result_clear(&r);
	fe_validate_destroy(v);

	/* A wrong anchor for the entry-point domain, the right one for the ENUM tree: only the
	 * entry point is bogus. */
	cr_assert_eq(fe_validate_fresh_ds("ims-a.example.", ds, sizeof(ds), NULL, 0), 0);
	v = fe_validate_create(d.host, d.port, false);
	cr_assert_eq(fe_validate_add_ta(v, ds), 0);
	cr_assert_eq(fe_validate_add_ta_file(v, KEYS "/e164.fed.ds"), 1);
	cr_assert_eq(fe_validate_lookup(v, "ims-a.example.", LDNS_RR_TYPE_NAPTR, &r), 0);
	cr_assert_eq(r.status, FE_VALIDATE_BOGUS);
	fe_validate_result_clear(&r);
	check(v, A_NUMBER, LDNS_RR_TYPE_NAPTR, FE_VALIDATE_SECURE, LDNS_RCODE_NOERROR, &r);
	fe_validate_result_clear(&r);
}

/* An answer altered on the way (carrier-b's number rerouted to carrier-a's network) fails
 * its RRSIG (RFC 4035 §5.3): BOGUS, while untouched answers through the same relay stay
 * SECURE. */
Test(ub, tampered_answer_is_bogus)
{
	cr_assert_eq(fe_validate_tamper_start(&relay, d.host, d.port, "@ims-b.", "@ims-a.", 7), 0);
	v = fe_validate_create("127.0.0.1", relay.port, false);
	cr_assert_not_null(v);
	cr_assert_eq(fe_validate_add_demo_anchors(v), 0);
	struct fe_validate_result r;
	check(v, A_NUMBER, LDNS_RR_TYPE_NAPTR, FE_VALIDATE_SECURE, LDNS_RCODE_NOERROR, &r);
	fe_validate_result_clear(&r);
	cr_assert_eq(fe_validate_lookup(v, B_NUMBER, LDNS_RR_TYPE_NAPTR, &r), 0);
	cr_assert_eq(r.status, FE_VALIDATE_BOGUS, "%s", fe_validate_status_str(r.status));
	cr_assert_not_null(strstr(r.why_bogus, "signature"), "%s", r.why_bogus);
	fe_validate_result_clear(&r);
}

Test(ub, outside_anchors_not_secure)
{
	v = fe_validate_create(d.host, d.port, false);
	cr_assert_eq(fe_validate_add_ta_file(v, KEYS "/e164.fed.ds"), 1);
	struct fe_validate_result r;
	cr_assert_eq(fe_validate_lookup(v, "ims-a.example.", LDNS_RR_TYPE_NAPTR, &r), 0);
	cr_assert_eq(r.status, FE_VALIDATE_INSECURE, "%s", fe_validate_status_str(r.status));
	cr_assert(r.havedata);
	fe_validate_result_clear(&r);
	/* fedenumd REFUSEs names outside its zones; nothing is asked elsewhere. */
	cr_assert_eq(fe_validate_lookup(v, "www.example.com.", LDNS_RR_TYPE_A, &r), 0);
	cr_assert_neq(r.status, FE_VALIDATE_SECURE);
	cr_assert_not(r.havedata);
	fe_validate_result_clear(&r);
}

/* fedenumctl query, end to end. */
static int ctl(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int ctl(char *out, size_t cap, const char *fmt, ...)
{
	if (!tmp[0])
		fe_test_mkdtemp(tmp, sizeof(tmp));
	char args[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	return nc_ctl(tmp, args, out, cap);
}

Test(ub, fedenumctl_query_validate)
{
	char out[32768];
	int st = ctl(out, sizeof(out), "query --server %s@%u --validate --federation '%s' %s NAPTR",
	             d.host, d.port, FEDDEF, B_NUMBER);
	cr_assert_eq(st, 0, "%s", out);
	cr_assert_not_null(strstr(out, "sip:+15552000001@ims-b.example"), "%s", out);
	cr_assert_not_null(strstr(out, "validation: secure"), "%s", out);
	cr_assert_not_null(strstr(out, "rcode: NOERROR"), "%s", out);

	st = ctl(out, sizeof(out),
	         "query --server %s@%u --tcp --validate --trust-anchor '%s/e164.fed.ds' %s", d.host,
	         d.port, KEYS, A_NOSUCH);
	cr_assert_eq(st, 0, "%s", out);
	cr_assert_not_null(strstr(out, "rcode: NXDOMAIN"), "%s", out);
	cr_assert_not_null(strstr(out, "NSEC3"), "the proof is printed: %s", out);
	cr_assert_not_null(strstr(out, "validation: secure"), "%s", out);

	/* A DNSKEY file as ldns-keygen writes it is an anchor too. */
	st = ctl(out, sizeof(out),
	         "query --server %s@%u --validate --trust-anchor "
	         "'%s/e164.fed/Ke164.fed.+013+10457.key' %s A",
	         d.host, d.port, KEYS, A_NUMBER);
	cr_assert_eq(st, 0, "%s", out);
	cr_assert_not_null(strstr(out, "validation: secure"), "%s", out);

	/* Wrong anchor: bogus, exit 1, with libunbound's reason. */
	char ds[1024], path[512];
	cr_assert_eq(fe_validate_fresh_ds("e164.fed.", ds, sizeof(ds), NULL, 0), 0);
	snprintf(path, sizeof(path), "%s/wrong.ds", tmp);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "%s\n", ds);
	fclose(f);
	st = ctl(out, sizeof(out), "query --server %s@%u --validate --trust-anchor '%s' %s NAPTR",
	         d.host, d.port, path, B_NUMBER);
	cr_assert_eq(st, 1, "%s", out);
	cr_assert_not_null(strstr(out, "validation: bogus"), "%s", out);
	cr_assert_not_null(strstr(out, "e164.fed."), "%s", out);

	/* Outside the anchors: insecure, exit 1. */
	st = ctl(out, sizeof(out),
	         "query --server %s@%u --validate --trust-anchor '%s/e164.fed.ds' ims-a.example. "
	         "NAPTR",
	         d.host, d.port, KEYS);
	cr_assert_eq(st, 1, "%s", out);
	cr_assert_not_null(strstr(out, "validation: insecure"), "%s", out);

	/* Without --validate: the server's answer as it is. */
	st = ctl(out, sizeof(out), "query --server %s@%u %s", d.host, d.port, A_NUMBER);
	cr_assert_eq(st, 0, "%s", out);
	cr_assert_not_null(strstr(out, "sip:+15551000001@ims-a.example"), "%s", out);
	cr_assert_not_null(strstr(out, "RRSIG"), "%s", out);
	cr_assert_null(strstr(out, "validation:"), "%s", out);
}

Test(ub, fedenumctl_rfc3263_and_errors)
{
	char out[65536];
	int st = ctl(out, sizeof(out),
	             "query --server %s@%u --validate --federation '%s' "
	             "--rfc3263 ims-a.example.",
	             d.host, d.port, FEDDEF);
	cr_assert_eq(st, 0, "%s", out);
	cr_assert_not_null(strstr(out, "SIPS+D2T"), "%s", out);
	cr_assert_not_null(strstr(out, "_sips._tcp.ims-a.example."), "%s", out);
	cr_assert_not_null(strstr(out, "5061 sbc1.ims-a.example."), "%s", out);
	cr_assert_not_null(strstr(out, "192.0.2.11"), "%s", out);
	cr_assert_not_null(strstr(out, "2001:db8:a::11"), "%s", out);
	cr_assert_null(strstr(out, "bogus"), "%s", out);
	cr_assert_null(strstr(out, "insecure"), "%s", out);

	/* No NAPTR: SRV per transport, then the domain's addresses (RFC 3263 §4.1, §4.2); all
	 * secure denials, no address: 3. */
	st = ctl(out, sizeof(out),
	         "query --server %s@%u --validate --federation '%s' --rfc3263 nope.ims-a.example.",
	         d.host, d.port, FEDDEF);
	cr_assert_eq(st, 3, "%s", out);
	cr_assert_not_null(strstr(out, "SRV _sip._udp.nope.ims-a.example. [NXDOMAIN, secure]"),
	                   "%s", out);
	cr_assert_not_null(strstr(out, "0 addresses"), "%s", out);

	/* The chain with the ENUM anchor only: the entry point is not secure. */
	st = ctl(out, sizeof(out),
	         "query --server %s@%u --validate --trust-anchor '%s/e164.fed.ds' --rfc3263 "
	         "ims-b.example.",
	         d.host, d.port, KEYS);
	cr_assert_eq(st, 1, "%s", out);
	cr_assert_not_null(strstr(out, "insecure"), "%s", out);

	/* Usage errors: 2. */
	cr_assert_eq(ctl(out, sizeof(out), "query"), 2, "%s", out);
	cr_assert_eq(ctl(out, sizeof(out), "query --validate %s", A_NUMBER), 2,
	             "--validate without anchors: %s", out);
	cr_assert_eq(ctl(out, sizeof(out), "query %s NOSUCHTYPE", A_NUMBER), 2, "%s", out);
	cr_assert_eq(ctl(out, sizeof(out), "query --server 127.0.0.1@99999 %s", A_NUMBER), 2, "%s",
	             out);
	cr_assert_eq(
	        ctl(out, sizeof(out), "query --validate --trust-anchor /nonexistent %s", A_NUMBER),
	        2, "%s", out);
	cr_assert_eq(
	        ctl(out, sizeof(out), "query --validate --trust-anchor '%s' %s", FEDDEF, A_NUMBER),
	        2, "not an anchor file: %s", out);

	/* No server there: 3, quickly. */
	uint16_t port = d.port;
	cr_assert_eq(fe_test_daemon_stop(&d), 0);
	st = ctl(out, sizeof(out), "query --server 127.0.0.1@%u --validate --federation '%s' %s",
	         port, FEDDEF, A_NUMBER);
	cr_assert_eq(st, 3, "%s", out);
}
