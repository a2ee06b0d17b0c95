/*
 * source.h: reading a credential's current value from its source.
 *
 * Synchronous and blocking: hushd calls it from libuv's thread pool, the
 * other commands directly. Every byte of the value lives in a secbuf; the
 * error message names the credential and the reason, never the value.
 */
#ifndef HUSH_SOURCE_H
#define HUSH_SOURCE_H

#include <stddef.h>

#include "conf/conf.h"
#include "conf/secbuf.h"

#define SOURCE_ERR_MAX	256

struct source_err {
	char	msg[SOURCE_ERR_MAX];	/* "credential "x": reason" */
};

/*
 * Loads the value of c: reads its source (file, env, exec, sealed),
 * refuses more than c->max_size bytes (an error, never a truncation),
 * then applies json_field or json_omit. On success *outp is a new secbuf
 * (refcount 1) and HUSH_OK is returned; otherwise a HUSH_ERR_* code and a
 * message in err.
 */
int source_load(const struct conf_cred *c, struct secbuf **outp,
    struct source_err *err);

/*
 * Checks what can be checked without serving the value (for hushd
 * --check): an exec: command line splits into words and names an absolute
 * program, executable when stat_files; a sealed: key_file loads (mode and
 * format) when stat_files. HUSH_OK, or an error code and a message.
 */
int source_check(const struct conf_cred *c, int stat_files,
    struct source_err *err);

#endif
