/*
 * privsep_hop: what privilege separation would add to each credential
 * read, for docs/broker.md. Reads FILE N times three ways: in process
 * (what hushd does after its drop), through a privileged helper process
 * that reads it and sends the bytes over a socketpair (OpenSMTPD-style),
 * and through a helper that opens it and passes the descriptor
 * (SCM_RIGHTS, OpenSSH-monitor-style). Prints ns per read for each.
 *
 *   privsep_hop FILE [N]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HOP_BUF	65536

static char buf[HOP_BUF];

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static ssize_t
read_file(const char *path)
{
	ssize_t n, tot = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while ((n = read(fd, buf + tot, sizeof(buf) - (size_t)tot)) > 0)
		tot += n;
	close(fd);
	return tot;
}

static int
send_fd(int s, int fd)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg;
	struct cmsghdr *cm;
	struct iovec iov;
	char c = 0;

	memset(&msg, 0, sizeof(msg));
	memset(&u, 0, sizeof(u));
	iov.iov_base = &c;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(s, &msg, 0) == 1 ? 0 : -1;
}

static int
recv_fd(int s)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg;
	struct cmsghdr *cm;
	struct iovec iov;
	char c;
	int fd;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = &c;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	if (recvmsg(s, &msg, 0) != 1 || (cm = CMSG_FIRSTHDR(&msg)) == NULL ||
	    cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* The helper: one request byte in, the file's bytes (or its fd) out. */
static void
helper(int s, const char *path)
{
	char op;
	ssize_t n;
	int fd;

	while (read(s, &op, 1) == 1) {
		if (op == 'd') {
			n = read_file(path);
			if (write(s, &n, sizeof(n)) != sizeof(n) ||
			    (n > 0 && write(s, buf, (size_t)n) != n))
				break;
		} else {
			if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
			    send_fd(s, fd) != 0)
				break;
			close(fd);
		}
	}
	_exit(0);
}

static int
read_exact(int s, char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = read(s, p, len)) <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *path;
	unsigned long n = 100000, i;
	long long t0, direct, bytes, fdpass;
	char *end;
	ssize_t len;
	pid_t pid;
	int sv[2], fd, st;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: privsep_hop FILE [N]\n");
		return 2;
	}
	path = argv[1];
	if (argc == 3) {
		errno = 0;
		n = strtoul(argv[2], &end, 10);
		if (errno != 0 || *end != '\0' || n == 0) {
			fprintf(stderr, "privsep_hop: bad N\n");
			return 2;
		}
	}
	if (read_file(path) < 0) {
		fprintf(stderr, "privsep_hop: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
	    (pid = fork()) == -1) {
		perror("privsep_hop");
		return 1;
	}
	if (pid == 0) {
		close(sv[0]);
		helper(sv[1], path);
	}
	close(sv[1]);
	t0 = now_ns();
	for (i = 0; i < n; i++)
		if (read_file(path) < 0)
			return 1;
	direct = now_ns() - t0;
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		if (write(sv[0], "d", 1) != 1 ||
		    read_exact(sv[0], (char *)&len, sizeof(len)) != 0 ||
		    len < 0 || read_exact(sv[0], buf, (size_t)len) != 0)
			return 1;
	}
	bytes = now_ns() - t0;
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		if (write(sv[0], "f", 1) != 1 || (fd = recv_fd(sv[0])) == -1)
			return 1;
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
	}
	fdpass = now_ns() - t0;
	close(sv[0]);
	waitpid(pid, &st, 0);
	printf("reads: %lu of %s\n", n, path);
	printf("in process:            %6lld ns/read\n", direct / (long long)n);
	printf("helper sends bytes:    %6lld ns/read\n", bytes / (long long)n);
	printf("helper passes the fd:  %6lld ns/read\n", fdpass / (long long)n);
	return 0;
}
