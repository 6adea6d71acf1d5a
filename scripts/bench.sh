#!/usr/bin/env bash
# Side-by-side benchmark of Snow.Native, Kestrel (the ASP.NET Core baseline) and nginx on this machine:
# wrk throughput (plaintext, plaintext pipelined 16 deep, json; 64 and 256 connections), then the connection
# test (server RSS per idle keep-alive connection and per parked request, and the time to release them all).
# Prints one markdown table of req/s and ratios; raw outputs go under bench-results/<timestamp>/.
#
# Each server runs alone, pinned to core 0; wrk and the connection test run on core 1 (one thread).
#
# Environment (all optional):
#   DURATION=10s  WARMUP=10s       length of each measured wrk run and of the warm-up run before it (a
#                                  3 s warm-up left Kestrel short of its tiered-JIT steady state: pipelined ~40% lower)
#   CONNECTIONS="64 256"           wrk connection counts
#   SCALE_CONNECTIONS=9000         connections (and parked requests) in the connection test
#   SERVERS="snow kestrel nginx"   which servers to run
#   TESTS="throughput connections" which parts to run (wrk runs; the connection test)
#   SNOW_POLLER=epoll              Snow's poller (select cannot hold the connection test's fds)
#   SNOW_PORT=8081 KESTREL_PORT=8082 NGINX_PORT=8083
#   DOTNET_GC_MODE=server          server|workstation: the GC both .NET servers run under
#   RESULTS_DIR=bench-results/<timestamp>
#
# Total default run time is about 9 minutes for three servers (plus the first build).
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-10s}
CONNECTIONS=${CONNECTIONS:-"64 256"}
SCALE_CONNECTIONS=${SCALE_CONNECTIONS:-9000}
SERVERS=${SERVERS:-"snow kestrel nginx"}
TESTS=${TESTS:-"throughput connections"}
SNOW_POLLER=${SNOW_POLLER:-epoll}
SNOW_PORT=${SNOW_PORT:-8081}
KESTREL_PORT=${KESTREL_PORT:-8082}
NGINX_PORT=${NGINX_PORT:-8083}
DOTNET_GC_MODE=${DOTNET_GC_MODE:-server}
PIPELINE_DEPTH=16
SERVER_CORE=0
CLIENT_CORE=1
HOST=127.0.0.1
RESULTS=${RESULTS_DIR:-$ROOT/bench-results/$(date +%Y%m%d-%H%M%S)}

mkdir -p "$RESULTS"
RUN_LOG=$RESULTS/run.log
NOTES=()                 # footnotes printed under the table
declare -A RPS           # RPS[server:test] = requests/s
declare -A MEMORY        # MEMORY[server:key] = value from the connection test
declare -A AVAILABLE     # AVAILABLE[server] = 1 when it was built/installed

log() { echo "[bench] $*" | tee -a "$RUN_LOG" >&2; }
note() { NOTES+=("$*"); log "note: $*"; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------------------
# Server lifetime: each server gets its own process group (setsid), so stopping it also stops its children
# (nginx's worker). The trap stops whatever is running when the script exits, however it exits.
SERVER_PID=""
CLIENT_PID=""
TEMP_DIRS=()
POLICY_RC_CREATED=""

cleanup() {
  if [ -n "$CLIENT_PID" ]; then kill -TERM "$CLIENT_PID" 2>/dev/null; wait "$CLIENT_PID" 2>/dev/null; fi
  stop_server
  local dir
  for dir in "${TEMP_DIRS[@]}"; do rm -rf "$dir"; done
  if [ -n "$POLICY_RC_CREATED" ]; then rm -f /usr/sbin/policy-rc.d; fi
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# run_client COMMAND...: runs wrk or the connection test in the background and waits for it, because bash
# runs a trap only after a foreground command ends but interrupts `wait` at once: a SIGTERM to the script
# then stops the client and the server without waiting out the test.
run_client() {
  "$@" &
  CLIENT_PID=$!
  wait "$CLIENT_PID"
  local status=$?
  CLIENT_PID=""
  return "$status"
}

port_accepts() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# start_server NAME PORT COMMAND...: starts COMMAND pinned to the server core and waits until PORT accepts.
start_server() {
  local name=$1 port=$2
  shift 2
  if port_accepts "$port"; then
    die "port $port is busy before $name starts (another process listens there); free it or choose another port"
  fi
  # Without job control a background child is not a group leader, so setsid makes the new group in place
  # (no fork) and $! is the server itself: taskset and setsid both exec.
  setsid taskset -c "$SERVER_CORE" "$@" >>"$RESULTS/$name-server.log" 2>&1 </dev/null &
  SERVER_PID=$!
  local waited=0
  until port_accepts "$port"; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      SERVER_PID=""
      log "$name exited before accepting on port $port; its log:"
      tail -n 20 "$RESULTS/$name-server.log" >&2
      return 1
    fi
    if [ "$waited" -ge 300 ]; then
      log "$name did not accept on port $port within 30 s"
      stop_server
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  log "$name is up (pid $SERVER_PID, port $port)"
}

stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  local pid=$SERVER_PID
  SERVER_PID=""
  kill -TERM -- "-$pid" 2>/dev/null
  local waited=0
  while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 100 ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid ignored SIGTERM for 10 s; killing its group"
    kill -KILL -- "-$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
  return 0
}

# ---------------------------------------------------------------------------------------------------------
# Tools from Debian's packages.
APT_UPDATED=""
apt_install() {
  if [ -z "$APT_UPDATED" ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$RESULTS/apt.log" 2>&1 || log "apt-get update failed (see apt.log)"
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >>"$RESULTS/apt.log" 2>&1
}

nginx_binary() { command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; }; }

install_tools() {
  if ! command -v wrk >/dev/null; then
    apt_install wrk || die "could not install wrk (see $RESULTS/apt.log)"
  fi
  if [[ " $SERVERS " == *" nginx "* ]] && [ -z "$(nginx_binary)" ]; then
    # The package would start a system nginx on port 80; policy-rc.d (Debian's switch for that) keeps it
    # stopped. Only created when absent, and removed again on exit.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && POLICY_RC_CREATED=1
    fi
    apt_install nginx-light || apt_install nginx || note "nginx could not be installed (see apt.log): skipped"
    if [ -n "$POLICY_RC_CREATED" ]; then rm -f /usr/sbin/policy-rc.d; POLICY_RC_CREATED=""; fi
  fi
  if [[ " $SERVERS " == *" nginx "* ]] && [ -n "$(nginx_binary)" ]; then AVAILABLE[nginx]=1; fi
}

# ---------------------------------------------------------------------------------------------------------
# .NET builds. The path of each assembly comes from MSBuild, not from a guess at bin/.
SNOW_PROJECT=$(ls "$ROOT"/bench/Snow.Native.BenchServer/*.csproj 2>/dev/null | head -n 1)
KESTREL_PROJECT=$ROOT/bench/Snow.Native.KestrelBaseline/Snow.Native.KestrelBaseline.csproj
CONNECTION_TEST_PROJECT=$ROOT/bench/Snow.Native.ConnectionTest/Snow.Native.ConnectionTest.csproj

build_project() {
  local name=$1 project=$2
  log "building $name"
  dotnet build "$project" -c Release --nologo -v quiet >>"$RESULTS/build-$name.log" 2>&1
}

target_path() { dotnet msbuild "$1" -p:Configuration=Release -getProperty:TargetPath 2>/dev/null | tail -n 1; }

build_all() {
  build_project connection-test "$CONNECTION_TEST_PROJECT" || die "ConnectionTest did not build (see $RESULTS/build-connection-test.log)"
  CONNECTION_TEST_DLL=$(target_path "$CONNECTION_TEST_PROJECT")
  if [[ " $SERVERS " == *" kestrel "* ]]; then
    build_project kestrel "$KESTREL_PROJECT" || die "the Kestrel baseline did not build (see $RESULTS/build-kestrel.log)"
    KESTREL_DLL=$(target_path "$KESTREL_PROJECT")
    AVAILABLE[kestrel]=1
  fi
  if [[ " $SERVERS " == *" snow "* ]]; then
    if [ -z "$SNOW_PROJECT" ]; then
      note "bench/Snow.Native.BenchServer does not exist yet: Snow.Native skipped"
    elif build_project snow "$SNOW_PROJECT"; then
      SNOW_DLL=$(target_path "$SNOW_PROJECT")
      AVAILABLE[snow]=1
    else
      note "bench/Snow.Native.BenchServer did not build (see build-snow.log): Snow.Native skipped"
    fi
  fi
}

# ---------------------------------------------------------------------------------------------------------
# How each server starts. Both .NET servers get the same GC: server GC (what ASP.NET Core deploys with) with
# one heap affinitized to the server core, so neither gets more GC threads or heaps than the one core it is
# pinned to. DOTNET_GC_MODE=workstation runs both on the workstation GC instead. Environment variables win
# over each app's runtimeconfig, so the apps' own GC settings do not matter.
dotnet_gc_env() {
  if [ "$DOTNET_GC_MODE" = workstation ]; then
    echo "DOTNET_gcServer=0"
  else
    echo "DOTNET_gcServer=1 DOTNET_GCHeapCount=1 DOTNET_GCHeapAffinitizeMask=0x$(printf '%x' $((1 << SERVER_CORE)))"
  fi
}

NGINX_DIR=""
write_nginx_config() {
  NGINX_DIR=$(mktemp -d /tmp/bench-nginx.XXXXXX)
  TEMP_DIRS+=("$NGINX_DIR")
  mkdir -p "$NGINX_DIR/logs" "$NGINX_DIR/temp"
  # One worker like the other servers' one loop; limits high enough for 9,000 idle connections and for wrk
  # never to see a keep-alive close (nginx's default keepalive_requests is 1000).
  cat >"$NGINX_DIR/nginx.conf" <<EOF
daemon off;
master_process on;
user nobody nogroup;
worker_processes 1;
worker_rlimit_nofile 19000;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/logs/error.log warn;

events {
    worker_connections 16384;
    use epoll;
}

http {
    access_log off;
    server_tokens off;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    client_body_temp_path $NGINX_DIR/temp/body;
    proxy_temp_path $NGINX_DIR/temp/proxy;
    fastcgi_temp_path $NGINX_DIR/temp/fastcgi;
    uwsgi_temp_path $NGINX_DIR/temp/uwsgi;
    scgi_temp_path $NGINX_DIR/temp/scgi;

    server {
        listen $HOST:$NGINX_PORT backlog=4096;

        location = /plaintext {
            default_type text/plain;
            return 200 "Hello, World!";
        }

        location = /json {
            default_type application/json;
            return 200 '{"message":"Hello, World!"}';
        }
    }
}
EOF
}

# start NAME: starts the server; MEMORY_PID is the process that holds the connections.
start() {
  local name=$1
  MEMORY_PID=""
  case $name in
    snow)
      start_server snow "$SNOW_PORT" env $(dotnet_gc_env) dotnet "$SNOW_DLL" \
        --host "$HOST" --port "$SNOW_PORT" --loops 1 --poller "$SNOW_POLLER" || return 1
      MEMORY_PID=$SERVER_PID
      ;;
    kestrel)
      start_server kestrel "$KESTREL_PORT" env $(dotnet_gc_env) dotnet "$KESTREL_DLL" \
        --host "$HOST" --port "$KESTREL_PORT" || return 1
      MEMORY_PID=$SERVER_PID
      ;;
    nginx)
      [ -n "$NGINX_DIR" ] || write_nginx_config
      start_server nginx "$NGINX_PORT" "$(nginx_binary)" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" \
        -e "$NGINX_DIR/logs/error.log" || return 1
      # The connections live in the worker, not in the master that was started; the master may accept
      # (into its backlog) a moment before it has forked the worker.
      local tries=0
      until MEMORY_PID=$(ps -o pid= --ppid "$SERVER_PID" | head -n 1 | tr -d ' '); [ -n "$MEMORY_PID" ] || [ "$tries" -ge 50 ]; do
        sleep 0.1
        tries=$((tries + 1))
      done
      ;;
  esac
  [ -n "$MEMORY_PID" ] || { log "$name: no process to measure"; stop_server; return 1; }
}

port_of() {
  case $1 in snow) echo "$SNOW_PORT" ;; kestrel) echo "$KESTREL_PORT" ;; nginx) echo "$NGINX_PORT" ;; esac
}

# ---------------------------------------------------------------------------------------------------------
# wrk runs. A test is PATH plus an optional pipeline depth; wrk runs one thread on the client core and is
# bounded by timeout in case a server stops answering.
seconds_of() { local d=$1; case $d in *ms) echo 1 ;; *m) echo $(( ${d%m} * 60 )) ;; *s) echo "${d%s}" ;; *) echo "$d" ;; esac; }

run_wrk() {
  local port=$1 connections=$2 duration=$3 path=$4 depth=$5 output=$6
  local limit=$(( $(seconds_of "$duration") + 30 ))
  local script=()
  [ "$depth" -gt 1 ] && script=(-s "$ROOT/scripts/bench-pipeline.lua")
  local args=()
  [ "$depth" -gt 1 ] && args=(-- "$depth")
  run_client timeout "$limit" taskset -c "$CLIENT_CORE" wrk -t1 -c"$connections" -d"$duration" --latency \
    -H 'Connection: keep-alive' "${script[@]}" "http://$HOST:$port$path" "${args[@]}" >"$output" 2>&1
}

THROUGHPUT_TESTS=()
for c in $CONNECTIONS; do
  THROUGHPUT_TESTS+=("plaintext-c$c:/plaintext:1:$c" "pipelined$PIPELINE_DEPTH-c$c:/plaintext:$PIPELINE_DEPTH:$c" "json-c$c:/json:1:$c")
done

throughput() {
  local server=$1 port
  port=$(port_of "$server")
  start "$server" || { note "$server did not start: throughput skipped"; return; }
  local entry test path depth connections output
  for entry in "${THROUGHPUT_TESTS[@]}"; do
    IFS=: read -r test path depth connections <<<"$entry"
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      note "$server exited during the throughput tests (see $server-server.log): the rest skipped"
      SERVER_PID=""
      return
    fi
    output=$RESULTS/wrk-$server-$test.txt
    log "$server $test: warm-up $WARMUP, then $DURATION"
    run_wrk "$port" "$connections" "$WARMUP" "$path" "$depth" "$RESULTS/warmup-$server-$test.txt"
    if ! run_wrk "$port" "$connections" "$DURATION" "$path" "$depth" "$output"; then
      note "$server $test: wrk failed or timed out (see $(basename "$output"))"
    fi
    local rps socket non2xx
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$output")
    socket=$(grep -o 'Socket errors:.*' "$output")
    non2xx=$(awk -F': *' '/Non-2xx or 3xx responses/ {print $2}' "$output")
    RPS[$server:$test]=${rps:-}
    [ -n "$socket" ] && note "$server $test: $socket"
    [ -n "$non2xx" ] && note "$server $test: $non2xx non-2xx/3xx responses"
    log "$server $test: ${rps:-no result} req/s"
  done
  stop_server
}

# ---------------------------------------------------------------------------------------------------------
# The connection test gets a freshly started server, so the heap growth of the wrk runs is not part of its
# baseline; the test warms the server up itself before measuring.
connection_test() {
  local server=$1 port park=()
  port=$(port_of "$server")
  [ "$server" = nginx ] && park=(--no-park)
  start "$server" || { note "$server did not start: connection test skipped"; return; }
  local output=$RESULTS/connections-$server.txt
  log "$server: connection test with $SCALE_CONNECTIONS connections (server pid for RSS: $MEMORY_PID)"
  run_client timeout 180 taskset -c "$CLIENT_CORE" dotnet "$CONNECTION_TEST_DLL" --url "http://$HOST:$port" --pid "$MEMORY_PID" \
    --connections "$SCALE_CONNECTIONS" --timeout-seconds 120 "${park[@]}" >"$output" 2>"$RESULTS/connections-$server.log"
  local status=$?
  [ "$status" -eq 0 ] || note "$server connection test exited with $status (see $(basename "$output"))"
  local key value
  while IFS='=' read -r key value; do
    [ -n "$key" ] && MEMORY[$server:$key]=$value
  done <"$output"
  local errors=${MEMORY[$server:errors]:-}
  [ -n "$errors" ] && [ "$errors" != 0 ] && note "$server connection test: $errors errors (first: ${MEMORY[$server:first_error]:-?})"
  log "$server: $(tr '\n' ' ' <"$output")"
  stop_server
}

# ---------------------------------------------------------------------------------------------------------
# The table. Ratios are Snow divided by the other server: above 1 is better for req/s, below 1 is better
# for bytes and milliseconds.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "—"; else printf "%.2f", a / b }'; }
cell() { if [ -n "$1" ]; then echo "$1"; else echo "—"; fi; }
rounded() { [ -n "$1" ] && awk -v v="$1" 'BEGIN { printf "%.0f", v }'; }

print_table() {
  local summary=$RESULTS/summary.md
  {
    echo "| test | Snow.Native | Kestrel | nginx | Snow/Kestrel | Snow/nginx |"
    echo "|---|---|---|---|---|---|"
    local entry test s k n
    for entry in "${THROUGHPUT_TESTS[@]}"; do
      test=${entry%%:*}
      s=$(rounded "${RPS[snow:$test]:-}"); k=$(rounded "${RPS[kestrel:$test]:-}"); n=$(rounded "${RPS[nginx:$test]:-}")
      echo "| $test req/s | $(cell "$s") | $(cell "$k") | $(cell "$n") | $(ratio "$s" "$k") | $(ratio "$s" "$n") |"
    done
    s=${MEMORY[snow:idle_rss_per_conn_bytes]:-}; k=${MEMORY[kestrel:idle_rss_per_conn_bytes]:-}; n=${MEMORY[nginx:idle_rss_per_conn_bytes]:-}
    echo "| RSS per idle keep-alive connection, bytes ($SCALE_CONNECTIONS) | $(cell "$s") | $(cell "$k") | $(cell "$n") | $(ratio "$s" "$k") | $(ratio "$s" "$n") |"
    s=${MEMORY[snow:parked_rss_per_req_bytes]:-}; k=${MEMORY[kestrel:parked_rss_per_req_bytes]:-}
    echo "| RSS per parked request, bytes ($SCALE_CONNECTIONS) | $(cell "$s") | $(cell "$k") | — | $(ratio "$s" "$k") | — |"
    s=$(rounded "${MEMORY[snow:release_all_ms]:-}"); k=$(rounded "${MEMORY[kestrel:release_all_ms]:-}")
    echo "| release all $SCALE_CONNECTIONS parked, ms | $(cell "$s") | $(cell "$k") | — | $(ratio "$s" "$k") | — |"
    echo
    echo "One server core (taskset -c $SERVER_CORE) against one wrk thread (taskset -c $CLIENT_CORE); DURATION=$DURATION, WARMUP=$WARMUP;"
    echo ".NET GC: $DOTNET_GC_MODE ($(dotnet_gc_env)); Snow poller: $SNOW_POLLER. Ratios are Snow/other:"
    echo "above 1 is better for req/s, below 1 is better for bytes and ms. Raw outputs: $RESULTS"
    if [ "${#NOTES[@]}" -gt 0 ]; then
      echo
      echo "Notes:"
      local line
      for line in "${NOTES[@]}"; do echo "- $line"; done
    fi
  } | tee "$summary"
}

# ---------------------------------------------------------------------------------------------------------
{
  echo "date: $(date -Is)"
  echo "kernel: $(uname -srm)"
  echo "cores: $(nproc)"
  echo "dotnet: $(dotnet --version 2>/dev/null)"
  echo "open-file limit (soft/hard): $(ulimit -Sn)/$(ulimit -Hn)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "DURATION=$DURATION WARMUP=$WARMUP CONNECTIONS=$CONNECTIONS SCALE_CONNECTIONS=$SCALE_CONNECTIONS SERVERS=$SERVERS TESTS=$TESTS"
} >"$RESULTS/environment.txt"

[ "$(nproc)" -ge 2 ] || die "needs at least 2 cores (one for the server, one for the client)"
# Anything else busy on the two cores skews every figure; say so next to them.
LOAD_AT_START=$(cut -d' ' -f1 /proc/loadavg)
if awk -v load="$LOAD_AT_START" 'BEGIN { exit !(load >= 0.5) }'; then
  note "load average was $LOAD_AT_START at start: other processes share the cores, so absolute figures are noisy"
fi
install_tools
echo "wrk: $(wrk -v 2>&1 | head -n 1)" >>"$RESULTS/environment.txt"
[ -n "$(nginx_binary)" ] && echo "nginx: $($(nginx_binary) -v 2>&1)" >>"$RESULTS/environment.txt"
build_all

if [[ " $TESTS " == *" throughput "* ]]; then
  for server in snow kestrel nginx; do
    [[ " $SERVERS " == *" $server "* ]] && [ -n "${AVAILABLE[$server]:-}" ] && throughput "$server"
  done
fi
if [[ " $TESTS " == *" connections "* ]]; then
  for server in snow kestrel nginx; do
    [[ " $SERVERS " == *" $server "* ]] && [ -n "${AVAILABLE[$server]:-}" ] && connection_test "$server"
  done
fi

echo
print_table
