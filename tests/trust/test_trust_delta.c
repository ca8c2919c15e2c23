/* trust/ change sets under the chain of trust (fe_trust_apply_delta, incremental validation
 * by fe_dnssec_validate_change): a zone signed at run time with dnssec-signzone (NSEC3,
 * ECDSA P-256, test-only keys), version 1 loaded whole, then the difference to a re-signed
 * version (taken from the journal of a scratch store that loaded both files) applied as a
 * change set: valid changes are stored with a handful of signatures verified; a forged
 * record, a deletion that breaks the NSEC3 chain and a name added without its NSEC3 are
 * refused and version 1 keeps serving; a DNSKEY change asks for the whole-zone path. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fedenum/store.h"
#include "fedenum/trust.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "fedenum/zone.h"

#define APEX_STR "inc.test."

static char dir[256], gen[300];
static struct fe_store *st;
static struct fe_trust_anchors *anchors;
static struct fe_trust_opts topts;
static struct fe_trust *ctx;
static const uint8_t apex[] = {3, 'i', 'n', 'c', 4, 't', 'e', 's', 't', 0};
static uint32_t v1_serial; /* dnssec-signzone -N increment moved it */

/* v1: 200 TXT names; v2: n7 changed; v3: n9 deleted; v4: n201 added; v5: a new ZSK; v6:
 * every TXT changed. All
 * re-signed from v1.signed so that unchanged RRsets keep their signatures. */
static bool nsec; /* sign with NSEC instead of NSEC3 */

static void setup(void)
{
	snprintf(dir, sizeof(dir), "%s/fedenum-tdelta-XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(gen, sizeof(gen), "%s/gen", dir);
	char cmd[4096];
	snprintf(cmd, sizeof(cmd),
	         "mkdir -p %s && cd %s && { echo '$ORIGIN inc.test.'; echo '$TTL 300';"
	         " echo '@ SOA ns hostmaster 1 3600 600 86400 300'; echo '@ NS ns';"
	         " echo 'ns A 192.0.2.1'; for i in $(seq 1 200); do echo \"n$i TXT t$i\"; done;"
	         " } > z.zone"
	         " && dnssec-keygen -q -a ECDSAP256SHA256 -f KSK -n ZONE inc.test >/dev/null"
	         " && dnssec-keygen -q -a ECDSAP256SHA256 -n ZONE inc.test >/dev/null"
	         " && S='dnssec-signzone -q -S -K . -N increment %s -O full -o inc.test'"
	         " && $S -f v1.signed z.zone >/dev/null"
	         " && sed 's/\"t7\"$/\"t7-changed\"/' v1.signed > v2.in"
	         " && $S -f v2.signed v2.in >/dev/null"
	         " && grep -v '^n9\\.inc\\.test\\.' v1.signed > v3.in"
	         " && $S -f v3.signed v3.in >/dev/null"
	         " && { cat v1.signed; echo 'n201.inc.test. 300 IN TXT \"t201\"'; } > v4.in"
	         " && $S -f v4.signed v4.in >/dev/null"
	         " && sed 's/\"\\(t[0-9]*\\)\"$/\"\\1-x\"/' v1.signed > v6.in"
	         " && $S -f v6.signed v6.in >/dev/null"
	         " && sed 's/hostmaster 1 3600/hostmaster 5 3600/' z.zone > v7.in"
	         " && $S -f v7.signed v7.in >/dev/null"
	         " && for k in K*.key; do dnssec-dsfromkey -2 \"$k\"; done > ds 2>/dev/null"
	         " && dnssec-keygen -q -a ECDSAP256SHA256 -n ZONE inc.test >/dev/null"
	         " && $S -f v5.signed v1.signed >/dev/null",
	         gen, gen, nsec ? "" : "-3 - -H 0");
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	struct fe_store_opts so = {.map_size_bytes = 64u << 20, .no_sync = true};
	cr_assert_eq(fe_store_open(dir, &so, &st), FE_OK);
	cr_assert_eq(fe_trust_anchors_create(&anchors), FE_OK);
	char ds[400];
	snprintf(ds, sizeof(ds), "%s/ds", gen);
	struct fe_zone_error e;
	cr_assert_eq(fe_trust_anchors_add_file(anchors, ds, NULL, &e), FE_OK, "%s", e.reason);
	memset(&topts, 0, sizeof(topts));
	topts.anchors = anchors;
	fe_dnssec_opts_init(&topts.validate);
	topts.validate.threads = 1;
	cr_assert_eq(fe_trust_create(&ctx), FE_OK);
	fe_log_set_level(FE_LOG_ERR);

	char v1[400];
	snprintf(v1, sizeof(v1), "%s/v1.signed", gen);
	struct fe_trust_result res;
	cr_assert_eq(fe_trust_load(ctx, v1, NULL, &topts, st, &res, &e), FE_OK, "%s", e.reason);
	cr_assert_eq(res.outcome, FE_TRUST_LOADED);
	v1_serial = res.serial;
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

static void setup_nsec(void)
{
	nsec = true;
	setup();
}

TestSuite(trust_delta, .init = setup, .fini = teardown, .timeout = 120);
TestSuite(trust_delta_nsec, .init = setup_nsec, .fini = teardown, .timeout = 120);

/* ---- the difference v1 -> vN, from the journal of a scratch store ----------------------- */

struct delta {
	uint8_t *buf; /* the journal entry's RRs, copied */
	struct fe_zone_rr *rr;
	size_t nrem, nadd;
	uint32_t from;
};

struct jctx {
	struct delta *d;
	bool got;
};

static size_t parse_rrs(const uint8_t *p, size_t len, struct fe_zone_rr *out)
{
	size_t off = 0, n = 0;
	struct fe_store_rr r;
	while (fe_store_rr_next(p, len, &off, &r)) {
		out[n++] =
		        (struct fe_zone_rr){r.owner, r.owner_len, r.type, r.ttl, r.rdata, r.rdlen};
	}
	cr_assert_eq(off, len, "damaged journal entry");
	return n;
}

static bool jcb(const struct fe_store_journal_entry *e, void *arg)
{
	struct jctx *j = arg;
	struct delta *d = j->d;
	d->from = e->serial_from;
	d->buf = malloc(e->removed_len + e->added_len + 1);
	cr_assert_not_null(d->buf);
	memcpy(d->buf, e->removed, e->removed_len);
	memcpy(d->buf + e->removed_len, e->added, e->added_len);
	d->rr = calloc(e->removed_count + e->added_count + 1, sizeof(*d->rr));
	d->nrem = parse_rrs(d->buf, e->removed_len, d->rr);
	d->nadd = parse_rrs(d->buf + e->removed_len, e->added_len, d->rr + d->nrem);
	j->got = true;
	return false;
}

static void delta_of(const char *version, struct delta *d)
{
	char sdir[400], v1[400], vn[400], cmd[500];
	snprintf(sdir, sizeof(sdir), "%s/scratch-%s", dir, version);
	snprintf(v1, sizeof(v1), "%s/v1.signed", gen);
	snprintf(vn, sizeof(vn), "%s/%s.signed", gen, version);
	struct fe_store *s2 = NULL;
	struct fe_store_opts so = {.map_size_bytes = 64u << 20, .no_sync = true};
	cr_assert_eq(fe_store_open(sdir, &so, &s2), FE_OK);
	struct fe_zone_error e;
	cr_assert_eq(fe_zone_load_file(v1, NULL, s2, &e), FE_OK, "%s", e.reason);
	cr_assert_eq(fe_zone_load_file(vn, NULL, s2, &e), FE_OK, "%s", e.reason);
	memset(d, 0, sizeof(*d));
	struct jctx j = {.d = d};
	cr_assert_eq(fe_store_journal_read(s2, apex, sizeof(apex), v1_serial, jcb, &j), FE_OK);
	cr_assert(j.got);
	fe_store_close(s2);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sdir);
	cr_assert_eq(system(cmd), 0);
}

static void delta_free(struct delta *d)
{
	free(d->buf);
	free(d->rr);
}

/* Drop the RRs for which @drop is true (both lists). */
static void filter(struct delta *d, bool (*drop)(const struct delta *d, size_t i))
{
	size_t w = 0, nrem = 0;
	bool *gone = calloc(d->nrem + d->nadd + 1, sizeof(*gone));
	for (size_t i = 0; i < d->nrem + d->nadd; i++)
		gone[i] = drop(d, i);
	for (size_t i = 0; i < d->nrem + d->nadd; i++) {
		if (gone[i])
			continue;
		nrem += i < d->nrem;
		d->rr[w++] = d->rr[i];
	}
	d->nadd = w - nrem;
	d->nrem = nrem;
	free(gone);
}

static uint16_t covered(const struct fe_zone_rr *r)
{
	return r->type == FE_T_RRSIG ? fe_get_be16(r->rdata) : r->type;
}

static int apply(struct delta *d, struct fe_trust_result *res, struct fe_zone_error *e)
{
	struct fe_zone_delta zd = {
	        .serial_from = d->from,
	        .removed = d->rr,
	        .removed_count = d->nrem,
	        .added = d->rr + d->nrem,
	        .added_count = d->nadd,
	};
	memset(e, 0, sizeof(*e));
	return fe_trust_apply_delta(ctx, st, apex, sizeof(apex), &zd, &topts, res, e);
}

static void stored(uint32_t *serial, uint32_t *flags)
{
	struct fe_store_reader *r = NULL;
	const struct fe_store_zone_rec *z;
	uint8_t key[64];
	int kl = fe_wire_name_key(apex, sizeof(apex), key, sizeof(key));
	cr_assert_eq(fe_store_reader_create(st, &r), FE_OK);
	cr_assert_eq(fe_store_reader_begin(r), FE_OK);
	cr_assert_eq(fe_store_get_zone(r, key, (size_t)kl, &z), FE_OK);
	*serial = z->serial;
	*flags = z->flags;
	fe_store_reader_end(r);
	fe_store_reader_destroy(r);
}

/* Is @text among the TXT RDATA at n<@i>.inc.test.? */
static bool has_txt(int i, const char *text)
{
	char owner[64];
	uint8_t w[64], key[128];
	snprintf(owner, sizeof(owner), "n%d", i);
	size_t ol = strlen(owner);
	w[0] = (uint8_t)ol;
	memcpy(w + 1, owner, ol);
	memcpy(w + 1 + ol, apex, sizeof(apex));
	int kl = fe_wire_name_key(w, 1 + ol + sizeof(apex), key, sizeof(key));
	struct fe_store_reader *r = NULL;
	const struct fe_store_zone_rec *z;
	uint8_t akey[64];
	int akl = fe_wire_name_key(apex, sizeof(apex), akey, sizeof(akey));
	cr_assert_eq(fe_store_reader_create(st, &r), FE_OK);
	cr_assert_eq(fe_store_reader_begin(r), FE_OK);
	cr_assert_eq(fe_store_get_zone(r, akey, (size_t)akl, &z), FE_OK);
	struct fe_store_node n;
	bool found = false;
	if (fe_store_get_node(r, z, key, (size_t)kl, &n) == FE_OK) {
		struct fe_store_rrset rs;
		if (fe_store_node_find(&n, FE_T_TXT, &rs)) {
			size_t it = 0;
			const uint8_t *rd;
			uint16_t len;
			bool sig;
			while (fe_store_rrset_next(&rs, &it, &rd, &len, &sig))
				found |= !sig && len == strlen(text) + 1 &&
				         memcmp(rd + 1, text, strlen(text)) == 0;
		}
	}
	fe_store_reader_end(r);
	fe_store_reader_destroy(r);
	return found;
}

static void rejected(struct delta *d, const char *needle)
{
	struct fe_trust_result res;
	struct fe_zone_error e;
	int rc = apply(d, &res, &e);
	cr_assert_eq(rc, FE_EVALIDATE, "%s: %s", fe_strerror(rc), e.reason);
	cr_assert_not_null(strstr(e.reason, needle), "%s", e.reason);
	uint32_t serial, flags;
	stored(&serial, &flags);
	cr_assert_eq(serial, v1_serial, "version 1 keeps serving");
	cr_assert(flags & FE_ZONE_VALIDATED);
	cr_assert(has_txt(7, "t7"));
	struct fe_trust_zstate zs;
	cr_assert_eq(fe_trust_zstate_get(st, apex, sizeof(apex), &zs), FE_OK);
	cr_assert_eq(zs.state, FE_TRUST_SECURE);
	cr_assert_eq(zs.failed_serial, res.serial);
	cr_assert_neq(res.serial, v1_serial);
	cr_assert_not_null(strstr(zs.reason, needle), "%s", zs.reason);
}

/* ---- tests ---------------------------------------------------------------------------- */

/* The difference to @version applied: FE_OK, the new serial stored and validated. */
static void applies(const char *version, struct fe_trust_result *res)
{
	struct delta d;
	struct fe_zone_error e;
	delta_of(version, &d);
	int rc = apply(&d, res, &e);
	cr_assert_eq(rc, FE_OK, "%s: %s", fe_strerror(rc), e.reason);
	cr_assert_eq(res->outcome, FE_TRUST_LOADED);
	cr_assert_neq(res->serial, v1_serial);
	cr_assert_eq(res->rep.nsec3, !nsec);
	cr_assert_gt(res->rep.denial_records, 0);
	uint32_t serial, flags;
	stored(&serial, &flags);
	cr_assert_eq(serial, res->serial);
	cr_assert(flags & FE_ZONE_VALIDATED);
	delta_free(&d);
}

static bool is_denial(const struct fe_zone_rr *r)
{
	return covered(r) == FE_T_NSEC3 || covered(r) == FE_T_NSEC;
}

/* An NSEC/NSEC3 owner both removed and added: the predecessor whose next field changed. */
static bool denial_modified(const struct delta *d, size_t i)
{
	if (!is_denial(&d->rr[i]))
		return false;
	size_t from = i < d->nrem ? d->nrem : 0, to = i < d->nrem ? d->nrem + d->nadd : d->nrem;
	for (size_t k = from; k < to; k++)
		if (is_denial(&d->rr[k]) && d->rr[k].owner_len == d->rr[i].owner_len &&
		    memcmp(d->rr[k].owner, d->rr[i].owner, d->rr[i].owner_len) == 0)
			return true;
	return false;
}

static bool any_denial(const struct delta *d, size_t i)
{
	return is_denial(&d->rr[i]);
}

/* v2 with its changed TXT altered after signing: its RRSIG no longer fits. */
static void forged_rejected(void)
{
	struct delta d;
	delta_of("v2", &d);
	bool forged = false;
	for (size_t i = d.nrem; i < d.nrem + d.nadd; i++) {
		if (d.rr[i].type != FE_T_TXT)
			continue;
		((uint8_t *)d.rr[i].rdata)[1] = 'T'; /* points into d.buf, ours */
		forged = true;
	}
	cr_assert(forged);
	rejected(&d, "signature invalid");
	delta_free(&d);
}

/* v3 (n9 deleted) without the change to the predecessor's NSEC/NSEC3. */
static void chain_break_rejected(const char *needle)
{
	struct delta d;
	delta_of("v3", &d);
	filter(&d, denial_modified);
	rejected(&d, needle);
	delta_free(&d);
}

/* v4 (n201 added) without any NSEC/NSEC3 change. */
static void addition_without_denial_rejected(const char *needle)
{
	struct delta d;
	delta_of("v4", &d);
	filter(&d, any_denial);
	rejected(&d, needle);
	cr_assert_not(has_txt(201, "t201"));
	delta_free(&d);
}

Test(trust_delta, valid_change_validated_incrementally)
{
	struct fe_trust_result res;
	applies("v2", &res);
	cr_assert(has_txt(7, "t7-changed"));
	/* the DNSKEY RRset (one or two signatures), the SOA and the changed TXT: a handful of
	 * signatures and nodes, not the zone's ~70 */
	cr_assert_gt(res.rep.signatures + res.rep.signatures_cached, 0);
	cr_assert_leq(res.rep.signatures + res.rep.signatures_cached, 6, "%llu",
	              (unsigned long long)res.rep.signatures);
	cr_assert_leq(res.rep.nodes, 4, "%llu", (unsigned long long)res.rep.nodes);
	cr_assert_gt(res.expire_s, 0);
}

Test(trust_delta, forged_record_rejected_old_version_kept)
{
	forged_rejected();
}

Test(trust_delta, deletion_breaking_nsec3_chain_rejected)
{
	chain_break_rejected("NSEC3 chain broken");
}

Test(trust_delta, valid_deletion_then_change_set_for_another_serial)
{
	struct fe_trust_result res;
	applies("v3", &res);
	cr_assert_not(has_txt(9, "t9"));
	/* v4 adds n201 to v1, not to v3: a change set for another serial is refused */
	struct delta d;
	struct fe_zone_error e;
	delta_of("v4", &d);
	int rc = apply(&d, &res, &e);
	cr_assert_eq(rc, FE_ESERIAL, "%s: %s", fe_strerror(rc), e.reason);
	delta_free(&d);
}

Test(trust_delta, valid_addition)
{
	struct fe_trust_result res;
	applies("v4", &res);
	cr_assert(has_txt(201, "t201"));
}

Test(trust_delta, added_name_without_nsec3_rejected)
{
	addition_without_denial_rejected("missing");
}

Test(trust_delta, dnskey_change_needs_whole_zone)
{
	struct delta d;
	delta_of("v5", &d);
	struct fe_trust_result res;
	struct fe_zone_error e;
	int rc = apply(&d, &res, &e);
	cr_assert_eq(rc, FE_ENOTSUP, "%s: %s", fe_strerror(rc), e.reason);
	cr_assert_not_null(strstr(e.reason, "DNSKEY"), "%s", e.reason);
	uint32_t serial, flags;
	stored(&serial, &flags);
	cr_assert_eq(serial, v1_serial);
	/* not a failure of the zone: nothing noted */
	struct fe_trust_zstate zs;
	cr_assert_eq(fe_trust_zstate_get(st, apex, sizeof(apex), &zs), FE_OK);
	cr_assert_eq(zs.failed_serial, 0);
	/* the whole-zone path takes it */
	char v5[400];
	snprintf(v5, sizeof(v5), "%s/v5.signed", gen);
	cr_assert_eq(fe_trust_load(ctx, v5, NULL, &topts, st, &res, &e), FE_OK, "%s", e.reason);
	stored(&serial, &flags);
	cr_assert_eq(serial, res.serial);
	cr_assert_neq(serial, v1_serial);
	delta_free(&d);
}

/* The whole zone signed again with the same keys (every RRSIG new, the DNSKEY RRset's too):
 * still a change set, the new DNSKEY signatures checked against the trust. */
Test(trust_delta, resigned_zone_validated_incrementally)
{
	struct fe_trust_result res;
	applies("v7", &res);
	cr_assert_gt(res.rep.signatures, 200, "every RRset's new signature verified");
}

/* The same with the DNSKEY RRset's new signature altered: refused, version 1 kept. */
Test(trust_delta, forged_dnskey_signature_rejected)
{
	struct delta d;
	delta_of("v7", &d);
	bool forged = false;
	for (size_t i = d.nrem; i < d.nrem + d.nadd; i++) {
		if (d.rr[i].type != FE_T_RRSIG || covered(&d.rr[i]) != FE_T_DNSKEY)
			continue;
		((uint8_t *)d.rr[i].rdata)[d.rr[i].rdlen - 1] ^= 0x55; /* points into d.buf */
		forged = true;
	}
	cr_assert(forged, "v7 re-signs the DNSKEY RRset");
	rejected(&d, "DNSKEY");
	delta_free(&d);
}

/* The same with an NSEC chain. */
Test(trust_delta_nsec, valid_deletion)
{
	struct fe_trust_result res;
	applies("v3", &res);
	cr_assert_not(has_txt(9, "t9"));
}

Test(trust_delta_nsec, valid_addition)
{
	struct fe_trust_result res;
	applies("v4", &res);
	cr_assert(has_txt(201, "t201"));
}

Test(trust_delta_nsec, forged_record_rejected_old_version_kept)
{
	forged_rejected();
}

Test(trust_delta_nsec, deletion_breaking_nsec_chain_rejected)
{
	chain_break_rejected("NSEC chain broken");
}

Test(trust_delta_nsec, added_name_without_nsec_rejected)
{
	addition_without_denial_rejected("NSEC chain broken");
}

/* 200 RRsets changed: their signatures verified on two threads; one forged RRset among them
 * stops both and rejects the whole change. */
Test(trust_delta, many_rrsets_verified_on_threads)
{
	struct fe_trust_result res;
	struct delta d;
	delta_of("v6", &d);
	for (size_t i = d.nrem; i < d.nrem + d.nadd; i++)
		if (d.rr[i].type == FE_T_TXT && d.rr[i].rdlen == 7 &&
		    memcmp(d.rr[i].rdata + 1, "t150-x", 6) == 0)
			((uint8_t *)d.rr[i].rdata)[1] = 'T';
	topts.validate.threads = 2;
	rejected(&d, "signature invalid");
	delta_free(&d);
	applies("v6", &res);
	cr_assert_eq(res.rep.threads, 2);
	cr_assert_geq(res.rep.signatures, 200);
	cr_assert(has_txt(150, "t150-x"));
}
