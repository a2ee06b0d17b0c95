/*
 * test_rules: the built-in pack against the labelled corpus in
 * tests/data/redact/corpus.txt (true positives, near misses, ordinary
 * log text), the same positives inside escaped text (JSON-in-JSON,
 * rsyslog-style \/ escaping, \u0022, URL-encoded bodies), user rules,
 * and the checks hushd --check relies on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "conf/hush_err.h"
#include "redact/internal.h"
#include "redact/redact.h"
#include "redact/rules.h"
#include "redact/unescape.h"

struct obuf {
	char	*p;
	size_t	 len;
};

static int
collect(void *arg, const uint8_t *buf, size_t len)
{
	struct obuf *o = arg;
	char *n = realloc(o->p, o->len + len + 1);

	if (n == NULL)
		return -1;
	memcpy(n + o->len, buf, len);
	o->p = n;
	o->len += len;
	o->p[o->len] = '\0';
	return 0;
}

static char *
redact_text(const struct redact_rules *rules, const char *in)
{
	struct redact_stream *s;
	struct obuf o = { NULL, 0 };

	s = redact_stream_new(rules, collect, &o);
	assert_non_null(s);
	assert_int_equal(redact_stream_feed(s, (const uint8_t *)in,
	    strlen(in)), HUSH_OK);
	assert_int_equal(redact_stream_finish(s), HUSH_OK);
	redact_stream_free(s);
	if (o.p == NULL)
		o.p = calloc(1, 1);
	return o.p;
}

static struct redact_rules *
builtin_rules(void)
{
	struct conf_errs errs;
	struct redact_rules *r;

	conf_errs_init(&errs);
	r = redact_rules_new(NULL, 0, &errs);
	assert_non_null(r);
	assert_int_equal(redact_rules_compile(r), HUSH_OK);
	conf_errs_release(&errs);
	return r;
}

/* Corpus */

static uint64_t seed = 42;

static unsigned
rnd(void)
{
	seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)(seed >> 33);
}

#define MAX_EXP	16

struct expanded {
	char	 text[4096];
	char	 parts[MAX_EXP][256];
	size_t	 nparts;
};

static void
expand(const char *tmpl, struct expanded *ex)
{
	static const char *alpha[] = {
		"A", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
		"B", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
		"S", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
		"H", "0123456789abcdef",
		"U", "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
		"L", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
		"D", "0123456789",
		"u", "abcdefghijklmnopqrstuvwxyz234567",
		"h", "abcdefghijklmnopqrstuvwxyz0123456789",
		"b", "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L",
		NULL
	};
	size_t o = 0, i;
	const char *p = tmpl;

	ex->nparts = 0;
	while (*p != '\0' && o + 300 < sizeof(ex->text)) {
		const char *set = NULL;
		char *end;
		unsigned long n;

		if (p[0] == '{' && p[1] != '\0') {
			for (i = 0; alpha[i] != NULL; i += 2)
				if (alpha[i][0] == p[1])
					set = alpha[i + 1];
			n = strtoul(p + 2, &end, 10);
			if (set != NULL && end != p + 2 && *end == '}' &&
			    n < 255) {
				size_t k = strlen(set);
				char *part = ex->parts[ex->nparts < MAX_EXP ?
				    ex->nparts : MAX_EXP - 1];

				for (i = 0; i < n; i++)
					part[i] = set[rnd() % k];
				part[n] = '\0';
				if (ex->nparts < MAX_EXP)
					ex->nparts++;
				memcpy(ex->text + o, part, n);
				o += n;
				p = end + 1;
				continue;
			}
		}
		ex->text[o++] = *p++;
	}
	ex->text[o] = '\0';
}

static void
rules_pack_matches_labelled_corpus(void **state)
{
	const char *dir = getenv("HUSH_TEST_DATA");
	struct redact_rules *rules = builtin_rules();
	struct expanded ex;
	char path[4096], line[4096], marker[160];
	unsigned npos = 0, nneg = 0, nplain = 0, bad = 0;
	size_t i;
	FILE *f;

	(void)state;
	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/redact/corpus.txt", dir);
	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		char *kind = line, *rule, *text, *out;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = '\0';
		rule = strchr(kind, '\t');
		assert_non_null(rule);
		*rule++ = '\0';
		text = strchr(rule, '\t');
		assert_non_null(text);
		*text++ = '\0';
		expand(text, &ex);
		{
			size_t tl = strlen(ex.text);

			assert_true(tl + 1 < sizeof(ex.text));
			ex.text[tl] = '\n';
			ex.text[tl + 1] = '\0';
		}
		out = redact_text(rules, ex.text);
		if (kind[0] == '+') {
			npos++;
			snprintf(marker, sizeof(marker), "[REDACTED:%s]", rule);
			if (strstr(out, marker) == NULL) {
				printf("MISSED %s: %s -> %s", rule, text, out);
				bad++;
			}
			for (i = 0; i < ex.nparts; i++)
				if (strlen(ex.parts[i]) >= 8 &&
				    strstr(out, ex.parts[i]) != NULL) {
					printf("LEAKED %s part %zu: %s", rule,
					    i, text);
					printf("\n");
					bad++;
				}
		} else {
			if (kind[0] == '-')
				nneg++;
			else
				nplain++;
			if (strcmp(out, ex.text) != 0) {
				printf("CHANGED (%s): %s -> %s", rule,
				    ex.text, out);
				bad++;
			}
		}
		free(out);
	}
	fclose(f);
	printf("corpus: %u true positives, %u near misses, %u ordinary "
	    "lines, %u failures\n", npos, nneg, nplain, bad);
	assert_true(npos >= 47);
	assert_true(nneg >= 40);
	assert_int_equal(bad, 0);
	redact_rules_free(rules);
}

static bool
corpus_has(const char *kind, const char *rule)
{
	const char *dir = getenv("HUSH_TEST_DATA");
	char path[4096], line[4096], want[160];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/redact/corpus.txt", dir);
	snprintf(want, sizeof(want), "%s\t%s\t", kind, rule);
	assert_non_null(f = fopen(path, "r"));
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strncmp(line, want, strlen(want)) == 0;
	fclose(f);
	return found;
}

/*
 * Every built-in rule has a true positive and a near miss in the corpus,
 * so adding a kind to the pack without its fixtures fails here.
 */
static void
rules_every_builtin_rule_has_a_positive_and_a_near_miss(void **state)
{
	struct conf_errs errs;
	const struct conf_rule *r;
	struct pack pk;
	size_t i, missing = 0;

	(void)state;
	conf_errs_init(&errs);
	assert_int_equal(pack_load(&pk, &errs), HUSH_OK);
	for (i = 0; (r = pack_rule(&pk, i)) != NULL; i++) {
		if (!corpus_has("+", r->name)) {
			printf("no positive for %s\n", r->name);
			missing++;
		}
		if (!corpus_has("-", r->name)) {
			printf("no near miss for %s\n", r->name);
			missing++;
		}
	}
	assert_int_equal(missing, 0);
	pack_release(&pk);
	conf_errs_release(&errs);
}

static void
rules_pack_loads_and_patterns_compile_with_their_groups(void **state)
{
	struct conf_errs errs;
	const struct conf_rule *r;
	enum rule_check c;
	struct pack pk;
	char msg[320];
	size_t i, j;

	(void)state;
	conf_errs_init(&errs);
	if (pack_load(&pk, &errs) != HUSH_OK)
		for (i = 0; i < errs.n; i++)
			printf("%s\n", errs.msgs[i]);
	assert_int_equal(errs.n, 0);
	assert_true(pk.nrules >= 200);
	for (i = 0; (r = pack_rule(&pk, i)) != NULL; i++) {
		if (rules_check_pattern(r->pattern, r->secret_group, msg,
		    sizeof(msg)) != HUSH_OK)
			printf("%s: %s\n", r->name, msg);
		assert_int_equal(rules_check_pattern(r->pattern,
		    r->secret_group, msg, sizeof(msg)), HUSH_OK);
		assert_non_null(r->description);
		/* The prefilter needs keywords: a rule without any would
		 * run on every line. */
		assert_true(r->nkeywords > 0);
		if (r->check != NULL)
			assert_int_equal(rules_check_by_name(r->check, &c),
			    HUSH_OK);
		for (j = 0; j < i; j++)
			assert_string_not_equal(r->name,
			    pack_rule(&pk, j)->name);
	}
	pack_release(&pk);
	conf_errs_release(&errs);
}

/* Escaped text */

/* Rules whose corpus positives are also checked inside escaped text:
 * every generic detector and a sample of the format rules. */
static const char *const escaped_rules[] = {
	"jwt", "url-password", "url-token-user", "jdbc-password",
	"connection-string-password", "authorization-header",
	"bearer-token", "api-key-header", "cookie-session", "netrc-password",
	"cli-password-flag", "cli-password-short-flag", "cli-basic-auth",
	"bundler-credentials", "generic-password", "generic-secret",
	"docker-config-auth", "npmrc-auth", "private-key",
	"github-token", "aws-access-key-id", "aws-secret-access-key",
	"slack-token", "stripe-key", "openai-api-key", "anthropic-api-key",
	"google-api-key", "npm-token", "gitlab-token", "sendgrid-api-key",
	NULL
};

enum esc_kind {
	ESC_JSON,	/* {"msg":"..."}, / as \/ (rsyslog fulljson) */
	ESC_JSON2,	/* JSON in a JSON string: \\\" */
	ESC_U0022,	/* quotes as \u0022 */
	ESC_URL,	/* body=<URL-encoded line> */
	ESC_NKINDS
};

/* Appends the JSON string escaping of in (without quotes) to out. */
static void
json_escape_into(const char *in, bool u0022, char *out, size_t cap)
{
	size_t o = strlen(out);

	for (; *in != '\0' && o + 8 < cap; in++) {
		unsigned char c = (unsigned char)*in;

		if (c == '"' && u0022)
			o += (size_t)snprintf(out + o, cap - o, "\\u0022");
		else if (c == '"' || c == '\\' || c == '/')
			o += (size_t)snprintf(out + o, cap - o, "\\%c", c);
		else if (c == '\n')
			o += (size_t)snprintf(out + o, cap - o, "\\n");
		else if (c < 0x20)
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
		else
			out[o++] = (char)c;
		out[o] = '\0';
	}
}

static void
make_escaped(const char *line, enum esc_kind k, char *out, size_t cap)
{
	char inner[8192];
	size_t o;

	out[0] = '\0';
	switch (k) {
	case ESC_JSON:
	case ESC_U0022:
		snprintf(out, cap, "{\"msg\":\"");
		json_escape_into(line, k == ESC_U0022, out, cap);
		strncat(out, "\"}", cap - strlen(out) - 1);
		break;
	case ESC_JSON2:
		snprintf(inner, sizeof(inner), "{\"msg\":\"");
		json_escape_into(line, false, inner, sizeof(inner));
		strncat(inner, "\"}", sizeof(inner) - strlen(inner) - 1);
		snprintf(out, cap, "{\"log\":\"");
		json_escape_into(inner, false, out, cap);
		strncat(out, "\"}", cap - strlen(out) - 1);
		break;
	case ESC_URL:
		o = (size_t)snprintf(out, cap, "POST /hook body=");
		for (; *line != '\0' && o + 4 < cap; line++) {
			unsigned char c = (unsigned char)*line;

			if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			    (c >= '0' && c <= '9') || strchr("-_.~", c) != NULL)
				out[o++] = (char)c;
			else
				o += (size_t)snprintf(out + o, cap - o, "%%%02X", c);
		}
		out[o] = '\0';
		break;
	default:
		fail();
	}
}

/* out with every escape undone (two levels), for looking for leaks. */
static char *
fully_unescaped(const char *out)
{
	size_t n = strlen(out), len;
	uint8_t *a = malloc(n + 1), *b = malloc(n + 1);
	uint32_t *ma = malloc((n + 1) * sizeof(uint32_t));
	uint32_t *mb = malloc((n + 1) * sizeof(uint32_t));

	assert_true(a != NULL && b != NULL && ma != NULL && mb != NULL);
	len = unescape_decode((const uint8_t *)out, n, NULL, a, ma);
	len = unescape_decode(a, len, ma, b, mb);
	b[len] = '\0';
	free(a);
	free(ma);
	free(mb);
	return (char *)b;
}

/*
 * Every corpus positive of the rules above, written inside escaped text,
 * is masked there too, and the output is still valid JSON where the
 * input was (the marker replaces whole escape sequences).
 */
static void
rules_see_through_escaped_text(void **state)
{
	const char *dir = getenv("HUSH_TEST_DATA");
	struct redact_rules *rules = builtin_rules();
	struct expanded ex;
	char path[4096], line[4096], esc[16384];
	unsigned n = 0, bad = 0;
	size_t i, r;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/redact/corpus.txt", dir);
	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		char *rule, *text;
		bool want = false;

		if (line[0] != '+')
			continue;
		line[strcspn(line, "\n")] = '\0';
		rule = line + 2;
		text = strchr(rule, '\t');
		assert_non_null(text);
		*text++ = '\0';
		for (r = 0; escaped_rules[r] != NULL; r++)
			want |= strcmp(escaped_rules[r], rule) == 0;
		if (!want)
			continue;
		expand(text, &ex);
		for (int k = 0; k < ESC_NKINDS; k++) {
			json_t *jin, *jout;
			char *out, *plain;

			make_escaped(ex.text, (enum esc_kind)k, esc,
			    sizeof(esc) - 2);
			jin = json_loads(esc, 0, NULL);
			strcat(esc, "\n");
			out = redact_text(rules, esc);
			plain = fully_unescaped(out);
			n++;
			if (strstr(out, "[REDACTED:") == NULL) {
				printf("MISSED %s (escape %d): %s", rule, k, esc);
				bad++;
			}
			for (i = 0; i < ex.nparts; i++)
				if (strlen(ex.parts[i]) >= 8 &&
				    strstr(plain, ex.parts[i]) != NULL) {
					printf("LEAKED %s (escape %d): %s", rule,
					    k, out);
					bad++;
					break;
				}
			if (jin != NULL) {
				out[strcspn(out, "\n")] = '\0';
				if ((jout = json_loads(out, 0, NULL)) == NULL) {
					printf("BROKE JSON %s (escape %d): %s\n"
					    "  from %s", rule, k, out, esc);
					bad++;
				}
				json_decref(jout);
				json_decref(jin);
			}
			free(plain);
			free(out);
		}
	}
	fclose(f);
	printf("escaped: %u lines, %u failures\n", n, bad);
	assert_true(n >= 200);
	assert_int_equal(bad, 0);
	redact_rules_free(rules);
}

/* The cases the issue names, literally. */
static void
rules_mask_the_escaped_forms_the_issue_names(void **state)
{
	static const char *const in[] = {
		"{\"msg\":\"login password=\\\"Tr0ub4dor3xQ\\\" ok\"}\n",
		"{\"msg\":\"{\\\"api_key\\\": \\\"Zq8RkT2mW9pL4xN7vB3c\\\"}\"}\n",
		"{\"msg\":\"db postgres:\\/\\/app:Zq8RkT2mW9pL@db:5432\\/x\"}\n",
		"{\"log\":\"{\\\"msg\\\":\\\"password=\\\\\\\"Tr0ub4dor3xQ\\\\\\\"\\\"}\"}\n",
		NULL
	};
	struct redact_rules *rules = builtin_rules();
	size_t i;

	(void)state;
	for (i = 0; in[i] != NULL; i++) {
		char *out = redact_text(rules, in[i]);
		json_t *j;

		assert_null(strstr(out, "Tr0ub4dor3xQ"));
		assert_null(strstr(out, "Zq8RkT2mW9pL"));
		assert_non_null(strstr(out, "[REDACTED:"));
		out[strcspn(out, "\n")] = '\0';
		assert_non_null(j = json_loads(out, 0, NULL));
		json_decref(j);
		free(out);
	}
	redact_rules_free(rules);
}

/* Configuration */

static int
load(struct hush_conf *c, const char *text, struct conf_errs *errs)
{
	conf_errs_init(errs);
	return conf_load_string(c, "t.ini", text, CONF_SKIP_SOURCE_CHECKS,
	    rules_check_conf, errs);
}

static void
rules_check_conf_rejects_unknown_disable_name(void **state)
{
	struct hush_conf c;
	struct conf_errs errs;

	(void)state;
	assert_int_equal(load(&c, "[redact]\nformat = x\ndisable = "
	    "generic-pasword, jwt\n", &errs), HUSH_ERR_CONFIG);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.msgs[0], "t.ini:3: "));
	assert_non_null(strstr(errs.msgs[0], "\"generic-pasword\""));
	assert_non_null(strstr(errs.msgs[0], "did you mean "
	    "\"generic-password\""));
	conf_errs_release(&errs);
}

static void
rules_check_conf_rejects_bad_format_placeholder(void **state)
{
	struct hush_conf c;
	struct conf_errs errs;

	(void)state;
	assert_int_equal(load(&c, "[redact]\n\nformat = <{rule}:{hash}>\n",
	    &errs), HUSH_ERR_CONFIG);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.msgs[0], "t.ini:3: "));
	assert_non_null(strstr(errs.msgs[0], "{hash}"));
	conf_errs_release(&errs);
}

static void
rules_check_conf_rejects_bad_pattern_and_builtin_name(void **state)
{
	struct hush_conf c;
	struct conf_errs errs;

	(void)state;
	assert_int_equal(load(&c, "[rule \"a\"]\npattern = x(\n"
	    "[rule \"jwt\"]\npattern = x\n", &errs), HUSH_ERR_CONFIG);
	assert_int_equal(errs.n, 2);
	assert_non_null(strstr(errs.msgs[0], "t.ini:2: "));
	assert_non_null(strstr(errs.msgs[1], "t.ini:3: "));
	conf_errs_release(&errs);
}

/* check, min_entropy and stopwords: bad values are FILE:LINE errors. */
static void
rules_check_conf_rejects_bad_check_and_entropy(void **state)
{
	struct hush_conf c;
	struct conf_errs errs;

	(void)state;
	assert_int_equal(load(&c, "[rule \"a\"]\npattern = a_(x+)\n"
	    "keywords = a_\ncheck = bogus\nmin_entropy = 9\n", &errs),
	    HUSH_ERR_CONFIG);
	assert_int_equal(errs.n, 2);
	assert_non_null(strstr(errs.msgs[0], "t.ini:4: "));
	assert_non_null(strstr(errs.msgs[0], "unknown check \"bogus\""));
	assert_non_null(strstr(errs.msgs[1], "t.ini:5: "));
	assert_non_null(strstr(errs.msgs[1], "min_entropy"));
	conf_errs_release(&errs);
}

/* A user rule with min_entropy and stopwords filters like gitleaks. */
static void
rules_user_rule_min_entropy_and_stopwords(void **state)
{
	struct hush_conf c;
	struct conf_errs errs;
	struct redact_rules *r;
	char *out;

	(void)state;
	assert_int_equal(load(&c, "[redact]\nbuiltin = no\n[rule \"z\"]\n"
	    "pattern = z=([A-Za-z0-9]{16})\nkeywords = z=\nsecret_group = 1\n"
	    "min_entropy = 3.5\nstopwords = sample\n", &errs), HUSH_OK);
	assert_non_null(r = redact_rules_new(&c, 0, &errs));
	assert_int_equal(redact_rules_compile(r), HUSH_OK);
	out = redact_text(r, "z=Q7xK2mP9vL4wN8rT z=aaaaaaaaaaaaaaab "
	    "z=sampleQ7xK2mP9vL\n");
	assert_string_equal(out, "z=[REDACTED:z] z=aaaaaaaaaaaaaaab "
	    "z=sampleQ7xK2mP9vL\n");
	free(out);
	redact_rules_free(r);
	conf_release(&c);
	conf_errs_release(&errs);
}

/* A stopword is matched byte for byte beyond ASCII too (it never matched
 * when its UTF-8 bytes were compared as signed chars). */
static void
rules_user_rule_stopword_beyond_ascii(void **state)
{
	struct hush_conf c;
	struct conf_errs errs;
	struct redact_rules *r;
	char *out;

	(void)state;
	assert_int_equal(load(&c, "[redact]\nbuiltin = no\n[rule \"z\"]\n"
	    "pattern = z=([^ ]{8,32})\nkeywords = z=\nsecret_group = 1\n"
	    "stopwords = m\xc3\xbcller\n", &errs), HUSH_OK);
	assert_non_null(r = redact_rules_new(&c, 0, &errs));
	assert_int_equal(redact_rules_compile(r), HUSH_OK);
	out = redact_text(r, "z=Q7xK2mP9vL4wN8rT z=abM\xc3\xbcLLer1234\n");
	assert_string_equal(out, "z=[REDACTED:z] z=abM\xc3\xbcLLer1234\n");
	free(out);
	redact_rules_free(r);
	conf_release(&c);
	conf_errs_release(&errs);
}

static void
rules_check_conf_accepts_good_configuration(void **state)
{
	struct hush_conf c;
	struct conf_errs errs;

	(void)state;
	assert_int_equal(load(&c, "[redact]\nformat = <{rule}:{fp}:{len}>\n"
	    "disable = generic-secret\n[rule \"acme\"]\npattern = "
	    "acme_([a-z0-9]{8})\nkeywords = acme_\nsecret_group = 1\n",
	    &errs), HUSH_OK);
	assert_int_equal(errs.n, 0);
	conf_release(&c);
	conf_errs_release(&errs);
}

static void
rules_user_rule_masks_its_group_and_disable_works(void **state)
{
	struct hush_conf c;
	struct conf_errs errs;
	struct redact_rules *rules;
	char *out;

	(void)state;
	assert_int_equal(load(&c, "[redact]\ndisable = github-token\n"
	    "[rule \"acme\"]\npattern = acme_([a-z0-9]{8})\nkeywords = ACME_\n"
	    "secret_group = 1\n", &errs), HUSH_OK);
	assert_non_null(rules = redact_rules_new(&c, 0, &errs));
	assert_int_equal(redact_rules_compile(rules), HUSH_OK);
	out = redact_text(rules, "id acme_ab12cd34 and "
	    "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\n");
	assert_string_equal(out, "id acme_[REDACTED:acme] and "
	    "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\n");
	free(out);
	redact_rules_free(rules);
	conf_release(&c);
	conf_errs_release(&errs);
}

static void
rules_user_rule_may_replace_a_disabled_builtin(void **state)
{
	struct hush_conf c;
	struct conf_errs errs;
	struct redact_rules *rules;
	char *out;

	(void)state;
	assert_int_equal(load(&c, "[redact]\ndisable = jwt\n[rule \"jwt\"]\n"
	    "pattern = JWT<[^>]+>\nkeywords = jwt<\n", &errs), HUSH_OK);
	assert_non_null(rules = redact_rules_new(&c, 0, &errs));
	assert_int_equal(redact_rules_compile(rules), HUSH_OK);
	out = redact_text(rules, "a JWT<x.y.z> b\n");
	assert_string_equal(out, "a [REDACTED:jwt] b\n");
	free(out);
	redact_rules_free(rules);
	conf_release(&c);
	conf_errs_release(&errs);
}

static void
rules_rule_without_keywords_runs_on_every_line(void **state)
{
	struct hush_conf c;
	struct conf_errs errs;
	struct redact_rules *rules;
	char *out;

	(void)state;
	assert_int_equal(load(&c, "[rule \"pin\"]\npattern = PIN-\\d{6}\n",
	    &errs), HUSH_OK);
	assert_non_null(rules = redact_rules_new(&c, REDACT_NO_BUILTIN,
	    &errs));
	assert_int_equal(redact_rules_count(rules), 1);
	assert_int_equal(redact_rules_compile(rules), HUSH_OK);
	out = redact_text(rules, "a\nyour PIN-123456 ok\n");
	assert_string_equal(out, "a\nyour [REDACTED:pin] ok\n");
	free(out);
	redact_rules_free(rules);
	conf_release(&c);
	conf_errs_release(&errs);
}

static void
rules_generic_checks_filter_placeholders(void **state)
{
	(void)state;
	assert_false(rules_check_secret(CHECK_GENERIC,
	    (const uint8_t *)"${SECRET_VALUE_1}", 17));
	assert_false(rules_check_secret(CHECK_GENERIC,
	    (const uint8_t *)"aaaaaaaaaaaaaaaaaaaa", 20));
	assert_false(rules_check_secret(CHECK_GENERIC,
	    (const uint8_t *)"abcdefghijklmnopqrst", 20));
	assert_true(rules_check_secret(CHECK_GENERIC,
	    (const uint8_t *)"Xk93jfQ0pLm2ZzT8aBv1", 20));
	assert_false(rules_check_secret(CHECK_PASSWORD,
	    (const uint8_t *)"changeme", 8));
	assert_true(rules_check_secret(CHECK_PASSWORD,
	    (const uint8_t *)"hunter22", 8));
	assert_false(rules_check_secret(CHECK_TOKEN,
	    (const uint8_t *)"Required", 8));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rules_pack_loads_and_patterns_compile_with_their_groups),
		cmocka_unit_test(rules_every_builtin_rule_has_a_positive_and_a_near_miss),
		cmocka_unit_test(rules_pack_matches_labelled_corpus),
		cmocka_unit_test(rules_see_through_escaped_text),
		cmocka_unit_test(rules_mask_the_escaped_forms_the_issue_names),
		cmocka_unit_test(rules_check_conf_rejects_unknown_disable_name),
		cmocka_unit_test(rules_check_conf_rejects_bad_format_placeholder),
		cmocka_unit_test(
		    rules_check_conf_rejects_bad_pattern_and_builtin_name),
		cmocka_unit_test(rules_check_conf_accepts_good_configuration),
		cmocka_unit_test(rules_check_conf_rejects_bad_check_and_entropy),
		cmocka_unit_test(rules_user_rule_min_entropy_and_stopwords),
		cmocka_unit_test(rules_user_rule_stopword_beyond_ascii),
		cmocka_unit_test(rules_user_rule_masks_its_group_and_disable_works),
		cmocka_unit_test(rules_user_rule_may_replace_a_disabled_builtin),
		cmocka_unit_test(rules_rule_without_keywords_runs_on_every_line),
		cmocka_unit_test(rules_generic_checks_filter_placeholders),
	};

	if (hush_harden_process() != HUSH_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
