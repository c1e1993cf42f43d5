-- A fake Loki for the loki package's tests, written with Assay's own http.server.
--
-- It follows the Loki HTTP API as documented at
--   https://grafana.com/docs/loki/latest/reference/loki-http-api/
-- (push: POST /loki/api/v1/push, JSON {"streams": [{"stream": {labels}, "values":
-- [["<ns since epoch, as a string>", "<line>"(, {structured metadata})]]}]}, answered 204;
-- GET /loki/api/v1/query, /query_range, /labels, /label/<name>/values, /series, /ready), and
-- Loki's own request parsing (pkg/loghttp/params.go: timestamps as nanoseconds, float seconds
-- or RFC 3339; `since` a Prometheus duration; `step` float seconds or a duration; `direction`
-- forward|backward; `limit` a positive integer; multi-tenancy through X-Scope-OrgID, missing ->
-- 401 "no org id"). Errors are plain text, as Loki writes them.
--
-- It CHECKS every request: a wrong method, an unknown path, an unknown or malformed query
-- parameter, a wrong content type or a malformed push body is answered as Loki would (404 / 400
-- / 405) AND recorded in `fake.violations`, which the tests assert empty after each case.
-- Pushed streams are kept, and queries run against them (stream selectors with =, !=, =~, !~;
-- line filters |=, !=, |~, !~; count_over_time and rate), so push-then-query is a real round trip.

local fake = {}

local function now_ns()
  local t = time()
  local s = math.floor(t)
  return s * 1000000000 + math.floor((t - s) * 1e6) * 1000
end

-- Loki's parseTimestamp: "" -> default; containing "." -> float seconds; an integer of at most
-- 10 digits -> seconds, longer -> nanoseconds; else RFC 3339 (nano).
local function parse_ts(v, default)
  if v == nil or v == "" then return default end
  if v:find(".", 1, true) then
    local f = tonumber(v)
    if f then return math.floor(f * 1e9) end
  end
  if v:match("^%-?%d+$") then
    local n = math.tointeger(tonumber(v))
    if not n then return nil, "invalid timestamp " .. v end
    if #v <= 10 then return n * 1000000000 end
    return n
  end
  local ok, t = pcall(time.parse, v)
  if ok and v:match("^%d%d%d%d%-%d%d%-%d%d[Tt]%d%d:%d%d:%d%d") then
    local frac = v:match("%d%d:%d%d:%d%d%.(%d+)")
    local ns = frac and tonumber((frac .. "000000000"):sub(1, 9)) or 0
    return math.floor(t - ns / 1e9 + 0.5) * 1000000000 + ns
  end
  return nil, ("cannot parse %q to a valid timestamp"):format(v)
end

local UNITS = { { "y", 365 * 86400000 }, { "w", 7 * 86400000 }, { "d", 86400000 }, { "h", 3600000 },
  { "ms", 1 }, { "m", 60000 }, { "s", 1000 } }
local ORDER = { y = 1, w = 2, d = 3, h = 4, m = 5, s = 6, ms = 7 }

-- Prometheus' model.ParseDuration: "1h30m", "90s", "500ms"; units in decreasing order, no floats.
local function parse_duration(v)
  if v == nil or v == "" then return nil, "empty duration string" end
  if v == "0" then return 0 end
  local pos, total, last = 1, 0, 0
  while pos <= #v do
    local num, unit, nxt = v:match("^(%d+)(%a+)()", pos)
    if not num then return nil, ("not a valid duration string: %q"):format(v) end
    local ms
    for _, u in ipairs(UNITS) do if u[1] == unit then ms = u[2] end end
    if not ms or ORDER[unit] <= last then return nil, ("not a valid duration string: %q"):format(v) end
    last = ORDER[unit]
    total = total + tonumber(num) * ms
    pos = nxt
  end
  return total * 1000000 -- ns
end

-- Loki's parseSecondsOrDuration (step, interval): float seconds, else a duration.
local function parse_step(v)
  local f = tonumber(v)
  if f and v:match("^[%d.]+$") then return math.floor(f * 1e9) end
  return parse_duration(v)
end

-- LogQL: selectors, line filters, count_over_time / rate ------------------------------------

local function parse_string(s, pos)
  local q = s:sub(pos, pos)
  if q == "`" then
    local close = s:find("`", pos + 1, true)
    if not close then return nil, "unterminated raw string" end
    return s:sub(pos + 1, close - 1), close + 1
  end
  if q ~= '"' then return nil, "expected a string" end
  local out, i = {}, pos + 1
  while i <= #s do
    local c = s:sub(i, i)
    if c == '"' then return table.concat(out), i + 1 end
    if c == "\\" then
      local e = s:sub(i + 1, i + 1)
      local simple = { n = "\n", t = "\t", r = "\r", ['"'] = '"', ["\\"] = "\\" }
      if simple[e] then
        out[#out + 1] = simple[e]; i = i + 2
      elseif e == "x" and s:sub(i + 2, i + 3):match("^%x%x$") then
        out[#out + 1] = string.char(tonumber(s:sub(i + 2, i + 3), 16)); i = i + 4
      else
        return nil, "invalid escape \\" .. e
      end
    elseif c:match("%c") then
      return nil, "control character in string"
    else
      out[#out + 1] = c; i = i + 1
    end
  end
  return nil, "unterminated string"
end

local function skip_ws(s, pos) return (s:match("^%s*()", pos)) end

local function syntax_error(s, pos, what)
  return nil, ("parse error at line 1, col %d: syntax error: %s"):format(pos, what)
end

local function parse_selector(s, pos)
  pos = skip_ws(s, pos)
  if s:sub(pos, pos) ~= "{" then return syntax_error(s, pos, "unexpected input, expecting {") end
  pos = pos + 1
  local matchers = {}
  while true do
    pos = skip_ws(s, pos)
    local name, after = s:match("^([%a_][%w_]*)()", pos)
    if not name then
      if s:sub(pos, pos) == "}" and #matchers == 0 then
        return syntax_error(s, pos, "unexpected }, expecting IDENTIFIER")
      end
      return syntax_error(s, pos, "unexpected input, expecting IDENTIFIER")
    end
    pos = skip_ws(s, after)
    local op = s:match("^([=!]~)", pos) or s:match("^(!=)", pos) or s:match("^(=)", pos)
    if not op then return syntax_error(s, pos, "unexpected input, expecting = or != or =~ or !~") end
    pos = skip_ws(s, pos + #op)
    local value, nxt = parse_string(s, pos)
    if not value then return syntax_error(s, pos, nxt) end
    matchers[#matchers + 1] = { name = name, op = op, value = value }
    pos = skip_ws(s, nxt)
    local c = s:sub(pos, pos)
    if c == "}" then pos = pos + 1; break end
    if c ~= "," then return syntax_error(s, pos, "unexpected input, expecting , or }") end
    pos = pos + 1
  end
  local useful = false
  for _, m in ipairs(matchers) do
    if (m.op == "=" and m.value ~= "") or (m.op == "=~" and not regex.match("", "^(?:" .. m.value .. ")$")) then
      useful = true
    end
  end
  if not useful then
    return nil, "queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" will"
  end
  return matchers, pos
end

local function parse_log_query(s, pos)
  local matchers, p = parse_selector(s, pos)
  if not matchers then return nil, p end
  local filters = {}
  while true do
    p = skip_ws(s, p)
    local op = s:match("^(|=)", p) or s:match("^(|~)", p) or s:match("^(!=)", p) or s:match("^(!~)", p)
    if not op then break end
    p = skip_ws(s, p + 2)
    local value, nxt = parse_string(s, p)
    if not value then return syntax_error(s, p, nxt) end
    filters[#filters + 1] = { op = op, value = value }
    p = nxt
  end
  return { matchers = matchers, filters = filters }, p
end

-- {kind = "log", log = ...} or {kind = "metric", fn = "count_over_time"|"rate", log, range_ns}
local function parse_logql(s)
  local fn, p = s:match("^%s*([%a_]+)%s*%(()")
  if fn then
    if fn ~= "count_over_time" and fn ~= "rate" then
      return nil, ("parse error at line 1, col 1: syntax error: unexpected IDENTIFIER %s"):format(fn)
    end
    local log, q = parse_log_query(s, p)
    if not log then return nil, q end
    local dur, after = s:match("^%s*%[([%w]+)%]%s*%)%s*()", q)
    if not dur then return syntax_error(s, q, "unexpected input, expecting [range] and )") end
    local range_ns, err = parse_duration(dur)
    if not range_ns then return nil, err end
    if after <= #s then return syntax_error(s, after, "unexpected input after the query") end
    return { kind = "metric", fn = fn, log = log, range_ns = range_ns }
  end
  local log, q = parse_log_query(s, 1)
  if not log then return nil, q end
  q = skip_ws(s, q)
  if q <= #s then return syntax_error(s, q, "unexpected input after the query") end
  return { kind = "log", log = log }
end

local function stream_matches(labels, matchers)
  for _, m in ipairs(matchers) do
    local v = labels[m.name] or ""
    local ok
    if m.op == "=" then ok = v == m.value
    elseif m.op == "!=" then ok = v ~= m.value
    elseif m.op == "=~" then ok = regex.match(v, "^(?:" .. m.value .. ")$")
    else ok = not regex.match(v, "^(?:" .. m.value .. ")$") end
    if not ok then return false end
  end
  return true
end

local function line_matches(line, filters)
  for _, f in ipairs(filters) do
    local ok
    if f.op == "|=" then ok = line:find(f.value, 1, true) ~= nil
    elseif f.op == "!=" then ok = line:find(f.value, 1, true) == nil
    elseif f.op == "|~" then ok = regex.match(line, f.value)
    else ok = not regex.match(line, f.value) end
    if not ok then return false end
  end
  return true
end

local function label_key(labels)
  local names = {}
  for k in pairs(labels) do names[#names + 1] = k end
  table.sort(names)
  local parts = {}
  for i, k in ipairs(names) do parts[i] = k .. "=" .. labels[k] end
  return table.concat(parts, ",")
end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

local function fmt_value(v)
  if v == math.floor(v) then return ("%d"):format(math.floor(v)) end
  return ("%.17g"):format(v)
end

local STATS = { summary = { bytesProcessedPerSecond = 0, linesProcessedPerSecond = 0,
  totalBytesProcessed = 0, totalLinesProcessed = 0, execTime = 0.001, queueTime = 0 } }

--- Starts a fake Loki on loopback.
--- opts: tenant (require this X-Scope-OrgID; missing -> 401 "no org id"),
---       auth ({user, password} or {bearer = token}: a gateway in front of Loki; wrong -> 401),
---       readonly_token (a bearer token the gateway lets read but not push: 403),
---       not_ready (answer /ready with 503 and Loki's reason).
function fake.start(opts)
  opts = opts or {}
  local self = { violations = {}, requests = {}, streams = {}, not_ready = opts.not_ready }

  local function violation(req, text)
    self.violations[#self.violations + 1] = ("%s %s: %s"):format(req.method, req.path, text)
  end
  local function text(status, body)
    return { status = status, headers = { ["content-type"] = "text/plain; charset=utf-8" }, body = body .. "\n" }
  end
  local function bad(req, msg)
    violation(req, msg)
    return text(400, msg)
  end
  local function success(data)
    return { status = 200, json = { status = "success", data = data } }
  end

  -- Authorization by the gateway, then the tenant (Loki with auth_enabled: true).
  local function guard(req, writes)
    self.requests[#self.requests + 1] = req
    if opts.auth then
      local h = req.headers.authorization
      local want
      if opts.auth.bearer then want = "Bearer " .. opts.auth.bearer
      else want = "Basic " .. base64.encode(opts.auth[1] .. ":" .. opts.auth[2]) end
      local readonly = opts.readonly_token and h == "Bearer " .. opts.readonly_token
      if h ~= want and not readonly then
        return text(401, "Unauthorized: invalid or missing credentials")
      end
      if readonly and writes then
        return text(403, "Forbidden: this token may only read logs")
      end
    end
    if opts.tenant then
      local org = req.headers["x-scope-orgid"]
      if org == nil or org == "" then return text(401, "no org id") end
      if org ~= opts.tenant then return text(401, "no org id") end
    end
    if req.headers.accept and not (req.headers.accept:find("application/json", 1, true)
        or req.headers.accept:find("*/*", 1, true)) then
      violation(req, "unexpected accept " .. req.headers.accept)
    end
    return nil
  end

  -- Query parameters: only `allowed` ones, each at most once (`repeatable` may repeat).
  local function params(req, allowed, repeatable)
    for k, v in pairs(req.query) do
      if not allowed[k] then return nil, bad(req, ("unexpected query parameter '%s'"):format(k)) end
      if type(v) == "table" and not (repeatable and repeatable[k]) then
        return nil, bad(req, ("query parameter '%s' given more than once"):format(k))
      end
    end
    return req.query
  end

  local function bounds(req, q)
    local now = now_ns()
    local end_ns, err = parse_ts(q["end"], now)
    if not end_ns then return nil, bad(req, "invalid parameter 'end': " .. err) end
    local start_ns
    if q.since then
      local since, serr = parse_duration(q.since)
      if not since then return nil, bad(req, "invalid parameter 'since': " .. serr) end
      start_ns = end_ns - since
    end
    local s, e2 = parse_ts(q.start, start_ns or (end_ns - 3600 * 1000000000))
    if not s then return nil, bad(req, "invalid parameter 'start': " .. e2) end
    if end_ns < s then
      return nil, bad(req, "end timestamp must not be before or equal to start time")
    end
    return { s, end_ns }
  end

  local function limit_dir(req, q)
    local limit = 100
    if q.limit then
      if not q.limit:match("^%d+$") or tonumber(q.limit) == 0 then
        return nil, nil, bad(req, ("invalid parameter 'limit': %q is not a positive integer"):format(q.limit))
      end
      limit = tonumber(q.limit)
    end
    local dir = "BACKWARD"
    if q.direction then
      dir = q.direction:upper()
      if dir ~= "FORWARD" and dir ~= "BACKWARD" then
        return nil, nil, bad(req, ("invalid parameter 'direction': invalid direction '%s'"):format(q.direction))
      end
    end
    return limit, dir
  end

  local function entries(log, from_ns, to_ns)
    local out = {}
    for _, st in ipairs(self.streams) do
      if stream_matches(st.labels, log.matchers) then
        for _, e in ipairs(st.entries) do
          if e.ts >= from_ns and e.ts < to_ns and line_matches(e.line, log.filters) then
            out[#out + 1] = { stream = st, ts = e.ts, line = e.line, metadata = e.metadata }
          end
        end
      end
    end
    return out
  end

  local function log_result(log, s, e, limit, dir)
    local all = entries(log, s, e)
    table.sort(all, function(a, b)
      if dir == "FORWARD" then return a.ts < b.ts end
      return a.ts > b.ts
    end)
    local by, order = {}, {}
    for i = 1, math.min(limit, #all) do
      local x = all[i]
      local key = x.stream.key
      if not by[key] then
        by[key] = { stream = copy(x.stream.labels), values = {} }
        order[#order + 1] = key
      end
      local v = { tostring(x.ts), x.line }
      if x.metadata then v[3] = x.metadata end
      table.insert(by[key].values, v)
    end
    local result = {}
    for _, k in ipairs(order) do result[#result + 1] = by[k] end
    return { resultType = "streams", result = json.array(result), stats = STATS }
  end

  local function metric_at(m, at_ns)
    local counts, labels = {}, {}
    for _, x in ipairs(entries(m.log, at_ns - m.range_ns, at_ns + 1)) do
      local key = x.stream.key
      counts[key] = (counts[key] or 0) + 1
      labels[key] = x.stream.labels
    end
    local out = {}
    for key, n in pairs(counts) do
      local v = n
      if m.fn == "rate" then v = n / (m.range_ns / 1e9) end
      out[key] = { labels = labels[key], value = v }
    end
    return out
  end

  local function parse_query(req, q)
    if q.query == nil or q.query == "" then
      return nil, bad(req, "query parameter 'query' is required")
    end
    local parsed, err = parse_logql(q.query)
    if not parsed then
      violation(req, "LogQL rejected: " .. err)
      return nil, text(400, err)
    end
    return parsed
  end

  local routes = { GET = {}, POST = {} }

  routes.POST["/loki/api/v1/push"] = function(req)
    local denied = guard(req, true)
    if denied then return denied end
    local ctype = req.headers["content-type"] or ""
    if not ctype:match("^application/json") then
      -- Loki reads any other content type as snappy-compressed protobuf.
      return bad(req, "snappy: corrupt input (content-type " .. ctype .. ", application/json expected)")
    end
    if next(req.query) then return bad(req, "push takes no query parameters") end
    local ok, body = pcall(json.parse, req.body)
    if not ok or type(body) ~= "table" then return bad(req, "invalid JSON body") end
    for k in pairs(body) do
      if k ~= "streams" then return bad(req, ("unknown field %q in push request"):format(k)) end
    end
    if type(body.streams) ~= "table" or #body.streams == 0 then
      return bad(req, "push request without streams")
    end
    local parsed = {}
    for i, st in ipairs(body.streams) do
      for k in pairs(st) do
        if k ~= "stream" and k ~= "values" then
          return bad(req, ("stream %d: unknown field %q"):format(i, k))
        end
      end
      if type(st.stream) ~= "table" or next(st.stream) == nil then
        return bad(req, "error at least one label pair is required per stream")
      end
      for k, v in pairs(st.stream) do
        if type(k) ~= "string" or not k:match("^[%a_][%w_]*$") then
          return bad(req, ("error parsing labels: invalid label name %s"):format(tostring(k)))
        end
        if type(v) ~= "string" then
          return bad(req, ("stream %d: label %s: string value expected"):format(i, k))
        end
      end
      if type(st.values) ~= "table" or #st.values == 0 then
        return bad(req, ("stream %d: values must be a non-empty array"):format(i))
      end
      local es = {}
      for j, v in ipairs(st.values) do
        if type(v) ~= "table" or (#v ~= 2 and #v ~= 3) then
          return bad(req, ("stream %d value %d: [\"<ns>\", \"<line>\"(, {metadata})] expected"):format(i, j))
        end
        if type(v[1]) ~= "string" or not v[1]:match("^%d+$") then
          return bad(req, ("stream %d value %d: timestamp must be a string of nanoseconds, got %s"):format(
            i, j, json.encode(v[1])))
        end
        local ts = math.tointeger(tonumber(v[1]))
        if not ts or ts < 1000000000000000000 then
          return bad(req, ("stream %d value %d: timestamp %s is not in nanoseconds"):format(i, j, v[1]))
        end
        if type(v[2]) ~= "string" then
          return bad(req, ("stream %d value %d: the line must be a string"):format(i, j))
        end
        if v[3] ~= nil then
          if type(v[3]) ~= "table" or #v[3] > 0 then
            return bad(req, ("stream %d value %d: structured metadata must be an object"):format(i, j))
          end
          for mk, mv in pairs(v[3]) do
            if type(mv) ~= "string" then
              return bad(req, ("stream %d value %d: metadata %s: string expected"):format(i, j, mk))
            end
          end
        end
        es[#es + 1] = { ts = ts, line = v[2], metadata = v[3] }
      end
      parsed[#parsed + 1] = { labels = st.stream, entries = es }
    end
    for _, p in ipairs(parsed) do
      local key = label_key(p.labels)
      local target
      for _, st in ipairs(self.streams) do if st.key == key then target = st end end
      if not target then
        target = { key = key, labels = p.labels, entries = {} }
        self.streams[#self.streams + 1] = target
      end
      for _, e in ipairs(p.entries) do
        local dup = false
        for _, old in ipairs(target.entries) do
          if old.ts == e.ts and old.line == e.line then dup = true end
        end
        if not dup then target.entries[#target.entries + 1] = e end
      end
    end
    return { status = 204 }
  end

  routes.GET["/loki/api/v1/query"] = function(req)
    local denied = guard(req, false)
    if denied then return denied end
    local q, resp = params(req, { query = true, limit = true, time = true, direction = true })
    if not q then return resp end
    local parsed, err = parse_query(req, q)
    if not parsed then return err end
    local at, terr = parse_ts(q.time, now_ns())
    if not at then return bad(req, "invalid parameter 'time': " .. terr) end
    local _, _, lerr = limit_dir(req, q)
    if lerr then return lerr end
    if parsed.kind == "log" then
      -- Loki >= 3.2 (grafana/loki#13421) refuses log queries on the instant endpoint
      return text(400, "log queries are not supported as an instant query type, please change your query to a range query type")
    end
    local result = {}
    for _, s in pairs(metric_at(parsed, at)) do
      result[#result + 1] = { metric = s.labels, value = { at / 1e9, fmt_value(s.value) } }
    end
    return success({ resultType = "vector", result = json.array(result), stats = STATS })
  end

  routes.GET["/loki/api/v1/query_range"] = function(req)
    local denied = guard(req, false)
    if denied then return denied end
    local q, resp = params(req, { query = true, limit = true, start = true, ["end"] = true,
      since = true, step = true, interval = true, direction = true })
    if not q then return resp end
    local parsed, err = parse_query(req, q)
    if not parsed then return err end
    local b, berr = bounds(req, q)
    if not b then return berr end
    local limit, dir, lerr = limit_dir(req, q)
    if lerr then return lerr end
    local step
    if q.step then
      local serr
      step, serr = parse_step(q.step)
      if not step or step <= 0 then
        return bad(req, "invalid parameter 'step': " .. (serr or "zero or negative query resolution step widths are not accepted. Try a positive integer"))
      end
    else
      step = math.max(((b[2] - b[1]) // 250) // 1000000000 * 1000000000, 1000000000)
    end
    if q.interval then
      local iv, ierr = parse_step(q.interval)
      if not iv then return bad(req, "invalid parameter 'interval': " .. ierr) end
    end
    if parsed.kind == "log" then
      return success(log_result(parsed.log, b[1], b[2], limit, dir))
    end
    if (b[2] - b[1]) // step > 11000 then
      return text(400, "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")
    end
    local series, order = {}, {}
    local t = b[1]
    while t <= b[2] do
      for key, s in pairs(metric_at(parsed, t)) do
        if not series[key] then
          series[key] = { metric = s.labels, values = {} }
          order[#order + 1] = key
        end
        table.insert(series[key].values, { t / 1e9, fmt_value(s.value) })
      end
      t = t + step
    end
    local result = {}
    table.sort(order)
    for _, k in ipairs(order) do result[#result + 1] = series[k] end
    return success({ resultType = "matrix", result = json.array(result), stats = STATS })
  end

  local function streams_in(req, q)
    local sel
    if q.query then
      local parsed, err = parse_selector(q.query, 1)
      if not parsed then
        violation(req, "selector rejected: " .. err)
        return nil, text(400, err)
      end
      sel = parsed
    end
    local out = {}
    for _, st in ipairs(self.streams) do
      if not sel or stream_matches(st.labels, sel) then out[#out + 1] = st end
    end
    return out
  end

  routes.GET["/loki/api/v1/labels"] = function(req)
    local denied = guard(req, false)
    if denied then return denied end
    local q, resp = params(req, { start = true, ["end"] = true, since = true, query = true })
    if not q then return resp end
    local b, berr = bounds(req, q)
    if not b then return berr end
    local sts, serr = streams_in(req, q)
    if not sts then return serr end
    local seen, names = {}, {}
    for _, st in ipairs(sts) do
      for k in pairs(st.labels) do
        if not seen[k] then seen[k] = true; names[#names + 1] = k end
      end
    end
    table.sort(names)
    return success(json.array(names))
  end

  routes.GET["/loki/api/v1/label/:name/values"] = function(req)
    local denied = guard(req, false)
    if denied then return denied end
    local q, resp = params(req, { start = true, ["end"] = true, since = true, query = true })
    if not q then return resp end
    if not req.params.name:match("^[%a_][%w_]*$") then
      return bad(req, "invalid label name " .. req.params.name)
    end
    local b, berr = bounds(req, q)
    if not b then return berr end
    local sts, serr = streams_in(req, q)
    if not sts then return serr end
    local seen, values = {}, {}
    for _, st in ipairs(sts) do
      local v = st.labels[req.params.name]
      if v and not seen[v] then seen[v] = true; values[#values + 1] = v end
    end
    table.sort(values)
    return success(json.array(values))
  end

  routes.GET["/loki/api/v1/series"] = function(req)
    local denied = guard(req, false)
    if denied then return denied end
    local q, resp = params(req, { ["match[]"] = true, start = true, ["end"] = true, since = true },
      { ["match[]"] = true })
    if not q then return resp end
    local matches = q["match[]"]
    if matches == nil then return bad(req, "match[] parameter is required") end
    if type(matches) == "string" then matches = { matches } end
    local b, berr = bounds(req, q)
    if not b then return berr end
    local sels = {}
    for _, m in ipairs(matches) do
      local parsed, err = parse_selector(m, 1)
      if not parsed then
        violation(req, "match[] rejected: " .. err)
        return text(400, err)
      end
      sels[#sels + 1] = parsed
    end
    local out = {}
    for _, st in ipairs(self.streams) do
      for _, sel in ipairs(sels) do
        if stream_matches(st.labels, sel) then out[#out + 1] = copy(st.labels); break end
      end
    end
    return success(json.array(out))
  end

  routes.GET["/ready"] = function(req)
    self.requests[#self.requests + 1] = req
    if next(req.query) then return bad(req, "/ready takes no query parameters") end
    if self.not_ready then return text(503, "Ingester not ready: waiting for 15s after being ready") end
    return text(200, "ready")
  end

  local server = http.server(routes, {
    host = "127.0.0.1",
    port = 0,
    after = function(req, resp)
      -- The server's own 404 and 405 mean the client used a path or method Loki does not have.
      if resp.status == 404 then
        violation(req, "no such endpoint in the Loki API")
        return text(404, "404 page not found")
      elseif resp.status == 405 then
        violation(req, "method not allowed on this endpoint")
      end
    end,
  })
  self.port = server.port
  self.url = "http://127.0.0.1:" .. server.port
  self.server = server

  function self:reset()
    self.violations, self.requests, self.streams = {}, {}, {}
    self.not_ready = opts.not_ready
  end

  function self:stop() server:stop() end

  --- The last request the fake saw (method, path, query, headers, body).
  function self:last() return self.requests[#self.requests] end

  return self
end

return fake
