/*
 * peer.h: who is on the other end of a Unix socket.
 *
 * The kernel's word (SO_PEERCRED), taken once at accept, and the abstract
 * address systemd's LoadCredential= binds before it connects.
 */
#ifndef HUSH_PEER_H
#define HUSH_PEER_H

#include <stddef.h>

#include "broker/policy.h"

#define PEER_MAX_UNIT	256
#define PEER_MAX_ID	128

/* The peer's pid, uid and gid. HUSH_OK or HUSH_ERR_IO. */
int peer_get(int fd, struct peer *peer);

/*
 * Parses systemd's abstract peer address: path is sun_path and len the
 * length getpeername returned for it (no trailing NUL). The form is
 * "\0" HEX "/unit/" UNIT "/" ID with 1 to 16 lowercase hex digits.
 * HUSH_OK with unit and id as C strings, or HUSH_ERR_INVALID.
 */
int peer_parse_systemd(const char *path, size_t len, char *unit,
    size_t unitcap, char *id, size_t idcap);

/* getpeername + peer_parse_systemd. */
int peer_systemd(int fd, char *unit, size_t unitcap, char *id,
    size_t idcap);

#endif
