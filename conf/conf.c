/*
 * hush.ini: load, release and look up. The work is done by the pieces
 * (docs/internals.md "Configuration"): conf_read.c reads lines, sections
 * and includes; conf_schema.c converts values by the schema table;
 * conf_check.c checks sections and what they say of each other;
 * conf_err.c collects the errors.
 */
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/conf_check.h"
#include "conf/conf_read.h"
#include "conf/conf_schema.h"
#include "conf/hush_err.h"

bool
conf_where_has(const struct conf_where *w, const char *key)
{
	size_t i;

	for (i = 0; i < w->nkeys; i++)
		if (w->keys[i].key != NULL && strcmp(w->keys[i].key, key) == 0)
			return true;
	return false;
}

struct conf_loc
conf_where_key(const struct conf_where *w, const char *key)
{
	size_t i;

	for (i = 0; i < w->nkeys; i++)
		if (w->keys[i].key != NULL && strcmp(w->keys[i].key, key) == 0)
			return w->keys[i].loc;
	return w->section;
}

/* The struct that raw section s converts into: the next of its kind. */
static void *
ld_section(struct conf_ld *ld, const struct conf_raw_sec *s)
{
	struct hush_conf *c = ld->conf;

	switch (s->kind) {
	case CONF_SEC_BROKER: return &c->broker;
	case CONF_SEC_REDACT: return &c->redact;
	case CONF_SEC_CLIENT: return &c->clients[c->nclients++];
	case CONF_SEC_CREDENTIAL: return &c->creds[c->ncreds++];
	case CONF_SEC_RULE: return &c->rules[c->nrules++];
	case CONF_SEC_UPSTREAM: return &c->upstreams[c->nupstreams++];
	case CONF_SEC_NKINDS: break;
	}
	abort();
}

static void
ld_convert(struct conf_ld *ld)
{
	struct hush_conf *c = ld->conf;
	size_t i, n[CONF_SEC_NKINDS] = { 0 };

	for (i = 0; i < ld->nsecs; i++)
		n[ld->secs[i].kind]++;
	c->clients = calloc(n[CONF_SEC_CLIENT] + 1, sizeof(*c->clients));
	c->creds = calloc(n[CONF_SEC_CREDENTIAL] + 1, sizeof(*c->creds));
	c->rules = calloc(n[CONF_SEC_RULE] + 1, sizeof(*c->rules));
	c->upstreams = calloc(n[CONF_SEC_UPSTREAM] + 1, sizeof(*c->upstreams));
	if (c->clients == NULL || c->creds == NULL || c->rules == NULL ||
	    c->upstreams == NULL) {
		ld->nomem = true;
		return;
	}
	for (i = 0; i < ld->nsecs && !ld->nomem; i++)
		conf_schema_convert(ld, &ld->secs[i], ld_section(ld,
		    &ld->secs[i]));
	/* [broker] and [redact] may be absent: their defaults all the same */
	if (!ld->nomem)
		conf_schema_fill(ld, CONF_SEC_BROKER, &c->broker);
	if (!ld->nomem)
		conf_schema_fill(ld, CONF_SEC_REDACT, &c->redact);
	/* names may be missing after a failed allocation: no cross checks */
	if (!ld->nomem)
		conf_check_all(ld);
}

void
conf_init(struct hush_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf_schema_init(CONF_SEC_BROKER, &conf->broker);
	conf_schema_init(CONF_SEC_REDACT, &conf->redact);
}

static int
ld_finish(struct conf_ld *ld, conf_check_fn check, size_t nerrs_before,
    size_t lost_before)
{
	if (!ld->nomem)
		ld_convert(ld);
	conf_read_release(ld);
	if (!ld->nomem && check != NULL)
		check(ld->conf, ld->errs);
	if (ld->nomem)
		conf_errs_add(ld->errs, (struct conf_loc){ NULL, 0 },
		    "out of memory");
	/* an error lost to a failed allocation fails the load all the same */
	if (ld->errs->n > nerrs_before || ld->errs->lost > lost_before) {
		conf_errs_sort(ld->errs);
		conf_release(ld->conf);
		return HUSH_ERR_CONFIG;
	}
	return HUSH_OK;
}

int
conf_load(struct hush_conf *conf, const char *path, unsigned flags,
    conf_check_fn check, struct conf_errs *errs)
{
	struct conf_ld ld;
	size_t before = errs->n, lost = errs->lost;

	conf_init(conf);
	memset(&ld, 0, sizeof(ld));
	ld.conf = conf;
	ld.errs = errs;
	ld.flags = flags;
	conf_read_file(&ld, path, (struct conf_loc){ NULL, 0 });
	return ld_finish(&ld, check, before, lost);
}

int
conf_load_string(struct hush_conf *conf, const char *name, const char *text,
    unsigned flags, conf_check_fn check, struct conf_errs *errs)
{
	struct conf_ld ld;
	size_t before = errs->n, lost = errs->lost;

	conf_init(conf);
	memset(&ld, 0, sizeof(ld));
	ld.conf = conf;
	ld.errs = errs;
	ld.flags = flags | CONF_SKIP_OWNER_CHECK;
	conf_read_text(&ld, conf_read_intern(&ld, name), text, strlen(text));
	return ld_finish(&ld, check, before, lost);
}

void
conf_release(struct hush_conf *conf)
{
	size_t i;

	conf_schema_release(CONF_SEC_BROKER, &conf->broker);
	conf_schema_release(CONF_SEC_REDACT, &conf->redact);
	for (i = 0; i < conf->nclients; i++)
		conf_schema_release(CONF_SEC_CLIENT, &conf->clients[i]);
	free(conf->clients);
	for (i = 0; i < conf->ncreds; i++) {
		free(conf->creds[i].arg);	/* from source, not a key */
		conf_schema_release(CONF_SEC_CREDENTIAL, &conf->creds[i]);
	}
	free(conf->creds);
	for (i = 0; i < conf->nrules; i++)
		conf_schema_release(CONF_SEC_RULE, &conf->rules[i]);
	free(conf->rules);
	for (i = 0; i < conf->nupstreams; i++)
		conf_schema_release(CONF_SEC_UPSTREAM, &conf->upstreams[i]);
	free(conf->upstreams);
	for (i = 0; i < conf->nfiles; i++)
		free(conf->files[i]);
	free(conf->files);
	conf_init(conf);
}

const struct conf_cred *
conf_find_cred(const struct hush_conf *conf, const char *name)
{
	size_t i;

	for (i = 0; i < conf->ncreds; i++)
		if (strcmp(conf->creds[i].name, name) == 0)
			return &conf->creds[i];
	return NULL;
}

uint64_t
conf_client_share(const struct conf_broker *b, const struct conf_client *c)
{
	uint64_t share = CONF_DEFAULT_CLIENT_MAX_CONNECTIONS;

	if (c->max_connections != 0)
		share = c->max_connections;
	if (share > b->max_connections)
		share = b->max_connections;
	return share > 0 ? share : 1;
}

const struct conf_upstream *
conf_find_upstream(const struct hush_conf *conf, const char *name)
{
	size_t i;

	for (i = 0; i < conf->nupstreams; i++)
		if (strcmp(conf->upstreams[i].name, name) == 0)
			return &conf->upstreams[i];
	return NULL;
}

bool
conf_upstream_path_ok(const struct conf_upstream *u, const char *path,
    size_t len)
{
	size_t i, j, seg = 0;

	if (len == 0 || path[0] != '/')
		return false;
	/* segments as the upstream would resolve them: refuse the tricks */
	for (j = 1; j <= len; j++) {
		if (j < len && path[j] != '/') {
			if (path[j] == '%' || path[j] == '\\' ||
			    (unsigned char)path[j] < 0x21 || path[j] == 0x7f)
				return false;
			continue;
		}
		if (j - seg - 1 == 0 && j < len)
			return false;	/* "//" */
		if ((j - seg - 1 == 1 && path[seg + 1] == '.') ||
		    (j - seg - 1 == 2 && path[seg + 1] == '.' &&
		    path[seg + 2] == '.'))
			return false;
		seg = j;
	}
	for (i = 0; i < u->npaths; i++) {
		const char *p = u->paths[i];
		size_t n = strlen(p);

		if (n > 0 && p[n - 1] == '*') {
			if (len >= n - 1 && memcmp(p, path, n - 1) == 0)
				return true;
			continue;
		}
		if (len >= n && memcmp(p, path, n) == 0 &&
		    (len == n || path[n] == '/' || p[n - 1] == '/'))
			return true;
	}
	return false;
}

bool
conf_upstream_method_ok(const struct conf_upstream *u, const char *method)
{
	size_t i;

	for (i = 0; i < u->nmethods; i++)
		if (strcmp(u->methods[i], method) == 0)
			return true;
	return false;
}
