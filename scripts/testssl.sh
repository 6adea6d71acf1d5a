#!/usr/bin/env bash
# Scans the demo's HTTPS port with testssl.sh (Debian's package) and fails on any HIGH or CRITICAL finding.
#   scripts/testssl.sh            # builds the demo when needed; NO_BUILD=1 uses the build there is
# The demo serves a certificate made here for the scan: a throwaway CA (given to testssl with --add-ca) signs a
# 90-day certificate for localhost/127.0.0.1 that names revocation URIs, as a real one from a public CA would.
# Without that, the findings would be about the certificate (self-signed, short-lived), not about the server.
# Prints every finding of LOW and above, then "testssl: N high/critical finding(s)". Bounded: 10 minutes.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
"$ROOT/scripts/deps.sh" testssl.sh openssl python3 || { echo "testssl: SKIPPED: testssl.sh could not be installed" >&2; exit 2; }

work="$(mktemp -d)"
demo_pid=""
cleanup() {
  if [ -n "$demo_pid" ]; then kill "$demo_pid" 2>/dev/null || true; wait "$demo_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

cd "$work"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 365 \
  -subj "/CN=Snow.Native testssl CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
  "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" \
  "crlDistributionPoints=URI:http://127.0.0.1:9/ca.crl" "authorityInfoAccess=OCSP;URI:http://127.0.0.1:9/ocsp" > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 90 -out server.pem -extfile server.ext 2>/dev/null

if [ -z "${NO_BUILD:-}" ]; then
  dotnet build "$ROOT/src/Snow.Native.Demo/Snow.Native.Demo.csproj" -c Release --nologo -v quiet >/dev/null
fi
dotnet run -c Release --no-build --project "$ROOT/src/Snow.Native.Demo" -- \
  --port 0 --https 0 --loops 1 --cert server.pem --key server.key > demo.out 2>&1 &
demo_pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(grep -Eo 'https://127\.0\.0\.1:[0-9]+' demo.out | head -n 1 | sed 's/.*://') || true
  [ -n "$port" ] && break
  sleep 0.2
done
[ -n "$port" ] || { echo "testssl: the demo did not start:" >&2; cat demo.out >&2; exit 1; }
echo "testssl: scanning https://127.0.0.1:$port/ (the demo, $(openssl x509 -in server.pem -noout -subject))"

status=0
timeout 600 testssl --quiet --color 0 --warnings off --add-ca "$work/ca.pem" --jsonfile "$work/scan.json" \
  "127.0.0.1:$port" > scan.out 2>&1 || status=$?
if [ ! -s scan.json ]; then
  echo "testssl: no result (exit $status):" >&2; tail -20 scan.out >&2; exit 1
fi
python3 - "$work/scan.json" <<'PY'
import json, sys
findings = json.load(open(sys.argv[1]))
order = ["LOW", "MEDIUM", "HIGH", "CRITICAL"]
shown = [f for f in findings if f.get("severity") in order]
for f in sorted(shown, key=lambda f: order.index(f["severity"])):
    print(f'  {f["severity"]:8} {f["id"]}: {f["finding"][:160]}')
bad = [f for f in shown if f["severity"] in ("HIGH", "CRITICAL")]
print(f"testssl: {len(bad)} high/critical finding(s)")
sys.exit(1 if bad else 0)
PY
