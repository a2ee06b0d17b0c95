/*
 * outbuf.h: a capped output buffer for the text hushd writes on every
 * request (the response head, http.c; the audit line, audit.c). Bytes
 * that do not fit are dropped and the buffer is marked over, so a writer
 * checks once at the end instead of after every piece.
 *
 * The functions are inline: a request writes some thirty pieces, and a
 * call each would cost more than the copies.
 */
#ifndef HUSH_OUTBUF_H
#define HUSH_OUTBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct outbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	bool	 over;		/* something did not fit */
};

static inline void
outbuf_put(struct outbuf *o, const char *s, size_t n)
{
	if (o->over || n > o->cap - o->len) {
		o->over = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static inline void
outbuf_puts(struct outbuf *o, const char *s)
{
	outbuf_put(o, s, strlen(s));
}

/* v in decimal, written from its last digit (no counting pass). */
static inline void
outbuf_uint(struct outbuf *o, unsigned long long v)
{
	char d[20];	/* 2^64 - 1 has 20 digits */
	size_t i = sizeof(d);

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	outbuf_put(o, d + i, sizeof(d) - i);
}

#endif
