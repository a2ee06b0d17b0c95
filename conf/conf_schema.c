/*
 * The schema of hush.ini as one table, and one converter per type.
 * Section-wide rules (a sealed source needs key_file, ...) and rules
 * across sections live in conf_check.c; this file knows single values.
 */
#define _XOPEN_SOURCE 700
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <sodium.h>

#include "conf/conf.h"
#include "conf/conf_check.h"
#include "conf/conf_read.h"
#include "conf/conf_schema.h"
#include "conf/hush_err.h"

/* Section kinds */

struct sec_info {
	const char	*name;
	bool		 subject;	/* [kind "name"] */
	size_t		 off_name;	/* char *name in the struct */
	size_t		 off_where;	/* struct conf_where */
	/* the section's own rules, after its keys, or NULL */
	void		(*finish)(struct conf_ld *ld,
			    const struct conf_raw_sec *s, void *sec);
};

static const struct sec_info sec_info[CONF_SEC_NKINDS] = {
	[CONF_SEC_BROKER] = { "broker", false, CONF_NOFIELD,
	    offsetof(struct conf_broker, where), NULL },
	[CONF_SEC_REDACT] = { "redact", false, CONF_NOFIELD,
	    offsetof(struct conf_redact, where), NULL },
	[CONF_SEC_CLIENT] = { "client", true,
	    offsetof(struct conf_client, name),
	    offsetof(struct conf_client, where), conf_check_client },
	[CONF_SEC_CREDENTIAL] = { "credential", true,
	    offsetof(struct conf_cred, name),
	    offsetof(struct conf_cred, where), conf_check_cred },
	[CONF_SEC_RULE] = { "rule", true, offsetof(struct conf_rule, name),
	    offsetof(struct conf_rule, where), NULL },
	[CONF_SEC_UPSTREAM] = { "upstream", true,
	    offsetof(struct conf_upstream, name),
	    offsetof(struct conf_upstream, where), conf_check_upstream },
};

static const char *const sec_names[CONF_SEC_NKINDS + 1] = {
	"broker", "redact", "client", "credential", "rule", "upstream", NULL
};

const char *
conf_sec_name(enum conf_sec kind)
{
	return sec_info[kind].name;
}

bool
conf_sec_has_subject(enum conf_sec kind)
{
	return sec_info[kind].subject;
}

int
conf_sec_find(const char *word)
{
	int i;

	for (i = 0; i < CONF_SEC_NKINDS; i++)
		if (strcmp(word, sec_info[i].name) == 0)
			return i;
	return -1;
}

const char *const *
conf_sec_names(void)
{
	return sec_names;
}

/* The table */

#define F(T, f)		offsetof(T, f)
#define NO		CONF_NOFIELD
#define B		struct conf_broker
#define R		struct conf_redact
#define C		struct conf_client
#define K		struct conf_cred
#define U		struct conf_rule
#define P		struct conf_upstream

/* One row: section, key, type, value, aux, aux2, has, min, max, default,
 * words, hint, required, check. */
#define ROW(S, k, t, off, aux, aux2, has, lo, hi, d, w, hint, req, chk) \
	{ CONF_SEC_##S, k, CONF_T_##t, off, aux, aux2, has, lo, hi, d, w, \
	    hint, req, chk }
/* The common shapes. */
#define SIMPLE(S, T, k, t, f, d) \
	ROW(S, k, t, F(T, f), NO, NO, NO, 0, 0, d, NULL, NULL, NULL, NULL)
#define NUM(S, T, k, t, f, lo, hi, d) \
	ROW(S, k, t, F(T, f), NO, NO, NO, lo, hi, d, NULL, NULL, NULL, NULL)
#define LIST(S, T, k, f, n, d, chk) \
	ROW(S, k, LIST, F(T, f), F(T, n), NO, NO, 0, 0, d, NULL, NULL, NULL, \
	    chk)
#define HAS(S, T, k, t, f, has) \
	ROW(S, k, t, F(T, f), NO, NO, F(T, has), 0, 0, NULL, NULL, NULL, \
	    NULL, NULL)
#define NEED(S, T, k, t, f, req, chk) \
	ROW(S, k, t, F(T, f), NO, NO, NO, 0, 0, NULL, NULL, NULL, req, chk)

#define MAXMS	VAL_MAX_DURATION_MS

static const char *const w_stderr[] = { "stderr", NULL };
static const char *const w_protocol[] = { "http", "systemd", NULL };

const struct conf_key conf_schema[] = {
	ROW(BROKER, "user", USER, F(B, uid), F(B, user), NO, F(B, has_user),
	    0, 0, NULL, NULL, NULL, NULL, NULL),
	ROW(BROKER, "group", GROUP, F(B, gid), F(B, group), NO,
	    F(B, has_group), 0, 0, NULL, NULL, NULL, NULL, NULL),
	ROW(BROKER, "audit_log", PATH, F(B, audit_log), NO, NO, NO, 0, 0,
	    "stderr", w_stderr, NULL, NULL, NULL),
	NUM(BROKER, B, "max_connections", UINT, max_connections, 1, 1000000,
	    "1024"),
	NUM(BROKER, B, "idle_timeout", DURATION, idle_timeout_ms, 0, MAXMS,
	    "30s"),
	NUM(BROKER, B, "request_timeout", DURATION, request_timeout_ms, 0,
	    MAXMS, "5s"),
	NUM(BROKER, B, "max_request_size", SIZE, max_request_size, 256,
	    CONF_MAX_REQUEST_SIZE_LIMIT, "8KiB"),

	SIMPLE(REDACT, R, "builtin", BOOL, builtin, "yes"),
	LIST(REDACT, R, "disable", disable, ndisable, NULL, NULL),
	SIMPLE(REDACT, R, "format", STRING, format, CONF_DEFAULT_FORMAT),
	SIMPLE(REDACT, R, "fingerprint_key_file", PATH, fingerprint_key_file,
	    NULL),
	SIMPLE(REDACT, R, "credentials", BOOL, credentials, "yes"),
	NUM(REDACT, R, "min_literal_length", UINT, min_literal_length, 1,
	    4096, "8"),
	NUM(REDACT, R, "max_line", SIZE, max_line, CONF_MIN_MAX_LINE,
	    CONF_MAX_MAX_LINE, "1MiB"),

	NEED(CLIENT, C, "socket", SOCKET, socket, "", NULL),
	SIMPLE(CLIENT, C, "socket_mode", MODE, socket_mode, "0660"),
	HAS(CLIENT, C, "socket_group", GROUP, socket_group, has_socket_group),
	ROW(CLIENT, "protocol", ENUM, F(C, protocol), NO, NO, NO, 0, 0,
	    "http", w_protocol, NULL, NULL, NULL),
	HAS(CLIENT, C, "uid", UID, uid, has_uid),
	HAS(CLIENT, C, "gid", GID, gid, has_gid),
	ROW(CLIENT, "token_hash", HEX, F(C, token_hash), NO, NO,
	    F(C, has_token_hash), CONF_TOKEN_HASH_BYTES, 0, NULL, NULL,
	    "as printed by \"hush token\"", NULL, NULL),
	LIST(CLIENT, C, "allow", allow, nallow, NULL, NULL),
	HAS(CLIENT, C, "rate", RATE, rate, has_rate),
	NUM(CLIENT, C, "max_connections", UINT, max_connections, 1, 1000000,
	    NULL),
	NUM(CLIENT, C, "write_timeout", DURATION, write_timeout_ms, 1, MAXMS,
	    "10s"),

	NEED(CREDENTIAL, K, "source", STRING, source, "", NULL),
	NEED(CREDENTIAL, K, "json_field", STRING, json_field, NULL,
	    conf_check_json_paths),
	LIST(CREDENTIAL, K, "json_omit", json_omit, njson_omit, NULL,
	    conf_check_json_paths),
	LIST(CREDENTIAL, K, "json_blank", json_blank, njson_blank, NULL,
	    conf_check_json_paths),
	/* it becomes a response header: STRING refuses CR, LF, controls */
	SIMPLE(CREDENTIAL, K, "content_type", STRING, content_type,
	    CONF_DEFAULT_CONTENT_TYPE),
	NUM(CREDENTIAL, K, "max_size", SIZE, max_size, 1, CONF_MAX_SIZE_LIMIT,
	    "64KiB"),
	NUM(CREDENTIAL, K, "timeout", DURATION, timeout_ms, 0, MAXMS, "5s"),
	NUM(CREDENTIAL, K, "cache", DURATION, cache_ms, 0, MAXMS, NULL),
	SIMPLE(CREDENTIAL, K, "key_file", PATH, key_file, NULL),
	LIST(CREDENTIAL, K, "env", env, nenv, NULL, conf_check_varnames),

	NEED(RULE, U, "pattern", STRING, pattern, "", NULL),
	LIST(RULE, U, "keywords", keywords, nkeywords, NULL, NULL),
	NUM(RULE, U, "secret_group", UINT, secret_group, 0, 99, NULL),
	SIMPLE(RULE, U, "description", STRING, description, NULL),
	/* redact/ knows the names of the checks */
	SIMPLE(RULE, U, "check", STRING, check, NULL),
	SIMPLE(RULE, U, "min_entropy", BITS, min_entropy, NULL),
	LIST(RULE, U, "stopwords", stopwords, nstopwords, NULL, NULL),

	NEED(UPSTREAM, P, "url", URL, url, "", NULL),
	NEED(UPSTREAM, P, "credential", STRING, credential, "", NULL),
	ROW(UPSTREAM, "header", HEADER, F(P, header_name), F(P, header_pre),
	    F(P, header_post), NO, 0, 0, NULL, NULL, NULL,
	    " (such as \"x-api-key: {value}\")", NULL),
	ROW(UPSTREAM, "paths", LIST, F(P, paths), F(P, npaths), NO, NO, 0, 0,
	    NULL, NULL, NULL, " (deny by default: name the paths the client "
	    "may call)", conf_check_upstream_paths),
	LIST(UPSTREAM, P, "methods", methods, nmethods, "GET, POST",
	    conf_check_methods),
	NUM(UPSTREAM, P, "max_request_size", SIZE, max_request_size, 0,
	    CONF_MAX_UPSTREAM_REQUEST, "32MiB"),
	NUM(UPSTREAM, P, "timeout", DURATION, timeout_ms, 1, MAXMS, "10m"),
	SIMPLE(UPSTREAM, P, "ca_file", PATH, ca_file, NULL),
	LIST(UPSTREAM, P, "env", env, nenv, NULL, conf_check_varnames),
	ROW(UPSTREAM, "key_env", VARNAME, F(P, key_env), NO, NO, NO, 0, 0,
	    NULL, NULL, NULL, NULL, conf_check_varnames),

	{ CONF_SEC_NKINDS, NULL, CONF_T_NTYPES, 0, 0, 0, 0, 0, 0, NULL, NULL,
	    NULL, NULL, NULL }
};

#undef F
#undef NO
#undef B
#undef R
#undef C
#undef K
#undef U
#undef P
#undef ROW
#undef SIMPLE
#undef NUM
#undef LIST
#undef HAS
#undef NEED
#undef MAXMS

const struct conf_key *
conf_schema_find(enum conf_sec kind, const char *key)
{
	const struct conf_key *k;

	for (k = conf_schema; k->key != NULL; k++)
		if (k->sec == kind && strcmp(k->key, key) == 0)
			return k;
	return NULL;
}

size_t
conf_schema_keys(enum conf_sec kind, const char **names, size_t max)
{
	const struct conf_key *k;
	size_t n = 0;

	for (k = conf_schema; k->key != NULL && n + 1 < max; k++)
		if (k->sec == kind)
			names[n++] = k->key;
	names[n] = NULL;
	return n;
}

/* Converters, one per type */

/* "KEY: invalid value "VALUE" (what)" at the value's line. */
static void
conv_bad(struct conf_conv *cv, const char *what)
{
	/* a default the converter refuses is a bug in the table */
	if (cv->ld == NULL)
		abort();
	CONF_ERR(cv->ld, cv->loc, "%s: invalid value \"%s\" (%s)", cv->k->key,
	    cv->value, what);
}

/* "PRE MIN to MAX POST" for a value out of the key's range. */
static void
bad_range(struct conf_conv *cv, const char *pre, const char *post)
{
	char what[160];

	snprintf(what, sizeof(what), "%s%llu to %llu%s", pre,
	    (unsigned long long)cv->k->min, (unsigned long long)cv->k->max,
	    post);
	conv_bad(cv, what);
}

static bool
nomem(struct conf_conv *cv, const void *p)
{
	if (p != NULL)
		return false;
	if (cv->ld == NULL)
		abort();
	cv->ld->nomem = true;
	return true;
}

static void
conv_bool(struct conf_conv *cv)
{
	int b;

	if (val_bool(cv->value, &b) != HUSH_OK)
		conv_bad(cv, "yes, no, true, false, on or off");
	else
		*CONF_FIELD(cv, bool) = b != 0;
}

static void
conv_uint(struct conf_conv *cv)
{
	uint64_t v;

	if (val_uint(cv->value, cv->k->min, cv->k->max, &v) != HUSH_OK)
		bad_range(cv, "a whole number from ", "");
	else
		*CONF_FIELD(cv, uint64_t) = v;
}

static void
conv_size(struct conf_conv *cv)
{
	uint64_t v;

	if (val_size(cv->value, &v) != HUSH_OK || v < cv->k->min ||
	    v > cv->k->max)
		bad_range(cv, "a size such as 512, 64KiB or 1MiB, from ",
		    " bytes");
	else
		*CONF_FIELD(cv, uint64_t) = v;
}

static void
conv_duration(struct conf_conv *cv)
{
	uint64_t v;

	if (val_duration(cv->value, &v) != HUSH_OK || v > cv->k->max)
		conv_bad(cv, "a duration such as 500ms, 30s, 5m or 1h, "
		    "at most 30 days");
	else if (v < cv->k->min)
		conv_bad(cv, "a duration above zero");
	else
		*CONF_FIELD(cv, uint64_t) = v;
}

/* Bits of entropy per character: a decimal from 0 to 8 (gitleaks' scale). */
static void
conv_bits(struct conf_conv *cv)
{
	const char *v = cv->value;
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (end == v || *end != '\0' || errno != 0 || !(d >= 0 && d <= 8) ||
	    !(isdigit((unsigned char)v[0])))
		conv_bad(cv, "bits per character, a decimal from 0 to 8");
	else
		*CONF_FIELD(cv, double) = d;
}

static void
conv_mode(struct conf_conv *cv)
{
	if (val_mode(cv->value, CONF_FIELD(cv, mode_t)) != HUSH_OK)
		conv_bad(cv, "an octal mode such as 0660");
}

static void
conv_rate(struct conf_conv *cv)
{
	if (val_rate(cv->value, CONF_FIELD(cv, struct val_rate)) != HUSH_OK)
		conv_bad(cv, "a rate such as 20/s, 100/m or 1000/h");
}

_Static_assert(sizeof(enum conf_protocol) == sizeof(int),
    "CONF_T_ENUM fields are stored as int");

static void
conv_enum(struct conf_conv *cv)
{
	const char *const *w = cv->k->words;
	char what[128];
	size_t i, n = 0;

	for (i = 0; w[i] != NULL; i++)
		if (strcmp(cv->value, w[i]) == 0) {
			*CONF_FIELD(cv, int) = (int)i;
			return;
		}
	/* "a, b or c" */
	what[0] = '\0';
	for (i = 0; w[i] != NULL; i++)
		n += (size_t)snprintf(what + n, n < sizeof(what) ?
		    sizeof(what) - n : 0, "%s%s", i == 0 ? "" :
		    w[i + 1] == NULL ? " or " : ", ", w[i]);
	conv_bad(cv, what);
}

/* Sets a string field, freeing what it held. */
static void
set_string(struct conf_conv *cv, char **field, const char *s)
{
	char *p = strdup(s);

	if (nomem(cv, p))
		return;
	free(*field);
	*field = p;
}

/* Whether the value is a string we keep: not empty, no control bytes. */
static bool
string_ok(struct conf_conv *cv)
{
	const char *p;

	if (cv->value[0] == '\0') {
		conv_bad(cv, "must not be empty");
		return false;
	}
	for (p = cv->value; *p != '\0'; p++)
		if (iscntrl((unsigned char)*p) && *p != '\t') {
			conv_bad(cv, "control characters are not allowed");
			return false;
		}
	return true;
}

static void
conv_string(struct conf_conv *cv)
{
	if (string_ok(cv))
		set_string(cv, CONF_FIELD(cv, char *), cv->value);
}

static bool
is_word(const struct conf_key *k, const char *v)
{
	size_t i;

	for (i = 0; k->words != NULL && k->words[i] != NULL; i++)
		if (strcmp(k->words[i], v) == 0)
			return true;
	return false;
}

static void
conv_path(struct conf_conv *cv)
{
	char **field = CONF_FIELD(cv, char *), *p;

	if (!string_ok(cv))
		return;
	if (cv->value[0] == '/' || is_word(cv->k, cv->value)) {
		set_string(cv, field, cv->value);
		return;
	}
	if ((p = conf_read_resolve(cv->ld, cv->loc.file, cv->value)) ==
	    NULL) {
		if (!cv->ld->nomem)
			conv_bad(cv, "a path whose directory exists");
		return;
	}
	free(*field);
	*field = p;
}

static void
conv_socket(struct conf_conv *cv)
{
	size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;

	if (cv->value[0] != '/')
		conv_bad(cv, "an absolute path");
	else if (strlen(cv->value) > max)
		CONF_ERR(cv->ld, cv->loc, "socket: path is %zu bytes long; a "
		    "Unix socket path holds at most %zu", strlen(cv->value),
		    max);
	else
		conv_path(cv);
}

/* A comma-separated list into *items (NULL-terminated) and *n. */
static bool
parse_list(struct conf_conv *cv, char ***items, size_t *n)
{
	int r;

	if ((r = val_list(cv->value, items, n)) == HUSH_OK && *n == 0) {
		val_list_free(*items);	/* an empty list is still allocated */
		r = HUSH_ERR_INVALID;
	}
	if (r == HUSH_ERR_NOMEM)
		return !nomem(cv, NULL);
	if (r != HUSH_OK) {
		conv_bad(cv, "a comma-separated list with no empty items");
		return false;
	}
	return true;
}

static void
conv_list(struct conf_conv *cv)
{
	char **l;
	size_t n;

	if (!parse_list(cv, &l, &n))
		return;
	val_list_free(*CONF_FIELD(cv, char **));
	*CONF_FIELD(cv, char **) = l;
	*CONF_AUX(cv, size_t) = n;
}

static void
conv_varname(struct conf_conv *cv)
{
	char **l;
	size_t n;

	if (!parse_list(cv, &l, &n))
		return;
	if (n > 1)
		conv_bad(cv, "one variable name");
	else
		set_string(cv, CONF_FIELD(cv, char *), l[0]);
	val_list_free(l);
}

/*
 * A user or a group: a name (or number) that exists; for a client's uid
 * and gid also any number, since a container's ids need not exist on the
 * host. USER and GROUP keep the name as written in aux.
 */
static void
conv_id(struct conf_conv *cv)
{
	enum conf_type t = cv->k->type;
	bool user = t == CONF_T_USER || t == CONF_T_UID;
	uint64_t n;
	int r;

	if ((t == CONF_T_UID || t == CONF_T_GID) &&
	    val_uint(cv->value, 0, UINT32_MAX - 1, &n) == HUSH_OK) {
		if (user)
			*CONF_FIELD(cv, uid_t) = (uid_t)n;
		else
			*CONF_FIELD(cv, gid_t) = (gid_t)n;
		return;
	}
	r = user ? val_user(cv->value, CONF_FIELD(cv, uid_t)) :
	    val_group(cv->value, CONF_FIELD(cv, gid_t));
	if (r != HUSH_OK)
		CONF_ERR(cv->ld, cv->loc, "%s: no such %s \"%s\"", cv->k->key,
		    user ? "user" : "group", cv->value);
	else if (cv->k->aux != CONF_NOFIELD)
		set_string(cv, CONF_AUX(cv, char *), cv->value);
}

static void
conv_hex(struct conf_conv *cv)
{
	size_t want = (size_t)cv->k->min, got = 0, vlen = strlen(cv->value);
	char what[128];

	if (vlen != 2 * want ||
	    sodium_hex2bin(CONF_FIELD(cv, unsigned char), want, cv->value,
	    vlen, NULL, &got, NULL) != 0 || got != want) {
		snprintf(what, sizeof(what), "%zu hex digits%s%s", 2 * want,
		    cv->k->hint != NULL ? ", " : "",
		    cv->k->hint != NULL ? cv->k->hint : "");
		conv_bad(cv, what);
	}
}

/* Whether the host of an http:// URL is loopback (the only plain HTTP). */
static bool
url_loopback(const char *host, size_t len)
{
	static const char *const lo[] = { "127.0.0.1", "localhost", "[::1]",
	    NULL };
	size_t i;

	for (i = 0; lo[i] != NULL; i++)
		if (len == strlen(lo[i]) && strncasecmp(host, lo[i], len) == 0)
			return true;
	return len > 4 && strncmp(host, "127.", 4) == 0 &&
	    strspn(host, "0123456789.") == len;
}

static void
conv_url(struct conf_conv *cv)
{
	const char *v = cv->value, *host, *end;
	bool https = strncmp(v, "https://", 8) == 0;
	char **url = CONF_FIELD(cv, char *);
	size_t n;

	if (!https && strncmp(v, "http://", 7) != 0) {
		conv_bad(cv, "an https:// URL (http:// only on loopback)");
		return;
	}
	host = v + (https ? 8 : 7);
	end = host + strcspn(host, "/?#");
	/* the host up to a port; userinfo would carry a secret in the file */
	n = (size_t)(end - host);
	if (n == 0 || memchr(host, '@', n) != NULL || *end == '?' ||
	    *end == '#' || strpbrk(v, " \t\\") != NULL) {
		conv_bad(cv, "scheme://host[:port][/path], no user, query "
		    "or fragment");
		return;
	}
	if (!https) {
		const char *colon = host[0] == '[' ? memchr(host, ']', n) :
		    memchr(host, ':', n);
		size_t hn = colon == NULL ? n : (size_t)(colon - host) +
		    (host[0] == '[' ? 1 : 0);

		if (!url_loopback(host, hn)) {
			conv_bad(cv, "https:// (plain http:// only to "
			    "loopback)");
			return;
		}
	}
	conv_string(cv);
	/* the route appends the client's path, which begins with '/' */
	if (*url != NULL) {
		n = strlen(*url);
		while (n > 0 && (*url)[n - 1] == '/' && *url + n - 1 >=
		    end - v + *url)
			(*url)[--n] = '\0';
	}
}

/* An HTTP header name (RFC 9110 token). */
static bool
header_token(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) &&
		    strchr("!#$%&'*+-.^_`|~", s[i]) == NULL)
			return false;
	return true;
}

static void
conv_header(struct conf_conv *cv)
{
	const char *v = cv->value, *colon = strchr(v, ':'), *val, *ph, *p;
	char **name = CONF_FIELD(cv, char *), **pre = CONF_AUX(cv, char *);
	char **post = (char **)((char *)cv->sec + cv->k->aux2);

	for (p = v; *p != '\0'; p++)
		if (iscntrl((unsigned char)*p)) {
			conv_bad(cv, "control characters are not allowed");
			return;
		}
	if (colon == NULL || !header_token(v, (size_t)(colon - v))) {
		conv_bad(cv, "\"Name: text with {value}\"");
		return;
	}
	val = colon + 1;
	while (*val == ' ')
		val++;
	if ((ph = strstr(val, "{value}")) == NULL ||
	    strstr(ph + 7, "{value}") != NULL) {
		conv_bad(cv, "the text must hold {value} exactly once");
		return;
	}
	free(*name);
	free(*pre);
	free(*post);
	*name = strndup(v, (size_t)(colon - v));
	*pre = strndup(val, (size_t)(ph - val));
	*post = strdup(ph + 7);
	if (*name == NULL || *pre == NULL || *post == NULL)
		cv->ld->nomem = true;
}

static void (*const converters[CONF_T_NTYPES])(struct conf_conv *) = {
	[CONF_T_BOOL] = conv_bool,
	[CONF_T_UINT] = conv_uint,
	[CONF_T_SIZE] = conv_size,
	[CONF_T_DURATION] = conv_duration,
	[CONF_T_BITS] = conv_bits,
	[CONF_T_MODE] = conv_mode,
	[CONF_T_RATE] = conv_rate,
	[CONF_T_ENUM] = conv_enum,
	[CONF_T_STRING] = conv_string,
	[CONF_T_PATH] = conv_path,
	[CONF_T_SOCKET] = conv_socket,
	[CONF_T_LIST] = conv_list,
	[CONF_T_VARNAME] = conv_varname,
	[CONF_T_USER] = conv_id,
	[CONF_T_GROUP] = conv_id,
	[CONF_T_UID] = conv_id,
	[CONF_T_GID] = conv_id,
	[CONF_T_HEX] = conv_hex,
	[CONF_T_URL] = conv_url,
	[CONF_T_HEADER] = conv_header,
};

/* Whether converting a type allocates: its default waits for the load. */
static bool
type_allocates(enum conf_type t)
{
	switch (t) {
	case CONF_T_STRING: case CONF_T_PATH: case CONF_T_SOCKET:
	case CONF_T_LIST: case CONF_T_VARNAME: case CONF_T_USER:
	case CONF_T_GROUP: case CONF_T_URL: case CONF_T_HEADER:
		return true;
	default:
		return false;
	}
}

/* Driving the converters */

void
conf_schema_init(enum conf_sec kind, void *sec)
{
	const struct conf_key *k;

	for (k = conf_schema; k->key != NULL; k++) {
		struct conf_conv cv = { NULL, k, k->dflt, { "-", 0 }, NULL,
		    sec };

		if (k->sec == kind && k->dflt != NULL &&
		    !type_allocates(k->type))
			converters[k->type](&cv);
	}
}

void
conf_schema_fill(struct conf_ld *ld, enum conf_sec kind, void *sec)
{
	const struct conf_key *k;

	for (k = conf_schema; k->key != NULL && !ld->nomem; k++) {
		struct conf_conv cv = { ld, k, k->dflt, { "-", 0 }, NULL,
		    sec };

		if (k->sec != kind || k->dflt == NULL ||
		    !type_allocates(k->type) ||
		    *CONF_FIELD(&cv, char *) != NULL)
			continue;
		converters[k->type](&cv);
	}
}

/* A field of sec at off, when the row has one. */
static char **
string_at(void *sec, size_t off)
{
	return off == CONF_NOFIELD ? NULL : (char **)((char *)sec + off);
}

void
conf_schema_release(enum conf_sec kind, void *sec)
{
	const struct sec_info *si = &sec_info[kind];
	struct conf_where *w = (struct conf_where *)((char *)sec +
	    si->off_where);
	const struct conf_key *k;
	char **p;
	size_t i;

	for (k = conf_schema; k->key != NULL; k++) {
		if (k->sec != kind || !type_allocates(k->type))
			continue;
		switch (k->type) {
		case CONF_T_LIST:
			val_list_free(*(char ***)((char *)sec + k->off));
			break;
		case CONF_T_USER:
		case CONF_T_GROUP:
			/* the id is a number; the name as written is in aux */
			if ((p = string_at(sec, k->aux)) != NULL)
				free(*p);
			break;
		default:
			/* strings: the value, and a header's two more */
			free(*string_at(sec, k->off));
			if ((p = string_at(sec, k->aux)) != NULL)
				free(*p);
			if ((p = string_at(sec, k->aux2)) != NULL)
				free(*p);
			break;
		}
	}
	if ((p = string_at(sec, si->off_name)) != NULL)
		free(*p);
	for (i = 0; i < w->nkeys; i++)
		free(w->keys[i].key);
	free(w->keys);
}

static void
fill_where(struct conf_ld *ld, const struct conf_raw_sec *s,
    struct conf_where *w)
{
	size_t i;

	w->section = s->loc;
	if (s->nkv == 0)
		return;
	if ((w->keys = calloc(s->nkv, sizeof(*w->keys))) == NULL) {
		ld->nomem = true;
		return;
	}
	for (i = 0; i < s->nkv; i++) {
		w->keys[i].key = conf_read_strdup(ld, s->kv[i].key);
		w->keys[i].loc = s->kv[i].loc;
		w->nkeys = i + 1;
	}
}

void
conf_schema_convert(struct conf_ld *ld, const struct conf_raw_sec *s,
    void *sec)
{
	const struct sec_info *si = &sec_info[s->kind];
	struct conf_where *w = (struct conf_where *)((char *)sec +
	    si->off_where);
	const struct conf_key *k;
	size_t i;

	if (si->subject) {
		conf_schema_init(s->kind, sec);
		if ((*(char **)((char *)sec + si->off_name) =
		    conf_read_strdup(ld, s->subject)) == NULL)
			return;
	}
	fill_where(ld, s, w);
	for (i = 0; i < s->nkv && !ld->nomem; i++) {
		struct conf_conv cv = { ld, NULL, s->kv[i].value,
		    s->kv[i].loc, s->subject, sec };
		size_t nerrs = ld->errs->n + ld->errs->lost;

		/* the reader let only keys of the schema through */
		if ((cv.k = conf_schema_find(s->kind, s->kv[i].key)) == NULL)
			abort();
		converters[cv.k->type](&cv);
		if (ld->errs->n + ld->errs->lost != nerrs || ld->nomem)
			continue;
		if (cv.k->has != CONF_NOFIELD)
			*(bool *)((char *)sec + cv.k->has) = true;
		if (cv.k->check != NULL)
			cv.k->check(&cv);
	}
	for (k = conf_schema; k->key != NULL; k++)
		if (k->sec == s->kind && k->required != NULL &&
		    !conf_where_has(w, k->key))
			CONF_ERR(ld, s->loc, "%s \"%s\": missing %s%s",
			    si->name, s->subject, k->key, k->required);
	if (!ld->nomem)
		conf_schema_fill(ld, s->kind, sec);
	if (!ld->nomem && si->finish != NULL)
		si->finish(ld, s, sec);
}
