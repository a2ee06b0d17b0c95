/* Secure buffers: fixed capacity, reference counts, wiping. */
#include <sys/wait.h>

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "conf/hush_err.h"
#include "conf/secbuf.h"

static int
setup_all(void **state)
{
	(void)state;
	return hush_harden_process() == HUSH_OK ? 0 : -1;
}

static void
secbuf_new_is_empty_with_its_capacity(void **state)
{
	struct secbuf *sb = secbuf_new(100);
	size_t i;

	(void)state;
	assert_non_null(sb);
	assert_int_equal(secbuf_len(sb), 0);
	assert_int_equal(secbuf_cap(sb), 100);
	for (i = 0; i < 100; i++)
		assert_int_equal(secbuf_data(sb)[i], 0);
	secbuf_free(sb);
}

static void
secbuf_new_refuses_zero_and_absurd_capacities(void **state)
{
	(void)state;
	assert_null(secbuf_new(0));
	assert_null(secbuf_new(SIZE_MAX));
	assert_null(secbuf_new(SIZE_MAX / 2 + 1));
}

static void
secbuf_append_never_exceeds_the_capacity(void **state)
{
	struct secbuf *sb = secbuf_new(8);

	(void)state;
	assert_int_equal(secbuf_append(sb, "abcde", 5), HUSH_OK);
	/* Past the capacity: nothing at all is appended. */
	assert_int_equal(secbuf_append(sb, "fghi", 4), HUSH_ERR_TOO_LARGE);
	assert_int_equal(secbuf_len(sb), 5);
	assert_memory_equal(secbuf_data(sb), "abcde", 5);
	assert_int_equal(secbuf_append(sb, "fgh", 3), HUSH_OK);
	assert_int_equal(secbuf_len(sb), 8);
	assert_int_equal(secbuf_append(sb, "i", 1), HUSH_ERR_TOO_LARGE);
	assert_int_equal(secbuf_append(sb, "", 0), HUSH_OK);
	assert_int_equal(secbuf_append(sb, "x", SIZE_MAX), HUSH_ERR_TOO_LARGE);
	assert_int_equal(secbuf_len(sb), 8);
	assert_memory_equal(secbuf_data(sb), "abcdefgh", 8);
	secbuf_free(sb);
}

static void
secbuf_set_len_past_the_capacity_aborts(void **state)
{
	struct secbuf *sb = secbuf_new(4);
	pid_t pid;
	int status = 0;

	(void)state;
	memcpy(secbuf_mut(sb), "wxyz", 4);
	secbuf_set_len(sb, 3);
	assert_int_equal(secbuf_len(sb), 3);
	secbuf_set_len(sb, 4);
	assert_int_equal(secbuf_len(sb), 4);
	/* In a child: the broken invariant must end that process. */
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* quiet: the abort message is expected here */
		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(2);
		secbuf_set_len(sb, 5);
		_exit(0);	/* clamped and carried on: the old bug */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	assert_int_equal(secbuf_len(sb), 4);
	secbuf_free(sb);
}

static void
secbuf_from_copies_exactly(void **state)
{
	struct secbuf *sb = secbuf_from("a\0b", 3), *empty = secbuf_from("", 0);

	(void)state;
	assert_int_equal(secbuf_len(sb), 3);
	assert_int_equal(secbuf_cap(sb), 3);
	assert_memory_equal(secbuf_data(sb), "a\0b", 3);
	assert_non_null(empty);
	assert_int_equal(secbuf_len(empty), 0);
	secbuf_free(sb);
	secbuf_free(empty);
}

static void
secbuf_clear_wipes_the_whole_capacity(void **state)
{
	struct secbuf *sb = secbuf_new(32);
	size_t i;

	(void)state;
	memset(secbuf_mut(sb), 'S', 32);
	secbuf_set_len(sb, 10);
	secbuf_clear(sb);
	assert_int_equal(secbuf_len(sb), 0);
	/* Also the bytes past len: a shrunk value leaves none behind. */
	for (i = 0; i < 32; i++)
		assert_int_equal(secbuf_data(sb)[i], 0);
	secbuf_free(sb);
}

static void
secbuf_ref_keeps_the_value_alive_until_the_last_unref(void **state)
{
	struct secbuf *sb = secbuf_from("shared", 6), *r1, *r2;

	(void)state;
	r1 = secbuf_ref(sb);
	r2 = secbuf_ref(sb);
	assert_ptr_equal(r1, sb);
	assert_ptr_equal(r2, sb);
	secbuf_unref(sb);
	secbuf_unref(r1);
	/* One reference left: the value is intact and usable. */
	assert_int_equal(secbuf_len(r2), 6);
	assert_memory_equal(secbuf_data(r2), "shared", 6);
	assert_int_equal(secbuf_append(r2, "", 0), HUSH_OK);
	secbuf_unref(r2);
	secbuf_unref(NULL);
	secbuf_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(secbuf_new_is_empty_with_its_capacity),
		cmocka_unit_test(secbuf_new_refuses_zero_and_absurd_capacities),
		cmocka_unit_test(secbuf_append_never_exceeds_the_capacity),
		cmocka_unit_test(secbuf_set_len_past_the_capacity_aborts),
		cmocka_unit_test(secbuf_from_copies_exactly),
		cmocka_unit_test(secbuf_clear_wipes_the_whole_capacity),
		cmocka_unit_test(secbuf_ref_keeps_the_value_alive_until_the_last_unref),
	};

	return cmocka_run_group_tests(tests, setup_all, NULL);
}
