/* src/tools/query_int.h — the lookups behind `fedenumctl query` and `fedenumctl route`
 * (query.c): a direct resolver to one node (ldns) and, with --validate, libunbound with only
 * the federation's trust anchors forwarding to that node; RFC 3263 chase steps. */
#ifndef FE_QUERY_INT_H
#define FE_QUERY_INT_H

#include <arpa/inet.h>
#include <jansson.h>
#include <ldns/ldns.h>
#include <stdbool.h>
#include <stdint.h>

#define FE__Q_DEFAULT_SERVER "127.0.0.1@5300"
#define FE__Q_MAX_ANCHORS    256

enum fe__q_status { ST_UNVALIDATED, ST_SECURE, ST_INSECURE, ST_BOGUS };

struct fe__q_anchor {
	char *rr;    /* presentation format, one line */
	char *label; /* "e164.fed. DS 10457" for the header line */
};

struct fe__q {
	char addr[INET6_ADDRSTRLEN];
	uint16_t port;
	bool tcp;
	bool validate;
	bool quiet; /* print nothing (--json): the steps are collected in @steps */
	int verbose;
	struct fe__q_anchor anchors[FE__Q_MAX_ANCHORS];
	size_t n_anchors;
	ldns_resolver *res;
	struct ub_ctx *ub;
	unsigned lookups, n_secure, n_insecure, n_bogus;
	json_t *steps; /* when non-NULL: every fe__q_ask appends
	                  {name,type,rcode,status,why,records} */
};

struct fe__q_answer {
	int rcode;
	enum fe__q_status status;
	char why[1024];
	ldns_pkt *pkt; /* owned */
};

/* Setup, in this order: options (server, anchors), fe__q_setup_direct, then with --validate
 * fe__q_setup_validator. Each returns 0 or -1 (the reason printed). fe__q_free releases it. */
int fe__q_parse_server(struct fe__q *q, const char *s);
int fe__q_read_anchor_file(struct fe__q *q, const char *path);
int fe__q_read_federation(struct fe__q *q, const char *path);
int fe__q_setup_direct(struct fe__q *q);
int fe__q_setup_validator(struct fe__q *q);
void fe__q_free(struct fe__q *q);

/* The node's own answer (0, or -1: no answer), and the answer through the validator when
 * validating (else the node's), counted in q->lookups / n_secure / ... */
int fe__q_ask_direct(struct fe__q *q, const char *name, uint16_t type, struct fe__q_answer *a);
int fe__q_ask(struct fe__q *q, const char *name, uint16_t type, struct fe__q_answer *a);
void fe__q_answer_clear(struct fe__q_answer *a);

const char *fe__q_status_str(enum fe__q_status s);
void fe__q_rcode_str(int rcode, char *buf, size_t cap);
void fe__q_print_header(const struct fe__q *q);
void fe__q_print_step(const char *indent, const char *what, const char *name,
                      const struct fe__q_answer *a);
char *fe__q_one_line(const ldns_rr *rr);
/* A <character-string> rdf as text, without quotes. */
void fe__q_rdf_text(const ldns_rdf *rdf, char *out, size_t cap);
unsigned fe__q_rdf_u16(const ldns_rr *rr, size_t i);
bool fe__q_is_sip_service(const char *svc);
/* The RRs of @type in the answer section; caller frees with ldns_rr_list_deep_free. */
ldns_rr_list *fe__q_rrs_of(const struct fe__q_answer *a, ldns_rr_type type);
int fe__q_cmp_naptr(const void *x, const void *y);
void fe__q_sort_rrs(ldns_rr_list *l, int (*cmp)(const void *, const void *));

/* RFC 3263 steps: A and AAAA of @host (addresses found; each appended to @addrs when
 * non-NULL, as text); SRV of @name then the addresses of each target (*n_srv counts SRV
 * records; the first usable target's port in *first_port when non-NULL). */
unsigned fe__q_chase_addresses(struct fe__q *q, const char *indent, const char *host,
                               json_t *addrs);
unsigned fe__q_chase_srv(struct fe__q *q, const char *indent, const char *name, unsigned *n_srv,
                         json_t *targets);
/* The whole RFC 3263 §4 chase of @domain: NAPTR (SIP transports), SRV, A/AAAA, with the
 * fallbacks of §4.1 and §4.2. Returns the addresses found; *n_usable / *n_srv the NAPTR and
 * SRV records used; @targets (when non-NULL) gets {transport?, host, port, addresses}. */
unsigned fe__q_chase_domain(struct fe__q *q, const char *indent, const char *domain,
                            unsigned *n_usable, unsigned *n_srv, json_t *targets);

#endif
