/*
 * allow.h: one reading of a client's allow entries, for the loader's
 * cross-checks (conf.c) and hushd's decision (broker/policy.c) alike.
 *
 *   NAME      exactly that credential
 *   PREFIX*   every credential whose name starts with PREFIX
 *   UNIT:ID   (systemd clients) ID, and only for that unit
 *
 * Names may hold ':' themselves, so UNIT is what precedes the last ':'.
 */
#ifndef HUSH_ALLOW_H
#define HUSH_ALLOW_H

#include <stdbool.h>
#include <stddef.h>

struct allow_entry {
	const char	*unit;		/* NULL: any; else unit_len bytes */
	size_t		 unit_len;
	const char	*pat;		/* the name pattern, pat_len bytes */
	size_t		 pat_len;
	bool		 glob;		/* pat ends in '*' */
};

/* Splits entry (a NUL-terminated allow value) into e; points into it. */
void allow_parse(const char *entry, struct allow_entry *e);

/* Whether pat (plen bytes) matches name; a trailing '*' matches any rest. */
bool allow_glob(const char *pat, size_t plen, const char *name);

#endif
