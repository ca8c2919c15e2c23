/* The metrics endpoint's HTTP request reader (fe_ctl_http_parse): what a scraper sends is
 * 200, everything else gets its status, and no input makes it read outside the buffer
 * (tests/fuzz/fuzz_http.c goes further). */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "fedenum/ctl.h"
#include "fedenum/util.h"

static enum fe_ctl_http_status parse(const char *s, bool *head)
{
	/* An exact-size heap copy: ASan would see any read past the end. */
	size_t n = strlen(s);
	char *b = malloc(n ? n : 1);
	cr_assert_not_null(b);
	memcpy(b, s, n);
	enum fe_ctl_http_status st = fe_ctl_http_parse(b, n, head);
	free(b);
	return st;
}

Test(http, scrapers_get_200)
{
	bool head;
	const char *ok[] = {
	        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9153\r\nUser-Agent: Prometheus/2.45\r\n"
	        "Accept: text/plain;version=0.0.4;q=1,*/*;q=0.1\r\nAccept-Encoding: gzip\r\n"
	        "X-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n",
	        "GET /metrics HTTP/1.0\r\n\r\n",
	        "GET /metrics HTTP/1.0\n\n",
	        "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n",
	        "GET /metrics HTTP/1.1\r\nX-Empty:\r\n\r\n",
	};
	for (size_t i = 0; i < FE_ARRAY_LEN(ok); i++) {
		cr_expect_eq(parse(ok[i], &head), FE_CTL_HTTP_OK, "%s", ok[i]);
		cr_expect(!head);
	}
	cr_expect_eq(parse("HEAD /metrics HTTP/1.1\r\n\r\n", &head), FE_CTL_HTTP_OK);
	cr_expect(head);
}

Test(http, incomplete_heads_wait)
{
	bool head;
	const char *more[] = {"",
	                      "G",
	                      "GET /metrics HTTP/1.1",
	                      "GET /metrics HTTP/1.1\r\n",
	                      "GET /metrics HTTP/1.1\r\nHost: a\r\n",
	                      "GET /metrics HTTP/1.1\r\n\r"};
	for (size_t i = 0; i < FE_ARRAY_LEN(more); i++)
		cr_expect_eq(parse(more[i], &head), FE_CTL_HTTP_MORE, "%s", more[i]);
}

Test(http, everything_else_has_its_status)
{
	bool head;
	static const struct {
		const char *req;
		enum fe_ctl_http_status st;
	} cases[] = {
	        {"GET / HTTP/1.1\r\n\r\n", FE_CTL_HTTP_NOTFOUND},
	        {"GET /metricsx HTTP/1.1\r\n\r\n", FE_CTL_HTTP_NOTFOUND},
	        {"GET /METRICS HTTP/1.1\r\n\r\n", FE_CTL_HTTP_NOTFOUND},
	        {"POST /metrics HTTP/1.1\r\n\r\n", FE_CTL_HTTP_METHOD},
	        {"get /metrics HTTP/1.1\r\n\r\n", FE_CTL_HTTP_METHOD},
	        {"GET /metrics HTTP/2.0\r\n\r\n", FE_CTL_HTTP_VERSION},
	        {"GET /metrics HTTP/1.2\r\n\r\n", FE_CTL_HTTP_VERSION},
	        {"GET /metrics\r\n\r\n", FE_CTL_HTTP_BAD},
	        {"GET  /metrics HTTP/1.1\r\n\r\n", FE_CTL_HTTP_BAD},
	        {"GET /metrics HTTP/1.1 x\r\n\r\n", FE_CTL_HTTP_BAD},
	        {"GET /metrics HTTP/x.1\r\n\r\n", FE_CTL_HTTP_BAD},
	        {"GET /met\x01rics HTTP/1.1\r\n\r\n", FE_CTL_HTTP_BAD},
	        {"GET /metrics HTTP/1.1\r\nno colon\r\n\r\n", FE_CTL_HTTP_BAD},
	        {"GET /metrics HTTP/1.1\r\n: empty name\r\n\r\n", FE_CTL_HTTP_BAD},
	        {"GET /metrics HTTP/1.1\r\n folded: x\r\n\r\n", FE_CTL_HTTP_BAD},
	        {"GET /metrics HTTP/1.1\r\nA: b\x01\r\n\r\n", FE_CTL_HTTP_BAD},
	        {"\r\n\r\n", FE_CTL_HTTP_BAD},
	        {"G(T /metrics HTTP/1.1\r\n\r\n", FE_CTL_HTTP_BAD},
	};
	for (size_t i = 0; i < FE_ARRAY_LEN(cases); i++)
		cr_expect_eq(parse(cases[i].req, &head), cases[i].st, "%s: %d", cases[i].req,
		             (int)parse(cases[i].req, &head));
	cr_expect_str_eq(fe_ctl_http_reason(FE_CTL_HTTP_METHOD), "Method Not Allowed");
}

Test(http, head_size_is_bounded)
{
	bool head;
	size_t n = FE_CTL_HTTP_MAX + 100;
	char *b = malloc(n);
	cr_assert_not_null(b);
	memset(b, 'a', n);
	memcpy(b, "GET /metrics HTTP/1.1\r\nX: ", 26);
	cr_expect_eq(fe_ctl_http_parse(b, FE_CTL_HTTP_MAX - 1, &head), FE_CTL_HTTP_MORE);
	cr_expect_eq(fe_ctl_http_parse(b, FE_CTL_HTTP_MAX, &head), FE_CTL_HTTP_TOOBIG);
	cr_expect_eq(fe_ctl_http_parse(b, n, &head), FE_CTL_HTTP_TOOBIG);
	/* a complete head, but past the bound */
	memcpy(b + n - 4, "\r\n\r\n", 4);
	cr_expect_eq(fe_ctl_http_parse(b, n, &head), FE_CTL_HTTP_TOOBIG);
	free(b);
}
