#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "conf/hush_err.h"
#include "broker/internal.h"
#include "broker/route.h"

#define CONN_LIST_MAX		(256 * 1024)

static void conn_process(struct conn *cn);
static void conn_error(struct conn *cn, int status, const char *msg);
static void conn_read_start(struct conn *cn);
static const struct conf_client *conn_find_client(struct gen *g,
    const char *path, size_t *idxp);
static void conn_audit(struct conn *cn, const char *result, int status,
    long long bytes, const char *fp, const char *reason);
static void conn_systemd_fail(struct conn *cn);
static void conn_queue(struct conn *cn);
static void conn_batch_clear(struct conn *cn);

static void
conn_on_close(uv_handle_t *h)
{
	struct conn *cn = h->data;

	if (--cn->nopen > 0)
		return;
	/* both handles are closed: nothing of libuv refers to cn now */
	if (cn->gen != NULL)
		gen_unref(cn->gen);
	conn_batch_clear(cn);
	free(cn->head);
	free(cn->sock_path);
	/* the upstream route's headers and early body are freed here */
	http_request_reset(&cn->req);
	/* the read buffer held raw requests, Authorization headers too */
	sodium_memzero(cn, sizeof(*cn));
	free(cn);
}

static void
conn_unready(struct conn *cn)
{
	if (!cn->ready)
		return;
	if (cn->rprev != NULL)
		cn->rprev->rnext = cn->rnext;
	else
		*cn->rlist = cn->rnext;
	if (cn->rnext != NULL)
		cn->rnext->rprev = cn->rprev;
	cn->rprev = cn->rnext = NULL;
	cn->ready = false;
}

void
conn_close(struct conn *cn)
{
	struct broker *b = cn->b;

	if (cn->state == CONN_CLOSING)
		return;
	if (cn->state == CONN_LINGER)
		b->nlinger--;
	cn->state = CONN_CLOSING;
	serve_forget(&cn->waiter);
	b->upstream->cancel(cn);
	conn_unready(cn);
	if (cn->counted)
		b->nconns--;
	if (cn->prev != NULL)
		cn->prev->nextc = cn->nextc;
	else if (b->conns == cn)
		b->conns = cn->nextc;
	if (cn->nextc != NULL)
		cn->nextc->prev = cn->prev;
	cn->prev = cn->nextc = NULL;
	uv_close((uv_handle_t *)&cn->timer, conn_on_close);
	uv_close((uv_handle_t *)&cn->pipe, conn_on_close);
}

static void
conn_on_timer(uv_timer_t *t)
{
	struct conn *cn = t->data;
	uint64_t now = uv_now(cn->b->loop);

	cn->armed = 0;
	if (cn->state == CONN_CLOSING || cn->timer_mode == CONN_TIMER_NONE)
		return;
	if (now < cn->deadline) {
		/* armed for an earlier mode (conn_timer): the rest now */
		cn->armed = cn->deadline;
		uv_timer_start(&cn->timer, conn_on_timer, cn->deadline - now,
		    0);
		return;
	}
	if (cn->timer_mode == CONN_TIMER_WRITE) {
		/* a peer that does not read must not hold its slot */
		struct audit_event ev = {
			.event = "request", .client = cn->client->name,
			.has_peer = true, .uid = cn->peer.uid,
			.pid = cn->peer.pid, .result = "write-timeout",
			.bytes = -1, .reason = "peer does not read its answer",
		};
		audit_log(&cn->b->audit, &ev);
		conn_close(cn);
		return;
	}
	if (cn->timer_mode == CONN_TIMER_REQUEST && cn->systemd &&
	    cn->state == CONN_WAITING) {
		/* a source slower than request_timeout: fail the unit */
		serve_forget(&cn->waiter);
		conn_audit(cn, "source-error", 0, -1, NULL,
		    "request_timeout");
		conn_systemd_fail(cn);
		conn_queue(cn);
		return;
	}
	if (cn->timer_mode == CONN_TIMER_REQUEST && !cn->systemd &&
	    cn->state == CONN_READING) {
		/* half a request, then silence: answer and let go */
		struct audit_event ev = {
			.event = "request", .client = cn->client->name,
			.has_peer = true, .uid = cn->peer.uid,
			.pid = cn->peer.pid, .result = "timeout",
			.status = 408, .bytes = -1,
		};
		audit_log(&cn->b->audit, &ev);
		conn_error(cn, 408, "request took too long");
		return;
	}
	conn_close(cn);
}

/*
 * Sets the deadline of cn's current phase. A request moves a connection
 * through several phases (idle, answer being written, idle again), and
 * re-arming a libuv timer for each costs heap operations every request.
 * So the timer is lazy: it is re-armed only when the new deadline comes
 * before the one it is armed for; when it fires early (a later phase,
 * or none), conn_on_timer arms it for the rest or lets it lapse.
 */
static void
conn_timer(struct conn *cn, enum conn_timer mode)
{
	const struct conf_broker *cb = &cn->gen->conf.broker;
	uint64_t ms;

	if (cn->timer_mode == mode)
		return;
	cn->timer_mode = mode;
	if (mode == CONN_TIMER_NONE)
		return;
	ms = mode == CONN_TIMER_IDLE ? cb->idle_timeout_ms :
	    mode == CONN_TIMER_WRITE ? cn->client->write_timeout_ms :
	    mode == CONN_TIMER_LINGER ? CONN_LINGER_MS :
	    cb->request_timeout_ms;
	cn->deadline = uv_now(cn->b->loop) + ms;
	if (cn->armed != 0 && cn->armed <= cn->deadline)
		return;
	cn->armed = cn->deadline;
	uv_timer_start(&cn->timer, conn_on_timer, ms, 0);
}

static void
conn_on_drain_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct conn *cn = h->data;

	(void)hint;
	*buf = uv_buf_init(cn->buf, sizeof(cn->buf));
}

static void
conn_on_drain(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *cn = s->data;

	(void)buf;
	if (cn->state != CONN_LINGER)
		return;
	if (nread > 0)
		cn->drained += (size_t)nread;
	if (nread < 0 || cn->drained > CONN_LINGER_BYTES)
		conn_close(cn);
}

static void
conn_on_shutdown(uv_shutdown_t *sh, int status)
{
	struct conn *cn = sh->data;

	if (cn->state != CONN_LINGER)
		return;
	if (status < 0 || uv_read_start((uv_stream_t *)&cn->pipe,
	    conn_on_drain_alloc, conn_on_drain) != 0)
		conn_close(cn);
}

/*
 * Closing a socket with unread input makes the kernel send a reset, and
 * the peer may then lose the error answer it has not read yet. So after
 * an error: shut down writing, read and drop what the client still
 * sends, and close at its EOF or after a short while.
 */
static void
conn_linger(struct conn *cn)
{
	if (cn->b->nlinger >= CONN_MAX_LINGER) {
		/* a flood of bad clients must not hold descriptors */
		conn_close(cn);
		return;
	}
	cn->b->nlinger++;
	cn->state = CONN_LINGER;
	uv_read_stop((uv_stream_t *)&cn->pipe);
	cn->reading = false;
	cn->buflen = 0;
	conn_timer(cn, CONN_TIMER_LINGER);
	cn->shut.data = cn;
	if (uv_shutdown(&cn->shut, (uv_stream_t *)&cn->pipe,
	    conn_on_shutdown) != 0)
		conn_close(cn);
}

static void
conn_batch_clear(struct conn *cn)
{
	unsigned i;

	/* the values' references end here, whatever the outcome */
	for (i = 0; i < cn->nvalues; i++)
		secbuf_unref(cn->values[i]);
	cn->nvalues = 0;
	free(cn->dyn);
	cn->dyn = NULL;
	cn->nwbufs = 0;
	cn->headlen = 0;
}

/* Whether one more answer fits into the batch being built. */
static bool
conn_room(const struct conn *cn)
{
	return cn->headlen + CONN_HEAD_SIZE <= CONN_HEAD_AREA &&
	    cn->nvalues < CONN_MAX_BATCH && cn->nwbufs + 2 <= CONN_MAX_WBUFS &&
	    cn->dyn == NULL;
}

static void
conn_read_stop(struct conn *cn)
{
	if (!cn->reading)
		return;
	uv_read_stop((uv_stream_t *)&cn->pipe);
	cn->reading = false;
}

/*
 * Requests read while cn was busy: answer them now. A peer that said EOF
 * with no answer left to wait for is done.
 */
static void
conn_resume(struct conn *cn)
{
	if (cn->state == CONN_READING && cn->buflen > 0) {
		conn_timer(cn, CONN_TIMER_REQUEST);
		conn_process(cn);
	} else if (cn->state == CONN_READING && !cn->ready)
		conn_timer(cn, CONN_TIMER_IDLE);
	if (cn->state == CONN_READING && cn->eof && !cn->ready)
		conn_close(cn);
}

/* The batch went out (status 0) or could not (< 0). */
static void
conn_written(struct conn *cn, int status)
{
	conn_batch_clear(cn);
	cn->writing = false;
	if (cn->state == CONN_CLOSING)
		return;
	conn_timer(cn, CONN_TIMER_NONE);
	/* a connection whose client section a reload removed goes now (its
	 * own generation's client was found when its request came) */
	if (!cn->close_after && cn->gen != cn->b->gen &&
	    conn_find_client(cn->b->gen, cn->sock_path, NULL) == NULL)
		cn->close_after = true;
	if (status < 0 || cn->close_after || cn->b->stopping) {
		if (status >= 0 && cn->linger && !cn->b->stopping)
			conn_linger(cn);
		else
			conn_close(cn);
		return;
	}
	cn->state = CONN_READING;
	if (cn->deferred) {
		/* a GET that had to wait for a load, behind this batch */
		cn->deferred = false;
		cn->state = CONN_WAITING;
		conn_get_value(cn);
	} else {
		cn->cs = NULL;
		conn_resume(cn);
	}
	if (cn->state != CONN_CLOSING && !cn->reading && !cn->eof &&
	    cn->buflen < sizeof(cn->buf))
		conn_read_start(cn);
}

static void
conn_on_write(uv_write_t *wr, int status)
{
	conn_written(wr->data, status);
}

/*
 * The answer waits until the audit lines of this loop turn are written
 * (conn_commit). The write timer runs from here: it also keeps the loop
 * alive while the answer waits. Reading goes on (turning it off and on
 * costs two epoll_ctl calls per request): what arrives meanwhile is
 * kept in cn->buf, and pipelined requests join the same batch.
 */
static void
conn_queue(struct conn *cn)
{
	struct broker *b = cn->b;

	conn_timer(cn, CONN_TIMER_WRITE);
	if (cn->ready)
		return;
	cn->rlist = b->committing ? &b->later : &b->ready;
	cn->rprev = NULL;
	cn->rnext = *cn->rlist;
	if (*cn->rlist != NULL)
		(*cn->rlist)->rprev = cn;
	*cn->rlist = cn;
	cn->ready = true;
}

/* Appends len bytes at p to the write buffers, joining the last one
 * when p follows it in the head area. */
static void
conn_wbuf(struct conn *cn, char *p, size_t len)
{
	uv_buf_t *last = cn->nwbufs > 0 ? &cn->wbufs[cn->nwbufs - 1] : NULL;

	if (last != NULL && last->base + last->len == p)
		last->len += (unsigned)len;
	else
		cn->wbufs[cn->nwbufs++] = uv_buf_init(p, (unsigned)len);
}

/*
 * Appends a response to cn's batch. body is copied into the head area
 * when small; dyn (malloc'd) and value (a reference taken here) are
 * written after it. HUSH_OK, or an error when it cannot be built.
 */
static int
conn_build(struct conn *cn, int status, const char *ctype, const char *body,
    size_t blen, struct secbuf *value, bool close)
{
	struct http_head hd;
	char *h;
	size_t hl;

	/* made at the first answer: an idle connection does without it */
	if (cn->head == NULL && (cn->head = malloc(CONN_HEAD_AREA)) == NULL)
		return HUSH_ERR_NOMEM;
	h = cn->head + cn->headlen;
	if (cn->headlen + CONN_HEAD_SIZE > CONN_HEAD_AREA ||
	    cn->nvalues >= CONN_MAX_BATCH || cn->nwbufs + 2 > CONN_MAX_WBUFS)
		return HUSH_ERR_INTERNAL;
	if (cn->b->stopping)
		close = true;
	cn->close_after = close;
	cn->linger = close && status != 200;
	hd.status = status;
	hd.ctype = ctype;
	hd.clen = value != NULL ? secbuf_len(value) : blen;
	hd.close = close;
	if ((hl = http_head_write(&hd, h, CONN_HEAD_SIZE)) == 0)
		return HUSH_ERR_INTERNAL;
	if (cn->req.method == HTTP_HEAD) {
		/* the head says what GET would send; no body follows it, or a
		 * keep-alive client would read it as its next answer */
		value = NULL;
		body = NULL;
	}
	if (value == NULL && body != NULL && body != cn->dyn &&
	    blen <= CONN_HEAD_SIZE - hl) {
		memcpy(h + hl, body, blen);
		hl += blen;
		body = NULL;
	}
	conn_wbuf(cn, h, hl);
	cn->headlen += hl;
	if (value != NULL) {
		cn->values[cn->nvalues++] = secbuf_ref(value);
		cn->wbufs[cn->nwbufs++] = uv_buf_init((char *)secbuf_mut(value),
		    (unsigned)secbuf_len(value));
	} else if (body != NULL)
		cn->wbufs[cn->nwbufs++] = uv_buf_init((char *)body,
		    (unsigned)blen);
	return HUSH_OK;
}

static void
conn_send(struct conn *cn, int status, const char *ctype, const char *body,
    size_t blen, struct secbuf *value, bool close)
{
	if (conn_build(cn, status, ctype, body, blen, value, close) !=
	    HUSH_OK) {
		conn_close(cn);
		return;
	}
	/* the request is answered: the next one may be parsed */
	http_request_reset(&cn->req);
	conn_queue(cn);
}

/* systemd: CONN_FAIL_BYTES that are not the credential, then close. */
static void
conn_systemd_fail(struct conn *cn)
{
	static const char zeros[CONN_FAIL_CHUNK];
	size_t left = CONN_FAIL_BYTES, n;

	conn_batch_clear(cn);
	cn->close_after = true;
	cn->linger = false;
	for (cn->nwbufs = 0; left > 0; cn->nwbufs++) {
		n = left < sizeof(zeros) ? left : sizeof(zeros);
		cn->wbufs[cn->nwbufs] = uv_buf_init((char *)zeros, (unsigned)n);
		left -= n;
	}
}

/*
 * Writes the batch: at once when the socket takes it all (no write
 * request, so libuv does not touch the epoll interest set), the rest
 * with uv_write when the peer reads slowly.
 */
static void
conn_write(struct conn *cn)
{
	size_t total = 0, left;
	unsigned i;
	int n;

	cn->state = CONN_WRITING;
	for (i = 0; i < cn->nwbufs; i++)
		total += cn->wbufs[i].len;
	n = uv_try_write((uv_stream_t *)&cn->pipe, cn->wbufs, cn->nwbufs);
	if (n == UV_EAGAIN)
		n = 0;
	if (n < 0 || (size_t)n == total) {
		conn_written(cn, n < 0 ? n : 0);
		return;
	}
	left = (size_t)n;
	for (i = 0; left >= cn->wbufs[i].len; i++)
		left -= cn->wbufs[i].len;
	cn->wbufs[i].base += left;
	cn->wbufs[i].len -= (unsigned)left;
	memmove(cn->wbufs, cn->wbufs + i, (cn->nwbufs - i) *
	    sizeof(cn->wbufs[0]));
	cn->nwbufs -= i;
	conn_timer(cn, CONN_TIMER_WRITE);
	cn->writing = true;
	cn->wr.data = cn;
	if (uv_write(&cn->wr, (uv_stream_t *)&cn->pipe, cn->wbufs, cn->nwbufs,
	    conn_on_write) != 0)
		conn_written(cn, UV_EIO);
}

void
conn_commit(void *arg, bool ok)
{
	struct broker *b = arg;
	struct conn *cn;
	static const char body[] = "{\"error\":\"audit log unavailable\"}\n";

	b->committing = true;
	for (;;) {
		while ((cn = b->ready) != NULL) {
			conn_unready(cn);
			if (!ok) {
				/* no answer leaves without its audit line */
				conn_batch_clear(cn);
				if (cn->systemd)
					conn_systemd_fail(cn);
				else if (conn_build(cn, 503,
				    "application/json", body,
				    sizeof(body) - 1, NULL, true) != HUSH_OK) {
					conn_close(cn);
					continue;
				}
			}
			conn_write(cn);
		}
		/* requests that waited behind a written batch were answered
		 * just now (b->later): their lines go out before them too */
		if (b->later == NULL)
			break;
		b->ready = b->later;
		b->later = NULL;
		for (cn = b->ready; cn != NULL; cn = cn->rnext)
			cn->rlist = &b->ready;
		ok = audit_commit(&b->audit);
	}
	b->committing = false;
}

static void
conn_error(struct conn *cn, int status, const char *msg)
{
	char body[192];
	int n;

	n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}\n", msg);
	if (n < 0 || (size_t)n >= sizeof(body)) {
		conn_close(cn);
		return;
	}
	/* malformed input, timeouts and overload end the connection */
	conn_send(cn, status, "application/json", body, (size_t)n, NULL,
	    status == 400 || status == 408 || status == 413 ||
	    status == 431 || status == 503 || status == 405 ||
	    status == 505 || !cn->req.keep_alive);
}

static void
conn_audit(struct conn *cn, const char *result, int status, long long bytes,
    const char *fp, const char *reason)
{
	struct audit_event ev = {
		.event = cn->event, .client = cn->client->name,
		.has_peer = true, .uid = cn->peer.uid, .pid = cn->peer.pid,
		.unit = cn->systemd ? cn->unit : NULL,
		.credential = cn->cred_name, .result = result,
		.status = cn->systemd ? 0 : status, .bytes = bytes, .fp = fp,
		.reason = reason,
	};

	audit_log(&cn->b->audit, &ev);
}

/* serve.c's answer to conn_get_value: the value, or why there is none. */
static void
conn_on_value(struct serve_waiter *w, const struct serve_result *res)
{
	struct conn *cn = (struct conn *)(void *)((char *)w -
	    offsetof(struct conn, waiter));
	struct secbuf *value = res->value;
	const char *fp = res->fp, *reason = res->reason;
	int r = res->r;
	bool stale = res->stale;
	char msg[192];

	if (cn->state == CONN_CLOSING)
		return;
	if (cn->up != NULL) {
		cn->b->upstream->on_value(cn, value, fp, r, reason);
		return;
	}
	if (r != HUSH_OK || value == NULL) {
		conn_audit(cn, "source-error", 500, -1, NULL, reason);
		if (cn->systemd) {
			conn_systemd_fail(cn);
			conn_queue(cn);
			return;
		}
		/* which credential, never what its source said */
		snprintf(msg, sizeof(msg), "credential %s could not be read",
		    cn->cred_name);
		cn->state = CONN_READING;
		conn_error(cn, 500, msg);
		if (!cn->processing && cn->state == CONN_READING)
			conn_resume(cn);
		return;
	}
	if (cn->systemd && secbuf_len(value) == 0) {
		/* systemd would start the unit with it: refuse */
		conn_audit(cn, "source-error", 0, -1, NULL, "empty value");
		conn_systemd_fail(cn);
		conn_queue(cn);
		return;
	}
	conn_audit(cn, "ok", 200, (long long)secbuf_len(value), fp,
	    stale ? "stale: source unreadable, last good value" : NULL);
	if (cn->systemd) {
		conn_batch_clear(cn);
		cn->values[cn->nvalues++] = secbuf_ref(value);
		cn->wbufs[0] = uv_buf_init((char *)secbuf_mut(value),
		    (unsigned)secbuf_len(value));
		cn->nwbufs = 1;
		cn->close_after = true;
		conn_queue(cn);
		return;
	}
	cn->state = CONN_READING;
	conn_send(cn, 200, cn->cs->c->content_type, NULL, 0, value,
	    !cn->req.keep_alive);
	/* a load's answer: requests read meanwhile are next */
	if (!cn->processing && cn->state == CONN_READING)
		conn_resume(cn);
}

void
conn_get_value(struct conn *cn)
{
	serve_get(&cn->waiter, cn->cs, conn_on_value);
}

/* A token bucket per client: HUSH_OK or HUSH_ERR_DENIED (429). */
static int
conn_rate(struct conn *cn)
{
	const struct conf_client *c = cn->client;
	struct client_state *st = &cn->gen->clients[cn->client_idx];
	uint64_t now = uv_now(cn->b->loop), cap, add;

	if (!c->has_rate)
		return HUSH_OK;
	cap = (uint64_t)c->rate.count * c->rate.per_ms;
	if (st->last_ms == 0 && st->tokens == 0)
		st->tokens = cap;
	else if (now - st->last_ms >= c->rate.per_ms)
		st->tokens = cap;	/* a whole period: full again */
	else if (now > st->last_ms) {
		add = (now - st->last_ms) * c->rate.count;
		st->tokens = add >= cap - st->tokens ? cap : st->tokens + add;
	}
	st->last_ms = now;
	if (st->tokens < c->rate.per_ms)
		return HUSH_ERR_DENIED;
	st->tokens -= c->rate.per_ms;
	return HUSH_OK;
}

/* The client section serving socket path in g, or NULL (and *idxp). */
static const struct conf_client *
conn_find_client(struct gen *g, const char *path, size_t *idxp)
{
	size_t i;

	for (i = 0; i < g->conf.nclients; i++)
		if (strcmp(g->conf.clients[i].socket, path) == 0) {
			if (idxp != NULL)
				*idxp = i;
			return &g->conf.clients[i];
		}
	return NULL;
}

/*
 * Moves cn to the configuration in force now, so a reload that revokes
 * reaches keep-alive connections at their next request. false: the
 * client section is gone (or changed protocol): close.
 */
static bool
conn_refresh(struct conn *cn)
{
	struct gen *g = cn->b->gen;
	const struct conf_client *c;
	size_t idx;

	/* found in this generation already, at accept or the last request */
	if (cn->gen == g)
		return true;
	gen_unref(cn->gen);
	cn->gen = gen_ref(g);
	if ((c = conn_find_client(g, cn->sock_path, &idx)) == NULL ||
	    (c->protocol == CONF_PROTO_SYSTEMD) != cn->systemd)
		return false;
	cn->client = c;
	cn->client_idx = idx;
	return true;
}

/* The decision's inputs that do not depend on the protocol. */
static void
conn_request(struct conn *cn, struct policy_request *rq,
    enum policy_kind kind, const char *name, const char *unit)
{
	memset(rq, 0, sizeof(*rq));
	rq->conf = &cn->gen->conf;
	rq->client = cn->client;
	rq->peer = &cn->peer;
	rq->kind = kind;
	rq->name = name != NULL ? name : "";
	rq->unit = unit;
	rq->audit_ok = audit_ok(&cn->b->audit);
	/* first in the order: a request that is refused earlier costs too */
	rq->rate_ok = conn_rate(cn) == HUSH_OK;
}

static void
conn_list(struct conn *cn, const struct policy_request *lrq)
{
	struct gen *g = cn->gen;
	struct policy_request rq = *lrq;
	struct policy_verdict v;
	size_t i, len = 0, cap = 32;
	char *p;
	bool first = true;

	for (i = 0; i < g->conf.ncreds; i++)
		cap += strlen(g->conf.creds[i].name) + 3;
	if (cap > CONN_LIST_MAX || (p = malloc(cap)) == NULL) {
		conn_audit(cn, "unavailable", 503, -1, NULL, "out of memory");
		conn_error(cn, 503, "out of memory");
		return;
	}
	len = (size_t)snprintf(p, cap, "{\"credentials\":[");
	rq.kind = POLICY_GET;
	for (i = 0; i < g->conf.ncreds; i++) {
		const char *name = g->conf.creds[i].name;
		size_t nl = strlen(name);

		/* exactly the names a GET would be given */
		rq.name = name;
		if (policy_decide(&rq, &v) != HUSH_OK)
			continue;
		/* names are letters, digits and ._-: only: no escaping */
		if (!first)
			p[len++] = ',';
		p[len++] = '"';
		memcpy(p + len, name, nl);
		len += nl;
		p[len++] = '"';
		first = false;
	}
	memcpy(p + len, "]}\n", 3);
	len += 3;
	cn->dyn = p;
	conn_audit(cn, "ok", 200, (long long)len, NULL, NULL);
	conn_send(cn, 200, "application/json", p, len, NULL,
	    !cn->req.keep_alive);
}

void
conn_set_write_timer(struct conn *cn, bool on)
{
	if (cn->state != CONN_CLOSING)
		conn_timer(cn, on ? CONN_TIMER_WRITE : CONN_TIMER_NONE);
}

/*
 * /v1/upstream/NAME/PATH (issue 11): the same decision as a credential's,
 * then upstream.c owns the connection until it closes.
 */
static void
conn_upstream(struct conn *cn)
{
	struct http_request *req = &cn->req;
	const char *t = req->target + strlen(HTTP_UPSTREAM_PREFIX);
	const char *end = req->target + req->target_len, *slash, *q;
	char name[ROUTE_MAX_NAME + 1];
	struct policy_request rq;
	struct policy_verdict v;
	size_t nlen;
	static const char root[] = "/";

	cn->event = "upstream";
	cn->cred_name = NULL;
	if ((q = memchr(t, '?', (size_t)(end - t))) == NULL)
		q = end;
	if ((slash = memchr(t, '/', (size_t)(q - t))) == NULL)
		slash = q;
	nlen = (size_t)(slash - t);
	if (!api_name_ok(t, nlen))
		nlen = 0;
	memcpy(name, t, nlen);
	name[nlen] = '\0';
	/* /v1/upstream/NAME with no path: the names a forwarder sets */
	if (slash == q)
		cn->event = "upstream-info";
	conn_request(cn, &rq, slash == q ? POLICY_UPSTREAM_INFO :
	    POLICY_UPSTREAM, name, NULL);
	rq.method = http_method_str((enum http_method)req->method);
	rq.path = slash < q ? slash : root;
	rq.path_len = slash < q ? (size_t)(q - slash) : 1;
	rq.has_token = http_request_bearer(req, &rq.token, &rq.token_len);
	if (policy_decide(&rq, &v) != HUSH_OK || slash == q) {
		struct audit_event ev = {
			.event = cn->event, .client = cn->client->name,
			.has_peer = true, .uid = cn->peer.uid,
			.pid = cn->peer.pid, .result = v.result,
			.status = v.status, .bytes = -1, .reason = v.reason,
			.upstream = name, .method = rq.method, .path = "",
		};
		char path[HTTP_MAX_TARGET + 1];
		size_t len = 0;

		if (v.status == 200 && (cn->dyn = cn->b->upstream->info(
		    &cn->gen->conf.upstreams[v.upstream], &len)) == NULL) {
			conn_close(cn);
			return;
		}
		ev.bytes = v.status == 200 ? (long long)len : -1;
		memcpy(path, rq.path, rq.path_len);
		path[rq.path_len] = '\0';
		ev.path = slash == q ? "" : path;
		audit_log(&cn->b->audit, &ev);
		if (v.status == 200)
			conn_send(cn, 200, "application/json", cn->dyn, len,
			    NULL, true);
		else
			conn_error(cn, v.status, v.message);
		return;
	}
	conn_timer(cn, CONN_TIMER_NONE);
	cn->b->upstream->begin(cn, &v, rq.path, rq.path_len, q,
	    (size_t)(end - q));
}

static void
conn_handle(struct conn *cn)
{
	struct http_request *req = &cn->req;
	struct route rt;
	struct policy_request rq;
	struct policy_verdict v;
	struct cred_state *cs;

	cn->event = "request";
	cn->cred_name = NULL;
	if (!conn_refresh(cn)) {
		conn_close(cn);
		return;
	}
	if (req->upstream && (cn->ready || cn->writing)) {
		/* the route writes its answer as it streams: it cannot wait
		 * behind answers to requests pipelined before it */
		conn_audit(cn, "bad-request", 400, -1, NULL,
		    "upstream call pipelined behind other requests");
		conn_error(cn, 400, "an upstream call must wait for the "
		    "answers before it");
		return;
	}
	if (req->upstream) {
		conn_upstream(cn);
		return;
	}
	if (route_match(req->target, req->target_len, req->method, &rt) !=
	    HUSH_OK) {
		conn_audit(cn, rt.status == 405 ? "bad-method" : "not-found",
		    rt.status, -1, NULL, NULL);
		conn_error(cn, rt.status, rt.status == 405 ?
		    "method not allowed" : "not found");
		return;
	}
	cn->event = rt.kind == ROUTE_HEALTH ? "health" :
	    rt.kind == ROUTE_LIST ? "list" : "get";
	if (rt.kind == ROUTE_GET)
		cn->cred_name = rt.bad_name ? "" : rt.name;
	conn_request(cn, &rq, rt.kind == ROUTE_HEALTH ? POLICY_HEALTH :
	    rt.kind == ROUTE_LIST ? POLICY_LIST : POLICY_GET,
	    cn->cred_name, NULL);
	rq.has_token = http_request_bearer(req, &rq.token, &rq.token_len);
	if (policy_decide(&rq, &v) != HUSH_OK) {
		conn_audit(cn, v.result, v.status, -1, NULL, v.reason);
		conn_error(cn, v.status, v.message);
		return;
	}
	if (rt.kind == ROUTE_HEALTH) {
		static const char ok[] = "{\"status\":\"ok\"}\n";

		conn_audit(cn, "ok", 200, (long long)sizeof(ok) - 1, NULL,
		    NULL);
		conn_send(cn, 200, "application/json", ok, sizeof(ok) - 1,
		    NULL, !req->keep_alive);
		return;
	}
	if (rt.kind == ROUTE_LIST) {
		conn_list(cn, &rq);
		return;
	}
	/* the route lives on the stack: keep the config's copy */
	cs = &cn->gen->creds[v.cred];
	cn->cred_name = cs->c->name;
	cn->cs = cs;
	cn->state = CONN_WAITING;
	conn_timer(cn, CONN_TIMER_NONE);
	if (cn->ready && !serve_ready(cs)) {
		/* answers before it go out now, not after the load */
		cn->deferred = true;
		conn_timer(cn, CONN_TIMER_WRITE);
		return;
	}
	conn_get_value(cn);
}

static void
conn_process(struct conn *cn)
{
	size_t used = 0;
	int r;

	cn->processing = true;
	while (cn->state == CONN_READING && cn->buflen > 0 &&
	    !cn->close_after && conn_room(cn)) {
		r = http_request_feed(&cn->req, cn->buf, cn->buflen, &used);
		if (r == HUSH_ERR_INCOMPLETE) {
			/* the parser copied what it needs (a token, too) */
			sodium_memzero(cn->buf, cn->buflen);
			cn->buflen = 0;
			/* from the first part of a request on: it must be
			 * whole within request_timeout (a whole one needs no
			 * timer: it is answered now) */
			conn_timer(cn, CONN_TIMER_REQUEST);
			break;
		}
		if (r != HUSH_OK) {
			int st = cn->req.status != 0 ? cn->req.status : 400;

			sodium_memzero(cn->buf, cn->buflen);
			cn->buflen = 0;
			cn->event = "request";
			cn->cred_name = NULL;
			conn_audit(cn, "bad-request", st, -1, NULL, NULL);
			conn_error(cn, st, st == 431 ? "request too large" :
			    st == 413 ? "request body not accepted" :
			    st == 405 ? "method not allowed" :
			    "malformed request");
			break;
		}
		memmove(cn->buf, cn->buf + used, cn->buflen - used);
		cn->buflen -= used;
		conn_handle(cn);
	}
	cn->processing = false;
}

static void
conn_on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct conn *cn = h->data;

	(void)hint;
	*buf = uv_buf_init(cn->buf + cn->buflen,
	    (unsigned)(sizeof(cn->buf) - cn->buflen));
}

static void
conn_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *cn = s->data;

	(void)buf;
	if (cn->state == CONN_CLOSING || cn->state == CONN_LINGER)
		return;
	if (nread < 0) {
		/* EOF or reset; a half request just ends, but answers to
		 * whole ones are sent first (a client may shut down its
		 * side after the request) */
		if (cn->state == CONN_READING && !cn->ready) {
			conn_close(cn);
			return;
		}
		cn->eof = true;
		conn_read_stop(cn);
		return;
	}
	if (nread == 0)
		return;
	cn->buflen += (size_t)nread;
	if (cn->state == CONN_READING)
		conn_process(cn);
	/* full while answers are pending: the peer waits for them */
	if (cn->state != CONN_CLOSING && cn->buflen == sizeof(cn->buf))
		conn_read_stop(cn);
}

static void
conn_read_start(struct conn *cn)
{
	if (cn->reading)
		return;
	if (uv_read_start((uv_stream_t *)&cn->pipe, conn_on_alloc,
	    conn_on_read) != 0) {
		conn_close(cn);
		return;
	}
	cn->reading = true;
}

static void
conn_systemd(struct conn *cn)
{
	struct policy_request rq;
	struct policy_verdict v;
	struct cred_state *cs;
	int fd;

	cn->event = "get";
	cn->cred_name = NULL;
	if (uv_fileno((uv_handle_t *)&cn->pipe, &fd) != 0 ||
	    peer_systemd(fd, cn->unit, sizeof(cn->unit), cn->id,
	    sizeof(cn->id)) != HUSH_OK) {
		cn->unit[0] = '\0';
		conn_audit(cn, "bad-request", 0, -1, NULL,
		    "peer address is not systemd's");
		conn_systemd_fail(cn);
		conn_queue(cn);
		return;
	}
	cn->cred_name = cn->id;
	conn_request(cn, &rq, POLICY_GET, cn->id, cn->unit);
	if (policy_decide(&rq, &v) != HUSH_OK) {
		conn_audit(cn, v.result, 0, -1, NULL, v.reason != NULL ?
		    v.reason : v.message);
		conn_systemd_fail(cn);
		conn_queue(cn);
		return;
	}
	cs = &cn->gen->creds[v.cred];
	cn->cred_name = cs->c->name;
	cn->cs = cs;
	cn->state = CONN_WAITING;
	conn_timer(cn, CONN_TIMER_REQUEST);
	conn_get_value(cn);
}

/* Connections counted against client c's share (same socket). */
static uint64_t
conn_count_client(struct broker *b, const char *path)
{
	struct conn *cn;
	uint64_t n = 0;

	for (cn = b->conns; cn != NULL; cn = cn->nextc)
		if (cn->counted && strcmp(cn->sock_path, path) == 0)
			n++;
	return n;
}

/* A connection struct with its two handles, not yet open. */
static struct conn *
conn_new(struct broker *b)
{
	struct conn *cn;

	if ((cn = calloc(1, sizeof(*cn))) == NULL)
		return NULL;
	cn->b = b;
	uv_pipe_init(b->loop, &cn->pipe, 0);
	uv_timer_init(b->loop, &cn->timer);
	cn->pipe.data = cn;
	cn->timer.data = cn;
	cn->nopen = 2;
	cn->state = CONN_READING;
	return cn;
}

/* Closes a connection that never started (no lists, no generation). */
static void
conn_abort(struct conn *cn)
{
	cn->state = CONN_CLOSING;
	uv_close((uv_handle_t *)&cn->timer, conn_on_close);
	uv_close((uv_handle_t *)&cn->pipe, conn_on_close);
}

/*
 * cn's socket is open: find its client, take the peer's credentials
 * (once, here), check the caps and start: the same for an accepted
 * connection and one a test hands in.
 */
static int
conn_start(struct conn *cn, const char *sock_path)
{
	struct broker *b = cn->b;
	struct gen *g = b->gen;
	const struct conf_client *c;
	size_t i = 0;
	int fd;

	c = conn_find_client(g, sock_path, &i);
	cn->gen = gen_ref(g);
	cn->client = c;
	cn->client_idx = i;
	cn->sock_path = strdup(sock_path);
	cn->nextc = b->conns;
	if (b->conns != NULL)
		b->conns->prev = cn;
	b->conns = cn;
	if (cn->sock_path == NULL) {
		conn_close(cn);
		return HUSH_ERR_NOMEM;
	}
	if (c == NULL || b->stopping ||
	    uv_fileno((uv_handle_t *)&cn->pipe, &fd) != 0 ||
	    peer_get(fd, &cn->peer) != HUSH_OK) {
		conn_close(cn);
		return HUSH_OK;
	}
	http_request_init(&cn->req, g->conf.broker.max_request_size);
	cn->req.keep_alive = false;
	cn->systemd = c->protocol == CONF_PROTO_SYSTEMD;
	if (b->nconns >= g->conf.broker.max_connections ||
	    conn_count_client(b, cn->sock_path) >=
	    conf_client_share(&g->conf.broker, c)) {
		bool all = b->nconns >= g->conf.broker.max_connections;

		cn->over = true;
		cn->event = "connect";
		conn_audit(cn, "over-capacity", 503, -1, NULL, all ?
		    "max_connections" : "client max_connections");
		if (cn->systemd) {
			conn_systemd_fail(cn);
			conn_queue(cn);
		} else
			conn_error(cn, 503, "too many connections");
		return HUSH_OK;
	}
	cn->counted = true;
	b->nconns++;
	if (cn->systemd) {
		conn_systemd(cn);
		return HUSH_OK;
	}
	conn_timer(cn, CONN_TIMER_IDLE);
	conn_read_start(cn);
	return HUSH_OK;
}

int
conn_accept(struct broker *b, uv_stream_t *server, const char *sock_path)
{
	struct conn *cn;

	if ((cn = conn_new(b)) == NULL)
		return HUSH_ERR_NOMEM;
	if (uv_accept(server, (uv_stream_t *)&cn->pipe) != 0) {
		conn_abort(cn);
		return HUSH_ERR_IO;
	}
	return conn_start(cn, sock_path);
}

int
conn_open(struct broker *b, int fd, const char *sock_path)
{
	struct conn *cn;

	if ((cn = conn_new(b)) == NULL) {
		close(fd);
		return HUSH_ERR_NOMEM;
	}
	if (uv_pipe_open(&cn->pipe, fd) != 0) {
		close(fd);	/* not the handle's yet */
		conn_abort(cn);
		return HUSH_ERR_IO;
	}
	return conn_start(cn, sock_path);
}

void
conn_stop_all(struct broker *b, bool force)
{
	struct conn *cn, *next;

	for (cn = b->conns; cn != NULL; cn = next) {
		next = cn->nextc;
		if (force || (cn->state == CONN_READING && cn->buflen == 0 &&
		    !cn->ready && !cn->req.started && cn->req.used == 0))
			conn_close(cn);
	}
}

void
conn_reload(struct broker *b)
{
	struct conn *cn, *next;

	/* busy ones close after their answer (conn_on_write) */
	for (cn = b->conns; cn != NULL; cn = next) {
		next = cn->nextc;
		if (cn->state == CONN_READING && !cn->ready &&
		    conn_find_client(b->gen, cn->sock_path, NULL) == NULL)
			conn_close(cn);
	}
}
