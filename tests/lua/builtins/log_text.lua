-- test: env ASSAY_LOG=debug
-- test: stderr (?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z DEBUG starting$
-- test: stderr (?m)^\S+ INFO  deployed app=web replicas=3 tags=\["a","b"\] who="a b"$
-- test: stderr (?m)^\S+ WARN  slow ms=12\.5$
-- test: stderr (?m)^\S+ ERROR failed$
-- test: stderr (?m)^\S+ INFO  one\\nline\\r\\u\{1b\}\[31m stays "a\\nb"="c\\nd"$
-- test: no-stderr (?m)^line
log.debug("starting")
log.info("deployed", {app = "web", replicas = 3, who = "a b", tags = {"a", "b"}})
log.warn("slow", {ms = 12.5})
log.error("failed")
-- A line is one line: control characters are escaped, in the message, keys and values.
log.info("one\nline\r\27[31m stays", {["a\nb"] = "c\nd"})
assert.raises(function() log.info({}) end, [[bad argument #1 'msg' \(string expected, got table\)]])
assert.raises(function() log.info("x", "y") end, [[bad argument #2 'fields' \(table or nil expected, got string\)]])
