#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf/hush_err.h"
#include "broker/listener.h"

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

int
listener_apply_mode(const struct conf_client *c, char *err, size_t errlen)
{
	if (chmod(c->socket, c->socket_mode) != 0) {
		snprintf(err, errlen, "client \"%s\": chmod %s: %s", c->name,
		    c->socket, strerror(errno));
		return HUSH_ERR_IO;
	}
	if (c->has_socket_group && chown(c->socket, (uid_t)-1,
	    c->socket_group) != 0) {
		snprintf(err, errlen, "client \"%s\": chgrp %s: %s", c->name,
		    c->socket, strerror(errno));
		return HUSH_ERR_IO;
	}
	return HUSH_OK;
}

int
listener_bind(const struct conf_client *c, int *fdp,
    struct listener_file *lf, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	size_t len = strlen(c->socket);
	mode_t old;
	int fd = -1, r = HUSH_ERR_IO, tries, e;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (len >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "client \"%s\": socket path %s is longer "
		    "than %zu bytes", c->name, c->socket,
		    sizeof(sun.sun_path) - 1);
		return HUSH_ERR_INVALID;
	}
	memcpy(sun.sun_path, c->socket, len + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return HUSH_ERR_IO;
	}
	for (tries = 0; tries < 2; tries++) {
		/* born 0600: nobody can connect before the mode is set */
		old = umask(0177);
		e = bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 ? 0 :
		    errno;
		umask(old);
		if (e != EADDRINUSE || tries > 0)
			break;
		if (lstat(c->socket, &st) != 0 || !S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "client \"%s\": %s exists and is "
			    "not a socket", c->name, c->socket);
			goto out;
		}
		if (listener_is_live(&sun)) {
			snprintf(err, errlen, "client \"%s\": socket %s is in "
			    "use by a running listener (another hushd?)",
			    c->name, c->socket);
			goto out;
		}
		/* a dead hushd's socket: replace it */
		if (unlink(c->socket) != 0 && errno != ENOENT) {
			snprintf(err, errlen, "client \"%s\": cannot remove "
			    "stale socket %s: %s", c->name, c->socket,
			    strerror(errno));
			goto out;
		}
	}
	if (e != 0) {
		snprintf(err, errlen, "client \"%s\": bind %s: %s", c->name,
		    c->socket, strerror(e));
		goto out;
	}
	if (stat(c->socket, &st) != 0) {
		snprintf(err, errlen, "client \"%s\": stat %s: %s", c->name,
		    c->socket, strerror(errno));
		goto out;
	}
	lf->dev = st.st_dev;
	lf->ino = st.st_ino;
	if ((r = listener_apply_mode(c, err, errlen)) != HUSH_OK) {
		listener_unlink(c->socket, lf);
		goto out;
	}
	if (listen(fd, LISTENER_BACKLOG) != 0) {
		snprintf(err, errlen, "client \"%s\": listen %s: %s", c->name,
		    c->socket, strerror(errno));
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
