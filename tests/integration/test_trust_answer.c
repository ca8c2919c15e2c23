/* The answer engine under federation trust (opts.require_validated), over a store filled
 * through the chain of trust: AD=1 on validated data when the query sets DO or AD (RFC 6840
 * §5.7), AD=0 otherwise; a member whose chain broke is passed over for the registry
 * (SERVFAIL with EDE 6 at the registry's delegation, or the registry's own NXDOMAIN once it no
 * longer delegates); expired zones give SERVFAIL with EDE 7 (fake clock); a zone stored
 * without validation is not served (EDE 5). In-process: fe_answer over the store, answers
 * parsed by ldns. Fixtures: tests/integration/data/trust/ (test-only keys). */
#include <criterion/criterion.h>

#include <ftw.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fedenum/server.h"
#include "fedenum/store.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "fedenum/trust.h"
#include "fedenum/zone.h"

#define TD      FE_SOURCE_DIR "/tests/integration/data/trust"
#define NUM_A   "1.0.0.0.0.0.1.5.5.5.1.e164.test."
#define NUM_B   "1.0.0.0.0.0.2.5.5.5.1.e164.test."
#define NOT_DEL "1.0.0.0.0.0.3.5.5.5.1.e164.test."
#define T2036   2082758400LL

#define Q_DO     0x1u
#define Q_AD     0x2u
#define Q_NOEDNS 0x4u

static char dir[256];
static struct fe_store *st;
static struct fe_store_reader *rd;
static struct fe_trust_anchors *anchors;
static struct fe_trust_opts topts;
static struct fe_answer_opts aopts;
static uint64_t cnt[FE_CNT__MAX];
static uint8_t resp[65535];

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void load(const char *fixture)
{
	char path[512];
	struct fe_trust_result res;
	struct fe_zone_error e;
	snprintf(path, sizeof(path), "%s/%s.signed", TD, fixture);
	int rc = fe_trust_load(NULL, path, NULL, &topts, st, &res, &e);
	cr_assert_eq(rc, FE_OK, "%s: %s", fixture, e.reason);
}

static void sweep(void)
{
	cr_assert_eq(fe_trust_sweep(st, anchors, 0, NULL), FE_OK);
}

static void setup(void)
{
	fe_log_set_level(FE_LOG_ERR);
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/fe-trust-answer-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	cr_assert_not_null(mkdtemp(dir));
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
	nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(trust_answer, .init = setup, .fini = teardown, .timeout = 60);

/* The answer to @name/@type, parsed; *ede gets the EDE INFO-CODE (-1: none). */
static ldns_pkt *ask(const char *name, uint16_t type, unsigned flags, int *ede)
{
	ldns_rdf *qn = ldns_dname_new_frm_str(name);
	cr_assert_not_null(qn);
	ldns_pkt *q = ldns_pkt_query_new(qn, (ldns_rr_type)type, LDNS_RR_CLASS_IN, LDNS_RD);
	cr_assert_not_null(q);
	ldns_pkt_set_id(q, 0x4242);
	ldns_pkt_set_ad(q, (flags & Q_AD) != 0);
	if (!(flags & Q_NOEDNS)) {
		ldns_pkt_set_edns_udp_size(q, 1232);
		ldns_pkt_set_edns_do(q, (flags & Q_DO) != 0);
	}
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
	*ede = -1;
	ldns_rdf *opt = ldns_pkt_edns_data(p);
	if (opt) {
		const uint8_t *o = ldns_rdf_data(opt);
		size_t n = ldns_rdf_size(opt), i = 0;
		while (i + 4 <= n) {
			uint16_t code = fe_get_be16(o + i), olen = fe_get_be16(o + i + 2);
			if (code == FE_EDNS_EDE && olen >= 2 && i + 4 + olen <= n)
				*ede = fe_get_be16(o + i + 4);
			i += 4u + olen;
		}
	}
	return p;
}

static size_t sigs(ldns_pkt *p)
{
	size_t n = 0;
	ldns_rr_list *l = ldns_pkt_answer(p);
	for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++)
		n += ldns_rr_get_type(ldns_rr_list_rr(l, i)) == LDNS_RR_TYPE_RRSIG;
	return n;
}

static void expect(const char *name, uint16_t type, unsigned flags, ldns_pkt_rcode rcode, bool ad,
                   int want_ede)
{
	int ede;
	ldns_pkt *p = ask(name, type, flags, &ede);
	cr_assert_eq(ldns_pkt_get_rcode(p), rcode, "%s: rcode %d, want %d", name,
	             ldns_pkt_get_rcode(p), rcode);
	cr_assert_eq(ldns_pkt_ad(p), ad, "%s flags %x: AD=%d", name, flags, ldns_pkt_ad(p));
	cr_assert_eq(ede, want_ede, "%s: EDE %d, want %d", name, ede, want_ede);
	cr_assert_not(ldns_pkt_aa(p));
	cr_assert(ldns_pkt_ra(p));
	ldns_pkt_free(p);
}

static void federation(void)
{
	load("registry-v1");
	load("a-v1");
	load("b-v1");
	sweep();
}

Test(trust_answer, ad_bit_on_validated_data)
{
	federation();
	int ede;
	ldns_pkt *p = ask(NUM_A, LDNS_RR_TYPE_NAPTR, Q_DO, &ede);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert(ldns_pkt_ad(p), "AD=0 on validated data with DO");
	cr_assert_eq(sigs(p), 1, "RRSIG with DO");
	ldns_pkt_free(p);
	/* AD without DO (RFC 6840 §5.7): AD=1, no RRSIGs. */
	p = ask(NUM_A, LDNS_RR_TYPE_NAPTR, Q_AD, &ede);
	cr_assert(ldns_pkt_ad(p));
	cr_assert_eq(sigs(p), 0);
	cr_assert_eq(ldns_rr_list_rr_count(ldns_pkt_answer(p)), 1);
	ldns_pkt_free(p);
	/* Neither: AD=0. */
	expect(NUM_A, LDNS_RR_TYPE_NAPTR, 0, LDNS_RCODE_NOERROR, false, -1);
	expect(NUM_A, LDNS_RR_TYPE_NAPTR, Q_NOEDNS, LDNS_RCODE_NOERROR, false, -1);
	expect(NUM_A, LDNS_RR_TYPE_NAPTR, Q_NOEDNS | Q_AD, LDNS_RCODE_NOERROR, true, -1);
	/* Denials and the registry too. */
	expect(NOT_DEL, LDNS_RR_TYPE_NAPTR, Q_DO, LDNS_RCODE_NXDOMAIN, true, -1);
	expect("9.0.0.0.0.0.1.5.5.5.1.e164.test.", LDNS_RR_TYPE_NAPTR, Q_DO, LDNS_RCODE_NXDOMAIN,
	       true, -1);
	expect(NUM_B, LDNS_RR_TYPE_A, Q_DO, LDNS_RCODE_NOERROR, true, -1); /* NODATA */
	expect("1.5.5.5.1.e164.test.", LDNS_RR_TYPE_DS, Q_DO, LDNS_RCODE_NOERROR, true, -1);
	/* Outside every zone: REFUSED as before. */
	expect("example.org.", LDNS_RR_TYPE_A, Q_DO, LDNS_RCODE_REFUSED, false, -1);
	/* Without federation trust the same data never gets AD. */
	aopts.require_validated = false;
	expect(NUM_A, LDNS_RR_TYPE_NAPTR, Q_DO | Q_AD, LDNS_RCODE_NOERROR, false, -1);
}

/* Re-delegation: A's stored zone no longer chains; the registry's delegation gives SERVFAIL
 * with EDE 6 (DNSSEC Bogus); the DS still comes from the registry. */
Test(trust_answer, bogus_member_servfail_ede6)
{
	federation();
	load("registry-v2");
	sweep();
	expect(NUM_A, LDNS_RR_TYPE_NAPTR, Q_DO, LDNS_RCODE_SERVFAIL, false, FE_EDE_DNSSEC_BOGUS);
	expect(NUM_A, LDNS_RR_TYPE_NAPTR, 0, LDNS_RCODE_SERVFAIL, false, FE_EDE_DNSSEC_BOGUS);
	expect(NUM_A, LDNS_RR_TYPE_NAPTR, Q_NOEDNS, LDNS_RCODE_SERVFAIL, false, -1);
	expect("1.5.5.5.1.e164.test.", LDNS_RR_TYPE_DS, Q_DO, LDNS_RCODE_NOERROR, true, -1);
	expect(NUM_B, LDNS_RR_TYPE_NAPTR, Q_DO, LDNS_RCODE_NOERROR, true, -1);
	/* A's re-signed zone makes it whole again. */
	load("a-v2");
	sweep();
	expect(NUM_A, LDNS_RR_TYPE_NAPTR, Q_DO, LDNS_RCODE_NOERROR, true, -1);
}

/* The registry withdraws B's delegation: the registry itself now answers for the range. */
Test(trust_answer, withdrawn_delegation_answered_by_registry)
{
	federation();
	load("registry-v3");
	sweep();
	expect(NUM_B, LDNS_RR_TYPE_NAPTR, Q_DO, LDNS_RCODE_NXDOMAIN, true, -1);
	expect(NUM_A, LDNS_RR_TYPE_NAPTR, Q_DO, LDNS_RCODE_NOERROR, true, -1);
}

/* Expiry (issue #3 §7): after the signatures' expiration, SERVFAIL with EDE 7. */
Test(trust_answer, expired_zone_servfail_ede7)
{
	federation();
	fe_time_set_fake_wall_s(T2036 - 60);
	expect(NUM_A, LDNS_RR_TYPE_NAPTR, Q_DO, LDNS_RCODE_NOERROR, true, -1);
	fe_time_set_fake_wall_s(T2036);
	expect(NUM_A, LDNS_RR_TYPE_NAPTR, Q_DO, LDNS_RCODE_SERVFAIL, false,
	       FE_EDE_SIGNATURE_EXPIRED);
	expect(NOT_DEL, LDNS_RR_TYPE_NAPTR, 0, LDNS_RCODE_SERVFAIL, false,
	       FE_EDE_SIGNATURE_EXPIRED);
	expect("e164.test.", LDNS_RR_TYPE_SOA, Q_DO, LDNS_RCODE_SERVFAIL, false,
	       FE_EDE_SIGNATURE_EXPIRED);
	/* Not under trust: served as stored. */
	aopts.require_validated = false;
	expect(NUM_A, LDNS_RR_TYPE_NAPTR, Q_DO, LDNS_RCODE_NOERROR, false, -1);
}

/* A zone stored without validation is not held under trust (EDE 5 when nothing is above). */
Test(trust_answer, unvalidated_zone_not_served)
{
	struct fe_zone_error e;
	cr_assert_eq(fe_zone_load_file(TD "/registry-v1.signed", NULL, st, &e), FE_OK);
	expect(NOT_DEL, LDNS_RR_TYPE_NAPTR, Q_DO, LDNS_RCODE_SERVFAIL, false,
	       FE_EDE_DNSSEC_INDETERMINATE);
	aopts.require_validated = false;
	expect(NOT_DEL, LDNS_RR_TYPE_NAPTR, Q_DO, LDNS_RCODE_NXDOMAIN, false, -1);
}
