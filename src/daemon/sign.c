/* fedenumd's member-side signing: the control commands zone.import (a CSV of numbers
 * replaces a zone's NAPTRs, the zone created when new) and zone.sign (sign again from the
 * last import: new keys, a rollover step), and the hourly refresh of signatures that expire
 * within signing.refresh-days.
 *
 * A job runs on a thread-pool thread (uv_queue_work): read the CSV (a regular file, not a
 * symlink, at most FE__IMPORT_MAX_BYTES), check every row (nothing applied if one fails),
 * sign with the keys of signing.key-dir on every core, and store the signed zone built in
 * memory under fe__load_lock: without trust anchors checked and committed (the commit writes
 * the difference and journals it); under trust anchors through fe_trust_commit_zone (the
 * chain of trust and the validator, as a configured zone's load, without a file). The CSV is
 * kept (STORE/signing/<apex>csv): the source of a re-sign. Back on the loop: NOTIFY the secondaries
 * (fe__xfr_loads_done), answer. One job at a time; a second request is answered busy. */
#include "daemon_int.h"

#include "fedenum/ctl.h"
#include "fedenum/sign.h"
#include "fedenum/store.h"
#include "fedenum/trust.h"
#include "fedenum/wire.h"
#include "fedenum/zone.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define FE__IMPORT_MAX_BYTES (1ull << 30)

enum {
	CNT_IMPORTS = 0,
	CNT_NUMBERS,
	CNT_SIGNS,
	CNT_REFRESHES,
	CNT_FAILED,
	CNT_ROWS_REFUSED,
	CNT__MAX
};

struct fe__signing {
	uv_loop_t *loop;
	struct fe_store *st;
	struct fe_trust *trust;
	struct fe__xfr *xf;
	const struct fe_conf *cfg; /* the daemon's current configuration (replaced in place on the
	                              loop thread by a reload) */
	bool validating, busy, stopping, timer_ready;
	char dir[3000]; /* STORE/signing */
	uv_timer_t timer;
	uint64_t cnt[CNT__MAX];
};

static struct fe__signing g_sign; /* one per process: the control commands reach it here */

enum op { OP_NONE = 0, OP_ADD, OP_REMOVE, OP_PORT };

struct job {
	uv_work_t w;
	struct fe_ctl_req *req; /* NULL: a refresh */
	bool resign;
	enum op op;      /* a number change applied to the last import's CSV */
	char row[1400];  /* OP_ADD, OP_PORT: the new row, as one CSV line */
	char number[20]; /* the number changed */
	char apex[260];
	char src[4400];
	/* copied from the configuration on the loop thread */
	char key_dir[4096];
	char **prefixes;
	size_t nprefixes;
	char **ns;
	size_t nns;
	char rname[300];
	struct fe_sign_zone_defaults d;
	struct fe_sign_opts o;
	/* result */
	int rc;
	const char *code; /* "bad-arguments" or "failed" */
	char err[1024];
	bool created;
	uint32_t serial;
	size_t numbers;
	uint64_t bad_rows;
	struct fe_sign_report rep;
	double read_s, store_s, total_s;
};

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static char **copy_strv(char *const *v, size_t n)
{
	char **o = calloc(n ? n : 1, sizeof(*o));
	for (size_t i = 0; o && i < n; i++)
		if ((o[i] = strdup(v[i])) == NULL) {
			free_strv(o, i);
			return NULL;
		}
	return o;
}

static void job_free(struct job *j)
{
	free_strv(j->prefixes, j->nprefixes);
	free_strv(j->ns, j->nns);
	free(j);
}

/* ---- the work ------------------------------------------------------------------------- */

static int fail(struct job *j, const char *code, int rc, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static int fail(struct job *j, const char *code, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(j->err, sizeof(j->err), fmt, ap);
	va_end(ap);
	j->code = code;
	j->rc = rc;
	return rc;
}

/* The CSV file: a regular file (not a symlink), bounded. */
static int read_csv(struct job *j, char **data, size_t *len)
{
	int fd = open(j->src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fail(j, "bad-arguments", FE_ENOENT, "%s: %s", j->src, strerror(errno));
	struct stat sb;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return fail(j, "bad-arguments", FE_EPERM, "%s: not a regular file", j->src);
	}
	if ((uint64_t)sb.st_size > FE__IMPORT_MAX_BYTES) {
		close(fd);
		return fail(j, "bad-arguments", FE_ERANGE, "%s: %lld octets, above the %llu limit",
		            j->src, (long long)sb.st_size, FE__IMPORT_MAX_BYTES);
	}
	char *b = malloc((size_t)sb.st_size + 1);
	size_t got = 0;
	while (b && got < (size_t)sb.st_size) {
		ssize_t n = read(fd, b + got, (size_t)sb.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (b == NULL || got != (size_t)sb.st_size) {
		free(b);
		return fail(j, "failed", FE_EIO, "%s: cannot read it", j->src);
	}
	b[got] = '\0';
	*data = b;
	*len = got;
	return FE_OK;
}

struct serial_ctx {
	const uint8_t *apex;
	bool found;
	uint32_t serial;
};

static bool serial_cb(const struct fe_store_zone_rec *z, void *arg)
{
	struct serial_ctx *c = arg;
	if (!fe_wire_name_eq(z->apex, c->apex))
		return true;
	c->found = true;
	c->serial = z->serial;
	return false;
}

static bool stored(struct fe_store *st, const uint8_t *apex, uint32_t *serial)
{
	struct serial_ctx c = {.apex = apex};
	struct fe_store_reader *r = NULL;
	if (fe_store_reader_create(st, &r) == FE_OK && fe_store_reader_begin(r) == FE_OK) {
		fe_store_foreach_zone(r, serial_cb, &c);
		fe_store_reader_end(r);
	}
	fe_store_reader_destroy(r);
	*serial = c.serial;
	return c.found;
}

/* The signed zone built in memory into the store: without trust anchors the structural
 * checks and the commit (the difference, journaled); under trust anchors the same through
 * the chain of trust and the validator (fe_trust_commit_zone, the previous version's
 * proven signatures not verified again), no master file written and parsed again. */
static int commit(struct fe_zone *z, const char *apex, struct fe_zone_error *err)
{
	pthread_mutex_lock(&fe__load_lock);
	int rc;
	if (g_sign.validating) {
		struct fe_trust_anchors *a = NULL;
		rc = fe_trust_anchors_from_store(g_sign.st, &a);
		if (rc == FE_OK) {
			struct fe_trust_opts topts = {.anchors = a};
			fe_dnssec_opts_init(&topts.validate);
			struct fe_trust_result tr;
			char what[300];
			snprintf(what, sizeof(what), "signing of %s", apex);
			rc = fe_trust_commit_zone(g_sign.trust, z, what, &topts, g_sign.st, &tr,
			                          err);
		}
		fe_trust_anchors_destroy(a);
	} else {
		rc = fe_zone_validate(z, err);
		if (rc == FE_OK)
			rc = fe_zone_commit(z, g_sign.st, err);
	}
	pthread_mutex_unlock(&fe__load_lock);
	return rc;
}

/* One CSV line per row (the URI quoted when it holds a ',' or '"'), header first. */
static char *csv_text(const struct fe_sign_number *rows, size_t n, size_t *len)
{
	size_t cap = 64 + n * (sizeof(rows->number) + sizeof(rows->service) +
	                       2 * sizeof(rows->uri) + 16);
	char *b = malloc(cap);
	if (b == NULL)
		return NULL;
	size_t o = (size_t)snprintf(b, cap, "number,service,uri,order,preference\n");
	for (size_t i = 0; i < n; i++) {
		const struct fe_sign_number *r = &rows[i];
		o += (size_t)snprintf(b + o, cap - o, "%s,%s,", r->number, r->service);
		bool q = strpbrk(r->uri, ",\"") != NULL;
		if (q)
			b[o++] = '"';
		for (const char *p = r->uri; *p; p++) {
			if (*p == '"')
				b[o++] = '"';
			b[o++] = *p;
		}
		if (q)
			b[o++] = '"';
		o += (size_t)snprintf(b + o, cap - o, ",%u,%u\n", r->order, r->preference);
	}
	*len = o;
	return b;
}

/* Apply the job's number change to the rows of @csv, and make *data the new CSV. */
static int apply_op(struct job *j, struct fe_sign_csv *csv, char **data, size_t *len)
{
	struct fe_sign_csv one = {0};
	if (j->op != OP_REMOVE) {
		int rc = fe_sign_csv_parse(j->row, strlen(j->row), j->apex, j->prefixes,
		                           j->nprefixes, &one, NULL, NULL);
		if (rc != FE_OK || one.n != 1) {
			fail(j, "bad-arguments", rc ? rc : FE_EFORMAT, "%s",
			     one.nerrors ? one.errors[0] + 5 : "not one row");
			fe_sign_csv_free(&one);
			return j->rc;
		}
	}
	size_t k = 0, gone = 0;
	for (size_t i = 0; i < csv->n; i++) {
		bool same = strcmp(csv->rows[i].number, j->number) == 0;
		if (j->op == OP_ADD && same &&
		    strcasecmp(csv->rows[i].service, one.rows[0].service) == 0) {
			fe_sign_csv_free(&one);
			return fail(j, "bad-arguments", FE_EEXIST,
			            "%s %s is there already (number remove "
			            "first, or number port)",
			            j->number, csv->rows[i].service);
		}
		if (same && j->op != OP_ADD) {
			gone++;
			continue;
		}
		csv->rows[k++] = csv->rows[i];
	}
	csv->n = k;
	if (j->op == OP_REMOVE && gone == 0)
		return fail(j, "bad-arguments", FE_ENOENT, "%s is not in %s", j->number, j->apex);
	if (j->op != OP_REMOVE) {
		struct fe_sign_number *nr = realloc(csv->rows, (csv->n + 1) * sizeof(*nr));
		if (nr == NULL) {
			fe_sign_csv_free(&one);
			return fail(j, "failed", FE_ENOMEM, "out of memory");
		}
		csv->rows = nr;
		csv->cap = csv->n + 1;
		csv->rows[csv->n++] = one.rows[0];
		fe_sign_csv_free(&one);
	}
	char *text = csv_text(csv->rows, csv->n, len);
	if (text == NULL)
		return fail(j, "failed", FE_ENOMEM, "out of memory");
	free(*data);
	*data = text;
	return FE_OK;
}

static void work(uv_work_t *w)
{
	struct job *j = w->data;
	uint64_t t0 = fe_time_mono_us();
	char *data = NULL;
	size_t len = 0;
	if (read_csv(j, &data, &len) != FE_OK)
		return;
	struct fe_sign_csv csv;
	int rc = fe_sign_csv_parse(data, len, j->apex, j->prefixes, j->nprefixes, &csv, NULL, NULL);
	if (rc != FE_OK) {
		/* line numbers only: the client shows the rows (it can read the file) */
		char lines[512] = "";
		for (size_t i = 0; i < csv.nerrors && i < 20; i++) {
			size_t l = strlen(lines);
			unsigned long ln = strtoul(csv.errors[i] + 5, NULL, 10);
			snprintf(lines + l, sizeof(lines) - l, "%s%lu", i ? ", " : "", ln);
		}
		j->bad_rows = csv.error_rows;
		if (rc == FE_ERANGE)
			fail(j, "bad-arguments", rc, "%s: more than %u rows", j->src,
			     FE_SIGN_CSV_MAX_ROWS);
		else
			fail(j, "bad-arguments", rc,
			     "%s: CSV refused, nothing applied: %llu rows failed (lines %s)",
			     j->src, (unsigned long long)csv.error_rows, lines);
		fe_sign_csv_free(&csv);
		free(data);
		return;
	}
	if (j->op != OP_NONE && (rc = apply_op(j, &csv, &data, &len)) != FE_OK) {
		fe_sign_csv_free(&csv);
		free(data);
		return;
	}
	j->numbers = csv.n;
	uint64_t t1 = fe_time_mono_us();
	struct fe_sign_keyset ks;
	char kerr[600] = "";
	rc = fe_sign_keys_load(j->key_dir, j->apex, &ks, kerr, sizeof(kerr));
	if (rc == FE_OK && ks.n == 0)
		rc = fail(j, "failed", FE_ENOENT, "no keys for %s in %s (fedenumctl key generate)",
		          j->apex, j->key_dir);
	else if (rc != FE_OK)
		fail(j, "failed", rc, "%s", kerr);
	uint8_t apex[256];
	int al = rc == FE_OK ? fe_conf_name_from_str(j->apex, apex, sizeof(apex)) : -1;
	if (rc == FE_OK && al < 0)
		rc = fail(j, "bad-arguments", FE_EFORMAT, "%s: not a name", j->apex);
	struct fe_sign_rrlist l = {0};
	if (rc == FE_OK) {
		uint32_t cur;
		j->created = !stored(g_sign.st, apex, &cur);
		uint32_t now = (uint32_t)fe_time_wall_s();
		j->d.serial = j->created || fe_serial_cmp(now, cur) == 1 ? now : cur + 1;
		j->serial = j->d.serial;
		rc = fe_sign_enum_rrs(j->apex, &j->d, csv.rows, csv.n, &l);
		if (rc != FE_OK)
			fail(j, "failed", rc,
			     "cannot build the zone (signing.ns, signing.soa-rname)");
	}
	fe_sign_csv_free(&csv);
	struct fe_zone *z = NULL;
	if (rc == FE_OK) {
		/* the signed zone goes to the store as built: no master file to write and parse */
		rc = fe_sign_zone_build(apex, l.rrs, l.n, &ks, &j->o, &z, &j->rep, kerr,
		                        sizeof(kerr));
		if (rc != FE_OK)
			fail(j, "failed", rc, "signing: %s", kerr);
	}
	fe_sign_rrlist_free(&l);
	fe_sign_keyset_free(&ks);
	uint64_t t2 = fe_time_mono_us();
	if (rc == FE_OK) {
		struct fe_zone_error err = {0};
		rc = commit(z, j->apex, &err);
		if (rc == FE_EEXIST)
			rc = FE_OK;
		if (rc != FE_OK)
			fail(j, "failed", rc, "not stored: %s: %.800s", fe_strerror(rc),
			     err.reason);
	}
	fe_zone_free(z);
	uint64_t t3 = fe_time_mono_us();
	if (rc == FE_OK) {
		/* the master file earlier versions wrote here no longer describes the zone held
		 * (`fedenumctl zone export` writes the current one) */
		char old[4400];
		snprintf(old, sizeof(old), "%s/%szone", g_sign.dir, j->apex);
		(void)unlink(old);
	}
	if (rc == FE_OK && !j->resign) {
		/* the CSV kept: the source of the next re-sign */
		char csvp[4400], tmp[4410];
		snprintf(csvp, sizeof(csvp), "%s/%scsv", g_sign.dir, j->apex);
		snprintf(tmp, sizeof(tmp), "%s.new", csvp);
		FILE *f = fopen(tmp, "w");
		bool ok = f && fwrite(data, 1, len, f) == len;
		if (f)
			ok = fclose(f) == 0 && ok;
		if (!ok || rename(tmp, csvp) != 0)
			fe_log_warn("signing: %s: cannot keep the CSV as %s (re-signing needs "
			            "another import)",
			            j->apex, csvp);
	}
	free(data);
	j->rc = rc;
	j->read_s = (double)(t1 - t0) / 1e6;
	j->store_s = (double)(t3 - t2) / 1e6;
	j->total_s = (double)(fe_time_mono_us() - t0) / 1e6;
}

static void done(uv_work_t *w, int status)
{
	struct job *j = w->data;
	(void)status;
	g_sign.busy = false;
	static const char *const opname[] = {"import", "number add", "number remove",
	                                     "number port"};
	const char *what = j->req ? (j->resign ? "sign" : opname[j->op]) : "refresh";
	if (j->rc == FE_OK) {
		g_sign.cnt[!j->req     ? CNT_REFRESHES
		           : j->resign ? CNT_SIGNS
		           : j->op     ? CNT_NUMBERS
		                       : CNT_IMPORTS]++;
		char until[32];
		fe_log_info("signing: %s of %s: serial %u, %zu numbers, %llu of %llu RRsets signed "
		            "(the others' signatures kept) on %u threads, signatures valid until "
		            "%s; read %.2f s, sign %.2f s (signatures %.2f s), store %.2f s, total "
		            "%.2f s%s",
		            what, j->apex, j->serial, j->numbers,
		            (unsigned long long)(j->rep.rrsets - j->rep.rrsets_reused),
		            (unsigned long long)j->rep.rrsets, j->rep.threads,
		            fe_time_str(j->rep.expiration, until, sizeof(until)), j->read_s,
		            j->rep.total_seconds, j->rep.sign_seconds, j->store_s, j->total_s,
		            j->created ? " (zone created)" : "");
		if (!g_sign.stopping)
			fe__xfr_loads_done(g_sign.xf, g_sign.st);
	} else {
		g_sign.cnt[CNT_FAILED]++;
		if (j->bad_rows)
			g_sign.cnt[CNT_ROWS_REFUSED] += j->bad_rows;
		fe_log_warn("signing: %s of %s refused: %s", what, j->apex, j->err);
	}
	if (j->req && !g_sign.stopping) {
		if (j->rc != FE_OK) {
			fe_ctl_reply_error(j->req,
			                   strcmp(j->code ? j->code : "failed", "bad-arguments") ==
			                                   0
			                           ? FE_CTL_E_ARGS
			                           : FE_CTL_E_FAILED,
			                   "%s", j->err);
		} else {
			char until[32];
			json_t *r = json_pack(
			        "{s:s, s:I, s:b, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:i, "
			        "s:f, s:f, s:f, s:f, s:f}",
			        "apex", j->apex, "serial", (json_int_t)j->serial, "created",
			        j->created, "numbers", (json_int_t)j->numbers, "names",
			        (json_int_t)j->rep.names, "rrsets", (json_int_t)j->rep.rrsets,
			        "rrsets_resigned",
			        (json_int_t)(j->rep.rrsets - j->rep.rrsets_reused), "signatures",
			        (json_int_t)j->rep.signatures, "denial",
			        j->o.nsec ? "nsec" : "nsec3", "signature_expiry",
			        fe_time_str(j->rep.expiration, until, sizeof(until)), "threads",
			        (int)j->rep.threads, "read_seconds", j->read_s, "sign_seconds",
			        j->rep.total_seconds, "signatures_seconds", j->rep.sign_seconds,
			        "store_seconds", j->store_s, "total_seconds", j->total_s);
			fe_ctl_reply_ok(j->req, r);
		}
	}
	job_free(j);
}

/* ---- jobs ----------------------------------------------------------------------------- */

static bool same_apex(const char *a, const char *b)
{
	uint8_t wa[FE_WIRE_NAME_MAX], wb[FE_WIRE_NAME_MAX];
	return fe_conf_name_from_str(a, wa, sizeof(wa)) > 0 &&
	       fe_conf_name_from_str(b, wb, sizeof(wb)) > 0 && fe_wire_name_eq(wa, wb);
}

/* A job for @apex with the configuration's settings; NULL with @why set. */
static struct job *job_new(const char *apex, char *why, size_t cap)
{
	const struct fe_conf *c = g_sign.cfg;
	if (c->signing_key_dir == NULL) {
		snprintf(why, cap, "this node signs nothing: no signing.key-dir (or --key-dir)");
		return NULL;
	}
	struct job *j = calloc(1, sizeof(*j));
	if (j == NULL) {
		snprintf(why, cap, "out of memory");
		return NULL;
	}
	j->w.data = j;
	uint8_t w[256];
	size_t n = strlen(apex);
	if (n == 0 || n > 250 || fe_conf_name_from_str(apex, w, sizeof(w)) < 0) {
		snprintf(why, cap, "apex: not a zone name");
		free(j);
		return NULL;
	}
	fe_wire_name_to_str(w, j->apex, sizeof(j->apex));
	for (char *p = j->apex; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	snprintf(j->key_dir, sizeof(j->key_dir), "%s", c->signing_key_dir);
	/* the member's prefixes: those of the member the zone is configured for */
	for (size_t i = 0; i < c->nzones; i++) {
		if (!c->zones[i].apex || !c->zones[i].member || !same_apex(c->zones[i].apex, apex))
			continue;
		for (size_t m = 0; m < c->nmembers; m++)
			if (strcmp(c->members[m].name, c->zones[i].member) == 0) {
				j->prefixes =
				        copy_strv(c->members[m].prefixes, c->members[m].nprefixes);
				j->nprefixes = c->members[m].nprefixes;
			}
	}
	j->ns = copy_strv(c->signing_ns, c->nsigning_ns);
	j->nns = c->nsigning_ns;
	if (c->signing_soa_rname) {
		snprintf(j->rname, sizeof(j->rname), "%s", c->signing_soa_rname);
	} else if (c->nsigning_ns) {
		const char *dot = strchr(c->signing_ns[0], '.');
		snprintf(j->rname, sizeof(j->rname), "hostmaster.%s",
		         dot && dot[1] ? dot + 1 : c->signing_ns[0]);
	}
	if (c->nsigning_ns == 0 || j->ns == NULL) {
		snprintf(why, cap, "no signing.ns configured: the NS records of the zone");
		job_free(j);
		return NULL;
	}
	j->d = (struct fe_sign_zone_defaults){.rname = j->rname,
	                                      .ttl = c->signing_ttl,
	                                      .refresh = c->signing_soa_refresh,
	                                      .retry = c->signing_soa_retry,
	                                      .expire = c->signing_soa_expire,
	                                      .minimum = c->signing_soa_minimum,
	                                      .ns = (const char *const *)j->ns,
	                                      .nns = j->nns};
	fe_sign_opts_init(&j->o);
	j->o.nsec = !c->signing_nsec3;
	j->o.validity_s = c->signing_validity_days * 86400u;
	j->o.store = g_sign.st;
	j->o.refresh_s = c->signing_refresh_days * 86400u;
	return j;
}

static void start(struct job *j)
{
	g_sign.busy = true;
	if (uv_queue_work(g_sign.loop, &j->w, work, done) != 0) {
		g_sign.busy = false;
		if (j->req)
			fe_ctl_reply_error(j->req, FE_CTL_E_FAILED, "cannot start the job");
		job_free(j);
	}
}

/* A job for @req on @apex, or NULL with @req answered (busy, no signing configured, bad
 * apex; with @last_import: the zone was never imported here). @last_import: its source is
 * the CSV kept from the last import. */
static struct job *job_for(struct fe_ctl_req *req, const char *apex, bool last_import)
{
	if (g_sign.busy) {
		fe_ctl_reply_error(req, FE_CTL_E_BUSY, "an import or signing is running");
		return NULL;
	}
	char why[256];
	struct job *j = job_new(apex, why, sizeof(why));
	if (j == NULL) {
		fe_ctl_reply_error(req, FE_CTL_E_FAILED, "%s", why);
		return NULL;
	}
	if (last_import) {
		snprintf(j->src, sizeof(j->src), "%s/%scsv", g_sign.dir, j->apex);
		if (access(j->src, R_OK) != 0) {
			fe_ctl_reply_error(req, FE_CTL_E_ARGS,
			                   "%s was never imported on this node (zone import first)",
			                   j->apex);
			job_free(j);
			return NULL;
		}
	}
	j->req = req;
	return j;
}

/* {"apex": "...", "path": "/abs/file.csv"} */
static void cmd_import(struct fe_ctl_req *req, json_t *args, void *arg)
{
	(void)arg;
	const char *apex = json_string_value(json_object_get(args, "apex"));
	const char *path = json_string_value(json_object_get(args, "path"));
	if (!apex || !path || json_object_size(args) != 2 || path[0] != '/' ||
	    strlen(path) >= 4000) {
		fe_ctl_reply_error(req, FE_CTL_E_ARGS,
		                   "zone.import takes {\"apex\": NAME, \"path\": ABSOLUTE-PATH}");
		return;
	}
	struct job *j = job_for(req, apex, false);
	if (j == NULL)
		return;
	snprintf(j->src, sizeof(j->src), "%s", path);
	start(j);
}

/* {"apex": "..."}: sign again from the last import's CSV */
static void cmd_sign(struct fe_ctl_req *req, json_t *args, void *arg)
{
	(void)arg;
	const char *apex = json_string_value(json_object_get(args, "apex"));
	if (!apex || json_object_size(args) != 1) {
		fe_ctl_reply_error(req, FE_CTL_E_ARGS, "zone.sign takes {\"apex\": NAME}");
		return;
	}
	struct job *j = job_for(req, apex, true);
	if (j == NULL)
		return;
	j->resign = true;
	start(j);
}

/* Hourly: the first imported zone whose signatures expire within signing.refresh-days is
 * signed again (one per tick while busy). */
static void tick(uv_timer_t *t)
{
	(void)t;
	const struct fe_conf *c = g_sign.cfg;
	if (g_sign.busy || g_sign.stopping || c->signing_key_dir == NULL)
		return;
	DIR *d = opendir(g_sign.dir);
	if (d == NULL)
		return;
	struct dirent *de;
	int64_t horizon = fe_time_wall_s() + (int64_t)c->signing_refresh_days * 86400;
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		if (n < 5 || strcmp(de->d_name + n - 4, ".csv") != 0)
			continue;
		char apex[260];
		snprintf(apex, sizeof(apex), "%.*s", (int)(n - 3), de->d_name);
		uint8_t w[256];
		if (fe_conf_name_from_str(apex, w, sizeof(w)) < 0)
			continue;
		struct fe_store_reader *r = NULL;
		const struct fe_store_zone_rec *z = NULL;
		int64_t exp = 0;
		uint8_t key[FE_WIRE_KEY_MAX];
		int kl = fe_wire_name_key(w, (size_t)fe_wire_name_len(w, sizeof(w)), key,
		                          sizeof(key));
		if (kl >= 0 && fe_store_reader_create(g_sign.st, &r) == FE_OK &&
		    fe_store_reader_begin(r) == FE_OK) {
			if (fe_store_get_zone(r, key, (size_t)kl, &z) == FE_OK)
				exp = z->sig_expire_s;
			fe_store_reader_end(r);
		}
		fe_store_reader_destroy(r);
		if (exp == 0 || exp > horizon)
			continue;
		char why[256];
		struct job *j = job_new(apex, why, sizeof(why));
		if (j == NULL)
			break;
		snprintf(j->src, sizeof(j->src), "%s/%s", g_sign.dir, de->d_name);
		j->resign = true;
		fe_log_info("signing: %s: signatures expire within %u days: signing again", j->apex,
		            c->signing_refresh_days);
		start(j);
		break;
	}
	closedir(d);
}

/* {"apex", "op": "add"|"remove"|"port", "number", and for add "service", "uri" [, "order",
 * "preference"], for port "rn"}: the change applied to the last import's numbers. */
static void cmd_number(struct fe_ctl_req *req, json_t *args, void *arg)
{
	(void)arg;
	const char *apex = json_string_value(json_object_get(args, "apex"));
	const char *op = json_string_value(json_object_get(args, "op"));
	const char *num = json_string_value(json_object_get(args, "number"));
	const char *svc = json_string_value(json_object_get(args, "service"));
	const char *uri = json_string_value(json_object_get(args, "uri"));
	const char *rn = json_string_value(json_object_get(args, "rn"));
	json_t *ord = json_object_get(args, "order"), *pref = json_object_get(args, "preference");
	enum op o = !op                         ? OP_NONE
	            : strcmp(op, "add") == 0    ? OP_ADD
	            : strcmp(op, "remove") == 0 ? OP_REMOVE
	            : strcmp(op, "port") == 0   ? OP_PORT
	                                        : OP_NONE;
	size_t want = 3 + (o == OP_ADD ? 2 + (ord != NULL) + (pref != NULL) : o == OP_PORT);
	bool ok = apex && num && o != OP_NONE && strlen(num) < 20 &&
	          json_object_size(args) == want &&
	          (o != OP_ADD || (svc && uri && strlen(svc) < 64 && strlen(uri) < 256)) &&
	          (o != OP_PORT || (rn && strlen(rn) < 20)) &&
	          (!ord || (json_is_integer(ord) && json_integer_value(ord) >= 0 &&
	                    json_integer_value(ord) <= 65535)) &&
	          (!pref || (json_is_integer(pref) && json_integer_value(pref) >= 0 &&
	                     json_integer_value(pref) <= 65535));
	if (ok && uri && strchr(uri, '"')) {
		fe_ctl_reply_error(req, FE_CTL_E_ARGS, "a '\"' in the URI");
		return;
	}
	if (!ok) {
		fe_ctl_reply_error(
		        req, FE_CTL_E_ARGS,
		        "zone.number takes {\"apex\", \"op\": \"add\"|\"remove\"|\"port\", "
		        "\"number\", add: \"service\", \"uri\" [, \"order\", \"preference\"], "
		        "port: \"rn\"}");
		return;
	}
	struct job *j = job_for(req, apex, true);
	if (j == NULL)
		return;
	j->op = o;
	snprintf(j->number, sizeof(j->number), "%s", num);
	/* the new row through the CSV checks; quotes keep a ',' in the URI */
	if (o == OP_ADD)
		snprintf(j->row, sizeof(j->row), "%s,%s,\"%s\",%lld,%lld\n", num, svc, uri,
		         ord ? (long long)json_integer_value(ord) : 100LL,
		         pref ? (long long)json_integer_value(pref) : 10LL);
	else if (o == OP_PORT)
		snprintf(j->row, sizeof(j->row), "%s,E2U+pstn:tel,tel:%s;npdi;rn=%s\n", num, num,
		         rn);
	start(j);
}

static const struct fe_ctl_command sign_cmds[] = {
        {"zone.import", cmd_import}, {"zone.sign", cmd_sign}, {"zone.number", cmd_number}};

const struct fe_ctl_command *fe__signing_commands(size_t *n)
{
	*n = FE_ARRAY_LEN(sign_cmds);
	return sign_cmds;
}

int fe__signing_start(uv_loop_t *loop, struct fe_store *st, struct fe_trust *trust,
                      struct fe__xfr *xf, const struct fe_conf *cfg, bool validating)
{
	if (cfg->signing_refresh_days >= cfg->signing_validity_days) {
		fe_log_err("signing.refresh-days (%u) must be below signing.validity-days (%u): "
		           "not starting",
		           cfg->signing_refresh_days, cfg->signing_validity_days);
		return FE__EXIT_CONFIG;
	}
	g_sign.loop = loop;
	g_sign.st = st;
	g_sign.trust = trust;
	g_sign.xf = xf;
	g_sign.cfg = cfg;
	g_sign.validating = validating;
	snprintf(g_sign.dir, sizeof(g_sign.dir), "%s/signing", cfg->store_path);
	if (mkdir(g_sign.dir, 0700) != 0 && errno != EEXIST) {
		fe_log_err("signing: cannot create %s: %s", g_sign.dir, strerror(errno));
		return FE__EXIT_STORE;
	}
	/* made before privileges are dropped: the daemon's user must own it */
	if (geteuid() == 0 && cfg->user && chown(g_sign.dir, cfg->uid, cfg->gid) != 0) {
		fe_log_err("signing: cannot give %s to %s: %s", g_sign.dir, cfg->user,
		           strerror(errno));
		return FE__EXIT_STORE;
	}
	if (uv_timer_init(loop, &g_sign.timer) != 0 ||
	    uv_timer_start(&g_sign.timer, tick, 60000, 3600000) != 0)
		return FE__EXIT_INTERNAL;
	g_sign.timer_ready = true;
	if (cfg->signing_key_dir)
		fe_log_info("signing: keys in %s; %s, signatures valid %u days, refreshed %u days "
		            "before expiry",
		            cfg->signing_key_dir, cfg->signing_nsec3 ? "NSEC3" : "NSEC",
		            cfg->signing_validity_days, cfg->signing_refresh_days);
	return FE__EXIT_OK;
}

void fe__signing_stop(void)
{
	g_sign.stopping = true;
	if (g_sign.timer_ready && !uv_is_closing((uv_handle_t *)&g_sign.timer))
		uv_close((uv_handle_t *)&g_sign.timer, NULL);
}

void fe__signing_log_counters(const char *why)
{
	fe_log_info("signing counters (%s): imports %llu, number changes %llu, signs %llu, "
	            "refreshes %llu, failed %llu, rows refused %llu",
	            why, (unsigned long long)g_sign.cnt[CNT_IMPORTS],
	            (unsigned long long)g_sign.cnt[CNT_NUMBERS],
	            (unsigned long long)g_sign.cnt[CNT_SIGNS],
	            (unsigned long long)g_sign.cnt[CNT_REFRESHES],
	            (unsigned long long)g_sign.cnt[CNT_FAILED],
	            (unsigned long long)g_sign.cnt[CNT_ROWS_REFUSED]);
}
