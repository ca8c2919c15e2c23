/* sign/ internals shared by the key store, the signer and the CSV reader. */
#ifndef FE_SIGN_INT_H
#define FE_SIGN_INT_H

#include "fedenum/sign.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

/* The 20-octet NSEC3 hash @h in base32hex (RFC 4648 §7), lowercase: 32 characters into
 * @out (not NUL-terminated). */
void fe__sign_b32hex(const uint8_t *h, char *out);
/* One RR (owner wire, class IN) as a line of a master file on @f. */
void fe__sign_put_rr(FILE *f, const uint8_t *owner, uint32_t ttl, uint16_t type, const uint8_t *rd,
                     size_t len);

#endif
