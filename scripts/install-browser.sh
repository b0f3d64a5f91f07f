#!/usr/bin/env bash
# Install Debian's headless-capable Chromium for the report rendering test (tests/test_run_report.py).
# Idempotent and quiet: does nothing when /usr/bin/chromium is already there. Needs root (or sudo).
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "install-browser: /usr/bin/chromium is missing and this user cannot install packages (no root, no sudo)" >&2
    exit 1
  fi
fi

$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

if [ ! -x /usr/bin/chromium ]; then
  echo "install-browser: apt-get finished but /usr/bin/chromium is still missing" >&2
  exit 1
fi
