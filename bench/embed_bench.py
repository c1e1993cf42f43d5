"""Embedded VMs: the rows of `bench/embed` (a Rust program, workspace member
`assay-bench-embed`) that builds 1,000 sandboxed VMs in one process, runs a 5-line check in
each and keeps them all alive. Standard library only; `python3 bench/embed_bench.py` runs it
alone."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TARGET_DIR = Path.home() / ".cache" / "assay-target"
TIMEOUT_S = 300
GOAL_US = 100.0
GOAL_KB = 64.0


class BenchError(Exception):
    pass


@dataclass
class EmbedResult:
    median_us: float  # median over runs of each run's median build + check time
    p99_us: float
    rss_kb: float  # resident set growth per idle VM
    lua_kb: float  # Lua's own heap per idle VM
    runs: int
    count: int

    def rows(self) -> list[list[str]]:
        return [
            ["metric", "assay", "goal", "meets goal"],
            ["sandboxed VM, build + check (us)", f"{self.median_us:.1f}", f"<= {GOAL_US:.0f}",
             "yes" if self.median_us <= GOAL_US else "NO"],
            ["idle VM, resident memory (KB)", f"{self.rss_kb:.1f}", f"<= {GOAL_KB:.0f}",
             "yes" if self.rss_kb <= GOAL_KB else "NO"],
        ]

    def notes(self) -> list[str]:
        return [f"{self.count} VMs per run, {self.runs} run(s), medians; p99 of build + check "
                f"{self.p99_us:.1f} us; Lua's own heap {self.lua_kb:.1f} KB per idle VM."]


def find_embed_bench() -> Path:
    """The built `assay-bench-embed` (next to the assay binary of the target dir), else build it."""
    target_dir = Path(os.environ.get("CARGO_TARGET_DIR") or DEFAULT_TARGET_DIR)
    built = target_dir / "release" / "assay-bench-embed"
    if os.access(built, os.X_OK):
        return built
    env = dict(os.environ, CARGO_TARGET_DIR=str(target_dir))
    result = subprocess.run(["cargo", "build", "--release", "-p", "assay-bench-embed"],
                            cwd=REPO_ROOT, env=env, check=False)
    if result.returncode != 0 or not os.access(built, os.X_OK):
        raise BenchError("`cargo build --release -p assay-bench-embed` failed")
    return built


def bench_embed(runs: int, count: int = 1000, log=lambda _m: None) -> EmbedResult:
    binary = find_embed_bench()
    results = []
    for r in range(runs):
        try:
            out = subprocess.run([str(binary), "--count", str(count)], capture_output=True,
                                 text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired as e:
            raise BenchError(f"{binary} did not finish within {TIMEOUT_S}s") from e
        line = next((l for l in out.stdout.splitlines() if l.startswith("RESULT ")), None)
        if out.returncode != 0 or line is None:
            raise BenchError(f"{binary} failed (status {out.returncode}):\n{out.stderr}")
        results.append(dict(f.split("=", 1) for f in line.split()[1:]))
        log(f"embedded VMs run {r + 1}/{runs}: {out.stderr.strip()}")

    def med(key: str) -> float:
        return statistics.median(float(result[key]) for result in results)

    return EmbedResult(median_us=med("median_us"), p99_us=med("p99_us"),
                       rss_kb=med("rss_kb_per_vm"), lua_kb=med("lua_kb_per_vm"),
                       runs=runs, count=count)


if __name__ == "__main__":
    quick = "--quick" in sys.argv[1:]
    result = bench_embed(1 if quick else 5, log=lambda m: print(m, file=sys.stderr))
    rows = result.rows()
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join([row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]))
    for line in result.notes():
        print(line)
