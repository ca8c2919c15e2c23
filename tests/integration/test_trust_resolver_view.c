/* Issue #12: under federation trust, what fedenumd answers with AD=1 is what a validating
 * resolver (delv through Knot DNS, same anchor) would give an S-CSCF:
 *  1. data below a DNAME: the zone is refused at load (Knot: "child record exists under
 *     DNAME"), with the reason kept as the zone's rejection reason;
 *  2. a legitimate DNAME: the DNAME (signed), the synthesized CNAME (TTL of the DNAME, no
 *     RRSIG) and the chase into the target zone, with the target zone's denial proofs;
 *     YXDOMAIN when the substituted name would exceed 255 octets;
 *  3. a TTL raised above the RRSIG's original TTL after signing: served with the original TTL;
 *  4. a TTL longer than the signatures live: cut to the time left (fake clock);
 *  5. glue below a cut to a sub-zone held here: the additional section takes the sub-zone's
 *     validated address, never the parent's occluded glue.
 * In-process: fe_answer over a store filled through the chain of trust (like
 * test_trust_answer.c). The zones are written and signed here at run time with the test-only
 * keys of tests/integration/data/trust/keys (ldns-signzone), plus one key made for the run. */
#include <criterion/criterion.h>

#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fe_test.h"
#include "fedenum/server.h"
#include "fedenum/store.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "fedenum/trust.h"
#include "fedenum/zone.h"

#define TD         FE_SOURCE_DIR "/tests/integration/data/trust"
#define ZONE_A     "1.5.5.5.1.e164.test."
#define ZONE_B     "2.5.5.5.1.e164.test."
#define ZONE_SUB   "sub." ZONE_A
#define NUM_A      "1.0.0.0.0.0." ZONE_A
#define T2036      2082758400LL
#define INCEPTION  "20260101000000"
#define EXPIRATION "20360101000000"

static char dir[256];
static struct fe_store *st;
static struct fe_store_reader *rd;
static struct fe_trust_anchors *anchors;
static struct fe_trust_opts topts;
static struct fe_answer_opts aopts;
static uint64_t cnt[FE_CNT__MAX];
static uint8_t resp[65535];

static void setup(void)
{
	fe_log_set_level(FE_LOG_ERR);
	fe_test_mkdtemp(dir, sizeof(dir));
	struct fe_store_opts so = {.map_size_bytes = 64u << 20, .no_sync = true};
	cr_assert_eq(fe_store_open(dir, &so, &st), FE_OK);
	cr_assert_eq(fe_trust_anchors_create(&anchors), FE_OK);
	struct fe_zone_error e;
	cr_assert_eq(fe_trust_anchors_add_file(anchors, TD "/e164.test.ds", NULL, &e), FE_OK);
	topts.anchors = anchors;
	fe_dnssec_opts_init(&topts.validate);
	topts.validate.threads = 2;
	memset(&aopts, 0, sizeof(aopts));
	aopts.require_validated = true;
	cr_assert_eq(fe_store_reader_create(st, &rd), FE_OK);
}

static void teardown(void)
{
	fe_time_set_fake_wall_s(0);
	fe_store_reader_destroy(rd);
	fe_store_close(st);
	fe_trust_anchors_destroy(anchors);
	fe_test_rmdir(dir);
}

TestSuite(resolver_view, .init = setup, .fini = teardown, .timeout = 120);

/* ---- fixtures ------------------------------------------------------------------------- */

/* Write @text as <dir>/@name.zone and sign it for @origin with the key files @key (a path
 * without .key/.private) into <dir>/@name.signed. */
static void sign(const char *name, const char *origin, const char *key, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.zone", dir, name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	cr_assert_eq(fe_test_sh("cd '%s' && ldns-signzone -n -a 1 -t 0 -i %s -e %s -o %s -f "
	                        "%s.signed %s.zone '%s' >/dev/null",
	                        dir, INCEPTION, EXPIRATION, origin, name, name, key),
	             0, "signing %s", name);
}

/* A member zone head: SOA serial @serial, one NS with its address. */
static int head(char *buf, size_t cap, const char *origin, unsigned serial)
{
	return snprintf(buf, cap,
	                "$ORIGIN %s\n$TTL 3600\n"
	                "@ SOA ns1 hostmaster %u 7200 900 1209600 300\n"
	                "@ NS ns1\nns1 A 192.0.2.101\n",
	                origin, serial);
}

static int load_path(const char *path, struct fe_zone_error *e)
{
	struct fe_trust_result res;
	return fe_trust_load(NULL, path, NULL, &topts, st, &res, e);
}

static void load_fixture(const char *name)
{
	char path[512];
	struct fe_zone_error e;
	snprintf(path, sizeof(path), "%s/%s.signed", TD, name);
	cr_assert_eq(load_path(path, &e), FE_OK, "%s: %s", name, e.reason);
}

static void load_signed(const char *name)
{
	char path[512];
	struct fe_zone_error e;
	snprintf(path, sizeof(path), "%s/%s.signed", dir, name);
	cr_assert_eq(load_path(path, &e), FE_OK, "%s: %s", name, e.reason);
}

static void sweep(void)
{
	cr_assert_eq(fe_trust_sweep(st, anchors, 0, NULL), FE_OK);
}

/* ---- queries -------------------------------------------------------------------------- */

/* The answer to @name/@type with DO=1 (TCP, no size limit), parsed. */
static ldns_pkt *ask(const char *name, uint16_t type)
{
	ldns_rdf *qn = ldns_dname_new_frm_str(name);
	cr_assert_not_null(qn);
	ldns_pkt *q = ldns_pkt_query_new(qn, (ldns_rr_type)type, LDNS_RR_CLASS_IN, LDNS_RD);
	cr_assert_not_null(q);
	ldns_pkt_set_id(q, 0x1212);
	ldns_pkt_set_edns_udp_size(q, 1232);
	ldns_pkt_set_edns_do(q, true);
	uint8_t *w = NULL;
	size_t wl = 0;
	cr_assert_eq(ldns_pkt2wire(&w, q, &wl), LDNS_STATUS_OK);
	ldns_pkt_free(q);

	struct fe_answer_ctx ctx = {.reader = rd, .opts = &aopts, .counters = cnt};
	cr_assert_eq(fe_store_reader_begin(rd), FE_OK);
	size_t len = fe_answer(&ctx, w, wl, FE_TRANSPORT_TCP, resp, sizeof(resp));
	fe_store_reader_end(rd);
	free(w);
	cr_assert_gt(len, 12);
	ldns_pkt *p = NULL;
	cr_assert_eq(ldns_wire2pkt(&p, resp, len), LDNS_STATUS_OK);
	return p;
}

/* The @nth RR of @type (RRSIG: covering @covered) owned by @owner (NULL: any) in @l. */
static ldns_rr *find_rr(ldns_rr_list *l, const char *owner, ldns_rr_type type, ldns_rr_type covered,
                        size_t nth)
{
	ldns_rdf *o = owner ? ldns_dname_new_frm_str(owner) : NULL;
	ldns_rr *hit = NULL;
	for (size_t i = 0; l && i < ldns_rr_list_rr_count(l) && !hit; i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);
		if (ldns_rr_get_type(rr) != type)
			continue;
		if (type == LDNS_RR_TYPE_RRSIG &&
		    ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(rr)) != covered)
			continue;
		if (o && ldns_dname_compare(ldns_rr_owner(rr), o) != 0)
			continue;
		if (nth-- == 0)
			hit = rr;
	}
	ldns_rdf_deep_free(o);
	return hit;
}

static size_t count_type(ldns_rr_list *l, ldns_rr_type type)
{
	size_t n = 0;
	for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++)
		n += ldns_rr_get_type(ldns_rr_list_rr(l, i)) == type;
	return n;
}

/* Does the presentation form of any RR of @l contain @needle? */
static bool list_has(ldns_rr_list *l, const char *needle)
{
	bool hit = false;
	for (size_t i = 0; l && i < ldns_rr_list_rr_count(l) && !hit; i++) {
		char *s = ldns_rr2str(ldns_rr_list_rr(l, i));
		hit = s && strstr(s, needle) != NULL;
		free(s);
	}
	return hit;
}

static void federation(void)
{
	load_fixture("registry-v1");
	load_fixture("a-v1");
	load_fixture("b-v1");
	sweep();
}

/* ---- 1. data below a DNAME ------------------------------------------------------------ */

Test(resolver_view, data_below_dname_rejected)
{
	/* Signed, and in the NSEC3 chain: every signature verifies (see the script). */
	cr_assert_eq(fe_test_sh("'%s/make-dname-child.sh' '%s'", TD, dir), 0);
	char child[256] = "", path[512];
	snprintf(path, sizeof(path), "%s/b-dname-child.name", dir);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(child, sizeof(child), f));
	fclose(f);
	child[strcspn(child, "\n")] = '\0';

	load_fixture("registry-v1");
	load_fixture("a-v1");
	sweep();
	struct fe_zone_error e;
	snprintf(path, sizeof(path), "%s/b-dname-child.signed", dir);
	int rc = load_path(path, &e);
	cr_assert_eq(rc, FE_EVALIDATE, "zone with data below a DNAME accepted (%d)", rc);
	cr_assert_not_null(strstr(e.reason, "under DNAME"), "reason: %s", e.reason);
	cr_assert_not_null(strstr(e.reason, child), "reason: %s", e.reason);

	/* Kept as the zone's rejection reason, as for other validation failures. */
	struct fe_trust_zstate zs;
	ldns_rdf *apex = ldns_dname_new_frm_str(ZONE_B);
	cr_assert_eq(fe_trust_zstate_get(st, ldns_rdf_data(apex), ldns_rdf_size(apex), &zs), FE_OK);
	ldns_rdf_deep_free(apex);
	cr_assert_eq(zs.state, FE_TRUST_REJECTED);
	cr_assert_not_null(strstr(zs.reason, "under DNAME"), "zstate reason: %s", zs.reason);

	/* Nothing from that zone is served, with AD or without. */
	ldns_pkt *p = ask(child, LDNS_RR_TYPE_NAPTR);
	cr_assert_not(list_has(ldns_pkt_answer(p), "hidden"), "occluded NAPTR served");
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
	cr_assert_not(ldns_pkt_ad(p));
	ldns_pkt_free(p);

	/* Without trust too (fe_zone_load_file), like Knot DNS. */
	rc = fe_zone_load_file(path, NULL, st, &e);
	cr_assert_eq(rc, FE_EVALIDATE);
	cr_assert_not_null(strstr(e.reason, "under DNAME"), "reason: %s", e.reason);
}

/* ---- 2. a legitimate DNAME ------------------------------------------------------------ */

/* B redirects +15552 00000x to A's +15551 00000x; 9.9 redirects to a long name outside. */
static void dname_federation(void)
{
	char z[2048];
	int n = head(z, sizeof(z), ZONE_B, 21);
	snprintf(z + n, sizeof(z) - (size_t)n,
	         "0.0.0.0.0 DNAME 0.0.0.0.0." ZONE_A "\n"
	         "1.0.0.0.0.1 NAPTR 10 100 \"u\" \"E2U+sip\" \"!^.*$!sip:b@ims.example!\" .\n"
	         "9.9 DNAME %s.%s.%s.example.\n",
	         "a123456789012345678901234567890123456789012345678901234567890",
	         "b123456789012345678901234567890123456789012345678901234567890",
	         "c123456789012345678901234567890123456789012345678901234567890");
	sign("b-dname", ZONE_B, TD "/keys/b", z);
	load_fixture("registry-v1");
	load_fixture("a-v1");
	load_signed("b-dname");
	sweep();
}

Test(resolver_view, dname_synthesized_and_chased)
{
	dname_federation();
	const char *q = "3.0.0.0.0.0." ZONE_B;
	ldns_pkt *p = ask(q, LDNS_RR_TYPE_NAPTR);
	ldns_rr_list *an = ldns_pkt_answer(p);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR, "rcode %d", ldns_pkt_get_rcode(p));
	cr_assert(ldns_pkt_ad(p));
	ldns_rr *dn = find_rr(an, "0.0.0.0.0." ZONE_B, LDNS_RR_TYPE_DNAME, 0, 0);
	cr_assert_not_null(dn, "no DNAME in the answer");
	cr_assert_not_null(
	        find_rr(an, "0.0.0.0.0." ZONE_B, LDNS_RR_TYPE_RRSIG, LDNS_RR_TYPE_DNAME, 0),
	        "DNAME without its RRSIG");
	ldns_rr *cn = find_rr(an, q, LDNS_RR_TYPE_CNAME, 0, 0);
	cr_assert_not_null(cn, "no synthesized CNAME");
	char *target = ldns_rdf2str(ldns_rr_rdf(cn, 0));
	cr_assert_str_eq(target, "3.0.0.0.0.0." ZONE_A);
	free(target);
	cr_assert_eq(ldns_rr_ttl(cn), ldns_rr_ttl(dn), "CNAME TTL %u, DNAME TTL %u",
	             ldns_rr_ttl(cn), ldns_rr_ttl(dn));
	cr_assert_null(find_rr(an, NULL, LDNS_RR_TYPE_RRSIG, LDNS_RR_TYPE_CNAME, 0),
	               "the synthesized CNAME is never signed");
	cr_assert_not_null(find_rr(an, "3.0.0.0.0.0." ZONE_A, LDNS_RR_TYPE_NAPTR, 0, 0));
	cr_assert_not_null(
	        find_rr(an, "3.0.0.0.0.0." ZONE_A, LDNS_RR_TYPE_RRSIG, LDNS_RR_TYPE_NAPTR, 0));
	cr_assert(list_has(an, "sip:a-v1-3@"));
	cr_assert_eq(count_type(ldns_pkt_authority(p), LDNS_RR_TYPE_NSEC3), 0);
	ldns_pkt_free(p);

	/* The DNAME owner itself is an ordinary node. */
	p = ask("0.0.0.0.0." ZONE_B, LDNS_RR_TYPE_DNAME);
	cr_assert_eq(ldns_rr_list_rr_count(ldns_pkt_answer(p)), 2);
	cr_assert_null(find_rr(ldns_pkt_answer(p), NULL, LDNS_RR_TYPE_CNAME, 0, 0));
	ldns_pkt_free(p);

	/* Outside the DNAME, B answers for itself. */
	p = ask("1.0.0.0.0.1." ZONE_B, LDNS_RR_TYPE_NAPTR);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert(list_has(ldns_pkt_answer(p), "sip:b@"));
	ldns_pkt_free(p);
}

Test(resolver_view, dname_to_missing_number_proved_in_target)
{
	dname_federation();
	ldns_pkt *p = ask("7.0.0.0.0.0." ZONE_B, LDNS_RR_TYPE_NAPTR);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	cr_assert(ldns_pkt_ad(p));
	ldns_rr_list *an = ldns_pkt_answer(p), *au = ldns_pkt_authority(p);
	cr_assert_not_null(find_rr(an, NULL, LDNS_RR_TYPE_DNAME, 0, 0));
	cr_assert_not_null(find_rr(an, "7.0.0.0.0.0." ZONE_B, LDNS_RR_TYPE_CNAME, 0, 0));
	/* The denial is A's (the target zone): its SOA and NSEC3s, none of B's. */
	cr_assert_not_null(find_rr(au, ZONE_A, LDNS_RR_TYPE_SOA, 0, 0));
	cr_assert_geq(count_type(au, LDNS_RR_TYPE_NSEC3), 2);
	ldns_rdf *za = ldns_dname_new_frm_str(ZONE_A);
	for (size_t i = 0; i < ldns_rr_list_rr_count(au); i++) {
		ldns_rr *rr = ldns_rr_list_rr(au, i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_NSEC3)
			cr_assert(ldns_dname_is_subdomain(ldns_rr_owner(rr), za),
			          "NSEC3 outside the target zone");
	}
	ldns_rdf_deep_free(za);
	ldns_pkt_free(p);
}

Test(resolver_view, dname_overflow_yxdomain)
{
	dname_federation();
	/* 60 + 4 octets of prefix + 191 of target: 255 fits, 2 more labels do not. */
	char q[512];
	snprintf(q, sizeof(q), "%s.%s.9.9." ZONE_B,
	         "x12345678901234567890123456789012345678901234567890123456789",
	         "y12345678901234567890123456789012345678901234567890123456789");
	ldns_pkt *p = ask(q, LDNS_RR_TYPE_NAPTR);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_YXDOMAIN, "rcode %d", ldns_pkt_get_rcode(p));
	cr_assert_not_null(find_rr(ldns_pkt_answer(p), NULL, LDNS_RR_TYPE_DNAME, 0, 0));
	cr_assert_null(find_rr(ldns_pkt_answer(p), NULL, LDNS_RR_TYPE_CNAME, 0, 0));
	ldns_pkt_free(p);
	/* One short label: the CNAME is synthesized and the chain leaves the held zones. */
	p = ask("x.9.9." ZONE_B, LDNS_RR_TYPE_NAPTR);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_not_null(find_rr(ldns_pkt_answer(p), NULL, LDNS_RR_TYPE_CNAME, 0, 0));
	ldns_pkt_free(p);
}

/* ---- 3. TTL above the RRSIG's original TTL -------------------------------------------- */

Test(resolver_view, ttl_capped_at_original_ttl)
{
	/* a-v1 with the NAPTR TTL at 1.0.0.0.0.0 raised from 3600 to 86400 after signing: no
	 * key needed, every signature still verifies (the RRSIG keeps the original TTL). */
	cr_assert_eq(fe_test_sh("awk '$1 == \"" NUM_A "\" && $4 == \"NAPTR\" { $2 = 86400 } "
	                        "{ print }' '%s/a-v1.signed' >'%s/a-raised.signed' && "
	                        "grep -q '^" NUM_A " 86400 IN NAPTR' '%s/a-raised.signed'",
	                        TD, dir, dir),
	             0);
	load_fixture("registry-v1");
	load_signed("a-raised");
	sweep();
	ldns_pkt *p = ask(NUM_A, LDNS_RR_TYPE_NAPTR);
	cr_assert(ldns_pkt_ad(p));
	ldns_rr *rr = find_rr(ldns_pkt_answer(p), NUM_A, LDNS_RR_TYPE_NAPTR, 0, 0);
	ldns_rr *sig =
	        find_rr(ldns_pkt_answer(p), NUM_A, LDNS_RR_TYPE_RRSIG, LDNS_RR_TYPE_NAPTR, 0);
	cr_assert_not_null(rr);
	cr_assert_not_null(sig);
	cr_assert_eq(ldns_rr_ttl(rr), 3600, "NAPTR TTL %u, RRSIG original TTL 3600",
	             ldns_rr_ttl(rr));
	cr_assert_eq(ldns_rr_ttl(sig), 3600);
	ldns_pkt_free(p);
}

/* ---- 4. TTL longer than the signatures live -------------------------------------------- */

Test(resolver_view, ttl_capped_at_signature_expiry)
{
	federation();
	fe_time_set_fake_wall_s(T2036 - 120); /* every fixture signature expires at T2036 */
	ldns_pkt *p = ask(NUM_A, LDNS_RR_TYPE_NAPTR);
	cr_assert(ldns_pkt_ad(p));
	ldns_rr_list *an = ldns_pkt_answer(p);
	cr_assert_eq(ldns_rr_list_rr_count(an), 2);
	for (size_t i = 0; i < 2; i++)
		cr_assert_eq(ldns_rr_ttl(ldns_rr_list_rr(an, i)), 120, "TTL %u with 120 s left",
		             ldns_rr_ttl(ldns_rr_list_rr(an, i)));
	ldns_pkt_free(p);
	/* Negative answers: min(SOA TTL, MINIMUM) = 300, then the time left. */
	fe_time_set_fake_wall_s(T2036 - 100);
	p = ask("9.0.0.0.0.0." ZONE_A, LDNS_RR_TYPE_NAPTR);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ldns_rr_list *au = ldns_pkt_authority(p);
	cr_assert_geq(ldns_rr_list_rr_count(au), 4);
	for (size_t i = 0; i < ldns_rr_list_rr_count(au); i++)
		cr_assert_eq(ldns_rr_ttl(ldns_rr_list_rr(au, i)), 100, "authority TTL %u",
		             ldns_rr_ttl(ldns_rr_list_rr(au, i)));
	ldns_pkt_free(p);
	/* Long before expiry: the TTLs as signed. */
	fe_time_set_fake_wall_s(T2036 - 86400);
	p = ask(NUM_A, LDNS_RR_TYPE_NAPTR);
	cr_assert_eq(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), 0)), 3600);
	ldns_pkt_free(p);
	p = ask("9.0.0.0.0.0." ZONE_A, LDNS_RR_TYPE_NAPTR);
	au = ldns_pkt_authority(p);
	for (size_t i = 0; i < ldns_rr_list_rr_count(au); i++)
		cr_assert_eq(ldns_rr_ttl(ldns_rr_list_rr(au, i)), 300);
	ldns_pkt_free(p);
}

/* ---- 5. glue below a cut to a sub-zone held here --------------------------------------- */

/* A (serial 30) delegates sub.<A> with a DS for a key made for this run, keeps an occluded
 * A record for sbc.sub.<A> (192.0.2.66) below the cut, and an SRV pointing at it; the
 * sub-zone holds the signed sbc A 192.0.2.77. @with_sub: load the sub-zone too. */
static void glue_federation(bool with_sub)
{
	char ds[512] = "";
	cr_assert_eq(fe_test_sh("cd '%s' && ldns-keygen -a ECDSAP256SHA256 -k %s >keyname && "
	                        "ldns-key2ds -n -2 \"$(cat keyname).key\" >sub.ds",
	                        dir, ZONE_SUB),
	             0);
	char path[512];
	snprintf(path, sizeof(path), "%s/sub.ds", dir);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(ds, sizeof(ds), f));
	fclose(f);

	char z[4096];
	int n = head(z, sizeof(z), ZONE_A, 30);
	snprintf(z + n, sizeof(z) - (size_t)n,
	         "1.0.0.0.0.0 NAPTR 10 100 \"s\" \"SIP+D2U\" \"\" _sip._udp.ims\n"
	         "_sip._udp.ims SRV 10 50 5060 sbc.sub\n"
	         "sub NS ns1.sub\n"
	         "%s\n"
	         "ns1.sub A 192.0.2.201\n"
	         "sbc.sub A 192.0.2.66\n",
	         ds);
	sign("a-glue", ZONE_A, TD "/keys/a", z);
	char s[1024];
	snprintf(s, sizeof(s),
	         "$ORIGIN " ZONE_SUB "\n$TTL 3600\n"
	         "@ SOA ns1 hostmaster 1 7200 900 1209600 300\n"
	         "@ NS ns1\nns1 A 192.0.2.201\nsbc A 192.0.2.77\n");
	char key[512];
	snprintf(path, sizeof(path), "%s/keyname", dir);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	char kn[256] = "";
	cr_assert_not_null(fgets(kn, sizeof(kn), f));
	fclose(f);
	kn[strcspn(kn, "\n")] = '\0';
	snprintf(key, sizeof(key), "%s/%s", dir, kn);
	sign("sub", ZONE_SUB, key, s);

	load_fixture("registry-v1");
	load_signed("a-glue");
	if (with_sub)
		load_signed("sub");
	sweep();
}

Test(resolver_view, additional_from_held_subzone_not_glue)
{
	glue_federation(true);
	ldns_pkt *p = ask("_sip._udp.ims." ZONE_A, LDNS_RR_TYPE_SRV);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert(ldns_pkt_ad(p));
	ldns_rr_list *ad = ldns_pkt_additional(p);
	cr_assert_not(list_has(ad, "192.0.2.66"), "occluded glue in the additional section");
	ldns_rr *a = find_rr(ad, "sbc." ZONE_SUB, LDNS_RR_TYPE_A, 0, 0);
	cr_assert_not_null(a, "no address from the held sub-zone");
	cr_assert(list_has(ad, "192.0.2.77"));
	cr_assert_not_null(find_rr(ad, "sbc." ZONE_SUB, LDNS_RR_TYPE_RRSIG, LDNS_RR_TYPE_A, 0),
	                   "the sub-zone's address comes with its RRSIG");
	ldns_pkt_free(p);
	/* The name itself: answered by the sub-zone. */
	p = ask("sbc." ZONE_SUB, LDNS_RR_TYPE_A);
	cr_assert(list_has(ldns_pkt_answer(p), "192.0.2.77"));
	cr_assert_not(list_has(ldns_pkt_answer(p), "192.0.2.66"));
	ldns_pkt_free(p);
}

Test(resolver_view, glue_never_rides_with_ad)
{
	glue_federation(false);
	ldns_pkt *p = ask("_sip._udp.ims." ZONE_A, LDNS_RR_TYPE_SRV);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert(ldns_pkt_ad(p));
	cr_assert_eq(ldns_rr_list_rr_count(ldns_pkt_additional(p)), 0,
	             "unvalidated glue in an AD=1 answer");
	ldns_pkt_free(p);
	/* Without trust: glue below the cut, as Knot DNS gives it (AD=0). */
	aopts.require_validated = false;
	p = ask("_sip._udp.ims." ZONE_A, LDNS_RR_TYPE_SRV);
	cr_assert_not(ldns_pkt_ad(p));
	cr_assert(list_has(ldns_pkt_additional(p), "192.0.2.66"));
	ldns_pkt_free(p);
}
