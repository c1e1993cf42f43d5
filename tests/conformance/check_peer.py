"""The server check mode's tests run against (tests/check.rs), on 127.0.0.1.

Prints "PORT <n>" once it listens; exits after --lifetime seconds (default 120).

  GET /flaky/<key>/<n>   503 for the first n requests of <key>, then 200 {"ok": true}
  GET /times/<key>       the monotonic times (seconds) of <key>'s requests, as JSON
  GET /slow/<seconds>    answers 200 after that long
  GET /token             {"token": "tok-123"}
  GET /needs-token       200 when Authorization is "Bearer tok-123", else 401
  GET /echo?status=N     the request's headers as JSON, with status N (default 500)
  GET /words/<n>         n MiB of non-ASCII words, text/plain; ?pause=S sends the first
                         half, waits S seconds, then the rest
"""

import argparse
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

counts = {}
times = {}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def send(self, status, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        if parts[0] == "flaky" and len(parts) == 3:
            key, failures = parts[1], int(parts[2])
            with lock:
                counts[key] = counts.get(key, 0) + 1
                times.setdefault(key, []).append(time.monotonic())
                n = counts[key]
            if n <= failures:
                self.send(503, {"ok": False, "attempt": n})
            else:
                self.send(200, {"ok": True, "attempt": n})
        elif parts[0] == "times" and len(parts) == 2:
            with lock:
                self.send(200, times.get(parts[1], []))
        elif parts[0] == "slow" and len(parts) == 2:
            time.sleep(float(parts[1]))
            self.send(200, {"ok": True})
        elif parts == ["token"]:
            self.send(200, {"token": "tok-123", "n": 7})
        elif parts == ["needs-token"]:
            ok = self.headers.get("authorization") == "Bearer tok-123"
            self.send(200 if ok else 401, {"ok": ok})
        elif parts == ["echo"]:
            status = int(urllib.parse.parse_qs(url.query).get("status", ["500"])[0])
            self.send(status, dict(self.headers.items()))
        elif parts[0] == "words" and len(parts) == 2:
            unit = "héllo wörld ".encode()
            data = unit * ((int(parts[1]) << 20) // len(unit))
            pause = float(urllib.parse.parse_qs(url.query).get("pause", ["0"])[0])
            if not pause:
                self.send(200, data, "text/plain; charset=utf-8")
                return
            self.send_response(200)
            self.send_header("content-type", "text/plain; charset=utf-8")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            half = len(data) // 2
            self.wfile.write(data[:half])
            self.wfile.flush()
            time.sleep(pause)
            self.wfile.write(data[half:])
        else:
            self.send(404, {"error": "no such path"})

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lifetime", type=float, default=120)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Timer(args.lifetime, server.shutdown).start()
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
