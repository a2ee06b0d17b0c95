#define _GNU_SOURCE	/* setgroups */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "conf/hush_err.h"
#include "broker/privdrop.h"

int
privdrop_pending(const struct conf_broker *cb)
{
	return geteuid() == 0 && cb->has_user;
}

int
privdrop_target(const struct conf_broker *cb, uid_t *uidp, gid_t *gidp,
    char *err, size_t errlen)
{
	struct passwd *pw;

	if (!privdrop_pending(cb)) {
		*uidp = geteuid();
		*gidp = getegid();
		return HUSH_OK;
	}
	if (cb->has_group) {
		*uidp = cb->uid;
		*gidp = cb->gid;
		return HUSH_OK;
	}
	if ((pw = getpwuid(cb->uid)) == NULL) {
		snprintf(err, errlen, "user %s has no passwd entry", cb->user);
		return HUSH_ERR_CONFIG;
	}
	*uidp = cb->uid;
	*gidp = pw->pw_gid;
	return HUSH_OK;
}

int
privdrop(const struct conf_broker *cb, char *err, size_t errlen)
{
	uid_t uid;
	gid_t gid;
	int r;

	if (!privdrop_pending(cb))
		return HUSH_OK;
	if ((r = privdrop_target(cb, &uid, &gid, err, errlen)) != HUSH_OK)
		return r;
	if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
		snprintf(err, errlen, "cannot drop privileges to %s: %s",
		    cb->user, strerror(errno));
		return HUSH_ERR_DENIED;
	}
	/* no way back */
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(err, errlen, "privileges could be regained");
		return HUSH_ERR_DENIED;
	}
	/*
	 * setuid() set "dumpable" to fs.suid_dumpable, which is 1 or 2 on
	 * many systems: the new user could then ptrace hushd and read its
	 * secrets. Not dumpable again, and checked.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 ||
	    prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0) {
		snprintf(err, errlen, "cannot make the process non-dumpable "
		    "after dropping privileges: %s", strerror(errno));
		return HUSH_ERR_DENIED;
	}
	return HUSH_OK;
}
