/* TSIG keys, the keyring, and key files in the form tsig-keygen prints. */
#include "tsig_int.h"

#include <ctype.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* RFC 8945 §6 table 3; the names are compared as DNS names (§9: case-insensitive). */
static const struct {
	enum fe_tsig_alg alg;
	const char *name;
	const char *digest;
	size_t len;
	uint8_t wire[13];
} algs[] = {
        {FE_TSIG_HMAC_SHA256, "hmac-sha256", "SHA256", 32, "\013hmac-sha256"},
        {FE_TSIG_HMAC_SHA384, "hmac-sha384", "SHA384", 48, "\013hmac-sha384"},
        {FE_TSIG_HMAC_SHA512, "hmac-sha512", "SHA512", 64, "\013hmac-sha512"},
};

static int alg_index(enum fe_tsig_alg alg)
{
	for (size_t i = 0; i < FE_ARRAY_LEN(algs); i++)
		if (algs[i].alg == alg)
			return (int)i;
	return -1;
}

const char *fe_tsig_alg_name(enum fe_tsig_alg alg)
{
	int i = alg_index(alg);
	return i < 0 ? NULL : algs[i].name;
}

size_t fe_tsig_alg_digest_len(enum fe_tsig_alg alg)
{
	int i = alg_index(alg);
	return i < 0 ? 0 : algs[i].len;
}

int fe_tsig_alg_from_name(const char *name, enum fe_tsig_alg *out)
{
	size_t n = strlen(name);
	if (n > 0 && name[n - 1] == '.')
		n--;
	for (size_t i = 0; i < FE_ARRAY_LEN(algs); i++) {
		if (strlen(algs[i].name) == n && strncasecmp(algs[i].name, name, n) == 0) {
			*out = algs[i].alg;
			return FE_OK;
		}
	}
	return FE_ENOTSUP;
}

const uint8_t *fe__tsig_alg_wire(enum fe_tsig_alg alg, size_t *len)
{
	int i = alg_index(alg);
	if (i < 0)
		return NULL;
	*len = 13; /* 11 + length octet + root */
	return algs[i].wire;
}

enum fe_tsig_alg fe__tsig_alg_from_wire(const uint8_t *name, size_t len)
{
	for (size_t i = 0; i < FE_ARRAY_LEN(algs); i++)
		if (len == 13 && memcmp(algs[i].wire, name, 13) == 0)
			return algs[i].alg;
	return 0;
}

/* Presentation name (no escapes) to lowercased wire form. Returns the length or FE_EINVAL. */
static int name_to_wire(const char *s, uint8_t *out)
{
	size_t o = 0, n = strlen(s);
	if (n == 0)
		return FE_EINVAL;
	if (n == 1 && s[0] == '.') {
		out[0] = 0;
		return 1;
	}
	if (s[n - 1] == '.')
		n--;
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.') {
			if (s[i] == '\\' || (unsigned char)s[i] <= ' ' || s[i] == '"')
				return FE_EINVAL;
			continue;
		}
		size_t l = i - start;
		if (l == 0 || l > FE_WIRE_LABEL_MAX || o + 1 + l + 1 > FE_WIRE_NAME_MAX)
			return FE_EINVAL;
		out[o++] = (uint8_t)l;
		for (size_t j = start; j < i; j++)
			out[o++] = (uint8_t)tolower((unsigned char)s[j]);
		start = i + 1;
	}
	out[o++] = 0;
	return (int)o;
}

int fe_tsig_key_create(const char *name, enum fe_tsig_alg alg, const uint8_t *secret,
                       size_t secret_len, struct fe_tsig_key **out)
{
	int rc = FE_OK;
	struct fe_tsig_key *k = NULL;
	EVP_MAC *mac = NULL;

	*out = NULL;
	int ai = alg_index(alg);
	if (ai < 0)
		return FE_ENOTSUP;
	if (secret_len == 0 || secret_len > FE_TSIG_SECRET_MAX)
		return FE_EINVAL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return FE_ENOMEM;
	int nl = name_to_wire(name, k->name);
	if (nl < 0) {
		rc = FE_EINVAL;
		goto out_key;
	}
	k->name_len = (uint8_t)nl;
	k->alg = alg;
	k->digest_len = algs[ai].len;
	k->min_mac_len = k->digest_len;
	k->secret_len = secret_len;
	memcpy(k->secret, secret, secret_len);

	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!mac) {
		rc = FE_EIO;
		goto out_key;
	}
	k->tmpl = EVP_MAC_CTX_new(mac);
	if (!k->tmpl) {
		rc = FE_ENOMEM;
		goto out_key;
	}
	OSSL_PARAM params[] = {
	        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)algs[ai].digest, 0),
	        OSSL_PARAM_construct_end()};
	if (!EVP_MAC_init(k->tmpl, k->secret, k->secret_len, params)) {
		rc = FE_EIO;
		goto out_key;
	}
	EVP_MAC_free(mac);
	*out = k;
	return FE_OK;

out_key:
	EVP_MAC_free(mac);
	fe_tsig_key_destroy(k);
	return rc;
}

void fe_tsig_key_destroy(struct fe_tsig_key *key)
{
	if (!key)
		return;
	EVP_MAC_CTX_free(key->tmpl);
	OPENSSL_cleanse(key->secret, sizeof(key->secret));
	free(key);
}

const uint8_t *fe_tsig_key_name(const struct fe_tsig_key *key)
{
	return key->name;
}

enum fe_tsig_alg fe_tsig_key_alg(const struct fe_tsig_key *key)
{
	return key->alg;
}

int fe_tsig_key_set_min_mac_len(struct fe_tsig_key *key, size_t len)
{
	if (len < fe__tsig_mac_floor(key->digest_len) || len > key->digest_len)
		return FE_EINVAL;
	key->min_mac_len = len;
	return FE_OK;
}

size_t fe_tsig_key_min_mac_len(const struct fe_tsig_key *key)
{
	return key->min_mac_len;
}

EVP_MAC_CTX *fe__tsig_mac_new(const struct fe_tsig_key *key)
{
	return EVP_MAC_CTX_dup(key->tmpl);
}

int fe__tsig_mac_prefix(EVP_MAC_CTX *ctx, const uint8_t *mac, size_t len)
{
	uint8_t l[2] = {(uint8_t)(len >> 8), (uint8_t)len};
	if (!EVP_MAC_update(ctx, l, 2) || (len && !EVP_MAC_update(ctx, mac, len)))
		return FE_EIO;
	return FE_OK;
}

/* ---- base64 (RFC 4648 §4), strict: padding required, no characters outside the alphabet
 * apart from whitespace. Returns the decoded length or -1. */
static int b64_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int b64_decode(const char *s, uint8_t *out, size_t cap)
{
	uint32_t acc = 0;
	int nbits = 0, pad = 0, nchar = 0;
	size_t o = 0;

	for (; *s; s++) {
		if (isspace((unsigned char)*s))
			continue;
		if (*s == '=') {
			pad++;
			nchar++;
			continue;
		}
		int v = b64_val((unsigned char)*s);
		if (v < 0 || pad)
			return -1;
		nchar++;
		acc = (acc << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			if (o >= cap)
				return -1;
			out[o++] = (uint8_t)(acc >> nbits);
		}
	}
	/* whole quanta, at most two '=', and the bits left over by the padding are zero */
	if (nchar % 4 != 0 || pad > 2 || (acc & ((1u << nbits) - 1)) != 0)
		return -1;
	if ((pad == 1 && nbits != 2) || (pad == 2 && nbits != 4) || (pad == 0 && nbits != 0))
		return -1;
	return (int)o;
}

int fe_tsig_key_from_string(const char *spec, struct fe_tsig_key **out)
{
	char alg[32], name[FE_WIRE_NAME_MAX * 4];
	uint8_t secret[FE_TSIG_SECRET_MAX];
	enum fe_tsig_alg a;

	*out = NULL;
	const char *c1 = strchr(spec, ':');
	const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c1 || !c2 || (size_t)(c1 - spec) >= sizeof(alg) ||
	    (size_t)(c2 - c1 - 1) >= sizeof(name))
		return FE_ESYNTAX;
	memcpy(alg, spec, (size_t)(c1 - spec));
	alg[c1 - spec] = '\0';
	memcpy(name, c1 + 1, (size_t)(c2 - c1 - 1));
	name[c2 - c1 - 1] = '\0';
	if (fe_tsig_alg_from_name(alg, &a) != FE_OK)
		return FE_ENOTSUP;
	int n = b64_decode(c2 + 1, secret, sizeof(secret));
	if (n <= 0)
		return FE_ESYNTAX;
	int rc = fe_tsig_key_create(name, a, secret, (size_t)n, out);
	OPENSSL_cleanse(secret, sizeof(secret));
	return rc;
}

/* ---- keyring ----------------------------------------------------------------------- */

struct fe_tsig_keyring {
	size_t n, cap;
	struct fe_tsig_key **keys;
};

int fe_tsig_keyring_create(struct fe_tsig_keyring **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? FE_OK : FE_ENOMEM;
}

void fe_tsig_keyring_destroy(struct fe_tsig_keyring *kr)
{
	if (!kr)
		return;
	for (size_t i = 0; i < kr->n; i++)
		fe_tsig_key_destroy(kr->keys[i]);
	free(kr->keys);
	free(kr);
}

static const struct fe_tsig_key *find_name(const struct fe_tsig_keyring *kr, const uint8_t *name)
{
	for (size_t i = 0; i < kr->n; i++)
		if (fe_wire_name_eq(kr->keys[i]->name, name))
			return kr->keys[i];
	return NULL;
}

int fe_tsig_keyring_add(struct fe_tsig_keyring *kr, struct fe_tsig_key *key)
{
	if (find_name(kr, key->name))
		return FE_EEXIST;
	if (kr->n == kr->cap) {
		size_t nc = kr->cap ? kr->cap * 2 : 8;
		struct fe_tsig_key **nk = realloc(kr->keys, nc * sizeof(*nk));
		if (!nk)
			return FE_ENOMEM;
		kr->keys = nk;
		kr->cap = nc;
	}
	kr->keys[kr->n++] = key;
	return FE_OK;
}

const struct fe_tsig_key *fe_tsig_keyring_find(const struct fe_tsig_keyring *kr,
                                               const uint8_t *name, enum fe_tsig_alg alg)
{
	const struct fe_tsig_key *k = find_name(kr, name);
	return k && k->alg == alg ? k : NULL;
}

size_t fe_tsig_keyring_count(const struct fe_tsig_keyring *kr)
{
	return kr->n;
}

const struct fe_tsig_key *fe_tsig_keyring_get(const struct fe_tsig_keyring *kr, size_t i)
{
	return i < kr->n ? kr->keys[i] : NULL;
}

/* ---- key files --------------------------------------------------------------------- */

enum tok_kind { T_EOF, T_WORD, T_STRING, T_LBRACE, T_RBRACE, T_SEMI, T_ERR };

struct lexer {
	const char *p, *end;
	unsigned line;
	enum tok_kind kind;
	char text[1024];
	unsigned tok_line;
};

/* Next token into lx->kind / lx->text; comments and whitespace skipped. */
static void lex(struct lexer *lx)
{
	for (;;) {
		while (lx->p < lx->end && isspace((unsigned char)*lx->p)) {
			if (*lx->p == '\n')
				lx->line++;
			lx->p++;
		}
		if (lx->p < lx->end &&
		    (*lx->p == '#' || (*lx->p == '/' && lx->p + 1 < lx->end && lx->p[1] == '/'))) {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
			continue;
		}
		if (lx->p + 1 < lx->end && lx->p[0] == '/' && lx->p[1] == '*') {
			lx->p += 2;
			while (lx->p + 1 < lx->end && !(lx->p[0] == '*' && lx->p[1] == '/')) {
				if (*lx->p == '\n')
					lx->line++;
				lx->p++;
			}
			lx->p = lx->p + 1 < lx->end ? lx->p + 2 : lx->end;
			continue;
		}
		break;
	}
	lx->tok_line = lx->line;
	lx->text[0] = '\0';
	if (lx->p >= lx->end) {
		lx->kind = T_EOF;
		return;
	}
	char c = *lx->p;
	if (c == '{' || c == '}' || c == ';') {
		lx->kind = c == '{' ? T_LBRACE : c == '}' ? T_RBRACE : T_SEMI;
		lx->text[0] = c;
		lx->text[1] = '\0';
		lx->p++;
		return;
	}
	size_t n = 0;
	if (c == '"') {
		lx->p++;
		while (lx->p < lx->end && *lx->p != '"' && *lx->p != '\n') {
			if (n + 1 >= sizeof(lx->text)) {
				lx->kind = T_ERR;
				return;
			}
			lx->text[n++] = *lx->p++;
		}
		if (lx->p >= lx->end || *lx->p != '"') {
			lx->kind = T_ERR;
			return;
		}
		lx->p++;
		lx->text[n] = '\0';
		lx->kind = T_STRING;
		return;
	}
	while (lx->p < lx->end && !isspace((unsigned char)*lx->p) && !strchr("{};\"", *lx->p)) {
		if (n + 1 >= sizeof(lx->text)) {
			lx->kind = T_ERR;
			return;
		}
		lx->text[n++] = *lx->p++;
	}
	lx->text[n] = '\0';
	lx->kind = T_WORD;
}

#define FAIL(code, ...)                                                                  \
	do {                                                                             \
		rc = (code);                                                             \
		if (err)                                                                 \
			snprintf(err, err_cap, "%s:%u: ", path, lx.tok_line);            \
		if (err && strlen(err) < err_cap)                                        \
			snprintf(err + strlen(err), err_cap - strlen(err), __VA_ARGS__); \
		goto out_keys;                                                           \
	} while (0)

int fe_tsig_keyring_load_file(struct fe_tsig_keyring *kr, const char *path, char *err,
                              size_t err_cap)
{
	char *buf = NULL;
	size_t len = 0;
	struct fe_tsig_keyring *tmp = NULL;
	uint8_t secret[FE_TSIG_SECRET_MAX];
	struct lexer lx = {0};
	int rc;

	if (err && err_cap)
		err[0] = '\0';
	rc = fe_file_read_all(path, 1u << 20, &buf, &len);
	if (rc != FE_OK) {
		if (err)
			snprintf(err, err_cap, "%s: %s", path, fe_strerror(rc));
		return rc;
	}
	rc = fe_tsig_keyring_create(&tmp);
	if (rc != FE_OK)
		goto out_buf;
	lx.p = buf;
	lx.end = buf + len;
	lx.line = 1;

	for (lex(&lx); lx.kind != T_EOF; lex(&lx)) {
		char name[1024];
		enum fe_tsig_alg alg = 0;
		int slen = -1;
		unsigned key_line = lx.tok_line;

		if (lx.kind == T_ERR)
			FAIL(FE_ESYNTAX, "unterminated or overlong string");
		if (lx.kind != T_WORD || strcmp(lx.text, "key") != 0)
			FAIL(FE_ESYNTAX, "expected 'key', got '%s'", lx.text);
		lex(&lx);
		if (lx.kind != T_STRING && lx.kind != T_WORD)
			FAIL(FE_ESYNTAX, "expected a key name after 'key'");
		snprintf(name, sizeof(name), "%s", lx.text);
		lex(&lx);
		if (lx.kind != T_LBRACE)
			FAIL(FE_ESYNTAX, "expected '{' after key \"%s\"", name);
		for (lex(&lx); lx.kind != T_RBRACE; lex(&lx)) {
			if (lx.kind != T_WORD)
				FAIL(FE_ESYNTAX, "expected 'algorithm', 'secret' or '}'");
			if (strcmp(lx.text, "algorithm") == 0) {
				lex(&lx);
				if ((lx.kind != T_WORD && lx.kind != T_STRING) ||
				    fe_tsig_alg_from_name(lx.text, &alg) != FE_OK)
					FAIL(FE_ENOTSUP,
					     "algorithm '%s' not supported (hmac-sha256, "
					     "hmac-sha384, hmac-sha512)",
					     lx.text);
			} else if (strcmp(lx.text, "secret") == 0) {
				lex(&lx);
				if (lx.kind != T_STRING && lx.kind != T_WORD)
					FAIL(FE_ESYNTAX, "expected the secret after 'secret'");
				slen = b64_decode(lx.text, secret, sizeof(secret));
				OPENSSL_cleanse(lx.text, sizeof(lx.text));
				if (slen <= 0)
					FAIL(FE_ESYNTAX, "secret is not valid base64");
			} else {
				FAIL(FE_ESYNTAX, "unknown key option '%s'", lx.text);
			}
			lex(&lx);
			if (lx.kind != T_SEMI)
				FAIL(FE_ESYNTAX, "expected ';'");
		}
		lex(&lx);
		if (lx.kind != T_SEMI)
			FAIL(FE_ESYNTAX, "expected ';' after '}'");
		lx.tok_line = key_line;
		if (!alg)
			FAIL(FE_ESYNTAX, "key \"%s\" has no algorithm", name);
		if (slen <= 0)
			FAIL(FE_ESYNTAX, "key \"%s\" has no secret", name);
		struct fe_tsig_key *k;
		rc = fe_tsig_key_create(name, alg, secret, (size_t)slen, &k);
		if (rc == FE_EINVAL)
			FAIL(FE_ESYNTAX, "bad key name \"%s\"", name);
		if (rc != FE_OK)
			FAIL(rc, "key \"%s\": %s", name, fe_strerror(rc));
		if (find_name(kr, k->name) || find_name(tmp, k->name)) {
			fe_tsig_key_destroy(k);
			FAIL(FE_EEXIST, "duplicate key \"%s\"", name);
		}
		rc = fe_tsig_keyring_add(tmp, k);
		if (rc != FE_OK) {
			fe_tsig_key_destroy(k);
			FAIL(rc, "%s", fe_strerror(rc));
		}
	}
	/* all parsed: reserve, then move the keys over (nothing can fail after that) */
	if (kr->cap < kr->n + tmp->n) {
		size_t nc = kr->n + tmp->n;
		struct fe_tsig_key **nk = realloc(kr->keys, nc * sizeof(*nk));
		if (!nk) {
			rc = FE_ENOMEM;
			goto out_keys;
		}
		kr->keys = nk;
		kr->cap = nc;
	}
	for (size_t i = 0; i < tmp->n; i++)
		kr->keys[kr->n++] = tmp->keys[i];
	tmp->n = 0;
	rc = FE_OK;

out_keys:
	OPENSSL_cleanse(secret, sizeof(secret));
	fe_tsig_keyring_destroy(tmp);
out_buf:
	if (buf) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	return rc;
}
