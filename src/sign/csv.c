/* The CSV of a member's numbers: rows checked one by one (number, prefix, service, URI lint,
 * duplicates), every error with its line; ENUM owner names and NAPTR RDATA of the rows. */
#include "sign_int.h"

#include "fedenum/util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void row_error(struct fe_sign_csv *csv, unsigned long line, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void row_error(struct fe_sign_csv *csv, unsigned long line, const char *fmt, ...)
{
	csv->error_rows++;
	if (csv->nerrors >= FE_SIGN_CSV_MAX_ERRORS)
		return;
	if (csv->errors == NULL) {
		csv->errors = calloc(FE_SIGN_CSV_MAX_ERRORS, sizeof(char *));
		if (csv->errors == NULL)
			return;
	}
	char msg[700];
	int n = snprintf(msg, sizeof(msg), "line %lu: ", line);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	csv->errors[csv->nerrors] = strdup(msg);
	if (csv->errors[csv->nerrors])
		csv->nerrors++;
}

/* The member's prefix of @apex: its leading one-digit labels, reversed ("+15552"). */
static void apex_prefix(const char *apex, char *out, size_t cap)
{
	char digits[64];
	size_t n = 0;
	const char *p = apex;
	while (isdigit((unsigned char)p[0]) && p[1] == '.' && n + 1 < sizeof(digits)) {
		digits[n++] = p[0];
		p += 2;
	}
	size_t o = 0;
	out[o++] = '+';
	while (n > 0 && o + 1 < cap)
		out[o++] = digits[--n];
	out[o] = '\0';
}

int fe_sign_enum_owner(const char *apex, const char *number, uint8_t *out)
{
	const char *suffix = apex;
	while (isdigit((unsigned char)suffix[0]) && suffix[1] == '.')
		suffix += 2;
	if (number[0] != '+')
		return FE_EFORMAT;
	size_t nd = strlen(number + 1);
	if (nd < 1 || nd > 15)
		return FE_EFORMAT;
	size_t o = 0;
	for (size_t i = nd; i > 0; i--) {
		char c = number[i];
		if (!isdigit((unsigned char)c))
			return FE_EFORMAT;
		out[o++] = 1;
		out[o++] = (uint8_t)c;
	}
	uint8_t sw[256];
	int sl = fe__sign_name_wire(suffix, sw);
	if (sl < 0 || o + (size_t)sl > 255)
		return FE_EFORMAT;
	memcpy(out + o, sw, (size_t)sl);
	return (int)(o + (size_t)sl);
}

int fe_sign_naptr_rdata(const struct fe_sign_number *r, uint8_t *out, size_t cap)
{
	size_t sl = strlen(r->service), ul = strlen(r->uri);
	size_t rl = ul + 7; /* "!^.*$!" URI "!" */
	if (sl > 255 || rl > 255 || 4 + 2 + 1 + sl + 1 + rl + 1 > cap)
		return FE_ERANGE;
	size_t o = 0;
	fe_put_be16(out, r->order);
	fe_put_be16(out + 2, r->preference);
	o = 4;
	out[o++] = 1;
	out[o++] = 'u';
	out[o++] = (uint8_t)sl;
	memcpy(out + o, r->service, sl);
	o += sl;
	out[o++] = (uint8_t)rl;
	memcpy(out + o, "!^.*$!", 6);
	memcpy(out + o + 6, r->uri, ul);
	out[o + 6 + ul] = '!';
	o += rl;
	out[o++] = 0; /* replacement: the root */
	return (int)o;
}

/* RFC 6116 §3.4.3 / RFC 6117: E2U+type[:subtype][+type[:subtype]]..., 1-32 letters,
 * digits or '-' each. */
static bool service_ok(const char *s)
{
	if (strncasecmp(s, "E2U+", 4) != 0)
		return false;
	const char *p = s + 3;
	while (*p == '+') {
		p++;
		size_t n = 0;
		while (isalnum((unsigned char)p[n]) || p[n] == '-')
			n++;
		if (n == 0 || n > 32)
			return false;
		p += n;
		if (*p == ':') {
			p++;
			n = 0;
			while (isalnum((unsigned char)p[n]) || p[n] == '-')
				n++;
			if (n == 0 || n > 32)
				return false;
			p += n;
		}
	}
	return *p == '\0';
}

/* '+' then digits (visual separators '-', '.', '(' and ')' allowed, RFC 3966), 1..15
 * digits, ended by @end. */
static bool global_number(const char *p, const char *end)
{
	if (p >= end || *p != '+')
		return false;
	unsigned d = 0;
	for (p++; p < end; p++) {
		if (isdigit((unsigned char)*p))
			d++;
		else if (!strchr("-.()", *p))
			return false;
	}
	return d >= 1 && d <= 15;
}

/* The NAPTR lint of a URI for @service; NULL when fine, else why not. */
static const char *uri_lint(const char *service, const char *uri)
{
	size_t n = strlen(uri);
	if (n == 0)
		return "empty URI";
	if (n > 248)
		return "URI longer than 248 octets (the NAPTR regexp holds at most 255)";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)uri[i];
		if (c <= 0x20 || c >= 0x7f)
			return "URI with a space, control or non-ASCII character";
		if (c == '!')
			return "URI with '!' (the regexp delimiter)";
	}
	const char *colon = strchr(uri, ':');
	if (colon == NULL || colon == uri || !isalpha((unsigned char)uri[0]))
		return "URI without a scheme";
	size_t sl = (size_t)(colon - uri);
	char scheme[16];
	if (sl >= sizeof(scheme))
		return "unknown URI scheme";
	for (size_t i = 0; i < sl; i++)
		scheme[i] = (char)tolower((unsigned char)uri[i]);
	scheme[sl] = '\0';
	static const char *const known[] = {"sip",   "sips", "tel", "mailto", "http",
	                                    "https", "h323", "im",  "pres",   "xmpp"};
	bool ok = false;
	for (size_t i = 0; i < FE_ARRAY_LEN(known); i++)
		ok |= strcmp(scheme, known[i]) == 0;
	if (!ok)
		return "unknown URI scheme";
	if (colon[1] == '\0')
		return "nothing after the URI scheme";
	/* the service names the scheme: E2U+sip → sip/sips, a subtype (pstn:tel,
	 * email:mailto, web:https) is the scheme itself */
	const char *last = strrchr(service, '+');
	const char *sub = last ? strchr(last, ':') : NULL;
	if (sub) {
		if (strcasecmp(sub + 1, scheme) != 0)
			return "URI scheme does not match the service's subtype";
	} else if (last && strcasecmp(last + 1, "sip") == 0) {
		if (strcmp(scheme, "sip") != 0 && strcmp(scheme, "sips") != 0)
			return "E2U+sip needs a sip: or sips: URI";
	}
	if (strcmp(scheme, "tel") == 0) {
		const char *p = colon + 1;
		const char *semi = strchr(p, ';');
		if (!global_number(p, semi ? semi : p + strlen(p)))
			return "tel: URI without a global number (+ and 1-15 digits)";
		const char *rn = strstr(p, ";rn=");
		if (rn) {
			const char *v = rn + 4;
			const char *e = strchr(v, ';');
			if (!global_number(v, e ? e : v + strlen(v)))
				return "tel: rn= is not a global number (+ and digits)";
		}
	}
	if ((strcmp(scheme, "sip") == 0 || strcmp(scheme, "sips") == 0) &&
	    (colon[1] == '@' || colon[1] == ';'))
		return "sip: URI without a user or host";
	return NULL;
}

/* Split one CSV line (RFC 4180 quoting within the line) into at most @max fields, in
 * place. Returns the field count, or -1 for a bad quote. */
static int split(char *line, char **f, int max)
{
	int n = 0;
	char *p = line;
	for (;;) {
		if (n == max)
			return max + 1;
		if (*p == '"') {
			char *w = p, *r = p + 1;
			f[n++] = w;
			for (;;) {
				if (*r == '\0')
					return -1;
				if (*r == '"') {
					if (r[1] == '"') {
						*w++ = '"';
						r += 2;
						continue;
					}
					r++;
					break;
				}
				*w++ = *r++;
			}
			if (*r != ',' && *r != '\0')
				return -1;
			bool more = *r == ',';
			*w = '\0';
			if (!more)
				return n;
			p = r + 1;
		} else {
			f[n++] = p;
			char *c = strchr(p, ',');
			if (c == NULL)
				return n;
			*c = '\0';
			p = c + 1;
		}
	}
}

static void trim(char **s)
{
	while (**s == ' ' || **s == '\t')
		(*s)++;
	size_t n = strlen(*s);
	while (n > 0 && ((*s)[n - 1] == ' ' || (*s)[n - 1] == '\t'))
		(*s)[--n] = '\0';
}

static bool u16_field(const char *s, uint16_t *out)
{
	char *end;
	if (!isdigit((unsigned char)s[0]))
		return false;
	unsigned long v = strtoul(s, &end, 10);
	if (*end || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

static int push_row(struct fe_sign_csv *csv, const struct fe_sign_number *r)
{
	if (csv->n == csv->cap) {
		size_t nc = csv->cap ? csv->cap * 2 : 4096;
		struct fe_sign_number *n = realloc(csv->rows, nc * sizeof(*n));
		if (n == NULL)
			return FE_ENOMEM;
		csv->rows = n;
		csv->cap = nc;
	}
	csv->rows[csv->n++] = *r;
	return FE_OK;
}

static void check_row(struct fe_sign_csv *csv, char **f, int nf, unsigned long line,
                      const char *prefix, char *const *prefixes, size_t np)
{
	if (nf < 3 || nf > 5) {
		row_error(csv, line, "%s%d columns: expected number,service,uri[,order,preference]",
		          nf > 5 ? "more than " : "", nf > 5 ? 5 : nf);
		return;
	}
	for (int i = 0; i < nf; i++)
		trim(&f[i]);
	struct fe_sign_number r = {.order = 100, .preference = 10, .line = line};
	const char *num = f[0];
	size_t nl = strlen(num), d = 0;
	for (size_t i = 1; i < nl; i++)
		d += isdigit((unsigned char)num[i]) != 0;
	if (num[0] != '+' || d != nl - 1 || d < 2 || d > 15) {
		row_error(csv, line, "bad number '%.40s' (+ and 2-15 digits, E.164)", num);
		return;
	}
	if (strncmp(num, prefix, strlen(prefix)) != 0) {
		row_error(csv, line, "number %s outside the zone's prefix %s", num, prefix);
		return;
	}
	bool in = np == 0;
	for (size_t i = 0; i < np && !in; i++)
		in = strncmp(num, prefixes[i], strlen(prefixes[i])) == 0;
	if (!in) {
		row_error(csv, line, "number %s outside the member's prefixes", num);
		return;
	}
	memcpy(r.number, num, nl + 1);
	if (strlen(f[1]) >= sizeof(r.service) || !service_ok(f[1])) {
		row_error(csv, line, "bad service '%.70s' (E2U+type[:subtype], RFC 6117)", f[1]);
		return;
	}
	strcpy(r.service, f[1]);
	const char *why = uri_lint(r.service, f[2]);
	if (why) {
		row_error(csv, line, "URI fails the NAPTR lint: %s: '%.80s'", why, f[2]);
		return;
	}
	strcpy(r.uri, f[2]);
	if (nf >= 4 && !u16_field(f[3], &r.order)) {
		row_error(csv, line, "order '%.20s' is not 0..65535", f[3]);
		return;
	}
	if (nf == 5 && !u16_field(f[4], &r.preference)) {
		row_error(csv, line, "preference '%.20s' is not 0..65535", f[4]);
		return;
	}
	if (push_row(csv, &r) != FE_OK)
		row_error(csv, line, "out of memory");
}

static int row_cmp(const void *a, const void *b)
{
	const struct fe_sign_number *x = a, *y = b;
	int c = strcmp(x->number, y->number);
	if (c == 0)
		c = strcasecmp(x->service, y->service);
	if (c == 0)
		c = x->line < y->line ? -1 : x->line > y->line;
	return c;
}

int fe_sign_csv_parse(const char *data, size_t len, const char *apex, char *const *prefixes,
                      size_t nprefixes, struct fe_sign_csv *csv,
                      void (*progress)(void *arg, uint64_t done, uint64_t total), void *arg)
{
	memset(csv, 0, sizeof(*csv));
	char norm[260], prefix[64];
	if (fe__sign_apex_norm(apex, norm, sizeof(norm)) != FE_OK)
		return FE_EINVAL;
	apex_prefix(norm, prefix, sizeof(prefix));
	char line[2048];
	size_t pos = 0;
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		pos = 3; /* a UTF-8 byte order mark (spreadsheet exports) */
	unsigned long lineno = 0;
	bool first = true;
	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - (data + pos)) : len - pos;
		lineno++;
		if (ll > 0 && data[pos + ll - 1] == '\r')
			ll--;
		bool too_long = ll >= sizeof(line);
		if (!too_long) {
			memcpy(line, data + pos, ll);
			line[ll] = '\0';
		}
		pos += (nl ? (size_t)(nl - (data + pos)) + 1 : len - pos);
		if (progress && (lineno & 0xffff) == 0)
			progress(arg, pos, len);
		if (too_long) {
			row_error(csv, lineno, "line longer than %zu octets", sizeof(line) - 1);
			first = false;
			continue;
		}
		if (memchr(line, '\0', ll)) {
			row_error(csv, lineno, "NUL octet in the line");
			continue;
		}
		char *s = line;
		trim(&s);
		if (*s == '\0' || *s == '#')
			continue;
		if (first && strncasecmp(s, "number,", 7) == 0) {
			first = false;
			continue;
		}
		first = false;
		if (csv->n + csv->error_rows >= FE_SIGN_CSV_MAX_ROWS) {
			fe_sign_csv_free(csv);
			return FE_ERANGE;
		}
		char *f[6];
		int nf = split(s, f, 5);
		if (nf < 0)
			row_error(csv, lineno, "unbalanced double quote");
		else
			check_row(csv, f, nf > 5 ? 6 : nf, lineno, prefix, prefixes, nprefixes);
	}
	if (progress)
		progress(arg, len, len);
	if (csv->n > 1) {
		qsort(csv->rows, csv->n, sizeof(*csv->rows), row_cmp);
		for (size_t i = 1; i < csv->n; i++)
			if (strcmp(csv->rows[i].number, csv->rows[i - 1].number) == 0 &&
			    strcasecmp(csv->rows[i].service, csv->rows[i - 1].service) == 0)
				row_error(csv, csv->rows[i].line,
				          "duplicate: %s %s already on line %lu",
				          csv->rows[i].number, csv->rows[i].service,
				          csv->rows[i - 1].line);
	}
	return csv->error_rows ? FE_EFORMAT : FE_OK;
}

void fe_sign_csv_free(struct fe_sign_csv *csv)
{
	for (size_t i = 0; i < csv->nerrors; i++)
		free(csv->errors[i]);
	free(csv->errors);
	free(csv->rows);
	memset(csv, 0, sizeof(*csv));
}

void fe_sign_rrlist_free(struct fe_sign_rrlist *l)
{
	free(l->rrs);
	free(l->mem);
	memset(l, 0, sizeof(*l));
}

int fe_sign_enum_rrs(const char *apex, const struct fe_sign_zone_defaults *d,
                     const struct fe_sign_number *rows, size_t n, struct fe_sign_rrlist *out)
{
	memset(out, 0, sizeof(*out));
	if (d->nns == 0 || d->rname == NULL)
		return FE_EFORMAT;
	size_t count = 1 + d->nns + n;
	/* per RR at most an owner (256) and an RDATA (NAPTR: 4 + 2 + 64 + 256 + 1; SOA: 2 ×
	 * 256 + 20) */
	size_t per = 256 + 600;
	out->rrs = calloc(count, sizeof(*out->rrs));
	out->mem = malloc(256 + (1 + d->nns) * per + n * (size_t)(256 + 340));
	if (out->rrs == NULL || out->mem == NULL) {
		fe_sign_rrlist_free(out);
		return FE_ENOMEM;
	}
	uint8_t *m = out->mem;
	size_t o = 0;
	int al = fe__sign_name_wire(apex, m);
	if (al < 0) {
		fe_sign_rrlist_free(out);
		return FE_EFORMAT;
	}
	const uint8_t *ap = m;
	o += (size_t)al;
	/* SOA */
	uint8_t *rd = m + o;
	int l1 = fe__sign_name_wire(d->mname ? d->mname : d->ns[0], rd);
	int l2 = l1 < 0 ? -1 : fe__sign_name_wire(d->rname, rd + l1);
	if (l2 < 0) {
		fe_sign_rrlist_free(out);
		return FE_EFORMAT;
	}
	size_t sl = (size_t)l1 + (size_t)l2;
	uint32_t v[5] = {d->serial, d->refresh, d->retry, d->expire, d->minimum};
	for (int i = 0; i < 5; i++)
		fe_put_be32(rd + sl + 4 * i, v[i]);
	sl += 20;
	out->rrs[out->n++] = (struct fe_sign_rr){ap, 6, d->ttl, (uint16_t)sl, rd};
	o += sl;
	for (size_t i = 0; i < d->nns; i++) {
		int l = fe__sign_name_wire(d->ns[i], m + o);
		if (l < 0) {
			fe_sign_rrlist_free(out);
			return FE_EFORMAT;
		}
		out->rrs[out->n++] = (struct fe_sign_rr){ap, 2, d->ttl, (uint16_t)l, m + o};
		o += (size_t)l;
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t *own = m + o;
		int ol = fe_sign_enum_owner(apex, rows[i].number, own);
		if (ol < 0) {
			fe_sign_rrlist_free(out);
			return FE_EFORMAT;
		}
		o += (size_t)ol;
		int rl = fe_sign_naptr_rdata(&rows[i], m + o, 340);
		if (rl < 0) {
			fe_sign_rrlist_free(out);
			return FE_EFORMAT;
		}
		out->rrs[out->n++] = (struct fe_sign_rr){own, 35, d->ttl, (uint16_t)rl, m + o};
		o += (size_t)rl;
	}
	return FE_OK;
}
