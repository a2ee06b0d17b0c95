/*
 * serve.c: a credential's value and its wait list. It knows waiters only
 * as struct serve_waiter and tells them through their callback; what it
 * needs of the daemon comes in the generation's serve_env.
 */
#include <stdlib.h>
#include <string.h>

#include "conf/hush_err.h"
#include "conf/source.h"
#include "broker/internal.h"
#include "redact/fp.h"

/* One read of a source, in the thread pool. */
struct load {
	uv_work_t		 work;
	struct cred_state	*cs;
	struct secbuf		*out;
	int			 r;
	struct source_err	 err;
};

static void
serve_push(struct serve_waiter **list, struct serve_waiter *w)
{
	w->prev = NULL;
	w->next = *list;
	if (*list != NULL)
		(*list)->prev = w;
	*list = w;
	w->list = list;
}

void
serve_forget(struct serve_waiter *w)
{
	if (w->list == NULL)
		return;
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		*w->list = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	w->prev = w->next = NULL;
	w->list = NULL;
}

void
serve_init(struct gen *g, struct cred_state *cs, const struct conf_cred *c)
{
	struct serve_env *env = g->env;

	cs->gen = g;
	cs->c = c;
	cs->widx[0] = cs->widx[1] = WATCH_NONE;
	switch (c->kind) {
	case CONF_SRC_ENV:
		/* hushd's own environment does not change */
		cs->reusable = true;
		break;
	case CONF_SRC_FILE:
		cs->widx[0] = watch_path(env->watch, c->arg);
		cs->reusable = cs->widx[0] != WATCH_NONE;
		break;
	case CONF_SRC_SEALED:
		cs->widx[0] = watch_path(env->watch, c->arg);
		cs->widx[1] = c->key_file != NULL ?
		    watch_path(env->watch, c->key_file) : WATCH_NONE;
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
	struct serve_env *env = cs->gen->env;
	int i;

	if (cs->value == NULL)
		return false;
	if (cs->c->kind == CONF_SRC_EXEC)
		return cs->c->cache_ms > 0 &&
		    uv_now(env->loop) - cs->loaded_ms < cs->c->cache_ms;
	if (!cs->reusable)
		return false;
	if (cs->c->kind == CONF_SRC_ENV)
		return true;
	if (uv_now(env->loop) - cs->loaded_ms >= SERVE_MAX_REUSE_MS)
		return false;
	/* events queued by writes that finished before this turn */
	if (!watch_drain_turn(env->watch))
		return false;
	for (i = 0; i < 2; i++)
		if (cs->widx[i] != WATCH_NONE &&
		    watch_epoch(env->watch, cs->widx[i]) != cs->wepoch[i])
			return false;
	return true;
}

/*
 * After a load: whether the value it read serves the requests that came
 * while it ran. They wait for the next load only because the read may
 * have preceded a write they must see; a write makes an event, and the
 * epochs were taken before the read began (serve_start). So when no
 * event came since then (drained now, not once per turn), the value
 * read is the source's current one. Without this, a steady stream of
 * requests chained load after load, each started by those that came
 * during the one before.
 */
static bool
serve_settled(struct cred_state *cs)
{
	return (cs->widx[0] == WATCH_NONE ||
	    watch_drain(cs->gen->env->watch)) && serve_fresh(cs);
}

static void
serve_on_work(uv_work_t *w)
{
	struct load *ld = w->data;

	ld->r = source_load(ld->cs->c, &ld->out, &ld->err);
}

static void serve_start(struct cred_state *cs);

/* Every waiter gets the outcome; each is taken off the list before it
 * is told, since an answer may end the waiter (or another one). */
static void
serve_answer(struct serve_waiter **list, struct secbuf *value,
    const char *fp, int r, const char *reason, bool stale)
{
	struct serve_result res = {
		.value = value, .fp = fp, .r = r, .reason = reason,
		.stale = stale,
	};
	struct serve_waiter *w;

	while ((w = *list) != NULL) {
		serve_forget(w);
		w->fn(w, &res);
	}
}

static void
serve_on_after_work(uv_work_t *w, int status)
{
	struct load *ld = w->data;
	struct cred_state *cs = ld->cs;
	struct gen *g = cs->gen;
	struct serve_env *env = g->env;
	struct serve_waiter *w2;
	bool stale = false;
	const char *reason = NULL;
	int r = status == 0 ? ld->r : HUSH_ERR_INTERNAL;

	cs->loading = false;
	env->loads--;
	if (r == HUSH_OK && (secbuf_len(ld->out) > 0 || cs->value == NULL)) {
		secbuf_unref(cs->value);
		cs->value = ld->out;
		ld->out = NULL;
		cs->loaded_ms = uv_now(env->loop);
		cs->wepoch[0] = cs->lepoch[0];
		cs->wepoch[1] = cs->lepoch[1];
		/* once per value, not per answer */
		redact_fp(env->fp_key, secbuf_data(cs->value),
		    secbuf_len(cs->value), cs->fp);
		env->loaded(env->arg, cs->c, cs->value, NULL);
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
		env->loaded(env->arg, cs->c, NULL, reason);
	}
	secbuf_unref(ld->out);
	serve_answer(&cs->waiting, r == HUSH_OK ? cs->value : NULL, cs->fp,
	    r, reason, stale);
	free(ld);
	/* requests that came during this load get the next one (also when
	 * stopping: they are in flight, and the stop timer bounds them),
	 * unless the value just read is still what the source holds */
	if (cs->next != NULL) {
		cs->waiting = cs->next;
		cs->next = NULL;
		for (w2 = cs->waiting; w2 != NULL; w2 = w2->next)
			w2->list = &cs->waiting;
		if (r == HUSH_OK && !stale && serve_settled(cs))
			serve_answer(&cs->waiting, cs->value, cs->fp, HUSH_OK,
			    NULL, false);
		else
			serve_start(cs);
	}
	gen_unref(g);
}

static void
serve_start(struct cred_state *cs)
{
	struct serve_env *env = cs->gen->env;
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
	(void)watch_drain(env->watch);
	cs->lepoch[0] = watch_epoch(env->watch, cs->widx[0]);
	cs->lepoch[1] = watch_epoch(env->watch, cs->widx[1]);
	gen_ref(cs->gen);
	if ((e = env->queue(env->loop, &ld->work, serve_on_work,
	    serve_on_after_work)) != 0) {
		gen_unref(cs->gen);
		free(ld);
		serve_answer(&cs->waiting, NULL, NULL, HUSH_ERR_INTERNAL,
		    uv_strerror(e), false);
		return;
	}
	cs->loading = true;
	env->loads++;
}

bool
serve_ready(struct cred_state *cs)
{
	return !cs->loading && serve_fresh(cs);
}

void
serve_get(struct serve_waiter *w, struct cred_state *cs, serve_fn fn)
{
	struct serve_result res = {
		.value = cs->value, .fp = cs->fp, .r = HUSH_OK,
	};

	w->fn = fn;
	/* exec: output is reused for its cache time; files while quiet */
	if (serve_ready(cs)) {
		fn(w, &res);
		return;
	}
	/*
	 * A load already running may have read the source before this
	 * request came: wait for the next one, so a rewritten file is
	 * served from the next request on. Requests arriving together
	 * share one load.
	 */
	if (cs->loading) {
		serve_push(&cs->next, w);
		return;
	}
	serve_push(&cs->waiting, w);
	serve_start(cs);
}
