-- test: env ASSAY_LOG_FORMAT=json
-- test: stderr (?m)^\{"app":"web","level":"info","msg":"deployed","n":3,"ts":"[^"]+Z"\}$
-- test: stderr (?m)^\{"fields\.fields\.msg":"x","fields\.level":"l","fields\.msg":"m","fields\.ts":1,"level":"info","msg":"mine","ts":"[^"]+Z"\}$
-- test: stderr (?m)^\{"level":"warn","msg":"two\\nlines","ts":"[^"]+Z"\}$
-- test: no-stderr debug line
log.debug("debug line")
log.info("deployed", {app = "web", n = 3})
-- A field named like the line's own keeps its value beside them: none is dropped.
log.info("mine", {msg = "m", level = "l", ts = 1, ["fields.msg"] = "x"})
log.warn("two\nlines")
