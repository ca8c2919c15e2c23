/* The key directory: generate, load (private files 0600 only), save state, DS and DNSKEY
 * presentation. */
#include "sign_int.h"

#include "fedenum/dnssec.h"
#include "fedenum/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *fe_sign_role_name(enum fe_sign_role r)
{
	return r == FE_SIGN_KSK ? "ksk" : "zsk";
}

const char *fe_sign_state_name(enum fe_sign_state s)
{
	static const char *const n[] = {"published", "active", "retired", "removed"};
	return (unsigned)s < 4 ? n[s] : "?";
}

const char *fe_sign_alg_name(uint8_t alg)
{
	return alg == FE_SIGN_ALG_P256      ? "ECDSAP256SHA256"
	       : alg == FE_SIGN_ALG_ED25519 ? "ED25519"
	                                    : "unknown";
}

/* The DNSKEY RDATA of @pkey with @flags and @alg into @k. */
static int make_dnskey(struct fe_sign_key *k, EVP_PKEY *pkey)
{
	uint16_t flags = k->role == FE_SIGN_KSK ? 257 : 256;
	fe_put_be16(k->dnskey, flags);
	k->dnskey[2] = 3;
	k->dnskey[3] = k->alg;
	if (k->alg == FE_SIGN_ALG_P256) {
		BIGNUM *x = NULL, *y = NULL;
		int ok = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) &&
		         EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) &&
		         BN_bn2binpad(x, k->dnskey + 4, 32) == 32 &&
		         BN_bn2binpad(y, k->dnskey + 36, 32) == 32;
		BN_free(x);
		BN_free(y);
		if (!ok)
			return FE_EFORMAT;
		k->dnskey_len = 68;
	} else {
		size_t len = 32;
		if (EVP_PKEY_get_raw_public_key(pkey, k->dnskey + 4, &len) != 1 || len != 32)
			return FE_EFORMAT;
		k->dnskey_len = 36;
	}
	k->tag = fe_dnssec_key_tag(k->dnskey, k->dnskey_len);
	return FE_OK;
}

static int write_state(const char *dir, const char *apex, const struct fe_sign_key *k, char *err,
                       size_t errcap)
{
	char path[4096], tmp[4200];
	snprintf(path, sizeof(path), "%s/%s.key", dir, k->base);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (f == NULL)
		return fe__sign_err(err, errcap, FE_EIO, "%s: %s", tmp, strerror(errno));
	fprintf(f,
	        "; fedenum signing key (the private key is %s.private)\n"
	        "apex %s\nrole %s\nalgorithm %u\ntag %u\nstate %s\ncreated %lld\n",
	        k->base, apex, fe_sign_role_name(k->role), k->alg, k->tag,
	        fe_sign_state_name(k->state), (long long)k->created);
	bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return fe__sign_err(err, errcap, FE_EIO, "%s: %s", path, strerror(errno));
	}
	return FE_OK;
}

int fe_sign_key_save(const char *dir, const struct fe_sign_keyset *ks, size_t i, char *err,
                     size_t errcap)
{
	return write_state(dir, ks->apex, &ks->keys[i], err, errcap);
}

static int keyset_add(struct fe_sign_keyset *ks, const struct fe_sign_key *k)
{
	struct fe_sign_key *nk = realloc(ks->keys, (ks->n + 1) * sizeof(*nk));
	if (nk == NULL)
		return FE_ENOMEM;
	ks->keys = nk;
	ks->keys[ks->n++] = *k;
	return FE_OK;
}

int fe_sign_key_generate(const char *dir, struct fe_sign_keyset *ks, enum fe_sign_role role,
                         uint8_t alg, enum fe_sign_state state, char *err, size_t errcap)
{
	if (alg != FE_SIGN_ALG_P256 && alg != FE_SIGN_ALG_ED25519)
		return fe__sign_err(err, errcap, FE_ENOTSUP,
		                    "algorithm %u: only 13 (ECDSAP256SHA256) and 15 (ED25519)",
		                    alg);
	EVP_PKEY *pkey = alg == FE_SIGN_ALG_P256 ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
	                                         : EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (pkey == NULL)
		return fe__sign_err(err, errcap, FE_EIO, "key generation failed (OpenSSL)");
	/* keys of a zone are ordered by creation: a new key is always the newest, even when
	 * two are made within the same second (a rollover's step 2 removes the older KSK) */
	int64_t created = fe_time_wall_s();
	for (size_t i = 0; i < ks->n; i++)
		if (ks->keys[i].created >= created)
			created = ks->keys[i].created + 1;
	struct fe_sign_key k = {.role = role, .state = state, .alg = alg, .created = created};
	if (make_dnskey(&k, pkey) != FE_OK) {
		EVP_PKEY_free(pkey);
		return fe__sign_err(err, errcap, FE_EIO, "cannot read the new public key");
	}
	snprintf(k.base, sizeof(k.base), "K%s+%03u+%05u", ks->apex, alg, k.tag);
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s.private", dir, k.base);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		int e = errno;
		EVP_PKEY_free(pkey);
		return fe__sign_err(err, errcap, e == EEXIST ? FE_EEXIST : FE_EIO, "%s: %s", path,
		                    strerror(e));
	}
	FILE *f = fdopen(fd, "w");
	bool ok = f && PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) == 1 &&
	          fflush(f) == 0 && fsync(fd) == 0;
	if (f)
		ok = (fclose(f) == 0) && ok;
	else
		close(fd);
	if (!ok) {
		unlink(path);
		EVP_PKEY_free(pkey);
		return fe__sign_err(err, errcap, FE_EIO, "%s: cannot write the private key", path);
	}
	int rc = write_state(dir, ks->apex, &k, err, errcap);
	if (rc == FE_OK) {
		k.pkey = pkey;
		rc = keyset_add(ks, &k);
	}
	if (rc != FE_OK) {
		unlink(path);
		EVP_PKEY_free(pkey);
	}
	return rc;
}

/* Read "word value" lines of a state file into @k. */
static int read_state(const char *path, struct fe_sign_key *k, char *err, size_t errcap)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return fe__sign_err(err, errcap, FE_EIO, "%s: %s", path, strerror(errno));
	char line[512];
	unsigned seen = 0, lineno = 0;
	int rc = FE_OK;
	while (rc == FE_OK && fgets(line, sizeof(line), f)) {
		lineno++;
		char w[32], v[300];
		if (line[0] == ';' || line[0] == '\n')
			continue;
		if (sscanf(line, "%31s %299s", w, v) != 2) {
			rc = fe__sign_err(err, errcap, FE_EFORMAT, "%s:%u: expected WORD VALUE",
			                  path, lineno);
			break;
		}
		char *end;
		long long n = strtoll(v, &end, 10);
		bool num = *end == '\0';
		if (strcmp(w, "role") == 0 && (strcmp(v, "ksk") == 0 || strcmp(v, "zsk") == 0)) {
			k->role = v[0] == 'k' ? FE_SIGN_KSK : FE_SIGN_ZSK;
			seen |= 1;
		} else if (strcmp(w, "algorithm") == 0 && num &&
		           (n == FE_SIGN_ALG_P256 || n == FE_SIGN_ALG_ED25519)) {
			k->alg = (uint8_t)n;
			seen |= 2;
		} else if (strcmp(w, "tag") == 0 && num && n >= 0 && n <= 65535) {
			k->tag = (uint16_t)n;
			seen |= 4;
		} else if (strcmp(w, "state") == 0) {
			int s = -1;
			for (int i = 0; i < 4; i++)
				if (strcmp(v, fe_sign_state_name((enum fe_sign_state)i)) == 0)
					s = i;
			if (s < 0)
				rc = fe__sign_err(err, errcap, FE_EFORMAT,
				                  "%s:%u: unknown state %s", path, lineno, v);
			k->state = (enum fe_sign_state)s;
			seen |= 8;
		} else if (strcmp(w, "created") == 0 && num) {
			k->created = n;
		} else if (strcmp(w, "apex") != 0) {
			rc = fe__sign_err(err, errcap, FE_EFORMAT, "%s:%u: bad line '%s %s'", path,
			                  lineno, w, v);
		}
	}
	fclose(f);
	if (rc == FE_OK && seen != 15)
		rc = fe__sign_err(err, errcap, FE_EFORMAT,
		                  "%s: role, algorithm, tag and state are all required", path);
	return rc;
}

/* Open the private key file, refusing it unless it is a regular file of ours, mode 0600 or
 * stricter. */
static int read_private(const char *path, EVP_PKEY **out, char *err, size_t errcap)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fe__sign_err(err, errcap, errno == ELOOP ? FE_EPERM : FE_EIO, "%s: %s", path,
		                    strerror(errno));
	struct stat sb;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return fe__sign_err(err, errcap, FE_EPERM, "%s: not a regular file", path);
	}
	if (sb.st_mode & 077) {
		close(fd);
		return fe__sign_err(err, errcap, FE_EPERM,
		                    "%s: private key has mode %04o: refused (must be 0600: chmod "
		                    "600 it)",
		                    path, (unsigned)(sb.st_mode & 07777));
	}
	if (sb.st_uid != geteuid()) {
		close(fd);
		return fe__sign_err(
		        err, errcap, FE_EPERM,
		        "%s: private key owned by uid %u, not by this user (%u): refused", path,
		        (unsigned)sb.st_uid, (unsigned)geteuid());
	}
	FILE *f = fdopen(fd, "r");
	if (f == NULL) {
		close(fd);
		return fe__sign_err(err, errcap, FE_EIO, "%s: %s", path, strerror(errno));
	}
	*out = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (*out == NULL)
		return fe__sign_err(err, errcap, FE_EFORMAT, "%s: not a PEM private key", path);
	return FE_OK;
}

static int cmp_key(const void *a, const void *b)
{
	const struct fe_sign_key *x = a, *y = b;
	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return (int)x->tag - (int)y->tag;
}

int fe_sign_keys_load(const char *dir, const char *apex, struct fe_sign_keyset *ks, char *err,
                      size_t errcap)
{
	memset(ks, 0, sizeof(*ks));
	if (fe__sign_apex_norm(apex, ks->apex, sizeof(ks->apex)) != FE_OK)
		return fe__sign_err(err, errcap, FE_EFORMAT, "%s: not a zone name", apex);
	DIR *d = opendir(dir);
	if (d == NULL)
		return fe__sign_err(err, errcap, FE_EIO, "key directory %s: %s", dir,
		                    strerror(errno));
	char prefix[300];
	size_t plen = (size_t)snprintf(prefix, sizeof(prefix), "K%s+", ks->apex);
	struct dirent *de;
	int rc = FE_OK;
	while (rc == FE_OK && (de = readdir(d)) != NULL) {
		size_t nl = strlen(de->d_name);
		if (strncmp(de->d_name, prefix, plen) != 0 || nl < 4 ||
		    strcmp(de->d_name + nl - 4, ".key") != 0 || nl - 4 >= sizeof(ks->keys->base))
			continue;
		struct fe_sign_key k = {0};
		memcpy(k.base, de->d_name, nl - 4);
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((rc = read_state(path, &k, err, errcap)) != FE_OK)
			break;
		snprintf(path, sizeof(path), "%s/%s.private", dir, k.base);
		EVP_PKEY *pkey = NULL;
		if ((rc = read_private(path, &pkey, err, errcap)) != FE_OK)
			break;
		uint16_t tag = k.tag;
		if (make_dnskey(&k, pkey) != FE_OK || k.tag != tag) {
			EVP_PKEY_free(pkey);
			rc = fe__sign_err(
			        err, errcap, FE_EFORMAT,
			        "%s: the private key does not match tag %u and algorithm %u", path,
			        tag, k.alg);
			break;
		}
		k.pkey = pkey;
		if ((rc = keyset_add(ks, &k)) != FE_OK)
			EVP_PKEY_free(pkey);
	}
	closedir(d);
	if (rc != FE_OK)
		fe_sign_keyset_free(ks);
	else if (ks->n > 1)
		qsort(ks->keys, ks->n, sizeof(*ks->keys), cmp_key);
	return rc;
}

void fe_sign_keyset_free(struct fe_sign_keyset *ks)
{
	for (size_t i = 0; i < ks->n; i++)
		EVP_PKEY_free(ks->keys[i].pkey);
	free(ks->keys);
	memset(ks, 0, sizeof(*ks));
}

int fe_sign_key_ds(const char *apex, const struct fe_sign_key *k, char *out, size_t cap)
{
	uint8_t owner[256], ds[64];
	int ol = fe__sign_name_wire(apex, owner);
	if (ol < 0)
		return ol;
	int dl = fe_dnssec_ds_from_dnskey(owner, (size_t)ol, k->dnskey, k->dnskey_len, 2, ds);
	if (dl < 4)
		return dl < 0 ? dl : FE_EFORMAT;
	char norm[260];
	fe__sign_apex_norm(apex, norm, sizeof(norm));
	int n = snprintf(out, cap, "%s IN DS %u %u 2 ", norm, k->tag, k->alg);
	for (int i = 4; i < dl && n > 0 && (size_t)n + 3 < cap; i++)
		n += snprintf(out + n, cap - (size_t)n, "%02X", ds[i]);
	return FE_OK;
}

int fe_sign_key_dnskey(const char *apex, const struct fe_sign_key *k, uint32_t ttl, char *out,
                       size_t cap)
{
	char b64[128], norm[260];
	if (fe__sign_apex_norm(apex, norm, sizeof(norm)) != FE_OK)
		return FE_EFORMAT;
	fe__sign_b64(k->dnskey + 4, k->dnskey_len - 4u, b64);
	snprintf(out, cap, "%s %u IN DNSKEY %u 3 %u %s", norm, ttl, fe_get_be16(k->dnskey), k->alg,
	         b64);
	return FE_OK;
}
