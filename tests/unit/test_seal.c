/* Sealing: key files, round trips, and every way a sealed file can be bad. */
#include <sys/stat.h>
#include <sys/types.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sodium.h>

#include "conf/hush_err.h"
#include "conf/seal.h"
#include "conf/secbuf.h"

static char tmpdir[256];

static int
setup_all(void **state)
{
	char tmpl[] = "/tmp/hush-test-seal-XXXXXX";

	(void)state;
	if (hush_harden_process() != HUSH_OK || mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(tmpdir, sizeof(tmpdir), "%s", tmpl);
	return 0;
}

static int
teardown_all(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *
tpath(char *buf, size_t len, const char *name)
{
	assert_true((size_t)snprintf(buf, len, "%s/%s", tmpdir, name) < len);
	(void)unlink(buf);
	return buf;
}

static void
write_file(const char *path, const void *p, size_t len, mode_t mode)
{
	int fd;

	(void)unlink(path);
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)) >= 0);
	assert_int_equal(write(fd, p, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static struct secbuf *
random_key(void)
{
	struct secbuf *k = secbuf_new(SEAL_KEY_BYTES);

	assert_non_null(k);
	randombytes_buf(secbuf_mut(k), SEAL_KEY_BYTES);
	secbuf_set_len(k, SEAL_KEY_BYTES);
	return k;
}

static int
contains(const uint8_t *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle), i;

	for (i = 0; i + n <= len; i++) {
		if (memcmp(hay + i, needle, n) == 0)
			return 1;
	}
	return 0;
}

static void
seal(const struct secbuf *key, const char *s, uint8_t **ctp, size_t *lenp)
{
	assert_int_equal(seal_encrypt(key, (const uint8_t *)s, strlen(s), ctp,
	    lenp), HUSH_OK);
	assert_int_equal(*lenp, strlen(s) + SEAL_OVERHEAD);
}

static void
seal_round_trip_gives_back_the_plaintext(void **state)
{
	static const char plain[] = "a sealed secret\n\0with a NUL";
	struct secbuf *key = random_key(), *out = NULL;
	struct seal_err err;
	uint8_t *ct = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(seal_encrypt(key, (const uint8_t *)plain,
	    sizeof(plain), &ct, &len), HUSH_OK);
	assert_int_equal(len, sizeof(plain) + SEAL_OVERHEAD);
	assert_memory_equal(ct, SEAL_MAGIC, SEAL_MAGIC_LEN);
	assert_int_equal(ct[SEAL_MAGIC_LEN], SEAL_VERSION);
	/* The plaintext does not show through. */
	assert_false(contains(ct, len, "sealed secret"));
	assert_int_equal(seal_decrypt(key, ct, len, SEAL_MAX_PLAIN, &out, &err),
	    HUSH_OK);
	assert_int_equal(secbuf_len(out), sizeof(plain));
	assert_memory_equal(secbuf_data(out), plain, sizeof(plain));
	free(ct);
	secbuf_free(out);
	secbuf_free(key);
}

static void
seal_of_same_input_differs_each_time(void **state)
{
	struct secbuf *key = random_key();
	uint8_t *a = NULL, *b = NULL;
	size_t alen, blen;

	(void)state;
	seal(key, "same", &a, &alen);
	seal(key, "same", &b, &blen);
	assert_int_equal(alen, blen);
	assert_memory_not_equal(a, b, alen);
	free(a);
	free(b);
	secbuf_free(key);
}

static void
seal_wrong_key_fails_authentication(void **state)
{
	struct secbuf *k1 = random_key(), *k2 = random_key(), *out = NULL;
	struct seal_err err;
	uint8_t *ct = NULL;
	size_t len;

	(void)state;
	seal(k1, "for k1 only", &ct, &len);
	assert_int_equal(seal_decrypt(k2, ct, len, SEAL_MAX_PLAIN, &out, &err),
	    HUSH_ERR_CRYPTO);
	assert_null(out);
	assert_non_null(strstr(err.msg, "authentication failed"));
	free(ct);
	secbuf_free(k1);
	secbuf_free(k2);
}

/* Every single-bit change anywhere in the file is caught. */
static void
seal_detects_tampered_ciphertext(void **state)
{
	struct secbuf *key = random_key(), *out = NULL;
	struct seal_err err;
	uint8_t *ct = NULL;
	size_t len, i;
	int r;

	(void)state;
	seal(key, "do not touch", &ct, &len);
	for (i = 0; i < len; i++) {
		ct[i] ^= 0x04;
		r = seal_decrypt(key, ct, len, SEAL_MAX_PLAIN, &out, &err);
		if (r == HUSH_OK)
			fail_msg("a change at byte %zu went unnoticed", i);
		/* Magic and version are checked first; the rest by the tag. */
		assert_int_equal(r, i < SEAL_HEADER_BYTES ? HUSH_ERR_INVALID :
		    HUSH_ERR_CRYPTO);
		assert_null(out);
		ct[i] ^= 0x04;
	}
	assert_int_equal(seal_decrypt(key, ct, len, SEAL_MAX_PLAIN, &out, &err),
	    HUSH_OK);
	secbuf_free(out);
	free(ct);
	secbuf_free(key);
}

static void
seal_truncated_or_extended_file_is_refused(void **state)
{
	struct secbuf *key = random_key(), *out = NULL;
	struct seal_err err;
	uint8_t *ct = NULL, *longer;
	size_t len, n;

	(void)state;
	seal(key, "whole", &ct, &len);
	for (n = 0; n < len; n++) {
		assert_int_not_equal(seal_decrypt(key, ct, n, SEAL_MAX_PLAIN,
		    &out, &err), HUSH_OK);
		assert_null(out);
	}
	assert_non_null(longer = malloc(len + 1));
	memcpy(longer, ct, len);
	longer[len] = 0;
	assert_int_equal(seal_decrypt(key, longer, len + 1, SEAL_MAX_PLAIN,
	    &out, &err), HUSH_ERR_CRYPTO);
	assert_null(out);
	free(longer);
	free(ct);
	secbuf_free(key);
}

static void
seal_other_magic_or_version_is_not_ours(void **state)
{
	struct secbuf *key = random_key(), *out = NULL;
	struct seal_err err;
	uint8_t *ct = NULL;
	size_t len;

	(void)state;
	seal(key, "v", &ct, &len);
	ct[SEAL_MAGIC_LEN] = 2;
	assert_int_equal(seal_decrypt(key, ct, len, SEAL_MAX_PLAIN, &out, &err),
	    HUSH_ERR_INVALID);
	assert_non_null(strstr(err.msg, "unsupported sealed file version 2"));
	ct[0] = 'X';
	assert_int_equal(seal_decrypt(key, ct, len, SEAL_MAX_PLAIN, &out, &err),
	    HUSH_ERR_INVALID);
	assert_string_equal(err.msg, "not a hush sealed file");
	assert_null(out);
	free(ct);
	secbuf_free(key);
}

static void
seal_decrypt_refuses_plaintext_over_max(void **state)
{
	struct secbuf *key = random_key(), *out = NULL;
	struct seal_err err;
	uint8_t *ct = NULL;
	size_t len;

	(void)state;
	seal(key, "12345", &ct, &len);
	assert_int_equal(seal_decrypt(key, ct, len, 4, &out, &err),
	    HUSH_ERR_TOO_LARGE);
	assert_null(out);
	assert_int_equal(seal_decrypt(key, ct, len, 5, &out, &err), HUSH_OK);
	secbuf_free(out);
	free(ct);
	secbuf_free(key);
}

static void
seal_key_file_round_trip(void **state)
{
	struct secbuf *k1 = NULL, *k2 = NULL, *out = NULL;
	struct seal_err err;
	char p[512];
	uint8_t *ct = NULL;
	size_t len;

	(void)state;
	assert_int_equal(seal_key_create(tpath(p, sizeof(p), "rt.key"), &err),
	    HUSH_OK);
	assert_int_equal(seal_key_load(p, &k1, &err), HUSH_OK);
	assert_int_equal(secbuf_len(k1), SEAL_KEY_BYTES);
	seal(k1, "via key file", &ct, &len);
	assert_int_equal(seal_key_load(p, &k2, &err), HUSH_OK);
	assert_int_equal(secbuf_len(k1), secbuf_len(k2));
	assert_int_equal(sodium_memcmp(secbuf_data(k1), secbuf_data(k2),
	    secbuf_len(k1)), 0);
	assert_int_equal(seal_decrypt(k2, ct, len, SEAL_MAX_PLAIN, &out, &err),
	    HUSH_OK);
	assert_memory_equal(secbuf_data(out), "via key file", 12);
	free(ct);
	secbuf_free(out);
	secbuf_free(k1);
	secbuf_free(k2);
}

static void
seal_key_file_is_one_line_of_text(void **state)
{
	struct seal_err err;
	char p[512], buf[128];
	FILE *f;
	size_t n;

	(void)state;
	assert_int_equal(seal_key_create(tpath(p, sizeof(p), "text.key"), &err),
	    HUSH_OK);
	assert_non_null(f = fopen(p, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_int_equal(n, strlen(SEAL_KEY_PREFIX) + 44 + 1);
	assert_int_equal(strncmp(buf, SEAL_KEY_PREFIX, strlen(SEAL_KEY_PREFIX)),
	    0);
	assert_int_equal(buf[n - 1], '\n');
	assert_int_equal(buf[n - 2], '=');
	assert_null(strchr(buf, ' '));
}

static void
seal_key_create_makes_mode_0600_whatever_the_umask(void **state)
{
	struct seal_err err;
	struct stat st;
	char p[512];
	mode_t old;

	(void)state;
	old = umask(0);
	assert_int_equal(seal_key_create(tpath(p, sizeof(p), "u0.key"), &err),
	    HUSH_OK);
	umask(0377);
	assert_int_equal(seal_key_create(tpath(p, sizeof(p), "u377.key"),
	    &err), HUSH_OK);
	umask(old);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	tpath(p, sizeof(p), "u0.key");
	assert_int_equal(seal_key_create(p, &err), HUSH_OK);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

static void
seal_key_create_refuses_to_overwrite(void **state)
{
	struct seal_err err;
	struct stat st;
	char p[512];

	(void)state;
	write_file(tpath(p, sizeof(p), "exists.key"), "keep me\n", 8, 0600);
	assert_int_equal(seal_key_create(p, &err), HUSH_ERR_DENIED);
	assert_non_null(strstr(err.msg, "refusing to overwrite"));
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 8);
}

static void
seal_key_load_refuses_a_key_others_may_read(void **state)
{
	static const mode_t modes[] = { 0640, 0604, 0660, 0602, 0610 };
	struct secbuf *k = NULL;
	struct seal_err err;
	char p[512];
	size_t i;

	(void)state;
	assert_int_equal(seal_key_create(tpath(p, sizeof(p), "open.key"), &err),
	    HUSH_OK);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		assert_int_equal(chmod(p, modes[i]), 0);
		assert_int_equal(seal_key_load(p, &k, &err), HUSH_ERR_DENIED);
		assert_null(k);
		assert_non_null(strstr(err.msg, "chmod 600"));
	}
	assert_int_equal(chmod(p, 0400), 0);
	assert_int_equal(seal_key_load(p, &k, &err), HUSH_OK);
	secbuf_free(k);
}

static void
seal_key_load_refuses_what_is_not_a_regular_file(void **state)
{
	struct secbuf *k = NULL;
	struct seal_err err;
	char p[512];

	(void)state;
	assert_int_equal(mkfifo(tpath(p, sizeof(p), "fifo.key"), 0600), 0);
	assert_int_equal(seal_key_load(p, &k, &err), HUSH_ERR_INVALID);
	assert_non_null(strstr(err.msg, "not a regular file"));
	assert_int_equal(seal_key_load(tpath(p, sizeof(p), "none.key"), &k,
	    &err), HUSH_ERR_NOT_FOUND);
	assert_null(k);
}

static void
seal_key_load_accepts_line_ends_of_copy_and_paste(void **state)
{
	static const char *const ok[] = {
		"hush-key-v1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
		"hush-key-v1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
		"hush-key-v1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\r\n",
		"hush-key-v1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= \n",
	};
	struct secbuf *k = NULL;
	struct seal_err err;
	char p[512];
	size_t i;
	int j;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		write_file(tpath(p, sizeof(p), "ok.key"), ok[i], strlen(ok[i]),
		    0600);
		assert_int_equal(seal_key_load(p, &k, &err), HUSH_OK);
		for (j = 0; j < SEAL_KEY_BYTES; j++)
			assert_int_equal(secbuf_data(k)[j], j);
		secbuf_free(k);
		k = NULL;
	}
}

static void
seal_key_load_rejects_malformed_keys_without_quoting_them(void **state)
{
	static const char *const bad[] = {
		"",
		"\n",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
		"hush-key-v2:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
		"hush-key-v1:",
		"hush-key-v1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
		"hush-key-v1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=A",
		"hush-key-v1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\nx",
		"hush-key-v1: AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
		"hush-key-v1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh==",
		"hush-key-v1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8!",
		"hush-key-v1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\0",
		" hush-key-v1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	};
	struct secbuf *k = NULL;
	struct seal_err err;
	char p[512];
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		len = strlen(bad[i]);
		if (i == 11)
			len++;	/* the NUL is part of the text */
		write_file(tpath(p, sizeof(p), "bad.key"), bad[i], len, 0600);
		if (seal_key_load(p, &k, &err) != HUSH_ERR_INVALID)
			fail_msg("bad key %zu was accepted", i);
		assert_null(k);
		assert_null(strstr(err.msg, "AAECAw"));
	}
}

static void
seal_key_load_error_never_contains_the_key(void **state)
{
	static const char text[] =
	    "hush-key-v1:HUSHCANARYAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n";
	struct secbuf *k = NULL;
	struct seal_err err;
	char p[512];

	(void)state;
	write_file(tpath(p, sizeof(p), "canary.key"), text, sizeof(text) - 1,
	    0600);
	assert_int_equal(seal_key_load(p, &k, &err), HUSH_ERR_INVALID);
	assert_non_null(strstr(err.msg, "malformed hush key"));
	assert_null(strstr(err.msg, "HUSHCANARY"));
	assert_int_equal(chmod(p, 0644), 0);
	assert_int_equal(seal_key_load(p, &k, &err), HUSH_ERR_DENIED);
	assert_null(strstr(err.msg, "HUSHCANARY"));
}

static void
seal_key_file_too_large_is_not_a_key(void **state)
{
	char big[SEAL_KEY_FILE_MAX + 8], p[512];
	struct secbuf *k = NULL;
	struct seal_err err;

	(void)state;
	memset(big, 'A', sizeof(big));
	memcpy(big, SEAL_KEY_PREFIX, strlen(SEAL_KEY_PREFIX));
	write_file(tpath(p, sizeof(p), "big.key"), big, sizeof(big), 0600);
	assert_int_equal(seal_key_load(p, &k, &err), HUSH_ERR_INVALID);
	assert_non_null(strstr(err.msg, "too large"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seal_round_trip_gives_back_the_plaintext),
		cmocka_unit_test(seal_of_same_input_differs_each_time),
		cmocka_unit_test(seal_wrong_key_fails_authentication),
		cmocka_unit_test(seal_detects_tampered_ciphertext),
		cmocka_unit_test(seal_truncated_or_extended_file_is_refused),
		cmocka_unit_test(seal_other_magic_or_version_is_not_ours),
		cmocka_unit_test(seal_decrypt_refuses_plaintext_over_max),
		cmocka_unit_test(seal_key_file_round_trip),
		cmocka_unit_test(seal_key_file_is_one_line_of_text),
		cmocka_unit_test(seal_key_create_makes_mode_0600_whatever_the_umask),
		cmocka_unit_test(seal_key_create_refuses_to_overwrite),
		cmocka_unit_test(seal_key_load_refuses_a_key_others_may_read),
		cmocka_unit_test(seal_key_load_refuses_what_is_not_a_regular_file),
		cmocka_unit_test(seal_key_load_accepts_line_ends_of_copy_and_paste),
		cmocka_unit_test(seal_key_load_rejects_malformed_keys_without_quoting_them),
		cmocka_unit_test(seal_key_load_error_never_contains_the_key),
		cmocka_unit_test(seal_key_file_too_large_is_not_a_key),
	};

	return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
