/*
 * client.h: the hush client commands (get, list, exec, git-credential)
 * and the small blocking HTTP client they share.
 */
#ifndef HUSH_CLIENT_H
#define HUSH_CLIENT_H

#include <stddef.h>

#include "conf/secbuf.h"

#define CLIENT_DEFAULT_SOCKET	"/run/hush/hush.sock"
#define CLIENT_MAX_BODY		(1 << 20)	/* a credential's limit */
#define CLIENT_MAX_HEAD		8192
#define CLIENT_TIMEOUT_MS	30000

/* -s, then $HUSH_SOCKET, then the default. */
const char *client_socket(const char *opt);

/*
 * GET target over the Unix socket sock. On HUSH_OK *statusp is the HTTP
 * status and *bodyp the body in a secbuf (the caller unrefs it). Sends
 * $HUSH_TOKEN as a bearer token when set. Errors go to err.
 */
int client_fetch(const char *sock, const char *target, int *statusp,
    struct secbuf **bodyp, char *err, size_t errlen);

/*
 * Fetches credential name; on anything but 200 prints why on stderr
 * (prefixed with cmd) and returns an error.
 */
int client_credential(const char *sock, const char *name, const char *cmd,
    struct secbuf **valuep);

/* The commands: argv[0] is the command name. Return exit statuses. */
/*
 * The "error" of hushd's JSON error body into out (printable ASCII only:
 * it goes to a terminal), or "no reason given". Never a value.
 */
void client_errmsg(const struct secbuf *body, char *out, size_t cap);

int client_get_main(int argc, char **argv);
int client_list_main(int argc, char **argv);
int client_exec_main(int argc, char **argv);
int client_gitcred_main(int argc, char **argv);

#endif
