#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf/conf.h"
#include "conf/hush_err.h"

static char data_dir[4096];

/*
 * Allocation failure injection (linked with -Wl,--wrap=..., see
 * tests/CMakeLists.txt): while oom_armed, the allocation numbered
 * oom_fail_at fails; oom_count counts the calls.
 */
void *__real_malloc(size_t n);
void *__real_realloc(void *p, size_t n);
void *__real_calloc(size_t n, size_t size);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_calloc(size_t n, size_t size);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static int oom_armed;
static size_t oom_count, oom_fail_at;

static int
oom_now(void)
{
	return oom_armed && oom_count++ == oom_fail_at;
}

void *
__wrap_malloc(size_t n)
{
	return oom_now() ? NULL : __real_malloc(n);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return oom_now() ? NULL : __real_realloc(p, n);
}

void *
__wrap_calloc(size_t n, size_t size)
{
	return oom_now() ? NULL : __real_calloc(n, size);
}

char *
__wrap_strdup(const char *s)
{
	return oom_now() ? NULL : __real_strdup(s);
}

char *
__wrap_strndup(const char *s, size_t n)
{
	return oom_now() ? NULL : __real_strndup(s, n);
}

/* The client named name: the loaded array is the public view. */
static const struct conf_client *
find_client(const struct hush_conf *conf, const char *name)
{
	size_t i;

	for (i = 0; i < conf->nclients; i++)
		if (strcmp(conf->clients[i].name, name) == 0)
			return &conf->clients[i];
	return NULL;
}

static const char *
fixture(const char *name)
{
	static char path[8192];

	snprintf(path, sizeof(path), "%s/conf/%s", data_dir, name);
	return path;
}

/* Whether some error message contains needle. */
static int
has_error(const struct conf_errs *errs, const char *needle)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		if (strstr(errs->msgs[i], needle) != NULL)
			return 1;
	return 0;
}

static void
dump_errors(const struct conf_errs *errs)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		print_message("  %s\n", errs->msgs[i]);
}

static int
load_text(const char *text, struct hush_conf *conf, struct conf_errs *errs)
{
	conf_errs_init(errs);
	return conf_load_string(conf, "t.ini", text, CONF_DEFAULT, NULL, errs);
}

static void
expect_error(const char *text, const char *needle)
{
	struct hush_conf conf;
	struct conf_errs errs;

	assert_int_equal(load_text(text, &conf, &errs), HUSH_ERR_CONFIG);
	if (!has_error(&errs, needle)) {
		print_message("expected \"%s\" among:\n", needle);
		dump_errors(&errs);
		fail();
	}
	conf_errs_release(&errs);
}

static void
conf_valid_file_with_every_key_loads_typed_values(void **state)
{
	struct hush_conf conf;
	struct conf_errs errs;
	const struct conf_client *c;
	const struct conf_cred *cr;
	int r;

	(void)state;
	conf_errs_init(&errs);
	r = conf_load(&conf, fixture("valid_every_key.ini"), CONF_DEFAULT,
	    NULL, &errs);
	dump_errors(&errs);
	assert_int_equal(r, HUSH_OK);
	assert_int_equal(conf.broker.max_connections, 64);
	assert_int_equal(conf.broker.request_timeout_ms, 500);
	assert_int_equal(conf.broker.max_request_size, 8192);
	assert_true(conf.broker.has_user);
	assert_int_equal(conf.broker.uid, 0);
	assert_int_equal(conf.nclients, 2);
	assert_non_null(c = find_client(&conf, "gateway"));
	assert_int_equal(c->socket_mode, 0660);
	assert_int_equal(c->uid, 1000);
	assert_true(c->has_token_hash);
	assert_int_equal(c->token_hash[0], 0x01);
	assert_int_equal(c->token_hash[31], 0xef);
	assert_int_equal(c->nallow, 3);
	assert_string_equal(c->allow[2], "env-*");
	assert_int_equal(c->rate.count, 20);
	assert_non_null(c = find_client(&conf, "systemd"));
	assert_int_equal(c->protocol, CONF_PROTO_SYSTEMD);
	assert_true(c->has_uid);	/* systemd clients default to uid 0 */
	assert_int_equal(c->uid, 0);
	assert_non_null(cr = conf_find_cred(&conf, "claude"));
	assert_int_equal(cr->kind, CONF_SRC_FILE);
	assert_true(cr->arg[0] == '/');	/* resolved against the file's dir */
	assert_non_null(strstr(cr->arg, "/conf/secrets/claude-credentials.json"));
	assert_string_equal(cr->json_field, "claudeAiOauth.accessToken");
	assert_string_equal(cr->content_type, "text/plain");
	assert_non_null(cr = conf_find_cred(&conf, "codex-auth"));
	assert_int_equal(cr->njson_omit, 2);
	assert_string_equal(cr->content_type, CONF_DEFAULT_CONTENT_TYPE);
	assert_non_null(cr = conf_find_cred(&conf, "db"));
	assert_int_equal(cr->kind, CONF_SRC_EXEC);
	assert_int_equal(cr->timeout_ms, 3000);
	assert_int_equal(cr->cache_ms, 300000);
	assert_string_equal(cr->arg, "/bin/echo s3cret-from-exec");
	assert_string_equal(conf.redact.format, "[REDACTED:{rule}:{fp}]");
	assert_int_equal(conf.redact.ndisable, 1);
	assert_int_equal(conf.redact.max_line, 1 << 20);
	assert_int_equal(conf.nrules, 1);
	assert_string_equal(conf.rules[0].pattern, "acme_[a-z0-9]{32}");
	conf_release(&conf);
	conf_errs_release(&errs);
}

static void
conf_defaults_apply_when_keys_are_absent(void **state)
{
	struct hush_conf conf;
	struct conf_errs errs;

	(void)state;
	assert_int_equal(load_text("[broker]\n", &conf, &errs), HUSH_OK);
	assert_int_equal(conf.broker.max_connections,
	    CONF_DEFAULT_MAX_CONNECTIONS);
	assert_int_equal(conf.broker.idle_timeout_ms,
	    CONF_DEFAULT_IDLE_TIMEOUT_MS);
	assert_string_equal(conf.broker.audit_log, "stderr");
	assert_true(conf.redact.builtin);
	assert_string_equal(conf.redact.format, CONF_DEFAULT_FORMAT);
	assert_int_equal(conf.redact.min_literal_length, 8);
	conf_release(&conf);
	conf_errs_release(&errs);
}

static void
conf_reports_every_error_of_a_file_in_one_run(void **state)
{
	struct hush_conf conf;
	struct conf_errs errs;
	size_t i;

	(void)state;
	conf_errs_init(&errs);
	assert_int_equal(conf_load(&conf,
	    fixture("invalid_many_errors_at_once.ini"), CONF_DEFAULT, NULL,
	    &errs), HUSH_ERR_CONFIG);
	assert_true(errs.n >= 12);
	assert_true(has_error(&errs, "invalid_many_errors_at_once.ini:2: "
	    "unknown key \"max_conections\" in [broker]; did you mean "
	    "\"max_connections\"?"));
	assert_true(has_error(&errs, ".ini:3: idle_timeout"));
	assert_true(has_error(&errs, ".ini:4: max_request_size"));
	assert_true(has_error(&errs, ".ini:8: unknown key \"alow\""));
	assert_true(has_error(&errs, ".ini:9: client \"gw\": allow names "
	    "unknown credential \"clod\""));
	assert_true(has_error(&errs, ".ini:10: rate"));
	assert_true(has_error(&errs, ".ini:13: client \"gw2\": socket"));
	assert_true(has_error(&errs, ".ini:14: socket_mode"));
	assert_true(has_error(&errs, ".ini:18: duplicate key \"source\""));
	assert_true(has_error(&errs, ".ini:20: credential \"nosource\": "
	    "missing source"));
	assert_true(has_error(&errs, ".ini:24: credential \"scheme\": "
	    "unknown source scheme \"fiel\""));
	/* a source file that is not there is the daemon's warning, not an
	 * error of the file (conf_unreadable_source_paths_load) */
	assert_false(has_error(&errs, ".ini:27:"));
	assert_true(has_error(&errs, ".ini:29: unknown section [sectoin]"));
	/* sorted by line */
	for (i = 1; i < errs.n; i++)
		assert_true(errs.locs[i - 1].line <= errs.locs[i].line);
	conf_errs_release(&errs);
}

static void
conf_overlong_line_is_reported_with_its_number_and_rejected(void **state)
{
	struct hush_conf conf;
	struct conf_errs errs;

	(void)state;
	conf_errs_init(&errs);
	assert_int_equal(conf_load(&conf, fixture("invalid_overlong_line.ini"),
	    CONF_DEFAULT, NULL, &errs), HUSH_ERR_CONFIG);
	assert_int_equal(errs.n, 1);
	assert_true(has_error(&errs, "invalid_overlong_line.ini:3: line is "
	    "221 characters long, at most 199"));
	conf_errs_release(&errs);
}

static void
conf_line_of_exactly_199_characters_is_accepted(void **state)
{
	struct hush_conf conf;
	struct conf_errs errs;
	char text[512];
	size_t n;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text), "[rule \"r\"]\npattern = ");
	memset(text + n, 'a', 199 - 10);
	n += 199 - 10;
	text[n] = '\0';
	assert_int_equal(load_text(text, &conf, &errs), HUSH_OK);
	assert_int_equal(strlen(conf.rules[0].pattern), 199 - 10);
	conf_release(&conf);
	conf_errs_release(&errs);
	text[n++] = 'a';
	text[n] = '\0';
	expect_error(text, "t.ini:2: line is 200 characters long");
}

static void
conf_continuation_lines_join_without_separator(void **state)
{
	struct hush_conf conf;
	struct conf_errs errs;
	int r;

	(void)state;
	conf_errs_init(&errs);
	r = conf_load(&conf, fixture("valid_continued_regex.ini"),
	    CONF_DEFAULT, NULL, &errs);
	dump_errors(&errs);
	assert_int_equal(r, HUSH_OK);
	assert_string_equal(conf.rules[0].pattern,
	    "(?:corp_live_[A-Za-z0-9]{40})|(?:corp_test_[A-Za-z0-9]{40})|"
	    "(?:corp_admin_[A-Za-z0-9]{40})|(?:corp_service_[A-Za-z0-9]{40})|"
	    "(?:corp_legacy_[A-Fa-f0-9]{32})");
	conf_release(&conf);
	conf_errs_release(&errs);
}

static void
conf_inline_comment_is_stripped(void **state)
{
	struct hush_conf conf;
	struct conf_errs errs;

	(void)state;
	assert_int_equal(load_text("[broker]\nmax_connections = 12 ; twelve\n"
	    "# comment\n; comment\n", &conf, &errs), HUSH_OK);
	assert_int_equal(conf.broker.max_connections, 12);
	conf_release(&conf);
	conf_errs_release(&errs);
}

static void
conf_keeps_file_and_line_of_every_value(void **state)
{
	struct hush_conf conf;
	struct conf_errs errs;
	struct conf_loc loc;

	(void)state;
	assert_int_equal(load_text("\n[rule \"r\"]\n\nkeywords = x\n"
	    "pattern = x(y)\n", &conf, &errs), HUSH_OK);
	loc = conf_where_key(&conf.rules[0].where, "pattern");
	assert_string_equal(loc.file, "t.ini");
	assert_int_equal(loc.line, 5);
	loc = conf_where_key(&conf.rules[0].where, "secret_group");
	assert_int_equal(loc.line, 2);	/* unset: the section's line */
	assert_int_equal(conf.rules[0].where.section.line, 2);
	conf_release(&conf);
	conf_errs_release(&errs);
}

static void
conf_unknown_key_and_section_suggest_near_misses(void **state)
{
	(void)state;
	expect_error("[client \"a\"]\nsocket = /tmp/a.sock\nalow = x\n",
	    "t.ini:3: unknown key \"alow\" in [client \"a\"]; did you mean "
	    "\"allow\"?");
	expect_error("[credentail \"a\"]\nsource = env:A\n",
	    "t.ini:1: unknown section [credentail]; did you mean "
	    "\"credential\"?");
	expect_error("[broker]\nfrobnicate = 1\n",
	    "t.ini:2: unknown key \"frobnicate\" in [broker]");
}

static void
conf_syntax_errors_name_their_lines(void **state)
{
	(void)state;
	expect_error("[broker]\njust some words\n",
	    "t.ini:2: expected \"key = value\"");
	expect_error("[broker\n", "t.ini:1: section header without closing");
	expect_error("[client]\n", "t.ini:1: [client] needs a name");
	expect_error("[broker \"x\"]\n", "t.ini:1: [broker] takes no name");
	expect_error("max_connections = 1\n",
	    "t.ini:1: key \"max_connections\" outside of any section");
	expect_error("[credential \"a b\"]\n",
	    "t.ini:1: invalid credential name \"a b\"");
	/* the names the API can never serve (conf/api.h) */
	expect_error("[credential \"..\"]\nsource = env:X\n",
	    "t.ini:1: invalid credential name \"..\"");
	expect_error("[credential \".\"]\nsource = env:X\n",
	    "t.ini:1: invalid credential name \".\"");
}

static void
conf_duplicate_key_names_first_location(void **state)
{
	(void)state;
	expect_error("[broker]\nmax_connections = 1\n\nmax_connections = 2\n",
	    "t.ini:4: duplicate key \"max_connections\" (first set at "
	    "t.ini:2)");
	expect_error("[broker]\nmax_connections = 1\n[broker]\n"
	    "max_connections = 2\n", "t.ini:4: duplicate key");
	expect_error("[credential \"a\"]\nsource = env:A\n"
	    "[credential \"a\"]\nsource = env:B\n",
	    "t.ini:3: credential \"a\" is already defined at t.ini:1");
}

static void
conf_two_clients_on_one_socket_is_an_error(void **state)
{
	(void)state;
	expect_error("[client \"a\"]\nsocket = /tmp/x.sock\n"
	    "[client \"b\"]\nsocket = /tmp/x.sock\n",
	    "t.ini:4: client \"b\": socket /tmp/x.sock is already used by "
	    "client \"a\" (t.ini:1)");
}

static void
conf_client_share_and_write_timeout(void **state)
{
	struct hush_conf conf;
	struct conf_errs errs;
	const struct conf_client *a, *b;

	(void)state;
	assert_int_equal(load_text("[broker]\nmax_connections = 100\n"
	    "[client \"a\"]\nsocket = /tmp/a.sock\n"
	    "[client \"b\"]\nsocket = /tmp/b.sock\nmax_connections = 7\n"
	    "write_timeout = 2s\n", &conf, &errs), HUSH_OK);
	assert_non_null(a = find_client(&conf, "a"));
	assert_non_null(b = find_client(&conf, "b"));
	/* the default share is well under the global cap */
	assert_int_equal(conf_client_share(&conf.broker, a),
	    CONF_DEFAULT_CLIENT_MAX_CONNECTIONS);
	assert_int_equal(a->write_timeout_ms, CONF_DEFAULT_WRITE_TIMEOUT_MS);
	assert_int_equal(conf_client_share(&conf.broker, b), 7);
	assert_int_equal(b->write_timeout_ms, 2000);
	/* never above the global cap */
	conf.broker.max_connections = 5;
	assert_int_equal(conf_client_share(&conf.broker, a), 5);
	assert_int_equal(conf_client_share(&conf.broker, b), 5);
	conf_release(&conf);
	conf_errs_release(&errs);
	expect_error("[client \"a\"]\nsocket = /tmp/a.sock\n"
	    "write_timeout = 0s\n", "t.ini:3:");
	expect_error("[client \"a\"]\nsocket = /tmp/a.sock\n"
	    "max_connections = 0\n", "t.ini:3:");
}

static void
conf_socket_path_too_long_is_rejected_not_truncated(void **state)
{
	char text[512];
	size_t n;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text),
	    "[client \"a\"]\nsocket = /");
	memset(text + n, 'd', 120);
	text[n + 120] = '\0';
	expect_error(text, "t.ini:2: socket: path is 121 bytes long; a Unix "
	    "socket path holds at most 107");
	expect_error("[client \"a\"]\nsocket = rel.sock\n",
	    "t.ini:2: socket: invalid value \"rel.sock\" (an absolute path)");
	expect_error("[client \"a\"]\nallow = x\n",
	    "t.ini:1: client \"a\": missing socket");
}

static void
conf_allow_naming_unknown_credential_is_an_error(void **state)
{
	struct hush_conf conf;
	struct conf_errs errs;

	(void)state;
	expect_error("[credential \"claude\"]\nsource = env:A\n"
	    "[client \"a\"]\nsocket = /tmp/a.sock\nallow = claud\n",
	    "t.ini:5: client \"a\": allow names unknown credential \"claud\"; "
	    "did you mean \"claude\"?");
	expect_error("[credential \"claude\"]\nsource = env:A\n"
	    "[client \"a\"]\nsocket = /tmp/a.sock\nallow = u.service:claude\n",
	    "UNIT:ID needs protocol = systemd");
	/* a glob may match nothing yet */
	assert_int_equal(load_text("[client \"a\"]\nsocket = /tmp/a.sock\n"
	    "allow = future-*\n", &conf, &errs), HUSH_OK);
	conf_release(&conf);
	conf_errs_release(&errs);
}

/*
 * A file: path that cannot be read is no configuration error:
 * its owner could delete it and so stop hushd from starting or reloading
 * (hushd warns instead, hushd_main.c).
 */
static void
conf_unreadable_source_paths_load(void **state)
{
	struct hush_conf conf;
	struct conf_errs errs;

	(void)state;
	assert_int_equal(load_text("[credential \"a\"]\n"
	    "source = file:/nonexistent/x\n"
	    "[credential \"c\"]\nsource = file:/\n", &conf, &errs), HUSH_OK);
	conf_release(&conf);
	conf_errs_release(&errs);
}

static void
conf_source_errors_are_reported_at_their_line(void **state)
{
	(void)state;
	expect_error("[credential \"a\"]\ncontent_type = text/plain\n",
	    "t.ini:1: credential \"a\": missing source");
	expect_error("[credential \"a\"]\nsource = vault:x\n",
	    "t.ini:2: credential \"a\": unknown source scheme \"vault\"");
	expect_error("[credential \"a\"]\nsource = /etc/passwd\n",
	    "t.ini:2: credential \"a\": source must be SCHEME:ARG");
	expect_error("[credential \"a\"]\nsource = exec:relative/cmd\n",
	    "t.ini:2: credential \"a\": exec: needs an absolute path");
	expect_error("[credential \"a\"]\nsource = exec:/bin/echo \"open\n",
	    "t.ini:2: credential \"a\": exec: ");
	expect_error("[credential \"a\"]\nsource = exec:'/bin/echo' x\n"
	    "[credential \"b\"]\nsource = exec:  \n",
	    "t.ini:4: credential \"b\": exec: ");
	expect_error("[credential \"a\"]\nsource = env:A\nkey_file = /k\n",
	    "t.ini:3: credential \"a\": key_file is only for sealed:");
	expect_error("[credential \"a\"]\nsource = env:A\ntimeout = 1s\n",
	    "t.ini:3: credential \"a\": timeout is only for exec:");
	expect_error("[credential \"a\"]\nsource = env:A\nmax_size = 2MiB\n",
	    "t.ini:3: max_size: invalid value \"2MiB\"");
	expect_error("[credential \"a\"]\nsource = env:A\njson_field = a..b\n",
	    "t.ini:3: json_field: invalid JSON path \"a..b\"");
	expect_error("[credential \"a\"]\nsource = env:A\njson_field = a\n"
	    "json_omit = b\n", "t.ini:4: credential \"a\": json_field and "
	    "json_omit exclude each other");
	expect_error("[credential \"a\"]\nsource = env:A\njson_field = a\n"
	    "json_blank = b\n", "t.ini:4: credential \"a\": json_field and "
	    "json_blank exclude each other");
	expect_error("[credential \"a\"]\nsource = env:A\n"
	    "json_blank = b, c.\n",
	    "t.ini:3: json_blank: invalid JSON path \"c.\"");
	expect_error("[credential \"a\"]\nsource = env:A\n"
	    "content_type = text/plain\x01\n",
	    "t.ini:3: content_type: invalid value");
}

static void
conf_unknown_user_and_group_are_errors(void **state)
{
	(void)state;
	expect_error("[broker]\nuser = no-such-user-hush\n",
	    "t.ini:2: user: no such user \"no-such-user-hush\"");
	expect_error("[broker]\ngroup = no-such-group-hush\n",
	    "t.ini:2: group: no such group \"no-such-group-hush\"");
	expect_error("[client \"a\"]\nsocket = /tmp/a.sock\n"
	    "socket_group = no-such-group-hush\n",
	    "t.ini:3: socket_group: no such group");
	expect_error("[client \"a\"]\nsocket = /tmp/a.sock\n"
	    "uid = no-such-user-hush\n", "t.ini:3: uid: no such user");
}

static void
conf_include_reads_dropins_and_errors_name_the_included_file(void **state)
{
	struct hush_conf conf;
	struct conf_errs errs;
	int r;

	(void)state;
	conf_errs_init(&errs);
	r = conf_load(&conf, fixture("valid_with_include.ini"), CONF_DEFAULT,
	    NULL, &errs);
	dump_errors(&errs);
	assert_int_equal(r, HUSH_OK);
	assert_non_null(conf_find_cred(&conf, "from-dropin"));
	assert_int_equal(conf.broker.max_connections, 10);
	conf_release(&conf);
	conf_errs_release(&errs);

	conf_errs_init(&errs);
	assert_int_equal(conf_load(&conf,
	    fixture("invalid_include_names_included_file.ini"), CONF_DEFAULT,
	    NULL, &errs), HUSH_ERR_CONFIG);
	assert_true(has_error(&errs, "included/broken.ini:4: unknown key "
	    "\"bogus\""));
	conf_errs_release(&errs);

	expect_error("[broker]\ninclude = /nonexistent/hush.ini\n",
	    "t.ini:2: include /nonexistent/hush.ini: no such file");
}

static void
conf_include_loop_stops_at_the_depth_limit(void **state)
{
	char dir[] = "/tmp/hush-conf-XXXXXX", path[256];
	struct hush_conf conf;
	struct conf_errs errs;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/self.ini", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("[broker]\ninclude = self.ini\n", f);
	fclose(f);
	chmod(path, 0600);
	conf_errs_init(&errs);
	assert_int_equal(conf_load(&conf, path, CONF_DEFAULT, NULL, &errs),
	    HUSH_ERR_CONFIG);
	assert_true(has_error(&errs, "self.ini:2: includes nested more than"));
	conf_errs_release(&errs);
	unlink(path);
	rmdir(dir);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void
conf_refuses_files_others_can_write(void **state)
{
	char dir[] = "/tmp/hush-conf-XXXXXX", path[256];
	struct hush_conf conf;
	struct conf_errs errs;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/hush.ini", dir);
	write_file(path, "[broker]\n", 0664);
	conf_errs_init(&errs);
	assert_int_equal(conf_load(&conf, path, CONF_DEFAULT, NULL, &errs),
	    HUSH_ERR_CONFIG);
	assert_true(has_error(&errs, "refusing a configuration writable by "
	    "group or others (mode 0664)"));
	conf_errs_release(&errs);
	write_file(path, "[broker]\n", 0602);
	conf_errs_init(&errs);
	assert_int_equal(conf_load(&conf, path, CONF_DEFAULT, NULL, &errs),
	    HUSH_ERR_CONFIG);
	conf_errs_release(&errs);
	write_file(path, "[broker]\n", 0644);
	conf_errs_init(&errs);
	assert_int_equal(conf_load(&conf, path, CONF_DEFAULT, NULL, &errs),
	    HUSH_OK);
	conf_release(&conf);
	conf_errs_release(&errs);
	if (geteuid() == 0) {
		/* owned by another, non-root user */
		assert_int_equal(chown(path, 65534, 65534), 0);
		conf_errs_init(&errs);
		assert_int_equal(conf_load(&conf, path, CONF_DEFAULT, NULL,
		    &errs), HUSH_ERR_CONFIG);
		assert_true(has_error(&errs, "refusing a configuration owned "
		    "by uid 65534"));
		conf_errs_release(&errs);
	}
	unlink(path);
	rmdir(dir);
}

/*
 * A FIFO (or any non-regular file) matched by include = must be refused
 * without waiting for a writer: open() of a FIFO blocks until one comes,
 * which hung --check and reload. alarm() turns a hang into a failure.
 */
static void
conf_fifo_include_is_refused_without_waiting(void **state)
{
	char dir[] = "/tmp/hush-conf-XXXXXX", path[256], dropins[256];
	char fifo[256], main_fifo[256];
	struct hush_conf conf;
	struct conf_errs errs;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(dropins, sizeof(dropins), "%s/conf.d", dir);
	assert_int_equal(mkdir(dropins, 0700), 0);
	snprintf(fifo, sizeof(fifo), "%s/conf.d/x.ini", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	snprintf(path, sizeof(path), "%s/hush.ini", dir);
	write_file(path, "[broker]\ninclude = conf.d/*.ini\n", 0600);
	conf_errs_init(&errs);
	alarm(30);
	assert_int_equal(conf_load(&conf, path, CONF_DEFAULT, NULL, &errs),
	    HUSH_ERR_CONFIG);
	alarm(0);
	if (!has_error(&errs, "hush.ini:2: include ") ||
	    !has_error(&errs, "x.ini: not a regular file")) {
		dump_errors(&errs);
		fail();
	}
	conf_errs_release(&errs);

	/* The main file itself, too. */
	snprintf(main_fifo, sizeof(main_fifo), "%s/main.ini", dir);
	assert_int_equal(mkfifo(main_fifo, 0600), 0);
	conf_errs_init(&errs);
	alarm(30);
	assert_int_equal(conf_load(&conf, main_fifo, CONF_DEFAULT, NULL,
	    &errs), HUSH_ERR_CONFIG);
	alarm(0);
	assert_true(has_error(&errs, "main.ini: not a regular file"));
	conf_errs_release(&errs);
	unlink(main_fifo);
	unlink(fifo);
	unlink(path);
	rmdir(dropins);
	rmdir(dir);
}

static void
conf_exec_env_lists_variable_names_for_exec_sources_only(void **state)
{
	struct hush_conf conf;
	struct conf_errs errs;
	const struct conf_cred *c;

	(void)state;
	assert_int_equal(load_text("[credential \"db\"]\n"
	    "source = exec:/bin/true\nenv = VAULT_ADDR, VAULT_TOKEN\n", &conf,
	    &errs), HUSH_OK);
	assert_non_null(c = conf_find_cred(&conf, "db"));
	assert_int_equal(c->nenv, 2);
	assert_string_equal(c->env[0], "VAULT_ADDR");
	assert_string_equal(c->env[1], "VAULT_TOKEN");
	assert_null(c->env[2]);
	conf_release(&conf);
	conf_errs_release(&errs);
	expect_error("[credential \"db\"]\nsource = exec:/bin/true\n"
	    "env = VAULT_ADDR, 9X\n", "t.ini:3: credential \"db\": env: \"9X\" "
	    "is not a variable name");
	expect_error("[credential \"db\"]\nsource = exec:/bin/true\n"
	    "env = A=B\n", "t.ini:3: credential \"db\": env: \"A=B\"");
	expect_error("[credential \"k\"]\nsource = env:KEY\nenv = PATH\n",
	    "t.ini:3: credential \"k\": env is only for exec: sources");
}

/*
 * A configuration with errors never loads as a success, whichever
 * allocation fails: running out of memory while recording the errors
 * used to drop them, and an empty list read as success. And there is
 * always a message to print.
 */
static void
conf_out_of_memory_never_turns_errors_into_success(void **state)
{
	static const char *const texts[] = {
		"[broker]\nbogus = 1\n",
		"[client \"a\"]\nsocket = /tmp/a.sock\nallow = nope\n"
		"[credential \"c\"]\nsource = env:C\nalow = x\n",
	};
	struct hush_conf conf;
	struct conf_errs errs;
	size_t t, i, calls;
	int r;

	(void)state;
	for (t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
		for (i = 0;; i++) {
			conf_errs_init(&errs);
			oom_count = 0;
			oom_fail_at = i;
			oom_armed = 1;
			r = conf_load_string(&conf, "t.ini", texts[t],
			    CONF_DEFAULT, NULL, &errs);
			oom_armed = 0;
			calls = oom_count;
			if (r == HUSH_OK) {
				print_message("allocation %zu failed: loaded "
				    "as a success\n", i);
				conf_release(&conf);
				fail();
			}
			assert_int_equal(r, HUSH_ERR_CONFIG);
			assert_true(errs.n >= 1);
			assert_non_null(errs.msgs[0]);
			conf_errs_release(&errs);
			if (calls <= i)
				break;	/* no allocation failed: all covered */
		}
		assert_true(i > 3);
	}
}

static void
conf_nul_byte_and_binary_garbage_are_errors_not_crashes(void **state)
{
	char dir[] = "/tmp/hush-conf-XXXXXX", path[256];
	static const char bytes[] = "[broker]\nmax_connections = 1\0x\n\xff\xfe";
	struct hush_conf conf;
	struct conf_errs errs;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bin.ini", dir);
	assert_non_null(f = fopen(path, "wb"));
	fwrite(bytes, 1, sizeof(bytes) - 1, f);
	fclose(f);
	chmod(path, 0600);
	conf_errs_init(&errs);
	assert_int_equal(conf_load(&conf, path, CONF_DEFAULT, NULL, &errs),
	    HUSH_ERR_CONFIG);
	assert_true(has_error(&errs, "bin.ini:2: NUL byte in line"));
	assert_true(has_error(&errs, "bin.ini:3: expected \"key = value\""));
	conf_errs_release(&errs);
	unlink(path);
	rmdir(dir);
}

static void
conf_sealed_key_file_others_can_read_is_refused_by_check(void **state)
{
	char dir[] = "/tmp/hush-conf-XXXXXX", key[256], sealed[256];
	char text[1024];
	struct hush_conf conf;
	struct conf_errs errs;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(key, sizeof(key), "%s/master.key", dir);
	snprintf(sealed, sizeof(sealed), "%s/x.sealed", dir);
	write_file(key, "hush-key-v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	    "\n", 0644);
	write_file(sealed, "not checked here", 0600);
	snprintf(text, sizeof(text), "[credential \"s\"]\nsource = sealed:%s\n"
	    "key_file = %s\n", sealed, key);
	expect_error(text, "t.ini:3: credential \"s\": key_file");
	assert_int_equal(chmod(key, 0600), 0);
	assert_int_equal(load_text(text, &conf, &errs), HUSH_OK);
	conf_release(&conf);
	conf_errs_release(&errs);
	unlink(key);
	unlink(sealed);
	rmdir(dir);
}

static size_t
check_adds_one_error(const struct hush_conf *conf, struct conf_errs *errs)
{
	conf_errs_add(errs, conf_where_key(&conf->rules[0].where, "pattern"),
	    "from the check hook");
	return 1;
}

static void
conf_check_hook_errors_are_reported_with_the_others(void **state)
{
	struct hush_conf conf;
	struct conf_errs errs;

	(void)state;
	conf_errs_init(&errs);
	assert_int_equal(conf_load_string(&conf, "t.ini",
	    "[rule \"r\"]\npattern = x\n[broker]\nbogus = 1\n", CONF_DEFAULT,
	    check_adds_one_error, &errs), HUSH_ERR_CONFIG);
	assert_int_equal(errs.n, 2);
	assert_true(strstr(errs.msgs[0], "t.ini:2: from the check hook") !=
	    NULL);
	assert_true(strstr(errs.msgs[1], "t.ini:4: unknown key") != NULL);
	conf_errs_release(&errs);
}


#define UP_CRED "[credential \"k\"]\nsource = env:HOME\n"
#define UP_HEAD "[upstream \"api\"]\n"

static void
conf_upstream_loads_with_defaults(void **state)
{
	struct hush_conf conf;
	struct conf_errs errs;
	const struct conf_upstream *u;

	(void)state;
	assert_int_equal(load_text(UP_CRED UP_HEAD
	    "url = https://api.example.com/\ncredential = k\n"
	    "header = Authorization: Bearer {value}\n"
	    "paths = /v1/messages, /v1/models*\n"
	    "[client \"c\"]\nsocket = /tmp/up.sock\n"
	    "allow = upstream:api, k\n", &conf, &errs), HUSH_OK);
	assert_int_equal(conf.nupstreams, 1);
	u = conf_find_upstream(&conf, "api");
	assert_non_null(u);
	assert_string_equal(u->url, "https://api.example.com");
	assert_string_equal(u->header_name, "Authorization");
	assert_string_equal(u->header_pre, "Bearer ");
	assert_string_equal(u->header_post, "");
	assert_int_equal(u->max_request_size, 32ULL << 20);
	assert_int_equal(u->timeout_ms, 600000);
	assert_true(conf_upstream_method_ok(u, "POST"));
	assert_false(conf_upstream_method_ok(u, "DELETE"));
	assert_int_equal(u->cred, 0);
	conf_release(&conf);
	conf_errs_release(&errs);
}

static void
conf_upstream_errors_have_file_and_line(void **state)
{
	(void)state;
	expect_error(UP_CRED UP_HEAD "url = http://api.example.com\n"
	    "credential = k\nheader = x-api-key: {value}\npaths = /v1\n",
	    "t.ini:4: url: invalid value");
	expect_error(UP_CRED UP_HEAD "url = https://u:p@api.example.com\n"
	    "credential = k\nheader = x-api-key: {value}\npaths = /v1\n",
	    "t.ini:4: url: invalid value");
	expect_error(UP_CRED UP_HEAD "url = https://a.example\n"
	    "credential = nope\nheader = x-api-key: {value}\npaths = /v1\n",
	    "t.ini:5: upstream \"api\": credential: no [credential \"nope\"]");
	expect_error(UP_CRED UP_HEAD "url = https://a.example\n"
	    "credential = k\nheader = x-api-key: value\npaths = /v1\n",
	    "t.ini:6: header: invalid value");
	expect_error(UP_CRED UP_HEAD "url = https://a.example\n"
	    "credential = k\nheader = x-api-key: {value}\n",
	    "t.ini:3: upstream \"api\": missing paths");
	expect_error(UP_CRED UP_HEAD "url = https://a.example\n"
	    "credential = k\nheader = x-api-key: {value}\n"
	    "paths = v1, /a/../b\n",
	    "t.ini:7: upstream \"api\": paths: \"v1\" is not a path");
	expect_error(UP_CRED UP_HEAD "url = https://a.example\n"
	    "credential = k\nheader = x-api-key: {value}\npaths = /v1\n"
	    "methods = get\n", "t.ini:8: upstream \"api\": methods: \"get\"");
	expect_error(UP_CRED UP_HEAD "url = https://a.example\n"
	    "credential = k\nheader = x-api-key: {value}\npaths = /v1\n"
	    "[client \"c\"]\nsocket = /tmp/up.sock\n"
	    "allow = upstream:nope\n",
	    "t.ini:10: client \"c\": allow names unknown upstream \"nope\"");
	expect_error(UP_CRED UP_HEAD "url = https://a.example\n"
	    "credential = k\nheader = x-api-key: {value}\npaths = /v1\n"
	    "timeout = 0s\n", "t.ini:8: timeout: invalid value");
}

static void
conf_upstream_plain_http_only_to_loopback(void **state)
{
	struct hush_conf conf;
	struct conf_errs errs;

	(void)state;
	assert_int_equal(load_text(UP_CRED UP_HEAD
	    "url = http://127.0.0.1:8080\ncredential = k\n"
	    "header = x-api-key: {value}\npaths = /v1\n", &conf, &errs),
	    HUSH_OK);
	conf_release(&conf);
	conf_errs_release(&errs);
	expect_error(UP_CRED UP_HEAD "url = http://127.0.0.1.evil.example\n"
	    "credential = k\nheader = x-api-key: {value}\npaths = /v1\n",
	    "t.ini:4: url: invalid value");
	expect_error(UP_CRED UP_HEAD "url = http://localhost.evil.example\n"
	    "credential = k\nheader = x-api-key: {value}\npaths = /v1\n",
	    "t.ini:4: url: invalid value");
}

static void
conf_upstream_paths_refuse_traversal(void **state)
{
	struct hush_conf conf;
	struct conf_errs errs;
	const struct conf_upstream *u;
	static const char *const ok[] = { "/v1/messages",
	    "/v1/messages/count_tokens", "/v1/models", "/v1/models-x",
	    "/v1/models/m1", NULL };
	static const char *const no[] = { "/v1/messagesX", "/v1/admin",
	    "/v1/messages/../admin", "/v1/messages/./x", "//v1/messages",
	    "/v1/models/%2e%2e/admin", "/v1/messages\\..\\a", "/", "",
	    "/v1/messages/..", NULL };
	size_t i;

	(void)state;
	assert_int_equal(load_text(UP_CRED UP_HEAD
	    "url = https://a.example\ncredential = k\n"
	    "header = x-api-key: {value}\n"
	    "paths = /v1/messages, /v1/models*\n", &conf, &errs), HUSH_OK);
	u = &conf.upstreams[0];
	for (i = 0; ok[i] != NULL; i++)
		assert_true(conf_upstream_path_ok(u, ok[i], strlen(ok[i])));
	for (i = 0; no[i] != NULL; i++) {
		if (conf_upstream_path_ok(u, no[i], strlen(no[i])))
			fail_msg("path %s allowed", no[i]);
	}
	conf_release(&conf);
	conf_errs_release(&errs);
}

int
main(void)
{
	const char *d = getenv("HUSH_TEST_DATA");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(conf_valid_file_with_every_key_loads_typed_values),
		cmocka_unit_test(conf_defaults_apply_when_keys_are_absent),
		cmocka_unit_test(conf_reports_every_error_of_a_file_in_one_run),
		cmocka_unit_test(conf_overlong_line_is_reported_with_its_number_and_rejected),
		cmocka_unit_test(conf_line_of_exactly_199_characters_is_accepted),
		cmocka_unit_test(conf_continuation_lines_join_without_separator),
		cmocka_unit_test(conf_inline_comment_is_stripped),
		cmocka_unit_test(conf_keeps_file_and_line_of_every_value),
		cmocka_unit_test(conf_unknown_key_and_section_suggest_near_misses),
		cmocka_unit_test(conf_syntax_errors_name_their_lines),
		cmocka_unit_test(conf_duplicate_key_names_first_location),
		cmocka_unit_test(conf_two_clients_on_one_socket_is_an_error),
		cmocka_unit_test(conf_client_share_and_write_timeout),
		cmocka_unit_test(conf_socket_path_too_long_is_rejected_not_truncated),
		cmocka_unit_test(conf_allow_naming_unknown_credential_is_an_error),
		cmocka_unit_test(conf_source_errors_are_reported_at_their_line),
		cmocka_unit_test(conf_unreadable_source_paths_load),
		cmocka_unit_test(conf_unknown_user_and_group_are_errors),
		cmocka_unit_test(conf_include_reads_dropins_and_errors_name_the_included_file),
		cmocka_unit_test(conf_include_loop_stops_at_the_depth_limit),
		cmocka_unit_test(conf_refuses_files_others_can_write),
		cmocka_unit_test(conf_fifo_include_is_refused_without_waiting),
		cmocka_unit_test(conf_out_of_memory_never_turns_errors_into_success),
		cmocka_unit_test(conf_exec_env_lists_variable_names_for_exec_sources_only),
		cmocka_unit_test(conf_nul_byte_and_binary_garbage_are_errors_not_crashes),
		cmocka_unit_test(conf_check_hook_errors_are_reported_with_the_others),
		cmocka_unit_test(conf_sealed_key_file_others_can_read_is_refused_by_check),
		cmocka_unit_test(conf_upstream_loads_with_defaults),
		cmocka_unit_test(conf_upstream_errors_have_file_and_line),
		cmocka_unit_test(conf_upstream_plain_http_only_to_loopback),
		cmocka_unit_test(conf_upstream_paths_refuse_traversal),
	};

	if (hush_harden_process() != HUSH_OK)
		return 1;
	if (d == NULL) {
		fprintf(stderr, "HUSH_TEST_DATA is not set\n");
		return 1;
	}
	snprintf(data_dir, sizeof(data_dir), "%s", d);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
