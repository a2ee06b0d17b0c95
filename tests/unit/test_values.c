#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "conf/hush_err.h"
#include "conf/values.h"

static void
duration_accepts_each_unit(void **state)
{
	uint64_t ms = 0;

	(void)state;
	assert_int_equal(val_duration("500ms", &ms), HUSH_OK);
	assert_int_equal(ms, 500);
	assert_int_equal(val_duration("30s", &ms), HUSH_OK);
	assert_int_equal(ms, 30000);
	assert_int_equal(val_duration("5m", &ms), HUSH_OK);
	assert_int_equal(ms, 300000);
	assert_int_equal(val_duration("1h", &ms), HUSH_OK);
	assert_int_equal(ms, 3600000);
}

static void
duration_rejects_missing_unit_garbage_and_overflow(void **state)
{
	uint64_t ms = 7;

	(void)state;
	assert_int_equal(val_duration("30", &ms), HUSH_ERR_INVALID);
	assert_int_equal(val_duration("", &ms), HUSH_ERR_INVALID);
	assert_int_equal(val_duration("s", &ms), HUSH_ERR_INVALID);
	assert_int_equal(val_duration("-5s", &ms), HUSH_ERR_INVALID);
	assert_int_equal(val_duration("5 sec", &ms), HUSH_ERR_INVALID);
	assert_int_equal(val_duration("99999999999999999999h", &ms),
	    HUSH_ERR_INVALID);
	assert_int_equal(val_duration("721h", &ms), HUSH_ERR_INVALID);
	assert_int_equal(ms, 7);	/* untouched on error */
}

static void
size_accepts_bytes_and_binary_units(void **state)
{
	uint64_t n = 0;

	(void)state;
	assert_int_equal(val_size("512", &n), HUSH_OK);
	assert_int_equal(n, 512);
	assert_int_equal(val_size("64KiB", &n), HUSH_OK);
	assert_int_equal(n, 65536);
	assert_int_equal(val_size("1MiB", &n), HUSH_OK);
	assert_int_equal(n, 1048576);
	assert_int_equal(val_size("1GiB", &n), HUSH_OK);
	assert_int_equal(n, 1073741824);
}

static void
size_rejects_unknown_units_and_too_large(void **state)
{
	uint64_t n = 3;

	(void)state;
	assert_int_equal(val_size("64XiB", &n), HUSH_ERR_INVALID);
	assert_int_equal(val_size("2GiB", &n), HUSH_ERR_INVALID);
	assert_int_equal(val_size("1.5MiB", &n), HUSH_ERR_INVALID);
	assert_int_equal(val_size("KiB", &n), HUSH_ERR_INVALID);
	assert_int_equal(n, 3);
}

static void
mode_is_octal_and_at_most_07777(void **state)
{
	mode_t m = 0;

	(void)state;
	assert_int_equal(val_mode("0660", &m), HUSH_OK);
	assert_int_equal(m, 0660);
	assert_int_equal(val_mode("600", &m), HUSH_OK);
	assert_int_equal(m, 0600);
	assert_int_equal(val_mode("0999", &m), HUSH_ERR_INVALID);
	assert_int_equal(val_mode("17777", &m), HUSH_ERR_INVALID);
	assert_int_equal(val_mode("rw-r--r--", &m), HUSH_ERR_INVALID);
	assert_int_equal(val_mode("", &m), HUSH_ERR_INVALID);
}

static void
bool_accepts_the_six_words_in_any_case(void **state)
{
	int b = -1;

	(void)state;
	assert_int_equal(val_bool("YES", &b), HUSH_OK);
	assert_int_equal(b, 1);
	assert_int_equal(val_bool("off", &b), HUSH_OK);
	assert_int_equal(b, 0);
	assert_int_equal(val_bool("True", &b), HUSH_OK);
	assert_int_equal(b, 1);
	assert_int_equal(val_bool("nope", &b), HUSH_ERR_INVALID);
}

static void
uint_enforces_range(void **state)
{
	uint64_t n = 0;

	(void)state;
	assert_int_equal(val_uint("10", 1, 10, &n), HUSH_OK);
	assert_int_equal(n, 10);
	assert_int_equal(val_uint("11", 1, 10, &n), HUSH_ERR_INVALID);
	assert_int_equal(val_uint("0", 1, 10, &n), HUSH_ERR_INVALID);
	assert_int_equal(val_uint("1x", 1, 10, &n), HUSH_ERR_INVALID);
	assert_int_equal(val_uint("+1", 1, 10, &n), HUSH_ERR_INVALID);
}

static void
rate_is_count_per_second_minute_or_hour(void **state)
{
	struct val_rate r;

	(void)state;
	assert_int_equal(val_rate("20/s", &r), HUSH_OK);
	assert_int_equal(r.count, 20);
	assert_int_equal(r.per_ms, 1000);
	assert_int_equal(val_rate("100/m", &r), HUSH_OK);
	assert_int_equal(r.per_ms, 60000);
	assert_int_equal(val_rate("0/s", &r), HUSH_ERR_INVALID);
	assert_int_equal(val_rate("20/d", &r), HUSH_ERR_INVALID);
	assert_int_equal(val_rate("20", &r), HUSH_ERR_INVALID);
}

static void
list_trims_items_and_rejects_empty_ones(void **state)
{
	char **items = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(val_list(" a , b,c ", &items, &n), HUSH_OK);
	assert_int_equal(n, 3);
	assert_string_equal(items[0], "a");
	assert_string_equal(items[1], "b");
	assert_string_equal(items[2], "c");
	assert_null(items[3]);
	val_list_free(items);
	assert_int_equal(val_list("a,,b", &items, &n), HUSH_ERR_INVALID);
	assert_int_equal(val_list("a,", &items, &n), HUSH_ERR_INVALID);
	assert_int_equal(val_list(" , ", &items, &n), HUSH_ERR_INVALID);
}

static void
user_and_group_resolve_names_and_reject_unknown(void **state)
{
	uid_t u = 99;
	gid_t g = 99;

	(void)state;
	assert_int_equal(val_user("root", &u), HUSH_OK);
	assert_int_equal(u, 0);
	assert_int_equal(val_group("root", &g), HUSH_OK);
	assert_int_equal(g, 0);
	assert_int_equal(val_user("no-such-user-hush", &u), HUSH_ERR_INVALID);
	assert_int_equal(val_group("no-such-group-hush", &g),
	    HUSH_ERR_INVALID);
}

static void
suggest_finds_typos_but_not_unrelated_words(void **state)
{
	static const char *const keys[] = {
		"allow", "socket", "max_connections", "file", NULL
	};

	(void)state;
	assert_string_equal(val_suggest("alow", keys), "allow");
	assert_string_equal(val_suggest("max_conections", keys),
	    "max_connections");
	assert_string_equal(val_suggest("fiel", keys), "file");
	assert_string_equal(val_suggest("SOCKET", keys), "socket");
	assert_null(val_suggest("banana", keys));
	assert_null(val_suggest("x", keys));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(duration_accepts_each_unit),
		cmocka_unit_test(duration_rejects_missing_unit_garbage_and_overflow),
		cmocka_unit_test(size_accepts_bytes_and_binary_units),
		cmocka_unit_test(size_rejects_unknown_units_and_too_large),
		cmocka_unit_test(mode_is_octal_and_at_most_07777),
		cmocka_unit_test(bool_accepts_the_six_words_in_any_case),
		cmocka_unit_test(uint_enforces_range),
		cmocka_unit_test(rate_is_count_per_second_minute_or_hour),
		cmocka_unit_test(list_trims_items_and_rejects_empty_ones),
		cmocka_unit_test(user_and_group_resolve_names_and_reject_unknown),
		cmocka_unit_test(suggest_finds_typos_but_not_unrelated_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
