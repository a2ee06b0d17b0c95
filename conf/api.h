/*
 * api.h: the names hushd's HTTP API shares with its clients: the paths of
 * its endpoints and the alphabet of a credential name (SPEC "HTTP API").
 * Kept in conf/ because both programs, the daemon in broker/ and the hush
 * command in broker/client/, must agree on them and neither may include
 * the other's headers.
 */
#ifndef HUSH_API_H
#define HUSH_API_H

#include <stddef.h>

#define API_MAX_NAME		127	/* bytes in a credential name */
#define API_PATH_HEALTH		"/v1/health"
#define API_PATH_CREDS		"/v1/credentials"

/*
 * Whether s (len bytes) is a possible credential name: 1 to API_MAX_NAME
 * letters, digits, '.', '_', '-', ':', and neither "." nor ".." (which are
 * path segments, never names).
 */
int api_name_ok(const char *s, size_t len);

#endif
