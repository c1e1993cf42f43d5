#!/usr/bin/env python3
"""Print, as a Markdown table, every scalar where yaml.v2 and PyYAML disagree.

Compares scalars.tsv (yaml.v2 decoding into interface{}) with pyyaml.tsv
(yaml.safe_load). Go's int/int64/uint64 count as Python's int, float64 as
float, nil as NoneType, string as str; two answers agree when those types
match and the printed values are equal. A scalar whose values agree but whose
resolved tags differ (e.g. a date only one side recognizes, both giving a
string) is listed too.

Usage: python3 compare.py [scalars.tsv] [pyyaml.tsv]
"""
import sys

GO_TO_PY = {
    "int": "int", "int64": "int", "uint64": "int", "float64": "float",
    "bool": "bool", "nil": "NoneType", "string": "str",
    "time.Time": "datetime", "error": "error",
}


def read(path):
    with open(path, encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if lines and lines[0].startswith("#"):
        lines.pop(0)  # the comment line naming versions
    header = lines.pop(0).split("\t")
    return [dict(zip(header, l.split("\t"))) for l in lines]


def cell(s):
    return "`" + s + "`" if s else "(empty)"


def main():
    go_path = sys.argv[1] if len(sys.argv) > 1 else "scalars.tsv"
    py_path = sys.argv[2] if len(sys.argv) > 2 else "pyyaml.tsv"
    go, py = read(go_path), read(py_path)
    if [r["scalar"] for r in go] != [r["scalar"] for r in py]:
        sys.exit("the two files do not list the same scalars")
    print("| scalar | yaml.v2 (interface{}) | yaml.v2 tag | PyYAML (safe_load) | PyYAML tag |")
    print("| --- | --- | --- | --- | --- |")
    n = 0
    for g, p in zip(go, py):
        gt = GO_TO_PY.get(g["go_type"], g["go_type"])
        same_tag = g["tag"] == p["tag"]
        if gt == p["py_type"] and g["go_value"] == p["py_value"] and same_tag:
            continue
        if gt == "error" and p["py_type"] == "error":
            continue  # both refuse the document
        n += 1
        gv = g["go_type"] + " " + g["go_value"] if gt != "error" else g["go_value"]
        pv = p["py_type"] + " " + p["py_value"] if p["py_type"] != "error" else p["py_value"]
        print("| %s | %s | %s | %s | %s |" % (
            cell(g["scalar"]), cell(gv), g["tag"], cell(pv), p["tag"]))
    print()
    print("%d of %d scalars disagree." % (n, len(go)))


if __name__ == "__main__":
    main()
