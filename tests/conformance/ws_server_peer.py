#!/usr/bin/env python3
"""A WebSocket server made with Python's `websockets` library (its asyncio API), the real peer
of the ws plugin's client tests.

Usage: ws_server_peer.py [--tls CERT KEY]

Listens on 127.0.0.1 (a port the system picks) and prints "PORT <n>" on its first stdout line
once it listens; with --tls it serves wss:// with that certificate chain and key (PEM). It runs
until it is killed or its stdin reaches end of file, so a test that dies cannot leave it
running: give it a pipe for stdin and keep the pipe open (stdin from /dev/null ends it at once).

Every connection that ends is reported on stdout as one JSON line, for the test to judge how
the client closed:

    {"path": "/echo", "rcvd": [1000, "done"], "sent": [1000, "done"],
     "rcvd_then_sent": true, "messages": 3}

(`path`: the route, without the query; `rcvd`/`sent`: the close frames received from the client
and sent to it, null when none; `rcvd_then_sent`: whether the client closed first, null when no
closing handshake completed; `messages`: the data messages received from the client). The
connection is reported once its TCP connection has ended.

The request path picks the scenario. "First message" below is the client's first message, which
starts the scenario and is not echoed; "echoes" means every later message is sent back with its
type (text as text, bytes as bytes) until the client closes.

- /echo, /big: echoes (/big is for 4 MiB messages; messages up to 16 MiB are read).
- /chat: the only route with subprotocols: "chat" and "superchat", in the server's order of
  preference (websockets' own selection: a client offering none of them, or none at all, gets
  its HTTP 400 refusal). Sends the chosen subprotocol as text, then echoes.
- /close: after the first message, closes with 4000 "bye".
- /fragments: sends "abcdef" as a text message of 3 frames ("ab", "cd", "ef"), then bytes
  01 02 as a binary message of 2 frames, then echoes.
- /ping: after the first message, pings the client and waits 5 s at most for its pong; sends
  "pong after <latency in seconds>" (or "no pong" when none came), then echoes.
- /vanish: after the first message, drops the TCP connection (`transport.abort()`: no close
  frame, no TLS close_notify).
- /idle: after the first message, waits 1 s, sends "late", then echoes.
- /headers: sends a JSON object {"path": <path with query>, "headers": {<lower-cased name>:
  <value>}} (a repeated header joined with ", "), then echoes.
- /deaf: never reads (websockets stops reading the socket once 16 messages wait in its
  queue), until the connection ends.
- /heartbeat: sends an unsolicited pong carrying 8 bytes ff (what a ping number of ours
  looks like), then echoes.
- /reject: refused with HTTP 403 and the body "go away\\n"; any other path gets 404.

No compression is offered, and the server sends no keepalive pings of its own (the only ping
is /ping's). Needs websockets 13 or later (tests/conformance/ensure-python makes a venv with it).
"""

from __future__ import annotations

import argparse
import asyncio
import http
import json
import os
import ssl
import sys
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.server import ServerProtocol
from websockets.typing import Subprotocol

MAX_MESSAGE = 16 * 1024 * 1024
CHAT_SUBPROTOCOLS = [Subprotocol("chat"), Subprotocol("superchat")]
PONG_WAIT_S = 5.0
IDLE_S = 1.0


@dataclass
class Connection:
    """One connection's socket and what the report counts."""

    ws: ServerConnection
    messages: int = 0

    async def recv(self) -> str | bytes:
        message = await self.ws.recv()
        self.messages += 1
        return message

    async def echo(self) -> None:
        """Sends every message back until the client closes (ConnectionClosed ends it)."""
        while True:
            await self.ws.send(await self.recv())


async def echo(conn: Connection) -> None:
    await conn.echo()


async def chat(conn: Connection) -> None:
    await conn.ws.send(conn.ws.subprotocol or "")
    await conn.echo()


async def close(conn: Connection) -> None:
    await conn.recv()
    await conn.ws.close(4000, "bye")


async def fragments(conn: Connection) -> None:
    await conn.ws.send(["ab", "cd", "ef"])
    await conn.ws.send([b"\x01", b"\x02"])
    await conn.echo()


async def ping(conn: Connection) -> None:
    await conn.recv()
    pong = await conn.ws.ping()
    try:
        latency = await asyncio.wait_for(pong, PONG_WAIT_S)
    except asyncio.TimeoutError:  # TimeoutError itself from Python 3.11
        await conn.ws.send("no pong")
    else:
        await conn.ws.send(f"pong after {latency:.6f}")
    await conn.echo()


async def vanish(conn: Connection) -> None:
    await conn.recv()
    conn.ws.transport.abort()
    # Returning at once would have websockets "send" a close frame into the aborted transport
    # (its state is still OPEN until the loop reports the connection lost), and the report
    # would say one was sent.
    await conn.ws.wait_closed()


async def idle(conn: Connection) -> None:
    await conn.recv()
    await asyncio.sleep(IDLE_S)
    await conn.ws.send("late")
    await conn.echo()


async def headers(conn: Connection) -> None:
    request = conn.ws.request
    joined: dict[str, str] = {}
    for name, value in request.headers.raw_items():
        key = name.lower()
        joined[key] = f"{joined[key]}, {value}" if key in joined else value
    await conn.ws.send(json.dumps({"path": request.path, "headers": joined}))
    await conn.echo()


async def deaf(conn: Connection) -> None:
    # Never reads: websockets stops reading the socket once its queue holds max_queue
    # messages, and the client's sends then fill the kernel's buffers and block.
    await conn.ws.wait_closed()


async def heartbeat(conn: Connection) -> None:
    # An unsolicited pong whose payload looks like a ping number (8 bytes), then echoes.
    await conn.ws.pong(b"\xff" * 8)
    await conn.echo()


SCENARIOS: dict[str, Callable[[Connection], Awaitable[None]]] = {
    "/echo": echo,
    "/big": echo,
    "/chat": chat,
    "/close": close,
    "/fragments": fragments,
    "/ping": ping,
    "/vanish": vanish,
    "/idle": idle,
    "/headers": headers,
    "/deaf": deaf,
    "/heartbeat": heartbeat,
}


def route(request: Request) -> str:
    return urlsplit(request.path).path


def process_request(ws: ServerConnection, request: Request) -> Response | None:
    path = route(request)
    if path == "/reject":
        return ws.respond(http.HTTPStatus.FORBIDDEN, "go away\n")
    if path not in SCENARIOS:
        return ws.respond(http.HTTPStatus.NOT_FOUND, f"no scenario {path}\n")
    return None


def select_subprotocol(ws: ServerConnection, offered: Sequence[Subprotocol]) -> Subprotocol | None:
    """`subprotocols` is per server in websockets: only /chat negotiates (with websockets' own
    rules, the server's list being CHAT_SUBPROTOCOLS); the other routes ignore what is offered,
    as a server without subprotocols does."""
    if route(ws.request) != "/chat":
        return None
    return ServerProtocol.select_subprotocol(ws.protocol, offered)


def frame(close: object) -> list | None:
    return None if close is None else [close.code, close.reason]


async def report_when_closed(conn: Connection, path: str) -> None:
    await conn.ws.wait_closed()
    protocol = conn.ws.protocol  # the close frames (not `ws.close_code`: websockets 15+)
    print(json.dumps({
        "path": path,
        "rcvd": frame(protocol.close_rcvd),
        "sent": frame(protocol.close_sent),
        "rcvd_then_sent": protocol.close_rcvd_then_sent,
        "messages": conn.messages,
    }), flush=True)


reports: set[asyncio.Task] = set()  # strong references: the loop keeps only weak ones


async def handler(ws: ServerConnection) -> None:
    path = route(ws.request)
    conn = Connection(ws)
    task = asyncio.create_task(report_when_closed(conn, path))
    reports.add(task)
    task.add_done_callback(reports.discard)
    try:
        await SCENARIOS[path](conn)
    except ConnectionClosed:
        pass  # the client closed or went away: the report tells how


def exit_at_end_of_stdin() -> None:
    """The test holds our stdin; when it ends (the test exited or died), so do we."""
    while sys.stdin.buffer.read(65536):
        pass
    os._exit(0)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"),
                        help="serve wss:// with this certificate chain and key (PEM files)")
    args = parser.parse_args()
    tls = None
    if args.tls:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(*args.tls)
    threading.Thread(target=exit_at_end_of_stdin, daemon=True).start()
    async with serve(
        handler, "127.0.0.1", 0,
        ssl=tls,
        max_size=MAX_MESSAGE,
        compression=None,
        ping_interval=None,
        subprotocols=CHAT_SUBPROTOCOLS,
        select_subprotocol=select_subprotocol,
        process_request=process_request,
    ) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(f"PORT {port}", flush=True)
        await asyncio.Future()  # until killed or stdin ends
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
