/*
 * source_priv.h: what the source module's files share with each other and
 * with its unit tests. Not for other modules: they use source.h.
 */
#ifndef HUSH_SOURCE_PRIV_H
#define HUSH_SOURCE_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "conf/secbuf.h"
#include "conf/source.h"

/* The most words and bytes an exec: command line may split into. */
#define SOURCE_EXEC_MAX_ARGS	256

/*
 * A file: source is read again when it changed during the read, or less
 * than SOURCE_FILE_SETTLE_MS before it (a rewrite may not be finished),
 * at most SOURCE_FILE_TRIES times, SOURCE_FILE_RETRY_MS apart at least.
 */
#define SOURCE_FILE_TRIES	5
#define SOURCE_FILE_SETTLE_MS	50
#define SOURCE_FILE_RETRY_MS	2

/* Time given to a killed exec: command's leader to be reaped. */
#define SOURCE_EXEC_REAP_MS	2000

/*
 * Sets err to "credential "NAME": " + the formatted reason and returns
 * code. The reason must never contain a byte of the value.
 */
int source_fail(struct source_err *err, const char *name, int code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Same, with ": " and the text of errnum appended. */
int source_fail_errno(struct source_err *err, const char *name, int code,
    int errnum, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * Splits an exec: command line into words without a shell (rules in
 * docs/sources.md). On success *argvp is a NULL-terminated array in one
 * allocation (free() it) and HUSH_OK is returned; an unbalanced quote, a
 * trailing backslash or no words at all is HUSH_ERR_INVALID with a reason
 * in *whyp (a static string).
 */
int source_exec_split(const char *line, char ***argvp, const char **whyp);

/*
 * Runs c's exec: command and reads its stdout into a new secbuf of at most
 * max bytes, without its one final newline.
 */
int source_exec_read(const struct conf_cred *c, size_t max,
    struct secbuf **outp, struct source_err *err);

#endif
