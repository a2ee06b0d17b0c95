/*
 * hush exec: run a command with credentials, its output redacted.
 *
 * The values are fetched first (any failure runs nothing). -e values are
 * put in the environment in the child only, so the parent keeps them in
 * secbufs alone; -f values are written to 0400 files in a private 0700
 * directory, removed when the child is done. The child's stdout and
 * stderr come back through pipes and leave through redaction streams that
 * know every fetched value.
 *
 * The files must not outlive the child even when hush itself is killed
 * (kill -9 leaves no chance to clean up): a small reaper process, forked
 * before the files are written, holds a pidfd of the child and removes
 * the files and the directory when the child exits, whoever waits for it.
 * The child waits on a pipe until the files are written, so there is no
 * moment with files on disk and nobody to remove them.
 */
/* _GNU_SOURCE for closefrom; pidfd_open is Linux's (glibc 2.36). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf/fdio.h"
#include "conf/hush_err.h"
#include "broker/client/client.h"
#include "broker/client/forward.h"
#include "conf/api.h"
#include "redact/redact.h"

#define EXEC_MAX_CREDS	64
/* --upstream options: one forwarder each */
#define EXEC_MAX_UPSTREAMS	8
#define EXEC_CHUNK	65536

struct exec_cred {
	char		*var;		/* points into argv */
	const char	*name;
	bool		 file;
	struct secbuf	*value;		/* shared by options naming one credential */
	char		 path[PATH_MAX];	/* -f: dir/NAME, one file a credential */
};

struct exec_out {
	int			 fd;	/* ours: 1 or 2 */
	int			 from;	/* the child's pipe, or -1 at EOF */
	struct redact_stream	*rs;
	bool			 broken;
	bool			 idled;	/* its held partial line was shown */
};

static volatile pid_t exec_child = -1;

static void
exec_on_signal(int sig)
{
	int saved = errno;

	if (exec_child > 0)
		(void)kill(exec_child, sig);
	errno = saved;
}

static int
exec_sink(void *arg, const uint8_t *buf, size_t len)
{
	struct exec_out *o = arg;

	/* On a broken output keep draining the child, writing nothing. */
	if (!o->broken && fdio_write_all(o->fd, buf, len) != 0)
		o->broken = true;
	return 0;
}

/* "VAR=NAME" into c (argv is modified: '=' becomes NUL). */
static int
exec_parse(char *arg, bool file, struct exec_cred *c)
{
	char *eq = strchr(arg, '=');
	size_t i;

	if (eq == NULL || eq == arg)
		return HUSH_ERR_INVALID;
	for (i = 0; arg + i < eq; i++)
		if (!(arg[i] == '_' || (arg[i] >= 'A' && arg[i] <= 'Z') ||
		    (arg[i] >= 'a' && arg[i] <= 'z') ||
		    (i > 0 && arg[i] >= '0' && arg[i] <= '9')))
			return HUSH_ERR_INVALID;
	*eq = '\0';
	c->var = arg;
	c->name = eq + 1;
	c->file = file;
	if (!api_name_ok(c->name, strlen(c->name)))
		return HUSH_ERR_INVALID;
	return HUSH_OK;
}

/* A private directory for -f files: under $XDG_RUNTIME_DIR or $TMPDIR. */
static int
exec_mkdir(char *dir, size_t cap)
{
	const char *base = getenv("XDG_RUNTIME_DIR");
	int n;

	if (base == NULL || *base == '\0')
		base = getenv("TMPDIR");
	if (base == NULL || *base == '\0')
		base = "/tmp";
	n = snprintf(dir, cap, "%s/hush-exec.XXXXXX", base);
	if (n < 0 || (size_t)n >= cap || mkdtemp(dir) == NULL) {
		hush_errf("hush exec", "cannot create a private directory "
		    "under %s: %s", base, strerror(errno));
		return HUSH_ERR_IO;
	}
	return HUSH_OK;
}

/* dir/NAME: one file per credential, however many variables name it. */
static int
exec_file_path(const char *dir, struct exec_cred *c)
{
	int n = snprintf(c->path, sizeof(c->path), "%s/%s", dir, c->name);

	if (n < 0 || (size_t)n >= sizeof(c->path)) {
		c->path[0] = '\0';
		hush_errf("hush exec", "%s/%s: path too long", dir,
		    c->name);
		return HUSH_ERR_TOO_LARGE;
	}
	return HUSH_OK;
}

static int
exec_write_file(struct exec_cred *c)
{
	const uint8_t *p = secbuf_data(c->value);
	size_t len = secbuf_len(c->value);
	int fd;

	/* born 0400 whatever the umask: there is no moment it is wider */
	if ((fd = open(c->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0400)) == -1 || fchmod(fd, 0400) != 0) {
		hush_errf("hush exec", "%s: %s", c->path,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return HUSH_ERR_IO;
	}
	if (fdio_write_all(fd, p, len) != 0) {
		hush_errf("hush exec", "%s: %s", c->path,
		    strerror(errno));
		close(fd);
		return HUSH_ERR_IO;
	}
	return close(fd) == 0 ? HUSH_OK : HUSH_ERR_IO;
}

/*
 * Removes the -f files and their directory; safe to run twice, and from
 * the reaper, which was forked before the files were written. The paths
 * are in hush's private directory: nothing else can be there.
 */
static void
exec_remove_files(struct exec_cred *creds, size_t n, const char *dir)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (creds[i].file && creds[i].path[0] != '\0')
			(void)unlink(creds[i].path);
	if (dir[0] != '\0')
		(void)rmdir(dir);
}

/*
 * The reaper: in its own process group, deaf to the signals a terminal or
 * a supervisor sends to hush's group, holding nothing of hush's but the
 * child's pidfd. It waits for the child to exit, whether or not hush is
 * still there, then removes the files. Never returns.
 */
static void
exec_reaper_run(int pidfd, struct exec_cred *creds, size_t n,
    const char *dir)
{
	static const int deaf[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP,
	    SIGTTIN, SIGTTOU, SIGPIPE, SIGUSR1, SIGUSR2 };
	struct pollfd pfd;
	size_t i;
	int fd;

	(void)setpgid(0, 0);
	for (i = 0; i < sizeof(deaf) / sizeof(deaf[0]); i++)
		(void)signal(deaf[i], SIG_IGN);
	/* its copy of the values: wiped now, it needs only the paths */
	for (i = 0; i < n; i++) {
		secbuf_unref(creds[i].value);
		creds[i].value = NULL;
	}
	/* no pipe of hush's (or the terminal) kept open by the reaper */
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		(void)dup2(fd, STDERR_FILENO);
	}
	if (dup2(pidfd, 3) != 3)
		_exit(1);
	closefrom(4);
	pfd.fd = 3;
	pfd.events = POLLIN;
	while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
		;
	exec_remove_files(creds, n, dir);
	_exit(0);
}

/* In the child: the environment, then the command. Never returns. */
static void
exec_child_run(struct exec_cred *creds, size_t n, int out, int err, int go,
    char **cmd)
{
	const uint8_t *p;
	char *v, c;
	size_t i, len;
	ssize_t r;

	/* the files are written (and the reaper watches) before the exec */
	while ((r = read(go, &c, 1)) < 0 && errno == EINTR)
		;
	if (r != 1)
		_exit(127);
	if (dup2(out, STDOUT_FILENO) == -1 || dup2(err, STDERR_FILENO) == -1)
		_exit(127);
	for (i = 0; i < n; i++) {
		if (creds[i].file) {
			v = creds[i].path;
		} else {
			/*
			 * the environment is a C string: the child's copy,
			 * without one trailing newline, which no header value
			 * (the usual use of such a variable) may hold
			 */
			p = secbuf_data(creds[i].value);
			len = secbuf_len(creds[i].value);
			if (len > 0 && p[len - 1] == '\n')
				len--;
			if ((v = malloc(len + 1)) == NULL)
				_exit(127);
			memcpy(v, p, len);
			v[len] = '\0';
		}
		if (setenv(creds[i].var, v, 1) != 0)
			_exit(127);
	}
	execvp(cmd[0], cmd);
	hush_errf("hush exec", "%s: %s", cmd[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/*
 * Whether a stream holds a partial line not yet shown: poll then waits
 * REDACT_IDLE_MS only, so that a prompt goes out while the child waits.
 */
static bool
exec_holding(const struct exec_out *o)
{
	return o->from != -1 && !o->idled && redact_stream_holding(o->rs);
}

/* Copies the child's output through the streams until both pipes end. */
static void
exec_pump(struct exec_out *outs)
{
	uint8_t *buf;
	struct pollfd pfd[2];
	nfds_t n;
	ssize_t r;
	int i, pr;

	if ((buf = malloc(EXEC_CHUNK)) == NULL)
		return;
	while (outs[0].from != -1 || outs[1].from != -1) {
		n = 0;
		for (i = 0; i < 2; i++) {
			pfd[i].fd = outs[i].from;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
			n++;
		}
		pr = poll(pfd, n, exec_holding(&outs[0]) ||
		    exec_holding(&outs[1]) ? REDACT_IDLE_MS : -1);
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pr == 0) {
			/* once per pause: what stays held waits for input */
			for (i = 0; i < 2; i++)
				if (exec_holding(&outs[i])) {
					outs[i].idled = true;
					(void)redact_stream_idle(outs[i].rs);
				}
			continue;
		}
		for (i = 0; i < 2; i++) {
			if (outs[i].from == -1 || pfd[i].revents == 0)
				continue;
			r = read(outs[i].from, buf, EXEC_CHUNK);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				(void)redact_stream_finish(outs[i].rs);
				close(outs[i].from);
				outs[i].from = -1;
				continue;
			}
			outs[i].idled = false;
			(void)redact_stream_feed(outs[i].rs, buf, (size_t)r);
		}
	}
	free(buf);
}

/*
 * Forks the reaper for child pid. Without pidfds (Linux < 5.3) or a
 * fork, hush still removes the files itself, unless it is killed: said
 * once on stderr.
 */
static void
exec_start_reaper(pid_t pid, struct exec_cred *creds, size_t n,
    const char *dir, pid_t *reaperp)
{
	pid_t r;
	int pidfd;

	/* the child is not reaped before hush waits: its pid is its own */
	if ((pidfd = pidfd_open(pid, 0)) < 0) {
		hush_errf("hush exec", "warning: cannot watch the command "
		    "(%s); its -f files are removed only if hush is not "
		    "killed", strerror(errno));
		return;
	}
	if ((r = fork()) == -1)
		hush_errf("hush exec", "warning: cannot start the reaper "
		    "(%s); -f files are removed only if hush is not "
		    "killed", strerror(errno));
	else if (r == 0)
		exec_reaper_run(pidfd, creds, n, dir);
	else
		*reaperp = r;
	close(pidfd);
}

int
client_exec_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "env", required_argument, NULL, 'e' },
		{ "file", required_argument, NULL, 'f' },
		{ "upstream", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static const int fwd[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1,
	    SIGUSR2, SIGWINCH, SIGCONT, SIGTSTP };
	struct exec_cred creds[EXEC_MAX_CREDS];
	struct exec_out outs[2] = { { 1, -1, NULL, false, false },
	    { 2, -1, NULL, false, false } };
	struct redact_rules *rules = NULL;
	struct conf_errs errs;
	struct sigaction sa;
	const char *sock = NULL;
	char dir[PATH_MAX] = "", lit[API_MAX_NAME + 16];
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, go[2] = { -1, -1 };
	size_t n = 0, i, j;
	bool files = false, ok = true;
	int c, status = 0, rc = HUSH_EXIT_FAIL;
	pid_t pid, w, reaper = -1, fwd_pid[EXEC_MAX_UPSTREAMS];
	char up_name[EXEC_MAX_UPSTREAMS][API_MAX_NAME + 1];
	struct forward_env up_env[EXEC_MAX_UPSTREAMS];
	size_t nup = 0, k;

	memset(creds, 0, sizeof(creds));
	conf_errs_init(&errs);
	/*
	 * An inherited SIG_IGN for SIGCHLD makes the kernel reap the child
	 * itself, and waitpid then fails: the child's status is needed.
	 */
	(void)signal(SIGCHLD, SIG_DFL);
	while ((c = getopt_long(argc, argv, "+s:e:f:u:h", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			if (nup == EXEC_MAX_UPSTREAMS || forward_parse(optarg,
			    up_name[nup], sizeof(up_name[nup]), &up_env[nup]) !=
			    HUSH_OK) {
				hush_errf("hush exec", "--upstream %s: want "
				    "NAME[=URLVAR[,KEYVAR]] (at most %d)",
				    optarg, EXEC_MAX_UPSTREAMS);
				rc = HUSH_EXIT_USAGE;
				goto out;
			}
			for (k = 0; k < nup; k++)
				if (strcmp(up_name[k], up_name[nup]) == 0)
					break;
			if (k < nup) {
				hush_errf("hush exec", "--upstream %s is "
				    "given twice", up_name[nup]);
				rc = HUSH_EXIT_USAGE;
				goto out;
			}
			fwd_pid[nup++] = -1;
			break;
		case 's':
			sock = optarg;
			break;
		case 'e':
		case 'f':
			if (n == EXEC_MAX_CREDS ||
			    exec_parse(optarg, c == 'f', &creds[n]) !=
			    HUSH_OK) {
				hush_errf("hush exec", "-%c %s: want "
				    "VAR=NAME", c, optarg);
				rc = HUSH_EXIT_USAGE;
				goto out;
			}
			for (j = 0; j < n; j++)
				if (strcmp(creds[j].var, creds[n].var) == 0)
					break;
			if (j < n) {
				hush_errf("hush exec", "%s is given twice",
				    creds[n].var);
				rc = HUSH_EXIT_USAGE;
				goto out;
			}
			files |= c == 'f';
			n++;
			break;
		case 'h':
			printf("usage: hush exec [-s SOCKET] [-e VAR=NAME]... "
			    "[-f VAR=NAME]... [--upstream NAME[=URLVAR[,KEYVAR]]]..."
			    " -- COMMAND [ARG]...\n");
			rc = HUSH_EXIT_OK;
			goto out;
		default:
			rc = HUSH_EXIT_USAGE;
			goto usage;
		}
	}
	if (optind >= argc) {
		rc = HUSH_EXIT_USAGE;
		goto usage;
	}
	sock = client_socket(sock);
	for (i = 0; i < n; i++) {
		/* one credential in several options: fetched once */
		for (j = 0; j < i; j++)
			if (strcmp(creds[j].name, creds[i].name) == 0)
				break;
		if (j < i)
			creds[i].value = secbuf_ref(creds[j].value);
		else if (client_credential(sock, creds[i].name, "exec",
		    &creds[i].value) != HUSH_OK)
			goto out;
		/* an environment value ends at its first NUL: never cut it */
		if (!creds[i].file && memchr(secbuf_data(creds[i].value), '\0',
		    secbuf_len(creds[i].value)) != NULL) {
			hush_errf("hush exec", "%s holds a NUL byte and "
			    "cannot be an environment value; use -f",
			    creds[i].name);
			goto out;
		}
	}
	/* the names are hushd's: every upstream is asked before anything
	 * starts, so a refusal runs nothing */
	for (k = 0; k < nup; k++)
		if (forward_names(sock, up_name[k], "exec", &up_env[k]) !=
		    HUSH_OK)
			goto out;
	for (k = 0; k < nup; k++) {
		/* the tool gets a URL and a placeholder, never the key */
		unsigned port;

		if (forward_spawn(sock, up_name[k], &port, &fwd_pid[k]) !=
		    HUSH_OK || forward_setenv(&up_env[k], "127.0.0.1", port,
		    "exec") != HUSH_OK)
			goto out;
	}
	if ((rules = redact_rules_new(NULL, 0, &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			hush_errf("hush exec", "%s", errs.msgs[i]);
		goto out;
	}
	for (i = 0; i < n; i++) {
		const uint8_t *p = secbuf_data(creds[i].value);
		size_t len = secbuf_len(creds[i].value);

		for (j = 0; j < i; j++)
			if (creds[j].value == creds[i].value)
				break;
		if (j < i)
			continue;
		snprintf(lit, sizeof(lit), "credential:%s", creds[i].name);
		if (redact_rules_add_literal(rules, lit, p, len) != HUSH_OK)
			hush_errf("hush exec", "warning: %s is too short "
			    "to be masked in the output", creds[i].name);
		/* -e hands it over without its trailing newline: mask that */
		if (len > 1 && p[len - 1] == '\n')
			(void)redact_rules_add_literal(rules, lit, p, len - 1);
	}
	if (redact_rules_compile(rules) != HUSH_OK ||
	    (outs[0].rs = redact_stream_new(rules, exec_sink, &outs[0])) ==
	    NULL ||
	    (outs[1].rs = redact_stream_new(rules, exec_sink, &outs[1])) ==
	    NULL) {
		hush_errf("hush exec", "cannot set up redaction");
		goto out;
	}
	if (files) {
		if (exec_mkdir(dir, sizeof(dir)) != HUSH_OK)
			goto out;
		for (i = 0; i < n; i++)
			if (creds[i].file &&
			    exec_file_path(dir, &creds[i]) != HUSH_OK)
				goto out;
	}
	/* close-on-exec: the child gets them only through dup2 */
	if (pipe(po) != 0 || pipe(pe) != 0 || pipe(go) != 0 ||
	    fcntl(po[0], F_SETFD, FD_CLOEXEC) != 0 ||
	    fcntl(po[1], F_SETFD, FD_CLOEXEC) != 0 ||
	    fcntl(pe[0], F_SETFD, FD_CLOEXEC) != 0 ||
	    fcntl(pe[1], F_SETFD, FD_CLOEXEC) != 0 ||
	    fcntl(go[0], F_SETFD, FD_CLOEXEC) != 0 ||
	    fcntl(go[1], F_SETFD, FD_CLOEXEC) != 0) {
		hush_errf("hush exec", "pipe: %s", strerror(errno));
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = exec_on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	fflush(NULL);
	if ((pid = fork()) == -1) {
		hush_errf("hush exec", "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		/* hush's death must read as EOF: no write end of go here */
		close(go[1]);
		exec_child_run(creds, n, po[1], pe[1], go[0], argv + optind);
	}
	exec_child = pid;
	close(go[0]);
	go[0] = -1;
	if (files) {
		exec_start_reaper(pid, creds, n, dir, &reaper);
		for (i = 0; i < n && ok; i++) {
			for (j = 0; j < i; j++)
				if (creds[j].file && strcmp(creds[j].name,
				    creds[i].name) == 0)
					break;
			if (creds[i].file && j == i &&
			    exec_write_file(&creds[i]) != HUSH_OK)
				ok = false;
		}
	}
	/* the child runs the command only on this byte; EOF ends it */
	if (ok && fdio_write_all(go[1], "g", 1) != 0)
		ok = false;
	close(go[1]);
	go[1] = -1;
	for (i = 0; i < sizeof(fwd) / sizeof(fwd[0]); i++)
		(void)sigaction(fwd[i], &sa, NULL);
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	outs[0].from = po[0];
	outs[1].from = pe[0];
	po[0] = pe[0] = -1;
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	exec_pump(outs);
	while ((w = waitpid(pid, &status, 0)) == -1 && errno == EINTR)
		;
	exec_child = -1;
	if (w == -1)
		hush_errf("hush exec", "cannot wait for the command: %s",
		    strerror(errno));
	else if (!ok)
		rc = HUSH_EXIT_FAIL;
	else if (WIFEXITED(status))
		rc = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		rc = 128 + WTERMSIG(status);
	goto out;
usage:
	fprintf(stderr, "usage: hush exec [-s SOCKET] [-e VAR=NAME]... "
	    "[-f VAR=NAME]... -- COMMAND [ARG]...\n");
out:
	for (k = 0; k < nup; k++)
		if (fwd_pid[k] > 0) {
			kill(fwd_pid[k], SIGKILL);
			while (waitpid(fwd_pid[k], NULL, 0) == -1 &&
			    errno == EINTR)
				;
		}
	exec_remove_files(creds, n, dir);
	for (i = 0; i < n; i++)
		secbuf_unref(creds[i].value);
	/* the reaper ends when the child has: wait, so none is left over */
	if (reaper > 0)
		while (waitpid(reaper, NULL, 0) == -1 && errno == EINTR)
			;
	for (i = 0; i < 2; i++) {
		if (outs[i].from != -1)
			close(outs[i].from);
		redact_stream_free(outs[i].rs);
	}
	if (po[0] != -1)
		close(po[0]);
	if (po[1] != -1)
		close(po[1]);
	if (pe[0] != -1)
		close(pe[0]);
	if (pe[1] != -1)
		close(pe[1]);
	if (go[0] != -1)
		close(go[0]);
	if (go[1] != -1)
		close(go[1]);
	redact_rules_free(rules);
	conf_errs_release(&errs);
	return rc;
}
