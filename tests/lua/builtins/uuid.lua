-- uuid: v4 random, v7 time-ordered and monotonic within the process.

local V4 = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"
local V7 = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-7%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"

local seen = {}
for _ = 1, 1000 do
  local id = uuid.v4()
  assert(id:match(V4), id)
  assert(id == id:lower(), id)
  assert(not seen[id], "duplicate " .. id)
  seen[id] = true
end

-- v7: 5000 in a row (many per millisecond) sort as made, all distinct.
local previous = ""
for i = 1, 5000 do
  local id = uuid.v7()
  assert(id:match(V7), id)
  assert(id > previous, ("v7 #%d %s not after %s"):format(i, id, previous))
  previous = id
end
-- the timestamp is the clock's, in milliseconds
local id = uuid.v7()
local millis = tonumber(id:sub(1, 8) .. id:sub(10, 13), 16)
assert.lt(math.abs(millis / 1000 - time()), 2)

-- the same order across coroutines of one process
local a = async.spawn(function() local l = {} for i = 1, 100 do l[i] = uuid.v7() end return l end)
local list = a:await()
assert.gt(uuid.v7(), list[100])

assert.raises(function() uuid.v4(1) end, [[uuid.v4: bad argument #1 \(at most 0 arguments expected, got 1\)]])
print("uuid ok")
