/*
 * conf_read.h: hush.ini's lines into raw sections (internal to conf/).
 *
 * Reads a file (refusing one that others may write), splits it into lines
 * of at most CONF_MAX_LINE characters, parses `[section "name"]`,
 * `key = value`, comments and continuation lines, follows `include`, and
 * records every key with its file and line. Values stay text: converting
 * them is conf_schema's job.
 */
#ifndef HUSH_CONF_READ_H
#define HUSH_CONF_READ_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/conf.h"
#include "conf/conf_err.h"
#include "conf/conf_schema.h"

struct conf_raw_kv {
	char		*key;
	char		*value;		/* continuations joined */
	struct conf_loc	 loc;
};

struct conf_raw_sec {
	enum conf_sec	 kind;
	char		*subject;	/* NULL for [broker] and [redact] */
	struct conf_loc	 loc;
	struct conf_raw_kv *kv;
	size_t		 nkv;
};

/* One load: what was read so far, and where errors go. */
struct conf_ld {
	struct hush_conf	*conf;
	struct conf_errs	*errs;
	unsigned		 flags;		/* enum conf_flags */
	struct conf_raw_sec	*secs;
	size_t			 nsecs;
	int			 depth;		/* of includes */
	bool			 nomem;		/* an allocation failed: the
						 * load fails */
};

#define CONF_ERR(ld, loc, ...)	conf_errs_add((ld)->errs, (loc), __VA_ARGS__)

/*
 * Reads path (and what it includes) into ld's raw sections. from is the
 * include line that named it ({NULL, 0} for the top file): errors opening
 * an included file are reported there. Returns 0, or -1 when the file
 * could not be read (the error is in ld).
 */
int conf_read_file(struct conf_ld *ld, const char *path,
    struct conf_loc from);

/* Parses len bytes of text as file (a name interned by conf_read_intern). */
void conf_read_text(struct conf_ld *ld, const char *file, const char *text,
    size_t len);

/* Frees the raw sections. */
void conf_read_release(struct conf_ld *ld);

/* path kept in ld->conf->files for the life of the configuration. */
const char *conf_read_intern(struct conf_ld *ld, const char *path);

/* strdup that sets ld->nomem when it fails. */
char *conf_read_strdup(struct conf_ld *ld, const char *s);

/*
 * path made absolute against the directory of file, the configuration
 * file that names it (as include does), so a configuration and its files
 * can move together. A new string, or NULL.
 */
char *conf_read_resolve(struct conf_ld *ld, const char *file,
    const char *path);

#endif
