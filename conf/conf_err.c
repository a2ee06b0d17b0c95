/*
 * Configuration errors. A failed allocation never turns an error into a
 * success: the error is counted as lost, and the load fails all the same.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_err.h"
#include "conf/hush_err.h"
#include "conf/values.h"

/*
 * When not even the first error can be recorded, errs points at these,
 * so that whoever prints the errors still prints why the load failed.
 */
static char conf_errs_oom_msg[] =
    "out of memory while recording configuration errors";
static char *conf_errs_oom_msgs[1] = { conf_errs_oom_msg };
static struct conf_loc conf_errs_oom_locs[1] = { { "", 0 } };

void
conf_errs_init(struct conf_errs *errs)
{
	errs->msgs = NULL;
	errs->locs = NULL;
	errs->n = 0;
	errs->lost = 0;
}

/* An error that could not be recorded is still counted. */
static void
conf_errs_lose(struct conf_errs *errs)
{
	errs->lost++;
	if (errs->n == 0) {
		/* an array grown for a first error that never came */
		free(errs->msgs);
		free(errs->locs);
		errs->msgs = conf_errs_oom_msgs;
		errs->locs = conf_errs_oom_locs;
		errs->n = 1;
	}
}

void
conf_errs_release(struct conf_errs *errs)
{
	size_t i;

	if (errs->msgs == conf_errs_oom_msgs) {
		conf_errs_init(errs);
		return;
	}
	for (i = 0; i < errs->n; i++) {
		free(errs->msgs[i]);
		free((char *)errs->locs[i].file);
	}
	free(errs->msgs);
	free(errs->locs);
	conf_errs_init(errs);
}

void
conf_errs_sort(struct conf_errs *errs)
{
	size_t i, j, k;

	/* Insertion sort: few errors, and it must be stable. Files keep the
	 * order in which they first appear. */
	for (i = 1; i < errs->n; i++) {
		struct conf_loc l = errs->locs[i];
		char *m = errs->msgs[i];
		size_t rank_i = i;

		for (k = 0; k < i; k++)
			if (strcmp(errs->locs[k].file, l.file) == 0) {
				rank_i = k;
				break;
			}
		for (j = i; j > 0; j--) {
			const struct conf_loc *p = &errs->locs[j - 1];
			size_t rank_p = j - 1;

			for (k = 0; k < j - 1; k++)
				if (strcmp(errs->locs[k].file, p->file) == 0) {
					rank_p = k;
					break;
				}
			if (rank_p < rank_i || (rank_p == rank_i &&
			    p->line <= l.line))
				break;
			errs->locs[j] = errs->locs[j - 1];
			errs->msgs[j] = errs->msgs[j - 1];
		}
		errs->locs[j] = l;
		errs->msgs[j] = m;
	}
}

void
conf_errs_add(struct conf_errs *errs, struct conf_loc loc, const char *fmt,
    ...)
{
	char msg[1024], where[64] = "", *full, **grown, *file;
	struct conf_loc *glocs;
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* the fallback arrays are static: nothing is added to them */
	if (errs->msgs == conf_errs_oom_msgs) {
		errs->lost++;
		return;
	}
	/* "FILE:LINE: ", "FILE: ", or nothing for an error of no file */
	if (loc.file != NULL && loc.line > 0)
		snprintf(where, sizeof(where), ":%d: ", loc.line);
	else if (loc.file != NULL)
		snprintf(where, sizeof(where), ": ");
	n = (loc.file != NULL ? strlen(loc.file) : 0) + strlen(where) +
	    strlen(msg) + 1;
	if ((full = malloc(n)) == NULL) {
		conf_errs_lose(errs);
		return;
	}
	snprintf(full, n, "%s%s%s", loc.file != NULL ? loc.file : "", where,
	    msg);
	if ((file = strdup(loc.file != NULL ? loc.file : "")) == NULL) {
		free(full);
		conf_errs_lose(errs);
		return;
	}
	if ((grown = realloc(errs->msgs, (errs->n + 1) * sizeof(*grown))) !=
	    NULL)
		errs->msgs = grown;
	if ((glocs = realloc(errs->locs, (errs->n + 1) * sizeof(*glocs))) !=
	    NULL)
		errs->locs = glocs;
	if (grown == NULL || glocs == NULL) {
		free(file);
		free(full);
		conf_errs_lose(errs);
		return;
	}
	errs->locs[errs->n].file = file;
	errs->locs[errs->n].line = loc.line;
	errs->msgs[errs->n++] = full;
}

void
conf_errs_print(const struct conf_errs *errs, const char *prog,
    const char *suffix)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		hush_errf(prog, "%s%s", errs->msgs[i], suffix);
}

const char *
conf_errs_hint(const char *word, const char *const *cands, char *buf,
    size_t len)
{
	const char *s = val_suggest(word, cands);

	if (s == NULL)
		return "";
	snprintf(buf, len, "; did you mean \"%s\"?", s);
	return buf;
}
