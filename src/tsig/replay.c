/* Replay cache of accepted TSIG requests (RFC 8945 §5.2.3, §10: replay within the fudge). */
#include "tsig_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	const struct fe_tsig_key *key; /* NULL: free slot */
	uint64_t time_signed;
	int64_t expire_s; /* time_signed + fudge: after it the time check refuses it anyway */
	uint16_t mac_len;
	uint8_t mac[FE_TSIG_MAC_MAX];
};

struct fe_tsig_replay {
	pthread_mutex_t mu;
	size_t cap;
	size_t next; /* ring position: the oldest insertion */
	bool has_floor;
	uint64_t floor; /* highest Time Signed of a live entry that was evicted */
	struct entry e[];
};

int fe_tsig_replay_create(size_t capacity, struct fe_tsig_replay **out)
{
	*out = NULL;
	if (capacity == 0 || capacity > (1u << 20))
		return FE_EINVAL;
	struct fe_tsig_replay *rc = calloc(1, sizeof(*rc) + capacity * sizeof(struct entry));
	if (!rc)
		return FE_ENOMEM;
	if (pthread_mutex_init(&rc->mu, NULL) != 0) {
		free(rc);
		return FE_ENOMEM;
	}
	rc->cap = capacity;
	*out = rc;
	return FE_OK;
}

void fe_tsig_replay_destroy(struct fe_tsig_replay *rc)
{
	if (!rc)
		return;
	pthread_mutex_destroy(&rc->mu);
	free(rc);
}

int fe_tsig_replay_check(struct fe_tsig_replay *rc, const struct fe_tsig_key *key,
                         uint64_t time_signed, uint16_t fudge_s, const uint8_t *mac, size_t mac_len,
                         int64_t now_s)
{
	int ret = FE_OK;
	size_t free_slot = rc->cap;

	if (mac_len > FE_TSIG_MAC_MAX)
		return FE_EINVAL;
	pthread_mutex_lock(&rc->mu);
	if (rc->has_floor && time_signed <= rc->floor) {
		ret = FE_EEXIST;
		goto out;
	}
	for (size_t i = 0; i < rc->cap; i++) {
		struct entry *e = &rc->e[i];
		if (!e->key || e->expire_s < now_s) {
			if (free_slot == rc->cap)
				free_slot = i;
			continue;
		}
		if (e->key == key && e->time_signed == time_signed && e->mac_len == mac_len &&
		    memcmp(e->mac, mac, mac_len) == 0) {
			ret = FE_EEXIST;
			goto out;
		}
	}
	if (free_slot == rc->cap) {
		/* full of live entries: evict the oldest and remember its time as a floor */
		free_slot = rc->next;
		rc->next = (rc->next + 1) % rc->cap;
		struct entry *old = &rc->e[free_slot];
		if (!rc->has_floor || old->time_signed > rc->floor)
			rc->floor = old->time_signed;
		rc->has_floor = true;
	}
	struct entry *e = &rc->e[free_slot];
	e->key = key;
	e->time_signed = time_signed;
	e->expire_s = (int64_t)time_signed + fudge_s;
	e->mac_len = (uint16_t)mac_len;
	memcpy(e->mac, mac, mac_len);
out:
	pthread_mutex_unlock(&rc->mu);
	return ret;
}
