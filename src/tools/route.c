/* fedenumctl route +NUMBER: the S-CSCF's whole path against one node — the ENUM NAPTR of the
 * number (RFC 6116), the chosen E2U+sip URI (order, preference, the regexp applied to the
 * number: RFC 3402 §3.2), then the URI's host by RFC 3263 (NAPTR → SRV → A/AAAA, or A/AAAA
 * alone when the URI names a port), and the policy decision when the node synthesized the
 * answer (its Extended DNS Error names the cause and the action). With --validate every step
 * goes through libunbound with only the federation's trust anchors (query.c). */
#include "ctl_int.h"
#include "fedenum/conf.h"
#include "fedenum/util.h"
#include "query_int.h"

#include <ctype.h>
#include <getopt.h>
#include <jansson.h>
#include <ldns/ldns.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EDE_OPTION 15 /* RFC 8914 */

static const char USAGE_ROUTE[] =
        "usage: fedenumctl route +NUMBER [--server ADDR@PORT] [--tcp] [--validate]\n"
        "                        [--trust-anchor FILE]... [--federation FILE]\n"
        "                        [--enum-apex DOMAIN] [--json]\n"
        "\n"
        "Follow what an S-CSCF does for a call to NUMBER, against one fedenumd: the ENUM\n"
        "NAPTR of the number, the chosen E2U+sip URI, the URI's host by RFC 3263 (NAPTR,\n"
        "SRV, A/AAAA), and the node's policy decision when it has no federation route.\n"
        "\n"
        "  --server ADDR@PORT    the fedenumd to ask (default " FE__Q_DEFAULT_SERVER ")\n"
        "  --tcp                 ask over TCP (default UDP)\n"
        "  --validate            check every step with libunbound, trusting only the\n"
        "                        anchors (a policy-synthesized ENUM answer is unsigned\n"
        "                        by design and is reported as such)\n"
        "  --trust-anchor FILE   DS or DNSKEY records; repeatable\n"
        "  --federation FILE     federation.conf (or a fedenumd.conf naming one): its\n"
        "                        trust anchors, and its registry zone as the ENUM apex\n"
        "  --enum-apex DOMAIN    the ENUM apex (default: the federation's registry zone)\n"
        "  --json                one JSON object on stdout (docs/control.md)\n"
        "\n"
        "Exit status: 0 a SIP next hop with addresses was found (a federation route or\n"
        "the policy's), 1 no SIP route, or a step failed validation, 2 usage, 3 no answer\n"
        "from the server.\n";

void fe__ctl_route_usage(FILE *f)
{
	fprintf(f, "       fedenumctl route +NUMBER [--server ADDR@PORT] [--validate]\n"
	           "                        [--federation FILE] [--enum-apex DOMAIN] [--json]\n");
}

/* "+15552000001" (or without "+"): 1 to 15 digits (E.164). The digits into @digits. */
static bool parse_number(const char *s, char *digits, size_t cap)
{
	if (*s == '+')
		s++;
	size_t n = strlen(s);
	if (n < 1 || n > 15 || n >= cap)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	memcpy(digits, s, n + 1);
	return true;
}

/* The ENUM name of @digits under @apex (RFC 6116 §2.4): digits reversed, dot-separated. */
static void enum_name(const char *digits, const char *apex, char *out, size_t cap)
{
	size_t off = 0, n = strlen(digits);
	for (size_t i = n; i > 0 && off + 2 < cap; i--) {
		out[off++] = digits[i - 1];
		out[off++] = '.';
	}
	snprintf(out + off, cap - off, "%s%s", apex,
	         apex[0] && apex[strlen(apex) - 1] == '.' ? "" : ".");
}

/* The NAPTR's substitution expression applied to the application unique string (RFC 3402
 * §3.2: delim-char ERE delim-char repl delim-char flags). 0 with the result in @out, or -1. */
static int apply_regexp(const char *expr, const char *aus, char *out, size_t cap)
{
	if (!expr[0])
		return -1;
	char delim = expr[0];
	if (delim == '\\' || delim == 'i' || isdigit((unsigned char)delim))
		return -1;
	/* Split on unescaped delimiters: ERE, replacement, flags. */
	char parts[2][512];
	const char *p = expr + 1;
	for (int k = 0; k < 2; k++) {
		size_t o = 0;
		while (*p && *p != delim) {
			if (*p == '\\' && p[1] == delim)
				p++;
			else if (*p == '\\' && p[1]) {
				if (o + 1 >= sizeof(parts[k]))
					return -1;
				parts[k][o++] = *p++;
			}
			if (o + 1 >= sizeof(parts[k]))
				return -1;
			parts[k][o++] = *p++;
		}
		if (*p != delim)
			return -1;
		parts[k][o] = '\0';
		p++;
	}
	int cflags = REG_EXTENDED;
	if (strcmp(p, "i") == 0)
		cflags |= REG_ICASE;
	else if (*p)
		return -1;
	regex_t re;
	if (regcomp(&re, parts[0], cflags) != 0)
		return -1;
	regmatch_t m[10];
	int rc = regexec(&re, aus, 10, m, 0);
	regfree(&re);
	if (rc != 0)
		return -1;
	size_t o = 0;
	for (const char *r = parts[1]; *r; r++) {
		const char *piece = r;
		size_t len = 1;
		if (*r == '\\' && isdigit((unsigned char)r[1])) {
			int g = r[1] - '0';
			r++;
			if (m[g].rm_so < 0)
				continue;
			piece = aus + m[g].rm_so;
			len = (size_t)(m[g].rm_eo - m[g].rm_so);
		} else if (*r == '\\' && r[1]) {
			piece = ++r;
		}
		if (o + len >= cap)
			return -1;
		memcpy(out + o, piece, len);
		o += len;
	}
	out[o] = '\0';
	return 0;
}

/* Does the NAPTR service field name the enumservice @type ("sip", "pstn") — "E2U+sip",
 * "E2U+pstn:tel", case-insensitive (RFC 6116 §3.4.3)? */
static bool has_enumservice(const char *svc, const char *type)
{
	if (strncasecmp(svc, "E2U", 3) != 0)
		return false;
	for (const char *p = svc + 3; (p = strchr(p, '+')) != NULL;) {
		p++;
		size_t n = strcspn(p, "+:");
		if (n == strlen(type) && strncasecmp(p, type, n) == 0)
			return true;
	}
	return false;
}

/* The EDE of the node's answer (RFC 8914): code and text, or false. */
static bool answer_ede(ldns_pkt *p, unsigned *code, char *text, size_t cap)
{
	ldns_edns_option_list *opts = p ? ldns_pkt_edns_get_option_list(p) : NULL;
	for (size_t i = 0; opts && i < ldns_edns_option_list_get_count(opts); i++) {
		ldns_edns_option *o = ldns_edns_option_list_get_option(opts, i);
		if (ldns_edns_get_code(o) != EDE_OPTION || ldns_edns_get_size(o) < 2)
			continue;
		const uint8_t *d = ldns_edns_get_data(o);
		size_t n = ldns_edns_get_size(o) - 2;
		*code = (unsigned)(d[0] << 8 | d[1]);
		if (n >= cap)
			n = cap - 1;
		for (size_t k = 0; k < n; k++)
			text[k] = isprint(d[2 + k]) ? (char)d[2 + k] : '?';
		text[n] = '\0';
		return true;
	}
	return false;
}

/* sip:/sips: URI → host, port (0: none), transport parameter ("" none), sips. -1 if not. */
struct sip_target {
	char host[256];
	unsigned port;
	char transport[16];
	bool sips;
};

static int parse_sip_uri(const char *uri, struct sip_target *t)
{
	memset(t, 0, sizeof(*t));
	const char *p;
	if (strncasecmp(uri, "sips:", 5) == 0) {
		t->sips = true;
		p = uri + 5;
	} else if (strncasecmp(uri, "sip:", 4) == 0) {
		p = uri + 4;
	} else {
		return -1;
	}
	const char *at = strchr(p, '@');
	const char *end = p + strcspn(p, ";?");
	if (at && at < end)
		p = at + 1;
	const char *hend;
	if (*p == '[') {
		hend = strchr(p, ']');
		if (!hend || hend > end)
			return -1;
		p++;
	} else {
		hend = p + strcspn(p, ":;?");
	}
	size_t hl = (size_t)(hend - p);
	if (hl == 0 || hl >= sizeof(t->host))
		return -1;
	memcpy(t->host, p, hl);
	t->host[hl] = '\0';
	const char *after = *hend == ']' ? hend + 1 : hend;
	if (*after == ':') {
		char *e;
		unsigned long v = strtoul(after + 1, &e, 10);
		if (e == after + 1 || v == 0 || v > 65535)
			return -1;
		t->port = (unsigned)v;
	}
	const char *tp = strcasestr(after, ";transport=");
	if (tp && tp < uri + strlen(uri)) {
		tp += 11;
		size_t n = strcspn(tp, ";?");
		if (n < sizeof(t->transport)) {
			memcpy(t->transport, tp, n);
			t->transport[n] = '\0';
		}
	}
	return 0;
}

static bool is_ip_literal(const char *h)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, h, buf) == 1 || inet_pton(AF_INET6, h, buf) == 1;
}

struct route {
	json_t *out;     /* the whole result (--json) */
	json_t *naptrs;  /* the ENUM NAPTRs with what each gives */
	json_t *targets; /* next hops: {host, port, transport?, addresses} */
	char uri[1024];  /* the chosen E2U+sip URI */
	char pstn[1024]; /* the first E2U+pstn URI, when there is no SIP one */
	bool policy;     /* the node synthesized the answer (EDE names a policy decision) */
	char cause[64], action[32];
};

/* The ENUM NAPTRs of @a in order; picks the first terminal E2U+sip one (RFC 6116 §3.4.3). */
static void choose(struct fe__q *q, const struct fe__q_answer *a, const char *aus, struct route *r)
{
	ldns_rr_list *l = fe__q_rrs_of(a, LDNS_RR_TYPE_NAPTR);
	fe__q_sort_rrs(l, fe__q_cmp_naptr);
	for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(l, i);
		char flags[64], svc[256], re[512], res[1024] = "";
		fe__q_rdf_text(ldns_rr_rdf(rr, 2), flags, sizeof(flags));
		fe__q_rdf_text(ldns_rr_rdf(rr, 3), svc, sizeof(svc));
		fe__q_rdf_text(ldns_rr_rdf(rr, 4), re, sizeof(re));
		char *repl = ldns_rdf2str(ldns_rr_rdf(rr, 5));
		const char *note;
		bool sip = has_enumservice(svc, "sip"), pstn = has_enumservice(svc, "pstn");
		if (strcasecmp(flags, "u") != 0)
			note = "non-terminal rule: not followed";
		else if (apply_regexp(re, aus, res, sizeof(res)) != 0)
			note = "regexp does not apply to the number";
		else if (sip && !r->uri[0] && strncasecmp(res, "sip", 3) == 0) {
			snprintf(r->uri, sizeof(r->uri), "%s", res);
			note = "chosen";
		} else if (pstn && !r->pstn[0]) {
			snprintf(r->pstn, sizeof(r->pstn), "%s", res);
			note = "PSTN (E2U+pstn)";
		} else {
			note = sip ? "not chosen (a lower order/preference came first)"
			           : "not a SIP enumservice";
		}
		if (!q->quiet)
			printf("  %u %u \"%s\" \"%s\" \"%s\" %s\n    -> %s%s%s\n",
			       fe__q_rdf_u16(rr, 0), fe__q_rdf_u16(rr, 1), flags, svc, re,
			       repl ? repl : ".", res[0] ? res : "", res[0] ? "  " : "", note);
		json_array_append_new(r->naptrs,
		                      json_pack("{s:i, s:i, s:s, s:s, s:s, s:s, s:s, s:s}", "order",
		                                (json_int_t)fe__q_rdf_u16(rr, 0), "preference",
		                                (json_int_t)fe__q_rdf_u16(rr, 1), "flags", flags,
		                                "service", svc, "regexp", re, "replacement",
		                                repl ? repl : ".", "uri", res, "note", note));
		free(repl);
	}
	ldns_rr_list_deep_free(l);
}

/* RFC 3263 §4 for the chosen URI's host. Returns the addresses found. */
static unsigned resolve_target(struct fe__q *q, const struct sip_target *t, struct route *r)
{
	if (is_ip_literal(t->host)) {
		unsigned port = t->port ? t->port : t->sips ? 5061 : 5060;
		json_t *addrs = json_array();
		json_array_append_new(addrs, json_string(t->host));
		json_array_append_new(r->targets,
		                      json_pack("{s:s, s:i, s:o}", "host", t->host, "port",
		                                (json_int_t)port, "addresses", addrs));
		if (!q->quiet)
			printf(";; target: %s port %u (an address: no lookup)\n", t->host, port);
		return 1;
	}
	if (t->port) {
		/* RFC 3263 §4.2: a port in the URI: the host's addresses, no NAPTR or SRV. */
		if (!q->quiet)
			printf(";; target: %s port %u (RFC 3263 4.2: addresses only)\n", t->host,
			       t->port);
		json_t *addrs = json_array();
		unsigned n = fe__q_chase_addresses(q, "", t->host, addrs);
		json_array_append_new(r->targets,
		                      json_pack("{s:s, s:i, s:o}", "host", t->host, "port",
		                                (json_int_t)t->port, "addresses", addrs));
		return n;
	}
	if (!q->quiet)
		printf(";; target: %s (RFC 3263)\n", t->host);
	unsigned used = 0, n_srv = 0;
	return fe__q_chase_domain(q, "", t->host, &used, &n_srv, r->targets);
}

/* "federation policy: CAUSE (ACTION)" → cause, action. */
static bool parse_policy_text(const char *text, struct route *r)
{
	static const char prefix[] = "federation policy: ";
	if (strncmp(text, prefix, sizeof(prefix) - 1) != 0)
		return false;
	const char *c = text + sizeof(prefix) - 1;
	const char *open = strstr(c, " (");
	if (!open || (size_t)(open - c) >= sizeof(r->cause))
		return false;
	memcpy(r->cause, c, (size_t)(open - c));
	r->cause[open - c] = '\0';
	const char *a = open + 2, *close = strchr(a, ')');
	if (!close || (size_t)(close - a) >= sizeof(r->action))
		return false;
	memcpy(r->action, a, (size_t)(close - a));
	r->action[close - a] = '\0';
	return true;
}

static int run_route(struct fe__q *q, const char *number, const char *name, bool json)
{
	struct route r = {.out = json_object(), .naptrs = json_array(), .targets = json_array()};
	int code = FE__CTL_EXIT_NOANSWER;
	struct fe__q_answer direct = {0}, a = {0};
	char rc_s[32], ede_text[256] = "";
	unsigned ede_code = 0;
	if (!q->quiet) {
		fe__q_print_header(q);
		printf(";; route of %s: ENUM name %s\n", number, name);
	}
	if (fe__q_ask_direct(q, name, LDNS_RR_TYPE_NAPTR, &direct)) {
		fprintf(stderr, "fedenumctl: no answer from %s@%u\n", q->addr, (unsigned)q->port);
		goto out;
	}
	bool has_ede = answer_ede(direct.pkt, &ede_code, ede_text, sizeof(ede_text));
	r.policy = has_ede && parse_policy_text(ede_text, &r);
	if (fe__q_ask(q, name, LDNS_RR_TYPE_NAPTR, &a))
		goto out;
	/* A policy answer is synthesized, unsigned on purpose: what the node sent is shown. */
	const struct fe__q_answer *shown = r.policy ? &direct : &a;
	if (!q->quiet) {
		fe__q_print_step("", "ENUM NAPTR", name, &a);
		if (has_ede)
			printf(";; extended error %u: %s\n", ede_code, ede_text);
	}
	char digits[32];
	snprintf(digits, sizeof(digits), "+%s", number[0] == '+' ? number + 1 : number);
	choose(q, shown, digits, &r);
	unsigned lookups0 = q->lookups, secure0 = q->n_secure;

	const char *decision;
	unsigned addrs = 0;
	bool enum_ok = !q->validate || a.status == ST_SECURE || r.policy;
	if (r.uri[0]) {
		decision = r.policy ? "policy" : "federation route";
		struct sip_target t;
		if (!q->quiet)
			printf(";; chosen: %s\n", r.uri);
		if (parse_sip_uri(r.uri, &t) == 0)
			addrs = resolve_target(q, &t, &r);
		else if (!q->quiet)
			printf(";; the URI has no host\n");
	} else if (r.pstn[0]) {
		decision = r.policy ? "policy" : "pstn";
	} else {
		decision = r.policy ? "policy" : "no route";
	}
	/* Lookups after the ENUM step must validate; the ENUM step too unless synthesized. */
	bool rest_ok = !q->validate || q->n_secure - secure0 == q->lookups - lookups0;
	bool all_ok = enum_ok && rest_ok;
	if (r.uri[0] && addrs > 0 && all_ok)
		code = 0;
	else
		code = FE__CTL_EXIT_FAIL;

	/* The S-CSCF's first choice: the first target (RFC 3263 order) with an address. */
	json_t *hop = NULL;
	for (size_t i = 0; i < json_array_size(r.targets) && !hop; i++) {
		json_t *t = json_array_get(r.targets, i);
		if (json_array_size(json_object_get(t, "addresses")) > 0)
			hop = t;
	}
	fe__q_rcode_str(direct.rcode, rc_s, sizeof(rc_s));
	if (!q->quiet) {
		if (hop) {
			const char *tr = json_string_value(json_object_get(hop, "transport"));
			printf(";; next hop: %s port %lld%s%s, %s\n",
			       json_string_value(json_object_get(hop, "host")),
			       (long long)json_integer_value(json_object_get(hop, "port")),
			       tr ? " over " : "", tr ? tr : "",
			       json_string_value(
			               json_array_get(json_object_get(hop, "addresses"), 0)));
		}
		printf(";; decision: %s", decision);
		if (r.policy)
			printf(" (cause %s, action %s)", r.cause, r.action);
		else if (!r.uri[0] && direct.rcode != LDNS_RCODE_NOERROR)
			printf(" (%s%s)", rc_s,
			       has_ede ? "" : ", no policy decision in the answer");
		printf("\n");
		if (r.pstn[0] && !r.uri[0])
			printf(";; PSTN: %s\n", r.pstn);
		printf(";; %u lookups", q->lookups);
		if (q->validate)
			printf(", %u secure, %u insecure, %u bogus%s", q->n_secure, q->n_insecure,
			       q->n_bogus,
			       r.policy ? " (the synthesized ENUM answer is unsigned)" : "");
		printf("; %s\n", code == 0 ? "next hop found" : "no usable SIP route");
	}
	json_object_set_new(r.out, "number", json_string(digits));
	json_object_set_new(r.out, "enum_name", json_string(name));
	json_object_set_new(r.out, "rcode", json_string(rc_s));
	json_object_set_new(r.out, "ad", json_boolean(direct.pkt && ldns_pkt_ad(direct.pkt)));
	json_object_set_new(r.out, "enum_status", json_string(fe__q_status_str(a.status)));
	if (has_ede)
		json_object_set_new(
		        r.out, "ede",
		        json_pack("{s:i, s:s}", "code", (json_int_t)ede_code, "text", ede_text));
	json_object_set_new(r.out, "naptr", r.naptrs);
	r.naptrs = NULL;
	json_t *dec = json_pack("{s:s}", "kind", decision);
	if (r.policy) {
		json_object_set_new(dec, "cause", json_string(r.cause));
		json_object_set_new(dec, "action", json_string(r.action));
	}
	json_object_set_new(r.out, "decision", dec);
	json_object_set_new(r.out, "uri", r.uri[0] ? json_string(r.uri) : json_null());
	if (r.pstn[0])
		json_object_set_new(r.out, "pstn", json_string(r.pstn));
	json_object_set_new(r.out, "next_hop", hop ? json_incref(hop) : json_null());
	json_object_set_new(r.out, "targets", r.targets);
	r.targets = NULL;
	json_object_set_new(r.out, "lookups", json_integer(q->lookups));
	if (q->validate)
		json_object_set_new(r.out, "validated", json_boolean(all_ok));
	json_object_set_new(r.out, "route", json_boolean(code == 0));
	if (q->steps) {
		json_object_set_new(r.out, "steps", q->steps);
		q->steps = NULL;
	}
	if (json) {
		char *s = json_dumps(r.out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (s)
			printf("%s\n", s);
		free(s);
	}
out:
	fe__q_answer_clear(&direct);
	fe__q_answer_clear(&a);
	json_decref(r.out);
	json_decref(r.naptrs);
	json_decref(r.targets);
	return code;
}

int fe__ctl_route(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"server", required_argument, NULL, 's'},
	        {"tcp", no_argument, NULL, 't'},
	        {"validate", no_argument, NULL, 'V'},
	        {"trust-anchor", required_argument, NULL, 'a'},
	        {"federation", required_argument, NULL, 'f'},
	        {"enum-apex", required_argument, NULL, 'e'},
	        {"json", no_argument, NULL, 'j'},
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
	const char *server = FE__Q_DEFAULT_SERVER, *federation = NULL, *apex = NULL;
	char **apexes = NULL;
	size_t napexes = 0;
	bool json = false;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "s:tVa:f:e:jh", opts, NULL)) != -1) {
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
			if (fe__q_read_anchor_file(q, optarg))
				goto out;
			break;
		case 'f':
			federation = optarg;
			break;
		case 'e':
			apex = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(USAGE_ROUTE, stdout);
			code = 0;
			goto out;
		case 'X':
			printf("fedenumctl %s\n", FE__CTL_VERSION);
			code = 0;
			goto out;
		default:
			fputs(USAGE_ROUTE, stderr);
			goto out;
		}
	}
	char digits[32];
	if (argc - optind != 1) {
		fputs(USAGE_ROUTE, stderr);
		goto out;
	}
	const char *number = argv[optind];
	if (!parse_number(number, digits, sizeof(digits))) {
		fprintf(stderr, "fedenumctl: %s is not an E.164 number (+ and 1 to 15 digits)\n",
		        number);
		goto out;
	}
	if (fe__q_parse_server(q, server)) {
		fprintf(stderr, "fedenumctl: --server %s: want ADDR@PORT (an IP address)\n",
		        server);
		goto out;
	}
	/* The federation's anchors only when validating (a definition without anchors still
	 * names the ENUM apex). */
	if (federation && q->validate && fe__q_read_federation(q, federation))
		goto out;
	if (!apex && federation) {
		struct fe_conf_diag d = {0};
		if (fe_conf_enum_apexes(federation, &apexes, &napexes, &d) != FE_OK) {
			for (size_t i = 0; i < d.n; i++)
				fprintf(stderr, "fedenumctl: %s\n", d.msgs[i]);
			fe_conf_diag_free(&d);
			goto out;
		}
		fe_conf_diag_free(&d);
		apex = apexes[0];
	}
	if (!apex) {
		fprintf(stderr, "fedenumctl: route needs --enum-apex DOMAIN or --federation FILE "
		                "(its registry zone)\n");
		goto out;
	}
	char name[LDNS_MAX_DOMAINLEN + 64];
	enum_name(digits, apex, name, sizeof(name));
	ldns_rdf *check = ldns_dname_new_frm_str(name);
	if (!check) {
		fprintf(stderr, "fedenumctl: --enum-apex %s: not a domain name\n", apex);
		goto out;
	}
	ldns_rdf_deep_free(check);
	if (q->validate && q->n_anchors == 0) {
		fprintf(stderr, "fedenumctl: --validate needs --trust-anchor FILE or "
		                "--federation FILE (nothing is trusted by default)\n");
		goto out;
	}
	q->quiet = json;
	q->steps = json ? json_array() : NULL;
	code = FE__CTL_EXIT_NOANSWER;
	if (fe__q_setup_direct(q)) {
		fprintf(stderr, "fedenumctl: cannot set up the resolver\n");
		goto out;
	}
	if (q->validate && fe__q_setup_validator(q)) {
		code = FE__CTL_EXIT_USAGE;
		goto out;
	}
	code = run_route(q, number, name, json);
out:
	for (size_t i = 0; i < napexes; i++)
		free(apexes[i]);
	free(apexes);
	fe__q_free(q);
	return code;
}
