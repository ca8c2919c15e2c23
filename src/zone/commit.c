/* Node blobs, the store transaction, the validation seam and the one-call load. */
#include "zone_int.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct blobbuf {
	uint8_t *p;
	size_t len;
	size_t cap;
};

static int bb_reserve(struct blobbuf *b, size_t n)
{
	if (b->cap - b->len >= n)
		return FE_OK;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap - b->len < n)
		cap *= 2;
	uint8_t *np = realloc(b->p, cap);
	if (np == NULL)
		return FE_ENOMEM;
	b->p = np;
	b->cap = cap;
	return FE_OK;
}

/* TTL of the RRset in @recs[0, @count) (RRs, then the RRSIGs over it): the first RR's TTL,
 * at most the original TTL (RFC 4034 §3.1.4) of any RRSIG over the set. A validator caps the
 * TTL there (RFC 4035 §5.3.3), so a TTL raised in the file after signing is not what we
 * serve: the answer is the same whether or not the client validates. */
static uint32_t rrset_ttl(struct fe__zrec *const *recs, size_t count)
{
	uint32_t ttl = recs[0]->ttl;
	for (size_t i = 0; i < count; i++) {
		const struct fe__zrec *r = recs[i];
		if (r->type == FE_T_RRSIG && r->rdlen >= 8)
			ttl = FE_MIN(ttl, fe_get_be32(r->rdata + 4));
	}
	return ttl;
}

/* Build a node blob (layout: include/fedenum/store.h) from @count sorted records. */
static int build_blob(struct blobbuf *b, uint16_t flags, const uint8_t *owner, size_t owner_len,
                      const uint8_t *hash, size_t hash_len, struct fe__zrec *const *recs,
                      size_t count)
{
	int rc;
	b->len = 0;
	if ((rc = bb_reserve(b, 2 + 1 + owner_len + 1 + hash_len + 2)) != FE_OK)
		return rc;
	fe_put_u16(b->p, flags);
	b->p[2] = (uint8_t)owner_len;
	memcpy(b->p + 3, owner, owner_len);
	b->len = 3 + owner_len;
	b->p[b->len++] = (uint8_t)hash_len;
	if (hash_len)
		memcpy(b->p + b->len, hash, hash_len);
	b->len += hash_len;
	size_t count_at = b->len;
	b->len += 2;

	uint16_t sets = 0;
	for (size_t i = 0; i < count;) {
		/* One RRset: the RRs of a type, then the RRSIGs covering it (sorted so). */
		uint16_t type = recs[i]->covered;
		size_t set_first = i, hdr = b->len;
		uint16_t rrs = 0, sigs = 0;
		if ((rc = bb_reserve(b, 14)) != FE_OK)
			return rc;
		b->len += 14;
		size_t body = b->len;
		for (; i < count && recs[i]->covered == type; i++) {
			const struct fe__zrec *r = recs[i];
			if (b->len - body + 2u + r->rdlen > UINT32_MAX)
				return FE_ERANGE; /* body_len is 32 bits */
			if ((rc = bb_reserve(b, 2u + r->rdlen)) != FE_OK)
				return rc;
			fe_put_u16(b->p + b->len, r->rdlen);
			memcpy(b->p + b->len + 2, r->rdata, r->rdlen);
			b->len += 2u + r->rdlen;
			if (r->type == FE_T_RRSIG)
				sigs++;
			else
				rrs++;
		}
		fe_put_u16(b->p + hdr, type);
		/* RFC 2181 §5.2: one TTL per RRset; the first RR's (RRSIGs sort last), capped
		 * here, once, at the smallest original TTL of its RRSIGs (RFC 4035 §5.3.3: what
		 * a validator keeps), so the answer path never parses an RRSIG. */
		fe_put_u32(b->p + hdr + 2, rrset_ttl(recs + set_first, i - set_first));
		fe_put_u16(b->p + hdr + 6, rrs);
		fe_put_u16(b->p + hdr + 8, sigs);
		fe_put_u32(b->p + hdr + 10, (uint32_t)(b->len - body));
		sets++;
	}
	fe_put_u16(b->p + count_at, sets);
	return FE_OK;
}

/* Node @i's blob into @b; its key via @key/@klen. */
static int node_blob(const struct fe_zone *z, size_t i, struct blobbuf *b)
{
	const struct fe__znode *n = &z->nodes[i];
	const uint8_t *name = fe__own_name(n->own) + n->name_off;
	size_t nl = (size_t)n->own->name_len - n->name_off;
	bool hashed = z->hashes && !(n->flags & FE_NODE_OCCLUDED);
	return build_blob(b, n->flags, name, nl, hashed ? z->hashes[i] : NULL,
	                  hashed ? FE__NSEC3_HASH_LEN : 0, z->recs + n->first, n->count);
}

static int n3_blob(const struct fe_zone *z, size_t i, struct blobbuf *b)
{
	const struct fe__zn3 *n = &z->n3[i];
	return build_blob(b, 0, fe__own_name(n->own), n->own->name_len, n->hash, FE__NSEC3_HASH_LEN,
	                  z->n3recs + n->first, n->count);
}

static void digest_item(EVP_MD_CTX *md, const uint8_t *key, size_t klen, const struct blobbuf *b)
{
	uint8_t len[8];
	fe_put_u32(len, (uint32_t)klen);
	fe_put_u32(len + 4, (uint32_t)b->len);
	EVP_DigestUpdate(md, len, sizeof(len));
	EVP_DigestUpdate(md, key, klen);
	EVP_DigestUpdate(md, b->p, b->len);
}

int fe__zone_digest(struct fe_zone *z)
{
	if (z->has_digest)
		return FE_OK;
	struct blobbuf b = {0};
	int rc = FE_OK;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		rc = FE_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < z->nnodes && rc == FE_OK; i++)
		if ((rc = node_blob(z, i, &b)) == FE_OK)
			digest_item(md, fe__own_key(z->nodes[i].own), z->nodes[i].key_len, &b);
	for (size_t i = 0; i < z->nn3 && rc == FE_OK; i++)
		if ((rc = n3_blob(z, i, &b)) == FE_OK)
			digest_item(md, z->n3[i].hash, FE__NSEC3_HASH_LEN, &b);
	unsigned int dl = 0;
	if (rc == FE_OK && EVP_DigestFinal_ex(md, z->digest, &dl) == 1 && dl == sizeof(z->digest))
		z->has_digest = true;
	else if (rc == FE_OK)
		rc = FE_ENOMEM;
out:
	EVP_MD_CTX_free(md);
	free(b.p);
	return rc;
}

static bool digest_known(const uint8_t *d)
{
	for (size_t i = 0; i < 32; i++)
		if (d[i])
			return true;
	return false;
}

int fe__zone_replace_policy(struct fe_zone *z, const struct fe_store_zone_rec *cur,
                            struct fe_zone_error *err)
{
	bool cur_valid = cur->flags & FE_ZONE_VALIDATED;
	bool new_valid = z->flags & FE_ZONE_VALIDATED;
	if (cur_valid && !new_valid) {
		fe__zone_err(err, z->apex_str, 0,
		             "zone %s: the stored serial %u was validated through the federation "
		             "chain of trust; serial %u was not, and an unvalidated version never "
		             "replaces a validated one (load it through the trust anchors)",
		             z->apex_str, cur->serial, z->serial);
		return FE_EPERM;
	}
	int cmp = fe_serial_cmp(z->serial, cur->serial);
	if (cmp == 0) {
		int rc = fe__zone_digest(z);
		if (rc != FE_OK)
			return rc;
		bool same = !digest_known(cur->digest) ||
		            memcmp(cur->digest, z->digest, sizeof(z->digest)) == 0;
		if (new_valid && !cur_valid)
			return FE_OK; /* the same serial, now validated: replaces the unchecked one
			               */
		if (same)
			return FE_EEXIST;
		if (z->force)
			return FE_OK;
		fe__zone_err(err, z->apex_str, 0,
		             "zone %s: serial %u is already stored with different content: refused "
		             "(raise the SOA serial; --force replaces it on purpose)",
		             z->apex_str, z->serial);
		return FE_ESERIAL;
	}
	if (cmp == 1 || z->force)
		return FE_OK;
	fe__zone_err(err, z->apex_str, 0,
	             "zone %s: serial %u %s the stored serial %u (RFC 1982): refused, the stored "
	             "version keeps serving (--force rolls back on purpose)",
	             z->apex_str, z->serial, cmp < 0 ? "is older than" : "is not comparable with",
	             cur->serial);
	return FE_ESERIAL;
}

void fe_zone_commit_stats(const struct fe_zone *z, struct fe_store_write_stats *out)
{
	*out = z->commit_stats;
}

bool fe_zone_file_matches(const char *path, uint64_t size, int64_t mtime_ns)
{
	struct stat sb;
	if (size == 0 || mtime_ns == 0 || stat(path, &sb) != 0)
		return false;
	int64_t m = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
	return (uint64_t)sb.st_size == size && m == mtime_ns;
}

static void log_load(const struct fe_zone *z, uint64_t store_us)
{
	const struct fe_store_write_stats *cs = &z->commit_stats;
	fe_log_info("zone %s serial %u loaded: %llu records, %zu nodes, %zu nsec3, parse %.2f s, "
	            "store %.2f s%s; written %llu nodes and %llu nsec3, deleted %llu and %llu, "
	            "unchanged %llu and %llu; journal -%llu +%llu RRs%s",
	            z->apex_str, z->serial, (unsigned long long)fe_zone_rr_count(z), z->nnodes,
	            z->nn3, (double)z->parse_us / 1e6, (double)store_us / 1e6,
	            (z->flags & FE_ZONE_NSEC3)  ? ", NSEC3"
	            : (z->flags & FE_ZONE_NSEC) ? ", NSEC"
	                                        : "",
	            (unsigned long long)cs->nodes_written, (unsigned long long)cs->nsec3_written,
	            (unsigned long long)cs->nodes_deleted, (unsigned long long)cs->nsec3_deleted,
	            (unsigned long long)cs->nodes_unchanged,
	            (unsigned long long)cs->nsec3_unchanged, (unsigned long long)cs->rrs_removed,
	            (unsigned long long)cs->rrs_added,
	            cs->journal_dropped ? " (over the bound: not kept)" : "");
	if (z->dup_rrs || z->orphan_sigs || z->ttl_mismatch || z->stale_nsec3)
		fe_log_warn("zone %s: dropped %llu duplicate RRs, %llu RRSIGs without their "
		            "RRset, %llu NSEC3 of another chain; %llu RRs with a TTL differing "
		            "from their RRset's (first TTL used)",
		            z->apex_str, (unsigned long long)z->dup_rrs,
		            (unsigned long long)z->orphan_sigs, (unsigned long long)z->stale_nsec3,
		            (unsigned long long)z->ttl_mismatch);
	if (z->naptr_lint)
		fe_log_warn("zone %s: %llu NAPTR records fail the lint and are not served: %s",
		            z->apex_str, (unsigned long long)z->naptr_lint, z->naptr_report);
}

int fe_zone_commit(struct fe_zone *z, struct fe_store *st, struct fe_zone_error *err)
{
	struct fe_store_writer *w = NULL;
	struct blobbuf b = {0};
	uint64_t t0 = fe_time_mono_us();
	EVP_MD_CTX *md = NULL;
	int rc;

	rc = fe_store_writer_begin(st, z->apex, z->apex_len, &w);
	if (rc != FE_OK) {
		fe__zone_err(err, z->apex_str, 0, "store: %s", fe_strerror(rc));
		return rc;
	}
	struct fe_store_zone_rec cur;
	if (fe_store_writer_current(w, &cur) == FE_OK) {
		rc = fe__zone_replace_policy(z, &cur, err);
		if (rc != FE_OK)
			fe_store_writer_abort(w);
		if (rc == FE_EEXIST) {
			fe_log_info("zone %s serial %u already stored: nothing to do", z->apex_str,
			            z->serial);
			/* Remember the file, so that a restart skips it without parsing. */
			if (cur.src_size != z->src_size || cur.src_mtime_ns != z->src_mtime_ns)
				fe_store_zone_set_source(st, z->apex, z->apex_len, cur.version,
				                         z->src_size, z->src_mtime_ns);
		}
		if (rc != FE_OK)
			return rc;
		if (z->force && fe_serial_cmp(z->serial, cur.serial) != 1)
			fe_log_warn("zone %s: serial %u replaces the stored serial %u on purpose "
			            "(forced)",
			            z->apex_str, z->serial, cur.serial);
	}
	fe_log_info("zone %s serial %u: storing version (%zu nodes)", z->apex_str, z->serial,
	            z->nnodes);
	memset(&z->commit_stats, 0, sizeof(z->commit_stats));

	md = z->has_digest ? NULL : EVP_MD_CTX_new();
	if (!z->has_digest && (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)) {
		rc = FE_ENOMEM;
		fe__zone_err(err, z->apex_str, 0, "store: %s", fe_strerror(rc));
		goto out_abort;
	}
	for (size_t i = 0; i < z->nnodes; i++) {
		const struct fe__znode *n = &z->nodes[i];
		rc = node_blob(z, i, &b);
		if (rc == FE_OK)
			rc = fe_store_writer_put_node(w, fe__own_key(n->own), n->key_len, b.p,
			                              b.len);
		if (rc != FE_OK) {
			char s[1100];
			fe_wire_name_to_str(fe__own_name(n->own) + n->name_off, s, sizeof(s));
			fe__zone_err(err, z->apex_str, 0, "store %s: %s", s, fe_strerror(rc));
			goto out_abort;
		}
		if (md)
			digest_item(md, fe__own_key(n->own), n->key_len, &b);
	}
	for (size_t i = 0; i < z->nn3; i++) {
		const struct fe__zn3 *n = &z->n3[i];
		rc = n3_blob(z, i, &b);
		if (rc == FE_OK)
			rc = fe_store_writer_put_nsec3(w, n->hash, FE__NSEC3_HASH_LEN, b.p, b.len);
		if (rc != FE_OK) {
			fe__zone_err(err, z->apex_str, 0, "store NSEC3: %s", fe_strerror(rc));
			goto out_abort;
		}
		if (md)
			digest_item(md, n->hash, FE__NSEC3_HASH_LEN, &b);
	}
	if (md) {
		unsigned int dl = 0;
		z->has_digest = EVP_DigestFinal_ex(md, z->digest, &dl) == 1 && dl == 32;
		EVP_MD_CTX_free(md);
		md = NULL;
	}

	struct fe_store_zone_rec rec;
	memset(&rec, 0, sizeof(rec));
	rec.serial = z->serial;
	rec.flags = z->flags;
	rec.soa_minimum = z->soa_minimum;
	rec.soa_ttl = z->soa_ttl;
	rec.loaded_at_s = fe_time_wall_s();
	rec.sig_expire_s = z->sig_expire_s;
	rec.node_count = z->nnodes;
	rec.rr_count = fe_zone_rr_count(z);
	rec.naptr_lint_count = (uint32_t)FE_MIN(z->naptr_lint, (uint64_t)UINT32_MAX);
	snprintf(rec.naptr_lint, sizeof(rec.naptr_lint), "%s", z->naptr_report);
	if (z->flags & FE_ZONE_NSEC3) {
		rec.nsec3_alg = z->n3_alg;
		rec.nsec3_flags = z->n3_flags;
		rec.nsec3_iterations = z->n3_iter;
		rec.nsec3_salt_len = z->n3_salt_len;
		memcpy(rec.nsec3_salt, z->n3_salt, z->n3_salt_len);
	}
	rec.apex_len = (uint8_t)z->apex_len;
	memcpy(rec.apex, z->apex, z->apex_len);
	rec.apex_labels = z->apex_labels;
	if (z->has_digest)
		memcpy(rec.digest, z->digest, sizeof(rec.digest));
	rec.src_size = z->src_size;
	rec.src_mtime_ns = z->src_mtime_ns;
	free(b.p);
	rc = fe_store_writer_commit_stats(w, &rec, &z->commit_stats); /* frees w */
	if (rc != FE_OK) {
		fe__zone_err(err, z->apex_str, 0, "store commit: %s", fe_strerror(rc));
		return rc;
	}
	log_load(z, fe_time_mono_us() - t0);
	return FE_OK;

out_abort:
	EVP_MD_CTX_free(md);
	free(b.p);
	fe_store_writer_abort(w);
	return rc;
}

/* RFC 6672 §2.4: one DNAME RR per owner, and no names below it: a resolver rewrites every
 * name under a DNAME and never sees them, so data there would be served to nobody but a
 * client that trusts us blindly (Knot DNS refuses the zone: "child record exists under
 * DNAME"). Nodes are in canonical order, so a descendant of node @i, if any, is node @i + 1
 * (an empty non-terminal counts: it only exists above data). */
static int dname_problem(const struct fe_zone *z, size_t i, size_t dname, const struct fe__zrec *dn,
                         struct fe_zone_error *err)
{
	const struct fe__znode *n = &z->nodes[i];
	const char *file = dn->file < z->nfiles ? z->files[dn->file] : "";
	char s[1100], c[1100];

	fe_wire_name_to_str(fe__own_name(n->own) + n->name_off, s, sizeof(s));
	if (dname > 1) {
		fe__zone_err(err, file, dn->line, "more than one DNAME at %s", s);
		return FE_EVALIDATE;
	}
	if (i + 1 >= z->nnodes)
		return FE_OK;
	const struct fe__znode *next = &z->nodes[i + 1];
	if (next->key_len <= n->key_len ||
	    memcmp(fe__own_key(next->own), fe__own_key(n->own), n->key_len) != 0)
		return FE_OK;
	fe_wire_name_to_str(fe__own_name(next->own) + next->name_off, c, sizeof(c));
	fe__zone_err(err, file, dn->line,
	             "child record exists under DNAME: %s is below the DNAME at %s (RFC 6672 "
	             "§2.4: occluded)",
	             c, s);
	return FE_EVALIDATE;
}

/* Structural checks only (DNSSEC, NSEC/NSEC3 chains and ZONEMD: src/dnssec/). What is
 * checked here:
 *  - the apex has exactly one SOA and at least one NS (RFC 1035 §5.2, RFC 1034 §4.2.1);
 *  - CNAME stands alone: no other data at its owner except RRSIG and NSEC, and never at
 *    the apex (RFC 2181 §10.1, RFC 4035 §2.5, RFC 1912 §2.4);
 *  - a DNAME is alone of its type at its owner and has no names below it (RFC 6672 §2.4);
 *  - RRSIGs imply a DNSKEY RRset at the apex (RFC 4035 §2.1). */
int fe_zone_validate(struct fe_zone *z, struct fe_zone_error *err)
{
	for (size_t i = 0; i < z->nnodes; i++) {
		const struct fe__znode *n = &z->nodes[i];
		struct fe__zrec *const *r = z->recs + n->first;
		size_t soa = 0, ns = 0, cname = 0, other = 0, dname = 0;
		const struct fe__zrec *cn = NULL, *dn = NULL;
		for (size_t k = 0; k < n->count; k++) {
			switch (r[k]->type) {
			case FE_T_SOA:
				soa++;
				other++;
				break;
			case FE_T_NS:
				ns++;
				other++;
				break;
			case FE_T_CNAME:
				cname++;
				cn = r[k];
				break;
			case FE_T_DNAME:
				dname++;
				other++;
				dn = r[k];
				break;
			case FE_T_RRSIG:
			case FE_T_NSEC:
				break;
			default:
				other++;
				break;
			}
		}
		const char *file = n->count && r[0]->file < z->nfiles ? z->files[r[0]->file] : "";
		unsigned long line = n->count ? r[0]->line : 0;
		if (n->flags & FE_NODE_APEX) {
			if (soa != 1 || ns == 0) {
				fe__zone_err(err, file, line,
				             "apex %s needs one SOA and NS records", z->apex_str);
				return FE_EVALIDATE;
			}
			if (cname) {
				fe__zone_err(err, file, line, "CNAME at the apex %s", z->apex_str);
				return FE_EVALIDATE;
			}
		}
		if (cname && (cname > 1 || other) && !(n->flags & FE_NODE_OCCLUDED)) {
			char s[1100];
			file = cn->file < z->nfiles ? z->files[cn->file] : "";
			line = cn->line;
			fe_wire_name_to_str(fe__own_name(n->own) + n->name_off, s, sizeof(s));
			fe__zone_err(err, file, line, "CNAME at %s alongside other data", s);
			return FE_EVALIDATE;
		}
		if (dname && !(n->flags & FE_NODE_OCCLUDED) &&
		    dname_problem(z, i, dname, dn, err) != FE_OK)
			return FE_EVALIDATE;
	}
	if (z->has_rrsig && !(z->flags & FE_ZONE_SIGNED)) {
		fe__zone_err(err, z->nfiles ? z->files[0] : "", 0,
		             "RRSIG records but no DNSKEY at the apex %s", z->apex_str);
		return FE_EVALIDATE;
	}
	return FE_OK;
}

int fe_zone_load_file(const char *path, const struct fe_zone_opts *opts, struct fe_store *st,
                      struct fe_zone_error *err)
{
	struct fe_zone *z;
	int rc = fe_zone_parse_file(path, opts, &z, err);
	if (rc != FE_OK)
		return rc;
	rc = fe_zone_validate(z, err);
	if (rc == FE_OK)
		rc = fe_zone_commit(z, st, err);
	fe_zone_free(z);
	return rc;
}
