/* Counter names and their text form (log lines on SIGUSR1 and at exit, fedenumctl later). */
#include "net_int.h"

#include "fedenum/server.h"
#include "fedenum/util.h"

#include <inttypes.h>
#include <stdio.h>

static const char *const names[FE_CNT__MAX] = {
        [FE_CNT_QUERIES] = "queries",
        [FE_CNT_UDP] = "udp",
        [FE_CNT_TCP] = "tcp",
        [FE_CNT_NOERROR] = "noerror",
        [FE_CNT_NXDOMAIN] = "nxdomain",
        [FE_CNT_SERVFAIL] = "servfail",
        [FE_CNT_REFUSED] = "refused",
        [FE_CNT_FORMERR] = "formerr",
        [FE_CNT_NOTIMP] = "notimp",
        [FE_CNT_BADVERS] = "badvers",
        [FE_CNT_DROPPED] = "dropped",
        [FE_CNT_TRUNCATED] = "truncated",
        [FE_CNT_ACL_REFUSED] = "acl_refused",
        [FE_CNT_OUT_OF_ZONE] = "out_of_zone",
        [FE_CNT_TCP_ACCEPTED] = "tcp_accepted",
        [FE_CNT_TCP_REFUSED_LIMIT] = "tcp_refused_limit",
        [FE_CNT_TCP_IDLE_CLOSED] = "tcp_idle_closed",
        [FE_CNT_TCP_BAD_FRAME] = "tcp_bad_frame",
        [FE_CNT_TCP_BACKLOG_CLOSED] = "tcp_backlog_closed",
        [FE_CNT_TLS_HANDSHAKES] = "tls_handshakes",
        [FE_CNT_TLS_HANDSHAKE_FAILED] = "tls_handshake_failed",
        [FE_CNT_STORE_ERRORS] = "store_errors",
        [FE_CNT_QT_A] = "qtype_a",
        [FE_CNT_QT_AAAA] = "qtype_aaaa",
        [FE_CNT_QT_NAPTR] = "qtype_naptr",
        [FE_CNT_QT_SRV] = "qtype_srv",
        [FE_CNT_QT_NS] = "qtype_ns",
        [FE_CNT_QT_SOA] = "qtype_soa",
        [FE_CNT_QT_DS] = "qtype_ds",
        [FE_CNT_QT_DNSKEY] = "qtype_dnskey",
        [FE_CNT_QT_TXT] = "qtype_txt",
        [FE_CNT_QT_CNAME] = "qtype_cname",
        [FE_CNT_QT_PTR] = "qtype_ptr",
        [FE_CNT_QT_ANY] = "qtype_any",
        [FE_CNT_QT_AXFR] = "qtype_axfr",
        [FE_CNT_QT_IXFR] = "qtype_ixfr",
        [FE_CNT_QT_OTHER] = "qtype_other",
        [FE_CNT_LAT_0] = "latency_le_50us",
        [FE_CNT_LAT_1] = "latency_le_100us",
        [FE_CNT_LAT_2] = "latency_le_250us",
        [FE_CNT_LAT_3] = "latency_le_500us",
        [FE_CNT_LAT_4] = "latency_le_1ms",
        [FE_CNT_LAT_5] = "latency_le_2500us",
        [FE_CNT_LAT_6] = "latency_le_5ms",
        [FE_CNT_LAT_7] = "latency_le_10ms",
        [FE_CNT_LAT_8] = "latency_le_50ms",
        [FE_CNT_LAT_INF] = "latency_above_50ms",
        [FE_CNT_LAT_SUM_US] = "latency_sum_us",
};

static const char *const qtype_names[] = {"A",   "AAAA", "NAPTR",  "SRV",  "NS",
                                          "SOA", "DS",   "DNSKEY", "TXT",  "CNAME",
                                          "PTR", "ANY",  "AXFR",   "IXFR", "other"};

const char *fe_counter_qtype_name(enum fe_counter c)
{
	if (c < FE_CNT_QT_FIRST || c > FE_CNT_QT_OTHER)
		return NULL;
	return qtype_names[c - FE_CNT_QT_FIRST];
}

enum fe_counter fe__counter_for_qtype(uint16_t qtype)
{
	switch (qtype) {
	case 1:
		return FE_CNT_QT_A;
	case 28:
		return FE_CNT_QT_AAAA;
	case 35:
		return FE_CNT_QT_NAPTR;
	case 33:
		return FE_CNT_QT_SRV;
	case 2:
		return FE_CNT_QT_NS;
	case 6:
		return FE_CNT_QT_SOA;
	case 43:
		return FE_CNT_QT_DS;
	case 48:
		return FE_CNT_QT_DNSKEY;
	case 16:
		return FE_CNT_QT_TXT;
	case 5:
		return FE_CNT_QT_CNAME;
	case 12:
		return FE_CNT_QT_PTR;
	case 255:
		return FE_CNT_QT_ANY;
	case 252:
		return FE_CNT_QT_AXFR;
	case 251:
		return FE_CNT_QT_IXFR;
	default:
		return FE_CNT_QT_OTHER;
	}
}

void fe__latency_add(uint64_t *counters, uint64_t us, unsigned n)
{
	static const uint32_t bounds[] = FE_SERVER_LATENCY_BOUNDS_US;
	unsigned b = 0;
	while (b < FE_SERVER_LATENCY_BUCKETS && us > bounds[b])
		b++;
	fe_counter_add(counters, (enum fe_counter)(FE_CNT_LAT_0 + b), n);
	fe_counter_add(counters, FE_CNT_LAT_SUM_US, us * n);
}

const char *fe_counter_name(enum fe_counter c)
{
	if ((unsigned)c >= FE_CNT__MAX || !names[c])
		return "unknown";
	return names[c];
}

size_t fe_server_counters_format(const uint64_t *counters, char *buf, size_t cap)
{
	size_t need = 0;
	for (unsigned i = 0; i < FE_CNT__MAX; i++) {
		char *dst = NULL;
		size_t room = 0;
		if (need < cap) {
			dst = buf + need;
			room = cap - need;
		}
		int n = snprintf(dst, room, "%s%s=%" PRIu64, i ? " " : "",
		                 fe_counter_name((enum fe_counter)i), counters[i]);
		if (n < 0)
			break;
		need += (size_t)n;
	}
	if (cap && need >= cap)
		buf[cap - 1] = '\0';
	else if (cap && need == 0)
		buf[0] = '\0';
	return need;
}

enum fe_counter fe__counter_for_rcode(uint16_t rcode)
{
	switch (rcode) {
	case FE_RCODE_NOERROR:
		return FE_CNT_NOERROR;
	case FE_RCODE_NXDOMAIN:
		return FE_CNT_NXDOMAIN;
	case FE_RCODE_SERVFAIL:
		return FE_CNT_SERVFAIL;
	case FE_RCODE_REFUSED:
		return FE_CNT_REFUSED;
	case FE_RCODE_FORMERR:
		return FE_CNT_FORMERR;
	case FE_RCODE_NOTIMP:
		return FE_CNT_NOTIMP;
	case FE_RCODE_BADVERS:
		return FE_CNT_BADVERS;
	default:
		return FE_CNT__MAX;
	}
}
