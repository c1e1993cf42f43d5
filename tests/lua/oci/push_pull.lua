-- test: stdout ^ok\n$
-- oci.push / manifest / blob / tags / catalog against a real registry (docker-registry, from
-- scripts/oci-registry): an artifact with a config and two layers (one from a string, one
-- from a file) goes up, and its manifest, blobs and tags come back as pushed.
local reg = require("fixtures.registry")
local o = {plain_http = true}
local repo = reg.anonymous .. "/" .. reg.fresh("pkgs")

local dir = fs.tempdir()
local big = string.rep("0123456789abcdef", 64 * 1024) -- 1 MiB: more than one read
fs.write(dir .. "/pkg.tar.gz", big)
local config = '{"name":"k8s","version":"1.2.0"}'
local pushed = oci.push(repo .. ":1.2.0", {
  artifact_type = "application/vnd.assay.package.v1",
  config = {data = config, media_type = "application/vnd.assay.package.config.v1+json"},
  layers = {
    {path = dir .. "/pkg.tar.gz", media_type = "application/vnd.assay.package.layer.v1.tar+gzip",
     annotations = {["org.opencontainers.image.title"] = "pkg.tar.gz"}},
    {data = "# k8s\n", media_type = "text/markdown"},
  },
  annotations = {["org.opencontainers.image.version"] = "1.2.0"},
}, o)
assert.matches(pushed.digest, "^sha256:[0-9a-f]{64}$")
local url_start = "http://" .. reg.anonymous .. "/v2/"
assert.eq(pushed.url:sub(1, #url_start), url_start)
assert.eq(pushed.url:sub(-#pushed.digest - 11), "/manifests/" .. pushed.digest)

-- The manifest, as pushed.
local m = oci.manifest(repo .. ":1.2.0", o)
assert.eq(m.digest, pushed.digest)
assert.eq(m.media_type, "application/vnd.oci.image.manifest.v1+json")
assert.eq(m.artifact_type, "application/vnd.assay.package.v1")
assert.eq(m.annotations, {["org.opencontainers.image.version"] = "1.2.0"})
assert.eq(m.config.media_type, "application/vnd.assay.package.config.v1+json")
assert.eq(m.config.size, #config)
assert.eq(#m.layers, 2)
assert.eq(m.layers[1].media_type, "application/vnd.assay.package.layer.v1.tar+gzip")
assert.eq(m.layers[1].size, #big)
assert.eq(m.layers[1].annotations, {["org.opencontainers.image.title"] = "pkg.tar.gz"})
assert.eq(m.layers[2], {digest = m.layers[2].digest, media_type = "text/markdown", size = 6})
-- By digest too, and the digest is checked against the bytes.
assert.eq(oci.manifest(repo .. "@" .. pushed.digest, o), m)

-- Blobs back by digest: as a string, and streamed to a file with progress.
assert.eq(oci.blob(repo, m.config.digest, o), config)
assert.eq(oci.blob(repo .. ":1.2.0", m.layers[2].digest, o), "# k8s\n")
local calls = {}
local got = oci.blob(repo, m.layers[1].digest, {plain_http = true, output = dir .. "/out.tar.gz",
  on_progress = function(done, total) calls[#calls + 1] = {done, total} end})
assert.eq(got, {bytes = #big})
assert.eq(fs.read(dir .. "/out.tar.gz"), big)
assert.ge(#calls, 1)
assert.eq(calls[#calls], {#big, #big})
for i = 2, #calls do assert.ge(calls[i][1], calls[i - 1][1]) end
-- max_size bounds a string (and a file when given).
assert.raises(function() oci.blob(repo, m.layers[1].digest, {plain_http = true, max_size = 1000}) end,
  "is larger than max_size \\(1000 bytes\\)")
assert.raises(function()
  oci.blob(repo, m.layers[1].digest, {plain_http = true, max_size = 10, output = dir .. "/small"})
end, "larger than max_size")
assert.eq(fs.exists(dir .. "/small"), false)
-- An error raised by on_progress stops the download and is raised as it was.
assert.raises(function()
  oci.blob(repo, m.layers[1].digest, {plain_http = true, output = dir .. "/stopped",
    on_progress = function() error("stop here") end})
end, "stop here")
assert.eq(fs.exists(dir .. "/stopped"), false)

-- Without config: the OCI empty config, and artifact_type is required.
local bare = oci.push(repo .. ":bare", {artifact_type = "application/vnd.assay.note.v1",
  layers = {{data = "note", media_type = "text/plain"}}}, o)
local mb = oci.manifest(repo .. ":bare", o)
assert.eq(mb.digest, bare.digest)
assert.eq(mb.config, {digest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
  media_type = "application/vnd.oci.empty.v1+json", size = 2})
assert.eq(oci.blob(repo, mb.config.digest, o), "{}")
assert.raises(function()
  oci.push(repo .. ":x", {layers = {{data = "x", media_type = "text/plain"}}}, o)
end, "field 'artifact_type': required when there is no config")

-- Tags (every one), and a missing tag or repository is nil, "not found".
oci.push(repo .. ":1.3.0", {artifact_type = "application/vnd.assay.package.v1",
  layers = {{data = "x", media_type = "text/plain"}}}, o)
local tags = oci.tags(repo, o)
table.sort(tags)
assert.eq(tags, {"1.2.0", "1.3.0", "bare"})
local none, why = oci.manifest(repo .. ":9.9.9", o)
assert.eq({none, why}, {nil, "not found"})
none, why = oci.manifest(reg.anonymous .. "/" .. reg.fresh("absent") .. ":1.0", o)
assert.eq({none, why}, {nil, "not found"})
none, why = oci.tags(reg.anonymous .. "/" .. reg.fresh("absent"), o)
assert.eq({none, why}, {nil, "not found"})

-- The catalog lists every repository: the registry gives it in pages of 2, so three more
-- repositories make at least three pages here.
local listed = {(repo:gsub("^[^/]*/", ""))}
for _ = 1, 3 do
  local name = reg.fresh("many")
  oci.push(reg.anonymous .. "/" .. name .. ":1", {artifact_type = "application/vnd.assay.note.v1",
    layers = {{data = "x", media_type = "text/plain"}}}, o)
  listed[#listed + 1] = name
end
local names = oci.catalog(reg.anonymous, o)
for _, name in ipairs(listed) do assert.contains(names, name) end
local once = {}
for _, name in ipairs(names) do
  assert.is_nil(once[name], "listed twice: " .. name)
  once[name] = true
end

fs.remove(dir, {recursive = true})
print("ok")
