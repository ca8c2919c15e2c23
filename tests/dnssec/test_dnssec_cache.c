/* Verified-signature cache: a new version of a zone re-verifies only the
 * signatures that changed. Versions are made the way a primary makes them for IXFR: BIND's
 * dnssec-signzone re-signing an already signed zone keeps every signature that is still valid
 * and signs only the changed RRsets (and their NSEC records, and the SOA). */
#include "test_dnssec_common.h"

#include <sys/stat.h>
#include <sys/wait.h>

static char dir[256];

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st = system(cmd);
	cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "failed: %s", cmd);
}

/* v1: 40 NAPTRs signed with a fresh KSK+ZSK; v2: one NAPTR changed and re-signed
 * incrementally; v3: v2 with one signature corrupted (same data). */
static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/fedenum-test-sigcache-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	sh("cd %s && { echo '$ORIGIN inc.test.'; echo '$TTL 300';"
	   " echo '@ SOA ns hostmaster 1 3600 600 86400 300'; echo '@ NS ns';"
	   " echo 'ns A 192.0.2.1'; for i in $(seq 1 40); do"
	   " echo \"n$i NAPTR 10 100 \\\"u\\\" \\\"E2U+sip\\\" \\\"!^.*\\$!sip:n$i@inc.test!\\\" "
	   ".\";"
	   " done; } > z.zone"
	   " && dnssec-keygen -q -a ECDSAP256SHA256 -f KSK -n ZONE inc.test >/dev/null"
	   " && dnssec-keygen -q -a ECDSAP256SHA256 -n ZONE inc.test >/dev/null"
	   " && dnssec-signzone -q -S -K . -N increment -o inc.test -f v1.signed z.zone >/dev/null"
	   " && sed 's/sip:n7@/sip:n7-changed@/' v1.signed > v2.in"
	   " && dnssec-signzone -q -S -K . -N increment -o inc.test -f v2.signed v2.in >/dev/null"
	   " && for k in K*.key; do dnssec-dsfromkey -2 \"$k\"; done > ds 2>/dev/null",
	   dir);
}

static void teardown(void)
{
	if (strstr(dir, "fedenum-test-"))
		sh("rm -rf '%s'", dir);
}

TestSuite(sigcache, .init = setup, .fini = teardown, .timeout = 60);

static struct fe_zone *load(const char *name)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	struct fe_zone *z = NULL;
	struct fe_zone_error err;
	memset(&err, 0, sizeof(err));
	int rc = fe_zone_parse_file(path, NULL, &z, &err);
	cr_assert_eq(rc, FE_OK, "%s:%lu: %s", err.file, err.line, err.reason);
	return z;
}

static int validate(struct fe_zone *z, const struct fe_dnssec_sigcache *known,
                    struct fe_dnssec_sigcache *learn, struct fe_dnssec_report *rep,
                    struct fe_zone_error *err)
{
	struct ttrust tt;
	memset(&tt, 0, sizeof(tt));
	char ds[400];
	snprintf(ds, sizeof(ds), "%s/ds", dir);
	trust_add_file(&tt, ds);
	struct fe_dnssec_opts o;
	fe_dnssec_opts_init(&o);
	o.known = known;
	o.learn = learn;
	memset(err, 0, sizeof(*err));
	return fe_dnssec_validate(z, &tt.t, &o, rep, err);
}

Test(sigcache, incremental_version_verifies_only_what_changed)
{
	struct fe_dnssec_report r1, r2, r3;
	struct fe_zone_error err;
	struct fe_dnssec_sigcache *c1 = fe_dnssec_sigcache_create(),
	                          *c2 = fe_dnssec_sigcache_create();
	cr_assert(c1 && c2);

	struct fe_zone *v1 = load("v1.signed");
	cr_assert_eq(validate(v1, NULL, c1, &r1, &err), FE_OK, "%s", err.reason);
	cr_expect_eq(r1.signatures_cached, 0);
	cr_expect_geq(r1.signatures, 80, "40 NAPTR + 40 NSEC + apex RRsets");
	cr_expect_eq(fe_dnssec_sigcache_count(c1), r1.signatures, "every proven triple kept");

	/* The same version again: no public-key operation at all. */
	cr_assert_eq(validate(v1, c1, NULL, &r3, &err), FE_OK, "%s", err.reason);
	cr_expect_eq(r3.signatures, 0);
	cr_expect_eq(r3.signatures_cached, r1.signatures);
	fe_zone_free(v1);

	/* v2: one NAPTR changed. Only its RRSIG and the SOA's are new (its NSEC is unchanged:
	 * same name, same types), so only those are verified. */
	struct fe_zone *v2 = load("v2.signed");
	cr_assert_eq(validate(v2, c1, c2, &r2, &err), FE_OK, "%s", err.reason);
	cr_expect_leq(r2.signatures, 4, "verified %llu of %llu", (unsigned long long)r2.signatures,
	              (unsigned long long)(r2.signatures + r2.signatures_cached));
	cr_expect_geq(r2.signatures, 2, "the changed NAPTR and the new SOA must be verified");
	cr_expect_eq(r2.signatures + r2.signatures_cached, r1.signatures);
	cr_log_info("v1: %llu signatures verified; v2 (one NAPTR changed): %llu verified, %llu "
	            "proven by v1",
	            (unsigned long long)r1.signatures, (unsigned long long)r2.signatures,
	            (unsigned long long)r2.signatures_cached);
	fe_zone_free(v2);
	fe_dnssec_sigcache_destroy(c1);
	fe_dnssec_sigcache_destroy(c2);
}

/* A cache never makes a bad signature good: v2 with the changed NAPTR's data altered again
 * (its RRSIG no longer matches), validated with a cache holding v1's and v2's proofs. */
Test(sigcache, cache_does_not_hide_a_bad_signature)
{
	struct fe_dnssec_report r;
	struct fe_zone_error err;
	struct fe_dnssec_sigcache *c = fe_dnssec_sigcache_create();
	cr_assert_not_null(c);
	struct fe_zone *v1 = load("v1.signed");
	cr_assert_eq(validate(v1, NULL, c, &r, &err), FE_OK, "%s", err.reason);
	fe_zone_free(v1);
	struct fe_zone *v2 = load("v2.signed");
	cr_assert_eq(validate(v2, NULL, c, &r, &err), FE_OK, "%s", err.reason);
	fe_zone_free(v2);

	sh("cd %s && sed 's/sip:n7-changed@/sip:n7-forged@/' v2.signed > v3.signed", dir);
	struct fe_zone *v3 = load("v3.signed");
	cr_assert_eq(validate(v3, c, NULL, &r, &err), FE_EVALIDATE);
	cr_expect_not_null(strstr(err.reason, "n7.inc.test."), "%s", err.reason);
	cr_expect_not_null(strstr(err.reason, "signature invalid"), "%s", err.reason);
	fe_zone_free(v3);
	fe_dnssec_sigcache_destroy(c);
}
