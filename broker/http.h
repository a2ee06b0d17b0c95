/*
 * http.h: HTTP/1.1 request parsing (pure: bytes in, a request out).
 *
 * The only libhttp-parser user on the server side. A request is fed in
 * pieces as they arrive; the parser copies what routing and policy need
 * (method, target, Authorization, keep-alive) into fixed buffers, so the
 * caller keeps no more than the bytes of a request that follows. Request
 * bodies are refused, except on the upstream route (HTTP_UPSTREAM_PREFIX,
 * issue 11): there the headers to forward are kept and the head is
 * complete at its blank line; the body is then fed with
 * http_request_feed_body.
 */
#ifndef HUSH_HTTP_H
#define HUSH_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <http_parser.h>

#define HTTP_MAX_TARGET		512	/* request target, bytes */
#define HTTP_MAX_AUTH		256	/* Authorization value, bytes */
#define HTTP_MAX_HNAME		32	/* longer names are not ours */
#define HTTP_UPSTREAM_PREFIX	"/v1/upstream/"

enum http_hdr {
	HTTP_HDR_OTHER = 0,
	HTTP_HDR_AUTH,
	HTTP_HDR_TE,		/* Transfer-Encoding: a body follows */
};

struct http_request {
	http_parser	 parser;
	size_t		 max_head;	/* request line + headers, bytes */
	size_t		 used;		/* bytes of this request consumed */
	int		 status;	/* the error answer when parsing fails */
	bool		 started;	/* at least one byte arrived */
	bool		 complete;
	bool		 keep_alive;
	unsigned	 method;	/* enum http_method */
	char		 target[HTTP_MAX_TARGET + 1];
	size_t		 target_len;
	/* header being read */
	char		 hname[HTTP_MAX_HNAME];
	size_t		 hname_len;
	bool		 hname_long;
	bool		 in_value;
	enum http_hdr	 hcur;
	/* Authorization: the client's bearer token is a secret of its own */
	bool		 has_auth;
	char		 auth[HTTP_MAX_AUTH];
	size_t		 auth_len;
	bool		 auth_bad;	/* too long, or sent twice */
	bool		 has_te;
	/* the upstream route: headers to forward, "Name: value\r\n" each */
	bool		 upstream;
	bool		 head_done;
	bool		 has_body;
	bool		 body_done;
	char		*fwd;		/* malloc'd, or NULL */
	size_t		 fwd_len, fwd_cap;
	char		*early;		/* body bytes read with the head */
	size_t		 early_len, early_cap;
	bool		 oom;
	unsigned long long content_length;	/* ULLONG_MAX: not given */
	/* body feeding */
	int		(*on_body)(void *arg, const char *buf, size_t len);
	void		*body_arg;
};

/* Prepares req for a new connection; max_head caps line + headers. */
void http_request_init(struct http_request *req, size_t max_head);

/* Forgets the last request (wiping its token), ready for the next. */
void http_request_reset(struct http_request *req);

/*
 * Feeds len bytes. Returns HUSH_OK when a whole request has been read
 * (*usedp bytes of buf belong to it; the rest belong to the next one),
 * HUSH_ERR_INCOMPLETE when all of buf was taken and more is needed, or
 * HUSH_ERR_INVALID / HUSH_ERR_TOO_LARGE with req->status set to the
 * answer (400, 405, 505; 413, 431); the connection must then close. Only
 * HTTP/1.0 and HTTP/1.1 are accepted.
 */
int http_request_feed(struct http_request *req, const char *buf, size_t len,
    size_t *usedp);

/*
 * The bearer token of the request, if it sent "Authorization: Bearer T".
 * Returns true and points *tokp at it (valid until reset).
 */
bool http_request_bearer(const struct http_request *req, const char **tokp,
    size_t *lenp);

/*
 * The upstream route, after http_request_feed returned HUSH_OK with
 * has_body set: feeds body bytes (chunked or Content-Length framed),
 * passing the payload to on_body. Returns HUSH_OK when the body ended
 * (*usedp bytes of buf were its last), HUSH_ERR_INCOMPLETE when all of
 * buf was taken, HUSH_ERR_INVALID when it is malformed or on_body
 * refused (returned non-zero).
 */
int http_request_feed_body(struct http_request *req, const char *buf,
    size_t len, size_t *usedp);

/* The reason phrase for a status code hush answers with. */
const char *http_reason(int status);

/* What a response head says besides its status. */
struct http_head {
	int		 status;	/* 100..999 */
	const char	*ctype;		/* Content-Type */
	size_t		 clen;		/* Content-Length */
	bool		 close;		/* Connection: close */
};

/*
 * Writes the head of a response (status line, Content-Type,
 * Content-Length, Cache-Control: no-store, WWW-Authenticate for 401,
 * Connection: close when asked, the empty line) into buf. Returns its
 * length, or 0 when it does not fit in cap: never a part of it.
 */
size_t http_head_write(const struct http_head *hd, char *buf, size_t cap);

#endif
