#define _GNU_SOURCE	/* struct ucred */
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "conf/hush_err.h"
#include "broker/peer.h"

int
peer_get(int fd, struct peer *peer)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) != 0 ||
	    len != sizeof(uc))
		return HUSH_ERR_IO;
	peer->pid = uc.pid;
	peer->uid = uc.uid;
	peer->gid = uc.gid;
	return HUSH_OK;
}

static int
peer_copy(const char *s, size_t n, char *out, size_t cap)
{
	size_t i;

	if (n == 0 || n >= cap)
		return HUSH_ERR_INVALID;
	for (i = 0; i < n; i++)
		if (s[i] == '\0' || s[i] == '/')
			return HUSH_ERR_INVALID;
	memcpy(out, s, n);
	out[n] = '\0';
	return HUSH_OK;
}

int
peer_parse_systemd(const char *path, size_t len, char *unit,
    size_t unitcap, char *id, size_t idcap)
{
	const char *p = path, *end = path + len, *u, *slash;
	size_t nhex = 0;

	if (len < 1 || *p != '\0')
		return HUSH_ERR_INVALID;	/* not abstract */
	p++;
	while (p < end && ((*p >= '0' && *p <= '9') ||
	    (*p >= 'a' && *p <= 'f'))) {
		p++;
		nhex++;
	}
	if (nhex < 1 || nhex > 16)
		return HUSH_ERR_INVALID;
	if ((size_t)(end - p) < 6 || memcmp(p, "/unit/", 6) != 0)
		return HUSH_ERR_INVALID;
	u = p + 6;
	if ((slash = memchr(u, '/', (size_t)(end - u))) == NULL)
		return HUSH_ERR_INVALID;
	if (peer_copy(u, (size_t)(slash - u), unit, unitcap) != HUSH_OK ||
	    peer_copy(slash + 1, (size_t)(end - slash - 1), id, idcap) !=
	    HUSH_OK)
		return HUSH_ERR_INVALID;
	return HUSH_OK;
}

int
peer_systemd(int fd, char *unit, size_t unitcap, char *id, size_t idcap)
{
	struct sockaddr_un sun;
	socklen_t len = sizeof(sun);
	size_t off = offsetof(struct sockaddr_un, sun_path);

	memset(&sun, 0, sizeof(sun));
	if (getpeername(fd, (struct sockaddr *)&sun, &len) != 0 ||
	    len <= off || len > sizeof(sun))
		return HUSH_ERR_INVALID;
	return peer_parse_systemd(sun.sun_path, len - off, unit, unitcap, id,
	    idcap);
}
