/*
 * listener.h: the listening Unix sockets, created here rather than by
 * uv_pipe_bind (libuv 1.44 truncates long paths silently).
 */
#ifndef HUSH_LISTENER_H
#define HUSH_LISTENER_H

#include <stddef.h>
#include <sys/types.h>

#include "conf/conf.h"

#define LISTENER_BACKLOG	511

/* The socket file a listener created, to remove it and only it. */
struct listener_file {
	dev_t	dev;
	ino_t	ino;
};

/*
 * Creates, binds (under umask 0177), chmods/chowns and listens on the
 * client's socket path; returns the fd (non-blocking, close-on-exec) in
 * *fdp. A stale socket file (nothing accepts on it) is replaced; a live
 * one is HUSH_ERR_IO with a message saying so. Errors go to err.
 */
int listener_bind(const struct conf_client *c, int *fdp,
    struct listener_file *lf, char *err, size_t errlen);

/* Applies socket_mode and socket_group to the socket file again. */
int listener_apply_mode(const struct conf_client *c, char *err,
    size_t errlen);

/* Removes path if it is still the socket file lf describes. */
void listener_unlink(const char *path, const struct listener_file *lf);

/*
 * systemd socket activation: the fds passed for this process, matched to
 * names from LISTEN_FDNAMES. Returns how many (0 without activation);
 * names[i] point into the environment.
 */
#define LISTENER_MAX_FDS	64
int listener_activated(int *fds, const char **names, size_t max);

#endif
