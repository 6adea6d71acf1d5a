#!/usr/bin/env bash
# The server's own CPU time per request, this work tree against another revision: a steadier figure than
# req/s on a shared machine, where throughput moves by +-10% between runs of the same code. Both bench servers
# run at once, pinned to core 0; wrk on core 1 drives each in turn, round after round, and the server's user and
# system CPU time (from /proc/PID/stat) over each run is divided by the requests wrk counted. User time is the
# server's code; system time is mostly the kernel's loopback TCP path, the same for both.
#
#   scripts/cpu-per-request.sh b57398d            # ROUNDS=5 DURATION=5s CONNECTIONS=64
#
# Prints one line per test: user and system microseconds per request, median over the rounds, for each build,
# and the user-time ratio (below 1: this work tree spends less of its own CPU per request). Linux only.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
REV=${1:?usage: scripts/cpu-per-request.sh <git revision>}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-64}
PORT_NEW=${PORT_NEW:-8091}
PORT_OLD=${PORT_OLD:-8092}
TICKS=$(getconf CLK_TCK)
WORK=$(mktemp -d)
PIDS=()

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  git -C "$ROOT" worktree remove --force "$WORK/old" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v wrk >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null; }

build() { # build DIR -> prints the BenchServer dll
  timeout 1200 dotnet build "$1/bench/Snow.Native.BenchServer" -c Release --nologo -v quiet --disable-build-servers >"$WORK/build.log" 2>&1 \
    || { tail -20 "$WORK/build.log" >&2; exit 1; }
  dotnet msbuild "$1/bench/Snow.Native.BenchServer" -p:Configuration=Release -getProperty:TargetPath 2>/dev/null | tail -n 1
}

echo "[cpu] building this work tree and $REV" >&2
NEW_DLL=$(build "$ROOT")
git -C "$ROOT" worktree add --detach "$WORK/old" "$REV" >/dev/null 2>&1
OLD_DLL=$(build "$WORK/old")

start() { # start PORT DLL -> server pid in LAST_PID
  setsid taskset -c 0 env DOTNET_gcServer=1 DOTNET_GCHeapCount=1 DOTNET_GCHeapAffinitizeMask=0x1 \
    dotnet "$2" --host 127.0.0.1 --port "$1" --loops 1 --poller epoll >"$WORK/server-$1.log" 2>&1 </dev/null &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
  for _ in $(seq 1 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "server on port $1 did not start" >&2
  exit 1
}
start "$PORT_NEW" "$NEW_DLL"; NEW_PID=$LAST_PID
start "$PORT_OLD" "$OLD_DLL"; OLD_PID=$LAST_PID

cpu_ticks() { awk '{ print $14, $15 }' "/proc/$1/stat"; }

# measure PID PORT PATH DEPTH -> "user_us_per_request system_us_per_request"
measure() {
  local pid=$1 port=$2 path=$3 depth=$4 before after requests script=()
  [ "$depth" -gt 1 ] && script=(-s "$ROOT/scripts/bench-pipeline.lua")
  read -r -a before <<<"$(cpu_ticks "$pid")"
  requests=$(timeout 60 taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"$DURATION" "${script[@]}" "http://127.0.0.1:$port$path" -- "$depth" \
    | awk '/requests in/ { print $1 }')
  read -r -a after <<<"$(cpu_ticks "$pid")"
  awk -v u=$((after[0] - before[0])) -v s=$((after[1] - before[1])) -v n="$requests" -v t="$TICKS" \
    'BEGIN { printf "%.3f %.3f\n", u * 1e6 / t / n, s * 1e6 / t / n }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

TESTS=("plaintext:/plaintext:1" "pipelined16:/plaintext:16" "json:/json:1")
echo "[cpu] warming up" >&2
for test in "${TESTS[@]}"; do
  IFS=: read -r _ path depth <<<"$test"
  measure "$NEW_PID" "$PORT_NEW" "$path" "$depth" >/dev/null
  measure "$OLD_PID" "$PORT_OLD" "$path" "$depth" >/dev/null
done

printf '| test | user us/req (this tree) | user us/req (%s) | user ratio | system us/req (this tree) | system us/req (%s) |\n' "$REV" "$REV"
printf '|---|---|---|---|---|---|\n'
for test in "${TESTS[@]}"; do
  IFS=: read -r name path depth <<<"$test"
  : >"$WORK/new.txt"; : >"$WORK/old.txt"
  for round in $(seq 1 "$ROUNDS"); do
    if [ $((round % 2)) -eq 1 ]; then
      measure "$NEW_PID" "$PORT_NEW" "$path" "$depth" >>"$WORK/new.txt"
      measure "$OLD_PID" "$PORT_OLD" "$path" "$depth" >>"$WORK/old.txt"
    else
      measure "$OLD_PID" "$PORT_OLD" "$path" "$depth" >>"$WORK/old.txt"
      measure "$NEW_PID" "$PORT_NEW" "$path" "$depth" >>"$WORK/new.txt"
    fi
  done
  new_user=$(cut -d' ' -f1 "$WORK/new.txt" | median); old_user=$(cut -d' ' -f1 "$WORK/old.txt" | median)
  new_sys=$(cut -d' ' -f2 "$WORK/new.txt" | median); old_sys=$(cut -d' ' -f2 "$WORK/old.txt" | median)
  ratio=$(awk -v a="$new_user" -v b="$old_user" 'BEGIN { printf "%.2f", a / b }')
  printf '| %s c%s | %s | %s | %s | %s | %s |\n' "$name" "$CONNECTIONS" "$new_user" "$old_user" "$ratio" "$new_sys" "$old_sys"
done
