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
 * A PEM private key is masked from BEGIN to END across lines; while its
 * END is missing every line is swallowed, up to REDACT_PEM_MAX_BYTES or
 * REDACT_PEM_MAX_LINES, after which the engine gives up on the block
 * (everything it held was masked) and resumes.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "conf/hush_err.h"
#include "redact/internal.h"
#include "redact/redact.h"

#define STREAM_RULE_ERROR	UINT32_MAX	/* a span masked because of an error */

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
	size_t		 overlap;
	uint64_t	 line;		/* number of the current line, from 1 */
	bool		 in_pem;	/* inside a PEM block, looking for END */
	bool		 after_pem;	/* this line's END was swallowed */
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
	const uint8_t	*pend;		/* clean input not yet passed on */
	size_t		 pendlen;
	int		 err;
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
	if (s == NULL)
		return;
	if (s->buf != NULL) {
		/* Held log text may contain a secret: wipe it. */
		sodium_memzero(s->buf, s->cap);
		free(s->buf);
	}
	free(s->sp);
	free(s->first);
	free(s->trig);
	rules_md_free(s->md);
	if (s->mark != NULL) {
		sodium_memzero(s->mark, s->markcap);
		free(s->mark);
	}
	free(s);
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
		if (rules_check_secret(rs->rules[ri].check, s->seg + a, b - a))
			add_span(s, a, b, ri, false);
		start = next;
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

/* The end of the first END armour in p[0..n), or 0. */
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
 * Fills s->sp with the merged, sorted secrets of seg[0..n). eff is where
 * an unterminated PEM block ends (the line without its '\r').
 */
static void
find_spans(struct redact_stream *s, const uint8_t *seg, size_t n, size_t eff)
{
	const struct redact_rules *rs = s->rules;
	size_t i, j, from;

	s->nsp = 0;
	s->sp_nomem = false;
	s->ntrig = 0;
	s->seg = seg;
	s->seglen = n;
	scan_run(&rs->scan, seg, n, on_hit, s);
	for (i = 0; i < s->ntrig; i++) {
		uint32_t ri = s->trig[i];

		from = s->first[ri] > REDACT_CTX_BEFORE ?
		    s->first[ri] - REDACT_CTX_BEFORE : 0;
		run_rule(s, ri, from);
	}
	for (i = 0; i < rs->nalways; i++)
		run_rule(s, rs->always[i], 0);
	if (rs->has_pem && s->first[rs->pem_rule] != SIZE_MAX) {
		const uint8_t *q = seg;

		while ((q = find_bytes(q, n - (size_t)(q - seg),
		    "-----BEGIN ")) != NULL) {
			size_t at = (size_t)(q - seg);

			if (pem_marker(q, n - at, "-----BEGIN ") != 0 &&
			    !covered(s, at) && at < eff) {
				add_span(s, at, eff, rs->pem_rule, true);
				break;
			}
			q++;
		}
	}
	for (i = 0; i < s->ntrig; i++)
		s->first[s->trig[i]] = SIZE_MAX;
	s->ntrig = 0;
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
 * Emits seg[0..upto) with the spans that start before upto masked (each
 * to its end). Returns the position after the last byte emitted or
 * masked in *donep; sets in_pem when an unterminated block was masked.
 */
static int
emit_spans(struct redact_stream *s, const uint8_t *seg, size_t upto,
    size_t *donep)
{
	size_t pos = 0, i;
	int r;

	for (i = 0; i < s->nsp && s->sp[i].s < upto; i++) {
		const struct span *sp = &s->sp[i];

		if ((r = emit(s, seg + pos, sp->s - pos)) != HUSH_OK ||
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

/*
 * One complete line (without its '\n'; nl says whether it had one).
 * Returns 1 when the line is clean and the caller may pass it on as it
 * is, 0 when it was handled here, or an error.
 */
static int
process_line(struct redact_stream *s, const uint8_t *seg, size_t n, bool nl)
{
	size_t eff, done, e;
	bool trimmed = false;
	int r;

	if (s->in_pem) {
		if ((e = pem_find_end(seg, n)) == 0) {
			pem_swallow(s, n, nl);
			goto swallowed;
		}
		s->in_pem = false;
		s->after_pem = true;
		trimmed = true;
		seg += e;
		n -= e;
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
	find_spans(s, seg, n, eff);
	if (s->nsp == 0 && !trimmed) {
		if (nl)
			s->line++;
		return 1;
	}
	if ((r = emit_spans(s, seg, n, &done)) != HUSH_OK)
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
	find_spans(s, seg, n, n);
	if ((r = emit_spans(s, seg, cut, &done)) != HUSH_OK)
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
	return HUSH_OK;
}

int
redact_stream_feed(struct redact_stream *s, const uint8_t *buf, size_t len)
{
	const uint8_t *nl;
	size_t room, k, used;
	int r;

	if (s->err != 0)
		return s->err;
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
			buf += k;
			len -= k;
			if (nl != NULL) {
				buf++;
				len--;
				r = process_line(s, s->buf, s->len, true);
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
			} else if (s->len == s->cap) {
				if ((r = window_held(s)) != HUSH_OK)
					return r;
			}
			continue;
		}
		/* Nothing held: lines straight from the caller's buffer,
		 * clean runs passed on in one piece. */
		k = len < s->cap ? len : s->cap;
		nl = memchr(buf, '\n', k);
		if (nl != NULL) {
			k = (size_t)(nl - buf);
			r = process_line(s, buf, k, true);
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
			buf += s->cap;
			len -= s->cap;
		} else {
			memcpy(s->buf, buf, len);
			s->len = len;
			len = 0;
		}
	}
	return flush_pending(s);
}

int
redact_stream_finish(struct redact_stream *s)
{
	int r;

	if (s->err != 0)
		return s->err;
	if (s->len > 0) {
		r = process_line(s, s->buf, s->len, false);
		if (r == 1)
			r = emit(s, s->buf, s->len);
		if (r < 0)
			return r;
		sodium_memzero(s->buf, s->len);
		s->len = 0;
	}
	return flush_pending(s);
}
