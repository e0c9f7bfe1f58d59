#!/usr/bin/env bash
# Installs Authentik's published OpenAPI schema (schema.yml of the npm package @goauthentik/api, at the
# version of authentik-client pinned in requirements.txt) into ~/.cache/keystone/authentik-api-<version>/
# (KEYSTONE_CACHE overrides the cache root).  The tests' Authentik server validates every request and
# response against it.  Idempotent: a present schema is kept.  Prints the schema's path last.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's/^authentik-client==\([0-9.]*\).*/\1/p' requirements.txt)
[ -n "$version" ] || { echo "[authentik] requirements.txt must pin authentik-client==X.Y.Z" >&2; exit 1; }
dest=${KEYSTONE_CACHE:-$HOME/.cache/keystone}/authentik-api-$version
if [ ! -s "$dest/schema.yml" ]; then
  command -v npm >/dev/null || { echo "[authentik] npm is needed to install @goauthentik/api@$version" >&2; exit 1; }
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "@goauthentik/api@$version" >/dev/null)
  tar -xzf "$tmp"/goauthentik-api-"$version".tgz -C "$tmp" package/schema.yml
  grep -q "^  version: $version\$" "$tmp/package/schema.yml" || {
    echo "[authentik] @goauthentik/api@$version ships a schema of another version" >&2; exit 1; }
  mkdir -p "$dest"
  mv "$tmp/package/schema.yml" "$dest/schema.yml"
  echo "[authentik] installed Authentik's API schema $version" >&2
fi
echo "$dest/schema.yml"
