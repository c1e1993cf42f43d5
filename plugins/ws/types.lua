---@meta _
-- The ws plugin: WebSocket clients (LuaCATS definitions, copied by `assay types`).

---@class assay.ws
ws = {}

---@class (exact) assay.ws.ConnectOptions
---@field headers? table<string, string|number> Request headers (not the handshake's own).
---@field subprotocols? string|string[] Offered in order; `conn.protocol` is the server's choice.
---@field ca_cert? string A PEM file path or PEM text, added to the system's roots.
---@field insecure? boolean No certificate checks.
---@field timeout? number Seconds for the whole opening (default 10; `math.huge` for none).
---@field max_message? integer The largest message or frame accepted (default 1 MiB).

---A WebSocket connection (`<close>` closes it).
---@class assay.ws.Conn
---@field protocol string? The subprotocol the server chose.
local Conn = {}

---@param text string
function Conn:send(text) end

---@param data string
function Conn:send_binary(data) end

---The next message and its kind ("text" or "binary"); or `nil, "closed", code, reason` once
---closed; or `nil, "timeout"` after `timeout` seconds (the conn stays usable).
---@param timeout? number
---@return string? message
---@return "text"|"binary"|"closed"|"timeout" kind
---@return integer? code
---@return string? reason
function Conn:recv(timeout) end

---Pings and waits for the pong: the round trip in seconds, or `nil, "timeout"`, or
---`nil, "closed", code, reason`.
---@param timeout? number
---@return number? seconds
---@return "timeout"|"closed"? why
---@return integer? code
---@return string? reason
function Conn:ping(timeout) end

---Completes the closing handshake and closes the connection.
---@param code? integer
---@param reason? string
function Conn:close(code, reason) end

---Opens a `ws://` or `wss://` connection.
---@param url string
---@param opts? assay.ws.ConnectOptions
---@return assay.ws.Conn
function ws.connect(url, opts) end
