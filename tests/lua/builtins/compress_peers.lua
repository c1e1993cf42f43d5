-- compress against its peers: gzip and zlib (and raw deflate) both ways with Python's gzip
-- and zlib modules, zstd both ways with the zstd CLI (Debian package zstd, installed by
-- scripts/services). A missing peer fails the test; it never skips.

local shell = require("fixtures.shell")
local quote, capture = shell.quote, shell.capture

-- Payloads: empty, tiny, text, every byte, pseudo-random (incompressible), large and repetitive.
math.randomseed(42)
local random = {}
for i = 1, 200000 do random[i] = string.char(math.random(0, 255)) end
local bytes = {}
for b = 0, 255 do bytes[#bytes + 1] = string.char(b) end
local payloads = {
  "", "a", "hello, world\n", table.concat(bytes), table.concat(random),
  ("All work and no play makes Jack a dull boy. "):rep(50000), ("\0"):rep(3 * 1024 * 1024),
  ("日本語 😀 "):rep(1000),
}

local dir = fs.tempdir()
local function file(i, suffix) return ("%s/%d%s"):format(dir, i, suffix) end
for i, payload in ipairs(payloads) do
  fs.write(file(i, ".bin"), payload)
  for _, level in ipairs({0, 1, 6, 9}) do
    fs.write(file(i, ".lua.gz." .. level), compress.gzip(payload, {level = level}))
    fs.write(file(i, ".lua.zlib." .. level), compress.deflate(payload, {level = level}))
    fs.write(file(i, ".lua.raw." .. level), compress.deflate(payload, {level = level, raw = true}))
  end
  fs.write(file(i, ".lua.gz"), compress.gzip(payload))
end

local python = capture("command -v python3 || echo missing-python3"):gsub("%s+$", "")
local wrong = json.parse(capture(("%s compress_peer.py %s"):format(quote(python), quote(dir))))
assert.eq(wrong, {}, "Python's verdict on Assay's gzip/zlib output")
local checked = 0
for i, payload in ipairs(payloads) do
  for _, level in ipairs({0, 1, 6, 9}) do
    assert.eq(compress.gunzip(fs.read(file(i, ".py." .. level .. ".gz"))), payload, i .. " gzip " .. level)
    assert.eq(compress.inflate(fs.read(file(i, ".py." .. level .. ".zlib"))), payload, i .. " zlib " .. level)
    assert.eq(compress.inflate(fs.read(file(i, ".py." .. level .. ".raw")), {raw = true}), payload, i .. " raw " .. level)
    checked = checked + 3
  end
  assert.eq(compress.gunzip(fs.read(file(i, ".py.multi.gz"))), payload, i .. " two gzip members")
  checked = checked + 1
end

-- zstd: the CLI decodes ours (every level), ours decodes the CLI's (several levels, and two
-- frames concatenated as `cat a.zst b.zst` makes them).
assert(capture("command -v zstd || true") ~= "", "the zstd CLI is missing (scripts/services install)")
for i, payload in ipairs(payloads) do
  for _, level in ipairs({1, 3, 9, 19, 22}) do
    local ours = file(i, ".lua.zst")
    fs.write(ours, compress.zstd(payload, {level = level}))
    local back = file(i, ".back")
    capture(("zstd -q -d -f -o %s %s"):format(quote(back), quote(ours)))
    assert.eq(fs.read(back), payload, ("zstd CLI decoding payload %d, level %d"):format(i, level))
    local theirs = file(i, ".cli.zst")
    capture(("zstd -q -f -%d %s %s -o %s"):format(level, level >= 20 and "--ultra" or "",
      quote(file(i, ".bin")), quote(theirs)))
    assert.eq(compress.unzstd(fs.read(theirs)), payload, ("unzstd of CLI level %d, payload %d"):format(level, i))
    checked = checked + 2
  end
  local frames = fs.read(file(i, ".cli.zst")) .. compress.zstd("tail")
  assert.eq(compress.unzstd(frames), payload .. "tail", "two zstd frames")
end
fs.remove(dir, {recursive = true})
print(("compress: %d round trips agree with Python and the zstd CLI"):format(checked))
