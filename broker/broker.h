/*
 * broker.h: hushd, the daemon, as its main program sees it. Its running
 * state is in broker/internal.h, for the daemon's own modules only; what
 * the daemon shares with its clients (paths, the name alphabet) is in
 * conf/api.h, so the hush command never includes a daemon header.
 */
#ifndef HUSH_BROKER_H
#define HUSH_BROKER_H

#include "conf/conf.h"

/*
 * Serves conf (taken over: released here) until SIGTERM/SIGINT; conf_path
 * is read again on SIGHUP. Returns an exit status.
 */
int broker_run(const char *conf_path, struct hush_conf *conf);

#endif
