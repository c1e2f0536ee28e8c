#!/usr/bin/env bash
# Installs everything userprobe needs on a fresh Debian/Ubuntu machine with Node.js 20:
# pnpm, the workspace's dependencies, Debian's Chromium (full and headless shell) when
# missing, then builds. Safe to run again: every step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '[setup] %s\n' "$*" >&2; }

PNPM_VERSION=12.4.2
CHROMIUM_FULL="${CHROMIUM_PATH:-/usr/lib/chromium/chromium}"
CHROMIUM_SHELL="${CHROMIUM_SHELL_PATH:-/usr/lib/chromium/chromium-headless-shell}"

if ! node -e 'const [M,m]=process.versions.node.split(".").map(Number);process.exit(M>20||(M===20&&m>=11)?0:1)' 2>/dev/null; then
  say "userprobe needs Node.js 20.11 or newer; found: $(node -v 2>/dev/null || echo 'no node')."
  exit 1
fi

if [ "$(pnpm -v 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  say "installing pnpm $PNPM_VERSION"
  npm install -g --silent "pnpm@$PNPM_VERSION" >/dev/null
fi

missing=()
[ -x "$CHROMIUM_FULL" ] || missing+=(chromium)
[ -x "$CHROMIUM_SHELL" ] || missing+=(chromium-headless-shell)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing ${missing[*]} from the distribution's packages (about 30 s)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  if [ ! -x "$CHROMIUM_FULL" ] && [ ! -x "$CHROMIUM_SHELL" ]; then
    say "Chromium was not found at $CHROMIUM_FULL or $CHROMIUM_SHELL and could not be installed"
    say "(needs root and apt-get: apt-get install chromium chromium-headless-shell)."
    say "Point userprobe at a Chromium or Chrome binary instead: export CHROMIUM_PATH=/path/to/chrome"
    say "(and CHROMIUM_SHELL_PATH=/path/to/chrome-headless-shell for --browser shell)."
    exit 1
  fi
fi

say "installing dependencies"
CI=true pnpm install --frozen-lockfile --reporter=silent
say "building"
pnpm run --silent build
say "ready"
