"""The HTTP server benchmark's other peers, the servers users would pick instead of Assay for
a small service: Node's `http` module (bench/http_server_node.js) and Python's aiohttp
(bench/http_server_aiohttp.py, in the venv of tests/conformance/ensure-python). Measured in
the same run and the same way as assay and nginx (bench/http_server.py); no goal, reported
as assay / peer. A peer that cannot start is reported as missing, with the reason."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ENSURE_PYTHON = BENCH_DIR.parent / "tests" / "conformance" / "ensure-python"


def commands() -> tuple[dict[str, list[str]], list[str]]:
    """The peers' command lines by name, and why any peer is missing."""
    found: dict[str, list[str]] = {}
    missing: list[str] = []
    node = shutil.which("node")
    if node:
        found["Node http"] = [node, str(BENCH_DIR / "http_server_node.js")]
    else:
        missing.append("Node http: no `node` on PATH")
    out = subprocess.run([str(ENSURE_PYTHON)], capture_output=True, text=True, check=False)
    if out.returncode == 0 and out.stdout.strip():
        found["Python aiohttp"] = [out.stdout.strip(), str(BENCH_DIR / "http_server_aiohttp.py")]
    else:
        missing.append(f"Python aiohttp: ensure-python failed: {out.stderr.strip()[-200:]}")
    return found, missing


def version(argv: list[str]) -> str:
    """`node v20...` or `aiohttp 3.x` for the notes."""
    if argv[1].endswith(".js"):
        probe = [argv[0], "--version"]
    else:
        probe = [argv[0], "-c", "import aiohttp; print('aiohttp', aiohttp.__version__)"]
    out = subprocess.run(probe, capture_output=True, text=True, check=False)
    return out.stdout.strip() or "?"
