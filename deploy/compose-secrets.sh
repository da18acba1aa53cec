#!/usr/bin/env bash
# Makes what compose.yaml mounts, once: deploy/secrets/ with a throwaway CA
# (ca.pem), a server certificate for every container and localhost (server.pem,
# server.key), the session key and the admin token; and deploy/.env with the user
# and group ids the urna containers run as, those of the files' owner: the user
# running this, or 65532 (the image's own) when that is root. Files already there
# are kept. Needs openssl.
set -euo pipefail
cd "$(dirname "$0")"
umask 077
mkdir -p secrets
cd secrets

[ -s session-key ] || openssl rand -hex 32 >session-key
[ -s admin-token ] || openssl rand -hex 32 >admin-token

if [ ! -s server.pem ] || [ ! -s server.key ] || [ ! -s ca.pem ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=urna compose trial CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$work/ca.key" -out ca.pem 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/CN=urna" -keyout server.key -out "$work/server.csr" 2>/dev/null
  printf '%s\n' \
    "subjectAltName=DNS:localhost,IP:127.0.0.1,DNS:auth,DNS:issuance,DNS:casting-1,DNS:casting-2" \
    "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=serverAuth" >"$work/server.ext"
  openssl x509 -req -in "$work/server.csr" -CA ca.pem -CAkey "$work/ca.key" \
    -CAcreateserial -CAserial "$work/ca.srl" -days 30 -extfile "$work/server.ext" -out server.pem 2>/dev/null
  chmod 0644 ca.pem
fi

cd ..
uid=$(id -u) gid=$(id -g)
if [ "$uid" = 0 ]; then
  uid=65532 gid=65532
  chown -R "$uid:$gid" secrets
fi
printf 'URNA_UID=%s\nURNA_GID=%s\n' "$uid" "$gid" >.env
echo "deploy/secrets: ca.pem (trust it with --ca), server.pem, server.key, session-key, admin-token"
