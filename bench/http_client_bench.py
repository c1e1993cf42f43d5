"""HTTP client rows of the benchmark: GET requests per second, assay against Python clients.

Sequential: assay's `http.get` (bench/http_client.lua) against a `requests.Session`.
50 concurrent: 50 `async.spawn` tasks against 50 aiohttp tasks on one `ClientSession`.
Both sides hit the same local server: nginx (one worker, a fixed 3-byte body) when it is
installed, else the aiohttp peer of the tests (then the server shares the CPUs with the client
and caps both, so the ratio understates the faster one). Runs alternate (assay, Python, assay,
...); requests/s are medians, the ratio is the median of per-round ratios (assay / Python).

Used by bench.py (standard library only). The Python clients run in the venv that
tests/conformance/ensure-python makes (requests, aiohttp).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from local_server import BenchError, find_nginx, start_nginx

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
LUA_SCRIPT = BENCH_DIR / "http_client.lua"
PEER_SCRIPT = BENCH_DIR / "http_client_peer.py"
ENSURE_PYTHON = REPO_ROOT / "tests" / "conformance" / "ensure-python"
AIOHTTP_SERVER = REPO_ROOT / "tests" / "conformance" / "aiohttp_peer.py"
CONCURRENCY = 50
CHILD_TIMEOUT_S = 120

_RESULT = re.compile(r"^RESULT (.*)$", re.M)


class Server:
    """The local server both clients hit; a context manager that stops it on exit."""

    def __init__(self, python: str) -> None:
        self.python = python
        self.proc: subprocess.Popen | None = None
        self.tmp = tempfile.TemporaryDirectory(prefix="assay-bench-http-")
        self.url = ""
        self.name = ""

    def __enter__(self) -> "Server":
        nginx = find_nginx()
        if nginx:
            self._start_nginx(nginx)
        else:
            self._start_aiohttp()
        return self

    def _start_nginx(self, nginx: str) -> None:
        self.proc, port = start_nginx(
            nginx, Path(self.tmp.name),
            "    keepalive_requests 10000000;\n    keepalive_timeout 120s;",
            'location / { default_type text/plain; return 200 "ok\\n"; }',
            worker_connections=4096)
        version = subprocess.run([nginx, "-v"], capture_output=True, text=True).stderr.strip()
        self.name = f"{version.split(': ')[-1]}, 1 worker"
        self.url = f"http://127.0.0.1:{port}/"

    def _start_aiohttp(self) -> None:
        self.proc = subprocess.Popen(
            [self.python, str(AIOHTTP_SERVER), "--lifetime", "3600"],
            stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line.startswith("PORT "):
            raise BenchError(f"aiohttp_peer.py did not start (printed {line!r})")
        self.name = "aiohttp (tests/conformance/aiohttp_peer.py; nginx not found)"
        self.url = f"http://127.0.0.1:{line.split()[1]}/ok"

    def __exit__(self, *_exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.tmp.cleanup()


def ensure_python() -> str:
    """The venv Python with requests and aiohttp (made on first use)."""
    out = subprocess.run(["bash", str(ENSURE_PYTHON)], stdout=subprocess.PIPE, stderr=sys.stderr,
                         text=True, timeout=900, check=False)
    if out.returncode != 0 or not out.stdout.strip():
        raise BenchError("tests/conformance/ensure-python could not provide requests and aiohttp")
    return out.stdout.strip()


def _run(argv: list[str], env: dict[str, str]) -> dict[str, str]:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, env=env,
                             timeout=CHILD_TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        raise BenchError(f"{' '.join(argv)} did not finish within {CHILD_TIMEOUT_S}s") from e
    match = _RESULT.search(out.stdout)
    if out.returncode != 0 or not match:
        raise BenchError(f"{' '.join(argv)} failed (status {out.returncode}):\n"
                         f"{out.stdout}{out.stderr}")
    return dict(field.split("=", 1) for field in match.group(1).split())


@dataclass
class Mode:
    label: str
    assay_rps: float  # median
    peer_rps: float
    ratio: float  # median of per-round ratios
    peer_lib: str


@dataclass
class HttpClientResult:
    server: str
    rounds: int
    seconds: float
    modes: list[Mode]

    def rows(self) -> list[list[str]]:
        rows = [["metric", "assay", "Python", "ratio"]]
        for m in self.modes:
            rows.append([m.label, f"{m.assay_rps:.0f}", f"{m.peer_rps:.0f} ({m.peer_lib})",
                         f"{m.ratio:.2f}"])
        return rows

    def notes(self) -> list[str]:
        return [
            f"GET requests/s against one local server ({self.server}), {self.rounds} round(s) "
            f"of {self.seconds}s each per client, alternating; requests/s are medians, ratio = "
            f"assay / Python, the median of per-round ratios (higher is better).",
            "sequential: http.get in a loop (the shared pooled client) vs requests.Session; "
            f"concurrent: {CONCURRENCY} async.spawn tasks vs {CONCURRENCY} aiohttp tasks on one "
            "ClientSession; both after a warm-up that opens the connections.",
        ]


def bench_http_client(assay: Path, plugin_root: Path, rounds: int, seconds: float,
                      log: Callable[[str], None]) -> HttpClientResult:
    python = ensure_python()
    env = dict(os.environ, ASSAY_LIB_PATH=str(plugin_root))
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):  # the server is on 127.0.0.1
        env.pop(proxy, None)
        env.pop(proxy.lower(), None)
    modes = []
    with Server(python) as server:
        log(f"HTTP client: server {server.name} at {server.url}")
        for mode, label in (("seq", "sequential GET (req/s)"),
                            ("concurrent", f"{CONCURRENCY} concurrent GET (req/s)")):
            a_runs, b_runs = [], []
            for r in range(rounds):  # alternating A B A B
                args = [server.url, mode, str(seconds), str(CONCURRENCY)]
                a_runs.append(_run([str(assay), str(LUA_SCRIPT), *args], env))
                b_runs.append(_run([python, str(PEER_SCRIPT), *args], env))
                log(f"HTTP client {mode} round {r + 1}/{rounds}: assay {a_runs[-1]['rps']} "
                    f"req/s, {b_runs[-1]['lib']} {b_runs[-1]['rps']} req/s")
            modes.append(Mode(
                label=label,
                assay_rps=statistics.median(float(a["rps"]) for a in a_runs),
                peer_rps=statistics.median(float(b["rps"]) for b in b_runs),
                ratio=statistics.median(float(a["rps"]) / float(b["rps"])
                                        for a, b in zip(a_runs, b_runs)),
                peer_lib=b_runs[0]["lib"].replace("_", " "),
            ))
        return HttpClientResult(server=server.name, rounds=rounds, seconds=seconds, modes=modes)


def main() -> int:
    """Runs only these rows: `python3 bench/http_client_bench.py [--quick]` (bench/run runs
    them with the rest). The binary: $ASSAY_BIN, else the cargo target dir's release build."""
    quick = "--quick" in sys.argv[1:]
    target = Path(os.environ.get("CARGO_TARGET_DIR") or Path.home() / ".cache" / "assay-target")
    assay = Path(os.environ.get("ASSAY_BIN") or target / "release" / "assay")
    plugins = assay.parent / "assay-lib"
    if not (plugins / "plugins" / "http" / "manifest.yaml").is_file():
        print(f"no http plugin in {plugins}: cargo build --release -p assay -p assay-plugin-http",
              file=sys.stderr)
        return 2
    try:
        result = bench_http_client(assay, plugins, 1 if quick else 3, 1.0 if quick else 2.0,
                                   lambda m: print(f"bench: {m}", file=sys.stderr, flush=True))
    except BenchError as e:
        print(f"bench: error: {e}", file=sys.stderr)
        return 2
    rows = result.rows()
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        print("  ".join([row[0].ljust(widths[0]), *cells]))
    for line in result.notes():
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
