"""A socket passed by systemd (LISTEN_FDS) that matches no [client]
section is an error at start, and a reload that would leave a passed
socket without its client is rejected (issue 8, item 11): systemd keeps
such a socket open, so its clients would wait forever for an answer.

This test plays systemd: it binds the socket, keeps its own copy open
(as systemd does) and execs hushd with it as fd 3."""
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hushtest import HUSHD, Checks, Hushd  # noqa: E402

SECRET = "activation-client-0123456789abcdef"
CONF = """[broker]
audit_log = {dir}/audit.jsonl
[client "%s"]
socket = {dir}/%s
allow = cred
[credential "cred"]
source = file:{dir}/cred
"""


def activate(h, name):
    """Starts hushd with a listening socket named name as fd 3; returns
    (pid, the socket systemd would keep)."""
    path = h.path("passed.sock")
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(16)
    err = os.open(h.errpath, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(s.fileno(), 3)
            os.set_inheritable(3, True)  # dup2(3, 3) keeps CLOEXEC
            os.dup2(err, 1)
            os.dup2(err, 2)
            env = dict(os.environ, LISTEN_FDS="1", LISTEN_FDNAMES=name,
                       LISTEN_PID=str(os.getpid()))
            os.execve(HUSHD, [HUSHD, "-c", h.conf], env)
        finally:
            os._exit(127)
    os.close(err)
    return pid, s


def get(h, sock):
    try:
        st, _, body = h.request("/v1/credentials/cred", sock=sock)
        return st, body
    except OSError as e:    # a socket nobody answers: a timeout
        return None, repr(e)


def wait_exit(pid, timeout):
    end = time.time() + timeout
    while time.time() < end:
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(st)
        time.sleep(0.05)
    return None


def main():
    t = Checks()
    h = Hushd(CONF % ("gw", "own.sock"), sockets=("own.sock",),
              start=False)
    try:
        h.write("cred", SECRET)

        # start: the passed socket is named "stray", no client has it
        pid, keep = activate(h, "stray")
        rc = wait_exit(pid, 15)
        if rc is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        t.eq(rc, 1, "start: a passed socket with no client is an error")
        err = h.stderr()
        t.ok('named "stray", but no [client] section has that name' in err,
             "start: the message names the socket and says why", err)
        keep.close()

        # reload: the passed socket's client goes away
        pid, keep = activate(h, "gw")
        passed = h.path("passed.sock")
        # the kernel queues the connection until hushd accepts it
        t.eq(get(h, passed), (200, SECRET.encode()),
             "the passed socket serves")
        # another client on another path: the passed socket has none
        h.write_conf(CONF % ("renamed", "other.sock"))
        os.kill(pid, signal.SIGHUP)
        lines = []
        end = time.time() + 10
        while time.time() < end:
            lines = [l for l in h.audit_lines(0.05) if l.get("event") ==
                     "reload"]
            if lines:
                break
        t.ok(lines and lines[-1].get("result") == "rejected",
             "reload: rejected while the passed socket would lose its "
             "client", repr(lines))
        t.ok('socket named "gw"' in h.stderr() and
             "has no [client] section" in h.stderr(),
             "reload: the message says which socket", h.stderr())
        t.eq(get(h, passed), (200, SECRET.encode()),
             "reload: the passed socket is still answered")
        os.kill(pid, signal.SIGTERM)
        t.eq(wait_exit(pid, 15), 0, "exit 0")
        keep.close()
    finally:
        h.cleanup()
    t.finish()


main()
