/*
 * values.h: typed configuration values (pure: strings in, numbers out).
 * Each parser returns HUSH_OK and sets *out, or HUSH_ERR_INVALID and leaves
 * *out alone. Out-of-range values are HUSH_ERR_INVALID too.
 */
#ifndef HUSH_VALUES_H
#define HUSH_VALUES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The largest duration accepted: 30 days. */
#define VAL_MAX_DURATION_MS	(30ULL * 24 * 3600 * 1000)
/* The largest size accepted: 1 GiB. */
#define VAL_MAX_SIZE		(1ULL << 30)

struct val_rate {
	uint32_t	count;		/* requests ... */
	uint64_t	per_ms;		/* ... per this many milliseconds */
};

/* "500ms", "30s", "5m", "1h" (a number and a unit, no space needed). */
int val_duration(const char *s, uint64_t *ms);

/* "512", "512B", "64KiB", "1MiB", "1GiB" (also "K", "M", "G", "KB" ...). */
int val_size(const char *s, uint64_t *bytes);

/* An octal file mode, "0660" or "660", at most 07777. */
int val_mode(const char *s, mode_t *mode);

/* yes/no/true/false/on/off/1/0, any case. */
int val_bool(const char *s, int *b);

/* A decimal integer in [min, max]. */
int val_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* "20/s", "100/m", "1000/h": count > 0. */
int val_rate(const char *s, struct val_rate *rate);

/*
 * Splits a comma-separated list into trimmed items. Empty items are
 * HUSH_ERR_INVALID. *itemsp is a NULL-terminated array owned by the caller
 * (val_list_free). An empty string gives an empty list.
 */
int val_list(const char *s, char ***itemsp, size_t *np);
void val_list_free(char **items);

/* A user name or numeric uid that exists in the user database. */
int val_user(const char *s, uid_t *uid);

/* A group name or numeric gid that exists in the group database. */
int val_group(const char *s, gid_t *gid);

/*
 * The candidate closest to word (case-insensitive edit distance), or NULL
 * when none is close enough to be a plausible typo.
 */
const char *val_suggest(const char *word, const char *const *candidates);

#endif
