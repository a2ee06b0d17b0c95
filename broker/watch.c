#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/watch.h"

#define WATCH_MASK	(IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | \
    IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE | \
    IN_DELETE_SELF | IN_MOVE_SELF)

static void
watch_on_poll(uv_poll_t *p, int status, int events)
{
	struct watch *w = p->data;

	(void)status;
	(void)events;
	/* drained this turn already: what came since is read next turn
	 * (the poll is level-triggered, nothing is lost) */
	if (w->turn_drained)
		return;
	w->turn_ok = watch_drain(w);
	w->turn_drained = true;
}

static void
watch_on_turn(uv_check_t *c)
{
	struct watch *w = c->data;

	w->turn_drained = false;
}

bool
watch_drain_turn(struct watch *w)
{
	if (!w->turn_drained) {
		w->turn_ok = watch_drain(w);
		w->turn_drained = true;
	}
	return w->turn_ok;
}

void
watch_init(struct watch *w, uv_loop_t *loop)
{
	memset(w, 0, sizeof(*w));
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd == -1)
		return;
	if (uv_poll_init(loop, &w->poll, w->fd) != 0) {
		close(w->fd);
		w->fd = -1;
		return;
	}
	w->poll.data = w;
	uv_poll_start(&w->poll, UV_READABLE, watch_on_poll);
	uv_unref((uv_handle_t *)&w->poll);
	uv_check_init(loop, &w->turn);
	w->turn.data = w;
	uv_check_start(&w->turn, watch_on_turn);
	uv_unref((uv_handle_t *)&w->turn);
	w->turn_on = true;
}

/* Something was lost: treat every file as changed. */
static void
watch_bump_all(struct watch *w)
{
	size_t i;

	for (i = 0; i < w->nfiles; i++)
		w->files[i].epoch++;
}

/* The watch on directory dir, added if new; WATCH_NONE on failure. */
static int
watch_dir(struct watch *w, const char *dir)
{
	size_t i;
	int wd;

	for (i = 0; i < w->n; i++)
		if (strcmp(w->dirs[i].dir, dir) == 0)
			return (int)i;
	if (w->n == WATCH_MAX_DIRS)
		return WATCH_NONE;
	if (w->n == w->cap) {
		size_t ncap = w->cap == 0 ? 8 : w->cap * 2;
		struct watch_dir *nd = realloc(w->dirs, ncap * sizeof(*nd));

		if (nd == NULL)
			return WATCH_NONE;
		w->dirs = nd;
		w->cap = ncap;
	}
	if ((wd = inotify_add_watch(w->fd, dir, WATCH_MASK)) == -1)
		return WATCH_NONE;
	if ((w->dirs[w->n].dir = strdup(dir)) == NULL) {
		(void)inotify_rm_watch(w->fd, wd);
		return WATCH_NONE;
	}
	w->dirs[w->n].wd = wd;
	return (int)w->n++;
}

int
watch_path(struct watch *w, const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	struct stat st;
	size_t len, i;
	int d;
	bool any;

	if (w->fd == -1 || slash == NULL || slash[1] == '\0')
		return WATCH_NONE;
	len = slash == path ? 1 : (size_t)(slash - path);
	if (len >= sizeof(dir))
		return WATCH_NONE;
	memcpy(dir, path, len);
	dir[len] = '\0';
	any = lstat(path, &st) != 0 || S_ISLNK(st.st_mode);
	if ((d = watch_dir(w, dir)) == WATCH_NONE)
		return WATCH_NONE;
	for (i = 0; i < w->nfiles; i++)
		if (w->files[i].dir == (size_t)d && w->files[i].any == any &&
		    strcmp(w->files[i].name, slash + 1) == 0)
			return (int)i;
	if (w->nfiles == w->fcap) {
		size_t ncap = w->fcap == 0 ? 8 : w->fcap * 2;
		struct watch_file *nf = realloc(w->files, ncap * sizeof(*nf));

		if (nf == NULL)
			return WATCH_NONE;
		w->files = nf;
		w->fcap = ncap;
	}
	if ((w->files[w->nfiles].name = strdup(slash + 1)) == NULL)
		return WATCH_NONE;
	w->files[w->nfiles].dir = (size_t)d;
	w->files[w->nfiles].any = any;
	w->files[w->nfiles].epoch = 1;
	return (int)w->nfiles++;
}

/* One event: every file it may concern moves on. */
static void
watch_event(struct watch *w, const struct inotify_event *ev)
{
	size_t i, j;

	for (i = 0; i < w->n; i++) {
		if (w->dirs[i].wd != ev->wd)
			continue;
		for (j = 0; j < w->nfiles; j++) {
			struct watch_file *f = &w->files[j];

			if (f->dir == i && (f->any || ev->len == 0 ||
			    strcmp(ev->name, f->name) == 0))
				f->epoch++;
		}
	}
}

bool
watch_drain(struct watch *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;
	size_t off;

	if (w->fd == -1)
		return false;
	for (;;) {
		n = read(w->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n <= 0) {
			watch_bump_all(w);
			return false;
		}
		for (off = 0; off + sizeof(*ev) <= (size_t)n;
		    off += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(buf + off);
			if (ev->mask & IN_Q_OVERFLOW) {
				watch_bump_all(w);
				continue;
			}
			watch_event(w, ev);
		}
	}
}

uint64_t
watch_epoch(const struct watch *w, int idx)
{
	if (idx < 0 || (size_t)idx >= w->nfiles)
		return 0;
	return w->files[idx].epoch;
}

static void
watch_on_close(uv_handle_t *h)
{
	struct watch *w = h->data;

	close(w->fd);
	w->fd = -1;
}

void
watch_release(struct watch *w)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		free(w->dirs[i].dir);
	for (i = 0; i < w->nfiles; i++)
		free(w->files[i].name);
	free(w->dirs);
	free(w->files);
	w->dirs = NULL;
	w->files = NULL;
	w->n = w->cap = w->nfiles = w->fcap = 0;
	if (w->turn_on) {
		uv_close((uv_handle_t *)&w->turn, NULL);
		w->turn_on = false;
	}
	/* the fd is ours, not the handle's: closed once the handle is */
	if (w->fd != -1 && !uv_is_closing((uv_handle_t *)&w->poll))
		uv_close((uv_handle_t *)&w->poll, watch_on_close);
}
