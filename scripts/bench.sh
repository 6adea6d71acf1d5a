#!/usr/bin/env bash
# Side-by-side benchmark of Snow.Native, Kestrel (the ASP.NET Core baseline) and nginx on this machine, and
# optionally of a second Snow.Native build from another git revision ("snow-before", BASELINE_REV=<rev>):
# wrk throughput (plaintext, plaintext pipelined 16 deep, json; 64 and 256 connections), then the connection
# test (server RSS per idle keep-alive connection and per parked request, and the time to release them all).
# Prints one markdown table of medians and ratios; raw outputs go under bench-results/<timestamp>/.
# This file is the driver (settings, the order of the phases, the final table); the parts live in
# scripts/lib/: bench-processes.sh (server lifetime, the cleanup traps), bench-build.sh (tools, builds),
# bench-servers.sh (how each server starts), bench-throughput.sh (the wrk rounds), bench-connections.sh
# (the connection test) and bench-report.sh (medians, ratios, the table).
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
#   SERVERS="snow kestrel nginx"   which servers to run (snow-before is added when BASELINE_REV is set;
#                                  snow-sslstream, TLS tests only: the same server with TLS by SslStream)
#   BASELINE_REV=                  a git revision to build and run as snow-before
#   TESTS="throughput connections" which parts to run (wrk runs; the connection test; "tls": HTTPS keep-alive
#                                  req/s, TLS 1.3 handshakes/s and RSS per idle TLS connection, see bench-tls.sh;
#                                  "scaleout": the release across two instances through Redis beside the local
#                                  release, and publishes per second (SCALEOUT_ROUNDS=3, REDIS_PORT=8090,
#                                  SNOW_REDIS_PORTS="8091 8092", PUBLISH_BENCH_COUNT=50000; ~4 minutes);
#                                  "websockets": the WebSocket echo, broadcast and idle figures of
#                                  scripts/lib/bench-websockets.sh)
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
# shellcheck source-path=SCRIPTDIR/..
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
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
SNOW_SSLSTREAM_PORT=${SNOW_SSLSTREAM_PORT:-8085}
DOTNET_GC_MODE=${DOTNET_GC_MODE:-server}
PIPELINE_DEPTH=16
SERVER_CORE=0
CLIENT_CORE=1
HOST=127.0.0.1
RSS_PER_IDLE_CONNECTION_LIMIT=700
ALL_SERVERS=(snow snow-sslstream snow-before kestrel nginx)   # the table's column order
RESULTS=${RESULTS_DIR:-$ROOT/bench-results/$(date +%Y%m%d-%H%M%S)}

mkdir -p "$RESULTS"
RUN_LOG=$RESULTS/run.log
NOTES=()                 # footnotes printed under the table (each part declares the state it owns)

log() { echo "[bench] $*" | tee -a "$RUN_LOG" >&2; }
note() { NOTES+=("$*"); log "note: $*"; }
die() { log "error: $*"; exit 1; }

# shellcheck disable=SC2015 # die when any of the three tests fails
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

# The parts, sourced at the top level (not in a function) so that their variables and arrays are global.
# bench-processes.sh sets the cleanup traps; the others only define functions and settings.
source "$ROOT/scripts/lib/bench-processes.sh" || die "cannot source scripts/lib/bench-processes.sh"
source "$ROOT/scripts/lib/bench-build.sh" || die "cannot source scripts/lib/bench-build.sh"
source "$ROOT/scripts/lib/bench-servers.sh" || die "cannot source scripts/lib/bench-servers.sh"
source "$ROOT/scripts/lib/bench-throughput.sh" || die "cannot source scripts/lib/bench-throughput.sh"
source "$ROOT/scripts/lib/bench-connections.sh" || die "cannot source scripts/lib/bench-connections.sh"
source "$ROOT/scripts/lib/bench-report.sh" || die "cannot source scripts/lib/bench-report.sh"
source "$ROOT/scripts/lib/bench-tls.sh" || die "cannot source scripts/lib/bench-tls.sh"
source "$ROOT/scripts/lib/bench-websockets.sh" || die "cannot source scripts/lib/bench-websockets.sh"

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
[[ " $TESTS " == *" tls "* ]] && make_tls_certificate
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
if [[ " $TESTS " == *" tls "* ]]; then
  tls_throughput
  compute_medians
  for server in "${RUNNING[@]}"; do tls_connection_test "$server"; done
fi
if [[ " $TESTS " == *" scaleout "* ]] && [ -n "${AVAILABLE[snow]:-}" ]; then
  scaleout_release_test
fi

echo
print_table
if [[ " $TESTS " == *" scaleout "* ]] && [ -n "${AVAILABLE[snow]:-}" ]; then
  print_scaleout | tee -a "$RESULTS/summary.md"
fi
# WebSockets (TESTS=websockets; not in the default set): echo, broadcast and idle RSS, Snow.Native beside Kestrel.
[[ " $TESTS " == *" websockets "* ]] && websocket_tests

echo
print_table
print_websocket_table | tee -a "$RESULTS/summary.md"
