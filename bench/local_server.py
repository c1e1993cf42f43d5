"""What the HTTP benchmarks share about the local servers they start: a free loopback port,
waiting until a process listens on it, and the error both report. Standard library only."""

from __future__ import annotations

import socket
import subprocess
import time


class BenchError(Exception):
    """A prerequisite is missing or a server misbehaves; bench.py reports it and exits 2."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, proc: subprocess.Popen, what: str) -> None:
    """Returns once 127.0.0.1:`port` accepts connections; raises if `proc` exits first or
    nothing listens within 15 s."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"{what} exited with status {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise BenchError(f"{what} is not listening on port {port} after 15 s")
