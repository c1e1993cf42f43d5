-- test: env TZDIR=/nonexistent/zoneinfo
-- TZDIR is where IANA zones are read from; a missing database is an error naming the file.
assert.raises(function() time.iso(0, {tz = "Europe/Berlin"}) end,
  [[unknown time zone "Europe/Berlin": cannot read /nonexistent/zoneinfo/Europe/Berlin \(no such file; the system's tz database is needed: install tzdata, or set TZDIR\)]])
-- UTC and offsets need no database
assert.eq(time.iso(0, {tz = "+01:00"}), "1970-01-01T01:00:00+01:00")
print("TZDIR ok")
