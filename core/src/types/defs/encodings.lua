---@meta _
-- Assay core globals: base64, hex, url, uuid, compress.

---Base64 (RFC 4648), standard or URL-safe alphabet.
---@class assay.base64
base64 = {}

---@class (exact) assay.base64.EncodeOptions
---@field url? boolean The URL-safe alphabet (padding then defaults to off).
---@field pad? boolean Pad with `=` (default: true, false with `url`).

---@class (exact) assay.base64.DecodeOptions
---@field url? boolean The URL-safe alphabet.

---@param data string
---@param opts? assay.base64.EncodeOptions
---@return string text
function base64.encode(data, opts) end

---Decodes with or without padding; an error names the first offending byte.
---@param text string
---@param opts? assay.base64.DecodeOptions
---@return string data
function base64.decode(text, opts) end

---Hexadecimal digits (lower-case when encoding).
---@class assay.hex
hex = {}

---@param data string
---@return string text
function hex.encode(data) end

---@param text string
---@return string data
function hex.decode(text) end

---UUIDs as lower-case text.
---@class assay.uuid
uuid = {}

---A random UUID (version 4).
---@return string
function uuid.v4() end

---A time-ordered UUID (version 7): later calls sort after earlier ones.
---@return string
function uuid.v7() end

---Percent-encoding (RFC 3986), URL parsing and building, query strings.
---@class assay.url
url = {}

---The parts of a URL (`url.parse`), or what `url.build` takes.
---@class (exact) assay.url.Parts
---@field scheme? string Lower-case; nil for a relative reference.
---@field user? string Percent-decoded.
---@field password? string Percent-decoded.
---@field host? string Lower-case; an IPv6 literal without its brackets.
---@field port? integer
---@field path? string As written (still percent-encoded).
---@field query? table<string, string|string[]>|string Decoded; a repeated key is a list.
---@field fragment? string

---Percent-encodes every byte but `A-Za-z0-9-._~`.
---@param text string
---@return string
function url.encode(text) end

---Decodes `%XX` sequences (`+` stays `+`).
---@param text string
---@return string
function url.decode(text) end

---@param u string
---@return assay.url.Parts parts
function url.parse(u) end

---@param parts assay.url.Parts
---@return string url
function url.build(parts) end

---`k=v&...`, keys sorted, a list value repeating its key.
---@param query table<string, string|number|boolean|(string|number|boolean)[]>
---@return string
function url.query_encode(query) end

---A key given once is a string, a key repeated is the list of its values.
---@param text string
---@return table<string, string|string[]>
function url.query_decode(text) end

---gzip, zlib/deflate and zstd, one-shot; decompression is bounded.
---@class assay.compress
compress = {}

---@class (exact) assay.compress.FlateOptions
---@field level? integer 0-9 (default 6).

---@class (exact) assay.compress.DeflateOptions
---@field level? integer 0-9 (default 6).
---@field raw? boolean Bare deflate instead of the zlib format.

---@class (exact) assay.compress.ZstdOptions
---@field level? integer 1-22 (default 3).

---@class (exact) assay.compress.BoundOptions
---@field max_size? integer The largest output accepted, in bytes.

---@class (exact) assay.compress.InflateOptions
---@field max_size? integer The largest output accepted, in bytes.
---@field raw? boolean Bare deflate instead of the zlib format.

---@param data string
---@param opts? assay.compress.FlateOptions
---@return string
function compress.gzip(data, opts) end

---@param data string
---@param opts? assay.compress.BoundOptions
---@return string
function compress.gunzip(data, opts) end

---@param data string
---@param opts? assay.compress.DeflateOptions
---@return string
function compress.deflate(data, opts) end

---@param data string
---@param opts? assay.compress.InflateOptions
---@return string
function compress.inflate(data, opts) end

---@param data string
---@param opts? assay.compress.ZstdOptions
---@return string
function compress.zstd(data, opts) end

---@param data string
---@param opts? assay.compress.BoundOptions
---@return string
function compress.unzstd(data, opts) end
