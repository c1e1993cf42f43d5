---@meta _
-- Assay core globals: fs, env, log, process.

---Files and folders (absent under --sandbox). Errors read `fs.read: <path>: <reason>`.
---@class assay.fs
fs = {}

---@class assay.fs.Stat
---@field size integer
---@field is_dir boolean
---@field is_file boolean
---@field mtime number Seconds since the epoch.
---@field mode integer Permission bits (`0o7777`).

---@class (exact) assay.fs.MkdirOptions
---@field parents? boolean Make missing parents too; an existing folder is fine.

---@class (exact) assay.fs.RemoveOptions
---@field recursive? boolean Remove a folder and everything in it.

---Reads a whole regular file.
---@param path string
---@return string data
function fs.read(path) end

---Writes atomically (a temporary file renamed over the target).
---@param path string
---@param data string
function fs.write(path, data) end

---@param path string
---@param data string
function fs.append(path, data) end

---@param path string
---@return boolean
function fs.exists(path) end

---The names in a folder, sorted.
---@param dir string
---@return string[]
function fs.list(dir) end

---The paths matching a shell pattern (`*`, `?`, `[ab]`, `**`), sorted.
---@param pattern string
---@return string[]
function fs.glob(pattern) end

---@param path string
---@param opts? assay.fs.MkdirOptions
function fs.mkdir(path, opts) end

---@param path string
---@param opts? assay.fs.RemoveOptions
function fs.remove(path, opts) end

---@param path string
---@return assay.fs.Stat
function fs.stat(path) end

---@param src string
---@param dst string
function fs.copy(src, dst) end

---@param src string
---@param dst string
function fs.rename(src, dst) end

---A new empty folder under the system's temporary folder.
---@return string path
function fs.tempdir() end

---The process environment.
---@class assay.env
env = {}

---The variable's value, or `default` (nil when not given) when it is unset.
---@generic T
---@param name string
---@param default? T
---@return string|T
function env.get(name, default) end

---Sets a variable (nil unsets it); not available under --sandbox.
---@param name string
---@param value string|number|nil
function env.set(name, value) end

---Every variable, name -> value.
---@return table<string, string>
function env.list() end

---One line per call on stderr; the level from ASSAY_LOG, the format from ASSAY_LOG_FORMAT.
---@class assay.log
log = {}

---@param msg string|number
---@param fields? table<string, any>
function log.debug(msg, fields) end

---@param msg string|number
---@param fields? table<string, any>
function log.info(msg, fields) end

---@param msg string|number
---@param fields? table<string, any>
function log.warn(msg, fields) end

---@param msg string|number
---@param fields? table<string, any>
function log.error(msg, fields) end

---Programs run without blocking the VM (absent under --sandbox).
---@class assay.process
process = {}

---@class (exact) assay.process.Options
---@field env? table<string, string> Variables merged into the environment.
---@field clear_env? boolean Start from an empty environment.
---@field cwd? string
---@field stdin? string|file* The input itself, or `io.stdin` (default: /dev/null).
---@field stdout? "pipe"|"inherit"|"null"
---@field stderr? "pipe"|"inherit"|"null"
---@field timeout? number Seconds; then SIGTERM to the process group (`math.huge`: none).
---@field kill_grace? number Seconds between SIGTERM and SIGKILL (default 2).
---@field check? boolean Raise when the process fails.
---@field max_output? integer Bytes kept per stream.

---@class assay.process.Result
---@field status integer? The exit code; nil when a signal ended the process.
---@field signal integer? The signal that ended it.
---@field ok boolean `status == 0`.
---@field stdout string? Captured output (nil when inherited or discarded).
---@field stderr string?
---@field stdout_truncated boolean?
---@field stderr_truncated boolean?
---@field timed_out boolean

---A spawned process.
---@class assay.process.Handle
---@field pid integer
local Handle = {}

---Writes to its stdin (waits while the pipe is full).
---@param data string|number
---@return boolean
function Handle:write(data) end

function Handle:close_stdin() end

---An iterator over the lines of a stream (default "stdout").
---@param stream? "stdout"|"stderr"
---@return fun(): string?
function Handle:lines(stream) end

---Closes stdin, waits for the end; the same table as `process.run`.
---@return assay.process.Result
function Handle:wait() end

---Signals the process group ("TERM" by default; names with or without SIG, or numbers).
---@param signal? string|integer
---@return boolean signalled
function Handle:kill(signal) end

---Runs `argv[1]` (looked up in PATH, no shell) with the other items as its arguments.
---@param argv string[]
---@param opts? assay.process.Options
---@return assay.process.Result
function process.run(argv, opts) end

---`process.run({"sh", "-c", cmdline}, opts)`.
---@param cmdline string
---@param opts? assay.process.Options
---@return assay.process.Result
function process.shell(cmdline, opts) end

---Starts a program and returns its handle at once.
---@param argv string[]
---@param opts? assay.process.Options
---@return assay.process.Handle
function process.spawn(argv, opts) end
