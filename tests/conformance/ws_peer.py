#!/usr/bin/env python3
"""A WebSocket client made with Python's `websockets` library (its sync API), the real peer of
the http server's WebSocket tests (plugins/http/tests/server/websocket_peer.rs).

Usage: ws_peer.py PORT SCENARIO [--size N] [--lifetime S]

Connects to ws://127.0.0.1:PORT, plays SCENARIO and prints one JSON object per line on stdout;
the test judges them. A connection's end is reported as

    {"type": "ConnectionClosedOK", "rcvd": [code, reason], "sent": [code, reason],
     "rcvd_then_sent": true, "cause": null, "seconds": 0.004}

(`rcvd`/`sent`: the close frames received and sent, null when none; `cause`: the socket error
that ended the connection, null for a clean end of stream; `seconds`: since the scenario's
reference moment, given per scenario) or, when the wait ran out, as {"type": "TimeoutError"}.
`recv` raises only once the TCP connection has ended (websockets reads until the server's end of
stream after the close handshake), so a prompt close here means the server closed the TCP
connection. Scenarios:

- echo: /echo gets "hello", bytes 00 ff and a text of --size bytes, and must send each back;
  then the client closes (1000, "done"). Prints {"echoed": [...], "close_seconds": ...,
  "rcvd": [code, reason]}: close_seconds is how long `close()` took (the server's close reply
  and end of stream; close_timeout is 5 s), rcvd the server's close reply.
- close PATH: connects to PATH and receives until the connection ends. Prints {"messages":
  [...], "closed": {...}} with seconds counted from the last message (or the connection's
  opening when none came).
- oversized: sends a binary message of --size bytes to /echo, then receives. Prints {"closed":
  {...}} with seconds from the send.
- features: what a client sees of the conn API's other parts, each one a field of one report:
  "fragments" (a text sent in 3 frames and bytes in 2, echoed whole: [text, hex]), "big" (a
  message of --size bytes, text then binary, echoed intact: [bool, bool]), "ping" (our ping's
  pong came: bool), "server_ping" (/ping pings us and sends "rtt <seconds>"), "chat" (the
  subprotocol /chat chose among ["superchat", "chat"]), "no_overlap" (offering ["irc"]: the
  HTTP status), "server_close" (/close4000's close frame: {...}).
- sigterm: opens /echo and /stubborn, prints {"event": "open"}, then waits (5 s each) for both
  to end (the test sends SIGTERM to the server). Prints {"path": ..., "closed": {...}} for each,
  seconds from the "open" line.

Every wait is bounded (open 5 s, recv 3 s unless said, close 5 s) and the process exits after
--lifetime seconds (default 30) whatever happens. Needs websockets (tests/conformance/
ensure-python makes a venv with it).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import time

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

RECV_TIMEOUT = 3.0


def report(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def frame(close: object) -> list | None:
    return None if close is None else [close.code, close.reason]


def ended(exc: BaseException, since: float) -> dict:
    seconds = round(time.monotonic() - since, 3)
    if not isinstance(exc, ConnectionClosed):
        return {"type": type(exc).__name__, "error": str(exc), "seconds": seconds}
    return {
        "type": type(exc).__name__,
        "rcvd": frame(exc.rcvd),
        "sent": frame(exc.sent),
        "rcvd_then_sent": exc.rcvd_then_sent,
        "cause": None if exc.__cause__ is None else repr(exc.__cause__),
        "seconds": seconds,
    }


def open_ws(port: int, path: str) -> ClientConnection:
    return connect(
        f"ws://127.0.0.1:{port}{path}",
        open_timeout=5,
        close_timeout=5,
        # The client's own limit must not be the one that fires.
        max_size=16 * 1024 * 1024,
    )


def printable(message: str | bytes) -> str:
    return message if isinstance(message, str) else "bytes:" + message.hex()


def receive_until_closed(ws: ClientConnection, since: float, limit: int = 10) -> tuple[list, dict]:
    messages: list[str] = []
    for _ in range(limit):
        try:
            message = ws.recv(timeout=RECV_TIMEOUT)
        except (ConnectionClosed, TimeoutError) as exc:
            return messages, ended(exc, since)
        messages.append(printable(message))
        since = time.monotonic()
    return messages, {"type": "TooManyMessages"}


def echo(port: int, size: int) -> None:
    with open_ws(port, "/echo") as ws:
        echoed = []
        for message in ["hello", b"\x00\xff", "x" * size]:
            ws.send(message)
            echoed.append(ws.recv(timeout=RECV_TIMEOUT) == message)
        started = time.monotonic()
        ws.close(1000, "done")
    report(
        echoed=echoed,
        close_seconds=round(time.monotonic() - started, 3),
        # The server's close reply (`ws.protocol`, not `ws.close_code`: that is websockets 15+).
        rcvd=frame(ws.protocol.close_rcvd),
    )


def close(port: int, path: str) -> None:
    with open_ws(port, path) as ws:
        messages, closed = receive_until_closed(ws, time.monotonic())
    report(messages=messages, closed=closed)


def oversized(port: int, size: int) -> None:
    with open_ws(port, "/echo") as ws:
        started = time.monotonic()
        try:
            ws.send(b"x" * size)
        except ConnectionClosed as exc:
            closed = ended(exc, started)
        else:
            _, closed = receive_until_closed(ws, started)
    report(closed=closed)


def features(port: int, size: int) -> None:
    from websockets.exceptions import InvalidStatus

    found: dict[str, object] = {}
    with open_ws(port, "/echo") as ws:
        ws.send(["ab", "cd", "ef"])  # an iterable: one message in several frames
        text = ws.recv(timeout=RECV_TIMEOUT)
        ws.send([b"\x01", b"\x02"])
        data = ws.recv(timeout=RECV_TIMEOUT)
        found["fragments"] = [text, printable(data)]
        big_text, big_bytes = "y" * size, b"z" * size
        ws.send(big_text)
        same_text = ws.recv(timeout=10) == big_text
        ws.send(big_bytes)
        found["big"] = [same_text, ws.recv(timeout=10) == big_bytes]
        found["ping"] = ws.ping().wait(RECV_TIMEOUT)
    with open_ws(port, "/ping") as ws:
        # The sync client answers pings in its background thread while we wait here.
        found["server_ping"] = ws.recv(timeout=RECV_TIMEOUT)
    with connect(f"ws://127.0.0.1:{port}/chat", subprotocols=["superchat", "chat"],
                 open_timeout=5, close_timeout=5) as ws:
        found["chat"] = ws.subprotocol
    try:
        with connect(f"ws://127.0.0.1:{port}/chat", subprotocols=["irc"], open_timeout=5):
            found["no_overlap"] = "accepted"
    except InvalidStatus as exc:
        found["no_overlap"] = exc.response.status_code
    with open_ws(port, "/close4000") as ws:
        ws.send("go")
        _, found["server_close"] = receive_until_closed(ws, time.monotonic())
    report(**found)


def sigterm(port: int) -> None:
    with contextlib.ExitStack() as stack:
        conns = {path: stack.enter_context(open_ws(port, path)) for path in ["/echo", "/stubborn"]}
        report(event="open")
        started = time.monotonic()
        for path, ws in conns.items():
            try:
                message = ws.recv(timeout=5)
                closed = {"type": "Message", "message": printable(message)}
            except (ConnectionClosed, TimeoutError) as exc:
                closed = ended(exc, started)
            report(path=path, closed=closed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("port", type=int)
    parser.add_argument("scenario", choices=["echo", "close", "oversized", "features", "sigterm"])
    parser.add_argument("path", nargs="?", default="/echo")
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--lifetime", type=int, default=30)
    args = parser.parse_args()
    signal.alarm(args.lifetime)
    if args.scenario == "echo":
        echo(args.port, args.size)
    elif args.scenario == "close":
        close(args.port, args.path)
    elif args.scenario == "oversized":
        oversized(args.port, args.size)
    elif args.scenario == "features":
        features(args.port, args.size)
    else:
        sigterm(args.port)


if __name__ == "__main__":
    sys.exit(main())
