--- Acme's platform conventions, layered onto assay-full as a company package
--- (packaging/examples/user-defined): where services live, how long to wait for them, and
--- the one shape of event line every Acme job writes.
---
--- ```lua
--- local acme = require("assay.acme")
--- acme.wait_ready("billing")            -- http://billing.<namespace>.svc:8080/readyz
--- acme.event("migrated", {tables = 3})  -- a log line "acme migrated" with tables=3, team
--- ```
local M = {}

local healthcheck = require("assay.healthcheck")

--- The in-cluster URL of service `name`: `ACME_SERVICE_<NAME>` when set (tests, local runs),
--- else `http://<name>.<ACME_NAMESPACE or "default">.svc:8080`.
---@param name string
---@return string
function M.service_url(name)
  if type(name) ~= "string" or not name:match("^[a-z][a-z0-9-]*$") then
    error(("acme.service_url: bad argument #1 'name' (a service name expected, got %s)"):format(tostring(name)), 2)
  end
  local override = env.get("ACME_SERVICE_" .. name:upper():gsub("-", "_"))
  if override then return override end
  return ("http://%s.%s.svc:8080"):format(name, env.get("ACME_NAMESPACE") or "default")
end

--- Waits until service `name` answers 200 on /readyz (at most `timeout` seconds, default 60).
---@param name string
---@param timeout? number
function M.wait_ready(name, timeout)
  local check = healthcheck.http{url = M.service_url(name) .. "/readyz", expect = {status = 200}}
  healthcheck.wait(check, {timeout = timeout or 60, interval = 1})
end

--- Logs one Acme event on the info log: "acme <name>" with `fields`, plus the `team` field
--- every Acme line carries (`ACME_TEAM`, else "platform").
---@param name string
---@param fields? table
function M.event(name, fields)
  local line = {team = env.get("ACME_TEAM") or "platform"}
  for k, v in pairs(fields or {}) do line[k] = v end
  log.info("acme " .. name, line)
end

return M
