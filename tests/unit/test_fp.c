#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf/hush_err.h"
#include "conf/secbuf.h"
#include "redact/fp.h"

static char dir[] = "/tmp/hush-fp-XXXXXX";

static void
put(const char *name, const char *s, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(s, f);
	fclose(f);
}

static void
fp_of_one_key_file_is_stable_and_keyed(void **state)
{
	static const char v[] = "sk-ant-api03-fingerprinted-value";
	char p1[128], p2[128], a[REDACT_FP_CHARS + 1], b[REDACT_FP_CHARS + 1];
	char msg[256];
	struct secbuf *k1, *k1b, *k2, *kr;
	size_t i;

	(void)state;
	put("k1", "0123456789abcdef-one", p1, sizeof(p1));
	put("k2", "0123456789abcdef-two", p2, sizeof(p2));
	assert_int_equal(redact_fp_key(p1, &k1, msg, sizeof(msg)), HUSH_OK);
	assert_int_equal(redact_fp_key(p1, &k1b, msg, sizeof(msg)), HUSH_OK);
	assert_int_equal(redact_fp_key(p2, &k2, msg, sizeof(msg)), HUSH_OK);
	assert_int_equal(redact_fp_key(NULL, &kr, msg, sizeof(msg)), HUSH_OK);
	assert_int_equal(secbuf_len(k1), REDACT_FP_KEY_BYTES);
	/* the key is the file's hash, not the file */
	assert_int_not_equal(memcmp(secbuf_data(k1), "0123456789", 10), 0);
	redact_fp(k1, v, sizeof(v) - 1, a);
	assert_int_equal(strlen(a), REDACT_FP_CHARS);
	for (i = 0; i < REDACT_FP_CHARS; i++)
		assert_non_null(strchr("0123456789abcdef", a[i]));
	redact_fp(k1b, v, sizeof(v) - 1, b);
	assert_string_equal(a, b);
	redact_fp(k2, v, sizeof(v) - 1, b);
	assert_string_not_equal(a, b);
	redact_fp(kr, v, sizeof(v) - 1, b);
	assert_string_not_equal(a, b);
	/* no prefix of the value shows through */
	assert_null(strstr(a, "sk-"));
	secbuf_unref(k1);
	secbuf_unref(k1b);
	secbuf_unref(k2);
	secbuf_unref(kr);
	unlink(p1);
	unlink(p2);
}

static void
fp_key_file_errors_name_the_file_not_its_bytes(void **state)
{
	char p[128], msg[256];
	struct secbuf *k = (struct secbuf *)&k;

	(void)state;
	put("short", "tooshort", p, sizeof(p));
	assert_int_not_equal(redact_fp_key(p, &k, msg, sizeof(msg)), HUSH_OK);
	assert_null(k);
	assert_non_null(strstr(msg, p));
	assert_non_null(strstr(msg, "16 to 4096 bytes"));
	assert_null(strstr(msg, "tooshort"));
	unlink(p);
	snprintf(p, sizeof(p), "%s/missing", dir);
	assert_int_equal(redact_fp_key(p, &k, msg, sizeof(msg)), HUSH_ERR_IO);
	assert_non_null(strstr(msg, "No such file"));
	/* a directory is not a key file */
	assert_int_not_equal(redact_fp_key(dir, &k, msg, sizeof(msg)),
	    HUSH_OK);
	assert_non_null(strstr(msg, "not a regular file"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fp_of_one_key_file_is_stable_and_keyed),
		cmocka_unit_test(fp_key_file_errors_name_the_file_not_its_bytes),
	};
	int r;

	if (hush_harden_process() != HUSH_OK)
		return 1;
	assert_non_null(mkdtemp(dir));
	r = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	return r;
}
