/*
 * sdnotify.h: telling systemd (Type=notify) that hushd is ready.
 *
 * With Type=simple, `systemctl start` and `restart` return as soon as
 * hushd is exec'd, before its sockets exist, so `systemctl restart hushd
 * && hush get x` could find no socket. READY=1 is sent once the sockets
 * are bound, privileges dropped and the start audited. The protocol is
 * one datagram to $NOTIFY_SOCKET (sd_notify(3)); written here rather than
 * linking libsystemd for one sendto.
 */
#ifndef HUSH_SDNOTIFY_H
#define HUSH_SDNOTIFY_H

/*
 * Sends state (e.g. "READY=1") to $NOTIFY_SOCKET: a path, or an abstract
 * address written with a leading '@'. Nothing when the variable is unset
 * (not started by systemd) or unusable; a failure is never fatal.
 * Returns whether the datagram was sent.
 */
int sdnotify(const char *state);

#endif
