-- test: exit 1
-- test: stderr ^\(error object is a table value\)
error({code = 42})
