/* Zone transfer out (src/xfr/) without sockets: the handler's open/next/close as the pipeline
 * calls them, over a real store.
 *  - an AXFR reads one snapshot: a version committed in the middle of the stream is not in it;
 *  - messages stay within 64 KiB, the SOA opens and closes, every RR of the zone is there
 *    once, and every message's TSIG verifies as one RFC 8945 §5.3.1 stream;
 *  - IXFR: entry by entry (RFC 1995 §4), the current serial gives one SOA, a serial the
 *    journal does not reach gives the whole zone;
 *  - admission: unsigned, unknown key, other address, over the transfer limit. */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fedenum/store.h"
#include "fedenum/tsig.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "fedenum/xfr.h"
#include "fedenum/zone.h"

#define SECRET "Ut6y2zK8J0m2qv8j6I0g9bC2i0k4yD2H7n3o5q1w8e4="
#define NTXT   3000

static char dir[] = "/tmp/fedenum-xfr-unit-XXXXXX";
static struct fe_store *st;
static struct fe_tsig_keyring *kr;
static struct fe_server_acl *peers;
static struct fe_xfr *x;
static struct sockaddr_in peer_ok, peer_other;

static void write_zone(unsigned serial)
{
	char p[300];
	snprintf(p, sizeof(p), "%s/z.zone", dir);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "$ORIGIN xfr.test.\n$TTL 300\n@ SOA ns1 hostmaster %u 7200 900 1209600 300\n"
	        "@ NS ns1\nns1 A 127.0.0.1\na A 192.0.2.%u\n",
	        serial, serial);
	for (int i = 0; i < NTXT; i++)
		fprintf(f, "t%d TXT \"%060d\"\n", i, i + (serial >= 3 && i == 7 ? 1 : 0));
	fclose(f);
	struct fe_zone_error err;
	memset(&err, 0, sizeof(err));
	cr_assert_eq(fe_zone_load_file(p, NULL, st, &err), FE_OK, "%s", err.reason);
}

static void setup_with(uint32_t max_transfers)
{
	cr_assert_not_null(mkdtemp(dir));
	struct fe_store_opts so = {.no_sync = true};
	cr_assert_eq(fe_store_open(dir, &so, &st), FE_OK);
	write_zone(1);
	struct fe_tsig_key *k;
	cr_assert_eq(fe_tsig_key_from_string("hmac-sha256:xfr-peer.test.:" SECRET, &k), FE_OK);
	cr_assert_eq(fe_tsig_keyring_create(&kr), FE_OK);
	cr_assert_eq(fe_tsig_keyring_add(kr, k), FE_OK);
	cr_assert_eq(fe_server_acl_create(&peers), FE_OK);
	cr_assert_eq(fe_server_acl_add(peers, "127.0.0.1"), FE_OK);
	struct fe_xfr_opts o = {.keys = kr, .peers = peers, .max_transfers = max_transfers};
	cr_assert_eq(fe_xfr_create(st, &o, &x), FE_OK);
	peer_ok = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	peer_other =
	        (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000002)};
}

static void setup(void)
{
	setup_with(0);
}

static void teardown(void)
{
	fe_xfr_destroy(x);
	fe_server_acl_destroy(peers);
	fe_tsig_keyring_destroy(kr);
	fe_store_close(st);
	char cmd[100];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(xfr, .init = setup, .fini = teardown, .timeout = 60);

struct req {
	uint8_t b[600];
	size_t n;
	uint8_t mac[FE_TSIG_MAC_MAX];
	size_t mac_len;
	struct fe_wire_query q;
};

/* An AXFR or IXFR (with a SOA of @serial in the authority section) for xfr.test., signed
 * with @key_spec (NULL: unsigned). */
static void make_req(struct req *r, uint16_t qtype, uint32_t serial, const char *key_spec)
{
	static const uint8_t apex[] = {3, 'x', 'f', 'r', 4, 't', 'e', 's', 't', 0};
	uint8_t *b = r->b;
	memset(r, 0, sizeof(*r));
	static uint16_t id = 0x1234;
	fe_put_be16(b, id++); /* a new request each time: the replay cache refuses a repeat */
	fe_put_be16(b + 4, 1);
	size_t n = 12;
	memcpy(b + n, apex, sizeof(apex));
	n += sizeof(apex);
	fe_put_be16(b + n, qtype);
	fe_put_be16(b + n + 2, FE_C_IN);
	n += 4;
	if (qtype == FE_T_IXFR) {
		fe_put_be16(b + 8, 1);
		static const uint8_t soa[] = {0xc0, 12, 0, 6,  0,    1,  0,    0,
		                              0,    0,  0, 24, 0xc0, 12, 0xc0, 12};
		memcpy(b + n, soa, sizeof(soa));
		n += sizeof(soa);
		fe_put_be32(b + n, serial);
		memset(b + n + 4, 0, 16);
		n += 20;
	}
	r->n = n;
	if (key_spec) {
		struct fe_tsig_key *k;
		cr_assert_eq(fe_tsig_key_from_string(key_spec, &k), FE_OK);
		cr_assert_eq(
		        fe_tsig_sign(b, &r->n, sizeof(r->b), k, NULL, 0, NULL, r->mac, &r->mac_len),
		        FE_OK);
		fe_tsig_key_destroy(k);
	}
	cr_assert_eq(fe_wire_query_parse(b, r->n, &r->q), FE_WIRE_OK);
}

static void *open_stream(struct req *r, const struct sockaddr_in *peer)
{
	const struct fe_server_stream_handler *h = fe_xfr_handler(x);
	struct fe_server_request sr = {.peer = (const struct sockaddr *)peer,
	                               .transport = FE_TRANSPORT_TCP,
	                               .msg = r->b,
	                               .msg_len = r->n,
	                               .q = &r->q};
	void *s = NULL;
	cr_assert_eq(h->open(h->state, &sr, &s), FE_OK);
	cr_assert_not_null(s);
	return s;
}

/* What a stream gave. */
struct got {
	unsigned msgs, rrs, soas;
	uint32_t first_serial, last_serial;
	uint16_t rcode;
	bool signed_ok;
	unsigned a_seen; /* the a.xfr.test. A's last octet */
};

static uint8_t buf[65535];

/* Read one RR at *pos of @m (answer section); fills type and for SOA the serial. */
static void read_rr(const uint8_t *m, size_t len, size_t *pos, uint16_t *type, uint32_t *serial,
                    uint8_t *last_a)
{
	uint8_t name[FE_WIRE_NAME_MAX];
	cr_assert_geq(fe_wire_name_read(m, len, pos, name), 0);
	*type = fe_get_be16(m + *pos);
	uint16_t rdlen = fe_get_be16(m + *pos + 8);
	size_t rd = *pos + 10;
	if (*type == FE_T_SOA) {
		size_t p = rd;
		cr_assert_geq(fe_wire_name_read(m, len, &p, NULL), 0);
		cr_assert_geq(fe_wire_name_read(m, len, &p, NULL), 0);
		*serial = fe_get_be32(m + p);
	}
	if (*type == FE_T_A && name[0] == 1 && name[1] == 'a')
		*last_a = m[rd + 3];
	*pos = rd + rdlen;
}

static struct got run_stream(struct req *r, void *s, void (*mid)(void))
{
	const struct fe_server_stream_handler *h = fe_xfr_handler(x);
	struct got g = {0};
	const struct fe_tsig_key *k = fe_tsig_keyring_get(kr, 0);
	struct fe_tsig_stream *v = NULL;
	if (r->mac_len)
		cr_assert_eq(fe_tsig_stream_create(k, r->mac, r->mac_len, &v), FE_OK);
	g.signed_ok = v != NULL;
	for (;;) {
		size_t len = 0;
		cr_assert_eq(h->next(h->state, s, buf, sizeof(buf), &len), FE_OK);
		if (len == 0)
			break;
		cr_assert_leq(len, 65535);
		g.msgs++;
		g.rcode = fe_get_be16(buf + 2) & 0xf;
		if (v) {
			struct fe_tsig_result res;
			int rc = fe_tsig_stream_verify(v, buf, len, &res);
			if (rc != FE_OK || !res.has_tsig)
				g.signed_ok = false;
		}
		size_t pos = 12;
		cr_assert_geq(fe_wire_name_read(buf, len, &pos, NULL), 0);
		pos += 4;
		unsigned an = fe_get_be16(buf + 6);
		for (unsigned i = 0; i < an; i++) {
			uint16_t type;
			uint32_t serial = 0;
			uint8_t a = 0;
			read_rr(buf, len, &pos, &type, &serial, &a);
			if (a)
				g.a_seen = a;
			if (type == FE_T_SOA) {
				if (!g.soas)
					g.first_serial = serial;
				g.last_serial = serial;
				g.soas++;
			}
			g.rrs++;
		}
		if (mid && g.msgs == 1)
			mid();
	}
	if (v) {
		if (fe_tsig_stream_end(v) != FE_OK)
			g.signed_ok = false;
		fe_tsig_stream_destroy(v);
	}
	h->close(h->state, s);
	return g;
}

#define KEY_OK "hmac-sha256:xfr-peer.test.:" SECRET

static void commit_v2(void)
{
	write_zone(2);
}

Test(xfr, axfr_reads_one_snapshot_every_rr_every_message_signed)
{
	struct req r;
	make_req(&r, FE_T_AXFR, 0, KEY_OK);
	void *s = open_stream(&r, &peer_ok);
	/* Serial 2 is committed after the first message: the stream stays on serial 1. */
	struct got g = run_stream(&r, s, commit_v2);
	cr_assert_gt(g.msgs, 1, "a 3000-TXT zone takes several messages");
	cr_assert_eq(g.rrs, NTXT + 4 + 1, "every RR once, the SOA twice: %u", g.rrs);
	cr_assert_eq(g.soas, 2);
	cr_assert_eq(g.first_serial, 1);
	cr_assert_eq(g.last_serial, 1);
	cr_assert_eq(g.a_seen, 1, "a record of another version: %u", g.a_seen);
	cr_assert(g.signed_ok, "a message's TSIG did not verify");
	uint64_t c[FE_XFR__MAX];
	fe_xfr_counters(x, c);
	cr_assert_eq(c[FE_XFR_AXFR], 1);
	cr_assert_eq(c[FE_XFR_DONE], 1);
	cr_assert_eq(c[FE_XFR_MESSAGES], g.msgs);
	/* And now the new version. */
	make_req(&r, FE_T_AXFR, 0, KEY_OK);
	g = run_stream(&r, open_stream(&r, &peer_ok), NULL);
	cr_assert_eq(g.first_serial, 2);
	cr_assert_eq(g.a_seen, 2);
}

Test(xfr, ixfr_incremental_uptodate_and_fallback)
{
	write_zone(2);
	write_zone(3);
	struct req r;
	make_req(&r, FE_T_IXFR, 1, KEY_OK);
	struct got g = run_stream(&r, open_stream(&r, &peer_ok), NULL);
	/* SOA 3, (SOA 1, A .1, SOA 2, A .2), (SOA 2, A .2, TXT t7, SOA 3, TXT t7'), SOA 3 */
	cr_assert_eq(g.rrs, 1 + 4 + 6 + 1, "%u RRs", g.rrs);
	cr_assert_eq(g.soas, 6);
	cr_assert_eq(g.first_serial, 3);
	cr_assert_eq(g.last_serial, 3);
	cr_assert(g.signed_ok);

	make_req(&r, FE_T_IXFR, 3, KEY_OK);
	g = run_stream(&r, open_stream(&r, &peer_ok), NULL);
	cr_assert_eq(g.rrs, 1, "up to date: one SOA");
	cr_assert_eq(g.first_serial, 3);

	make_req(&r, FE_T_IXFR, 0, KEY_OK); /* before the first version: not in the journal */
	g = run_stream(&r, open_stream(&r, &peer_ok), NULL);
	cr_assert_eq(g.rrs, NTXT + 5, "the whole zone: %u", g.rrs);
	uint64_t c[FE_XFR__MAX];
	fe_xfr_counters(x, c);
	cr_assert_eq(c[FE_XFR_IXFR], 1);
	cr_assert_eq(c[FE_XFR_UPTODATE], 1);
	cr_assert_eq(c[FE_XFR_IXFR_FALLBACK], 1);
}

Test(xfr, refusals)
{
	struct req r;
	make_req(&r, FE_T_AXFR, 0, NULL);
	struct got g = run_stream(&r, open_stream(&r, &peer_ok), NULL);
	cr_assert_eq(g.msgs, 1);
	cr_assert_eq(g.rcode, FE_RCODE_REFUSED);
	cr_assert_eq(g.rrs, 0);

	make_req(&r, FE_T_AXFR, 0, "hmac-sha256:other.test.:" SECRET);
	g = run_stream(&r, open_stream(&r, &peer_ok), NULL);
	cr_assert_eq(g.rcode, FE_RCODE_NOTAUTH);

	make_req(&r, FE_T_AXFR, 0, KEY_OK);
	g = run_stream(&r, open_stream(&r, &peer_other), NULL);
	cr_assert_eq(g.rcode, FE_RCODE_REFUSED);
	cr_assert(g.signed_ok, "a refusal to a signed request is signed");
	cr_assert_eq(g.rrs, 0);

	uint64_t c[FE_XFR__MAX];
	fe_xfr_counters(x, c);
	cr_assert_eq(c[FE_XFR_REFUSED_UNSIGNED], 1);
	cr_assert_eq(c[FE_XFR_REFUSED_TSIG], 1);
	cr_assert_eq(c[FE_XFR_REFUSED_ADDRESS], 1);
	cr_assert_eq(c[FE_XFR_AXFR], 0);
}

/* A secondary's copy marked expired (past its SOA EXPIRE) is not transferred onwards. */
Test(xfr, expired_secondary_zone_is_not_transferred)
{
	struct fe_store_reader *rd = NULL;
	const struct fe_store_zone_rec *z;
	uint8_t key[64];
	const uint8_t apex[] = {3, 'x', 'f', 'r', 4, 't', 'e', 's', 't', 0};
	int kl = fe_wire_name_key(apex, sizeof(apex), key, sizeof(key));
	cr_assert_eq(fe_store_reader_create(st, &rd), FE_OK);
	cr_assert_eq(fe_store_reader_begin(rd), FE_OK);
	cr_assert_eq(fe_store_get_zone(rd, key, (size_t)kl, &z), FE_OK);
	uint64_t version = z->version;
	fe_store_reader_end(rd);
	fe_store_reader_destroy(rd);
	cr_assert_eq(fe_store_zone_mark(st, apex, sizeof(apex), version, FE_ZONE_EXPIRED, 0, -1),
	             FE_OK);
	struct req r;
	make_req(&r, FE_T_AXFR, 0, KEY_OK);
	struct got g = run_stream(&r, open_stream(&r, &peer_ok), NULL);
	cr_assert_eq(g.rcode, FE_RCODE_NOTAUTH);
	cr_assert_eq(g.rrs, 0);
	uint64_t c[FE_XFR__MAX];
	fe_xfr_counters(x, c);
	cr_assert_eq(c[FE_XFR_NOTAUTH_ZONE], 1);
	/* the mark cleared: transferred again */
	cr_assert_eq(fe_store_zone_mark(st, apex, sizeof(apex), version, 0, FE_ZONE_EXPIRED, -1),
	             FE_OK);
	make_req(&r, FE_T_AXFR, 0, KEY_OK);
	g = run_stream(&r, open_stream(&r, &peer_ok), NULL);
	cr_assert_eq(g.rcode, 0);
	cr_assert_gt(g.rrs, 0);
}

static void setup_limit(void)
{
	setup_with(1);
}

Test(xfr_limit, transfers_over_the_limit_are_refused, .init = setup_limit, .fini = teardown)
{
	struct req r1, r2;
	make_req(&r1, FE_T_AXFR, 0, KEY_OK);
	void *s1 = open_stream(&r1, &peer_ok);
	make_req(&r2, FE_T_AXFR, 0, KEY_OK);
	struct got g = run_stream(&r2, open_stream(&r2, &peer_ok), NULL);
	cr_assert_eq(g.rcode, FE_RCODE_REFUSED);
	g = run_stream(&r1, s1, NULL);
	cr_assert_eq(g.rrs, NTXT + 5);
	/* The first one closed: room again. */
	make_req(&r2, FE_T_AXFR, 0, KEY_OK);
	g = run_stream(&r2, open_stream(&r2, &peer_ok), NULL);
	cr_assert_eq(g.rrs, NTXT + 5);
	uint64_t c[FE_XFR__MAX];
	fe_xfr_counters(x, c);
	cr_assert_eq(c[FE_XFR_REFUSED_LIMIT], 1);
}

/* ---- NOTIFY ------------------------------------------------------------------------ */

#include <sys/socket.h>
#include <uv.h>

/* A UDP "secondary" on 127.0.0.1: its fd and port. */
static int udp_peer(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t al = sizeof(a);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static const uint8_t APEX[] = {3, 'x', 'f', 'r', 4, 't', 'e', 's', 't', 0};

static struct fe_xfr_notifier *notifier(uv_loop_t *loop, uint16_t port, unsigned tries,
                                        struct fe_listen_addr *t)
{
	snprintf(t->host, sizeof(t->host), "127.0.0.1");
	t->port = port;
	struct fe_xfr_notify_opts o = {.key = fe_tsig_keyring_get(kr, 0),
	                               .targets = t,
	                               .ntargets = 1,
	                               .tries = tries,
	                               .first_ms = 50};
	struct fe_xfr_notifier *n;
	cr_assert_eq(fe_xfr_notifier_create(loop, x, &o, &n), FE_OK);
	return n;
}

Test(xfr, notify_unanswered_is_retried_with_backoff_then_given_up)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	uint16_t port;
	int fd = udp_peer(&port);
	struct fe_listen_addr t;
	struct fe_xfr_notifier *n = notifier(&loop, port, 3, &t);
	uint64_t t0 = fe_time_mono_ms();
	cr_assert_eq(fe_xfr_notify(n, APEX, sizeof(APEX), 5), FE_OK);
	cr_assert_eq(fe_xfr_notify_pending(n), 1);
	uv_run(&loop, UV_RUN_DEFAULT); /* ends when the last try has timed out */
	uint64_t took = fe_time_mono_ms() - t0;
	cr_assert_eq(fe_xfr_notify_pending(n), 0);
	/* sent at 0, 50, 150 ms; given up at 350 ms */
	cr_assert_geq(took, 340, "%llu ms", (unsigned long long)took);
	unsigned got = 0;
	uint8_t m[1024];
	ssize_t r;
	while ((r = recv(fd, m, sizeof(m), 0)) > 0) {
		got++;
		struct fe_wire_query q;
		cr_assert_eq(fe_wire_query_parse(m, (size_t)r, &q), FE_WIRE_OK);
		cr_assert_eq(q.opcode, FE_OP_NOTIFY);
		cr_assert_eq(q.qtype, FE_T_SOA);
		struct fe_tsig_result res;
		cr_assert_eq(fe_tsig_verify_request(m, (size_t)r, kr, NULL, &res), FE_OK);
	}
	cr_assert_eq(got, 3);
	uint64_t c[FE_XFR__MAX];
	fe_xfr_counters(x, c);
	cr_assert_eq(c[FE_XFR_NOTIFY_SENT], 3);
	cr_assert_eq(c[FE_XFR_NOTIFY_RETRIED], 2);
	cr_assert_eq(c[FE_XFR_NOTIFY_FAILED], 1);
	fe_xfr_notifier_destroy(n);
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(&loop), 0);
	close(fd);
}

struct answerer {
	uv_udp_t udp;
	bool tamper;
};

static void ans_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
	(void)h;
	(void)sz;
	static char rb[2048];
	*b = uv_buf_init(rb, sizeof(rb));
}

/* Answer a NOTIFY as a secondary does: the header with QR, the question, signed over the
 * request MAC (a wrong MAC when tampering: it must be ignored). */
static void ans_recv(uv_udp_t *u, ssize_t nread, const uv_buf_t *in, const struct sockaddr *from,
                     unsigned flags)
{
	(void)flags;
	struct answerer *a = u->data;
	if (nread <= 0)
		return;
	uint8_t *m = (uint8_t *)in->base;
	struct fe_tsig_result res;
	cr_assert_eq(fe_tsig_verify_request(m, (size_t)nread, kr, NULL, &res), FE_OK);
	static uint8_t out[1024];
	size_t n = res.tsig_offset;
	memcpy(out, m, n);
	fe_put_be16(out + 2, (uint16_t)(fe_get_be16(out + 2) | FE_F_QR));
	fe_put_be16(out + 10, 0);
	cr_assert_eq(
	        fe_tsig_sign(out, &n, sizeof(out), res.key, res.mac, res.mac_len, NULL, NULL, NULL),
	        FE_OK);
	if (a->tamper) {
		out[n - 8] ^= 1;
		a->tamper = false;
	}
	static uv_udp_send_t sr;
	uv_buf_t b = uv_buf_init((char *)out, (unsigned)n);
	cr_assert_eq(uv_udp_send(&sr, u, &b, 1, from, NULL), 0);
}

Test(xfr, notify_answered_with_a_valid_tsig_is_done)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct answerer a = {.tamper = true};
	uv_udp_init(&loop, &a.udp);
	a.udp.data = &a;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	cr_assert_eq(uv_udp_bind(&a.udp, (struct sockaddr *)&sa, 0), 0);
	int sl = sizeof(sa);
	uv_udp_getsockname(&a.udp, (struct sockaddr *)&sa, &sl);
	uv_udp_recv_start(&a.udp, ans_alloc, ans_recv);
	struct fe_listen_addr t;
	struct fe_xfr_notifier *n = notifier(&loop, ntohs(sa.sin_port), 5, &t);
	cr_assert_eq(fe_xfr_notify(n, APEX, sizeof(APEX), 5), FE_OK);
	for (int i = 0; i < 200 && fe_xfr_notify_pending(n); i++)
		uv_run(&loop, UV_RUN_ONCE);
	cr_assert_eq(fe_xfr_notify_pending(n), 0);
	uint64_t c[FE_XFR__MAX];
	fe_xfr_counters(x, c);
	/* the first answer's MAC was wrong: ignored, the retry's answer counts */
	cr_assert_eq(c[FE_XFR_NOTIFY_SENT], 2);
	cr_assert_eq(c[FE_XFR_NOTIFY_ACKED], 1);
	cr_assert_eq(c[FE_XFR_NOTIFY_FAILED], 0);
	fe_xfr_notifier_destroy(n);
	uv_close((uv_handle_t *)&a.udp, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(&loop), 0);
}
