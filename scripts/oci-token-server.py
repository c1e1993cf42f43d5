#!/usr/bin/env python3
"""The token service of scripts/oci-registry's token-auth registry (the distribution spec's
token flow, as Docker Hub, GHCR and Harbor run it), standard library only.

GET /token?service=S&scope=repository:NAME:pull,push[&scope=...] with HTTP basic credentials
answers {"token", "access_token", "expires_in", "issued_at"}: an RS256 JWT signed with KEY
(by `openssl dgst`, no Python crypto package), its header carrying CERT in `x5c`, which the
registry's `rootcertbundle` trusts. The one user (USER, PASSWORD from the environment,
OCI_TOKEN_USER and OCI_TOKEN_PASSWORD) gets every action it asks for; anonymous requests get a
token granting nothing (the registry then refuses with 401, as a private repository does);
wrong credentials get 401.

Usage: oci-token-server.py PORT_FILE KEY CERT ISSUER SERVICE
Listens on 127.0.0.1, on a free port written to PORT_FILE once it listens.
"""

import base64
import hmac
import json
import os
import secrets
import ssl
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def main() -> None:
    port_file, key, cert, issuer, service = sys.argv[1:6]
    user = os.environ["OCI_TOKEN_USER"]
    password = os.environ["OCI_TOKEN_PASSWORD"]
    with open(cert, encoding="ascii") as f:
        cert_der = ssl.PEM_cert_to_DER_cert(f.read())
    x5c = [base64.b64encode(cert_der).decode()]

    def sign(claims: dict) -> str:
        header = {"typ": "JWT", "alg": "RS256", "x5c": x5c}
        signing_input = (
            b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
        )
        signature = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", key],
            input=signing_input.encode(),
            capture_output=True,
            check=True,
        ).stdout
        return signing_input + "." + b64url(signature)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet: the registry logs enough
            pass

        def reply(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path != "/token":
                self.reply(404, {"details": "not found"})
                return
            query = parse_qs(url.query)
            given = self.headers.get("authorization", "")
            subject = ""
            if given:
                try:
                    scheme, encoded = given.split(" ", 1)
                    name, _, secret = base64.b64decode(encoded).decode().partition(":")
                except ValueError:
                    scheme, name, secret = "", "", ""
                ok = (
                    scheme.lower() == "basic"
                    and hmac.compare_digest(name, user)
                    and hmac.compare_digest(secret, password)
                )
                if not ok:
                    self.reply(401, {"details": "invalid username or password"})
                    return
                subject = name
            access = []
            if subject:
                for scope in query.get("scope", []):
                    for one in scope.split(" "):
                        kind, _, rest = one.partition(":")
                        name, _, actions = rest.rpartition(":")
                        if kind and name:
                            access.append(
                                {"type": kind, "name": name, "actions": actions.split(",")}
                            )
            now = int(time.time())
            token = sign(
                {
                    "iss": issuer,
                    "sub": subject,
                    "aud": query.get("service", [service])[0],
                    "exp": now + 300,
                    "nbf": now - 10,
                    "iat": now,
                    "jti": secrets.token_hex(8),
                    "access": access,
                }
            )
            self.reply(
                200,
                {
                    "token": token,
                    "access_token": token,
                    "expires_in": 300,
                    "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
                },
            )

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(port_file + ".tmp", "w", encoding="ascii") as f:
        f.write(str(server.server_address[1]))
    os.rename(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
