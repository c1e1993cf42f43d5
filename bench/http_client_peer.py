#!/usr/bin/env python3
"""The Python side of the HTTP client benchmark: what bench/http_client.lua does, with the
usual Python clients. Sequential: a `requests.Session` (pooled keep-alive connections, like
assay's shared client). Concurrent: one `aiohttp.ClientSession` with CONCURRENCY tasks.

Usage: python http_client_peer.py URL seq|concurrent SECONDS [CONCURRENCY]
Prints: RESULT rps=... requests=... seconds=... lib=...
Needs requests and aiohttp (tests/conformance/ensure-python makes a venv with both).
"""

from __future__ import annotations

import asyncio
import sys
import time


def sequential(url: str, seconds: float) -> tuple[int, float, str]:
    import requests

    with requests.Session() as session:
        for _ in range(10):  # warm-up: the connection, the session's caches
            session.get(url).raise_for_status()
        start = time.monotonic()
        deadline = start + seconds
        n = 0
        while time.monotonic() < deadline:
            response = session.get(url)
            if response.status_code != 200:
                raise SystemExit(f"the server answered {response.status_code}")
            _ = response.content
            n += 1
        return n, time.monotonic() - start, f"requests {requests.__version__}"


async def concurrent(url: str, seconds: float, concurrency: int) -> tuple[int, float, str]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def one() -> None:
            async with session.get(url) as response:
                if response.status != 200:
                    raise SystemExit(f"the server answered {response.status}")
                await response.read()

        await asyncio.gather(*(one() for _ in range(concurrency)))  # warm-up
        start = time.monotonic()
        deadline = start + seconds

        async def worker() -> int:
            n = 0
            while time.monotonic() < deadline:
                await one()
                n += 1
            return n

        counts = await asyncio.gather(*(worker() for _ in range(concurrency)))
        return sum(counts), time.monotonic() - start, f"aiohttp {aiohttp.__version__}"


def main() -> int:
    if len(sys.argv) < 4 or sys.argv[2] not in ("seq", "concurrent"):
        print(__doc__, file=sys.stderr)
        return 2
    url, mode, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    concurrency = int(sys.argv[4]) if len(sys.argv) > 4 else 50
    if mode == "seq":
        n, elapsed, lib = sequential(url, seconds)
    else:
        n, elapsed, lib = asyncio.run(concurrent(url, seconds, concurrency))
    print(f"RESULT rps={n / elapsed:.1f} requests={n} seconds={elapsed:.3f} "
          f"lib={lib.replace(' ', '_')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
