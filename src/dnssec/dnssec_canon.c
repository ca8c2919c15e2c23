/* Canonical RR form (RFC 4034 §6.2) and canonical RRset order (§6.3) for signature
 * verification and ZONEMD digests. */
#include "dnssec_int.h"

#include <stdlib.h>
#include <string.h>

/* Lowercase the uncompressed name at @p (in place, in @out's copy) within [p, end).
 * Returns the offset past the name, or 0 when malformed. */
static size_t lower_name(uint8_t *p, size_t off, size_t end, bool *changed)
{
	size_t start = off;
	for (;;) {
		if (off >= end)
			return 0;
		uint8_t l = p[off];
		if (l == 0)
			return off + 1;
		if (l > FE_WIRE_LABEL_MAX || off + 1u + l >= end || off + 1u + l - start > 254)
			return 0;
		for (size_t i = off + 1; i <= off + l; i++) {
			if (p[i] >= 'A' && p[i] <= 'Z') {
				p[i] = (uint8_t)(p[i] + 32);
				*changed = true;
			}
		}
		off += 1u + l;
	}
}

static size_t skip_charstr(const uint8_t *p, size_t off, size_t end)
{
	if (off >= end || off + 1u + p[off] > end)
		return 0;
	return off + 1u + p[off];
}

bool fe__canon_rdata(uint16_t type, const uint8_t *rd, size_t len, uint8_t *out, bool *changed)
{
	size_t o;
	*changed = false;
	memcpy(out, rd, len);
	/* RFC 4034 §6.2 item 3: the types whose RDATA names are lowercased; RFC 6840 §5.1
	 * takes NSEC out of the list (and keeps RRSIG in). */
	switch (type) {
	case 2:  /* NS */
	case 3:  /* MD */
	case 4:  /* MF */
	case 5:  /* CNAME */
	case 7:  /* MB */
	case 8:  /* MG */
	case 9:  /* MR */
	case 12: /* PTR */
	case 30: /* NXT */
	case 39: /* DNAME */
		return lower_name(out, 0, len, changed) != 0;
	case 6:  /* SOA: MNAME RNAME + 20 octets */
	case 14: /* MINFO */
	case 17: /* RP */
		o = lower_name(out, 0, len, changed);
		return o != 0 && lower_name(out, o, len, changed) != 0;
	case 15: /* MX */
	case 18: /* AFSDB */
	case 21: /* RT */
	case 36: /* KX */
		return len > 2 && lower_name(out, 2, len, changed) != 0;
	case 26: /* PX */
		o = len > 2 ? lower_name(out, 2, len, changed) : 0;
		return o != 0 && lower_name(out, o, len, changed) != 0;
	case 33: /* SRV */
		return len > 6 && lower_name(out, 6, len, changed) != 0;
	case 24: /* SIG */
	case 46: /* RRSIG */
		return len > 18 && lower_name(out, 18, len, changed) != 0;
	case 35: /* NAPTR: order pref flags services regexp replacement */
		o = 4;
		for (int i = 0; i < 3 && o != 0; i++)
			o = skip_charstr(out, o, len);
		return o != 0 && lower_name(out, o, len, changed) != 0;
	case 38: { /* A6: prefix length, address suffix, prefix name when length > 0 */
		if (len < 1 || out[0] > 128)
			return false;
		size_t suffix = (128u - out[0] + 7u) / 8u;
		if (1 + suffix > len)
			return false;
		if (out[0] == 0)
			return 1 + suffix == len;
		return lower_name(out, 1 + suffix, len, changed) != 0;
	}
	default:
		return true;
	}
}

static bool type_has_names(uint16_t t)
{
	switch (t) {
	case 2:
	case 3:
	case 4:
	case 5:
	case 6:
	case 7:
	case 8:
	case 9:
	case 12:
	case 14:
	case 15:
	case 17:
	case 18:
	case 21:
	case 24:
	case 26:
	case 30:
	case 33:
	case 35:
	case 36:
	case 38:
	case 39:
	case 46:
		return true;
	default:
		return false;
	}
}

int fe__buf_reserve(struct fe__vthr *t, size_t need)
{
	if (need <= t->buf_cap)
		return FE_OK;
	size_t cap = t->buf_cap ? t->buf_cap : 65536;
	while (cap < need)
		cap *= 2;
	uint8_t *p = realloc(t->buf, cap);
	if (p == NULL)
		return FE_ENOMEM;
	t->buf = p;
	t->buf_cap = cap;
	return FE_OK;
}

static int crr_cmp(const void *pa, const void *pb)
{
	const struct fe__crr *a = pa, *b = pb;
	int c = memcmp(a->rd, b->rd, FE_MIN(a->len, b->len));
	if (c != 0)
		return c;
	return a->len < b->len ? -1 : (a->len > b->len ? 1 : 0);
}

int fe__canon_rrset(struct fe__vthr *t, uint16_t type, struct fe__zrec *const *recs, size_t n)
{
	if (n > t->crr_cap) {
		size_t cap = FE_MAX(n, (size_t)64);
		struct fe__crr *c = realloc(t->crr, cap * sizeof(*c));
		if (c == NULL)
			return FE_ENOMEM;
		t->crr = c;
		t->crr_cap = cap;
	}
	bool names = type_has_names(type), any = false;
	if (names) {
		size_t total = 0;
		for (size_t i = 0; i < n; i++)
			total += recs[i]->rdlen;
		if (total > t->cbuf_cap) {
			size_t cap = FE_MAX(total, (size_t)65536);
			uint8_t *p = realloc(t->cbuf, cap);
			if (p == NULL)
				return FE_ENOMEM;
			t->cbuf = p;
			t->cbuf_cap = cap;
		}
	}
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		const struct fe__zrec *r = recs[i];
		t->crr[i].len = r->rdlen;
		t->crr[i].ttl = r->ttl;
		t->crr[i].rd = r->rdata;
		if (names) {
			bool ch;
			if (!fe__canon_rdata(type, r->rdata, r->rdlen, t->cbuf + off, &ch))
				return FE_EFORMAT;
			if (ch) {
				t->crr[i].rd = t->cbuf + off;
				any = true;
			}
			off += r->rdlen;
		}
	}
	if (!any)
		return (int)n; /* the zone's own order is already the RDATA order, no duplicates */
	/* Lowercasing can reorder RRs and make two of them equal (RFC 4034 §6.3: an RRset
	 * holds no duplicates in canonical form). */
	qsort(t->crr, n, sizeof(*t->crr), crr_cmp);
	size_t w = 1;
	for (size_t i = 1; i < n; i++)
		if (crr_cmp(&t->crr[w - 1], &t->crr[i]) != 0)
			t->crr[w++] = t->crr[i];
	return (int)w;
}
