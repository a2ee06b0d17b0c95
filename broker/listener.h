/*
 * listener.h: the listening Unix sockets, created here rather than by
 * uv_pipe_bind (libuv 1.44 truncates long paths silently).
 */
#ifndef HUSH_LISTENER_H
#define HUSH_LISTENER_H

#include <stdbool.h>
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
 * Who hushd will be once it has dropped privileges: the owner of the
 * directories and socket files it creates, so that it can still change,
 * replace and remove them after the drop.
 */
struct listener_owner {
	uid_t	uid;
	gid_t	gid;
};

/*
 * Prepares the socket's directory (see listener_open_dir), then creates,
 * binds (under umask 0177), sets mode and owner and listens on the
 * client's socket path; returns the fd (non-blocking, close-on-exec) in
 * *fdp. o is the run-as user (NULL: this process's). A stale socket file
 * (nothing accepts on it) is replaced; a live one is HUSH_ERR_IO with a
 * message saying so. Errors go to err, with the file:line of the
 * client's socket key.
 */
int listener_bind(const struct conf_client *c, const struct listener_owner *o,
    int *fdp, struct listener_file *lf, char *err, size_t errlen);

/*
 * Opens the directory holding c->socket, walking from / one component at
 * a time without following any symbolic link. Missing directories are
 * created when create is set: the socket's own directory owned by o with
 * group socket_group (else o's group) and a mode derived from
 * socket_mode (owner rwx; group, others r-x when socket_mode gives them
 * any bit), the ones above it o's and 0755. Each level must be owned by
 * root or o; the socket's directory must not be writable by group or
 * others, the ones above only when sticky (/tmp). Returns the directory
 * fd in *dfdp and the socket's file name in base.
 */
int listener_open_dir(const struct conf_client *c,
    const struct listener_owner *o, bool create, int *dfdp, char *base,
    size_t baselen, char *err, size_t errlen);

/*
 * Applies socket_mode and socket_group to the socket file lf again
 * (reload), through a descriptor of that very file: a link or another
 * file planted at the path is left alone and reported.
 */
int listener_apply_mode(const struct conf_client *c,
    const struct listener_owner *o, const struct listener_file *lf,
    char *err, size_t errlen);

/* Removes path if it is still the socket file lf describes. */
void listener_unlink(const char *path, const struct listener_file *lf);

/*
 * Called as root just before the privilege drop: forks a small process
 * that keeps root, does nothing but wait for hushd to end (the write end
 * of a pipe, kept in *wfdp, closes however hushd ends, kill -9 too) and
 * then removes those of the n socket files that are still the ones hushd
 * created: after the drop hushd cannot remove a socket from a directory
 * owned by root. Its list is fixed here; it takes no requests from the
 * unprivileged side. HUSH_OK or an error in err.
 */
int listener_janitor_start(char *const *paths, const struct listener_file *lfs,
    size_t n, int *wfdp, char *err, size_t errlen);

/*
 * systemd socket activation: the fds passed for this process, matched to
 * names from LISTEN_FDNAMES. Returns how many (0 without activation);
 * names[i] point into the environment.
 */
#define LISTENER_MAX_FDS	64
int listener_activated(int *fds, const char **names, size_t max);

#endif
