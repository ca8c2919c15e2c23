/* Two sets of pipeline hooks as one (include/fedenum/server.h, struct fe_server_policy): the
 * zone-transfer module's TSIG verification and answer signing wrap the policy engine's
 * decisions. Nesting: before — outer, then inner; TSIG — the outer verifies (a key it knows),
 * else the inner decides (a view named by its key); after — the inner rewrites the answer,
 * then the outer signs what goes out (a TSIG must cover the final message). */
#include "daemon_int.h"

static enum fe_server_verdict before(void *state, const struct fe_server_request *req,
                                     uint16_t *rcode)
{
	const struct fe__hooks *h = state;
	enum fe_server_verdict v = FE_SERVER_PASS;
	if (h->outer->before)
		v = h->outer->before(h->outer->state, req, rcode);
	if (v == FE_SERVER_PASS && h->inner->before)
		v = h->inner->before(h->inner->state, req, rcode);
	return v;
}

static enum fe_server_verdict tsig(void *state, const struct fe_server_request *req,
                                   uint16_t *rcode)
{
	const struct fe__hooks *h = state;
	enum fe_server_verdict v = FE_SERVER_RCODE;
	*rcode = FE_RCODE_NOTAUTH;
	if (h->outer->tsig)
		v = h->outer->tsig(h->outer->state, req, rcode);
	if (v != FE_SERVER_PASS && h->inner->tsig) {
		uint16_t inner_rcode = *rcode;
		if (h->inner->tsig(h->inner->state, req, &inner_rcode) == FE_SERVER_PASS)
			v = FE_SERVER_PASS;
	}
	return v;
}

static size_t after(void *state, const struct fe_server_request *req, uint8_t *msg, size_t len,
                    size_t cap)
{
	const struct fe__hooks *h = state;
	if (h->inner->after)
		len = h->inner->after(h->inner->state, req, msg, len, cap);
	if (len && h->outer->after)
		len = h->outer->after(h->outer->state, req, msg, len, cap);
	return len;
}

const struct fe_server_policy *fe__hooks_compose(struct fe__hooks *h,
                                                 const struct fe_server_policy *outer,
                                                 const struct fe_server_policy *inner)
{
	if (outer == NULL)
		return inner;
	if (inner == NULL)
		return outer;
	h->outer = outer;
	h->inner = inner;
	h->out.state = h;
	h->out.before = before;
	h->out.tsig = tsig;
	h->out.after = after;
	return &h->out;
}
