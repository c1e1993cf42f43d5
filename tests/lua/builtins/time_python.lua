-- time.format / time.iso / time.parse against Python's datetime + zoneinfo (and
-- email.utils for HTTP dates) in UTC, Europe/Berlin, America/New_York, Australia/Lord_Howe
-- (a 30-minute DST shift) and Asia/Kolkata (+05:30, wartime offsets): every offset change in
-- 2025 and 2100 (past the zone files' tables: their POSIX rules) to the second, a second and
-- 15-minute steps around each, local times in every gap and repeated hour (fold=0), seeded
-- random instants 1901-2200, and custom formats. Needs python3 with zoneinfo and the
-- system's tz database; fails, never skips, without them.

local shell = require("fixtures.shell")
local quote, capture = shell.quote, shell.capture

local ZONES = {"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"}
local FORMAT = "%Y-%m-%d %H:%M:%S %y %b %B %a %A %j %e %I %p %z %Z %f %F %T %D %R %u %w %%"
local request = {format = FORMAT, formats = {}, locals = {}, customs = {}, https = {}}

local function offset(ts, tz)
  local z = time.format(ts, "%z", {tz = tz})
  local sign = z:sub(1, 1) == "-" and -1 or 1
  return sign * (tonumber(z:sub(2, 3)) * 3600 + tonumber(z:sub(4, 5)) * 60)
end

-- Offset changes of `tz` in the year starting at `from`, each to the second (bisection).
local function changes(tz, from)
  local found = {}
  local step = 3600
  for t = from, from + 366 * 86400, step do
    if offset(t, tz) ~= offset(t + step, tz) then
      local lo, hi = t, t + step
      while hi - lo > 1 do
        local mid = (lo + hi) // 2
        if offset(mid, tz) == offset(lo, tz) then lo = mid else hi = mid end
      end
      found[#found + 1] = hi
    end
  end
  return found
end

local transitions = 0
for _, tz in ipairs(ZONES) do
  for _, year_start in ipairs({1735689600, 4102444800}) do   -- 2025-01-01, 2100-01-01
    for _, t in ipairs(changes(tz, year_start)) do
      transitions = transitions + 1
      for d = -7200, 7200, 900 do
        request.formats[#request.formats + 1] = {ts = t + d, tz = tz}
      end
      for _, d in ipairs({-1, 1}) do
        request.formats[#request.formats + 1] = {ts = t + d + 0.5, tz = tz}
      end
      -- local wall-clock times around the change: gaps and repeats included
      local before = t + offset(t - 1, tz)
      for d = -5400, 5400, 900 do
        local ts = before + d
        request.locals[#request.locals + 1] = {["local"] = time.format(ts, "%Y-%m-%dT%H:%M:%S"), tz = tz}
      end
      request.locals[#request.locals + 1] = {["local"] = time.format(before - 1, "%Y-%m-%dT%H:%M:%S"), tz = tz}
    end
  end
end
assert.ge(transitions, 12)   -- Berlin, New York, Lord Howe: 2 a year each, both years

math.randomseed(7)
for _ = 1, 400 do
  local ts = math.random(-2200000000, 7258118400) + math.random(0, 999999) / 1e6
  request.formats[#request.formats + 1] = {ts = ts, tz = ZONES[math.random(#ZONES)]}
end

local customs = {
  {"06/11/94 08:49PM", "%d/%m/%y %I:%M%p", "UTC"},
  {"12:05AM 2026-01-01", "%I:%M%p %Y-%m-%d", "America/New_York"},
  {"2026-084 12:00:00 +0530", "%Y-%j %H:%M:%S %z", "UTC"},
  {"Tuesday 31 March 2026 10:00", "%A %d %B %Y %H:%M", "Europe/Berlin"},
  {"2025-03-30 02:30:00", "%Y-%m-%d %H:%M:%S", "Europe/Berlin"},
  {"2025-10-26 02:30:00.25", "%Y-%m-%d %H:%M:%S.%f", "Europe/Berlin"},
  {"2025-04-06 01:45", "%Y-%m-%d %H:%M", "Australia/Lord_Howe"},
  {"2025-10-05 02:15", "%Y-%m-%d %H:%M", "Australia/Lord_Howe"},
  {"20251102T013000", "%Y%m%dT%H%M%S", "America/New_York"},
  {"1 Jan 2000 00:00:00 -0800", "%d %b %Y %H:%M:%S %z", "UTC"},
  {"Jul  4 1999", "%b %d %Y", "Asia/Kolkata"},
}
for _, c in ipairs(customs) do
  request.customs[#request.customs + 1] = {text = c[1], format = c[2], tz = c[3]}
end
request.https = {
  "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
  "Thu, 01 Jan 1970 00:00:00 GMT", "Fri, 31 Dec 1999 23:59:59 GMT", "Tue, 15 Nov 1994 12:45:26 +0100",
  "Mon, 29 Feb 2016 10:00:00 -0730", "Wednesday, 09-Jun-21 10:18:14 GMT", "Wed Jun  9 10:18:14 2021",
}

local dir = fs.tempdir()
fs.write(dir .. "/request.json", json.encode(request))
local python = capture("command -v python3 || echo missing-python3"):gsub("%s+$", "")
local answer = json.parse(capture(("%s time_peer.py %s"):format(quote(python), quote(dir .. "/request.json"))))
fs.remove(dir, {recursive = true})

local checked = 0
for i, case in ipairs(request.formats) do
  local want = answer.formats[i]
  local what = ("ts %.6f in %s"):format(case.ts, case.tz)
  assert.eq(time.format(case.ts, FORMAT, {tz = case.tz}), want.format, "time.format of " .. what)
  assert.eq(time.iso(case.ts, {tz = case.tz, precision = 0}), want.iso0, "time.iso of " .. what)
  assert.eq(time.iso(case.ts, {tz = case.tz, precision = 3}), want.iso3, "time.iso of " .. what)
  assert.eq(time.iso(case.ts, {tz = case.tz, precision = 6}), want.iso6, "time.iso of " .. what)
  -- and back
  assert.eq(time.iso(time.parse(want.iso6), {tz = case.tz, precision = 6}), want.iso6, "time.parse of " .. want.iso6)
  checked = checked + 5
end
for i, case in ipairs(request.locals) do
  assert.eq(time.parse(case["local"], {tz = case.tz}), answer.locals[i], ("local %s in %s"):format(case["local"], case.tz))
  checked = checked + 1
end
for i, case in ipairs(request.customs) do
  assert.eq(time.parse(case.text, {format = case.format, tz = case.tz}), answer.customs[i],
    ("%q by %q in %s"):format(case.text, case.format, case.tz))
  checked = checked + 1
end
for i, text in ipairs(request.https) do
  assert.eq(time.parse(text), answer.https[i], "HTTP date " .. text)
  checked = checked + 1
end
print(("time: %d cases agree with Python's datetime and zoneinfo (%d offset changes)"):format(checked, transitions))
