/* include/fedenum/util.h — errors, logging, arena allocator, time.
 *
 * util depends on nothing else in fedenum. Everything here is thread-safe unless a
 * function says otherwise. */
#ifndef FEDENUM_UTIL_H
#define FEDENUM_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Error codes: functions that can fail return FE_OK (0) or one of these negatives.
 * Foreign codes (MDB_*, ldns_status, uv, OpenSSL, ub) are mapped once, at the module
 * boundary that calls the foreign library. */
enum fe_err {
	FE_OK = 0,
	FE_ENOMEM = -1,     /* allocation failed */
	FE_EINVAL = -2,     /* bad argument from the caller (a bug, not bad input) */
	FE_EIO = -3,        /* I/O or storage engine failure */
	FE_ENOSPC = -4,     /* store map full, buffer too small */
	FE_ENOENT = -5,     /* not found */
	FE_EEXIST = -6,     /* already exists (e.g. same zone serial already stored) */
	FE_EFORMAT = -7,    /* malformed input (packet, zone, CSV, config) */
	FE_ERANGE = -8,     /* input above a configured limit */
	FE_EVERSION = -9,   /* on-disk schema or protocol version not supported */
	FE_ESYNTAX = -10,   /* syntax error in a text input */
	FE_EAGAIN = -11,    /* try again later */
	FE_EBUSY = -12,     /* resource busy / limit reached */
	FE_ETIMEOUT = -13,  /* timed out */
	FE_ENOTSUP = -14,   /* not supported */
	FE_EPERM = -15,     /* not allowed (ACL, TSIG, policy) */
	FE_EVALIDATE = -16, /* DNSSEC or lint validation failed */
	FE_ESERIAL = -17    /* a zone version whose serial does not move forward (RFC 1982) */
};

/* Static English text for an fe_err (or "unknown error"). Never NULL. */
const char *fe_strerror(int err);

/* ---- logging ----------------------------------------------------------------------
 * Lines go to stderr (or the file given to fe_log_open) as
 * "2026-11-28T20:00:00Z fedenumd[pid]: LEVEL: message". One write(2) per line, so lines from
 * several threads never interleave. */
enum fe_log_level { FE_LOG_ERR = 0, FE_LOG_WARN = 1, FE_LOG_INFO = 2, FE_LOG_DEBUG = 3 };

void fe_log_set_level(enum fe_log_level level);
enum fe_log_level fe_log_get_level(void);
/* Parse "err", "warn", "info", "debug". Returns FE_OK or FE_EINVAL. */
int fe_log_level_parse(const char *s, enum fe_log_level *out);
void fe_log_set_ident(const char *ident); /* borrowed; must outlive logging */
void fe_log(enum fe_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fe_logv(enum fe_log_level level, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0)));

#define fe_log_err(...)   fe_log(FE_LOG_ERR, __VA_ARGS__)
#define fe_log_warn(...)  fe_log(FE_LOG_WARN, __VA_ARGS__)
#define fe_log_info(...)  fe_log(FE_LOG_INFO, __VA_ARGS__)
#define fe_log_debug(...) fe_log(FE_LOG_DEBUG, __VA_ARGS__)

/* Rate-limited logging for input-driven events (hostile clients must not flood the log).
 * Caller storage; one per event class. Allows @burst lines per @period_s seconds and
 * counts what it suppressed; the next line that passes says how many were dropped.
 * Thread-safe (atomic). */
struct fe_ratelog {
	uint32_t burst;
	uint32_t period_s;
	uint64_t window_start_s; /* atomic */
	uint32_t in_window;      /* atomic */
	uint64_t suppressed;     /* atomic */
};
#define FE_RATELOG_INIT(burst_, period_s_)     \
	{                                      \
		(burst_), (period_s_), 0, 0, 0 \
	}
void fe_ratelog(struct fe_ratelog *rl, enum fe_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* ---- arena ------------------------------------------------------------------------
 * Bump allocator over caller storage; no heap. Reset frees everything at once.
 * Not thread-safe: one arena per request/worker. */
struct fe_arena {
	unsigned char *base;
	size_t size_bytes;
	size_t used_bytes;
};

void fe_arena_init(struct fe_arena *a, void *buf, size_t size_bytes);
/* 16-byte aligned block of @n bytes, or NULL when the arena is exhausted. */
void *fe_arena_alloc(struct fe_arena *a, size_t n);
void fe_arena_reset(struct fe_arena *a);

/* ---- time -------------------------------------------------------------------------- */
uint64_t fe_time_mono_ms(void); /* CLOCK_MONOTONIC in milliseconds */
uint64_t fe_time_mono_us(void); /* CLOCK_MONOTONIC in microseconds */
int64_t fe_time_wall_s(void);   /* seconds since the epoch; overridable for tests */

/* @s (seconds since the epoch) as "2026-11-28T21:00:00Z" (UTC) into @buf; "-" when @s <= 0,
 * the number itself when it is out of the calendar's range. Returns @buf (for printf). */
const char *fe_time_str(int64_t s, char *buf, size_t cap);

/* RFC 1982 serial number arithmetic on 32-bit SOA serials: -1 when @a precedes @b, 0 when
 * equal, 1 when @a follows @b, 2 when the comparison is undefined (they differ by exactly
 * 2^31; callers treat it as "not newer"). */
int fe_serial_cmp(uint32_t a, uint32_t b);
/* Tests: pin fe_time_wall_s() to @s (0 restores the real clock). */
void fe_time_set_fake_wall_s(int64_t s);

/* ---- small helpers ---------------------------------------------------------------- */
#define FE_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define FE_MIN(a, b)    ((a) < (b) ? (a) : (b))
#define FE_MAX(a, b)    ((a) > (b) ? (a) : (b))

/* Unaligned host-order loads/stores (memcpy; compilers make them single moves). */
uint16_t fe_get_u16(const void *p);
uint32_t fe_get_u32(const void *p);
uint64_t fe_get_u64(const void *p);
void fe_put_u16(void *p, uint16_t v);
void fe_put_u32(void *p, uint32_t v);
void fe_put_u64(void *p, uint64_t v);
/* Network (big-endian) order. */
uint16_t fe_get_be16(const void *p);
uint32_t fe_get_be32(const void *p);
void fe_put_be16(void *p, uint16_t v);
void fe_put_be32(void *p, uint32_t v);

/* Read a whole file into a malloc'd buffer (NUL-terminated; *len excludes the NUL).
 * Caller frees *out with free(). Errors: FE_ENOENT, FE_EIO, FE_ERANGE (above @max_bytes). */
int fe_file_read_all(const char *path, size_t max_bytes, char **out, size_t *len);

#endif
