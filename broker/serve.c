#include <stdlib.h>
#include <string.h>

#include "conf/hush_err.h"
#include "conf/source.h"
#include "broker/internal.h"

/* One read of a source, in the thread pool. */
struct load {
	uv_work_t		 work;
	struct cred_state	*cs;
	struct secbuf		*out;
	int			 r;
	struct source_err	 err;
};

static void
serve_push(struct conn **list, struct conn *cn)
{
	cn->wprev = NULL;
	cn->wnext = *list;
	if (*list != NULL)
		(*list)->wprev = cn;
	*list = cn;
	cn->wlist = list;
}

void
serve_forget(struct conn *cn)
{
	if (cn->wlist == NULL)
		return;
	if (cn->wprev != NULL)
		cn->wprev->wnext = cn->wnext;
	else
		*cn->wlist = cn->wnext;
	if (cn->wnext != NULL)
		cn->wnext->wprev = cn->wprev;
	cn->wprev = cn->wnext = NULL;
	cn->wlist = NULL;
}

void
serve_init(struct broker *b, struct cred_state *cs, const struct conf_cred *c)
{
	cs->c = c;
	cs->widx[0] = cs->widx[1] = WATCH_NONE;
	switch (c->kind) {
	case CONF_SRC_ENV:
		/* hushd's own environment does not change */
		cs->reusable = true;
		break;
	case CONF_SRC_FILE:
		cs->widx[0] = watch_path(&b->watch, c->arg);
		cs->reusable = cs->widx[0] != WATCH_NONE;
		break;
	case CONF_SRC_SEALED:
		cs->widx[0] = watch_path(&b->watch, c->arg);
		cs->widx[1] = c->key_file != NULL ?
		    watch_path(&b->watch, c->key_file) : WATCH_NONE;
		cs->reusable = cs->widx[0] != WATCH_NONE &&
		    (c->key_file == NULL || cs->widx[1] != WATCH_NONE);
		break;
	case CONF_SRC_EXEC:
		break;
	}
}

/* Whether the value in hand is still what the source holds. */
static bool
serve_fresh(struct cred_state *cs)
{
	struct broker *b = cs->gen->b;
	int i;

	if (cs->value == NULL)
		return false;
	if (cs->c->kind == CONF_SRC_EXEC)
		return cs->c->cache_ms > 0 &&
		    uv_now(b->loop) - cs->loaded_ms < cs->c->cache_ms;
	if (!cs->reusable)
		return false;
	if (cs->c->kind == CONF_SRC_ENV)
		return true;
	if (uv_now(b->loop) - cs->loaded_ms >= SERVE_MAX_REUSE_MS)
		return false;
	/* events queued by writes that finished before this turn */
	if (!watch_drain_turn(&b->watch))
		return false;
	for (i = 0; i < 2; i++)
		if (cs->widx[i] != WATCH_NONE &&
		    watch_epoch(&b->watch, cs->widx[i]) != cs->wepoch[i])
			return false;
	return true;
}

static void
serve_on_work(uv_work_t *w)
{
	struct load *ld = w->data;

	ld->r = source_load(ld->cs->c, &ld->out, &ld->err);
}

static void serve_start(struct cred_state *cs);

/* Every waiter gets the outcome; the list is emptied first, since an
 * answer may close a connection (which calls serve_forget). */
static void
serve_answer(struct conn **list, struct secbuf *value, const char *fp,
    int r, const char *reason, bool stale)
{
	struct conn *cn;

	while ((cn = *list) != NULL) {
		serve_forget(cn);
		conn_on_value(cn, value, fp, r, reason, stale);
	}
}

static void
serve_on_after_work(uv_work_t *w, int status)
{
	struct load *ld = w->data;
	struct cred_state *cs = ld->cs;
	struct gen *g = cs->gen;
	struct broker *b = g->b;
	struct conn *cn;
	bool stale = false;
	const char *reason = NULL;
	int r = status == 0 ? ld->r : HUSH_ERR_INTERNAL;

	cs->loading = false;
	b->loads--;
	if (r == HUSH_OK && (secbuf_len(ld->out) > 0 || cs->value == NULL)) {
		secbuf_unref(cs->value);
		cs->value = ld->out;
		ld->out = NULL;
		cs->loaded_ms = uv_now(b->loop);
		cs->wepoch[0] = cs->lepoch[0];
		cs->wepoch[1] = cs->lepoch[1];
		broker_fp(b, cs->value, cs->fp);
		broker_saw_value(b, cs->c->name, cs->value);
	} else if (cs->value != NULL && (r == HUSH_OK ||
	    r == HUSH_ERR_INVALID)) {
		/*
		 * Empty, or not parseable: a file being rewritten in place
		 * (truncate, then write). The last good value is served
		 * rather than a torn one.
		 */
		stale = true;
		r = HUSH_OK;
	} else if (r != HUSH_OK) {
		reason = ld->err.msg[0] != '\0' ? ld->err.msg :
		    hush_strerror(r);
		broker_log("%s", reason);
	}
	secbuf_unref(ld->out);
	serve_answer(&cs->waiting, r == HUSH_OK ? cs->value : NULL, cs->fp,
	    r, reason, stale);
	free(ld);
	/* requests that came during this load get the next one (also when
	 * stopping: they are in flight, and the stop timer bounds them) */
	if (cs->next != NULL) {
		cs->waiting = cs->next;
		cs->next = NULL;
		for (cn = cs->waiting; cn != NULL; cn = cn->wnext)
			cn->wlist = &cs->waiting;
		serve_start(cs);
	}
	gen_unref(g);
}

static void
serve_start(struct cred_state *cs)
{
	struct broker *b = cs->gen->b;
	struct load *ld;
	int e;

	if ((ld = calloc(1, sizeof(*ld))) == NULL) {
		serve_answer(&cs->waiting, NULL, NULL, HUSH_ERR_NOMEM,
		    "out of memory", false);
		return;
	}
	ld->cs = cs;
	ld->work.data = ld;
	/* before the read: a change during it forces another next time */
	(void)watch_drain(&b->watch);
	cs->lepoch[0] = watch_epoch(&b->watch, cs->widx[0]);
	cs->lepoch[1] = watch_epoch(&b->watch, cs->widx[1]);
	gen_ref(cs->gen);
	if ((e = uv_queue_work(b->loop, &ld->work, serve_on_work,
	    serve_on_after_work)) != 0) {
		gen_unref(cs->gen);
		free(ld);
		serve_answer(&cs->waiting, NULL, NULL, HUSH_ERR_INTERNAL,
		    uv_strerror(e), false);
		return;
	}
	cs->loading = true;
	b->loads++;
}

bool
serve_ready(struct cred_state *cs)
{
	return !cs->loading && serve_fresh(cs);
}

void
serve_get(struct conn *cn, struct cred_state *cs)
{
	/* exec: output is reused for its cache time; files while quiet */
	if (serve_ready(cs)) {
		conn_on_value(cn, cs->value, cs->fp, HUSH_OK, NULL, false);
		return;
	}
	/*
	 * A load already running may have read the source before this
	 * request came: wait for the next one, so a rewritten file is
	 * served from the next request on. Requests arriving together
	 * share one load.
	 */
	if (cs->loading) {
		serve_push(&cs->next, cn);
		return;
	}
	serve_push(&cs->waiting, cn);
	serve_start(cs);
}

void
serve_release(struct cred_state *cs)
{
	secbuf_unref(cs->value);
	cs->value = NULL;
}
