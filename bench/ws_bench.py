"""ws rows of the benchmark: the ws plugin's client against Python's websockets client.

Both clients talk to the same echo server, started once for the run: Assay's own
`http.server` WebSocket route (bench/ws_echo.lua, a process of its own). A round trip sends a
32-byte text message and waits for its echo on one connection (bench/ws_client.lua,
bench/ws_client.py: 500 warm-up round trips, then batches of 100 for the round's seconds);
compression is off on both sides (websockets offers permessage-deflate by default, tungstenite
has none). A second, informational row runs both against Python websockets' own server
(tests/conformance/ws_server_peer.py /echo), whose ~70 us per round trip hides most of the
clients' difference.

Rounds alternate (assay, Python, ...); rates are medians, the ratio the median of per-round
ratios, higher is better. Goal: >= 2.0 against the Assay echo server.

`python3 bench/ws_bench.py [--quick]` runs these rows alone.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from local_server import BenchError

CHILD_TIMEOUT_S = 300
HERE = Path(__file__).resolve().parent
REPO = HERE.parent
_RESULT = re.compile(r"^RESULT (\d+) ([\d.]+)$", re.M)
GOAL = 2.0


@dataclass
class Row:
    label: str
    assay: float
    python: float
    ratio: float
    goal: bool


@dataclass
class WsResult:
    rows_: list[Row]
    rounds: int
    seconds: float
    websockets_version: str

    def rows(self) -> list[list[str]]:
        out = [["metric", "assay", "Python websockets", "ratio", "goal", "meets goal"]]
        for r in self.rows_:
            goal, meets = (f">= {GOAL:.2f}", "yes" if r.ratio >= GOAL else "NO") if r.goal \
                else ("-", "-")
            out.append([r.label, f"{r.assay:.0f}", f"{r.python:.0f}", f"{r.ratio:.2f}", goal,
                        meets])
        return out

    def notes(self) -> list[str]:
        return [f"ws: {self.rounds} round(s) of {self.seconds:g} s each, alternating; one "
                f"connection, 32-byte text messages sent and echoed in turn; websockets "
                f"{self.websockets_version} (asyncio client, compression off); rates are "
                f"medians, ratios the median of per-round ratios (assay / Python)."]


class _Server:
    """A server process printing "PORT <n>" first; stopped on exit."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.argv, self.env = argv, env
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> int:
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=self.env)
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()
        if not first.startswith("PORT "):
            self.__exit__()
            raise BenchError(f"{self.argv[0]} {self.argv[1]} did not start: {first!r}")
        return int(first.split()[1])

    def __exit__(self, *_: object) -> None:
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


def _rate(argv: list[str], env: dict[str, str] | None = None) -> float:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, env=env)
    found = _RESULT.search(done.stdout)
    if done.returncode != 0 or not found:
        raise BenchError(f"{argv[0]} {argv[1]} failed (exit {done.returncode}): "
                         f"{(done.stderr or done.stdout).strip()[-500:]}")
    return int(found.group(1)) / float(found.group(2))


def bench_ws(assay: Path, plugin_lib: Path, python: str, rounds: int, seconds: float,
             log) -> WsResult:
    env = dict(os.environ, ASSAY_LIB_PATH=str(plugin_lib))
    servers = [
        ("echo round trips/s, Assay echo server", True,
         [str(assay), str(HERE / "ws_echo.lua")], env),
        ("echo round trips/s, Python websockets server", False,
         [python, str(REPO / "tests/conformance/ws_server_peer.py")], None),
    ]
    rows = []
    for label, goal, argv, server_env in servers:
        with _Server(argv, server_env) as port:
            url = f"ws://127.0.0.1:{port}/echo"
            pairs = []
            for r in range(rounds):
                log(f"  ws round {r + 1}/{rounds}: {label}")
                a = _rate([str(assay), str(HERE / "ws_client.lua"), url, str(seconds)], env)
                p = _rate([python, str(HERE / "ws_client.py"), url, str(seconds)])
                pairs.append((a, p))
        rows.append(Row(label, statistics.median(a for a, _ in pairs),
                        statistics.median(p for _, p in pairs),
                        statistics.median(a / p for a, p in pairs), goal))
    version = subprocess.run([python, "-c", "import websockets; print(websockets.__version__)"],
                             capture_output=True, text=True, timeout=60).stdout.strip()
    return WsResult(rows, rounds, seconds, version)


def main() -> int:
    import standalone

    return standalone.run(__doc__, lambda assay, lib, python, quick, log: bench_ws(
        assay, lib, python, 1 if quick else 5, 1.0 if quick else 2.0, log))


if __name__ == "__main__":
    sys.exit(main())
