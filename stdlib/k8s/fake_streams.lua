--- assay.k8s.fake_streams: the fake's streamed answers (not a public API): watches and followed
--- pod logs, written on one open response as things happen (http.server's streamed bodies);
--- `drop_watches` cuts them. Installed on the fake's class by assay.k8s.fake.

local api = require("assay.apiclient")
api.own_source()

return function(Fake, R)
local fail, gv, view, status_obj, storage_key, okey, sorted_items, field_selector =
  R.fail, R.gv, R.view, R.status_obj, R.storage_key, R.okey, R.sorted_items, R.field_selector

function Fake:_watch(r, ns, q)
  local lsel = R.label_selector(http.query_value(q, "labelSelector"))
  local fsel = field_selector(http.query_value(q, "fieldSelector"), r.kind)
  local since = http.query_value(q, "resourceVersion")
  local bookmarks = http.query_value(q, "allowWatchBookmarks") == "true"
  local timeout = tonumber(http.query_value(q, "timeoutSeconds") or "") or self.watch_timeout
  if timeout > self.watch_timeout then timeout = self.watch_timeout end
  local first = {}
  local function line(t, o) return json.encode{type = t, object = o} .. "\n" end
  local from
  if since == nil or since == "" or since == "0" then
    local bucket = self:_bucket(r)
    for _, k in ipairs(sorted_items(bucket, ns)) do
      local o = bucket[k]
      if lsel(o.metadata.labels) and fsel(o) then first[#first + 1] = line("ADDED", view(r, o)) end
    end
    from = self.rv
  else
    from = tonumber(since)
    if not from then fail(400, "invalid resourceVersion: " .. since) end
    if from < self.gone_before then
      -- as the API server: a 200 whose only event is an ERROR with the 410 Status
      return {status = 200, headers = {["content-type"] = "application/json"},
        body = line("ERROR", status_obj(410, string.format("too old resource version: %s (%d)", since,
          self.gone_before + 1), "Expired"))}
    end
  end
  local generation = self.drops
  -- streamed: the events as they happen, until timeoutSeconds (at most watch_timeout), a BOOKMARK
  -- every bookmark_interval and last when asked; `drop_watches` cuts the connection midway
  return {status = 200, headers = {["content-type"] = "application/json"}, stream = function(body)
    for _, l in ipairs(first) do body:write(l) end
    local seen = from
    local deadline = time.monotonic() + timeout
    local next_mark = time.monotonic() + self.bookmark_interval
    local function mark()
      body:write(line("BOOKMARK", {kind = r.kind, apiVersion = gv(r.group, r.version),
        metadata = {resourceVersion = tostring(seen)}}))
    end
    while time.monotonic() < deadline do
      if self.drops ~= generation then error("k8s.fake: the test dropped this watch's connection", 0) end
      if seen < self.gone_before then
        body:write(line("ERROR", status_obj(410, string.format("too old resource version: %d (%d)", seen,
          self.gone_before + 1), "Expired")))
        return
      end
      for _, ev in ipairs(self.events) do
        if ev.rv > seen and storage_key(ev.res) == storage_key(r) and (ns == nil or ev.obj.metadata.namespace == ns)
            and lsel(ev.obj.metadata.labels) and fsel(ev.obj) then
          body:write(line(ev.type, view(r, ev.obj)))
        end
      end
      seen = math.max(seen, self.rv)
      if bookmarks and time.monotonic() >= next_mark then
        mark()
        next_mark = time.monotonic() + self.bookmark_interval
      end
      sleep(0.02)
    end
    if bookmarks then mark() end
  end}
end

--- Cuts the connection of every open watch and followed log (no last chunk: the client sees a
--- broken transfer), as a restarting API server or a load balancer does.
function Fake:drop_watches() self.drops = self.drops + 1 end


function Fake:_log(ns, name, q)
  local pods = self:_bucket(self.resources["v1/pods"])
  if not pods[okey(ns, name)] then self:_not_found(self.resources["v1/pods"], name) end
  local container = http.query_value(q, "container") or ""
  local key = ns .. "/" .. name .. "/" .. container
  if container ~= "" and not self.logs[key] then key = ns .. "/" .. name .. "/" end
  local follow = http.query_value(q, "follow") == "true"
  local tail = tonumber(http.query_value(q, "tailLines") or "")
  local lines = self.logs[key] or {}
  local from = tail and math.max(1, #lines - tail + 1) or 1
  local function text(upto)
    local out = {}
    local all = self.logs[key] or {}
    for i = from, upto or #all do out[#out + 1] = all[i] .. "\n" end
    return table.concat(out)
  end
  if not follow then
    return {status = 200, headers = {["content-type"] = "text/plain"}, body = text()}
  end
  -- followed: streamed as the test appends lines, until the log is `done`, the pod is deleted,
  -- follow_timeout passes or drop_watches cuts it
  local generation = self.drops
  return {status = 200, headers = {["content-type"] = "text/plain"}, stream = function(body)
    local deadline = time.monotonic() + self.follow_timeout
    local sent = from - 1
    while true do
      if self.drops ~= generation then error("k8s.fake: the test dropped this log's connection", 0) end
      local all = self.logs[key] or {}
      if #all > sent then
        body:write(text(#all))
        from, sent = #all + 1, #all
      end
      local alive = self:_bucket(self.resources["v1/pods"])[okey(ns, name)]
      if self.logs_done[key] or not alive or time.monotonic() >= deadline then return end
      sleep(0.02)
    end
  end}
end

--- Appends log lines to a pod's (container's) log. `done = true` ends a followed log.
---@param namespace string
---@param pod string
---@param text string lines, separated by newlines
---@param opts? {container?: string, done?: boolean}
function Fake:log(namespace, pod, text, opts)
  opts = opts or {}
  local key = namespace .. "/" .. pod .. "/" .. (opts.container or "")
  self.logs[key] = self.logs[key] or {}
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    if line ~= "" then table.insert(self.logs[key], line) end
  end
  if opts.done then self.logs_done[key] = true end
  if opts.container then
    -- also visible without a container (single-container pods)
    local k0 = namespace .. "/" .. pod .. "/"
    self.logs[k0] = self.logs[k0] or self.logs[key]
    if opts.done then self.logs_done[k0] = true end
  end
end

end
