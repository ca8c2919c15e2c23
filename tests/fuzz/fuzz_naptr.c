/* libFuzzer target: the NAPTR lint (fe_wire_naptr_lint, docs/security.md Z7) on hostile RDATA,
 * as a zone file can hold it. Beyond "no crash, no sanitizer report": the verdict is the same
 * twice, and with or without the owner it differs only by the loop test (a record that
 * passes with its owner passes without it). Any violation aborts. */
#include "fedenum/wire.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t owner[] = "\0014\0013\0012\0011\004e164\003fed";
	const char *a = fe_wire_naptr_lint(owner, data, size);
	const char *b = fe_wire_naptr_lint(owner, data, size);
	if (a != b)
		abort();
	const char *c = fe_wire_naptr_lint(NULL, data, size);
	if (!a && c)
		abort();
	return 0;
}
