/* libFuzzer target: the metrics endpoint's HTTP request reader (src/ctl/ctl_http.c). Any
 * input: no read outside the buffer (ASan, an exact-size copy), a status from the known set,
 * and the same answer for a prefix that already holds a complete head (the listener parses
 * again on every read, so the verdict must not depend on what follows the head). */
#include "fedenum/ctl.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *b = malloc(size ? size : 1);
	if (b == NULL)
		return 0;
	memcpy(b, data, size);
	bool head = false;
	enum fe_ctl_http_status st = fe_ctl_http_parse(b, size, &head);
	switch (st) {
	case FE_CTL_HTTP_MORE:
	case FE_CTL_HTTP_OK:
	case FE_CTL_HTTP_BAD:
	case FE_CTL_HTTP_NOTFOUND:
	case FE_CTL_HTTP_METHOD:
	case FE_CTL_HTTP_TOOBIG:
	case FE_CTL_HTTP_VERSION:
		break;
	default:
		abort();
	}
	if (head && (size < 5 || memcmp(b, "HEAD ", 5) != 0))
		abort(); /* HEAD only for a request line that says so */
	(void)fe_ctl_http_reason(st);
	/* A complete verdict stays the same with more bytes after it. */
	if (st != FE_CTL_HTTP_MORE && st != FE_CTL_HTTP_TOOBIG && size < FE_CTL_HTTP_MAX) {
		char *more = malloc(size + 5);
		if (more) {
			memcpy(more, b, size);
			memcpy(more + size, "X: y\n", 5);
			bool h2;
			if (fe_ctl_http_parse(more, size + 5, &h2) != st)
				abort();
			free(more);
		}
	}
	free(b);
	return 0;
}
