#!/bin/sh
# Makes sure a redis-server (>= 7) is on PATH for the embedded default (`npm start`) and the tests (`npm test`).
# With REDIS_URL set, `npm start` uses that Redis and needs no local server. When redis-server is missing and
# we may install packages (root, or passwordless sudo) on a Debian-like system, it is installed from Debian's
# packages; otherwise this prints how to install it and fails.
set -eu
purpose="${1:-start}"
if [ "$purpose" = "start" ] && [ -n "${REDIS_URL:-}" ]; then exit 0; fi
bin="${MNEMO_REDIS_SERVER:-redis-server}"
if command -v "$bin" >/dev/null 2>&1; then exit 0; fi

if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then sudo=""; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else sudo="none"; fi
  if [ "$sudo" != "none" ]; then
    echo "mnemo: redis-server not found; installing it from Debian's packages (apt-get install redis-server)..." >&2
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends redis-server >&2
    command -v "$bin" >/dev/null 2>&1 && exit 0
  fi
fi
cat >&2 <<MSG
mnemo: redis-server (7.0 or newer) is needed but was not found on PATH.
  Debian/Ubuntu: sudo apt-get install -y redis-server
  macOS:         brew install redis
Or point MNEMO_REDIS_SERVER at a redis-server binary, or set REDIS_URL to use an existing Redis (npm start only).
MSG
exit 1
