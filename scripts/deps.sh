#!/usr/bin/env bash
# Makes the tools that some tests and scripts need beyond the .NET SDK available, idempotently:
#   scripts/deps.sh redis-server nginx testssl.sh chromium python3-websockets npm:ws ...
# A name is a Debian package (installed with apt-get when the command or module it provides is missing) or
# npm:<package> (installed into scripts/.npm, which the tests put on NODE_PATH). Debian's packages may not start
# their own services (policy-rc.d while installing). Safe to run from several test processes at once (one lock).
# Exits 0 when everything asked for is there; otherwise names what is missing on standard error and exits 1.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STATE="${SNOW_DEPS_STATE:-/tmp/snow-native-deps}"
mkdir -p "$STATE"

# What tells that a Debian package is already there (a command, or a file the package installs).
present() {
  case "$1" in
    redis-server) command -v redis-server >/dev/null ;;
    nginx|nginx-light) command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ;;
    testssl.sh) command -v testssl >/dev/null || command -v testssl.sh >/dev/null ;;
    chromium) command -v chromium >/dev/null ;;
    python3-*) dpkg -s "$1" >/dev/null 2>&1 ;;
    npm:*) [ -d "$ROOT/scripts/.npm/node_modules/${1#npm:}" ] ;;
    *) command -v "$1" >/dev/null || dpkg -s "$1" >/dev/null 2>&1 ;;
  esac
}

install_debian() {
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "deps: cannot install $* (needs root and apt-get)" >&2
    return 1
  fi
  local created=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && created=1
  fi
  if [ ! -e "$STATE/apt-updated" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$STATE/apt.log" 2>&1 && touch "$STATE/apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" </dev/null >>"$STATE/apt.log" 2>&1
  local status=$?
  [ -n "$created" ] && rm -f /usr/sbin/policy-rc.d
  return $status
}

install_npm() {
  mkdir -p "$ROOT/scripts/.npm"
  (cd "$ROOT/scripts/.npm" && npm install --no-audit --no-fund --silent "$@" </dev/null >>"$STATE/npm.log" 2>&1)
}

exec 9>"$STATE/lock"
flock 9
missing=()
for name in "$@"; do
  present "$name" && continue
  case "$name" in
    npm:*) install_npm "${name#npm:}" ;;
    *) install_debian "$name" ;;
  esac
  present "$name" || missing+=("$name")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: could not install ${missing[*]} (see $STATE/apt.log, $STATE/npm.log)" >&2
  exit 1
fi
exit 0
