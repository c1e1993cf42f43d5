-- test: stdout ^ok\n$
-- The distribution token flow against a real registry (`auth: token`) and its token service
-- (scripts/oci-token-server.py, issuing RS256 JWTs the registry trusts): user and password are
-- traded for a bearer token for each operation; no credentials, wrong ones, or a token the
-- registry does not trust are clear errors; a token fetched by the script works as
-- `auth = {bearer = ...}` for the scope it grants; the catalog gets its own scope.
local reg = require("fixtures.registry")
local name = reg.fresh("tok")
local repo = reg.token .. "/" .. name
local artifact = {artifact_type = "application/vnd.assay.package.v1",
  layers = {{data = "token-flow package", media_type = "text/plain"}}}
local good = {plain_http = true, auth = {user = reg.user, password = reg.password}}
local wrong = {plain_http = true, auth = {user = reg.user, password = "not-" .. reg.password}}
local anonymous = {plain_http = true}

local function refused(pattern, fn, ...)
  local ok, err = pcall(fn, ...)
  assert.eq(ok, false, "expected a refusal")
  assert.matches(err, pattern)
  assert.eq(err:find(reg.password, 1, true), nil, "the password leaked into: " .. err)
  return err
end

refused("requires authentication for push to .* \\(401 unauthorized\\)", oci.push, repo .. ":1", artifact, anonymous)
refused("the token service of .* refused the credentials of user '" .. reg.user .. "'",
  oci.push, repo .. ":1", artifact, wrong)
local pushed = oci.push(repo .. ":1", artifact, good)

local m = oci.manifest(repo .. ":1", good)
assert.eq(m.digest, pushed.digest)
assert.eq(oci.blob(repo, m.layers[1].digest, good), "token-flow package")
assert.eq(oci.tags(repo, good), {"1"})
assert.eq({oci.manifest(repo .. ":2", good)}, {nil, "not found"})
refused("requires authentication for manifest", oci.manifest, repo .. ":1", anonymous)
refused("refused the credentials of user '" .. reg.user .. "' for manifest", oci.manifest, repo .. ":1", wrong)

-- A token the script got itself, for pull only.
local answer = http.get(reg.realm, {query = {service = "assay-test-registry", scope = "repository:" .. name .. ":pull"},
  auth = {user = reg.user, password = reg.password}})
assert.eq(answer.status, 200)
local bearer = {plain_http = true, auth = {bearer = answer:json().token}}
assert.eq(oci.manifest(repo .. ":1", bearer).digest, pushed.digest)
refused("refused the bearer token for push to", oci.push, repo .. ":2", artifact, bearer)
refused("refused the bearer token for manifest", oci.manifest, repo .. ":1", {plain_http = true, auth = {bearer = "not.a.token"}})

-- The catalog needs registry:catalog:*, asked for with the same credentials.
assert.contains(oci.catalog(reg.token, good), name)
refused("the token service of .* refused the credentials of user '" .. reg.user .. "' for the catalog",
  oci.catalog, reg.token, wrong)
refused("requires authentication for the catalog", oci.catalog, reg.token, anonymous)

print("ok")
