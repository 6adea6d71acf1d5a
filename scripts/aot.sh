#!/usr/bin/env bash
# Native AOT: publishes the demo (src/Snow.Native.Demo) and the hosting sample (src/Snow.Native.Hosting.Sample)
# with PublishAot=true and fails on any trim or AOT warning (IL2xxx/IL3xxx), then measures, for the AOT build and
# for the JIT build of each, the time from process start (just before exec) to the first answered request, and the
# server's resident memory at that moment. Median of RUNS starts each.
#
#   scripts/aot.sh            # publish, check, measure (RUNS=7)
#   scripts/aot.sh --check    # publish and check only: what .ci/run runs
#
# Builds go to a temporary artifacts folder, so the work tree's bin/ and obj/ are left alone. The measurement holds
# /tmp/snow-bench.lock (as every benchmark here does); the publishing does not.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MODE=${1:-measure}
RUNS=${RUNS:-7}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) RID=linux-x64 ;;
  Linux-aarch64) RID=linux-arm64 ;;
  Darwin-arm64) RID=osx-arm64 ;;
  Darwin-x86_64) RID=osx-x64 ;;
  *) echo "aot: no runtime identifier known for $(uname -sm)" >&2; exit 2 ;;
esac

publish() { # name project kind(aot|jit)
  local name=$1 project=$2 kind=$3 log="$WORK/$1-$3.log"
  local extra=(-p:PublishAot=false --self-contained false)
  [ "$kind" = aot ] && extra=(-p:PublishAot=true)
  if ! dotnet publish "$project" -c Release -r "$RID" "${extra[@]}" --artifacts-path "$WORK/artifacts-$kind" \
      -o "$WORK/$name-$kind" -nologo --disable-build-servers >"$log" 2>&1; then
    grep -E "error|warning" "$log" | sort -u >&2 || tail -30 "$log" >&2
    echo "aot: publishing $name ($kind) failed" >&2
    return 1
  fi
  # Trim and AOT analysis (ILLink/ILCompiler) report IL2xxx/IL3xxx; none may appear, error or warning.
  if grep -E "(warning|error) IL[23][0-9]{3}" "$log" | sort -u | grep . >&2; then
    echo "aot: $name ($kind) has trim/AOT warnings" >&2
    return 1
  fi
}

status=0
publish demo src/Snow.Native.Demo/Snow.Native.Demo.csproj aot || status=1
publish hosting src/Snow.Native.Hosting.Sample/Snow.Native.Hosting.Sample.csproj aot || status=1
if [ "$status" -ne 0 ]; then echo "aot: FAILED"; exit 1; fi
echo "aot: the demo and the hosting sample publish with PublishAot=true and no trim or AOT warnings ($RID)"
[ "$MODE" = "--check" ] && exit 0

publish demo src/Snow.Native.Demo/Snow.Native.Demo.csproj jit
publish hosting src/Snow.Native.Hosting.Sample/Snow.Native.Hosting.Sample.csproj jit
ls -l "$WORK/demo-aot/Snow.Native.Demo" "$WORK/hosting-aot/Snow.Native.Hosting.Sample" | awk '{print "aot: size", $5, "bytes", $NF}'

# start -> first answer: the clock starts just before the child is spawned; the client retries its connection
# without sleeping until an answer arrives; RSS is read from /proc (ps elsewhere) right then.
flock /tmp/snow-bench.lock python3 - "$RUNS" "$WORK" <<'PY'
import os, socket, statistics, subprocess, sys, time
runs, work = int(sys.argv[1]), sys.argv[2]

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close(); return port

def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"): return int(line.split()[1])
    except FileNotFoundError:
        return int(subprocess.check_output(["ps", "-o", "rss=", "-p", str(pid)]).strip())

def once(argv, path):
    port = free_port()
    argv = [a.replace("PORT", str(port)) for a in argv]
    request = f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    start = time.monotonic_ns()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if time.monotonic_ns() - start > 30e9: raise RuntimeError(f"{argv[0]} never answered")
            s = socket.socket()
            try:
                s.connect(("127.0.0.1", port)); s.sendall(request)
                if s.recv(64).startswith(b"HTTP/1.1 200"): break
            except OSError:
                pass
            finally:
                s.close()
        elapsed_ms = (time.monotonic_ns() - start) / 1e6
        return elapsed_ms, rss_kib(child.pid)
    finally:
        child.terminate(); child.wait(30)

cases = [
    ("demo", "aot", [f"{work}/demo-aot/Snow.Native.Demo", "--port", "PORT", "--loops", "1"], "/index/"),
    ("demo", "jit", [f"{work}/demo-jit/Snow.Native.Demo", "--port", "PORT", "--loops", "1"], "/index/"),
    ("hosting sample", "aot", [f"{work}/hosting-aot/Snow.Native.Hosting.Sample", "--Snow:Port=PORT", "--Snow:Loops=1"], "/index/"),
    ("hosting sample", "jit", [f"{work}/hosting-jit/Snow.Native.Hosting.Sample", "--Snow:Port=PORT", "--Snow:Loops=1"], "/index/"),
]
# The cost of starting any process under the machine's current load, for scale: /bin/true from spawn to exit.
floor = []
for _ in range(runs):
    t = time.monotonic_ns(); subprocess.run(["true"]); floor.append((time.monotonic_ns() - t) / 1e6)
print(f"spawn floor (true, spawn to exit): {statistics.median(floor):.1f} ms; load average {os.getloadavg()[0]:.1f}")
print(f"{'server':<16}{'build':<6}{'start -> first answer (median of ' + str(runs) + ')':>40}{'RSS then':>12}")
for name, kind, argv, path in cases:
    results = [once(argv, path) for _ in range(runs)]
    ms = statistics.median(r[0] for r in results)
    rss = statistics.median(r[1] for r in results)
    print(f"{name:<16}{kind:<6}{ms:>37.1f} ms{rss / 1024:>9.1f} MiB")
PY
