#define _GNU_SOURCE	/* O_PATH, AT_EMPTY_PATH */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf/hush_err.h"
#include "broker/listener.h"

/* "file:line: " of the client's socket key, for every message here. */
static void
listener_where(const struct conf_client *c, char *buf, size_t len)
{
	struct conf_loc loc = conf_where_key(&c->where, "socket");

	if (loc.file != NULL)
		snprintf(buf, len, "%s:%d: ", loc.file, loc.line);
	else
		buf[0] = '\0';
}

static void
listener_owner_self(const struct listener_owner *o, struct listener_owner *out)
{
	if (o != NULL) {
		*out = *o;
		return;
	}
	out->uid = geteuid();
	out->gid = getegid();
}

/* The socket directory's mode: r-x for whom the socket gives any bit. */
static mode_t
listener_dir_mode(mode_t socket_mode)
{
	mode_t m = 0700;

	if (socket_mode & 0070)
		m |= 0050;
	if (socket_mode & 0007)
		m |= 0005;
	return m;
}

int
listener_open_dir(const struct conf_client *c,
    const struct listener_owner *o, bool create, int *dfdp, char *base,
    size_t baselen, char *err, size_t errlen)
{
	struct listener_owner own;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)], at[160];
	char *comp, *next, *slash;
	struct stat st;
	size_t len = strlen(c->socket);
	int fd = -1, nfd, r = HUSH_ERR_IO;
	bool last, made;

	listener_owner_self(o, &own);
	listener_where(c, at, sizeof(at));
	if (c->socket[0] != '/' || len >= sizeof(path) ||
	    (slash = strrchr(c->socket, '/')) == NULL || slash[1] == '\0' ||
	    strlen(slash + 1) >= baselen) {
		snprintf(err, errlen, "%sclient \"%s\": socket %s is not an "
		    "absolute path to a file that fits a Unix socket address",
		    at, c->name, c->socket);
		return HUSH_ERR_INVALID;
	}
	memcpy(path, c->socket, len + 1);
	memcpy(base, slash + 1, strlen(slash + 1) + 1);
	path[slash - c->socket] = '\0';
	if ((fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "open /: %s", strerror(errno));
		return HUSH_ERR_IO;
	}
	for (comp = path; comp != NULL; comp = next) {
		while (*comp == '/')
			comp++;
		if (*comp == '\0')
			break;
		if ((next = strchr(comp, '/')) != NULL)
			*next++ = '\0';
		last = next == NULL || next[strspn(next, "/")] == '\0';
		/* the path up to here, for the messages */
		len = (size_t)(comp - path) + strlen(comp);
		if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0) {
			snprintf(err, errlen, "%sclient \"%s\": socket %s: "
			    "\".\" and \"..\" are not allowed in a socket path",
			    at, c->name, c->socket);
			r = HUSH_ERR_INVALID;
			goto out;
		}
		made = false;
		if (fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno != ENOENT || !create) {
				snprintf(err, errlen, "%sclient \"%s\": socket "
				    "directory %.*s: %s", at, c->name,
				    (int)len, c->socket, strerror(errno));
				goto out;
			}
			/* born private; owner, group and mode follow below */
			if (mkdirat(fd, comp, 0700) == 0)
				made = true;
			else if (errno != EEXIST) {
				snprintf(err, errlen, "%sclient \"%s\": cannot "
				    "create socket directory %.*s: %s", at,
				    c->name, (int)len, c->socket,
				    strerror(errno));
				goto out;
			}
			if (fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) != 0) {
				snprintf(err, errlen, "%sclient \"%s\": socket "
				    "directory %.*s: %s", at, c->name,
				    (int)len, c->socket, strerror(errno));
				goto out;
			}
		}
		if (S_ISLNK(st.st_mode)) {
			snprintf(err, errlen, "%sclient \"%s\": %.*s is a "
			    "symbolic link; hushd never follows a link at or "
			    "above a socket (write the real path)", at,
			    c->name, (int)len, c->socket);
			r = HUSH_ERR_DENIED;
			goto out;
		}
		if (!S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "%sclient \"%s\": %.*s is not a "
			    "directory", at, c->name, (int)len, c->socket);
			goto out;
		}
		/* read-only when allowed (fchown, fchmod), else search only */
		nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (nfd == -1 && errno == EACCES)
			nfd = openat(fd, comp, O_PATH | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
		if (nfd == -1 || fstat(nfd, &st) != 0) {
			snprintf(err, errlen, "%sclient \"%s\": socket "
			    "directory %.*s: %s", at, c->name, (int)len,
			    c->socket, strerror(errno));
			if (nfd != -1)
				close(nfd);
			goto out;
		}
		close(fd);
		fd = nfd;
		if (made) {
			gid_t g = last && c->has_socket_group ?
			    c->socket_group : own.gid;
			mode_t m = last ? listener_dir_mode(c->socket_mode) :
			    0755;

			if (fchown(fd, own.uid, g) != 0 || fchmod(fd, m) != 0 ||
			    fstat(fd, &st) != 0) {
				snprintf(err, errlen, "%sclient \"%s\": socket "
				    "directory %.*s: owner uid %u gid %u, mode "
				    "%04o: %s", at, c->name, (int)len,
				    c->socket, (unsigned)own.uid, (unsigned)g,
				    (unsigned)m, strerror(errno));
				goto out;
			}
		}
		if (st.st_uid != 0 && st.st_uid != own.uid) {
			snprintf(err, errlen, "%sclient \"%s\": socket "
			    "directory %.*s is owned by uid %u, not by root "
			    "or the user hushd runs as (uid %u): its owner "
			    "could put its own listener there", at, c->name,
			    (int)len, c->socket, (unsigned)st.st_uid,
			    (unsigned)own.uid);
			r = HUSH_ERR_DENIED;
			goto out;
		}
		if ((st.st_mode & 0022) != 0 &&
		    (last || (st.st_mode & S_ISVTX) == 0)) {
			snprintf(err, errlen, "%sclient \"%s\": socket "
			    "directory %.*s is writable by group or others "
			    "(mode %04o): whoever can write it can replace "
			    "the socket; run: chmod go-w %.*s", at, c->name,
			    (int)len, c->socket,
			    (unsigned)(st.st_mode & 07777), (int)len,
			    c->socket);
			r = HUSH_ERR_DENIED;
			goto out;
		}
	}
	*dfdp = fd;
	fd = -1;
	r = HUSH_OK;
out:
	if (fd != -1)
		close(fd);
	return r;
}

/* Whether something accepts connections on path (a live listener). */
static int
listener_is_live(const struct sockaddr_un *sun)
{
	int fd, live;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 1;	/* cannot tell: do not remove it */
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0 ||
	    (errno != ECONNREFUSED && errno != ENOENT);
	close(fd);
	return live;
}

/*
 * Mode, owner and group of the socket file base in dfd, through an O_PATH
 * descriptor of the file itself: chmod and chown by name would follow a
 * link planted at the path, onto the sealing key for instance.
 */
static int
listener_set_mode(const struct conf_client *c, const struct listener_owner *o,
    int dfd, const char *base, const struct listener_file *lf, char *err,
    size_t errlen)
{
	struct listener_owner own;
	char at[160], proc[64];
	struct stat st;
	uid_t uid;
	gid_t gid;
	int sfd, r = HUSH_ERR_IO;

	listener_owner_self(o, &own);
	listener_where(c, at, sizeof(at));
	if ((sfd = openat(dfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    fstat(sfd, &st) != 0) {
		snprintf(err, errlen, "%sclient \"%s\": socket %s: %s", at,
		    c->name, c->socket, strerror(errno));
		goto out;
	}
	if (!S_ISSOCK(st.st_mode) || st.st_dev != lf->dev ||
	    st.st_ino != lf->ino) {
		snprintf(err, errlen, "%sclient \"%s\": %s is no longer the "
		    "socket hushd created (%s); left alone", at, c->name,
		    c->socket, S_ISLNK(st.st_mode) ? "a symbolic link" :
		    S_ISSOCK(st.st_mode) ? "another socket" : "another file");
		r = HUSH_ERR_DENIED;
		goto out;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", sfd);
	if (chmod(proc, c->socket_mode) != 0) {
		snprintf(err, errlen, "%sclient \"%s\": chmod %04o %s: %s", at,
		    c->name, (unsigned)c->socket_mode, c->socket,
		    strerror(errno));
		goto out;
	}
	/* owned by the run-as user, so that it can chmod it after the drop */
	uid = geteuid() == 0 ? own.uid : (uid_t)-1;
	gid = c->has_socket_group ? c->socket_group : (gid_t)-1;
	if ((uid != (uid_t)-1 && uid != st.st_uid) ||
	    (gid != (gid_t)-1 && gid != st.st_gid)) {
		if (fchownat(sfd, "", uid, gid, AT_EMPTY_PATH) != 0) {
			int e = errno;

			snprintf(err, errlen, "%sclient \"%s\": chown %s to "
			    "uid %d gid %d: %s%s", at, c->name, c->socket,
			    (int)uid, (int)gid, strerror(e), e == EPERM &&
			    geteuid() != 0 ? " (hushd runs unprivileged and "
			    "is not in that group: restart hushd to apply "
			    "socket_group)" : "");
			goto out;
		}
	}
	r = HUSH_OK;
out:
	if (sfd != -1)
		close(sfd);
	return r;
}

int
listener_apply_mode(const struct conf_client *c,
    const struct listener_owner *o, const struct listener_file *lf,
    char *err, size_t errlen)
{
	char base[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int dfd, r;

	if ((r = listener_open_dir(c, o, false, &dfd, base, sizeof(base), err,
	    errlen)) != HUSH_OK)
		return r;
	r = listener_set_mode(c, o, dfd, base, lf, err, errlen);
	close(dfd);
	return r;
}

int
listener_bind(const struct conf_client *c, const struct listener_owner *o,
    int *fdp, struct listener_file *lf, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	char base[sizeof(sun.sun_path)], at[160];
	size_t len = strlen(c->socket);
	mode_t old;
	int fd = -1, dfd = -1, r = HUSH_ERR_IO, tries, e;

	listener_where(c, at, sizeof(at));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (len >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%sclient \"%s\": socket path %s is "
		    "longer than %zu bytes", at, c->name, c->socket,
		    sizeof(sun.sun_path) - 1);
		return HUSH_ERR_INVALID;
	}
	memcpy(sun.sun_path, c->socket, len + 1);
	/* the directories are safe from here on: nobody else can write them */
	if ((r = listener_open_dir(c, o, true, &dfd, base, sizeof(base), err,
	    errlen)) != HUSH_OK)
		return r;
	r = HUSH_ERR_IO;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto out;
	}
	for (tries = 0; tries < 2; tries++) {
		/* born 0600: nobody can connect before the mode is set */
		old = umask(0177);
		e = bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 ? 0 :
		    errno;
		umask(old);
		if (e != EADDRINUSE || tries > 0)
			break;
		if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%sclient \"%s\": %s exists and "
			    "is not a socket", at, c->name, c->socket);
			goto out;
		}
		if (listener_is_live(&sun)) {
			snprintf(err, errlen, "%sclient \"%s\": socket %s is in "
			    "use by a running listener (another hushd?)",
			    at, c->name, c->socket);
			goto out;
		}
		/* a dead hushd's socket: replace it */
		if (unlinkat(dfd, base, 0) != 0 && errno != ENOENT) {
			snprintf(err, errlen, "%sclient \"%s\": cannot remove "
			    "stale socket %s: %s", at, c->name, c->socket,
			    strerror(errno));
			goto out;
		}
	}
	if (e != 0) {
		snprintf(err, errlen, "%sclient \"%s\": bind %s: %s", at,
		    c->name, c->socket, strerror(e));
		goto out;
	}
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%sclient \"%s\": %s: the socket is not "
		    "there after bind", at, c->name, c->socket);
		goto out;
	}
	lf->dev = st.st_dev;
	lf->ino = st.st_ino;
	if ((r = listener_set_mode(c, o, dfd, base, lf, err, errlen)) !=
	    HUSH_OK) {
		listener_unlink(c->socket, lf);
		goto out;
	}
	if (listen(fd, LISTENER_BACKLOG) != 0) {
		snprintf(err, errlen, "%sclient \"%s\": listen %s: %s", at,
		    c->name, c->socket, strerror(errno));
		listener_unlink(c->socket, lf);
		r = HUSH_ERR_IO;
		goto out;
	}
	*fdp = fd;
	fd = -1;
	r = HUSH_OK;
out:
	if (fd != -1)
		close(fd);
	if (dfd != -1)
		close(dfd);
	return r;
}

void
listener_unlink(const char *path, const struct listener_file *lf)
{
	struct stat st;

	/* a newer hushd may own the path by now: remove only our file */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    st.st_dev == lf->dev && st.st_ino == lf->ino)
		(void)unlink(path);
}

int
listener_janitor_start(char *const *paths, const struct listener_file *lfs,
    size_t n, int *wfdp, char *err, size_t errlen)
{
	struct sigaction sa;
	sigset_t all;
	char c;
	pid_t pid;
	int p[2];
	size_t i;

	if (pipe2(p, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return HUSH_ERR_IO;
	}
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return HUSH_ERR_IO;
	}
	if (pid > 0) {
		close(p[0]);
		*wfdp = p[1];
		return HUSH_OK;
	}
	/* the janitor: no listener, no audit log, no loop of hushd's */
	if (dup2(p[0], 3) != 3)
		_exit(1);
	(void)close_range(4, ~0U, 0);
	(void)prctl(PR_SET_NAME, "hushd-janitor", 0, 0, 0);
	/* systemd signals the whole unit: the janitor ends with hushd */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
	(void)sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, NULL);
	for (;;) {
		ssize_t r = read(3, &c, 1);

		if (r == 0 || (r < 0 && errno != EINTR))
			break;
	}
	for (i = 0; i < n; i++)
		listener_unlink(paths[i], &lfs[i]);
	_exit(0);
}

int
listener_activated(int *fds, const char **names, size_t max)
{
	const char *pid = getenv("LISTEN_PID"), *nfds = getenv("LISTEN_FDS");
	const char *fdnames = getenv("LISTEN_FDNAMES");
	static char namebuf[4096];
	char *end, *p, *nend;
	unsigned long v;
	size_t n, i;

	if (pid == NULL || nfds == NULL)
		return 0;
	errno = 0;
	v = strtoul(pid, &end, 10);
	if (errno != 0 || *end != '\0' || v != (unsigned long)getpid())
		return 0;
	v = strtoul(nfds, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0)
		return 0;
	n = v < max ? (size_t)v : max;
	namebuf[0] = '\0';
	if (fdnames != NULL && strlen(fdnames) < sizeof(namebuf))
		memcpy(namebuf, fdnames, strlen(fdnames) + 1);
	/* not for exec: sources, which are not the ones activated */
	(void)unsetenv("LISTEN_PID");
	(void)unsetenv("LISTEN_FDS");
	(void)unsetenv("LISTEN_FDNAMES");
	p = namebuf;
	nend = namebuf + strlen(namebuf);
	for (i = 0; i < n; i++) {
		fds[i] = 3 + (int)i;
		(void)fcntl(fds[i], F_SETFD, FD_CLOEXEC);
		names[i] = p;
		if ((p = strchr(p, ':')) != NULL)
			*p++ = '\0';
		else
			p = nend;	/* empty names from now on */
	}
	return (int)n;
}
