-- The test file of the good project (copied to tests/main_test.lua there): the runner's functions.
describe("math", function()
  before_each(function() end)
  after_each(function() end)
  test("adds", function() assert.eq(1 + 1, 2) end)
end)
