/* wire/ NSEC3 owner hashing (fe_wire_nsec3_hash, RFC 5155 §5): the vectors of RFC 5155
 * Appendix A, case folding, the limits, and that the name bytes are all that count. */
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "fe_test_name.h"

#include <criterion/criterion.h>
#include <string.h>

/* RFC 5155 Appendix A/B: zone "example", salt aabbccdd, 12 iterations. */
Test(nsec3, hash_rfc5155_vectors)
{
	static const struct {
		const char *name;
		const char *b32;
	} v[] = {
	        {"example.", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom"},
	        {"a.example.", "35mthgpgcu1qg68fab165klnsnk3dpvl"},
	        {"x.w.example.", "b4um86eghhds6nea196smvmlo4ors995"},
	        {"c.x.w.example.", "0va5bpr2ou0vk0lbqeeljri88laipsfh"},
	        {"*.x.w.example.", "92pqneegtaue7pjatc3l3qnk738c6v5m"},
	        {"X.W.EXAMPLE.", "b4um86eghhds6nea196smvmlo4ors995"},
	};
	const uint8_t salt[] = {0xaa, 0xbb, 0xcc, 0xdd};
	const char *digits = "0123456789abcdefghijklmnopqrstuv";
	for (size_t i = 0; i < FE_ARRAY_LEN(v); i++) {
		uint8_t name[FE_WIRE_NAME_MAX], h[64];
		fe_test_wire_name(v[i].name, name);
		cr_assert_eq(fe_wire_nsec3_hash(name, 1, 12, salt, 4, h), 20);
		char b32[33];
		for (int g = 0; g < 4; g++) {
			uint64_t acc = 0;
			for (int j = 0; j < 5; j++)
				acc = (acc << 8) | h[g * 5 + j];
			for (int j = 0; j < 8; j++)
				b32[g * 8 + j] = digits[(acc >> (35 - 5 * j)) & 31];
		}
		b32[32] = 0;
		cr_assert_str_eq(b32, v[i].b32, "%s", v[i].name);
	}
	uint8_t name[FE_WIRE_NAME_MAX], h[64];
	fe_test_wire_name("example.", name);
	cr_assert_eq(fe_wire_nsec3_hash(name, 2, 0, NULL, 0, h), FE_ENOTSUP);
	cr_assert_eq(fe_wire_nsec3_hash(name, 1, 2501, NULL, 0, h), FE_ERANGE);
}

/* RFC 5155 §5: the hash of a name is the hash of its canonical wire form only: no salt, no
 * iterations and the same name give the same bytes every time; the salt and the iteration
 * count each change it. */
Test(nsec3, salt_and_iterations_change_the_hash)
{
	uint8_t name[FE_WIRE_NAME_MAX], a[64], b[64], c[64], d[64];
	const uint8_t salt[] = {0xaa, 0xbb, 0xcc, 0xdd};
	fe_test_wire_name("1.0.0.0.0.0.1.5.5.5.1.e164.fed.", name);
	cr_assert_eq(fe_wire_nsec3_hash(name, 1, 0, NULL, 0, a), FE_WIRE_NSEC3_SHA1_LEN);
	cr_assert_eq(fe_wire_nsec3_hash(name, 1, 0, NULL, 0, b), FE_WIRE_NSEC3_SHA1_LEN);
	cr_assert_eq(memcmp(a, b, FE_WIRE_NSEC3_SHA1_LEN), 0);
	cr_assert_eq(fe_wire_nsec3_hash(name, 1, 0, salt, 4, c), FE_WIRE_NSEC3_SHA1_LEN);
	cr_assert_neq(memcmp(a, c, FE_WIRE_NSEC3_SHA1_LEN), 0);
	cr_assert_eq(fe_wire_nsec3_hash(name, 1, 1, NULL, 0, d), FE_WIRE_NSEC3_SHA1_LEN);
	cr_assert_neq(memcmp(a, d, FE_WIRE_NSEC3_SHA1_LEN), 0);
	/* 2,500 iterations is the cap itself (RFC 5155 §10.3): allowed. */
	cr_assert_eq(fe_wire_nsec3_hash(name, 1, 2500, salt, 4, d), FE_WIRE_NSEC3_SHA1_LEN);
}
