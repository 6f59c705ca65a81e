#!/usr/bin/env bash
# The whole test run: installs what the tests need, builds, runs every test project, prints the totals.
# Last line: "N passed, N failed". Exit status 0 only when nothing failed and every project ran.
set -uo pipefail
cd "$(dirname "$0")"

log() { printf '== %s\n' "$*" >&2; }

# Node.js peer (node-opcua) for the interop tests, from the committed lockfile.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  log "Node.js is missing: installing nodejs and npm from Debian"
  (apt-get update -qq && apt-get install -y -qq nodejs npm) >&2 || { echo "cannot install Node.js; install Node.js 20+ and npm" >&2; exit 2; }
fi
if [ ! -d tests/node/node_modules/node-opcua ] || [ tests/node/package-lock.json -nt tests/node/node_modules/.package-lock.json ]; then
  log "installing node-opcua from tests/node/package-lock.json"
  npm ci --prefix tests/node --no-audit --no-fund --loglevel=error >&2 || { echo "npm ci failed in tests/node" >&2; exit 2; }
fi

# VictoriaMetrics: the real server the InfluxDB forwarder's tests write to (it accepts InfluxDB's v2 write API).
if ! command -v victoria-metrics >/dev/null 2>&1; then
  log "victoria-metrics is missing: installing it from Debian"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq victoria-metrics) >&2 || { echo "cannot install victoria-metrics; apt-get install victoria-metrics" >&2; exit 2; }
fi

# Chromium: the real browser the web console's tests drive through Playwright (which cannot download its own here).
if [ -z "${TWINGW_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  log "chromium is missing: installing it from Debian"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >&2 || { echo "cannot install chromium; apt-get install chromium (or set TWINGW_CHROMIUM to a Chromium executable)" >&2; exit 2; }
fi

results="${TEST_RESULTS_DIR:-$(pwd)/artifacts/test-results}"
rm -rf "$results" artifacts/screenshots; mkdir -p "$results"

log "building"
if ! dotnet build TwinGateway.sln -c Release -nologo -v quiet; then
  echo "0 passed, 1 failed"
  exit 1
fi

status=0
for project in tests/*/*.Tests.csproj; do
  name=$(basename "$project" .csproj)
  log "testing $name"
  dotnet test "$project" -c Release --no-build -nologo \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" \
    --results-directory "$results" "$@" || status=1
done

passed=0; failed=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  e=$(sed -n 's/.* error="\([0-9]*\)".*/\1/p' <<<"$counters"); t=$(sed -n 's/.* timeout="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0} + ${e:-0} + ${t:-0}))
done
n_projects=$(ls tests/*/*.Tests.csproj | wc -l); n_trx=$(ls "$results"/*.trx 2>/dev/null | wc -l)
if [ "$n_trx" -lt "$n_projects" ]; then
  log "only $n_trx of $n_projects test projects produced results"
  failed=$((failed + n_projects - n_trx)); status=1
fi
[ "$failed" -gt 0 ] && status=1
# Name every failed test with the first line of its message, so that the end of the log says what broke.
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  python3 - "$trx" <<'PY' 2>/dev/null || grep -o 'testName="[^"]*" [^>]*outcome="Failed"' "$trx" | sed 's/^/FAILED /'
import sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
root = ET.parse(sys.argv[1]).getroot()
for r in root.iterfind(".//t:UnitTestResult", ns):
    if r.get("outcome") in ("Failed", "Error", "Timeout"):
        msg = r.find(".//t:Message", ns)
        first = (msg.text or "").strip().splitlines()[0][:300] if msg is not None and msg.text else ""
        print(f"FAILED {r.get('testName')}: {first}")
PY
done
echo "$passed passed, $failed failed"
exit $status
