/* fedenumctl query: ask a running fedenumd, and with --validate check the answer with
 * libunbound configured with only the federation's trust anchors.
 *
 * The validator forwards every query — the DNSKEY and DS lookups of the chain of trust
 * included — to the one server given, and trusts nothing but the anchors given: libunbound
 * starts with no anchor (no root key), and we read neither /etc/hosts nor resolv.conf. So a
 * "secure" here means: a chain of trust from a federation anchor to this answer, as served by
 * this fedenumd. */
#include "ctl_int.h"
#include "query_int.h"
#include "fedenum/server.h"
#include "fedenum/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <ldns/ldns.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unbound.h>

void fe__ctl_query_usage(FILE *f)
{
	fprintf(f, "       fedenumctl query [--server ADDR@PORT] [--tcp] [--validate]\n"
	           "                        [--trust-anchor FILE]... [--federation FILE]\n"
	           "                        (NAME [TYPE] | --rfc3263 DOMAIN)\n");
}

static void query_help(FILE *f)
{
	fprintf(f, "usage:\n");
	fe__ctl_query_usage(f);
	fprintf(f,
	        "\n"
	        "  --server ADDR@PORT    the fedenumd to ask (default " FE__Q_DEFAULT_SERVER ")\n"
	        "  --tcp                 ask over TCP (default UDP)\n"
	        "  --validate            validate with libunbound, trusting only the anchors\n"
	        "  --trust-anchor FILE   DS or DNSKEY records (ldns-key2ds, dnssec-dsfromkey or\n"
	        "                        ldns-keygen output); repeatable\n"
	        "  --federation FILE     the trust-anchors of a federation.conf (or of the\n"
	        "                        federation a fedenumd.conf points at)\n"
	        "  --rfc3263 DOMAIN      follow NAPTR -> SRV -> A/AAAA of a SIP entry-point\n"
	        "                        domain (RFC 3263 section 4), each step checked\n"
	        "  --verbose             libunbound's own trace on stderr (repeat for more)\n"
	        "  NAME [TYPE]           TYPE defaults to NAPTR\n"
	        "\n"
	        "Exit status: 0 answered (with --validate: and secure), 1 bogus or insecure,\n"
	        "2 usage, 3 no answer from the server.\n");
}

/* ---- options ---------------------------------------------------------------------------- */

/* "ADDR@PORT" or "ADDR" (port 53), as fedenumd's listen addresses; port 0 is no server. */
int fe__q_parse_server(struct fe__q *q, const char *s)
{
	struct fe_listen_addr la;
	if (fe_server_listen_parse(s, &la) != FE_OK || la.port == 0 ||
	    strlen(la.host) >= sizeof(q->addr))
		return -1;
	memcpy(q->addr, la.host, strlen(la.host) + 1); /* fits: checked above */
	q->port = la.port;
	return 0;
}

char *fe__q_one_line(const ldns_rr *rr)
{
	char *s = ldns_rr2str(rr);
	if (!s)
		return NULL;
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
	return s;
}

static int add_anchor(struct fe__q *q, const ldns_rr *rr, const char *path, int line)
{
	ldns_rr_type t = ldns_rr_get_type(rr);
	if (t != LDNS_RR_TYPE_DS && t != LDNS_RR_TYPE_DNSKEY) {
		fprintf(stderr, "fedenumctl: %s:%d: a trust anchor is a DS or DNSKEY record\n",
		        path, line);
		return -1;
	}
	if (q->n_anchors == FE__Q_MAX_ANCHORS) {
		fprintf(stderr, "fedenumctl: more than %d trust anchors\n", FE__Q_MAX_ANCHORS);
		return -1;
	}
	char *owner = ldns_rdf2str(ldns_rr_owner(rr));
	unsigned tag = t == LDNS_RR_TYPE_DS && ldns_rr_rd_count(rr) > 0
	                       ? ldns_rdf2native_int16(ldns_rr_rdf(rr, 0))
	                       : ldns_calc_keytag(rr);
	char label[600];
	snprintf(label, sizeof(label), "%s %s %u", owner ? owner : "?",
	         t == LDNS_RR_TYPE_DS ? "DS" : "DNSKEY", tag);
	free(owner);
	struct fe__q_anchor *a = &q->anchors[q->n_anchors];
	a->rr = fe__q_one_line(rr);
	a->label = strdup(label);
	if (!a->rr || !a->label) {
		free(a->rr);
		free(a->label);
		return -1;
	}
	q->n_anchors++;
	return 0;
}

/* Every DS/DNSKEY of a master-format file; anything else, or nothing at all, is an error. */
int fe__q_read_anchor_file(struct fe__q *q, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "fedenumctl: cannot read trust anchor file %s: %s\n", path,
		        strerror(errno));
		return -1;
	}
	uint32_t ttl = 3600;
	ldns_rdf *origin = NULL, *prev = NULL;
	int line = 0, rc = 0;
	size_t before = q->n_anchors;
	while (!feof(f)) {
		ldns_rr *rr = NULL;
		ldns_status st = ldns_rr_new_frm_fp_l(&rr, f, &ttl, &origin, &prev, &line);
		if (st == LDNS_STATUS_SYNTAX_EMPTY || st == LDNS_STATUS_SYNTAX_TTL ||
		    st == LDNS_STATUS_SYNTAX_ORIGIN)
			continue;
		if (st != LDNS_STATUS_OK) {
			if (feof(f) && !rr)
				break;
			fprintf(stderr, "fedenumctl: %s:%d: %s\n", path, line,
			        ldns_get_errorstr_by_id(st));
			rc = -1;
			break;
		}
		rc = add_anchor(q, rr, path, line);
		ldns_rr_free(rr);
		if (rc)
			break;
	}
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	fclose(f);
	if (rc == 0 && q->n_anchors == before) {
		fprintf(stderr, "fedenumctl: %s holds no DS or DNSKEY record\n", path);
		rc = -1;
	}
	return rc;
}

static int read_anchor_file_cb(const char *file, void *arg)
{
	return fe__q_read_anchor_file(arg, file);
}

int fe__q_read_federation(struct fe__q *q, const char *path)
{
	return fe__ctl_federation_anchors(path, read_anchor_file_cb, q);
}

/* ---- lookups ---------------------------------------------------------------------------- */

int fe__q_setup_direct(struct fe__q *q)
{
	q->res = ldns_resolver_new();
	if (!q->res)
		return -1;
	bool v6 = strchr(q->addr, ':') != NULL;
	ldns_rdf *ns = ldns_rdf_new_frm_str(v6 ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, q->addr);
	if (!ns || ldns_resolver_push_nameserver(q->res, ns) != LDNS_STATUS_OK) {
		ldns_rdf_deep_free(ns);
		return -1;
	}
	ldns_rdf_deep_free(ns);
	ldns_resolver_set_port(q->res, q->port);
	ldns_resolver_set_recursive(q->res, true);
	ldns_resolver_set_dnssec(q->res, true); /* DO=1: the RRSIGs and proofs are shown */
	ldns_resolver_set_edns_udp_size(q->res, 1232);
	ldns_resolver_set_usevc(q->res, q->tcp);
	ldns_resolver_set_fallback(q->res, true); /* TC=1 over UDP: again over TCP */
	ldns_resolver_set_retry(q->res, 2);
	ldns_resolver_set_timeout(q->res, (struct timeval){.tv_sec = 1});
	return 0;
}

static int ub_opt(struct ub_ctx *ctx, const char *opt, const char *val)
{
	int rc = ub_ctx_set_option(ctx, opt, val);
	if (rc)
		fprintf(stderr, "fedenumctl: libunbound %s %s: %s\n", opt, val, ub_strerror(rc));
	return rc ? -1 : 0;
}

int fe__q_setup_validator(struct fe__q *q)
{
	q->ub = ub_ctx_create();
	if (!q->ub) {
		fprintf(stderr, "fedenumctl: cannot create a libunbound context\n");
		return -1;
	}
	char fwd[INET6_ADDRSTRLEN + 8];
	snprintf(fwd, sizeof(fwd), "%s@%u", q->addr, (unsigned)q->port);
	int rc = ub_ctx_set_fwd(q->ub, fwd);
	if (rc) {
		fprintf(stderr, "fedenumctl: libunbound forwarder %s: %s\n", fwd, ub_strerror(rc));
		return -1;
	}
	/* The server is typically on loopback; a bogus answer must stay bogus (RFC 4035 §5.5)
	 * and the DNSSEC records must be there where an anchor says so; no RFC 8145 signalling
	 * queries; no denial synthesised from cached NSEC/NSEC3 (RFC 8198), so what is checked
	 * is what the server sent. No domain-insecure, no root anchor. */
	if (ub_opt(q->ub, "do-not-query-localhost:", "no") ||
	    ub_opt(q->ub, "aggressive-nsec:", "no") ||
	    ub_opt(q->ub, "val-permissive-mode:", "no") ||
	    ub_opt(q->ub, "harden-dnssec-stripped:", "yes") ||
	    ub_opt(q->ub, "trust-anchor-signaling:", "no") ||
	    ub_opt(q->ub, "tcp-upstream:", q->tcp ? "yes" : "no"))
		return -1;
	if (q->verbose) {
		ub_ctx_debugout(q->ub, stderr);
		ub_ctx_debuglevel(q->ub, q->verbose + 1);
	}
	for (size_t i = 0; i < q->n_anchors; i++) {
		rc = ub_ctx_add_ta(q->ub, q->anchors[i].rr);
		if (rc) {
			fprintf(stderr, "fedenumctl: trust anchor %s: %s\n", q->anchors[i].rr,
			        ub_strerror(rc));
			return -1;
		}
	}
	return 0;
}

void fe__q_answer_clear(struct fe__q_answer *a)
{
	if (a->pkt)
		ldns_pkt_free(a->pkt);
	memset(a, 0, sizeof(*a));
}

/* The server's own answer. 0, or -1 when it did not answer. */
int fe__q_ask_direct(struct fe__q *q, const char *name, uint16_t type, struct fe__q_answer *a)
{
	ldns_rdf *dn = ldns_dname_new_frm_str(name);
	if (!dn)
		return -1;
	ldns_pkt *p = NULL;
	ldns_status st = ldns_resolver_query_status(&p, q->res, dn, (ldns_rr_type)type,
	                                            LDNS_RR_CLASS_IN, LDNS_RD);
	ldns_rdf_deep_free(dn);
	if (st != LDNS_STATUS_OK || !p) {
		ldns_pkt_free(p);
		return -1;
	}
	a->pkt = p;
	a->rcode = ldns_pkt_get_rcode(p);
	a->status = ST_UNVALIDATED;
	return 0;
}

/* Through the validator. 0, or -1 when libunbound could not run the lookup. */
static int fe__q_ask_validated(struct fe__q *q, const char *name, uint16_t type,
                               struct fe__q_answer *a)
{
	struct ub_result *r = NULL;
	int rc = ub_resolve(q->ub, name, type, LDNS_RR_CLASS_IN, &r);
	if (rc) {
		fprintf(stderr, "fedenumctl: %s: %s\n", name, ub_strerror(rc));
		return -1;
	}
	a->rcode = r->rcode;
	a->status = r->secure ? ST_SECURE : r->bogus ? ST_BOGUS : ST_INSECURE;
	if (r->bogus)
		snprintf(a->why, sizeof(a->why), "%s", r->why_bogus ? r->why_bogus : "");
	else if (!r->secure && r->rcode == LDNS_RCODE_SERVFAIL)
		snprintf(a->why, sizeof(a->why), "no answer could be validated");
	if (r->answer_packet && r->answer_len > 0 &&
	    ldns_wire2pkt(&a->pkt, r->answer_packet, (size_t)r->answer_len) != LDNS_STATUS_OK)
		a->pkt = NULL;
	ub_resolve_free(r);
	return 0;
}

/* {name, type, rcode, status, why, records} of one lookup into q->steps. */
static void record_step(struct fe__q *q, const char *name, uint16_t type,
                        const struct fe__q_answer *a)
{
	char rc_s[32];
	fe__q_rcode_str(a->rcode, rc_s, sizeof(rc_s));
	char *tn = ldns_rr_type2str((ldns_rr_type)type);
	json_t *recs = json_array();
	ldns_rr_list *l = fe__q_rrs_of(a, (ldns_rr_type)type);
	for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(l, i);
		char *rd = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&rd, &len);
		for (size_t k = 0; m && k < ldns_rr_rd_count(rr); k++) {
			char *f = ldns_rdf2str(ldns_rr_rdf(rr, k));
			fprintf(m, "%s%s", k ? " " : "", f ? f : "?");
			free(f);
		}
		if (m)
			fclose(m);
		if (rd)
			json_array_append_new(recs, json_string(rd));
		free(rd);
	}
	ldns_rr_list_deep_free(l);
	json_t *st =
	        json_pack("{s:s, s:s, s:s, s:s, s:o}", "name", name, "type", tn ? tn : "?", "rcode",
	                  rc_s, "status", fe__q_status_str(a->status), "records", recs);
	if (st && a->why[0])
		json_object_set_new(st, "why", json_string(a->why));
	json_array_append_new(q->steps, st);
	free(tn);
}

int fe__q_ask(struct fe__q *q, const char *name, uint16_t type, struct fe__q_answer *a)
{
	memset(a, 0, sizeof(*a));
	int rc = q->validate ? fe__q_ask_validated(q, name, type, a)
	                     : fe__q_ask_direct(q, name, type, a);
	if (rc)
		return rc;
	q->lookups++;
	if (a->status == ST_SECURE)
		q->n_secure++;
	else if (a->status == ST_BOGUS)
		q->n_bogus++;
	else if (a->status == ST_INSECURE)
		q->n_insecure++;
	if (q->steps)
		record_step(q, name, type, a);
	return 0;
}

const char *fe__q_status_str(enum fe__q_status s)
{
	switch (s) {
	case ST_SECURE:
		return "secure";
	case ST_INSECURE:
		return "insecure";
	case ST_BOGUS:
		return "bogus";
	case ST_UNVALIDATED:
		break;
	}
	return "not validated";
}

void fe__q_rcode_str(int rcode, char *buf, size_t cap)
{
	ldns_lookup_table *lt = ldns_lookup_by_id(ldns_rcodes, rcode);
	if (lt)
		snprintf(buf, cap, "%s", lt->name);
	else
		snprintf(buf, cap, "RCODE%d", rcode);
}

/* ---- one query -------------------------------------------------------------------------- */

static void print_section(const char *title, const ldns_rr_list *l)
{
	if (!l || ldns_rr_list_rr_count(l) == 0)
		return;
	printf(";; %s\n", title);
	for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++) {
		char *s = fe__q_one_line(ldns_rr_list_rr(l, i));
		if (s)
			printf("%s\n", s);
		free(s);
	}
}

void fe__q_print_header(const struct fe__q *q)
{
	printf(";; server %s@%u (%s)", q->addr, (unsigned)q->port, q->tcp ? "tcp" : "udp");
	if (q->validate) {
		printf(", validating with %zu trust anchor%s:", q->n_anchors,
		       q->n_anchors == 1 ? "" : "s");
		for (size_t i = 0; i < q->n_anchors; i++)
			printf("%s %s", i ? "," : "", q->anchors[i].label);
	}
	printf("\n");
}

static int run_query(struct fe__q *q, const char *name, uint16_t type)
{
	struct fe__q_answer direct = {0}, a = {0};
	int code = FE__CTL_EXIT_NOANSWER;
	fe__q_print_header(q);
	char *tname = ldns_rr_type2str((ldns_rr_type)type);
	printf(";; question %s IN %s\n", name, tname ? tname : "?");
	free(tname);
	/* The server's own answer first: it tells "no answer" apart quickly (libunbound would
	 * retry for many seconds) and gives the rcode the server sent. */
	if (fe__q_ask_direct(q, name, type, &direct)) {
		fprintf(stderr, "fedenumctl: no answer from %s@%u\n", q->addr, (unsigned)q->port);
		goto out;
	}
	const struct fe__q_answer *shown = &direct;
	if (q->validate) {
		if (fe__q_ask(q, name, type, &a))
			goto out;
		shown = &a;
	}
	char rc_s[32], flags[64];
	if (shown->pkt) {
		print_section("ANSWER", ldns_pkt_answer(shown->pkt));
		print_section("AUTHORITY", ldns_pkt_authority(shown->pkt));
		if (!q->validate)
			print_section("ADDITIONAL", ldns_pkt_additional(shown->pkt));
	}
	fe__q_rcode_str(shown->rcode, rc_s, sizeof(rc_s));
	printf(";; rcode: %s\n", rc_s);
	/* What the server itself sent (libunbound's reply carries libunbound's flags). */
	const ldns_pkt *p = direct.pkt;
	snprintf(flags, sizeof(flags), "%s%s%s%s%s%s", ldns_pkt_qr(p) ? " qr" : "",
	         ldns_pkt_aa(p) ? " aa" : "", ldns_pkt_tc(p) ? " tc" : "",
	         ldns_pkt_rd(p) ? " rd" : "", ldns_pkt_ra(p) ? " ra" : "",
	         ldns_pkt_ad(p) ? " ad" : "");
	fe__q_rcode_str(direct.rcode, rc_s, sizeof(rc_s));
	printf(";; server's reply: %s, flags:%s, %u octets\n", rc_s, flags,
	       (unsigned)ldns_pkt_size(p));
	if (!q->validate) {
		code = 0;
		goto out;
	}
	if (a.why[0])
		printf(";; validation: %s (%s)\n", fe__q_status_str(a.status), a.why);
	else
		printf(";; validation: %s\n", fe__q_status_str(a.status));
	code = a.status == ST_SECURE ? 0 : FE__CTL_EXIT_FAIL;
out:
	fe__q_answer_clear(&direct);
	fe__q_answer_clear(&a);
	return code;
}

/* ---- RFC 3263 chase --------------------------------------------------------------------- */

/* A <character-string> rdf as text, without quotes. */
void fe__q_rdf_text(const ldns_rdf *rdf, char *out, size_t cap)
{
	out[0] = '\0';
	if (!rdf || ldns_rdf_size(rdf) < 1)
		return;
	const uint8_t *d = ldns_rdf_data(rdf);
	size_t n = d[0];
	if (n + 1 > ldns_rdf_size(rdf))
		n = ldns_rdf_size(rdf) - 1;
	if (n >= cap)
		n = cap - 1;
	memcpy(out, d + 1, n);
	out[n] = '\0';
}

/* RFC 3263 §4.1 names SIP+D2U, SIP+D2T, SIPS+D2T, SIP+D2S, SIPS+D2S (RFC 3263 §4.1), and
 * RFC 7118 §5 adds SIP+D2W / SIPS+D2W. */
bool fe__q_is_sip_service(const char *svc)
{
	static const char *const known[] = {"SIP+D2U",  "SIP+D2T", "SIPS+D2T", "SIP+D2S",
	                                    "SIPS+D2S", "SIP+D2W", "SIPS+D2W"};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcasecmp(svc, known[i]) == 0)
			return true;
	return false;
}

void fe__q_print_step(const char *indent, const char *what, const char *name,
                      const struct fe__q_answer *a)
{
	char rc_s[32];
	fe__q_rcode_str(a->rcode, rc_s, sizeof(rc_s));
	printf("%s%s %s [%s", indent, what, name, rc_s);
	if (a->status != ST_UNVALIDATED)
		printf(", %s", fe__q_status_str(a->status));
	printf("]");
	if (a->why[0])
		printf(" (%s)", a->why);
	printf("\n");
}

/* The RRs of @type in the answer section (owner may be a CNAME target). Caller frees with
 * ldns_rr_list_deep_free. */
ldns_rr_list *fe__q_rrs_of(const struct fe__q_answer *a, ldns_rr_type type)
{
	ldns_rr_list *out = ldns_rr_list_new();
	ldns_rr_list *l = a->pkt ? ldns_pkt_answer(a->pkt) : NULL;
	for (size_t i = 0; out && l && i < ldns_rr_list_rr_count(l); i++)
		if (ldns_rr_get_type(ldns_rr_list_rr(l, i)) == type)
			ldns_rr_list_push_rr(out, ldns_rr_clone(ldns_rr_list_rr(l, i)));
	return out;
}

unsigned fe__q_rdf_u16(const ldns_rr *rr, size_t i)
{
	const ldns_rdf *r = ldns_rr_rdf(rr, i);
	return r && ldns_rdf_size(r) == 2 ? ldns_rdf2native_int16(r) : 0;
}

int fe__q_cmp_naptr(const void *x, const void *y)
{
	const ldns_rr *a = *(ldns_rr *const *)x, *b = *(ldns_rr *const *)y;
	unsigned ao = fe__q_rdf_u16(a, 0), bo = fe__q_rdf_u16(b, 0);
	if (ao != bo)
		return ao < bo ? -1 : 1;
	unsigned ap = fe__q_rdf_u16(a, 1), bp = fe__q_rdf_u16(b, 1);
	return ap < bp ? -1 : ap > bp;
}

/* RFC 2782: lowest priority first; within a priority, higher weight shown first. */
static int fe__q_cmp_srv(const void *x, const void *y)
{
	const ldns_rr *a = *(ldns_rr *const *)x, *b = *(ldns_rr *const *)y;
	unsigned ap = fe__q_rdf_u16(a, 0), bp = fe__q_rdf_u16(b, 0);
	if (ap != bp)
		return ap < bp ? -1 : 1;
	unsigned aw = fe__q_rdf_u16(a, 1), bw = fe__q_rdf_u16(b, 1);
	return aw > bw ? -1 : aw < bw;
}

void fe__q_sort_rrs(ldns_rr_list *l, int (*cmp)(const void *, const void *))
{
	size_t n = ldns_rr_list_rr_count(l);
	if (n < 2)
		return;
	ldns_rr **v = malloc(n * sizeof(*v));
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		v[i] = ldns_rr_list_rr(l, i);
	qsort(v, n, sizeof(*v), cmp);
	for (size_t i = 0; i < n; i++)
		ldns_rr_list_set_rr(l, v[i], i);
	free(v);
}

/* A and AAAA of @host; returns the number of addresses found (printed unless quiet). */
unsigned fe__q_chase_addresses(struct fe__q *q, const char *indent, const char *host, json_t *addrs)
{
	static const ldns_rr_type types[] = {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA};
	unsigned found = 0;
	for (size_t t = 0; t < 2; t++) {
		struct fe__q_answer a;
		const char *tn = types[t] == LDNS_RR_TYPE_A ? "A" : "AAAA";
		if (fe__q_ask(q, host, types[t], &a)) {
			if (!q->quiet)
				printf("%s%s %s: no answer\n", indent, tn, host);
			continue;
		}
		ldns_rr_list *l = fe__q_rrs_of(&a, types[t]);
		char line[1024];
		size_t off = 0;
		for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++) {
			char *s = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(l, i), 0));
			if (s && off < sizeof(line))
				off += (size_t)snprintf(line + off, sizeof(line) - off, " %s", s);
			if (s && addrs)
				json_array_append_new(addrs, json_string(s));
			free(s);
			found++;
		}
		line[off < sizeof(line) ? off : sizeof(line) - 1] = '\0';
		if (!q->quiet) {
			char rc_s[32];
			fe__q_rcode_str(a.rcode, rc_s, sizeof(rc_s));
			printf("%s%s %s [%s", indent, tn, host, rc_s);
			if (a.status != ST_UNVALIDATED)
				printf(", %s", fe__q_status_str(a.status));
			printf("]%s", off ? line : " (no records)");
			if (a.why[0])
				printf(" (%s)", a.why);
			printf("\n");
		}
		ldns_rr_list_deep_free(l);
		fe__q_answer_clear(&a);
	}
	return found;
}

/* One target {host, port, transport, addresses} of @targets; returns its address array. */
static json_t *add_target(json_t *targets, const char *host, unsigned port, const char *transport)
{
	if (!targets)
		return NULL;
	json_t *addrs = json_array();
	json_t *t = json_pack("{s:s, s:i, s:o}", "host", host, "port", (json_int_t)port,
	                      "addresses", addrs);
	if (t && transport)
		json_object_set_new(t, "transport", json_string(transport));
	json_array_append_new(targets, t);
	return addrs;
}

/* SRV of @name, then the addresses of each target. Returns addresses found; *n_srv counts
 * the SRV records seen. */
unsigned fe__q_chase_srv(struct fe__q *q, const char *indent, const char *name, unsigned *n_srv,
                         json_t *targets)
{
	struct fe__q_answer a;
	if (fe__q_ask(q, name, LDNS_RR_TYPE_SRV, &a)) {
		if (!q->quiet)
			printf("%sSRV %s: no answer\n", indent, name);
		return 0;
	}
	if (!q->quiet)
		fe__q_print_step(indent, "SRV", name, &a);
	ldns_rr_list *srv = fe__q_rrs_of(&a, LDNS_RR_TYPE_SRV);
	fe__q_answer_clear(&a);
	fe__q_sort_rrs(srv, fe__q_cmp_srv);
	char in2[64], in3[64];
	snprintf(in2, sizeof(in2), "%s  ", indent);
	snprintf(in3, sizeof(in3), "%s    ", indent);
	/* The transport from the SRV owner's labels (_sips._tcp, _sip._udp, ...). */
	const char *transport = strncasecmp(name, "_sips._tcp.", 11) == 0   ? "tls"
	                        : strncasecmp(name, "_sip._tcp.", 10) == 0  ? "tcp"
	                        : strncasecmp(name, "_sip._udp.", 10) == 0  ? "udp"
	                        : strncasecmp(name, "_sip._sctp.", 11) == 0 ? "sctp"
	                                                                    : NULL;
	unsigned found = 0;
	for (size_t i = 0; srv && i < ldns_rr_list_rr_count(srv); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(srv, i);
		char *target = ldns_rdf2str(ldns_rr_rdf(rr, 3));
		if (!q->quiet)
			printf("%s%u %u %u %s\n", in2, fe__q_rdf_u16(rr, 0), fe__q_rdf_u16(rr, 1),
			       fe__q_rdf_u16(rr, 2), target ? target : "?");
		(*n_srv)++;
		/* RFC 2782: a target of "." means the service is decidedly not available. */
		if (target && strcmp(target, ".") != 0)
			found += fe__q_chase_addresses(
			        q, in3, target,
			        add_target(targets, target, fe__q_rdf_u16(rr, 2), transport));
		free(target);
	}
	ldns_rr_list_deep_free(srv);
	return found;
}

unsigned fe__q_chase_domain(struct fe__q *q, const char *indent, const char *domain,
                            unsigned *n_usable, unsigned *n_srv, json_t *targets)
{
	struct fe__q_answer a = {0};
	unsigned addrs = 0, used = 0;
	char in2[64];
	snprintf(in2, sizeof(in2), "%s    ", indent);
	if (fe__q_ask(q, domain, LDNS_RR_TYPE_NAPTR, &a) == 0) {
		if (!q->quiet)
			fe__q_print_step(indent, "NAPTR", domain, &a);
		ldns_rr_list *naptr = fe__q_rrs_of(&a, LDNS_RR_TYPE_NAPTR);
		fe__q_sort_rrs(naptr, fe__q_cmp_naptr);
		for (size_t i = 0; naptr && i < ldns_rr_list_rr_count(naptr); i++) {
			const ldns_rr *rr = ldns_rr_list_rr(naptr, i);
			char flags[64], svc[128];
			fe__q_rdf_text(ldns_rr_rdf(rr, 2), flags, sizeof(flags));
			fe__q_rdf_text(ldns_rr_rdf(rr, 3), svc, sizeof(svc));
			if (!q->quiet) {
				char *s = fe__q_one_line(rr);
				const char *rdata = s ? strstr(s, "NAPTR\t") : NULL;
				printf("%s  %s\n", indent, rdata ? rdata + 6 : "?");
				free(s);
			}
			/* RFC 3263 §4.1: flag "s" and a SIP service; anything else is not ours. */
			if (strcasecmp(flags, "s") != 0 || !fe__q_is_sip_service(svc)) {
				if (!q->quiet)
					printf("%s    (skipped: not an \"s\" NAPTR for a SIP "
					       "transport)\n",
					       indent);
				continue;
			}
			used++;
			char *repl = ldns_rdf2str(ldns_rr_rdf(rr, 5));
			if (repl)
				addrs += fe__q_chase_srv(q, in2, repl, n_srv, targets);
			free(repl);
		}
		ldns_rr_list_deep_free(naptr);
	}
	fe__q_answer_clear(&a);
	if (used == 0) {
		/* RFC 3263 §4.1: no NAPTR, SRV for each transport; §4.2: no SRV, the domain's
		 * own addresses. */
		if (!q->quiet)
			printf("%s  (no usable NAPTR: SRV for each transport, RFC 3263 section "
			       "4.1)\n",
			       indent);
		static const char *const prefixes[] = {"_sips._tcp.", "_sip._tcp.", "_sip._udp."};
		for (size_t i = 0; i < 3; i++) {
			char name[LDNS_MAX_DOMAINLEN + 16];
			snprintf(name, sizeof(name), "%s%s", prefixes[i], domain);
			addrs += fe__q_chase_srv(q, in2, name, n_srv, targets);
		}
		if (*n_srv == 0) {
			if (!q->quiet)
				printf("%s  (no SRV: the domain's own addresses, RFC 3263 section "
				       "4.2)\n",
				       indent);
			addrs += fe__q_chase_addresses(q, in2, domain,
			                               add_target(targets, domain, 5060, NULL));
		}
	}
	*n_usable = used;
	return addrs;
}

static int run_rfc3263(struct fe__q *q, const char *domain)
{
	fe__q_print_header(q);
	printf(";; RFC 3263 chase of %s\n", domain);
	struct fe__q_answer probe = {0};
	int code = FE__CTL_EXIT_NOANSWER;
	if (fe__q_ask_direct(q, domain, LDNS_RR_TYPE_NAPTR, &probe)) {
		fprintf(stderr, "fedenumctl: no answer from %s@%u\n", q->addr, (unsigned)q->port);
		goto out;
	}
	unsigned used = 0, n_srv = 0;
	unsigned addrs = fe__q_chase_domain(q, "", domain, &used, &n_srv, NULL);
	printf(";; chain: %u usable NAPTR, %u SRV, %u addresses; %u lookups", used, n_srv, addrs,
	       q->lookups);
	if (q->validate) {
		if (q->n_secure == q->lookups)
			printf(", all secure\n");
		else
			printf(": %u secure, %u insecure, %u bogus\n", q->n_secure, q->n_insecure,
			       q->n_bogus);
	} else {
		printf("\n");
	}
	if (q->validate && q->n_secure != q->lookups)
		code = FE__CTL_EXIT_FAIL;
	else if (addrs == 0)
		code = FE__CTL_EXIT_NOANSWER;
	else
		code = 0;
out:
	fe__q_answer_clear(&probe);
	return code;
}

void fe__q_free(struct fe__q *q)
{
	if (!q)
		return;
	if (q->ub)
		ub_ctx_delete(q->ub);
	if (q->res)
		ldns_resolver_deep_free(q->res);
	for (size_t i = 0; i < q->n_anchors; i++) {
		free(q->anchors[i].rr);
		free(q->anchors[i].label);
	}
	json_decref(q->steps);
	free(q);
}

/* ---- entry ------------------------------------------------------------------------------ */

int fe__ctl_query(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"server", required_argument, NULL, 's'},
	        {"tcp", no_argument, NULL, 't'},
	        {"validate", no_argument, NULL, 'V'},
	        {"trust-anchor", required_argument, NULL, 'a'},
	        {"federation", required_argument, NULL, 'f'},
	        {"rfc3263", required_argument, NULL, 'r'},
	        {"verbose", no_argument, NULL, 'v'},
	        {"help", no_argument, NULL, 'h'},
	        {"version", no_argument, NULL, 'X'},
	        {NULL, 0, NULL, 0},
	};
	struct fe__q *q = calloc(1, sizeof(*q));
	if (!q) {
		fprintf(stderr, "fedenumctl: out of memory\n");
		return FE__CTL_EXIT_NOANSWER;
	}
	int code = FE__CTL_EXIT_USAGE;
	const char *server = FE__Q_DEFAULT_SERVER, *chase = NULL;
	bool anchors_asked = false;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "s:tVa:f:r:vh", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			server = optarg;
			break;
		case 't':
			q->tcp = true;
			break;
		case 'V':
			q->validate = true;
			break;
		case 'a':
			anchors_asked = true;
			if (fe__q_read_anchor_file(q, optarg))
				goto out;
			break;
		case 'f':
			anchors_asked = true;
			if (fe__q_read_federation(q, optarg))
				goto out;
			break;
		case 'r':
			chase = optarg;
			break;
		case 'v':
			q->verbose++;
			break;
		case 'h':
			query_help(stdout);
			code = 0;
			goto out;
		case 'X':
			printf("fedenumctl %s\n", FE__CTL_VERSION);
			code = 0;
			goto out;
		default:
			query_help(stderr);
			goto out;
		}
	}
	if (fe__q_parse_server(q, server)) {
		fprintf(stderr, "fedenumctl: --server %s: want ADDR@PORT (an IP address)\n",
		        server);
		goto out;
	}
	const char *name = NULL;
	uint16_t type = LDNS_RR_TYPE_NAPTR;
	int rest = argc - optind;
	if (chase ? (rest != 0) : (rest < 1 || rest > 2)) {
		query_help(stderr);
		goto out;
	}
	if (!chase) {
		name = argv[optind];
		if (rest == 2) {
			type = (uint16_t)ldns_get_rr_type_by_name(argv[optind + 1]);
			if (type == 0) {
				fprintf(stderr, "fedenumctl: unknown type %s\n", argv[optind + 1]);
				goto out;
			}
		}
	}
	ldns_rdf *check = ldns_dname_new_frm_str(chase ? chase : name);
	if (!check) {
		fprintf(stderr, "fedenumctl: not a domain name: %s\n", chase ? chase : name);
		goto out;
	}
	ldns_rdf_deep_free(check);
	if (q->validate && q->n_anchors == 0) {
		fprintf(stderr, "fedenumctl: --validate needs --trust-anchor FILE or "
		                "--federation FILE (nothing is trusted by default)\n");
		goto out;
	}
	if (!q->validate && anchors_asked)
		fprintf(stderr, "fedenumctl: trust anchors given without --validate: the answer is "
		                "not checked\n");
	code = FE__CTL_EXIT_NOANSWER;
	if (fe__q_setup_direct(q)) {
		fprintf(stderr, "fedenumctl: cannot set up the resolver\n");
		goto out;
	}
	if (q->validate && fe__q_setup_validator(q)) {
		code = FE__CTL_EXIT_USAGE;
		goto out;
	}
	code = chase ? run_rfc3263(q, chase) : run_query(q, name, type);
out:
	fe__q_free(q);
	return code;
}
