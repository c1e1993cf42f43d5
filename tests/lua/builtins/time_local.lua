-- test: env TZ=Asia/Kolkata
-- tz = "local" follows $TZ as libc does; the default stays UTC.
assert.eq(time.iso(0, {tz = "local"}), "1970-01-01T05:30:00+05:30")
assert.eq(time.iso(0), "1970-01-01T00:00:00Z")
assert.eq(time.parse("1970-01-01T05:30:00", {tz = "local"}), 0.0)
assert.eq(time.format(0, "%H:%M %Z", {tz = "local"}), "05:30 IST")
print("local ok")
