/*
 * fuzz_stream: the stream engine on arbitrary bytes. The first two bytes
 * choose a chunking; the output must equal the output of one single feed
 * (chunking independence), and no literal may survive in it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/hush_err.h"
#include "redact/redact.h"
#include "redact/rules.h"

#define LIT	"fuzzLiteralValue42"

static struct redact_rules *rules;

struct obuf {
	uint8_t	*p;
	size_t	 len;
	size_t	 cap;
};

static int
collect(void *arg, const uint8_t *buf, size_t len)
{
	struct obuf *o = arg;

	if (o->len + len > o->cap) {
		size_t nc = (o->len + len) * 2 + 64;
		uint8_t *n = realloc(o->p, nc);

		if (n == NULL)
			abort();
		o->p = n;
		o->cap = nc;
	}
	memcpy(o->p + o->len, buf, len);
	o->len += len;
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
	if (conf_load_string(&c, "fuzz.ini", "[redact]\nmax_line = 4096\n"
	    "format = [{rule}:{len}:{fp}]\n"
	    "[rule \"acme\"]\npattern = acme_([a-z0-9]{8,})\nkeywords = acme\n"
	    "secret_group = 1\n", CONF_SKIP_SOURCE_CHECKS, rules_check_conf,
	    &errs) != HUSH_OK)
		abort();
	if ((rules = redact_rules_new(&c, 0, &errs)) == NULL ||
	    redact_rules_add_literal(rules, "literal",
	    (const uint8_t *)LIT, strlen(LIT)) != HUSH_OK ||
	    redact_rules_compile(rules) != HUSH_OK)
		abort();
	conf_release(&c);
	conf_errs_release(&errs);
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
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct obuf a, b;
	unsigned step;
	size_t i, ll = strlen(LIT);

	if (rules == NULL)
		setup();
	if (size < 2)
		return 0;
	step = data[0] | (unsigned)data[1] << 8;
	data += 2;
	size -= 2;
	a = run(data, size, 0);
	b = run(data, size, step | 1);
	if (a.len != b.len || (a.len > 0 && memcmp(a.p, b.p, a.len) != 0))
		abort();	/* output depends on the chunking */
	for (i = 0; i + ll <= a.len; i++)
		if (memcmp(a.p + i, LIT, ll) == 0)
			abort();	/* a literal got through */
	free(a.p);
	free(b.p);
	return 0;
}
