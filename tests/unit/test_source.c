/* Credential sources: every kind, every failure, never a value in a message. */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <sodium.h>

#include "conf/conf.h"
#include "conf/hush_err.h"
#include "conf/jsonsec.h"
#include "conf/seal.h"
#include "conf/secbuf.h"
#include "conf/source.h"
#include "conf/source_priv.h"

#define CANARY	"HUSHCANARY"

static char tmpdir[256];
static char datadir[1024];

static int
setup_all(void **state)
{
	const char *d = getenv("HUSH_TEST_DATA");
	char tmpl[] = "/tmp/hush-test-source-XXXXXX";

	(void)state;
	if (hush_harden_process() != HUSH_OK || mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(tmpdir, sizeof(tmpdir), "%s", tmpl);
	if (d != NULL)
		snprintf(datadir, sizeof(datadir), "%s/sources", d);
	else
		snprintf(datadir, sizeof(datadir), "%s", "tests/data/sources");
	return 0;
}

static int
teardown_all(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A path in the per-run temporary directory. */
static char *
tpath(char *buf, size_t len, const char *name)
{
	assert_true((size_t)snprintf(buf, len, "%s/%s", tmpdir, name) < len);
	return buf;
}

/* A fixture in tests/data/sources. */
static char *
dpath(char *buf, size_t len, const char *name)
{
	assert_true((size_t)snprintf(buf, len, "%s/%s", datadir, name) < len);
	return buf;
}

static void
write_file(const char *path, const void *p, size_t len, mode_t mode)
{
	int fd;

	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

#define WRITE_STR(path, str)	write_file((path), (str), strlen(str), 0600)

static void
cred_init(struct conf_cred *c, enum conf_source_kind kind, const char *arg)
{
	memset(c, 0, sizeof(*c));
	c->name = (char *)"test";
	c->kind = kind;
	c->arg = (char *)arg;
	c->max_size = CONF_DEFAULT_MAX_SIZE;
	c->timeout_ms = CONF_DEFAULT_EXEC_TIMEOUT_MS;
}

static void
load_ok(const struct conf_cred *c, const char *want, size_t wantlen)
{
	struct secbuf *sb = NULL;
	struct source_err err;
	int r;

	r = source_load(c, &sb, &err);
	if (r != HUSH_OK)
		print_error("source_load: %s\n", err.msg);
	assert_int_equal(r, HUSH_OK);
	assert_non_null(sb);
	assert_int_equal(secbuf_len(sb), wantlen);
	assert_memory_equal(secbuf_data(sb), want, wantlen);
	secbuf_free(sb);
}

#define LOAD_OK(c, s)	load_ok((c), (s), sizeof(s) - 1)

/* Fails with code, names the credential first, and says why. */
static void
load_fails(const struct conf_cred *c, int code, const char *why)
{
	struct secbuf *sb = NULL;
	struct source_err err;
	char prefix[128];
	int r;

	r = source_load(c, &sb, &err);
	assert_int_equal(r, code);
	assert_null(sb);
	snprintf(prefix, sizeof(prefix), "credential \"%s\": ", c->name);
	assert_int_equal(strncmp(err.msg, prefix, strlen(prefix)), 0);
	if (strstr(err.msg, why) == NULL)
		fail_msg("message \"%s\" does not say \"%s\"", err.msg, why);
	assert_null(strstr(err.msg, CANARY));
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- file: --- */

static void
source_file_serves_whole_content_with_its_newlines(void **state)
{
	struct conf_cred c;
	char p[PATH_MAX];

	(void)state;
	write_file(tpath(p, sizeof(p), "whole"), "line1\nline2\n", 12, 0600);
	cred_init(&c, CONF_SRC_FILE, p);
	LOAD_OK(&c, "line1\nline2\n");
}

static void
source_file_of_exactly_max_size_is_served(void **state)
{
	struct conf_cred c;
	char p[PATH_MAX];

	(void)state;
	write_file(tpath(p, sizeof(p), "exact"), "0123456789abcdef", 16, 0600);
	cred_init(&c, CONF_SRC_FILE, p);
	c.max_size = 16;
	LOAD_OK(&c, "0123456789abcdef");
}

static void
source_file_larger_than_max_size_is_an_error(void **state)
{
	struct conf_cred c;
	char p[PATH_MAX];

	(void)state;
	write_file(tpath(p, sizeof(p), "large"), "0123456789abcdefX", 17, 0600);
	cred_init(&c, CONF_SRC_FILE, p);
	c.max_size = 16;
	load_fails(&c, HUSH_ERR_TOO_LARGE,
	    "source is larger than max_size (16 bytes)");
}

static void
source_file_larger_than_default_max_size_is_an_error(void **state)
{
	struct conf_cred c;
	char p[PATH_MAX];
	char *big;

	(void)state;
	big = malloc(CONF_DEFAULT_MAX_SIZE + 1);
	assert_non_null(big);
	memset(big, 'a', CONF_DEFAULT_MAX_SIZE + 1);
	write_file(tpath(p, sizeof(p), "big"), big, CONF_DEFAULT_MAX_SIZE + 1,
	    0600);
	free(big);
	cred_init(&c, CONF_SRC_FILE, p);
	load_fails(&c, HUSH_ERR_TOO_LARGE,
	    "source is larger than max_size (65536 bytes)");
}

static void
source_file_missing_is_an_error(void **state)
{
	struct conf_cred c;
	char p[PATH_MAX];

	(void)state;
	cred_init(&c, CONF_SRC_FILE, tpath(p, sizeof(p), "no-such-file"));
	load_fails(&c, HUSH_ERR_NOT_FOUND, "No such file or directory");
}

static void
source_file_directory_is_not_a_regular_file(void **state)
{
	struct conf_cred c;

	(void)state;
	cred_init(&c, CONF_SRC_FILE, tmpdir);
	load_fails(&c, HUSH_ERR_INVALID, "is not a regular file");
}

static void
source_file_fifo_is_refused_without_blocking(void **state)
{
	struct conf_cred c;
	char p[PATH_MAX];

	(void)state;
	assert_int_equal(mkfifo(tpath(p, sizeof(p), "fifo"), 0600), 0);
	cred_init(&c, CONF_SRC_FILE, p);
	load_fails(&c, HUSH_ERR_INVALID, "is not a regular file");
}

static void
source_file_empty_is_an_error(void **state)
{
	struct conf_cred c;
	char p[PATH_MAX];

	(void)state;
	write_file(tpath(p, sizeof(p), "empty"), "", 0, 0600);
	cred_init(&c, CONF_SRC_FILE, p);
	load_fails(&c, HUSH_ERR_INVALID, "is empty");
}

/* --- env: --- */

static void
source_env_copies_the_variable(void **state)
{
	struct conf_cred c;

	(void)state;
	assert_int_equal(setenv("HUSH_TEST_ENV_VALUE", "env value 1", 1), 0);
	cred_init(&c, CONF_SRC_ENV, "HUSH_TEST_ENV_VALUE");
	LOAD_OK(&c, "env value 1");
}

static void
source_env_unset_is_an_error(void **state)
{
	struct conf_cred c;

	(void)state;
	unsetenv("HUSH_TEST_ENV_UNSET");
	cred_init(&c, CONF_SRC_ENV, "HUSH_TEST_ENV_UNSET");
	load_fails(&c, HUSH_ERR_NOT_FOUND,
	    "environment variable HUSH_TEST_ENV_UNSET is not set");
}

static void
source_env_empty_is_an_error(void **state)
{
	struct conf_cred c;

	(void)state;
	assert_int_equal(setenv("HUSH_TEST_ENV_EMPTY", "", 1), 0);
	cred_init(&c, CONF_SRC_ENV, "HUSH_TEST_ENV_EMPTY");
	load_fails(&c, HUSH_ERR_INVALID, "is empty");
}

static void
source_env_larger_than_max_size_is_an_error(void **state)
{
	struct conf_cred c;

	(void)state;
	assert_int_equal(setenv("HUSH_TEST_ENV_BIG", "0123456789", 1), 0);
	cred_init(&c, CONF_SRC_ENV, "HUSH_TEST_ENV_BIG");
	c.max_size = 9;
	load_fails(&c, HUSH_ERR_TOO_LARGE, "larger than max_size (9 bytes)");
}

/* --- exec: argv splitting --- */

static void
expect_split(const char *line, const char *const *want)
{
	const char *why = NULL;
	char **argv = NULL;
	size_t i;

	assert_int_equal(source_exec_split(line, &argv, &why), HUSH_OK);
	for (i = 0; want[i] != NULL; i++) {
		assert_non_null(argv[i]);
		assert_string_equal(argv[i], want[i]);
	}
	assert_null(argv[i]);
	free(argv);
}

static void
expect_split_error(const char *line, const char *reason)
{
	const char *why = NULL;
	char **argv = NULL;

	assert_int_equal(source_exec_split(line, &argv, &why),
	    HUSH_ERR_INVALID);
	assert_null(argv);
	assert_non_null(why);
	assert_string_equal(why, reason);
}

static void
source_exec_split_separates_on_whitespace(void **state)
{
	(void)state;
	expect_split("/bin/a b  c\td\n e ",
	    (const char *[]){ "/bin/a", "b", "c", "d", "e", NULL });
	expect_split("  /bin/a", (const char *[]){ "/bin/a", NULL });
}

static void
source_exec_split_single_quotes_are_literal(void **state)
{
	(void)state;
	expect_split("/bin/a 'b c' 'x\\y' '\"'",
	    (const char *[]){ "/bin/a", "b c", "x\\y", "\"", NULL });
}

static void
source_exec_split_double_quotes_take_backslash_escapes(void **state)
{
	(void)state;
	expect_split("/bin/a \"b c\" \"q\\\"q\" \"s\\\\s\" \"n\\n\" \"'\"",
	    (const char *[]){ "/bin/a", "b c", "q\"q", "s\\s", "n\\n", "'",
	    NULL });
}

static void
source_exec_split_backslash_escapes_outside_quotes(void **state)
{
	(void)state;
	expect_split("/bin/a b\\ c \\'d \\\\",
	    (const char *[]){ "/bin/a", "b c", "'d", "\\", NULL });
}

static void
source_exec_split_joins_adjacent_parts_and_keeps_empty_words(void **state)
{
	(void)state;
	expect_split("/bin/a x'y'\"z\" '' \"\"",
	    (const char *[]){ "/bin/a", "xyz", "", "", NULL });
}

static void
source_exec_split_does_not_expand_anything(void **state)
{
	(void)state;
	expect_split("/bin/a $HOME ~ * ; | `x`",
	    (const char *[]){ "/bin/a", "$HOME", "~", "*", ";", "|", "`x`",
	    NULL });
}

static void
source_exec_split_rejects_unbalanced_quotes(void **state)
{
	(void)state;
	expect_split_error("/bin/a 'b", "unbalanced single quote");
	expect_split_error("/bin/a \"b", "unbalanced double quote");
	expect_split_error("/bin/a \"b\\\"", "unbalanced double quote");
	expect_split_error("/bin/a b\\", "trailing backslash");
	expect_split_error("   ", "empty command line");
	expect_split_error("", "empty command line");
}

static void
source_exec_split_rejects_too_many_words(void **state)
{
	char line[SOURCE_EXEC_MAX_ARGS * 2 + 8];
	size_t i;

	(void)state;
	for (i = 0; i < SOURCE_EXEC_MAX_ARGS + 1; i++) {
		line[2 * i] = 'x';
		line[2 * i + 1] = ' ';
	}
	line[2 * i] = '\0';
	expect_split_error(line, "too many words");
}

/* --- exec: running --- */

static void
source_exec_serves_stdout_without_one_trailing_newline(void **state)
{
	struct conf_cred c;

	(void)state;
	cred_init(&c, CONF_SRC_EXEC, "/bin/echo exec-value");
	LOAD_OK(&c, "exec-value");
	cred_init(&c, CONF_SRC_EXEC, "/bin/sh -c 'printf v'");
	LOAD_OK(&c, "v");
}

static void
source_exec_strips_only_one_newline(void **state)
{
	struct conf_cred c;

	(void)state;
	cred_init(&c, CONF_SRC_EXEC, "/bin/sh -c 'printf \"v\\n\\n\"'");
	LOAD_OK(&c, "v\n");
	cred_init(&c, CONF_SRC_EXEC, "/bin/sh -c 'printf \"v\\r\\n\"'");
	LOAD_OK(&c, "v\r");
}

static void
source_exec_runs_no_shell(void **state)
{
	struct conf_cred c;

	(void)state;
	cred_init(&c, CONF_SRC_EXEC, "/bin/echo $HOME ; ls \"a  b\"");
	LOAD_OK(&c, "$HOME ; ls a  b");
}

static void
source_exec_passes_only_path_home_lang_and_listed_variables(void **state)
{
	struct conf_cred c;
	char *env[] = { "HUSH_TEST_EXEC_ENV", NULL };

	(void)state;
	assert_int_equal(setenv("HUSH_TEST_EXEC_ENV", "from-env", 1), 0);
	assert_int_equal(setenv("HUSH_TEST_NOT_LISTED", "hidden", 1), 0);
	/* not listed: not passed on */
	cred_init(&c, CONF_SRC_EXEC, "/bin/sh -c 'printf %s "
	    "\"[$HUSH_TEST_EXEC_ENV][$HUSH_TEST_NOT_LISTED]\"'");
	LOAD_OK(&c, "[][]");
	/* listed with env = */
	c.env = env;
	c.nenv = 1;
	LOAD_OK(&c, "[from-env][]");
	cred_init(&c, CONF_SRC_EXEC, "/bin/sh -c 'printf %s \"${PATH:+path}\"'");
	LOAD_OK(&c, "path");
}

static void
source_exec_stdin_is_dev_null(void **state)
{
	struct conf_cred c;

	(void)state;
	cred_init(&c, CONF_SRC_EXEC,
	    "/bin/sh -c 'if read x; then echo line; else echo eof; fi'");
	LOAD_OK(&c, "eof");
}

static void
source_exec_stderr_is_discarded(void **state)
{
	struct conf_cred c;

	(void)state;
	cred_init(&c, CONF_SRC_EXEC,
	    "/bin/sh -c 'echo " CANARY "-stderr >&2; echo out'");
	LOAD_OK(&c, "out");
}

/* hushd may be started with its standard descriptors closed. */
static void
source_exec_works_with_stdin_and_stdout_closed(void **state)
{
	struct secbuf *sb = NULL;
	struct source_err err;
	struct conf_cred c;
	int save0, save1, r;

	(void)state;
	fflush(stdout);
	assert_true((save0 = fcntl(0, F_DUPFD_CLOEXEC, 10)) >= 0);
	assert_true((save1 = fcntl(1, F_DUPFD_CLOEXEC, 10)) >= 0);
	close(0);
	close(1);
	cred_init(&c, CONF_SRC_EXEC, "/bin/echo closed-stdio");
	r = source_load(&c, &sb, &err);
	assert_int_equal(dup2(save0, 0), 0);
	assert_int_equal(dup2(save1, 1), 1);
	close(save0);
	close(save1);
	if (r != HUSH_OK)
		fail_msg("%s", err.msg);
	assert_int_equal(secbuf_len(sb), 12);
	assert_memory_equal(secbuf_data(sb), "closed-stdio", 12);
	secbuf_free(sb);
}

static void
source_exec_nonzero_exit_is_an_error_naming_the_status(void **state)
{
	struct conf_cred c;

	(void)state;
	cred_init(&c, CONF_SRC_EXEC, "/bin/sh -c 'echo value; exit 3'");
	load_fails(&c, HUSH_ERR_EXEC, "/bin/sh exited with status 3");
}

static void
source_exec_death_by_signal_is_an_error(void **state)
{
	struct conf_cred c;

	(void)state;
	cred_init(&c, CONF_SRC_EXEC, "/bin/sh -c 'echo value; kill -TERM $$'");
	load_fails(&c, HUSH_ERR_EXEC, "/bin/sh was killed by signal 15");
}

static void
source_exec_killed_after_timeout(void **state)
{
	struct conf_cred c;
	int64_t t0;

	(void)state;
	cred_init(&c, CONF_SRC_EXEC, "/bin/sleep 30");
	c.timeout_ms = 200;
	t0 = now_ms();
	load_fails(&c, HUSH_ERR_TIMEOUT, "killed after the timeout (200 ms)");
	assert_true(now_ms() - t0 < 3000);
}

static void
source_exec_that_closes_stdout_is_still_timed(void **state)
{
	struct conf_cred c;
	int64_t t0;

	(void)state;
	cred_init(&c, CONF_SRC_EXEC, "/bin/sh -c 'exec >&-; sleep 30'");
	c.timeout_ms = 200;
	t0 = now_ms();
	load_fails(&c, HUSH_ERR_TIMEOUT, "killed after the timeout");
	assert_true(now_ms() - t0 < 3000);
}

/* Whether pid is gone or a zombie (killed, waiting for init). */
static int
process_is_dead(pid_t pid)
{
	char p[64], buf[256], *rp;
	FILE *f;
	int dead = 1;

	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	if ((f = fopen(p, "r")) == NULL)
		return 1;
	if (fgets(buf, sizeof(buf), f) != NULL &&
	    (rp = strrchr(buf, ')')) != NULL && rp[1] == ' ')
		dead = rp[2] == 'Z' || rp[2] == 'X';
	fclose(f);
	return dead;
}

static pid_t
read_pid(const char *path)
{
	char buf[32] = { 0 };
	FILE *f;
	long v;

	assert_non_null(f = fopen(path, "r"));
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	v = strtol(buf, NULL, 10);
	assert_true(v > 1);
	return (pid_t)v;
}

static void
wait_dead(pid_t pid)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int i;

	for (i = 0; i < 200 && !process_is_dead(pid); i++)
		nanosleep(&ts, NULL);
	if (!process_is_dead(pid)) {
		kill(pid, SIGKILL);
		fail_msg("process %d outlived its exec: source", (int)pid);
	}
}

static void
source_exec_timeout_kills_the_whole_process_group(void **state)
{
	struct conf_cred c;
	char p[PATH_MAX], cmd[PATH_MAX + 96];

	(void)state;
	tpath(p, sizeof(p), "grandchild-timeout.pid");
	snprintf(cmd, sizeof(cmd), "/bin/sh -c 'sleep 30 & echo $! >%s; "
	    "wait'", p);
	cred_init(&c, CONF_SRC_EXEC, cmd);
	c.timeout_ms = 300;
	load_fails(&c, HUSH_ERR_TIMEOUT, "killed after the timeout");
	wait_dead(read_pid(p));
}

static void
source_exec_leaves_no_process_behind_in_its_group(void **state)
{
	struct conf_cred c;
	char p[PATH_MAX], cmd[PATH_MAX + 96];

	(void)state;
	tpath(p, sizeof(p), "grandchild-ok.pid");
	snprintf(cmd, sizeof(cmd), "/bin/sh -c 'sleep 30 >/dev/null & "
	    "echo $! >%s; echo done'", p);
	cred_init(&c, CONF_SRC_EXEC, cmd);
	LOAD_OK(&c, "done");
	wait_dead(read_pid(p));
}

static void
source_exec_output_over_max_size_is_killed_and_an_error(void **state)
{
	struct conf_cred c;
	int64_t t0;

	(void)state;
	cred_init(&c, CONF_SRC_EXEC,
	    "/bin/sh -c 'while :; do echo aaaaaaaaaaaaaaa; done'");
	c.max_size = 1024;
	t0 = now_ms();
	load_fails(&c, HUSH_ERR_TOO_LARGE,
	    "output is larger than max_size (1024 bytes)");
	assert_true(now_ms() - t0 < 3000);
}

static void
source_exec_output_of_max_size_plus_newline_is_served(void **state)
{
	struct conf_cred c;

	(void)state;
	cred_init(&c, CONF_SRC_EXEC, "/bin/echo 0123456789");
	c.max_size = 10;
	LOAD_OK(&c, "0123456789");
	cred_init(&c, CONF_SRC_EXEC, "/bin/sh -c 'printf 0123456789X'");
	c.max_size = 10;
	load_fails(&c, HUSH_ERR_TOO_LARGE, "larger than max_size (10 bytes)");
}

static void
source_exec_empty_output_is_an_error(void **state)
{
	struct conf_cred c;

	(void)state;
	cred_init(&c, CONF_SRC_EXEC, "/bin/echo");
	load_fails(&c, HUSH_ERR_INVALID, "/bin/echo printed nothing");
}

static void
source_exec_missing_command_is_an_error(void **state)
{
	struct conf_cred c;

	(void)state;
	cred_init(&c, CONF_SRC_EXEC, "/nonexistent/hush-cmd arg");
	load_fails(&c, HUSH_ERR_NOT_FOUND, "cannot run /nonexistent/hush-cmd");
}

static void
source_exec_relative_command_is_refused(void **state)
{
	struct conf_cred c;

	(void)state;
	cred_init(&c, CONF_SRC_EXEC, "echo hi");
	load_fails(&c, HUSH_ERR_CONFIG, "absolute path");
}

static void
source_exec_unbalanced_quote_is_an_error(void **state)
{
	struct conf_cred c;

	(void)state;
	cred_init(&c, CONF_SRC_EXEC, "/bin/echo 'abc");
	load_fails(&c, HUSH_ERR_CONFIG, "exec: unbalanced single quote");
}

/* --- sealed: --- */

static void
make_key(const char *name, char *path, size_t len)
{
	struct seal_err err;

	tpath(path, len, name);
	(void)unlink(path);
	assert_int_equal(seal_key_create(path, &err), HUSH_OK);
}

static void
make_sealed(const char *keypath, const char *name, const void *plain,
    size_t plen, char *path, size_t len)
{
	struct secbuf *key = NULL;
	struct seal_err err;
	uint8_t *ct = NULL;
	size_t ctlen = 0;

	assert_int_equal(seal_key_load(keypath, &key, &err), HUSH_OK);
	assert_int_equal(seal_encrypt(key, plain, plen, &ct, &ctlen), HUSH_OK);
	write_file(tpath(path, len, name), ct, ctlen, 0600);
	free(ct);
	secbuf_free(key);
}

static void
source_sealed_decrypts_with_its_key_file(void **state)
{
	struct conf_cred c;
	char k[PATH_MAX], s[PATH_MAX];

	(void)state;
	make_key("sealed-ok.key", k, sizeof(k));
	make_sealed(k, "ok.sealed", "deploy key\n", 11, s, sizeof(s));
	cred_init(&c, CONF_SRC_SEALED, s);
	c.key_file = k;
	LOAD_OK(&c, "deploy key\n");
}

static void
source_sealed_with_wrong_key_is_an_error(void **state)
{
	struct conf_cred c;
	char k1[PATH_MAX], k2[PATH_MAX], s[PATH_MAX];

	(void)state;
	make_key("wrong-1.key", k1, sizeof(k1));
	make_key("wrong-2.key", k2, sizeof(k2));
	make_sealed(k1, "wrong.sealed", CANARY "-sealed",
	    sizeof(CANARY "-sealed") - 1, s, sizeof(s));
	cred_init(&c, CONF_SRC_SEALED, s);
	c.key_file = k2;
	load_fails(&c, HUSH_ERR_CRYPTO, "authentication failed");
}

static void
source_sealed_tampered_file_is_an_error(void **state)
{
	struct conf_cred c;
	char k[PATH_MAX], s[PATH_MAX];
	uint8_t byte;
	int fd;

	(void)state;
	make_key("tamper.key", k, sizeof(k));
	make_sealed(k, "tamper.sealed", CANARY "-sealed",
	    sizeof(CANARY "-sealed") - 1, s, sizeof(s));
	assert_true((fd = open(s, O_RDWR)) >= 0);
	assert_int_equal(pread(fd, &byte, 1, SEAL_OVERHEAD - 16 + 3), 1);
	byte ^= 0x01;
	assert_int_equal(pwrite(fd, &byte, 1, SEAL_OVERHEAD - 16 + 3), 1);
	close(fd);
	cred_init(&c, CONF_SRC_SEALED, s);
	c.key_file = k;
	load_fails(&c, HUSH_ERR_CRYPTO, "authentication failed");
}

static void
source_sealed_key_file_readable_by_others_is_refused(void **state)
{
	struct conf_cred c;
	char k[PATH_MAX], s[PATH_MAX];

	(void)state;
	make_key("open.key", k, sizeof(k));
	make_sealed(k, "open.sealed", "v", 1, s, sizeof(s));
	assert_int_equal(chmod(k, 0640), 0);
	cred_init(&c, CONF_SRC_SEALED, s);
	c.key_file = k;
	load_fails(&c, HUSH_ERR_DENIED, "group or others may access it");
}

static void
source_sealed_plaintext_over_max_size_is_an_error(void **state)
{
	struct conf_cred c;
	char k[PATH_MAX], s[PATH_MAX];

	(void)state;
	make_key("big.key", k, sizeof(k));
	make_sealed(k, "big.sealed", "0123456789", 10, s, sizeof(s));
	cred_init(&c, CONF_SRC_SEALED, s);
	c.key_file = k;
	c.max_size = 9;
	load_fails(&c, HUSH_ERR_TOO_LARGE, "larger than max_size (9 bytes)");
	c.max_size = 10;
	LOAD_OK(&c, "0123456789");
}

static void
source_sealed_file_that_is_not_sealed_is_an_error(void **state)
{
	struct conf_cred c;
	char k[PATH_MAX], s[PATH_MAX];

	(void)state;
	make_key("plain.key", k, sizeof(k));
	WRITE_STR(tpath(s, sizeof(s), "plain.sealed"), CANARY " plain text");
	cred_init(&c, CONF_SRC_SEALED, s);
	c.key_file = k;
	load_fails(&c, HUSH_ERR_INVALID, "not a hush sealed file");
}

static void
source_sealed_without_key_file_is_an_error(void **state)
{
	struct conf_cred c;

	(void)state;
	cred_init(&c, CONF_SRC_SEALED, "/nonexistent.sealed");
	load_fails(&c, HUSH_ERR_CONFIG, "needs key_file");
}

static void
source_sealed_missing_key_file_is_an_error(void **state)
{
	struct conf_cred c;
	char k[PATH_MAX];

	(void)state;
	cred_init(&c, CONF_SRC_SEALED, "/nonexistent.sealed");
	c.key_file = tpath(k, sizeof(k), "no-such.key");
	load_fails(&c, HUSH_ERR_NOT_FOUND, "key file");
}

/* The real commands make the files; source_load opens them. */
static void
source_sealed_file_made_by_hush_seal_decrypts(void **state)
{
	const char *hush = getenv("HUSH");
	struct conf_cred c;
	char k[PATH_MAX], in[PATH_MAX], s[PATH_MAX], cmd[4 * PATH_MAX];

	(void)state;
	if (hush == NULL)
		skip();
	tpath(k, sizeof(k), "cli.key");
	tpath(in, sizeof(in), "cli.plain");
	tpath(s, sizeof(s), "cli.sealed");
	WRITE_STR(in, "{\"password\":\"cli-sealed\"}\n");
	assert_true((size_t)snprintf(cmd, sizeof(cmd), "'%s' keygen -o '%s' "
	    "&& '%s' seal -k '%s' -o '%s' '%s'", hush, k, hush, k, s, in) <
	    sizeof(cmd));
	assert_int_equal(system(cmd), 0);
	cred_init(&c, CONF_SRC_SEALED, s);
	c.key_file = k;
	c.json_field = (char *)"password";
	LOAD_OK(&c, "cli-sealed");
}

/* --- json_field and json_omit --- */

static void
source_json_field_serves_a_string_as_raw_bytes(void **state)
{
	struct conf_cred c;
	char p[PATH_MAX];

	(void)state;
	cred_init(&c, CONF_SRC_FILE, dpath(p, sizeof(p),
	    "claude-credentials.json"));
	c.json_field = (char *)"claudeAiOauth.accessToken";
	LOAD_OK(&c, "sk-ant-oat01-TESTACCESS-not-a-real-token");
}

static void
source_json_field_serves_other_values_as_compact_json(void **state)
{
	struct conf_cred c;
	char p[PATH_MAX];

	(void)state;
	cred_init(&c, CONF_SRC_FILE, dpath(p, sizeof(p),
	    "claude-credentials.json"));
	c.json_field = (char *)"claudeAiOauth.scopes";
	LOAD_OK(&c, "[\"user:inference\",\"user:profile\"]");
	c.json_field = (char *)"claudeAiOauth.expiresAt";
	LOAD_OK(&c, "1767225600000");
	c.json_field = (char *)"claudeAiOauth.isTeam";
	LOAD_OK(&c, "false");
	cred_init(&c, CONF_SRC_FILE, dpath(p, sizeof(p), "codex-auth.json"));
	c.json_field = (char *)"tokens";
	LOAD_OK(&c, "{\"id_token\":\"eyJ.test-id.sig\",\"access_token\":"
	    "\"test-access-token\",\"refresh_token\":\"test-refresh-token\","
	    "\"account_id\":\"acct-test\"}");
}

static void
source_json_field_missing_names_the_path(void **state)
{
	struct conf_cred c;
	char p[PATH_MAX];

	(void)state;
	cred_init(&c, CONF_SRC_FILE, dpath(p, sizeof(p),
	    "claude-credentials.json"));
	c.json_field = (char *)"claudeAiOauth.nope";
	load_fails(&c, HUSH_ERR_NOT_FOUND,
	    "JSON field \"claudeAiOauth.nope\" not found");
	/* Through a string, not an object: missing too. */
	c.json_field = (char *)"claudeAiOauth.accessToken.deeper";
	load_fails(&c, HUSH_ERR_NOT_FOUND,
	    "JSON field \"claudeAiOauth.accessToken.deeper\" not found");
}

static void
source_json_field_null_or_empty_is_an_error(void **state)
{
	struct conf_cred c;
	char p[PATH_MAX];

	(void)state;
	cred_init(&c, CONF_SRC_FILE, dpath(p, sizeof(p), "codex-auth.json"));
	c.json_field = (char *)"OPENAI_API_KEY";
	load_fails(&c, HUSH_ERR_NOT_FOUND,
	    "JSON field \"OPENAI_API_KEY\" is null");
	WRITE_STR(tpath(p, sizeof(p), "empty-field.json"), "{\"a\":\"\"}");
	cred_init(&c, CONF_SRC_FILE, p);
	c.json_field = (char *)"a";
	load_fails(&c, HUSH_ERR_NOT_FOUND, "is an empty string");
}

static void
source_json_omit_removes_nested_fields_keeping_key_order(void **state)
{
	struct conf_cred c;
	char p[PATH_MAX];
	char *omit[] = { (char *)"tokens.refresh_token", NULL };

	(void)state;
	cred_init(&c, CONF_SRC_FILE, dpath(p, sizeof(p), "codex-auth.json"));
	c.json_omit = omit;
	c.njson_omit = 1;
	LOAD_OK(&c, "{\"auth_mode\":\"chatgpt\",\"OPENAI_API_KEY\":null,"
	    "\"tokens\":{\"id_token\":\"eyJ.test-id.sig\",\"access_token\":"
	    "\"test-access-token\",\"account_id\":\"acct-test\"},"
	    "\"last_refresh\":\"2026-11-20T10:00:00Z\"}");
}

static void
source_json_omit_of_missing_fields_is_fine(void **state)
{
	struct conf_cred c;
	char p[PATH_MAX];
	char *omit[] = { (char *)"last_refresh", (char *)"tokens.nope",
	    (char *)"nope.deeper", (char *)"auth_mode.x",
	    (char *)"tokens.id_token", NULL };

	(void)state;
	cred_init(&c, CONF_SRC_FILE, dpath(p, sizeof(p), "codex-auth.json"));
	c.json_omit = omit;
	c.njson_omit = 5;
	LOAD_OK(&c, "{\"auth_mode\":\"chatgpt\",\"OPENAI_API_KEY\":null,"
	    "\"tokens\":{\"access_token\":\"test-access-token\","
	    "\"refresh_token\":\"test-refresh-token\","
	    "\"account_id\":\"acct-test\"}}");
}

static void
source_json_blank_keeps_the_field_as_an_empty_string(void **state)
{
	struct conf_cred c;
	char p[PATH_MAX];
	char *blank[] = { (char *)"tokens.refresh_token", NULL };

	(void)state;
	cred_init(&c, CONF_SRC_FILE, dpath(p, sizeof(p), "codex-auth.json"));
	c.json_blank = blank;
	c.njson_blank = 1;
	/* Codex refuses an auth.json without the key: keep it, empty. */
	LOAD_OK(&c, "{\"auth_mode\":\"chatgpt\",\"OPENAI_API_KEY\":null,"
	    "\"tokens\":{\"id_token\":\"eyJ.test-id.sig\",\"access_token\":"
	    "\"test-access-token\",\"refresh_token\":\"\","
	    "\"account_id\":\"acct-test\"},"
	    "\"last_refresh\":\"2026-11-20T10:00:00Z\"}");
}

static void
source_json_blank_of_missing_fields_invents_nothing(void **state)
{
	struct conf_cred c;
	char p[PATH_MAX];
	char *blank[] = { (char *)"tokens.nope", (char *)"nope.deeper",
	    (char *)"auth_mode.x", (char *)"tokens", NULL };
	char *omit[] = { (char *)"last_refresh", NULL };

	(void)state;
	cred_init(&c, CONF_SRC_FILE, dpath(p, sizeof(p), "codex-auth.json"));
	/* A whole object blanked is "" too: none of its values is served. */
	c.json_blank = blank;
	c.njson_blank = 4;
	c.json_omit = omit;
	c.njson_omit = 1;
	LOAD_OK(&c, "{\"auth_mode\":\"chatgpt\",\"OPENAI_API_KEY\":null,"
	    "\"tokens\":\"\"}");
}

static void
source_not_valid_json_names_the_line_never_the_content(void **state)
{
	struct conf_cred c;
	char p[PATH_MAX];
	char *omit[] = { (char *)"a", NULL };

	(void)state;
	cred_init(&c, CONF_SRC_FILE, dpath(p, sizeof(p), "broken-line3.json"));
	c.json_field = (char *)"a";
	load_fails(&c, HUSH_ERR_INVALID, "not valid JSON (line 3)");
	c.json_field = NULL;
	c.json_omit = omit;
	c.njson_omit = 1;
	load_fails(&c, HUSH_ERR_INVALID, "not valid JSON (line 3)");
}

static void
source_json_with_duplicate_keys_is_refused(void **state)
{
	struct conf_cred c;
	char p[PATH_MAX];

	(void)state;
	cred_init(&c, CONF_SRC_FILE, dpath(p, sizeof(p), "duplicate-keys.json"));
	c.json_field = (char *)"a";
	load_fails(&c, HUSH_ERR_INVALID, "not valid JSON (line 1)");
}

static void
source_json_result_larger_than_max_size_is_an_error(void **state)
{
	static const char doc[] = "{\"a\":[1E2,1E2,1E2,1E2]}";
	struct conf_cred c;
	char p[PATH_MAX];

	(void)state;
	/* 1E2 is re-serialized as 100.0: the result outgrows the document. */
	write_file(tpath(p, sizeof(p), "grows.json"), doc, sizeof(doc) - 1,
	    0600);
	cred_init(&c, CONF_SRC_FILE, p);
	c.json_field = (char *)"a";
	c.max_size = sizeof(doc) - 1;
	load_fails(&c, HUSH_ERR_TOO_LARGE, "larger than max_size");
}

static void
source_json_nested_too_deep_is_an_error_not_a_crash(void **state)
{
	enum { DEPTH = 100000 };
	struct conf_cred c;
	char p[PATH_MAX], *doc;
	size_t i;

	(void)state;
	assert_non_null(doc = malloc(2 * DEPTH));
	for (i = 0; i < DEPTH; i++) {
		doc[i] = '[';
		doc[2 * DEPTH - 1 - i] = ']';
	}
	write_file(tpath(p, sizeof(p), "deep.json"), doc, 2 * DEPTH, 0600);
	free(doc);
	cred_init(&c, CONF_SRC_FILE, p);
	c.max_size = CONF_MAX_SIZE_LIMIT;
	c.json_field = (char *)"a";
	load_fails(&c, HUSH_ERR_INVALID, "not valid JSON (line 1)");
}

static void
source_json_field_applies_to_exec_and_env_too(void **state)
{
	struct conf_cred c;
	char p[PATH_MAX], cmd[PATH_MAX + 16];

	(void)state;
	assert_true((size_t)snprintf(cmd, sizeof(cmd), "/bin/cat %s",
	    dpath(p, sizeof(p), "claude-credentials.json")) < sizeof(cmd));
	cred_init(&c, CONF_SRC_EXEC, cmd);
	c.json_field = (char *)"claudeAiOauth.subscriptionType";
	LOAD_OK(&c, "max");
	assert_int_equal(setenv("HUSH_TEST_ENV_JSON",
	    "{\"k\":{\"v\":\"env-json\"}}", 1), 0);
	cred_init(&c, CONF_SRC_ENV, "HUSH_TEST_ENV_JSON");
	c.json_field = (char *)"k.v";
	LOAD_OK(&c, "env-json");
}

static void
jsonsec_wiping_allocator_is_installed_before_main(void **state)
{
	json_malloc_t m = NULL;
	json_free_t f = NULL;

	(void)state;
	/* Runs first: no source_load has had a chance to install it. */
	json_get_alloc_funcs(&m, &f);
	assert_non_null(m);
	assert_true(m != malloc);
	assert_true(f != free);
}

/* --- no value in any message --- */

static void
source_errors_never_contain_the_value(void **state)
{
	char big[PATH_MAX], bad[PATH_MAX], doc[PATH_MAX], k1[PATH_MAX],
	    k2[PATH_MAX], sealed[PATH_MAX], badkey[PATH_MAX];
	struct conf_cred c;
	struct {
		enum conf_source_kind kind;
		const char *arg;
		const char *field;
		uint64_t max;
		uint64_t timeout;
		const char *key;
	} cases[16];
	size_t n = 0, i;
	struct secbuf *sb;
	struct source_err err;
	static const char keytext[] =
	    "hush-key-v1:" CANARY "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n";

	(void)state;
	WRITE_STR(tpath(big, sizeof(big), "leak-big"), CANARY "-file-big");
	WRITE_STR(tpath(bad, sizeof(bad), "leak-bad.json"),
	    "{\"a\": " CANARY "-json}");
	WRITE_STR(tpath(doc, sizeof(doc), "leak-doc.json"),
	    "{\"a\": \"" CANARY "-doc\", \"n\": null}");
	write_file(tpath(badkey, sizeof(badkey), "leak-bad.key"), keytext,
	    sizeof(keytext) - 1, 0600);
	make_key("leak-1.key", k1, sizeof(k1));
	make_key("leak-2.key", k2, sizeof(k2));
	make_sealed(k1, "leak.sealed", CANARY "-sealed",
	    sizeof(CANARY "-sealed") - 1, sealed, sizeof(sealed));
	assert_int_equal(setenv("HUSH_TEST_LEAK_ENV", CANARY "-env-value", 1),
	    0);
	assert_int_equal(setenv("HUSH_TEST_LEAK_ENV_JSON",
	    "[" CANARY "-env-json", 1), 0);

#define CASE(k, a, f, m, t, ky) do {					\
	cases[n].kind = (k); cases[n].arg = (a); cases[n].field = (f);	\
	cases[n].max = (m); cases[n].timeout = (t); cases[n].key = (ky);\
	n++;								\
} while (0)
	CASE(CONF_SRC_FILE, big, NULL, 8, 0, NULL);
	CASE(CONF_SRC_FILE, bad, "a", 0, 0, NULL);
	CASE(CONF_SRC_FILE, doc, "b", 0, 0, NULL);
	CASE(CONF_SRC_FILE, doc, "n", 0, 0, NULL);
	CASE(CONF_SRC_FILE, doc, "a.x", 0, 0, NULL);
	CASE(CONF_SRC_ENV, "HUSH_TEST_LEAK_ENV", NULL, 8, 0, NULL);
	CASE(CONF_SRC_ENV, "HUSH_TEST_LEAK_ENV_JSON", "a", 0, 0, NULL);
	CASE(CONF_SRC_EXEC, "/bin/sh -c 'echo " CANARY "-err >&2; exit 7'",
	    NULL, 0, 0, NULL);
	CASE(CONF_SRC_EXEC, "/bin/sh -c 'echo " CANARY "-out; exit 1'",
	    NULL, 0, 0, NULL);
	CASE(CONF_SRC_EXEC, "/bin/sh -c 'echo " CANARY "-slow; sleep 30'",
	    NULL, 0, 200, NULL);
	CASE(CONF_SRC_EXEC, "/bin/sh -c 'while :; do echo " CANARY "; done'",
	    NULL, 64, 0, NULL);
	CASE(CONF_SRC_EXEC, "/bin/sh -c 'echo " CANARY "-sig; kill -9 $$'",
	    NULL, 0, 0, NULL);
	CASE(CONF_SRC_EXEC, "/bin/echo {" CANARY "-exec-json", "a", 0, 0,
	    NULL);
	CASE(CONF_SRC_SEALED, sealed, NULL, 0, 0, k2);
	CASE(CONF_SRC_SEALED, sealed, NULL, 4, 0, k1);
	CASE(CONF_SRC_SEALED, sealed, NULL, 0, 0, badkey);
#undef CASE
	for (i = 0; i < n; i++) {
		cred_init(&c, cases[i].kind, cases[i].arg);
		c.name = (char *)"leak";
		c.json_field = (char *)cases[i].field;
		if (cases[i].max != 0)
			c.max_size = cases[i].max;
		if (cases[i].timeout != 0)
			c.timeout_ms = cases[i].timeout;
		c.key_file = (char *)cases[i].key;
		sb = NULL;
		memset(&err, 0, sizeof(err));
		if (source_load(&c, &sb, &err) == HUSH_OK)
			fail_msg("case %zu did not fail", i);
		assert_null(sb);
		assert_int_equal(strncmp(err.msg, "credential \"leak\": ", 19),
		    0);
		assert_true(strlen(err.msg) > 19);
		if (strstr(err.msg, CANARY) != NULL)
			fail_msg("case %zu leaks: %s", i, err.msg);
	}
}

/* --- threads --- */

struct thread_arg {
	const struct conf_cred	*c;
	const char		*want;
	int			 failures;
};

static void *
load_many(void *p)
{
	struct thread_arg *a = p;
	struct source_err err;
	struct secbuf *sb;
	int i;

	for (i = 0; i < 20; i++) {
		sb = NULL;
		if (source_load(a->c, &sb, &err) != HUSH_OK ||
		    secbuf_len(sb) != strlen(a->want) ||
		    memcmp(secbuf_data(sb), a->want, strlen(a->want)) != 0)
			a->failures++;
		secbuf_free(sb);
	}
	return NULL;
}

static void
source_load_is_safe_from_many_threads(void **state)
{
	struct conf_cred json, exec;
	struct thread_arg args[4];
	pthread_t t[4];
	char p[PATH_MAX];
	int i;

	(void)state;
	cred_init(&json, CONF_SRC_FILE, dpath(p, sizeof(p),
	    "claude-credentials.json"));
	json.json_field = (char *)"claudeAiOauth.accessToken";
	cred_init(&exec, CONF_SRC_EXEC, "/bin/echo threaded");
	for (i = 0; i < 4; i++) {
		args[i].c = i % 2 ? &exec : &json;
		args[i].want = i % 2 ? "threaded" :
		    "sk-ant-oat01-TESTACCESS-not-a-real-token";
		args[i].failures = 0;
		assert_int_equal(pthread_create(&t[i], NULL, load_many,
		    &args[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(args[i].failures, 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(jsonsec_wiping_allocator_is_installed_before_main),
		cmocka_unit_test(source_file_serves_whole_content_with_its_newlines),
		cmocka_unit_test(source_file_of_exactly_max_size_is_served),
		cmocka_unit_test(source_file_larger_than_max_size_is_an_error),
		cmocka_unit_test(source_file_larger_than_default_max_size_is_an_error),
		cmocka_unit_test(source_file_missing_is_an_error),
		cmocka_unit_test(source_file_directory_is_not_a_regular_file),
		cmocka_unit_test(source_file_fifo_is_refused_without_blocking),
		cmocka_unit_test(source_file_empty_is_an_error),
		cmocka_unit_test(source_env_copies_the_variable),
		cmocka_unit_test(source_env_unset_is_an_error),
		cmocka_unit_test(source_env_empty_is_an_error),
		cmocka_unit_test(source_env_larger_than_max_size_is_an_error),
		cmocka_unit_test(source_exec_split_separates_on_whitespace),
		cmocka_unit_test(source_exec_split_single_quotes_are_literal),
		cmocka_unit_test(source_exec_split_double_quotes_take_backslash_escapes),
		cmocka_unit_test(source_exec_split_backslash_escapes_outside_quotes),
		cmocka_unit_test(source_exec_split_joins_adjacent_parts_and_keeps_empty_words),
		cmocka_unit_test(source_exec_split_does_not_expand_anything),
		cmocka_unit_test(source_exec_split_rejects_unbalanced_quotes),
		cmocka_unit_test(source_exec_split_rejects_too_many_words),
		cmocka_unit_test(source_exec_serves_stdout_without_one_trailing_newline),
		cmocka_unit_test(source_exec_strips_only_one_newline),
		cmocka_unit_test(source_exec_runs_no_shell),
		cmocka_unit_test(source_exec_passes_only_path_home_lang_and_listed_variables),
		cmocka_unit_test(source_exec_stdin_is_dev_null),
		cmocka_unit_test(source_exec_stderr_is_discarded),
		cmocka_unit_test(source_exec_works_with_stdin_and_stdout_closed),
		cmocka_unit_test(source_exec_nonzero_exit_is_an_error_naming_the_status),
		cmocka_unit_test(source_exec_death_by_signal_is_an_error),
		cmocka_unit_test(source_exec_killed_after_timeout),
		cmocka_unit_test(source_exec_that_closes_stdout_is_still_timed),
		cmocka_unit_test(source_exec_timeout_kills_the_whole_process_group),
		cmocka_unit_test(source_exec_leaves_no_process_behind_in_its_group),
		cmocka_unit_test(source_exec_output_over_max_size_is_killed_and_an_error),
		cmocka_unit_test(source_exec_output_of_max_size_plus_newline_is_served),
		cmocka_unit_test(source_exec_empty_output_is_an_error),
		cmocka_unit_test(source_exec_missing_command_is_an_error),
		cmocka_unit_test(source_exec_relative_command_is_refused),
		cmocka_unit_test(source_exec_unbalanced_quote_is_an_error),
		cmocka_unit_test(source_sealed_decrypts_with_its_key_file),
		cmocka_unit_test(source_sealed_with_wrong_key_is_an_error),
		cmocka_unit_test(source_sealed_tampered_file_is_an_error),
		cmocka_unit_test(source_sealed_key_file_readable_by_others_is_refused),
		cmocka_unit_test(source_sealed_plaintext_over_max_size_is_an_error),
		cmocka_unit_test(source_sealed_file_that_is_not_sealed_is_an_error),
		cmocka_unit_test(source_sealed_without_key_file_is_an_error),
		cmocka_unit_test(source_sealed_missing_key_file_is_an_error),
		cmocka_unit_test(source_sealed_file_made_by_hush_seal_decrypts),
		cmocka_unit_test(source_json_field_serves_a_string_as_raw_bytes),
		cmocka_unit_test(source_json_field_serves_other_values_as_compact_json),
		cmocka_unit_test(source_json_field_missing_names_the_path),
		cmocka_unit_test(source_json_field_null_or_empty_is_an_error),
		cmocka_unit_test(source_json_omit_removes_nested_fields_keeping_key_order),
		cmocka_unit_test(source_json_omit_of_missing_fields_is_fine),
		cmocka_unit_test(source_json_blank_keeps_the_field_as_an_empty_string),
		cmocka_unit_test(source_json_blank_of_missing_fields_invents_nothing),
		cmocka_unit_test(source_not_valid_json_names_the_line_never_the_content),
		cmocka_unit_test(source_json_with_duplicate_keys_is_refused),
		cmocka_unit_test(source_json_result_larger_than_max_size_is_an_error),
		cmocka_unit_test(source_json_nested_too_deep_is_an_error_not_a_crash),
		cmocka_unit_test(source_json_field_applies_to_exec_and_env_too),
		cmocka_unit_test(source_errors_never_contain_the_value),
		cmocka_unit_test(source_load_is_safe_from_many_threads),
	};

	return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
