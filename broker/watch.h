/*
 * watch.h: knowing when a credential file may have changed (inotify).
 *
 * A file source's value is kept while nothing happens in the directories
 * it is read from. Every event in a watched directory (a write in place,
 * a rename over the file, a symlink swapped as Kubernetes does) moves that
 * directory's epoch on. The broker reads pending events before it trusts
 * a cached value, so a change completed before a request was sent is
 * always seen by that request: the kernel queues the event during the
 * write itself.
 */
#ifndef HUSH_WATCH_H
#define HUSH_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#define WATCH_MAX_DIRS	1024
#define WATCH_NONE	(-1)

struct watch_dir {
	int		 wd;
	char		*dir;
};

/*
 * A watched file. A symlink (a Kubernetes secret volume swaps a "..data"
 * link beside it) changes with anything in its directory; a plain file
 * only with events naming it, so that a busy directory (~/.claude) does
 * not force a read per request.
 */
struct watch_file {
	size_t		 dir;
	char		*name;
	bool		 any;		/* every event in the directory counts */
	uint64_t	 epoch;
};

struct watch {
	int		 fd;		/* -1: no inotify, nothing is cached */
	uv_poll_t	 poll;		/* drains events while idle */
	/* one drain per loop turn for the request path: a check handle
	 * marks the turn's end */
	uv_check_t	 turn;
	bool		 turn_on;	/* the check handle was started */
	bool		 turn_drained;
	bool		 turn_ok;
	struct watch_dir *dirs;
	size_t		 n;
	size_t		 cap;
	struct watch_file *files;
	size_t		 nfiles;
	size_t		 fcap;
};

/* Starts watching (or not, when inotify is unavailable). */
void watch_init(struct watch *w, uv_loop_t *loop);

/*
 * The index of the watch on file path (added if new), or WATCH_NONE when
 * it cannot be watched.
 */
int watch_path(struct watch *w, const char *path);

/* Reads every pending event now; returns false when watching failed. */
bool watch_drain(struct watch *w);

/*
 * watch_drain at most once per loop turn: every change made before the
 * loop woke up for this turn is seen (the request being answered was
 * read in it), without one read(2) per request. Without a running loop
 * (no turn ever ends) it drains once.
 */
bool watch_drain_turn(struct watch *w);

/* The current epoch of a watched file (after watch_drain). */
uint64_t watch_epoch(const struct watch *w, int idx);

/* Stops; the poll handle's close completes on the loop. */
void watch_release(struct watch *w);

#endif
