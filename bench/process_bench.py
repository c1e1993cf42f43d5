"""process rows of the benchmark: programs started per second, assay against Python.

assay: `process.run({"true"})` in a loop (the whole round trip: spawn, wait, read the empty
output, build the result table). Python: `subprocess.run(["true"], capture_output=True)` in
a loop, the same work. Each side runs for a fixed time per round; rounds alternate (assay,
Python, ...); spawns/s are medians, the ratio is the median of per-round ratios.

Used by bench.py (standard library only).
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from local_server import BenchError

CHILD_TIMEOUT_S = 120
_RESULT = re.compile(r"^RESULT (\d+) ([\d.]+)$", re.M)

ASSAY_LOOP = """
local seconds = tonumber(arg[1])
local n, started = 0, time.monotonic()
while time.monotonic() - started < seconds do
  local r = process.run({"true"})
  if not r.ok then error("true failed") end
  n = n + 1
end
print(string.format("RESULT %d %.6f", n, time.monotonic() - started))
"""

PYTHON_LOOP = """
import subprocess, sys, time
seconds = float(sys.argv[1])
n, started = 0, time.monotonic()
while time.monotonic() - started < seconds:
    r = subprocess.run(["true"], capture_output=True)
    if r.returncode != 0:
        raise SystemExit("true failed")
    n += 1
print("RESULT %d %.6f" % (n, time.monotonic() - started))
"""


@dataclass
class ProcessResult:
    assay_per_s: float
    python_per_s: float
    ratio: float
    rounds: int
    seconds: float

    def rows(self) -> list[list[str]]:
        return [
            ["metric", "assay", "Python", "ratio", "goal", "meets goal"],
            ["process.run({\"true\"}) (spawns/s)", f"{self.assay_per_s:.0f}",
             f"{self.python_per_s:.0f}", f"{self.ratio:.2f}", ">= 1.00",
             "yes" if self.ratio >= 1.0 else "NO"],
        ]

    def notes(self) -> list[str]:
        return [f"process: {self.rounds} round(s) of {self.seconds:g} s each, alternating; "
                f"Python {sys.version.split()[0]} subprocess.run(capture_output=True); "
                f"spawns/s medians, ratio the median of per-round ratios (assay / Python)."]


def _rate(argv: list[str]) -> float:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
    found = _RESULT.search(done.stdout)
    if done.returncode != 0 or not found:
        raise BenchError(f"{argv[0]} process loop failed (exit {done.returncode}): "
                         f"{done.stderr.strip()[-500:]}")
    return int(found.group(1)) / float(found.group(2))


def bench_process(assay: Path, rounds: int, seconds: float, log) -> ProcessResult:
    assay_rates, python_rates, ratios = [], [], []
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="assay-bench-process-")
    script.write(ASSAY_LOOP)
    script.flush()
    for i in range(rounds):
        a = _rate([str(assay), script.name, str(seconds)])
        p = _rate([sys.executable, "-c", PYTHON_LOOP, str(seconds)])
        assay_rates.append(a)
        python_rates.append(p)
        ratios.append(a / p)
        log(f"  process round {i + 1}: assay {a:.0f}/s, Python {p:.0f}/s")
    return ProcessResult(statistics.median(assay_rates), statistics.median(python_rates),
                         statistics.median(ratios), rounds, seconds)
