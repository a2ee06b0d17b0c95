#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "conf/fdio.h"
#include "conf/hush_err.h"
#include "broker/internal.h"
#include "broker/privdrop.h"
#include "broker/sdnotify.h"
#include "broker/upstream.h"
#include "redact/redact.h"
#include "redact/rules.h"

#define BROKER_ERR_MAX	512

/* The broker whose values hushd's own log lines must not show. */
static struct broker *broker_log_owner;

static int
broker_log_sink(void *arg, const uint8_t *buf, size_t len)
{
	(void)arg;
	return fdio_write_all(STDERR_FILENO, buf, len);
}

/*
 * The rule set for hushd's stderr: the configured pack plus the last value
 * served under every name since start. Rebuilt only when a log line is
 * written after a new value was loaded: lines are rare, loads are not.
 */
static struct redact_rules *
broker_log_rules(struct broker *b)
{
	struct conf_errs errs;
	struct redact_rules *r;
	struct gen *g = b->gen;
	char name[160];
	size_t i;

	if (b->log_rules != NULL && !b->log_dirty)
		return b->log_rules;
	conf_errs_init(&errs);
	r = redact_rules_new(g != NULL ? &g->conf : NULL, 0, &errs);
	conf_errs_release(&errs);
	if (r == NULL)
		return NULL;
	for (i = 0; i < b->nseen; i++) {
		const struct secbuf *v = b->seen[i].value;

		if (secbuf_len(v) == 0)
			continue;
		snprintf(name, sizeof(name), "credential:%s",
		    b->seen[i].name);
		/* too short to mask is refused; lines never hold values */
		(void)redact_rules_add_literal(r, name, secbuf_data(v),
		    secbuf_len(v));
	}
	if (redact_rules_compile(r) != HUSH_OK) {
		redact_rules_free(r);
		return NULL;
	}
	redact_rules_free(b->log_rules);
	b->log_rules = r;
	b->log_dirty = false;
	return r;
}

void
broker_log(const char *fmt, ...)
{
	struct broker *b = broker_log_owner;
	struct redact_stream *rs;
	struct redact_rules *rules;
	char msg[1024];
	va_list ap;
	int n;

	memcpy(msg, "hushd: ", 7);
	va_start(ap, fmt);
	n = vsnprintf(msg + 7, sizeof(msg) - 8, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	n = (int)strlen(msg);
	msg[n++] = '\n';
	if (b == NULL) {
		/* nothing is served yet: no value can be in the line */
		(void)broker_log_sink(NULL, (const uint8_t *)msg, (size_t)n);
		return;
	}
	/* fail closed: a line that cannot be redacted is not written */
	if ((rules = broker_log_rules(b)) == NULL ||
	    (rs = redact_stream_new(rules, broker_log_sink, NULL)) == NULL) {
		static const char w[] = "hushd: (a log line was withheld: "
		    "redaction unavailable)\n";

		(void)broker_log_sink(NULL, (const uint8_t *)w, sizeof(w) - 1);
		return;
	}
	(void)redact_stream_feed(rs, (const uint8_t *)msg, (size_t)n);
	(void)redact_stream_finish(rs);
	redact_stream_free(rs);
}

_Static_assert(AUDIT_FP_LEN == REDACT_FP_CHARS,
    "an audit line's fp is a redaction marker's {fp}");

/*
 * The last value served under each name, across reloads, so that hushd's
 * stderr masks it for as long as it may matter. A reference is held.
 */
static void
broker_saw_value(struct broker *b, const char *name, struct secbuf *v)
{
	struct broker_seen *ns;
	size_t i, len = strlen(name);

	for (i = 0; i < b->nseen; i++)
		if (strcmp(b->seen[i].name, name) == 0)
			break;
	if (i < b->nseen && b->seen[i].value == v)
		return;
	if (i == b->nseen) {
		if (len >= sizeof(b->seen[0].name) ||
		    b->nseen == BROKER_MAX_SEEN)
			return;
		if (b->nseen == b->seencap) {
			size_t ncap = b->seencap == 0 ? 8 : b->seencap * 2;

			if ((ns = realloc(b->seen, ncap * sizeof(*ns))) == NULL)
				return;
			b->seen = ns;
			b->seencap = ncap;
		}
		memcpy(b->seen[i].name, name, len + 1);
		b->seen[i].value = NULL;
		b->nseen++;
	}
	secbuf_unref(b->seen[i].value);
	b->seen[i].value = secbuf_ref(v);
	b->log_dirty = true;
}

/* serve.c's word on each finished load (struct serve_env). */
static void
broker_on_loaded(void *arg, const struct conf_cred *c, struct secbuf *value,
    const char *reason)
{
	struct broker *b = arg;

	if (value != NULL)
		broker_saw_value(b, c->name, value);
	else if (reason != NULL)
		broker_log("%s", reason);
}

/* A generation taking over conf (released here on failure too). */
static struct gen *
broker_gen_new(struct broker *b, struct hush_conf *conf)
{
	struct gen *g;
	size_t i;

	if ((g = calloc(1, sizeof(*g))) == NULL) {
		conf_release(conf);
		return NULL;
	}
	g->refs = 1;
	g->b = b;
	g->env = &b->env;
	g->conf = *conf;	/* moved */
	memset(conf, 0, sizeof(*conf));
	g->creds = calloc(g->conf.ncreds + 1, sizeof(*g->creds));
	g->clients = calloc(g->conf.nclients + 1, sizeof(*g->clients));
	if (g->creds == NULL || g->clients == NULL) {
		gen_unref(g);
		return NULL;
	}
	for (i = 0; i < g->conf.ncreds; i++)
		serve_init(g, &g->creds[i], &g->conf.creds[i]);
	return g;
}

static void
broker_audit(struct broker *b, const char *event, const char *result,
    const char *reason)
{
	struct audit_event ev = {
		.event = event, .result = result, .reason = reason,
		.bytes = -1,
	};

	audit_log(&b->audit, &ev);
}

static void
lsock_on_close(uv_handle_t *h)
{
	struct lsock *ls = h->data;

	free(ls->path);
	free(ls->client);
	free(ls->fdname);
	free(ls);
}

static void
lsock_close(struct lsock *ls)
{
	if (ls->created)
		listener_unlink(ls->path, &ls->lf);
	uv_close((uv_handle_t *)&ls->pipe, lsock_on_close);
}

/* A client connects: the connection is conn.c's from here. */
static void
lsock_on_connection(uv_stream_t *server, int status)
{
	struct lsock *ls = server->data;
	struct broker *b = ls->b;

	if (status >= 0 && (status = conn_accept(b, server, ls->path)) ==
	    HUSH_OK)
		return;
	/* EMFILE and friends: say so, but not once per attempt */
	if (uv_now(b->loop) - b->accept_err_ms >= 1000 ||
	    b->accept_err_ms == 0) {
		b->accept_err_ms = uv_now(b->loop);
		broker_log("accept on %s: %s", ls->path,
		    status == HUSH_ERR_NOMEM ? "out of memory" :
		    status == HUSH_ERR_IO ? "cannot accept" :
		    uv_strerror(status));
	}
}

/* Starts accepting on fd for client c; the fd is owned by ls from here. */
static int
lsock_start(struct broker *b, const struct conf_client *c, int fd,
    bool created, const struct listener_file *lf, struct lsock **lsp,
    char *err, size_t errlen)
{
	struct lsock *ls;
	int e;

	if ((ls = calloc(1, sizeof(*ls))) == NULL ||
	    (ls->path = strdup(c->socket)) == NULL ||
	    (ls->client = strdup(c->name)) == NULL ||
	    (!created && (ls->fdname = strdup(c->name)) == NULL)) {
		if (ls != NULL) {
			free(ls->path);
			free(ls->client);
			free(ls);
		}
		close(fd);
		snprintf(err, errlen, "out of memory");
		return HUSH_ERR_NOMEM;
	}
	ls->b = b;
	ls->created = created;
	if (lf != NULL)
		ls->lf = *lf;
	uv_pipe_init(b->loop, &ls->pipe, 0);
	ls->pipe.data = ls;
	if ((e = uv_pipe_open(&ls->pipe, fd)) != 0)
		close(fd);	/* not the handle's yet */
	else
		e = uv_listen((uv_stream_t *)&ls->pipe, LISTENER_BACKLOG,
		    lsock_on_connection);
	if (e != 0) {
		snprintf(err, errlen, "client \"%s\": listen on %s: %s",
		    c->name, c->socket, uv_strerror(e));
		lsock_close(ls);
		return HUSH_ERR_IO;
	}
	*lsp = ls;
	return HUSH_OK;
}

/*
 * The listener serving client c: a socket systemd passed is the client's
 * by its FileDescriptorName=, one hushd created by its path.
 */
static struct lsock *
broker_find_lsock(struct broker *b, const struct conf_client *c)
{
	struct lsock *ls;

	for (ls = b->listeners; ls != NULL; ls = ls->next)
		if (ls->fdname != NULL ? strcmp(ls->fdname, c->name) == 0 :
		    strcmp(ls->path, c->socket) == 0)
			return ls;
	return NULL;
}

/* The client of conf that listener ls serves, or NULL. */
static const struct conf_client *
broker_lsock_client(const struct lsock *ls, const struct hush_conf *conf)
{
	size_t i;

	for (i = 0; i < conf->nclients; i++)
		if (ls->fdname != NULL ?
		    strcmp(ls->fdname, conf->clients[i].name) == 0 :
		    strcmp(ls->path, conf->clients[i].socket) == 0)
			return &conf->clients[i];
	return NULL;
}

/*
 * Opens a listener for every client of conf that has none yet (from
 * socket activation first), appending them to *newp. On error closes
 * those opened and returns the error.
 */
static int
broker_bind_all(struct broker *b, const struct hush_conf *conf,
    struct lsock **newp, char *err, size_t errlen)
{
	int afds[LISTENER_MAX_FDS];
	const char *anames[LISTENER_MAX_FDS];
	int nact = 0, fd, r = HUSH_OK, j;
	struct listener_file lf;
	struct lsock *ls, *list = NULL;
	size_t i;

	if (b->listeners == NULL && *newp == NULL)
		nact = listener_activated(afds, anames, LISTENER_MAX_FDS);
	for (i = 0; i < conf->nclients; i++) {
		const struct conf_client *c = &conf->clients[i];
		bool created = true;

		if (broker_find_lsock(b, c) != NULL)
			continue;
		fd = -1;
		for (j = 0; j < nact; j++)
			if (afds[j] >= 0 && strcmp(anames[j], c->name) == 0) {
				fd = afds[j];
				afds[j] = -1;
				created = false;
				(void)fcntl(fd, F_SETFL,
				    fcntl(fd, F_GETFL) | O_NONBLOCK);
				break;
			}
		if (fd == -1 && (r = listener_bind(c, &b->owner, &fd, &lf,
		    err, errlen)) != HUSH_OK)
			break;
		if ((r = lsock_start(b, c, fd, created, created ? &lf : NULL,
		    &ls, err, errlen)) != HUSH_OK)
			break;
		ls->next = list;
		list = ls;
	}
	/*
	 * A passed socket nobody serves would leave its clients waiting
	 * forever (systemd keeps it open): a configuration error.
	 */
	for (j = 0; j < nact && r == HUSH_OK; j++)
		if (afds[j] >= 0) {
			snprintf(err, errlen, "socket activation: fd %d is "
			    "named \"%s\", but no [client] section has that "
			    "name (FileDescriptorName= must name the client "
			    "the socket serves)", afds[j], anames[j]);
			r = HUSH_ERR_CONFIG;
		}
	for (j = 0; j < nact; j++)
		if (afds[j] >= 0)
			close(afds[j]);
	if (r != HUSH_OK) {
		while ((ls = list) != NULL) {
			list = ls->next;
			lsock_close(ls);
		}
		return r;
	}
	*newp = list;
	return HUSH_OK;
}

void
broker_reload(struct broker *b)
{
	struct hush_conf nc;
	struct conf_errs errs;
	struct lsock *fresh = NULL, *ls, **lp;
	struct gen *g;
	char err[BROKER_ERR_MAX], why[64];
	size_t i, nfailed = 0;

	/*
	 * Sources are not checked here: a user who controls a source path
	 * could otherwise block every revocation by deleting her own file.
	 * A missing source answers 500 (audited) until it is back.
	 */
	conf_errs_init(&errs);
	if (conf_load(&nc, b->conf_path, CONF_SKIP_SOURCE_CHECKS,
	    rules_check_conf, &errs) != HUSH_OK) {
		for (i = 0; i < errs.n; i++)
			broker_log("%s", errs.msgs[i]);
		snprintf(why, sizeof(why), "%zu configuration error%s", errs.n,
		    errs.n == 1 ? "" : "s");
		broker_log("reload rejected: still serving the previous "
		    "configuration");
		/* logrotate's HUP still gets a fresh audit file */
		if (audit_reopen(&b->audit, b->audit.path, err, sizeof(err)) !=
		    HUSH_OK)
			broker_log("%s", err);
		broker_audit(b, "reload", "rejected", why);
		conf_errs_release(&errs);
		return;
	}
	conf_errs_release(&errs);
	/* systemd's sockets stay ours: each must keep a client to answer */
	for (ls = b->listeners; ls != NULL; ls = ls->next)
		if (ls->fdname != NULL && broker_lsock_client(ls, &nc) ==
		    NULL) {
			snprintf(err, sizeof(err), "socket activation: the "
			    "socket named \"%s\" (%s) has no [client] "
			    "section in the new configuration; nothing would "
			    "answer it", ls->fdname, ls->path);
			conf_release(&nc);
			broker_log("reload rejected: %s", err);
			broker_audit(b, "reload", "rejected", err);
			return;
		}
	if (broker_bind_all(b, &nc, &fresh, err, sizeof(err)) != HUSH_OK ||
	    audit_reopen(&b->audit, nc.broker.audit_log, err, sizeof(err)) !=
	    HUSH_OK) {
		while ((ls = fresh) != NULL) {
			fresh = ls->next;
			lsock_close(ls);
		}
		conf_release(&nc);
		broker_log("reload rejected: %s", err);
		broker_audit(b, "reload", "rejected", err);
		return;
	}
	/* kept sockets get the new client and mode; gone ones close */
	for (lp = &b->listeners; (ls = *lp) != NULL;) {
		const struct conf_client *c = broker_lsock_client(ls, &nc);

		if (c == NULL) {
			*lp = ls->next;
			lsock_close(ls);
			continue;
		}
		if (strcmp(ls->client, c->name) != 0) {
			char *n = strdup(c->name);

			if (n != NULL) {
				free(ls->client);
				ls->client = n;
			}
		}
		/* through the socket's own descriptor, never by name */
		if (ls->created && listener_apply_mode(c, &b->owner, &ls->lf,
		    err, sizeof(err)) != HUSH_OK) {
			broker_log("reload: %s", err);
			nfailed++;
		}
		lp = &ls->next;
	}
	*lp = fresh;
	if ((g = broker_gen_new(b, &nc)) == NULL) {
		broker_log("reload: out of memory; keeping the previous "
		    "configuration");
		broker_audit(b, "reload", "rejected", "out of memory");
		return;
	}
	gen_unref(b->gen);
	b->gen = g;
	b->log_dirty = true;
	conn_reload(b);
	if (nfailed > 0) {
		/* the policy is in force (revocations must bite); say what
		 * did not follow */
		snprintf(why, sizeof(why), "%zu socket change%s failed",
		    nfailed, nfailed == 1 ? "" : "s");
		broker_log("configuration reloaded, but %s (see above)", why);
		broker_audit(b, "reload", "partial", why);
		return;
	}
	broker_log("configuration reloaded");
	broker_audit(b, "reload", "ok", NULL);
}

static void
broker_on_stop_timer(uv_timer_t *t)
{
	struct broker *b = t->data;

	broker_log("stopping: closing connections still open");
	conn_stop_all(b, true);
}

static void
broker_stop(struct broker *b, int signum)
{
	struct lsock *ls;
	size_t i;

	if (b->stopping)
		return;
	b->stopping = true;
	broker_log("stopping on %s", signum == SIGINT ? "SIGINT" : "SIGTERM");
	broker_audit(b, "stop", "ok", NULL);
	while ((ls = b->listeners) != NULL) {
		b->listeners = ls->next;
		lsock_close(ls);
	}
	for (i = 0; i < 3; i++)
		uv_close((uv_handle_t *)&b->sig[i], NULL);
	conn_stop_all(b, false);
	/* requests in flight get request_timeout to finish */
	uv_timer_start(&b->stop_timer, broker_on_stop_timer,
	    b->gen->conf.broker.request_timeout_ms, 0);
	uv_unref((uv_handle_t *)&b->stop_timer);
}

static void
broker_on_signal(uv_signal_t *s, int signum)
{
	struct broker *b = s->data;

	if (signum == SIGHUP)
		broker_reload(b);
	else
		broker_stop(b, signum);
}

/*
 * The key of the audit log's fingerprints: the redaction engine's own
 * (redact/fp.h), so an audit line's fp equals the {fp} of the same
 * value's redaction marker.
 */
static int
broker_load_fp_key(struct broker *b, const struct hush_conf *conf,
    char *err, size_t errlen)
{
	return redact_fp_key(conf->redact.fingerprint_key_file, &b->fp_key,
	    err, errlen);
}

/*
 * The janitor gets the socket files created so far; after the drop
 * hushd cannot remove those in directories root owns.
 */
static int
broker_start_janitor(struct broker *b, char *err, size_t errlen)
{
	struct listener_file *lfs;
	struct lsock *ls;
	char **paths;
	size_t n = 0;
	int r;

	for (ls = b->listeners; ls != NULL; ls = ls->next)
		n++;
	paths = calloc(n + 1, sizeof(*paths));
	lfs = calloc(n + 1, sizeof(*lfs));
	if (paths == NULL || lfs == NULL) {
		free(paths);
		free(lfs);
		snprintf(err, errlen, "out of memory");
		return HUSH_ERR_NOMEM;
	}
	n = 0;
	for (ls = b->listeners; ls != NULL; ls = ls->next)
		if (ls->created) {
			paths[n] = ls->path;
			lfs[n++] = ls->lf;
		}
	r = listener_janitor_start(paths, lfs, n, &b->janitor_fd, err, errlen);
	free(paths);
	free(lfs);
	return r;
}

static void
broker_on_walk_close(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/* The upstream route, as conn.c reaches it (struct conn_route). */
static const struct conn_route broker_upstream = {
	.begin = upstream_begin,
	.on_value = upstream_on_value,
	.cancel = upstream_cancel,
	.info = upstream_info_json,
};

int
broker_open(struct broker *b, uv_loop_t *loop, const char *conf_path,
    struct hush_conf *conf, char *err, size_t errlen)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	b->loop = loop;
	b->conf_path = conf_path;
	b->janitor_fd = -1;
	uv_timer_init(loop, &b->stop_timer);
	b->stop_timer.data = b;
	watch_init(&b->watch, loop);
	b->env.loop = loop;
	b->env.watch = &b->watch;
	b->env.loaded = broker_on_loaded;
	b->env.arg = b;
	b->env.queue = uv_queue_work;
	b->upstream = &broker_upstream;
	if (privdrop_target(&conf->broker, &b->owner.uid, &b->owner.gid, err,
	    errlen) != HUSH_OK ||
	    broker_load_fp_key(b, conf, err, errlen) != HUSH_OK ||
	    audit_init(&b->audit, loop, conf->broker.audit_log, err,
	    errlen) != HUSH_OK) {
		conf_release(conf);
		return HUSH_ERR_CONFIG;
	}
	b->audit_up = true;
	b->env.fp_key = b->fp_key;
	if (audit_set_owner(&b->audit, b->owner.uid, b->owner.gid, err,
	    errlen) != HUSH_OK) {
		conf_release(conf);
		return HUSH_ERR_CONFIG;
	}
	audit_on_commit(&b->audit, conn_commit, b);
	if ((b->gen = broker_gen_new(b, conf)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return HUSH_ERR_NOMEM;
	}
	if (broker_bind_all(b, &b->gen->conf, &b->listeners, err,
	    errlen) != HUSH_OK)
		return HUSH_ERR_IO;
	if (privdrop_pending(&b->gen->conf.broker) &&
	    broker_start_janitor(b, err, errlen) != HUSH_OK)
		return HUSH_ERR_IO;
	if (privdrop(&b->gen->conf.broker, err, errlen) != HUSH_OK)
		return HUSH_ERR_DENIED;
	/* from here values are served: hushd's log lines are masked */
	broker_log_owner = b;
	return HUSH_OK;
}

int
broker_close(struct broker *b, int rc, const char *err)
{
	struct lsock *ls;
	size_t i;

	/* every exit path leaves a stop line: a failed start says why */
	if (b->audit_up && !b->stopping)
		broker_audit(b, "stop", rc == HUSH_EXIT_OK ? "ok" : "failed",
		    rc == HUSH_EXIT_OK || err == NULL || err[0] == '\0' ?
		    NULL : err);
	while ((ls = b->listeners) != NULL) {
		b->listeners = ls->next;
		lsock_close(ls);
	}
	if (b->conns != NULL)
		conn_stop_all(b, true);
	if (b->audit_up && !audit_release(&b->audit)) {
		broker_log("the stop event could not be written to the "
		    "audit log");
		rc = HUSH_EXIT_FAIL;
	}
	watch_release(&b->watch);
	/* libcurl's sockets and timer close with their own callbacks */
	upstream_release(b);
	uv_walk(b->loop, broker_on_walk_close, NULL);
	uv_run(b->loop, UV_RUN_DEFAULT);
	broker_log_owner = NULL;
	redact_rules_free(b->log_rules);
	for (i = 0; i < b->nseen; i++)
		secbuf_unref(b->seen[i].value);
	free(b->seen);
	gen_unref(b->gen);
	secbuf_unref(b->fp_key);
	/* the janitor removes what this user could not */
	if (b->janitor_fd != -1)
		close(b->janitor_fd);
	return rc;
}

int
broker_run(const char *conf_path, struct hush_conf *conf)
{
	struct broker *b;
	uv_loop_t loop;
	char err[BROKER_ERR_MAX];
	static const int sigs[3] = { SIGTERM, SIGINT, SIGHUP };
	struct lsock *ls;
	int rc = HUSH_EXIT_FAIL, i;

	err[0] = '\0';
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		conf_release(conf);
		return HUSH_EXIT_FAIL;
	}
	if (uv_loop_init(&loop) != 0) {
		free(b);
		conf_release(conf);
		return HUSH_EXIT_FAIL;
	}
	if (broker_open(b, &loop, conf_path, conf, err, sizeof(err)) !=
	    HUSH_OK) {
		broker_log("%s", err);
		goto out;
	}
	for (i = 0; i < 3; i++) {
		uv_signal_init(&loop, &b->sig[i]);
		b->sig[i].data = b;
		uv_signal_start(&b->sig[i], broker_on_signal, sigs[i]);
	}
	for (ls = b->listeners; ls != NULL; ls = ls->next)
		broker_log("listening on %s (client \"%s\")", ls->path,
		    ls->client);
	broker_audit(b, "start", "ok", NULL);
	audit_flush(&b->audit);
	/* sockets bound, privileges dropped, start audited: ready */
	(void)sdnotify("READY=1");
	uv_run(&loop, UV_RUN_DEFAULT);
	rc = HUSH_EXIT_OK;
	broker_log("stopped");
out:
	rc = broker_close(b, rc, err);
	if (uv_loop_close(&loop) != 0) {
		broker_log("internal error: handles left open at exit");
		rc = HUSH_EXIT_FAIL;
	}
	free(b);
	return rc;
}
