#!/usr/bin/env python3
"""A loopback stand-in for the Anthropic and OpenAI APIs, for system tests.

Real Claude Code and real Codex talk to it instead of the internet: it
answers their model calls with a fixed reply (streamed the way each API
streams) and records, for every request, the method, the path and the
credential headers it carried, one JSON object a line, so a test can check
that the credential hushd served is the one that arrived.

Usage: api_standin.py LOGFILE PORTFILE
Binds 127.0.0.1 on a free port, writes the port to PORTFILE, serves until
killed. Only loopback: nothing here ever reaches a real API.
"""
import json
import sys
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPLY = "hello from the stand-in"
LOG = sys.argv[1]
PORTFILE = sys.argv[2]


def sse(event, data):
    return ("event: %s\ndata: %s\n\n" % (event, json.dumps(data))).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def record(self, body):
        entry = {
            "method": self.command,
            "path": self.path,
            "authorization": self.headers.get("Authorization"),
            "x-api-key": self.headers.get("x-api-key"),
            "chatgpt-account-id": self.headers.get("chatgpt-account-id"),
            "model": None,
        }
        try:
            entry["model"] = json.loads(body or b"{}").get("model")
        except (ValueError, AttributeError):
            pass
        with open(LOG, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def send(self, code, ctype, payload):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def stream(self, chunks):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        for c in chunks:
            self.wfile.write(c)
            self.wfile.flush()
        self.close_connection = True

    def do_GET(self):
        self.record(b"")
        if self.path.startswith("/v1/models"):
            self.send(200, "application/json", json.dumps({
                "data": [], "object": "list", "models": []}).encode())
        else:
            self.send(404, "application/json", b'{"error":"not here"}')

    def do_HEAD(self):
        self.record(b"")
        self.send(200, "text/plain", b"")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        self.record(body)
        try:
            req = json.loads(body or b"{}")
        except ValueError:
            req = {}
        path = self.path.split("?")[0]
        if path.endswith("/messages/count_tokens"):
            self.send(200, "application/json", b'{"input_tokens":10}')
        elif path.endswith("/messages"):
            self.anthropic(req)
        elif path.endswith("/responses"):
            self.openai_responses(req)
        else:
            self.send(404, "application/json", b'{"error":"not here"}')

    def anthropic(self, req):
        mid = "msg_" + uuid.uuid4().hex[:24]
        model = req.get("model", "claude")
        usage = {"input_tokens": 10, "output_tokens": 5}
        msg = {"id": mid, "type": "message", "role": "assistant",
               "model": model, "content": [], "stop_reason": None,
               "stop_sequence": None, "usage": usage}
        if not req.get("stream"):
            msg["content"] = [{"type": "text", "text": REPLY}]
            msg["stop_reason"] = "end_turn"
            self.send(200, "application/json", json.dumps(msg).encode())
            return
        self.stream([
            sse("message_start", {"type": "message_start", "message": msg}),
            sse("content_block_start", {"type": "content_block_start",
                "index": 0, "content_block": {"type": "text", "text": ""}}),
            sse("content_block_delta", {"type": "content_block_delta",
                "index": 0, "delta": {"type": "text_delta", "text": REPLY}}),
            sse("content_block_stop", {"type": "content_block_stop",
                                       "index": 0}),
            sse("message_delta", {"type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": 5}}),
            sse("message_stop", {"type": "message_stop"}),
        ])

    def openai_responses(self, req):
        rid = "resp_" + uuid.uuid4().hex[:24]
        iid = "msg_" + uuid.uuid4().hex[:24]
        model = req.get("model", "gpt")
        item = {"type": "message", "id": iid, "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": REPLY,
                             "annotations": []}]}
        resp = {"id": rid, "object": "response", "model": model,
                "status": "in_progress", "output": []}
        done = dict(resp, status="completed", output=[item], usage={
            "input_tokens": 10, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 5,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 15})
        self.stream([
            sse("response.created", {"type": "response.created",
                                     "response": resp}),
            sse("response.output_item.added", {
                "type": "response.output_item.added", "output_index": 0,
                "item": dict(item, status="in_progress", content=[])}),
            sse("response.output_text.delta", {
                "type": "response.output_text.delta", "item_id": iid,
                "output_index": 0, "content_index": 0, "delta": REPLY}),
            sse("response.output_item.done", {
                "type": "response.output_item.done", "output_index": 0,
                "item": item}),
            sse("response.completed", {"type": "response.completed",
                                       "response": done}),
        ])


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(PORTFILE + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(PORTFILE + ".tmp", PORTFILE)
    srv.serve_forever()


if __name__ == "__main__":
    main()
