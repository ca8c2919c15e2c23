/* Arena, time, byte-order and file helpers. */
#include "fedenum/util.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

void fe_arena_init(struct fe_arena *a, void *buf, size_t size_bytes)
{
	a->base = buf;
	a->size_bytes = size_bytes;
	a->used_bytes = 0;
}

void *fe_arena_alloc(struct fe_arena *a, size_t n)
{
	size_t off = (a->used_bytes + 15u) & ~(size_t)15u;
	if (off > a->size_bytes || n > a->size_bytes - off)
		return NULL;
	a->used_bytes = off + n;
	return a->base + off;
}

void fe_arena_reset(struct fe_arena *a)
{
	a->used_bytes = 0;
}

uint64_t fe_time_mono_ms(void)
{
	return fe_time_mono_us() / 1000u;
}

uint64_t fe_time_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static _Atomic int64_t fake_wall_s;

int64_t fe_time_wall_s(void)
{
	int64_t f = atomic_load(&fake_wall_s);
	return f ? f : (int64_t)time(NULL);
}

const char *fe_time_str(int64_t s, char *buf, size_t cap)
{
	struct tm tm;
	time_t tt = (time_t)s;
	if (s <= 0)
		snprintf(buf, cap, "-");
	else if (gmtime_r(&tt, &tm) == NULL || strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, cap, "%lld", (long long)s);
	return buf;
}

int fe_serial_cmp(uint32_t a, uint32_t b)
{
	if (a == b)
		return 0;
	uint32_t d = b - a; /* modulo 2^32 */
	if (d == 0x80000000u)
		return 2;
	return d < 0x80000000u ? -1 : 1;
}

void fe_time_set_fake_wall_s(int64_t s)
{
	atomic_store(&fake_wall_s, s);
}

uint16_t fe_get_u16(const void *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

uint32_t fe_get_u32(const void *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

uint64_t fe_get_u64(const void *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

void fe_put_u16(void *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

void fe_put_u32(void *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

void fe_put_u64(void *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

uint16_t fe_get_be16(const void *p)
{
	const unsigned char *b = p;
	return (uint16_t)((b[0] << 8) | b[1]);
}

uint32_t fe_get_be32(const void *p)
{
	const unsigned char *b = p;
	return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

void fe_put_be16(void *p, uint16_t v)
{
	unsigned char *b = p;
	b[0] = (unsigned char)(v >> 8);
	b[1] = (unsigned char)v;
}

void fe_put_be32(void *p, uint32_t v)
{
	unsigned char *b = p;
	b[0] = (unsigned char)(v >> 24);
	b[1] = (unsigned char)(v >> 16);
	b[2] = (unsigned char)(v >> 8);
	b[3] = (unsigned char)v;
}

int fe_file_read_all(const char *path, size_t max_bytes, char **out, size_t *len)
{
	int rc = FE_OK;
	*out = NULL;
	*len = 0;
	FILE *f = fopen(path, "rb");
	if (!f)
		return errno == ENOENT ? FE_ENOENT : FE_EIO;
	struct stat st;
	if (fstat(fileno(f), &st) != 0) {
		rc = FE_EIO;
		goto out_close;
	}
	if ((uint64_t)st.st_size > max_bytes) {
		rc = FE_ERANGE;
		goto out_close;
	}
	char *buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = FE_ENOMEM;
		goto out_close;
	}
	size_t n = fread(buf, 1, (size_t)st.st_size, f);
	if (n != (size_t)st.st_size) {
		free(buf);
		rc = FE_EIO;
		goto out_close;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
out_close:
	fclose(f);
	return rc;
}
