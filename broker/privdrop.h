/* privdrop.h: dropping root after the sockets are bound. */
#ifndef HUSH_PRIVDROP_H
#define HUSH_PRIVDROP_H

#include <stddef.h>

#include "conf/conf.h"

/*
 * When running as root and [broker] user is set: drops supplementary
 * groups, then to [broker] group and user, and checks that root cannot
 * be regained. HUSH_OK (also when there is nothing to do) or an error
 * with a message in err.
 */
int privdrop(const struct conf_broker *cb, char *err, size_t errlen);

#endif
