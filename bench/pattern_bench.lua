-- String pattern benchmark: typical uses of string.find/match/gmatch/gsub, timed with
-- os.clock() (process CPU time). It runs unchanged wherever those functions exist:
--   lua5.4 bench/pattern_bench.lua [SECONDS]           Lua's own C functions
--   assay --timeout 3600 bench/pattern_bench.lua [SECONDS]
--                                    Assay's interruptible port (core/src/builtins/pattern),
--                                    which replaces them when a run has a deadline
-- The port against the C functions in the same VM, the fairest comparison, is the ignored test
-- `builtins::pattern::bench` (see core/src/builtins/pattern/bench.rs for how to run it).
--
-- Each case repeats until it has taken at least SECONDS (default 0.3) of CPU time. Output: one
-- line per case, `name<TAB>microseconds per call`, then `RESULT total_us=<sum>`.

local seconds = tonumber(arg and arg[1] or nil) or 0.3

-- A deterministic text: words, numbers, punctuation, parentheses, several lines.
local words = { "alpha", "beta", "gamma", "delta", "kubernetes", "pod", "(nested)", "x=1,",
  "value;", "  ", "42", "3.14", "end." }
local parts, seed = {}, 7
for i = 1, 800 do
  seed = (seed * 1103515245 + 12345) % 2147483648
  parts[i] = words[seed % #words + 1]
end
local text = table.concat(parts, " ")
local lines = {}
for i = 1, 50 do
  lines[i] = string.format("2026-11-%02d 12:%02d:%02d [INFO] request %d took %d ms",
    i % 28 + 1, i % 60, (i * 7) % 60, i, i * 3)
end
local needle_text = text .. " needle"
local escapes = { ["\n"] = "\\n", ["\t"] = "\\t", ['"'] = '\\"', ["\\"] = "\\\\" }
local quoted = string.rep('say "hi"\tthen\\go\n', 40)

local cases = {
  { "find plain (4 KB)", function() return needle_text:find("needle", 1, true) end },
  { "find no specials", function() return ("key=value"):find("=") end },
  { "find class", function() return text:find("%d+%.%d+") end },
  { "match key=value", function() return ("name = value"):match("^(%w+)%s*=%s*(%w+)$") end },
  { "match log line", function()
      local n = 0
      for i = 1, #lines do
        local _, _, _, _, _, _, level = lines[i]:match(
          "^(%d+)-(%d+)-(%d+) (%d+):(%d+):(%d+) %[(%u+)%] (.*)$")
        if level then n = n + 1 end
      end
      return n
    end },
  { "trim", function() return ("   some padded text   "):match("^%s*(.-)%s*$") end },
  { "gmatch words (4 KB)", function()
      local n = 0
      for _ in text:gmatch("%a+") do n = n + 1 end
      return n
    end },
  { "gsub spaces (4 KB)", function() return text:gsub("%s+", " ") end },
  { "gsub function (4 KB)", function() return text:gsub("%w+", function(w) return w end) end },
  { "gsub table escape", function() return quoted:gsub('[%c"\\]', escapes) end },
  { "find balanced", function() return text:find("%b()") end },
  { "backtracking .-", function() return text:find("alpha.-beta.-gamma.-delta") end },
}

local total = 0
for _, case in ipairs(cases) do
  local name, f = case[1], case[2]
  for _ = 1, 3 do f() end -- warm-up
  local n, start, elapsed = 0, os.clock(), 0
  repeat
    for _ = 1, 50 do f() end
    n = n + 50
    elapsed = os.clock() - start
  until elapsed >= seconds
  local us = elapsed / n * 1e6
  total = total + us
  print(string.format("%s\t%.3f", name, us))
end
print(string.format("RESULT total_us=%.3f", total))
