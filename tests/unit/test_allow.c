#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "conf/allow.h"

static void
allow_parse_splits_at_the_last_colon(void **state)
{
	struct allow_entry e;

	(void)state;
	allow_parse("db", &e);
	assert_null(e.unit);
	assert_int_equal(e.pat_len, 2);
	assert_false(e.glob);
	allow_parse("app.service:db", &e);
	assert_int_equal(e.unit_len, strlen("app.service"));
	assert_memory_equal(e.unit, "app.service", e.unit_len);
	assert_string_equal(e.pat, "db");
	/* names may hold ':': the unit is what precedes the last one */
	allow_parse("a.service:ns:key*", &e);
	assert_int_equal(e.unit_len, strlen("a.service:ns"));
	assert_string_equal(e.pat, "key*");
	assert_true(e.glob);
	allow_parse(":db", &e);
	assert_non_null(e.unit);
	assert_int_equal(e.unit_len, 0);
	allow_parse("", &e);
	assert_int_equal(e.pat_len, 0);
	assert_false(e.glob);
}

static void
allow_glob_matches_names_and_prefixes_only(void **state)
{
	(void)state;
	assert_true(allow_glob("db", 2, "db"));
	assert_false(allow_glob("db", 2, "db2"));
	assert_false(allow_glob("db2", 3, "db"));
	assert_true(allow_glob("db*", 3, "db"));
	assert_true(allow_glob("db*", 3, "db.prod"));
	assert_false(allow_glob("db*", 3, "d"));
	assert_true(allow_glob("*", 1, "anything"));
	/* '*' only at the end is a glob; elsewhere it is a character */
	assert_false(allow_glob("d*b", 3, "dxb"));
	/* plen bounds the pattern: "db*" seen as 2 bytes is exact */
	assert_false(allow_glob("db*", 2, "db.prod"));
	assert_false(allow_glob("", 0, "db"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(allow_parse_splits_at_the_last_colon),
		cmocka_unit_test(allow_glob_matches_names_and_prefixes_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
