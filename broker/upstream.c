#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <sodium.h>

#include "conf/api.h"
#include "conf/hush_err.h"
#include "broker/upstream.h"

/*
 * Masking rules compiled for a value, kept while hushd serves that value:
 * compiling them is most of a call's cost. The value's reference keeps
 * its address from being reused by another.
 */
#define UP_RULES_CACHE	16
struct up_rules {
	unsigned		 refs;
	struct secbuf		*value;
	struct redact_rules	*rules;
	char			 name[API_MAX_NAME + 1];
	uint64_t		 used;
};

struct upcall;

/* libcurl's multi handle, driven by hushd's loop; made at first use. */
struct upstream_hub {
	struct broker	*b;
	CURLM		*multi;
	uv_timer_t	 timer;
	/* fairness: UPSTREAM_TURN_BUDGET bytes of answers a turn; calls
	 * over it wait in a queue (each holding a reference) */
	uv_check_t	 turn;		/* after each poll: a new budget */
	uv_idle_t	 spin;		/* poll does not block while some wait */
	long long	 budget;
	struct upcall	*wait_head, *wait_tail;
	int		 open;		/* handles not yet closed */
	struct up_rules	*cache[UP_RULES_CACHE];
	uint64_t	 tick;
};

/* One socket libcurl asked to watch. */
struct up_sock {
	uv_poll_t		 poll;
	curl_socket_t		 fd;
	struct upstream_hub	*hub;
};

struct upcall {
	struct conn		*cn;		/* NULL once the client is gone */
	struct broker		*b;
	struct gen		*gen;
	const struct conf_upstream *u;
	unsigned		 refs;		/* cn, each write, the timer */
	CURL			*easy;
	struct curl_slist	*hdrs;
	char			*url;
	char			 method[24];
	char			 path[HTTP_MAX_TARGET + 1];	/* for audit */
	struct secbuf		*value;
	char			 fp[AUDIT_FP_LEN + 1];
	struct up_rules		*rules;
	struct redact_stream	*rs;
	uv_timer_t		 idle;
	uv_shutdown_t		 shut;
	char			 err[CURL_ERROR_SIZE];
	/* the response */
	long			 status;
	bool			 skip_block;	/* a 1xx head */
	bool			 head_sent;
	bool			 in_body;
	bool			 no_body;	/* HEAD, 204, 304 */
	bool			 recv_paused;
	bool			 send_paused;
	bool			 turn_paused;	/* waits for the next turn */
	struct upcall		*wait_next;
	bool			 write_failed;
	bool			 finished;	/* curl done; writes draining */
	bool			 audited;
	bool			 timed_out;
	size_t			 queued;	/* bytes in writes to the client */
	/* one libcurl write's masked output, sent as one chunk */
	char			*batch;
	size_t			 batch_len, batch_cap;
	bool			 batching;
	/* the request body, read from the client as curl asks */
	char			*up;
	size_t			 up_len;
	size_t			 up_off;
	bool			 reading;
	unsigned long long	 up_total;
	char			 rbuf[16384];
	long long		 bytes_up;
	long long		 bytes_down;
	uint64_t		 t0;
};

struct up_write {
	uv_write_t		 w;
	struct upcall		*uc;
	size_t			 len;
	char			 data[];
};

static void up_finish(struct upcall *uc);
static void up_rules_unref(struct up_rules *e);

/* The request headers that never go up (besides the configured one). */
static const char *const up_drop_req[] = {
	"authorization", "x-api-key", "cookie", "connection", "keep-alive",
	"te", "trailer", "transfer-encoding", "upgrade", "host",
	"content-length", "expect",
	/* compressed answers could hide the key from the masking */
	"accept-encoding", NULL
};

/* Response headers hushd frames itself or that are hop-by-hop. */
static const char *const up_drop_resp[] = {
	"connection", "keep-alive", "transfer-encoding", "content-length",
	"te", "trailer", "upgrade", "proxy-authenticate", NULL
};

static bool
up_name_in(const char *name, size_t n, const char *const *list)
{
	size_t i;

	if (n >= 6 && strncasecmp(name, "proxy-", 6) == 0 &&
	    list == up_drop_req)
		return true;
	for (i = 0; list[i] != NULL; i++)
		if (strlen(list[i]) == n && strncasecmp(name, list[i], n) == 0)
			return true;
	return false;
}

static void
up_unref(struct upcall *uc)
{
	struct curl_slist *l;

	if (--uc->refs > 0)
		return;
	if (uc->easy != NULL)
		curl_easy_cleanup(uc->easy);
	/* the added header held the credential: no copy left behind */
	for (l = uc->hdrs; l != NULL; l = l->next)
		sodium_memzero(l->data, strlen(l->data));
	curl_slist_free_all(uc->hdrs);
	free(uc->url);
	secbuf_unref(uc->value);
	redact_stream_free(uc->rs);
	up_rules_unref(uc->rules);
	if (uc->batch != NULL) {
		sodium_memzero(uc->batch, uc->batch_cap);
		free(uc->batch);
	}
	if (uc->up != NULL) {
		sodium_memzero(uc->up, UPSTREAM_BODY_BUF + sizeof(uc->rbuf));
		free(uc->up);
	}
	gen_unref(uc->gen);
	sodium_memzero(uc, sizeof(*uc));
	free(uc);
}

static void
up_on_idle_close(uv_handle_t *h)
{
	up_unref(h->data);
}

/* libuv <-> libcurl */

static void up_check_done(struct upstream_hub *hub);
static void up_on_turn(uv_check_t *h);
static void up_on_spin(uv_idle_t *h);

static void
up_on_poll(uv_poll_t *h, int status, int events)
{
	struct up_sock *s = h->data;
	int flags = 0, running;

	if (status < 0)
		flags = CURL_CSELECT_ERR;
	else {
		if (events & UV_READABLE)
			flags |= CURL_CSELECT_IN;
		if (events & UV_WRITABLE)
			flags |= CURL_CSELECT_OUT;
	}
	curl_multi_socket_action(s->hub->multi, s->fd, flags, &running);
	up_check_done(s->hub);
}

static void
up_on_sock_close(uv_handle_t *h)
{
	free(h->data);
}

static int
up_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
    void *socketp)
{
	struct upstream_hub *hub = userp;
	struct up_sock *s = socketp;
	int ev = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			uv_poll_stop(&s->poll);
			uv_close((uv_handle_t *)&s->poll, up_on_sock_close);
			curl_multi_assign(hub->multi, fd, NULL);
		}
		return 0;
	}
	if (s == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL)
			return -1;
		s->fd = fd;
		s->hub = hub;
		if (uv_poll_init_socket(hub->b->loop, &s->poll, fd) != 0) {
			free(s);
			return -1;
		}
		s->poll.data = s;
		curl_multi_assign(hub->multi, fd, s);
	}
	if (what & CURL_POLL_IN)
		ev |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		ev |= UV_WRITABLE;
	uv_poll_start(&s->poll, ev, up_on_poll);
	return 0;
}

static void
up_on_timeout(uv_timer_t *t)
{
	struct upstream_hub *hub = t->data;
	int running;

	curl_multi_socket_action(hub->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	up_check_done(hub);
}

static int
up_timer_cb(CURLM *multi, long ms, void *userp)
{
	struct upstream_hub *hub = userp;

	(void)multi;
	if (ms < 0)
		uv_timer_stop(&hub->timer);
	else
		/* never act from inside libcurl: a zero timer runs next turn */
		uv_timer_start(&hub->timer, up_on_timeout, (uint64_t)ms, 0);
	return 0;
}

static struct upstream_hub *
up_hub(struct broker *b)
{
	struct upstream_hub *hub;

	if (b->hub != NULL)
		return b->hub;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (hub = calloc(1, sizeof(*hub))) == NULL)
		return NULL;
	if ((hub->multi = curl_multi_init()) == NULL) {
		free(hub);
		return NULL;
	}
	hub->b = b;
	uv_timer_init(b->loop, &hub->timer);
	hub->timer.data = hub;
	uv_check_init(b->loop, &hub->turn);
	hub->turn.data = hub;
	uv_idle_init(b->loop, &hub->spin);
	hub->spin.data = hub;
	hub->open = 3;
	hub->budget = UPSTREAM_TURN_BUDGET;
	uv_check_start(&hub->turn, up_on_turn);
	/* a transfer keeps the loop alive through its connection */
	uv_unref((uv_handle_t *)&hub->timer);
	uv_unref((uv_handle_t *)&hub->turn);
	uv_unref((uv_handle_t *)&hub->spin);
	curl_multi_setopt(hub->multi, CURLMOPT_SOCKETFUNCTION, up_socket_cb);
	curl_multi_setopt(hub->multi, CURLMOPT_SOCKETDATA, hub);
	curl_multi_setopt(hub->multi, CURLMOPT_TIMERFUNCTION, up_timer_cb);
	curl_multi_setopt(hub->multi, CURLMOPT_TIMERDATA, hub);
	b->hub = hub;
	return hub;
}

static void
up_on_hub_close(uv_handle_t *h)
{
	struct upstream_hub *hub = h->data;

	if (--hub->open == 0)
		free(hub);
}

static void
up_rules_unref(struct up_rules *e)
{
	if (e == NULL || --e->refs > 0)
		return;
	redact_rules_free(e->rules);
	secbuf_unref(e->value);
	free(e);
}

/* The rules masking value (credential name), compiled once per value. */
static struct up_rules *
up_rules_for(struct upstream_hub *hub, const char *name, struct secbuf *value)
{
	struct up_rules *e, **victim = &hub->cache[0];
	char rule[API_MAX_NAME + 16];
	size_t i;

	for (i = 0; i < UP_RULES_CACHE; i++) {
		e = hub->cache[i];
		if (e != NULL && e->value == value &&
		    strcmp(e->name, name) == 0) {
			e->used = ++hub->tick;
			e->refs++;
			return e;
		}
		if (e == NULL || (*victim != NULL && e->used < (*victim)->used))
			victim = &hub->cache[i];
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	snprintf(e->name, sizeof(e->name), "%s", name);
	snprintf(rule, sizeof(rule), "credential:%s", name);
	e->refs = 1;
	e->value = secbuf_ref(value);
	if ((e->rules = redact_rules_new(NULL, REDACT_NO_BUILTIN,
	    NULL)) == NULL ||
	    redact_rules_add_literal(e->rules, rule, secbuf_mut(value),
	    secbuf_len(value)) != HUSH_OK ||
	    redact_rules_compile(e->rules) != HUSH_OK) {
		up_rules_unref(e);
		return NULL;
	}
	/* the cache's reference; a call still using a replaced entry keeps
	 * it alive with its own */
	up_rules_unref(*victim);
	*victim = e;
	e->refs++;
	e->used = ++hub->tick;
	return e;
}

void
upstream_release(struct broker *b)
{
	struct upstream_hub *hub = b->hub;
	struct upcall *uc;
	size_t i;

	if (hub == NULL)
		return;
	b->hub = NULL;
	while ((uc = hub->wait_head) != NULL) {
		hub->wait_head = uc->wait_next;
		up_unref(uc);
	}
	curl_multi_cleanup(hub->multi);
	for (i = 0; i < UP_RULES_CACHE; i++)
		up_rules_unref(hub->cache[i]);
	uv_close((uv_handle_t *)&hub->timer, up_on_hub_close);
	uv_close((uv_handle_t *)&hub->turn, up_on_hub_close);
	uv_close((uv_handle_t *)&hub->spin, up_on_hub_close);
}

/* Writing to the client */

static void
up_resume(struct upcall *uc)
{
	int mask = (uc->recv_paused || uc->turn_paused ? CURLPAUSE_RECV : 0) |
	    (uc->send_paused ? CURLPAUSE_SEND : 0);

	if (uc->easy != NULL && !uc->finished)
		curl_easy_pause(uc->easy, mask);
}

/*
 * Fairness between clients: a call whose answer arrives when this turn's
 * budget is spent waits (paused, queued) for the next turn, and the loop
 * polls for other clients' requests in between. libcurl would otherwise
 * read and hand over all that a busy upstream sent at each wakeup.
 */
static void
up_wait_turn(struct upcall *uc)
{
	struct upstream_hub *hub = uc->b->hub;

	uc->turn_paused = true;
	uc->refs++;
	uc->wait_next = NULL;
	if (hub->wait_tail != NULL)
		hub->wait_tail->wait_next = uc;
	else
		hub->wait_head = uc;
	hub->wait_tail = uc;
	uv_idle_start(&hub->spin, up_on_spin);
}

static void
up_on_spin(uv_idle_t *h)
{
	(void)h;	/* only there to keep the next poll from blocking */
}

/* After each poll: a new budget, spent first on the calls that wait. */
static void
up_on_turn(uv_check_t *h)
{
	struct upstream_hub *hub = h->data;
	struct upcall *uc, *last = hub->wait_tail;
	bool done = last == NULL;

	hub->budget = UPSTREAM_TURN_BUDGET;
	while (!done && hub->budget > 0 && (uc = hub->wait_head) != NULL) {
		/* in order; one that waits again goes to the back */
		if ((hub->wait_head = uc->wait_next) == NULL)
			hub->wait_tail = NULL;
		done = uc == last;
		uc->turn_paused = false;
		up_resume(uc);
		up_unref(uc);
	}
	if (hub->wait_head == NULL)
		uv_idle_stop(&hub->spin);
}

static void
up_on_write(uv_write_t *w, int status)
{
	struct up_write *wr = (struct up_write *)w;
	struct upcall *uc = wr->uc;

	uc->queued -= wr->len;
	sodium_memzero(wr->data, wr->len);
	free(wr);
	if (uc->cn != NULL) {
		if (status < 0)
			conn_close(uc->cn);
		else if (uc->finished && uc->queued == 0)
			up_finish(uc);
		else if (uc->recv_paused &&
		    uc->queued < UPSTREAM_HIGH_WATER / 4) {
			uc->recv_paused = false;
			conn_set_write_timer(uc->cn, false);
			uv_timer_again(&uc->idle);
			up_resume(uc);
		}
	}
	up_unref(uc);
}

/* Queues len bytes to the client, as one chunk when chunk is set. */
static int
up_send(struct upcall *uc, const char *buf, size_t len, bool chunk)
{
	struct up_write *wr;
	size_t n = 0, total = len + (chunk ? 24 : 0);
	uv_buf_t b;

	if (uc->cn == NULL || uc->write_failed)
		return -1;
	if (len == 0 && chunk)
		return 0;
	if ((wr = malloc(sizeof(*wr) + total)) == NULL) {
		uc->write_failed = true;
		return -1;
	}
	if (chunk)
		n = (size_t)snprintf(wr->data, 24, "%zx\r\n", len);
	memcpy(wr->data + n, buf, len);
	n += len;
	if (chunk) {
		memcpy(wr->data + n, "\r\n", 2);
		n += 2;
	}
	wr->uc = uc;
	wr->len = n;
	b = uv_buf_init(wr->data, (unsigned)n);
	if (uv_write(&wr->w, (uv_stream_t *)&uc->cn->pipe, &b, 1,
	    up_on_write) != 0) {
		/* never close from here: libcurl may be calling us */
		free(wr);
		uc->write_failed = true;
		return -1;
	}
	uc->refs++;
	uc->queued += n;
	return 0;
}

/* The masking's output: the head's lines, then the body's chunks. */
static int
up_sink(void *arg, const uint8_t *buf, size_t len)
{
	struct upcall *uc = arg;

	if (uc->in_body)
		uc->bytes_down += (long long)len;
	if (uc->batching && uc->in_body && !uc->no_body) {
		if (len > uc->batch_cap - uc->batch_len) {
			size_t cap = uc->batch_cap == 0 ? 65536 : uc->batch_cap;
			char *p;

			while (cap - uc->batch_len < len)
				cap *= 2;
			if ((p = malloc(cap)) == NULL)
				return -1;
			if (uc->batch != NULL) {
				memcpy(p, uc->batch, uc->batch_len);
				sodium_memzero(uc->batch, uc->batch_cap);
				free(uc->batch);
			}
			uc->batch = p;
			uc->batch_cap = cap;
		}
		memcpy(uc->batch + uc->batch_len, buf, len);
		uc->batch_len += len;
		return 0;
	}
	return up_send(uc, (const char *)buf, len, uc->in_body && !uc->no_body);
}

static void
up_audit(struct upcall *uc, const char *result, int status,
    const char *reason)
{
	struct conn *cn = uc->cn;
	struct audit_event ev = {
		.event = "upstream", .result = result, .status = status,
		.bytes = uc->bytes_down, .fp = uc->fp[0] != '\0' ? uc->fp :
		    NULL, .reason = reason, .upstream = uc->u->name,
		.method = uc->method, .path = uc->path,
		.bytes_up = uc->bytes_up,
		.duration_ms = (long long)(uv_now(uc->b->loop) - uc->t0),
	};

	if (uc->audited)
		return;
	uc->audited = true;
	if (cn != NULL) {
		ev.client = cn->client->name;
		ev.has_peer = true;
		ev.uid = cn->peer.uid;
		ev.pid = cn->peer.pid;
	}
	audit_log(&uc->b->audit, &ev);
}

/* An error answer, when nothing of the upstream's was sent yet. */
static void
up_error(struct upcall *uc, int status, const char *msg)
{
	char head[384];
	int n;

	if (uc->head_sent || uc->cn == NULL)
		return;
	uc->head_sent = true;
	n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n"
	    "Connection: close\r\n\r\n{\"error\":\"%s\"}\n", status,
	    http_reason(status), strlen(msg) + 13, msg);
	if (n > 0 && (size_t)n < sizeof(head))
		up_send(uc, head, (size_t)n, false);
}

/* The call is over: after the last write, shut down and close. */
static void
up_on_shutdown(uv_shutdown_t *sh, int status)
{
	struct upcall *uc = sh->data;

	(void)status;
	if (uc->cn != NULL)
		conn_close(uc->cn);
	up_unref(uc);
}

static void
up_finish(struct upcall *uc)
{
	if (uc->cn == NULL)
		return;
	uc->shut.data = uc;
	if (uv_shutdown(&uc->shut, (uv_stream_t *)&uc->cn->pipe,
	    up_on_shutdown) != 0) {
		conn_close(uc->cn);
		return;
	}
	uc->refs++;
}

/* Stops the transfer (outside libcurl's callbacks). */
static void
up_stop_transfer(struct upcall *uc)
{
	if (uc->easy != NULL && uc->b->hub != NULL)
		curl_multi_remove_handle(uc->b->hub->multi, uc->easy);
	uc->finished = true;
	uv_timer_stop(&uc->idle);
	if (uc->reading && uc->cn != NULL) {
		/* keep reading only to see the client go */
	}
}

static void
up_done(struct upcall *uc, CURLcode res)
{
	up_stop_transfer(uc);
	if (uc->cn == NULL)
		return;
	if (res == CURLE_OK && !uc->write_failed) {
		if (redact_stream_finish(uc->rs) != HUSH_OK ||
		    (uc->in_body && !uc->no_body &&
		    up_send(uc, "0\r\n\r\n", 5, false) != 0)) {
			up_audit(uc, "client-gone", (int)uc->status,
			    "write to client failed");
			conn_close(uc->cn);
			return;
		}
		up_audit(uc, "ok", (int)uc->status, NULL);
	} else if (uc->write_failed) {
		up_audit(uc, "client-gone", (int)uc->status,
		    "write to client failed");
		conn_close(uc->cn);
		return;
	} else {
		bool timeout = res == CURLE_OPERATION_TIMEDOUT;

		/* a cut stream ends without its last chunk: the client sees
		 * it broken, never complete */
		up_audit(uc, timeout ? "timeout" : "upstream-error",
		    uc->head_sent ? (int)uc->status : timeout ? 504 : 502,
		    uc->err[0] != '\0' ? uc->err : curl_easy_strerror(res));
		if (uc->head_sent) {
			conn_close(uc->cn);
			return;
		}
		up_error(uc, timeout ? 504 : 502, timeout ?
		    "upstream timed out" : "upstream failed");
	}
	if (uc->queued == 0)
		up_finish(uc);
}

static void
up_check_done(struct upstream_hub *hub)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(hub->multi, &left)) != NULL) {
		struct upcall *uc = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &uc);
		if (uc != NULL)
			up_done(uc, m->data.result);
	}
}

/* libcurl's callbacks */

static size_t
up_header_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct upcall *uc = arg;
	size_t len = size * n, nl = len;
	const char *colon;
	char line[128];
	int k;

	if (uc->cn == NULL || uc->write_failed)
		return 0;
	uv_timer_again(&uc->idle);
	if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
		curl_easy_getinfo(uc->easy, CURLINFO_RESPONSE_CODE,
		    &uc->status);
		uc->skip_block = uc->status >= 100 && uc->status < 200;
		if (uc->skip_block)
			return len;
		uc->no_body = uc->status == 204 || uc->status == 304 ||
		    strcmp(uc->method, "HEAD") == 0;
		k = snprintf(line, sizeof(line), "HTTP/1.1 %ld %s\r\n",
		    uc->status, http_reason((int)uc->status));
		uc->head_sent = true;
		return up_send(uc, line, (size_t)k, false) == 0 ? len : 0;
	}
	while (nl > 0 && (buf[nl - 1] == '\n' || buf[nl - 1] == '\r'))
		nl--;
	if (nl == 0) {
		if (uc->skip_block) {
			uc->skip_block = false;
			return len;
		}
		if (!uc->head_sent)
			return 0;
		/* the framing is hushd's: the masking may change lengths */
		k = snprintf(line, sizeof(line), "%s"
		    "Connection: close\r\n\r\n", uc->no_body ? "" :
		    "Transfer-Encoding: chunked\r\n");
		if (up_send(uc, line, (size_t)k, false) != 0)
			return 0;
		uc->in_body = true;
		return len;
	}
	if (uc->skip_block || !uc->head_sent)
		return len;
	if ((colon = memchr(buf, ':', nl)) == NULL ||
	    up_name_in(buf, (size_t)(colon - buf), up_drop_resp))
		return len;
	/* a header may echo the key too: it goes through the masking */
	if (redact_stream_feed(uc->rs, (const uint8_t *)buf, nl) != HUSH_OK ||
	    redact_stream_feed(uc->rs, (const uint8_t *)"\r\n", 2) !=
	    HUSH_OK)
		return 0;
	return len;
}

static size_t
up_write_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct upcall *uc = arg;
	size_t len = size * n;
	int r;

	if (uc->cn == NULL || uc->write_failed)
		return 0;
	if (uc->queued >= UPSTREAM_HIGH_WATER) {
		/* a slow client: hold the upstream, not the bytes */
		uc->recv_paused = true;
		uv_timer_stop(&uc->idle);
		conn_set_write_timer(uc->cn, true);
		return CURL_WRITEFUNC_PAUSE;
	}
	uv_timer_again(&uc->idle);
	if (uc->no_body)
		return len;
	if (uc->b->hub->budget <= 0) {
		up_wait_turn(uc);
		return CURL_WRITEFUNC_PAUSE;
	}
	uc->b->hub->budget -= (long long)len;
	/* fewer, larger writes: a 64 KiB read of short lines is one chunk */
	uc->batching = true;
	r = redact_stream_feed(uc->rs, (const uint8_t *)buf, len);
	uc->batching = false;
	if (uc->batch_len > 0) {
		if (up_send(uc, uc->batch, uc->batch_len, true) != 0)
			r = HUSH_ERR_IO;
		sodium_memzero(uc->batch, uc->batch_len);
		uc->batch_len = 0;
	}
	return r == HUSH_OK ? len : 0;
}

static void up_read_start(struct upcall *uc);

static size_t
up_read_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct upcall *uc = arg;
	size_t want = size * n, have = uc->up_len - uc->up_off;
	struct conn *cn = uc->cn;

	if (cn == NULL)
		return CURL_READFUNC_ABORT;
	/* reading stopped when the buffer filled (up_on_read): libcurl
	 * takes from it now, so read on, or the rest of the body never
	 * comes and the call waits out its timeout */
	if (!uc->reading && have < UPSTREAM_BODY_BUF)
		up_read_start(uc);
	if (have == 0) {
		if (cn->req.body_done || !cn->req.has_body)
			return 0;
		uc->send_paused = true;
		return CURL_READFUNC_PAUSE;
	}
	if (want > have)
		want = have;
	memcpy(buf, uc->up + uc->up_off, want);
	sodium_memzero(uc->up + uc->up_off, want);
	uc->up_off += want;
	uc->bytes_up += (long long)want;
	uv_timer_again(&uc->idle);
	if (uc->up_off == uc->up_len)
		uc->up_off = uc->up_len = 0;
	return want;
}

/* Reading the client: the body, then only its going away */

static int
up_on_body(void *arg, const char *buf, size_t len)
{
	struct upcall *uc = arg;

	uc->up_total += len;
	if (uc->up_total > uc->u->max_request_size)
		return -1;
	if (uc->up_off > 0) {
		memmove(uc->up, uc->up + uc->up_off, uc->up_len - uc->up_off);
		uc->up_len -= uc->up_off;
		uc->up_off = 0;
	}
	if (len > UPSTREAM_BODY_BUF + sizeof(uc->rbuf) - uc->up_len)
		return -1;	/* cannot happen: reading stops first */
	memcpy(uc->up + uc->up_len, buf, len);
	uc->up_len += len;
	return 0;
}

static void
up_on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct conn *cn = h->data;

	(void)hint;
	*buf = uv_buf_init(cn->up->rbuf, sizeof(cn->up->rbuf));
}

static void
up_body_bytes(struct upcall *uc, const char *buf, size_t len)
{
	struct http_request *req = &uc->cn->req;
	size_t used;
	int r;

	if (len == 0 || req->body_done || !req->has_body)
		return;	/* after the body: nothing more is read for it */
	r = http_request_feed_body(req, buf, len, &used);
	if (r == HUSH_ERR_INVALID) {
		bool big = uc->up_total > uc->u->max_request_size;

		up_audit(uc, "bad-request", big ? 413 : 400, big ?
		    "request body over max_request_size" :
		    "malformed request body");
		up_stop_transfer(uc);
		if (uc->head_sent) {
			conn_close(uc->cn);
			return;
		}
		up_error(uc, big ? 413 : 400, big ? "request body too large" :
		    "malformed request body");
		if (uc->queued == 0)
			up_finish(uc);
		return;
	}
	if (uc->send_paused && uc->up_len > uc->up_off) {
		uc->send_paused = false;
		up_resume(uc);
	} else if (uc->send_paused && req->body_done) {
		uc->send_paused = false;
		up_resume(uc);
	}
}

static void
up_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *cn = s->data;
	struct upcall *uc = cn->up;

	(void)buf;
	if (uc == NULL || cn->state == CONN_CLOSING)
		return;
	if (nread < 0) {
		/* the client went away: the upstream call goes too */
		if (!uc->finished)
			up_audit(uc, "client-gone", 0,
			    "client closed during the call");
		conn_close(cn);
		return;
	}
	if (uc->finished)
		return;
	up_body_bytes(uc, uc->rbuf, (size_t)nread);
	if (uc->cn != NULL && !uc->finished &&
	    uc->up_len - uc->up_off >= UPSTREAM_BODY_BUF) {
		uv_read_stop(s);
		uc->reading = false;
	}
}

static void
up_read_start(struct upcall *uc)
{
	if (uc->reading || uc->cn == NULL)
		return;
	uv_read_stop((uv_stream_t *)&uc->cn->pipe);
	if (uv_read_start((uv_stream_t *)&uc->cn->pipe, up_on_alloc,
	    up_on_read) == 0)
		uc->reading = true;
}

static void
up_on_idle(uv_timer_t *t)
{
	struct upcall *uc = t->data;

	if (uc->cn == NULL || uc->finished)
		return;
	uc->timed_out = true;
	up_audit(uc, "timeout", uc->head_sent ? (int)uc->status : 504,
	    "no bytes either way for the upstream's timeout");
	up_stop_transfer(uc);
	if (uc->head_sent) {
		conn_close(uc->cn);
		return;
	}
	up_error(uc, 504, "upstream timed out");
	if (uc->queued == 0)
		up_finish(uc);
}

/* The names a forwarder sets (GET /v1/upstream/NAME) */

char *
upstream_info_json(const struct conf_upstream *u, size_t *lenp)
{
	size_t cap = strlen(u->name) + 64, i, n;
	char *out;

	/* names are letters, digits and '_' (the loader checks): no
	 * escaping */
	for (i = 0; i < u->nenv; i++)
		cap += strlen(u->env[i]) + 3;
	if (u->key_env != NULL)
		cap += strlen(u->key_env);
	if ((out = malloc(cap)) == NULL)
		return NULL;
	n = (size_t)snprintf(out, cap, "{\"name\":\"%s\",\"url_env\":[",
	    u->name);
	for (i = 0; i < u->nenv; i++)
		n += (size_t)snprintf(out + n, cap - n, "%s\"%s\"",
		    i > 0 ? "," : "", u->env[i]);
	if (u->key_env != NULL)
		n += (size_t)snprintf(out + n, cap - n,
		    "],\"key_env\":\"%s\"}\n", u->key_env);
	else
		n += (size_t)snprintf(out + n, cap - n,
		    "],\"key_env\":null}\n");
	*lenp = n;
	return out;
}

/* The route */

void
upstream_begin(struct conn *cn, const struct policy_verdict *v,
    const char *path, size_t path_len, const char *query, size_t qlen)
{
	struct upcall *uc;
	const struct conf_upstream *u = &cn->gen->conf.upstreams[v->upstream];
	size_t n;

	cn->state = CONN_UPSTREAM;
	uv_read_stop((uv_stream_t *)&cn->pipe);
	cn->reading = false;
	if ((uc = calloc(1, sizeof(*uc))) == NULL ||
	    (uc->up = malloc(UPSTREAM_BODY_BUF + sizeof(uc->rbuf))) == NULL) {
		free(uc);
		conn_close(cn);
		return;
	}
	uc->cn = cn;
	uc->b = cn->b;
	uc->gen = gen_ref(cn->gen);
	uc->u = u;
	uc->refs = 2;	/* the connection and the idle timer */
	uc->t0 = uv_now(cn->b->loop);
	snprintf(uc->method, sizeof(uc->method), "%s",
	    http_method_str((enum http_method)cn->req.method));
	n = path_len < sizeof(uc->path) - 1 ? path_len : sizeof(uc->path) - 1;
	memcpy(uc->path, path, n);
	uc->path[n] = '\0';
	uv_timer_init(cn->b->loop, &uc->idle);
	uc->idle.data = uc;
	uv_timer_start(&uc->idle, up_on_idle, u->timeout_ms, u->timeout_ms);
	cn->up = uc;
	n = strlen(u->url) + path_len + qlen + 1;
	if ((uc->url = malloc(n)) != NULL)
		snprintf(uc->url, n, "%s%.*s%.*s", u->url, (int)path_len, path,
		    (int)qlen, query);
	if (uc->url == NULL) {
		up_audit(uc, "unavailable", 503, "out of memory");
		up_error(uc, 503, "out of memory");
		uc->finished = true;
		return;
	}
	if (cn->req.content_length != ULLONG_MAX &&
	    cn->req.content_length > u->max_request_size) {
		up_audit(uc, "bad-request", 413,
		    "request body over max_request_size");
		up_error(uc, 413, "request body too large");
		uc->finished = true;
		return;
	}
	/* the credential's value, as a GET would load it */
	cn->cs = &cn->gen->creds[v->cred];
	cn->cred_name = cn->cs->c->name;
	conn_get_value(cn);
}

static int
up_add_header(struct upcall *uc, const char *line)
{
	struct curl_slist *l = curl_slist_append(uc->hdrs, line);

	if (l == NULL)
		return -1;
	uc->hdrs = l;
	return 0;
}

/* The client's headers that go up, then the configured one. */
static int
up_headers(struct upcall *uc)
{
	const struct http_request *req = &uc->cn->req;
	const struct conf_upstream *u = uc->u;
	const char *p = req->fwd, *end = req->fwd + req->fwd_len;
	struct secbuf *h;
	size_t hl;
	char *line;
	int r;

	while (p != NULL && p < end) {
		const char *eol = memchr(p, '\r', (size_t)(end - p));
		const char *colon = memchr(p, ':', (size_t)(end - p));
		size_t ln;

		if (eol == NULL)
			eol = end;
		ln = (size_t)(eol - p);
		if (colon != NULL && colon < eol &&
		    !up_name_in(p, (size_t)(colon - p), up_drop_req) &&
		    !((size_t)(colon - p) == strlen(u->header_name) &&
		    strncasecmp(p, u->header_name, (size_t)(colon - p)) ==
		    0)) {
			if ((line = strndup(p, ln)) == NULL)
				return -1;
			r = up_add_header(uc, line);
			free(line);
			if (r != 0)
				return -1;
		}
		p = eol + 2;
	}
	/* no 100-continue round trip; the body streams at once */
	if (up_add_header(uc, "Expect:") != 0)
		return -1;
	hl = strlen(u->header_name) + 2 + strlen(u->header_pre) +
	    secbuf_len(uc->value) + strlen(u->header_post) + 1;
	if ((h = secbuf_new(hl)) == NULL)
		return -1;
	line = (char *)secbuf_mut(h);
	snprintf(line, hl, "%s: %s%.*s%s", u->header_name, u->header_pre,
	    (int)secbuf_len(uc->value), (const char *)secbuf_mut(uc->value),
	    u->header_post);
	r = up_add_header(uc, line);
	secbuf_unref(h);
	return r;
}

static int
up_easy(struct upcall *uc)
{
	const struct http_request *req = &uc->cn->req;
	CURL *e;
	curl_off_t size;

	if ((e = uc->easy = curl_easy_init()) == NULL)
		return -1;
	size = req->content_length == ULLONG_MAX ? -1 :
	    (curl_off_t)req->content_length;
	if (!req->has_body)
		size = 0;
	curl_easy_setopt(e, CURLOPT_URL, uc->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, uc);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, uc->err);
	/* https, or http to loopback as the configuration allowed */
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	/* the credential goes to the upstream, never to a proxy */
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (uc->u->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, uc->u->ca_file);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(uc->u->timeout_ms < 30000 ? uc->u->timeout_ms : 30000));
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 64L * 1024);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, uc->hdrs);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, up_header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, uc);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, up_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, uc);
	curl_easy_setopt(e, CURLOPT_READFUNCTION, up_read_cb);
	curl_easy_setopt(e, CURLOPT_READDATA, uc);
	if (strcmp(uc->method, "GET") == 0)
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	else if (strcmp(uc->method, "HEAD") == 0)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (strcmp(uc->method, "POST") == 0) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, size);
	} else {
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, size);
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, uc->method);
	}
	return 0;
}

void
upstream_on_value(struct conn *cn, struct secbuf *value, const char *fp,
    int r, const char *reason)
{
	struct upcall *uc = cn->up;
	struct upstream_hub *hub;

	if (uc == NULL || uc->cn == NULL)
		return;
	if (r != HUSH_OK || value == NULL) {
		up_audit(uc, "source-error", 502, reason);
		up_error(uc, 502, "credential could not be read");
		goto fail;
	}
	uc->value = secbuf_ref(value);
	snprintf(uc->fp, sizeof(uc->fp), "%s", fp != NULL ? fp : "");
	/* what comes back is masked for exactly this value */
	if ((hub = up_hub(cn->b)) == NULL ||
	    (uc->rules = up_rules_for(hub, cn->cs->c->name, value)) == NULL ||
	    (uc->rs = redact_stream_new(uc->rules->rules, up_sink, uc)) ==
	    NULL) {
		/* a value too short to mask is never sent up */
		up_audit(uc, "unavailable", 502,
		    "credential cannot be masked (shorter than "
		    "min_literal_length?)");
		up_error(uc, 502, "credential cannot be masked");
		goto fail;
	}
	if (up_headers(uc) != 0 || up_easy(uc) != 0 ||
	    curl_multi_add_handle(hub->multi, uc->easy) != CURLM_OK) {
		up_audit(uc, "unavailable", 503, "out of memory");
		up_error(uc, 503, "out of memory");
		goto fail;
	}
	/* body bytes read along with the head */
	if (cn->req.early_len > 0) {
		up_on_body(uc, cn->req.early, cn->req.early_len);
		sodium_memzero(cn->req.early, cn->req.early_len);
		cn->req.early_len = 0;
	}
	cn->req.on_body = up_on_body;
	cn->req.body_arg = uc;
	if (cn->buflen > 0) {
		up_body_bytes(uc, cn->buf, cn->buflen);
		sodium_memzero(cn->buf, cn->buflen);
		cn->buflen = 0;
	}
	up_read_start(uc);
	return;
fail:
	uc->finished = true;
	if (uc->queued == 0)
		up_finish(uc);
}

void
upstream_cancel(struct conn *cn)
{
	struct upcall *uc = cn->up;

	if (uc == NULL)
		return;
	cn->up = NULL;
	if (!uc->audited)
		up_audit(uc, "client-gone", 0, "connection closed during the "
		    "call");
	if (uc->easy != NULL && !uc->finished && uc->b->hub != NULL)
		curl_multi_remove_handle(uc->b->hub->multi, uc->easy);
	uc->finished = true;
	uc->cn = NULL;
	uv_timer_stop(&uc->idle);
	uv_close((uv_handle_t *)&uc->idle, up_on_idle_close);
	up_unref(uc);
}
