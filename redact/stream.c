/*
 * The streaming engine: bytes in, redacted bytes out, no I/O.
 *
 * Input is cut into lines at '\n' and nowhere else, so the output cannot
 * depend on how the input was chunked. A line that reaches max_line bytes
 * without a newline is processed in windows of max_line bytes that overlap
 * by REDACT_WINDOW_OVERLAP (at most half a window): a window emits only up
 * to its cut point, and a secret that starts before the cut is masked to
 * its end, so a secret no longer than the overlap is always seen whole.
 * Window edges depend only on the bytes of the line, never on the feeds.
 *
 * Where to look comes from the matchers of scan.c. Vectorscan scans the
 * complete lines of a feed in one call (a batch, up to REDACT_BATCH_BYTES)
 * and names, per line, the rules whose relaxed pattern may match there;
 * a line that is held, windowed or trimmed after a PEM block is scanned
 * by itself. Either way a rule runs on a line only if one of its keywords
 * is on it, from REDACT_CTX_BEFORE before the first one, exactly as the
 * keyword automaton alone would run it: Vectorscan only skips the runs
 * that cannot match, so the output is the reference engine's.
 *
 * A PEM private key is masked from BEGIN to END across lines; while its
 * END is missing every line is swallowed, up to REDACT_PEM_MAX_BYTES or
 * REDACT_PEM_MAX_LINES, after which the engine gives up on the block
 * (everything it held was masked) and resumes. Until its body reaches
 * REDACT_PEM_MIN_BODY base64 characters the block is held, not shown: an
 * END before that means it was not a key, and its lines go out as
 * ordinary lines.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "conf/hush_err.h"
#include "redact/internal.h"
#include "redact/redact.h"
#include "redact/unescape.h"

#define STREAM_RULE_ERROR	UINT32_MAX	/* a span masked because of an error */
#define STREAM_HITS_FIRST	256	/* hits a batch starts with room for */

/* A rule Vectorscan names for the line that ends at line_end. */
struct hit {
	size_t		 line_end;	/* offset of the line's '\n' in the batch */
	uint32_t	 rule;
};

struct span {
	size_t		 s;
	size_t		 e;
	uint32_t	 rule;		/* rule index, nrules + literal index */
	bool		 pem_open;	/* an unterminated PEM block */
	bool		 literal;	/* rule names a literal value */
};

struct redact_stream {
	const struct redact_rules *rules;
	redact_sink_fn	 sink;
	void		*arg;
	redact_finding_fn find;
	void		*farg;
	uint8_t		*buf;		/* the held part of the current line */
	size_t		 len;
	size_t		 cap;		/* max_line */
	size_t		 shown;		/* of buf, emitted at an idle cut */
	size_t		 overlap;
	uint64_t	 line;		/* number of the current line, from 1 */
	bool		 in_pem;	/* inside a PEM block, looking for END */
	bool		 after_pem;	/* this line's END was swallowed */
	bool		 pem_pending;	/* a BEGIN line and body held in phold */
	bool		 no_pem_begin;	/* replaying held lines: no new block */
	uint8_t		*phold;		/* REDACT_PEM_HOLD_BYTES, lines with '\n' */
	size_t		 phlen;
	size_t		 phbegin;	/* length of the BEGIN line in phold */
	size_t		 pb64;		/* base64 characters of the body */
	uint64_t	 phlines;	/* lines held */
	size_t		 pem_bytes;
	size_t		 pem_lines;
	struct span	*sp;
	size_t		 nsp;
	size_t		 spcap;
	bool		 sp_nomem;
	size_t		*first;		/* per rule: first keyword hit */
	uint32_t	*trig;		/* rules hit on this segment */
	size_t		 ntrig;
	const uint8_t	*seg;		/* segment being scanned */
	size_t		 seglen;
	struct rules_md	*md;
	char		*mark;		/* rendered marker */
	size_t		 markcap;
	uint8_t		*ubuf[UNESCAPE_LEVELS];	/* decoded views, cap bytes */
	uint32_t	*umap[UNESCAPE_LEVELS];	/* view -> line offsets */
	/* How far buf and each view were ever written: only that is wiped
	 * at the end, since wiping (and so faulting in) a whole untouched
	 * megabyte was a tenth of hush-redact's start-up. */
	size_t		 bufdirty;
	size_t		 udirty[UNESCAPE_LEVELS];
	const uint8_t	*pend;		/* clean input not yet passed on */
	size_t		 pendlen;
	int		 err;
	void		*hs;		/* Vectorscan scratch, or NULL */
	uint32_t	*seen;		/* per rule: tag of the last line it hit */
	uint32_t	 tag;		/* of the line being scanned */
	uint32_t	 esc_tag;	/* of the last line with escaped text */
	uint32_t	*lrules;	/* rules Vectorscan names for this line */
	size_t		 nlrules;
	bool		 hs_failed;	/* run every rule on this line */
	bool		 hs_only;	/* Vectorscan alone says where to look */
	/* The batch: complete lines of the caller's buffer, scanned once. */
	const uint8_t	*bbase;		/* NULL: none */
	size_t		 bend;		/* hits are valid for lines before this */
	size_t		 bcur;		/* end of the line of the last hit */
	struct hit	*hits;
	struct hit	*hits2;		/* for merging two databases' hits */
	size_t		 nhits;
	size_t		 pass_start;	/* first hit of the second database */
	size_t		 hitcap;	/* grows to REDACT_BATCH_HITS */
	size_t		 hitpos;	/* first hit not yet consumed */
};

struct redact_stream *
redact_stream_new(const struct redact_rules *rules, redact_sink_fn sink,
    void *arg)
{
	struct redact_stream *s;
	size_t i;

	if (rules == NULL || !rules->compiled || sink == NULL)
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->rules = rules;
	s->sink = sink;
	s->arg = arg;
	s->cap = rules->max_line;
	s->overlap = REDACT_WINDOW_OVERLAP;
	if (rules->scan.longest + 64 > s->overlap)
		s->overlap = rules->scan.longest + 64;
	if (s->overlap > s->cap / 2)
		s->overlap = s->cap / 2;
	s->line = 1;
	s->spcap = 64;
	if ((s->buf = malloc(s->cap)) == NULL ||
	    (s->sp = malloc(s->spcap * sizeof(*s->sp))) == NULL ||
	    (s->first = malloc((rules->nrules + 1) * sizeof(size_t))) ==
	    NULL ||
	    (s->trig = malloc((rules->nrules + 1) * sizeof(uint32_t))) ==
	    NULL ||
	    (s->md = rules_md_new(rules)) == NULL) {
		redact_stream_free(s);
		return NULL;
	}
	if ((rules->scan.hs_db != NULL || rules->scan.hs_db2 != NULL) &&
	    ((s->hs = scan_hs_scratch_new(&rules->scan)) == NULL ||
	    (s->seen = calloc(rules->nrules + 1, sizeof(uint32_t))) == NULL ||
	    (s->lrules = malloc((rules->nrules + 1) * sizeof(uint32_t))) ==
	    NULL ||
	    (s->hits = malloc(STREAM_HITS_FIRST * sizeof(*s->hits))) ==
	    NULL)) {
		redact_stream_free(s);
		return NULL;
	}
	/* No literal values and every rule in Vectorscan: a line it names
	 * nothing on is clean, and runs of such lines pass in one piece. */
	s->hitcap = STREAM_HITS_FIRST;
	s->hs_only = s->hs != NULL && rules->scan.npats == 0;
	for (i = 0; s->hs_only && i < rules->nrules; i++)
		if (!rules->rules[i].hs)
			s->hs_only = false;
	for (i = 0; i <= rules->nrules; i++)
		s->first[i] = SIZE_MAX;
	return s;
}

void
redact_stream_set_finding(struct redact_stream *s, redact_finding_fn fn,
    void *arg)
{
	s->find = fn;
	s->farg = arg;
}

void
redact_stream_free(struct redact_stream *s)
{
	size_t i;

	if (s == NULL)
		return;
	if (s->buf != NULL) {
		/* Held log text may contain a secret: wipe it. */
		sodium_memzero(s->buf, s->bufdirty);
		free(s->buf);
	}
	if (s->phold != NULL) {
		sodium_memzero(s->phold, REDACT_PEM_HOLD_BYTES);
		free(s->phold);
	}
	for (i = 0; i < UNESCAPE_LEVELS; i++) {
		if (s->ubuf[i] != NULL) {
			/* A decoded view holds the secrets it showed. */
			sodium_memzero(s->ubuf[i], s->udirty[i]);
			free(s->ubuf[i]);
		}
		free(s->umap[i]);
	}
	free(s->sp);
	free(s->first);
	free(s->trig);
	free(s->seen);
	free(s->lrules);
	free(s->hits);
	free(s->hits2);
	scan_hs_scratch_free(s->hs);
	rules_md_free(s->md);
	if (s->mark != NULL) {
		sodium_memzero(s->mark, s->markcap);
		free(s->mark);
	}
	free(s);
}

/* After a write into buf[0..len). */
static void
note_dirty(struct redact_stream *s)
{
	if (s->len > s->bufdirty)
		s->bufdirty = s->len;
}

/* Output */

static int
put(struct redact_stream *s, const uint8_t *p, size_t n)
{
	if (s->err != 0)
		return s->err;
	if (n == 0)
		return HUSH_OK;
	if (s->sink(s->arg, p, n) != 0)
		s->err = HUSH_ERR_IO;
	return s->err;
}

static int
flush_pending(struct redact_stream *s)
{
	int r = HUSH_OK;

	if (s->pendlen > 0)
		r = put(s, s->pend, s->pendlen);
	s->pend = NULL;
	s->pendlen = 0;
	return r;
}

/* Emits output in order: whatever is pending goes first. */
static int
emit(struct redact_stream *s, const uint8_t *p, size_t n)
{
	int r;

	if ((r = flush_pending(s)) != HUSH_OK)
		return r;
	return put(s, p, n);
}

static const char *
span_rule_name(const struct redact_stream *s, uint32_t rule)
{
	const struct redact_rules *rs = s->rules;

	if (rule == STREAM_RULE_ERROR)
		return "redact-error";
	if (rule < rs->nrules)
		return rs->rules[rule].name;
	return rs->lits[rule - rs->nrules].name;
}

static int
mark_room(struct redact_stream *s, size_t need)
{
	char *n;
	size_t cap = s->markcap ? s->markcap : 128;

	if (need <= s->markcap)
		return HUSH_OK;
	while (cap < need)
		cap *= 2;
	if ((n = malloc(cap)) == NULL)
		return HUSH_ERR_NOMEM;
	if (s->mark != NULL) {
		sodium_memzero(s->mark, s->markcap);
		free(s->mark);
	}
	s->mark = n;
	s->markcap = cap;
	return HUSH_OK;
}

/* Renders the format for one secret and emits it. */
static int
emit_marker(struct redact_stream *s, uint32_t rule, const uint8_t *secret,
    size_t len)
{
	const char *f = s->rules->format, *name = span_rule_name(s, rule);
	size_t need = strlen(f) + 1, o = 0, i;
	char fp[REDACT_FP_CHARS + 1];
	char num[24];
	int r;

	/* Worst case: every placeholder is the longest expansion. */
	for (i = 0; f[i] != '\0'; i++)
		if (f[i] == '{')
			need += strlen(name) + sizeof(num) + REDACT_FP_CHARS;
	if ((r = mark_room(s, need)) != HUSH_OK)
		return emit(s, (const uint8_t *)"[REDACTED]", 10);
	while (*f != '\0') {
		if (strncmp(f, "{rule}", 6) == 0) {
			memcpy(s->mark + o, name, strlen(name));
			o += strlen(name);
			f += 6;
		} else if (strncmp(f, "{len}", 5) == 0) {
			int k = snprintf(num, sizeof(num), "%zu", len);

			memcpy(s->mark + o, num, (size_t)k);
			o += (size_t)k;
			f += 5;
		} else if (strncmp(f, "{fp}", 4) == 0) {
			redact_fp(s->rules->fp_key, secret, len, fp);
			memcpy(s->mark + o, fp, REDACT_FP_CHARS);
			o += REDACT_FP_CHARS;
			f += 4;
		} else {
			s->mark[o++] = *f++;
		}
	}
	return emit(s, (const uint8_t *)s->mark, o);
}

/* Finding secrets */

static void
add_span(struct redact_stream *s, size_t a, size_t b, uint32_t rule,
    bool pem_open)
{
	struct span *n;

	if (b <= a)
		return;
	if (s->nsp == s->spcap) {
		if ((n = realloc(s->sp, 2 * s->spcap * sizeof(*n))) == NULL) {
			s->sp_nomem = true;	/* fail closed below */
			return;
		}
		s->sp = n;
		s->spcap *= 2;
	}
	s->sp[s->nsp].s = a;
	s->sp[s->nsp].e = b;
	s->sp[s->nsp].rule = rule;
	s->sp[s->nsp].pem_open = pem_open;
	s->sp[s->nsp].literal = rule >= s->rules->nrules &&
	    rule != STREAM_RULE_ERROR;
	s->nsp++;
}

static bool
is_b64(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '-' ||
	    c == '_';
}

static void
on_hit(void *arg, const struct pat *pat, size_t end)
{
	struct redact_stream *s = arg;
	const struct redact_rules *rs = s->rules;
	size_t a = end - pat->len, b = end, k;

	if (pat->kind == PAT_KEYWORD) {
		if (s->first[pat->id] == SIZE_MAX) {
			s->first[pat->id] = a;
			s->trig[s->ntrig++] = pat->id;
		}
		return;
	}
	if (sodium_memcmp(s->seg + a, secbuf_data(rs->scan.exact) + pat->off,
	    pat->len) != 0)
		return;
	if (pat->b64) {
		/* The characters next to the stable part of a base64 form
		 * carry bits of the secret too: take in its whole groups. */
		for (k = 0; k < 3 && a > 0 && is_b64(s->seg[a - 1]); k++)
			a--;
		for (k = 0; k < 3 && b < s->seglen && is_b64(s->seg[b]); k++)
			b++;
		for (k = 0; k < 2 && b < s->seglen && s->seg[b] == '='; k++)
			b++;
	}
	add_span(s, a, b, (uint32_t)(rs->nrules + pat->id), false);
}

/* Where the first of rule ri's keywords is on the segment, or SIZE_MAX. */
static size_t
first_keyword(const struct redact_stream *s, const struct rule *ru)
{
	size_t best = SIZE_MAX, k, i, j, wl;

	for (k = 0; k < ru->nkeywords; k++) {
		const char *w = ru->keywords[k];	/* lower case */

		wl = strlen(w);
		for (i = 0; i + wl <= s->seglen && i < best; i++) {
			for (j = 0; j < wl; j++) {
				uint8_t c = s->seg[i + j];

				if ((c >= 'A' && c <= 'Z' ? c + 32 : c) !=
				    (uint8_t)w[j])
					break;
			}
			if (j == wl) {
				best = i;
				break;
			}
		}
	}
	return best;
}

static uint32_t
next_tag(struct redact_stream *s)
{
	if (++s->tag == 0) {
		/* Wrapped: forget every old tag rather than confuse one. */
		memset(s->seen, 0, (s->rules->nrules + 1) * sizeof(uint32_t));
		s->esc_tag = 0;
		s->tag = 1;
	}
	return s->tag;
}

/* A match of rule's relaxed pattern on the segment being scanned. */
static int
on_line_hs(void *arg, uint32_t rule, size_t end)
{
	struct redact_stream *s = arg;

	(void)end;
	if (rule == SCAN_HS_ESCAPE)
		return 0;	/* find_escaped() looks for itself */
	if (s->seen[rule] != s->tag) {
		s->seen[rule] = s->tag;
		s->lrules[s->nlrules++] = rule;
	}
	return 0;
}

/* Vectorscan over the segment alone: fills lrules. */
static void
scan_line_hs(struct redact_stream *s)
{
	s->nlrules = 0;
	s->hs_failed = false;
	(void)next_tag(s);
	if (scan_hs_run(&s->rules->scan, 0, s->hs, s->seg, s->seglen,
	    on_line_hs, s) != HUSH_OK ||
	    scan_hs_run(&s->rules->scan, 1, s->hs, s->seg, s->seglen,
	    on_line_hs, s) != HUSH_OK)
		s->hs_failed = true;
}

static void
run_rule(struct redact_stream *s, uint32_t ri, size_t from)
{
	const struct redact_rules *rs = s->rules;
	size_t start = from, a, b, next;
	int rc;

	while (start <= s->seglen) {
		rc = rules_exec(rs, ri, s->md, s->seg, s->seglen, start, &a,
		    &b, &next);
		if (rc == 0)
			break;
		if (rc < 0) {
			/* A limit hit: the rest could hold the secret. */
			add_span(s, start, s->seglen, ri, false);
			break;
		}
		/* A rejected value may hold the next key (key="ApiKey"
		 * value="..."): look again from inside it. */
		if (rules_accept(&rs->rules[ri], s->seg + a, b - a)) {
			add_span(s, a, b, ri, false);
			start = next;
		} else
			start = a + 1 > start ? a + 1 : next;
	}
}

static const uint8_t *
find_bytes(const uint8_t *p, size_t n, const char *w)
{
	size_t wl = strlen(w);
	const uint8_t *q = p, *end = p + n;

	while ((size_t)(end - q) >= wl &&
	    (q = memchr(q, w[0], (size_t)(end - q) - wl + 1)) != NULL) {
		if (memcmp(q, w, wl) == 0)
			return q;
		q++;
	}
	return NULL;
}

/*
 * A PEM armour line "-----BEGIN|END ... PRIVATE KEY[ BLOCK]-----" at p:
 * returns its length, or 0.
 */
static size_t
pem_marker(const uint8_t *p, size_t n, const char *what)
{
	size_t i = strlen(what), lim;

	if (n < i || memcmp(p, what, i) != 0)
		return 0;
	lim = i + 48 < n ? i + 48 : n;
	for (; i < lim; i++) {
		if (p[i] == '-') {
			if (i >= 11 && n - i >= 5 && memcmp(p + i, "-----", 5) ==
			    0 && (memcmp(p + i - 11, "PRIVATE KEY", 11) == 0 ||
			    (i >= 17 && memcmp(p + i - 17, "PRIVATE KEY BLOCK",
			    17) == 0)))
				return i + 5;
			return 0;
		}
		if (!((p[i] >= 'A' && p[i] <= 'Z') || p[i] == ' ' ||
		    (p[i] >= '0' && p[i] <= '9')))
			return 0;
	}
	return 0;
}

/*
 * PuTTY's key file (PuTTY manual, appendix C): "Private-Lines: N" ends
 * its line, N base64 lines follow, then "Private-MAC: <hex>". At p: the
 * length of the header up to the end of the line n, or 0.
 */
static size_t
putty_begin(const uint8_t *p, size_t n)
{
	static const char w[] = "Private-Lines: ";
	size_t i = sizeof(w) - 1;

	if (n <= i || memcmp(p, w, i) != 0)
		return 0;
	while (i < n && p[i] >= '0' && p[i] <= '9')
		i++;
	return i == sizeof(w) - 1 || i != n ? 0 : i;
}

/*
 * The end of the first END armour in p[0..n), or 0: a PEM END line, or
 * PuTTY's "Private-MAC: " with its hex value (nothing of the block after
 * the private lines is worth showing).
 */
static size_t
pem_find_end(const uint8_t *p, size_t n)
{
	const uint8_t *q = p;
	size_t m;

	while ((q = find_bytes(q, n - (size_t)(q - p), "-----END ")) != NULL) {
		if ((m = pem_marker(q, n - (size_t)(q - p), "-----END ")) != 0)
			return (size_t)(q - p) + m;
		q++;
	}
	if ((q = find_bytes(p, n, "Private-MAC: ")) != NULL) {
		m = (size_t)(q - p) + 13;
		while (m < n && ((p[m] >= '0' && p[m] <= '9') ||
		    (p[m] >= 'a' && p[m] <= 'f')))
			m++;
		return m;
	}
	return 0;
}

static bool
covered(const struct redact_stream *s, size_t pos)
{
	size_t i;

	for (i = 0; i < s->nsp; i++)
		if (s->sp[i].s <= pos && pos < s->sp[i].e)
			return true;
	return false;
}

static bool
is_weak(const struct redact_rules *rs, uint32_t rule)
{
	return rule < rs->nrules && rs->rules[rule].weak;
}

static int
span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	if (x->s != y->s)
		return x->s < y->s ? -1 : 1;
	if (x->e != y->e)
		return x->e > y->e ? -1 : 1;	/* longest first */
	/* Same bytes: a literal first, so a served credential is named
	 * credential:NAME, as in the audit log; then rules in pack order. */
	if (x->literal != y->literal)
		return x->literal ? -1 : 1;
	if (x->rule != y->rule)
		return x->rule < y->rule ? -1 : 1;
	return 0;
}

/*
 * The rules Vectorscan named (all of its rules after an error) take the
 * keyword automaton's way from here: a rule with keywords runs from
 * before the first one on the line, or not at all.
 */
static void
run_hs_rules(struct redact_stream *s)
{
	const struct redact_rules *rs = s->rules;
	size_t i, n = s->hs_failed ? rs->nrules : s->nlrules, kw;

	for (i = 0; i < n; i++) {
		uint32_t ri = s->hs_failed ? (uint32_t)i : s->lrules[i];
		const struct rule *ru;

		if (ri >= rs->nrules)
			continue;	/* SCAN_HS_ESCAPE */
		ru = &rs->rules[ri];
		if (!ru->hs)
			continue;
		if (ru->nkeywords == 0) {
			run_rule(s, ri, 0);
			continue;
		}
		if ((kw = first_keyword(s, ru)) == SIZE_MAX ||
		    s->first[ri] != SIZE_MAX)
			continue;
		s->first[ri] = kw;
		s->trig[s->ntrig++] = ri;
	}
}

/*
 * Escaped text: the rules run again on one and then two levels of JSON
 * string and URL unescaping of the segment (unescape.c), and what they
 * find is mapped back to whole escape sequences of the original, so the
 * marker replaces them and the text stays valid where it was. Views are
 * allocated on the first escaped line, at the size of the line buffer.
 */
static void
find_escaped(struct redact_stream *s, const uint8_t *seg, size_t n)
{
	const struct redact_rules *rs = s->rules;
	const uint8_t *in = seg;
	const uint32_t *inmap = NULL;
	size_t len = n, before, k, i, lv;

	for (lv = 0; lv < UNESCAPE_LEVELS && unescape_wanted(in, len); lv++) {
		if (s->ubuf[lv] == NULL &&
		    ((s->ubuf[lv] = malloc(s->cap)) == NULL ||
		    (s->umap[lv] = malloc((s->cap + 1) * sizeof(uint32_t))) ==
		    NULL)) {
			s->sp_nomem = true;	/* fail closed */
			break;
		}
		if (len > s->cap)
			break;	/* cannot happen: a segment fits the buffer */
		if (len > s->udirty[lv])
			s->udirty[lv] = len;	/* a view is no longer */
		len = unescape_decode(in, len, inmap, s->ubuf[lv], s->umap[lv]);
		before = s->nsp;
		s->seg = s->ubuf[lv];
		s->seglen = len;
		if (s->hs != NULL) {
			scan_line_hs(s);
			run_hs_rules(s);
		}
		scan_run(&rs->scan, s->seg, len, on_hit, s);
		for (i = 0; i < s->ntrig; i++) {
			uint32_t ri = s->trig[i];

			run_rule(s, ri, s->first[ri] > REDACT_CTX_BEFORE ?
			    s->first[ri] - REDACT_CTX_BEFORE : 0);
			s->first[ri] = SIZE_MAX;
		}
		s->ntrig = 0;
		for (i = 0; i < rs->nalways; i++)
			if (s->hs == NULL || !rs->rules[rs->always[i]].hs)
				run_rule(s, rs->always[i], 0);
		for (k = before; k < s->nsp; k++) {
			s->sp[k].s = s->umap[lv][s->sp[k].s];
			s->sp[k].e = s->umap[lv][s->sp[k].e];
		}
		in = s->ubuf[lv];
		inmap = s->umap[lv];
	}
	s->seg = seg;
	s->seglen = n;
}

static size_t b64_chars(const uint8_t *, size_t);

/*
 * Fills s->sp with the merged, sorted secrets of seg[0..n). eff is where
 * an unterminated PEM block ends (the line without its '\r'). batched:
 * lrules already holds what Vectorscan found on exactly this segment.
 */
static void
find_spans(struct redact_stream *s, const uint8_t *seg, size_t n, size_t eff,
    bool batched)
{
	const struct redact_rules *rs = s->rules;
	size_t i, j, from;

	s->nsp = 0;
	s->sp_nomem = false;
	s->ntrig = 0;
	s->seg = seg;
	s->seglen = n;
	if (s->hs != NULL) {
		if (!batched)
			scan_line_hs(s);
		run_hs_rules(s);
	}
	scan_run(&rs->scan, seg, n, on_hit, s);
	for (i = 0; i < s->ntrig; i++) {
		uint32_t ri = s->trig[i];

		from = s->first[ri] > REDACT_CTX_BEFORE ?
		    s->first[ri] - REDACT_CTX_BEFORE : 0;
		run_rule(s, ri, from);
	}
	for (i = 0; i < rs->nalways; i++)
		if (s->hs == NULL || !rs->rules[rs->always[i]].hs)
			run_rule(s, rs->always[i], 0);
	if (rs->has_pem && s->first[rs->pem_rule] != SIZE_MAX &&
	    !s->no_pem_begin) {
		const uint8_t *q = seg;

		while ((q = find_bytes(q, n - (size_t)(q - seg),
		    "-----BEGIN ")) != NULL) {
			size_t at = (size_t)(q - seg);

			size_t m = pem_marker(q, n - at, "-----BEGIN "), e;
			const uint8_t *end;

			if (m != 0 && !covered(s, at) && at < eff &&
			    (e = pem_find_end(q + m, eff - at - m)) != 0 &&
			    (end = find_bytes(q + m, e, "-----END ")) != NULL) {
				/* BEGIN and END on one line: a key only
				 * with a key's body. */
				if (b64_chars(q + m, (size_t)(end - q - m)) >=
				    REDACT_PEM_MIN_BODY)
					add_span(s, at, at + m + e, rs->pem_rule,
					    false);
				q += m + e;
				continue;
			}
			if (m != 0 && !covered(s, at) && at < eff) {
				add_span(s, at, eff, rs->pem_rule, true);
				break;
			}
			q++;
		}
	}
	if (rs->has_putty && s->first[rs->putty_rule] != SIZE_MAX) {
		const uint8_t *q = find_bytes(seg, eff, "Private-Lines: ");
		size_t at = q != NULL ? (size_t)(q - seg) : 0;

		if (q != NULL && putty_begin(q, eff - at) != 0 &&
		    !covered(s, at))
			add_span(s, at, eff, rs->putty_rule, true);
	}
	for (i = 0; i < s->ntrig; i++)
		s->first[s->trig[i]] = SIZE_MAX;
	s->ntrig = 0;
	find_escaped(s, seg, n);
	if (s->sp_nomem) {
		s->sp[0].s = 0;
		s->sp[0].e = n;
		s->sp[0].rule = STREAM_RULE_ERROR;
		s->sp[0].pem_open = false;
		s->sp[0].literal = false;
		s->nsp = 1;
		return;
	}
	if (s->nsp > 1)
		qsort(s->sp, s->nsp, sizeof(*s->sp), span_cmp);
	/* Merge overlaps; the merged span keeps the first one's rule,
	 * unless that is a generic rule and a specific one shares it. */
	for (i = 0, j = 0; i < s->nsp; i++) {
		if (j > 0 && s->sp[i].s < s->sp[j - 1].e) {
			if (s->sp[i].e > s->sp[j - 1].e)
				s->sp[j - 1].e = s->sp[i].e;
			s->sp[j - 1].pem_open |= s->sp[i].pem_open;
			if (is_weak(rs, s->sp[j - 1].rule) &&
			    !is_weak(rs, s->sp[i].rule))
				s->sp[j - 1].rule = s->sp[i].rule;
			continue;
		}
		s->sp[j++] = s->sp[i];
	}
	s->nsp = j;
}

/*
 * Emits seg[from..upto) (seg[0..from) went out before, at an idle cut)
 * with the spans that start before upto masked (each to its end; one
 * that started before from, from there). Returns the position after the
 * last byte emitted or masked in *donep; sets in_pem when an
 * unterminated block was masked.
 */
static int
emit_spans(struct redact_stream *s, const uint8_t *seg, size_t from,
    size_t upto, size_t *donep)
{
	size_t pos = from, i;
	int r;

	if (upto < from)
		upto = from;
	for (i = 0; i < s->nsp && s->sp[i].s < upto; i++) {
		const struct span *sp = &s->sp[i];

		if (sp->e <= pos)
			continue;	/* masked when it went out */
		if ((r = emit(s, seg + pos, sp->s > pos ? sp->s - pos : 0)) !=
		    HUSH_OK ||
		    (r = emit_marker(s, sp->rule, seg + sp->s,
		    sp->e - sp->s)) != HUSH_OK)
			return r;
		if (s->find != NULL)
			s->find(s->farg, span_rule_name(s, sp->rule), s->line);
		if (sp->pem_open) {
			s->in_pem = true;
			s->pem_bytes = 0;
			s->pem_lines = 0;
		}
		pos = sp->e;
	}
	if (pos < upto) {
		if ((r = emit(s, seg + pos, upto - pos)) != HUSH_OK)
			return r;
		pos = upto;
	}
	*donep = pos;
	return HUSH_OK;
}

/* Counts swallowed PEM bytes; past the bound, gives up on the block. */
static void
pem_swallow(struct redact_stream *s, size_t n, bool newline)
{
	s->pem_bytes += n;
	if (newline)
		s->pem_lines++;
	if (s->pem_bytes > REDACT_PEM_MAX_BYTES ||
	    s->pem_lines > REDACT_PEM_MAX_LINES)
		s->in_pem = false;
}

static size_t
b64_chars(const uint8_t *p, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		c += (p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' &&
		    p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') ||
		    p[i] == '+' || p[i] == '/' || p[i] == '=';
	return c;
}

static int process_line(struct redact_stream *, const uint8_t *, size_t,
    bool, bool, size_t);

/*
 * The held block is a key (or might be): its BEGIN line goes out as it
 * would have at once, what precedes the armour and the marker, and the
 * held body counts as swallowed.
 */
static int
pem_commit(struct redact_stream *s)
{
	size_t n = s->phbegin - 1, eff = n, done;
	int r;

	s->pem_pending = false;
	if (eff > 0 && s->phold[eff - 1] == '\r')
		eff--;
	find_spans(s, s->phold, n, eff, false);
	if ((r = emit_spans(s, s->phold, 0, n, &done)) != HUSH_OK ||
	    (done < n && (r = emit(s, s->phold + done, n - done)) !=
	    HUSH_OK) || (r = emit(s, (const uint8_t *)"\n", 1)) != HUSH_OK)
		return r;
	s->line += s->phlines;
	if (s->in_pem) {
		s->pem_bytes = s->phlen - s->phbegin;
		s->pem_lines = s->phlines - 1;
	}
	sodium_memzero(s->phold, s->phlen);
	s->phlen = 0;
	return HUSH_OK;
}

/*
 * The held block ended before it had a key's body: not a key. Its lines
 * go out as ordinary lines (every other rule still runs on them).
 */
static int
pem_release(struct redact_stream *s)
{
	const uint8_t *p = s->phold, *nl;
	size_t off = 0, k;
	int r = HUSH_OK;

	s->pem_pending = false;
	s->no_pem_begin = true;
	while (off < s->phlen && r >= 0) {
		nl = memchr(p + off, '\n', s->phlen - off);
		k = (size_t)(nl - (p + off));
		if ((r = process_line(s, p + off, k, true, false, 0)) == 1 &&
		    (r = emit(s, p + off, k + 1)) == HUSH_OK)
			r = 1;
		off += k + 1;
	}
	s->no_pem_begin = false;
	sodium_memzero(s->phold, s->phlen);
	s->phlen = 0;
	return r < 0 ? r : HUSH_OK;
}

/*
 * A line while a block is held: END decides (a key's body: masked; less:
 * not a key); otherwise the line is held too, until the body is long
 * enough to be a key or the hold is full, and then the block is masked.
 * Sets *heldp when the line went into the hold.
 */
static int
pem_pending_line(struct redact_stream *s, const uint8_t *seg, size_t n,
    bool nl, bool *heldp)
{
	size_t eff = n;

	*heldp = false;
	if (eff > 0 && seg[eff - 1] == '\r')
		eff--;
	if (pem_find_end(seg, n) != 0)
		return s->pb64 >= REDACT_PEM_MIN_BODY ? pem_commit(s) :
		    pem_release(s);
	s->pb64 += b64_chars(seg, eff);
	if (!nl || s->pb64 >= REDACT_PEM_MIN_BODY ||
	    s->phlen + n + 1 > REDACT_PEM_HOLD_BYTES)
		return pem_commit(s);
	memcpy(s->phold + s->phlen, seg, n);
	s->phlen += n;
	s->phold[s->phlen++] = '\n';
	s->phlines++;
	*heldp = true;
	return HUSH_OK;
}

/*
 * After find_spans on a complete line: when it opens a PEM block whose
 * body is not yet a key's, holds the line (true) instead of masking it.
 */
static bool
pem_hold(struct redact_stream *s, const uint8_t *seg, size_t n, size_t eff)
{
	const struct redact_rules *rs = s->rules;
	size_t i, m, at;

	if (!rs->has_pem || n + 1 > REDACT_PEM_HOLD_BYTES)
		return false;
	for (i = 0; i < s->nsp; i++)
		if (s->sp[i].pem_open && s->sp[i].rule == rs->pem_rule)
			break;
	if (i == s->nsp)
		return false;
	at = s->sp[i].s;
	if ((m = pem_marker(seg + at, n - at, "-----BEGIN ")) == 0 ||
	    at + m > eff ||
	    b64_chars(seg + at + m, eff - at - m) >= REDACT_PEM_MIN_BODY)
		return false;
	if (s->phold == NULL &&
	    (s->phold = malloc(REDACT_PEM_HOLD_BYTES)) == NULL)
		return false;	/* masked at once: fail closed */
	memcpy(s->phold, seg, n);
	s->phold[n] = '\n';
	s->phlen = s->phbegin = n + 1;
	s->pb64 = b64_chars(seg + at + m, eff - at - m);
	s->phlines = 1;
	s->pem_pending = true;
	return true;
}

/*
 * One complete line (without its '\n'; nl says whether it had one).
 * Returns 1 when the line is clean and the caller may pass it on as it
 * is, 0 when it was handled here, or an error.
 */
static int
process_line(struct redact_stream *s, const uint8_t *seg, size_t n, bool nl,
    bool batched, size_t skip)
{
	size_t eff, done, e;
	bool trimmed = false, held;
	int r;

	if (s->pem_pending) {
		if ((r = pem_pending_line(s, seg, n, nl, &held)) != HUSH_OK)
			return r;
		if (held)
			return 0;	/* counted when the block is decided */
		batched = false;	/* the decision scanned other lines */
	}
	if (s->in_pem) {
		if ((e = pem_find_end(seg, n)) == 0) {
			pem_swallow(s, n, nl);
			goto swallowed;
		}
		s->in_pem = false;
		s->after_pem = true;
		trimmed = true;
		batched = false;	/* the batch saw the whole line */
		seg += e;
		n -= e;
		skip = skip > e ? skip - e : 0;
	}
	eff = n;
	if (eff > 0 && seg[eff - 1] == '\r')
		eff--;
	if (s->after_pem && eff == 0) {
		/* Nothing after END: the block's marker already ended a
		 * line, so this one goes entirely. */
		s->after_pem = false;
		goto swallowed;
	}
	s->after_pem = false;
	find_spans(s, seg, n, eff, batched);
	if (nl && skip == 0 && !trimmed && pem_hold(s, seg, n, eff))
		return 0;	/* counted when the block is decided */
	if (s->nsp == 0 && !trimmed && skip == 0) {
		if (nl)
			s->line++;
		return 1;
	}
	if ((r = emit_spans(s, seg, skip, n, &done)) != HUSH_OK)
		return r;
	if (done < n && (r = emit(s, seg + done, n - done)) != HUSH_OK)
		return r;
	if (nl && (r = emit(s, (const uint8_t *)"\n", 1)) != HUSH_OK)
		return r;
swallowed:
	if (nl)
		s->line++;
	return 0;
}

/*
 * A window: the first cap bytes of a line that has no newline yet.
 * Emits up to the cut point (or past it, to the end of a secret that
 * started before it) and returns in *usedp how many bytes are done; the
 * rest starts the next window.
 */
static int
process_window(struct redact_stream *s, const uint8_t *seg, size_t n,
    size_t *usedp)
{
	size_t cut = n - s->overlap, done, e;
	int r;

	/* A line this long in a held block: masked, as any long block. */
	if (s->pem_pending && (r = pem_commit(s)) != HUSH_OK)
		return r;
	if (s->in_pem) {
		if ((e = pem_find_end(seg, n)) == 0) {
			/* Keep a tail so an END armour split by the window
			 * edge is found in the next one. */
			pem_swallow(s, cut, false);
			*usedp = cut;
			return HUSH_OK;
		}
		s->in_pem = false;
		s->after_pem = true;
		*usedp = e;
		return HUSH_OK;
	}
	s->after_pem = false;
	find_spans(s, seg, n, n, false);
	if ((r = emit_spans(s, seg, seg == s->buf ? s->shown : 0, cut,
	    &done)) != HUSH_OK)
		return r;
	*usedp = done;
	return HUSH_OK;
}

/* The held buffer is full: process a window and keep its tail. */
static int
window_held(struct redact_stream *s)
{
	size_t used;
	int r;

	if ((r = process_window(s, s->buf, s->len, &used)) != HUSH_OK)
		return r;
	memmove(s->buf, s->buf + used, s->len - used);
	s->len -= used;
	s->shown = s->shown > used ? s->shown - used : 0;
	return HUSH_OK;
}

/* A match in the batch: one hit per rule and line. */
static int
on_batch_hs(void *arg, uint32_t rule, size_t end)
{
	struct redact_stream *s = arg;
	const uint8_t *nl;

	/* Ends come in order (in one database): find the line of the
	 * match's last byte. */
	if (s->nhits == s->pass_start || end - 1 > s->bcur) {
		nl = memchr(s->bbase + end - 1, '\n', s->bend - (end - 1));
		s->bcur = nl != NULL ? (size_t)(nl - s->bbase) : s->bend;
		(void)next_tag(s);
	}
	if (rule == SCAN_HS_ESCAPE) {
		/* Escaped text: the line needs a look (find_escaped). */
		if (s->esc_tag == s->tag)
			return 0;
	} else if (s->seen[rule] == s->tag) {
		return 0;
	}
	if (s->nhits == s->hitcap && s->hitcap < REDACT_BATCH_HITS) {
		struct hit *n = realloc(s->hits, 2 * s->hitcap * sizeof(*n));

		if (n != NULL) {
			s->hits = n;
			s->hitcap *= 2;
		}
	}
	if (s->nhits == s->hitcap) {
		/* Full: the batch ends before this line, whose hits are
		 * incomplete; later lines are scanned again. */
		while (s->nhits > s->pass_start &&
		    s->hits[s->nhits - 1].line_end == s->bcur)
			s->nhits--;
		s->bend = s->nhits > s->pass_start ?
		    s->hits[s->nhits - 1].line_end + 1 : 0;
		return 1;
	}
	if (rule == SCAN_HS_ESCAPE)
		s->esc_tag = s->tag;
	else
		s->seen[rule] = s->tag;
	s->hits[s->nhits].line_end = s->bcur;
	s->hits[s->nhits].rule = rule;
	s->nhits++;
	return 0;
}

/* Merges the two runs of hits, hits[0..pass_start) and the rest. */
static void
batch_merge(struct redact_stream *s)
{
	size_t i = 0, j = s->pass_start, o = 0;
	struct hit *n;

	if (j == 0 || j == s->nhits)
		return;
	if ((n = realloc(s->hits2, s->hitcap * sizeof(*n))) == NULL) {
		s->bend = 0;	/* no memory to merge: lines one by one */
		return;
	}
	s->hits2 = n;
	while (i < s->pass_start || j < s->nhits) {
		if (j == s->nhits || (i < s->pass_start &&
		    s->hits[i].line_end <= s->hits[j].line_end))
			s->hits2[o++] = s->hits[i++];
		else
			s->hits2[o++] = s->hits[j++];
	}
	memcpy(s->hits, s->hits2, o * sizeof(*s->hits));
}

/*
 * Starts a batch at buf: the complete lines among its first
 * REDACT_BATCH_BYTES, scanned in one Vectorscan call. Without a complete
 * line, or after an error, there is no batch and lines are scanned one
 * by one.
 */
static void
batch_start(struct redact_stream *s, const uint8_t *buf, size_t len)
{
	size_t n = len < REDACT_BATCH_BYTES ? len : REDACT_BATCH_BYTES;
	int r;

	s->bbase = NULL;
	s->nhits = s->hitpos = 0;
	while (n > 0 && buf[n - 1] != '\n')
		n--;
	if (n == 0)
		return;
	s->bbase = buf;
	s->bend = n;
	s->bcur = 0;
	s->pass_start = 0;
	r = scan_hs_run(&s->rules->scan, 0, s->hs, buf, n, on_batch_hs, s);
	if (r != HUSH_ERR_INTERNAL && s->rules->scan.hs_db2 != NULL &&
	    s->bend > 0) {
		/* The user's rules: a second run of hits, then one list in
		 * order of lines. */
		s->pass_start = s->nhits;
		s->bcur = 0;
		r = scan_hs_run(&s->rules->scan, 1, s->hs, buf, s->bend,
		    on_batch_hs, s);
		batch_merge(s);
	}
	if (r == HUSH_ERR_INTERNAL)
		s->bbase = NULL;
}

/*
 * With hs_only, the lines of buf[0..len) that the batch says are clean,
 * up to the first that Vectorscan named: their length (whole lines) and
 * in *linesp their number. 0 when the next line needs a look.
 */
static size_t
batch_clean_run(struct redact_stream *s, const uint8_t *buf, size_t len,
    uint64_t *linesp)
{
	const uint8_t *p = buf, *nl, *lim;
	size_t off, stop;

	*linesp = 0;
	if (!s->hs_only || s->in_pem || s->after_pem || s->pem_pending ||
	    s->bbase == NULL ||
	    buf < s->bbase || (off = (size_t)(buf - s->bbase)) >= s->bend)
		return 0;
	stop = s->bend;
	while (s->hitpos < s->nhits && s->hits[s->hitpos].line_end < off)
		s->hitpos++;
	if (s->hitpos < s->nhits)
		stop = s->hits[s->hitpos].line_end;	/* that line's '\n' */
	lim = s->bbase + stop;
	if (lim > buf + len)
		lim = buf + len;
	if (s->find == NULL && s->cap >= REDACT_BATCH_BYTES) {
		/* No line numbers wanted, and every line of a batch is
		 * shorter than max_line: the run ends after the last '\n'
		 * before the named line, found without a call per line (a
		 * memchr per line was 5% of hush-redact's time). */
		while (lim > p && lim[-1] != '\n')
			lim--;
		return (size_t)(lim - p);
	}
	/* Whole lines before the named one, each shorter than max_line. */
	while (p < lim && (nl = memchr(p, '\n', (size_t)(lim - p))) != NULL &&
	    (size_t)(nl - p) < s->cap) {
		if (s->hitpos < s->nhits && (size_t)(nl - s->bbase) == stop)
			break;
		p = nl + 1;
		(*linesp)++;
	}
	return (size_t)(p - buf);
}

/*
 * For the complete line buf[0..k) (its '\n' at buf[k], len bytes left in
 * the caller's buffer): true and lrules filled when a batch covers it.
 */
static bool
batch_line(struct redact_stream *s, const uint8_t *buf, size_t k, size_t len)
{
	size_t end;

	if (s->hs == NULL)
		return false;
	if (s->bbase == NULL || buf < s->bbase ||
	    (size_t)(buf - s->bbase) >= s->bend)
		batch_start(s, buf, len);
	if (s->bbase == NULL || (size_t)(buf - s->bbase) + k >= s->bend)
		return false;
	end = (size_t)(buf - s->bbase) + k;
	s->nlrules = 0;
	s->hs_failed = false;
	while (s->hitpos < s->nhits && s->hits[s->hitpos].line_end < end)
		s->hitpos++;	/* lines that went another way */
	while (s->hitpos < s->nhits && s->hits[s->hitpos].line_end == end)
		s->lrules[s->nlrules++] = s->hits[s->hitpos++].rule;
	return true;
}

int
redact_stream_feed(struct redact_stream *s, const uint8_t *buf, size_t len)
{
	const uint8_t *nl;
	size_t room, k, used;
	uint64_t lines;
	int r;

	if (s->err != 0)
		return s->err;
	s->bbase = NULL;	/* the caller may reuse its buffer */
	while (len > 0) {
		if (s->len > 0) {
			/* Complete the held line first. */
			room = s->cap - s->len;
			k = len < room ? len : room;
			nl = memchr(buf, '\n', k);
			if (nl != NULL)
				k = (size_t)(nl - buf);
			memcpy(s->buf + s->len, buf, k);
			s->len += k;
			note_dirty(s);
			buf += k;
			len -= k;
			if (nl != NULL) {
				buf++;
				len--;
				r = process_line(s, s->buf, s->len, true, false,
				    s->shown);
				if (r == 1) {
					if ((r = emit(s, s->buf, s->len)) !=
					    HUSH_OK || (r = emit(s,
					    (const uint8_t *)"\n", 1)) !=
					    HUSH_OK)
						return r;
				} else if (r < 0) {
					return r;
				}
				s->len = 0;
				s->shown = 0;
			} else if (s->len == s->cap) {
				if ((r = window_held(s)) != HUSH_OK)
					return r;
			}
			continue;
		}
		/* Nothing held: lines straight from the caller's buffer,
		 * clean runs passed on in one piece. */
		if ((k = batch_clean_run(s, buf, len, &lines)) > 0) {
			if (s->pendlen == 0)
				s->pend = buf;
			s->pendlen += k;
			s->line += lines;
			buf += k;
			len -= k;
			continue;
		}
		k = len < s->cap ? len : s->cap;
		nl = memchr(buf, '\n', k);
		if (nl != NULL) {
			k = (size_t)(nl - buf);
			r = process_line(s, buf, k, true,
			    batch_line(s, buf, k, len), 0);
			if (r == 1) {
				if (s->pendlen == 0)
					s->pend = buf;
				s->pendlen += k + 1;
			} else if (r < 0) {
				return r;
			}
			buf += k + 1;
			len -= k + 1;
		} else if (len >= s->cap) {
			if ((r = flush_pending(s)) != HUSH_OK ||
			    (r = process_window(s, buf, s->cap, &used)) !=
			    HUSH_OK)
				return r;
			memcpy(s->buf, buf + used, s->cap - used);
			s->len = s->cap - used;
			note_dirty(s);
			buf += s->cap;
			len -= s->cap;
		} else {
			memcpy(s->buf, buf, len);
			s->len = len;
			note_dirty(s);
			len = 0;
		}
	}
	s->bbase = NULL;
	return flush_pending(s);
}

int
redact_stream_finish(struct redact_stream *s)
{
	int r;

	if (s->err != 0)
		return s->err;
	if (s->len > 0) {
		r = process_line(s, s->buf, s->len, false, false, s->shown);
		if (r == 1)
			r = emit(s, s->buf, s->len);
		if (r < 0)
			return r;
		sodium_memzero(s->buf, s->len);
		s->len = 0;
		s->shown = 0;
	}
	/* END never came: the held block is masked (fail closed). */
	if (s->pem_pending && (r = pem_commit(s)) != HUSH_OK)
		return r;
	return flush_pending(s);
}

static bool
is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * Where a held partial line may be cut: before its trailing run of
 * non-blank bytes (it may still grow into a token, or be a key whose
 * value is coming), and before an open quoted value (a password with
 * spaces, quoted) that follows an assignment or is a double quote.
 */
static size_t
safe_cut(const uint8_t *p, size_t n)
{
	size_t cut = n, i, j, dq = SIZE_MAX, sq = SIZE_MAX;

	while (cut > 0 && !is_space(p[cut - 1]))
		cut--;
	for (i = 0; i < cut; i++) {
		if (p[i] == '\\') {
			i++;
			continue;
		}
		if (p[i] == '"') {
			dq = dq == SIZE_MAX ? i : SIZE_MAX;
		} else if (p[i] == '\'' && sq != SIZE_MAX) {
			sq = SIZE_MAX;
		} else if (p[i] == '\'') {
			/* An apostrophe in prose opens nothing. */
			for (j = i; j > 0 && is_space(p[j - 1]); j--)
				;
			if (j > 0 && (p[j - 1] == '=' || p[j - 1] == ':' ||
			    p[j - 1] == '>' || p[j - 1] == '('))
				sq = i;
		}
	}
	if (dq < cut)
		cut = dq;
	if (sq < cut)
		cut = sq;
	return cut;
}

int
redact_stream_idle(struct redact_stream *s)
{
	size_t cut, done;
	int r;

	if (s->err != 0)
		return s->err;
	/* Inside a PEM block the held bytes are being swallowed; a held
	 * block shows nothing until it is known to be a key or not. */
	if (s->len <= s->shown || s->in_pem || s->pem_pending)
		return flush_pending(s);
	cut = safe_cut(s->buf, s->len);
	if (cut <= s->shown)
		return flush_pending(s);
	/* The whole line so far is the context, as it will be when the
	 * line ends: a key shown now still names the value that follows. */
	find_spans(s, s->buf, s->len, s->len, false);
	if ((r = emit_spans(s, s->buf, s->shown, cut, &done)) != HUSH_OK)
		return r;
	s->shown = done;
	return flush_pending(s);
}

bool
redact_stream_holding(const struct redact_stream *s)
{
	return s->len > s->shown && !s->in_pem && !s->pem_pending;
}
