"""stdlib rows of the benchmark: what `require("assay.<name>")` costs, per package.

Each package is required in a fresh `assay` process (its first require: the manifest's checks,
reading and compiling `init.lua`, running it), 15 times; the time is the median. The http
plugin is loaded first (`http.client` touched): a package's `requires_builtins` check would
otherwise include loading the plugin's library, which the script pays once at its first HTTP
call either way. Goal (issue 17): under 1 ms per package.

`python3 bench/stdlib_bench.py [--quick]` runs these rows alone.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from local_server import BenchError

REPO = Path(__file__).resolve().parent.parent
GOAL_MS = 1.0
SCRIPT = """
local _ = http.client
local t = time.monotonic()
require("assay." .. env.get("BENCH_PACKAGE"))
io.write(string.format("%.9f", time.monotonic() - t))
"""


@dataclass
class StdlibResult:
    times_ms: dict[str, float]
    runs: int

    def rows(self) -> list[list[str]]:
        out = [["require (ms, first in a process)", "assay", "goal", "meets goal"]]
        for name, ms in self.times_ms.items():
            out.append([f"assay.{name}", f"{ms:.2f}", f"< {GOAL_MS:.1f}",
                        "yes" if ms < GOAL_MS else "NO"])
        return out

    def notes(self) -> list[str]:
        return [f"stdlib: each package required in a fresh process, {self.runs} runs, median; "
                f"the http plugin loaded before the clock starts (openbao includes vault, which "
                f"it depends on)."]


def bench_stdlib(assay: Path, plugin_lib: Path, runs: int, log) -> StdlibResult:
    stdlib = REPO / "stdlib"
    env = dict(os.environ, ASSAY_LIB_PATH=f"{stdlib}:{plugin_lib}")
    names = sorted(p.name for p in stdlib.iterdir() if (p / "manifest.yaml").is_file())
    times = {}
    for name in names:
        log(f"  stdlib: require assay.{name}")
        samples = []
        for _ in range(runs):
            done = subprocess.run([str(assay), "-e", SCRIPT], capture_output=True, text=True,
                                  timeout=60, env=dict(env, BENCH_PACKAGE=name))
            if done.returncode != 0:
                raise BenchError(f"require assay.{name} failed: {done.stderr.strip()[-300:]}")
            samples.append(float(done.stdout) * 1000)
        times[name] = statistics.median(samples)
    return StdlibResult(times, runs)


def main() -> int:
    import standalone

    return standalone.run(__doc__, lambda assay, lib, python, quick, log: bench_stdlib(
        assay, lib, 5 if quick else 15, log))


if __name__ == "__main__":
    sys.exit(main())
