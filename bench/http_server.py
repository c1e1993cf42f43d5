#!/usr/bin/env python3
"""HTTP server benchmark: assay's http.server against nginx + its Lua module (OpenResty's
ngx_http_lua, Debian's libnginx-mod-http-lua), hello world and a small JSON object.

Part of `bench/run` (bench.py calls `bench()` and prints `rows()`); also runs alone:
`python3 bench/http_server.py [--quick]`. Standard library only, Python >= 3.11.

Both servers are one process on 127.0.0.1: nginx with `master_process off`, `daemon off`,
`worker_processes 1`, its config and logs in a temporary folder; assay runs
bench/http_server.lua. The load is `wrk -t1 -c50 -d5s`, alternating A B A B; each run reads
the server's CPU time (utime + stime of every thread, /proc/<pid>/stat) before and after, so
CPU per request = CPU time / requests wrk completed.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import http_peers
from local_server import BenchError, free_port, wait_listening

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
SERVER_SCRIPT = BENCH_DIR / "http_server.lua"
DEFAULT_TARGET_DIR = Path.home() / ".cache" / "assay-target"
NGINX_MODULES = Path("/usr/lib/nginx/modules")
CLK_TCK = os.sysconf("SC_CLK_TCK")

# What both servers answer, checked before measuring.
JSON_OBJECT = {"message": "hello", "n": 42, "ok": True}
ROUTES = {"hello": "/hello", "json": "/json"}


NGINX_CONF = """\
# Written by bench/http_server.py: one process, no master, no daemon, everything in {dir}.
load_module {modules}/ndk_http_module.so;
load_module {modules}/ngx_http_lua_module.so;
worker_processes {workers};
master_process {master};
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{
    worker_connections 1024;
}}
http {{
    access_log off;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    # assay keeps a connection as long as the client does; nginx's default closes it after
    # 1000 requests, which would make wrk reconnect.
    keepalive_requests 1000000;
    init_by_lua_block {{ cjson = require("cjson") }}
    server {{
        listen 127.0.0.1:{port};
        location = /hello {{
            default_type "text/plain; charset=utf-8";
            content_by_lua_block {{ ngx.print("hi") }}
        }}
        location = /json {{
            default_type application/json;
            content_by_lua_block {{
                ngx.print(cjson.encode({{message = "hello", n = 42, ok = true}}))
            }}
        }}
    }}
}}
"""


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Prerequisites
# --------------------------------------------------------------------------------------------


def _missing_tools() -> list[str]:
    missing = [tool for tool in ("wrk", "nginx") if not shutil.which(tool)]
    for module in ("ndk_http_module.so", "ngx_http_lua_module.so"):
        if not (NGINX_MODULES / module).is_file():
            missing.append(str(NGINX_MODULES / module))
    return missing


def ensure_tools() -> None:
    """wrk, nginx and its Lua module (and lua-cjson): `scripts/services install` when missing."""
    if not _missing_tools():
        return
    log("wrk/nginx/the nginx Lua module missing; running scripts/services install")
    subprocess.run([str(REPO_ROOT / "scripts" / "services"), "install"], stdout=sys.stderr,
                   check=False)
    if missing := _missing_tools():
        raise BenchError(f"still missing after scripts/services install: {', '.join(missing)}")


def _has_http(assay: Path, env: dict[str, str]) -> bool:
    probe = subprocess.run([str(assay), "-e", "assert(http and http.server)"], env=env,
                           capture_output=True, timeout=30, check=False)
    return probe.returncode == 0


def find_http_assay(assay: Path) -> tuple[Path, dict[str, str]]:
    """An assay binary that has the http plugin, and the environment it needs.

    `assay` as bench.py found it when its own lib path has the plugin (dist/ does once
    scripts/dist has run); else the cargo-built binary with the plugins cargo built beside
    it (built when missing), never one's binary with the other's plugins.
    """
    env = dict(os.environ)
    if _has_http(assay, env):
        return assay, env
    target_dir = Path(os.environ.get("CARGO_TARGET_DIR") or DEFAULT_TARGET_DIR)
    built = target_dir / "release" / "assay"
    env = dict(env, ASSAY_LIB_PATH=str(target_dir / "release" / "assay-lib"))
    if not (os.access(built, os.X_OK) and _has_http(built, env)):
        log(f"building assay and the http plugin into {target_dir}")
        result = subprocess.run(
            ["cargo", "build", "--release", "-p", "assay", "-p", "assay-plugin-http"],
            cwd=REPO_ROOT, env=dict(os.environ, CARGO_TARGET_DIR=str(target_dir)),
            stdout=sys.stderr, check=False)
        if result.returncode != 0 or not _has_http(built, env):
            raise BenchError("no assay binary with the http plugin (cargo build --release "
                             "-p assay -p assay-plugin-http)")
    log(f"{assay} has no http plugin on its lib path; the HTTP rows use {built}")
    return built, env


# --------------------------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------------------------


class Server:
    """One server process; `cpu_seconds()` reads its CPU time so far."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str] | None, port: int | None,
                 workdir: Path):
        self.name = name
        self.workdir = workdir
        self.stderr = open(workdir / f"{name}.stderr", "w+b")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=self.stderr, cwd=workdir)
        if port is None:  # assay says its port
            line = self._first_line(15)
            match = re.fullmatch(r"PORT (\d+)", line.strip())
            if not match:
                self.stop()
                raise BenchError(f"{name} printed {line!r} instead of its port")
            port = int(match.group(1))
        self.port = port
        wait_listening(port, self.proc, name)

    def _first_line(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        signal.signal(signal.SIGALRM, _raise_timeout)
        signal.alarm(int(timeout))
        try:
            return self.proc.stdout.readline().decode(errors="replace")
        except TimeoutError:
            return ""
        finally:
            signal.alarm(0)

    def pids(self) -> list[int]:
        """The process and its children (nginx's workers)."""
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            return [self.proc.pid] + [int(p) for p in children.read_text().split()]
        except OSError:
            return [self.proc.pid]

    def cpu_seconds(self) -> float:
        return sum(_cpu_seconds(pid) for pid in self.pids())

    def get(self, path: str) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def check(self) -> None:
        status, body = self.get(ROUTES["hello"])
        if (status, body) != (200, b"hi"):
            raise BenchError(f"{self.name} /hello answered {status} {body!r}")
        status, body = self.get(ROUTES["json"])
        if status != 200 or json.loads(body) != JSON_OBJECT:
            raise BenchError(f"{self.name} /json answered {status} {body!r}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()


def _cpu_seconds(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)


class Workers:
    """Several assay processes sharing one port (SO_REUSEPORT), measured as one server."""

    def __init__(self, servers: list[Server]):
        self.servers = servers
        self.name = f"assay x{len(servers)}"
        self.port = servers[0].port
        self.proc = servers[0].proc

    def cpu_seconds(self) -> float:
        return sum(s.cpu_seconds() for s in self.servers)

    def check(self) -> None:
        for s in self.servers:
            s.check()

    def stop(self) -> None:
        for s in self.servers:
            s.stop()


def start_assay_workers(assay: Path, env: dict[str, str], workdir: Path, n: int) -> Workers:
    first = Server("assay-1", [str(assay), str(SERVER_SCRIPT)], env, None, workdir)
    rest = [Server(f"assay-{i + 2}", [str(assay), str(SERVER_SCRIPT), str(first.port)], env,
                   None, workdir) for i in range(n - 1)]
    return Workers([first, *rest])


def _raise_timeout(_signum, _frame):
    raise TimeoutError


def start_assay(assay: Path, env: dict[str, str], workdir: Path) -> Server:
    return Server("assay", [str(assay), str(SERVER_SCRIPT)], env, None, workdir)


def start_nginx(workdir: Path, workers: int = 1) -> Server:
    port = free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=workdir, modules=NGINX_MODULES, port=port,
                                      workers=workers, master="on" if workers > 1 else "off"))
    argv = [shutil.which("nginx") or "nginx", "-p", str(workdir), "-c", str(conf),
            "-e", str(workdir / "error.log")]
    return Server("nginx", argv, None, port, workdir)


# --------------------------------------------------------------------------------------------
# Load
# --------------------------------------------------------------------------------------------


@dataclass
class Run:
    requests: int
    seconds: float
    rps: float
    cpu_us: float  # server CPU microseconds per request
    cpu_share: float  # server CPU seconds per wall second (1.0 = one CPU busy)
    errors: str  # "" when wrk reported no socket errors and no non-2xx/3xx


def wrk(server: "Server | Workers", path: str, seconds: float, connections: int) -> Run:
    url = f"http://127.0.0.1:{server.port}{path}"
    argv = [shutil.which("wrk") or "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", url]
    cpu_before = server.cpu_seconds()
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60,
                         check=False)
    cpu = server.cpu_seconds() - cpu_before
    if out.returncode != 0:
        raise BenchError(f"{' '.join(argv)} failed ({out.returncode}): {out.stderr.strip()}")
    text = out.stdout
    done = re.search(r"^\s*(\d+) requests in ([\d.]+)(m?s)", text, re.M)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    if not done or not rps:
        raise BenchError(f"cannot read wrk's output:\n{text}")
    requests = int(done.group(1))
    wall = float(done.group(2)) / (1000 if done.group(3) == "ms" else 1)
    errors = []
    if m := re.search(r"Socket errors: (.*)", text):
        errors.append(f"socket errors: {m.group(1)}")
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", text):
        errors.append(f"non-2xx: {m.group(1)}")
    return Run(requests=requests, seconds=wall, rps=float(rps.group(1)),
               cpu_us=cpu / max(requests, 1) * 1e6, cpu_share=cpu / wall,
               errors="; ".join(errors))


@dataclass
class Result:
    route: str
    workers: int = 1
    assay: list[Run] = field(default_factory=list)
    nginx: list[Run] = field(default_factory=list)
    # Other peers (Node http, Python aiohttp), by name: runs alternating with assay's.
    peers: dict[str, list[Run]] = field(default_factory=dict)

    def peer_ratio(self, name: str, key: str) -> float:
        return statistics.median(getattr(a, key) / getattr(b, key)
                                 for a, b in zip(self.assay, self.peers[name]))

    def median(self, side: str, key: str) -> float:
        return statistics.median(getattr(r, key) for r in getattr(self, side))

    def ratio(self, key: str) -> float:
        # A and B of one round ran back to back: the median of per-round ratios cancels slow
        # spells of the shared machine better than a ratio of medians.
        return statistics.median(getattr(a, key) / getattr(b, key)
                                 for a, b in zip(self.assay, self.nginx))


@dataclass
class HttpResult:
    results: list[Result]
    rounds: int
    seconds: float
    connections: int
    assay_version: str
    nginx_version: str
    lua_module_version: str
    wrk_version: str
    errors: list[str]
    peer_versions: dict[str, str] = field(default_factory=dict)
    peers_missing: list[str] = field(default_factory=list)


def _version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return "?"
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else "?"


def bench(assay: Path, rounds: int = 3, seconds: float = 5, connections: int = 50,
          warmup: float = 1) -> HttpResult:
    """Both servers up at once, then per route: warm-up, then `rounds` A B pairs."""
    ensure_tools()
    assay, env = find_http_assay(assay)
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="assay-bench-http-") as tmp:
        a_dir, b_dir = Path(tmp) / "assay", Path(tmp) / "nginx"
        a_dir.mkdir()
        b_dir.mkdir()
        servers: list[Server] = []
        peer_commands, peers_missing = http_peers.commands()
        peer_versions = {name: http_peers.version(argv) for name, argv in peer_commands.items()}
        try:
            servers.append(start_assay(assay, env, a_dir))
            servers.append(start_nginx(b_dir))
            a, b = servers[:2]
            peers = []
            for name, argv in peer_commands.items():
                peer_dir = Path(tmp) / name.replace(" ", "-")
                peer_dir.mkdir()
                peers.append(Server(name, argv, None, None, peer_dir))
            servers += peers
            for server in servers:
                server.check()
            results = []
            for route, path in ROUTES.items():
                result = Result(route, peers={p.name: [] for p in peers})
                for server in servers:
                    wrk(server, path, warmup, connections)
                for r in range(rounds):  # alternating A B (C D) A B (C D)
                    result.assay.append(wrk(a, path, seconds, connections))
                    result.nginx.append(wrk(b, path, seconds, connections))
                    for peer in peers:
                        result.peers[peer.name].append(wrk(peer, path, seconds, connections))
                    latest = [("assay", result.assay[-1]), ("nginx", result.nginx[-1])]
                    latest += [(name, runs[-1]) for name, runs in result.peers.items()]
                    for name, run in latest:
                        if run.errors:
                            errors.append(f"{route} round {r + 1} {name}: {run.errors}")
                    log(f"http {route} round {r + 1}/{rounds}: assay {result.assay[-1].rps:.0f} "
                        f"req/s {result.assay[-1].cpu_us:.1f} us/req; nginx "
                        f"{result.nginx[-1].rps:.0f} req/s {result.nginx[-1].cpu_us:.1f} us/req")
                results.append(result)
            for server in servers:
                if server.proc.poll() is not None:
                    errors.append(f"{server.name} exited early ({server.proc.returncode})")
        finally:
            for server in servers:
                server.stop()
        workers = os.cpu_count() or 1
        if workers > 1:
            results.append(_bench_workers(assay, env, Path(tmp), workers, rounds, seconds,
                                          connections, warmup, errors))
        nginx_log = b_dir / "error.log"
        if nginx_log.is_file() and "[error]" in nginx_log.read_text(errors="replace"):
            errors.append(f"nginx logged errors: {nginx_log.read_text(errors='replace')[:500]}")
    dpkg = _version(["dpkg-query", "-W", "-f", "${Version}", "libnginx-mod-http-lua"])
    return HttpResult(results=results, rounds=rounds, seconds=seconds, connections=connections,
                      assay_version=f"{_version([str(assay), '-V'])} ({assay})",
                      nginx_version=_version(["nginx", "-v"]),
                      lua_module_version=f"libnginx-mod-http-lua {dpkg}",
                      wrk_version=_version(["wrk", "-v"]), errors=errors,
                      peer_versions=peer_versions, peers_missing=peers_missing)


def _bench_workers(assay: Path, env: dict[str, str], tmp: Path, workers: int, rounds: int,
                   seconds: float, connections: int, warmup: float,
                   errors: list[str]) -> Result:
    """Hello with one server process per core: assay processes sharing the port with
    SO_REUSEPORT against nginx with as many workers (and its master)."""
    a_dir, b_dir = tmp / "assay-workers", tmp / "nginx-workers"
    a_dir.mkdir()
    b_dir.mkdir()
    result = Result(f"hello, {workers} processes", workers)
    servers: list[Server | Workers] = []
    try:
        servers.append(start_assay_workers(assay, env, a_dir, workers))
        servers.append(start_nginx(b_dir, workers))
        a, b = servers
        for server in servers:
            server.check()
            wrk(server, ROUTES["hello"], warmup, connections)
        for r in range(rounds):
            result.assay.append(wrk(a, ROUTES["hello"], seconds, connections))
            result.nginx.append(wrk(b, ROUTES["hello"], seconds, connections))
            for name, run in (("assay", result.assay[-1]), ("nginx", result.nginx[-1])):
                if run.errors:
                    errors.append(f"{result.route} round {r + 1} {name}: {run.errors}")
            log(f"http {result.route} round {r + 1}/{rounds}: assay "
                f"{result.assay[-1].rps:.0f} req/s; nginx {result.nginx[-1].rps:.0f} req/s")
    finally:
        for server in servers:
            server.stop()
    return result


def _verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


def rows(res: HttpResult) -> list[list[str]]:
    """The report's table: a header row, then two rows per route."""
    out = [["metric", "assay", "nginx + lua", "ratio", "goal", "meets goal"]]
    for r in res.results:
        rps_ratio, cpu_ratio = r.ratio("rps"), r.ratio("cpu_us")
        if r.workers > 1:  # no goal: shows what one process per core gives
            out.append([f"http {r.route} (req/s)", f"{r.median('assay', 'rps'):.0f}",
                        f"{r.median('nginx', 'rps'):.0f}", f"{rps_ratio:.2f}", "—", "—"])
            out.append([f"http {r.route} CPU (us/req)", f"{r.median('assay', 'cpu_us'):.1f}",
                        f"{r.median('nginx', 'cpu_us'):.1f}", f"{cpu_ratio:.2f}", "—", "—"])
            continue
        out.append([f"http {r.route} (req/s)", f"{r.median('assay', 'rps'):.0f}",
                    f"{r.median('nginx', 'rps'):.0f}", f"{rps_ratio:.2f}", ">= 1.00",
                    _verdict(rps_ratio >= 1.0)])
        out.append([f"http {r.route} CPU (us/req)", f"{r.median('assay', 'cpu_us'):.1f}",
                    f"{r.median('nginx', 'cpu_us'):.1f}", f"{cpu_ratio:.2f}", "<= 1.10",
                    _verdict(cpu_ratio <= 1.1)])
        for name, runs in r.peers.items():  # the peer's numbers in the peer column
            peer_rps = statistics.median(run.rps for run in runs)
            peer_cpu = statistics.median(run.cpu_us for run in runs)
            out.append([f"http {r.route} vs {name} (req/s)", f"{r.median('assay', 'rps'):.0f}",
                        f"{peer_rps:.0f}", f"{r.peer_ratio(name, 'rps'):.2f}", "—", "—"])
            out.append([f"http {r.route} vs {name} CPU (us/req)",
                        f"{r.median('assay', 'cpu_us'):.1f}", f"{peer_cpu:.1f}",
                        f"{r.peer_ratio(name, 'cpu_us'):.2f}", "—", "—"])
    return out


def notes(res: HttpResult) -> list[str]:
    lines = [
        f"HTTP: wrk -t1 -c{res.connections} -d{res.seconds:g}s on 127.0.0.1, {res.rounds} "
        f"round(s) per route, alternating assay/nginx after a warm-up; req/s and CPU are "
        f"medians, ratios the median of per-round ratios (assay / nginx).",
        "CPU/request: the server process's utime+stime (all threads, /proc/<pid>/stat, "
        f"{1000 // CLK_TCK} ms ticks) over the run / requests completed. Server CPU use "
        "(CPU s per wall s): " + ", ".join(
            f"{r.route} assay {r.median('assay', 'cpu_share'):.2f} nginx "
            f"{r.median('nginx', 'cpu_share'):.2f}" for r in res.results) + ".",
        f"nginx: {res.nginx_version}, {res.lua_module_version}, 1 worker, master_process off, "
        "access_log off, keepalive_requests 1000000; wrk: " + res.wrk_version.split(" Copyright")[0]
        + ".",
    ]
    if res.peer_versions:
        lines.append("Other peers (no goal; their numbers in the nginx + lua column, ratio = "
                     "assay / peer): " + ", ".join(f"{name} ({version})" for name, version
                                                   in res.peer_versions.items())
                     + "; one process each, measured in the same alternation.")
    for why in res.peers_missing:
        lines.append(f"Peer not measured: {why}")
    lines.append("Multi-core rows: one assay process per core sharing the port "
                 "(reuse_port = true, SO_REUSEPORT) against nginx with as many workers and its "
                 "master; CPU summed over every process. wrk itself takes most of a core here.")
    if res.errors:
        lines.append("ERRORS during the HTTP runs: " + " | ".join(res.errors))
    else:
        lines.append("No socket errors and no non-2xx responses in any HTTP run.")
    return lines


def main() -> int:
    import argparse

    from bench import find_assay, table  # the suite's own helpers

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds of 2 s")
    args = parser.parse_args()
    try:
        res = bench(find_assay(), rounds=2 if args.quick else 3,
                    seconds=2 if args.quick else 5)
    except BenchError as e:
        print(f"bench: error: {e}", file=sys.stderr)
        return 2
    print(f"assay:   {res.assay_version}")
    print(table(rows(res)))
    for line in notes(res):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
