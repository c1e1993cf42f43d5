"""The PyJWT side of jwt_pyjwt.lua.

Usage: python pyjwt_peer.py KEYS_DIR REQUEST_JSON

The request: {"secret", "aud", "iss", "algs": {ALG: [private key file or secret, public key
file or secret]}, "tokens": {ALG: token Assay signed}, "tampered": {ALG: token}}.
Prints one JSON object: "verified" (per algorithm, PyJWT's verdict on Assay's token: claims and
header, or the error), "tampered" (PyJWT's verdict on tampered tokens), "signed" (a token
PyJWT signed with each algorithm), "expired" (an expired HS256 token) and PyJWT's version.
"""

import json
import sys
import time
from pathlib import Path

import jwt


def main() -> None:
    keys_dir = Path(sys.argv[1])
    request = json.loads(Path(sys.argv[2]).read_text())
    secret = request["secret"]

    def key(name: str) -> bytes:
        return secret.encode() if name == secret else (keys_dir / name).read_bytes()

    def verdict(alg: str, token: str) -> dict:
        public = key(request["algs"][alg][1])
        try:
            claims = jwt.decode(token, public, algorithms=[alg], audience=request["aud"], issuer=request["iss"])
            return {"ok": True, "claims": claims, "header": jwt.get_unverified_header(token)}
        except Exception as e:  # the test reports the error whatever its kind
            return {"ok": False, "error": f"{type(e).__name__}: {e}"}

    now = int(time.time())
    signed = {}
    for alg, (private, _public) in request["algs"].items():
        claims = {
            "sub": "from-pyjwt",
            "alg_used": alg,
            "aud": request["aud"],
            "iss": request["iss"],
            "iat": now,
            "exp": now + 300,
            "nested": {"n": [1, 2.5, None], "yes": True},
        }
        signed[alg] = jwt.encode(claims, key(private), algorithm=alg, headers={"kid": "py-" + alg})

    print(json.dumps({
        "pyjwt": jwt.__version__,
        "verified": {alg: verdict(alg, token) for alg, token in request["tokens"].items()},
        "tampered": {alg: verdict(alg, token) for alg, token in request["tampered"].items()},
        "signed": signed,
        "expired": jwt.encode({"sub": "old", "exp": now - 600}, secret, algorithm="HS256"),
    }))


if __name__ == "__main__":
    main()
