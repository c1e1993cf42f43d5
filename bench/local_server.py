"""What the HTTP benchmarks share about the local servers they start: a free loopback port,
waiting until a process listens on it, nginx with one worker, and the error they report.
Standard library only."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path


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


def find_nginx() -> str | None:
    """nginx's path, or None; /usr/sbin is not on a non-root PATH."""
    found = shutil.which("nginx")
    if not found and os.access("/usr/sbin/nginx", os.X_OK):
        found = "/usr/sbin/nginx"
    return found


def start_nginx(nginx: str, prefix: Path, http_lines: str, location: str,
                worker_connections: int = 64) -> tuple[subprocess.Popen, int]:
    """Starts one nginx worker on a free loopback port with everything it writes under
    `prefix`; `http_lines` go in the http block, `location` in the server block.
    Returns the process, once it listens, and its port."""
    port = free_port()
    temp_paths = "\n".join(f"    {kind}_temp_path {prefix}/{kind};"
                           for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = prefix / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log stderr warn;
events {{ worker_connections {worker_connections}; }}
http {{
    access_log off;
{http_lines}
{temp_paths}
    server {{
        listen 127.0.0.1:{port};
        {location}
    }}
}}
""")
    proc = subprocess.Popen([nginx, "-p", str(prefix), "-c", str(conf), "-e", "stderr"],
                            stdout=subprocess.DEVNULL, stderr=sys.stderr)
    wait_listening(port, proc, "nginx")
    return proc, port
