# shellcheck shell=bash
# Sourced by scripts/bench.sh: the connection test. connection_test NAME starts that server alone and
# afresh, runs bench/Snow.Native.ConnectionTest against it (idle keep-alive connections, then parked
# requests, then the time to release them all; nginx does not park), bounded by 180 s, reads its key=value
# output into MEMORY[server:key], notes errors, and stops the server.

declare -A MEMORY        # MEMORY[server:key] = value from the connection test

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
