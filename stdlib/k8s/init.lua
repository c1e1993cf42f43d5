--- assay.k8s: Kubernetes. For now only `fake` (an in-memory API server, `assay.k8s.fake`),
--- loaded on first access; the client comes next.
---@class k8s
---@field fake table assay.k8s.fake
local M = {}

return setmetatable(M, {__index = function(t, k)
  if k == "fake" then
    local v = require("assay.k8s.fake")
    rawset(t, k, v)
    return v
  end
  return nil
end})
