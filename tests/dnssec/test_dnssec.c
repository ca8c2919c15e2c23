/* zone/ DNSSEC validation: zones signed by ldns-signzone, dnssec-signzone and Knot validate
 * (algorithms 8, 10, 13, 14, 15, 16; NSEC and NSEC3); docs/security.md Z1 (one RRSIG invalid,
 * missing, expired, not yet valid) and Z2 (DNSKEY not matching the DS, wrong anchor); the
 * DS helpers. Fixtures: tests/dnssec/data/make-fixtures.sh. */
#include "test_dnssec_common.h"

/* ---- positive: every signer, every algorithm ------------------------------------------- */

static void expect_valid(const char *name, bool nsec3)
{
	struct fe_dnssec_opts o;
	struct fe_dnssec_report rep;
	struct fe_zone_error e;
	opts_now(&o);
	int rc = validate_fixture(name, &o, &rep, &e);
	cr_assert_eq(rc, FE_OK, "%s: %s (%s:%lu)", name, e.reason, e.file, e.line);
	cr_expect_gt(rep.rrsets, 20, "%s: %llu RRsets", name, (unsigned long long)rep.rrsets);
	cr_expect_geq(rep.signatures, rep.rrsets);
	cr_expect_gt(rep.denial_records, 10);
	cr_expect_eq(rep.nsec3, nsec3, "%s", name);
	cr_expect_neq(rep.trusted_key_tag, 0);
	cr_expect_gt(rep.earliest_expiry_s, DNOW);
	cr_expect_gt(rep.records, 50);

	/* The same zone anchored by its KSK's DNSKEY instead of the DS. */
	struct ttrust tt;
	struct fe_zone *z = parse_fixture(name);
	rc = fe_dnssec_validate(z, trust_of(&tt, name, "key"), &o, NULL, &e);
	cr_expect_eq(rc, FE_OK, "%s by DNSKEY: %s", name, e.reason);
	/* And self-signed (no trust): an integrity check only. */
	rc = fe_dnssec_validate(z, NULL, &o, NULL, &e);
	cr_expect_eq(rc, FE_OK, "%s self-signed: %s", name, e.reason);
	fe_zone_free(z);
}

Test(dnssec_signers, ldns_alg8_nsec3)
{
	expect_valid("ldns-8-nsec3", true);
}
Test(dnssec_signers, ldns_alg10_nsec3)
{
	expect_valid("ldns-10-nsec3", true);
}
Test(dnssec_signers, ldns_alg13_nsec)
{
	expect_valid("ldns-13-nsec", false);
}
Test(dnssec_signers, ldns_alg13_nsec3_salt)
{
	expect_valid("ldns-13-nsec3", true);
}
Test(dnssec_signers, ldns_alg14_nsec)
{
	expect_valid("ldns-14-nsec", false);
}
Test(dnssec_signers, ldns_alg15_nsec3)
{
	expect_valid("ldns-15-nsec3", true);
}
Test(dnssec_signers, ldns_alg16_nsec)
{
	expect_valid("ldns-16-nsec", false);
}
Test(dnssec_signers, bind_alg8_nsec3)
{
	expect_valid("bind-8-nsec3", true);
}
Test(dnssec_signers, bind_alg13_nsec3)
{
	expect_valid("bind-13-nsec3", true);
}
Test(dnssec_signers, bind_alg15_nsec)
{
	expect_valid("bind-15-nsec", false);
}
Test(dnssec_signers, knot_alg8_nsec3)
{
	expect_valid("knot-8-nsec3", true);
}
Test(dnssec_signers, knot_alg13_nsec3)
{
	expect_valid("knot-13-nsec3", true);
}
Test(dnssec_signers, knot_alg15_nsec)
{
	expect_valid("knot-15-nsec", false);
}
Test(dnssec_signers, ldns_optout_allowed)
{
	expect_valid("ldns-13-optout", true);
}

Test(dnssec_signers, report_threads_and_expiry)
{
	struct fe_dnssec_opts o;
	struct fe_dnssec_report r1, r2;
	struct fe_zone_error e;
	opts_now(&o);
	o.threads = 1;
	cr_assert_eq(validate_fixture("bind-13-nsec3", &o, &r1, &e), FE_OK, "%s", e.reason);
	o.threads = 2;
	cr_assert_eq(validate_fixture("bind-13-nsec3", &o, &r2, &e), FE_OK, "%s", e.reason);
	cr_expect_eq(r1.threads, 1);
	cr_expect_eq(r1.rrsets, r2.rrsets);
	cr_expect_eq(r1.signatures, r2.signatures);
	cr_expect_eq(r1.earliest_expiry_s, r2.earliest_expiry_s);
	/* dnssec-signzone -e 20350101000000 */
	cr_expect_eq(r1.earliest_expiry_s, 2051222400, "%lld", (long long)r1.earliest_expiry_s);
}

/* ---- docs/security.md Z1: one RRSIG invalid / missing / expired / not yet valid -------------- */

#define N1 "1.0.0.0.0.0.1.5.5.5.1.e164.fed."
#define N3 "3.0.0.0.0.0.1.5.5.5.1.e164.fed."

/* In the line with @a and @b, replace @from by @to. */
static char *edit_line(char *s, const char *a, const char *b, const char *from, const char *to)
{
	char *line = find_line(s, a, b);
	char *nl = replace1(strdup(line), from, to);
	s = replace1(s, line, nl);
	free(line);
	free(nl);
	return s;
}

static void expect_reject(const char *text, const char *name, const struct fe_dnssec_opts *o,
                          const char *want)
{
	struct fe_zone_error e;
	int rc = validate_text(text, name, o, &e);
	cr_assert_eq(rc, FE_EVALIDATE, "rc %d, reason: %s", rc, e.reason);
	cr_assert_not_null(strstr(e.reason, want), "reason \"%s\" lacks \"%s\"", e.reason, want);
	cr_expect_not_null(strstr(e.reason, DAPEX ": "), "zone not named: %s", e.reason);
	printf("rejected as expected: %s (%s:%lu)\n", e.reason, e.file, e.line);
}

Test(dnssec_z1, rrsig_invalid_data_changed)
{
	struct fe_dnssec_opts o;
	opts_now(&o);
	char *s = read_text(DDATA "ldns-13-nsec3.zone");
	s = replace1(s, "sip:+15551000001@", "sip:+15559999999@");
	expect_reject(s, "ldns-13-nsec3", &o, "RRSIG NAPTR at " N1 ": signature invalid (key tag ");
	free(s);
}

Test(dnssec_z1, rrsig_invalid_signature_bytes)
{
	struct fe_dnssec_opts o;
	opts_now(&o);
	char *s = read_text(DDATA "bind-8-nsec3.zone");
	/* dnssec-signzone writes the signature on continuation lines: change the RDATA of the
	 * TXT RRset instead and keep its RRSIG, and separately flip bits in an RSA signature
	 * via the alg-8 ldns zone below. */
	s = replace1(s, "test-only fixture zone", "test-only fixture zonE");
	expect_reject(s, "bind-8-nsec3", &o, "RRSIG TXT at txt." DAPEX ": signature invalid");
	free(s);

	s = read_text(DDATA "ldns-8-nsec3.zone");
	char *line = find_line(s, "txt." DAPEX, "RRSIG\tTXT");
	char *bad = strdup(line);
	/* The base64 signature is the last field; change one character in its middle. */
	char *sig = strrchr(bad, ' ');
	cr_assert_not_null(sig);
	size_t mid = strlen(sig) / 2;
	sig[mid] = sig[mid] == 'A' ? 'B' : 'A';
	s = replace1(s, line, bad);
	expect_reject(s, "ldns-8-nsec3", &o, "RRSIG TXT at txt." DAPEX ": signature invalid");
	free(line);
	free(bad);
	free(s);
}

Test(dnssec_z1, rrsig_missing)
{
	struct fe_dnssec_opts o;
	opts_now(&o);
	char *s = read_text(DDATA "ldns-13-nsec3.zone");
	cr_assert_eq(drop_lines(s, N3, "RRSIG\tNAPTR", NULL), 1);
	expect_reject(s, "ldns-13-nsec3", &o, "RRSIG NAPTR at " N3 ": missing");
	free(s);

	/* The RRSIG of an NSEC3 RR (the chain is signed too). */
	s = read_text(DDATA "ldns-13-nsec3.zone");
	char *l = find_line(s, "RRSIG\tNSEC3 ", NULL);
	s = replace1(s, l, ";");
	expect_reject(s, "ldns-13-nsec3", &o, "RRSIG NSEC3 at ");
	free(l);
	free(s);

	/* DS at a delegation is the parent's and signed (RFC 4035 §2.2). */
	s = read_text(DDATA "ldns-13-nsec.zone");
	cr_assert_eq(drop_lines(s, "2." DAPEX, "RRSIG\tDS", NULL), 1);
	expect_reject(s, "ldns-13-nsec", &o, "RRSIG DS at 2." DAPEX ": missing");
	free(s);
}

Test(dnssec_z1, rrsig_expired)
{
	struct fe_dnssec_opts o;
	opts_now(&o);
	char *s = read_text(DDATA "ldns-13-nsec3.zone");
	s = edit_line(s, N1, "RRSIG\tNAPTR", "20350101000000", "20260101000000");
	expect_reject(s, "ldns-13-nsec3", &o,
	              "RRSIG NAPTR at " N1 ": expired 2026-01-01T00:00:00Z");
	free(s);

	/* The whole zone at a time after its signatures' expiration. */
	o.now_s = 2082758400; /* 2036-01-01 */
	s = read_text(DDATA "knot-13-nsec3.zone");
	expect_reject(s, "knot-13-nsec3", &o, "RRSIG DNSKEY at " DAPEX ": expired 2034-12-30");
	free(s);
}

Test(dnssec_z1, rrsig_not_yet_valid)
{
	struct fe_dnssec_opts o;
	opts_now(&o);
	char *s = read_text(DDATA "bind-13-nsec3.zone");
	/* dnssec-signzone: "RRSIG\tNAPTR 13 13 3600 (" then "20350101000000 20250101000000 ..." */
	cr_assert_not_null(strstr(s, "20250101000000"));
	free(s);
	s = read_text(DDATA "ldns-15-nsec3.zone");
	s = edit_line(s, "txt." DAPEX, "RRSIG\tTXT", "20250101000000", "20270101000000");
	expect_reject(s, "ldns-15-nsec3", &o,
	              "RRSIG TXT at txt." DAPEX ": not valid before 2027-01-01T00:00:00Z");
	free(s);

	o.now_s = 1704067200; /* 2024-01-01: before every inception */
	s = read_text(DDATA "ldns-13-nsec.zone");
	expect_reject(s, "ldns-13-nsec", &o,
	              "RRSIG DNSKEY at " DAPEX ": not valid before 2025-01-01T00:00:00Z");
	free(s);
}

Test(dnssec_z1, rrsig_wrong_signer_and_labels)
{
	struct fe_dnssec_opts o;
	opts_now(&o);
	char *s = read_text(DDATA "ldns-13-nsec.zone");
	s = edit_line(s, N1, "RRSIG\tNAPTR", "NAPTR 13 13 ", "NAPTR 13 12 ");
	expect_reject(s, "ldns-13-nsec", &o,
	              "RRSIG NAPTR at " N1 ": labels field 12, owner has 13");
	free(s);
	s = read_text(DDATA "ldns-13-nsec.zone");
	s = edit_line(s, N1, "RRSIG\tNAPTR", " 5.5.5.1.e164.fed. ", " 1.e164.fed. ");
	expect_reject(s, "ldns-13-nsec", &o,
	              "RRSIG NAPTR at " N1 ": signer 1.e164.fed. is not the apex");
	free(s);
}

Test(dnssec_z1, unsigned_zone)
{
	struct fe_dnssec_opts o;
	opts_now(&o);
	char *s = read_text(DDATA "base.zone");
	expect_reject(s, "ldns-13-nsec", &o, "no DNSKEY RRset at the apex: zone is not signed");
	free(s);
}

/* ---- docs/security.md Z2: DNSKEY not matching the DS; wrong trust anchor --------------------- */

static int validate_with(const char *zone, const struct fe_dnssec_trust *t, struct fe_zone_error *e)
{
	struct fe_dnssec_opts o;
	opts_now(&o);
	struct fe_zone *z = parse_fixture(zone);
	memset(e, 0, sizeof(*e));
	int rc = fe_dnssec_validate(z, t, &o, NULL, e);
	fe_zone_free(z);
	printf("%s: %s\n", zone, rc == FE_OK ? "valid" : e->reason);
	return rc;
}

Test(dnssec_z2, ds_of_another_key)
{
	struct ttrust tt;
	struct fe_zone_error e;
	/* The registry publishes the DS of another zone's KSK. */
	int rc = validate_with("ldns-13-nsec3", trust_of(&tt, "ldns-13-nsec", "ds"), &e);
	cr_assert_eq(rc, FE_EVALIDATE);
	cr_assert_not_null(
	        strstr(e.reason, "DNSKEY at " DAPEX ": no zone key matches the trust (DS "), "%s",
	        e.reason);
}

Test(dnssec_z2, ds_digest_wrong)
{
	struct ttrust tt;
	struct fe_zone_error e;
	trust_of(&tt, "bind-13-nsec3", "ds");
	/* Same key tag and algorithm, one digest bit off. */
	cr_assert_eq(tt.t.ds_count, 1);
	tt.buf[0][10] ^= 0x01;
	cr_assert_eq(validate_with("bind-13-nsec3", &tt.t, &e), FE_EVALIDATE);
	cr_assert_not_null(strstr(e.reason, "no zone key matches the trust (DS "), "%s", e.reason);
	/* A DS of an unsupported digest type (1, SHA-1) is not relied on. */
	trust_of(&tt, "bind-13-nsec3", "ds");
	tt.buf[0][3] = 1;
	cr_assert_eq(validate_with("bind-13-nsec3", &tt.t, &e), FE_EVALIDATE);
}

Test(dnssec_z2, wrong_anchor_dnskey)
{
	struct ttrust tt;
	struct fe_zone_error e;
	cr_assert_eq(validate_with("knot-13-nsec3", trust_of(&tt, "bind-13-nsec3", "key"), &e),
	             FE_EVALIDATE);
	cr_assert_not_null(strstr(e.reason, "no zone key matches the trust (DNSKEY "), "%s",
	                   e.reason);
	/* Any one matching entry is enough: a wrong DS beside the right anchor validates. */
	trust_of(&tt, "bind-13-nsec3", "ds");
	char p[256];
	snprintf(p, sizeof(p), DDATA "knot-13-nsec3.key");
	trust_add_file(&tt, p);
	cr_assert_eq(validate_with("knot-13-nsec3", &tt.t, &e), FE_OK, "%s", e.reason);
}

Test(dnssec_z2, dnskey_set_changed_after_signing)
{
	/* The KSK matches the DS, but someone added a key to the DNSKEY RRset. */
	struct fe_dnssec_opts o;
	opts_now(&o);
	char *s = read_text(DDATA "ldns-13-nsec.zone");
	char *extra = read_text(DDATA "bind-13-nsec3.key");
	char *add = replace1(extra, "5.5.5.1.e164.fed.", "\n5.5.5.1.e164.fed.");
	size_t n = strlen(s) + strlen(add) + 2;
	char *t = malloc(n);
	snprintf(t, n, "%s%s", s, add);
	expect_reject(t, "ldns-13-nsec", &o, "RRSIG DNSKEY at " DAPEX ": signature invalid");
	free(t);
	free(add);
	free(s);
}

Test(dnssec_z2, ds_of_the_zsk_only)
{
	/* The DS names the ZSK, which does not sign the DNSKEY RRset (ldns-signzone signs it
	 * with the KSK only): no trusted signature over the DNSKEY RRset. */
	struct fe_zone *z = parse_fixture("ldns-13-nsec");
	char *s = read_text(DDATA "ldns-13-nsec.zone");
	char *l = find_line(s, "DNSKEY\t256 3 13", NULL);
	ldns_rr *rr = NULL;
	cr_assert_eq(ldns_rr_new_frm_str(&rr, l, 0, NULL, NULL), LDNS_STATUS_OK);
	uint8_t key[1024], ds[64], owner[FE_WIRE_NAME_MAX];
	uint16_t kl;
	rr_rdata(rr, key, &kl);
	size_t ol;
	const uint8_t *apex = fe_zone_apex(z, &ol);
	memcpy(owner, apex, ol);
	int dl = fe_dnssec_ds_from_dnskey(owner, ol, key, kl, 2, ds);
	cr_assert_eq(dl, 36);
	struct fe_dnssec_rdata d = {ds, (uint16_t)dl};
	struct fe_dnssec_trust t = {.ds = &d, .ds_count = 1};
	struct fe_dnssec_opts o;
	struct fe_zone_error e;
	opts_now(&o);
	cr_assert_eq(fe_dnssec_validate(z, &t, &o, NULL, &e), FE_EVALIDATE);
	cr_assert_not_null(strstr(e.reason, "RRSIG DNSKEY at " DAPEX ": no signature by a key "
	                                    "matching the trust (DS "),
	                   "%s", e.reason);
	ldns_rr_free(rr);
	free(l);
	free(s);
	fe_zone_free(z);
}

/* ---- helpers: key tag, DS from DNSKEY, the child's DS from the parent ----------------- */

Test(dnssec_helpers, key_tag_and_ds_match_ldns)
{
	const char *names[] = {"ldns-8-nsec3", "ldns-14-nsec", "knot-15-nsec", "ldns-16-nsec"};
	for (size_t i = 0; i < FE_ARRAY_LEN(names); i++) {
		char p[256];
		snprintf(p, sizeof(p), DDATA "%s.key", names[i]);
		char *txt = read_text(p);
		ldns_rr *rr = NULL;
		cr_assert_eq(ldns_rr_new_frm_str(&rr, txt, 0, NULL, NULL), LDNS_STATUS_OK);
		uint8_t key[1024], out[64];
		uint16_t kl;
		rr_rdata(rr, key, &kl);
		cr_expect_eq(fe_dnssec_key_tag(key, kl), ldns_calc_keytag(rr), "%s", names[i]);
		const ldns_rdf *o = ldns_rr_owner(rr);
		for (int dt = 2; dt <= 4; dt += 2) {
			ldns_rr *ds = ldns_key_rr2ds(rr, dt == 2 ? LDNS_SHA256 : LDNS_SHA384);
			cr_assert_not_null(ds);
			uint8_t want[64];
			uint16_t wl;
			rr_rdata(ds, want, &wl);
			int n = fe_dnssec_ds_from_dnskey(ldns_rdf_data(o), ldns_rdf_size(o), key,
			                                 kl, (uint8_t)dt, out);
			cr_assert_eq(n, wl, "%s digest %d", names[i], dt);
			cr_expect_arr_eq(out, want, wl, "%s digest %d", names[i], dt);
			ldns_rr_free(ds);
		}
		cr_expect_eq(fe_dnssec_ds_from_dnskey(ldns_rdf_data(o), ldns_rdf_size(o), key, kl,
		                                      1, out),
		             FE_ENOTSUP);
		cr_expect_eq(fe_dnssec_ds_from_dnskey(ldns_rdf_data(o), ldns_rdf_size(o), key, 3, 2,
		                                      out),
		             FE_EFORMAT);
		ldns_rr_free(rr);
		free(txt);
	}
}

Test(dnssec_helpers, child_ds)
{
	struct fe_zone *z = parse_fixture("ldns-13-nsec3");
	struct fe_dnssec_rdata out[4];
	static const uint8_t c2[] = "\0012\0015\0015\0015\0011\004e164\003fed";
	static const uint8_t c4[] = "\0014\0015\0015\0015\0011\004E164\003FED";
	static const uint8_t ns1[] = "\003ns1\0015\0015\0015\0011\004e164\003fed";
	static const uint8_t nx[] = "\0016\0015\0015\0015\0011\004e164\003fed";
	cr_assert_eq(fe_dnssec_child_ds(z, c2, sizeof(c2), out, 4), 1);
	cr_assert_eq(out[0].len, 4 + 32);
	cr_expect_eq(fe_get_be16(out[0].data), 12345);
	cr_expect_eq(out[0].data[2], 13);
	cr_expect_eq(out[0].data[3], 2);
	cr_expect_eq(out[0].data[4], 0x01);
	cr_expect_eq(fe_dnssec_child_ds(z, c2, sizeof(c2), out, 0), 1); /* count only */
	cr_expect_eq(fe_dnssec_child_ds(z, c4, sizeof(c4), out, 4), 0); /* insecure */
	cr_expect_eq(fe_dnssec_child_ds(z, ns1, sizeof(ns1), out, 4), FE_ENOENT);
	cr_expect_eq(fe_dnssec_child_ds(z, nx, sizeof(nx), out, 4), FE_ENOENT);
	cr_expect_eq(fe_dnssec_child_ds(z, c2, 3, out, 4), FE_EINVAL);
	fe_zone_free(z);
}

/* ---- chain of trust through the API: the demo federation ------------------------------- */

#define DEMO FE_SOURCE_DIR "/zones/"

Test(dnssec_chain, demo_registry_to_members)
{
	struct fe_dnssec_opts o;
	struct fe_zone_error e;
	struct ttrust tt;
	fe_dnssec_opts_init(&o); /* the demo zones are signed around the real clock */
	memset(&tt, 0, sizeof(tt));
	trust_add_file(&tt, FE_SOURCE_DIR "/federation/keys/e164.fed.ds");
	struct fe_zone *reg = parse_path(DEMO "e164.fed/e164.fed.zone.signed");
	cr_assert_eq(fe_dnssec_validate(reg, &tt.t, &o, NULL, &e), FE_OK, "%s", e.reason);

	const char *members[] = {"1.5.5.5.1.e164.fed", "2.5.5.5.1.e164.fed"};
	struct fe_zone *m[2];
	struct fe_dnssec_rdata ds[2][4];
	struct fe_dnssec_trust t[2];
	for (int i = 0; i < 2; i++) {
		char p[512];
		snprintf(p, sizeof(p), DEMO "%s/%s.zone.signed", members[i], members[i]);
		m[i] = parse_path(p);
		size_t al;
		const uint8_t *apex = fe_zone_apex(m[i], &al);
		int n = fe_dnssec_child_ds(reg, apex, al, ds[i], 4);
		cr_assert_gt(n, 0, "registry publishes no DS for %s", members[i]);
		memset(&t[i], 0, sizeof(t[i]));
		t[i].ds = ds[i];
		t[i].ds_count = (size_t)n;
		cr_assert_eq(fe_dnssec_validate(m[i], &t[i], &o, NULL, &e), FE_OK, "%s: %s",
		             members[i], e.reason);
	}
	/* A member's zone does not validate through the DS of another member's delegation. */
	cr_assert_eq(fe_dnssec_validate(m[0], &t[1], &o, NULL, &e), FE_EVALIDATE);
	cr_expect_not_null(strstr(e.reason, "no zone key matches the trust"), "%s", e.reason);
	cr_assert_eq(fe_dnssec_validate(m[1], &t[0], &o, NULL, &e), FE_EVALIDATE);
	/* Nor does the registry validate against a member's DS. */
	cr_assert_eq(fe_dnssec_validate(reg, &t[0], &o, NULL, &e), FE_EVALIDATE);
	for (int i = 0; i < 2; i++)
		fe_zone_free(m[i]);
	fe_zone_free(reg);
}
