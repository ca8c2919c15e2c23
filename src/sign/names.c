/* Names and messages shared by the key store, the signer and the CSV reader (no crypto:
 * the CSV fuzz target builds with this file and csv.c only). */
#include "sign_int.h"

#include "fedenum/util.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

int fe__sign_err(char *err, size_t cap, int rc, const char *fmt, ...)
{
	if (err && cap) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, cap, fmt, ap);
		va_end(ap);
	}
	return rc;
}

void fe__sign_b64(const uint8_t *p, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
}

int fe__sign_apex_norm(const char *s, char *out, size_t cap)
{
	size_t n = strlen(s);
	if (n == 0 || n + 2 > cap || n > 253)
		return FE_EFORMAT;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(isalnum(c) || c == '-' || c == '_' || c == '.'))
			return FE_EFORMAT;
		out[i] = (char)tolower(c);
	}
	if (out[n - 1] != '.')
		out[n++] = '.';
	out[n] = '\0';
	if (strstr(out, "..") || out[0] == '.')
		return FE_EFORMAT;
	return FE_OK;
}

int fe__sign_name_wire(const char *s, uint8_t *out)
{
	char norm[260];
	if (fe__sign_apex_norm(s, norm, sizeof(norm)) != FE_OK)
		return FE_EFORMAT;
	size_t o = 0;
	const char *p = norm;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = (size_t)(dot - p);
		if (l == 0 || l > 63 || o + 1 + l + 1 > 255)
			return FE_EFORMAT;
		out[o++] = (uint8_t)l;
		memcpy(out + o, p, l);
		o += l;
		p = dot + 1;
	}
	out[o++] = 0;
	return (int)o;
}

void fe__sign_b32hex(const uint8_t *h, char *out)
{
	static const char al[] = "0123456789abcdefghijklmnopqrstuv";
	for (int i = 0; i < 4; i++) {
		const uint8_t *p = h + 5 * i;
		uint64_t v = ((uint64_t)p[0] << 32) | ((uint64_t)p[1] << 24) |
		             ((uint64_t)p[2] << 16) | ((uint64_t)p[3] << 8) | p[4];
		for (int j = 0; j < 8; j++)
			out[8 * i + j] = al[(v >> (35 - 5 * j)) & 31];
	}
}
