#include <string.h>

#include <http_parser.h>

#include "conf/hush_err.h"
#include "conf/api.h"
#include "broker/route.h"

#define ROUTE_CREDS	API_PATH_CREDS
#define ROUTE_HEALTH_PATH API_PATH_HEALTH

static int
route_is(const char *path, size_t len, const char *lit)
{
	return len == strlen(lit) && memcmp(path, lit, len) == 0;
}

int
route_match(const char *target, size_t len, unsigned method,
    struct route *rt)
{
	const char *q;
	size_t plen = len, pre = strlen(ROUTE_CREDS);

	memset(rt, 0, sizeof(*rt));
	if ((q = memchr(target, '?', len)) != NULL)
		plen = (size_t)(q - target);
	if (route_is(target, plen, ROUTE_HEALTH_PATH))
		rt->kind = ROUTE_HEALTH;
	else if (route_is(target, plen, ROUTE_CREDS) ||
	    route_is(target, plen, ROUTE_CREDS "/"))
		rt->kind = ROUTE_LIST;
	else if (plen > pre + 1 && memcmp(target, ROUTE_CREDS "/",
	    pre + 1) == 0) {
		const char *name = target + pre + 1;
		size_t nlen = plen - pre - 1;

		rt->kind = ROUTE_GET;
		if (api_name_ok(name, nlen)) {
			memcpy(rt->name, name, nlen);
			rt->name[nlen] = '\0';
		} else
			rt->bad_name = 1;
	} else {
		rt->status = 404;
		return HUSH_ERR_NOT_FOUND;
	}
	if (method != HTTP_GET) {
		rt->kind = ROUTE_NONE;
		rt->bad_name = 0;
		rt->name[0] = '\0';
		rt->status = 405;
		return HUSH_ERR_INVALID;
	}
	return HUSH_OK;
}
