/* trust/ federation trust over a real store: trust-anchor files, loads through the chain of
 * trust (registry → DS → member), number-range authority, docs/security.md Z1/Z2/Z5 (rejected,
 * previous version kept, reason kept in the zone's state), re-delegation and withdrawn
 * delegations followed by the sweep, chain expiry, and the store's trust marks.
 * Fixtures: tests/integration/data/trust/make-fixtures.sh (test-only keys). */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fedenum/store.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "fedenum/trust.h"
#include "fedenum/zone.h"

#define TD FE_SOURCE_DIR "/tests/integration/data/trust"

static char dir[256];
static struct fe_store *st;
static struct fe_trust_anchors *anchors;
static struct fe_trust_opts topts;
static struct fe_trust *ctx; /* the caches load() calls keep (NULL: none) */

static void setup(void)
{
	snprintf(dir, sizeof(dir), "%s/fedenum-trust-XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	cr_assert_not_null(mkdtemp(dir));
	struct fe_store_opts so = {.map_size_bytes = 64u << 20, .no_sync = true};
	cr_assert_eq(fe_store_open(dir, &so, &st), FE_OK);
	cr_assert_eq(fe_trust_anchors_create(&anchors), FE_OK);
	struct fe_zone_error e;
	cr_assert_eq(fe_trust_anchors_add_file(anchors, TD "/e164.test.ds", NULL, &e), FE_OK, "%s",
	             e.reason);
	memset(&topts, 0, sizeof(topts));
	topts.anchors = anchors;
	fe_dnssec_opts_init(&topts.validate);
	topts.validate.threads = 2;
	fe_log_set_level(FE_LOG_ERR);
}

static void teardown(void)
{
	fe_trust_destroy(ctx);
	ctx = NULL;
	fe_store_close(st);
	st = NULL;
	fe_trust_anchors_destroy(anchors);
	anchors = NULL;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(trust, .init = setup, .fini = teardown, .timeout = 60);

/* ---- helpers ------------------------------------------------------------------------ */

static void wire(const char *name, uint8_t *out, size_t *len)
{
	size_t o = 0;
	const char *p = name;
	while (*p && strcmp(p, ".") != 0) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		out[o++] = (uint8_t)l;
		memcpy(out + o, p, l);
		o += l;
		p += l + (dot ? 1 : 0);
	}
	out[o++] = 0;
	*len = o;
}

/* Rolling a zone back on purpose (fe_zone_opts.force) for the next load() calls. */
static bool forcing;

static int load(const char *fixture, struct fe_trust_result *res, struct fe_zone_error *e)
{
	char path[512];
	struct fe_zone_opts zo = {.force = forcing};
	snprintf(path, sizeof(path), "%s/%s.signed", TD, fixture);
	return fe_trust_load(ctx, path, &zo, &topts, st, res, e);
}

static void load_ok(const char *fixture, enum fe_trust_outcome want)
{
	struct fe_trust_result res;
	struct fe_zone_error e;
	int rc = load(fixture, &res, &e);
	cr_assert_eq(rc, FE_OK, "%s: %s (%s:%lu)", fixture, e.reason, e.file, e.line);
	cr_assert_eq(res.outcome, want, "%s: outcome %d", fixture, res.outcome);
}

/* Load that must fail with FE_EVALIDATE and a reason containing @needle. */
static void load_rejected(const char *fixture, const char *needle, struct fe_trust_result *res)
{
	struct fe_zone_error e;
	int rc = load(fixture, res, &e);
	cr_assert_eq(rc, FE_EVALIDATE, "%s: rc %d (%s)", fixture, rc, fe_strerror(rc));
	cr_assert_eq(res->outcome, FE_TRUST_LOAD_FAILED);
	cr_assert_not_null(strstr(e.reason, needle), "%s: reason \"%s\" lacks \"%s\"", fixture,
	                   e.reason, needle);
}

/* Copy of the zone record of @apex; false when not held. */
static bool zone_rec(const char *apex, struct fe_store_zone_rec *out)
{
	uint8_t w[256], key[FE_WIRE_KEY_MAX];
	size_t wl;
	wire(apex, w, &wl);
	int kl = fe_wire_name_key(w, wl, key, sizeof(key));
	cr_assert_gt(kl, 0);
	struct fe_store_reader *r;
	const struct fe_store_zone_rec *z;
	cr_assert_eq(fe_store_reader_create(st, &r), FE_OK);
	cr_assert_eq(fe_store_reader_begin(r), FE_OK);
	int rc = fe_store_get_zone(r, key, (size_t)kl, &z);
	if (rc == FE_OK)
		*out = *z;
	fe_store_reader_end(r);
	fe_store_reader_destroy(r);
	cr_assert(rc == FE_OK || rc == FE_ENOENT);
	return rc == FE_OK;
}

static void zstate(const char *apex, struct fe_trust_zstate *zs)
{
	uint8_t w[256];
	size_t wl;
	wire(apex, w, &wl);
	cr_assert_eq(fe_trust_zstate_get(st, w, wl, zs), FE_OK, "no state for %s", apex);
}

#define REG   "e164.test."
#define ZA    "1.5.5.5.1.e164.test."
#define ZB    "2.5.5.5.1.e164.test."
#define T2036 2082758400LL /* 2036-01-01T00:00:00Z, the fixtures' RRSIG expiration */

static bool served(const char *apex)
{
	struct fe_store_zone_rec z;
	return zone_rec(apex, &z) && (z.flags & FE_ZONE_VALIDATED) && !(z.flags & FE_ZONE_BOGUS) &&
	       z.sig_expire_s > fe_time_wall_s();
}

/* ---- trust anchors ----------------------------------------------------------------- */

Test(trust, anchors_from_ds_and_key_files)
{
	uint8_t w[256];
	size_t wl;
	struct fe_dnssec_trust t;
	char buf[256];
	wire(REG, w, &wl);
	cr_assert_eq(fe_trust_anchors_count(anchors), 1);
	cr_assert(fe_trust_anchors_for(anchors, w, wl, &t));
	cr_assert_eq(t.ds_count, 1);
	cr_assert_eq(t.dnskey_count, 0);
	cr_assert_eq(t.ds[0].len, 4 + 32);
	fe_trust_anchors_describe(anchors, buf, sizeof(buf));
	cr_assert_str_eq(buf, "e164.test. (DS 50927/13/2)");
	/* Case does not matter; other names have none. */
	w[1] = 'E';
	cr_assert(fe_trust_anchors_for(anchors, w, wl, &t));
	wire(ZA, w, &wl);
	cr_assert_not(fe_trust_anchors_for(anchors, w, wl, &t));
	cr_assert_eq(t.ds_count + t.dnskey_count, 0);

	/* The same key as a DNSKEY (the .key file), twice: kept once. */
	struct fe_zone_error e;
	cr_assert_eq(fe_trust_anchors_add_file(anchors, TD "/e164.test.key", NULL, &e), FE_OK, "%s",
	             e.reason);
	cr_assert_eq(fe_trust_anchors_add_file(anchors, TD "/e164.test.key", NULL, &e), FE_OK);
	cr_assert_eq(fe_trust_anchors_count(anchors), 2);
	wire(REG, w, &wl);
	cr_assert(fe_trust_anchors_for(anchors, w, wl, &t));
	cr_assert_eq(t.dnskey_count, 1);
	fe_trust_anchors_describe(anchors, buf, sizeof(buf));
	cr_assert_str_eq(buf, "e164.test. (DS 50927/13/2, DNSKEY 50927/13)");
}

static int anchor_text(const char *text, struct fe_zone_error *e, unsigned *skipped)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/anchor.txt", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	struct fe_trust_anchors *a;
	cr_assert_eq(fe_trust_anchors_create(&a), FE_OK);
	memset(e, 0, sizeof(*e));
	int rc = fe_trust_anchors_add_file(a, path, skipped, e);
	fe_trust_anchors_destroy(a);
	return rc;
}

Test(trust, anchor_files_refused_with_line)
{
	struct fe_zone_error e;
	unsigned skipped;
	cr_assert_eq(anchor_text("; comment\n\nx.test. IN A 192.0.2.1\n", &e, NULL), FE_EFORMAT);
	cr_assert_eq(e.line, 3, "line %lu", e.line);
	cr_assert_not_null(strstr(e.reason, "DS or DNSKEY"), "%s", e.reason);
	cr_assert_eq(anchor_text("x.test. IN DS 1 13 2 zz\n", &e, NULL), FE_ESYNTAX);
	cr_assert_eq(e.line, 1);
	/* relative owner without $ORIGIN: the root */
	cr_assert_eq(
	        anchor_text("@ IN DS 50927 13 2 "
	                    "1579eef9650bc2581de5e62243b51c491b300963b4cc65ebf50e11227214acde\n",
	                    &e, NULL),
	        FE_EFORMAT);
	cr_assert_not_null(strstr(e.reason, "root"), "%s", e.reason);
	/* SHA-1 digest and an unsupported algorithm only: nothing usable */
	cr_assert_eq(
	        anchor_text("x.test. IN DS 1 13 1 0123456789012345678901234567890123456789\n"
	                    "x.test. IN DS 1 5 2 "
	                    "1579eef9650bc2581de5e62243b51c491b300963b4cc65ebf50e11227214acde\n",
	                    &e, &skipped),
	        FE_EFORMAT);
	cr_assert_eq(skipped, 2);
	cr_assert_not_null(strstr(e.reason, "no usable trust anchor"), "%s", e.reason);
	/* $ORIGIN, $TTL and a usable DS next to an unusable one */
	cr_assert_eq(
	        anchor_text("$ORIGIN test.\n$TTL 60\n"
	                    "x IN DS 1 13 1 0123456789012345678901234567890123456789\n"
	                    "x IN DS 1 13 2 "
	                    "1579eef9650bc2581de5e62243b51c491b300963b4cc65ebf50e11227214acde\n",
	                    &e, &skipped),
	        FE_OK, "%s", e.reason);
	cr_assert_eq(skipped, 1);
	struct fe_trust_anchors *a;
	cr_assert_eq(fe_trust_anchors_create(&a), FE_OK);
	cr_assert_eq(fe_trust_anchors_add_file(a, "/nonexistent/anchor.ds", NULL, &e), FE_ENOENT);
	fe_trust_anchors_destroy(a);
}

/* ---- the chain ------------------------------------------------------------------------ */

Test(trust, registry_then_members_validate)
{
	struct fe_trust_result res;
	struct fe_zone_error e;
	cr_assert_eq(load("registry-v1", &res, &e), FE_OK, "%s", e.reason);
	cr_assert_eq(res.outcome, FE_TRUST_LOADED);
	cr_assert_str_eq(res.trust, "trust anchor");
	cr_assert_str_eq(res.apex, REG);
	cr_assert_eq(res.serial, 1);
	cr_assert_eq(res.expire_s, T2036);
	cr_assert_gt(res.rep.signatures, 5);
	cr_assert_eq(load("a-v1", &res, &e), FE_OK, "%s", e.reason);
	cr_assert_str_eq(res.trust, "DS in e164.test.");
	cr_assert_eq(load("b-v1", &res, &e), FE_OK, "%s", e.reason);

	struct fe_store_zone_rec z;
	cr_assert(zone_rec(ZA, &z));
	cr_assert(z.flags & FE_ZONE_VALIDATED);
	cr_assert_not(z.flags & FE_ZONE_BOGUS);
	cr_assert_eq(z.sig_expire_s, T2036);
	struct fe_trust_zstate zs;
	zstate(ZA, &zs);
	cr_assert_eq(zs.state, FE_TRUST_SECURE);
	cr_assert_eq(zs.serial, 1);
	cr_assert_eq(zs.validations, 1);
	cr_assert_eq(zs.failures, 0);
	cr_assert_eq(zs.key_tag, 50405);
	cr_assert_eq(zs.own_expire_s, T2036);
	cr_assert_str_eq(zs.trust, "DS in e164.test.");
	cr_assert_str_eq(fe_trust_state_str(zs.state), "secure");

	/* Same serial again: not validated again. */
	load_ok("a-v1", FE_TRUST_UNCHANGED);
	zstate(ZA, &zs);
	cr_assert_eq(zs.validations, 1);

	struct fe_trust_sweep_report rep;
	cr_assert_eq(fe_trust_sweep(st, anchors, 0, &rep), FE_OK);
	cr_assert_eq(rep.zones, 3);
	cr_assert_eq(rep.secure, 3);
	cr_assert_eq(rep.bogus + rep.unchecked + rep.suspended + rep.restored, 0);
}

Test(trust, member_before_registry_has_no_chain)
{
	struct fe_trust_result res;
	load_rejected("a-v1", "no zone above it is held", &res);
	cr_assert_not(res.has_previous);
	struct fe_store_zone_rec z;
	cr_assert_not(zone_rec(ZA, &z));
	struct fe_trust_zstate zs;
	zstate(ZA, &zs);
	cr_assert_eq(zs.state, FE_TRUST_REJECTED);
	cr_assert_eq(zs.failed_serial, 1);
	cr_assert_eq(zs.failures, 1);
	cr_assert_not_null(strstr(zs.reason, "no chain of trust"), "%s", zs.reason);
	/* In order it works. */
	load_ok("registry-v1", FE_TRUST_LOADED);
	load_ok("a-v1", FE_TRUST_LOADED);
	zstate(ZA, &zs);
	cr_assert_eq(zs.state, FE_TRUST_SECURE);
}

Test(trust, wrong_anchor_rejects_the_registry)
{
	struct fe_trust_anchors *wrong;
	struct fe_zone_error e;
	cr_assert_eq(fe_trust_anchors_create(&wrong), FE_OK);
	/* A DS of the right owner but for key a (another key). */
	char path[300];
	snprintf(path, sizeof(path), "%s/wrong.ds", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("e164.test. IN DS 50405 13 2 "
	      "4f6a6186d3e34e8205b5bac009a3faef8f06d759262f0ad40eef829e71e31602\n",
	      f);
	fclose(f);
	cr_assert_eq(fe_trust_anchors_add_file(wrong, path, NULL, &e), FE_OK, "%s", e.reason);
	topts.anchors = wrong;
	struct fe_trust_result res;
	load_rejected("registry-v1", "no zone key matches the trust (DS 50405/13/2)", &res);
	topts.anchors = anchors;
	fe_trust_anchors_destroy(wrong);
}

/* docs/security.md Z2 / range authority: member A signs a zone for B's prefix with its own key; the
 * registry's DS at 2.5.5.5.1 is B's. */
Test(trust, member_cannot_publish_another_members_prefix)
{
	struct fe_trust_result res;
	load_ok("registry-v1", FE_TRUST_LOADED);
	load_rejected("a-for-b", "no zone key matches the trust (DS 37669/13/2)", &res);
	struct fe_store_zone_rec z;
	cr_assert_not(zone_rec(ZB, &z));
	/* B's own zone is accepted. */
	load_ok("b-v1", FE_TRUST_LOADED);
	/* and A's version does not replace it */
	load_rejected("a-for-b", "DS 37669/13/2", &res);
	cr_assert(res.has_previous);
	cr_assert_eq(res.previous_serial, 1);
	cr_assert(res.previous_served);
	cr_assert(zone_rec(ZB, &z));
	cr_assert_eq(z.serial, 1);
}

/* docs/security.md Z2: a member zone signed with keys whose DS the registry does not publish. */
Test(trust, member_key_without_registry_ds)
{
	struct fe_trust_result res;
	load_ok("registry-v1", FE_TRUST_LOADED);
	load_ok("a-v1", FE_TRUST_LOADED);
	load_rejected("a-rogue", "no zone key matches the trust (DS 50405/13/2)", &res);
	cr_assert(res.previous_served);
	cr_assert_eq(res.previous_serial, 1);
	struct fe_store_zone_rec z;
	cr_assert(zone_rec(ZA, &z));
	cr_assert_eq(z.serial, 1);
	struct fe_trust_zstate zs;
	zstate(ZA, &zs);
	cr_assert_eq(zs.state, FE_TRUST_SECURE); /* the previous version serves */
	cr_assert_eq(zs.serial, 1);
	cr_assert_eq(zs.failed_serial, 5);
	cr_assert_eq(zs.failures, 1);
	cr_assert_not_null(strstr(zs.reason, "serial 5: "), "%s", zs.reason);
	cr_assert_not_null(strstr(zs.reason, "DNSKEY"), "%s", zs.reason);
	cr_assert_geq(zs.failed_at_s, zs.validated_at_s);
}

/* docs/security.md Z5: numbers the registry did not delegate. */
Test(trust, undelegated_prefixes_not_served)
{
	struct fe_trust_result res;
	load_ok("registry-v1", FE_TRUST_LOADED);
	load_rejected("a-undelegated", "e164.test. does not delegate 3.5.5.5.1.e164.test.", &res);
	/* 5.5.5.1 is an empty non-terminal of the registry, no delegation */
	load_rejected("a-wide", "e164.test. does not delegate 5.5.5.1.e164.test.", &res);
	struct fe_store_zone_rec z;
	cr_assert_not(zone_rec("3.5.5.5.1.e164.test.", &z));
	cr_assert_not(zone_rec("5.5.5.1.e164.test.", &z));
	/* Without the delegation (registry v3), B's zone cannot come in either. */
	load_ok("registry-v3", FE_TRUST_LOADED);
	load_rejected("b-v1", "does not delegate 2.5.5.5.1.e164.test.", &res);
}

/* docs/security.md Z1 at the trust layer: a bad RRSIG; the previous version keeps serving. */
Test(trust, bad_signature_keeps_previous_version)
{
	struct fe_trust_result res;
	load_ok("registry-v1", FE_TRUST_LOADED);
	load_ok("a-v1", FE_TRUST_LOADED);
	load_rejected("a-v3-badsig", "3.0.0.0.0.0.1.5.5.5.1.e164.test.", &res);
	cr_assert(res.previous_served);
	struct fe_trust_zstate zs;
	zstate(ZA, &zs);
	cr_assert_eq(zs.failed_serial, 3);
	cr_assert_not_null(strstr(zs.reason, "NAPTR"), "%s", zs.reason);
	cr_assert(served(ZA));
	/* A good newer version comes in; the failure stays as history. */
	load_ok("a-v4", FE_TRUST_LOADED);
	zstate(ZA, &zs);
	cr_assert_eq(zs.serial, 4);
	cr_assert_eq(zs.failed_serial, 3);
	cr_assert_gt(zs.validations, 1);
}

/* Re-delegation: the registry's DS for A changes; the stored A stops being served, A's zone
 * signed with the new key comes in, and a registry reverting is followed too. */
Test(trust, redelegation_followed_by_the_sweep)
{
	struct fe_trust_sweep_report rep;
	struct fe_trust_result res;
	load_ok("registry-v1", FE_TRUST_LOADED);
	load_ok("a-v1", FE_TRUST_LOADED);
	load_ok("b-v1", FE_TRUST_LOADED);

	load_ok("registry-v2", FE_TRUST_LOADED);
	/* A's file unchanged: the load is a no-op, the sweep decides. */
	load_ok("a-v1", FE_TRUST_UNCHANGED);
	cr_assert_eq(fe_trust_sweep(st, anchors, 0, &rep), FE_OK);
	cr_assert_eq(rep.zones, 3);
	cr_assert_eq(rep.bogus, 1);
	cr_assert_eq(rep.suspended, 1);
	cr_assert_eq(rep.secure, 2);
	cr_assert_not(served(ZA));
	cr_assert(served(ZB));
	struct fe_trust_zstate zs;
	zstate(ZA, &zs);
	cr_assert_eq(zs.state, FE_TRUST_BOGUS);
	cr_assert_not_null(strstr(zs.reason, "DS 46933/13/2"), "%s", zs.reason);
	cr_assert_str_eq(fe_trust_state_str(zs.state), "bogus");
	/* A second sweep changes nothing and does not count again. */
	uint64_t f = zs.failures;
	cr_assert_eq(fe_trust_sweep(st, anchors, 0, &rep), FE_OK);
	cr_assert_eq(rep.suspended, 0);
	zstate(ZA, &zs);
	cr_assert_eq(zs.failures, f);

	/* The old key's newer version is rejected; the re-delegated key's version comes in. */
	load_rejected("a-v4", "DS 46933/13/2", &res);
	cr_assert_not(res.previous_served);
	load_ok("a-v2", FE_TRUST_LOADED);
	cr_assert_eq(fe_trust_sweep(st, anchors, 0, &rep), FE_OK);
	cr_assert_eq(rep.secure, 3);
	cr_assert(served(ZA));

	/* The registry goes back to v1 (the DS of key a), a lower serial: refused, unless
	 * forced; then a-v2 (key a2) breaks. */
	struct fe_zone_error se;
	cr_assert_eq(load("registry-v1", &res, &se), FE_ESERIAL);
	cr_assert_not_null(strstr(se.reason, "is older than the stored serial"), "%s", se.reason);
	forcing = true;
	load_ok("registry-v1", FE_TRUST_LOADED);
	forcing = false;
	cr_assert_eq(fe_trust_sweep(st, anchors, 0, &rep), FE_OK);
	cr_assert_eq(rep.suspended, 1);
	cr_assert_not(served(ZA));
	/* and forward again: served again without a load (its data was kept). */
	load_ok("registry-v2", FE_TRUST_LOADED);
	cr_assert_eq(fe_trust_sweep(st, anchors, 0, &rep), FE_OK);
	cr_assert_eq(rep.restored, 1);
	cr_assert(served(ZA));
	zstate(ZA, &zs);
	cr_assert_eq(zs.state, FE_TRUST_SECURE);
}

Test(trust, withdrawn_delegation_stops_the_member)
{
	struct fe_trust_sweep_report rep;
	load_ok("registry-v1", FE_TRUST_LOADED);
	load_ok("a-v1", FE_TRUST_LOADED);
	load_ok("b-v1", FE_TRUST_LOADED);
	load_ok("registry-v3", FE_TRUST_LOADED);
	cr_assert_eq(fe_trust_sweep(st, anchors, 0, &rep), FE_OK);
	cr_assert_eq(rep.suspended, 1);
	cr_assert_not(served(ZB));
	cr_assert(served(ZA));
	struct fe_trust_zstate zs;
	zstate(ZB, &zs);
	cr_assert_not_null(strstr(zs.reason, "does not delegate"), "%s", zs.reason);
}

/* A bogus registry takes its members with it; an anchor change is followed too. */
Test(trust, anchor_change_and_bogus_parent)
{
	struct fe_trust_sweep_report rep;
	load_ok("registry-v1", FE_TRUST_LOADED);
	load_ok("a-v1", FE_TRUST_LOADED);
	struct fe_trust_anchors *other;
	cr_assert_eq(fe_trust_anchors_create(&other), FE_OK);
	uint8_t w[256], ds[4 + 32] = {0x30, 0x39, 13, 2};
	size_t wl;
	wire(REG, w, &wl);
	cr_assert_eq(fe_trust_anchors_add(other, w, wl, FE_T_DS, ds, sizeof(ds)), FE_OK);
	cr_assert_eq(fe_trust_sweep(st, other, 0, &rep), FE_OK);
	cr_assert_eq(rep.bogus, 2);
	cr_assert_not(served(REG));
	cr_assert_not(served(ZA));
	struct fe_trust_zstate zs;
	zstate(ZA, &zs);
	cr_assert_not_null(strstr(zs.reason, "parent zone e164.test. is bogus"), "%s", zs.reason);
	cr_assert_eq(fe_trust_sweep(st, anchors, 0, &rep), FE_OK);
	cr_assert_eq(rep.restored, 2);
	cr_assert(served(REG));
	cr_assert(served(ZA));
	fe_trust_anchors_destroy(other);
}

/* The chain expiry: a member is only as fresh as the registry it hangs from. */
Test(trust, chain_expiry_follows_the_parent)
{
	struct fe_trust_sweep_report rep;
	load_ok("registry-v1", FE_TRUST_LOADED);
	load_ok("a-v1", FE_TRUST_LOADED);
	struct fe_store_zone_rec reg, a;
	cr_assert(zone_rec(REG, &reg));
	uint8_t w[256];
	size_t wl;
	wire(REG, w, &wl);
	int64_t soon = fe_time_wall_s() + 3600;
	/* As if the registry's own signatures ran out in an hour. */
	struct fe_trust_zstate rzs;
	zstate(REG, &rzs);
	rzs.own_expire_s = soon;
	cr_assert_eq(fe_trust_zstate_put(st, w, wl, &rzs), FE_OK);
	cr_assert_eq(fe_store_zone_mark(st, w, wl, reg.version, 0, 0, soon), FE_OK);
	/* a stale version id is refused */
	cr_assert_eq(fe_store_zone_mark(st, w, wl, reg.version + 99, 0, 0, 1), FE_EAGAIN);
	cr_assert_eq(fe_trust_sweep(st, anchors, 0, &rep), FE_OK);
	cr_assert(zone_rec(ZA, &a));
	cr_assert_eq(a.sig_expire_s, soon);
	struct fe_trust_zstate zs;
	zstate(ZA, &zs);
	cr_assert_eq(zs.own_expire_s, T2036);
	/* After the registry's expiry the member is expired too (not bogus: EDE 7 at query
	 * time), and no new version of it can come in. */
	cr_assert_eq(fe_trust_sweep(st, anchors, soon + 1, &rep), FE_OK);
	cr_assert_eq(rep.suspended, 0);
	cr_assert(zone_rec(ZA, &a));
	cr_assert_eq(a.sig_expire_s, soon);
	cr_assert_not(a.flags & FE_ZONE_BOGUS);
	topts.validate.now_s = soon + 1;
	struct fe_trust_result res;
	load_rejected("a-v4", "has expired signatures", &res);
	zstate(ZA, &zs);
	cr_assert_not_null(strstr(zs.reason, "expired signatures"), "%s", zs.reason);
}

/* A zone stored without validation (no anchors at the time) is not served under anchors until
 * a validated load replaces it, even with the same serial. */
Test(trust, unvalidated_version_is_replaced)
{
	struct fe_trust_sweep_report rep;
	struct fe_zone_error e;
	cr_assert_eq(fe_zone_load_file(TD "/registry-v1.signed", NULL, st, &e), FE_OK, "%s",
	             e.reason);
	struct fe_store_zone_rec z;
	cr_assert(zone_rec(REG, &z));
	cr_assert_not(z.flags & FE_ZONE_VALIDATED);
	cr_assert_eq(fe_trust_sweep(st, anchors, 0, &rep), FE_OK);
	cr_assert_eq(rep.unchecked, 1);
	struct fe_trust_zstate zs;
	zstate(REG, &zs);
	cr_assert_eq(zs.state, FE_TRUST_UNCHECKED);
	load_ok("registry-v1", FE_TRUST_LOADED);
	cr_assert(zone_rec(REG, &z));
	cr_assert(z.flags & FE_ZONE_VALIDATED);
	cr_assert_eq(z.serial, 1);
	cr_assert_eq(fe_trust_sweep(st, anchors, 0, &rep), FE_OK);
	cr_assert_eq(rep.secure, 1);
}

static bool count_cb(const struct fe_trust_zstate *zs, void *arg)
{
	unsigned *n = arg;
	cr_assert_gt(zs->apex_len, 1);
	(*n)++;
	return true;
}

Test(trust, parse_failure_is_kept_and_states_listed)
{
	struct fe_trust_result res;
	struct fe_zone_error e;
	char path[300];
	load_ok("registry-v1", FE_TRUST_LOADED);
	snprintf(path, sizeof(path), "%s/broken.zone", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("$ORIGIN e164.test.\n$TTL 60\n@ SOA ns1 h 9 1 1 1 1\n@ NS ns1\nx A 192.0.2.300\n", f);
	fclose(f);
	int rc = fe_trust_load(NULL, path, NULL, &topts, st, &res, &e);
	cr_assert_eq(rc, FE_ESYNTAX, "%d %s", rc, e.reason);
	cr_assert_str_eq(res.apex, REG);
	cr_assert(res.previous_served);
	struct fe_trust_zstate zs;
	zstate(REG, &zs);
	cr_assert_eq(zs.state, FE_TRUST_SECURE);
	cr_assert_eq(zs.failures, 1);
	cr_assert_not_null(strstr(zs.reason, "broken.zone:5"), "%s", zs.reason);
	load_rejected("a-undelegated", "does not delegate", &res);
	unsigned n = 0;
	cr_assert_eq(fe_trust_zstate_foreach(st, count_cb, &n), FE_OK);
	cr_assert_eq(n, 2); /* the registry and the rejected 3.5.5.5.1 */
}

/* docs/security.md Z3, Z4, Z6 through the trust layer: each bad version of A is rejected with its
 * reason kept, and the previous version (serial 1) keeps serving. */
static void rejected_keeps_v1(const char *fixture, uint32_t serial, const char *needle)
{
	struct fe_trust_result res;
	load_rejected(fixture, needle, &res);
	cr_assert(res.has_previous);
	cr_assert_eq(res.previous_serial, 1);
	cr_assert(res.previous_served, "%s: previous version not served", fixture);
	cr_assert(served(ZA));
	struct fe_store_zone_rec z;
	cr_assert(zone_rec(ZA, &z));
	cr_assert_eq(z.serial, 1);
	struct fe_trust_zstate zs;
	zstate(ZA, &zs);
	cr_assert_eq(zs.state, FE_TRUST_SECURE);
	cr_assert_eq(zs.failed_serial, serial);
	cr_assert_not_null(strstr(zs.reason, needle), "%s: kept reason \"%s\"", fixture, zs.reason);
}

Test(trust, z3_z4_z6_rejected_previous_kept)
{
	load_ok("registry-v1", FE_TRUST_LOADED);
	load_ok("a-v1", FE_TRUST_LOADED);
	rejected_keeps_v1("a-z3-iter51", 10, "51 iterations, above the limit of 50");
	rejected_keeps_v1("a-z3-gap", 11, "NSEC3 chain broken");
	/* KeyTrap: 7 keys share key a's tag and algorithm, above the collision budget (4): the
	 * group is never used, so the DS finds no usable key. (The work is bounded by count, not
	 * by time: tests/dnssec/test_dnssec_keytrap.c; wall time is never asserted here.) */
	rejected_keeps_v1("a-z4-keytrap", 12, "DNSKEY at 1.5.5.5.1.e164.test.");
	rejected_keeps_v1("a-z6-zonemd", 13, "ZONEMD at 1.5.5.5.1.e164.test.: digest mismatch");
	struct fe_trust_zstate zs;
	zstate(ZA, &zs);
	cr_assert_eq(zs.failures, 4);
	/* The same zone with a lower iteration cap refused, a higher one accepted. */
	topts.validate.nsec3_max_iterations = 51;
	load_ok("a-z3-iter51", FE_TRUST_LOADED);
}

/* The status line for fedenumctl zone-list. */
Test(trust, status_line)
{
	uint8_t w[256];
	size_t wl;
	char buf[1200];
	wire(ZA, w, &wl);
	fe_trust_status(st, w, wl, buf, sizeof(buf));
	cr_assert_str_eq(buf, "-");
	load_ok("registry-v1", FE_TRUST_LOADED);
	load_ok("a-v1", FE_TRUST_LOADED);
	fe_trust_status(st, w, wl, buf, sizeof(buf));
	cr_assert_str_eq(buf, "secure (DS in e164.test., key 50405/13)");
	struct fe_trust_result res;
	load_rejected("a-v3-badsig", "RRSIG NAPTR", &res);
	fe_trust_status(st, w, wl, buf, sizeof(buf));
	cr_assert(strncmp(buf, "secure (DS in e164.test., key 50405/13); rejected serial 3 at ",
	                  62) == 0,
	          "%s", buf);
	cr_assert_not_null(strstr(buf, "RRSIG NAPTR at 3.0.0.0.0.0.1.5.5.5.1.e164.test."), "%s",
	                   buf);
	load_ok("registry-v2", FE_TRUST_LOADED);
	cr_assert_eq(fe_trust_sweep(st, anchors, 0, NULL), FE_OK);
	fe_trust_status(st, w, wl, buf, sizeof(buf));
	cr_assert(strncmp(buf, "bogus since ", 12) == 0, "%s", buf);
	cr_assert_not_null(strstr(buf, "DS 46933/13/2"), "%s", buf);
	/* cut short, still terminated */
	char small[16];
	size_t need = fe_trust_status(st, w, wl, small, sizeof(small));
	cr_assert_gt(need, sizeof(small));
	cr_assert_eq(strlen(small), sizeof(small) - 1);
}

/* The verified-signature caches live in the caller's struct fe_trust: a new version of a zone
 * loaded through the same context verifies only what changed; through a fresh context (or
 * none) everything again. Versions as a primary makes them for IXFR: dnssec-signzone
 * re-signing a signed zone keeps the signatures that are still valid. */
static int load_path(const char *path, struct fe_trust_result *res)
{
	struct fe_zone_error e;
	struct fe_zone_opts zo = {.force = forcing};
	int rc = fe_trust_load(ctx, path, &zo, &topts, st, res, &e);
	cr_assert_eq(rc, FE_OK, "%s: %s", path, e.reason);
	cr_assert_eq(res->outcome, FE_TRUST_LOADED);
	return rc;
}

Test(trust, context_keeps_proven_signatures)
{
	char gen[300], cmd[2048], v1[400], v2[400], ds[400];
	snprintf(gen, sizeof(gen), "%s/gen", dir);
	snprintf(cmd, sizeof(cmd),
	         "mkdir -p %s && cd %s && { echo '$ORIGIN inc.test.'; echo '$TTL 300';"
	         " echo '@ SOA ns hostmaster 1 3600 600 86400 300'; echo '@ NS ns';"
	         " echo 'ns A 192.0.2.1'; for i in $(seq 1 20); do echo \"n$i TXT t$i\"; done;"
	         " } > z.zone"
	         " && dnssec-keygen -q -a ECDSAP256SHA256 -f KSK -n ZONE inc.test >/dev/null"
	         " && dnssec-keygen -q -a ECDSAP256SHA256 -n ZONE inc.test >/dev/null"
	         " && dnssec-signzone -q -S -K . -N increment -o inc.test -f v1.signed z.zone"
	         " >/dev/null && sed 's/\"t7\"$/\"t7-changed\"/' v1.signed > v2.in"
	         " && dnssec-signzone -q -S -K . -N increment -o inc.test -f v2.signed v2.in"
	         " >/dev/null && for k in K*.key; do dnssec-dsfromkey -2 \"$k\"; done > ds"
	         " 2>/dev/null",
	         gen, gen);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	snprintf(v1, sizeof(v1), "%s/v1.signed", gen);
	snprintf(v2, sizeof(v2), "%s/v2.signed", gen);
	snprintf(ds, sizeof(ds), "%s/ds", gen);
	struct fe_zone_error e;
	cr_assert_eq(fe_trust_anchors_add_file(anchors, ds, NULL, &e), FE_OK, "%s", e.reason);

	struct fe_trust_result res;
	cr_assert_eq(fe_trust_create(&ctx), FE_OK);
	load_path(v1, &res);
	cr_assert_eq(res.rep.signatures_cached, 0);
	load_path(v2, &res);
	cr_assert_gt(res.rep.signatures_cached, 0);
	cr_assert_lt(res.rep.signatures, res.rep.signatures_cached);

	/* A fresh context: everything verified again. */
	fe_trust_destroy(ctx);
	cr_assert_eq(fe_trust_create(&ctx), FE_OK);
	forcing = true; /* back to the first version on purpose */
	load_path(v1, &res);
	forcing = false;
	cr_assert_eq(res.rep.signatures_cached, 0);
	/* No context at all: the same. */
	fe_trust_destroy(ctx);
	ctx = NULL;
	load_path(v2, &res);
	cr_assert_eq(res.rep.signatures_cached, 0);
	cr_assert_gt(res.rep.signatures, 0);
}

/* One parents-first rule for fedenumd and fedenumctl: by label count, ties in the given
 * order; an unknown apex (NULL) sorts with the root, first; an escaped dot is no separator. */
Test(trust, parents_first_order)
{
	const char *apex[] = {"3.5.5.5.1.e164.test.", "e164.test.", NULL,
	                      "2.5.5.5.1.e164.test.", "E164.test.", ".",
	                      "a\\.b.test."};
	size_t order[FE_ARRAY_LEN(apex)];
	const size_t want[] = {2, 5, 1, 4, 6, 0, 3};
	cr_assert_eq(fe_trust_parents_first(apex, FE_ARRAY_LEN(apex), order), FE_OK);
	for (size_t i = 0; i < FE_ARRAY_LEN(apex); i++)
		cr_expect_eq(order[i], want[i], "position %zu: %zu, want %zu", i, order[i],
		             want[i]);
	cr_assert_eq(fe_trust_parents_first(NULL, 0, order), FE_OK);
}
