/*
 * The rules of hush.ini beyond single values. Messages name the section
 * ("credential "x": ...") because the rule is about it, not one key.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "conf/allow.h"
#include "conf/conf.h"
#include "conf/conf_check.h"
#include "conf/hush_err.h"
#include "conf/source.h"

/* A shell-style environment variable name. */
static bool
is_varname(const char *s)
{
	if (*s == '\0' || isdigit((unsigned char)*s))
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* The items of a LIST or the one string of another type. */
static size_t
items(struct conf_conv *cv, char *const **list)
{
	if (cv->k->type == CONF_T_LIST) {
		*list = *CONF_FIELD(cv, char **);
		return *CONF_AUX(cv, size_t);
	}
	*list = CONF_FIELD(cv, char *);
	return 1;
}

/* Rules of one key */

void
conf_check_json_paths(struct conf_conv *cv)
{
	char *const *l;
	size_t i, n = items(cv, &l);

	/* a.b.c: non-empty segments */
	for (i = 0; i < n; i++) {
		const char *p = l[i];

		if (*p == '.' || *p == '\0' || p[strlen(p) - 1] == '.' ||
		    strstr(p, "..") != NULL)
			CONF_ERR(cv->ld, cv->loc, "%s: invalid JSON path \"%s\" "
			    "(use dotted field names such as "
			    "tokens.access_token)", cv->k->key, p);
	}
}

void
conf_check_varnames(struct conf_conv *cv)
{
	char *const *l;
	size_t i, n = items(cv, &l);

	for (i = 0; i < n; i++)
		if (!is_varname(l[i]))
			CONF_ERR(cv->ld, cv->loc, "%s \"%s\": %s: \"%s\" is not a "
			    "variable name", conf_sec_name(cv->k->sec),
			    cv->subject, cv->k->key, l[i]);
}

void
conf_check_upstream_paths(struct conf_conv *cv)
{
	char *const *l;
	size_t i, n = items(cv, &l);

	for (i = 0; i < n; i++) {
		const char *p = l[i], *star = strchr(p, '*');

		if (p[0] != '/' || strpbrk(p, "%?#\\ ") != NULL ||
		    strstr(p, "/.") != NULL || (star != NULL && star[1] != '\0'))
			CONF_ERR(cv->ld, cv->loc, "upstream \"%s\": paths: \"%s\" "
			    "is not a path beginning with '/' (a '*' only at "
			    "its end)", cv->subject, p);
	}
}

void
conf_check_methods(struct conf_conv *cv)
{
	char *const *l;
	size_t i, n = items(cv, &l);

	for (i = 0; i < n; i++)
		if (strspn(l[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZ") !=
		    strlen(l[i]) || strlen(l[i]) > 16)
			CONF_ERR(cv->ld, cv->loc, "upstream \"%s\": methods: "
			    "\"%s\" is not a method such as GET or POST",
			    cv->subject, l[i]);
}

/* Rules of one section */

void
conf_check_client(struct conf_ld *ld, const struct conf_raw_sec *s,
    void *sec)
{
	struct conf_client *c = sec;

	(void)ld;
	(void)s;
	/* systemd's manager connects as root; trust no one else by default */
	if (c->protocol == CONF_PROTO_SYSTEMD &&
	    !conf_where_has(&c->where, "uid")) {
		c->has_uid = true;
		c->uid = 0;
	}
}

/* source = SCHEME:ARG into kind and arg. */
static void
check_source(struct conf_ld *ld, struct conf_cred *c, struct conf_loc loc)
{
	static const char *const schemes[] = {
		"file", "env", "exec", "sealed", NULL
	};
	const char *colon = strchr(c->source, ':');
	char scheme[16], hint[64];
	size_t n;

	n = colon ? (size_t)(colon - c->source) : strlen(c->source);
	if (colon == NULL || n >= sizeof(scheme)) {
		CONF_ERR(ld, loc, "credential \"%s\": source must be SCHEME:ARG "
		    "(file:, env:, exec: or sealed:)", c->name);
		return;
	}
	memcpy(scheme, c->source, n);
	scheme[n] = '\0';
	for (colon++; *colon == ' ' || *colon == '\t'; colon++)
		;
	if ((strcmp(scheme, "file") == 0 || strcmp(scheme, "sealed") == 0) &&
	    *colon != '\0')
		c->arg = conf_read_resolve(ld, loc.file, colon);
	else
		c->arg = conf_read_strdup(ld, colon);
	if (c->arg == NULL) {
		CONF_ERR(ld, loc, "credential \"%s\": cannot resolve path "
		    "\"%s\"", c->name, colon);
		return;
	}
	if (strcmp(scheme, "file") == 0) {
		c->kind = CONF_SRC_FILE;
		/* whether it can be read is the daemon's to say
		 * (hushd_main.c): the file's owner can delete it, and that
		 * must not stop hushd from starting or reloading */
		if (c->arg[0] != '/')
			CONF_ERR(ld, loc, "credential \"%s\": file: needs a path",
			    c->name);
	} else if (strcmp(scheme, "env") == 0) {
		c->kind = CONF_SRC_ENV;
		if (!is_varname(c->arg))
			CONF_ERR(ld, loc, "credential \"%s\": env: needs a "
			    "variable name", c->name);
	} else if (strcmp(scheme, "exec") == 0) {
		c->kind = CONF_SRC_EXEC;	/* checked by source_check */
	} else if (strcmp(scheme, "sealed") == 0) {
		c->kind = CONF_SRC_SEALED;
		if (c->arg[0] != '/')
			CONF_ERR(ld, loc, "credential \"%s\": sealed: needs a "
			    "path", c->name);
	} else {
		CONF_ERR(ld, loc, "credential \"%s\": unknown source scheme "
		    "\"%s\" (file, env, exec or sealed)%s", c->name, scheme,
		    conf_errs_hint(scheme, schemes, hint, sizeof(hint)));
	}
}

/* A key that only some source kinds read, given to another. */
static void
check_only_for(struct conf_ld *ld, const struct conf_cred *c,
    const char *key, const char *why)
{
	struct conf_loc l;

	if (conf_where_has(&c->where, key) &&
	    (l = conf_where_key(&c->where, key)).line > 0)
		CONF_ERR(ld, l, "credential \"%s\": %s is only for %s", c->name,
		    key, why);
}

void
conf_check_cred(struct conf_ld *ld, const struct conf_raw_sec *s, void *sec)
{
	struct conf_cred *c = sec;

	if (c->source == NULL)
		return;		/* missing, or its error is reported */
	check_source(ld, c, conf_where_key(&c->where, "source"));
	if (c->json_field != NULL && c->json_omit != NULL)
		CONF_ERR(ld, conf_where_key(&c->where, "json_omit"),
		    "credential \"%s\": json_field and json_omit exclude each "
		    "other", c->name);
	if (c->json_field != NULL && c->json_blank != NULL)
		CONF_ERR(ld, conf_where_key(&c->where, "json_blank"),
		    "credential \"%s\": json_field and json_blank exclude each "
		    "other", c->name);
	if (c->kind == CONF_SRC_SEALED && c->key_file == NULL)
		CONF_ERR(ld, s->loc, "credential \"%s\": sealed: needs key_file",
		    c->name);
	if (c->kind == CONF_SRC_EXEC || (c->kind == CONF_SRC_SEALED &&
	    c->key_file != NULL)) {
		struct source_err serr;

		if (source_check(c, !(ld->flags & CONF_SKIP_SOURCE_CHECKS),
		    &serr) != HUSH_OK)
			CONF_ERR(ld, conf_where_key(&c->where, c->kind ==
			    CONF_SRC_EXEC ? "source" : "key_file"), "%s",
			    serr.msg);
	}
	if (c->kind != CONF_SRC_SEALED)
		check_only_for(ld, c, "key_file", "sealed: sources");
	if (c->kind != CONF_SRC_EXEC) {
		check_only_for(ld, c, "timeout", "exec: sources");
		check_only_for(ld, c, "cache", "exec: sources");
		check_only_for(ld, c, "env", "exec: sources (env: reads "
		    "hushd's own environment)");
	}
}

/* An upstream name: it becomes a path segment and an allow entry. */
static bool
route_like_name(const char *s)
{
	return s[0] != '\0' && s[0] != '.' && strlen(s) <= 64 &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") == strlen(s);
}

void
conf_check_upstream(struct conf_ld *ld, const struct conf_raw_sec *s,
    void *sec)
{
	struct conf_upstream *u = sec;

	if (!route_like_name(u->name))
		CONF_ERR(ld, s->loc, "upstream \"%s\": a name is letters, "
		    "digits, '.', '_' and '-'", u->name);
}

/* Rules across sections */

/* An upstream's credential is defined; its index is kept. */
static void
check_upstream_creds(struct conf_ld *ld)
{
	struct hush_conf *c = ld->conf;
	size_t i, j;

	for (i = 0; i < c->nupstreams; i++) {
		struct conf_upstream *u = &c->upstreams[i];

		if (u->credential == NULL)
			continue;
		for (j = 0; j < c->ncreds; j++)
			if (strcmp(c->creds[j].name, u->credential) == 0)
				break;
		if (j == c->ncreds)
			CONF_ERR(ld, conf_where_key(&u->where, "credential"),
			    "upstream \"%s\": credential: no [credential "
			    "\"%s\"]", u->name, u->credential);
		u->cred = j;
	}
}

/* allow entries of client cl name what exists, and fit its protocol. */
static void
check_allow(struct conf_ld *ld, const struct conf_client *cl,
    const char *const *names)
{
	struct conf_loc aloc = conf_where_key(&cl->where, "allow");
	size_t pl = strlen(CONF_UPSTREAM_PREFIX), j;
	char hint[80];

	for (j = 0; j < cl->nallow; j++) {
		const char *a = cl->allow[j];
		struct allow_entry e;

		if (strncmp(a, CONF_UPSTREAM_PREFIX, pl) == 0) {
			/* upstream:NAME grants the route, not a value */
			a += pl;
			if (a[0] != '\0' && a[strlen(a) - 1] == '*')
				continue;
			if (conf_find_upstream(ld->conf, a) == NULL)
				CONF_ERR(ld, aloc, "client \"%s\": allow names "
				    "unknown upstream \"%s\"", cl->name, a);
			continue;
		}
		allow_parse(cl->allow[j], &e);
		if (e.unit != NULL && cl->protocol != CONF_PROTO_SYSTEMD) {
			CONF_ERR(ld, aloc, "client \"%s\": allow entry \"%s\": "
			    "UNIT:ID needs protocol = systemd", cl->name,
			    cl->allow[j]);
			continue;
		}
		if (e.glob)
			continue;	/* a glob may match nothing yet */
		if (conf_find_cred(ld->conf, e.pat) == NULL)
			CONF_ERR(ld, aloc, "client \"%s\": allow names unknown "
			    "credential \"%s\"%s", cl->name, e.pat,
			    conf_errs_hint(e.pat, names, hint, sizeof(hint)));
	}
}

/* Two clients on one socket could not tell their peers apart. */
static void
check_sockets(struct conf_ld *ld, size_t i)
{
	const struct hush_conf *c = ld->conf;
	const struct conf_client *cl = &c->clients[i];
	size_t j;

	for (j = 0; j < i && cl->socket != NULL; j++)
		if (c->clients[j].socket != NULL &&
		    strcmp(c->clients[j].socket, cl->socket) == 0)
			CONF_ERR(ld, conf_where_key(&cl->where, "socket"),
			    "client \"%s\": socket %s is already used by "
			    "client \"%s\" (%s:%d)", cl->name, cl->socket,
			    c->clients[j].name,
			    c->clients[j].where.section.file,
			    c->clients[j].where.section.line);
}

void
conf_check_all(struct conf_ld *ld)
{
	struct hush_conf *c = ld->conf;
	const char **names;
	size_t i;

	check_upstream_creds(ld);
	if ((names = calloc(c->ncreds + 1, sizeof(*names))) == NULL) {
		ld->nomem = true;
		return;
	}
	for (i = 0; i < c->ncreds; i++) {
		names[i] = c->creds[i].name;
		if (strncmp(c->creds[i].name, CONF_UPSTREAM_PREFIX,
		    strlen(CONF_UPSTREAM_PREFIX)) == 0)
			CONF_ERR(ld, c->creds[i].where.section, "credential "
			    "\"%s\": a name beginning with \"%s\" would read "
			    "as an upstream in allow lists", c->creds[i].name,
			    CONF_UPSTREAM_PREFIX);
	}
	for (i = 0; i < c->nclients; i++) {
		check_sockets(ld, i);
		check_allow(ld, &c->clients[i], names);
	}
	free(names);
}
