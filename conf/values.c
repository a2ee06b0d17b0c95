#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf/hush_err.h"
#include "conf/values.h"

/* Reads a decimal number; *endp points past it. No sign, no overflow. */
static int
val_number(const char *s, uint64_t *out, const char **endp)
{
	uint64_t v = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return HUSH_ERR_INVALID;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return HUSH_ERR_INVALID;
		v = v * 10 + d;
	}
	*out = v;
	*endp = p;
	return HUSH_OK;
}

struct val_unit {
	const char	*name;
	uint64_t	 mult;
};

static int
val_scaled(const char *s, const struct val_unit *units, uint64_t max,
    uint64_t *out)
{
	uint64_t n;
	const char *unit;
	size_t i;

	if (val_number(s, &n, &unit) != HUSH_OK)
		return HUSH_ERR_INVALID;
	while (*unit == ' ')
		unit++;
	for (i = 0; units[i].name != NULL; i++) {
		if (strcasecmp(unit, units[i].name) != 0)
			continue;
		if (units[i].mult != 0 && n > max / units[i].mult)
			return HUSH_ERR_INVALID;
		if (n * units[i].mult > max)
			return HUSH_ERR_INVALID;
		*out = n * units[i].mult;
		return HUSH_OK;
	}
	return HUSH_ERR_INVALID;
}

int
val_duration(const char *s, uint64_t *ms)
{
	static const struct val_unit units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		{ NULL, 0 }
	};

	return val_scaled(s, units, VAL_MAX_DURATION_MS, ms);
}

int
val_size(const char *s, uint64_t *bytes)
{
	static const struct val_unit units[] = {
		{ "", 1 }, { "B", 1 },
		{ "K", 1024 }, { "KB", 1024 }, { "KiB", 1024 },
		{ "M", 1 << 20 }, { "MB", 1 << 20 }, { "MiB", 1 << 20 },
		{ "G", 1 << 30 }, { "GB", 1 << 30 }, { "GiB", 1 << 30 },
		{ NULL, 0 }
	};

	return val_scaled(s, units, VAL_MAX_SIZE, bytes);
}

int
val_mode(const char *s, mode_t *mode)
{
	unsigned long v = 0;
	const char *p;

	if (*s == '\0' || strlen(s) > 5)
		return HUSH_ERR_INVALID;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '7')
			return HUSH_ERR_INVALID;
		v = v * 8 + (unsigned long)(*p - '0');
	}
	if (v > 07777)
		return HUSH_ERR_INVALID;
	*mode = (mode_t)v;
	return HUSH_OK;
}

int
val_bool(const char *s, int *b)
{
	static const char *const yes[] = { "yes", "true", "on", "1", NULL };
	static const char *const no[] = { "no", "false", "off", "0", NULL };
	size_t i;

	for (i = 0; yes[i] != NULL; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*b = 1;
			return HUSH_OK;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*b = 0;
			return HUSH_OK;
		}
	}
	return HUSH_ERR_INVALID;
}

int
val_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t n;
	const char *end;

	if (val_number(s, &n, &end) != HUSH_OK || *end != '\0' ||
	    n < min || n > max)
		return HUSH_ERR_INVALID;
	*out = n;
	return HUSH_OK;
}

int
val_rate(const char *s, struct val_rate *rate)
{
	uint64_t n;
	const char *p;
	uint64_t per;

	if (val_number(s, &n, &p) != HUSH_OK || n == 0 || n > UINT32_MAX)
		return HUSH_ERR_INVALID;
	while (*p == ' ')
		p++;
	if (*p++ != '/')
		return HUSH_ERR_INVALID;
	while (*p == ' ')
		p++;
	if (strcmp(p, "s") == 0)
		per = 1000;
	else if (strcmp(p, "m") == 0)
		per = 60000;
	else if (strcmp(p, "h") == 0)
		per = 3600000;
	else
		return HUSH_ERR_INVALID;
	rate->count = (uint32_t)n;
	rate->per_ms = per;
	return HUSH_OK;
}

void
val_list_free(char **items)
{
	size_t i;

	if (items == NULL)
		return;
	for (i = 0; items[i] != NULL; i++)
		free(items[i]);
	free(items);
}

int
val_list(const char *s, char ***itemsp, size_t *np)
{
	char **items;
	size_t n = 0, cap = 1, i;
	const char *p, *q, *e;

	for (p = s; *p != '\0'; p++)
		if (*p == ',')
			cap++;
	if ((items = calloc(cap + 1, sizeof(*items))) == NULL)
		return HUSH_ERR_NOMEM;
	for (p = s; *s != '\0'; p = q + 1) {
		if ((q = strchr(p, ',')) == NULL)
			q = p + strlen(p);
		for (e = q; e > p && isspace((unsigned char)e[-1]); e--)
			;
		while (p < e && isspace((unsigned char)*p))
			p++;
		if (p == e) {
			val_list_free(items);
			return HUSH_ERR_INVALID;
		}
		if ((items[n] = strndup(p, (size_t)(e - p))) == NULL) {
			val_list_free(items);
			return HUSH_ERR_NOMEM;
		}
		n++;
		if (*q == '\0')
			break;
	}
	for (i = n; i <= cap; i++)
		items[i] = NULL;
	*itemsp = items;
	*np = n;
	return HUSH_OK;
}

/* getpwnam_r/getgrnam_r want a caller buffer; this size fits real entries. */
#define VAL_PWBUF	16384

/*
 * A user (or, with group, a group) named s, or numbered s, that exists:
 * its id. One function, because the two databases differ only in the
 * calls that read them.
 */
static int
val_account(const char *s, bool group, uint32_t *id)
{
	struct passwd pw, *pres = NULL;
	struct group gr, *gres = NULL;
	char *buf;
	uint64_t n;
	bool num = val_uint(s, 0, UINT32_MAX - 1, &n) == HUSH_OK;

	if ((buf = malloc(VAL_PWBUF)) == NULL)
		return HUSH_ERR_NOMEM;
	if (group && num)
		(void)getgrgid_r((gid_t)n, &gr, buf, VAL_PWBUF, &gres);
	else if (group)
		(void)getgrnam_r(s, &gr, buf, VAL_PWBUF, &gres);
	else if (num)
		(void)getpwuid_r((uid_t)n, &pw, buf, VAL_PWBUF, &pres);
	else
		(void)getpwnam_r(s, &pw, buf, VAL_PWBUF, &pres);
	if (gres != NULL)
		*id = (uint32_t)gres->gr_gid;
	else if (pres != NULL)
		*id = (uint32_t)pres->pw_uid;
	free(buf);
	return gres != NULL || pres != NULL ? HUSH_OK : HUSH_ERR_INVALID;
}

int
val_user(const char *s, uid_t *uid)
{
	uint32_t id;
	int r;

	if ((r = val_account(s, false, &id)) == HUSH_OK)
		*uid = (uid_t)id;
	return r;
}

int
val_group(const char *s, gid_t *gid)
{
	uint32_t id;
	int r;

	if ((r = val_account(s, true, &id)) == HUSH_OK)
		*gid = (gid_t)id;
	return r;
}

/* Words longer than this are never typos of a key. */
#define VAL_SUGGEST_MAX	64

/* Edit distance where swapping two neighbours counts as one edit (the
 * commonest typo: "fiel" for "file"). */
static size_t
val_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t rows[3][VAL_SUGGEST_MAX + 1];
	size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2], *t;

	if (la > VAL_SUGGEST_MAX || lb > VAL_SUGGEST_MAX)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		int ai = tolower((unsigned char)a[i - 1]);

		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			int bj = tolower((unsigned char)b[j - 1]);
			size_t best = prev[j - 1] + (ai == bj ? 0 : 1);

			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 &&
			    ai == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == bj &&
			    prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

const char *
val_suggest(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX, i, limit;

	/* One edit per three characters, at least one, at most three. */
	limit = strlen(word) / 3;
	if (limit < 1)
		limit = 1;
	if (limit > 3)
		limit = 3;
	for (i = 0; candidates[i] != NULL; i++) {
		size_t d = val_distance(word, candidates[i]);

		if (d <= limit && d < best_d) {
			best = candidates[i];
			best_d = d;
		}
	}
	return best;
}
