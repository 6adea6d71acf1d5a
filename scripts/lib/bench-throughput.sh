# shellcheck shell=bash
# Sourced by scripts/bench.sh: the throughput rounds. Builds THROUGHPUT_TESTS from CONNECTIONS; throughput
# starts every available server at once, warms each up on each test (WARMUP), then runs ROUNDS rounds of one
# DURATION wrk run per test and server, the server order rotating by one each round, and stops them all.
# Each run's req/s goes to ROUND_RPS[server:test:round]; a server that exits midway is noted once and left
# out of the remaining runs (DEAD); the load average at the start of each round goes to ROUND_LOADS.

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

declare -A ROUND_RPS     # ROUND_RPS[server:test:round] = requests/s
declare -A DEAD          # DEAD[server] = 1 once it exited during the throughput rounds
ROUND_LOADS=()           # the 1-minute load average at the start of each round
THROUGHPUT_TESTS=()
# shellcheck disable=SC2153 # CONNECTIONS is bench.sh's setting, not a misspelt local
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
  # shellcheck disable=SC2153 # DURATION is bench.sh's setting, not a misspelt local
  if ! run_wrk "$(port_of "$name")" "$connections" "$DURATION" "$path" "$depth" "$output"; then
    note "$name $test round $round: wrk failed or timed out (see $(basename "$output"))"
  fi
  local rps socket non2xx
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$output")
  socket=$(grep -o 'Socket errors:.*' "$output")
  non2xx=$(awk -F': *' '/Non-2xx or 3xx responses/ {print $2}' "$output")
  # shellcheck disable=SC2034 # bench-report.sh reads ROUND_RPS
  [ -n "$rps" ] && ROUND_RPS[$name:$test:$round]=$rps
  [ -n "$socket" ] && note "$name $test round $round: $socket"
  [ -n "$non2xx" ] && note "$name $test round $round: $non2xx non-2xx/3xx responses"
  log "round $round $test $name: ${rps:-no result} req/s"
}

throughput() {
  local started=() name
  for name in "${REQUESTED[@]}"; do
    [ -n "${AVAILABLE[$name]:-}" ] || continue
    [ "$name" = snow-sslstream ] && continue # the same server as snow on plain HTTP: a TLS-only column
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
