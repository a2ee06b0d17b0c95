/*
 * _GNU_SOURCE for O_PATH (a descriptor that names a directory entry,
 * symbolic links included, without opening what it leads to) and the
 * GNU strerror_r, which returns its message.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/hush_err.h"
#include "conf/safepath.h"

struct safepath_owner {
	uid_t	 uid;
	char	 where[PATH_MAX];	/* what made them an owner */
};

struct safepath_walk {
	char			 rem[PATH_MAX];	/* what is left to walk */
	char			 link[PATH_MAX];
	char			 next[PATH_MAX];
	char			 at[PATH_MAX];	/* walked so far, for messages */
	struct safepath_owner	 owners[SAFEPATH_MAX_OWNERS];
	size_t			 nowners;
	/*
	 * Directories walked that others may not search: who owns them.
	 * A user who owns none of them cannot reach the file by this path
	 * herself, whatever its mode (a world-readable file in /root).
	 */
	bool			 closed;	/* some directory lacks o+x */
	bool			 closed_mixed;	/* ... with different owners */
	uid_t			 closed_uid;
	uid_t			 self;
	char			*why;
};

static int
safepath_fail(struct safepath_walk *w, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
safepath_fail(struct safepath_walk *w, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(w->why, SAFEPATH_WHY_MAX, fmt, ap);
	va_end(ap);
	return code;
}

static int
safepath_fail_errno(struct safepath_walk *w, int errnum, const char *what)
{
	char buf[128];
	const char *msg = strerror_r(errnum, buf, sizeof(buf));
	int code;

	switch (errnum) {
	case ENOENT:
	case ENOTDIR:
		code = HUSH_ERR_NOT_FOUND;
		break;
	case EACCES:
	case EPERM:
		code = HUSH_ERR_DENIED;
		break;
	case ENOMEM:
		code = HUSH_ERR_NOMEM;
		break;
	default:
		code = HUSH_ERR_IO;
		break;
	}
	return safepath_fail(w, code, "%s: %s", what, msg);
}

/* Appends one component to the walked path shown in messages. */
static void
safepath_at_push(struct safepath_walk *w, const char *comp)
{
	size_t n = strlen(w->at);

	/* Only messages use it: an over-long one is cut, never the walk. */
	(void)snprintf(w->at + n, sizeof(w->at) - n, "%s%s",
	    n > 0 && w->at[n - 1] == '/' ? "" : "/", comp);
}

static void
safepath_at_pop(struct safepath_walk *w)
{
	char *slash = strrchr(w->at, '/');

	if (slash == NULL || slash == w->at)
		(void)snprintf(w->at, sizeof(w->at), "/");
	else
		*slash = '\0';
}

/* Records that uid can change what the path leads to, because of where. */
static int
safepath_owner(struct safepath_walk *w, uid_t uid)
{
	size_t i;

	if (uid == 0 || uid == w->self)
		return HUSH_OK;
	for (i = 0; i < w->nowners; i++)
		if (w->owners[i].uid == uid)
			return HUSH_OK;
	if (w->nowners == SAFEPATH_MAX_OWNERS)
		return safepath_fail(w, HUSH_ERR_TOO_LARGE, "more than %d "
		    "users own parts of the path", SAFEPATH_MAX_OWNERS);
	w->owners[w->nowners].uid = uid;
	(void)snprintf(w->owners[w->nowners].where,
	    sizeof(w->owners[w->nowners].where), "%s", w->at);
	w->nowners++;
	return HUSH_OK;
}

/*
 * A directory about to be searched: its owner controls its entries, and
 * one that group or others may write is refused unless it is sticky
 * (then each entry's owner is collected as it is found).
 */
static int
safepath_dir(struct safepath_walk *w, const struct stat *st)
{
	int r;

	if ((r = safepath_owner(w, st->st_uid)) != HUSH_OK)
		return r;
	if ((st->st_mode & S_IXOTH) == 0) {
		if (!w->closed) {
			w->closed = true;
			w->closed_uid = st->st_uid;
		} else if (w->closed_uid != st->st_uid)
			w->closed_mixed = true;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
	    (st->st_mode & S_ISVTX) == 0)
		return safepath_fail(w, HUSH_ERR_DENIED, "directory %s is "
		    "writable by group or others (mode %04o)", w->at,
		    (unsigned)(st->st_mode & 07777));
	return HUSH_OK;
}

static int
safepath_root(struct safepath_walk *w, int *curp, struct stat *dst)
{
	if (*curp >= 0)
		(void)close(*curp);
	(void)snprintf(w->at, sizeof(w->at), "/");
	if ((*curp = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fstat(*curp, dst) != 0)
		return safepath_fail_errno(w, errno, "/");
	return safepath_dir(w, dst);
}

/*
 * The file reached: every user who could have steered the path here must
 * be able to read it herself: own it or find it readable by everyone, and
 * be able to search every directory walked (own it, or o+x). Groups and
 * ACLs are not consulted, which errs on the side of refusing.
 */
static int
safepath_final(struct safepath_walk *w, const struct stat *st)
{
	size_t i;
	uid_t u;

	for (i = 0; i < w->nowners; i++) {
		u = w->owners[i].uid;
		if (w->closed && (w->closed_mixed || w->closed_uid != u))
			return safepath_fail(w, HUSH_ERR_DENIED, "refused: "
			    "it leads to %s through a directory owned by uid "
			    "%u that others may not search, which uid %u "
			    "could not pass, and uid %u can change the path "
			    "through %s", w->at, (unsigned)w->closed_uid,
			    (unsigned)u, (unsigned)u, w->owners[i].where);
		if (u != st->st_uid && (st->st_mode & S_IROTH) == 0)
			return safepath_fail(w, HUSH_ERR_DENIED, "refused: "
			    "it leads to %s (owner uid %u, mode %04o), which "
			    "uid %u could not read, and uid %u can change "
			    "the path through %s", w->at,
			    (unsigned)st->st_uid,
			    (unsigned)(st->st_mode & 07777),
			    (unsigned)w->owners[i].uid,
			    (unsigned)w->owners[i].uid, w->owners[i].where);
	}
	return HUSH_OK;
}

/* A symbolic link at nfd: its target, then what was left, becomes rem. */
static int
safepath_link(struct safepath_walk *w, int nfd, const char *rest)
{
	ssize_t n;
	int k;

	n = readlinkat(nfd, "", w->link, sizeof(w->link));
	if (n < 0)
		return safepath_fail_errno(w, errno, w->at);
	if (n == 0 || (size_t)n >= sizeof(w->link))
		return safepath_fail(w, HUSH_ERR_INVALID, "%s: %s symbolic "
		    "link", w->at, n == 0 ? "empty" : "over-long");
	w->link[n] = '\0';
	/* nothing after the link: no slash, which would demand a directory */
	k = snprintf(w->next, sizeof(w->next), "%s%s%s", w->link,
	    *rest != '\0' ? "/" : "", rest);
	if (k < 0 || (size_t)k >= sizeof(w->next))
		return safepath_fail(w, HUSH_ERR_TOO_LARGE, "%s: the path "
		    "through it is too long", w->at);
	memcpy(w->rem, w->next, (size_t)k + 1);
	return HUSH_OK;
}

static int
safepath_walk(struct safepath_walk *w, const char *path, int *fdp)
{
	struct stat dst, st, fst;
	char *p, *comp, *end;
	int cur = -1, nfd = -1, fd = -1, links = 0, r;

	/* a relative path (made by hand: conf/ resolves them) from "." */
	if (path[0] != '/') {
		if (getcwd(w->link, sizeof(w->link)) == NULL)
			return safepath_fail_errno(w, errno, "getcwd");
		r = snprintf(w->rem, sizeof(w->rem), "%s/%s", w->link, path);
		if (r < 0 || (size_t)r >= sizeof(w->rem))
			return safepath_fail(w, HUSH_ERR_TOO_LARGE, "path too "
			    "long");
	} else if (strlen(path) >= sizeof(w->rem))
		return safepath_fail(w, HUSH_ERR_TOO_LARGE, "path too long");
	else
		memcpy(w->rem, path, strlen(path) + 1);
	if ((r = safepath_root(w, &cur, &dst)) != HUSH_OK)
		goto out;
	p = w->rem;
	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0') {
			r = safepath_fail(w, HUSH_ERR_INVALID, "%s is not a "
			    "regular file (a directory)", w->at);
			goto out;
		}
		comp = p;
		if ((end = strchr(p, '/')) != NULL) {
			*end = '\0';
			p = end + 1;
		} else
			p += strlen(p);
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			/* the kernel's "..": the physical parent */
			if ((nfd = openat(cur, "..", O_PATH | O_DIRECTORY |
			    O_CLOEXEC)) < 0 || fstat(nfd, &dst) != 0) {
				r = safepath_fail_errno(w, errno, w->at);
				goto out;
			}
			(void)close(cur);
			cur = nfd;
			nfd = -1;
			safepath_at_pop(w);
			if ((r = safepath_dir(w, &dst)) != HUSH_OK)
				goto out;
			continue;
		}
		safepath_at_push(w, comp);
		if ((nfd = openat(cur, comp, O_PATH | O_NOFOLLOW |
		    O_CLOEXEC)) < 0 || fstat(nfd, &st) != 0) {
			r = safepath_fail_errno(w, errno, w->at);
			goto out;
		}
		/* in /tmp and the like, an entry's owner may replace it */
		if ((dst.st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
		    (r = safepath_owner(w, st.st_uid)) != HUSH_OK)
			goto out;
		if (S_ISLNK(st.st_mode)) {
			if (++links > SAFEPATH_MAX_LINKS) {
				r = safepath_fail(w, HUSH_ERR_TOO_LARGE, "more "
				    "than %d symbolic links",
				    SAFEPATH_MAX_LINKS);
				goto out;
			}
			if ((r = safepath_owner(w, st.st_uid)) != HUSH_OK ||
			    (r = safepath_link(w, nfd, p)) != HUSH_OK)
				goto out;
			(void)close(nfd);
			nfd = -1;
			p = w->rem;
			if (*p == '/') {
				if ((r = safepath_root(w, &cur, &dst)) !=
				    HUSH_OK)
					goto out;
			} else
				safepath_at_pop(w);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			(void)close(cur);
			cur = nfd;
			nfd = -1;
			dst = st;
			if ((r = safepath_dir(w, &dst)) != HUSH_OK)
				goto out;
			continue;
		}
		if (end != NULL) {
			r = safepath_fail(w, HUSH_ERR_NOT_FOUND, "%s is not a "
			    "directory", w->at);
			goto out;
		}
		if (!S_ISREG(st.st_mode)) {
			r = safepath_fail(w, HUSH_ERR_INVALID, "%s is not a "
			    "regular file", w->at);
			goto out;
		}
		/* O_NOFOLLOW: a link swapped in since is not followed */
		if ((fd = openat(cur, comp, O_RDONLY | O_NOFOLLOW |
		    O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0) {
			r = errno == ELOOP ? safepath_fail(w, HUSH_ERR_INVALID,
			    "%s changed while it was opened", w->at) :
			    safepath_fail_errno(w, errno, w->at);
			goto out;
		}
		if (fstat(fd, &fst) != 0) {
			r = safepath_fail_errno(w, errno, w->at);
			goto out;
		}
		if (fst.st_dev != st.st_dev || fst.st_ino != st.st_ino) {
			r = safepath_fail(w, HUSH_ERR_INVALID, "%s changed "
			    "while it was opened", w->at);
			goto out;
		}
		if ((r = safepath_final(w, &fst)) != HUSH_OK)
			goto out;
		*fdp = fd;
		fd = -1;
		r = HUSH_OK;
		goto out;
	}
out:
	if (fd >= 0)
		(void)close(fd);
	if (nfd >= 0)
		(void)close(nfd);
	if (cur >= 0)
		(void)close(cur);
	return r;
}

int
safepath_open(const char *path, int *fdp, char why[SAFEPATH_WHY_MAX])
{
	struct safepath_walk *w;
	int r;

	*fdp = -1;
	why[0] = '\0';
	/* tens of KiB: on the heap, since this runs on pool threads */
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		(void)snprintf(why, SAFEPATH_WHY_MAX, "out of memory");
		return HUSH_ERR_NOMEM;
	}
	w->self = geteuid();
	w->why = why;
	r = safepath_walk(w, path, fdp);
	free(w);
	return r;
}
