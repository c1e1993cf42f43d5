"""Python's answers for url_python.lua: reads the corpus (one hex-encoded string a line) and
the handwritten URLs (after a line "--urls"), writes JSON whose strings are hex-encoded bytes.
Everything comes from urllib.parse, with latin-1 where it wants text, so any byte survives."""
import json
import sys
from urllib.parse import parse_qs, quote_from_bytes, unquote_to_bytes, urlencode, urlsplit


def h(b):
    return b.hex()


def qs(text):
    """parse_qs as bytes: {hex key: [hex values]}."""
    parsed = parse_qs(text.decode("latin-1"), keep_blank_values=True, encoding="latin-1")
    return {h(k.encode("latin-1")): [h(v.encode("latin-1")) for v in vs] for k, vs in parsed.items()}


def parse(url):
    p = urlsplit(url.decode("latin-1"))
    def raw(s):
        return None if s is None else h(unquote_to_bytes(s.encode("latin-1")))
    fields = {
        "scheme": h(p.scheme.encode()),
        "user": raw(p.username),
        "password": raw(p.password),
        "host": h((p.hostname or "").encode("latin-1")),
        "port": p.port,
        "path": h(p.path.encode("latin-1")),
        "query": qs(p.query.encode("latin-1")),
        "fragment": h(p.fragment.encode("latin-1")),
    }
    return {k: v for k, v in fields.items() if v is not None}  # JSON null would be json.null


lines = open(sys.argv[1]).read().split("\n")
split = lines.index("--urls")
corpus = [bytes.fromhex(line) for line in lines[:split]]
urls = [bytes.fromhex(line) for line in lines[split + 1:] if line]
out = {"corpus": [], "urls": [parse(u) for u in urls]}
for s in corpus:
    encoded = quote_from_bytes(s, safe="").encode()
    out["corpus"].append({
        "encode": h(encoded),
        "decode": h(unquote_to_bytes(s)),
        "query_value": h(urlencode([(b"k", s)], doseq=True).encode()),
        "query_list": h(urlencode([(s, [s, b"x"])], doseq=True).encode()),
        "query_decode": qs(s),
        "url": parse(b"https://" + encoded + b":" + encoded + b"@Host.Example:8080/p/" + encoded
                     + b"?k=" + encoded + b"&" + encoded + b"=v#" + encoded),
    })
json.dump(out, sys.stdout)
