/*
 * forward.h: the container side of inject mode (issue 11).
 *
 * A forwarder listens on a loopback TCP port and relays plain HTTP to
 * hushd's Unix socket, rewriting each request's target to
 * /v1/upstream/NAME/TARGET. It holds no API key: hushd adds it. The tool
 * that calls the forwarder is given its URL and a placeholder key.
 */
#ifndef HUSH_FORWARD_H
#define HUSH_FORWARD_H

#include <stdbool.h>
#include <sys/types.h>

/* What a tool is given: never a secret. */
#define FORWARD_PLACEHOLDER	"hush-inject-placeholder-not-a-key"

/* The variables a tool reads, by upstream name (unknown: NAME_BASE_URL). */
struct forward_env {
	char	url_var[64];
	char	key_var[64];
	char	suffix[16];	/* appended to the URL ("/v1" for OpenAI) */
};

/*
 * "NAME" or "NAME=URLVAR[,KEYVAR]" into name and env. HUSH_OK, or
 * HUSH_ERR_INVALID for a malformed spec.
 */
int forward_parse(const char *spec, char *name, size_t namelen,
    struct forward_env *env);

/*
 * Starts a forwarder process for upstream name on 127.0.0.1, on an
 * ephemeral port (*portp). It dies with its parent. HUSH_OK or an error
 * (printed).
 */
int forward_spawn(const char *sock, const char *name, unsigned *portp,
    pid_t *pidp);

/* hush proxy NAME --listen HOST:PORT [-s SOCKET] */
int client_proxy_main(int argc, char **argv);

#endif
