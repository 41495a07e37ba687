#!/usr/bin/env bash
# Make sure Debian's chromium is installed for the dashboard e2e (test/e2e/devnet/dashboard.test.ts,
# driven by puppeteer-core, which downloads no browser). Idempotent: does nothing when it is there.
set -euo pipefail

say() { echo "ci-chromium: $*" >&2; }

if command -v chromium >/dev/null 2>&1; then
  say "chromium already installed ($(chromium --version 2>/dev/null || echo '?'))"
  exit 0
fi
command -v apt-get >/dev/null 2>&1 || { say "ERROR: chromium is not installed and apt-get is not available"; exit 1; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@";
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo -n "$@";
  else say "ERROR: need root (or passwordless sudo) to run: $*"; exit 1; fi
}

say "installing chromium with apt-get"
export DEBIAN_FRONTEND=noninteractive
# The lock timeout lets us queue behind another apt run instead of failing at once.
as_root apt-get -o DPkg::Lock::Timeout=300 update -q
as_root apt-get -o DPkg::Lock::Timeout=300 install -y -q chromium
