#!/usr/bin/env bash
# Make sure the headless browser the reviewer-console tests drive is installed: Debian's `chromium` and
# `chromium-driver` (/usr/bin/chromium, /usr/bin/chromedriver). Idempotent: does nothing when both are there.
# Never downloads a browser from anywhere but apt. Exits 0 with a message when it cannot install them
# (not root, no apt): the browser tests then skip with a reason (and fail under CI=true).
set -uo pipefail
have() { [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; }

if have; then
  echo "browser: $(/usr/bin/chromium --version 2>/dev/null || echo chromium) and chromedriver present" >&2
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "browser: chromium/chromedriver missing and cannot install (need root and apt-get);" \
       "run: apt-get install chromium chromium-driver" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# fonts-noto-cjk: without a CJK font the console's Chinese renders as boxes in screenshots.
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium chromium-driver \
       fonts-noto-cjk >/dev/null; }; then
  echo "browser: apt-get install chromium chromium-driver failed; browser tests will skip" >&2
  exit 0
fi
if have; then
  echo "browser: installed $(/usr/bin/chromium --version 2>/dev/null)" >&2
else
  echo "browser: installed packages but /usr/bin/chromium or /usr/bin/chromedriver is still missing" >&2
fi
exit 0
