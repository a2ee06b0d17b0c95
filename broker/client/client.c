#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <http_parser.h>
#include <jansson.h>
#include <sodium.h>

#include "conf/fdio.h"
#include "conf/hush_err.h"
#include "conf/values.h"
#include "broker/client/client.h"
#include "conf/api.h"

struct client_resp {
	struct secbuf	*body;
	bool		 done;
	bool		 too_large;
};

const char *
client_socket(const char *opt)
{
	const char *env = getenv("HUSH_SOCKET");

	if (opt != NULL)
		return opt;
	if (env != NULL && *env != '\0')
		return env;
	return CLIENT_DEFAULT_SOCKET;
}

static int
client_on_body(http_parser *p, const char *at, size_t len)
{
	struct client_resp *rs = p->data;

	if (secbuf_append(rs->body, at, len) != HUSH_OK) {
		rs->too_large = true;
		return -1;
	}
	return 0;
}

static int
client_on_complete(http_parser *p)
{
	struct client_resp *rs = p->data;

	rs->done = true;
	return 0;
}

static int
client_connect(const char *sock, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(sock) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path %s is too long", sock);
		return -1;
	}
	memcpy(sun.sun_path, sock, strlen(sock) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		snprintf(err, errlen, "cannot connect to %s: %s", sock,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

int
client_fetch(const char *sock, const char *target, int *statusp,
    struct secbuf **bodyp, char *err, size_t errlen)
{
	static const http_parser_settings settings = {
		.on_body = client_on_body,
		.on_message_complete = client_on_complete,
	};
	struct client_resp rs = { NULL, false, false };
	const char *tok = getenv("HUSH_TOKEN");
	char req[CLIENT_MAX_HEAD], chunk[4096];
	http_parser p;
	struct pollfd pfd;
	ssize_t n;
	size_t nparsed;
	int fd = -1, len, r = HUSH_ERR_IO;

	if (tok != NULL && *tok != '\0')
		len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n"
		    "Host: hush\r\nConnection: close\r\n"
		    "Authorization: Bearer %s\r\n\r\n", target, tok);
	else
		len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n"
		    "Host: hush\r\nConnection: close\r\n\r\n", target);
	if (len < 0 || (size_t)len >= sizeof(req)) {
		snprintf(err, errlen, "request too long");
		r = HUSH_ERR_TOO_LARGE;
		goto out;
	}
	if ((rs.body = secbuf_new(CLIENT_MAX_BODY)) == NULL) {
		snprintf(err, errlen, "out of secure memory");
		r = HUSH_ERR_NOMEM;
		goto out;
	}
	if ((fd = client_connect(sock, err, errlen)) == -1)
		goto out;
	if (fdio_write_all(fd, req, (size_t)len) != 0) {
		snprintf(err, errlen, "write to %s: %s", sock,
		    strerror(errno));
		goto out;
	}
	http_parser_init(&p, HTTP_RESPONSE);
	p.data = &rs;
	while (!rs.done) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, CLIENT_TIMEOUT_MS) == 0) {
			snprintf(err, errlen, "no answer from %s", sock);
			r = HUSH_ERR_TIMEOUT;
			goto out;
		}
		if ((n = read(fd, chunk, sizeof(chunk))) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "read from %s: %s", sock,
			    strerror(errno));
			goto out;
		}
		nparsed = http_parser_execute(&p, &settings, chunk, (size_t)n);
		if (rs.done)
			break;
		if (rs.too_large || nparsed != (size_t)n || n == 0) {
			snprintf(err, errlen, "%s from %s", rs.too_large ?
			    "answer too large" : n == 0 ?
			    "connection closed before the answer" :
			    "malformed answer", sock);
			r = HUSH_ERR_INVALID;
			goto out;
		}
	}
	*statusp = (int)p.status_code;
	*bodyp = rs.body;
	rs.body = NULL;
	r = HUSH_OK;
out:
	sodium_memzero(req, sizeof(req));
	sodium_memzero(chunk, sizeof(chunk));
	secbuf_unref(rs.body);
	if (fd != -1)
		close(fd);
	return r;
}

void
client_errmsg(const struct secbuf *body, char *out, size_t cap)
{
	json_t *j, *e;
	const char *s;
	size_t i, n = 0;

	snprintf(out, cap, "no reason given");
	if ((j = json_loadb((const char *)secbuf_data(body), secbuf_len(body),
	    0, NULL)) == NULL)
		return;
	if ((e = json_object_get(j, "error")) != NULL &&
	    (s = json_string_value(e)) != NULL) {
		/* it goes to a terminal: printable ASCII only */
		for (i = 0; s[i] != '\0' && n + 1 < cap; i++)
			out[n++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
		out[n] = '\0';
	}
	json_decref(j);
}

int
client_credential(const char *sock, const char *name, const char *cmd,
    struct secbuf **valuep)
{
	char target[64 + API_MAX_NAME], err[512], why[160], prog[64];
	struct secbuf *body = NULL;
	int status = 0;

	snprintf(prog, sizeof(prog), "hush %s", cmd);
	if (!api_name_ok(name, strlen(name))) {
		hush_errf(prog, "\"%s\" is not a credential name", name);
		return HUSH_ERR_INVALID;
	}
	snprintf(target, sizeof(target), API_PATH_CREDS "/%s", name);
	if (client_fetch(sock, target, &status, &body, err, sizeof(err)) !=
	    HUSH_OK) {
		hush_errf(prog, "%s", err);
		return HUSH_ERR_IO;
	}
	if (status != 200) {
		client_errmsg(body, why, sizeof(why));
		hush_errf(prog, "credential \"%s\": %d %s", name, status,
		    why);
		secbuf_unref(body);
		return status == 404 ? HUSH_ERR_NOT_FOUND : HUSH_ERR_DENIED;
	}
	*valuep = body;
	return HUSH_OK;
}

/*
 * Creates the missing directories above path, 0700 each, the way a fresh
 * container lacks ~/.codex. Errors name the target, the path the user
 * gave, and say which directory could not be made.
 */
static int
client_make_parents(const char *path)
{
	char dir[4096];
	size_t n = strlen(path), i;

	if (n >= sizeof(dir)) {
		hush_errf("hush get", "%s: path too long", path);
		return HUSH_ERR_TOO_LARGE;
	}
	memcpy(dir, path, n + 1);
	/* Drop the last component (and any trailing slashes before it). */
	while (n > 0 && dir[n - 1] != '/')
		n--;
	while (n > 1 && dir[n - 1] == '/')
		n--;
	dir[n] = '\0';
	for (i = 1; i <= n; i++) {
		if (i < n && dir[i] != '/')
			continue;
		dir[i] = '\0';
		/* EEXIST for a non-directory shows up below as ENOTDIR. */
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			hush_errf("hush get", "%s: cannot create directory "
			    "%s: %s", path, dir, strerror(errno));
			return HUSH_ERR_IO;
		}
		if (i < n)
			dir[i] = '/';
	}
	return HUSH_OK;
}

/*
 * Writes value to path atomically, created with mode (no chmod window).
 * The temporary file is our detail: every error names path.
 */
static int
client_write_file(const char *path, mode_t mode, const struct secbuf *v)
{
	char tmp[4096];
	int fd, n, r;

	n = snprintf(tmp, sizeof(tmp), "%s.hush-XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		hush_errf("hush get", "%s: path too long", path);
		return HUSH_ERR_TOO_LARGE;
	}
	if ((r = client_make_parents(path)) != HUSH_OK)
		return r;
	if ((fd = mkstemp(tmp)) == -1) {
		hush_errf("hush get", "%s: %s", path, strerror(errno));
		return HUSH_ERR_IO;
	}
	/* mkstemp made it 0600 and empty; set the final mode before data */
	if (fchmod(fd, mode) != 0 ||
	    fdio_write_all(fd, (const char *)secbuf_data(v),
	    secbuf_len(v)) != 0 || fsync(fd) != 0) {
		hush_errf("hush get", "%s: %s", path, strerror(errno));
		close(fd);
		unlink(tmp);
		return HUSH_ERR_IO;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		hush_errf("hush get", "%s: %s", path, strerror(errno));
		unlink(tmp);
		return HUSH_ERR_IO;
	}
	return HUSH_OK;
}

int
client_get_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "mode", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *sock = NULL, *out = NULL, *mstr = NULL;
	struct secbuf *v = NULL;
	mode_t mode = 0600;
	int c, r;

	while ((c = getopt_long(argc, argv, "s:o:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 'o': out = optarg; break;
		case 'm': mstr = optarg; break;
		case 'h':
			printf("usage: hush get NAME [-s SOCKET] "
			    "[-o FILE [-m MODE]]\n");
			return HUSH_EXIT_OK;
		default:
			goto usage;
		}
	}
	if (optind + 1 != argc || (mstr != NULL && out == NULL))
		goto usage;
	if (mstr != NULL && (val_mode(mstr, &mode) != HUSH_OK ||
	    (mode & ~(mode_t)0777) != 0)) {
		hush_errf("hush get", "-m %s: an octal mode such as "
		    "0600", mstr);
		return HUSH_EXIT_USAGE;
	}
	if (client_credential(client_socket(sock), argv[optind], "get", &v) !=
	    HUSH_OK)
		return HUSH_EXIT_FAIL;
	if (out != NULL)
		r = client_write_file(out, mode, v);
	else
		r = fdio_write_all(STDOUT_FILENO,
		    (const char *)secbuf_data(v), secbuf_len(v)) == 0 ?
		    HUSH_OK : HUSH_ERR_IO;
	secbuf_unref(v);
	return r == HUSH_OK ? HUSH_EXIT_OK : HUSH_EXIT_FAIL;
usage:
	fprintf(stderr, "usage: hush get NAME [-s SOCKET] "
	    "[-o FILE [-m MODE]]\n");
	return HUSH_EXIT_USAGE;
}

int
client_list_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *sock = NULL;
	struct secbuf *body = NULL;
	json_t *j, *list, *v;
	char err[512], why[160];
	size_t i;
	int c, status = 0;

	while ((c = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 'h':
			printf("usage: hush list [-s SOCKET]\n");
			return HUSH_EXIT_OK;
		default:
			goto usage;
		}
	}
	if (optind != argc)
		goto usage;
	sock = client_socket(sock);
	if (client_fetch(sock, API_PATH_CREDS, &status, &body, err,
	    sizeof(err)) != HUSH_OK) {
		hush_errf("hush list", "%s", err);
		return HUSH_EXIT_FAIL;
	}
	if (status != 200) {
		client_errmsg(body, why, sizeof(why));
		hush_errf("hush list", "%d %s", status, why);
		secbuf_unref(body);
		return HUSH_EXIT_FAIL;
	}
	/* {"credentials":["a","b"]}: one name a line; names only, so
	 * jansson's copies hold nothing secret */
	j = json_loadb((const char *)secbuf_data(body), secbuf_len(body), 0,
	    NULL);
	secbuf_unref(body);
	if ((list = json_object_get(j, "credentials")) == NULL ||
	    !json_is_array(list)) {
		hush_errf("hush list", "%s: the answer is not a "
		    "credential list", sock);
		json_decref(j);
		return HUSH_EXIT_FAIL;
	}
	json_array_foreach(list, i, v) {
		const char *s = json_string_value(v);

		if (s == NULL || !api_name_ok(s, strlen(s))) {
			hush_errf("hush list", "%s: the answer holds "
			    "something that is not a credential name",
			    sock);
			json_decref(j);
			return HUSH_EXIT_FAIL;
		}
		printf("%s\n", s);
	}
	json_decref(j);
	return HUSH_EXIT_OK;
usage:
	fprintf(stderr, "usage: hush list [-s SOCKET]\n");
	return HUSH_EXIT_USAGE;
}

#define GITCRED_MAX_HOSTS	32

/*
 * Whether git's host= (a name, with ":port" when git has one) is one of
 * hosts. DNS names are case-insensitive; a port must match exactly, since
 * another port on the same name may be another service.
 */
static bool
gitcred_host_listed(const char *host, const char *const *hosts, size_t n)
{
	size_t i, j, len = strlen(host);

	for (i = 0; i < n; i++) {
		if (strlen(hosts[i]) != len)
			continue;
		for (j = 0; j < len; j++)
			if (tolower((unsigned char)host[j]) !=
			    tolower((unsigned char)hosts[i][j]))
				break;
		if (j == len)
			return true;
	}
	return false;
}

/* Copies the value of a "key=value\n" line into buf; false if too long. */
static bool
gitcred_value(const char *line, size_t keylen, char *buf, size_t cap)
{
	size_t len = strcspn(line + keylen, "\r\n");

	if (len >= cap)
		return false;
	memcpy(buf, line + keylen, len);
	buf[len] = '\0';
	return true;
}

/*
 * git's credential-helper protocol: key=value lines ending with a blank
 * line on stdin; on "get", answer username= and password=. "store" and
 * "erase" (and operations git may add) succeed and do nothing.
 *
 * A token is handed only to the hosts named with --host, and only over
 * https: git asks every helper for every remote, including one a hostile
 * repository or submodule points at. For any other request nothing is
 * printed, so git moves on to its next helper (or fails to authenticate).
 */
int
client_gitcred_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "host", required_argument, NULL, 'H' },
		{ "socket", required_argument, NULL, 's' },
		{ "username", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *name = NULL, *sock = NULL, *user = NULL, *op;
	const char *hosts[GITCRED_MAX_HOSTS];
	char line[4096], inuser[256] = "", inhost[256] = "", inproto[32] = "";
	struct secbuf *v = NULL;
	const uint8_t *p;
	size_t len, i, nhosts = 0;
	bool bad = false, cont = false, start;
	int c;

	while ((c = getopt_long(argc, argv, "n:H:s:u:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': name = optarg; break;
		case 's': sock = optarg; break;
		case 'u': user = optarg; break;
		case 'H':
			if (nhosts == GITCRED_MAX_HOSTS || *optarg == '\0' ||
			    strpbrk(optarg, "/ \t\r\n") != NULL) {
				hush_errf("hush git-credential", "--host "
				    "%s: want a host name (host or host:port, "
				    "at most %d)", optarg,
				    GITCRED_MAX_HOSTS);
				goto usage;
			}
			hosts[nhosts++] = optarg;
			break;
		case 'h':
			printf("usage: hush git-credential --name NAME "
			    "--host HOST... [-s SOCKET] [-u USER] "
			    "get|store|erase\n");
			return HUSH_EXIT_OK;
		default:
			goto usage;
		}
	}
	if (name == NULL || nhosts == 0 || optind + 1 != argc)
		goto usage;
	op = argv[optind];
	/* read git's description of what it wants, to the blank line */
	while (fgets(line, sizeof(line), stdin) != NULL) {
		/* the rest of an over-long line is not a line of its own */
		start = !cont;
		cont = strchr(line, '\n') == NULL;
		if (!start)
			continue;
		if (line[0] == '\n' || line[0] == '\0')
			break;
		if (strncmp(line, "username=", 9) == 0 && user == NULL)
			(void)gitcred_value(line, 9, inuser, sizeof(inuser));
		else if (strncmp(line, "host=", 5) == 0)
			bad |= !gitcred_value(line, 5, inhost, sizeof(inhost));
		else if (strncmp(line, "protocol=", 9) == 0)
			bad |= !gitcred_value(line, 9, inproto,
			    sizeof(inproto));
	}
	sodium_memzero(line, sizeof(line));
	if (strcmp(op, "get") != 0)
		return HUSH_EXIT_OK;
	if (bad || strcmp(inproto, "https") != 0 ||
	    !gitcred_host_listed(inhost, hosts, nhosts))
		return HUSH_EXIT_OK;
	if (user == NULL)
		user = inuser[0] != '\0' ? inuser : "x-access-token";
	if (client_credential(client_socket(sock), name, "git-credential",
	    &v) != HUSH_OK)
		return HUSH_EXIT_FAIL;
	p = secbuf_data(v);
	len = secbuf_len(v);
	while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
		len--;
	for (i = 0; i < len; i++)
		if (p[i] == '\n' || p[i] == '\0') {
			hush_errf("hush git-credential", "%s holds a line "
			    "break; git needs a one-line password", name);
			secbuf_unref(v);
			return HUSH_EXIT_FAIL;
		}
	printf("username=%s\npassword=", user);
	fflush(stdout);
	if (fdio_write_all(STDOUT_FILENO, (const char *)p, len) != 0 ||
	    fdio_write_all(STDOUT_FILENO, "\n", 1) != 0) {
		secbuf_unref(v);
		return HUSH_EXIT_FAIL;
	}
	secbuf_unref(v);
	return HUSH_EXIT_OK;
usage:
	fprintf(stderr, "usage: hush git-credential --name NAME --host HOST... "
	    "[-s SOCKET] [-u USER] get|store|erase\n");
	return HUSH_EXIT_USAGE;
}
