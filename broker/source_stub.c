/*
 * TEMPORARY: a minimal source_load (file: and env:, no JSON) so hushd
 * links and its tests run before conf/source.c reaches main. Removed by
 * the merge that brings the real one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/hush_err.h"
#include "conf/source.h"

int
source_load(const struct conf_cred *c, struct secbuf **outp,
    struct source_err *err)
{
	struct secbuf *sb;
	const char *v;
	ssize_t n;
	size_t len = 0;
	int fd;

	*outp = NULL;
	if (c->kind == CONF_SRC_ENV) {
		if ((v = getenv(c->arg)) == NULL) {
			snprintf(err->msg, sizeof(err->msg), "credential \"%s\":"
			    " %s is not set", c->name, c->arg);
			return HUSH_ERR_NOT_FOUND;
		}
		if ((*outp = secbuf_from(v, strlen(v))) == NULL)
			return HUSH_ERR_NOMEM;
		return HUSH_OK;
	}
	if (c->kind != CONF_SRC_FILE)
		return HUSH_ERR_CONFIG;
	if ((fd = open(c->arg, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err->msg, sizeof(err->msg), "credential \"%s\": %s: %s",
		    c->name, c->arg, strerror(errno));
		return HUSH_ERR_IO;
	}
	if ((sb = secbuf_new(c->max_size + 1)) == NULL) {
		close(fd);
		return HUSH_ERR_NOMEM;
	}
	while ((n = read(fd, secbuf_mut(sb) + len, c->max_size + 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	secbuf_set_len(sb, len);
	if (n < 0 || len > c->max_size) {
		secbuf_free(sb);
		snprintf(err->msg, sizeof(err->msg), "credential \"%s\": %s",
		    c->name, n < 0 ? "read error" : "source is too large");
		return n < 0 ? HUSH_ERR_IO : HUSH_ERR_TOO_LARGE;
	}
	*outp = sb;
	return HUSH_OK;
}
