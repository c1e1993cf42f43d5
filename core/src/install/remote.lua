-- The network side of `assay install` and `assay publish`. The core has no HTTP stack of its
-- own (its size is a product feature): it borrows the http plugin's, and the `oci` global that
-- plugin also provides, through these functions (install/remote.rs calls them). Every error is
-- raised as plain text without a Lua position: the Rust side prefixes what it was doing.

local M = {}

-- "remote:12: http.get: refused" -> "http.get: refused"
local function plain(e)
  return (tostring(e):gsub("^[^\n]-:%d+: ", ""))
end

local function need(global, url)
  local g = rawget(_G, global)
  if g == nil then
    local what = global == "http" and "the http plugin" or ("the http plugin (its `%s` global)"):format(global)
    error(("%s needs %s, and none is installed on the lib path: install the http plugin, or use a registry in a folder (file://)"):format(url, what), 0)
  end
  return g
end

local function call(f, ...)
  local ok, a, b = pcall(f, ...)
  if not ok then error(plain(a), 0) end
  return a, b
end

-- GET `url`: its body, or nil on a 404.
function M.get(url, auth, max)
  local http = need("http", url)
  local resp = call(http.get, url, {auth = auth, max_body = max, timeout = 60, decompress = true})
  if resp.status == 404 then return nil end
  if not resp.ok then
    error(("%s: the server answered %d"):format(url, resp.status), 0)
  end
  return resp.body
end

-- GET `url` as it comes, handing each piece to `sink`, which writes it and returns true, or
-- false and why it refuses more.
function M.download(url, auth, sink)
  local http = need("http", url)
  -- An archive's bytes as stored: a server that labels .tar.gz as gzip-encoded must not get
  -- it decompressed on the way (its sha256 would no longer match).
  local resp = call(http.get, url, {auth = auth, stream = true, timeout = 60, decompress = false})
  if not resp.ok then
    resp:close()
    error(("%s: the server answered %d"):format(url, resp.status), 0)
  end
  while true do
    local chunk = call(resp.read, resp)
    if chunk == nil then break end
    local ok, why = sink(chunk)
    if not ok then
      resp:close()
      error(why, 0)
    end
  end
  resp:close()
end

-- OCI (see oci.rs for how a package is laid out as an artifact).
local ARTIFACT_TYPE = "application/vnd.assay.package.v1"
local CONFIG_TYPE = "application/vnd.assay.package.config.v1+json"
local LAYER_TYPE = "application/vnd.assay.package.layer.v1.tar+gzip"
local MAX_CONFIG = 1024 * 1024

local function with(opts, extra)
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  for k, v in pairs(extra) do o[k] = v end
  return o
end

-- The config blobs (index entries as JSON) of the semver-tagged package artifacts in
-- repository `repo`; nil when the repository does not exist.
function M.oci_versions(repo, opts)
  local oci = need("oci", "oci://" .. repo)
  local tags = call(oci.tags, repo, opts)
  if tags == nil then return nil end
  local configs = {}
  for _, tag in ipairs(tags) do
    if tag:match("^%d+%.%d+%.%d+") then
      local m = call(oci.manifest, repo .. ":" .. tag, opts)
      if m and m.artifact_type == ARTIFACT_TYPE and m.config.media_type == CONFIG_TYPE then
        configs[#configs + 1] = call(oci.blob, repo, m.config.digest, with(opts, {max_size = MAX_CONFIG}))
      end
    end
  end
  return configs
end

-- The repositories right under `path` of registry `host` (package names).
function M.oci_catalog(host, path, opts)
  local oci = need("oci", "oci://" .. host)
  local prefix = path == "" and "" or path .. "/"
  local names = {}
  for _, repo in ipairs(call(oci.catalog, host, opts)) do
    local rest = repo:sub(1, #prefix) == prefix and repo:sub(#prefix + 1)
    if rest and rest ~= "" and not rest:find("/", 1, true) then
      names[#names + 1] = rest
    end
  end
  return names
end

-- The archive layer `digest` of repository `repo`, into the file `path`.
function M.oci_download(repo, digest, path, size, opts, progress)
  local oci = need("oci", "oci://" .. repo)
  call(oci.blob, repo, digest, with(opts, {output = path, max_size = size, on_progress = progress}))
end

-- Pushes the archive's bytes `archive` as `ref` (repo:version) with `config` as its config
-- blob.
function M.oci_push(ref, archive, config, description, opts)
  local oci = need("oci", "oci://" .. ref)
  local result = call(oci.push, ref, {
    artifact_type = ARTIFACT_TYPE,
    config = {data = config, media_type = CONFIG_TYPE},
    layers = {{data = archive, media_type = LAYER_TYPE}},
    annotations = {["org.opencontainers.image.description"] = description},
  }, opts)
  return result.digest
end

return M
