/* Diagnostics of a configuration load: errors and warnings as "file:line: message". */
#include "conf_int.h"

#include <libconfig.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- diagnostics ------------------------------------------------------------------ */

static void diag_vadd(struct fe_conf_diag *d, const char *prefix, const char *file, int line,
                      const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
static void diag_vadd(struct fe_conf_diag *d, const char *prefix, const char *file, int line,
                      const char *fmt, va_list ap)
{
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	char full[1536];
	if (line > 0)
		snprintf(full, sizeof(full), "%s%s:%d: %s", prefix, file, line, msg);
	else
		snprintf(full, sizeof(full), "%s%s: %s", prefix, file, msg);
	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 8;
		char **nm = realloc(d->msgs, ncap * sizeof(*nm));
		if (!nm)
			return;
		d->msgs = nm;
		d->cap = ncap;
	}
	char *s = strdup(full);
	if (s)
		d->msgs[d->n++] = s;
}

void fe_conf_diag_add(struct fe_conf_diag *d, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(d, "", file, line, fmt, ap);
	va_end(ap);
}

void fe__conf_err_at(struct fe_conf_diag *d, const char *path, const struct config_setting_t *s,
                     const char *fmt, ...)
{
	const char *f = config_setting_source_file(s);
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(d, "", f ? f : path, (int)config_setting_source_line(s), fmt, ap);
	va_end(ap);
}

void fe_conf_diag_warn(struct fe_conf_diag *d, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(d, FE_CONF_WARNING, file, line, fmt, ap);
	va_end(ap);
}

bool fe_conf_diag_is_warning(const char *msg)
{
	return strncmp(msg, FE_CONF_WARNING, sizeof(FE_CONF_WARNING) - 1) == 0;
}

static bool privileges_dropped;

void fe_conf_privileges_dropped(void)
{
	privileges_dropped = true;
}

bool fe__conf_privileges_were_dropped(void)
{
	return privileges_dropped;
}

void fe_conf_diag_free(struct fe_conf_diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->msgs[i]);
	free(d->msgs);
	memset(d, 0, sizeof(*d));
}
