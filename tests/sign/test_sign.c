/* The signer, the key directory and the CSV reader: signed zones validate with fedenum's own
 * validator, with ldns-verify-zone and with kzonecheck; keys are refused unless 0600; CSV
 * rows fail with their line numbers. */
#include "fedenum/dnssec.h"
#include "fedenum/sign.h"
#include "fedenum/store.h"
#include "fedenum/util.h"
#include "fedenum/zone.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define APEX "2.5.5.5.1.e164.fed."

static char dir[256];

static void mkdirs(void)
{
	snprintf(dir, sizeof(dir), "/tmp/fe-sign-test-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void rmdirs(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(sign, .init = mkdirs, .fini = rmdirs);

static const char CSV[] = "number,service,uri,order,preference\n"
                          "+15552000001,E2U+sip,sip:+15552000001@ims-b.example;user=phone\n"
                          "+15552000008,E2U+pstn:tel,tel:+15552000008;npdi;rn=+15553999999\n"
                          "+15552000010,E2U+sip,sip:+15552000010@ims-b.example,10,20\n"
                          "+15552000010,E2U+pstn:tel,tel:+15552000010,20,10\n"
                          "+15552123,E2U+sip,sip:short@ims-b.example\n";

static void keys(uint8_t alg, struct fe_sign_keyset *ks)
{
	char err[512];
	cr_assert_eq(fe_sign_keys_load(dir, APEX, ks, err, sizeof(err)), FE_OK, "%s", err);
	cr_assert_eq(ks->n, 0);
	cr_assert_eq(
	        fe_sign_key_generate(dir, ks, FE_SIGN_KSK, alg, FE_SIGN_ACTIVE, err, sizeof(err)),
	        FE_OK, "%s", err);
	cr_assert_eq(
	        fe_sign_key_generate(dir, ks, FE_SIGN_ZSK, alg, FE_SIGN_ACTIVE, err, sizeof(err)),
	        FE_OK, "%s", err);
}

static const char *const NS[] = {"ns1.ims-b.example.", "ns2.ims-b.example."};

/* SOA and NS of the test zone, serial @serial. */
static struct fe_sign_zone_defaults defaults(uint32_t serial)
{
	return (struct fe_sign_zone_defaults){.rname = "hostmaster.ims-b.example.",
	                                      .serial = serial,
	                                      .ttl = 3600,
	                                      .refresh = 3600,
	                                      .retry = 600,
	                                      .expire = 604800,
	                                      .minimum = 300,
	                                      .ns = NS,
	                                      .nns = 2};
}

/* Sign the CSV above with @ks into @path; returns the report. */
static struct fe_sign_report sign_to(const struct fe_sign_keyset *ks, bool nsec, const char *path)
{
	struct fe_sign_csv csv;
	cr_assert_eq(fe_sign_csv_parse(CSV, strlen(CSV), APEX, NULL, 0, &csv, NULL, NULL), FE_OK,
	             "%s", csv.nerrors ? csv.errors[0] : "");
	cr_assert_eq(csv.n, 5);
	struct fe_sign_zone_defaults d = defaults(7);
	struct fe_sign_rrlist l;
	cr_assert_eq(fe_sign_enum_rrs(APEX, &d, csv.rows, csv.n, &l), FE_OK);
	uint8_t apex[256] = {1, '2', 1,   '5', 1,   '5', 1,   '5', 1,   '1',
	                     4, 'e', '1', '6', '4', 3,   'f', 'e', 'd', 0};
	struct fe_sign_opts o;
	fe_sign_opts_init(&o);
	o.nsec = nsec;
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	struct fe_sign_report rep;
	char err[512] = "";
	cr_assert_eq(fe_sign_zone(apex, l.rrs, l.n, ks, &o, f, &rep, err, sizeof(err)), FE_OK, "%s",
	             err);
	fclose(f);
	fe_sign_rrlist_free(&l);
	fe_sign_csv_free(&csv);
	return rep;
}

/* fedenum's validator with the KSK's DS as trust. */
static int validate(const struct fe_sign_keyset *ks, const char *path, struct fe_zone_error *err)
{
	struct fe_zone *z = NULL;
	int rc = fe_zone_parse_file(path, NULL, &z, err);
	cr_assert_eq(rc, FE_OK, "%s:%lu: %s", err->file, err->line, err->reason);
	uint8_t ds[64];
	const struct fe_sign_key *k = NULL;
	for (size_t i = 0; i < ks->n; i++)
		if (ks->keys[i].role == FE_SIGN_KSK && ks->keys[i].state == FE_SIGN_ACTIVE)
			k = &ks->keys[i];
	cr_assert_not_null(k);
	size_t al;
	const uint8_t *apex = fe_zone_apex(z, &al);
	int dl = fe_dnssec_ds_from_dnskey(apex, al, k->dnskey, k->dnskey_len, 2, ds);
	cr_assert_gt(dl, 4);
	struct fe_dnssec_rdata r = {ds, (uint16_t)dl};
	struct fe_dnssec_trust t = {.ds = &r, .ds_count = 1};
	struct fe_dnssec_opts o;
	fe_dnssec_opts_init(&o);
	o.forbid_opt_out = true;
	struct fe_dnssec_report rep;
	rc = fe_dnssec_validate(z, &t, &o, &rep, err);
	fe_zone_free(z);
	return rc;
}

/* Run "@tool @path @tail" (status 0: the tool accepted the zone). */
static int run(const char *tool, const char *path, const char *tail)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "%s %s %s", tool, path, tail);
	return system(cmd);
}

static void check_all(uint8_t alg, bool nsec)
{
	struct fe_sign_keyset ks;
	keys(alg, &ks);
	char path[300];
	snprintf(path, sizeof(path), "%s/zone", dir);
	struct fe_sign_report rep = sign_to(&ks, nsec, path);
	/* apex (SOA, NS, DNSKEY, NSEC3PARAM or NSEC...) and 4 numbers; NSEC3 adds ENTs */
	cr_assert_gt(rep.signatures, 8);
	cr_assert_eq(rep.signatures, rep.rrsets,
	             "one signature per RRset: DNSKEY by the KSK, the rest by the ZSK");
	struct fe_zone_error err = {0};
	cr_assert_eq(validate(&ks, path, &err), FE_OK, "%s", err.reason);
	cr_assert_eq(run("ldns-verify-zone", path, ">/dev/null"), 0,
	             "ldns-verify-zone refused the zone");
	cr_assert_eq(run("kzonecheck -d on -o " APEX, path, ">/dev/null"), 0,
	             "kzonecheck refused the zone");
	fe_sign_keyset_free(&ks);
}

Test(sign, p256_nsec3_validates)
{
	check_all(FE_SIGN_ALG_P256, false);
}

Test(sign, p256_nsec_validates)
{
	check_all(FE_SIGN_ALG_P256, true);
}

Test(sign, ed25519_nsec3_validates)
{
	check_all(FE_SIGN_ALG_ED25519, false);
}

Test(sign, nsec3_parameters_rfc9276)
{
	struct fe_sign_keyset ks;
	keys(FE_SIGN_ALG_P256, &ks);
	char path[300];
	snprintf(path, sizeof(path), "%s/zone", dir);
	sign_to(&ks, false, path);
	char *text;
	size_t len;
	cr_assert_eq(fe_file_read_all(path, 1 << 20, &text, &len), FE_OK);
	cr_assert_not_null(strstr(text, "IN NSEC3PARAM 1 0 0 -"));
	cr_assert_not_null(strstr(text, "IN NSEC3 1 0 0 - "),
	                   "SHA-1, no opt-out, 0 iterations, no salt");
	/* the empty non-terminal 0.0.0.2.5.5.5.1... has its NSEC3 (ldns and the validator
	 * checked the chain): 4 numbers below 5 ENT levels and the apex */
	fe_sign_keyset_free(&ks);
	free(text);
}

Test(sign, a_changed_signature_fails_everywhere)
{
	struct fe_sign_keyset ks;
	keys(FE_SIGN_ALG_P256, &ks);
	char path[300];
	snprintf(path, sizeof(path), "%s/zone", dir);
	sign_to(&ks, false, path);
	/* change one NAPTR's URI after signing */
	char cmd[700];
	snprintf(cmd, sizeof(cmd),
	         "sed -i 's/ims-b.example;user=phone/ims-x.example;user=phone/' %s", path);
	cr_assert_eq(system(cmd), 0);
	struct fe_zone_error err = {0};
	cr_assert_eq(validate(&ks, path, &err), FE_EVALIDATE);
	cr_assert_not_null(strstr(err.reason, "NAPTR"), "%s", err.reason);
	cr_assert_neq(run("ldns-verify-zone", path, ">/dev/null 2>&1"), 0);
	fe_sign_keyset_free(&ks);
}

Test(sign, keys_round_trip_and_ds)
{
	struct fe_sign_keyset ks, again;
	keys(FE_SIGN_ALG_P256, &ks);
	char err[512];
	cr_assert_eq(fe_sign_keys_load(dir, "2.5.5.5.1.E164.fed", &again, err, sizeof(err)), FE_OK,
	             "%s", err);
	cr_assert_eq(again.n, 2);
	for (size_t i = 0; i < 2; i++) {
		bool found = false;
		for (size_t j = 0; j < 2; j++)
			found |= again.keys[j].tag == ks.keys[i].tag &&
			         again.keys[j].role == ks.keys[i].role &&
			         memcmp(again.keys[j].dnskey, ks.keys[i].dnskey,
			                ks.keys[i].dnskey_len) == 0;
		cr_assert(found, "key %u read back", ks.keys[i].tag);
	}
	char path[600];
	struct stat sb;
	snprintf(path, sizeof(path), "%s/%s.private", dir, ks.keys[0].base);
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0600);
	char ds[300];
	const struct fe_sign_key *k = ks.keys[0].role == FE_SIGN_KSK ? &ks.keys[0] : &ks.keys[1];
	cr_assert_eq(fe_sign_key_ds(APEX, k, ds, sizeof(ds)), FE_OK);
	char want[64];
	snprintf(want, sizeof(want), APEX " IN DS %u 13 2 ", k->tag);
	cr_assert_eq(strncmp(ds, want, strlen(want)), 0, "%s", ds);
	cr_assert_eq(strlen(ds), strlen(want) + 64, "%s", ds);
	fe_sign_keyset_free(&ks);
	fe_sign_keyset_free(&again);
}

Test(sign, private_key_not_0600_is_refused)
{
	struct fe_sign_keyset ks;
	keys(FE_SIGN_ALG_P256, &ks);
	char path[600], err[512];
	snprintf(path, sizeof(path), "%s/%s.private", dir, ks.keys[1].base);
	fe_sign_keyset_free(&ks);
	cr_assert_eq(chmod(path, 0640), 0);
	cr_assert_eq(fe_sign_keys_load(dir, APEX, &ks, err, sizeof(err)), FE_EPERM);
	cr_assert_not_null(strstr(err, "mode 0640: refused"), "%s", err);
	cr_assert_eq(ks.n, 0);
	cr_assert_eq(chmod(path, 0604), 0);
	cr_assert_eq(fe_sign_keys_load(dir, APEX, &ks, err, sizeof(err)), FE_EPERM);
	cr_assert_eq(chmod(path, 0600), 0);
	cr_assert_eq(fe_sign_keys_load(dir, APEX, &ks, err, sizeof(err)), FE_OK, "%s", err);
	cr_assert_eq(ks.n, 2);
	fe_sign_keyset_free(&ks);
}

Test(sign, no_active_keys_is_refused)
{
	struct fe_sign_keyset ks = {0};
	strcpy(ks.apex, APEX);
	uint8_t apex[] = {1, '2', 1,   '5', 1,   '5', 1,   '5', 1,   '1',
	                  4, 'e', '1', '6', '4', 3,   'f', 'e', 'd', 0};
	char err[256] = "";
	cr_assert_eq(fe_sign_zone(apex, NULL, 0, &ks, NULL, stdout, NULL, err, sizeof(err)),
	             FE_ENOENT);
	cr_assert_not_null(strstr(err, "no active"), "%s", err);
}

Test(sign, csv_row_errors_with_line_numbers)
{
	static const char bad[] =
	        "+15552000001,E2U+sip,sip:+15552000001@ims-b.example\n"    /* 1 ok */
	        "15552000002,E2U+sip,sip:a@ims-b.example\n"                /* 2 no + */
	        "+15551000003,E2U+sip,sip:a@ims-b.example\n"               /* 3 prefix */
	        "+15552000004,E2U+sip,tel:+15552000004\n"                  /* 4 scheme */
	        "+15552000005,E2U+pstn:tel,tel:5552000005\n"               /* 5 not global */
	        "+15552000006,E2U+sip,sip:a!b@ims-b.example\n"             /* 6 '!' */
	        "+15552000001,E2U+sip,sip:dup@ims-b.example\n"             /* 7 duplicate */
	        "+15552000008,sip,sip:a@ims-b.example\n"                   /* 8 service */
	        "+15552000009,E2U+sip\n"                                   /* 9 columns */
	        "+15552000010,E2U+sip,sip:a@ims-b.example,70000\n"         /* 10 order */
	        "+15552000011,E2U+pstn:tel,tel:+15552000011;npdi;rn=123\n" /* 11 rn */
	        "+15552000012,E2U+sip,sip:a@ims-b.example,1,2,3,4\n";      /* 12 columns */
	struct fe_sign_csv csv;
	cr_assert_eq(fe_sign_csv_parse(bad, strlen(bad), APEX, NULL, 0, &csv, NULL, NULL),
	             FE_EFORMAT);
	cr_assert_eq(csv.error_rows, 11);
	const char *want[] = {"line 2: bad number",
	                      "line 3: number +15551000003 outside",
	                      "line 4: URI fails",
	                      "line 5: URI fails the NAPTR lint: tel:",
	                      "line 6: URI fails",
	                      "line 8: bad service",
	                      "line 9: 2 columns",
	                      "line 10: order",
	                      "line 11: URI fails",
	                      "line 7: duplicate: +15552000001 E2U+sip already on line 1",
	                      "line 12: more than 5 columns"};
	for (size_t i = 0; i < FE_ARRAY_LEN(want); i++) {
		bool found = false;
		for (size_t j = 0; j < csv.nerrors; j++)
			found |= strncmp(csv.errors[j], want[i], strlen(want[i])) == 0;
		cr_assert(found, "expected an error starting '%s'", want[i]);
	}
	fe_sign_csv_free(&csv);
	/* the member's own prefixes narrow the zone's */
	static const char one[] = "+15552100001,E2U+sip,sip:a@ims-b.example\n";
	char *pfx[] = {"+155520"};
	cr_assert_eq(fe_sign_csv_parse(one, strlen(one), APEX, pfx, 1, &csv, NULL, NULL),
	             FE_EFORMAT);
	cr_assert_not_null(strstr(csv.errors[0], "outside the member's prefixes"));
	fe_sign_csv_free(&csv);
}

Test(sign, csv_header_quotes_and_owner)
{
	static const char ok[] = "\xEF\xBB\xBFNumber,Service,URI\r\n"
	                         "\"+15552000001\",\"E2U+sip\",\"sip:a,b@ims-b.example\"\r\n";
	struct fe_sign_csv csv;
	cr_assert_eq(fe_sign_csv_parse(ok, strlen(ok), APEX, NULL, 0, &csv, NULL, NULL), FE_OK);
	cr_assert_eq(csv.n, 1);
	cr_assert_str_eq(csv.rows[0].uri, "sip:a,b@ims-b.example");
	cr_assert_eq(csv.rows[0].order, 100);
	uint8_t own[256];
	int ol = fe_sign_enum_owner(APEX, "+15552000001", own);
	static const uint8_t want[] = {1,   '1', 1,   '0', 1,   '0', 1,   '0', 1,   '0', 1,
	                               '0', 1,   '2', 1,   '5', 1,   '5', 1,   '5', 1,   '1',
	                               4,   'e', '1', '6', '4', 3,   'f', 'e', 'd', 0};
	cr_assert_eq(ol, (int)sizeof(want));
	cr_assert_eq(memcmp(own, want, sizeof(want)), 0);
	fe_sign_csv_free(&csv);
}

Test(sign, built_in_memory_validates)
{
	struct fe_sign_keyset ks;
	keys(FE_SIGN_ALG_P256, &ks);
	struct fe_sign_csv csv;
	cr_assert_eq(fe_sign_csv_parse(CSV, strlen(CSV), APEX, NULL, 0, &csv, NULL, NULL), FE_OK);
	struct fe_sign_zone_defaults d = defaults(9);
	struct fe_sign_rrlist l;
	cr_assert_eq(fe_sign_enum_rrs(APEX, &d, csv.rows, csv.n, &l), FE_OK);
	uint8_t apex[256];
	int al = fe_sign_enum_owner(APEX, "+", apex);
	cr_assert_eq(al, FE_EFORMAT, "a number needs digits");
	static const uint8_t aw[] = {1, '2', 1,   '5', 1,   '5', 1,   '5', 1,   '1',
	                             4, 'e', '1', '6', '4', 3,   'f', 'e', 'd', 0};
	struct fe_zone *z = NULL;
	struct fe_sign_report rep;
	char err[512] = "";
	cr_assert_eq(fe_sign_zone_build(aw, l.rrs, l.n, &ks, NULL, &z, &rep, err, sizeof(err)),
	             FE_OK, "%s", err);
	cr_assert_eq(fe_zone_serial(z), 9);
	cr_assert(fe_zone_is_signed(z) || fe_zone_rr_count(z) > 0);
	cr_assert_eq(fe_zone_rr_count(z), rep.rrs_out);
	struct fe_zone_error zerr = {0};
	cr_assert_eq(fe_zone_validate(z, &zerr), FE_OK, "%s", zerr.reason);
	const struct fe_sign_key *k = ks.keys[0].role == FE_SIGN_KSK ? &ks.keys[0] : &ks.keys[1];
	uint8_t ds[64];
	int dl = fe_dnssec_ds_from_dnskey(aw, sizeof(aw), k->dnskey, k->dnskey_len, 2, ds);
	struct fe_dnssec_rdata r = {ds, (uint16_t)dl};
	struct fe_dnssec_trust t = {.ds = &r, .ds_count = 1};
	cr_assert_eq(fe_dnssec_validate(z, &t, NULL, NULL, &zerr), FE_OK, "%s", zerr.reason);
	fe_zone_free(z);
	/* a record outside the apex is refused by the zone's own checks */
	struct fe_zone_rr bad = {(const uint8_t *)"\3com\0",  5, 1, 300,
	                         (const uint8_t *)"\1\2\3\4", 4};
	cr_assert_eq(fe_zone_from_rrs(aw, sizeof(aw), &bad, 1, "list", NULL, &z, &zerr),
	             FE_EFORMAT);
	cr_assert_not_null(strstr(zerr.reason, "outside the zone"), "%s", zerr.reason);
	cr_assert_eq(zerr.line, 1);
	fe_sign_rrlist_free(&l);
	fe_sign_csv_free(&csv);
	fe_sign_keyset_free(&ks);
}

/* Sign the CSV at @now (serial @serial) against @st (NULL: from scratch) with @refresh_s,
 * commit the result to @st; the report. */
static struct fe_sign_report sign_commit(const struct fe_sign_keyset *ks, struct fe_store *st,
                                         int64_t now, uint32_t serial, uint32_t refresh_s,
                                         bool use_store)
{
	struct fe_sign_csv csv;
	cr_assert_eq(fe_sign_csv_parse(CSV, strlen(CSV), APEX, NULL, 0, &csv, NULL, NULL), FE_OK);
	struct fe_sign_zone_defaults d = defaults(serial);
	struct fe_sign_rrlist l;
	cr_assert_eq(fe_sign_enum_rrs(APEX, &d, csv.rows, csv.n, &l), FE_OK);
	static const uint8_t aw[] = {1, '2', 1,   '5', 1,   '5', 1,   '5', 1,   '1',
	                             4, 'e', '1', '6', '4', 3,   'f', 'e', 'd', 0};
	struct fe_sign_opts o;
	fe_sign_opts_init(&o);
	o.now_s = now;
	o.refresh_s = refresh_s;
	o.store = use_store ? st : NULL;
	struct fe_zone *z = NULL;
	struct fe_sign_report rep;
	char err[512] = "";
	cr_assert_eq(fe_sign_zone_build(aw, l.rrs, l.n, ks, &o, &z, &rep, err, sizeof(err)), FE_OK,
	             "%s", err);
	struct fe_zone_error zerr = {0};
	cr_assert_eq(fe_zone_validate(z, &zerr), FE_OK, "%s", zerr.reason);
	cr_assert_eq(fe_zone_commit(z, st, &zerr), FE_OK, "%s", zerr.reason);
	fe_zone_free(z);
	fe_sign_rrlist_free(&l);
	fe_sign_csv_free(&csv);
	return rep;
}

Test(sign, incremental_keeps_fresh_signatures_and_refreshes_old_ones)
{
	struct fe_sign_keyset ks;
	keys(FE_SIGN_ALG_P256, &ks);
	char db[300];
	snprintf(db, sizeof(db), "%s/db", dir);
	struct fe_store_opts so = {.no_sync = true};
	struct fe_store *st = NULL;
	cr_assert_eq(fe_store_open(db, &so, &st), FE_OK);
	const int64_t t = 1800000000; /* signatures valid 14 days from t */
	struct fe_sign_report r1 = sign_commit(&ks, st, t, 1, 7 * 86400, true);
	cr_assert_eq(r1.rrsets_reused, 0, "nothing stored yet");
	/* a day later: everything but the SOA (new serial) keeps its signatures */
	struct fe_sign_report r2 = sign_commit(&ks, st, t + 86400, 2, 7 * 86400, true);
	cr_assert_eq(r2.rrsets_reused, r2.rrsets - 1, "%llu of %llu",
	             (unsigned long long)r2.rrsets_reused, (unsigned long long)r2.rrsets);
	/* 8 days later the kept signatures expire within the 7-day refresh horizon: all new */
	struct fe_sign_report r3 = sign_commit(&ks, st, t + 8 * 86400, 3, 7 * 86400, true);
	cr_assert_eq(r3.rrsets_reused, 0);
	/* without the store, nothing is kept either */
	struct fe_sign_report r4 = sign_commit(&ks, st, t + 8 * 86400 + 60, 4, 7 * 86400, false);
	cr_assert_eq(r4.rrsets_reused, 0);
	fe_store_close(st);
	fe_sign_keyset_free(&ks);
}

/* Keys made within one second still load in the order they were made: a KSK rollover's
 * second step removes the older KSK, never the new one. */
Test(sign, keys_ordered_by_creation_within_one_second)
{
	struct fe_sign_keyset ks, again;
	keys(FE_SIGN_ALG_P256, &ks);
	char err[512];
	for (int i = 0; i < 4; i++)
		cr_assert_eq(fe_sign_key_generate(dir, &ks, FE_SIGN_KSK, FE_SIGN_ALG_P256,
		                                  FE_SIGN_ACTIVE, err, sizeof(err)),
		             FE_OK, "%s", err);
	cr_assert_eq(fe_sign_keys_load(dir, APEX, &again, err, sizeof(err)), FE_OK, "%s", err);
	cr_assert_eq(again.n, ks.n);
	for (size_t i = 0; i < ks.n; i++) {
		cr_assert_eq(again.keys[i].tag, ks.keys[i].tag, "key %zu in creation order", i);
		if (i > 0)
			cr_assert_gt(again.keys[i].created, again.keys[i - 1].created);
	}
	fe_sign_keyset_free(&ks);
	fe_sign_keyset_free(&again);
}
