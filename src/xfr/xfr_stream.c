/* The RR sequence of one transfer (AXFR: RFC 5936 §2.2; IXFR: RFC 1995 §4) and its packing
 * into TSIG-signed messages. Everything reads the stream's own snapshot (or journal entries
 * copied in open), so one version is sent from the first message to the last. */
#include "xfr_int.h"

#include "fedenum/util.h"

#include <stdlib.h>
#include <string.h>

/* Step the journal part of an IXFR: per entry, the old SOA, the removed RRs but it, the
 * new SOA, the added RRs but it (RFC 1995 §4). 1: *rr set; 0: entries done; <0 error. */
static int journal_next(struct fe__xstream *s, struct fe__xrr *rr)
{
	while (s->ient < s->nent) {
		const struct fe__xent *e = &s->ent[s->ient];
		bool removed = s->jstep < 2;
		const uint8_t *p = removed ? e->removed : e->added;
		size_t len = removed ? e->removed_len : e->added_len;
		bool want_soa = (s->jstep & 1) == 0;
		struct fe_store_rr r;
		while (fe_store_rr_next(p, len, &s->joff, &r)) {
			if ((r.type == FE_T_SOA) != want_soa)
				continue;
			rr->owner = r.owner;
			rr->type = r.type;
			rr->ttl = r.ttl;
			rr->rdata = r.rdata;
			rr->rdlen = r.rdlen;
			if (want_soa) {
				/* One SOA per side: go on with the rest from the start. */
				s->jstep++;
				s->joff = 0;
			}
			return 1;
		}
		if (s->joff < len)
			return FE_EFORMAT; /* a damaged RR */
		if (want_soa)
			return FE_EFORMAT; /* an entry without its SOA */
		s->joff = 0;
		if (++s->jstep == 4) {
			s->jstep = 0;
			s->ient++;
		}
	}
	return 0;
}

/* The zone's nodes, then its NSEC3 nodes, every RRset with its RRSIGs; the apex SOA itself
 * is left out (it opens and closes the transfer), its RRSIGs are not. */
static int nodes_next(struct fe__xstream *s, struct fe__xrr *rr)
{
	for (;;) {
		if (!s->have_node) {
			bool nsec3 = s->phase == FE__XP_NSEC3;
			int rc = fe_store_next_node(s->rd, s->zone, nsec3, s->nkey, s->nkey_len,
			                            &s->nkey, &s->nkey_len, &s->node);
			if (rc == FE_ENOENT) {
				s->nkey = NULL;
				s->nkey_len = 0;
				if (!nsec3) {
					s->phase = FE__XP_NSEC3;
					continue;
				}
				return 0;
			}
			if (rc != FE_OK)
				return rc;
			s->have_node = true;
			s->have_rs = false;
			s->rs_iter = 0;
		}
		if (!s->have_rs) {
			if (!fe_store_node_next(&s->node, &s->rs_iter, &s->rs)) {
				s->have_node = false;
				continue;
			}
			s->have_rs = true;
			s->rr_iter = 0;
		}
		const uint8_t *rdata;
		uint16_t rdlen;
		bool is_sig;
		if (!fe_store_rrset_next(&s->rs, &s->rr_iter, &rdata, &rdlen, &is_sig)) {
			s->have_rs = false;
			continue;
		}
		if (!is_sig && s->rs.type == FE_T_SOA && (s->node.flags & FE_NODE_APEX))
			continue;
		rr->owner = s->node.owner;
		rr->type = is_sig ? FE_T_RRSIG : s->rs.type;
		rr->ttl = s->rs.ttl;
		rr->rdata = rdata;
		rr->rdlen = rdlen;
		return 1;
	}
}

/* 1: *rr is the next RR of the transfer; 0: the end; <0: an error. */
static int rr_next(struct fe__xstream *s, struct fe__xrr *rr)
{
	int rc;
	switch (s->phase) {
	case FE__XP_SOA_FIRST:
		*rr = s->soa;
		/* Up to date (one SOA): nothing follows. */
		s->phase = s->is_ixfr && s->nent == 0 ? FE__XP_DONE
		           : s->is_ixfr               ? FE__XP_JOURNAL
		                                      : FE__XP_NODES;
		return 1;
	case FE__XP_NODES:
	case FE__XP_NSEC3:
		rc = nodes_next(s, rr);
		if (rc != 0)
			return rc;
		s->phase = FE__XP_SOA_LAST;
		return rr_next(s, rr);
	case FE__XP_JOURNAL:
		rc = journal_next(s, rr);
		if (rc != 0)
			return rc;
		s->phase = FE__XP_SOA_LAST;
		return rr_next(s, rr);
	case FE__XP_SOA_LAST:
		*rr = s->soa;
		s->phase = FE__XP_DONE;
		return 1;
	case FE__XP_DONE:
		break;
	}
	return 0;
}

int fe__xfr_stream_next(struct fe__xstream *s, uint8_t *buf, size_t cap, size_t *len)
{
	*len = 0;
	if (s->one) {
		if (s->one_len > cap)
			return FE_EINVAL;
		memcpy(buf, s->one, s->one_len);
		*len = s->one_len;
		free(s->one);
		s->one = NULL;
		s->one_len = 0;
		s->phase = FE__XP_DONE;
		return FE_OK;
	}
	if (s->phase == FE__XP_DONE && !s->has_pend)
		return FE_OK;
	if (fe_time_mono_ms() > s->deadline_ms)
		return FE_ETIMEOUT;

	/* Room for the TSIG RR that every message gets (RFC 8945 §5.3.1: we sign them all). */
	size_t room = FE_MIN(cap, (size_t)FE_WIRE_MSG_MAX) - FE_TSIG_RR_MAX;
	struct fe_wire_builder b;
	fe_wire_builder_init(&b, buf, room, &s->q);
	fe_wire_builder_set_flags(&b, FE_F_AA);
	unsigned n = 0;
	for (;;) {
		struct fe__xrr rr;
		if (s->has_pend) {
			rr = s->pend;
		} else {
			int rc = rr_next(s, &rr);
			if (rc < 0)
				return rc;
			if (rc == 0)
				break;
		}
		int rc = fe_wire_builder_put_rr(&b, FE_SEC_ANSWER, rr.owner, rr.type, FE_C_IN,
		                                rr.ttl, rr.rdata, rr.rdlen);
		if (rc == FE_ENOSPC && n > 0) {
			s->pend = rr; /* first in the next message */
			s->has_pend = true;
			break;
		}
		if (rc != FE_OK)
			return rc == FE_ENOSPC ? FE_ERANGE : rc;
		s->has_pend = false;
		n++;
	}
	size_t m = fe_wire_builder_finish(&b, &s->q, FE_WIRE_UDP_DEFAULT);
	if (m == 0)
		return FE_EINVAL;
	if (s->ts) {
		int rc = fe_tsig_stream_sign(s->ts, buf, &m, cap, true, NULL);
		if (rc != FE_OK)
			return rc;
	}
	s->rrs += n;
	*len = m;
	return FE_OK;
}
