/* The command line over the configuration files, the trust-anchor files it names, and the
 * admission list: what fedenumd does with a loaded configuration (include/fedenum/conf.h). */
#include "conf_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- trust anchors ----------------------------------------------------------------- */

/* Read every trust-anchor file into c->anchors (DS or DNSKEY records as
 * ldns-key2ds or dnssec-dsfromkey print them). Errors as "file:line: reason". */
static int read_anchors(struct fe_conf *c, struct fe_conf_diag *d)
{
	bool failed = false;
	fe_trust_anchors_destroy(c->anchors);
	c->anchors = NULL;
	if (c->ntrust_anchors == 0)
		return FE_OK;
	if (fe_trust_anchors_create(&c->anchors) != FE_OK) {
		fe_conf_diag_add(d, "trust anchors", 0, "out of memory");
		return FE_EFORMAT;
	}
	for (size_t i = 0; i < c->ntrust_anchors; i++) {
		struct fe_zone_error e;
		unsigned skipped = 0;
		memset(&e, 0, sizeof(e));
		int rc = fe_trust_anchors_add_file(c->anchors, c->trust_anchors[i], &skipped, &e);
		if (rc != FE_OK) {
			fe_conf_diag_add(d, e.file[0] ? e.file : c->trust_anchors[i], (int)e.line,
			                 "trust anchor: %s",
			                 e.reason[0] ? e.reason : fe_strerror(rc));
			failed = true;
		} else if (skipped) {
			fe_log_warn(
			        "trust anchor %s: %u record%s not usable (DS digest type other "
			        "than 2 or 4, or an algorithm other than 8, 10, 13-16): ignored",
			        c->trust_anchors[i], skipped, skipped == 1 ? "" : "s");
		}
	}
	return failed ? FE_EFORMAT : FE_OK;
}

/* ---- command line ----------------------------------------------------------------- */

int fe_conf_apply_cli(struct fe_conf *c, const struct fe_conf_cli *cli, struct fe_conf_diag *d)
{
	bool failed = false;
	const char *where = "command line";
	if (cli->nlisten) {
		struct fe_listen_addr *l = calloc(cli->nlisten, sizeof(*l));
		if (!l) {
			fe_conf_diag_add(d, where, 0, "out of memory");
			return FE_EFORMAT;
		}
		size_t n = 0;
		for (size_t i = 0; i < cli->nlisten; i++) {
			if (fe_server_listen_parse(cli->listen[i], &l[n]) != FE_OK) {
				fe_conf_diag_add(
				        d, where, 0,
				        "--listen \"%s\" is not ADDR@PORT (numeric IPv4 or IPv6 "
				        "address, port 0..65535)",
				        cli->listen[i]);
				failed = true;
			} else {
				n++;
			}
		}
		free(c->listen);
		c->listen = l;
		c->nlisten = n;
	}
	if (cli->db) {
		free(c->store_path);
		c->store_path = strdup(cli->db);
		if (!c->store_path) {
			fe_conf_diag_add(d, where, 0, "out of memory");
			return FE_EFORMAT;
		}
	}
	if (!failed && fe__conf_string_defaults(c) != FE_OK) {
		fe_conf_diag_add(d, where, 0, "out of memory");
		return FE_EFORMAT;
	}
	if (cli->control) {
		free(c->control_socket);
		if ((c->control_socket = strdup(cli->control)) == NULL) {
			fe_conf_diag_add(d, where, 0, "out of memory");
			return FE_EFORMAT;
		}
	}
	if (cli->key_dir) {
		free(c->signing_key_dir);
		if ((c->signing_key_dir = strdup(cli->key_dir)) == NULL) {
			fe_conf_diag_add(d, where, 0, "out of memory");
			return FE_EFORMAT;
		}
	}
	if (cli->metrics) {
		free(c->metrics_listen);
		if ((c->metrics_listen = strdup(cli->metrics)) == NULL) {
			fe_conf_diag_add(d, where, 0, "out of memory");
			return FE_EFORMAT;
		}
	}
	if (c->metrics_listen && fe_server_listen_parse(c->metrics_listen, &c->metrics) != FE_OK) {
		fe_conf_diag_add(d,
		                 cli->metrics     ? where
		                 : c->config_file ? c->config_file
		                                  : where,
		                 0,
		                 "%s \"%s\" is not ADDR@PORT (numeric IPv4 or IPv6 address, port "
		                 "0..65535)",
		                 cli->metrics ? "--metrics" : "metrics.listen", c->metrics_listen);
		failed = true;
	}
	if (c->control_listen &&
	    fe_server_listen_parse(c->control_listen, &c->control_addr) != FE_OK) {
		fe_conf_diag_add(d, c->config_file ? c->config_file : where, 0,
		                 "control.listen \"%s\" is not ADDR@PORT (numeric IPv4 or IPv6 "
		                 "address, port 0..65535)",
		                 c->control_listen);
		failed = true;
	}
	if (cli->has_workers) {
		if (cli->workers > 1024) {
			fe_conf_diag_add(d, where, 0, "--workers %u is out of range (0..1024)",
			                 cli->workers);
			failed = true;
		} else {
			c->workers = cli->workers;
		}
	}
	if (cli->log_level) {
		enum fe_log_level l;
		if (fe_log_level_parse(cli->log_level, &l) != FE_OK) {
			fe_conf_diag_add(d, where, 0,
			                 "--log-level \"%s\" is not one of err, warn, info, debug",
			                 cli->log_level);
			failed = true;
		} else {
			c->log_level = l;
		}
	}
	if (cli->nzones) {
		struct fe_conf_zone *nz =
		        realloc(c->zones, (c->nzones + cli->nzones) * sizeof(*c->zones));
		if (!nz) {
			fe_conf_diag_add(d, where, 0, "out of memory");
			return FE_EFORMAT;
		}
		c->zones = nz;
		for (size_t i = 0; i < cli->nzones; i++) {
			if (access(cli->zones[i], R_OK) != 0)
				fe_conf_diag_warn(
				        d, where, 0,
				        "--zone \"%s\": %s (this zone will not load; the others "
				        "do)",
				        cli->zones[i], strerror(errno));
			struct fe_conf_zone *z = &c->zones[c->nzones];
			memset(z, 0, sizeof(*z));
			z->file = strdup(cli->zones[i]);
			z->where = strdup("--zone");
			if (!z->file || !z->where) {
				free(z->file);
				free(z->where);
				fe_conf_diag_add(d, where, 0, "out of memory");
				return FE_EFORMAT;
			}
			c->nzones++;
		}
	}
	if (cli->nanchors) {
		char **na = realloc(c->trust_anchors,
		                    (c->ntrust_anchors + cli->nanchors) * sizeof(*na));
		if (!na) {
			fe_conf_diag_add(d, where, 0, "out of memory");
			return FE_EFORMAT;
		}
		c->trust_anchors = na;
		for (size_t i = 0; i < cli->nanchors; i++) {
			if (access(cli->anchors[i], R_OK) != 0) {
				fe_conf_diag_add(d, where, 0, "--trust-anchor \"%s\": %s",
				                 cli->anchors[i], strerror(errno));
				failed = true;
				continue;
			}
			char *p = strdup(cli->anchors[i]);
			if (!p) {
				fe_conf_diag_add(d, where, 0, "out of memory");
				return FE_EFORMAT;
			}
			c->trust_anchors[c->ntrust_anchors++] = p;
		}
	}
	if (read_anchors(c, d) != FE_OK)
		failed = true;
	return failed ? FE_EFORMAT : FE_OK;
}

int fe_conf_make_acl(const struct fe_conf *c, struct fe_server_acl **out)
{
	static const char *const loopback[] = {"127.0.0.0/8", "::1/128"};
	struct fe_server_acl *acl = NULL;
	int rc = fe_server_acl_create(&acl);
	if (rc)
		return rc;
	if (c->has_clients) {
		for (size_t i = 0; i < c->nclients && !rc; i++)
			rc = fe_server_acl_add(acl, c->clients[i]);
	} else {
		for (size_t i = 0; i < FE_ARRAY_LEN(loopback) && !rc; i++)
			rc = fe_server_acl_add(acl, loopback[i]);
	}
	if (rc) {
		fe_server_acl_destroy(acl);
		return rc;
	}
	*out = acl;
	return FE_OK;
}
