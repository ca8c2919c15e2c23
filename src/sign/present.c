/* The signer's master file output: one RR per line in presentation form (RFC 1035 §5,
 * RFC 4034 for the DNSSEC types, RFC 3597 \\# for the types not listed here). */
#include "sign_int.h"

#include "fedenum/util.h"
#include "fedenum/wire.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const struct {
	uint16_t t;
	const char *n;
} tnames[] = {{1, "A"},           {2, "NS"},     {5, "CNAME"}, {6, "SOA"},     {12, "PTR"},
              {15, "MX"},         {16, "TXT"},   {28, "AAAA"}, {33, "SRV"},    {35, "NAPTR"},
              {43, "DS"},         {46, "RRSIG"}, {47, "NSEC"}, {48, "DNSKEY"}, {50, "NSEC3"},
              {51, "NSEC3PARAM"}, {63, "ZONEMD"}};

static const char *type_str(uint16_t t, char *buf)
{
	for (size_t i = 0; i < FE_ARRAY_LEN(tnames); i++)
		if (tnames[i].t == t)
			return tnames[i].n;
	sprintf(buf, "TYPE%u", t);
	return buf;
}

static void put_name(FILE *f, const uint8_t *n)
{
	char s[1100];
	fe_wire_name_to_str(n, s, sizeof(s));
	fputs(s, f);
}

static void put_charstr(FILE *f, const uint8_t *p)
{
	fputc('"', f);
	for (unsigned i = 1; i <= p[0]; i++) {
		uint8_t c = p[i];
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			fprintf(f, "\\%03u", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void put_bitmap(FILE *f, const uint8_t *p, size_t len)
{
	char tb[16];
	size_t o = 0;
	while (o + 2 <= len) {
		unsigned win = p[o], bl = p[o + 1];
		for (unsigned i = 0; i < bl && o + 2 + i < len; i++)
			for (unsigned b = 0; b < 8; b++)
				if (p[o + 2 + i] & (0x80 >> b))
					fprintf(f, " %s",
					        type_str((uint16_t)(win * 256 + i * 8 + b), tb));
		o += 2 + bl;
	}
}

static void put_time(FILE *f, uint32_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	fprintf(f, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	        tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void put_b64(FILE *f, const uint8_t *p, size_t n)
{
	char b[1400];
	if (n > 1000)
		return;
	fe__sign_b64(p, n, b);
	fputs(b, f);
}

static void put_hex(FILE *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02X", p[i]);
}

static void put_rdata(FILE *f, uint16_t type, const uint8_t *p, size_t len)
{
	char tb[16];
	size_t o;
	int nl;
	switch (type) {
	case 2:
	case 5:
	case 12:
		put_name(f, p);
		return;
	case 6:
		nl = fe_wire_name_len(p, len);
		put_name(f, p);
		fputc(' ', f);
		o = (size_t)nl;
		nl = fe_wire_name_len(p + o, len - o);
		put_name(f, p + o);
		o += (size_t)nl;
		fprintf(f, " %u %u %u %u %u", fe_get_be32(p + o), fe_get_be32(p + o + 4),
		        fe_get_be32(p + o + 8), fe_get_be32(p + o + 12), fe_get_be32(p + o + 16));
		return;
	case 35:
		fprintf(f, "%u %u ", fe_get_be16(p), fe_get_be16(p + 2));
		o = 4;
		for (int i = 0; i < 3; i++) {
			put_charstr(f, p + o);
			fputc(' ', f);
			o += 1u + p[o];
		}
		put_name(f, p + o);
		return;
	case 48:
		fprintf(f, "%u %u %u ", fe_get_be16(p), p[2], p[3]);
		put_b64(f, p + 4, len - 4);
		return;
	case 43:
		fprintf(f, "%u %u %u ", fe_get_be16(p), p[2], p[3]);
		put_hex(f, p + 4, len - 4);
		return;
	case 46:
		fprintf(f, "%s %u %u %u ", type_str(fe_get_be16(p), tb), p[2], p[3],
		        fe_get_be32(p + 4));
		put_time(f, fe_get_be32(p + 8));
		fputc(' ', f);
		put_time(f, fe_get_be32(p + 12));
		fprintf(f, " %u ", fe_get_be16(p + 16));
		nl = fe_wire_name_len(p + 18, len - 18);
		put_name(f, p + 18);
		fputc(' ', f);
		put_b64(f, p + 18 + nl, len - 18 - (size_t)nl);
		return;
	case 47:
		nl = fe_wire_name_len(p, len);
		put_name(f, p);
		put_bitmap(f, p + nl, len - (size_t)nl);
		return;
	case 50: {
		char h[33];
		fprintf(f, "%u %u %u ", p[0], p[1], fe_get_be16(p + 2));
		o = 4;
		if (p[o] == 0)
			fputc('-', f);
		else
			put_hex(f, p + o + 1, p[o]);
		o += 1u + p[o];
		if (p[o] != 20)
			return;
		fe__sign_b32hex(p + o + 1, h);
		h[32] = '\0';
		fprintf(f, " %s", h);
		o += 21;
		put_bitmap(f, p + o, len - o);
		return;
	}
	case 51:
		fprintf(f, "%u %u %u ", p[0], p[1], fe_get_be16(p + 2));
		if (p[4] == 0)
			fputc('-', f);
		else
			put_hex(f, p + 5, p[4]);
		return;
	default:
		return;
	}
}

static bool known_type(uint16_t t)
{
	switch (t) {
	case 2:
	case 5:
	case 6:
	case 12:
	case 35:
	case 43:
	case 46:
	case 47:
	case 48:
	case 50:
	case 51:
		return true;
	default:
		return false;
	}
}

void fe__sign_put_rr(FILE *f, const uint8_t *owner, uint32_t ttl, uint16_t type, const uint8_t *rd,
                     size_t len)
{
	char tb[16];
	put_name(f, owner);
	if (known_type(type)) {
		fprintf(f, " %u IN %s ", ttl, type_str(type, tb));
		put_rdata(f, type, rd, len);
	} else {
		fprintf(f, " %u IN TYPE%u \\# %zu ", ttl, type, len);
		put_hex(f, rd, len);
	}
	fputc('\n', f);
}
