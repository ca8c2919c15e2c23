/* Member-side signing against a real fedenumd: fedenumctl key generate|list|ds|rollover,
 * zone import of a CSV (created, signed, served with RRSIGs, the signed file accepted by
 * ldns-verify-zone and kzonecheck), a bad CSV applying nothing, rollovers re-signed with zone
 * sign, private keys refused unless 0600, usage and exit codes; --json parsed with jansson. */
#include "fedenum/dnssec.h"
#include "fedenum/sign.h"
#include "net_common.h"

#include <jansson.h>
#include <sys/stat.h>
#include <time.h>

#define APEX "2.5.5.5.1.e164.fed."
#define NUM8 "8.0.0.0.0.0.2.5.5.5.1.e164.fed."

static struct fe_test_daemon d;
static char dir[256];

static void setup(void)
{
	fe_test_mkdtemp(dir, sizeof(dir));
}

static void stop(void)
{
	if (d.pid > 0)
		cr_expect_eq(fe_test_daemon_stop(&d), 0, "fedenumd exit status");
	d.pid = 0;
	fe_test_rmdir(dir);
}

TestSuite(sign, .init = setup, .fini = stop, .timeout = 180);

static int ctl(const char *args, char *out, size_t cap)
{
	return nc_ctl(dir, args, out, cap);
}

/* fedenumctl @args with stdout parsed as JSON (*out, caller json_decref's); the exit status. */
static int ctl_json(const char *args, json_t **out)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/json.out", dir);
	int st = fe_test_sh("%s %s >'%s' 2>/dev/null", FE_TEST_FEDENUMCTL, args, path);
	json_error_t e;
	*out = json_load_file(path, 0, &e);
	cr_assert_not_null(*out, "fedenumctl %s: not JSON: %s", args, e.text);
	return st;
}

/* A CSV of @n numbers +15552000001... (sip), and +15552000008 also as a ported number. */
static void write_csv(const char *path, unsigned n, const char *host)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "number,service,uri,order,preference\n");
	for (unsigned i = 1; i <= n; i++)
		fprintf(f, "+155520%05u,E2U+sip,sip:+155520%05u@%s;user=phone\n", i, i, host);
	fprintf(f, "+15552000008,E2U+pstn:tel,tel:+15552000008;npdi;rn=+15553999999,20,10\n");
	cr_assert_eq(fclose(f), 0);
}

static void start_node(void)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/fedenumd.conf", dir);
	nc_write_file(path, "signing: { key-dir = \"keys\"; ns = [\"ns1.ims-b.example.\", "
	                    "\"ns2.ims-b.example.\"]; soa-minimum = 60; };\n"
	                    "log: { level = \"info\"; };\n");
	nc_start_config(&d, dir, NULL);
}

static void keydir(void)
{
	char p[400];
	snprintf(p, sizeof(p), "%s/keys", dir);
	cr_assert_eq(mkdir(p, 0700), 0);
}

/* The NAPTR RRset of @name as served, with DO: its RR count and RRSIG count. */
static void naptr(const char *name, size_t *rrs, size_t *sigs, char *text, size_t cap)
{
	ldns_pkt *p = fe_test_query(d.host, d.port, name, LDNS_RR_TYPE_NAPTR, FE_TQ_DO, 0);
	cr_assert_not_null(p);
	*rrs = *sigs = 0;
	text[0] = '\0';
	for (size_t i = 0; i < ldns_pkt_ancount(p); i++) {
		ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(p), i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG)
			(*sigs)++;
		else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_NAPTR) {
			(*rrs)++;
			char *s = ldns_rr2str(rr);
			strncat(text, s, cap - strlen(text) - 1);
			free(s);
		}
	}
	ldns_pkt_free(p);
}

static size_t dnskeys(void)
{
	ldns_pkt *p = fe_test_query(d.host, d.port, APEX, LDNS_RR_TYPE_DNSKEY, FE_TQ_DO, 0);
	cr_assert_not_null(p);
	size_t n = 0;
	for (size_t i = 0; i < ldns_pkt_ancount(p); i++)
		n += ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(p), i)) ==
		     LDNS_RR_TYPE_DNSKEY;
	ldns_pkt_free(p);
	return n;
}

/* The zone as the node stored it (fedenumctl zone export) passes ldns-verify-zone and
 * kzonecheck. */
static void verify_signed_file(void)
{
	char out[8192];
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "(%s zone export --db '%s/db' " APEX " >'%s/export.zone')",
	         FE_TEST_FEDENUMCTL, dir, dir);
	cr_assert_eq(nc_run(dir, out, sizeof(out), cmd), 0, "%s", out);
	snprintf(cmd, sizeof(cmd), "ldns-verify-zone '%s/export.zone'", dir);
	cr_assert_eq(nc_run(dir, out, sizeof(out), cmd), 0, "%s", out);
	snprintf(cmd, sizeof(cmd), "kzonecheck -d on -o " APEX " '%s/export.zone'", dir);
	cr_assert_eq(nc_run(dir, out, sizeof(out), cmd), 0, "%s", out);
}

static json_int_t jint(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	cr_assert(json_is_integer(v), "no integer %s", k);
	return json_integer_value(v);
}

/* A member node: keys for APEX (@alg), fedenumd started, *csv = <dir>/numbers.csv with
 * @n numbers imported (none when @n is 0). */
static void member(const char *alg, unsigned n, char *csv, size_t cap)
{
	char args[1200], out[16384];
	keydir();
	snprintf(args, sizeof(args), "key generate --algorithm %s --key-dir '%s/keys' " APEX, alg,
	         dir);
	cr_assert_eq(ctl(args, out, sizeof(out)), 0, "%s", out);
	start_node();
	snprintf(csv, cap, "%s/numbers.csv", dir);
	if (n == 0)
		return;
	write_csv(csv, n, "ims-b.example");
	snprintf(args, sizeof(args), "zone import --socket '%s/control.sock' " APEX " '%s'", dir,
	         csv);
	cr_assert_eq(ctl(args, out, sizeof(out)), 0, "%s", out);
}

Test(sign, generate_import_serve_verify)
{
	keydir();
	char args[1200], out[16384];
	json_t *j;
	snprintf(args, sizeof(args), "key generate --json --key-dir '%s/keys' " APEX, dir);
	cr_assert_eq(ctl_json(args, &j), 0);
	cr_assert_str_eq(json_string_value(json_object_get(j, "apex")), APEX);
	json_t *keys = json_object_get(j, "keys");
	cr_assert_eq(json_array_size(keys), 2);
	json_t *ds = json_object_get(j, "ds");
	cr_assert_eq(json_array_size(ds), 1);
	int ksk_tag = -1;
	for (size_t i = 0; i < 2; i++) {
		json_t *k = json_array_get(keys, i);
		cr_assert_str_eq(json_string_value(json_object_get(k, "state")), "active");
		cr_assert_eq(jint(k, "algorithm"), 13);
		if (strcmp(json_string_value(json_object_get(k, "role")), "ksk") == 0)
			ksk_tag = (int)jint(k, "tag");
	}
	char want[128];
	snprintf(want, sizeof(want), APEX " IN DS %d 13 2 ", ksk_tag);
	cr_assert_eq(strncmp(json_string_value(json_array_get(ds, 0)), want, strlen(want)), 0, "%s",
	             json_string_value(json_array_get(ds, 0)));
	json_decref(j);
	/* generating again is refused; the private keys are 0600 */
	snprintf(args, sizeof(args), "key generate --key-dir '%s/keys' " APEX, dir);
	cr_assert_eq(ctl(args, out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(strstr(out, "has 2 keys already"), "%s", out);
	snprintf(args, sizeof(args), "stat -c %%a %s/keys/*.private | sort -u", dir);
	cr_assert_eq(nc_run(dir, out, sizeof(out), args), 0);
	cr_assert_str_eq(out, "600\n");
	/* key ds prints the same DS; key list the two keys */
	snprintf(args, sizeof(args), "key ds --key-dir '%s/keys' " APEX, dir);
	cr_assert_eq(ctl(args, out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, want), "%s", out);
	snprintf(args, sizeof(args), "key list --json --key-dir '%s/keys' 2.5.5.5.1.E164.fed", dir);
	cr_assert_eq(ctl_json(args, &j), 0);
	cr_assert_eq(json_array_size(json_object_get(j, "keys")), 2);
	json_decref(j);

	start_node();
	char csv[400];
	snprintf(csv, sizeof(csv), "%s/numbers.csv", dir);
	write_csv(csv, 1000, "ims-b.example");
	snprintf(args, sizeof(args), "zone import --json --socket '%s/control.sock' " APEX " '%s'",
	         dir, csv);
	cr_assert_eq(ctl_json(args, &j), 0);
	cr_assert(json_is_true(json_object_get(j, "created")));
	cr_assert_eq(jint(j, "numbers"), 1001);
	cr_assert_str_eq(json_string_value(json_object_get(j, "denial")), "nsec3");
	/* 1000 NAPTR RRsets, SOA, NS, DNSKEY, NSEC3PARAM, and one NSEC3 per name */
	cr_assert_eq(jint(j, "signatures"), 1004 + jint(j, "names"));
	json_int_t serial = jint(j, "serial");
	json_decref(j);
	size_t rrs, sigs;
	char text[4096];
	naptr(NUM8, &rrs, &sigs, text, sizeof(text));
	cr_assert_eq(rrs, 2, "%s", text);
	cr_assert_eq(sigs, 1);
	cr_assert_not_null(strstr(text, "rn=+15553999999"), "%s", text);
	cr_assert_eq(dnskeys(), 2);
	verify_signed_file();
	/* the control channel's zone view sees the new serial */
	snprintf(args, sizeof(args), "zone show --json --socket '%s/control.sock' " APEX, dir);
	cr_assert_eq(ctl_json(args, &j), 0);
	cr_assert_eq(jint(j, "serial"), serial);
	json_decref(j);

	/* a second import replaces the numbers: other host, fewer numbers */
	write_csv(csv, 10, "ims-c.example");
	snprintf(args, sizeof(args), "zone import --socket '%s/control.sock' " APEX " '%s'", dir,
	         csv);
	cr_assert_eq(ctl(args, out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "imported " APEX ": serial"), "%s", out);
	cr_assert_null(strstr(out, "checking rows"), "no progress bar when piped: %s", out);
	naptr(NUM8, &rrs, &sigs, text, sizeof(text));
	cr_assert_not_null(strstr(text, "ims-c.example"), "%s", text);
	naptr("0.0.0.1.0.0.2.5.5.5.1.e164.fed.", &rrs, &sigs, text, sizeof(text));
	cr_assert_eq(rrs, 0, "number 1000 is gone: %s", text);
	verify_signed_file();
	cr_assert_geq(fe_test_daemon_log_count(&d, "signing: import of " APEX), 2);
}

Test(sign, bad_csv_applies_nothing)
{
	char args[1200], out[16384], csv[400];
	member("ecdsap256sha256", 20, csv, sizeof(csv));
	snprintf(args, sizeof(args), "zone import --socket '%s/control.sock' " APEX " '%s'", dir,
	         csv);
	nc_write_file(csv, "+15552000001,E2U+sip,sip:new@ims-x.example\n"
	                   "+15552000002,E2U+sip,sip:new@ims-x.example\n"
	                   "+1555200000x,E2U+sip,sip:bad@ims-x.example\n"
	                   "+15559000003,E2U+sip,sip:out@ims-x.example\n"
	                   "+15552000001,E2U+sip,sip:dup@ims-x.example\n"
	                   "+15552000004,E2U+sip,tel:+15552000004\n");
	cr_assert_eq(ctl(args, out, sizeof(out)), 1, "%s", out);
	char want[600];
	snprintf(want, sizeof(want), "%s:3: bad number", csv);
	cr_assert_not_null(strstr(out, want), "%s", out);
	snprintf(want, sizeof(want), "%s:4: number +15559000003 outside the zone's prefix +15552",
	         csv);
	cr_assert_not_null(strstr(out, want), "%s", out);
	snprintf(want, sizeof(want), "%s:5: duplicate", csv);
	cr_assert_not_null(strstr(out, want), "%s", out);
	snprintf(want, sizeof(want), "%s:6: URI fails the NAPTR lint", csv);
	cr_assert_not_null(strstr(out, want), "%s", out);
	cr_assert_not_null(strstr(out, "4 rows refused: nothing applied"), "%s", out);
	size_t rrs, sigs;
	char text[4096];
	naptr("1.0.0.0.0.0.2.5.5.5.1.e164.fed.", &rrs, &sigs, text, sizeof(text));
	cr_assert_not_null(strstr(text, "ims-b.example"), "the old data serves: %s", text);
	/* a file the node reads itself: refused there too when bad (the client is bypassed by
	 * talking to the socket directly is not needed: the node checks again) — a missing file
	 * is refused by the client with exit 3 */
	snprintf(args, sizeof(args),
	         "zone import --socket '%s/control.sock' " APEX " '%s/none.csv'", dir, dir);
	cr_assert_eq(ctl(args, out, sizeof(out)), 3, "%s", out);
}

Test(sign, rollovers_resign_and_validate)
{
	char args[1200], out[16384], csv[400];
	json_t *j;
	member("ed25519", 50, csv, sizeof(csv));
	snprintf(args, sizeof(args), "key list --key-dir '%s/keys' " APEX, dir);
	cr_assert_eq(ctl(args, out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "ED25519"), "%s", out);
	cr_assert_eq(dnskeys(), 2);
	/* incremental: one number changed, one added; only what changed is signed again */
	write_csv(csv, 51, "ims-b.example");
	snprintf(args, sizeof(args),
	         "sed -i 's/sip:+15552000007@ims-b.example/sip:+15552000007@ims-z.example/' '%s'",
	         csv);
	cr_assert_eq(nc_run(dir, out, sizeof(out), args), 0, "%s", out);
	snprintf(args, sizeof(args), "zone import --json --socket '%s/control.sock' " APEX " '%s'",
	         dir, csv);
	cr_assert_eq(ctl_json(args, &j), 0);
	json_int_t total = jint(j, "rrsets"), again = jint(j, "rrsets_resigned");
	/* SOA, NAPTR of ...07, NAPTR of ...51 and its NSEC3, the NSEC3 before it, and the
	 * NSEC3 of a new empty non-terminal (5.0.0.0.2...) with its predecessor */
	cr_assert_geq(again, 5, "%lld of %lld", (long long)again, (long long)total);
	cr_assert_leq(again, 8, "%lld of %lld", (long long)again, (long long)total);
	cr_assert_gt(total, 100);
	json_decref(j);
	size_t rrs, sigs;
	char text[4096];
	naptr("7.0.0.0.0.0.2.5.5.5.1.e164.fed.", &rrs, &sigs, text, sizeof(text));
	cr_assert_not_null(strstr(text, "ims-z.example"), "%s", text);
	cr_assert_eq(sigs, 1);
	verify_signed_file();
	char sign[800];
	snprintf(sign, sizeof(sign), "zone sign --json --socket '%s/control.sock' " APEX, dir);
	/* ZSK: published (3 keys), active + retired (3), removed (2); valid at every step */
	static const char *const zsteps[] = {"step 1 of 3", "step 2 of 3", "step 3 of 3"};
	static const size_t zkeys[] = {3, 3, 2};
	for (int s = 0; s < 3; s++) {
		snprintf(args, sizeof(args), "key rollover --json --key-dir '%s/keys' " APEX " zsk",
		         dir);
		cr_assert_eq(ctl_json(args, &j), 0);
		cr_assert_not_null(
		        strstr(json_string_value(json_object_get(j, "step")), zsteps[s]));
		json_decref(j);
		cr_assert_eq(ctl_json(sign, &j), 0);
		cr_assert(json_is_false(json_object_get(j, "created")));
		if (s == 1) /* the new ZSK signs: every RRset but the DNSKEY RRset (the
		               KSK's, unchanged) signed again */
			cr_assert_eq(jint(j, "rrsets_resigned"), jint(j, "rrsets") - 1);
		else /* the DNSKEY RRset changed, and the SOA's serial */
			cr_assert_eq(jint(j, "rrsets_resigned"), 2);
		json_decref(j);
		cr_assert_eq(dnskeys(), zkeys[s], "after %s", zsteps[s]);
		verify_signed_file();
	}
	/* KSK: a second KSK and its DS (two DS), then the old one removed (one DS) */
	snprintf(args, sizeof(args), "key rollover --json --key-dir '%s/keys' " APEX " ksk", dir);
	cr_assert_eq(ctl_json(args, &j), 0);
	cr_assert_eq(json_array_size(json_object_get(j, "ds")), 2);
	const char *new_ds = json_string_value(json_array_get(json_object_get(j, "ds"), 1));
	char keep[300];
	snprintf(keep, sizeof(keep), "%s", new_ds);
	json_decref(j);
	cr_assert_eq(ctl_json(sign, &j), 0);
	json_decref(j);
	cr_assert_eq(dnskeys(), 3);
	verify_signed_file();
	cr_assert_eq(ctl_json(args, &j), 0);
	cr_assert_eq(json_array_size(json_object_get(j, "ds")), 1);
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "ds"), 0)), keep);
	json_decref(j);
	cr_assert_eq(ctl_json(sign, &j), 0);
	json_decref(j);
	cr_assert_eq(dnskeys(), 2);
	verify_signed_file();
}

Test(sign, private_key_mode_refused)
{
	char args[1200], out[16384], csv[400];
	member("ecdsap256sha256", 0, csv, sizeof(csv));
	write_csv(csv, 5, "ims-b.example");
	snprintf(args, sizeof(args), "chmod 644 '%s'/keys/*.private", dir);
	cr_assert_eq(nc_run(dir, out, sizeof(out), args), 0);
	snprintf(args, sizeof(args), "zone import --socket '%s/control.sock' " APEX " '%s'", dir,
	         csv);
	cr_assert_eq(ctl(args, out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(strstr(out, "mode 0644: refused"), "%s", out);
	snprintf(args, sizeof(args), "key list --key-dir '%s/keys' " APEX, dir);
	cr_assert_eq(ctl(args, out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(strstr(out, "mode 0644: refused"), "%s", out);
	cr_assert_eq(fe_test_daemon_log_count(&d, "refused: "), 1);
	/* nothing was stored */
	ldns_pkt *p = fe_test_query(d.host, d.port, APEX, LDNS_RR_TYPE_SOA, 0, 0);
	cr_assert_not_null(p);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);
}

Test(sign, usage_and_refusals)
{
	char args[1200], out[16384];
	cr_assert_eq(ctl("key --help", out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "Exit status"), "%s", out);
	cr_assert_eq(ctl("zone import --help", out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "number,service,uri[,order,preference]"), "%s", out);
	cr_assert_eq(ctl("zone sign --help", out, sizeof(out)), 0, "%s", out);
	cr_assert_eq(ctl("key list " APEX, out, sizeof(out)), 2, "no key directory: %s", out);
	cr_assert_eq(ctl("key frobnicate " APEX, out, sizeof(out)), 2, "%s", out);
	snprintf(args, sizeof(args), "key rollover --key-dir '%s' " APEX " both", dir);
	cr_assert_eq(ctl(args, out, sizeof(out)), 2, "%s", out);
	snprintf(args, sizeof(args), "key list --algorithm ed25519 --key-dir '%s' " APEX, dir);
	cr_assert_eq(ctl(args, out, sizeof(out)), 2, "%s", out);
	snprintf(args, sizeof(args), "key generate --algorithm rsasha1 --key-dir '%s' " APEX, dir);
	cr_assert_eq(ctl(args, out, sizeof(out)), 2, "%s", out);
	snprintf(args, sizeof(args), "key list --key-dir '%s' 'bad name!'", dir);
	cr_assert_eq(ctl(args, out, sizeof(out)), 2, "%s", out);
	snprintf(args, sizeof(args), "key list --key-dir '%s' " APEX, dir);
	cr_assert_eq(ctl(args, out, sizeof(out)), 1, "no keys: %s", out);
	cr_assert_not_null(strstr(out, "no keys for " APEX), "%s", out);
	snprintf(args, sizeof(args), "key ds --key-dir '%s/none' " APEX, dir);
	cr_assert_eq(ctl(args, out, sizeof(out)), 3, "%s", out);
	/* generate makes a missing key directory, mode 0700 */
	snprintf(args, sizeof(args), "key generate --key-dir '%s/new' " APEX, dir);
	cr_assert_eq(ctl(args, out, sizeof(out)), 0, "%s", out);
	char kd[400];
	snprintf(kd, sizeof(kd), "%s/new", dir);
	struct stat sb;
	cr_assert_eq(stat(kd, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0700);
	cr_assert_eq(ctl("zone import " APEX, out, sizeof(out)), 2, "%s", out);
	/* a refresh horizon not below the signature lifetime stops the start (exit 1) */
	char bad[400];
	snprintf(bad, sizeof(bad), "%s/bad.conf", dir);
	nc_write_file(bad, "signing: { validity-days = 5; refresh-days = 5; };\n");
	snprintf(args, sizeof(args),
	         "timeout 60 %s -c '%s' --listen 127.0.0.1@0 --db '%s/db2' --control '%s/c2.sock' "
	         "--foreground",
	         FE_TEST_FEDENUMD, bad, dir, dir);
	cr_assert_eq(nc_run(dir, out, sizeof(out), args), 1, "%s", out);
	cr_assert_not_null(strstr(out, "must be below signing.validity-days"), "%s", out);
	/* a node without signing.key-dir refuses; its error response is JSON */
	cr_assert_eq(fe_test_daemon_start(&d, dir, NULL), 0);
	char csv[400];
	snprintf(csv, sizeof(csv), "%s/numbers.csv", dir);
	write_csv(csv, 5, "ims-b.example");
	json_t *j;
	snprintf(args, sizeof(args), "zone import --json --socket '%s/control.sock' " APEX " '%s'",
	         dir, csv);
	cr_assert_eq(ctl_json(args, &j), 1);
	cr_assert_str_eq(json_string_value(json_object_get(j, "code")), "failed");
	cr_assert_not_null(
	        strstr(json_string_value(json_object_get(j, "error")), "signing.key-dir"));
	json_decref(j);
	snprintf(args, sizeof(args), "zone sign --socket '%s/control.sock' " APEX, dir);
	cr_assert_eq(ctl(args, out, sizeof(out)), 1, "%s", out);
}

Test(sign, progress_bar_on_a_terminal)
{
	char out[16384], cmd[2000], csv[400];
	member("ecdsap256sha256", 0, csv, sizeof(csv));
	write_csv(csv, 70000, "ims-b.example");
	/* script(1) gives fedenumctl a terminal */
	snprintf(cmd, sizeof(cmd),
	         "script -qec \"%s zone import --socket '%s/control.sock' " APEX
	         " '%s'\" /dev/null",
	         FE_TEST_FEDENUMCTL, dir, csv);
	cr_assert_eq(nc_run(dir, out, sizeof(out), cmd), 0, "%s", out);
	cr_assert_not_null(strstr(out, "checking rows ["), "%s", out);
	cr_assert_not_null(strstr(out, "] 100%"), "%s", out);
	cr_assert_not_null(strstr(out, "70001 numbers"), "%s", out);
}

Test(sign, numbers_add_remove_port)
{
	char args[1200], out[16384], csv[400];
	json_t *j;
	member("ecdsap256sha256", 0, csv, sizeof(csv));
	char sock[400];
	snprintf(sock, sizeof(sock), "--socket '%s/control.sock'", dir);
	snprintf(args, sizeof(args), "number remove %s " APEX " +15552000001", sock);
	cr_assert_eq(ctl(args, out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(strstr(out, "never imported"), "%s", out);
	write_csv(csv, 20, "ims-b.example");
	snprintf(args, sizeof(args), "zone import %s " APEX " '%s'", sock, csv);
	cr_assert_eq(ctl(args, out, sizeof(out)), 0, "%s", out);

	/* port: the number's two NAPTRs become one E2U+pstn:tel with npdi;rn= */
	snprintf(args, sizeof(args),
	         "number port --json %s " APEX " +15552000008 --rn +15554000000", sock);
	cr_assert_eq(ctl_json(args, &j), 0);
	cr_assert_leq(jint(j, "rrsets_resigned"), 3, "SOA and the NAPTR RRset (%lld)",
	              (long long)jint(j, "rrsets_resigned"));
	cr_assert_eq(jint(j, "numbers"), 20);
	json_decref(j);
	cr_assert_geq(
	        fe_test_daemon_log_count(&d, "journal -5 +4 RRs"), 1,
	        "the change is journaled as an IXFR-sized difference: SOA, 2 NAPTRs and their "
	        "RRSIGs out, SOA, 1 NAPTR and their RRSIGs in");
	size_t rrs, sigs;
	char text[4096];
	naptr(NUM8, &rrs, &sigs, text, sizeof(text));
	cr_assert_eq(rrs, 1, "%s", text);
	cr_assert_eq(sigs, 1);
	cr_assert_not_null(strstr(text, "E2U+pstn:tel"), "%s", text);
	cr_assert_not_null(strstr(text, "tel:+15552000008;npdi;rn=+15554000000"), "%s", text);

	/* add: a new number (a new name, its NSEC3 and its neighbour's signed) */
	snprintf(args, sizeof(args),
	         "number add --json --order 10 --preference 5 %s " APEX
	         " +15552000100 E2U+sip 'sip:+15552000100@ims-b.example;user=phone'",
	         sock);
	cr_assert_eq(ctl_json(args, &j), 0);
	cr_assert_eq(jint(j, "numbers"), 21);
	cr_assert_leq(jint(j, "rrsets_resigned"), 8);
	json_decref(j);
	naptr("0.0.1.0.0.0.2.5.5.5.1.e164.fed.", &rrs, &sigs, text, sizeof(text));
	cr_assert_eq(rrs, 1, "%s", text);
	cr_assert_not_null(strstr(text, "10 5 \"u\" \"E2U+sip\""), "%s", text);
	/* the same number and service again, a number outside the zone, a bad URI */
	cr_assert_eq(ctl(args + 0, out, sizeof(out)), 1, "%s", out);
	snprintf(args, sizeof(args),
	         "number add %s " APEX " +15552000100 E2U+sip 'sip:again@ims-b.example'", sock);
	cr_assert_eq(ctl(args, out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(strstr(out, "is there already"), "%s", out);
	snprintf(args, sizeof(args),
	         "number add %s " APEX " +15559000100 E2U+sip 'sip:x@ims-b.example'", sock);
	cr_assert_eq(ctl(args, out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(strstr(out, "outside the zone's prefix"), "%s", out);
	snprintf(args, sizeof(args), "number add %s " APEX " +15552000101 E2U+sip 'tel:+1'", sock);
	cr_assert_eq(ctl(args, out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(strstr(out, "NAPTR lint"), "%s", out);

	/* remove: the name is gone (NXDOMAIN), removing it again is refused */
	snprintf(args, sizeof(args), "number remove %s " APEX " +15552000003", sock);
	cr_assert_eq(ctl(args, out, sizeof(out)), 0, "%s", out);
	ldns_pkt *p = fe_test_query(d.host, d.port, "3.0.0.0.0.0.2.5.5.5.1.e164.fed.",
	                            LDNS_RR_TYPE_NAPTR, FE_TQ_DO, 0);
	cr_assert_not_null(p);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(p);
	cr_assert_eq(ctl(args, out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(strstr(out, "is not in"), "%s", out);
	verify_signed_file();
	/* usage */
	snprintf(args, sizeof(args), "number port %s " APEX " +15552000001", sock);
	cr_assert_eq(ctl(args, out, sizeof(out)), 2, "port needs --rn: %s", out);
	snprintf(args, sizeof(args), "number add %s " APEX " +15552000001 E2U+sip", sock);
	cr_assert_eq(ctl(args, out, sizeof(out)), 2, "%s", out);
	snprintf(args, sizeof(args), "number remove --order 5 %s " APEX " +15552000001", sock);
	cr_assert_eq(ctl(args, out, sizeof(out)), 2, "%s", out);
	cr_assert_eq(ctl("number --help", out, sizeof(out)), 0, "%s", out);
	cr_assert_eq(ctl("number renumber", out, sizeof(out)), 2, "%s", out);
}

/* The registry zone e164.fed. signed by this test with fedenum's signer (keys in
 * <dir>/reg-keys), delegating 2.5.5.5.1.e164.fed. with the DS of the member's KSK; the
 * registry's DS is the trust anchor <dir>/anchor.ds. */
static void write_registry(const char *member_ds_zone)
{
	char kd[400], err[512], path[512];
	snprintf(kd, sizeof(kd), "%s/reg-keys", dir);
	cr_assert_eq(mkdir(kd, 0700), 0);
	struct fe_sign_keyset reg, mem;
	cr_assert_eq(fe_sign_keys_load(kd, "e164.fed.", &reg, err, sizeof(err)), FE_OK, "%s", err);
	cr_assert_eq(
	        fe_sign_key_generate(kd, &reg, FE_SIGN_KSK, 13, FE_SIGN_ACTIVE, err, sizeof(err)),
	        FE_OK, "%s", err);
	cr_assert_eq(
	        fe_sign_key_generate(kd, &reg, FE_SIGN_ZSK, 13, FE_SIGN_ACTIVE, err, sizeof(err)),
	        FE_OK, "%s", err);
	snprintf(path, sizeof(path), "%s/anchor.ds", dir);
	char ds[400];
	cr_assert_eq(fe_sign_key_ds("e164.fed.", &reg.keys[0], ds, sizeof(ds)), FE_OK);
	nc_write_file(path, "%s\n", ds);
	snprintf(kd, sizeof(kd), "%s/keys", dir);
	cr_assert_eq(fe_sign_keys_load(kd, member_ds_zone, &mem, err, sizeof(err)), FE_OK, "%s",
	             err);
	const struct fe_sign_key *mk =
	        mem.keys[0].role == FE_SIGN_KSK ? &mem.keys[0] : &mem.keys[1];
	static const uint8_t apex[] = {4, 'e', '1', '6', '4', 3, 'f', 'e', 'd', 0};
	uint8_t child[256], soa[128], ns[64], cns[64], dsr[64];
	int cl = fe_sign_enum_owner("2.5.5.5.1.e164.fed.", "+15552", child);
	cr_assert_gt(cl, 0);
	/* SOA ns.e164.fed. hm.e164.fed. 1 3600 600 86400 300 */
	static const uint8_t nsn[] = {2, 'n', 's', 4, 'e', '1', '6', '4', 3, 'f', 'e', 'd', 0};
	static const uint8_t hm[] = {2, 'h', 'm', 4, 'e', '1', '6', '4', 3, 'f', 'e', 'd', 0};
	memcpy(soa, nsn, sizeof(nsn));
	memcpy(soa + sizeof(nsn), hm, sizeof(hm));
	uint8_t *t = soa + sizeof(nsn) + sizeof(hm);
	uint32_t v[5] = {1, 3600, 600, 86400, 300};
	for (int i = 0; i < 5; i++)
		fe_put_be32(t + 4 * i, v[i]);
	memcpy(ns, nsn, sizeof(nsn));
	static const uint8_t cn[] = {3, 'n', 's', '1', 5,   'i', 'm', 's', '-', 'b',
	                             7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0};
	memcpy(cns, cn, sizeof(cn));
	int dl = fe_dnssec_ds_from_dnskey(child, (size_t)cl, mk->dnskey, mk->dnskey_len, 2, dsr);
	cr_assert_gt(dl, 4);
	static const uint8_t a[] = {127, 0, 0, 1};
	struct fe_sign_rr rrs[] = {
	        {apex, 6, 3600, (uint16_t)(sizeof(nsn) + sizeof(hm) + 20), soa},
	        {apex, 2, 3600, sizeof(nsn), ns},
	        {nsn, 1, 3600, 4, a},
	        {child, 2, 3600, sizeof(cn), cns},
	        {child, 43, 3600, (uint16_t)dl, dsr},
	};
	snprintf(path, sizeof(path), "%s/registry.zone", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(
	        fe_sign_zone(apex, rrs, FE_ARRAY_LEN(rrs), &reg, NULL, f, NULL, err, sizeof(err)),
	        FE_OK, "%s", err);
	cr_assert_eq(fclose(f), 0);
	fe_sign_keyset_free(&reg);
	fe_sign_keyset_free(&mem);
}

Test(sign, import_under_trust_anchors_validates_through_the_registry)
{
	keydir();
	char args[1200], out[16384];
	snprintf(args, sizeof(args), "key generate --key-dir '%s/keys' " APEX, dir);
	cr_assert_eq(ctl(args, out, sizeof(out)), 0, "%s", out);
	/* a second member zone with keys whose DS the registry does not publish */
	snprintf(args, sizeof(args), "key generate --key-dir '%s/keys' 1.5.5.5.1.e164.fed", dir);
	cr_assert_eq(ctl(args, out, sizeof(out)), 0, "%s", out);
	write_registry(APEX);
	char path[512], reg[512], anchor[512];
	snprintf(path, sizeof(path), "%s/fedenumd.conf", dir);
	nc_write_file(path, "signing: { key-dir = \"keys\"; ns = [\"ns1.ims-b.example.\"]; };\n"
	                    "log: { level = \"info\"; };\n");
	snprintf(reg, sizeof(reg), "%s/registry.zone", dir);
	snprintf(anchor, sizeof(anchor), "%s/anchor.ds", dir);
	nc_start_config(&d, dir,
	                (const char *const[]){"--zone", reg, "--trust-anchor", anchor, NULL});
	char csv[400];
	snprintf(csv, sizeof(csv), "%s/numbers.csv", dir);
	write_csv(csv, 30, "ims-b.example");
	snprintf(args, sizeof(args), "zone import --socket '%s/control.sock' " APEX " '%s'", dir,
	         csv);
	cr_assert_eq(ctl(args, out, sizeof(out)), 0, "%s", out);
	ldns_pkt *p = fe_test_query(d.host, d.port, NUM8, LDNS_RR_TYPE_NAPTR, FE_TQ_DO, 0);
	cr_assert_not_null(p);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_assert_eq(ldns_pkt_ancount(p), 3, "two NAPTRs and their RRSIG");
	cr_assert(ldns_pkt_ad(p), "validated through the registry's DS: AD=1");
	ldns_pkt_free(p);
	/* no DS at the registry: the import is refused, nothing is served */
	nc_write_file(csv, "+15551000001,E2U+sip,sip:+15551000001@ims-a.example\n");
	snprintf(args, sizeof(args),
	         "zone import --socket '%s/control.sock' 1.5.5.5.1.e164.fed '%s'", dir, csv);
	cr_assert_eq(ctl(args, out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(strstr(out, "not stored"), "%s", out);
	p = fe_test_query(d.host, d.port, "1.0.0.0.0.0.1.5.5.5.1.e164.fed.", LDNS_RR_TYPE_NAPTR,
	                  FE_TQ_DO, 0);
	cr_assert_not_null(p);
	cr_assert_eq(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
}

/* The first answer of @name NAPTR on @port holding @want, within 30 s (polled every 100 ms);
 * true when seen. */
static bool wait_naptr(uint16_t port, const char *name, const char *want)
{
	for (int i = 0; i < 300; i++) {
		ldns_pkt *p = fe_test_query("127.0.0.1", port, name, LDNS_RR_TYPE_NAPTR, 0, 0);
		bool seen = false;
		for (size_t k = 0; p && k < ldns_pkt_ancount(p); k++) {
			char *s = ldns_rr2str(ldns_rr_list_rr(ldns_pkt_answer(p), k));
			seen |= s && strstr(s, want) != NULL;
			free(s);
		}
		ldns_pkt_free(p);
		if (seen)
			return true;
		usleep(100000);
	}
	return false;
}

Test(sign, secondary_follows_import_and_number_port)
{
	char args[1200], out[16384], csv[400], key[400], notify[64], spec[128], listen[64];
	snprintf(key, sizeof(key), "%s/peer.key", dir);
	nc_write_file(key, "key \"peer.test.\" {\n\talgorithm hmac-sha256;\n\tsecret "
	                   "\"Ut6y2zK8J0m2qv8j6I0g9bC2i0k4yD2H7n3o5q1w8e4=\";\n};\n");
	uint16_t nport = fe_test_free_port();
	cr_assert(nport);
	snprintf(notify, sizeof(notify), "127.0.0.1@%u", nport);
	keydir();
	snprintf(args, sizeof(args), "key generate --key-dir '%s/keys' " APEX, dir);
	cr_assert_eq(ctl(args, out, sizeof(out)), 0, "%s", out);
	start_node();
	fe_test_daemon_stop(&d); /* again, as a primary for one secondary */
	nc_start_config(&d, dir,
	                (const char *const[]){"--tsig-key", key, "--notify", notify, NULL});
	snprintf(csv, sizeof(csv), "%s/numbers.csv", dir);
	write_csv(csv, 200, "ims-b.example");
	snprintf(args, sizeof(args), "zone import --socket '%s/control.sock' " APEX " '%s'", dir,
	         csv);
	cr_assert_eq(ctl(args, out, sizeof(out)), 0, "%s", out);

	struct fe_test_daemon sec = {0};
	snprintf(spec, sizeof(spec), APEX "@127.0.0.1@%u", d.port);
	snprintf(listen, sizeof(listen), "127.0.0.1@%u", nport);
	cr_assert_eq(fe_test_daemon_start(&sec, NULL,
	                                  (const char *const[]){"--tsig-key", key, "--secondary",
	                                                        spec, "--listen", listen, NULL}),
	             0);
	bool got = wait_naptr(sec.port, NUM8, "ims-b.example");
	/* the port on the primary: NOTIFY, IXFR, the new route on both nodes */
	snprintf(args, sizeof(args),
	         "number port --socket '%s/control.sock' " APEX " +15552000008 --rn +15554000000",
	         dir);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = got ? ctl(args, out, sizeof(out)) : -1;
	bool moved = rc == 0 && wait_naptr(d.port, NUM8, "rn=+15554000000") &&
	             wait_naptr(sec.port, NUM8, "rn=+15554000000");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* for the report, never asserted: from the command to the secondary's new answer */
	cr_log_info("number port to the secondary's answer: %ld ms",
	            (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
	int ixfr = fe_test_daemon_log_count(&sec, "IXFR from 127.0.0.1@");
	fe_test_daemon_stop(&sec);
	cr_assert(got, "the secondary did not transfer the imported zone");
	cr_assert_eq(rc, 0, "%s", out);
	cr_assert(moved, "the ported number's new route is not served by both nodes");
	cr_assert_geq(ixfr, 1, "the change went by IXFR");
}
