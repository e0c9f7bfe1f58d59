#!/usr/bin/env bash
# Keystone set-up for a fresh Debian (bookworm) machine: Debian packages, the Python environment,
# and the Pulumi CLI at the SDK's exact version with the plugin launchers (scripts/build-engine.sh:
# the official release where it can be downloaded, else built from its Go modules, ≈8 min cold).
# Idempotent; run as root or with sudo available.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3 python3-venv python3-pip           # the program and its tests
  openssh-client                             # the SSH transport
  qemu-system-x86 qemu-utils debootstrap e2fsprogs zstd   # the test guest (built from Debian packages)
  bird2 iproute2                             # route-server tests in network namespaces
  postgresql                                 # the team backend's tests start a throw-away cluster
  curl ca-certificates
  shellcheck                                 # the test command checks every shell script
  git git-crypt                              # workspace tests: a repository with a git-crypt encrypted file
)

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[setup] installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The tests start their own bird daemons; the packaged one is not needed on this machine.
if command -v systemctl >/dev/null 2>&1 && systemctl is-enabled bird >/dev/null 2>&1; then
  as_root systemctl disable --now bird >/dev/null 2>&1 || true
fi

if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv"
  python3 -m venv .venv
fi
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -r requirements-dev.txt
echo "[setup] python environment ready: pulumi SDK $(.venv/bin/python -c "import importlib.metadata as m; print(m.version('pulumi'))")"

# The Go toolchain (preinstalled on these machines) builds the CLI when no release can be downloaded.
[ -x /usr/local/go/bin/go ] && export PATH="/usr/local/go/bin:$PATH"
# npm fetches Authentik's published API schema (@goauthentik/api) for the tests' Authentik server; the
# machines come with Node.js and npm, Debian's npm is the fallback.
if ! command -v npm >/dev/null 2>&1; then
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm
fi
schema=$(bash scripts/authentik-schema.sh)
echo "[setup] Authentik API schema: $schema"
engine_bin=$(bash scripts/build-engine.sh)
echo "[setup] pulumi CLI: $("$engine_bin/pulumi" version) in $engine_bin"
echo "[setup] done. Run the tests with: bash scripts/test.sh"
