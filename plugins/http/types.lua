---@meta _
-- The http plugin: an HTTP client and an HTTP/WebSocket server (LuaCATS definitions, copied
-- by `assay types`). 4xx and 5xx are responses, not errors; a request that got no response
-- raises.

---@class assay.http
http = {}

---Header values: a string or number, or a list of them for a header sent several times.
---@alias assay.http.Headers table<string, string|number|(string|number)[]>

---@class (exact) assay.http.Part
---@field name string
---@field value? string
---@field file? string A path, streamed from disk.
---@field filename? string
---@field content_type? string

---@class (exact) assay.http.Auth
---@field user? string
---@field password? string
---@field bearer? string
---@field [1]? string The user.
---@field [2]? string The password.

---Options of one request.
---@class (exact) assay.http.RequestOptions
---@field headers? assay.http.Headers
---@field query? table<string, string|number|boolean|(string|number|boolean)[]>
---@field timeout? number|false Seconds for the whole request (default 60); false: none.
---@field max_body? integer The largest body read, in bytes (default 64 MiB).
---@field auth? assay.http.Auth `{user, password}` or `{bearer = token}`.
---@field form? table<string, string|number|boolean|(string|number|boolean)[]> Sent urlencoded.
---@field multipart? assay.http.Part[]
---@field output? string Stream the body to this file (the response then has `bytes`).
---@field stream? boolean Return at the headers; read with `resp:read()`, `resp:lines()`.
---@field decompress? boolean Decode gzip, br, deflate and zstd bodies (default true).

---Options of `http.get`, `http.delete` and `http.request`: a body may be one of them.
---@class (exact) assay.http.RequestOptionsWithBody: assay.http.RequestOptions
---@field body? string|table A table is sent as JSON.

---A response. `read`, `read_line`, `lines` and `close` are for a response asked for with
---`stream = true`.
---@class assay.http.Response
---@field status integer
---@field ok boolean `status` is 2xx.
---@field headers table<string, string> Names lower-case.
---@field body string The body (absent with `output` or `stream`).
---@field bytes? integer With `output`: the bytes written to the file.
---@field url string The final URL, after redirects.
---@field closed? boolean With `stream`: whether it is closed.
local Response = {}

---The body decoded as JSON.
---@return any
function Response:json() end

---Every value of a header, in order (`{}` when absent).
---@param name string
---@return string[]
function Response:header_values(name) end

---With `stream`: the next piece of the body, or nil at its end.
---@return string?
function Response:read() end

---With `stream`: the next line without its newline, or nil at the end.
---@return string?
function Response:read_line() end

---With `stream`: an iterator over the lines.
---@return fun(): string?
function Response:lines() end

---With `stream`: ends the response and closes the connection.
function Response:close() end

---@class (exact) assay.http.ClientOptions
---@field base_url? string Relative URLs of its calls are resolved against it.
---@field headers? assay.http.Headers Sent with every request.
---@field timeout? number|false Seconds for a whole request (default 60); false: none.
---@field connect_timeout? number|false Seconds to connect (default 30).
---@field ca_cert? string A PEM file path or PEM text, added to the system's roots.
---@field client_cert? string
---@field client_key? string
---@field insecure? boolean No certificate checks.
---@field follow_redirects? boolean|integer Default: up to 10.
---@field proxy? string
---@field max_body? integer
---@field cookies? boolean Keep a cookie jar across its requests.

---A client with pooled connections and its own defaults.
---@class assay.http.Client
---@field base_url string? The `base_url` it was made with.
local Client = {}

---@param url string
---@param opts? assay.http.RequestOptionsWithBody
---@return assay.http.Response
function Client:get(url, opts) end

---@param url string
---@param opts? assay.http.RequestOptionsWithBody
---@return assay.http.Response
function Client:delete(url, opts) end

---@param url string
---@param body? string|table A table is sent as JSON.
---@param opts? assay.http.RequestOptions
---@return assay.http.Response
function Client:post(url, body, opts) end

---@param url string
---@param body? string|table
---@param opts? assay.http.RequestOptions
---@return assay.http.Response
function Client:put(url, body, opts) end

---@param url string
---@param body? string|table
---@param opts? assay.http.RequestOptions
---@return assay.http.Response
function Client:patch(url, body, opts) end

---@param method string
---@param url string
---@param opts? assay.http.RequestOptionsWithBody
---@return assay.http.Response
function Client:request(method, url, opts) end

---@param url string
---@param opts? assay.http.RequestOptionsWithBody
---@return assay.http.Response
function http.get(url, opts) end

---@param url string
---@param opts? assay.http.RequestOptionsWithBody
---@return assay.http.Response
function http.delete(url, opts) end

---@param url string
---@param body? string|table A table is sent as JSON.
---@param opts? assay.http.RequestOptions
---@return assay.http.Response
function http.post(url, body, opts) end

---@param url string
---@param body? string|table
---@param opts? assay.http.RequestOptions
---@return assay.http.Response
function http.put(url, body, opts) end

---@param url string
---@param body? string|table
---@param opts? assay.http.RequestOptions
---@return assay.http.Response
function http.patch(url, body, opts) end

---@param method string
---@param url string
---@param opts? assay.http.RequestOptionsWithBody
---@return assay.http.Response
function http.request(method, url, opts) end

---@param opts? assay.http.ClientOptions
---@return assay.http.Client
function http.client(opts) end

-- The server.

---A request as a handler gets it.
---@class assay.http.Request
---@field method string
---@field path string As sent (still percent-encoded).
---@field params table<string, string> The route's `:name` and `*` parts, decoded.
---@field query table<string, string|string[]> A repeated key is a list.
---@field headers table<string, string> Names lower-case.
---@field body string
---@field remote_addr string
local Request = {}

---The body decoded as JSON.
---@return any
function Request:json() end

---The body of a `stream` reply, written while the client reads it.
---@class assay.http.BodyWriter
---@field closed boolean
local BodyWriter = {}

---Waits while the client is behind; raises once it has gone.
---@param chunk string
function BodyWriter:write(chunk) end

---A WebSocket connection of a `{websocket = fn}` route.
---@class assay.http.WebSocket
---@field protocol string? The subprotocol chosen.
local WebSocket = {}

---@param text string
function WebSocket:send(text) end

---@param data string
function WebSocket:send_binary(data) end

---The next message and its kind; `nil, "closed", code, reason` once closed; `nil, "timeout"`.
---@param timeout? number
---@return string? message
---@return "text"|"binary"|"closed"|"timeout" kind
---@return integer? code
---@return string? reason
function WebSocket:recv(timeout) end

---@param timeout? number
---@return number? seconds
---@return "timeout"|"closed"? why
---@return integer? code
---@return string? reason
function WebSocket:ping(timeout) end

---@param code? integer
---@param reason? string
function WebSocket:close(code, reason) end

---What a handler may return besides a string (200 text/plain) or nil (204).
---@class (exact) assay.http.Reply
---@field status? integer Default 200.
---@field headers? assay.http.Headers
---@field body? string
---@field json? any Encoded with `content-type: application/json`.
---@field stream? fun(body: assay.http.BodyWriter) Writes the body piece by piece.
---@field websocket? fun(conn: assay.http.WebSocket) Upgrades the connection.
---@field protocols? string[] Subprotocols accepted with `websocket`.

---@alias assay.http.Handler fun(req: assay.http.Request): (string|assay.http.Reply|nil)

---Method -> path pattern (`/users/:id`, `/static/*`) -> handler.
---@alias assay.http.Routes table<string, table<string, assay.http.Handler>>

---@class (exact) assay.http.ServerOptions
---@field host? string Default "0.0.0.0".
---@field port? integer Default: any free port (`server.port` tells).
---@field static? table<string, string> URL prefix -> folder.
---@field before? fun(req: assay.http.Request): (string|assay.http.Reply|nil) A reply short-circuits.
---@field after? fun(req: assay.http.Request, resp: assay.http.Reply): (assay.http.Reply|nil)
---@field max_body? integer Bytes of a request body (default 1 MiB).
---@field max_message? integer Bytes of a WebSocket message (default 1 MiB).
---@field timeout? number Seconds a handler may take.
---@field grace? number Seconds in-flight requests get when stopping (default 20).
---@field reuse_port? boolean
---@field backlog? integer
---@field header_timeout? number
---@field idle_timeout? number
---@field max_connections? integer
---@field on_listen? fun(port: integer)

---A running server.
---@class assay.http.Server
---@field port integer
local Server = {}

---Stops gracefully: no new connections, in-flight requests finish.
function Server:stop() end

---Waits until the server has stopped.
function Server:wait() end

---Starts serving at once (a port in use is an error here).
---@param routes assay.http.Routes
---@param opts? assay.http.ServerOptions
---@return assay.http.Server
function http.server(routes, opts) end

---Serves until stopped or SIGTERM/SIGINT (graceful), then returns.
---@param port integer
---@param routes assay.http.Routes
---@param opts? assay.http.ServerOptions
function http.serve(port, routes, opts) end

---One value of a query table: the first when the key was repeated.
---@param query table<string, string|string[]>
---@param name string
---@return string?
function http.query_value(query, name) end

-- oci: the `oci` global this plugin also provides: an OCI distribution registry client.

---@class (exact) assay.oci.Options
---@field auth? {user: string, password: string}|{bearer: string} basic credentials (also used for the registry's token flow), or a bearer token
---@field plain_http? boolean http:// instead of https:// (a registry on loopback)
---@field ca_cert? string PEM file path or PEM text, added to the system roots
---@field insecure? boolean do not verify the registry's certificate
---@field timeout? number seconds for each wait (default 60)

---@class (exact) assay.oci.BlobOptions: assay.oci.Options
---@field max_size? integer the largest blob accepted, in bytes (default 8 MiB)
---@field output? string write the blob to this file (atomically) instead of returning it
---@field on_progress? fun(done: integer, total: integer) called as the blob arrives

---@class assay.oci.Descriptor
---@field digest string
---@field media_type string
---@field size integer
---@field annotations? table<string, string>

---@class assay.oci.Manifest
---@field digest string the manifest's own digest
---@field media_type string
---@field artifact_type? string
---@field config? assay.oci.Descriptor
---@field layers? assay.oci.Descriptor[]
---@field manifests? assay.oci.Descriptor[] an index's manifests
---@field annotations? table<string, string>

---@class (exact) assay.oci.Blob
---@field data? string the blob's bytes (a string)
---@field path? string or a file to read them from
---@field media_type string
---@field annotations? table<string, string>

---@class (exact) assay.oci.Artifact
---@field artifact_type? string required without `config`
---@field config? assay.oci.Blob the config blob (default: the OCI empty config)
---@field layers assay.oci.Blob[] at least one
---@field annotations? table<string, string>

---@class assay.oci.Pushed
---@field digest string the manifest's digest
---@field url string the manifest's URL

---@class assay.oci.Saved
---@field bytes integer

---OCI distribution registries: push and pull artifacts, list tags and repositories. A `ref` is
---`host[:port]/repository[:tag|@digest]`, the registry always named.
---@class assay.oci
oci = {}

---Pushes an artifact (the blobs the registry lacks, then the manifest) as `ref` (with a tag or
---digest).
---@param ref string
---@param artifact assay.oci.Artifact
---@param opts? assay.oci.Options
---@return assay.oci.Pushed
function oci.push(ref, artifact, opts) end

---The manifest `ref` names, or nil and "not found".
---@param ref string
---@param opts? assay.oci.Options
---@return assay.oci.Manifest?
---@return string? why
function oci.manifest(ref, opts) end

---Blob `digest` of repository `ref`, its digest verified: its bytes, or with `opts.output`
---`{bytes = n}`.
---@param ref string
---@param digest string
---@param opts? assay.oci.BlobOptions
---@return string|assay.oci.Saved
function oci.blob(ref, digest, opts) end

---Every tag of repository `ref`, or nil and "not found".
---@param ref string
---@param opts? assay.oci.Options
---@return string[]?
---@return string? why
function oci.tags(ref, opts) end

---Every repository of registry `registry` (`host[:port]`).
---@param registry string
---@param opts? assay.oci.Options
---@return string[]
function oci.catalog(registry, opts) end
