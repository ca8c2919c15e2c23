/* util: errors, arena, byte order, rate-limited logging, file reading. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fedenum/util.h"

Test(util, strerror_covers_every_code)
{
	for (int e = FE_OK; e >= FE_EVALIDATE; e--)
		cr_expect_str_neq(fe_strerror(e), "unknown error", "code %d has no text", e);
	cr_expect_str_eq(fe_strerror(-999), "unknown error");
}

Test(util, arena_aligns_and_exhausts)
{
	unsigned char buf[64];
	struct fe_arena a;
	fe_arena_init(&a, buf, sizeof(buf));
	void *p1 = fe_arena_alloc(&a, 3);
	void *p2 = fe_arena_alloc(&a, 16);
	cr_assert_not_null(p1);
	cr_assert_not_null(p2);
	cr_expect_eq(((unsigned char *)p2 - buf) % 16, 0);
	cr_expect_null(fe_arena_alloc(&a, 64), "arena must refuse what does not fit");
	cr_expect_null(fe_arena_alloc(&a, SIZE_MAX), "no overflow on huge sizes");
	fe_arena_reset(&a);
	cr_expect_eq(fe_arena_alloc(&a, 64), (void *)buf);
}

Test(util, byte_order)
{
	unsigned char b[4];
	fe_put_be16(b, 0x1234);
	cr_expect(b[0] == 0x12 && b[1] == 0x34);
	cr_expect_eq(fe_get_be16(b), 0x1234);
	fe_put_be32(b, 0xdeadbeef);
	cr_expect_eq(fe_get_be32(b), 0xdeadbeef);
	cr_expect(b[0] == 0xde && b[3] == 0xef);
	unsigned char u[8];
	fe_put_u64(u, 0x0102030405060708ull);
	cr_expect_eq(fe_get_u64(u), 0x0102030405060708ull);
}

Test(util, log_level_parse)
{
	enum fe_log_level l;
	cr_expect_eq(fe_log_level_parse("debug", &l), FE_OK);
	cr_expect_eq(l, FE_LOG_DEBUG);
	cr_expect_eq(fe_log_level_parse("loud", &l), FE_EINVAL);
}

/* The rate limiter lets a burst through, then counts what it suppressed. */
Test(util, ratelog_suppresses_after_burst)
{
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	int saved = dup(STDERR_FILENO);
	dup2(fds[1], STDERR_FILENO);
	struct fe_ratelog rl = FE_RATELOG_INIT(3, 3600);
	for (int i = 0; i < 10; i++)
		fe_ratelog(&rl, FE_LOG_WARN, "bad packet %d", i);
	dup2(saved, STDERR_FILENO);
	close(fds[1]);
	char out[8192] = {0};
	ssize_t n = read(fds[0], out, sizeof(out) - 1);
	close(fds[0]);
	cr_assert_gt(n, 0);
	int lines = 0;
	for (char *p = out; (p = strchr(p, '\n')); p++)
		lines++;
	cr_expect_eq(lines, 3, "burst of 3 lines, got %d:\n%s", lines, out);
	cr_expect_eq(rl.suppressed, 7);
}

Test(util, file_read_limits)
{
	char path[] = "/tmp/fedenum-test-fileXXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "hello", 5), 5);
	close(fd);
	char *buf;
	size_t len;
	cr_expect_eq(fe_file_read_all(path, 100, &buf, &len), FE_OK);
	cr_expect_eq(len, 5);
	cr_expect_str_eq(buf, "hello");
	free(buf);
	cr_expect_eq(fe_file_read_all(path, 4, &buf, &len), FE_ERANGE);
	cr_expect_null(buf);
	unlink(path);
	cr_expect_eq(fe_file_read_all(path, 100, &buf, &len), FE_ENOENT);
}

Test(util, time_str_and_serial_cmp)
{
	char b[32];
	cr_assert_str_eq(fe_time_str(0, b, sizeof(b)), "-");
	cr_assert_str_eq(fe_time_str(-5, b, sizeof(b)), "-");
	cr_assert_str_eq(fe_time_str(1767225600, b, sizeof(b)), "2026-01-01T00:00:00Z");
	cr_assert_eq(fe_serial_cmp(5, 5), 0);
	cr_assert_eq(fe_serial_cmp(4294967295u, 3), -1);
}
