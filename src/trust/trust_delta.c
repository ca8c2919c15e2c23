/* Change sets (IXFR) under the chain of trust: fe_trust_apply_delta (include/fedenum/trust.h),
 * the incremental validation of fe_dnssec_validate_change run inside the change set's store
 * transaction before its commit. */
#include "trust_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- change sets (IXFR) ----------------------------------------------------------- */

/* A chain expiry closer than this is recomputed by a whole-zone validation: a change set
 * only ever lowers it (the signatures it removes may have been the earliest, and finding the
 * next earliest would take the whole zone). */
#define DELTA_EXPIRY_MARGIN_S (3 * 86400)

struct delta_ctx {
	struct fe_trust *t;
	const struct fe_trust_opts *topts;
	const struct fe__trust_chain *c;
	const uint8_t *key;
	size_t key_len;
	int64_t now;
	struct fe_trust_result *res;
};

static int delta_check(void *arg, struct fe_store_writer *w, const struct fe_store_zone_rec *cur,
                       const struct fe_zone_touch *t, size_t n, int64_t *chain_expire_s,
                       struct fe_zone_error *err)
{
	struct delta_ctx *x = arg;
	struct fe_dnssec_opts vo = x->topts->validate;
	vo.now_s = x->now;
	struct fe_dnssec_sigcache *known = fe__trust_cache_take(x->t, x->key, x->key_len);
	vo.known = known;
	vo.learn = NULL;
	int rc = fe_dnssec_validate_change(w, cur, t, n, &x->c->trust, &vo, &x->res->rep, err);
	if (known != NULL)
		fe__trust_cache_put(x->t, x->key, x->key_len, known);
	if (rc != FE_OK)
		return rc;
	int64_t own = cur->sig_expire_s;
	if (x->res->rep.earliest_expiry_s && (own == 0 || x->res->rep.earliest_expiry_s < own))
		own = x->res->rep.earliest_expiry_s;
	*chain_expire_s = fe__trust_chain_expiry(own, x->c->parent_expire_s);
	x->res->expire_s = *chain_expire_s;
	return FE_OK;
}

int fe_trust_apply_delta(struct fe_trust *t, struct fe_store *st, const uint8_t *apex,
                         size_t apex_len, const struct fe_zone_delta *d,
                         const struct fe_trust_opts *topts, struct fe_trust_result *res,
                         struct fe_zone_error *err)
{
	struct fe_trust_result local;
	struct fe_zone_error lerr;
	struct fe_store_zone_rec cur;
	struct fe__trust_chain *c = NULL;
	uint8_t key[FE_WIRE_KEY_MAX];
	bool have_cur = false;
	int rc;

	if (res == NULL)
		res = &local;
	if (err == NULL)
		err = &lerr;
	memset(res, 0, sizeof(*res));
	memset(err, 0, sizeof(*err));
	if (topts == NULL || fe_trust_anchors_count(topts->anchors) == 0 || topts->dry_run)
		return FE_EINVAL;
	int64_t now = topts->validate.now_s ? topts->validate.now_s : fe_time_wall_s();
	int kl = fe_wire_name_key(apex, apex_len, key, sizeof(key));
	if (kl <= 0)
		return FE_EINVAL;
	fe_wire_name_to_str(apex, res->apex, sizeof(res->apex));
	for (size_t i = 0; i < d->added_count; i++)
		if (d->added[i].type == FE_T_SOA && d->added[i].rdlen >= 22)
			res->serial = fe_get_be32(d->added[i].rdata + d->added[i].rdlen - 20);

	rc = fe__trust_current_rec(st, key, (size_t)kl, &cur, &have_cur);
	if (rc != FE_OK) {
		fe_zone_error_set(err, NULL, 0, "%s: store: %s", res->apex, fe_strerror(rc));
		return rc;
	}
	res->has_previous = have_cur;
	res->previous_serial = have_cur ? cur.serial : 0;
	res->previous_served = have_cur && fe__trust_served(&cur, now);
	if (!have_cur || !(cur.flags & FE_ZONE_VALIDATED) || (cur.flags & FE_ZONE_BOGUS)) {
		fe_zone_error_set(err, NULL, 0,
		                  "%s: the stored version is %s: a change set is validated against "
		                  "a validated version only",
		                  res->apex,
		                  !have_cur                     ? "missing"
		                  : (cur.flags & FE_ZONE_BOGUS) ? "bogus"
		                                                : "not validated");
		return FE_ENOTSUP;
	}
	if (cur.sig_expire_s != 0 && cur.sig_expire_s - now < DELTA_EXPIRY_MARGIN_S) {
		char ts[32];
		fe_time_str(cur.sig_expire_s, ts, sizeof(ts));
		fe_zone_error_set(err, NULL, 0,
		                  "%s: the chain expiry %s is less than %d days away: recomputed "
		                  "over the whole zone",
		                  res->apex, ts, DELTA_EXPIRY_MARGIN_S / 86400);
		return FE_ENOTSUP;
	}

	c = malloc(sizeof(*c));
	if (c == NULL)
		return FE_ENOMEM;
	rc = fe__trust_chain_now(st, topts->anchors, apex, apex_len, key, (size_t)kl, now, c, err);
	if (rc != FE_OK)
		goto out_failed;
	fe__trust_say(res->trust, sizeof(res->trust), "%s", c->from);

	struct delta_ctx x = {.t = t,
	                      .topts = topts,
	                      .c = c,
	                      .key = key,
	                      .key_len = (size_t)kl,
	                      .now = now,
	                      .res = res};
	struct fe_zone_delta_check chk = {.fn = delta_check, .arg = &x};
	rc = fe_zone_commit_delta_checked(st, apex, apex_len, d, &chk, NULL, err);
	if (rc == FE_ENOTSUP)
		goto out;
	if (rc != FE_OK)
		goto out_failed;

	struct fe_trust_zstate zs;
	fe__trust_zs_load(st, apex, apex_len, &zs);
	zs.state = FE_TRUST_SECURE;
	zs.serial = res->serial;
	zs.checked_at_s = now;
	zs.validated_at_s = now;
	if (res->rep.earliest_expiry_s &&
	    (zs.own_expire_s == 0 || res->rep.earliest_expiry_s < zs.own_expire_s))
		zs.own_expire_s = res->rep.earliest_expiry_s;
	if (res->rep.trusted_key_tag) {
		zs.key_tag = res->rep.trusted_key_tag;
		zs.key_alg = res->rep.trusted_key_alg;
	}
	zs.validations++;
	fe__trust_say(zs.trust, sizeof(zs.trust), "%s", c->from);
	fe__trust_zs_save(st, apex, apex_len, &zs);
	res->outcome = FE_TRUST_LOADED;
	goto out;

out_failed:
	if (rc != FE_ENOMEM) {
		char reason[sizeof(err->reason) + 64];
		fe__trust_say(reason, sizeof(reason), "serial %u (change set): %s", res->serial,
		              err->reason);
		fe__trust_note_failure(st, apex, apex_len, res->serial, now, have_cur, reason);
	}
out:
	free(c);
	return rc;
}
