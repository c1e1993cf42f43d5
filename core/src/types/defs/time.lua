---@meta _
-- Assay core globals: time, sleep, async.

---Clocks, formatting and parsing in time zones. `time()` is the epoch time in seconds.
---@class assay.time
---@overload fun(): number
time = {}

---@class (exact) assay.time.ZoneOptions
---@field tz? string "UTC" (default), "local", an offset ("+02:00") or an IANA zone name.

---@class (exact) assay.time.IsoOptions
---@field tz? string "UTC" (default), "local", an offset or an IANA zone name.
---@field precision? integer Fractional digits, 0-9 (default: as many as needed, at most 6).

---@class (exact) assay.time.ParseOptions
---@field format? string A strftime format (default: RFC 3339 and the HTTP date forms).
---@field tz? string The zone of a text without an offset.

---Epoch seconds, as a float (microsecond resolution).
---@return number
function time.now() end

---Seconds on a clock that never goes back.
---@return number
function time.monotonic() end

---RFC 3339 text of `ts` (default: now).
---@param ts? number
---@param opts? assay.time.IsoOptions
---@return string
function time.iso(ts, opts) end

---strftime of `ts` (nil: now).
---@param ts number?
---@param fmt string
---@param opts? assay.time.ZoneOptions
---@return string
function time.format(ts, fmt, opts) end

---Epoch seconds of a date text.
---@param text string
---@param opts? assay.time.ParseOptions
---@return number
function time.parse(text, opts) end

---Waits `seconds` (other coroutines keep running); `sleep(0)` lets the ready ones run.
---@param seconds number
function sleep(seconds) end

---Concurrency on the script's thread.
---@class assay.async
async = {}

---A spawned function, running as its own coroutine.
---@class assay.async.Task
local Task = {}

---Fn's results, or its error raised again.
---@return any ...
function Task:await() end

---Stops it (later awaits raise "task cancelled").
---@return boolean cancelled
function Task:cancel() end

---Whether it has finished.
---@return boolean
function Task:done() end

---@class assay.async.Interval
local Interval = {}

---@return boolean cancelled
function Interval:cancel() end

---Runs `fn(...)` as its own coroutine; returns its task at once.
---@param fn function
---@param ... any
---@return assay.async.Task
function async.spawn(fn, ...) end

---Calls `fn()` every `seconds` until cancelled.
---@param seconds number
---@param fn fun()
---@return assay.async.Interval
function async.interval(seconds, fn) end

---Awaits every task: the list of their first results (the first failure raises).
---@param tasks assay.async.Task[]
---@return any[]
function async.all(tasks) end
