#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "conf/api.h"

static void
api_name_ok_caps_the_length(void **state)
{
	char name[API_MAX_NAME + 2];

	(void)state;
	memset(name, 'a', sizeof(name));
	assert_true(api_name_ok(name, API_MAX_NAME));
	assert_false(api_name_ok(name, API_MAX_NAME + 1));
	assert_false(api_name_ok(name, 0));
}

static void
api_name_ok_takes_the_alphabet_and_no_path_segment(void **state)
{
	static const char *const good[] = {
		"db", "a.b", "svc:db_pw-2", "...", ".x", "..x", "Z9",
	};
	static const char *const bad[] = {
		".", "..", "a/b", "a b", "a%2fb", "\xc3\xa9", "a\n", "a*",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(api_name_ok(good[i], strlen(good[i])));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(api_name_ok(bad[i], strlen(bad[i])));
	/* a NUL inside the length is not a name character */
	assert_false(api_name_ok("a\0b", 3));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(api_name_ok_caps_the_length),
		cmocka_unit_test(api_name_ok_takes_the_alphabet_and_no_path_segment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
