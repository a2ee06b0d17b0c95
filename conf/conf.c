/*
 * Reading hush.ini. Three passes: inih splits lines into keys and values
 * (our reader feeds it one line at a time, so we know every line number,
 * catch overlong lines before inih truncates them, and take section lines
 * ourselves so empty sections are seen too); then every raw value is
 * converted by the schema; then the sections are checked against each
 * other. Errors are collected, never fatal, so one run reports them all.
 */
#define _XOPEN_SOURCE 700	/* realpath */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <ini.h>

#include "conf/allow.h"
#include "conf/api.h"
#include "conf/conf.h"
#include "conf/hush_err.h"
#include "conf/source.h"

enum sec_kind {
	SEC_BROKER,
	SEC_REDACT,
	SEC_CLIENT,
	SEC_CREDENTIAL,
	SEC_RULE,
	SEC_UPSTREAM,
	SEC_NKINDS
};

static const char *const sec_names[SEC_NKINDS + 1] = {
	"broker", "redact", "client", "credential", "rule", "upstream", NULL
};

/* Whether a section kind takes a quoted subject: [client "name"]. */
static const bool sec_has_subject[SEC_NKINDS] = {
	false, false, true, true, true, true
};

static const char *const broker_keys[] = {
	"user", "group", "audit_log", "max_connections", "idle_timeout",
	"request_timeout", "max_request_size", NULL
};
static const char *const redact_keys[] = {
	"builtin", "disable", "format", "fingerprint_key_file", "credentials",
	"min_literal_length", "max_line", NULL
};
static const char *const client_keys[] = {
	"socket", "socket_mode", "socket_group", "protocol", "uid", "gid",
	"token_hash", "allow", "rate", "max_connections", "write_timeout",
	NULL
};
static const char *const credential_keys[] = {
	"source", "json_field", "json_omit", "json_blank", "content_type",
	"max_size", "timeout", "cache", "key_file", "env", NULL
};
static const char *const rule_keys[] = {
	"pattern", "keywords", "secret_group", "description", "check",
	"min_entropy", "stopwords", NULL
};
static const char *const upstream_keys[] = {
	"url", "credential", "header", "paths", "methods", "max_request_size",
	"timeout", "ca_file", "env", "key_env", NULL
};
static const char *const *const sec_keys[SEC_NKINDS] = {
	broker_keys, redact_keys, client_keys, credential_keys, rule_keys,
	upstream_keys
};

struct raw_kv {
	char		*key;
	char		*value;
	struct conf_loc	 loc;
};

struct raw_section {
	enum sec_kind	 kind;
	char		*subject;
	struct conf_loc	 loc;
	struct raw_kv	*kv;
	size_t		 nkv;
};

struct loader {
	struct hush_conf	*conf;
	struct conf_errs	*errs;
	unsigned		 flags;
	struct raw_section	*secs;
	size_t			 nsecs;
	int			 depth;
	bool			 nomem;
};

/* The current section of a file being read. */
#define CUR_NONE	(-1)	/* before the first section */
#define CUR_IGNORED	(-2)	/* inside a section that was an error */

struct file_ctx {
	struct loader	*ld;
	const char	*file;		/* interned */
	const char	*buf;
	size_t		 len;
	size_t		 pos;
	int		 lineno;
	long		 cur;		/* index into ld->secs, or CUR_* */
	bool		 prev_key;	/* mirrors inih's prev_name */
	bool		 cont;		/* this line continues the last value */
	long		 last_kv;	/* index of the last key in cur */
};

static int conf_read_file(struct loader *ld, const char *path,
    struct conf_loc from);

/* Errors */

/*
 * When not even the first error can be recorded, errs points at these,
 * so that whoever prints the errors still prints why the load failed.
 */
static char conf_errs_oom_msg[] =
    "hush: out of memory while recording configuration errors";
static char *conf_errs_oom_msgs[1] = { conf_errs_oom_msg };
static struct conf_loc conf_errs_oom_locs[1] = { { "hush", 0 } };

void
conf_errs_init(struct conf_errs *errs)
{
	errs->msgs = NULL;
	errs->locs = NULL;
	errs->n = 0;
	errs->lost = 0;
}

/* An error that could not be recorded is still counted. */
static void
conf_errs_lose(struct conf_errs *errs)
{
	errs->lost++;
	if (errs->n == 0) {
		/* an array grown for a first error that never came */
		free(errs->msgs);
		free(errs->locs);
		errs->msgs = conf_errs_oom_msgs;
		errs->locs = conf_errs_oom_locs;
		errs->n = 1;
	}
}

void
conf_errs_release(struct conf_errs *errs)
{
	size_t i;

	if (errs->msgs == conf_errs_oom_msgs) {
		conf_errs_init(errs);
		return;
	}
	for (i = 0; i < errs->n; i++) {
		free(errs->msgs[i]);
		free((char *)errs->locs[i].file);
	}
	free(errs->msgs);
	free(errs->locs);
	conf_errs_init(errs);
}

void
conf_errs_sort(struct conf_errs *errs)
{
	size_t i, j, k;

	/* Insertion sort: few errors, and it must be stable. Files keep the
	 * order in which they first appear. */
	for (i = 1; i < errs->n; i++) {
		struct conf_loc l = errs->locs[i];
		char *m = errs->msgs[i];
		size_t rank_i = i;

		for (k = 0; k < i; k++)
			if (strcmp(errs->locs[k].file, l.file) == 0) {
				rank_i = k;
				break;
			}
		for (j = i; j > 0; j--) {
			const struct conf_loc *p = &errs->locs[j - 1];
			size_t rank_p = j - 1;

			for (k = 0; k < j - 1; k++)
				if (strcmp(errs->locs[k].file, p->file) == 0) {
					rank_p = k;
					break;
				}
			if (rank_p < rank_i || (rank_p == rank_i &&
			    p->line <= l.line))
				break;
			errs->locs[j] = errs->locs[j - 1];
			errs->msgs[j] = errs->msgs[j - 1];
		}
		errs->locs[j] = l;
		errs->msgs[j] = m;
	}
}

void
conf_errs_add(struct conf_errs *errs, struct conf_loc loc, const char *fmt,
    ...)
{
	char msg[1024], *full, **grown, *file;
	struct conf_loc *glocs;
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* the fallback arrays are static: nothing is added to them */
	if (errs->msgs == conf_errs_oom_msgs) {
		errs->lost++;
		return;
	}
	if (loc.line > 0)
		n = snprintf(NULL, 0, "%s:%d: %s", loc.file ? loc.file : "-",
		    loc.line, msg);
	else
		n = snprintf(NULL, 0, "%s: %s", loc.file ? loc.file : "-", msg);
	if (n < 0 || (full = malloc((size_t)n + 1)) == NULL) {
		conf_errs_lose(errs);
		return;
	}
	if (loc.line > 0)
		snprintf(full, (size_t)n + 1, "%s:%d: %s",
		    loc.file ? loc.file : "-", loc.line, msg);
	else
		snprintf(full, (size_t)n + 1, "%s: %s",
		    loc.file ? loc.file : "-", msg);
	if ((file = strdup(loc.file ? loc.file : "-")) == NULL) {
		free(full);
		conf_errs_lose(errs);
		return;
	}
	if ((grown = realloc(errs->msgs, (errs->n + 1) * sizeof(*grown))) ==
	    NULL) {
		free(file);
		free(full);
		conf_errs_lose(errs);
		return;
	}
	errs->msgs = grown;
	if ((glocs = realloc(errs->locs, (errs->n + 1) * sizeof(*glocs))) ==
	    NULL) {
		free(file);
		free(full);
		conf_errs_lose(errs);
		return;
	}
	errs->locs = glocs;
	errs->locs[errs->n].file = file;
	errs->locs[errs->n].line = loc.line;
	errs->msgs[errs->n++] = full;
}

#define ERR(ld, loc, ...)	conf_errs_add((ld)->errs, (loc), __VA_ARGS__)

/* Small helpers */

static void *
ld_grow(struct loader *ld, void *arr, size_t n, size_t size)
{
	void *p;

	/* Grow by one; arrays here are small (sections, keys, files). */
	if ((p = realloc(arr, (n + 1) * size)) == NULL) {
		ld->nomem = true;
		return NULL;
	}
	memset((char *)p + n * size, 0, size);
	return p;
}

static char *
ld_strdup(struct loader *ld, const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		ld->nomem = true;
	return p;
}

static const char *
ld_intern_file(struct loader *ld, const char *path)
{
	struct hush_conf *c = ld->conf;
	char **files;
	size_t i;

	for (i = 0; i < c->nfiles; i++)
		if (strcmp(c->files[i], path) == 0)
			return c->files[i];
	if ((files = ld_grow(ld, c->files, c->nfiles, sizeof(*files))) == NULL)
		return "?";
	c->files = files;
	if ((files[c->nfiles] = ld_strdup(ld, path)) == NULL)
		return "?";
	return files[c->nfiles++];
}

static bool
is_name(const char *s, const char *extra)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr(extra, *s) == NULL)
			return false;
	return true;
}

static const char *
did_you_mean(const char *word, const char *const *cands, char *buf,
    size_t len)
{
	const char *s = val_suggest(word, cands);

	if (s == NULL)
		return "";
	snprintf(buf, len, "; did you mean \"%s\"?", s);
	return buf;
}

/* Pass 1: reading lines */

/* A section header "[name]" or "[name "subject"]"; true when valid. */
static void
parse_section(struct file_ctx *fc, const char *line)
{
	struct loader *ld = fc->ld;
	struct conf_loc loc = { fc->file, fc->lineno };
	const char *p = line + 1, *end, *name, *q;
	char word[32], subject[128], hint[64];
	struct raw_section *s;
	size_t wlen, i;
	int kind = -1;

	fc->cur = CUR_IGNORED;
	fc->prev_key = false;
	if ((end = strchr(p, ']')) == NULL) {
		ERR(ld, loc, "section header without closing \"]\"");
		return;
	}
	for (q = end + 1; isspace((unsigned char)*q); q++)
		;
	if (*q != '\0' && *q != ';' && *q != '#') {
		ERR(ld, loc, "unexpected text after section header");
		return;
	}
	while (isspace((unsigned char)*p))
		p++;
	for (name = p; isalnum((unsigned char)*p) || *p == '_'; p++)
		;
	wlen = (size_t)(p - name);
	if (wlen == 0 || wlen >= sizeof(word)) {
		ERR(ld, loc, "invalid section name");
		return;
	}
	memcpy(word, name, wlen);
	word[wlen] = '\0';
	for (i = 0; i < SEC_NKINDS; i++)
		if (strcmp(word, sec_names[i]) == 0)
			kind = (int)i;
	if (kind < 0) {
		ERR(ld, loc, "unknown section [%s]%s", word,
		    did_you_mean(word, sec_names, hint, sizeof(hint)));
		return;
	}
	while (isspace((unsigned char)*p))
		p++;
	subject[0] = '\0';
	if (*p == '"') {
		const char *sub = ++p;

		while (p < end && *p != '"')
			p++;
		if (p >= end || (size_t)(p - sub) >= sizeof(subject)) {
			ERR(ld, loc, "bad quoted name in section header");
			return;
		}
		memcpy(subject, sub, (size_t)(p - sub));
		subject[p - sub] = '\0';
		for (p++; isspace((unsigned char)*p); p++)
			;
	}
	if (p != end) {
		ERR(ld, loc, "malformed section header (expected [%s%s])",
		    word, sec_has_subject[kind] ? " \"name\"" : "");
		return;
	}
	if (sec_has_subject[kind] && subject[0] == '\0') {
		ERR(ld, loc, "[%s] needs a name: [%s \"name\"]", word, word);
		return;
	}
	if (!sec_has_subject[kind] && subject[0] != '\0') {
		ERR(ld, loc, "[%s] takes no name", word);
		return;
	}
	/* the API's name check: a name the daemon could never serve is
	 * refused here, with its line, rather than 404 at run time */
	if (sec_has_subject[kind] && !api_name_ok(subject, strlen(subject))) {
		ERR(ld, loc, "invalid %s name \"%s\" (use letters, digits, "
		    "'.', '_', '-', ':'; at most %d; not \".\" or \"..\")",
		    word, subject, API_MAX_NAME);
		return;
	}
	for (i = 0; i < ld->nsecs; i++) {
		s = &ld->secs[i];
		if ((int)s->kind != kind)
			continue;
		if (!sec_has_subject[kind]) {
			/* [broker] and [redact] may be reopened (drop-ins). */
			fc->cur = (long)i;
			return;
		}
		if (strcmp(s->subject, subject) == 0) {
			ERR(ld, loc, "%s \"%s\" is already defined at %s:%d",
			    word, subject, s->loc.file, s->loc.line);
			return;
		}
	}
	if ((s = ld_grow(ld, ld->secs, ld->nsecs, sizeof(*s))) == NULL)
		return;
	ld->secs = s;
	s = &ld->secs[ld->nsecs];
	s->kind = (enum sec_kind)kind;
	s->loc = loc;
	if (sec_has_subject[kind] &&
	    (s->subject = ld_strdup(ld, subject)) == NULL)
		return;
	fc->cur = (long)ld->nsecs++;
}

/*
 * inih's reader callback: returns the next line for inih, or NULL at the
 * end. Lines that inih would mishandle (overlong, NUL bytes, no "=") are
 * reported here and replaced by an empty line, so line numbers stay right
 * and inih never sees a truncated value.
 */
static char *
conf_reader(char *str, int num, void *stream)
{
	struct file_ctx *fc = stream;
	struct loader *ld = fc->ld;
	const char *line, *nl, *s;
	struct conf_loc loc;
	size_t len, max;

	if (fc->pos >= fc->len)
		return NULL;
	line = fc->buf + fc->pos;
	nl = memchr(line, '\n', fc->len - fc->pos);
	len = nl != NULL ? (size_t)(nl - line) : fc->len - fc->pos;
	fc->pos += len + (nl != NULL);
	fc->lineno++;
	loc.file = fc->file;
	loc.line = fc->lineno;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	fc->cont = false;
	str[0] = '\0';

	max = (size_t)num - 1 < CONF_MAX_LINE ? (size_t)num - 1 : CONF_MAX_LINE;
	if (len > max) {
		ERR(ld, loc, "line is %zu characters long, at most %zu are "
		    "allowed (continue a long value on lines that begin with "
		    "white space)", len, max);
		return str;
	}
	if (memchr(line, '\0', len) != NULL) {
		ERR(ld, loc, "NUL byte in line");
		return str;
	}
	if (fc->lineno == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
		line += 3;	/* a UTF-8 byte order mark */
		len -= 3;
	}
	memcpy(str, line, len);
	str[len] = '\0';

	for (s = str; isspace((unsigned char)*s); s++)
		;
	if (*s == '\0' || *s == ';' || *s == '#')
		return str;
	if (fc->prev_key && s > str) {
		fc->cont = true;
		return str;
	}
	if (*s == '[') {
		parse_section(fc, s);
		if (fc->cur == CUR_IGNORED)
			memcpy(str, "[-]", 4);	/* resets inih's prev_name */
		return str;
	}
	/* inih splits at the first '=' or ':' before an inline " ;". */
	{
		size_t klen = strcspn(s, "=:");
		const char *semi = strstr(s, " ;");

		if (s[klen] == '\0' || (semi != NULL && semi < s + klen)) {
			ERR(ld, loc, "expected \"key = value\"");
			str[0] = '\0';
			return str;
		}
	}
	fc->prev_key = true;
	return str;
}

static void
ld_include(struct file_ctx *fc, const char *pattern)
{
	struct loader *ld = fc->ld;
	struct conf_loc loc = { fc->file, fc->lineno };
	char path[4096];
	glob_t g;
	size_t i;
	int r;

	if (pattern[0] == '/') {
		if (snprintf(path, sizeof(path), "%s", pattern) >=
		    (int)sizeof(path)) {
			ERR(ld, loc, "include path too long");
			return;
		}
	} else {
		const char *slash = strrchr(fc->file, '/');
		int dirlen = slash ? (int)(slash - fc->file) : 1;

		if (snprintf(path, sizeof(path), "%.*s/%s", dirlen,
		    slash ? fc->file : ".", pattern) >= (int)sizeof(path)) {
			ERR(ld, loc, "include path too long");
			return;
		}
	}
	if (ld->depth >= CONF_MAX_INCLUDE_DEPTH) {
		ERR(ld, loc, "includes nested more than %d deep",
		    CONF_MAX_INCLUDE_DEPTH);
		return;
	}
	r = glob(path, GLOB_ERR, NULL, &g);
	if (r == GLOB_NOMATCH) {
		/* An empty conf.d is fine; a missing named file is not. */
		if (strpbrk(pattern, "*?[") == NULL)
			ERR(ld, loc, "include %s: no such file", path);
		return;
	}
	if (r != 0) {
		ERR(ld, loc, "include %s: cannot read", path);
		globfree(&g);
		return;
	}
	ld->depth++;
	for (i = 0; i < g.gl_pathc; i++)
		conf_read_file(ld, g.gl_pathv[i], loc);
	ld->depth--;
	globfree(&g);
}

static int
append_value(struct loader *ld, struct raw_kv *kv, const char *more,
    struct conf_loc loc)
{
	size_t a = strlen(kv->value), b = strlen(more);
	char *v;

	if (a + b > CONF_MAX_VALUE) {
		ERR(ld, loc, "value of \"%s\" is longer than %d characters",
		    kv->key, CONF_MAX_VALUE);
		return 0;
	}
	if ((v = realloc(kv->value, a + b + 1)) == NULL) {
		ld->nomem = true;
		return 0;
	}
	memcpy(v + a, more, b + 1);
	kv->value = v;
	return 1;
}

/* inih's handler: one key (or a continuation of the last one). */
static int
conf_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct file_ctx *fc = user;
	struct loader *ld = fc->ld;
	struct conf_loc loc = { fc->file, fc->lineno };
	struct raw_section *s;
	struct raw_kv *kv;
	const char *const *keys;
	char hint[64];
	size_t i;

	(void)section;	/* tracked by the reader, with its line */
	if (fc->cont) {
		if (fc->cur >= 0 && fc->last_kv >= 0)
			append_value(ld,
			    &ld->secs[fc->cur].kv[fc->last_kv], value, loc);
		return 1;
	}
	fc->last_kv = -1;
	if (*name == '\0') {
		ERR(ld, loc, "empty key");
		return 1;
	}
	if (strcmp(name, "include") == 0) {
		ld_include(fc, value);
		return 1;
	}
	if (fc->cur == CUR_IGNORED)
		return 1;
	if (fc->cur == CUR_NONE) {
		ERR(ld, loc, "key \"%s\" outside of any section", name);
		return 1;
	}
	s = &ld->secs[fc->cur];
	keys = sec_keys[s->kind];
	for (i = 0; keys[i] != NULL; i++)
		if (strcmp(keys[i], name) == 0)
			break;
	if (keys[i] == NULL) {
		if (s->subject != NULL)
			ERR(ld, loc, "unknown key \"%s\" in [%s \"%s\"]%s",
			    name, sec_names[s->kind], s->subject,
			    did_you_mean(name, keys, hint, sizeof(hint)));
		else
			ERR(ld, loc, "unknown key \"%s\" in [%s]%s", name,
			    sec_names[s->kind],
			    did_you_mean(name, keys, hint, sizeof(hint)));
		return 1;
	}
	for (i = 0; i < s->nkv; i++) {
		if (strcmp(s->kv[i].key, name) == 0) {
			ERR(ld, loc, "duplicate key \"%s\" (first set at "
			    "%s:%d)", name, s->kv[i].loc.file,
			    s->kv[i].loc.line);
			return 1;
		}
	}
	if ((kv = ld_grow(ld, s->kv, s->nkv, sizeof(*kv))) == NULL)
		return 1;
	s->kv = kv;
	kv = &s->kv[s->nkv];
	kv->loc = loc;
	if ((kv->key = ld_strdup(ld, name)) == NULL)
		return 1;
	if ((kv->value = ld_strdup(ld, value)) == NULL) {
		free(kv->key);
		return 1;
	}
	fc->last_kv = (long)s->nkv++;
	return 1;
}

static void
ld_parse_text(struct loader *ld, const char *file, const char *text,
    size_t len)
{
	struct file_ctx fc;

	memset(&fc, 0, sizeof(fc));
	fc.ld = ld;
	fc.file = file;
	fc.buf = text;
	fc.len = len;
	fc.cur = CUR_NONE;
	fc.last_kv = -1;
	/* Our reader reports every syntax error itself; inih's count of
	 * them is only its first error line, so it is not needed. */
	(void)ini_parse_stream(conf_reader, &fc, conf_handler, &fc);
}

/*
 * Like ssh with key files: a configuration that others can change could
 * hand out any credential, so it must be owned by root or by us and be
 * writable by nobody else.
 */
static int
check_owner(struct loader *ld, const char *file, const struct stat *st)
{
	struct conf_loc loc = { file, 0 };

	if (ld->flags & CONF_SKIP_OWNER_CHECK)
		return 0;
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		ERR(ld, loc, "refusing a configuration owned by uid %u (not "
		    "root or this user)", (unsigned)st->st_uid);
		return -1;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		ERR(ld, loc, "refusing a configuration writable by group or "
		    "others (mode %04o); run: chmod go-w %s",
		    (unsigned)(st->st_mode & 07777), file);
		return -1;
	}
	return 0;
}

static int
conf_read_file(struct loader *ld, const char *path, struct conf_loc from)
{
	const char *file = ld_intern_file(ld, path);
	struct conf_loc loc = { file, 0 };
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd;

	/*
	 * O_NONBLOCK: a FIFO (or a device) put where a drop-in is expected
	 * would block open() until a writer comes, hanging --check and
	 * reload. It is refused below; reads of a regular file ignore it.
	 */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) < 0) {
		if (from.file != NULL)
			ERR(ld, from, "include %s: %s", path, strerror(errno));
		else
			ERR(ld, loc, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (from.file != NULL)
			ERR(ld, from, "include %s: not a regular file", path);
		else
			ERR(ld, loc, "not a regular file");
		goto fail;
	}
	if (check_owner(ld, file, &st) != 0)
		goto fail;
	if (st.st_size > CONF_MAX_FILE_SIZE) {
		ERR(ld, loc, "file larger than %d bytes", CONF_MAX_FILE_SIZE);
		goto fail;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		ld->nomem = true;
		goto fail;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ERR(ld, loc, "read error");
			goto fail;
		}
		got += (size_t)n;
	}
	close(fd);
	ld_parse_text(ld, file, buf, got);
	free(buf);
	return 0;
fail:
	free(buf);
	close(fd);
	return -1;
}

/* Pass 2: typed values */

struct conv {
	struct loader		*ld;
	const struct raw_kv	*kv;
};

static void
bad_value(struct conv *cv, const char *what)
{
	ERR(cv->ld, cv->kv->loc, "%s: invalid value \"%s\" (%s)",
	    cv->kv->key, cv->kv->value, what);
}

static void
get_duration(struct conv *cv, uint64_t *out)
{
	if (val_duration(cv->kv->value, out) != HUSH_OK)
		bad_value(cv, "a duration such as 500ms, 30s, 5m or 1h, "
		    "at most 30 days");
}

static void
get_size(struct conv *cv, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;

	if (val_size(cv->kv->value, &v) != HUSH_OK || v < min || v > max) {
		char what[128];

		snprintf(what, sizeof(what), "a size such as 512, 64KiB or "
		    "1MiB, from %llu to %llu bytes", (unsigned long long)min,
		    (unsigned long long)max);
		bad_value(cv, what);
		return;
	}
	*out = v;
}

static void
get_uint(struct conv *cv, uint64_t min, uint64_t max, uint64_t *out)
{
	if (val_uint(cv->kv->value, min, max, out) != HUSH_OK) {
		char what[96];

		snprintf(what, sizeof(what), "a whole number from %llu to %llu",
		    (unsigned long long)min, (unsigned long long)max);
		bad_value(cv, what);
	}
}

static void
get_bool(struct conv *cv, bool *out)
{
	int b;

	if (val_bool(cv->kv->value, &b) != HUSH_OK)
		bad_value(cv, "yes, no, true, false, on or off");
	else
		*out = b != 0;
}

static void
get_string(struct conv *cv, char **out)
{
	const char *p;

	if (cv->kv->value[0] == '\0') {
		bad_value(cv, "must not be empty");
		return;
	}
	for (p = cv->kv->value; *p != '\0'; p++) {
		if (iscntrl((unsigned char)*p) && *p != '\t') {
			bad_value(cv, "control characters are not allowed");
			return;
		}
	}
	free(*out);
	*out = ld_strdup(cv->ld, cv->kv->value);
}

static void
get_list(struct conv *cv, char ***items, size_t *n)
{
	char **l;
	size_t cnt;
	int r;

	if ((r = val_list(cv->kv->value, &l, &cnt)) == HUSH_OK && cnt == 0) {
		val_list_free(l);	/* an empty list is still allocated */
		r = HUSH_ERR_INVALID;
	}
	if (r != HUSH_OK) {
		bad_value(cv, "a comma-separated list with no empty items");
		return;
	}
	val_list_free(*items);
	*items = l;
	*n = cnt;
}

/* Bits of entropy per character: a decimal from 0 to 8 (gitleaks' scale). */
static void
get_bits(struct conv *cv, double *out)
{
	const char *v = cv->kv->value;
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (end == v || *end != '\0' || errno != 0 || !(d >= 0 && d <= 8) ||
	    !(isdigit((unsigned char)v[0]))) {
		bad_value(cv, "bits per character, a decimal from 0 to 8");
		return;
	}
	*out = d;
}

/*
 * A relative path is taken relative to the directory of the file that
 * names it (like include), so a configuration and the files it refers to
 * can move together. Returns a new absolute path, or NULL.
 */
static char *
ld_resolve(struct loader *ld, const char *file, const char *path)
{
	const char *slash;
	char *dir, *abs = NULL, *out;
	size_t n;

	if (path[0] == '/')
		return ld_strdup(ld, path);
	slash = strrchr(file, '/');
	dir = slash ? strndup(file, (size_t)(slash - file) + (slash == file))
	    : strdup(".");
	if (dir == NULL || (abs = realpath(dir, NULL)) == NULL) {
		free(dir);
		return NULL;
	}
	free(dir);
	n = strlen(abs) + 1 + strlen(path) + 1;
	if ((out = malloc(n)) == NULL) {
		ld->nomem = true;
		free(abs);
		return NULL;
	}
	snprintf(out, n, "%s/%s", strcmp(abs, "/") == 0 ? "" : abs, path);
	free(abs);
	return out;
}

static void
get_path(struct conv *cv, char **out)
{
	char *p;

	get_string(cv, out);
	if (*out == NULL || (*out)[0] == '/')
		return;
	if ((p = ld_resolve(cv->ld, cv->kv->loc.file, *out)) == NULL) {
		bad_value(cv, "a path whose directory exists");
		return;
	}
	free(*out);
	*out = p;
}

/* A uid: a user name that exists, or any number (a container's uid need
 * not exist on the host). */
static void
get_uid(struct conv *cv, uid_t *out, bool *has)
{
	uint64_t n;

	if (val_uint(cv->kv->value, 0, UINT32_MAX - 1, &n) == HUSH_OK)
		*out = (uid_t)n;
	else if (val_user(cv->kv->value, out) != HUSH_OK) {
		ERR(cv->ld, cv->kv->loc, "%s: no such user \"%s\"",
		    cv->kv->key, cv->kv->value);
		return;
	}
	*has = true;
}

static void
get_gid(struct conv *cv, gid_t *out, bool *has)
{
	uint64_t n;

	if (val_uint(cv->kv->value, 0, UINT32_MAX - 1, &n) == HUSH_OK)
		*out = (gid_t)n;
	else if (val_group(cv->kv->value, out) != HUSH_OK) {
		ERR(cv->ld, cv->kv->loc, "%s: no such group \"%s\"",
		    cv->kv->key, cv->kv->value);
		return;
	}
	*has = true;
}

static void
fill_where(struct loader *ld, const struct raw_section *s,
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
		w->keys[i].key = ld_strdup(ld, s->kv[i].key);
		w->keys[i].loc = s->kv[i].loc;
		w->nkeys = i + 1;
	}
}

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

#define KEY(k)	(strcmp(cv.kv->key, (k)) == 0)

static void
conv_broker(struct loader *ld, const struct raw_section *s)
{
	struct conf_broker *b = &ld->conf->broker;
	struct conv cv = { ld, NULL };
	size_t i;

	for (i = 0; i < s->nkv; i++) {
		cv.kv = &s->kv[i];
		if (KEY("user")) {
			if (val_user(cv.kv->value, &b->uid) != HUSH_OK)
				ERR(ld, cv.kv->loc, "user: no such user \"%s\"",
				    cv.kv->value);
			else {
				b->has_user = true;
				get_string(&cv, &b->user);
			}
		} else if (KEY("group")) {
			if (val_group(cv.kv->value, &b->gid) != HUSH_OK)
				ERR(ld, cv.kv->loc, "group: no such group "
				    "\"%s\"", cv.kv->value);
			else {
				b->has_group = true;
				get_string(&cv, &b->group);
			}
		} else if (KEY("audit_log")) {
			if (strcmp(cv.kv->value, "stderr") == 0)
				get_string(&cv, &b->audit_log);
			else
				get_path(&cv, &b->audit_log);
		} else if (KEY("max_connections"))
			get_uint(&cv, 1, 1000000, &b->max_connections);
		else if (KEY("idle_timeout"))
			get_duration(&cv, &b->idle_timeout_ms);
		else if (KEY("request_timeout"))
			get_duration(&cv, &b->request_timeout_ms);
		else if (KEY("max_request_size"))
			get_size(&cv, 256, CONF_MAX_REQUEST_SIZE_LIMIT,
			    &b->max_request_size);
	}
	fill_where(ld, s, &b->where);
}

static void
conv_redact(struct loader *ld, const struct raw_section *s)
{
	struct conf_redact *r = &ld->conf->redact;
	struct conv cv = { ld, NULL };
	size_t i;

	for (i = 0; i < s->nkv; i++) {
		cv.kv = &s->kv[i];
		if (KEY("builtin"))
			get_bool(&cv, &r->builtin);
		else if (KEY("disable"))
			get_list(&cv, &r->disable, &r->ndisable);
		else if (KEY("format"))
			get_string(&cv, &r->format);
		else if (KEY("fingerprint_key_file"))
			get_path(&cv, &r->fingerprint_key_file);
		else if (KEY("credentials"))
			get_bool(&cv, &r->credentials);
		else if (KEY("min_literal_length"))
			get_uint(&cv, 1, 4096, &r->min_literal_length);
		else if (KEY("max_line"))
			get_size(&cv, CONF_MIN_MAX_LINE, CONF_MAX_MAX_LINE,
			    &r->max_line);
	}
	fill_where(ld, s, &r->where);
}

static int
hex_nibble(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
conv_client(struct loader *ld, const struct raw_section *s,
    struct conf_client *c)
{
	struct conv cv = { ld, NULL };
	bool uid_set = false;
	size_t i;

	c->socket_mode = CONF_DEFAULT_SOCKET_MODE;
	c->write_timeout_ms = CONF_DEFAULT_WRITE_TIMEOUT_MS;
	for (i = 0; i < s->nkv; i++) {
		cv.kv = &s->kv[i];
		if (KEY("socket")) {
			if (cv.kv->value[0] != '/')
				bad_value(&cv, "an absolute path");
			else if (strlen(cv.kv->value) >=
			    sizeof(((struct sockaddr_un *)0)->sun_path))
				ERR(ld, cv.kv->loc, "socket: path is %zu bytes "
				    "long; a Unix socket path holds at most "
				    "%zu", strlen(cv.kv->value),
				    sizeof(((struct sockaddr_un *)0)->sun_path)
				    - 1);
			else
				get_path(&cv, &c->socket);
		} else if (KEY("socket_mode")) {
			if (val_mode(cv.kv->value, &c->socket_mode) != HUSH_OK)
				bad_value(&cv, "an octal mode such as 0660");
		} else if (KEY("socket_group")) {
			if (val_group(cv.kv->value, &c->socket_group) !=
			    HUSH_OK)
				ERR(ld, cv.kv->loc, "socket_group: no such "
				    "group \"%s\"", cv.kv->value);
			else
				c->has_socket_group = true;
		} else if (KEY("protocol")) {
			if (strcmp(cv.kv->value, "http") == 0)
				c->protocol = CONF_PROTO_HTTP;
			else if (strcmp(cv.kv->value, "systemd") == 0)
				c->protocol = CONF_PROTO_SYSTEMD;
			else
				bad_value(&cv, "http or systemd");
		} else if (KEY("uid")) {
			get_uid(&cv, &c->uid, &c->has_uid);
			uid_set = true;
		} else if (KEY("gid"))
			get_gid(&cv, &c->gid, &c->has_gid);
		else if (KEY("token_hash")) {
			const char *h = cv.kv->value;
			size_t j;

			if (strlen(h) != 2 * CONF_TOKEN_HASH_BYTES) {
				bad_value(&cv, "64 hex digits, as printed by "
				    "\"hush token\"");
				continue;
			}
			for (j = 0; j < CONF_TOKEN_HASH_BYTES; j++) {
				int hi = hex_nibble(h[2 * j]);
				int lo = hex_nibble(h[2 * j + 1]);

				if (hi < 0 || lo < 0)
					break;
				c->token_hash[j] = (uint8_t)(hi << 4 | lo);
			}
			if (j < CONF_TOKEN_HASH_BYTES)
				bad_value(&cv, "64 hex digits, as printed by "
				    "\"hush token\"");
			else
				c->has_token_hash = true;
		} else if (KEY("allow"))
			get_list(&cv, &c->allow, &c->nallow);
		else if (KEY("rate")) {
			if (val_rate(cv.kv->value, &c->rate) != HUSH_OK)
				bad_value(&cv, "a rate such as 20/s, 100/m or "
				    "1000/h");
			else
				c->has_rate = true;
		} else if (KEY("max_connections"))
			get_uint(&cv, 1, 1000000, &c->max_connections);
		else if (KEY("write_timeout")) {
			get_duration(&cv, &c->write_timeout_ms);
			if (c->write_timeout_ms == 0)
				bad_value(&cv, "a duration above zero");
		}
	}
	/* systemd's manager connects as root; trust no one else by default */
	if (c->protocol == CONF_PROTO_SYSTEMD && !uid_set) {
		c->has_uid = true;
		c->uid = 0;
	}
	if (!conf_where_has(&c->where, "socket"))
		ERR(ld, s->loc, "client \"%s\": missing socket", c->name);
}

static void
check_json_path(struct conv *cv, const char *path)
{
	const char *p = path;

	/* a.b.c: non-empty segments */
	if (*p == '.' || *p == '\0' || p[strlen(p) - 1] == '.' ||
	    strstr(p, "..") != NULL) {
		ERR(cv->ld, cv->kv->loc, "%s: invalid JSON path \"%s\" (use "
		    "dotted field names such as tokens.access_token)",
		    cv->kv->key, path);
	}
}

static void
check_readable(struct loader *ld, struct conf_loc loc, const char *cred,
    const char *what, const char *path)
{
	struct stat st;

	if (ld->flags & CONF_SKIP_SOURCE_CHECKS)
		return;
	if (stat(path, &st) != 0)
		ERR(ld, loc, "credential \"%s\": %s %s: %s", cred, what, path,
		    strerror(errno));
	else if (S_ISDIR(st.st_mode))
		ERR(ld, loc, "credential \"%s\": %s %s: is a directory", cred,
		    what, path);
	else if (access(path, R_OK) != 0)
		ERR(ld, loc, "credential \"%s\": %s %s: %s", cred, what, path,
		    strerror(errno));
}

static void
check_source(struct loader *ld, struct conf_cred *c, struct conf_loc loc)
{
	static const char *const schemes[] = {
		"file", "env", "exec", "sealed", NULL
	};
	const char *colon = strchr(c->source, ':');
	char scheme[16], hint[64];
	size_t n;

	n = colon ? (size_t)(colon - c->source) : strlen(c->source);
	if (colon == NULL || n >= sizeof(scheme)) {
		ERR(ld, loc, "credential \"%s\": source must be SCHEME:ARG "
		    "(file:, env:, exec: or sealed:)", c->name);
		return;
	}
	memcpy(scheme, c->source, n);
	scheme[n] = '\0';
	for (colon++; *colon == ' ' || *colon == '\t'; colon++)
		;
	if ((strcmp(scheme, "file") == 0 || strcmp(scheme, "sealed") == 0) &&
	    *colon != '\0')
		c->arg = ld_resolve(ld, loc.file, colon);
	else
		c->arg = ld_strdup(ld, colon);
	if (c->arg == NULL) {
		ERR(ld, loc, "credential \"%s\": cannot resolve path \"%s\"",
		    c->name, colon);
		return;
	}
	if (strcmp(scheme, "file") == 0) {
		c->kind = CONF_SRC_FILE;
		if (c->arg[0] != '/')
			ERR(ld, loc, "credential \"%s\": file: needs a path",
			    c->name);
		else
			check_readable(ld, loc, c->name, "source file", c->arg);
	} else if (strcmp(scheme, "env") == 0) {
		c->kind = CONF_SRC_ENV;
		if (!is_name(c->arg, "_") || isdigit((unsigned char)c->arg[0]))
			ERR(ld, loc, "credential \"%s\": env: needs a variable "
			    "name", c->name);
	} else if (strcmp(scheme, "exec") == 0) {
		c->kind = CONF_SRC_EXEC;	/* checked by source_check */
	} else if (strcmp(scheme, "sealed") == 0) {
		c->kind = CONF_SRC_SEALED;
		if (c->arg[0] != '/')
			ERR(ld, loc, "credential \"%s\": sealed: needs a path",
			    c->name);
		else
			check_readable(ld, loc, c->name, "sealed file",
			    c->arg);
	} else {
		ERR(ld, loc, "credential \"%s\": unknown source scheme "
		    "\"%s\" (file, env, exec or sealed)%s", c->name, scheme,
		    did_you_mean(scheme, schemes, hint, sizeof(hint)));
	}
}

static void
conv_cred(struct loader *ld, const struct raw_section *s, struct conf_cred *c)
{
	struct conv cv = { ld, NULL };
	size_t i;

	c->max_size = CONF_DEFAULT_MAX_SIZE;
	c->timeout_ms = CONF_DEFAULT_EXEC_TIMEOUT_MS;
	for (i = 0; i < s->nkv; i++) {
		cv.kv = &s->kv[i];
		if (KEY("source"))
			get_string(&cv, &c->source);
		else if (KEY("json_field")) {
			check_json_path(&cv, cv.kv->value);
			get_string(&cv, &c->json_field);
		} else if (KEY("json_omit")) {
			size_t j;

			get_list(&cv, &c->json_omit, &c->njson_omit);
			for (j = 0; j < c->njson_omit; j++)
				check_json_path(&cv, c->json_omit[j]);
		} else if (KEY("json_blank")) {
			size_t j;

			get_list(&cv, &c->json_blank, &c->njson_blank);
			for (j = 0; j < c->njson_blank; j++)
				check_json_path(&cv, c->json_blank[j]);
		} else if (KEY("content_type")) {
			/* It becomes a response header: no CR/LF/controls. */
			get_string(&cv, &c->content_type);
		} else if (KEY("max_size"))
			get_size(&cv, 1, CONF_MAX_SIZE_LIMIT, &c->max_size);
		else if (KEY("timeout"))
			get_duration(&cv, &c->timeout_ms);
		else if (KEY("cache"))
			get_duration(&cv, &c->cache_ms);
		else if (KEY("key_file"))
			get_path(&cv, &c->key_file);
		else if (KEY("env")) {
			size_t j;

			get_list(&cv, &c->env, &c->nenv);
			for (j = 0; j < c->nenv; j++)
				if (!is_name(c->env[j], "_") ||
				    isdigit((unsigned char)c->env[j][0]))
					ERR(ld, cv.kv->loc, "credential \"%s\": "
					    "env: \"%s\" is not a variable name",
					    c->name, c->env[j]);
		}
	}
	if (c->content_type == NULL)
		c->content_type = ld_strdup(ld, CONF_DEFAULT_CONTENT_TYPE);
	fill_where(ld, s, &c->where);
	if (c->source == NULL) {
		if (!conf_where_has(&c->where, "source"))
			ERR(ld, s->loc, "credential \"%s\": missing source",
			    c->name);
		return;
	}
	check_source(ld, c, conf_where_key(&c->where, "source"));
	if (c->json_field != NULL && c->json_omit != NULL)
		ERR(ld, conf_where_key(&c->where, "json_omit"), "credential "
		    "\"%s\": json_field and json_omit exclude each other",
		    c->name);
	if (c->json_field != NULL && c->json_blank != NULL)
		ERR(ld, conf_where_key(&c->where, "json_blank"), "credential "
		    "\"%s\": json_field and json_blank exclude each other",
		    c->name);
	if (c->kind == CONF_SRC_SEALED && c->key_file == NULL)
		ERR(ld, s->loc, "credential \"%s\": sealed: needs key_file",
		    c->name);
	if (c->kind == CONF_SRC_EXEC || (c->kind == CONF_SRC_SEALED &&
	    c->key_file != NULL)) {
		struct source_err serr;

		if (source_check(c, !(ld->flags & CONF_SKIP_SOURCE_CHECKS),
		    &serr) != HUSH_OK)
			ERR(ld, conf_where_key(&c->where, c->kind ==
			    CONF_SRC_EXEC ? "source" : "key_file"), "%s",
			    serr.msg);
	}
	if (c->kind != CONF_SRC_SEALED && c->key_file != NULL)
		ERR(ld, conf_where_key(&c->where, "key_file"), "credential "
		    "\"%s\": key_file is only for sealed: sources", c->name);
	if (c->kind != CONF_SRC_EXEC) {
		struct conf_loc l;

		if (conf_where_has(&c->where, "timeout") &&
		    (l = conf_where_key(&c->where, "timeout")).line > 0)
			ERR(ld, l, "credential \"%s\": timeout is only for "
			    "exec: sources", c->name);
		if (conf_where_has(&c->where, "cache") &&
		    (l = conf_where_key(&c->where, "cache")).line > 0)
			ERR(ld, l, "credential \"%s\": cache is only for "
			    "exec: sources", c->name);
		if (conf_where_has(&c->where, "env") &&
		    (l = conf_where_key(&c->where, "env")).line > 0)
			ERR(ld, l, "credential \"%s\": env is only for "
			    "exec: sources (env: reads hushd's own "
			    "environment)", c->name);
	}
}

static void
conv_rule(struct loader *ld, const struct raw_section *s, struct conf_rule *r)
{
	struct conv cv = { ld, NULL };
	size_t i;

	for (i = 0; i < s->nkv; i++) {
		cv.kv = &s->kv[i];
		if (KEY("pattern"))
			get_string(&cv, &r->pattern);
		else if (KEY("keywords"))
			get_list(&cv, &r->keywords, &r->nkeywords);
		else if (KEY("secret_group"))
			get_uint(&cv, 0, 99, &r->secret_group);
		else if (KEY("description"))
			get_string(&cv, &r->description);
		else if (KEY("check"))
			get_string(&cv, &r->check);	/* redact/ knows the names */
		else if (KEY("min_entropy"))
			get_bits(&cv, &r->min_entropy);
		else if (KEY("stopwords"))
			get_list(&cv, &r->stopwords, &r->nstopwords);
	}
	fill_where(ld, s, &r->where);
	if (!conf_where_has(&r->where, "pattern"))
		ERR(ld, s->loc, "rule \"%s\": missing pattern", r->name);
}

/* An upstream name: it becomes a path segment and an allow entry. */
static bool
route_like_name(const char *s)
{
	return s[0] != '\0' && s[0] != '.' && strlen(s) <= 64 &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") == strlen(s);
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
conv_upstream_url(struct conv *cv, struct conf_upstream *u)
{
	const char *v = cv->kv->value, *host, *end;
	bool https = strncmp(v, "https://", 8) == 0;
	size_t n;

	if (!https && strncmp(v, "http://", 7) != 0) {
		bad_value(cv, "an https:// URL (http:// only on loopback)");
		return;
	}
	host = v + (https ? 8 : 7);
	end = host + strcspn(host, "/?#");
	/* the host up to a port; userinfo would carry a secret in the file */
	n = (size_t)(end - host);
	if (n == 0 || memchr(host, '@', n) != NULL || *end == '?' ||
	    *end == '#' || strpbrk(v, " \t\\") != NULL) {
		bad_value(cv, "scheme://host[:port][/path], no user, query or "
		    "fragment");
		return;
	}
	if (!https) {
		const char *colon = host[0] == '[' ? memchr(host, ']', n) :
		    memchr(host, ':', n);
		size_t hn = colon == NULL ? n : (size_t)(colon - host) +
		    (host[0] == '[' ? 1 : 0);

		if (!url_loopback(host, hn)) {
			bad_value(cv, "https:// (plain http:// only to "
			    "loopback)");
			return;
		}
	}
	get_string(cv, &u->url);
	/* the route appends the client's path, which begins with '/' */
	if (u->url != NULL) {
		n = strlen(u->url);
		while (n > 0 && u->url[n - 1] == '/' && u->url + n - 1 >= end -
		    v + u->url)
			u->url[--n] = '\0';
	}
}

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
conv_upstream_header(struct conv *cv, struct conf_upstream *u)
{
	const char *v = cv->kv->value, *colon = strchr(v, ':'), *val, *ph;
	const char *p;

	for (p = v; *p != '\0'; p++)
		if (iscntrl((unsigned char)*p)) {
			bad_value(cv, "control characters are not allowed");
			return;
		}
	if (colon == NULL || !header_token(v, (size_t)(colon - v))) {
		bad_value(cv, "\"Name: text with {value}\"");
		return;
	}
	val = colon + 1;
	while (*val == ' ')
		val++;
	if ((ph = strstr(val, "{value}")) == NULL ||
	    strstr(ph + 7, "{value}") != NULL) {
		bad_value(cv, "the text must hold {value} exactly once");
		return;
	}
	free(u->header_name);
	free(u->header_pre);
	free(u->header_post);
	u->header_name = strndup(v, (size_t)(colon - v));
	u->header_pre = strndup(val, (size_t)(ph - val));
	u->header_post = strdup(ph + 7);
	if (u->header_name == NULL || u->header_pre == NULL ||
	    u->header_post == NULL)
		cv->ld->nomem = true;
}

static void
conv_upstream(struct loader *ld, const struct raw_section *s,
    struct conf_upstream *u)
{
	struct conv cv = { ld, NULL };
	size_t i, j;

	u->max_request_size = CONF_DEFAULT_UPSTREAM_MAX_REQUEST;
	u->timeout_ms = CONF_DEFAULT_UPSTREAM_TIMEOUT_MS;
	for (i = 0; i < s->nkv; i++) {
		cv.kv = &s->kv[i];
		if (KEY("url"))
			conv_upstream_url(&cv, u);
		else if (KEY("credential"))
			get_string(&cv, &u->credential);
		else if (KEY("header"))
			conv_upstream_header(&cv, u);
		else if (KEY("paths")) {
			get_list(&cv, &u->paths, &u->npaths);
			for (j = 0; j < u->npaths; j++)
				if (u->paths[j][0] != '/' ||
				    strpbrk(u->paths[j], "%?#\\ ") != NULL ||
				    strstr(u->paths[j], "/.") != NULL ||
				    (strchr(u->paths[j], '*') != NULL &&
				    strchr(u->paths[j], '*')[1] != '\0'))
					ERR(ld, cv.kv->loc, "upstream \"%s\": "
					    "paths: \"%s\" is not a path "
					    "beginning with '/' (a '*' only "
					    "at its end)", u->name,
					    u->paths[j]);
		} else if (KEY("methods")) {
			get_list(&cv, &u->methods, &u->nmethods);
			for (j = 0; j < u->nmethods; j++) {
				char *m = u->methods[j];

				if (strspn(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") !=
				    strlen(m) || strlen(m) > 16)
					ERR(ld, cv.kv->loc, "upstream \"%s\": "
					    "methods: \"%s\" is not a method "
					    "such as GET or POST", u->name, m);
			}
		} else if (KEY("max_request_size"))
			get_size(&cv, 0, CONF_MAX_UPSTREAM_REQUEST,
			    &u->max_request_size);
		else if (KEY("timeout")) {
			get_duration(&cv, &u->timeout_ms);
			if (u->timeout_ms == 0)
				bad_value(&cv, "a duration above zero");
		} else if (KEY("ca_file"))
			get_path(&cv, &u->ca_file);
		else if (KEY("env") || KEY("key_env")) {
			char **l = NULL;
			size_t n = 0;

			if (KEY("env"))
				get_list(&cv, &u->env, &u->nenv);
			else {
				get_list(&cv, &l, &n);
				if (n == 1) {
					free(u->key_env);
					u->key_env = ld_strdup(ld, l[0]);
				} else if (n > 1)
					bad_value(&cv, "one variable name");
			}
			for (j = 0; j < (l != NULL ? n : u->nenv); j++) {
				const char *e = l != NULL ? l[j] : u->env[j];

				if (!is_name(e, "_") ||
				    isdigit((unsigned char)e[0]))
					ERR(ld, cv.kv->loc, "upstream \"%s\": "
					    "%s: \"%s\" is not a variable name",
					    u->name, cv.kv->key, e);
			}
			val_list_free(l);
		}
	}
	fill_where(ld, s, &u->where);
	if (!route_like_name(u->name))
		ERR(ld, s->loc, "upstream \"%s\": a name is letters, digits, "
		    "'.', '_' and '-'", u->name);
	if (u->url == NULL && !conf_where_has(&u->where, "url"))
		ERR(ld, s->loc, "upstream \"%s\": missing url", u->name);
	if (u->credential == NULL && !conf_where_has(&u->where, "credential"))
		ERR(ld, s->loc, "upstream \"%s\": missing credential",
		    u->name);
	if (u->header_name == NULL && !conf_where_has(&u->where, "header"))
		ERR(ld, s->loc, "upstream \"%s\": missing header (such as "
		    "\"x-api-key: {value}\")", u->name);
	if (u->paths == NULL && !conf_where_has(&u->where, "paths"))
		ERR(ld, s->loc, "upstream \"%s\": missing paths (deny by "
		    "default: name the paths the client may call)", u->name);
	if (u->methods == NULL && !ld->nomem) {
		if (val_list("GET, POST", &u->methods, &u->nmethods) !=
		    HUSH_OK)
			ld->nomem = true;
	}
	if (u->credential != NULL) {
		for (j = 0; j < ld->conf->ncreds; j++)
			if (strcmp(ld->conf->creds[j].name, u->credential) == 0)
				break;
		if (j == ld->conf->ncreds)
			ERR(ld, conf_where_key(&u->where, "credential"),
			    "upstream \"%s\": credential: no [credential "
			    "\"%s\"]", u->name, u->credential);
		u->cred = j;
	}
}

/* Pass 3: cross checks */

static void
check_clients(struct loader *ld)
{
	struct hush_conf *c = ld->conf;
	const char **names;
	size_t i, j;
	char hint[80];

	if ((names = calloc(c->ncreds + 1, sizeof(*names))) == NULL) {
		ld->nomem = true;
		return;
	}
	for (i = 0; i < c->ncreds; i++)
		names[i] = c->creds[i].name;
	for (i = 0; i < c->ncreds; i++)
		if (strncmp(c->creds[i].name, CONF_UPSTREAM_PREFIX,
		    strlen(CONF_UPSTREAM_PREFIX)) == 0)
			ERR(ld, c->creds[i].where.section, "credential \"%s\": "
			    "a name beginning with \"%s\" would read as an "
			    "upstream in allow lists", c->creds[i].name,
			    CONF_UPSTREAM_PREFIX);
	for (i = 0; i < c->nclients; i++) {
		struct conf_client *cl = &c->clients[i];
		struct conf_loc aloc = conf_where_key(&cl->where, "allow");

		for (j = 0; j < i && cl->socket != NULL; j++) {
			if (c->clients[j].socket != NULL &&
			    strcmp(c->clients[j].socket, cl->socket) == 0)
				ERR(ld, conf_where_key(&cl->where, "socket"),
				    "client \"%s\": socket %s is already used "
				    "by client \"%s\" (%s:%d)", cl->name,
				    cl->socket, c->clients[j].name,
				    c->clients[j].where.section.file,
				    c->clients[j].where.section.line);
		}
		for (j = 0; j < cl->nallow; j++) {
			const char *a = cl->allow[j];
			size_t pl = strlen(CONF_UPSTREAM_PREFIX);
			struct allow_entry e;

			if (strncmp(a, CONF_UPSTREAM_PREFIX, pl) == 0) {
				/* upstream:NAME grants the route, not a value */
				a += pl;
				if (a[0] != '\0' && a[strlen(a) - 1] == '*')
					continue;
				if (conf_find_upstream(c, a) == NULL)
					ERR(ld, aloc, "client \"%s\": allow "
					    "names unknown upstream \"%s\"",
					    cl->name, a);
				continue;
			}
			allow_parse(cl->allow[j], &e);
			if (e.unit != NULL &&
			    cl->protocol != CONF_PROTO_SYSTEMD) {
				ERR(ld, aloc, "client \"%s\": allow "
				    "entry \"%s\": UNIT:ID needs "
				    "protocol = systemd", cl->name,
				    cl->allow[j]);
				continue;
			}
			if (e.glob)
				continue;	/* a glob may match nothing yet */
			if (conf_find_cred(c, e.pat) == NULL)
				ERR(ld, aloc, "client \"%s\": allow names "
				    "unknown credential \"%s\"%s", cl->name,
				    e.pat, did_you_mean(e.pat, names, hint,
				    sizeof(hint)));
		}
	}
	free(names);
}

static void
ld_convert(struct loader *ld)
{
	struct hush_conf *c = ld->conf;
	size_t i, nclients = 0, ncreds = 0, nrules = 0, nup = 0;

	for (i = 0; i < ld->nsecs; i++) {
		switch (ld->secs[i].kind) {
		case SEC_CLIENT: nclients++; break;
		case SEC_CREDENTIAL: ncreds++; break;
		case SEC_RULE: nrules++; break;
		case SEC_UPSTREAM: nup++; break;
		default: break;
		}
	}
	c->clients = calloc(nclients + 1, sizeof(*c->clients));
	c->creds = calloc(ncreds + 1, sizeof(*c->creds));
	c->rules = calloc(nrules + 1, sizeof(*c->rules));
	c->upstreams = calloc(nup + 1, sizeof(*c->upstreams));
	if (c->clients == NULL || c->creds == NULL || c->rules == NULL ||
	    c->upstreams == NULL) {
		ld->nomem = true;
		return;
	}
	/* Credentials first: clients' allow lists refer to them. */
	for (i = 0; i < ld->nsecs; i++) {
		const struct raw_section *s = &ld->secs[i];

		switch (s->kind) {
		case SEC_BROKER:
			conv_broker(ld, s);
			break;
		case SEC_REDACT:
			conv_redact(ld, s);
			break;
		case SEC_CREDENTIAL: {
			struct conf_cred *cr = &c->creds[c->ncreds++];

			cr->name = ld_strdup(ld, s->subject);
			conv_cred(ld, s, cr);
			break;
		}
		case SEC_RULE: {
			struct conf_rule *r = &c->rules[c->nrules++];

			r->name = ld_strdup(ld, s->subject);
			conv_rule(ld, s, r);
			break;
		}
		default:
			break;
		}
	}
	/* after credentials: an upstream names one */
	for (i = 0; i < ld->nsecs; i++) {
		const struct raw_section *s = &ld->secs[i];
		struct conf_upstream *u;
		size_t k;

		if (s->kind != SEC_UPSTREAM)
			continue;
		for (k = 0; k < c->nupstreams; k++)
			if (strcmp(c->upstreams[k].name, s->subject) == 0)
				ERR(ld, s->loc, "upstream \"%s\" is already "
				    "defined at %s:%d", s->subject,
				    c->upstreams[k].where.section.file,
				    c->upstreams[k].where.section.line);
		u = &c->upstreams[c->nupstreams++];
		u->name = ld_strdup(ld, s->subject);
		if (u->name != NULL)
			conv_upstream(ld, s, u);
	}
	for (i = 0; i < ld->nsecs; i++) {
		const struct raw_section *s = &ld->secs[i];
		struct conf_client *cl;

		if (s->kind != SEC_CLIENT)
			continue;
		cl = &c->clients[c->nclients++];
		cl->name = ld_strdup(ld, s->subject);
		fill_where(ld, s, &cl->where);
		conv_client(ld, s, cl);
	}
	/* names may be missing after a failed allocation: no cross checks */
	if (!ld->nomem)
		check_clients(ld);
}

static void
ld_release(struct loader *ld)
{
	size_t i, j;

	for (i = 0; i < ld->nsecs; i++) {
		for (j = 0; j < ld->secs[i].nkv; j++) {
			free(ld->secs[i].kv[j].key);
			free(ld->secs[i].kv[j].value);
		}
		free(ld->secs[i].kv);
		free(ld->secs[i].subject);
	}
	free(ld->secs);
}

void
conf_init(struct hush_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->broker.max_connections = CONF_DEFAULT_MAX_CONNECTIONS;
	conf->broker.idle_timeout_ms = CONF_DEFAULT_IDLE_TIMEOUT_MS;
	conf->broker.request_timeout_ms = CONF_DEFAULT_REQUEST_TIMEOUT_MS;
	conf->broker.max_request_size = CONF_DEFAULT_MAX_REQUEST_SIZE;
	conf->redact.builtin = true;
	conf->redact.credentials = true;
	conf->redact.min_literal_length = CONF_DEFAULT_MIN_LITERAL;
	conf->redact.max_line = CONF_DEFAULT_MAX_LINE;
}

/* Defaults that are strings are filled in after reading, so that a value
 * from the file replaces nothing that needs freeing. */
static void
ld_defaults(struct loader *ld)
{
	struct hush_conf *c = ld->conf;

	if (c->broker.audit_log == NULL)
		c->broker.audit_log = ld_strdup(ld, "stderr");
	if (c->redact.format == NULL)
		c->redact.format = ld_strdup(ld, CONF_DEFAULT_FORMAT);
}

static int
ld_finish(struct loader *ld, conf_check_fn check, size_t nerrs_before,
    size_t lost_before)
{
	if (!ld->nomem)
		ld_convert(ld);
	if (!ld->nomem)
		ld_defaults(ld);
	ld_release(ld);
	if (!ld->nomem && check != NULL)
		check(ld->conf, ld->errs);
	if (ld->nomem)
		conf_errs_add(ld->errs, (struct conf_loc){ "hush", 0 },
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
	struct loader ld;
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
	struct loader ld;
	size_t before = errs->n, lost = errs->lost;

	conf_init(conf);
	memset(&ld, 0, sizeof(ld));
	ld.conf = conf;
	ld.errs = errs;
	ld.flags = flags | CONF_SKIP_OWNER_CHECK;
	ld_parse_text(&ld, ld_intern_file(&ld, name), text, strlen(text));
	return ld_finish(&ld, check, before, lost);
}

static void
where_release(struct conf_where *w)
{
	size_t i;

	for (i = 0; i < w->nkeys; i++)
		free(w->keys[i].key);
	free(w->keys);
}

void
conf_release(struct hush_conf *conf)
{
	size_t i;

	free(conf->broker.user);
	free(conf->broker.group);
	free(conf->broker.audit_log);
	where_release(&conf->broker.where);
	val_list_free(conf->redact.disable);
	free(conf->redact.format);
	free(conf->redact.fingerprint_key_file);
	where_release(&conf->redact.where);
	for (i = 0; i < conf->nclients; i++) {
		struct conf_client *c = &conf->clients[i];

		free(c->name);
		free(c->socket);
		val_list_free(c->allow);
		where_release(&c->where);
	}
	free(conf->clients);
	for (i = 0; i < conf->ncreds; i++) {
		struct conf_cred *c = &conf->creds[i];

		free(c->name);
		free(c->source);
		free(c->arg);
		free(c->json_field);
		val_list_free(c->json_omit);
		val_list_free(c->json_blank);
		val_list_free(c->env);
		free(c->content_type);
		free(c->key_file);
		where_release(&c->where);
	}
	free(conf->creds);
	for (i = 0; i < conf->nrules; i++) {
		struct conf_rule *r = &conf->rules[i];

		free(r->name);
		free(r->description);
		free(r->pattern);
		free(r->check);
		val_list_free(r->keywords);
		val_list_free(r->stopwords);
		where_release(&r->where);
	}
	free(conf->rules);
	for (i = 0; i < conf->nupstreams; i++) {
		struct conf_upstream *u = &conf->upstreams[i];

		free(u->name);
		free(u->url);
		free(u->credential);
		free(u->header_name);
		free(u->header_pre);
		free(u->header_post);
		val_list_free(u->paths);
		val_list_free(u->methods);
		free(u->ca_file);
		val_list_free(u->env);
		free(u->key_env);
		where_release(&u->where);
	}
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

const struct conf_client *
conf_find_client(const struct hush_conf *conf, const char *name)
{
	size_t i;

	for (i = 0; i < conf->nclients; i++)
		if (strcmp(conf->clients[i].name, name) == 0)
			return &conf->clients[i];
	return NULL;
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
