#include "conf/api.h"

int
api_name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > API_MAX_NAME)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-' || c == ':'))
			return 0;
	}
	/* "." and ".." are path segments, never names */
	if (s[0] == '.' && (len == 1 || (len == 2 && s[1] == '.')))
		return 0;
	return 1;
}
