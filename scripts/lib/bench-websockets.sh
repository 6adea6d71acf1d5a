# shellcheck shell=bash
# Sourced by scripts/bench.sh: the WebSocket figures (TESTS=websockets), Snow.Native beside Kestrel, measured by
# bench/Snow.Native.ConnectionTest's `websocket` mode (one client thread on the OS's poller, core 1):
# - echo round trips/s over WS_CONNECTIONS (64) connections, one 32-byte message in flight on each: both servers
#   running at once on core 0, taken in turn over ROUNDS rounds of DURATION (order rotating), after a warm-up;
#   Snow also on /ws-managed/ (System.Net.WebSockets.WebSocket.CreateFromStream over a loop stream: the codec
#   comparison) as the row "snow (managed codec)";
# - the time to deliver one broadcast to WS_SUBSCRIBERS (10,000) subscribers (median of 5), each server alone,
#   timed by the client from sending the publish request until every subscriber has its frame, with the server's
#   own figure (first send to last) beside it; and the kernel's floor for the same delivery, measured alone by
#   bench/broadcast-floor/broadcast-floor.c (one send() per subscriber from C on the server core, read on the client core);
# - RSS per idle WebSocket at WS_IDLE_CONNECTIONS (9,000), each server alone and freshly started (Snow twice:
#   the async echo session of /ws/ and the callback echo of /ws-callback/, which holds no session state machine),
#   both readings after a full collection in the server (its /gc/, both servers alike), and the live managed
#   bytes per connection that collection reports.
# WS_PARTS="echo broadcast idle" chooses the parts.
# Each client run is bounded by timeout. Results: WS[server:key]; print_websocket_table prints them.

declare -A WS            # WS[server:key] = value
WS_CONNECTIONS=${WS_CONNECTIONS:-64}
WS_SUBSCRIBERS=${WS_SUBSCRIBERS:-10000}
WS_IDLE_CONNECTIONS=${WS_IDLE_CONNECTIONS:-9000}
WS_PARTS=${WS_PARTS:-"echo broadcast idle"}
WS_SERVERS=()
ws_part() { [[ " $WS_PARTS " == *" $1 "* ]]; }

ws_client() { # output-file args...
  local output=$1
  shift
  run_client timeout 240 taskset -c "$CLIENT_CORE" dotnet "$CONNECTION_TEST_DLL" websocket "$@" >"$output" 2>>"$RESULTS/websocket-client.log"
  local status=$?
  [ "$status" -eq 0 ] || note "websocket client exited with $status: $* (see $(basename "$output"))"
  return "$status"
}

ws_value() { sed -n "s/^$2=//p" "$1" | tail -n 1; }

websocket_tests() {
  local name started=()
  for name in snow kestrel; do
    if ! requested "$name" || [ -z "${AVAILABLE[$name]:-}" ]; then continue; fi
    if start "$name"; then started+=("$name"); else note "$name did not start: websocket echo skipped"; fi
  done
  [ "${#started[@]}" -gt 0 ] || return
  WS_SERVERS=("${started[@]}")
  ws_part echo && ws_echo_rounds "${started[@]}"
  stop_all_servers
  ws_part broadcast && ws_floor
  for name in "${started[@]}"; do
    WS[$name:echo]=$(ws_median "$name" echo)
    [ "$name" = snow ] && WS[snow-managed:echo]=$(ws_median snow-managed echo)
    ws_part broadcast && ws_broadcast "$name"
    if ws_part idle; then
      ws_idle "$name" /ws/ idle
      [ "$name" = snow ] && ws_idle snow /ws-callback/ idle_callback
    fi
  done
}

# Echo rounds against the servers already running: Snow's codec, Snow's managed codec, Kestrel.
ws_echo_rounds() {
  local started=("$@") name
  # The echo targets: snow's own codec, snow's managed codec, kestrel.
  local targets=() target round i
  for name in "${started[@]}"; do
    targets+=("$name:/ws/")
    [ "$name" = snow ] && targets+=("snow-managed:/ws-managed/")
  done
  for target in "${targets[@]}"; do
    name=${target%%:*}
    log "websocket echo warm-up: $name"
    ws_client "$RESULTS/ws-echo-$name-warmup.txt" echo --url "http://$HOST:$(port_of "${name%-managed}")" --path "${target#*:}" \
      --connections "$WS_CONNECTIONS" --seconds "$(seconds_of "$WARMUP")"
  done
  local count=${#targets[@]} order
  for ((round = 1; round <= ROUNDS; round++)); do
    order=()
    for ((i = 0; i < count; i++)); do order+=("${targets[$(( (i + round - 1) % count ))]}"); done
    for target in "${order[@]}"; do
      name=${target%%:*}
      local output=$RESULTS/ws-echo-$name-round$round.txt
      ws_client "$output" echo --url "http://$HOST:$(port_of "${name%-managed}")" --path "${target#*:}" \
        --connections "$WS_CONNECTIONS" --seconds "$(seconds_of "$DURATION")"
      WS[$name:echo$round]=$(ws_value "$output" echo_round_trips_per_s)
      log "websocket echo round $round $name: ${WS[$name:echo$round]:-?} round trips/s"
    done
  done
}

ws_median() { # server key: the median over the rounds
  local values=() round
  for ((round = 1; round <= ROUNDS; round++)); do
    [ -n "${WS[$1:$2$round]:-}" ] && values+=("${WS[$1:$2$round]}")
  done
  median "${values[@]}"
}

# The broadcast on a freshly started server alone.
ws_broadcast() {
  local name=$1 output
  start "$name" || { note "$name did not start: websocket broadcast skipped"; return; }
  output=$RESULTS/ws-broadcast-$name.txt
  log "$name: broadcast to $WS_SUBSCRIBERS subscribers"
  ws_client "$output" broadcast --url "http://$HOST:$(port_of "$name")" --path /ws-sub/ --publish-path /publish/ \
    --connections "$WS_SUBSCRIBERS" --rounds 5
  WS[$name:broadcast]=$(ws_value "$output" broadcast_median_ms)
  WS[$name:broadcast_max]=$(ws_value "$output" broadcast_max_ms)
  WS[$name:broadcast_server]=$(ws_value "$output" broadcast_server_median_ms)
  WS[$name:broadcast_server_max]=$(ws_value "$output" broadcast_server_max_ms)
  stop_server "$name"
}

# The kernel's floor for one broadcast (no server): compiled here with the system's C compiler.
ws_floor() {
  local source=$ROOT/bench/broadcast-floor/broadcast-floor.c binary=$RESULTS/broadcast-floor output=$RESULTS/ws-broadcast-floor.txt
  command -v cc >/dev/null || "$ROOT/scripts/deps.sh" gcc >>"$RUN_LOG" 2>&1 || { note "no C compiler: the broadcast floor is skipped"; return; }
  cc -O2 -o "$binary" "$source" 2>>"$RUN_LOG" || { note "broadcast-floor.c did not compile"; return; }
  log "kernel floor: one send per subscriber to $WS_SUBSCRIBERS subscribers"
  run_client timeout 120 "$binary" "$WS_SUBSCRIBERS" 7 "$SERVER_CORE" "$CLIENT_CORE" >"$output" 2>>"$RESULTS/websocket-client.log" ||
    { note "broadcast-floor failed (see $(basename "$output"))"; return; }
  WS[floor:broadcast]=$(ws_value "$output" floor_median_ms)
  WS[floor:broadcast_max]=$(ws_value "$output" floor_max_ms)
  WS[floor:us_per_send]=$(ws_value "$output" floor_us_per_send)
}

# Idle RSS on PATH, on a freshly started server alone, into WS[server:KEY].
ws_idle() {
  local name=$1 path=$2 key=$3 output
  start "$name" || { note "$name did not start: websocket idle skipped"; return; }
  output=$RESULTS/ws-$key-$name.txt
  log "$name: $WS_IDLE_CONNECTIONS idle WebSockets on $path"
  ws_client "$output" idle --url "http://$HOST:$(port_of "$name")" --path "$path" --connections "$WS_IDLE_CONNECTIONS" \
    --pid "${MEMORY_PIDS[$name]}"
  WS[$name:$key]=$(ws_value "$output" ws_idle_rss_per_conn_bytes)
  WS[$name:${key}_heap]=$(ws_value "$output" ws_idle_heap_per_conn_bytes)
  stop_server "$name"
}

print_websocket_table() {
  [ "${#WS_SERVERS[@]}" -gt 0 ] || return
  echo
  echo "| WebSocket figure | Snow.Native | Snow.Native, System.Net.WebSockets codec | Kestrel | Snow/Kestrel |"
  echo "|---|---|---|---|---|"
  echo "| echo round trips/s, $WS_CONNECTIONS connections (median of $ROUNDS) | $(cell "$(rounded "${WS[snow:echo]:-}")") | $(cell "$(rounded "${WS[snow-managed:echo]:-}")") | $(cell "$(rounded "${WS[kestrel:echo]:-}")") | $(ratio "${WS[snow:echo]:-}" "${WS[kestrel:echo]:-}") |"
  echo "| one broadcast to $WS_SUBSCRIBERS subscribers, ms (median of 5; worst) | $(cell "${WS[snow:broadcast]:-}") ($(cell "${WS[snow:broadcast_max]:-}")) | — | $(cell "${WS[kestrel:broadcast]:-}") ($(cell "${WS[kestrel:broadcast_max]:-}")) | $(ratio "${WS[kestrel:broadcast]:-}" "${WS[snow:broadcast]:-}")x faster |"
  echo "| the same, the server's own time (first send to last), ms (median; worst) | $(cell "${WS[snow:broadcast_server]:-}") ($(cell "${WS[snow:broadcast_server_max]:-}")) | — | $(cell "${WS[kestrel:broadcast_server]:-}") ($(cell "${WS[kestrel:broadcast_server_max]:-}")) | |"
  echo "| kernel floor: one send() per subscriber from C, ms (median of 7; worst; µs per send) | $(cell "${WS[floor:broadcast]:-}") ($(cell "${WS[floor:broadcast_max]:-}"); $(cell "${WS[floor:us_per_send]:-}") µs) | — | — | |"
  echo "| RSS per idle WebSocket at $WS_IDLE_CONNECTIONS (async session), bytes | $(cell "${WS[snow:idle]:-}") | — | $(cell "${WS[kestrel:idle]:-}") | $(ratio "${WS[snow:idle]:-}" "${WS[kestrel:idle]:-}") |"
  echo "| RSS per idle WebSocket at $WS_IDLE_CONNECTIONS (Snow: callback style), bytes | $(cell "${WS[snow:idle_callback]:-}") | — | $(cell "${WS[kestrel:idle]:-}") | $(ratio "${WS[snow:idle_callback]:-}" "${WS[kestrel:idle]:-}") |"
  echo "| live managed bytes per idle WebSocket (async session; after a full GC) | $(cell "${WS[snow:idle_heap]:-}") | — | $(cell "${WS[kestrel:idle_heap]:-}") | $(ratio "${WS[snow:idle_heap]:-}" "${WS[kestrel:idle_heap]:-}") |"
  echo "| live managed bytes per idle WebSocket (Snow: callback style; after a full GC) | $(cell "${WS[snow:idle_callback_heap]:-}") | — | $(cell "${WS[kestrel:idle_heap]:-}") | $(ratio "${WS[snow:idle_callback_heap]:-}" "${WS[kestrel:idle_heap]:-}") |"
}
