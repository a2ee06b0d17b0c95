/*
 * gen.c: a configuration generation's references. broker.c makes a
 * generation and swaps it on reload; connections, loads and upstream
 * calls hold references, and the last one to let go frees it. Nothing
 * here calls up: freeing drops the values' references itself.
 */
#include <stdlib.h>

#include "broker/internal.h"

struct gen *
gen_ref(struct gen *g)
{
	g->refs++;
	return g;
}

void
gen_unref(struct gen *g)
{
	size_t i;

	if (g == NULL || --g->refs > 0)
		return;
	for (i = 0; i < g->conf.ncreds; i++)
		secbuf_unref(g->creds[i].value);
	free(g->creds);
	free(g->clients);
	conf_release(&g->conf);
	free(g);
}
