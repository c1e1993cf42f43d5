-- Watches and followed logs as streams: the fake (http.server's streamed bodies) writes each
-- event as it happens on one open response, and can cut connections midway; the client reads
-- events as they come and resumes where it was after a cut.
local k8s = require("assay.k8s")
local fake = k8s.fake.start{token = "t", bookmark_interval = 0.2}
local c = k8s.client{server = fake.url, token = "t", timeout = 10}

local function cm(name) return {apiVersion = "v1", kind = "ConfigMap", metadata = {name = name}} end
local function watch_requests()
  local n = 0
  for _, r in ipairs(fake.requests) do
    if http.query_value(r.query, "watch") == "true" then n = n + 1 end
  end
  return n
end

before_each(function() fake:clear_requests() end)

test("events arrive on one open watch as they happen", function()
  local got, at = {}, {}
  local t = async.spawn(function()
    for ev in c:watch("cm", {send_initial = false, timeout = 10}) do
      got[#got + 1] = ev.type .. " " .. ev.object.metadata.name
      at[#at + 1] = time.monotonic()
      if #got == 3 then break end
    end
  end)
  sleep(0.2)
  local changes = {}
  for i = 1, 3 do
    changes[i] = time.monotonic()
    c:create(cm("live" .. i))
    -- the next change waits until this one was seen: the event came while the stream was open
    local deadline = time.monotonic() + 5
    while #got < i and time.monotonic() < deadline do sleep(0.01) end
  end
  t:await()
  assert.eq(got, {"ADDED live1", "ADDED live2", "ADDED live3"})
  for i = 1, 3 do assert.lt(at[i] - changes[i], 1) end
  assert.eq(watch_requests(), 1)
end)

test("a cut connection: the watch resumes from the last version, nothing lost, nothing twice", function()
  local got = {}
  local t = async.spawn(function()
    for ev in c:watch("cm", {send_initial = false, timeout = 10}) do
      got[#got + 1] = ev.object.metadata.name
      if #got == 4 then break end
    end
  end)
  sleep(0.2)
  c:create(cm("cut1"))
  c:create(cm("cut2"))
  local deadline = time.monotonic() + 5
  while #got < 2 and time.monotonic() < deadline do sleep(0.01) end
  fake:drop_watches()
  c:create(cm("cut3"))
  c:create(cm("cut4"))
  t:await()
  assert.eq(got, {"cut1", "cut2", "cut3", "cut4"})
  assert.eq(watch_requests(), 2)
  local second
  for _, r in ipairs(fake.requests) do
    if http.query_value(r.query, "watch") == "true" then second = r end
  end
  assert.eq(http.query_value(second.query, "resourceVersion"), c:get("cm", "cut2").metadata.resourceVersion)
end)

test("bookmarks come while nothing changes, and move the resume point", function()
  local marks = 0
  for ev in c:watch("cm", {send_initial = false, bookmarks = true, timeout = 1}) do
    if ev.type == "BOOKMARK" then marks = marks + 1 end
    if marks == 3 then break end
  end
  assert.eq(marks, 3)
  assert.eq(watch_requests(), 1)
end)

test("a followed log: each line as it is written, the end when the container ends", function()
  c:create{apiVersion = "v1", kind = "Pod", metadata = {name = "worker"}, spec = {containers = {{name = "c", image = "x"}}}}
  local written = 0
  local writer = async.spawn(function()
    for i = 1, 3 do
      fake:log("default", "worker", "line " .. i)
      written = i
      sleep(0.2)
    end
    fake:log("default", "worker", "bye", {done = true})
  end)
  local lines, seen_when = {}, {}
  for line in c:follow_logs("worker", {timeout = 10}) do
    lines[#lines + 1] = line
    seen_when[#seen_when + 1] = written
  end
  writer:await()
  assert.eq(lines, {"line 1", "line 2", "line 3", "bye"})
  -- line 1 was read before line 3 was written: streamed, not batched
  assert.lt(seen_when[1], 3)
end)

test("a followed log ends when the pod is deleted; a cut raises", function()
  c:create{apiVersion = "v1", kind = "Pod", metadata = {name = "gone"}, spec = {containers = {{name = "c", image = "x"}}}}
  fake:log("default", "gone", "only")
  async.spawn(function() sleep(0.2); c:delete("pod", "gone") end)
  local lines = {}
  for line in c:follow_logs("gone", {timeout = 10}) do lines[#lines + 1] = line end
  assert.eq(lines, {"only"})
  c:create{apiVersion = "v1", kind = "Pod", metadata = {name = "cut"}, spec = {containers = {{name = "c", image = "x"}}}}
  fake:log("default", "cut", "first")
  async.spawn(function() sleep(0.2); fake:drop_watches() end)
  assert.raises(function() for _ in c:follow_logs("cut", {timeout = 10}) do end end, "^k8s.follow_logs: ")
end)

test("stop", function() fake:stop() end)
