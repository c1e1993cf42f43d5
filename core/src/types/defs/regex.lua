---@meta _
-- Assay core global: regex (Rust regex syntax, linear time; positions as string.find's).

---@class assay.regex
regex = {}

---A match: positions are 1-based and inclusive, as `string.find` gives them.
---@class assay.regex.Match
---@field match string The matched text.
---@field start integer
---@field stop integer
---@field groups (string|false)[] The groups in order; `false` for an unmatched optional one.
---@field named table<string, string> The named groups that matched.

---@class (exact) assay.regex.ReplaceOptions
---@field all? boolean Replace every match (default: the first).

---Whether `pat` matches `text` (from byte `init`, as `string.find` reads it).
---@param text string
---@param pat string
---@param init? integer
---@return boolean
function regex.match(text, pat, init) end

---The first match, or nil.
---@param text string
---@param pat string
---@param init? integer
---@return assay.regex.Match?
function regex.find(text, pat, init) end

---Every match, in order.
---@param text string
---@param pat string
---@return assay.regex.Match[]
function regex.find_all(text, pat) end

---Replaces the first match (every one with `{all = true}`); `repl` is a template (`$1`,
---`${name}`, `$$`) or a function of the match (nil or false keeps the match).
---@param text string
---@param pat string
---@param repl string|fun(m: assay.regex.Match): (string|number|false|nil)
---@param opts? assay.regex.ReplaceOptions
---@return string
function regex.replace(text, pat, repl, opts) end

---The pieces of `text` between the matches.
---@param text string
---@param pat string
---@return string[]
function regex.split(text, pat) end
