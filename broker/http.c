#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "conf/hush_err.h"
#include "broker/http.h"
#include "broker/outbuf.h"

static int http_on_message_begin(http_parser *);
static int http_on_url(http_parser *, const char *, size_t);
static int http_on_header_field(http_parser *, const char *, size_t);
static int http_on_header_value(http_parser *, const char *, size_t);
static int http_on_headers_complete(http_parser *);
static int http_on_message_complete(http_parser *);
static int http_on_body(http_parser *, const char *, size_t);

static const http_parser_settings http_settings = {
	.on_message_begin = http_on_message_begin,
	.on_url = http_on_url,
	.on_header_field = http_on_header_field,
	.on_header_value = http_on_header_value,
	.on_headers_complete = http_on_headers_complete,
	.on_message_complete = http_on_message_complete,
	.on_body = http_on_body,
};

/* Appends to a growing buffer; false when out of memory. */
static bool
http_append(struct http_request *req, char **buf, size_t *len, size_t *cap,
    const char *at, size_t n)
{
	if (n > *cap - *len) {
		size_t ncap = *cap == 0 ? 1024 : *cap;
		char *p;

		while (ncap - *len < n)
			ncap *= 2;
		if ((p = malloc(ncap)) == NULL) {
			req->oom = true;
			return false;
		}
		/* headers hold tokens: no realloc leaving copies behind */
		if (*buf != NULL) {
			memcpy(p, *buf, *len);
			sodium_memzero(*buf, *cap);
			free(*buf);
		}
		*buf = p;
		*cap = ncap;
	}
	memcpy(*buf + *len, at, n);
	*len += n;
	return true;
}

static bool
http_fwd(struct http_request *req, const char *at, size_t n)
{
	return http_append(req, &req->fwd, &req->fwd_len, &req->fwd_cap, at,
	    n);
}

/* The upstream route keeps headers: decided once the target is read. */
static void
http_check_upstream(struct http_request *req)
{
	size_t n = strlen(HTTP_UPSTREAM_PREFIX);

	if (!req->upstream && req->fwd == NULL && req->target_len > n &&
	    memcmp(req->target, HTTP_UPSTREAM_PREFIX, n) == 0)
		req->upstream = true;
}

void
http_request_init(struct http_request *req, size_t max_head)
{
	memset(req, 0, sizeof(*req));
	req->max_head = max_head;
	http_request_reset(req);
}

void
http_request_reset(struct http_request *req)
{
	size_t max_head = req->max_head;

	/* the token is the client's secret: leave no copy behind */
	sodium_memzero(req->auth, sizeof(req->auth));
	if (req->fwd != NULL) {
		sodium_memzero(req->fwd, req->fwd_cap);
		free(req->fwd);
	}
	if (req->early != NULL) {
		sodium_memzero(req->early, req->early_cap);
		free(req->early);
	}
	memset(req, 0, sizeof(*req));
	req->max_head = max_head;
	http_parser_init(&req->parser, HTTP_REQUEST);
	req->parser.data = req;
}

static int
http_on_message_begin(http_parser *p)
{
	struct http_request *req = p->data;

	req->started = true;
	return 0;
}

static int
http_on_url(http_parser *p, const char *at, size_t len)
{
	struct http_request *req = p->data;

	req->started = true;
	if (len > HTTP_MAX_TARGET - req->target_len) {
		req->status = 431;
		return -1;
	}
	memcpy(req->target + req->target_len, at, len);
	req->target_len += len;
	req->target[req->target_len] = '\0';
	return 0;
}

/* A header's value is complete: decide what the name was. */
static void
http_name_done(struct http_request *req)
{
	req->hcur = HTTP_HDR_OTHER;
	if (req->hname_long)
		return;
	if (req->hname_len == 13 &&
	    strncasecmp(req->hname, "authorization", 13) == 0)
		req->hcur = HTTP_HDR_AUTH;
	else if (req->hname_len == 17 &&
	    strncasecmp(req->hname, "transfer-encoding", 17) == 0)
		req->hcur = HTTP_HDR_TE;
}

static int
http_on_header_field(http_parser *p, const char *at, size_t len)
{
	struct http_request *req = p->data;

	http_check_upstream(req);
	if (req->upstream) {
		if (req->in_value && !http_fwd(req, "\r\n", 2))
			return -1;
		if (!http_fwd(req, at, len))
			return -1;
	}
	if (req->in_value) {
		/* a new header begins */
		req->in_value = false;
		req->hname_len = 0;
		req->hname_long = false;
	}
	if (len > sizeof(req->hname) - req->hname_len)
		req->hname_long = true;
	else {
		memcpy(req->hname + req->hname_len, at, len);
		req->hname_len += len;
	}
	return 0;
}

static int
http_on_header_value(http_parser *p, const char *at, size_t len)
{
	struct http_request *req = p->data;

	if (req->upstream && !req->in_value && !http_fwd(req, ": ", 2))
		return -1;
	if (req->upstream && !http_fwd(req, at, len))
		return -1;
	if (!req->in_value) {
		req->in_value = true;
		http_name_done(req);
		if (req->hcur == HTTP_HDR_AUTH) {
			if (req->has_auth)
				req->auth_bad = true;	/* sent twice */
			req->has_auth = true;
		} else if (req->hcur == HTTP_HDR_TE)
			req->has_te = true;
	}
	if (req->hcur != HTTP_HDR_AUTH || req->auth_bad)
		return 0;
	if (len > sizeof(req->auth) - req->auth_len) {
		req->auth_bad = true;
		return 0;
	}
	memcpy(req->auth + req->auth_len, at, len);
	req->auth_len += len;
	return 0;
}

static int
http_on_headers_complete(http_parser *p)
{
	struct http_request *req = p->data;
	int body;

	/* HTTP/0.9, 2, 3... carried over this parser are not what they say */
	if (p->http_major != 1 || p->http_minor > 1) {
		req->status = 505;
		return -1;
	}
	body = req->has_te || (p->flags & F_CHUNKED) != 0 ||
	    (p->content_length != 0 && p->content_length != ULLONG_MAX);
	http_check_upstream(req);
	if (req->upstream) {
		if (req->in_value && !http_fwd(req, "\r\n", 2))
			return -1;
		/* the route reads the body; the head is what it routes on */
		req->method = p->method;
		req->keep_alive = false;
		req->has_body = body;
		req->content_length = (p->flags & F_CHUNKED) != 0 ?
		    ULLONG_MAX : p->content_length;
		req->head_done = true;
		req->complete = true;
		return 0;
	}
	if (body) {
		/* every endpoint is a GET: a body is never read */
		req->status = p->method == HTTP_GET ? 413 : 405;
		return -1;
	}
	req->method = p->method;
	req->keep_alive = http_should_keep_alive(p) != 0;
	return 0;
}

static int
http_on_message_complete(http_parser *p)
{
	struct http_request *req = p->data;

	req->complete = true;
	if (req->upstream)
		req->body_done = true;
	/* one request at a time: the caller answers before reading on */
	http_parser_pause(p, 1);
	return 0;
}

int
http_request_feed(struct http_request *req, const char *buf, size_t len,
    size_t *usedp)
{
	size_t n;
	enum http_errno e;

	if (req->complete || req->status != 0)
		return HUSH_ERR_INVALID;	/* reset first */
	if (len == 0)
		return HUSH_ERR_INCOMPLETE;
	n = http_parser_execute(&req->parser, &http_settings, buf, len);
	e = HTTP_PARSER_ERRNO(&req->parser);
	req->used += n;
	/* on the upstream route, a body came along with the head's end */
	if (req->used > req->max_head && !req->head_done) {
		req->status = 431;
		return HUSH_ERR_TOO_LARGE;
	}
	/* the upstream route's head is complete before its body is parsed:
	 * a framing the parser refuses after it (a Transfer-Encoding other
	 * than chunked, a malformed chunk) is still a bad request */
	if (req->complete && req->upstream && e != HPE_OK &&
	    e != HPE_PAUSED) {
		req->status = 400;
		return HUSH_ERR_INVALID;
	}
	if (req->complete) {
		*usedp = n;
		return HUSH_OK;
	}
	if (e == HPE_OK && n == len)
		return HUSH_ERR_INCOMPLETE;
	if (req->status == 0)
		req->status = e == HPE_HEADER_OVERFLOW ? 431 : 400;
	return req->status == 413 || req->status == 431 ?
	    HUSH_ERR_TOO_LARGE : HUSH_ERR_INVALID;
}

static int
http_on_body(http_parser *p, const char *at, size_t len)
{
	struct http_request *req = p->data;

	if (req->on_body != NULL)
		return req->on_body(req->body_arg, at, len) != 0 ? -1 : 0;
	/* read along with the head: kept until the route takes it */
	return http_append(req, &req->early, &req->early_len,
	    &req->early_cap, at, len) ? 0 : -1;
}

int
http_request_feed_body(struct http_request *req, const char *buf,
    size_t len, size_t *usedp)
{
	size_t n;

	*usedp = 0;
	if (req->body_done)
		return HUSH_OK;
	if (len == 0)
		return HUSH_ERR_INCOMPLETE;
	n = http_parser_execute(&req->parser, &http_settings, buf, len);
	*usedp = n;
	if (req->body_done)
		return HUSH_OK;
	if (HTTP_PARSER_ERRNO(&req->parser) == HPE_OK && n == len)
		return HUSH_ERR_INCOMPLETE;
	return HUSH_ERR_INVALID;
}

bool
http_request_bearer(const struct http_request *req, const char **tokp,
    size_t *lenp)
{
	const char *p = req->auth, *end = req->auth + req->auth_len;

	if (!req->has_auth || req->auth_bad || req->auth_len < 7 ||
	    strncasecmp(p, "bearer ", 7) != 0)
		return false;
	p += 7;
	while (p < end && *p == ' ')
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (p == end)
		return false;
	*tokp = p;
	*lenp = (size_t)(end - p);
	return true;
}

const char *
http_reason(int status)
{
	switch (status) {
	case 200:	return "OK";
	case 400:	return "Bad Request";
	case 401:	return "Unauthorized";
	case 403:	return "Forbidden";
	case 404:	return "Not Found";
	case 405:	return "Method Not Allowed";
	case 408:	return "Request Timeout";
	case 413:	return "Content Too Large";
	case 429:	return "Too Many Requests";
	case 431:	return "Request Header Fields Too Large";
	case 500:	return "Internal Server Error";
	case 502:	return "Bad Gateway";
	case 503:	return "Service Unavailable";
	case 504:	return "Gateway Timeout";
	case 505:	return "HTTP Version Not Supported";
	}
	return "Error";
}

/*
 * Built by hand rather than with snprintf: this runs once per answer,
 * and the format parser cost more than the rest of the answer's path.
 */
size_t
http_head_write(const struct http_head *hd, char *buf, size_t cap)
{
	struct outbuf o = { buf, 0, cap, false };

	if (hd->status < 100 || hd->status > 999)
		return 0;
	outbuf_put(&o, "HTTP/1.1 ", 9);
	outbuf_uint(&o, (unsigned)hd->status);
	outbuf_put(&o, " ", 1);
	outbuf_puts(&o, http_reason(hd->status));
	outbuf_put(&o, "\r\nContent-Type: ", 16);
	outbuf_puts(&o, hd->ctype);
	outbuf_put(&o, "\r\nContent-Length: ", 18);
	outbuf_uint(&o, hd->clen);
	outbuf_puts(&o, "\r\nCache-Control: no-store\r\n");
	if (hd->status == 401)
		outbuf_puts(&o, "WWW-Authenticate: Bearer\r\n");
	if (hd->close)
		outbuf_puts(&o, "Connection: close\r\n");
	outbuf_put(&o, "\r\n", 2);
	return o.over ? 0 : o.len;
}
