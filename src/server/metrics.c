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
};

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
