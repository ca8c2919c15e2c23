/* fedenumctl key generate|list|ds|rollover: the member's signing keys in the key directory
 * (signing.key-dir or --key-dir), offline; the node signs with them at its next signing
 * (zone import, zone sign: docs/control.md "Keys and signing").
 *
 * Exit status: 0 done, 1 refused (keys already there for generate, none for the others, a
 * key file refused, e.g. a private key not 0600), 2 usage, 3 the key directory cannot be
 * read or written. */
#include "ctl_int.h"
#include "fedenum/conf.h"
#include "fedenum/sign.h"
#include "fedenum/util.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_DIR = 3 };

static const char USAGE[] =
        "usage: fedenumctl key generate [--algorithm ecdsap256sha256|ed25519] APEX\n"
        "       fedenumctl key list APEX\n"
        "       fedenumctl key ds APEX\n"
        "       fedenumctl key rollover APEX zsk|ksk\n"
        "         each with [--key-dir DIR | -c FILE] [--json]\n"
        "\n"
        "The member's signing keys of zone APEX in the key directory (--key-dir, else\n"
        "signing.key-dir of -c FILE). Private keys are written mode 0600; a private key with\n"
        "any group or other permission is refused.\n"
        "  generate  a KSK and a ZSK (ECDSA P-256 unless --algorithm ed25519), both active;\n"
        "            prints the DS record to hand to the registry. Refused when APEX has keys\n"
        "  list      every key: tag, role, algorithm, state, created\n"
        "  ds        the DS records (SHA-256) of the KSKs in use, for the registry\n"
        "  rollover  one step of a rollover, run again for the next:\n"
        "            zsk (pre-publication, RFC 6781 §4.1.1.1): 1. a new ZSK published;\n"
        "              2. after the DNSKEY TTL: it signs, the old one is retired;\n"
        "              3. after the old signatures' TTL: the old one is removed\n"
        "            ksk (double signature, RFC 6781 §4.1.2): 1. a new KSK signs the DNSKEY\n"
        "              RRset beside the old one, its DS is printed for the registry;\n"
        "              2. once the registry serves only the new DS: the old KSK is removed\n"
        "The node signs with the new state at its next signing (fedenumctl zone sign APEX).\n"
        "Run these as fedenumd's user: the node refuses private keys owned by another user.\n"
        "  --json      print the result as JSON\n"
        "Exit status: 0 done, 1 refused (keys exist / no keys / a key file refused), 2 usage,\n"
        "3 the key directory cannot be read or written.\n";

static json_t *key_json(const struct fe_sign_keyset *ks, const struct fe_sign_key *k)
{
	char dnskey[400], ds[400] = "";
	fe_sign_key_dnskey(ks->apex, k, 3600, dnskey, sizeof(dnskey));
	if (k->role == FE_SIGN_KSK)
		fe_sign_key_ds(ks->apex, k, ds, sizeof(ds));
	char when[32];
	return json_pack("{s:i, s:s, s:i, s:s, s:s, s:s, s:s, s:s?}", "tag", (int)k->tag, "role",
	                 fe_sign_role_name(k->role), "algorithm", (int)k->alg, "algorithm_name",
	                 fe_sign_alg_name(k->alg), "state", fe_sign_state_name(k->state), "created",
	                 fe_time_str(k->created, when, sizeof(when)), "dnskey", dnskey, "ds",
	                 k->role == FE_SIGN_KSK ? ds : NULL);
}

static json_t *keys_json(const struct fe_sign_keyset *ks)
{
	json_t *a = json_array();
	for (size_t i = 0; i < ks->n; i++)
		json_array_append_new(a, key_json(ks, &ks->keys[i]));
	return a;
}

/* DS of the KSKs that sign (or will: published). */
static json_t *ds_json(const struct fe_sign_keyset *ks)
{
	json_t *a = json_array();
	for (size_t i = 0; i < ks->n; i++) {
		const struct fe_sign_key *k = &ks->keys[i];
		char ds[400];
		if (k->role == FE_SIGN_KSK && k->state != FE_SIGN_REMOVED &&
		    fe_sign_key_ds(ks->apex, k, ds, sizeof(ds)) == FE_OK)
			json_array_append_new(a, json_string(ds));
	}
	return a;
}

static void print_keys(const struct fe_sign_keyset *ks)
{
	printf("%-6s %-4s %-16s %-10s %s\n", "tag", "role", "algorithm", "state", "created");
	for (size_t i = 0; i < ks->n; i++) {
		const struct fe_sign_key *k = &ks->keys[i];
		char when[32];
		printf("%-6u %-4s %-16s %-10s %s\n", k->tag, fe_sign_role_name(k->role),
		       fe_sign_alg_name(k->alg), fe_sign_state_name(k->state),
		       fe_time_str(k->created, when, sizeof(when)));
	}
}

static void emit(json_t *o, bool as_json, const char *text)
{
	if (as_json) {
		char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (s)
			printf("%s\n", s);
		free(s);
	} else if (text) {
		fputs(text, stdout);
	}
}

/* The key directory: --key-dir, else signing.key-dir of @conf. */
static int key_dir(const char *opt, const char *conf, char **out)
{
	if (opt) {
		*out = strdup(opt);
		return *out ? 0 : EXIT_DIR;
	}
	int code = fe__ctl_conf_path(conf, "signing.key-dir", out);
	if (code && *out == NULL)
		fprintf(stderr, "fedenumctl key: no key directory (--key-dir DIR, or "
		                "signing.key-dir in -c FILE)\n");
	return code;
}

static int refuse(const char *sub, int rc, const char *err)
{
	fprintf(stderr, "fedenumctl key %s: %s\n", sub, err);
	return rc == FE_EIO ? EXIT_DIR : EXIT_REFUSED;
}

static size_t count(const struct fe_sign_keyset *ks, enum fe_sign_role r, enum fe_sign_state s)
{
	size_t n = 0;
	for (size_t i = 0; i < ks->n; i++)
		n += ks->keys[i].role == r && ks->keys[i].state == s;
	return n;
}

/* The oldest key of @role in @state (keys are sorted by creation), or SIZE_MAX. */
static size_t find(const struct fe_sign_keyset *ks, enum fe_sign_role r, enum fe_sign_state s)
{
	for (size_t i = 0; i < ks->n; i++)
		if (ks->keys[i].role == r && ks->keys[i].state == s)
			return i;
	return SIZE_MAX;
}

static uint8_t active_alg(const struct fe_sign_keyset *ks)
{
	for (size_t i = 0; i < ks->n; i++)
		if (ks->keys[i].state == FE_SIGN_ACTIVE)
			return ks->keys[i].alg;
	return FE_SIGN_ALG_P256;
}

/* A new key (a tag already in use is retried). */
static int gen(const char *dir, struct fe_sign_keyset *ks, enum fe_sign_role r, uint8_t alg,
               enum fe_sign_state s, char *err, size_t cap)
{
	int rc;
	for (int i = 0; i < 4; i++)
		if ((rc = fe_sign_key_generate(dir, ks, r, alg, s, err, cap)) != FE_EEXIST)
			break;
	return rc;
}

static int set_state(const char *dir, struct fe_sign_keyset *ks, size_t i, enum fe_sign_state s,
                     char *err, size_t cap)
{
	ks->keys[i].state = s;
	return fe_sign_key_save(dir, ks, i, err, cap);
}

static int rollover(const char *dir, struct fe_sign_keyset *ks, bool ksk, char *msg, size_t mcap,
                    char *err, size_t cap)
{
	int rc = FE_OK;
	size_t i, j;
	if (!ksk) {
		if ((i = find(ks, FE_SIGN_ZSK, FE_SIGN_PUBLISHED)) != SIZE_MAX) {
			j = find(ks, FE_SIGN_ZSK, FE_SIGN_ACTIVE);
			rc = set_state(dir, ks, i, FE_SIGN_ACTIVE, err, cap);
			if (rc == FE_OK && j != SIZE_MAX)
				rc = set_state(dir, ks, j, FE_SIGN_RETIRED, err, cap);
			snprintf(msg, mcap,
			         "step 2 of 3: ZSK %u signs now; ZSK %u is retired (still "
			         "published). "
			         "Run again once the old signatures' TTL has passed",
			         ks->keys[i].tag, j != SIZE_MAX ? ks->keys[j].tag : 0);
		} else if ((i = find(ks, FE_SIGN_ZSK, FE_SIGN_RETIRED)) != SIZE_MAX) {
			rc = set_state(dir, ks, i, FE_SIGN_REMOVED, err, cap);
			snprintf(msg, mcap, "step 3 of 3: ZSK %u removed from the DNSKEY RRset",
			         ks->keys[i].tag);
		} else {
			rc = gen(dir, ks, FE_SIGN_ZSK, active_alg(ks), FE_SIGN_PUBLISHED, err, cap);
			snprintf(msg, mcap,
			         "step 1 of 3: new ZSK %u published (not signing yet). Run again "
			         "once "
			         "the DNSKEY TTL has passed",
			         rc == FE_OK ? ks->keys[ks->n - 1].tag : 0);
		}
		return rc;
	}
	if (count(ks, FE_SIGN_KSK, FE_SIGN_ACTIVE) >= 2) {
		i = find(ks, FE_SIGN_KSK, FE_SIGN_ACTIVE);
		rc = set_state(dir, ks, i, FE_SIGN_REMOVED, err, cap);
		snprintf(msg, mcap,
		         "step 2 of 2: KSK %u removed; the registry must now publish only the DS "
		         "below",
		         ks->keys[i].tag);
	} else {
		rc = gen(dir, ks, FE_SIGN_KSK, active_alg(ks), FE_SIGN_ACTIVE, err, cap);
		snprintf(msg, mcap,
		         "step 1 of 2: new KSK %u signs the DNSKEY RRset beside the old one. Hand "
		         "its DS (below) to the registry; once the registry serves it (and its TTL "
		         "has passed), run again",
		         rc == FE_OK ? ks->keys[ks->n - 1].tag : 0);
	}
	return rc;
}

int fe__ctl_key(int argc, char **argv)
{
	static const struct option opts[] = {{"key-dir", required_argument, NULL, 'k'},
	                                     {"config", required_argument, NULL, 'c'},
	                                     {"algorithm", required_argument, NULL, 'a'},
	                                     {"json", no_argument, NULL, 'j'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(USAGE, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	const char *sub = argv[1];
	bool gen_cmd = strcmp(sub, "generate") == 0, list = strcmp(sub, "list") == 0,
	     ds = strcmp(sub, "ds") == 0, roll = strcmp(sub, "rollover") == 0;
	if (!gen_cmd && !list && !ds && !roll) {
		fprintf(stderr, "fedenumctl key: unknown subcommand '%s'\n%s", sub, USAGE);
		return EXIT_USAGE;
	}
	const char *dopt = NULL, *conf = NULL;
	uint8_t alg = FE_SIGN_ALG_P256;
	bool as_json = false, alg_given = false;
	int ch;
	argc--;
	argv++;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "k:c:a:jh", opts, NULL)) != -1) {
		switch (ch) {
		case 'k':
			dopt = optarg;
			break;
		case 'c':
			conf = optarg;
			break;
		case 'a':
			alg_given = true;
			if (strcasecmp(optarg, "ecdsap256sha256") == 0 || strcmp(optarg, "13") == 0)
				alg = FE_SIGN_ALG_P256;
			else if (strcasecmp(optarg, "ed25519") == 0 || strcmp(optarg, "15") == 0)
				alg = FE_SIGN_ALG_ED25519;
			else {
				fprintf(stderr,
				        "fedenumctl key: --algorithm %s: ecdsap256sha256 (13) or "
				        "ed25519 (15)\n",
				        optarg);
				return EXIT_USAGE;
			}
			break;
		case 'j':
			as_json = true;
			break;
		case 'h':
			fputs(USAGE, stdout);
			return 0;
		default:
			fputs(USAGE, stderr);
			return EXIT_USAGE;
		}
	}
	int want = roll ? 2 : 1;
	if (argc - optind != want || (dopt && conf) || (alg_given && !gen_cmd) ||
	    (roll && strcmp(argv[optind + 1], "zsk") != 0 &&
	     strcmp(argv[optind + 1], "ksk") != 0)) {
		fputs(USAGE, stderr);
		return EXIT_USAGE;
	}
	const char *apex = argv[optind];
	char *dir = NULL;
	int code = key_dir(dopt, conf, &dir);
	if (code)
		return code;
	struct fe_sign_keyset ks;
	char err[600];
	if (gen_cmd && mkdir(dir, 0700) == 0) /* a new key directory: this user's only */
		fprintf(stderr, "fedenumctl key: created the key directory %s (mode 0700)\n", dir);
	int rc = fe_sign_keys_load(dir, apex, &ks, err, sizeof(err));
	if (rc == FE_EFORMAT && strstr(err, "not a zone name")) {
		fprintf(stderr, "fedenumctl key %s: %s\n", sub, err);
		free(dir);
		return EXIT_USAGE;
	}
	if (rc != FE_OK) {
		code = refuse(sub, rc, err);
		free(dir);
		return code;
	}
	json_t *out = json_pack("{s:s}", "apex", ks.apex);
	char text[2048] = "";
	if (gen_cmd) {
		if (ks.n > 0) {
			snprintf(err, sizeof(err),
			         "%s has %zu keys already in %s (key list; key rollover to change "
			         "them)",
			         ks.apex, ks.n, dir);
			rc = FE_EEXIST;
		} else {
			rc = gen(dir, &ks, FE_SIGN_KSK, alg, FE_SIGN_ACTIVE, err, sizeof(err));
			if (rc == FE_OK)
				rc = gen(dir, &ks, FE_SIGN_ZSK, alg, FE_SIGN_ACTIVE, err,
				         sizeof(err));
		}
		if (rc == FE_OK) {
			char ds1[400];
			fe_sign_key_ds(ks.apex, &ks.keys[0], ds1, sizeof(ds1));
			snprintf(text, sizeof(text),
			         "generated KSK %u and ZSK %u (%s) for %s in %s\n"
			         "publish this DS record at the registry:\n%s\n",
			         ks.keys[0].tag, ks.keys[1].tag, fe_sign_alg_name(alg), ks.apex,
			         dir, ds1);
			json_object_set_new(out, "keys", keys_json(&ks));
			json_object_set_new(out, "ds", ds_json(&ks));
		}
	} else if (ks.n == 0) {
		snprintf(err, sizeof(err), "no keys for %s in %s (key generate %s)", ks.apex, dir,
		         ks.apex);
		rc = FE_ENOENT;
	} else if (list) {
		json_object_set_new(out, "keys", keys_json(&ks));
	} else if (ds) {
		json_t *a = ds_json(&ks);
		for (size_t i = 0; i < json_array_size(a); i++) {
			size_t l = strlen(text);
			snprintf(text + l, sizeof(text) - l, "%s\n",
			         json_string_value(json_array_get(a, i)));
		}
		json_object_set_new(out, "ds", a);
	} else {
		bool ksk = strcmp(argv[optind + 1], "ksk") == 0;
		char msg[512] = "";
		rc = rollover(dir, &ks, ksk, msg, sizeof(msg), err, sizeof(err));
		if (rc == FE_OK) {
			json_object_set_new(out, "role", json_string(ksk ? "ksk" : "zsk"));
			json_object_set_new(out, "step", json_string(msg));
			json_object_set_new(out, "keys", keys_json(&ks));
			json_object_set_new(out, "ds", ds_json(&ks));
			snprintf(text, sizeof(text), "%s\n", msg);
			if (ksk) {
				json_t *a = json_object_get(out, "ds");
				for (size_t i = 0; i < json_array_size(a); i++) {
					size_t l = strlen(text);
					snprintf(text + l, sizeof(text) - l, "%s\n",
					         json_string_value(json_array_get(a, i)));
				}
			}
		}
	}
	if (rc != FE_OK) {
		code = refuse(sub, rc, err);
	} else {
		if (list && !as_json)
			print_keys(&ks);
		emit(out, as_json, text);
	}
	json_decref(out);
	fe_sign_keyset_free(&ks);
	free(dir);
	return code;
}
