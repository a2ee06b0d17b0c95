#include <stdio.h>
#include <string.h>

#include "conf/allow.h"
#include "conf/hush_err.h"
#include "conf/token.h"
#include "broker/policy.h"

int
policy_check_peer(const struct conf_client *c, const struct peer *peer)
{
	if (c->has_uid && peer->uid != c->uid)
		return HUSH_ERR_DENIED;
	if (c->has_gid && peer->gid != c->gid)
		return HUSH_ERR_DENIED;
	return HUSH_OK;
}

int
policy_check_token(const struct conf_client *c, bool present,
    const char *tok, size_t len)
{
	if (!c->has_token_hash)
		return HUSH_OK;
	if (!present || len == 0)
		return HUSH_ERR_DENIED;
	return token_matches(tok, len, c->token_hash) ? HUSH_OK :
	    HUSH_ERR_DENIED;
}

int
policy_allows(const struct conf_client *c, const char *name,
    const char *unit)
{
	size_t i;

	for (i = 0; i < c->nallow; i++) {
		struct allow_entry e;

		allow_parse(c->allow[i], &e);
		if (c->protocol != CONF_PROTO_SYSTEMD) {
			/* the loader refuses UNIT:ID here: whole entry */
			e.pat = c->allow[i];
			e.pat_len = strlen(e.pat);
		} else if (e.unit != NULL && (unit == NULL ||
		    strlen(unit) != e.unit_len ||
		    memcmp(e.unit, unit, e.unit_len) != 0))
			continue;	/* UNIT:ID: only that unit */
		if (allow_glob(e.pat, e.pat_len, name))
			return HUSH_OK;
	}
	return HUSH_ERR_DENIED;
}

static int
policy_refuse(struct policy_verdict *v, int status, const char *result,
    const char *reason, const char *message)
{
	v->status = status;
	v->result = result;
	v->reason = reason;
	v->message = message;
	return HUSH_ERR_DENIED;
}

static int
policy_upstream(const struct policy_request *rq, struct policy_verdict *v)
{
	const struct conf_client *c = rq->client;
	char allow[sizeof(CONF_UPSTREAM_PREFIX) + 128];
	size_t i;

	for (i = 0; i < rq->conf->nupstreams; i++)
		if (strcmp(rq->conf->upstreams[i].name, rq->name) == 0)
			break;
	if (rq->name[0] == '\0' || i == rq->conf->nupstreams ||
	    strlen(rq->name) > 127)
		return policy_refuse(v, 404, "unknown", NULL,
		    "no such upstream");
	if (policy_check_peer(c, rq->peer) != HUSH_OK)
		return policy_refuse(v, 404, "denied", "peer uid/gid",
		    "no such upstream");
	snprintf(allow, sizeof(allow), "%s%s", CONF_UPSTREAM_PREFIX,
	    rq->name);
	if (policy_allows(c, allow, NULL) != HUSH_OK)
		return policy_refuse(v, 404, "denied", "not in allow",
		    "no such upstream");
	/* the names to set: whoever may call the upstream may read them */
	if (rq->kind == POLICY_UPSTREAM_INFO) {
		if (strcmp(rq->method, "GET") != 0)
			return policy_refuse(v, 405, "bad-method", NULL,
			    "method not allowed");
		goto ok;
	}
	if (!conf_upstream_method_ok(&rq->conf->upstreams[i], rq->method))
		return policy_refuse(v, 403, "forbidden", "method not allowed",
		    "method not allowed for this upstream");
	if (!conf_upstream_path_ok(&rq->conf->upstreams[i], rq->path,
	    rq->path_len))
		return policy_refuse(v, 403, "forbidden", "path not allowed",
		    "path not allowed for this upstream");
ok:
	v->upstream = i;
	v->cred = rq->conf->upstreams[i].cred;
	v->status = 200;
	v->result = "ok";
	return HUSH_OK;
}

int
policy_decide(const struct policy_request *rq, struct policy_verdict *v)
{
	const struct conf_client *c = rq->client;
	const struct conf_cred *cred;

	memset(v, 0, sizeof(*v));
	if (!rq->rate_ok)
		return policy_refuse(v, 429, "rate-limited", NULL,
		    "too many requests");
	if (rq->kind == POLICY_HEALTH)
		goto ok;
	/* a systemd client has no way to send a token: it never passes */
	if (c->has_token_hash && (c->protocol != CONF_PROTO_HTTP ||
	    policy_check_token(c, rq->has_token, rq->token, rq->token_len) !=
	    HUSH_OK))
		return policy_refuse(v, 401, "unauthorized", rq->has_token ?
		    "wrong token" : "no token", "token missing or wrong");
	if (!rq->audit_ok)
		return policy_refuse(v, 503, "unavailable", "audit log",
		    "audit log unavailable");
	if (rq->kind == POLICY_LIST)
		goto ok;
	if (rq->kind == POLICY_UPSTREAM || rq->kind == POLICY_UPSTREAM_INFO)
		return policy_upstream(rq, v);
	if (rq->name[0] == '\0' ||
	    (cred = conf_find_cred(rq->conf, rq->name)) == NULL)
		return policy_refuse(v, 404, "unknown", NULL,
		    "no such credential");
	if (policy_check_peer(c, rq->peer) != HUSH_OK)
		return policy_refuse(v, 404, "denied", "peer uid/gid",
		    "no such credential");
	if (policy_allows(c, rq->name, rq->unit) != HUSH_OK)
		return policy_refuse(v, 404, "denied", "not in allow",
		    "no such credential");
	v->cred = (size_t)(cred - rq->conf->creds);
ok:
	v->status = 200;
	v->result = "ok";
	return HUSH_OK;
}
