#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf/hush_err.h"
#include "broker/audit.h"

static void
audit_format_writes_one_json_line(void **state)
{
	struct audit_event ev = {
		.event = "get", .client = "gw", .has_peer = true, .uid = 1000,
		.pid = 4242, .credential = "claude", .result = "ok",
		.status = 200, .bytes = 108, .fp = "0123456789ab",
	};
	char buf[AUDIT_MAX_LINE];
	size_t n;

	(void)state;
	n = audit_format(&ev, 1795435200123ULL, buf, sizeof(buf));
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "{\"ts\":\"2026-11-23T12:00:00.123Z\","
	    "\"event\":\"get\",\"client\":\"gw\",\"uid\":1000,\"pid\":4242,"
	    "\"credential\":\"claude\",\"result\":\"ok\",\"status\":200,"
	    "\"bytes\":108,\"fp\":\"0123456789ab\"}\n");
}

static void
audit_format_escapes_what_a_client_sent(void **state)
{
	struct audit_event ev = {
		.event = "get", .credential = "a\"b\\c\n\x01\xff",
		.bytes = -1,
	};
	char buf[AUDIT_MAX_LINE];
	size_t n;

	(void)state;
	n = audit_format(&ev, 0, buf, sizeof(buf));
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf,
	    "\"credential\":\"a\\\"b\\\\c\\u000a\\u0001\\u00ff\""));
	assert_true(strchr(buf, '\n') == buf + n - 1);
}

static void
audit_format_refuses_what_does_not_fit(void **state)
{
	struct audit_event ev = { .event = "start", .bytes = -1 };
	char buf[16];

	(void)state;
	assert_int_equal(audit_format(&ev, 0, buf, sizeof(buf)), 0);
}

static void
on_timer(uv_timer_t *t)
{
	uv_close((uv_handle_t *)t, NULL);
}

static void
audit_writes_lines_when_the_loop_turns(void **state)
{
	uv_loop_t loop;
	uv_timer_t t;
	struct audit a;
	struct audit_event ev = { .event = "start", .result = "ok",
	    .bytes = -1 };
	char path[] = "/tmp/hush-audit-XXXXXX", err[256], buf[512];
	FILE *f;
	size_t n;
	int fd;

	(void)state;
	assert_int_not_equal(fd = mkstemp(path), -1);
	close(fd);
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(audit_init(&a, &loop, path, err, sizeof(err)),
	    HUSH_OK);
	audit_log(&a, &ev);
	audit_log(&a, &ev);
	/* buffered until the loop turns */
	assert_non_null(f = fopen(path, "r"));
	assert_int_equal(fread(buf, 1, sizeof(buf), f), 0);
	/* a turn of a loop with something to do (the flush alone is not) */
	assert_int_equal(uv_timer_init(&loop, &t), 0);
	assert_int_equal(uv_timer_start(&t, on_timer, 1, 0), 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	assert_non_null(strstr(buf, "\"event\":\"start\""));
	/* two whole lines */
	assert_int_equal(buf[n - 1], '\n');
	assert_int_equal((strchr(buf, '\n') - buf + 1) * 2, (long)n);
	assert_true(audit_ok(&a));
	audit_release(&a);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	unlink(path);
}

static void
audit_reports_a_log_it_cannot_write(void **state)
{
	uv_loop_t loop;
	struct audit a;
	struct audit_event ev = { .event = "start", .bytes = -1 };
	char err[256];

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(audit_init(&a, &loop, "/dev/full", err,
	    sizeof(err)), HUSH_OK);
	audit_log(&a, &ev);
	audit_flush(&a);
	assert_false(audit_ok(&a));
	audit_release(&a);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(audit_init(&a, &loop, "/nonexistent/dir/audit",
	    err, sizeof(err)), HUSH_ERR_IO);
	assert_non_null(strstr(err, "/nonexistent/dir/audit"));
}

/* The timestamp is written by hand: it must be what gmtime says. */
static void
audit_format_dates_agree_with_gmtime(void **state)
{
	struct audit_event ev = { .event = "start", .bytes = -1 };
	char buf[AUDIT_MAX_LINE], want[64];
	struct tm tm;
	time_t t;
	uint64_t ms;
	size_t n;

	(void)state;
	/* every day 1970..2200 at a varying time of day, leap days too */
	for (t = 0; t < (time_t)84000 * 86400; t += 86400 + 3607) {
		ms = (uint64_t)t * 1000 + (uint64_t)(t % 1000);
		assert_non_null(gmtime_r(&t, &tm));
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(want + strlen(want), sizeof(want) - strlen(want),
		    ".%03uZ", (unsigned)(ms % 1000));
		n = audit_format(&ev, ms, buf, sizeof(buf));
		assert_true(n > 0);
		buf[n] = '\0';
		if (strncmp(buf + 7, want, strlen(want)) != 0)
			fail_msg("%s: got %.24s", want, buf + 7);
	}
}

static void
audit_format_writes_numbers_of_any_size(void **state)
{
	struct audit_event ev = {
		.event = "get", .has_peer = true, .uid = 4294967295U,
		.pid = 0, .status = 503, .bytes = 9223372036854775807LL,
	};
	char buf[AUDIT_MAX_LINE];
	size_t n;

	(void)state;
	n = audit_format(&ev, 0, buf, sizeof(buf));
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "{\"ts\":\"1970-01-01T00:00:00.000Z\","
	    "\"event\":\"get\",\"uid\":4294967295,\"pid\":0,"
	    "\"status\":503,\"bytes\":9223372036854775807}\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(audit_format_writes_one_json_line),
		cmocka_unit_test(audit_format_escapes_what_a_client_sent),
		cmocka_unit_test(audit_format_refuses_what_does_not_fit),
		cmocka_unit_test(audit_format_dates_agree_with_gmtime),
		cmocka_unit_test(audit_format_writes_numbers_of_any_size),
		cmocka_unit_test(audit_writes_lines_when_the_loop_turns),
		cmocka_unit_test(audit_reports_a_log_it_cannot_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
