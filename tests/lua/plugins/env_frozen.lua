-- The environment can change until a plugin is loaded; after that its threads may read it, and
-- glibc's setenv races getenv, so env.set refuses and says why.
env.set("ASSAY_TEST_BEFORE", "1")
assert.eq(env.get("ASSAY_TEST_BEFORE"), "1")
probe.noop()
assert.raises(function() env.set("ASSAY_TEST_AFTER", "1") end,
  [[env\.set: cannot change the environment after plugin 'probe' has started]])
assert.is_nil(env.get("ASSAY_TEST_AFTER"))
