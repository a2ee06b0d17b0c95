#define _GNU_SOURCE	/* prctl */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <cmocka.h>

#include "conf/hush_err.h"

static void
harden_process_disables_core_dumps_and_ptrace(void **state)
{
	struct rlimit rl;

	(void)state;
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
	assert_int_equal(hush_harden_process(), HUSH_OK);
	assert_int_equal(getrlimit(RLIMIT_CORE, &rl), 0);
	assert_int_equal(rl.rlim_cur, 0);
	assert_int_equal(rl.rlim_max, 0);
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
}

static void
every_error_code_has_a_description(void **state)
{
	int e;

	(void)state;
	for (e = HUSH_ERR_CONFIG; e <= HUSH_OK; e++)
		assert_string_not_equal(hush_strerror(e), "unknown error");
	assert_string_equal(hush_strerror(-999), "unknown error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(harden_process_disables_core_dumps_and_ptrace),
		cmocka_unit_test(every_error_code_has_a_description),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
