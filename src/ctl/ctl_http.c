/* The Prometheus endpoint's HTTP: the least of HTTP/1.0 and 1.1 a scraper needs (RFC 9112):
 * a request line "GET /metrics HTTP/1.x", header lines up to the empty line, no body, and
 * one response with Connection: close. Everything else is an error status. The parser is
 * pure (fuzzed: tests/fuzz/fuzz_http.c); the listener serves it on the daemon's main loop,
 * with a bounded head, a deadline per connection and a bounded number of connections. */
#include "ctl_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The end of the head ("\r\n\r\n" or "\n\n"), or NULL. */
static const char *head_end(const char *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] == '\n' && buf[i + 1] == '\n')
			return buf + i + 2;
		if (i + 3 < len && memcmp(buf + i, "\r\n\r\n", 4) == 0)
			return buf + i + 4;
	}
	return NULL;
}

static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

enum fe_ctl_http_status fe_ctl_http_parse(const char *buf, size_t len, bool *is_head)
{
	*is_head = false;
	const char *end = head_end(buf, len > FE_CTL_HTTP_MAX ? FE_CTL_HTTP_MAX : len);
	if (end == NULL)
		return len >= FE_CTL_HTTP_MAX ? FE_CTL_HTTP_TOOBIG : FE_CTL_HTTP_MORE;
	/* Request line: METHOD SP TARGET SP HTTP/1.x CRLF */
	const char *p = buf, *sp1 = memchr(p, ' ', (size_t)(end - p));
	if (sp1 == NULL || sp1 == p)
		return FE_CTL_HTTP_BAD;
	for (const char *q = p; q < sp1; q++)
		if (!is_tchar(*q))
			return FE_CTL_HTTP_BAD;
	const char *target = sp1 + 1;
	const char *sp2 = memchr(target, ' ', (size_t)(end - target));
	if (sp2 == NULL || sp2 == target)
		return FE_CTL_HTTP_BAD;
	for (const char *q = target; q < sp2; q++)
		if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
			return FE_CTL_HTTP_BAD;
	const char *ver = sp2 + 1;
	const char *eol = memchr(ver, '\n', (size_t)(end - ver));
	if (eol == NULL)
		return FE_CTL_HTTP_BAD;
	size_t vlen = (size_t)(eol - ver);
	if (vlen && ver[vlen - 1] == '\r')
		vlen--;
	if (vlen != 8 || memcmp(ver, "HTTP/", 5) != 0 || ver[5] < '0' || ver[5] > '9' ||
	    ver[6] != '.' || ver[7] < '0' || ver[7] > '9')
		return FE_CTL_HTTP_BAD;
	/* Header lines: "name: value"; folded (obsolete) lines and bare names are refused. */
	for (const char *line = eol + 1; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		if (nl == NULL)
			return FE_CTL_HTTP_BAD;
		size_t l = (size_t)(nl - line);
		if (l && line[l - 1] == '\r')
			l--;
		if (l == 0)
			break; /* the empty line */
		const char *colon = memchr(line, ':', l);
		if (colon == NULL || colon == line)
			return FE_CTL_HTTP_BAD;
		for (const char *q = line; q < colon; q++)
			if (!is_tchar(*q))
				return FE_CTL_HTTP_BAD;
		for (const char *q = colon + 1; q < line + l; q++)
			if (((unsigned char)*q < 0x20 && *q != '\t') || *q == 0x7f)
				return FE_CTL_HTTP_BAD;
		line = nl + 1;
	}
	if (ver[5] != '1' || (ver[7] != '0' && ver[7] != '1'))
		return FE_CTL_HTTP_VERSION;
	size_t mlen = (size_t)(sp1 - p);
	bool get = mlen == 3 && memcmp(p, "GET", 3) == 0;
	*is_head = mlen == 4 && memcmp(p, "HEAD", 4) == 0;
	if (!get && !*is_head)
		return FE_CTL_HTTP_METHOD;
	/* The path, with or without a query string (scrapers may add one). */
	size_t tlen = (size_t)(sp2 - target);
	const char *qm = memchr(target, '?', tlen);
	if (qm)
		tlen = (size_t)(qm - target);
	if (tlen != 8 || memcmp(target, "/metrics", 8) != 0)
		return FE_CTL_HTTP_NOTFOUND;
	return FE_CTL_HTTP_OK;
}

const char *fe_ctl_http_reason(enum fe_ctl_http_status s)
{
	switch (s) {
	case FE_CTL_HTTP_OK:
		return "OK";
	case FE_CTL_HTTP_BAD:
		return "Bad Request";
	case FE_CTL_HTTP_NOTFOUND:
		return "Not Found";
	case FE_CTL_HTTP_METHOD:
		return "Method Not Allowed";
	case FE_CTL_HTTP_TOOBIG:
		return "Request Header Fields Too Large";
	case FE_CTL_HTTP_VERSION:
		return "HTTP Version Not Supported";
	case FE_CTL_HTTP_MORE:
		break;
	}
	return "Request Timeout";
}
