#!/usr/bin/env bash
# Checks README.md's three examples the way a newcomer would use them: each C# block under "Three examples"
# becomes Program.cs of a new console app that references src/Snow.Native, runs on 127.0.0.1:8012, and is
# checked with curl against what the README says it does; so is the JSON example (the csharp block under "### JSON").
#
#   scripts/readme-examples.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$(mktemp -d)
SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

command -v curl >/dev/null || { echo "readme-examples: curl is missing (apt-get install curl)" >&2; exit 2; }

# The first three csharp blocks of README.md are the examples.
python3 - "$ROOT/README.md" "$WORK" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
blocks = re.findall(r"```csharp\n(.*?)```", text, re.S)[:3]
for i, block in enumerate(blocks, 1):
    open(f"{sys.argv[2]}/example{i}.cs", "w").write(block)
# The JSON example: the first csharp block under "### JSON".
json_block = re.search(r"^### JSON\n.*?```csharp\n(.*?)```", text, re.S | re.M)
open(f"{sys.argv[2]}/example4.cs", "w").write(json_block.group(1) if json_block else "")
PY

failures=0
check() { # name expected actual
    if [ "$2" = "$3" ]; then echo "ok   $1: $3"; else echo "FAIL $1: expected '$2', got '$3'"; failures=$((failures + 1)); fi
}

start_example() { # n
    local dir=$WORK/app$1
    mkdir -p "$dir"
    (cd "$dir" && dotnet new console --force -o . >/dev/null \
        && dotnet add reference "$ROOT/src/Snow.Native/Snow.Native.csproj" >/dev/null)
    cp "$WORK/example$1.cs" "$dir/Program.cs"
    dotnet build -c Release -v q -nologo "$dir" >/dev/null
    dotnet "$dir/bin/Release/net10.0/app$1.dll" >/dev/null 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:8012/ && return 0; sleep 0.1; done
    echo "FAIL example $1 did not start"; exit 1
}

# SIGTERM: a script's background jobs ignore SIGINT.
stop_example() { kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || true; SERVER_PID=""; }

start_example 1
check "1 /index/" "OK" "$(curl -s http://127.0.0.1:8012/index/)"
check "1 /home/" "home" "$(curl -s http://127.0.0.1:8012/home/)"
check "1 /other/ status" "404" "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8012/other/)"
stop_example

start_example 2
started=$(date +%s.%N)
curl -s http://127.0.0.1:8012/async/ > "$WORK/async.txt" &
ASYNC=$!
sleep 1
check "2 /home/ while /async/ waits" "home" "$(curl -s --max-time 2 http://127.0.0.1:8012/home/)"
wait $ASYNC
elapsed=$(python3 -c "import time; print(int(time.time() - $started))")
check "2 /async/" "async" "$(cat "$WORK/async.txt")"
check "2 /async/ waited 5 s" "yes" "$([ "$elapsed" -ge 5 ] && echo yes || echo "no ($elapsed s)")"
stop_example

start_example 3
curl -s http://127.0.0.1:8012/req/ > "$WORK/req.txt" &
REQ=$!
sleep 1
check "3 /req/ still waiting" "yes" "$(kill -0 $REQ 2>/dev/null && echo yes || echo no)"
check "3 /stop/" "stop" "$(curl -s http://127.0.0.1:8012/stop/)"
wait $REQ
check "3 /req/ after /stop/" "done" "$(cat "$WORK/req.txt")"
stop_example

# JSON: a body read as JSON, answered as JSON.
start_example 4
check "4 POST /todos" '{"Title":"write docs","Done":true}' \
    "$(curl -s -X POST -H 'Content-Type: application/json' --data '{"Title":"write docs","Done":false}' http://127.0.0.1:8012/todos)"
check "4 POST /todos status" "201" \
    "$(curl -s -o /dev/null -w '%{http_code}' -X POST --data '{"Title":"x","Done":false}' http://127.0.0.1:8012/todos)"
stop_example

echo "readme-examples: $failures failed"
[ "$failures" = 0 ]
