/* TSIG on view queries (RFC 8945): the policy's keyring verifies a signed query before its
 * key name may select a view, refusals get the TSIG error answers of §5.3.2, and the answer
 * to a verified query is signed over the request MAC (§5.3). */
#include "policy_int.h"

#include "fedenum/util.h"

#include <string.h>

void fe__pol_tsig_verify(const struct fe_policy *p, struct fe_tsig_replay *replay,
                         const struct fe_server_request *req, struct pol_tsig *t)
{
	t->pol = p;
	t->msg = req->msg;
	t->len = req->msg_len;
	t->id = req->q->id;
	t->rc = fe_tsig_verify_request(req->msg, req->msg_len, p->keys, replay, &t->res);
}

void fe__pol_tsig_get(const struct fe_policy *p, struct fe_tsig_replay *replay,
                      const struct fe_server_request *req, struct pol_tsig *t)
{
	bool same = t->msg == req->msg && t->len == req->msg_len && t->id == req->q->id;
	if (same && t->pol == p)
		return;
	/* not verified for this request yet, or verified by a policy swapped out since */
	fe__pol_tsig_verify(p, same && t->rc == FE_OK ? NULL : replay, req, t);
}

size_t fe__pol_tsig_error(const struct fe_server_request *req, const struct pol_tsig *t,
                          uint8_t *msg, size_t len, size_t limit)
{
	if (t->rc != FE_EPERM)
		return len; /* FE_EFORMAT: the FORMERR answer stays */
	size_t n = fe_tsig_error_response(req->msg, req->msg_len, &t->res, msg, limit);
	return n ? n : len;
}

size_t fe__pol_tsig_sign(const struct fe_server_request *req, const struct pol_tsig *t,
                         uint8_t *msg, size_t len, size_t limit)
{
	size_t n = len;
	const struct fe_tsig_result *r = &t->res;
	int rc = fe_tsig_sign(msg, &n, limit, r->key, r->mac, r->mac_len, NULL, NULL, NULL);
	if (rc == FE_ENOSPC && req->q->question_end && len >= req->q->question_end) {
		n = req->q->question_end;
		fe_put_be16(msg + 2, (uint16_t)(fe_get_be16(msg + 2) | FE_F_TC));
		memset(msg + 6, 0, 6);
		rc = fe_tsig_sign(msg, &n, limit, r->key, r->mac, r->mac_len, NULL, NULL, NULL);
	}
	return rc == FE_OK ? n : 0;
}
