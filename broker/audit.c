#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf/hush_err.h"
#include "broker/audit.h"
#include "broker/outbuf.h"

/*
 * A key and its punctuation as one literal: every line writes about ten,
 * each now one copy of known length instead of three strlen-and-copy
 * steps (with the stamp made once per millisecond, a line costs about
 * half the instructions it did).
 */
#define AB_KEY(b, k)							\
	outbuf_put((b), ",\"" k "\":", sizeof(",\"" k "\":") - 1)

/* Bytes a JSON string may hold as they are: printable ASCII but '"'
 * and '\\'. */
static const unsigned char ab_plain[256] = {
	[0x20] = 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0x30] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0x40] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0x50] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
	[0x60] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0x70] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
};

/* A JSON string; control bytes and non-ASCII are escaped. Runs of
 * plain bytes (all of a name, usually) are copied at once. */
static void
ab_json(struct outbuf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *run;
	char esc[6];

	outbuf_put(b, "\"", 1);
	for (;;) {
		for (run = p; ab_plain[*p]; p++)
			;
		outbuf_put(b, (const char *)run, (size_t)(p - run));
		if (*p == '\0')
			break;
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			outbuf_put(b, esc, 2);
		} else {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 15];
			outbuf_put(b, esc, 6);
		}
		p++;
	}
	outbuf_put(b, "\"", 1);
}

#define AB_FIELD(b, k, v)	do {					\
	if ((v) != NULL) {						\
		AB_KEY(b, k);						\
		ab_json((b), (v));					\
	}								\
} while (0)

/* n decimal digits of v, zero-padded (v < 10^n). */
static void
ab_digits(struct outbuf *b, unsigned long long v, size_t n)
{
	char d[24];
	size_t i = n;

	while (i > 0) {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	}
	outbuf_put(b, d, n);
}

/*
 * Every line formats numbers and a timestamp: by hand, since snprintf
 * and strftime cost more than the rest of a request's path.
 */
static void
ab_int(struct outbuf *b, long long v)
{
	if (v < 0) {
		outbuf_put(b, "-", 1);
		outbuf_uint(b, 0 - (unsigned long long)v);
	} else {
		outbuf_uint(b, (unsigned long long)v);
	}
}

#define AB_NUM(b, k, v)	do {						\
	AB_KEY(b, k);							\
	ab_int((b), (v));						\
} while (0)

/*
 * The UTC date of a day count since 1970-01-01 in the proleptic
 * Gregorian calendar, counted in 400-year eras (146,097 days each) that
 * begin on March 1st, so the leap day ends a year.
 */
static void
audit_civil(int64_t days, int64_t *yp, unsigned *mp, unsigned *dp)
{
	int64_t z = days + 719468;	/* days since 0000-03-01 */
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);	/* [0, 146096] */
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned m5 = (5 * doy + 2) / 153;	/* March = 0 */

	*dp = doy - (153 * m5 + 2) / 5 + 1;
	*mp = m5 < 10 ? m5 + 3 : m5 - 9;
	*yp = (int64_t)yoe + era * 400 + (*mp <= 2);
}

/* ts as "YYYY-MM-DDTHH:MM:SS.mmmZ" (AUDIT_TS_LEN bytes); false past
 * year 9999. */
static bool
audit_stamp(uint64_t ts_ms, char ts[AUDIT_TS_LEN])
{
	struct outbuf b = { ts, 0, AUDIT_TS_LEN, false };
	uint64_t sec = ts_ms / 1000;
	unsigned mon, day, s = (unsigned)(sec % 86400);
	int64_t year;

	audit_civil((int64_t)(sec / 86400), &year, &mon, &day);
	if (year > 9999)
		return false;
	ab_digits(&b, (unsigned long long)year, 4);
	outbuf_put(&b, "-", 1);
	ab_digits(&b, mon, 2);
	outbuf_put(&b, "-", 1);
	ab_digits(&b, day, 2);
	outbuf_put(&b, "T", 1);
	ab_digits(&b, s / 3600, 2);
	outbuf_put(&b, ":", 1);
	ab_digits(&b, s / 60 % 60, 2);
	outbuf_put(&b, ":", 1);
	ab_digits(&b, s % 60, 2);
	outbuf_put(&b, ".", 1);
	ab_digits(&b, ts_ms % 1000, 3);
	outbuf_put(&b, "Z", 1);
	return !b.over && b.len == AUDIT_TS_LEN;
}

/* The line of ev stamped ts (AUDIT_TS_LEN bytes). */
static size_t
audit_format_at(const struct audit_event *ev, const char *ts, char *buf,
    size_t cap)
{
	struct outbuf b = { buf, 0, cap, false };

	outbuf_put(&b, "{\"ts\":\"", 7);
	outbuf_put(&b, ts, AUDIT_TS_LEN);
	outbuf_put(&b, "\"", 1);
	AB_FIELD(&b, "event", ev->event);
	AB_FIELD(&b, "client", ev->client);
	if (ev->has_peer) {
		AB_NUM(&b, "uid", (long long)ev->uid);
		AB_NUM(&b, "pid", (long long)ev->pid);
	}
	AB_FIELD(&b, "unit", ev->unit);
	AB_FIELD(&b, "credential", ev->credential);
	AB_FIELD(&b, "result", ev->result);
	if (ev->status != 0)
		AB_NUM(&b, "status", ev->status);
	if (ev->bytes >= 0)
		AB_NUM(&b, "bytes", ev->bytes);
	if (ev->upstream != NULL) {
		AB_FIELD(&b, "upstream", ev->upstream);
		AB_FIELD(&b, "method", ev->method);
		AB_FIELD(&b, "path", ev->path);
		AB_NUM(&b, "bytes_up", ev->bytes_up);
		AB_NUM(&b, "duration_ms", ev->duration_ms);
	}
	AB_FIELD(&b, "fp", ev->fp);
	AB_FIELD(&b, "reason", ev->reason);
	outbuf_put(&b, "}\n", 2);
	return b.over ? 0 : b.len;
}

size_t
audit_format(const struct audit_event *ev, uint64_t ts_ms, char *buf,
    size_t cap)
{
	char ts[AUDIT_TS_LEN];

	if (!audit_stamp(ts_ms, ts))
		return 0;
	return audit_format_at(ev, ts, buf, cap);
}

/*
 * Root under a bounded capability set (systemd's CapabilityBoundingSet=
 * without CAP_DAC_OVERRIDE) cannot open the run-as user's log, handed
 * over by an earlier run: it opens it as its owner (the file's, or the
 * directory's when the file is missing). Only the file-system uid
 * changes, and only for this open.
 */
static int
audit_open_as_owner(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	struct stat st;
	int fd, e;

	if (lstat(path, &st) != 0) {
		if (errno != ENOENT || slash == NULL ||
		    (size_t)(slash - path) >= sizeof(dir))
			return -1;
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
		if (lstat(slash == path ? "/" : dir, &st) != 0)
			return -1;
	}
	if (st.st_uid == 0) {
		errno = EACCES;
		return -1;
	}
	(void)setfsgid(st.st_gid);
	(void)setfsuid(st.st_uid);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY |
	    O_NOFOLLOW | O_NONBLOCK, 0600);
	e = errno;
	(void)setfsuid(0);
	(void)setfsgid(getegid());
	errno = e;
	return fd;
}

static int
audit_open_path(const char *path, int *fdp, bool *ownp, char *err,
    size_t errlen)
{
	struct stat st;
	int fd;

	if (strcmp(path, "stderr") == 0) {
		*fdp = STDERR_FILENO;
		*ownp = false;
		return HUSH_OK;
	}
	/*
	 * Never through a link (root may chown what it opens here), and
	 * never blocking on a FIFO: a regular file or a device only.
	 */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY |
	    O_NOFOLLOW | O_NONBLOCK, 0600);
	if (fd == -1 && errno == EACCES && geteuid() == 0)
		fd = audit_open_as_owner(path);
	if (fd == -1) {
		snprintf(err, errlen, "audit log %s: %s%s", path,
		    strerror(errno), errno == ELOOP ? " (a symbolic link: "
		    "give the real path)" : "");
		return HUSH_ERR_IO;
	}
	if (fstat(fd, &st) != 0 || (!S_ISREG(st.st_mode) &&
	    !S_ISCHR(st.st_mode)) ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
		snprintf(err, errlen, "audit log %s: not a regular file", path);
		close(fd);
		return HUSH_ERR_IO;
	}
	*fdp = fd;
	*ownp = true;
	return HUSH_OK;
}

static size_t
audit_count_lines(const char *p, size_t len)
{
	size_t n = 0;

	while (len-- > 0)
		n += *p++ == '\n';
	return n;
}

/*
 * One write of everything queued. A short write is cut back off a regular
 * file (ENOSPC, EFBIG): the log keeps whole lines only, and the lines of
 * the requests refused for it are dropped, since they describe answers
 * that are not given. Returns whether all of it was written.
 */
static bool
audit_write(struct audit *a)
{
	size_t off = 0, lost;
	ssize_t n = 0;
	struct stat st;
	int e = 0;
	char line[AUDIT_MAX_LINE];

	while (off < a->len) {
		n = write(a->fd, a->buf + off, a->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			e = n < 0 ? errno : ENOSPC;
			break;
		}
		off += (size_t)n;
	}
	if (off == a->len) {
		a->len = 0;
		if (a->failed) {
			struct audit_event ev = {
				.event = "audit", .result = "resumed",
				.reason = "lines were lost while the log could "
				    "not be written", .bytes = -1,
			};
			struct timespec ts;
			size_t len;

			clock_gettime(CLOCK_REALTIME, &ts);
			len = audit_format(&ev, (uint64_t)ts.tv_sec * 1000 +
			    (uint64_t)ts.tv_nsec / 1000000, line, sizeof(line));
			fprintf(stderr, "hushd: audit log %s is written again "
			    "(%llu lines were lost)\n", a->path,
			    (unsigned long long)a->dropped);
			a->failed = false;
			a->dropped = 0;
			if (len > 0 && write(a->fd, line, len) != (ssize_t)len)
				a->failed = true;	/* said again */
		}
		return true;
	}
	if (off > 0 && fstat(a->fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size >= (off_t)off)
		if (ftruncate(a->fd, st.st_size - (off_t)off) != 0)
			e = errno;	/* the torn tail stays; said below */
	lost = audit_count_lines(a->buf, a->len);
	if (!a->failed)
		fprintf(stderr, "hushd: audit log %s cannot be written (%s): "
		    "refusing requests until it can\n", a->path,
		    off > 0 ? "short write" : strerror(e));
	a->failed = true;
	a->turn_failed = true;
	a->dropped += lost;
	a->len = 0;
	return false;
}

int
audit_set_owner(struct audit *a, uid_t uid, gid_t gid, char *err,
    size_t errlen)
{
	struct stat st;

	if (!a->own_fd || fstat(a->fd, &st) != 0 || !S_ISREG(st.st_mode))
		return HUSH_OK;
	/* root's file (ours, or an earlier run's) only: nobody else's */
	if (st.st_uid != 0 || (st.st_uid == uid && st.st_gid == gid))
		return HUSH_OK;
	if (fchown(a->fd, uid, gid) != 0) {
		snprintf(err, errlen, "audit log %s: chown to uid %u gid %u: "
		    "%s", a->path, (unsigned)uid, (unsigned)gid, strerror(errno));
		return HUSH_ERR_IO;
	}
	return HUSH_OK;
}

static void
audit_on_prepare(uv_prepare_t *h)
{
	struct audit *a = h->data;
	bool ok = audit_commit(a);

	if (a->on_commit != NULL)
		a->on_commit(a->commit_arg, ok);
}

void
audit_on_commit(struct audit *a, audit_commit_fn fn, void *arg)
{
	a->on_commit = fn;
	a->commit_arg = arg;
}

int
audit_init(struct audit *a, uv_loop_t *loop, const char *path, char *err,
    size_t errlen)
{
	int r;

	memset(a, 0, sizeof(*a));
	a->fd = -1;
	a->ts_ms = UINT64_MAX;	/* a->ts holds no stamp yet */
	if ((r = audit_open_path(path, &a->fd, &a->own_fd, err, errlen)) !=
	    HUSH_OK)
		return r;
	if ((a->path = strdup(path)) == NULL) {
		if (a->own_fd)
			close(a->fd);
		snprintf(err, errlen, "out of memory");
		return HUSH_ERR_NOMEM;
	}
	uv_prepare_init(loop, &a->prepare);
	a->prepare.data = a;
	uv_prepare_start(&a->prepare, audit_on_prepare);
	/* flushing is no reason to keep the loop running */
	uv_unref((uv_handle_t *)&a->prepare);
	return HUSH_OK;
}

int
audit_reopen(struct audit *a, const char *path, char *err, size_t errlen)
{
	int fd, r;
	bool own;
	char *p;

	/* the same path is opened again too: logrotate renamed the old */
	if (strcmp(path, "stderr") == 0 && strcmp(a->path, "stderr") == 0)
		return HUSH_OK;
	if ((r = audit_open_path(path, &fd, &own, err, errlen)) != HUSH_OK)
		return r;
	if ((p = strdup(path)) == NULL) {
		if (own)
			close(fd);
		snprintf(err, errlen, "out of memory");
		return HUSH_ERR_NOMEM;
	}
	audit_flush(a);
	if (a->own_fd)
		close(a->fd);
	free(a->path);
	a->path = p;
	a->fd = fd;
	a->own_fd = own;
	a->failed = false;
	return HUSH_OK;
}

void
audit_log(struct audit *a, const struct audit_event *ev)
{
	struct timespec ts;
	uint64_t ms;

	/* a turn with more lines than the buffer writes them in parts */
	if (AUDIT_BUF_SIZE - a->len < AUDIT_MAX_LINE)
		(void)audit_write(a);
	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	if (ms != a->ts_ms) {
		if (!audit_stamp(ms, a->ts))
			return;
		a->ts_ms = ms;
	}
	a->len += audit_format_at(ev, a->ts, a->buf + a->len, AUDIT_MAX_LINE);
}

bool
audit_flush(struct audit *a)
{
	return a->len > 0 ? audit_write(a) : !a->failed;
}

bool
audit_commit(struct audit *a)
{
	bool ok = audit_flush(a) && !a->turn_failed;

	a->turn_failed = false;
	return ok;
}

bool
audit_ok(const struct audit *a)
{
	return !a->failed;
}

bool
audit_release(struct audit *a)
{
	bool ok;

	if (a->path == NULL)
		return true;
	ok = audit_commit(a);
	uv_close((uv_handle_t *)&a->prepare, NULL);
	if (a->own_fd)
		close(a->fd);
	free(a->path);
	a->path = NULL;
	return ok;
}
