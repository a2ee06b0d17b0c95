/*
 * test_literals: exact values and their encodings, matched in one pass by
 * the Aho-Corasick automaton (failure links included), and refused when
 * shorter than min_literal_length.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf/hush_err.h"
#include "redact/redact.h"
#include "redact/rules.h"

#define MARK	"[REDACTED:literal]"

struct obuf {
	char	*p;
	size_t	 len;
};

static int
collect(void *arg, const uint8_t *buf, size_t len)
{
	struct obuf *o = arg;
	char *n = realloc(o->p, o->len + len + 1);

	if (n == NULL)
		return -1;
	memcpy(n + o->len, buf, len);
	o->p = n;
	o->len += len;
	o->p[o->len] = '\0';
	return 0;
}

static struct redact_rules *
rules_with(const char *ini, const char *const *lits, size_t n)
{
	struct hush_conf c;
	struct conf_errs errs;
	struct redact_rules *r;
	size_t i;

	conf_errs_init(&errs);
	assert_int_equal(conf_load_string(&c, "t.ini", ini ? ini : "",
	    CONF_SKIP_SOURCE_CHECKS, rules_check_conf, &errs), HUSH_OK);
	assert_non_null(r = redact_rules_new(&c, REDACT_NO_BUILTIN, &errs));
	for (i = 0; i < n; i++)
		assert_int_equal(redact_rules_add_literal(r, "literal",
		    (const uint8_t *)lits[i], strlen(lits[i])), HUSH_OK);
	assert_int_equal(redact_rules_compile(r), HUSH_OK);
	conf_release(&c);
	conf_errs_release(&errs);
	return r;
}

/* Feeds the pieces separately, then finishes. */
static char *
run_pieces(const struct redact_rules *rules, const char *const *pieces,
    size_t n)
{
	struct obuf o = { NULL, 0 };
	struct redact_stream *s;
	size_t i;

	assert_non_null(s = redact_stream_new(rules, collect, &o));
	for (i = 0; i < n; i++)
		assert_int_equal(redact_stream_feed(s,
		    (const uint8_t *)pieces[i], strlen(pieces[i])), HUSH_OK);
	assert_int_equal(redact_stream_finish(s), HUSH_OK);
	redact_stream_free(s);
	return o.p != NULL ? o.p : calloc(1, 1);
}

static char *
run(const struct redact_rules *rules, const char *in)
{
	return run_pieces(rules, &in, 1);
}

/* Reference encoders, written apart from the library's. */

static void
b64(const uint8_t *p, size_t n, bool url, char *out)
{
	const char *a = url ?
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" :
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = i + 1 < n ? a[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? a[v & 63] : '=';
	}
	out[o] = '\0';
	if (url)
		while (o > 0 && out[o - 1] == '=')
			out[--o] = '\0';
}

static void
urlenc(const char *p, bool lower, char *out)
{
	const char *hex = lower ? "0123456789abcdef" : "0123456789ABCDEF";
	size_t o = 0;

	for (; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c) != NULL) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

static void
jsonenc(const char *p, bool slash, char *out)
{
	size_t o = 0;

	for (; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\' || (slash && *p == '/'))
			out[o++] = '\\';
		out[o++] = *p;
	}
	out[o] = '\0';
}

static const char value[] = "s3cr3t/Value+with?chars&=\"q\\x";

static void
literals_masks_the_value_itself(void **state)
{
	const char *lits[] = { value };
	struct redact_rules *r = rules_with(NULL, lits, 1);
	char in[256], *out;

	(void)state;
	snprintf(in, sizeof(in), "pre %s post\n", value);
	out = run(r, in);
	assert_string_equal(out, "pre " MARK " post\n");
	free(out);
	redact_rules_free(r);
}

static void
literals_masks_base64_at_every_alignment(void **state)
{
	const char *lits[] = { value };
	struct redact_rules *r = rules_with(NULL, lits, 1);
	uint8_t raw[256];
	char enc[512], in[600], *out;
	size_t k, n, vl = strlen(value);
	int url;

	(void)state;
	for (url = 0; url < 2; url++)
		for (k = 0; k < 6; k++) {
			/* k bytes before the value, then two after. */
			memset(raw, 'P', k);
			memcpy(raw + k, value, vl);
			memcpy(raw + k + vl, "\n!", 2);
			n = k + vl + 2;
			b64(raw, n, url, enc);
			snprintf(in, sizeof(in), "blob=%s end\n", enc);
			out = run(r, in);
			if (strstr(out, MARK) == NULL)
				fail_msg("base64%s, %zu bytes before: %s",
				    url ? "url" : "", k, out);
			/* What is left of the encoding cannot hold more
			 * than the bytes around the value. */
			assert_true(strlen(out) <= strlen("blob=") + 4 * 2 +
			    strlen(MARK) + strlen(" end\n") + 4);
			free(out);
		}
	redact_rules_free(r);
}

static void
literals_masks_url_and_json_encodings(void **state)
{
	const char *lits[] = { value };
	struct redact_rules *r = rules_with(NULL, lits, 1);
	char enc[512], in[600], *out;
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		if (i < 2)
			urlenc(value, i == 1, enc);
		else
			jsonenc(value, i == 3, enc);
		snprintf(in, sizeof(in), "%s%s%s\n", i < 2 ? "GET /?q=" :
		    "{\"v\":\"", enc, i < 2 ? " HTTP/1.1" : "\"}");
		out = run(r, in);
		if (strstr(out, MARK) == NULL || strstr(out, "Value") != NULL)
			fail_msg("encoding %d: %s", i, out);
		free(out);
	}
	redact_rules_free(r);
}

static void
literals_self_overlapping_value_split_across_feeds(void **state)
{
	const char *lits[] = { "aab" };
	const char *lits2[] = { "abcabd12" };
	struct redact_rules *r = rules_with("[redact]\nmin_literal_length = 3\n",
	    lits, 1);
	const char *p1[] = { "aa", "ab\n" };
	const char *p2[] = { "xabcab", "cabd12y\n" };
	char *out;

	(void)state;
	/* "aab" written as "aa" then "ab": a matcher without failure
	 * links restarts after "aaa" and misses it. */
	out = run_pieces(r, p1, 2);
	assert_string_equal(out, "a" MARK "\n");
	free(out);
	redact_rules_free(r);
	r = rules_with(NULL, lits2, 1);
	out = run_pieces(r, p2, 2);
	assert_string_equal(out, "xabc" MARK "y\n");
	free(out);
	redact_rules_free(r);
}

static void
literals_name_a_value_that_a_builtin_rule_also_matches(void **state)
{
	static const char tok[] =
	    "ghp_Zq8vN2xK4mW7pR9tY3bC6dF1gH5jL0sA2eUq";
	struct conf_errs errs;
	struct redact_rules *r;
	char in[128], *out;

	(void)state;
	/* The same bytes are a GitHub token and a served credential: the
	 * marker names the credential, as the audit log does. */
	conf_errs_init(&errs);
	assert_non_null(r = redact_rules_new(NULL, 0, &errs));
	assert_int_equal(redact_rules_add_literal(r, "credential:github",
	    (const uint8_t *)tok, strlen(tok)), HUSH_OK);
	assert_int_equal(redact_rules_compile(r), HUSH_OK);
	snprintf(in, sizeof(in), "token %s used\n", tok);
	out = run(r, in);
	assert_string_equal(out, "token [REDACTED:credential:github] used\n");
	free(out);
	redact_rules_free(r);
	conf_errs_release(&errs);
}

static void
literals_masked_alongside_the_builtin_pack(void **state)
{
	struct conf_errs errs;
	struct redact_rules *r;
	char in[256], enc[128], *out;

	(void)state;
	/* Keywords come first in the automaton: literal bytes must still
	 * be found where they are, not where a keyword's were. */
	conf_errs_init(&errs);
	assert_non_null(r = redact_rules_new(NULL, 0, &errs));
	assert_int_equal(redact_rules_add_literal(r, "literal",
	    (const uint8_t *)value, strlen(value)), HUSH_OK);
	assert_int_equal(redact_rules_compile(r), HUSH_OK);
	b64((const uint8_t *)value, strlen(value), false, enc);
	snprintf(in, sizeof(in), "a %s b\nc %s d\n", value, enc);
	out = run(r, in);
	assert_string_equal(out, "a " MARK " b\nc " MARK " d\n");
	free(out);
	redact_rules_free(r);
	conf_errs_release(&errs);
}

static void
literals_with_many_distinct_bytes(void **state)
{
	struct conf_errs errs;
	struct redact_rules *r;
	uint8_t v[160], in[200];
	struct obuf o = { NULL, 0 };
	struct redact_stream *s;
	size_t i;

	(void)state;
	/* Over 128 byte classes: the start filter hashes instead of
	 * indexing; the result must not change. */
	for (i = 0; i < 128; i++)
		v[i] = (uint8_t)(0x80 + i);
	memcpy(v + 128, "abcdefghijklmnopqrstuvwxyzABCDEF", 32);
	conf_errs_init(&errs);
	assert_non_null(r = redact_rules_new(NULL, REDACT_NO_BUILTIN, &errs));
	assert_int_equal(redact_rules_add_literal(r, "literal", v, 160),
	    HUSH_OK);
	assert_int_equal(redact_rules_compile(r), HUSH_OK);
	memcpy(in, "x ", 2);
	memcpy(in + 2, v, 160);
	memcpy(in + 162, " y\n", 3);
	assert_non_null(s = redact_stream_new(r, collect, &o));
	assert_int_equal(redact_stream_feed(s, in, 165), HUSH_OK);
	assert_int_equal(redact_stream_finish(s), HUSH_OK);
	assert_string_equal(o.p, "x " MARK " y\n");
	free(o.p);
	redact_stream_free(s);
	redact_rules_free(r);
	conf_errs_release(&errs);
}

static void
literals_two_byte_values_when_allowed(void **state)
{
	const char *lits[] = { "q!" };
	struct redact_rules *r = rules_with("[redact]\nmin_literal_length = 2\n",
	    lits, 1);
	char *out;

	(void)state;
	/* Values shorter than the start filter's three bytes take the
	 * plain automaton walk; the result is the same. */
	out = run(r, "aq!b q q! \"q!\"\n");
	assert_string_equal(out, "a" MARK "b q " MARK " \"" MARK "\"\n");
	free(out);
	redact_rules_free(r);
}

static void
literals_refuses_values_shorter_than_minimum(void **state)
{
	struct redact_rules *r = rules_with(NULL, NULL, 0);
	struct conf_errs errs;
	char *out;

	(void)state;
	redact_rules_free(r);
	conf_errs_init(&errs);
	assert_non_null(r = redact_rules_new(NULL, REDACT_NO_BUILTIN, &errs));
	assert_int_equal(redact_rules_add_literal(r, "literal",
	    (const uint8_t *)"docker", 6), HUSH_ERR_INVALID);
	assert_int_equal(redact_rules_add_literal(r, "literal",
	    (const uint8_t *)"1234567", 7), HUSH_ERR_INVALID);
	assert_int_equal(redact_rules_add_literal(r, "literal",
	    (const uint8_t *)"12345678", 8), HUSH_OK);
	assert_int_equal(redact_rules_compile(r), HUSH_OK);
	/* Compiled rule sets take no more values. */
	assert_int_equal(redact_rules_add_literal(r, "literal",
	    (const uint8_t *)"abcdefghij", 10), HUSH_ERR_INTERNAL);
	out = run(r, "docker 1234567 12345678\n");
	assert_string_equal(out, "docker 1234567 " MARK "\n");
	free(out);
	redact_rules_free(r);
	conf_errs_release(&errs);
}

static void
literals_multi_line_value_is_masked_line_by_line(void **state)
{
	const char *lits[] = { "first-line-secret\nsecond-line-secret\n" };
	struct redact_rules *r = rules_with(NULL, lits, 1);
	char *out;

	(void)state;
	out = run(r, "a first-line-secret\nsecond-line-secret b\n"
	    "{\"k\":\"first-line-secret\\nsecond-line-secret\\n\"}\n");
	assert_string_equal(out, "a " MARK "\n" MARK " b\n{\"k\":\"" MARK
	    "\"}\n");
	free(out);
	redact_rules_free(r);
}

static void
literals_overlapping_values_are_masked_together(void **state)
{
	const char *lits[] = { "abcdefgh12", "defgh12345" };
	struct redact_rules *r = rules_with(NULL, lits, 2);
	char *out;

	(void)state;
	out = run(r, "xx abcdefgh12345 yy\n");
	assert_string_equal(out, "xx " MARK " yy\n");
	free(out);
	redact_rules_free(r);
}

static void
literals_are_case_sensitive(void **state)
{
	const char *lits[] = { "AbCdEfGh12" };
	struct redact_rules *r = rules_with(NULL, lits, 1);
	char *out;

	(void)state;
	out = run(r, "abcdefgh12 ABCDEFGH12 AbCdEfGh12\n");
	assert_string_equal(out, "abcdefgh12 ABCDEFGH12 " MARK "\n");
	free(out);
	redact_rules_free(r);
}

static void
literals_many_values_in_one_pass(void **state)
{
	enum { N = 2000 };
	static char vals[N][25];
	const char *lits[N];
	struct redact_rules *r;
	char *in, *out;
	size_t i, o = 0;
	uint32_t x = 12345;

	(void)state;
	for (i = 0; i < N; i++) {
		size_t k;

		for (k = 0; k < 24; k++) {
			x = x * 1103515245 + 12345;
			vals[i][k] = "abcdefghijklmnopqrstuvwxyz0123456789"
			    [(x >> 16) % 36];
		}
		vals[i][24] = '\0';
		lits[i] = vals[i];
	}
	r = rules_with(NULL, lits, N);
	assert_non_null(in = malloc(N * 40));
	for (i = 0; i < N; i += 7)
		o += (size_t)snprintf(in + o, N * 40 - o, "v=%s;\n", vals[i]);
	out = run(r, in);
	for (i = 0; i < N; i += 7)
		assert_null(strstr(out, vals[i]));
	assert_int_equal(strlen(out), ((N + 6) / 7) * strlen("v=" MARK ";\n"));
	free(in);
	free(out);
	redact_rules_free(r);
}

static void
literals_use_their_names_in_markers(void **state)
{
	struct conf_errs errs;
	struct redact_rules *r;
	char *out;

	(void)state;
	conf_errs_init(&errs);
	assert_non_null(r = redact_rules_new(NULL, REDACT_NO_BUILTIN, &errs));
	assert_int_equal(redact_rules_add_literal(r, "credential:claude",
	    (const uint8_t *)"tok-1234567890", 14), HUSH_OK);
	assert_int_equal(redact_rules_compile(r), HUSH_OK);
	out = run(r, "x tok-1234567890\n");
	assert_string_equal(out, "x [REDACTED:credential:claude]\n");
	free(out);
	redact_rules_free(r);
	conf_errs_release(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(literals_masks_the_value_itself),
		cmocka_unit_test(literals_masks_base64_at_every_alignment),
		cmocka_unit_test(literals_masks_url_and_json_encodings),
		cmocka_unit_test(
		    literals_self_overlapping_value_split_across_feeds),
		cmocka_unit_test(literals_masked_alongside_the_builtin_pack),
		cmocka_unit_test(
		    literals_name_a_value_that_a_builtin_rule_also_matches),
		cmocka_unit_test(literals_with_many_distinct_bytes),
		cmocka_unit_test(literals_two_byte_values_when_allowed),
		cmocka_unit_test(literals_refuses_values_shorter_than_minimum),
		cmocka_unit_test(literals_multi_line_value_is_masked_line_by_line),
		cmocka_unit_test(literals_overlapping_values_are_masked_together),
		cmocka_unit_test(literals_are_case_sensitive),
		cmocka_unit_test(literals_many_values_in_one_pass),
		cmocka_unit_test(literals_use_their_names_in_markers),
	};

	if (hush_harden_process() != HUSH_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
