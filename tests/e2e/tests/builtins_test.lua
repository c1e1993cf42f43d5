-- Assay's own builtins, as `assay test` runs a project's tests (see tests/test_runner.rs).
describe("time", function()
  test("RFC 3339 round trip", function()
    assert.eq(time.parse(time.iso(784111777)), 784111777.0)
  end)
  test("zones", function()
    assert.eq(time.iso(0, {tz = "Europe/Berlin"}), "1970-01-01T01:00:00+01:00")
  end)
end)

describe("process", function()
  local seen
  before_each(function() seen = process.run({"sh", "-c", "echo ready"}).stdout end)
  test("runs programs", function() assert.eq(seen, "ready\n") end)
  test("waits without blocking", function()
    local ticks = 0
    local ticker = async.interval(0.05, function() ticks = ticks + 1 end)
    process.run({"sleep", "0.3"})
    ticker:cancel()
    assert.gt(ticks, 2)
  end)
end)

test("compress and hash", function()
  local text = ("assay "):rep(1000)
  assert.eq(compress.gunzip(compress.gzip(text)), text)
  assert.eq(crypto.hash("abc", "sha256"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
end)
