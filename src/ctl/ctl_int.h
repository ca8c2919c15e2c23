/* src/ctl/ctl_int.h — internals of the control module. */
#ifndef FE_CTL_INT_H
#define FE_CTL_INT_H

#include "fedenum/ctl.h"
#include "fedenum/util.h"

/* A growable text buffer for responses and the metrics page. */
struct fe__ctl_text {
	char *p;
	size_t len, cap;
	bool oom;
};
void fe__ctl_text_add(struct fe__ctl_text *t, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

#endif
