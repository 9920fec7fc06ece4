#!/usr/bin/env bash
# Fuzz the running API from its own OpenAPI document (src/http/openapi.json, served at
# /api/openapi.json) with schemathesis and fail on any 5xx.
#
# Called by CI after the Rust tests, with an already-built binary:
#   JEMPUT_BIN=target/debug/jemput bash .ci/schemathesis.sh
#
# Steps: a throwaway SQLite database in a temp dir, `jemput demo` (imports the demo data, plans,
# publishes), an admin user, `jemput serve` on a free port, a bearer token from
# POST /api/v1/auth/login, then `st run` against the served document. The logout and password
# routes are excluded: they would revoke the token the run is using.
#
# Knobs (environment):
#   JEMPUT_BIN          binary to run (default target/debug/jemput)
#   SCHEMATHESIS_VENV   virtualenv holding `st` (default ~/.venvs/schemathesis; created if missing)
#   ST_MAX_EXAMPLES     examples per operation (default 15; the run must fit CI's 15 minutes)
#   ST_SEED             schemathesis seed, for reproducing a failure (default: random)
#   ST_PLAN_SECONDS     server-side default planner time limit (default 1)
#   ST_PHASES           schemathesis phases (default examples,fuzzing,stateful)
set -euo pipefail
cd "$(dirname "$0")/.."

JEMPUT_BIN="${JEMPUT_BIN:-target/debug/jemput}"
if [ ! -x "$JEMPUT_BIN" ]; then
  echo "FAIL: JEMPUT_BIN=$JEMPUT_BIN is not an executable; build it first (cargo build)" >&2
  exit 1
fi
JEMPUT_BIN="$(cd "$(dirname "$JEMPUT_BIN")" && pwd)/$(basename "$JEMPUT_BIN")"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/jemput-st.XXXXXX")"
SERVER_PID=""
cleanup() {
  local rc=$?
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ] && [ -f "$TMP/serve.log" ]; then
    echo "---- last 80 lines of the server log ($TMP/serve.log) ----" >&2
    tail -n 80 "$TMP/serve.log" >&2 || true
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT

# Default environment (development layer), everything the run writes inside $TMP.
unset JEMPUT_ENV
export JEMPUT__DATABASE__URL="sqlite://$TMP/jemput.db"
export JEMPUT__EMAIL__FILE_DIR="$TMP/outbox"
# Plans made while fuzzing without a time_limit_s use the config default (10 s): keep it short.
export JEMPUT__PLANNER__TIME_LIMIT_S="${ST_PLAN_SECONDS:-1}"
# …and cut any time_limit_s the fuzzer asks for (up to the documented 120 s) to the same.
export JEMPUT__PLANNER__MAX_TIME_LIMIT_S="${ST_PLAN_SECONDS:-1}"

echo "== jemput demo"
"$JEMPUT_BIN" demo

echo "== admin user"
PASS="ci-$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
printf '%s\n' "$PASS" | "$JEMPUT_BIN" user add --username ci-admin --role admin --password-stdin

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null || echo 18089)"
BASE="http://127.0.0.1:$PORT"

echo "== jemput serve on port $PORT"
"$JEMPUT_BIN" serve --port "$PORT" >"$TMP/serve.log" 2>&1 &
SERVER_PID=$!

healthy=""
for _ in $(seq 1 60); do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "FAIL: jemput serve exited before answering /health" >&2
    exit 1
  fi
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE/health" || true)"
  if [ "$code" = "200" ]; then healthy=1; break; fi
  sleep 1
done
if [ -z "$healthy" ]; then
  echo "FAIL: GET $BASE/health did not answer 200 within 60 s" >&2
  exit 1
fi

echo "== login"
login_body="$(python3 -c 'import json, sys; print(json.dumps({"username": "ci-admin", "password": sys.argv[1]}))' "$PASS")"
login_reply="$(curl -sS --max-time 10 -X POST -H 'content-type: application/json' \
  --data "$login_body" "$BASE/api/v1/auth/login" || true)"
TOKEN="$(printf '%s' "$login_reply" | python3 -c 'import json, sys
try:
    print(json.load(sys.stdin).get("token") or "")
except Exception:
    print("")' || true)"
if [ -z "$TOKEN" ]; then
  echo "FAIL: POST /api/v1/auth/login gave no token; reply was: $login_reply" >&2
  exit 1
fi

ST_VENV="${SCHEMATHESIS_VENV:-$HOME/.venvs/schemathesis}"
if [ ! -x "$ST_VENV/bin/st" ]; then
  echo "== installing schemathesis into $ST_VENV"
  mkdir -p "$(dirname "$ST_VENV")"
  if ! python3 -m venv "$ST_VENV"; then
    # Debian's python3 ships venv (ensurepip) separately.
    rm -rf "$ST_VENV"
    apt-get install -y python3-venv >/dev/null
    python3 -m venv "$ST_VENV"
  fi
  "$ST_VENV/bin/pip" install --quiet 'schemathesis>=4,<5'
fi
"$ST_VENV/bin/st" --version

st_args=(
  run "$BASE/api/openapi.json"
  --checks not_a_server_error
  --max-examples "${ST_MAX_EXAMPLES:-15}"
  -H "Authorization: Bearer $TOKEN"
  --request-timeout 30
  --exclude-operation-id logout
  --exclude-operation-id changePassword
  --generation-database none
  --no-color
  # The "coverage" phase (every boundary value of every parameter) took 293–309 s of a 954 s CI run
  # against the debug binary; examples, fuzzing and stateful keep the run under 15 minutes.
  # ST_PHASES=examples,coverage,fuzzing,stateful runs all of them.
  --phases "${ST_PHASES:-examples,fuzzing,stateful}"
)
if [ -n "${ST_SEED:-}" ]; then
  st_args+=(--seed "$ST_SEED")
fi

echo "== schemathesis"
# From $TMP, so nothing it writes lands in the work tree.
set +e
(cd "$TMP" && "$ST_VENV/bin/st" "${st_args[@]}")
st_rc=$?
set -e
if [ "$st_rc" -ne 0 ]; then
  echo "FAIL: schemathesis found problems (exit $st_rc); see above" >&2
  exit "$st_rc"
fi
echo "schemathesis: no server errors"
