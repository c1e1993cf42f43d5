#!/usr/bin/env python3
"""An aiohttp server that checks the http client's transfers: downloads, streams, uploads,
authentication, compression and cookies (plugins/http/tests/client/transfers.rs).

Every route checks the request's shape (method, headers, body) and answers 400 with the reason
when it is wrong, so a client that sends the wrong thing fails the test instead of passing by
luck. Prints "PORT <n>" once it listens on 127.0.0.1; exits after --lifetime seconds or on
SIGTERM. Needs aiohttp, brotli and zstandard (tests/conformance/ensure-python).

Routes:
  GET  /download?size=N[&cut=M]   N bytes of pattern(i) = (i * 7 + i // 251) % 256 with a
                                  content-length of N; with cut, the connection is closed after
                                  M bytes (a download that fails half-way)
  GET  /digest?size=N             {"sha256": the digest of /download?size=N's body}
  GET  /ndjson?lines=N&pause=K    N lines {"i": i}; after line K it waits (at most 10 s) for
                                  POST /signal?line=K before sending the rest
  POST /signal?line=K             releases the NDJSON stream waiting at line K
  GET  /basic                     200 {"user"} for Basic USER:PASSWORD (below), else 401
  GET  /bearer                    200 for "Bearer TOKEN", else 401
  POST /form                      the urlencoded body parsed: {"fields": {k: [v, ...]}}
  POST /multipart                 each part: {name, filename, content_type, disposition (the
                                  raw Content-Disposition), headers (how many), size, sha256,
                                  text (for small parts)}; files are read in chunks
  GET  /compressed?coding=C       TEXT compressed with C (gzip, br, zstd, deflate); 406 unless
                                  the request's accept-encoding names C
  GET  /bomb?coding=gzip&mib=N    N MiB of zeros, gzip-compressed (a small body that expands)
  GET  /encoded?codings=A,B       TEXT encoded with A, then B ("Content-Encoding: A, B"), not
                                  checking accept-encoding; "deflate-raw" is raw deflate (no
                                  zlib header) sent as "deflate"
  GET  /zstd-window?log=N&kib=K   K KiB (default 64) of TEXT as one zstd frame whose header asks
                                  for a window of 2^N bytes (no content size, so the window
                                  descriptor is what a decoder must honour)
  GET  /cookies/set               two Set-Cookie headers
  GET  /cookies/check             {"cookie": <the Cookie header or null>}
  GET  /cookies/many?round=K&n=N&size=S   N new cookies r<K>c<i>, each S bytes of value
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gzip
import hashlib
import json
import sys
import zlib
from urllib.parse import parse_qs

import brotli
import zstandard
from aiohttp import web

USER = "assay-user"
PASSWORD = "pä ss:wörd"
TOKEN = "t0ken.with-chars_~+/="
TEXT = ("The quick brown fox jumps over the lazy dog. " * 200).encode()


def pattern(start: int, length: int) -> bytes:
    return bytes((i * 7 + i // 251) % 256 for i in range(start, start + length))


def bad(reason: str) -> web.Response:
    return web.Response(status=400, text=f"bad request: {reason}\n")


def expect_method(request: web.Request, method: str) -> web.Response | None:
    if request.method != method:
        return bad(f"{method} expected, got {request.method}")
    return None


async def download(request: web.Request) -> web.StreamResponse:
    wrong = expect_method(request, "GET")
    if wrong:
        return wrong
    if await request.read():
        return bad("a download request has no body")
    size = int(request.query["size"])
    cut = int(request.query.get("cut", size))
    response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    response.content_length = size
    await response.prepare(request)
    # A pattern block repeated: pattern(i) is periodic with 251 * 256 bytes.
    period = 251 * 256
    block = pattern(0, period)
    sent = 0
    while sent < cut:
        n = min(cut - sent, period - sent % period)
        await response.write(block[sent % period: sent % period + n])
        sent += n
    if cut < size:
        await asyncio.sleep(0.2)  # the client has the bytes; now the connection goes away
        request.transport.close()
        return response
    await response.write_eof()
    return response


async def digest(request: web.Request) -> web.Response:
    size = int(request.query["size"])
    period = 251 * 256
    block = pattern(0, period)
    hasher = hashlib.sha256()
    whole, rest = divmod(size, period)
    for _ in range(whole):
        hasher.update(block)
    hasher.update(block[:rest])
    return web.json_response({"sha256": hasher.hexdigest()})


async def ndjson(request: web.Request) -> web.StreamResponse:
    wrong = expect_method(request, "GET")
    if wrong:
        return wrong
    lines = int(request.query["lines"])
    pause = int(request.query["pause"])
    event = asyncio.Event()
    request.app["signals"][pause] = event
    response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
    await response.prepare(request)
    for i in range(1, lines + 1):
        await response.write(json.dumps({"i": i}).encode() + b"\n")
        if i == pause:
            try:
                await asyncio.wait_for(event.wait(), timeout=10)
            except asyncio.TimeoutError:
                await response.write(b'{"error": "no signal after line %d"}\n' % pause)
                await response.write_eof()
                return response
    await response.write_eof()
    return response


async def signal(request: web.Request) -> web.Response:
    wrong = expect_method(request, "POST")
    if wrong:
        return wrong
    line = int(request.query["line"])
    event = request.app["signals"].get(line)
    if event is None:
        return bad(f"no stream waits at line {line}")
    event.set()
    return web.json_response({"released": line})


async def basic(request: web.Request) -> web.Response:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme != "Basic":
        return web.Response(status=401, text=f"Basic expected, got {header!r}",
                            headers={"WWW-Authenticate": 'Basic realm="assay"'})
    user, _, password = base64.b64decode(encoded).decode("utf-8").partition(":")
    if (user, password) != (USER, PASSWORD):
        return web.Response(status=401, text=f"wrong credentials {user!r}:{password!r}")
    return web.json_response({"user": user})


async def bearer(request: web.Request) -> web.Response:
    header = request.headers.get("Authorization", "")
    if header != f"Bearer {TOKEN}":
        return web.Response(status=401, text=f"wrong authorization {header!r}")
    return web.json_response({"bearer": True})


async def form(request: web.Request) -> web.Response:
    wrong = expect_method(request, "POST")
    if wrong:
        return wrong
    if request.headers.get("Content-Type") != "application/x-www-form-urlencoded":
        return bad(f"content-type {request.headers.get('Content-Type')!r}")
    body = (await request.read()).decode("ascii")
    return web.json_response({"fields": parse_qs(body, keep_blank_values=True, strict_parsing=True)})


async def multipart(request: web.Request) -> web.Response:
    wrong = expect_method(request, "POST")
    if wrong:
        return wrong
    if not request.headers.get("Content-Type", "").startswith("multipart/form-data; boundary="):
        return bad(f"content-type {request.headers.get('Content-Type')!r}")
    reader = await request.multipart()
    parts = []
    while True:
        part = await reader.next()
        if part is None:
            break
        digest, size, head = hashlib.sha256(), 0, b""
        while True:
            chunk = await part.read_chunk(256 * 1024)
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
            if len(head) < 256:
                head += chunk[: 256 - len(head)]
        parts.append({
            "name": part.name,
            "filename": part.filename,
            "content_type": part.headers.get("Content-Type"),
            "disposition": part.headers.get("Content-Disposition"),
            "headers": len(part.headers),
            "size": size,
            "sha256": digest.hexdigest(),
            "text": head.decode("utf-8", errors="replace") if size <= 256 else None,
        })
    return web.json_response({"parts": parts})


def compress(coding: str, data: bytes) -> bytes:
    if coding == "gzip":
        return gzip.compress(data)
    if coding == "br":
        return brotli.compress(data)
    if coding == "zstd":
        return zstandard.ZstdCompressor().compress(data)
    if coding == "deflate":
        return zlib.compress(data)  # RFC 9110's "deflate" is the zlib format
    raise ValueError(coding)


async def compressed(request: web.Request) -> web.Response:
    coding = request.query["coding"]
    accepted = [c.split(";")[0].strip() for c in request.headers.get("Accept-Encoding", "").split(",")]
    if coding not in accepted:
        return web.Response(status=406, text=f"{coding} not in accept-encoding {accepted}")
    return web.Response(body=compress(coding, TEXT),
                        headers={"Content-Encoding": coding, "Content-Type": "text/plain"})


async def bomb(request: web.Request) -> web.Response:
    coding = request.query.get("coding", "gzip")
    mib = int(request.query["mib"])
    data = compress(coding, bytes(mib << 20))
    return web.Response(body=data, headers={"Content-Encoding": coding,
                                            "Content-Type": "application/octet-stream"})


async def encoded(request: web.Request) -> web.Response:
    data, names = TEXT, []
    for coding in request.query["codings"].split(","):
        if coding == "deflate-raw":
            packer = zlib.compressobj(wbits=-15)
            data = packer.compress(data) + packer.flush()
            names.append("deflate")
        else:
            data = compress(coding, data)
            names.append(coding)
    return web.Response(body=data, headers={"Content-Encoding": ", ".join(names),
                                            "Content-Type": "text/plain"})


async def zstd_window(request: web.Request) -> web.Response:
    log = int(request.query["log"])
    size = int(request.query.get("kib", "64")) * 1024
    data = (TEXT * (size // len(TEXT) + 1))[:size]
    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=log,
                                                            write_content_size=False)
    packer = zstandard.ZstdCompressor(compression_params=params)
    stream = packer.compressobj()
    body = stream.compress(data) + stream.flush()
    return web.Response(body=body, headers={"Content-Encoding": "zstd",
                                            "Content-Type": "text/plain"})


async def cookies_set(request: web.Request) -> web.Response:
    response = web.json_response({"set": 2})
    response.headers.add("Set-Cookie", "session=abc123; Path=/; HttpOnly")
    response.headers.add("Set-Cookie", "theme=dark; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Path=/")
    return response


async def cookies_many(request: web.Request) -> web.Response:
    round_, n, size = (int(request.query[k]) for k in ("round", "n", "size"))
    response = web.json_response({"set": n})
    for i in range(n):
        response.headers.add("Set-Cookie", f"r{round_}c{i}={'v' * size}; Path=/")
    return response


async def cookies_check(request: web.Request) -> web.Response:
    return web.json_response({"cookie": request.headers.get("Cookie")})


async def serve(port: int, lifetime: float) -> None:
    app = web.Application(client_max_size=0)
    app["signals"] = {}
    app.router.add_route("*", "/download", download)
    app.router.add_route("*", "/digest", digest)
    app.router.add_route("*", "/ndjson", ndjson)
    app.router.add_route("*", "/signal", signal)
    app.router.add_route("*", "/basic", basic)
    app.router.add_route("*", "/bearer", bearer)
    app.router.add_route("*", "/form", form)
    app.router.add_route("*", "/multipart", multipart)
    app.router.add_route("*", "/compressed", compressed)
    app.router.add_route("*", "/bomb", bomb)
    app.router.add_route("*", "/encoded", encoded)
    app.router.add_route("*", "/zstd-window", zstd_window)
    app.router.add_route("*", "/cookies/set", cookies_set)
    app.router.add_route("*", "/cookies/check", cookies_check)
    app.router.add_route("*", "/cookies/many", cookies_many)
    # Header fields up to 1 MiB (aiohttp's default is 8 KiB): /cookies/many's cookies come back
    # in one Cookie header of up to 50 x 4 KB.
    runner = web.AppRunner(app, access_log=None, max_field_size=1 << 20, max_line_size=1 << 20)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    sockets = site._server.sockets if site._server else []
    print(f"PORT {sockets[0].getsockname()[1]}", flush=True)
    await asyncio.sleep(lifetime)
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
