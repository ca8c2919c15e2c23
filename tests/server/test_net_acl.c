/* Admission list (net_acl.c), listen address parsing and counter text (docs/security.md Q8). */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "fedenum/server.h"
#include "fedenum/util.h"

static struct sockaddr_storage sa(const char *host)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
	} else {
		cr_assert_eq(inet_pton(AF_INET6, host, &s6->sin6_addr), 1, "bad test address %s",
		             host);
		s6->sin6_family = AF_INET6;
	}
	return ss;
}

static bool allows(const struct fe_server_acl *acl, const char *host)
{
	struct sockaddr_storage ss = sa(host);
	return fe_server_acl_allows(acl, (const struct sockaddr *)&ss);
}

Test(acl, prefixes_v4_v6)
{
	struct fe_server_acl *acl = NULL;
	cr_assert_eq(fe_server_acl_create(&acl), FE_OK);
	cr_assert_eq(fe_server_acl_add(acl, "127.0.0.0/8"), FE_OK);
	cr_assert_eq(fe_server_acl_add(acl, "192.0.2.128/25"), FE_OK);
	cr_assert_eq(fe_server_acl_add(acl, "2001:db8:a::/48"), FE_OK);
	cr_assert_eq(fe_server_acl_add(acl, "::1"), FE_OK);
	cr_assert_eq(fe_server_acl_add(acl, "198.51.100.7"), FE_OK);
	cr_assert_eq(fe_server_acl_count(acl), 5);

	cr_assert(allows(acl, "127.0.0.1"));
	cr_assert(allows(acl, "127.255.255.254"));
	cr_assert_not(allows(acl, "128.0.0.1"));
	cr_assert(allows(acl, "192.0.2.128"));
	cr_assert(allows(acl, "192.0.2.255"));
	cr_assert_not(allows(acl, "192.0.2.127"));
	cr_assert(allows(acl, "198.51.100.7"));
	cr_assert_not(allows(acl, "198.51.100.8"));
	cr_assert(allows(acl, "2001:db8:a:ffff::1"));
	cr_assert_not(allows(acl, "2001:db8:b::1"));
	cr_assert(allows(acl, "::1"));
	cr_assert_not(allows(acl, "::2"));
	/* RFC 4291 §2.5.5.2: a mapped IPv4 source is judged by the IPv4 entries. */
	cr_assert(allows(acl, "::ffff:127.0.0.1"));
	cr_assert_not(allows(acl, "::ffff:10.0.0.1"));
	fe_server_acl_destroy(acl);
}

Test(acl, empty_admits_nobody_and_other_families)
{
	struct fe_server_acl *acl = NULL;
	cr_assert_eq(fe_server_acl_create(&acl), FE_OK);
	cr_assert_not(allows(acl, "127.0.0.1"));
	cr_assert_not(allows(acl, "::1"));
	cr_assert_eq(fe_server_acl_add(acl, "0.0.0.0/0"), FE_OK);
	cr_assert(allows(acl, "203.0.113.9"));
	cr_assert_not(allows(acl, "2001:db8::1"), "an IPv4 /0 does not admit IPv6");
	struct sockaddr_storage unix_sa;
	memset(&unix_sa, 0, sizeof(unix_sa));
	unix_sa.ss_family = AF_UNIX;
	cr_assert_not(fe_server_acl_allows(acl, (const struct sockaddr *)&unix_sa));
	fe_server_acl_destroy(acl);
	fe_server_acl_destroy(NULL);
}

Test(acl, rejects_bad_prefixes)
{
	struct fe_server_acl *acl = NULL;
	cr_assert_eq(fe_server_acl_create(&acl), FE_OK);
	static const char *const bad[] = {
	        "",           "/8",          "10.0.0.0/",   "10.0.0.0/33",    "::/129",
	        "10.0.0.1/8", "10.0.0.0/8x", "example.org", "2001:db8::1/32", "10.0.0.0/-1",
	        "1.2.3.4.5"};
	for (size_t i = 0; i < FE_ARRAY_LEN(bad); i++)
		cr_expect_eq(fe_server_acl_add(acl, bad[i]), FE_ESYNTAX, "accepted \"%s\"", bad[i]);
	cr_assert_eq(fe_server_acl_count(acl), 0);
	cr_assert_eq(fe_server_acl_add(acl, "10.0.0.0/8"), FE_OK);
	cr_assert_eq(fe_server_acl_add(acl, "::/0"), FE_OK);
	cr_assert(allows(acl, "2001:db8::1"));
	fe_server_acl_destroy(acl);
}

Test(listen, parse)
{
	struct fe_listen_addr la;
	cr_assert_eq(fe_server_listen_parse("127.0.0.1@5300", &la), FE_OK);
	cr_assert_str_eq(la.host, "127.0.0.1");
	cr_assert_eq(la.port, 5300);
	cr_assert_eq(fe_server_listen_parse("::1@53", &la), FE_OK);
	cr_assert_str_eq(la.host, "::1");
	cr_assert_eq(la.port, 53);
	cr_assert_eq(fe_server_listen_parse("2001:db8::1", &la), FE_OK);
	cr_assert_eq(la.port, 53);
	cr_assert_eq(fe_server_listen_parse("0.0.0.0@0", &la), FE_OK);
	cr_assert_eq(la.port, 0);
	static const char *const bad[] = {"",           "@53",           "localhost@53",
	                                  "127.0.0.1@", "1.2.3.4@65536", "1.2.3.4@5x",
	                                  "::1@-1",     "[::1]@53"};
	for (size_t i = 0; i < FE_ARRAY_LEN(bad); i++)
		cr_expect_eq(fe_server_listen_parse(bad[i], &la), FE_ESYNTAX, "accepted \"%s\"",
		             bad[i]);
}

Test(metrics, names_and_format)
{
	for (unsigned i = 0; i < FE_CNT__MAX; i++)
		cr_expect_str_neq(fe_counter_name((enum fe_counter)i), "unknown", "counter %u", i);
	cr_assert_str_eq(fe_counter_name(FE_CNT_ACL_REFUSED), "acl_refused");
	cr_assert_str_eq(fe_counter_name(FE_CNT__MAX), "unknown");
	uint64_t c[FE_CNT__MAX] = {0};
	c[FE_CNT_QUERIES] = 12;
	c[FE_CNT_ACL_REFUSED] = 3;
	char buf[2048];
	size_t need = fe_server_counters_format(c, buf, sizeof(buf));
	cr_assert_eq(need, strlen(buf));
	cr_assert(strncmp(buf, "queries=12 udp=0", 16) == 0, "%s", buf);
	cr_assert(strstr(buf, " acl_refused=3 ") != NULL, "%s", buf);
	char small[10];
	size_t need2 = fe_server_counters_format(c, small, sizeof(small));
	cr_assert_eq(need2, need);
	cr_assert_eq(strlen(small), sizeof(small) - 1);
}
