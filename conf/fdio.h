/*
 * fdio.h: writing whole buffers to file descriptors (short writes and
 * EINTR handled once, here).
 */
#ifndef HUSH_FDIO_H
#define HUSH_FDIO_H

#include <stddef.h>

/* Writes all len bytes of p to fd. 0, or -1 with errno set. */
int fdio_write_all(int fd, const void *p, size_t len);

#endif
