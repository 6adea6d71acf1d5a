# shellcheck shell=bash
# Sourced by scripts/bench.sh: the connection test. connection_test NAME starts that server alone and
# afresh, runs bench/Snow.Native.ConnectionTest against it (idle keep-alive connections, then parked
# requests, then the time to release them all; nginx does not park), bounded by 180 s, reads its key=value
# output into MEMORY[server:key], notes errors, and stops the server. scaleout_release_test (TESTS=scaleout)
# is the release across instances through Redis beside the local one, and print_scaleout its table.

declare -A MEMORY        # MEMORY[server:key] = value from the connection test

# The connection test gets a freshly started server, alone, so the heap growth of the wrk runs is not part
# of its baseline; the test warms the server up itself before measuring.
connection_test() {
  local server=$1 park=()
  [ "$server" = snow-sslstream ] && return # the same server as snow on plain HTTP: a TLS-only column
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
# The release across instances (TESTS=scaleout; issue 13): SCALE_CONNECTIONS parked requests released by one
# request, in SCALEOUT_ROUNDS rounds of three variants, each server freshly started: "local" (the snow bench
# server alone, /release/ completes its own futures), "redis-1" (one bench server with --redis: /park/ waits on
# a keyed future, /release/ publishes through Redis) and "redis-2" (two such instances, the connections spread
# over both, the release sent to the first: half the parked requests are answered by a publish that crossed
# instances). redis-server (no persistence, its own temp dir) runs on the server core beside them for the whole
# test; the connection test and the publish benchmark run on the client core. Then --publish-bench: publishes
# per second through the package, one at a time and 64 in flight, to a key the publishing process listens to.
SCALEOUT_ROUNDS=${SCALEOUT_ROUNDS:-3}
REDIS_PORT=${REDIS_PORT:-8090}
SNOW_REDIS_PORTS=${SNOW_REDIS_PORTS:-"8091 8092"}
PUBLISH_BENCH_COUNT=${PUBLISH_BENCH_COUNT:-50000}
declare -A SCALEOUT      # SCALEOUT[variant:round] = release_all_ms; SCALEOUT[publish:key] = value

start_snow_redis() { # NAME PORT: the snow bench server with --redis
  # shellcheck disable=SC2046 # one env argument per GC variable
  start_server "$1" "$2" env $(dotnet_gc_env) dotnet "$SNOW_DLL" --host "$HOST" --port "$2" --loops 1 \
    --poller "$SNOW_POLLER" --redis "$HOST:$REDIS_PORT" || return 1
  MEMORY_PIDS[$1]=${SERVER_PIDS[$1]}
}

# release_run VARIANT ROUND: starts the variant's servers afresh, runs the connection test, stops them.
release_run() {
  local variant=$1 round=$2 names=() urls=() port name
  read -r -a redis_ports <<<"$SNOW_REDIS_PORTS"
  case $variant in
    local) start snow || return 1; names=(snow); urls=("http://$HOST:$SNOW_PORT") ;;
    redis-1) start_snow_redis snow-redis-a "${redis_ports[0]}" || return 1; names=(snow-redis-a); urls=("http://$HOST:${redis_ports[0]}") ;;
    redis-2)
      start_snow_redis snow-redis-a "${redis_ports[0]}" || return 1
      start_snow_redis snow-redis-b "${redis_ports[1]}" || { stop_server snow-redis-a; return 1; }
      names=(snow-redis-a snow-redis-b); urls=("http://$HOST:${redis_ports[0]}" "http://$HOST:${redis_ports[1]}") ;;
  esac
  local args=()
  for port in "${urls[@]}"; do args+=(--url "$port"); done
  for name in "${names[@]}"; do args+=(--pid "${MEMORY_PIDS[$name]}"); done
  local output=$RESULTS/scaleout-$variant-round$round.txt
  log "scaleout: $variant, round $round: $SCALE_CONNECTIONS parked over ${#names[@]} instance(s)"
  run_client timeout 180 taskset -c "$CLIENT_CORE" dotnet "$CONNECTION_TEST_DLL" "${args[@]}" \
    --connections "$SCALE_CONNECTIONS" --timeout-seconds 150 >"$output" 2>"${output%.txt}.log"
  local status=$? ms ok
  ms=$(sed -n 's/^release_all_ms=//p' "$output")
  ok=$(sed -n 's/^parked_released_ok=//p' "$output")
  if [ "$status" -ne 0 ] || [ "$ok" != "$SCALE_CONNECTIONS" ]; then
    note "scaleout $variant round $round: exit $status, $ok of $SCALE_CONNECTIONS released (see $(basename "$output"))"
  else
    SCALEOUT[$variant:$round]=$ms
  fi
  for name in "${names[@]}"; do stop_server "$name"; done
}

scaleout_release_test() {
  "$ROOT/scripts/deps.sh" redis-server >>"$RUN_LOG" 2>&1 || { note "redis-server could not be installed: scaleout skipped"; return; }
  local redis_dir
  redis_dir=$(mktemp -d /tmp/bench-redis.XXXXXX)
  TEMP_DIRS+=("$redis_dir")
  start_server redis "$REDIS_PORT" redis-server --port "$REDIS_PORT" --bind "$HOST" --save "" --appendonly no \
    --dir "$redis_dir" --daemonize no || { note "redis-server did not start: scaleout skipped"; return; }
  local round variant
  for round in $(seq 1 "$SCALEOUT_ROUNDS"); do
    for variant in local redis-1 redis-2; do release_run "$variant" "$round"; done
  done
  local output=$RESULTS/scaleout-publish.txt key value
  log "scaleout: $PUBLISH_BENCH_COUNT publishes through Snow.Native.Redis"
  # shellcheck disable=SC2046 # one env argument per GC variable
  run_client timeout 180 taskset -c "$CLIENT_CORE" env $(dotnet_gc_env) dotnet "$SNOW_DLL" --redis "$HOST:$REDIS_PORT" \
    --publish-bench "$PUBLISH_BENCH_COUNT" >"$output" 2>&1 || note "the publish benchmark exited with $? (see $(basename "$output"))"
  while IFS='=' read -r key value; do
    [ -n "$key" ] && SCALEOUT[publish:$key]=$value
  done <"$output"
  stop_server redis
}

# The table of the scaleout test: medians over the rounds, min-max in brackets, and the per-round ratio to local.
print_scaleout() {
  local variant label values ratios round
  echo
  echo "| release of $SCALE_CONNECTIONS parked requests by one request | ms, median (min–max) | ratio to local, median (min–max) |"
  echo "|---|---|---|"
  for variant in local redis-1 redis-2; do
    case $variant in
      local) label="local futures, one instance" ;;
      redis-1) label="keyed futures through Redis, one instance" ;;
      redis-2) label="keyed futures through Redis, two instances (one publish)" ;;
    esac
    values=() ratios=()
    for round in $(seq 1 "$SCALEOUT_ROUNDS"); do
      [ -n "${SCALEOUT[$variant:$round]:-}" ] && values+=("${SCALEOUT[$variant:$round]}")
      if [ -n "${SCALEOUT[$variant:$round]:-}" ] && [ -n "${SCALEOUT[local:$round]:-}" ]; then
        ratios+=("$(awk -v a="${SCALEOUT[$variant:$round]}" -v b="${SCALEOUT[local:$round]}" 'BEGIN { printf "%.2f", a / b }')")
      fi
    done
    echo "| $label | $(median_range %.0f "${values[@]}") | $(median_range %.2f "${ratios[@]}") |"
  done
  echo
  echo "publishes per second through Snow.Native.Redis ($PUBLISH_BENCH_COUNT, each heard back by a listener):" \
    "one at a time ${SCALEOUT[publish:sequential_publishes_per_second]:-?}," \
    "64 in flight ${SCALEOUT[publish:pipelined64_publishes_per_second]:-?} (heard ${SCALEOUT[publish:pipelined64_heard_per_second]:-?}/s)"
}

# median_range FORMAT V...: "median (min–max)" of the numbers in a printf FORMAT, or "—" for none.
median_range() {
  local format=$1
  shift
  [ $# -gt 0 ] || { echo "—"; return; }
  printf '%s\n' "$@" | sort -g | awk -v f="$format" '{ v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf f " (" f "–" f ")", m, v[1], v[NR] }'
}
