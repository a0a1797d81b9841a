#!/usr/bin/env bash
# Installs Debian's Chromium for the UI tests (test/ui), which drive it with playwright-core.
# No browser is ever downloaded by npm or Playwright; this is the only way one arrives.
set -euo pipefail

if [[ -x /usr/bin/chromium ]]; then
  exit 0
fi
echo "ci: installing chromium"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version
