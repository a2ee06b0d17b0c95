/*
 * fdio.h: writing whole buffers to file descriptors (short writes and
 * EINTR handled once, here).
 */
#ifndef HUSH_FDIO_H
#define HUSH_FDIO_H

#include <stddef.h>

struct secbuf;

/* Writes all len bytes of p to fd. 0, or -1 with errno set. */
int fdio_write_all(int fd, const void *p, size_t len);

/*
 * Reads from fd into sb until end of file or until sb is full (so a
 * caller that gives capacity limit + 1 can tell "larger than limit").
 * 0, or -1 with errno set; what was read stays in sb.
 */
int fdio_read_secbuf(int fd, struct secbuf *sb);

#endif
