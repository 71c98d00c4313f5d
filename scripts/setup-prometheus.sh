#!/usr/bin/env bash
# Installs Debian's `prometheus` package (the Prometheus server and promtool, 2.42 on bookworm)
# for the metrics tests: test/unit/ops/ runs promtool on the shipped rules, and
# test/integration/observability/ starts a real Prometheus scraping a real worker. The package's
# own service is never started (the tests run their own server on a free port).
# Needs root (CI runs as root on a fresh machine). Idempotent: when both binaries are on PATH,
# apt is not touched and it returns at once.
set -euo pipefail

if command -v prometheus >/dev/null && command -v promtool >/dev/null; then
  echo "setup-prometheus: $(prometheus --version 2>&1 | head -n 1) already at $(command -v prometheus)"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-prometheus: prometheus/promtool are missing and installing them needs root: sudo bash $0" >&2
  exit 1
fi

echo "setup-prometheus: installing Debian's prometheus package"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends prometheus >/dev/null
prometheus --version 2>&1 | head -n 1
echo "setup-prometheus: ready: $(command -v prometheus), $(command -v promtool)"
