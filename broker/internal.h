/*
 * internal.h: hushd's running state, shared by the daemon's own modules
 * (broker, conn, serve) and by nothing else: hushd_main sees broker.h,
 * the hush command sees conf/api.h. One loop thread owns everything here;
 * only serve's thread-pool work touches a conf_cred (read-only) and a
 * fresh secbuf.
 */
#ifndef HUSH_BROKER_INTERNAL_H
#define HUSH_BROKER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "conf/conf.h"
#include "conf/secbuf.h"
#include "redact/fp.h"
#include "redact/redact.h"
#include "broker/broker.h"
#include "broker/audit.h"
#include "broker/http.h"
#include "broker/listener.h"
#include "broker/policy.h"
#include "broker/peer.h"
#include "broker/watch.h"

#define CONN_BUF_SIZE		1024	/* bytes read ahead of the parser */
#define CONN_HEAD_SIZE		512	/* response head + small body */
/*
 * Pipelined requests are answered in one write: their heads are packed
 * into one area and their values referenced, up to CONN_MAX_BATCH
 * answers while each still finds CONN_HEAD_SIZE of room.
 */
#define CONN_HEAD_AREA		(3 * CONN_HEAD_SIZE)
#define CONN_MAX_BATCH		8
#define CONN_LINGER_MS		1000	/* draining after an error answer */
#define CONN_LINGER_BYTES	(64 * 1024)
#define CONN_MAX_LINGER		256	/* past this, close at once */
/*
 * A refusal on the systemd protocol: systemd takes a clean EOF for an
 * empty credential and starts the unit, and a Unix stream socket cannot be
 * reset, but it refuses a credential over 1 MiB (E2BIG) and fails the
 * unit. So a refusal is CONN_FAIL_BYTES zero bytes, never the credential.
 */
#define CONN_FAIL_CHUNK		(64 * 1024)
#define CONN_FAIL_BYTES		((1 << 20) + 1)
#define CONN_MAX_WBUFS		(CONN_FAIL_BYTES / CONN_FAIL_CHUNK + 1)

struct broker;
struct conn;
struct upcall;
struct upstream_hub;
struct serve_waiter;

/*
 * What the broker hands the value layer (serve.c), once, through each
 * generation: the loop, the watches, the fingerprint key, and a callback
 * told of each finished load, so that serve.c calls nothing above it.
 */
struct serve_env {
	uv_loop_t		*loop;
	struct watch		*watch;
	const struct secbuf	*fp_key;
	/* a load ended: the new value (a borrowed reference) or NULL and
	 * why; the broker masks the value in its own log, logs the why */
	void			(*loaded)(void *arg, const struct conf_cred *c,
				    struct secbuf *value, const char *reason);
	void			*arg;
	/* how a load reaches the thread pool: uv_queue_work; a test may
	 * complete loads by hand instead */
	int			(*queue)(uv_loop_t *loop, uv_work_t *w,
				    uv_work_cb work, uv_after_work_cb after);
	int			 loads;		/* in the thread pool */
};

/* A load's outcome, as each waiter is told it. */
struct serve_result {
	struct secbuf		*value;		/* borrowed; NULL on error */
	const char		*fp;		/* value's fingerprint */
	int			 r;
	const char		*reason;	/* why it failed, or NULL */
	bool			 stale;		/* the last good value */
};

/*
 * One place on a credential's wait list, embedded in whoever waits (a
 * connection): serve.c knows it only by this and calls fn with the
 * outcome, having taken it off the list first.
 */
typedef void (*serve_fn)(struct serve_waiter *w,
    const struct serve_result *res);
struct serve_waiter {
	serve_fn		 fn;
	struct serve_waiter	*prev, *next;
	struct serve_waiter	**list;		/* NULL: on no list */
};

/*
 * A route that takes a connection over (the upstream route, upstream.c).
 * broker.c wires it in, so conn.c hands the connection on through these
 * and does not call up into the module that calls it (conn_close).
 */
struct conn_route {
	/* the decision was to call it: the connection is the route's */
	void	(*begin)(struct conn *cn, const struct policy_verdict *v,
		    const char *path, size_t path_len, const char *query,
		    size_t qlen);
	/* the credential's value for it, as conn_get_value was answered */
	void	(*on_value)(struct conn *cn, struct secbuf *value,
		    const char *fp, int r, const char *reason);
	/* cn is closing (idempotent) */
	void	(*cancel)(struct conn *cn);
	/* the answer to GET /v1/upstream/NAME: malloc'd JSON, NULL on ENOMEM */
	char	*(*info)(const struct conf_upstream *u, size_t *lenp);
};

/* A credential's served state: the last good value and its loads. */
struct cred_state {
	struct gen		*gen;
	const struct conf_cred	*c;
	struct secbuf		*value;		/* last good, or NULL */
	char			 fp[AUDIT_FP_LEN + 1];
	uint64_t		 loaded_ms;
	bool			 loading;
	/* a file's value is reused while its directories are quiet */
	bool			 reusable;
	int			 widx[2];
	uint64_t		 wepoch[2];	/* when the value was read */
	uint64_t		 lepoch[2];	/* when the running load began */
	struct serve_waiter	*waiting;	/* served by the running load */
	struct serve_waiter	*next;		/* came during it: next load */
};

/* A client's rate bucket, in units of 1/per_ms of a request. */
struct client_state {
	uint64_t		 tokens;
	uint64_t		 last_ms;
};

/*
 * One configuration generation. Connections and loads hold references,
 * so a reload swaps the broker's generation while requests made under
 * the old one finish with it.
 */
struct gen {
	unsigned		 refs;
	struct broker		*b;
	struct serve_env	*env;		/* the broker's */
	struct hush_conf	 conf;
	struct cred_state	*creds;		/* conf.ncreds */
	struct client_state	*clients;	/* conf.nclients */
};

struct lsock {
	uv_pipe_t		 pipe;
	struct broker		*b;
	char			*path;
	char			*client;	/* client name */
	struct listener_file	 lf;
	bool			 created;	/* our file: remove at exit */
	char			*fdname;	/* socket activation's name */
	bool			 keep;		/* reload bookkeeping */
	struct lsock		*next;
};

enum conn_state {
	CONN_READING = 0,
	CONN_WAITING,		/* for a credential's load */
	CONN_WRITING,
	CONN_LINGER,		/* answered an error: draining, then close */
	CONN_UPSTREAM,		/* the upstream route owns it (upstream.c) */
	CONN_CLOSING,
};

enum conn_timer {
	CONN_TIMER_NONE = 0,
	CONN_TIMER_IDLE,
	CONN_TIMER_REQUEST,
	CONN_TIMER_WRITE,	/* from queueing an answer to its last byte */
	CONN_TIMER_LINGER,	/* draining after an error answer */
};

struct conn {
	uv_pipe_t		 pipe;
	uv_timer_t		 timer;
	struct broker		*b;
	/* the configuration of its last request; each request takes the
	 * current one, and the client is found again by socket path */
	struct gen		*gen;
	const struct conf_client *client;
	size_t			 client_idx;
	char			*sock_path;	/* the socket it came on */
	struct peer		 peer;
	enum conn_state		 state;
	enum conn_timer		 timer_mode;
	uint64_t		 deadline;	/* of timer_mode (loop ms) */
	uint64_t		 armed;		/* when the timer fires, or 0 */
	int			 nopen;		/* handles not yet closed */
	bool			 over;		/* over max_connections */
	bool			 systemd;
	bool			 close_after;
	bool			 linger;	/* drain before closing */
	bool			 counted;
	/* the request being answered */
	struct http_request	 req;
	const char		*event;
	const char		*cred_name;
	char			 unit[PEER_MAX_UNIT];
	char			 id[PEER_MAX_ID];
	struct cred_state	*cs;
	struct upcall		*up;		/* the upstream route, or NULL */
	/* the answers being written (a batch: one per pipelined request);
	 * until the audit lines of their loop turn are written they wait
	 * on the broker's ready list */
	struct conn		*rprev, *rnext;
	struct conn		**rlist;	/* b->ready or b->later */
	bool			 ready;
	bool			 writing;	/* a uv_write in flight */
	bool			 reading;	/* uv_read_start in force */
	bool			 eof;		/* the peer stopped sending */
	bool			 deferred;	/* a GET waits for the batch */
	bool			 processing;	/* inside conn_process */
	unsigned		 nwbufs;
	uv_buf_t		 wbufs[CONN_MAX_WBUFS];
	uv_write_t		 wr;
	uv_shutdown_t		 shut;
	size_t			 drained;
	unsigned		 nvalues;
	struct secbuf		*values[CONN_MAX_BATCH];	/* references */
	char			*dyn;		/* a malloc'd body, or NULL */
	size_t			 headlen;
	char			*head;		/* CONN_HEAD_AREA, or NULL */
	/* bytes read past the current request */
	size_t			 buflen;
	char			 buf[CONN_BUF_SIZE];
	/* lists: every connection; waiting for a load */
	struct conn		*prev, *nextc;
	struct serve_waiter	 waiter;
};

struct broker {
	uv_loop_t		*loop;
	const char		*conf_path;
	struct gen		*gen;
	struct audit		 audit;
	struct lsock		*listeners;
	struct listener_owner	 owner;		/* the run-as user */
	int			 janitor_fd;	/* -1, or the janitor's pipe */
	uv_signal_t		 sig[3];
	uv_timer_t		 stop_timer;
	struct conn		*conns;
	struct conn		*ready;		/* answers awaiting audit */
	/* answers queued while conn_commit writes: their audit lines are
	 * not written yet, so they wait for the next commit */
	struct conn		*later;
	bool			 committing;
	size_t			 nconns;	/* counted against the limit */
	size_t			 nlinger;
	uint64_t		 accept_err_ms;	/* last accept error logged */
	bool			 stopping;
	struct secbuf		*fp_key;
	struct watch		 watch;
	struct redact_rules	*log_rules;	/* for hushd's own stderr */
	bool			 log_dirty;
	struct broker_seen	*seen;		/* values served, by name */
	size_t			 nseen;
	size_t			 seencap;
	struct serve_env	 env;		/* handed to serve.c */
	const struct conn_route	*upstream;	/* handed to conn.c */
	bool			 audit_up;
	struct upstream_hub	*hub;		/* libcurl's, made at first use */
};

/* gen.c: a generation's references; the last one frees it. */
struct gen *gen_ref(struct gen *g);
void gen_unref(struct gen *g);

/*
 * broker.c: running state, generations, listeners, signals. broker_run
 * (broker.h) is broker_open, the loop, broker_close; the pieces are here
 * for the tests, which drive a broker on their own loop.
 */
void broker_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Registers a served value with hushd's stderr redaction. */
#define BROKER_MAX_SEEN	4096
struct broker_seen {
	char		 name[128];
	struct secbuf	*value;
};
/*
 * Loads the state for conf (taken over, released on failure too) on
 * loop: audit log, fingerprint key, the first generation, a listener
 * per client, the privilege drop. HUSH_OK, or an error with err set;
 * broker_close is due either way.
 */
int broker_open(struct broker *b, uv_loop_t *loop, const char *conf_path,
    struct hush_conf *conf, char *err, size_t errlen);
/* Reads conf_path again (SIGHUP): a valid file becomes the generation. */
void broker_reload(struct broker *b);
/*
 * Closes everything broker_open made and runs loop until the handles
 * are closed. rc: how the run ended (HUSH_EXIT_*); returns it, or
 * HUSH_EXIT_FAIL when the last audit lines were lost.
 */
int broker_close(struct broker *b, int rc, const char *err);

/* conn.c: one connection's state machine. */
/*
 * Serves the connection on fd (a connected Unix stream socket, owned
 * from here, closed on error too) that came in on the listening socket
 * sock_path. HUSH_OK, or an error when it could not even be set up.
 */
int conn_open(struct broker *b, int fd, const char *sock_path);
/* Accepts one connection from a listening socket (uv_listen's). */
int conn_accept(struct broker *b, uv_stream_t *server,
    const char *sock_path);
void conn_close(struct conn *cn);
/* Waits for cn->cs's value; upstream_on_value gets it on that route. */
void conn_get_value(struct conn *cn);
/* Stop: idle connections close now, busy ones after their answer. */
void conn_stop_all(struct broker *b, bool force);
/*
 * The audit lines of this loop turn were written (ok) or not: send the
 * answers waiting for them, or 503 (systemd: a refusal) in their place.
 * An audit_commit_fn; arg is the broker.
 */
void conn_commit(void *arg, bool ok);
/* After a reload: close idle connections whose client section is gone. */
void conn_reload(struct broker *b);
/* The upstream route: a client that does not read gets write_timeout. */
void conn_set_write_timer(struct conn *cn, bool on);

/* serve.c: values and wait lists; knows no connection. */
/* A value read from files is trusted this long at most without a read,
 * for file systems whose changes inotify does not see (NFS, FUSE). */
#define SERVE_MAX_REUSE_MS	1000
/* Sets up cs for c in g (watches its files). */
void serve_init(struct gen *g, struct cred_state *cs,
    const struct conf_cred *c);
/*
 * Asks for cs's value: w->fn is called with it, at once when the value
 * in hand is fresh, else when a load finishes (w waits on cs's list).
 */
void serve_get(struct serve_waiter *w, struct cred_state *cs, serve_fn fn);
/* Whether serve_get would answer cs at once, from the value in hand. */
bool serve_ready(struct cred_state *cs);
/* Takes w off its wait list, if it is on one; fn is not called. */
void serve_forget(struct serve_waiter *w);

#endif
