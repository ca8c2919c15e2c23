/* Trust anchors: DS and DNSKEY records by owner, read from files as ldns-key2ds,
 * dnssec-dsfromkey or a .key file print them (include/fedenum/trust.h). */
#include "trust_int.h"

#include <errno.h>
#include <ldns/ldns.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The anchors of one owner: DS and DNSKEY RDATA in two arrays, so that a struct
 * fe_dnssec_trust can point straight at them. */
struct owner_set {
	uint8_t name[FE_WIRE_NAME_MAX]; /* lowercased */
	size_t name_len;
	struct fe_dnssec_rdata *ds;
	size_t nds, cap_ds;
	struct fe_dnssec_rdata *dnskey;
	size_t ndnskey, cap_dnskey;
};

struct fe_trust_anchors {
	struct owner_set *set;
	size_t n, cap;
	size_t records;
};

int fe_trust_anchors_create(struct fe_trust_anchors **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? FE_OK : FE_ENOMEM;
}

static void free_list(struct fe_dnssec_rdata *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((void *)l[i].data);
	free(l);
}

void fe_trust_anchors_destroy(struct fe_trust_anchors *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n; i++) {
		free_list(a->set[i].ds, a->set[i].nds);
		free_list(a->set[i].dnskey, a->set[i].ndnskey);
	}
	free(a->set);
	free(a);
}

size_t fe_trust_anchors_count(const struct fe_trust_anchors *a)
{
	return a ? a->records : 0;
}

static struct owner_set *find_owner(const struct fe_trust_anchors *a, const uint8_t *lc)
{
	for (size_t i = 0; i < a->n; i++)
		if (fe_wire_name_eq(a->set[i].name, lc))
			return &a->set[i];
	return NULL;
}

static int push(struct fe_dnssec_rdata **l, size_t *n, size_t *cap, const uint8_t *rdata,
                size_t rdlen)
{
	for (size_t i = 0; i < *n; i++)
		if ((*l)[i].len == rdlen && memcmp((*l)[i].data, rdata, rdlen) == 0)
			return 1; /* duplicate */
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 4;
		struct fe_dnssec_rdata *nl = realloc(*l, nc * sizeof(**l));
		if (nl == NULL)
			return FE_ENOMEM;
		*l = nl;
		*cap = nc;
	}
	uint8_t *copy = malloc(rdlen ? rdlen : 1);
	if (copy == NULL)
		return FE_ENOMEM;
	memcpy(copy, rdata, rdlen);
	(*l)[*n].data = copy;
	(*l)[*n].len = (uint16_t)rdlen;
	(*n)++;
	return FE_OK;
}

int fe_trust_anchors_add(struct fe_trust_anchors *a, const uint8_t *owner, size_t owner_len,
                         uint16_t type, const uint8_t *rdata, size_t rdlen)
{
	uint8_t lc[FE_WIRE_NAME_MAX];
	if (a == NULL || (type != FE_T_DS && type != FE_T_DNSKEY) || rdlen < 4 ||
	    rdlen > UINT16_MAX || owner_len < 2 ||
	    fe_wire_name_len(owner, owner_len) != (int)owner_len)
		return FE_EINVAL;
	fe_wire_name_lower(owner, lc);
	struct owner_set *s = find_owner(a, lc);
	if (s == NULL) {
		if (a->n == a->cap) {
			size_t nc = a->cap ? a->cap * 2 : 4;
			struct owner_set *ns = realloc(a->set, nc * sizeof(*ns));
			if (ns == NULL)
				return FE_ENOMEM;
			a->set = ns;
			a->cap = nc;
		}
		s = &a->set[a->n++];
		memset(s, 0, sizeof(*s));
		memcpy(s->name, lc, owner_len);
		s->name_len = owner_len;
	}
	int rc = type == FE_T_DS ? push(&s->ds, &s->nds, &s->cap_ds, rdata, rdlen)
	                         : push(&s->dnskey, &s->ndnskey, &s->cap_dnskey, rdata, rdlen);
	if (rc == FE_OK)
		a->records++;
	return rc < 0 ? rc : FE_OK;
}

bool fe_trust_anchors_for(const struct fe_trust_anchors *a, const uint8_t *apex, size_t apex_len,
                          struct fe_dnssec_trust *out)
{
	uint8_t lc[FE_WIRE_NAME_MAX];
	memset(out, 0, sizeof(*out));
	if (a == NULL || fe_wire_name_len(apex, apex_len) != (int)apex_len)
		return false;
	fe_wire_name_lower(apex, lc);
	const struct owner_set *s = find_owner(a, lc);
	if (s == NULL || (s->nds == 0 && s->ndnskey == 0))
		return false;
	out->ds = s->ds;
	out->ds_count = s->nds;
	out->dnskey = s->dnskey;
	out->dnskey_count = s->ndnskey;
	return true;
}

size_t fe_trust_anchors_describe(const struct fe_trust_anchors *a, char *buf, size_t cap)
{
	size_t need = 0;
	char tmp[1200];
	if (cap)
		buf[0] = '\0';
	for (size_t i = 0; a && i < a->n; i++) {
		const struct owner_set *s = &a->set[i];
		char name[1100];
		fe_wire_name_to_str(s->name, name, sizeof(name));
		size_t o = (size_t)snprintf(tmp, sizeof(tmp), "%s%s (", i ? ", " : "", name);
		for (size_t k = 0; k < s->nds && o < sizeof(tmp); k++)
			o += (size_t)snprintf(tmp + o, sizeof(tmp) - o, "%sDS %u/%u/%u",
			                      k ? ", " : "", fe_get_be16(s->ds[k].data),
			                      s->ds[k].data[2], s->ds[k].data[3]);
		for (size_t k = 0; k < s->ndnskey && o < sizeof(tmp); k++)
			o += (size_t)snprintf(
			        tmp + o, sizeof(tmp) - o, "%sDNSKEY %u/%u",
			        (k || s->nds) ? ", " : "",
			        fe_dnssec_key_tag(s->dnskey[k].data, s->dnskey[k].len),
			        s->dnskey[k].data[3]);
		if (o < sizeof(tmp))
			o += (size_t)snprintf(tmp + o, sizeof(tmp) - o, ")");
		o = FE_MIN(o, sizeof(tmp) - 1);
		if (need + 1 < cap) {
			size_t n = FE_MIN(o, cap - 1 - need);
			memcpy(buf + need, tmp, n);
			buf[need + n] = '\0';
		}
		need += o;
	}
	return need;
}

size_t fe_trust_anchors_text(const struct fe_trust_anchors *a, size_t i, char *buf, size_t cap)
{
	for (size_t k = 0; a && k < a->n; k++) {
		const struct owner_set *s = &a->set[k];
		if (i >= s->nds + s->ndnskey) {
			i -= s->nds + s->ndnskey;
			continue;
		}
		char name[1100];
		fe_wire_name_to_str(s->name, name, sizeof(name));
		bool ds = i < s->nds;
		const struct fe_dnssec_rdata *r = ds ? &s->ds[i] : &s->dnskey[i - s->nds];
		if (r->len < 4)
			return 0;
		size_t o;
		if (ds) {
			o = (size_t)snprintf(buf, cap, "%s IN DS %u %u %u ", name,
			                     fe_get_be16(r->data), r->data[2], r->data[3]);
			for (size_t b = 4; b < r->len && o + 3 < cap; b++)
				o += (size_t)snprintf(buf + o, cap - o, "%02X", r->data[b]);
			if (o + 3 >= cap)
				return 0;
			return o;
		}
		o = (size_t)snprintf(buf, cap, "%s IN DNSKEY %u %u %u ", name, fe_get_be16(r->data),
		                     r->data[2], r->data[3]);
		size_t need = 4u * (((size_t)r->len - 4u + 2u) / 3u);
		if (o >= cap || cap - o < need + 1)
			return 0;
		int n = EVP_EncodeBlock((unsigned char *)buf + o, r->data + 4, (int)r->len - 4);
		return n < 0 ? 0 : o + (size_t)n;
	}
	return 0;
}

/* ---- files ------------------------------------------------------------------------ */

static bool alg_usable(uint8_t alg)
{
	/* RFC 8624 §3.1: the algorithms a validator must (or should) support. */
	switch (alg) {
	case 8:
	case 10:
	case 13:
	case 14:
	case 15:
	case 16:
		return true;
	default:
		return false;
	}
}

/* Whether a DS / DNSKEY anchor can ever vouch for a key here (fe_dnssec_validate uses
 * DS digest types 2 and 4 only, RFC 8624 §3.3; zone keys, protocol 3, RFC 4034 §2.1). */
static bool anchor_usable(uint16_t type, const uint8_t *rd, size_t len)
{
	if (len < 4 || !alg_usable(rd[type == FE_T_DS ? 2 : 3]))
		return false;
	if (type == FE_T_DS)
		return (rd[3] == 2 && len == 4 + 32) || (rd[3] == 4 && len == 4 + 48);
	return (fe_get_be16(rd) & 0x0100u) && !(fe_get_be16(rd) & 0x0080u) && rd[2] == 3;
}

int fe_trust_anchors_add_file(struct fe_trust_anchors *a, const char *path, unsigned *skipped,
                              struct fe_zone_error *err)
{
	ldns_rdf *origin = NULL, *prev = NULL;
	ldns_buffer *buf = NULL;
	uint32_t ttl = 3600;
	int line = 0, rc = FE_OK;
	unsigned used = 0, unusable = 0;

	if (skipped)
		*skipped = 0;
	FILE *fp = fopen(path, "r");
	if (fp == NULL) {
		rc = errno == ENOENT ? FE_ENOENT : FE_EIO;
		fe_zone_error_set(err, path, 0, "cannot read: %s", strerror(errno));
		return rc;
	}
	buf = ldns_buffer_new(1024);
	if (buf == NULL) {
		rc = FE_ENOMEM;
		goto out;
	}
	for (;;) {
		ldns_rr *rr = NULL;
		ldns_status s = ldns_rr_new_frm_fp_l(&rr, fp, &ttl, &origin, &prev, &line);
		unsigned long ln = (unsigned long)(line > 0 ? line : 1);
		if (s == LDNS_STATUS_SYNTAX_EMPTY || s == LDNS_STATUS_SYNTAX_TTL ||
		    s == LDNS_STATUS_SYNTAX_ORIGIN) {
			if (feof(fp))
				break;
			continue;
		}
		if (s != LDNS_STATUS_OK) {
			fe_zone_error_set(err, path, ln, "%s", ldns_get_errorstr_by_id(s));
			rc = FE_ESYNTAX;
			goto out;
		}
		ldns_rr_type t = ldns_rr_get_type(rr);
		const ldns_rdf *owner = ldns_rr_owner(rr);
		if (t != LDNS_RR_TYPE_DS && t != LDNS_RR_TYPE_DNSKEY) {
			fe_zone_error_set(err, path, ln,
			                  "a trust anchor file holds DS or DNSKEY records "
			                  "only");
			rc = FE_EFORMAT;
		} else if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) {
			fe_zone_error_set(err, path, ln, "class must be IN");
			rc = FE_EFORMAT;
		} else if (ldns_rdf_size(owner) < 2) {
			fe_zone_error_set(
			        err, path, ln,
			        "the owner is the root (a relative name without $ORIGIN?): "
			        "write it fully qualified");
			rc = FE_EFORMAT;
		} else {
			ldns_buffer_clear(buf);
			if (ldns_rr_rdata2buffer_wire(buf, rr) != LDNS_STATUS_OK) {
				fe_zone_error_set(err, path, ln, "cannot encode the record");
				rc = FE_EFORMAT;
			} else {
				const uint8_t *rd = ldns_buffer_begin(buf);
				size_t len = ldns_buffer_position(buf);
				uint16_t type = t == LDNS_RR_TYPE_DS ? FE_T_DS : FE_T_DNSKEY;
				if (anchor_usable(type, rd, len)) {
					rc = fe_trust_anchors_add(a, ldns_rdf_data(owner),
					                          ldns_rdf_size(owner), type, rd,
					                          len);
					used++;
				} else {
					unusable++;
				}
			}
		}
		ldns_rr_free(rr);
		if (rc != FE_OK)
			goto out;
		if (feof(fp))
			break;
	}
	if (used == 0) {
		fe_zone_error_set(
		        err, path, 0,
		        "no usable trust anchor: a DS of digest type 2 or 4, or a zone-key "
		        "DNSKEY, of algorithm 8, 10, 13, 14, 15 or 16 is needed (%u other "
		        "record%s)",
		        unusable, unusable == 1 ? "" : "s");
		rc = FE_EFORMAT;
	}
out:
	if (skipped)
		*skipped = unusable;
	ldns_buffer_free(buf);
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	fclose(fp);
	return rc;
}

/* ---- the anchors a store is kept under ---------------------------------------------
 * meta "trust-anchors": "FEA1" then per record: u8 owner_len, owner (wire, lowercased),
 * u16 type, u16 rdlen, rdata (big-endian lengths). */

static const char META_ANCHORS[] = "trust-anchors";
#define ANCHORS_MAGIC "FEA1"

static int ser_list(uint8_t **buf, size_t *len, size_t *cap, const struct owner_set *s,
                    uint16_t type, const struct fe_dnssec_rdata *l, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		size_t need = 1 + s->name_len + 4 + l[k].len;
		if (*cap - *len < need) {
			size_t nc = (*cap + need) * 2;
			uint8_t *nb = realloc(*buf, nc);
			if (nb == NULL)
				return FE_ENOMEM;
			*buf = nb;
			*cap = nc;
		}
		uint8_t *p = *buf + *len;
		*p++ = (uint8_t)s->name_len;
		memcpy(p, s->name, s->name_len);
		p += s->name_len;
		fe_put_be16(p, type);
		fe_put_be16(p + 2, l[k].len);
		memcpy(p + 4, l[k].data, l[k].len);
		*len += need;
	}
	return FE_OK;
}

int fe_trust_anchors_save(const struct fe_trust_anchors *a, struct fe_store *st)
{
	size_t cap = 256, len = 4;
	uint8_t *buf = malloc(cap);
	int rc = FE_OK;
	if (buf == NULL)
		return FE_ENOMEM;
	memcpy(buf, ANCHORS_MAGIC, 4);
	for (size_t i = 0; a && i < a->n && rc == FE_OK; i++) {
		const struct owner_set *s = &a->set[i];
		rc = ser_list(&buf, &len, &cap, s, FE_T_DS, s->ds, s->nds);
		if (rc == FE_OK)
			rc = ser_list(&buf, &len, &cap, s, FE_T_DNSKEY, s->dnskey, s->ndnskey);
	}
	if (rc == FE_OK)
		rc = fe_store_meta_put(st, META_ANCHORS, buf, fe_trust_anchors_count(a) ? len : 0);
	free(buf);
	return rc;
}

int fe_trust_anchors_from_store(struct fe_store *st, struct fe_trust_anchors **out)
{
	size_t len = 0;
	uint8_t *buf = NULL;
	*out = NULL;
	int rc = fe_store_meta_get(st, META_ANCHORS, NULL, 0, &len);
	if (rc != FE_OK)
		return rc;
	if (len < 4 || (buf = malloc(len)) == NULL)
		return len < 4 ? FE_EFORMAT : FE_ENOMEM;
	rc = fe_store_meta_get(st, META_ANCHORS, buf, len, &len);
	if (rc == FE_OK && memcmp(buf, ANCHORS_MAGIC, 4) != 0)
		rc = FE_EFORMAT;
	if (rc == FE_OK)
		rc = fe_trust_anchors_create(out);
	size_t o = 4;
	while (rc == FE_OK && o < len) {
		size_t nl = buf[o];
		if (len - o < 1 + nl + 4) {
			rc = FE_EFORMAT;
			break;
		}
		const uint8_t *owner = buf + o + 1;
		uint16_t type = fe_get_be16(owner + nl);
		size_t rdlen = fe_get_be16(owner + nl + 2);
		if (len - o - 1 - nl - 4 < rdlen) {
			rc = FE_EFORMAT;
			break;
		}
		rc = fe_trust_anchors_add(*out, owner, nl, type, owner + nl + 4, rdlen);
		if (rc == FE_EINVAL)
			rc = FE_EFORMAT;
		o += 1 + nl + 4 + rdlen;
	}
	free(buf);
	if (rc == FE_OK && fe_trust_anchors_count(*out) == 0)
		rc = FE_ENOENT;
	if (rc != FE_OK) {
		fe_trust_anchors_destroy(*out);
		*out = NULL;
	}
	return rc;
}

static bool in_list(const struct fe_dnssec_rdata *l, size_t n, const struct fe_dnssec_rdata *x)
{
	for (size_t i = 0; i < n; i++)
		if (l[i].len == x->len && memcmp(l[i].data, x->data, x->len) == 0)
			return true;
	return false;
}

bool fe_trust_anchors_within(const struct fe_trust_anchors *a, const struct fe_trust_anchors *b)
{
	for (size_t i = 0; a && i < a->n; i++) {
		const struct owner_set *s = &a->set[i];
		const struct owner_set *t = b ? find_owner(b, s->name) : NULL;
		if (t == NULL && (s->nds || s->ndnskey))
			return false;
		for (size_t k = 0; k < s->nds; k++)
			if (!in_list(t->ds, t->nds, &s->ds[k]))
				return false;
		for (size_t k = 0; k < s->ndnskey; k++)
			if (!in_list(t->dnskey, t->ndnskey, &s->dnskey[k]))
				return false;
	}
	return true;
}

bool fe_trust_anchors_equal(const struct fe_trust_anchors *a, const struct fe_trust_anchors *b)
{
	return fe_trust_anchors_count(a) == fe_trust_anchors_count(b) &&
	       fe_trust_anchors_within(a, b) && fe_trust_anchors_within(b, a);
}
