-- A real multi-document Kubernetes manifest through yaml.parse_all / yaml.encode: every value
-- keeps its type and meaning (as Kubernetes' yaml.v2 reads it), every mapping keeps its key
-- order, and the text written reads back to the same documents.

local manifest = [[
# A typical application bundle.
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: prod
  annotations:
    reloader.stakater.com/match: "true"
    owner: platform
data:
  LOG_LEVEL: info
  FEATURE_X: "yes"
  PORT: "8080"
  VERSION: "1.20"
  config.yaml: |
    listen: 0.0.0.0:8080
    debug: false
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
    tier: frontend
spec:
  replicas: 3
  revisionHistoryLimit: 0
  selector:
    matchLabels:
      app: web
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  template:
    metadata:
      labels:
        app: web
    spec:
      terminationGracePeriodSeconds: 30
      containers:
        - name: web
          image: registry.example.com/web:1.20
          args: ["--port", "8080", "--verbose"]
          ports:
            - containerPort: 8080
              protocol: TCP
          env:
            - name: ENABLED
              value: "on"
            - name: RATIO
              value: "0.5"
          resources:
            requests:
              cpu: 500m
              memory: 128Mi
            limits:
              cpu: 1
              memory: 256Mi
          readinessProbe:
            httpGet:
              path: /healthz
              port: 8080
            periodSeconds: 10
            failureThreshold: 3
          volumeMounts:
            - name: config
              mountPath: /etc/web
              readOnly: true
      volumes:
        - name: config
          configMap:
            name: web-config
            defaultMode: 0644
            items:
              - key: config.yaml
                path: config.yaml
                mode: 0400
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: ClusterIP
  selector:
    app: web
  ports:
    - name: http
      port: 80
      targetPort: 8080
]]

local docs = yaml.parse_all(manifest)
assert.eq(#docs, 3)
local config, deployment, service = docs[1], docs[2], docs[3]

-- Meanings, as Kubernetes reads them.
local volume = deployment.spec.template.spec.volumes[1].configMap
assert.eq(volume.defaultMode, 420)
assert.eq(math.type(volume.defaultMode), "integer")
assert.eq(volume.items[1].mode, 256)
local container = deployment.spec.template.spec.containers[1]
assert.eq(container.resources.limits.cpu, 1)
assert.eq(math.type(container.resources.limits.cpu), "integer")
assert.eq(container.resources.requests.cpu, "500m")
assert.eq(container.image, "registry.example.com/web:1.20")
assert.eq(container.env[1].value, "on")
assert.eq(container.readinessProbe.httpGet.port, 8080)
assert.eq(deployment.spec.strategy.rollingUpdate.maxSurge, "25%")
assert.eq(config.data.FEATURE_X, "yes")
assert.eq(config.data.VERSION, "1.20")
assert.eq(config.metadata.annotations["reloader.stakater.com/match"], "true")
assert.eq(service.spec.ports[1].port, 80)

-- The text written: the documents again, in order, and it reads back the same.
local parts = {}
for i, doc in ipairs(docs) do parts[i] = yaml.encode(doc) end
local written = table.concat(parts, "---\n")
assert.eq(yaml.parse_all(written), docs)

-- Key order at every level: the key names in the order they appear, before and after.
local function key_names(text)
  local names = {}
  for line in text:gmatch("[^\n]+") do
    -- (the lines of the config.yaml block scalar are text, not keys)
    if not line:match("^%s*#") and not line:match("^%s*listen: ") and not line:match("^%s*debug: ") then
      local name = line:match("^%s*%-?%s*([%w%./%-_]+):%s") or line:match("^%s*%-?%s*([%w%./%-_]+):$")
      if name then names[#names + 1] = name end
    end
  end
  return names
end
local before = key_names(manifest)
local after = key_names(written)
assert.eq(after, before)
assert(written:find("^apiVersion: v1\nkind: ConfigMap\nmetadata:\n"), written)
assert(written:find("defaultMode: 420\n"), "the octal mode as the integer it is")
assert(written:find('FEATURE_X: "yes"\n'), "a string that reads as a boolean stays quoted")
assert(written:find('VERSION: "1.20"\n'), "a string that reads as a float stays quoted")

-- Changed and added keys: edited ones keep their place, new ones come after, sorted.
deployment.spec.replicas = 5
deployment.metadata.zeta = "z"
deployment.metadata.alpha = "a"
local edited = yaml.encode(deployment)
assert(edited:find("^apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n    app: web\n    tier: frontend\n  alpha: a\n  zeta: z\nspec:\n  replicas: 5\n"), edited)
print("yaml manifest ok")
