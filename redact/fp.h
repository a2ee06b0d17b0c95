/*
 * fp.h: the keyed fingerprint of a secret value, the one implementation
 * behind both the {fp} of a redaction marker and the "fp" of hushd's
 * audit lines: the first REDACT_FP_CHARS hex digits of BLAKE2b-128 keyed
 * with a 32-byte key held in a secbuf. The same key file gives the same
 * fingerprint in hush-redact and hushd, so an audit line names the value
 * a log's marker hid without either showing it.
 */
#ifndef HUSH_REDACT_FP_H
#define HUSH_REDACT_FP_H

#include <stddef.h>

#include "conf/secbuf.h"

#define REDACT_FP_KEY_BYTES	32
#define REDACT_FP_CHARS		12
#define REDACT_FP_KEY_FILE_MIN	16
#define REDACT_FP_KEY_FILE_MAX	4096

/*
 * The fingerprint key in *keyp (a new secbuf): BLAKE2b-256 of the whole
 * file at path, so a key file of any length in 16..4096 bytes works; or,
 * with path NULL, random (fingerprints then compare within one run only).
 * HUSH_OK, or an error with the reason (naming path, never its bytes) in
 * msg.
 */
int redact_fp_key(const char *path, struct secbuf **keyp, char *msg,
    size_t msglen);

/* The fingerprint of len bytes at v: REDACT_FP_CHARS hex digits + NUL. */
void redact_fp(const struct secbuf *key, const void *v, size_t len,
    char out[REDACT_FP_CHARS + 1]);

#endif
