/*
 * policy.h: who may read what (pure).
 *
 * A client section is a policy: its allow list, the peer uid/gid it
 * expects and the hash of its bearer token. Deny by default: a request is
 * served only when every check that is configured passes.
 */
#ifndef HUSH_POLICY_H
#define HUSH_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "conf/conf.h"

/* The peer's identity, taken once at accept (SO_PEERCRED). */
struct peer {
	pid_t	pid;
	uid_t	uid;
	gid_t	gid;
};

/*
 * Whether the peer is who the client section expects (uid, gid when set).
 * HUSH_OK or HUSH_ERR_DENIED.
 */
int policy_check_peer(const struct conf_client *c, const struct peer *peer);

/*
 * The bearer token, when the client has a token_hash: HUSH_OK when it
 * matches (constant time) or none is required, HUSH_ERR_DENIED when it is
 * missing or wrong.
 */
int policy_check_token(const struct conf_client *c, bool present,
    const char *tok, size_t len);

/*
 * Whether the client's allow list names credential name. unit is the
 * systemd unit asking (protocol = systemd) or NULL; "UNIT:ID" entries
 * match only that unit. A trailing '*' globs. HUSH_OK or HUSH_ERR_DENIED.
 */
int policy_allows(const struct conf_client *c, const char *name,
    const char *unit);

/* What a request asks for, whichever protocol carried it. */
enum policy_kind {
	POLICY_HEALTH = 0,	/* GET /v1/health */
	POLICY_LIST,		/* GET /v1/credentials */
	POLICY_GET,		/* one credential (HTTP or systemd) */
	POLICY_UPSTREAM,	/* a call through [upstream NAME] */
	POLICY_UPSTREAM_INFO,	/* GET /v1/upstream/NAME: its env names */
};

/*
 * Everything one decision depends on. The caller fills it from the
 * configuration in force when the request arrived (never the one its
 * connection was accepted under) and from the broker's state: whether the
 * client's rate bucket had a token for this request, whether the audit log
 * is being written.
 */
struct policy_request {
	const struct hush_conf *conf;
	const struct conf_client *client;
	const struct peer *peer;
	enum policy_kind kind;
	const char	*name;		/* POLICY_GET; "" cannot exist */
	const char	*unit;		/* systemd unit, or NULL */
	bool		 has_token;	/* HTTP: a bearer token came */
	const char	*token;
	size_t		 token_len;
	bool		 rate_ok;
	bool		 audit_ok;
	/* POLICY_UPSTREAM: name is the upstream's; what the call asks */
	const char	*method;
	const char	*path;		/* without the query */
	size_t		 path_len;
};

/* The verdict and what the audit log says about it. */
struct policy_verdict {
	int		 status;	/* HTTP: 200, 401, 404, 429, 503 */
	const char	*result;	/* audit "result": "ok", "denied"... */
	const char	*reason;	/* audit "reason", or NULL */
	const char	*message;	/* error body for the caller */
	size_t		 cred;		/* GET, 200: conf->creds index */
	size_t		 upstream;	/* UPSTREAM, 200: conf->upstreams */
};

/*
 * The one decision every protocol makes, in this order: rate (429, before
 * the token so that guessing it is rate limited), health is then answered,
 * token (401; HTTP clients only), audit log (503), list is then answered,
 * lookup (404 "unknown"), peer uid/gid (404 "denied"), allow (404
 * "denied"). Unknown and not allowed give the caller the same answer; the
 * audit reason tells them apart. An upstream call is looked up among the
 * upstreams and allowed by an "upstream:NAME" entry; its path and method
 * are then checked against the upstream's paths and methods (403).
 * POLICY_UPSTREAM_INFO is decided as an upstream call up to the allow
 * check; it is then a GET (405) and checks no path. Returns HUSH_OK when
 * the request may be served, HUSH_ERR_DENIED otherwise; *v is set either
 * way.
 */
int policy_decide(const struct policy_request *rq, struct policy_verdict *v);

#endif
