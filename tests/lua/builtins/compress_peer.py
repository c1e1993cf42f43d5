"""Python's side of compress_peers.lua. In a folder of payloads (`N.bin`) and Assay's output
for each (`N.lua.gz`, `N.lua.zlib`, `N.lua.raw`), checks that Python's gzip/zlib decode Assay's
output to the payload, and writes its own (`N.py.gz` at several levels, `N.py.zlib`, `N.py.raw`,
`N.py.multi.gz`: the payload's two halves as two gzip members) for Assay to decode.
Prints a JSON list of disagreements (empty when all agree)."""
import gzip
import json
import os
import sys
import zlib

folder = sys.argv[1]
wrong = []
names = sorted(f[:-4] for f in os.listdir(folder) if f.endswith(".bin"))
for name in names:
    path = lambda suffix: os.path.join(folder, name + suffix)
    payload = open(path(".bin"), "rb").read()
    readers = {".lua.gz": gzip.decompress, ".lua.zlib": zlib.decompress,
               ".lua.raw": lambda b: zlib.decompress(b, wbits=-15)}
    for suffix, read in readers.items():
        for level_file in sorted(f for f in os.listdir(folder) if f.startswith(name + suffix)):
            try:
                got = read(open(os.path.join(folder, level_file), "rb").read())
                if got != payload:
                    wrong.append(f"{level_file}: Python decoded {len(got)} bytes, not the payload")
            except Exception as e:  # a decoding error is a disagreement to report
                wrong.append(f"{level_file}: Python refused it: {e!r}")
    for level in (0, 1, 6, 9):
        open(path(f".py.{level}.gz"), "wb").write(gzip.compress(payload, compresslevel=level, mtime=0))
        open(path(f".py.{level}.zlib"), "wb").write(zlib.compress(payload, level))
        raw = zlib.compressobj(level, zlib.DEFLATED, -15)
        open(path(f".py.{level}.raw"), "wb").write(raw.compress(payload) + raw.flush())
    half = len(payload) // 2
    open(path(".py.multi.gz"), "wb").write(gzip.compress(payload[:half]) + gzip.compress(payload[half:]))
json.dump(wrong, sys.stdout)
