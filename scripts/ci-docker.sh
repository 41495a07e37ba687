#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine, starting one if needed, and that
# docker-compose is installed. Idempotent: when both are there, it does nothing. Called by
# .ci/run under CI; safe to run by hand. Env: AVSCTL_DOCKERD_LOG (default /tmp/dockerd.log),
# AVSCTL_DOCKER_WAIT_SECONDS (default 60).
set -euo pipefail

log_file="${AVSCTL_DOCKERD_LOG:-/tmp/dockerd.log}"
wait_seconds="${AVSCTL_DOCKER_WAIT_SECONDS:-60}"

say() { echo "ci-docker: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

engine_answers() { command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1; }

# Root is needed to install packages and run dockerd; use passwordless sudo when we are not root.
as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@";
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo -n "$@";
  else die "need root (or passwordless sudo) to run: $*"; fi
}

# The compose export is brought up by Debian's docker-compose under CI
# (test/e2e/devnet/compose-up.test.ts); it needs no engine to install.
if ! command -v docker-compose >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 || die "docker-compose is not installed and apt-get is not available; install it by hand"
  say "installing docker-compose with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get -o DPkg::Lock::Timeout=300 update -q
  as_root apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends docker-compose
fi

if engine_answers; then
  say "Docker engine already answers ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
  exit 0
fi

# A remote engine (tcp://, ssh://) cannot be started from here; say so instead of starting a local one
# the client would not talk to anyway.
if [[ -n "${DOCKER_HOST:-}" && "${DOCKER_HOST}" != unix://* ]]; then
  die "DOCKER_HOST=${DOCKER_HOST} does not answer; start that engine or unset DOCKER_HOST"
fi

if ! command -v dockerd >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 || die "dockerd is not installed and apt-get is not available; install Docker by hand"
  say "installing docker.io with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  # The lock timeout lets us queue behind another apt run instead of failing at once.
  as_root apt-get -o DPkg::Lock::Timeout=300 update -q
  as_root apt-get -o DPkg::Lock::Timeout=300 install -y -q docker.io
fi

dockerd_running() {
  local pid_file=/var/run/docker.pid
  if [[ -f "${pid_file}" && -d "/proc/$(cat "${pid_file}" 2>/dev/null)" ]]; then return 0; fi
  command -v pgrep >/dev/null 2>&1 && pgrep -x dockerd >/dev/null 2>&1
}

if dockerd_running; then
  say "dockerd is already running; waiting for it to answer"
else
  say "starting dockerd (log: ${log_file})"
  # setsid + nohup: the engine must outlive this script and the CI step's shell.
  as_root setsid nohup dockerd >"${log_file}" 2>&1 </dev/null &
fi

deadline=$((SECONDS + wait_seconds))
while ((SECONDS < deadline)); do
  if engine_answers; then
    say "Docker engine answers after $((SECONDS))s ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
    exit 0
  fi
  sleep 0.5
done

say "last lines of ${log_file}:"
tail -n 20 "${log_file}" >&2 2>/dev/null || true
socket=/var/run/docker.sock
if [[ -S "${socket}" && ! -w "${socket}" ]]; then
  die "dockerd runs but ${socket} is not writable by $(id -un); add the user to the docker group or run as root"
fi
die "Docker engine did not answer within ${wait_seconds}s"
