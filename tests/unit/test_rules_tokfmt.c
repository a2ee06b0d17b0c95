/*
 * test_rules_tokfmt: the token structure checks of redact/tokfmt.c. The
 * expected values were computed independently (Python's zlib.crc32 and
 * base64), from the formats as their providers describe them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "redact/tokfmt.h"

static bool
crc(const char *s)
{
	return tokfmt_crc32_base62((const uint8_t *)s, strlen(s));
}

static bool
b64(const char *s, const char *want)
{
	return tokfmt_b64_starts((const uint8_t *)s, strlen(s), want);
}

static bool
grafana(const char *s)
{
	return tokfmt_grafana((const uint8_t *)s, strlen(s));
}

static bool
bedrock(const char *s)
{
	return tokfmt_bedrock((const uint8_t *)s, strlen(s));
}

static void
tokfmt_crc32_accepts_checksummed_tokens(void **state)
{
	(void)state;
	assert_true(crc("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"));
	assert_true(crc("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"));
	assert_true(crc("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"));
	assert_true(crc("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"));
	/* Placeholder-looking, but the checksum holds: a token. */
	assert_true(crc("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"));
	/* A longer body has no documented checksum: accepted. */
	assert_true(crc("ghs_Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7y3gm1ILabcd"));
}

static void
tokfmt_crc32_rejects_near_misses(void **state)
{
	(void)state;
	/* last checksum character changed */
	assert_false(crc("ghp_Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7y3gm1IM"));
	/* one character of the random part changed */
	assert_false(crc("ghp_Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7z3gm1IL"));
	/* the checksum in the other base62 alphabet (0-9a-zA-Z) */
	assert_false(crc("ghp_Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7y3GM1il"));
	/* the checksum of prefix and random part together */
	assert_false(crc("ghp_Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7y2hc4Hu"));
	/* made up by hand */
	assert_false(crc("ghp_abcdefghijklmnopqrstuvwxyz0123456789"));
	assert_false(crc("ghp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	assert_false(crc("npm_000000000000000000000000000000000000"));
	assert_false(crc("no underscore here"));
}

static void
tokfmt_b64_starts_decodes_both_alphabets(void **state)
{
	(void)state;
	assert_true(b64("eyJvIjoiMSJ9", "{\""));
	assert_true(b64("YmVkcm9jay5hbWF6b25hd3MuY29tLz9BY3Rpb249", "bedrock."));
	/* base64url: '-' and '_' */
	assert_true(b64("PUFTSUElMkY-Pj8", "=ASIA%2F>>?"));
	assert_false(b64("eyJvIjoiMSJ9", "{'"));
	assert_false(b64("ey", "{\""));		/* too short to decode */
	assert_false(b64("e*JvIjoiMSJ9", "{\""));	/* not base64 */
	assert_false(b64("", "{"));
}

static void
tokfmt_grafana_cloud_is_base64_json(void **state)
{
	(void)state;
	assert_true(grafana("glc_eyJvIjoiMSIsIm4iOiJzIiwiayI6InYifQ=="));
	assert_false(grafana("glc_111111111111111111111111111111111111111111="));
	assert_false(grafana("glc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	/* the rule's other token types are not base64 of JSON */
	assert_true(grafana("glsa_abcdefabcdefabcdefabcdefabcdefab_0123abcd"));
}

static void
tokfmt_bedrock_keys_decode_to_their_prefix(void **state)
{
	(void)state;
	assert_true(bedrock("ABSKQmVkcm9ja0FQSUtleS1hYmNkLWF0LTEyMzQ1Njc4"
	    "OTAxMjpjMlZqY21WMA=="));
	assert_false(bedrock("ABSKQmVkcm9ja0tleS1hYmNkLWF0LTEyMzQ1Njc4OTAx"
	    "MjpjMlZqY21WMA=="));
	assert_false(bedrock("ABSKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	assert_true(bedrock("bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29tLz9"
	    "BY3Rpb249Q2FsbFdpdGhCZWFyZXJUb2tlbiZYLUFtei1BbGdvcml0aG09"));
	/* bedrock.amazonaws.coq */
	assert_false(bedrock("bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29x"));
	assert_false(bedrock("bedrock-api-key-docs-and-more-text"));
	assert_false(bedrock("something-else"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tokfmt_crc32_accepts_checksummed_tokens),
		cmocka_unit_test(tokfmt_crc32_rejects_near_misses),
		cmocka_unit_test(tokfmt_b64_starts_decodes_both_alphabets),
		cmocka_unit_test(tokfmt_grafana_cloud_is_base64_json),
		cmocka_unit_test(tokfmt_bedrock_keys_decode_to_their_prefix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
