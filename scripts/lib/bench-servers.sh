# shellcheck shell=bash
# Sourced by scripts/bench.sh: how each server starts. All .NET servers get the same GC (dotnet_gc_env);
# nginx gets a generated config with one worker; port_of maps a server to its port; start NAME launches it
# (through start_server) with the command line it takes and records in MEMORY_PIDS the process that holds
# its connections (for nginx the worker, not the master).

# dotnet_gc_env: all .NET servers get the same GC: server GC (what ASP.NET Core deploys with) with
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

declare -A MEMORY_PIDS   # MEMORY_PIDS[server] = pid of the process that holds its connections
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
$(nginx_tls_server)
}
EOF
}

port_of() {
  case $1 in
    snow) echo "$SNOW_PORT" ;; snow-before) echo "$SNOW_BEFORE_PORT" ;; snow-sslstream) echo "$SNOW_SSLSTREAM_PORT" ;;
    kestrel) echo "$KESTREL_PORT" ;; nginx) echo "$NGINX_PORT" ;;
  esac
}

# start NAME: starts the server; MEMORY_PIDS[NAME] is the process that holds the connections. Both Snow
# builds get the same command line (--host --port --loops --poller), which the bench server has taken since
# its first commit (8ec9d87): a baseline revision need understand nothing newer.
start() {
  local name=$1 port
  port=$(port_of "$name")
  case $name in
    snow | snow-before | snow-sslstream)
      local dll=$SNOW_DLL
      [ "$name" = snow-before ] && dll=$SNOW_BEFORE_DLL
      # shellcheck disable=SC2046 # one env argument per GC variable; tls_arguments splits into arguments
      start_server "$name" "$port" env $(dotnet_gc_env) dotnet "$dll" \
        --host "$HOST" --port "$port" --loops 1 --poller "$SNOW_POLLER" $(tls_arguments "$name") || return 1
      MEMORY_PIDS[$name]=${SERVER_PIDS[$name]}
      ;;
    kestrel)
      # shellcheck disable=SC2046 # one env argument per GC variable
      start_server kestrel "$port" env $(dotnet_gc_env) dotnet "$KESTREL_DLL" \
        --host "$HOST" --port "$port" $(tls_arguments kestrel) || return 1
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
