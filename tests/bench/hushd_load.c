/*
 * hushd_load: a keep-alive HTTP load generator over Unix sockets.
 *
 *   hushd_load -s SOCK [-c CONNS] [-t SECONDS] [-p PATH] [-r RATE]
 *   hushd_load -s SOCK -i CONNS -t SECONDS      (idle connections)
 *   hushd_load -s SOCK [-c CONNS] -n TOTAL      (exactly TOTAL requests)
 *
 * Each of CONNS connections sends a GET, reads the whole answer (by
 * Content-Length), records the latency and sends the next. With -r, each
 * connection sends RATE requests a second instead of back to back (the
 * "second client" while another floods). Prints requests per second and
 * latency percentiles. With -i it opens CONNS connections, sends nothing
 * and holds them for SECONDS (to measure the server's memory). With -n
 * it sends exactly TOTAL requests and stops when all are answered, so a
 * server's instruction and CPU counts can be divided by a known number.
 */
#define _GNU_SOURCE	/* strcasestr */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#include <uv.h>

#define LOAD_MAX_LAT	(1 << 24)
#define LOAD_BUF	65536

struct lconn {
	uv_pipe_t	 pipe;
	uv_connect_t	 creq;
	uv_write_t	 wr;
	uv_timer_t	 pace;
	struct lstate	*st;
	uint64_t	 sent_ns;
	size_t		 got;
	size_t		 need;		/* head + body, once known */
	char		 buf[LOAD_BUF];
};

struct lstate {
	uv_loop_t	*loop;
	const char	*sock;
	char		 req[512];
	size_t		 reqlen;
	uint64_t	*lat;
	size_t		 nlat;
	uint64_t	 errors;
	uint64_t	 non200;
	int		 stopping;
	uint64_t	 total;		/* -n: requests to send, or 0 */
	uint64_t	 sent;
	uint64_t	 answered;
	double		 rate;
	int		 idle;
	int		 connected;
	/* connections are opened a window at a time: a listen backlog
	 * that overflows makes a Unix socket connect fail with EAGAIN */
	struct lconn	*conns;
	int		 nconn;
	int		 next;		/* the next to open */
	int		 inflight;
	uint64_t	 retries;
};

#define LOAD_CONNECT_WINDOW	128

static void load_open_more(struct lstate *st);

static void load_send(struct lconn *lc);

static void
load_on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct lconn *lc = h->data;

	(void)hint;
	*buf = uv_buf_init(lc->buf + lc->got, (unsigned)(LOAD_BUF - lc->got));
}

static void
load_on_pace(uv_timer_t *t)
{
	load_send(t->data);
}

static void
load_done(struct lconn *lc)
{
	struct lstate *st = lc->st;
	uint64_t now = uv_hrtime();

	if (strncmp(lc->buf, "HTTP/1.1 200", 12) != 0)
		st->non200++;
	if (st->nlat < LOAD_MAX_LAT)
		st->lat[st->nlat++] = now - lc->sent_ns;
	lc->got = 0;
	lc->need = 0;
	if (st->total > 0 && ++st->answered == st->total) {
		st->stopping = 1;
		uv_stop(st->loop);
		return;
	}
	if (st->stopping)
		return;
	if (st->rate > 0)
		uv_timer_start(&lc->pace, load_on_pace,
		    (uint64_t)(1000.0 / st->rate), 0);
	else
		load_send(lc);
}

static void
load_on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct lconn *lc = s->data;
	char *end, *cl;

	(void)buf;
	if (n < 0) {
		if (!lc->st->stopping)
			lc->st->errors++;
		uv_read_stop(s);
		return;
	}
	lc->got += (size_t)n;
	if (lc->need == 0) {
		lc->buf[lc->got < LOAD_BUF ? lc->got : LOAD_BUF - 1] = '\0';
		if ((end = strstr(lc->buf, "\r\n\r\n")) == NULL)
			return;
		if ((cl = strcasestr(lc->buf, "\r\ncontent-length:")) == NULL ||
		    cl > end) {
			lc->st->errors++;
			uv_read_stop(s);
			return;
		}
		lc->need = (size_t)(end + 4 - lc->buf) +
		    strtoul(cl + 17, NULL, 10);
	}
	if (lc->got >= lc->need)
		load_done(lc);
}

static void
load_on_write(uv_write_t *wr, int status)
{
	struct lconn *lc = wr->data;

	if (status < 0)
		lc->st->errors++;
}

static void
load_send(struct lconn *lc)
{
	uv_buf_t b = uv_buf_init(lc->st->req, (unsigned)lc->st->reqlen);
	int w;

	if (lc->st->total > 0 && lc->st->sent == lc->st->total)
		return;
	lc->st->sent++;
	lc->sent_ns = uv_hrtime();
	/* uv_write arms and disarms write interest (two epoll_ctl) for
	 * every request: the load would cost more than what it measures */
	w = uv_try_write((uv_stream_t *)&lc->pipe, &b, 1);
	if (w == (int)b.len)
		return;
	if (w > 0) {
		b.base += w;
		b.len -= (size_t)w;
	} else if (w != UV_EAGAIN) {
		lc->st->errors++;
		return;
	}
	lc->wr.data = lc;
	if (uv_write(&lc->wr, (uv_stream_t *)&lc->pipe, &b, 1,
	    load_on_write) != 0)
		lc->st->errors++;
}

static void load_connect(struct lconn *lc);

static void
load_on_retry(uv_timer_t *t)
{
	load_connect(t->data);
}

static void
load_on_connect(uv_connect_t *c, int status)
{
	struct lconn *lc = c->data;
	struct lstate *st = lc->st;

	st->inflight--;
	if (status == UV_EAGAIN) {
		/* backlog full: a fresh socket, a moment later */
		st->retries++;
		st->inflight++;
		uv_close((uv_handle_t *)&lc->pipe, NULL);
		uv_timer_start(&lc->pace, load_on_retry, 1, 0);
		return;
	}
	load_open_more(st);
	if (status < 0) {
		fprintf(stderr, "connect: %s\n", uv_strerror(status));
		lc->st->errors++;
		return;
	}
	lc->st->connected++;
	if (lc->st->idle)
		return;
	uv_read_start((uv_stream_t *)&lc->pipe, load_on_alloc, load_on_read);
	load_send(lc);
}

static void
load_connect(struct lconn *lc)
{
	struct lstate *st = lc->st;

	/* a closed handle (a retry) is initialised again */
	memset(&lc->pipe, 0, sizeof(lc->pipe));
	uv_pipe_init(st->loop, &lc->pipe, 0);
	lc->pipe.data = lc;
	lc->creq.data = lc;
	uv_pipe_connect(&lc->creq, &lc->pipe, st->sock, load_on_connect);
}

static void
load_open_more(struct lstate *st)
{
	while (st->next < st->nconn && st->inflight < LOAD_CONNECT_WINDOW) {
		st->inflight++;
		load_connect(&st->conns[st->next++]);
	}
}

static void
load_on_stop(uv_timer_t *t)
{
	struct lstate *st = t->data;

	st->stopping = 1;
	uv_stop(st->loop);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double
pct(const struct lstate *st, double p)
{
	size_t i;

	if (st->nlat == 0)
		return 0;
	i = (size_t)(p / 100.0 * (double)(st->nlat - 1));
	return (double)st->lat[i] / 1000.0;	/* microseconds */
}

int
main(int argc, char **argv)
{
	struct lstate st;
	struct lconn *conns;
	uv_timer_t stop;
	uv_loop_t loop;
	struct rlimit rl;
	const char *path = "/v1/credentials/bench";
	double secs = 5;
	int nconn = 50, c, i;
	uint64_t t0, t1;

	memset(&st, 0, sizeof(st));
	while ((c = getopt(argc, argv, "s:c:t:p:r:i:n:")) != -1) {
		switch (c) {
		case 's': st.sock = optarg; break;
		case 'c': nconn = (int)strtol(optarg, NULL, 10); break;
		case 't': secs = strtod(optarg, NULL); break;
		case 'p': path = optarg; break;
		case 'r': st.rate = strtod(optarg, NULL); break;
		case 'n':
			st.total = strtoull(optarg, NULL, 10);
			secs = 3600;
			break;
		case 'i':
			st.idle = 1;
			nconn = (int)strtol(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: hushd_load -s SOCK [-c N] "
			    "[-t SECS | -n TOTAL] [-p PATH] [-r RATE] | "
			    "-i N\n");
			return 2;
		}
	}
	if (st.sock == NULL || nconn < 1 || nconn > 100000)
		return 2;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	st.reqlen = (size_t)snprintf(st.req, sizeof(st.req),
	    "GET %s HTTP/1.1\r\nHost: hush\r\n\r\n", path);
	if ((st.lat = calloc(LOAD_MAX_LAT, sizeof(*st.lat))) == NULL ||
	    (conns = calloc((size_t)nconn, sizeof(*conns))) == NULL)
		return 1;
	uv_loop_init(&loop);
	st.loop = &loop;
	for (i = 0; i < nconn; i++) {
		struct lconn *lc = &conns[i];

		lc->st = &st;
		uv_timer_init(&loop, &lc->pace);
		lc->pace.data = lc;
	}
	st.conns = conns;
	st.nconn = nconn;
	load_open_more(&st);
	uv_timer_init(&loop, &stop);
	stop.data = &st;
	uv_timer_start(&stop, load_on_stop, (uint64_t)(secs * 1000), 0);
	t0 = uv_hrtime();
	uv_run(&loop, UV_RUN_DEFAULT);
	t1 = uv_hrtime();
	if (st.idle) {
		printf("idle connections held: %d of %d, errors %llu, "
		    "connect retries %llu\n", st.connected, nconn,
		    (unsigned long long)st.errors,
		    (unsigned long long)st.retries);
		return st.connected == nconn ? 0 : 1;
	}
	qsort(st.lat, st.nlat, sizeof(*st.lat), cmp_u64);
	printf("%s conns=%d secs=%.1f requests=%zu rps=%.0f "
	    "p50=%.0fus p99=%.0fus p99.9=%.0fus max=%.0fus non200=%llu "
	    "errors=%llu\n", st.sock, nconn, (double)(t1 - t0) / 1e9, st.nlat,
	    (double)st.nlat / ((double)(t1 - t0) / 1e9), pct(&st, 50),
	    pct(&st, 99), pct(&st, 99.9), pct(&st, 100),
	    (unsigned long long)st.non200, (unsigned long long)st.errors);
	/* the process ends here: the kernel closes what is left */
	return st.errors > 0 || st.non200 > 0;
}
