"""template rows of the benchmark: the template plugin against Jinja2.

`bench/template/page.html`, a 200-line HTML page whose table loops over 500 rows (filters,
conditions, `loop.cycle`, `format`, autoescaping), with the variables of
`bench/template/data.py`; both sides keep a parsed template (assay: `template.env`, Jinja2:
`Environment.get_template`) and render it in a loop for a fixed time per round, after checking
once that both give the same bytes. Rounds alternate; renders/s are medians, the ratio the
median of per-round ratios, higher is better. Goal: >= 3.0.

`python3 bench/template_bench.py [--quick]` runs these rows alone.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from local_server import BenchError

HERE = Path(__file__).resolve().parent / "template"
CHILD_TIMEOUT_S = 300
_RESULT = re.compile(r"^RESULT (\d+) ([\d.]+)$", re.M)


@dataclass
class TemplateResult:
    assay_per_s: float
    python_per_s: float
    ratio: float
    rounds: int
    seconds: float
    jinja_version: str

    def rows(self) -> list[list[str]]:
        return [
            ["metric", "assay", "Jinja2", "ratio", "goal", "meets goal"],
            ["render a 200-line page, 500 rows (renders/s)", f"{self.assay_per_s:.0f}",
             f"{self.python_per_s:.0f}", f"{self.ratio:.2f}", ">= 3.00",
             "yes" if self.ratio >= 3.0 else "NO"],
        ]

    def notes(self) -> list[str]:
        return [f"template: {self.rounds} round(s) of {self.seconds:g} s each, alternating; "
                f"Jinja2 {self.jinja_version}; the outputs were checked equal first; renders/s "
                f"medians, ratio the median of per-round ratios (assay / Jinja2)."]


def _run(argv: list[str], env: dict[str, str] | None = None) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, env=env)
    if done.returncode != 0:
        raise BenchError(f"{argv[0]} failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    return done.stdout


def _rate(argv: list[str], env: dict[str, str] | None = None) -> float:
    found = _RESULT.search(_run(argv, env))
    if not found:
        raise BenchError(f"{argv[0]} printed no RESULT line")
    return int(found.group(1)) / float(found.group(2))


def bench_template(assay: Path, plugin_lib: Path, python: str, rounds: int, seconds: float,
                   log) -> TemplateResult:
    env = dict(os.environ, ASSAY_LIB_PATH=str(plugin_lib))
    with tempfile.TemporaryDirectory(prefix="assay-bench-template.") as tmp:
        vars_path = Path(tmp) / "vars.json"
        vars_path.write_text(_run([python, str(HERE / "data.py")]))
        lua = [str(assay), str(HERE / "render.lua"), str(HERE), str(vars_path)]
        py = [python, str(HERE / "render.py"), str(HERE), str(vars_path)]
        if _run(lua + ["once"], env) != _run(py + ["once"]):
            raise BenchError("assay and Jinja2 render bench/template/page.html differently")
        pairs = []
        for r in range(rounds):
            log(f"  template round {r + 1}/{rounds}")
            pairs.append((_rate(lua + [str(seconds)], env), _rate(py + [str(seconds)])))
    version = _run([python, "-c", "import jinja2; print(jinja2.__version__)"]).strip()
    return TemplateResult(statistics.median(a for a, _ in pairs),
                          statistics.median(p for _, p in pairs),
                          statistics.median(a / p for a, p in pairs), rounds, seconds, version)


def main() -> int:
    import standalone

    return standalone.run(__doc__, lambda assay, lib, python, quick, log: bench_template(
        assay, lib, python, 1 if quick else 5, 1.0 if quick else 2.0, log))


if __name__ == "__main__":
    sys.exit(main())
