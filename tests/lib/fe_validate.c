/* libunbound as an independent validator of fedenumd's answers (issue #3 §9). */
#include "fe_validate.h"

#include "fe_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unbound.h>
#include <unistd.h>

struct fe_validate {
	struct ub_ctx *ctx;
	unsigned anchors;
};

/* Every option that keeps the validator to the federation: no anchor but ours (libunbound
 * starts with none), loopback allowed (the server under test is on 127.0.0.1), and a bogus
 * answer reported as such rather than passed through. */
static int set_opt(struct ub_ctx *ctx, const char *opt, const char *val)
{
	int rc = ub_ctx_set_option(ctx, opt, val);
	if (rc) {
		fprintf(stderr, "fe_validate: option %s %s: %s\n", opt, val, ub_strerror(rc));
		return -1;
	}
	return 0;
}

struct fe_validate *fe_validate_create(const char *host, uint16_t port, bool tcp)
{
	struct fe_validate *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->ctx = ub_ctx_create();
	if (!v->ctx) {
		fprintf(stderr, "fe_validate: ub_ctx_create failed\n");
		goto out_free;
	}
	char fwd[128];
	snprintf(fwd, sizeof(fwd), "%s@%u", host, (unsigned)port);
	/* Forwarding "." to the server under test: every query, the DNSKEY and DS lookups of
	 * the chain of trust included, goes there and nowhere else. */
	int rc = ub_ctx_set_fwd(v->ctx, fwd);
	if (rc) {
		fprintf(stderr, "fe_validate: forwarder %s: %s\n", fwd, ub_strerror(rc));
		goto out_ctx;
	}
	/* aggressive-nsec off: every denial checked comes from the server, none is synthesised
	 * from NSEC/NSEC3 records cached earlier (RFC 8198). */
	if (set_opt(v->ctx, "do-not-query-localhost:", "no") ||
	    set_opt(v->ctx, "val-permissive-mode:", "no") ||
	    set_opt(v->ctx, "aggressive-nsec:", "no") ||
	    set_opt(v->ctx, "trust-anchor-signaling:", "no") ||
	    set_opt(v->ctx, "tcp-upstream:", tcp ? "yes" : "no"))
		goto out_ctx;
	return v;
out_ctx:
	ub_ctx_delete(v->ctx);
out_free:
	free(v);
	return NULL;
}

int fe_validate_set_option(struct fe_validate *v, const char *opt, const char *val)
{
	return set_opt(v->ctx, opt, val);
}

void fe_validate_destroy(struct fe_validate *v)
{
	if (!v)
		return;
	ub_ctx_delete(v->ctx);
	free(v);
}

static int add_rr(struct fe_validate *v, const ldns_rr *rr)
{
	ldns_rr_type t = ldns_rr_get_type(rr);
	if (t != LDNS_RR_TYPE_DS && t != LDNS_RR_TYPE_DNSKEY)
		return -1;
	char *s = ldns_rr2str(rr);
	if (!s)
		return -1;
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
	int rc = ub_ctx_add_ta(v->ctx, s);
	if (rc)
		fprintf(stderr, "fe_validate: anchor %s: %s\n", s, ub_strerror(rc));
	free(s);
	if (rc)
		return -1;
	v->anchors++;
	return 0;
}

int fe_validate_add_ta(struct fe_validate *v, const char *rrstr)
{
	ldns_rr *rr = NULL;
	if (ldns_rr_new_frm_str(&rr, rrstr, 3600, NULL, NULL) != LDNS_STATUS_OK) {
		fprintf(stderr, "fe_validate: cannot parse anchor: %s\n", rrstr);
		return -1;
	}
	int rc = add_rr(v, rr);
	ldns_rr_free(rr);
	return rc;
}

int fe_validate_add_ta_file(struct fe_validate *v, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "fe_validate: cannot read %s\n", path);
		return -1;
	}
	uint32_t ttl = 3600;
	ldns_rdf *origin = NULL, *prev = NULL;
	int line = 0, added = 0, rc = 0;
	while (!feof(f)) {
		ldns_rr *rr = NULL;
		ldns_status st = ldns_rr_new_frm_fp_l(&rr, f, &ttl, &origin, &prev, &line);
		if (st == LDNS_STATUS_SYNTAX_EMPTY || st == LDNS_STATUS_SYNTAX_TTL ||
		    st == LDNS_STATUS_SYNTAX_ORIGIN)
			continue;
		if (st != LDNS_STATUS_OK) {
			if (feof(f) && !rr)
				break;
			fprintf(stderr, "fe_validate: %s:%d: %s\n", path, line,
			        ldns_get_errorstr_by_id(st));
			rc = -1;
			break;
		}
		int r = add_rr(v, rr);
		ldns_rr_free(rr);
		if (r) {
			fprintf(stderr, "fe_validate: %s:%d: not a usable DS or DNSKEY\n", path,
			        line);
			rc = -1;
			break;
		}
		added++;
	}
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	fclose(f);
	if (rc == 0 && added == 0) {
		fprintf(stderr, "fe_validate: %s holds no DS or DNSKEY\n", path);
		rc = -1;
	}
	return rc ? -1 : added;
}

int fe_validate_add_demo_anchors(struct fe_validate *v)
{
	static const char *const files[] = {"e164.fed.ds", "ims-a.example.ds", "ims-b.example.ds"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/federation/keys/%s", FE_TEST_SRC, files[i]);
		if (fe_validate_add_ta_file(v, path) < 1)
			return -1;
	}
	return 0;
}

int fe_validate_lookup(struct fe_validate *v, const char *name, uint16_t type,
                       struct fe_validate_result *out)
{
	memset(out, 0, sizeof(*out));
	struct ub_result *res = NULL;
	int rc = ub_resolve(v->ctx, name, type, LDNS_RR_CLASS_IN, &res);
	if (rc) {
		fprintf(stderr, "fe_validate: %s/%u: %s\n", name, (unsigned)type, ub_strerror(rc));
		return -1;
	}
	out->rcode = res->rcode;
	out->havedata = res->havedata != 0;
	out->nxdomain = res->nxdomain != 0;
	if (res->secure)
		out->status = FE_VALIDATE_SECURE;
	else if (res->bogus)
		out->status = FE_VALIDATE_BOGUS;
	else
		out->status = FE_VALIDATE_INSECURE;
	if (res->bogus)
		snprintf(out->why_bogus, sizeof(out->why_bogus), "%s",
		         res->why_bogus ? res->why_bogus : "(no reason given)");
	if (res->answer_packet && res->answer_len > 0 &&
	    ldns_wire2pkt(&out->pkt, res->answer_packet, (size_t)res->answer_len) != LDNS_STATUS_OK)
		out->pkt = NULL;
	ub_resolve_free(res);
	return 0;
}

void fe_validate_result_clear(struct fe_validate_result *r)
{
	if (!r)
		return;
	if (r->pkt)
		ldns_pkt_free(r->pkt);
	memset(r, 0, sizeof(*r));
}

static ldns_rr_list *section_of(const ldns_pkt *p, ldns_pkt_section s)
{
	switch (s) {
	case LDNS_SECTION_ANSWER:
		return ldns_pkt_answer(p);
	case LDNS_SECTION_AUTHORITY:
		return ldns_pkt_authority(p);
	case LDNS_SECTION_ADDITIONAL:
		return ldns_pkt_additional(p);
	default:
		return NULL;
	}
}

ldns_rr_list *fe_validate_rrs(const struct fe_validate_result *r, ldns_pkt_section section,
                              uint16_t type)
{
	if (!r->pkt)
		return NULL;
	ldns_rr_list *src = section_of(r->pkt, section);
	ldns_rr_list *out = ldns_rr_list_new();
	for (size_t i = 0; src && i < ldns_rr_list_rr_count(src); i++) {
		ldns_rr *rr = ldns_rr_list_rr(src, i);
		if (type == 0 || ldns_rr_get_type(rr) == type)
			ldns_rr_list_push_rr(out, ldns_rr_clone(rr));
	}
	return out;
}

size_t fe_validate_count(const struct fe_validate_result *r, ldns_pkt_section section,
                         uint16_t type)
{
	if (!r->pkt)
		return 0;
	ldns_rr_list *src = section_of(r->pkt, section);
	size_t n = 0;
	for (size_t i = 0; src && i < ldns_rr_list_rr_count(src); i++)
		if (type == 0 || ldns_rr_get_type(ldns_rr_list_rr(src, i)) == type)
			n++;
	return n;
}

const char *fe_validate_status_str(enum fe_validate_status s)
{
	switch (s) {
	case FE_VALIDATE_SECURE:
		return "secure";
	case FE_VALIDATE_BOGUS:
		return "bogus";
	case FE_VALIDATE_INSECURE:
		break;
	}
	return "insecure";
}

static int rr_to_buf(const ldns_rr *rr, char *out, size_t cap)
{
	char *s = ldns_rr2str(rr);
	if (!s)
		return -1;
	size_t n = strlen(s);
	while (n && s[n - 1] == '\n')
		s[--n] = '\0';
	int rc = n < cap ? 0 : -1;
	if (!rc)
		memcpy(out, s, n + 1);
	free(s);
	return rc;
}

int fe_validate_fresh_ds(const char *owner, char *out, size_t cap, char *key_out, size_t key_cap)
{
	int rc = -1;
	ldns_rr *dnskey = NULL, *ds = NULL;
	ldns_rdf *name = ldns_dname_new_frm_str(owner);
	ldns_key *key = ldns_key_new_frm_algorithm(LDNS_SIGN_ECDSAP256SHA256, 256);
	if (!name || !key)
		goto out;
	ldns_key_set_pubkey_owner(key, name);
	name = NULL; /* the key owns it now */
	ldns_key_set_flags(key, LDNS_KEY_ZONE_KEY | LDNS_KEY_SEP_KEY);
	dnskey = ldns_key2rr(key);
	if (!dnskey)
		goto out;
	ds = ldns_key_rr2ds(dnskey, LDNS_SHA256);
	if (!ds)
		goto out;
	if (rr_to_buf(ds, out, cap))
		goto out;
	if (key_out && rr_to_buf(dnskey, key_out, key_cap))
		goto out;
	rc = 0;
out:
	ldns_rr_free(ds);
	ldns_rr_free(dnskey);
	ldns_key_deep_free(key);
	ldns_rdf_deep_free(name);
	return rc;
}

static void relay(int lfd, int ufd, const uint8_t *find, const uint8_t *replace, size_t len)
{
	uint8_t buf[65536];
	for (;;) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(lfd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n <= 0)
			continue;
		if (send(ufd, buf, (size_t)n, 0) != n)
			continue;
		struct pollfd p = {.fd = ufd, .events = POLLIN};
		if (poll(&p, 1, 2000) != 1)
			continue;
		n = recv(ufd, buf, sizeof(buf), 0);
		if (n <= 0)
			continue;
		uint8_t *hit = len ? memmem(buf, (size_t)n, find, len) : NULL;
		if (hit)
			memcpy(hit, replace, len);
		sendto(lfd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
	}
}

int fe_validate_tamper_start(struct fe_validate_tamper *t, const char *host, uint16_t port,
                             const void *find, const void *replace, size_t len)
{
	memset(t, 0, sizeof(*t));
	struct sockaddr_in la = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct sockaddr_in ua = {.sin_family = AF_INET, .sin_port = htons(port)};
	if (inet_pton(AF_INET, host, &ua.sin_addr) != 1)
		return -1;
	int lfd = socket(AF_INET, SOCK_DGRAM, 0);
	int ufd = socket(AF_INET, SOCK_DGRAM, 0);
	socklen_t ll = sizeof(la);
	if (lfd < 0 || ufd < 0 || bind(lfd, (struct sockaddr *)&la, sizeof(la)) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&la, &ll) != 0 ||
	    connect(ufd, (struct sockaddr *)&ua, sizeof(ua)) != 0)
		goto out_close;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		goto out_close;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(0);
		relay(lfd, ufd, find, replace, len);
		_exit(0);
	}
	close(lfd);
	close(ufd);
	t->pid = pid;
	t->port = ntohs(la.sin_port);
	return 0;
out_close:
	if (lfd >= 0)
		close(lfd);
	if (ufd >= 0)
		close(ufd);
	return -1;
}

void fe_validate_tamper_stop(struct fe_validate_tamper *t)
{
	if (t->pid > 0) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, NULL, 0);
		t->pid = 0;
	}
}
