/* src/store/store_int.h — what zstate.c needs from store.c (the environment, the named
 * databases and the one LMDB→fe_err mapping). Internal to the store module. */
#ifndef FE_STORE_INT_H
#define FE_STORE_INT_H

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>

struct fe_store;

struct fe__store_handles {
	MDB_env *env;
	MDB_dbi zones;
	MDB_dbi zstate;
	bool has_zstate; /* false: opened read-only before `zstate` existed */
	bool read_only;
	size_t zrec_vsize; /* stored size of a zone record */
};

void fe__store_handles(struct fe_store *st, struct fe__store_handles *out);
/* LMDB / errno code → fe_err (store.c's map_mdb). */
int fe__store_map_mdb(int rc, const char *what);

#endif
