#!/usr/bin/env bash
# Headless Chromium and its WebDriver for the browser test (tests/browser): Debian's `chromium`
# and `chromium-driver`. Installed with apt-get when missing and this runs as root. Otherwise
# (not root, no apt-get) it says what to do; under CI (CI set) that is an error, because the
# browser test must run there.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "== installing chromium and chromium-driver (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
  command -v chromium >/dev/null && command -v chromedriver >/dev/null
  exit 0
fi
message="chromium and chromedriver are missing: install them (Debian/Ubuntu: sudo apt-get install chromium chromium-driver)"
if [ -n "${CI:-}" ]; then
  echo "error: $message; the browser test needs them in CI" >&2
  exit 1
fi
echo "warning: $message; tests/browser will be skipped" >&2
