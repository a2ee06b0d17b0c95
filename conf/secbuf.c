#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "conf/hush_err.h"
#include "conf/secbuf.h"

struct secbuf {
	atomic_uint	 refs;
	size_t		 len;
	size_t		 cap;
	uint8_t		*data;	/* points just past the header, same allocation */
};

/*
 * Header and data share one sodium_malloc region. sodium_malloc aligns the
 * end of the region to the guard page, so the size is rounded up to keep
 * the header aligned.
 */
#define SECBUF_ALIGN	16

struct secbuf *
secbuf_new(size_t cap)
{
	struct secbuf *sb;
	size_t hdr = (sizeof(*sb) + SECBUF_ALIGN - 1) & ~(size_t)(SECBUF_ALIGN - 1);
	size_t total;

	if (cap == 0 || cap > SIZE_MAX / 2)
		return NULL;
	total = (hdr + cap + SECBUF_ALIGN - 1) & ~(size_t)(SECBUF_ALIGN - 1);
	if ((sb = sodium_malloc(total)) == NULL)
		return NULL;
	atomic_init(&sb->refs, 1);
	sb->len = 0;
	sb->cap = cap;
	sb->data = (uint8_t *)sb + hdr;
	sodium_memzero(sb->data, cap);
	return sb;
}

struct secbuf *
secbuf_from(const void *p, size_t len)
{
	struct secbuf *sb = secbuf_new(len > 0 ? len : 1);

	if (sb != NULL && len > 0) {
		memcpy(sb->data, p, len);
		sb->len = len;
	}
	return sb;
}

int
secbuf_append(struct secbuf *sb, const void *p, size_t len)
{
	if (len > sb->cap - sb->len)
		return HUSH_ERR_TOO_LARGE;
	if (len > 0)
		memcpy(sb->data + sb->len, p, len);
	sb->len += len;
	return HUSH_OK;
}

void
secbuf_set_len(struct secbuf *sb, size_t len)
{
	/*
	 * A length past the capacity means the caller already wrote past
	 * it, or is about to serve bytes that were never written: a bug,
	 * not input. Clamping would hide it behind a silently shortened
	 * value, so it ends the process (the numbers are not secret).
	 */
	if (len > sb->cap) {
		fprintf(stderr, "secbuf: length %zu past capacity %zu\n", len,
		    sb->cap);
		abort();
	}
	sb->len = len;
}

void
secbuf_clear(struct secbuf *sb)
{
	sodium_memzero(sb->data, sb->cap);
	sb->len = 0;
}

const uint8_t *
secbuf_data(const struct secbuf *sb)
{
	return sb->data;
}

uint8_t *
secbuf_mut(struct secbuf *sb)
{
	return sb->data;
}

size_t
secbuf_len(const struct secbuf *sb)
{
	return sb->len;
}

size_t
secbuf_cap(const struct secbuf *sb)
{
	return sb->cap;
}

struct secbuf *
secbuf_ref(struct secbuf *sb)
{
	atomic_fetch_add(&sb->refs, 1);
	return sb;
}

void
secbuf_unref(struct secbuf *sb)
{
	if (sb == NULL)
		return;
	if (atomic_fetch_sub(&sb->refs, 1) != 1)
		return;
	/* sodium_free wipes the whole region before unmapping it. */
	sodium_free(sb);
}

void
secbuf_free(struct secbuf *sb)
{
	secbuf_unref(sb);
}
