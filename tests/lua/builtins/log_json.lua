-- test: env ASSAY_LOG_FORMAT=json
-- test: stderr (?m)^\{"app":"web","level":"info","msg":"deployed","n":3,"ts":"[^"]+Z"\}$
-- test: no-stderr debug line
log.debug("debug line")
log.info("deployed", {app = "web", n = 3})
