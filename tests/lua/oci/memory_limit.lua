-- test: flags --memory-limit 4M
-- test: stdout ^ok\n$
-- A blob returned as a string is bounded by the script's memory limit too (the plugin buffers
-- it outside that limit until it becomes a string, which could not be made): the error says
-- so and how to proceed; streamed to a file, the same blob is fine.
local reg = require("fixtures.registry")
local o = {plain_http = true}
local repo = reg.anonymous .. "/" .. reg.fresh("big")
local dir = fs.tempdir()
-- 6 MiB made outside the VM (a string that size could not be made under this limit).
assert(os.execute(("head -c 6291456 /dev/zero > %s/big"):format(dir)))
oci.push(repo .. ":1", {artifact_type = "application/vnd.assay.package.v1",
  layers = {{path = dir .. "/big", media_type = "application/octet-stream"}}}, o)
local m = oci.manifest(repo .. ":1", o)
assert.raises(function() oci.blob(repo, m.layers[1].digest, o) end,
  "is larger than the script's memory limit of 4 MiB \\(raise --memory-limit, or pass output = <path>")
assert.eq(oci.blob(repo, m.layers[1].digest, {plain_http = true, output = dir .. "/copy"}),
  {bytes = 6291456})
assert.eq(fs.stat(dir .. "/copy").size, 6291456)
fs.remove(dir, {recursive = true})
print("ok")
