#define _GNU_SOURCE	/* setgroups */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conf/hush_err.h"
#include "broker/privdrop.h"

int
privdrop(const struct conf_broker *cb, char *err, size_t errlen)
{
	gid_t gid;

	if (geteuid() != 0 || !cb->has_user)
		return HUSH_OK;
	gid = cb->has_group ? cb->gid : (gid_t)-1;
	if (gid == (gid_t)-1) {
		struct passwd *pw = getpwuid(cb->uid);

		if (pw == NULL) {
			snprintf(err, errlen, "user %s has no passwd entry",
			    cb->user);
			return HUSH_ERR_CONFIG;
		}
		gid = pw->pw_gid;
	}
	if (setgroups(1, &gid) != 0 || setgid(gid) != 0 ||
	    setuid(cb->uid) != 0) {
		snprintf(err, errlen, "cannot drop privileges to %s: %s",
		    cb->user, strerror(errno));
		return HUSH_ERR_DENIED;
	}
	/* no way back */
	if (cb->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(err, errlen, "privileges could be regained");
		return HUSH_ERR_DENIED;
	}
	return HUSH_OK;
}
