"""Running one benchmark module alone (`python3 bench/<name>_bench.py [--quick]`): the assay
binary and plugins `bench/run` would use, the conformance peers' Python, the module's table
and notes on stdout, progress on stderr."""

from __future__ import annotations

import argparse
import sys


def run(doc: str, bench) -> int:
    """`bench(assay, plugin_lib, python, quick, log)` -> a result with `rows()` and `notes()`."""
    from bench import find_assay, find_plugin_lib, table
    from http_client_bench import ensure_python

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one short round")
    args = parser.parse_args()
    assay = find_assay()
    result = bench(assay, find_plugin_lib(assay), ensure_python(), args.quick,
                   lambda m: print(m, file=sys.stderr, flush=True))
    print(table(result.rows()))
    for line in result.notes():
        print(line)
    return 0
