/* Lookups in a federation definition for tools that need one fact of it, without loading a
 * node's whole configuration (fedenumctl route: the ENUM apexes). */
#include "conf_int.h"
#include "fedenum/conf.h"
#include "fedenum/util.h"

#include <libconfig.h>
#include <stdlib.h>
#include <string.h>

/* @p relative to the folder of @file; malloc'd. */
static char *relative_to(const char *file, const char *p)
{
	if (p[0] == '/')
		return strdup(p);
	const char *slash = strrchr(file, '/');
	size_t dl = slash ? (size_t)(slash - file) + 1 : 0;
	char *out = malloc(dl + strlen(p) + 1);
	if (out) {
		memcpy(out, file, dl);
		memcpy(out + dl, p, strlen(p) + 1);
	}
	return out;
}

/* Is @member the name of a member with role "registry"? */
static bool is_registry(const config_setting_t *members, const char *member)
{
	for (int k = 0; k < config_setting_length(members); k++) {
		const config_setting_t *m = config_setting_get_elem(members, (unsigned)k);
		const char *name = NULL, *role = NULL;
		if (config_setting_lookup_string(m, "name", &name) &&
		    config_setting_lookup_string(m, "role", &role) && strcmp(name, member) == 0 &&
		    strcmp(role, "registry") == 0)
			return true;
	}
	return false;
}

static int apexes_of(const char *path, int depth, char ***out, size_t *n, struct fe_conf_diag *d)
{
	config_t cfg;
	config_init(&cfg);
	if (!config_read_file(&cfg, path)) {
		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
			fe_conf_diag_add(d, path, 0, "cannot read the file");
		else
			fe_conf_diag_add(d,
			                 config_error_file(&cfg) ? config_error_file(&cfg) : path,
			                 config_error_line(&cfg), "%s", config_error_text(&cfg));
		config_destroy(&cfg);
		return FE_EFORMAT;
	}
	const config_setting_t *root = config_root_setting(&cfg);
	const config_setting_t *members = config_setting_get_member(root, "members");
	const config_setting_t *zones = config_setting_get_member(root, "zones");
	const char *fed = NULL;
	int rc = FE_OK;
	if (members && zones) {
		int nz = config_setting_length(zones);
		*out = calloc((size_t)nz + 1, sizeof(**out));
		if (!*out)
			rc = FE_ENOMEM;
		for (int i = 0; rc == FE_OK && i < nz; i++) {
			const config_setting_t *z = config_setting_get_elem(zones, (unsigned)i);
			const char *apex = NULL, *member = NULL;
			if (!config_setting_lookup_string(z, "apex", &apex) ||
			    !config_setting_lookup_string(z, "member", &member) ||
			    !is_registry(members, member))
				continue;
			if (!((*out)[*n] = strdup(apex)))
				rc = FE_ENOMEM;
			else
				(*n)++;
		}
		if (rc == FE_OK && *n == 0) {
			fe_conf_diag_add(d, path, 0, "no zone of a member with role \"registry\"");
			rc = FE_ENOENT;
		}
	} else if (depth == 0 && config_setting_lookup_string(root, "federation", &fed)) {
		char *next = relative_to(path, fed);
		rc = next ? apexes_of(next, depth + 1, out, n, d) : FE_ENOMEM;
		free(next);
	} else {
		fe_conf_diag_add(d, path, 0, "no members and zones (not a federation definition)");
		rc = FE_ENOENT;
	}
	config_destroy(&cfg);
	return rc;
}

int fe_conf_enum_apexes(const char *path, char ***apexes, size_t *n, struct fe_conf_diag *d)
{
	*apexes = NULL;
	*n = 0;
	int rc = apexes_of(path, 0, apexes, n, d);
	if (rc != FE_OK) {
		for (size_t i = 0; *apexes && i < *n; i++)
			free((*apexes)[i]);
		free(*apexes);
		*apexes = NULL;
		*n = 0;
	}
	return rc;
}
