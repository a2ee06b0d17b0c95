"""A loopback TLS stand-in for an API upstream (issue 11 tests).

make_ca(dir) makes a CA and a server certificate for 127.0.0.1/localhost
with openssl at test time. StandIn serves HTTPS on an ephemeral loopback
port in a thread and records every request it receives.

Paths:
  POST /v1/messages     JSON answer; with "stream": true in the body, SSE
                        events, each sent after the test releases it
                        (gate) when gated, else all at once
  POST /v1/responses    OpenAI's streamed Responses API events (Codex)
  GET  /v1/models       a small JSON list
  GET  /v1/echo         echoes the x-api-key it got, in body and header
  GET  /v1/slow         answers after `slow` seconds
  GET  /v1/big?n=N      N bytes of body, streamed in 64 KiB writes
  GET  /v1/hang         one SSE event, then waits for the client to go
  GET  /v1/tick?n=N&ms=M N SSE events of ~200 bytes, one every M ms
  anything else         200 "reached" (tests check it is never reached)

accept_delay (seconds, default 0): each connection is accepted (and its
TLS handshake done) only after this long. close_each: every answer ends
its connection, so each call makes a new one.
"""
import http.server
import json
import os
import socketserver
import ssl
import subprocess
import threading
import time


def make_ca(d):
    """Returns (ca_pem, cert_pem, key_pem) made in directory d."""
    ca_key, ca = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    key, csr = os.path.join(d, "srv.key"), os.path.join(d, "srv.csr")
    cert, ext = os.path.join(d, "srv.pem"), os.path.join(d, "srv.ext")
    run = lambda *a: subprocess.run(a, check=True, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
        "-keyout", ca_key, "-out", ca, "-days", "2", "-subj",
        "/CN=hush test CA")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
        "-out", csr, "-subj", "/CN=localhost")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
        "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext)
    return ca, cert, key


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    accept_delay = 0.0

    def get_request(self):
        # an upstream slow to take a connection (its TLS handshake runs
        # in accept): the client's request body arrives at the proxy
        # before the proxy can send any of it
        if self.accept_delay:
            time.sleep(self.accept_delay)
        return super().get_request()


class StandIn:
    def __init__(self, cert, key, tls=True):
        self.requests = []
        self.lock = threading.Lock()
        self.gate = None          # threading.Semaphore: SSE events gated
        self.slow = 3.0
        self.hang_gone = threading.Event()
        self.events = 3
        self.reply = "hello through hushd"
        self.close_each = False   # Connection: close on every answer
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # a real API server sends without waiting on delayed ACKs
            disable_nagle_algorithm = True

            def log_message(self, *a):
                pass

            def _record(self, body):
                with outer.lock:
                    outer.requests.append({
                        "method": self.command, "path": self.path,
                        "headers": dict((k.lower(), v) for k, v in
                                        self.headers.items()),
                        "body": body})

            def _body(self):
                n = self.headers.get("content-length")
                if n is not None:
                    return self.rfile.read(int(n))
                if self.headers.get("transfer-encoding", "") == "chunked":
                    out = b""
                    while True:
                        size = int(self.rfile.readline().strip(), 16)
                        if size == 0:
                            self.rfile.readline()
                            return out
                        out += self.rfile.read(size)
                        self.rfile.readline()
                return b""

            def _send(self, code, body, ctype="application/json",
                      extra=()):
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                if outer.close_each:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                for k, v in extra:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _sse_head(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True

            def do_GET(self):
                self._record(b"")
                p = self.path
                if p.startswith("/v1/models"):
                    self._send(200, b'{"data":[{"id":"m1"}]}')
                elif p == "/v1/echo":
                    k = self.headers.get("x-api-key", "")
                    self._send(200, ('{"you_sent":"%s"}\n' % k).encode(),
                               extra=[("X-Echo", k)])
                elif p == "/v1/slow":
                    time.sleep(outer.slow)
                    self._send(200, b"{}")
                elif p.startswith("/v1/big"):
                    n = int(p.split("n=")[1])
                    self.send_response(200)
                    self.send_header("Content-Type",
                                     "application/octet-stream")
                    self.send_header("Content-Length", str(n))
                    self.end_headers()
                    chunk = (b"0123456789abcdef" * 4095 + b"0123456789abcde"
                             b"\n")
                    while n > 0:
                        self.wfile.write(chunk[:min(n, len(chunk))])
                        n -= min(n, len(chunk))
                elif p.startswith("/v1/tick"):
                    # n SSE events of about 200 bytes, one each ms
                    # milliseconds, as a model streams its tokens
                    q = dict(kv.split("=") for kv in
                             p.split("?", 1)[1].split("&"))
                    self._sse_head()
                    ev = (b"event: content_block_delta\ndata: " +
                          b'{"delta":"' + b"t" * 160 + b'"}\n\n')
                    try:
                        for _ in range(int(q["n"])):
                            time.sleep(int(q["ms"]) / 1000)
                            self.wfile.write(ev)
                            self.wfile.flush()
                    except OSError:
                        pass
                elif p == "/v1/hang":
                    self._sse_head()
                    self.wfile.write(b"event: ping\ndata: {}\n\n")
                    self.wfile.flush()
                    # the proxy must drop this connection when its
                    # client goes; writes then fail
                    for _ in range(600):
                        time.sleep(0.05)
                        try:
                            self.wfile.write(b": keepalive\n\n")
                            self.wfile.flush()
                        except OSError:
                            outer.hang_gone.set()
                            return
                else:
                    self._send(200, b'{"reached":true}')

            def do_POST(self):
                body = self._body()
                self._record(body)
                try:
                    req = json.loads(body or b"{}")
                except ValueError:
                    req = {}
                if self.path.split("?")[0] == "/v1/responses":
                    self._openai_responses(req)
                    return
                if self.path.startswith("/v1/messages") and \
                        req.get("stream") and "messages" in req:
                    self._anthropic_stream(req)
                    return
                if self.path.startswith("/v1/messages") and \
                        req.get("stream"):
                    self._sse_head()
                    for i in range(outer.events):
                        if outer.gate is not None:
                            outer.gate.acquire(timeout=30)
                        self.wfile.write((
                            "event: content_block_delta\n"
                            "data: {\"i\":%d}\n\n" % i).encode())
                        self.wfile.flush()
                    return
                if self.path.startswith("/v1/messages"):
                    self._send(200, json.dumps({
                        "id": "msg_1", "type": "message",
                        "role": "assistant", "model": "m1",
                        "content": [{"type": "text", "text": "hi"}],
                        "stop_reason": "end_turn",
                        "usage": {"input_tokens": 1, "output_tokens": 1},
                        "got": len(body)}).encode())
                    return
                self._send(200, b'{"reached":true}')

            def _anthropic_stream(self, req):
                # the event sequence of Anthropic's documented
                # streaming Messages API, with a fixed reply
                def ev(name, data):
                    return ("event: %s\ndata: %s\n\n" %
                            (name, json.dumps(data))).encode()
                msg = {"id": "msg_standin", "type": "message",
                       "role": "assistant", "content": [],
                       "model": req.get("model", "m1"),
                       "stop_reason": None, "stop_sequence": None,
                       "usage": {"input_tokens": 1, "output_tokens": 1}}
                self._sse_head()
                for chunk in (
                        ev("message_start", {"type": "message_start",
                                             "message": msg}),
                        ev("content_block_start", {
                            "type": "content_block_start", "index": 0,
                            "content_block": {"type": "text",
                                              "text": ""}}),
                        ev("content_block_delta", {
                            "type": "content_block_delta", "index": 0,
                            "delta": {"type": "text_delta",
                                      "text": outer.reply}}),
                        ev("content_block_stop", {
                            "type": "content_block_stop", "index": 0}),
                        ev("message_delta", {
                            "type": "message_delta",
                            "delta": {"stop_reason": "end_turn",
                                      "stop_sequence": None},
                            "usage": {"output_tokens": 5}}),
                        ev("message_stop", {"type": "message_stop"})):
                    self.wfile.write(chunk)
                    self.wfile.flush()

            def _openai_responses(self, req):
                # the event sequence of OpenAI's streaming Responses API
                # (what Codex reads), with a fixed reply
                def ev(name, data):
                    data = dict(data, type=name)
                    return ("event: %s\ndata: %s\n\n" %
                            (name, json.dumps(data))).encode()
                item = {"type": "message", "id": "msg_standin",
                        "role": "assistant", "status": "completed",
                        "content": [{"type": "output_text",
                                     "text": outer.reply,
                                     "annotations": []}]}
                resp = {"id": "resp_standin", "object": "response",
                        "model": req.get("model", "m1"),
                        "status": "in_progress", "output": []}
                done = dict(resp, status="completed", output=[item], usage={
                    "input_tokens": 1,
                    "input_tokens_details": {"cached_tokens": 0},
                    "output_tokens": 5,
                    "output_tokens_details": {"reasoning_tokens": 0},
                    "total_tokens": 6})
                self._sse_head()
                for chunk in (
                        ev("response.created", {"response": resp}),
                        ev("response.output_item.added", {
                            "output_index": 0,
                            "item": dict(item, status="in_progress",
                                         content=[])}),
                        ev("response.output_text.delta", {
                            "item_id": "msg_standin", "output_index": 0,
                            "content_index": 0, "delta": outer.reply}),
                        ev("response.output_item.done", {
                            "output_index": 0, "item": item}),
                        ev("response.completed", {"response": done})):
                    self.wfile.write(chunk)
                    self.wfile.flush()

            do_PUT = do_POST
            do_DELETE = do_GET

        self.srv = _Server(("127.0.0.1", 0), H)
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
            self.srv.socket = ctx.wrap_socket(self.srv.socket,
                                              server_side=True)
        self.port = self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever,
                                       daemon=True)
        self.thread.start()

    @property
    def accept_delay(self):
        return self.srv.accept_delay

    @accept_delay.setter
    def accept_delay(self, secs):
        self.srv.accept_delay = secs

    def seen(self, prefix=""):
        with self.lock:
            return [r for r in self.requests if r["path"].startswith(prefix)]

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()
