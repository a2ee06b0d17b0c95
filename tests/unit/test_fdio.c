#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf/fdio.h"
#include "conf/hush_err.h"
#include "conf/secbuf.h"

/* More than a pipe holds, so writes are short and the reader must loop. */
#define BIG	(1 << 20)

static void
write_all_delivers_every_byte_through_short_writes(void **state)
{
	uint8_t *src, *dst;
	struct secbuf *sb;
	int fds[2];
	pid_t pid;
	size_t i;

	(void)state;
	assert_non_null(src = malloc(BIG));
	for (i = 0; i < BIG; i++)
		src[i] = (uint8_t)(i * 7 + i / 251);
	assert_int_equal(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		close(fds[0]);
		_exit(fdio_write_all(fds[1], src, BIG) == 0 ? 0 : 1);
	}
	close(fds[1]);
	assert_non_null(sb = secbuf_new(BIG + 1));
	assert_int_equal(fdio_read_secbuf(fds[0], sb), 0);
	close(fds[0]);
	assert_int_equal(secbuf_len(sb), BIG);
	dst = secbuf_mut(sb);
	assert_memory_equal(src, dst, BIG);
	assert_int_equal(waitpid(pid, &(int){ 0 }, 0), pid);
	secbuf_free(sb);
	free(src);
}

static void
read_secbuf_stops_when_full_so_callers_see_oversize(void **state)
{
	struct secbuf *sb;
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(fdio_write_all(fds[1], "0123456789", 10), 0);
	assert_non_null(sb = secbuf_new(4));
	assert_int_equal(fdio_read_secbuf(fds[0], sb), 0);
	assert_int_equal(secbuf_len(sb), 4);	/* full: limit 3 exceeded */
	assert_memory_equal(secbuf_data(sb), "0123", 4);
	secbuf_free(sb);
	close(fds[0]);
	close(fds[1]);
}

static void
read_secbuf_reports_errors_with_errno(void **state)
{
	struct secbuf *sb;

	(void)state;
	assert_non_null(sb = secbuf_new(8));
	assert_int_equal(fdio_read_secbuf(-1, sb), -1);
	assert_int_equal(secbuf_len(sb), 0);
	assert_int_equal(fdio_write_all(-1, "x", 1), -1);
	secbuf_free(sb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(write_all_delivers_every_byte_through_short_writes),
		cmocka_unit_test(read_secbuf_stops_when_full_so_callers_see_oversize),
		cmocka_unit_test(read_secbuf_reports_errors_with_errno),
	};

	if (hush_harden_process() != HUSH_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
