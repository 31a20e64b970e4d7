#!/usr/bin/env bash
# The presenter rooms' tests run two servers sharing Debian's redis-server (the compose file uses
# the official Redis image). Installed when missing and run as root; else those tests are skipped.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "redis-server is missing: run 'sudo apt-get install -y redis-server' (the tests of rooms across processes will be skipped)" >&2
  exit 0
fi
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
# Debian's package starts a system Redis on 6379; the tests start their own on free ports.
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now redis-server >/dev/null 2>&1 || true; fi
