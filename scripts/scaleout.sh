#!/usr/bin/env bash
# Two Snow.Native demo instances behind one nginx, sharing one Redis: a /req/ parked on one instance is released by
# a /stop/ that nginx sent to the other.
#   scripts/scaleout.sh                 # starts everything, shows the release across instances, stops everything
#   scripts/scaleout.sh --keep          # ... and keeps it all running for curl until Ctrl+C
#   scripts/scaleout.sh --poller select # the demos' poller (epoll, kqueue, select)
# Ports: nginx on $LB_PORT (default 8012), the demos on $DEMO_PORTS (default "8013 8014"), redis-server on
# $REDIS_PORT (default 6390); --free-ports picks free ones instead (the automated test does). Installs
# redis-server, nginx and curl through scripts/deps.sh when missing and builds the demo (DEMO_DLL skips the build).
# Everything it starts runs from a temp directory and is stopped on exit, however it exits. Exit 0: released.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
KEEP=0
FREE_PORTS=0
POLLER=""
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) KEEP=1 ;;
    --free-ports) FREE_PORTS=1 ;;
    --poller) POLLER="${2:?--poller needs a value}"; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "scaleout: unknown option $1" >&2; exit 64 ;;
  esac
  shift
done

say() { echo "scaleout: $*"; }
fail() { echo "scaleout: FAILED: $*" >&2; exit 1; }

WORK=$(mktemp -d /tmp/snow-scaleout.XXXXXX)
PIDS=()
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$ROOT/scripts/deps.sh" redis-server nginx curl || fail "redis-server, nginx and curl are needed (scripts/deps.sh could not install them)"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# A port nobody listens on (a connect that fails), below the kernel's ephemeral range (32768 and up), whose ports
# outgoing connections hold; another process may still take it meanwhile, which start_service notices.
port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 12000))
    port_is_free "$port" && { echo "$port"; return 0; }
  done
  return 1
}

# start_service NAME PORT READY COMMAND...: starts COMMAND in the background and waits (30 s at most) until its log
# says READY (a line it prints once listening). Returns 1 if it exited first (its port was taken, say).
start_service() {
  local name=$1 port=$2 ready=$3
  shift 3
  "$@" >"$WORK/$name.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 300); do
    if grep -q -- "$ready" "$WORK/$name.log" 2>/dev/null && ! port_is_free "$port"; then
      sleep 0.2 # a process that lost its port to another exits at once: still alive, the port is its own
      if kill -0 "$pid" 2>/dev/null; then
        PIDS+=("$pid")
        return 0
      fi
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "scaleout: $name exited at start on port $port: $(tail -n 3 "$WORK/$name.log" | tr '\n' ' ')" >&2
      return 1
    fi
    sleep 0.1
  done
  kill "$pid" 2>/dev/null
  fail "$name did not start on port $port within 30 s (see $WORK/$name.log)"
}

# start_on_port NAME PORTVAR READY COMMAND...: with --free-ports, tries up to five free ports (COMMAND's {PORT} is
# replaced by the port tried, which PORTVAR then holds); otherwise the port in PORTVAR, once.
start_on_port() {
  local name=$1 var=$2 ready=$3 port args
  shift 3
  for _ in 1 2 3 4 5; do
    if [ "$FREE_PORTS" = 1 ]; then port=$(free_port) || fail "no free port for $name"; else port=${!var}; fi
    args=("${@//\{PORT\}/$port}")
    if start_service "$name" "$port" "$ready" "${args[@]}"; then
      printf -v "$var" '%s' "$port"
      return 0
    fi
    [ "$FREE_PORTS" = 1 ] || fail "$name did not start on port $port (see $WORK/$name.log)"
  done
  fail "$name did not start on any of five free ports"
}

LB_PORT=${LB_PORT:-8012}
REDIS_PORT=${REDIS_PORT:-6390}
DEMO_PORTS=${DEMO_PORTS:-"8013 8014"}
read -r DEMO_A DEMO_B <<<"$DEMO_PORTS"

# redis-server: no persistence, its own directory.
start_on_port redis REDIS_PORT "Ready to accept connections" \
  redis-server --port "{PORT}" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" --daemonize no
say "redis-server on 127.0.0.1:$REDIS_PORT"

# The demo, built unless DEMO_DLL names one.
if [ -z "${DEMO_DLL:-}" ]; then
  say "building the demo (Release)"
  dotnet build "$ROOT/src/Snow.Native.Demo" -c Release -nologo -v q -p:UseSharedCompilation=false >"$WORK/build.log" 2>&1 \
    || { cat "$WORK/build.log" >&2; fail "the demo did not build"; }
  DEMO_DLL="$ROOT/src/Snow.Native.Demo/bin/Release/net10.0/Snow.Native.Demo.dll"
fi
poller_args=()
[ -n "$POLLER" ] && poller_args=(--poller "$POLLER")
start_on_port demo-a DEMO_A "listening on" \
  dotnet "$DEMO_DLL" --port "{PORT}" --loops 1 --redis "127.0.0.1:$REDIS_PORT" "${poller_args[@]}"
say "demo instance on 127.0.0.1:$DEMO_A ($(head -n 1 "$WORK/demo-a.log"))"
start_on_port demo-b DEMO_B "listening on" \
  dotnet "$DEMO_DLL" --port "{PORT}" --loops 1 --redis "127.0.0.1:$REDIS_PORT" "${poller_args[@]}"
say "demo instance on 127.0.0.1:$DEMO_B ($(head -n 1 "$WORK/demo-b.log"))"

# nginx: one process, round-robin over the two demos; it names the instance that answered in X-Upstream. Its
# config is written for each port tried; it logs nothing once listening, so its READY is the config's marker.
mkdir -p "$WORK/nginx"
# shellcheck disable=SC2317 # run through start_on_port
start_nginx() { # PORT
  cat >"$WORK/nginx/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    upstream demos {
        server 127.0.0.1:$DEMO_A;
        server 127.0.0.1:$DEMO_B;
    }
    server {
        listen 127.0.0.1:$1;
        location / {
            proxy_pass http://demos;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_read_timeout 300s;
            proxy_next_upstream off;
            add_header X-Upstream \$upstream_addr always;
        }
    }
}
CONF
  echo "nginx: starting on $1"
  exec "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log"
}
start_on_port nginx LB_PORT "nginx: starting" start_nginx "{PORT}"
say "nginx on 127.0.0.1:$LB_PORT, round-robin over $DEMO_A and $DEMO_B"

# The demonstration: /req/ through nginx parks on one instance; once its wait took effect in Redis (the key's
# channel has a subscriber), /stop/ through nginx goes to the other instance and releases it.
LB="http://127.0.0.1:$LB_PORT"
curl -s -m 60 -D "$WORK/req.head" -o "$WORK/req.body" "$LB/req/" &
REQ=$!
subscribed=0
for _ in $(seq 1 100); do
  subscribed=$(redis-cli -p "$REDIS_PORT" PUBSUB NUMSUB snow:demo 2>/dev/null | sed -n 2p)
  [ "${subscribed:-0}" -ge 1 ] && break
  sleep 0.1
done
[ "${subscribed:-0}" -ge 1 ] || fail "the /req/ did not park on the key within 10 s"
stop_body=$(curl -s -m 10 -D "$WORK/stop.head" "$LB/stop/") || fail "/stop/ did not answer"
wait "$REQ" || fail "the parked /req/ was not answered"
upstream() { tr -d '\r' <"$1" | sed -n 's/^X-Upstream: //Ip' | head -n 1; }
req_on=$(upstream "$WORK/req.head")
stop_on=$(upstream "$WORK/stop.head")
req_body=$(cat "$WORK/req.body")
say "/req/  parked on $req_on, answered: $req_body"
say "/stop/ served by $stop_on, answered: $stop_body"
[ "$stop_body" = stop ] || fail "/stop/ answered '$stop_body'"
[ "$req_body" = "done" ] || fail "/req/ answered '$req_body'"
if [ -z "$req_on" ] || [ -z "$stop_on" ] || [ "$req_on" = "$stop_on" ]; then
  fail "nginx did not send the two requests to two instances (/req/ to '$req_on', /stop/ to '$stop_on')"
fi
say "released across instances: /stop/ on $stop_on released the /req/ parked on $req_on"

if [ "$KEEP" = 1 ]; then
  say "running; try: curl $LB/req/ (waits) and curl $LB/stop/ in another terminal. Ctrl+C stops everything."
  wait
fi
exit 0
