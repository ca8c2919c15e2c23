/* Master file reading (RFC 1035 §5) with ldns, one RR at a time, each converted at once into
 * the compact form of zone_int.h so that a large zone never exists as ldns objects.
 *
 * ldns reads $TTL itself; two directives need help:
 * - $INCLUDE: ldns only reports it (LDNS_STATUS_SYNTAX_INCLUDE). We re-read the directive's
 *   text, resolve the file and accept it only inside the include root (docs/security.md Z8).
 * - $ORIGIN: ldns takes a relative argument as absolute; RFC 1035 §5.1 makes it relative to
 *   the current origin, so we re-read the argument and fix the origin up. */
#include "zone_int.h"

#include <errno.h>
#include <ldns/ldns.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_MAX_RECORDS 50000000ull
#define DEFAULT_MAX_LINE    65535u
#define MAX_INCLUDE_DEPTH   8
#define MAX_FILES           1024u
#define CHUNK_SIZE          (4u << 20)
#define DIRECTIVE_TAIL      4096u /* bytes re-read to find a directive's text */
#define LDNS_DEFAULT_TTL_S  3600u

struct pctx {
	struct fe_zone *z;
	struct fe_zone_error *err;
	uint64_t max_records;
	uint64_t nread; /* RRs read, before dedup */
	size_t max_line;
	char root[PATH_MAX]; /* realpath of the include root */
	int depth;
	int64_t now;
	const struct fe__zowner *last_own;
	const struct fe__zrec *first_soa;
	uint8_t key[FE_WIRE_KEY_MAX];
	uint8_t rdata[65536];
};

static void error_vset(struct fe_zone_error *err, const char *file, unsigned long line,
                       const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
static void error_vset(struct fe_zone_error *err, const char *file, unsigned long line,
                       const char *fmt, va_list ap)
{
	if (err == NULL)
		return;
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	err->line = line;
	vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
}

void fe__zone_err(struct fe_zone_error *err, const char *file, unsigned long line, const char *fmt,
                  ...)
{
	va_list ap;
	va_start(ap, fmt);
	error_vset(err, file, line, fmt, ap);
	va_end(ap);
}

void fe_zone_error_set(struct fe_zone_error *err, const char *file, unsigned long line,
                       const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	error_vset(err, file, line, fmt, ap);
	va_end(ap);
}

void *fe__zone_alloc(struct fe_zone *z, size_t n)
{
	struct fe__chunk *c = z->chunks;
	n = (n + 7u) & ~(size_t)7u;
	if (c == NULL || c->cap - c->used < n) {
		size_t cap = FE_MAX((size_t)CHUNK_SIZE, n);
		c = malloc(sizeof(*c) + cap);
		if (c == NULL)
			return NULL;
		c->cap = cap;
		c->used = 0;
		c->next = z->chunks;
		z->chunks = c;
	}
	void *p = c->data + c->used;
	c->used += n;
	return p;
}

static const char *cur_file(struct pctx *c, uint16_t idx)
{
	return idx < c->z->nfiles ? c->z->files[idx] : "";
}

/* ---- directive re-reading ------------------------------------------------------------ */

/* Copy the last line of [from, to) that starts with @dir into @out (NUL-terminated, without
 * the newline). The file position is restored to @to. */
static bool reread_directive(FILE *fp, off_t from, off_t to, const char *dir, char *out, size_t cap)
{
	char buf[DIRECTIVE_TAIL + 1];
	off_t start = to - from > (off_t)DIRECTIVE_TAIL ? to - (off_t)DIRECTIVE_TAIL : from;
	size_t n = (size_t)(to - start);
	bool found = false;

	if (fseeko(fp, start, SEEK_SET) != 0)
		return false;
	n = fread(buf, 1, n, fp);
	buf[n] = 0;
	fseeko(fp, to, SEEK_SET);
	size_t dl = strlen(dir);
	for (size_t i = 0; i < n; i++) {
		if ((i == 0 || buf[i - 1] == '\n') && strncmp(buf + i, dir, dl) == 0) {
			size_t e = i;
			while (e < n && buf[e] != '\n' && buf[e] != '\r')
				e++;
			size_t len = FE_MIN(e - i, cap - 1);
			memcpy(out, buf + i, len);
			out[len] = 0;
			found = true;
		}
	}
	return found;
}

/* Next token of a directive line (quoted or bare); NULL at end of line or a comment. */
static char *next_token(char **p)
{
	char *s = *p;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == 0 || *s == ';')
		return NULL;
	char *tok = s;
	if (*s == '"') {
		tok = ++s;
		while (*s && *s != '"')
			s++;
	} else {
		while (*s && *s != ' ' && *s != '\t' && *s != ';')
			s++;
	}
	if (*s == '"' || *s == ' ' || *s == '\t')
		*s++ = 0;
	else if (*s == ';')
		*s = 0; /* comment follows right after the token */
	*p = s;
	return tok;
}

/* The longest physical line in [from, to), for the max_line_bytes limit. */
static size_t longest_line(FILE *fp, off_t from, off_t to)
{
	size_t best = 0, cur = 0;
	if (fseeko(fp, from, SEEK_SET) != 0)
		return 0;
	for (off_t i = from; i < to; i++) {
		int ch = getc(fp);
		if (ch == EOF)
			break;
		if (ch == '\n') {
			best = FE_MAX(best, cur);
			cur = 0;
		} else {
			cur++;
		}
	}
	fseeko(fp, to, SEEK_SET);
	return FE_MAX(best, cur);
}

/* ---- conversion ------------------------------------------------------------------------ */

int fe__recs_push(struct fe__zrec ***arr, size_t *len, size_t *cap, size_t first,
                  struct fe__zrec *r)
{
	if (*len == *cap) {
		size_t ncap = *cap ? *cap * 2 : first;
		struct fe__zrec **n = realloc(*arr, ncap * sizeof(*n));
		if (n == NULL)
			return FE_ENOMEM;
		*arr = n;
		*cap = ncap;
	}
	(*arr)[(*len)++] = r;
	return FE_OK;
}

static bool is_meta_type(uint16_t t)
{
	/* RFC 6895 §3.1: 128–255 are QTYPEs/meta-TYPEs; OPT (41) is a meta-RR (RFC 6891). */
	return t == 0 || t == FE_T_OPT || (t >= 128 && t <= 255);
}

/* RFC 4034 §3.1.5: RRSIG times are serial numbers (RFC 1982) around now. */
static int64_t rrsig_time(uint32_t v, int64_t now)
{
	return now + (int32_t)(v - (uint32_t)now);
}

/* Check and add one RR (owner @oname, uncompressed wire; RDATA in c->rdata, @rdlen octets)
 * to the zone: the form every record takes, from a file or from a list. */
static int add_rr(struct pctx *c, const uint8_t *oname, size_t olen, uint16_t type, uint32_t ttl,
                  size_t rdlen, uint16_t file, unsigned long line)
{
	struct fe_zone *z = c->z;
	const char *fname = cur_file(c, file);
	if (is_meta_type(type)) {
		fe__zone_err(c->err, fname, line, "type %u cannot appear in a zone", type);
		return FE_EFORMAT;
	}
	if (++c->nread > c->max_records) {
		fe__zone_err(c->err, fname, line, "more than %llu records",
		             (unsigned long long)c->max_records);
		return FE_ERANGE;
	}

	int klen = fe_wire_name_key(oname, olen, c->key, sizeof(c->key));
	if (klen < 0) {
		fe__zone_err(c->err, fname, line, "malformed owner name");
		return FE_EFORMAT;
	}
	if ((size_t)klen < z->apex_key_len || memcmp(c->key, z->apex_key, z->apex_key_len) != 0) {
		char buf[1100];
		fe_wire_name_to_str(oname, buf, sizeof(buf));
		fe__zone_err(c->err, fname, line, "%s is outside the zone %s", buf, z->apex_str);
		return FE_EFORMAT;
	}

	uint16_t covered = type;
	if (type == FE_T_RRSIG) {
		/* RFC 4034 §3.1: type covered(2) alg(1) labels(1) ttl(4) expiration(4) ... */
		if (rdlen < 18u + 1u) {
			fe__zone_err(c->err, fname, line, "RRSIG RDATA too short");
			return FE_EFORMAT;
		}
		covered = fe_get_be16(c->rdata);
		int64_t exp = rrsig_time(fe_get_be32(c->rdata + 8), c->now);
		if (!z->has_rrsig || exp < z->sig_expire_s)
			z->sig_expire_s = exp;
		z->has_rrsig = true;
	} else if (type == FE_T_SOA) {
		if ((size_t)klen != z->apex_key_len) {
			fe__zone_err(c->err, fname, line, "SOA not at the zone apex %s",
			             z->apex_str);
			return FE_EFORMAT;
		}
	} else if (type == FE_T_NSEC3) {
		z->nsec3_read++;
	}

	/* Owners repeat in runs (RRSIGs follow their RRset): intern against the last one. */
	const struct fe__zowner *own = c->last_own;
	if (own == NULL || own->key_len != (size_t)klen ||
	    memcmp(fe__own_key(own), c->key, (size_t)klen) != 0) {
		struct fe__zowner *o = fe__zone_alloc(z, sizeof(*o) + (size_t)klen + olen);
		if (o == NULL)
			return FE_ENOMEM;
		o->key_len = (uint16_t)klen;
		o->name_len = (uint8_t)olen;
		o->labels = (uint8_t)fe_wire_name_labels(oname);
		memcpy(o->data, c->key, (size_t)klen);
		memcpy(o->data + klen, oname, olen);
		own = o;
		c->last_own = o;
	}

	struct fe__zrec *r = fe__zone_alloc(z, sizeof(*r) + rdlen);
	if (r == NULL)
		return FE_ENOMEM;
	r->own = own;
	r->ttl = ttl;
	r->line = (uint32_t)FE_MIN(line, (unsigned long)UINT32_MAX);
	r->type = type;
	r->covered = covered;
	r->rdlen = (uint16_t)rdlen;
	r->file = file;
	memcpy(r->rdata, c->rdata, rdlen);

	if (type == FE_T_SOA) {
		if (c->first_soa == NULL) {
			c->first_soa = r;
			z->soa_ttl = r->ttl;
			/* MNAME, RNAME, then serial refresh retry expire minimum (RFC 1035
			 * §3.3.13). */
			int m = fe_wire_name_len(r->rdata, rdlen);
			int n = m < 0 ? -1 : fe_wire_name_len(r->rdata + m, rdlen - (size_t)m);
			if (m < 0 || n < 0 || rdlen - (size_t)m - (size_t)n != 20u) {
				fe__zone_err(c->err, fname, line, "malformed SOA RDATA");
				return FE_EFORMAT;
			}
			z->serial = fe_get_be32(r->rdata + m + n);
			z->soa_minimum = fe_get_be32(r->rdata + m + n + 16);
			memcpy(z->apex, fe__own_name(own), own->name_len);
			z->apex_len = own->name_len;
		} else if (c->first_soa->rdlen != rdlen ||
		           memcmp(c->first_soa->rdata, r->rdata, rdlen) != 0) {
			/* RFC 1035 §5.2: exactly one SOA, at the top of the zone. */
			fe__zone_err(c->err, fname, line, "second SOA record (first at %s:%u)",
			             cur_file(c, c->first_soa->file), c->first_soa->line);
			return FE_EFORMAT;
		}
		z->soa_count++;
	}
	return fe__recs_push(&z->recs, &z->nrecs, &z->recs_cap, 1024, r);
}

static int convert_rr(struct pctx *c, ldns_rr *rr, uint16_t file, unsigned long line)
{
	const char *fname = cur_file(c, file);
	if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) {
		fe__zone_err(c->err, fname, line, "class %u: only IN zones are served",
		             (unsigned)ldns_rr_get_class(rr));
		return FE_EFORMAT;
	}
	size_t rdlen = 0;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *f = ldns_rr_rdf(rr, i);
		size_t n = ldns_rdf_size(f);
		if (n > 65535u - rdlen) {
			fe__zone_err(c->err, fname, line, "RDATA longer than 65535 octets");
			return FE_EFORMAT;
		}
		/* ldns keeps every field in wire form with names uncompressed (RFC 3597 §4). */
		memcpy(c->rdata + rdlen, ldns_rdf_data(f), n);
		rdlen += n;
	}

	const ldns_rdf *owner = ldns_rr_owner(rr);
	return add_rr(c, ldns_rdf_data(owner), ldns_rdf_size(owner), (uint16_t)ldns_rr_get_type(rr),
	              ldns_rr_ttl(rr), rdlen, file, line);
}

/* ---- files ----------------------------------------------------------------------------- */

static int add_file(struct pctx *c, const char *path, uint16_t *idx)
{
	struct fe_zone *z = c->z;
	if (z->nfiles >= MAX_FILES) {
		fe__zone_err(c->err, path, 0, "more than %u included files", MAX_FILES);
		return FE_ERANGE;
	}
	char **n = realloc(z->files, (z->nfiles + 1) * sizeof(*n));
	if (n == NULL)
		return FE_ENOMEM;
	z->files = n;
	z->files[z->nfiles] = strdup(path);
	if (z->files[z->nfiles] == NULL)
		return FE_ENOMEM;
	*idx = (uint16_t)z->nfiles++;
	return FE_OK;
}

static int parse_file(struct pctx *c, const char *path, const ldns_rdf *origin_in, uint32_t ttl_in);

/* Make "$ORIGIN name" relative names relative to the previous origin (RFC 1035 §5.1). */
static int fix_origin(struct pctx *c, FILE *fp, off_t from, off_t to, ldns_rdf *old,
                      ldns_rdf **origin, const char *fname, unsigned long line)
{
	char text[DIRECTIVE_TAIL + 1];
	if (!reread_directive(fp, from, to, "$ORIGIN", text, sizeof(text)))
		return FE_OK; /* keep what ldns made of it */
	char *p = text + 7;
	char *arg = next_token(&p);
	if (arg == NULL) {
		fe__zone_err(c->err, fname, line, "$ORIGIN without a name");
		return FE_ESYNTAX;
	}
	size_t al = strlen(arg);
	bool absolute = al > 0 && arg[al - 1] == '.' && (al < 2 || arg[al - 2] != '\\');
	if (absolute || old == NULL)
		return FE_OK;
	char *olds = ldns_rdf2str(old);
	if (olds == NULL)
		return FE_ENOMEM;
	char joined[2048];
	int n = snprintf(joined, sizeof(joined), "%s.%s", arg, strcmp(olds, ".") ? olds : "");
	free(olds);
	ldns_rdf *nr = n > 0 && (size_t)n < sizeof(joined) ? ldns_dname_new_frm_str(joined) : NULL;
	if (nr == NULL) {
		fe__zone_err(c->err, fname, line, "bad $ORIGIN %s", arg);
		return FE_ESYNTAX;
	}
	ldns_rdf_deep_free(*origin);
	*origin = nr;
	return FE_OK;
}

static int do_include(struct pctx *c, FILE *fp, off_t from, off_t to, const char *fname,
                      unsigned long line, const ldns_rdf *origin, uint32_t ttl)
{
	char text[DIRECTIVE_TAIL + 1];
	char dirbuf[PATH_MAX], target[PATH_MAX * 2], real[PATH_MAX];
	int err;

	if (!reread_directive(fp, from, to, "$INCLUDE", text, sizeof(text))) {
		fe__zone_err(c->err, fname, line, "cannot read the $INCLUDE line");
		return FE_ESYNTAX;
	}
	char *p = text + 8;
	char *file = next_token(&p);
	char *org = file ? next_token(&p) : NULL;
	if (file == NULL || *file == 0) {
		fe__zone_err(c->err, fname, line, "$INCLUDE without a file name");
		return FE_ESYNTAX;
	}
	if (c->depth >= MAX_INCLUDE_DEPTH) {
		fe__zone_err(c->err, fname, line, "$INCLUDE nested deeper than %d",
		             MAX_INCLUDE_DEPTH);
		return FE_ERANGE;
	}
	/* Relative paths are relative to the including file's folder. */
	if (file[0] == '/') {
		snprintf(target, sizeof(target), "%s", file);
	} else {
		snprintf(dirbuf, sizeof(dirbuf), "%s", fname);
		snprintf(target, sizeof(target), "%s/%s", dirname(dirbuf), file);
	}
	if (realpath(target, real) == NULL) {
		fe__zone_err(c->err, fname, line, "$INCLUDE %s: %s", file, strerror(errno));
		return errno == ENOENT ? FE_ENOENT : FE_EIO;
	}
	size_t rl = strlen(c->root);
	bool inside = strncmp(real, c->root, rl) == 0 &&
	              (real[rl] == '/' || (rl == 1 && c->root[0] == '/'));
	if (!inside) {
		fe__zone_err(c->err, fname, line, "$INCLUDE %s is outside the include root %s",
		             file, c->root);
		return FE_EPERM;
	}

	ldns_rdf *inc_origin = NULL;
	if (org != NULL) {
		size_t ol = strlen(org);
		char abs[2048];
		if (ol == 0 || org[ol - 1] != '.') {
			char *os = ldns_rdf2str(origin);
			snprintf(abs, sizeof(abs), "%s.%s", org, os ? os : ".");
			free(os);
		} else {
			snprintf(abs, sizeof(abs), "%s", org);
		}
		inc_origin = ldns_dname_new_frm_str(abs);
		if (inc_origin == NULL) {
			fe__zone_err(c->err, fname, line, "$INCLUDE: bad origin %s", org);
			return FE_ESYNTAX;
		}
	}
	c->depth++;
	/* RFC 1035 §5.1: the include's origin does not leak back into this file. */
	err = parse_file(c, target, inc_origin ? inc_origin : origin, ttl);
	c->depth--;
	ldns_rdf_deep_free(inc_origin);
	return err;
}

static bool ldns_is_syntax(ldns_status s)
{
	return s != LDNS_STATUS_MEM_ERR && s != LDNS_STATUS_FILE_ERR;
}

static int parse_file(struct pctx *c, const char *path, const ldns_rdf *origin_in, uint32_t ttl_in)
{
	FILE *fp;
	uint16_t fidx;
	int err = FE_OK;
	ldns_rdf *origin = NULL, *prev = NULL;
	uint32_t default_ttl = ttl_in;
	bool have_ttl_directive = false;
	int line = 0;

	fp = fopen(path, "r");
	if (fp == NULL) {
		fe__zone_err(c->err, path, 0, "%s", strerror(errno));
		return errno == ENOENT ? FE_ENOENT : FE_EIO;
	}
	/* A seek makes glibc cache the stream offset: ftello() below then costs no lseek(2)
	 * per record (it otherwise asks the kernel every time). */
	if (fseeko(fp, 0, SEEK_SET) != 0) {
		fe__zone_err(c->err, path, 0, "%s", strerror(errno));
		err = FE_EIO;
		goto out_close;
	}
	if ((err = add_file(c, path, &fidx)) != FE_OK)
		goto out_close;
	const char *fname = c->z->files[fidx];
	origin = ldns_rdf_clone(origin_in);
	if (origin == NULL) {
		err = FE_ENOMEM;
		goto out_close;
	}

	/* The origin before each call, for fix_origin (ldns changes it only on $ORIGIN). */
	ldns_rdf *known = ldns_rdf_clone(origin);
	if (known == NULL) {
		err = FE_ENOMEM;
		goto out_close;
	}
	for (;;) {
		ldns_rr *rr = NULL;
		off_t from = ftello(fp);
		ldns_status s = ldns_rr_new_frm_fp_l(&rr, fp, &default_ttl, &origin, &prev, &line);
		off_t to = ftello(fp);
		unsigned long ln = (unsigned long)(line > 0 ? line : 0);

		if (to - from > (off_t)c->max_line && longest_line(fp, from, to) > c->max_line) {
			fe__zone_err(c->err, fname, ln, "line longer than %zu bytes", c->max_line);
			err = FE_ERANGE;
		} else if (s == LDNS_STATUS_OK) {
			err = convert_rr(c, rr, fidx, ln);
			/* RFC 1035 §5.1: without $TTL an omitted TTL is the last one stated. */
			if (!have_ttl_directive)
				default_ttl = ldns_rr_ttl(rr);
		} else if (s == LDNS_STATUS_SYNTAX_TTL) {
			have_ttl_directive = true;
			err = FE_OK;
		} else if (s == LDNS_STATUS_SYNTAX_EMPTY) {
			err = FE_OK;
		} else if (s == LDNS_STATUS_SYNTAX_ORIGIN) {
			err = fix_origin(c, fp, from, to, known, &origin, fname, ln);
			ldns_rdf_deep_free(known);
			known = ldns_rdf_clone(origin);
			if (err == FE_OK && known == NULL)
				err = FE_ENOMEM;
		} else if (s == LDNS_STATUS_SYNTAX_INCLUDE) {
			err = do_include(c, fp, from, to, fname, ln, origin, default_ttl);
		} else if (to - from > (off_t)LDNS_MAX_LINELEN) {
			fe__zone_err(c->err, fname, ln, "record longer than the parser's %d bytes",
			             LDNS_MAX_LINELEN);
			err = FE_ERANGE;
		} else {
			fe__zone_err(c->err, fname, ln, "%s", ldns_get_errorstr_by_id(s));
			err = ldns_is_syntax(s) ? FE_ESYNTAX
			                        : (s == LDNS_STATUS_MEM_ERR ? FE_ENOMEM : FE_EIO);
		}
		ldns_rr_free(rr);
		if (err != FE_OK)
			break;
		if (s == LDNS_STATUS_SYNTAX_EMPTY && feof(fp))
			break;
		if (ferror(fp)) {
			fe__zone_err(c->err, fname, ln, "read error");
			err = FE_EIO;
			break;
		}
	}
	ldns_rdf_deep_free(known);

out_close:
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	fclose(fp);
	return err;
}

/* ---- entry points ---------------------------------------------------------------------- */

int fe_zone_peek_apex(const char *path, char *apex, size_t cap, struct fe_zone_error *err)
{
	uint32_t serial;
	return fe_zone_peek_soa(path, apex, cap, &serial, err);
}

int fe_zone_peek_soa(const char *path, char *apex, size_t cap, uint32_t *serial,
                     struct fe_zone_error *err)
{
	FILE *fp = fopen(path, "r");
	ldns_rdf *origin = NULL, *prev = NULL;
	uint32_t ttl = LDNS_DEFAULT_TTL_S;
	int line = 0, rc = FE_EFORMAT;

	if (fp == NULL) {
		fe__zone_err(err, path, 0, "%s", strerror(errno));
		return errno == ENOENT ? FE_ENOENT : FE_EIO;
	}
	for (;;) {
		ldns_rr *rr = NULL;
		ldns_status s = ldns_rr_new_frm_fp_l(&rr, fp, &ttl, &origin, &prev, &line);
		if (s == LDNS_STATUS_OK && ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA) {
			char *str = ldns_rdf2str(ldns_rr_owner(rr));
			/* A relative owner without $ORIGIN comes out as the root: ambiguous. */
			if (str == NULL || strcmp(str, ".") == 0) {
				fe__zone_err(err, path, (unsigned long)line,
				             "cannot tell the zone apex: SOA owner is relative and "
				             "there is no $ORIGIN");
				rc = FE_EFORMAT;
			} else if (strlen(str) >= cap) {
				rc = FE_ENOSPC;
			} else if (ldns_rr_rd_count(rr) != 7 ||
			           ldns_rdf_get_type(ldns_rr_rdf(rr, 2)) != LDNS_RDF_TYPE_INT32) {
				fe__zone_err(err, path, (unsigned long)line, "malformed SOA");
				rc = FE_EFORMAT;
			} else {
				snprintf(apex, cap, "%s", str);
				*serial = ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
				rc = FE_OK;
			}
			free(str);
			ldns_rr_free(rr);
			break;
		}
		ldns_rr_free(rr);
		if (s == LDNS_STATUS_OK || s == LDNS_STATUS_SYNTAX_TTL ||
		    s == LDNS_STATUS_SYNTAX_ORIGIN || s == LDNS_STATUS_SYNTAX_INCLUDE ||
		    s == LDNS_STATUS_SYNTAX_EMPTY) {
			if (feof(fp)) {
				fe__zone_err(err, path, (unsigned long)line, "no SOA record");
				rc = FE_EFORMAT;
				break;
			}
			continue;
		}
		fe__zone_err(err, path, (unsigned long)line, "%s", ldns_get_errorstr_by_id(s));
		rc = FE_ESYNTAX;
		break;
	}
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	fclose(fp);
	return rc;
}

void fe_zone_free(struct fe_zone *z)
{
	if (z == NULL)
		return;
	struct fe__chunk *c = z->chunks;
	while (c) {
		struct fe__chunk *n = c->next;
		free(c);
		c = n;
	}
	for (size_t i = 0; i < z->nfiles; i++)
		free(z->files[i]);
	free(z->files);
	free(z->recs);
	free(z->n3recs);
	free(z->nodes);
	free(z->hashes);
	free(z->n3);
	free(z);
}

/* A new zone @apex (wire) and its reading context, for @where (messages). */
static int zone_begin(const struct fe_zone_opts *opts, const uint8_t *apex, size_t apex_len,
                      const char *where, struct fe_zone_error *err, struct fe_zone **zp,
                      struct pctx **cp)
{
	struct fe_zone *z = calloc(1, sizeof(*z));
	struct pctx *c = calloc(1, sizeof(*c));
	*zp = z;
	*cp = c;
	if (z == NULL || c == NULL)
		return FE_ENOMEM;
	c->z = z;
	z->force = opts->force;
	c->err = err;
	c->max_records = opts->max_records ? opts->max_records : DEFAULT_MAX_RECORDS;
	c->max_line = opts->max_line_bytes ? opts->max_line_bytes : DEFAULT_MAX_LINE;
	c->now = fe_time_wall_s();
	fe_wire_name_to_str(apex, z->apex_str, sizeof(z->apex_str));
	z->apex_len = apex_len;
	memcpy(z->apex, apex, apex_len);
	int kl = fe_wire_name_key(z->apex, z->apex_len, z->apex_key, sizeof(z->apex_key));
	if (kl <= 0) {
		fe__zone_err(err, where, 0, "%s: the root zone is not supported", z->apex_str);
		return FE_ENOTSUP;
	}
	z->apex_key_len = (size_t)kl;
	z->apex_labels = (uint8_t)fe_wire_name_labels(z->apex);
	return FE_OK;
}

int fe_zone_parse_file(const char *path, const struct fe_zone_opts *opts, struct fe_zone **out,
                       struct fe_zone_error *err)
{
	struct fe_zone_opts defaults = {0};
	struct fe_zone_error dummy;
	struct pctx *c = NULL;
	struct fe_zone *z = NULL;
	ldns_rdf *origin = NULL;
	char origin_str[1100];
	int rc;
	uint64_t t0 = fe_time_mono_us();

	*out = NULL;
	if (err == NULL)
		err = &dummy;
	memset(err, 0, sizeof(*err));
	if (opts == NULL)
		opts = &defaults;

	if (opts->origin != NULL) {
		size_t ol = strlen(opts->origin);
		snprintf(origin_str, sizeof(origin_str), "%s%s", opts->origin,
		         ol && opts->origin[ol - 1] == '.' ? "" : ".");
	} else if ((rc = fe_zone_peek_apex(path, origin_str, sizeof(origin_str), err)) != FE_OK) {
		return rc;
	}
	origin = ldns_dname_new_frm_str(origin_str);
	if (origin == NULL) {
		fe__zone_err(err, path, 0, "bad origin %s", origin_str);
		return FE_ESYNTAX;
	}

	if ((rc = zone_begin(opts, ldns_rdf_data(origin), ldns_rdf_size(origin), path, err, &z,
	                     &c)) != FE_OK)
		goto out;
	{
		/* Before reading: a file changed while being read looks changed next time. */
		struct stat sb;
		if (stat(path, &sb) == 0) {
			z->src_size = (uint64_t)sb.st_size;
			z->src_mtime_ns =
			        (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
		}
	}

	/* $INCLUDE root: the option, or the zone file's folder. */
	char rootbuf[PATH_MAX];
	const char *root = opts->include_root;
	if (root == NULL) {
		snprintf(rootbuf, sizeof(rootbuf), "%s", path);
		root = dirname(rootbuf);
	}
	if (realpath(root, c->root) == NULL) {
		fe__zone_err(err, root, 0, "include root: %s", strerror(errno));
		rc = errno == ENOENT ? FE_ENOENT : FE_EIO;
		goto out;
	}

	if ((rc = parse_file(c, path, origin, LDNS_DEFAULT_TTL_S)) != FE_OK)
		goto out;
	if (z->soa_count == 0) {
		fe__zone_err(err, path, 0, "no SOA record at the apex %s", z->apex_str);
		rc = FE_EFORMAT;
		goto out;
	}
	if ((rc = fe__zone_build(z, opts, err)) != FE_OK)
		goto out;
	z->parse_us = fe_time_mono_us() - t0;
	*out = z;
	z = NULL;
out:
	ldns_rdf_deep_free(origin);
	free(c);
	fe_zone_free(z);
	return rc;
}

int fe_zone_from_rrs(const uint8_t *apex, size_t apex_len, const struct fe_zone_rr *rrs, size_t n,
                     const char *what, const struct fe_zone_opts *opts, struct fe_zone **out,
                     struct fe_zone_error *err)
{
	struct fe_zone_opts defaults = {0};
	struct fe_zone_error dummy;
	struct pctx *c = NULL;
	struct fe_zone *z = NULL;
	uint64_t t0 = fe_time_mono_us();
	uint16_t idx;
	*out = NULL;
	if (err == NULL)
		err = &dummy;
	memset(err, 0, sizeof(*err));
	if (opts == NULL)
		opts = &defaults;
	int al = fe_wire_name_len(apex, apex_len);
	int rc = al < 0 || (size_t)al != apex_len ? FE_EFORMAT : FE_OK;
	if (rc == FE_OK)
		rc = zone_begin(opts, apex, apex_len, what, err, &z, &c);
	if (rc == FE_OK)
		rc = add_file(c, what, &idx);
	for (size_t i = 0; rc == FE_OK && i < n; i++) {
		const struct fe_zone_rr *r = &rrs[i];
		int ol = fe_wire_name_len(r->owner, r->owner_len);
		if (ol < 0 || (size_t)ol != r->owner_len) {
			fe__zone_err(err, what, i + 1, "malformed owner name");
			rc = FE_EFORMAT;
			break;
		}
		memcpy(c->rdata, r->rdata, r->rdlen);
		rc = add_rr(c, r->owner, r->owner_len, r->type, r->ttl, r->rdlen, idx, i + 1);
	}
	if (rc == FE_OK && z->soa_count == 0) {
		fe__zone_err(err, what, 0, "no SOA record at the apex %s", z->apex_str);
		rc = FE_EFORMAT;
	}
	if (rc == FE_OK)
		rc = fe__zone_build(z, opts, err);
	if (rc == FE_OK) {
		z->parse_us = fe_time_mono_us() - t0;
		*out = z;
		z = NULL;
	}
	free(c);
	fe_zone_free(z);
	return rc;
}

const uint8_t *fe_zone_apex(const struct fe_zone *z, size_t *len)
{
	*len = z->apex_len;
	return z->apex;
}

uint32_t fe_zone_serial(const struct fe_zone *z)
{
	return z->serial;
}

uint64_t fe_zone_naptr_lint(const struct fe_zone *z, const char **report)
{
	if (report)
		*report = z->naptr_report;
	return z->naptr_lint;
}

uint64_t fe_zone_rr_count(const struct fe_zone *z)
{
	return z->nrecs + z->n3recs_len;
}

bool fe_zone_is_signed(const struct fe_zone *z)
{
	return (z->flags & FE_ZONE_SIGNED) != 0;
}

const uint8_t *fe_zone_apex_key(const struct fe_zone *z, size_t *len)
{
	*len = z->apex_key_len;
	return z->apex_key;
}

const char *fe_zone_apex_str(const struct fe_zone *z)
{
	return z->apex_str;
}

int64_t fe_zone_sig_expire_s(const struct fe_zone *z)
{
	return z->sig_expire_s;
}

void fe_zone_source(const struct fe_zone *z, uint64_t *size, int64_t *mtime_ns)
{
	*size = z->src_size;
	*mtime_ns = z->src_mtime_ns;
}

void fe_zone_set_validated(struct fe_zone *z, int64_t chain_expire_s)
{
	z->flags = (z->flags | FE_ZONE_VALIDATED) & ~(uint32_t)FE_ZONE_BOGUS;
	z->sig_expire_s = chain_expire_s;
}

int fe_zone_replace_check(struct fe_zone *z, const struct fe_store_zone_rec *cur, bool as_validated,
                          struct fe_zone_error *err)
{
	uint32_t flags = z->flags;
	if (as_validated)
		z->flags |= FE_ZONE_VALIDATED;
	int rc = fe__zone_replace_policy(z, cur, err);
	z->flags = flags;
	return rc;
}
