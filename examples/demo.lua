#!/usr/bin/env assay
-- A verification job in miniature: read a rollout spec, check it, probe the replicas
-- concurrently over HTTP, and print a JSON report. Run: scripts/demo (or assay examples/demo.lua).

local spec = yaml.parse([[
service: checkout
image: registry.local/checkout:v2.14.1
replicas:
  - {name: checkout-0, zone: a, latency: 0.20}
  - {name: checkout-1, zone: b, latency: 0.25}
  - {name: checkout-2, zone: c, latency: 0.15}
]])

-- Validate the spec: the image must carry a semantic version tag.
local tag = regex.find(spec.image, [[:v(?P<major>\d+)\.(?P<minor>\d+)\.(?P<patch>\d+)$]])
assert(tag, "image has no vX.Y.Z tag: " .. spec.image)
log.info("rollout", {service = spec.service, version = tag.match:sub(2), replicas = #spec.replicas})

-- The replicas, played by a local server (the http plugin, loaded on first use): each answers
-- its health check after its latency. A route handler is a coroutine, so slow ones overlap.
local latency = {}
for _, replica in ipairs(spec.replicas) do latency[replica.name] = replica.latency end
local replicas = http.server({
  GET = {
    ["/replicas/:name/health"] = function(req)
      local seconds = latency[req.params.name]
      if not seconds then return {status = 404, json = {error = "no such replica"}} end
      sleep(seconds)
      return {json = {name = req.params.name, healthy = true}}
    end,
  },
}, {host = "127.0.0.1"})
local api = http.client({base_url = ("http://127.0.0.1:%d"):format(replicas.port), timeout = 5})

-- Probe every replica at once: each probe waits on the network without blocking the others.
local started = time.monotonic()
local probes = {}
for i, replica in ipairs(spec.replicas) do
  probes[i] = async.spawn(function()
    local t0 = time.monotonic()
    local resp = api:get("/replicas/" .. replica.name .. "/health")
    local body = resp:json()
    return {name = replica.name, zone = replica.zone, healthy = resp.ok and body.healthy,
            seconds = math.floor((time.monotonic() - t0) * 100 + 0.5) / 100}
  end)
end
local results = async.all(probes)
local elapsed = time.monotonic() - started
assert.eq(api:get("/replicas/checkout-9/health").status, 404)
replicas:stop()

local report = {
  service = spec.service,
  checked_at = time.iso(),
  all_healthy = true,
  wall_seconds = math.floor(elapsed * 100 + 0.5) / 100,
  replicas = results,
}
for _, r in ipairs(results) do
  report.all_healthy = report.all_healthy and r.healthy
end
print(json.encode(report, {pretty = true, sort_keys = true}))

-- Hand the verdict to the next job as a signed token (the crypto plugin, loaded on first use).
local secret = crypto.random(32)
local token = crypto.jwt_sign({sub = spec.service, healthy = report.all_healthy,
  digest = crypto.hash(json.encode(report, {sort_keys = true})), exp = math.floor(time()) + 300},
  secret)
local claims = crypto.jwt_verify(token, secret, {algs = {"HS256"}})
assert(claims.sub == spec.service and claims.healthy)
print(("signed verdict for %s (HS256, %d-byte token)"):format(claims.sub, #token))
print(string.format("probed %d replicas in %.2f s (the slowest alone takes 0.25 s)", #results, elapsed))
