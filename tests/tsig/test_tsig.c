/* TSIG (RFC 8945): keys and key files, sign/verify round trips, the §5.2 checks in order,
 * truncation, placement, error answers, multi-message streams, the replay cache. */
#include "tsig_test_msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* 32 octets: "fedenum-tsig-test-secret-0123456" */
static const char SECRET_B64[] = "ZmVkZW51bS10c2lnLXRlc3Qtc2VjcmV0LTAxMjM0NTY=";

static struct fe_tsig_key *mk_key(const char *kname, enum fe_tsig_alg alg)
{
	char spec[256];
	struct fe_tsig_key *k = NULL;
	snprintf(spec, sizeof(spec), "%s:%s:%s", fe_tsig_alg_name(alg), kname, SECRET_B64);
	cr_assert_eq(fe_tsig_key_from_string(spec, &k), FE_OK, "%s", spec);
	return k;
}

/* A keyring holding one key of @alg named "xfr.test."; *key borrows it. */
static struct fe_tsig_keyring *mk_ring(enum fe_tsig_alg alg, const struct fe_tsig_key **key)
{
	struct fe_tsig_keyring *kr;
	cr_assert_eq(fe_tsig_keyring_create(&kr), FE_OK);
	struct fe_tsig_key *k = mk_key("xfr.test.", alg);
	cr_assert_eq(fe_tsig_keyring_add(kr, k), FE_OK);
	if (key)
		*key = k;
	return kr;
}

/* A signed AXFR request; its MAC in mac/maclen. */
static void signed_request(struct pk *p, const struct fe_tsig_key *k,
                           const struct fe_tsig_sign_opts *o, uint8_t *mac, size_t *maclen)
{
	query(p, 0x4242, "example.test.", FE_T_AXFR);
	cr_assert_eq(fe_tsig_sign(p->b, &p->n, sizeof(p->b), k, NULL, 0, o, mac, maclen), FE_OK);
}

/* A TSIG RR written by hand (for the malformed cases). */
static void raw_tsig(struct pk *p, const char *kname, uint16_t cls, uint32_t ttl, const char *alg,
                     uint64_t ts, uint16_t maclen)
{
	struct pk rd = {.n = 0};
	name(&rd, alg);
	u48(&rd, ts);
	u16(&rd, 300);
	u16(&rd, maclen);
	for (unsigned i = 0; i < maclen; i++)
		u8(&rd, (uint8_t)i);
	u16(&rd, get16(p->b));
	u16(&rd, 0);
	u16(&rd, 0);
	name(p, kname);
	u16(p, FE_T_TSIG);
	u16(p, cls);
	u32(p, ttl);
	u16(p, (uint16_t)rd.n);
	put(p, rd.b, rd.n);
	set16(p->b + 10, (uint16_t)(get16(p->b + 10) + 1));
}

static const enum fe_tsig_alg ALGS[] = {FE_TSIG_HMAC_SHA256, FE_TSIG_HMAC_SHA384,
                                        FE_TSIG_HMAC_SHA512};

/* ---- algorithms and keys ------------------------------------------------------------ */

Test(tsig, algorithm_names)
{
	enum fe_tsig_alg a;
	cr_assert_eq(fe_tsig_alg_from_name("HMAC-SHA384.", &a), FE_OK);
	cr_assert_eq(a, FE_TSIG_HMAC_SHA384);
	cr_assert_str_eq(fe_tsig_alg_name(FE_TSIG_HMAC_SHA384), "hmac-sha384");
	cr_assert_eq(fe_tsig_alg_digest_len(FE_TSIG_HMAC_SHA256), 32);
	cr_assert_eq(fe_tsig_alg_digest_len(FE_TSIG_HMAC_SHA512), 64);
	cr_assert_eq(fe_tsig_alg_from_name("hmac-md5.sig-alg.reg.int", &a), FE_ENOTSUP);
	cr_assert_eq(fe_tsig_alg_from_name("hmac-sha1", &a), FE_ENOTSUP);
}

Test(tsig, key_from_string_and_name_canonical)
{
	struct fe_tsig_key *k = mk_key("XFR.Carrier-A", FE_TSIG_HMAC_SHA256);
	cr_assert_eq(memcmp(fe_tsig_key_name(k), "\003xfr\011carrier-a\000", 15), 0);
	cr_assert_eq(fe_tsig_key_min_mac_len(k), 32);
	cr_assert_eq(fe_tsig_key_set_min_mac_len(k, 15), FE_EINVAL); /* below max(10, 16) */
	cr_assert_eq(fe_tsig_key_set_min_mac_len(k, 33), FE_EINVAL);
	cr_assert_eq(fe_tsig_key_set_min_mac_len(k, 16), FE_OK);
	fe_tsig_key_destroy(k);
	struct fe_tsig_key *bad;
	cr_assert_eq(fe_tsig_key_from_string("hmac-sha256:x.:not base64!", &bad), FE_ESYNTAX);
	cr_assert_null(bad);
	cr_assert_eq(fe_tsig_key_from_string("hmac-sha256:x.", &bad), FE_ESYNTAX);
	cr_assert_eq(fe_tsig_key_from_string("hmac-md5:x.:ZmVk", &bad), FE_ENOTSUP);
	cr_assert_eq(fe_tsig_key_from_string("hmac-sha256:a..b:ZmVk", &bad), FE_EINVAL);
	fe_tsig_key_destroy(NULL);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

Test(tsig, keyfile_tsig_keygen_output)
{
	char dir[] = "/tmp/fedenum-tsig-XXXXXX", path[128], cmd[512], err[256];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/keys.conf", dir);
	/* exactly what tsig-keygen prints, for all three algorithms, plus comments */
	snprintf(cmd, sizeof(cmd),
	         "{ echo '# peers'; tsig-keygen -a hmac-sha256 a.xfr; echo '// next';"
	         " tsig-keygen -a hmac-sha384 b.xfr; echo '/* last */';"
	         " tsig-keygen -a hmac-sha512 c.xfr; } > %s",
	         path);
	cr_assert_eq(system(cmd), 0);
	struct fe_tsig_keyring *kr;
	cr_assert_eq(fe_tsig_keyring_create(&kr), FE_OK);
	cr_assert_eq(fe_tsig_keyring_load_file(kr, path, err, sizeof(err)), FE_OK, "%s", err);
	cr_assert_eq(fe_tsig_keyring_count(kr), 3);
	cr_assert_not_null(
	        fe_tsig_keyring_find(kr, (const uint8_t *)"\001b\003xfr", FE_TSIG_HMAC_SHA384));
	cr_assert_not_null(
	        fe_tsig_keyring_find(kr, (const uint8_t *)"\001C\003XFR", FE_TSIG_HMAC_SHA512));
	/* lookup is by name and algorithm */
	cr_assert_null(
	        fe_tsig_keyring_find(kr, (const uint8_t *)"\001a\003xfr", FE_TSIG_HMAC_SHA512));
	/* loading it again: duplicates, nothing added */
	cr_assert_eq(fe_tsig_keyring_load_file(kr, path, err, sizeof(err)), FE_EEXIST);
	cr_assert(strstr(err, ":2: duplicate key \"a.xfr\""), "%s", err);
	cr_assert_eq(fe_tsig_keyring_count(kr), 3);
	fe_tsig_keyring_destroy(kr);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

/* One bad key file: the error code and "path:line: ..." */
static void bad_file(const char *text, int want_rc, const char *want_err)
{
	char path[] = "/tmp/fedenum-tsig-key-XXXXXX", err[256], want[300];
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	write_file(path, text);
	struct fe_tsig_keyring *kr;
	cr_assert_eq(fe_tsig_keyring_create(&kr), FE_OK);
	int rc = fe_tsig_keyring_load_file(kr, path, err, sizeof(err));
	snprintf(want, sizeof(want), "%s:%s", path, want_err);
	cr_assert_eq(rc, want_rc, "%s: %d (%s)", text, rc, err);
	cr_assert(strncmp(err, want, strlen(want)) == 0, "got '%s', want '%s'", err, want);
	cr_assert_eq(fe_tsig_keyring_count(kr), 0, "all or nothing");
	fe_tsig_keyring_destroy(kr);
	unlink(path);
}

Test(tsig, keyfile_errors_name_file_and_line)
{
	const char *ok = "key \"a.\" {\n\talgorithm hmac-sha256;\n\tsecret \"ZmVkZW51bQ==\";\n};\n";
	char two[512];
	snprintf(two, sizeof(two), "%skey \"b.\" {\n\talgorithm hmac-md5;\n};\n", ok);
	bad_file(two, FE_ENOTSUP, "6: algorithm 'hmac-md5' not supported");
	bad_file("key \"a.\" {\n\talgorithm hmac-sha256\n\tsecret \"ZmVk\";\n};\n", FE_ESYNTAX,
	         "3: expected ';'");
	bad_file("key \"a.\" {\n\talgorithm hmac-sha256;\n\tsecret \"Zm=Vk\";\n};\n", FE_ESYNTAX,
	         "3: secret is not valid base64");
	bad_file("key \"a.\" {\n\talgorithm hmac-sha256;\n};\n", FE_ESYNTAX,
	         "1: key \"a.\" has no secret");
	bad_file("\n\noptions { };\n", FE_ESYNTAX, "3: expected 'key'");
	bad_file("key \"a.\" {\n\talgorithm hmac-sha256;\n\tsecret \"ZmVk\";\n}\n", FE_ESYNTAX,
	         "5: expected ';' after '}'");
	bad_file("key \"a.\" {\n\tsecret \"ZmVk\";\n\tkeyid 5;\n};\n", FE_ESYNTAX,
	         "3: unknown key option 'keyid'");
	bad_file("key \"bad..name\" {\n\talgorithm hmac-sha256;\n\tsecret \"ZmVk\";\n};\n",
	         FE_ESYNTAX, "1: bad key name");
	struct fe_tsig_keyring *kr;
	char err[256];
	cr_assert_eq(fe_tsig_keyring_create(&kr), FE_OK);
	cr_assert_eq(fe_tsig_keyring_load_file(kr, "/nonexistent/k", err, sizeof(err)), FE_ENOENT);
	cr_assert(strstr(err, "/nonexistent/k: "), "%s", err);
	fe_tsig_keyring_destroy(kr);
}

/* ---- round trips -------------------------------------------------------------------- */

Test(tsig, round_trip_request_and_response_all_algorithms)
{
	for (size_t i = 0; i < FE_ARRAY_LEN(ALGS); i++) {
		const struct fe_tsig_key *k;
		struct fe_tsig_keyring *kr = mk_ring(ALGS[i], &k);
		struct pk q, r;
		uint8_t mac[FE_TSIG_MAC_MAX], rmac[FE_TSIG_MAC_MAX];
		size_t maclen, rmaclen;
		struct fe_tsig_result res;

		signed_request(&q, k, NULL, mac, &maclen);
		cr_assert_eq(maclen, fe_tsig_alg_digest_len(ALGS[i]));
		cr_assert_eq(get16(q.b + 10), 1, "ARCOUNT counts the TSIG");
		cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_OK,
		             "%s: rcode %u error %u", fe_tsig_alg_name(ALGS[i]), res.rcode,
		             res.error);
		cr_assert_eq(res.key, k);
		cr_assert(res.mac_ok);
		cr_assert_eq(res.fudge_s, FE_TSIG_FUDGE_DEFAULT);
		cr_assert_eq(res.orig_id, 0x4242);
		cr_assert_eq(res.mac_len, maclen);
		cr_assert_eq(memcmp(res.mac, mac, maclen), 0);

		/* the response: over the request MAC (§4.3.1) */
		r = q;
		r.n = res.tsig_offset;
		set16(r.b + 2, FE_F_QR | FE_F_AA);
		set16(r.b + 10, 0);
		cr_assert_eq(fe_tsig_sign(r.b, &r.n, sizeof(r.b), k, res.mac, res.mac_len, NULL,
		                          rmac, &rmaclen),
		             FE_OK);
		cr_assert_eq(fe_tsig_verify_response(r.b, r.n, k, mac, maclen, &res), FE_OK);
		/* without the request MAC, or with another one, it does not verify */
		cr_assert_eq(fe_tsig_verify_response(r.b, r.n, k, NULL, 0, &res), FE_EPERM);
		cr_assert_eq(res.error, FE_TSIG_BADSIG);
		mac[3] ^= 1;
		cr_assert_eq(fe_tsig_verify_response(r.b, r.n, k, mac, maclen, &res), FE_EPERM);
		/* a response without TSIG is discarded (§5.4) */
		cr_assert_eq(fe_tsig_verify_response(r.b, res.tsig_offset, k, mac, maclen, &res),
		             FE_EFORMAT, "ARCOUNT still counts the TSIG");
		fe_tsig_keyring_destroy(kr);
	}
}

Test(tsig, unsigned_request_is_enoent)
{
	struct fe_tsig_keyring *kr = mk_ring(FE_TSIG_HMAC_SHA256, NULL);
	struct pk q;
	struct fe_tsig_result res;
	query(&q, 7, "example.test.", FE_T_SOA);
	cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_ENOENT);
	cr_assert_not(res.has_tsig);
	fe_tsig_keyring_destroy(kr);
}

Test(tsig, name_case_is_canonical_in_the_digest)
{
	const struct fe_tsig_key *k;
	struct fe_tsig_keyring *kr = mk_ring(FE_TSIG_HMAC_SHA256, &k);
	struct pk q;
	struct fe_tsig_result res;
	signed_request(&q, k, NULL, NULL, NULL);
	cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_OK);
	/* owner "XFR.test." and algorithm "HMAC-SHA256.": the same canonical variables
	 * (§4.3.3), so the MAC still verifies */
	uint8_t *o = q.b + res.tsig_offset;
	memcpy(o + 1, "XFR", 3);
	memcpy(o + 10 + 10 + 1, "HMAC", 4);
	cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_OK, "error %u",
	             res.error);
	fe_tsig_keyring_destroy(kr);
}

/* ---- §5.2 checks, in order ---------------------------------------------------------- */

Test(tsig, bad_key_unknown_name_or_algorithm)
{
	const struct fe_tsig_key *k;
	struct fe_tsig_keyring *kr = mk_ring(FE_TSIG_HMAC_SHA256, &k);
	struct fe_tsig_key *other = mk_key("other.test.", FE_TSIG_HMAC_SHA256);
	struct fe_tsig_key *samename = mk_key("xfr.test.", FE_TSIG_HMAC_SHA512);
	struct pk q;
	struct fe_tsig_result res;

	signed_request(&q, other, NULL, NULL, NULL);
	cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_EPERM);
	cr_assert_eq(res.rcode, FE_TSIG_NOTAUTH);
	cr_assert_eq(res.error, FE_TSIG_BADKEY);
	cr_assert_null(res.key);
	cr_assert_not(res.mac_ok);
	/* known name, other algorithm: BADKEY too (one algorithm per name, §10) */
	signed_request(&q, samename, NULL, NULL, NULL);
	cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_EPERM);
	cr_assert_eq(res.error, FE_TSIG_BADKEY);
	cr_assert_eq(fe_tsig_keyring_add(kr, samename), FE_EEXIST);
	/* an algorithm we do not implement at all */
	query(&q, 1, "example.test.", FE_T_SOA);
	raw_tsig(&q, "xfr.test.", FE_C_ANY, 0, "hmac-md5.sig-alg.reg.int.", 1, 16);
	cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_EPERM);
	cr_assert_eq(res.error, FE_TSIG_BADKEY);

	/* the answer to an unknown key: unsigned (§5.3.2), NOTAUTH; the client holding that
	 * key reads it as an unsigned TSIG error */
	uint8_t mac[FE_TSIG_MAC_MAX], out[1024];
	size_t maclen;
	signed_request(&q, other, NULL, mac, &maclen);
	cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_EPERM);
	size_t n = fe_tsig_error_response(q.b, q.n, &res, out, sizeof(out));
	cr_assert_gt(n, 12);
	cr_assert_eq(get16(out), 0x4242);
	cr_assert_eq(get16(out + 2) & 0x800f, 0x8000 | FE_TSIG_NOTAUTH);
	cr_assert_eq(get16(out + 4), 1, "question echoed");
	struct fe_tsig_result cres;
	cr_assert_eq(fe_tsig_verify_response(out, n, other, mac, maclen, &cres), FE_EPERM);
	cr_assert_not(cres.mac_ok);
	cr_assert_eq(cres.mac_len, 0);
	cr_assert_eq(cres.rr_error, FE_TSIG_BADKEY);
	cr_assert_eq(cres.orig_id, 0x4242);
	/* BADKEY never gets a signed answer, even if asked with a key in hand */
	res.key = k;
	res.mac_ok = true;
	n = fe_tsig_error_response(q.b, q.n, &res, out, sizeof(out));
	cr_assert_eq(fe_tsig_verify_response(out, n, other, mac, maclen, &cres), FE_EPERM);
	cr_assert_eq(cres.mac_len, 0);
	fe_tsig_key_destroy(samename);
	fe_tsig_key_destroy(other);
	fe_tsig_keyring_destroy(kr);
}

Test(tsig, bad_mac_message_or_mac_changed)
{
	for (size_t i = 0; i < FE_ARRAY_LEN(ALGS); i++) {
		const struct fe_tsig_key *k;
		struct fe_tsig_keyring *kr = mk_ring(ALGS[i], &k);
		struct pk q, q2;
		struct fe_tsig_result res;
		signed_request(&q, k, NULL, NULL, NULL);
		cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_OK);
		size_t mac_at = res.tsig_offset + 10 + 10 + 13 + 10;

		q2 = q;
		q2.b[mac_at + 5] ^= 0x40; /* the MAC */
		cr_assert_eq(fe_tsig_verify_request(q2.b, q2.n, kr, NULL, &res), FE_EPERM);
		cr_assert_eq(res.error, FE_TSIG_BADSIG);
		cr_assert_not(res.mac_ok);
		cr_assert_eq(res.key, k);
		q2 = q;
		q2.b[14] ^= 0x20; /* a letter of the question: case matters in the message */
		cr_assert_eq(fe_tsig_verify_request(q2.b, q2.n, kr, NULL, &res), FE_EPERM);
		cr_assert_eq(res.error, FE_TSIG_BADSIG);
		q2 = q;
		q2.b[0] ^= 1; /* the ID: the Original ID is digested instead (§4.3.2), passes */
		cr_assert_eq(fe_tsig_verify_request(q2.b, q2.n, kr, NULL, &res), FE_OK);
		q2 = q;
		q2.b[mac_at + fe_tsig_alg_digest_len(ALGS[i]) + 1] ^= 1; /* Original ID */
		cr_assert_eq(fe_tsig_verify_request(q2.b, q2.n, kr, NULL, &res), FE_EPERM);
		cr_assert_eq(res.error, FE_TSIG_BADSIG);
		q2 = q;
		q2.b[mac_at - 3] ^= 1; /* Fudge: a TSIG variable */
		cr_assert_eq(fe_tsig_verify_request(q2.b, q2.n, kr, NULL, &res), FE_EPERM);
		cr_assert_eq(res.error, FE_TSIG_BADSIG);

		/* the answer to BADSIG is unsigned too */
		uint8_t out[1024];
		size_t n = fe_tsig_error_response(q2.b, q2.n, &res, out, sizeof(out));
		struct fe_tsig_result cres;
		cr_assert_eq(fe_tsig_verify_response(out, n, k, NULL, 0, &cres), FE_EPERM);
		cr_assert_eq(cres.rr_error, FE_TSIG_BADSIG);
		cr_assert_not(cres.mac_ok);
		fe_tsig_keyring_destroy(kr);
	}
}

Test(tsig, badtime_after_mac_signed_answer_with_server_time)
{
	const struct fe_tsig_key *k;
	struct fe_tsig_keyring *kr = mk_ring(FE_TSIG_HMAC_SHA384, &k);
	const int64_t now = 1700000000;
	fe_time_set_fake_wall_s(now);
	struct fe_tsig_sign_opts o;
	fe_tsig_sign_opts_init(&o);
	struct pk q;
	struct fe_tsig_result res;
	uint8_t mac[FE_TSIG_MAC_MAX];
	size_t maclen;

	/* inside the fudge on both sides */
	o.time_signed = now - 300;
	signed_request(&q, k, &o, NULL, NULL);
	cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_OK);
	o.time_signed = now + 300;
	signed_request(&q, k, &o, NULL, NULL);
	cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_OK);
	/* outside */
	o.time_signed = now + 301;
	signed_request(&q, k, &o, NULL, NULL);
	cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_EPERM);
	cr_assert_eq(res.error, FE_TSIG_BADTIME);
	o.time_signed = now - 1000;
	o.fudge_s = 60;
	signed_request(&q, k, &o, mac, &maclen);
	cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_EPERM);
	cr_assert_eq(res.rcode, FE_TSIG_NOTAUTH);
	cr_assert_eq(res.error, FE_TSIG_BADTIME);
	cr_assert(res.mac_ok, "the MAC was checked first");

	/* the answer: signed over the request MAC, Time Signed and Fudge of the request,
	 * our time in Other Data (§5.2.3); the client verifies it */
	uint8_t out[1024];
	size_t n = fe_tsig_error_response(q.b, q.n, &res, out, sizeof(out));
	cr_assert_gt(n, 12);
	cr_assert_eq(get16(out + 2) & 0xf, FE_TSIG_NOTAUTH);
	struct fe_tsig_result cres;
	fe_time_set_fake_wall_s(now - 1000); /* the client's clock */
	cr_assert_eq(fe_tsig_verify_response(out, n, k, mac, maclen, &cres), FE_EPERM);
	cr_assert(cres.mac_ok);
	cr_assert_eq(cres.rr_error, FE_TSIG_BADTIME);
	cr_assert_eq(cres.time_signed, (uint64_t)(now - 1000));
	cr_assert_eq(cres.fudge_s, 60);
	cr_assert_eq(cres.other_len, 6);
	uint64_t server = (uint64_t)get16(cres.other) << 32 |
	                  (uint64_t)get16(cres.other + 2) << 16 | get16(cres.other + 4);
	cr_assert_eq(server, (uint64_t)now);
	/* and it is bound to the request MAC */
	mac[0] ^= 1;
	cr_assert_eq(fe_tsig_verify_response(out, n, k, mac, maclen, &cres), FE_EPERM);
	cr_assert_eq(cres.error, FE_TSIG_BADSIG);

	/* RFC 8945 §5.2.3 / §10.1: a bad MAC and a bad time is BADSIG, answered unsigned */
	fe_time_set_fake_wall_s(now);
	q.b[q.n - 10] ^= 1;
	cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_EPERM);
	cr_assert_eq(res.error, FE_TSIG_BADSIG);
	fe_time_set_fake_wall_s(0);
	fe_tsig_keyring_destroy(kr);
}

Test(tsig, truncated_macs)
{
	const struct fe_tsig_key *k;
	struct fe_tsig_keyring *kr = mk_ring(FE_TSIG_HMAC_SHA256, &k);
	struct fe_tsig_sign_opts o;
	struct pk q;
	struct fe_tsig_result res;
	int64_t now = fe_time_wall_s();

	/* longer than the digest: FORMERR (§5.2.2.1 case 1) */
	query(&q, 1, "example.test.", FE_T_AXFR);
	raw_tsig(&q, "xfr.test.", FE_C_ANY, 0, "hmac-sha256.", (uint64_t)now, 33);
	cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_EFORMAT);
	cr_assert_eq(res.rcode, FE_RCODE_FORMERR);
	query(&q, 1, "example.test.", FE_T_AXFR);
	raw_tsig(&q, "xfr.test.", FE_C_ANY, 0, "hmac-sha256.", (uint64_t)now, 65);
	cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_EFORMAT);
	/* below max(10, 32/2) = 16: FORMERR (case 3), 0 included in a request */
	for (uint16_t l = 0; l < 16; l++) {
		query(&q, 1, "example.test.", FE_T_AXFR);
		raw_tsig(&q, "xfr.test.", FE_C_ANY, 0, "hmac-sha256.", (uint64_t)now, l);
		cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_EFORMAT,
		             "MAC size %u", l);
	}
	/* the signer refuses to produce those */
	fe_tsig_sign_opts_init(&o);
	o.mac_len = 15;
	query(&q, 1, "example.test.", FE_T_AXFR);
	cr_assert_eq(fe_tsig_sign(q.b, &q.n, sizeof(q.b), k, NULL, 0, &o, NULL, NULL), FE_EINVAL);
	o.mac_len = 33;
	cr_assert_eq(fe_tsig_sign(q.b, &q.n, sizeof(q.b), k, NULL, 0, &o, NULL, NULL), FE_EINVAL);

	/* allowed truncation (16..31) with a valid MAC: BADTRUNC under the default policy
	 * (full MAC), after the MAC and time checks (§5.2.4), answered signed */
	uint8_t mac[FE_TSIG_MAC_MAX];
	size_t maclen;
	o.mac_len = 16;
	signed_request(&q, k, &o, mac, &maclen);
	cr_assert_eq(maclen, 16);
	cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_EPERM);
	cr_assert_eq(res.error, FE_TSIG_BADTRUNC);
	cr_assert(res.mac_ok);
	uint8_t out[1024];
	size_t n = fe_tsig_error_response(q.b, q.n, &res, out, sizeof(out));
	struct fe_tsig_result cres;
	cr_assert_eq(fe_tsig_verify_response(out, n, k, mac, maclen, &cres), FE_EPERM);
	cr_assert(cres.mac_ok);
	cr_assert_eq(cres.rr_error, FE_TSIG_BADTRUNC);
	/* a truncated MAC that is wrong is still BADSIG, not BADTRUNC */
	q.b[q.n - 6 - 2 - 3] ^= 1;
	cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_EPERM);
	cr_assert_eq(res.error, FE_TSIG_BADSIG);
	q.b[q.n - 6 - 2 - 3] ^= 1;
	/* a policy of 16 accepts it, and a response truncated the same way (the truncated
	 * request MAC is what the response digests, §5.2.2.1) */
	cr_assert_eq(fe_tsig_key_set_min_mac_len((struct fe_tsig_key *)k, 16), FE_OK);
	cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_OK);
	struct pk r = q;
	r.n = res.tsig_offset;
	set16(r.b + 2, FE_F_QR);
	set16(r.b + 10, 0);
	o.mac_len = 20;
	cr_assert_eq(fe_tsig_sign(r.b, &r.n, sizeof(r.b), k, res.mac, res.mac_len, &o, NULL, NULL),
	             FE_OK);
	cr_assert_eq(fe_tsig_verify_response(r.b, r.n, k, mac, maclen, &cres), FE_OK);
	fe_tsig_keyring_destroy(kr);
}

Test(tsig, placement_class_ttl_count)
{
	const struct fe_tsig_key *k;
	struct fe_tsig_keyring *kr = mk_ring(FE_TSIG_HMAC_SHA256, &k);
	struct pk q;
	struct fe_tsig_result res;
	uint64_t now = (uint64_t)fe_time_wall_s();
	static const uint8_t a_rdata[4] = {192, 0, 2, 1};

	/* TSIG not last: an A record after it */
	signed_request(&q, k, NULL, NULL, NULL);
	name(&q, "x.example.test.");
	u16(&q, FE_T_A);
	u16(&q, FE_C_IN);
	u32(&q, 60);
	u16(&q, 4);
	put(&q, a_rdata, 4);
	set16(q.b + 10, 2);
	cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_EFORMAT);
	cr_assert(res.has_tsig);
	cr_assert_eq(res.rcode, FE_RCODE_FORMERR);
	/* two TSIGs */
	signed_request(&q, k, NULL, NULL, NULL);
	raw_tsig(&q, "xfr.test.", FE_C_ANY, 0, "hmac-sha256.", now, 32);
	cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_EFORMAT);
	/* class IN, and TTL not 0 */
	query(&q, 1, "example.test.", FE_T_AXFR);
	raw_tsig(&q, "xfr.test.", FE_C_IN, 0, "hmac-sha256.", now, 32);
	cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_EFORMAT);
	query(&q, 1, "example.test.", FE_T_AXFR);
	raw_tsig(&q, "xfr.test.", FE_C_ANY, 1, "hmac-sha256.", now, 32);
	cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_EFORMAT);
	/* in the answer section */
	query(&q, 1, "example.test.", FE_T_AXFR);
	raw_tsig(&q, "xfr.test.", FE_C_ANY, 0, "hmac-sha256.", now, 32);
	set16(q.b + 6, 1);
	set16(q.b + 10, 0);
	cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_EFORMAT);
	/* trailing octets, RDATA shorter than its fields, a compressed algorithm name */
	signed_request(&q, k, NULL, NULL, NULL);
	u8(&q, 0);
	cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_EFORMAT);
	signed_request(&q, k, NULL, NULL, NULL);
	cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_OK);
	set16(q.b + res.tsig_offset + 10 + 8, (uint16_t)(get16(q.b + res.tsig_offset + 18) - 1));
	q.n--;
	cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_EFORMAT);
	query(&q, 1, "example.test.", FE_T_AXFR);
	raw_tsig(&q, "xfr.test.", FE_C_ANY, 0, "hmac-sha256.", now, 32);
	size_t off = q.n - (2 + 2 + 2 + 32 + 2 + 2 + 6 + 13);
	q.b[off] = 0xc0; /* algorithm name as a pointer to the question name */
	q.b[off + 1] = 12;
	cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_EFORMAT);
	fe_tsig_keyring_destroy(kr);
}

/* ---- streams (§5.3.1) --------------------------------------------------------------- */

/* Message @i of an AXFR answer: header, question, a TXT record. */
static void stream_msg(struct pk *m, unsigned i)
{
	char txt[64];
	int l = snprintf(txt, sizeof(txt), "record %u of the transfer", i);
	hdr(m, 0x4242, FE_F_QR | FE_F_AA, 1, 1, 0, 0);
	name(m, "example.test.");
	u16(m, FE_T_AXFR);
	u16(m, FE_C_IN);
	u16(m, 0xc00c);
	u16(m, FE_T_TXT);
	u16(m, FE_C_IN);
	u32(m, 3600);
	u16(m, (uint16_t)(l + 1));
	u8(m, (uint8_t)l);
	put(m, txt, (size_t)l);
}

/* Sign @count messages, every @every-th (and the first and last) signed, into @msgs. */
static void sign_stream(const struct fe_tsig_key *k, const uint8_t *req_mac, size_t req_maclen,
                        struct pk *msgs, unsigned count, unsigned every)
{
	struct fe_tsig_stream *s;
	cr_assert_eq(fe_tsig_stream_create(k, req_mac, req_maclen, &s), FE_OK);
	for (unsigned i = 0; i < count; i++) {
		stream_msg(&msgs[i], i);
		bool sign = i % every == 0 || i + 1 == count;
		cr_assert_eq(fe_tsig_stream_sign(s, msgs[i].b, &msgs[i].n, sizeof(msgs[i].b), sign,
		                                 NULL),
		             FE_OK, "message %u", i);
	}
	cr_assert_eq(fe_tsig_stream_end(s), FE_OK);
	fe_tsig_stream_destroy(s);
}

static struct pk msgs[150];

Test(tsig, stream_150_messages_signed_every_nth)
{
	static const unsigned everies[] = {1, 7, 99, 100};
	for (size_t a = 0; a < FE_ARRAY_LEN(ALGS); a++) {
		struct fe_tsig_key *k = mk_key("xfr.test.", ALGS[a]);
		struct pk q;
		uint8_t mac[FE_TSIG_MAC_MAX];
		size_t maclen;
		signed_request(&q, k, NULL, mac, &maclen);
		for (size_t e = 0; e < FE_ARRAY_LEN(everies); e++) {
			sign_stream(k, mac, maclen, msgs, 150, everies[e]);
			struct fe_tsig_stream *v;
			struct fe_tsig_result res;
			cr_assert_eq(fe_tsig_stream_create(k, mac, maclen, &v), FE_OK);
			unsigned nsigned = 0;
			for (unsigned i = 0; i < 150; i++) {
				cr_assert_eq(fe_tsig_stream_verify(v, msgs[i].b, msgs[i].n, &res),
				             FE_OK, "every %u, message %u: error %u", everies[e], i,
				             res.error);
				nsigned += res.has_tsig;
			}
			cr_assert_eq(nsigned,
			             (150 + everies[e] - 1) / everies[e] + (149 % everies[e] != 0));
			cr_assert_eq(fe_tsig_stream_end(v), FE_OK);
			/* the last MAC is that of the last message's TSIG */
			size_t l1;
			const uint8_t *m1 = fe_tsig_stream_last_mac(v, &l1);
			cr_assert_eq(l1, fe_tsig_alg_digest_len(ALGS[a]));
			cr_assert_eq(memcmp(m1, res.mac, l1), 0);
			fe_tsig_stream_destroy(v);
		}
		fe_tsig_key_destroy(k);
	}
}

Test(tsig, stream_tampering_and_order)
{
	struct fe_tsig_key *k = mk_key("xfr.test.", FE_TSIG_HMAC_SHA256);
	uint8_t mac[32] = {1, 2, 3};
	struct fe_tsig_stream *v;
	struct fe_tsig_result res;

	/* an unsigned message in between changed: the next signed one fails, stream over */
	sign_stream(k, mac, 32, msgs, 20, 5);
	msgs[3].b[msgs[3].n - 1] ^= 1;
	cr_assert_eq(fe_tsig_stream_create(k, mac, 32, &v), FE_OK);
	for (unsigned i = 0; i < 5; i++)
		cr_assert_eq(fe_tsig_stream_verify(v, msgs[i].b, msgs[i].n, &res), FE_OK);
	cr_assert_eq(fe_tsig_stream_verify(v, msgs[5].b, msgs[5].n, &res), FE_EPERM);
	cr_assert_eq(res.error, FE_TSIG_BADSIG);
	cr_assert_eq(fe_tsig_stream_verify(v, msgs[6].b, msgs[6].n, &res), FE_EPERM);
	cr_assert_eq(fe_tsig_stream_end(v), FE_EPERM);
	fe_tsig_stream_destroy(v);

	/* a dropped unsigned message, or two messages swapped: detected at the next MAC */
	sign_stream(k, mac, 32, msgs, 20, 5);
	cr_assert_eq(fe_tsig_stream_create(k, mac, 32, &v), FE_OK);
	for (unsigned i = 0; i < 5; i++)
		if (i != 2)
			cr_assert_eq(fe_tsig_stream_verify(v, msgs[i].b, msgs[i].n, &res), FE_OK);
	cr_assert_eq(fe_tsig_stream_verify(v, msgs[5].b, msgs[5].n, &res), FE_EPERM);
	fe_tsig_stream_destroy(v);
	cr_assert_eq(fe_tsig_stream_create(k, mac, 32, &v), FE_OK);
	cr_assert_eq(fe_tsig_stream_verify(v, msgs[0].b, msgs[0].n, &res), FE_OK);
	cr_assert_eq(fe_tsig_stream_verify(v, msgs[5].b, msgs[5].n, &res), FE_EPERM);
	fe_tsig_stream_destroy(v);

	/* another request MAC: the first message fails */
	mac[0] ^= 1;
	cr_assert_eq(fe_tsig_stream_create(k, mac, 32, &v), FE_OK);
	cr_assert_eq(fe_tsig_stream_verify(v, msgs[0].b, msgs[0].n, &res), FE_EPERM);
	cr_assert_eq(res.error, FE_TSIG_BADSIG);
	fe_tsig_stream_destroy(v);

	/* the first message unsigned: FORMERR (§5.3.1 "both the first and last") */
	mac[0] ^= 1;
	struct pk m;
	stream_msg(&m, 0);
	cr_assert_eq(fe_tsig_stream_create(k, mac, 32, &v), FE_OK);
	cr_assert_eq(fe_tsig_stream_verify(v, m.b, m.n, &res), FE_EFORMAT);
	cr_assert_eq(fe_tsig_stream_end(v), FE_EPERM);
	fe_tsig_stream_destroy(v);
	fe_tsig_key_destroy(k);
}

Test(tsig, stream_more_than_99_unsigned_refused)
{
	struct fe_tsig_key *k = mk_key("xfr.test.", FE_TSIG_HMAC_SHA512);
	struct fe_tsig_stream *s, *v;
	struct fe_tsig_result res;

	/* the signer will not produce it */
	cr_assert_eq(fe_tsig_stream_create(k, NULL, 0, &s), FE_OK);
	for (unsigned i = 0; i < 101; i++) {
		stream_msg(&msgs[i], i);
		int rc = fe_tsig_stream_sign(s, msgs[i].b, &msgs[i].n, sizeof(msgs[i].b), i == 0,
		                             NULL);
		cr_assert_eq(rc, i <= 99 ? FE_OK : FE_ERANGE, "message %u", i);
	}
	fe_tsig_stream_destroy(s);
	/* messages 1..100 are unsigned: the verifier accepts 99 and refuses the 100th */
	cr_assert_eq(fe_tsig_stream_create(k, NULL, 0, &v), FE_OK);
	for (unsigned i = 0; i <= 99; i++)
		cr_assert_eq(fe_tsig_stream_verify(v, msgs[i].b, msgs[i].n, &res), FE_OK, "%u", i);
	cr_assert_eq(fe_tsig_stream_end(v), FE_EPERM, "the last one must be signed");
	cr_assert_eq(fe_tsig_stream_verify(v, msgs[100].b, msgs[100].n, &res), FE_EFORMAT);
	cr_assert_eq(fe_tsig_stream_end(v), FE_EPERM);
	fe_tsig_stream_destroy(v);

	/* exactly 99 unsigned, then a signed one: fine */
	sign_stream(k, NULL, 0, msgs, 101, 100);
	cr_assert_eq(fe_tsig_stream_create(k, NULL, 0, &v), FE_OK);
	for (unsigned i = 0; i < 101; i++)
		cr_assert_eq(fe_tsig_stream_verify(v, msgs[i].b, msgs[i].n, &res), FE_OK, "%u", i);
	cr_assert_eq(fe_tsig_stream_end(v), FE_OK);
	fe_tsig_stream_destroy(v);
	fe_tsig_key_destroy(k);
}

Test(tsig, stream_last_message_unsigned)
{
	struct fe_tsig_key *k = mk_key("xfr.test.", FE_TSIG_HMAC_SHA256);
	struct fe_tsig_stream *v;
	struct fe_tsig_result res;
	sign_stream(k, NULL, 0, msgs, 10, 3); /* 0 3 6 9 signed */
	cr_assert_eq(fe_tsig_stream_create(k, NULL, 0, &v), FE_OK);
	for (unsigned i = 0; i < 9; i++)
		cr_assert_eq(fe_tsig_stream_verify(v, msgs[i].b, msgs[i].n, &res), FE_OK);
	/* the transfer "ends" after message 8, which is unsigned */
	cr_assert_eq(fe_tsig_stream_end(v), FE_EPERM);
	cr_assert_eq(fe_tsig_stream_verify(v, msgs[9].b, msgs[9].n, &res), FE_OK);
	cr_assert_eq(fe_tsig_stream_end(v), FE_OK);
	fe_tsig_stream_destroy(v);
	fe_tsig_key_destroy(k);
}

/* ---- replay ------------------------------------------------------------------------- */

Test(tsig, replay_rejected_within_fudge)
{
	const struct fe_tsig_key *k;
	struct fe_tsig_keyring *kr = mk_ring(FE_TSIG_HMAC_SHA256, &k);
	struct fe_tsig_replay *rc;
	struct fe_tsig_result res;
	struct pk q1, q2;
	const int64_t now = 1800000000;
	struct fe_tsig_sign_opts o;

	fe_time_set_fake_wall_s(now);
	fe_tsig_sign_opts_init(&o);
	cr_assert_eq(fe_tsig_replay_create(2, &rc), FE_OK);
	signed_request(&q1, k, NULL, NULL, NULL);
	cr_assert_eq(fe_tsig_verify_request(q1.b, q1.n, kr, rc, &res), FE_OK);
	/* the same signed request again, 100 s later */
	fe_time_set_fake_wall_s(now + 100);
	cr_assert_eq(fe_tsig_verify_request(q1.b, q1.n, kr, rc, &res), FE_EPERM);
	cr_assert(res.replayed);
	cr_assert_eq(res.error, FE_TSIG_BADTIME);
	cr_assert(res.mac_ok);
	/* a new request (new ID, same second) passes; without a cache the replay passes */
	q2 = q1;
	query(&q2, 0x4343, "example.test.", FE_T_AXFR);
	o.time_signed = now;
	cr_assert_eq(fe_tsig_sign(q2.b, &q2.n, sizeof(q2.b), k, NULL, 0, &o, NULL, NULL), FE_OK);
	cr_assert_eq(fe_tsig_verify_request(q2.b, q2.n, kr, rc, &res), FE_OK);
	cr_assert_eq(fe_tsig_verify_request(q1.b, q1.n, kr, NULL, &res), FE_OK);
	/* the cache (2 entries) is full: a third request evicts q1, whose time becomes the
	 * floor, so q1 is still refused */
	struct pk q3;
	query(&q3, 0x4444, "example.test.", FE_T_AXFR);
	o.time_signed = now + 100;
	cr_assert_eq(fe_tsig_sign(q3.b, &q3.n, sizeof(q3.b), k, NULL, 0, &o, NULL, NULL), FE_OK);
	cr_assert_eq(fe_tsig_verify_request(q3.b, q3.n, kr, rc, &res), FE_OK);
	cr_assert_eq(fe_tsig_verify_request(q1.b, q1.n, kr, rc, &res), FE_EPERM);
	cr_assert(res.replayed);
	cr_assert_eq(fe_tsig_verify_request(q3.b, q3.n, kr, rc, &res), FE_EPERM);
	/* past the fudge the time check refuses it before the cache is asked */
	fe_time_set_fake_wall_s(now + 100 + 301);
	cr_assert_eq(fe_tsig_verify_request(q3.b, q3.n, kr, rc, &res), FE_EPERM);
	cr_assert_not(res.replayed);
	cr_assert_eq(res.error, FE_TSIG_BADTIME);
	fe_tsig_replay_destroy(rc);
	fe_time_set_fake_wall_s(0);
	fe_tsig_keyring_destroy(kr);
}

Test(tsig, replay_entries_expire)
{
	struct fe_tsig_key *k = mk_key("xfr.test.", FE_TSIG_HMAC_SHA256);
	struct fe_tsig_replay *rc;
	uint8_t mac[32] = {0};
	cr_assert_eq(fe_tsig_replay_create(4, &rc), FE_OK);
	/* 100 distinct requests, each 1000 s apart: expired entries are reused, no floor */
	for (unsigned i = 0; i < 100; i++) {
		mac[0] = (uint8_t)i;
		int64_t t = 1000000 + 1000 * (int64_t)i;
		cr_assert_eq(fe_tsig_replay_check(rc, k, (uint64_t)t, 300, mac, 32, t), FE_OK);
		cr_assert_eq(fe_tsig_replay_check(rc, k, (uint64_t)t, 300, mac, 32, t + 300),
		             FE_EEXIST);
	}
	/* a request signed earlier but still in its window, never seen: accepted */
	mac[0] = 0xff;
	cr_assert_eq(fe_tsig_replay_check(rc, k, 1000000 + 98900, 300, mac, 32, 1000000 + 99000),
	             FE_OK);
	fe_tsig_replay_destroy(rc);
	fe_tsig_key_destroy(k);
}

/* ---- an independent signer ---------------------------------------------------------- */

static size_t read_seed(const char *file, uint8_t *b, size_t cap)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/tsig/%s", FE_SOURCE_DIR, file);
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "%s (tests/fuzz/make_tsig_corpus.py writes it)", path);
	size_t n = fread(b, 1, cap, f);
	fclose(f);
	return n;
}

/* Requests and responses signed by dnspython (tests/fuzz/make_tsig_corpus.py) verify, at the
 * time they were signed, and not at another time. */
Test(tsig, dnspython_signed_messages_verify)
{
	static const char *const tags[] = {"fuzz-a", "fuzz-b", "fuzz-c"};
	uint8_t secret[32];
	for (unsigned i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)i;
	struct fe_tsig_keyring *kr;
	cr_assert_eq(fe_tsig_keyring_create(&kr), FE_OK);
	for (size_t a = 0; a < 3; a++) {
		struct fe_tsig_key *k;
		cr_assert_eq(fe_tsig_key_create(tags[a], ALGS[a], secret, 32, &k), FE_OK);
		cr_assert_eq(fe_tsig_keyring_add(kr, k), FE_OK);
	}
	for (size_t a = 0; a < 3; a++) {
		char file[64];
		struct pk q, r;
		struct fe_tsig_result res, rres;
		snprintf(file, sizeof(file), "axfr_%s", tags[a]);
		q.n = read_seed(file, q.b, sizeof(q.b));
		snprintf(file, sizeof(file), "resp_%s", tags[a]);
		r.n = read_seed(file, r.b, sizeof(r.b));

		fe_time_set_fake_wall_s(1000);
		cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_EPERM);
		cr_assert_eq(res.error, FE_TSIG_BADTIME);
		cr_assert(res.mac_ok);
		fe_time_set_fake_wall_s((int64_t)res.time_signed);
		cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_OK, "%s",
		             tags[a]);
		cr_assert_eq(
		        fe_tsig_verify_response(r.b, r.n, res.key, res.mac, res.mac_len, &rres),
		        FE_OK, "%s: error %u", tags[a], rres.error);
		snprintf(file, sizeof(file), "naptr_edns_%s", tags[a]);
		q.n = read_seed(file, q.b, sizeof(q.b));
		cr_assert_eq(fe_tsig_verify_request(q.b, q.n, kr, NULL, &res), FE_OK, "%s", file);
		cr_assert_eq(res.fudge_s, 60);
	}
	fe_time_set_fake_wall_s(0);
	fe_tsig_keyring_destroy(kr);
}
