/* Helpers shared by tests/dnssec/test_dnssec*.c: fixtures, trust files, zone mutations. */
#ifndef FE_TEST_DNSSEC_COMMON_H
#define FE_TEST_DNSSEC_COMMON_H

#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "fedenum/dnssec.h"
#include "fedenum/zone.h"

#include <criterion/criterion.h>
#include <ldns/ldns.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DDATA FE_SOURCE_DIR "/tests/dnssec/data/"
#define DAPEX "5.5.5.1.e164.fed."
/* 2026-06-01T00:00:00Z: inside every fixture's validity (2025-01-01 .. 2034-12-30). */
#define DNOW 1780272000

#define UNUSED __attribute__((unused))

/* Trust read from a file of DS / DNSKEY lines (.ds, .key). */
struct ttrust {
	struct fe_dnssec_trust t;
	struct fe_dnssec_rdata ds[8];
	struct fe_dnssec_rdata key[8];
	uint8_t buf[16][1024];
	size_t nbuf;
};

UNUSED static void rr_rdata(const ldns_rr *rr, uint8_t *out, uint16_t *len)
{
	size_t o = 0;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *f = ldns_rr_rdf(rr, i);
		cr_assert(o + ldns_rdf_size(f) <= 1024);
		memcpy(out + o, ldns_rdf_data(f), ldns_rdf_size(f));
		o += ldns_rdf_size(f);
	}
	*len = (uint16_t)o;
}

/* Add the DS and DNSKEY records of @path (full path) to @tt. */
UNUSED static void trust_add_file(struct ttrust *tt, const char *path)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	char line[4096];
	while (fgets(line, sizeof(line), f)) {
		ldns_rr *rr = NULL;
		if (line[0] == ';' || line[0] == '\n')
			continue;
		cr_assert_eq(ldns_rr_new_frm_str(&rr, line, 3600, NULL, NULL), LDNS_STATUS_OK,
		             "%s: %s", path, line);
		cr_assert(tt->nbuf < 16);
		uint8_t *b = tt->buf[tt->nbuf++];
		struct fe_dnssec_rdata *d;
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_DS) {
			cr_assert(tt->t.ds_count < 8);
			d = &tt->ds[tt->t.ds_count++];
		} else {
			cr_assert_eq(ldns_rr_get_type(rr), LDNS_RR_TYPE_DNSKEY);
			cr_assert(tt->t.dnskey_count < 8);
			d = &tt->key[tt->t.dnskey_count++];
		}
		rr_rdata(rr, b, &d->len);
		d->data = b;
		ldns_rr_free(rr);
	}
	fclose(f);
	tt->t.ds = tt->ds;
	tt->t.dnskey = tt->key;
}

/* Trust from fixture @name's .ds (kind "ds") or .key (kind "key"). */
UNUSED static const struct fe_dnssec_trust *trust_of(struct ttrust *tt, const char *name,
                                                     const char *kind)
{
	char p[512];
	memset(tt, 0, sizeof(*tt));
	snprintf(p, sizeof(p), DDATA "%s.%s", name, kind);
	trust_add_file(tt, p);
	return &tt->t;
}

UNUSED static struct fe_zone *parse_path(const char *path)
{
	struct fe_zone *z = NULL;
	struct fe_zone_error e;
	memset(&e, 0, sizeof(e));
	int rc = fe_zone_parse_file(path, NULL, &z, &e);
	cr_assert_eq(rc, FE_OK, "%s: %s:%lu %s", path, e.file, e.line, e.reason);
	return z;
}

UNUSED static struct fe_zone *parse_fixture(const char *name)
{
	char p[512];
	snprintf(p, sizeof(p), DDATA "%s.zone", name);
	return parse_path(p);
}

UNUSED static void opts_now(struct fe_dnssec_opts *o)
{
	fe_dnssec_opts_init(o);
	o->now_s = DNOW;
}

/* Validate fixture @name against its own DS; returns the result, @e/@rep filled. */
UNUSED static int validate_fixture(const char *name, const struct fe_dnssec_opts *o,
                                   struct fe_dnssec_report *rep, struct fe_zone_error *e)
{
	struct ttrust tt;
	struct fe_zone *z = parse_fixture(name);
	memset(e, 0, sizeof(*e));
	int rc = fe_dnssec_validate(z, trust_of(&tt, name, "ds"), o, rep, e);
	fe_zone_free(z);
	return rc;
}

/* ---- mutations: read a fixture, change its text, write it to a temp file ---------- */

UNUSED static char *read_text(const char *path)
{
	char *s = NULL;
	size_t len;
	cr_assert_eq(fe_file_read_all(path, 64u << 20, &s, &len), FE_OK, "%s", path);
	return s;
}

UNUSED static const char *write_tmp(const char *text)
{
	static char path[256];
	const char *base = getenv("TMPDIR");
	snprintf(path, sizeof(path), "%s/fe-dnssec-XXXXXX", base ? base : "/tmp");
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	size_t n = strlen(text);
	cr_assert_eq(write(fd, text, n), (ssize_t)n);
	close(fd);
	return path;
}

/* Replace the first occurrence of @from in @s by @to (fails the test when absent). */
UNUSED static char *replace1(char *s, const char *from, const char *to)
{
	char *at = strstr(s, from);
	cr_assert_not_null(at, "text not found: %s", from);
	size_t fl = strlen(from), tl = strlen(to), sl = strlen(s);
	char *r = malloc(sl - fl + tl + 1);
	cr_assert_not_null(r);
	memcpy(r, s, (size_t)(at - s));
	memcpy(r + (at - s), to, tl);
	memcpy(r + (at - s) + tl, at + fl, sl - (size_t)(at - s) - fl + 1);
	free(s);
	return r;
}

/* Does line @l contain @needle? A leading '^' anchors it at the line's start. */
UNUSED static bool line_has(const char *l, const char *needle)
{
	if (needle[0] == '^')
		return strncmp(l, needle + 1, strlen(needle + 1)) == 0;
	return strstr(l, needle) != NULL;
}

/* Remove every line that contains all of the given substrings (NULL-terminated list; see
 * line_has). Returns the number of lines removed. */
UNUSED static size_t drop_lines(char *s, ...)
{
	const char *need[8];
	size_t nn = 0, dropped = 0;
	va_list ap;
	va_start(ap, s);
	for (const char *p; nn < 8 && (p = va_arg(ap, const char *)) != NULL;)
		need[nn++] = p;
	va_end(ap);
	char *w = s;
	for (char *l = s; *l;) {
		char *e = strchr(l, '\n');
		size_t len = e ? (size_t)(e - l + 1) : strlen(l);
		char save = l[len];
		l[len] = 0;
		bool all = true;
		for (size_t i = 0; i < nn && all; i++)
			all = line_has(l, need[i]);
		l[len] = save;
		if (all) {
			dropped++;
		} else {
			memmove(w, l, len);
			w += len;
		}
		l += len;
	}
	*w = 0;
	return dropped;
}

/* Find the line containing both substrings (see line_has; @b may be NULL) and return a
 * malloc'd copy (no newline). */
UNUSED static char *find_line(const char *s, const char *a, const char *b)
{
	for (const char *l = s; *l;) {
		const char *e = strchr(l, '\n');
		size_t len = e ? (size_t)(e - l) : strlen(l);
		char *c = strndup(l, len);
		if (line_has(c, a) && (b == NULL || line_has(c, b)))
			return c;
		free(c);
		l += len + (e ? 1 : 0);
	}
	cr_assert_fail("no line with %s %s", a, b ? b : "");
	return NULL;
}

/* Parse @text as a zone and validate it against fixture @name's DS. */
UNUSED static int validate_text(const char *text, const char *name, const struct fe_dnssec_opts *o,
                                struct fe_zone_error *e)
{
	struct ttrust tt;
	const char *p = write_tmp(text);
	struct fe_zone *z = parse_path(p);
	memset(e, 0, sizeof(*e));
	int rc = fe_dnssec_validate(z, trust_of(&tt, name, "ds"), o, NULL, e);
	fe_zone_free(z);
	unlink(p);
	return rc;
}

#endif
