#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "conf/hush_err.h"
#include "conf/token.h"
#include "broker/policy.h"

static void
client(struct conf_client *c, char **allow, size_t n)
{
	memset(c, 0, sizeof(*c));
	c->name = "gw";
	c->allow = allow;
	c->nallow = n;
}

static void
policy_allows_listed_and_globbed_names(void **state)
{
	char *allow[] = { "claude", "aws-*", NULL };
	struct conf_client c;

	(void)state;
	client(&c, allow, 2);
	assert_int_equal(policy_allows(&c, "claude", NULL), HUSH_OK);
	assert_int_equal(policy_allows(&c, "aws-prod", NULL), HUSH_OK);
	assert_int_equal(policy_allows(&c, "aws-", NULL), HUSH_OK);
}

static void
policy_denies_unlisted_credential(void **state)
{
	char *allow[] = { "claude", "aws-*", NULL };
	struct conf_client c;

	(void)state;
	client(&c, allow, 2);
	assert_int_equal(policy_allows(&c, "claude2", NULL), HUSH_ERR_DENIED);
	assert_int_equal(policy_allows(&c, "claud", NULL), HUSH_ERR_DENIED);
	assert_int_equal(policy_allows(&c, "aws", NULL), HUSH_ERR_DENIED);
	client(&c, allow, 0);
	assert_int_equal(policy_allows(&c, "claude", NULL), HUSH_ERR_DENIED);
}

static void
policy_unit_entries_match_only_that_unit(void **state)
{
	char *allow[] = { "web.service:tls", "db", NULL };
	struct conf_client c;

	(void)state;
	client(&c, allow, 2);
	c.protocol = CONF_PROTO_SYSTEMD;
	assert_int_equal(policy_allows(&c, "tls", "web.service"), HUSH_OK);
	assert_int_equal(policy_allows(&c, "tls", "app.service"),
	    HUSH_ERR_DENIED);
	assert_int_equal(policy_allows(&c, "tls", NULL), HUSH_ERR_DENIED);
	assert_int_equal(policy_allows(&c, "db", "any.service"), HUSH_OK);
}

static void
policy_checks_uid_and_gid_when_set(void **state)
{
	char *allow[] = { NULL };
	struct conf_client c;
	struct peer p = { 42, 1000, 1000 };

	(void)state;
	client(&c, allow, 0);
	assert_int_equal(policy_check_peer(&c, &p), HUSH_OK);
	c.has_uid = true;
	c.uid = 1000;
	assert_int_equal(policy_check_peer(&c, &p), HUSH_OK);
	c.uid = 0;
	assert_int_equal(policy_check_peer(&c, &p), HUSH_ERR_DENIED);
	c.uid = 1000;
	c.has_gid = true;
	c.gid = 1001;
	assert_int_equal(policy_check_peer(&c, &p), HUSH_ERR_DENIED);
}

static void
policy_checks_the_bearer_token_against_its_hash(void **state)
{
	char *allow[] = { NULL };
	struct conf_client c;
	const char *tok = "hush_right";

	(void)state;
	client(&c, allow, 0);
	assert_int_equal(policy_check_token(&c, false, NULL, 0), HUSH_OK);
	c.has_token_hash = true;
	token_hash(tok, strlen(tok), c.token_hash);
	assert_int_equal(policy_check_token(&c, false, NULL, 0),
	    HUSH_ERR_DENIED);
	assert_int_equal(policy_check_token(&c, true, "hush_wrong", 10),
	    HUSH_ERR_DENIED);
	assert_int_equal(policy_check_token(&c, true, tok, strlen(tok) - 1),
	    HUSH_ERR_DENIED);
	assert_int_equal(policy_check_token(&c, true, tok, strlen(tok)),
	    HUSH_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(policy_allows_listed_and_globbed_names),
		cmocka_unit_test(policy_denies_unlisted_credential),
		cmocka_unit_test(policy_unit_entries_match_only_that_unit),
		cmocka_unit_test(policy_checks_uid_and_gid_when_set),
		cmocka_unit_test(
		    policy_checks_the_bearer_token_against_its_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
