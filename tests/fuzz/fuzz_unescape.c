/*
 * fuzz_unescape: the escaped-text path. The decoded views keep their
 * invariants (never longer, offsets in range and non-decreasing, two
 * levels composed), and a secret that a rule finds only once the text is
 * unescaped ("q=..." in quotes) is masked whatever surrounds it, when the
 * whole line is JSON-escaped once or twice or URL-encoded: the fully
 * unescaped output never holds it, and the result does not depend on how
 * the stream was chunked.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/hush_err.h"
#include "redact/redact.h"
#include "redact/rules.h"
#include "redact/unescape.h"

#define SECRET	"fuzzsecret42"
#define MAXIN	4096

static struct redact_rules *rules;

struct obuf {
	uint8_t	*p;
	size_t	 len;
	size_t	 cap;
};

static void
put(struct obuf *o, const void *p, size_t len)
{
	if (o->len + len + 1 > o->cap) {
		size_t nc = (o->len + len) * 2 + 64;
		uint8_t *n = realloc(o->p, nc);

		if (n == NULL)
			abort();
		o->p = n;
		o->cap = nc;
	}
	if (len > 0)	/* p may be NULL then: an empty line */
		memcpy(o->p + o->len, p, len);
	o->len += len;
	o->p[o->len] = '\0';
}

static int
collect(void *arg, const uint8_t *buf, size_t len)
{
	put(arg, buf, len);
	return 0;
}

static void
setup(void)
{
	struct hush_conf c;
	struct conf_errs errs;

	if (hush_harden_process() != HUSH_OK)
		abort();
	conf_errs_init(&errs);
	if (conf_load_string(&c, "fuzz.ini", "[redact]\nmax_line = 65536\n"
	    "[rule \"quoted\"]\npattern = \"q=([a-z0-9]{8,32})\"\n"
	    "keywords = \"q=\nsecret_group = 1\n", CONF_SKIP_SOURCE_CHECKS,
	    rules_check_conf, &errs) != HUSH_OK)
		abort();
	if ((rules = redact_rules_new(&c, 0, &errs)) == NULL ||
	    redact_rules_compile(rules) != HUSH_OK)
		abort();
	conf_release(&c);
	conf_errs_release(&errs);
}

static void
json_escape(const struct obuf *in, struct obuf *out)
{
	char e[8];
	size_t i;

	for (i = 0; i < in->len; i++) {
		uint8_t c = in->p[i];

		if (c == '"' || c == '\\' || c == '/') {
			e[0] = '\\';
			e[1] = (char)c;
			put(out, e, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			snprintf(e, sizeof(e), "\\u%04x", c);
			put(out, e, 6);
		} else {
			put(out, &c, 1);
		}
	}
}

static void
url_encode(const struct obuf *in, struct obuf *out)
{
	char e[4];
	size_t i;

	for (i = 0; i < in->len; i++) {
		uint8_t c = in->p[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9')) {
			put(out, &c, 1);
		} else {
			snprintf(e, sizeof(e), "%%%02X", c);
			put(out, e, 3);
		}
	}
}

static struct obuf
run(const uint8_t *data, size_t size, unsigned step)
{
	struct obuf o = { NULL, 0, 0 };
	struct redact_stream *s = redact_stream_new(rules, collect, &o);
	size_t off = 0, k = 0;

	if (s == NULL)
		abort();
	while (off < size) {
		size_t c = step == 0 ? size - off : 1 + (step * (k++ + 1)) % 97;

		if (c > size - off)
			c = size - off;
		if (redact_stream_feed(s, data + off, c) != HUSH_OK)
			abort();
		off += c;
	}
	if (redact_stream_finish(s) != HUSH_OK)
		abort();
	redact_stream_free(s);
	if (o.p == NULL)
		put(&o, "", 0);
	return o;
}

/* The view invariants, on arbitrary bytes. */
static void
check_views(const uint8_t *p, size_t n)
{
	static uint8_t a[MAXIN], b[MAXIN];
	static uint32_t ma[MAXIN + 1], mb[MAXIN + 1];
	size_t la, lb, i;

	la = unescape_decode(p, n, NULL, a, ma);
	if (la > n || ma[la] != n)
		abort();
	for (i = 0; i < la; i++)
		if (ma[i] >= n || ma[i + 1] < ma[i])
			abort();
	lb = unescape_decode(a, la, ma, b, mb);
	if (lb > la || mb[lb] != n)
		abort();
	for (i = 0; i < lb; i++)
		if (mb[i] >= n || mb[i + 1] < mb[i])
			abort();
	if (unescape_wanted(p, n) != (la != n))
		abort();
}

/* How often SECRET occurs in p[0..n) with two levels of escaping undone. */
static size_t
count_decoded(const uint8_t *p, size_t n)
{
	static uint8_t v1[8 * MAXIN], v2[8 * MAXIN];
	static uint32_t m1[8 * MAXIN + 1], m2[8 * MAXIN + 1];
	size_t l, i, c = 0;

	l = unescape_decode(p, n, NULL, v1, m1);
	l = unescape_decode(v1, l, m1, v2, m2);
	for (i = 0; i + strlen(SECRET) <= l; i++)
		c += memcmp(v2 + i, SECRET, strlen(SECRET)) == 0;
	return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct obuf line = { NULL, 0, 0 }, e1 = { NULL, 0, 0 };
	struct obuf e2 = { NULL, 0, 0 }, a, b;
	struct obuf *in;
	size_t at, i;
	unsigned mode, step;

	if (rules == NULL)
		setup();
	if (size < 3 || size > MAXIN)
		return 0;
	check_views(data, size);
	mode = data[0] & 3;
	step = data[1];
	data += 2;
	size -= 2;
	/* One line: the fuzz bytes with the quoted secret somewhere. */
	at = data[0] % size;
	for (i = 0; i < size; i++)
		if (data[i] != '\n')
			put(&line, data + i, 1);
	at = at < line.len ? at : line.len;
	{
		struct obuf t = { NULL, 0, 0 };

		put(&t, line.p, at);
		put(&t, "\"q=" SECRET "\"", strlen(SECRET) + 4);
		put(&t, line.p + at, line.len - at);
		free(line.p);
		line = t;
	}
	switch (mode) {
	case 0:
		json_escape(&line, &e1);
		in = &e1;
		break;
	case 1:
		json_escape(&line, &e1);
		json_escape(&e1, &e2);
		in = &e2;
		break;
	case 2:
		url_encode(&line, &e1);
		in = &e1;
		break;
	default:
		url_encode(&line, &e1);
		json_escape(&e1, &e2);
		in = &e2;
		break;
	}
	put(in, "\n", 1);
	if (in->len > 8 * MAXIN || count_decoded(in->p, in->len) != 1)
		goto out;	/* the fuzz bytes spell the secret themselves */
	a = run(in->p, in->len, 0);
	b = run(in->p, in->len, step | 1);
	if (a.len != b.len || memcmp(a.p, b.p, a.len) != 0)
		abort();	/* output depends on the chunking */
	if (a.len <= 8 * MAXIN && count_decoded(a.p, a.len) != 0)
		abort();	/* the escaped secret got through */
	free(a.p);
	free(b.p);
out:
	free(line.p);
	free(e1.p);
	free(e2.p);
	return 0;
}
