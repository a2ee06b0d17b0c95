/*
 * jsonsec.h: JSON transforms on secret documents (the only jansson user in
 * conf/). Every intermediate byte jansson allocates goes through an
 * allocator that wipes on free, and results are written straight into a
 * secbuf, so no plain-heap copy of a secret outlives the call.
 */
#ifndef HUSH_JSONSEC_H
#define HUSH_JSONSEC_H

#include <stddef.h>
#include <stdint.h>

#include "conf/secbuf.h"

#define JSONSEC_WHY_MAX		160

/*
 * The value at dotted path (a.b.c) in the document doc: a string as its
 * raw bytes, anything else as compact JSON. At most max bytes. On failure
 * returns HUSH_ERR_INVALID (not JSON), HUSH_ERR_NOT_FOUND (no such field),
 * HUSH_ERR_TOO_LARGE or HUSH_ERR_NOMEM, with a reason in why that never
 * quotes the document.
 */
int jsonsec_field(const uint8_t *doc, size_t len, const char *path,
    size_t max, struct secbuf **outp, char why[JSONSEC_WHY_MAX]);

/*
 * The document without the fields at the omit paths and with the fields at
 * the blank paths replaced by "" (either list NULL-terminated or NULL; a
 * missing field is left missing), as compact JSON in the original key
 * order. Blanking keeps the key for readers that require it (Codex refuses
 * an auth.json without tokens.refresh_token) while serving none of its
 * value. At most max bytes. Errors as for jsonsec_field.
 */
int jsonsec_edit(const uint8_t *doc, size_t len, char *const *omit,
    char *const *blank, size_t max, struct secbuf **outp,
    char why[JSONSEC_WHY_MAX]);

#endif
