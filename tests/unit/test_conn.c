/*
 * The broker layer on a socketpair: a real broker (audit log, generation,
 * listeners in a temporary directory) on the test's own loop, and
 * connections handed in with conn_open on one end of
 * socketpair(AF_UNIX, SOCK_STREAM), so SO_PEERCRED is the kernel's. The
 * test writes requests on the other end and turns the loop with
 * UV_RUN_NOWAIT (UV_RUN_ONCE only while a load runs in the thread pool)
 * until the answer is there: no processes, no sleeps, no timing.
 */
#define _GNU_SOURCE	/* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <sodium.h>

#include "conf/hush_err.h"
#include "redact/rules.h"
#include "broker/internal.h"

#define T_SECRET	"tok-value-0123456789abcdefXYZ"
#define T_OTHER		"other-value-0123456789abcdefQRS"
#define T_MAX_PEND	8
#define T_MAX_TURNS	10000
#define T_BUF		(256 * 1024)

static const char conf_base[] =
    "[broker]\n"
    "audit_log = {dir}/audit.jsonl\n"
    "idle_timeout = 60s\n"
    "request_timeout = 60s\n"
    "[credential \"tok\"]\n"
    "source = file:{dir}/tok\n"
    "[credential \"other\"]\n"
    "source = file:{dir}/other\n"
    "[client \"app\"]\n"
    "socket = {dir}/app.sock\n"
    "allow = {allow}\n";

static const char conf_no_app[] =
    "[broker]\n"
    "audit_log = {dir}/audit.jsonl\n"
    "idle_timeout = 60s\n"
    "[credential \"tok\"]\n"
    "source = file:{dir}/tok\n"
    "[client \"else\"]\n"
    "socket = {dir}/else.sock\n"
    "allow = tok\n";

/* One broker on its own loop, and the loads it queued (manual mode). */
struct h {
	char		 dir[64];
	char		 sock[128];
	uv_loop_t	 loop;
	struct broker	*b;
	bool		 manual;
	int		 npend;
	uv_work_t	*pend[T_MAX_PEND];
	uv_work_cb	 pend_work[T_MAX_PEND];
	uv_after_work_cb pend_after[T_MAX_PEND];
};

/* What the peer read: bytes, and whether the server closed. */
struct got {
	char	 buf[T_BUF];
	size_t	 len;
	bool	 eof;
};

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[192];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0600), 0);
}

/* tmpl with {dir} and {allow} filled in, as hush.ini. */
static void
write_conf(struct h *h, const char *tmpl, const char *allow)
{
	char text[2048];
	const char *p = tmpl, *v;
	size_t n = 0, len;

	while (*p != '\0') {
		if (strncmp(p, "{dir}", 5) == 0) {
			v = h->dir;
			p += 5;
		} else if (strncmp(p, "{allow}", 7) == 0) {
			v = allow;
			p += 7;
		} else {
			assert_true(n + 1 < sizeof(text));
			text[n++] = *p++;
			continue;
		}
		len = strlen(v);
		assert_true(n + len < sizeof(text));
		memcpy(text + n, v, len);
		n += len;
	}
	text[n] = '\0';
	write_file(h->dir, "hush.ini", text);
}

static char *
conf_path(struct h *h)
{
	static char path[192];

	snprintf(path, sizeof(path), "%s/hush.ini", h->dir);
	return path;
}

/* Captures a load instead of giving it to the thread pool. */
static struct h *manual_h;

static int
h_queue(uv_loop_t *loop, uv_work_t *w, uv_work_cb work,
    uv_after_work_cb after)
{
	struct h *h = manual_h;

	(void)loop;
	assert_true(h->npend < T_MAX_PEND);
	h->pend[h->npend] = w;
	h->pend_work[h->npend] = work;
	h->pend_after[h->npend] = after;
	h->npend++;
	return 0;
}

/* Runs the oldest captured load to its end, on this thread. */
static void
h_complete_load(struct h *h)
{
	uv_work_t *w = h->pend[0];
	uv_work_cb work = h->pend_work[0];
	uv_after_work_cb after = h->pend_after[0];

	assert_true(h->npend > 0);
	memmove(h->pend, h->pend + 1, (size_t)(h->npend - 1) *
	    sizeof(h->pend[0]));
	memmove(h->pend_work, h->pend_work + 1, (size_t)(h->npend - 1) *
	    sizeof(h->pend_work[0]));
	memmove(h->pend_after, h->pend_after + 1, (size_t)(h->npend - 1) *
	    sizeof(h->pend_after[0]));
	h->npend--;
	work(w);
	after(w, 0);
}

static int
setup(void **state)
{
	struct h *h;
	struct hush_conf conf;
	struct conf_errs errs;
	char err[512];

	assert_non_null(h = calloc(1, sizeof(*h)));
	snprintf(h->dir, sizeof(h->dir), "/tmp/hush-conn.XXXXXX");
	assert_non_null(mkdtemp(h->dir));
	snprintf(h->sock, sizeof(h->sock), "%s/app.sock", h->dir);
	write_file(h->dir, "tok", T_SECRET);
	write_file(h->dir, "other", T_OTHER);
	write_conf(h, conf_base, "tok, other");
	conf_errs_init(&errs);
	assert_int_equal(conf_load(&conf, conf_path(h), 0, rules_check_conf,
	    &errs), HUSH_OK);
	conf_errs_release(&errs);
	assert_int_equal(uv_loop_init(&h->loop), 0);
	assert_non_null(h->b = calloc(1, sizeof(*h->b)));
	err[0] = '\0';
	if (broker_open(h->b, &h->loop, conf_path(h), &conf, err,
	    sizeof(err)) != HUSH_OK)
		fail_msg("broker_open: %s", err);
	*state = h;
	return 0;
}

static void
remove_dir(const char *dir)
{
	static const char *names[] = { "tok", "other", "hush.ini",
	    "audit.jsonl", "app.sock", "else.sock", NULL };
	char path[192];
	int i;

	for (i = 0; names[i] != NULL; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		(void)unlink(path);
	}
	(void)rmdir(dir);
}

/* The whole audit log, NUL-terminated (malloc'd). */
static char *
read_audit(struct h *h)
{
	char path[192], *text;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/audit.jsonl", h->dir);
	assert_non_null(f = fopen(path, "r"));
	assert_non_null(text = calloc(1, T_BUF));
	n = fread(text, 1, T_BUF - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

static int
teardown(void **state)
{
	struct h *h = *state;
	char *audit;

	/* runs the loop until every handle is closed */
	assert_int_equal(broker_close(h->b, HUSH_EXIT_OK, NULL), HUSH_EXIT_OK);
	assert_int_equal(uv_loop_close(&h->loop), 0);
	audit = read_audit(h);
	/* fingerprints only, never a value */
	assert_null(strstr(audit, T_SECRET));
	assert_null(strstr(audit, T_OTHER));
	free(audit);
	free(h->b);
	remove_dir(h->dir);
	free(h);
	return 0;
}

/* A connection on client "app": returns the peer's end (non-blocking). */
static int
h_connect(struct h *h, int *serverp)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	if (serverp != NULL)
		*serverp = sv[0];
	assert_int_equal(conn_open(h->b, sv[0], h->sock), HUSH_OK);
	return sv[1];
}

static void
h_send(int fd, const char *s, size_t len)
{
	assert_int_equal(write(fd, s, len), (ssize_t)len);
}

/* One loop turn; waits only for a load running in the thread pool. */
static void
h_turn(struct h *h)
{
	uv_run(&h->loop, !h->manual && h->b->env.loads > 0 ? UV_RUN_ONCE :
	    UV_RUN_NOWAIT);
}

/* Appends what fd holds now; false when nothing was there. */
static bool
h_read(int fd, struct got *g)
{
	ssize_t n;
	bool any = false;

	for (;;) {
		assert_true(g->len < sizeof(g->buf) - 1);
		n = read(fd, g->buf + g->len, sizeof(g->buf) - 1 - g->len);
		if (n > 0) {
			g->len += (size_t)n;
			g->buf[g->len] = '\0';
			any = true;
			continue;
		}
		if (n == 0)
			g->eof = true;
		else
			assert_int_equal(errno, EAGAIN);
		return any;
	}
}

/* The number of whole responses at the start of g; *endp past them. */
static int
count_answers(const struct got *g, size_t *endp)
{
	const char *p = g->buf, *end = g->buf + g->len, *hend, *cl;
	int n = 0;
	size_t clen;

	for (;;) {
		if ((hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4)) ==
		    NULL)
			break;
		cl = memmem(p, (size_t)(hend - p), "Content-Length: ", 16);
		assert_non_null(cl);
		clen = strtoul(cl + 16, NULL, 10);
		if ((size_t)(end - (hend + 4)) < clen)
			break;
		p = hend + 4 + clen;
		n++;
	}
	if (endp != NULL)
		*endp = (size_t)(p - g->buf);
	return n;
}

/* Turns the loop until fd got n whole answers (or EOF with eof). */
static void
h_wait(struct h *h, int fd, struct got *g, int n, bool eof)
{
	int i;

	for (i = 0; i < T_MAX_TURNS; i++) {
		h_turn(h);
		(void)h_read(fd, g);
		if (count_answers(g, NULL) >= n && (!eof || g->eof))
			return;
		if (g->eof && !eof)
			fail_msg("closed after %d answers", count_answers(g,
			    NULL));
	}
	fail_msg("no answer after %d turns (%zu bytes: %.200s)", i, g->len,
	    g->buf);
}

/* The k-th answer's status and body (into body, NUL-terminated). */
static int
answer(const struct got *g, int k, char *body, size_t cap)
{
	const char *p = g->buf, *hend, *cl;
	size_t clen = 0;
	int status = 0;

	for (;;) {
		assert_non_null(hend = memmem(p, g->len - (size_t)(p - g->buf),
		    "\r\n\r\n", 4));
		assert_non_null(cl = memmem(p, (size_t)(hend - p),
		    "Content-Length: ", 16));
		clen = strtoul(cl + 16, NULL, 10);
		if (k-- == 0)
			break;
		p = hend + 4 + clen;
	}
	assert_int_equal(sscanf(p, "HTTP/1.1 %d ", &status), 1);
	if (body != NULL) {
		assert_true(clen < cap);
		memcpy(body, hend + 4, clen);
		body[clen] = '\0';
	}
	return status;
}

static const char get_tok[] =
    "GET /v1/credentials/tok HTTP/1.1\r\nHost: hush\r\n\r\n";
static const char get_other[] =
    "GET /v1/credentials/other HTTP/1.1\r\nHost: hush\r\n\r\n";
static const char get_health[] =
    "GET /v1/health HTTP/1.1\r\nHost: hush\r\n\r\n";

/* A GET on a fresh connection, answered (the value is then in hand). */
static void
h_get_ok(struct h *h, const char *req, const char *want)
{
	struct got *g = calloc(1, sizeof(*g));
	char body[256];
	int fd = h_connect(h, NULL);

	assert_non_null(g);
	h_send(fd, req, strlen(req));
	h_wait(h, fd, g, 1, false);
	assert_int_equal(answer(g, 0, body, sizeof(body)), 200);
	assert_string_equal(body, want);
	close(fd);
	free(g);
}

static void
conn_answers_a_get(void **state)
{
	struct h *h = *state;
	char *audit;

	h_get_ok(h, get_tok, T_SECRET);
	/* the line went out before the answer: it is in the file now */
	audit = read_audit(h);
	assert_non_null(strstr(audit, "\"credential\":\"tok\","
	    "\"result\":\"ok\",\"status\":200"));
	assert_non_null(strstr(audit, "\"fp\":\""));
	free(audit);
}

static void
conn_answers_pipelined_requests_in_order_in_one_write(void **state)
{
	struct h *h = *state;
	struct got *g = calloc(1, sizeof(*g));
	char body[256], req[512];
	int fd, i;

	assert_non_null(g);
	h_get_ok(h, get_tok, T_SECRET);
	h_get_ok(h, get_other, T_OTHER);
	fd = h_connect(h, NULL);
	snprintf(req, sizeof(req), "%s%s%s", get_tok, get_health, get_other);
	h_send(fd, req, strlen(req));
	/* the first bytes to arrive are all three answers: one writev */
	for (i = 0; i < T_MAX_TURNS && !h_read(fd, g); i++)
		h_turn(h);
	assert_int_equal(count_answers(g, NULL), 3);
	assert_int_equal(answer(g, 0, body, sizeof(body)), 200);
	assert_string_equal(body, T_SECRET);
	assert_int_equal(answer(g, 1, body, sizeof(body)), 200);
	assert_string_equal(body, "{\"status\":\"ok\"}\n");
	assert_int_equal(answer(g, 2, body, sizeof(body)), 200);
	assert_string_equal(body, T_OTHER);
	/* keep-alive: the connection still answers */
	g->len = 0;
	h_send(fd, get_health, strlen(get_health));
	h_wait(h, fd, g, 1, false);
	assert_int_equal(answer(g, 0, NULL, 0), 200);
	close(fd);
	free(g);
}

static void
conn_answers_a_request_split_byte_by_byte(void **state)
{
	struct h *h = *state;
	struct got *g = calloc(1, sizeof(*g));
	char body[256];
	size_t i;
	int fd, t;

	assert_non_null(g);
	fd = h_connect(h, NULL);
	for (i = 0; i + 1 < sizeof(get_tok) - 1; i++) {
		h_send(fd, get_tok + i, 1);
		for (t = 0; t < 3; t++)
			h_turn(h);
		/* nothing before the request is whole */
		assert_false(h_read(fd, g));
		assert_false(g->eof);
	}
	h_send(fd, get_tok + i, 1);
	h_wait(h, fd, g, 1, false);
	assert_int_equal(answer(g, 0, body, sizeof(body)), 200);
	assert_string_equal(body, T_SECRET);
	close(fd);
	free(g);
}

static void
conn_refuses_a_header_too_large_and_closes(void **state)
{
	struct h *h = *state;
	struct got *g = calloc(1, sizeof(*g));
	char *req;
	size_t n = 0;
	int fd;

	assert_non_null(g);
	assert_non_null(req = malloc(16 * 1024));
	n += (size_t)sprintf(req, "GET /v1/credentials/tok HTTP/1.1\r\n"
	    "X-Pad: ");
	memset(req + n, 'a', 9000);
	n += 9000;
	memcpy(req + n, "\r\n\r\n", 4);
	n += 4;
	fd = h_connect(h, NULL);
	h_send(fd, req, n);
	h_wait(h, fd, g, 1, true);
	assert_int_equal(answer(g, 0, NULL, 0), 431);
	assert_non_null(strstr(g->buf, "Connection: close\r\n"));
	assert_null(strstr(g->buf, T_SECRET));
	close(fd);
	free(req);
	free(g);
}

static void
h_reload(struct h *h, const char *fmt, const char *allow)
{
	struct gen *old = h->b->gen;

	write_conf(h, fmt, allow);
	broker_reload(h->b);
	assert_ptr_not_equal(h->b->gen, old);
}

static void
conn_keepalive_meets_a_reload_that_revokes(void **state)
{
	struct h *h = *state;
	struct got *g = calloc(1, sizeof(*g));
	char body[256];
	int fd;

	assert_non_null(g);
	fd = h_connect(h, NULL);
	h_send(fd, get_tok, sizeof(get_tok) - 1);
	h_wait(h, fd, g, 1, false);
	assert_int_equal(answer(g, 0, body, sizeof(body)), 200);
	/* the same connection, under a configuration without tok */
	h_reload(h, conf_base, "other");
	g->len = 0;
	h_send(fd, get_tok, sizeof(get_tok) - 1);
	h_wait(h, fd, g, 1, false);
	/* a name not allowed is not there (policy.c: 404, "denied") */
	assert_int_equal(answer(g, 0, body, sizeof(body)), 404);
	assert_null(strstr(g->buf, T_SECRET));
	g->len = 0;
	h_send(fd, get_other, sizeof(get_other) - 1);
	h_wait(h, fd, g, 1, false);
	assert_int_equal(answer(g, 0, body, sizeof(body)), 200);
	assert_string_equal(body, T_OTHER);
	/* the client section goes: an idle connection is closed */
	h_reload(h, conf_no_app, NULL);
	g->len = 0;
	h_wait(h, fd, g, 0, true);
	assert_int_equal(g->len, 0);
	close(fd);
	free(g);
}

static void
conn_answers_a_load_behind_a_pipelined_batch(void **state)
{
	struct h *h = *state;
	struct got *g = calloc(1, sizeof(*g));
	char body[256], req[512];
	int fd;

	assert_non_null(g);
	h_get_ok(h, get_tok, T_SECRET);
	fd = h_connect(h, NULL);
	/* other is not loaded yet: it waits behind the first answers */
	snprintf(req, sizeof(req), "%s%s%s", get_health, get_other, get_tok);
	h_send(fd, req, strlen(req));
	h_wait(h, fd, g, 3, false);
	assert_int_equal(answer(g, 0, body, sizeof(body)), 200);
	assert_string_equal(body, "{\"status\":\"ok\"}\n");
	assert_int_equal(answer(g, 1, body, sizeof(body)), 200);
	assert_string_equal(body, T_OTHER);
	assert_int_equal(answer(g, 2, body, sizeof(body)), 200);
	assert_string_equal(body, T_SECRET);
	close(fd);
	free(g);
}

static void
conn_answers_whole_requests_before_the_peers_eof(void **state)
{
	struct h *h = *state;
	struct got *g = calloc(1, sizeof(*g));
	static const char req[] = "GET /v1/credentials HTTP/1.1\r\n"
	    "Host: hush\r\n\r\n";
	char body[256];
	int fd;

	assert_non_null(g);
	fd = h_connect(h, NULL);
	h_send(fd, req, sizeof(req) - 1);
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	h_wait(h, fd, g, 1, true);
	assert_int_equal(answer(g, 0, body, sizeof(body)), 200);
	assert_string_equal(body, "{\"credentials\":[\"tok\",\"other\"]}\n");
	close(fd);
	assert_null(h->b->conns);
	free(g);
}

static void
conn_drains_after_an_error_until_the_peer_closes(void **state)
{
	struct h *h = *state;
	struct got *g = calloc(1, sizeof(*g));
	static const char bad[] = "BREW /pot HTTP/1.1\r\n\r\n";
	int fd, i;

	assert_non_null(g);
	fd = h_connect(h, NULL);
	h_send(fd, bad, sizeof(bad) - 1);
	h_wait(h, fd, g, 1, true);
	assert_int_equal(answer(g, 0, NULL, 0), 400);
	/* what the peer still sends is read and dropped, not a reset */
	h_send(fd, bad, sizeof(bad) - 1);
	for (i = 0; i < 3; i++)
		h_turn(h);
	assert_non_null(h->b->conns);
	assert_int_equal(h->b->conns->state, CONN_LINGER);
	close(fd);
	for (i = 0; i < T_MAX_TURNS && h->b->conns != NULL; i++)
		h_turn(h);
	assert_null(h->b->conns);
	assert_int_equal(h->b->nlinger, 0);
	free(g);
}

static struct conn *
conn_of(struct h *h, int server_fd)
{
	struct conn *cn;
	int fd;

	for (cn = h->b->conns; cn != NULL; cn = cn->nextc)
		if (uv_fileno((uv_handle_t *)&cn->pipe, &fd) == 0 &&
		    fd == server_fd)
			return cn;
	return NULL;
}

/* Loads go to h_queue from here: the test completes them by hand. */
static void
h_manual(struct h *h)
{
	manual_h = h;
	h->manual = true;
	h->b->env.queue = h_queue;
}

static void
serve_waiters_during_a_quiet_load_share_its_value(void **state)
{
	struct h *h = *state;
	struct got *g[4];
	char body[256];
	int fd[4], i, t;

	h_manual(h);
	for (i = 0; i < 4; i++) {
		assert_non_null(g[i] = calloc(1, sizeof(*g[i])));
		fd[i] = h_connect(h, NULL);
	}
	h_send(fd[0], get_tok, sizeof(get_tok) - 1);
	for (t = 0; t < 3; t++)
		h_turn(h);
	assert_int_equal(h->npend, 1);
	for (i = 1; i < 4; i++)
		h_send(fd[i], get_tok, sizeof(get_tok) - 1);
	for (t = 0; t < 3; t++)
		h_turn(h);
	assert_int_equal(h->npend, 1);
	h_complete_load(h);
	/* the file did not change since the load began: no second load
	 * (a steady stream of requests once chained one after another) */
	assert_int_equal(h->npend, 0);
	for (i = 0; i < 4; i++) {
		h_wait(h, fd[i], g[i], 1, false);
		assert_int_equal(answer(g[i], 0, body, sizeof(body)), 200);
		assert_string_equal(body, T_SECRET);
		close(fd[i]);
		free(g[i]);
	}
}

static void
serve_wait_list_after_a_write_shares_the_next_load(void **state)
{
	struct h *h = *state;
	struct got *g[4];
	char body[256];
	int fd[4], sfd[4], i, t;

	h_manual(h);
	for (i = 0; i < 4; i++) {
		assert_non_null(g[i] = calloc(1, sizeof(*g[i])));
		fd[i] = h_connect(h, &sfd[i]);
	}
	/* A starts the load; the file is rewritten; B, C, D come: they
	 * must see the write, so they share the next load */
	h_send(fd[0], get_tok, sizeof(get_tok) - 1);
	for (t = 0; t < 3; t++)
		h_turn(h);
	assert_int_equal(h->npend, 1);
	write_file(h->dir, "tok", T_OTHER);
	for (i = 1; i < 4; i++)
		h_send(fd[i], get_tok, sizeof(get_tok) - 1);
	for (t = 0; t < 3; t++)
		h_turn(h);
	assert_int_equal(h->npend, 1);
	for (i = 0; i < 4; i++)
		assert_false(h_read(fd[i], g[i]));
	h_complete_load(h);
	assert_int_equal(h->npend, 1);
	h_wait(h, fd[0], g[0], 1, false);
	assert_int_equal(answer(g[0], 0, NULL, 0), 200);
	/* B closes while it waits: off the list, freed (ASan watches) */
	conn_close(conn_of(h, sfd[1]));
	for (t = 0; t < 3; t++)
		h_turn(h);
	assert_null(conn_of(h, sfd[1]));
	h_complete_load(h);
	assert_int_equal(h->npend, 0);
	for (i = 2; i < 4; i++) {
		h_wait(h, fd[i], g[i], 1, false);
		assert_int_equal(answer(g[i], 0, body, sizeof(body)), 200);
		assert_string_equal(body, T_OTHER);
	}
	(void)h_read(fd[1], g[1]);
	assert_true(g[1]->eof);
	assert_int_equal(g[1]->len, 0);
	for (i = 0; i < 4; i++) {
		close(fd[i]);
		free(g[i]);
	}
}

static void
serve_load_error_answers_every_waiter(void **state)
{
	struct h *h = *state;
	struct got *g[2];
	char path[192], body[256];
	int fd[2], i, t;

	snprintf(path, sizeof(path), "%s/tok", h->dir);
	assert_int_equal(unlink(path), 0);
	for (i = 0; i < 2; i++) {
		assert_non_null(g[i] = calloc(1, sizeof(*g[i])));
		fd[i] = h_connect(h, NULL);
		h_send(fd[i], get_tok, sizeof(get_tok) - 1);
		for (t = 0; t < 2; t++)
			h_turn(h);
	}
	for (i = 0; i < 2; i++) {
		h_wait(h, fd[i], g[i], 1, false);
		assert_int_equal(answer(g[i], 0, body, sizeof(body)), 500);
		assert_string_equal(body, "{\"error\":\"credential tok could "
		    "not be read\"}\n");
		close(fd[i]);
		free(g[i]);
	}
}

static void
conn_answers_503_and_no_value_when_the_audit_fails(void **state)
{
	struct h *h = *state;
	struct got *g = calloc(1, sizeof(*g));
	char body[256];
	int fd, full;

	assert_non_null(g);
	/* the value is in hand: only the audit stands in the way */
	h_get_ok(h, get_tok, T_SECRET);
	assert_true((full = open("/dev/full", O_WRONLY | O_CLOEXEC)) >= 0);
	assert_true(dup2(full, h->b->audit.fd) >= 0);
	close(full);
	fd = h_connect(h, NULL);
	h_send(fd, get_tok, sizeof(get_tok) - 1);
	h_wait(h, fd, g, 1, true);
	assert_int_equal(answer(g, 0, body, sizeof(body)), 503);
	assert_string_equal(body, "{\"error\":\"audit log unavailable\"}\n");
	assert_null(memmem(g->buf, g->len, T_SECRET, strlen(T_SECRET)));
	close(fd);
	free(g);
	/* a fresh log for teardown's check */
	assert_true((full = open("/dev/null", O_WRONLY | O_CLOEXEC)) >= 0);
	assert_true(dup2(full, h->b->audit.fd) >= 0);
	close(full);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(conn_answers_a_get, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    conn_answers_pipelined_requests_in_order_in_one_write,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    conn_answers_a_request_split_byte_by_byte, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    conn_refuses_a_header_too_large_and_closes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    conn_keepalive_meets_a_reload_that_revokes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    conn_answers_a_load_behind_a_pipelined_batch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    conn_answers_whole_requests_before_the_peers_eof, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    conn_drains_after_an_error_until_the_peer_closes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    serve_waiters_during_a_quiet_load_share_its_value, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    serve_wait_list_after_a_write_shares_the_next_load, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    serve_load_error_answers_every_waiter, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    conn_answers_503_and_no_value_when_the_audit_fails,
		    setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
