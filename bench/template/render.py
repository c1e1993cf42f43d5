"""The template benchmark's Jinja2 side, the same as render.lua."""
import json
import sys
import time

import jinja2

directory, vars_path, seconds = sys.argv[1], sys.argv[2], sys.argv[3]
variables = json.load(open(vars_path))
env = jinja2.Environment(loader=jinja2.FileSystemLoader(directory),
                         autoescape=jinja2.select_autoescape(["html", "htm", "xml"]))
page = env.get_template("page.html")
if seconds == "once":
    sys.stdout.write(page.render(**variables))
    sys.exit(0)
for _ in range(20):
    page.render(**variables)
n, started = 0, time.monotonic()
while time.monotonic() - started < float(seconds):
    for _ in range(10):
        page.render(**variables)
    n += 10
print("RESULT %d %.6f" % (n, time.monotonic() - started))
