/* tests/server/test_answer_lib.h — fixture for the answer-engine unit tests (header only:
 * every test_answer*.c is its own executable).
 *
 * A fixture is a temp LMDB store loaded with zone files from tests/server/data/ and an
 * answer context over one reader. Queries are built with ldns, answered by fe_answer() and
 * parsed back with ldns, so the engine is checked by an independent DNS implementation. */
#ifndef TEST_ANSWER_LIB_H
#define TEST_ANSWER_LIB_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fedenum/server.h"
#include "fedenum/store.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "fedenum/zone.h"

#define FX_DATA FE_SOURCE_DIR "/tests/server/data/"

/* Query flags. */
#define FX_DO     0x1u
#define FX_TCP    0x2u
#define FX_NOEDNS 0x4u

struct fx {
	char dir[256];
	struct fe_store *st;
	struct fe_store_reader *rd;
	uint64_t cnt[FE_CNT__MAX];
	struct fe_answer_opts opts;
	struct fe_answer_ctx ctx;
	uint8_t resp[65535];
	size_t resp_len;
};

static inline int fx_rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Open a store in a temp dir and load @zones (file names under data/, NULL-terminated). */
static inline void fx_open(struct fx *f, const char *const *zones)
{
	memset(f, 0, sizeof(*f));
	fe_log_set_level(FE_LOG_WARN);
	const char *tmp = getenv("TMPDIR");
	snprintf(f->dir, sizeof(f->dir), "%s/fe-answer-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	cr_assert_not_null(mkdtemp(f->dir), "mkdtemp");
	struct fe_store_opts so = {.map_size_bytes = 64u << 20, .no_sync = true};
	int rc = fe_store_open(f->dir, &so, &f->st);
	cr_assert_eq(rc, FE_OK, "fe_store_open: %s", fe_strerror(rc));
	for (size_t i = 0; zones && zones[i]; i++) {
		char path[512];
		struct fe_zone_error err;
		memset(&err, 0, sizeof(err));
		snprintf(path, sizeof(path), FX_DATA "%s", zones[i]);
		rc = fe_zone_load_file(path, NULL, f->st, &err);
		cr_assert(rc == FE_OK || rc == FE_EEXIST, "load %s: %s (%s:%lu %s)", zones[i],
		          fe_strerror(rc), err.file, err.line, err.reason);
	}
	rc = fe_store_reader_create(f->st, &f->rd);
	cr_assert_eq(rc, FE_OK, "reader: %s", fe_strerror(rc));
	rc = fe_store_reader_begin(f->rd);
	cr_assert_eq(rc, FE_OK, "reader begin: %s", fe_strerror(rc));
	f->ctx.reader = f->rd;
	f->ctx.opts = &f->opts;
	f->ctx.counters = f->cnt;
}

static inline void fx_close(struct fx *f)
{
	if (f->rd) {
		fe_store_reader_end(f->rd);
		fe_store_reader_destroy(f->rd);
	}
	fe_store_close(f->st);
	if (f->dir[0])
		nftw(f->dir, fx_rm_cb, 8, FTW_DEPTH | FTW_PHYS);
	memset(f, 0, sizeof(*f));
}

/* Wire query for @name/@type (name case kept as given). Returns the length. */
static inline size_t fx_make_query(const char *name, uint16_t type, unsigned flags,
                                   uint16_t bufsize, uint8_t *out, size_t cap)
{
	ldns_rdf *qn = ldns_dname_new_frm_str(name);
	cr_assert_not_null(qn, "bad name %s", name);
	ldns_pkt *q = ldns_pkt_query_new(qn, (ldns_rr_type)type, LDNS_RR_CLASS_IN, LDNS_RD);
	cr_assert_not_null(q);
	ldns_pkt_set_id(q, 0x4242);
	if (!(flags & FX_NOEDNS)) {
		ldns_pkt_set_edns_udp_size(q, bufsize ? bufsize : 1232);
		ldns_pkt_set_edns_do(q, (flags & FX_DO) != 0);
	}
	uint8_t *wire = NULL;
	size_t len = 0;
	cr_assert_eq(ldns_pkt2wire(&wire, q, &len), LDNS_STATUS_OK);
	cr_assert(len <= cap);
	memcpy(out, wire, len);
	free(wire);
	ldns_pkt_free(q);
	return len;
}

/* Answer raw bytes; returns the parsed response (NULL when nothing was sent). */
static inline ldns_pkt *fx_raw(struct fx *f, const uint8_t *req, size_t len, enum fe_transport tr)
{
	f->resp_len = fe_answer(&f->ctx, req, len, tr, f->resp,
	                        tr == FE_TRANSPORT_TCP ? sizeof(f->resp) : 4096);
	if (f->resp_len == 0)
		return NULL;
	ldns_pkt *p = NULL;
	ldns_status s = ldns_wire2pkt(&p, f->resp, f->resp_len);
	cr_assert_eq(s, LDNS_STATUS_OK, "response does not parse: %s", ldns_get_errorstr_by_id(s));
	cr_assert_eq(ldns_pkt_id(p), fe_get_be16(req), "ID not copied");
	cr_assert(ldns_pkt_qr(p), "QR not set");
	return p;
}

static inline ldns_pkt *fx_ask(struct fx *f, const char *name, uint16_t type, unsigned flags,
                               uint16_t bufsize)
{
	uint8_t q[512];
	size_t len = fx_make_query(name, type, flags, bufsize, q, sizeof(q));
	ldns_pkt *p = fx_raw(f, q, len, (flags & FX_TCP) ? FE_TRANSPORT_TCP : FE_TRANSPORT_UDP);
	cr_assert_not_null(p, "no answer to %s", name);
	/* Header policy of a resolver front end (issue #2 §6). */
	cr_assert(ldns_pkt_ra(p), "RA=0 for %s", name);
	cr_assert(!ldns_pkt_aa(p), "AA=1 for %s", name);
	cr_assert(!ldns_pkt_ad(p), "AD=1 for %s", name);
	cr_assert(ldns_pkt_rd(p), "RD not copied for %s", name);
	return p;
}

static inline ldns_rr_list *fx_sec(ldns_pkt *p, ldns_pkt_section sec)
{
	switch (sec) {
	case LDNS_SECTION_ANSWER:
		return ldns_pkt_answer(p);
	case LDNS_SECTION_AUTHORITY:
		return ldns_pkt_authority(p);
	case LDNS_SECTION_ADDITIONAL:
		return ldns_pkt_additional(p);
	default:
		return NULL;
	}
}

static inline bool fx_name_eq(const ldns_rdf *a, const char *b)
{
	ldns_rdf *n = ldns_dname_new_frm_str(b);
	bool eq = n && ldns_dname_compare(a, n) == 0;
	ldns_rdf_deep_free(n);
	return eq;
}

/* Number of RRs of @type (owner @owner, or any owner when NULL) in @sec. */
static inline size_t fx_count(ldns_pkt *p, ldns_pkt_section sec, const char *owner, uint16_t type)
{
	ldns_rr_list *l = fx_sec(p, sec);
	size_t n = 0;
	for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);
		if (ldns_rr_get_type(rr) != type)
			continue;
		if (owner && !fx_name_eq(ldns_rr_owner(rr), owner))
			continue;
		n++;
	}
	return n;
}

/* Number of RRSIGs over @covered (owner @owner or any) in @sec. */
static inline size_t fx_count_sig(ldns_pkt *p, ldns_pkt_section sec, const char *owner,
                                  uint16_t covered)
{
	ldns_rr_list *l = fx_sec(p, sec);
	size_t n = 0;
	for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_RRSIG)
			continue;
		if (ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(rr)) != covered)
			continue;
		if (owner && !fx_name_eq(ldns_rr_owner(rr), owner))
			continue;
		n++;
	}
	return n;
}

/* Does @sec hold exactly the RR given in presentation form (TTL included)? */
static inline bool fx_has(ldns_pkt *p, ldns_pkt_section sec, const char *text)
{
	ldns_rr *want = NULL;
	ldns_status s = ldns_rr_new_frm_str(&want, text, 0, NULL, NULL);
	cr_assert_eq(s, LDNS_STATUS_OK, "bad RR text %s", text);
	ldns_rr_list *l = fx_sec(p, sec);
	bool found = false;
	for (size_t i = 0; l && i < ldns_rr_list_rr_count(l) && !found; i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);
		found = ldns_rr_compare(rr, want) == 0 && ldns_rr_ttl(rr) == ldns_rr_ttl(want);
	}
	ldns_rr_free(want);
	return found;
}

static inline size_t fx_n(ldns_pkt *p, ldns_pkt_section sec)
{
	ldns_rr_list *l = fx_sec(p, sec);
	return l ? ldns_rr_list_rr_count(l) : 0;
}

/* Print a packet (for failing tests). */
static inline void fx_dump(ldns_pkt *p)
{
	char *s = ldns_pkt2str(p);
	cr_log_info("%s", s ? s : "(null)");
	free(s);
}

/* DNSKEYs of the zones named (NULL-terminated), asked through the engine itself. */
static inline ldns_rr_list *fx_keys(struct fx *f, const char *const *apexes)
{
	ldns_rr_list *keys = ldns_rr_list_new();
	for (size_t i = 0; apexes[i]; i++) {
		uint8_t q[512];
		size_t len =
		        fx_make_query(apexes[i], LDNS_RR_TYPE_DNSKEY, FX_DO, 4096, q, sizeof(q));
		ldns_pkt *p = fx_raw(f, q, len, FE_TRANSPORT_TCP);
		cr_assert_not_null(p);
		ldns_rr_list *an = ldns_pkt_answer(p);
		for (size_t j = 0; j < ldns_rr_list_rr_count(an); j++)
			if (ldns_rr_get_type(ldns_rr_list_rr(an, j)) == LDNS_RR_TYPE_DNSKEY)
				ldns_rr_list_push_rr(keys, ldns_rr_clone(ldns_rr_list_rr(an, j)));
		ldns_pkt_free(p);
	}
	cr_assert_gt(ldns_rr_list_rr_count(keys), 0, "no DNSKEY found");
	return keys;
}

/* Every RRSIG in every section verifies over the RRset it covers (same section, owner and
 * type), and (@want_all_signed) every RRset of the answer and authority sections carries at
 * least one RRSIG (additional data may lose its RRSIGs to the size limit). Proves the
 * signatures were copied intact, with the right owner (wildcards: RFC 4035 §5.3.2), TTL and
 * class. Returns the number of RRSIGs checked. */
static inline size_t fx_verify_sigs(ldns_pkt *p, const ldns_rr_list *keys, bool want_all_signed)
{
	size_t checked = 0;
	for (int s = LDNS_SECTION_ANSWER; s <= LDNS_SECTION_ADDITIONAL; s++) {
		ldns_rr_list *l = fx_sec(p, (ldns_pkt_section)s);
		for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++) {
			ldns_rr *sig = ldns_rr_list_rr(l, i);
			if (ldns_rr_get_type(sig) != LDNS_RR_TYPE_RRSIG)
				continue;
			ldns_rr_type cov = ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(sig));
			ldns_rr_list *set = ldns_rr_list_new();
			for (size_t j = 0; j < ldns_rr_list_rr_count(l); j++) {
				ldns_rr *rr = ldns_rr_list_rr(l, j);
				if (ldns_rr_get_type(rr) == cov &&
				    ldns_dname_compare(ldns_rr_owner(rr), ldns_rr_owner(sig)) == 0)
					ldns_rr_list_push_rr(set, rr);
			}
			cr_assert_gt(ldns_rr_list_rr_count(set), 0, "RRSIG without its RRset");
			cr_assert_eq(ldns_rr_ttl(sig), ldns_rr_ttl(ldns_rr_list_rr(set, 0)),
			             "RRSIG TTL differs from the RRset's (RFC 4034 §3)");
			ldns_status st = ldns_verify_rrsig_keylist_notime(set, sig, keys, NULL);
			if (st != LDNS_STATUS_OK)
				fx_dump(p);
			cr_assert_eq(st, LDNS_STATUS_OK, "RRSIG does not verify: %s",
			             ldns_get_errorstr_by_id(st));
			ldns_rr_list_free(set);
			checked++;
		}
		if (!want_all_signed || s == LDNS_SECTION_ADDITIONAL)
			continue;
		for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++) {
			ldns_rr *rr = ldns_rr_list_rr(l, i);
			ldns_rr_type t = ldns_rr_get_type(rr);
			if (t == LDNS_RR_TYPE_RRSIG || t == LDNS_RR_TYPE_OPT)
				continue;
			bool signed_ = false;
			for (size_t j = 0; j < ldns_rr_list_rr_count(l) && !signed_; j++) {
				ldns_rr *sig = ldns_rr_list_rr(l, j);
				signed_ = ldns_rr_get_type(sig) == LDNS_RR_TYPE_RRSIG &&
				          ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(sig)) == t &&
				          ldns_dname_compare(ldns_rr_owner(sig),
				                             ldns_rr_owner(rr)) == 0;
			}
			if (!signed_)
				fx_dump(p);
			cr_assert(signed_, "an RRset went out without its RRSIG");
		}
	}
	return checked;
}

/* "<NSEC3 hash of name>.<apex>" as a dname (caller frees). */
static inline ldns_rdf *fx_hashed(const char *name, const char *apex, uint16_t iterations,
                                  const char *salt_hex)
{
	uint8_t salt[64];
	size_t salt_len = 0;
	for (; salt_hex && salt_hex[2 * salt_len]; salt_len++) {
		unsigned v;
		cr_assert_eq(sscanf(salt_hex + 2 * salt_len, "%2x", &v), 1);
		salt[salt_len] = (uint8_t)v;
	}
	ldns_rdf *n = ldns_dname_new_frm_str(name);
	ldns_rdf *h = ldns_nsec3_hash_name(n, 1, iterations, (uint8_t)salt_len, salt);
	ldns_rdf *z = ldns_dname_new_frm_str(apex);
	cr_assert_eq(ldns_dname_cat(h, z), LDNS_STATUS_OK);
	ldns_rdf_deep_free(n);
	ldns_rdf_deep_free(z);
	return h;
}

/* NSEC3 records of the authority section that match (owner == hash) or cover @name. */
static inline size_t fx_nsec3(ldns_pkt *p, const char *name, const char *apex, uint16_t iterations,
                              const char *salt_hex, bool matching)
{
	ldns_rdf *h = fx_hashed(name, apex, iterations, salt_hex);
	ldns_rr_list *l = ldns_pkt_authority(p);
	size_t n = 0;
	for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NSEC3)
			continue;
		bool match = ldns_dname_compare(ldns_rr_owner(rr), h) == 0;
		if (matching ? match : (!match && ldns_nsec_covers_name(rr, h)))
			n++;
	}
	ldns_rdf_deep_free(h);
	return n;
}

/* NSEC records of the authority section at (@matching) or covering @name. */
static inline size_t fx_nsec(ldns_pkt *p, const char *name, bool matching)
{
	ldns_rdf *n = ldns_dname_new_frm_str(name);
	ldns_dname2canonical(n);
	ldns_rr_list *l = ldns_pkt_authority(p);
	size_t k = 0;
	for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NSEC)
			continue;
		bool match = ldns_dname_compare(ldns_rr_owner(rr), n) == 0;
		if (matching ? match : (!match && ldns_nsec_covers_name(rr, n)))
			k++;
	}
	ldns_rdf_deep_free(n);
	return k;
}

#endif
