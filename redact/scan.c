/*
 * The matchers that decide where to look.
 *
 * Vectorscan: every rule's pattern, relaxed to a superset (scan_relax)
 * and compiled in prefilter mode, in one database scanned once over many
 * lines. A rule then runs (PCRE2, which confirms and extracts the secret
 * group) only on a line where its own pattern may match, not on every
 * line that has one of its keywords: with several hundred rules and
 * generic detectors whose keywords ("key", "token") are on half the lines
 * of a log, that is the difference. The database holds no secret.
 *
 * Aho-Corasick: every literal value's encodings, and the keywords of the
 * rules Vectorscan does not take (a pattern it cannot parse even as a
 * prefilter, the PEM rule whose BEGIN line alone matters, every rule with
 * the reference engine), in one DFA run once over each line. Keywords are
 * case-insensitive; literal encodings are folded the same way in the
 * automaton and confirmed byte for byte on a hit, so one pass serves
 * both. Failure links are resolved into full transitions, so a
 * self-overlapping value ("aab" after "aa") is never lost.
 */
#define _DEFAULT_SOURCE	/* MAP_ANONYMOUS, MAP_POPULATE */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <sodium.h>
#ifdef HUSH_HAVE_HS
#include <hs/hs.h>
#endif

#include "conf/hush_err.h"
#include "redact/internal.h"

static uint8_t
fold(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* Encodings */

static const char b64std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/*
 * The base64 characters of p that depend on p alone, whatever follows:
 * all full groups, plus one character after a single trailing byte or
 * two after two. Returns the number written to out (room for 4n/3 + 4).
 */
static size_t
b64_stable(const uint8_t *p, size_t n, const char *alpha, uint8_t *out)
{
	size_t i, o = 0;

	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 |
		    p[i + 2];

		out[o++] = (uint8_t)alpha[(v >> 18) & 63];
		out[o++] = (uint8_t)alpha[(v >> 12) & 63];
		out[o++] = (uint8_t)alpha[(v >> 6) & 63];
		out[o++] = (uint8_t)alpha[v & 63];
	}
	if (n - i == 1) {
		out[o++] = (uint8_t)alpha[p[i] >> 2];
	} else if (n - i == 2) {
		out[o++] = (uint8_t)alpha[p[i] >> 2];
		out[o++] = (uint8_t)alpha[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
	}
	return o;
}

static bool
url_unreserved(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

/* Percent-encoding; upper or lower case hex, spaces as %20 or '+'. */
static size_t
url_encode(const uint8_t *p, size_t n, bool lower, bool plus, uint8_t *out)
{
	const char *hex = lower ? "0123456789abcdef" : "0123456789ABCDEF";
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (url_unreserved(p[i])) {
			out[o++] = p[i];
		} else if (plus && p[i] == ' ') {
			out[o++] = '+';
		} else {
			out[o++] = '%';
			out[o++] = (uint8_t)hex[p[i] >> 4];
			out[o++] = (uint8_t)hex[p[i] & 15];
		}
	}
	return o;
}

/* JSON string escaping, optionally with "\/" for '/'. Room for 6n. */
static size_t
json_encode(const uint8_t *p, size_t n, bool slash, uint8_t *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		uint8_t c = p[i];
		char e = 0;

		switch (c) {
		case '"': e = '"'; break;
		case '\\': e = '\\'; break;
		case '\n': e = 'n'; break;
		case '\r': e = 'r'; break;
		case '\t': e = 't'; break;
		case '\b': e = 'b'; break;
		case '\f': e = 'f'; break;
		case '/': e = slash ? '/' : 0; break;
		default: break;
		}
		if (e != 0) {
			out[o++] = '\\';
			out[o++] = (uint8_t)e;
		} else if (c < 0x20) {
			out[o++] = '\\';
			out[o++] = 'u';
			out[o++] = '0';
			out[o++] = '0';
			out[o++] = (uint8_t)hex[c >> 4];
			out[o++] = (uint8_t)hex[c & 15];
		} else {
			out[o++] = c;
		}
	}
	return o;
}

#define ENC_MAX	16	/* distinct encodings of one string */

struct enc_set {
	struct secbuf	*arena;		/* the encodings seen, for repeats */
	size_t		 off[ENC_MAX];
	size_t		 len[ENC_MAX];
	size_t		 n;
	size_t		 minlen;
	scan_enc_fn	 fn;
	void		*arg;
};

/* Passes one encoding on unless it is a repeat, too short or multi-line. */
static int
enc_emit(struct enc_set *es, const uint8_t *p, size_t len, bool b64)
{
	const uint8_t *a = secbuf_data(es->arena);
	size_t i;

	if (len < es->minlen || len == 0 || memchr(p, '\n', len) != NULL)
		return HUSH_OK;
	for (i = 0; i < es->n; i++)
		if (es->len[i] == len && memcmp(a + es->off[i], p, len) == 0)
			return HUSH_OK;
	if (es->n == ENC_MAX)
		return HUSH_ERR_INTERNAL;
	es->off[es->n] = secbuf_len(es->arena);
	es->len[es->n] = len;
	if (secbuf_append(es->arena, p, len) != HUSH_OK)
		return HUSH_ERR_INTERNAL;
	es->n++;
	return es->fn(es->arg, p, len, b64);
}

static int
enc_one(struct enc_set *es, const uint8_t *v, size_t n, struct secbuf *tmp)
{
	uint8_t *out = secbuf_mut(tmp);
	size_t o, k;
	int r;

	if ((r = enc_emit(es, v, n, false)) != HUSH_OK)
		return r;
	for (o = 0; o < 3 && o < n; o++) {
		k = b64_stable(v + o, n - o, b64std, out);
		if ((r = enc_emit(es, out, k, true)) != HUSH_OK)
			return r;
		k = b64_stable(v + o, n - o, b64url, out);
		if ((r = enc_emit(es, out, k, true)) != HUSH_OK)
			return r;
	}
	k = url_encode(v, n, false, false, out);
	if ((r = enc_emit(es, out, k, false)) != HUSH_OK)
		return r;
	k = url_encode(v, n, true, false, out);
	if ((r = enc_emit(es, out, k, false)) != HUSH_OK)
		return r;
	k = url_encode(v, n, false, true, out);
	if ((r = enc_emit(es, out, k, false)) != HUSH_OK)
		return r;
	k = json_encode(v, n, false, out);
	if ((r = enc_emit(es, out, k, false)) != HUSH_OK)
		return r;
	k = json_encode(v, n, true, out);
	return enc_emit(es, out, k, false);
}

int
scan_encodings(const uint8_t *value, size_t len, size_t minlen,
    scan_enc_fn fn, void *arg)
{
	struct enc_set es;
	struct secbuf *tmp = NULL;
	size_t i, start;
	int r = HUSH_ERR_NOMEM;

	memset(&es, 0, sizeof(es));
	es.minlen = minlen;
	es.fn = fn;
	es.arg = arg;
	if (len == 0 || len > REDACT_MAX_LITERAL_LEN)
		return HUSH_ERR_INVALID;
	/* Every encoding is at most 6 bytes per byte (JSON's \u00XX). */
	if ((tmp = secbuf_new(6 * len + 8)) == NULL ||
	    (es.arena = secbuf_new(ENC_MAX * (6 * len + 8))) == NULL)
		goto out;
	if ((r = enc_one(&es, value, len, tmp)) != HUSH_OK)
		goto out;
	/* Multi-line values are also masked line by line, because the
	 * engine sees one line at a time. Each line gets its own set. */
	if (memchr(value, '\n', len) != NULL) {
		for (start = 0; start < len; start = i + 1) {
			const uint8_t *nl = memchr(value + start, '\n',
			    len - start);
			size_t e;

			i = nl != NULL ? (size_t)(nl - value) : len;
			e = i;
			if (e > start && value[e - 1] == '\r')
				e--;
			secbuf_clear(es.arena);
			es.n = 0;
			if (e - start >= minlen &&
			    (r = enc_one(&es, value + start, e - start,
			    tmp)) != HUSH_OK)
				goto out;
		}
	}
	r = HUSH_OK;
out:
	secbuf_free(es.arena);
	secbuf_free(tmp);
	return r;
}

/* Vectorscan */

void
scan_relax(const char *p, char *out)
{
	size_t i = 0, o = 0, n = strlen(p), j, k;
	unsigned long m;
	bool cls = false, quant = false;

	while (i < n) {
		char c = p[i];

		if (c == '\\' && i + 1 < n && p[i + 1] == 'Q') {
			/* Quoted text is literal to its \E: braces too. */
			quant = false;
			while (i < n && !(p[i] == '\\' && i + 1 < n &&
			    p[i + 1] == 'E'))
				out[o++] = p[i++];
			continue;
		}
		if (c == '\\' && i + 1 < n) {
			quant = false;
			out[o++] = p[i++];
			out[o++] = p[i++];
			/* \x{..}, \p{..}, \g{..}: braces that are no repeat */
			if (strchr("xopPgkN", p[i - 1]) != NULL && i < n &&
			    p[i] == '{')
				while (i < n && (out[o++] = p[i++]) != '}')
					;
			continue;
		}
		if (cls) {
			cls = c != ']';
			out[o++] = p[i++];
			continue;
		}
		if (quant && c == '+') {
			quant = false;	/* possessive: plain is a superset */
			i++;
			continue;
		}
		if (quant && c == '?') {
			quant = false;	/* lazy: the same matches */
			out[o++] = p[i++];
			continue;
		}
		quant = false;
		if (c == '[') {
			cls = true;
			out[o++] = p[i++];
			if (i < n && p[i] == '^')
				out[o++] = p[i++];
			if (i < n && p[i] == ']')
				out[o++] = p[i++];	/* a literal ']' first */
			continue;
		}
		if (c == '(' && i + 2 < n && p[i + 1] == '?' &&
		    (p[i + 2] == '|' || p[i + 2] == '>')) {
			/* Branch reset only renumbers groups and an atomic
			 * group only forbids backtracking: (?: is a superset
			 * of both, and Vectorscan takes neither. */
			out[o++] = '(';
			out[o++] = '?';
			out[o++] = ':';
			i += 3;
			continue;
		}
		if (c == '{') {
			for (j = i + 1, m = 0; j < n && j < i + 7 && p[j] >= '0' &&
			    p[j] <= '9'; j++)
				m = m * 10 + (unsigned long)(p[j] - '0');
			k = j;
			if (j > i + 1 && k < n && p[k] == ',')
				for (k++; k < n && p[k] >= '0' && p[k] <= '9'; k++)
					;
			if (j > i + 1 && k < n && p[k] == '}') {
				if (m > REDACT_HS_MIN_REPEAT)
					m = REDACT_HS_MIN_REPEAT;
				o += (size_t)snprintf(out + o, 8, "{%lu,}", m);
				i = k + 1;
				quant = true;
				continue;
			}
		}
		if (c == '*' || c == '+' || c == '?')
			quant = true;
		out[o++] = p[i++];
	}
	out[o] = '\0';
}

#ifdef HUSH_HAVE_HS
/*
 * Anchors to the subject's edges mean the line in PCRE2 and the whole
 * batch in Vectorscan: such rules stay with the keyword automaton.
 */
static bool
hs_unsuitable(const struct rule *ru)
{
	const char *p;

	if (ru->pem)
		return true;	/* its BEGIN line alone must trigger it */
	for (p = ru->pattern; (p = strchr(p, '\\')) != NULL && p[1] != '\0';
	    p += 2)
		if (strchr("AzZG", p[1]) != NULL)
			return true;
	return false;
}

/* A keyword as a Vectorscan literal: every byte as \xHH. */
static char *
hs_literal(const char *kw)
{
	size_t n = strlen(kw), i;
	char *o;

	if ((o = malloc(4 * n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		snprintf(o + 4 * i, 5, "\\x%02x", (unsigned char)kw[i]);
	o[4 * n] = '\0';
	return o;
}

struct hs_set {
	char		**ex;
	unsigned	 *fl;
	unsigned	 *ids;
	bool		 *kw;		/* a keyword, not the rule's pattern */
	size_t		  n;
	size_t		  cap;
};

static bool
hs_set_add(struct hs_set *hs, char *ex, unsigned fl, unsigned id, bool kw)
{
	if (ex == NULL)
		return false;
	if (hs->n == hs->cap) {
		size_t nc = hs->cap ? 2 * hs->cap : 256;
		char **e = realloc(hs->ex, nc * sizeof(*e));
		unsigned *f, *d;
		bool *k;

		if (e != NULL)
			hs->ex = e;
		f = e != NULL ? realloc(hs->fl, nc * sizeof(*f)) : NULL;
		if (f != NULL)
			hs->fl = f;
		d = f != NULL ? realloc(hs->ids, nc * sizeof(*d)) : NULL;
		if (d != NULL)
			hs->ids = d;
		k = d != NULL ? realloc(hs->kw, nc * sizeof(*k)) : NULL;
		if (k == NULL) {
			free(ex);
			return false;
		}
		hs->kw = k;
		hs->cap = nc;
	}
	hs->ex[hs->n] = ex;
	hs->fl[hs->n] = fl;
	hs->ids[hs->n] = id;
	hs->kw[hs->n] = kw;
	hs->n++;
	return true;
}

/* Removes entry i; a rule's pattern gives way to its keywords. */
static bool
hs_set_fallback(struct hs_set *hs, const struct redact_rules *rules,
    size_t i)
{
	unsigned id = hs->ids[i];
	const struct rule *ru = id != SCAN_HS_ESCAPE ? &rules->rules[id] :
	    NULL;
	bool kw = hs->kw[i];
	size_t k;

	free(hs->ex[i]);
	hs->n--;
	hs->ex[i] = hs->ex[hs->n];
	hs->fl[i] = hs->fl[hs->n];
	hs->ids[i] = hs->ids[hs->n];
	hs->kw[i] = hs->kw[hs->n];
	for (k = 0; ru != NULL && !kw && k < ru->nkeywords; k++)
		if (!hs_set_add(hs, hs_literal(ru->keywords[k]),
		    HS_FLAG_CASELESS, id, true))
			return false;
	return true;
}

/*
 * The expressions for the built-in rules (builtin) or the others: each
 * rule's relaxed pattern, or its keywords as literals where the pattern
 * does not suit (hs_unsuitable).
 */
static bool
hs_set_rules(struct hs_set *hs, const struct redact_rules *rules,
    bool builtin)
{
	size_t i, j;

	/* A line with escaped text needs a look whatever rule matches on
	 * it (stream.c decodes it: unescape.c); a superset of what
	 * unescape_wanted() finds. */
	if (builtin && !hs_set_add(hs, strdup("\\\\(?:[\"\\\\/nrtbf]|"
	    "u[0-9A-Fa-f]{4})|%[0-9A-Fa-f]{2}"), 0, SCAN_HS_ESCAPE, true))
		return false;

	for (i = 0; i < rules->nrules; i++) {
		const struct rule *ru = &rules->rules[i];
		char *ex;

		if (ru->builtin != builtin)
			continue;
		if (hs_unsuitable(ru)) {
			/* A rule's keywords say where it runs as well. */
			for (j = 0; j < ru->nkeywords; j++)
				if (!hs_set_add(hs, hs_literal(ru->keywords[j]),
				    HS_FLAG_CASELESS, (unsigned)i, true))
					return false;
			continue;
		}
		if ((ex = malloc(2 * strlen(ru->pattern) + 1)) == NULL)
			return false;
		scan_relax(ru->pattern, ex);
		/* Prefilter mode takes lookarounds and back references as
		 * a superset, and multi-line mode makes ^ and $ the line's
		 * edges inside a batch, as they are in PCRE2's line. */
		if (!hs_set_add(hs, ex, HS_FLAG_PREFILTER | HS_FLAG_MULTILINE,
		    (unsigned)i, false))
			return false;
	}
	return true;
}

static void
hs_set_free(struct hs_set *hs)
{
	size_t j;

	for (j = 0; j < hs->n; j++)
		free(hs->ex[j]);
	free(hs->ex);
	free(hs->fl);
	free(hs->ids);
	free(hs->kw);
	memset(hs, 0, sizeof(*hs));
}

/*
 * What identifies a database: Vectorscan's version and every expression
 * with its flags and rule index, before compiling.
 */
static void
hs_set_hash(const struct hs_set *hs, uint8_t out[SCAN_HS_HASH_BYTES])
{
	crypto_generichash_state st;
	const char *v = hs_version();
	uint32_t w[2];
	size_t j;

	crypto_generichash_init(&st, NULL, 0, SCAN_HS_HASH_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)v, strlen(v) + 1);
	for (j = 0; j < hs->n; j++) {
		w[0] = hs->ids[j];
		w[1] = hs->fl[j];
		crypto_generichash_update(&st, (const uint8_t *)w, sizeof(w));
		crypto_generichash_update(&st, (const uint8_t *)hs->ex[j],
		    strlen(hs->ex[j]) + 1);
	}
	crypto_generichash_final(&st, out, SCAN_HS_HASH_BYTES);
}

/*
 * Compiles the set (for plat, NULL for this machine). A pattern it still
 * cannot take, or one that matches the empty string, runs where its
 * keywords are (without keywords, on every line): the compile error names
 * one; then every pattern is checked once, so a pack with many such rules
 * compiles twice, not once per rule. NULL when nothing compiles.
 */
static hs_database_t *
hs_set_compile(struct hs_set *hs, const struct redact_rules *rules,
    const hs_platform_info_t *plat)
{
	hs_compile_error_t *ce = NULL;
	hs_expr_info_t *info;
	hs_database_t *db = NULL;
	bool classified = false;
	size_t i;

	while (hs->n > 0 && hs_compile_multi((const char *const *)hs->ex,
	    hs->fl, hs->ids, (unsigned)hs->n, HS_MODE_BLOCK, plat, &db, &ce) !=
	    HS_SUCCESS) {
		int e = ce != NULL ? ce->expression : -1;

		hs_free_compile_error(ce);
		ce = NULL;
		db = NULL;
		if (e < 0 || (size_t)e >= hs->n)
			return NULL;	/* not one pattern's fault */
		if (!classified) {
			classified = true;
			for (i = hs->n; i-- > 0;) {
				info = NULL;
				if (hs->kw[i] || hs_expression_info(hs->ex[i],
				    hs->fl[i], &info, &ce) == HS_SUCCESS) {
					free(info);
					continue;
				}
				hs_free_compile_error(ce);
				ce = NULL;
				if (!hs_set_fallback(hs, rules, i))
					return NULL;
			}
		} else if (!hs_set_fallback(hs, rules, (size_t)e)) {
			return NULL;
		}
	}
	return db;
}

/* Frees the built-in rules' database, however it was allocated. */
static void
hs_db_free(struct scan *sc)
{
	if (sc->hs_db != NULL && sc->hs_db_map > 0)
		(void)munmap(sc->hs_db, sc->hs_db_map);
	else if (sc->hs_db != NULL)
		hs_free_database(sc->hs_db);
	sc->hs_db = NULL;
	sc->hs_db_map = 0;
}

/*
 * Deserializes the embedded database into memory mapped with its pages
 * already present: written page by page, the 600 KB database took some
 * 150 page faults, a quarter of hush-redact's start-up on a VM where a
 * fault is dear. *mapp is the mapping's length. NULL on failure.
 */
#ifndef HUSH_HSDB_GENERATOR
static hs_database_t *
hs_db_load(const char *bytes, size_t len, size_t *mapp)
{
	size_t sz;
	void *mem;

	if (hs_serialized_database_size(bytes, len, &sz) != HS_SUCCESS ||
	    sz == 0)
		return NULL;
	mem = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (mem == MAP_FAILED)
		return NULL;
	if (hs_deserialize_database_at(bytes, len, mem) != HS_SUCCESS) {
		(void)munmap(mem, sz);
		return NULL;
	}
	*mapp = sz;
	return mem;
}
#endif

/* The built-in pack's database, compiled at build time (tools/). */
#ifndef HUSH_HSDB_GENERATOR
extern const unsigned char redact_hs_builtin_db[];
extern const size_t redact_hs_builtin_db_len;
extern const unsigned char redact_hs_builtin_hash[SCAN_HS_HASH_BYTES];
extern const unsigned char redact_hs_builtin_in[];	/* per rule: 0/1 */
extern const size_t redact_hs_builtin_nrules;
#endif

/*
 * The built-in rules' database: the one compiled at build time when it
 * was made from exactly these expressions (no built-in rule disabled, the
 * same Vectorscan) and loads on this CPU, else compiled now.
 */
static hs_database_t *
hs_builtin_db(struct redact_rules *rules, struct hs_set *hs, bool *embedded)
{
	*embedded = false;
#ifndef HUSH_HSDB_GENERATOR
	uint8_t h[SCAN_HS_HASH_BYTES];
	hs_database_t *db = NULL;
	hs_scratch_t *scr = NULL;
	size_t i, n = 0, map = 0;

	hs_set_hash(hs, h);
	for (i = 0; i < rules->nrules; i++)
		n += rules->rules[i].builtin;
	if (redact_hs_builtin_db_len > 0 && n == redact_hs_builtin_nrules &&
	    sodium_memcmp(h, redact_hs_builtin_hash, sizeof(h)) == 0 &&
	    (db = hs_db_load((const char *)redact_hs_builtin_db,
	    redact_hs_builtin_db_len, &map)) != NULL) {
		if (hs_alloc_scratch(db, &scr) == HS_SUCCESS) {
			hs_free_scratch(scr);
			for (i = 0; i < rules->nrules; i++)
				if (rules->rules[i].builtin)
					rules->rules[i].hs =
					    redact_hs_builtin_in[i] != 0;
			*embedded = true;
			rules->scan.hs_db_map = map;
			return db;
		}
		(void)munmap(db, map);	/* built for another CPU */
	}
#endif
	return hs_set_compile(hs, rules, NULL);
}

static void
hs_mark(struct redact_rules *rules, const struct hs_set *hs)
{
	size_t j;

	for (j = 0; j < hs->n; j++)
		if (hs->ids[j] != SCAN_HS_ESCAPE)
			rules->rules[hs->ids[j]].hs = true;
}

static void
hs_build(struct redact_rules *rules)
{
	struct scan *sc = &rules->scan;
	struct hs_set hs;
	hs_database_t *db;
	size_t j;

	memset(&hs, 0, sizeof(hs));
	if (rules->reference)
		return;
	/* Built-in rules, then the user's: each its own database. */
	if (!hs_set_rules(&hs, rules, true))
		goto fail;
	if (hs.n > 0) {
		bool embedded;

		if ((db = hs_builtin_db(rules, &hs, &embedded)) == NULL)
			goto fail;
		if (!embedded)
			hs_mark(rules, &hs);
		sc->hs_db = db;
	}
	hs_set_free(&hs);
	if (!hs_set_rules(&hs, rules, false))
		goto fail;
	if (hs.n > 0) {
		if ((db = hs_set_compile(&hs, rules, NULL)) == NULL)
			goto fail;
		hs_mark(rules, &hs);
		sc->hs_db2 = db;
	}
	hs_set_free(&hs);
	for (j = 0; j < rules->nrules; j++)
		if (rules->rules[j].hs)
			sc->nhs++;
	return;
fail:
	/* No Vectorscan at all: the reference engine, whole. */
	hs_set_free(&hs);
	hs_db_free(sc);
	if (sc->hs_db2 != NULL)
		hs_free_database(sc->hs_db2);
	sc->hs_db2 = NULL;
	for (j = 0; j < rules->nrules; j++)
		rules->rules[j].hs = false;
}

int
scan_hs_serialize(struct redact_rules *rules, char **bytesp, size_t *lenp,
    uint8_t hash[SCAN_HS_HASH_BYTES], uint8_t *in)
{
	hs_platform_info_t plat;
	struct hs_set hs;
	hs_database_t *db = NULL;
	size_t j;
	int r = HUSH_ERR_INTERNAL;

	/* Any x86-64 or the like: the build machine's CPU may be newer
	 * than the one that runs it. */
	memset(&plat, 0, sizeof(plat));
	plat.tune = HS_TUNE_FAMILY_GENERIC;
	memset(&hs, 0, sizeof(hs));
	if (!hs_set_rules(&hs, rules, true))
		goto out;
	hs_set_hash(&hs, hash);
	if (hs.n == 0 || (db = hs_set_compile(&hs, rules, &plat)) == NULL)
		goto out;
	for (j = 0; j < rules->nrules; j++)
		in[j] = 0;
	for (j = 0; j < hs.n; j++)
		if (hs.ids[j] != SCAN_HS_ESCAPE)
			in[hs.ids[j]] = 1;
	if (hs_serialize_database(db, bytesp, lenp) == HS_SUCCESS)
		r = HUSH_OK;
out:
	if (db != NULL)
		hs_free_database(db);
	hs_set_free(&hs);
	return r;
}

struct hs_tramp {
	scan_hs_fn	 fn;
	void		*arg;
};

static int
hs_on_match(unsigned int id, unsigned long long from, unsigned long long to,
    unsigned int flags, void *ctx)
{
	struct hs_tramp *t = ctx;

	(void)from;
	(void)flags;
	return t->fn(t->arg, id, (size_t)to);
}
#endif

void *
scan_hs_scratch_new(const struct scan *sc)
{
#ifdef HUSH_HAVE_HS
	hs_scratch_t *s = NULL;

	/* One scratch fits both databases. */
	if ((sc->hs_db != NULL && hs_alloc_scratch(sc->hs_db, &s) !=
	    HS_SUCCESS) || (sc->hs_db2 != NULL &&
	    hs_alloc_scratch(sc->hs_db2, &s) != HS_SUCCESS)) {
		if (s != NULL)
			hs_free_scratch(s);
		return NULL;
	}
	return s;
#else
	(void)sc;
	return NULL;
#endif
}

void
scan_hs_scratch_free(void *scratch)
{
#ifdef HUSH_HAVE_HS
	if (scratch != NULL)
		hs_free_scratch(scratch);
#else
	(void)scratch;
#endif
}

int
scan_hs_run(const struct scan *sc, int which, void *scratch,
    const uint8_t *p, size_t n, scan_hs_fn fn, void *arg)
{
#ifdef HUSH_HAVE_HS
	struct hs_tramp t = { fn, arg };
	void *db = which == 0 ? sc->hs_db : sc->hs_db2;
	hs_error_t e;

	if (db == NULL)
		return HUSH_OK;
	if (scratch == NULL || n > UINT_MAX)
		return HUSH_ERR_INTERNAL;
	e = hs_scan(db, (const char *)p, (unsigned)n, 0, scratch,
	    hs_on_match, &t);
	if (e == HS_SUCCESS)
		return HUSH_OK;
	return e == HS_SCAN_TERMINATED ? HUSH_ERR_IO : HUSH_ERR_INTERNAL;
#else
	(void)sc;
	(void)which;
	(void)scratch;
	(void)p;
	(void)n;
	(void)fn;
	(void)arg;
	return HUSH_ERR_INTERNAL;
#endif
}

/* Building the automaton */

struct tnode {
	uint32_t	 child;		/* first child, or SCAN_NONE */
	uint32_t	 sib;		/* next sibling, or SCAN_NONE */
	uint8_t		 cls;		/* byte class of the edge into here */
	uint32_t	 depth;
};

/*
 * The filter's index for three byte classes: the classes themselves when
 * they fit 7 bits (no collisions, and one shift per byte in the scan),
 * else a multiplicative hash.
 */
static inline uint32_t
scan_index(bool direct, uint32_t a, uint32_t b, uint32_t c)
{
	if (direct)
		return a << 14 | b << 7 | c;
	return ((a * 0x9e3779b1u) ^ (b * 0x85ebca6bu) ^ (c * 0xc2b2ae35u)) >>
	    11;
}

struct builder {
	struct redact_rules *rules;
	struct pat	*pats;
	size_t		 npats;
	size_t		 cap;
	struct secbuf	*exact;		/* grows by copy, never realloc */
	struct secbuf	*folded;	/* keyword and literal bytes, folded */
	uint32_t	 cur_lit;
};

static int
bld_grow(struct secbuf **sbp, size_t need)
{
	struct secbuf *n;
	size_t cap = secbuf_cap(*sbp);

	if (secbuf_len(*sbp) + need <= cap)
		return HUSH_OK;
	while (cap < secbuf_len(*sbp) + need)
		cap *= 2;
	if ((n = secbuf_new(cap)) == NULL)
		return HUSH_ERR_NOMEM;
	(void)secbuf_append(n, secbuf_data(*sbp), secbuf_len(*sbp));
	secbuf_free(*sbp);
	*sbp = n;
	return HUSH_OK;
}

static int
bld_add(struct builder *b, enum pat_kind kind, uint32_t id,
    const uint8_t *p, size_t len, bool b64)
{
	struct pat *pt;
	size_t i;
	int r;

	if (len == 0 || len > UINT32_MAX / 2)
		return HUSH_ERR_INVALID;
	if (b->npats == b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 64;

		if ((pt = realloc(b->pats, nc * sizeof(*pt))) == NULL)
			return HUSH_ERR_NOMEM;
		b->pats = pt;
		b->cap = nc;
	}
	if ((r = bld_grow(&b->folded, len)) != HUSH_OK ||
	    (r = bld_grow(&b->exact, kind == PAT_LITERAL ? len : 0)) !=
	    HUSH_OK)
		return r;
	pt = &b->pats[b->npats];
	memset(pt, 0, sizeof(*pt));
	pt->kind = kind;
	pt->id = id;
	pt->len = (uint32_t)len;
	pt->b64 = b64;
	pt->next = SCAN_NONE;
	/* off first points into folded (for building), then into exact. */
	pt->off = (uint32_t)secbuf_len(b->folded);
	{
		uint8_t *f = secbuf_mut(b->folded) + secbuf_len(b->folded);

		for (i = 0; i < len; i++)
			f[i] = fold(p[i]);
		secbuf_set_len(b->folded, secbuf_len(b->folded) + len);
	}
	if (kind == PAT_LITERAL) {
		(void)secbuf_append(b->exact, p, len);
		if (len > b->rules->scan.longest)
			b->rules->scan.longest = len;
	}
	b->npats++;
	return HUSH_OK;
}

static int
bld_on_enc(void *arg, const uint8_t *p, size_t len, bool b64)
{
	struct builder *b = arg;

	return bld_add(b, PAT_LITERAL, b->cur_lit, p, len, b64);
}

int
scan_build(struct redact_rules *rules)
{
	struct scan *sc = &rules->scan;
	struct builder b;
	struct secbuf *tmp = NULL;
	uint32_t *T, *fail = NULL, *queue = NULL, *exact_off = NULL;
	struct tnode *trie;
	uint8_t seen[256];
	size_t i, j, total = 0, maxstates, qh = 0, qt = 0, eoff = 0;
	uint32_t nstates = 1, nc;
	int r = HUSH_ERR_NOMEM;

	memset(&b, 0, sizeof(b));
	b.rules = rules;
#ifdef HUSH_HAVE_HS
	hs_build(rules);
#endif
	if ((b.folded = secbuf_new(4096)) == NULL ||
	    (b.exact = secbuf_new(4096)) == NULL)
		goto out;
	for (i = 0; i < rules->nrules; i++)
		for (j = 0; !rules->rules[i].hs &&
		    j < rules->rules[i].nkeywords; j++) {
			const char *k = rules->rules[i].keywords[j];

			if ((r = bld_add(&b, PAT_KEYWORD, (uint32_t)i,
			    (const uint8_t *)k, strlen(k), false)) != HUSH_OK)
				goto out;
		}
	for (i = 0; i < rules->nlits; i++) {
		b.cur_lit = (uint32_t)i;
		if ((r = scan_encodings(secbuf_data(rules->lits[i].value),
		    secbuf_len(rules->lits[i].value), rules->min_literal,
		    bld_on_enc, &b)) != HUSH_OK)
			goto out;
	}

	/* Nothing for the automaton (every rule in Vectorscan, no literal
	 * values): no table, and scan_run returns at once. */
	if (b.npats == 0) {
		r = HUSH_OK;
		goto out;
	}
	/* Byte classes: one per distinct folded byte used, 0 for the rest
	 * (including '\n', which no pattern contains). */
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < secbuf_len(b.folded); i++)
		seen[secbuf_data(b.folded)[i]] = 1;
	nc = 1;
	{
		uint8_t id[256];

		memset(id, 0, sizeof(id));
		for (i = 0; i < 256; i++)
			if (seen[i])
				id[i] = (uint8_t)nc++;
		for (i = 0; i < 256; i++)
			sc->cls[i] = id[fold((uint8_t)i)];
	}
	sc->nclass = nc;

	for (i = 0; i < b.npats; i++)
		total += b.pats[i].len;
	maxstates = total + 1;
	r = HUSH_ERR_TOO_LARGE;
	if (maxstates > REDACT_MAX_STATES ||
	    maxstates * nc > (size_t)SCAN_OUT)
		goto out;
	r = HUSH_ERR_NOMEM;
	/* The trie first, sparse (its edges spell the folded secrets, so it
	 * lives in secure memory too), then a table of the exact size. */
	if ((tmp = secbuf_new(maxstates * sizeof(struct tnode))) == NULL)
		goto out;
	trie = (struct tnode *)(void *)secbuf_mut(tmp);
	trie[0].child = trie[0].sib = SCAN_NONE;
	trie[0].depth = 0;
	if ((sc->own = malloc(maxstates * sizeof(uint32_t))) == NULL ||
	    (sc->dict = calloc(maxstates, sizeof(uint32_t))) == NULL ||
	    (fail = calloc(maxstates, sizeof(uint32_t))) == NULL ||
	    (queue = malloc(maxstates * sizeof(uint32_t))) == NULL ||
	    (exact_off = malloc((b.npats + 1) * sizeof(uint32_t))) == NULL)
		goto out;
	for (i = 0; i < maxstates; i++)
		sc->own[i] = SCAN_NONE;
	sc->direct = nc <= 128;
	if ((sc->filter = secbuf_new(SCAN_FILTER_BITS / 8)) == NULL)
		goto out;
	secbuf_set_len(sc->filter, SCAN_FILTER_BITS / 8);
	for (i = 0; i < b.npats; i++) {
		const uint8_t *f = secbuf_data(b.folded) + b.pats[i].off;
		uint32_t s = 0, t, h;

		if (b.pats[i].len < 3) {
			sc->short_pats = true;
		} else {
			h = scan_index(sc->direct, sc->cls[f[0]],
			    sc->cls[f[1]], sc->cls[f[2]]);
			secbuf_mut(sc->filter)[h >> 3] |=
			    (uint8_t)(1u << (h & 7));
		}

		for (j = 0; j < b.pats[i].len; j++) {
			uint8_t c = sc->cls[f[j]];

			for (t = trie[s].child; t != SCAN_NONE &&
			    trie[t].cls != c; t = trie[t].sib)
				;
			if (t == SCAN_NONE) {
				t = nstates++;
				trie[t].cls = c;
				trie[t].child = SCAN_NONE;
				trie[t].sib = trie[s].child;
				trie[t].depth = 0;
				trie[s].child = t;
			}
			s = t;
		}
		b.pats[i].next = sc->own[s];
		sc->own[s] = (uint32_t)i;
		/* Literal offsets switch from folded to exact bytes. */
		if (b.pats[i].kind == PAT_LITERAL) {
			exact_off[i] = (uint32_t)eoff;
			eoff += b.pats[i].len;
		}
	}
	for (i = 0; i < b.npats; i++)
		if (b.pats[i].kind == PAT_LITERAL)
			b.pats[i].off = exact_off[i];

	/* States are renumbered breadth first, so the shallow ones, where
	 * the scan spends nearly all its time, share a few cache lines. */
	queue[qt++] = 0;
	while (qh < qt) {
		uint32_t s = queue[qh++], t;

		for (t = trie[s].child; t != SCAN_NONE; t = trie[t].sib) {
			trie[t].depth = trie[s].depth + 1;
			queue[qt++] = t;
		}
	}
	/* In this order depth never decreases: levels[d] is the first state
	 * of depth d, so "depth(s) >= d" is "s >= levels[d]". */
	sc->maxdepth = trie[queue[nstates - 1]].depth;
	if ((sc->levels = malloc((sc->maxdepth + 2) * sizeof(uint32_t))) ==
	    NULL)
		goto out;
	for (i = 0, j = 0; j <= sc->maxdepth + 1; j++) {
		while (i < nstates && trie[queue[i]].depth < j)
			i++;
		sc->levels[j] = (uint32_t)(i * nc);
	}
	for (i = 0; i < nstates; i++)
		fail[queue[i]] = (uint32_t)i;	/* fail[] as old -> new */
	for (i = 0; i < nstates; i++)
		sc->dict[fail[i]] = sc->own[i];	/* dict[] as scratch */
	memcpy(sc->own, sc->dict, nstates * sizeof(uint32_t));

	/* Goto edges into the table; 0 means "no edge", since no edge leads
	 * back to the root. */
	if ((sc->table = secbuf_new((size_t)nstates * nc *
	    sizeof(uint32_t))) == NULL)
		goto out;
	secbuf_set_len(sc->table, (size_t)nstates * nc * sizeof(uint32_t));
	T = (uint32_t *)(void *)secbuf_mut(sc->table);
	for (i = 0; i < nstates; i++) {
		uint32_t t;

		for (t = trie[i].child; t != SCAN_NONE; t = trie[t].sib)
			T[(size_t)fail[i] * nc + trie[t].cls] = fail[t];
	}
	memset(fail, 0, nstates * sizeof(uint32_t));
	memset(sc->dict, 0, nstates * sizeof(uint32_t));
	qh = qt = 0;

	/* Breadth first: failure links, then the full DFA. */
	for (j = 0; j < nc; j++) {
		uint32_t t = T[j];

		if (t != 0) {
			fail[t] = 0;
			queue[qt++] = t;
		}
	}
	while (qh < qt) {
		uint32_t s = queue[qh++];

		sc->dict[s] = sc->own[fail[s]] != SCAN_NONE ? fail[s] :
		    sc->dict[fail[s]];
		for (j = 0; j < nc; j++) {
			uint32_t t = T[(size_t)s * nc + j];

			if (t != 0) {
				fail[t] = T[(size_t)fail[s] * nc + j];
				queue[qt++] = t;
			} else {
				T[(size_t)s * nc + j] =
				    T[(size_t)fail[s] * nc + j];
			}
		}
	}
	/* Premultiply, and flag targets with output. */
	for (i = 0; i < (size_t)nstates * nc; i++) {
		uint32_t t = T[i];

		T[i] = t * nc;
		if (sc->own[t] != SCAN_NONE || sc->dict[t] != 0)
			T[i] |= SCAN_OUT;
	}
	sc->nstates = nstates;
	sc->pats = b.pats;
	sc->npats = b.npats;
	b.pats = NULL;
	sc->exact = b.exact;
	b.exact = NULL;
	r = HUSH_OK;
out:
	free(fail);
	free(queue);
	free(exact_off);
	free(b.pats);
	secbuf_free(b.exact);
	secbuf_free(b.folded);
	secbuf_free(tmp);
	if (r != HUSH_OK)
		scan_release(sc);
	return r;
}

void
scan_release(struct scan *sc)
{
#ifdef HUSH_HAVE_HS
	hs_db_free(sc);
	if (sc->hs_db2 != NULL)
		hs_free_database(sc->hs_db2);
#endif
	sc->hs_db = sc->hs_db2 = NULL;
	sc->nhs = 0;
	free(sc->own);
	free(sc->dict);
	free(sc->pats);
	free(sc->levels);
	secbuf_free(sc->table);
	secbuf_free(sc->exact);
	secbuf_free(sc->filter);
	sc->levels = NULL;
	sc->filter = NULL;
	sc->short_pats = false;
	sc->own = sc->dict = NULL;
	sc->pats = NULL;
	sc->table = sc->exact = NULL;
	sc->npats = 0;
	sc->nstates = 0;
}

/* Walks the DFA from the root at p[j] and reports the patterns that
 * start exactly there. */
static void
scan_from(const struct scan *sc, const uint32_t *T, const uint8_t *p,
    size_t n, size_t j, scan_hit_fn fn, void *arg)
{
	const uint8_t *cls = sc->cls;
	uint32_t st = 0, q;
	size_t k, d;

	for (k = j, d = 1; k < n && d <= sc->maxdepth; k++, d++) {
		uint32_t t = T[st + cls[p[k]]];

		st = t & ~SCAN_OUT;
		if (st < sc->levels[d])
			break;		/* no longer a prefix begun at j */
		/* Own outputs are as long as the state is deep; shorter
		 * ones begin later and are found from their own start. */
		if (t & SCAN_OUT)
			for (q = sc->own[st / sc->nclass]; q != SCAN_NONE;
			    q = sc->pats[q].next)
				fn(arg, &sc->pats[q], k + 1);
	}
}

void
scan_run(const struct scan *sc, const uint8_t *p, size_t n, scan_hit_fn fn,
    void *arg)
{
	const uint32_t *T;
	const uint8_t *cls = sc->cls, *F;
	uint32_t st = 0, c0, c1, c2;
	size_t i;

	if (sc->table == NULL || sc->npats == 0)
		return;
	T = (const uint32_t *)(const void *)secbuf_data(sc->table);
	if (!sc->short_pats) {
		if (n < 3)
			return;
		F = secbuf_data(sc->filter);
		c1 = cls[p[0]];
		c2 = cls[p[1]];
		if (sc->direct) {
			uint32_t h = c1 << 7 | c2;

			/* The hot loop: a shift, an or and a bit test. */
			for (i = 0; i + 2 < n; i++) {
				h = ((h << 7) | cls[p[i + 2]]) &
				    (SCAN_FILTER_BITS - 1);
				if (F[h >> 3] & (1u << (h & 7)))
					scan_from(sc, T, p, n, i, fn, arg);
			}
			return;
		}
		for (i = 0; i + 2 < n; i++) {
			uint32_t h;

			c0 = c1;
			c1 = c2;
			c2 = cls[p[i + 2]];
			h = scan_index(false, c0, c1, c2);
			if (F[h >> 3] & (1u << (h & 7)))
				scan_from(sc, T, p, n, i, fn, arg);
		}
		return;
	}
	for (i = 0; i < n; i++) {
		uint32_t t = T[st + cls[p[i]]];

		st = t & ~SCAN_OUT;
		if (t & SCAN_OUT) {
			uint32_t s = st / sc->nclass, q;

			/* Own outputs, then each shorter suffix's; the root
			 * has none (no pattern is empty). */
			for (; s != 0; s = sc->dict[s])
				for (q = sc->own[s]; q != SCAN_NONE;
				    q = sc->pats[q].next)
					fn(arg, &sc->pats[q], i + 1);
		}
	}
}
