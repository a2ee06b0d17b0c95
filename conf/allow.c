#include <string.h>

#include "conf/allow.h"

void
allow_parse(const char *entry, struct allow_entry *e)
{
	const char *colon = strrchr(entry, ':');

	memset(e, 0, sizeof(*e));
	e->pat = entry;
	if (colon != NULL) {
		e->unit = entry;
		e->unit_len = (size_t)(colon - entry);
		e->pat = colon + 1;
	}
	e->pat_len = strlen(e->pat);
	e->glob = e->pat_len > 0 && e->pat[e->pat_len - 1] == '*';
}

bool
allow_glob(const char *pat, size_t plen, const char *name)
{
	size_t nlen = strlen(name);

	if (plen > 0 && pat[plen - 1] == '*')
		return nlen >= plen - 1 && memcmp(pat, name, plen - 1) == 0;
	return plen == nlen && memcmp(pat, name, plen) == 0;
}
