#!/usr/bin/env python3
"""An aiohttp server, the http client's second test peer (and a benchmark server).

Same routes and echo document as http_peer.py (see there), so one Lua suite runs against both;
being asyncio, /slow requests wait concurrently, which the client's concurrency test relies on.
Prints "PORT <n>" once it listens on 127.0.0.1; exits on GET /shutdown, SIGTERM, or after
--lifetime seconds. Needs aiohttp (tests/conformance/ensure-python makes a venv with it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from aiohttp import web


async def echo_document(request: web.Request) -> dict:
    body = await request.read()
    joined: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        joined[key] = f"{joined[key]}, {value}" if key in joined else value
    args: dict[str, list[str]] = {}
    for key, value in request.query.items():
        args.setdefault(key, []).append(value)
    return {
        "method": request.method,
        "path": request.path,
        "query": request.query_string,
        "args": args,
        "headers": joined,
        "body": body.decode("utf-8", errors="replace"),
        "tls_client": None,
    }


async def handle(request: web.Request) -> web.StreamResponse:
    path = request.path
    echo = await echo_document(request)
    if path.startswith("/status/"):
        status = int(path.rsplit("/", 1)[1])
        if status in (204, 304):  # no body allowed
            return web.Response(status=status)
        return web.json_response(echo, status=status)
    if path.startswith("/redirect/"):
        n = int(path.rsplit("/", 1)[1])
        if n <= 0:
            return web.json_response(echo)
        return web.Response(status=302, headers={"Location": f"/redirect/{n - 1}"})
    if path == "/slow":
        await asyncio.sleep(min(float(request.query.get("s", "0.5")), 30))
        return web.json_response(echo)
    if path == "/headers":
        response = web.json_response({})
        response.headers.add("X-Multi", "one")
        response.headers.add("X-Multi", "two")
        response.headers["X-Mixed-Case"] = "Yes"
        return response
    if path == "/raw":
        return web.Response(body=request.query.get("body", "").encode(),
                            content_type=request.query.get("type", "text/plain"))
    if path == "/shutdown":
        request.app["stop"].set()
        return web.Response(text="bye")
    if path == "/ok":  # the benchmark's route: a small fixed body
        return web.Response(text="ok\n")
    return web.json_response(echo)


async def serve(port: int, lifetime: float) -> None:
    app = web.Application()
    app["stop"] = asyncio.Event()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    sockets = site._server.sockets if site._server else []  # the only way to read port 0's pick
    print(f"PORT {sockets[0].getsockname()[1]}", flush=True)
    try:
        await asyncio.wait_for(app["stop"].wait(), timeout=lifetime)
    except asyncio.TimeoutError:
        pass
    await asyncio.sleep(0.05)  # let the /shutdown response go out
    await runner.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--lifetime", type=float, default=120)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.lifetime))
    return 0


if __name__ == "__main__":
    sys.exit(main())
