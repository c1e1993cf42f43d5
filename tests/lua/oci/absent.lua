-- test: flags --lib-path /nowhere
-- test: exit 1
-- test: stderr ^absent\.lua:\d+: attempt to index a nil value \(global 'oci'\); `oci` is provided by the plugin 'http', which is not installed \(lib path: /nowhere\)\n
-- Without the http plugin, `oci` is nil like any missing plugin global, and the script that
-- dies of it hears which plugin provides it.
assert.eq(oci, nil)
oci.tags("127.0.0.1:1/x")
