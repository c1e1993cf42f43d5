#!/usr/bin/env python3
"""Assay benchmark suite: start-up time/RSS and JSON throughput, against lua5.4 + lua-cjson;
plugin call overhead; sandboxed VMs embedded in one process (bench/embed); HTTP client
requests/s against Python's requests and aiohttp; process.run spawns/s against
subprocess.run; a 1 GiB download to a file against curl.

Run through `bench/run` (see bench/README.md). Standard library only, Python >= 3.11.

Every measurement alternates the two runtimes (A B A B ...) so that machine noise (frequency
scaling, other processes, cache state) hits both sides equally; medians are reported.
The exit status is 0 whenever the benchmarks ran, whether or not the goals are met: this is a
report, not a test. It is 2 when a prerequisite (the binary, lua5.4, lua-cjson, GNU time) is
missing or a runtime fails.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import http_server  # bench/http_server.py: assay's http.server against nginx + Lua

from http_client_bench import BenchError, bench_http_client, ensure_python
from json_docs import generate_document, generate_records
import embed_bench
import download_bench
import check_bench
import db_bench
import template_bench
import ws_bench
import stdlib_bench
import process_bench
import sizes

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
JSON_SCRIPT = BENCH_DIR / "json_bench.lua"
PLUGIN_CALL_SCRIPT = BENCH_DIR / "plugin_call.lua"
DEFAULT_TARGET_DIR = Path.home() / ".cache" / "assay-target"

# Upper bound on any single child process, so a hung runtime cannot hang the suite.
CHILD_TIMEOUT_S = 600
STARTUP_TIMEOUT_S = 30


def die(message: str) -> NoReturn:
    print(f"bench: error: {message}", file=sys.stderr)
    sys.exit(2)


def log(message: str) -> None:
    """Progress goes to stderr so stdout holds only the report."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Prerequisites
# --------------------------------------------------------------------------------------------


def find_assay() -> Path:
    """$ASSAY_BIN, else dist/bin/assay, else the cargo target dir, else build it."""
    if env := os.environ.get("ASSAY_BIN"):
        path = Path(env)
        if not os.access(path, os.X_OK):
            die(f"ASSAY_BIN={env} is not an executable file")
        return path
    dist = REPO_ROOT / "dist" / "bin" / "assay"
    if os.access(dist, os.X_OK):
        return dist
    target_dir = Path(os.environ.get("CARGO_TARGET_DIR") or DEFAULT_TARGET_DIR)
    built = target_dir / "release" / "assay"
    if os.access(built, os.X_OK):
        return built
    log(f"no assay binary found; building it into {target_dir}")
    env = dict(os.environ, CARGO_TARGET_DIR=str(target_dir))
    result = subprocess.run(
        ["cargo", "build", "--release", "-p", "assay"], cwd=REPO_ROOT, env=env, check=False
    )
    if result.returncode != 0 or not os.access(built, os.X_OK):
        die("`cargo build --release -p assay` failed; set ASSAY_BIN to an assay binary")
    return built


GNU_TIME = Path("/usr/bin/time")


def have_prerequisites() -> bool:
    """lua5.4 with lua-cjson, and GNU time (for peak RSS, see measure_rss)."""
    lua = shutil.which("lua5.4")
    if not lua or not os.access(GNU_TIME, os.X_OK):
        return False
    probe = subprocess.run(
        [lua, "-e", 'require("cjson")'], capture_output=True, timeout=STARTUP_TIMEOUT_S, check=False
    )
    return probe.returncode == 0


def ensure_prerequisites() -> Path:
    """Install lua5.4, lua-cjson and time from Debian when missing; return lua5.4's path.

    `apt-get update` runs only if the first install fails. apt's output goes to stderr so that
    stdout holds only the report.
    """
    if not have_prerequisites():
        packages = ["lua5.4", "lua-cjson", "time"]
        if not shutil.which("apt-get"):
            die(f"{', '.join(packages)} are required, and apt-get is not available")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        install = ["apt-get", "install", "-y", "-q", *packages]
        quiet = {"env": env, "stdout": sys.stderr, "check": False}
        log(f"installing {' '.join(packages)} with apt-get")
        if subprocess.run(install, **quiet).returncode != 0:
            log("apt-get install failed; running apt-get update and retrying once")
            subprocess.run(["apt-get", "update", "-q"], **quiet)
            subprocess.run(install, **quiet)
        if not have_prerequisites():
            die(f"still missing after apt-get: run `apt-get install -y {' '.join(packages)}`")
    return Path(shutil.which("lua5.4") or "lua5.4")


def first_line(cmd: list[str]) -> str:
    """First line of a command's output (stdout or stderr), for the version lines."""
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=STARTUP_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else "?"


def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies over all CPUs since boot, from /proc/stat."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def cpu_busy_since(start: tuple[int, int]) -> str:
    """Share of all CPUs that was busy since `start`, the benchmark itself included.

    A busy machine makes every number here noisier: the benchmark keeps about one CPU busy, so
    on an otherwise idle machine this is about 1/nproc; much more means something else ran.
    """
    busy, total = (now - then for now, then in zip(cpu_times(), start))
    return f"{100 * busy / total:.0f}%" if total > 0 else "?"


def machine_line() -> str:
    nproc = len(os.sched_getaffinity(0))
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{nproc} CPUs (nproc), {model}"


# --------------------------------------------------------------------------------------------
# Start-up
# --------------------------------------------------------------------------------------------


class _ChildTimeout(Exception):
    pass


def _on_alarm(_signum, _frame):
    raise _ChildTimeout


def timed_spawn(argv: list[str]) -> float:
    """Run argv with stdout/stderr on /dev/null; return its wall time in seconds.

    posix_spawn (vfork-style in glibc) keeps the launcher's own overhead small and equal for
    both runtimes. (Peak RSS is measured separately: see measure_rss.)
    """
    actions = [
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
    ]
    start = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
    signal.alarm(STARTUP_TIMEOUT_S)
    try:
        _, status = os.waitpid(pid, 0)
    except _ChildTimeout:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        die(f"{argv[0]} did not finish within {STARTUP_TIMEOUT_S}s")
    finally:
        signal.alarm(0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        die(f"{' '.join(argv)} exited with status {os.waitstatus_to_exitcode(status)}")
    return elapsed


def measure_rss(argv: list[str]) -> int:
    """Peak RSS (KiB) of argv, as reported by GNU time's wait4 (`%M`).

    Why not os.wait4 from here: Linux folds the RSS of the image a process had *before* exec
    into its ru_maxrss (exec records the old mm's high-water mark in the process's maxrss).
    A child spawned by Python starts as a copy of (or, with vfork, shares) this ~10-15 MiB
    Python process, so its ru_maxrss is Python's size, not the runtime's: both runtimes would
    read the same ~14 MiB. GNU time is a small C program that forks and execs the runtime and
    reads the same wait4 rusage; its own pre-exec footprint is a few hundred KiB, well below
    either runtime's, so the maximum is the runtime's own peak.
    """
    cmd = [str(GNU_TIME), "-f", "RSS_KIB=%M", *argv]
    out = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                         timeout=STARTUP_TIMEOUT_S, check=False)
    match = re.search(r"^RSS_KIB=(\d+)$", out.stderr, re.M)
    if out.returncode != 0 or not match:
        die(f"{' '.join(cmd)} failed (status {out.returncode}): {out.stderr.strip()}")
    return int(match.group(1))


@dataclass
class Startup:
    a_ms: float  # median wall time, milliseconds
    b_ms: float
    a_rss_mib: float  # median peak RSS, MiB
    b_rss_mib: float
    runs: int


def bench_startup(assay: Path, lua: Path, runs: int, warmups: int,
                  plugin_root: Path) -> Startup:
    """`print("hi")` with every plugin installed on assay's lib path (what users have)."""
    old = os.environ.get("ASSAY_LIB_PATH")
    os.environ["ASSAY_LIB_PATH"] = str(plugin_root)
    try:
        return _bench_startup(assay, lua, runs, warmups)
    finally:
        if old is None:
            del os.environ["ASSAY_LIB_PATH"]
        else:
            os.environ["ASSAY_LIB_PATH"] = old


def _bench_startup(assay: Path, lua: Path, runs: int, warmups: int) -> Startup:
    a_argv = [str(assay), "-e", 'print("hi")']
    b_argv = [str(lua), "-e", 'print("hi")']
    # Check once, with output captured, that both really print "hi".
    for argv in (a_argv, b_argv):
        out = subprocess.run(argv, capture_output=True, text=True, timeout=STARTUP_TIMEOUT_S)
        if out.returncode != 0 or out.stdout != "hi\n":
            die(f"{argv[0]} -e 'print(\"hi\")' printed {out.stdout!r} (status {out.returncode})")

    signal.signal(signal.SIGALRM, _on_alarm)
    for _ in range(warmups):
        timed_spawn(a_argv)
        timed_spawn(b_argv)
    a_t, b_t = [], []
    for _ in range(runs):  # wall time, alternating A B A B
        a_t.append(timed_spawn(a_argv))
        b_t.append(timed_spawn(b_argv))
    a_rss, b_rss = [], []
    for _ in range(runs):  # peak RSS, in separate runs (under GNU time), alternating
        a_rss.append(measure_rss(a_argv))
        b_rss.append(measure_rss(b_argv))
    return Startup(
        a_ms=statistics.median(a_t) * 1e3,
        b_ms=statistics.median(b_t) * 1e3,
        a_rss_mib=statistics.median(a_rss) / 1024,
        b_rss_mib=statistics.median(b_rss) / 1024,
        runs=runs,
    )


# --------------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------------

_RESULT = re.compile(r"^RESULT (.*)$", re.M)


def run_json_once(argv: list[str]) -> dict[str, str]:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        die(f"{argv[0]} JSON benchmark did not finish within {CHILD_TIMEOUT_S}s")
    match = _RESULT.search(out.stdout)
    if out.returncode != 0 or not match:
        die(f"{' '.join(argv)} failed (status {out.returncode}):\n{out.stdout}{out.stderr}")
    return dict(field.split("=", 1) for field in match.group(1).split())


@dataclass
class JsonResult:
    a_parse: float  # median MB/s
    b_parse: float
    a_encode: float
    b_encode: float
    a_lib: str
    b_lib: str
    doc_bytes: int
    rounds: int
    detail: list[str]
    parse_ratio: float  # median of the per-round ratios (assay / cjson, same round)
    encode_ratio: float


def bench_json(assay: Path, lua: Path, rounds: int, seconds: float, text: bytes,
               name: str) -> JsonResult:
    with tempfile.TemporaryDirectory(prefix="assay-bench-") as tmp:
        doc = Path(tmp) / "doc.json"
        doc.write_bytes(text)
        log(f"JSON document ({name}): {len(text)} bytes; {rounds} round(s) of >= {seconds}s phases")
        # assay runs with its defaults, the 64 MiB memory limit included: that is what users
        # get, and the limit has a cost of its own (see core/src/builtins/codec/mod.rs).
        a_argv = [str(assay), str(JSON_SCRIPT), str(doc), str(seconds)]
        b_argv = [str(lua), str(JSON_SCRIPT), str(doc), str(seconds)]
        a_runs, b_runs = [], []
        for r in range(rounds):  # alternating A B A B
            a_runs.append(run_json_once(a_argv))
            b_runs.append(run_json_once(b_argv))
            log(f"JSON ({name}) round {r + 1}/{rounds}: assay parse {a_runs[-1]['parse_mbps']} "
                f"encode {a_runs[-1]['encode_mbps']} MB/s; cjson parse {b_runs[-1]['parse_mbps']} "
                f"encode {b_runs[-1]['encode_mbps']} MB/s")

    def med(runs: list[dict[str, str]], key: str) -> float:
        return statistics.median(float(run[key]) for run in runs)

    detail = []
    for label, runs in (("assay", a_runs), ("lua5.4", b_runs)):
        last = runs[-1]
        detail.append(f"{label}: {last['lib']}, parse x{last['parse_n']} in {last['parse_s']}s, "
                      f"encode x{last['encode_n']} in {last['encode_s']}s "
                      f"(encoded {last['encoded_bytes']} bytes), last round")
    def paired(key: str) -> float:
        # A and B of one round ran back to back, so a slow spell of this shared machine hits
        # both: the median of per-round ratios is steadier than a ratio of medians.
        return statistics.median(float(a[key]) / float(b[key]) for a, b in zip(a_runs, b_runs))

    return JsonResult(
        parse_ratio=paired("parse_mbps"), encode_ratio=paired("encode_mbps"),
        a_parse=med(a_runs, "parse_mbps"), b_parse=med(b_runs, "parse_mbps"),
        a_encode=med(a_runs, "encode_mbps"), b_encode=med(b_runs, "encode_mbps"),
        a_lib=a_runs[0]["lib"], b_lib=b_runs[0]["lib"].replace("_", " "),
        doc_bytes=int(a_runs[0]["bytes"]), rounds=rounds, detail=detail,
    )


# --------------------------------------------------------------------------------------------
# Plugins
# --------------------------------------------------------------------------------------------


def find_plugin_lib(assay: Path) -> Path:
    """A lib-path root holding the probe plugin and every shipped one: the root cargo's output
    folder doubles as (see assay_sdk::build), built when missing."""
    target_dir = Path(os.environ.get("CARGO_TARGET_DIR") or DEFAULT_TARGET_DIR)
    root = target_dir / "release" / "assay-lib"
    if not (root / "plugins" / "probe" / "manifest.yaml").is_file():
        log(f"building the plugins into {target_dir}")
        env = dict(os.environ, CARGO_TARGET_DIR=str(target_dir))
        packages = ["-p", "assay-plugin-probe"]
        for manifest in sorted((REPO_ROOT / "plugins").glob("*/Cargo.toml")):
            packages += ["-p", f"assay-plugin-{manifest.parent.name}"]
        result = subprocess.run(["cargo", "build", "--release", *packages], cwd=REPO_ROOT,
                                env=env, stdout=sys.stderr, check=False)
        if result.returncode != 0:
            die("building the plugins failed")
    return root


@dataclass
class PluginResult:
    plugin_ns: float  # median ns per call of probe.noop()
    builtin_ns: float  # median ns per call of time.monotonic()
    extra_ns: float  # median of per-round differences
    async_ns: float  # median ns per awaited call of probe.ready() (an async call ready at once)
    rounds: int
    plugins: list[str]
    with_ms: float  # start-up, all plugins installed
    without_ms: float  # start-up, none
    startup_ratio: float
    startup_runs: int


def bench_plugins(assay: Path, rounds: int, seconds: float, startup_runs: int,
                  warmups: int) -> PluginResult:
    root = find_plugin_lib(assay)
    env = dict(os.environ, ASSAY_LIB_PATH=str(root))
    calls = []
    for r in range(rounds):
        try:
            out = subprocess.run([str(assay), str(PLUGIN_CALL_SCRIPT), str(seconds)], env=env,
                                 capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            die("plugin call benchmark timed out")
        match = _RESULT.search(out.stdout)
        if out.returncode != 0 or not match:
            die(f"plugin call benchmark failed (status {out.returncode}):\n{out.stdout}{out.stderr}")
        calls.append(dict(field.split("=", 1) for field in match.group(1).split()))
        log(f"plugin calls round {r + 1}/{rounds}: {calls[-1]}")
    # Start-up with every plugin installed against an empty lib path, alternating.
    plugins = sorted(p.name for p in (root / "plugins").iterdir() if p.is_dir())
    with tempfile.TemporaryDirectory(prefix="assay-bench-empty-") as empty:
        argv = [str(assay), "-e", 'print("hi")']
        with_env = dict(os.environ, ASSAY_LIB_PATH=str(root))
        without_env = dict(os.environ, ASSAY_LIB_PATH=empty)
        old_environ = dict(os.environ)
        with_t, without_t = [], []
        try:
            for i in range(warmups + startup_runs):
                os.environ.clear()
                os.environ.update(with_env)
                a = timed_spawn(argv)
                os.environ.clear()
                os.environ.update(without_env)
                b = timed_spawn(argv)
                if i >= warmups:
                    with_t.append(a)
                    without_t.append(b)
        finally:
            os.environ.clear()
            os.environ.update(old_environ)
    ratios = [a / b for a, b in zip(with_t, without_t)]
    return PluginResult(
        plugin_ns=statistics.median(float(c["plugin_ns"]) for c in calls),
        builtin_ns=statistics.median(float(c["builtin_ns"]) for c in calls),
        extra_ns=statistics.median(float(c["extra_ns"]) for c in calls),
        async_ns=statistics.median(float(c["async_ns"]) for c in calls),
        rounds=rounds, plugins=plugins,
        with_ms=statistics.median(with_t) * 1e3, without_ms=statistics.median(without_t) * 1e3,
        startup_ratio=statistics.median(ratios), startup_runs=startup_runs,
    )


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def table(rows: list[list[str]]) -> str:
    """Plain-text table: first column left-aligned, the others right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]

    def fmt(row: list[str]) -> str:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(rows[0]), rule] + [fmt(r) for r in rows[1:]])


def verdict(ratio: float, goal: float, lower_is_better: bool) -> str:
    ok = ratio <= goal if lower_is_better else ratio >= goal
    return "yes" if ok else "NO"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer runs and shorter phases, for smoke testing")
    args = parser.parse_args()

    if args.quick:
        startup_runs, startup_warmups, json_rounds, json_seconds = 30, 3, 1, 0.2
        http_rounds, http_seconds = 1, 1.0
    else:
        startup_runs, startup_warmups, json_rounds, json_seconds = 200, 10, 9, 0.5
        http_rounds, http_seconds = 3, 2.0
    doc_kb = 2500

    assay = find_assay()
    lua = ensure_prerequisites()
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cpu_at_start = cpu_times()

    log(f"start-up: {startup_warmups} warm-ups, then {startup_runs} runs each, alternating")
    st = bench_startup(assay, lua, startup_runs, startup_warmups, find_plugin_lib(assay))
    js = bench_json(assay, lua, json_rounds, json_seconds,
                    generate_document(doc_kb * 1000), "k8s objects")
    jr = bench_json(assay, lua, json_rounds, json_seconds, generate_records(20_000),
                    "20k records")
    log("plugins: per-call overhead, and start-up with all plugins against none")
    pl = bench_plugins(assay, json_rounds, json_seconds * 2, startup_runs, startup_warmups)
    log("http server: assay against nginx + its Lua module, wrk on loopback, alternating")
    try:
        hs = http_server.bench(assay, rounds=2 if args.quick else 3,
                               seconds=2 if args.quick else 5)
    except http_server.BenchError as e:
        die(str(e))
    log("embedded VMs: 1,000 sandboxed VMs built, checked and kept in one process")
    try:
        em = embed_bench.bench_embed(1 if args.quick else 5, log=log)
    except embed_bench.BenchError as e:
        die(str(e))
    log("HTTP client: requests/s against requests (sequential) and aiohttp (concurrent)")
    try:
        hc = bench_http_client(assay, find_plugin_lib(assay), http_rounds, http_seconds, log)
    except BenchError as e:
        die(str(e))

    log("process: process.run({\"true\"}) against Python's subprocess.run, alternating")
    try:
        pr = process_bench.bench_process(assay, 2 if args.quick else 5,
                                         1.0 if args.quick else 2.0, log)
    except BenchError as e:
        die(str(e))

    log("check mode: 100 http checks and a 1-check file, against Python requests")
    try:
        ck = check_bench.bench_check(assay, find_plugin_lib(assay),
                                     ensure_python(), 2 if args.quick else 5, log)
    except BenchError as e:
        die(str(e))

    log("db: SQLite and PostgreSQL, against Python's sqlite3 and psycopg 3")
    try:
        db = db_bench.bench_db(assay, find_plugin_lib(assay), ensure_python(),
                               1 if args.quick else 5, 20_000 if args.quick else 100_000,
                               1.0 if args.quick else 2.0, log)
    except BenchError as e:
        die(str(e))

    log("template: a 200-line page with 500 rows, against Jinja2")
    try:
        tp = template_bench.bench_template(assay, find_plugin_lib(assay), ensure_python(),
                                           1 if args.quick else 5, 1.0 if args.quick else 2.0,
                                           log)
    except BenchError as e:
        die(str(e))

    log("ws: echo round trips, the ws plugin against Python websockets' client")
    try:
        wsr = ws_bench.bench_ws(assay, find_plugin_lib(assay), ensure_python(),
                                1 if args.quick else 5, 1.0 if args.quick else 2.0, log)
    except BenchError as e:
        die(str(e))

    log("stdlib: require of each package, first in a process")
    try:
        sl = stdlib_bench.bench_stdlib(assay, find_plugin_lib(assay), 5 if args.quick else 15, log)
    except BenchError as e:
        die(str(e))

    log("download: a 1 GiB file to disk, assay's http.get {output} against curl -o")
    try:
        dl = download_bench.bench_download(assay, find_plugin_lib(assay),
                                           1 if args.quick else 3, log)
    except BenchError as e:
        die(str(e))

    startup_ratio = st.a_ms / st.b_ms
    rss_ratio = st.a_rss_mib / st.b_rss_mib
    parse_ratio = js.parse_ratio
    encode_ratio = js.encode_ratio
    rows = [
        ["metric", "assay", "lua5.4 / lua-cjson", "ratio", "goal", "meets goal"],
        ["start-up time (ms)", f"{st.a_ms:.2f}", f"{st.b_ms:.2f}", f"{startup_ratio:.2f}",
         "<= 1.10", verdict(startup_ratio, 1.1, lower_is_better=True)],
        ["start-up peak RSS (MiB)", f"{st.a_rss_mib:.1f}", f"{st.b_rss_mib:.1f}",
         f"{rss_ratio:.2f}", "<= 4.0 MiB", "yes" if st.a_rss_mib <= 4.0 else "NO"],
        ["json.parse (MB/s)", f"{js.a_parse:.1f}", f"{js.b_parse:.1f}", f"{parse_ratio:.2f}",
         ">= 1.00", verdict(parse_ratio, 1.0, lower_is_better=False)],
        ["json.encode (MB/s)", f"{js.a_encode:.1f}", f"{js.b_encode:.1f}",
         f"{encode_ratio:.2f}", ">= 1.00", verdict(encode_ratio, 1.0, lower_is_better=False)],
        ["json.parse, 20k records (MB/s)", f"{jr.a_parse:.1f}", f"{jr.b_parse:.1f}",
         f"{jr.parse_ratio:.2f}", ">= 1.00", verdict(jr.parse_ratio, 1.0, lower_is_better=False)],
        ["json.encode, 20k records (MB/s)", f"{jr.a_encode:.1f}", f"{jr.b_encode:.1f}",
         f"{jr.encode_ratio:.2f}", ">= 1.00",
         verdict(jr.encode_ratio, 1.0, lower_is_better=False)],
    ]

    print(f"Assay benchmarks{' (--quick)' if args.quick else ''}, {now}")
    print(f"machine: {machine_line()}")
    print(f"CPU busy during the run: {cpu_busy_since(cpu_at_start)} of all CPUs "
          f"(the benchmark itself keeps about one busy)")
    print(f"assay:   {first_line([str(assay), '-V'])} ({assay})")
    lua_version = " ".join(first_line([str(lua), "-v"]).split()[:2])  # "Lua 5.4.4"
    print(f"peer:    {lua_version} ({lua}), {js.b_lib}")
    print()
    print(table(rows))
    print()
    print("Sizes:")
    print(table(sizes.rows(assay, find_plugin_lib(assay))))
    print()
    print("Plugins (assay against itself):")
    print(table([
        ["metric", "plugin", "core", "extra / ratio", "goal", "meets goal"],
        ["call overhead (ns/call)", f"{pl.plugin_ns:.0f}", f"{pl.builtin_ns:.0f}",
         f"{pl.extra_ns:+.0f} ns", "<= +150 ns",
         "yes" if pl.extra_ns <= 150 else "NO"],
        ["async call, ready at once (ns/call)", f"{pl.async_ns:.0f}", f"{pl.builtin_ns:.0f}",
         f"{pl.async_ns - pl.builtin_ns:+.0f} ns", "<= 2000 ns",
         "yes" if pl.async_ns <= 2000 else "NO"],
        ["start-up, all plugins vs none (ms)", f"{pl.with_ms:.2f}", f"{pl.without_ms:.2f}",
         f"{pl.startup_ratio:.3f}", "~1.00", "yes" if pl.startup_ratio <= 1.03 else "NO"],
    ]))
    print(f"call: probe.noop() against time.monotonic() (a native core builtin), ns per call "
          f"from os.clock, median of {pl.rounds} run(s); async call: probe.ready(), an async "
          f"plugin function whose future is ready at once, awaited by the script (the whole "
          f"round trip); start-up: -e 'print(\"hi\")' with "
          f"{len(pl.plugins)} plugins on the lib path ({', '.join(pl.plugins)}) against an empty "
          f"one, median of {pl.startup_runs} paired runs (ratio: median of per-pair ratios; "
          f"'no measurable difference' read as within 3%).")
    print()
    print("Embedded VMs (see bench/embed; no peer):")
    print(table(em.rows()))
    for line in em.notes():
        print(line)
    print()
    print("Processes (see bench/process_bench.py):")
    print(table(pr.rows()))
    for line in pr.notes():
        print(line)
    print()
    print("Check mode (see bench/check_bench.py):")
    print(table(ck.rows()))
    for line in ck.notes():
        print(line)
    print()
    print("db plugin (see bench/db_bench.py):")
    print(table(db.rows()))
    for line in db.notes():
        print(line)
    print()
    print("template plugin (see bench/template_bench.py):")
    print(table(tp.rows()))
    for line in tp.notes():
        print(line)
    print()
    print("ws plugin (see bench/ws_bench.py):")
    print(table(wsr.rows()))
    for line in wsr.notes():
        print(line)
    print()
    print("stdlib packages (see bench/stdlib_bench.py):")
    print(table(sl.rows()))
    for line in sl.notes():
        print(line)
    print()
    print("Downloads (see bench/download_bench.py):")
    print(table(dl.rows()))
    for line in dl.notes():
        print(line)
    print()
    print("HTTP client (see bench/http_client_bench.py):")
    print(table(hc.rows()))
    for line in hc.notes():
        print(line)
    print()
    print(f"HTTP server (assay against nginx + its Lua module; assay: {hs.assay_version}):")
    print(table(http_server.rows(hs)))
    for line in http_server.notes(hs):
        print(line)
    print()
    print("ratio = assay / peer. Start-up: wall time, lower is better. JSON: throughput "
          "(CPU time, os.clock), higher is better.")
    print(f"start-up: median of {st.runs} runs each of -e 'print(\"hi\")', alternating, after "
          f"{startup_warmups} warm-ups, assay with every built plugin on its lib path; RSS: "
          f"median of as many runs under GNU time (%M).")
    print(f"JSON: {js.doc_bytes} byte document, {js.rounds} round(s) each, alternating; MB/s are medians, "
          f"ratios the median of per-round ratios; "
          f"each phase >= {json_seconds}s; MB = document bytes / 1e6.")
    for line in js.detail:
        print(f"  {line}")
    print(f"JSON, 20k records: {jr.doc_bytes} byte document of 20,000 flat records "
          f"(7 short fields each), the same way.")
    for line in jr.detail:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
