#!/usr/bin/env bash
# Installs Debian's Chromium for the sandbox browser test (Playwright drives it with executable_path; a browser
# download by Playwright is impossible here). Best effort: without it the browser test is skipped with the reason.
set -uo pipefail

if [ -x /usr/bin/chromium ]; then
    echo "ci: chromium present: $(/usr/bin/chromium --version 2>/dev/null || echo unknown)"
    exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ci: cannot install chromium (needs root and apt-get); the browser test will be skipped"
    exit 0
fi
echo "ci: installing chromium from Debian"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-noto-color-emoji; } \
        >/tmp/karcis-chromium-install.log 2>&1; then
    echo "ci: chromium install failed (see /tmp/karcis-chromium-install.log); the browser test will be skipped"
fi
exit 0
