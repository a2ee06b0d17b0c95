#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "conf/hush_err.h"
#include "redact/fp.h"

int
redact_fp_key(const char *path, struct secbuf **keyp, char *msg,
    size_t msglen)
{
	struct secbuf *key, *raw = NULL;
	struct stat st;
	ssize_t n;
	int fd, r = HUSH_ERR_IO;

	*keyp = NULL;
	if ((key = secbuf_new(REDACT_FP_KEY_BYTES)) == NULL) {
		snprintf(msg, msglen, "out of memory");
		return HUSH_ERR_NOMEM;
	}
	if (path == NULL) {
		randombytes_buf(secbuf_mut(key), REDACT_FP_KEY_BYTES);
		secbuf_set_len(key, REDACT_FP_KEY_BYTES);
		*keyp = key;
		return HUSH_OK;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		snprintf(msg, msglen, "fingerprint_key_file %s: %s", path,
		    strerror(errno));
		secbuf_unref(key);
		return HUSH_ERR_IO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size < REDACT_FP_KEY_FILE_MIN ||
	    st.st_size > REDACT_FP_KEY_FILE_MAX) {
		snprintf(msg, msglen, "fingerprint_key_file %s: not a regular "
		    "file of %d to %d bytes", path, REDACT_FP_KEY_FILE_MIN,
		    REDACT_FP_KEY_FILE_MAX);
		goto out;
	}
	if ((raw = secbuf_new((size_t)st.st_size)) == NULL) {
		snprintf(msg, msglen, "out of memory");
		r = HUSH_ERR_NOMEM;
		goto out;
	}
	while (secbuf_len(raw) < (size_t)st.st_size) {
		n = read(fd, secbuf_mut(raw) + secbuf_len(raw),
		    (size_t)st.st_size - secbuf_len(raw));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(msg, msglen, "fingerprint_key_file %s: read "
			    "error", path);
			goto out;
		}
		secbuf_set_len(raw, secbuf_len(raw) + (size_t)n);
	}
	crypto_generichash(secbuf_mut(key), REDACT_FP_KEY_BYTES,
	    secbuf_data(raw), secbuf_len(raw), NULL, 0);
	secbuf_set_len(key, REDACT_FP_KEY_BYTES);
	*keyp = key;
	key = NULL;
	r = HUSH_OK;
out:
	secbuf_unref(raw);
	secbuf_unref(key);
	close(fd);
	return r;
}

void
redact_fp(const struct secbuf *key, const void *v, size_t len,
    char out[REDACT_FP_CHARS + 1])
{
	uint8_t h[16];
	char hex[2 * sizeof(h) + 1];

	crypto_generichash(h, sizeof(h), v, len, secbuf_data(key),
	    secbuf_len(key));
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	memcpy(out, hex, REDACT_FP_CHARS);
	out[REDACT_FP_CHARS] = '\0';
	/* a hash of a secret is not one, but costs nothing to wipe */
	sodium_memzero(h, sizeof(h));
	sodium_memzero(hex, sizeof(hex));
}
