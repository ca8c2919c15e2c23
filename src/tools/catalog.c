/* `fedenumctl catalog generate`: the federation's catalog zone (RFC 9432, version 2) from
 * its definition, as a master file on stdout. One member zone per `zones` entry of the
 * federation definition, with its unique id (the SHA-1 of its lower-case wire name, so the
 * same zone keeps its id from one generation to the next), its member as the `group`
 * property, and the member's `primary` as the `primaries.ext` custom property. A node that
 * consumes the catalog (fedenumd --catalog, xfr.catalogs; Knot's catalog-role: interpret)
 * then holds every zone of the federation without a configuration edit. */
#include "ctl_int.h"

#include "fedenum/conf.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"

#include <getopt.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define USAGE_CATALOG                                                                            \
	"usage: fedenumctl catalog generate --config FILE [--apex NAME] [--serial N] [--json]\n" \
	"\n"                                                                                     \
	"Print the federation's catalog zone (RFC 9432, version 2) as a master file: every\n"    \
	"zone of the federation definition as a member zone (PTR), its member as the group\n"    \
	"property and the member's primary (members.primary) as primaries.ext TXT\n"             \
	"\"ADDR@PORT\". Load it on the node that serves the catalog; consumers take it with\n"   \
	"fedenumd --catalog APEX@ADDR@PORT (docs/federation.md, \"Catalog zones\").\n"           \
	"\n"                                                                                     \
	"  --config FILE   federation.conf, or a fedenumd.conf that names one\n"                 \
	"  --apex NAME     the catalog's apex (default catalog.<federation name>.)\n"            \
	"  --serial N      the SOA serial (default: now, in seconds since the epoch)\n"          \
	"  --json          one JSON object: apex, serial, federation, members [{zone, id,\n"     \
	"                  member, primary}], zone (the master file)\n"                          \
	"\n"                                                                                     \
	"Exit status: 0 printed, 1 nothing to list (no zones), 2 usage or a bad definition.\n"

/* The unique id of @apex: hex SHA-1 of its lower-case wire name. */
static int unique_id(const char *apex, char *out, size_t cap)
{
	uint8_t w[FE_WIRE_NAME_MAX], lw[FE_WIRE_NAME_MAX], md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	int n = fe_conf_name_from_str(apex, w, sizeof(w));
	if (n <= 0)
		return -1;
	fe_wire_name_lower(w, lw);
	if (EVP_Digest(lw, (size_t)n, md, &mdlen, EVP_sha1(), NULL) != 1 || cap < mdlen * 2 + 1)
		return -1;
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static const struct fe_conf_member *member_named(const struct fe_conf *c, const char *name)
{
	for (size_t i = 0; name && i < c->nmembers; i++)
		if (c->members[i].name && strcmp(c->members[i].name, name) == 0)
			return &c->members[i];
	return NULL;
}

/* Append to the growing buffer *buf. */
static int put(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int put(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	for (int tries = 0; tries < 2; tries++) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -1;
		if ((size_t)n < *cap - *len) {
			*len += (size_t)n;
			return 0;
		}
		size_t nc = (*cap + (size_t)n + 1) * 2;
		char *b = realloc(*buf, nc);
		if (!b)
			return -1;
		*buf = b;
		*cap = nc;
	}
	return -1;
}

static int generate(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"config", required_argument, NULL, 'c'}, {"apex", required_argument, NULL, 'a'},
	        {"serial", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
	        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	const char *config = NULL, *apex_arg = NULL;
	bool json = false;
	uint32_t serial = (uint32_t)time(NULL);
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'a':
			apex_arg = optarg;
			break;
		case 's': {
			char *end = NULL;
			unsigned long v = strtoul(optarg, &end, 10);
			if (!*optarg || *end || v > UINT32_MAX) {
				fprintf(stderr,
				        "fedenumctl: --serial %s: not a number in 0..4294967295\n",
				        optarg);
				return FE__CTL_EXIT_USAGE;
			}
			serial = (uint32_t)v;
			break;
		}
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(USAGE_CATALOG, stdout);
			return 0;
		default:
			fputs(USAGE_CATALOG, stderr);
			return FE__CTL_EXIT_USAGE;
		}
	}
	if (!config || optind < argc) {
		fputs(USAGE_CATALOG, stderr);
		return FE__CTL_EXIT_USAGE;
	}
	struct fe_conf c;
	struct fe_conf_diag d = {0};
	fe_conf_init(&c);
	if (fe_conf_load_federation(&c, config, &d) != FE_OK) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "fedenumctl: %s\n", d.msgs[i]);
		fe_conf_diag_free(&d);
		fe_conf_free(&c);
		return FE__CTL_EXIT_USAGE;
	}
	fe_conf_diag_free(&d);
	char apex[FE_WIRE_NAME_MAX * 4 + 2];
	if (apex_arg)
		snprintf(apex, sizeof(apex), "%s%s", apex_arg,
		         apex_arg[0] && apex_arg[strlen(apex_arg) - 1] == '.' ? "" : ".");
	else
		snprintf(apex, sizeof(apex), "catalog.%s.", c.fed_name ? c.fed_name : "federation");
	for (char *p = apex; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	uint8_t aw[FE_WIRE_NAME_MAX];
	if (fe_conf_name_from_str(apex, aw, sizeof(aw)) <= 1) {
		fprintf(stderr, "fedenumctl: --apex %s: not a domain name\n", apex);
		fe_conf_free(&c);
		return FE__CTL_EXIT_USAGE;
	}
	size_t len = 0, cap = 4096;
	char *z = malloc(cap);
	json_t *members = json_array();
	int code = 0;
	if (!z || !members) {
		fprintf(stderr, "fedenumctl: out of memory\n");
		code = FE__CTL_EXIT_FAIL;
		goto out;
	}
	z[0] = '\0';
	int err = put(&z, &len, &cap,
	              "; catalog zone (RFC 9432) of federation %s, from %s: %zu member zones\n"
	              "%s 0 IN SOA invalid. invalid. %u 3600 600 2147483646 0\n"
	              "%s 0 IN NS invalid.\n"
	              "version.%s 0 IN TXT \"2\"\n",
	              c.fed_name ? c.fed_name : "?", config, c.nzones, apex, serial, apex, apex);
	size_t listed = 0;
	for (size_t i = 0; i < c.nzones && !err; i++) {
		const struct fe_conf_zone *fz = &c.zones[i];
		char id[64];
		if (!fz->apex || unique_id(fz->apex, id, sizeof(id)) != 0)
			continue;
		char zone[FE_WIRE_NAME_MAX * 4 + 2];
		snprintf(zone, sizeof(zone), "%s", fz->apex);
		for (char *p = zone; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		const struct fe_conf_member *m = member_named(&c, fz->member);
		char primary[96] = "";
		if (m && m->has_primary)
			snprintf(primary, sizeof(primary), "%s@%u", m->primary.host,
			         (unsigned)m->primary.port);
		err |= put(&z, &len, &cap, "%s.zones.%s 0 IN PTR %s\n", id, apex, zone);
		if (fz->member)
			err |= put(&z, &len, &cap, "group.%s.zones.%s 0 IN TXT \"%s\"\n", id, apex,
			           fz->member);
		if (primary[0])
			err |= put(&z, &len, &cap, "primaries.ext.%s.zones.%s 0 IN TXT \"%s\"\n",
			           id, apex, primary);
		json_array_append_new(members, json_pack("{s:s, s:s, s:s?, s:s?}", "zone", zone,
		                                         "id", id, "member", fz->member, "primary",
		                                         primary[0] ? primary : NULL));
		listed++;
	}
	if (err) {
		fprintf(stderr, "fedenumctl: out of memory\n");
		code = FE__CTL_EXIT_FAIL;
		goto out;
	}
	if (!listed) {
		fprintf(stderr, "fedenumctl: %s has no zones: an empty catalog is not printed\n",
		        config);
		code = FE__CTL_EXIT_FAIL;
		goto out;
	}
	if (json) {
		json_t *o = json_pack("{s:s, s:I, s:s?, s:O, s:s}", "apex", apex, "serial",
		                      (json_int_t)serial, "federation", c.fed_name, "members",
		                      members, "zone", z);
		char *s = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
		if (!s) {
			fprintf(stderr, "fedenumctl: out of memory\n");
			code = FE__CTL_EXIT_FAIL;
		} else {
			printf("%s\n", s);
		}
		free(s);
		json_decref(o);
	} else {
		fputs(z, stdout);
	}
out:
	json_decref(members);
	free(z);
	fe_conf_free(&c);
	return code;
}

int fe__ctl_catalog(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(USAGE_CATALOG, argc < 2 ? stderr : stdout);
		return argc < 2 ? FE__CTL_EXIT_USAGE : 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("fedenumctl %s\n", FE__CTL_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "generate") == 0)
		return generate(argc - 1, argv + 1);
	fprintf(stderr, "fedenumctl: catalog %s: unknown (generate)\n", argv[1]);
	fputs(USAGE_CATALOG, stderr);
	return FE__CTL_EXIT_USAGE;
}

void fe__ctl_catalog_usage(FILE *f)
{
	fprintf(f, "       fedenumctl catalog generate --config FILE [--apex NAME] [--serial N]\n"
	           "                  [--json]\n");
}
