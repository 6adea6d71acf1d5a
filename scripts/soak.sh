#!/usr/bin/env bash
# The HTTP engine's soak check: wrk holds 256 keep-alive connections against the demo server for a minute
# (and against the bench server's /plaintext and /json) and every request must be answered: no socket errors
# (connect, read, write, timeout) and no non-2xx responses. Installs wrk from Debian's packages when missing.
#
#   scripts/soak.sh                      # DURATION=60s CONNECTIONS=256 THREADS=2 POLLER=(OS default)
#   POLLER=select CONNECTIONS=256 scripts/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-60s}
CONNECTIONS=${CONNECTIONS:-256}
THREADS=${THREADS:-2}
POLLER=${POLLER:-}
PORT=${PORT:-8077}

if ! command -v wrk >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
    else
        echo "soak: wrk is missing (apt-get install wrk)" >&2; exit 2
    fi
fi

for project in src/Snow.Native.Demo bench/Snow.Native.BenchServer; do
    dotnet build -c Release -v q -nologo "$project" >/dev/null || { echo "soak: build of $project failed" >&2; exit 1; }
done

SERVER_PID=""
stop_server() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""; }
trap stop_server EXIT

wait_for_port() {
    for _ in $(seq 100); do
        (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "soak: server did not start" >&2; exit 1
}

failures=0
run() { # name url
    local out
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 5s "$2")
    echo "$out" | sed 's/^/    /'
    local requests errors non2xx
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    errors=$(echo "$out" | awk '/Socket errors/ {gsub(",",""); print $4+$6+$8+$10}')
    non2xx=$(echo "$out" | awk '/Non-2xx/ {print $5}')
    errors=${errors:-0}; non2xx=${non2xx:-0}
    if [ "$errors" = 0 ] && [ "$non2xx" = 0 ] && [ "${requests:-0}" -gt 0 ]; then
        echo "ok   $1: $requests requests, 0 socket errors, 0 non-2xx"
    else
        echo "FAIL $1: $requests requests, $errors socket errors, $non2xx non-2xx"
        failures=$((failures + 1))
    fi
}

poller_args=()
[ -n "$POLLER" ] && poller_args=(--poller "$POLLER")

dotnet src/Snow.Native.Demo/bin/Release/net10.0/Snow.Native.Demo.dll --port "$PORT" "${poller_args[@]}" >/dev/null &
SERVER_PID=$!
wait_for_port
run "demo /index/ (-c$CONNECTIONS, $DURATION)" "http://127.0.0.1:$PORT/index/"
stop_server

dotnet bench/Snow.Native.BenchServer/bin/Release/net10.0/Snow.Native.BenchServer.dll --port "$PORT" "${poller_args[@]}" >/dev/null &
SERVER_PID=$!
wait_for_port
run "bench /plaintext (-c$CONNECTIONS, $DURATION)" "http://127.0.0.1:$PORT/plaintext"
run "bench /json (-c$CONNECTIONS, $DURATION)" "http://127.0.0.1:$PORT/json"
stop_server

echo "soak: $failures failed"
[ "$failures" = 0 ]
