/* tests/lib/fe_test_pkt.h — header-only helpers over answers parsed by ldns. */
#ifndef FE_TEST_PKT_H
#define FE_TEST_PKT_H

#include <ldns/ldns.h>
#include <stdint.h>

/* The INFO-CODE of the first Extended DNS Error (RFC 8914) in @p's OPT, or -1. */
static inline int fe_test_pkt_ede(const ldns_pkt *p)
{
	ldns_rdf *opt = ldns_pkt_edns_data(p);
	if (!opt)
		return -1;
	const uint8_t *d = ldns_rdf_data(opt);
	size_t n = ldns_rdf_size(opt);
	for (size_t o = 0; o + 4 <= n;) {
		uint16_t code = (uint16_t)(d[o] << 8 | d[o + 1]);
		uint16_t l = (uint16_t)(d[o + 2] << 8 | d[o + 3]);
		if (code == 15 && l >= 2 && o + 6 <= n)
			return d[o + 4] << 8 | d[o + 5];
		o += 4u + l;
	}
	return -1;
}

#endif
