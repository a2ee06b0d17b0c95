/*
 * Token structure checks, written from the providers' descriptions of
 * their formats (docs/redact.md, "Formats are exact"). Pure functions on
 * (ptr, len): the unit tests and the rule engine call them directly.
 */
#include <string.h>

#include "redact/tokfmt.h"

#define TOKFMT_GH_BODY		36	/* 30 random + 6 checksum */
#define TOKFMT_GH_RANDOM	30
#define TOKFMT_MAX_WANT		32	/* bytes a prefix check decodes */

/* zlib's CRC-32 (IEEE 802.3, reflected), bit by bit: tokens are short. */
static uint32_t
crc32_ieee(const uint8_t *p, size_t len)
{
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < len; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
	}
	return c ^ 0xffffffffu;
}

bool
tokfmt_crc32_base62(const uint8_t *p, size_t len)
{
	static const char digits[] =
	    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	const uint8_t *us, *body;
	char want[6];
	uint32_t c;
	int i;

	if ((us = memchr(p, '_', len)) == NULL)
		return false;
	body = us + 1;
	if ((size_t)(p + len - body) != TOKFMT_GH_BODY)
		return true;
	c = crc32_ieee(body, TOKFMT_GH_RANDOM);
	for (i = 5; i >= 0; i--) {
		want[i] = digits[c % 62];
		c /= 62;
	}
	return memcmp(body + TOKFMT_GH_RANDOM, want, sizeof(want)) == 0;
}

static int
b64val(uint8_t ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+' || ch == '-')
		return 62;
	if (ch == '/' || ch == '_')
		return 63;
	return -1;
}

bool
tokfmt_b64_starts(const uint8_t *b, size_t len, const char *want)
{
	uint8_t out[TOKFMT_MAX_WANT];
	size_t wl = strlen(want), n = 0, i;
	uint32_t acc = 0;
	int bits = 0, v;

	if (wl > sizeof(out))
		return false;
	for (i = 0; i < len && n < wl; i++) {
		if ((v = b64val(b[i])) < 0)
			return false;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return n == wl && memcmp(out, want, wl) == 0;
}

static bool
has_prefix(const uint8_t *p, size_t len, const char *pfx)
{
	size_t n = strlen(pfx);

	return len >= n && memcmp(p, pfx, n) == 0;
}

bool
tokfmt_grafana(const uint8_t *p, size_t len)
{
	if (!has_prefix(p, len, "glc_"))
		return true;
	return tokfmt_b64_starts(p + 4, len - 4, "{\"");
}

bool
tokfmt_bedrock(const uint8_t *p, size_t len)
{
	if (has_prefix(p, len, "ABSK"))
		return tokfmt_b64_starts(p + 4, len - 4, "BedrockAPIKey-");
	if (has_prefix(p, len, "bedrock-api-key-"))
		return tokfmt_b64_starts(p + 16, len - 16,
		    "bedrock.amazonaws.com");
	return false;
}
