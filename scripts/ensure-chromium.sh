#!/bin/sh
# Makes sure a Chromium is on PATH for the admin console's browser tests (test/integration/console-*.test.ts,
# driven by playwright-core, which never downloads a browser of its own). When it is missing and we may
# install packages (root, or passwordless sudo) on a Debian-like system, Debian's `chromium` package is
# installed; otherwise this prints how to install it and fails. MNEMO_CHROMIUM names another binary.
set -eu
bin="${MNEMO_CHROMIUM:-chromium}"
if command -v "$bin" >/dev/null 2>&1; then exit 0; fi

if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then sudo=""; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else sudo="none"; fi
  if [ "$sudo" != "none" ]; then
    echo "mnemo: chromium not found; installing it from Debian's packages (apt-get install chromium)..." >&2
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >&2
    command -v "$bin" >/dev/null 2>&1 && exit 0
  fi
fi
cat >&2 <<MSG
mnemo: chromium is needed by the console's browser tests but was not found on PATH.
  Debian/Ubuntu: sudo apt-get install -y chromium
Or point MNEMO_CHROMIUM at a Chromium or Chrome binary.
MSG
exit 1
