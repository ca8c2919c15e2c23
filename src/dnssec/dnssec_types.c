/* DNSSEC validation helpers shared by dnssec*.c: the types present at a node, NSEC/NSEC3 type
 * bitmaps (RFC 4034 §4.1.2), and the failure messages of a validation. */
#include "dnssec_int.h"

#include <ldns/ldns.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *fe__type_str(uint16_t type, char *buf, size_t cap)
{
	const ldns_rr_descriptor *d = ldns_rr_descript(type);
	if (d != NULL && d->_name != NULL && d->_type == type)
		snprintf(buf, cap, "%s", d->_name);
	else
		snprintf(buf, cap, "TYPE%u", type);
	return buf;
}

void fe__node_str(const struct fe_zone *z, size_t i, char *out, size_t cap)
{
	const struct fe__znode *n = &z->nodes[i];
	fe_wire_name_to_str(fe__own_name(n->own) + n->name_off, out, cap);
}

int fe__vfail(struct fe__vctx *v, int rc, const struct fe__zrec *r, const char *fmt, ...)
{
	char reason[sizeof(v->err.reason)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&v->mu);
	if (v->rc == FE_OK) {
		v->rc = rc;
		const char *file = "";
		if (r != NULL && r->file < v->z->nfiles)
			file = v->z->files[r->file];
		else if (v->z->nfiles > 0)
			file = v->z->files[0];
		fe_zone_error_set(&v->err, file, r ? r->line : 0, "%s: %s", v->z->apex_str, reason);
	}
	pthread_mutex_unlock(&v->mu);
	atomic_store(&v->stop, true);
	return rc;
}

static int types_push(struct fe__vthr *t, size_t n, uint16_t type)
{
	if (n == t->types_cap) {
		size_t cap = t->types_cap ? t->types_cap * 2 : 64;
		uint16_t *p = realloc(t->types, cap * sizeof(*p));
		if (p == NULL)
			return FE_ENOMEM;
		t->types = p;
		t->types_cap = cap;
	}
	t->types[n] = type;
	return FE_OK;
}

int fe__node_types(struct fe__vthr *t, struct fe__zrec *const *recs, size_t n, int sig_mode)
{
	size_t cnt = 0;
	bool sig = sig_mode == FE__SIG_ALWAYS, ds = false;
	/* Records are sorted by covered type, so types come out ascending; RRSIG is slotted
	 * in at its own number. */
	for (size_t i = 0; i < n; i++) {
		if (recs[i]->type == FE_T_RRSIG) {
			sig = true;
			continue;
		}
		ds |= recs[i]->type == FE_T_DS;
		if (cnt > 0 && t->types[cnt - 1] == recs[i]->type)
			continue;
		if (types_push(t, cnt, recs[i]->type) != FE_OK)
			return FE_ENOMEM;
		cnt++;
	}
	if (sig_mode == FE__SIG_IF_DS && ds)
		sig = true;
	if (sig) {
		size_t at = 0;
		while (at < cnt && t->types[at] < FE_T_RRSIG)
			at++;
		if (types_push(t, cnt, 0) != FE_OK)
			return FE_ENOMEM;
		memmove(t->types + at + 1, t->types + at, (cnt - at) * sizeof(*t->types));
		t->types[at] = FE_T_RRSIG;
		cnt++;
	}
	return (int)cnt;
}

bool fe__bitmap_valid(const uint8_t *b, size_t len)
{
	/* RFC 4034 §4.1.2: blocks of (window, length 1..32, bits), windows increasing. */
	int last = -1;
	size_t o = 0;
	while (o < len) {
		if (len - o < 2)
			return false;
		uint8_t w = b[o], l = b[o + 1];
		if ((int)w <= last || l < 1 || l > 32 || len - o - 2 < l)
			return false;
		last = w;
		o += 2u + l;
	}
	return true;
}

bool fe__bitmap_has(const uint8_t *b, size_t len, uint16_t type)
{
	uint8_t win = (uint8_t)(type >> 8), bit = (uint8_t)(type & 0xFF);
	size_t o = 0;
	while (o + 2 <= len) {
		uint8_t w = b[o], l = b[o + 1];
		if (w == win)
			return (size_t)(bit / 8) < l && (b[o + 2 + bit / 8] & (0x80 >> (bit % 8)));
		if (w > win)
			return false;
		o += 2u + l;
	}
	return false;
}

static bool in_list(const uint16_t *l, size_t n, uint16_t t)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (l[mid] == t)
			return true;
		if (l[mid] < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

bool fe__bitmap_match(const uint8_t *b, size_t len, const uint16_t *types, size_t ntypes, bool cut,
                      const uint16_t *required, size_t nrequired, char *why, size_t why_cap)
{
	char ts[32];
	size_t seen = 0;
	for (size_t o = 0; o + 2 <= len; o += 2u + b[o + 1]) {
		for (size_t i = 0; i < b[o + 1]; i++) {
			for (unsigned bit = 0; bit < 8; bit++) {
				if (!(b[o + 2 + i] & (0x80u >> bit)))
					continue;
				uint16_t t = (uint16_t)(b[o] << 8 | (i * 8 + bit));
				if (!in_list(types, ntypes, t)) {
					snprintf(why, why_cap, "lists %s, absent from the name",
					         fe__type_str(t, ts, sizeof(ts)));
					return false;
				}
				seen++;
			}
		}
	}
	const uint16_t *need = cut ? required : types;
	size_t nneed = cut ? nrequired : ntypes;
	if (!cut && seen == ntypes)
		return true;
	for (size_t i = 0; i < nneed; i++) {
		if (!fe__bitmap_has(b, len, need[i])) {
			snprintf(why, why_cap, "omits %s, present at the name",
			         fe__type_str(need[i], ts, sizeof(ts)));
			return false;
		}
	}
	return true;
}
