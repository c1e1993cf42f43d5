"""Reads back what the template plugin's `to_yaml` wrote (argv[2]) with PyYAML (a YAML 1.1
reader, the strictest about plain scalars) and compares it with the data it came from (the
JSON at argv[1]). Prints each difference; exits 1 if there is one."""

import json
import math
import sys

import yaml


def same(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and \
            type(a) is type(b) and (a == b or (math.isnan(a) and math.isnan(b)))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


data = json.load(open(sys.argv[1]))
text = open(sys.argv[2], encoding="utf-8").read()
back = yaml.safe_load(text)
bad = 0
for key in data:
    items = data[key]
    got = back.get(key) if isinstance(back, dict) else None
    if isinstance(items, list) and isinstance(got, list) and len(items) == len(got):
        for want, have in zip(items, got):
            if not same(want, have):
                bad += 1
                print(f"{key}: {want!r:.80} came back as {have!r:.80}")
    elif isinstance(items, dict) and isinstance(got, dict):
        for k in items:
            if k not in got or not same(items[k], got[k]):
                bad += 1
                print(f"{key}[{k!r:.60}]: {items[k]!r:.60} came back as {got.get(k, '<missing>')!r:.60}")
    elif not same(items, got):
        bad += 1
        print(f"{key}: {items!r:.80} came back as {got!r:.80}")
sys.exit(1 if bad else 0)
