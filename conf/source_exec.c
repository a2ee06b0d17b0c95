/*
 * _GNU_SOURCE for pipe2 (a pipe made close-on-exec atomically, so a
 * command another thread spawns meanwhile cannot inherit it and hold our
 * read open), posix_spawn_file_actions_addclosefrom_np and waitid's
 * WNOWAIT.
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf/hush_err.h"
#include "conf/source_priv.h"

extern char **environ;

/* How often a command that closed its stdout is checked for its exit. */
#define SOURCE_EXEC_POLL_MIN_MS	1
#define SOURCE_EXEC_POLL_MAX_MS	50

static int
split_is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/*
 * One pass writes the words, each NUL-terminated, into buf (never longer
 * than line + 1: quotes and backslashes only shrink a word, and words are
 * separated by at least one blank) and counts them.
 */
static int
split_words(const char *line, char *buf, size_t *nwordsp, size_t *usedp,
    const char **whyp)
{
	const char *p = line;
	char *o = buf;
	size_t n = 0;

	for (;;) {
		while (split_is_space(*p))
			p++;
		if (*p == '\0')
			break;
		if (++n > SOURCE_EXEC_MAX_ARGS) {
			*whyp = "too many words";
			return HUSH_ERR_INVALID;
		}
		while (*p != '\0' && !split_is_space(*p)) {
			if (*p == '\\') {
				if (p[1] == '\0') {
					*whyp = "trailing backslash";
					return HUSH_ERR_INVALID;
				}
				*o++ = p[1];
				p += 2;
			} else if (*p == '\'') {
				/* Single quotes: everything literal. */
				for (p++; *p != '\'' && *p != '\0'; p++)
					*o++ = *p;
				if (*p != '\'') {
					*whyp = "unbalanced single quote";
					return HUSH_ERR_INVALID;
				}
				p++;
			} else if (*p == '"') {
				/* Double quotes: \" and \\ only, as in sh. */
				for (p++; *p != '"' && *p != '\0'; p++) {
					if (*p == '\\' &&
					    (p[1] == '"' || p[1] == '\\'))
						p++;
					*o++ = *p;
				}
				if (*p != '"') {
					*whyp = "unbalanced double quote";
					return HUSH_ERR_INVALID;
				}
				p++;
			} else
				*o++ = *p++;
		}
		*o++ = '\0';
	}
	if (n == 0) {
		*whyp = "empty command line";
		return HUSH_ERR_INVALID;
	}
	*nwordsp = n;
	*usedp = (size_t)(o - buf);
	return HUSH_OK;
}

int
source_exec_split(const char *line, char ***argvp, const char **whyp)
{
	char *buf = NULL, **argv, *s;
	size_t len = strlen(line), n = 0, used = 0, i;
	int r;

	if ((buf = malloc(len + 1)) == NULL) {
		*whyp = "out of memory";
		return HUSH_ERR_NOMEM;
	}
	if ((r = split_words(line, buf, &n, &used, whyp)) != HUSH_OK)
		goto out;
	/* The pointers and the words in one allocation: one free(). */
	if ((argv = malloc((n + 1) * sizeof(*argv) + used)) == NULL) {
		*whyp = "out of memory";
		r = HUSH_ERR_NOMEM;
		goto out;
	}
	s = (char *)(argv + n + 1);
	memcpy(s, buf, used);
	for (i = 0; i < n; i++) {
		argv[i] = s;
		s += strlen(s) + 1;
	}
	argv[n] = NULL;
	*argvp = argv;
	r = HUSH_OK;
out:
	free(buf);
	return r;
}

static int64_t
exec_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
exec_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	(void)nanosleep(&ts, NULL);
}

/* Reaps pid, retrying on EINTR; the status, or -1. */
static int
exec_reap(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return status;
}

/*
 * Waits until deadline for pid to exit, without reaping it (WNOWAIT), so
 * that its process group still exists for the final kill.
 */
static int
exec_wait_exit(pid_t pid, int64_t deadline)
{
	siginfo_t si;
	int64_t left;
	int step = SOURCE_EXEC_POLL_MIN_MS;

	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG |
		    WNOWAIT) != 0 && errno != EINTR)
			return HUSH_ERR_INTERNAL;
		if (si.si_pid == pid)
			return HUSH_OK;
		if ((left = deadline - exec_now_ms()) <= 0)
			return HUSH_ERR_TIMEOUT;
		exec_sleep_ms(left < step ? (int)left : step);
		if (step < SOURCE_EXEC_POLL_MAX_MS)
			step *= 2;
	}
}

/*
 * Reads fd into sb until EOF, a full buffer (HUSH_ERR_TOO_LARGE) or the
 * deadline (HUSH_ERR_TIMEOUT).
 */
static int
exec_read_output(int fd, struct secbuf *sb, int64_t deadline, int *errnop)
{
	struct pollfd pfd;
	int64_t left;
	ssize_t n;
	int pr;

	for (;;) {
		if (secbuf_len(sb) == secbuf_cap(sb))
			return HUSH_ERR_TOO_LARGE;
		if ((left = deadline - exec_now_ms()) <= 0)
			return HUSH_ERR_TIMEOUT;
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		pr = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0) {
			*errnop = errno;
			return HUSH_ERR_IO;
		}
		if (pr == 0)
			return HUSH_ERR_TIMEOUT;
		n = read(fd, secbuf_mut(sb) + secbuf_len(sb),
		    secbuf_cap(sb) - secbuf_len(sb));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			*errnop = errno;
			return HUSH_ERR_IO;
		}
		if (n == 0)
			return HUSH_OK;
		secbuf_set_len(sb, secbuf_len(sb) + (size_t)n);
	}
}

/* The "NAME=value" entry of hushd's environment for name, or NULL. */
static char *
exec_env_entry(const char *name)
{
	size_t len = strlen(name);
	char **e;

	for (e = environ; e != NULL && *e != NULL; e++)
		if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
			return *e;
	return NULL;
}

/*
 * The command's environment: PATH (a default one when hushd has none),
 * HOME and LANG from hushd's, then each variable c names with env =
 * that is set. Nothing else: hushd's environment holds the values of
 * env: credentials, which a command must not see unless it is given
 * them. The strings are hushd's own; only the array is new (free() it).
 */
static char **
exec_envp(const struct conf_cred *c)
{
	static const char *const base[] = { "PATH", "HOME", "LANG" };
	static char default_path[] = "PATH=/usr/local/bin:/usr/bin:/bin";
	char **envp, *v;
	size_t n = 0, i, j;
	bool dup;

	if ((envp = calloc(3 + c->nenv + 1, sizeof(*envp))) == NULL)
		return NULL;
	for (i = 0; i < 3; i++)
		if ((v = exec_env_entry(base[i])) != NULL)
			envp[n++] = v;
		else if (i == 0)
			envp[n++] = default_path;
	for (i = 0; i < c->nenv; i++) {
		if ((v = exec_env_entry(c->env[i])) == NULL)
			continue;	/* unset: passed on as unset */
		for (dup = false, j = 0; j < n && !dup; j++)
			dup = envp[j] == v;
		if (!dup)
			envp[n++] = v;
	}
	envp[n] = NULL;
	return envp;
}

/*
 * Starts argv in its own process group (so that a timeout kills whatever
 * it started too), with stdin and stderr on /dev/null (stderr may carry
 * secrets and is never read or logged), stdout on outfd, no other
 * descriptor of ours, default signal handling and an empty signal mask.
 * Returns 0 or an errno value.
 */
static int
exec_spawn(char **argv, char **envp, int outfd, pid_t *pidp)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t def, mask;
	int e;

	if ((e = posix_spawn_file_actions_init(&fa)) != 0)
		return e;
	if ((e = posix_spawnattr_init(&at)) != 0) {
		(void)posix_spawn_file_actions_destroy(&fa);
		return e;
	}
	sigfillset(&def);
	sigdelset(&def, SIGKILL);
	sigdelset(&def, SIGSTOP);
	sigemptyset(&mask);
	if ((e = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null",
	    O_RDONLY, 0)) != 0 ||
	    (e = posix_spawn_file_actions_adddup2(&fa, outfd, 1)) != 0 ||
	    (e = posix_spawn_file_actions_addopen(&fa, 2, "/dev/null",
	    O_WRONLY, 0)) != 0 ||
	    (e = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) != 0 ||
	    (e = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)) != 0 ||
	    (e = posix_spawnattr_setpgroup(&at, 0)) != 0 ||
	    (e = posix_spawnattr_setsigdefault(&at, &def)) != 0 ||
	    (e = posix_spawnattr_setsigmask(&at, &mask)) != 0)
		goto out;
	e = posix_spawn(pidp, argv[0], &fa, &at, argv, envp);
out:
	(void)posix_spawnattr_destroy(&at);
	(void)posix_spawn_file_actions_destroy(&fa);
	return e;
}

/*
 * A daemon started with descriptor 0, 1 or 2 closed gets the pipe there.
 * Moving both ends above them keeps the child's file actions (/dev/null on
 * 0 and 2, dup2 onto 1) from ever acting on the pipe itself, whatever the
 * C library does with a dup2 onto the same descriptor.
 */
static int
exec_above_stdio(int pfd[2])
{
	int i, fd;

	for (i = 0; i < 2; i++) {
		if (pfd[i] > STDERR_FILENO)
			continue;
		if ((fd = fcntl(pfd[i], F_DUPFD_CLOEXEC, STDERR_FILENO + 1)) < 0)
			return -1;
		(void)close(pfd[i]);
		pfd[i] = fd;
	}
	return 0;
}

static int
exec_status_error(const struct conf_cred *c, const char *cmd, int status,
    struct source_err *err)
{
	if (status == -1)
		return source_fail(err, c->name, HUSH_ERR_INTERNAL, "exec: "
		    "lost track of %s", cmd);
	if (WIFEXITED(status))
		return source_fail(err, c->name, HUSH_ERR_EXEC, "exec: %s "
		    "exited with status %d", cmd, WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		return source_fail(err, c->name, HUSH_ERR_EXEC, "exec: %s "
		    "was killed by signal %d", cmd, WTERMSIG(status));
	return source_fail(err, c->name, HUSH_ERR_EXEC, "exec: %s failed "
	    "(wait status %d)", cmd, status);
}

int
source_exec_read(const struct conf_cred *c, size_t max, struct secbuf **outp,
    struct source_err *err)
{
	struct secbuf *sb = NULL;
	char **argv = NULL, **envp = NULL;
	const char *why = NULL;
	uint64_t timeout_ms;
	int64_t deadline;
	pid_t pid = -1;
	int pfd[2] = { -1, -1 }, r, e = 0, status;
	size_t len;

	if ((r = source_exec_split(c->arg, &argv, &why)) != HUSH_OK) {
		r = source_fail(err, c->name, r == HUSH_ERR_NOMEM ? r :
		    HUSH_ERR_CONFIG, "exec: %s", why);
		goto out;
	}
	if (argv[0][0] != '/') {
		r = source_fail(err, c->name, HUSH_ERR_CONFIG, "exec: needs an "
		    "absolute path to the command");
		goto out;
	}
	/* Room for max bytes and the newline that is stripped, plus one. */
	if ((sb = secbuf_new(max + 2)) == NULL) {
		r = source_fail(err, c->name, HUSH_ERR_NOMEM, "out of secure "
		    "memory");
		goto out;
	}
	if (pipe2(pfd, O_CLOEXEC) != 0 || exec_above_stdio(pfd) != 0) {
		r = source_fail_errno(err, c->name, HUSH_ERR_IO, errno,
		    "exec: cannot make a pipe");
		goto out;
	}
	timeout_ms = c->timeout_ms > 0 ? c->timeout_ms :
	    CONF_DEFAULT_EXEC_TIMEOUT_MS;
	deadline = exec_now_ms() + (int64_t)timeout_ms;
	if ((envp = exec_envp(c)) == NULL) {
		r = source_fail(err, c->name, HUSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((e = exec_spawn(argv, envp, pfd[1], &pid)) != 0) {
		pid = -1;
		r = source_fail_errno(err, c->name, e == ENOENT ?
		    HUSH_ERR_NOT_FOUND : HUSH_ERR_EXEC, e, "exec: cannot run "
		    "%s", argv[0]);
		goto out;
	}
	(void)close(pfd[1]);
	pfd[1] = -1;

	r = exec_read_output(pfd[0], sb, deadline, &e);
	if (r == HUSH_OK)
		r = exec_wait_exit(pid, deadline);
	/*
	 * Whatever happened, nothing the command started in its group
	 * outlives it. The leader is not reaped yet, so its group id cannot
	 * have been reused.
	 */
	(void)kill(-pid, SIGKILL);
	status = exec_reap(pid);
	pid = -1;
	switch (r) {
	case HUSH_OK:
		break;
	case HUSH_ERR_TIMEOUT:
		r = source_fail(err, c->name, r, "exec: %s killed after the "
		    "timeout (%llu ms)", argv[0],
		    (unsigned long long)timeout_ms);
		goto out;
	case HUSH_ERR_TOO_LARGE:
		r = source_fail(err, c->name, r, "exec: %s output is larger "
		    "than max_size (%zu bytes); killed", argv[0], max);
		goto out;
	case HUSH_ERR_IO:
		r = source_fail_errno(err, c->name, r, e, "exec: cannot read "
		    "the output of %s", argv[0]);
		goto out;
	default:
		r = source_fail(err, c->name, r, "exec: cannot wait for %s",
		    argv[0]);
		goto out;
	}
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		r = exec_status_error(c, argv[0], status, err);
		goto out;
	}
	/* Like $(...), minus only one newline: vault -field=x prints one. */
	len = secbuf_len(sb);
	if (len > 0 && secbuf_data(sb)[len - 1] == '\n')
		secbuf_set_len(sb, --len);
	if (len > max) {
		r = source_fail(err, c->name, HUSH_ERR_TOO_LARGE, "exec: %s "
		    "output is larger than max_size (%zu bytes)", argv[0], max);
		goto out;
	}
	if (len == 0) {
		r = source_fail(err, c->name, HUSH_ERR_INVALID, "exec: %s "
		    "printed nothing", argv[0]);
		goto out;
	}
	*outp = sb;
	sb = NULL;
	r = HUSH_OK;
out:
	if (pid > 0) {
		(void)kill(-pid, SIGKILL);
		(void)exec_reap(pid);
	}
	if (pfd[0] >= 0)
		(void)close(pfd[0]);
	if (pfd[1] >= 0)
		(void)close(pfd[1]);
	secbuf_free(sb);
	free(envp);
	free(argv);
	return r;
}
