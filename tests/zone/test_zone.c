/* zone/: master-file loading (ldns), node building, NSEC3 hashing, store commit. */
#include "fedenum/store.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "fedenum/zone.h"
#include "fe_test_name.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DATA   FE_SOURCE_DIR "/tests/zone/data/"
#define APEX   "5.5.5.1.e164.fed."
#define SERIAL 2024010101u

static char tmpdir[256];

static void mk_tmp(void)
{
	const char *base = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/fe-zone-XXXXXX", base ? base : "/tmp");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void rm_tmp(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(zone, .init = mk_tmp, .fini = rm_tmp);

/* Write @text to tmpdir/@name; returns the path in a static buffer (one at a time). */
static const char *write_file(const char *name, const char *fmt, ...)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
	return path;
}

struct key {
	uint8_t b[FE_WIRE_KEY_MAX];
	size_t len;
};

static struct key K(const char *s) {
	uint8_t n[FE_WIRE_NAME_MAX];
	struct key k;
	size_t nl = fe_test_wire_name(s, n);
	int r = fe_wire_name_key(n, nl, k.b, sizeof(k.b));
	cr_assert(r >= 0);
	k.len = (size_t)r;
	return k;
}

static struct fe_store *
open_store(void)
{
	char p[300];
	struct fe_store *st;
	struct fe_store_opts o = {.map_size_bytes = 64u << 20, .no_sync = true};
	snprintf(p, sizeof(p), "%s/db", tmpdir);
	cr_assert_eq(fe_store_open(p, &o, &st), FE_OK);
	return st;
}

static const char *const HDR = "$ORIGIN " APEX "\n$TTL 300\n"
                               "@ IN SOA ns1 hm.example. 1 7200 3600 1209600 300\n"
                               "@ IN NS ns1\n"
                               "ns1 IN A 192.0.2.1\n";

/* Parse @path expecting failure @want; check file and line. */
static void expect_fail(const char *path, int want, unsigned long line, const char *reason_part)
{
	struct fe_zone *z = (void *)1;
	struct fe_zone_error e;
	int rc = fe_zone_parse_file(path, NULL, &z, &e);
	cr_assert_eq(rc, want, "rc %d (%s) want %d: %s:%lu %s", rc, fe_strerror(rc), want, e.file,
	             e.line, e.reason);
	cr_assert_null(z);
	if (line)
		cr_assert_eq(e.line, line, "line %lu want %lu (%s)", e.line, line, e.reason);
	if (reason_part)
		cr_assert(strstr(e.reason, reason_part), "reason: %s", e.reason);
	cr_assert(strstr(e.file, "/") != NULL, "file named: '%s'", e.file);
}

/* A loaded zone in the store, with a reader open on it. */
struct loaded {
	struct fe_store *st;
	struct fe_store_reader *r;
	const struct fe_store_zone_rec *z;
};

static void load(const char *path, struct loaded *l)
{
	struct fe_zone_error e;
	l->st = open_store();
	int rc = fe_zone_load_file(path, NULL, l->st, &e);
	cr_assert_eq(rc, FE_OK, "%s: %s:%lu %s", fe_strerror(rc), e.file, e.line, e.reason);
	cr_assert_eq(fe_store_reader_create(l->st, &l->r), FE_OK);
	cr_assert_eq(fe_store_reader_begin(l->r), FE_OK);
	struct key a = K(APEX);
	cr_assert_eq(fe_store_get_zone(l->r, a.b, a.len, &l->z), FE_OK);
}

static void unload(struct loaded *l)
{
	fe_store_reader_end(l->r);
	fe_store_reader_destroy(l->r);
	fe_store_close(l->st);
}

static void node(struct loaded *l, const char *name, struct fe_store_node *n)
{
	struct key k = K(name);
	int rc = fe_store_get_node(l->r, l->z, k.b, k.len, n);
	cr_assert_eq(rc, FE_OK, "%s: %s", name, fe_strerror(rc));
}

/* ---- signed zones from three signers ------------------------------------------------- */

struct fixture {
	const char *file;
	uint32_t flags;
};

static const struct fixture fixtures[] = {
        {"fixture.zone", 0},
        {"fixture.ldns-nsec.signed", FE_ZONE_SIGNED | FE_ZONE_NSEC},
        {"fixture.ldns-nsec3.signed", FE_ZONE_SIGNED | FE_ZONE_NSEC3},
        {"fixture.bind-nsec3.signed", FE_ZONE_SIGNED | FE_ZONE_NSEC3},
        {"fixture.knot-nsec3.signed", FE_ZONE_SIGNED | FE_ZONE_NSEC3},
};

static void signer_loads(const struct fixture *f)
{
	char path[512];
	struct loaded l;
	struct fe_store_node n;
	struct fe_store_rrset rs;
	snprintf(path, sizeof(path), DATA "%s", f->file);
	load(path, &l);
	cr_assert_eq(l.z->serial, SERIAL, "%s", f->file);
	cr_assert_eq(l.z->flags, f->flags, "%s flags %#x", f->file, l.z->flags);
	cr_assert_eq(l.z->soa_minimum, 300);
	cr_assert_eq(l.z->node_count, 22, "%s: %llu nodes", f->file,
	             (unsigned long long)l.z->node_count);
	cr_assert_eq(l.z->apex_labels, 6);

	/* RRSIGs ride with the RRset they cover; there is never an RRSIG RRset. */
	node(&l, "1.0.0.0.0.0.2." APEX, &n);
	cr_assert(fe_store_node_find(&n, FE_T_NAPTR, &rs));
	cr_assert_eq(rs.rr_count, 1);
	cr_assert_eq(rs.sig_count, f->flags ? 1 : 0, "%s", f->file);
	cr_assert_not(fe_store_node_find(&n, FE_T_RRSIG, &rs));

	struct fe_store_stat s;
	cr_assert_eq(fe_store_stat(l.st, &s), FE_OK);
	if (f->flags & FE_ZONE_NSEC3) {
		/* 22 names minus 2 occluded ones below the cut at 7 (RFC 5155 §7.1). */
		cr_assert_eq(s.nsec3_entries, 20, "%s", f->file);
		cr_assert_eq(l.z->nsec3_alg, 1);
	} else {
		cr_assert_eq(s.nsec3_entries, 0);
	}
	if (f->flags & FE_ZONE_SIGNED) {
		/* The signers were told ~10 years; the earliest expiry is tracked. */
		int64_t now = fe_time_wall_s();
		cr_assert_gt(l.z->sig_expire_s, now + 9ll * 365 * 86400, "%s", f->file);
		cr_assert_lt(l.z->sig_expire_s, now + 11ll * 365 * 86400, "%s", f->file);
		node(&l, APEX, &n);
		cr_assert(fe_store_node_find(&n, FE_T_DNSKEY, &rs));
		cr_assert_geq(rs.sig_count, 1);
	} else {
		cr_assert_eq(l.z->sig_expire_s, 0);
	}
	if (f->flags & FE_ZONE_NSEC) {
		node(&l, APEX, &n);
		cr_assert(n.flags & FE_NODE_HAS_NSEC);
		node(&l, "ns.7." APEX, &n);
		cr_assert_not(n.flags & FE_NODE_HAS_NSEC, "occluded names are not in the chain");
	}
	unload(&l);
	rm_tmp();
	mk_tmp();
}

Test(zone, signers_load)
{
	for (size_t i = 0; i < FE_ARRAY_LEN(fixtures); i++)
		signer_loads(&fixtures[i]);
}

/* Every authoritative node's stored hash is the hash of its name, and names an NSEC3 that
 * the signer wrote (RFC 5155 §7.1); occluded nodes carry none. */
static void hashes_match(const char *const *file)
{
	char path[512];
	struct loaded l;
	struct fe_store_node n, n3;
	uint8_t key[FE_WIRE_KEY_MAX], h[64];
	snprintf(path, sizeof(path), DATA "%s", *file);
	load(path, &l);

	/* Walk all nodes backwards with prev_node, from past the zone's last name. */
	struct key a = K(APEX);
	memcpy(key, a.b, a.len);
	size_t kl = a.len;
	key[kl++] = 0xff;
	key[kl++] = 0;
	int seen = 0, hashed = 0;
	for (;;) {
		cr_assert_eq(fe_store_prev_node(l.r, l.z, key, kl, 0, &n), FE_OK);
		seen++;
		if (n.flags & FE_NODE_OCCLUDED) {
			cr_assert_eq(n.hash_len, 0);
		} else {
			cr_assert_eq(n.hash_len, 20);
			int hl = fe_wire_nsec3_hash(n.owner, l.z->nsec3_alg, l.z->nsec3_iterations,
			                            l.z->nsec3_salt, l.z->nsec3_salt_len, h);
			cr_assert_eq(hl, 20);
			cr_assert_eq(memcmp(h, n.hash, 20), 0);
			bool exact = false;
			cr_assert_eq(fe_store_nsec3_find(l.r, l.z, n.hash, 20, &exact, &n3), FE_OK);
			char s[1100];
			fe_wire_name_to_str(n.owner, s, sizeof(s));
			cr_assert(exact, "%s: no NSEC3 for %s", *file, s);
			struct fe_store_rrset rs;
			cr_assert(fe_store_node_find(&n3, FE_T_NSEC3, &rs));
			cr_assert_eq(rs.rr_count, 1);
			cr_assert_geq(rs.sig_count, 1);
			hashed++;
		}
		if (n.flags & FE_NODE_APEX)
			break;
		int r = fe_wire_name_key(n.owner, n.owner_len, key, sizeof(key));
		cr_assert_gt(r, 0);
		kl = (size_t)r;
		cr_assert_lt(seen, 100);
	}
	cr_assert_eq(seen, 22);
	cr_assert_eq(hashed, 20);
	unload(&l);
	rm_tmp();
	mk_tmp();
}

Test(zone, nsec3_hashes_match_signer)
{
	static const char *const files[] = {"fixture.ldns-nsec3.signed",
	                                    "fixture.bind-nsec3.signed",
	                                    "fixture.knot-nsec3.signed"};
	for (size_t i = 0; i < FE_ARRAY_LEN(files); i++)
		hashes_match(&files[i]);
}

/* Part of RFC 5155 Appendix A (signatures left out): a real name that looks like a hashed
 * owner and shares it with an NSEC3, and an opt-out delegation without an NSEC3. */
Test(zone, rfc5155_appendix_a_layout)
{
	const char *p = write_file(
	        "example.zone",
	        "$ORIGIN example.\n$TTL 3600\n"
	        "@ IN SOA ns1 bugs.x.w 1 3600 300 3600000 3600\n"
	        "@ IN NS ns1\n@ IN NS ns2\n@ IN NSEC3PARAM 1 0 12 aabbccdd\n"
	        "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom IN NSEC3 1 1 12 aabbccdd "
	        "2t7b4g4vsa5smi47k61mv5bv1a22bojr MX DNSKEY NS SOA NSEC3PARAM RRSIG\n"
	        "2t7b4g4vsa5smi47k61mv5bv1a22bojr IN A 192.0.2.127\n"
	        "2t7b4g4vsa5smi47k61mv5bv1a22bojr IN NSEC3 1 1 12 aabbccdd "
	        "2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG\n"
	        "kohar7mbb8dc2ce8a9qvl8hon4k53uhi IN NSEC3 1 1 12 aabbccdd "
	        "q04jkcevqvmu85r014c7dkba38o0ji5r A RRSIG\n"
	        "; a chain with other parameters is not ours\n"
	        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa IN NSEC3 1 0 5 - "
	        "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb A\n"
	        "c IN NS ns1.c\nc IN NS ns2.c\nns1.c IN A 192.0.2.7\nns2.c IN A 192.0.2.8\n"
	        "ns1 IN A 192.0.2.1\nns2 IN A 192.0.2.2\n");
	struct fe_store *st = open_store();
	struct fe_zone_error e;
	cr_assert_eq(fe_zone_load_file(p, NULL, st, &e), FE_OK, "%s:%lu %s", e.file, e.line,
	             e.reason);
	struct fe_store_reader *r;
	const struct fe_store_zone_rec *z;
	struct fe_store_node n;
	struct fe_store_rrset rs;
	bool exact;
	cr_assert_eq(fe_store_reader_create(st, &r), FE_OK);
	cr_assert_eq(fe_store_reader_begin(r), FE_OK);
	struct key a = K("example.");
	cr_assert_eq(fe_store_get_zone(r, a.b, a.len, &z), FE_OK);
	cr_assert_eq(z->flags, FE_ZONE_NSEC3);
	cr_assert_eq(z->nsec3_iterations, 12);
	cr_assert_eq(z->nsec3_salt_len, 4);
	cr_assert_eq(memcmp(z->nsec3_salt, "\xaa\xbb\xcc\xdd", 4), 0);

	/* The A record stays a name of the zone; its hash is kohar7... (Appendix A). */
	struct key h = K("2t7b4g4vsa5smi47k61mv5bv1a22bojr.example.");
	cr_assert_eq(fe_store_get_node(r, z, h.b, h.len, &n), FE_OK);
	cr_assert(fe_store_node_find(&n, FE_T_A, &rs));
	cr_assert_not(fe_store_node_find(&n, FE_T_NSEC3, &rs));
	cr_assert_eq(n.hash_len, 20);
	bool found = fe_store_nsec3_find(r, z, n.hash, 20, &exact, &n) == FE_OK && exact;
	cr_assert(found, "kohar7... NSEC3 found by the node's hash");
	uint8_t want[64];
	size_t wl = fe_test_wire_name("kohar7mbb8dc2ce8a9qvl8hon4k53uhi.example.", want);
	cr_assert_eq(n.owner_len, wl);
	cr_assert_eq(memcmp(n.owner, want, wl), 0);
	cr_assert(fe_store_node_find(&n, FE_T_NSEC3, &rs));

	/* The apex NSEC3 names the apex's hash. */
	cr_assert_eq(fe_store_get_node(r, z, a.b, a.len, &n), FE_OK);
	cr_assert_eq(fe_store_nsec3_find(r, z, n.hash, 20, &exact, &n), FE_OK);
	cr_assert(exact);

	/* Opt-out delegation: a cut; its glue is occluded and unhashed. */
	struct key c = K("c.example."), g = K("ns1.c.example.");
	cr_assert_eq(fe_store_get_node(r, z, c.b, c.len, &n), FE_OK);
	cr_assert_eq(n.flags, FE_NODE_DELEG);
	cr_assert_eq(fe_store_get_node(r, z, g.b, g.len, &n), FE_OK);
	cr_assert_eq(n.flags, FE_NODE_OCCLUDED);
	cr_assert_eq(n.hash_len, 0);

	/* Only the NSEC3PARAM's chain was kept: 3 NSEC3 nodes. */
	struct fe_store_stat s;
	cr_assert_eq(fe_store_stat(st, &s), FE_OK);
	cr_assert_eq(s.nsec3_entries, 3);
	struct key stale = K("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.");
	cr_assert_eq(fe_store_get_node(r, z, stale.b, stale.len, &n), FE_ENOENT);
	fe_store_reader_end(r);
	fe_store_reader_destroy(r);
	fe_store_close(st);
}

/* ---- node structure ------------------------------------------------------------------ */

Test(zone, cuts_ents_wildcards_and_case)
{
	struct loaded l;
	struct fe_store_node n;
	struct fe_store_rrset rs;
	load(DATA "fixture.zone", &l);

	node(&l, APEX, &n);
	cr_assert_eq(n.flags, FE_NODE_APEX);
	node(&l, "7." APEX, &n);
	cr_assert_eq(n.flags, FE_NODE_DELEG);
	cr_assert(fe_store_node_find(&n, FE_T_DS, &rs));
	node(&l, "ns.7." APEX, &n);
	cr_assert_eq(n.flags, FE_NODE_OCCLUDED);
	node(&l, "deep.ns.7." APEX, &n);
	cr_assert_eq(n.flags, FE_NODE_OCCLUDED);
	/* Empty non-terminals for every missing ancestor. */
	const char *ents[] = {"2.",         "0.2.",         "0.0.2.", "0.0.0.2.",
	                      "0.0.0.0.2.", "0.0.0.0.0.2.", "9.",     "CaSe."};
	for (size_t i = 0; i < FE_ARRAY_LEN(ents); i++) {
		char nm[300];
		snprintf(nm, sizeof(nm), "%s" APEX, ents[i]);
		node(&l, nm, &n);
		cr_assert_eq(n.rrset_count, 0, "%s", nm);
	}
	node(&l, "9." APEX, &n);
	cr_assert_eq(n.flags, FE_NODE_WILDCHILD);
	node(&l, "*.9." APEX, &n);
	cr_assert(fe_store_node_find(&n, FE_T_NAPTR, &rs));
	struct key nx = K("8." APEX);
	cr_assert_eq(fe_store_get_node(l.r, l.z, nx.b, nx.len, &n), FE_ENOENT);

	/* Owner case is kept, also for the ENT named after its child; lookups ignore it. */
	uint8_t want[64];
	size_t wl = fe_test_wire_name("wILD.case." APEX, want);
	node(&l, "wild.case." APEX, &n);
	cr_assert_eq(n.owner_len, wl);
	cr_assert_eq(memcmp(n.owner,
	                    "\x04WiLd\x04"
	                    "CaSe",
	                    10),
	             0);
	node(&l, "case." APEX, &n);
	cr_assert_eq(memcmp(n.owner,
	                    "\x04"
	                    "CaSe\x01"
	                    "5",
	                    7),
	             0);
	unload(&l);
}

Test(zone, rdata_is_uncompressed_wire_and_rfc3597_kept)
{
	struct loaded l;
	struct fe_store_node n;
	struct fe_store_rrset rs;
	const uint8_t *rd;
	uint16_t rl;
	bool sig;
	size_t it;
	load(DATA "fixture.zone", &l);

	/* RFC 3597: unknown type, opaque RDATA as written. */
	node(&l, "x." APEX, &n);
	cr_assert(fe_store_node_find(&n, 65280, &rs));
	it = 0;
	cr_assert(fe_store_rrset_next(&rs, &it, &rd, &rl, &sig));
	cr_assert_eq(rl, 4);
	cr_assert_eq(memcmp(rd, "\x0a\x00\x00\x01", 4), 0);
	cr_assert_eq(rs.ttl, 3600);

	/* MX: preference + exchange name, uncompressed. */
	node(&l, "mail." APEX, &n);
	cr_assert(fe_store_node_find(&n, FE_T_MX, &rs));
	it = 0;
	cr_assert(fe_store_rrset_next(&rs, &it, &rd, &rl, &sig));
	uint8_t mx[64] = {0, 10};
	size_t ml = 2 + fe_test_wire_name("mx.example.", mx + 2);
	cr_assert_eq(rl, ml);
	cr_assert_eq(memcmp(rd, mx, ml), 0);

	/* CNAME target made absolute from the relative name in the file. */
	node(&l, "alias." APEX, &n);
	cr_assert(fe_store_node_find(&n, FE_T_CNAME, &rs));
	it = 0;
	cr_assert(fe_store_rrset_next(&rs, &it, &rd, &rl, &sig));
	uint8_t cn[64];
	size_t cl = fe_test_wire_name("1.0.0.0.0.0.2." APEX, cn);
	cr_assert_eq(rl, cl);
	cr_assert_eq(memcmp(rd, cn, cl), 0);

	/* NAPTR: order, pref, flags, service, regexp, replacement (RFC 3403 §4.1). */
	node(&l, "3.0.0.0.0.0.2." APEX, &n);
	cr_assert(fe_store_node_find(&n, FE_T_NAPTR, &rs));
	it = 0;
	cr_assert(fe_store_rrset_next(&rs, &it, &rd, &rl, &sig));
	const char *re = "!^.*$!tel:+15552000003;npdi;rn=+15559990003!";
	uint8_t nap[200] = {0, 10, 0, 100, 1, 'u', 12};
	size_t o = 7;
	memcpy(nap + o, "E2U+pstn:tel", 12);
	o += 12;
	nap[o++] = (uint8_t)strlen(re);
	memcpy(nap + o, re, strlen(re));
	o += strlen(re);
	nap[o++] = 0;
	cr_assert_eq(rl, o);
	cr_assert_eq(memcmp(rd, nap, o), 0);

	/* TXT with two strings; the apex NS RRset has two RRs. */
	node(&l, "txt." APEX, &n);
	cr_assert(fe_store_node_find(&n, FE_T_TXT, &rs));
	cr_assert_eq(rs.body_len, 2 + 12);
	node(&l, APEX, &n);
	cr_assert(fe_store_node_find(&n, FE_T_NS, &rs));
	cr_assert_eq(rs.rr_count, 2);
	unload(&l);
}

/* ---- errors with file:line ----------------------------------------------------------- */

Test(zone, syntax_error_names_file_and_line)
{
	const char *p = write_file("bad.zone", "%s; comment\n\nwww IN A 192.0.2.300\n", HDR);
	expect_fail(p, FE_ESYNTAX, 8, NULL);
	p = write_file("bad2.zone", "%swww IN BOGUS 1\n", HDR);
	expect_fail(p, FE_ESYNTAX, 6, NULL);
	p = write_file("bad3.zone", "%smx IN MX 10\n", HDR);
	expect_fail(p, FE_ESYNTAX, 6, NULL);
}

Test(zone, out_of_zone_and_soa_rules)
{
	const char *p =
	        write_file("ooz.zone", "%swww IN A 192.0.2.1\nwww.example. IN A 1.2.3.4\n", HDR);
	expect_fail(p, FE_EFORMAT, 7, "outside the zone");
	p = write_file("soa2.zone", "%s@ IN SOA ns1 hm.example. 2 7200 3600 1209600 300\n", HDR);
	expect_fail(p, FE_EFORMAT, 6, "second SOA");
	p = write_file("soa3.zone", "%ssub IN SOA ns1 hm.example. 2 7200 3600 1209600 300\n", HDR);
	expect_fail(p, FE_EFORMAT, 6, "SOA not at the zone apex");
	p = write_file("nosoa.zone", "$ORIGIN " APEX "\n@ IN NS ns1\n");
	expect_fail(p, FE_EFORMAT, 0, "no SOA");
	p = write_file("ch.zone", "%sx CH TXT \"a\"\n", HDR);
	struct fe_zone *z;
	struct fe_zone_error e;
	cr_assert_lt(fe_zone_parse_file(p, NULL, &z, &e), 0);
	p = write_file("meta.zone", "%sx IN TYPE255 \\# 0\n", HDR);
	expect_fail(p, FE_EFORMAT, 6, "cannot appear");
	p = write_file("noparam.zone",
	               "%saaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa IN NSEC3 1 0 0 - "
	               "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb A\n",
	               HDR);
	expect_fail(p, FE_EFORMAT, 0, "NSEC3PARAM");
	cr_assert_eq(fe_zone_parse_file("/nonexistent/zone", NULL, &z, &e), FE_ENOENT);
}

Test(zone, identical_soa_and_duplicates_are_merged)
{
	const char *p =
	        write_file("dup.zone",
	                   "%s@ IN SOA ns1 hm.example. 1 7200 3600 1209600 300\n"
	                   "www IN A 192.0.2.1\nwww IN A 192.0.2.1\nWWW 60 IN A 192.0.2.2\n",
	                   HDR);
	struct fe_zone *z;
	struct fe_zone_error e;
	cr_assert_eq(fe_zone_parse_file(p, NULL, &z, &e), FE_OK, "%s", e.reason);
	cr_assert_eq(fe_zone_rr_count(z), 5); /* SOA NS ns1/A www/A ×2 */
	struct fe_store *st = open_store();
	cr_assert_eq(fe_zone_commit(z, st, &e), FE_OK);
	fe_zone_free(z);
	struct fe_store_reader *r;
	const struct fe_store_zone_rec *zr;
	struct fe_store_node n;
	struct fe_store_rrset rs;
	cr_assert_eq(fe_store_reader_create(st, &r), FE_OK);
	cr_assert_eq(fe_store_reader_begin(r), FE_OK);
	struct key a = K(APEX), w = K("www." APEX);
	cr_assert_eq(fe_store_get_zone(r, a.b, a.len, &zr), FE_OK);
	cr_assert_eq(fe_store_get_node(r, zr, w.b, w.len, &n), FE_OK);
	cr_assert(fe_store_node_find(&n, FE_T_A, &rs));
	cr_assert_eq(rs.rr_count, 2);
	cr_assert_eq(rs.ttl, 300, "RRset TTL: the first RR's (RFC 2181 §5.2)");
	fe_store_reader_end(r);
	fe_store_reader_destroy(r);
	fe_store_close(st);
}

Test(zone, include_inside_root_only)
{
	char sub[300], p[600];
	snprintf(sub, sizeof(sub), "%s/zones", tmpdir);
	cr_assert_eq(mkdir(sub, 0700), 0);
	write_file("zones/part.inc", "www IN A 192.0.2.10\n");
	write_file("zones/other.inc", "@ IN A 192.0.2.11\n");
	write_file("secret.inc", "leak IN A 192.0.2.12\n");
	write_file("zones/ok.zone",
	           "%s$INCLUDE part.inc\n$INCLUDE \"other.inc\" host ; comment\n"
	           "after IN A 192.0.2.13\n",
	           HDR);
	snprintf(p, sizeof(p), "%s/zones/ok.zone", tmpdir);
	struct loaded l;
	struct fe_store_node n;
	struct fe_store_rrset rs;
	load(p, &l);
	node(&l, "www." APEX, &n);
	node(&l, "host." APEX, &n);
	cr_assert(fe_store_node_find(&n, FE_T_A, &rs));
	/* The include's origin did not leak: "after" is relative to the apex. */
	node(&l, "after." APEX, &n);
	unload(&l);

	/* Outside the root: relative escape, absolute path. Nothing is loaded. */
	write_file("zones/esc.zone", "%s\n$INCLUDE ../secret.inc\n", HDR);
	snprintf(p, sizeof(p), "%s/zones/esc.zone", tmpdir);
	expect_fail(p, FE_EPERM, 7, "outside the include root");
	write_file("zones/abs.zone", "%s$INCLUDE /etc/hostname\n", HDR);
	snprintf(p, sizeof(p), "%s/zones/abs.zone", tmpdir);
	expect_fail(p, FE_EPERM, 6, "outside the include root");
	/* A symlink inside the root pointing out of it is outside too. */
	char lnk[600];
	snprintf(lnk, sizeof(lnk), "%s/zones/link.inc", tmpdir);
	snprintf(p, sizeof(p), "%s/secret.inc", tmpdir);
	cr_assert_eq(symlink(p, lnk), 0);
	write_file("zones/sym.zone", "%s$INCLUDE link.inc\n", HDR);
	snprintf(p, sizeof(p), "%s/zones/sym.zone", tmpdir);
	expect_fail(p, FE_EPERM, 6, NULL);
	/* With include_root set to the parent, the escape is allowed. */
	struct fe_zone_opts o = {.include_root = tmpdir};
	struct fe_zone *z;
	struct fe_zone_error e;
	snprintf(p, sizeof(p), "%s/zones/esc.zone", tmpdir);
	cr_assert_eq(fe_zone_parse_file(p, &o, &z, &e), FE_OK, "%s", e.reason);
	fe_zone_free(z);
	/* Include loops stop at the depth limit. */
	write_file("zones/loop.zone", "%s$INCLUDE loop.inc\n", HDR);
	write_file("zones/loop.inc", "$INCLUDE loop.inc\n");
	snprintf(p, sizeof(p), "%s/zones/loop.zone", tmpdir);
	expect_fail(p, FE_ERANGE, 0, "nested");
}

Test(zone, ttl_defaults)
{
	/* No $TTL: an omitted TTL repeats the last stated one (RFC 1035 §5.1). */
	const char *p = write_file(
	        "ttl.zone", "$ORIGIN " APEX "\n"
	                    "@ 120 IN SOA ns1 hm.example. 1 7200 3600 1209600 300\n"
	                    "@ IN NS ns1\nns1 77 IN A 192.0.2.1\na IN A 192.0.2.2\n"
	                    "$TTL 55\nb IN A 192.0.2.3\nc 9 IN A 192.0.2.4\nd IN A 192.0.2.5\n");
	struct loaded l;
	struct fe_store_node n;
	struct fe_store_rrset rs;
	load(p, &l);
	const struct {
		const char *name;
		uint16_t type;
		uint32_t ttl;
	} want[] = {{APEX, FE_T_NS, 120},    {"ns1." APEX, FE_T_A, 77}, {"a." APEX, FE_T_A, 77},
	            {"b." APEX, FE_T_A, 55}, {"c." APEX, FE_T_A, 9},    {"d." APEX, FE_T_A, 55}};
	for (size_t i = 0; i < FE_ARRAY_LEN(want); i++) {
		node(&l, want[i].name, &n);
		cr_assert(fe_store_node_find(&n, want[i].type, &rs));
		cr_assert_eq(rs.ttl, want[i].ttl, "%s: %u", want[i].name, rs.ttl);
	}
	cr_assert_eq(l.z->soa_ttl, 120);
	unload(&l);
}

Test(zone, relative_origin_directive)
{
	const char *p = write_file("org.zone",
	                           "%s$ORIGIN sub\nwww IN A 192.0.2.1\n"
	                           "$ORIGIN " APEX "\nmore IN A 192.0.2.2\n",
	                           HDR);
	struct loaded l;
	struct fe_store_node n;
	load(p, &l);
	node(&l, "www.sub." APEX, &n);
	node(&l, "more." APEX, &n);
	unload(&l);
}

Test(zone, limits)
{
	const char *p = write_file("many.zone",
	                           "%sa IN A 192.0.2.1\nb IN A 192.0.2.2\n"
	                           "c IN A 192.0.2.3\n",
	                           HDR);
	struct fe_zone *z;
	struct fe_zone_error e;
	struct fe_zone_opts o = {.max_records = 4};
	cr_assert_eq(fe_zone_parse_file(p, &o, &z, &e), FE_ERANGE);
	cr_assert_eq(e.line, 7);

	p = write_file("rrset.zone", "%sa IN A 192.0.2.1\na IN A 192.0.2.2\na IN A 192.0.2.3\n",
	               HDR);
	struct fe_zone_opts o2 = {.max_rrset_rrs = 2};
	cr_assert_eq(fe_zone_parse_file(p, &o2, &z, &e), FE_ERANGE);
	cr_assert(strstr(e.file, "rrset.zone"));
	cr_assert(e.line >= 6 && e.line <= 8);

	char big[3000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	p = write_file("line.zone", "%st IN TXT \"%.200s\"\n", HDR, big);
	struct fe_zone_opts o3 = {.max_line_bytes = 100};
	cr_assert_eq(fe_zone_parse_file(p, &o3, &z, &e), FE_ERANGE);
	cr_assert_eq(e.line, 6);
	/* A huge comment line counts as a line too. */
	p = write_file("cline.zone", "%s; %s\n", HDR, big);
	cr_assert_eq(fe_zone_parse_file(p, &o3, &z, &e), FE_ERANGE);

	/* Beyond ldns's own limit: a range error, not a crash or a truncated record. */
	size_t hl = 40000;
	char *huge = malloc(hl + 1);
	memset(huge, 'y', hl);
	huge[hl] = 0;
	p = write_file("huge.zone", "%st IN TXT \"%s\"\nu IN A 192.0.2.1\n", HDR, huge);
	free(huge);
	cr_assert_eq(fe_zone_parse_file(p, NULL, &z, &e), FE_ERANGE);
	cr_assert_eq(e.line, 6);
}

Test(zone, same_serial_is_a_noop_new_serial_replaces)
{
	struct fe_store *st = open_store();
	struct fe_zone_error e;
	const char *p = write_file("v1.zone", "%swww IN A 192.0.2.1\n", HDR);
	cr_assert_eq(fe_zone_load_file(p, NULL, st, &e), FE_OK);
	/* The same serial and content from another file: nothing to do. */
	p = write_file("v1copy.zone", "%swww IN A 192.0.2.1\n", HDR);
	cr_assert_eq(fe_zone_load_file(p, NULL, st, &e), FE_EEXIST);
	/* The same serial with other content: refused (the serial must move forward). */
	p = write_file("v1b.zone", "%sother IN A 192.0.2.2\n", HDR);
	cr_assert_eq(fe_zone_load_file(p, NULL, st, &e), FE_ESERIAL);
	cr_assert_not_null(strstr(e.reason, "already stored with different content"), "%s",
	                   e.reason);

	struct fe_store_reader *r;
	const struct fe_store_zone_rec *zr;
	struct fe_store_node n;
	struct key a = K(APEX), w = K("www." APEX), o = K("other." APEX);
	cr_assert_eq(fe_store_reader_create(st, &r), FE_OK);
	cr_assert_eq(fe_store_reader_begin(r), FE_OK);
	cr_assert_eq(fe_store_get_zone(r, a.b, a.len, &zr), FE_OK);
	uint64_t v1 = zr->version;
	cr_assert_eq(fe_store_get_node(r, zr, w.b, w.len, &n), FE_OK);
	cr_assert_eq(fe_store_get_node(r, zr, o.b, o.len, &n), FE_ENOENT);
	fe_store_reader_end(r);

	p = write_file("v2.zone", "$ORIGIN " APEX
	                          "\n$TTL 300\n@ IN SOA ns1 hm.example. 2 7200 3600 1209600 300\n"
	                          "@ IN NS ns1\nns1 IN A 192.0.2.1\nother IN A 192.0.2.2\n");
	cr_assert_eq(fe_zone_load_file(p, NULL, st, &e), FE_OK);
	cr_assert_eq(fe_store_reader_begin(r), FE_OK);
	cr_assert_eq(fe_store_get_zone(r, a.b, a.len, &zr), FE_OK);
	cr_assert_gt(zr->version, v1);
	cr_assert_eq(zr->serial, 2);
	cr_assert_eq(fe_store_get_node(r, zr, w.b, w.len, &n), FE_ENOENT);
	cr_assert_eq(fe_store_get_node(r, zr, o.b, o.len, &n), FE_OK);
	fe_store_reader_end(r);

	/* Back to serial 1: refused, unless forced (a rollback on purpose). */
	p = write_file("v1.zone", "%swww IN A 192.0.2.1\n", HDR);
	cr_assert_eq(fe_zone_load_file(p, NULL, st, &e), FE_ESERIAL);
	struct fe_zone_opts force = {.force = true};
	cr_assert_eq(fe_zone_load_file(p, &force, st, &e), FE_OK, "%s", e.reason);
	cr_assert_eq(fe_store_reader_begin(r), FE_OK);
	cr_assert_eq(fe_store_get_zone(r, a.b, a.len, &zr), FE_OK);
	cr_assert_eq(zr->serial, 1);
	fe_store_reader_end(r);
	fe_store_reader_destroy(r);
	fe_store_close(st);
}

Test(zone, serial_arithmetic_rfc1982)
{
	cr_assert_eq(fe_serial_cmp(1, 1), 0);
	cr_assert_eq(fe_serial_cmp(1, 2), -1);
	cr_assert_eq(fe_serial_cmp(2, 1), 1);
	cr_assert_eq(fe_serial_cmp(0xffffffffu, 0), -1, "wraps: 0 follows 2^32-1");
	cr_assert_eq(fe_serial_cmp(0, 0xffffffffu), 1);
	cr_assert_eq(fe_serial_cmp(0, 0x80000000u), 2, "2^31 apart: undefined");
	cr_assert_eq(fe_serial_cmp(0, 0x7fffffffu), -1);
	cr_assert_eq(fe_serial_cmp(0x80000001u, 0), -1);
}

Test(zone, validate_structure)
{
	struct fe_zone *z;
	struct fe_zone_error e;
	const char *p = write_file("cn.zone", "%sa IN CNAME b\na IN A 192.0.2.1\n", HDR);
	cr_assert_eq(fe_zone_parse_file(p, NULL, &z, &e), FE_OK);
	cr_assert_eq(fe_zone_validate(z, &e), FE_EVALIDATE);
	cr_assert(strstr(e.reason, "CNAME"));
	cr_assert_eq(e.line, 6);
	fe_zone_free(z);

	p = write_file("nons.zone",
	               "$ORIGIN " APEX "\n@ IN SOA ns1 hm.example. 1 7200 3600 1209600 300\n"
	               "a IN A 192.0.2.1\n");
	cr_assert_eq(fe_zone_parse_file(p, NULL, &z, &e), FE_OK);
	cr_assert_eq(fe_zone_validate(z, &e), FE_EVALIDATE);
	fe_zone_free(z);
	struct fe_store *st = open_store();
	cr_assert_eq(fe_zone_load_file(p, NULL, st, &e), FE_EVALIDATE);
	struct fe_store_stat s;
	cr_assert_eq(fe_store_stat(st, &s), FE_OK);
	cr_assert_eq(s.zone_count, 0, "nothing stored when validation fails");
	fe_store_close(st);

	p = write_file("good.zone", "%sa IN CNAME b\n", HDR);
	cr_assert_eq(fe_zone_parse_file(p, NULL, &z, &e), FE_OK);
	cr_assert_eq(fe_zone_validate(z, &e), FE_OK);
	size_t al;
	const uint8_t *apex = fe_zone_apex(z, &al);
	uint8_t want[64];
	cr_assert_eq(al, fe_test_wire_name(APEX, want));
	cr_assert_eq(memcmp(apex, want, al), 0);
	cr_assert_eq(fe_zone_serial(z), 1);
	fe_zone_free(z);
	fe_zone_free(NULL);
}

Test(zone, peek_apex_and_origin_option)
{
	char apex[300];
	struct fe_zone_error e;
	cr_assert_eq(fe_zone_peek_apex(DATA "fixture.knot-nsec3.signed", apex, sizeof(apex), &e),
	             FE_OK);
	cr_assert_str_eq(apex, APEX);
	const char *p = write_file("rel.zone", "$TTL 60\n@ IN SOA ns1 hm 1 2 3 4 5\n@ IN NS ns1\n"
	                                       "ns1 IN A 192.0.2.1\n");
	cr_assert_eq(fe_zone_peek_apex(p, apex, sizeof(apex), &e), FE_EFORMAT);
	struct fe_zone *z;
	struct fe_zone_opts o = {.origin = "example.test"};
	cr_assert_eq(fe_zone_parse_file(p, &o, &z, &e), FE_OK, "%s", e.reason);
	size_t al;
	const uint8_t *a = fe_zone_apex(z, &al);
	uint8_t want[64];
	cr_assert_eq(al, fe_test_wire_name("example.test.", want));
	cr_assert_eq(memcmp(a, want, al), 0);
	fe_zone_free(z);
}
