#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf/fdio.h"
#include "conf/hush_err.h"
#include "conf/jsonsec.h"
#include "conf/safepath.h"
#include "conf/seal.h"
#include "conf/source.h"
#include "conf/source_priv.h"

static void
source_vfail(struct source_err *err, const char *name, const char *fmt,
    va_list ap, const char *tail) __attribute__((format(printf, 3, 0)));

static void
source_vfail(struct source_err *err, const char *name, const char *fmt,
    va_list ap, const char *tail)
{
	size_t n;
	int w;

	w = snprintf(err->msg, sizeof(err->msg), "credential \"%s\": ",
	    name != NULL ? name : "?");
	n = w < 0 ? 0 : (size_t)w;
	if (n >= sizeof(err->msg))
		return;
	w = vsnprintf(err->msg + n, sizeof(err->msg) - n, fmt, ap);
	n += w < 0 ? 0 : (size_t)w;
	if (tail != NULL && n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", tail);
}

int
source_fail(struct source_err *err, const char *name, int code,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	source_vfail(err, name, fmt, ap, NULL);
	va_end(ap);
	return code;
}

int
source_fail_errno(struct source_err *err, const char *name, int code,
    int errnum, const char *fmt, ...)
{
	char ebuf[128];
	va_list ap;

	/* strerror() shares a buffer between threads; strerror_r does not. */
	if (strerror_r(errnum, ebuf, sizeof(ebuf)) != 0)
		snprintf(ebuf, sizeof(ebuf), "error %d", errnum);
	va_start(ap, fmt);
	source_vfail(err, name, fmt, ap, ebuf);
	va_end(ap);
	return code;
}

/*
 * What identifies a file's content for a reader that cannot lock it: an
 * in-place rewrite (truncate, then write) changes the size, mtime or
 * ctime; a replacement by rename changes the inode.
 */
static bool
source_same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static int64_t
source_ts_ms(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000 + ts->tv_nsec / 1000000;
}

/*
 * Milliseconds to wait before the file's last change (ctime, which no
 * user can set) is SOURCE_FILE_SETTLE_MS in the past, measured from t0,
 * taken before the read began; 0 when it already is. A change within
 * the window may be the first write of a rewrite whose second write is
 * still to come, which no stat comparison can see. A ctime far in the
 * future is a clock step, not a writer.
 */
static int64_t
source_settle_wait(const struct stat *st, int64_t t0)
{
	int64_t ct = source_ts_ms(&st->st_ctim);

	if (ct > t0 + SOURCE_FILE_SETTLE_MS ||
	    ct < t0 - SOURCE_FILE_SETTLE_MS)
		return 0;
	return ct + SOURCE_FILE_SETTLE_MS - t0 + 1;
}

static void
source_sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * Reads path into a new secbuf of capacity max + 1: a file that fills it
 * is larger than max, which is reported, never truncated. what names the
 * file in messages ("source file", "sealed file").
 *
 * The path is opened under the rule of safepath.h (whoever can steer it
 * must be able to read what it leads to). The file's identity is taken
 * before and after each read; a read during which it changed, or right
 * after a change, is thrown away and done again, and a file that keeps
 * changing is HUSH_ERR_INVALID, for which hushd serves the last good
 * value: never a torn one.
 */
static int
source_read_file(const struct conf_cred *c, const char *path, size_t max,
    const char *what, struct secbuf **outp, struct source_err *err)
{
	struct secbuf *sb = NULL;
	struct stat before, after;
	struct timespec now;
	char why[SAFEPATH_WHY_MAX];
	int64_t t0, wait = 0;
	int fd = -1, r = HUSH_ERR_INTERNAL, try;

	for (try = 0;; try++) {
		(void)clock_gettime(CLOCK_REALTIME_COARSE, &now);
		t0 = source_ts_ms(&now);
		if ((r = safepath_open(path, &fd, why)) != HUSH_OK) {
			r = source_fail(err, c->name, r, "%s %s: %s", what,
			    path, why);
			goto out;
		}
		if (fstat(fd, &before) != 0) {
			r = source_fail_errno(err, c->name, HUSH_ERR_IO, errno,
			    "cannot stat %s %s", what, path);
			goto out;
		}
		if ((uint64_t)before.st_size > max) {
			r = source_fail(err, c->name, HUSH_ERR_TOO_LARGE,
			    "source is larger than max_size (%zu bytes)", max);
			goto out;
		}
		if (sb == NULL && (sb = secbuf_new(max + 1)) == NULL) {
			r = source_fail(err, c->name, HUSH_ERR_NOMEM, "out of "
			    "secure memory");
			goto out;
		}
		secbuf_clear(sb);
		/* The file may grow after fstat: the capacity is the limit. */
		if (fdio_read_secbuf(fd, sb) != 0) {
			r = source_fail_errno(err, c->name, HUSH_ERR_IO, errno,
			    "cannot read %s %s", what, path);
			goto out;
		}
		if (fstat(fd, &after) != 0) {
			r = source_fail_errno(err, c->name, HUSH_ERR_IO, errno,
			    "cannot stat %s %s", what, path);
			goto out;
		}
		(void)close(fd);
		fd = -1;
		if (source_same_file(&before, &after) &&
		    (wait = source_settle_wait(&after, t0)) == 0)
			break;
		if (try + 1 == SOURCE_FILE_TRIES) {
			r = source_fail(err, c->name, HUSH_ERR_INVALID, "%s %s "
			    "kept changing while it was read", what, path);
			goto out;
		}
		source_sleep_ms(wait > 0 ? wait : SOURCE_FILE_RETRY_MS);
	}
	if (secbuf_len(sb) > max) {
		r = source_fail(err, c->name, HUSH_ERR_TOO_LARGE, "source is "
		    "larger than max_size (%zu bytes)", max);
		goto out;
	}
	if (secbuf_len(sb) == 0) {
		r = source_fail(err, c->name, HUSH_ERR_INVALID, "%s %s is "
		    "empty", what, path);
		goto out;
	}
	*outp = sb;
	sb = NULL;
	r = HUSH_OK;
out:
	if (fd >= 0)
		(void)close(fd);
	secbuf_free(sb);
	return r;
}

static int
source_read_env(const struct conf_cred *c, size_t max, struct secbuf **outp,
    struct source_err *err)
{
	const char *v;
	size_t len;

	/*
	 * getenv is safe as long as nothing changes the environment while
	 * hushd runs, and nothing in hush does.
	 */
	if ((v = getenv(c->arg)) == NULL)
		return source_fail(err, c->name, HUSH_ERR_NOT_FOUND,
		    "environment variable %s is not set", c->arg);
	if ((len = strlen(v)) == 0)
		return source_fail(err, c->name, HUSH_ERR_INVALID,
		    "environment variable %s is empty", c->arg);
	if (len > max)
		return source_fail(err, c->name, HUSH_ERR_TOO_LARGE, "source "
		    "is larger than max_size (%zu bytes)", max);
	if ((*outp = secbuf_from(v, len)) == NULL)
		return source_fail(err, c->name, HUSH_ERR_NOMEM, "out of "
		    "secure memory");
	return HUSH_OK;
}

static int
source_read_sealed(const struct conf_cred *c, size_t max,
    struct secbuf **outp, struct source_err *err)
{
	struct secbuf *key = NULL, *ct = NULL, *pt = NULL;
	struct seal_err serr;
	int r;

	if (c->key_file == NULL) {
		r = source_fail(err, c->name, HUSH_ERR_CONFIG, "sealed: needs "
		    "key_file");
		goto out;
	}
	if ((r = seal_key_load(c->key_file, &key, &serr)) != HUSH_OK) {
		source_fail(err, c->name, r, "%s", serr.msg);
		goto out;
	}
	if ((r = source_read_file(c, c->arg, max + SEAL_OVERHEAD,
	    "sealed file", &ct, err)) != HUSH_OK) {
		/* Report the limit the user set, not the ciphertext's. */
		if (r == HUSH_ERR_TOO_LARGE)
			source_fail(err, c->name, r, "sealed value is larger "
			    "than max_size (%zu bytes)", max);
		goto out;
	}
	if ((r = seal_decrypt(key, secbuf_data(ct), secbuf_len(ct), max, &pt,
	    &serr)) != HUSH_OK) {
		source_fail(err, c->name, r, "sealed file %s: %s", c->arg,
		    serr.msg);
		goto out;
	}
	if (secbuf_len(pt) == 0) {
		r = source_fail(err, c->name, HUSH_ERR_INVALID, "sealed file "
		    "%s holds an empty value", c->arg);
		goto out;
	}
	*outp = pt;
	pt = NULL;
	r = HUSH_OK;
out:
	secbuf_free(pt);
	secbuf_free(ct);
	secbuf_free(key);
	return r;
}

static int
source_read(const struct conf_cred *c, size_t max, struct secbuf **outp,
    struct source_err *err)
{
	if (c->arg == NULL)
		return source_fail(err, c->name, HUSH_ERR_CONFIG, "no source");
	switch (c->kind) {
	case CONF_SRC_FILE:
		return source_read_file(c, c->arg, max, "source file", outp,
		    err);
	case CONF_SRC_ENV:
		return source_read_env(c, max, outp, err);
	case CONF_SRC_EXEC:
		return source_exec_read(c, max, outp, err);
	case CONF_SRC_SEALED:
		return source_read_sealed(c, max, outp, err);
	}
	return source_fail(err, c->name, HUSH_ERR_CONFIG, "unknown source "
	    "kind");
}

static int
source_transform(const struct conf_cred *c, size_t max, struct secbuf **sbp,
    struct source_err *err)
{
	struct secbuf *out = NULL;
	char why[JSONSEC_WHY_MAX];
	int r;

	if (c->json_field != NULL)
		r = jsonsec_field(secbuf_data(*sbp), secbuf_len(*sbp),
		    c->json_field, max, &out, why);
	else if (c->json_omit != NULL || c->json_blank != NULL)
		r = jsonsec_edit(secbuf_data(*sbp), secbuf_len(*sbp),
		    c->json_omit, c->json_blank, max, &out, why);
	else
		return HUSH_OK;
	if (r != HUSH_OK)
		return source_fail(err, c->name, r, "%s", why);
	secbuf_free(*sbp);
	*sbp = out;
	return HUSH_OK;
}

int
source_load(const struct conf_cred *c, struct secbuf **outp,
    struct source_err *err)
{
	struct secbuf *sb = NULL;
	size_t max;
	int r;

	*outp = NULL;
	err->msg[0] = '\0';
	/* conf/ bounds max_size; a hand-made conf_cred gets the same cap. */
	max = c->max_size == 0 ? CONF_DEFAULT_MAX_SIZE :
	    c->max_size > CONF_MAX_SIZE_LIMIT ? CONF_MAX_SIZE_LIMIT :
	    (size_t)c->max_size;
	if ((r = source_read(c, max, &sb, err)) != HUSH_OK ||
	    (r = source_transform(c, max, &sb, err)) != HUSH_OK)
		goto out;
	*outp = sb;	/* transferred */
	sb = NULL;
	r = HUSH_OK;
out:
	secbuf_free(sb);
	return r;
}

int
source_check(const struct conf_cred *c, int stat_files, struct source_err *err)
{
	struct secbuf *key = NULL;
	struct seal_err serr;
	const char *why;
	char **argv = NULL;
	int r = HUSH_OK;

	if (c->kind == CONF_SRC_EXEC) {
		if (source_exec_split(c->arg, &argv, &why) != HUSH_OK)
			return source_fail(err, c->name, HUSH_ERR_INVALID,
			    "exec: %s", why);
		if (argv[0][0] != '/')
			r = source_fail(err, c->name, HUSH_ERR_INVALID,
			    "exec: needs an absolute path to the command");
		else if (stat_files && access(argv[0], X_OK) != 0)
			r = source_fail_errno(err, c->name, HUSH_ERR_NOT_FOUND,
			    errno, "exec: %s", argv[0]);
		free(argv);
		return r;
	}
	if (c->kind == CONF_SRC_SEALED && stat_files && c->key_file != NULL) {
		/* Loading proves mode and format; the key is not printed. */
		if ((r = seal_key_load(c->key_file, &key, &serr)) != HUSH_OK)
			r = source_fail(err, c->name, r, "key_file %s: %s",
			    c->key_file, serr.msg);
		secbuf_free(key);
	}
	return r;
}
