/* tests/lib/fe_validate.h — an independent DNSSEC validator for tests: libunbound configured
 * with ONLY the trust anchors the test gives (no root anchor, no /etc/hosts, no resolv.conf),
 * sending every query to one server (a fedenumd under test) as its forwarder, so nothing
 * leaves loopback and nothing is trusted that the federation did not sign.
 *
 * Not thread-safe: one validator per thread. Every validator has its own cache, so a test
 * that needs a fresh view (another anchor) creates another validator. */
#ifndef FE_VALIDATE_H
#define FE_VALIDATE_H

#include <ldns/ldns.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct fe_validate;

enum fe_validate_status {
	FE_VALIDATE_SECURE,   /* RFC 4033 §5: a chain of trust from an anchor to the answer */
	FE_VALIDATE_INSECURE, /* no anchor covers the name, or no answer could be validated */
	FE_VALIDATE_BOGUS,    /* covered by an anchor, and validation failed */
};

/* The outcome of one lookup. fe_validate_result_clear releases it (and may be called on a
 * zeroed or already cleared result). */
struct fe_validate_result {
	int rcode;                      /* as libunbound reports it (LDNS_RCODE_*) */
	enum fe_validate_status status; /* see above */
	bool havedata;                  /* the answer holds RRs of the asked type */
	bool nxdomain;                  /* the name does not exist */
	char why_bogus[512];            /* libunbound's reason when BOGUS, else "" */
	ldns_pkt *pkt; /* the reply as libunbound assembled it (answer with RRSIGs, authority
	                * with the SOA and the NSEC/NSEC3 proof); owned, NULL if there was none */
};

/* A validator asking @host (IPv4 or IPv6 literal) on @port, over TCP when @tcp. Returns NULL
 * on error (reason on stderr). Free with fe_validate_destroy (NULL is a no-op). */
struct fe_validate *fe_validate_create(const char *host, uint16_t port, bool tcp);
void fe_validate_destroy(struct fe_validate *v);
/* Any other libunbound option ("edns-buffer-size:", "512"), before the first lookup. 0 or -1. */
int fe_validate_set_option(struct fe_validate *v, const char *opt, const char *val);

/* Add every DS or DNSKEY record of the master-format file @path (as ldns-key2ds or
 * dnssec-dsfromkey print them) as a trust anchor. Returns the number of anchors added
 * (>= 1), or -1 when the file cannot be read, holds anything else, or holds none. Anchors
 * must be added before the first lookup. */
int fe_validate_add_ta_file(struct fe_validate *v, const char *path);
/* Add one DS or DNSKEY record in presentation format. 0 or -1. */
int fe_validate_add_ta(struct fe_validate *v, const char *rr);
/* Add the trust anchors of the demo federation (federation/keys/ *.ds of the source tree).
 * 0 or -1. */
int fe_validate_add_demo_anchors(struct fe_validate *v);

/* Look up @name/@type through the validator. Returns 0 with *out filled (clear it after use),
 * or -1 when libunbound could not run the lookup at all (reason on stderr). */
int fe_validate_lookup(struct fe_validate *v, const char *name, uint16_t type,
                       struct fe_validate_result *out);
void fe_validate_result_clear(struct fe_validate_result *r);

/* Copies of the RRs of @type (0: every type) in @section of the result's reply; NULL when
 * there is no reply. Caller frees with ldns_rr_list_deep_free. */
ldns_rr_list *fe_validate_rrs(const struct fe_validate_result *r, ldns_pkt_section section,
                              uint16_t type);
/* Number of RRs of @type in @section (0 when there is no reply). */
size_t fe_validate_count(const struct fe_validate_result *r, ldns_pkt_section section,
                         uint16_t type);

/* "secure", "insecure" or "bogus". */
const char *fe_validate_status_str(enum fe_validate_status s);

/* Make a new ECDSA P-256 key (flags 257) for @owner and write the DS (SHA-256) of it in
 * presentation format into @out: an anchor no zone of the demo federation is signed with.
 * With @key_out non-NULL, the DNSKEY record too. 0 or -1. */
int fe_validate_fresh_ds(const char *owner, char *out, size_t cap, char *key_out, size_t key_cap);

/* A man in the middle for negative controls: a UDP relay on 127.0.0.1 (own process) that
 * passes every datagram to @host:@port and back, replacing in each reply the first
 * occurrence of @find (raw octets, @len long) with @replace (same length). A validator
 * pointed at the relay must find the altered answer BOGUS. */
struct fe_validate_tamper {
	pid_t pid;
	uint16_t port; /* where the relay listens, on 127.0.0.1 */
};
/* 0 or -1. */
int fe_validate_tamper_start(struct fe_validate_tamper *t, const char *host, uint16_t port,
                             const void *find, const void *replace, size_t len);
/* Kill and reap the relay (no-op when not running). */
void fe_validate_tamper_stop(struct fe_validate_tamper *t);

#endif
