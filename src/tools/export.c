/* fedenumctl zone export: the stored (signed) version of a zone as an RFC 1035 master file,
 * read from one store snapshot (read-only: works while fedenumd serves). Every RRset with its
 * RRSIGs, then the NSEC3 chain; absolute owner names, one RR per line. TTLs are the served
 * ones (capped at the RRSIGs' original TTL when the version was stored); every signature
 * still verifies, since a validator uses the original TTL in the RRSIG. */
#include "ctl_int.h"
#include "fedenum/conf.h"
#include "fedenum/store.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"

#include <getopt.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE_EXPORT[] =
        "usage: fedenumctl zone export [--db STORE | -c FILE] APEX\n"
        "\n"
        "Print the stored version of zone APEX (with or without the final dot) as a master\n"
        "file on standard output, signatures and NSEC/NSEC3 records included. Reads the\n"
        "store read-only: works while fedenumd serves it.\n"
        "  --db STORE   the store directory\n"
        "  -c FILE      take store.path from this fedenumd.conf\n"
        "Exit status: 0 printed, 1 no such zone in the store, 2 usage, 3 store error.\n";

/* One RR (owner wire name, type, TTL, RDATA) in presentation form on @f. */
static int print_rr(FILE *f, const uint8_t *owner, size_t owner_len, uint16_t type, uint32_t ttl,
                    const uint8_t *rdata, uint16_t rdlen)
{
	uint8_t buf[FE_WIRE_NAME_MAX + 10 + 65535];
	memcpy(buf, owner, owner_len);
	uint8_t *p = buf + owner_len;
	fe_put_be16(p, type);
	fe_put_be16(p + 2, 1); /* IN */
	fe_put_be32(p + 4, ttl);
	fe_put_be16(p + 8, rdlen);
	memcpy(p + 10, rdata, rdlen);
	size_t pos = 0;
	ldns_rr *rr = NULL;
	if (ldns_wire2rr(&rr, buf, owner_len + 10u + rdlen, &pos, LDNS_SECTION_ANSWER) !=
	    LDNS_STATUS_OK)
		return FE_EFORMAT;
	ldns_rr_print(f, rr);
	ldns_rr_free(rr);
	return FE_OK;
}

static int export_zone(struct fe_store_reader *r, const struct fe_store_zone_rec *zone,
                       unsigned long *count)
{
	for (int pass = 0; pass < 2; pass++) {
		const uint8_t *key = NULL;
		size_t klen = 0;
		struct fe_store_node node;
		int rc;
		while ((rc = fe_store_next_node(r, zone, pass == 1, key, klen, &key, &klen,
		                                &node)) == FE_OK) {
			size_t it = 0;
			struct fe_store_rrset rs;
			while (fe_store_node_next(&node, &it, &rs)) {
				size_t ri = 0;
				const uint8_t *rd;
				uint16_t rdlen;
				bool sig;
				while (fe_store_rrset_next(&rs, &ri, &rd, &rdlen, &sig)) {
					rc = print_rr(stdout, node.owner, node.owner_len,
					              sig ? FE_T_RRSIG : rs.type, rs.ttl, rd,
					              rdlen);
					if (rc != FE_OK)
						return rc;
					(*count)++;
				}
			}
		}
		if (rc != FE_ENOENT)
			return rc;
	}
	return FE_OK;
}

int fe__ctl_export(int argc, char **argv)
{
	struct fe_conf c;
	const char *apex_arg = NULL;
	int code = fe__ctl_store_args(argc, argv, USAGE_EXPORT, &c, &apex_arg);
	if (code >= 0)
		return code;
	code = 0;
	uint8_t apex[FE_WIRE_NAME_MAX], key[FE_WIRE_KEY_MAX];
	int alen = fe_conf_name_from_str(apex_arg, apex, sizeof(apex));
	int klen = alen > 0 ? fe_wire_name_key(apex, (size_t)alen, key, sizeof(key)) : -1;
	int rc;
	struct fe_store *st = NULL;
	struct fe_store_reader *r = NULL;
	struct fe_store_opts so = {.read_only = true};
	const struct fe_store_zone_rec *zone = NULL;
	unsigned long count = 0;
	if (klen <= 0) {
		fputs(USAGE_EXPORT, stderr);
		code = FE__CTL_EXIT_USAGE;
		goto out;
	}
	if ((rc = fe_store_open(c.store_path, &so, &st)) != FE_OK ||
	    (rc = fe_store_reader_create(st, &r)) != FE_OK ||
	    (rc = fe_store_reader_begin(r)) != FE_OK) {
		fprintf(stderr, "fedenumctl: cannot read the store %s: %s\n", c.store_path,
		        fe_strerror(rc));
		code = FE__CTL_EXIT_NOANSWER;
		goto out;
	}
	if (fe_store_get_zone(r, key, (size_t)klen, &zone) != FE_OK) {
		fprintf(stderr, "fedenumctl: no zone %s in the store %s\n", apex_arg, c.store_path);
		code = FE__CTL_EXIT_FAIL;
		goto out_end;
	}
	char name[1100];
	fe_wire_name_to_str(zone->apex, name, sizeof(name));
	printf("; zone %s serial %u, exported from %s\n", name, zone->serial, c.store_path);
	rc = export_zone(r, zone, &count);
	if (rc != FE_OK) {
		fprintf(stderr, "fedenumctl: export of %s: %s\n", name, fe_strerror(rc));
		code = FE__CTL_EXIT_NOANSWER;
	} else {
		printf("; %lu records\n", count);
	}
out_end:
	fe_store_reader_end(r);
out:
	fe_store_reader_destroy(r);
	fe_store_close(st);
	fe_conf_free(&c);
	return code;
}
