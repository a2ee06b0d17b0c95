"""Helpers for hushd integration tests: a real hushd on temp sockets."""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HUSHD = os.environ.get("HUSHD", "hushd")
HUSH = os.environ.get("HUSH", "hush")


class Checks:
    def __init__(self):
        self.passes = 0
        self.fails = 0

    def ok(self, cond, desc, detail=""):
        if cond:
            self.passes += 1
            print("ok - %s" % desc)
        else:
            self.fails += 1
            print("not ok - %s %s" % (desc, detail))
        sys.stdout.flush()
        return cond

    def eq(self, got, want, desc):
        return self.ok(got == want, desc, "(got %r, wanted %r)" % (got, want))

    def finish(self):
        print("%d passed, %d failed" % (self.passes, self.fails))
        sys.exit(0 if self.fails == 0 and self.passes > 0 else 1)


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__("hush", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


class Hushd:
    """Writes hush.ini from a template ({dir} is the work directory) and
    runs hushd on it."""

    def __init__(self, template, sockets=("gw.sock",), start=True):
        self.dir = tempfile.mkdtemp(prefix="hushd-it.")
        os.chmod(self.dir, 0o700)
        self.conf = os.path.join(self.dir, "hush.ini")
        self.audit = os.path.join(self.dir, "audit.jsonl")
        self.errpath = os.path.join(self.dir, "stderr")
        self.sockets = [os.path.join(self.dir, s) for s in sockets]
        self.proc = None
        self.write_conf(template)
        if start:
            self.start()

    def path(self, name):
        return os.path.join(self.dir, name)

    def write_conf(self, template):
        tmp = self.conf + ".tmp"
        with open(tmp, "w") as f:
            f.write(template.replace("{dir}", self.dir))
        os.chmod(tmp, 0o600)
        os.rename(tmp, self.conf)

    def write(self, name, data, mode=0o600):
        p = self.path(name)
        with open(p, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        os.chmod(p, mode)
        return p

    def start(self, wait=True, env=None):
        self.err = open(self.errpath, "ab")
        self.proc = subprocess.Popen([HUSHD, "-c", self.conf],
                                     stdout=self.err, stderr=self.err,
                                     env=env)
        if wait:
            self.wait_sockets()

    def wait_sockets(self, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            if all(self.connectable(s) for s in self.sockets):
                return True
            if self.proc.poll() is not None:
                raise RuntimeError("hushd exited %d: %s" %
                                   (self.proc.returncode, self.stderr()))
            time.sleep(0.02)
        raise RuntimeError("hushd did not listen: " + self.stderr())

    @staticmethod
    def connectable(path):
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            s.close()
            return True
        except OSError:
            return False

    def stderr(self):
        try:
            with open(self.errpath, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def audit_lines(self, settle=0.2):
        time.sleep(settle)
        try:
            with open(self.audit) as f:
                return [json.loads(l) for l in f if l.strip()]
        except OSError:
            return []

    def audit_text(self):
        time.sleep(0.2)
        try:
            with open(self.audit, "rb") as f:
                return f.read()
        except OSError:
            return b""

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=15):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def request(self, target, sock=None, headers=None, method="GET"):
        c = UnixHTTPConnection(sock or self.sockets[0])
        c.request(method, target, headers=headers or {})
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), body

    def raw(self, data, sock=None, timeout=10, shut=False):
        """Sends bytes, returns everything until the server closes."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(sock or self.sockets[0])
        if data:
            s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        out = b""
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                out += b
        except socket.timeout:
            out += b"<timeout>"
        except ConnectionResetError:
            out += b"<reset>"
        s.close()
        return out


def status_of(raw):
    try:
        return int(raw.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None
