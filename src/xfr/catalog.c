/* Catalog zones (RFC 9432, version 2): the member zones and their properties read from the
 * records of a catalog zone, refused as a whole when the catalog breaks the rules
 * (include/fedenum/xfr.h, "catalog zones"). Records come in any order: members and
 * properties are collected by unique id and joined at the end (sorted, one merge). */
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "fedenum/xfr.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T_A     1u
#define T_NS    2u
#define T_SOA   6u
#define T_PTR   12u
#define T_TXT   16u
#define T_AAAA  28u
#define T_RRSIG 46u

#define RRS_PER_MEMBER 16u
#define RRS_BASE       256u

enum prop_kind { PROP_GROUP = 0, PROP_PRIMARY };

struct ent {            /* a member (PTR) or a property, by unique id */
	uint8_t id[64]; /* the label, lower case */
	uint8_t id_len;
	uint8_t kind; /* members: 0; properties: enum prop_kind */
	char value[FE_WIRE_NAME_MAX * 4 + 2];
	uint8_t wire[FE_WIRE_NAME_MAX]; /* members: the zone, lower case */
	size_t wire_len;
};

struct fe_catalog_parser {
	uint8_t apex[FE_WIRE_NAME_MAX]; /* lower case */
	size_t apex_len;
	int apex_labels;
	size_t max_members;
	uint64_t rrs, max_rrs;
	int err;
	char why[512];
	bool has_soa, has_version;
	uint32_t serial;
	char primary[96];
	bool has_primary;
	struct ent *mem, *prop;
	size_t nmem, capmem, nprop, capprop;
	size_t ignored;
};

static int fail(struct fe_catalog_parser *p, int err, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int fail(struct fe_catalog_parser *p, int err, const char *fmt, ...)
{
	if (p->err)
		return p->err;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	p->err = err;
	return err;
}

int fe_catalog_parser_create(const uint8_t *apex, size_t apex_len, size_t max_members,
                             struct fe_catalog_parser **out)
{
	*out = NULL;
	if (fe_wire_name_len(apex, apex_len) != (int)apex_len || apex_len < 2 || !max_members)
		return FE_EINVAL;
	struct fe_catalog_parser *p = calloc(1, sizeof(*p));
	if (!p)
		return FE_ENOMEM;
	fe_wire_name_lower(apex, p->apex);
	p->apex_len = apex_len;
	p->apex_labels = fe_wire_name_labels(p->apex);
	p->max_members = max_members;
	p->max_rrs = (uint64_t)max_members * RRS_PER_MEMBER + RRS_BASE;
	*out = p;
	return FE_OK;
}

void fe_catalog_parser_destroy(struct fe_catalog_parser *p)
{
	if (!p)
		return;
	free(p->mem);
	free(p->prop);
	free(p);
}

/* The labels of @name (lower case) above the apex: lab[0] the leftmost. Returns their
 * number, or -1 when @name is not at or below the apex. */
static int relative(const struct fe_catalog_parser *p, const uint8_t *name, size_t len,
                    const uint8_t *lab[FE_WIRE_NAME_MAX / 2])
{
	int total = fe_wire_name_labels(name);
	int rel = total - p->apex_labels;
	if (rel < 0)
		return -1;
	size_t off = 0;
	for (int i = 0; i < rel; i++) {
		lab[i] = name + off;
		off += 1u + name[off];
	}
	if (len - off != p->apex_len || memcmp(name + off, p->apex, p->apex_len) != 0)
		return -1;
	return rel;
}

static bool label_is(const uint8_t *lab, const char *s)
{
	size_t n = strlen(s);
	return lab[0] == n && memcmp(lab + 1, s, n) == 0;
}

static struct ent *push(struct fe_catalog_parser *p, bool member, const uint8_t *id)
{
	struct ent **v = member ? &p->mem : &p->prop;
	size_t *n = member ? &p->nmem : &p->nprop, *cap = member ? &p->capmem : &p->capprop;
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct ent *x = realloc(*v, nc * sizeof(*x));
		if (!x)
			return NULL;
		*v = x;
		*cap = nc;
	}
	struct ent *e = &(*v)[(*n)++];
	memset(e, 0, sizeof(*e));
	e->id_len = id[0];
	memcpy(e->id, id + 1, id[0]);
	return e;
}

/* The first character-string of a TXT RDATA as a C string (printable ASCII only). */
static bool txt_first(const uint8_t *rd, size_t len, char *out, size_t cap)
{
	if (len < 1 || rd[0] + 1u > len || rd[0] >= cap)
		return false;
	for (size_t i = 0; i < rd[0]; i++)
		if (rd[1 + i] < 0x20 || rd[1 + i] > 0x7e)
			return false;
	memcpy(out, rd + 1, rd[0]);
	out[rd[0]] = '\0';
	return true;
}

/* "ADDR@PORT": a numeric IPv4 or IPv6 address (no brackets) and a port 1..65535. */
static bool addr_port_ok(const char *s)
{
	const char *at = strrchr(s, '@');
	char addr[INET6_ADDRSTRLEN];
	uint8_t bin[16];
	if (!at || at == s || (size_t)(at - s) >= sizeof(addr) || !at[1] || strlen(at + 1) > 5)
		return false;
	memcpy(addr, s, (size_t)(at - s));
	addr[at - s] = '\0';
	unsigned long port = 0;
	for (const char *p = at + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		port = port * 10u + (unsigned long)(*p - '0');
	}
	return port >= 1 && port <= 65535 &&
	       (inet_pton(AF_INET, addr, bin) == 1 || inet_pton(AF_INET6, addr, bin) == 1);
}

/* A primaries property value as "ADDR@PORT": TXT "ADDR@PORT", A or AAAA (port 53). */
static bool primary_value(uint16_t type, const uint8_t *rd, size_t len, char *out, size_t cap)
{
	char buf[INET6_ADDRSTRLEN];
	if (type == T_TXT)
		return txt_first(rd, len, out, cap) && addr_port_ok(out);
	if ((type == T_A && len == 4 && inet_ntop(AF_INET, rd, buf, sizeof(buf))) ||
	    (type == T_AAAA && len == 16 && inet_ntop(AF_INET6, rd, buf, sizeof(buf))))
		return snprintf(out, cap, "%s@53", buf) < (int)cap;
	return false;
}

static void id_str(const uint8_t *id, size_t len, char *out, size_t cap)
{
	uint8_t w[66];
	w[0] = (uint8_t)len;
	memcpy(w + 1, id, len);
	w[len + 1] = 0;
	fe_wire_name_to_str(w, out, cap);
	size_t n = strlen(out);
	if (n && out[n - 1] == '.')
		out[n - 1] = '\0';
}

int fe_catalog_parser_add(struct fe_catalog_parser *p, const uint8_t *owner, size_t owner_len,
                          uint16_t type, const uint8_t *rdata, size_t rdlen)
{
	if (p->err)
		return p->err;
	if (++p->rrs > p->max_rrs)
		return fail(p, FE_ERANGE, "more than %llu records (the limit for %zu member zones)",
		            (unsigned long long)p->max_rrs, p->max_members);
	uint8_t name[FE_WIRE_NAME_MAX];
	char show[FE_WIRE_NAME_MAX * 4 + 2];
	if (fe_wire_name_len(owner, owner_len) != (int)owner_len)
		return fail(p, FE_EFORMAT, "a record with a malformed owner name");
	fe_wire_name_lower(owner, name);
	const uint8_t *lab[FE_WIRE_NAME_MAX / 2];
	int rel = relative(p, name, owner_len, lab);
	if (rel < 0) {
		fe_wire_name_to_str(owner, show, sizeof(show));
		return fail(p, FE_EFORMAT, "%s is outside the catalog", show);
	}
	if (type == T_RRSIG) { /* signatures are the validator's business */
		p->ignored++;
		return FE_OK;
	}
	if (rel == 0) {
		if (type == T_SOA) {
			int a = fe_wire_name_len(rdata, rdlen);
			int b = a > 0 ? fe_wire_name_len(rdata + a, rdlen - (size_t)a) : -1;
			if (b <= 0 || rdlen != (size_t)a + (size_t)b + 20)
				return fail(p, FE_EFORMAT, "a malformed SOA");
			p->serial = fe_get_be32(rdata + a + b);
			p->has_soa = true;
		} else if (type != T_NS) {
			p->ignored++;
		}
		return FE_OK;
	}
	/* version.<catalog> TXT "2" (RFC 9432 §4.2.1) */
	if (rel == 1 && label_is(lab[0], "version")) {
		if (type != T_TXT) {
			p->ignored++;
			return FE_OK;
		}
		char v[64];
		if (p->has_version)
			return fail(p, FE_EFORMAT, "more than one version record");
		p->has_version = true;
		if (!txt_first(rdata, rdlen, v, sizeof(v)) || rdata[0] + 1u != rdlen)
			return fail(p, FE_EFORMAT, "the version record is not one string");
		if (strcmp(v, "2") != 0)
			return fail(
			        p, FE_EVERSION,
			        "catalog version \"%s\" (only version \"2\", RFC 9432, is read)",
			        v);
		return FE_OK;
	}
	/* primaries.ext.<catalog>: every member's primary */
	if (rel == 2 && label_is(lab[0], "primaries") && label_is(lab[1], "ext")) {
		if (type != T_TXT && type != T_A && type != T_AAAA) {
			p->ignored++;
			return FE_OK;
		}
		if (p->has_primary)
			return fail(p, FE_EFORMAT, "more than one primaries.ext record");
		if (!primary_value(type, rdata, rdlen, p->primary, sizeof(p->primary)))
			return fail(p, FE_EFORMAT,
			            "primaries.ext: not a TXT \"ADDR@PORT\", an A or an AAAA");
		p->has_primary = true;
		return FE_OK;
	}
	/* below zones.<catalog> */
	if (rel < 2 || !label_is(lab[rel - 1], "zones")) {
		p->ignored++;
		return FE_OK;
	}
	const uint8_t *id = lab[rel - 2];
	char ids[64 * 4 + 1];
	if (rel == 2) { /* <id>.zones: the member */
		if (type != T_PTR) {
			p->ignored++;
			return FE_OK;
		}
		id_str(id + 1, id[0], ids, sizeof(ids));
		int nl = fe_wire_name_len(rdata, rdlen);
		if (nl != (int)rdlen)
			return fail(p, FE_EFORMAT, "member %s: the PTR is not one valid name", ids);
		if (nl == 1)
			return fail(p, FE_EFORMAT, "member %s: the PTR names the root", ids);
		uint8_t zw[FE_WIRE_NAME_MAX];
		fe_wire_name_lower(rdata, zw);
		const uint8_t *zl[FE_WIRE_NAME_MAX / 2];
		fe_wire_name_to_str(zw, show, sizeof(show));
		if (relative(p, zw, (size_t)nl, zl) >= 0)
			return fail(p, FE_EFORMAT, "member %s: %s is the catalog or below it", ids,
			            show);
		if (p->nmem >= p->max_members)
			return fail(p, FE_ERANGE, "more than %zu member zones (the limit)",
			            p->max_members);
		struct ent *e = push(p, true, id);
		if (!e)
			return fail(p, FE_ENOMEM, "out of memory");
		memcpy(e->wire, zw, (size_t)nl);
		e->wire_len = (size_t)nl;
		snprintf(e->value, sizeof(e->value), "%s", show);
		return FE_OK;
	}
	/* group.<id>.zones TXT; primaries.ext.<id>.zones TXT/A/AAAA */
	bool group = rel == 3 && label_is(lab[0], "group") && type == T_TXT;
	bool prim = rel == 4 && label_is(lab[0], "primaries") && label_is(lab[1], "ext") &&
	            (type == T_TXT || type == T_A || type == T_AAAA);
	if (!group && !prim) {
		p->ignored++;
		return FE_OK;
	}
	id_str(id + 1, id[0], ids, sizeof(ids));
	struct ent *e = push(p, false, id);
	if (!e)
		return fail(p, FE_ENOMEM, "out of memory");
	if (group) {
		e->kind = PROP_GROUP;
		if (!txt_first(rdata, rdlen, e->value, 256))
			return fail(p, FE_EFORMAT, "member %s: the group property is not a string",
			            ids);
	} else {
		e->kind = PROP_PRIMARY;
		if (!primary_value(type, rdata, rdlen, e->value, 96))
			return fail(
			        p, FE_EFORMAT,
			        "member %s: primaries.ext is not a TXT \"ADDR@PORT\", an A or an "
			        "AAAA",
			        ids);
	}
	return FE_OK;
}

static int ent_id_cmp(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	int c = fe_wire_key_cmp(x->id, x->id_len, y->id, y->id_len);
	return c ? c : (int)x->kind - (int)y->kind;
}

static int ent_zone_cmp(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	uint8_t kx[FE_WIRE_KEY_MAX], ky[FE_WIRE_KEY_MAX];
	int lx = fe_wire_name_key(x->wire, x->wire_len, kx, sizeof(kx));
	int ly = fe_wire_name_key(y->wire, y->wire_len, ky, sizeof(ky));
	return fe_wire_key_cmp(kx, lx > 0 ? (size_t)lx : 0, ky, ly > 0 ? (size_t)ly : 0);
}

static int member_cmp(const void *a, const void *b)
{
	const struct fe_catalog_member *x = a, *y = b;
	struct ent ex = {0}, ey = {0};
	memcpy(ex.wire, x->zone_wire, x->zone_wire_len);
	ex.wire_len = x->zone_wire_len;
	memcpy(ey.wire, y->zone_wire, y->zone_wire_len);
	ey.wire_len = y->zone_wire_len;
	return ent_zone_cmp(&ex, &ey);
}

int fe_catalog_parser_finish(struct fe_catalog_parser *p, struct fe_catalog *out, char *why,
                             size_t cap)
{
	memset(out, 0, sizeof(*out));
	if (!p->err && !p->has_soa)
		fail(p, FE_EFORMAT, "no SOA at the apex");
	if (!p->err && !p->has_version)
		fail(p, FE_EFORMAT,
		     "no version record (version.<catalog> TXT \"2\", RFC 9432 "
		     "§4.2.1)");
	char ids[64 * 4 + 1];
	if (!p->err) {
		/* a duplicate unique id: two PTR records at one owner */
		if (p->nmem)
			qsort(p->mem, p->nmem, sizeof(*p->mem), ent_id_cmp);
		for (size_t i = 1; i < p->nmem && !p->err; i++)
			if (ent_id_cmp(&p->mem[i - 1], &p->mem[i]) == 0) {
				id_str(p->mem[i].id, p->mem[i].id_len, ids, sizeof(ids));
				fail(p, FE_EFORMAT,
				     "duplicate unique id %s: more than one PTR (%s, %s)", ids,
				     p->mem[i - 1].value, p->mem[i].value);
			}
	}
	if (!p->err) {
		/* a member zone under two ids */
		struct ent *byz = malloc((p->nmem ? p->nmem : 1) * sizeof(*byz));
		if (!byz)
			return fail(p, FE_ENOMEM, "out of memory");
		if (p->nmem) {
			memcpy(byz, p->mem, p->nmem * sizeof(*byz));
			qsort(byz, p->nmem, sizeof(*byz), ent_zone_cmp);
		}
		for (size_t i = 1; i < p->nmem && !p->err; i++)
			if (ent_zone_cmp(&byz[i - 1], &byz[i]) == 0) {
				char a[64 * 4 + 1], b[64 * 4 + 1];
				id_str(byz[i - 1].id, byz[i - 1].id_len, a, sizeof(a));
				id_str(byz[i].id, byz[i].id_len, b, sizeof(b));
				fail(p, FE_EFORMAT,
				     "zone %s is listed twice (unique ids %s and %s)", byz[i].value,
				     a, b);
			}
		free(byz);
	}
	if (!p->err && p->nmem) {
		out->m = calloc(p->nmem, sizeof(*out->m));
		if (!out->m)
			fail(p, FE_ENOMEM, "out of memory");
	}
	if (!p->err) {
		/* join the properties to their members (both sorted by id) */
		if (p->nprop)
			qsort(p->prop, p->nprop, sizeof(*p->prop), ent_id_cmp);
		size_t j = 0, used = 0;
		for (size_t i = 0; i < p->nmem && !p->err; i++) {
			const struct ent *e = &p->mem[i];
			struct fe_catalog_member *m = &out->m[i];
			snprintf(m->zone, sizeof(m->zone), "%s", e->value);
			memcpy(m->zone_wire, e->wire, e->wire_len);
			m->zone_wire_len = e->wire_len;
			id_str(e->id, e->id_len, m->id, sizeof(m->id));
			while (j < p->nprop && fe_wire_key_cmp(p->prop[j].id, p->prop[j].id_len,
			                                       e->id, e->id_len) < 0)
				j++; /* properties of no member: ignored */
			bool has_prim = false;
			for (; j < p->nprop && fe_wire_key_cmp(p->prop[j].id, p->prop[j].id_len,
			                                       e->id, e->id_len) == 0;
			     j++) {
				const struct ent *pr = &p->prop[j];
				used++;
				if (pr->kind == PROP_GROUP && !m->group[0])
					memcpy(m->group, pr->value, sizeof(m->group) - 1);
				else if (pr->kind == PROP_PRIMARY && has_prim)
					fail(p, FE_EFORMAT,
					     "member %s: more than one primaries.ext record",
					     m->id);
				else if (pr->kind == PROP_PRIMARY) {
					memcpy(m->primary, pr->value, sizeof(m->primary) - 1);
					has_prim = true;
				}
			}
		}
		p->ignored += p->nprop - used; /* properties of no member */
	}
	if (p->err) {
		free(out->m);
		memset(out, 0, sizeof(*out));
		snprintf(why, cap, "%s", p->why);
		return p->err;
	}
	out->n = p->nmem;
	out->serial = p->serial;
	out->ignored = p->ignored;
	snprintf(out->primary, sizeof(out->primary), "%s", p->has_primary ? p->primary : "");
	if (out->n)
		qsort(out->m, out->n, sizeof(*out->m), member_cmp);
	if (cap)
		why[0] = '\0';
	return FE_OK;
}

bool fe_catalog_parser_failed(const struct fe_catalog_parser *p)
{
	return p->err != 0;
}

void fe_catalog_free(struct fe_catalog *c)
{
	free(c->m);
	memset(c, 0, sizeof(*c));
}

const struct fe_catalog_member *fe_catalog_find(const struct fe_catalog *c,
                                                const uint8_t *zone_wire, size_t len)
{
	/* binary search: the members are in canonical order of their names */
	uint8_t key[FE_WIRE_KEY_MAX], mk[FE_WIRE_KEY_MAX];
	int kl = fe_wire_name_key(zone_wire, len, key, sizeof(key));
	if (kl < 0)
		return NULL;
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct fe_catalog_member *m = &c->m[mid];
		int ml = fe_wire_name_key(m->zone_wire, m->zone_wire_len, mk, sizeof(mk));
		int cmp = fe_wire_key_cmp(mk, ml > 0 ? (size_t)ml : 0, key, (size_t)kl);
		if (cmp == 0)
			return m;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
