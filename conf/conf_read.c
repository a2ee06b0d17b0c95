/*
 * Reading hush.ini: lines, sections, keys, includes. The syntax is
 * libinih's as Debian builds it (docs/config.md "Syntax"), read here rather
 * than by inih so that every line has its number, an overlong line is an
 * error instead of a cut value, and no state has to be mirrored
 * (docs/internals.md, "inih: dropped").
 */
#define _XOPEN_SOURCE 700	/* realpath */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/api.h"
#include "conf/conf_read.h"

/* The current section of a file being read. */
#define CUR_NONE	(-1)	/* before the first section */
#define CUR_IGNORED	(-2)	/* inside a section that was an error */

struct file_ctx {
	struct conf_ld	*ld;
	const char	*file;		/* interned */
	int		 lineno;
	long		 cur;		/* index into ld->secs, or CUR_* */
	bool		 prev_key;	/* the last line set a key: an indented
					 * line continues its value */
	long		 last_kv;	/* index of the last key in cur */
};

/* Helpers */

static void *
read_grow(struct conf_ld *ld, void *arr, size_t n, size_t size)
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

char *
conf_read_strdup(struct conf_ld *ld, const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		ld->nomem = true;
	return p;
}

const char *
conf_read_intern(struct conf_ld *ld, const char *path)
{
	struct hush_conf *c = ld->conf;
	char **files;
	size_t i;

	for (i = 0; i < c->nfiles; i++)
		if (strcmp(c->files[i], path) == 0)
			return c->files[i];
	if ((files = read_grow(ld, c->files, c->nfiles, sizeof(*files))) == NULL)
		return "?";
	c->files = files;
	if ((files[c->nfiles] = conf_read_strdup(ld, path)) == NULL)
		return "?";
	return files[c->nfiles++];
}

/*
 * A relative path is taken relative to the directory of the file that
 * names it (like include), so a configuration and the files it refers to
 * can move together. Returns a new absolute path, or NULL.
 */
char *
conf_read_resolve(struct conf_ld *ld, const char *file, const char *path)
{
	const char *slash;
	char *dir, *abs = NULL, *out;
	size_t n;

	if (path[0] == '/')
		return conf_read_strdup(ld, path);
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

/* Lines */

/*
 * A section header "[name]" or "[name "subject"]": makes it the current
 * section, or reports why not and ignores the keys up to the next one.
 */
static void
parse_section(struct file_ctx *fc, const char *line)
{
	struct conf_ld *ld = fc->ld;
	struct conf_loc loc = { fc->file, fc->lineno };
	const char *p = line + 1, *end, *name, *q;
	char word[32], subject[128], hint[64];
	struct conf_raw_sec *s;
	size_t wlen, i;
	int kind;

	fc->cur = CUR_IGNORED;
	fc->prev_key = false;
	if ((end = strchr(p, ']')) == NULL) {
		CONF_ERR(ld, loc, "section header without closing \"]\"");
		return;
	}
	for (q = end + 1; isspace((unsigned char)*q); q++)
		;
	if (*q != '\0' && *q != ';' && *q != '#') {
		CONF_ERR(ld, loc, "unexpected text after section header");
		return;
	}
	while (isspace((unsigned char)*p))
		p++;
	for (name = p; isalnum((unsigned char)*p) || *p == '_'; p++)
		;
	wlen = (size_t)(p - name);
	if (wlen == 0 || wlen >= sizeof(word)) {
		CONF_ERR(ld, loc, "invalid section name");
		return;
	}
	memcpy(word, name, wlen);
	word[wlen] = '\0';
	if ((kind = conf_sec_find(word)) < 0) {
		CONF_ERR(ld, loc, "unknown section [%s]%s", word,
		    conf_errs_hint(word, conf_sec_names(), hint, sizeof(hint)));
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
			CONF_ERR(ld, loc, "bad quoted name in section header");
			return;
		}
		memcpy(subject, sub, (size_t)(p - sub));
		subject[p - sub] = '\0';
		for (p++; isspace((unsigned char)*p); p++)
			;
	}
	if (p != end) {
		CONF_ERR(ld, loc, "malformed section header (expected [%s%s])",
		    word, conf_sec_has_subject((enum conf_sec)kind) ? " \"name\"" : "");
		return;
	}
	if (conf_sec_has_subject((enum conf_sec)kind) && subject[0] == '\0') {
		CONF_ERR(ld, loc, "[%s] needs a name: [%s \"name\"]", word, word);
		return;
	}
	if (!conf_sec_has_subject((enum conf_sec)kind) && subject[0] != '\0') {
		CONF_ERR(ld, loc, "[%s] takes no name", word);
		return;
	}
	/* the API's name check: a name the daemon could never serve is
	 * refused here, with its line, rather than 404 at run time */
	if (conf_sec_has_subject((enum conf_sec)kind) && !api_name_ok(subject, strlen(subject))) {
		CONF_ERR(ld, loc, "invalid %s name \"%s\" (use letters, digits, "
		    "'.', '_', '-', ':'; at most %d; not \".\" or \"..\")",
		    word, subject, API_MAX_NAME);
		return;
	}
	for (i = 0; i < ld->nsecs; i++) {
		s = &ld->secs[i];
		if ((int)s->kind != kind)
			continue;
		if (!conf_sec_has_subject((enum conf_sec)kind)) {
			/* [broker] and [redact] may be reopened (drop-ins). */
			fc->cur = (long)i;
			return;
		}
		if (strcmp(s->subject, subject) == 0) {
			CONF_ERR(ld, loc, "%s \"%s\" is already defined at %s:%d",
			    word, subject, s->loc.file, s->loc.line);
			return;
		}
	}
	if ((s = read_grow(ld, ld->secs, ld->nsecs, sizeof(*s))) == NULL)
		return;
	ld->secs = s;
	s = &ld->secs[ld->nsecs];
	s->kind = (enum conf_sec)kind;
	s->loc = loc;
	if (conf_sec_has_subject((enum conf_sec)kind) &&
	    (s->subject = conf_read_strdup(ld, subject)) == NULL)
		return;
	fc->cur = (long)ld->nsecs++;
}

static void
read_include(struct file_ctx *fc, const char *pattern)
{
	struct conf_ld *ld = fc->ld;
	struct conf_loc loc = { fc->file, fc->lineno };
	char path[4096];
	glob_t g;
	size_t i;
	int r;

	if (pattern[0] == '/') {
		if (snprintf(path, sizeof(path), "%s", pattern) >=
		    (int)sizeof(path)) {
			CONF_ERR(ld, loc, "include path too long");
			return;
		}
	} else {
		const char *slash = strrchr(fc->file, '/');
		int dirlen = slash ? (int)(slash - fc->file) : 1;

		if (snprintf(path, sizeof(path), "%.*s/%s", dirlen,
		    slash ? fc->file : ".", pattern) >= (int)sizeof(path)) {
			CONF_ERR(ld, loc, "include path too long");
			return;
		}
	}
	if (ld->depth >= CONF_MAX_INCLUDE_DEPTH) {
		CONF_ERR(ld, loc, "includes nested more than %d deep",
		    CONF_MAX_INCLUDE_DEPTH);
		return;
	}
	r = glob(path, GLOB_ERR, NULL, &g);
	if (r == GLOB_NOMATCH) {
		/* An empty conf.d is fine; a missing named file is not. */
		if (strpbrk(pattern, "*?[") == NULL)
			CONF_ERR(ld, loc, "include %s: no such file", path);
		return;
	}
	if (r != 0) {
		CONF_ERR(ld, loc, "include %s: cannot read", path);
		globfree(&g);
		return;
	}
	ld->depth++;
	for (i = 0; i < g.gl_pathc; i++)
		conf_read_file(ld, g.gl_pathv[i], loc);
	ld->depth--;
	globfree(&g);
}

static void
append_value(struct conf_ld *ld, struct conf_raw_kv *kv, const char *more,
    struct conf_loc loc)
{
	size_t a = strlen(kv->value), b = strlen(more);
	char *v;

	if (a + b > CONF_MAX_VALUE) {
		CONF_ERR(ld, loc, "value of \"%s\" is longer than %d characters",
		    kv->key, CONF_MAX_VALUE);
		return;
	}
	if ((v = realloc(kv->value, a + b + 1)) == NULL) {
		ld->nomem = true;
		return;
	}
	memcpy(v + a, more, b + 1);
	kv->value = v;
}

/* One "key = value" line of the current section. */
static void
read_key(struct file_ctx *fc, const char *name, const char *value)
{
	struct conf_ld *ld = fc->ld;
	struct conf_loc loc = { fc->file, fc->lineno };
	struct conf_raw_sec *s;
	struct conf_raw_kv *kv;
	const char *keys[32];
	char hint[64];
	size_t i;

	fc->last_kv = -1;
	if (*name == '\0') {
		CONF_ERR(ld, loc, "empty key");
		return;
	}
	if (strcmp(name, "include") == 0) {
		read_include(fc, value);
		return;
	}
	if (fc->cur == CUR_IGNORED)
		return;
	if (fc->cur == CUR_NONE) {
		CONF_ERR(ld, loc, "key \"%s\" outside of any section", name);
		return;
	}
	s = &ld->secs[fc->cur];
	if (conf_schema_find(s->kind, name) == NULL) {
		conf_schema_keys(s->kind, keys, sizeof(keys) / sizeof(keys[0]));
		if (s->subject != NULL)
			CONF_ERR(ld, loc, "unknown key \"%s\" in [%s \"%s\"]%s",
			    name, conf_sec_name(s->kind), s->subject,
			    conf_errs_hint(name, keys, hint, sizeof(hint)));
		else
			CONF_ERR(ld, loc, "unknown key \"%s\" in [%s]%s", name,
			    conf_sec_name(s->kind),
			    conf_errs_hint(name, keys, hint, sizeof(hint)));
		return;
	}
	for (i = 0; i < s->nkv; i++) {
		if (strcmp(s->kv[i].key, name) == 0) {
			CONF_ERR(ld, loc, "duplicate key \"%s\" (first set at "
			    "%s:%d)", name, s->kv[i].loc.file,
			    s->kv[i].loc.line);
			return;
		}
	}
	if ((kv = read_grow(ld, s->kv, s->nkv, sizeof(*kv))) == NULL)
		return;
	s->kv = kv;
	kv = &s->kv[s->nkv];
	kv->loc = loc;
	if ((kv->key = conf_read_strdup(ld, name)) == NULL)
		return;
	if ((kv->value = conf_read_strdup(ld, value)) == NULL) {
		free(kv->key);
		return;
	}
	fc->last_kv = (long)s->nkv++;
}


/* The first of chars (NULL: none) or of an inline comment (white space,
 * then ';'), or the end of s. */
static char *
find_or_comment(char *s, const char *chars)
{
	bool was_space = false;

	for (; *s != '\0'; s++) {
		if (chars != NULL && strchr(chars, *s) != NULL)
			break;
		if (was_space && *s == ';')
			break;
		was_space = isspace((unsigned char)*s) != 0;
	}
	return s;
}

static char *
rstrip(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static char *
lskip(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

/* One line, without its end of line: a comment, a continuation, a
 * section header or a key. */
static void
read_line(struct file_ctx *fc, char *line)
{
	struct conf_loc loc = { fc->file, fc->lineno };
	char *s = lskip(rstrip(line)), *end, *name, *value;

	if (*s == '\0' || *s == ';' || *s == '#')
		return;
	if (fc->prev_key && s > line) {
		*find_or_comment(s, NULL) = '\0';
		rstrip(s);
		if (fc->cur >= 0 && fc->last_kv >= 0)
			append_value(fc->ld,
			    &fc->ld->secs[fc->cur].kv[fc->last_kv], s, loc);
		return;
	}
	if (*s == '[') {
		parse_section(fc, s);
		return;
	}
	end = find_or_comment(s, "=:");
	if (*end != '=' && *end != ':') {
		/* the previous key stays open for continuations */
		CONF_ERR(fc->ld, loc, "expected \"key = value\"");
		return;
	}
	*end = '\0';
	name = rstrip(s);
	value = end + 1;
	*find_or_comment(value, NULL) = '\0';
	value = rstrip(lskip(value));
	fc->prev_key = true;
	read_key(fc, name, value);
}

void
conf_read_text(struct conf_ld *ld, const char *file, const char *text,
    size_t len)
{
	struct file_ctx fc;
	char line[CONF_MAX_LINE + 1];
	const char *p = text, *nl;
	size_t n;

	memset(&fc, 0, sizeof(fc));
	fc.ld = ld;
	fc.file = file;
	fc.cur = CUR_NONE;
	fc.last_kv = -1;
	while (p < text + len) {
		struct conf_loc loc;

		nl = memchr(p, '\n', (size_t)(text + len - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(text + len - p);
		loc.file = file;
		loc.line = ++fc.lineno;
		if (fc.lineno == 1 && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) ==
		    0) {
			p += 3;	/* a UTF-8 byte order mark */
			n -= 3;
		}
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > CONF_MAX_LINE)
			CONF_ERR(ld, loc, "line is %zu characters long, at most "
			    "%d are allowed (continue a long value on lines "
			    "that begin with white space)", n, CONF_MAX_LINE);
		else if (memchr(p, '\0', n) != NULL)
			CONF_ERR(ld, loc, "NUL byte in line");
		else {
			memcpy(line, p, n);
			line[n] = '\0';
			read_line(&fc, line);
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

/* Files */

/*
 * Like ssh with key files: a configuration that others can change could
 * hand out any credential, so it must be owned by root or by us and be
 * writable by nobody else.
 */
static int
check_owner(struct conf_ld *ld, const char *file, const struct stat *st)
{
	struct conf_loc loc = { file, 0 };

	if (ld->flags & CONF_SKIP_OWNER_CHECK)
		return 0;
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		CONF_ERR(ld, loc, "refusing a configuration owned by uid %u (not "
		    "root or this user)", (unsigned)st->st_uid);
		return -1;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		CONF_ERR(ld, loc, "refusing a configuration writable by group or "
		    "others (mode %04o); run: chmod go-w %s",
		    (unsigned)(st->st_mode & 07777), file);
		return -1;
	}
	return 0;
}

int
conf_read_file(struct conf_ld *ld, const char *path, struct conf_loc from)
{
	const char *file = conf_read_intern(ld, path);
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
			CONF_ERR(ld, from, "include %s: %s", path, strerror(errno));
		else
			CONF_ERR(ld, loc, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (from.file != NULL)
			CONF_ERR(ld, from, "include %s: not a regular file", path);
		else
			CONF_ERR(ld, loc, "not a regular file");
		goto fail;
	}
	if (check_owner(ld, file, &st) != 0)
		goto fail;
	if (st.st_size > CONF_MAX_FILE_SIZE) {
		CONF_ERR(ld, loc, "file larger than %d bytes", CONF_MAX_FILE_SIZE);
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
			CONF_ERR(ld, loc, "read error");
			goto fail;
		}
		got += (size_t)n;
	}
	close(fd);
	conf_read_text(ld, file, buf, got);
	free(buf);
	return 0;
fail:
	free(buf);
	close(fd);
	return -1;
}


void
conf_read_release(struct conf_ld *ld)
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
	ld->secs = NULL;
	ld->nsecs = 0;
}
