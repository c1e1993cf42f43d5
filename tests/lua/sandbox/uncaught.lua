-- test: flags --sandbox
-- test: exit 1
-- test: stderr ^uncaught\.lua:4: io\.open is not available in sandbox
local f = io.open("/etc/passwd")
