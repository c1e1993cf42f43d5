---@meta _
-- Assay core globals: json, yaml, toml (LuaCATS definitions written by `assay types`).

---The JSON null: what `json.parse` gives for `null`, and what encodes as `null`
---(a Lua table cannot hold nil). The db plugin gives SQL NULL as this value too.
---@class assay.Null: lightuserdata

---JSON (RFC 8259): integers stay integers, `[]` and `{}` round-trip, errors give the byte offset.
---@class assay.json
---@field null assay.Null The JSON null (`json.parse('null') == json.null`).
json = {}

---@class (exact) assay.json.EncodeOptions
---@field pretty? boolean Indent by two spaces.
---@field sort_keys? boolean Write object keys sorted (default: table order).

---Parses JSON text into Lua values (arrays remember they were arrays).
---@param text string
---@return any value
function json.parse(text) end

---Encodes a Lua value as JSON text.
---@param value any
---@param opts? assay.json.EncodeOptions
---@return string json
function json.encode(value, opts) end

---Marks `t` (or a new table) to encode as a JSON array, even when empty.
---@generic T: table
---@param t? T
---@return T
function json.array(t) end

---Marks `t` (or a new table) to encode as a JSON object, even when empty.
---@generic T: table
---@param t? T
---@return T
function json.object(t) end

---YAML as Kubernetes reads it (yaml.v2 rules: `0644` is 420, `yes`/`on` are true).
---@class assay.yaml
yaml = {}

---Parses one YAML document (nil for an empty text); several documents are an error.
---@param text string
---@return any document
function yaml.parse(text) end

---Parses every document of a multi-document text (`---` separated).
---@param text string
---@return any[] documents
function yaml.parse_all(text) end

---Writes a Lua value as YAML (decoded documents keep their key order).
---@param value any
---@return string yaml
function yaml.encode(value) end

---TOML 1.0; datetimes come back as their text and are written back as datetimes.
---@class assay.toml
toml = {}

---Parses a TOML document into a table.
---@param text string
---@return table document
function toml.parse(text) end

---Writes a table as a TOML document (keys sorted).
---@param t table
---@return string toml
function toml.encode(t) end
