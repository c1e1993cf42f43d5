-- Shared by the scenario scripts (loaded with dofile): the peer's base URL from arg[1], and a
-- check that none of this process's connections to the peer is left half-closed.
local M = {}

M.base = assert(arg[1], "usage: assay <scenario>.lua ws://127.0.0.1:PORT")
M.port = assert(M.base:match(":(%d+)$"), "the URL ends with the port")

-- Our sockets to the peer in `state` (`ss` lines; dport is the peer's port).
function M.sockets(state)
  local r = process.run({"ss", "-tanH", "state", state, "dport", "=", ":" .. M.port})
  assert(r.ok, r.stderr)
  local lines = {}
  for line in r.stdout:gmatch("[^\n]+") do lines[#lines + 1] = line end
  return lines
end

-- After a close, none of our connections to the peer is in CLOSE-WAIT (the peer closed and we
-- did not) or ESTABLISHED (we never closed).
function M.all_closed()
  for _, state in ipairs({"close-wait", "established"}) do
    local left = M.sockets(state)
    assert(#left == 0, state .. ": " .. table.concat(left, "\n"))
  end
end

return M
