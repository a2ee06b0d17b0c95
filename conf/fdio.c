#include <errno.h>
#include <unistd.h>

#include "conf/fdio.h"
#include "conf/secbuf.h"

int
fdio_write_all(int fd, const void *p, size_t len)
{
	const char *s = p;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, s, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

int
fdio_read_secbuf(int fd, struct secbuf *sb)
{
	ssize_t n;

	while (secbuf_len(sb) < secbuf_cap(sb)) {
		n = read(fd, secbuf_mut(sb) + secbuf_len(sb),
		    secbuf_cap(sb) - secbuf_len(sb));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		secbuf_set_len(sb, secbuf_len(sb) + (size_t)n);
	}
	return 0;
}
