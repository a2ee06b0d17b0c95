/*
 * The schema table (conf/conf_schema.c): it names the keys docs/config.md
 * names, its defaults are the documented ones, every converter reports a
 * bad value at FILE:LINE with the key's name, and the reader keeps
 * libinih's syntax now that it parses lines itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conf/conf.h"
#include "conf/conf_schema.h"
#include "conf/hush_err.h"

/* (section, key) pairs of docs/config.md's tables. */
struct doc_key {
	int	sec;
	char	key[64];
};

static struct doc_key doc_keys[256];
static size_t ndoc_keys;

/* "## [client "NAME"]" -> CONF_SEC_CLIENT; -1 for other headings. */
static int
heading_sec(const char *line)
{
	char word[32];
	size_t n;

	if (strncmp(line, "## [", 4) != 0)
		return -1;
	n = strcspn(line + 4, " ]");
	if (n == 0 || n >= sizeof(word))
		return -1;
	memcpy(word, line + 4, n);
	word[n] = '\0';
	return conf_sec_find(word);
}

static int
read_docs(void **state)
{
	const char *src = getenv("HUSH_SRC");
	char path[4096], line[2048];
	int sec = -1;
	FILE *f;

	(void)state;
	if (src == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/docs/config.md", src);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *k, *e;

		if (strncmp(line, "## ", 3) == 0) {
			sec = heading_sec(line);
			continue;
		}
		/* a table row: | `key` | type | default | meaning | */
		if (sec < 0 || strncmp(line, "| `", 3) != 0)
			continue;
		k = line + 3;
		if ((e = strchr(k, '`')) == NULL || (size_t)(e - k) >=
		    sizeof(doc_keys[0].key) || ndoc_keys == 256)
			continue;
		doc_keys[ndoc_keys].sec = sec;
		memcpy(doc_keys[ndoc_keys].key, k, (size_t)(e - k));
		doc_keys[ndoc_keys].key[e - k] = '\0';
		ndoc_keys++;
	}
	fclose(f);
	return ndoc_keys > 0 ? 0 : -1;
}

static void
schema_names_every_documented_key(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ndoc_keys; i++) {
		if (conf_schema_find((enum conf_sec)doc_keys[i].sec,
		    doc_keys[i].key) == NULL)
			fail_msg("docs/config.md [%s] %s is not in the schema",
			    conf_sec_name((enum conf_sec)doc_keys[i].sec),
			    doc_keys[i].key);
	}
}

static void
docs_name_every_key_of_the_schema(void **state)
{
	const struct conf_key *k;
	size_t i;

	(void)state;
	for (k = conf_schema; k->key != NULL; k++) {
		for (i = 0; i < ndoc_keys; i++)
			if (doc_keys[i].sec == (int)k->sec &&
			    strcmp(doc_keys[i].key, k->key) == 0)
				break;
		if (i == ndoc_keys)
			fail_msg("schema key [%s] %s is not in docs/config.md",
			    conf_sec_name(k->sec), k->key);
	}
}

static void
schema_has_each_key_once(void **state)
{
	const struct conf_key *k, *j;

	(void)state;
	for (k = conf_schema; k->key != NULL; k++)
		for (j = conf_schema; j != k; j++)
			if (j->sec == k->sec && strcmp(j->key, k->key) == 0)
				fail_msg("[%s] %s twice", conf_sec_name(k->sec),
				    k->key);
}

/* The defaults the rest of hush names as constants are the table's. */
static void
schema_defaults_are_the_documented_constants(void **state)
{
	struct hush_conf conf;
	struct conf_errs errs;

	(void)state;
	conf_init(&conf);
	assert_int_equal(conf.broker.max_connections,
	    CONF_DEFAULT_MAX_CONNECTIONS);
	assert_int_equal(conf.broker.idle_timeout_ms,
	    CONF_DEFAULT_IDLE_TIMEOUT_MS);
	assert_int_equal(conf.broker.request_timeout_ms,
	    CONF_DEFAULT_REQUEST_TIMEOUT_MS);
	assert_int_equal(conf.broker.max_request_size,
	    CONF_DEFAULT_MAX_REQUEST_SIZE);
	assert_true(conf.redact.builtin);
	assert_true(conf.redact.credentials);
	assert_int_equal(conf.redact.min_literal_length,
	    CONF_DEFAULT_MIN_LITERAL);
	assert_int_equal(conf.redact.max_line, CONF_DEFAULT_MAX_LINE);
	assert_null(conf.broker.audit_log);	/* conf_init allocates nothing */

	conf_errs_init(&errs);
	assert_int_equal(conf_load_string(&conf, "d.ini",
	    "[credential \"c\"]\nsource = env:X\n"
	    "[client \"a\"]\nsocket = /run/hush/a.sock\n"
	    "[upstream \"u\"]\nurl = https://api.example\ncredential = c\n"
	    "header = x-api-key: {value}\npaths = /v1\n",
	    CONF_SKIP_SOURCE_CHECKS, NULL, &errs), HUSH_OK);
	assert_string_equal(conf.broker.audit_log, "stderr");
	assert_string_equal(conf.redact.format, CONF_DEFAULT_FORMAT);
	assert_int_equal(conf.clients[0].socket_mode, CONF_DEFAULT_SOCKET_MODE);
	assert_int_equal(conf.clients[0].protocol, CONF_PROTO_HTTP);
	assert_int_equal(conf.clients[0].write_timeout_ms,
	    CONF_DEFAULT_WRITE_TIMEOUT_MS);
	assert_string_equal(conf.creds[0].content_type,
	    CONF_DEFAULT_CONTENT_TYPE);
	assert_int_equal(conf.creds[0].max_size, CONF_DEFAULT_MAX_SIZE);
	assert_int_equal(conf.creds[0].timeout_ms,
	    CONF_DEFAULT_EXEC_TIMEOUT_MS);
	assert_int_equal(conf.upstreams[0].max_request_size,
	    CONF_DEFAULT_UPSTREAM_MAX_REQUEST);
	assert_int_equal(conf.upstreams[0].timeout_ms,
	    CONF_DEFAULT_UPSTREAM_TIMEOUT_MS);
	assert_int_equal(conf.upstreams[0].nmethods, 2);
	assert_string_equal(conf.upstreams[0].methods[0], "GET");
	conf_release(&conf);
	conf_errs_release(&errs);
}

/* A value each type refuses. */
static const char *
bad_value(enum conf_type t)
{
	switch (t) {
	case CONF_T_BOOL: return "maybe";
	case CONF_T_UINT: return "12x";
	case CONF_T_SIZE: return "12 parsecs";
	case CONF_T_DURATION: return "5 fortnights";
	case CONF_T_BITS: return "9";
	case CONF_T_MODE: return "999";
	case CONF_T_RATE: return "fast";
	case CONF_T_ENUM: return "carrier-pigeon";
	case CONF_T_STRING: return "a\x01b";
	case CONF_T_PATH: return "a\x01b";
	case CONF_T_SOCKET: return "relative.sock";
	case CONF_T_LIST: return "a,,b";
	case CONF_T_VARNAME: return "A, B";
	case CONF_T_USER: return "no-such-user-hush-test";
	case CONF_T_GROUP: return "no-such-group-hush-test";
	case CONF_T_UID: return "no-such-user-hush-test";
	case CONF_T_GID: return "no-such-group-hush-test";
	case CONF_T_HEX: return "zz";
	case CONF_T_URL: return "ftp://example.org";
	case CONF_T_HEADER: return "x-api-key without a placeholder";
	case CONF_T_NTYPES: break;
	}
	return NULL;
}

/* Every row, so every type: "t.ini:2: " and the key's name. */
static void
each_converter_reports_file_line_and_key(void **state)
{
	const struct conf_key *k;
	bool seen[CONF_T_NTYPES] = { false };
	int t;

	(void)state;
	for (k = conf_schema; k->key != NULL; k++) {
		struct hush_conf conf;
		struct conf_errs errs;
		char text[512], want[64];
		size_t i;
		bool found = false;

		assert_non_null(bad_value(k->type));
		snprintf(text, sizeof(text), "[%s%s]\n%s = %s\n",
		    conf_sec_name(k->sec), conf_sec_has_subject(k->sec) ?
		    " \"n\"" : "", k->key, bad_value(k->type));
		snprintf(want, sizeof(want), "t.ini:2: ");
		conf_errs_init(&errs);
		assert_int_equal(conf_load_string(&conf, "t.ini", text,
		    CONF_SKIP_SOURCE_CHECKS, NULL, &errs), HUSH_ERR_CONFIG);
		for (i = 0; i < errs.n; i++)
			if (strncmp(errs.msgs[i], want, strlen(want)) == 0 &&
			    strstr(errs.msgs[i], k->key) != NULL &&
			    strchr(errs.msgs[i], '\x01') == NULL)
				found = true;
		if (!found)
			fail_msg("[%s] %s = %s: no error at t.ini:2 naming "
			    "the key (first: %s)", conf_sec_name(k->sec),
			    k->key, bad_value(k->type),
			    errs.n > 0 ? errs.msgs[0] : "none");
		seen[k->type] = true;
		conf_errs_release(&errs);
	}
	for (t = 0; t < CONF_T_NTYPES; t++)
		if (!seen[t])
			fail_msg("type %d has no key in the schema", t);
}

static int
load(struct hush_conf *conf, struct conf_errs *errs, const char *text)
{
	conf_errs_init(errs);
	return conf_load_string(conf, "s.ini", text, CONF_SKIP_SOURCE_CHECKS,
	    NULL, errs);
}

/*
 * libinih ends a key at a comment that follows white space, tab included:
 * a line whose "=" comes after such a comment has no key. It used to be
 * dropped without a word; it is an error with its line.
 */
static void
reader_key_line_cut_by_a_tab_comment_is_an_error(void **state)
{
	struct hush_conf conf;
	struct conf_errs errs;

	(void)state;
	assert_int_equal(load(&conf, &errs, "[redact]\n"
	    "builtin\t; = no\n"), HUSH_ERR_CONFIG);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.msgs[0], "s.ini:2: expected \"key = value\"");
	conf_errs_release(&errs);
}

/* The syntax libinih gave us, kept: ":" separates too, inline comments
 * after a space or a tab, continuations after a key, a BOM, CRLF. */
static void
reader_keeps_libinih_syntax(void **state)
{
	struct hush_conf conf;
	struct conf_errs errs;

	(void)state;
	assert_int_equal(load(&conf, &errs, "\xEF\xBB\xBF; comment\r\n"
	    "# comment\n"
	    "[rule \"r\"]  ; trailing\n"
	    "pattern: ab ; a comment\n"
	    "   cd\t; another\n"
	    "\n"
	    "description = x=y:z\t; c\n"
	    "keywords = k1,\n"
	    "\tk2\n"), HUSH_OK);
	assert_string_equal(conf.rules[0].pattern, "abcd");
	assert_string_equal(conf.rules[0].description, "x=y:z");
	assert_int_equal(conf.rules[0].nkeywords, 2);
	assert_string_equal(conf.rules[0].keywords[1], "k2");
	conf_release(&conf);
	conf_errs_release(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(schema_names_every_documented_key),
		cmocka_unit_test(docs_name_every_key_of_the_schema),
		cmocka_unit_test(schema_has_each_key_once),
		cmocka_unit_test(schema_defaults_are_the_documented_constants),
		cmocka_unit_test(each_converter_reports_file_line_and_key),
		cmocka_unit_test(reader_key_line_cut_by_a_tab_comment_is_an_error),
		cmocka_unit_test(reader_keeps_libinih_syntax),
	};

	return cmocka_run_group_tests(tests, read_docs, NULL);
}
