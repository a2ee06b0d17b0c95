/*
 * test_unescape: the decoded views the engine uses to see through JSON
 * string escaping and URL encoding, and the map back to the original.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "redact/unescape.h"

struct view {
	uint8_t		buf[256];
	uint32_t	map[257];
	size_t		len;
};

static void
decode(const char *in, struct view *v)
{
	v->len = unescape_decode((const uint8_t *)in, strlen(in), NULL,
	    v->buf, v->map);
	v->buf[v->len] = '\0';
}

static void
unescape_decodes_json_escapes(void **state)
{
	struct view v;

	(void)state;
	decode("a\\\"b\\\\c\\/d\\ne\\tf\\u0022g", &v);
	assert_string_equal((char *)v.buf, "a\"b\\c/d\ne\tf\"g");
}

static void
unescape_decodes_url_encoding_of_printable_bytes_only(void **state)
{
	struct view v;

	(void)state;
	decode("password%3Dx%26y%0A%zz%4", &v);
	assert_string_equal((char *)v.buf, "password=x&y%0A%zz%4");
}

static void
unescape_leaves_non_ascii_and_unknown_escapes(void **state)
{
	struct view v;

	(void)state;
	decode("\\u00e9\\q\\u12\\", &v);
	assert_string_equal((char *)v.buf, "\\u00e9\\q\\u12\\");
}

/* Each decoded byte maps to the start of its escape sequence. */
static void
unescape_maps_to_whole_escape_sequences(void **state)
{
	struct view v;

	(void)state;
	decode("x\\\"ab%41\\u0022", &v);
	assert_string_equal((char *)v.buf, "x\"abA\"");
	assert_int_equal(v.map[0], 0);
	assert_int_equal(v.map[1], 1);	/* \" */
	assert_int_equal(v.map[2], 3);
	assert_int_equal(v.map[3], 4);
	assert_int_equal(v.map[4], 5);	/* %41 */
	assert_int_equal(v.map[5], 8);	/* \u0022 */
	assert_int_equal(v.map[6], 14);	/* the end */
}

/* A second level maps through the first to the original. */
static void
unescape_two_levels_compose_their_maps(void **state)
{
	const char *in = "p=\\\\\\\"s\\\\\\\"";	/* p=\\\"s\\\" */
	struct view a, b;

	(void)state;
	decode(in, &a);
	assert_string_equal((char *)a.buf, "p=\\\"s\\\"");
	b.len = unescape_decode(a.buf, a.len, a.map, b.buf, b.map);
	b.buf[b.len] = '\0';
	assert_string_equal((char *)b.buf, "p=\"s\"");
	assert_int_equal(b.map[2], 2);	/* \\\" starts at 2 */
	assert_int_equal(b.map[3], 6);	/* s */
	assert_int_equal(b.map[4], 7);	/* \\\" */
	assert_int_equal(b.map[5], strlen(in));
}

static void
unescape_wanted_only_when_something_decodes(void **state)
{
	(void)state;
	assert_false(unescape_wanted((const uint8_t *)"plain 50% \\q", 12));
	assert_true(unescape_wanted((const uint8_t *)"a\\/b", 4));
	assert_true(unescape_wanted((const uint8_t *)"a%2Fb", 5));
	assert_false(unescape_wanted((const uint8_t *)"a%0ab", 5));
	assert_false(unescape_wanted((const uint8_t *)"", 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unescape_decodes_json_escapes),
		cmocka_unit_test(
		    unescape_decodes_url_encoding_of_printable_bytes_only),
		cmocka_unit_test(unescape_leaves_non_ascii_and_unknown_escapes),
		cmocka_unit_test(unescape_maps_to_whole_escape_sequences),
		cmocka_unit_test(unescape_two_levels_compose_their_maps),
		cmocka_unit_test(unescape_wanted_only_when_something_decodes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
