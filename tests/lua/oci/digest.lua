-- test: stdout ^ok\n$
-- oci.blob always verifies the digest: a blob changed in the registry's storage (the real
-- registry serves whatever its disk holds) raises, names both digests, and leaves no file, and
-- a file already at the target stays as it was. A digest the registry lacks raises "not found".
local reg = require("fixtures.registry")
local o = {plain_http = true}
local repo = reg.anonymous .. "/" .. reg.fresh("tamper")

-- Unique bytes: the registry stores a blob once for all repositories (by digest).
local original = "the package, as pushed " .. uuid.v4()
local m = oci.manifest(repo .. ":1", o) -- not there yet
assert.is_nil(m)
oci.push(repo .. ":1", {artifact_type = "application/vnd.assay.package.v1",
  layers = {{data = original, media_type = "text/plain"}}}, o)
m = oci.manifest(repo .. ":1", o)
local digest = m.layers[1].digest
assert.eq(oci.blob(repo, digest, o), original)

-- Tamper with the stored blob: same length, other bytes.
local hex = digest:sub(8)
local stored = ("%s/docker/registry/v2/blobs/sha256/%s/%s/data"):format(reg.data, hex:sub(1, 2), hex)
assert.eq(fs.read(stored), original)
local tampered = original:upper()
fs.write(stored, tampered)

local dir = fs.tempdir()
local ok, err = pcall(oci.blob, repo, digest, o)
assert.eq(ok, false)
assert.matches(err, "digest mismatch, the data received hashes to sha256:[0-9a-f]{64}")
assert.contains(err, digest)
-- Streamed to a file: nothing at the target, no temporary file beside it.
ok, err = pcall(oci.blob, repo, digest, {plain_http = true, output = dir .. "/pkg"})
assert.eq(ok, false)
assert.contains(err, "digest mismatch")
assert.eq(fs.list(dir), {})
-- A file already there stays as it was.
fs.write(dir .. "/pkg", "previous")
assert.raises(function() oci.blob(repo, digest, {plain_http = true, output = dir .. "/pkg"}) end,
  "digest mismatch")
assert.eq(fs.read(dir .. "/pkg"), "previous")
assert.eq(fs.list(dir), {"pkg"})

-- A digest the repository does not have.
local absent = "sha256:" .. string.rep("0", 64)
assert.raises(function() oci.blob(repo, absent, o) end,
  "blob " .. absent .. " of .* not found")
assert.raises(function() oci.blob(repo, absent, {plain_http = true, output = dir .. "/absent"}) end,
  "not found")
assert.eq(fs.exists(dir .. "/absent"), false)
-- A digest that is not one.
assert.raises(function() oci.blob(repo, "sha256:xyz", o) end,
  "bad argument #2 'digest' \\(digest 'sha256:xyz': sha256 takes 64 lower-case hex digits\\)")
assert.raises(function() oci.blob(repo, "md5:" .. string.rep("0", 32), o) end,
  "unsupported algorithm 'md5'")

fs.remove(dir, {recursive = true})
print("ok")
