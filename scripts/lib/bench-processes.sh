# shellcheck shell=bash
# Sourced by scripts/bench.sh: the lifetime of every process the bench starts. Each server gets its own
# process group (setsid), so stopping it also stops its children (nginx's worker); start_server waits up to
# 30 s for its port, stop_server gives it 10 s after SIGTERM before SIGKILL to the group. run_client runs wrk,
# the connection test or a build in the background, so a signal interrupts the wait at once. The EXIT trap
# set here (and the INT/TERM trap, which exits 130 through it) stops the client and every server still
# running, removes the temp dirs and the baseline's git worktree, and removes policy-rc.d if the bench made it.
# Uses from bench.sh: HOST, SERVER_CORE, RESULTS, RUN_LOG, ROOT, log; MEMORY_PIDS is bench-servers.sh's.

CLIENT_PID=""
declare -A SERVER_PIDS   # SERVER_PIDS[server] = pid of the running server (its process group leader)
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
