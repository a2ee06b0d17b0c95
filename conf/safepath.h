/*
 * safepath.h: opening a file whose path other users may be able to change.
 *
 * The rule (docs/sources.md, "Whose file is served"): the path is walked
 * one component at a time from "/" on descriptors (openat with
 * O_NOFOLLOW, never re-resolved by name), following symbolic links by
 * hand. Every user other than root and hushd's own user who could change
 * what the path leads to is collected on the way:
 *
 *   - the owner of every directory walked through (an owner can always
 *     chmod its directory and replace entries);
 *   - the owner of every symbolic link followed;
 *   - the owner of every entry found in a sticky directory that group or
 *     others may write (/tmp: only the entry's owner can replace it).
 *
 * A directory that group or others may write and that is not sticky is
 * refused outright: anyone in that group could swap the entry. The file
 * reached must be a regular file, and every collected user must be able
 * to read it herself: own it or find it world-readable, and own or find
 * world-searchable every directory walked. Nobody can use the path to get
 * a file they could not read themselves. A path that only root (and
 * hushd's user) control, such as a Kubernetes secret volume with its
 * "..data" link swapped atomically, is served whatever it points at.
 */
#ifndef HUSH_SAFEPATH_H
#define HUSH_SAFEPATH_H

#include <stddef.h>

/* Symbolic links followed in one path, as the kernel's limit. */
#define SAFEPATH_MAX_LINKS	40

/* Distinct untrusted owners tracked along one path. */
#define SAFEPATH_MAX_OWNERS	16

#define SAFEPATH_WHY_MAX	512

/*
 * Opens path (absolute, or relative to the working directory, whose
 * ancestors are then checked too) for reading (O_RDONLY, O_NONBLOCK so that a
 * FIFO cannot block, close-on-exec) under the rule above. On success
 * *fdp is the descriptor and HUSH_OK is returned. Otherwise *fdp is -1
 * and why holds the reason (no secret: paths, uids and modes only):
 * HUSH_ERR_DENIED for a path the rule refuses, HUSH_ERR_NOT_FOUND,
 * HUSH_ERR_INVALID for a path that is not a regular file (or changed
 * while it was opened), HUSH_ERR_IO, HUSH_ERR_TOO_LARGE for an over-long
 * path or too many links, HUSH_ERR_NOMEM.
 */
int safepath_open(const char *path, int *fdp, char why[SAFEPATH_WHY_MAX]);

#endif
