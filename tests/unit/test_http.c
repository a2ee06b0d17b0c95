#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "conf/hush_err.h"
#include "broker/http.h"

static int
feed(struct http_request *req, const char *s, size_t *usedp)
{
	return http_request_feed(req, s, strlen(s), usedp);
}

static void
http_parse_reads_a_get(void **state)
{
	struct http_request req;
	size_t used = 0;
	const char *s = "GET /v1/credentials/claude HTTP/1.1\r\n"
	    "Host: hush\r\n\r\n";

	(void)state;
	http_request_init(&req, 8192);
	assert_int_equal(feed(&req, s, &used), HUSH_OK);
	assert_int_equal(used, strlen(s));
	assert_int_equal(req.method, HTTP_GET);
	assert_string_equal(req.target, "/v1/credentials/claude");
	assert_true(req.keep_alive);
	assert_false(req.has_auth);
}

static void
http_parse_takes_a_request_split_byte_by_byte(void **state)
{
	struct http_request req;
	const char *s = "GET /v1/health HTTP/1.1\r\nAuthorization: Bearer "
	    "hush_abc\r\nConnection: close\r\n\r\n";
	const char *tok;
	size_t i, used = 0, tlen;
	int r = HUSH_ERR_INCOMPLETE;

	(void)state;
	http_request_init(&req, 8192);
	for (i = 0; i < strlen(s); i++) {
		r = http_request_feed(&req, s + i, 1, &used);
		if (i + 1 < strlen(s))
			assert_int_equal(r, HUSH_ERR_INCOMPLETE);
	}
	assert_int_equal(r, HUSH_OK);
	assert_int_equal(used, 1);
	assert_string_equal(req.target, "/v1/health");
	assert_false(req.keep_alive);
	assert_true(http_request_bearer(&req, &tok, &tlen));
	assert_int_equal(tlen, 8);
	assert_memory_equal(tok, "hush_abc", 8);
}

static void
http_parse_stops_at_the_end_of_the_first_of_two_requests(void **state)
{
	struct http_request req;
	const char *one = "GET /a HTTP/1.1\r\n\r\n";
	char two[128];
	size_t used = 0;

	(void)state;
	snprintf(two, sizeof(two), "%sGET /b HTTP/1.1\r\n\r\n", one);
	http_request_init(&req, 8192);
	assert_int_equal(feed(&req, two, &used), HUSH_OK);
	assert_int_equal(used, strlen(one));
	assert_string_equal(req.target, "/a");
	http_request_reset(&req);
	assert_int_equal(feed(&req, two + used, &used), HUSH_OK);
	assert_string_equal(req.target, "/b");
}

static void
http_parse_rejects_garbage_with_400(void **state)
{
	struct http_request req;
	size_t used;

	(void)state;
	http_request_init(&req, 8192);
	assert_int_equal(feed(&req, "\x01\x02 nonsense\r\n\r\n", &used),
	    HUSH_ERR_INVALID);
	assert_int_equal(req.status, 400);
}

static void
http_parse_rejects_headers_over_the_limit_with_431(void **state)
{
	struct http_request req;
	char big[600];
	size_t used;

	(void)state;
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	big[sizeof(big) - 1] = '\0';
	http_request_init(&req, 256);
	assert_int_equal(feed(&req, big, &used), HUSH_ERR_TOO_LARGE);
	assert_int_equal(req.status, 431);
}

static void
http_parse_rejects_a_long_target_with_431(void **state)
{
	struct http_request req;
	char big[HTTP_MAX_TARGET + 64];
	size_t used;

	(void)state;
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	big[sizeof(big) - 1] = '\0';
	http_request_init(&req, 1 << 20);
	assert_int_not_equal(feed(&req, big, &used), HUSH_OK);
	assert_int_equal(req.status, 431);
}

static void
http_parse_answers_505_to_versions_other_than_1_0_and_1_1(void **state)
{
	static const char *const bad[] = {
		"GET /v1/health HTTP/2.0\r\n\r\n",
		"GET /v1/health HTTP/0.9\r\n\r\n",
		"GET /v1/health HTTP/1.2\r\n\r\n",
		"GET /v1/health HTTP/3.0\r\nHost: hush\r\n\r\n",
	};
	static const char *const good[] = {
		"GET /v1/health HTTP/1.0\r\n\r\n",
		"GET /v1/health HTTP/1.1\r\n\r\n",
	};
	struct http_request req;
	size_t i, used = 0;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		http_request_init(&req, 8192);
		assert_int_equal(feed(&req, bad[i], &used), HUSH_ERR_INVALID);
		assert_int_equal(req.status, 505);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		http_request_init(&req, 8192);
		assert_int_equal(feed(&req, good[i], &used), HUSH_OK);
	}
	assert_string_equal(http_reason(505), "HTTP Version Not Supported");
}

static void
http_parse_refuses_bodies(void **state)
{
	struct http_request req;
	size_t used;

	(void)state;
	http_request_init(&req, 8192);
	assert_int_not_equal(feed(&req, "GET / HTTP/1.1\r\nContent-Length: 3"
	    "\r\n\r\nabc", &used), HUSH_OK);
	assert_int_equal(req.status, 413);
	http_request_reset(&req);
	assert_int_not_equal(feed(&req, "POST / HTTP/1.1\r\nTransfer-Encoding:"
	    " chunked\r\n\r\n", &used), HUSH_OK);
	assert_int_equal(req.status, 405);
}

static void
http_bearer_needs_the_scheme_and_one_header(void **state)
{
	struct http_request req;
	const char *tok;
	size_t used, len;

	(void)state;
	http_request_init(&req, 8192);
	assert_int_equal(feed(&req, "GET / HTTP/1.1\r\nAuthorization: Basic "
	    "eDp5\r\n\r\n", &used), HUSH_OK);
	assert_false(http_request_bearer(&req, &tok, &len));
	http_request_reset(&req);
	assert_int_equal(feed(&req, "GET / HTTP/1.1\r\nAuthorization: Bearer "
	    "a\r\nauthorization: bearer a\r\n\r\n", &used), HUSH_OK);
	assert_false(http_request_bearer(&req, &tok, &len));
	http_request_reset(&req);
	assert_int_equal(feed(&req, "GET / HTTP/1.1\r\nauthorization: bearer "
	    "  tok  \r\n\r\n", &used), HUSH_OK);
	assert_true(http_request_bearer(&req, &tok, &len));
	assert_int_equal(len, 3);
	assert_memory_equal(tok, "tok", 3);
}

static void
http_reset_wipes_the_token(void **state)
{
	struct http_request req;
	size_t used, i;

	(void)state;
	http_request_init(&req, 8192);
	assert_int_equal(feed(&req, "GET / HTTP/1.1\r\nAuthorization: Bearer "
	    "hush_secret\r\n\r\n", &used), HUSH_OK);
	http_request_reset(&req);
	for (i = 0; i < sizeof(req.auth); i++)
		assert_int_equal(req.auth[i], 0);
}

static void
http_parse_sees_http10_as_not_keep_alive(void **state)
{
	struct http_request req;
	size_t used;

	(void)state;
	http_request_init(&req, 8192);
	assert_int_equal(feed(&req, "GET / HTTP/1.0\r\n\r\n", &used), HUSH_OK);
	assert_false(req.keep_alive);
}

static void
http_head_write_says_status_type_length_and_close(void **state)
{
	struct http_head hd = {
		.status = 200, .ctype = "text/plain", .clen = 120,
	};
	char buf[256];
	size_t n;

	(void)state;
	n = http_head_write(&hd, buf, sizeof(buf));
	assert_int_equal(n, strlen("HTTP/1.1 200 OK\r\nContent-Type: "
	    "text/plain\r\nContent-Length: 120\r\nCache-Control: "
	    "no-store\r\n\r\n"));
	assert_memory_equal(buf, "HTTP/1.1 200 OK\r\nContent-Type: "
	    "text/plain\r\nContent-Length: 120\r\nCache-Control: "
	    "no-store\r\n\r\n", n);
	hd.status = 401;
	hd.ctype = "application/json";
	hd.clen = 0;
	hd.close = true;
	n = http_head_write(&hd, buf, sizeof(buf));
	buf[n] = '\0';
	assert_string_equal(buf, "HTTP/1.1 401 Unauthorized\r\n"
	    "Content-Type: application/json\r\nContent-Length: 0\r\n"
	    "Cache-Control: no-store\r\nWWW-Authenticate: Bearer\r\n"
	    "Connection: close\r\n\r\n");
}

static void
http_head_write_writes_nothing_that_does_not_fit(void **state)
{
	struct http_head hd = {
		.status = 200, .ctype = "text/plain", .clen = 120,
	};
	char buf[256];
	size_t full, cap;

	(void)state;
	full = http_head_write(&hd, buf, sizeof(buf));
	assert_true(full > 0);
	for (cap = 0; cap < full; cap++)
		assert_int_equal(http_head_write(&hd, buf, cap), 0);
	assert_int_equal(http_head_write(&hd, buf, full), full);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(http_parse_reads_a_get),
		cmocka_unit_test(
		    http_head_write_says_status_type_length_and_close),
		cmocka_unit_test(
		    http_head_write_writes_nothing_that_does_not_fit),
		cmocka_unit_test(http_parse_takes_a_request_split_byte_by_byte),
		cmocka_unit_test(
		    http_parse_stops_at_the_end_of_the_first_of_two_requests),
		cmocka_unit_test(http_parse_rejects_garbage_with_400),
		cmocka_unit_test(
		    http_parse_rejects_headers_over_the_limit_with_431),
		cmocka_unit_test(http_parse_rejects_a_long_target_with_431),
		cmocka_unit_test(http_parse_refuses_bodies),
		cmocka_unit_test(
		    http_parse_answers_505_to_versions_other_than_1_0_and_1_1),
		cmocka_unit_test(http_bearer_needs_the_scheme_and_one_header),
		cmocka_unit_test(http_reset_wipes_the_token),
		cmocka_unit_test(http_parse_sees_http10_as_not_keep_alive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
