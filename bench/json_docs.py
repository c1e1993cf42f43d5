"""The JSON documents of the benchmark, generated deterministically (fixed seeds, same bytes on
every machine and under every Python hash seed). Standard library only."""

from __future__ import annotations

import json
import random


# Strings that exercise the escape and UTF-8 paths of both parsers and encoders.
_TRICKY = [
    'line one\nline two\ttabbed',
    'say "hello" to C:\\path\\to\\file',
    'café, naïve, Zürich',
    'Ελληνικά και русский текст',
    '日本語のテキスト',
    'emoji 🚀 and ✓ checks',
    'bell\u0007 and null-ish \u0001 control',
    'url https://example.com/a/b?c=d&e=f',
]


def generate_document(target_bytes: int, seed: int = 20261122) -> bytes:
    """A deterministic, compact JSON array of "k8s-like" objects, about target_bytes long.

    Objects, arrays, strings (some with escapes, some non-ASCII), integers, floats, booleans
    and nulls, nested at most six levels (counting the top array as one):
    list > item > spec > containers > container > {limits, env, ports}.
    Same seed, same bytes: the document does not depend on the machine or Python's hash seed.
    """
    rng = random.Random(seed)
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
             "india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa"]

    def name() -> str:
        return f"{rng.choice(words)}-{rng.choice(words)}-{rng.randrange(100000):05d}"

    def container(app: str, c: int) -> dict:
        return {
            "name": f"{app}-c{c}",
            "image": f"registry.example.com/{rng.choice(words)}/{app}:"
                     f"{rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 99)}",
            "ports": [rng.choice([80, 443, 8080, 9090]) for _ in range(rng.randint(0, 3))],
            "limits": {"cpu": f"{rng.randint(1, 8) * 250}m",
                       "memory": f"{rng.randint(1, 16) * 128}Mi"},
            "requestCpu": rng.uniform(0.05, 2.0),
            "requestMemoryBytes": rng.randint(1, 1 << 34),
            "env": {f"VAR_{k}": rng.choice(_TRICKY) if k == 0 else name()
                    for k in range(rng.randint(1, 4))},
            "privileged": rng.random() < 0.1,
            "command": None,
        }

    def item(i: int) -> dict:
        app = name()
        return {
            "apiVersion": "apps/v1",
            "kind": rng.choice(["Deployment", "StatefulSet", "DaemonSet"]),
            "metadata": {
                "name": app,
                "namespace": rng.choice(["default", "kube-system", "prod", "staging"]),
                "uid": "%08x-%04x-%04x-%04x-%012x" % (rng.getrandbits(32), rng.getrandbits(16),
                                                      rng.getrandbits(16), rng.getrandbits(16),
                                                      rng.getrandbits(48)),
                "resourceVersion": rng.randint(1, 10**9),
                "generation": i,
                "labels": {"app": app, "tier": rng.choice(["web", "db", "cache"]),
                           "release": f"r{rng.randint(1, 500)}"},
                "annotations": {"description": rng.choice(_TRICKY),
                                "checksum": "%032x" % rng.getrandbits(128)},
                "creationTimestamp": "2026-%02d-%02dT%02d:%02d:%02dZ" % (
                    rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23),
                    rng.randint(0, 59), rng.randint(0, 59)),
                "deletionTimestamp": None,
            },
            "spec": {
                "replicas": rng.randint(0, 12),
                "paused": rng.random() < 0.05,
                "selector": {"app": app},
                "containers": [container(app, c) for c in range(rng.randint(1, 3))],
                "nodeSelector": None if rng.random() < 0.5 else {"disk": "ssd"},
            },
            "status": {
                "ready": rng.random() < 0.9,
                "availableReplicas": rng.randint(0, 12),
                "cpuUsage": round(rng.uniform(0, 100), 6),
                "latencyMs": [round(rng.expovariate(0.05), 3) for _ in range(5)],
                "conditions": [{"type": t, "status": rng.choice([True, False]),
                                "lastProbe": None, "reason": rng.choice(_TRICKY)}
                               for t in ("Available", "Progressing")],
            },
        }

    # Compact separators, as APIs and encoders emit; ensure_ascii=False keeps non-ASCII as raw
    # UTF-8 (as in real documents) while quotes, backslashes and control characters are escaped.
    def dump(value) -> bytes:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()

    items, size = [], 2  # the enclosing "[]"
    while size < target_bytes and len(items) < 1_000_000:  # bounded
        obj = item(len(items))
        items.append(obj)
        size += len(dump(obj)) + 1
    return dump(items)


def generate_records(count: int = 20_000, seed: int = 20261206) -> bytes:
    """A compact JSON array of `count` small flat records of 7 short fields each, e.g.
    {"id":123,"name":"web-7","ns":"prod","ready":true,"cpu":0.25,"node":"n-3","phase":"Running"}:
    the shape of a list API's rows or log lines, where per-record costs (table creation, key
    strings) dominate, not long strings. Integers, floats, booleans and short strings."""
    rng = random.Random(seed)
    apps = ["web", "api", "db", "cache", "worker", "queue", "auth", "proxy"]
    namespaces = ["prod", "staging", "dev", "kube-system"]
    phases = ["Running", "Pending", "Succeeded", "Failed"]
    records = [
        {
            "id": i,
            "name": f"{rng.choice(apps)}-{rng.randrange(100)}",
            "ns": rng.choice(namespaces),
            "ready": rng.random() < 0.8,
            "cpu": rng.randrange(1, 4000) / 1000,
            "node": f"n-{rng.randrange(50)}",
            "phase": rng.choice(phases),
        }
        for i in range(count)
    ]
    return json.dumps(records, separators=(",", ":")).encode()
