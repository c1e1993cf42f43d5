"""db rows of the benchmark: the db plugin against Python's database modules.

SQLite (a file database in a temporary folder, made anew each round): rows inserted per second
inside one transaction (`tx:execute` per row against `con.execute` per row inside `with con:`,
both binding two parameters), then point selects per second by primary key (`query_one`
returning a row table against `execute(...).fetchone()` returning a tuple, each the usual way
of its language). PostgreSQL: `SELECT 1` round trips per second on one connection
(`conn:query_one` against psycopg 3's `execute` + `fetchone`, its binary wheel, default
settings) against the same server: `$ASSAY_TEST_POSTGRES_URL` when set, else one started with
`scripts/db-servers` for the run and stopped after it.

Rounds alternate (assay, Python, ...); rates are medians, ratios the median of per-round
ratios, higher is better. Goal: >= 1.0 on each.

`python3 bench/db_bench.py [--quick]` runs these rows alone.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from local_server import BenchError

CHILD_TIMEOUT_S = 300
REPO = Path(__file__).resolve().parent.parent
_RESULT = re.compile(r"^RESULT (.+)$", re.M)

ASSAY_SQLITE = """
local path, n = arg[1], tonumber(arg[2])
local c = db.connect("sqlite://" .. path)
c:execute("create table t (id integer primary key, name text, n integer)")
local t0 = time.monotonic()
c:transaction(function(tx)
  for i = 1, n do tx:execute("insert into t (name, n) values (?, ?)", {"row" .. i, i}) end
end)
local inserted = time.monotonic() - t0
t0 = time.monotonic()
for i = 1, n do
  if c:query_one("select name, n from t where id = ?", {i}).n ~= i then error("wrong row") end
end
local selected = time.monotonic() - t0
c:close()
print(string.format("RESULT %d %.6f %.6f", n, inserted, selected))
"""

PYTHON_SQLITE = """
import sqlite3, sys, time
path, n = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(path)
c.execute("create table t (id integer primary key, name text, n integer)")
t0 = time.monotonic()
with c:
    for i in range(1, n + 1):
        c.execute("insert into t (name, n) values (?, ?)", ("row" + str(i), i))
inserted = time.monotonic() - t0
t0 = time.monotonic()
for i in range(1, n + 1):
    if c.execute("select name, n from t where id = ?", (i,)).fetchone()[1] != i:
        raise SystemExit("wrong row")
selected = time.monotonic() - t0
c.close()
print("RESULT %d %.6f %.6f" % (n, inserted, selected))
"""

ASSAY_PG = """
local url, seconds = arg[1], tonumber(arg[2])
local c = db.connect(url, {max_connections = 1})
for _ = 1, 100 do c:query_one("select 1 as x") end
local n, started = 0, time.monotonic()
while time.monotonic() - started < seconds do
  for _ = 1, 100 do c:query_one("select 1 as x") end
  n = n + 100
end
print(string.format("RESULT %d %.6f", n, time.monotonic() - started))
"""

PYTHON_PG = """
import sys, time
import psycopg
url, seconds = sys.argv[1], float(sys.argv[2])
with psycopg.connect(url) as c:
    cur = c.cursor()
    for _ in range(100):
        cur.execute("select 1 as x"); cur.fetchone()
    n, started = 0, time.monotonic()
    while time.monotonic() - started < seconds:
        for _ in range(100):
            cur.execute("select 1 as x"); cur.fetchone()
        n += 100
    print("RESULT %d %.6f" % (n, time.monotonic() - started))
"""


@dataclass
class Row:
    label: str
    assay: float
    python: float
    ratio: float


@dataclass
class DbResult:
    rows_: list[Row]
    rounds: int
    sqlite_rows: int
    pg_seconds: float
    python_version: str
    psycopg_version: str

    def rows(self) -> list[list[str]]:
        out = [["metric", "assay", "Python", "ratio", "goal", "meets goal"]]
        for r in self.rows_:
            out.append([r.label, f"{r.assay:.0f}", f"{r.python:.0f}", f"{r.ratio:.2f}",
                        ">= 1.00", "yes" if r.ratio >= 1.0 else "NO"])
        return out

    def notes(self) -> list[str]:
        return [f"db: {self.rounds} round(s), alternating; SQLite: {self.sqlite_rows} rows "
                f"into a new file database per round, then as many point selects (Python "
                f"{self.python_version} sqlite3); PostgreSQL: SELECT 1 for {self.pg_seconds:g} s "
                f"per round on one connection (psycopg {self.psycopg_version}); rates are "
                f"medians, ratios the median of per-round ratios (assay / Python)."]


def _result(argv: list[str], env: dict[str, str] | None = None) -> list[float]:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S,
                          env=env)
    found = _RESULT.search(done.stdout)
    if done.returncode != 0 or not found:
        raise BenchError(f"{argv[0]} db loop failed (exit {done.returncode}): "
                         f"{(done.stderr or done.stdout).strip()[-500:]}")
    return [float(x) for x in found.group(1).split()]


class _Postgres:
    """The server's URL: the caller's, or one started for the run."""

    def __init__(self) -> None:
        self.url = os.environ.get("ASSAY_TEST_POSTGRES_URL", "")
        self.dir: str | None = None

    def __enter__(self) -> str:
        if self.url:
            return self.url
        self.dir = tempfile.mkdtemp(prefix="assay-bench-db.")
        done = subprocess.run([str(REPO / "scripts/db-servers"), "start", self.dir],
                              capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
        found = re.search(r"^ASSAY_TEST_POSTGRES_URL=(.+)$", done.stdout, re.M)
        if done.returncode != 0 or not found:
            self.__exit__()
            raise BenchError(f"scripts/db-servers could not start PostgreSQL: "
                             f"{done.stderr.strip()[-500:]}")
        self.url = found.group(1)
        return self.url

    def __exit__(self, *_: object) -> None:
        if self.dir:
            subprocess.run([str(REPO / "scripts/db-servers"), "stop", self.dir],
                           capture_output=True, timeout=CHILD_TIMEOUT_S)
            self.dir = None


def bench_db(assay: Path, plugin_lib: Path, python: str, rounds: int, sqlite_rows: int,
             pg_seconds: float, log) -> DbResult:
    env = dict(os.environ, ASSAY_LIB_PATH=str(plugin_lib))
    ins: list[tuple[float, float]] = []
    sel: list[tuple[float, float]] = []
    pg: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="assay-bench-db.") as tmp:
        scripts = Path(tmp)
        for name, text in [("sqlite.lua", ASSAY_SQLITE), ("sqlite.py", PYTHON_SQLITE),
                           ("pg.lua", ASSAY_PG), ("pg.py", PYTHON_PG)]:
            (scripts / name).write_text(text)
        for r in range(rounds):
            log(f"  db round {r + 1}/{rounds}: SQLite")
            a = _result([str(assay), str(scripts / "sqlite.lua"), str(scripts / f"a{r}.db"),
                         str(sqlite_rows)], env)
            p = _result([python, str(scripts / "sqlite.py"), str(scripts / f"p{r}.db"),
                         str(sqlite_rows)])
            ins.append((a[0] / a[1], p[0] / p[1]))
            sel.append((a[0] / a[2], p[0] / p[2]))
        with _Postgres() as url:
            for r in range(rounds):
                log(f"  db round {r + 1}/{rounds}: PostgreSQL")
                a = _result([str(assay), str(scripts / "pg.lua"), url, str(pg_seconds)], env)
                p = _result([python, str(scripts / "pg.py"), url, str(pg_seconds)])
                pg.append((a[0] / a[1], p[0] / p[1]))
    psycopg_version = subprocess.run(
        [python, "-c", "import psycopg; print(psycopg.__version__, psycopg.pq.__impl__)"],
        capture_output=True, text=True, timeout=60).stdout.strip()
    python_version = subprocess.run(
        [python, "-c", "import sys; print(sys.version.split()[0])"],
        capture_output=True, text=True, timeout=60).stdout.strip()

    def row(label: str, pairs: list[tuple[float, float]]) -> Row:
        return Row(label, statistics.median(a for a, _ in pairs),
                   statistics.median(p for _, p in pairs),
                   statistics.median(a / p for a, p in pairs))

    return DbResult([row("SQLite insert in one transaction (rows/s)", ins),
                     row("SQLite point select by key (rows/s)", sel),
                     row("PostgreSQL SELECT 1 (round trips/s)", pg)],
                    rounds, sqlite_rows, pg_seconds, python_version, psycopg_version)


def main() -> int:
    import standalone

    return standalone.run(__doc__, lambda assay, lib, python, quick, log: bench_db(
        assay, lib, python, 1 if quick else 5, 20_000 if quick else 100_000,
        1.0 if quick else 2.0, log))


if __name__ == "__main__":
    sys.exit(main())
