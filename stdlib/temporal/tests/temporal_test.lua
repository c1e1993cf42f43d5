-- temporal: every call against a fake Temporal HTTP API that checks requests against the docs.
local temporal = require("assay.temporal")
local here = arg[0]:match("^(.*)/") or "."
local fake = dofile(here .. "/fake_temporal.lua").start{api_key = "writer-key", readonly_key = "reader-key"}

after_each(function()
  local seen = fake.violations
  fake:reset()
  assert.eq(seen, {}, "requests Temporal's HTTP API would not take")
end)

local function client(o)
  o = o or {}
  o.url = o.url or fake.url
  o.api_key = o.api_key or "writer-key"
  return temporal.client(o)
end

local function start(c, id, extra)
  local o = {id = id, type = "ProcessOrder", task_queue = "orders", input = {{order = id, amount = 12.5}, "rush"}}
  for k, v in pairs(extra or {}) do o[k] = v end
  return c:workflow_start(o)
end

test("client options: unknown ones raise naming them; defaults", function()
  assert.raises(function() temporal.client{url = fake.url, namspace = "x"} end,
    [[temporal\.client: bad argument #1 'opts' \(unknown option 'namspace'; expected url, namespace, api_key]])
  assert.raises(function() temporal.client{url = "ftp://u:hunter2@x"} end, [[bad url .*u:\*\*\*@x]])
  local c = temporal.client{url = fake.url .. "/"}
  assert.eq(c.url, fake.url)
  assert.eq(c.namespace, "default")
  assert.eq(tostring(c), "temporal.client(" .. fake.url .. ")")
end)

test("namespaces: every page followed; describe; 404 -> nil", function()
  local c = client()
  local names = {}
  for _, ns in ipairs(c:namespaces()) do names[#names + 1] = ns.namespaceInfo.name end
  assert.eq(names, {"default", "orders", "temporal-system"})
  assert.eq(#fake.requests, 2)  -- two pages of two
  assert.eq(c:namespace_describe("orders").namespaceInfo.state, "NAMESPACE_STATE_REGISTERED")
  assert.eq(c:namespace_describe().namespaceInfo.name, "default")
  local ns, body = c:namespace_describe("nope")
  assert.eq(ns, nil)
  assert.eq(body.message, "Namespace nope is not found.")
end)

test("start (shorthand payloads, durations, memo), describe, list with a query", function()
  local c = client{namespace = "orders"}
  local run = start(c, "order-1", {execution_timeout = 3600, task_timeout = "10s", request_id = "r-1",
    memo = {owner = "ops"}, id_reuse_policy = "WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE"})
  assert.eq(run.started, true)
  assert.matches(run.runId, "^0190c0de-")
  assert.eq(fake.last_start.input, {{order = "order-1", amount = 12.5}, "rush"})
  assert.eq(fake.last_start.workflowExecutionTimeout, "3600s")
  assert.eq(fake.last_start.memo, {fields = {owner = "ops"}})
  assert.eq(fake:last().path, "/api/v1/namespaces/orders/workflows/order-1")
  start(c, "order-2"); start(c, "order-3", {type = "Refund"})
  local d = c:workflow_describe("order-1")
  assert.eq(d.workflowExecutionInfo.status, "WORKFLOW_EXECUTION_STATUS_RUNNING")
  assert.eq(d.workflowExecutionInfo.execution.runId, run.runId)
  assert.eq(c:workflow_describe("order-1", {run_id = run.runId}).workflowExecutionInfo.type.name, "ProcessOrder")
  assert.eq(fake:last().query, {["execution.runId"] = run.runId})
  assert.eq(#c:workflows(), 3)
  local only = c:workflows{query = "WorkflowType='ProcessOrder' AND ExecutionStatus='Running'"}
  assert.eq(#only, 2)
  assert.eq(#c:workflows{limit = 1}, 1)
  assert.eq(#c:workflows{namespace = "default"}, 0)
  assert.eq(c:workflow_describe("ghost"), nil)
end)

test("starting a running id again: 409 with Temporal's text", function()
  local c = client()
  local run = start(c, "order-1")
  local ok, err = pcall(start, c, "order-1")
  assert.eq(ok, false)
  assert.eq(err, ("temporal.workflow_start: POST /api/v1/namespaces/default/workflows/order-1: 409 "
    .. "Workflow execution is already running. WorkflowId: order-1, RunId: %s."):format(run.runId))
end)

test("signal and terminate; a closed workflow -> nil", function()
  local c = client()
  start(c, "order-1")
  assert.eq(c:workflow_signal("order-1", "approve", {input = {"ops"}, identity = "assay"}), true)
  assert.eq(fake:last().path, "/api/v1/namespaces/default/workflows/order-1/signal/approve")
  assert.eq(c:workflow_terminate("order-1", {reason = "cancelled by ops"}), true)
  assert.eq(c:workflow_describe("order-1").workflowExecutionInfo.status, "WORKFLOW_EXECUTION_STATUS_TERMINATED")
  local r, body = c:workflow_signal("order-1", "approve")
  assert.eq(r, nil)
  assert.eq(body.message, "workflow execution already completed")
  assert.eq(c:workflow_terminate("order-1"), nil)
end)

test("schedules: create, list, describe, delete", function()
  local c = client()
  local sched = {spec = {interval = {{interval = "3600s"}}},
    action = {startWorkflow = {workflowId = "nightly", workflowType = {name = "Report"}, taskQueue = {name = "reports"},
      input = {{full = true}}}}}
  local created = c:schedule_create("nightly-report", sched, {request_id = "s-1"})
  assert.eq(created.conflictToken, "AQ==")
  local list = c:schedules()
  assert.eq(#list, 1)
  assert.eq(list[1].scheduleId, "nightly-report")
  local d = c:schedule_describe("nightly-report")
  assert.eq(d.schedule.action.startWorkflow.workflowType.name, "Report")
  assert.raises(function() c:schedule_create("nightly-report", sched) end,
    [[^temporal\.schedule_create: POST /api/v1/namespaces/default/schedules/nightly-report: 409 schedule with this ID is already registered$]])
  assert.eq(c:schedule_delete("nightly-report", {identity = "assay"}), true)
  assert.eq(fake:last().query, {identity = "assay"})
  assert.eq(c:schedule_delete("nightly-report"), nil)
  assert.eq(c:schedule_describe("nightly-report"), nil)
end)

test("401 and 403 with Temporal's text; the key never in a message", function()
  local bad = client{api_key = "forged-key-123"}
  local ok, err = pcall(bad.namespaces, bad)
  assert.eq(ok, false)
  assert.eq(err, "temporal.namespaces: GET /api/v1/namespaces: 401 Request unauthorized.")
  assert.eq(err:find("forged-key-123", 1, true), nil)
  local ro = client{api_key = "reader-key"}
  assert.eq(#ro:workflows(), 0)
  assert.raises(function() start(ro, "x") end,
    [[^temporal\.workflow_start: POST /api/v1/namespaces/default/workflows/x: 403 Request unauthorized\.$]])
end)

test("bad arguments carry the caller's wording", function()
  local c = client()
  assert.raises(function() c:workflow_start{id = "x", type = "T"} end,
    [[temporal\.workflow_start: bad argument #1 'opts' \(field 'task_queue': non-empty string expected, got nil\)]])
  assert.raises(function() start(c, "x", {run_timeout = "1h"}) end, [[field 'run_timeout': seconds or a duration]])
  assert.raises(function() c:workflow_signal("x") end, [[bad argument #2 'signal']])
  assert.raises(function() c:workflows{limit = 0} end, [[field 'limit': positive integer expected]])
end)

test("network errors carry the client's message without a position", function()
  local c = temporal.client{url = "http://127.0.0.1:1", timeout = 2}
  local ok, err = pcall(c.namespaces, c)
  assert.eq(ok, false)
  assert.matches(err, "^temporal\\.namespaces: ")
  assert.eq(err:find("temporal_test.lua", 1, true), nil)
end)

describe("the fake is strict", function()
  local H = {authorization = "Bearer writer-key", ["content-type"] = "application/json"}
  local function expect_violation(resp, status, pat)
    assert.eq(resp.status, status)
    assert.eq(#fake.violations, 1)
    assert.matches(fake.violations[1], pat)
    fake.violations = {}
  end
  test("unknown path, parameter, field; canonical payloads where the client sends shorthand", function()
    expect_violation(http.get(fake.url .. "/api/v1/namespace", {headers = H}), 404, "no such endpoint")
    expect_violation(http.get(fake.url .. "/api/v1/namespaces/default/workflows", {headers = H, query = {limit = "1"}}),
      400, "unexpected query parameter 'limit'")
    expect_violation(http.post(fake.url .. "/api/v1/namespaces/default/workflows/w",
      json.encode{workflowType = {name = "T"}, taskQueue = {name = "q"}, task_queue = "q"}, {headers = H}), 400,
      "unknown field")
    expect_violation(http.post(fake.url .. "/api/v1/namespaces/default/workflows/w",
      json.encode{workflowType = {name = "T"}, taskQueue = {name = "q"}, workflowRunTimeout = 60}, {headers = H}), 400,
      "Duration")
    expect_violation(http.post(fake.url .. "/api/v1/namespaces/default/workflows/w",
      json.encode{workflowType = {name = "T"}, taskQueue = {name = "q"}, input = {payloads = {}}}, {headers = H}), 400,
      "shorthand")
  end)
end)

test("workflow_wait: completed; terminated raises; a timeout raises with the last status", function()
  local f = dofile(here .. "/fake_temporal.lua").start{complete_after = 3}
  local c = temporal.client{url = f.url}
  start(c, "order-1")
  local d = c:workflow_wait("order-1", {timeout = 5, interval = 0.05})
  assert.eq(d.workflowExecutionInfo.status, "WORKFLOW_EXECUTION_STATUS_COMPLETED")
  assert.eq(f.violations, {})
  f:stop()
  local c2 = client()
  start(c2, "order-2")
  assert.raises(function() c2:workflow_wait("order-2", {timeout = 0.2, interval = 0.05}) end,
    [[^temporal\.workflow_wait: order-2: timed out after 0\.2s; last state: WORKFLOW_EXECUTION_STATUS_RUNNING$]])
  c2:workflow_terminate("order-2", {reason = "stop"})
  assert.raises(function() c2:workflow_wait("order-2", {timeout = 5, interval = 0.05}) end,
    [[^temporal\.workflow_wait: order-2: WORKFLOW_EXECUTION_STATUS_TERMINATED$]])
  assert.raises(function() c2:workflow_wait("ghost", {timeout = 0.1, interval = 0.05}) end, "last state: not found$")
  assert.raises(function() c2:workflow_wait("x", {timeout = "1m"}) end, [[bad argument #2 'opts\.timeout']])
end)
