-- The `req` table, built on the Lua side from the request's parts (`request.rs`): the fields
-- every handler gets are set at once; `headers` and `query` stay in their wire form until a
-- handler first reads them (or `pairs(req)` lists them), so a handler that reads only
-- `req.params` does not pay for them. A field the script assigns (even to nil) is its own.
-- Each entry glue (`request.rs`) appends its `return function ... end` to this chunk.
local getmetatable, setmetatable, rawset, next = getmetatable, setmetatable, rawset, next
local type, tonumber, char, find, gmatch, gsub, sub, unpack =
  type, tonumber, string.char, string.find, string.gmatch, string.gsub, string.sub, string.unpack

-- `name, value` pairs, each a 4-byte little-endian length and its bytes (any byte may occur);
-- a repeated header's values are already joined.
local function decode_headers(block)
  local headers, at, size = {}, 1, #block
  while at <= size do
    local name, value
    name, value, at = unpack("<s4s4", block, at)
    headers[name] = value
  end
  return headers
end

local function hex(digits)
  return char(tonumber(digits, 16))
end

-- As `request::query`: `+` is a space, `%XX` a byte (a `%` not before two hex digits stays).
local function unescape(text)
  return (gsub(gsub(text, "%+", " "), "%%(%x%x)", hex))
end

-- As `request::query`: a key given once is a string, a key repeated a list of its values.
local function decode_query(raw)
  local query = {}
  for pair in gmatch(raw, "[^&]+") do
    local eq = find(pair, "=", 1, true)
    local key, value = pair, ""
    if eq then
      key, value = sub(pair, 1, eq - 1), sub(pair, eq + 1)
    end
    key, value = unescape(key), unescape(value)
    local seen = query[key]
    if seen == nil then
      query[key] = value
    elseif type(seen) == "table" then
      seen[#seen + 1] = value
    else
      query[key] = { seen, value }
    end
  end
  return query
end

-- Where a field's wire form waits in a request's metatable, and its decoder.
local wire = { headers = 1, query = 2 }
local decoders = { headers = decode_headers, query = decode_query }

-- The wire forms wait in the request's own metatable (false once decoded or assigned).
local function lazy(req, key)
  local at = wire[key]
  local pending = at and getmetatable(req)
  -- (`settled` may meet a table whose metatable the script replaced)
  if type(pending) == "table" and pending.__index == lazy then
    local raw = pending[at]
    if raw then
      pending[at] = false
      local value = decoders[key](raw)
      rawset(req, key, value)
      return value
    end
  end
end

local function assign(req, key, value)
  local at = wire[key]
  if at then
    getmetatable(req)[at] = false
  end
  rawset(req, key, value)
end

-- Every field is in the table before it crosses back to the plugin or is listed.
local function settled(req)
  lazy(req, "headers")
  lazy(req, "query")
  return req
end

local function fields(req)
  return next, settled(req), nil
end

-- `parts`: method, path, params, body, remote address, `req.json`, header block, raw query.
local function request(parts)
  return setmetatable({
    method = parts[1],
    path = parts[2],
    params = parts[3],
    body = parts[4],
    remote_addr = parts[5],
    json = parts[6],
  }, { __index = lazy, __newindex = assign, __pairs = fields, parts[7], parts[8] })
end
