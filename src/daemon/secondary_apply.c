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

/* An IXFR's net difference straight into the store (thread pool): a change set,
 * validated incrementally under trust anchors (fe_trust_apply_delta), applied as it is
 * otherwise (fe_zone_commit_delta). No master file is written or parsed. FE_ENOTSUP and
 * the change set errors make fe_xfrin_run fall back to AXFR and a whole-zone load. */
int fe__sec_apply_ixfr(void *arg, const struct fe_xfrin_delta *xd, char *why, size_t why_cap)
{
	struct fe__sec_zone *z = arg;
	struct fe__sec *s = z->sec;
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
