"""Check-mode rows of the benchmark: 100 http checks with `parallel: 10` against a Python
requests loop on a pool of 10 threads doing the same 100 checks (hurl, the peer the issue
names, is not packaged for Debian or PyPI), and the start-to-report time of a one-check file
(a Kubernetes Job's whole life) against the same Python doing one request.

nginx (one worker) answers `{"ok":true}` on loopback. Both sides check the status and the JSON
value; wall time of each whole process (start to exit), rounds alternating; medians, the ratio
the median of per-round ratios (assay / Python: lower is better).

Used by bench.py (standard library only; the peer runs in tests/conformance/ensure-python's venv).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from local_server import BenchError, find_nginx, start_nginx

CHECKS = 100
PARALLEL = 10
CHILD_TIMEOUT_S = 120

PYTHON_CHECKS = """
import sys
from concurrent.futures import ThreadPoolExecutor
import requests
url, n, parallel = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
session = requests.Session()
adapter = requests.adapters.HTTPAdapter(pool_connections=parallel, pool_maxsize=parallel)
session.mount("http://", adapter)
def check(i):
    r = session.get(url, timeout=30)
    return r.status_code == 200 and r.json()["ok"] is True
with ThreadPoolExecutor(parallel) as pool:
    results = list(pool.map(check, range(n)))
sys.exit(0 if all(results) else 1)
"""


@dataclass
class CheckResult:
    assay_many_s: float
    python_many_s: float
    many_ratio: float
    assay_one_ms: float
    python_one_ms: float
    one_ratio: float
    rounds: int

    def rows(self) -> list[list[str]]:
        return [
            ["metric", "assay", "Python requests", "ratio", "goal", "meets goal"],
            [f"{CHECKS} http checks, parallel {PARALLEL} (s)", f"{self.assay_many_s:.3f}",
             f"{self.python_many_s:.3f}", f"{self.many_ratio:.2f}", "<= 1.00",
             "yes" if self.many_ratio <= 1.0 else "NO"],
            ["a 1-check file, start to report (ms)", f"{self.assay_one_ms:.1f}",
             f"{self.python_one_ms:.1f}", f"{self.one_ratio:.2f}", "<= 1.00",
             "yes" if self.one_ratio <= 1.0 else "NO"],
        ]

    def notes(self) -> list[str]:
        return [f"check mode: {self.rounds} round(s), alternating, wall time of each process; "
                f"the peer is requests on a {PARALLEL}-thread pool (hurl is not installable "
                f"here); medians, ratio the median of per-round ratios."]


def _timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=CHILD_TIMEOUT_S)
    took = time.monotonic() - started
    if done.returncode != 0:
        raise BenchError(f"{argv[0]} failed (exit {done.returncode}): "
                         f"{(done.stdout + done.stderr).strip()[-600:]}")
    return took


def bench_check(assay: Path, lib_path: Path, python: str, rounds: int, log) -> CheckResult:
    nginx = find_nginx()
    if not nginx:
        raise BenchError("nginx is needed for the check-mode benchmark (apt-get install nginx)")
    with tempfile.TemporaryDirectory(prefix="assay-bench-check-") as tmp_name:
        tmp = Path(tmp_name)
        tmp.chmod(0o755)
        server, port = start_nginx(
            nginx, tmp, "    keepalive_requests 100000;",
            "location / { default_type application/json; return 200 '{\"ok\":true}'; }",
            worker_connections=1024)
        try:
            url = f"http://127.0.0.1:{port}/"
            checks = [f"  - {{name: c{i}, type: http, url: '{url}', "
                      f"expect: {{status: 200, json: {{$.ok: true}}}}}}" for i in range(CHECKS)]
            (tmp / "many.yaml").write_text(f"parallel: {PARALLEL}\nchecks:\n" + "\n".join(checks) + "\n")
            (tmp / "one.yaml").write_text("checks:\n" + checks[0] + "\n")
            env = dict(os.environ, ASSAY_LIB_PATH=str(lib_path))
            many_a, many_p, many_r, one_a, one_p, one_r = [], [], [], [], [], []
            for i in range(rounds):
                a = _timed([str(assay), "check", "many.yaml", "--format", "json"], env, tmp)
                p = _timed([python, "-c", PYTHON_CHECKS, url, str(CHECKS), str(PARALLEL)], env, tmp)
                many_a.append(a)
                many_p.append(p)
                many_r.append(a / p)
                ones_a = [_timed([str(assay), "check", "one.yaml", "--format", "json"], env, tmp)
                          for _ in range(5)]
                ones_p = [_timed([python, "-c", PYTHON_CHECKS, url, "1", "1"], env, tmp)
                          for _ in range(5)]
                oa, op = statistics.median(ones_a) * 1000, statistics.median(ones_p) * 1000
                one_a.append(oa)
                one_p.append(op)
                one_r.append(oa / op)
                log(f"  check round {i + 1}: {CHECKS} checks assay {a:.3f} s, Python {p:.3f} s; "
                    f"one check assay {oa:.1f} ms, Python {op:.1f} ms")
        finally:
            server.terminate()
            server.wait(timeout=10)
    return CheckResult(statistics.median(many_a), statistics.median(many_p),
                       statistics.median(many_r), statistics.median(one_a),
                       statistics.median(one_p), statistics.median(one_r), rounds)
