-- vault.pki (c.pki) against the real OpenBao dev server (scripts/bao-server); certificates
-- are checked with openssl against the CA read back through the package.
local S = require("support")

local c = S.root()
local root = S.unique("pki")
local int = S.unique("pki-int")
local dir = fs.tempdir()

local function openssl(args, stdin)
  local argv = {"openssl"}
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  return process.run(argv, {timeout = 30, stdin = stdin})
end

local function write(name, text)
  local p = dir .. "/" .. name
  fs.write(p, text)
  return p
end

c:secrets_enable("pki", {path = root, config = {max_lease_ttl = "87600h"}})
local ca = c.pki:generate_root(root, "internal", {common_name = "Assay Test Root", ttl = "87600h"})

test("root CA: generated, and read back as PEM", function()
  assert.matches(ca.certificate, "^-----BEGIN CERTIFICATE-----")
  assert.is_nil(ca.private_key)
  local pem = c.pki:ca_pem(root)
  assert.eq(pem:gsub("%s+$", ""), ca.certificate:gsub("%s+$", ""))
  local r = openssl({"x509", "-noout", "-subject"}, pem)
  assert.eq(r.status, 0, r.stderr)
  assert.matches(r.stdout, "Assay Test Root")
end)

test("roles: write, read, list, delete; a missing role is nil", function()
  c.pki:write_role(root, "web", {allowed_domains = "example.com", allow_subdomains = true,
    allow_ip_sans = true, max_ttl = "72h"})
  assert.eq(c.pki:write_role(root, "tmp", {allow_any_name = true}), true)
  local r = c.pki:read_role(root, "web")
  assert.eq(r.allowed_domains, {"example.com"})
  assert.eq(r.allow_subdomains, true)
  local names = c.pki:list_roles(root)
  table.sort(names)
  assert.eq(names, {"tmp", "web"})
  assert.eq(c.pki:delete_role(root, "tmp"), true)
  assert.is_nil(c.pki:read_role(root, "tmp"))
  assert.eq(c.pki:set_urls(root, {issuing_certificates = {S.addr .. "/v1/" .. root .. "/ca"}}), true)
  assert.eq(c.pki:rotate_crl(root), true)
end)

test("issue: the certificate verifies with openssl against the CA read back", function()
  local cert = c.pki:issue(root, "web", {common_name = "www.example.com",
    alt_names = "api.example.com", ip_sans = "127.0.0.1", ttl = "1h"})
  assert.matches(cert.certificate, "BEGIN CERTIFICATE")
  assert.matches(cert.private_key, "PRIVATE KEY")
  assert.matches(cert.serial_number, "^[0-9a-f:]+$")
  local ca_file = write("root.pem", c.pki:ca_pem(root))
  local cert_file = write("www.pem", cert.certificate)
  local r = openssl({"verify", "-CAfile", ca_file, cert_file})
  assert.eq(r.status, 0, r.stdout .. r.stderr)
  assert.matches(r.stdout, "www.pem: OK")
  r = openssl({"x509", "-noout", "-ext", "subjectAltName", "-in", cert_file})
  assert.matches(r.stdout, "DNS:api.example.com")
  assert.matches(r.stdout, "IP Address:127.0.0.1")
  -- the key matches the certificate
  local a = openssl({"pkey", "-pubout"}, cert.private_key).stdout
  local b = openssl({"x509", "-noout", "-pubkey", "-in", cert_file}).stdout
  assert.eq(a, b)
  -- the role's limits: the server's words
  assert.raises(function() c.pki:issue(root, "web", {common_name = "evil.org"}) end,
    "^vault\\.pki\\.issue: POST /v1/" .. root .. "/issue/web: 400 .*evil\\.org")
end)

test("read_cert, revoke, the CRL", function()
  local cert = c.pki:issue(root, "web", {common_name = "old.example.com", ttl = "1h"})
  local got = c.pki:read_cert(root, cert.serial_number)
  assert.eq(got.certificate:gsub("%s+$", ""), cert.certificate:gsub("%s+$", ""))
  assert.eq(got.revocation_time, 0)
  assert.contains(c.pki:list_certs(root), cert.serial_number)
  local rev = c.pki:revoke(root, cert.serial_number)
  assert.gt(rev.revocation_time, 0)
  assert.gt(c.pki:read_cert(root, cert.serial_number).revocation_time, 0)
  assert.is_nil(c.pki:read_cert(root, "01:02:03:04"))
  local crl = c.pki:crl_pem(root)
  assert.matches(crl, "BEGIN X509 CRL")
  local r = openssl({"crl", "-noout", "-text"}, crl)
  assert.eq(r.status, 0, r.stderr)
  local serial_hex = cert.serial_number:gsub(":", ""):upper()
  assert.matches(r.stdout:gsub("%s", ""), serial_hex)
  -- openssl itself refuses the revoked certificate with the CRL
  local ca_file = write("root2.pem", c.pki:ca_pem(root))
  local crl_file = write("crl.pem", crl)
  local cert_file = write("old.pem", cert.certificate)
  r = openssl({"verify", "-crl_check", "-CAfile", ca_file, "-CRLfile", crl_file, cert_file})
  assert.ne(r.status, 0)
  assert.matches(r.stdout .. r.stderr, "revoked")
end)

test("sign a CSR made with openssl (the key never leaves)", function()
  local key = write("client.key", "")
  local r = openssl({"req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=client.example.com",
    "-keyout", key})
  assert.eq(r.status, 0, r.stderr)
  local signed = c.pki:sign(root, "web", r.stdout, {common_name = "client.example.com", ttl = "1h"})
  local ca_file = write("root3.pem", c.pki:ca_pem(root))
  local cert_file = write("client.pem", signed.certificate)
  r = openssl({"verify", "-CAfile", ca_file, cert_file})
  assert.eq(r.status, 0, r.stdout .. r.stderr)
end)

test("intermediate: generate, sign with the root, set-signed, issue; the chain verifies", function()
  c:secrets_enable("pki", {path = int, config = {max_lease_ttl = "43800h"}})
  local gen = c.pki:generate_intermediate(int, "internal", {common_name = "Assay Test Intermediate"})
  assert.matches(gen.csr, "BEGIN CERTIFICATE REQUEST")
  local signed = c.pki:sign_intermediate(root, gen.csr, {common_name = "Assay Test Intermediate",
    ttl = "43800h", format = "pem_bundle"})
  assert.matches(signed.certificate, "BEGIN CERTIFICATE")
  local set = c.pki:set_signed(int, signed.certificate)
  assert.eq(type(set), "table")
  c.pki:write_role(int, "svc", {allowed_domains = "svc.internal", allow_subdomains = true,
    max_ttl = "24h"})
  local leaf = c.pki:issue(int, "svc", {common_name = "db.svc.internal", ttl = "1h"})
  local root_file = write("chain-root.pem", c.pki:ca_pem(root))
  local int_file = write("chain-int.pem", c.pki:ca_pem(int))
  local leaf_file = write("leaf.pem", leaf.certificate)
  local r = openssl({"verify", "-CAfile", root_file, "-untrusted", int_file, leaf_file})
  assert.eq(r.status, 0, r.stdout .. r.stderr)
  -- without the intermediate the leaf does not verify against the root alone
  r = openssl({"verify", "-CAfile", root_file, leaf_file})
  assert.ne(r.status, 0)
  -- ca_chain_pem of the intermediate holds it (and the root)
  assert.matches(c.pki:ca_chain_pem(int), "BEGIN CERTIFICATE")
end)

test("tidy starts and reports its status", function()
  local resp = c.pki:tidy(root, {safety_buffer = "1s"})
  assert.eq(type(resp), "table")
  local st
  for _ = 1, 50 do
    st = c.pki:tidy_status(root)
    if st.state ~= "Running" then break end
    sleep(0.1)
  end
  assert.contains({"Finished", "Running", "Inactive"}, st.state)
  c:secrets_disable(root)
  c:secrets_disable(int)
  fs.remove(dir, {recursive = true})
end)
