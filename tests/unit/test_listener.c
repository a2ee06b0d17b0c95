#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf/hush_err.h"
#include "broker/listener.h"

struct fixture {
	char	dir[32];
	char	path[128];
	struct conf_client c;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/hush-lst-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/s.sock", f->dir);
	f->c.name = "t";
	f->c.socket = f->path;
	f->c.socket_mode = 0640;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void
listener_binds_with_the_configured_mode(void **state)
{
	struct fixture *f = *state;
	struct listener_file lf;
	struct stat st;
	char err[256];
	int fd;

	assert_int_equal(listener_bind(&f->c, NULL, &fd, &lf, err,
	    sizeof(err)),
	    HUSH_OK);
	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0640);
	close(fd);
	listener_unlink(f->path, &lf);
	assert_int_not_equal(access(f->path, F_OK), 0);
}

static void
listener_replaces_a_stale_socket_and_refuses_a_live_one(void **state)
{
	struct fixture *f = *state;
	struct listener_file lf, lf2;
	struct sockaddr_un sun;
	char err[256];
	int fd, fd2, s;

	/* stale: bound, never listening, closed */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, f->path, strlen(f->path) + 1);
	assert_int_not_equal(s = socket(AF_UNIX, SOCK_STREAM, 0), -1);
	assert_int_equal(bind(s, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(s);
	assert_int_equal(listener_bind(&f->c, NULL, &fd, &lf, err,
	    sizeof(err)),
	    HUSH_OK);
	/* live: ours, listening */
	assert_int_equal(listener_bind(&f->c, NULL, &fd2, &lf2, err,
	    sizeof(err)),
	    HUSH_ERR_IO);
	assert_non_null(strstr(err, "in use by a running listener"));
	close(fd);
	listener_unlink(f->path, &lf);
}

static void
listener_refuses_a_path_too_long_for_sun_path(void **state)
{
	struct fixture *f = *state;
	struct listener_file lf;
	char longp[200], err[256];
	int fd;

	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	f->c.socket = longp;
	assert_int_equal(listener_bind(&f->c, NULL, &fd, &lf, err,
	    sizeof(err)),
	    HUSH_ERR_INVALID);
	assert_non_null(strstr(err, "longer than"));
	f->c.socket = f->path;
}

static void
listener_leaves_a_file_that_is_not_a_socket(void **state)
{
	struct fixture *f = *state;
	struct listener_file lf;
	char err[256];
	FILE *fp;
	int fd;

	assert_non_null(fp = fopen(f->path, "w"));
	fclose(fp);
	assert_int_equal(listener_bind(&f->c, NULL, &fd, &lf, err,
	    sizeof(err)),
	    HUSH_ERR_IO);
	assert_non_null(strstr(err, "not a socket"));
	assert_int_equal(access(f->path, F_OK), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    listener_binds_with_the_configured_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    listener_replaces_a_stale_socket_and_refuses_a_live_one,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    listener_refuses_a_path_too_long_for_sun_path, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    listener_leaves_a_file_that_is_not_a_socket, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
