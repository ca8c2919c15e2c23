/* Admission list: which client addresses may query (docs/security.md Q8).
 * A linear scan over a short list of prefixes: federations admit a handful of S-CSCF
 * networks, and the check runs once per datagram or once per TCP connection. */
#include "fedenum/server.h"
#include "fedenum/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct acl_entry {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned bits; /* prefix length */
};

struct fe_server_acl {
	struct acl_entry *v;
	size_t n, cap;
};

int fe_server_acl_create(struct fe_server_acl **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? FE_OK : FE_ENOMEM;
}

void fe_server_acl_destroy(struct fe_server_acl *acl)
{
	if (!acl)
		return;
	free(acl->v);
	free(acl);
}

size_t fe_server_acl_count(const struct fe_server_acl *acl)
{
	return acl ? acl->n : 0;
}

/* true when the first @bits bits of @a and @b are equal. */
static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8;
	if (memcmp(a, b, full) != 0)
		return false;
	unsigned rest = bits % 8;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xffu << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

int fe_server_acl_add(struct fe_server_acl *acl, const char *prefix)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(prefix, '/');
	size_t hl = slash ? (size_t)(slash - prefix) : strlen(prefix);
	if (hl == 0 || hl >= sizeof(host))
		return FE_ESYNTAX;
	memcpy(host, prefix, hl);
	host[hl] = '\0';

	struct acl_entry e = {0};
	unsigned maxbits;
	if (inet_pton(AF_INET, host, e.addr) == 1) {
		e.family = AF_INET;
		maxbits = 32;
	} else if (inet_pton(AF_INET6, host, e.addr) == 1) {
		e.family = AF_INET6;
		maxbits = 128;
	} else {
		return FE_ESYNTAX;
	}
	e.bits = maxbits;
	if (slash) {
		const char *p = slash + 1;
		if (*p < '0' || *p > '9')
			return FE_ESYNTAX;
		unsigned v = 0;
		for (; *p; p++) {
			if (*p < '0' || *p > '9')
				return FE_ESYNTAX;
			v = v * 10u + (unsigned)(*p - '0');
			if (v > maxbits)
				return FE_ESYNTAX;
		}
		e.bits = v;
	}
	/* RFC 4632 §3.1: a prefix has no bits set beyond its length. "10.1.2.3/8" is almost
	 * always a typo for a host or a different network: refuse rather than guess. */
	uint8_t masked[16];
	memcpy(masked, e.addr, sizeof(masked));
	for (unsigned bit = e.bits; bit < maxbits; bit++)
		masked[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
	if (memcmp(masked, e.addr, maxbits / 8u) != 0)
		return FE_ESYNTAX;

	if (acl->n == acl->cap) {
		size_t ncap = acl->cap ? acl->cap * 2 : 8;
		struct acl_entry *nv = realloc(acl->v, ncap * sizeof(*nv));
		if (!nv)
			return FE_ENOMEM;
		acl->v = nv;
		acl->cap = ncap;
	}
	acl->v[acl->n++] = e;
	return FE_OK;
}

bool fe_server_acl_allows(const struct fe_server_acl *acl, const struct sockaddr *sa)
{
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const uint8_t *addr;
	int family;
	if (sa->sa_family == AF_INET) {
		addr = (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		family = AF_INET;
	} else if (sa->sa_family == AF_INET6) {
		addr = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
		family = AF_INET6;
		/* RFC 4291 §2.5.5.2: the IPv4 client behind a dual-stack socket. */
		if (memcmp(addr, v4mapped, sizeof(v4mapped)) == 0) {
			addr += 12;
			family = AF_INET;
		}
	} else {
		return false;
	}
	for (size_t i = 0; i < acl->n; i++) {
		const struct acl_entry *e = &acl->v[i];
		if (e->family == family && prefix_eq(e->addr, addr, e->bits))
			return true;
	}
	return false;
}
