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

#endif
