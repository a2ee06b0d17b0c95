/*
 * Decoded views of escaped text. A secret written inside an escaped JSON
 * document (password=\"x\", {\"api_key\": \"x\"}, postgres:\/\/u:p@h) or
 * a URL-encoded body has the same bytes as the plain one once decoded;
 * the map lets the engine mask the escaped original instead of the view.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "redact/unescape.h"

/* The n hex digits at p as n / 2 bytes in out; false unless all are hex. */
static bool
hex_bytes(const uint8_t *p, size_t n, uint8_t *out)
{
	size_t got = 0;

	return sodium_hex2bin(out, n / 2, (const char *)p, n, NULL, &got,
	    NULL) == 0 && got == n / 2;
}

/* A JSON escape at p[0] == '\\': its length and value, or 0. */
static size_t
json_escape(const uint8_t *p, size_t n, uint8_t *out)
{
	uint8_t u[2];

	if (n < 2)
		return 0;
	switch (p[1]) {
	case '"': *out = '"'; return 2;
	case '\\': *out = '\\'; return 2;
	case '/': *out = '/'; return 2;
	case 'n': *out = '\n'; return 2;
	case 'r': *out = '\r'; return 2;
	case 't': *out = '\t'; return 2;
	case 'b': *out = '\b'; return 2;
	case 'f': *out = '\f'; return 2;
	case 'u':
		if (n < 6 || !hex_bytes(p + 2, 4, u))
			return 0;
		if (u[0] != 0 || u[1] >= 0x80)
			return 0;	/* not ASCII: left as it is */
		*out = u[1];
		return 6;
	default:
		return 0;
	}
}

/* A %XX of a printable character at p[0] == '%': 3, or 0. */
static size_t
url_escape(const uint8_t *p, size_t n, uint8_t *out)
{
	uint8_t v;

	if (n < 3 || !hex_bytes(p + 1, 2, &v) || v < 0x20 || v > 0x7e)
		return 0;
	*out = v;
	return 3;
}

bool
unescape_wanted(const uint8_t *p, size_t n)
{
	const uint8_t *q, *end = p + n;
	uint8_t c;

	for (q = p; (q = memchr(q, '\\', (size_t)(end - q))) != NULL; q++)
		if (json_escape(q, (size_t)(end - q), &c) != 0)
			return true;
	for (q = p; (q = memchr(q, '%', (size_t)(end - q))) != NULL; q++)
		if (url_escape(q, (size_t)(end - q), &c) != 0)
			return true;
	return false;
}

size_t
unescape_decode(const uint8_t *in, size_t n, const uint32_t *inmap,
    uint8_t *out, uint32_t *map)
{
	size_t i = 0, o = 0, k;
	uint8_t c;

	while (i < n) {
		k = 0;
		if (in[i] == '\\')
			k = json_escape(in + i, n - i, &c);
		else if (in[i] == '%')
			k = url_escape(in + i, n - i, &c);
		if (k == 0) {
			c = in[i];
			k = 1;
		}
		out[o] = c;
		map[o] = inmap != NULL ? inmap[i] : (uint32_t)i;
		o++;
		i += k;
	}
	map[o] = inmap != NULL ? inmap[n] : (uint32_t)n;
	return o;
}
