/* Logging: one write(2) per line so threads never interleave; rate limiting for lines
 * that hostile input can trigger. */
#include "fedenum/util.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static _Atomic int log_level = FE_LOG_INFO;
static const char *log_ident = "fedenum";

void fe_log_set_level(enum fe_log_level level)
{
	atomic_store(&log_level, (int)level);
}

enum fe_log_level fe_log_get_level(void)
{
	return (enum fe_log_level)atomic_load(&log_level);
}

int fe_log_level_parse(const char *s, enum fe_log_level *out)
{
	static const char *const names[] = {"err", "warn", "info", "debug"};
	for (size_t i = 0; i < FE_ARRAY_LEN(names); i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum fe_log_level)i;
			return FE_OK;
		}
	}
	return FE_EINVAL;
}

void fe_log_set_ident(const char *ident)
{
	log_ident = ident;
}

void fe_logv(enum fe_log_level level, const char *fmt, va_list ap)
{
	static const char *const lvl[] = {"error", "warning", "info", "debug"};
	if ((int)level > atomic_load(&log_level))
		return;
	char line[2048];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof(line),
	                 "%04d-%02d-%02dT%02d:%02d:%02dZ %s[%d]: %s: ", tm.tm_year + 1900,
	                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, log_ident,
	                 (int)getpid(), lvl[level]);
	if (n < 0)
		return;
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		return;
	size_t len = (size_t)n + (size_t)m;
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w;
}

void fe_log(enum fe_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fe_logv(level, fmt, ap);
	va_end(ap);
}

void fe_ratelog(struct fe_ratelog *rl, enum fe_log_level level, const char *fmt, ...)
{
	if ((int)level > atomic_load(&log_level))
		return;
	uint64_t now = (uint64_t)fe_time_mono_ms() / 1000;
	_Atomic uint64_t *ws = (_Atomic uint64_t *)&rl->window_start_s;
	_Atomic uint32_t *inw = (_Atomic uint32_t *)&rl->in_window;
	_Atomic uint64_t *sup = (_Atomic uint64_t *)&rl->suppressed;
	uint64_t start = atomic_load(ws);
	if (now >= start + rl->period_s && atomic_compare_exchange_strong(ws, &start, now))
		atomic_store(inw, 0);
	if (atomic_fetch_add(inw, 1) >= rl->burst) {
		atomic_fetch_add(sup, 1);
		return;
	}
	uint64_t dropped = atomic_exchange(sup, 0);
	char msg[1536];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (dropped)
		fe_log(level, "%s (%llu similar lines suppressed)", msg,
		       (unsigned long long)dropped);
	else
		fe_log(level, "%s", msg);
}
