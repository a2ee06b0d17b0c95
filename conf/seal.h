/*
 * seal.h: key files and sealed files for sealed: sources (formats in
 * docs/sources.md).
 *
 * A key file is one line of text, "hush-key-v1:" and the standard base64
 * of 32 random bytes, so it survives copy and paste. A sealed file is
 * binary: the 8-byte magic "HUSHSEAL", a version byte (1), a 24-byte
 * random nonce, then the XChaCha20-Poly1305 ciphertext and its 16-byte
 * tag, with magic and version bound as associated data.
 */
#ifndef HUSH_SEAL_H
#define HUSH_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "conf/secbuf.h"

#define SEAL_KEY_BYTES		32
#define SEAL_KEY_PREFIX		"hush-key-v1:"
#define SEAL_KEY_FILE_MAX	256	/* a longer key file is not ours */
#define SEAL_MAGIC		"HUSHSEAL"
#define SEAL_MAGIC_LEN		8
#define SEAL_VERSION		1
#define SEAL_HEADER_BYTES	(SEAL_MAGIC_LEN + 1)
#define SEAL_NONCE_BYTES	24
#define SEAL_TAG_BYTES		16
#define SEAL_OVERHEAD		(SEAL_HEADER_BYTES + SEAL_NONCE_BYTES + \
				 SEAL_TAG_BYTES)
#define SEAL_MAX_PLAIN		(1 << 20)	/* what `hush seal` accepts */
#define SEAL_ERR_MAX		224

struct seal_err {
	char	msg[SEAL_ERR_MAX];	/* never contains key or plaintext */
};

/*
 * Creates path (O_EXCL: an existing file is never replaced) with mode
 * 0600 whatever the umask, holding a new random key. On failure nothing
 * is left at path.
 */
int seal_key_create(const char *path, struct seal_err *err);

/*
 * Reads the key in path into a new secbuf of SEAL_KEY_BYTES. Refuses a
 * key file that group or others may access (HUSH_ERR_DENIED), that is not
 * a regular file, or that is malformed (HUSH_ERR_INVALID).
 */
int seal_key_load(const char *path, struct secbuf **keyp,
    struct seal_err *err);

/*
 * Seals len bytes of plain with key. *outp (malloc'd, the caller frees)
 * holds SEAL_OVERHEAD + len bytes: the ciphertext is not secret.
 */
int seal_encrypt(const struct secbuf *key, const uint8_t *plain, size_t len,
    uint8_t **outp, size_t *outlenp);

/*
 * Opens a sealed file's bytes into a new secbuf. A plaintext longer than
 * max is HUSH_ERR_TOO_LARGE; a file that is not ours is HUSH_ERR_INVALID;
 * a wrong key or any change to the file is HUSH_ERR_CRYPTO. No output on
 * any failure.
 */
int seal_decrypt(const struct secbuf *key, const uint8_t *in, size_t len,
    size_t max, struct secbuf **outp, struct seal_err *err);

#endif
