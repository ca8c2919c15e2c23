/* The transfer-in response parser alone (fe__xfrin_parse, src/xfr/xfrin_int.h), over a
 * memory buffer: streams built here and signed with the stream signer as a primary would.
 * An SOA with short RDATA (found by tests/fuzz/fuzz_xfr.c: it reached an assert in ldns),
 * the RRset, record and octet limits, and a well-formed AXFR. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "fedenum/tsig.h"
#include "fedenum/util.h"
#include "fedenum/xfr.h"
#include "xfrin_int.h"

#define ID 0x1234u

static struct fe_tsig_key *key;
static uint8_t qmac[FE_TSIG_MAC_MAX];
static size_t qmac_len;

static void setup(void)
{
	uint8_t secret[32] = {1, 2, 3};
	cr_assert_eq(fe_tsig_key_create("k.", FE_TSIG_HMAC_SHA256, secret, sizeof(secret), &key),
	             FE_OK);
	uint8_t q[512] = {ID >> 8, ID & 0xff, 0,   0,   0,   1,   0, 0, 0,   0, 0,
	                  0,       4,         'f', 'u', 'z', 'z', 0, 0, 252, 0, 1};
	size_t n = 22;
	cr_assert_eq(fe_tsig_sign(q, &n, sizeof(q), key, NULL, 0, NULL, qmac, &qmac_len), FE_OK);
}

static void teardown(void)
{
	fe_tsig_key_destroy(key);
}

TestSuite(xfrin_parse, .init = setup, .fini = teardown);

/* One answer message: header, question "fuzz. AXFR", then @rrs tokens: "S" an SOA (serial
 * 9), "s" an SOA whose RDATA stops after the names, "T<name>" a TXT at <name>.fuzz.; all
 * in one message, signed. Appended to @out (length-prefixed); returns the new length. */
static size_t add_msg(uint8_t *out, size_t off, const char *const *rrs, struct fe_tsig_stream *s)
{
	uint8_t m[4096] = {ID >> 8, ID & 0xff, 0x84, 0,   0,   1,   0, 0, 0,   0, 0,
	                   0,       4,         'f',  'u', 'z', 'z', 0, 0, 252, 0, 1};
	size_t n = 22, an = 0;
	for (; rrs[an]; an++) {
		const char *t = rrs[an];
		if (t[0] == 'T') {
			size_t l = strlen(t + 1);
			m[n++] = (uint8_t)l;
			memcpy(m + n, t + 1, l);
			n += l;
		}
		m[n++] = 0xc0, m[n++] = 12;
		m[n++] = 0, m[n++] = t[0] == 'T' ? 16 : 6, m[n++] = 0, m[n++] = 1;
		m[n++] = 0, m[n++] = 0, m[n++] = 1, m[n++] = 44;
		if (t[0] == 'T') {
			m[n++] = 0, m[n++] = 2, m[n++] = 1, m[n++] = 'x';
		} else if (t[0] == 's') {
			m[n++] = 0, m[n++] = 4, m[n++] = 0xc0, m[n++] = 12, m[n++] = 0xc0,
			m[n++] = 12;
		} else {
			static const uint8_t soa[] = {0, 24, 0xc0, 12, 0xc0, 12, 0, 0, 0,
			                              9, 0,  0,    0,  9,    0,  0, 0, 9,
			                              0, 0,  0,    9,  0,    0,  0, 9};
			memcpy(m + n, soa, sizeof(soa));
			n += sizeof(soa);
		}
	}
	m[6] = (uint8_t)(an >> 8), m[7] = (uint8_t)an;
	cr_assert_eq(fe_tsig_stream_sign(s, m, &n, sizeof(m), true, NULL), FE_OK);
	out[off] = (uint8_t)(n >> 8), out[off + 1] = (uint8_t)n;
	memcpy(out + off + 2, m, n);
	return off + 2 + n;
}

static int parse(const char *const *rrs, uint64_t max_rrset, uint64_t max_rrs, uint64_t max_bytes,
                 size_t *nrrs, struct fe_xfrin_result *res)
{
	static uint8_t buf[8192];
	struct fe_tsig_stream *s = NULL;
	cr_assert_eq(fe_tsig_stream_create(key, qmac, qmac_len, &s), FE_OK);
	size_t len = add_msg(buf, 0, rrs, s);
	fe_tsig_stream_destroy(s);
	struct fe_xfrin_opts o = {.apex = "fuzz.",
	                          .key = key,
	                          .max_rrset_rrs = max_rrset,
	                          .max_rrs = max_rrs,
	                          .max_bytes = max_bytes};
	uint16_t rcode = 0;
	return fe__xfrin_parse(&o, 252, 0, ID, qmac, qmac_len, buf, len, &rcode, nrrs, res);
}

Test(xfrin_parse, well_formed_axfr)
{
	static const char *const rrs[] = {"S", "Ta", "Tb", "S", NULL};
	size_t n = 0;
	struct fe_xfrin_result res;
	cr_assert_eq(parse(rrs, 0, 0, 0, &n, &res), FE_OK, "%s", res.err);
	cr_assert_eq(n, 4);
	cr_assert_eq(res.messages, 1);
}

Test(xfrin_parse, soa_with_short_rdata_is_refused)
{
	static const char *const first[] = {"s", "Ta", "S", NULL};
	static const char *const last[] = {"S", "Ta", "s", NULL};
	size_t n = 0;
	struct fe_xfrin_result res;
	cr_assert_eq(parse(first, 0, 0, 0, &n, &res), FE_EFORMAT);
	cr_assert(strstr(res.err, "malformed SOA"), "%s", res.err);
	cr_assert_eq(parse(last, 0, 0, 0, &n, &res), FE_EFORMAT);
	cr_assert(strstr(res.err, "malformed SOA"), "%s", res.err);
}

Test(xfrin_parse, limits)
{
	static const char *const rrs[] = {"S", "Tbig", "Tbig", "Tbig", "Tbig", "Ta", "S", NULL};
	size_t n = 0;
	struct fe_xfrin_result res;
	cr_assert_eq(parse(rrs, 3, 0, 0, &n, &res), FE_ERANGE);
	cr_assert(strstr(res.err, "an RRset (big.fuzz. TXT) of more than 3 records (limit)"), "%s",
	          res.err);
	cr_assert_eq(parse(rrs, 4, 0, 0, &n, &res), FE_OK, "%s", res.err);
	cr_assert_eq(parse(rrs, 0, 6, 0, &n, &res), FE_ERANGE);
	cr_assert(strstr(res.err, "more than 6 records (limit)"), "%s", res.err);
	cr_assert_eq(parse(rrs, 0, 0, 100, &n, &res), FE_ERANGE);
	cr_assert(strstr(res.err, "more than 100 octets (limit)"), "%s", res.err);
}
