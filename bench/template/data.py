"""The benchmark page's variables: 500 rows, fixed (the same bytes for both renderers)."""
import json


def variables():
    rows = []
    for i in range(500):
        rows.append({"name": f"item number {i}", "owner": None if i % 7 == 0 else f"owner-{i % 13}",
                     "price": (i * 37 % 1000) / 7, "qty": i % 23, "tags": [f"t{i % 5}", f"g{i % 3}"]})
    return {"title": "inventory report", "section": 3, "meta": {f"m{i}": f"value {i}" for i in range(5)},
            "rows": rows, "notes": [f"note text {i}" for i in range(10)],
            "user": {"email": "ada@example.com", "name": "Ada"}, "footer": "<em>generated</em>"}


if __name__ == "__main__":
    print(json.dumps(variables(), sort_keys=True))
