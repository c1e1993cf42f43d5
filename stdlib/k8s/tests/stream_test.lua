-- assay.k8s watch, logs and follow_logs against assay.k8s.fake.
local k8s = require("assay.k8s")
local fake = k8s.fake.start{token = "t0k", watch_timeout = 0.3}
local c = k8s.client{server = fake.url, token = "t0k", timeout = 10}

local function cm(name, labels)
  return {apiVersion = "v1", kind = "ConfigMap", metadata = {name = name, labels = labels}, data = {k = "v"}}
end
local function watches()
  local out = {}
  for _, r in ipairs(fake.requests) do
    if http.query_value(r.query, "watch") == "true" then out[#out + 1] = r end
  end
  return out
end

before_each(function() fake:clear_requests() end)

test("watch: the current objects as ADDED, then ADDED/MODIFIED/DELETED as they happen", function()
  fake:add{apiVersion = "v1", kind = "Namespace", metadata = {name = "w1"}}
  c:create(cm("a"), {namespace = "w1"})
  local got = {}
  local t = async.spawn(function()
    for ev in c:watch("configmaps", {namespace = "w1", timeout = 5}) do
      got[#got + 1] = ev.type .. " " .. ev.object.metadata.name
      if #got == 4 then break end
    end
  end)
  sleep(0.1)
  c:create(cm("b"), {namespace = "w1"})
  c:patch("cm", "b", {data = {k = "w"}}, {namespace = "w1"})
  c:delete("cm", "a", {namespace = "w1"})
  t:await()
  assert.eq(got, {"ADDED a", "ADDED b", "MODIFIED b", "DELETED a"})
  local w = watches()[1]
  assert.eq(w.path, "/api/v1/namespaces/w1/configmaps")
  assert.eq(http.query_value(w.query, "allowWatchBookmarks"), "true")
  assert.not_nil(http.query_value(w.query, "resourceVersion"))
end)

test("watch: each new watch resumes from the last resourceVersion seen", function()
  fake:add{apiVersion = "v1", kind = "Namespace", metadata = {name = "w2"}}
  local got = {}
  local t = async.spawn(function()
    for ev in c:watch("cm", {namespace = "w2", timeout = 5}) do
      got[#got + 1] = ev
      if #got == 2 then break end
    end
  end)
  -- the fake ends each watch after 0.3 s: these land in different watch requests
  sleep(0.5)
  local first = c:create(cm("x"), {namespace = "w2"})
  sleep(0.5)
  c:create(cm("y"), {namespace = "w2"})
  t:await()
  assert.eq({got[1].object.metadata.name, got[2].object.metadata.name}, {"x", "y"})
  local ws = watches()
  assert.ge(#ws, 3)
  local resumed = false
  for _, w in ipairs(ws) do
    resumed = resumed or http.query_value(w.query, "resourceVersion") == first.metadata.resourceVersion
  end
  assert.eq(resumed, true)
end)

test("watch: 410 Gone relists and reports what changed meanwhile", function()
  fake:add{apiVersion = "v1", kind = "Namespace", metadata = {name = "w3"}}
  c:create(cm("keep"), {namespace = "w3"})
  c:create(cm("drop"), {namespace = "w3"})
  local w <close> = c:watch("cm", {namespace = "w3", timeout = 5})
  assert.eq(w().object.metadata.name, "drop")
  assert.eq(w().object.metadata.name, "keep")
  -- history compacted while changes happen: the next watch gets 410
  c:delete("cm", "drop", {namespace = "w3"})
  c:patch("cm", "keep", {data = {k = "changed"}}, {namespace = "w3"})
  c:create(cm("new"), {namespace = "w3"})
  fake:compact()
  local got = {}
  for _ = 1, 3 do
    local ev = w()
    got[#got + 1] = ev.type .. " " .. ev.object.metadata.name
  end
  table.sort(got)
  assert.eq(got, {"ADDED new", "DELETED drop", "MODIFIED keep"})
end)

test("watch: selectors, no initial list from a resourceVersion, bookmarks when asked, timeout ends it", function()
  fake:add{apiVersion = "v1", kind = "Namespace", metadata = {name = "w4"}}
  local before = c:create(cm("old", {app = "web"}), {namespace = "w4"})
  local got = {}
  local t = async.spawn(function()
    for ev in c:watch("cm", {namespace = "w4", label_selector = {app = "web"}, resource_version = before.metadata.resourceVersion,
        bookmarks = true, timeout = 1}) do
      got[#got + 1] = ev.type .. (ev.type == "BOOKMARK" and "" or " " .. ev.object.metadata.name)
    end
  end)
  sleep(0.1)
  c:create(cm("other", {app = "db"}), {namespace = "w4"})
  c:create(cm("mine", {app = "web"}), {namespace = "w4"})
  local t0 = time.monotonic()
  t:await()
  assert.lt(time.monotonic() - t0, 2)
  assert.eq(got[1], "ADDED mine")
  assert.contains(got, "BOOKMARK")
  for _, g in ipairs(got) do assert.ne(g, "ADDED old"); assert.ne(g, "ADDED other") end
  assert.eq(http.query_value(watches()[1].query, "labelSelector"), "app=web")
end)

test("watch: a refused watch raises with the server's answer; a server gone raises after retries", function()
  local bad = k8s.client{server = fake.url, token = "wrong"}
  local fake2 = k8s.fake.start{token = "t", require_token = true}
  local c2 = k8s.client{server = fake2.url, token = "nope"}
  assert.raises(function() for _ in c2:watch("cm", {resource_version = "1"}) do end end, "k8s.watch: GET /api/v1/namespaces/default/configmaps: 401")
  fake2:stop()
  local c3 = k8s.client{server = fake2.url, token = "t", timeout = 1}
  assert.raises(function() for _ in c3:watch("cm", {resource_version = "1", timeout = 30}) do end end, "k8s.watch: ")
  assert.raises(function() bad:watch("cm", {bogus = 1}) end, "unknown option 'bogus'")
end)

test("logs: text with tail/container/since/previous/timestamps in the query; nil for a missing pod", function()
  c:create{apiVersion = "v1", kind = "Pod", metadata = {name = "app"},
    spec = {containers = {{name = "main", image = "x"}, {name = "side", image = "y"}}}}
  fake:log("default", "app", "one\ntwo\nthree", {container = "main"})
  assert.eq(c:logs("app", {container = "main"}), "one\ntwo\nthree\n")
  assert.eq(c:logs("app", {container = "main", tail = 1}), "three\n")
  c:logs("app", {container = "main", since = 60, previous = true, timestamps = true, limit_bytes = 100})
  local r = fake.requests[#fake.requests]
  assert.eq(r.path, "/api/v1/namespaces/default/pods/app/log")
  for k, v in pairs{container = "main", sinceSeconds = "60", previous = "true", timestamps = "true", limitBytes = "100"} do
    assert.eq(http.query_value(r.query, k), v, k)
  end
  local none, st = c:logs("ghost")
  assert.eq({none, st.code}, {nil, 404})
  assert.raises(function() c:logs("app", {tail = -1}) end, "field 'tail': non-negative integer expected")
end)

test("follow_logs: lines as they are written, until the container ends", function()
  c:create{apiVersion = "v1", kind = "Pod", metadata = {name = "job"}, spec = {containers = {{name = "c", image = "x"}}}}
  fake:log("default", "job", "start")
  local writer = async.spawn(function()
    sleep(0.1); fake:log("default", "job", "middle")
    sleep(0.1); fake:log("default", "job", "end", {done = true})
  end)
  local lines = {}
  for line in c:follow_logs("job", {timeout = 5}) do lines[#lines + 1] = line end
  writer:await()
  assert.eq(lines, {"start", "middle", "end"})
  assert.eq(http.query_value(fake.requests[#fake.requests].query, "follow"), "true")
  assert.raises(function() c:follow_logs("ghost") end, "k8s.follow_logs: GET /api/v1/namespaces/default/pods/ghost/log: 404")
end)

test("stop", function() fake:stop() end)
