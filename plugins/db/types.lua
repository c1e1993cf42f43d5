---@meta _
-- The db plugin: SQL against PostgreSQL, MySQL/MariaDB and SQLite (LuaCATS definitions,
-- copied by `assay types`). Parameters are always bound: `$1` for PostgreSQL, `?` for the
-- others. Values keep their types; NULL is `json.null`.

---@class assay.db
db = {}

---@class (exact) assay.db.ConnectOptions
---@field max_connections? integer The pool's size, 1-10000 (default 10).
---@field timeout? number Seconds to wait for a free connection (default 30).
---@field idle_timeout? number Seconds an idle connection is kept.
---@field ca_cert? string A PEM file path or PEM text to verify the server's TLS with.

---@class assay.db.Execution
---@field rows_affected integer
---@field last_insert_id? integer

---A row: column name -> value.
---@alias assay.db.Row table<string, any>

---What a transaction's function gets: the statements of a connection, on its one connection.
---@class assay.db.Transaction
local Transaction = {}

---@param sql string
---@param params? any[]
---@return assay.db.Row[]
function Transaction:query(sql, params) end

---@param sql string
---@param params? any[]
---@return assay.db.Row?
function Transaction:query_one(sql, params) end

---@param sql string
---@param params? any[]
---@return assay.db.Execution
function Transaction:execute(sql, params) end

---A savepoint around `fn(tx)`: released when it returns, rolled back to when it raises.
---@param fn fun(tx: assay.db.Transaction): ...
---@return any ...
function Transaction:transaction(fn) end

---A connection pool (`<close>` closes it).
---@class assay.db.Conn
local Conn = {}

---@param sql string
---@param params? any[]
---@return assay.db.Row[]
function Conn:query(sql, params) end

---The first row, or nil.
---@param sql string
---@param params? any[]
---@return assay.db.Row?
function Conn:query_one(sql, params) end

---@param sql string
---@param params? any[]
---@return assay.db.Execution
function Conn:execute(sql, params) end

---Runs `fn(tx)` in a transaction: commits when it returns (giving back what it returned),
---rolls back when it raises.
---@param fn fun(tx: assay.db.Transaction): ...
---@return any ...
function Conn:transaction(fn) end

---Applies the `NNN_name.sql` files of `dir` not applied before; returns their names.
---@param dir string
---@return string[] applied
function Conn:migrate(dir) end

function Conn:close() end

---Opens a pool for `postgres://`, `mysql://`, `sqlite://path` or `sqlite::memory:`.
---@param url string
---@param opts? assay.db.ConnectOptions
---@return assay.db.Conn
function db.connect(url, opts) end

---@param conn assay.db.Conn
---@param sql string
---@param params? any[]
---@return assay.db.Row[]
function db.query(conn, sql, params) end

---@param conn assay.db.Conn
---@param sql string
---@param params? any[]
---@return assay.db.Row?
function db.query_one(conn, sql, params) end

---@param conn assay.db.Conn
---@param sql string
---@param params? any[]
---@return assay.db.Execution
function db.execute(conn, sql, params) end

---@param conn assay.db.Conn
---@param fn fun(tx: assay.db.Transaction): ...
---@return any ...
function db.transaction(conn, fn) end

---@param conn assay.db.Conn
---@param dir string
---@return string[] applied
function db.migrate(conn, dir) end

---@param conn assay.db.Conn
function db.close(conn) end
