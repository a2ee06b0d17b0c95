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

/*
 * policy_decide: one row per case, both protocols. Each row is one
 * request against one configuration: a token-protected HTTP client "gw"
 * (uid 1000, allow claude and aws-*) or a systemd client "sd" (uid 0,
 * allow db and web.service:tls), credentials claude, aws-prod, db, tls.
 */
struct decide_case {
	const char		*what;
	enum conf_protocol	 proto;
	enum policy_kind	 kind;
	const char		*name;
	const char		*unit;
	const char		*token;		/* NULL: none sent */
	uid_t			 uid;
	bool			 rate_ok;
	bool			 audit_ok;
	int			 status;
	const char		*result;
	const char		*reason;
};

#define GOOD	"hush_good"

static const struct decide_case decide_cases[] = {
	{ "served", CONF_PROTO_HTTP, POLICY_GET, "claude", NULL, GOOD, 1000,
	    true, true, 200, "ok", NULL },
	{ "glob served", CONF_PROTO_HTTP, POLICY_GET, "aws-prod", NULL, GOOD,
	    1000, true, true, 200, "ok", NULL },
	{ "rate first, even before the token", CONF_PROTO_HTTP, POLICY_GET,
	    "claude", NULL, NULL, 1000, false, true, 429, "rate-limited",
	    NULL },
	{ "rate limits health", CONF_PROTO_HTTP, POLICY_HEALTH, NULL, NULL,
	    NULL, 1000, false, true, 429, "rate-limited", NULL },
	{ "health needs no token", CONF_PROTO_HTTP, POLICY_HEALTH, NULL, NULL,
	    NULL, 4242, true, false, 200, "ok", NULL },
	{ "no token", CONF_PROTO_HTTP, POLICY_GET, "claude", NULL, NULL, 1000,
	    true, true, 401, "unauthorized", "no token" },
	{ "wrong token", CONF_PROTO_HTTP, POLICY_GET, "claude", NULL,
	    "hush_bad", 1000, true, true, 401, "unauthorized", "wrong token" },
	{ "token before names: no existence oracle", CONF_PROTO_HTTP,
	    POLICY_GET, "nope", NULL, NULL, 1000, true, true, 401,
	    "unauthorized", "no token" },
	{ "list needs the token", CONF_PROTO_HTTP, POLICY_LIST, NULL, NULL,
	    NULL, 1000, true, true, 401, "unauthorized", "no token" },
	{ "audit log down", CONF_PROTO_HTTP, POLICY_GET, "claude", NULL, GOOD,
	    1000, true, false, 503, "unavailable", "audit log" },
	{ "list while the audit log is down", CONF_PROTO_HTTP, POLICY_LIST,
	    NULL, NULL, GOOD, 1000, true, false, 503, "unavailable",
	    "audit log" },
	{ "list", CONF_PROTO_HTTP, POLICY_LIST, NULL, NULL, GOOD, 4242, true,
	    true, 200, "ok", NULL },
	{ "unknown", CONF_PROTO_HTTP, POLICY_GET, "nope", NULL, GOOD, 1000,
	    true, true, 404, "unknown", NULL },
	{ "impossible name", CONF_PROTO_HTTP, POLICY_GET, "", NULL, GOOD,
	    1000, true, true, 404, "unknown", NULL },
	{ "wrong peer", CONF_PROTO_HTTP, POLICY_GET, "claude", NULL, GOOD,
	    4242, true, true, 404, "denied", "peer uid/gid" },
	{ "not in allow", CONF_PROTO_HTTP, POLICY_GET, "db", NULL, GOOD, 1000,
	    true, true, 404, "denied", "not in allow" },
	{ "systemd served", CONF_PROTO_SYSTEMD, POLICY_GET, "db",
	    "app.service", NULL, 0, true, true, 200, "ok", NULL },
	{ "systemd UNIT:ID", CONF_PROTO_SYSTEMD, POLICY_GET, "tls",
	    "web.service", NULL, 0, true, true, 200, "ok", NULL },
	{ "systemd UNIT:ID, other unit", CONF_PROTO_SYSTEMD, POLICY_GET,
	    "tls", "app.service", NULL, 0, true, true, 404, "denied",
	    "not in allow" },
	{ "systemd wrong peer", CONF_PROTO_SYSTEMD, POLICY_GET, "db",
	    "app.service", NULL, 1000, true, true, 404, "denied",
	    "peer uid/gid" },
	{ "systemd unknown", CONF_PROTO_SYSTEMD, POLICY_GET, "nope",
	    "app.service", NULL, 0, true, true, 404, "unknown", NULL },
	{ "systemd rate", CONF_PROTO_SYSTEMD, POLICY_GET, "db", "app.service",
	    NULL, 0, false, true, 429, "rate-limited", NULL },
	{ "systemd audit log down", CONF_PROTO_SYSTEMD, POLICY_GET, "db",
	    "app.service", NULL, 0, true, false, 503, "unavailable",
	    "audit log" },
};

static void
policy_decide_follows_one_order_for_both_protocols(void **state)
{
	char *gw_allow[] = { "claude", "aws-*", NULL };
	char *sd_allow[] = { "db", "web.service:tls", NULL };
	struct conf_cred creds[4];
	struct conf_client gw, sd;
	struct hush_conf conf;
	size_t i;

	(void)state;
	memset(creds, 0, sizeof(creds));
	creds[0].name = "claude";
	creds[1].name = "aws-prod";
	creds[2].name = "db";
	creds[3].name = "tls";
	memset(&conf, 0, sizeof(conf));
	conf.creds = creds;
	conf.ncreds = 4;
	client(&gw, gw_allow, 2);
	gw.has_uid = true;
	gw.uid = 1000;
	gw.has_token_hash = true;
	token_hash(GOOD, strlen(GOOD), gw.token_hash);
	client(&sd, sd_allow, 2);
	sd.name = "sd";
	sd.protocol = CONF_PROTO_SYSTEMD;
	sd.has_uid = true;
	sd.uid = 0;
	for (i = 0; i < sizeof(decide_cases) / sizeof(decide_cases[0]); i++) {
		const struct decide_case *dc = &decide_cases[i];
		struct peer p = { 42, dc->uid, 1000 };
		struct policy_request rq = {
			.conf = &conf, .peer = &p, .kind = dc->kind,
			.name = dc->name != NULL ? dc->name : "",
			.unit = dc->unit, .rate_ok = dc->rate_ok,
			.audit_ok = dc->audit_ok,
		};
		struct policy_verdict v;
		int r;

		rq.client = dc->proto == CONF_PROTO_HTTP ? &gw : &sd;
		if (dc->token != NULL) {
			rq.has_token = true;
			rq.token = dc->token;
			rq.token_len = strlen(dc->token);
		}
		r = policy_decide(&rq, &v);
		print_message("%s\n", dc->what);
		assert_int_equal(r, dc->status == 200 ? HUSH_OK :
		    HUSH_ERR_DENIED);
		assert_int_equal(v.status, dc->status);
		assert_string_equal(v.result, dc->result);
		if (dc->reason == NULL)
			assert_null(v.reason);
		else
			assert_string_equal(v.reason, dc->reason);
		if (dc->status != 200)
			assert_non_null(v.message);
		if (dc->status == 200 && dc->kind == POLICY_GET)
			assert_string_equal(conf.creds[v.cred].name, dc->name);
	}
}

static void
policy_decide_refuses_a_token_protected_systemd_client(void **state)
{
	char *allow[] = { "db", NULL };
	struct conf_cred cred;
	struct conf_client c;
	struct hush_conf conf;
	struct peer p = { 42, 0, 0 };
	struct policy_request rq;
	struct policy_verdict v;

	(void)state;
	memset(&cred, 0, sizeof(cred));
	cred.name = "db";
	memset(&conf, 0, sizeof(conf));
	conf.creds = &cred;
	conf.ncreds = 1;
	client(&c, allow, 1);
	c.protocol = CONF_PROTO_SYSTEMD;
	c.has_token_hash = true;
	token_hash(GOOD, strlen(GOOD), c.token_hash);
	memset(&rq, 0, sizeof(rq));
	rq.conf = &conf;
	rq.client = &c;
	rq.peer = &p;
	rq.kind = POLICY_GET;
	rq.name = "db";
	rq.rate_ok = rq.audit_ok = true;
	/* the protocol cannot carry a token: a sent one is not believed */
	rq.has_token = true;
	rq.token = GOOD;
	rq.token_len = strlen(GOOD);
	assert_int_equal(policy_decide(&rq, &v), HUSH_ERR_DENIED);
	assert_int_equal(v.status, 401);
}


/* issue 11: upstream:NAME grants the route, never the credential, and
 * the path and method are decided by the same function */
static void
policy_upstream_needs_its_allow_entry_then_path_and_method(void **state)
{
	char *allow[] = { "upstream:api", NULL };
	char *paths[] = { "/v1/messages", NULL };
	char *methods[] = { "POST", NULL };
	struct conf_cred creds[1];
	struct conf_upstream ups[1];
	struct conf_client c;
	struct hush_conf conf;
	struct peer p = { 42, 1000, 1000 };
	struct policy_request rq;
	struct policy_verdict v;

	(void)state;
	memset(creds, 0, sizeof(creds));
	memset(ups, 0, sizeof(ups));
	creds[0].name = "key";
	ups[0].name = "api";
	ups[0].paths = paths;
	ups[0].npaths = 1;
	ups[0].methods = methods;
	ups[0].nmethods = 1;
	memset(&conf, 0, sizeof(conf));
	conf.creds = creds;
	conf.ncreds = 1;
	conf.upstreams = ups;
	conf.nupstreams = 1;
	client(&c, allow, 1);
	memset(&rq, 0, sizeof(rq));
	rq.conf = &conf;
	rq.client = &c;
	rq.peer = &p;
	rq.rate_ok = rq.audit_ok = true;
	rq.kind = POLICY_UPSTREAM;
	rq.name = "api";
	rq.method = "POST";
	rq.path = "/v1/messages";
	rq.path_len = strlen(rq.path);
	assert_int_equal(policy_decide(&rq, &v), HUSH_OK);
	assert_int_equal(v.upstream, 0);
	rq.path = "/v1/messages/../admin";
	rq.path_len = strlen(rq.path);
	assert_int_equal(policy_decide(&rq, &v), HUSH_ERR_DENIED);
	assert_int_equal(v.status, 403);
	rq.path = "/v1/messages";
	rq.path_len = strlen(rq.path);
	rq.method = "GET";
	assert_int_equal(policy_decide(&rq, &v), HUSH_ERR_DENIED);
	assert_int_equal(v.status, 403);
	rq.method = "POST";
	rq.name = "other";
	assert_int_equal(policy_decide(&rq, &v), HUSH_ERR_DENIED);
	assert_int_equal(v.status, 404);
	assert_string_equal(v.result, "unknown");
	/* the entry does not give the credential's value */
	rq.kind = POLICY_GET;
	rq.name = "key";
	assert_int_equal(policy_decide(&rq, &v), HUSH_ERR_DENIED);
	assert_int_equal(v.status, 404);
	/* nor does a credential entry give the route */
	allow[0] = "key";
	rq.kind = POLICY_UPSTREAM;
	rq.name = "api";
	assert_int_equal(policy_decide(&rq, &v), HUSH_ERR_DENIED);
	assert_string_equal(v.reason, "not in allow");
	/* the names of an upstream (GET /v1/upstream/NAME): its allow
	 * entry, a GET, and no path or method of the upstream's */
	rq.kind = POLICY_UPSTREAM_INFO;
	rq.method = "GET";
	rq.path = "/";
	rq.path_len = 1;
	assert_int_equal(policy_decide(&rq, &v), HUSH_ERR_DENIED);
	assert_int_equal(v.status, 404);
	assert_string_equal(v.result, "denied");
	allow[0] = "upstream:api";
	assert_int_equal(policy_decide(&rq, &v), HUSH_OK);
	assert_int_equal(v.upstream, 0);
	rq.method = "POST";
	assert_int_equal(policy_decide(&rq, &v), HUSH_ERR_DENIED);
	assert_int_equal(v.status, 405);
	rq.method = "GET";
	rq.name = "other";
	assert_int_equal(policy_decide(&rq, &v), HUSH_ERR_DENIED);
	assert_string_equal(v.result, "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(policy_allows_listed_and_globbed_names),
		cmocka_unit_test(
		    policy_upstream_needs_its_allow_entry_then_path_and_method),
		cmocka_unit_test(policy_denies_unlisted_credential),
		cmocka_unit_test(policy_unit_entries_match_only_that_unit),
		cmocka_unit_test(policy_checks_uid_and_gid_when_set),
		cmocka_unit_test(
		    policy_checks_the_bearer_token_against_its_hash),
		cmocka_unit_test(
		    policy_decide_follows_one_order_for_both_protocols),
		cmocka_unit_test(
		    policy_decide_refuses_a_token_protected_systemd_client),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
