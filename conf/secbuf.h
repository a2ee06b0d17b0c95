/*
 * secbuf.h: secure buffers, the only home of secret bytes.
 *
 * A secbuf lives in sodium_malloc memory (guard pages, mlock where the
 * system allows, excluded from core dumps), has a fixed capacity chosen at
 * creation and is never reallocated, so no stale copy is left behind. It is
 * reference counted so that a response can hold the value it is writing
 * while the credential is rotated; the last unref wipes and frees it.
 */
#ifndef HUSH_SECBUF_H
#define HUSH_SECBUF_H

#include <stddef.h>
#include <stdint.h>

struct secbuf;

/* A new empty buffer of capacity cap (> 0), refcount 1; NULL on ENOMEM. */
struct secbuf *secbuf_new(size_t cap);

/* A new buffer holding a copy of len bytes of p (capacity len). */
struct secbuf *secbuf_from(const void *p, size_t len);

/* Appends; HUSH_ERR_TOO_LARGE (and nothing appended) past the capacity. */
int secbuf_append(struct secbuf *sb, const void *p, size_t len);

/*
 * Sets the length after writing into secbuf_mut(). len must be <= the
 * capacity: anything more is a broken invariant and aborts.
 */
void secbuf_set_len(struct secbuf *sb, size_t len);

/* Wipes the contents and sets the length to 0. */
void secbuf_clear(struct secbuf *sb);

const uint8_t *secbuf_data(const struct secbuf *sb);
uint8_t *secbuf_mut(struct secbuf *sb);
size_t secbuf_len(const struct secbuf *sb);
size_t secbuf_cap(const struct secbuf *sb);

/* Takes another reference; returns sb. Thread-safe. */
struct secbuf *secbuf_ref(struct secbuf *sb);

/* Drops a reference; the last one wipes and frees. NULL does nothing. */
void secbuf_unref(struct secbuf *sb);

/* Same as secbuf_unref: for the common case of one owner. */
void secbuf_free(struct secbuf *sb);

#endif
