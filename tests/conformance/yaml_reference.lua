-- yaml.parse against gopkg.in/yaml.v2's recorded answers (yaml-reference/scalars.tsv): each
-- scalar S is parsed as the document `v: S` and its value compared with Go's. Lua integers
-- are 64-bit signed, so yaml.v2's uint64 answers must come back as the nearest float (as
-- json.parse does). Prints "ok <count>" or one line per difference; exits 1 on a difference.
local tsv = assert(arg[1], "usage: yaml_reference.lua scalars.tsv")

local function expected(go_type, go_value)
  if go_type == "int" then return math.tointeger(tonumber(go_value)) end
  if go_type == "uint64" then return tonumber(go_value .. ".0") end
  if go_type == "float64" then
    if go_value == "+Inf" then return math.huge end
    if go_value == "-Inf" then return -math.huge end
    if go_value == "NaN" then return 0 / 0 end
    return tonumber(go_value) + 0.0
  end
  if go_type == "bool" then return go_value == "true" end
  if go_type == "nil" then return json.null end
  if go_type == "string" then return json.parse(go_value) end
  error("unknown Go type " .. go_type)
end

local function same(a, b)
  if a ~= a and b ~= b then return true end
  return a == b and math.type(a) == math.type(b)
end

local function show(v)
  if v == json.null then return "null" end
  if type(v) == "number" then return math.type(v) .. " " .. tostring(v) end
  return type(v) .. " " .. string.format("%q", tostring(v))
end

local count, wrong = 0, {}
for line in fs.read(tsv):gmatch("[^\n]+") do
  local scalar, go_type, go_value = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)")
  if scalar and line:sub(1, 1) ~= "#" and go_type ~= "go_type" then
    count = count + 1
    local ok, doc = pcall(yaml.parse, "v: " .. scalar)
    if go_type == "error" then
      if ok then wrong[#wrong + 1] = ("%q: parsed, yaml.v2 refuses it"):format(scalar) end
    elseif not ok then
      wrong[#wrong + 1] = ("%q: %s"):format(scalar, doc)
    else
      local want = expected(go_type, go_value)
      if not same(doc.v, want) then
        wrong[#wrong + 1] = ("%q: got %s, yaml.v2 %s"):format(scalar, show(doc.v), show(want))
      end
    end
  end
end
for _, w in ipairs(wrong) do print(w) end
print(("%s %d of %d"):format(#wrong == 0 and "ok" or "wrong", #wrong, count))
os.exit(#wrong == 0 and 0 or 1)
