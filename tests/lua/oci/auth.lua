-- test: stdout ^ok\n$
-- Basic authentication against a real registry with htpasswd (bcrypt) users: no credentials
-- and wrong ones are a clear 401 error (naming the user, never the password), the right ones
-- push and pull.
local reg = require("fixtures.registry")
local repo = reg.basic .. "/" .. reg.fresh("private")
local artifact = {artifact_type = "application/vnd.assay.package.v1",
  layers = {{data = "secret package", media_type = "text/plain"}}}
local good = {plain_http = true, auth = {user = reg.user, password = reg.password}}
local wrong_password = "not-" .. reg.password
local wrong = {plain_http = true, auth = {user = reg.user, password = wrong_password}}
local anonymous = {plain_http = true}

local function refused(pattern, fn, ...)
  local ok, err = pcall(fn, ...)
  assert.eq(ok, false, "expected a refusal")
  assert.matches(err, pattern)
  assert.eq(err:find(wrong_password, 1, true), nil, "the password leaked into: " .. err)
  assert.eq(err:find(reg.password, 1, true), nil, "the password leaked into: " .. err)
  return err
end

local no_credentials = "requires authentication for .* \\(401 unauthorized\\): pass auth = "
local bad_credentials = "refused the credentials of user '" .. reg.user .. "' for .* \\(401 unauthorized\\)"

-- Pushing: refused without and with wrong credentials; the right ones work.
refused(no_credentials, oci.push, repo .. ":1", artifact, anonymous)
refused(bad_credentials, oci.push, repo .. ":1", artifact, wrong)
local pushed = oci.push(repo .. ":1", artifact, good)

-- Reading: the same three ways, for every function.
refused(no_credentials, oci.manifest, repo .. ":1", anonymous)
refused(bad_credentials, oci.manifest, repo .. ":1", wrong)
local m = oci.manifest(repo .. ":1", good)
assert.eq(m.digest, pushed.digest)
refused(no_credentials, oci.blob, repo, m.layers[1].digest, anonymous)
refused(bad_credentials, oci.blob, repo, m.layers[1].digest, wrong)
assert.eq(oci.blob(repo, m.layers[1].digest, good), "secret package")
refused(no_credentials, oci.tags, repo, anonymous)
refused(bad_credentials, oci.tags, repo, wrong)
assert.eq(oci.tags(repo, good), {"1"})
refused(no_credentials, oci.catalog, reg.basic, anonymous)
refused(bad_credentials, oci.catalog, reg.basic, wrong)
assert.contains(oci.catalog(reg.basic, good), (repo:gsub("^[^/]*/", "")))
-- Not found stays an answer with credentials.
assert.eq({oci.manifest(repo .. ":2", good)}, {nil, "not found"})

print("ok")
