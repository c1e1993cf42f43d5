#!/usr/bin/env python3
"""The WebSocket echo benchmark's Python side, the same as ws_client.lua: one connection to an
echo server (no compression, no message size limit), 500 warm-up round trips, then round trips
in batches of 100 until SECONDS have passed. A round trip sends a 32-byte text message and
receives its echo, which must be the same text.

Usage: python ws_client.py URL SECONDS
Prints: RESULT <round trips> <seconds>
Needs websockets (tests/conformance/ensure-python makes a venv with it).
"""

import asyncio
import sys
import time

from websockets.asyncio.client import connect

MESSAGE = "0123456789abcdef" * 2  # 32 bytes
WARM_UP = 500
BATCH = 100


async def round_trips(ws, n: int) -> None:
    for _ in range(n):
        await ws.send(MESSAGE)
        echoed = await ws.recv()
        if echoed != MESSAGE:
            raise SystemExit(f"the server echoed {echoed!r}, not {MESSAGE!r}")


async def main(url: str, seconds: float) -> None:
    async with connect(url, compression=None, max_size=None) as ws:
        await round_trips(ws, WARM_UP)
        n, started = 0, time.monotonic()
        while time.monotonic() - started < seconds:
            await round_trips(ws, BATCH)
            n += BATCH
        elapsed = time.monotonic() - started
    print("RESULT %d %.6f" % (n, elapsed))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    asyncio.run(main(sys.argv[1], float(sys.argv[2])))
