/* Zone store over LMDB: environment, schema, readers, drop and statistics (the writer is
 * write.c, the journal journal.c).
 * Contract and on-disk schema: include/fedenum/store.h. LMDB codes are mapped to fe_err in
 * one place (map_mdb) and no MDB_* type leaves this file. */
#include "fedenum/store.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_MAP_SIZE (16ull << 30) /* sparse file: only used pages take disk */
#define MAX_DBS          8u            /* zones, rr, nsec3, meta, zstate, journal, odcache */
#define MAX_READERS      510u
#define VER_LEN          FE__VER_LEN
#define VKEY_CAP         FE__VKEY_CAP
#define ZREC_SLOTS       8u

static const char META_SCHEMA[] = "schema";
const char fe__meta_next_version[] = "next_version";
#define META_NEXT_VERSION fe__meta_next_version
static const char LOCK_FILE[] = "fedenum.lock";

struct fe_store_reader {
	struct fe_store *st;
	MDB_txn *txn;
	MDB_cursor *c_zones;
	MDB_cursor *c_rr;
	MDB_cursor *c_nsec3;
	bool active;
	uint8_t kbuf[VKEY_CAP];
	uint8_t kbuf2[VKEY_CAP];
	/* Fallback copies for zone records LMDB hands out misaligned (see rec_from_val). */
	struct fe_store_zone_rec slots[ZREC_SLOTS];
	unsigned next_slot;
};

/* Errors from the read path can be triggered by a damaged map on every query: rate-limit. */
static struct fe_ratelog store_rl = FE_RATELOG_INIT(10, 60);

/* The one place LMDB and errno codes become fe_err. */
static int map_mdb(int rc, const char *what)
{
	switch (rc) {
	case MDB_SUCCESS:
		return FE_OK;
	case MDB_NOTFOUND:
		return FE_ENOENT;
	case MDB_KEYEXIST:
		return FE_EEXIST;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
	case MDB_PAGE_FULL:
	case ENOSPC:
		fe_ratelog(&store_rl, FE_LOG_ERR, "store: %s: %s (raise the map size)", what,
		           mdb_strerror(rc));
		return FE_ENOSPC;
	case MDB_BAD_VALSIZE:
		return FE_ERANGE;
	case MDB_VERSION_MISMATCH:
		fe_log_err("store: %s: %s", what, mdb_strerror(rc));
		return FE_EVERSION;
	case MDB_INVALID:
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
		fe_ratelog(&store_rl, FE_LOG_ERR, "store: %s: %s", what, mdb_strerror(rc));
		return FE_EFORMAT;
	case MDB_READERS_FULL:
		fe_ratelog(&store_rl, FE_LOG_ERR, "store: %s: %s", what, mdb_strerror(rc));
		return FE_EBUSY;
	case MDB_MAP_RESIZED:
		return FE_EAGAIN;
	case ENOMEM:
		return FE_ENOMEM;
	case EACCES:
	case EPERM:
	case EROFS:
		fe_log_err("store: %s: %s", what, mdb_strerror(rc));
		return FE_EPERM;
	case ENOENT:
		return FE_ENOENT;
	default:
		fe_ratelog(&store_rl, FE_LOG_ERR, "store: %s: %s", what, mdb_strerror(rc));
		return FE_EIO;
	}
}

void fe__put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

uint64_t fe__get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static bool has_ver(const MDB_val *k, const uint8_t *ver)
{
	return k->mv_size >= VER_LEN && memcmp(k->mv_data, ver, VER_LEN) == 0;
}

/* ---- open / close ------------------------------------------------------------------ */

int fe__meta_get_u64(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t *out)
{
	MDB_val k = {strlen(name), (void *)name};
	MDB_val v;
	int rc = mdb_get(txn, dbi, &k, &v);
	if (rc != MDB_SUCCESS)
		return map_mdb(rc, name);
	if (v.mv_size != 8)
		return FE_EFORMAT;
	*out = fe__get_be64(v.mv_data);
	return FE_OK;
}

int fe__meta_put_u64(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t val)
{
	uint8_t b[8];
	fe__put_be64(b, val);
	MDB_val k = {strlen(name), (void *)name};
	MDB_val v = {sizeof(b), b};
	return map_mdb(mdb_put(txn, dbi, &k, &v, 0), name);
}

static int schema_read(MDB_txn *txn, MDB_dbi dbi, uint32_t *out)
{
	MDB_val k = {sizeof(META_SCHEMA) - 1, (void *)META_SCHEMA};
	MDB_val v;
	int rc = mdb_get(txn, dbi, &k, &v);
	if (rc != MDB_SUCCESS)
		return map_mdb(rc, "schema");
	if (v.mv_size != 4)
		return FE_EFORMAT;
	*out = fe_get_be32(v.mv_data);
	return FE_OK;
}

/* Open the named databases and check (or, on a new store, write) the schema version. */
static int open_optional(struct fe_store *st, MDB_txn *txn, const char *name, MDB_dbi *dbi,
                         bool *has)
{
	int rc = mdb_dbi_open(txn, name, st->read_only ? 0u : MDB_CREATE, dbi);
	*has = rc == MDB_SUCCESS;
	if (*has || (rc == MDB_NOTFOUND && st->read_only))
		return FE_OK;
	return map_mdb(rc, "open databases");
}

static int open_dbs(struct fe_store *st)
{
	MDB_txn *txn = NULL;
	unsigned dflags = st->read_only ? 0u : MDB_CREATE;
	int rc = mdb_txn_begin(st->env, NULL, st->read_only ? MDB_RDONLY : 0u, &txn);
	if (rc != MDB_SUCCESS)
		return map_mdb(rc, "open txn");
	int err;
	if ((rc = mdb_dbi_open(txn, "meta", dflags, &st->dbi_meta)) != MDB_SUCCESS ||
	    (rc = mdb_dbi_open(txn, "zones", dflags, &st->dbi_zones)) != MDB_SUCCESS ||
	    (rc = mdb_dbi_open(txn, "rr", dflags, &st->dbi_rr)) != MDB_SUCCESS ||
	    (rc = mdb_dbi_open(txn, "nsec3", dflags, &st->dbi_nsec3)) != MDB_SUCCESS) {
		err = map_mdb(rc, "open databases");
		goto out_abort;
	}
	/* Added after the first schema: created on the first writable open; a read-only open
	 * of an older store goes on without them. */
	if ((err = open_optional(st, txn, "zstate", &st->dbi_zstate, &st->has_zstate)) != FE_OK ||
	    (err = open_optional(st, txn, "journal", &st->dbi_journal, &st->has_journal)) !=
	            FE_OK ||
	    (err = open_optional(st, txn, "odcache", &st->dbi_odcache, &st->has_odcache)) != FE_OK)
		goto out_abort;
	uint32_t schema = 0;
	err = schema_read(txn, st->dbi_meta, &schema);
	if (err == FE_ENOENT && !st->read_only) {
		uint8_t b[4];
		fe_put_be32(b, FE_STORE_SCHEMA);
		MDB_val k = {sizeof(META_SCHEMA) - 1, (void *)META_SCHEMA};
		MDB_val v = {sizeof(b), b};
		err = map_mdb(mdb_put(txn, st->dbi_meta, &k, &v, 0), "schema");
		if (err == FE_OK)
			err = fe__meta_put_u64(txn, st->dbi_meta, META_NEXT_VERSION, 1);
		if (err != FE_OK)
			goto out_abort;
	} else if (err != FE_OK) {
		goto out_abort;
	} else if (schema == 1 && !st->read_only) {
		/* Schema 1 reads as it is (records without data_id use their version as key
		 * prefix): mark the store 2 so that a build of schema 1, which would look for a
		 * zone's nodes under its version, refuses it instead of serving empty zones. */
		uint8_t b[4];
		fe_put_be32(b, FE_STORE_SCHEMA);
		MDB_val k = {sizeof(META_SCHEMA) - 1, (void *)META_SCHEMA};
		MDB_val v = {sizeof(b), b};
		if ((err = map_mdb(mdb_put(txn, st->dbi_meta, &k, &v, 0), "schema")) != FE_OK)
			goto out_abort;
		fe_log_info("store: schema 1 upgraded to %u in place (zone data ids, journal)",
		            FE_STORE_SCHEMA);
	} else if (schema != FE_STORE_SCHEMA && schema != 1) {
		/* Newer: written by a later fedenum. Older than 1: none exists. */
		fe_log_err("store: schema %u on disk, this build reads %u (and upgrades 1)", schema,
		           FE_STORE_SCHEMA);
		err = FE_EVERSION;
		goto out_abort;
	}
	rc = mdb_txn_commit(txn);
	return map_mdb(rc, "open commit");

out_abort:
	mdb_txn_abort(txn);
	return err;
}

/* Zone records are padded past LMDB's inline-node limit so that each sits on its own
 * overflow page, whose data starts right after the 16-byte page header: the pointer handed
 * to readers is then 8-byte aligned. rec_from_val still checks, and copies when not. */
static size_t pad_size(unsigned page_size)
{
	size_t n = page_size > 16u ? page_size - 16u : 4080u;
	return FE_MAX(n, sizeof(struct fe_store_zone_rec));
}

static int lock_path(const char *dir, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s/%s", dir, LOCK_FILE);
	return n > 0 && (size_t)n < cap ? FE_OK : FE_ERANGE;
}

long fe_store_lock_holder(const char *dir)
{
	char path[4096], buf[32];
	if (lock_path(dir, path, sizeof(path)) != FE_OK)
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	long pid = 0;
	/* Only a held lock names a live holder: a PID left in the file by a process that died
	 * (kill -9 releases the flock) is not reported. */
	if (flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = '\0';
			pid = strtol(buf, NULL, 10);
		}
	}
	close(fd);
	return pid > 0 ? pid : 0;
}

/* The exclusive instance lock: flock on <dir>/fedenum.lock, our PID written into it. The
 * kernel releases it when the process dies, so a kill -9 leaves no stale lock. */
static int take_lock(const char *dir, int *out_fd)
{
	char path[4096], buf[32];
	*out_fd = -1;
	if (lock_path(dir, path, sizeof(path)) != FE_OK)
		return FE_ERANGE;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return map_mdb(errno, path);
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		close(fd);
		return e == EWOULDBLOCK ? FE_EBUSY : map_mdb(e, path);
	}
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n)
		fe_log_warn("store: cannot write the PID into %s: %s", path, strerror(errno));
	*out_fd = fd;
	return FE_OK;
}

int fe_store_open(const char *dir, const struct fe_store_opts *opts, struct fe_store **out)
{
	struct fe_store_opts defaults = {0};
	struct fe_store *st;
	int rc, err;

	*out = NULL;
	if (opts == NULL)
		opts = &defaults;
	if (!opts->read_only && mkdir(dir, 0750) != 0 && errno != EEXIST)
		return map_mdb(errno, dir);
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return FE_ENOMEM;
	st->read_only = opts->read_only;
	st->map_size = opts->map_size_bytes ? opts->map_size_bytes : DEFAULT_MAP_SIZE;
	st->lock_fd = -1;
	st->journal_max_entries =
	        opts->journal_max_entries ? opts->journal_max_entries : FE_STORE_JOURNAL_ENTRIES;
	st->journal_max_bytes =
	        opts->journal_max_bytes ? opts->journal_max_bytes : FE_STORE_JOURNAL_BYTES;
	if (opts->exclusive && !opts->read_only && (err = take_lock(dir, &st->lock_fd)) != FE_OK)
		goto out_free;

	if ((rc = mdb_env_create(&st->env)) != MDB_SUCCESS) {
		err = map_mdb(rc, "env create");
		goto out_free;
	}
	if ((rc = mdb_env_set_maxdbs(st->env, MAX_DBS)) != MDB_SUCCESS ||
	    (rc = mdb_env_set_maxreaders(st->env, MAX_READERS)) != MDB_SUCCESS ||
	    (rc = mdb_env_set_mapsize(st->env, st->map_size)) != MDB_SUCCESS) {
		err = map_mdb(rc, "env setup");
		goto out_close;
	}
	/* MDB_NOTLS: a reader's slot belongs to its txn object, not to the thread, so
	 * per-thread readers can be reset and renewed (mdb_txn_reset/renew) freely. */
	unsigned flags = MDB_NOTLS;
	if (opts->read_only)
		flags |= MDB_RDONLY;
	if (opts->no_sync)
		flags |= MDB_NOSYNC;
	if ((rc = mdb_env_open(st->env, dir, flags, 0640)) != MDB_SUCCESS) {
		err = map_mdb(rc, dir);
		goto out_close;
	}
	/* Reader slots of processes that died (kill -9) would pin old pages forever. */
	int dead = 0;
	mdb_reader_check(st->env, &dead);
	if (dead > 0)
		fe_log_info("store: cleared %d stale reader slot(s)", dead);

	MDB_envinfo info;
	MDB_stat stat;
	mdb_env_info(st->env, &info);
	mdb_env_stat(st->env, &stat);
	st->map_size = info.me_mapsize;
	st->max_key = (size_t)mdb_env_get_maxkeysize(st->env);
	st->zrec_vsize = pad_size(stat.ms_psize);

	if ((err = open_dbs(st)) != FE_OK)
		goto out_close;
	*out = st;
	return FE_OK;

out_close:
	mdb_env_close(st->env);
out_free:
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	free(st);
	return err;
}

void fe_store_close(struct fe_store *st)
{
	if (st == NULL)
		return;
	mdb_env_close(st->env);
	if (st->lock_fd >= 0)
		close(st->lock_fd); /* releases the flock */
	free(st);
}

/* ---- backup ------------------------------------------------------------------------ */

int fe_store_backup(struct fe_store *st, const char *dir, uint64_t *bytes)
{
	char path[4096];
	struct stat sb;
	if (snprintf(path, sizeof(path), "%s/data.mdb", dir) >= (int)sizeof(path))
		return FE_ERANGE;
	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		return map_mdb(errno, dir);
	if (stat(path, &sb) == 0)
		return FE_EEXIST;
	int rc = mdb_env_copy2(st->env, dir, MDB_CP_COMPACT);
	if (rc != MDB_SUCCESS) {
		unlink(path); /* no half copy left behind */
		return map_mdb(rc, "backup");
	}
	if (bytes)
		*bytes = stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
	return FE_OK;
}

/* ---- meta values ------------------------------------------------------------------- */

static bool meta_reserved(const char *name)
{
	return strcmp(name, META_SCHEMA) == 0 || strcmp(name, META_NEXT_VERSION) == 0 ||
	       *name == '\0';
}

int fe_store_meta_get(struct fe_store *st, const char *name, void *buf, size_t cap, size_t *len)
{
	MDB_txn *txn;
	if (meta_reserved(name))
		return FE_EINVAL;
	int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
	if (rc != MDB_SUCCESS)
		return map_mdb(rc, "meta txn");
	MDB_val k = {strlen(name), (void *)name}, v;
	rc = mdb_get(txn, st->dbi_meta, &k, &v);
	if (rc == MDB_SUCCESS) {
		*len = v.mv_size;
		if (cap > 0)
			memcpy(buf, v.mv_data, FE_MIN(cap, v.mv_size));
	}
	mdb_txn_abort(txn);
	return map_mdb(rc, name);
}

int fe_store_meta_put(struct fe_store *st, const char *name, const void *data, size_t len)
{
	MDB_txn *txn;
	if (meta_reserved(name))
		return FE_EINVAL;
	if (st->read_only)
		return FE_EPERM;
	int rc = mdb_txn_begin(st->env, NULL, 0, &txn);
	if (rc != MDB_SUCCESS)
		return map_mdb(rc, "meta txn");
	MDB_val k = {strlen(name), (void *)name}, v = {len, (void *)data};
	rc = len ? mdb_put(txn, st->dbi_meta, &k, &v, 0) : mdb_del(txn, st->dbi_meta, &k, NULL);
	if (rc == MDB_NOTFOUND && len == 0)
		rc = MDB_SUCCESS;
	if (rc != MDB_SUCCESS) {
		mdb_txn_abort(txn);
		return map_mdb(rc, name);
	}
	return map_mdb(mdb_txn_commit(txn), "meta commit");
}

/* ---- readers ----------------------------------------------------------------------- */

int fe_store_reader_create(struct fe_store *st, struct fe_store_reader **out)
{
	struct fe_store_reader *r;
	int rc, err;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return FE_ENOMEM;
	r->st = st;
	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &r->txn)) != MDB_SUCCESS) {
		err = map_mdb(rc, "reader txn");
		goto out_free;
	}
	if ((rc = mdb_cursor_open(r->txn, st->dbi_zones, &r->c_zones)) != MDB_SUCCESS ||
	    (rc = mdb_cursor_open(r->txn, st->dbi_rr, &r->c_rr)) != MDB_SUCCESS ||
	    (rc = mdb_cursor_open(r->txn, st->dbi_nsec3, &r->c_nsec3)) != MDB_SUCCESS) {
		err = map_mdb(rc, "reader cursor");
		goto out_abort;
	}
	/* Park the snapshot: fe_store_reader_begin renews it. */
	mdb_txn_reset(r->txn);
	*out = r;
	return FE_OK;

out_abort:
	if (r->c_zones)
		mdb_cursor_close(r->c_zones);
	if (r->c_rr)
		mdb_cursor_close(r->c_rr);
	mdb_txn_abort(r->txn);
out_free:
	free(r);
	return err;
}

void fe_store_reader_destroy(struct fe_store_reader *r)
{
	if (r == NULL)
		return;
	/* Read-only cursors outlive their txn and must be closed explicitly. */
	mdb_cursor_close(r->c_zones);
	mdb_cursor_close(r->c_rr);
	mdb_cursor_close(r->c_nsec3);
	mdb_txn_abort(r->txn);
	free(r);
}

MDB_txn *fe__store_reader_txn(struct fe_store_reader *r)
{
	return r->active ? r->txn : NULL;
}

int fe_store_odc_get(struct fe_store_reader *r, const uint8_t *key, size_t key_len,
                     const uint8_t **val, size_t *len)
{
	*val = NULL;
	*len = 0;
	if (!r->active)
		return FE_EINVAL;
	if (!r->st->has_odcache || key_len == 0 || key_len > r->st->max_key)
		return FE_ENOENT;
	MDB_val k = {key_len, (void *)key};
	MDB_val v;
	int rc = mdb_get(r->txn, r->st->dbi_odcache, &k, &v);
	if (rc != MDB_SUCCESS)
		return map_mdb(rc, "get odcache");
	if (v.mv_size < 8)
		return FE_EFORMAT;
	*val = v.mv_data;
	*len = v.mv_size;
	return FE_OK;
}

int fe_store_reader_begin(struct fe_store_reader *r)
{
	int rc;
	if (r->active)
		mdb_txn_reset(r->txn);
	r->active = false;
	if ((rc = mdb_txn_renew(r->txn)) != MDB_SUCCESS)
		return map_mdb(rc, "reader renew");
	if ((rc = mdb_cursor_renew(r->txn, r->c_zones)) != MDB_SUCCESS ||
	    (rc = mdb_cursor_renew(r->txn, r->c_rr)) != MDB_SUCCESS ||
	    (rc = mdb_cursor_renew(r->txn, r->c_nsec3)) != MDB_SUCCESS) {
		mdb_txn_reset(r->txn);
		return map_mdb(rc, "reader cursor renew");
	}
	r->active = true;
	r->next_slot = 0;
	return FE_OK;
}

void fe_store_reader_end(struct fe_store_reader *r)
{
	if (r == NULL || !r->active)
		return;
	mdb_txn_reset(r->txn);
	r->active = false;
}

static int rec_from_val(struct fe_store_reader *r, const MDB_val *v,
                        const struct fe_store_zone_rec **zone)
{
	if (v->mv_size < sizeof(struct fe_store_zone_rec))
		return FE_EFORMAT;
	if (((uintptr_t)v->mv_data & (_Alignof(struct fe_store_zone_rec) - 1u)) == 0) {
		*zone = v->mv_data;
		return FE_OK;
	}
	/* Not expected (see pad_size); keep the contract with a bounded copy. */
	struct fe_store_zone_rec *slot = &r->slots[r->next_slot++ % ZREC_SLOTS];
	memcpy(slot, v->mv_data, sizeof(*slot));
	*zone = slot;
	return FE_OK;
}

/* Largest key <= @k (@or_equal) or < @k. @k may be longer than LMDB's key limit: then the
 * search uses its prefix, which no stored key can extend, and the prefix itself sorts before
 * the long key. */
static int cursor_last_before(struct fe_store_reader *r, MDB_cursor *c, const uint8_t *k,
                              size_t klen, bool or_equal, MDB_val *ok, MDB_val *ov)
{
	size_t t = FE_MIN(klen, r->st->max_key);
	MDB_val key = {t, (void *)k};
	int rc = mdb_cursor_get(c, &key, ov, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND) {
		rc = mdb_cursor_get(c, ok, ov, MDB_LAST);
		return map_mdb(rc, "cursor last");
	}
	if (rc != MDB_SUCCESS)
		return map_mdb(rc, "cursor seek");
	if ((or_equal || klen > t) && fe_wire_key_cmp(key.mv_data, key.mv_size, k, t) == 0) {
		*ok = key;
		return FE_OK;
	}
	rc = mdb_cursor_get(c, ok, ov, MDB_PREV);
	return map_mdb(rc, "cursor prev");
}

int fe_store_find_zone(struct fe_store_reader *r, const uint8_t *key, size_t key_len,
                       const struct fe_store_zone_rec **zone)
{
	MDB_val k, v;
	size_t qlen = key_len;

	*zone = NULL;
	if (!r->active)
		return FE_EINVAL;
	/* Zone apex keys are prefixes of the query key ending at a label terminator (0x00
	 * never occurs inside an escaped label). The largest stored key C <= Q is the answer
	 * when it is such a prefix; otherwise every held ancestor of Q is also a prefix of C,
	 * so retry with Q cut to the labels Q and C share. Usually one or two seeks. */
	while (qlen > 0) {
		int err = cursor_last_before(r, r->c_zones, key, qlen, true, &k, &v);
		if (err != FE_OK)
			return err;
		if (k.mv_size <= qlen && memcmp(k.mv_data, key, k.mv_size) == 0)
			return rec_from_val(r, &v, zone);
		size_t n = FE_MIN(k.mv_size, qlen);
		const uint8_t *c = k.mv_data;
		size_t m = 0;
		while (m < n && c[m] == key[m])
			m++;
		/* Back to the last label end inside the common part. */
		while (m > 0 && key[m - 1] != 0)
			m--;
		if (m >= qlen)
			return FE_EFORMAT; /* cannot happen for well-formed keys */
		qlen = m;
	}
	return FE_ENOENT;
}

int fe_store_get_zone(struct fe_store_reader *r, const uint8_t *apex_key, size_t key_len,
                      const struct fe_store_zone_rec **zone)
{
	*zone = NULL;
	if (!r->active)
		return FE_EINVAL;
	if (key_len == 0 || key_len > r->st->max_key)
		return FE_ENOENT;
	MDB_val k = {key_len, (void *)apex_key};
	MDB_val v;
	int rc = mdb_get(r->txn, r->st->dbi_zones, &k, &v);
	if (rc != MDB_SUCCESS)
		return map_mdb(rc, "get zone");
	return rec_from_val(r, &v, zone);
}

size_t fe__make_vkey(uint8_t *buf, uint64_t version, const uint8_t *key, size_t key_len)
{
	if (key_len > FE_WIRE_KEY_MAX)
		return 0;
	fe__put_be64(buf, version);
	if (key_len)
		memcpy(buf + VER_LEN, key, key_len);
	return VER_LEN + key_len;
}

int fe_store_get_node(struct fe_store_reader *r, const struct fe_store_zone_rec *zone,
                      const uint8_t *key, size_t key_len, struct fe_store_node *out)
{
	if (!r->active)
		return FE_EINVAL;
	size_t n = fe__make_vkey(r->kbuf, fe__zone_data_id(zone), key, key_len);
	if (n == 0 || n > r->st->max_key)
		return FE_ENOENT; /* longer than any stored key */
	MDB_val k = {n, r->kbuf};
	MDB_val v;
	int rc = mdb_get(r->txn, r->st->dbi_rr, &k, &v);
	if (rc != MDB_SUCCESS)
		return map_mdb(rc, "get node");
	return fe_store_node_decode(v.mv_data, v.mv_size, out);
}

int fe_store_next_node(struct fe_store_reader *r, const struct fe_store_zone_rec *zone, bool nsec3,
                       const uint8_t *key, size_t key_len, const uint8_t **key_out,
                       size_t *key_len_out, struct fe_store_node *out)
{
	if (!r->active)
		return FE_EINVAL;
	MDB_cursor *c = nsec3 ? r->c_nsec3 : r->c_rr;
	size_t n = fe__make_vkey(r->kbuf, fe__zone_data_id(zone), key, key ? key_len : 0);
	if (n == 0)
		return FE_EINVAL;
	MDB_val k = {FE_MIN(n, r->st->max_key), r->kbuf}, v;
	int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	/* Strictly after @key: step over the node itself. */
	if (rc == MDB_SUCCESS && key && fe_wire_key_cmp(k.mv_data, k.mv_size, r->kbuf, n) <= 0)
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	if (rc != MDB_SUCCESS)
		return map_mdb(rc, "cursor next");
	if (!has_ver(&k, r->kbuf))
		return FE_ENOENT;
	*key_out = (const uint8_t *)k.mv_data + VER_LEN;
	*key_len_out = k.mv_size - VER_LEN;
	return fe_store_node_decode(v.mv_data, v.mv_size, out);
}

static bool blob_has_flags(const MDB_val *v, uint16_t need, int *err)
{
	if (v->mv_size < 2) {
		*err = FE_EFORMAT;
		return false;
	}
	return (fe_get_u16(v->mv_data) & need) == need;
}

int fe_store_prev_node(struct fe_store_reader *r, const struct fe_store_zone_rec *zone,
                       const uint8_t *key, size_t key_len, uint16_t need_flags,
                       struct fe_store_node *out)
{
	MDB_val k, v;
	int err = FE_OK;

	if (!r->active)
		return FE_EINVAL;
	size_t n = fe__make_vkey(r->kbuf, fe__zone_data_id(zone), key, key_len);
	if (n == 0)
		return FE_EINVAL;
	const uint8_t *ver = r->kbuf;

	/* Backwards from the largest key < K down to the start of the zone's range. */
	err = cursor_last_before(r, r->c_rr, r->kbuf, n, false, &k, &v);
	while (err == FE_OK && has_ver(&k, ver)) {
		if (blob_has_flags(&v, need_flags, &err))
			return fe_store_node_decode(v.mv_data, v.mv_size, out);
		if (err != FE_OK)
			return err;
		err = map_mdb(mdb_cursor_get(r->c_rr, &k, &v, MDB_PREV), "cursor prev");
	}
	if (err != FE_OK && err != FE_ENOENT)
		return err;

	/* Wrap (RFC 4034 §4.1.1: the last NSEC points back to the apex): the last matching
	 * node of the zone, scanning down to K itself. */
	fe__put_be64(r->kbuf2, fe__zone_data_id(zone) + 1u);
	err = cursor_last_before(r, r->c_rr, r->kbuf2, VER_LEN, false, &k, &v);
	while (err == FE_OK && has_ver(&k, ver) &&
	       fe_wire_key_cmp(k.mv_data, k.mv_size, r->kbuf, n) >= 0) {
		if (blob_has_flags(&v, need_flags, &err))
			return fe_store_node_decode(v.mv_data, v.mv_size, out);
		if (err != FE_OK)
			return err;
		err = map_mdb(mdb_cursor_get(r->c_rr, &k, &v, MDB_PREV), "cursor prev");
	}
	if (err != FE_OK && err != FE_ENOENT)
		return err;
	return FE_ENOENT;
}

int fe_store_nsec3_find(struct fe_store_reader *r, const struct fe_store_zone_rec *zone,
                        const uint8_t *hash, size_t hash_len, bool *exact,
                        struct fe_store_node *out)
{
	MDB_val k, v;
	int err;

	*exact = false;
	if (!r->active)
		return FE_EINVAL;
	if (hash_len == 0 || hash_len > 64)
		return FE_EINVAL;
	size_t n = fe__make_vkey(r->kbuf, fe__zone_data_id(zone), hash, hash_len);
	err = cursor_last_before(r, r->c_nsec3, r->kbuf, n, true, &k, &v);
	if (err == FE_OK && has_ver(&k, r->kbuf)) {
		*exact = fe_wire_key_cmp(k.mv_data, k.mv_size, r->kbuf, n) == 0;
		return fe_store_node_decode(v.mv_data, v.mv_size, out);
	}
	if (err != FE_OK && err != FE_ENOENT)
		return err;
	/* RFC 5155 §7.2.1: the hash sorts before the first NSEC3: the last one covers it. */
	fe__put_be64(r->kbuf2, fe__zone_data_id(zone) + 1u);
	err = cursor_last_before(r, r->c_nsec3, r->kbuf2, VER_LEN, false, &k, &v);
	if (err == FE_OK && has_ver(&k, r->kbuf))
		return fe_store_node_decode(v.mv_data, v.mv_size, out);
	if (err != FE_OK && err != FE_ENOENT)
		return err;
	return FE_ENOENT;
}

int fe_store_foreach_zone(struct fe_store_reader *r,
                          bool (*cb)(const struct fe_store_zone_rec *zone, void *arg), void *arg)
{
	MDB_val k, v;
	if (!r->active)
		return FE_EINVAL;
	int rc = mdb_cursor_get(r->c_zones, &k, &v, MDB_FIRST);
	while (rc == MDB_SUCCESS) {
		const struct fe_store_zone_rec *z;
		int err = rec_from_val(r, &v, &z);
		if (err != FE_OK)
			return err;
		if (!cb(z, arg))
			return FE_OK;
		rc = mdb_cursor_get(r->c_zones, &k, &v, MDB_NEXT);
	}
	return rc == MDB_NOTFOUND ? FE_OK : map_mdb(rc, "zones walk");
}

/* ---- dropping a zone ---------------------------------------------------------------- */

/* Delete every key starting with @version in @dbi. Re-seeks whenever the cursor loses its
 * place after a delete (page merges), so the loop cannot skip entries. */
int fe__delete_prefix(MDB_txn *txn, MDB_dbi dbi, uint64_t version)
{
	MDB_cursor *c;
	uint8_t ver[VER_LEN];
	MDB_val k, v;
	int rc, err = FE_OK;

	fe__put_be64(ver, version);
	if ((rc = mdb_cursor_open(txn, dbi, &c)) != MDB_SUCCESS)
		return map_mdb(rc, "delete cursor");
	for (;;) {
		k.mv_size = VER_LEN;
		k.mv_data = ver;
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		if (rc == MDB_NOTFOUND || (rc == MDB_SUCCESS && !has_ver(&k, ver)))
			break;
		if (rc != MDB_SUCCESS) {
			err = map_mdb(rc, "delete seek");
			break;
		}
		do {
			if ((rc = mdb_cursor_del(c, 0)) != MDB_SUCCESS)
				break;
			rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT);
		} while (rc == MDB_SUCCESS && has_ver(&k, ver));
		if (rc == MDB_SUCCESS)
			break; /* next key belongs to another version */
		if (rc != MDB_NOTFOUND && rc != EINVAL) {
			err = map_mdb(rc, "delete");
			break;
		}
	}
	mdb_cursor_close(c);
	return err;
}

/* Zone @apex out of @txn: its nodes, NSEC3 nodes, record, journal and zstate. FE_OK,
 * FE_ENOENT (not held), FE_EFORMAT, a store error; the caller aborts on any but ENOENT. */
static int drop_in(struct fe_store *st, MDB_txn *txn, const uint8_t *apex, size_t apex_len)
{
	uint8_t key[FE_WIRE_KEY_MAX];
	struct fe_store_zone_rec rec;
	int rc, err;
	int klen = fe_wire_name_key(apex, apex_len, key, sizeof(key));
	if (klen < 0)
		return klen;
	if (klen == 0 || (size_t)klen > st->max_key)
		return FE_ENOENT;
	MDB_val k = {(size_t)klen, key};
	MDB_val v;
	if ((rc = mdb_get(txn, st->dbi_zones, &k, &v)) != MDB_SUCCESS)
		return map_mdb(rc, "drop get");
	if (v.mv_size < sizeof(rec))
		return FE_EFORMAT;
	memcpy(&rec, v.mv_data, sizeof(rec));
	if ((err = fe__delete_prefix(txn, st->dbi_rr, fe__zone_data_id(&rec))) != FE_OK ||
	    (err = fe__delete_prefix(txn, st->dbi_nsec3, fe__zone_data_id(&rec))) != FE_OK)
		return err;
	if ((rc = mdb_del(txn, st->dbi_zones, &k, NULL)) != MDB_SUCCESS)
		return map_mdb(rc, "drop del");
	if ((err = fe__journal_clear(st, txn, key, (size_t)klen)) != FE_OK)
		return err;
	/* the trust layer's record of the zone goes with it (a zone that is gone is not
	 * listed as rejected either) */
	if (st->has_zstate && (rc = mdb_del(txn, st->dbi_zstate, &k, NULL)) != MDB_SUCCESS &&
	    rc != MDB_NOTFOUND)
		return map_mdb(rc, "drop zstate");
	return FE_OK;
}

int fe_store_drop_zone(struct fe_store *st, const uint8_t *apex, size_t apex_len)
{
	return fe_store_drop_zones(st, &apex, &apex_len, 1, NULL);
}

int fe_store_drop_zones(struct fe_store *st, const uint8_t *const *apex, const size_t *apex_len,
                        size_t n, int *each)
{
	MDB_txn *txn;
	int rc, err = FE_OK;
	if (st->read_only)
		return FE_EPERM;
	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != MDB_SUCCESS)
		return map_mdb(rc, "drop txn");
	size_t dropped = 0;
	for (size_t i = 0; i < n; i++) {
		int r = drop_in(st, txn, apex[i], apex_len[i]);
		if (each)
			each[i] = r;
		if (r == FE_OK) {
			dropped++;
		} else if (r != FE_ENOENT) {
			mdb_txn_abort(txn);
			return r;
		}
	}
	if (n == 1 && dropped == 0) {
		mdb_txn_abort(txn);
		return FE_ENOENT;
	}
	err = map_mdb(mdb_txn_commit(txn), "drop commit");
	return err;
}

int fe_store_stat(struct fe_store *st, struct fe_store_stat *out)
{
	MDB_envinfo info;
	MDB_stat es, s;
	MDB_txn *txn;
	int rc, err;

	memset(out, 0, sizeof(*out));
	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != MDB_SUCCESS)
		return map_mdb(rc, "stat txn");
	mdb_env_info(st->env, &info);
	mdb_env_stat(st->env, &es);
	out->map_size_bytes = info.me_mapsize;
	out->page_size = es.ms_psize;
	out->used_bytes = ((uint64_t)info.me_last_pgno + 1u) * es.ms_psize;
	out->max_readers = info.me_maxreaders;
	out->readers_used = info.me_numreaders;
	if ((rc = mdb_stat(txn, st->dbi_zones, &s)) != MDB_SUCCESS) {
		err = map_mdb(rc, "stat");
		goto out;
	}
	out->zone_count = (uint32_t)s.ms_entries;
	if ((rc = mdb_stat(txn, st->dbi_rr, &s)) != MDB_SUCCESS) {
		err = map_mdb(rc, "stat");
		goto out;
	}
	out->rr_entries = s.ms_entries;
	if ((rc = mdb_stat(txn, st->dbi_nsec3, &s)) != MDB_SUCCESS) {
		err = map_mdb(rc, "stat");
		goto out;
	}
	out->nsec3_entries = s.ms_entries;
	if ((err = fe__meta_get_u64(txn, st->dbi_meta, META_NEXT_VERSION, &out->next_version)) !=
	    FE_OK)
		goto out;
	err = schema_read(txn, st->dbi_meta, &out->schema);
out:
	mdb_txn_abort(txn);
	return err;
}

/* ---- for zstate.c ------------------------------------------------------------------ */

void fe__store_handles(struct fe_store *st, struct fe__store_handles *out)
{
	out->env = st->env;
	out->zones = st->dbi_zones;
	out->zstate = st->dbi_zstate;
	out->has_zstate = st->has_zstate;
	out->read_only = st->read_only;
	out->zrec_vsize = st->zrec_vsize;
}

int fe__store_map_mdb(int rc, const char *what)
{
	return map_mdb(rc, what);
}
