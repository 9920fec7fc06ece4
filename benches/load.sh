#!/usr/bin/env bash
# Load benchmark of `jemput serve` on SQLite and PostgreSQL, with wrk.
#
#   bash benches/load.sh                 # both databases, 50 connections for 30 s
#   LOAD_DB=sqlite bash benches/load.sh  # one of them
#
# Per database: a fresh database with the demo data (`jemput demo`), an admin, `jemput serve`
# (release build), then
#   1. cached: GET /api/v1/priorities?region=35.09&week=2026-W50&limit=20 at 50 connections for
#      30 s (the ranking is computed by the first request and reused) — p50, p99, req/s;
#   2. /health sampled 20 times during run 1 (it has its own connection) — median and max;
#   3. uncached storm: 150 connections for 15 s, each request a different week of 2027 (every
#      one a new ranking; the cache holds 16) — status counts: the heavy-work queue answers 503 +
#      Retry-After at once instead of queueing without end;
#   and the server's resident memory (VmRSS) before, after each run, and its peak (VmHWM).
#
# Knobs: LOAD_DB (sqlite|postgres|both), LOAD_CONNECTIONS (50), LOAD_SECONDS (30),
# STORM_CONNECTIONS (150), STORM_SECONDS (15), LOAD_TIMEOUT (10: wrk counts a longer answer as a timeout), JEMPUT_BIN (default target/release/jemput, built
# if missing), PG_URL (postgres://postgres@127.0.0.1:5432/postgres). Needs wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."

LOAD_DB="${LOAD_DB:-both}"
CONNS="${LOAD_CONNECTIONS:-50}"
SECS="${LOAD_SECONDS:-30}"
STORM_CONNS="${STORM_CONNECTIONS:-150}"
STORM_SECS="${STORM_SECONDS:-15}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
JEMPUT_BIN="${JEMPUT_BIN:-target/release/jemput}"

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
if [ ! -x "$JEMPUT_BIN" ]; then
  cargo build --release --locked
fi
JEMPUT_BIN="$(cd "$(dirname "$JEMPUT_BIN")" && pwd)/$(basename "$JEMPUT_BIN")"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/jemput-load.XXXXXX")"
SERVER_PID=""
PG_DB=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ -n "$PG_DB" ]; then psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

# wrk script for the storm: every request a different week; status counts summed over threads.
cat >"$TMP/storm.lua" <<'LUA'
local threads = {}
local counter = 0
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  statuses = {}
  n = 0
end
function request()
  n = n + 1
  local week = ((n * 7 + id * 13) % 52) + 1
  local path = string.format("/api/v1/priorities?region=35.09&week=2027-W%02d&limit=20", week)
  return wrk.format("GET", path)
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    for k, v in pairs(s) do total[k] = (total[k] or 0) + v end
  end
  for k, v in pairs(total) do io.write(string.format("status %d: %d\n", k, v)) end
end
LUA

rss() { awk '/^VmRSS/ {printf "%d MB", $2/1024}' "/proc/$1/status"; }
hwm() { awk '/^VmHWM/ {printf "%d MB", $2/1024}' "/proc/$1/status"; }

run_one() {
  local db="$1" url
  if [ "$db" = sqlite ]; then
    url="sqlite://$TMP/load.db"
  else
    PG_DB="jemput_load_$$"
    psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
    psql "$PG_URL" -qc "CREATE DATABASE $PG_DB" >/dev/null
    url="${PG_URL%/*}/$PG_DB"
  fi
  export JEMPUT__DATABASE__URL="$url"
  export JEMPUT__EMAIL__FILE_DIR="$TMP/outbox-$db"
  # The storm's clients come from one address; the login limiter is not what is measured.
  "$JEMPUT_BIN" demo --week 2026-W50 >"$TMP/demo-$db.log" 2>&1
  printf 'load-bench-password-123\n' | "$JEMPUT_BIN" user add --username bench --role admin --password-stdin >"$TMP/user-$db.log" 2>&1
  local port
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  JEMPUT__LOG__LEVEL=warn "$JEMPUT_BIN" serve --port "$port" >"$TMP/serve-$db.log" 2>&1 &
  SERVER_PID=$!
  local base="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do curl -sf -o /dev/null "$base/health" && break; sleep 0.1; done
  local token
  token="$(curl -sf -H 'content-type: application/json' \
    -d '{"username":"bench","password":"load-bench-password-123"}' "$base/api/v1/auth/login" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
  local hdr="Authorization: Bearer $token"
  local path="/api/v1/priorities?region=35.09&week=2026-W50&limit=20"
  echo "### $db ($(nproc) cores)"
  echo "RSS at start: $(rss "$SERVER_PID")"
  local t0 first
  t0=$(date +%s%N)
  curl -sf -o /dev/null -H "$hdr" "$base$path"
  first=$(( ($(date +%s%N) - t0) / 1000000 ))
  echo "first request (computes the ranking): ${first} ms"

  # /health sampled during the cached run.
  (
    sleep 3
    for _ in $(seq 1 20); do
      curl -s -o /dev/null -w '%{time_total}\n' "$base/health"
      sleep 1
    done
  ) >"$TMP/health-$db.txt" &
  local sampler=$!
  echo "-- cached: $CONNS connections, $SECS s"
  wrk -t2 -c"$CONNS" -d"${SECS}s" --timeout "${LOAD_TIMEOUT:-10}s" --latency -H "$hdr" "$base$path" >"$TMP/wrk-$db.txt"
  wait "$sampler" || true
  grep -E "^ +(50|99)%|Requests/sec|Non-2xx|Socket errors" "$TMP/wrk-$db.txt" | sed 's/^ */  /'
  sort -n "$TMP/health-$db.txt" | awk '{a[NR]=$1} END {printf "  /health during the run: median %.1f ms, max %.1f ms (%d samples)\n", a[int((NR+1)/2)]*1000, a[NR]*1000, NR}'
  echo "RSS after the cached run: $(rss "$SERVER_PID")"

  echo "-- uncached storm: $STORM_CONNS connections, $STORM_SECS s, a different week per request"
  wrk -t2 -c"$STORM_CONNS" -d"${STORM_SECS}s" --timeout "${LOAD_TIMEOUT:-10}s" --latency -s "$TMP/storm.lua" -H "$hdr" "$base" >"$TMP/storm-$db.txt"
  grep -E "^ +(50|99)%|Requests/sec|Socket errors|^status" "$TMP/storm-$db.txt" | sed 's/^ */  /'
  local h
  h="$(curl -s -o /dev/null -w '%{http_code} in %{time_total}s' "$base/health")"
  echo "  /health right after: $h"
  echo "RSS after the storm: $(rss "$SERVER_PID"); peak (VmHWM): $(hwm "$SERVER_PID")"
  if grep -q -i "panicked\| ERROR " "$TMP/serve-$db.log"; then
    echo "  server log has errors:"; grep -i "panicked\| ERROR " "$TMP/serve-$db.log" | head -5
  fi
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
  if [ -n "$PG_DB" ]; then psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null; PG_DB=""; fi
  echo
}

case "$LOAD_DB" in
  sqlite|postgres) run_one "$LOAD_DB" ;;
  both) run_one sqlite; run_one postgres ;;
  *) echo "LOAD_DB must be sqlite, postgres or both" >&2; exit 1 ;;
esac
