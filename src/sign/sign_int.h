/* sign/ internals shared by the key store, the signer and the CSV reader. */
#ifndef FE_SIGN_INT_H
#define FE_SIGN_INT_H

#include "fedenum/sign.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* "e164.fed" / "e164.fed." (any case; plain labels, no escapes) into a lowercase wire name.
 * Returns its length or FE_EFORMAT. @out needs 256 bytes. */
int fe__sign_name_wire(const char *s, uint8_t *out);
/* @s lowercased with exactly one final dot into @out (@cap). FE_OK or FE_EFORMAT. */
int fe__sign_apex_norm(const char *s, char *out, size_t cap);
/* printf into @err (@cap; may be NULL); returns @rc. */
int fe__sign_err(char *err, size_t cap, int rc, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/* Base64 of @n bytes into @out (4 * ((n + 2) / 3) + 1 bytes). */
void fe__sign_b64(const uint8_t *p, size_t n, char *out);

#endif
