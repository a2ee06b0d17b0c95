/*
 * The built-in rule pack. The rules are data, redact/pack/ (one .ini per group), in the
 * [rule "NAME"] form users write; the build embeds the files (see
 * pack/embed.cmake) and they are parsed here by the same conf_load_string
 * that reads a user's configuration, so a pack rule and a user rule
 * cannot mean different things.
 */
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/hush_err.h"
#include "redact/internal.h"

int
pack_load(struct pack *pk, struct conf_errs *errs)
{
	size_t i;
	int r = HUSH_OK;

	memset(pk, 0, sizeof(*pk));
	if ((pk->files = calloc(redact_pack_nfiles + 1,
	    sizeof(*pk->files))) == NULL)
		return HUSH_ERR_NOMEM;
	for (i = 0; i < redact_pack_nfiles; i++) {
		/* Only [rule] sections: nothing in them names a file. */
		if (conf_load_string(&pk->files[i], redact_pack_files[i].name,
		    redact_pack_files[i].text, CONF_SKIP_SOURCE_CHECKS, NULL,
		    errs) != HUSH_OK) {
			r = HUSH_ERR_CONFIG;
			continue;	/* report every file's errors */
		}
		pk->nrules += pk->files[i].nrules;
	}
	pk->nfiles = redact_pack_nfiles;
	if (r != HUSH_OK)
		pack_release(pk);
	return r;
}

void
pack_release(struct pack *pk)
{
	size_t i;

	for (i = 0; pk->files != NULL && i < pk->nfiles; i++)
		conf_release(&pk->files[i]);
	free(pk->files);
	memset(pk, 0, sizeof(*pk));
}

const struct conf_rule *
pack_rule(const struct pack *pk, size_t i)
{
	size_t f;

	for (f = 0; f < pk->nfiles; f++) {
		if (i < pk->files[f].nrules)
			return &pk->files[f].rules[i];
		i -= pk->files[f].nrules;
	}
	return NULL;
}

const struct conf_rule *
pack_find(const struct pack *pk, const char *name)
{
	const struct conf_rule *r;
	size_t i;

	for (i = 0; (r = pack_rule(pk, i)) != NULL; i++)
		if (strcmp(r->name, name) == 0)
			return r;
	return NULL;
}
