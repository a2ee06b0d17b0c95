/*
 * route.h: which endpoint a request target names (pure).
 *
 *   GET /v1/health              ROUTE_HEALTH
 *   GET /v1/credentials         ROUTE_LIST
 *   GET /v1/credentials/NAME    ROUTE_GET
 *
 * A query string is ignored. NAME uses the characters a credential name
 * may have (api_name_ok in conf/api.h); anything else cannot
 * name a credential and is answered like an unknown one.
 */
#ifndef HUSH_ROUTE_H
#define HUSH_ROUTE_H

#include <stddef.h>

#include "conf/api.h"

#define ROUTE_MAX_NAME	API_MAX_NAME

enum route_kind {
	ROUTE_NONE = 0,
	ROUTE_HEALTH,
	ROUTE_LIST,
	ROUTE_GET,
};

struct route {
	enum route_kind	 kind;
	int		 status;	/* when kind is ROUTE_NONE: 404 or 405 */
	char		 name[ROUTE_MAX_NAME + 1];	/* ROUTE_GET */
	int		 bad_name;	/* ROUTE_GET with an impossible NAME */
};

/*
 * Matches target (len bytes) and method (enum http_method) into rt.
 * Always fills rt; returns HUSH_OK for an endpoint, HUSH_ERR_NOT_FOUND
 * (rt->status 404) or HUSH_ERR_INVALID (rt->status 405) otherwise. A
 * ROUTE_GET whose name cannot exist has bad_name set and an empty name.
 */
int route_match(const char *target, size_t len, unsigned method,
    struct route *rt);

#endif
