# shellcheck shell=bash disable=SC2034 # it sets the paths and AVAILABLE that the other parts read
# Sourced by scripts/bench.sh: the tools and the builds. Installs wrk (and nginx-light, or nginx, when nginx
# is requested) from Debian's packages when missing, keeping the package's own nginx from starting; builds
# the connection test, the Kestrel baseline and this tree's Snow.Native bench server in Release, and, with
# BASELINE_REV, the baseline's bench server from a temporary git worktree (registered for removal on exit).
# Sets AVAILABLE[server] for every server it could build or install, the *_DLL paths that start() and the
# connection test use, and BASELINE_COMMIT/BASELINE_SHORT for the table.

# Tools from Debian's packages.
declare -A AVAILABLE     # AVAILABLE[server] = 1 when it was built/installed
APT_UPDATED=""
apt_install() {
  if [ -z "$APT_UPDATED" ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$RESULTS/apt.log" 2>&1 || log "apt-get update failed (see apt.log)"
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >>"$RESULTS/apt.log" 2>&1
}

nginx_binary() { command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; }; }

install_tools() {
  if ! command -v wrk >/dev/null; then
    apt_install wrk || die "could not install wrk (see $RESULTS/apt.log)"
  fi
  if requested nginx && [ -z "$(nginx_binary)" ]; then
    # The package would start a system nginx on port 80; policy-rc.d (Debian's switch for that) keeps it
    # stopped. Only created when absent, and removed again on exit.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && POLICY_RC_CREATED=1
    fi
    apt_install nginx-light || apt_install nginx || note "nginx could not be installed (see apt.log): skipped"
    if [ -n "$POLICY_RC_CREATED" ]; then rm -f /usr/sbin/policy-rc.d; POLICY_RC_CREATED=""; fi
  fi
  if requested nginx && [ -n "$(nginx_binary)" ]; then AVAILABLE[nginx]=1; fi
}

# .NET builds. The path of each assembly comes from MSBuild, not from a guess at bin/. No build servers
# (MSBuild nodes, the compiler server) are left running after a build.
# shellcheck disable=SC2012 # the first .csproj the glob matches, or nothing
SNOW_PROJECT=$(ls "$ROOT"/bench/Snow.Native.BenchServer/*.csproj 2>/dev/null | head -n 1)
KESTREL_PROJECT=$ROOT/bench/Snow.Native.KestrelBaseline/Snow.Native.KestrelBaseline.csproj
CONNECTION_TEST_PROJECT=$ROOT/bench/Snow.Native.ConnectionTest/Snow.Native.ConnectionTest.csproj

build_project() {
  local name=$1 project=$2
  log "building $name"
  run_client timeout 1200 dotnet build "$project" -c Release --nologo -v quiet --disable-build-servers \
    >>"$RESULTS/build-$name.log" 2>&1
}

target_path() { dotnet msbuild "$1" -p:Configuration=Release -nodeReuse:false -getProperty:TargetPath 2>/dev/null | tail -n 1; }

BASELINE_COMMIT=""
BASELINE_SHORT=""
build_baseline() {
  BASELINE_COMMIT=$(git -C "$ROOT" rev-parse --verify --quiet "$BASELINE_REV^{commit}") ||
    die "BASELINE_REV=$BASELINE_REV is not a commit in this repository"
  BASELINE_SHORT=$(git -C "$ROOT" rev-parse --short "$BASELINE_COMMIT")
  local dir
  dir=$(mktemp -d /tmp/bench-snow-before.XXXXXX) || die "mktemp failed"
  TEMP_DIRS+=("$dir")
  local tree=$dir/snow-before-$BASELINE_SHORT
  log "git worktree add $tree ($BASELINE_REV = $BASELINE_SHORT)"
  git -C "$ROOT" worktree add --detach --quiet "$tree" "$BASELINE_COMMIT" >>"$RUN_LOG" 2>&1 ||
    die "git worktree add of $BASELINE_SHORT failed (see run.log)"
  WORKTREES+=("$tree")
  local project
  # shellcheck disable=SC2012 # the first .csproj the glob matches, or nothing
  project=$(ls "$tree"/bench/Snow.Native.BenchServer/*.csproj 2>/dev/null | head -n 1)
  if [ -z "$project" ]; then
    note "$BASELINE_SHORT has no bench/Snow.Native.BenchServer: snow-before skipped"
  elif build_project snow-before "$project"; then
    SNOW_BEFORE_DLL=$(target_path "$project")
    AVAILABLE[snow-before]=1
  else
    note "snow-before ($BASELINE_SHORT) did not build (see build-snow-before.log): skipped"
  fi
}

build_all() {
  build_project connection-test "$CONNECTION_TEST_PROJECT" || die "ConnectionTest did not build (see $RESULTS/build-connection-test.log)"
  CONNECTION_TEST_DLL=$(target_path "$CONNECTION_TEST_PROJECT")
  if requested kestrel; then
    build_project kestrel "$KESTREL_PROJECT" || die "the Kestrel baseline did not build (see $RESULTS/build-kestrel.log)"
    KESTREL_DLL=$(target_path "$KESTREL_PROJECT")
    AVAILABLE[kestrel]=1
  fi
  if requested snow; then
    if [ -z "$SNOW_PROJECT" ]; then
      note "bench/Snow.Native.BenchServer does not exist yet: Snow.Native skipped"
    elif build_project snow "$SNOW_PROJECT"; then
      SNOW_DLL=$(target_path "$SNOW_PROJECT")
      AVAILABLE[snow]=1
      requested snow-sslstream && AVAILABLE[snow-sslstream]=1
    else
      note "bench/Snow.Native.BenchServer did not build (see build-snow.log): Snow.Native skipped"
    fi
  fi
  if requested snow-before; then build_baseline; fi
}
