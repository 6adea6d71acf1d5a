#!/usr/bin/env bash
# Side-by-side benchmark of Snow.Native, Kestrel (the ASP.NET Core baseline) and nginx on this machine, and
# optionally of a second Snow.Native build from another git revision ("snow-before", BASELINE_REV=<rev>):
# wrk throughput (plaintext, plaintext pipelined 16 deep, json; 64 and 256 connections), then the connection
# test (server RSS per idle keep-alive connection and per parked request, and the time to release them all).
# Prints one markdown table of medians and ratios; raw outputs go under bench-results/<timestamp>/.
#
# How it measures (the project's rule: side by side in one run, as ratios, because the machine is shared and
# noisy):
# - Throughput: every server is started at once, each on its own port on 127.0.0.1 and all pinned to core 0.
#   wrk (one thread, core 1) first warms each server up on each test (WARMUP), then takes them in turn over
#   ROUNDS rounds: for each round, for each test, one DURATION run against each server, the server order
#   rotating by one each round. A req/s cell is the median over rounds; a ratio cell is the median of the
#   per-round ratios (both servers measured minutes apart at most), with their min-max in brackets.
# - Connection test: one server at a time, each freshly started (memory is not disturbed by the others, and a
#   fresh start keeps the wrk runs' heap growth out of its baseline); the server on core 0, the test on core 1.
#   RSS per idle keep-alive connection is a must-hold figure for Snow.Native (at most 700 B): the script checks
#   whether it held, for snow and snow-before (the table's footer says).
# - BASELINE_REV=<rev>: `git worktree add` of that revision under a temp dir (removed on exit), its
#   bench/Snow.Native.BenchServer built in Release and run as "snow-before" beside "snow" (this work tree,
#   uncommitted changes included), with the same command line, in the same rounds and in the connection test;
#   the table gets a Snow/before column. BASELINE_REV=HEAD on a clean tree is an A/A run: the noise floor.
#   scripts/bench-compare.sh <rev> does the same.
#
# Environment (all optional):
#   DURATION=5s  WARMUP=10s  ROUNDS=3  length of each measured wrk run, of the warm-up run per test and server
#                                  (a 3 s warm-up left Kestrel short of its tiered-JIT steady state: pipelined
#                                  ~40% lower), and the number of measured rounds (1..20)
#   CONNECTIONS="64 256"           wrk connection counts
#   SCALE_CONNECTIONS=9000         connections (and parked requests) in the connection test
#   SERVERS="snow kestrel nginx"   which servers to run (snow-before is added when BASELINE_REV is set)
#   BASELINE_REV=                  a git revision to build and run as snow-before
#   TESTS="throughput connections" which parts to run (wrk runs; the connection test)
#   SNOW_POLLER=epoll              both Snow builds' poller (select cannot hold the connection test's fds)
#   SNOW_PORT=8081 KESTREL_PORT=8082 NGINX_PORT=8083 SNOW_BEFORE_PORT=8084
#   DOTNET_GC_MODE=server          server|workstation: the GC all .NET servers run under
#   RESULTS_DIR=bench-results/<timestamp>
#
# Every wait is bounded: wrk by timeout (DURATION + 30 s), the connection test by 180 s, each build by 20 min,
# a server's start by 30 s and its stop by 10 s (then SIGKILL to its process group). On exit, however it
# exits, the trap stops the client and every server still running and removes the baseline's worktree.
#
# A default run takes about 9 minutes for three servers (warm-up 3 min, 3 rounds 4.5 min, connection tests
# ~20 s each) and about 12 with snow-before (one measured: 11.5 min, of which the builds took 23 s; a first
# build of a tree takes longer). The script logs its estimate once the builds are done.
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

DURATION=${DURATION:-5s}
WARMUP=${WARMUP:-10s}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-"64 256"}
SCALE_CONNECTIONS=${SCALE_CONNECTIONS:-9000}
SERVERS=${SERVERS:-"snow kestrel nginx"}
BASELINE_REV=${BASELINE_REV:-}
TESTS=${TESTS:-"throughput connections"}
SNOW_POLLER=${SNOW_POLLER:-epoll}
SNOW_PORT=${SNOW_PORT:-8081}
KESTREL_PORT=${KESTREL_PORT:-8082}
NGINX_PORT=${NGINX_PORT:-8083}
SNOW_BEFORE_PORT=${SNOW_BEFORE_PORT:-8084}
DOTNET_GC_MODE=${DOTNET_GC_MODE:-server}
PIPELINE_DEPTH=16
SERVER_CORE=0
CLIENT_CORE=1
HOST=127.0.0.1
RSS_PER_IDLE_CONNECTION_LIMIT=700
ALL_SERVERS=(snow snow-before kestrel nginx)   # the table's column order
RESULTS=${RESULTS_DIR:-$ROOT/bench-results/$(date +%Y%m%d-%H%M%S)}

mkdir -p "$RESULTS"
RUN_LOG=$RESULTS/run.log
NOTES=()                 # footnotes printed under the table
declare -A ROUND_RPS     # ROUND_RPS[server:test:round] = requests/s
declare -A RPS           # RPS[server:test] = median requests/s over the rounds
declare -A MEMORY        # MEMORY[server:key] = value from the connection test
declare -A AVAILABLE     # AVAILABLE[server] = 1 when it was built/installed
declare -A SERVER_PIDS   # SERVER_PIDS[server] = pid of the running server (its process group leader)
declare -A MEMORY_PIDS   # MEMORY_PIDS[server] = pid of the process that holds its connections
declare -A DEAD          # DEAD[server] = 1 once it exited during the throughput rounds
ROUND_LOADS=()           # the 1-minute load average at the start of each round

log() { echo "[bench] $*" | tee -a "$RUN_LOG" >&2; }
note() { NOTES+=("$*"); log "note: $*"; }
die() { log "error: $*"; exit 1; }

[[ "$ROUNDS" =~ ^[0-9]+$ ]] && [ "$ROUNDS" -ge 1 ] && [ "$ROUNDS" -le 20 ] || die "ROUNDS must be 1..20, not '$ROUNDS'"
if [ -n "$BASELINE_REV" ] && [[ " $SERVERS " != *" snow-before "* ]]; then SERVERS="$SERVERS snow-before"; fi
if [ -z "$BASELINE_REV" ] && [[ " $SERVERS " == *" snow-before "* ]]; then die "snow-before needs BASELINE_REV=<git revision>"; fi
for server in $SERVERS; do
  [[ " ${ALL_SERVERS[*]} " == *" $server "* ]] || die "unknown server '$server' in SERVERS (known: ${ALL_SERVERS[*]})"
done
REQUESTED=()             # the servers asked for, in column order
for server in "${ALL_SERVERS[@]}"; do
  [[ " $SERVERS " == *" $server "* ]] && REQUESTED+=("$server")
done
requested() { [[ " ${REQUESTED[*]} " == *" $1 "* ]]; }

# ---------------------------------------------------------------------------------------------------------
# Server lifetime: each server gets its own process group (setsid), so stopping it also stops its children
# (nginx's worker). The trap stops every server still running, the client, and removes the temp dirs and the
# baseline's worktree when the script exits, however it exits.
CLIENT_PID=""
TEMP_DIRS=()
WORKTREES=()
POLICY_RC_CREATED=""

cleanup() {
  if [ -n "$CLIENT_PID" ]; then kill -TERM "$CLIENT_PID" 2>/dev/null; wait "$CLIENT_PID" 2>/dev/null; fi
  stop_all_servers
  local dir
  for dir in "${WORKTREES[@]}"; do
    git -C "$ROOT" worktree remove --force "$dir" >>"$RUN_LOG" 2>&1 || log "git worktree remove $dir failed"
  done
  for dir in "${TEMP_DIRS[@]}"; do rm -rf "$dir"; done
  if [ "${#WORKTREES[@]}" -gt 0 ]; then git -C "$ROOT" worktree prune >>"$RUN_LOG" 2>&1; fi
  if [ -n "$POLICY_RC_CREATED" ]; then rm -f /usr/sbin/policy-rc.d; fi
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# run_client COMMAND...: runs wrk, the connection test or a build in the background and waits for it,
# because bash runs a trap only after a foreground command ends but interrupts `wait` at once: a SIGTERM to
# the script then stops the client and the servers without waiting out the test.
run_client() {
  "$@" &
  CLIENT_PID=$!
  wait "$CLIENT_PID"
  local status=$?
  CLIENT_PID=""
  return "$status"
}

port_accepts() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }
server_alive() { [ -n "${SERVER_PIDS[$1]:-}" ] && kill -0 "${SERVER_PIDS[$1]}" 2>/dev/null; }

# start_server NAME PORT COMMAND...: starts COMMAND pinned to the server core and waits until PORT accepts.
start_server() {
  local name=$1 port=$2
  shift 2
  if port_accepts "$port"; then
    log "port $port is busy before $name starts (another process listens there); free it or choose another port"
    return 1
  fi
  # Without job control a background child is not a group leader, so setsid makes the new group in place
  # (no fork) and $! is the server itself: taskset and setsid both exec.
  setsid taskset -c "$SERVER_CORE" "$@" >>"$RESULTS/$name-server.log" 2>&1 </dev/null &
  SERVER_PIDS[$name]=$!
  local pid=$! waited=0
  until port_accepts "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null
      unset 'SERVER_PIDS[$name]'
      log "$name exited before accepting on port $port; its log:"
      tail -n 20 "$RESULTS/$name-server.log" >&2
      return 1
    fi
    if [ "$waited" -ge 300 ]; then
      log "$name did not accept on port $port within 30 s"
      stop_server "$name"
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  log "$name is up (pid $pid, port $port)"
}

# stop_server NAME: SIGTERM to its process group, up to 10 s, then SIGKILL.
stop_server() {
  local name=$1 pid=${SERVER_PIDS[$1]:-}
  [ -n "$pid" ] || return 0
  unset 'SERVER_PIDS[$name]' 'MEMORY_PIDS[$name]'
  kill -TERM -- "-$pid" 2>/dev/null
  local waited=0
  while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 100 ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name (pid $pid) ignored SIGTERM for 10 s; killing its group"
    kill -KILL -- "-$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
  return 0
}

stop_all_servers() {
  local name
  for name in "${!SERVER_PIDS[@]}"; do stop_server "$name"; done
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
  if requested nginx && [ -z "$(nginx_binary)" ]; then
    # The package would start a system nginx on port 80; policy-rc.d (Debian's switch for that) keeps it
    # stopped. Only created when absent, and removed again on exit.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && POLICY_RC_CREATED=1
    fi
    apt_install nginx-light || apt_install nginx || note "nginx could not be installed (see apt.log): skipped"
    if [ -n "$POLICY_RC_CREATED" ]; then rm -f /usr/sbin/policy-rc.d; POLICY_RC_CREATED=""; fi
  fi
  if requested nginx && [ -n "$(nginx_binary)" ]; then AVAILABLE[nginx]=1; fi
}

# ---------------------------------------------------------------------------------------------------------
# .NET builds. The path of each assembly comes from MSBuild, not from a guess at bin/. No build servers
# (MSBuild nodes, the compiler server) are left running after a build.
SNOW_PROJECT=$(ls "$ROOT"/bench/Snow.Native.BenchServer/*.csproj 2>/dev/null | head -n 1)
KESTREL_PROJECT=$ROOT/bench/Snow.Native.KestrelBaseline/Snow.Native.KestrelBaseline.csproj
CONNECTION_TEST_PROJECT=$ROOT/bench/Snow.Native.ConnectionTest/Snow.Native.ConnectionTest.csproj

build_project() {
  local name=$1 project=$2
  log "building $name"
  run_client timeout 1200 dotnet build "$project" -c Release --nologo -v quiet --disable-build-servers \
    >>"$RESULTS/build-$name.log" 2>&1
}

target_path() { dotnet msbuild "$1" -p:Configuration=Release -nodeReuse:false -getProperty:TargetPath 2>/dev/null | tail -n 1; }

BASELINE_COMMIT=""
BASELINE_SHORT=""
build_baseline() {
  BASELINE_COMMIT=$(git -C "$ROOT" rev-parse --verify --quiet "$BASELINE_REV^{commit}") ||
    die "BASELINE_REV=$BASELINE_REV is not a commit in this repository"
  BASELINE_SHORT=$(git -C "$ROOT" rev-parse --short "$BASELINE_COMMIT")
  local dir
  dir=$(mktemp -d /tmp/bench-snow-before.XXXXXX) || die "mktemp failed"
  TEMP_DIRS+=("$dir")
  local tree=$dir/snow-before-$BASELINE_SHORT
  log "git worktree add $tree ($BASELINE_REV = $BASELINE_SHORT)"
  git -C "$ROOT" worktree add --detach --quiet "$tree" "$BASELINE_COMMIT" >>"$RUN_LOG" 2>&1 ||
    die "git worktree add of $BASELINE_SHORT failed (see run.log)"
  WORKTREES+=("$tree")
  local project
  project=$(ls "$tree"/bench/Snow.Native.BenchServer/*.csproj 2>/dev/null | head -n 1)
  if [ -z "$project" ]; then
    note "$BASELINE_SHORT has no bench/Snow.Native.BenchServer: snow-before skipped"
  elif build_project snow-before "$project"; then
    SNOW_BEFORE_DLL=$(target_path "$project")
    AVAILABLE[snow-before]=1
  else
    note "snow-before ($BASELINE_SHORT) did not build (see build-snow-before.log): skipped"
  fi
}

build_all() {
  build_project connection-test "$CONNECTION_TEST_PROJECT" || die "ConnectionTest did not build (see $RESULTS/build-connection-test.log)"
  CONNECTION_TEST_DLL=$(target_path "$CONNECTION_TEST_PROJECT")
  if requested kestrel; then
    build_project kestrel "$KESTREL_PROJECT" || die "the Kestrel baseline did not build (see $RESULTS/build-kestrel.log)"
    KESTREL_DLL=$(target_path "$KESTREL_PROJECT")
    AVAILABLE[kestrel]=1
  fi
  if requested snow; then
    if [ -z "$SNOW_PROJECT" ]; then
      note "bench/Snow.Native.BenchServer does not exist yet: Snow.Native skipped"
    elif build_project snow "$SNOW_PROJECT"; then
      SNOW_DLL=$(target_path "$SNOW_PROJECT")
      AVAILABLE[snow]=1
    else
      note "bench/Snow.Native.BenchServer did not build (see build-snow.log): Snow.Native skipped"
    fi
  fi
  if requested snow-before; then build_baseline; fi
}

# ---------------------------------------------------------------------------------------------------------
# How each server starts. All .NET servers get the same GC: server GC (what ASP.NET Core deploys with) with
# one heap affinitized to the server core, so none gets more GC threads or heaps than the one core it is
# pinned to. DOTNET_GC_MODE=workstation runs them on the workstation GC instead. Environment variables win
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

port_of() {
  case $1 in
    snow) echo "$SNOW_PORT" ;; snow-before) echo "$SNOW_BEFORE_PORT" ;;
    kestrel) echo "$KESTREL_PORT" ;; nginx) echo "$NGINX_PORT" ;;
  esac
}

label_of() {
  case $1 in
    snow) echo "Snow.Native" ;; snow-before) echo "Snow.Native before ($BASELINE_SHORT)" ;;
    kestrel) echo "Kestrel" ;; nginx) echo "nginx" ;;
  esac
}

short_label_of() {
  case $1 in snow) echo "Snow" ;; snow-before) echo "before" ;; kestrel) echo "Kestrel" ;; nginx) echo "nginx" ;; esac
}

# start NAME: starts the server; MEMORY_PIDS[NAME] is the process that holds the connections. Both Snow
# builds get the same command line (--host --port --loops --poller), which the bench server has taken since
# its first commit (8ec9d87): a baseline revision need understand nothing newer.
start() {
  local name=$1 port
  port=$(port_of "$name")
  case $name in
    snow | snow-before)
      local dll=$SNOW_DLL
      [ "$name" = snow-before ] && dll=$SNOW_BEFORE_DLL
      start_server "$name" "$port" env $(dotnet_gc_env) dotnet "$dll" \
        --host "$HOST" --port "$port" --loops 1 --poller "$SNOW_POLLER" || return 1
      MEMORY_PIDS[$name]=${SERVER_PIDS[$name]}
      ;;
    kestrel)
      start_server kestrel "$port" env $(dotnet_gc_env) dotnet "$KESTREL_DLL" \
        --host "$HOST" --port "$port" || return 1
      MEMORY_PIDS[$name]=${SERVER_PIDS[$name]}
      ;;
    nginx)
      [ -n "$NGINX_DIR" ] || write_nginx_config
      start_server nginx "$port" "$(nginx_binary)" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" \
        -e "$NGINX_DIR/logs/error.log" || return 1
      # The connections live in the worker, not in the master that was started; the master may accept
      # (into its backlog) a moment before it has forked the worker.
      local tries=0 worker=""
      until worker=$(ps -o pid= --ppid "${SERVER_PIDS[nginx]}" | head -n 1 | tr -d ' '); [ -n "$worker" ] || [ "$tries" -ge 50 ]; do
        sleep 0.1
        tries=$((tries + 1))
      done
      [ -n "$worker" ] && MEMORY_PIDS[nginx]=$worker
      ;;
  esac
  [ -n "${MEMORY_PIDS[$name]:-}" ] || { log "$name: no process to measure"; stop_server "$name"; return 1; }
}

# ---------------------------------------------------------------------------------------------------------
# wrk runs. A test is NAME:PATH:DEPTH:CONNECTIONS; wrk runs one thread on the client core and is bounded by
# timeout in case a server stops answering.
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

# still_running NAME: false (with a note, once) when the server has exited since it started.
still_running() {
  local name=$1
  [ -z "${DEAD[$name]:-}" ] || return 1
  server_alive "$name" && return 0
  DEAD[$name]=1
  note "$name exited during the throughput runs (see $name-server.log): its remaining runs skipped"
  stop_server "$name"
  return 1
}

# measure NAME TEST ROUND: one measured wrk run; ROUND_RPS gets its req/s.
measure() {
  local name=$1 entry=$2 round=$3 test path depth connections
  IFS=: read -r test path depth connections <<<"$entry"
  local output=$RESULTS/wrk-$name-$test-round$round.txt
  if ! run_wrk "$(port_of "$name")" "$connections" "$DURATION" "$path" "$depth" "$output"; then
    note "$name $test round $round: wrk failed or timed out (see $(basename "$output"))"
  fi
  local rps socket non2xx
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$output")
  socket=$(grep -o 'Socket errors:.*' "$output")
  non2xx=$(awk -F': *' '/Non-2xx or 3xx responses/ {print $2}' "$output")
  [ -n "$rps" ] && ROUND_RPS[$name:$test:$round]=$rps
  [ -n "$socket" ] && note "$name $test round $round: $socket"
  [ -n "$non2xx" ] && note "$name $test round $round: $non2xx non-2xx/3xx responses"
  log "round $round $test $name: ${rps:-no result} req/s"
}

throughput() {
  local started=() name
  for name in "${REQUESTED[@]}"; do
    [ -n "${AVAILABLE[$name]:-}" ] || continue
    if start "$name"; then started+=("$name"); else note "$name did not start: throughput skipped"; fi
  done
  [ "${#started[@]}" -gt 0 ] || return
  log "all running at once on core $SERVER_CORE: ${started[*]}"

  local entry test path depth connections
  for entry in "${THROUGHPUT_TESTS[@]}"; do
    IFS=: read -r test path depth connections <<<"$entry"
    for name in "${started[@]}"; do
      still_running "$name" || continue
      log "warm-up $test $name: $WARMUP"
      run_wrk "$(port_of "$name")" "$connections" "$WARMUP" "$path" "$depth" "$RESULTS/warmup-$name-$test.txt"
    done
  done

  local round i count=${#started[@]} order
  for ((round = 1; round <= ROUNDS; round++)); do
    order=()
    for ((i = 0; i < count; i++)); do order+=("${started[$(( (i + round - 1) % count ))]}"); done
    ROUND_LOADS+=("$(cut -d' ' -f1 /proc/loadavg)")
    log "round $round of $ROUNDS (order: ${order[*]}; load average ${ROUND_LOADS[-1]})"
    for entry in "${THROUGHPUT_TESTS[@]}"; do
      for name in "${order[@]}"; do
        still_running "$name" && measure "$name" "$entry" "$round"
      done
    done
  done
  stop_all_servers
  if awk -v loads="${ROUND_LOADS[*]}" 'BEGIN { n = split(loads, l, " "); for (i = 1; i <= n; i++) if (l[i] >= 1.5) exit 0; exit 1 }'; then
    note "load average at the start of each round: ${ROUND_LOADS[*]} (the bench itself accounts for about 1): other processes shared the cores"
  fi
}

# ---------------------------------------------------------------------------------------------------------
# The connection test gets a freshly started server, alone, so the heap growth of the wrk runs is not part
# of its baseline; the test warms the server up itself before measuring.
connection_test() {
  local server=$1 park=()
  [ "$server" = nginx ] && park=(--no-park)
  start "$server" || { note "$server did not start: connection test skipped"; return; }
  local output=$RESULTS/connections-$server.txt memory_pid=${MEMORY_PIDS[$server]}
  log "$server: connection test with $SCALE_CONNECTIONS connections (server pid for RSS: $memory_pid)"
  run_client timeout 180 taskset -c "$CLIENT_CORE" dotnet "$CONNECTION_TEST_DLL" --url "http://$HOST:$(port_of "$server")" \
    --pid "$memory_pid" --connections "$SCALE_CONNECTIONS" --timeout-seconds 120 "${park[@]}" \
    >"$output" 2>"$RESULTS/connections-$server.log"
  local status=$?
  [ "$status" -eq 0 ] || note "$server connection test exited with $status (see $(basename "$output"))"
  local key value
  while IFS='=' read -r key value; do
    [ -n "$key" ] && MEMORY[$server:$key]=$value
  done <"$output"
  local errors=${MEMORY[$server:errors]:-}
  [ -n "$errors" ] && [ "$errors" != 0 ] && note "$server connection test: $errors errors (first: ${MEMORY[$server:first_error]:-?})"
  log "$server: $(tr '\n' ' ' <"$output")"
  stop_server "$server"
}

# ---------------------------------------------------------------------------------------------------------
# The table. Ratios are Snow divided by the other server: above 1 is better for req/s, below 1 is better
# for bytes and milliseconds.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "—"; else printf "%.2f", a / b }'; }
cell() { if [ -n "$1" ]; then echo "$1"; else echo "—"; fi; }
rounded() { [ -n "$1" ] && awk -v v="$1" 'BEGIN { printf "%.0f", v }'; }
# median VALUE...: the median (the mean of the middle two for an even count); nothing for no values.
median() { [ "$#" -gt 0 ] && printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

compute_medians() {
  local name entry test round values
  for name in "${REQUESTED[@]}"; do
    for entry in "${THROUGHPUT_TESTS[@]}"; do
      test=${entry%%:*}
      values=()
      for ((round = 1; round <= ROUNDS; round++)); do
        [ -n "${ROUND_RPS[$name:$test:$round]:-}" ] && values+=("${ROUND_RPS[$name:$test:$round]}")
      done
      RPS[$name:$test]=$(median "${values[@]}")
    done
  done
}

# round_ratio_cell A B TEST: the median of A/B over the rounds where both were measured, with min-max.
round_ratio_cell() {
  local a=$1 b=$2 test=$3 round ratios=() x y
  for ((round = 1; round <= ROUNDS; round++)); do
    x=${ROUND_RPS[$a:$test:$round]:-}; y=${ROUND_RPS[$b:$test:$round]:-}
    [ -n "$x" ] && [ -n "$y" ] && ratios+=("$(awk -v a="$x" -v b="$y" 'BEGIN { if (b + 0 > 0) printf "%.6f", a / b }')")
  done
  [ "${#ratios[@]}" -gt 0 ] || { echo "—"; return; }
  local mid
  mid=$(median "${ratios[@]}")
  if [ "${#ratios[@]}" -eq 1 ]; then
    awk -v m="$mid" 'BEGIN { printf "%.2f", m }'
  else
    printf '%s\n' "${ratios[@]}" | sort -g | awk -v m="$mid" '{ v[NR] = $1 } END { printf "%.2f (%.2f–%.2f)", m, v[1], v[NR] }'
  fi
}

print_rounds() {
  {
    echo "Every measured run (req/s), round by round:"
    echo
    local header="| test | round |" rule="|---|---|" name
    for name in "${REQUESTED[@]}"; do header="$header $(label_of "$name") |"; rule="$rule---|"; done
    echo "$header"
    echo "$rule"
    local entry test round line
    for entry in "${THROUGHPUT_TESTS[@]}"; do
      test=${entry%%:*}
      for ((round = 1; round <= ROUNDS; round++)); do
        line="| $test | $round |"
        for name in "${REQUESTED[@]}"; do line="$line $(cell "$(rounded "${ROUND_RPS[$name:$test:$round]:-}")") |"; done
        echo "$line"
      done
    done
  } >"$RESULTS/rounds.md"
}

print_table() {
  local summary=$RESULTS/summary.md others=() name
  requested snow && for name in "${REQUESTED[@]}"; do [ "$name" != snow ] && others+=("$name"); done
  {
    local header="| test |" rule="|---|"
    for name in "${REQUESTED[@]}"; do header="$header $(label_of "$name") |"; rule="$rule---|"; done
    for name in "${others[@]}"; do header="$header Snow/$(short_label_of "$name") |"; rule="$rule---|"; done
    echo "$header"
    echo "$rule"
    local entry test line
    if [[ " $TESTS " == *" throughput "* ]]; then
      for entry in "${THROUGHPUT_TESTS[@]}"; do
        test=${entry%%:*}
        line="| $test req/s |"
        for name in "${REQUESTED[@]}"; do line="$line $(cell "$(rounded "${RPS[$name:$test]:-}")") |"; done
        for name in "${others[@]}"; do line="$line $(round_ratio_cell snow "$name" "$test") |"; done
        echo "$line"
      done
    fi
    if [[ " $TESTS " == *" connections "* ]]; then
      # memory_row LABEL KEY ROUND? NO_NGINX?
      memory_row() {
        local label=$1 key=$2 round=$3 no_nginx=$4 v s
        line="| $label |"
        for name in "${REQUESTED[@]}"; do
          v=${MEMORY[$name:$key]:-}
          [ -n "$round" ] && v=$(rounded "$v")
          [ "$name" = nginx ] && [ -n "$no_nginx" ] && v=""
          line="$line $(cell "$v") |"
        done
        s=${MEMORY[snow:$key]:-}
        for name in "${others[@]}"; do
          v=${MEMORY[$name:$key]:-}
          [ "$name" = nginx ] && [ -n "$no_nginx" ] && v=""
          line="$line $(ratio "$s" "$v") |"
        done
        echo "$line"
      }
      memory_row "RSS per idle keep-alive connection, bytes ($SCALE_CONNECTIONS)" idle_rss_per_conn_bytes "" ""
      memory_row "RSS per parked request, bytes ($SCALE_CONNECTIONS)" parked_rss_per_req_bytes "" 1
      memory_row "release all $SCALE_CONNECTIONS parked, ms" release_all_ms 1 1
    fi
    echo
    if [[ " $TESTS " == *" throughput "* ]]; then
      echo "Throughput: all servers running at once, each pinned to core $SERVER_CORE; one wrk thread on core $CLIENT_CORE took them"
      echo "in turn, $ROUNDS round(s) x $DURATION per test and server (order rotating each round) after a $WARMUP warm-up per test and"
      echo "server. req/s: median over the rounds; Snow/x: median of the per-round ratios (min–max over rounds)."
    fi
    if [[ " $TESTS " == *" connections "* ]]; then
      echo "Connection test: one server at a time, freshly started, on core $SERVER_CORE; the test on core $CLIENT_CORE."
    fi
    echo ".NET GC: $DOTNET_GC_MODE ($(dotnet_gc_env)); Snow poller: $SNOW_POLLER. snow = this work tree ($CURRENT_DESCRIPTION)."
    requested snow-before && echo "snow-before = $BASELINE_REV ($BASELINE_COMMIT), built from a temporary git worktree."
    echo "Ratios: above 1 is better for req/s, below 1 is better for bytes and ms. Raw outputs: $RESULTS (rounds.md: every run)"
    if [[ " $TESTS " == *" connections "* ]]; then
      local held="" v verdict
      for name in snow snow-before; do
        requested "$name" || continue
        v=${MEMORY[$name:idle_rss_per_conn_bytes]:-}
        if [ -z "$v" ]; then verdict="$name not measured"
        elif awk -v v="$v" -v l="$RSS_PER_IDLE_CONNECTION_LIMIT" 'BEGIN { exit !(v + 0 <= l + 0) }'; then verdict="$name $v B holds"
        else verdict="$name $v B DOES NOT HOLD"
        fi
        held="${held:+$held; }$verdict"
      done
      if [ -n "$held" ]; then
        echo "Must-hold, RSS per idle keep-alive connection <= $RSS_PER_IDLE_CONNECTION_LIMIT B (at $SCALE_CONNECTIONS connections): $held."
      fi
    fi
    if [ "${#NOTES[@]}" -gt 0 ]; then
      echo
      echo "Notes:"
      local note_line
      for note_line in "${NOTES[@]}"; do echo "- $note_line"; done
    fi
  } | tee "$summary"
}

# ---------------------------------------------------------------------------------------------------------
CURRENT_DESCRIPTION="HEAD $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"
[ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ] && CURRENT_DESCRIPTION="$CURRENT_DESCRIPTION + uncommitted changes"
{
  echo "date: $(date -Is)"
  echo "kernel: $(uname -srm)"
  echo "cores: $(nproc)"
  echo "dotnet: $(dotnet --version 2>/dev/null)"
  echo "open-file limit (soft/hard): $(ulimit -Sn)/$(ulimit -Hn)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "snow: $CURRENT_DESCRIPTION ($(git -C "$ROOT" rev-parse HEAD 2>/dev/null))"
  echo "DURATION=$DURATION WARMUP=$WARMUP ROUNDS=$ROUNDS CONNECTIONS=$CONNECTIONS SCALE_CONNECTIONS=$SCALE_CONNECTIONS"
  echo "SERVERS=${REQUESTED[*]} TESTS=$TESTS BASELINE_REV=$BASELINE_REV"
} >"$RESULTS/environment.txt"

[ "$(nproc)" -ge 2 ] || die "needs at least 2 cores (one for the servers, one for the client)"
# Anything else busy on the two cores skews every figure; say so next to them.
LOAD_AT_START=$(cut -d' ' -f1 /proc/loadavg)
if awk -v load="$LOAD_AT_START" 'BEGIN { exit !(load >= 0.5) }'; then
  note "load average was $LOAD_AT_START at start: other processes share the cores, so absolute figures are noisy"
fi
install_tools
echo "wrk: $(wrk -v 2>&1 | head -n 1)" >>"$RESULTS/environment.txt"
[ -n "$(nginx_binary)" ] && echo "nginx: $($(nginx_binary) -v 2>&1)" >>"$RESULTS/environment.txt"
build_all
[ -n "$BASELINE_COMMIT" ] && echo "snow-before: $BASELINE_REV = $BASELINE_COMMIT" >>"$RESULTS/environment.txt"

RUNNING=()
for server in "${REQUESTED[@]}"; do [ -n "${AVAILABLE[$server]:-}" ] && RUNNING+=("$server"); done
estimate=0
if [[ " $TESTS " == *" throughput "* ]]; then
  estimate=$(( ${#THROUGHPUT_TESTS[@]} * ${#RUNNING[@]} * ($(seconds_of "$WARMUP") + ROUNDS * $(seconds_of "$DURATION")) ))
fi
# A connection test takes ~15 s at 9,000 connections, plus the server's start and stop.
[[ " $TESTS " == *" connections "* ]] && estimate=$(( estimate + ${#RUNNING[@]} * 20 ))
log "servers: ${RUNNING[*]}; expect about $(( (estimate + 59) / 60 )) minutes"

if [[ " $TESTS " == *" throughput "* ]]; then
  throughput
  compute_medians
  print_rounds
fi
if [[ " $TESTS " == *" connections "* ]]; then
  for server in "${RUNNING[@]}"; do connection_test "$server"; done
fi

echo
print_table
