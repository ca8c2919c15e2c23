/* The answer engine allocates nothing per query (docs/architecture.md, "Query path"): every
 * allocation in the process is counted while fe_answer() runs over a mix of answers (positive,
 * NXDOMAIN and NODATA with NSEC3 proofs, wildcard, CNAME chains across zones, additional data,
 * truncation, errors). Counting hooks: glibc's malloc family interposed, or, under
 * AddressSanitizer, the sanitizer's allocation hooks. */
#include <stdatomic.h>

#include "test_answer_lib.h"

static atomic_int counting;
static atomic_long allocations;

#if defined(__SANITIZE_ADDRESS__)
/* from <sanitizer/allocator_interface.h> (not always installed) */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));

static void on_malloc(const volatile void *p, size_t n)
{
	(void)p;
	(void)n;
	if (atomic_load(&counting))
		atomic_fetch_add(&allocations, 1);
}

static void on_free(const volatile void *p)
{
	(void)p;
}

static void install_hooks(void)
{
	__sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
}
#else
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t a, size_t n);

static void count(void)
{
	if (atomic_load(&counting))
		atomic_fetch_add(&allocations, 1);
}

void *malloc(size_t n)
{
	count();
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
	count();
	return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
	count();
	return __libc_realloc(p, n);
}

void *aligned_alloc(size_t a, size_t n)
{
	count();
	return __libc_memalign(a, n);
}

static void install_hooks(void)
{
}
#endif

static struct fx F;

static void setup(void)
{
	static const char *const zones[] = {"ex.test.nsec3.signed", "child.ex.test.signed",
	                                    "other.test.signed", NULL};
	fx_open(&F, zones);
	install_hooks();
}

static void teardown(void)
{
	fx_close(&F);
}

TestSuite(answer_noheap, .init = setup, .fini = teardown);

Test(answer_noheap, no_allocation_per_query)
{
	static const struct {
		const char *name;
		uint16_t type;
		unsigned flags;
		uint16_t bufsize;
	} qs[] = {
	        {"www.ex.test.", LDNS_RR_TYPE_A, FX_DO, 1232},
	        {"nothere.ex.test.", LDNS_RR_TYPE_NAPTR, FX_DO, 1232},
	        {"x.y.b.c.deep.ex.test.", LDNS_RR_TYPE_A, FX_DO | FX_TCP, 1232},
	        {"www.ex.test.", LDNS_RR_TYPE_MX, FX_DO, 1232},
	        {"c.deep.ex.test.", LDNS_RR_TYPE_A, FX_DO, 1232},
	        {"foo.wild.ex.test.", LDNS_RR_TYPE_A, FX_DO, 1232},
	        {"foo.wild.ex.test.", LDNS_RR_TYPE_MX, FX_DO, 1232},
	        {"x.wc.ex.test.", LDNS_RR_TYPE_A, FX_DO, 1232},
	        {"xz.ex.test.", LDNS_RR_TYPE_A, FX_DO, 1232},
	        {"dangling.ex.test.", LDNS_RR_TYPE_A, FX_DO, 1232},
	        {"_sip._udp.ims.ex.test.", LDNS_RR_TYPE_SRV, FX_DO, 1232},
	        {"big.ex.test.", LDNS_RR_TYPE_TXT, FX_DO, 512},
	        {"insec.ex.test.", LDNS_RR_TYPE_DS, FX_DO, 1232},
	        {"x.sub.ex.test.", LDNS_RR_TYPE_A, 0, 1232},
	        {"www.example.org.", LDNS_RR_TYPE_A, 0, 1232},
	        {"ex.test.", LDNS_RR_TYPE_AXFR, 0, 1232},
	        {"www.ex.test.", LDNS_RR_TYPE_ANY, FX_DO, 1232},
	};
	uint8_t q[FE_ARRAY_LEN(qs)][512];
	size_t qlen[FE_ARRAY_LEN(qs)];
	size_t out[FE_ARRAY_LEN(qs)];
	for (size_t i = 0; i < FE_ARRAY_LEN(qs); i++)
		qlen[i] = fx_make_query(qs[i].name, qs[i].type, qs[i].flags, qs[i].bufsize, q[i],
		                        sizeof(q[i]));
	/* a first round outside the count: lazy one-time setup (LMDB, OpenSSL) is fine */
	for (size_t i = 0; i < FE_ARRAY_LEN(qs); i++)
		fe_answer(&F.ctx, q[i], qlen[i],
		          (qs[i].flags & FX_TCP) ? FE_TRANSPORT_TCP : FE_TRANSPORT_UDP, F.resp,
		          sizeof(F.resp));

	atomic_store(&counting, 1);
	for (int round = 0; round < 10; round++)
		for (size_t i = 0; i < FE_ARRAY_LEN(qs); i++)
			out[i] = fe_answer(&F.ctx, q[i], qlen[i],
			                   (qs[i].flags & FX_TCP) ? FE_TRANSPORT_TCP
			                                          : FE_TRANSPORT_UDP,
			                   F.resp, sizeof(F.resp));
	atomic_store(&counting, 0);

	cr_assert_eq(atomic_load(&allocations), 0, "%ld heap allocations in %zu answers",
	             atomic_load(&allocations), 10 * FE_ARRAY_LEN(qs));
	for (size_t i = 0; i < FE_ARRAY_LEN(qs); i++)
		cr_assert_gt(out[i], 12, "no answer to %s", qs[i].name);
	cr_assert_gt(F.cnt[FE_CNT_NXDOMAIN], 0);
	cr_assert_gt(F.cnt[FE_CNT_TRUNCATED], 0);

	/* the hooks do see allocations */
	atomic_store(&counting, 1);
	void *volatile p = malloc(64);
	atomic_store(&counting, 0);
	free(p);
	cr_assert_eq(atomic_load(&allocations), 1, "the allocation counter does not work");
}
