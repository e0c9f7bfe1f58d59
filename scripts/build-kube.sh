#!/usr/bin/env bash
# Builds the Kubernetes pieces of the test tier from Go modules, each from its wrapper module under engine/:
#   kube-apiserver     kube-apiserver, kube-controller-manager and kubectl (k8s.io/kubernetes, staging modules at
#                      their published versions)
#   etcd               etcd (go.etcd.io/etcd/server/v3)
#   pulumi-kubernetes  pulumi-resource-kubernetes (the provider plugin, at the Python package's version)
#   dex                dex (github.com/dexidp/dex), the OpenID Connect issuer people log in against
#   kubelogin          kubelogin (github.com/int128/kubelogin), kubectl's OIDC login plugin
# Usage: scripts/build-kube.sh [NAME...]   (no name: all five)
# Each build lands in ~/.cache/keystone/<name>-<version>-<recipe hash>/bin/, the hash taken over the wrapper's
# go.mod, go.sum and tools.go: a present cache entry is reused as is (a second run builds nothing), a missing
# one is built into a temporary folder and renamed into place only when complete.  Each component has its
# own lock (build-kube-<name>.lock): one build of a component at a time, a second caller waits for it and then
# finds the cache filled, while another component builds beside it.  Prints the path of each bin/ folder on
# stdout, one a line, and the time of each cold build on stderr.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${KEYSTONE_CACHE:-$HOME/.cache/keystone}"
export GOFLAGS="${GOFLAGS:-} -mod=readonly" CGO_ENABLED=0

# name -> its main packages
packages() {
  case "$1" in
    kube-apiserver)    echo "k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl" ;;
    etcd)              echo "go.etcd.io/etcd/server/v3" ;;
    pulumi-kubernetes) echo "github.com/pulumi/pulumi-kubernetes/provider/v4/cmd/pulumi-resource-kubernetes" ;;
    dex)               echo "github.com/dexidp/dex/cmd/dex" ;;
    kubelogin)         echo "github.com/int128/kubelogin" ;;
    *) echo "build-kube: unknown component '$1' (kube-apiserver, etcd, pulumi-kubernetes, dex, kubelogin)" >&2
       return 1 ;;
  esac
}
# the binaries a component yields: each main package's last path element (`go build` skips a major
# version such as /v3), etcd's `server` renamed after the build (below)
binaries() {
  local p b
  for p in $(packages "$1"); do
    b="${p##*/}"
    case "$b" in v[0-9]*) p="${p%/*}"; b="${p##*/}" ;; esac
    if [ "$1" = etcd ] && [ "$b" = server ]; then b=etcd; fi
    echo "$b"
  done
}
# the release a wrapper builds: its go.mod's `// release:` line, else its first require line's version
module_version() {
  local r; r="$(awk '/^\/\/ release: /{print $3; exit}' "$1/go.mod")"
  [ -n "$r" ] || r="$(awk '/^require /{print $3; exit}' "$1/go.mod")"
  echo "$r"
}

# version stamps the binaries report (kube-apiserver answers /version with them; the provider plugin too)
ldflags() {
  local name="$1" version="$2" minor
  case "$name" in
    kube-apiserver)
      minor="${version#v1.}"; minor="${minor%%.*}"
      local v
      for v in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        printf -- '-X %s.gitVersion=%s -X %s.gitMajor=1 -X %s.gitMinor=%s -X %s.gitTreeState=clean ' \
          "$v" "$version" "$v" "$v" "$minor" "$v"
      done ;;
    pulumi-kubernetes)
      printf -- '-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=%s' "${version#v}" ;;
    dex|kubelogin)   # `dex version`, `kubelogin --version`
      printf -- '-X main.version=%s' "$version" ;;
  esac
}

# The provider's main package embeds schema-embed.json and terraform-mapping-embed.json, which its release
# process generates from the committed schema.json (the version set in it, compacted) and is not in the module.
# So: a writable copy of the module from the module cache, the two files generated in it, and a temporary
# modfile (the wrapper's plus a replace pointing at the copy).  Nothing of it is kept after the build.
prepare_provider() {
  local src="$1" tmp="$2" version="$3" mod dir
  mod="$(awk '/^require github.com\/pulumi\/pulumi-kubernetes\/provider\/v4 /{print $3}' "$src/go.mod")"
  (cd "$src" && go mod download github.com/pulumi/pulumi-kubernetes/provider/v4) || return 1
  dir="$(cd "$src" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4)"
  mkdir -p "$tmp/src" && cp -r "$dir" "$tmp/src/provider" && chmod -R u+w "$tmp/src/provider"
  python3 - "$tmp/src/provider/cmd/pulumi-resource-kubernetes" "${version#v}" <<'PY' || return 1
import json, sys, os
d, version = sys.argv[1], sys.argv[2]
schema = json.load(open(os.path.join(d, "schema.json")))
schema["version"] = version
json.dump(schema, open(os.path.join(d, "schema-embed.json"), "w"), separators=(",", ":"))
mapping = json.load(open(os.path.join(d, "terraform-mapping.json")))
json.dump(mapping, open(os.path.join(d, "terraform-mapping-embed.json"), "w"), separators=(",", ":"))
PY
  cp "$src/go.mod" "$tmp/src/go.mod"; cp "$src/go.sum" "$tmp/src/go.sum"
  echo "replace github.com/pulumi/pulumi-kubernetes/provider/v4 $mod => $tmp/src/provider" >> "$tmp/src/go.mod"
}

build() {
  local name="$1" src="$ROOT/engine/$1" version hash dest tmp start b
  version="$(module_version "$src")"
  hash="$(cat "$src/go.mod" "$src/go.sum" "$src/tools.go" | sha256sum | cut -c1-12)"
  dest="$CACHE/$name-$version-$hash"
  mkdir -p "$CACHE"
  exec 9>"$CACHE/build-kube-$name.lock"
  flock 9   # this component's lock, held until the next one's replaces it (or the script ends)
  local complete=1
  for b in $(binaries "$name"); do [ -x "$dest/bin/$b" ] || complete=0; done
  if [ "$complete" = 1 ]; then
    echo "[build-kube] $name $version: cached in $dest" >&2
    echo "$dest/bin"; return 0
  fi
  tmp="$(mktemp -d "$CACHE/.$name-$version.XXXXXX")"; chmod 755 "$tmp"
  echo "[build-kube] $name $version: building (cold builds take minutes on 2 cores)" >&2
  start=$(date +%s)
  local modflags=()
  if [ "$name" = pulumi-kubernetes ]; then
    prepare_provider "$src" "$tmp" "$version" || { rm -rf "$tmp"; return 1; }
    modflags=(-modfile "$tmp/src/go.mod")
  fi
  # shellcheck disable=SC2046
  if ! (cd "$src" && go build "${modflags[@]}" -trimpath -ldflags "-s -w $(ldflags "$name" "$version")" \
          -o "$tmp/bin/" $(packages "$name")); then
    rm -rf "$tmp"; echo "[build-kube] $name $version: build FAILED" >&2; return 1
  fi
  # `go build` names etcd's binary after its module path without the major version: server
  if [ "$name" = etcd ]; then mv "$tmp/bin/server" "$tmp/bin/etcd"; fi
  rm -rf "$tmp/src" "$dest"; mv "$tmp" "$dest"
  echo "[build-kube] $name $version: built in $(( $(date +%s) - start ))s -> $dest" >&2
  echo "$dest/bin"
}

main() {
  local names=("$@") n
  [ ${#names[@]} -gt 0 ] || names=(kube-apiserver etcd pulumi-kubernetes dex kubelogin)
  for n in "${names[@]}"; do packages "$n" >/dev/null; done
  for n in "${names[@]}"; do build "$n"; done
}
# the whole file is parsed before anything runs: editing it during a (long) build cannot derail that build
main "$@"; exit $?
