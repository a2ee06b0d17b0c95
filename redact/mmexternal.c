#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "conf/hush_err.h"
#include "redact/mmexternal.h"

#define MMX_IBUF		(64 * 1024)

/* The redacted text of the message being answered. */
struct mmx_msg {
	uint8_t		*buf;
	size_t		 len;
	size_t		 cap;
	int		 too_long;
	int		 failed;	/* the engine could not take it */
};

static int
mmx_on_output(void *arg, const uint8_t *p, size_t n)
{
	struct mmx_msg *m = arg;
	uint8_t *nb;
	size_t ncap;

	if (m->too_long || n > MMX_MAX_MSG - m->len) {
		m->too_long = 1;
		return 0;	/* keep consuming; the reply says why */
	}
	if (m->len + n > m->cap) {
		ncap = m->cap ? m->cap : 4096;
		while (ncap < m->len + n)
			ncap *= 2;
		if (ncap > MMX_MAX_MSG)
			ncap = MMX_MAX_MSG;
		if ((nb = malloc(ncap)) == NULL) {
			m->failed = 1;
			return -1;
		}
		if (m->len > 0)
			memcpy(nb, m->buf, m->len);
		if (m->buf != NULL) {
			sodium_memzero(m->buf, m->cap);
			free(m->buf);
		}
		m->buf = nb;
		m->cap = ncap;
	}
	memcpy(m->buf + m->len, p, n);
	m->len += n;
	return 0;
}

static int
mmx_write_all(const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(STDOUT_FILENO, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EPIPE)
			return HUSH_ERR_DENIED;
		if (w < 0) {
			fprintf(stderr, "hush-redact: write error: %s\n",
			    strerror(errno));
			return HUSH_ERR_IO;
		}
		p += w;
		n -= (size_t)w;
	}
	return HUSH_OK;
}

/*
 * Writes {"msg":"..."} and a newline in one write, so that rsyslog reads
 * a whole reply. Bytes >= 0x80 go as they are (rsyslog's parser takes
 * UTF-8); quotes, backslashes and controls are escaped.
 */
static int
mmx_reply(const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char *out, *o;
	size_t i;
	int r;

	/* Worst case: every byte as \u00XX, plus the frame. */
	if ((out = malloc(n * 6 + 16)) == NULL) {
		fprintf(stderr, "hush-redact: out of memory\n");
		return HUSH_ERR_NOMEM;
	}
	o = out;
	memcpy(o, "{\"msg\":\"", 8);
	o += 8;
	for (i = 0; i < n; i++) {
		if (p[i] == '"' || p[i] == '\\') {
			*o++ = '\\';
			*o++ = (char)p[i];
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			memcpy(o, "\\u00", 4);
			o[4] = hex[p[i] >> 4];
			o[5] = hex[p[i] & 0xf];
			o += 6;
		} else {
			*o++ = (char)p[i];
		}
	}
	memcpy(o, "\"}\n", 3);
	o += 3;
	r = mmx_write_all(out, (size_t)(o - out));
	sodium_memzero(out, n * 6 + 16);
	free(out);
	return r;
}

/* Finishes the message held in s and answers it; s is freed. */
static int
mmx_answer(struct redact_stream *s, struct mmx_msg *m)
{
	int fr;

	fr = redact_stream_finish(s);
	redact_stream_free(s);
	if (fr != HUSH_OK || m->failed)
		return mmx_reply((const uint8_t *)MMX_FAILED,
		    strlen(MMX_FAILED));
	if (m->too_long)
		return mmx_reply((const uint8_t *)MMX_TOO_LONG,
		    strlen(MMX_TOO_LONG));
	return mmx_reply(m->buf, m->len);
}

static void
mmx_reset(struct mmx_msg *m)
{
	if (m->buf != NULL)
		sodium_memzero(m->buf, m->len);
	m->len = 0;
	m->too_long = 0;
	m->failed = 0;
}

/* Feeds one piece of the current message; a failure fails it closed. */
static void
mmx_feed(struct redact_stream *s, struct mmx_msg *m, const uint8_t *p,
    size_t n)
{
	if (!m->failed && n > 0 && redact_stream_feed(s, p, n) != HUSH_OK)
		m->failed = 1;
}

int
mmx_run(const struct redact_rules *rules, int fd)
{
	struct redact_stream *s = NULL;
	struct mmx_msg m = { NULL, 0, 0, 0, 0 };
	uint8_t *ibuf, *p, *end, *nl;
	ssize_t n;
	int r = HUSH_OK;

	if ((ibuf = malloc(MMX_IBUF)) == NULL) {
		fprintf(stderr, "hush-redact: out of memory\n");
		return HUSH_ERR_NOMEM;
	}
	for (;;) {
		n = read(fd, ibuf, MMX_IBUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "hush-redact: read error: %s\n",
			    strerror(errno));
			r = HUSH_ERR_IO;
			goto out;
		}
		if (n == 0)
			break;
		for (p = ibuf, end = ibuf + n; p < end; p = nl + 1) {
			if (s == NULL && (s = redact_stream_new(rules,
			    mmx_on_output, &m)) == NULL) {
				fprintf(stderr, "hush-redact: out of "
				    "memory\n");
				r = HUSH_ERR_NOMEM;
				goto out;
			}
			if ((nl = memchr(p, '\n', (size_t)(end - p))) ==
			    NULL) {
				/* A message split across reads goes on. */
				mmx_feed(s, &m, p, (size_t)(end - p));
				break;
			}
			mmx_feed(s, &m, p, (size_t)(nl - p));
			r = mmx_answer(s, &m);
			s = NULL;
			mmx_reset(&m);
			if (r != HUSH_OK)
				goto out;
		}
	}
	/* A last message without its newline is answered too. */
	if (s != NULL) {
		r = mmx_answer(s, &m);
		s = NULL;
	}
out:
	redact_stream_free(s);
	sodium_memzero(ibuf, MMX_IBUF);
	free(ibuf);
	if (m.buf != NULL) {
		sodium_memzero(m.buf, m.cap);
		free(m.buf);
	}
	return r;
}
