#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "conf/hush_err.h"
#include "broker/http.h"
#include "broker/route.h"

static int
match(const char *t, unsigned method, struct route *rt)
{
	return route_match(t, strlen(t), method, rt);
}

static void
route_finds_the_three_endpoints(void **state)
{
	struct route rt;

	(void)state;
	assert_int_equal(match("/v1/health", HTTP_GET, &rt), HUSH_OK);
	assert_int_equal(rt.kind, ROUTE_HEALTH);
	assert_int_equal(match("/v1/credentials", HTTP_GET, &rt), HUSH_OK);
	assert_int_equal(rt.kind, ROUTE_LIST);
	assert_int_equal(match("/v1/credentials/", HTTP_GET, &rt), HUSH_OK);
	assert_int_equal(rt.kind, ROUTE_LIST);
	assert_int_equal(match("/v1/credentials/codex-auth?x=1", HTTP_GET,
	    &rt), HUSH_OK);
	assert_int_equal(rt.kind, ROUTE_GET);
	assert_string_equal(rt.name, "codex-auth");
}

static void
route_answers_404_for_unknown_paths(void **state)
{
	struct route rt;

	(void)state;
	assert_int_equal(match("/", HTTP_GET, &rt), HUSH_ERR_NOT_FOUND);
	assert_int_equal(rt.status, 404);
	assert_int_equal(match("/v1/healthz", HTTP_GET, &rt),
	    HUSH_ERR_NOT_FOUND);
	assert_int_equal(match("http://x/v1/health", HTTP_GET, &rt),
	    HUSH_ERR_NOT_FOUND);
}

static void
route_answers_405_for_other_methods(void **state)
{
	struct route rt;

	(void)state;
	assert_int_equal(match("/v1/credentials/a", HTTP_POST, &rt),
	    HUSH_ERR_INVALID);
	assert_int_equal(rt.status, 405);
	assert_int_equal(rt.kind, ROUTE_NONE);
	assert_int_equal(match("/v1/health", HTTP_HEAD, &rt),
	    HUSH_ERR_INVALID);
}

static void
route_marks_impossible_names(void **state)
{
	struct route rt;

	(void)state;
	assert_int_equal(match("/v1/credentials/../etc", HTTP_GET, &rt),
	    HUSH_OK);
	assert_true(rt.bad_name);
	assert_string_equal(rt.name, "");
	assert_int_equal(match("/v1/credentials/a%2fb", HTTP_GET, &rt),
	    HUSH_OK);
	assert_true(rt.bad_name);
	assert_int_equal(match("/v1/credentials/..", HTTP_GET, &rt), HUSH_OK);
	assert_true(rt.bad_name);
	assert_int_equal(match("/v1/credentials/web.service:tls", HTTP_GET,
	    &rt), HUSH_OK);
	assert_false(rt.bad_name);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(route_finds_the_three_endpoints),
		cmocka_unit_test(route_answers_404_for_unknown_paths),
		cmocka_unit_test(route_answers_405_for_other_methods),
		cmocka_unit_test(route_marks_impossible_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
