/* privdrop.h: dropping root after the sockets are bound. */
#ifndef HUSH_PRIVDROP_H
#define HUSH_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

#include "conf/conf.h"

/*
 * Whether privdrop will change users: running as root with [broker] user
 * set to someone else.
 */
int privdrop_pending(const struct conf_broker *cb);

/*
 * The user and group this process will run as after privdrop: [broker]
 * user and group (the user's primary group when group is unset) when
 * the drop is pending, else its own. HUSH_OK or an error in err.
 */
int privdrop_target(const struct conf_broker *cb, uid_t *uidp, gid_t *gidp,
    char *err, size_t errlen);

/*
 * When running as root and [broker] user is set: drops supplementary
 * groups, then to [broker] group and user, checks that root cannot be
 * regained, and makes the process non-dumpable again (setuid() resets
 * that flag to fs.suid_dumpable). HUSH_OK (also when there is nothing to
 * do) or an error with a message in err.
 */
int privdrop(const struct conf_broker *cb, char *err, size_t errlen);

#endif
