-- test: flags -q
-- test: stderr ERROR shown
-- test: no-stderr hidden
log.info("hidden")
log.warn("hidden")
log.error("shown")
