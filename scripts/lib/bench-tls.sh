# shellcheck shell=bash
# Sourced by scripts/bench.sh: the TLS tests (TESTS=tls). make_tls_certificate makes one ECDSA P-256
# certificate for every server (openssl); with it set, start() gives each server an HTTPS port beside its plain
# one (tls_port_of). tls_throughput starts every server at once, warms each up, then takes them in turn over
# ROUNDS rounds on TLS_TESTS: keep-alive HTTPS plaintext (wrk, TLS_CONNECTIONS connections) and new-connection
# handshakes/s (TLS 1.3, one HTTP/1.0 request per connection and no session resumption: openssl s_time -new,
# HANDSHAKE_CLIENTS of them at once on the client core, for DURATION). Results go to ROUND_RPS like the wrk
# rounds. tls_connection_test NAME measures the server's RSS per idle TLS keep-alive connection
# (SCALE_CONNECTIONS of them) with the connection test, into MEMORY[NAME:tls_idle_rss_per_conn_bytes].
# snow-before takes no part: a revision from before HTTPS has no --https-port. snow-sslstream (SERVERS=...
# snow-sslstream) is the same bench server with --tls-engine sslstream: both engines side by side in one run.

TLS_CERT=""
TLS_KEY=""
HANDSHAKE_CLIENTS=${HANDSHAKE_CLIENTS:-4}
TLS_CONNECTIONS=${TLS_CONNECTIONS:-64}
SNOW_TLS_PORT=${SNOW_TLS_PORT:-8091}
SNOW_SSLSTREAM_TLS_PORT=${SNOW_SSLSTREAM_TLS_PORT:-8094}
KESTREL_TLS_PORT=${KESTREL_TLS_PORT:-8092}
NGINX_TLS_PORT=${NGINX_TLS_PORT:-8093}
TLS_TESTS=("https-plaintext-c$TLS_CONNECTIONS:/plaintext:1:$TLS_CONNECTIONS" "tls13-handshakes-x$HANDSHAKE_CLIENTS:/plaintext:0:$HANDSHAKE_CLIENTS")

tls_port_of() {
  case $1 in snow) echo "$SNOW_TLS_PORT" ;; snow-sslstream) echo "$SNOW_SSLSTREAM_TLS_PORT" ;; kestrel) echo "$KESTREL_TLS_PORT" ;; nginx) echo "$NGINX_TLS_PORT" ;; esac
}

make_tls_certificate() {
  command -v openssl >/dev/null || "$ROOT/scripts/deps.sh" openssl || die "openssl is needed for TESTS=tls"
  TLS_CERT=$RESULTS/tls-cert.pem
  TLS_KEY=$RESULTS/tls-key.pem
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TLS_KEY" -out "$TLS_CERT" \
    -days 7 -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:$HOST" >>"$RUN_LOG" 2>&1 ||
    die "openssl could not make the benchmark certificate (see run.log)"
  chmod 644 "$TLS_KEY" # nginx's worker runs as nobody
}

# The extra arguments a server takes to listen for HTTPS (nothing without the certificate).
tls_arguments() {
  [ -n "$TLS_CERT" ] || return 0
  case $1 in
    snow | kestrel) echo "--https-port $(tls_port_of "$1") --cert $TLS_CERT --key $TLS_KEY" ;;
    snow-sslstream) echo "--https-port $(tls_port_of "$1") --cert $TLS_CERT --key $TLS_KEY --tls-engine sslstream" ;;
  esac
}

# nginx's HTTPS server block (nothing without the certificate): the same answer, OpenSSL's defaults as
# Debian ships them (TLS 1.2 and 1.3), session tickets on (nginx's default), no session cache.
nginx_tls_server() {
  [ -n "$TLS_CERT" ] || return 0
  cat <<EOF2
    server {
        listen $HOST:$NGINX_TLS_PORT ssl backlog=4096;
        ssl_certificate $TLS_CERT;
        ssl_certificate_key $TLS_KEY;
        ssl_protocols TLSv1.2 TLSv1.3;

        location = /plaintext {
            default_type text/plain;
            return 200 "Hello, World!";
        }
    }
EOF2
}

# handshake_run PORT DURATION OUTPUT: HANDSHAKE_CLIENTS s_time clients at once; writes "Requests/sec: N"
# (new connections per second, each a full TLS 1.3 handshake and one request) to OUTPUT, like wrk's line.
handshake_run() {
  local port=$1 duration=$2 output=$3 seconds i start end total=0 n clients=()
  seconds=$(seconds_of "$duration")
  start=$(date +%s.%N)
  for ((i = 1; i <= HANDSHAKE_CLIENTS; i++)); do
    timeout $((seconds + 30)) taskset -c "$CLIENT_CORE" openssl s_time -connect "$HOST:$port" -new -tls1_3 \
      -time "$seconds" -www /plaintext >"$output.$i" 2>&1 &
    clients+=($!)
  done
  wait "${clients[@]}" # only these: the servers are children of this shell too
  end=$(date +%s.%N)
  for ((i = 1; i <= HANDSHAKE_CLIENTS; i++)); do
    n=$(awk '/connections in .* real seconds/ {print $1}' "$output.$i")
    total=$((total + ${n:-0}))
  done
  awk -v n="$total" -v a="$start" -v b="$end" 'BEGIN { printf "Requests/sec: %.1f\nconnections: %d in %.2f s\n", n / (b - a), n, b - a }' >"$output"
}

tls_run() { # NAME ENTRY DURATION OUTPUT
  local name=$1 entry=$2 duration=$3 output=$4 test path depth connections
  IFS=: read -r test path depth connections <<<"$entry"
  if [ "$depth" = 0 ]; then
    handshake_run "$(tls_port_of "$name")" "$duration" "$output"
  else
    local limit=$(( $(seconds_of "$duration") + 30 ))
    run_client timeout "$limit" taskset -c "$CLIENT_CORE" wrk -t1 -c"$connections" -d"$duration" --latency \
      -H 'Connection: keep-alive' "https://$HOST:$(tls_port_of "$name")$path" >"$output" 2>&1
  fi
}

tls_throughput() {
  local started=() name
  for name in "${REQUESTED[@]}"; do
    [ "$name" = snow-before ] && continue
    [ -n "${AVAILABLE[$name]:-}" ] || continue
    if start "$name"; then started+=("$name"); else note "$name did not start: TLS tests skipped"; fi
  done
  [ "${#started[@]}" -gt 0 ] || return
  log "TLS: all running at once on core $SERVER_CORE: ${started[*]}"
  local entry test
  for entry in "${TLS_TESTS[@]}"; do
    test=${entry%%:*}
    for name in "${started[@]}"; do
      log "warm-up $test $name: $WARMUP"
      tls_run "$name" "$entry" "$WARMUP" "$RESULTS/warmup-$name-$test.txt"
    done
  done
  local round i count=${#started[@]} order rps output
  for ((round = 1; round <= ROUNDS; round++)); do
    order=()
    for ((i = 0; i < count; i++)); do order+=("${started[$(( (i + round - 1) % count ))]}"); done
    log "TLS round $round of $ROUNDS (order: ${order[*]})"
    for entry in "${TLS_TESTS[@]}"; do
      test=${entry%%:*}
      for name in "${order[@]}"; do
        server_alive "$name" || continue
        output=$RESULTS/tls-$name-$test-round$round.txt
        tls_run "$name" "$entry" "$DURATION" "$output"
        rps=$(awk '/^Requests\/sec:/ {print $2}' "$output")
        # shellcheck disable=SC2034 # bench-report.sh reads ROUND_RPS
        [ -n "$rps" ] && ROUND_RPS[$name:$test:$round]=$rps
        local socket
        socket=$(grep -o 'Socket errors:.*' "$output")
        [ -n "$socket" ] && note "$name $test round $round: $socket"
        log "round $round $test $name: ${rps:-no result} req/s"
      done
    done
  done
  stop_all_servers
}

tls_connection_test() {
  local server=$1
  [ "$server" = snow-before ] && return
  start "$server" || { note "$server did not start: TLS connection test skipped"; return; }
  local output=$RESULTS/tls-connections-$server.txt memory_pid=${MEMORY_PIDS[$server]}
  log "$server: TLS connection test with $SCALE_CONNECTIONS connections (server pid for RSS: $memory_pid)"
  run_client timeout 300 taskset -c "$CLIENT_CORE" dotnet "$CONNECTION_TEST_DLL" --url "https://$HOST:$(tls_port_of "$server")" \
    --pid "$memory_pid" --connections "$SCALE_CONNECTIONS" --timeout-seconds 240 --no-park \
    >"$output" 2>"$RESULTS/tls-connections-$server.log"
  local status=$? key value
  [ "$status" -eq 0 ] || note "$server TLS connection test exited with $status (see $(basename "$output"))"
  while IFS='=' read -r key value; do
    [ "$key" = idle_rss_per_conn_bytes ] && MEMORY[$server:tls_idle_rss_per_conn_bytes]=$value
    [ "$key" = errors ] && [ "$value" != 0 ] && note "$server TLS connection test: $value errors"
  done <"$output"
  log "$server: $(tr '\n' ' ' <"$output")"
  stop_server "$server"
}
