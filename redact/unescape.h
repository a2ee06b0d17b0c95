/*
 * unescape.h: a decoded view of escaped text, so that redaction rules see
 * through JSON string escaping (a JSON log whose message holds JSON,
 * rsyslog's JSON interfaces) and URL encoding. Pure: bytes in, bytes out.
 */
#ifndef HUSH_UNESCAPE_H
#define HUSH_UNESCAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Levels of escaping the engine looks through (\" and \\\"). */
#define UNESCAPE_LEVELS	2

/*
 * Whether unescape_decode would change p[0..n): a JSON escape (\" \\ \/
 * \n \r \t \b \f \uXXXX) or a %XX of a printable character.
 */
bool unescape_wanted(const uint8_t *p, size_t n);

/*
 * Decodes one level of JSON string escaping and URL percent-encoding of
 * in[0..n) into out (room for n bytes) and returns the decoded length.
 * map (room for n + 1 entries) gets, for each out[i], the offset of the
 * first byte of its escape sequence in the original text: inmap[j] when
 * in is itself a decoded view with map inmap, else j. map[len] is the
 * end (inmap[n] or n). Offsets never decrease, so a span of out maps to
 * a span of whole escape sequences of the original.
 *
 * \uXXXX is decoded only below 0x80 (rules are ASCII); other escapes and
 * a %XX that is not printable ASCII are copied as they are.
 */
size_t unescape_decode(const uint8_t *in, size_t n, const uint32_t *inmap,
    uint8_t *out, uint32_t *map);

#endif
