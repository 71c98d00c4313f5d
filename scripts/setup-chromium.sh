#!/usr/bin/env bash
# Installs headless Chromium from Debian's `chromium` package for the browser tests
# (test/browser/), which drive it with playwright-core through executablePath: Playwright's own
# browser download is never used. Needs root (CI runs as root on a fresh machine).
# Idempotent: when /usr/bin/chromium already exists, apt is not touched and it returns at once.
set -euo pipefail

CHROMIUM="${CLICKSTREAM_CHROMIUM:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
  echo "setup-chromium: $("$CHROMIUM" --version 2>/dev/null || echo chromium) already at $CHROMIUM"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-chromium: $CHROMIUM is missing and installing it needs root: sudo bash $0" >&2
  exit 1
fi

echo "setup-chromium: installing Debian's chromium package"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# fonts-liberation: without a Latin font, screenshots of the Web UI show boxes instead of text.
apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
"$CHROMIUM" --version
echo "setup-chromium: ready: $CHROMIUM"
