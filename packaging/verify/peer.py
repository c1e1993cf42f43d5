#!/usr/bin/env python3
"""The local peer images are verified against: an HTTP server on 127.0.0.1 (a free port,
printed on the first line of stdout once listening) that answers

  GET /hello    200 "hello from the peer"       (verify/image.lua's http check)
  GET /health   200 {"status": "up", "version": "1.4.2"}   (the examples' readiness waits and checks)
  GET /status   200 {"components": [{"name": ..., "up": true}, ...]}   (the CronJob's report)

and 404 otherwise. Runs until killed. Python's standard library only: an independent peer,
not our own http plugin.
"""
import http.server
import json
import sys

PAGES = {
    "/hello": ("text/plain", b"hello from the peer"),
    "/health": ("application/json", json.dumps({"status": "up", "version": "1.4.2"}).encode()),
    "/status": ("application/json", json.dumps({"components": [
        {"name": "api", "up": True}, {"name": "worker", "up": True}, {"name": "db", "up": True},
    ]}).encode()),
}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        kind, body = PAGES.get(self.path, ("text/plain", None))
        self.send_response(200 if body is not None else 404)
        body = body if body is not None else b"not found"
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
