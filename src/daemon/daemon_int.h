/* src/daemon/daemon_int.h — fedenumd internals shared by main.c and zones.c. */
#ifndef FE_DAEMON_INT_H
#define FE_DAEMON_INT_H

#include <stddef.h>

#include "fedenum/conf.h"

#define FE__VERSION "0.1.0"

/* Exit codes of fedenumd (docs/configuration.md, "Exit status"). */
enum {
	FE__EXIT_OK = 0,
	FE__EXIT_CONFIG = 1,  /* configuration refused (also --check-config) */
	FE__EXIT_USAGE = 2,   /* bad command line */
	FE__EXIT_STORE = 3,   /* the store cannot be opened */
	FE__EXIT_LISTEN = 4,  /* a listen address cannot be bound */
	FE__EXIT_INTERNAL = 5 /* out of memory, thread or event loop failure */
};

struct fe_store;

struct fe__zone_stats {
	unsigned loaded;  /* a new version is now current (validated, under trust anchors) */
	unsigned current; /* the file's serial was already current */
	unsigned failed;  /* not loaded: file, syntax, store (reported with file:line) */
	unsigned refused; /* a serial that does not move forward, or an unvalidated version
	                     over a validated one: the stored version keeps serving */
	/* federation trust (trust anchors configured) */
	unsigned rejected;  /* parsed, but no chain of trust or DNSSEC validation failed */
	unsigned suspended; /* stored zones whose chain broke in this pass: not served now */
	unsigned restored;  /* stored zones whose chain holds again: served again */
	char trust[256];    /* "; trust: ..." for the reload line ("" without anchors) */
};

/* Add the counts of @s to @sum. */
void fe__zone_stats_add(struct fe__zone_stats *sum, const struct fe__zone_stats *s);

/* Load every zone of @c into @st, logging one line per zone. Called from the main thread at
 * start and from a thread-pool thread on SIGHUP. With trust anchors (c->anchors) every zone
 * goes through the federation chain of trust (fe_trust_load), parents first, and the
 * chains of all stored zones are checked again afterwards (fe_trust_sweep), with the caches
 * of @trust (borrowed; one load pass at a time). */
struct fe_trust;
void fe__zones_load(struct fe_store *st, struct fe_trust *trust, const struct fe_conf *c,
                    struct fe__zone_stats *stats);

/* Settle the trust anchors between @c and the store: configured anchors are recorded in the
 * store (replacing what it had); with none configured, the anchors recorded in the store
 * become c->anchors (a store written under anchors stays under them). FE_OK or a store
 * error (logged). */
int fe__zones_settle_trust(struct fe_store *st, struct fe_conf *c);

/* "apex (serial N), ..." of every zone held in @st into @buf; returns the number of zones. */
unsigned fe__zones_describe(struct fe_store *st, char *buf, size_t cap);

#endif
