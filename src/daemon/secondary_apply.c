/* fedenumd as a secondary: an incremental IXFR applied to the stored version as a change set
 * (the apply callback of fe_xfrin_run, include/fedenum/xfr.h), on the refresh's thread-pool
 * thread under fe__load_lock. */
#include "daemon_int.h"

#include "fedenum/store.h"
#include "fedenum/trust.h"
#include "fedenum/xfr.h"
#include "fedenum/zone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Owner (case-insensitive) then type: the order the change set's lists are sorted in. */
static int owner_type_cmp(const struct fe_xfrin_rr *a, const struct fe_xfrin_rr *b)
{
	size_t n = a->owner_len < b->owner_len ? a->owner_len : b->owner_len;
	for (size_t i = 0; i < n; i++) {
		int ca = a->owner[i] >= 'A' && a->owner[i] <= 'Z' ? a->owner[i] + 32 : a->owner[i];
		int cb = b->owner[i] >= 'A' && b->owner[i] <= 'Z' ? b->owner[i] + 32 : b->owner[i];
		if (ca != cb)
			return ca - cb;
	}
	if (a->owner_len != b->owner_len)
		return a->owner_len < b->owner_len ? -1 : 1;
	return (int)a->type - (int)b->type;
}

/* The mnemonic of the types a zone commonly holds, else RFC 3597's TYPEn. */
static void type_name(uint16_t t, char *out, size_t cap)
{
	static const struct {
		uint16_t t;
		const char *n;
	} names[] = {{FE_T_A, "A"},         {FE_T_NS, "NS"},        {FE_T_CNAME, "CNAME"},
	             {FE_T_TXT, "TXT"},     {FE_T_AAAA, "AAAA"},    {FE_T_SRV, "SRV"},
	             {FE_T_NAPTR, "NAPTR"}, {FE_T_DS, "DS"},        {FE_T_PTR, "PTR"},
	             {FE_T_MX, "MX"},       {FE_T_DNSKEY, "DNSKEY"}};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].t == t) {
			snprintf(out, cap, "%s", names[i].n);
			return;
		}
	snprintf(out, cap, "TYPE%u", (unsigned)t);
}

/* How many of the removed RRs (sorted ascending) have @x's owner and type. */
static size_t removed_like(const struct fe_xfrin_delta *xd, const struct fe_xfrin_rr *x)
{
	size_t lo = 0, hi = xd->removed_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (owner_type_cmp(&xd->removed[mid], x) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t n = 0;
	while (lo + n < xd->removed_count && owner_type_cmp(&xd->removed[lo + n], x) == 0)
		n++;
	return n;
}

/* docs/security.md X6 for a change set: every RRset it adds to, with the records the stored
 * version holds, within xfr.max-rrset-records (RRSIGs are counted with the AXFR's rule, not
 * here). FE_ERANGE with the RRset named in @why. */
static int rrset_limits(struct fe__sec *s, const struct fe__sec_zone *z,
                        const struct fe_xfrin_delta *xd, char *why, size_t why_cap)
{
	if (!s->max_rrset_rrs || !xd->added_count)
		return FE_OK;
	struct fe_store_reader *r = NULL;
	const struct fe_store_zone_rec *zr = NULL;
	uint8_t key[FE_WIRE_KEY_MAX];
	int kl = fe_wire_name_key(z->apex_wire, z->apex_wire_len, key, sizeof(key));
	bool begun = kl > 0 && fe_store_reader_create(s->st, &r) == FE_OK &&
	             fe_store_reader_begin(r) == FE_OK;
	bool have = begun && fe_store_get_zone(r, key, (size_t)kl, &zr) == FE_OK;
	int rc = FE_OK;
	/* the added RRs come grouped by owner and type */
	for (size_t i = 0; i < xd->added_count && rc == FE_OK;) {
		const struct fe_xfrin_rr *a = &xd->added[i];
		size_t j = i + 1;
		while (j < xd->added_count && owner_type_cmp(&xd->added[j], a) == 0)
			j++;
		if (a->type != FE_T_RRSIG) {
			uint64_t total = j - i;
			struct fe_store_node node;
			struct fe_store_rrset rs;
			int nkl = fe_wire_name_key(a->owner, a->owner_len, key, sizeof(key));
			if (have && nkl > 0 &&
			    fe_store_get_node(r, zr, key, (size_t)nkl, &node) == FE_OK &&
			    fe_store_node_find(&node, a->type, &rs))
				total += rs.rr_count;
			total -= removed_like(xd, a);
			if (total > s->max_rrset_rrs) {
				char name[FE_WIRE_NAME_MAX * 4 + 2];
				fe_wire_name_to_str(a->owner, name, sizeof(name));
				char tn[16];
				type_name(a->type, tn, sizeof(tn));
				snprintf(why, why_cap,
				         "an RRset (%s %s) of more than %llu records (limit)", name,
				         tn, (unsigned long long)s->max_rrset_rrs);
				rc = FE_ERANGE;
			}
		}
		i = j;
	}
	if (begun)
		fe_store_reader_end(r);
	fe_store_reader_destroy(r);
	return rc;
}

/* An IXFR's net difference straight into the store (thread pool): a change set,
 * validated incrementally under trust anchors (fe_trust_apply_delta), applied as it is
 * otherwise (fe_zone_commit_delta). No master file is written or parsed. FE_ENOTSUP and
 * the change set errors make fe_xfrin_run fall back to AXFR and a whole-zone load. */
int fe__sec_apply_ixfr(void *arg, const struct fe_xfrin_delta *xd, char *why, size_t why_cap)
{
	struct fe__sec_zone *z = arg;
	struct fe__sec *s = z->sec;
	int lim = rrset_limits(s, z, xd, why, why_cap);
	if (lim != FE_OK) {
		fe_log_err("zone %s: IXFR serial %u -> %u refused: %s; the stored serial %u keeps "
		           "serving",
		           z->apex, xd->serial_from, xd->serial_to, why, xd->serial_from);
		return lim;
	}
	size_t n = xd->removed_count + xd->added_count;
	struct fe_zone_rr *rr = calloc(n ? n : 1, sizeof(*rr));
	if (!rr)
		return FE_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct fe_xfrin_rr *x =
		        i < xd->removed_count ? &xd->removed[i] : &xd->added[i - xd->removed_count];
		rr[i] = (struct fe_zone_rr){x->owner, x->owner_len, x->type,
		                            x->ttl,   x->rdata,     x->rdlen};
	}
	struct fe_zone_delta d = {
	        .serial_from = xd->serial_from,
	        .removed = rr,
	        .removed_count = xd->removed_count,
	        .added = rr + xd->removed_count,
	        .added_count = xd->added_count,
	};
	struct fe_zone_error err;
	memset(&err, 0, sizeof(err));
	uint64_t t0 = fe_time_mono_us();
	int rc;
	pthread_mutex_lock(&fe__load_lock);
	if (s->validating) {
		struct fe_trust_anchors *a = NULL;
		rc = fe_trust_anchors_from_store(s->st, &a);
		if (rc == FE_OK) {
			struct fe_trust_opts topts = {.anchors = a};
			fe_dnssec_opts_init(&topts.validate);
			struct fe_trust_result tr;
			rc = fe_trust_apply_delta(s->trust, s->st, z->apex_wire, z->apex_wire_len,
			                          &d, &topts, &tr, &err);
			if (rc == FE_OK)
				snprintf(
				        z->trust_note, sizeof(z->trust_note),
				        "; validated incrementally through the %s: %llu signatures "
				        "verified (%llu cached), %llu nodes and %llu denial "
				        "checks, "
				        "%.1f ms",
				        tr.trust, (unsigned long long)tr.rep.signatures,
				        (unsigned long long)tr.rep.signatures_cached,
				        (unsigned long long)tr.rep.nodes,
				        (unsigned long long)tr.rep.denial_records,
				        tr.rep.seconds * 1e3);
		}
		fe_trust_anchors_destroy(a);
	} else {
		rc = fe_zone_commit_delta(s->st, z->apex_wire, z->apex_wire_len, &d, NULL, &err);
		if (rc == FE_OK)
			snprintf(z->trust_note, sizeof(z->trust_note),
			         "; change set stored in %.1f ms",
			         (double)(fe_time_mono_us() - t0) / 1e3);
	}
	pthread_mutex_unlock(&fe__load_lock);
	free(rr);
	if (rc == FE_OK) {
		z->applied = true;
		return FE_OK;
	}
	snprintf(why, why_cap, "%s", err.reason[0] ? err.reason : fe_strerror(rc));
	if (rc == FE_EVALIDATE) {
		__atomic_fetch_add(&s->cnt[FE__SEC_IXFR_REJECTED], 1, __ATOMIC_RELAXED);
		fe_log_err("zone %s: IXFR serial %u -> %u rejected: %s; the stored serial %u keeps "
		           "serving",
		           z->apex, xd->serial_from, xd->serial_to, why, xd->serial_from);
	} else {
		__atomic_fetch_add(&s->cnt[FE__SEC_IXFR_WHOLE], 1, __ATOMIC_RELAXED);
		fe_log_warn("zone %s: IXFR serial %u -> %u not applied as a change set (%s): "
		            "whole zone by AXFR, validated whole",
		            z->apex, xd->serial_from, xd->serial_to, why);
	}
	return rc;
}
