#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "conf/fdio.h"
#include "conf/hush_err.h"
#include "conf/seal.h"

#define SEAL_B64_VARIANT	sodium_base64_VARIANT_ORIGINAL
#define SEAL_KEY_B64_LEN	44	/* base64 of 32 bytes, with padding */
#define SEAL_KEY_TEXT_LEN	(sizeof(SEAL_KEY_PREFIX) - 1 + \
				 SEAL_KEY_B64_LEN + 1)

static int
seal_fail(struct seal_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
seal_fail(struct seal_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

static int
seal_errno_code(int errnum)
{
	switch (errnum) {
	case ENOENT:
		return HUSH_ERR_NOT_FOUND;
	case EACCES:
	case EPERM:
		return HUSH_ERR_DENIED;
	default:
		return HUSH_ERR_IO;
	}
}

/* strerror is not thread-safe; hushd loads keys from worker threads. */
static const char *
seal_strerror(int errnum, char *buf, size_t len)
{
	if (strerror_r(errnum, buf, len) != 0)
		snprintf(buf, len, "error %d", errnum);
	return buf;
}

int
seal_key_create(const char *path, struct seal_err *err)
{
	uint8_t raw[SEAL_KEY_BYTES];
	struct secbuf *text = NULL;
	char ebuf[128];
	size_t plen = sizeof(SEAL_KEY_PREFIX) - 1;
	int fd = -1, r = HUSH_ERR_INTERNAL, e;

	if ((text = secbuf_new(SEAL_KEY_TEXT_LEN + 1)) == NULL) {
		r = seal_fail(err, HUSH_ERR_NOMEM, "out of secure memory");
		goto out;
	}
	randombytes_buf(raw, sizeof(raw));
	memcpy(secbuf_mut(text), SEAL_KEY_PREFIX, plen);
	/* sodium_bin2base64 writes the terminating NUL too. */
	sodium_bin2base64((char *)secbuf_mut(text) + plen,
	    secbuf_cap(text) - plen, raw, sizeof(raw), SEAL_B64_VARIANT);
	secbuf_mut(text)[SEAL_KEY_TEXT_LEN - 1] = '\n';
	secbuf_set_len(text, SEAL_KEY_TEXT_LEN);

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0) {
		e = errno;
		r = seal_fail(err, e == EEXIST ? HUSH_ERR_DENIED :
		    seal_errno_code(e), "%s: %s%s", path,
		    seal_strerror(e, ebuf, sizeof(ebuf)), e == EEXIST ?
		    " (refusing to overwrite a key)" : "");
		goto out;
	}
	/* The umask may have taken the owner's bits: make it exactly 0600. */
	if (fchmod(fd, 0600) != 0 ||
	    fdio_write_all(fd, secbuf_data(text), secbuf_len(text)) != 0 ||
	    fsync(fd) != 0) {
		e = errno;
		r = seal_fail(err, HUSH_ERR_IO, "%s: %s", path,
		    seal_strerror(e, ebuf, sizeof(ebuf)));
		(void)unlink(path);
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		e = errno;
		r = seal_fail(err, HUSH_ERR_IO, "%s: %s", path,
		    seal_strerror(e, ebuf, sizeof(ebuf)));
		(void)unlink(path);
		goto out;
	}
	fd = -1;
	r = HUSH_OK;
out:
	if (fd >= 0)
		(void)close(fd);
	sodium_memzero(raw, sizeof(raw));
	secbuf_free(text);
	return r;
}

/* Decodes the text of a key file (a trailing newline is allowed). */
static int
seal_key_parse(const uint8_t *text, size_t len, struct secbuf **keyp,
    struct seal_err *err)
{
	struct secbuf *key = NULL;
	const char *b64, *end = NULL;
	size_t plen = sizeof(SEAL_KEY_PREFIX) - 1, blen, n = 0;
	int r;

	/* Copy and paste adds line ends and trailing blanks; allow them. */
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' ||
	    text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	if (len < plen || memcmp(text, SEAL_KEY_PREFIX, plen) != 0)
		return seal_fail(err, HUSH_ERR_INVALID, "not a hush key "
		    "(expected a line starting with \"%s\")", SEAL_KEY_PREFIX);
	b64 = (const char *)text + plen;
	blen = len - plen;
	if ((key = secbuf_new(SEAL_KEY_BYTES)) == NULL)
		return seal_fail(err, HUSH_ERR_NOMEM, "out of secure memory");
	if (blen != SEAL_KEY_B64_LEN ||
	    sodium_base642bin(secbuf_mut(key), SEAL_KEY_BYTES, b64, blen,
	    NULL, &n, &end, SEAL_B64_VARIANT) != 0 ||
	    end != b64 + blen || n != SEAL_KEY_BYTES) {
		r = seal_fail(err, HUSH_ERR_INVALID, "malformed hush key "
		    "(expected %s and the base64 of %d bytes)",
		    SEAL_KEY_PREFIX, SEAL_KEY_BYTES);
		secbuf_free(key);
		return r;
	}
	secbuf_set_len(key, SEAL_KEY_BYTES);
	*keyp = key;
	return HUSH_OK;
}

int
seal_key_load(const char *path, struct secbuf **keyp, struct seal_err *err)
{
	struct secbuf *text = NULL;
	struct stat st;
	char ebuf[128];
	int fd = -1, r = HUSH_ERR_INTERNAL, e;

	/* O_NONBLOCK: a FIFO put in the key's place must not hang us. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) < 0) {
		e = errno;
		r = seal_fail(err, seal_errno_code(e), "key file %s: %s", path,
		    seal_strerror(e, ebuf, sizeof(ebuf)));
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		e = errno;
		r = seal_fail(err, HUSH_ERR_IO, "key file %s: %s", path,
		    seal_strerror(e, ebuf, sizeof(ebuf)));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = seal_fail(err, HUSH_ERR_INVALID, "key file %s: not a "
		    "regular file", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		r = seal_fail(err, HUSH_ERR_DENIED, "key file %s: group or "
		    "others may access it (mode %04o); chmod 600 it", path,
		    (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if ((text = secbuf_new(SEAL_KEY_FILE_MAX + 1)) == NULL) {
		r = seal_fail(err, HUSH_ERR_NOMEM, "out of secure memory");
		goto out;
	}
	if (fdio_read_secbuf(fd, text) != 0) {
		e = errno;
		r = seal_fail(err, HUSH_ERR_IO, "key file %s: %s", path,
		    seal_strerror(e, ebuf, sizeof(ebuf)));
		goto out;
	}
	if (secbuf_len(text) > SEAL_KEY_FILE_MAX) {
		r = seal_fail(err, HUSH_ERR_INVALID, "key file %s: too large "
		    "to be a hush key", path);
		goto out;
	}
	if ((r = seal_key_parse(secbuf_data(text), secbuf_len(text), keyp,
	    err)) != HUSH_OK) {
		struct seal_err why = *err;

		seal_fail(err, r, "key file %s: %s", path, why.msg);
	}
out:
	if (fd >= 0)
		(void)close(fd);
	secbuf_free(text);
	return r;
}

int
seal_encrypt(const struct secbuf *key, const uint8_t *plain, size_t len,
    uint8_t **outp, size_t *outlenp)
{
	unsigned long long clen;
	uint8_t *out;

	if (secbuf_len(key) != SEAL_KEY_BYTES)
		return HUSH_ERR_INVALID;
	if (len > SIZE_MAX - SEAL_OVERHEAD)
		return HUSH_ERR_TOO_LARGE;
	if ((out = malloc(SEAL_OVERHEAD + len)) == NULL)
		return HUSH_ERR_NOMEM;
	memcpy(out, SEAL_MAGIC, SEAL_MAGIC_LEN);
	out[SEAL_MAGIC_LEN] = SEAL_VERSION;
	randombytes_buf(out + SEAL_HEADER_BYTES, SEAL_NONCE_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
	    out + SEAL_HEADER_BYTES + SEAL_NONCE_BYTES, &clen, plain, len,
	    out, SEAL_HEADER_BYTES, NULL, out + SEAL_HEADER_BYTES,
	    secbuf_data(key));
	*outp = out;
	*outlenp = SEAL_HEADER_BYTES + SEAL_NONCE_BYTES + (size_t)clen;
	return HUSH_OK;
}

int
seal_decrypt(const struct secbuf *key, const uint8_t *in, size_t len,
    size_t max, struct secbuf **outp, struct seal_err *err)
{
	struct secbuf *sb;
	unsigned long long mlen;
	size_t plen;

	if (secbuf_len(key) != SEAL_KEY_BYTES)
		return seal_fail(err, HUSH_ERR_INVALID, "the key is not %d "
		    "bytes", SEAL_KEY_BYTES);
	if (len < SEAL_HEADER_BYTES ||
	    memcmp(in, SEAL_MAGIC, SEAL_MAGIC_LEN) != 0)
		return seal_fail(err, HUSH_ERR_INVALID, "not a hush sealed "
		    "file");
	if (in[SEAL_MAGIC_LEN] != SEAL_VERSION)
		return seal_fail(err, HUSH_ERR_INVALID, "unsupported sealed "
		    "file version %u", (unsigned)in[SEAL_MAGIC_LEN]);
	if (len < SEAL_OVERHEAD)
		return seal_fail(err, HUSH_ERR_INVALID, "sealed file is "
		    "truncated");
	plen = len - SEAL_OVERHEAD;
	if (plen > max)
		return seal_fail(err, HUSH_ERR_TOO_LARGE, "sealed value is "
		    "larger than max_size (%zu bytes)", max);
	if ((sb = secbuf_new(plen > 0 ? plen : 1)) == NULL)
		return seal_fail(err, HUSH_ERR_NOMEM, "out of secure memory");
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(secbuf_mut(sb), &mlen,
	    NULL, in + SEAL_HEADER_BYTES + SEAL_NONCE_BYTES,
	    len - SEAL_HEADER_BYTES - SEAL_NONCE_BYTES, in, SEAL_HEADER_BYTES,
	    in + SEAL_HEADER_BYTES, secbuf_data(key)) != 0) {
		secbuf_free(sb);
		return seal_fail(err, HUSH_ERR_CRYPTO, "authentication failed "
		    "(wrong key, or the sealed file was changed)");
	}
	secbuf_set_len(sb, (size_t)mlen);
	*outp = sb;
	return HUSH_OK;
}
