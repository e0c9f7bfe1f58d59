#!/usr/bin/env bash
# Installs the Pulumi CLI at exactly the SDK version pinned in requirements.txt into
# ~/.cache/keystone/pulumi-v<version>/bin (KEYSTONE_CACHE overrides the cache root), with the
# project's plugin launchers beside it.  In order: a `pulumi` on PATH at that version; the official
# release archive; else a build from the Go modules (engine/cli/go.mod, ≈8 min cold on 2 cores).
# Idempotent: a second run finds the binary and builds nothing.  Prints the bin directory last.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's/^pulumi==\([0-9.]*\).*/\1/p' requirements.txt)
[ -n "$version" ] || { echo "[engine] requirements.txt must pin pulumi==X.Y.Z" >&2; exit 1; }
grep -q "github.com/pulumi/pulumi/pkg/v3 v$version\$" engine/cli/go.mod || {
  echo "[engine] engine/cli/go.mod does not require pkg/v3 v$version (requirements.txt pins pulumi==$version)" >&2
  exit 1
}
dest=${KEYSTONE_CACHE:-$HOME/.cache/keystone}/pulumi-v$version
bin=$dest/bin
mkdir -p "$bin"

have_version() { [ -x "$1" ] && [ "$("$1" version 2>/dev/null)" = "v$version" ]; }

if have_version "$bin/pulumi"; then
  echo "[engine] pulumi v$version cached in $bin" >&2
elif onpath=$(command -v pulumi 2>/dev/null) && have_version "$onpath"; then
  echo "[engine] using $onpath (v$version)" >&2
  ln -sf "$onpath" "$bin/pulumi"
elif curl -fsSL --max-time 20 -o "$dest/release.tgz" \
    "https://get.pulumi.com/releases/sdk/pulumi-v$version-linux-x64.tar.gz" 2>/dev/null; then
  tar -xzf "$dest/release.tgz" -C "$dest" && rm -f "$dest/release.tgz"
  cp -f "$dest"/pulumi/* "$bin"/
  echo "[engine] installed the official pulumi v$version release" >&2
else
  rm -f "$dest/release.tgz"
  echo "[engine] building pulumi v$version from its Go modules (cold: ≈8 min on 2 cores)" >&2
  start=$(date +%s)
  (cd engine/cli && go build -trimpath -o "$bin/pulumi.building" \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version" \
      github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
  mv -f "$bin/pulumi.building" "$bin/pulumi"
  echo "[engine] built in $(( $(date +%s) - start )) s" >&2
fi
# The launchers of the Python plugins (dynamic providers, policy packs): the project's own, which
# run the project's Python (see engine/launchers/).
for l in engine/launchers/*; do install -m 0755 "$l" "$bin/$(basename "$l")"; done
have_version "$bin/pulumi" || { echo "[engine] $bin/pulumi is not v$version" >&2; exit 1; }
echo "$bin"
