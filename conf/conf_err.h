/*
 * conf_err.h: configuration errors, collected so that one run reports
 * them all, each "FILE:LINE: message" (docs/internals.md "Error messages").
 */
#ifndef HUSH_CONF_ERR_H
#define HUSH_CONF_ERR_H

#include <stddef.h>

/* Where a value came from: file (interned in hush_conf.files) and line. */
struct conf_loc {
	const char	*file;
	int		 line;
};

/* Collected error messages, each "FILE:LINE: message". */
struct conf_errs {
	char		**msgs;
	size_t		 n;
	struct conf_loc	*locs;		/* file copies owned here, for sorting */
	size_t		 lost;		/* errors that could not be recorded
					 * (out of memory): a load with any
					 * fails, and msgs then says so */
};

void conf_errs_init(struct conf_errs *errs);
void conf_errs_release(struct conf_errs *errs);
/*
 * Appends "FILE:LINE: " + the formatted message ("FILE: " if line is 0;
 * the message alone if file is NULL: an error of no file, such as running
 * out of memory).
 */
void conf_errs_add(struct conf_errs *errs, struct conf_loc loc,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Prints every error in the one shape (hush_errf): "PROG: FILE:LINE:
 * message" and suffix ("" for none) on stderr.
 */
void conf_errs_print(const struct conf_errs *errs, const char *prog,
    const char *suffix);

/* Sorts errors by file (in reading order) and line, stably. */
void conf_errs_sort(struct conf_errs *errs);

/*
 * "; did you mean "X"?" for the candidate nearest to word (NULL-terminated
 * cands), written into buf; "" when none is near.
 */
const char *conf_errs_hint(const char *word, const char *const *cands,
    char *buf, size_t len);

#endif
