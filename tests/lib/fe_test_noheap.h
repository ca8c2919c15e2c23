/* tests/lib/fe_test_noheap.h — allocation counting for the no-heap tests: glibc's malloc
 * family interposed, or the sanitizer's allocation hooks under AddressSanitizer. It defines
 * malloc, calloc and realloc: include it in one file of a test executable only. Count with
 * fe_test_noheap_install() once, then atomic_store(&fe_test_counting, 1) around the code
 * under test and read fe_test_allocations. */
#ifndef FE_TEST_NOHEAP_H
#define FE_TEST_NOHEAP_H

#include <stdatomic.h>
#include <stddef.h>

static atomic_int fe_test_counting;
static atomic_long fe_test_allocations;

#if defined(__SANITIZE_ADDRESS__)
/* from <sanitizer/allocator_interface.h> (not always installed) */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));
static void fe_test_on_malloc(const volatile void *p, size_t n)
{
	(void)p;
	(void)n;
	if (atomic_load(&fe_test_counting))
		atomic_fetch_add(&fe_test_allocations, 1);
}
static void fe_test_on_free(const volatile void *p)
{
	(void)p;
}
static inline void fe_test_noheap_install(void)
{
	__sanitizer_install_malloc_and_free_hooks(fe_test_on_malloc, fe_test_on_free);
}
#else
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);
static void fe_test_count_alloc(void)
{
	if (atomic_load(&fe_test_counting))
		atomic_fetch_add(&fe_test_allocations, 1);
}
void *malloc(size_t n);
void *calloc(size_t n, size_t m);
void *realloc(void *p, size_t n);
void *malloc(size_t n)
{
	fe_test_count_alloc();
	return __libc_malloc(n);
}
void *calloc(size_t n, size_t m)
{
	fe_test_count_alloc();
	return __libc_calloc(n, m);
}
void *realloc(void *p, size_t n)
{
	fe_test_count_alloc();
	return __libc_realloc(p, n);
}
static inline void fe_test_noheap_install(void)
{
}
#endif

#endif
