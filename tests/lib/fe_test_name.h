/* tests/lib/fe_test_name.h — header-only name helper shared by unit and integration tests. */
#ifndef FE_TEST_NAME_H
#define FE_TEST_NAME_H

#include <criterion/criterion.h>
#include <ldns/ldns.h>
#include <stdint.h>
#include <string.h>

#include "fedenum/wire.h"

/* Presentation name ("a.b.c.", \DDD escapes allowed) to uncompressed wire form in @out
 * (FE_WIRE_NAME_MAX octets), via ldns. Returns the length; a bad name fails the test. */
static inline size_t fe_test_wire_name(const char *s, uint8_t *out)
{
	ldns_rdf *d = ldns_dname_new_frm_str(s);
	cr_assert_not_null(d, "bad test name %s", s);
	size_t n = ldns_rdf_size(d);
	cr_assert_leq(n, FE_WIRE_NAME_MAX);
	memcpy(out, ldns_rdf_data(d), n);
	ldns_rdf_deep_free(d);
	return n;
}

#endif
