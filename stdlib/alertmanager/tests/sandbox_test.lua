-- Under --sandbox (where debug.getinfo raises and errors carry no position) the package loads
-- and works: a child assay runs it, its lib path this package's root then the binary's own
-- roots (a dist tree's lib/assay, a cargo build's assay-lib) for the http plugin.

local ROOT = arg[0]:gsub("/alertmanager/tests/[^/]*$", "")
local BIN_DIR = arg[-1]:match("^(.*)/[^/]*$") or "."

test("require and use under --sandbox", function()
  local code = [[
    local c = require("assay.alertmanager").client({url = "http://127.0.0.1:1", timeout = 2})
    print(select(2, pcall(c.alerts, c, {filter = {alertname = "X"}})))
  ]]
  local lib_path = table.concat({ROOT, BIN_DIR .. "/../lib/assay", BIN_DIR .. "/assay-lib"}, ":")
  local r = process.run({arg[-1], "--sandbox", "-e", code},
    {env = {ASSAY_LIB_PATH = lib_path}, timeout = 20})
  assert.eq(r.stderr, "")
  assert.eq(r.stdout, "alertmanager.alerts: http.Client:request: cannot connect to 127.0.0.1:1: connection refused\n")
end)
