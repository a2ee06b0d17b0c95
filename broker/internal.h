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
	struct conn		*waiting;	/* served by the running load */
	struct conn		*next;		/* arrived during it: next load */
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
	char			 head[CONN_HEAD_AREA];
	/* bytes read past the current request */
	size_t			 buflen;
	char			 buf[CONN_BUF_SIZE];
	/* lists: every connection; waiting for a load */
	struct conn		*prev, *nextc;
	struct conn		*wprev, *wnext;
	struct conn		**wlist;
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
	int			 loads;		/* in the thread pool */
	struct upstream_hub	*hub;		/* libcurl's, made at first use */
};

/* broker.c */
struct gen *gen_ref(struct gen *g);
void gen_unref(struct gen *g);
void broker_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Fingerprint of a value for the audit log (hex, AUDIT_FP_LEN digits). */
void broker_fp(const struct broker *b, const struct secbuf *v,
    char out[AUDIT_FP_LEN + 1]);
/* Registers a served value with hushd's stderr redaction. */
#define BROKER_MAX_SEEN	4096
struct broker_seen {
	char		 name[128];
	struct secbuf	*value;
};
void broker_saw_value(struct broker *b, const char *name, struct secbuf *v);

/* conn.c */
void conn_on_connection(uv_stream_t *server, int status);
void conn_close(struct conn *cn);
/* A load finished: answer cn with value (a borrowed reference) or err. */
void conn_on_value(struct conn *cn, struct secbuf *value, const char *fp,
    int r, const char *reason, bool stale);
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

/* serve.c */
/* A value read from files is trusted this long at most without a read,
 * for file systems whose changes inotify does not see (NFS, FUSE). */
#define SERVE_MAX_REUSE_MS	1000
/* Sets up cs for c (watches its files). */
void serve_init(struct broker *b, struct cred_state *cs,
    const struct conf_cred *c);
/* Queues cn for cs's value; conn_on_value answers it. */
void serve_get(struct conn *cn, struct cred_state *cs);
/* Whether serve_get would answer cs at once, from the value in hand. */
bool serve_ready(struct cred_state *cs);
/* Takes cn off a wait list, if it is on one. */
void serve_forget(struct conn *cn);
void serve_release(struct cred_state *cs);

#endif
