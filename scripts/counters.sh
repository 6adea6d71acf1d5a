#!/usr/bin/env bash
# Snow.Native's meter seen by dotnet-counters (the .NET diagnostics tool, installed from NuGet into scripts/.tools):
# starts the bench server, drives it with curl (plaintext, json, a 404, a parked request, a bad request), collects
# the "Snow.Native" meter for a few seconds and prints the last value of every instrument; exits non-zero when an
# instrument the README lists is missing.
#
#   scripts/counters.sh                 # DURATION=6 (seconds of collection)
#
# To watch a running app yourself: scripts/.tools/dotnet-counters monitor --counters Snow.Native -p PID
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS=$ROOT/scripts/.tools
VERSION=${DOTNET_COUNTERS_VERSION:-10.0.750501}
DURATION=${DURATION:-6}
WORK=$(mktemp -d)
SERVER_PID=""
DRIVER_PID=""

cleanup() {
  [ -n "$DRIVER_PID" ] && kill "$DRIVER_PID" 2>/dev/null
  [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v curl >/dev/null || { echo "counters: curl is missing (scripts/deps.sh curl)" >&2; exit 2; }
if [ ! -x "$TOOLS/dotnet-counters" ]; then
  echo "[counters] installing dotnet-counters $VERSION into scripts/.tools" >&2
  dotnet tool install dotnet-counters --version "$VERSION" --tool-path "$TOOLS" >"$WORK/tool.log" 2>&1 || { cat "$WORK/tool.log" >&2; exit 1; }
fi

echo "[counters] building the bench server" >&2
timeout 1200 dotnet build bench/Snow.Native.BenchServer -c Release --nologo -v quiet --disable-build-servers >"$WORK/build.log" 2>&1 \
  || { tail -20 "$WORK/build.log" >&2; exit 1; }
DLL=$(dotnet msbuild bench/Snow.Native.BenchServer -p:Configuration=Release -getProperty:TargetPath 2>/dev/null | tail -n 1)

dotnet "$DLL" --host 127.0.0.1 --port 0 --loops 2 >"$WORK/server.log" 2>&1 </dev/null &
SERVER_PID=$!
URL=""
for _ in $(seq 1 300); do
  URL=$(grep -o 'http://127.0.0.1:[0-9]*/' "$WORK/server.log" 2>/dev/null | head -n 1 || true)
  [ -n "$URL" ] && break
  sleep 0.1
done
[ -n "$URL" ] || { echo "counters: the bench server did not start" >&2; cat "$WORK/server.log" >&2; exit 1; }
PORT=${URL##*:}; PORT=${PORT%/}
echo "[counters] bench server pid $SERVER_PID on $URL" >&2

drive() {
  while true; do
    curl -s -o /dev/null -o /dev/null -o /dev/null "${URL}plaintext" "${URL}json" "${URL}nowhere" || true
    curl -s -o /dev/null --max-time 5 "${URL}park/" &
    sleep 0.2
    curl -s -o /dev/null "${URL}release/" || true
    # A malformed request (two Content-Lengths): rejected with 400 and counted by reason.
    { exec 3<>"/dev/tcp/127.0.0.1/$PORT" && printf 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n' >&3 && cat <&3 >/dev/null; exec 3>&-; } 2>/dev/null || true
  done
}
drive &
DRIVER_PID=$!

"$TOOLS/dotnet-counters" collect --process-id "$SERVER_PID" --counters Snow.Native --refresh-interval 1 \
  --duration "00:00:$(printf '%02d' "$DURATION")" --format csv --output "$WORK/counters.csv" >"$WORK/collect.log" 2>&1 \
  || { cat "$WORK/collect.log" >&2; exit 1; }
kill "$DRIVER_PID" 2>/dev/null || true
CSV=$(ls "$WORK"/counters*.csv | head -n 1)

echo "dotnet-counters collect --counters Snow.Native, last value of each instrument (and its tags):"
# CSV columns: Timestamp,Provider,Counter Name,Counter Type,Mean/Increment
awk -F, 'NR > 1 && $2 == "Snow.Native" { last[$3] = $5; type[$3] = $4 } END { for (k in last) printf "  %-110s %-6s %s\n", k, type[k], last[k] }' "$CSV" | sort

missing=0
for name in http.server.request.duration http.server.active_requests snow.server.open_connections snow.server.parked_requests \
            snow.server.rejected_requests snow.server.bytes_received snow.server.bytes_sent snow.loop.busy_ratio; do
  grep -q ",Snow.Native,$name" "$CSV" || { echo "MISSING $name" >&2; missing=$((missing + 1)); }
done
[ "$missing" -eq 0 ] && echo "all instruments present" || exit 1
