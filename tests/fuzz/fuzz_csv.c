/* libFuzzer target: the CSV of numbers (src/sign/csv.c), as fedenumctl and fedenumd read it.
 * Any input: no read outside the buffer (ASan, an exact-size copy), FE_OK exactly when no row
 * failed, every error line numbered, and every accepted row inside the zone's prefix with an
 * owner name and a NAPTR RDATA that can be built. */
#include "fedenum/sign.h"
#include "fedenum/util.h"

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
	static char *const prefixes[] = {"+155520", "+155521"};
	struct fe_sign_csv csv;
	int rc = fe_sign_csv_parse(b, size, "2.5.5.5.1.e164.fed.", prefixes, 2, &csv, NULL, NULL);
	if (rc != FE_OK && rc != FE_EFORMAT && rc != FE_ERANGE)
		abort();
	if ((rc == FE_OK) != (csv.error_rows == 0) || csv.nerrors > FE_SIGN_CSV_MAX_ERRORS ||
	    csv.nerrors > csv.error_rows)
		abort();
	for (size_t i = 0; i < csv.nerrors; i++)
		if (strncmp(csv.errors[i], "line ", 5) != 0)
			abort();
	for (size_t i = 0; i < csv.n; i++) {
		uint8_t owner[256], rd[600];
		if (strncmp(csv.rows[i].number, "+15552", 6) != 0 ||
		    fe_sign_enum_owner("2.5.5.5.1.e164.fed.", csv.rows[i].number, owner) <= 0 ||
		    fe_sign_naptr_rdata(&csv.rows[i], rd, sizeof(rd)) <= 0)
			abort();
	}
	fe_sign_csv_free(&csv);
	free(b);
	return 0;
}
