#!/bin/sh
# A client-go credential plugin for config_test.lua. Reads its state from $CRED_DIR: records the
# input (KUBERNETES_EXEC_INFO), its arguments and CRED_EXTRA, counts its runs in runs; answers a
# token "token-<run>" (or, with mode "cert", a client certificate and key; with mode "fail",
# exits 2 after writing to stderr), expiring at the time in expires when that file exists.
set -eu
dir=${CRED_DIR:-/tmp}
printf '%s' "${KUBERNETES_EXEC_INFO:-}" > "$dir/input.json"
printf '%s\n' "$*" > "$dir/args"
printf '%s\n' "${CRED_EXTRA:-}" > "$dir/extra"
echo run >> "$dir/runs"
n=$(wc -l < "$dir/runs" | tr -d ' ')
mode=$(cat "$dir/mode" 2>/dev/null || echo token)
api=$(printf '%s' "${KUBERNETES_EXEC_INFO:-}" | sed -n 's/.*"apiVersion":"\([^"]*\)".*/\1/p')
exp=""
if [ -f "$dir/expires" ]; then exp=",\"expirationTimestamp\":\"$(cat "$dir/expires")\""; fi
case "$mode" in
  fail)
    echo "cred.sh: contacting the identity provider" >&2
    echo "cred.sh: login expired: run cred-login" >&2
    exit 2 ;;
  cert)
    printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"clientCertificateData":"-----BEGIN CERTIFICATE-----\\nZXhlYw==\\n-----END CERTIFICATE-----\\n","clientKeyData":"-----BEGIN EC PRIVATE KEY-----\\nZXhlYyBrZXk=\\n-----END EC PRIVATE KEY-----\\n"%s}}\n' "$api" "$exp" ;;
  *)
    printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"token-%s"%s}}\n' "$api" "$n" "$exp" ;;
esac
