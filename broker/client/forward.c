/* memmem, accept4 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "conf/api.h"
#include "conf/fdio.h"
#include "conf/hush_err.h"
#include "broker/client/client.h"
#include "broker/client/forward.h"

#define FWD_HEAD_MAX	(64 * 1024)
#define FWD_BUF		(64 * 1024)
#define FWD_HEAD_MS	30000
/* hushd's route (broker/http.h HTTP_UPSTREAM_PREFIX) */
#define FWD_ROUTE	"/v1/upstream/"

/* A variable name as hush.ini's loader takes it: [A-Za-z_][A-Za-z0-9_]* */
static bool
fwd_var_ok(const char *v, size_t n)
{
	size_t i;

	if (n == 0 || n >= sizeof(((struct forward_env *)0)->key_var) ||
	    isdigit((unsigned char)v[0]))
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)v[i]) && v[i] != '_')
			return false;
	return true;
}

int
forward_parse(const char *spec, char *name, size_t namelen,
    struct forward_env *env)
{
	const char *eq = strchr(spec, '='), *comma;
	size_t n = eq != NULL ? (size_t)(eq - spec) : strlen(spec), i;

	memset(env, 0, sizeof(*env));
	if (n == 0 || n >= namelen || !api_name_ok(spec, n))
		return HUSH_ERR_INVALID;
	memcpy(name, spec, n);
	name[n] = '\0';
	if (eq != NULL) {
		comma = strchr(eq + 1, ',');
		n = comma != NULL ? (size_t)(comma - eq - 1) : strlen(eq + 1);
		if (!fwd_var_ok(eq + 1, n))
			return HUSH_ERR_INVALID;
		memcpy(env->url_var[0], eq + 1, n);
		env->nurl = 1;
		if (comma != NULL) {
			if (!fwd_var_ok(comma + 1, strlen(comma + 1)))
				return HUSH_ERR_INVALID;
			strcpy(env->key_var, comma + 1);
		}
		env->given = true;
		return HUSH_OK;
	}
	env->nurl = 1;
	/* the variables the tools read (Claude Code, the OpenAI SDKs) */
	if (strcmp(name, "anthropic") == 0) {
		strcpy(env->url_var[0], "ANTHROPIC_BASE_URL");
		strcpy(env->key_var, "ANTHROPIC_API_KEY");
	} else if (strcmp(name, "openai") == 0) {
		strcpy(env->url_var[0], "OPENAI_BASE_URL");
		strcpy(env->key_var, "OPENAI_API_KEY");
	} else {
		if (strlen(name) + 10 > sizeof(env->url_var[0]))
			return HUSH_ERR_INVALID;
		for (i = 0; name[i] != '\0'; i++)
			env->url_var[0][i] = isalnum((unsigned char)name[i]) ?
			    (char)toupper((unsigned char)name[i]) : '_';
		memcpy(env->key_var, env->url_var[0], i);
		strcpy(env->url_var[0] + i, "_BASE_URL");
		strcpy(env->key_var + i, "_API_KEY");
	}
	/* the OpenAI SDKs' base URL ends in /v1, whatever its variable */
	if (strcmp(name, "openai") == 0)
		strcpy(env->suffix, "/v1");
	return HUSH_OK;
}

/*
 * hushd's answer for the upstream into env: every name checked, a
 * missing "url_env" or a null "key_env" keeps the built-in one.
 */
static int
fwd_names_parse(const struct secbuf *body, struct forward_env *env)
{
	struct forward_env got = *env;
	json_t *j, *urls, *key, *v;
	size_t i;
	int r = HUSH_ERR_INVALID;

	if ((j = json_loadb((const char *)secbuf_data(body), secbuf_len(body),
	    0, NULL)) == NULL || !json_is_object(j))
		goto out;
	urls = json_object_get(j, "url_env");
	key = json_object_get(j, "key_env");
	if ((urls != NULL && !json_is_array(urls)) || (key != NULL &&
	    !json_is_null(key) && !json_is_string(key)) ||
	    (urls != NULL && json_array_size(urls) > FORWARD_MAX_URL_VARS))
		goto out;
	if (urls != NULL && json_array_size(urls) > 0) {
		got.nurl = json_array_size(urls);
		json_array_foreach(urls, i, v) {
			if (!json_is_string(v) || !fwd_var_ok(
			    json_string_value(v), json_string_length(v)))
				goto out;
			strcpy(got.url_var[i], json_string_value(v));
		}
	}
	if (json_is_string(key)) {
		if (!fwd_var_ok(json_string_value(key),
		    json_string_length(key)))
			goto out;
		strcpy(got.key_var, json_string_value(key));
	}
	*env = got;
	r = HUSH_OK;
out:
	json_decref(j);
	return r;
}

int
forward_names(const char *sock, const char *name, const char *cmd,
    struct forward_env *env)
{
	char target[sizeof(FWD_ROUTE) + API_MAX_NAME], err[512], why[160];
	struct secbuf *body = NULL;
	int status, r;

	snprintf(target, sizeof(target), FWD_ROUTE "%s", name);
	if (client_fetch(sock, target, &status, &body, err, sizeof(err)) !=
	    HUSH_OK) {
		fprintf(stderr, "hush %s: --upstream %s: %s\n", cmd, name, err);
		return HUSH_ERR_IO;
	}
	if (status != 200) {
		client_errmsg(body, why, sizeof(why));
		fprintf(stderr, "hush %s: --upstream %s: hushd refused: %d %s\n",
		    cmd, name, status, why);
		secbuf_unref(body);
		return status == 404 ? HUSH_ERR_NOT_FOUND : HUSH_ERR_DENIED;
	}
	r = env->given ? HUSH_OK : fwd_names_parse(body, env);
	secbuf_unref(body);
	if (r != HUSH_OK)
		fprintf(stderr, "hush %s: --upstream %s: hushd's answer is not "
		    "{\"url_env\":[NAMES],\"key_env\":NAME|null}\n", cmd, name);
	return r;
}

int
forward_setenv(const struct forward_env *env, const char *host,
    unsigned port, const char *cmd)
{
	char url[128];
	size_t i;

	snprintf(url, sizeof(url), "http://%s:%u%s", host, port, env->suffix);
	for (i = 0; i < env->nurl; i++)
		if (setenv(env->url_var[i], url, 1) != 0)
			goto fail;
	if (env->key_var[0] != '\0' && setenv(env->key_var,
	    FORWARD_PLACEHOLDER, 1) != 0)
		goto fail;
	return HUSH_OK;
fail:
	fprintf(stderr, "hush %s: setenv: %s\n", cmd, strerror(errno));
	return HUSH_ERR_IO;
}

static int
fwd_unix(const char *sock)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(sock) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, sock);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
fwd_answer(int fd, int status, const char *msg)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "HTTP/1.1 %d %s\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n{\"error\":\"%s\"}\n", status,
	    status == 400 ? "Bad Request" : "Bad Gateway", strlen(msg) + 13,
	    msg);

	if (n > 0 && (size_t)n < sizeof(buf))
		(void)fdio_write_all(fd, buf, (size_t)n);
}

/*
 * The request head, rewritten: target under /v1/upstream/NAME, the
 * tool's Authorization dropped (its placeholder is not hush's token) and
 * hush's own token added when $HUSH_TOKEN is set.
 */
static char *
fwd_rewrite(const char *head, size_t hlen, const char *name, size_t *outlen)
{
	const char *sp1, *sp2, *eol, *p, *end = head + hlen, *target;
	const char *tok = getenv("HUSH_TOKEN");
	size_t tlen, cap = hlen + strlen(name) + 64 +
	    (tok != NULL ? strlen(tok) : 0), n = 0;
	char *out;

	if ((eol = memchr(head, '\r', hlen)) == NULL ||
	    (sp1 = memchr(head, ' ', (size_t)(eol - head))) == NULL ||
	    (sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1))) == NULL)
		return NULL;
	target = sp1 + 1;
	tlen = (size_t)(sp2 - target);
	/* absolute-form, as a client configured with a proxy sends it */
	if (tlen > 7 && strncasecmp(target, "http://", 7) == 0) {
		const char *slash = memchr(target + 7, '/', tlen - 7);

		if (slash == NULL)
			return NULL;
		tlen -= (size_t)(slash - target);
		target = slash;
	}
	if (tlen == 0 || target[0] != '/' || (out = sodium_malloc(cap)) ==
	    NULL)
		return NULL;
	n = (size_t)snprintf(out, cap, "%.*s %s%s%.*s%.*s\r\n",
	    (int)(sp1 - head), head, FWD_ROUTE, name, (int)tlen,
	    target, (int)(eol - sp2), sp2);
	for (p = eol + 2; p < end && !(p[0] == '\r'); ) {
		const char *le = memchr(p, '\r', (size_t)(end - p));
		size_t ll;

		if (le == NULL)
			le = end;
		ll = (size_t)(le - p);
		if (!(ll >= 14 && strncasecmp(p, "authorization:", 14) == 0)) {
			memcpy(out + n, p, ll);
			n += ll;
			memcpy(out + n, "\r\n", 2);
			n += 2;
		}
		p = le + 2;
	}
	if (tok != NULL && *tok != '\0')
		n += (size_t)snprintf(out + n, cap - n,
		    "Authorization: Bearer %s\r\n", tok);
	memcpy(out + n, "\r\n", 2);
	n += 2;
	*outlen = n;
	return out;
}

/*
 * Both ways until hushd ends the answer. The tool closing its side ends
 * the call: hushd then cancels the upstream request.
 */
static void
fwd_relay(int a, int b)
{
	static char ab[FWD_BUF], ba[FWD_BUF];
	size_t abl = 0, abo = 0, bal = 0, bao = 0;
	bool b_eof = false;
	ssize_t r;

	for (;;) {
		struct pollfd p[2] = { { a, 0, 0 }, { b, 0, 0 } };

		if (b_eof && bal == 0)
			return;
		if (abl == 0)
			p[0].events |= POLLIN;
		else
			p[1].events |= POLLOUT;
		if (bal == 0 && !b_eof)
			p[1].events |= POLLIN;
		else if (bal > 0)
			p[0].events |= POLLOUT;
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if ((p[0].revents & POLLERR) != 0)
			return;
		if ((p[0].revents & (POLLIN | POLLHUP)) != 0 && abl == 0) {
			if ((r = read(a, ab, sizeof(ab))) <= 0)
				return;
			abl = (size_t)r;
			abo = 0;
		}
		if ((p[1].revents & POLLOUT) != 0 && abl > 0) {
			if ((r = write(b, ab + abo, abl - abo)) < 0)
				return;
			abo += (size_t)r;
			if (abo == abl)
				abl = 0;
		}
		if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0 &&
		    bal == 0 && !b_eof) {
			if ((r = read(b, ba, sizeof(ba))) <= 0)
				b_eof = true;
			else {
				bal = (size_t)r;
				bao = 0;
			}
		}
		if ((p[0].revents & POLLOUT) != 0 && bal > 0) {
			if ((r = write(a, ba + bao, bal - bao)) < 0)
				return;
			bao += (size_t)r;
			if (bao == bal)
				bal = 0;
		}
	}
}

/* One connection of the tool's, in its own process. */
static void
fwd_conn(int fd, const char *sock, const char *name)
{
	char *head = malloc(FWD_HEAD_MAX), *nh, *eoh = NULL;
	size_t len = 0, nlen, hlen;
	int u;

	if (head == NULL)
		return;
	while (eoh == NULL && len < FWD_HEAD_MAX) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t r;

		if (poll(&p, 1, FWD_HEAD_MS) <= 0 ||
		    (r = read(fd, head + len, FWD_HEAD_MAX - len)) <= 0)
			goto out;
		len += (size_t)r;
		eoh = memmem(head, len, "\r\n\r\n", 4);
	}
	if (eoh == NULL) {
		fwd_answer(fd, 400, "request head too large");
		goto out;
	}
	hlen = (size_t)(eoh - head) + 4;
	if ((nh = fwd_rewrite(head, hlen, name, &nlen)) == NULL) {
		fwd_answer(fd, 400, "malformed request");
		goto out;
	}
	if ((u = fwd_unix(sock)) < 0) {
		sodium_free(nh);
		fwd_answer(fd, 502, "hushd is not reachable");
		goto out;
	}
	if (fdio_write_all(u, nh, nlen) != 0 || (len > hlen &&
	    fdio_write_all(u, head + hlen, len - hlen) != 0)) {
		sodium_free(nh);
		close(u);
		goto out;
	}
	sodium_free(nh);
	fwd_relay(fd, u);
	close(u);
out:
	free(head);
}

/* Accepts until killed; each connection is a child process. */
static void
fwd_serve(int lfd, const char *sock, const char *name)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* children reap themselves */
	sigaction(SIGCHLD, &sa, NULL);
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		pid_t pid;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EMFILE || errno == ENFILE)
				continue;
			_exit(1);
		}
		if ((pid = fork()) == 0) {
			(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
			close(lfd);
			fwd_conn(fd, sock, name);
			_exit(0);
		}
		close(fd);
	}
}

static int
fwd_listen(const char *host, unsigned port, unsigned *portp)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd, one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		errno = EINVAL;
		return -1;
	}
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, 128) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	*portp = ntohs(sa.sin_port);
	return fd;
}

int
forward_spawn(const char *sock, const char *name, unsigned *portp,
    pid_t *pidp)
{
	pid_t parent = getpid(), pid;
	int lfd;

	if ((lfd = fwd_listen("127.0.0.1", 0, portp)) < 0) {
		hush_errf("hush exec", "--upstream: cannot listen on "
		    "127.0.0.1: %s", strerror(errno));
		return HUSH_ERR_IO;
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		close(lfd);
		hush_errf("hush exec", "fork: %s", strerror(errno));
		return HUSH_ERR_IO;
	}
	if (pid == 0) {
		/* the forwarder lives exactly as long as hush exec */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(0);
		fwd_serve(lfd, sock, name);
		_exit(0);
	}
	close(lfd);
	*pidp = pid;
	return HUSH_OK;
}

int
client_proxy_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "listen", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *sock = NULL, *listen_at = "127.0.0.1:0", *colon;
	char host[64], name[API_MAX_NAME + 1];
	struct forward_env env;
	unsigned port = 0, got;
	size_t i;
	char *end;
	int c, lfd;

	while ((c = getopt_long(argc, argv, "s:l:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sock = optarg;
			break;
		case 'l':
			listen_at = optarg;
			break;
		case 'h':
			printf("usage: hush proxy NAME [--listen HOST:PORT] "
			    "[-s SOCKET]\n");
			return HUSH_EXIT_OK;
		default:
			goto usage;
		}
	}
	if (optind + 1 != argc || strlen(argv[optind]) > API_MAX_NAME ||
	    !api_name_ok(argv[optind], strlen(argv[optind])))
		goto usage;
	if ((colon = strrchr(listen_at, ':')) == NULL ||
	    (size_t)(colon - listen_at) >= sizeof(host))
		goto usage;
	memcpy(host, listen_at, (size_t)(colon - listen_at));
	host[colon - listen_at] = '\0';
	errno = 0;
	port = (unsigned)strtoul(colon + 1, &end, 10);
	if (*end != '\0' || colon[1] == '\0' || errno != 0 || port > 65535)
		goto usage;
	sock = client_socket(sock);
	/* a client that may not use the upstream learns it now */
	if (forward_parse(argv[optind], name, sizeof(name), &env) !=
	    HUSH_OK ||
	    forward_names(sock, name, "proxy", &env) != HUSH_OK)
		return HUSH_EXIT_FAIL;
	if ((lfd = fwd_listen(host, port, &got)) < 0) {
		hush_errf("hush proxy", "cannot listen on %s: %s",
		    listen_at, strerror(errno));
		return HUSH_EXIT_FAIL;
	}
	/* the URL to give the tool (with port 0 the only way to learn
	 * it), then the variables hushd names for it, as VAR=VALUE */
	printf("http://%s:%u\n", host, got);
	for (i = 0; i < env.nurl; i++)
		printf("%s=http://%s:%u%s\n", env.url_var[i], host, got,
		    env.suffix);
	if (env.key_var[0] != '\0')
		printf("%s=%s\n", env.key_var, FORWARD_PLACEHOLDER);
	fflush(stdout);
	fwd_serve(lfd, sock, name);
	return HUSH_EXIT_FAIL;
usage:
	fprintf(stderr, "usage: hush proxy NAME [--listen HOST:PORT] "
	    "[-s SOCKET]\n");
	return HUSH_EXIT_USAGE;
}
