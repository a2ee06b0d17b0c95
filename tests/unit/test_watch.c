#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "broker/watch.h"

static void
put(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(s, f);
	fclose(f);
}

static void
watch_sees_a_write_to_the_file_and_not_to_its_neighbours(void **state)
{
	char dir[] = "/tmp/hush-watch-XXXXXX", file[64], other[64];
	struct watch w;
	uv_loop_t loop;
	uint64_t e0;
	int idx;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/cred", dir);
	snprintf(other, sizeof(other), "%s/busy.log", dir);
	put(file, "one");
	assert_int_equal(uv_loop_init(&loop), 0);
	watch_init(&w, &loop);
	assert_int_not_equal(idx = watch_path(&w, file), WATCH_NONE);
	assert_int_equal(watch_path(&w, file), idx);
	assert_true(watch_drain(&w));
	e0 = watch_epoch(&w, idx);
	put(other, "noise");
	assert_true(watch_drain(&w));
	assert_true(watch_epoch(&w, idx) == e0);
	put(file, "two");
	/* the event was queued by the write itself: no waiting needed */
	assert_true(watch_drain(&w));
	assert_true(watch_epoch(&w, idx) != e0);
	e0 = watch_epoch(&w, idx);
	put(other, "cred");
	assert_int_equal(rename(other, file), 0);
	assert_true(watch_drain(&w));
	assert_true(watch_epoch(&w, idx) != e0);
	watch_release(&w);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	unlink(file);
	rmdir(dir);
}

static void
watch_counts_every_event_for_a_symlink(void **state)
{
	char dir[] = "/tmp/hush-watch-XXXXXX", link[64], other[64];
	struct watch w;
	uv_loop_t loop;
	uint64_t e0;
	int idx;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(link, sizeof(link), "%s/token", dir);
	snprintf(other, sizeof(other), "%s/..data", dir);
	assert_int_equal(symlink("..data", link), 0);
	assert_int_equal(uv_loop_init(&loop), 0);
	watch_init(&w, &loop);
	assert_int_not_equal(idx = watch_path(&w, link), WATCH_NONE);
	assert_true(watch_drain(&w));
	e0 = watch_epoch(&w, idx);
	put(other, "x");
	assert_true(watch_drain(&w));
	assert_true(watch_epoch(&w, idx) != e0);
	watch_release(&w);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	unlink(other);
	unlink(link);
	rmdir(dir);
}

static void
watch_refuses_what_it_cannot_watch(void **state)
{
	struct watch w;
	uv_loop_t loop;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	watch_init(&w, &loop);
	assert_int_equal(watch_path(&w, "/nonexistent-dir/x"), WATCH_NONE);
	assert_int_equal(watch_path(&w, "relative"), WATCH_NONE);
	assert_int_equal(watch_path(&w, "/tmp/"), WATCH_NONE);
	watch_release(&w);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void
on_tick(uv_timer_t *t)
{
	(void)t;
}

/* One turn of the loop: the watch's handles do not keep it alive. */
static void
one_turn(uv_loop_t *loop, uv_timer_t *t)
{
	uv_timer_start(t, on_tick, 0, 0);
	uv_run(loop, UV_RUN_NOWAIT);
}

static void
watch_drain_turn_reads_once_per_loop_turn(void **state)
{
	char dir[] = "/tmp/hush-watch-XXXXXX", file[64];
	struct watch w;
	uv_loop_t loop;
	uv_timer_t tick;
	uint64_t e0;
	int idx;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/cred", dir);
	put(file, "one");
	assert_int_equal(uv_loop_init(&loop), 0);
	uv_timer_init(&loop, &tick);
	watch_init(&w, &loop);
	assert_int_not_equal(idx = watch_path(&w, file), WATCH_NONE);
	assert_true(watch_drain_turn(&w));
	e0 = watch_epoch(&w, idx);
	/* same turn: the change waits for the next one */
	put(file, "two");
	assert_true(watch_drain_turn(&w));
	assert_true(watch_epoch(&w, idx) == e0);
	/* a turn of the loop (the poll callback may drain it too) */
	one_turn(&loop, &tick);
	assert_true(watch_drain_turn(&w));
	assert_true(watch_epoch(&w, idx) != e0);
	e0 = watch_epoch(&w, idx);
	/* a change after the turn's drain is seen in the next turn */
	put(file, "three");
	one_turn(&loop, &tick);
	assert_true(watch_drain_turn(&w));
	assert_true(watch_epoch(&w, idx) != e0);
	watch_release(&w);
	uv_close((uv_handle_t *)&tick, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	unlink(file);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(watch_drain_turn_reads_once_per_loop_turn),
		cmocka_unit_test(
		    watch_sees_a_write_to_the_file_and_not_to_its_neighbours),
		cmocka_unit_test(watch_counts_every_event_for_a_symlink),
		cmocka_unit_test(watch_refuses_what_it_cannot_watch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
