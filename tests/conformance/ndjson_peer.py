#!/usr/bin/env python3
"""Reads an NDJSON stream with Python's standard library (http.client), the http server's
streamed-body test peer (plugins/http/tests/server/stream.rs).

Usage: ndjson_peer.py <port> <id>. GETs /watch?id=<id> and reads it line by line; as soon as
the first line has arrived, asks /progress?id=<id> (another connection) how many lines the
server has written so far. Prints one JSON object: {"status", "chunked", "lines", "progress"}.
"""

from __future__ import annotations

import http.client
import json
import sys


def main() -> None:
    port, ident = int(sys.argv[1]), sys.argv[2]
    watch = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    watch.request("GET", f"/watch?id={ident}")
    resp = watch.getresponse()
    lines = []
    progress = None
    while True:
        line = resp.readline()
        if not line:
            break
        lines.append(json.loads(line))
        if progress is None:
            other = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            other.request("GET", f"/progress?id={ident}")
            progress = int(other.getresponse().read())
            other.close()
    print(json.dumps({
        "status": resp.status,
        "chunked": resp.getheader("transfer-encoding"),
        "lines": lines,
        "progress": progress,
    }))


if __name__ == "__main__":
    main()
