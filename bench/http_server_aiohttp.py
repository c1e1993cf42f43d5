"""The HTTP server benchmark's Python peer (bench/http_peers.py): aiohttp's web server, the
same routes as bench/http_server.lua. Prints "PORT <n>", serves until SIGTERM.
  GET /hello -> "hi" (text/plain)
  GET /json  -> {"message":"hello","n":42,"ok":true} (application/json), encoded per request
"""

import asyncio
import signal

from aiohttp import web


async def hello(_request: web.Request) -> web.Response:
    return web.Response(text="hi")


async def json_route(_request: web.Request) -> web.Response:
    return web.json_response({"message": "hello", "n": 42, "ok": True})


async def main() -> None:
    app = web.Application()
    app.add_routes([web.get("/hello", hello), web.get("/json", json_route)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001 (the bound port)
    print(f"PORT {port}", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()


asyncio.run(main())
