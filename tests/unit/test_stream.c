/*
 * test_stream: the streaming engine's guarantees. Output does not depend
 * on chunking; a secret split anywhere is masked; long lines go through
 * windows without emitting a secret raw; PEM blocks are masked from BEGIN
 * to END and fail closed; bytes outside secrets pass unchanged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf/hush_err.h"
#include "redact/internal.h"
#include "redact/redact.h"
#include "redact/rules.h"

#define GH	"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"
#define GHM	"[REDACTED:github-token]"

struct obuf {
	uint8_t	*p;
	size_t	 len;
	size_t	 cap;
	int	 fail_after;	/* sink fails after this many calls, or -1 */
};

static int
collect(void *arg, const uint8_t *buf, size_t len)
{
	struct obuf *o = arg;

	if (o->fail_after == 0)
		return -1;
	if (o->fail_after > 0)
		o->fail_after--;
	if (o->len + len + 1 > o->cap) {
		size_t nc = (o->len + len + 1) * 2;
		uint8_t *n = realloc(o->p, nc);

		if (n == NULL)
			return -1;
		o->p = n;
		o->cap = nc;
	}
	memcpy(o->p + o->len, buf, len);
	o->len += len;
	o->p[o->len] = '\0';
	return 0;
}

static struct redact_rules *
make_rules(const char *ini, unsigned flags)
{
	struct hush_conf c;
	struct conf_errs errs;
	struct redact_rules *r;

	conf_errs_init(&errs);
	if (ini != NULL) {
		assert_int_equal(conf_load_string(&c, "t.ini", ini,
		    CONF_SKIP_SOURCE_CHECKS, rules_check_conf, &errs),
		    HUSH_OK);
		r = redact_rules_new(&c, flags, &errs);
		conf_release(&c);
	} else {
		r = redact_rules_new(NULL, flags, &errs);
	}
	assert_non_null(r);
	conf_errs_release(&errs);
	return r;
}

static struct redact_rules *
compiled(const char *ini)
{
	struct redact_rules *r = make_rules(ini, 0);

	assert_int_equal(redact_rules_compile(r), HUSH_OK);
	return r;
}

/* Feeds in with chunk sizes from sizes[] (cycled); 0 = all at once. */
static struct obuf
run_chunks(const struct redact_rules *rules, const uint8_t *in, size_t n,
    const size_t *sizes, size_t nsizes)
{
	struct obuf o = { NULL, 0, 0, -1 };
	struct redact_stream *s;
	size_t off = 0, k = 0;

	assert_non_null(s = redact_stream_new(rules, collect, &o));
	while (off < n) {
		size_t c = nsizes ? sizes[k++ % nsizes] : n;

		assert_true(c > 0);

		if (c > n - off)
			c = n - off;
		assert_int_equal(redact_stream_feed(s, in + off, c), HUSH_OK);
		off += c;
	}
	assert_int_equal(redact_stream_finish(s), HUSH_OK);
	redact_stream_free(s);
	if (o.p == NULL)
		o.p = calloc(1, 1);
	return o;
}

static char *
run_str(const struct redact_rules *rules, const char *in)
{
	struct obuf o = run_chunks(rules, (const uint8_t *)in, strlen(in),
	    NULL, 0);

	return (char *)o.p;
}

/* A PEM block around body, split over two lines, then "ok". */
static char *
run_str_fmt(const struct redact_rules *rules, const char *body)
{
	char in[512];
	size_t half = strlen(body) / 2;

	snprintf(in, sizeof(in), "-----BEGIN PRIVATE KEY-----\n%.*s\n%s\n"
	    "-----END PRIVATE KEY-----\nok\n", (int)half, body, body + half);
	return run_str(rules, in);
}

static bool
contains(const uint8_t *h, size_t hn, const char *needle)
{
	size_t nl = strlen(needle), i;

	for (i = 0; i + nl <= hn; i++)
		if (memcmp(h + i, needle, nl) == 0)
			return true;
	return false;
}

static uint64_t seed = 7;

static uint64_t
rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

/* A test input with everything the engine must get right. */
static uint8_t *
mixed_input(size_t *np)
{
	static const char *const pieces[] = {
		"plain log line with nothing in it\n",
		"token=" GH " done\n",
		"crlf line " GH "\r\n",
		"Authorization: Bearer Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5\n",
		("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAabc"
		    "defghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX\nxyz==\n"
		    "-----END RSA PRIVATE KEY----- tail\n"),
		"binary \x00\x01\xff\xfe invalid utf8 \xc3\x28 here\n",
		"{\"password\":\"hunter2x\",\"ok\":true}\n",
		"postgres://app:S3cretPassw0rd@db:5432/x\n",
		"\n",
		"AKIAABCDEFGHIJKLMNOP wJalrXUtnFEMIK7MDENGbPxRfiCY1234567890ab\n",
		("PuTTY-User-Key-File-3: ssh-ed25519\nPublic-Lines: 1\n"
		    "AAAAC3NzaC1lZDI1NTE5\nPrivate-Lines: 2\nAAAAIPuttyPriv1\n"
		    "AAAAIPuttyPriv2\nPrivate-MAC: 0a1b2c3d\n"),
		("-----BEGIN PRIVATE KEY-----\nanything\n"
		    "-----END PRIVATE KEY-----\n"),
	};
	size_t cap = 1 << 20, n = 0, i, k;
	uint8_t *b = malloc(cap + 20000);

	assert_non_null(b);
	while (n < cap) {
		i = rnd() % (sizeof(pieces) / sizeof(pieces[0]) + 1);
		if (i == sizeof(pieces) / sizeof(pieces[0])) {
			/* A long line (windows at max_line = 4096). */
			size_t len = 4000 + rnd() % 12000, at = rnd() % len;

			for (k = 0; k < len && n < cap + 19000; k++) {
				if (k == at && k + 60 < len) {
					memcpy(b + n, " " GH " ", 42);
					n += 42;
					k += 41;
					continue;
				}
				b[n++] = (uint8_t)("abc defgh=;"[rnd() % 11]);
			}
			b[n++] = '\n';
			continue;
		}
		/* The binary piece has a NUL: its length is known. */
		k = i == 5 ? sizeof("binary \x00\x01\xff\xfe invalid utf8 "
		    "\xc3\x28 here\n") - 1 : strlen(pieces[i]);
		memcpy(b + n, pieces[i], k);
		n += k;
	}
	memcpy(b + n, "last line " GH, 10 + 40);
	n += 50;
	*np = n;
	return b;
}

static void
stream_output_is_independent_of_chunking(void **state)
{
	struct redact_rules *rules = compiled("[redact]\nmax_line = 4096\n");
	struct obuf ref, o;
	size_t n, t, i, sizes[64];
	uint8_t *in = mixed_input(&n);

	(void)state;
	ref = run_chunks(rules, in, n, NULL, 0);
	assert_false(contains(ref.p, ref.len, GH));
	assert_true(contains(ref.p, ref.len, "[REDACTED:private-key]"));
	assert_false(contains(ref.p, ref.len, "MIIEowIBAAKCAQEAabc"));
	for (t = 0; t < 40; t++) {
		for (i = 0; i < 64; i++) {
			/* Log-uniform sizes from 1 byte to 1 MiB. */
			unsigned bits = (unsigned)(rnd() % 21);

			sizes[i] = 1 + (size_t)(rnd() % ((size_t)1 << bits));
		}
		o = run_chunks(rules, in, n, sizes, 1 + (size_t)(rnd() % 64));
		assert_int_equal(o.len, ref.len);
		assert_memory_equal(o.p, ref.p, ref.len);
		free(o.p);
	}
	{
		size_t one = 1;

		o = run_chunks(rules, in, n > 200000 ? 200000 : n, &one, 1);
		free(o.p);
	}
	free(ref.p);
	free(in);
	redact_rules_free(rules);
}

static void
stream_masks_secret_split_at_every_offset(void **state)
{
	struct redact_rules *rules = compiled(NULL);
	const char *in = "before token " GH " after\n";
	const char *want = "before token " GHM " after\n";
	size_t n = strlen(in), cut;

	(void)state;
	for (cut = 0; cut <= n; cut++) {
		size_t sizes[2] = { cut, n - cut };
		struct obuf o = run_chunks(rules, (const uint8_t *)in, n,
		    sizes, cut == 0 || cut == n ? 0 : 2);

		assert_string_equal((char *)o.p, want);
		free(o.p);
	}
	redact_rules_free(rules);
}

static void
stream_passes_other_bytes_unchanged(void **state)
{
	struct redact_rules *rules = compiled(NULL);
	static const uint8_t in[] = "a\x00" "b\r\n\xff\xfe\xc3\x28\r\n"
	    "\n\n  tabs\tand \x1b[31mcolour\x1b[0m\r\nno final newline";
	static const uint8_t sec[] = "\x00\xff x " GH "\r\n\x01";
	static const uint8_t want[] = "\x00\xff x " GHM "\r\n\x01";
	struct obuf o;

	(void)state;
	o = run_chunks(rules, in, sizeof(in) - 1, NULL, 0);
	assert_int_equal(o.len, sizeof(in) - 1);
	assert_memory_equal(o.p, in, sizeof(in) - 1);
	free(o.p);
	o = run_chunks(rules, sec, sizeof(sec) - 1, NULL, 0);
	assert_int_equal(o.len, sizeof(want) - 1);
	assert_memory_equal(o.p, want, sizeof(want) - 1);
	free(o.p);
	redact_rules_free(rules);
}

static void
stream_masks_secret_without_final_newline(void **state)
{
	struct redact_rules *rules = compiled(NULL);
	char *out = run_str(rules, "x\nkey " GH);

	(void)state;
	assert_string_equal(out, "x\nkey " GHM);
	free(out);
	redact_rules_free(rules);
}

static void
stream_masks_pem_block_from_begin_to_end(void **state)
{
	struct redact_rules *rules = compiled(NULL);
	char *out;

	(void)state;
	out = run_str(rules, "key follows:\n"
	    "-----BEGIN OPENSSH PRIVATE KEY-----\r\n"
	    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\r\n"
	    "AAAAMwAAAAtzc2gtZWQyNTUxOQAAACB\r\n"
	    "-----END OPENSSH PRIVATE KEY-----\r\n"
	    "next line\n"
	    "x -----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIGh0cmVlLXByaXZhdGUta2V5"
	    "LWJ5dGVzLWhlcmUtZm9yLXRlc3RpbmcAAAAAAAA\n"
	    "-----END EC PRIVATE KEY----- y\n"
	    "-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n");
	assert_string_equal(out, "key follows:\n"
	    "[REDACTED:private-key]\r\n"
	    "next line\n"
	    "x [REDACTED:private-key]\n y\n"
	    "-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n");
	free(out);
	redact_rules_free(rules);
}

static void
stream_masks_putty_private_lines_across_lines(void **state)
{
	struct redact_rules *rules = compiled(NULL);
	char *out;

	(void)state;
	out = run_str(rules, "PuTTY-User-Key-File-3: ssh-ed25519\r\n"
	    "Encryption: none\r\n"
	    "Comment: eddsa-key-20240101\r\n"
	    "Public-Lines: 2\r\n"
	    "AAAAC3NzaC1lZDI1NTE5AAAAIMk7p2rQmYd1T9fX3aBcDeFgHiJkLmNoPqRs\r\n"
	    "AAAAC3NzaC1lZDI1NTE5AAAAIMk7\r\n"
	    "Private-Lines: 2\r\n"
	    "AAAAIGh0cmVlLXByaXZhdGUta2V5LWJ5dGVzLWhlcmUtZm9yLXRlc3Rpbmc=\r\n"
	    "AAAAIFNlY29uZFByaXZhdGVMaW5l\r\n"
	    "Private-MAC: 3c9d0e5f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f7\r\n"
	    "next line\n"
	    "docs: Private-Lines: 1 is followed by one line\n"
	    "Private-Lines: none\n");
	assert_string_equal(out, "PuTTY-User-Key-File-3: ssh-ed25519\r\n"
	    "Encryption: none\r\n"
	    "Comment: eddsa-key-20240101\r\n"
	    "Public-Lines: 2\r\n"
	    "AAAAC3NzaC1lZDI1NTE5AAAAIMk7p2rQmYd1T9fX3aBcDeFgHiJkLmNoPqRs\r\n"
	    "AAAAC3NzaC1lZDI1NTE5AAAAIMk7\r\n"
	    "[REDACTED:putty-private-key]\r\n"
	    "next line\n"
	    "docs: Private-Lines: 1 is followed by one line\n"
	    "Private-Lines: none\n");
	free(out);
	/* No Private-MAC: nothing of the private lines comes out. */
	out = run_str(rules, "Private-Lines: 1\nAAAAIPrivateBytes\n");
	assert_string_equal(out, "[REDACTED:putty-private-key]\n");
	free(out);
	redact_rules_free(rules);
}

/* A body too short for any private key: not a key, nothing masked. */
static void
stream_pem_block_without_a_key_body_passes(void **state)
{
	struct redact_rules *rules = compiled(NULL);
	const char *notkey = "before\n-----BEGIN PRIVATE KEY-----\nanything\n"
	    "-----END PRIVATE KEY-----\nafter token=" GH "\n"
	    "-----BEGIN RSA PRIVATE KEY-----\r\n-----END RSA PRIVATE KEY-----"
	    "\r\n";
	char *out, body[80];

	(void)state;
	out = run_str(rules, notkey);
	assert_string_equal(out, "before\n-----BEGIN PRIVATE KEY-----\n"
	    "anything\n-----END PRIVATE KEY-----\n"
	    "after token=[REDACTED:github-token]\n"
	    "-----BEGIN RSA PRIVATE KEY-----\r\n-----END RSA PRIVATE KEY-----"
	    "\r\n");
	free(out);
	/* 63 base64 characters are not a key, 64 may be. */
	memset(body, 'A', 63);
	body[63] = '\0';
	assert_non_null(out = run_str_fmt(rules, body));
	assert_true(strncmp(out, "-----BEGIN PRIVATE KEY-----\nAAAA", 32) == 0);
	free(out);
	memset(body, 'A', 64);
	body[64] = '\0';
	assert_non_null(out = run_str_fmt(rules, body));
	assert_string_equal(out, "[REDACTED:private-key]\nok\n");
	free(out);
	redact_rules_free(rules);
}

static void
stream_pem_without_end_fails_closed(void **state)
{
	struct redact_rules *rules = compiled(NULL);
	char *in, *out;
	size_t cap = REDACT_PEM_MAX_BYTES * 2 + 4096, n = 0, i;

	(void)state;
	assert_non_null(in = malloc(cap));
	n += (size_t)snprintf(in, cap, "-----BEGIN PRIVATE KEY-----\n");
	for (i = 0; n + 100 < REDACT_PEM_MAX_BYTES * 2; i++)
		n += (size_t)snprintf(in + n, cap - n, "KEYMATERIAL%06zu"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwx\n", i);
	snprintf(in + n, cap - n, "after the bound\n");
	out = run_str(rules, in);
	assert_true(strncmp(out, "[REDACTED:private-key]\n", 23) == 0);
	/* Everything within the bound was masked; lines resume after. */
	assert_null(strstr(out, "KEYMATERIAL000000"));
	assert_null(strstr(out, "KEYMATERIAL000200"));
	assert_non_null(strstr(out, "after the bound\n"));
	free(out);
	/* END never comes at all: nothing of the key is emitted. */
	out = run_str(rules, "-----BEGIN RSA PRIVATE KEY-----\nMIIEsecret\n"
	    "MIIEmore");
	assert_string_equal(out, "[REDACTED:private-key]\n");
	free(out);
	free(in);
	redact_rules_free(rules);
}

static void
stream_long_line_masks_secret_at_every_window_position(void **state)
{
	struct redact_rules *rules = compiled("[redact]\nmax_line = 4096\n");
	size_t len = 20000, at;
	char *in, *want, *out;

	(void)state;
	assert_non_null(in = malloc(len + 2));
	assert_non_null(want = malloc(len + 64));
	/* Around the first window's cut (2048) and its end (4096), and
	 * the second window's. */
	for (at = 1980; at < 4200; at += (at < 2100 || at > 4000) ? 1 : 97) {
		memset(in, 'x', len);
		memset(in, ' ', 3);
		in[at - 1] = ' ';
		memcpy(in + at, GH, 40);
		in[at + 40] = ' ';
		in[len] = '\n';
		in[len + 1] = '\0';
		memcpy(want, in, at);
		memcpy(want + at, GHM, strlen(GHM));
		memcpy(want + at + strlen(GHM), in + at + 40, len - at - 40 + 2);
		out = run_str(rules, in);
		if (strcmp(out, want) != 0)
			fail_msg("secret at %zu: output differs", at);
		free(out);
	}
	free(in);
	free(want);
	redact_rules_free(rules);
}

static void
stream_huge_line_stays_bounded(void **state)
{
	struct redact_rules *rules = compiled("[redact]\nmax_line = 4096\n");
	struct obuf o = { NULL, 0, 0, -1 };
	struct redact_stream *s;
	uint8_t chunk[8192];
	size_t i, total = 0;

	(void)state;
	memset(chunk, 'a', sizeof(chunk));
	memcpy(chunk + 5000, " " GH " ", 42);
	assert_non_null(s = redact_stream_new(rules, collect, &o));
	for (i = 0; i < 512; i++) {		/* 4 MiB, no newline */
		assert_int_equal(redact_stream_feed(s, chunk, sizeof(chunk)),
		    HUSH_OK);
		total += sizeof(chunk);
		/* Output keeps flowing: at most a window is held (each
		 * marker is shorter than the secret it replaces). */
		assert_true(total - o.len <= 4096 + (i + 1) *
		    (40 - strlen(GHM)));
	}
	assert_int_equal(redact_stream_finish(s), HUSH_OK);
	assert_false(contains(o.p, o.len, GH));
	assert_int_equal(o.len, total - 512 * 40 + 512 * strlen(GHM));
	redact_stream_free(s);
	free(o.p);
	redact_rules_free(rules);
}

/*
 * A PCRE2 limit masks the line. With the reference engine any catastrophic
 * pattern gets there; with Vectorscan, PCRE2 runs only where the relaxed
 * pattern matches, so the pattern needs a part Vectorscan drops (the
 * lookahead that can never hold) to reach PCRE2 and its limit. A line
 * Vectorscan proves the pattern cannot match is not an error.
 */
static void
stream_match_limit_fails_closed(void **state)
{
	static const char *const pats[] = {
		"^(\\w+\\s?)*$", "^(\\w+\\s?)*(?!!)!$",
	};
	struct redact_rules *rules;
	char in[256], ini[256], *out;
	size_t i;

	(void)state;
	snprintf(in, sizeof(in), "ok line\nslow aaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa aaaaaaaaaa!\nnext\n");
	for (i = 0; i < 3; i++) {
		snprintf(ini, sizeof(ini), "[rule \"slow\"]\npattern = %s\n"
		    "keywords = slow\n", pats[i == 2]);
		rules = make_rules(ini, 0);
		rules->reference = i == 0;
		assert_int_equal(redact_rules_compile(rules), HUSH_OK);
		out = run_str(rules, in);
		if (i == 1)	/* Vectorscan: no match is possible */
			assert_string_equal(out, rules->scan.hs_db != NULL ?
			    in : "ok line\n[REDACTED:slow]\nnext\n");
		else
			assert_string_equal(out,
			    "ok line\n[REDACTED:slow]\nnext\n");
		free(out);
		redact_rules_free(rules);
	}
}

static void
stream_format_placeholders_and_fingerprint(void **state)
{
	struct redact_rules *rules = compiled("[redact]\n"
	    "format = <{rule}|{len}|{fp}>\n");
	char *out, *p;

	(void)state;
	out = run_str(rules, GH " " GH "\n");
	assert_true(strncmp(out, "<github-token|40|", 17) == 0);
	p = strchr(out, ' ');
	assert_non_null(p);
	/* The same secret has the same fingerprint; 12 hex characters. */
	assert_int_equal(p - out, 17 + 12 + 1);
	assert_true(strncmp(out, p + 1, (size_t)(p - out)) == 0);
	free(out);
	redact_rules_free(rules);
}

static int nfind;
static uint64_t lastline;

static void
on_find(void *arg, const char *rule, uint64_t line)
{
	(void)arg;
	(void)rule;
	nfind++;
	lastline = line;
}

static void
stream_reports_findings_with_line_numbers(void **state)
{
	struct redact_rules *rules = compiled(NULL);
	struct obuf o = { NULL, 0, 0, -1 };
	struct redact_stream *s;
	static const char in[] = "a\nb\r\nc " GH "\nd\n";

	(void)state;
	assert_non_null(s = redact_stream_new(rules, collect, &o));
	redact_stream_set_finding(s, on_find, NULL);
	assert_int_equal(redact_stream_feed(s, (const uint8_t *)in,
	    sizeof(in) - 1), HUSH_OK);
	assert_int_equal(redact_stream_finish(s), HUSH_OK);
	assert_int_equal(nfind, 1);
	assert_int_equal(lastline, 3);
	redact_stream_free(s);
	free(o.p);
	redact_rules_free(rules);
}

static void
stream_sink_error_stops_the_stream(void **state)
{
	struct redact_rules *rules = compiled(NULL);
	struct obuf o = { NULL, 0, 0, 0 };
	struct redact_stream *s;

	(void)state;
	assert_non_null(s = redact_stream_new(rules, collect, &o));
	assert_int_equal(redact_stream_feed(s, (const uint8_t *)"a\n", 2),
	    HUSH_ERR_IO);
	assert_int_equal(redact_stream_feed(s, (const uint8_t *)"b\n", 2),
	    HUSH_ERR_IO);
	redact_stream_free(s);
	redact_rules_free(rules);
}

static void
stream_needs_compiled_rules(void **state)
{
	struct redact_rules *rules = make_rules(NULL, 0);
	struct obuf o = { NULL, 0, 0, -1 };

	(void)state;
	assert_null(redact_stream_new(rules, collect, &o));
	redact_rules_free(rules);
	redact_rules_free(NULL);
	redact_stream_free(NULL);
}

/*
 * User rules that take every way through the matchers: an anchor
 * Vectorscan cannot place in a batch, no keywords (every line), branch
 * reset and possessive and atomic groups (relaxed), lookbehind
 * (prefilter), a back reference, a pattern that can match empty.
 */
static const char vs_rules_ini[] =
    "[redact]\nmax_line = 4096\n"
    "[rule \"t-anchor\"]\npattern = \\Aanchored-([a-z0-9]{12})\n"
    "keywords = anchored-\nsecret_group = 1\n"
    "[rule \"t-nokw\"]\npattern = zq9[A-Z]{6}\\d{2}\n"
    "[rule \"t-reset\"]\npattern = (?i)(?|mytok=([a-z0-9]{10,})|mytok:"
    "([A-Z]{10}))\nkeywords = mytok\nsecret_group = 1\n"
    "[rule \"t-poss\"]\npattern = (?>pq_)[a-f0-9]{8}+(?![a-f0-9])\n"
    "keywords = pq_\n"
    "[rule \"t-behind\"]\npattern = (?<=hdr: )[A-Za-z0-9]{16}\n"
    "keywords = hdr:\n"
    "[rule \"t-backref\"]\npattern = (['\"])bk[0-9]{6}\\1\n"
    "keywords = bk\n"
    "[rule \"t-empty\"]\npattern = em(?:pt)?y?[0-9]*\n"
    "keywords = emp\n";

/* Random lines built from fragments that start, nearly make and make
 * secrets of the pack and of vs_rules_ini, with the keywords far from
 * and near to them. */
static uint8_t *
vs_input(size_t *np)
{
	static const char *const frag[] = {
		"token", "=", ": ", "\"", "'", " ", "key", "secret", "password",
		"api_key=", "Authorization: Bearer ", "ghp_", GH, "AKIA",
		"ABCDEFGHIJKLMNOP", "wJalrXUtnFEMIK7MDENGbPxRfiCY1234567890ab",
		"sk-ant-api03-", ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkw"
		"In0."), "c2lnbmF0dXJlX2hlcmVfeHl6", "postgres://u:", "@db/x",
		"-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----",
		"Private-Lines: 3", "Private-MAC: 0a1b2c", "PuTTY-User-Key-File-3: ",
		"anchored-", "abcdef123456", "zq9", "QWERTY", "42", "mytok=",
		"mytok:", "ABCDEFGHIJ", "pq_", "deadbeef", "hdr: ",
		"Zm9vYmFyYmF6cXV4", "bk123456", "empty", "xoxb-", "12345-",
		"\xff\x00", "\t", "aGVsbG8gd29ybGQ=", "password=hunter2x ",
		"{\"secret\":\"S3cr3tV4lu3Zq8r7w6\"}",
	};
	size_t cap = 1 << 18, n = 0, k, f, len;
	uint8_t *b = malloc(cap + 8192);

	assert_non_null(b);
	while (n < cap) {
		/* Now and then a line longer than max_line (windows). */
		size_t nf = rnd() % 50 == 0 ? 400 : 1 + rnd() % 12;

		for (f = 0; f < nf; f++) {
			k = rnd() % (sizeof(frag) / sizeof(frag[0]));
			len = frag[k][0] == '\xff' ? 2 : strlen(frag[k]);
			memcpy(b + n, frag[k], len);
			n += len;
		}
		if (rnd() % 7 == 0)
			b[n++] = '\r';
		b[n++] = '\n';
	}
	*np = n;
	return b;
}

/*
 * The reference engine and Vectorscan give the same bytes: with the
 * built-in pack's database made at build time plus a run-time one for
 * user rules, and with a built-in rule disabled (the embedded database
 * no longer fits and everything is compiled at start).
 */
static void
stream_vectorscan_output_equals_reference(void **state)
{
	char ini[2048];
	struct obuf a, b;
	size_t n, t, i, sizes[16];
	uint8_t *in;
	int v;

	(void)state;
	for (v = 0; v < 2; v++) {
		struct redact_rules *ref, *vs;

		snprintf(ini, sizeof(ini), "%s%s", vs_rules_ini, v == 0 ? "" :
		    "[redact]\ndisable = jwt\n");
		ref = make_rules(ini, 0);
		vs = make_rules(ini, 0);
		ref->reference = true;
		assert_int_equal(redact_rules_compile(ref), HUSH_OK);
		assert_int_equal(redact_rules_compile(vs), HUSH_OK);
		assert_null(ref->scan.hs_db);
		for (i = 0; v == 1 && i < vs->nrules; i++)
			assert_string_not_equal(vs->rules[i].name, "jwt");
		for (t = 0; t < 3; t++) {
			in = vs_input(&n);
			for (i = 0; i < 16; i++)
				sizes[i] = 1 + (size_t)(rnd() % ((size_t)1 <<
				    (rnd() % 18)));
			a = run_chunks(ref, in, n, NULL, 0);
			b = run_chunks(vs, in, n, sizes, 16);
			assert_int_equal(a.len, b.len);
			assert_memory_equal(a.p, b.p, a.len);
			free(a.p);
			free(b.p);
			free(in);
		}
		redact_rules_free(ref);
		redact_rules_free(vs);
	}
}

static void
stream_relax_keeps_every_match(void **state)
{
	static const char *const cases[][2] = {
		{ "a{2,300}b", "a{2,}b" },
		{ "x{40}", "x{8,}" },
		{ "[{]{3,5}", "[{]{3,}" },
		{ "[]{]{64}", "[]{]{8,}" },
		{ "\\x{41}{20,30}", "\\x{41}{8,}" },
		{ "\\{12}", "\\{12}" },
		{ "(?|a(b)|c(d))", "(?:a(b)|c(d))" },
		{ "(?>ab)+c", "(?:ab)+c" },
		{ "a++b*+c?+d{2,4}+", "a+b*c?d{2,}" },
		{ "a+?b{3,9}?", "a+?b{3,}?" },
		{ "\\Qa{99}\\E{40}", "\\Qa{99}\\E{8,}" },
	};
	char out[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		scan_relax(cases[i][0], out);
		assert_string_equal(out, cases[i][1]);
	}
}

/* Feeds parts[] in order with an idle call after each but the last. */
static char *
run_idle(const struct redact_rules *rules, const char *const *parts,
    size_t nparts, char **shownp)
{
	struct obuf o = { NULL, 0, 0, -1 };
	struct redact_stream *s;
	size_t i;

	assert_non_null(s = redact_stream_new(rules, collect, &o));
	for (i = 0; i < nparts; i++) {
		assert_int_equal(redact_stream_feed(s, (const uint8_t *)parts[i],
		    strlen(parts[i])), HUSH_OK);
		if (i + 1 < nparts) {
			assert_int_equal(redact_stream_idle(s), HUSH_OK);
			if (i == 0 && shownp != NULL)
				*shownp = strdup(o.p != NULL ?
				    (char *)o.p : "");
		}
	}
	assert_int_equal(redact_stream_finish(s), HUSH_OK);
	redact_stream_free(s);
	return o.p != NULL ? (char *)o.p : strdup("");
}

static void
stream_idle_shows_a_prompt_and_keeps_its_key(void **state)
{
	struct redact_rules *rules = compiled(NULL);
	const char *parts[] = { "Password: ", "hunter2secret\nnext\n" };
	char *shown = NULL, *out;

	(void)state;
	out = run_idle(rules, parts, 2, &shown);
	assert_string_equal(shown, "Password: ");
	assert_string_equal(out,
	    "Password: [REDACTED:generic-password]\nnext\n");
	free(shown);
	free(out);
	redact_rules_free(rules);
}

static void
stream_idle_holds_a_token_that_may_still_grow(void **state)
{
	struct redact_rules *rules = compiled(NULL);
	const char *parts[] = { "progress 45% token=ghp_R8f2",
	    "Kq9LmZ3xT7vW1pN4bY6cH0dJ5s4F50fr done\n" };
	const char *quoted[] = { "login password=\"correct horse",
	    " battery staple\" ok\n" };
	char *shown = NULL, *out;

	(void)state;
	out = run_idle(rules, parts, 2, &shown);
	assert_string_equal(shown, "progress 45% ");
	assert_string_equal(out,
	    "progress 45% token=[REDACTED:github-token] done\n");
	free(shown);
	free(out);
	/* A quoted value with spaces is held from its quote. */
	out = run_idle(rules, quoted, 2, &shown);
	assert_string_equal(shown, "login password=");
	assert_null(strstr(out, "correct"));
	assert_null(strstr(out, "staple"));
	free(shown);
	free(out);
	redact_rules_free(rules);
}

static void
stream_idle_masks_a_secret_begun_before_the_cut(void **state)
{
	struct redact_rules *rules = compiled("[rule \"pair\"]\n"
	    "pattern = PIN [0-9]{4} [0-9]{4}\nkeywords = pin\n");
	const char *parts[] = { "card PIN 1234 ", "5678 ok\n" };
	const char *pem[] = { "-----BEGIN RSA PRIVATE KEY----- MIIEow",
	    "IBAAKCAQEAabc\nxyz==\n-----END RSA PRIVATE KEY-----\nafter\n" };
	char *shown = NULL, *out;

	(void)state;
	out = run_idle(rules, parts, 2, &shown);
	/* "1234 " went out before "5678" came: what is left is masked. */
	assert_string_equal(shown, "card PIN 1234 ");
	assert_string_equal(out, "card PIN 1234 [REDACTED:pair] ok\n");
	free(shown);
	free(out);
	out = run_idle(rules, pem, 2, &shown);
	assert_null(strstr(out, "MIIE"));
	assert_null(strstr(out, "xyz=="));
	assert_non_null(strstr(out, "after\n"));
	free(shown);
	free(out);
	redact_rules_free(rules);
}

/* The same idle points, any chunking: the same output. */
static void
stream_idle_output_is_independent_of_chunking(void **state)
{
	struct redact_rules *rules = compiled("[redact]\nmax_line = 4096\n");
	size_t n, i, t, at[64], nat = 0;
	uint8_t *in = mixed_input(&n);
	struct obuf ref = { NULL, 0, 0, -1 };

	(void)state;
	for (i = 0; i < 64; i++)
		at[nat++] = (size_t)(rnd() % n);
	for (i = 1; i < nat; i++) {	/* sorted */
		size_t v = at[i], j = i;

		for (; j > 0 && at[j - 1] > v; j--)
			at[j] = at[j - 1];
		at[j] = v;
	}
	for (t = 0; t < 4; t++) {
		struct obuf o = { NULL, 0, 0, -1 };
		struct redact_stream *s;
		size_t off = 0, k = 0, c;

		assert_non_null(s = redact_stream_new(rules, collect, &o));
		while (off < n) {
			c = t == 0 ? n : 1 + (size_t)(rnd() % ((size_t)1 <<
			    (rnd() % 16)));
			if (c > n - off)
				c = n - off;
			while (k < nat && at[k] < off)
				k++;
			if (k < nat && at[k] < off + c)
				c = at[k] - off;
			if (c > 0) {
				assert_int_equal(redact_stream_feed(s,
				    in + off, c), HUSH_OK);
				off += c;
			}
			if (k < nat && at[k] == off) {
				assert_int_equal(redact_stream_idle(s),
				    HUSH_OK);
				k++;
			}
		}
		assert_int_equal(redact_stream_finish(s), HUSH_OK);
		redact_stream_free(s);
		assert_false(contains(o.p, o.len, GH));
		if (t == 0) {
			ref = o;
			continue;
		}
		assert_int_equal(o.len, ref.len);
		assert_memory_equal(o.p, ref.p, ref.len);
		free(o.p);
	}
	free(ref.p);
	free(in);
	redact_rules_free(rules);
}

static size_t
rule_index(const struct redact_rules *rules, const char *name)
{
	struct redact_rule_info ri;
	size_t i;

	for (i = 0; i < redact_rules_count(rules); i++) {
		assert_int_equal(redact_rules_info(rules, i, &ri), HUSH_OK);
		if (strcmp(ri.name, name) == 0)
			return i;
	}
	fail_msg("no rule %s", name);
	return 0;
}

/* Compiling and JIT-compiling every pattern was two thirds of
 * hush-redact's start-up: a pack rule is compiled and gets JIT code when
 * it first runs (its groups then fit the stream's match data), and one
 * that never runs never is. */
static void
stream_jit_compiles_a_rule_when_it_first_runs(void **state)
{
	struct redact_rules *rules = compiled(NULL);
	size_t gh = rule_index(rules, "github-token");
	size_t age = rule_index(rules, "age-secret-key");
	static const char in[] = "token=" GH "\n";
	struct obuf o;
	size_t i;

	(void)state;
	for (i = 0; i < redact_rules_count(rules); i++)
		assert_false(rules_jit_ready(rules, i));
	o = run_chunks(rules, (const uint8_t *)in, sizeof(in) - 1, NULL, 0);
	assert_string_equal((char *)o.p, "token=" GHM "\n");
	assert_true(rules_jit_ready(rules, gh));
	assert_false(rules_jit_ready(rules, age));
	free(o.p);
	redact_rules_free(rules);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stream_output_is_independent_of_chunking),
		cmocka_unit_test(stream_masks_secret_split_at_every_offset),
		cmocka_unit_test(stream_passes_other_bytes_unchanged),
		cmocka_unit_test(stream_masks_secret_without_final_newline),
		cmocka_unit_test(stream_masks_pem_block_from_begin_to_end),
		cmocka_unit_test(stream_masks_putty_private_lines_across_lines),
		cmocka_unit_test(stream_pem_block_without_a_key_body_passes),
		cmocka_unit_test(stream_pem_without_end_fails_closed),
		cmocka_unit_test(
		    stream_long_line_masks_secret_at_every_window_position),
		cmocka_unit_test(stream_huge_line_stays_bounded),
		cmocka_unit_test(stream_match_limit_fails_closed),
		cmocka_unit_test(stream_format_placeholders_and_fingerprint),
		cmocka_unit_test(stream_reports_findings_with_line_numbers),
		cmocka_unit_test(stream_sink_error_stops_the_stream),
		cmocka_unit_test(stream_needs_compiled_rules),
		cmocka_unit_test(stream_vectorscan_output_equals_reference),
		cmocka_unit_test(stream_relax_keeps_every_match),
		cmocka_unit_test(stream_idle_shows_a_prompt_and_keeps_its_key),
		cmocka_unit_test(stream_idle_holds_a_token_that_may_still_grow),
		cmocka_unit_test(
		    stream_idle_masks_a_secret_begun_before_the_cut),
		cmocka_unit_test(
		    stream_idle_output_is_independent_of_chunking),
		cmocka_unit_test(stream_jit_compiles_a_rule_when_it_first_runs),
	};

	if (hush_harden_process() != HUSH_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
