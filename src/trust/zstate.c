/* The per-zone trust state (struct fe_trust_zstate) over the store's generic per-zone
 * records (fe_store_zstate_*). The record is the struct itself, in host order; the store
 * gives it no meaning. */
#include "trust_int.h"

#include <string.h>

/* A stored state may be longer than this build's struct (a later build appended fields);
 * a shorter one is not ours. */
static int zs_from_val(const void *val, size_t len, struct fe_trust_zstate *out)
{
	if (len < sizeof(*out))
		return FE_EFORMAT;
	memcpy(out, val, sizeof(*out));
	out->reason[sizeof(out->reason) - 1] = '\0';
	out->trust[sizeof(out->trust) - 1] = '\0';
	return FE_OK;
}

int fe_trust_zstate_get(struct fe_store *st, const uint8_t *apex, size_t apex_len,
                        struct fe_trust_zstate *out)
{
	struct fe_trust_zstate zs;
	int len = fe_store_zstate_get(st, apex, apex_len, &zs, sizeof(zs));
	if (len < 0)
		return len;
	return zs_from_val(&zs, (size_t)len, out);
}

int fe_trust_zstate_put(struct fe_store *st, const uint8_t *apex, size_t apex_len,
                        const struct fe_trust_zstate *zs)
{
	struct fe_trust_zstate copy = *zs;
	if (apex_len == 0 || apex_len > sizeof(copy.apex))
		return FE_EINVAL;
	copy.apex_len = (uint8_t)apex_len;
	memcpy(copy.apex, apex, apex_len);
	copy.reason[sizeof(copy.reason) - 1] = '\0';
	copy.trust[sizeof(copy.trust) - 1] = '\0';
	return fe_store_zstate_put(st, apex, apex_len, &copy, sizeof(copy));
}

struct walk {
	bool (*cb)(const struct fe_trust_zstate *zs, void *arg);
	void *arg;
};

static bool walk_cb(const void *val, size_t len, void *arg)
{
	struct walk *w = arg;
	struct fe_trust_zstate zs;
	if (zs_from_val(val, len, &zs) != FE_OK)
		return true; /* not ours: skip rather than hide the others */
	return w->cb(&zs, w->arg);
}

int fe_trust_zstate_foreach(struct fe_store *st,
                            bool (*cb)(const struct fe_trust_zstate *zs, void *arg), void *arg)
{
	struct walk w = {cb, arg};
	return fe_store_zstate_foreach(st, walk_cb, &w);
}
