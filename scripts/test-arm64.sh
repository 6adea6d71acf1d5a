#!/usr/bin/env bash
# Runs the poller contract checks as a linux-arm64 process under qemu-user on an x86_64 Debian machine.
#
# qemu-user translates each system call of the guest to the host's, including struct epoll_event from the arm64
# layout (16 bytes, data at 8) to the x86_64 one (12 bytes, packed), so the checks exercise the arm64 layout for
# real: an interop that used the x86_64 layout on arm64 fails them.
#
# Steps, each skipped when its result is already there:
#   1. qemu-user-static from Debian's packages;
#   2. an arm64 sysroot (the C runtime, libstdc++, zlib, ICU) from Debian's arm64 packages, fetched with an
#      apt state of its own so the host's apt state is never touched;
#   3. a self-contained linux-arm64 publish of tests/Snow.Native.PollerChecks;
#   4. that program run under qemu-aarch64-static, bounded by a timeout; its exit status is this script's.
#
# Environment (all optional):
#   SNOW_ARM64_DIR      work folder for the apt state, sysroot and publish output (default: .arm64 in the repo)
#   SNOW_ARM64_SYSROOT  an existing or wanted sysroot folder (default: $SNOW_ARM64_DIR/sysroot)
#   SNOW_ARM64_TIMEOUT  seconds the checks may run under qemu (default: 1200)
# Arguments are passed to the checker, e.g. --poller epoll --check ManySocketsAtOnce.
set -euo pipefail
exec </dev/null

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${SNOW_ARM64_DIR:-$repo/.arm64}"
sysroot="${SNOW_ARM64_SYSROOT:-$work/sysroot}"
run_timeout="${SNOW_ARM64_TIMEOUT:-1200}"
publish_dir="$work/publish"
apt_root="$work/apt"

# The libraries a self-contained .NET app loads on Linux: glibc, the C++ runtime the host and ICU need, zlib for
# System.IO.Compression's native shim, ICU for globalization. Their Depends are added by resolution below.
packages=(libc6 libgcc-s1 libstdc++6 zlib1g libicu72)

log() { printf '[test-arm64] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

export DEBIAN_FRONTEND=noninteractive

if [ "$(id -u)" -ne 0 ] && ! command -v qemu-aarch64-static >/dev/null; then
  die "qemu-aarch64-static is missing and installing it needs root"
fi

# --- 1. qemu-user-static --------------------------------------------------------------------------------------
host_apt_updated=false
host_apt_update() {
  if [ "$host_apt_updated" = false ]; then
    log "apt-get update (host)"
    timeout 600 apt-get update -q -o DPkg::Lock::Timeout=300 >&2
    host_apt_updated=true
  fi
}

if ! command -v qemu-aarch64-static >/dev/null; then
  # An install right after an update that never ran finds no candidate; only then is the update needed.
  if ! apt-cache show qemu-user-static >/dev/null 2>&1; then host_apt_update; fi
  log "installing qemu-user-static"
  if ! timeout 900 apt-get install -y -q -o DPkg::Lock::Timeout=300 qemu-user-static >&2; then
    host_apt_update
    timeout 900 apt-get install -y -q -o DPkg::Lock::Timeout=300 qemu-user-static >&2
  fi
fi
qemu="$(command -v qemu-aarch64-static)"
log "$("$qemu" --version | head -n 1)"

# --- 2. arm64 sysroot -----------------------------------------------------------------------------------------
# apt with every state, cache and configuration path of its own, for arm64 only. The host's keyrings are reused
# read-only to verify the archive's signatures. The sandbox user stays root because the download folder lies in
# the repository, which apt's unprivileged _apt user may not be able to write.
arm64_apt_options=(
  -o Dir::Etc::SourceList="$apt_root/sources.list"
  -o Dir::Etc::SourceParts="$apt_root/sources.list.d"
  -o Dir::Etc::Preferences="$apt_root/preferences"
  -o Dir::Etc::PreferencesParts="$apt_root/preferences.d"
  -o Dir::State="$apt_root/state"
  -o Dir::State::Lists="$apt_root/state/lists"
  -o Dir::State::status="$apt_root/state/status"
  -o Dir::Cache="$apt_root/cache"
  -o Dir::Cache::archives="$apt_root/cache/archives"
  -o APT::Architecture=arm64
  -o APT::Architectures=arm64
  -o APT::Sandbox::User=root
  -o Acquire::Languages=none
)

# The arm64 sources are the host's own Debian sources (whatever mirror the host uses), read from the package
# indexes apt-cache policy reports: "500 URI SUITE/COMPONENT ARCH Packages" followed by "release ...,o=Debian,...".
host_debian_sources() {
  apt-cache policy 2>/dev/null | awk -v keyring="$1" '
    $NF == "Packages" && $1 ~ /^[0-9]+$/ && $3 ~ /\// { uri = $2; split($3, parts, "/"); suite = parts[1]; component = parts[2]; next }
    uri != "" && /^ +release / { if ($0 ~ /o=Debian,/) print "deb [signed-by=" keyring "] " uri " " suite " " component; uri = "" }
  ' | sort -u
}

write_arm64_sources() {
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [ -r "$keyring" ] || die "$keyring is missing (package debian-archive-keyring)"
  host_debian_sources "$keyring" >"$apt_root/sources.list.new"
  if [ ! -s "$apt_root/sources.list.new" ]; then
    # Nothing listed means the host's own indexes were never fetched.
    host_apt_update
    host_debian_sources "$keyring" >"$apt_root/sources.list.new"
  fi
  [ -s "$apt_root/sources.list.new" ] || die "the host's apt knows no Debian archive to take arm64 packages from"
  mv "$apt_root/sources.list.new" "$apt_root/sources.list"
}

build_sysroot() {
  mkdir -p "$apt_root/sources.list.d" "$apt_root/preferences.d" "$apt_root/state/lists/partial" \
    "$apt_root/cache/archives/partial" "$apt_root/debs"
  touch "$apt_root/state/status" "$apt_root/preferences"
  write_arm64_sources
  log "arm64 sources: $(wc -l <"$apt_root/sources.list") entries"
  log "apt-get update (arm64 state in $apt_root)"
  timeout 600 apt-get -q "${arm64_apt_options[@]}" update >&2

  # The closure of Depends and Pre-Depends, no Recommends: what the libraries need in order to load.
  local closure
  closure="$(apt-cache "${arm64_apt_options[@]}" depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
      --no-replaces --no-enhances "${packages[@]}" | awk '/^[a-z0-9]/ && !/^</ { print $1 }' | sort -u)"
  [ -n "$closure" ] || die "could not resolve the arm64 packages ${packages[*]}"
  log "arm64 packages: $(echo "$closure" | tr '\n' ' ')"

  rm -f "$apt_root/debs/"*.deb
  # shellcheck disable=SC2086 # one package name a word
  (cd "$apt_root/debs" && timeout 900 apt-get -q "${arm64_apt_options[@]}" download $(echo "$closure" | sed 's/$/:arm64/') >&2)

  local staging="$sysroot.partial"
  rm -rf "$staging"
  mkdir -p "$staging"
  local deb
  for deb in "$apt_root/debs/"*.deb; do dpkg -x "$deb" "$staging"; done
  [ -e "$staging/lib/ld-linux-aarch64.so.1" ] || [ -e "$staging/usr/lib/ld-linux-aarch64.so.1" ] \
    || die "the arm64 dynamic loader is not in the unpacked packages"
  (cd "$apt_root/debs" && ls -1 ./*.deb | sed 's|^\./||') >"$staging/.snow-arm64-packages"
  rm -rf "$sysroot"
  mv "$staging" "$sysroot"
}

# A finished sysroot holds the list of the .deb files it was unpacked from; a half-built one has none.
if [ -s "$sysroot/.snow-arm64-packages" ]; then
  log "reusing the arm64 sysroot $sysroot"
else
  log "building the arm64 sysroot $sysroot"
  build_sysroot
fi

# --- 3. publish -----------------------------------------------------------------------------------------------
log "publishing tests/Snow.Native.PollerChecks for linux-arm64"
timeout 900 dotnet publish "$repo/tests/Snow.Native.PollerChecks/Snow.Native.PollerChecks.csproj" \
  -c Release -r linux-arm64 --self-contained -o "$publish_dir" -nologo -v quiet >&2
checker="$publish_dir/Snow.Native.PollerChecks"
[ -x "$checker" ] || die "publish produced no $checker"

# --- 4. run under qemu ----------------------------------------------------------------------------------------
log "running the checks under $qemu -L $sysroot (timeout ${run_timeout}s)"
checks_log="$work/checks.log"
started=$SECONDS
set +e
# No core files: qemu would write the crashed guest's whole address space into the publish folder.
(ulimit -c 0; cd "$publish_dir" && timeout --kill-after=30 "$run_timeout" "$qemu" -L "$sysroot" ./Snow.Native.PollerChecks "$@") \
  2>&1 | tee "$checks_log"
status=${PIPESTATUS[0]}
set -e
elapsed=$((SECONDS - started))

# A checker that crashed or was stopped printed no closing line: count what it did print, plus one failure for
# the run itself, so that the summary never claims less than happened.
if ! grep -Eq '^[0-9]+ passed, [0-9]+ failed$' "$checks_log"; then
  if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    log "the checks did not finish within ${run_timeout}s"
  else
    log "the checker ended without its summary (exit status $status)"
  fi
  [ "$status" -ne 0 ] || status=1
  echo "$(grep -c '^PASS ' "$checks_log" || true) passed, $(($(grep -c '^FAIL ' "$checks_log" || true) + 1)) failed"
fi
log "exit status $status after ${elapsed}s under qemu"
exit "$status"
