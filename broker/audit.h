/*
 * audit.h: the audit log, one JSON object per line.
 *
 * Group commit: the lines of one loop iteration are written in one
 * write(2) by a uv_prepare handle before the loop waits, and the commit
 * callback is told whether they all reached the file; the broker holds the
 * answers of that iteration until then, so no answer leaves before its
 * line is written. A failed or short write drops the iteration's lines
 * (a short one is cut back off a regular file, so the log never holds a
 * torn line) and audit_ok() turns false until a later write succeeds: the
 * broker refuses requests meanwhile. Lines never hold a value.
 */
#ifndef HUSH_AUDIT_H
#define HUSH_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <uv.h>

#define AUDIT_BUF_SIZE		(64 * 1024)
#define AUDIT_MAX_LINE		1024
#define AUDIT_FP_LEN		12	/* hex digits of the keyed hash */

struct audit_event {
	const char	*event;		/* "get", "list", "start", ... */
	const char	*client;	/* or NULL */
	bool		 has_peer;
	uid_t		 uid;
	pid_t		 pid;
	const char	*unit;		/* systemd unit, or NULL */
	const char	*credential;	/* or NULL */
	const char	*result;	/* "ok", "denied", ... or NULL */
	int		 status;	/* HTTP status, or 0 */
	long long	 bytes;		/* or -1 */
	const char	*fp;		/* or NULL */
	const char	*reason;	/* why, for refusals; never a value */
	/* an upstream call (issue 11): what was called, bytes each way */
	const char	*upstream;	/* or NULL: none of what follows */
	const char	*method;
	const char	*path;
	long long	 bytes_up;
	long long	 duration_ms;
};

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" */
#define AUDIT_TS_LEN	24

/* Told once per loop iteration whether its lines were all written. */
typedef void (*audit_commit_fn)(void *arg, bool ok);

struct audit {
	uv_prepare_t	 prepare;
	int		 fd;
	bool		 own_fd;	/* opened here (not stderr) */
	char		*path;
	bool		 failed;	/* the last write failed */
	bool		 turn_failed;	/* a write of this turn failed */
	size_t		 len;
	uint64_t	 dropped;	/* lines lost while failing */
	audit_commit_fn	 on_commit;
	void		*commit_arg;
	/* the last stamp, formatted: a busy turn stamps many lines with
	 * one millisecond */
	uint64_t	 ts_ms;
	char		 ts[AUDIT_TS_LEN];
	char		 buf[AUDIT_BUF_SIZE];
};

/*
 * Formats ev as one JSON line (with '\n') stamped ts_ms (ms since the
 * epoch) into buf. Returns the length, or 0 if it does not fit.
 */
size_t audit_format(const struct audit_event *ev, uint64_t ts_ms, char *buf,
    size_t cap);

/*
 * Opens path ("stderr" for fd 2) for appending, mode 0600. HUSH_OK, or
 * HUSH_ERR_IO with a message in err.
 */
int audit_init(struct audit *a, uv_loop_t *loop, const char *path,
    char *err, size_t errlen);

/*
 * Before a privilege drop: hands the log file, when root owns it, to the
 * run-as user, so that hushd can still write it (it keeps the fd) and a
 * reopen after logrotate finds it theirs. Nothing for stderr or a device.
 */
int audit_set_owner(struct audit *a, uid_t uid, gid_t gid, char *err,
    size_t errlen);

/*
 * Opens path again (reload: another path, or the same one after logrotate
 * renamed the file); on failure keeps the old one.
 */
int audit_reopen(struct audit *a, const char *path, char *err,
    size_t errlen);

/* Sets the callback told of each iteration's commit (see above). */
void audit_on_commit(struct audit *a, audit_commit_fn fn, void *arg);

/* Queues a line; written by the next commit. */
void audit_log(struct audit *a, const struct audit_event *ev);

/*
 * Writes what is queued now. Returns whether every line queued since the
 * last commit reached the log (true when nothing was queued and the log is
 * not failing).
 */
bool audit_commit(struct audit *a);

/* Writes what is queued now (mid-turn: the commit still tells). */
bool audit_flush(struct audit *a);

/* Whether the log is being written (false: refuse requests). */
bool audit_ok(const struct audit *a);

/*
 * Flushes and closes; the handle's close completes on the loop. Returns
 * whether the last lines were written (false: they are lost, and the
 * caller says so).
 */
bool audit_release(struct audit *a);

#endif
