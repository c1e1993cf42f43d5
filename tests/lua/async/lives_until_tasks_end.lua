-- test: stdout main done\nlate task finished\n
async.spawn(function() sleep(0.1) print("late task finished") end)
print("main done")
