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

/* At most this many URL variables for one upstream (hush.ini's env). */
#define FORWARD_MAX_URL_VARS	8

/*
 * The variables a tool reads: hushd's names for the upstream ([upstream]
 * env and key_env, asked at GET /v1/upstream/NAME), else the built-in
 * ones by name (unknown: NAME_BASE_URL), or the ones given on the
 * command line (NAME=URLVAR[,KEYVAR]), which win.
 */
struct forward_env {
	char	url_var[FORWARD_MAX_URL_VARS][64];
	size_t	nurl;
	char	key_var[64];	/* "" for none */
	char	suffix[16];	/* appended to the URL ("/v1" for OpenAI) */
	bool	given;		/* from the command line: hushd's not used */
};

/*
 * "NAME" or "NAME=URLVAR[,KEYVAR]" into name and env. HUSH_OK, or
 * HUSH_ERR_INVALID for a malformed spec.
 */
int forward_parse(const char *spec, char *name, size_t namelen,
    struct forward_env *env);

/*
 * Asks hushd on sock for upstream name (GET /v1/upstream/NAME): whether
 * this client may use it, and the variable names its configuration
 * gives, which replace env's built-in ones unless env->given. On a
 * refusal or a bad answer prints why on stderr (prefixed with cmd) and
 * returns an error; nothing is set then.
 */
int forward_names(const char *sock, const char *name, const char *cmd,
    struct forward_env *env);

/*
 * Puts the forwarder's URL (http://127.0.0.1:PORT and env's suffix) in
 * each URL variable and the placeholder in the key variable, in this
 * process's environment. HUSH_OK or HUSH_ERR_IO (printed).
 */
int forward_setenv(const struct forward_env *env, const char *host,
    unsigned port, const char *cmd);

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
