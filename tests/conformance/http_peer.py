#!/usr/bin/env python3
"""An HTTP(S) server on Python's standard library (http.server), the http client's test peer.

Prints "PORT <n>" on its first stdout line once it listens on 127.0.0.1 (port 0 by default:
the system picks), and with --port-file also writes the number to that file. It exits on
GET /shutdown, on SIGTERM, or after --lifetime seconds, whichever comes first: a test that dies
half-way cannot leave it running for long.

Routes (any method; the same ones as aiohttp_peer.py, so one Lua suite runs against both):
  /status/<n>          status n, the echo as body
  /redirect/<n>        302 to /redirect/<n-1>; /redirect/0 is the echo
  /slow?s=<seconds>    waits, then the echo
  /headers             repeated and mixed-case response headers
  /raw?type=<t>&body=<b>   body b with content type t
  /shutdown            200, then the server stops
  anything else        the echo: {method, path, query, args, headers, body, tls_client}

Headers in the echo are lower-cased; a repeated request header is joined with ", ".
TLS: --cert/--key serve HTTPS; --client-ca also requires a client certificate signed by it.
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def echo_document(method: str, target: str, headers, body: bytes, tls_client) -> dict:
    split = urlsplit(target)
    joined: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        joined[key] = f"{joined[key]}, {value}" if key in joined else value
    return {
        "method": method,
        # A proxy request carries the whole URL in its request line: keep it as it came.
        "path": target if target.startswith("http") else split.path,
        "query": split.query,
        "args": parse_qs(split.query, keep_blank_values=True),
        "headers": joined,
        "body": body.decode("utf-8", errors="replace"),
        "tls_client": tls_client,
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
    server_version = "assay-http-peer"

    def log_message(self, fmt, *args):  # quiet: the test reads stdout
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json",
              extra: list[tuple[str, str]] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra or []:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        split = urlsplit(self.path)
        path, args = split.path, parse_qs(split.query, keep_blank_values=True)
        tls_client = None
        if isinstance(self.connection, ssl.SSLSocket):
            cert = self.connection.getpeercert()
            if cert:
                tls_client = dict(x[0] for x in cert.get("subject", ())).get("commonName")
        echo = json.dumps(echo_document(self.command, self.path, self.headers.items(), body,
                                        tls_client)).encode()
        if path.startswith("/status/"):
            status = int(path.rsplit("/", 1)[1])
            self._send(status, b"" if status in (204, 304) else echo)
        elif path.startswith("/redirect/"):
            n = int(path.rsplit("/", 1)[1])
            if n <= 0:
                self._send(200, echo)
            else:
                self._send(302, b"", "text/plain", [("Location", f"/redirect/{n - 1}")])
        elif path == "/slow":
            time.sleep(min(float(args.get("s", ["0.5"])[0]), 30))
            self._send(200, echo)
        elif path == "/headers":
            self._send(200, b"{}", "application/json",
                       [("X-Multi", "one"), ("X-Multi", "two"), ("X-Mixed-Case", "Yes")])
        elif path == "/raw":
            self._send(200, args.get("body", [""])[0].encode(),
                       args.get("type", ["text/plain"])[0])
        elif path == "/shutdown":
            self._send(200, b"bye", "text/plain")
            threading.Thread(target=self.server.shutdown, daemon=True).start()
        else:
            self._send(200, echo)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # socketserver's 5 drops connections when many arrive at once


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--lifetime", type=float, default=120)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--client-ca")
    args = parser.parse_args()

    server = Server(("127.0.0.1", args.port), Handler)
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        if args.client_ca:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(args.client_ca)
        # The handshake runs in the handler's thread (not in accept), so a client that fails
        # it cannot stall the others.
        server.socket = context.wrap_socket(server.socket, server_side=True,
                                            do_handshake_on_connect=False)

        def finish_handshake(request, client_address, _orig=server.process_request_thread):
            try:
                request.do_handshake()
            except (ssl.SSLError, OSError):
                server.shutdown_request(request)
                return
            _orig(request, client_address)

        server.process_request_thread = finish_handshake
    port = server.server_address[1]
    if args.port_file:
        tmp = f"{args.port_file}.tmp"
        with open(tmp, "w") as f:
            f.write(str(port))
        os.replace(tmp, args.port_file)
    print(f"PORT {port}", flush=True)
    timer = threading.Timer(args.lifetime, server.shutdown)
    timer.daemon = True
    timer.start()
    server.serve_forever(poll_interval=0.1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
